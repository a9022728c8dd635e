#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The systemd units as meson configured them (build/contrib/systemd):
# systemd-analyze verify passes for nattraced.service and an instance of
# nattraced@.service, a unit with a mistake fails it (so this test can
# fail), and systemd-analyze security --offline=true rates both 1.5 or
# lower. ExecStart= points at the built binary (verify checks that it
# exists). Skips (77) without systemd-analyze.
set -u
: "${UNITS_DIR:?}" "${NATTRACED:?}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: no systemd-analyze (Debian package systemd)" >&2
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nattraced-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# As root, systemd-analyze touches /run/systemd/systemd-units-load: keep
# that in a private mount namespace with its own /run/systemd.
analyze()
{
	if [ "$(id -u)" -eq 0 ] && [ -d /run/systemd ] && command -v unshare >/dev/null 2>&1; then
		unshare -m --propagation private sh -c \
			'mount -t tmpfs tmpfs /run/systemd && exec systemd-analyze "$@"' sh "$@"
	else
		systemd-analyze "$@"
	fi
}

for u in nattraced.service nattraced@.service; do
	[ -f "$UNITS_DIR/$u" ] || { fail "$UNITS_DIR/$u was not generated"; continue; }
	sed "s|^ExecStart=[^ ]*nattraced |ExecStart=$NATTRACED |" "$UNITS_DIR/$u" >"$tmp/$u"
	grep -q "^ExecStart=$NATTRACED " "$tmp/$u" || fail "$u: no ExecStart= running nattraced"
	for want in Type=notify "ExecReload=/bin/kill -HUP \$MAINPID" \
		CapabilityBoundingSet=CAP_NET_ADMIN AmbientCapabilities=CAP_NET_ADMIN \
		NoNewPrivileges=yes ProtectSystem=strict PrivateDevices=yes \
		"RestrictAddressFamilies=AF_NETLINK AF_UNIX" MemoryDenyWriteExecute=yes; do
		grep -qxF -- "$want" "$tmp/$u" || fail "$u: no line '$want'"
	done
done
grep -q -- '--config /[^ ]*/nattraced/%i.conf --table trace_%i ' "$tmp/nattraced@.service" ||
	fail "nattraced@.service: ExecStart= does not use /etc/nattraced/%i.conf and table trace_%i"

check()
{
	local unit=$1 out score

	if out=$(analyze verify --man=no "$unit" 2>&1); then
		echo "ok: systemd-analyze verify $(basename "$unit")"
	else
		fail "systemd-analyze verify $unit: $out"
	fi
	out=$(analyze security --offline=true "$unit" 2>&1)
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	if [ -z "$score" ]; then
		fail "systemd-analyze security $unit gave no rating: $out"
	elif awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		echo "ok: systemd-analyze security --offline=true $(basename "$unit"): $score"
	else
		fail "systemd-analyze security rates $unit $score, more than 1.5:
$(printf '%s\n' "$out" | grep '✗')"
	fi
}
check "$tmp/nattraced.service"
check "$tmp/nattraced@test.service"

# The test can fail: a command that does not exist is an error for verify.
mkdir "$tmp/bad"
sed "s|^ExecStart=$NATTRACED |ExecStart=$tmp/no-such-nattraced |" "$tmp/nattraced.service" \
	>"$tmp/bad/nattraced.service"
if analyze verify --man=no "$tmp/bad/nattraced.service" >/dev/null 2>&1; then
	fail "systemd-analyze verify accepted a missing ExecStart= binary: this test cannot fail"
else
	echo "ok: a broken unit fails systemd-analyze verify"
fi

[ "$fails" -eq 0 ] || { echo "FAIL: $fails problem(s)" >&2; exit 1; }
echo "PASS"
