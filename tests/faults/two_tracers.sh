#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two tracers side by side (issue 11 item 1, the lead's fix in timeline.c):
# trace_a on udp dport 9999, trace_b on udp dport 9998, only 9999 traffic.
# Each daemon must print only what its own rule selected: trace_b nothing.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init f2tr
lab_exec_router nft add rule inet filter input udp dport '{ 9998, 9999 }' drop ||
	lab_fail "cannot add the drop rule"

lab_daemon_start --match "udp dport 9998" --table trace_b --output json --rate none \
	--stats-interval 0 --timeout 6
b_pid=$LAB_DAEMON_PID b_out=$LAB_OUT b_err=$LAB_ERR
lab_daemon_ready trace_b
lab_daemon_start --match "udp dport 9999" --table trace_a --output json --rate none \
	--stats-interval 0 --timeout 6
lab_daemon_ready trace_a
sleep 0.5
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 10 >/dev/null
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "trace_a: the ten 9999 packets" 'length == 10 and all(.packet.dport == 9999)'
lab_expect_stats "trace_a: 10 selected, 10 emitted, none lost" '.selected == 10 and .emitted == 10 and .lost == 0'
LAB_DAEMON_PID=$b_pid LAB_OUT=$b_out LAB_ERR=$b_err
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "trace_b: nothing of trace_a's packets" 'length == 0'
lab_expect_stats "trace_b: 0 selected, 0 emitted" '.selected == 0 and .emitted == 0 and .lost == 0'
echo "PASS"
