#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Incus's nftables firewall (tests/rulesets/incus/, rendered from Incus's
# templates) for its bridge network incusbr0 with IPv4 and IPv6 NAT, IPv6
# routing off, and a network forward of 198.51.100.1:1222 to the
# instance's ssh. The router plays the Incus host:
#
#   client 198.51.100.2 --wan0-- host 198.51.100.1
#          2001:db8:1::2          incusbr0 192.0.2.1/24 2001:db8:4::1/64
#                                   --lan0-- instance c1 192.0.2.2
#                                                        2001:db8:4::2
#
# Four SYNs, one at a time, traced by nattraced and `nft monitor trace`:
#   forward4  client -> 198.51.100.1:1222: the network forward's DNAT to
#             c1:22 (fwdprert.incusbr0), accepted by fwd.incusbr0
#   out4      c1 -> client:8080: accepted by fwd.incusbr0, masqueraded by
#             pstrt.incusbr0
#   in6       client -> [c1]:22: fwd.incusbr0's IPv6 reject (ipv6.routing
#             is off)
#   out6      c1 -> [client]:8080: the same chain's IPv6 reject, outbound
#
# br_netfilter is switched off in the router, as on an Incus host without
# instance security filtering.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
RS_DEFER_LOAD=1 rs_up incus || exit 1

C1=$LAB_SERVER C1_4=192.0.2.2 C1_6=2001:db8:4::2
ip -n "$LAB_ROUTER" addr flush dev lan0 || exit 1
ip -n "$C1" addr flush dev eth0 || exit 1
rs_bridge incusbr0 192.0.2.1/24 || exit 1
ip -n "$LAB_ROUTER" addr add 2001:db8:4::1/64 dev incusbr0 nodad || exit 1
ip -n "$LAB_ROUTER" link set lan0 master incusbr0 || exit 1
ip -n "$C1" addr add "$C1_4/24" dev eth0 || exit 1
ip -n "$C1" addr add "$C1_6/64" dev eth0 nodad || exit 1
ip -n "$C1" route replace default via 192.0.2.1 || exit 1
ip -n "$C1" -6 route replace default via 2001:db8:4::1 || exit 1
for v in iptables ip6tables; do
	if lab_exec_router sysctl -n net.bridge.bridge-nf-call-$v >/dev/null 2>&1; then
		lab_exec_router sysctl -qw net.bridge.bridge-nf-call-$v=0 || exit 1
	fi
done
lab_wait_no_tentative || exit 1
rs_load "$(rs_ruleset incus)" || exit 1
rs_listen "$LAB_CLIENT" 8080 || exit 1

rs_daemon_start --match "tcp sport 48001-48004 tcp flags & (syn | ack) == syn" \
	--count 4 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect forward4 "$LAB_CLIENT" "$LAB_WAN4" 1222 48001
rs_expect_connect out4 "$C1" "$LAB_CLIENT4" 8080 48002
rs_expect_no_connect in6 "$LAB_CLIENT" "$C1_6" 22 48003
rs_expect_no_connect out6 "$C1" "$LAB_CLIENT6" 8080 48004

rs_collect forward4 out4 in6 out6

incus_owner()
{
	printf '{"manager":"incus","role":"%s","network":"incusbr0"}' "$1"
}

dnat_rule='ip daddr 198.51.100.1 tcp dport 1222 dnat ip to 192.0.2.2:22'
dnat_handle=$(rs_handle inet incus fwdprert.incusbr0 "$dnat_rule")
rs_expect_delivered forward4
rs_expect forward4 "dnat 198.51.100.1:1222 -> 192.0.2.2:22 by the network forward, Incus's" "
	.nat | length == 1 and (.[0] | .type == \"dnat\" and .kind == \"dnat\" and
		.from == \"198.51.100.1:1222\" and .to == \"192.0.2.2:22\" and
		.hook == \"prerouting\" and
		.rule == $(jq -n --arg r "$dnat_rule" '$r') and .handle == ${dnat_handle:-null} and
		.owner == $(incus_owner 'network forward'))"
rs_expect forward4 "accepted at forward by \`ip version 4 oifname \"incusbr0\" accept\`" "
	.accepts | any(.hook == \"forward\" and .chain == \"fwd.incusbr0\" and
		.rule == \"ip version 4 oifname \\\"incusbr0\\\" accept\" and
		.owner == $(incus_owner forwarding))"

masq_rule='ip saddr 192.0.2.0/24 ip daddr != 192.0.2.0/24 masquerade'
masq_handle=$(rs_handle inet incus pstrt.incusbr0 "$masq_rule")
rs_expect_delivered out4
rs_expect out4 "accepted at forward by \`ip version 4 iifname \"incusbr0\" accept\`" '
	.accepts | any(.hook == "forward" and .chain == "fwd.incusbr0" and
		.rule == "ip version 4 iifname \"incusbr0\" accept")'
rs_expect out4 "masquerade 192.0.2.2:48002 -> 198.51.100.1:48002 via wan0 by Incus's outbound NAT" "
	.nat | length == 1 and (.[0] | .type == \"snat\" and .kind == \"masquerade\" and
		.from == \"192.0.2.2:48002\" and .to == \"198.51.100.1:48002\" and
		.oif == \"wan0\" and .hook == \"postrouting\" and
		.rule == $(jq -n --arg r "$masq_rule" '$r') and .handle == ${masq_handle:-null} and
		.owner == $(incus_owner 'outbound NAT'))"

rs_expect_cause in6 drop reject inet incus fwd.incusbr0 \
	'ip6 version 6 oifname "incusbr0" reject with icmpv6 port-unreachable'
rs_expect_cause out6 drop reject inet incus fwd.incusbr0 \
	'ip6 version 6 iifname "incusbr0" reject with icmpv6 port-unreachable'
for key in in6 out6; do
	rs_expect "$key" "an IPv6 packet" '.packet.family == "ip6"'
	rs_expect "$key" "no NAT" '.nat == []'
	rs_expect "$key" "cause path: fwd.incusbr0 itself" '.cause.path == ["fwd.incusbr0"]'
	rs_expect_cause_owner "$key" "$(incus_owner forwarding)" 'incus forwarding, network incusbr0'
done

for key in forward4 out4 in6 out6; do
	rs_expect "$key" "every event in Incus's table names incus, none in ours" '
		(.events | map(select(.table == "incus")) | length > 0 and
			all(.owner.manager == "incus" and .owner.network == "incusbr0")) and
		(.events | map(select(.table != "incus")) | all(has("owner") | not))'
done

rs_done
