#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/soak.sh [EVENTS]: resident memory of nattraced over a long run
# (default 1,000,000 trace events). Sends traced UDP packets in rounds of
# 10,000 through the lab's router and, after each round, asks the daemon
# for its stats (SIGUSR1) and reads its RSS. Prints RSS each time the
# count passes another 100,000 events. The timelines (text) go to the lab's
# temporary directory, removed at the end.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
EVENTS=${1:-1000000}
NATTRACED=${NATTRACED:-$here/build/nattraced}
UDPBURST=${UDPBURST:-$here/build/tests/udpburst}
for bin in "$NATTRACED" "$UDPBURST"; do
	[ -x "$bin" ] || { echo "bench: no $bin; run: bash contrib/setup-debian.sh" >&2; exit 1; }
done
# shellcheck source=../tests/lib/lab.sh
. "$here/tests/lib/lab.sh"
LAB_QUIET=1
lab_skip_unless_possible
lab_trap
lab_up soak >/dev/null || exit 1
lab_exec_router nft add rule inet filter input udp dport 9999 drop

rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
# events: the last stats line's count, after it moved past the previous one
events_now()
{
	sed -n 's/.* \([0-9]*\) events, .*/\1/p' "$LAB_ERR" | tail -1
}

lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
	--output text --stats-interval 0
lab_daemon_ready
pid=$(lab_daemon_pid)

printf '%10s %10s %10s\n' events rss_kB peak_kB
next=100000 events=0
while [ "$events" -lt "$EVENTS" ]; do
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 10000 >/dev/null
	sleep 0.3
	before=$(grep -c 'stats:' "$LAB_ERR")
	kill -USR1 "$pid"
	for _ in $(seq 100); do
		[ "$(grep -c 'stats:' "$LAB_ERR")" -gt "$before" ] && break
		sleep 0.05
	done
	events=$(events_now)
	if [ "$events" -ge "$next" ]; then
		printf '%10d %10d %10s\n' "$events" "$(rss_kb "$pid")" \
			"$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
		next=$(( (events / 100000 + 1) * 100000 ))
	fi
done
grep 'stats:' "$LAB_ERR" | tail -1 | sed 's/^nattraced: /last report: /'
kill -INT "$pid"
lab_daemon_wait
