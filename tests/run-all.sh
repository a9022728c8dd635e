#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test command (README.md, .ci/run): installs what is missing and
# builds in build/ (contrib/setup-debian.sh), runs every test, unit and
# end-to-end (the e2e tests need root to create network namespaces, and
# skip with status 77 without it), the faults suite among them, and the
# journal tests again with a host journald running (tests/host-journald.sh); then
# builds in build-asan/ with AddressSanitizer and UBSan and runs the unit
# tests there; then builds every libFuzzer target with clang in
# build-fuzz/ and runs each for FUZZ_SECONDS (20).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -eq 0 ]; then
	contrib/setup-debian.sh
fi

setup()
{
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

failed=()

echo "== build/: unit and end-to-end tests"
setup build
meson compile -C build
meson test -C build --print-errorlogs || failed+=("build/: meson test")

# CI machines run no journald; most hosts do. The journal tests again, with
# a stand-in host journald in a private mount namespace (77: not root).
echo "== build/: the journal tests with a host journald running"
rc=0
tests/host-journald.sh build || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || failed+=("build/: tests/host-journald.sh")

echo "== build-asan/: unit tests under AddressSanitizer and UBSan"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
	meson test -C build-asan --suite unit --print-errorlogs ||
	failed+=("build-asan/: meson test --suite unit")

echo "== build-fuzz/: every libFuzzer target built with clang, each run briefly"
CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dfuzz_seconds="${FUZZ_SECONDS:-20}"
meson compile -C build-fuzz
meson test -C build-fuzz --suite fuzz --print-errorlogs ||
	failed+=("build-fuzz/: meson test --suite fuzz")
grep -hE "^(Done [0-9]+ runs|=+ .*fuzz_)" build-fuzz/meson-logs/testlog.txt || true

if [ ${#failed[@]} -gt 0 ]; then
	printf '== FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "== all tests passed"
