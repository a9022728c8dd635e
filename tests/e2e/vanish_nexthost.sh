#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What must not be blamed on the router. (1) The port forward works, the
# router sends the SYN on, and the server drops it: the router's timeline
# reaches postrouting, so nothing is lost outside its ruleset. (2) A
# packet the router drops for a reason its checks cannot see (TTL 1: the
# kernel drops it before the forward hook): the reason is said to be not
# known, and no reason is invented.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init vnext

match="ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn"
lab_fix || lab_fail "cannot fix the port forward"
lab_exec_server nft -f - <<'NFT' || lab_fail "cannot load the server's ruleset"
table inet server_fw {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 drop
	}
}
NFT

# 1. Dropped on the next host.
for output in json text; do
	lab_daemon_start --match "$match" --count 1 --output "$output" --timeout 15
	lab_daemon_ready
	lab_syn "$LAB_WAN4" "$LAB_PORT"
	lab_daemon_wait
	lab_expect_rc 0
	if [ "$output" = json ]; then
		lab_expect_json "next host: the router accepted it and sent it on" '
			.[0].verdict == "accept" and .[0].complete == true and
			(.[0].accepts | any(.hook == "postrouting"))'
		lab_expect_json "next host: not lost outside the router's ruleset" '
			.[0].outside_ruleset == null and
			(.[0].cause.summary | test("outside") | not)'
	else
		grep -q "outside" "$LAB_OUT" &&
			lab_fail "text: the router is blamed for the server's drop"
		grep -q "^trace .*: accept$" "$LAB_OUT" ||
			lab_fail "text: the first line is not a plain accept"
		echo "ok: text: accepted, nothing outside the ruleset"
	fi
done

# 2. TTL 1: dropped by the router's kernel before the forward hook, for a
# reason the checks do not look at. Routes and forwarding are fine.
lab_daemon_start --match "$match" --count 1 --output json --timeout 15
lab_daemon_ready
timeout 3 ip netns exec "$LAB_CLIENT" socat -T 1 - \
	"TCP4:$LAB_WAN4:$LAB_PORT,ttl=1,connect-timeout=0.5" </dev/null >/dev/null 2>&1
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "ttl 1: lost after prerouting, reason not known, the route is fine" '
	.[0].verdict == "accept" and .[0].outside_ruleset.after == "prerouting" and
	.[0].outside_ruleset.reason == "unknown" and
	(.[0].outside_ruleset.evidence | test("forwards it out lan0 now, and forwarding is on")) and
	(.[0].cause.summary | test("dropped outside the ruleset, why is not known: "))'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
