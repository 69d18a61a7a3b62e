#!/bin/bash
# A billing backend's current cap against the local KNX limit, with a real
# knxd bus: the charger (the simulator) always gets the lower of the two
# and max_current_state on the bus says what it got. KNX max_current 16 A,
# then the backend's SetChargingProfile 10 A: the charger gets 10 A; KNX
# down to 6 A: 6 A; KNX up to 16 A again: 10 A (the backend's cap still
# holds); the backend's ClearChargingProfile: 16 A. Each step is also
# checked in /status (the limit and who set it). Every frame on both links
# is checked against the schemas.
source "$TEST_SRC/lib.sh"

# result LOG ACTION: the status of the last answer to ACTION, "none" before
result() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
log, action = sys.argv[1], sys.argv[2]
got = [e for e in map(json.loads, open(log))
       if e.get("event") == "result" and e["action"] == action]
print((got[-1]["payload"] or {}).get("status", got[-1]["error"]) if got else "none")
PY
}
wait_result() {
  local i
  for i in $(seq 1 150); do
    [ "$(result "$1" "$2")" != none ] && return 0
    sleep 0.1
  done
  fail "the backend got no answer to $2"
}

start_bus
start_monitor
BPORT=$(free_port)
BLOG=$T/backend.log
cat >"$T/cap.csms" <<EOF2
after BootNotification
await $T/go-cap
call SetChargingProfile {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 3, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}}
await $T/go-clear
call ClearChargingProfile {"connectorId": 1}
EOF2
start_backend "$BLOG" --script "$T/cap.csms"
upstream_charger_up "$BLOG"
expect_bus ' to 9/7/52: 01$'

# limit_step WHAT AMPS: the next SetChargingProfile the charger gets
# limits AMPS in A, and max_current_state goes to AMPS on the bus
PROFILES=0
limit_step() {
  local what=$1 amps=$2
  PROFILES=$((PROFILES + 1))
  ocpp_wait_count cp call SetChargingProfile "$PROFILES" 100
  ocpp_check cp call SetChargingProfile \
    "p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit'] == $amps and p['csChargingProfiles']['chargingSchedule']['chargingRateUnit'] == 'A'" \
    "$what: the charger did not get $amps A"
  expect_bus_new " to 9/7/41: $(knx_dpt f14 "$amps")$"
}

# (a) KNX 16 A, then the backend's 10 A: the charger gets 10 A
bus_mark
knx_write 9/7/42 $(knx_dpt f14 16)
limit_step "KNX max_current 16 A" 16
limit_status 16 'KNX max_current'
bus_mark
touch "$T/go-cap"
wait_result "$BLOG" SetChargingProfile
[ "$(result "$BLOG" SetChargingProfile)" = Accepted ] ||
  fail "SetChargingProfile got $(result "$BLOG" SetChargingProfile)"
limit_step "backend cap 10 A below KNX 16 A" 10
limit_status 10 'billing backend'
note "(a) KNX 16 A, backend 10 A: the charger got 10 A, max_current_state 10 A, /status: set by the billing backend"

# (b) KNX down to 6 A: below the cap, the charger gets 6 A
bus_mark
knx_write 9/7/42 $(knx_dpt f14 6)
limit_step "KNX max_current 6 A under the backend cap" 6
limit_status 6 'KNX max_current'
note "(b) KNX 6 A: the charger got 6 A, max_current_state 6 A, /status: set by KNX max_current"

# (c) KNX up to 16 A again: the cap holds
bus_mark
knx_write 9/7/42 $(knx_dpt f14 16)
limit_step "KNX max_current 16 A over the backend cap" 10
limit_status 10 'billing backend'
[ "$(count_bus_new " to 9/7/41: $(knx_dpt f14 16)$")" -eq 0 ] ||
  fail "max_current_state showed 16 A while the backend caps at 10 A"
note "(c) KNX 16 A again: the charger got 10 A (the backend's cap), max_current_state 10 A, /status: set by the billing backend"

# (d) the backend clears its profile: the local 16 A applies
bus_mark
touch "$T/go-clear"
wait_result "$BLOG" ClearChargingProfile
[ "$(result "$BLOG" ClearChargingProfile)" = Accepted ] ||
  fail "ClearChargingProfile got $(result "$BLOG" ClearChargingProfile)"
limit_step "backend ClearChargingProfile" 16
limit_status 16 'KNX max_current'
note "(d) backend ClearChargingProfile: the charger got 16 A, max_current_state 16 A, /status: set by KNX max_current"

[ "$(ocpp_count cp call ClearChargingProfile)" = 0 ] ||
  fail "the backend's ClearChargingProfile reached the charger"
[ "$(ocpp_count cp call SetChargingProfile)" = "$PROFILES" ] ||
  fail "the charger got $(ocpp_count cp call SetChargingProfile) SetChargingProfile, not $PROFILES"
backend_validate "$BLOG"
validate_frames cp
note "charger got $PROFILES SetChargingProfile (16, 10, 6, 10, 16 A), no ClearChargingProfile"
