#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --count N exits 0 after N timelines; --timeout with no traffic exits 3 on
# time; neither leaves the trace table behind.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init count

now_ms() { date +%s%3N; }

# 1. --count 2: two SYNs, two timelines, exit 0 well before the timeout.
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--rate none --count 2 --output json --timeout 20
lab_daemon_ready
start=$(now_ms)
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
elapsed=$(( $(now_ms) - start ))
lab_expect_rc 0
[ "$elapsed" -lt 10000 ] || lab_fail "--count 2 took ${elapsed} ms to exit after the packets"
echo "ok: --count 2 exited 0, ${elapsed} ms after the first packet"
lab_expect_json "exactly two timelines" 'length == 2'
lab_expect_json "both are drops in allowed_dnats" '
	all(.verdict == "drop" and .cause.chain == "allowed_dnats")'
lab_expect_json "two different packets (source ports)" '
	(map(.packet.sport) | unique | length) == 2'
lab_wait_no_table || lab_fail "table trace_debug still exists after --count"
lab_has_table trace_debug && lab_fail "a trace_debug table is left in some family"
echo "ok: no trace_debug table after --count"

# 2. --timeout 1 with no matching traffic: exit 3 after about 1 s.
start=$(now_ms)
lab_run --match "ip daddr 192.0.2.1 tcp dport 9" --count 1 --output json --timeout 1
elapsed=$(( $(now_ms) - start ))
lab_expect_rc 3
[ "$elapsed" -ge 900 ] || lab_fail "--timeout 1 returned after only ${elapsed} ms"
[ "$elapsed" -lt 4000 ] || lab_fail "--timeout 1 took ${elapsed} ms"
echo "ok: --timeout 1 exited 3 after ${elapsed} ms"
lab_expect_json "--timeout with no traffic printed no timeline" 'length == 0'
lab_expect_stats "... and its exit stats say nothing was selected" '
	.selected == 0 and .emitted == 0 and .lost == 0'
lab_expect_jq "... and nothing else" 'length == 1'
lab_wait_no_table || lab_fail "table trace_debug still exists after --timeout"
lab_has_table trace_debug && lab_fail "a trace_debug table is left in some family"
echo "ok: no trace_debug table after --timeout"

# 3. --timeout without --count is a normal stop: exit 0.
lab_run --match "ip daddr 192.0.2.1 tcp dport 9" --output json --timeout 1
lab_expect_rc 0
echo "ok: --timeout 1 without --count exited 0"
lab_wait_no_table || lab_fail "table trace_debug still exists after --timeout"

echo "PASS"
