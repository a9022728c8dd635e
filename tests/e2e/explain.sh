#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The explanation of a drop against the real kernel: the set-membership
# hint of the seed scenario (DNAT, then the pair missing from allow_in), a
# drop by a base chain's policy, a drop in a chain reached by goto with a
# rule comment, a verdict map, and a packet lost outside the ruleset.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init explain

match="ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn"

# one_syn [ADDR PORT]: trace one SYN (default: the port forward) as JSON.
one_syn()
{
	lab_daemon_start --match "${3:-$match}" --count 1 --output json --timeout 15
	lab_daemon_ready
	lab_syn "${1:-$LAB_WAN4}" "${2:-$LAB_PORT}"
	lab_daemon_wait
	lab_expect_rc 0
}

handle_of()	# CHAIN REGEX: the handle of the rule whose text matches
{
	lab_exec_router nft -a list chain inet filter "$1" |
		sed -n "s/.*$2.* # handle \([0-9]*\)\$/\1/p" | head -n1
}

# 1. The seed scenario: the hint names the pair and the set.
one_syn
allow_handle=$(handle_of allowed_dnats 'ip daddr \. tcp dport @allow_in accept')
lab_expect_json "seed: drop" '.[0].verdict == "drop"'
lab_expect_json "seed: hint 203.0.113.10 . 22 is not in set inet filter allow_in" '
	.[0].hints | any(.status == "evaluated" and .set == "allow_in" and
		.family == "inet" and .table == "filter" and .chain == "allowed_dnats" and
		.key == "203.0.113.10 . 22" and .member == false and
		.rule_handle == '"$allow_handle"' and
		.command == "nft add element inet filter allow_in { 203.0.113.10 . 22 }" and
		.text == "203.0.113.10 . 22 is not in set inet filter allow_in")'
lab_expect_json "seed: no hint for the ip6 rule, which cannot match IPv4" '
	.[0].hints | all(.set != "allow_in6")'
lab_expect_json "seed: cause kind, hook, via the jump, one-line summary" '
	.[0].cause | .kind == "drop" and .hook == "forward" and .comment == null and
	(.via | length == 1 and .[0].verdict == "jump" and .[0].target == "allowed_dnats"
		and .[0].chain == "forward") and
	(.summary | test("^drop by rule `drop` \\(handle [0-9]+\\) in inet filter allowed_dnats, reached from inet filter forward at hook forward via jump allowed_dnats"))'
lab_expect_json "seed: the dnat names its rule" '
	.[0].nat | any(.kind == "dnat" and .from == "198.51.100.1:1222" and
		.to == "203.0.113.10:22" and .hook == "prerouting" and
		(.rule | test("dnat ip to 203.0.113.10:22")) and (.handle | type) == "number")'
lab_expect_json "seed: prerouting accepted by the dnat rule" '
	.[0].accepts | any(.hook == "prerouting" and (.rule | test("dnat")))'
lab_expect_json "seed: not lost outside the ruleset" '.[0].outside_ruleset == null'
lab_expect_json "seed: ct per chain: state, direction, status, id" '
	.[0].events | map(select(.ct)) | length >= 2 and
	all(.ct | (.state | index("new")) != null and .direction == "original" and
		(.status | index("dnat")) != null and (.id | type) == "number")'
lab_exec_router nft list set inet filter allow_in | grep -q elements &&
	lab_fail "the set allow_in was changed"
echo "ok: the set allow_in is still empty"

# The same in text.
lab_daemon_start --match "$match" --count 1 --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
grep -qF "  hint: 203.0.113.10 . 22 is not in set inet filter allow_in (rule handle $allow_handle in inet filter allowed_dnats); to add it: nft add element inet filter allow_in { 203.0.113.10 . 22 }" "$LAB_OUT" ||
	lab_fail "text: the hint line is missing"
grep -q "^  dnat 198.51.100.1:1222 -> 203.0.113.10:22 by rule .* at prerouting$" "$LAB_OUT" ||
	lab_fail "text: the dnat line does not name its rule"
echo "ok: text shows the hint and the dnat rule"

# 2. A drop by the forward chain's policy, the set lookup in forward itself.
lab_exec_router nft flush chain inet filter forward
lab_exec_router nft add rule inet filter forward ct state established,related accept
lab_exec_router nft add rule inet filter forward ip daddr . tcp dport @allow_in accept
one_syn
lab_expect_json "policy: drop by the policy of inet filter forward" '
	.[0].verdict == "drop" and (.[0].cause | .type == "policy" and
	.chain == "forward" and .handle == null and .kind == "drop" and
	(.summary | test("^drop by policy in inet filter forward at hook forward")))'
lab_expect_json "policy: hint on the forward rule" '
	.[0].hints | any(.set == "allow_in" and .chain == "forward" and
		.key == "203.0.113.10 . 22" and .member == false)'

# 3. A goto, a rule with a comment, a reject.
lab_exec_router nft flush chain inet filter forward
lab_exec_router nft add chain inet filter gated
lab_exec_router nft add rule inet filter forward ct status dnat goto gated
lab_exec_router nft add rule inet filter gated tcp dport 2222 accept
lab_exec_router nft add rule inet filter gated reject with tcp reset comment '"closed port forward"'
goto_handle=$(lab_exec_router nft -a list chain inet filter forward |
	sed -n 's/.*goto gated # handle \([0-9]*\)$/\1/p')
one_syn
lab_expect_json "goto: rejected in gated, reached by goto from forward" '
	.[0].verdict == "drop" and (.[0].cause | .chain == "gated" and
	.kind == "reject" and .comment == "closed port forward" and
	(.via | length == 1 and .[0].verdict == "goto" and .[0].target == "gated" and
	 .[0].handle == '"$goto_handle"') and
	(.summary | test("comment \"closed port forward\"")) and
	(.summary | test("via goto gated \\(handle '"$goto_handle"'\\)")))'
lab_expect_json "goto: the path is forward then gated" '
	.[0].cause.path == ["forward", "gated"]'

# 4. A verdict map: the DNATed address is not in it, the policy drops.
lab_exec_router nft flush chain inet filter forward
lab_exec_router nft add map inet filter vm '{ type ipv4_addr : verdict; }'
lab_exec_router nft add element inet filter vm '{ 203.0.113.99 : accept }'
lab_exec_router nft add rule inet filter forward ip daddr vmap @vm
one_syn
lab_expect_json "vmap: hint names the map and the key" '
	.[0].hints | any(.map == "vm" and .key == "203.0.113.10" and
		.member == false and
		.command == "nft add element inet filter vm { 203.0.113.10 : VERDICT }" and
		.text == "203.0.113.10 is not in map inet filter vm")'
lab_exec_router nft add element inet filter vm '{ 203.0.113.10 : drop }'
one_syn
lab_expect_json "vmap: with the key mapped to drop, the vmap rule is the cause" '
	.[0].verdict == "drop" and .[0].cause.chain == "forward" and
	(.[0].cause.rule == "ip daddr vmap @vm") and (.[0].hints | length == 0)'

# 5. No route: accepted at prerouting, then lost before input or forward.
lab_exec_router nft flush chain inet filter forward
one_syn 192.0.2.99 80 "ip daddr 192.0.2.99 tcp dport 80 tcp flags syn"
lab_expect_json "outside: accepted, then lost outside the ruleset after prerouting" '
	.[0].verdict == "accept" and .[0].complete == true and
	.[0].outside_ruleset.after == "prerouting" and
	(.[0].outside_ruleset.expected | index("forward") != null and index("input") != null) and
	(.[0].cause.summary | test("dropped outside the ruleset"))'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
