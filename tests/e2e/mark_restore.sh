#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A reply whose mark is restored from its connection (`meta mark set ct
# mark` in a mangle chain at priority -150, as policy routing setups do):
# the kernel sends the mark as it is after each event's rule, so the
# chain's first event, that very rule's, already carries it. nattraced
# must show the reply entering that chain unmarked and the mark changing at
# the rule, as `nft monitor trace` does (it prints the mark first on the
# chain's policy line, after the rule).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
lab_init mark
lab_fix || lab_fail "lab_fix failed"
lab_exec_router nft -f - <<'EOF' || lab_fail "could not load the mangle table"
table inet mangle {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		ct direction reply meta mark set ct mark
	}
	chain forward {
		type filter hook forward priority mangle; policy accept;
		ct state new meta mark set 0xca6c ct mark set meta mark
	}
}
EOF

# the server's SYN-ACK, on its way back through the router
match="ip saddr $LAB_SERVER4 tcp sport $LAB_SSH_PORT tcp flags & (syn | ack) == syn | ack"
lab_daemon_start --match "$match" --count 1 --output json --timeout 15
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"
banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT") ||
	lab_fail "the client could not connect through the port forward (got '$banner')"
lab_daemon_wait
rs_wait_quiet
rs_monitor_stop
lab_expect_rc 0
lab_expect_json "one timeline, accepted, complete" '
	length == 1 and .[0].verdict == "accept" and .[0].complete'

# What nft monitor trace says, as the ground truth: no mark up to the
# restoring rule, the mark from mangle prerouting's policy line on.
mon=$LAB_TMP/monitor
id=$(jq -r 'select(.type == "trace") | .id' "$LAB_OUT")
grep "^trace id $id " "$mon" >"$LAB_TMP/mon.id"
rule_line=$(grep -n 'inet mangle prerouting rule ct direction reply meta mark set ct mark' \
	"$LAB_TMP/mon.id" | cut -d: -f1)
first_mark=$(grep -n 'meta mark 0x0000ca6c' "$LAB_TMP/mon.id" | head -1 | cut -d: -f1)
{ [ -n "$rule_line" ] && [ -n "$first_mark" ]; } ||
	lab_fail "nft monitor trace shows no restoring rule or no mark: $(cat "$LAB_TMP/mon.id")"
[ "$first_mark" -gt "$rule_line" ] ||
	lab_fail "nft monitor trace shows the mark before the rule that set it"
echo "ok: nft monitor trace shows the mark first on line $first_mark, after the rule (line $rule_line)"
jq -c 'select(.type == "trace")' "$LAB_OUT" >"$LAB_TMP/timeline"
"$TESTS_DIR/lib/trace_compare.sh" "$LAB_TMP/timeline" "$mon" ||
	lab_fail "the rules differ from nft monitor trace"

lab_expect_json "the reply arrived unmarked" '.[0].packet.mark == null'
lab_expect_json "it entered mangle prerouting unmarked" '
	.[0].events[0] | .table == "mangle" and .chain == "prerouting" and
		.packet != null and .packet.mark == null'
lab_expect_json "the restoring rule changed the mark from 0 to 51820" '
	.[0].events[0] | .rule == "ct direction reply meta mark set ct mark" and
		.mark_change == {"from": 0, "to": 51820}'
lab_expect_json "no other event changed it" '
	[.[0].events[] | select(.mark_change)] | length == 1'
lab_expect_json "mangle forward and filter forward saw it marked on entry" '
	[.[0].events[] | select(.packet and .chain == "forward") | .packet.mark] ==
		[51820, 51820]'

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
