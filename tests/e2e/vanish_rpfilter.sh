#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Lost outside the ruleset to the reverse-path filter, and to a martian
# source: the client sends from addresses the router does not expect on
# wan0. Strict mode (rp_filter 1): the route back to a source in the
# server's subnet leaves through lan0. Loose mode (2): there is no route
# back at all. A source that is the router's own address is a martian
# whatever rp_filter says.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/procsubset.sh
. "$TESTS_DIR/lib/procsubset.sh"
lab_init vrpf

# syn_from SRC: trace one SYN from the client, sent from SRC (an extra
# address on its eth0), to the server's port 22.
syn_from()
{
	lab_exec_client ip addr add "$1/32" dev eth0 2>/dev/null
	"${SYN_START:-lab_daemon_start}" --match "ip saddr $1 tcp dport 22 tcp flags syn" --count 1 \
		--output json --timeout 15
	lab_daemon_ready
	timeout 3 ip netns exec "$LAB_CLIENT" socat -T 1 - \
		"TCP4:$LAB_SERVER4:22,bind=$1,connect-timeout=0.5" </dev/null >/dev/null 2>&1
	lab_daemon_wait
	ps_expect_mounted
	lab_expect_rc 0
}

expect_outside()	# WHAT REASON EVIDENCE
{
	lab_expect_json "$1" '
		.[0].verdict == "accept" and .[0].complete == true and
		.[0].outside_ruleset.after == "prerouting" and
		.[0].outside_ruleset.reason == "'"$2"'" and
		.[0].outside_ruleset.evidence == "'"$3"'" and
		(.[0].cause.summary | endswith("dropped outside the ruleset: '"$3"'"))'
}

# The router answers no ARP request from a source it would refuse (ARP
# checks the sender's address with the same route lookup): give the client
# the router's MAC address once.
mac=$(lab_exec_router cat /sys/class/net/wan0/address)
lab_exec_client ip neigh replace "$LAB_WAN4" lladdr "$mac" dev eth0 nud permanent ||
	lab_fail "cannot add the router's MAC address on the client"

# 1. Strict: 203.0.113.50 is routed back through lan0.
lab_exec_router sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.wan0.rp_filter=1
syn_from 203.0.113.50
expect_outside "strict rp_filter: route back through lan0" rp_filter \
	"reverse-path filter: net.ipv4.conf.wan0.rp_filter is 1 (strict) and the route back to 203.0.113.50 leaves through lan0, not wan0"

# The same under the unit's ProcSubset=pid (no /proc/sys): rp_filter
# comes over netlink (RTM_GETNETCONF).
SYN_START=ps_daemon_start syn_from 203.0.113.50
expect_outside "/proc subset=pid: strict rp_filter: route back through lan0" rp_filter \
	"reverse-path filter: net.ipv4.conf.wan0.rp_filter is 1 (strict) and the route back to 203.0.113.50 leaves through lan0, not wan0"

# 2. Loose, set on all only: no route back to 192.0.2.200.
lab_exec_router sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.wan0.rp_filter=0
syn_from 192.0.2.200
expect_outside "loose rp_filter: no route back" rp_filter \
	"reverse-path filter: net.ipv4.conf.all.rp_filter is 2 (loose) and there is no route back to 192.0.2.200"

# 3. Loose lets the asymmetric source through: the packet is forwarded
# (and dropped by the forward chain's policy, a rule, not outside).
syn_from 203.0.113.50
lab_expect_json "loose rp_filter: 203.0.113.50 passes, dropped by the forward policy" '
	.[0].verdict == "drop" and .[0].outside_ruleset == null'

# 4. A martian source: the router's own lan0 address, rp_filter off.
lab_exec_router sysctl -qw net.ipv4.conf.all.rp_filter=0
syn_from "$LAB_LAN4"
expect_outside "martian source: an address of this host" martian_source \
	"martian source $LAB_LAN4 (from iif wan0): an address of this host"

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
