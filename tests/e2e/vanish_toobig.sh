#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Too big for the way out: the router's lan0 has an MTU of 1280, the
# client's network 1500. A 1400-byte UDP datagram for the server (sent with
# DF: the client's path MTU is 1500) is accepted at prerouting; then
# ip_forward() drops it before the forward hook and answers ICMP
# fragmentation needed (IPv6: packet too big). nattraced must name the
# MTU, and say nothing of the kind for a datagram that fits.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init vbig

lab_exec_router ip link set lan0 mtu 1280 || lab_fail "cannot set lan0's MTU"
lab_exec_server ip link set eth0 mtu 1280 || lab_fail "cannot set the server's MTU"

# udp_to ADDR SIZE MATCH: trace one datagram of SIZE payload bytes.
udp_to()
{
	local target

	case $1 in
	*:*) target="UDP6:[$1]:9999" ;;
	*) target="UDP4:$1:9999" ;;
	esac
	lab_daemon_start --match "$3" --count 1 --output json --timeout 15
	lab_daemon_ready
	head -c "$2" /dev/zero | tr '\0' x |
		timeout 3 ip netns exec "$LAB_CLIENT" socat -u - "$target" >/dev/null 2>&1
	lab_daemon_wait
	lab_expect_rc 0
}

# 1. IPv4: 1372 bytes of payload + 8 + 20 = 1400.
udp_to "$LAB_SERVER4" 1372 "ip daddr $LAB_SERVER4 udp dport 9999"
lab_expect_json "ipv4: too big for lan0" '
	.[0].verdict == "accept" and .[0].complete == true and
	.[0].outside_ruleset.after == "prerouting" and
	.[0].outside_ruleset.reason == "too_big" and
	.[0].outside_ruleset.evidence == "too big: a 1400-byte packet for a route out lan0 with MTU 1280; the kernel answers ICMP fragmentation needed (the packet has DF set)"'

# 2. IPv6: 1352 + 8 + 40 = 1400.
udp_to "$LAB_SERVER6" 1352 "ip6 daddr $LAB_SERVER6 udp dport 9999"
lab_expect_json "ipv6: too big for lan0" '
	.[0].outside_ruleset.reason == "too_big" and
	.[0].outside_ruleset.evidence == "too big: a 1400-byte packet for a route out lan0 with MTU 1280; the kernel answers ICMPv6 packet too big"'

# 3. A datagram that fits goes on to the forward hook (where the lab's
# forward policy drops it: a rule, not outside the ruleset).
udp_to "$LAB_SERVER4" 100 "ip daddr $LAB_SERVER4 udp dport 9999"
lab_expect_json "small: forwarded, dropped by the forward policy" '
	.[0].verdict == "drop" and .[0].outside_ruleset == null'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
