#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --check on a real ruleset (issue 22): OpenWrt fw4's default ruleset in
# the router (as ruleset_fw4.sh). Three SYNs are traced live; a check file
# is written from what the live trace said about each (accept, or reject
# by the rule's handle), and `--check` must reproduce every verdict and
# handle in a clone of the router, without touching it.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_trap
rs_up fw4 pppoe-wan br-lan || exit 1

lab_exec_client socat TCP4-LISTEN:8080,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_client ss -Hltn 'sport = :8080' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

rs_daemon_start --match "ip saddr { $LAB_CLIENT4, $LAB_SERVER4 } tcp flags & (syn | ack) == syn" \
	--count 3 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"
rs_expect_connect masq "$LAB_SERVER" "$LAB_CLIENT4" 8080 41101
rs_expect_no_connect wan_ssh "$LAB_CLIENT" "$LAB_WAN4" 22 41102
rs_expect_no_connect wan_fwd "$LAB_CLIENT" "$LAB_SERVER4" 22 41103
rs_collect masq wan_ssh wan_fwd
cp "$LAB_OUT" "$LAB_TMP/live.json"

# The check file, from the live verdicts.
rs_check_lines "$LAB_TMP/live.json" >"$LAB_TMP/fw4.check"
cat "$LAB_TMP/fw4.check" >&2
[ "$(wc -l <"$LAB_TMP/fw4.check")" = 3 ] || lab_fail "three live timelines expected"
grep -q ': accept$' "$LAB_TMP/fw4.check" || lab_fail "the masqueraded SYN was not accepted live"
[ "$(grep -c ': reject by rule handle [0-9]*$' "$LAB_TMP/fw4.check")" = 2 ] ||
	lab_fail "two live rejects by a rule expected"

lab_exec_router nft -s list ruleset >"$LAB_TMP/ruleset.before"
lab_run --check "$LAB_TMP/fw4.check" --output json
lab_expect_rc 0
lab_expect_jq "every live verdict reproduced in the clone" '
	[.[] | select(.type == "check")] | length == 3 and all(.passed)'
lab_expect_jq "the masqueraded SYN is seen leaving pppoe-wan, from the router's address" '
	[.[] | select(.type == "check" and .actual.verdict == "accept")][0].actual.cause |
	test("^accept, forwarded out of pppoe-wan to 198\\.51\\.100\\.2:8080 from 198\\.51\\.100\\.1:")'
lab_exec_router nft -s list ruleset >"$LAB_TMP/ruleset.after"
diff -u "$LAB_TMP/ruleset.before" "$LAB_TMP/ruleset.after" >&2 || lab_fail "the router's ruleset changed"
echo "ok: fw4's ruleset untouched"
rs_done
