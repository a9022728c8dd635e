#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `nft flush ruleset` while tracing (issue 11): the owned table survives,
# and a packet that then meets no base chain but ours was accepted by the
# ruleset; its verdict is accept, not unknown.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init ffl
lab_daemon_start --match "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn" \
	--count 1 --output json --timeout 15
lab_daemon_ready
lab_exec_router nft flush ruleset
lab_has_table trace_debug || lab_fail "nft flush ruleset removed the owned table"
banner=$(lab_connect "$LAB_SERVER4" 22) || lab_fail "no connection with an empty ruleset (got '$banner')"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "accepted, with no event but our own chain's" '
	length == 1 and .[0].verdict == "accept" and .[0].complete == true and
	.[0].events == [] and .[0].cause == null'
echo "PASS"
