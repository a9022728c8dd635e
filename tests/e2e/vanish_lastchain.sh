#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Where the ruleset ends, the kernel decides (issue 19, items 1 and 4).
# Two router rulesets other than the lab's: the issue's (a DNAT in
# prerouting, a forward chain, a masquerade in postrouting, no input chain)
# and one with only the inet nat table (no filter table at all). On each,
# with /proc as usual and with /proc mounted subset=pid (what the unit's
# ProcSubset=pid does: no /proc/sys), one SYN per case, traced with
# --output journal, whose entry carries the text (MESSAGE), the JSON
# (NATTRACE_JSON) and the fields:
#   ip_forward 0 (to the DNAT port and straight to the server): forwarding_off
#   DNAT to an address without a route:                      no_route
#   rp_filter 1 on wan0, the route back to the client gone:   rp_filter
#   a router port nothing listens on, --hooks prerouting:     no_listener
#   a router port with a listener:           after_ruleset "delivered"
#   nat-only, forwarded, no later chain:     after_ruleset "forwarded" out
#                                            of lan0 (on link, or via a gateway)
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
# shellcheck source=../lib/procsubset.sh
. "$TESTS_DIR/lib/procsubset.sh"
if ! ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	echo "SKIP: nattraced built without journal support" >&2
	exit 77
fi
LAB_TRAP_EXTRA=jd_down
lab_init vlast
lab_require jq unshare || lab_fail "tools missing"
lab_tmp
jd_up || lab_fail "cannot start a private journald"

NO_ROUTE4=192.0.2.99   # no route on the router
VIA_GW4=192.0.2.50     # routed via the server (lab only: the server drops it)

# The issue's ruleset, plus two DNATs to addresses outside the lab.
issue_ruleset()
{
	cat <<EOF
table inet nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 198.51.100.1 tcp dport 1222 dnat ip to 203.0.113.10:22
		ip daddr 198.51.100.1 tcp dport 1223 dnat ip to $NO_ROUTE4:22
		ip daddr 198.51.100.1 tcp dport 1224 dnat ip to $VIA_GW4:22
	}
}
EOF
	[ "$1" = natonly ] && return 0
	cat <<'EOF'
table inet filter {
	set allow_in { type ipv4_addr . inet_service; elements = { 203.0.113.10 . 22 } }
	chain allowed_dnats { meta nfproto ipv4 ip daddr . tcp dport @allow_in accept; drop; }
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		ct status dnat jump allowed_dnats
	}
}
table ip natout {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ip saddr 203.0.113.0/24 masquerade
	}
}
EOF
}

ENTRIES=0

# run_case MODE WHAT MATCH ADDR PORT [nattraced args...]: one SYN from the
# client, traced into the journal; the entry is left in $LAB_TMP/entry.json.
run_case()
{
	local mode=$1 what=$2 match=$3 addr=$4 port=$5
	shift 5

	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN LAB_ERR=$LAB_TMP/err.$LAB_RUN
	if [ "$mode" = subset ]; then
		PS_PREFIX=(jd_exec)
		ps_daemon_start --output journal --match "$match" --count 1 --timeout 15 "$@"
	else
		jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" \
			--output journal --match "$match" --count 1 --timeout 15 "$@" \
			>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
		LAB_DAEMON_PID=$!
	fi
	LAB_ARGS="--output journal --match $match --count 1 $* ($mode)"
	lab_daemon_ready
	lab_syn "$addr" "$port"
	lab_daemon_wait
	ps_expect_mounted
	lab_expect_rc 0
	ENTRIES=$((ENTRIES + 1))
	jd_wait_entries "$ENTRIES" MESSAGE_ID=5ec034376eec4a589f7f395bb4e2c33d ||
		lab_fail "$what: no journal entry"
	jd_journalctl -o json -n 1 MESSAGE_ID=5ec034376eec4a589f7f395bb4e2c33d >"$LAB_TMP/entry.json"
	LAB_OUT=$LAB_TMP/entry.json
}

# expect_lost WHAT REASON EVIDENCE: named in the fields, the JSON and the text.
expect_lost()
{
	local what=$1 reason=$2 ev=$3
	jq -e --arg r "$reason" --arg e "$ev" '
		.NATTRACE_VERDICT == "accept" and
		.NATTRACE_OUTSIDE_REASON == $r and .NATTRACE_OUTSIDE_EVIDENCE == $e and
		(.NATTRACE_JSON | fromjson |
			.outside_ruleset.reason == $r and .outside_ruleset.evidence == $e and
			.after_ruleset == null and (.cause.summary | endswith($e))) and
		(.MESSAGE | contains("outside the ruleset: " + $e))' \
		"$LAB_TMP/entry.json" >/dev/null || lab_fail "$what: expected $reason: $ev"
	echo "ok: $what: $reason in the journal fields, the JSON and the text"
}

# expect_went WHAT DECISION OUT GATEWAY TEXT
expect_went()
{
	local what=$1 d=$2 out=$3 gw=$4 text=$5
	jq -e --arg d "$d" --arg o "$out" --arg g "$gw" --arg t "$text" '
		.NATTRACE_VERDICT == "accept" and (has("NATTRACE_OUTSIDE_REASON") | not) and
		.NATTRACE_AFTER_RULESET == $d and (.NATTRACE_AFTER_RULESET_EVIDENCE | startswith($t)) and
		(.NATTRACE_JSON | fromjson |
			.outside_ruleset == null and .after_ruleset.decision == $d and
			.after_ruleset.after == "prerouting" and
			(.after_ruleset.out // "") == $o and (.after_ruleset.gateway // "") == $g and
			(.after_ruleset.summary | startswith($t))) and
		(.MESSAGE | contains("\n  then " + $t))' \
		"$LAB_TMP/entry.json" >/dev/null || lab_fail "$what: expected after_ruleset $d ($text)"
	echo "ok: $what: $d in the journal fields, the JSON and the text"
}

syn_match="tcp flags syn / fin,syn,rst,ack"
lab_exec_router socat TCP4-LISTEN:2222,reuseaddr,fork SYSTEM:"echo hi" </dev/null >/dev/null 2>&1 &
lab_exec_router ip route add 192.0.2.48/28 via "$LAB_SERVER4" || lab_fail "cannot add the gateway route"
for _ in $(seq 50); do
	[ -n "$(lab_exec_router ss -Hltn 'sport = :2222')" ] && break
	sleep 0.1
done

for ruleset in issue natonly; do
	lab_exec_router nft flush ruleset
	issue_ruleset "$ruleset" | lab_exec_router nft -f - || lab_fail "cannot load the $ruleset ruleset"
	for mode in proc subset; do
		tag="$ruleset, /proc $mode"

		lab_exec_router sysctl -qw net.ipv4.ip_forward=0
		run_case "$mode" "$tag: ip_forward 0" "tcp dport 1222 $syn_match" "$LAB_WAN4" 1222
		expect_lost "$tag: ip_forward 0, DNAT" forwarding_off \
			"not forwarded: net.ipv4.ip_forward is 0 in this namespace"
		run_case "$mode" "$tag: ip_forward 0, direct" "tcp dport 22 $syn_match" "$LAB_SERVER4" 22
		expect_lost "$tag: ip_forward 0, straight to the server" forwarding_off \
			"not forwarded: net.ipv4.ip_forward is 0 in this namespace"
		lab_exec_router sysctl -qw net.ipv4.ip_forward=1

		run_case "$mode" "$tag: no route" "tcp dport 1223 $syn_match" "$LAB_WAN4" 1223
		expect_lost "$tag: DNAT to $NO_ROUTE4" no_route "no route to $NO_ROUTE4 (from iif wan0)"

		lab_exec_router sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wan0.rp_filter=1
		lab_exec_router ip route del 198.51.100.0/24 dev wan0 || lab_fail "cannot delete the client's route"
		run_case "$mode" "$tag: rp_filter" "tcp dport 1222 $syn_match" "$LAB_WAN4" 1222
		expect_lost "$tag: rp_filter 1, no route back" rp_filter \
			"reverse-path filter: net.ipv4.conf.wan0.rp_filter is 1 (strict) and there is no route back to $LAB_CLIENT4"
		lab_exec_router ip route add 198.51.100.0/24 dev wan0 src "$LAB_WAN4" ||
			lab_fail "cannot restore the client's route"
		lab_exec_router sysctl -qw net.ipv4.conf.wan0.rp_filter=0

		run_case "$mode" "$tag: no listener" "tcp dport 8080 $syn_match" "$LAB_WAN4" 8080 \
			--hooks prerouting
		expect_lost "$tag: router port 8080, no input chain" no_listener \
			"no listener: no socket on this host takes tcp $LAB_WAN4:8080, the kernel answers with a reset"

		run_case "$mode" "$tag: delivered" "tcp dport 2222 $syn_match" "$LAB_WAN4" 2222
		expect_went "$tag: router port 2222 with a listener" delivered "" "" \
			"delivered locally: a socket takes tcp $LAB_WAN4:2222"

		[ "$ruleset" = natonly ] || continue
		run_case "$mode" "$tag: forwarded" "tcp dport 1222 $syn_match" "$LAB_WAN4" 1222
		expect_went "$tag: forwarded, on link" forwarded lan0 "" \
			"forwarded out of lan0, its destination on link"
		run_case "$mode" "$tag: via a gateway" "tcp dport 1224 $syn_match" "$LAB_WAN4" 1224
		expect_went "$tag: forwarded via the server" forwarded lan0 "$LAB_SERVER4" \
			"forwarded out of lan0 via $LAB_SERVER4"
	done
done

# The plain text output says the same on one line.
LAB_QUIET=1
lab_daemon_start --match "tcp dport 1222 $syn_match" --count 1 --output text --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" 1222
lab_daemon_wait
lab_expect_rc 0
grep -q "^  then forwarded out of lan0, its destination on link (the kernel's answer; no chain of the ruleset follows prerouting)$" "$LAB_OUT" ||
	lab_fail "text: no 'then forwarded out of lan0' line"
echo "ok: text output: then forwarded out of lan0"

jd_down
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
