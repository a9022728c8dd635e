#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The folders' rule (docs/architecture.md, "Folders"): a file in a core
# folder never reaches, directly or through the headers it includes, a
# header of an edge source or a library that talks to the kernel, the
# ruleset or the journal. The core links into the unit tests without root;
# one such include would pull an edge in.
#
# Usage: layering.sh TOP
set -euo pipefail
top=$1
core_dirs=(lib decode assemble explain render)
# Libraries only the edges may use: libnftables, libnftnl, sd-journal, threads
# that read sockets. libmnl and the uapi headers are plain parsing and are
# allowed (trace.c decodes with libmnl).
banned_sys='<(nftables/|libnftnl/|systemd/)'

cd "$top"
declare -A edge_hdr=()
for c in src/*/*.c; do
	d=$(basename "$(dirname "$c")")
	case " ${core_dirs[*]} " in *" $d "*) continue ;; esac
	edge_hdr[$(basename "${c%.c}").h]=$c
done
# Pure files in an edge folder are core too: meson's core library says which.
for c in $(sed -n "/^core_sources = files(/,/^)/s/^[[:space:]]*'\([^']*\.c\)'.*/\1/p" meson.build); do
	unset "edge_hdr[$(basename "${c%.c}").h]"
done

fail=0
checked=0
# Walk one file's includes through include/ and the headers beside the
# folder's sources (src/explain/explain_int.h), printing each header reached.
reach()
{
	local f=$1 dir=$2 h
	for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		[ -n "${seen[$h]:-}" ] && continue
		seen[$h]=1
		echo "$h"
		if [ -f "$dir/$h" ]; then
			reach "$dir/$h" "$dir"
		elif [ -f "include/$h" ]; then
			reach "include/$h" "$dir"
		fi
	done
}
for d in "${core_dirs[@]}"; do
	for f in src/"$d"/*.c; do
		[ -e "$f" ] || continue
		checked=$((checked + 1))
		declare -A seen=()
		for h in $(reach "$f" "src/$d"); do
			if [ -n "${edge_hdr[$h]:-}" ]; then
				echo "layering: $f (core folder src/$d) reaches edge header $h (${edge_hdr[$h]})"
				fail=1
			fi
			hp=include/$h
			[ -f "src/$d/$h" ] && hp=src/$d/$h
			if [ -f "$hp" ] && grep -Eq "^#include $banned_sys" "$hp"; then
				echo "layering: $f (core folder src/$d) reaches $hp, which includes an edge library header"
				fail=1
			fi
		done
		if grep -En "^#include $banned_sys" "$f"; then
			echo "layering: $f (core folder src/$d) includes an edge library header"
			fail=1
		fi
		unset seen
	done
done
[ "$checked" -gt 0 ] || { echo "layering: no core source found under src/"; exit 1; }
echo "layering: $checked core sources in ${#core_dirs[@]} folders checked, ${#edge_hdr[@]} edge headers"
exit $fail
