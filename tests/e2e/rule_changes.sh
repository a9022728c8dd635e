#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The rule-text cache follows the ruleset: a rule added after the daemon
# started is shown with its text (nft monitor trace says "unknown rule
# handle" there); after it is deleted and another one added, a later packet
# shows the new rule and not the deleted one.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init rules

# nft --echo --handle prints the new rule with "# handle N".
new_rule_handle()
{
	lab_exec_router nft --echo --handle "$@" |
		sed -n 's/.*# handle \([0-9]*\)$/\1/p' | tail -1
}

jump_handle=$(lab_exec_router nft -a list chain inet filter forward |
	sed -n 's/.*jump allowed_dnats # handle \([0-9]*\)$/\1/p')
[ -n "$jump_handle" ] || lab_fail "no jump rule in the forward chain?"

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--rate none --count 2 --output json --timeout 20
lab_daemon_ready
sleep 0.2	# let the daemon finish reading the ruleset

# 1. A rule added after the start, before the jump in forward.
h1=$(new_rule_handle insert rule inet filter forward position "$jump_handle" \
	ip daddr 203.0.113.10 counter comment '"nattraced-added-1"')
[ -n "$h1" ] || lab_fail "could not insert the first rule"
echo "ok: inserted rule handle $h1 into inet filter forward"
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_wait_lines 1 10 || lab_fail "no timeline for the first packet"
lab_expect_json "packet 1: the added rule (handle $h1) appears with its text" '
	.[0].events | any(.chain == "forward" and .handle == '"$h1"' and
		(.rule // "" | test("nattraced-added-1")) and
		(.rule | test("ip daddr 203.0.113.10")))'
lab_expect_json "packet 1: no unknown rule" '
	.[0].events | all(.rule // "" | test("unknown") | not)'
lab_expect_json "packet 1: still dropped in allowed_dnats" '
	.[0].verdict == "drop" and .[0].cause.chain == "allowed_dnats"'

# 2. Delete the rule the packet met; add another one in allowed_dnats.
lab_exec_router nft delete rule inet filter forward handle "$h1" ||
	lab_fail "could not delete rule $h1"
drop_handle=$(lab_exec_router nft -a list chain inet filter allowed_dnats |
	sed -n 's/^[[:space:]]*drop # handle \([0-9]*\)$/\1/p')
h2=$(new_rule_handle insert rule inet filter allowed_dnats position "$drop_handle" \
	tcp dport 22 counter comment '"nattraced-added-2"')
[ -n "$h2" ] || lab_fail "could not insert the second rule"
echo "ok: deleted rule $h1, inserted rule handle $h2 into allowed_dnats"
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "two timelines" 'length == 2'
lab_expect_json "packet 2: the second added rule (handle $h2) appears with its text" '
	.[1].events | any(.chain == "allowed_dnats" and .handle == '"$h2"' and
		(.rule // "" | test("nattraced-added-2")))'
lab_expect_json "packet 2: the deleted rule is not met any more" '
	.[1].events | all(.handle != '"$h1"')'
lab_expect_json "packet 2: the jump rule still shows its text" '
	.[1].events | any(.handle == '"$jump_handle"' and
		.rule == "ct status dnat jump allowed_dnats")'
lab_expect_json "packet 2: no unknown rule" '
	.[1].events | all(.rule // "" | test("unknown") | not)'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
