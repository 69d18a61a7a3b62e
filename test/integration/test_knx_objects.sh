#!/bin/bash
# Every KNX state object of DESIGN.md's table, end to end: a charger event
# in the simulator becomes the telegram with the exact bytes on the bus.
# Charger CP1 uses the default DPTs (9/7/x), CP2 the alternatives (9/1/x).
source "$TEST_SRC/lib.sh"

export TZ=Europe/Berlin   # local time of the time objects (daemon and checks)
start_bus
write_config
write_charger CP1
write_charger_at CP2 1 'time_dpt = 19.001
current_dpt = 9.021
power_dpt = 9.024
meter_dpt = 13.010'
start_gateway
start_monitor
printf 'heartbeat\n' >"$T/idle.sim"

# on NAME "sim command" ERE...: the command, then each telegram after it
on() {
  local name=$1 cmd=$2
  shift 2
  bus_mark
  sim_cmd "$name" "$cmd"
  local re
  for re in "$@"; do expect_bus_new "$re"; done
}

# check_session NAME ID GROUP ALT: one charger's objects
check_session() {
  local n=$1 id=$2 g=$3 alt=$4
  local cur=16 cur_knx pow_knx meter0 meter1 meter2 time_kind
  if [ "$alt" = 1 ]; then
    cur=10.24
    cur_knx=$(knx_dpt f9 10240)          # 9.021 mA
    pow_knx=$(knx_dpt f9 11.04)          # 9.024 kW
    meter0=$(knx_dpt i13 1500000)        # 13.010 Wh
    meter1=$(knx_dpt i13 1502000)
    meter2=$(knx_dpt i13 1504000)
    time_kind=time19
  else
    cur_knx=$(knx_dpt f14 16)            # 14.019 A
    pow_knx=$(knx_dpt f14 11040)         # 14.056 W
    meter0=$(knx_dpt i13 1500)           # 13.013 kWh
    meter1=$(knx_dpt i13 1502)
    meter2=$(knx_dpt i13 1504)
    time_kind=time10
  fi

  bus_mark
  start_sim "$n" "$id" "$T/idle.sim"
  # connect: online, and the first StatusNotification (Available, NoError)
  expect_bus_new " to $g/52: 01$"
  expect_bus_new " to $g/0: 00 $"
  expect_bus_new " to $g/100: 00 $"
  expect_bus_new " to $g/51: 00$"
  expect_bus_new " to $g/4: 01$"

  # every status the simulator can send, with plugged and availability
  on "$n" "status 1 Preparing" " to $g/0: 01 $" " to $g/51: 01$"
  on "$n" "status 1 Charging" " to $g/0: 02 $"
  on "$n" "status 1 SuspendedEV" " to $g/0: 03 $"
  on "$n" "status 1 SuspendedEVSE" " to $g/0: 04 $"
  on "$n" "status 1 Finishing" " to $g/0: 05 $"
  on "$n" "status 1 Reserved" " to $g/0: 06 $" " to $g/51: 00$"
  on "$n" "status 1 Unavailable" " to $g/0: 07 $" " to $g/4: 00$"
  on "$n" "status 1 Faulted GroundFailure" " to $g/0: 08 $" " to $g/100: 03 $" \
    " to $g/4: 01$"
  on "$n" "status 1 Available" " to $g/0: 00 $" " to $g/100: 00 $"

  # availability_state follows ChangeAvailability (the charger's status)
  bus_mark
  knx_swrite "$g/5" 0
  expect_bus_new " to $g/4: 00$"
  expect_bus_new " to $g/0: 07 $"
  bus_mark
  knx_swrite "$g/5" 1
  expect_bus_new " to $g/4: 01$"
  expect_bus_new " to $g/0: 00 $"

  # a session: start, meter values, stop
  on "$n" "plug 1" " to $g/0: 01 $" " to $g/51: 01$"
  on "$n" "start 1 TAG-1 1500000" " to $g/1: 01$" " to $g/11: 00 00 00 00 $" \
    " to $g/50: $(knx_dpt text16 TAG-1)$" " to $g/0: 02 $"
  local ts
  ts=$(ocpp_get "$n" sent StartTransaction 'p["timestamp"]')
  expect_bus_new " to $g/20: $(knx_dpt $time_kind "$ts")$"
  on "$n" "meter 1 energy=1500000" " to $g/46: $meter0$"
  on "$n" "meter 1 energy=1502000 current=$cur power=11040" \
    " to $g/46: $meter1$" " to $g/11: $(knx_dpt i13 2000)$" \
    " to $g/40: $cur_knx$" " to $g/45: $pow_knx$"
  on "$n" "stop 1 1504000 Local" " to $g/1: 00$" " to $g/46: $meter2$" \
    " to $g/10: $(knx_dpt i13 4000)$" " to $g/11: $(knx_dpt i13 4000)$" \
    " to $g/40: 00 00 $( [ "$alt" = 1 ] || echo '00 00 ')$" " to $g/0: 05 $"
  ts=$(ocpp_get "$n" sent StopTransaction 'p["timestamp"]')
  expect_bus_new " to $g/30: $(knx_dpt $time_kind "$ts")$"
  on "$n" "unplug 1" " to $g/0: 00 $" " to $g/51: 00$"

  # max_current_state and fast_charging_state after accepted commands
  local max16 max10
  if [ "$alt" = 1 ]; then
    max16=$(knx_dpt f9 16000); max10=$(knx_dpt f9 10000)
    # 12500 mA arrives as 12503.04 mA (DPT 9 precision): the charger gets
    # the OCPP step of 0.1 A, 12.5 A, and so does the state
    bus_mark; knx_write "$g/42" $(knx_dpt f9 12500)
    expect_bus_new " to $g/41: $(knx_dpt f9 12500)$"
    ocpp_check "$n" call SetChargingProfile \
      'p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 12.5' \
      "max_current 12503 mA did not become a 12.5 A limit"
  else
    max16=$(knx_dpt f14 16); max10=$(knx_dpt f14 10)
    bus_mark; knx_write "$g/42" $(knx_dpt f14 12.5)
    expect_bus_new " to $g/41: $(knx_dpt f14 12.5)$"
  fi
  bus_mark; knx_swrite "$g/44" 0
  expect_bus_new " to $g/43: 00$"; expect_bus_new " to $g/41: $max10$"
  bus_mark; knx_swrite "$g/44" 1
  expect_bus_new " to $g/43: 01$"; expect_bus_new " to $g/41: $max16$"

  # disconnect: online 0
  on "$n" "disconnect" " to $g/52: 00$"
}

check_session a CP1 9/7 0
check_session b CP2 9/1 1

# CP1 again: every OCPP error code on Faulted, without repeating the status
start_sim c CP1 "$T/idle.sim"
expect_log 'CP1.*(BootNotification|boot)' 50
i=0
for code in NoError ConnectorLockFailure EVCommunicationError GroundFailure \
  HighTemperature InternalError LocalListConflict OtherError \
  OverCurrentFailure OverVoltage PowerMeterFailure PowerSwitchFailure \
  ReaderFailure ResetFailure UnderVoltage WeakSignal; do
  if [ "$i" -gt 0 ]; then
    on c "status 1 Faulted $code" " to 9/7/100: $(knx_dpt u5 $i)$"
  fi
  i=$((i + 1))
done
on c "status 1 Faulted NoError" " to 9/7/100: 00 $"
[ "$(count_bus ' to 9/7/0: 08 $')" -eq 2 ] ||
  fail "status Faulted was re-sent while only the error code changed"

# last_tag: an idTag longer than 14 characters shows its first 14
on c "authorize ABCDEFGHIJKLMNOPQRST" " to 9/7/50: $(knx_dpt text16 ABCDEFGHIJKLMN)$"

# every telegram the gateway sent is a Write; no Read, no Response
gw_src=$(grep -E ' to 9/7/52: ' "$BUS_LOG" | head -n 1 | sed -E 's/^.* from ([0-9.]+) to.*$/\1/')
[ -n "$gw_src" ] || fail "no telegram from the gateway"
[ "$(grep -c "^Write from $gw_src to 9/" "$BUS_LOG")" -gt 80 ] || fail "too few telegrams"
if grep -E "^(Read|Response) from $gw_src " "$BUS_LOG"; then
  fail "the gateway sent something else than writes"
fi
validate_frames a
validate_frames b
note "knx_objects passed"
