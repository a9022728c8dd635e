#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# SIGHUP (systemctl reload) re-reads --config and swaps the trace rule in
# one batch: a changed match takes effect (the old port is no longer
# traced, the new one is); a changed hook list moves the trace chains; a
# refused match or a broken file leaves the old trace running and the
# table byte-for-byte as it was, and says why.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init reload
lab_tmp
conf=$LAB_TMP/nattraced.conf

write_conf()
{
	printf '# written by reload.sh\nmatch = %s\nrate = 10/second\n%s' "$1" "${2:-}" >"$conf"
}

daemon_pid()
{
	local p

	for p in $(ip netns pids "$LAB_ROUTER"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = nattraced ] && { echo "$p"; return 0; }
	done
	return 1
}

# hup WHAT: send SIGHUP and wait until stderr has one more line matching WHAT
hup()
{
	local want=$1 before i

	before=$(grep -c -E -- "$want" "$LAB_ERR")
	kill -HUP "$(daemon_pid)" || lab_fail "no nattraced process to signal"
	for i in $(seq 200); do
		[ "$(grep -c -E -- "$want" "$LAB_ERR")" -gt "$before" ] && return 0
		sleep 0.05
	done
	lab_fail "after SIGHUP, stderr did not say /$want/"
}

# traced PORT: send a SYN to router:PORT; true if a timeline for it appears
traced()
{
	local port=$1 n

	n=$(wc -l <"$LAB_OUT")
	lab_syn "$LAB_WAN4" "$port"
	lab_wait_lines $((n + 1)) 3 || return 1
	tail -n +$((n + 1)) "$LAB_OUT" | jq -e -s "any(.packet.dport == $port)" >/dev/null
}

table()
{
	lab_exec_router nft list table inet trace_debug
}

write_conf "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn"
lab_daemon_start --config "$conf" --output json --timeout 40
lab_daemon_ready
traced 1222 || lab_fail "the first match does not trace port 1222"
echo "ok: the match from --config traces port 1222"

write_conf "ip daddr 198.51.100.1 tcp dport 1333 tcp flags syn"
hup "reloaded: tracing 'ip daddr 198.51.100.1 tcp dport 1333"
table | grep -q "dport 1333" || lab_fail "the table does not hold the new match: $(table)"
table | grep -q "dport 1222" && lab_fail "the table still holds the old match: $(table)"
[ "$(table | grep -c 'meta nftrace set 1')" = 2 ] ||
	lab_fail "expected one trace rule in each of 2 chains: $(table)"
traced 1222 && lab_fail "port 1222 is still traced after the reload"
traced 1333 || lab_fail "port 1333 is not traced after the reload"
echo "ok: reload swapped the match: 1333 traced, 1222 no longer"

write_conf "ip daddr 198.51.100.1 tcp dport 1333 tcp flags syn" "hooks = prerouting,input
"
hup "reloaded: tracing .* at prerouting,input"
table | grep -q "chain trace_input" || lab_fail "no trace_input chain after the reload: $(table)"
table | grep -q "chain trace_output" && lab_fail "trace_output is still there: $(table)"
traced 1333 || lab_fail "port 1333 is not traced after the hooks changed"
echo "ok: reload moved the trace chains to prerouting,input"

table >"$LAB_TMP/before"
for bad in "ip daddr 198.51.100.1 counter|counter" \
	"ip daddr 198.51.100.1 accept|verdict or terminal statement" \
	"ip dadr 198.51.100.1|refused" \
	"tcp dport 1; flush ruleset|;"; do
	write_conf "${bad%%|*}" "hooks = prerouting,input
"
	hup "reload refused: .*${bad#*|}.*; still tracing 'ip daddr 198.51.100.1 tcp dport 1333"
	table >"$LAB_TMP/after"
	cmp -s "$LAB_TMP/before" "$LAB_TMP/after" ||
		lab_fail "a refused reload changed the table: $(diff "$LAB_TMP/before" "$LAB_TMP/after")"
	echo "ok: refused '${bad%%|*}', table unchanged"
done
printf 'match = tcp dport 1\nbogus = 1\n' >"$conf"
hup "reload refused: .*nattraced.conf:2: unknown key 'bogus'"
rm -f "$conf"
hup "reload refused: cannot read configuration"
table >"$LAB_TMP/after"
cmp -s "$LAB_TMP/before" "$LAB_TMP/after" || lab_fail "a broken file changed the table"
echo "ok: a broken or missing file is refused with file and line, table unchanged"
traced 1333 || lab_fail "the old trace stopped after refused reloads"
echo "ok: the old trace still runs"

kill -TERM "$(daemon_pid)"
lab_daemon_wait
lab_expect_rc 0
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
