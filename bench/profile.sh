#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/profile.sh [PACKETS] [RATE] [TOP]: where nattraced spends its CPU
# on a paced stream. Runs it (--rate none --output json to a file) under
# `perf record -e cpu-clock -g` (attached once it runs, so the start is
# not in the profile) in the lab's router namespace while
# udpburst sends PACKETS (default 20,000) traced UDP packets at RATE a
# second (default 6,000), then prints the TOP (default 25) symbols by
# self time. cpu-clock is a software event: it works where hardware
# counters are not available (VMs).
#
# Needs root, perf (linux-perf) and a build.
set -u
. "$(dirname "$0")/lib.sh"
PACKETS=${1:-20000}
RATE=${2:-6000}
TOP=${3:-25}
command -v perf >/dev/null || { echo "bench: needs perf (apt-get install linux-perf)" >&2; exit 1; }
bench_init prof
lab_exec_router nft add rule inet filter input udp dport 9999 drop || exit 1

ip netns exec "$LAB_ROUTER" "$NATTRACED" --match "ip daddr $LAB_WAN4 udp dport 9999" \
	--rate none --output json --stats-interval 0 >"$LAB_TMP/out.json" 2>"$LAB_TMP/err" </dev/null &
nat_pid=$!
lab_wait_table trace_debug 10 || { cat "$LAB_TMP/err" >&2; exit 1; }
# attached once it runs: the profile is the stream, not the start
perf record -q -e cpu-clock -F 4999 -g -p "$nat_pid" -o "$LAB_TMP/perf.data" 2>/dev/null &
perf_pid=$!
sleep 1
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$PACKETS" "$RATE" >/dev/null
sleep 1
kill -INT "$perf_pid"
wait "$perf_pid"
kill -INT "$nat_pid"
wait "$nat_pid"
grep stopped "$LAB_TMP/err"
[ -z "${PERF_DATA:-}" ] || cp "$LAB_TMP/perf.data" "$PERF_DATA"
perf report -i "$LAB_TMP/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
	grep -v '^#' | grep '%' | grep -v '^ *|' | grep -v -- '--' | head -n "$TOP"
