#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# NAT in the explanation against the real kernel: IPv6 DNAT with its rule
# and the set hint after DNAT, and masquerade of a connection the server
# opens to the client through wan0 (source NAT happens after the last
# traced chain, so it comes from the rule that matched at postrouting).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init explnat

# 1. IPv6 DNAT, then the drop: the hint uses the address after DNAT.
dnat6_handle=$(lab_exec_router nft -a list chain inet nat prerouting |
	sed -n 's/.*dnat ip6 to .* # handle \([0-9]*\)$/\1/p')
lab_daemon_start --match "ip6 daddr 2001:db8:1::1 tcp dport 1222 tcp flags syn" \
	--count 1 --output json --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN6" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "ipv6: dnat [2001:db8:1::1]:1222 -> [2001:db8:2::10]:22 by its rule" '
	.[0].nat | any(.type == "dnat" and .kind == "dnat" and
		.from == "[2001:db8:1::1]:1222" and .to == "[2001:db8:2::10]:22" and
		.handle == '"$dnat6_handle"' and .hook == "prerouting" and
		(.rule | test("dnat ip6 to \\[2001:db8:2::10\\]:22")))'
lab_expect_json "ipv6: hint 2001:db8:2::10 . 22 is not in set allow_in6" '
	.[0].hints | length == 1 and .[0].set == "allow_in6" and
	.[0].key == "2001:db8:2::10 . 22" and .[0].member == false and
	.[0].command == "nft add element inet filter allow_in6 { 2001:db8:2::10 . 22 }"'

# 2. Masquerade: the server connects to a listener on the client.
lab_exec_client socat TCP4-LISTEN:8080,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_client ss -Hltn 'sport = :8080' | wc -l)" -ge 1 ] && break
	sleep 0.1
done
lab_exec_router nft add rule inet filter forward iifname lan0 oifname wan0 accept
lab_exec_router nft add rule inet nat postrouting oifname wan0 masquerade
masq_handle=$(lab_exec_router nft -a list chain inet nat postrouting |
	sed -n 's/.*masquerade # handle \([0-9]*\)$/\1/p')
lab_daemon_start --match "ip saddr 203.0.113.10 tcp dport 8080 tcp flags syn" \
	--count 1 --output json --timeout 15
lab_daemon_ready
banner=$(lab_connect "$LAB_CLIENT4" 8080 "$LAB_SERVER") ||
	lab_fail "the server could not connect out to the client (got '$banner')"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "masquerade: accepted" '.[0].verdict == "accept"'
lab_expect_json "masquerade: 203.0.113.10:port -> 198.51.100.1:port via wan0 by its rule" '
	.[0].packet.sport as $p |
	.[0].nat | any(.type == "snat" and .kind == "masquerade" and .source == "rule" and
		.from == "203.0.113.10:\($p)" and .to == "198.51.100.1:\($p)" and
		.oif == "wan0" and .hook == "postrouting" and
		.handle == '"$masq_handle"' and .rule == "oifname \"wan0\" masquerade")'
lab_expect_json "masquerade: accepts at forward and postrouting" '
	[.[0].accepts[].hook] | index("forward") != null and index("postrouting") != null'
lab_expect_json "masquerade: no hints for an accepted packet" '.[0].hints == []'

lab_daemon_start --match "ip saddr 203.0.113.10 tcp dport 8080 tcp flags syn" \
	--count 1 --timeout 15
lab_daemon_ready
lab_connect "$LAB_CLIENT4" 8080 "$LAB_SERVER" >/dev/null ||
	lab_fail "the server could not connect out to the client"
lab_daemon_wait
grep -q "^  masquerade 203.0.113.10:[0-9]* -> 198.51.100.1:[0-9]* via wan0 by rule \`oifname \"wan0\" masquerade\` (handle $masq_handle) at postrouting$" "$LAB_OUT" ||
	lab_fail "text: the masquerade line is missing"
grep -q "^  accepted at " "$LAB_OUT" || lab_fail "text: the accepts line is missing"
echo "ok: text shows the masquerade and the accepts"

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
