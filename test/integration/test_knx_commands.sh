#!/bin/bash
# Every command object: a write on the bus becomes the OCPP call the
# simulator receives; an accepted command moves the state objects, a
# rejected one re-sends the true state. CP1: defaults (9/7/x), CP2:
# stop_mode pause with DPT 9.021 currents (9/1/x), CP3: start_mode auto
# (9/2/x).
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1
write_charger_at CP2 1 'stop_mode = pause
current_dpt = 9.021'
write_charger_at CP3 2 'start_mode = auto'
start_gateway
start_monitor
printf 'heartbeat\n' >"$T/idle.sim"
start_sim a CP1 "$T/idle.sim"
start_sim b CP2 "$T/idle.sim"
start_sim c CP3 "$T/idle.sim"
expect_bus ' to 9/7/52: 01$'
expect_bus ' to 9/1/52: 01$'
expect_bus ' to 9/2/52: 01$'

limit_is() {   # the limit of the last SetChargingProfile of sim $1
  echo "p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit'] == $2"
}

# ---- CP1 ---------------------------------------------------------------
# charging 1: RemoteStartTransaction with remote_tag; the charger starts
bus_mark
knx_swrite 9/7/2 1
ocpp_wait_count a call RemoteStartTransaction 1
ocpp_check a call RemoteStartTransaction 'p == {"connectorId": 1, "idTag": "KNX"}' \
  "charging 1 did not send RemoteStartTransaction idTag KNX"
ocpp_wait_count a answer StartTransaction 1
TX=$(ocpp_get a answer StartTransaction 'p["transactionId"]')
expect_bus_new ' to 9/7/1: 01$'

# max_current in DPT 14.019: 16.0 A
bus_mark
knx_write 9/7/42 $(knx_dpt f14 16)
ocpp_wait_count a call SetChargingProfile 1
ocpp_check a call SetChargingProfile "$(limit_is a 16) and p['csChargingProfiles']['chargingSchedule']['chargingRateUnit'] == 'A'" \
  "max_current 16 A did not become a 16 A limit"
expect_bus_new " to 9/7/41: $(knx_dpt f14 16)$"

# fast_charging 0 / 1: normal_current 10 A / fast_current 16 A
bus_mark
knx_swrite 9/7/44 0
ocpp_wait_count a call SetChargingProfile 2
ocpp_check a call SetChargingProfile "$(limit_is a 10)" "fast_charging 0 did not set 10 A"
expect_bus_new ' to 9/7/43: 00$'
expect_bus_new " to 9/7/41: $(knx_dpt f14 10)$"
bus_mark
knx_swrite 9/7/44 1
ocpp_wait_count a call SetChargingProfile 3
ocpp_check a call SetChargingProfile "$(limit_is a 16)" "fast_charging 1 did not set 16 A"
expect_bus_new ' to 9/7/43: 01$'
expect_bus_new " to 9/7/41: $(knx_dpt f14 16)$"

# charging 0: RemoteStopTransaction of the running transaction
bus_mark
knx_swrite 9/7/2 0
ocpp_wait_count a call RemoteStopTransaction 1
ocpp_check a call RemoteStopTransaction "p == {'transactionId': $TX}" \
  "charging 0 did not stop transaction $TX"
expect_bus_new ' to 9/7/1: 00$'
sim_cmd a "unplug 1"
expect_bus ' to 9/7/51: 00$'

# reserve 1 / 0
bus_mark
knx_swrite 9/7/3 1
ocpp_wait_count a call ReserveNow 1
ocpp_check a call ReserveNow 'p["connectorId"] == 1 and p["idTag"] == "KNX" and isinstance(p["reservationId"], int)' \
  "reserve 1 did not send ReserveNow for KNX on connector 1"
EXP=$(ocpp_get a call ReserveNow 'p["expiryDate"]')
/usr/bin/python3 -c '
import datetime, sys
exp = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
left = (exp - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
sys.exit(0 if 29 * 60 <= left <= 30 * 60 + 5 else f"expiry {left:.0f} s ahead")' "$EXP" ||
  fail "ReserveNow expiry is not reservation_minutes (30) ahead"
RES=$(ocpp_get a call ReserveNow 'p["reservationId"]')
expect_bus_new ' to 9/7/0: 06 $'
bus_mark
knx_swrite 9/7/3 0
ocpp_wait_count a call CancelReservation 1
ocpp_check a call CancelReservation "p == {'reservationId': $RES}" \
  "reserve 0 did not cancel reservation $RES"
expect_bus_new ' to 9/7/0: 00 $'

# availability 0 / 1
bus_mark
knx_swrite 9/7/5 0
ocpp_wait_count a call ChangeAvailability 1
ocpp_check a call ChangeAvailability 'p == {"connectorId": 1, "type": "Inoperative"}' \
  "availability 0 did not send ChangeAvailability Inoperative"
expect_bus_new ' to 9/7/4: 00$'
bus_mark
knx_swrite 9/7/5 1
ocpp_wait_count a call ChangeAvailability 2
ocpp_check a call ChangeAvailability 'p == {"connectorId": 1, "type": "Operative"}' \
  "availability 1 did not send ChangeAvailability Operative"
expect_bus_new ' to 9/7/4: 01$'

# unlock 1 (0 does nothing)
knx_swrite 9/7/6 0
knx_swrite 9/7/6 1
ocpp_wait_count a call UnlockConnector 1
ocpp_check a call UnlockConnector 'p == {"connectorId": 1}' "unlock did not send UnlockConnector"

# rejected commands: the state object gets the truth again
sim_cmd a "answer ChangeAvailability reject"
bus_mark
knx_swrite 9/7/5 0
ocpp_wait_count a call ChangeAvailability 3
expect_bus_new ' to 9/7/4: 01$'
expect_log 'CP1: connector 1: ChangeAvailability rejected: re-sending availability_state 1'

sim_cmd a "answer SetChargingProfile reject"
bus_mark
knx_write 9/7/42 $(knx_dpt f14 12)
ocpp_wait_count a call SetChargingProfile 4
expect_bus_new " to 9/7/41: $(knx_dpt f14 16)$"
[ "$(count_bus_new " to 9/7/41: $(knx_dpt f14 12)$")" -eq 0 ] ||
  fail "a rejected limit was shown as max_current_state"

sim_cmd a "answer RemoteStartTransaction reject"
bus_mark
knx_swrite 9/7/2 1
ocpp_wait_count a call RemoteStartTransaction 2
expect_bus_new ' to 9/7/1: 00$'
[ "$(ocpp_count a sent StartTransaction)" -eq 1 ] || fail "a rejected start started"

# reset 1: Reset Soft (0 does nothing); last, the simulator reboots
knx_swrite 9/7/101 0
knx_swrite 9/7/101 1
ocpp_wait_count a call Reset 1
ocpp_check a call Reset 'p == {"type": "Soft"}' "reset did not send Reset Soft"
[ "$(ocpp_count a call UnlockConnector)" -eq 1 ] || fail "unlock 0 sent UnlockConnector"
sleep 0.2
[ "$(ocpp_count a call Reset)" -eq 1 ] || fail "reset 0 sent a Reset"

# ---- CP2: stop_mode pause, DPT 9.021 -------------------------------------
sim_cmd b "plug 1"
sim_cmd b "start 1 TAGB 0"
expect_bus ' to 9/1/1: 01$'
bus_mark
knx_write 9/1/42 $(knx_dpt f9 16000)
ocpp_wait_count b call SetChargingProfile 1
ocpp_check b call SetChargingProfile "$(limit_is b 16)" \
  "max_current 16000 mA (DPT 9.021) did not become a 16 A limit"
expect_bus_new " to 9/1/41: $(knx_dpt f9 16000)$"
bus_mark
knx_swrite 9/1/2 0
ocpp_wait_count b call SetChargingProfile 2
ocpp_check b call SetChargingProfile "$(limit_is b 0)" "charging 0 in pause mode did not set 0 A"
expect_bus_new ' to 9/1/1: 00$'
bus_mark
knx_swrite 9/1/2 1
ocpp_wait_count b call SetChargingProfile 3
ocpp_check b call SetChargingProfile "$(limit_is b 16)" \
  "charging 1 after a pause did not restore the 16 A limit"
expect_bus_new ' to 9/1/1: 01$'
[ "$(ocpp_count b call RemoteStopTransaction)" -eq 0 ] || fail "pause mode sent RemoteStopTransaction"
[ "$(ocpp_count b call RemoteStartTransaction)" -eq 0 ] || fail "resume sent RemoteStartTransaction"

# ---- CP3: start_mode auto ------------------------------------------------
[ "$(ocpp_count c call RemoteStartTransaction)" -eq 0 ] || fail "auto start before plugging in"
bus_mark
sim_cmd c "plug 1"
ocpp_wait_count c call RemoteStartTransaction 1
ocpp_check c call RemoteStartTransaction 'p["connectorId"] == 1 and len(p["idTag"]) > 0' \
  "status Preparing did not lead to RemoteStartTransaction"
expect_bus_new ' to 9/2/1: 01$'

validate_frames a
validate_frames b
validate_frames c
note "knx_commands passed"
