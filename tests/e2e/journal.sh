#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --output journal against a private journald: the dropped SYN of the
# broken port forward and, after the fix, an accepted one become one entry
# each, with the NATTRACE_* fields, the same JSON --output json prints,
# priorities, MESSAGE_IDs that the installed catalog explains, and the
# daemon's start and stop entries.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
if ! ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	echo "SKIP: nattraced built without journal support" >&2
	exit 77
fi
LAB_TRAP_EXTRA=jd_down
lab_init journal
lab_tmp
jd_up || lab_fail "cannot start a private journald"

MSGID_TIMELINE=5ec034376eec4a589f7f395bb4e2c33d
MSGID_STARTED=6d7c2ce16d9c4f1aba9bdf3461f68c9a
MSGID_STOPPED=cdeaa07a071340bea206dfdae2b905c8
match="ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn"

drop_handle=$(lab_exec_router nft -a list chain inet filter allowed_dnats |
	sed -n 's/^[[:space:]]*drop # handle \([0-9]*\)$/\1/p')
[ -n "$drop_handle" ] || lab_fail "lab ruleset not as expected"

LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err LAB_ARGS="--output journal --match '$match' --count 2"
jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
	--match "$match" --count 2 --timeout 30 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
LAB_DAEMON_PID=$!
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
# the drop must be in the journal before the fix, or it could be the accept
jd_wait_entries 1 MESSAGE_ID=$MSGID_TIMELINE || lab_fail "no timeline entry in the journal"
lab_fix || lab_fail "lab_fix failed"
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection after the fix failed"
lab_daemon_wait
lab_expect_rc 0
[ -s "$LAB_OUT" ] && lab_fail "--output journal wrote to stdout"
jd_wait_entries 1 MESSAGE_ID=$MSGID_STOPPED || lab_fail "no stop entry"

J=$LAB_TMP/j

jd_expect "two timeline entries, both SYNs to the port forward" \
	'length == 2 and all(.SYSLOG_IDENTIFIER == "nattraced" and
		.NATTRACE_PROTO == "tcp" and .NATTRACE_DST == "198.51.100.1:1222" and
		(.NATTRACE_SRC | test("^198\\.51\\.100\\.2:[0-9]+$")))' \
	MESSAGE_ID=$MSGID_TIMELINE
jd_expect "NATTRACE_VERDICT=drop gives exactly the dropped packet, fields and priority warning" \
	'length == 1 and (.[0] | .PRIORITY == "4" and .NATTRACE_COMPLETE == "true" and
	(.NATTRACE_ID | test("^[0-9a-f]{8}$")) and
	.NATTRACE_NAT == "dnat 198.51.100.1:1222 -> 203.0.113.10:22" and
	.NATTRACE_CAUSE == "drop" and .NATTRACE_CAUSE_TABLE == "filter" and
	.NATTRACE_CAUSE_CHAIN == "allowed_dnats" and
	.NATTRACE_CAUSE_HANDLE == "'"$drop_handle"'")' \
	SYSLOG_IDENTIFIER=nattraced NATTRACE_VERDICT=drop
jd_expect "the drop's NATTRACE_JSON is the --output json object of the same packet" \
	'.[0] as $e | ($e.NATTRACE_JSON | fromjson) as $j |
	$j.id == $e.NATTRACE_ID and $j.verdict == "drop" and $j.complete == true and
	$j.cause.chain == "allowed_dnats" and $j.cause.handle == '"$drop_handle"' and
	$j.nat[0].to == "203.0.113.10:22" and
	($j.events | any(.verdict == "jump" and .target == "allowed_dnats"))' \
	NATTRACE_VERDICT=drop
jd_expect "the drop's MESSAGE: summary line with NAT and cause, then the steps" \
	'.[0].MESSAGE | split("\n") as $l | ($l | length) > 3 and
	($l[0] | test("^tcp 198\\.51\\.100\\.2:[0-9]+ -> 198\\.51\\.100\\.1:1222, dnat 198\\.51\\.100\\.1:1222 -> 203\\.0\\.113\\.10:22: drop by rule `drop` \\(handle '"$drop_handle"'\\) in inet filter allowed_dnats")) and
	($l | any(test("ct status dnat jump allowed_dnats"))) and
	($l | any(test("^  verdict drop"))) and
	($l[-1] | test("^  hint: 203\\.0\\.113\\.10 \\. 22 is not in set inet filter allow_in"))' \
	NATTRACE_VERDICT=drop
jd_expect "issue 4 in the journal: the hint, its command, the cause kind, the ct id" \
	'length == 1 and (.[0] | .NATTRACE_CAUSE_KIND == "drop" and
	(.NATTRACE_HINT | test("203\\.0\\.113\\.10 \\. 22 is not in set inet filter allow_in")) and
	.NATTRACE_HINT_COMMAND == "nft add element inet filter allow_in { 203.0.113.10 . 22 }" and
	(.NATTRACE_CT_ID | tonumber) > 0)' \
	NATTRACE_VERDICT=drop
jd_expect "the accepted packet: priority info, policy of nat postrouting or the allow rule" \
	'length == 1 and (.[0] | .PRIORITY == "6" and .NATTRACE_COMPLETE == "true" and
	(.NATTRACE_JSON | fromjson | .verdict == "accept"))' \
	NATTRACE_VERDICT=accept MESSAGE_ID=$MSGID_TIMELINE
jd_expect "start entry: match, rate, table, hooks, kernel, conntrack attributes" \
	'length == 1 and (.[0] | .NATTRACE_MATCH == "'"$match"'" and
	.NATTRACE_RATE == "1/second" and .NATTRACE_TABLE == "inet trace_debug" and
	.NATTRACE_HOOKS == "prerouting,output" and (.NATTRACE_KERNEL | length) > 0 and
	.NATTRACE_CT_ATTRS == "not yet seen" and .PRIORITY == "6")' \
	MESSAGE_ID=$MSGID_STARTED
jd_expect "stop entry: 2 timelines, 1 drop, nothing lost, the counter saw them" \
	'length == 1 and (.[0] | .NATTRACE_TIMELINES == "2" and .NATTRACE_DROPS == "1" and
	.NATTRACE_ENOBUFS == "0" and .NATTRACE_LOST == "0" and
	(.NATTRACE_SELECTED | tonumber) >= 2)' \
	MESSAGE_ID=$MSGID_STOPPED
kmajor=$(uname -r | cut -d. -f1)
kminor=$(uname -r | cut -d. -f2 | tr -cd '0-9')
if [ $((kmajor * 1000 + kminor)) -ge 6016 ]; then
	jd_expect "Linux 6.16+: conntrack trace attributes reported as seen" \
		'map(select(.MESSAGE_ID == null)) | length == 1 and (.[0].MESSAGE | test("conntrack"))' \
		SYSLOG_IDENTIFIER=nattraced NATTRACE_CT_ATTRS=seen
	jd_expect "... and in the stop entry" '.[0].NATTRACE_CT_ATTRS == "seen"' \
		MESSAGE_ID=$MSGID_STOPPED
fi

# The catalog: built as journalctl --update-catalog builds it on install,
# made visible in the private namespace only.
catalog=$TESTS_DIR/../contrib/systemd/nattraced.catalog
mkdir -p "$LAB_TMP/root/usr/lib/systemd/catalog"
cp "$catalog" "$LAB_TMP/root/usr/lib/systemd/catalog/"
journalctl --root="$LAB_TMP/root" --update-catalog ||
	lab_fail "journalctl --update-catalog refused nattraced.catalog"
[ -d /var/lib/systemd/catalog ] || lab_fail "no /var/lib/systemd/catalog to mount over"
jd_exec mount --bind "$LAB_TMP/root/var/lib/systemd/catalog" /var/lib/systemd/catalog ||
	lab_fail "cannot mount the catalog in the private namespace"
jd_journalctl -x NATTRACE_VERDICT=drop >"$J" 2>&1
grep -q "Subject: Packet [0-9a-f]\{8\}: drop" "$J" &&
	grep -q "What to do next: for a drop" "$J" ||
	lab_fail "journalctl -x does not explain the timeline entry: $(cat "$J")"
echo "ok: journalctl -x explains the timeline entry"
for id in $MSGID_STARTED $MSGID_STOPPED; do
	jd_journalctl -x MESSAGE_ID=$id >"$J" 2>&1
	grep -q "Subject: nattraced st" "$J" ||
		lab_fail "journalctl -x does not explain $id: $(cat "$J")"
done
echo "ok: journalctl -x explains the start and stop entries"

# An error goes to the journal with its cause and priority err.
jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
	--match "ip daddr 192.0.2.1 counter" --count 1 --timeout 5 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null
rc=$?
[ "$rc" = 2 ] || lab_fail "refused match: exit status $rc, expected 2"
jd_wait_entries 1 SYSLOG_IDENTIFIER=nattraced PRIORITY=3 ||
	lab_fail "no error entry for the refused match"
jd_expect "the refused match is an error entry naming the problem" \
	'length == 1 and (.[0].MESSAGE | test("counter"))' \
	SYSLOG_IDENTIFIER=nattraced PRIORITY=3
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"
echo "PASS"
