#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The tests' private journald (tests/lib/journald.sh) on a host where a
# journald runs already (issue 19 item 8). jd_up used to look for the
# socket through /proc/$JD_PID/root before the private mounts existed,
# found the host's, and said "up" while its own journald was still
# starting: daemons then found no socket, or logged to the host.
#
# A stand-in host journald runs in a mount namespace of this test's own
# (tmpfs over /run/systemd, /run/log, /var/log/journal), so the real host
# never sees it. Then:
# 1. the moment jd_up returns, the socket jd_exec sees is not the host's;
# 2. nattraced --output journal run with jd_exec logs to the private
#    journal, and nothing reaches the host's.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
lab_skip_unless_possible
if ! ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	echo "SKIP: nattraced built without journal support" >&2
	exit 77
fi
if [ ! -x /lib/systemd/systemd-journald ]; then
	echo "SKIP: no /lib/systemd/systemd-journald" >&2
	exit 77
fi
lab_require unshare nsenter journalctl stat || exit 1

# Outside: go into a mount namespace of our own, then run the rest there.
if [ -z "${JDHOST_INNER:-}" ]; then
	JDHOST_INNER=1 exec unshare -m --propagation private bash "$0" "$@"
fi

HOST_JD=
host_down()
{
	jd_down
	[ -n "$HOST_JD" ] && kill "$HOST_JD" 2>/dev/null && wait "$HOST_JD" 2>/dev/null
	HOST_JD=
}
lab_trap host_down

for d in /run/systemd /run/log /var/log/journal; do
	mkdir -p "$d"
	mount -t tmpfs -o mode=0755,size=64m hostjd "$d" || lab_fail "cannot mount a tmpfs on $d"
done
mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
printf '%s\n' "[Journal]" Storage=volatile ReadKMsg=no ForwardToSyslog=no ForwardToWall=no \
	Audit=no >/run/systemd/journald.conf.d/host.conf
/lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
HOST_JD=$!
for _ in $(seq 100); do
	[ -S /run/systemd/journal/socket ] && break
	sleep 0.1
done
[ -S /run/systemd/journal/socket ] || lab_fail "the stand-in host journald did not start"
host_sock=$(stat -L -c '%d:%i' /run/systemd/journal/socket)

lab_up jdhost || exit 1
lab_tmp

# --- 1. up means its own socket ------------------------------------------
jd_up || lab_fail "cannot start a private journald"
own_sock=$(jd_exec stat -L -c '%d:%i' /run/systemd/journal/socket 2>/dev/null) ||
	lab_fail "jd_up returned, but no socket in the private journald's namespace yet"
[ "$own_sock" != "$host_sock" ] ||
	lab_fail "jd_up returned while the socket it sees is the host journald's ($host_sock)"
echo "ok: when jd_up returns, the socket is the private journald's ($own_sock, host $host_sock)"

# --- 2. the daemon logs to the private journal, not to the host's ---------
LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err LAB_ARGS="--output journal --nat-log=all --timeout 1"
LAB_RC=0
jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 30 "$NATTRACED" --output journal \
	--nat-log=all --timeout 1 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null || LAB_RC=$?
lab_expect_rc 0
jd_wait_entries 2 SYSLOG_IDENTIFIER=nattraced ||
	lab_fail "the private journal has no start and stop entries of nattraced"
echo "ok: nattraced logged to the private journal"
n=$(journalctl --no-pager -o export SYSLOG_IDENTIFIER=nattraced 2>/dev/null | grep -c '^__CURSOR=')
[ "$n" -eq 0 ] || lab_fail "$n nattraced entries reached the host's journal"
echo "ok: nothing reached the host's journal"
echo "PASS"
