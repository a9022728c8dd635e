#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# kube-proxy's nftables mode (tests/rulesets/kube-proxy/, the transaction
# its proxier test expects) in the router, which plays the node:
#
#   client 203.0.113.2 --wan0-- node 203.0.113.1 --lan0-- pod 192.0.2.13
#                                                        (endpoint of svc3
#                                                         and svc5, :80)
#
# Three SYNs from the client, one at a time, traced by nattraced and by
# `nft monitor trace` at once:
#   nodeport   NodePort 3003 (svc3): services -> vmap @service-nodeports ->
#              goto external-... -> goto service-... -> numgen vmap -> goto
#              endpoint-... -> dnat to the pod; `masquerade fully-random` at
#              postrouting picks a new source port. The connection works.
#   noep_svc   ClusterIP 198.51.100.46:80 of svc6, which has no endpoints:
#              filter-forward -> service-endpoints-check -> vmap
#              @no-endpoint-services -> goto reject-chain -> reject
#   local_np   NodePort 3001 of svc2 (externalTrafficPolicy Local, no local
#              endpoint): filter-input -> nodeport-endpoints-check -> vmap
#              @no-endpoint-nodeports -> drop
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
rs_up kube-proxy || exit 1

NODE=203.0.113.1 CLIENT=203.0.113.2 POD=192.0.2.13
# Readdress the lab to kube-proxy's picture (documentation ranges).
for dev in wan0 lan0; do ip -n "$LAB_ROUTER" addr flush dev "$dev" || exit 1; done
ip -n "$LAB_CLIENT" addr flush dev eth0 || exit 1
ip -n "$LAB_SERVER" addr flush dev eth0 || exit 1
ip -n "$LAB_ROUTER" addr add "$NODE/24" dev wan0 || exit 1
ip -n "$LAB_ROUTER" addr add 192.0.2.1/24 dev lan0 || exit 1
ip -n "$LAB_CLIENT" addr add "$CLIENT/24" dev eth0 || exit 1
ip -n "$LAB_CLIENT" route add default via "$NODE" || exit 1
ip -n "$LAB_SERVER" addr add "$POD/24" dev eth0 || exit 1
ip -n "$LAB_SERVER" route add default via 192.0.2.1 || exit 1
# The service CIDR needs a route on the node, as a default route gives a
# real node, or the packet never reaches the forward hook.
ip -n "$LAB_ROUTER" route add 198.51.100.0/24 via "$POD" || exit 1
rs_listen "$LAB_SERVER" 80 || exit 1

rs_daemon_start --match "ip saddr $CLIENT tcp flags & (syn | ack) == syn" \
	--count 3 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect nodeport "$LAB_CLIENT" "$NODE" 3003 43001
rs_expect_no_connect noep_svc "$LAB_CLIENT" 198.51.100.46 80 43002
rs_expect_no_connect local_np "$LAB_CLIENT" "$NODE" 3001 43003

rs_collect nodeport noep_svc local_np

ep_chain='endpoint-UEIP74TE-ns3/svc3/tcp/p80__192.0.2.13/80'
dnat_handle=$(rs_handle ip kube-proxy "$ep_chain" 'meta l4proto tcp dnat to 192.0.2.13:80')
masq_handle=$(rs_handle ip kube-proxy masquerading 'masquerade fully-random')
rs_expect_delivered nodeport
rs_expect nodeport "dnat 203.0.113.1:3003 -> 192.0.2.13:80 by the endpoint chain's rule" "
	.nat | any(.type == \"dnat\" and .kind == \"dnat\" and
		.from == \"203.0.113.1:3003\" and .to == \"192.0.2.13:80\" and
		.hook == \"prerouting\" and .rule == \"meta l4proto tcp dnat to 192.0.2.13:80\" and
		.handle == ${dnat_handle:-null})"
rs_expect nodeport "the DNAT names the Service and its endpoint" '
	.nat | any(.type == "dnat" and .owner == {"manager": "kube-proxy",
		"service": "ns3/svc3:p80", "protocol": "tcp", "endpoint": "192.0.2.13:80"})'
rs_expect nodeport "the Service chains on the way name the Service" '
	[.events[] | select(.chain | startswith("service-4AT6LBPK-")) | .owner.service] |
	length > 0 and all(. == "ns3/svc3:p80")'
rs_expect nodeport "the numgen vmap's goto to the endpoint chain" "
	.events | any(.chain == \"service-4AT6LBPK-ns3/svc3/tcp/p80\" and .verdict == \"goto\" and
		.target == \"$ep_chain\")"
rs_expect nodeport "masquerade fully-random by its rule, via lan0" "
	.nat | any(.type == \"snat\" and .kind == \"masquerade\" and
		.from == \"203.0.113.2:43001\" and .oif == \"lan0\" and
		.hook == \"postrouting\" and .rule == \"masquerade fully-random\" and
		.handle == ${masq_handle:-null})"
# fully-random: the kernel picks the source port; the trace headers still
# show the old one. The NAT must show the port conntrack chose, or ?, but
# never claim the original port was kept.
rs_expect nodeport "masquerade to 192.0.2.1, port chosen by conntrack or ?, not the original 43001" '
	.nat | any(.type == "snat" and (.to | startswith("192.0.2.1:")) and
		.to != "192.0.2.1:43001")'

rs_expect_cause noep_svc drop reject ip kube-proxy reject-chain 'reject'
# The vmap's goto replaces service-endpoints-check on the jump stack: the
# path is what the packet would return through, `via` how it got there.
rs_expect noep_svc "via jump service-endpoints-check, then the vmap's goto reject-chain" '
	.cause.path == ["filter-forward", "reject-chain"] and
	[.cause.via[] | [.chain, .verdict, .target]] ==
		[["filter-forward", "jump", "service-endpoints-check"],
		 ["service-endpoints-check", "goto", "reject-chain"]]'

# reject-chain serves every Service without endpoints: the vmap that sent
# the packet there (its key is the packet's) gives the Service's address;
# its name is only in the element's comment (comment "ns6/svc6:p80"),
# which the rule text lacks: the element, asked of the kernel, names it.
rs_expect_cause_owner noep_svc \
	'{"manager":"kube-proxy","role":"no endpoints","service":"ns6/svc6:p80","service_address":"198.51.100.46:80/tcp"}' \
	'kube-proxy no endpoints, Service ns6/svc6:p80, address 198.51.100.46:80/tcp'
rs_expect noep_svc "the vmap's goto names the Service too" '
	.events | any(.chain == "service-endpoints-check" and .verdict == "goto" and
		.owner.service == "ns6/svc6:p80" and
		.owner.service_address == "198.51.100.46:80/tcp")'

rs_expect_cause local_np drop drop ip kube-proxy nodeport-endpoints-check \
	'ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'
rs_expect local_np "path filter-input -> nodeport-endpoints-check" '
	.cause.path == ["filter-input", "nodeport-endpoints-check"]'
rs_expect_cause_owner local_np \
	'{"manager":"kube-proxy","role":"no endpoints","service":"ns2/svc2:p80","nodeport":"3001/tcp"}' \
	'kube-proxy no endpoints, Service ns2/svc2:p80, NodePort 3001/tcp'

rs_done
