#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# wg-quick(8)'s full tunnel (tests/rulesets/wg-quick/, made by Debian's
# wg-quick itself): mark-based policy routing. The router plays the
# WireGuard host. Its tunnel wg0 (an ifb stands in: it swallows what is
# sent into it) has 192.0.2.2 and 2001:db8:3::2; its uplink is wan0, where
# the client namespace plays the internet and the peer's endpoint
# 192.0.2.51:51821. As wg-quick left it:
#
#   ip rule 32764  from all lookup main suppress_prefixlength 0
#   ip rule 32765  not from all fwmark 0xca6c lookup 51820
#   table 51820    default dev wg0
#   main           default via 198.51.100.2 dev wan0
#   src_valid_mark=1, and rp_filter=1 (strict) on the router
#
# and its table wg-quick-wg0 saves the mark of WireGuard's own UDP socket
# (51820 = 0xca6c) into the connection at postrouting (postmangle), and
# restores it on the replies at prerouting, priority mangle (premangle),
# so that their reverse-path check looks at main, not at table 51820.
#
# Five packets, one at a time, traced by nattraced and `nft monitor trace`:
#   handshake  the router's socket with mark 51820 (as WireGuard's is),
#              udp 51820 -> 192.0.2.51:51821: the mark routes it by main
#              out of wan0; postmangle saves the mark in the connection
#   reply      192.0.2.51:51821 -> the router's 51820: premangle restores
#              the mark, the reverse path is wan0, the socket reads it
#   tunnelled  the same socket without a mark, udp 47003 -> 192.0.2.51:9:
#              table 51820 routes it into wg0
#   spoofed4   client -> 192.0.2.2:22 (the tunnel's address) from wan0:
#              preraw drops it
#   spoofed6   client -> [2001:db8:3::2]:22 from wan0: ip6 preraw drops it
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
RS_DEFER_LOAD=1 rs_up wg-quick || exit 1

ENDPOINT=192.0.2.51 TUN4=192.0.2.2 TUN6=2001:db8:3::2 FWMARK=51820
# wg0: WireGuard's interface, as wg-quick sets it up. No WireGuard here, and
# no dummy in every kernel: an ifb (or a tun nobody reads) swallows it all.
if ! ip -n "$LAB_ROUTER" link add wg0 type ifb 2>/dev/null; then
	ip -n "$LAB_ROUTER" tuntap add mode tun name wg0 || exit 1
fi
ip -n "$LAB_ROUTER" addr add "$TUN4/32" dev wg0 || exit 1
ip -n "$LAB_ROUTER" addr add "$TUN6/128" dev wg0 nodad || exit 1
ip -n "$LAB_ROUTER" link set mtu 1420 up dev wg0 || exit 1
# What wg-quick ran (see the ruleset's header), and the uplink's default.
ip -n "$LAB_ROUTER" -4 route add default via "$LAB_CLIENT4" dev wan0 || exit 1
ip -n "$LAB_ROUTER" -6 route add default via "$LAB_CLIENT6" dev wan0 || exit 1
for p in -4 -6; do
	ip -n "$LAB_ROUTER" "$p" route add default dev wg0 table $FWMARK || exit 1
	ip -n "$LAB_ROUTER" "$p" rule add not fwmark $FWMARK table $FWMARK || exit 1
	ip -n "$LAB_ROUTER" "$p" rule add table main suppress_prefixlength 0 || exit 1
done
lab_exec_router sysctl -qw net.ipv4.conf.all.src_valid_mark=1 \
	net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.wan0.rp_filter=1 || exit 1
rs_load "$(rs_ruleset wg-quick)" || exit 1

# The peer's endpoint on the client, echoing what it gets.
ip -n "$LAB_CLIENT" addr add "$ENDPOINT/32" dev lo || exit 1
ip netns exec "$LAB_CLIENT" socat UDP4-RECVFROM:51821,bind=$ENDPOINT,fork PIPE \
	</dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(ip netns exec "$LAB_CLIENT" ss -Hlun 'sport = :51821' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

# udp_send SPORT DPORT MARK: one datagram from the router's SPORT (socket
# mark MARK, 0 none) to the endpoint; the socket stays open 2 s for the
# answer, which goes to $LAB_TMP/answer.SPORT.
udp_send()
{
	local sport=$1 dport=$2 mark=$3 opt=

	[ "$mark" = 0 ] || opt=",sockopt-int=1:36:$mark" # SOL_SOCKET, SO_MARK
	(echo "wg-$sport"; sleep 2) | timeout 5 ip netns exec "$LAB_ROUTER" socat -T 3 - \
		"UDP4-DATAGRAM:$ENDPOINT:$dport,bind=:$sport$opt" >"$LAB_TMP/answer.$sport" 2>/dev/null
	return 0
}

rs_daemon_start --match "meta l4proto { tcp, udp } th sport { 51820, 51821, 47003, 47004, 47005 }" \
	--count 5 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_packet handshake 51820 udp_send 51820 51821 $FWMARK
# The reply passed during the same rs_packet: its lines are in that range.
RS_FIRST[reply]=${RS_FIRST[handshake]} RS_LAST[reply]=${RS_LAST[handshake]} RS_SPORT[reply]=51821
if [ "$(cat "$LAB_TMP/answer.51820")" = "wg-51820" ]; then
	echo "ok: reply: the marked socket read the endpoint's answer"
else
	rs_fail_soft "reply: the marked socket got no answer from the endpoint"
fi
rs_packet tunnelled 47003 udp_send 47003 9 0
rs_expect_no_connect spoofed4 "$LAB_CLIENT" "$TUN4" 22 47004
rs_expect_no_connect spoofed6 "$LAB_CLIENT" "$TUN6" 22 47005

rs_collect handshake reply tunnelled spoofed4 spoofed6

save_rule="meta l4proto udp meta mark 0x0000ca6c ct mark set meta mark"
restore_rule="meta l4proto udp meta mark set ct mark"

rs_expect handshake "accepted, udp from the marked socket" '
	.verdict == "accept" and .packet.proto == "udp" and .packet.mark == 51820'
rs_expect handshake "routed by main out of wan0: postrouting saw oif wan0" '
	.events | any(.hook == "postrouting" and .packet.oif == "wan0")'
rs_expect handshake "postmangle saved the mark into the connection" "
	.events | any(.hook == \"postrouting\" and .table == \"wg-quick-wg0\" and
		.chain == \"postmangle\" and .rule == \"$save_rule\")"

rs_expect_delivered reply
rs_expect reply "arrived unmarked: no mark on entry" '(.packet.mark // 0) == 0'
rs_expect reply "premangle restored the mark: its rule's event changed it to 51820, later packets carry it" "
	(.events | map(.rule) | index(\"$restore_rule\")) as \$i |
	\$i != null and .events[\$i].mark_change.to == 51820 and
	((.events[\$i].mark_change.from // 0) == 0) and
	(.events[\$i + 1:] | map(select(.packet != null)) | all(.packet.mark == 51820))"
rs_expect reply "came in on wan0, and no later chain" '
	(.events | map(select(.packet != null)) | length > 0 and all(.packet.iif == "wan0")) and
	(.events | all(.hook == "prerouting"))'

rs_expect tunnelled "accepted, and routed by table 51820 into wg0" '
	.verdict == "accept" and
	(.events | any(.hook == "postrouting" and .packet.oif == "wg0")) and
	(.events | all(.packet == null or (.packet.mark // 0) == 0))'
rs_expect tunnelled "postmangle's rule did not match an unmarked packet" "
	.events | all(.rule != \"$save_rule\")"

rs_expect_cause spoofed4 drop drop ip wg-quick-wg0 preraw \
	"iifname != \"wg0\" ip daddr $TUN4 fib saddr type != local drop"
rs_expect_cause spoofed6 drop drop ip6 wg-quick-wg0 preraw \
	"iifname != \"wg0\" ip6 daddr $TUN6 fib saddr type != local drop"
for key in spoofed4 spoofed6; do
	rs_expect "$key" "dropped at prerouting, in preraw itself" '
		.cause.hook == "prerouting" and .cause.path == ["preraw"]'
	rs_expect "$key" "no NAT" '.nat == []'
done

# Owners: wg-quick's table is recognised by name, nothing else is anyone's.
for key in handshake reply tunnelled spoofed4 spoofed6; do
	rs_expect "$key" "events in wg-quick's table name wg-quick and wg0, others no owner" '
		(.events | map(select(.table == "wg-quick-wg0")) |
			all(.owner.manager == "wg-quick" and .owner.interface == "wg0")) and
		(.events | map(select(.table != "wg-quick-wg0")) | all(has("owner") | not))'
done
rs_expect_cause_owner spoofed4 '{"manager":"wg-quick","role":"tunnel address filter","interface":"wg0"}' \
	'wg-quick tunnel address filter, interface wg0'
rs_expect_cause_owner spoofed6 '{"manager":"wg-quick","role":"tunnel address filter","interface":"wg0"}' \
	'wg-quick tunnel address filter, interface wg0'

# The same reply without premangle's rule: it arrives unmarked, so the
# reverse-path check (rp_filter=1) looks it up by table 51820, which says
# wg0, not wan0, and the kernel drops it after the last chain. No input
# chain follows: only the kernel's route lookup, with the packet's mark,
# tells this from a delivered reply (issue 19, item 1).
lab_exec_router nft delete rule ip wg-quick-wg0 premangle handle "$(lab_exec_router nft -a list chain ip wg-quick-wg0 premangle |
	sed -n 's/.*meta mark set ct mark # handle \([0-9]*\)$/\1/p')" ||
	lab_fail "cannot delete premangle's rule"
lab_daemon_start --match "udp sport 51821 udp dport 51822" --count 1 --output json --timeout 15
lab_daemon_ready
udp_send 51822 51821 $FWMARK
lab_daemon_wait
if [ -s "$LAB_TMP/answer.51822" ]; then
	lab_fail "unrestored reply: the socket read an answer the kernel should have dropped"
fi
lab_expect_jq "unrestored reply: accepted by the ruleset, then dropped by rp_filter" \
	'map(select(.type == "trace")) | length == 1 and (.[0] | .verdict == "accept" and
		.outside_ruleset.reason == "rp_filter" and .after_ruleset == null)'
echo "ok: unrestored reply: the socket read nothing; outside_ruleset says rp_filter"

rs_done
