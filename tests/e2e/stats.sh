#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Capture accounting against the trace rule's counter: periodic and SIGUSR1
# reports, and an exact account at exit after the daemon was made to lose
# events (stopped with SIGSTOP while a burst overflowed its socket buffer).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
[ -x "$UDPBURST" ] || { echo "no udpburst at $UDPBURST" >&2; exit 1; }
lab_init stats

# Traced UDP to the router itself, dropped at input: 6 events per packet.
lab_exec_router nft add rule inet filter input udp dport 9999 drop ||
	lab_fail "cannot add the drop rule"
burst() { lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$1" >/dev/null; }

# wait_stats REASON JQ-FILTER: until a stats object of that reason matches.
wait_stats()
{
	for _ in $(seq 200); do
		jq -e -s "any(.[]; .type == \"stats\" and .reason == \"$1\" and ($2))" \
			"$LAB_OUT" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
	--output json --stats-interval 1
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "cannot find the nattraced process"

burst 300
wait_stats interval '.selected == 300 and .emitted == 300 and .lost == 0' ||
	lab_fail "no periodic report with 300 selected and 300 emitted"
echo "ok: --stats-interval 1 reported 300 selected, 300 emitted, 0 lost"

kill -USR1 "$pid"
wait_stats signal '.selected == 300 and .complete == 300 and .in_flight == 0' ||
	lab_fail "no report on SIGUSR1"
echo "ok: SIGUSR1 reported at once"

# Stopped, the daemon cannot read: the burst overflows its 16 MiB buffer.
kill -STOP "$pid"
burst 30000
kill -CONT "$pid"
sleep 1
kill -INT "$pid"
lab_daemon_wait
lab_expect_rc 0
lab_expect_stats "exit: every selected packet is a timeline or counted lost" '
	.selected == 30300 and .complete + .incomplete + .lost == .selected
	and .emitted == .complete + .incomplete and .in_flight == 0'
lab_expect_stats "exit: the overrun is counted and packets were lost" '
	.enobufs >= 1 and .lost >= 1'
lab_expect_json "no timeline that lost events claims to be complete" '
	all(.complete == false or (.events | length) == 3)'
grep -q "receive buffer overrun" "$LAB_ERR" ||
	lab_fail "the overrun was not logged"
echo "ok: the overrun was logged"

# --count under a flood (issue 19): the daemon stops after 3 timelines
# while the counter runs on, then groups what it had read. The account
# said "715 packets selected" beside 2,000 complete.
lab_daemon_start --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
	--output json --stats-interval 0 --count 3
lab_daemon_ready
burst 2000
lab_daemon_wait
lab_expect_rc 0
lab_expect_stats "--count 3 under a flood: the account balances" '
	.complete + .incomplete + .lost + .in_flight == .selected
	and .emitted == 3 and .complete + .incomplete >= 3'
stopline_check "$LAB_TMP" || lab_fail "an account does not balance"
echo "PASS"
