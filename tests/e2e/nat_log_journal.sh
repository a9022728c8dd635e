#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --nat-log with --output journal, against a private journald: each
# mapping event of the fixed port forward is one journal entry with its
# own MESSAGE_ID (explained by the catalog), the NATTRACE_NAT_* fields and
# the text log's line as MESSAGE. journalctl NATTRACE_NAT_EVENT=new finds
# the mapping, and its NATTRACE_CT_ID is the one of the SYN's timeline
# entry: the join between the two. conntrack -D gives a destroy entry.
# --nat-log=all without --match logs to the journal the same way. Nothing
# goes to stdout.
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
lab_init natjournal conntrack
lab_tmp
lab_fix || lab_fail "lab_fix failed"
jd_up || lab_fail "cannot start a private journald"

MSGID_TIMELINE=5ec034376eec4a589f7f395bb4e2c33d
MSGID_NAT=165613a6238044e1992eaa564334fd5b
MSGID_STOPPED=cdeaa07a071340bea206dfdae2b905c8
match="ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn"

# journal_daemon ARGS...: nattraced in the router namespace, logging to
# the private journald; LAB_OUT, LAB_ERR, LAB_DAEMON_PID as lab_daemon_start.
journal_daemon()
{
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN
	LAB_ERR=$LAB_TMP/err.$LAB_RUN
	LAB_ARGS="$*"
	jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" "$@" \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
}

daemon_stop()
{
	local pid

	pid=$(lab_daemon_pid) || lab_fail "cannot find the nattraced process"
	kill -TERM "$pid"
	lab_daemon_wait
}

J=$LAB_TMP/j

# --- the port forward: its mapping and its timeline --------------------------
journal_daemon --output journal --nat-log --match "$match" --timeout 40
lab_daemon_ready
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the connection through the port forward failed"
jd_wait_entries 1 NATTRACE_NAT_EVENT=new || lab_fail "no NATTRACE_NAT_EVENT=new entry"
jd_wait_entries 1 MESSAGE_ID=$MSGID_TIMELINE || lab_fail "no timeline entry"

line_re='^nat \+ tcp 198\.51\.100\.2:[0-9]+ -> 198\.51\.100\.1:1222 dnat 203\.0\.113\.10:22 id [0-9]+ [A-Z_]+$'
jd_expect "journalctl NATTRACE_NAT_EVENT=new finds the port forward's mapping, with its fields" '
	length == 1 and (.[0] | .MESSAGE_ID == "'$MSGID_NAT'" and .PRIORITY == "6" and
	.SYSLOG_IDENTIFIER == "nattraced" and .NATTRACE_NAT_KIND == "dnat" and
	.NATTRACE_PROTO == "tcp" and (.NATTRACE_ORIG_SRC | test("^198\\.51\\.100\\.2:[0-9]+$")) and
	.NATTRACE_ORIG_DST == "198.51.100.1:1222" and .NATTRACE_REPLY_SRC == "203.0.113.10:22" and
	(.NATTRACE_REPLY_DST == .NATTRACE_ORIG_SRC) and
	(.NATTRACE_CT_ID | test("^[0-9]+$")) and (.NATTRACE_CT_STATE | length) > 0)' \
	NATTRACE_NAT_EVENT=new
jd_expect "its MESSAGE names the same ct id and state" '
	.[0] as $e | $e.MESSAGE | endswith(" id " + $e.NATTRACE_CT_ID + " " + $e.NATTRACE_CT_STATE)' \
	NATTRACE_NAT_EVENT=new
jd_journalctl -o cat NATTRACE_NAT_EVENT=new | grep -qE "$line_re" ||
	lab_fail "the MESSAGE is not the text log's line: $(jd_journalctl -o cat NATTRACE_NAT_EVENT=new)"
echo "ok: its MESSAGE is the text log's line"
jd_expect "its NATTRACE_JSON is the --output json object of the mapping" '
	.[0] as $e | ($e.NATTRACE_JSON | fromjson) | .type == "nat" and .event == "new" and
	.ct_id == ($e.NATTRACE_CT_ID | tonumber) and .reply_src == "203.0.113.10:22"' \
	NATTRACE_NAT_EVENT=new
ctid=$(jd_journalctl -o json NATTRACE_NAT_EVENT=new | jq -r .NATTRACE_CT_ID)
jd_expect "the timeline entry of the SYN carries the same NATTRACE_CT_ID ($ctid)" '
	length == 1 and (.[0] | .NATTRACE_VERDICT == "accept" and
	(.NATTRACE_JSON | fromjson | .ct.id) == '"$ctid"')' \
	MESSAGE_ID=$MSGID_TIMELINE NATTRACE_CT_ID="$ctid"
jd_expect "journalctl NATTRACE_CT_ID=$ctid joins the mapping and the timeline" '
	[.[].MESSAGE_ID] | sort == (["'$MSGID_TIMELINE'", "'$MSGID_NAT'"] | sort)' \
	NATTRACE_CT_ID="$ctid" NATTRACE_NAT_EVENT=new + NATTRACE_CT_ID="$ctid" MESSAGE_ID=$MSGID_TIMELINE

lab_exec_router conntrack -D -p tcp --orig-dst "$LAB_WAN4" --dport "$LAB_PORT" >/dev/null 2>&1 ||
	lab_fail "conntrack -D found no port-forward entry on the router"
jd_wait_entries 1 NATTRACE_NAT_EVENT=destroy || lab_fail "no NATTRACE_NAT_EVENT=destroy entry"
jd_expect "the deleted entry: NATTRACE_NAT_EVENT=destroy, same ct id, MESSAGE with '-'" '
	length == 1 and (.[0] | .NATTRACE_CT_ID == "'"$ctid"'" and .MESSAGE_ID == "'$MSGID_NAT'" and
	(.MESSAGE | startswith("nat - tcp 198.51.100.2:")))' \
	NATTRACE_NAT_EVENT=destroy
jd_expect "every NAT entry has an event of new, update or destroy" '
	length >= 2 and all(.NATTRACE_NAT_EVENT | IN("new", "update", "destroy"))' \
	MESSAGE_ID=$MSGID_NAT
daemon_stop
lab_expect_rc 0
[ -s "$LAB_OUT" ] && lab_fail "--output journal wrote NAT mappings to stdout: $(head -3 "$LAB_OUT")"
echo "ok: nothing on stdout"
jd_wait_entries 1 MESSAGE_ID=$MSGID_STOPPED || lab_fail "no stop entry"
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"

# --- --nat-log=all without --match: the log alone, to the journal ----------------
journal_daemon --output journal --nat-log=all --timeout 40
# its status lines go to the journal (stderr only when journald fails)
started() {
	grep -q "logging every NAT mapping" "$LAB_ERR" ||
		jd_journalctl -o cat SYSLOG_IDENTIFIER=nattraced | grep -q "logging every NAT mapping"
}
for _ in $(seq 100); do
	started && break
	sleep 0.1
done
started || lab_fail "--nat-log=all did not start"
lab_connect "$LAB_WAN4" "$LAB_PORT" >/dev/null || lab_fail "the second connection failed"
jd_wait_entries 2 NATTRACE_NAT_EVENT=new || lab_fail "--nat-log=all: no new entry for the second connection"
daemon_stop
lab_expect_rc 0
[ -s "$LAB_OUT" ] && lab_fail "--nat-log=all --output journal wrote to stdout"
jd_expect "--nat-log=all: a second new mapping, another ct id" '
	length == 2 and (.[0].NATTRACE_CT_ID != .[1].NATTRACE_CT_ID) and
	all(.NATTRACE_ORIG_DST == "198.51.100.1:1222")' NATTRACE_NAT_EVENT=new

# --- the catalog, installed as journalctl --update-catalog does it ----------------
catalog=$TESTS_DIR/../contrib/systemd/nattraced.catalog
mkdir -p "$LAB_TMP/root/usr/lib/systemd/catalog"
cp "$catalog" "$LAB_TMP/root/usr/lib/systemd/catalog/"
journalctl --root="$LAB_TMP/root" --update-catalog ||
	lab_fail "journalctl --update-catalog refused nattraced.catalog"
[ -d /var/lib/systemd/catalog ] || lab_fail "no /var/lib/systemd/catalog to mount over"
jd_exec mount --bind "$LAB_TMP/root/var/lib/systemd/catalog" /var/lib/systemd/catalog ||
	lab_fail "cannot mount the catalog in the private namespace"
jd_journalctl -x NATTRACE_NAT_EVENT=destroy >"$J" 2>&1
grep -q "Subject: NAT mapping destroy: dnat" "$J" && grep -q "NATTRACE_CT_ID" "$J" ||
	lab_fail "journalctl -x does not explain the NAT entry: $(cat "$J")"
echo "ok: journalctl -x explains the NAT entry"
echo "PASS"
