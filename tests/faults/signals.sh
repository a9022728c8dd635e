#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Signals during start-up and in every mode (issue 11 item 6): SIGHUP and
# SIGUSR1 arriving before the daemon reached its loop took their default
# action (exit 129/138); --nat-log=all died of SIGUSR1. The daemon now
# blocks them first thing in main(). Every run must end
# with a documented status and leave no table behind.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fsig
RUNS=${FAULT_SIGNAL_RUNS:-20}

# The nattraced process, once it has been exec'd (the backstop's child
# before exec is still `timeout`, which a SIGHUP would end).
exec_pid()
{
	local kids pid

	for _ in $(seq 400); do
		read -r kids <"/proc/$LAB_DAEMON_PID/task/$LAB_DAEMON_PID/children" 2>/dev/null
		pid=${kids%% *}
		if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$NATTRACED")" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.005
	done
	return 1
}

# Start-up is under way once the daemon holds its first socket: past the
# dynamic loader, whose few milliseconds before main() no program can
# guard (a signal there takes its default action before any code runs).
first_socket()
{
	local fd

	# builtins only: a fd of /proc/PID/fd is a socket to test -S
	for _ in $(seq 20000); do
		for fd in /proc/"$1"/fd/*; do
			[ -S "$fd" ] && return 0
		done
		[ -d "/proc/$1" ] || return 1
	done
	return 1
}

survived=0
for run in $(seq "$RUNS"); do
	lab_daemon_start --match "udp dport 9999" --output json --stats-interval 0
	pid=$(exec_pid) || lab_fail "run $run: the daemon never started"
	first_socket "$pid" || { lab_daemon_wait; lab_fail "run $run: the daemon ended before opening a socket (status $LAB_RC)"; }
	# HUP and USR1 all through start-up, until the trace runs
	for _ in $(seq 400); do
		kill -HUP "$pid" 2>/dev/null || break
		kill -USR1 "$pid" 2>/dev/null || break
		grep -q "^nattraced: tracing" "$LAB_ERR" 2>/dev/null && break
		sleep 0.002
	done
	kill -TERM "$pid" 2>/dev/null
	lab_daemon_wait
	[ "$LAB_RC" = 0 ] || lab_fail "run $run: SIGHUP/SIGUSR1 during start-up, then SIGTERM: exit status $LAB_RC"
	lab_has_table trace_debug && lab_fail "run $run: the trace table is still there"
	survived=$((survived + 1))
done
echo "ok: $survived of $RUNS start-ups under SIGHUP/SIGUSR1 ended with status 0, no table left"

# --nat-log=all without --match: SIGUSR1 reports, SIGTERM ends it.
lab_daemon_start --nat-log=all --output json
pid=$(exec_pid) || lab_fail "--nat-log=all never started"
for _ in $(seq 100); do
	grep -q "logging every NAT mapping" "$LAB_ERR" && break
	sleep 0.05
done
kill -USR1 "$pid"
sleep 0.3
kill -0 "$pid" 2>/dev/null || { lab_daemon_wait; lab_fail "--nat-log=all died of SIGUSR1 (status $LAB_RC)"; }
grep -q "nat log:" "$LAB_ERR" || lab_fail "--nat-log=all: no report on SIGUSR1"
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
echo "ok: --nat-log=all reports on SIGUSR1 and ends with status 0 on SIGTERM"

# --nat-log with a trace: SIGUSR1 gives the capture statistics.
lab_daemon_start --match "udp dport 9999" --nat-log --output json --stats-interval 0
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "cannot find the daemon"
kill -USR1 "$pid"
for _ in $(seq 100); do
	jq -e -s 'any(.[]; .type == "stats" and .reason == "signal")' "$LAB_OUT" >/dev/null 2>&1 && break
	sleep 0.05
done
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
lab_expect_jq "--nat-log with --match: SIGUSR1 gives statistics" \
	'any(.[]; .type == "stats" and .reason == "signal")'

# --nat-table: SIGUSR1 is held, the table printed, status 0.
lab_daemon_start --nat-table
pid=$(exec_pid) && first_socket "$pid" && kill -USR1 "$pid" 2>/dev/null
lab_daemon_wait
lab_expect_rc 0
echo "ok: --nat-table with a SIGUSR1 at start ends with status 0"
echo "PASS"
