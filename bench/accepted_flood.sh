#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/accepted_flood.sh [PACKETS] [FLOWS]: accepted packets must not wait
# out the idle time in the timeline table (issue 12). Sends PACKETS
# (default 200,000) traced UDP packets as fast as one core can through the
# lab router's forward path to the server, spread over FLOWS destination
# ports (default 50,000: new conntrack entries, which pass the nat chains;
# 1: one flow, whose later packets skip them), with nattraced at its
# default options (--rate none) and prints how many timelines were evicted
# from the full table and how many ended at once at their final accept.
set -u
. "$(dirname "$0")/lib.sh"
PACKETS=${1:-200000}
FLOWS=${2:-50000}
bench_init aflood
lab_exec_router nft insert rule inet filter forward udp dport '>= 10000' accept
lab_exec_router sysctl -qw net.netfilter.nf_conntrack_max=1048576 2>/dev/null

lab_daemon_start --match "ip daddr $LAB_SERVER4 udp dport >= 10000" --rate none \
	--output json --stats-interval 0
lab_daemon_ready
pid=$(lab_daemon_pid)
start=$(date +%s.%N)
lab_exec_client "$UDPBURST" "$LAB_SERVER4" 10000 "$PACKETS" 0 "$FLOWS" >/dev/null
end=$(date +%s.%N)
sleep 2
kill -INT "$pid"
[ -n "${KEEP:-}" ] && cp "$LAB_OUT" /tmp/aflood.json
lab_daemon_wait
jq -r --arg secs "$(echo "$end - $start" | bc -l)" --arg n "$PACKETS" --arg f "$FLOWS" '
	select(.type == "stats" and .reason == "exit") |
	"\($n) packets over \($f) flows in \($secs | tonumber * 1000 | floor) ms (\($n | tonumber / ($secs | tonumber) | floor)/s)\n" +
	"selected \(.selected), complete \(.complete), incomplete \(.incomplete), evicted \(.evicted), lost \(.lost), enobufs \(.enobufs), queue overruns \(.queue_overruns)"' \
	"$LAB_OUT"
echo "ended at their final accept: $(jq -s '[.[] | select(.type == "trace" and .verdict == "accept")] | length' "$LAB_OUT") accepted timelines"
