#!/bin/bash
# The energy manager with real processes: three simulated chargers charge
# on a 25 A house connection, knxd is the bus and energy_meter.py plays the
# KNX energy meter (house load + what the chargers draw, every 2 s). The
# house load rises and falls, the meter goes silent, CP1 is switched to pv
# from KNX while the PV system's export comes and goes, and CP4 starts a
# session with a tag whose tag_modes entry is pv. Holds and guards run 15
# times faster (test_time_scale, a test-only key): hold 2 s, restart guard
# 20 s, pv start 4 s, pv stop 20 s. At the end the trace is printed.
source "$TEST_SRC/lib.sh"

METER=$TEST_SRC/energy_meter.py
FUSE=25
HOLD=2
PV_START=4
PV_STOP=20
GUARD=20
STALE=5

start_bus
write_config
cat >>"$T/ocppknxd.conf" <<CONF
[energy]
main_fuse = $FUSE
grid_current_l1 = 1/0/1
grid_current_l2 = 1/0/2
grid_current_l3 = 1/0/3
grid_power = 1/0/4
cheap_tariff = 1/0/5
headroom_state = 1/0/6
safe_current = 6
stale_after = $STALE
test_time_scale = 15
CONF
energy_charger() {   # ID MIDDLE [extra]: 9/MIDDLE/x, the energy objects too
  write_charger_at "$1" "$2" "${3:-}"
  sed -i -e 's/^;\(charge_mode_state\|charge_mode\|allocated_current_state\) /\1 /' \
    "$T/chargers.d/$1.conf"
}
energy_charger CP1 1
energy_charger CP2 2
energy_charger CP3 3
energy_charger CP4 4 'tag_modes = PVTAG:pv, OTHER:now'
house() { printf '%s %s %s %s %s\n' "$1" "$2" "$3" "${4:-0}" "${5:-0}" >"$T/house.new"
          mv "$T/house.new" "$T/house"; }
house 2 2 2

start_gateway
start_monitor
expect_log 'energy manager: 25 A main fuse, 4 chargers'
printf 'heartbeat\n' >"$T/idle.sim"
for n in 1 2 3; do
  printf 'charge 1 CARD%s 600 16\n' "$n" >"$T/car$n.sim"
  start_sim "CP$n" "CP$n" "$T/car$n.sim"
done
start_sim CP4 CP4 "$T/idle.sim"
/usr/bin/python3 "$METER" run "$KNX_URL" "$T" CP1 CP2 CP3 CP4 >"$T/meter.log" 2>&1 &
SIM_PIDS+=($!)

q() { /usr/bin/python3 "$METER" query "$T" "$1"; }
# Each T_* mark is taken before the house changes: the first meter reading
# of the new load comes after it.
now() { date +%s.%N; }
# wait_limit SIM PYTHON-CONDITION-ON-L [tenths]: until the simulator's
# limit in force satisfies it
wait_limit() {
  local i
  for i in $(seq 1 "${3:-100}"); do
    [ "$(q "(lambda l: l is not None and ($2))(limit_at('$1', 1e12))")" = True ] && return 0
    sleep 0.1
  done
  fail "limit of $1 is $(q "limit_at('$1', 1e12)"), not $2"
}

# ---- the chargers are managed: meter values every 10 s at most --------
for n in 1 2 3 4; do
  ocpp_wait_count "CP$n" call ChangeConfiguration 1
  ocpp_check "CP$n" call ChangeConfiguration \
    'p["key"] == "MeterValueSampleInterval" and p["value"] == "10"' --any \
    "CP$n was not asked for MeterValues every 10 s"
done

# ---- three cars share what the 2 A house load leaves: 23/3 A each ------
# (7.6 A; the profile carries 7.5 A, the tenth below that strict schema
# checkers take as a multiple of 0.1)
for n in 1 2 3; do wait_limit "CP$n" 'abs(l - 7.5) < 0.01' 150; done
SETTLED=$(now)
expect_bus " to 9/1/62: $(knx_dpt f14 7.6)\$"   # allocated_current_state
expect_bus ' to 9/1/60: 01 $'            # charge_mode_state: now

# ---- the load rises: the limits drop within one measurement ------------
T_RISE=$(now)
house 13 13 13
for i in $(seq 1 50); do
  [ "$(q "first_meter(lambda e: e['house'] == [13, 13, 13], $T_RISE)")" != None ] && break
  sleep 0.1
done
SEEN=$(q "first_meter(lambda e: e['house'] == [13, 13, 13], $T_RISE)")
[ "$SEEN" != None ] || fail "the meter did not report the higher load"
# 12 A left: two cars at 6 A, the third (the last one) paused
wait_limit CP1 'abs(l - 6) < 0.01' 40
wait_limit CP2 'abs(l - 6) < 0.01' 40
wait_limit CP3 'l == 0' 40
NEXT=$(q "first_meter(lambda e: True, $SEEN)")
[ "$NEXT" != None ] || { sleep 2.5; NEXT=$(q "first_meter(lambda e: True, $SEEN)"); }
for n in 1 2 3; do
  T_LOW=$(q "first_limit('CP$n', lambda l: l <= 6, $T_RISE)")
  [ "$(q "$T_LOW <= $NEXT")" = True ] ||
    fail "CP$n was lowered after the next measurement ($T_LOW > $NEXT)"
done
expect_log 'CP3: connector 1: energy: 0 A \(fuse, mode now\)'

# ---- the load falls: the running cars rise after the hold --------------
T_FALL=$(now)
house 2 2 2
wait_limit CP1 'abs(l - 11.5) < 0.01' 80
wait_limit CP2 'abs(l - 11.5) < 0.01' 80
SEEN=$(q "first_meter(lambda e: e['house'] == [2, 2, 2], $T_FALL)")
T_UP=$(q "first_limit('CP1', lambda l: l > 6, $T_FALL)")
[ "$(q "$T_UP - $SEEN >= $HOLD")" = True ] ||
  fail "CP1 was raised $(q "$T_UP - $SEEN") s after the load fell, before the hold"
# the paused car waits for its restart guard
[ "$(q "limit_at('CP3', 1e12)")" = 0.0 ] || fail "CP3 restarted within its guard"

# ---- the meter goes silent: safe current for every charging car --------
STALE_BEFORE=$(count_log 'energy: grid current missing')
T_SILENT=$(now)
house 2 2 2 0 1
wait_limit CP1 'abs(l - 6) < 0.01' 100
wait_limit CP2 'abs(l - 6) < 0.01' 100
LAST=$(q "max(e['t'] for e in meters() if not e['silent'])")
T_SAFE=$(q "first_limit('CP1', lambda l: abs(l - 6) < 0.01, $T_SILENT)")
[ "$(q "$T_SAFE - $LAST >= $STALE")" = True ] ||
  fail "safe current $(q "$T_SAFE - $LAST") s after the last reading, before stale_after"
[ "$(q "limit_at('CP3', 1e12)")" = 0.0 ] || fail "a paused car was started blind"
expect_log 'energy: grid current missing or older than 5 s \(stale meter\): 6 A'
sleep 3
[ "$(count_log 'energy: grid current missing')" -eq $((STALE_BEFORE + 1)) ] ||
  fail "stale meter not logged exactly once"
house 2 2 2
expect_log 'energy: grid meter back'
# the guard of CP3's pause is over by now: the three share again
for n in 1 2 3; do wait_limit "CP$n" 'abs(l - 7.5) < 0.01' 150; done
T_PAUSE=$(q "first_limit('CP3', lambda l: l == 0, $T_RISE)")
T_BACK=$(q "first_limit('CP3', lambda l: l > 0, $T_PAUSE)")
[ "$(q "$T_BACK - $T_PAUSE >= $GUARD")" = True ] ||
  fail "CP3 restarted $(q "$T_BACK - $T_PAUSE") s after its pause, within the guard"

# ---- CP1 in pv from KNX; the export comes and goes ---------------------
# 24.8 A per phase drawn now: 17.1 kW; a PV system of 23.25 kW exports 6 kW
house 2 2 2 23250
sleep 2.5
bus_mark
knx_write 9/1/61 03
expect_bus_new ' to 9/1/60: 03 $'
expect_log 'CP1: connector 1: charge mode pv'
sleep 3
[ "$(q "limit_at('CP1', 1e12)")" = 7.5 ] || fail "CP1 in pv did not keep charging on the surplus"
T_NOPV=$(now)
house 2 2 2 0
wait_limit CP1 'l == 0' 300
SEEN=$(q "first_meter(lambda e: e['pv'] == 0, $T_NOPV)")
T_OFF=$(q "first_limit('CP1', lambda l: l == 0, $T_NOPV)")
[ "$(q "$T_OFF - $SEEN >= $PV_STOP")" = True ] ||
  fail "pv paused $(q "$T_OFF - $SEEN") s after the surplus ended, before the pv stop delay"
expect_log 'CP1: connector 1: energy: 0 A \(surplus, mode pv\)'

# ---- a tag with tag_modes: CP4's session starts in pv -------------------
bus_mark
sim_cmd CP4 "charge 1 PVTAG 600 16"
expect_log 'CP4: connector 1: tag PVTAG: charge mode pv'
wait_limit CP4 'l == 0' 50
expect_bus_new ' to 9/4/60: 03 $'
expect_log 'CP4: connector 1: energy: 0 A \(surplus, mode pv\)'
T_PV=$(now)
house 2 2 2 40000
wait_limit CP4 'l >= 6' 150
SEEN=$(q "first_meter(lambda e: e['pv'] == 40000, $T_PV)")
T_ON=$(q "first_limit('CP4', lambda l: l >= 6, $T_PV)")
[ "$(q "$T_ON - $SEEN >= $PV_START")" = True ] ||
  fail "CP4 started $(q "$T_ON - $SEEN") s after the surplus came, before the pv start delay"

# ---- never above the fuse once a measurement was there to react to -----
BAD=$(q "over_fuse($FUSE, ['CP1', 'CP2', 'CP3', 'CP4'], $SETTLED)")
[ "$BAD" = "[]" ] || fail "above the fuse: $BAD"

# ---- /status -----------------------------------------------------------
status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "/status has no valid energy object"
import json, sys
s = json.load(open(sys.argv[1]))["energy"]
assert s["main_fuse"] == 25 and s["stale"] is False, s
assert len(s["measured_a"]) == 3 and len(s["budget_a"]) == 3, s
c = {x["charger"]: x for x in s["connectors"]}
assert c["CP4"]["mode"] == "pv" and c["CP4"]["session"] is True, c["CP4"]
assert all(x["reason"] for x in s["connectors"]), s
PY
/usr/bin/python3 - "$PORT" <<'PY' || fail "the status page has no energy manager table"
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5).read().decode()
assert "<h2>Energy manager</h2>" in page and "<td>CP4/1</td><td>pv</td>" in page, page
PY
validate_frames CP1
validate_frames CP4

note "trace (t, house load per phase, grid power, limit per charger):"
/usr/bin/python3 "$METER" print "$T" CP1 CP2 CP3 CP4
