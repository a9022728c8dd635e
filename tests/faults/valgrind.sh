#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The daemon under valgrind for a short traced run with statistics reads
# (SIGUSR1 and at exit): no invalid read or write, no use of freed memory.
# libnftables 1.0.6's JSON listing of an owned table reads freed memory
# (issue 11 item 2); the counters are read with libnftnl instead.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fvg valgrind jq
lab_tmp || exit 1

lab_exec_router nft add rule inet filter input udp dport 9999 drop ||
	lab_fail "cannot add the drop rule"
LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err LAB_ARGS="(valgrind) --match udp dport 9999"
vglog=$LAB_TMP/valgrind.log
ip netns exec "$LAB_ROUTER" timeout -s KILL 90 valgrind -q --error-exitcode=99 \
	--suppressions="$TESTS_DIR/faults/valgrind.supp" --log-file="$vglog" \
	"$NATTRACED" --match "ip daddr $LAB_WAN4 udp dport 9999" --rate none \
	--output json --stats-interval 0 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
LAB_DAEMON_PID=$!
# the table exists before its chains are hooked: wait for the start line
for _ in $(seq 600); do
	grep -q "^nattraced: tracing" "$LAB_ERR" && break
	sleep 0.1
done
grep -q "^nattraced: tracing" "$LAB_ERR" || lab_fail "no trace under valgrind within 60 s"
pid=$(lab_daemon_pid) || lab_fail "cannot find the daemon"
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 20 >/dev/null
sleep 1
kill -USR1 "$pid"
for _ in $(seq 100); do
	jq -e -s 'any(.[]; .type == "stats" and .reason == "signal")' "$LAB_OUT" >/dev/null 2>&1 && break
	sleep 0.1
done
kill -INT "$pid"
lab_daemon_wait
if [ "$LAB_RC" = 99 ] || grep -qE "Invalid (read|write|free)|freed|uninitialised" "$vglog"; then
	cat "$vglog" >&2
	lab_fail "valgrind found memory errors"
fi
lab_expect_rc 0
lab_expect_jq "SIGUSR1 read the counter under valgrind" \
	'any(.[]; .type == "stats" and .reason == "signal" and .selected == 20)'
lab_expect_stats "exit: 20 selected, 20 timelines, none lost" \
	'.selected == 20 and .emitted == 20 and .lost == 0'
echo "ok: no memory errors under valgrind"
echo "PASS"
