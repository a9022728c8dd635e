#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# OpenWrt fw4's default ruleset (tests/rulesets/fw4/, from firewall4's own
# test suite) in the router, whose interfaces get fw4's names: pppoe-wan to
# the client, br-lan to the server. Three SYNs, one at a time, traced by
# nattraced and `nft monitor trace` at once:
#   masq      server -> client:8080, lan to wan: accepted by
#             accept_to_wan, masqueraded by srcnat_wan; the connection works.
#             It passes 8 base chains of fw4 (raw, mangle, filter and nat
#             at prerouting, mangle and filter at forward, mangle and nat
#             at postrouting) after nattraced's own.
#   wan_ssh   client -> router:22: input_wan, reject_from_wan, handle_reject
#             rejects with a tcp reset
#   wan_fwd   client -> server:22 routed straight in: forward_wan does not
#             accept it, the forward chain's `jump handle_reject` rejects it
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
rs_up fw4 pppoe-wan br-lan || exit 1

# A listener on the client for the connection from the lan.
lab_exec_client socat TCP4-LISTEN:8080,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
lab_exec_router socat TCP4-LISTEN:22,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_client ss -Hltn 'sport = :8080' | wc -l)" -ge 1 ] &&
	[ "$(lab_exec_router ss -Hltn 'sport = :22' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

rs_daemon_start --match "ip saddr { $LAB_CLIENT4, $LAB_SERVER4 } tcp flags & (syn | ack) == syn" \
	--count 3 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect masq "$LAB_SERVER" "$LAB_CLIENT4" 8080 41001
rs_expect_no_connect wan_ssh "$LAB_CLIENT" "$LAB_WAN4" 22 41002
rs_expect_no_connect wan_fwd "$LAB_CLIENT" "$LAB_SERVER4" 22 41003

rs_collect masq wan_ssh wan_fwd

masq_rule='meta nfproto ipv4 masquerade comment "!fw4: Masquerade IPv4 wan traffic"'
masq_handle=$(rs_handle inet fw4 srcnat_wan "$masq_rule")
rs_expect_delivered masq
rs_expect masq "masquerade 203.0.113.10:41001 -> 198.51.100.1:41001 via pppoe-wan by srcnat_wan's rule" "
	.nat | any(.type == \"snat\" and .kind == \"masquerade\" and
		.from == \"203.0.113.10:41001\" and .to == \"198.51.100.1:41001\" and
		.oif == \"pppoe-wan\" and .hook == \"postrouting\" and
		.rule == $(jq -n --arg r "$masq_rule" '$r') and .handle == ${masq_handle:-null})"
rs_expect masq "accepted at forward by accept_to_wan" '
	.accepts | any(.hook == "forward" and .chain == "accept_to_wan" and
		.rule == "oifname \"pppoe-wan\" counter accept comment \"!fw4: accept wan IPv4/IPv6 traffic\"")'
rs_expect masq "the 8 base chains of fw4 on its way, in hook order" '
	[.events[] | select(.packet != null) | .chain] ==
	["raw_prerouting", "mangle_prerouting", "dstnat", "prerouting",
	 "mangle_forward", "forward", "mangle_postrouting", "srcnat"]'
rs_expect masq "the deciding rule was reached from base chain srcnat" '
	.cause.hook == "postrouting" and .cause.path == ["srcnat", "srcnat_wan"]'
rs_expect masq "the masquerade names fw4's zone and rule" '
	.nat | any(.type == "snat" and .owner == {"manager": "fw4", "zone": "wan",
		"rule": "Masquerade IPv4 wan traffic"})'
rs_expect masq "the MSS clamp in mangle_postrouting is a continue" '
	.events | any(.chain == "mangle_postrouting" and .verdict == "continue" and
		(.rule | test("tcp option maxseg size set rt mtu")))'

reset_rule='meta l4proto tcp reject with tcp reset comment "!fw4: Reject TCP traffic"'
rs_expect_cause wan_ssh drop reject inet fw4 handle_reject "$reset_rule"
rs_expect wan_ssh "path input -> input_wan -> reject_from_wan -> handle_reject" '
	.cause.path == ["input", "input_wan", "reject_from_wan", "handle_reject"]'
rs_expect wan_ssh "the syn_flood limit returned (a rule event, verdict return)" '
	.events | any(.chain == "syn_flood" and .verdict == "return")'
rs_expect wan_ssh "no NAT" '.nat == []'
rs_expect_cause_owner wan_ssh '{"manager":"fw4","rule":"Reject TCP traffic"}' 'fw4 rule Reject TCP traffic'
rs_expect wan_ssh "the zone of the chain that sent it there: reject_from_wan is zone wan" '
	.events | any(.chain == "reject_from_wan" and
		.owner == {"manager": "fw4", "zone": "wan", "rule": "reject wan IPv4/IPv6 traffic"})'

rs_expect_cause wan_fwd drop reject inet fw4 handle_reject "$reset_rule"
rs_expect wan_fwd "path forward -> handle_reject (forward_wan did not decide)" '
	.cause.path == ["forward", "handle_reject"] and
	(.events | any(.chain == "forward" and .target == "forward_wan"))'
rs_expect_cause_owner wan_fwd '{"manager":"fw4","rule":"Reject TCP traffic"}' 'fw4 rule Reject TCP traffic'

rs_done
