#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what nattraced's build, tests and demo need on Debian 12, then
# build it in build/. Installs only what is missing, so a second run costs
# no download; needs root for that (apt-get).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# clang and libclang-rt-14-dev: the libFuzzer targets (tests/run-all.sh);
# Debian 12's clang-14 finds libFuzzer only in libclang-rt-14-dev.
# valgrind: tests/faults/valgrind.sh.
# tshark: tests/e2e/pcap.sh reads --pcap files back (its package asks
# whether non-root users may capture: answered no, before installing).
# debhelper, dpkg-dev, lintian: the Debian package (debian/,
# tests/package.sh); bash-completion: its pkg-config file says where the
# completion goes (a build dependency of the package).
packages=(
	gcc libc6-dev meson ninja-build pkg-config
	libmnl-dev libnftnl-dev libnftables-dev libjansson-dev libcmocka-dev zlib1g-dev
	libsystemd-dev
	nftables iproute2 jq socat procps
	libnetfilter-conntrack-dev conntrack
	systemd util-linux
	iptables
	valgrind
	clang libclang-rt-14-dev
	debhelper dpkg-dev lintian bash-completion
	tshark
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# promtool checks the --metrics-file format (tests/e2e/metrics.sh). It comes
# in Debian's prometheus package, whose server we do not want installed or
# started: take the one binary out of the package instead.
if ! command -v promtool >/dev/null; then
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get download -q prometheus >/dev/null &&
		dpkg-deb -x prometheus_*.deb x && install -m 0755 x/usr/bin/promtool /usr/local/bin/); then
		echo "setup: promtool from Debian's prometheus package in /usr/local/bin"
	else
		echo "setup: promtool not available; tests/e2e/metrics.sh checks without it" >&2
	fi
	rm -rf "$tmp"
fi

cd "$top"
[ -f build/build.ninja ] || meson setup build
meson compile -C build
