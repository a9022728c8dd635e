#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/ruleset_scale.sh [SIZES...]: nattraced on the lab's router with one
# big extra table (issue 21): a forward chain at priority -10 jumps to a
# chain of N rules `ip daddr 10.x.y.z tcp dport P counter accept comment
# "svc-i"`; rule N-5 matches the lab's forwarded SYN (a counter, no
# verdict), so the packet meets a rule past the 65,536th and the chain's
# end. Default sizes: 10000 30000 100000 300000.
#
# Prints per size, side by side in one run: the `nft -f` load time, the
# time of `nft list ruleset` and of `nft -a list chain` of the big chain,
# nattraced's ready time (start to "tracing"), the time from the SYN to
# its timeline and how much of it nattraced's own listings took (its exit
# line), its RSS after the timeline (and its peak), and whether every
# rule text of that timeline is present and equal to `nft monitor trace`'s
# (tests/lib/trace_compare.sh).
#
# Needs root and a build (bash contrib/setup-debian.sh). Everything runs in
# the lab's own network namespaces (tests/lib/lab.sh). Run it alone: the
# times are wall-clock times.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
SIZES=${*:-10000 30000 100000 300000}
bench_init scale jq awk nft
# the listeners this script starts go with the lab
# shellcheck disable=SC2016
lab_trap 'for p in ${BENCH_PIDS:-}; do kill "$p" 2>/dev/null; done'
export BENCH_PIDS=

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
kib() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

# ruleset N: the big table, as one file for one `nft -f`.
ruleset()
{
	awk -v n="$1" -v hit="$(($1 - 5))" 'BEGIN {
		print "table ip big {"
		print "\tchain bigfwd {"
		print "\t\ttype filter hook forward priority -10; policy accept;"
		print "\t\tjump services"
		print "\t}"
		print "\tchain services {"
		for (i = 0; i < n; i++) {
			if (i == hit) {
				print "\t\tip daddr 203.0.113.10 tcp dport 22 counter comment \"svc-hit\""
				continue
			}
			printf "\t\tip daddr 10.%d.%d.%d tcp dport %d counter accept comment \"svc-%d\"\n",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000, i
		}
		print "\t}"
		print "}"
	}'
}

printf '%-8s %8s %9s %10s %8s %10s %8s %9s %9s %s\n' rules 'nft -f' 'list rs' 'list chain' ready \
	'timeline' 'listing' 'rss' 'peak' 'texts'
for n in $SIZES; do
	file=$LAB_TMP/big-$n.nft
	out=$LAB_TMP/nattraced-$n.json err=$LAB_TMP/nattraced-$n.err mon=$LAB_TMP/monitor-$n.txt
	ruleset "$n" >"$file"
	lab_exec_router nft delete table ip big 2>/dev/null
	t=$(now)
	lab_exec_router nft -f "$file" || { echo "bench: nft -f failed at $n rules" >&2; exit 1; }
	load=$(since "$t")
	t=$(now)
	lab_exec_router nft list ruleset >/dev/null
	list_rs=$(since "$t")
	t=$(now)
	lab_exec_router nft -a list chain ip big services >/dev/null
	list_chain=$(since "$t")

	# nft monitor trace lists the whole ruleset before it listens: wait
	# until it stops using CPU.
	ip netns exec "$LAB_ROUTER" nft monitor trace >"$mon" 2>&1 &
	mon_pid=$!
	BENCH_PIDS=$mon_pid
	prev=-1
	for _ in $(seq 600); do
		sleep 0.5
		cur=$(cpu_ticks "$mon_pid")
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done

	t=$(now)
	ip netns exec "$LAB_ROUTER" "$NATTRACED" --match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" \
		--rate none --output json --stats-interval 0 >"$out" 2>"$err" </dev/null &
	nat_pid=$!
	BENCH_PIDS="$mon_pid $nat_pid"
	ready=-
	for _ in $(seq 6000); do
		grep -q 'tracing' "$err" && { ready=$(since "$t"); break; }
		kill -0 "$nat_pid" 2>/dev/null || break
		sleep 0.01
	done
	[ "$ready" = - ] && { echo "bench: nattraced did not start at $n rules:" >&2; cat "$err" >&2; exit 1; }

	t=$(now)
	lab_syn "$LAB_WAN4" "$LAB_PORT" &
	syn_pid=$!
	first=-
	for _ in $(seq 12000); do
		if [ -s "$out" ] && grep -q '"type":"trace"\|"type": "trace"' "$out"; then
			first=$(since "$t")
			break
		fi
		sleep 0.01
	done
	rss=- peak=-
	if kill -0 "$nat_pid" 2>/dev/null; then
		rss=$(mib "$(kib "$nat_pid" VmRSS)")
		peak=$(mib "$(kib "$nat_pid" VmHWM)")
	fi
	wait "$syn_pid"
	kill -INT "$nat_pid" 2>/dev/null
	wait "$nat_pid" 2>/dev/null
	sleep 0.5 # the monitor prints the packet's last events
	kill "$mon_pid" 2>/dev/null
	wait "$mon_pid" 2>/dev/null

	tl=$LAB_TMP/timeline-$n.json
	jq -c 'select(.type == "trace")' "$out" | head -1 >"$tl"
	unnamed=$(jq '[.events[] | select(.handle != null and .rule == null)] | length' "$tl")
	if bash "$here/tests/lib/trace_compare.sh" "$tl" "$mon" >/dev/null 2>"$LAB_TMP/cmp-$n.txt"; then
		texts="$unnamed missing, equal to nft monitor trace"
	else
		texts="$unnamed missing, DIFFERENT from nft monitor trace ($LAB_TMP/cmp-$n.txt)"
		KEEP_TMP=1
	fi
	# nattraced's own listing time, from its exit line (said from 1 s on)
	own=$(sed -n 's/.*rule cache: [0-9]* chain listings took \([0-9.]*\) s.*/\1s/p' "$err")
	printf '%-8s %7ss %8ss %9ss %7ss %9ss %8s %5s MiB %5s MiB %s\n' "$n" "$load" "$list_rs" \
		"$list_chain" "$ready" "$first" "${own:--}" "$rss" "$peak" "$texts"
	lab_exec_router nft delete table ip big
	rm -f "$file"
done
echo "load: $(uptime | sed 's/.*load average/load average/'), $(nproc) cores"
if [ -n "${KEEP_TMP:-}" ]; then
	cp -r "$LAB_TMP" "${TMPDIR:-/tmp}/ruleset_scale.kept" && echo "bench: kept ${TMPDIR:-/tmp}/ruleset_scale.kept" >&2
fi
