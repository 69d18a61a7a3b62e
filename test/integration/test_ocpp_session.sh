#!/bin/bash
# A complete charging session through the real daemon: boot, status,
# authorize, start, meter values in Wh and kWh with per-phase currents,
# stop; the gateway's configuration calls after boot; transaction ids from
# the persisted counter; the three start modes.
source "$TEST_SRC/lib.sh"

start_bus
write_config "meter_sample_interval = 30"
write_charger CP1
write_charger_at CPTAG 1 "start_mode = tag
tags = ALLOWED1"
write_charger_at CPANY 2 "start_mode = any
tags = ALLOWED1"
write_charger_at CPAUTO 3 "start_mode = auto
remote_tag = AUTOTAG"
start_gateway

# ---- one session ----------------------------------------------------------
cat >"$T/a.sim" <<'SIM'
authorize TAG1
plug 1
start 1 TAG1 1000
meter 1 energy=1500 current.L1=16 current.L2=15 current.L3=14 power=10580 voltage=230
meter 1 energy=2500 unit.energy=kWh current.L1=10 current.L2=11 current.L3=9
SIM
start_sim a CP1 "$T/a.sim"
ocpp_wait_count a answer MeterValues 2

ocpp_check a answer BootNotification \
  'p["status"] == "Accepted" and p["interval"] == 60 and p["currentTime"].endswith("Z")' \
  "BootNotification.conf not Accepted with interval 60 and a UTC time"
ocpp_check a answer Authorize 'p == {"idTagInfo": {"status": "Accepted"}}' \
  "Authorize TAG1 not Accepted"
ocpp_check a answer StartTransaction \
  'p["transactionId"] > 0 and p["idTagInfo"]["status"] == "Accepted"' \
  "StartTransaction not Accepted with a transaction id"
ocpp_check a answer MeterValues 'p == {}' --all "MeterValues not answered with {}"
TX1=$(ocpp_get a answer StartTransaction 'p["transactionId"]')

# what the gateway asks for after the boot
ocpp_check a call GetConfiguration \
  '"ChargeProfileMaxStackLevel" in p["key"] and "MeterValuesSampledData" in p["key"]' \
  "no GetConfiguration after boot"
ocpp_check a call ChangeConfiguration \
  'p == {"key": "MeterValueSampleInterval", "value": "30"}' --any \
  "MeterValueSampleInterval not set to meter_sample_interval"
ocpp_check a call TriggerMessage 'p["requestedMessage"] == "StatusNotification"' \
  --any "no TriggerMessage StatusNotification after boot"
# the order: configuration is read before it is changed
first_get=$(grep -n '"GetConfiguration"' "$T/sim-a.log" | head -1 | cut -d: -f1)
first_change=$(grep -n '"ChangeConfiguration"' "$T/sim-a.log" | head -1 | cut -d: -f1)
[ "$first_get" -lt "$first_change" ] || fail "ChangeConfiguration before GetConfiguration"

# the running session as the status output shows it: kWh read as Wh, the
# highest phase current
status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" "$TX1" <<'PY' || fail "status during the session is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cp = next(c for c in st["chargers"] if c["id"] == "CP1")
k = cp["connectors"][0]
assert cp["online"] is True, cp
assert k["status"] == "Charging", k
assert k["transaction_id"] == int(sys.argv[2]), k
assert abs(k["energy_wh"] - 2500) < 0.01, k
assert abs(k["session_energy_wh"] - 1500) < 0.01, k
assert abs(k["current_a"] - 11) < 0.01, k
PY

sim_cmd a "stop 1 3000 Local"
sim_cmd a "unplug 1"
ocpp_wait_count a answer StopTransaction 1
ocpp_check a answer StopTransaction 'p == {"idTagInfo": {"status": "Accepted"}}' \
  "StopTransaction not answered with Accepted"
expect_log "CP1: connector 1: transaction $TX1 stopped \(Local\)"

# ---- a second session gets a higher id -------------------------------------
sim_cmd a "plug 1"
sim_cmd a "start 1 TAG1 3000"
ocpp_wait_count a answer StartTransaction 2
TX2=$(ocpp_get a answer StartTransaction 'p["transactionId"]')
[ "$TX2" -gt "$TX1" ] || fail "second transaction id $TX2 not above $TX1"
sim_cmd a "stop 1 3400 EVDisconnected"
ocpp_wait_count a answer StopTransaction 2
expect_log "CP1: connector 1: transaction $TX2 stopped \(EVDisconnected\)"

# ---- start_mode = tag with an allowed list ----------------------------------
cat >"$T/tag.sim" <<'SIM'
authorize OTHER
authorize ALLOWED1
plug 1
start 1 OTHER 0
SIM
start_sim tag CPTAG "$T/tag.sim"
ocpp_wait_count tag answer StartTransaction 1
ocpp_check tag answer Authorize 'p["idTagInfo"]["status"] == "Invalid"' --nth 0 \
  "start_mode=tag: Authorize of a tag not in the list is not Invalid"
ocpp_check tag answer Authorize 'p["idTagInfo"]["status"] == "Accepted"' --nth 1 \
  "start_mode=tag: Authorize of ALLOWED1 is not Accepted"
ocpp_check tag answer StartTransaction 'p["idTagInfo"]["status"] == "Invalid"' \
  "start_mode=tag: StartTransaction with a tag not in the list is not Invalid"

# ---- start_mode = any --------------------------------------------------------
cat >"$T/any.sim" <<'SIM'
authorize WHATEVER
plug 1
start 1 SOMEONE 0
SIM
start_sim any CPANY "$T/any.sim"
ocpp_wait_count any answer StartTransaction 1
ocpp_check any answer Authorize 'p["idTagInfo"]["status"] == "Accepted"' \
  "start_mode=any: Authorize not Accepted"
ocpp_check any answer StartTransaction \
  'p["idTagInfo"]["status"] == "Accepted" and p["transactionId"] > 0' \
  "start_mode=any: StartTransaction not Accepted"

# ---- start_mode = auto: plugging in starts with the remote tag ---------------
cat >"$T/auto.sim" <<'SIM'
plug 1
expect RemoteStartTransaction 10
SIM
start_sim auto CPAUTO "$T/auto.sim"
ocpp_wait_count auto call RemoteStartTransaction 1
ocpp_check auto call RemoteStartTransaction \
  'p == {"connectorId": 1, "idTag": "AUTOTAG"}' \
  "start_mode=auto: RemoteStartTransaction without connector 1 and remote_tag"
ocpp_wait_count auto answer StartTransaction 1
ocpp_check auto sent StartTransaction 'p["idTag"] == "AUTOTAG"' \
  "start_mode=auto: the charger did not start with the remote tag"
ocpp_check auto answer StartTransaction 'p["idTagInfo"]["status"] == "Accepted"' \
  "start_mode=auto: the remote tag is not accepted"

for s in a tag any auto; do validate_frames "$s"; done
note "ocpp_session passed"
