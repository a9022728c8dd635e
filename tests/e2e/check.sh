#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --check FILE in a clone of the router's namespace (issue 22):
#   - 12 expectations about the lab (IPv4 and IPv6, tcp, udp, icmp, in on
#     wan0 and lan0 and sent by the router) pass: exit 0, one result each,
#     a JUnit report that is valid XML
#   - one wrong expectation: exit 1, the line names what differs
#   - --ruleset: the fixed ruleset passes a line the lab fails, a broken
#     one fails it; a file nft cannot read: exit 2
#   - a bad check file: exit 2 with file:line, nothing built
#   - SIGKILL in the middle of 100 expectations: the clone's namespace is
#     gone with the process, the router's links and ruleset unchanged
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init check jq python3

R() { lab_exec_router "$@"; }

drop_handle=$(R nft -a list chain inet filter allowed_dnats |
	sed -n 's/^[[:space:]]*drop # handle \([0-9]*\)$/\1/p')
[ -n "$drop_handle" ] || lab_fail "lab ruleset not as expected"
lab_tmp
good=$LAB_TMP/lab.check
cat >"$good" <<EOF
# the lab's router, as it is: the broken port forward
tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: drop by rule handle $drop_handle
tcp [2001:db8:1::2]:40001 -> [2001:db8:1::1]:1222 iif wan0 syn: drop by rule handle $drop_handle
tcp 198.51.100.2:40002 -> 203.0.113.10:22 iif wan0 syn: drop by policy
tcp [2001:db8:1::2]:40003 -> [2001:db8:2::10]:22 iif wan0 syn: drop by policy
tcp 203.0.113.10:2000 -> 198.51.100.2:80 iif lan0 syn: drop by policy

# the router itself takes everything (input policy accept)
tcp 198.51.100.2:40004 -> 198.51.100.1:22 iif wan0 syn: accept
udp 198.51.100.2:5353 -> 198.51.100.1:53 iif wan0: accept
udp [2001:db8:1::2]:5353 -> [2001:db8:1::1]:53 iif wan0: accept
icmp 198.51.100.2 -> 198.51.100.1 iif wan0 echo-request: accept
icmpv6 [2001:db8:1::2] -> [2001:db8:1::1] iif wan0 echo-request: accept
# and sends what it likes (output policy accept)
tcp 203.0.113.1:40005 -> 203.0.113.10:22 syn: accept
udp 198.51.100.1:5353 -> 198.51.100.2:53: accept
EOF
R nft list ruleset >"$LAB_TMP/ruleset.before"
R ip -o link show >"$LAB_TMP/links.before"

# 1. All pass.
t0=$(date +%s%N)
lab_run --check "$good" --junit "$LAB_TMP/junit.xml"
t1=$(date +%s%N)
lab_expect_rc 0
[ "$(grep -c '^PASS' "$LAB_OUT")" = 12 ] || lab_fail "12 PASS lines expected"
echo "ok: 12 expectations passed in $(((t1 - t0) / 1000000)) ms (clone included)"
python3 - "$LAB_TMP/junit.xml" <<'EOF' || lab_fail "JUnit report"
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
cases = root.findall('.//testcase')
assert len(cases) == 12, len(cases)
assert not root.findall('.//failure'), 'failures in a passing run'
EOF
echo "ok: the JUnit report is XML with 12 test cases, no failure"

lab_run --check "$good" --output json
lab_expect_rc 0
lab_expect_jq "json: 12 check records, all passed, the drop by handle $drop_handle" '
	[.[] | select(.type == "check")] | length == 12 and all(.passed) and
	(.[0].actual.handle == '"$drop_handle"')'

# The clone has no sockets: a SYN for the router is "not checked", never
# "no listener" (the timeline, with -v).
echo "tcp 198.51.100.2:40009 -> 198.51.100.1:22 iif wan0 syn: accept" >"$LAB_TMP/host.check"
lab_run --check "$LAB_TMP/host.check" -v --output json
lab_expect_rc 0
lab_expect_json "a SYN for the host: delivered, the listener not checked, no 'no listener'" '
	length == 1 and .[0].outside_ruleset == null and
	.[0].after_ruleset.decision == "not_checked" and
	(.[0].after_ruleset | tostring | test("sockets are not copied"))'

# 2. One wrong expectation: exit 1, the difference named.
sed 's/1222 iif wan0 syn: drop by rule handle [0-9]*$/1222 iif wan0 syn: accept/' "$good" >"$LAB_TMP/wrong.check"
lab_run --check "$LAB_TMP/wrong.check" --junit "$LAB_TMP/wrong.xml"
lab_expect_rc 1
grep -q "^FAIL  line 2:" "$LAB_OUT" && grep -q "(expected accept, got drop)" "$LAB_OUT" ||
	lab_fail "the failed line does not say what differs"
[ "$(grep -c '^FAIL' "$LAB_OUT")" = 2 ] || lab_fail "two lines should fail (IPv4 and IPv6)"
python3 - "$LAB_TMP/wrong.xml" <<'EOF' || lab_fail "JUnit report of a failed run"
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
assert len(root.findall('.//failure')) == 2
EOF
echo "ok: wrong expectations: exit 1, named, two JUnit failures"

# 3. --ruleset: fixed passes, broken fails, unreadable is exit 2.
R nft list ruleset | sed "s/type ipv4_addr . inet_service$/type ipv4_addr . inet_service; elements = { 203.0.113.10 . 22 }/" \
	>"$LAB_TMP/fixed.nft"
grep -q 'elements = { 203.0.113.10 . 22 }' "$LAB_TMP/fixed.nft" || lab_fail "fixed ruleset not made"
R nft list ruleset | sed 's/policy accept;/policy drop;/' >"$LAB_TMP/broken.nft"
cat >"$LAB_TMP/fixed.check" <<EOF
tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept
tcp 198.51.100.2:40004 -> 198.51.100.1:22 iif wan0 syn: accept
EOF
lab_run --check "$LAB_TMP/fixed.check" --ruleset "$LAB_TMP/fixed.nft"
lab_expect_rc 0
lab_run --check "$LAB_TMP/fixed.check"
lab_expect_rc 1
echo "ok: the fix passes with --ruleset, fails without"
lab_run --check "$LAB_TMP/fixed.check" --ruleset "$LAB_TMP/broken.nft"
lab_expect_rc 1
grep -q "^FAIL  line 2:" "$LAB_OUT" || lab_fail "broken ruleset: input policy drop not caught"
echo "ok: a broken ruleset fails the expected lines"
echo 'table inet x { chain y { type filter hook input priority 0; bogus } }' >"$LAB_TMP/bad.nft"
lab_run --check "$LAB_TMP/fixed.check" --ruleset "$LAB_TMP/bad.nft"
lab_expect_rc 2
echo "ok: a ruleset nft cannot read: exit 2"

# 4. A bad check file: exit 2, file:line.
printf 'tcp 198.51.100.2:1 -> 198.51.100.1:2 iif wan0 syn: accept\n\ntcp 198.51.100.2 -> : accept\n' >"$LAB_TMP/bad.check"
lab_run --check "$LAB_TMP/bad.check"
lab_expect_rc 2
grep -q "bad.check:3:" "$LAB_ERR" || lab_fail "bad file: no file:line"
[ ! -s "$LAB_OUT" ] || lab_fail "bad file: results printed"
echo "ok: a bad check file: exit 2, file:line, no result"

# 5. SIGKILL during 100 expectations: no namespace, no interface left.
for i in $(seq 100); do
	echo "tcp 198.51.100.2:$((41000 + i)) -> 198.51.100.1:1222 iif wan0 syn: drop"
done >"$LAB_TMP/many.check"
lab_daemon_start --check "$LAB_TMP/many.check"
pid=$(lab_daemon_pid) || lab_fail "no nattraced process"
lab_wait_lines 3 20 || lab_fail "no result within 20 s"
clone_ns=$(readlink "/proc/$pid/ns/net") || lab_fail "cannot read the clone's namespace"
router_ns=$(ip netns exec "$LAB_ROUTER" readlink /proc/self/ns/net)
[ "$clone_ns" != "$router_ns" ] || lab_fail "the process is not in a clone"
kill -KILL "$pid"
lab_daemon_wait
for _ in $(seq 50); do
	lsns -n -t net -o NS | grep -qx "${clone_ns//[^0-9]/}" || break
	sleep 0.1
done
lsns -n -t net -o NS | grep -qx "${clone_ns//[^0-9]/}" && lab_fail "the clone's namespace outlived SIGKILL"
echo "ok: SIGKILL: the clone's namespace ($clone_ns) is gone"
R ip -o link show >"$LAB_TMP/links.after"
diff -u "$LAB_TMP/links.before" "$LAB_TMP/links.after" >&2 || lab_fail "the router's links changed"
R nft list ruleset >"$LAB_TMP/ruleset.after"
diff -u "$LAB_TMP/ruleset.before" "$LAB_TMP/ruleset.after" >&2 || lab_fail "the router's ruleset changed"
echo "ok: the router's links and ruleset unchanged"
