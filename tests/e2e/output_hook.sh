#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A packet generated on the router itself is traced from the output hook.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init output

lab_daemon_start --match "ip daddr 203.0.113.10 tcp dport 22 tcp flags syn" \
	--count 1 --output json --timeout 10
lab_daemon_ready
banner=$(lab_connect "$LAB_SERVER4" "$LAB_SSH_PORT" "$LAB_ROUTER") ||
	lab_fail "the router could not connect to $LAB_SERVER4:$LAB_SSH_PORT (got '$banner')"
echo "ok: the router connected to the server and read '$banner'"
lab_daemon_wait
lab_expect_rc 0

lab_expect_json "exactly one timeline" 'length == 1'
lab_expect_json "verdict accept" '.[0].verdict == "accept"'
lab_expect_json "packet tcp 203.0.113.1 -> 203.0.113.10:22 out on lan0" '
	.[0].packet | .proto == "tcp" and .saddr == "203.0.113.1" and
	.daddr == "203.0.113.10" and .dport == 22 and .oif == "lan0"'
lab_expect_json "events show the output hook (inet filter output)" '
	.[0].events | any(.hook == "output" and .table == "filter" and
		.chain == "output")'
lab_expect_json "events start at the output hook, no prerouting" '
	.[0].events[0].hook == "output" and
	(.[0].events | all(.hook != "prerouting" and .hook != "forward"))'
lab_expect_json "then nat postrouting" '
	.[0].events | any(.hook == "postrouting" and .chain == "postrouting")'
lab_expect_json "no event of the daemon's own table" '
	.[0].events | all(.table != "trace_debug")'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
