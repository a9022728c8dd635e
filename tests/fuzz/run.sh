#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run one libFuzzer target briefly (meson test --suite fuzz): new inputs go
# to a scratch directory, the seeds are read only. Prints libFuzzer's run
# count and time ("Done N runs in T second(s)"); fails on any finding.
#   run.sh TARGET SECONDS SEED-DIR...
set -euo pipefail
target=$1 secs=$2
shift 2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nattraced-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 "$scratch" "$@" 2>&1 | tail -n 25
