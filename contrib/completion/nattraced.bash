# SPDX-License-Identifier: GPL-2.0-or-later
#
# bash completion for nattraced(8). Installed by meson into
# bash-completion's completionsdir, which loads it on the first
# "nattraced <TAB>"; or source it by hand.
#
# The options, and which of them take a value, are read from the
# program's own --help (once per shell and program path), so the
# completion offers exactly what the binary being run accepts. The values
# of options with a fixed set are listed here.

# Read "$1 --help" into _nattraced_opts (every long option, "--name"),
# _nattraced_arg (option, long or short, -> the name of the value it
# requires: EXPR, FILE, ...), _nattraced_eqarg (--name -> the name of an
# optional value, "--name[=WHEN]") and _nattraced_optval (--name -> the
# literals of an optional value, "--nat-log[=all]", "--x[=a|b]").
_nattraced_read_help()
{
	local cmd=$1 help line re
	[[ ${_nattraced_help_of-} == "$cmd" ]] && return 0

	# "sudo nattraced" from a user whose PATH has no sbin.
	if [[ $cmd != */* ]] && ! type -P "$cmd" >/dev/null; then
		local d
		for d in /usr/sbin /usr/local/sbin /sbin; do
			[[ -x $d/$cmd ]] && { cmd=$d/$cmd; break; }
		done
	fi
	help=$(LC_ALL=C "$cmd" --help 2>/dev/null) || help=
	_nattraced_help_of=$1
	_nattraced_opts=()
	unset _nattraced_arg _nattraced_eqarg _nattraced_optval
	declare -gA _nattraced_arg=() _nattraced_eqarg=() _nattraced_optval=()

	# An option's own line is indented by 2 to 6 spaces; the descriptions,
	# which mention options too, by more. After the name: " VALUE" or
	# "=VALUE" (required), "[=VALUE]" or "[=lit|lit]" (optional), or
	# " [VALUE]" and nothing (no value of its own).
	re='^ {2,6}(-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)'
	re+='(\[=([a-z0-9|-]+)\]|\[=([A-Z][A-Z_]*)\]|[ =]([A-Z][A-Z_]*))?( |$)'
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		local short=${BASH_REMATCH[2]} long=--${BASH_REMATCH[3]}
		local metavar=${BASH_REMATCH[7]}
		_nattraced_opts+=("$long")
		[[ -n ${BASH_REMATCH[5]} ]] && _nattraced_optval[$long]=${BASH_REMATCH[5]//|/ }
		[[ -n ${BASH_REMATCH[6]} ]] && _nattraced_eqarg[$long]=${BASH_REMATCH[6]}
		if [[ -n $metavar ]]; then
			_nattraced_arg[$long]=$metavar
			[[ -n $short ]] && _nattraced_arg[-$short]=$metavar
		fi
	done <<<"$help"
}

# Complete the value $2 of option $1 into COMPREPLY.
_nattraced_value()
{
	local opt=$1 cur=$2 hook head tail
	local -a words=()
	case $opt in
	--output | -o)
		words=(text json journal)
		;;
	--family)
		words=(inet ip ip6)
		;;
	--color | --colour)
		words=(auto always never)
		;;
	--rate)
		if [[ $cur =~ ^[0-9]+/ ]]; then
			local n=${cur%%/*} unit
			for unit in second minute hour day; do
				words+=("$n/$unit")
			done
		else
			words=(none)
		fi
		;;
	--hooks)
		# A comma-separated list: complete its last element with the
		# hooks not listed yet, keeping what is before the last comma.
		head= tail=$cur
		if [[ $cur == *,* ]]; then
			head=${cur%,*},
			tail=${cur##*,}
		fi
		for hook in prerouting input forward output postrouting; do
			[[ ,$head == *,$hook,* ]] || words+=("$head$hook")
		done
		cur=$head$tail
		;;
	--netns)
		# ip netns names; a PID or a path (/proc/PID/ns/net) is typed.
		if [[ $cur == [/.~]* ]]; then
			_nattraced_files "$cur"
			return
		fi
		local line
		while read -r line; do
			[[ -n $line ]] && words+=("${line%% *}")
		done < <(ip netns list 2>/dev/null)
		;;
	--config)
		_nattraced_files "$cur"
		return
		;;
	*)
		case ${_nattraced_arg[$opt]:-${_nattraced_eqarg[$opt]-}} in
		FILE | PATH | DIR) _nattraced_files "$cur"; return ;;
		esac
		# The literals of an optional "--name[=a|b]" value.
		read -ra words <<<"${_nattraced_optval[$opt]-}"
		;;
	esac
	local w
	COMPREPLY=()
	for w in "${words[@]}"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

_nattraced_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_nattraced()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= opt=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	_nattraced_read_help "${COMP_WORDS[0]}"

	# "--output=js": bash splits at "=" (COMP_WORDBREAKS), so the words
	# are "--output" "=" "js", or "--output" "=" right after the "=";
	# without "=" in COMP_WORDBREAKS the word is "--output=js" whole.
	if [[ $cur == = ]] && ((COMP_CWORD >= 1)); then
		_nattraced_value "$prev" ""
		return
	fi
	if [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		_nattraced_value "${COMP_WORDS[COMP_CWORD - 2]}" "$cur"
		return
	fi
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		_nattraced_value "$opt" "${cur#*=}"
		local i
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=$opt=${COMPREPLY[i]}
		done
		return
	fi

	# The value of an option that takes one ("--output js", "-o js").
	if [[ -n $prev && -n ${_nattraced_arg[$prev]-} ]]; then
		_nattraced_value "$prev" "$cur"
		return
	fi

	local w
	COMPREPLY=()
	for w in "${_nattraced_opts[@]}"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

complete -F _nattraced nattraced
