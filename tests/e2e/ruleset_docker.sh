#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Docker's iptables rules (tests/rulesets/docker/, recorded by moby's own
# integration test from a running dockerd) loaded with iptables-nft-restore
# into the router, which plays the Docker host:
#
#   client 198.51.100.2 --wan0-- router (198.51.100.1)
#                                  bridge1 192.0.2.1/24 --veth-- c1 192.0.2.2
#                                                        (the lab's server,
#                                                         listens on :80)
#                                  docker0 203.0.113.1/24 --veth-- c2 203.0.113.2
#
# with br_netfilter on (net.bridge.bridge-nf-call-iptables=1 in the router),
# as Docker runs it. Four SYNs, one at a time, traced by nattraced and by
# `nft monitor trace` at once:
#   published  client -> 198.51.100.1:8080: DNATed to c1:80 by the DOCKER
#              nat chain, accepted by the DOCKER filter chain's per-port rule
#   unpublished client -> c1:22 routed straight in: the DOCKER chain's drop
#   masq       c1 -> client:8080: accepted, masqueraded; the packet comes in
#              through a bridge port, so its trace id changes on the way
#   isolation  c2 (docker0) -> c1:80: dropped by DOCKER-ISOLATION-STAGE-2;
#              also bridged
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_require iptables-nft-restore || exit 1
lab_trap
rs_up docker || exit 1

C1=$LAB_SERVER C1_ADDR=192.0.2.2 C2_ADDR=203.0.113.2
# The lab's server becomes container c1 on bridge1.
ip -n "$LAB_ROUTER" addr flush dev lan0 || exit 1
ip -n "$C1" addr flush dev eth0 || exit 1
rs_bridge bridge1 192.0.2.1/24 || exit 1
ip -n "$LAB_ROUTER" link set lan0 master bridge1 || exit 1
ip -n "$C1" addr add "$C1_ADDR/24" dev eth0 || exit 1
ip -n "$C1" route add default via 192.0.2.1 || exit 1
# Container c2 on docker0.
rs_add_ns c2 || exit 1
C2=$RS_NS
rs_bridge docker0 203.0.113.1/24 || exit 1
rs_bridge_port docker0 veth-c2 "$C2" "$C2_ADDR/24" 203.0.113.1 || exit 1

# br_netfilter: bridged IPv4 frames pass the iptables (nftables ip) hooks.
if ! brnf=$(lab_exec_router sysctl -n net.bridge.bridge-nf-call-iptables 2>/dev/null); then
	echo "note: br_netfilter is not available here: testing without it"
else
	lab_exec_router sysctl -qw net.bridge.bridge-nf-call-iptables=1 || exit 1
	echo "note: br_netfilter on (bridge-nf-call-iptables was $brnf)"
fi

rs_listen "$C1" 80 || exit 1
rs_listen "$LAB_CLIENT" 8080 || exit 1

rs_daemon_start --match "ip saddr { $LAB_CLIENT4, $C1_ADDR, $C2_ADDR } tcp flags & (syn | ack) == syn" \
	--count 4 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect published "$LAB_CLIENT" "$LAB_WAN4" 8080 42001
rs_expect_no_connect unpublished "$LAB_CLIENT" "$C1_ADDR" 22 42002
rs_expect_connect masq "$C1" "$LAB_CLIENT4" 8080 42003
rs_expect_no_connect isolation "$C2" "$C1_ADDR" 80 42004

rs_collect published unpublished masq isolation

dnat_rule='iifname != "bridge1" tcp dport 8080 counter dnat to 192.0.2.2:80'
dnat_handle=$(rs_handle ip nat DOCKER "$dnat_rule")
rs_expect_delivered published
rs_expect published "dnat 198.51.100.1:8080 -> 192.0.2.2:80 by the DOCKER nat rule" "
	.nat | length == 1 and (.[0] | .type == \"dnat\" and .kind == \"dnat\" and
		.from == \"198.51.100.1:8080\" and .to == \"192.0.2.2:80\" and
		.hook == \"prerouting\" and
		.rule == $(jq -n --arg r "$dnat_rule" '$r') and .handle == ${dnat_handle:-null})"
rs_expect published "the DNAT names the published port and the container, and iptables-nft" '
	.nat[0].owner == {"manager": "docker", "role": "published ports",
		"published": "8080/tcp", "container": "192.0.2.2:80",
		"iptables_nft": "iptables-nft -t nat -S DOCKER"}'
rs_expect published "accepted at forward by the DOCKER chain's per-port rule" '
	.accepts | any(.hook == "forward" and .table == "filter" and .chain == "DOCKER" and
		.rule == "iifname != \"bridge1\" oifname \"bridge1\" ip daddr 192.0.2.2 tcp dport 80 counter accept")'

rs_expect_cause unpublished drop drop ip filter DOCKER \
	'iifname != "bridge1" oifname "bridge1" counter drop'
rs_expect unpublished "path FORWARD -> DOCKER" '.cause.path == ["FORWARD", "DOCKER"]'
rs_expect unpublished "no NAT" '.nat == []'
rs_expect_cause_owner unpublished \
	'{"manager":"docker","role":"published ports","iptables_nft":"iptables-nft -t filter -S DOCKER"}' \
	'docker published ports'
# shellcheck disable=SC2016 # backquotes of the summary, not a command
rs_expect unpublished "the cause says the table is iptables-nft's, and how to see the rule there" '
	.cause.summary | endswith("; table ip filter is managed by iptables-nft: `iptables-nft -t filter -S DOCKER` shows the rule in iptables syntax")'

masq_rule='oifname != "bridge1" ip saddr 192.0.2.0/24 counter masquerade'
masq_handle=$(rs_handle ip nat POSTROUTING "$masq_rule")
rs_expect_delivered masq
rs_expect masq "masquerade 192.0.2.2:42003 -> 198.51.100.1:42003 via wan0 by Docker's POSTROUTING rule" "
	.nat | any(.type == \"snat\" and .kind == \"masquerade\" and
		.from == \"192.0.2.2:42003\" and .to == \"198.51.100.1:42003\" and
		.oif == \"wan0\" and .hook == \"postrouting\" and
		.rule == $(jq -n --arg r "$masq_rule" '$r') and .handle == ${masq_handle:-null})"
rs_expect masq "accepted at forward by \`iifname \"bridge1\" oifname != \"bridge1\" counter accept\`" '
	.accepts | any(.hook == "forward" and .chain == "FORWARD" and
		.rule == "iifname \"bridge1\" oifname != \"bridge1\" counter accept")'

rs_expect_cause isolation drop drop ip filter DOCKER-ISOLATION-STAGE-2 \
	'oifname "bridge1" counter drop'
rs_expect isolation "path FORWARD -> DOCKER-ISOLATION-STAGE-1 -> DOCKER-ISOLATION-STAGE-2" '
	.cause.path == ["FORWARD", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"]'
rs_expect_cause_owner isolation \
	'{"manager":"docker","role":"network isolation","iptables_nft":"iptables-nft -t filter -S DOCKER-ISOLATION-STAGE-2"}' \
	'docker network isolation'
rs_expect isolation "FORWARD's own accepts are nobody's, its jumps to Docker chains Docker's" '
	(.events | any(.chain == "FORWARD" and .target == "DOCKER-USER" and .owner.manager == "docker")) and
	(.events | map(select(.chain == "FORWARD" and .target == null and .handle != null)) | all(has("owner") | not))'

# Bridged packets: the kernel's trace id changed on the way (br_netfilter
# runs prerouting for the bridge port; skb_iif changes when the packet
# goes up through the bridge), and the one timeline holds both ids.
if [ -n "${brnf:-}" ]; then
	for key in masq isolation; do
		rs_expect "$key" "ids: both trace ids of the bridged packet" '
			(.ids | type) == "array" and (.ids | length) == 2 and
			.ids[0] == .id'
		rs_expect "$key" "prerouting and forward in one timeline" '
			[.events[].hook] | index("prerouting") != null and index("forward") != null'
	done
fi

rs_done
