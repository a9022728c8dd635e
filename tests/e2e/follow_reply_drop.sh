#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --follow when a rule drops the reply: the router's forward chain drops
# what the server sends back (a rule that only matches the reply
# direction, before the established accept). The SYN is accepted; the
# SYN/ACK's timeline, under the same connection, names that rule.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init freply
lab_fix || lab_fail "lab_fix failed"
lab_exec_router nft insert rule inet filter forward \
	ct direction reply ip saddr 203.0.113.10 tcp sport 22 drop ||
	lab_fail "cannot add the reply-dropping rule"
ruleset_before=$(lab_exec_router nft -s list ruleset)

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --output json --timeout 5
lab_daemon_ready
if lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null; then
	lab_fail "the connection worked although its replies are dropped"
fi
echo "ok: the connection failed"
# nothing outside the daemon's own table changed while it ran
ruleset_during=$(lab_exec_router nft -s list ruleset |
	awk '/^table inet trace_debug /{skip=1} skip&&/^}/{skip=0;next} !skip')
[ "$ruleset_during" = "$ruleset_before" ] ||
	lab_fail "the ruleset outside table inet trace_debug changed"
echo "ok: nothing outside the trace table changed"
lab_daemon_wait
lab_expect_rc 0

lab_expect_json "the SYN is accepted" '
	map(select(.packet.tcp_flags == "syn")) | .[0] | .verdict == "accept" and
	.direction == "original"'
lab_expect_json "the SYN/ACK: same connection, reply direction, dropped" '
	(map(select(.packet.tcp_flags == "syn")) | .[0].connection) as $c |
	map(select(.packet.tcp_flags == "syn,ack")) | length >= 1 and
	all(.connection == $c and .direction == "reply" and .verdict == "drop")'
lab_expect_json "the SYN/ACK names the reply-direction rule" '
	map(select(.packet.tcp_flags == "syn,ack")) | .[0].cause |
	.rule == "ct direction reply ip saddr 203.0.113.10 tcp sport 22 drop" and
	.chain == "forward" and .table == "filter" and .hook == "forward"'
lab_expect_json "no un-DNAT for a dropped reply" '
	map(select(.packet.tcp_flags == "syn,ack")) | all(.nat | all(.kind != "un-dnat"))'
lab_expect_jq "the connection record: the reply was seen here" '
	[.[] | select(.type == "connection")] | length == 1 and
	(.[0] | .reply_seen == true and .note == null)'

# a reload (SIGHUP) swaps the match: the follow chains are rebuilt with it
lab_tmp
printf 'match = ip daddr 198.51.100.1 tcp dport 9\n' >"$LAB_TMP/follow.conf"
lab_daemon_start --config "$LAB_TMP/follow.conf" --follow --output json --timeout 6
lab_daemon_ready
printf 'match = ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn\nhooks = prerouting,forward\n' \
	>"$LAB_TMP/follow.conf"
kill -HUP "$(lab_daemon_pid)" || lab_fail "cannot signal the daemon"
for _ in $(seq 40); do
	grep -q "reloaded" "$LAB_ERR" && break
	sleep 0.1
done
grep -q "reloaded" "$LAB_ERR" || lab_fail "the reload was not applied"
lab_exec_router nft list chain inet trace_debug trace_follow_forward >/dev/null ||
	lab_fail "no follow chain at the new hook forward"
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "after the reload: the dropped SYN/ACK under the SYN's connection" '
	(map(select(.packet.tcp_flags == "syn")) | .[0].connection) as $c |
	any(.packet.tcp_flags == "syn,ack" and .connection == $c and .direction == "reply" and
	    .verdict == "drop")'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
