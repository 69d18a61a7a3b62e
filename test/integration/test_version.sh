#!/bin/bash
# ocppknxd --version: the daemon's version, then every library with a
# version; those asked at run time are the versions the Debian packages
# installed (pkg-config), the build-time ones are the packages' versions.
source "$TEST_SRC/lib.sh"

out=$("$OCPPKNXD" --version) || fail "--version failed"
echo "$out" | head -1 | grep -Eq '^ocppknxd [0-9]+\.[0-9]+\.[0-9]+$' || fail "first line: $(echo "$out" | head -1)"
line_of() { echo "$out" | grep -E "^$1 " || fail "--version does not name $1: $out"; }
for lib in libuv wolfSSL SQLite jansson yajl wslay libeibclient inih expat; do
  line_of "$lib" | grep -Eq "^$lib [0-9][0-9A-Za-z.+~-]* \((runtime|build)\)$" \
    || fail "no version for $lib: $(line_of "$lib")"
done
# Runtime versions against the installed packages.
for pair in libuv:libuv wolfSSL:wolfssl SQLite:sqlite3 jansson:jansson yajl:yajl expat:expat inih:inih; do
  lib=${pair%%:*} pc=${pair#*:}
  want=$(pkg-config --modversion "$pc") || fail "pkg-config knows no $pc"
  got=$(line_of "$lib" | awk '{print $2}')
  [ "$got" = "$want" ] || fail "$lib: --version says $got, pkg-config $want"
done
for pair in wslay:libwslay-dev libeibclient:knxd-dev; do
  lib=${pair%%:*} pkg=${pair#*:}
  want=$(dpkg-query -W -f='${Version}' "$pkg")
  got=$(line_of "$lib" | awk '{print $2}')
  [ "$got" = "$want" ] || fail "$lib: --version says $got, the package $want"
done
[ "$("$OCPPKNXD" -V)" = "$out" ] || fail "-V and --version differ"
note "$(echo "$out" | tr '\n' ' ')"
