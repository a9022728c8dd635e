#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regenerate ruleset.nft here: the nftables table and the policy routing
# that wg-quick(8) sets up for a full tunnel (AllowedIPs 0.0.0.0/0, ::/0),
# for the router of tests/e2e/ruleset_wg-quick.sh. Not run by the tests
# (they load the committed ruleset.nft and make the same routing rules).
#
# How it was run (Debian 12, as root, wireguard-tools 1.0.20210914-1+b1
# from `apt-get install --no-install-recommends wireguard-tools`, nftables
# 1.0.6):
#
#	bash tests/rulesets/wg-quick/generate.sh >tests/rulesets/wg-quick/ruleset.nft
#
# Debian's /usr/bin/wg-quick itself runs `up` on a configuration file, in a
# scratch network namespace. The kernel it was run on has no WireGuard
# (`ip link add ... type wireguard` fails), so two programs are stood in
# for, in a directory of their own that wg-quick finds first (it puts its
# own directory first in PATH, so it is run from a copy there):
#   ip   does what the real ip does, except that `ip link add wg0 type
#        wireguard` makes an ifb interface wg0 instead (no dummy
#        either in that kernel; an ifb drops what is sent out of it);
#   wg   answers `wg show wg0 allowed-ips|endpoints|fwmark` from the
#        configuration file and remembers `wg set wg0 fwmark N`; `wg
#        setconf` (the keys) does nothing.
# Everything else (addresses, routes, the routing rules, the sysctl and
# the nft commands) is wg-quick's own doing in that namespace; the header
# shows the commands it ran, as it prints them, and `ip rule` and the
# routes it left.
set -euo pipefail

ns="wggen-$$-$RANDOM"
work=$(mktemp -d)
cleanup()
{
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add wan0 type veth peer name lan0
ip -n "$ns" addr add 198.51.100.1/24 dev wan0
ip -n "$ns" link set wan0 up
ip -n "$ns" route add default via 198.51.100.2

mkdir -m 700 "$work/bin" "$work/etc"
cp /usr/bin/wg-quick "$work/bin/wg-quick"
real_ip=$(command -v ip)
cat >"$work/bin/ip" <<EOF
#!/bin/bash
if [ "\$*" = "link add wg0 type wireguard" ]; then
	exec $real_ip link add wg0 type ifb
fi
exec $real_ip "\$@"
EOF
cat >"$work/bin/wg" <<EOF
#!/bin/bash
state=$work/fwmark
case "\$*" in
"show wg0 allowed-ips") printf 'peer0\t0.0.0.0/0 ::/0\n' ;;
"show wg0 endpoints") printf 'peer0\t192.0.2.51:51821\n' ;;
"show wg0 fwmark") cat "\$state" 2>/dev/null || echo off ;;
"set wg0 fwmark "*) printf '0x%x\n' "\$4" >"\$state" ;;
"setconf wg0 "*) ;;
*) echo "wg stand-in: unexpected: \$*" >&2; exit 1 ;;
esac
EOF
chmod 755 "$work/bin/ip" "$work/bin/wg" "$work/bin/wg-quick"
# The keys are placeholders: `wg setconf` is stood in for.
cat >"$work/etc/wg0.conf" <<'EOF'
[Interface]
PrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
Address = 192.0.2.2/32, 2001:db8:3::2/128

[Peer]
PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
Endpoint = 192.0.2.51:51821
AllowedIPs = 0.0.0.0/0, ::/0
EOF
chmod 600 "$work/etc/wg0.conf"

if ! ip netns exec "$ns" env PATH="$work/bin:$PATH" "$work/bin/wg-quick" up "$work/etc/wg0.conf" \
	2>"$work/log"; then
	cat "$work/log" >&2
	exit 1
fi

cat <<HDR
# wg-quick(8)'s nftables table for a full tunnel, with the policy routing
# it comes with.
#
# Source:    Debian 12 package wireguard-tools $(dpkg-query -W -f='${Version}' wireguard-tools),
#            /usr/bin/wg-quick (upstream WireGuard/wireguard-tools
#            src/wg-quick/linux.bash, add_default()), with nftables $(dpkg-query -W -f='${Version}' nftables)
# Generated: $(date -u +%Y-%m-%d) by tests/rulesets/wg-quick/generate.sh (see there how):
#            \`wg-quick up wg0.conf\` run in a scratch network namespace
#            (wg0 an ifb interface: no WireGuard in that kernel), then
#            \`nft list ruleset\` there, verbatim below this header.
# Changes:   none to wg-quick's output. wg0.conf:
#              [Interface] Address = 192.0.2.2/32, 2001:db8:3::2/128
#              [Peer] Endpoint = 192.0.2.51:51821
#                     AllowedIPs = 0.0.0.0/0, ::/0
#            Addresses are documentation ranges. The fe80:: rule is the
#            ifb's link-local address (an ifb has a MAC address, a
#            WireGuard interface none): wg-quick writes one rule per
#            address of the interface.
# What wg-quick ran:
$(sed 's/^/#   /' "$work/log")
# The routing it left (tests/e2e/ruleset_wg-quick.sh makes the same):
$(ip -n "$ns" -4 rule | sed 's/^/#   ip -4 rule: /')
$(ip -n "$ns" -6 rule | sed 's/^/#   ip -6 rule: /')
$(ip -n "$ns" -4 route show table 51820 | sed 's/^/#   ip -4 route table 51820: /')
$(ip -n "$ns" -6 route show table 51820 | sed 's/^/#   ip -6 route table 51820: /')
#   net.ipv4.conf.all.src_valid_mark = $(ip netns exec "$ns" sysctl -n net.ipv4.conf.all.src_valid_mark)
#
HDR
ip netns exec "$ns" nft list ruleset
