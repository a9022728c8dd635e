#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The receive queue's bound: with --buffer-size at its minimum (64 KiB,
# a few hundred events) a burst overruns the queue, not the socket. The
# overrun is counted (queue_overruns) and logged, the timelines it cut
# into are marked incomplete, and the account at exit stays exact.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
[ -x "$UDPBURST" ] || { echo "no udpburst at $UDPBURST" >&2; exit 1; }
lab_init qover

# Traced UDP to the router itself, dropped at input: 6 events per packet.
lab_exec_router nft add rule inet filter input udp dport 9999 drop ||
	lab_fail "cannot add the drop rule"

lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
	--output json --stats-interval 0 --buffer-size 64K
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "cannot find the nattraced process"

lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 30000 >/dev/null
# Nothing follows the burst. Its timelines must all end on their own: a
# loss marker left owed (the queue still full when the burst ended) kept
# them in flight until the next datagram (issue 19).
printed=-1
for _ in $(seq 20); do
	sleep 0.5
	now=$(grep -c '"type":"trace"' "$LAB_OUT")
	[ "$now" = "$printed" ] && break
	printed=$now
done
kill -INT "$pid"
lab_daemon_wait
lab_expect_rc 0
lab_expect_stats "exit: every selected packet is a timeline or counted lost" '
	.selected == 30000 and .complete + .incomplete + .lost == .selected
	and .emitted == .complete + .incomplete and .in_flight == 0'
# (the socket may overrun too when parallel tests starve the receive thread)
lab_expect_stats "every timeline ended before the stop, none waited for it" "
	.complete + .incomplete == $printed"
lab_expect_stats "exit: the queue overran" '
	.queue_overruns >= 1 and .complete < .selected'
lab_expect_json "no timeline that lost events claims to be complete" '
	all(.complete == false or (.events | length) == 3)'
grep -q "receive queue overrun" "$LAB_ERR" ||
	lab_fail "the overrun was not logged"
echo "ok: the overrun was logged"
echo "PASS"
