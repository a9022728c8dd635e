#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: nattraced on a broken port forward, in three throw-away network
# namespaces (client, router, server). As root, on Debian 12:
#
#   bash contrib/demo.sh
#
# installs what is missing and builds (contrib/setup-debian.sh) first.
# NATTRACED=path overrides the binary (default: build/nattraced). Nothing
# outside the namespaces it creates is touched; they are deleted on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, nftables): sudo $0" >&2
	exit 1
fi
"$top/contrib/setup-debian.sh" >&2 || { echo "demo: setup failed" >&2; exit 1; }

NATTRACED=${NATTRACED:-$top/build/nattraced}
# shellcheck source=../tests/lib/lab.sh
. "$top/tests/lib/lab.sh"

bold=''
plain=''
if [ -t 1 ]; then
	bold=$(printf '\033[1m')
	plain=$(printf '\033[0m')
fi
heading() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s\n' "$*"; }

# shellcheck disable=SC2034 # read by lab.sh
LAB_QUIET=1
lab_trap
lab_tmp || exit 1

MATCH="ip daddr $LAB_WAN4 tcp dport $LAB_PORT tcp flags syn"

# trace_once: run nattraced --count 1 on the router while the client
# connects to the forwarded port, then print the timeline.
trace_once()
{
	local banner

	say "router# nattraced --match \"$MATCH\" --count 1 &"
	lab_daemon_start --match "$MATCH" --count 1 --timeout 15
	if ! lab_wait_table trace_debug 10; then
		say "nattraced did not start:"
		lab_daemon_wait
		cat "$LAB_ERR"
		exit 1
	fi
	say "client\$ socat - TCP:$LAB_WAN4:$LAB_PORT   (3 s connect timeout)"
	if banner=$(lab_connect "$LAB_WAN4" "$LAB_PORT"); then
		say "client: connected, the server says: $banner"
	else
		say "client: connection timed out"
	fi
	lab_daemon_wait
	say ""
	say "nattraced printed:"
	sed '/^$/d; s/^/    /' "$LAB_OUT"
	if [ "$LAB_RC" -ne 0 ]; then
		say "nattraced exited with status $LAB_RC:"
		cat "$LAB_ERR"
		exit 1
	fi
}

heading "Setting up: client -> router (port forward :$LAB_PORT -> server:22) -> server"
lab_up demo || exit 1
say "client $LAB_CLIENT4  --  wan0 router lan0  --  server $LAB_SERVER4 (listening on :22)"
say ""
say "The router's ruleset:"
lab_exec_router nft list ruleset | sed 's/^/    /'

heading "1. The port forward times out. Why?"
trace_once

heading "2. The fix: the DNATed destination was missing from @allow_in"
say "router# nft add element inet filter allow_in { $LAB_SERVER4 . $LAB_SSH_PORT }"
say "router# nft add element inet filter allow_in6 { $LAB_SERVER6 . $LAB_SSH_PORT }"
lab_fix || exit 1

heading "3. Again, after the fix"
trace_once

heading "Cleaning up"
lab_down
say "namespaces deleted; nattraced's table went with its process"
