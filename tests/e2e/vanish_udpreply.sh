#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A delivered reply is never "no listener" (issue 19, item 2). A
# short-lived UDP client on the lab's client host sends one datagram to a
# UDP echo on the router, reads the reply and exits at once, 50 times. The
# client host's input chain accepts the replies (`ct state established`),
# and nattraced traces them there. Its socket lookup runs after each
# timeline, when the client's socket may be gone: only evidence that
# cannot race may name a refusal, and a reply (conntrack direction reply)
# had a socket. Every client must get its reply, and no timeline may say
# "no listener".
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init vudp
lab_require python3 jq || lab_fail "tools missing"
lab_tmp
N=50
PORT=5300

lab_exec_client nft -f - <<'NFT' || lab_fail "cannot load the client's ruleset"
table inet host {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
	}
}
NFT

# The echo on the router, and the client: send, read the reply, exit.
lab_exec_router python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(512)
    s.sendto(d, a)' "$LAB_WAN4" "$PORT" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ -n "$(lab_exec_router ss -Hlun "sport = :$PORT")" ] && break
	sleep 0.1
done

LAB_RUN=1 LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err
LAB_ARGS="--match 'udp sport $PORT' --rate none --count $N --output json (client namespace)"
ip netns exec "$LAB_CLIENT" timeout -s KILL 90 "$NATTRACED" --match "udp sport $PORT" --rate none \
	--count "$N" --output json --timeout 60 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
LAB_DAEMON_PID=$!
for _ in $(seq 200); do
	lab_exec_client nft list table inet trace_debug >/dev/null 2>&1 && break
	sleep 0.05
done
lab_exec_client nft list table inet trace_debug >/dev/null 2>&1 ||
	lab_fail "the daemon did not create its table in the client namespace"

replies=0
for i in $(seq "$N"); do
	if lab_exec_client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
sys.exit(0 if s.recv(512) == sys.argv[3].encode() else 1)' "$LAB_WAN4" "$PORT" "r$i" </dev/null; then
		replies=$((replies + 1))
	fi
done
lab_daemon_wait
lab_expect_rc 0
[ "$replies" -eq "$N" ] || lab_fail "only $replies of $N clients got their reply"
echo "ok: $replies of $N short-lived clients read their reply"

lab_expect_json "$N timelines, each accepted at input" '
	length == '"$N"' and all(.verdict == "accept")'
nl=$(jq -s '[.[] | select(.type == "trace") |
	select(.outside_ruleset.reason == "no_listener" or
		(.cause.summary | test("no listener")) or
		((.after_ruleset.summary // "") | test("no listener")))] | length' "$LAB_OUT")
counts=$(jq -s -c '[.[] | select(.type == "trace") |
	(.after_ruleset.decision // .outside_ruleset.reason // "none")] |
	group_by(.) | map({(.[0]): length}) | add' "$LAB_OUT")
echo "replies called no listener: $nl of $N; what was said: $counts"
[ "$nl" -eq 0 ] || lab_fail "$nl of $N delivered replies were called no listener"
lab_expect_json "no reply is said to be lost outside the ruleset" 'all(.outside_ruleset == null)'
# not_checked: over the checks' rate limit (VANISH_RATE a second)
lab_expect_json "each reply: delivered, not known (its socket may have closed since), or not checked" '
	all(.after_ruleset.decision == "delivered" or .after_ruleset.decision == "not_known" or
	    .after_ruleset.decision == "not_checked")'
echo "PASS"
