#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# firewalld 1.3.3's own nftables rendering (tests/rulesets/firewalld/) in
# the router: wan0 in zone public, lan0 in zone trusted, a forward-port
# 1222 -> 203.0.113.10:22 and a rich rule rejecting 8443 with a reset.
# Four SYNs from the client, one at a time, each traced by nattraced and by
# `nft monitor trace` at once:
#   fwd     198.51.100.1:1222  DNATed to the server, accepted by
#                              `ct status dnat accept`: the connection works
#   ssh     198.51.100.1:22    the ssh service of zone public: accepted,
#                              the router's listener answers
#   closed  198.51.100.1:23    zone public's catch-all reject
#   rich    198.51.100.1:8443  the rich rule's reject with tcp reset
# One SYN walks 80-100 rules here (every zone has _pre/_log/_deny/_allow/
# _post chains), which is what the per-packet bounds must hold.
set -u
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
NATTRACED=${NATTRACED:-$TESTS_DIR/../build/nattraced}
# shellcheck source=../lib/lab.sh
. "$TESTS_DIR/lib/lab.sh"
# shellcheck source=../lib/ruleset.sh
. "$TESTS_DIR/lib/ruleset.sh"
# shellcheck source=../lib/journald.sh
. "$TESTS_DIR/lib/journald.sh"
lab_skip_unless_possible
lab_trap jd_down
rs_up firewalld || exit 1

# The router's own ssh, for the service accept.
lab_exec_router socat TCP4-LISTEN:22,reuseaddr,fork \
	SYSTEM:"echo $LAB_BANNER; sleep 1" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	[ "$(lab_exec_router ss -Hltn 'sport = :22' | wc -l)" -ge 1 ] && break
	sleep 0.1
done

rs_daemon_start --match "ip saddr $LAB_CLIENT4 tcp flags & (syn | ack) == syn" \
	--count 4 --output json --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"

rs_expect_connect fwd "$LAB_CLIENT" "$LAB_WAN4" 1222 40001
rs_expect_connect ssh "$LAB_CLIENT" "$LAB_WAN4" 22 40002
rs_expect_no_connect closed "$LAB_CLIENT" "$LAB_WAN4" 23 40003
rs_expect_no_connect rich "$LAB_CLIENT" "$LAB_WAN4" 8443 40004

rs_collect fwd ssh closed rich

dnat_rule='meta nfproto ipv4 tcp dport 1222 dnat ip to 203.0.113.10:22'
dnat_handle=$(rs_handle inet firewalld nat_PRE_public_allow "$dnat_rule")
rs_expect_delivered fwd
rs_expect fwd "dnat 198.51.100.1:1222 -> 203.0.113.10:22 by firewalld's forward-port rule" "
	.nat | length == 1 and (.[0] | .type == \"dnat\" and .kind == \"dnat\" and
		.from == \"198.51.100.1:1222\" and .to == \"203.0.113.10:22\" and
		.hook == \"prerouting\" and .rule == \"$dnat_rule\" and
		.handle == ${dnat_handle:-null})"
rs_expect fwd "accepted at forward by \`ct status dnat accept\` in filter_FORWARD" '
	.accepts | any(.hook == "forward" and .chain == "filter_FORWARD" and
		.rule == "ct status dnat accept" and .verdict == "accept")'
rs_expect fwd "the DNAT is the zone's forward-port" '
	.nat[0].owner == {"manager": "firewalld", "zone": "public",
		"forward_port": "1222/tcp -> 203.0.113.10:22"}'
rs_expect fwd "every event in firewalld's table names firewalld, none in ours" '
	(.events | map(select(.table == "firewalld")) | length > 0 and
		all(.owner.manager == "firewalld")) and
	(.events | map(select(.table != "firewalld")) | all(has("owner") | not))'
rs_expect fwd "passes prerouting, forward and postrouting" '
	[.events[].hook] | index("prerouting") != null and
	index("forward") != null and index("postrouting") != null'

rs_expect_delivered ssh
rs_expect ssh "accepted at input by \`tcp dport 22 accept\` in filter_IN_public_allow" '
	.accepts | any(.hook == "input" and .chain == "filter_IN_public_allow" and
		.rule == "tcp dport 22 accept")'
rs_expect ssh "no NAT" '.nat == []'
rs_expect ssh "reached through filter_INPUT_ZONES goto filter_IN_public" '
	.events | any(.chain == "filter_INPUT_ZONES" and .verdict == "goto" and
		.target == "filter_IN_public")'

rs_expect_cause closed drop reject inet firewalld filter_IN_public \
	'reject with icmpx admin-prohibited'
rs_expect closed "cause path from filter_INPUT through the zone" '
	.cause.path[0] == "filter_INPUT" and .cause.path[-1] == "filter_IN_public"'
rs_expect closed "no NAT" '.nat == []'
rs_expect_cause_owner closed '{"manager":"firewalld","zone":"public"}' 'firewalld zone public'

rs_expect_cause rich drop reject inet firewalld filter_IN_public_deny \
	'ip saddr 198.51.100.2 tcp dport 8443 reject with tcp reset'
rs_expect rich "cause path ends in the zone's deny chain" '
	.cause.path[-1] == "filter_IN_public_deny" and
	(.cause.path | index("filter_IN_public")) != null'
rs_expect_cause_owner rich '{"manager":"firewalld","zone":"public"}' 'firewalld zone public'

# Text for people: the rejected SYN in no more lines than nft monitor trace
# prints for it (leaving out both tools' lines of nattraced's own table),
# and every rule and policy nft names is in it.
rs_daemon_start --match "ip saddr $LAB_CLIENT4 tcp dport 23 tcp flags & (syn | ack) == syn" \
	--count 1 --output text --timeout 20
lab_daemon_ready
rs_monitor_start || lab_fail "nft monitor trace did not start"
rs_expect_no_connect text "$LAB_CLIENT" "$LAB_WAN4" 23 40005
lab_daemon_wait
rs_monitor_stop
ids=$(sed -n '1s/^trace \([0-9a-f+]*\) .*/\1/p' "$LAB_OUT" | tr '+' ' ')
[ -n "$ids" ] || rs_fail_soft "text: no timeline printed"
ours=$(grep -c . "$LAB_OUT")
sed -n "${RS_FIRST[text]},${RS_LAST[text]}p" "$RS_MON" |
	awk -v ids="$ids" 'BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		$1 == "trace" && $2 == "id" && ($3 in want) && $5 != "trace_debug"' |
	sed 's/counter packets [0-9]* bytes [0-9]*/counter/g' >"$LAB_TMP/monitor.text"
theirs=$(grep -c . "$LAB_TMP/monitor.text")
if [ "$theirs" -gt 0 ] && [ "$ours" -le "$theirs" ]; then
	echo "ok: text: $ours lines, nft monitor trace $theirs"
else
	rs_fail_soft "text: $ours lines, more than nft monitor trace's $theirs"
fi
# The zone after the chain, where the text names a chain.
# shellcheck disable=SC2016 # backquotes of the text output, not a command
if grep -q '^  verdict reject by rule `reject with icmpx admin-prohibited` (handle [0-9]*) in inet firewalld filter_IN_public (firewalld zone public), reached from' "$LAB_OUT"; then
	echo "ok: text: the verdict line names the zone after the chain"
else
	rs_fail_soft "text: no '... filter_IN_public (firewalld zone public), reached from' verdict line"
fi
if grep -q 'goto filter_IN_public (firewalld zone public)$' "$LAB_OUT" &&
	grep -Eq '^  input inet firewalld filter_INPUT \(firewalld\)( |$)' "$LAB_OUT"; then
	echo "ok: text: the goto into the zone and the base chain say who wrote them"
else
	rs_fail_soft "text: no 'goto filter_IN_public (firewalld zone public)' or 'filter_INPUT (firewalld)' line"
	lab_show_file "$LAB_OUT" >&2
fi
# Issue 23: at a glance. The jumps into the zone's and policies' chains
# where nothing matched fold into lines naming the chains (a{b,c} is ab,
# ac); the first line's word is the verdict line's (reject, not drop).
if [ "$ours" -le 15 ]; then
	echo "ok: text: $ours lines, at most 15"
else
	rs_fail_soft "text: $ours lines, more than 15"
fi
first=$(sed -n '1s/.*: \([a-z]*\)[^:]*$/\1/p' "$LAB_OUT")
last=$(sed -n 's/^  verdict \([a-z]*\) .*/\1/p' "$LAB_OUT")
if [ "$first" = reject ] && [ "$last" = reject ]; then
	echo "ok: text: the first line and the verdict line both say reject"
else
	rs_fail_soft "text: the first line says '$first', the verdict line '$last'"
fi
grep -o '[A-Za-z0-9_.-]*{[^}]*}' "$LAB_OUT" | while IFS= read -r group; do
	stem=${group%%\{*} alts=${group#*\{}
	IFS=, read -ra alt <<<"${alts%\}}"
	for a in "${alt[@]}"; do echo "$stem$a"; done
done >"$LAB_TMP/names"
tr -c 'A-Za-z0-9_.-' '\n' <"$LAB_OUT" >>"$LAB_TMP/names"
# a rule that decided, matched without a verdict, marked or rewrote: by
# its text; a jump or goto: its rule, or the chain it entered
missing=0
while IFS=$'\t' read -r rule verdict; do
	grep -qF -- "\`$rule\`" "$LAB_OUT" && continue
	case $verdict in
	"jump "* | "goto "*) grep -qxF -- "${verdict#* }" "$LAB_TMP/names" && continue ;;
	esac
	missing=$((missing + 1))
	rs_log "text lacks rule: $rule ($verdict)"
done < <(sed -n 's/^trace id [0-9a-f]* [a-z0-9]* [^ ]* [^ ]* rule \(.*\) (verdict \([^)]*\))$/\1\t\2/p' "$LAB_TMP/monitor.text")
policies=$(grep -c ' policy ' "$LAB_TMP/monitor.text")
[ "$(grep -c 'policy: ' "$LAB_OUT")" = "$policies" ] || missing=$((missing + 1))
if [ "$missing" = 0 ]; then
	echo "ok: text: every rule and policy nft monitor trace names is there"
else
	rs_fail_soft "text: $missing rules or policies of nft monitor trace are missing"
fi

# The journal: the cause's owner in NATTRACE_CAUSE_OWNER, through a
# private journald (tests/lib/journald.sh).
if ! ldd "$NATTRACED" 2>/dev/null | grep -q libsystemd; then
	echo "note: nattraced built without journal support: NATTRACE_CAUSE_OWNER not checked"
elif ! jd_up; then
	rs_fail_soft "journal: cannot start a private journald"
else
	jd_exec ip netns exec "$LAB_ROUTER" timeout -s KILL 45 "$NATTRACED" --output journal \
		--match "ip saddr $LAB_CLIENT4 tcp dport 23 tcp flags & (syn | ack) == syn" \
		--count 1 --timeout 20 >"$LAB_TMP/journal.out" 2>"$LAB_TMP/journal.err" </dev/null &
	LAB_DAEMON_PID=$!
	lab_daemon_ready
	rs_syn "$LAB_CLIENT" "$LAB_WAN4" 23 40006
	lab_daemon_wait
	if jd_wait_entries 1 MESSAGE_ID=5ec034376eec4a589f7f395bb4e2c33d \
		"NATTRACE_CAUSE_OWNER=firewalld zone public" NATTRACE_CAUSE_CHAIN=filter_IN_public; then
		echo "ok: journal: NATTRACE_CAUSE_OWNER=firewalld zone public"
		# the MESSAGE's summary says reject as its verdict line does,
		# and the zone's empty chains are folded there too
		jd_expect "journal: the MESSAGE says reject on both lines, folded" '
			.[0].MESSAGE | split("\n") as $l |
			($l[0] | test(": reject by rule `reject with icmpx admin-prohibited`")) and
			($l | any(test("^  verdict reject by"))) and
			($l | any(test("^ *jumps (to|through) .*filter_IN_public_[{]"))) and
			($l | length) <= 15' MESSAGE_ID=5ec034376eec4a589f7f395bb4e2c33d
	else
		rs_fail_soft "journal: no entry with NATTRACE_CAUSE_OWNER=firewalld zone public"
		jd_journalctl -o verbose >&2
		lab_show_file "$LAB_TMP/journal.err" >&2
	fi
fi

rs_done
