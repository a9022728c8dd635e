#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Colour (issue 23): text on a terminal colours the verdict (the lab's
# dropped SYN: red) and dims the base chain headers; NO_COLOR (not empty),
# --color=never, a pipe and a file get none, --color=always colours a
# file too. The terminal is a pseudo-terminal of script(1).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init color script
lab_tmp || lab_fail "no scratch directory"

red=$'\e[31mdrop\e[0m'
dim=$'\e[2m  prerouting inet nat prerouting'
esc=$'\e'

# trace NAME TTY ENV ARGS...: the dropped SYN's text in $LAB_TMP/NAME,
# nattraced on a pseudo-terminal (TTY yes) or writing to a file.
trace()
{
	local name=$1 tty=$2 env=$3 cmd pid

	shift 3
	printf -v cmd '%q ' ip netns exec "$LAB_ROUTER" timeout -s KILL 30 "$NATTRACED" \
		--match "ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn" --count 1 \
		--timeout 10 "$@"
	if [ "$tty" = yes ]; then
		env $env script -qec "$cmd" /dev/null >"$LAB_TMP/$name" 2>&1 </dev/null &
	else
		env $env bash -c "$cmd" >"$LAB_TMP/$name" 2>/dev/null </dev/null &
	fi
	pid=$!
	lab_daemon_ready
	lab_syn "$LAB_WAN4" "$LAB_PORT"
	wait "$pid"
	lab_wait_no_table || lab_fail "$name: the trace table stayed"
	grep -q '^  verdict ' "$LAB_TMP/$name" || {
		lab_show_file "$LAB_TMP/$name" >&2
		lab_fail "$name: no timeline"
	}
}

trace tty yes NO_COLOR=
grep -qF -- ": $red" "$LAB_TMP/tty" && grep -qF -- "  verdict $red by" "$LAB_TMP/tty" ||
	{ lab_show_file "$LAB_TMP/tty" >&2; lab_fail "tty: the verdict is not red on both lines"; }
grep -qF -- "$dim" "$LAB_TMP/tty" || lab_fail "tty: the base chain header is not dim"
echo "ok: on a terminal the verdict is red and the base chain header dim"

trace nocolor yes NO_COLOR=1
grep -q "$esc" "$LAB_TMP/nocolor" && lab_fail "NO_COLOR=1: escape sequences on the terminal"
echo "ok: NO_COLOR=1: no colour on a terminal"

trace never yes NO_COLOR= --color=never
grep -q "$esc" "$LAB_TMP/never" && lab_fail "--color=never: escape sequences on the terminal"
echo "ok: --color=never: no colour on a terminal"

trace file no NO_COLOR=
grep -q "$esc" "$LAB_TMP/file" && lab_fail "a file: escape sequences"
echo "ok: no colour in a file"

trace always no NO_COLOR=1 --color=always
grep -qF -- ": $red" "$LAB_TMP/always" || lab_fail "--color=always: no red verdict in a file"
echo "ok: --color=always colours a file, NO_COLOR or not"
echo "PASS"
