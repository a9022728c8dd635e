#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --check on ufw's ruleset (as ruleset_ufw.sh): iptables-nft rules, whose
# IPv6 table holds xtables compat matches (`xt match icmp6`) that nft
# lists but cannot load back. The clone copies that table as the
# kernel's own netlink messages (clone_xt.c). Eight SYNs are traced
# live (IPv4 and IPv6: accepted, rejected, dropped by policy, routed);
# a check file written from the live verdicts must pass whole in a
# clone of the router, every handle the real one, the router untouched.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_skip_unless_possible
lab_require iptables-nft-restore ip6tables-nft-restore || exit 1
lab_trap
rs_up ufw || exit 1
lab_exec_router ip6tables-nft-restore <"$TESTS_DIR/rulesets/ufw/ip6tables.rules" ||
	lab_fail "ip6tables-nft-restore of ufw's IPv6 rules failed"
lab_exec_router nft list table ip6 filter | grep -q 'xt match' ||
	lab_fail "ufw's IPv6 table has no xtables compat match: nothing to test"
rs_listen "$LAB_ROUTER" 22 || exit 1
lab_exec_router socat TCP6-LISTEN:22,ipv6only=1,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_router ss -Hltn 'sport = :22' | wc -l)" -ge 2 ] && break
	sleep 0.1
done

rs_daemon_start --match "tcp sport 46101-46108 tcp flags & (syn | ack) == syn" \
	--count 8 --output json --timeout 30
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"
rs_expect_connect ssh4 "$LAB_CLIENT" "$LAB_WAN4" 22 46101
rs_expect_connect ssh6 "$LAB_CLIENT" "$LAB_WAN6" 22 46102
rs_expect_no_connect reject4 "$LAB_CLIENT" "$LAB_WAN4" 8443 46103
rs_expect_no_connect reject6 "$LAB_CLIENT" "$LAB_WAN6" 8443 46104
rs_expect_no_connect closed4 "$LAB_CLIENT" "$LAB_WAN4" 23 46105
rs_expect_connect routed4 "$LAB_CLIENT" "$LAB_SERVER4" 22 46106
rs_expect_connect routed6 "$LAB_CLIENT" "$LAB_SERVER6" 22 46107
rs_expect_no_connect notrouted4 "$LAB_CLIENT" "$LAB_SERVER4" 80 46108
rs_collect ssh4 ssh6 reject4 reject6 closed4 routed4 routed6 notrouted4
cp "$LAB_OUT" "$LAB_TMP/live.json"

rs_check_lines "$LAB_TMP/live.json" >"$LAB_TMP/ufw.check"
cat "$LAB_TMP/ufw.check" >&2
[ "$(wc -l <"$LAB_TMP/ufw.check")" = 8 ] || lab_fail "eight live timelines expected"
grep -q '^tcp \[2001' "$LAB_TMP/ufw.check" || lab_fail "no IPv6 line"

lab_exec_router nft -s list ruleset >"$LAB_TMP/ruleset.before"
lab_run --check "$LAB_TMP/ufw.check" --output json
lab_expect_rc 0
lab_expect_jq "every live verdict and handle reproduced in the clone, IPv6 too" '
	[.[] | select(.type == "check")] | length == 8 and all(.passed)'
lab_exec_router nft -s list ruleset >"$LAB_TMP/ruleset.after"
diff -u "$LAB_TMP/ruleset.before" "$LAB_TMP/ruleset.after" >&2 || lab_fail "the router's ruleset changed"
echo "ok: ufw's ruleset untouched"
rs_done
