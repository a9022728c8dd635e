#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One packet, one timeline, with the real kernel: a container's packets
# cross a Linux bridge (br_netfilter on) and the kernel gives each one a
# new trace id between prerouting and forward (the id hashes the input
# interface, which changes when the packet goes up from the bridge); `nft
# monitor trace` shows both ids. nattraced must join the halves, never
# call the first half "lost outside the ruleset", and show the source port
# that `masquerade fully-random` really chose (conntrack's), not the
# client's.
#
#   container eth0 192.0.2.2 -- vc0 [br0 192.0.2.1] router wan0 198.51.100.1 -- client 198.51.100.2:8080
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
lab_skip_unless_possible
lab_require ip nft socat jq conntrack || exit 1

suffix=$(printf '%x%04x' "$$" "$RANDOM")
LAB_ROUTER="brj-$suffix-rtr"
LAB_CLIENT="brj-$suffix-cli"
LAB_SERVER="brj-$suffix-ctr"	# the container
MON_PID=
lab_trap '[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null'

build()
{
	local ns

	for ns in "$LAB_ROUTER" "$LAB_CLIENT" "$LAB_SERVER"; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	ip -n "$LAB_ROUTER" link add br0 type bridge &&
	ip -n "$LAB_ROUTER" addr add 192.0.2.1/24 dev br0 &&
	ip -n "$LAB_ROUTER" link set br0 up &&
	ip -n "$LAB_ROUTER" link add vc0 type veth peer name eth0 netns "$LAB_SERVER" &&
	ip -n "$LAB_ROUTER" link set vc0 master br0 &&
	ip -n "$LAB_ROUTER" link set vc0 up &&
	ip -n "$LAB_SERVER" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$LAB_SERVER" link set eth0 up &&
	ip -n "$LAB_SERVER" route add default via 192.0.2.1 &&
	ip -n "$LAB_ROUTER" link add wan0 type veth peer name eth0 netns "$LAB_CLIENT" &&
	ip -n "$LAB_ROUTER" addr add 198.51.100.1/24 dev wan0 &&
	ip -n "$LAB_ROUTER" link set wan0 up &&
	ip -n "$LAB_CLIENT" addr add 198.51.100.2/24 dev eth0 &&
	ip -n "$LAB_CLIENT" link set eth0 up &&
	ip -n "$LAB_CLIENT" route add default via 198.51.100.1 &&
	ip netns exec "$LAB_ROUTER" sysctl -qw net.ipv4.ip_forward=1 || return 1
	# br_netfilter: bridged frames pass the inet hooks (as with Docker)
	ip netns exec "$LAB_ROUTER" sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
		{ echo "SKIP: no br_netfilter (net.bridge.bridge-nf-call-iptables)" >&2; exit 77; }
	ip netns exec "$LAB_ROUTER" nft -f - <<'NFT' || return 1
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "br0" oifname "wan0" tcp dport 8080 accept
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade fully-random
	}
}
NFT
}
build || lab_fail "could not build the bridge lab"
lab_exec_client socat TCP4-LISTEN:8080,reuseaddr,fork SYSTEM:"echo $LAB_BANNER" \
	</dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_client ss -Hltn 'sport = :8080' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

lab_tmp || exit 1
ip netns exec "$LAB_ROUTER" nft monitor trace >"$LAB_TMP/monitor" 2>&1 &
MON_PID=$!
lab_daemon_start --match "ip saddr 192.0.2.2 tcp dport 8080 tcp flags syn" \
	--count 1 --output json --timeout 15
lab_daemon_ready
got=$(ip netns exec "$LAB_SERVER" socat -T3 - TCP4:198.51.100.2:8080 </dev/null 2>&1)
[ "$got" = "$LAB_BANNER" ] || lab_fail "the container could not connect out (got '$got')"
lab_daemon_wait
lab_expect_rc 0
sleep 0.2
kill "$MON_PID" 2>/dev/null
wait "$MON_PID" 2>/dev/null
MON_PID=

lab_expect_json "one timeline for the SYN, complete, accepted" '
	length == 1 and .[0].verdict == "accept" and .[0].complete == true and
	.[0].packet.tcp_flags == "syn"'
lab_expect_json "the two trace ids of the packet are joined" '
	(.[0].ids | length) == 2 and .[0].ids[0] == .[0].id'
lab_expect_json "the forward rule and the masquerade are both in it" '
	[.[0].events[].rule] | index("iifname \"br0\" oifname \"wan0\" tcp dport 8080 accept") != null and
	index("oifname \"wan0\" masquerade fully-random") != null'
lab_expect_json "not lost outside the ruleset: it was seen later" '.[0].outside_ruleset == null'

# nft monitor trace shows the same two ids for the packet
for id in $(jq -r 'select(.type == "trace") | .ids[]' "$LAB_OUT"); do
	grep -q "^trace id $id " "$LAB_TMP/monitor" ||
		lab_fail "nft monitor trace printed no event with trace id $id"
done
echo "ok: nft monitor trace shows both trace ids"
first=$(jq -r 'select(.type == "trace") | .ids[0]' "$LAB_OUT")
second=$(jq -r 'select(.type == "trace") | .ids[1]' "$LAB_OUT")
grep -q "^trace id $first inet filter forward" "$LAB_TMP/monitor" &&
	lab_fail "the first id reached forward in nft's trace: no id change to test"
grep -q "^trace id $second inet filter forward rule" "$LAB_TMP/monitor" ||
	lab_fail "the forward rule is not under the second id in nft's trace"
echo "ok: the id changed between prerouting and forward"

# The port masquerade chose, as conntrack has it; never the client's port.
sport=$(jq -r 'select(.type == "trace") | .packet.sport' "$LAB_OUT")
ct_port=$(ip netns exec "$LAB_ROUTER" conntrack -L -p tcp --orig-src 192.0.2.2 \
	--orig-port-src "$sport" 2>/dev/null |
	sed -n 's/.*src=198.51.100.2 dst=198.51.100.1 sport=8080 dport=\([0-9]*\).*/\1/p' | head -1)
[ -n "$ct_port" ] || lab_fail "conntrack has no entry for 192.0.2.2:$sport"
lab_expect_json "masquerade shows conntrack's port $ct_port" '
	.[0].nat | length == 1 and .[0].kind == "masquerade" and
	.[0].from == "192.0.2.2:'"$sport"'" and .[0].to == "198.51.100.1:'"$ct_port"'"'
lab_expect_json "the mapping is conntrack's entry" '
	.[0].mapping.reply_dst == "198.51.100.1:'"$ct_port"'" and .[0].mapping.nat == "snat"'
lab_expect_stats "the id change is counted as joined" '.joined >= 1 and .foreign == 0'
echo "PASS"
