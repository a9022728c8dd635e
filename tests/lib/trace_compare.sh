#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# trace_compare.sh: does one nattraced timeline name the same rules, in the
# same order, as `nft monitor trace` printed for the same packet?
#
#   trace_compare.sh [--table OWN] TIMELINE MONITOR [FIRST [LAST]]
#
# TIMELINE  a file holding one timeline object (nattraced --output json).
# MONITOR   the output of `nft monitor trace`, run in the same network
#           namespace while the packet passed.
# FIRST, LAST  only monitor lines FIRST..LAST (1-based, inclusive) count:
#           trace ids are a hash and repeat across packets, so the caller
#           sends packets one at a time and passes the lines written while
#           this packet passed.
# --table OWN  nattraced's own trace table (default trace_debug): its
#           events are left out on both sides.
#
# The trace ids are the timeline's `id` and, when the kernel's trace id
# changed mid-path (a bridged packet), all of `ids`. Monitor lines of those
# ids are taken in the order nft printed them.
#
# Compared, one item per event:
#   monitor `... FAMILY TABLE CHAIN rule TEXT (verdict V)`  -> FAMILY TABLE CHAIN rule TEXT
#   monitor `... FAMILY TABLE CHAIN policy V`               -> FAMILY TABLE CHAIN policy V
#   nattraced events of type rule with a handle            -> FAMILY TABLE CHAIN rule .rule
#   nattraced events of type policy                        -> FAMILY TABLE CHAIN policy .verdict
# nft 1.0.6 prints nothing for the implicit end of a regular chain (an
# event without a rule handle, nattraced's type "return"), so those are
# left out of nattraced's side. Counters are state, not rule text:
# `counter packets N bytes M` becomes `counter` on both sides. A rule
# nattraced could not name (`rule` null) compares as `<no text, handle N>`
# and so never equals what nft printed.
#
# Exit status 0 when the two sequences are equal and not empty, 1 when they
# differ (both are printed, with the first difference), 2 on usage errors.
# Needs bash, jq and awk only.
set -u

own=trace_debug
if [ "${1:-}" = --table ]; then
	own=${2:?--table needs a name}
	shift 2
fi
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
	echo "usage: trace_compare.sh [--table OWN] TIMELINE MONITOR [FIRST [LAST]]" >&2
	exit 2
fi
timeline=$1 monitor=$2 first=${3:-1} last=${4:-0}
[ -r "$timeline" ] || { echo "trace_compare: cannot read $timeline" >&2; exit 2; }
[ -r "$monitor" ] || { echo "trace_compare: cannot read $monitor" >&2; exit 2; }

ids=$(jq -r '(.ids // [.id]) | map(select(. != null)) | join(" ")' "$timeline") || exit 2
if [ -z "$ids" ]; then
	echo "trace_compare: the timeline has no trace id" >&2
	exit 2
fi

ours=$(jq -r --arg own "$own" '
	.events[] | select(.table != $own) |
	if .type == "policy" then "\(.family) \(.table) \(.chain) policy \(.verdict)"
	elif .handle == null and .rule == null then empty
	elif .rule == null then "\(.family) \(.table) \(.chain) rule <no text, handle \(.handle)>"
	else "\(.family) \(.table) \(.chain) rule \(.rule)"
	end' "$timeline" |
	awk '{ gsub(/counter packets [0-9]+ bytes [0-9]+/, "counter"); print }') || exit 2

# Line shape (nft 1.0.6, src/netlink.c trace_print_*):
#   trace id ID FAMILY TABLE CHAIN rule TEXT (verdict V[ TARGET])
#   trace id ID FAMILY TABLE CHAIN policy V
#   trace id ID FAMILY TABLE CHAIN packet: ...
theirs=$(awk -v ids="$ids" -v own="$own" -v first="$first" -v last="$last" '
	BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	NR < first { next }
	last > 0 && NR > last { exit }
	$1 != "trace" || $2 != "id" || !($3 in want) { next }
	$5 == own { next }
	$7 == "rule" {
		line = $0
		sub(/^trace id [^ ]+ /, "", line)
		sub(/ \(verdict [^)]*\) *$/, "", line)
		gsub(/counter packets [0-9]+ bytes [0-9]+/, "counter", line)
		print line
		next
	}
	$7 == "policy" { print $4, $5, $6, "policy", $8 }
	' "$monitor")

if [ -z "$ours" ] || [ -z "$theirs" ]; then
	echo "trace_compare: empty sequence (nattraced: $(printf '%s' "$ours" | grep -c .) events, nft monitor trace: $(printf '%s' "$theirs" | grep -c .) events, ids $ids)" >&2
	exit 1
fi
if [ "$ours" = "$theirs" ]; then
	echo "trace_compare: $(printf '%s\n' "$ours" | wc -l) events equal (ids $ids)"
	exit 0
fi

{
	echo "trace_compare: nattraced and nft monitor trace differ (ids $ids)"
	awk -v a="$ours" -v b="$theirs" 'BEGIN {
		na = split(a, x, "\n"); nb = split(b, y, "\n")
		n = na > nb ? na : nb
		for (i = 1; i <= n; i++) if (x[i] != y[i]) break
		printf "first difference at event %d of %d (nattraced) / %d (nft):\n", i, na, nb
		printf "  nattraced: %s\n  nft:       %s\n", (i <= na ? x[i] : "(end)"), (i <= nb ? y[i] : "(end)")
	}'
	echo "--- nattraced:"
	printf '%s\n' "$ours" | awk '{ printf "%4d %s\n", NR, $0 }'
	echo "--- nft monitor trace:"
	printf '%s\n' "$theirs" | awk '{ printf "%4d %s\n", NR, $0 }'
} >&2
exit 1
