#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regenerate iptables.rules and ip6tables.rules here: ufw's own rules, as
# ufw loads them through iptables-nft, for the router of
# tests/e2e/ruleset_ufw.sh. Not run by the tests (they load the committed
# files with iptables-nft-restore and need no ufw).
#
# How it was run (Debian 12, as root, ufw 0.36.2-1 from
# `apt-get install --no-install-recommends ufw`; iptables 1.8.9 with the
# nf_tables backend, Debian's default alternative):
#
#	bash tests/rulesets/ufw/generate.sh
#
# It runs ufw in a scratch network namespace that only holds the router's
# two interface names (wan0, lan0: a veth pair), inside a private mount
# namespace in which /etc/ufw, /etc/default/ufw, /lib/ufw and /run are
# private copies, so neither the machine's ruleset nor its files see
# anything. ufw's configuration is Debian's default (IPV6=yes, incoming
# and routed denied, outgoing allowed, logging low), except that the copy
# of /etc/default/ufw sets IPT_SYSCTL to an empty file: ufw-init would
# otherwise apply /etc/ufw/sysctl.conf, which is no part of the ruleset.
# Then iptables-nft-save and ip6tables-nft-save there, verbatim below a
# header.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ns="ufwgen-$$-$RANDOM"
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

cp -a /etc/ufw "$work/etc-ufw"
cp -a /lib/ufw "$work/lib-ufw"
cp /etc/default/ufw "$work/default-ufw"
: >"$work/empty-sysctl.conf"
sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$work/empty-sysctl.conf|" "$work/default-ufw"

cat >"$work/inner.sh" <<INNER
set -euo pipefail
mount --bind "$work/etc-ufw" /etc/ufw
mount --bind "$work/lib-ufw" /lib/ufw
mount --bind "$work/default-ufw" /etc/default/ufw
mount -t tmpfs tmpfs /run
u() { /usr/sbin/ufw "\$@" >&2; }
u --force enable
# ssh to the router, v4 and v6; 8443 refused with a reset, v4 and v6
u allow 22/tcp
u reject 8443/tcp
# the server's ssh routed from wan0 to lan0, v4 and v6
u route allow in on wan0 out on lan0 to 203.0.113.10 port 22 proto tcp
u route allow in on wan0 out on lan0 to 2001:db8:2::10 port 22 proto tcp
/usr/sbin/ufw status verbose >"$work/status"
iptables-nft-save >"$work/v4"
ip6tables-nft-save >"$work/v6"
INNER

ip netns exec "$ns" unshare -m --propagation private bash "$work/inner.sh"

header()
{
	cat <<HDR
# ufw's firewall as ufw loads it through iptables-nft ($1).
#
# Source:    Debian 12 package ufw $(dpkg-query -W -f='${Version}' ufw), with iptables
#            $(dpkg-query -W -f='${Version}' iptables) (nf_tables backend)
# Generated: $(date -u +%Y-%m-%d) by tests/rulesets/ufw/generate.sh (see there how):
#            ufw run in a scratch network namespace, then
#            \`$2\` there, verbatim below this header.
# Changes:   none to ufw's output. The configuration is Debian's default
#            (/etc/ufw and /etc/default/ufw as the package installs them)
#            plus these commands:
#              ufw --force enable
#              ufw allow 22/tcp
#              ufw reject 8443/tcp
#              ufw route allow in on wan0 out on lan0 to 203.0.113.10 port 22 proto tcp
#              ufw route allow in on wan0 out on lan0 to 2001:db8:2::10 port 22 proto tcp
#            Interface names and addresses are those of the test lab
#            (documentation ranges only).
# ufw status verbose:
HDR
	sed 's/^/#   /' "$work/status"
}

{
	header IPv4 iptables-nft-save
	cat "$work/v4"
} >"$here/iptables.rules"
{
	header IPv6 ip6tables-nft-save
	cat "$work/v6"
} >"$here/ip6tables.rules"
