#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# No local listener: a SYN or a UDP datagram for the router itself, on a
# port nothing listens on. The ruleset accepts it at input; then the
# kernel's socket lookup finds no socket (a SYN is answered with a reset,
# a datagram with ICMP port unreachable). nattraced asks the kernel the
# same lookup through sock_diag and names it. With a listener on the port,
# nothing is said to be lost.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init vlisten

# trace_one MATCH SOCAT-ADDRESS: trace one packet the client sends.
trace_one()
{
	lab_daemon_start --match "$1" --count 1 --output json --timeout 15
	lab_daemon_ready
	echo x | timeout 3 ip netns exec "$LAB_CLIENT" socat -T 1 - "$2" >/dev/null 2>&1
	lab_daemon_wait
	lab_expect_rc 0
}

expect_no_listener()	# WHAT EVIDENCE
{
	lab_expect_json "$1" '
		.[0].verdict == "accept" and .[0].complete == true and
		.[0].outside_ruleset.after == "input" and
		.[0].outside_ruleset.expected == [] and
		.[0].outside_ruleset.reason == "no_listener" and
		.[0].outside_ruleset.evidence == "'"$2"'" and
		(.[0].cause.summary | endswith("then refused outside the ruleset: '"$2"'"))'
}

# 1. TCP, IPv4 and IPv6.
trace_one "ip daddr $LAB_WAN4 tcp dport 8080 tcp flags syn" "TCP4:$LAB_WAN4:8080,connect-timeout=0.5"
expect_no_listener "tcp: no listener on 8080" \
	"no listener: no socket on this host takes tcp $LAB_WAN4:8080, the kernel answers with a reset"
trace_one "ip6 daddr $LAB_WAN6 tcp dport 8080 tcp flags syn" "TCP6:[$LAB_WAN6]:8080,connect-timeout=0.5"
expect_no_listener "tcp6: no listener on 8080" \
	"no listener: no socket on this host takes tcp [$LAB_WAN6]:8080, the kernel answers with a reset"

# 2. UDP.
trace_one "ip daddr $LAB_WAN4 udp dport 5353" "UDP4:$LAB_WAN4:5353"
expect_no_listener "udp: no socket on 5353" \
	"no listener: no socket on this host takes udp $LAB_WAN4:5353, the kernel answers with ICMP port unreachable"

# 3. With listeners, nothing is lost: a TCP listener on the wildcard
# address (dual stack) and a UDP socket bound to the wan0 address.
lab_exec_router socat TCP6-LISTEN:8080,ipv6only=0,reuseaddr,fork SYSTEM:"echo hi" </dev/null >/dev/null 2>&1 &
lab_exec_router socat -u UDP4-RECV:5353,bind="$LAB_WAN4" - </dev/null >/dev/null 2>&1 &
# Sockets on other addresses do not take packets for wan0's address.
lab_exec_router socat TCP4-LISTEN:8081,bind="$LAB_LAN4",reuseaddr,fork SYSTEM:"echo hi" </dev/null >/dev/null 2>&1 &
lab_exec_router socat -u UDP4-RECV:5354,bind="$LAB_LAN4" - </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_router ss -Hltn | grep -cE ':808[01] ')" -ge 2 ] &&
		[ "$(lab_exec_router ss -Hlun | grep -cE ':535[34] ')" -ge 2 ] && break
	sleep 0.1
done
trace_one "ip daddr $LAB_WAN4 tcp dport 8080 tcp flags syn" "TCP4:$LAB_WAN4:8080,connect-timeout=0.5"
lab_expect_json "tcp: a listener on [::]:8080 takes it, nothing lost" '
	.[0].verdict == "accept" and .[0].outside_ruleset == null'
trace_one "ip daddr $LAB_WAN4 udp dport 5353" "UDP4:$LAB_WAN4:5353"
lab_expect_json "udp: a socket bound to $LAB_WAN4:5353 takes it, nothing lost" '
	.[0].verdict == "accept" and .[0].outside_ruleset == null'

trace_one "ip daddr $LAB_WAN4 tcp dport 8081 tcp flags syn" "TCP4:$LAB_WAN4:8081,connect-timeout=0.5"
expect_no_listener "tcp: a listener on $LAB_LAN4:8081 does not take $LAB_WAN4:8081" \
	"no listener: no socket on this host takes tcp $LAB_WAN4:8081, the kernel answers with a reset"
trace_one "ip daddr $LAB_WAN4 udp dport 5354" "UDP4:$LAB_WAN4:5354"
expect_no_listener "udp: a socket on $LAB_LAN4:5354 does not take $LAB_WAN4:5354" \
	"no listener: no socket on this host takes udp $LAB_WAN4:5354, the kernel answers with ICMP port unreachable"

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
