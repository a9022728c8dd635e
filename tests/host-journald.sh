#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# host-journald.sh: run tests as on a host where systemd-journald runs.
#
# Most machines that run nattraced run journald; CI containers do not.
# The tests that log to a journal start a private journald of their own
# (tests/lib/journald.sh), and with the host's socket present they must
# still talk only to theirs (issue 19 item 8). This starts a stand-in
# "host" journald in a mount namespace of its own, with tmpfs over
# /run/systemd, /run/log and /var/log/journal, and runs meson test in that
# namespace: the real host (and anything else running on it) never sees
# that journald, its sockets or its files.
#
#   tests/host-journald.sh [BUILDDIR [MESON TEST ARGS...]]
#
# Without test names it runs the tests that start a private journald or
# need none (tests/lib/journald.sh users and faults/nojournal). Root only.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
	set -- --print-errorlogs e2e_journal e2e_nat_log_journal e2e_follow_asymmetric \
		e2e_ruleset_firewalld e2e_vanish_forwarding e2e_journald_host fault_nojournal
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "host-journald.sh: needs root (mount namespaces)" >&2
	exit 77
fi
if [ ! -x /lib/systemd/systemd-journald ]; then
	echo "host-journald.sh: needs /lib/systemd/systemd-journald" >&2
	exit 77
fi

# shellcheck disable=SC2016
exec unshare -m --propagation private bash -c '
	set -eu
	build=$1
	shift
	for d in /run/systemd /run/log /var/log/journal; do
		mkdir -p "$d"
		mount -t tmpfs -o mode=0755,size=64m hostjd "$d"
	done
	mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
	printf "%s\n" "[Journal]" Storage=volatile ReadKMsg=no ForwardToSyslog=no \
		ForwardToWall=no Audit=no >/run/systemd/journald.conf.d/host.conf
	/lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
	jd=$!
	trap "kill $jd 2>/dev/null; wait $jd 2>/dev/null" EXIT
	for _ in $(seq 100); do
		[ -S /run/systemd/journal/socket ] && break
		sleep 0.1
	done
	[ -S /run/systemd/journal/socket ] || { echo "host-journald.sh: the stand-in host journald did not start" >&2; exit 1; }
	echo "host-journald.sh: a host journald runs (pid $jd); meson test $*" >&2
	meson test -C "$build" "$@"' host-journald "$build" "$@"
