#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A big chain (issue 21): the router gets one extra table, built with one
# `nft -f`, whose forward chain at priority -10 jumps to a chain of 70,010
# rules `ip daddr 10.x.y.z tcp dport P counter accept comment "svc-i"`.
# The 70,001st matches the forwarded SYN (a counter, no verdict), so the
# packet meets a rule past the 65,536th, where the rule cache used to stop
# naming rules without a word. Asserted: that rule's text and the jump's,
# no event without its text, and nothing unnamed in the stop account.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init bigchain awk
lab_tmp

RULES=70010
HIT=70000 # 0-based: the 70,001st rule
HIT_TEXT='ip daddr 203.0.113.10 tcp dport 22 counter comment "big-hit"'
awk -v n="$RULES" -v hit="$HIT" -v text="$HIT_TEXT" 'BEGIN {
	print "table ip big {"
	print "\tchain bigfwd {"
	print "\t\ttype filter hook forward priority -10; policy accept;"
	print "\t\tjump services"
	print "\t}"
	print "\tchain services {"
	for (i = 0; i < n; i++) {
		if (i == hit) {
			print "\t\t" text
			continue
		}
		printf "\t\tip daddr 10.%d.%d.%d tcp dport %d counter accept comment \"svc-%d\"\n",
			int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000, i
	}
	print "\t}"
	print "}"
}' >"$LAB_TMP/big.nft"
lab_exec_router nft -f "$LAB_TMP/big.nft" || lab_fail "nft -f of $RULES rules failed"
echo "ok: loaded a chain of $RULES rules"

lab_daemon_start --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" \
	--rate none --count 1 --output json --timeout 40
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "one timeline" 'length == 1'
lab_expect_json "the jump to the big chain is named" '
	.[0].events | any(.chain == "bigfwd" and .rule == "jump services")'
lab_expect_json "the rule past the 65,536th is named, with its text" '
	.[0].events | any(.chain == "services" and .handle > 65536 and
		.rule == "'"${HIT_TEXT//\"/\\\"}"'")'
lab_expect_json "every event with a rule handle has its text" '
	.[0].events | all(.handle == null or .rule != null)'
lab_expect_json "still dropped in allowed_dnats after the big chain" '
	.[0].verdict == "drop" and .[0].cause.chain == "allowed_dnats"'
lab_expect_stats "no rule text left unread by a bound" '.rules_unnamed == 0'
echo "PASS"
