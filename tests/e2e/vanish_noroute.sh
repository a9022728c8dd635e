#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Lost outside the ruleset for want of a route: the router's prerouting
# accepts the packet, then its route lookup fails. nattraced must say so
# with the address after NAT (a DNAT to an address with no route), and tell
# unreachable, blackhole and prohibit routes apart, with the packet's mark
# (policy routing) and for IPv6.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init vroute

one_syn()	# ADDR PORT MATCH
{
	lab_daemon_start --match "$3" --count 1 --output json --timeout 15
	lab_daemon_ready
	lab_syn "$1" "$2"
	lab_daemon_wait
	lab_expect_rc 0
}

# expect_outside WHAT REASON EVIDENCE
expect_outside()
{
	lab_expect_json "$1" '
		.[0].verdict == "accept" and .[0].complete == true and
		.[0].outside_ruleset.after == "prerouting" and
		.[0].outside_ruleset.reason == "'"$2"'" and
		.[0].outside_ruleset.evidence == "'"$3"'" and
		(.[0].cause.summary | endswith("dropped outside the ruleset: '"$3"'"))'
}

# 1. A port forward to an address the router has no route to. The DNAT
# happens in the last chain that saw the packet: its headers still show
# 198.51.100.1:1223; the route lookup must use 192.0.2.99.
lab_exec_router nft add rule inet nat prerouting iifname wan0 tcp dport 1223 dnat ip to 192.0.2.99:80
one_syn "$LAB_WAN4" 1223 "ip daddr $LAB_WAN4 tcp dport 1223 tcp flags syn"
expect_outside "dnat to 192.0.2.99: no route, after NAT" no_route \
	"no route to 192.0.2.99 (from iif wan0)"

# 2. Routes that refuse: unreachable, blackhole, prohibit.
lab_exec_router ip route add unreachable 192.0.2.0/28
lab_exec_router ip route add blackhole 192.0.2.16/28
lab_exec_router ip route add prohibit 192.0.2.32/28
one_syn 192.0.2.1 80 "ip daddr 192.0.2.1 tcp dport 80 tcp flags syn"
expect_outside "unreachable route" unreachable_route \
	"no route to 192.0.2.1 (from iif wan0): the route is of type unreachable"
one_syn 192.0.2.17 80 "ip daddr 192.0.2.17 tcp dport 80 tcp flags syn"
expect_outside "blackhole route" blackhole_route \
	"no route to 192.0.2.17 (from iif wan0): the route is of type blackhole"
one_syn 192.0.2.33 80 "ip daddr 192.0.2.33 tcp dport 80 tcp flags syn"
expect_outside "prohibit route" prohibit_route \
	"no route to 192.0.2.33 (from iif wan0): the route is of type prohibit"

# 3. Policy routing by mark: packets marked 7 use a table whose only route
# is unreachable; the lookup must carry the mark the packet had.
lab_exec_router ip rule add fwmark 7 lookup 100
lab_exec_router ip route add unreachable default table 100
lab_exec_router nft add chain inet filter mangle_pre '{ type filter hook prerouting priority mangle; policy accept; }'
lab_exec_router nft add rule inet filter mangle_pre tcp dport 81 meta mark set 7
one_syn "$LAB_SERVER4" 81 "ip daddr $LAB_SERVER4 tcp dport 81 tcp flags syn"
expect_outside "mark 7: the policy route is unreachable" unreachable_route \
	"no route to $LAB_SERVER4 (from iif wan0, mark 0x7): the route is of type unreachable"

# 4. IPv6, no route at all.
one_syn 2001:db8:99::1 80 "ip6 daddr 2001:db8:99::1 tcp dport 80 tcp flags syn"
expect_outside "ipv6: no route" no_route "no route to 2001:db8:99::1 (from iif wan0)"

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
