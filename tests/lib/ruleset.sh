# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
#
# ruleset.sh: helpers for tests/e2e/ruleset_*.sh, which load a ruleset made
# by a real generator (tests/rulesets/NAME/) into the router of the lab
# (lab.sh) and check nattraced against `nft monitor trace` on the same
# packets. Source lab.sh first.
#
# A test:
#	rs_up NAME [WAN_IF LAN_IF]     lab.sh's three namespaces, interfaces
#	                               renamed, tests/rulesets/NAME/ruleset.nft
#	                               loaded in the router
#	lab_daemon_start --match ... --count N --output json --timeout 20
#	lab_daemon_ready
#	rs_monitor_start               nft monitor trace in the router
#	rs_packet KEY SPORT CMD...     send one packet (or connection), alone
#	...
#	lab_daemon_wait; rs_monitor_stop
#	rs_expect_common KEY           one timeline, complete, same rules as nft
#	rs_expect KEY DESCRIPTION JQ   any assertion on that packet's timeline
#	rs_done                        exit 1 if anything failed
#
# Assertions do not stop the test: every failure is reported, and rs_done
# fails the test at the end, so one run shows all that is wrong.
#
# Packets are told apart by their TCP source port (SPORT), which the test
# chooses; rs_packet records the lines `nft monitor trace` printed while
# that packet passed, because trace ids repeat across packets.

RS_FAILED=0
RS_MON=
RS_MON_PID=
declare -gA RS_FIRST RS_LAST RS_SPORT

rs_log()
{
	printf 'rulesets: %s\n' "$*" >&2
}

# rs_fail_soft WHAT: count a failed assertion and carry on.
rs_fail_soft()
{
	echo "FAIL: $*" >&2
	RS_FAILED=$((RS_FAILED + 1))
}

# rs_ruleset NAME: the committed ruleset file of a generator: ruleset.nft
# (nft -f), or iptables.rules (iptables-nft-restore).
rs_ruleset()
{
	if [ -e "$TESTS_DIR/rulesets/$1/iptables.rules" ]; then
		echo "$TESTS_DIR/rulesets/$1/iptables.rules"
	else
		echo "$TESTS_DIR/rulesets/$1/ruleset.nft"
	fi
}

# rs_up NAME [WAN_IF LAN_IF]: the lab of lab.sh (client, router, server and
# the listener on server:22), the router's interfaces renamed to what the
# generated ruleset names, and the ruleset loaded in the router (unless
# RS_DEFER_LOAD is set: then the test calls rs_load "$(rs_ruleset NAME)"
# once the interfaces the ruleset matches by index exist).
rs_up()
{
	local name=$1 wan=${2:-wan0} lan=${3:-lan0} file

	file=$(rs_ruleset "$name")
	[ -r "$file" ] || { echo "rulesets: no ruleset $file" >&2; return 1; }
	# lab_build loads lab_router_ruleset: here nothing, the ruleset comes
	# after the interfaces have the names it expects.
	# shellcheck disable=SC2317
	lab_router_ruleset() { :; }
	lab_up "rs${name:0:6}" || return 1
	# Our own scratch directory (lab_down removes it): a name of our own,
	# so nothing that cleans up other runs' nattraced-e2e.* takes it.
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nattraced-rulesets.XXXXXX") || return 1
	rs_rename_if "$LAB_ROUTER" wan0 "$wan" || return 1
	rs_rename_if "$LAB_ROUTER" lan0 "$lan" || return 1
	[ -n "${RS_DEFER_LOAD:-}" ] && return 0
	rs_load "$file"
}

# rs_rename_if NS OLD NEW
rs_rename_if()
{
	local ns=$1 old=$2 new=$3

	[ "$old" = "$new" ] && return 0
	ip -n "$ns" link set "$old" down &&
	ip -n "$ns" link set "$old" name "$new" &&
	ip -n "$ns" link set "$new" up || return 1
	# The link comes back up with its addresses but without the routes
	# through it that other addresses need: IPv4 connected routes return
	# by themselves; IPv6 ones too (nodad). Nothing else to restore.
	return 0
}

# rs_load FILE: load a ruleset file into the router (and only there).
rs_load()
{
	local load=(nft -f -)

	case $1 in
	*.rules)
		lab_require iptables-nft-restore || return 1
		load=(iptables-nft-restore)
		;;
	esac
	if ! lab_exec_router "${load[@]}" <"$1"; then
		echo "rulesets: ${load[*]} <$1 failed in $LAB_ROUTER" >&2
		return 1
	fi
}

# rs_add_ns SUFFIX: one more namespace in the lab (lab_down deletes it);
# its name in RS_NS.
rs_add_ns()
{
	RS_NS="${LAB_ROUTER%-rtr}-$1"
	ip netns add "$RS_NS" || return 1
	LAB_EXTRA_NS="${LAB_EXTRA_NS:-} $RS_NS"
	ip -n "$RS_NS" link set lo up
}

# rs_bridge NAME ADDR/LEN: a Linux bridge in the router.
rs_bridge()
{
	ip -n "$LAB_ROUTER" link add "$1" type bridge &&
	ip -n "$LAB_ROUTER" addr add "$2" dev "$1" &&
	ip -n "$LAB_ROUTER" link set "$1" up
}

# rs_bridge_port BRIDGE PORT NS ADDR/LEN GATEWAY: a veth from the bridge in
# the router (port PORT) to eth0 in NS, with an address and default route.
rs_bridge_port()
{
	local br=$1 port=$2 ns=$3 addr=$4 gw=$5

	ip -n "$LAB_ROUTER" link add "$port" type veth peer name eth0 netns "$ns" &&
	ip -n "$LAB_ROUTER" link set "$port" master "$br" &&
	ip -n "$LAB_ROUTER" link set "$port" up &&
	ip -n "$ns" addr add "$addr" dev eth0 &&
	ip -n "$ns" link set eth0 up &&
	ip -n "$ns" route add default via "$gw"
}

# rs_listen NS PORT: the lab's banner listener on NS:PORT (IPv4); waits
# until it listens. lab_down kills it with the namespace.
rs_listen()
{
	local ns=$1 port=$2

	ip netns exec "$ns" socat TCP4-LISTEN:"$port",reuseaddr,fork \
		SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
	for _ in $(seq 50); do
		[ "$(ip netns exec "$ns" ss -Hltn "sport = :$port" | wc -l)" -ge 1 ] && return 0
		sleep 0.1
	done
	echo "rulesets: no listener on $ns:$port" >&2
	return 1
}

# rs_netlink_trace_listeners NS: netlink sockets in NS that joined
# NFNLGRP_NFTRACE (netfilter netlink, protocol 12, multicast group 9, which
# is bit 8 of the first groups word in /proc/net/netlink).
rs_netlink_trace_listeners()
{
	local sk eth pid groups rest n=0

	while read -r sk eth pid groups rest; do
		[ "$eth" = 12 ] || continue
		(( (16#$groups & 256) != 0 )) && n=$((n + 1))
	done < <(ip netns exec "$1" cat /proc/net/netlink 2>/dev/null | tail -n +2)
	echo "$n"
}

# rs_monitor_start: `nft monitor trace` in the router, output in $RS_MON;
# returns once it listens. Start it after nattraced (lab_daemon_ready).
rs_monitor_start()
{
	local before i

	lab_tmp || return 1
	RS_MON=$LAB_TMP/monitor
	before=$(rs_netlink_trace_listeners "$LAB_ROUTER")
	ip netns exec "$LAB_ROUTER" timeout -s KILL 50 nft monitor trace >"$RS_MON" 2>&1 </dev/null &
	RS_MON_PID=$!
	for i in $(seq 100); do
		[ "$(rs_netlink_trace_listeners "$LAB_ROUTER")" -gt "$before" ] && return 0
		sleep 0.05
	done
	echo "rulesets: nft monitor trace did not start listening within 5 s" >&2
	return 1
}

# rs_monitor_stop: kill the monitor started last (lab_down would too).
rs_monitor_stop()
{
	[ -n "$RS_MON_PID" ] || return 0
	kill "$RS_MON_PID" 2>/dev/null
	wait "$RS_MON_PID" 2>/dev/null
	RS_MON_PID=
	return 0
}

rs_monitor_lines()
{
	wc -l <"$RS_MON"
}

# rs_wait_quiet: wait until the monitor output has not grown for 0.4 s
# (at most 5 s): the packet's events are all out.
rs_wait_quiet()
{
	local n m i

	n=$(rs_monitor_lines)
	for i in $(seq 50); do
		sleep 0.4
		m=$(rs_monitor_lines)
		[ "$m" = "$n" ] && return 0
		n=$m
	done
}

# rs_packet KEY SPORT CMD...: run CMD (which sends one traced packet from
# source port SPORT) alone, and remember which monitor lines it caused.
rs_packet()
{
	local key=$1 sport=$2

	shift 2
	rs_wait_quiet
	RS_FIRST[$key]=$(($(rs_monitor_lines) + 1))
	RS_SPORT[$key]=$sport
	"$@"
	rs_wait_quiet
	RS_LAST[$key]=$(rs_monitor_lines)
	rs_log "packet $key (sport $sport): monitor lines ${RS_FIRST[$key]}-${RS_LAST[$key]}"
}

# rs_target ADDR PORT: socat's address for a TCP connection.
rs_target()
{
	case $1 in
	*:*) echo "TCP6:[$1]:$2" ;;
	*) echo "TCP4:$1:$2" ;;
	esac
}

# rs_connect NS ADDR PORT SPORT [CONNECT-TIMEOUT]: one TCP connection from
# NS, source port SPORT, at most 3 s. Succeeds if the lab's banner came back.
rs_connect()
{
	local ns=$1 addr=$2 port=$3 sport=$4 ct=${5:-3} out

	out=$(timeout 5 ip netns exec "$ns" socat -T 3 - \
		"$(rs_target "$addr" "$port"),sourceport=$sport,reuseaddr,connect-timeout=$ct" \
		</dev/null 2>/dev/null)
	[ "$out" = "$LAB_BANNER" ]
}

# rs_syn NS ADDR PORT SPORT: one SYN from NS, source port SPORT; gives up
# after 0.5 s, before the first retransmission (1 s).
rs_syn()
{
	local ns=$1 addr=$2 port=$3 sport=$4

	timeout 3 ip netns exec "$ns" socat -T 1 - \
		"$(rs_target "$addr" "$port"),sourceport=$sport,reuseaddr,connect-timeout=0.5" \
		</dev/null >/dev/null 2>&1
	return 0
}

# rs_expect_connect KEY NS ADDR PORT SPORT: rs_packet of rs_connect, and the
# connection must work.
rs_expect_connect()
{
	local key=$1 ns=$2 addr=$3 port=$4 sport=$5

	RS_CONNECTED=
	rs_packet "$key" "$sport" rs_connect_noted "$ns" "$addr" "$port" "$sport"
	if [ -n "$RS_CONNECTED" ]; then
		echo "ok: $key: the connection to $addr:$port works"
	else
		rs_fail_soft "$key: the connection to $addr:$port did not work"
	fi
}

rs_connect_noted()
{
	rs_connect "$@" && RS_CONNECTED=1
	return 0
}

# rs_expect_no_connect KEY NS ADDR PORT SPORT: rs_packet of one SYN, and the
# connection must not work. The client gives up after 0.5 s, before the
# first retransmission (1 s): a dropped SYN is sent once.
rs_expect_no_connect()
{
	local key=$1 ns=$2 addr=$3 port=$4 sport=$5

	RS_CONNECTED=
	rs_packet "$key" "$sport" rs_connect_noted "$ns" "$addr" "$port" "$sport" 0.5
	if [ -z "$RS_CONNECTED" ]; then
		echo "ok: $key: no connection to $addr:$port"
	else
		rs_fail_soft "$key: the connection to $addr:$port worked, it should not"
	fi
}

# rs_timelines KEY: the timelines of that packet (by TCP source port), one
# JSON object per line.
rs_timelines()
{
	jq -c --argjson sport "${RS_SPORT[$1]}" \
		'select(.type == "trace" and .packet.sport == $sport)' "$LAB_OUT" 2>/dev/null
}

# rs_expect KEY DESCRIPTION JQ-FILTER: the filter on that packet's (first)
# timeline must yield true.
rs_expect()
{
	local key=$1 what=$2 filter=$3 tl got

	tl=$(rs_timelines "$key" | head -1)
	if [ -z "$tl" ]; then
		rs_fail_soft "$key: $what: no timeline for source port ${RS_SPORT[$key]}"
		return
	fi
	if printf '%s\n' "$tl" | jq -e "$filter" >/dev/null 2>&1; then
		echo "ok: $key: $what"
	else
		got=$(printf '%s\n' "$tl" | jq -c "$filter" 2>&1)
		rs_fail_soft "$key: $what
  expected true from: $filter
  got: $got"
	fi
}

# rs_expect_common KEY: what every packet must show: exactly one timeline,
# complete, and the same rules in the same order as nft monitor trace
# printed for its trace id(s).
rs_expect_common()
{
	local key=$1 n tl

	n=$(rs_timelines "$key" | grep -c .)
	if [ "$n" = 1 ]; then
		echo "ok: $key: exactly one timeline"
	else
		rs_fail_soft "$key: expected exactly one timeline for source port ${RS_SPORT[$key]}, got $n ($(rs_timelines "$key" | jq -r '.id' | tr '\n' ' '))"
	fi
	rs_expect "$key" "complete" '.complete == true'
	rs_expect "$key" "no events dropped" '(.events_dropped // 0) == 0'
	tl=$LAB_TMP/timeline.$key
	rs_timelines "$key" | head -1 >"$tl"
	if [ ! -s "$tl" ]; then
		rs_fail_soft "$key: nothing to compare with nft monitor trace"
	elif bash "$TESTS_DIR/lib/trace_compare.sh" "$tl" "$RS_MON" \
		"${RS_FIRST[$key]}" "${RS_LAST[$key]}"; then
		echo "ok: $key: same rules in the same order as nft monitor trace"
	else
		rs_fail_soft "$key: the events differ from nft monitor trace"
	fi
}

# rs_collect KEY...: once the packets are sent, wait for the daemon and
# the monitor, and check what every packet must show (rs_expect_common).
rs_collect()
{
	local key

	lab_daemon_wait
	rs_monitor_stop
	[ "$LAB_RC" = 0 ] || rs_fail_soft "nattraced exited with status $LAB_RC, expected 0"
	for key in "$@"; do
		rs_expect_common "$key"
	done
}

# rs_expect_delivered KEY: accepted, and not lost outside the ruleset.
rs_expect_delivered()
{
	rs_expect "$1" "verdict accept" '.verdict == "accept"'
	rs_expect "$1" "outside_ruleset is null" '.outside_ruleset == null'
}

# rs_expect_cause KEY VERDICT KIND FAMILY TABLE CHAIN RULE: the deciding
# rule; its handle must be the one that rule has in the router's ruleset.
rs_expect_cause()
{
	local key=$1 verdict=$2 kind=$3 family=$4 table=$5 chain=$6 rule=$7 handle

	handle=$(rs_handle "$family" "$table" "$chain" "$rule")
	[ -n "$handle" ] || rs_fail_soft "$key: no rule \`$rule\` in $family $table $chain of the loaded ruleset"
	rs_expect "$key" "$verdict ($kind) by \`$rule\` (handle ${handle:-?}) in $family $table $chain" "
		.verdict == \"$verdict\" and .cause.kind == \"$kind\" and
		.cause.family == \"$family\" and
		.cause.table == \"$table\" and .cause.chain == \"$chain\" and
		.cause.rule == $(jq -n --arg r "$rule" '$r') and
		.cause.handle == ${handle:-null}"
}

# rs_expect_cause_owner KEY OWNER-JSON WORDS: who wrote the deciding rule,
# in its own terms: the cause's "owner" object is exactly OWNER-JSON (keys
# in order), and the cause's summary says " (WORDS)" right after the chain.
rs_expect_cause_owner()
{
	local key=$1 owner=$2 words=$3

	rs_expect "$key" "cause owner $owner" "(.cause.owner | tojson) == ($owner | tojson)"
	rs_expect "$key" "cause summary: ... CHAIN ($words)" "
		.cause as \$c | \$c.summary |
		contains(\" \" + \$c.chain + \" (\" + $(jq -n --arg w "$words" '$w') + \")\")"
}

# rs_expect_policy KEY VERDICT FAMILY TABLE CHAIN: the verdict came from
# the policy of that base chain.
rs_expect_policy()
{
	rs_expect "$1" "$2 by the policy of $3 $4 $5" "
		.verdict == \"$2\" and .cause.type == \"policy\" and
		.cause.family == \"$3\" and
		.cause.table == \"$4\" and .cause.chain == \"$5\""
}

# rs_handle FAMILY TABLE CHAIN RULE: the handle of the first rule with
# exactly that text in that chain of the router.
rs_handle()
{
	local family=$1 table=$2 chain=$3 rule=$4

	lab_exec_router nft -a -s list ruleset 2>/dev/null |
	awk -v f="$family" -v t="$table" -v c="$chain" -v r="$rule" '
		$1 == "table" { intable = ($2 == f && $3 == t); inchain = 0; next }
		intable && $1 == "chain" { inchain = ($2 == c); next }
		intable && inchain && /# handle [0-9]+$/ {
			line = $0
			sub(/^[ \t]+/, "", line)
			h = line; sub(/.* # handle /, "", h)
			sub(/ # handle [0-9]+$/, "", line)
			if (line == r) { print h; exit }
		}'
}

# rs_daemon_start ARGS...: lab_daemon_start with the test's options.
# RS_DEV_ARGS (unset in the committed tests and under meson) adds options
# while developing, e.g. RS_DEV_ARGS="--max-events 128" to look past a
# bound of an older daemon.
rs_daemon_start()
{
	# shellcheck disable=SC2086
	lab_daemon_start "$@" ${RS_DEV_ARGS:-}
}

# rs_show_daemon: what the daemon printed, one line per timeline (the
# whole JSON with RS_VERBOSE=1).
rs_show_daemon()
{
	[ -n "${LAB_OUT:-}" ] || return 0
	if [ -n "${RS_VERBOSE:-}" ]; then
		lab_show_daemon
		return 0
	fi
	{
		echo "--- nattraced $LAB_ARGS (exit status ${LAB_RC:-still running}); timelines:"
		jq -r 'select(.type == "trace") |
			"id \(.id) ids \(.ids // "-" | tostring) sport \(.packet.sport) \(.packet.daddr):\(.packet.dport): \(.verdict) complete=\(.complete) events=\(.events | length) events_dropped=\(.events_dropped // 0)\n    cause: \(.cause.summary // "none")\n    nat: \(.nat | tostring)"' \
			"$LAB_OUT" 2>/dev/null
		jq -c 'select(.type == "stats")' "$LAB_OUT" 2>/dev/null
		echo "--- stderr:"
		lab_show_file "$LAB_ERR"
		echo "--- (RS_VERBOSE=1 prints the whole JSON)"
	} >&2
}

# rs_check_lines JSON: a --check file (tests/e2e/check_*.sh) from the live
# TCP SYN timelines of JSON, one expectation each, in the words of the
# live verdict: accept, drop by policy, drop or reject by rule handle N.
rs_check_lines()
{
	jq -r 'select(.type == "trace") | .packet as $p |
		(if ($p.saddr | test(":")) then "[\($p.saddr)]:\($p.sport) -> [\($p.daddr)]:\($p.dport)"
		 else "\($p.saddr):\($p.sport) -> \($p.daddr):\($p.dport)" end) as $eps |
		"tcp \($eps) iif \($p.iif) syn: " +
		(if .verdict == "accept" then "accept"
		 elif .cause.type == "policy" then "drop by policy"
		 else "\(.cause.kind | if . == "reject" then "reject" else "drop" end) by rule handle \(.cause.handle)"
		 end)' "$1"
}

# rs_done: the verdict of the whole test.
rs_done()
{
	rs_monitor_stop
	if [ "$RS_FAILED" -gt 0 ]; then
		echo "FAILED: $RS_FAILED assertion(s)" >&2
		rs_show_daemon
		exit 1
	fi
	echo "PASS"
}
