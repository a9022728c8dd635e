#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian package: builds it with dpkg-buildpackage -b from a copy of
# the tree (the work tree stays clean; the .deb is written next to the
# copy), runs lintian on it (no errors, no warnings: keep one only with an
# override in debian/ saying why), unpacks it with dpkg-deb -x into a
# scratch root and checks the files, the maintainer scripts (units neither
# enabled nor started) and the unpacked binary's --version, run with the
# host's shared libraries.
#
# Usage: package.sh TOP. Skips (77) without dpkg-buildpackage, debhelper
# or lintian (contrib/setup-debian.sh installs them).
set -euo pipefail
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
start=$SECONDS

for tool in dpkg-buildpackage dpkg-deb dh lintian; do
	if ! command -v "$tool" >/dev/null; then
		echo "package: SKIP: no $tool (contrib/setup-debian.sh installs it)"
		exit 77
	fi
done

tmp=$(mktemp -d /tmp/nattraced-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad()
{
	echo "package: FAIL: $*"
	fail=1
}

# The tree as it is, uncommitted changes too, without build directories.
mkdir "$tmp/src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
else
	tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$tmp/src"
fi

# noautodbgsym: the -dbgsym package is not checked here, so not built.
if ! (cd "$tmp/src" &&
	DEB_BUILD_OPTIONS="noautodbgsym nocheck parallel=$(nproc)" \
		dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log"
	echo "package: FAIL: dpkg-buildpackage (log above)"
	exit 1
fi
built=$SECONDS

version=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
deb=$(echo "$tmp"/nattraced_"$version"_*.deb)
changes=$(echo "$tmp"/nattraced_"$version"_*.changes)
[ -f "$deb" ] || { echo "package: FAIL: no $deb"; ls "$tmp"; exit 1; }

# lintian: errors and warnings fail; info and pedantic tags are printed.
if ! lintian --fail-on error,warning --display-info --tag-display-limit 0 "$changes" \
	>"$tmp/lintian.log" 2>&1; then
	bad "lintian:"
	grep -E '^[EW]:' "$tmp/lintian.log" || cat "$tmp/lintian.log"
fi
grep -E '^[EWIP]:' "$tmp/lintian.log" | sed 's/^/package: lintian: /' || true
linted=$SECONDS

root=$tmp/root
dpkg-deb -x "$deb" "$root"
for f in \
	usr/sbin/nattraced \
	usr/share/man/man8/nattraced.8.gz \
	usr/share/man/man5/nattraced.conf.5.gz \
	lib/systemd/system/nattraced.service \
	lib/systemd/system/nattraced@.service \
	lib/systemd/system-preset/90-nattraced.preset \
	usr/lib/systemd/catalog/nattraced.catalog \
	usr/share/doc/nattraced/nattraced.conf.example \
	usr/share/doc/nattraced/copyright \
	usr/share/bash-completion/completions/nattraced; do
	[ -s "$root/$f" ] || bad "not in the package: /$f"
done
[ -x "$root/usr/sbin/nattraced" ] || bad "/usr/sbin/nattraced is not executable"
cmp -s "$root/usr/share/bash-completion/completions/nattraced" \
	"$top/contrib/completion/nattraced.bash" ||
	bad "the installed completion differs from contrib/completion/nattraced.bash"
cmp -s "$root/usr/lib/systemd/catalog/nattraced.catalog" \
	"$top/contrib/systemd/nattraced.catalog" ||
	bad "the installed catalog differs from contrib/systemd/nattraced.catalog"
# The units start the binary where the package puts it.
for u in nattraced.service nattraced@.service; do
	grep -q '^ExecStart=/usr/sbin/nattraced ' "$root/lib/systemd/system/$u" ||
		bad "$u: ExecStart is not /usr/sbin/nattraced"
	grep -qx "disable $u" "$root/lib/systemd/system-preset/90-nattraced.preset" ||
		bad "the preset does not disable $u"
done

# Runtime dependencies from shlibs (dh_shlibdeps), one per library linked.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libnftables1 libnftnl11 libmnl0 libjansson4 \
	libnetfilter-conntrack3 libsystemd0; do
	[[ ", $depends," == *", $lib"[\ ,]* ]] || bad "Depends lacks $lib: $depends"
done

# Maintainer scripts: nothing enables or starts a unit on install; an
# upgrade re-enables only what was enabled and restarts only what runs.
dpkg-deb -e "$deb" "$tmp/control"
scripts=$(cat "$tmp/control"/{preinst,postinst,prerm,postrm} 2>/dev/null || true)
# deb-systemd-invoke only to try-restart (restarts a running unit) or stop.
if grep -E 'deb-systemd-invoke' <<<"$scripts" | grep -vE 'deb-systemd-invoke +(try-restart|stop) '; then
	bad "a maintainer script starts a unit (above)"
fi
if grep -E 'systemctl .*(start|restart|enable)' <<<"$scripts"; then
	bad "a maintainer script starts or enables a unit with systemctl (above)"
fi
# each "deb-systemd-helper enable" within the block of a was-enabled test
if ! awk 'BEGIN { guard = -10 } /deb-systemd-helper --quiet was-enabled/ { guard = NR }
	/deb-systemd-helper enable/ && NR - guard > 2 { bad = 1 } END { exit bad }' <<<"$scripts"; then
	bad "deb-systemd-helper enable outside 'if was-enabled'"
fi
grep -q "deb-systemd-helper --quiet was-enabled" <<<"$scripts" ||
	bad "postinst does not guard its enable with was-enabled"
# The journal catalog: systemd's package has a file trigger on its
# directory that runs journalctl --update-catalog.
if [ -f /var/lib/dpkg/info/systemd.triggers ]; then
	grep -qx 'interest-noawait /usr/lib/systemd/catalog' /var/lib/dpkg/info/systemd.triggers ||
		bad "systemd has no trigger on /usr/lib/systemd/catalog: the catalog needs a postinst"
fi

# The unpacked binary, with the host's libraries.
want="nattraced $(sed -n "s/^[[:space:]]*version : '\(.*\)',/\1/p" "$top/meson.build")"
got=$("$root/usr/sbin/nattraced" --version) || bad "nattraced --version exited $?"
[ "$got" = "$want" ] || bad "nattraced --version: '$got', not '$want'"
[ "$got" = "nattraced ${version%-*}" ] ||
	bad "debian/changelog's version $version is not the program's ('$got')"

echo "package: $(basename "$deb"): build $((built - start)) s, lintian $((linted - built)) s, total $((SECONDS - start)) s"
[ $fail -eq 0 ] && echo "package: OK"
exit $fail
