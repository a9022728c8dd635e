#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/burst.sh [PACKETS] [RUNS]: a burst of traced UDP packets (default
# 50,000) through the lab's router, with nattraced and `nft monitor trace`
# listening at the same time. Prints, per run, packets selected (the trace
# rule's counter), packets each tool captured, capture %, CPU seconds per
# 1,000 trace events and peak RSS.
#
# Needs root and a build (bash contrib/setup-debian.sh). Everything runs in
# the lab's own network namespaces (tests/lib/lab.sh).
set -u
. "$(dirname "$0")/lib.sh"
PACKETS=${1:-50000}
RUNS=${2:-3}
bench_init bench

# The drop makes the last event of each packet easy to count in nft's text.
lab_exec_router nft add rule inet filter input udp dport 9999 drop

# cpu_s PID: user + system seconds. rss_mb PID: peak resident MiB.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
nat_out=$LAB_TMP/nattraced.json
nft_out=$LAB_TMP/nft.txt

printf '%-4s %-10s %-9s %9s %8s %14s %9s\n' run tool selected captured capture% cpu_s/1k_events peak_rss
for run in $(seq "$RUNS"); do
	lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
		--output json --stats-interval 0
	lab_daemon_ready
	mv "$LAB_OUT" "$nat_out"; LAB_OUT=$nat_out
	nat_pid=$(lab_daemon_pid)
	ip netns exec "$LAB_ROUTER" nft monitor trace >"$nft_out" 2>&1 &
	nft_pid=$!
	sleep 1	# nft lists the ruleset, then subscribes

	lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$PACKETS" >/dev/null

	# Settled: neither output grows any more.
	prev=
	for _ in $(seq 120); do
		sleep 0.5
		cur="$(stat -c %s "$nat_out" "$nft_out" | tr '\n' ' ')"
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	nat_cpu=$(cpu_s "$nat_pid"); nat_rss=$(rss_mb "$nat_pid")
	nft_cpu=$(cpu_s "$nft_pid"); nft_rss=$(rss_mb "$nft_pid")
	kill -INT "$nat_pid"; lab_daemon_wait
	kill "$nft_pid"; wait "$nft_pid" 2>/dev/null

	stats=$(jq -c 'select(.type == "stats" and .reason == "exit")' "$nat_out")
	selected=$(jq -r .selected <<<"$stats")
	nat_events=$(jq -r .events <<<"$stats")
	nat_got=$(jq -c 'select(.type == "trace" and .complete and .verdict == "drop")' "$nat_out" | wc -l)
	nft_got=$(grep -c 'rule udp dport 9999 drop (verdict drop)' "$nft_out")
	nft_events=$(grep '^trace id' "$nft_out" | grep -vc ' packet: ')
	for tool in nattraced nft; do
		if [ $tool = nattraced ]; then
			got=$nat_got cpu=$nat_cpu ev=$nat_events rss=$nat_rss
		else
			got=$nft_got cpu=$nft_cpu ev=$nft_events rss=$nft_rss
		fi
		awk -v r="$run" -v t="$tool" -v s="$selected" -v g="$got" -v c="$cpu" -v e="$ev" -v m="$rss" 'BEGIN {
			printf "%-4s %-10s %-9d %9d %7.2f%% %14.4f %7s MiB\n", r, t, s, g,
				s ? 100 * g / s : 0, e ? 1000 * c / e : 0, m }'
	done
	[ "$nft_got" -eq 0 ] && grep -m3 -v '^trace id' "$nft_out" >&2
	echo "     (nattraced: $nat_events events in ${nat_cpu}s; nft: $nft_events events in ${nft_cpu}s; lost $(jq -r .lost <<<"$stats"), ENOBUFS $(jq -r .enobufs <<<"$stats"))"
	rm -f "$nat_out" "$nft_out"
done
