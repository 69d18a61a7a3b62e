#!/usr/bin/env bash
# Checks that the man pages keep up with the code:
#  - every section and key of the tables in gateway/conf_read.c (and every
#    connector object of gateway/conf_values.c) is described in
#    ocppknxd.conf(5), as a ".TP" entry under its own ".SS [section]"
#    heading (connector objects under "[connector N]");
#  - every long and short option of gateway/main.c is a ".TP" entry in
#    the OPTIONS section of ocppknxd(8).
#
# Usage: check-manpages.sh [SOURCE_ROOT]   (default: this file's ../)
# Exit status 0 when everything is documented, 1 otherwise (each missing
# item is printed), 2 when the sources cannot be read or parsed.
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cfg_read_c=$root/gateway/conf_read.c
cfg_values_c=$root/gateway/conf_values.c
main_c=$root/gateway/main.c
man5=$root/packaging/man/ocppknxd.conf.5
man8=$root/packaging/man/ocppknxd.8

for f in "$cfg_read_c" "$cfg_values_c" "$main_c" "$man5" "$man8"; do
  [ -r "$f" ] || { echo "check-manpages: cannot read $f" >&2; exit 2; }
done

# "section key" for each row of the key tables:  {"ocpp", "listen", parse_...
cfg_keys() {
  sed -nE 's/^[[:space:]]*\{"([a-z_]+)", "([a-z_]+)", conf_parse_[a-z_]+,.*/\1 \2/p' "$cfg_read_c"
}

# "connector key" for each KNX object:  [GW_OBJ_STATUS] = {"status", ...
object_keys() {
  sed -nE 's/^[[:space:]]*\[GW_OBJ_[A-Z_]+\] = \{"([a-z_]+)",.*/connector \1/p' "$cfg_values_c"
}

# The section names listed in main_sections[] and charger_sections[].
cfg_sections() {
  sed -nE 's/^static const char \*const [a-z]+_sections\[\] = \{(.*)\};/\1/p' "$cfg_read_c" |
    { grep -oE '"[a-z_]+"' || true; } | tr -d '"'
}

# "section key" for every ".TP" tag ".B key" in the page; the section is the
# word inside the brackets of the last ".SS [...]" heading ("connector N"
# becomes "connector").
documented_keys() {
  awk '
    /^\.SS \[/ { s = $0; sub(/^\.SS \[/, "", s); sub(/[] ].*$/, "", s); sect = s; next }
    /^\.S[HS] / { sect = ""; next }
    prev == ".TP" && /^\.B [a-z_]+$/ && sect != "" { print sect, $2 }
    { prev = $0 }
  ' "$man5"
}

documented_sections() {
  sed -nE 's/^\.SS \[([a-z_]+)( [A-Z])?\].*/\1/p' "$man5"
}

# Long options of main.c's getopt table:  {"check-config", no_argument, ...
long_options() {
  sed -nE 's/^[[:space:]]*\{"([a-z-]+)", (no|required|optional)_argument,.*/\1/p' "$main_c"
}

# Short options: the letters of getopt_long's option string.
short_options() {
  sed -nE 's/.*getopt_long\([^"]*"([A-Za-z:]+)".*/\1/p' "$main_c" | tr -d ':' | fold -w1
}

# Every option word in the ".TP" tags of the OPTIONS section, one per line.
documented_options() {
  awk '
    /^\.SH / { in_opts = ($2 == "OPTIONS"); next }
    in_opts && prev == ".TP" { print }
    { prev = $0 }
  ' "$man8" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' | { grep -oE '(^|[^A-Za-z-])--?[A-Za-z][a-z-]*' || true; } |
    sed -E 's/^[^-]+//'
}

missing=0
report() { echo "check-manpages: $*"; missing=$((missing + 1)); }

rows=$( { cfg_keys; object_keys; } )
sections=$(cfg_sections)
longs=$(long_options)
shorts=$(short_options)
# An unrecognised table layout must not pass as "nothing to check".
if [ "$(wc -l <<<"$rows")" -lt 30 ] || [ -z "$sections" ] || [ -z "$longs" ] ||
   [ -z "$shorts" ]; then
  echo "check-manpages: cannot find the key tables or options in the sources" >&2
  exit 2
fi

keys_doc=$(documented_keys)
while read -r section key; do
  grep -qxF "$section $key" <<<"$keys_doc" ||
    report "ocppknxd.conf.5: key \"$key\" of [$section] is not described"
done <<<"$rows"

sections_doc=$(documented_sections)
for section in $sections connector; do
  grep -qxF "$section" <<<"$sections_doc" ||
    report "ocppknxd.conf.5: section [$section] has no .SS heading"
done

opts_doc=$(documented_options)
for opt in $longs; do
  grep -qxF -- "--$opt" <<<"$opts_doc" ||
    report "ocppknxd.8: option --$opt is not in OPTIONS"
done
for opt in $shorts; do
  grep -qxF -- "-$opt" <<<"$opts_doc" ||
    report "ocppknxd.8: option -$opt is not in OPTIONS"
done

if [ "$missing" -gt 0 ]; then
  echo "check-manpages: $missing item(s) missing"
  exit 1
fi
echo "check-manpages: $(wc -l <<<"$rows") keys, $(wc -w <<<"$longs") long and" \
  "$(wc -w <<<"$shorts") short options documented"
