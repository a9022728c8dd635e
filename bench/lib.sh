# SPDX-License-Identifier: GPL-2.0-or-later
#
# The benchmarks' shared set-up; sourced, not run. After `bench_init NAME
# [TOOL...]`: $here is the source tree, $NATTRACED and $UDPBURST name the
# binaries (overridable from the environment), the lab (tests/lib/lab.sh)
# is up in namespaces named after NAME, torn down on exit, and
# $LAB_TMP is a temporary directory removed with it. Each TOOL must be on
# PATH. Exits 1 with the reason when something is missing, 77 (the lab's
# skip) without root.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NATTRACED=${NATTRACED:-$here/build/nattraced}
UDPBURST=${UDPBURST:-$here/build/tests/udpburst}

# rss_mib PID: peak resident memory (VmHWM) in MiB.
rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

bench_init()
{
	local name=$1 bin
	shift
	for bin in "$NATTRACED" "$UDPBURST"; do
		[ -x "$bin" ] ||
			{ echo "bench: no $bin; run: bash contrib/setup-debian.sh" >&2; exit 1; }
	done
	# shellcheck source=../tests/lib/lab.sh
	. "$here/tests/lib/lab.sh"
	LAB_QUIET=1
	lab_skip_unless_possible
	[ $# -eq 0 ] || lab_require "$@" || exit 1
	lab_trap
	lab_up "$name" >/dev/null || exit 1
	lab_tmp
}
