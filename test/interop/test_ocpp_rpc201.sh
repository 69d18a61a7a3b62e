#!/bin/bash
# Interoperability with an independent OCPP 2.0.1 implementation: the
# charging station is ocpp-rpc (Node.js) with protocols ['ocpp2.0.1'] and
# strictMode, which validates every call and answer both ways against its
# own copy of the 2.0.1 schemas. It boots, runs a session with an accepted
# tag and one with a refused tag, sends MeterValues and a Heartbeat; then
# every gateway command is driven from the KNX bus, so that each 2.0.1 call
# the gateway can send passes ocpp-rpc's validation, and a Reset makes it
# reboot and boot again.
#
# Environment (set by meson): OCPPKNXD, TEST_SRC (test/interop source dir),
# NPM_CACHE_DIR (where ocpp-rpc is installed once and reused).
set -euo pipefail

INTEROP_SRC=$(cd "${TEST_SRC:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)
NPM_DIR=${NPM_CACHE_DIR:-${TMPDIR:-/tmp}/ocppknx-interop-npm}
source "$INTEROP_SRC/ocpp_rpc_install.sh"
install_ocpp_rpc

TEST_SRC=$INTEROP_SRC/../integration
source "$TEST_SRC/lib.sh"

EXPECTED=GetBaseReport,SetVariables,TriggerMessage,SetChargingProfile
EXPECTED+=,ChangeAvailability,UnlockConnector,ReserveNow,CancelReservation
EXPECTED+=,RequestStartTransaction,RequestStopTransaction,Reset

start_bus
write_config
write_charger R201 "ocpp_version = 2.0.1
start_mode = tag
tags = 04A2B3C4"
start_gateway

mkfifo "$T/r.in"
NODE_PATH=$NPM_DIR/node_modules node "$INTEROP_SRC/ocpp_rpc_charger.js" --ocpp201 \
  --url "ws://127.0.0.1:$PORT/ocpp" --id R201 --events "$T/r-events.jsonl" \
  --frames "$T/r-frames.log" --expect "$EXPECTED" \
  <"$T/r.in" >"$T/r-stdout.log" 2>&1 &
RPC=$!
SIM_PIDS+=("$RPC")
exec {RFD}>"$T/r.in"
cmd() { printf '%s\n' "$1" >&"$RFD"; }

# wait_event ERE [tenths]: a line of the station's event file
wait_event() {
  for _ in $(seq 1 "${2:-150}"); do
    grep -Eq "$1" "$T/r-events.jsonl" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$T/r-stdout.log" >&2
  fail "station: event not seen: $1"
}
count_event() { grep -Ec "$1" "$T/r-events.jsonl" 2>/dev/null || true; }
wait_call() { wait_event "\"ev\":\"call\",\"action\":\"$1\""; }

wait_event '"ev":"booted"'
expect_log "R201: connected from 127\.0\.0\.1:[0-9]+, ocpp2\.0\.1"
cmd "session 04A2B3C4"
cmd "denied 0400000BAD"
cmd "meter"
cmd "heartbeat"
wait_event '"ev":"done","cmd":"heartbeat"'
wait_event '"ev":"denied"'
wait_call SetVariables

# every command from the bus
knx_write 9/7/42 $(knx_dpt f14 8)
wait_call SetChargingProfile
knx_swrite 9/7/5 0
wait_call ChangeAvailability
knx_swrite 9/7/5 1
wait_event '"ev":"answer","action":"ChangeAvailability".*Operative|"operationalStatus":"Operative"'
knx_swrite 9/7/6 1
wait_call UnlockConnector
knx_swrite 9/7/3 1
wait_call ReserveNow
knx_swrite 9/7/3 0
wait_call CancelReservation
knx_swrite 9/7/2 1
wait_call RequestStartTransaction
wait_event '"ev":"started".*"tag":"KNX"'
stopped_before=$(count_event '"ev":"stopped"')
knx_swrite 9/7/2 0
wait_call RequestStopTransaction
for _ in $(seq 1 100); do
  [ "$(count_event '"ev":"stopped"')" -gt "$stopped_before" ] && break
  sleep 0.1
done
[ "$(count_event '"ev":"stopped"')" -gt "$stopped_before" ] || fail "remote stop did not end the transaction"
knx_swrite 9/7/101 1
wait_call Reset
wait_event '"ev":"booted","connection":2'
expect_log "R201: boot \(.*\): vendor"

cmd "quit"
exec {RFD}>&-
rc=0
wait "$RPC" || rc=$?
cat "$T/r-stdout.log"
[ "$rc" -eq 0 ] || fail "ocpp-rpc 2.0.1 station reported findings"
export_sessions "$T/s.csv"
[ "$(grep -c '^R201,1,' "$T/s.csv")" -ge 2 ] || fail "sessions not in the export: $(cat "$T/s.csv")"
! grep -q "internal:" "$GW_LOG" || fail "the gateway logged internal errors"
echo PASS
