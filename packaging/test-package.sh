#!/usr/bin/env bash
# Builds the Debian package from a copy of the source tree and checks it:
#  - dpkg-buildpackage -us -uc succeeds, source and binary (without the
#    build-time tests and the debug symbols package, which the other suites
#    cover);
#  - lintian reports no error (E:) on the .changes: the source package and
#    the .deb;
#  - the .deb holds the daemon, the tools, the unit, the configuration and
#    the man pages;
#  - unpacked into a throw-away root (dpkg -x), the installed ocppknxd
#    finds its libraries and accepts the installed example configuration
#    with the example charger file enabled, and rejects it with an error
#    in that file.
#
# Usage: test-package.sh [SOURCE_ROOT]   (default: this file's ../)
# Prints the lintian output and the `dpkg-deb -c` listing.
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-pkg.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in dpkg-buildpackage dpkg-deb lintian; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (bash packaging/dev-setup.sh deps installs it)"
done

# The copy leaves out version control, build directories (anything holding
# a build.ninja) and a debian/ of an earlier build.
mkdir "$T/src"
tar -C "$src" --exclude-vcs --exclude-tag-all=build.ninja \
  --exclude=./debian --exclude='./obj-*' -cf - . | tar -C "$T/src" -xf -
cp -r "$T/src/packaging/debian" "$T/src/debian"

echo "# dpkg-buildpackage -us -uc -Pnocheck"
( cd "$T/src" &&
  DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" dpkg-buildpackage -us -uc -Pnocheck ) \
  >"$T/build.log" 2>&1 || { tail -n 60 "$T/build.log" >&2; fail "dpkg-buildpackage failed"; }

changes=$(ls "$T"/ocppknx_*.changes)
deb=$(ls "$T"/ocppknxd_*.deb)
[ "$(echo "$deb" | wc -l)" -eq 1 ] || fail "expected one ocppknxd .deb: $deb"

echo "# lintian $(basename "$changes")"
lintian --fail-on none --pedantic --info --display-info "$changes" >"$T/lintian.txt" 2>&1 ||
  { cat "$T/lintian.txt" >&2; fail "lintian did not run"; }
grep -E '^[EWIPX]: ' "$T/lintian.txt" || echo "(no tags)"
if grep -q '^E: ' "$T/lintian.txt"; then
  fail "lintian reports errors"
fi

echo "# dpkg-deb -c $(basename "$deb")"
dpkg-deb -c "$deb" | tee "$T/contents.txt"
for f in ./usr/sbin/ocppknxd ./usr/sbin/ocppknx-certs ./usr/bin/ocpp-charger-sim \
         ./lib/systemd/system/ocppknxd.service ./etc/ocppknx/ocppknxd.conf \
         ./etc/ocppknx/chargers.d/garage.conf.example \
         ./usr/share/man/man8/ocppknxd.8.gz ./usr/share/man/man5/ocppknxd.conf.5.gz \
         ./usr/share/doc/ocppknxd/copyright; do
  grep -q " $f\$" "$T/contents.txt" || fail "not in the package: $f"
done
# nothing of the build or test tree ends up installed
grep -Eq 'test_|fuzz_|bench_|\.a$|/include/' "$T/contents.txt" &&
  fail "test or development files in the package"

root=$T/root
dpkg -x "$deb" "$root"
daemon=$root/usr/sbin/ocppknxd
missing=$(ldd "$daemon" | grep 'not found' || true)
[ -z "$missing" ] || fail "installed ocppknxd misses libraries: $missing"
grep -qx 'Type=notify' "$root/lib/systemd/system/ocppknxd.service" ||
  fail "installed unit is not Type=notify"

# The example configuration names its other files relative to itself
# (chargers.d, certs/), so it works in the unpacked root as it is; the
# charger example becomes an active charger file, as the installer does.
conf=$root/etc/ocppknx/ocppknxd.conf
cp "$root/etc/ocppknx/chargers.d/garage.conf.example" "$root/etc/ocppknx/chargers.d/garage.conf"
echo "# installed ocppknxd --check-config"
out=$("$daemon" -c "$conf" --check-config 2>&1) || fail "check of the installed example failed: $out"
echo "$out"
grep -q 'configuration OK (1 chargers)' <<<"$out" || fail "unexpected check output: $out"

# the same binary must also see a broken installed charger file
echo 'no_such_key = 1' >>"$root/etc/ocppknx/chargers.d/garage.conf"
rc=0
out=$("$daemon" -c "$conf" --check-config 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "--check-config accepted an unknown key: $out"
grep -q "garage.conf:[0-9]*:.*no_such_key" <<<"$out" ||
  fail "the error does not name the installed file and key: $out"
echo "# package OK: $(basename "$deb"), $(grep -c . "$T/contents.txt") entries"
