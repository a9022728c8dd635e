#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --follow with asymmetric routing: the server's default route goes to
# another router (a fourth namespace on a second link, 192.0.2.0/24) that
# bypasses ours. The SYN is forwarded and accepted, the SYN/ACK never
# comes back through the router, and nattraced says so when the follow
# time limit passes.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
LAB_TRAP_EXTRA=jd_down
lab_init fasym
lab_fix || lab_fail "lab_fix failed"

# The other router: a link to the server, no route back to the client.
ALT="${LAB_ROUTER%-rtr}-alt"
ip netns add "$ALT" || lab_fail "cannot create $ALT"
LAB_EXTRA_NS=$ALT
ip -n "$ALT" link set lo up
ip -n "$LAB_SERVER" link add eth1 type veth peer name lan0 netns "$ALT" ||
	lab_fail "cannot link server and $ALT"
ip -n "$LAB_SERVER" addr add 192.0.2.10/24 dev eth1
ip -n "$ALT" addr add 192.0.2.1/24 dev lan0
ip -n "$LAB_SERVER" link set eth1 up
ip -n "$ALT" link set lan0 up
ip -n "$LAB_SERVER" route replace default via 192.0.2.1 dev eth1 ||
	lab_fail "cannot move the server's default route"

lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --output json --timeout 6
lab_daemon_ready
if lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null; then
	lab_fail "the connection worked although the reply has no way back"
fi
echo "ok: the connection failed, as asymmetric routing makes it"
lab_daemon_wait
lab_expect_rc 0

lab_expect_json "the first SYN is accepted, DNATed, original direction" '
	map(select(.packet.tcp_flags == "syn")) | length >= 1 and
	(.[0] | .verdict == "accept" and .direction == "original" and
	 (.nat | any(.kind == "dnat" and .to == "203.0.113.10:22")))'
lab_expect_json "no packet of the connection came back through the router" '
	all(.direction != "reply")'
lab_expect_json "retransmitted SYNs are followed under the same connection" '
	(map(select(.packet.tcp_flags == "syn")) | .[0].connection) as $c |
	map(select(.packet.tcp_flags == "syn")) | all(.connection == $c)'
lab_expect_jq "the connection record: no reply seen, with the note" '
	[.[] | select(.type == "connection")] | length == 1 and
	(.[0] | .reply_seen == false and .replies == 0 and .end == "timeout" and
	 .note == "no reply seen at this host within 3 s: the server'"'"'s reply took another path or was never sent")'
lab_expect_stats "stats: one connection followed, without a reply" '
	.follow_connections == 1 and .follow_no_reply == 1'

# text: the note closes the connection's block
lab_daemon_start --match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" \
	--follow --follow-timeout 1.5 --timeout 3
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
grep -qx "  no reply seen at this host within 1.5 s: the server's reply took another path or was never sent" "$LAB_OUT" ||
	lab_fail "text: no 'no reply seen' note"
head -1 "$LAB_OUT" | grep -Eq '^connection [0-9]+ tcp 198\.51\.100\.2:[0-9]+ -> 198\.51\.100\.1:1222: 1 packet traced, 0 replies, followed until timeout$' ||
	lab_fail "text: the block's header is not the connection's"
echo "ok: text: the block ends with the note"

# the journal: the timeline's connection fields and the connection's entry
if ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	MSGID_FOLLOW=a227dd0f732241b7b0847f3537db2895
	jd_up || lab_fail "cannot start a private journald"
	lab_wait_no_table || lab_fail "the last daemon's table is still there"
	LAB_OUT=$LAB_TMP/jout LAB_ERR=$LAB_TMP/jerr LAB_ARGS="--output journal --follow"
	jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
		--match "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn" --follow \
		--follow-timeout 1 --timeout 2.5 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
	lab_daemon_ready
	lab_syn "$LAB_WAN4" "$LAB_PORT"
	lab_daemon_wait
	lab_expect_rc 0
	jd_wait_entries 1 MESSAGE_ID=$MSGID_FOLLOW || lab_fail "no connection entry in the journal"
	J=$LAB_TMP/j
	jd_journalctl -o json MESSAGE_ID=$MSGID_FOLLOW >"$J" 2>&1 || lab_fail "journalctl failed"
	jq -e -s 'length == 1 and (.[0] | .PRIORITY == "4" and .NATTRACE_REPLY_SEEN == "false" and
		.NATTRACE_FOLLOW_END == "timeout" and
		(.MESSAGE | test("no reply seen at this host within 1 s: the server.s reply took another path or was never sent")))' "$J" >/dev/null ||
		lab_fail "journal: connection entry not as expected: $(head -c 2000 "$J")"
	conn=$(jq -r -s '.[0].NATTRACE_CT_ID' "$J")
	jd_journalctl -o json NATTRACE_CT_ID="$conn" NATTRACE_CT_DIRECTION=original >"$J" 2>&1
	jq -e -s 'length >= 1 and all(.NATTRACE_VERDICT == "accept")' "$J" >/dev/null ||
		lab_fail "journal: no timeline entry with NATTRACE_CT_ID=$conn"
	echo "ok: journal: the SYN's entry carries the connection, whose entry says no reply"
fi

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
