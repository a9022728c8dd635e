#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --netns: the daemon runs outside the router namespace and traces inside
# it, named three ways:
# 1. by its ip netns name, from the caller's namespace: the broken port
#    forward's SYN is dropped; interface names (wan0, lan0), rule text and
#    the set-membership hint are the router's.
# 2. by the PID of a process inside it (as for a container), with
#    --nat-log: after the fix the SYN is accepted, and the conntrack
#    mapping is logged under the timeline's ct id.
# 3. by a /proc/PID/ns/net path: the accepted SYN again; --nat-table
#    lists the router's mappings; the configuration file's netns key,
#    kept over a reload that changes it. And from inside the namespace without
#    CAP_SYS_ADMIN (as under NetworkNamespacePath=): nothing to enter.
# Then the refusals, exit status 2 with the reason, for a missing name, a
# PID that does not exist, a file that is not a namespace and a namespace
# of another kind; none of them installs anything: the router's ruleset is
# byte for byte what it was. The refusals run inside the lab's client
# namespace, so that even a broken --netns could not touch the caller's.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
SLEEPER=
LAB_TRAP_EXTRA='kill "$SLEEPER" 2>/dev/null'
lab_init netns
lab_tmp
match="ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn"

# outside ARGS...: the daemon in the caller's namespace (45 s backstop),
# as lab_daemon_start runs it in the router's; LAB_OUT, LAB_ERR, LAB_RC.
outside()
{
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="$*"
	timeout -s KILL 45 "$NATTRACED" "$@" >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
}

# The router's interfaces must not exist here, or names prove nothing.
ip link show wan0 >/dev/null 2>&1 && lab_fail "this namespace has a wan0 itself"

# 1. An ip netns name: the drop, with the router's names.
outside --netns "$LAB_ROUTER" --match "$match" --count 1 --output json --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "by name: one timeline, dropped in the router's allowed_dnats" '
	length == 1 and .[0].verdict == "drop" and .[0].cause.chain == "allowed_dnats"'
lab_expect_json "by name: the router's interface names (in wan0, out lan0)" '
	.[0].packet.iif == "wan0" and (.[0].events | any(.packet.oif == "lan0"))'
lab_expect_json "by name: rule text from the router's ruleset" '
	.[0].events | any(.rule == "ct status dnat jump allowed_dnats")'
lab_expect_json "by name: the set check asked the router's sets" '
	.[0].hints | any(.text | test("203\\.0\\.113\\.10 \\. 22 is not in set inet filter allow_in"))'
grep -q "^nattraced: tracing .*, network namespace $LAB_ROUTER\$" "$LAB_ERR" ||
	lab_fail "by name: the start line does not name the namespace"
echo "ok: by name: the start line names the namespace"
lab_wait_no_table || lab_fail "table trace_debug still exists in the router after exit"

# 2. A PID, as docker inspect -f '{{.State.Pid}}' gives it, with --nat-log.
lab_fix || lab_fail "lab_fix failed"
ip netns exec "$LAB_ROUTER" sleep 60 </dev/null >/dev/null 2>&1 &
SLEEPER=$!
for _ in $(seq 40); do
	[ "$(stat -L -c %i "/proc/$SLEEPER/ns/net" 2>/dev/null)" = \
	  "$(stat -L -c %i "/run/netns/$LAB_ROUTER")" ] && break
	sleep 0.05
done
[ "$(stat -L -c %i "/proc/$SLEEPER/ns/net")" = "$(stat -L -c %i "/run/netns/$LAB_ROUTER")" ] ||
	lab_fail "the sleeper $SLEEPER is not in the router namespace"
outside --netns "$SLEEPER" --nat-log --match "$match" --count 1 --output json --timeout 15
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection after the fix failed"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "by PID: one timeline, accepted, in on wan0" '
	length == 1 and .[0].verdict == "accept" and .[0].packet.iif == "wan0"'
lab_expect_jq "by PID: conntrack is the router's: the new mapping under the timeline's ct id" '
	([.[] | select(.type == "trace")][0].ct.id) as $id | $id != null and
	any(.[]; .type == "nat" and .event == "new" and .ct_id == $id and
		.reply_src == "203.0.113.10:22")'
lab_wait_no_table || lab_fail "table trace_debug still exists in the router after exit"

# 3. A path.
outside --netns "/proc/$SLEEPER/ns/net" --match "$match" --count 1 --output json --timeout 15
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection after the fix failed"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "by path: one timeline, accepted, in on wan0" '
	length == 1 and .[0].verdict == "accept" and .[0].packet.iif == "wan0"'
lab_wait_no_table || lab_fail "table trace_debug still exists in the router after exit"

# The configuration file's key; a reload keeps the namespace of the start.
conf=$LAB_TMP/router.conf
printf 'match = %s\nnetns = %s\n' "$match" "$LAB_ROUTER" >"$conf"
outside --config "$conf" --output json --timeout 30
lab_daemon_ready
printf 'match = %s\nnetns = %s\n' "$match" "$LAB_CLIENT" >"$conf"
pid=$(lab_daemon_pid) || lab_fail "cannot find the nattraced process"
kill -HUP "$pid"
for _ in $(seq 100); do
	grep -q "netns keep their values from the start" "$LAB_ERR" && break
	sleep 0.05
done
grep -q "netns keep their values from the start" "$LAB_ERR" ||
	lab_fail "a reload that changes netns does not say it needs a restart"
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection after the reload failed"
lab_wait_lines 1 10 || lab_fail "no timeline after the reload"
lab_exec_client nft list tables | grep -q trace_debug &&
	lab_fail "the reload moved the trace to the namespace the file now names"
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "netns = in the file: traced in the router, on after the reload" '
	length >= 1 and .[0].verdict == "accept" and .[0].packet.iif == "wan0"'
lab_wait_no_table || lab_fail "table trace_debug still exists in the router after exit"

# --nat-table dumps the router's conntrack table, not ours.
outside --netns "$LAB_ROUTER" --nat-table --output json
lab_daemon_wait
lab_expect_rc 0
lab_expect_jq "--nat-table: the router's port-forward mappings" '
	length >= 1 and any(.[]; .nat == "dnat" and .orig_dst == "198.51.100.1:1222" and
		.reply_src == "203.0.113.10:22")'

# Already inside (systemd's NetworkNamespacePath=): no setns(), so no
# CAP_SYS_ADMIN needed.
if command -v capsh >/dev/null 2>&1; then
	LAB_RUN=$((LAB_RUN + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="--netns $LAB_ROUTER (inside it, without CAP_SYS_ADMIN)"
	ip netns exec "$LAB_ROUTER" capsh --drop=cap_sys_admin -- -c \
		'exec timeout -s KILL 45 "$0" --netns "$1" --match "$2" --count 1 --output json --timeout 15' \
		"$NATTRACED" "$LAB_ROUTER" "$match" >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
	lab_daemon_ready
	lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection after the fix failed"
	lab_daemon_wait
	lab_expect_rc 0
	lab_expect_json "inside the namespace already, without CAP_SYS_ADMIN: traced" '
		length == 1 and .[0].verdict == "accept"'
	lab_wait_no_table || lab_fail "table trace_debug still exists in the router after exit"
else
	echo "note: no capsh (libcap2-bin): the already-inside case is not tested"
fi

# 4. Refusals: exit 2, the reason, nothing installed anywhere.
before=$LAB_TMP/ruleset.before
lab_exec_router nft -a list ruleset >"$before" || lab_fail "cannot list the router's ruleset"
kill "$SLEEPER" 2>/dev/null
wait "$SLEEPER" 2>/dev/null
dead=$SLEEPER
SLEEPER=
for _ in $(seq 40); do
	[ -e "/proc/$dead" ] || break
	sleep 0.05
done
[ -e "/proc/$dead" ] && lab_fail "process $dead still exists"

# refuse DESCRIPTION ARG MESSAGE-REGEX
refuse()
{
	local what=$1 arg=$2 want=$3

	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="--netns $arg --match $match --count 1"
	LAB_RC=0
	timeout -s KILL 45 ip netns exec "$LAB_CLIENT" "$NATTRACED" --netns "$arg" \
		--match "$match" --count 1 --timeout 5 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null ||
		LAB_RC=$?
	lab_expect_rc 2
	grep -Eq -- "$want" "$LAB_ERR" || lab_fail "$what: stderr does not say /$want/"
	[ "$(grep -vc "^Try " "$LAB_ERR")" -eq 1 ] || lab_fail "$what: more than the one message"
	echo "ok: $what: exit 2, $(cat "$LAB_ERR")"
}
refuse "a missing name" "nattraced-no-such-$$" \
	"^nattraced: --netns nattraced-no-such-$$: no network namespace named 'nattraced-no-such-$$' \\(/run/netns/nattraced-no-such-$$: No such file or directory; see ip netns list\\)$"
refuse "a PID that does not exist" "$dead" \
	"^nattraced: --netns $dead: no process $dead \\(/proc/$dead/ns/net: No such file or directory\\)$"
refuse "a file that is not a namespace" /etc/hostname \
	"^nattraced: --netns /etc/hostname: /etc/hostname is not a network namespace"
refuse "a directory" /run/netns \
	"^nattraced: --netns /run/netns: /run/netns is not a network namespace$"
refuse "a namespace of another kind" /proc/self/ns/uts \
	"is a UTS namespace, not a network namespace$"
refuse "an empty value" "" "^nattraced: --netns: empty"
lab_exec_router nft -a list ruleset | cmp -s - "$before" ||
	lab_fail "a refused --netns changed the router's ruleset"
echo "ok: the router's ruleset is byte for byte unchanged"
[ -z "$(lab_exec_client nft list ruleset)" ] ||
	lab_fail "a refused --netns installed something in the namespace it ran in"
echo "ok: nothing installed where the refused daemons ran"

# The same check for the key of a configuration file.
printf 'match = %s\nnetns = nattraced-no-such-%s\n' "$match" "$$" >"$LAB_TMP/c.conf"
LAB_RC=0
timeout -s KILL 45 ip netns exec "$LAB_CLIENT" "$NATTRACED" --config "$LAB_TMP/c.conf" \
	--count 1 --timeout 5 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null || LAB_RC=$?
lab_expect_rc 2
grep -q "no network namespace named 'nattraced-no-such-$$'" "$LAB_ERR" ||
	lab_fail "netns = in a configuration file: not checked"
echo "ok: netns = in a configuration file is checked the same way"
echo "PASS"
