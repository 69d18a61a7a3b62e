#!/bin/bash
# A billing backend's current cap that is the only limit on a connector,
# then lifted, for a charger of the version given as $1 (1.6 or 2.0.1;
# the simulator plays it) with a real knxd bus. The backend's
# SetChargingProfile 10 A reaches the charger as the gateway's profile;
# its ClearChargingProfile takes that profile back with the gateway's own
# ClearChargingProfile (by id and by purpose), so the charger's maximum
# applies again and /status shows the charger default. A clear that names
# no profile the backend set (another id, a purpose it never used) is
# answered Unknown and changes nothing. A charger that
# answers ClearChargingProfile with NotSupported gets the type 2 maximum
# (80 A) as its limit instead. A charger-wide cap above a connector's own
# never reaches that connector. A link replaced on a reload keeps the
# caps its backend set; when a reload removes the [upstream]
# section, the cap its backend set goes with it. The backend is answered
# Accepted each time; every frame on both links is checked against the
# schemas.
source "$TEST_SRC/lib.sh"

VERSION=${1:-1.6}

# result LOG ACTION N: the status of the Nth answer to ACTION, "none" before
result() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
log, action, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
got = [e for e in map(json.loads, open(log))
       if e.get("event") == "result" and e["action"] == action]
print((got[n - 1]["payload"] or {}).get("status", got[n - 1]["error"])
      if len(got) >= n else "none")
PY
}
# backend_result ACTION N [STATUS]: the backend's Nth ACTION was answered
# STATUS (Accepted)
backend_result() {
  local i
  for i in $(seq 1 150); do
    [ "$(result "$BLOG" "$1" "$2")" != none ] && break
    sleep 0.1
  done
  [ "$(result "$BLOG" "$1" "$2")" = "${3:-Accepted}" ] ||
    fail "the backend's $1 #$2 got $(result "$BLOG" "$1" "$2"), not ${3:-Accepted}"
}

# the limit of a SetChargingProfile the charger got, in either version
if [ "$VERSION" = 2.0.1 ]; then
  LIMIT="p['chargingProfile']['chargingSchedule'][0]['chargingSchedulePeriod'][0]['limit']"
  OWN_PROFILE='p == {"chargingProfileId": 11, "chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}}'
  SIM_OPTS=(--ocpp 2.0.1)
else
  LIMIT="p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit']"
  OWN_PROFILE='p == {"id": 1, "connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile", "stackLevel": 0}'
  SIM_OPTS=()
fi

# charger_limit N AMPS: the Nth SetChargingProfile the charger got limits AMPS
charger_limit() {
  ocpp_wait_count cp call SetChargingProfile "$1" 100
  ocpp_check cp call SetChargingProfile "$LIMIT == $2" \
    "SetChargingProfile #$1: the charger did not get $2 A"
}

start_bus
start_monitor
BPORT=$(free_port)
BLOG=$T/backend.log
CAP='{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT}]}}}'
cat >"$T/lift.csms" <<EOF2
after BootNotification
call ClearChargingProfile {"chargingProfilePurpose": "TxDefaultProfile"}
await $T/go-cap
call SetChargingProfile ${CAP/LIMIT/10}
call ClearChargingProfile {"id": 99}
await $T/go-clear
call ClearChargingProfile {"connectorId": 1}
await $T/go-cap2
call SetChargingProfile ${CAP/LIMIT/8}
await $T/go-clear2
call ClearChargingProfile {"id": 5}
await $T/go-cap3
call SetChargingProfile ${CAP/LIMIT/7}
call SetChargingProfile {"connectorId": 0, "csChargingProfiles": {"chargingProfileId": 6, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}}
EOF2
start_backend "$BLOG" --script "$T/lift.csms"
upstream_charger_up "$BLOG" "${SIM_OPTS[@]}"
expect_bus ' to 9/7/52: 01$'

# a clear of a profile the backend never set: Unknown, nothing for the charger
backend_result ClearChargingProfile 1 Unknown

# (a) the backend's cap, no local limit: the charger gets 10 A; a clear
# naming another profile id leaves it
bus_mark
touch "$T/go-cap"
backend_result SetChargingProfile 1
charger_limit 1 10
expect_bus_new " to 9/7/41: $(knx_dpt f14 10)$"
backend_result ClearChargingProfile 2 Unknown
limit_status 10 'billing backend'
[ "$(ocpp_count cp call ClearChargingProfile)" = 0 ] ||
  fail "a clear of no profile of the backend's reached the charger"
note "(a) $VERSION: backend clears of no profile of its own: Unknown, nothing sent; backend cap 10 A alone: the charger got 10 A, /status: billing backend"

# (b) the backend clears it: the gateway takes its own profile back
touch "$T/go-clear"
backend_result ClearChargingProfile 3
ocpp_wait_count cp call ClearChargingProfile 1 100
ocpp_check cp call ClearChargingProfile "$OWN_PROFILE" \
  "the charger's ClearChargingProfile does not name the gateway's profile"
limit_status none 'charger default'
sleep 0.5
[ "$(ocpp_count cp call SetChargingProfile)" = 1 ] ||
  fail "a SetChargingProfile followed the accepted ClearChargingProfile"
expect_log "CP1: connector 1: current limit lifted"
note "(b) $VERSION: backend ClearChargingProfile: the charger got ClearChargingProfile of the gateway's profile, /status: charger default"

# (c) a charger that does not take ClearChargingProfile gets 80 A
sim_cmd cp "answer ClearChargingProfile notsupported"
touch "$T/go-cap2"
backend_result SetChargingProfile 2
charger_limit 2 8
bus_mark
touch "$T/go-clear2"
backend_result ClearChargingProfile 4
ocpp_wait_count cp call ClearChargingProfile 2 100
charger_limit 3 80
expect_bus_new " to 9/7/41: $(knx_dpt f14 80)$"
expect_log "CP1: connector 1: ClearChargingProfile NotSupported: sending 80\.0 A as the limit instead"
note "(c) $VERSION: ClearChargingProfile answered NotSupported: the charger got SetChargingProfile 80 A"

# (d) a charger-wide 16 A over the connector's own 7 A: the lower holds
touch "$T/go-cap3"
backend_result SetChargingProfile 3
charger_limit 4 7
backend_result SetChargingProfile 4
charger_limit 5 7
ocpp_check cp call SetChargingProfile "$LIMIT != 16" --all \
  "the charger got the charger-wide 16 A over the connector's 7 A"
note "(d) $VERSION: backend 7 A on connector 1, then 16 A for the whole charger: the charger kept 7 A"

# (e) [upstream] changed on a reload: the new link keeps the caps, so the
# backend (restarted on the same port) can still clear its profile by id
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
backend_validate "$BLOG"
BLOG=$T/backend2.log
printf 'after BootNotification\ncall ClearChargingProfile {"id": 6}\n' >"$T/clear.csms"
start_backend "$BLOG" --script "$T/clear.csms"
write_charger CP1
add_upstream CP1 "tags = EMP1, EMP2"
kill -HUP "$GW_PID"
expect_log_count 'SIGHUP: 1 charger files loaded' 1
backend_result ClearChargingProfile 1
charger_limit 6 7
note "(e) $VERSION: [upstream] changed: the new link kept the caps; the backend's ClearChargingProfile of the charger-wide one was Accepted, connector 1 kept its 7 A"

# (f) the [upstream] section removed on a reload: the backend's caps go
write_charger CP1
kill -HUP "$GW_PID"
expect_log_count 'SIGHUP: 1 charger files loaded' 2
ocpp_wait_count cp call ClearChargingProfile 3 100
charger_limit 7 80
note "(f) $VERSION: [upstream] removed with a 7 A cap in force: the charger's limit lifted (80 A, ClearChargingProfile refused)"

backend_validate "$BLOG"
validate_frames cp
note "$VERSION charger: $(ocpp_count cp call SetChargingProfile) SetChargingProfile (10, 8, 80, 7, 7, 7, 80 A), $(ocpp_count cp call ClearChargingProfile) ClearChargingProfile"
