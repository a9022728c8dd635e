#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/natflood.sh [FLOWS] [RUNS]: can a flood of new NATed connections
# overrun the conntrack event socket of --nat-log? The lab's router DNATs
# UDP ports 20000-64999 to the server; udpburst sends one datagram to each
# of FLOWS (default 45,000) ports as fast as one core can: FLOWS new
# conntrack entries, each a "new" event. nattraced --nat-log=all
# --output json listens (and `nft monitor trace` and a minimal trace
# reader do not matter here: no trace; with TRACE=1 it also traces every
# one of these packets, --rate none, so that the main loop is busy with
# their timelines while the NAT events come). Prints per run the flows, the
# entries conntrack made, the mappings nattraced printed, its conntrack
# receive overruns, CPU and peak RSS.
#
# Needs root, conntrack and a build. Everything runs in the lab's own
# namespaces, removed on exit.
set -u
. "$(dirname "$0")/lib.sh"
FLOWS=${1:-45000}
RUNS=${2:-3}
[ "$FLOWS" -le 45000 ] || { echo "bench: at most 45000 flows (one per port)" >&2; exit 2; }
bench_init natfl conntrack jq
lab_exec_router nft add rule inet nat prerouting iifname wan0 udp dport 20000-64999 \
	dnat ip to "$LAB_SERVER4" || exit 1
lab_exec_router nft insert rule inet filter allowed_dnats udp dport 20000-64999 accept || exit 1

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

printf '%-4s %8s %10s %9s %9s %10s %8s %9s\n' run flows ct_entries printed capture enobufs cpu_s peak_rss
for run in $(seq "$RUNS"); do
	lab_exec_router conntrack -F >/dev/null 2>&1
	out=$LAB_TMP/nat.$run err=$LAB_TMP/err.$run
	trace=()
	[ -z "${TRACE:-}" ] || trace=(--match "udp dport 20000-64999" --rate none --stats-interval 0)
	ip netns exec "$LAB_ROUTER" "$NATTRACED" --nat-log=all "${trace[@]}" --output json \
		>"$out" 2>"$err" </dev/null &
	pid=$!
	sleep 1
	[ -z "${TRACE:-}" ] || lab_wait_table trace_debug 10
	start=$(date +%s.%N)
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 20000 "$FLOWS" 0 "$FLOWS" >/dev/null
	sent=$(date +%s.%N)
	prev=
	for _ in $(seq 120); do
		sleep 0.5
		cur=$(stat -c %s "$out")
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	entries=$(lab_exec_router conntrack -C 2>/dev/null)
	cpu=$(cpu_s "$pid") rss=$(rss_mib "$pid")
	kill -INT "$pid"; wait "$pid"
	printed=$(jq -c 'select(.type == "nat" and .event == "new")' "$out" | wc -l)
	[ -z "${TRACE:-}" ] || echo "     (timelines: $(jq -c 'select(.type == "stats" and .reason == "exit") | {selected, complete, incomplete, lost, enobufs, queue_overruns}' "$out"))"
	enobufs=$(sed -n 's/.* \([0-9]*\) receive overruns.*/\1/p' "$err" | tail -1)
	printf '%-4s %8s %10s %9s %8.2f%% %10s %8s %5s MiB\n' "$run" "$FLOWS" "$entries" "$printed" \
		"$(awk -v p="$printed" -v f="$FLOWS" 'BEGIN { print 100 * p / f }')" "${enobufs:-?}" "$cpu" "$rss"
	echo "     (sent in $(awk -v a="$start" -v b="$sent" 'BEGIN { printf "%.2f", b - a }') s)"
done
