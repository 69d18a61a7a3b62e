#!/bin/bash
# Black-box tests of ocpp-charger-sim against fake_csms.py.
# usage: test_sim.sh SIM_EXE FAKE_CSMS_PY
set -u

SIM=$1
FAKE=$2
HERE=$(cd "$(dirname "$FAKE")" && pwd)
VALIDATE=$HERE/validate_frames.py
PY=/usr/bin/python3
SCHEMAS=${OCPP16_SCHEMAS:-$HERE/../data/ocpp16/schemas}
TMP=$(mktemp -d)
FAKE_PID=
PORT=
FAILS=0
PASSES=0

cleanup() {
	stop_fake
	rm -rf "$TMP"
}
trap cleanup EXIT

stop_fake() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=
	fi
}

# start_fake NAME [fake args...]: log in $TMP/NAME.fake.log, port in $PORT
start_fake() {
	local name=$1
	shift
	"$PY" "$FAKE" --log "$TMP/$name.fake.log" "$@" >"$TMP/$name.port" 2>"$TMP/$name.fake.err" &
	FAKE_PID=$!
	for _ in $(seq 100); do
		grep -q '^PORT ' "$TMP/$name.port" 2>/dev/null && break
		sleep 0.05
	done
	PORT=$(awk '/^PORT /{print $2}' "$TMP/$name.port")
	[ -n "$PORT" ] || { echo "fake_csms did not start"; cat "$TMP/$name.fake.err"; exit 1; }
}

# run_sim NAME [sim args...]: rc in $RC, log in $TMP/NAME.sim.log
run_sim() {
	local name=$1
	shift
	timeout 60 "$SIM" --url "ws://127.0.0.1:$PORT/ocpp/CP1" --quiet \
		--log "$TMP/$name.sim.log" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
}

pass() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() {
	FAILS=$((FAILS + 1))
	echo "FAIL - $1"
	shift
	for f in "$@"; do echo "--- $f"; cat "$f"; done
}

# check NAME PYTHON_EXPR_FILE LOG...: runs a python check over the log(s)
check_py() {
	"$PY" - "$@" <"$TMP/check.py"
}

script() { cat >"$TMP/$1"; }

# ---- session: boot/authorize/start/meter/stop with correct payloads ----
script session.sim <<'EOF'
# a complete session
authorize TAG1
plug 1
start 1 TAG1 1000
meter 1 energy=1500 current.L1=16 current.L2=15 current.L3=14 power=10580 voltage=230
stop 1 2000 Local
unplug 1
quit
EOF
start_fake session
run_sim session --script "$TMP/session.sim"
stop_fake
cat >"$TMP/check.py" <<'EOF'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
out = [e["frame"] for e in log if e.get("dir") == "out" and e["frame"][0] == 2]
res = {e["frame"][1]: e["frame"] for e in log if e.get("dir") == "in"}
acts = [f[2] for f in out]
assert [e["event"] for e in log if "event" in e][0] == "connected", "no connected event"
want = ["BootNotification", "Authorize", "StartTransaction", "MeterValues", "StopTransaction"]
seq = [a for a in acts if a in want]
assert seq == want, seq
assert len({f[1] for f in out}) == len(out), "call ids not unique"
by = {f[2]: f for f in out}
assert by["BootNotification"][3]["chargePointVendor"] == "ocppknx"
assert by["Authorize"][3] == {"idTag": "TAG1"}, by["Authorize"]
st = by["StartTransaction"][3]
assert st["connectorId"] == 1 and st["idTag"] == "TAG1" and st["meterStart"] == 1000, st
assert st["timestamp"].endswith("Z"), st
txid = res[by["StartTransaction"][1]][2]["transactionId"]
mv = by["MeterValues"][3]
assert mv["connectorId"] == 1 and mv["transactionId"] == txid, mv
sv = mv["meterValue"][0]["sampledValue"]
energy = [v for v in sv if v["measurand"] == "Energy.Active.Import.Register"]
assert energy[0]["value"] == "1500" and energy[0]["unit"] == "Wh", sv
phases = {v.get("phase"): v["value"] for v in sv if v["measurand"] == "Current.Import"}
assert phases == {"L1": "16", "L2": "15", "L3": "14"}, phases
assert [v["value"] for v in sv if v["measurand"] == "Power.Active.Import"] == ["10580"]
sp = by["StopTransaction"][3]
assert sp["transactionId"] == txid and sp["meterStop"] == 2000 and sp["reason"] == "Local", sp
statuses = [f[3]["status"] for f in out if f[2] == "StatusNotification"]
i = statuses.index("Preparing")
assert statuses[i:] == ["Preparing", "Charging", "Finishing", "Available"], statuses
EOF
if [ "$RC" -eq 0 ] && check_py "$TMP/session.sim.log"; then
	pass "session sequence and payloads"
else
	fail "session sequence and payloads (rc $RC)" "$TMP/session.err" "$TMP/session.sim.log"
fi

# ---- RemoteStartTransaction -> Accepted, then StartTransaction ----
script remote.fake <<'EOF'
after BootNotification
call RemoteStartTransaction {"connectorId": 1, "idTag": "REMOTE1"}
after StartTransaction
call RemoteStopTransaction {"transactionId": 1}
call RemoteStopTransaction {"transactionId": 999}
EOF
script remote.sim <<'EOF'
expect RemoteStartTransaction 10
expect RemoteStopTransaction 10
expect RemoteStopTransaction 10
wait 0.5
quit
EOF
start_fake remote --script "$TMP/remote.fake"
run_sim remote --script "$TMP/remote.sim"
stop_fake
cat >"$TMP/check.py" <<'EOF'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if '"frame"' in l]
frames = [(e["dir"], e["frame"]) for e in log]
calls_in = {f[1]: f[2] for d, f in frames if d == "in" and f[0] == 2}
answers = [(calls_in[f[1]], f[2]) for d, f in frames if d == "out" and f[0] == 3]
assert answers == [("RemoteStartTransaction", {"status": "Accepted"}),
                   ("RemoteStopTransaction", {"status": "Accepted"}),
                   ("RemoteStopTransaction", {"status": "Rejected"})], answers
order = [(d, f[2]) for d, f in frames if f[0] == 2]
i = order.index(("in", "RemoteStartTransaction"))
after = [f for d, f in frames[[k for k, (d, f) in enumerate(frames) if f[0] == 2 and f[2] == "RemoteStartTransaction"][0]:] if d == "out" and f[0] == 2]
start = [f for f in after if f[2] == "StartTransaction"]
assert start and start[0][3]["idTag"] == "REMOTE1" and start[0][3]["connectorId"] == 1, start
stop = [f for f in after if f[2] == "StopTransaction"]
assert stop and stop[0][3]["reason"] == "Remote" and stop[0][3]["transactionId"] == 1, stop
st = [f[3]["status"] for f in after if f[2] == "StatusNotification"]
assert st == ["Preparing", "Charging", "Finishing"], st
EOF
if [ "$RC" -eq 0 ] && check_py "$TMP/remote.sim.log"; then
	pass "remote start accepted and followed by StartTransaction"
else
	fail "remote start (rc $RC)" "$TMP/remote.err" "$TMP/remote.sim.log" "$TMP/remote.fake.log"
fi

# ---- answers to the central system's calls, ping, fragments, close ----
script calls.fake <<'EOF'
after BootNotification
ping
fragment GetConfiguration {"key": ["HeartbeatInterval", "NumberOfConnectors", "NoSuchKey"]}
call GetConfiguration {}
call ChangeConfiguration {"key": "NoSuchKey", "value": "1"}
call ChangeConfiguration {"key": "MeterValueSampleInterval", "value": "30"}
call UnlockConnector {"connectorId": 1}
call DataTransfer {"vendorId": "x"}
call TriggerMessage {"requestedMessage": "StatusNotification", "connectorId": 2}
after StatusNotification
call SetChargingProfile {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}}
call ReserveNow {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "R1", "reservationId": 7}
call ChangeAvailability {"connectorId": 0, "type": "Inoperative"}
call CancelReservation {"reservationId": 8}
call UpdateFirmware {"location": "http://127.0.0.1/fw", "retrieveDate": "2030-01-01T00:00:00Z"}
call RemoteStartTransaction {"connectorId": 1}
sleep 0.3
close 1000
EOF
script calls.sim <<'EOF'
answer UnlockConnector reject
expect UpdateFirmware 15
expect-close 10
quit
EOF
start_fake calls --script "$TMP/calls.fake"
run_sim calls --connectors 2 --script "$TMP/calls.sim"
stop_fake
cat >"$TMP/check.py" <<'EOF'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
frames = [(e["dir"], e["frame"]) for e in log if "frame" in e]
sent = {f[1]: (f[2], f[3]) for d, f in frames if d == "out" and f[0] == 2}
ans = [(sent[f[1]][0], f) for d, f in frames if d == "in" and f[0] in (3, 4)]
def get(action, n=0):
    return [f for a, f in ans if a == action][n]
gc = get("GetConfiguration")[2]
assert {k["key"]: k["value"] for k in gc["configurationKey"]} == {"HeartbeatInterval": "300", "NumberOfConnectors": "2"}, gc
assert gc["unknownKey"] == ["NoSuchKey"], gc
allkeys = {k["key"] for k in get("GetConfiguration", 1)[2]["configurationKey"]}
assert {"SupportedFeatureProfiles", "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
        "MeterValuesSampledData", "MeterValueSampleInterval"} <= allkeys, allkeys
assert get("ChangeConfiguration")[2] == {"status": "NotSupported"}
assert get("ChangeConfiguration", 1)[2] == {"status": "Accepted"}
assert get("UnlockConnector")[2] == {"status": "UnlockFailed"}
assert get("DataTransfer")[2] == {"status": "UnknownVendorId"}
assert get("TriggerMessage")[2] == {"status": "Accepted"}
assert get("SetChargingProfile")[2] == {"status": "Accepted"}
assert get("ChangeAvailability")[2] == {"status": "Accepted"}
assert get("ReserveNow")[2] == {"status": "Accepted"}
assert get("CancelReservation")[2] == {"status": "Rejected"}
uf = get("UpdateFirmware")
assert uf[0] == 4 and uf[2] == "NotImplemented", uf
rs = get("RemoteStartTransaction")
assert rs[0] == 4 and rs[2] == "FormationViolation", rs
st = [(f[3]["connectorId"], f[3]["status"]) for d, f in frames if d == "in" and f[0] == 2 and f[2] == "StatusNotification"]
assert (2, "Available") in st and (1, "Unavailable") in st and (2, "Unavailable") in st and (1, "Reserved") in st, st
ev = [e for e in log if e.get("event") == "pong"]
assert ev, "no pong"
EOF
if [ "$RC" -eq 0 ] && check_py "$TMP/calls.fake.log" && grep -q '"event":"charging-profile".*"limit":10' "$TMP/calls.sim.log"; then
	pass "answers to central system calls, ping, fragments, close"
else
	fail "answers to central system calls (rc $RC)" "$TMP/calls.err" "$TMP/calls.fake.log"
fi

# ---- answer modes: none and error ----
script modes.fake <<'EOF'
after BootNotification
call ClearCache {}
call Reset {"type": "Soft"}
EOF
script modes.sim <<'EOF'
answer ClearCache error
answer Reset none
expect ClearCache 10
expect Reset 10
wait 0.3
quit
EOF
start_fake modes --script "$TMP/modes.fake"
run_sim modes --script "$TMP/modes.sim"
stop_fake
if [ "$RC" -eq 0 ] && grep -q '"frame":\[4,"csms-1","InternalError"' "$TMP/modes.sim.log" &&
	! grep -q '"frame":\[[34],"csms-2"' "$TMP/modes.sim.log"; then
	pass "answer error sends InternalError, answer none stays silent"
else
	fail "answer modes (rc $RC)" "$TMP/modes.err" "$TMP/modes.sim.log"
fi

# ---- Reset: stop transaction, close, reconnect, boot ----
script reset.fake <<'EOF'
after StartTransaction
call Reset {"type": "Hard"}
EOF
script reset.sim <<'EOF'
start 1 T1 100
expect Reset 10
wait 2.5
quit
EOF
start_fake reset --script "$TMP/reset.fake"
run_sim reset --no-boot --script "$TMP/reset.sim"
stop_fake
cat >"$TMP/check.py" <<'EOF'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
ev = [e["event"] for e in log if "event" in e]
assert ev.count("connected") == 2, ev
calls = [e["frame"] for e in log if e.get("dir") == "in" and e["frame"][0] == 2]
acts = [f[2] for f in calls]
assert acts.count("BootNotification") == 1, acts
stop = [f for f in calls if f[2] == "StopTransaction"]
assert stop and stop[0][3]["reason"] == "HardReset", stop
assert acts.index("StopTransaction") < acts.index("BootNotification"), acts
EOF
if [ "$RC" -eq 0 ] && check_py "$TMP/reset.fake.log"; then
	pass "reset stops the transaction, reconnects and boots"
else
	fail "reset (rc $RC)" "$TMP/reset.err" "$TMP/reset.fake.log"
fi

# ---- drop + auto reconnect; expect-close on server drop ----
script reconnect.sim <<'EOF'
drop
wait 1
heartbeat
quit
EOF
start_fake reconnect
run_sim reconnect --reconnect-delay 0.2 --script "$TMP/reconnect.sim"
stop_fake
if [ "$RC" -eq 0 ] && [ "$(grep -c '"event":"connected"' "$TMP/reconnect.sim.log")" -eq 2 ] &&
	grep -q '"Heartbeat"' "$TMP/reconnect.fake.log"; then
	pass "dropped connection is re-established after --reconnect-delay"
else
	fail "reconnect (rc $RC)" "$TMP/reconnect.err" "$TMP/reconnect.sim.log"
fi

# ---- stdin commands, no subprotocol, basic auth ----
start_fake stdin
printf 'heartbeat\nsend [2,"raw-1","Heartbeat",{}]\nquit\n' |
	timeout 30 "$SIM" --url "ws://127.0.0.1:$PORT/ocpp/CP7" --quiet --no-subprotocol \
		--basic-auth CP7:secret --stdin --log "$TMP/stdin.sim.log" 2>"$TMP/stdin.err"
RC=$?
stop_fake
if [ "$RC" -eq 0 ] && grep -q '"path":"/ocpp/CP7","protocol":"","offered":\[\]' "$TMP/stdin.fake.log" &&
	grep -q '"authorization":"Basic Q1A3OnNlY3JldA=="' "$TMP/stdin.fake.log" &&
	grep -q '"frame":\[2,"raw-1","Heartbeat",{}\]' "$TMP/stdin.fake.log" &&
	grep -q '"Heartbeat",{}\]' "$TMP/stdin.sim.log"; then
	pass "stdin commands, --no-subprotocol, --basic-auth"
else
	fail "stdin (rc $RC)" "$TMP/stdin.err" "$TMP/stdin.fake.log"
fi

# ---- malformed frames from the central system do not upset the simulator ----
script malformed.fake <<'EOF'
after BootNotification
send not json at all
send {"an": "object"}
send [2]
send [3, "no-such-call", {}]
send [2, "m-1", "Reset", "not an object"]
send [2, "m-2", 42, {}]
send [9, "m-3"]
call Heartbeat {}
EOF
script malformed.sim <<'EOF'
expect Heartbeat 10
heartbeat
quit
EOF
start_fake malformed --script "$TMP/malformed.fake"
run_sim malformed --subprotocols "ocpp2.0.1, ocpp1.6" --script "$TMP/malformed.sim"
stop_fake
if [ "$RC" -eq 0 ] && grep -q '"frame":\[4,"m-1","FormationViolation"' "$TMP/malformed.sim.log" &&
	grep -q '"frame":\[4,"m-2","FormationViolation"' "$TMP/malformed.sim.log" &&
	grep -q '"frame":\[4,"csms-1","NotImplemented"' "$TMP/malformed.sim.log" &&
	grep -q '"offered":\["ocpp2.0.1","ocpp1.6"\]' "$TMP/malformed.fake.log" &&
	[ "$(grep -c '"event":"error"' "$TMP/malformed.sim.log")" -ge 4 ]; then
	pass "malformed frames are answered or logged, the session goes on"
else
	fail "malformed frames (rc $RC)" "$TMP/malformed.err" "$TMP/malformed.sim.log"
fi

# ---- --ocpp both: offers 2.0.1 and 1.6, speaks 1.6 when the server chose it
script both.sim <<'EOF'
authorize 04A2B3C4
quit
EOF
start_fake both
run_sim both --ocpp both --script "$TMP/both.sim"
stop_fake
if [ "$RC" -eq 0 ] && grep -q '"offered":\["ocpp2.0.1","ocpp1.6"\]' "$TMP/both.fake.log" &&
	grep -q '"event":"connected","detail":"ocpp1.6"' "$TMP/both.sim.log" &&
	grep -q '"BootNotification",{"chargePointVendor"' "$TMP/both.sim.log" &&
	grep -q '"Authorize",{"idTag":"04A2B3C4"}' "$TMP/both.sim.log"; then
	pass "--ocpp both speaks OCPP 1.6 when the server chose ocpp1.6"
else
	fail "--ocpp both (rc $RC)" "$TMP/both.err" "$TMP/both.sim.log"
fi
timeout 10 "$SIM" --url ws://127.0.0.1:1/x --ocpp 3.0 >/dev/null 2>"$TMP/badocpp.err"
RC=$?
if [ "$RC" -eq 3 ] && grep -q -- '--ocpp must be' "$TMP/badocpp.err"; then
	pass "--ocpp with an unknown version is a usage error"
else
	fail "--ocpp 3.0 (rc $RC)" "$TMP/badocpp.err"
fi

# ---- expect timeout gives exit 1 ----
script timeout.sim <<'EOF'
heartbeat
expect Reset 0.3
quit
EOF
start_fake timeout
run_sim timeout --script "$TMP/timeout.sim"
stop_fake
if [ "$RC" -eq 1 ] && grep -q "timeout.sim:2: expect Reset: timed out" "$TMP/timeout.err"; then
	pass "expect timeout exits 1"
else
	fail "expect timeout (rc $RC, want 1)" "$TMP/timeout.err"
fi

# ---- bad script lines give exit 3 with FILE:LINE ----
bad_line() { # NAME LINE3-TEXT EXPECTED-MESSAGE
	printf 'boot\n# comment\n%s\nquit\n' "$2" >"$TMP/$1.sim"
	timeout 10 "$SIM" --url ws://127.0.0.1:1/x --script "$TMP/$1.sim" >/dev/null 2>"$TMP/$1.err"
	RC=$?
	if [ "$RC" -eq 3 ] && grep -q "$1.sim:3: $3" "$TMP/$1.err"; then
		pass "bad script line '$2' exits 3 with FILE:LINE"
	else
		fail "bad script line '$2' (rc $RC, want 3)" "$TMP/$1.err"
	fi
}
bad_line bad1 'status 1 Bogus' "unknown status 'Bogus'"
bad_line bad2 'frobnicate 1' "unknown command 'frobnicate'"
bad_line bad3 'start 1 TAG' "usage: start C TAG METER_WH"
bad_line bad4 'meter 1 energy=abc' "bad energy 'abc'"
bad_line bad5 'plug 2' "connector 2 does not exist"
bad_line bad6 'answer Reset maybe' "answer must be"
bad_line bad7 'stop 1 100 Because' "unknown stop reason 'Because'"

# ---- bad command lines give exit 3 ----
for args in "--url http://127.0.0.1:1/x" "--url ws://127.0.0.1:1/x --connectors 0" \
	"--url ws://127.0.0.1:1/x --bogus" "--connectors 2" "--url ws://127.0.0.1:99999/x"; do
	# shellcheck disable=SC2086
	timeout 10 "$SIM" $args >/dev/null 2>&1
	RC=$?
	if [ "$RC" -eq 3 ]; then pass "bad command line '$args' exits 3"; else fail "bad command line '$args' (rc $RC)"; fi
done

# ---- cannot connect gives exit 2 ----
FREE=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 10 "$SIM" --url "ws://127.0.0.1:$FREE/ocpp/CP1" --quiet >/dev/null 2>"$TMP/noconn.err"
RC=$?
if [ "$RC" -eq 2 ]; then pass "first connect failure exits 2"; else fail "cannot connect (rc $RC, want 2)" "$TMP/noconn.err"; fi

# ---- every frame validates against the OCPP 1.6 schemas ----
if [ ! -d "$SCHEMAS" ] || ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	fail "schema validation: $SCHEMAS or python3-jsonschema missing"
else
	# what the simulator sent: "out" in its own logs, "in" in the fake's
	for log in "$TMP"/*.sim.log "$TMP"/*.fake.log; do
		dir=out
		case $log in *.fake.log) dir=in ;; esac
		if "$PY" "$VALIDATE" "$log" "$SCHEMAS" --dir $dir --skip-raw >"$TMP/validate.out" 2>&1; then
			pass "schema-valid frames in $(basename "$log")"
		else
			fail "schema validation of $(basename "$log")" "$TMP/validate.out"
		fi
	done
	# the validator itself must reject a bad frame
	sed 's/"meterStart":1000/"meterStart":"1000"/' "$TMP/session.sim.log" >"$TMP/broken.log"
	if ! "$PY" "$VALIDATE" "$TMP/broken.log" "$SCHEMAS" --dir out >"$TMP/validate.out" 2>&1 &&
		grep -q "StartTransaction: meterStart" "$TMP/validate.out"; then
		pass "validator reports an invalid frame"
	else
		fail "validator missed an invalid frame" "$TMP/validate.out"
	fi
fi

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
