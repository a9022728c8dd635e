#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/compare.sh [BURST] [RUNS] [PACED] [RATE]: nattraced against
# `nft monitor trace` and a minimal reader (bench/minreader.c: recvmmsg
# into a 64 MiB buffer, discard), all three listening to the same trace
# stream at once in the lab's router namespace (tests/lib/lab.sh).
#
# Per run, two phases with fresh listeners:
#   burst  BURST traced UDP packets (default 50,000) as fast as one core
#          sends them (udpburst), dropped at the router's input: 6 trace
#          events per packet. Capture: complete timelines / packets
#          selected (the trace rule's counter) for nattraced; messages /
#          (selected x events per packet) for the minimal reader; packets
#          whose drop it printed / selected for nft.
#   paced  PACED packets (default 20,000) at RATE a second (default
#          6,000). CPU per packet: CPU time (all threads, ns from
#          /proc/PID/task/*/schedstat) spent from the first packet until
#          the outputs settle, divided by the packets selected, and by the
#          packets captured (a listener that loses events never reads
#          them: nft at 6,000/s on 2 cores; the ratios use this one).
# Then the ratios nattraced/nft and nattraced/minimal of CPU per packet,
# and each listener's peak RSS (VmHWM).
#
# nattraced runs as `--rate none --output json --stats-interval 0` with its
# output to a file. Needs root and a build (bash contrib/setup-debian.sh);
# everything runs in the lab's own namespaces, removed on exit.
set -u
. "$(dirname "$0")/lib.sh"
BURST=${1:-50000}
RUNS=${2:-3}
PACED=${3:-20000}
RATE=${4:-6000}
NATTRACED_ARGS=${NATTRACED_ARGS:-}
command -v cc >/dev/null || { echo "bench: needs cc" >&2; exit 1; }
bench_init cmp jq nft
MINREADER=$LAB_TMP/minreader
cc -O2 -Wall -o "$MINREADER" "$here/bench/minreader.c" || exit 1

lab_exec_router nft add rule inet filter input udp dport 9999 drop || exit 1
MATCH="ip daddr $LAB_WAN4 udp dport 9999"

# cpu_ns PID: CPU time of all its threads so far, in ns.
cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'
}

# start: the three listeners, in the router namespace; sets *_pid, *_out.
start()
{
	min_out=$LAB_TMP/min.$1 nat_out=$LAB_TMP/nat.$1 nft_out=$LAB_TMP/nft.$1
	nat_err=$LAB_TMP/nat.err.$1
	ip netns exec "$LAB_ROUTER" "$MINREADER" >"$min_out" 2>&1 &
	min_pid=$!
	# shellcheck disable=SC2086
	ip netns exec "$LAB_ROUTER" "$NATTRACED" --match "$MATCH" --rate none \
		--output json --stats-interval 0 $NATTRACED_ARGS >"$nat_out" 2>"$nat_err" </dev/null &
	nat_pid=$!
	ip netns exec "$LAB_ROUTER" nft monitor trace >"$nft_out" 2>&1 &
	nft_pid=$!
	lab_wait_table trace_debug 10 || { cat "$nat_err" >&2; exit 1; }
	for _ in $(seq 100); do
		grep -q listening "$min_out" && break
		sleep 0.05
	done
	sleep 1	# nft lists the ruleset, then subscribes
}

# settle: until none of the outputs grows for a second (at most 120 s).
settle()
{
	local prev='' cur
	for _ in $(seq 240); do
		sleep 0.5
		cur="$(stat -c %s "$nat_out" "$nft_out" | tr '\n' ' ')$(cpu_ns "$min_pid")"
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
}

# stop: end the listeners, read what they got.
stop()
{
	min_rss=$(rss_mib "$min_pid") nat_rss=$(rss_mib "$nat_pid") nft_rss=$(rss_mib "$nft_pid")
	kill -INT "$nat_pid"; wait "$nat_pid"
	kill -TERM "$min_pid"; wait "$min_pid"
	kill "$nft_pid"; wait "$nft_pid" 2>/dev/null
	stats=$(jq -c 'select(.type == "stats" and .reason == "exit")' "$nat_out")
	selected=$(jq -r .selected <<<"$stats")
	nat_got=$(jq -c 'select(.type == "trace" and .complete and .verdict == "drop")' "$nat_out" | wc -l)
	nft_got=$(grep -c 'rule udp dport 9999 drop (verdict drop)' "$nft_out")
	min_msgs=$(awk '/^messages/ { print $2 }' "$min_out")
	min_enobufs=$(awk '/^messages/ { print $6 }' "$min_out")
}

pct() { awk -v g="$1" -v s="$2" 'BEGIN { printf "%.2f%%", s ? 100 * g / s : 0 }'; }
row() { printf '%-4s %-6s %-10s %9s %12s %9s %16s %9s MiB  %s\n' "$@"; }

results=$LAB_TMP/results
: >"$results"
events_per_packet=

for run in $(seq "$RUNS"); do
	# -- paced: CPU per packet, everyone keeping up
	start paced
	cpu0_min=$(cpu_ns "$min_pid") cpu0_nat=$(cpu_ns "$nat_pid") cpu0_nft=$(cpu_ns "$nft_pid")
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$PACED" "$RATE" >/dev/null
	settle
	cpu_min=$(( $(cpu_ns "$min_pid") - cpu0_min ))
	cpu_nat=$(( $(cpu_ns "$nat_pid") - cpu0_nat ))
	cpu_nft=$(( $(cpu_ns "$nft_pid") - cpu0_nft ))
	stop
	# the events a packet makes, from the reader that keeps up
	[ -n "$events_per_packet" ] || events_per_packet=$(( (min_msgs + selected / 2) / selected ))
	upk() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.2f", s ? c / s / 1000 : 0 }'; }
	min_pkts=$(( min_msgs / events_per_packet ))
	echo "paced $run $selected $min_msgs $nat_got $nft_got $(upk $cpu_min "$selected")/$(upk $cpu_min $min_pkts) $(upk $cpu_nat "$selected")/$(upk $cpu_nat "$nat_got") $(upk $cpu_nft "$selected")/$(upk $cpu_nft "$nft_got") $min_rss $nat_rss $nft_rss $min_enobufs $(jq -r '.enobufs, .queue_overruns, .lost' <<<"$stats" | tr '\n' ' ')" >>"$results"

	# -- burst: capture
	start burst
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$BURST" >/dev/null
	settle
	stop
	echo "burst $run $selected $min_msgs $nat_got $nft_got - - - $min_rss $nat_rss $nft_rss $min_enobufs $(jq -r '.enobufs, .queue_overruns, .lost' <<<"$stats" | tr '\n' ' ')" >>"$results"
done

echo "nattraced $("$NATTRACED" --version | awk '{ print $2 }') ($(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')); $(nproc) cores; kernel $(uname -r); $events_per_packet trace events per packet"
echo "burst: $BURST packets as fast as one core sends; paced: $PACED packets at $RATE/s"
echo "cpu_us/pkt: CPU us per packet selected / per packet captured"
echo
row run phase tool selected captured capture% cpu_us/pkt peak_rss notes
while read -r phase run sel mmsg ngot fgot cmin cnat cnft rmin rnat rnft menob nenob nover nlost; do
	row "$run" "$phase" minimal "$sel" "$mmsg msgs" "$(pct "$mmsg" $((sel * events_per_packet)))" "$cmin" "$rmin" "enobufs $menob"
	row "$run" "$phase" nattraced "$sel" "$ngot" "$(pct "$ngot" "$sel")" "$cnat" "$rnat" "enobufs $nenob, queue overruns $nover, lost $nlost"
	row "$run" "$phase" nft "$sel" "$fgot" "$(pct "$fgot" "$sel")" "$cnft" "$rnft" ""
done <"$results"
echo
echo "CPU per packet captured on the paced stream, ratios:"
awk '$1 == "paced" { split($7, m, "/"); split($8, n, "/"); split($9, f, "/")
	printf "  run %s: nattraced/nft %.3f (1/%.0f), nattraced/minimal %.2f\n", $2,
	f[2] ? n[2] / f[2] : 0, n[2] ? f[2] / n[2] : 0, m[2] ? n[2] / m[2] : 0 }' "$results"
