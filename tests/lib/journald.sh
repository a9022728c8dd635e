# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# journald.sh: a private systemd-journald for one test.
#
# journald runs standalone (systemd need not be PID 1). It is started in
# its own mount namespace (unshare -m, private propagation) where tmpfs
# hides /run/systemd, /run/log and /var/log/journal: its sockets, its
# volatile storage and its configuration exist only there, so the host's
# journal (if any) and parallel tests never see each other's entries.
# Programs that should log to it run in that namespace (jd_exec, which
# nsenter's it); journalctl reads it the same way (jd_journalctl).
#
#   jd_up || exit 1   start it (after lab_up: the namespace copies the
#                     mounts of /run/netns, so ip netns exec works inside)
#   jd_exec CMD...    run CMD in its mount namespace
#   jd_journalctl ARGS...
#   jd_down           stop it; the namespace and its tmpfs go with it
#
# Ready means: its own socket, in its own namespace. Until unshare and the
# mounts have run, /proc/$JD_PID/root/run/systemd is the host's, where a
# host journald's socket already exists (issue 19). So the namespace first
# writes a token of this call into its own tmpfs; once that token shows
# through /proc/$JD_PID/root, that path is the private tmpfs, and a socket
# there is the private journald's.

JD_PID=

jd_up()
{
	local i token

	if [ ! -x /lib/systemd/systemd-journald ] || ! command -v journalctl >/dev/null 2>&1 ||
		! command -v unshare >/dev/null 2>&1 || ! command -v nsenter >/dev/null 2>&1; then
		echo "journald: needs /lib/systemd/systemd-journald, journalctl, unshare, nsenter (packages systemd, util-linux)" >&2
		return 1
	fi
	token="$$.$RANDOM.$RANDOM"
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -c '
		set -e
		for d in /run/systemd /run/log /var/log/journal; do
			mkdir -p "$d"
			mount -t tmpfs -o mode=0755,size=64m tmpfs "$d"
		done
		mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
		echo "$1" >/run/systemd/nattraced-test-journald
		# volatile: only this tmpfs; no kernel log, no forwarding anywhere
		printf "%s\n" "[Journal]" Storage=volatile ReadKMsg=no ForwardToSyslog=no \
			ForwardToWall=no ForwardToKMsg=no ForwardToConsole=no \
			RateLimitBurst=0 Audit=no >/run/systemd/journald.conf.d/test.conf
		exec /lib/systemd/systemd-journald' jd_up "$token" </dev/null >/dev/null 2>&1 &
	JD_PID=$!
	for i in $(seq 100); do
		# the token first: then the socket path is the private one
		[ "$(cat "/proc/$JD_PID/root/run/systemd/nattraced-test-journald" 2>/dev/null)" = "$token" ] &&
			[ -S "/proc/$JD_PID/root/run/systemd/journal/socket" ] && return 0
		kill -0 "$JD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "journald: the private journald did not come up" >&2
	jd_down
	return 1
}

jd_exec()
{
	nsenter --mount="/proc/$JD_PID/ns/mnt" "$@"
}

jd_journalctl()
{
	jd_exec journalctl --no-pager "$@"
}

# jd_expect WHAT FILTER ARGS...: journalctl -o json ARGS, slurped, must
# make the jq FILTER true; otherwise the test fails showing what was found.
jd_expect()
{
	local what=$1 filter=$2 out=$LAB_TMP/jd_expect.json
	shift 2
	jd_journalctl -o json "$@" >"$out" 2>&1 || lab_fail "$what: journalctl $* failed: $(cat "$out")"
	if ! jq -e -s "$filter" "$out" >/dev/null 2>&1; then
		lab_fail "$what
  journalctl $*
  expected true from: $filter
  got: $(jq -s -c . "$out" 2>&1 | head -c 3000)"
	fi
	echo "ok: $what"
}

# jd_wait_entries N ARGS...: wait (20 s) until journalctl ARGS finds N
# entries or more.
jd_wait_entries()
{
	local n=$1 i
	shift

	for i in $(seq 100); do
		[ "$(jd_journalctl -o export "$@" 2>/dev/null | grep -c '^__CURSOR=')" -ge "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

jd_down()
{
	[ -n "$JD_PID" ] || return 0
	kill "$JD_PID" 2>/dev/null
	wait "$JD_PID" 2>/dev/null
	JD_PID=
	return 0
}
