#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --replay of a packet of an established connection (issue 22's stretch
# goal): with the port forward fixed, the server's SYN/ACK through the
# router is recorded live (conntrack: established, reply, DNAT mapping).
# Replayed, its conntrack entry is recreated in the clone from the
# record's mapping, so the clone takes it as the reply it was: accepted
# by `ct state established,related accept`, un-DNATed, and seen leaving
# wan0 from 198.51.100.1:1222 (without the entry it is a new packet the
# forward policy drops). The router's conntrack table stays as it was.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init replay_est jq

R() { lab_exec_router "$@"; }
lab_fix || lab_fail "lab_fix"
est_handle=$(R nft -a list chain inet filter forward |
	sed -n 's/^[[:space:]]*ct state established,related accept # handle \([0-9]*\)$/\1/p')
[ -n "$est_handle" ] || lab_fail "lab ruleset not as expected"

lab_daemon_start --match "ip saddr $LAB_SERVER4 tcp sport $LAB_SSH_PORT tcp flags syn,ack" \
	--count 1 --output json --timeout 10
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null 2>&1 || lab_fail "the fixed port forward does not work"
lab_daemon_wait
lab_expect_rc 0
cp "$LAB_OUT" "$LAB_TMP/reply.json"
lab_expect_json "live: the SYN/ACK, a reply of an established DNATed connection" '
	.[0].ct.direction == "reply" and (.[0].ct.state | index("established") != null) and
	.[0].mapping.nat == "dnat"'

sleep 0.3
# the router's entries by their tuples (timeouts and states move on)
ct_tuples() { R conntrack -L 2>/dev/null | awk '{ t = $1; for (i = 2; i <= NF; i++) if ($i ~ /^(src|dst|sport|dport)=/) t = t " " $i; print t }' | sort; }
ct_tuples >"$LAB_TMP/ct.before"
lab_run --replay "$LAB_TMP/reply.json" --output json
lab_expect_rc 0
lab_expect_jq "replayed as its connection's reply: accepted by the established rule, un-DNATed out of wan0" '
	[.[] | select(.type == "replay")][0] | .conntrack_recreated == true and
	.after.verdict == "accept" and .after.out == "wan0" and
	(.after.where | test("from 198\\.51\\.100\\.1:1222$"))'
lab_expect_json "the replayed timeline: accepted in forward by handle '"$est_handle"'" '
	.[0].accepts | any(.chain == "forward" and .handle == '"$est_handle"')'
lab_run --replay "$LAB_TMP/reply.json"
grep -q "note: its connection's conntrack entry was recreated in the clone (established, with the recorded NAT mapping)" "$LAB_OUT" ||
	lab_fail "text: no note on the recreated entry"
echo "ok: text: the note says the entry was recreated"
ct_tuples >"$LAB_TMP/ct.after"
# entries of the live connection may time out meanwhile, none may appear
[ -z "$(comm -13 "$LAB_TMP/ct.before" "$LAB_TMP/ct.after")" ] || {
	diff "$LAB_TMP/ct.before" "$LAB_TMP/ct.after" >&2
	lab_fail "a conntrack entry appeared in the router"
}
echo "ok: no conntrack entry appeared in the router"
