#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A table named like the trace table that is not the daemon's: the daemon
# refuses, says so, and leaves the table (and the ruleset) untouched. Another
# --table works.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init exists
lab_tmp

lab_exec_router nft -f - <<'NFT' || lab_fail "cannot create the plain trace_debug table"
table inet trace_debug {
	chain keep_me {
		ip daddr 192.0.2.7 counter
	}
}
NFT
lab_exec_router nft -a list ruleset >"$LAB_TMP/before"

lab_run --match "ip daddr 198.51.100.1 tcp dport 1222" --count 1 --output json --timeout 3
lab_exec_router nft -a list ruleset >"$LAB_TMP/after"
[ "$LAB_RC" != 0 ] || lab_fail "expected a non-zero exit status, got 0"
[ "$LAB_RC" != 3 ] || lab_fail "expected a refusal, got the timeout status 3"
[ "$LAB_RC" != 137 ] || lab_fail "the daemon hung and was killed"
grep -qiE 'exist' "$LAB_ERR" || lab_fail "stderr does not say that the table exists"
grep -q 'trace_debug' "$LAB_ERR" || lab_fail "stderr does not name the table trace_debug"
echo "ok: refused with status $LAB_RC: $(head -3 "$LAB_ERR")"
cmp -s "$LAB_TMP/before" "$LAB_TMP/after" ||
	lab_fail "the ruleset changed: $(diff "$LAB_TMP/before" "$LAB_TMP/after")"
echo "ok: the ruleset is byte-for-byte unchanged, the table and its chain are still there"

# The way out the message should suggest: another table name.
lab_run --match "ip daddr 198.51.100.1 tcp dport 1222" --table nattraced_alt \
	--count 1 --output json --timeout 1
lab_expect_rc 3
lab_exec_router nft list table inet nattraced_alt >/dev/null 2>&1 &&
	lab_fail "table nattraced_alt left behind"
lab_exec_router nft -a list ruleset >"$LAB_TMP/after"
cmp -s "$LAB_TMP/before" "$LAB_TMP/after" ||
	lab_fail "the ruleset changed after --table nattraced_alt"
echo "ok: --table nattraced_alt ran and cleaned up"
echo "PASS"
