#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The clone of a namespace (src/replay, issue 22) through tests/clonetool:
# inside the lab's router, the clone must show the router's interfaces
# (names, MTU, up, MAC), addresses, routes of every table, policy rules,
# the path's sysctls and the ruleset (less our own table), and its handle
# map must point at the same rule text; --change takes the real handles.
# The router itself must stay as it was (ruleset with counters, routes,
# sysctls, conntrack), and a SIGKILLed clonetool leaves no namespace and no
# interface. Without CAP_SYS_ADMIN the clone is refused with exit 2.
# Last, fw4's real ruleset: loaded back whole, the map complete.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
CLONETOOL=${CLONETOOL:-$(dirname "$NATTRACED")/tests/clonetool}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
lab_init clone lsns capsh jq
LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nattraced-clone.XXXXXX") || exit 1
T=$LAB_TMP

r() { lab_exec_router "$@"; }
ct() { lab_exec_router "$CLONETOOL" "$@"; }
# in the clone: the command's output
inclone() { ct -- "$@"; }

# Make the router worth copying: policy routing, route types, sysctls that
# differ from a new namespace's, a counter with a value, a set element with
# a timeout, our own table (never copied), and handles with holes.
r ip route add 192.0.2.0/24 via 203.0.113.10 table 100 || lab_fail "route table 100"
r ip route add blackhole 192.0.2.128/25 || lab_fail "blackhole route"
r ip route add unreachable 198.51.100.128/25 metric 50 || lab_fail "unreachable route"
r ip -6 route add 2001:db8:99::/48 via 2001:db8:2::10 table 100 || lab_fail "ipv6 route table 100"
r ip rule add fwmark 0x1/0xff table 100 priority 100 || lab_fail "ip rule"
r ip rule add iif wan0 from 198.51.100.0/24 table 100 priority 200 || lab_fail "ip rule iif"
r ip -6 rule add fwmark 0x2 table 100 priority 100 || lab_fail "ip -6 rule"
r ip link set lan0 mtu 1400 || lab_fail "mtu"
r sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.wan0.rp_filter=2 \
	net.ipv4.conf.lan0.accept_local=1 net.ipv4.conf.lan0.route_localnet=1 \
	net.ipv4.conf.all.src_valid_mark=1 net.ipv6.conf.lan0.forwarding=0 || lab_fail "sysctls"
r nft -f - <<'NFT' || lab_fail "extra ruleset"
table inet nattraced {
	chain c {
		type filter hook prerouting priority -500; policy accept;
		meta nftrace set 1
	}
}
table ip extra {
	set dyn {
		type ipv4_addr
		flags timeout
		elements = { 192.0.2.7 timeout 1h }
	}
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 drop
		ip saddr 192.0.2.2 drop
		ip saddr 192.0.2.3 drop
		counter packets 42 bytes 4200
	}
}
NFT
for h in $(r nft -a list chain ip extra in | sed -n 's/.*saddr 192.0.2.[12] drop # handle \([0-9]*\)/\1/p'); do
	r nft delete rule ip extra in handle "$h" || lab_fail "delete rule $h"
done
r nft insert rule inet filter allowed_dnats counter || lab_fail "insert counter"

# The router, before anything.
sysctls=(net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.all.rp_filter
	net.ipv4.conf.wan0.rp_filter net.ipv4.conf.lan0.rp_filter net.ipv4.conf.lan0.accept_local
	net.ipv4.conf.lan0.route_localnet net.ipv4.conf.all.src_valid_mark
	net.ipv6.conf.all.forwarding net.ipv6.conf.lan0.forwarding net.ipv6.conf.wan0.forwarding)
# (expiry counts down; carrier comes a moment after the lab's links go up)
state()
{
	r nft -a list ruleset | sed -e 's/ expires [0-9hmsd]*//'
	r ip route show table all
	r ip -6 route show table all
	r ip rule
	r ip -6 rule
	r sysctl "${sysctls[@]}"
	r cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo "no conntrack"
	for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_SERVER"; do
		ip -n "$ns" -o link | sed -e 's/ state [A-Z]*//' -e 's/NO-CARRIER,//'
	done
}
state >"$T/before"

# --- interfaces, addresses, routes, rules, sysctls ---
addrs() { sed -e 's/^[0-9]*: //' -e 's/\\ *valid_lft.*//' -e 's/ nodad//' | sort; }
links() { sed -e 's/^[0-9]*: //' -e 's/@[^:]*:/:/' | awk '{ up = ($2 ~ /[<,]UP[,>]/); for (i = 1; i <= NF; i++) { if ($i == "mtu") m = $(i + 1); if ($i == "link/ether") e = $(i + 1) } print $1, m, up, e; e = "" }' | sort; }
routes() { sed -e 's/ linkdown//' | sort; }
cmp_out()
{
	local what=$1

	if ! diff -u "$T/src.$what" "$T/clone.$what" >"$T/diff.$what"; then
		cat "$T/diff.$what" >&2
		lab_fail "the clone's $what differ from the router's"
	fi
}
r ip -o addr | addrs >"$T/src.addr"
inclone ip -o addr | addrs >"$T/clone.addr"
cmp_out addr
r ip -o link | links >"$T/src.link"
inclone ip -o link | links >"$T/clone.link"
cmp_out link
grep -q '^lan0: 1400 1 ' "$T/clone.link" || lab_fail "lan0's MTU 1400 not in the clone"
for fam in -4 -6; do
	r ip "$fam" route show table all | routes >"$T/src.route$fam"
	inclone ip "$fam" route show table all | routes >"$T/clone.route$fam"
	cmp_out "route$fam"
	r ip "$fam" rule >"$T/src.rule$fam"
	inclone ip "$fam" rule >"$T/clone.rule$fam"
	cmp_out "rule$fam"
done
grep -q 'table 100' "$T/clone.route-4" && grep -q 'fwmark 0x1/0xff lookup 100' "$T/clone.rule-4" ||
	lab_fail "the policy routing is not in the clone"
r sysctl "${sysctls[@]}" >"$T/src.sysctl"
inclone sysctl "${sysctls[@]}" >"$T/clone.sysctl"
cmp_out sysctl

# --- the ruleset: the same text but our table; set elements included ---
noexpiry() { sed -e 's/ expires [0-9hmsd]*//'; }
r nft list ruleset | awk '/^table inet nattraced /{skip=1} !skip{print} skip && /^}/{skip=0}' |
	noexpiry >"$T/src.ruleset"
inclone nft list ruleset | noexpiry >"$T/clone.ruleset"
cmp_out ruleset
grep -q 'counter packets 42 bytes 4200' "$T/clone.ruleset" || lab_fail "counter values not copied"
grep -q '192.0.2.7 timeout 1h' "$T/clone.ruleset" || lab_fail "set element not copied"

# --- the handle map: each clone handle names the same rule text ---
famname() { case $1 in 1) echo inet ;; 2) echo ip ;; 10) echo ip6 ;; 3) echo arp ;; 7) echo bridge ;; 5) echo netdev ;; esac; }
rules_by_handle()
{
	awk '/^table /{t = $2 " " $3} /^\t\t.*# handle [0-9]+$/{h = $NF; sub(/ # handle [0-9]+$/, ""); sub(/^\t\t/, ""); print t " " h "\t" $0}' | sort
}
ct --time -- true 2>"$T/lab.time" || lab_fail "clonetool on the lab"
echo "clone.sh: lab $(cat "$T/lab.time")" >&2
r nft -a list ruleset | rules_by_handle >"$T/src.handles"
inclone nft -a list ruleset | rules_by_handle >"$T/clone.handles"
ct --map >"$T/map" || lab_fail "clonetool --map"
n=0
while read -r fam table ch real; do
	f=$(famname "$fam")
	a=$(grep -P "^$f $table $real\t" "$T/src.handles" | cut -f2)
	b=$(grep -P "^$f $table $ch\t" "$T/clone.handles" | cut -f2)
	[ -n "$a" ] && [ "$a" = "$b" ] || lab_fail "map $f $table $ch -> $real: '$b' in the clone, '$a' in the router"
	n=$((n + 1))
done <"$T/map"
[ "$n" -eq "$(grep -vc '^inet nattraced ' "$T/src.handles")" ] ||
	lab_fail "the map has $n rules, the router $(grep -vc '^inet nattraced ' "$T/src.handles")"
awk '$3 != $4' "$T/map" | grep -q . || lab_fail "no handle differs between clone and router: the map is not tested"

# --- --change with the router's handles ---
drop=$(r nft -a list chain inet filter allowed_dnats | sed -n 's/^\t\tdrop # handle \([0-9]*\)$/\1/p')
[ -n "$drop" ] || lab_fail "no drop rule in allowed_dnats"
out=$(ct --change "replace rule inet filter allowed_dnats handle $drop accept" -- \
	nft list chain inet filter allowed_dnats) || lab_fail "--change replace handle $drop failed"
echo "$out" | grep -q '^		accept$' && ! echo "$out" | grep -q '^		drop$' ||
	lab_fail "--change replace handle $drop: $out"
extra=$(r nft -a list chain ip extra in | sed -n 's/.*192.0.2.3 drop # handle \([0-9]*\)$/\1/p')
out=$(ct --change "add rule ip extra in position $extra ip saddr 192.0.2.9 drop" -- \
	nft list chain ip extra in) || lab_fail "--change position $extra failed"
echo "$out" | grep -A1 '192.0.2.3 drop' | grep -q '192.0.2.9 drop' || lab_fail "--change position: $out"
if ct --change 'add rule inet filter forward bogus' -- true 2>"$T/bad.err"; then
	lab_fail "a bad --change was taken"
else
	[ $? -eq 2 ] && grep -q 'Error: syntax error' "$T/bad.err" || lab_fail "bad --change: $(cat "$T/bad.err")"
fi
ct --change 'delete rule inet filter forward handle 99999' -- true 2>"$T/nohandle.err"
[ $? -eq 2 ] && grep -q 'no rule with handle 99999 in table inet filter' "$T/nohandle.err" ||
	lab_fail "unknown handle: $(cat "$T/nohandle.err")"

# --reset: the changes undone, the map as before
out=$(ct --change "delete rule inet filter allowed_dnats handle $drop" --reset -- nft list ruleset) ||
	lab_fail "--reset failed"
diff -u "$T/src.ruleset" <(echo "$out" | noexpiry) || lab_fail "--reset: not the router's ruleset"
ct --change "delete rule inet filter allowed_dnats handle $drop" --reset --map | diff -u "$T/map" - ||
	lab_fail "--reset: another map"

# --- refused: a bridge with a bridge family table; xt expressions nft cannot load ---
r ip link add br0 type bridge && r nft add table bridge bt || lab_fail "bridge"
ct -- true 2>"$T/bridge.err"
[ $? -eq 2 ] && grep -q 'bridge br0: the ruleset has table bridge bt, and bridge family chains are not replayed' \
	"$T/bridge.err" || lab_fail "bridge: $(cat "$T/bridge.err")"
r nft delete table bridge bt
ct -- ip -o link show br0 >/dev/null || lab_fail "br0 not copied as a veth"
r ip link del br0
if command -v iptables-nft >/dev/null; then
	r iptables-nft -A INPUT -m recent --name x --set || lab_fail "iptables-nft"
	ct -- true 2>"$T/xt.err"
	[ $? -eq 2 ] && grep -q 'cannot be loaded back (table ip filter): listing:[0-9]*:.*xtables' "$T/xt.err" ||
		lab_fail "xt: $(cat "$T/xt.err")"
	r nft delete table ip filter
fi

# the ctnetlink flush runs in the clone (the router's count is checked below)
ct --flush-conntrack -- true || lab_fail "--flush-conntrack"

# --ruleset: that file instead of the router's ruleset, no map; a bad file is refused
printf 'table ip only {\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n\t}\n}\n' >"$T/only.nft"
[ "$(ct --ruleset "$T/only.nft" -- nft list tables)" = "table ip only" ] || lab_fail "--ruleset"
[ -z "$(ct --ruleset "$T/only.nft" --map)" ] || lab_fail "--ruleset gave a map"
echo 'table ip bad { chain c { bogus } }' >"$T/bad.nft"
ct --ruleset "$T/bad.nft" -- true 2>"$T/badfile.err"
[ $? -eq 2 ] && grep -q 'bad.nft:1:.*Error' "$T/badfile.err" || lab_fail "bad --ruleset: $(cat "$T/badfile.err")"

# --- the peer holds the far ends, up ---
ct --peer -- ip -o link | links >"$T/peer.link"
grep -q '^wan0: 1500 1' "$T/peer.link" && grep -q '^lan0: 1400 1' "$T/peer.link" ||
	lab_fail "the peer's far ends: $(cat "$T/peer.link")"

# --- SIGKILL while the command runs: nothing left once it ends ---
# nsenter execs clonetool itself (ip netns exec would fork): $! is clonetool
nsenter --net="/run/netns/$LAB_ROUTER" "$CLONETOOL" -- sleep 30 &
pid=$!
for _ in $(seq 100); do
	child=$(pgrep -P "$pid" sleep) && break
	sleep 0.05
done
[ -n "${child:-}" ] || lab_fail "clonetool's child did not start"
clone_ino=$(stat -L -c %i "/proc/$child/ns/net") || lab_fail "no clone namespace"
kill -9 "$pid"
wait "$pid" 2>/dev/null
# the peer died with clonetool's fd: the veth pairs with it
for _ in $(seq 40); do
	[ "$(nsenter -t "$child" -n ip -o link | wc -l)" -eq 1 ] && break
	sleep 0.05
done
[ "$(nsenter -t "$child" -n ip -o link | wc -l)" -eq 1 ] ||
	lab_fail "veths left in the clone after SIGKILL: $(nsenter -t "$child" -n ip -o link)"
kill "$child"
for _ in $(seq 40); do
	kill -0 "$child" 2>/dev/null || break
	sleep 0.05
done
# other tests add and remove namespaces meanwhile: look for this one only
for f in /run/netns/*; do
	[ -e "$f" ] || continue
	[ "$(stat -L -c %i "$f" 2>/dev/null)" != "$clone_ino" ] || lab_fail "the clone was named: $f"
done
for _ in $(seq 40); do
	lsns -n -t net -o NS | grep -qx "$clone_ino" || break
	sleep 0.1
done
lsns -n -t net -o NS | grep -qx "$clone_ino" && lab_fail "the clone's namespace ($clone_ino) is left"
echo "ok: SIGKILL: the clone's namespace is gone, never named"

# --- refused without CAP_SYS_ADMIN: exit 2 and why ---
r capsh --drop=cap_sys_admin -- -c "$CLONETOOL -- true" 2>"$T/cap.err"
[ $? -eq 2 ] && grep -q 'needs CAP_SYS_ADMIN' "$T/cap.err" || lab_fail "without CAP_SYS_ADMIN: $(cat "$T/cap.err")"
unshare -U "$CLONETOOL" -- true 2>"$T/userns.err"
[ $? -eq 2 ] && grep -q 'needs CAP_SYS_ADMIN' "$T/userns.err" || lab_fail "in a user namespace: $(cat "$T/userns.err")"

# --- the router is as it was ---
state >"$T/after"
diff -u "$T/before" "$T/after" || lab_fail "the router changed"

# --- a real ruleset: fw4's, loaded back whole, every rule mapped ---
r nft flush ruleset && r nft -f - <"$TESTS_DIR/rulesets/fw4/ruleset.nft" || lab_fail "fw4 does not load"
r nft list ruleset | noexpiry >"$T/src.fw4"
ct --time -- nft list ruleset 2>"$T/fw4.time" | noexpiry >"$T/clone.fw4"
cmp_out fw4
ct --map | wc -l >"$T/fw4.map"
[ "$(cat "$T/fw4.map")" -eq "$(r nft -a list ruleset | grep -c $'^\t\t.*# handle')" ] ||
	lab_fail "fw4: the map has $(cat "$T/fw4.map") rules"
echo "clone.sh: fw4 $(cat "$T/fw4.time")" >&2
echo "PASS: clone"
