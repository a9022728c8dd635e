#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --metrics-file under a flood over 5,000 distinct deciding rules: a
# generated ruleset drops UDP port 20000+N by its own rule N, and 10,000
# datagrams go to 5,000 ports. The metrics file, rewritten every second
# and at exit, must stay a valid exposition with at most 500 series of
# nattraced_timelines_total, the rest summed into handle="other", and
# count every timeline; nattraced opens no listening socket for it.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
[ -x "$UDPBURST" ] || { echo "no udpburst at $UDPBURST" >&2; exit 1; }
lab_init metrics
lab_tmp || exit 1
RULES=5000
PACKETS=10000
prom_dir=$LAB_TMP/textfile
mkdir -p "$prom_dir"
prom=$prom_dir/nattraced.prom

# One rule per port, loaded in one transaction.
{
	echo 'table inet flood {'
	echo '	chain in { type filter hook input priority -10; policy accept;'
	for i in $(seq 0 $((RULES - 1))); do
		echo "		udp dport $((20000 + i)) drop"
	done
	echo '	}'
	echo '}'
} >"$LAB_TMP/flood.nft"
lab_exec_router nft -f "$LAB_TMP/flood.nft" || lab_fail "cannot load the generated ruleset"

# A text line exposition: HELP, TYPE, or name{label="value",...} number.
check_exposition() {
	awk '
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
	/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)$/ { if (typed[$3]++) bad = bad " twice:" $3; next }
	/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*",?)*\})? [0-9.e+-]+$/ {
		name = $0; sub(/[{ ].*/, "", name)
		if (!typed[name]) bad = bad " untyped:" name
		next
	}
	{ bad = bad " line " NR ": " $0 }
	END { if (bad != "") { print bad; exit 1 } }' "$1"
}

lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 20000-24999" --rate none \
	--output json --stats-interval 1 --timeout 60 --metrics-file "$prom" \
	--pcap "$LAB_TMP/flood.pcapng"
lab_daemon_ready
[ -f "$prom" ] || lab_fail "no metrics file at start"
check_exposition "$prom" || lab_fail "the metrics file at start is not the text format"
pid=$(lab_daemon_pid) || lab_fail "no daemon pid"
# no socket that listens, of any kind but netlink and unix
if lab_exec_router ss -H -l -n -p -t -u | grep -q "pid=$pid,"; then
	lab_fail "nattraced listens on a socket"
fi
lab_exec_client "$UDPBURST" "$LAB_WAN4" 20000 $PACKETS 2500 $RULES >/dev/null ||
	lab_fail "udpburst failed"
# until the daemon has written every timeline the counter selected (or 30 s)
for _ in $(seq 60); do
	sleep 0.5
	done_n=$(jq -s '[.[] | select(.type == "trace")] | length' "$LAB_OUT" 2>/dev/null || echo 0)
	[ "$done_n" -ge $PACKETS ] && break
done
# mid-run: a valid file, replaced whole each second
check_exposition "$prom" || lab_fail "the metrics file during the run is not the text format"
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
check_exposition "$prom" || lab_fail "the metrics file at exit is not the text format"
# Prometheus' own checker, where it is installed (contrib/setup-debian.sh)
if command -v promtool >/dev/null; then
	promtool check metrics <"$prom" >"$LAB_TMP/promtool.out" 2>&1 ||
		lab_fail "promtool check metrics refused the file: $(head -5 "$LAB_TMP/promtool.out")"
	echo "ok: promtool check metrics accepts the file"
else
	echo "note: no promtool here; the format was checked against its specification only"
fi
echo "metrics file: $(stat -c %s "$prom") bytes, $(grep -c '^nattraced_timelines_total{' "$prom") series"
find "$prom_dir" -mindepth 1 ! -name nattraced.prom | grep . && lab_fail "temporary files left in the directory"
[ "$(stat -c %a "$prom")" = 644 ] || lab_fail "the metrics file is not 0644 (node_exporter reads it)"

timelines=$(jq -s '[.[] | select(.type == "trace")] | length' "$LAB_OUT")
rules=$(jq -s '[.[] | select(.type == "trace") | .cause.handle] | unique | length' "$LAB_OUT")
echo "measured: $timelines timelines over $rules distinct deciding rules"
[ "$rules" -gt 1000 ] || lab_fail "the flood met only $rules distinct rules"
series=$(grep -c '^nattraced_timelines_total{' "$prom")
[ "$series" -le 500 ] || lab_fail "$series series, more than 500"
sum=$(awk '/^nattraced_timelines_total\{/ { s += $NF } END { print s + 0 }' "$prom")
[ "$sum" -eq "$timelines" ] || lab_fail "the series sum to $sum, the output has $timelines timelines"
other=$(awk '/^nattraced_timelines_total\{.*handle="other"/ { s += $NF } END { print s + 0 }' "$prom")
folded=$(awk '/^nattraced_timelines_folded_series / { print $2 }' "$prom")
echo "measured: $series series, $other timelines in handle=\"other\", $folded label sets folded"
[ "$other" -gt 0 ] || lab_fail "nothing was summed into handle=\"other\""
[ "$folded" -ge $((rules - 500)) ] || lab_fail "$folded label sets counted as folded, $rules rules met"
grep -q '^nattraced_timelines_total{verdict="drop",family="inet",table="flood",chain="in",hook="input",handle="[0-9]*",owner=""} [0-9]*$' "$prom" ||
	lab_fail "no series names a rule of inet flood in"
# the capture counters, equal to the exit statistics
for pair in complete:nattraced_timelines_complete_total incomplete:nattraced_timelines_incomplete_total \
	enobufs:nattraced_enobufs_total queue_overruns:nattraced_queue_overruns_total \
	selected:nattraced_packets_selected_total lost:nattraced_packets_lost; do
	key=${pair%%:*} metric=${pair#*:}
	want=$(jq -s '[.[] | select(.type == "stats" and .reason == "exit")][0].'"$key" "$LAB_OUT")
	grep -qx "$metric $want" "$prom" || lab_fail "$metric is not the exit statistics' $key ($want)"
done
echo "ok: capture counters as the exit statistics"

# both taps at once: the pcap has every timeline too
if command -v tshark >/dev/null; then
	n=$(tshark -r "$LAB_TMP/flood.pcapng" 2>/dev/null | wc -l)
	echo "measured: pcap $(stat -c %s "$LAB_TMP/flood.pcapng") bytes for $n packets"
	[ "$n" -eq "$timelines" ] || lab_fail "the pcap beside the metrics has $n packets, not $timelines"
fi

# A directory that cannot be written: said at start, a runtime error.
lab_run --match "udp dport 1" --timeout 2 --metrics-file /nonexistent/dir/x.prom
lab_expect_rc 1
grep -q -- '--metrics-file /nonexistent/dir/x.prom: cannot write it' "$LAB_ERR" ||
	lab_fail "no message for a --metrics-file that cannot be written"
echo "PASS"
