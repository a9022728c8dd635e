#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The replay's two goals (issue 22), on the lab's router:
#   one --replay of a recorded SYN, clone included   at most 300 ms
#   --check with 100 expectations, clone included     at most 5 s
# Each is run RUNS times (default 5); the median and the worst are printed,
# beside `nft -f` of the same ruleset into a fresh namespace (what loading
# the ruleset alone costs) for scale.
set -u
. "$(dirname "$0")/lib.sh"
bench_init bench_replay jq
RUNS=${RUNS:-5}
R() { lab_exec_router "$@"; }

ms() { echo $((($2 - $1) / 1000000)); }
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "median %d ms, worst %d ms (%d runs)", a[int((NR + 1) / 2)], a[NR], NR }'; }

# A recorded drop to replay.
R timeout 20 "$NATTRACED" -m "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" -c 1 -o json \
	>"$LAB_TMP/live.json" 2>/dev/null &
pid=$!
lab_wait_table trace_debug 10 || { echo "bench: the daemon did not start" >&2; exit 1; }
lab_syn "$LAB_WAN4" "$LAB_PORT"
wait "$pid"
grep -q '"type":"trace"' "$LAB_TMP/live.json" || { echo "bench: nothing recorded" >&2; exit 1; }

for i in $(seq 100); do
	echo "tcp 198.51.100.2:$((42000 + i)) -> 198.51.100.1:1222 iif wan0 syn: drop"
done >"$LAB_TMP/100.check"
R nft list ruleset >"$LAB_TMP/ruleset.nft"

: >"$LAB_TMP/one" ; : >"$LAB_TMP/hundred"; : >"$LAB_TMP/nft"
for _ in $(seq "$RUNS"); do
	t0=$(date +%s%N)
	R "$NATTRACED" --replay "$LAB_TMP/live.json" \
		--change "add element inet filter allow_in { 203.0.113.10 . 22 }" >/dev/null 2>&1 ||
		{ echo "bench: --replay failed" >&2; exit 1; }
	t1=$(date +%s%N)
	R "$NATTRACED" --check "$LAB_TMP/100.check" >/dev/null 2>&1 ||
		{ echo "bench: --check failed" >&2; exit 1; }
	t2=$(date +%s%N)
	unshare -n nft -f "$LAB_TMP/ruleset.nft"
	t3=$(date +%s%N)
	ms "$t0" "$t1" >>"$LAB_TMP/one"
	ms "$t1" "$t2" >>"$LAB_TMP/hundred"
	ms "$t2" "$t3" >>"$LAB_TMP/nft"
done
echo "one --replay with a --change, clone included: $(stats <"$LAB_TMP/one") (goal: 300 ms)"
echo "--check, 100 expectations, clone included:    $(stats <"$LAB_TMP/hundred") (goal: 5000 ms)"
echo "for scale, nft -f of the ruleset in a new netns: $(stats <"$LAB_TMP/nft")"
