#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bash completion (contrib/completion/nattraced.bash), sourced into
# this bash and called as bash calls it (COMP_WORDS, COMP_CWORD): every
# option of the parser's table and of --help is offered, the options that
# take a value are completed with values and not with options, and the
# values of --output, --family, --hooks (after a comma too), --nat-log=,
# --netns and --config are right. Usage: completion.sh NATTRACED TOP
set -uo pipefail
bin=$1 top=$2
fail=0
bad()
{
	echo "completion: FAIL: $*"
	fail=1
}

# shellcheck source=../contrib/completion/nattraced.bash
source "$top/contrib/completion/nattraced.bash" || { echo "completion: cannot source"; exit 1; }
[[ $(complete -p nattraced 2>/dev/null) == "complete -F _nattraced nattraced" ]] ||
	bad "the script does not register _nattraced for nattraced"

# comp WORD...: complete the last word of "$bin WORD..." into $got, one
# candidate per line, sorted.
comp()
{
	COMP_WORDS=("$bin" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_nattraced
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort)
}
# expect "WANT1 WANT2 ..." WORD...: exactly those candidates.
expect()
{
	local want
	want=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort)
	shift
	comp "$@"
	[[ $got == "$want" ]] || bad "nattraced $* <TAB>: got [$(echo $got)], want [$(echo $want)]"
}

# Every option: the parser's table (src/service/options.c) and every
# "--name" --help mentions, against what "nattraced --<TAB>" offers.
parser=$(sed -n '/^static const struct option/,/^};/s/^[[:space:]]*{ "\([a-z0-9-]*\)".*/\1/p' \
	"$top/src/service/options.c" | sed 's/^/--/' | sort -u)
help=$("$bin" --help | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u)
[ -n "$parser" ] || bad "no options found in the parser's table"
comp --
offered=$got
for o in $parser $help; do
	grep -qx -- "$o" <<<"$offered" || bad "$o not offered by 'nattraced --<TAB>'"
done
for o in $offered; do
	grep -qx -- "$o" <<<"$parser" || bad "$o offered but not in the parser's table"
done
expect "--follow --follow-packets --follow-timeout --follow-max --family" --f
comp ""
[[ $got == "$offered" ]] || bad "nattraced <TAB> does not offer the options"

# An option that takes a value is completed with values, never with
# options (required_argument in the parser's table).
required=$(sed -n '/^static const struct option/,/^};/s/^[[:space:]]*{ "\([a-z0-9-]*\)", required_argument.*/\1/p' \
	"$top/src/service/options.c")
for o in $required; do
	comp "--$o" ""
	grep -q -- '^--' <<<"$got" && bad "nattraced --$o <TAB> offers options: $(echo $got)"
done
# ... and one that takes none is followed by the options again.
comp --follow --f
[[ -n $got ]] || bad "nattraced --follow --f<TAB>: nothing"

expect "text json journal" --output ""
expect "json journal" --output j
expect "json journal" -o j
# --output=j: bash splits at "=" (COMP_WORDBREAKS): "--output" "=" "j"
expect "json journal" --output = j
expect "text json journal" --output =
# ... and without "=" in COMP_WORDBREAKS the word stays whole.
expect "--output=json --output=journal" --output=j
expect "inet ip ip6" --family ""
expect "ip ip6" --family ip
expect "prerouting input forward output postrouting" --hooks ""
expect "prerouting,input prerouting,forward prerouting,output prerouting,postrouting" \
	--hooks prerouting,
expect "prerouting,input" --hooks prerouting,in
expect "forward,output,input forward,output,prerouting forward,output,postrouting" \
	--hooks forward,output,
expect "all" --nat-log =
expect "--nat-log=all" --nat-log=
expect "none" --rate ""
expect "10/second 10/minute 10/hour 10/day" --rate 10/

# --config: file names.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/a.conf" "$dir/b.conf"
expect "$dir/a.conf $dir/b.conf" --config "$dir/"
expect "$dir/a.conf" --config "$dir/a"

# --netns: the names "ip netns list" prints (with or without an id), a
# stand-in ip so no namespace is needed; a path completes file names.
ip()
{
	[[ $* == "netns list" ]] && printf 'web (id: 3)\nlab-rtr\n'
}
expect "web lab-rtr" --netns ""
expect "lab-rtr" --netns l
expect "$dir/a.conf $dir/b.conf" --netns "$dir/"
unset -f ip

# Options added later are read from --help as they come: a stand-in
# program whose --help has the other forms an option line can take.
cat >"$dir/fake" <<'EOF2'
#!/bin/sh
cat <<'HELP'
  -m, --match EXPR     a required value
      --color[=WHEN]   an optional value, named
      --pcap FILE      a file
      --metrics-file=PATH
                       a file, written with "="
      --summary [SECONDS]
                       an optional value of its own
      --mode[=fast|slow]
                       optional literals
  -v, --verbose        no value
                       --not-an-option=x in a description
HELP
EOF2
chmod +x "$dir/fake"
bin=$dir/fake
expect "--match --color --pcap --metrics-file --summary --mode --verbose" --
expect "auto always never" --color =
expect "$dir/fake" --pcap "$dir/f"
expect "$dir/fake" --metrics-file "$dir/f"
expect "--metrics-file=$dir/fake" "--metrics-file=$dir/f"
expect "--match --color --pcap --metrics-file --summary --mode --verbose" --summary ""
expect "fast slow" --mode =
expect "" -m ""

[ $fail -eq 0 ] && echo "completion: OK ($(wc -l <<<"$offered") options)"
exit $fail
