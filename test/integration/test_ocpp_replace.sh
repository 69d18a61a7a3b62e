#!/bin/bash
# A charger that reconnects while its old connection is still open (reboot,
# NAT change): the new connection replaces the old one and the running
# transaction carries on.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1
start_gateway

cat >"$T/a.sim" <<'SIM'
plug 1
start 1 TAG1 10000
meter 1 energy=12000 current=16
SIM
start_sim a CP1 "$T/a.sim"
ocpp_wait_count a answer MeterValues 1
TX=$(ocpp_get a answer StartTransaction 'p["transactionId"]')
[ "$TX" -gt 0 ] || fail "no transaction id"

# B knows nothing of A's transaction but its id: it goes on with the session
cat >"$T/b.sim" <<SIM
send [2,"b1","MeterValues",{"connectorId":1,"transactionId":$TX,"meterValue":[{"timestamp":"2030-01-01T10:00:00Z","sampledValue":[{"value":"14000","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]
send [2,"b2","StopTransaction",{"transactionId":$TX,"meterStop":15000,"timestamp":"2030-01-01T10:05:00Z","reason":"Local"}]
SIM
start_sim b CP1 "$T/b.sim" --no-boot

# A sees the server close its connection
expect_frame a '"event":"disconnected"'
expect_log "CP1: new connection from 127\.0\.0\.1:[0-9]+ replaces the one from 127\.0\.0\.1:[0-9]+"
ocpp_wait_count b id b2 1
ocpp_check b id b1 'p == {}' "MeterValues on the new connection not answered"
ocpp_check b id b2 'f[0] == 3' "StopTransaction on the new connection not answered"
expect_log "CP1: connector 1: transaction $TX stopped \(Local\)"
expect_log "CP1: transaction $TX: 5000 Wh"
grep -q "CP1: disconnected" "$GW_LOG" && fail "replacement was reported as a disconnection"

status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "/status after the replacement is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cps = [c for c in st["chargers"] if c["id"] == "CP1"]
assert len(cps) == 1 and cps[0]["online"] is True, st
assert cps[0]["connectors"][0]["transaction_id"] is None, st
PY

validate_frames a
validate_frames b
note "ocpp_replace passed"
