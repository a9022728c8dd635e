#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The NAT log and table against the real kernel:
# 1. --nat-log with a port-forward match: the DNATed connection appears
#    with "+", its trace timeline names the mapping by the same ct id, and
#    `conntrack -D` on the router gives "-"; a masqueraded connection that
#    the match does not select stays out.
# 2. --nat-log=all without --match (text): the server's outbound
#    connection, masqueraded through wan0, appears with its alias address;
#    no trace table is installed.
# 3. --nat-table lists both mappings while they live and nothing
#    unrelated; with --match only the port forward; no table is left.
# 4. A reload (SIGHUP) that moves the match from port 1222 to 1223 moves
#    the NAT log with it (it kept logging 1222, issue 19), and names the
#    settings the file changed that a reload keeps.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init natlog conntrack
lab_fix || lab_fail "lab_fix failed"

OUTSIDE_PORT=8080

# The server may open connections to the outside, masqueraded on wan0.
lab_exec_router nft add rule inet nat postrouting oifname '"wan0"' masquerade ||
	lab_fail "cannot add the masquerade rule"
lab_exec_router nft add rule inet filter forward iifname '"lan0"' oifname '"wan0"' accept ||
	lab_fail "cannot allow lan0 -> wan0"
lab_exec_client socat TCP4-LISTEN:$OUTSIDE_PORT,reuseaddr,fork SYSTEM:"echo hello" \
	</dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	lab_exec_client ss -Hltn "sport = :$OUTSIDE_PORT" | grep -q . && break
	sleep 0.1
done

# One connection from the server to the client, through the masquerade.
outbound()
{
	local out

	out=$(timeout 5 ip netns exec "$LAB_SERVER" socat -T 3 - \
		"TCP4:$LAB_CLIENT4:$OUTSIDE_PORT,connect-timeout=3" </dev/null 2>/dev/null)
	[ "$out" = hello ] || lab_fail "the server could not reach $LAB_CLIENT4:$OUTSIDE_PORT (got '$out')"
}

# wait_json DESCRIPTION FILTER [SECONDS]: until jq -s FILTER on the output is true.
wait_json()
{
	local what=$1 filter=$2 secs=${3:-15}

	for _ in $(seq $((secs * 10))); do
		jq -e -s "$filter" "$LAB_OUT" >/dev/null 2>&1 && { echo "ok: $what"; return 0; }
		sleep 0.1
	done
	lab_fail "$what: not seen within $secs s
  expected true from: $filter"
}

# wait_err TEXT: until the daemon says TEXT on stderr.
wait_err()
{
	for _ in $(seq 150); do
		grep -qF -- "$1" "$LAB_ERR" 2>/dev/null && return 0
		sleep 0.1
	done
	lab_fail "the daemon never said '$1'"
}

# SIGTERM to the nattraced process under the `timeout` backstop.
daemon_stop()
{
	local pid

	for _ in $(seq 40); do
		pid=$(pgrep -P "$LAB_DAEMON_PID" 2>/dev/null | head -1)
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || lab_fail "cannot find the nattraced process"
	kill -TERM "$pid"
	lab_daemon_wait
}

# --- 1. the port forward, logged and linked to its trace --------------------
lab_daemon_start --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" \
	--nat-log --output json --timeout 40
lab_daemon_ready
wait_err "logging the --match NAT mappings"
grep -q "ignored: tcp flags" "$LAB_ERR" ||
	lab_fail "no warning that 'tcp flags' does not apply to conntrack entries"
echo "ok: 'tcp flags' is named as ignored for the NAT log"

banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT") ||
	lab_fail "client could not connect through the port forward (got '$banner')"
outbound
wait_json "+ for the port forward: 198.51.100.1:1222 is really 203.0.113.10:22" '
	any(.[]; .type == "nat" and .event == "new" and .nat == "dnat" and .proto == "tcp" and
	    (.orig_src | startswith("198.51.100.2:")) and .orig_dst == "198.51.100.1:1222" and
	    .reply_src == "203.0.113.10:22" and (.ct_id | type) == "number")'
wait_json "the SYN timeline names the mapping, by the same ct id as its ct object" '
	(map(select(.type == "nat" and .event == "new")) | .[0].ct_id) as $id |
	any(.[]; has("verdict") and .ct.id == $id and .mapping.ct_id == $id and
	    .mapping.reply_src == "203.0.113.10:22")'
id=$(jq -s 'map(select(.type == "nat" and .event == "new")) | .[0].ct_id' "$LAB_OUT")
lab_exec_router conntrack -D -p tcp --orig-dst "$LAB_WAN4" --dport "$LAB_PORT" >/dev/null 2>&1 ||
	lab_fail "conntrack -D found no port-forward entry on the router"
wait_json "- for the port forward once deleted (ct id $id)" "
	any(.[]; .type == \"nat\" and .event == \"destroy\" and .ct_id == $id and
	    .orig_dst == \"198.51.100.1:1222\")"
daemon_stop
lab_expect_rc 0
lab_expect_jq "the masqueraded connection is not what the match selects: not logged" '
	all(.[]; .type != "nat" or .orig_dst == "198.51.100.1:1222")'
grep -q "nat log: .* receive overruns" "$LAB_ERR" || lab_fail "no NAT log counters at exit"
echo "ok: NAT log counters at exit"
lab_wait_no_table || lab_fail "table trace_debug still exists after exit"

# --- 2. every mapping, no trace: the masquerade and its alias ----------------
lab_daemon_start --nat-log=all --timeout 40
wait_err "logging every NAT mapping"
lab_has_table trace_debug && lab_fail "--nat-log=all without --match installed a trace table"
outbound
line_re='^nat \+ tcp 203\.0\.113\.10:[0-9]+ -> 198\.51\.100\.2:8080 snat 198\.51\.100\.1:[0-9]+ id [0-9]+ SYN_SENT$'
for _ in $(seq 150); do
	grep -qE "$line_re" "$LAB_OUT" && break
	sleep 0.1
done
grep -qE "$line_re" "$LAB_OUT" || lab_fail "no '+' line for the masqueraded connection with alias 198.51.100.1"
echo "ok: + tcp 203.0.113.10 -> 198.51.100.2:8080 snat 198.51.100.1 (the alias)"
daemon_stop
lab_expect_rc 0

# --- 3. the table --------------------------------------------------------------
banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT") ||
	lab_fail "client could not connect through the port forward (got '$banner')"
# unrelated and not NATed: a datagram to the router itself
echo x | lab_exec_client socat -u - "UDP4:$LAB_WAN4:9" >/dev/null 2>&1
lab_exec_router conntrack -L -p udp 2>/dev/null | grep -q "dport=9 " ||
	lab_fail "the unrelated UDP flow is not in the conntrack table"

lab_run --nat-table --output json
lab_expect_rc 0
lab_expect_jq "the table holds the port forward" '
	any(.[]; .nat == "dnat" and .orig_dst == "198.51.100.1:1222" and .reply_src == "203.0.113.10:22")'
lab_expect_jq "the table holds the masquerade with its alias" '
	any(.[]; .nat == "snat" and .orig_dst == "198.51.100.2:8080" and
	    (.reply_dst | startswith("198.51.100.1:")))'
lab_expect_jq "nothing unrelated: only these two kinds of mapping, no events" '
	all(.[]; .type == "nat" and (has("event") | not) and .nat != "none" and
	    (.orig_dst == "198.51.100.1:1222" or .orig_dst == "198.51.100.2:8080"))'

lab_run --nat-table
lab_expect_rc 0
head -1 "$LAB_OUT" | grep -qE '^TYPE +PROTO +LOCAL +PUBLIC +ALIAS +STATE +ID$' ||
	lab_fail "no table header"
grep -qE '^dnat +tcp +203\.0\.113\.10:22 +198\.51\.100\.2:[0-9]+ +198\.51\.100\.1:1222 +[A-Z_]+ +[0-9]+$' "$LAB_OUT" ||
	lab_fail "no row: dnat local 203.0.113.10:22 public 198.51.100.2 alias 198.51.100.1:1222"
grep -qE '^snat +tcp +203\.0\.113\.10:[0-9]+ +198\.51\.100\.2:8080 +198\.51\.100\.1:[0-9]+ ' "$LAB_OUT" ||
	lab_fail "no row: snat local 203.0.113.10 public 198.51.100.2:8080 alias 198.51.100.1"
grep -q ':9 ' "$LAB_OUT" && lab_fail "the unrelated UDP flow is in the table"
echo "ok: the text table: header, the port forward, the masquerade, nothing else"

lab_run --nat-table --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT" --output json
lab_expect_rc 0
lab_expect_jq "with --match: only the port forward" '
	length >= 1 and all(.[]; .nat == "dnat" and .orig_dst == "198.51.100.1:1222")'
lab_has_table trace_debug && lab_fail "--nat-table left a table behind"
echo "ok: --nat-table installs no trace table"

lab_run --nat-table --match "ip daddr $LAB_WAN4; flush ruleset"
lab_expect_rc 2
grep -q "match refused" "$LAB_ERR" || lab_fail "a hostile match is not refused by name"
lab_exec_router nft list table inet nat >/dev/null || lab_fail "the router's ruleset was changed"
echo "ok: a refused match exits 2 and changes nothing"

# --- 4. a reload moves the NAT log's filter with the match -------------------
lab_exec_router nft add rule inet nat prerouting iifname '"wan0"' tcp dport 1223 \
	dnat ip to "$LAB_SERVER4:$LAB_SSH_PORT" || lab_fail "cannot add the port forward 1223"
conf=$LAB_TMP/nattraced.conf
printf 'match = ip daddr %s tcp dport 1222\nrate = 100/second\n' "$LAB_WAN4" >"$conf"
lab_daemon_start --config "$conf" --nat-log --output json --timeout 40
lab_daemon_ready
wait_err "logging the --match NAT mappings"
lab_connect "$LAB_WAN4" 1222 >/dev/null || lab_fail "no connection through port 1222"
wait_json "before the reload: the 1222 mapping is logged" '
	any(.[]; .type == "nat" and .event == "new" and .orig_dst == "198.51.100.1:1222")'

printf 'match = ip daddr %s tcp dport 1223\nrate = 100/second\nmax-events = 64\n' \
	"$LAB_WAN4" >"$conf"
kill -HUP "$(lab_daemon_pid)" || lab_fail "no nattraced process to signal"
wait_err "reloaded: tracing 'ip daddr 198.51.100.1 tcp dport 1223'"
grep -q "reload: max-events keep their values from the start (a restart applies them); a reload applies only match, rate and hooks" "$LAB_ERR" ||
	lab_fail "the reload does not say that it keeps max-events"
grep -q "reloaded: .*, NAT log of this match; kept from the start: max-events$" "$LAB_ERR" ||
	lab_fail "the reload notice does not name the NAT log and what it kept"
echo "ok: the reload names what it kept (max-events) and that the NAT log follows"
before=$(wc -l <"$LAB_OUT")
lab_connect "$LAB_WAN4" 1222 >/dev/null || lab_fail "no connection through port 1222"
lab_connect "$LAB_WAN4" 1223 >/dev/null || lab_fail "no connection through port 1223"
for _ in $(seq 150); do
	tail -n +$((before + 1)) "$LAB_OUT" | jq -e -s 'any(.[]; .type == "nat" and
		.event == "new" and .orig_dst == "198.51.100.1:1223")' >/dev/null 2>&1 && break
	sleep 0.1
done
tail -n +$((before + 1)) "$LAB_OUT" | jq -e -s '
	any(.[]; .type == "nat" and .event == "new" and .orig_dst == "198.51.100.1:1223" and
	    .reply_src == "203.0.113.10:22")' >/dev/null ||
	lab_fail "after the reload, the 1223 mapping is not logged"
echo "ok: after the reload, the 1223 mapping is logged"
tail -n +$((before + 1)) "$LAB_OUT" | jq -e -s '
	all(.[]; .type != "nat" or .event != "new" or .orig_dst != "198.51.100.1:1222")' \
	>/dev/null || lab_fail "after the reload, a new 1222 mapping is still logged"
echo "ok: after the reload, a new 1222 connection is not logged"
tail -n +$((before + 1)) "$LAB_OUT" | jq -e -s 'any(.[]; has("verdict") and .packet.dport == 1223)' \
	>/dev/null || lab_fail "after the reload, no trace of port 1223"
echo "ok: the traces follow 1223 too"
daemon_stop
lab_expect_rc 0
echo "PASS"
