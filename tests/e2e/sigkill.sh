#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The trace table is owned by the daemon's netlink socket: after SIGKILL the
# kernel deletes it. SIGTERM and SIGINT stop the daemon cleanly.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init sigkill
lab_tmp

for sig in KILL TERM INT; do
	lab_daemon_start --match "ip daddr 192.0.2.1" --output json
	lab_daemon_ready
	if [ "$sig" = KILL ]; then
		lab_exec_router nft list table inet trace_debug | grep -q 'flags owner' ||
			lab_fail "table trace_debug is not owned (no 'flags owner')"
		echo "ok: the table has flags owner"
	fi
	pid=$(lab_daemon_pid) || lab_fail "cannot find the nattraced process"
	[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$NATTRACED")" ] ||
		lab_fail "pid $pid is not nattraced: $(readlink "/proc/$pid/exe")"
	kill -s "$sig" "$pid"
	lab_wait_no_table trace_debug 2 ||
		lab_fail "table trace_debug still exists 2 s after SIG$sig"
	lab_daemon_wait
	case $sig in
	KILL) [ "$LAB_RC" = 137 ] || lab_fail "expected 137 after SIGKILL, got $LAB_RC" ;;
	*) [ "$LAB_RC" = 0 ] || lab_fail "expected exit status 0 after SIG$sig, got $LAB_RC" ;;
	esac
	lab_has_table trace_debug && lab_fail "a trace_debug table is left after SIG$sig"
	echo "ok: no table left after SIG$sig"
done
echo "PASS"
