#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libvirt's nftables backend (tests/rulesets/libvirt/, the commands
# libvirt's own test expects for a NAT network with a masquerade port
# range) in the router, which plays the libvirt host:
#
#   client 198.51.100.2 --wan0-- host 198.51.100.1
#                                  virbr0 192.0.2.1/24 --lan0-- guest 192.0.2.2
#
# Two SYNs, one at a time, traced by nattraced and `nft monitor trace`:
#   guest_out  guest -> client:8080: accepted by guest_output, masqueraded
#              by `masquerade to :500-1000`: the kernel picks a source port
#              in 500-1000. The connection works.
#   inbound    client -> guest:22, a new connection from outside: guest_input
#              rejects it (libvirt's NAT network only lets replies in)
#
# br_netfilter is switched off in the router: libvirt does not load it (a
# plain libvirt host has no bridge netfilter); this kernel has it built in
# with bridge-nf-call-iptables=1 in every new namespace. The bridged case is
# covered by ruleset_docker.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
RS_DEFER_LOAD=1 rs_up libvirt || exit 1

GUEST=$LAB_SERVER GUEST_ADDR=192.0.2.2
ip -n "$LAB_ROUTER" addr flush dev lan0 || exit 1
ip -n "$GUEST" addr flush dev eth0 || exit 1
rs_bridge virbr0 192.0.2.1/24 || exit 1
ip -n "$LAB_ROUTER" link set lan0 master virbr0 || exit 1
ip -n "$GUEST" addr add "$GUEST_ADDR/24" dev eth0 || exit 1
ip -n "$GUEST" route add default via 192.0.2.1 || exit 1
if lab_exec_router sysctl -n net.bridge.bridge-nf-call-iptables >/dev/null 2>&1; then
	lab_exec_router sysctl -qw net.bridge.bridge-nf-call-iptables=0 || exit 1
fi
rs_load "$(rs_ruleset libvirt)" || exit 1
rs_listen "$LAB_CLIENT" 8080 || exit 1

rs_daemon_start --match "ip saddr { $LAB_CLIENT4, $GUEST_ADDR } tcp flags & (syn | ack) == syn" \
	--count 2 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect guest_out "$GUEST" "$LAB_CLIENT4" 8080 44001
rs_expect_no_connect inbound "$LAB_CLIENT" "$GUEST_ADDR" 22 44002

rs_collect guest_out inbound

masq_rule='meta l4proto tcp ip saddr 192.0.2.0/24 ip daddr != 192.0.2.0/24 counter masquerade to :500-1000'
masq_handle=$(rs_handle ip libvirt_network guest_nat "$masq_rule")
rs_expect_delivered guest_out
rs_expect guest_out "accepted at forward by guest_output" '
	.accepts | any(.hook == "forward" and .chain == "guest_output" and
		.rule == "ip saddr 192.0.2.0/24 iif \"virbr0\" counter accept")'
rs_expect guest_out "masquerade by libvirt's port-range rule, via wan0" "
	.nat | any(.type == \"snat\" and .kind == \"masquerade\" and
		.from == \"192.0.2.2:44001\" and .oif == \"wan0\" and
		.hook == \"postrouting\" and
		.rule == $(jq -n --arg r "$masq_rule" '$r') and .handle == ${masq_handle:-null})"
# The port range: the kernel picks a port in 500-1000; the trace headers
# still show 44001. The NAT must show the chosen port or ?, never 44001.
rs_expect guest_out "the masquerade is libvirt's guest NAT" '
	.nat | any(.type == "snat" and .owner == {"manager": "libvirt", "role": "guest NAT"})'
rs_expect guest_out "masquerade to 198.51.100.1, port in 500-1000 or ?" '
	.nat | any(.type == "snat" and (.to | startswith("198.51.100.1:")) and
		(.to | ltrimstr("198.51.100.1:")) as $p |
		($p == "?" or (($p | tonumber) >= 500 and ($p | tonumber) <= 1000)))'

rs_expect_cause inbound drop reject ip libvirt_network guest_input 'oif "virbr0" counter reject'
rs_expect inbound "path forward -> guest_input, after guest_cross returned" '
	.cause.path == ["forward", "guest_input"] and
	(.events | any(.chain == "forward" and .target == "guest_cross"))'
rs_expect inbound "no NAT" '.nat == []'
rs_expect_cause_owner inbound '{"manager":"libvirt","role":"to guests","bridge":"virbr0"}' \
	'libvirt to guests, bridge virbr0'

rs_done
