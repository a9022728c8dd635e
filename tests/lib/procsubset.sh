# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
#
# procsubset.sh: run nattraced as the shipped unit's ProcSubset=pid has
# it, with /proc mounted `-o subset=pid` (no /proc/sys) in a private
# mount namespace of its own. Sourced after lab.sh.
#
#   ps_daemon_start ARGS...   lab_daemon_start in that /proc; then
#                             lab_daemon_ready, lab_daemon_wait as usual.
#                             LAB_RC 90: the mount failed; 91: /proc/sys
#                             is still there.
#   PS_PREFIX=(cmd...)        run it under a prefix (jd_exec for journald)

PS_PREFIX=()

ps_daemon_start()
{
	: "${NATTRACED:?NATTRACED must name the nattraced binary}"
	lab_tmp || return 1
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="$* (/proc subset=pid)"
	# shellcheck disable=SC2016
	"${PS_PREFIX[@]}" ip netns exec "$LAB_ROUTER" unshare -m --propagation private sh -c '
		mount -t proc -o subset=pid proc /proc || exit 90
		[ ! -e /proc/sys/net/ipv4/ip_forward ] || exit 91
		exec timeout -s KILL 45 "$@"' sh "$NATTRACED" "$@" \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
}

# ps_expect_mounted: after lab_daemon_wait, fail on 90 or 91.
ps_expect_mounted()
{
	[ "$LAB_RC" = 90 ] && lab_fail "cannot mount /proc -o subset=pid"
	[ "$LAB_RC" = 91 ] && lab_fail "/proc mounted subset=pid still shows /proc/sys"
	return 0
}
