#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The options have three copies that must not drift: the parser's table
# (src/service/options.c), --help and nattraced(8). Every long option in
# one is in the other two. Usage: docs_options.sh NATTRACED TOP
set -euo pipefail
bin=$1 top=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n '/^static const struct option/,/^};/s/^[[:space:]]*{ "\([a-z0-9-]*\)".*/\1/p' \
	"$top/src/service/options.c" | sort -u >"$tmp/parser"
"$bin" --help | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sed 's/^--//' | sort -u >"$tmp/help"
# an option's own paragraph: .TP, then .B/.BI/.BR with \-\-NAME
awk '/^\.TP/ { tp = 1; next } tp && /^\.B/ { print } { tp = 0 }' "$top/man/nattraced.8" |
	grep -oE -- '\\-\\-[a-z0-9]([a-z0-9]|\\-)*' | sed 's/\\//g; s/^--//' | sort -u >"$tmp/man"

fail=0
[ -s "$tmp/parser" ] || { echo "docs_options: no options found in the parser's table"; exit 1; }
for pair in "parser help" "parser man" "help parser" "man parser"; do
	set -- $pair
	missing=$(comm -23 "$tmp/$1" "$tmp/$2")
	if [ -n "$missing" ]; then
		echo "docs_options: in $1 but not in $2:" $missing
		fail=1
	fi
done
echo "docs_options: $(wc -l <"$tmp/parser") options, parser, --help and nattraced(8) compared"
exit $fail
