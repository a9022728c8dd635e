#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Lost outside the ruleset because forwarding is off: the router's
# prerouting accepts a SYN for the server, then the kernel refuses to
# forward it. nattraced must name the sysctl, for IPv4
# (net.ipv4.ip_forward, then net.ipv4.conf.wan0.forwarding) and for IPv6
# (net.ipv6.conf.all.forwarding), in the text, the JSON and the journal
# fields, and nowhere blame a rule.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
# shellcheck source=../lib/procsubset.sh
. "$TESTS_DIR/lib/procsubset.sh"
LAB_TRAP_EXTRA=jd_down
lab_init vfwd

# one_syn ADDR PORT MATCH [--output text]: trace one SYN from the client.
one_syn()
{
	lab_daemon_start --match "$3" --count 1 --output "${4:-json}" --timeout 15
	lab_daemon_ready
	lab_syn "$1" "$2"
	lab_daemon_wait
	lab_expect_rc 0
}

# 1. net.ipv4.ip_forward=0 (which also turns off every interface's forwarding).
lab_exec_router sysctl -qw net.ipv4.ip_forward=0
one_syn "$LAB_SERVER4" 22 "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn"
lab_expect_json "ip_forward 0: accepted, then lost after prerouting" '
	.[0].verdict == "accept" and .[0].complete == true and
	.[0].outside_ruleset.after == "prerouting"'
lab_expect_json "ip_forward 0: reason forwarding_off, evidence names the sysctl" '
	.[0].outside_ruleset.reason == "forwarding_off" and
	.[0].outside_ruleset.evidence == "not forwarded: net.ipv4.ip_forward is 0 in this namespace"'
lab_expect_json "ip_forward 0: the summary says it" '
	.[0].cause.summary | test("dropped outside the ruleset: not forwarded: net.ipv4.ip_forward is 0 in this namespace$")'

# The same in text.
one_syn "$LAB_SERVER4" 22 "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn" text
grep -q "then lost outside the ruleset" "$LAB_OUT" ||
	lab_fail "text: no 'then lost outside the ruleset' on the first line"
grep -q "verdict accept .*never reached .*: dropped outside the ruleset: not forwarded: net.ipv4.ip_forward is 0 in this namespace" "$LAB_OUT" ||
	lab_fail "text: the verdict line does not name net.ipv4.ip_forward"
echo "ok: text names net.ipv4.ip_forward"

# 2. Forwarding on, but off on the input interface.
lab_exec_router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.wan0.forwarding=0
one_syn "$LAB_SERVER4" 22 "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn"
lab_expect_json "wan0 forwarding 0: evidence names net.ipv4.conf.wan0.forwarding" '
	.[0].outside_ruleset.reason == "forwarding_off" and
	.[0].outside_ruleset.evidence == "not forwarded: net.ipv4.conf.wan0.forwarding is 0 in this namespace"'
lab_exec_router sysctl -qw net.ipv4.conf.wan0.forwarding=1

# 3. IPv6.
lab_exec_router sysctl -qw net.ipv6.conf.all.forwarding=0
one_syn "$LAB_SERVER6" 22 "ip6 daddr $LAB_SERVER6 tcp dport 22 tcp flags syn"
lab_expect_json "ipv6 forwarding 0: evidence names net.ipv6.conf.all.forwarding" '
	.[0].verdict == "accept" and .[0].outside_ruleset.after == "prerouting" and
	.[0].outside_ruleset.reason == "forwarding_off" and
	.[0].outside_ruleset.evidence == "not forwarded: net.ipv6.conf.all.forwarding is 0 in this namespace"'

# 4. Under the unit's ProcSubset=pid there is no /proc/sys: the sysctls
# come over netlink (RTM_GETNETCONF).
for knob in net.ipv4.ip_forward net.ipv4.conf.wan0.forwarding; do
	lab_exec_router sysctl -qw "$knob=0"
	ps_daemon_start --match "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn" --count 1 \
		--output json --timeout 15
	lab_daemon_ready
	lab_syn "$LAB_SERVER4" 22
	lab_daemon_wait
	ps_expect_mounted
	lab_expect_rc 0
	lab_expect_json "/proc subset=pid: $knob 0 is named" '
		.[0].outside_ruleset.reason == "forwarding_off" and
		.[0].outside_ruleset.evidence == "not forwarded: '"$knob"' is 0 in this namespace"'
	lab_exec_router sysctl -qw net.ipv4.ip_forward=1
done
lab_exec_router sysctl -qw net.ipv6.conf.all.forwarding=0
ps_daemon_start --match "ip6 daddr $LAB_SERVER6 tcp dport 22 tcp flags syn" --count 1 \
	--output json --timeout 15
lab_daemon_ready
lab_syn "$LAB_SERVER6" 22
lab_daemon_wait
ps_expect_mounted
lab_expect_rc 0
# (force_forwarding is not in RTM_GETNETCONF: said to be unreadable)
lab_expect_json "/proc subset=pid: net.ipv6.conf.all.forwarding 0 is named" '
	.[0].outside_ruleset.reason == "forwarding_off" and
	.[0].outside_ruleset.evidence == "not forwarded: net.ipv6.conf.all.forwarding is 0 in this namespace (net.ipv6.conf.wan0.force_forwarding, which would forward it anyway, could not be read)"'
lab_exec_router sysctl -qw net.ipv6.conf.all.forwarding=1

# 5. The journal: NATTRACE_OUTSIDE_REASON and NATTRACE_OUTSIDE_EVIDENCE.
if ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	lab_tmp
	jd_up || lab_fail "cannot start a private journald"
	lab_exec_router sysctl -qw net.ipv4.ip_forward=0
	LAB_OUT=$LAB_TMP/jout LAB_ERR=$LAB_TMP/jerr LAB_ARGS="--output journal"
	jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
		--match "ip daddr $LAB_SERVER4 tcp dport 22 tcp flags syn" --count 1 --timeout 15 \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
	lab_daemon_ready
	lab_syn "$LAB_SERVER4" 22
	lab_daemon_wait
	lab_expect_rc 0
	jd_wait_entries 1 NATTRACE_OUTSIDE_REASON=forwarding_off ||
		lab_fail "journal: no entry with NATTRACE_OUTSIDE_REASON=forwarding_off"
	ev=$(jd_journalctl -o json NATTRACE_OUTSIDE_REASON=forwarding_off | jq -r .NATTRACE_OUTSIDE_EVIDENCE)
	[ "$ev" = "not forwarded: net.ipv4.ip_forward is 0 in this namespace" ] ||
		lab_fail "journal: NATTRACE_OUTSIDE_EVIDENCE is '$ev'"
	echo "ok: journal: NATTRACE_OUTSIDE_REASON and NATTRACE_OUTSIDE_EVIDENCE"
	jd_down
else
	echo "skip: journal part (nattraced built without journal support)"
fi

lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
