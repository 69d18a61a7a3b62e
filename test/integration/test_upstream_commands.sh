#!/bin/bash
# A billing backend's commands: with commands = allow, the backend's
# RemoteStopTransaction with its own transactionId reaches the charger
# (the simulator) as a RemoteStopTransaction with the gateway's id, and
# the backend gets the charger's Accepted; an id the gateway does not know
# is Rejected without reaching the charger; a SetChargingProfile of
# 6900 W reaches the charger as a 10 A limit (3 x 230 V). With commands =
# readonly both are Rejected and the charger sees nothing. A relayed
# ChangeConfiguration is answered with the charger's own status: Accepted,
# Rejected, NotSupported, and RebootRequired from a charger that takes the
# change only after a reboot.
source "$TEST_SRC/lib.sh"

# result LOG ACTION N: the status of the Nth answer (1-based) to ACTION
result() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
log, action, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
got = [e for e in map(json.loads, open(log))
       if e.get("event") == "result" and e["action"] == action]
r = got[n - 1] if len(got) >= n else None
print("none" if r is None else (r["payload"] or {}).get("status", r["error"]))
PY
}
wait_result() {
  local i
  for i in $(seq 1 150); do
    [ "$(result "$@")" != none ] && return 0
    sleep 0.1
  done
  fail "no answer $3 to $2 in $1"
}

# run MODE: one gateway with a backend that stops its session twice
run() {
  local mode=$1 sim=$2
  BPORT=$(free_port)
  BLOG=$T/backend-$mode.log
  cat >"$T/stop-$mode.csms" <<EOF2
after StartTransaction 30
sleep 1
call RemoteStopTransaction {"transactionId": 9001}
call RemoteStopTransaction {"transactionId": 4242}
call ChangeConfiguration {"key": "HeartbeatInterval", "value": "77"}
call GetConfiguration {"key": ["HeartbeatInterval", "MeterValueSampleInterval", "Foo"]}
call TriggerMessage {"requestedMessage": "Heartbeat"}
call TriggerMessage {"requestedMessage": "StatusNotification", "connectorId": 1}
call SetChargingProfile {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}]}}}
call ChangeConfiguration {"key": "AuthorizeRemoteTxRequests", "value": "true"}
call ChangeConfiguration {"key": "NumberOfConnectors", "value": "2"}
call ChangeConfiguration {"key": "Foo", "value": "1"}
await $T/reboot-$mode
call ChangeConfiguration {"key": "MeterValuesSampledData", "value": "Energy.Active.Import.Register"}
EOF2
  start_backend "$BLOG" --first-transaction-id 9001 --script "$T/stop-$mode.csms"
  write_config
  write_charger CP1 'tags = LOCAL1'
  cat >>"$T/chargers.d/CP1.conf" <<EOF2

[upstream]
url = ws://127.0.0.1:$BPORT/ocpp/{id}
tags = EMP1
commands = $mode
EOF2
  start_gateway
  printf 'boot\nheartbeat\n' >"$T/idle.sim"
  start_sim "$sim" CP1 "$T/idle.sim" --reconnect-delay 1
  backend_wait "$BLOG" BootNotification 1
  link_status 'u["connected"]'
  sim_cmd "$sim" "start 1 EMP1 1000"
  ocpp_wait_count "$sim" answer StartTransaction 1 100
  OWN=$(ocpp_get "$sim" answer StartTransaction 'p["transactionId"]')
  [ "$OWN" != 9001 ] || fail "the charger got the backend's transaction id"
  wait_result "$BLOG" RemoteStopTransaction 2
  wait_result "$BLOG" SetChargingProfile 1
  wait_result "$BLOG" ChangeConfiguration 4
  # from now on the charger takes a change only for its next reboot; the
  # heartbeat behind the answer mode says the simulator has read it
  local beats
  beats=$(ocpp_count "$sim" sent Heartbeat)
  sim_cmd "$sim" "answer ChangeConfiguration reboot"
  sim_cmd "$sim" heartbeat
  ocpp_wait_count "$sim" sent Heartbeat $((beats + 1)) 100
  touch "$T/reboot-$mode"
  wait_result "$BLOG" ChangeConfiguration 5
}

# configuration_results: the backend's answers to its five ChangeConfiguration
configuration_results() {
  local n out=
  for n in 1 2 3 4 5; do out="$out $(result "$BLOG" ChangeConfiguration $n)"; done
  echo "${out# }"
}

run allow cp
[ "$(result "$BLOG" RemoteStopTransaction 1)" = Accepted ] ||
  fail "allow: backend's stop got $(result "$BLOG" RemoteStopTransaction 1)"
[ "$(result "$BLOG" RemoteStopTransaction 2)" = Rejected ] ||
  fail "allow: unknown id got $(result "$BLOG" RemoteStopTransaction 2)"
[ "$(ocpp_count cp call RemoteStopTransaction)" = 1 ] ||
  fail "allow: the charger got $(ocpp_count cp call RemoteStopTransaction) RemoteStopTransaction, not 1"
ocpp_check cp call RemoteStopTransaction "p['transactionId'] == $OWN" \
  "allow: the charger did not get its own transaction id $OWN"
ocpp_wait_count cp answer StopTransaction 1 100
[ "$(result "$BLOG" SetChargingProfile 1)" = Accepted ] ||
  fail "allow: SetChargingProfile got $(result "$BLOG" SetChargingProfile 1)"
ocpp_wait_count cp call SetChargingProfile 1 100
# 6900 W on 3 phases of 230 V
ocpp_check cp call SetChargingProfile \
  "p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit'] == 10 and p['csChargingProfiles']['chargingSchedule']['chargingRateUnit'] == 'A'" \
  "allow: the charger did not get the backend's 6900 W as 10 A"
note "allow: backend's 6900 W profile reached the charger as $(ocpp_get cp call SetChargingProfile \
  "p['csChargingProfiles']['chargingSchedule']['chargingSchedulePeriod'][0]['limit']") $(ocpp_get cp call SetChargingProfile \
  "p['csChargingProfiles']['chargingSchedule']['chargingRateUnit']")"
[ "$(result "$BLOG" ChangeConfiguration 1)" = Accepted ] ||
  fail "allow: HeartbeatInterval got $(result "$BLOG" ChangeConfiguration 1)"
# the charger's own answers: Accepted, Rejected (read-only), NotSupported
# (unknown key), RebootRequired
[ "$(configuration_results)" = \
  "Accepted Accepted Rejected NotSupported RebootRequired" ] ||
  fail "allow: relayed ChangeConfiguration answered $(configuration_results)"
[ "$(ocpp_count cp call ChangeConfiguration)" = 4 ] ||
  fail "allow: the charger got $(ocpp_count cp call ChangeConfiguration) ChangeConfiguration, not 4"
ocpp_check cp call ChangeConfiguration \
  "p == {'key': 'MeterValuesSampledData', 'value': 'Energy.Active.Import.Register'}" \
  "allow: the charger did not get the backend's MeterValuesSampledData"
note "allow: relayed ChangeConfiguration answered as the charger did: $(configuration_results | cut -d' ' -f2-)"
/usr/bin/python3 - "$BLOG" <<'PY' || fail "allow: GetConfiguration"
import json, sys
r = [e for e in map(json.loads, open(sys.argv[1]))
     if e.get("event") == "result" and e["action"] == "GetConfiguration"][0]
keys = {k["key"]: k["value"] for k in r["payload"]["configurationKey"]}
assert keys == {"HeartbeatInterval": "77", "MeterValueSampleInterval": "0"}, r
assert r["payload"]["unknownKey"] == ["Foo"], r
PY
! grep -Eq 'HeartbeatInterval[^]]*77' "$T/sim-cp.log" ||
  fail "allow: the backend's HeartbeatInterval reached the charger"
note "allow: HeartbeatInterval kept by the gateway (77 s), GetConfiguration answers its keys, Foo unknown"
[ "$(result "$BLOG" TriggerMessage 1) $(result "$BLOG" TriggerMessage 2)" = \
  "Accepted Accepted" ] || fail "allow: TriggerMessage not Accepted"
# the answer first, then the message, from the gateway (not the charger)
/usr/bin/python3 - "$BLOG" <<'PY' || fail "allow: triggered messages"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
def index(pred):
    return next(i for i, e in enumerate(log) if pred(e))
for action, req in (("Heartbeat", {"requestedMessage": "Heartbeat"}),
                    ("StatusNotification",
                     {"requestedMessage": "StatusNotification", "connectorId": 1})):
    call = index(lambda e: e.get("dir") == "out" and e["frame"][2:] == ["TriggerMessage", req])
    cid = log[call]["frame"][1]
    answer = index(lambda e: e.get("dir") == "in" and e["frame"][:2] == [3, cid])
    after = [e for e in log[answer + 1:] if e.get("dir") == "in"
             and e["frame"][0] == 2 and e["frame"][2] == action]
    assert after, (action, "not sent after the answer")
    if action == "StatusNotification":
        assert after[0]["frame"][3]["connectorId"] == 1, after[0]
PY
# the gateway's own TriggerMessage after a boot names no connector
ocpp_check cp call TriggerMessage \
  "p['requestedMessage'] != 'Heartbeat' and 'connectorId' not in p" --all \
  "allow: the charger got a TriggerMessage the gateway answers itself"
note "allow: TriggerMessage Heartbeat and StatusNotification answered by the gateway, the message after the answer"
note "allow: backend's 9001 reached the charger as $OWN (Accepted), 4242 Rejected"
backend_validate "$BLOG"
validate_frames cp
stop_gateway
kill "$BACKEND_PID"; wait "$BACKEND_PID" 2>/dev/null || true
kill "$(sim_pid cp)"; wait "$(sim_pid cp)" 2>/dev/null || true

run readonly ro
[ "$(result "$BLOG" RemoteStopTransaction 1)" = Rejected ] ||
  fail "readonly: backend's stop got $(result "$BLOG" RemoteStopTransaction 1)"
sleep 0.5
[ "$(ocpp_count ro call RemoteStopTransaction)" = 0 ] ||
  fail "readonly: the charger got a RemoteStopTransaction"
[ "$(result "$BLOG" SetChargingProfile 1)" = Rejected ] ||
  fail "readonly: SetChargingProfile got $(result "$BLOG" SetChargingProfile 1)"
[ "$(ocpp_count ro call SetChargingProfile)" = 0 ] ||
  fail "readonly: the charger got a SetChargingProfile"
[ "$(configuration_results)" = "Rejected Rejected Rejected Rejected Rejected" ] ||
  fail "readonly: ChangeConfiguration answered $(configuration_results)"
[ "$(ocpp_count ro call ChangeConfiguration)" = 0 ] ||
  fail "readonly: the charger got a ChangeConfiguration"
expect_log "RemoteStopTransaction refused: commands = readonly"
note "readonly: Rejected, the charger saw nothing"
backend_validate "$BLOG"
validate_frames ro
