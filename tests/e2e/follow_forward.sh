#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --follow on a working port forward: the SYN the match selects, then the
# SYN/ACK coming back from the server (reply direction, with the un-DNAT
# that gives its source back 198.51.100.1:1222) and the client's ACK, all
# under the same connection; the connection's record says a reply was seen.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init follow
lab_fix || lab_fail "lab_fix failed"

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --output json --timeout 5
lab_daemon_ready
banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT") ||
	lab_fail "client could not connect to $LAB_WAN4:$LAB_PORT (got '$banner')"
echo "ok: the client connected and read '$banner'"
lab_daemon_wait
lab_expect_rc 0

# the follow set and chains live in the owned table
lab_expect_json "the SYN: accepted, original direction, with a connection id" '
	map(select(.packet.tcp_flags == "syn")) | length == 1 and
	(.[0] | .verdict == "accept" and .direction == "original" and
	 (.connection | type) == "number")'
lab_expect_json "the SYN/ACK: same connection, reply direction, accepted" '
	(map(select(.packet.tcp_flags == "syn")) | .[0].connection) as $c |
	map(select(.packet.tcp_flags == "syn,ack")) | length == 1 and
	(.[0] | .connection == $c and .direction == "reply" and .verdict == "accept" and
	 .packet.saddr == "203.0.113.10" and .packet.sport == 22)'
lab_expect_json "the SYN/ACK shows the un-DNAT 203.0.113.10:22 -> 198.51.100.1:1222" '
	map(select(.packet.tcp_flags == "syn,ack")) | .[0].nat |
	any(.kind == "un-dnat" and .type == "snat" and .from == "203.0.113.10:22" and
	    .to == "198.51.100.1:1222" and .source == "conntrack" and .hook == "postrouting")'
lab_expect_json "the ACK: same connection, original direction" '
	(map(select(.packet.tcp_flags == "syn")) | .[0].connection) as $c |
	any(.packet.tcp_flags == "ack" and .connection == $c and .direction == "original" and
	    .packet.sport != 22)'
lab_expect_json "the reply timelines come after the SYN" '
	(map(.packet.tcp_flags) | index("syn")) < (map(.packet.tcp_flags) | index("syn,ack"))'
lab_expect_jq "one connection record: a reply was seen, no note" '
	[.[] | select(.type == "connection")] | length == 1 and
	(.[0] | .reply_seen == true and .note == null and .replies >= 1 and
	 (.packet | test("^tcp 198[.]51[.]100[.]2:[0-9]+ -> 198[.]51[.]100[.]1:1222$")))'
lab_expect_stats "stats: one connection followed, none without reply, counts add up" '
	.follow_connections == 1 and .follow_no_reply == 0 and .follow_full == 0 and .lost == 0'

# text mode: the connection as one block under its header
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --timeout 5
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "second connection failed"
lab_daemon_wait
lab_expect_rc 0
head -1 "$LAB_OUT" | grep -Eq '^connection [0-9]+ tcp 198\.51\.100\.2:[0-9]+ -> 198\.51\.100\.1:1222: [0-9]+ packets traced, [1-9][0-9]* repl(y|ies)' ||
	lab_fail "text: the block does not start with its connection header"
grep -q '^  un-dnat 203.0.113.10:22 -> 198.51.100.1:1222 by conntrack at postrouting' "$LAB_OUT" ||
	lab_fail "text: no un-dnat line"
sed -n 2p "$LAB_OUT" | grep -q '\[syn\] iif wan0: accept$' ||
	lab_fail "text: the block's first timeline is not the SYN"
echo "ok: text shows the connection as one block, SYN first, with the un-DNAT"

# --follow-packets: the kernel traces the connection's first 2 packets, no
# more (its element's packet limit), and the connection ends at its bound
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --follow-packets 2 --output json --timeout 3
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "third connection failed"
sleep 0.5
traced=$(lab_exec_router nft list table inet trace_debug |
	awk '/chain trace_follow_/{f=1} /^\t}/{f=0}
	     f && /meta nftrace set 1/ {for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1)}
	     END {print n + 0}')
[ "$traced" = 2 ] ||
	lab_fail "the follow chains traced $traced packets of the connection, not 2"
echo "ok: the kernel traced 2 packets of the connection, then no more"
lab_exec_router nft list set inet trace_debug follow | grep -q "limit rate 1/week burst 2 packets" ||
	lab_fail "the follow element does not carry its packet limit"
lab_daemon_wait
lab_expect_rc 0
lab_expect_jq "--follow-packets 2: ended at the bound, the reply seen" '
	[.[] | select(.type == "connection")] | length == 1 and
	(.[0] | .end == "packets" and .packets == 2 and .replies == 1 and .reply_seen == true)'

# --follow-max 1: a second connection at the same time is not followed, and counted
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --follow-max 1 --rate none --output json --timeout 3
lab_daemon_ready
clients=()
for _ in 1 2; do
	timeout 5 ip netns exec "$LAB_CLIENT" socat -T 3 SYSTEM:"sleep 1.5" \
		"TCP4:$LAB_WAN4:$LAB_PORT,connect-timeout=2" >/dev/null 2>&1 &
	clients+=($!)
	sleep 0.2
done
lab_daemon_wait
wait "${clients[@]}" 2>/dev/null
lab_expect_rc 0
lab_expect_stats "--follow-max 1: one connection followed, the other counted" '
	.follow_connections == 1 and .follow_full == 1'
lab_expect_json "both SYNs traced, one connection followed" '
	(map(select(.packet.tcp_flags == "syn")) | length == 2) and
	([.[] | select(.direction == "reply") | .connection] | unique | length == 1)'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
