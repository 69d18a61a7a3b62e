#!/bin/bash
# Interoperability with an independent OCPP 1.6J implementation: the charger
# is ocpp-rpc (Node.js) in strict mode, which validates every call and answer
# both ways against its own copy of the OCPP 1.6 schemas. It boots, runs a
# session, and every gateway command is driven from the KNX bus so that each
# call the gateway can send passes ocpp-rpc's validation. Charger a: every
# command, keep-alive pings, UUID message ids, a call the gateway does not
# implement, calls that do not wait, an answer after the call timeout, a
# reset with a reconnect. Charger b: never boots on its own, W limits and
# TxProfile only, stop_mode pause, a refused tag. Charger c: Basic Auth and
# an identity with a space; then the gateway's shutdown (close 1001).
#
# Environment (set by meson): OCPPKNXD, TEST_SRC (test/interop source dir),
# NPM_CACHE_DIR (where ocpp-rpc is installed once and reused).
# Exit 77 (skip) without node/npm or when ocpp-rpc cannot be installed.
set -euo pipefail

INTEROP_SRC=$(cd "${TEST_SRC:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)
NPM_DIR=${NPM_CACHE_DIR:-${TMPDIR:-/tmp}/ocppknx-interop-npm}

skip() { echo "SKIP: $*"; exit 77; }

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"

PINNED=$(node -p 'require(process.argv[1]).dependencies["ocpp-rpc"]' \
  "$INTEROP_SRC/package.json")

installed_version() {
  node -p 'require(process.argv[1]).version' \
    "$NPM_DIR/node_modules/ocpp-rpc/package.json" 2>/dev/null || true
}

# ocpp-rpc at the pinned version in $NPM_DIR, installed on the first run and
# reused after; the lock keeps parallel runs from installing at once.
install_ocpp_rpc() {
  mkdir -p "$NPM_DIR" || skip "cannot create $NPM_DIR"
  exec {lock_fd}>"$NPM_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 "$lock_fd" || skip "could not lock $NPM_DIR"
  fi
  if [ "$(installed_version)" != "$PINNED" ]; then
    cp "$INTEROP_SRC/package.json" "$NPM_DIR/package.json"
    echo "# installing ocpp-rpc $PINNED into $NPM_DIR"
    timeout 240 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
      --loglevel=error >"$NPM_DIR/install.log" 2>&1 || {
      tail -n 20 "$NPM_DIR/install.log"
      skip "npm could not install ocpp-rpc $PINNED (see $NPM_DIR/install.log)"
    }
  fi
  [ "$(installed_version)" = "$PINNED" ] ||
    skip "ocpp-rpc $PINNED not found in $NPM_DIR after npm install"
  exec {lock_fd}>&-
}
install_ocpp_rpc

# lib.sh finds its helper scripts beside itself through TEST_SRC
TEST_SRC=$INTEROP_SRC/../integration
source "$TEST_SRC/lib.sh"

EXPECTED=GetConfiguration,ChangeConfiguration,TriggerMessage,RemoteStartTransaction
EXPECTED+=,RemoteStopTransaction,ChangeAvailability,UnlockConnector,ReserveNow
EXPECTED+=,CancelReservation,SetChargingProfile,Reset
declare -A RPC_PID RPC_FD

# start_rpc NAME ID [charger options...]: the ocpp-rpc charger NAME in the
# background, commands through the fifo $T/NAME.in (rpc_cmd), events in
# $T/NAME-events.jsonl, frames in $T/sim-NAME-frames.log
start_rpc() {
  local name=$1 id=$2 fd
  shift 2
  mkfifo "$T/$name.in"
  NODE_PATH=$NPM_DIR/node_modules node "$INTEROP_SRC/ocpp_rpc_charger.js" \
    --url "ws://127.0.0.1:$PORT/ocpp" --id "$id" --events "$T/$name-events.jsonl" \
    --frames "$T/sim-$name-frames.log" "$@" \
    <"$T/$name.in" >"$T/sim-$name-stdout.log" 2>&1 &
  RPC_PID[$name]=$!
  SIM_PIDS+=("$!")
  exec {fd}>"$T/$name.in"
  RPC_FD[$name]=$fd
}

rpc_cmd() { printf '%s\n' "$2" >&"${RPC_FD[$1]}"; }

# expect_event NAME ERE [tenths]: a line of charger NAME's event file
expect_event() {
  for _ in $(seq 1 "${3:-100}"); do
    grep -Eq "$2" "$T/$1-events.jsonl" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "charger $1: event not seen: $2"
}

count_event() { grep -Ec "$2" "$T/$1-events.jsonl" 2>/dev/null || true; }

# wait_calls NAME ACTION N [tenths]: charger NAME received N calls of ACTION
wait_calls() {
  for _ in $(seq 1 "${4:-100}"); do
    [ "$(count_event "$1" "\"ev\":\"call\",\"action\":\"$2\"")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "charger $1 received fewer than $3 $2 calls"
}

# wait_done NAME CMD N [tenths]: charger NAME finished its Nth command CMD
wait_done() {
  for _ in $(seq 1 "${4:-150}"); do
    [ "$(count_event "$1" "\"ev\":\"done\",\"cmd\":\"$2\"")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "charger $1 did not finish '$2' #$3"
}

# ev_check NAME JS WHAT: JS is true over charger NAME's events (E: all,
# calls(A): params of the calls of action A, answers(A): the answers to its
# calls of A, last(list), limits(): the SetChargingProfile limits, in order)
ev_check() {
  node -e '
const fs = require("fs");
const E = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const calls = (a) => E.filter((e) => e.ev === "call" && e.action === a).map((e) => e.params);
const answers = (a) => E.filter((e) => e.ev === "answer" && e.action === a).map((e) => e.result);
const last = (l) => l[l.length - 1];
const limits = () => calls("SetChargingProfile").map(
  (p) => p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit);
process.exit(eval(process.argv[2]) ? 0 : 1);' "$T/$1-events.jsonl" "$2" || fail "charger $1: $3"
}

# finish_rpc NAME: quit charger NAME; its exit status is the verdict
finish_rpc() {
  local rc=0 pid=${RPC_PID[$1]}
  rpc_cmd "$1" quit
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid" || rc=$?
  sed -e "s/^/# $1: /" "$T/sim-$1-stdout.log"
  [ "$rc" -eq 0 ] || fail "charger $1: ocpp-rpc found problems (exit $rc)"
}

# CP1 (a): defaults on 9/7/x. CP2 (b): stop_mode pause on 9/1/x; its charger
# never boots on its own, takes limits in W only and TxProfile only.
start_bus
write_config
write_charger RPC0001
write_charger_at RPC0002 1 'stop_mode = pause
tags = 04A2B3C4D5E6F7'
write_secure_charger 'RPC 0003' 1 'pw:with:colons'
start_gateway
start_monitor
start_rpc a RPC0001 --expect "$EXPECTED" --ping-ms 2000 --slow UnlockConnector:6500
start_rpc b RPC0002 --no-boot --power-only --only-tx-profile \
  --expect TriggerMessage,GetConfiguration,RemoteStartTransaction,SetChargingProfile

# ---- boot and the gateway's configuration calls ---------------------------
expect_event a '"ev":"booted","connection":1'
wait_calls a GetConfiguration 1
wait_calls a ChangeConfiguration 1
wait_calls a TriggerMessage 1
ev_check a 'calls("TriggerMessage").some((p) => p.requestedMessage === "StatusNotification")' \
  "no TriggerMessage StatusNotification after boot"
expect_bus ' to 9/7/52: 01$'

# ---- a local session with a tag: Authorize .. StopTransaction --------------
bus_mark
rpc_cmd a "session 04A2B3C4D5E6F7"
wait_done a session 1
ev_check a 'last(answers("Authorize")).idTagInfo.status === "Accepted"' "Authorize not accepted"
ev_check a 'answers("MeterValues").length >= 2' "MeterValues not answered"
expect_bus_new ' to 9/7/1: 01$'
expect_bus_new ' to 9/7/1: 00$'

# ---- every KNX command becomes a call that passes strict validation -------
# charging 1: RemoteStartTransaction, the charger starts a transaction
knx_swrite 9/7/2 1
wait_calls a RemoteStartTransaction 1
expect_event a '"ev":"started","tx":[0-9]+,"tag":"KNX"'
ev_check a 'last(calls("RemoteStartTransaction")).idTag === "KNX"' "remote start without idTag KNX"

# max_current 10 A (DPT 14: 41 20 00 00), then 10.2 A (41 23 33 33)
knx_write 9/7/42 41 20 00 00
wait_calls a SetChargingProfile 1
ev_check a 'limits()[0] === 10' "max_current 10 A did not send a 10 A limit"
knx_write 9/7/42 41 23 33 33
wait_calls a SetChargingProfile 2
ev_check a 'limits()[1] >= 10 && limits()[1] <= 10.2' \
  "max_current 10.2 A did not send a limit of 10.0..10.2 A"

# fast_charging 0 / 1: normal_current 10 A / fast_current 16 A
knx_swrite 9/7/44 0
wait_calls a SetChargingProfile 3
knx_swrite 9/7/44 1
wait_calls a SetChargingProfile 4
ev_check a 'limits()[2] === 10 && limits()[3] === 16' "fast_charging 0/1 did not set 10 A, 16 A"

# charging 0: RemoteStopTransaction of the running transaction
knx_swrite 9/7/2 0
wait_calls a RemoteStopTransaction 1
expect_event a '"ev":"stopped","tx":[0-9]+,"reason":"Remote"'
ev_check a 'last(calls("RemoteStopTransaction")).transactionId === E.filter((e) => e.ev === "started").pop().tx' \
  "RemoteStopTransaction named another transaction"

# reserve 1 / 0
knx_swrite 9/7/3 1
wait_calls a ReserveNow 1
expect_bus ' to 9/7/0: 06 $'
knx_swrite 9/7/3 0
wait_calls a CancelReservation 1
ev_check a 'calls("CancelReservation")[0].reservationId === calls("ReserveNow")[0].reservationId' \
  "CancelReservation named another reservation"

# availability 0 / 1, unlock 1
knx_swrite 9/7/5 0
wait_calls a ChangeAvailability 1
knx_swrite 9/7/5 1
wait_calls a ChangeAvailability 2
ev_check a 'calls("ChangeAvailability").map((p) => p.type).join() === "Inoperative,Operative"' \
  "availability 0/1 did not send Inoperative then Operative"
# the charger answers UnlockConnector after 6.5 s, past call_timeout (5 s):
# the gateway gives up, then drops the late answer without a CALLERROR (the
# charger would report that as a bad message)
knx_swrite 9/7/6 1
wait_calls a UnlockConnector 1
expect_log 'RPC0001: .*UnlockConnector.*(Timeout|timed out)' 70
expect_event a '"ev":"late-answer","action":"UnlockConnector"' 50

# ---- a call the gateway does not implement: a CALLERROR, not a crash ------
rpc_cmd a unsupported
wait_done a unsupported 1
expect_event a '"ev":"callerror","action":"SignCertificate","code":"(NotImplemented|NotSupported)"'
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died on SignCertificate"
# a security event of a charger on a security profile is answered
rpc_cmd a security
wait_done a security 1
ev_check a 'answers("SecurityEventNotification").length === 1' \
  "SecurityEventNotification not answered"
expect_log 'RPC0001: security event SettingSystemTime' 30
rpc_cmd a heartbeat
wait_done a heartbeat 1
ev_check a 'answers("Heartbeat").length === 1' "no Heartbeat answer after the unsupported call"

# ---- the rest of what a charger sends, and calls that do not wait ---------
rpc_cmd a misc
wait_done a misc 1
ev_check a 'answers("DataTransfer").length === 1 && answers("FirmwareStatusNotification").length === 1' \
  "DataTransfer / FirmwareStatusNotification not answered"
rpc_cmd a "burst 4"
wait_done a burst 1
rpc_cmd a raw-invalid
wait_done a raw-invalid 1
ev_check a 'answers("Heartbeat").length === 5' "a burst of 4 Heartbeats did not get 4 answers"

# ---- keep-alive: pings every 2 s, the connection stays up for 6 s ---------
rpc_cmd a "idle 6"
wait_done a idle 1 100
ev_check a 'E.find((e) => e.ev === "idle").pongs >= 2' "fewer than 2 pongs in 6 s"

# ---- reset 1: Reset Soft, the charger reconnects and boots again ----------
knx_swrite 9/7/101 1
wait_calls a Reset 1
ev_check a 'calls("Reset")[0].type === "Soft"' "reset did not send Reset Soft"
expect_event a '"ev":"booted","connection":2'
wait_calls a GetConfiguration 2

# ---- CP2: asked to boot, W limits, TxProfile only, pause and resume -------
wait_calls b TriggerMessage 1
ev_check b 'calls("TriggerMessage")[0].requestedMessage === "BootNotification"' \
  "a charger without BootNotification was not asked for one"
expect_event b '"ev":"booted","connection":1'
wait_calls b GetConfiguration 1
expect_bus ' to 9/1/52: 01$'
# a tag that is not in the list: refused, the transaction stopped DeAuthorized
rpc_cmd b "denied 0411223344"
wait_done b denied 1
expect_event b '"ev":"denied","tag":"0411223344","auth":"Invalid","start":"Invalid"'
expect_event b '"ev":"stopped","tx":[0-9]+,"reason":"DeAuthorized"'
knx_swrite 9/1/2 1
wait_calls b RemoteStartTransaction 1
expect_event b '"ev":"started","tx":[0-9]+,"tag":"KNX"'
knx_write 9/1/42 41 23 33 33
wait_calls b SetChargingProfile 3
ev_check b 'calls("SetChargingProfile").map((p) => p.csChargingProfiles.chargingProfilePurpose).join() === "ChargePointMaxProfile,TxDefaultProfile,TxProfile"' \
  "limit strategies not tried in order ChargePointMax, TxDefault, Tx"
ev_check b '((p) => p.csChargingProfiles.transactionId === E.find((e) => e.ev === "started").tx && p.csChargingProfiles.chargingSchedule.chargingRateUnit === "W")(last(calls("SetChargingProfile")))' \
  "TxProfile without the running transaction or not in W"
# a W-limited charger gets the wish converted: 10.2 A * 230 V * 3 phases
ev_check b 'limits()[2] === 7038' \
  "10.2 A was not sent as 7038 W"
# stop_mode pause: charging 0 is a 0 W TxProfile, charging 1 lifts it again
knx_swrite 9/1/2 0
wait_calls b SetChargingProfile 4
ev_check b 'limits()[3] === 0' "charging 0 in pause mode did not send a 0 W limit"
knx_swrite 9/1/2 1
wait_calls b SetChargingProfile 5
ev_check b 'limits()[4] > 0' "charging 1 after a pause did not lift the limit"

# ---- CP3: Basic Auth (profile 1), an identity with a space (%20 in the URL)
start_rpc d 'RPC 0003' --password wrong-password
rc=0
for _ in $(seq 1 100); do kill -0 "${RPC_PID[d]}" 2>/dev/null || break; sleep 0.1; done
wait "${RPC_PID[d]}" || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q 'Unauthorized' "$T/sim-d-stdout.log"; then
  fail "a wrong Basic Auth password was not refused: $(cat "$T/sim-d-stdout.log")"
fi
expect_log 'RPC 0003: refused .*HTTP 401'

start_rpc c 'RPC 0003' --password 'pw:with:colons' --expect GetConfiguration
expect_event c '"ev":"booted","connection":1'
wait_calls c GetConfiguration 1

# ---- the chargers' verdicts ------------------------------------------------
finish_rpc a
finish_rpc b
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway is not running"
# SIGTERM closes the chargers' WebSockets with 1001 (going away); stopping
# also lets LeakSanitizer report
rpc_cmd c expect-close
wait_done c expect-close 1
stop_gateway
expect_event c '"ev":"disconnect","code":1001'
finish_rpc c
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$GW_LOG"; then
  fail "sanitizer report in the gateway log"
fi
note "ocpp-rpc $PINNED strict mode: no validation errors, every expected call seen"
