# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2119,SC2120
#
# lab.sh: a broken port forward in three network namespaces.
#
# Sourced by tests/e2e/*.sh and contrib/demo.sh (bash). Needs root, iproute2,
# nft and socat.
#
#   client  eth0 198.51.100.2/24  2001:db8:1::2/64
#      |
#   router  wan0 198.51.100.1/24  2001:db8:1::1/64   (forwarding on)
#           lan0 203.0.113.1/24   2001:db8:2::1/64
#      |
#   server  eth0 203.0.113.10/24  2001:db8:2::10/64  (TCP listener on :22)
#
# The router DNATs wan0 tcp/1222 to server:22, but its forward chain sends
# DNATed packets to allowed_dnats, whose sets are empty: the SYN is dropped
# by the last rule of allowed_dnats. lab_fix adds the missing set elements.
#
# Namespace names carry a per-run suffix so that parallel test runs (meson
# test runs the e2e scripts side by side) never share a namespace. Nothing
# here touches the caller's own network namespace apart from creating and
# deleting the three namespaces.

# shellcheck source=stopline.sh
. "$(dirname "${BASH_SOURCE[0]}")/stopline.sh"

# The tests' paths (meson passes them; these are for a test run by hand).
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
UDPBURST=${UDPBURST:-$(dirname "$NATTRACED")/tests/udpburst}

LAB_CLIENT=
LAB_ROUTER=
LAB_SERVER=

LAB_WAN4=198.51.100.1		# router, client side
LAB_CLIENT4=198.51.100.2
LAB_LAN4=203.0.113.1		# router, server side
LAB_SERVER4=203.0.113.10
LAB_WAN6=2001:db8:1::1
LAB_CLIENT6=2001:db8:1::2
LAB_LAN6=2001:db8:2::1
LAB_SERVER6=2001:db8:2::10
LAB_PORT=1222			# the forwarded port on the router
LAB_SSH_PORT=22			# the listener on the server
LAB_BANNER="SSH-2.0-nattraced-lab"

# The router's ruleset: the broken port forward.
lab_router_ruleset()
{
	cat <<'EOF'
table inet nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 1222 dnat ip to 203.0.113.10:22
		iifname "wan0" tcp dport 1222 dnat ip6 to [2001:db8:2::10]:22
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
	}
}
table inet filter {
	set allow_in {
		type ipv4_addr . inet_service
	}

	set allow_in6 {
		type ipv6_addr . inet_service
	}

	chain input {
		type filter hook input priority filter; policy accept;
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat jump allowed_dnats
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}

	chain allowed_dnats {
		ip daddr . tcp dport @allow_in accept
		ip6 daddr . tcp dport @allow_in6 accept
		drop
	}
}
EOF
}

lab_log()
{
	[ -n "${LAB_QUIET:-}" ] || printf 'lab: %s\n' "$*" >&2
}

# Exit 77 (meson's "skipped") when network namespaces cannot be created
# here: not root, or no ip netns. Anything else that is missing is a failure,
# not a skip.
lab_skip_unless_possible()
{
	local probe

	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root to create network namespaces" >&2
		exit 77
	fi
	if ! command -v ip >/dev/null 2>&1; then
		echo "SKIP: no ip (iproute2)" >&2
		exit 77
	fi
	probe="ntprobe-$$-$RANDOM"
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "SKIP: cannot create network namespaces (ip netns add failed)" >&2
		exit 77
	fi
	ip netns del "$probe" 2>/dev/null
	return 0
}

lab_exec_client() { ip netns exec "$LAB_CLIENT" "$@"; }
lab_exec_router() { ip netns exec "$LAB_ROUTER" "$@"; }
lab_exec_server() { ip netns exec "$LAB_SERVER" "$@"; }

# lab_require TOOL...: fail (not skip) when a tool is missing.
lab_require()
{
	local tool missing=()

	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "lab: missing tools: ${missing[*]} (see .ci/run for the packages)" >&2
	return 1
}

# lab_up [prefix]: create the namespaces, links, addresses, routes, the
# router's ruleset and the server's listener. Returns non-zero (after
# cleaning up what it made) on failure.
lab_up()
{
	local prefix=${1:-lab} suffix

	if [ -n "$LAB_ROUTER" ]; then
		echo "lab_up: a lab is already up ($LAB_ROUTER)" >&2
		return 1
	fi
	lab_require ip nft socat ss timeout || return 1
	suffix=$(printf '%x%04x' "$$" "$RANDOM")
	LAB_CLIENT="${prefix}-${suffix}-cli"
	LAB_ROUTER="${prefix}-${suffix}-rtr"
	LAB_SERVER="${prefix}-${suffix}-srv"

	if ! lab_build; then
		echo "lab_up: could not build the lab" >&2
		lab_down
		return 1
	fi
	lab_log "up: client $LAB_CLIENT, router $LAB_ROUTER, server $LAB_SERVER"
	return 0
}

lab_build()
{
	local ns

	for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_SERVER"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
		# No duplicate address detection: link-local addresses would
		# stay tentative for 1-2 s and delay the first IPv6 connection.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_dad=0 || return 1
	done

	# Create the veth pairs inside the namespaces: no interface ever
	# appears in the caller's namespace, so parallel labs cannot clash.
	ip -n "$LAB_ROUTER" link add wan0 type veth peer name eth0 netns "$LAB_CLIENT" || return 1
	ip -n "$LAB_ROUTER" link add lan0 type veth peer name eth0 netns "$LAB_SERVER" || return 1

	# nodad: addresses are usable at once, no 1-2 s of IPv6 DAD.
	ip -n "$LAB_ROUTER" addr add "$LAB_WAN4/24" dev wan0 || return 1
	ip -n "$LAB_ROUTER" addr add "$LAB_WAN6/64" dev wan0 nodad || return 1
	ip -n "$LAB_ROUTER" addr add "$LAB_LAN4/24" dev lan0 || return 1
	ip -n "$LAB_ROUTER" addr add "$LAB_LAN6/64" dev lan0 nodad || return 1
	ip -n "$LAB_CLIENT" addr add "$LAB_CLIENT4/24" dev eth0 || return 1
	ip -n "$LAB_CLIENT" addr add "$LAB_CLIENT6/64" dev eth0 nodad || return 1
	ip -n "$LAB_SERVER" addr add "$LAB_SERVER4/24" dev eth0 || return 1
	ip -n "$LAB_SERVER" addr add "$LAB_SERVER6/64" dev eth0 nodad || return 1

	ip -n "$LAB_ROUTER" link set wan0 up || return 1
	ip -n "$LAB_ROUTER" link set lan0 up || return 1
	ip -n "$LAB_CLIENT" link set eth0 up || return 1
	ip -n "$LAB_SERVER" link set eth0 up || return 1

	ip netns exec "$LAB_ROUTER" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1

	ip -n "$LAB_CLIENT" route add default via "$LAB_WAN4" || return 1
	ip -n "$LAB_CLIENT" -6 route add default via "$LAB_WAN6" || return 1
	ip -n "$LAB_SERVER" route add default via "$LAB_LAN4" || return 1
	ip -n "$LAB_SERVER" -6 route add default via "$LAB_LAN6" || return 1

	lab_wait_no_tentative || return 1

	lab_router_ruleset | ip netns exec "$LAB_ROUTER" nft -f - || return 1

	lab_start_listener || return 1
}

# Wait (at most 3 s) until no IPv6 address in the lab is tentative.
lab_wait_no_tentative()
{
	local i ns busy

	for i in $(seq 60); do
		busy=
		for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_SERVER"; do
			[ -n "$(ip -n "$ns" -6 addr show tentative)" ] && busy=1
		done
		[ -z "$busy" ] && return 0
		sleep 0.05
	done
	echo "lab: IPv6 addresses still tentative after 3 s" >&2
	return 1
}

# A TCP listener on server:22 that sends a banner line, on IPv4 and IPv6.
# lab_down kills it with everything else running in the namespace.
lab_start_listener()
{
	local i

	if ! command -v socat >/dev/null 2>&1; then
		echo "lab: socat is not installed" >&2
		return 1
	fi
	ip netns exec "$LAB_SERVER" socat TCP4-LISTEN:$LAB_SSH_PORT,reuseaddr,fork \
		SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
	ip netns exec "$LAB_SERVER" socat TCP6-LISTEN:$LAB_SSH_PORT,ipv6only=1,reuseaddr,fork \
		SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
	for i in $(seq 50); do
		if [ "$(ip netns exec "$LAB_SERVER" ss -Hltn "sport = :$LAB_SSH_PORT" | wc -l)" -ge 2 ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "lab: the listener on server:$LAB_SSH_PORT did not come up" >&2
	return 1
}

# The fix: allow the DNATed destination in allowed_dnats.
lab_fix()
{
	lab_exec_router nft add element inet filter allow_in "{ $LAB_SERVER4 . $LAB_SSH_PORT }" &&
	lab_exec_router nft add element inet filter allow_in6 "{ $LAB_SERVER6 . $LAB_SSH_PORT }"
}

# Kill every process running in one namespace: TERM, then KILL what is left.
lab_kill_ns()
{
	local ns=$1 pids i

	pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null
	for i in $(seq 20); do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	pids=$(ip netns pids "$ns" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	return 0
}

# Kill everything started in the lab's namespaces and delete them. Safe to
# call twice and on a half-built lab.
lab_down()
{
	local ns

	# LAB_EXTRA_NS: more namespaces a test added to the lab (ruleset.sh).
	# shellcheck disable=SC2086
	for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_SERVER" ${LAB_EXTRA_NS:-}; do
		[ -n "$ns" ] || continue
		[ -e "/run/netns/$ns" ] || continue
		lab_kill_ns "$ns"
	done
	# shellcheck disable=SC2086
	for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_SERVER" ${LAB_EXTRA_NS:-}; do
		[ -n "$ns" ] || continue
		[ -e "/run/netns/$ns" ] || continue
		ip netns del "$ns" 2>/dev/null
	done
	LAB_EXTRA_NS=
	[ -n "$LAB_ROUTER" ] && lab_log "down: $LAB_ROUTER and its neighbours deleted"
	if [ -n "${LAB_TMP:-}" ] && [ -z "${LAB_KEEP_TMP:-}" ]; then
		rm -rf "$LAB_TMP"
	fi
	LAB_TMP=
	LAB_CLIENT='' LAB_ROUTER='' LAB_SERVER=''
	return 0
}

# Make lab_down run on every way out of the calling script, failed
# assertions and ^C included, keeping the script's exit status. An optional
# command runs first (for example to stop a daemon).
lab_trap()
{
	LAB_TRAP_EXTRA=${1:-}
	# shellcheck disable=SC2154
	# every stop account the test's daemons printed must balance (stopline.sh)
	trap '__lab_rc=$?; trap - EXIT; [ -z "$LAB_TRAP_EXTRA" ] || eval "$LAB_TRAP_EXTRA"; [ -z "${LAB_TMP:-}" ] || stopline_check "$LAB_TMP" || [ "$__lab_rc" -ne 0 ] || __lab_rc=1; lab_down; exit $__lab_rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# lab_init NAME [TOOL...]: every e2e and fault test's start. Skip (77)
# where namespaces cannot be made, fail when a TOOL is missing, clean up on
# every way out (lab_trap; set LAB_TRAP_EXTRA first for a command of the
# test's own), and bring the lab up in namespaces named after NAME.
lab_init()
{
	local name=$1

	shift
	lab_skip_unless_possible
	[ $# -eq 0 ] || lab_require "$@" || exit 1
	lab_trap "${LAB_TRAP_EXTRA:-}"
	lab_up "$name" || exit 1
}

# --- helpers for the e2e tests --------------------------------------------

# lab_wait_table [table] [seconds]: wait until the daemon's table exists in
# the router namespace.
lab_wait_table()
{
	local table=${1:-trace_debug} secs=${2:-10} i

	for i in $(seq $((secs * 20))); do
		lab_exec_router nft list table inet "$table" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# lab_wait_no_table [table] [seconds]: wait until the table is gone.
lab_wait_no_table()
{
	local table=${1:-trace_debug} secs=${2:-2} i

	for i in $(seq $((secs * 20))); do
		lab_exec_router nft list table inet "$table" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	return 1
}

# lab_has_table [table]: true if the table exists in any family.
lab_has_table()
{
	lab_exec_router nft list tables 2>/dev/null | grep -qw -- "${1:-trace_debug}"
}

# lab_connect ADDR PORT [from-namespace]: one TCP connection attempt, at
# most 3 s; prints what the server sent. Returns 0 if the connection worked
# and the banner came back.
lab_connect()
{
	local addr=$1 port=$2 ns=${3:-$LAB_CLIENT} target out

	case $addr in
	*:*) target="TCP6:[$addr]:$port" ;;
	*) target="TCP4:$addr:$port" ;;
	esac
	out=$(timeout 5 ip netns exec "$ns" socat -T 3 - "$target,connect-timeout=3" </dev/null 2>/dev/null)
	printf '%s\n' "$out"
	[ "$out" = "$LAB_BANNER" ]
}

# lab_syn ADDR PORT [from-namespace]: one connection attempt that sends a
# single SYN: the client gives up after 0.5 s, before the kernel's first
# retransmission (1 s), whatever happens to the SYN.
lab_syn()
{
	local addr=$1 port=$2 ns=${3:-$LAB_CLIENT} target

	case $addr in
	*:*) target="TCP6:[$addr]:$port" ;;
	*) target="TCP4:$addr:$port" ;;
	esac
	timeout 3 ip netns exec "$ns" socat -T 1 - "$target,connect-timeout=0.5" </dev/null >/dev/null 2>&1
	return 0
}

# --- running the daemon in the router namespace ----------------------------

# lab_tmp: a scratch directory, removed by lab_down.
lab_tmp()
{
	if [ -z "${LAB_TMP:-}" ]; then
		LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nattraced-e2e.XXXXXX") || return 1
	fi
}

# lab_daemon_start ARGS...: run "$NATTRACED" ARGS in the router namespace
# in the background; stdout to $LAB_OUT, stderr to $LAB_ERR. Killed after
# 45 s whatever happens, and by lab_down.
lab_daemon_start()
{
	: "${NATTRACED:?NATTRACED must name the nattraced binary}"
	[ -x "$NATTRACED" ] || lab_fail "no executable nattraced at $NATTRACED"
	lab_require jq pgrep || lab_fail "tools missing"
	lab_tmp || return 1
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="$*"
	ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" "$@" \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
}

# lab_daemon_pid: the pid of the nattraced process itself (the child of
# the `timeout` backstop), for signals.
lab_daemon_pid()
{
	local pid

	for _ in $(seq 40); do
		pid=$(pgrep -P "$LAB_DAEMON_PID" 2>/dev/null | head -1)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.05
	done
	return 1
}

# lab_daemon_wait: wait for the daemon started last; its exit status in
# LAB_RC (137 if the 45 s backstop killed it).
lab_daemon_wait()
{
	LAB_RC=0
	wait "$LAB_DAEMON_PID" || LAB_RC=$?
	LAB_DAEMON_PID=
	return 0
}

# lab_daemon_ready: wait (10 s) for the daemon's table; fail the test if
# the daemon died or never created it.
lab_daemon_ready()
{
	local table=${1:-trace_debug}

	if ! lab_wait_table "$table" 10; then
		lab_fail "the daemon did not create table inet $table within 10 s"
	fi
}

# lab_wait_lines N [seconds]: wait until the daemon printed N lines.
lab_wait_lines()
{
	local n=$1 secs=${2:-10} i

	for i in $(seq $((secs * 20))); do
		[ "$(wc -l <"$LAB_OUT")" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# lab_run ARGS...: run the daemon in the foreground (in the router
# namespace, 45 s backstop); LAB_RC, LAB_OUT, LAB_ERR as above.
lab_run()
{
	lab_daemon_start "$@"
	lab_daemon_wait
}

# Show what the daemon was asked and what it printed.
lab_show_daemon()
{
	[ -n "${LAB_OUT:-}" ] || return 0
	{
		echo "--- nattraced $LAB_ARGS"
		echo "--- exit status: ${LAB_RC:-still running}"
		echo "--- stdout:"
		lab_show_file "$LAB_OUT"
		echo "--- stderr:"
		lab_show_file "$LAB_ERR"
		echo "---"
	} >&2
}

# lab_show_file FILE: at most 256 KiB of a regular file. Never a device
# (a test's stdout may be /dev/full, which reads as endless zeros) or a
# FIFO (it would block).
lab_show_file()
{
	if [ -f "$1" ]; then
		head -c 262144 "$1"
	else
		echo "($1 is not a regular file)"
	fi
}

# Report a failed expectation, show the daemon's output, exit 1.
lab_fail()
{
	echo "FAIL: $*" >&2
	lab_show_daemon
	exit 1
}

# lab_expect_rc N: the daemon's exit status must be N.
lab_expect_rc()
{
	[ "$LAB_RC" = "$1" ] || lab_fail "expected exit status $1, got $LAB_RC"
}

# lab_expect_json DESCRIPTION JQ-FILTER: the filter, applied to the array
# of the packet timelines the daemon printed (jq -s, objects of type
# "trace"), must yield true.
lab_expect_json()
{
	lab_expect_jq "$1" '[.[] | select(.type == "trace")] | '"$2"
}

# lab_expect_stats DESCRIPTION JQ-FILTER: the same, applied to the stats
# object the daemon printed at exit.
lab_expect_stats()
{
	lab_expect_jq "$1" '[.[] | select(.type == "stats" and .reason == "exit")] |
		length == 1 and (.[0] | '"$2"')'
}

# lab_expect_jq DESCRIPTION JQ-FILTER: on the array of all JSON lines.
lab_expect_jq()
{
	local what=$1 filter=$2 got

	if ! jq -e . "$LAB_OUT" >/dev/null 2>&1; then
		lab_fail "$what: the output is not JSON lines"
	fi
	if ! jq -e -s "$filter" "$LAB_OUT" >/dev/null 2>&1; then
		got=$(jq -s -c "$filter" "$LAB_OUT" 2>&1)
		lab_fail "$what
  expected true from: $filter
  got: $got"
	fi
	echo "ok: $what"
}
