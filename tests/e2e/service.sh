#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What nattraced.service relies on, without systemd as PID 1: the daemon
# runs as an unprivileged user with CAP_NET_ADMIN as its only capability
# (DynamicUser=, AmbientCapabilities=, CapabilityBoundingSet=), reads
# --config, and speaks the sd_notify protocol (Type=notify) on a socket
# standing in for systemd's: READY=1 once the trace table exists, STATUS=
# with the packets traced and dropped, RELOADING=1 and READY=1 around a
# SIGHUP, STOPPING=1 at the end.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
if ! ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	echo "SKIP: nattraced built without libsystemd (no sd_notify)" >&2
	exit 77
fi
LAB_TRAP_EXTRA='[ -z "${NOTIFY_PID:-}" ] || kill "$NOTIFY_PID" 2>/dev/null'
lab_init service setpriv socat
lab_tmp
chmod 755 "$LAB_TMP"
conf=$LAB_TMP/nattraced.conf
printf 'match = ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn\nrate = 10/second\n' >"$conf"
chmod 644 "$conf"

# systemd's notify socket: a datagram socket the daemon's user can write
notify=$LAB_TMP/notify
socat -u UNIX-RECV:"$LAB_TMP/notify.sock" OPEN:"$notify",creat,append &
NOTIFY_PID=$!
for i in $(seq 50); do [ -S "$LAB_TMP/notify.sock" ] && break; sleep 0.1; done
chmod 666 "$LAB_TMP/notify.sock"

LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err LAB_ARGS="--config $conf --output json (as nobody)"
ip netns exec "$LAB_ROUTER" env NOTIFY_SOCKET="$LAB_TMP/notify.sock" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
	timeout -s KILL 45 "$NATTRACED" --config "$conf" --output json --timeout 30 \
	>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
LAB_DAEMON_PID=$!

wait_notify()
{
	local want=$1 i

	for i in $(seq 200); do
		grep -q -- "$want" "$notify" 2>/dev/null && return 0
		sleep 0.05
	done
	lab_fail "no '$want' on the notify socket; got: $(tr '\n' '|' <"$notify")"
}

wait_notify READY=1
lab_exec_router nft list table inet trace_debug >/dev/null 2>&1 ||
	lab_fail "READY=1 came before the trace table existed"
echo "ok: READY=1 once the trace table is installed (running as uid 65534, CAP_NET_ADMIN only)"
grep -q "STATUS=tracing .*: 0 packets traced, 0 dropped" "$notify" ||
	lab_fail "no initial STATUS=: $(tr '\n' '|' <"$notify")"
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_wait_lines 1 10 || lab_fail "no timeline"
wait_notify "STATUS=tracing .*: 1 packets traced, 1 dropped"
echo "ok: STATUS= counts the traced and dropped packets"

pid=
for p in $(ip netns pids "$LAB_ROUTER"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = nattraced ] && pid=$p
done
[ -n "$pid" ] || lab_fail "no nattraced process"
[ "$(stat -c %u "/proc/$pid")" = 65534 ] || lab_fail "nattraced does not run as uid 65534"
printf 'match = ip daddr 198.51.100.1 tcp dport 1333 tcp flags syn\n' >"$conf"
kill -HUP "$pid"
wait_notify RELOADING=1
for i in $(seq 100); do
	[ "$(grep -o READY=1 "$notify" | wc -l)" -ge 2 ] && break
	sleep 0.05
done
[ "$(grep -o READY=1 "$notify" | wc -l)" -ge 2 ] || lab_fail "no READY=1 after the reload"
lab_exec_router nft list table inet trace_debug | grep -q "dport 1333" ||
	lab_fail "the reload as uid 65534 did not swap the rule"
echo "ok: RELOADING=1, then READY=1; the unprivileged daemon swapped the rule"

kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
wait_notify STOPPING=1
echo "ok: STOPPING=1 at exit"
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
