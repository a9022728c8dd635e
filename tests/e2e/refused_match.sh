#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A match that is more than a match is refused: exit status 2, a message on
# stderr that names the problem, the router's ruleset byte-for-byte as it
# was, and no trace table left. A few legitimate matches are accepted.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init refuse
lab_tmp

nl=$'\n'
# match|extended regex that the message on stderr must match (case-insensitive)
hostile=(
	"ip daddr 192.0.2.1; flush ruleset|;|command|flush"
	"ip daddr 192.0.2.1${nl}flush ruleset|newline|line|command|flush"
	"ip daddr 192.0.2.1 #|#|comment"
	"ip daddr 192.0.2.1 counter|statement 'counter' is not a match"
	"ip daddr 192.0.2.1 meta nftrace set 0|statement 'meta nftrace set' is not a match"
	"ip daddr 192.0.2.1 meta mark set 1|mark|meta|statement|set"
	"ip daddr 192.0.2.1 accept|refused: .*verdict or terminal statement"
	"ip daddr 192.0.2.1 drop|refused: .*verdict or terminal statement"
	"ip daddr 192.0.2.1 jump allowed_dnats|refused: .*verdict or terminal statement"
	"ip daddr 192.0.2.1 log|statement 'log' is not a match"
	"ip daddr 192.0.2.1 limit rate 1/second|statement 'limit' is not a match"
	"ip daddr 192.0.2.1 reject|refused: .*verdict or terminal statement"
	"ip daddr 192.0.2.1 queue|refused: .*verdict or terminal statement"
	"tcp dport 22 dnat ip to 192.0.2.9|refused: .*verdict or terminal statement"
	"ip daddr 192.0.2.1 tcp dport {|syntax|error|unexpected|invalid|never closed|unbalanced|brace"
	"ip dadr 192.0.2.1|syntax|error|unexpected|invalid"
)

lab_exec_router nft list ruleset >"$LAB_TMP/before" ||
	lab_fail "cannot list the router's ruleset"

fails=0
for entry in "${hostile[@]}"; do
	match=${entry%%|*}
	want=${entry#*|}
	shown=${match//$nl/\\n}
	lab_run --match "$match" --count 1 --output json --timeout 2
	lab_exec_router nft list ruleset >"$LAB_TMP/after"
	problems=()
	[ "$LAB_RC" = 2 ] || problems+=("exit status $LAB_RC, expected 2")
	[ -s "$LAB_ERR" ] || problems+=("nothing on stderr")
	grep -qiE -- "$want" "$LAB_ERR" ||
		problems+=("stderr does not name the problem (expected /$want/)")
	cmp -s "$LAB_TMP/before" "$LAB_TMP/after" ||
		problems+=("ruleset changed: $(diff "$LAB_TMP/before" "$LAB_TMP/after" | head -20)")
	lab_has_table trace_debug && problems+=("a trace_debug table is left")
	if [ ${#problems[@]} -gt 0 ]; then
		fails=$((fails + 1))
		echo "FAIL: --match '$shown':" >&2
		printf '  %s\n' "${problems[@]}" >&2
		lab_show_daemon
		# a refused match must never leave anything behind for the next case
		lab_exec_router nft delete table inet trace_debug 2>/dev/null
	else
		echo "ok: refused '$shown': $(head -1 "$LAB_ERR")"
	fi
done

# A misspelt word: nft's marks stand under it in the user's match, not under
# the batch line nattraced built (issue 23, part 7); a word nft did not mark
# inside the match gets no marks at all.
marked=(
	"tcp dprt 22|  tcp dprt 22|      ^^^^"
	"ip daddr 192.0.2.1 tcp dport 22 udp dport 53|  ip daddr 192.0.2.1 tcp dport 22 udp dport 53|                                  ^^^^^^^^^"
)
for entry in "${marked[@]}"; do
	IFS='|' read -r match line marks <<<"$entry"
	lab_run --match "$match" --count 1 --timeout 2
	if [ "$LAB_RC" = 2 ] && grep -qxF -- "$line" "$LAB_ERR" &&
		[ "$(grep -xF -A1 -- "$line" "$LAB_ERR" | tail -1)" = "$marks" ]; then
		echo "ok: marks under '$match'"
	else
		fails=$((fails + 1))
		echo "FAIL: --match '$match': expected the match and, under it, '$marks'" >&2
		lab_show_daemon
	fi
done
# From a configuration file: the file and the line to edit come first.
printf '# refused_match\nrate = 1/second\nmatch = tcp dprt 22\n' >"$LAB_TMP/refused.conf"
lab_run --config "$LAB_TMP/refused.conf" --count 1 --timeout 2
if [ "$LAB_RC" = 2 ] &&
	grep -qxF -- "nattraced: $LAB_TMP/refused.conf:3: match refused by nft: syntax error, unexpected string" "$LAB_ERR" &&
	[ "$(grep -xF -A1 -- "  tcp dprt 22" "$LAB_ERR" | tail -1)" = "      ^^^^" ]; then
	echo "ok: the configuration file's line, and the marks under its match"
else
	fails=$((fails + 1))
	echo "FAIL: --config with 'match = tcp dprt 22': expected FILE:3: and the marks" >&2
	lab_show_daemon
fi
lab_run --match "ip daddr @nosuchset" --count 1 --timeout 2
if [ "$LAB_RC" = 2 ] && ! grep -q '\^' "$LAB_ERR"; then
	echo "ok: no marks where nft marked only our own words: $(head -1 "$LAB_ERR")"
else
	fails=$((fails + 1))
	echo "FAIL: --match 'ip daddr @nosuchset': marks shown, or exit status $LAB_RC" >&2
	lab_show_daemon
fi

# Legitimate matches are accepted: they run until --timeout (exit 3).
legit=(
	'ip daddr 192.0.2.1 tcp dport { 22, 80 }'
	'iifname "wan0" ip saddr 198.51.100.0/24 tcp dport 1000-2000'
	'ip6 daddr 2001:db8::/32 meta l4proto udp'
	'ip daddr . tcp dport { 192.0.2.1 . 22 }'
)
for match in "${legit[@]}"; do
	lab_run --match "$match" --count 1 --output json --timeout 1
	if [ "$LAB_RC" != 3 ]; then
		fails=$((fails + 1))
		echo "FAIL: legitimate --match '$match': exit status $LAB_RC, expected 3 (timeout)" >&2
		lab_show_daemon
	else
		echo "ok: accepted '$match'"
	fi
done
lab_wait_no_table || lab_fail "table trace_debug still exists at the end"
lab_exec_router nft list ruleset >"$LAB_TMP/after"
cmp -s "$LAB_TMP/before" "$LAB_TMP/after" ||
	lab_fail "the ruleset changed: $(diff "$LAB_TMP/before" "$LAB_TMP/after")"

[ "$fails" -eq 0 ] || { echo "FAIL: $fails case(s) failed" >&2; exit 1; }
echo "PASS"
