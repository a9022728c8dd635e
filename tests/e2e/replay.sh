#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --replay in a throwaway clone of the router's namespace (issue 22):
#   - the live SYN to router:1222, dropped by allowed_dnats' `drop`, is
#     recorded with --output json and replayed: the same drop, named by
#     the router's own handle
#   - with the hint's change (the set element) it is accepted and SEEN
#     leaving the clone's lan0 for 203.0.113.10:22
#   - with a postrouting drop in the router, the same change only shows
#     the next drop, by its real handle
#   - a policy drop (a SYN routed straight to the server) and one --change
#     inserting an accept
#   - a change nft refuses, an unknown handle, a file without raw
#     headers, a clone without CAP_SYS_ADMIN: exit 2, said
#   - the router is untouched: ruleset with counters, routes, rules,
#     sysctls, conntrack, and not one packet reaches the server
# (SIGKILL during a replay: check.sh)
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init replay jq setpriv

R() { lab_exec_router "$@"; }

drop_handle=$(R nft -a list chain inet filter allowed_dnats |
	sed -n 's/^[[:space:]]*drop # handle \([0-9]*\)$/\1/p')
[ -n "$drop_handle" ] || lab_fail "lab ruleset not as expected"

# Packets that reach the server, counted there (must stay 0 during replays).
lab_exec_server nft -f - <<'EOF' || lab_fail "server counter"
table inet seen { chain pre { type filter hook prerouting priority -400; tcp dport 22 counter; }; }
EOF
server_count() { lab_exec_server nft list chain inet seen pre | grep -o 'packets [0-9]*' | cut -d' ' -f2; }

# The router's state, as the kernel lists it (counters included).
snapshot()
{
	{
		R nft -a list ruleset
		R ip -d link show
		R ip addr show
		R ip route show table all
		R ip -6 route show table all
		R ip rule show
		R ip -6 rule show
		R sysctl -a 2>/dev/null | grep -E '^net\.(ipv4|ipv6)\.(conf|ip_forward)' | grep -v '\.stable_secret'
		echo "conntrack: $(R cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null)"
	} >"$1"
}

lab_tmp
live=$LAB_TMP/live.json

# 1. The live drop, recorded.
lab_daemon_start --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" \
	--count 1 --output json --timeout 10
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
cp "$LAB_OUT" "$live"
lab_expect_json "live: dropped by allowed_dnats' drop" '.[0].cause.handle == '"$drop_handle"
lab_expect_json "live: the record carries the raw headers" '.[0].raw_headers.network | length > 0'
# a conntrack entry of the live SYN may still be there: flush it, then the
# state of the router is taken with nothing in flight
R conntrack -F >/dev/null 2>&1 || true
sleep 0.2
snapshot "$LAB_TMP/before"
server_before=$(server_count)

# 2. Replayed as it is: the same drop, the router's handle.
lab_run --replay "$live" --output json
lab_expect_rc 0
lab_expect_json "replay: one timeline, dropped" 'length == 1 and .[0].verdict == "drop"'
lab_expect_json "replay: cause named by the router's handle $drop_handle" '
	.[0].cause | .table == "filter" and .chain == "allowed_dnats" and .handle == '"$drop_handle"
lab_expect_jq "replay: the comparison record" '
	[.[] | select(.type == "replay")] | length == 1 and
	(.[0] | .change == false and (.before | test("drop by rule `drop` \\(handle '"$drop_handle"'\\)")) and
	 .after.verdict == "drop" and .after.handle == '"$drop_handle"')'

# 3. With the hint's change: accepted, seen leaving lan0.
change="add element inet filter allow_in { $LAB_SERVER4 . $LAB_SSH_PORT }"
lab_run --replay "$live" --change "$change"
lab_expect_rc 0
grep -q "^  before: drop by rule \`drop\` (handle $drop_handle) in inet filter allowed_dnats" "$LAB_OUT" ||
	lab_fail "text: no before line"
grep -q "^  with the change: accept, forwarded out of lan0 to $LAB_SERVER4:$LAB_SSH_PORT" "$LAB_OUT" ||
	lab_fail "text: the change's packet was not seen leaving lan0"
echo "ok: with the change: accept, forwarded out of lan0 to $LAB_SERVER4:$LAB_SSH_PORT"

lab_run --replay "$live" --change "$change" --output json
lab_expect_jq "json: after accept, out lan0, by_change false" '
	[.[] | select(.type == "replay")][0] | .change == true and
	.after.verdict == "accept" and .after.out == "lan0"'

snapshot "$LAB_TMP/after"
diff -u "$LAB_TMP/before" "$LAB_TMP/after" >&2 || lab_fail "the router's state changed"
[ "$(server_count)" = "$server_before" ] || lab_fail "a replayed packet reached the real server"
echo "ok: after three replays the router is as it was, the server saw nothing"

# 4. Forward fixed, postrouting not: the next drop, by its real handle.
R nft -f - <<'EOF' || lab_fail "egress table"
table inet egress {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "lan0" tcp dport 22 counter drop
	}
}
EOF
post_handle=$(R nft -a list chain inet egress post | sed -n 's/.*counter packets [0-9]* bytes [0-9]* drop # handle \([0-9]*\)$/\1/p')
[ -n "$post_handle" ] || lab_fail "no handle for the egress drop"
lab_run --replay "$live" --change "$change" --output json
lab_expect_jq "forward fixed, postrouting not: dropped in inet egress post, handle $post_handle" '
	[.[] | select(.type == "replay")][0].after | .verdict == "drop" and
	.handle == '"$post_handle"' and (.cause | test("inet egress post"))'
# the change may name a rule by the router's handle: replace the drop by an accept
lab_run --replay "$live" --change "$change" \
	--change "replace rule inet egress post handle $post_handle oifname \"lan0\" accept" --output json
lab_expect_jq "a change naming the router's handle: accepted" '
	[.[] | select(.type == "replay")][0].after.verdict == "accept"'
R nft delete table inet egress

# 5. A policy drop: a SYN routed straight to the server, not DNATed.
lab_daemon_start --match "ip daddr $LAB_SERVER4 tcp dport $LAB_SSH_PORT tcp flags syn" \
	--count 1 --output json --timeout 10
lab_daemon_ready
lab_syn "$LAB_SERVER4" "$LAB_SSH_PORT"
lab_daemon_wait
cp "$LAB_OUT" "$LAB_TMP/policy.json"
lab_expect_json "live: the forward policy dropped it" '.[0].cause.type == "policy"'
lab_run --replay "$LAB_TMP/policy.json" --output json \
	--change "insert rule inet filter forward ip daddr $LAB_SERVER4 tcp dport $LAB_SSH_PORT accept"
lab_expect_jq "policy drop, one inserted accept: accepted, out of lan0" '
	[.[] | select(.type == "replay")][0].after | .verdict == "accept" and .out == "lan0"'
lab_expect_json "the inserted rule is named as the change's, without a handle" '
	.[0].events | any(.added_by_change == true and .handle == null)'
R conntrack -F >/dev/null 2>&1 || true
sleep 0.2
snapshot "$LAB_TMP/before"

# 6. Bad input: exit 2, said, nothing built.
lab_run --replay "$live" --change "add element inet filter no_such_set { 1.2.3.4 }"
lab_expect_rc 2
grep -q "no_such_set" "$LAB_ERR" || lab_fail "nft's refusal not shown"
echo "ok: a change nft refuses: exit 2 with its message"
lab_run --replay "$live" --change "delete rule inet filter allowed_dnats handle 99999"
lab_expect_rc 2
grep -q "99999" "$LAB_ERR" || lab_fail "unknown handle not named"
echo "ok: an unknown handle: exit 2, named"
jq -c 'del(.raw_headers)' "$live" >"$LAB_TMP/old.json"
lab_run --replay "$LAB_TMP/old.json"
lab_expect_rc 2
grep -q "raw_headers" "$LAB_ERR" || lab_fail "a record without raw headers: not said"
echo "ok: a record without raw headers: exit 2, said"
lab_run --replay "$live" --id 00000000
lab_expect_rc 2
echo "ok: --id of no timeline: exit 2"
LAB_ARGS="--replay without CAP_SYS_ADMIN"
LAB_RC=0
R setpriv --bounding-set -sys_admin --inh-caps -sys_admin "$NATTRACED" --replay "$live" \
	>"$LAB_TMP/nocap.out" 2>"$LAB_TMP/nocap.err" || LAB_RC=$?
[ "$LAB_RC" = 2 ] || { cat "$LAB_TMP/nocap.err" >&2; lab_fail "no CAP_SYS_ADMIN: exit $LAB_RC, not 2"; }
grep -qi "CAP_SYS_ADMIN" "$LAB_TMP/nocap.err" || lab_fail "no CAP_SYS_ADMIN: not said"
[ ! -s "$LAB_TMP/nocap.out" ] || lab_fail "no CAP_SYS_ADMIN: a half answer on stdout"
echo "ok: no CAP_SYS_ADMIN: exit 2, said, nothing on stdout"

# 7. The router untouched, the server never reached, no namespace left.
snapshot "$LAB_TMP/after"
diff -u "$LAB_TMP/before" "$LAB_TMP/after" >&2 || lab_fail "the router's state changed"
echo "ok: the router's ruleset (counters too), links, routes, rules, sysctls, conntrack: identical"
[ "$(server_count)" = "$server_before" ] || lab_fail "a replayed packet reached the real server"
echo "ok: no packet reached the server"
