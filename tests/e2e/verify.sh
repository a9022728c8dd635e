#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --verify on the live trace (issue 22): the SYN to router:1222 dropped by
# allowed_dnats carries the set-membership hint; its `nft add element` is
# replayed with the packet in a warm clone, and the hint says:
#   - "verified" (the change is enough) on the lab;
#   - "not enough", naming the next drop by its real handle, when a
#     postrouting chain drops the packet too, also when that chain
#     appears while the daemon runs (the warm clone is rebuilt);
#   - nothing, with one warning at start, without CAP_SYS_ADMIN: the
#     trace goes on and the hint stays unverified.
# The router's ruleset is untouched by the replays (the set stays empty).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init verify jq setpriv

R() { lab_exec_router "$@"; }
match="ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn"

# 1. Verified.
lab_daemon_start --match "$match" --verify --count 1 --output json --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "the allow_in hint is verified: accepted, forwarded out of lan0" '
	.[0].hints | any(.set == "allow_in" and .verified.enough == true and
		.verified.verdict == "accept" and (.verified.cause | test("lan0")))'
lab_expect_stats "one hint replayed" '.verify_replayed == 1 and .verify_not_enough == 0'
[ -z "$(R nft list set inet filter allow_in | grep -F '203.0.113.10')" ] ||
	lab_fail "the replay changed the router's set"
echo "ok: the router's set is still empty"

lab_daemon_start --match "$match" --verify --count 1 --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
grep -q "^    verified: with this change the packet is accepted: forwarded out of lan0" "$LAB_OUT" ||
	lab_fail "text: no verified line"
echo "ok: text: verified line"

# 2. The warm clone follows the real ruleset: one daemon, a SYN verified;
# then a postrouting drop appears in the router, and the next SYN's hint
# (a second later: one replay a second) is not enough.
lab_daemon_start --match "$match" --verify --count 2 --output json --timeout 20
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_wait_lines 1 10 || lab_fail "no first timeline"
R nft -f - <<'E2' || lab_fail "egress table"
table inet egress {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "lan0" tcp dport 22 drop
	}
}
E2
sleep 1.2
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_json "the clone was refreshed: verified first, not enough after the change" '
	length == 2 and (.[0].hints | any(.verified.enough == true)) and
	(.[1].hints | any(.verified.enough == false and (.verified.cause | test("inet egress post"))))'
R nft delete table inet egress

# 3. Not enough: a postrouting drop behind the forward chain.
R nft -f - <<'E2' || lab_fail "egress table"
table inet egress {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "lan0" tcp dport 22 drop
	}
}
E2
post_handle=$(R nft -a list chain inet egress post | sed -n 's/.*tcp dport 22 drop # handle \([0-9]*\)$/\1/p')
lab_daemon_start --match "$match" --verify --count 1 --output json --timeout 15
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_json "not enough: then dropped in inet egress post, handle $post_handle" '
	.[0].hints | any(.set == "allow_in" and .verified.enough == false and
		.verified.verdict == "drop" and
		(.verified.cause | test("handle '"$post_handle"'\\) in inet egress post")))'
R nft delete table inet egress

# 4. As the unit runs it, no CAP_SYS_ADMIN: one warning, the trace goes on, the hint unverified.
lab_tmp
chmod 755 "$LAB_TMP"
LAB_ARGS="--verify without CAP_SYS_ADMIN"
# as the unit runs it: a user with CAP_NET_ADMIN alone (service.sh)
R setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
	timeout -s KILL 30 "$NATTRACED" \
	--match "$match" --verify --count 1 --output json --timeout 15 \
	>"$LAB_TMP/nocap.out" 2>"$LAB_TMP/nocap.err" &
LAB_DAEMON_PID=$!
LAB_OUT=$LAB_TMP/nocap.out LAB_ERR=$LAB_TMP/nocap.err
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
[ "$(grep -c -- '--verify' "$LAB_ERR")" = 1 ] || lab_fail "not exactly one --verify warning"
grep -q "CAP_SYS_ADMIN" "$LAB_ERR" || lab_fail "the warning does not say what is missing"
lab_expect_json "the hint is there, unverified" '
	.[0].hints | any(.set == "allow_in" and .verified == null)'

# 5. As the unit with the documented drop-in: the same user with
# CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN: verified.
LAB_ARGS="--verify as the unit with the drop-in"
R setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
	--inh-caps=-all,+net_admin,+net_raw,+sys_admin \
	--ambient-caps=-all,+net_admin,+net_raw,+sys_admin \
	--bounding-set=-all,+net_admin,+net_raw,+sys_admin \
	timeout -s KILL 30 "$NATTRACED" \
	--match "$match" --verify --count 1 --output json --timeout 15 \
	>"$LAB_TMP/dropin.out" 2>"$LAB_TMP/dropin.err" &
LAB_DAEMON_PID=$!
LAB_OUT=$LAB_TMP/dropin.out LAB_ERR=$LAB_TMP/dropin.err
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "with the drop-in's capabilities the hint is verified" '
	.[0].hints | any(.set == "allow_in" and .verified.enough == true)'
