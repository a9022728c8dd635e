#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# IPv6: the SYN to [2001:db8:1::1]:1222 is DNATed to [2001:db8:2::10]:22 and
# dropped in allowed_dnats; after the fix it is accepted and connects.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init ipv6

match="ip6 daddr 2001:db8:1::1 tcp dport 1222"

# 1. The drop.
lab_daemon_start --match "$match" --count 1 --output json --timeout 10
lab_daemon_ready
lab_syn "$LAB_WAN6" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "drop: exactly one timeline" 'length == 1'
lab_expect_json "drop: verdict drop" '.[0].verdict == "drop"'
lab_expect_json "drop: packet tcp [2001:db8:1::2] -> [2001:db8:1::1]:1222 on wan0" '
	.[0].packet | .proto == "tcp" and .saddr == "2001:db8:1::2" and
	.daddr == "2001:db8:1::1" and .dport == 1222 and .iif == "wan0"'
lab_expect_json "drop: cause is rule drop in inet filter allowed_dnats" '
	.[0].cause | .table == "filter" and .chain == "allowed_dnats" and
	.rule == "drop" and (.handle | type) == "number"'
lab_expect_json "drop: cause path forward -> allowed_dnats" '
	.[0].cause.path | map(tostring) as $p |
	($p | length) >= 2 and ($p[0] | test("forward")) and
	($p[-1] | test("allowed_dnats"))'
lab_expect_json "drop: dnat [2001:db8:1::1]:1222 -> [2001:db8:2::10]:22" '
	.[0].nat | any(.type == "dnat" and .from == "[2001:db8:1::1]:1222" and
		       .to == "[2001:db8:2::10]:22")'
lab_expect_json "drop: the IPv6 dnat rule is among the events" '
	.[0].events | any(.chain == "prerouting" and
		(.rule // "" | test("dnat ip6 to \\[2001:db8:2::10\\]:22")))'
lab_expect_json "drop: no event of the daemon's own table" '
	.[0].events | all(.table != "trace_debug")'
lab_wait_no_table || lab_fail "table trace_debug still exists after the first run"

# 2. The fix.
lab_fix || lab_fail "lab_fix failed"
lab_daemon_start --match "$match" --count 1 --output json --timeout 10
lab_daemon_ready
banner=$(lab_connect "$LAB_WAN6" "$LAB_PORT") ||
	lab_fail "client could not connect to [$LAB_WAN6]:$LAB_PORT after the fix (got '$banner')"
echo "ok: the client connected over IPv6 and read '$banner'"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "accept: exactly one timeline" 'length == 1'
lab_expect_json "accept: verdict accept" '.[0].verdict == "accept"'
lab_expect_json "accept: the SYN (first packet of the connection)" '
	.[0].packet | .saddr == "2001:db8:1::2" and .dport == 1222'
lab_expect_json "accept: forward and postrouting hooks" '
	[.[0].events[].hook] | index("forward") != null and
	index("postrouting") != null'
lab_expect_json "accept: accepted by the allow_in6 rule" '
	.[0].events | any(.chain == "allowed_dnats" and .verdict == "accept" and
		.rule == "ip6 daddr . tcp dport @allow_in6 accept")'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
