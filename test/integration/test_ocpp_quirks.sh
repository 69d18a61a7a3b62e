#!/bin/bash
# How real chargers break the rules (charger-quirks.md), and that the
# gateway takes each of them without losing data.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CPQ
write_charger_at CPNOBOOT 1
write_charger_at CPNOPROTO 2
start_gateway

# a charger that never sends a BootNotification is asked for one
start_sim nb CPNOBOOT /dev/null --no-boot
# and one that offers no subprotocol works as ocpp1.6
printf 'heartbeat\nplug 1\nstart 1 TAGP 100\nstop 1 600 Local\n' >"$T/np.sim"
start_sim np CPNOPROTO "$T/np.sim" --no-subprotocol

cat >"$T/q.sim" <<'SIM'
plug 1
start 1 TAGQ 1000
SIM
start_sim q CPQ "$T/q.sim"
ocpp_wait_count q answer StartTransaction 1
TX=$(ocpp_get q answer StartTransaction 'p["transactionId"]')

# accepted TEXT ID [EXPR]: the frame gets a CALLRESULT (satisfying EXPR)
accepted() {
  local text=$1 id=$2 expr=${3:-True}
  sim_cmd q "send $text"
  ocpp_wait_count q id "$id" 1
  ocpp_check q id "$id" "f[0] == 3 and ($expr)" "not accepted: $text"
}

accepted '[2,"q1","StatusNotification",{"connectorId":1,"errorCode":"Error","status":"Charging"}]' q1 'p == {}'
expect_log 'CPQ: StatusNotification: errorCode "Error" unknown: taken as OtherError'
expect_log 'CPQ: connector 1: Charging OtherError'

accepted "[2,\"q2\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":$TX,\"meterValue\":[{\"timestamp\":\"2030-01-01T10:00:00\",\"sampledValue\":[{\"value\":\"50.0\",\"measurand\":\"Frequency\",\"unit\":\"Hz\"},{\"value\":\"1.75\",\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"kWh\"}]}]}]" q2 'p == {}'
expect_log 'CPQ: MeterValues: sampledValue with unit "Hz" skipped'
expect_log 'CPQ: MeterValues: .*timestamp "2030-01-01T10:00:00" read as 2030-01-01T10:00:00Z'

accepted '[2,"q3","StatusNotification",{"connectorId":1,"errorCode":"OtherError","status":"Charging","timestamp":"2030-01-01T12:00:00+02"}]' q3 'p == {}'
expect_log 'CPQ: StatusNotification: .*timestamp "2030-01-01T12:00:00\+02" read as 2030-01-01T10:00:00Z'

accepted '[2,"q4","BootNotification",{"chargePointVendor":"Schneider","chargePointModel":"EVlink","chargePointSerialNumber":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"}]' q4 'p["status"] == "Accepted"'
expect_log 'CPQ: BootNotification: chargePointSerialNumber too long: cut to 25 characters'

status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" "$TX" <<'PY' || fail "status after the quirks is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cp = next(c for c in st["chargers"] if c["id"] == "CPQ")
assert cp["serial"] == "ABCDEFGHIJKLMNOPQRSTUVWXY", cp
assert cp["vendor"] == "Schneider", cp
k = cp["connectors"][0]
assert k["error_code"] == "OtherError", k
assert abs(k["energy_wh"] - 1750) < 0.01, k        # the Hz sample skipped, kWh read
assert k["transaction_id"] == int(sys.argv[2]), k
PY

# the stop without meterStop (schema: required)
accepted "[2,\"q5\",\"StopTransaction\",{\"transactionId\":$TX,\"timestamp\":\"2030-01-01T10:30:00Z\",\"reason\":\"Local\"}]" q5 'p == {}'
expect_log "CPQ: connector 1: transaction $TX stopped \(Local, no meterStop\)"
# meter values that arrive after the stop
accepted "[2,\"q6\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":$TX,\"meterValue\":[{\"timestamp\":\"2030-01-01T10:31:00Z\",\"sampledValue\":[{\"value\":\"1800\"}]}]}]" q6 'p == {}'
# stops for transactions the gateway does not know, or ids some chargers
# use when they lost theirs
accepted '[2,"q7","StopTransaction",{"transactionId":987654,"meterStop":5,"timestamp":"2030-01-01T11:00:00Z"}]' q7 'p == {}'
accepted '[2,"q8","StopTransaction",{"transactionId":0,"meterStop":5,"timestamp":"2030-01-01T11:00:00Z","idTag":"TAGQ"}]' q8 'p == {"idTagInfo": {"status": "Accepted"}}'
accepted '[2,"q9","StopTransaction",{"transactionId":-1,"meterStop":5,"timestamp":"2030-01-01T11:00:00Z"}]' q9 'p == {}'
expect_log 'CPQ: StopTransaction for transaction 987654 that is not known: recorded'
status_json >"$T/status2.json"
/usr/bin/python3 - "$T/status2.json" <<'PY' || fail "a late MeterValues revived the stopped transaction"
import json, sys
st = json.load(open(sys.argv[1]))
cp = next(c for c in st["chargers"] if c["id"] == "CPQ")
assert cp["connectors"][0]["transaction_id"] is None, cp
PY

# --no-boot: TriggerMessage BootNotification after the boot wait (5 s)
ocpp_wait_count nb call TriggerMessage 1 70
ocpp_check nb call TriggerMessage 'p == {"requestedMessage": "BootNotification"}' --nth 0 \
  "a charger without BootNotification is not asked for one"
ocpp_wait_count nb answer BootNotification 1
expect_log 'CPNOBOOT: no BootNotification after connecting: asking for one'

# no subprotocol: a full session works
ocpp_wait_count np answer StopTransaction 1
ocpp_check np answer StartTransaction 'p["idTagInfo"]["status"] == "Accepted"' \
  "a charger without subprotocol cannot start"
expect_frame np '"event":"connected","detail":"\(no subprotocol\)"'
expect_log 'CPNOPROTO: no Sec-WebSocket-Protocol header: assuming ocpp1\.6'

for s in q nb np; do validate_frames "$s"; done
note "ocpp_quirks passed"
