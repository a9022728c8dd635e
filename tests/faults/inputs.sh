#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad input, refused with a documented status and the ruleset byte for
# byte as before (issue 11 items 4, 8, 10, 13):
#  - a FIFO, /dev/zero, a directory as --config, at start and on SIGHUP
#    (a FIFO blocked open() with SIGTERM blocked; /dev/zero read 1 GiB);
#  - nft keywords as --table (exit 1 after a failed install, not 2);
#  - statements inside anonymous set elements (they were installed);
#  - control characters from a config file, echoed raw.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init finp mkfifo
lab_tmp || exit 1
ruleset() { lab_exec_router nft list ruleset; }
before=$(ruleset)
refused=0

# expect_refused STATUS WHAT PATTERN ARGS...: the daemon exits STATUS
# within 10 s, says PATTERN, prints no raw control character, and the
# ruleset is unchanged.
expect_refused()
{
	local want=$1 what=$2 pattern=$3

	shift 3
	LAB_RUN=$((${LAB_RUN:-0} + 1))
	LAB_OUT=$LAB_TMP/out.$LAB_RUN LAB_ERR=$LAB_TMP/err.$LAB_RUN LAB_ARGS="$*"
	LAB_RC=0
	ip netns exec "$LAB_ROUTER" timeout -s KILL 10 "$NATTRACED" "$@" \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null || LAB_RC=$?
	[ "$LAB_RC" = "$want" ] || lab_fail "$what: expected status $want, got $LAB_RC"
	grep -q -- "$pattern" "$LAB_ERR" || lab_fail "$what: no message matching '$pattern'"
	LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$LAB_ERR") &&
		lab_fail "$what: a raw control character in the message"
	[ "$(ruleset)" = "$before" ] || lab_fail "$what: the ruleset changed"
	refused=$((refused + 1))
	echo "ok: $what: status $want, '$pattern', ruleset unchanged"
}

mkfifo "$LAB_TMP/fifo"
mkdir "$LAB_TMP/dir"
expect_refused 2 "FIFO as --config" "is a FIFO" --config "$LAB_TMP/fifo"
expect_refused 2 "/dev/zero as --config" "is a character device" --config /dev/zero
expect_refused 2 "directory as --config" "is a directory" --config "$LAB_TMP/dir"
head -c 100000 /dev/zero | tr '\0' '#' >"$LAB_TMP/big.conf"
expect_refused 2 "100 kB --config" "larger than" --config "$LAB_TMP/big.conf"
printf 'x\033]0;owned\007\033[2J = 1\n' >"$LAB_TMP/esc.conf"
expect_refused 2 "terminal escapes in --config" 'unknown key .x\\x1b' --config "$LAB_TMP/esc.conf"

for kw in table ip inet counter flags include define monitor chain; do
	expect_refused 2 "--table $kw" "is an nft keyword" --match "udp dport 9999" --table "$kw"
done

expect_refused 2 "counter in a set element" "statement 'counter' inside a set element" \
	--match "ip saddr { 192.0.2.1 counter, 192.0.2.2 }"
expect_refused 2 "limit in a set element" "statement 'limit' inside a set element" \
	--match "ip saddr { 192.0.2.1 limit rate 1/second, 192.0.2.2 }"
expect_refused 2 "counter in a concatenated element" "inside a set element" \
	--match "ip saddr . udp dport { 192.0.2.1 . 53 counter, 192.0.2.2 . 53 }"

# SIGHUP re-reads --config: a FIFO swapped in is refused at once, the
# trace runs on, and SIGTERM still ends the daemon.
printf 'match = udp dport 9999\n' >"$LAB_TMP/good.conf"
cp "$LAB_TMP/good.conf" "$LAB_TMP/swap.conf"
lab_daemon_start --config "$LAB_TMP/swap.conf"
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "cannot find the daemon"
table=$(lab_exec_router nft list table inet trace_debug)
n=0
for bad in fifo dir; do
	n=$((n + 1))
	rm -rf "$LAB_TMP/swap.conf"
	if [ "$bad" = fifo ]; then mkfifo "$LAB_TMP/swap.conf"; else mkdir "$LAB_TMP/swap.conf"; fi
	kill -HUP "$pid"
	for _ in $(seq 100); do
		[ "$(grep -c "reload refused: .*swap.conf is a" "$LAB_ERR")" -ge $n ] && break
		sleep 0.05
	done
	[ "$(grep -c "reload refused: .*swap.conf is a" "$LAB_ERR")" -ge $n ] ||
		lab_fail "SIGHUP with a $bad as --config: no refusal"
	[ "$(lab_exec_router nft list table inet trace_debug)" = "$table" ] ||
		lab_fail "SIGHUP with a $bad: the trace table changed"
	refused=$((refused + 1))
done
kill -TERM "$pid"
lab_daemon_wait
lab_expect_rc 0
[ "$(ruleset)" = "$before" ] || lab_fail "the ruleset is not as before after the reloads"
echo "ok: SIGHUP with a FIFO, then a directory, as --config: refused, trace unchanged, SIGTERM works"
echo "faults: $refused bad inputs refused, 0 tables left behind"
echo "PASS"
