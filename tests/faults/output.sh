#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Broken stdout (issue 11 items 7, 9 and 15's full filesystem):
#  - a reader that stopped reading: SIGTERM must end the daemon at once
#    (it waited for the reader, its --rate none rule still installed);
#    what was not delivered is counted in the stop line;
#  - /dev/full: exit 1, the error said once, an honest stop account (it
#    said "4 timelines emitted ... 1 not printed after --count");
#  - a reader that went away: exit 0, nothing counted as printed;
#  - a full filesystem: exit 1, and the file ends in a whole JSON line;
#  - a reader stopped in the middle of a line at SIGTERM (issue 19): when
#    it goes on, its last line is whole, or the daemon said on stderr that
#    it was cut.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
reader=
LAB_TRAP_EXTRA='[ -z "$reader" ] || { kill -CONT $reader; kill $reader; } 2>/dev/null'
lab_init fout unshare mkfifo jq
lab_tmp || exit 1
lab_exec_router nft add rule inet filter input udp dport 9999 drop ||
	lab_fail "cannot add the drop rule"
burst() { lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 "$1" >/dev/null; }
MATCH="ip daddr $LAB_WAN4 udp dport 9999"
ready() { for _ in $(seq 200); do grep -q "^nattraced: tracing" "$LAB_ERR" && return 0; sleep 0.05; done; return 1; }

# run_to OUTPUT ARGS...: the daemon in the router namespace, stdout to OUTPUT.
run_to()
{
	local out=$1

	shift
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$out LAB_ERR=$LAB_TMP/err.$LAB_RUN LAB_ARGS="$* >$out"
	ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" "$@" \
		>"$out" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
}

# 1. A reader that stopped: SIGTERM ends the daemon within a second.
mkfifo "$LAB_TMP/fifo"
cat "$LAB_TMP/fifo" >"$LAB_TMP/got" &
reader=$!
run_to "$LAB_TMP/fifo" --match "$MATCH" --rate none --output json --stats-interval 0
ready || lab_fail "the daemon did not start"
pid=$(lab_daemon_pid) || lab_fail "cannot find the daemon"
kill -STOP "$reader"
burst 3000
sleep 1
start=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	kill -CONT "$reader"
	lab_daemon_wait
	lab_fail "SIGTERM with a stopped reader: the daemon was still there after 5 s"
fi
lab_daemon_wait
took=$((($(date +%s%N) - start) / 1000000))
# the reader goes on and reads to the end (the daemon's end is closed)
kill -CONT "$reader"
for _ in $(seq 100); do kill -0 "$reader" 2>/dev/null || break; sleep 0.1; done
kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null; reader=
lab_expect_rc 0
lab_has_table trace_debug && lab_fail "the trace table is still there"
grep -Eq "stopped: 3000 packets selected, 0 lost, [0-9]+ timelines emitted .*, [1-9][0-9]* not delivered: output too slow" "$LAB_ERR" ||
	lab_fail "the stop line does not count the timelines a stopped reader never got"
grep -q "not printed after --count" "$LAB_ERR" && lab_fail "blames --count, which was not given"
echo "ok: stopped reader: SIGTERM ended the daemon in $took ms, status 0, undelivered timelines counted"
[ -s "$LAB_TMP/got" ] || lab_fail "stopped reader: it got nothing at all"
head -n -1 "$LAB_TMP/got" | jq -e . >/dev/null || lab_fail "stopped reader: a line before the last is not whole JSON"
if [ "$(tail -c 1 "$LAB_TMP/got" | od -An -c | tr -d ' ')" = '\n' ] &&
	tail -n 1 "$LAB_TMP/got" | jq -e . >/dev/null; then
	grep -q "last line on stdout is cut" "$LAB_ERR" &&
		lab_fail "stopped reader: the last line is whole, yet stderr says it was cut"
	echo "ok: stopped reader: its last line is whole JSON"
else
	grep -q "the last line on stdout is cut short" "$LAB_ERR" ||
		lab_fail "stopped reader: its last line is cut ($(tail -c 60 "$LAB_TMP/got")), and stderr does not say so"
	echo "ok: stopped reader: its last line is cut, and stderr says so"
fi

# 2. /dev/full: exit 1, one error message, nothing claimed as emitted.
run_to /dev/full --match "$MATCH" --output json --rate none --stats-interval 0 --timeout 3
ready || lab_fail "the daemon did not start"
burst 5
lab_daemon_wait
lab_expect_rc 1
[ "$(grep -c "writing output failed" "$LAB_ERR")" = 1 ] ||
	lab_fail "/dev/full: the write error should be said exactly once"
# The daemon stops at the first failed write while the burst may still
# arrive: its counter read may come before the last packets; none is lost.
grep -Eq "stopped: [1-5] packets selected, 0 lost, 0 timelines emitted .*[1-5] not delivered" "$LAB_ERR" ||
	lab_fail "/dev/full: the stop line claims timelines were emitted, or lost some"
grep -q "not printed after --count" "$LAB_ERR" && lab_fail "/dev/full: blames --count"
echo "ok: /dev/full: status 1, the error said once, 0 emitted, the rest counted"

# 3. A reader that went away: status 0, nothing claimed as emitted.
LAB_RUN=$((LAB_RUN + 1)); LAB_ERR=$LAB_TMP/err.$LAB_RUN LAB_OUT=/dev/null
LAB_RC=0
{ ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --match "$MATCH" --output json \
	--rate none --stats-interval 0 --timeout 4 2>"$LAB_ERR" </dev/null || echo "rc=$?" >"$LAB_TMP/rc"; } | true &
sleep 1.5
burst 5
wait $! 2>/dev/null
[ -f "$LAB_TMP/rc" ] && LAB_RC=$(sed 's/rc=//' "$LAB_TMP/rc")
lab_expect_rc 0
grep -Eq "stopped: [1-5] packets selected, 0 lost, 0 timelines emitted" "$LAB_ERR" ||
	lab_fail "closed pipe: the stop line claims timelines were emitted, or lost some"
grep -q "not printed after --count" "$LAB_ERR" && lab_fail "closed pipe: blames --count"
echo "ok: closed pipe: status 0, 0 emitted, the rest counted"

# 4. A full filesystem: status 1, and no JSON line cut in the middle.
mnt=$LAB_TMP/small
mkdir -p "$mnt"
LAB_RUN=$((LAB_RUN + 1)); LAB_ERR=$LAB_TMP/err.$LAB_RUN
# the file lives on a 48 KiB tmpfs in a mount namespace of this test's own
MNT=$mnt ERR=$LAB_ERR ROUTER=$LAB_ROUTER MATCH=$MATCH COPY=$LAB_TMP/full.jsonl \
unshare -m bash -c 'mount -t tmpfs -o size=48k small "$MNT" || exit 1
	ip netns exec "$ROUTER" timeout -s KILL 45 "$NATTRACED" --match "$MATCH" --output json \
		--rate none --stats-interval 0 --timeout 4 >"$MNT/out.jsonl" 2>"$ERR" </dev/null
	echo $? >"$ERR.rc"
	cp "$MNT/out.jsonl" "$COPY"' &
sleep 1.5
# a flood (issue 19): the stop came while the counter ran on
burst 2000
wait $!
LAB_RC=$(cat "$LAB_ERR.rc" 2>/dev/null || echo none)
LAB_OUT=$LAB_TMP/full.jsonl
lab_expect_rc 1
[ -s "$LAB_OUT" ] || lab_fail "full filesystem: nothing was written at all"
[ "$(tail -c 1 "$LAB_OUT" | od -An -c | tr -d ' ')" = '\n' ] ||
	lab_fail "full filesystem: the file ends in a cut line"
jq -e . "$LAB_OUT" >/dev/null || lab_fail "full filesystem: a line is not whole JSON"
grep -q "writing output failed: No space left on device" "$LAB_ERR" ||
	lab_fail "full filesystem: no error message"
# what was grouped after the write failed never reached the file: not
# delivered, and not blamed on --count, which was not given
grep -Eq "stopped: .*[1-9][0-9]* not delivered: output too slow or failed" "$LAB_ERR" ||
	lab_fail "full filesystem: the stop line does not count what the file never got"
grep -q "not printed after --count" "$LAB_ERR" && lab_fail "full filesystem: blames --count"
echo "ok: full filesystem: status 1, $(wc -l <"$LAB_OUT") whole JSON lines, none cut"
echo "PASS"
