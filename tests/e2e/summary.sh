#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --summary: a 50,000-datagram flood over three UDP ports with three fates
# (accepted by a rule, dropped by a rule, dropped by a chain's policy)
# reads as three rows, keyed by the path and not by the addresses, whose
# counts sum to the timelines emitted: in JSON beside the per-packet
# records (and every second), as a text table with --summary-only (no
# timeline printed, the stop account still whole), and as one journal
# entry per row.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
[ -x "$UDPBURST" ] || { echo "no udpburst at $UDPBURST" >&2; exit 1; }
journal=yes
ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd || journal=
[ -n "$journal" ] && LAB_TRAP_EXTRA=jd_down
lab_init summary
lab_tmp || exit 1
PACKETS=${SUMMARY_PACKETS:-50000}
RATE=${SUMMARY_RATE:-10000}
MSGID_SUMMARY=5026b033cc76430e8ce59d45dc02feed
match="ip daddr $LAB_WAN4 udp dport 30001-30003"

# 30001 accepted by a rule, 30002 dropped by a rule, 30003 by the policy
lab_exec_router nft -f - <<'NFT' || lab_fail "cannot load the test ruleset"
table inet sumtest {
	chain in {
		type filter hook input priority -10; policy drop;
		udp dport 30001 accept
		udp dport 30002 drop
		udp dport != 30001-30003 accept
	}
}
NFT
accept_handle=$(lab_exec_router nft -a list chain inet sumtest in |
	sed -n 's/^[[:space:]]*udp dport 30001 accept # handle \([0-9]*\)$/\1/p')
drop_handle=$(lab_exec_router nft -a list chain inet sumtest in |
	sed -n 's/^[[:space:]]*udp dport 30002 drop # handle \([0-9]*\)$/\1/p')
if [ -z "$accept_handle" ] || [ -z "$drop_handle" ]; then
	lab_fail "test ruleset not as expected"
fi

flood() {
	local t0 t1
	t0=$(date +%s.%N)
	lab_exec_client "$UDPBURST" "$LAB_WAN4" 30001 "$PACKETS" "$RATE" 3 >/dev/null ||
		lab_fail "udpburst failed"
	t1=$(date +%s.%N)
	echo "flood: $PACKETS datagrams in $(echo "$t1 - $t0" | bc) s"
}

# wait until the output's count of timelines stops growing (30 s at most)
settle() {
	local last=-1 now
	for _ in $(seq 60); do
		sleep 0.5
		now=$("$@")
		[ "$now" = "$last" ] && [ "$now" -gt 0 ] && return 0
		last=$now
	done
}

# ---- JSON, with the per-packet records, a summary every second ----
lab_daemon_start --match "$match" --rate none --output json --stats-interval 0 \
	--timeout 60 --summary 1
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "no daemon pid"
flood
settle grep -c '^{"type":"trace"' "$LAB_OUT"
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
# 50,000 timelines are 150 MB of JSON: the trace lines are counted with
# grep, per port by their packet's first dport; jq reads the rest
records=$LAB_TMP/records.json
grep -v '^{"type":"trace"' "$LAB_OUT" >"$records"
json_n=$(grep -c '^{"type":"trace"' "$LAB_OUT")
for port in 30001 30002 30003; do
	eval "n_$port=\$(grep -c '^{\"type\":\"trace\",[^{]*\"packet\":{[^}]*\"dport\":$port,' \"\$LAB_OUT\")"
done
# shellcheck disable=SC2154
echo "timelines printed: $json_n; by port: $n_30001 $n_30002 $n_30003"
echo "exit summary (json):"
jq -c 'select(.type == "summary" and .reason == "exit")' "$records"
LAB_OUT=$records
lab_expect_jq "one exit summary, after the interval ones and before the stop account" \
	'([.[] | select(.type == "summary" and .reason == "exit")] | length == 1) and
	 (map(select(.type == "summary" or .type == "stats")) | .[-2].type == "summary" and .[-2].reason == "exit")'
lab_expect_jq "interval summaries, every second" \
	'[.[] | select(.type == "summary" and .reason == "interval")] | length >= 1'
lab_expect_jq "three paths, three rows, nothing in other" \
	'[.[] | select(.type == "summary" and .reason == "exit")][0] |
	 .paths == 3 and (.rows | length) == 3 and .other.count == 0'
lab_expect_jq "the rows' counts sum to the timelines emitted and printed" \
	'([.[] | select(.type == "stats" and .reason == "exit")][0].emitted) as $e |
	 [.[] | select(.type == "summary" and .reason == "exit")][0] |
	 ([.rows[].count] | add) == '"$json_n"' and $e == '"$json_n"' and .timelines == $e'
# shellcheck disable=SC2154
lab_expect_jq "each row's count is its path's timelines" \
	'{"30001": '"$n_30001"', "30002": '"$n_30002"', "30003": '"$n_30003"'} as $by |
	 [.[] | select(.type == "summary" and .reason == "exit")][0].rows |
	 all(.count == $by[.example.dst | split(":")[1]])'
lab_expect_jq "the rows name the verdict and the deciding rule or policy, with handle and hooks" \
	'[.[] | select(.type == "summary" and .reason == "exit")][0].rows |
	 (map(select(.example.dst | endswith(":30001")))[0] | .verdict == "accept" and
	   .hooks == ["prerouting", "input"]) and
	 (map(select(.example.dst | endswith(":30002")))[0] | .verdict == "drop" and
	   .decided_by.table == "sumtest" and .decided_by.chain == "in" and
	   .decided_by.handle == '"$drop_handle"' and .decided_by.hook == "input" and
	   .example.proto == "udp") and
	 (map(select(.example.dst | endswith(":30003")))[0] | .verdict == "drop" and
	   .decided_by.table == "sumtest" and .decided_by.policy == true) and
	 (map(.count) == (map(.count) | sort | reverse))'
echo "measured (json): $json_n timelines, rows $(jq -s -c '[.[] | select(.type == "summary" and .reason == "exit")][0].rows | map(.count)' "$LAB_OUT")"

# ---- text, --summary-only: the table alone ----
lab_daemon_start --match "$match" --rate none --stats-interval 1 --timeout 60 --summary-only
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "no daemon pid"
flood
settle sh -c "grep 'nattraced: stats:' '$LAB_ERR' | tail -1 | sed -n 's/.* \([0-9]*\) timelines emitted.*/\1/p'"
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
stop=$(grep 'nattraced: stopped:' "$LAB_ERR") || lab_fail "no stop line"
emitted=$(echo "$stop" | sed -n 's/.* \([0-9]*\) timelines emitted.*/\1/p')
echo "$stop" | grep -q 'not printed\|not delivered' && lab_fail "summary-only left timelines unaccounted: $stop"
[ "$(grep -c '' "$LAB_OUT")" -le 6 ] || lab_fail "--summary-only printed more than the table"
grep -q "^summary (exit): $emitted timelines, 3 paths$" "$LAB_OUT" ||
	lab_fail "the table's header does not say $emitted timelines over 3 paths"
rows=$(grep -cE '^ +[0-9]+  (accept|drop) ' "$LAB_OUT")
[ "$rows" = 3 ] || lab_fail "$rows rows in the table, not 3"
sum=$(awk '/^ +[0-9]+  (accept|drop) / { s += $1 } END { print s + 0 }' "$LAB_OUT")
[ "$sum" = "$emitted" ] || lab_fail "the rows sum to $sum, $emitted timelines emitted"
grep -qE "^ +[0-9]+  drop by rule inet sumtest in handle $drop_handle at input .* udp [0-9.:]+ -> $LAB_WAN4:30002$" "$LAB_OUT" ||
	lab_fail "no row for the rule drop"
grep -qE "^ +[0-9]+  drop by policy of inet sumtest in at input .* -> $LAB_WAN4:30003$" "$LAB_OUT" ||
	lab_fail "no row for the policy drop"
echo "measured (text, --summary-only): $emitted timelines, rows sum $sum"
cat "$LAB_OUT"

# ---- the journal: an entry per row ----
if [ -n "$journal" ]; then
	jd_up || lab_fail "cannot start a private journald"
	LAB_RUN=$((LAB_RUN + 1)) LAB_OUT=$LAB_TMP/out.j LAB_ERR=$LAB_TMP/err.j
	jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
		--match "$match" --rate none --timeout 60 --stats-interval 0 --summary-only \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null &
	LAB_DAEMON_PID=$!
	lab_daemon_ready
	pid=$(lab_daemon_pid) || lab_fail "no daemon pid"
	PACKETS=3000 flood
	sleep 2
	kill -TERM "$pid"
	lab_daemon_wait
	lab_expect_rc 0
	jd_wait_entries 3 MESSAGE_ID=$MSGID_SUMMARY || lab_fail "no summary entries"
	jd_expect "three summary entries, no timeline entry" \
		'length == 3 and all(.NATTRACE_SUMMARY_REASON == "exit" and
		 .NATTRACE_SUMMARY_PATHS == "3") and
		 (map(.NATTRACE_SUMMARY_COUNT | tonumber) | add) == (.[0].NATTRACE_SUMMARY_TIMELINES | tonumber) and
		 (map(.NATTRACE_SUMMARY_RANK) | sort) == ["1","2","3"] and
		 any(.NATTRACE_VERDICT == "drop" and .NATTRACE_CAUSE_TABLE == "sumtest" and
		     .NATTRACE_CAUSE_HANDLE == "'"$drop_handle"'" and .NATTRACE_DST == "'"$LAB_WAN4"':30002") and
		 any(.NATTRACE_CAUSE_HANDLE == "policy") and
		 all(.NATTRACE_JSON | fromjson | .count > 0)' \
		MESSAGE_ID=$MSGID_SUMMARY
	jd_expect "no per-packet entry with --summary-only" 'length == 0' \
		MESSAGE_ID=5ec034376eec4a589f7f395bb4e2c33d
	jd_journalctl -o cat MESSAGE_ID=$MSGID_SUMMARY
else
	echo "journal part skipped: nattraced built without libsystemd"
fi
echo "PASS"
