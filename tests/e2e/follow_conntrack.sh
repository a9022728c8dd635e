#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What --follow does to the namespace, and what it asks the kernel first.
# Its rules match on conntrack, so every packet of the namespace is
# tracked while it runs: where the namespace had no conntrack entries
# before (the client's, which has no ruleset), the start warning says so;
# where connections were tracked already (the router's, after a
# connection), it does not. Before it starts, --follow asks the kernel
# whether trace events carry the conntrack id with one probe datagram,
# which leaves no table and no conntrack entry behind.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fct conntrack
lab_fix || lab_fail "lab_fix failed"
lab_tmp || exit 1

ct_count() { ip netns exec "$1" conntrack -C 2>/dev/null || echo "?"; }

# the client: no ruleset, no conntrack entry
[ "$(ct_count "$LAB_CLIENT")" = 0 ] || lab_fail "the client tracks connections already"
ip netns exec "$LAB_CLIENT" timeout -s KILL 20 "$NATTRACED" \
	--match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT" --follow --output json --timeout 3 \
	>"$LAB_TMP/client.out" 2>"$LAB_TMP/client.err" </dev/null &
pid=$!
for _ in $(seq 100); do
	ip netns exec "$LAB_CLIENT" nft list table inet trace_debug >/dev/null 2>&1 && break
	sleep 0.05
done
# the probe left nothing: no table of its own, no conntrack entry
tables=$(ip netns exec "$LAB_CLIENT" nft list tables)
[ "$tables" = "table inet trace_debug" ] ||
	lab_fail "tables in the client other than the trace table: $tables"
[ "$(ct_count "$LAB_CLIENT")" = 0 ] ||
	lab_fail "the probe left a conntrack entry: $(ip netns exec "$LAB_CLIENT" conntrack -L 2>&1)"
echo "ok: the kernel was asked, and no probe table or conntrack entry is left"
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the client could not connect"
during=$(ct_count "$LAB_CLIENT")
echo "measured: the client namespace went from 0 conntrack entries to $during while --follow ran"
wait "$pid"
rc=$?
[ "$rc" = 0 ] || { cat "$LAB_TMP/client.err" >&2; lab_fail "exit status $rc in the client"; }
[ "$during" != "?" ] && [ "$during" -ge 1 ] ||
	lab_fail "the client's connection was not tracked while --follow ran"
grep -q "warning: --follow turns on connection tracking (and defragmentation) for every packet in this network namespace.*had no conntrack entries before" \
	"$LAB_TMP/client.err" || {
	cat "$LAB_TMP/client.err" >&2
	lab_fail "no start warning that --follow turns conntrack on"
}
echo "ok: the start warning says that --follow turns conntrack on"
jq -e -s 'any(.type == "connection" and .reply_seen == true)' "$LAB_TMP/client.out" >/dev/null ||
	lab_fail "the client's connection was not followed"
echo "ok: the connection was followed from the client"

# the router, once a connection went through: conntrack in use, no warning
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the client could not connect"
[ "$(ct_count "$LAB_ROUTER")" -ge 1 ] || lab_fail "the router tracked no connection"
lab_run --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT" --follow --output json --timeout 1
lab_expect_rc 0
if grep -q "turns on connection tracking" "$LAB_ERR"; then
	lab_fail "a warning that --follow turns conntrack on, where it was in use"
fi
echo "ok: no such warning where conntrack was in use already"

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
