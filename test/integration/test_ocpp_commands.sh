#!/bin/bash
# Commands written on the KNX bus reach the charger as OCPP calls, with the
# fallbacks real chargers need; a call without answer times out and the
# state object gets the truth again.
source "$TEST_SRC/lib.sh"

CALL_TIMEOUT=2
start_bus
write_config
write_charger CP1
write_charger_at CP2 1
start_gateway
start_monitor

cat >"$T/a.sim" <<'SIM'
expect TriggerMessage 10
SIM
start_sim a CP1 "$T/a.sim"
ocpp_wait_count a call TriggerMessage 1

gw() { knxtool groupswrite "$KNX_URL" "$1" "$2" >/dev/null; }

# charging 1: RemoteStartTransaction with the remote tag
gw 9/7/2 1
ocpp_wait_count a call RemoteStartTransaction 1
ocpp_check a call RemoteStartTransaction 'p == {"connectorId": 1, "idTag": "KNX"}' \
  "charging 1 did not send RemoteStartTransaction with idTag KNX"
ocpp_wait_count a answer StartTransaction 1
TX=$(ocpp_get a answer StartTransaction 'p["transactionId"]')
expect_bus ' to 9/7/1: 01$'

# max current 16.0 A (DPT 14)
knxtool groupwrite "$KNX_URL" 9/7/42 41 80 00 00 >/dev/null
ocpp_wait_count a call SetChargingProfile 1
ocpp_check a call SetChargingProfile \
  'p["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"] == "A" and p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16' \
  "max_current 16 A did not become a 16 A profile"

# fast charging 0: the normal current (10 A)
gw 9/7/44 0
ocpp_wait_count a call SetChargingProfile 2
ocpp_check a call SetChargingProfile \
  'p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10' \
  "fast_charging 0 did not set normal_current"

# charging 0: RemoteStopTransaction of the running transaction
gw 9/7/2 0
ocpp_wait_count a call RemoteStopTransaction 1
ocpp_check a call RemoteStopTransaction "p == {'transactionId': $TX}" \
  "charging 0 did not stop transaction $TX"
ocpp_wait_count a answer StopTransaction 1
sim_cmd a "unplug 1"

# reserve 1 / 0: ReserveNow, then CancelReservation of the same reservation
gw 9/7/3 1
ocpp_wait_count a call ReserveNow 1
ocpp_check a call ReserveNow 'p["connectorId"] == 1 and p["idTag"] == "KNX" and p["expiryDate"].endswith("Z")' \
  "reserve 1 did not send ReserveNow"
RES=$(ocpp_get a call ReserveNow 'p["reservationId"]')
ocpp_wait_count a sent StatusNotification 1
gw 9/7/3 0
ocpp_wait_count a call CancelReservation 1
ocpp_check a call CancelReservation "p == {'reservationId': $RES}" \
  "reserve 0 did not cancel reservation $RES"

# availability 0, unlock
gw 9/7/5 0
ocpp_wait_count a call ChangeAvailability 1
ocpp_check a call ChangeAvailability 'p == {"connectorId": 1, "type": "Inoperative"}' \
  "availability 0 did not send ChangeAvailability Inoperative"
gw 9/7/6 1
ocpp_wait_count a call UnlockConnector 1
ocpp_check a call UnlockConnector 'p == {"connectorId": 1}' "unlock did not send UnlockConnector"

# reset
gw 9/7/101 1
ocpp_wait_count a call Reset 1
ocpp_check a call Reset 'p == {"type": "Soft"}' "reset did not send Reset Soft"

# ---- a charger that rejects every charging profile -------------------------------
cat >"$T/b.sim" <<'SIM'
answer SetChargingProfile reject
answer RemoteStartTransaction none
expect TriggerMessage 10
plug 1
start 1 TAGB 0
SIM
start_sim b CP2 "$T/b.sim"
ocpp_wait_count b answer StartTransaction 1
TXB=$(ocpp_get b answer StartTransaction 'p["transactionId"]')
knxtool groupwrite "$KNX_URL" 9/1/42 41 80 00 00 >/dev/null
ocpp_wait_count b call SetChargingProfile 3
ocpp_check b call SetChargingProfile 'p["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile" and p["connectorId"] == 0' \
  --nth 0 "first profile is not ChargePointMaxProfile on connector 0"
ocpp_check b call SetChargingProfile 'p["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile" and p["connectorId"] == 1' \
  --nth 1 "second profile is not TxDefaultProfile on connector 1"
ocpp_check b call SetChargingProfile "p['csChargingProfiles']['chargingProfilePurpose'] == 'TxProfile' and p['csChargingProfiles']['transactionId'] == $TXB" \
  --nth 2 "third profile is not a TxProfile of transaction $TXB"
expect_log "CP2: current limit 16\.0 A not set: Rejected"
sleep 0.3
[ "$(ocpp_count b call SetChargingProfile)" -eq 3 ] || fail "more than three profile attempts"

# no answer to RemoteStartTransaction: timeout, and the true state again
sim_cmd b "stop 1 100 Local"
ocpp_wait_count b answer StopTransaction 1
expect_bus ' to 9/1/1: 00$'
before=$(count_bus ' to 9/1/1: 00$')
gw 9/1/2 1
ocpp_wait_count b call RemoteStartTransaction 1
expect_log "CP2: RemoteStartTransaction: no answer within 2 s" 40
for i in $(seq 1 30); do
  [ "$(count_bus ' to 9/1/1: 00$')" -gt "$before" ] && break
  sleep 0.1
done
[ "$(count_bus ' to 9/1/1: 00$')" -gt "$before" ] \
  || fail "charging state not re-sent after the RemoteStartTransaction timeout"

validate_frames a
validate_frames b
note "ocpp_commands passed"
