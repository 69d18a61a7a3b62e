#!/bin/bash
# ocppknxd --draft-charger from the CSV and the XML export of one small
# project (test/data/ets: a German wallbox "Wallbox Garage" on 9/7/x as in
# config/chargers.d/garage.conf, an English two-connector "Carport charger"
# on 9/6/x, one ambiguous meter, some objects missing, one DPT wrong): both
# formats draft the same files, every key of the example charger file is
# there, stderr names what was ambiguous, missing or mistyped, the drafts
# pass --check-config, and a gateway running on the drafted file bridges a
# charger to the groups ETS named, in the DPT ETS gave.
source "$TEST_SRC/lib.sh"

DATA=$TEST_SRC/../data/ets
EXAMPLE=$TEST_SRC/../../config/chargers.d/garage.conf

draft() {   # draft NAME ID MATCH FORMAT: $T/NAME.FORMAT and its stderr
  "$OCPPKNXD" --draft-charger "$2" --ets "$DATA/project.$4" --match "$3" \
    >"$T/$1.$4" 2>"$T/$1.$4.err" || fail "--draft-charger $2 from project.$4 failed: $(cat "$T/$1.$4.err")"
}
for fmt in csv xml; do
  draft garage CP-GARAGE "Wallbox Garage" "$fmt"
  draft carport CP-CARPORT "carport charger" "$fmt"
done
cmp -s "$T/garage.csv" "$T/garage.xml" || fail "CSV and XML give different drafts: $(diff "$T/garage.csv" "$T/garage.xml")"
cmp -s "$T/carport.csv" "$T/carport.xml" || fail "CSV and XML give different carport drafts"
note "CSV and XML export draft the same files"

# The other encodings and separators ETS offers for the CSV export.
tail -c +4 "$DATA/project.csv" >"$T/utf8-no-bom.csv"
iconv -f UTF-8 -t CP1252 "$T/utf8-no-bom.csv" >"$T/cp1252.csv"
iconv -f UTF-8 -t UTF-16 "$T/utf8-no-bom.csv" >"$T/utf16.csv"
sed 's/";"/","/g' "$T/utf8-no-bom.csv" >"$T/comma.csv"
sed 's/";"/"\t"/g' "$T/utf8-no-bom.csv" >"$T/tab.csv"
for v in utf8-no-bom cp1252 utf16 comma tab; do
  "$OCPPKNXD" --draft-charger CP-GARAGE --ets "$T/$v.csv" --match "Wallbox Garage" \
    >"$T/garage-$v" 2>"$T/garage-$v.err" || fail "$v.csv: $(cat "$T/garage-$v.err")"
  cmp -s "$T/garage.csv" "$T/garage-$v" || fail "$v.csv drafts another file: $(diff "$T/garage.csv" "$T/garage-$v")"
  sed "s|$T/$v.csv|X|" "$T/garage-$v.err" | cmp -s - <(sed "s|$DATA/project.csv|X|" "$T/garage.csv.err") \
    || fail "$v.csv: other notes: $(cat "$T/garage-$v.err")"
done
note "the CSV without BOM, in Windows-1252, in UTF-16, with commas and with tabs: the same draft"

# value KEY FILE [SECTION]: the value of an active line (comment stripped)
value() {
  awk -v key="$1" -v sect="${3:-}" '
    /^\[/ { cur = $0; sub(/[[:space:]]*;.*/, "", cur) }
    /^[a-z_]+[[:space:]]*=/ && (sect == "" || cur == sect) {
      line = $0; sub(/[[:space:]]+;.*/, "", line)
      split(line, kv, /[[:space:]]*=[[:space:]]*/)
      if (kv[1] == key) { print kv[2]; exit }
    }' "$2"
}
keys_of() { grep -Eo '^;?[a-z_]+ =' "$1" | tr -d ';=' | tr -d ' ' | sort -u; }

# Every key of the example file, charger and connector, is in the draft.
missing=$(comm -23 <(keys_of "$EXAMPLE") <(keys_of "$T/garage.csv"))
[ -z "$missing" ] || fail "keys of garage.conf not in the draft: $missing"

# The garage's objects are the example file's addresses, except the three
# the project does not have (reserve, reset) or has twice (meter).
objects=$(sed -n '/^\[connector 1\]/,$p' "$EXAMPLE" | grep -Eo '^[a-z_]+' | sort -u)
n=0
for k in $objects; do
  want=$(value "$k" "$EXAMPLE" "[connector 1]")
  got=$(value "$k" "$T/garage.csv" "[connector 1]")
  case $k in
    reserve|reset|meter)
      [ -z "$got" ] || fail "$k has $got although the project has no single group for it";;
    *)
      [ "$got" = "$want" ] || fail "$k = '$got', want '$want' (as in garage.conf)"
      n=$((n + 1));;
  esac
done
[ "$n" -eq 20 ] || fail "$n objects compared, want 20"
[ "$(value name "$T/garage.csv")" = "Wallbox Garage" ] || fail "name is not the match text"
[ "$(value current_dpt "$T/garage.csv")" = "9.021" ] || fail "current_dpt does not follow ETS (DPST-9-21)"
grep -qx ';   ETS: Wallbox Garage Ladestrom' "$T/garage.csv" || fail "no ETS name beside max_current"
note "garage: $n objects on the example file's addresses, current_dpt 9.021 from ETS"

err=$T/garage.csv.err
grep -qF 'ambiguous: connector 1 meter: "Wallbox Garage Zählerstand" (9/7/46) and "Wallbox Garage Energie gesamt" (9/7/47): neither is taken' "$err" \
  || fail "the ambiguous meter is not named: $(cat "$err")"
grep -qF 'not found: connector 1: reserve, reset, meter' "$err" || fail "missing objects not named: $(cat "$err")"
grep -qF 'not used: "Wallbox Garage Beleuchtung" (9/7/53)' "$err" || fail "unused group not named"
[ "$(wc -l <"$err")" -eq 3 ] || fail "garage: more on stderr than expected: $(cat "$err")"

# The carport: English names under the middle group, two connectors.
c=$T/carport.xml
[ "$(value status "$c" "[connector 1]")" = 9/6/0 ] || fail "carport connector 1 status"
[ "$(value charging_state "$c" "[connector 2]")" = 9/6/11 ] || fail "carport connector 2 charging_state"
[ "$(value charging "$c" "[connector 2]")" = 9/6/12 ] || fail "carport connector 2 charging"
[ "$(value max_current_state "$c" "[connector 1]")" = 9/6/4 ] || fail "carport max_current_state"
[ "$(value online "$c" "[connector 1]")" = 9/6/20 ] || fail "a charger-wide object goes to connector 1"
[ "$(value meter_dpt "$c")" = 13.010 ] || fail "meter_dpt does not follow ETS (DPST-13-10)"
[ "$(value power_dpt "$c")" = 14.056 ] || fail "power_dpt changed by a main-number DPT-14"
grep -qF 'DPT: ETS gives 9.001 for "Connector 2 Current" (9/6/13), current is 14.019 or 9.021' "$c.err" \
  || fail "the wrong DPT is not named: $(cat "$c.err")"
note "carport: two connectors, meter_dpt 13.010 from ETS, the 9.001 current named"

# Without an export: every object commented out.
"$OCPPKNXD" --draft-charger CP-EMPTY >"$T/empty.conf" || fail "--draft-charger without --ets failed"
[ -z "$(sed -n '/^\[connector 1\]/,$p' "$T/empty.conf" | grep -E '^[a-z_]+ =')" ] \
  || fail "an object is active without an export"

write_config
cp "$T/garage.csv" "$T/chargers.d/garage.conf"
cp "$T/carport.xml" "$T/chargers.d/carport.conf"
cp "$T/empty.conf" "$T/chargers.d/empty.conf"
out=$("$OCPPKNXD" -c "$T/ocppknxd.conf" --check-config 2>&1) || fail "--check-config refused the drafts: $out"
echo "$out" | grep -q 'configuration OK (3 chargers)' || fail "unexpected --check-config output: $out"
note "the three drafts pass --check-config"

# Bad input: clear messages and exit codes.
expect_exit() {   # expect_exit CODE ERE ARGS...
  local code=$1 re=$2 rc=0
  shift 2
  "$OCPPKNXD" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, want $code"
  grep -Eq "$re" "$T/err" || fail "$*: stderr does not match '$re': $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "$*: printed a file on failure"
}
expect_exit 2 'cannot be a charger identity' --draft-charger 'a/b'
expect_exit 1 'cannot read' --draft-charger CP --ets "$T/nonexistent.csv"
printf '<GroupAddress-Export>\n<GroupRange Name="x">\n</GroupAddress-Export>\n' >"$T/broken.xml"
expect_exit 1 'broken\.xml: broken XML: line 3' --draft-charger CP --ets "$T/broken.xml"
printf '"Name";"Value"\n"a";"b"\n' >"$T/other.csv"
expect_exit 1 'no "Address" column' --draft-charger CP --ets "$T/other.csv"
expect_exit 2 'go with --draft-charger' --ets "$DATA/project.csv"

# The drafted file in use: the charger online on the group ETS calls
# "Online", a start from the group "Laden Start/Stop", and a limit written
# in DPT 9.021 (mA), as ETS says the group is.
rm "$T/chargers.d/carport.conf" "$T/chargers.d/empty.conf"
start_bus
start_gateway
start_monitor
printf 'heartbeat\n' >"$T/idle.sim"
start_sim g CP-GARAGE "$T/idle.sim"
expect_bus ' to 9/7/52: 01$'
knx_swrite 9/7/2 1
ocpp_wait_count g call RemoteStartTransaction 1
ocpp_check g call RemoteStartTransaction 'p == {"connectorId": 1, "idTag": "KNX"}' \
  "a write to 9/7/2 did not start charging"
expect_bus ' to 9/7/1: 01$'
bus_mark
knx_write 9/7/42 $(knx_dpt f9 16000)
ocpp_wait_count g call SetChargingProfile 1
ocpp_check g call SetChargingProfile \
  "p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit'] == 16" \
  "16000 mA on 9/7/42 did not become a 16 A limit"
expect_bus_new " to 9/7/41: $(knx_dpt f9 16000)$"
validate_frames g
note "the gateway bridges the drafted charger: online, start, limit in 9.021"
