#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The broken port forward: one SYN to router:1222 is DNATed to server:22 and
# dropped by the last rule of allowed_dnats. The JSON timeline must name that
# rule, the chain path to it and the DNAT, and hide the daemon's own chain.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init drop

drop_handle=$(lab_exec_router nft -a list chain inet filter allowed_dnats |
	sed -n 's/^[[:space:]]*drop # handle \([0-9]*\)$/\1/p')
dnat_handle=$(lab_exec_router nft -a list chain inet nat prerouting |
	sed -n 's/.*dnat ip to 203\.0\.113\.10:22 # handle \([0-9]*\)$/\1/p')
[ -n "$drop_handle" ] && [ -n "$dnat_handle" ] || lab_fail "lab ruleset not as expected"

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--count 1 --output json --timeout 10
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0

lab_expect_json "exactly one timeline" 'length == 1'
lab_expect_stats "exit stats: the counter saw the packet, one timeline emitted, none lost" '
	.selected >= 1 and .emitted == 1 and .complete >= 1 and .enobufs == 0
	and .lost == 0'
lab_expect_json "id is 8 hex digits" '.[0].id | test("^[0-9a-f]{8}$")'
lab_expect_json "verdict drop" '.[0].verdict == "drop"'
lab_expect_json "timeline complete" '.[0].complete == true'
lab_expect_json "packet tcp 198.51.100.2 -> 198.51.100.1:1222 in on wan0" '
	.[0].packet | .proto == "tcp" and .saddr == "198.51.100.2" and
	.daddr == "198.51.100.1" and .dport == 1222 and (.sport | type) == "number"
	and .iif == "wan0"'
lab_expect_json "cause: rule drop in inet filter allowed_dnats, handle $drop_handle" '
	.[0].cause | .family == "inet" and .table == "filter" and
	.chain == "allowed_dnats" and .rule == "drop" and .verdict == "drop" and
	.handle == '"$drop_handle"
lab_expect_json "cause path: forward, then allowed_dnats" '
	.[0].cause.path | map(tostring) as $p |
	($p | length) >= 2 and ($p[0] | test("forward")) and
	($p[-1] | test("allowed_dnats"))'
lab_expect_json "nat: dnat 198.51.100.1:1222 -> 203.0.113.10:22" '
	.[0].nat | any(.type == "dnat" and .from == "198.51.100.1:1222" and
		       .to == "203.0.113.10:22")'
lab_expect_json "no event of the daemon's own table" '
	.[0].events | all(.table != "trace_debug")'
lab_expect_json "events: the dnat rule in nat prerouting" '
	.[0].events | any(.table == "nat" and .chain == "prerouting" and
		.hook == "prerouting" and .handle == '"$dnat_handle"' and
		(.rule | test("dnat ip to 203.0.113.10:22")))'
lab_expect_json "events: the jump from forward to allowed_dnats" '
	.[0].events | any(.chain == "forward" and .hook == "forward" and
		.verdict == "jump" and .target == "allowed_dnats" and
		.rule == "ct status dnat jump allowed_dnats")'
lab_expect_json "events: the last event is the drop" '
	.[0].events[-1] | .chain == "allowed_dnats" and .verdict == "drop" and
	.type == "rule" and .handle == '"$drop_handle"
lab_expect_json "raw_headers: the SYN as it entered prerouting on wan0, in hex" '
	.[0].raw_headers | .hook == "prerouting" and .family == "ip" and
	.iif == "wan0" and .oif == null and .mark == 0 and .link_type == 1 and
	(.link | test("^[0-9a-f]{28}$")) and
	(.network | test("^45[0-9a-f]{14}4006[0-9a-f]{4}c6336402c6336401$")) and
	(.transport | test("^[0-9a-f]{4}04c6[0-9a-f]{18}02[0-9a-f]{12}$"))'
# Kernels 6.16+ send the conntrack attributes (CT_ID, CT_STATE, ...).
kmajor=$(uname -r | cut -d. -f1)
kminor=$(uname -r | cut -d. -f2 | tr -cd '0-9')
if [ $((kmajor * 1000 + kminor)) -ge 6016 ]; then
	lab_expect_json "ct (kernel 6.16+): state new, status dnat" '
		.[0].ct | (.state | index("new") != null) and
		(.status | index("dnat") != null) and (.id | type) == "number"'
fi
lab_expect_json "events: every event names family, table, chain, type" '
	.[0].events | length > 0 and all(.family == "inet" and
		(.table | type) == "string" and (.chain | type) == "string" and
		(.type == "rule" or .type == "policy" or .type == "return"))'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"

# The default text output carries the same content (layout is free).
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--count 1 --timeout 10
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
for want in "198.51.100.2" "198.51.100.1" "1222" "wan0" "203.0.113.10:22" \
	"dnat ip to 203.0.113.10:22" "ct status dnat jump allowed_dnats" \
	"allowed_dnats" "forward" "handle $drop_handle" "drop"; do
	grep -qF -- "$want" "$LAB_OUT" ||
		lab_fail "text output: '$want' is missing"
done
grep -q 'trace_prerouting' "$LAB_OUT" &&
	lab_fail "text output shows the daemon's own chain trace_prerouting"
echo "ok: the text timeline names the packet, the dnat, the jump and the dropping rule"
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
