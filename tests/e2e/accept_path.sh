#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# After the fix (the set element for server:22), the SYN is accepted in
# allowed_dnats and goes on through nat postrouting; the connection works.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init accept
lab_fix || lab_fail "lab_fix failed"

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--count 1 --output json --timeout 10
lab_daemon_ready
banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT") ||
	lab_fail "client could not connect to $LAB_WAN4:$LAB_PORT after the fix (got '$banner')"
echo "ok: the client connected and read '$banner'"
lab_daemon_wait
lab_expect_rc 0

lab_expect_json "exactly one timeline" 'length == 1'
lab_expect_json "verdict accept" '.[0].verdict == "accept"'
lab_expect_json "timeline complete" '.[0].complete == true'
lab_expect_json "packet tcp 198.51.100.2 -> 198.51.100.1:1222 in on wan0" '
	.[0].packet | .proto == "tcp" and .saddr == "198.51.100.2" and
	.daddr == "198.51.100.1" and .dport == 1222 and .iif == "wan0"'
lab_expect_json "events pass the prerouting, forward and postrouting hooks" '
	[.[0].events[].hook] | index("prerouting") != null and
	index("forward") != null and index("postrouting") != null'
lab_expect_json "hooks in packet order" '
	[.[0].events[].hook] as $h |
	($h | index("prerouting")) < ($h | index("forward")) and
	($h | index("forward")) < ($h | index("postrouting"))'
lab_expect_json "accepted by the set rule in allowed_dnats" '
	.[0].events | any(.chain == "allowed_dnats" and .verdict == "accept" and
		.rule == "ip daddr . tcp dport @allow_in accept")'
lab_expect_json "no drop event" '.[0].events | all(.verdict != "drop")'
lab_expect_json "nat: dnat 198.51.100.1:1222 -> 203.0.113.10:22" '
	.[0].nat | any(.type == "dnat" and .from == "198.51.100.1:1222" and
		       .to == "203.0.113.10:22")'
lab_expect_json "no event of the daemon's own table" '
	.[0].events | all(.table != "trace_debug")'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
