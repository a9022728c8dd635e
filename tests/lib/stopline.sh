# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The stop account's one equation (include/stats.h), checked on every
# account a test's daemons printed:
#   complete + incomplete + lost + in flight == selected
# in the text lines on stderr ("nattraced: stopped: ...", "nattraced:
# stats: ...") and in the JSON stats records ({"type": "stats"}) on
# stdout. An account whose counter was unreadable ("selected unknown",
# "selected": null) has no equation to check.
#
# lab.sh's exit trap calls stopline_check on the test's $LAB_TMP, so every
# e2e test that ran a daemon is checked; a test may call it itself too.

# stopline_text_fields LINE: "selected lost complete incomplete in_flight".
stopline_text_fields()
{
	local line=$1 f v out=

	for f in '([0-9]+) packets selected' '([0-9]+) lost,' '\(([0-9]+) complete' \
		'([0-9]+) incomplete' '([0-9]+) in flight'; do
		v=$(printf '%s\n' "$line" | sed -nE "s/.*[^0-9]$f.*/\\1/p; s/^$f.*/\\1/p" | head -1)
		[ -n "$v" ] || return 1
		out="$out $v"
	done
	echo "$out"
}

# stopline_check DIR...: check every account in the files under DIR.
# Says how many were checked (on stderr, "stop lines: N checked"); returns
# 1 if one does not balance.
stopline_check()
{
	local file line fields sel lost comp inc infl n=0 bad=0 json

	while IFS= read -r -d '' file; do
		while IFS= read -r line; do
			case $line in
			*"packets selected unknown"*) continue ;;
			esac
			if ! fields=$(stopline_text_fields "$line"); then
				echo "stop line: cannot read the account in: $line" >&2
				bad=$((bad + 1))
				continue
			fi
			read -r sel lost comp inc infl <<<"$fields"
			n=$((n + 1))
			if [ $((comp + inc + lost + infl)) -ne "$sel" ]; then
				echo "stop line does not balance ($comp + $inc + $lost + $infl != $sel) in $file: $line" >&2
				bad=$((bad + 1))
			fi
		done < <(grep -aE '^nattraced: (stopped|stats): ' "$file")
		command -v jq >/dev/null || continue
		while IFS= read -r json; do
			n=$((n + 1))
			if ! printf '%s\n' "$json" | jq -e '.complete + .incomplete + .lost + .in_flight == .selected' >/dev/null 2>&1; then
				echo "stats record does not balance in $file: $json" >&2
				bad=$((bad + 1))
			fi
		done < <(grep -aE '^\{"type": ?"stats"' "$file" |
			jq -c 'select(.selected != null)' 2>/dev/null)
	done < <(find "$@" -type f -print0 2>/dev/null)
	echo "stop lines: $n checked, $bad not balanced" >&2
	[ "$bad" -eq 0 ]
}
