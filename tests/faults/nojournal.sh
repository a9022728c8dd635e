#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --output journal with no journald (issue 11 item 3): sd_journal_sendv()
# reports success when its socket is missing, so the daemon traced, wrote
# nothing anywhere and exited 0. It now fails at start with exit status 1
# and a message, before installing anything. The missing journald is a
# tmpfs over /run/systemd in a mount namespace of this test's own.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fnoj unshare
lab_tmp || exit 1
before=$(lab_exec_router nft list ruleset)

for mode in "--match=udp.dport.9999" "--nat-log=all"; do
	mode=${mode//./ }
	LAB_OUT=$LAB_TMP/out LAB_ERR=$LAB_TMP/err LAB_ARGS="--output journal $mode (no journald)"
	LAB_RC=0
	unshare -m sh -c 'mount -t tmpfs nojournal /run/systemd && exec "$@"' sh \
		ip netns exec "$LAB_ROUTER" timeout -s KILL 20 "$NATTRACED" --output journal "$mode" \
		--timeout 2 >"$LAB_OUT" 2>"$LAB_ERR" </dev/null || LAB_RC=$?
	lab_expect_rc 1
	grep -q "no journald listens" "$LAB_ERR" || lab_fail "$mode: no message saying journald is missing"
	[ "$(lab_exec_router nft list ruleset)" = "$before" ] ||
		lab_fail "$mode: the ruleset changed"
	echo "ok: --output journal $mode without journald: exit 1, a message, the ruleset unchanged"
done
echo "PASS"
