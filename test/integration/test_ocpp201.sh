#!/bin/bash
# An OCPP 2.0.1 charger through the real daemon and a real knxd: the
# simulator in 2.0.1 mode, the KNX objects it drives and the KNX commands
# it gets as 2.0.1 messages, the charger's string transaction id in the
# store and the CSV export, an offline replay of TransactionEvents after a
# gateway restart, and a charger offering both versions under each
# ocpp_version. Every frame the gateway sends passes the 2.0.1 schemas.
source "$TEST_SRC/lib.sh"

start_bus
write_config "meter_sample_interval = 30"
write_charger CP1
write_charger_at BOTHAUTO 1 "ocpp_version = auto"
write_charger_at BOTH201 2 "ocpp_version = 2.0.1"
start_gateway
start_monitor

# ---- a session ----------------------------------------------------------------
cat >"$T/a.sim" <<'SIM'
authorize TAG1
plug 1
start 1 TAG1 1000
meter 1 energy=1500 current.L1=16 current.L2=15 current.L3=14 power=10580 voltage=230
SIM
bus_mark
start_sim a CP1 "$T/a.sim" --ocpp 2.0.1
ocpp_wait_count a answer TransactionEvent 2
expect_log "CP1: connected from 127\.0\.0\.1:[0-9]+, ocpp2\.0\.1"
ocpp_check a answer BootNotification \
  'p["status"] == "Accepted" and p["interval"] == 60' "BootNotification not Accepted"
ocpp_check a answer Authorize 'p == {"idTokenInfo": {"status": "Accepted"}}' \
  "Authorize not answered with idTokenInfo Accepted"
ocpp_check a answer TransactionEvent \
  'p == {"idTokenInfo": {"status": "Accepted"}}' --any "Started not answered with the tag's status"
ocpp_check a call GetBaseReport 'p["reportBase"] == "FullInventory"' \
  "no FullInventory report asked after boot"
REPORT=$(ocpp_get a call GetBaseReport 'p["requestId"]')
[ "$(ocpp_count a sent NotifyReport)" -gt 1 ] || fail "the simulator sent its report in one part"
ocpp_check a sent NotifyReport "p['requestId'] == $REPORT and p['tbc'] is False" \
  "the report's last part does not end it"
ocpp_check a answer NotifyReport 'p == {}' --all "a part of the report not answered {}"
expect_log "CP1: report $REPORT complete after [0-9]+ parts"
expect_log "CP1: smart charging: rate unit A,W"
[ "$(ocpp_count a call GetVariables)" -eq 0 ] || fail "GetVariables sent though the report had the rate unit"
ocpp_check a call SetVariables \
  '{"attributeValue": "30", "component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}} in p["setVariableData"]' \
  --any "TxUpdatedInterval not set to meter_sample_interval"
TX=$(ocpp_get a sent TransactionEvent 'p["transactionInfo"]["transactionId"]')

# the KNX objects: online, last tag, status Charging, charging state, energy
expect_bus_new " to 9/7/52: 01$"
expect_bus_new " to 9/7/50: 54 41 47 31 00 "
expect_bus_new " to 9/7/51: 01$"
expect_bus_new " to 9/7/1: 01$"
expect_bus_new " to 9/7/0: 02 $"          # Charging
expect_bus_new " to 9/7/11: $(knx_dpt i13 500)$"
expect_bus_new " to 9/7/40: $(knx_dpt f14 16)$"
expect_bus_new " to 9/7/45: $(knx_dpt f14 10580)$"

status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "status of the 2.0.1 charger is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cp = next(c for c in st["chargers"] if c["id"] == "CP1")
assert cp["ocpp_version"] == "2.0.1", cp
assert cp["evse_count"] == 1, cp
k = cp["connectors"][0]
assert k["status"] == "Charging" and k["transaction_id"] > 0, k
assert abs(k["session_energy_wh"] - 500) < 0.01, k
PY

# ---- KNX commands as 2.0.1 messages -------------------------------------------
knx_write 9/7/42 $(knx_dpt f14 8)
ocpp_wait_count a call SetChargingProfile 1
ocpp_check a call SetChargingProfile \
  'p["evseId"] == 1 and p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 8' \
  "max_current did not send an 8 A profile for EVSE 1"
expect_bus " to 9/7/41: $(knx_dpt f14 8)$"
knx_swrite 9/7/101 1
ocpp_wait_count a call Reset 1
ocpp_check a call Reset 'p == {"type": "OnIdle"}' "reset did not send Reset OnIdle"
knx_swrite 9/7/2 0
ocpp_wait_count a call RequestStopTransaction 1
ocpp_check a call RequestStopTransaction "p == {\"transactionId\": \"$TX\"}" \
  "charging 0 did not stop the charger's transaction by its id"
ocpp_wait_count a answer TransactionEvent 3
expect_bus " to 9/7/1: 00$"
expect_bus " to 9/7/0: 05 $"       # Finishing: ended, still plugged
expect_bus " to 9/7/10: "
sim_cmd a "unplug 1"
expect_bus " to 9/7/0: 00 $"
expect_bus " to 9/7/51: 00$"

# ---- KNX feedback of reserve, availability and unlock on the bus ---------------
# accepted: the charger's StatusNotification shows the new state, and
# availability_state takes the command's value
bus_mark
knx_swrite 9/7/3 1
ocpp_wait_count a call ReserveNow 1
ocpp_check a call ReserveNow 'p["evseId"] == 1 and p["idToken"]["type"] == "Central"' \
  "reserve 1 did not send ReserveNow for EVSE 1"
expect_bus_new " to 9/7/0: 06 $"        # Reserved
bus_mark
knx_swrite 9/7/3 0
ocpp_wait_count a call CancelReservation 1
expect_bus_new " to 9/7/0: 00 $"
bus_mark
knx_swrite 9/7/5 0
ocpp_wait_count a call ChangeAvailability 1
ocpp_check a call ChangeAvailability 'p == {"operationalStatus": "Inoperative", "evse": {"id": 1}}' \
  "availability 0 did not send ChangeAvailability Inoperative for EVSE 1"
expect_bus_new " to 9/7/4: 00$"
expect_bus_new " to 9/7/0: 07 $"        # Unavailable
bus_mark
knx_swrite 9/7/5 1
ocpp_wait_count a call ChangeAvailability 2
expect_bus_new " to 9/7/4: 01$"
expect_bus_new " to 9/7/0: 00 $"
knx_swrite 9/7/6 1
ocpp_wait_count a call UnlockConnector 1
ocpp_check a call UnlockConnector 'p == {"evseId": 1, "connectorId": 1}' \
  "unlock did not send UnlockConnector for EVSE 1 connector 1"
expect_log "CP1: connector 1: UnlockConnector accepted"
# rejected: the true state again, never the command's
sim_cmd a "answer ReserveNow reject"
sim_cmd a "answer ChangeAvailability reject"
sim_cmd a "answer UnlockConnector reject"
bus_mark
knx_swrite 9/7/3 1
ocpp_wait_count a call ReserveNow 2
expect_log "CP1: connector 1: ReserveNow rejected"
knx_swrite 9/7/5 0
ocpp_wait_count a call ChangeAvailability 3
expect_bus_new " to 9/7/4: 01$"
expect_log "CP1: connector 1: ChangeAvailability rejected: re-sending availability_state 1"
knx_swrite 9/7/6 1
ocpp_wait_count a call UnlockConnector 2
expect_log "CP1: connector 1: UnlockConnector rejected"
[ "$(count_bus_new " to 9/7/0: 0[67] $")" -eq 0 ] ||
  fail "a rejected reservation or availability changed the status on the bus"
[ "$(count_bus_new " to 9/7/4: 00$")" -eq 0 ] ||
  fail "a rejected availability 0 was shown as availability_state 0"
for a in ReserveNow ChangeAvailability UnlockConnector; do sim_cmd a "answer $a accept"; done
validate_frames a

export_sessions "$T/s1.csv"
grep -q "^CP1,1,$TX,TAG1," "$T/s1.csv" || fail "CSV does not list the charger's id: $(cat "$T/s1.csv")"

# ---- offline: events stored by the charger, replayed after a restart -----------
cat >"$T/b.sim" <<'SIM'
plug 1
start 1 TAG1 5000
meter 1 energy=5200
SIM
start_sim b CP1 "$T/b.sim" --ocpp 2.0.1
ocpp_wait_count b answer TransactionEvent 2
TX2=$(ocpp_get b sent TransactionEvent 'p["transactionInfo"]["transactionId"]')
sim_cmd b "offline"
expect_log "CP1: disconnected"
stop_gateway
sim_cmd b "meter 1 energy=5600"
sim_cmd b "stop 1 6000 Local"
restart_gateway
sim_cmd b "connect"
ocpp_wait_count b answer TransactionEvent 4 100
ocpp_check b sent TransactionEvent 'p["offline"] is True' --any \
  "the simulator did not replay its events with offline"
expect_log "CP1: connector 1: transaction [0-9]+ \(\"$TX2\"\) picked up|CP1: connector 1: transaction [0-9]+ \(\"$TX2\"\) ended"
export_sessions "$T/s2.csv"
/usr/bin/python3 - "$T/s2.csv" "$TX2" <<'PY' || fail "the offline session is not closed once with its energy"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["transaction_id"] == sys.argv[2]]
assert len(rows) == 1, rows
r = rows[0]
assert r["stop"] and float(r["energy_wh"]) == 1000, r
PY
validate_frames b

# ---- a charger that offers both ------------------------------------------------
start_sim c BOTHAUTO "$T/a.sim" --ocpp both
expect_frame c '"event":"connected","detail":"ocpp1\.6"'
# ... and refuses the device model report: read with GetVariables instead
{ echo "answer GetBaseReport reject"; cat "$T/a.sim"; } >"$T/d.sim"
start_sim d BOTH201 "$T/d.sim" --ocpp both
expect_frame d '"event":"connected","detail":"ocpp2\.0\.1"'
ocpp_wait_count d answer TransactionEvent 1
ocpp_wait_count d call GetVariables 1
ocpp_check d call GetVariables \
  '{"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}} in p["getVariableData"]' \
  "the rate unit is not read after a refused report"
ocpp_wait_count d call SetVariables 1

# ---- a tag removed from the list: ClearCache ---------------------------------
printf 'TAG1 = Test card\nGONE = Old card\n' >"$T/tags201.conf"
write_charger_at BOTH201 2 "ocpp_version = 2.0.1
tags_file = $T/tags201.conf"
kill -HUP "$GW_PID"
expect_log_count 'SIGHUP: [0-9]+ charger files loaded' 1
[ "$(ocpp_count d call ClearCache)" -eq 0 ] || fail "a list that only came cleared the cache"
printf 'TAG1 = Test card\n' >"$T/tags201.conf"
kill -HUP "$GW_PID"
expect_log_count 'SIGHUP: [0-9]+ charger files loaded' 2
ocpp_wait_count d call ClearCache 1
ocpp_check d call ClearCache 'p == {}' "ClearCache not sent empty to the 2.0.1 charger"
expect_log 'BOTH201: tag list lost a tag: ClearCache sent'
[ "$(ocpp_count c call ClearCache)" -eq 0 ] || fail "a charger whose list did not change cleared its cache"
validate_frames c
validate_frames d
! grep -q "internal:" "$GW_LOG" || fail "the gateway logged internal errors"
echo "PASS"
