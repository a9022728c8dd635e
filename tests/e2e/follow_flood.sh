#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --follow under a flood: 5,000 UDP datagrams of one flow, sent as fast as
# one core can, while the connection is followed with --follow-packets 8.
# The kernel itself stops tracing the connection at its bound (a packet
# limit on the follow set's element), so only a few more than 8 packets
# are traced, however fast the flow is and however late the daemon reads
# the events. Before the bound moved into the kernel, all 5,000 were.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
[ -x "$UDPBURST" ] || { echo "no udpburst at $UDPBURST" >&2; exit 1; }
lab_init fflood

PACKETS=8
# One socket, one source port: one flow, one conntrack entry. The router
# accepts it at input (nothing listens: a few rate-limited ICMP errors
# go back, related to the same connection).
lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate 1/second \
	--follow --follow-packets $PACKETS --output json --timeout 4
lab_daemon_ready
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 5000 >/dev/null ||
	lab_fail "udpburst failed"
# the kernel's own account: packets the follow chains traced
traced=$(lab_exec_router nft list table inet trace_debug |
	awk '/chain trace_follow_/{f=1} /^\t}/{f=0}
	     f && /meta nftrace set 1/ {for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1)}
	     END {print n + 0}')
echo "measured: the follow chains traced $traced packets of 5000"
lab_daemon_wait
lab_expect_rc 0
[ "$traced" -le $((PACKETS + 4)) ] ||
	lab_fail "the follow chains traced $traced packets, more than --follow-packets + 4"

n=$(jq -s '[.[] | select(.type == "trace" and .connection != null)] |
	group_by(.connection) | map(length) | max // 0' "$LAB_OUT")
echo "measured: $n timelines of the flooded connection (--follow-packets $PACKETS)"
lab_expect_stats "nothing lost: the count below is every packet traced" \
	'.lost == 0 and .queue_overruns == 0'
lab_expect_json "the flooded connection: at least --follow-packets, at most 4 more timelines" '
	group_by(.connection) | map(select(.[0].connection != null) | length) |
	length == 1 and .[0] >= '$PACKETS' and .[0] <= '$((PACKETS + 4))
lab_expect_jq "its record: ended at the packet bound" '
	[.[] | select(.type == "connection")] | length == 1 and
	(.[0] | .end == "packets" and .packets >= '$PACKETS' and .packets <= '$((PACKETS + 4))')'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
