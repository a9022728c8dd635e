#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/soak.sh [EVENTS] [ROUND]: resident memory of nattraced over a long
# run (default 10,000,000 trace events). Sends traced UDP packets in rounds
# of ROUND (default 50,000, 300,000 events: bursts that go through the
# receive queue) through the lab's router and, after each round, asks the
# daemon for its stats (SIGUSR1) and reads its RSS. Prints RSS each time
# the count passes another 1,000,000 events, then the RSS at 1M and at the
# end side by side. The timelines (text) go to the lab's temporary
# directory, removed at the end.
set -u
. "$(dirname "$0")/lib.sh"
EVENTS=${1:-10000000}
ROUND=${2:-50000}
bench_init soak
lab_exec_router nft add rule inet filter input udp dport 9999 drop

rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
# events: the last stats line's count, after it moved past the previous one
events_now()
{
	sed -n 's/.* \([0-9]*\) events, .*/\1/p' "$LAB_ERR" | tail -1
}

LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err
# not lab_daemon_start: its 45 s backstop is too short for a soak
ip netns exec "$LAB_ROUTER" "$NATTRACED" --match "ip daddr $LAB_WAN4 udp dport 9999" \
	--rate none --output text --stats-interval 0 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
pid=$!
lab_daemon_ready

printf '%10s %10s %10s\n' events rss_kB peak_kB
next=1000000 events=0 rss_1m=
while [ "$events" -lt "$EVENTS" ]; do
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$ROUND" >/dev/null
	sleep 0.3
	before=$(grep -c 'stats:' "$LAB_ERR")
	kill -USR1 "$pid"
	for _ in $(seq 100); do
		[ "$(grep -c 'stats:' "$LAB_ERR")" -gt "$before" ] && break
		sleep 0.05
	done
	events=$(events_now)
	if [ "$events" -ge "$next" ]; then
		rss=$(rss_kb "$pid")
		printf '%10d %10d %10s\n' "$events" "$rss" \
			"$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
		[ -n "$rss_1m" ] || rss_1m=$rss
		next=$(( (events / 1000000 + 1) * 1000000 ))
	fi
done
rss=$(rss_kb "$pid")
grep 'stats:' "$LAB_ERR" | tail -1 | sed 's/^nattraced: /last report: /'
awk -v a="$rss_1m" -v b="$rss" -v e="$events" 'BEGIN {
	printf "RSS at 1M events: %.1f MiB; at %.1fM events: %.1f MiB\n", a / 1024, e / 1e6, b / 1024 }'
kill -INT "$pid"
wait "$pid"
