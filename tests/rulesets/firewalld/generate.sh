#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regenerate ruleset.nft: firewalld's own rendering of its nftables backend
# for the router of tests/e2e/ruleset_firewalld.sh. Not run by the tests
# (they load the committed ruleset.nft and need no firewalld).
#
# How it was run (Debian 12, as root, firewalld 1.3.3-1~deb12u2 from
# `apt-get install --no-install-recommends firewalld`, whose postinst did
# not start the service because policy-rc.d said no):
#
#	bash tests/rulesets/firewalld/generate.sh >tests/rulesets/firewalld/ruleset.nft
#
# It runs firewalld in a scratch network namespace that only holds the
# router's two interface names (wan0, lan0: a veth pair), inside a private
# mount namespace with its own tmpfs /run/dbus, /run/firewalld and
# /var/log and its own system dbus-daemon, so neither the machine's
# ruleset nor its dbus see anything. /etc/firewalld is used as Debian
# ships it (default zone public); every change below is runtime only.
set -euo pipefail

ns="fwgen-$$-$RANDOM"
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

cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
mkdir -p /run/dbus /run/firewalld
mount -t tmpfs tmpfs /run/dbus
mount -t tmpfs tmpfs /run/firewalld
mount -t tmpfs tmpfs /var/log
# A bus with no service activation: nothing else (polkitd) gets started.
cat >/run/dbus/bus.conf <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file=/run/dbus/bus.conf --nofork --nopidfile &
dbus=$!
for _ in $(seq 50); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
firewalld --nofork --nopid &
fw=$!
stop() { kill "$fw" 2>/dev/null; wait "$fw" 2>/dev/null; kill "$dbus"; wait "$dbus" 2>/dev/null; }
trap stop EXIT
for _ in $(seq 100); do firewall-cmd --state >/dev/null 2>&1 && break; sleep 0.2; done
fc() { firewall-cmd "$@" >/dev/null; }
# wan0 in the default zone (public: services ssh and dhcpv6-client, target
# default = reject the rest); lan0 in trusted.
fc --zone=public --change-interface=wan0
fc --zone=trusted --change-interface=lan0
# A port forward: wan 1222/tcp to the server's ssh.
fc --zone=public --add-forward-port=port=1222:proto=tcp:toport=22:toaddr=203.0.113.10
# A rich rule that rejects one client's connections to 8443 with a reset.
fc --zone=public --add-rich-rule='rule family="ipv4" source address="198.51.100.2" port port="8443" protocol="tcp" reject type="tcp-reset"'
{
	echo "# firewall-cmd --list-all --zone=public:"
	firewall-cmd --list-all --zone=public | sed 's/^/#   /'
	echo "# firewall-cmd --list-all --zone=trusted:"
	firewall-cmd --list-all --zone=trusted | sed 's/^/#   /'
} >/tmp/fwgen-listing
nft list ruleset >/tmp/fwgen-ruleset
INNER

# /tmp of the inner shell is the caller's /tmp: hand the results over there.
ip netns exec "$ns" unshare -m --propagation private bash "$work/inner.sh" >&2

cat <<HDR
# firewalld's nftables backend as firewalld renders it.
#
# Source:    Debian 12 package firewalld $(dpkg-query -W -f='${Version}' firewalld)
#            (upstream firewalld $(firewall-cmd --version 2>/dev/null || echo 1.3.3)), with nftables $(dpkg-query -W -f='${Version}' nftables)
# Generated: $(date -u +%Y-%m-%d) by tests/rulesets/firewalld/generate.sh (see there how):
#            firewalld run in a scratch network namespace, then
#            \`nft list ruleset\` there, verbatim below this header.
# Changes:   none to firewalld's output. The configuration is Debian's
#            default (zone public is the default zone) plus, at runtime:
#              interface wan0 in zone public, lan0 in zone trusted;
#              forward-port port=1222:proto=tcp:toport=22:toaddr=203.0.113.10;
#              rich rule: rule family="ipv4" source address="198.51.100.2"
#                port port="8443" protocol="tcp" reject type="tcp-reset"
#            Interface names and addresses are those of the test lab
#            (documentation ranges only).
HDR
cat /tmp/fwgen-listing
echo
cat /tmp/fwgen-ruleset
rm -f /tmp/fwgen-listing /tmp/fwgen-ruleset
