#!/bin/bash
# The habits of real chargers in 2.0.1 frames (a 2.0.1 stack grown from a
# 1.6 one): local timestamps, a sampled value sent as a string, a sample
# with a measurand no version knows, an over-long serial number, an
# unknown boot reason and stop reason. Each frame is answered, each repair
# logged once, and nothing the gateway keeps is lost. What cannot be
# repaired without guessing (an unknown triggerReason) gets its CALLERROR
# and the connection stays up.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CPQ
start_gateway

cat >"$T/q.sim" <<'SIM'
plug 1
start 1 TAGQ 1000
SIM
start_sim q CPQ "$T/q.sim" --ocpp 2.0.1
ocpp_wait_count q answer TransactionEvent 1
TX=$(ocpp_get q sent TransactionEvent 'p["transactionInfo"]["transactionId"]')

# answered TEXT ID [EXPR]: the frame gets a CALLRESULT (satisfying EXPR)
answered() {
  local text=$1 id=$2 expr=${3:-True}
  sim_cmd q "send $text"
  ocpp_wait_count q id "$id" 1
  ocpp_check q id "$id" "f[0] == 3 and ($expr)" "not answered: $text"
}

updated() {
  printf '[2,"%s","TransactionEvent",{"eventType":"Updated","timestamp":"%s","triggerReason":"%s","seqNo":%d,"transactionInfo":{"transactionId":"%s"%s},"evse":{"id":1,"connectorId":1}%s}]' "$@"
}

answered "$(updated q1 2030-01-01T10:00:00 MeterValuePeriodic 5 "$TX" '' \
  ',"meterValue":[{"timestamp":"2030-01-01T10:00:00","sampledValue":[{"value":50.0,"measurand":"Frequency.Grid"},{"value":"1750","measurand":"Energy.Active.Import.Register"}]}]')" \
  q1 'p == {}'
expect_log 'CPQ: TransactionEvent: sampledValue with measurand "Frequency.Grid" skipped'
expect_log 'CPQ: TransactionEvent: sampledValue value "1750" given as text: taken as a number'
expect_log 'CPQ: TransactionEvent: .*timestamp "2030-01-01T10:00:00" read as 2030-01-01T10:00:00Z'

answered '[2,"q2","BootNotification",{"reason":"FirmwareUpgrade","chargingStation":{"model":"EVlink","vendorName":"Schneider","serialNumber":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"}}]' \
  q2 'p["status"] == "Accepted"'
expect_log 'CPQ: BootNotification: reason "FirmwareUpgrade" unknown: taken as Unknown'
expect_log 'CPQ: BootNotification: serialNumber too long: cut to 25 characters'

# not repaired: an unknown triggerReason is refused, the link stays
sim_cmd q "send $(updated q3 2030-01-01T10:01:00Z Whenever 6 "$TX" '' '')"
ocpp_wait_count q id q3 1
ocpp_check q id q3 'f[0] == 4 and code == "PropertyConstraintViolation"' \
  "an unknown triggerReason was not refused with PropertyConstraintViolation"

status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" "$TX" <<'PY' || fail "status after the 2.0.1 quirks is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cp = next(c for c in st["chargers"] if c["id"] == "CPQ")
assert cp["online"] is True, cp
assert cp["serial"] == "ABCDEFGHIJKLMNOPQRSTUVWXY", cp
k = cp["connectors"][0]
assert abs(k["energy_wh"] - 1750) < 0.01, k     # the Frequency.Grid sample skipped, "1750" read
PY

# an unknown stoppedReason: the session still ends, with its energy
answered "[2,\"q4\",\"TransactionEvent\",{\"eventType\":\"Ended\",\"timestamp\":\"2030-01-01T10:05:00Z\",\"triggerReason\":\"EVCommunicationLost\",\"seqNo\":7,\"transactionInfo\":{\"transactionId\":\"$TX\",\"stoppedReason\":\"Unplugged\"},\"meterValue\":[{\"timestamp\":\"2030-01-01T10:05:00Z\",\"sampledValue\":[{\"value\":2000,\"context\":\"Transaction.End\"}]}]}]" q4
expect_log 'CPQ: TransactionEvent: stoppedReason "Unplugged" unknown: ignored'
ocpp_wait_count q id q4 1
export_sessions "$T/s.csv"
/usr/bin/python3 - "$T/s.csv" "$TX" <<'PY' || fail "the session with an unknown stoppedReason is not closed with its energy"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["transaction_id"] == sys.argv[2]]
assert len(rows) == 1, rows
assert rows[0]["stop"] and float(rows[0]["energy_wh"]) == 1000, rows[0]
PY
[ "$(count_log 'TransactionEvent: sampledValue value')" -eq 1 ] ||
  fail "a repair was logged more than once"
validate_frames q
