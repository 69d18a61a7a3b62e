#!/bin/bash
# A charger that sends garbage gets the right CALLERROR for each frame,
# stays connected, and does not disturb another charger's session.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CPA
write_charger_at CPB 1
start_gateway

cat >"$T/b.sim" <<'SIM'
heartbeat
SIM
start_sim b CPB "$T/b.sim"
ocpp_wait_count b answer Heartbeat 1

cat >"$T/a.sim" <<'SIM'
plug 1
start 1 TAGA 5000
SIM
start_sim a CPA "$T/a.sim"

# garbage TEXT ID CODE: B sends TEXT; the gateway must answer with a
# CALLERROR CODE carrying ID
garbage() {
  local text=$1 id=$2 code=$3 n
  n=$(ocpp_count b id "$id")
  sim_cmd b "send $text"
  ocpp_wait_count b id "$id" $((n + 1))
  ocpp_check b id "$id" "code == '$code'" --nth "$n" \
    "$text: not answered with $code"
}

long_id=$(printf 'x%.0s' $(seq 1 40))
garbage 'this is not json' -1 FormationViolation
sim_cmd a "meter 1 energy=5500 current.L1=16 current.L2=16 current.L3=16"
garbage '[2,"g1","Heartbeat",{}' -1 FormationViolation
garbage '{"not":"an array"}' -1 FormationViolation
garbage '[]' -1 FormationViolation
garbage '[2]' -1 ProtocolError
garbage '[2,"g2"]' g2 ProtocolError
garbage '[7,"g3","Heartbeat",{}]' g3 ProtocolError
garbage "[2,\"$long_id\",\"Heartbeat\",{}]" -1 FormationViolation
sim_cmd a "meter 1 energy=6000 current.L1=15 current.L2=16 current.L3=14"
garbage '[2,"g4","Heartbeat",[]]' g4 FormationViolation
garbage '[2,"g5","Heartbeat",{},{}]' g5 FormationViolation
garbage '[2,"g6","FooBar",{}]' g6 NotImplemented
garbage '[2,"g7","Reset",{"type":"Soft"}]' g7 NotSupported
garbage '[2,"g8","BootNotification",{"chargePointVendor":"X"}]' g8 OccurenceConstraintViolation
garbage '[2,"g9","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]' g9 TypeConstraintViolation
garbage '[2,"g10","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Foo"}]' g10 PropertyConstraintViolation
# connectorId has no minimum in the schema: a negative one must not crash
garbage '[2,"g14","StatusNotification",{"connectorId":-1,"errorCode":"NoError","status":"Available"}]' g14 PropertyConstraintViolation
garbage '[2,"g15","StatusNotification",{"connectorId":2147483648,"errorCode":"NoError","status":"Available"}]' g15 PropertyConstraintViolation
garbage '[2,"g16","MeterValues",{"connectorId":-3,"meterValue":[{"timestamp":"2030-01-01T00:00:00Z","sampledValue":[{"value":"5"}]}]}]' g16 PropertyConstraintViolation
garbage '[2,"g17","StartTransaction",{"connectorId":-1,"idTag":"T","meterStart":1,"timestamp":"2030-01-01T00:00:00Z"}]' g17 PropertyConstraintViolation
garbage '[2,"g11","Authorize",{"idTag":"ABCDEFGHIJKLMNOPQRSTUVWXYZ"}]' g11 PropertyConstraintViolation
garbage '[2,"g12","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":1.5,"timestamp":"2030-01-01T00:00:00Z"}]' g12 TypeConstraintViolation
garbage '[2,"g13","Heartbeat",{"extra":1}]' g13 PropertyConstraintViolation
sim_cmd a "meter 1 energy=6500 current.L1=16 current.L2=16 current.L3=16"

# answers nobody asked for, and broken answers, are dropped without a reply
errors_before=$(ocpp_count b id -1)
sim_cmd b 'send [3,"nope",{}]'
sim_cmd b 'send [4,"nope2","GenericError","",{}]'
sim_cmd b 'send [3]'
sim_cmd b 'send [4,"nope3"]'
sim_cmd b 'send [2,"hb2","Heartbeat",{}]'
ocpp_wait_count b id hb2 1
ocpp_check b id hb2 'f[0] == 3 and p["currentTime"].endswith("Z")' \
  "B is not served any more after the garbage"
[ "$(ocpp_count b id nope)" -eq 0 ] || fail "a CALLRESULT with an unknown id was answered"
[ "$(ocpp_count b id nope2)" -eq 0 ] || fail "a CALLERROR with an unknown id was answered"
[ "$(ocpp_count b id nope3)" -eq 0 ] || fail "a broken CALLERROR was answered"
[ "$(ocpp_count b id -1)" -eq "$errors_before" ] || fail "a broken CALLRESULT was answered"
expect_log 'CPB: answer with unexpected id "nope" ignored'

# A's session is complete and right
sim_cmd a "stop 1 7000 Local"
ocpp_wait_count a answer StopTransaction 1
ocpp_check a answer MeterValues 'p == {}' --all "A's MeterValues not all answered"
[ "$(ocpp_count a answer MeterValues)" -eq 3 ] || fail "A's meter values got lost"
TX=$(ocpp_get a answer StartTransaction 'p["transactionId"]')
expect_log "CPA: transaction $TX: 2000 Wh"
grep -q "CPB: disconnected" "$GW_LOG" && fail "the gateway dropped B"
kill -0 "$GW_PID" || fail "gateway died"

validate_frames a
validate_frames b
note "ocpp_garbage passed"
