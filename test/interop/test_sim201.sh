#!/bin/bash
# The simulator's OCPP 2.0.1 mode against an independent CSMS: ocpp-rpc's
# RPCServer in strict mode (ocpp201_csms.js) validates every call and answer
# both ways against its own OCPP 2.0.1 schemas. Station SIM201 runs a local
# session, then answers every command the CSMS sends (variables, base
# report, remote start/stop, a W charging profile, reservation, availability,
# unlock, triggers, an unimplemented action, Reset OnIdle). Station SIMOFF
# (offering both versions) loses the network mid-transaction and replays the
# stored TransactionEvents with offline:true. Station SIMLIM charges under a
# 6900 W station limit and must report 10 A per phase; SIMRST gets Reset
# OnIdle while charging; SIMBAD starts with a token the CSMS refuses. The ocpp-rpc charger's 2.0.1
# mode runs against the same CSMS. Each frame log is validated with
# validate_frames.py against test/data/ocpp201/schemas.
#
# Environment (set by meson): SIM (ocpp-charger-sim), TEST_SRC (test/interop
# source dir), NPM_CACHE_DIR (where ocpp-rpc is installed once and reused).
# Exit 77 (skip) without node/npm or when ocpp-rpc cannot be installed.
set -euo pipefail

INTEROP_SRC=$(cd "${TEST_SRC:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)
NPM_DIR=${NPM_CACHE_DIR:-${TMPDIR:-/tmp}/ocppknx-interop-npm}
SIM=${SIM:?SIM must name ocpp-charger-sim}
DATA=$INTEROP_SRC/../data
VALIDATE=$INTEROP_SRC/../sim/validate_frames.py

source "$INTEROP_SRC/ocpp_rpc_install.sh"
install_ocpp_rpc

T=$(mktemp -d)
CSMS_PID=
cleanup() {
  [ -n "$CSMS_PID" ] && kill "$CSMS_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

NODE_PATH=$NPM_DIR/node_modules node "$INTEROP_SRC/ocpp201_csms.js" \
  --port-file "$T/port" --events "$T/csms.jsonl" --drive SIM201,RPC201 --offline SIMOFF --limit SIMLIM --reset SIMRST \
  --reject-tag 0400000BAD >"$T/csms.out" 2>&1 &
CSMS_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(awk '/^PORT /{print $2}' "$T/port" 2>/dev/null || true)
[ -n "$PORT" ] || { cat "$T/csms.out"; echo "FAIL: the CSMS did not start"; exit 1; }

cat >"$T/full.sim" <<'SIM'
plug 1
authorize 04A2B3C4
start 1 04A2B3C4 1000
meter 1 energy=1500 current.L1=16 current.L2=16 current.L3=15.5 power=11000 voltage=230
stop 1 2500 Local
unplug 1
expect Reset 90
wait 3
quit
SIM
cat >"$T/offline.sim" <<'SIM'
plug 1
start 1 04A2B3C4 1000
offline
meter 1 energy=1200 current=16
stop 1 1300 Local
connect
wait 2
quit
SIM

# run_sim NAME ID [sim options]: the simulator's log in $T/NAME.log
run_sim() {
  local name=$1 id=$2 rc=0
  shift 2
  timeout 120 "$SIM" --url "ws://127.0.0.1:$PORT/ocpp/$id" --quiet \
    --log "$T/$name.log" "$@" >"$T/$name.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { fail "simulator $name exited $rc"; cat "$T/$name.out"; }
  python3 "$VALIDATE" "$T/$name.log" "$DATA/ocpp16/schemas" --schemas201 "$DATA/ocpp201/schemas" ||
    fail "frames of simulator $name do not validate"
}

run_sim full SIM201 --ocpp 2.0.1 --script "$T/full.sim"
run_sim offline SIMOFF --ocpp both --script "$T/offline.sim"
cat >"$T/limit.sim" <<'SIM'
expect SetChargingProfile 30
charge 1 04A2B3C4 2 16
quit
SIM
run_sim limit SIMLIM --ocpp 2.0.1 --script "$T/limit.sim"
cat >"$T/reset.sim" <<'SIM'
plug 1
start 1 04A2B3C4 100
expect Reset 30
wait 1
stop 1 200 Local
wait 3
quit
SIM
run_sim reset SIMRST --ocpp 2.0.1 --script "$T/reset.sim"
# a token the CSMS refuses in its TransactionEvent answer: the station stops
cat >"$T/refused.sim" <<'SIM'
plug 1
start 1 0400000BAD 100
wait 1
quit
SIM
run_sim refused SIMBAD --ocpp 2.0.1 --script "$T/refused.sim"
grep -q '"TransactionEvent",{"eventType":"Ended".*"stoppedReason":"DeAuthorized"' "$T/refused.log" ||
  grep -q '"TransactionEvent",{.*"eventType":"Ended".*"DeAuthorized"' "$T/refused.log" ||
  fail "a refused token did not end the transaction DeAuthorized"

# what the CSMS cannot see: the station applied the W limit it was sent
grep -q '"event":"charging-profile".*"limit":7000.0*,.*"unit":"W"' "$T/full.log" ||
  grep -q '"event":"charging-profile".*"unit":"W".*"limit":7000' "$T/full.log" ||
  fail "the simulator did not log the 7000 W charging profile"
grep -q '"event":"connected","detail":"ocpp2.0.1"' "$T/offline.log" ||
  fail "--ocpp both did not take ocpp2.0.1 when the server chose it"

# the ocpp-rpc charger in its 2.0.1 mode against the same CSMS
if grep -q -- '--ocpp201' "$INTEROP_SRC/ocpp_rpc_charger.js"; then
  mkfifo "$T/rpc.in"
  NODE_PATH=$NPM_DIR/node_modules node "$INTEROP_SRC/ocpp_rpc_charger.js" --ocpp201 \
    --url "ws://127.0.0.1:$PORT/ocpp" --id RPC201 --events "$T/rpc-events.jsonl" \
    --frames "$T/rpc-frames.log" <"$T/rpc.in" >"$T/rpc.out" 2>&1 &
  RPC_PID=$!
  exec {rpc_fd}>"$T/rpc.in"
  # the CSMS drives its commands after the first session, then says so
  printf 'session 04A2B3C4\nwait-file %s\ndenied 0400000BAD\nmeter\nheartbeat\nquit\n' \
    "$T/rpc201.driven" >&"$rpc_fd"
  for _ in $(seq 600); do
    grep -q '"ev":"drive-done","id":"RPC201"' "$T/csms.jsonl" 2>/dev/null && break
    sleep 0.1
  done
  touch "$T/rpc201.driven"
  rc=0
  wait "$RPC_PID" || rc=$?
  exec {rpc_fd}>&-
  sed -e 's/^/# rpc201: /' "$T/rpc.out"
  [ "$rc" -eq 0 ] || fail "the ocpp-rpc 2.0.1 charger found problems (exit $rc)"
fi

kill -TERM "$CSMS_PID"
rc=0
wait "$CSMS_PID" || rc=$?
CSMS_PID=
sed -e 's/^/# csms: /' "$T/csms.out"
[ "$rc" -eq 0 ] || fail "the ocpp-rpc CSMS found problems (exit $rc)"
[ "$FAILS" -eq 0 ] || exit 1
echo "ok: simulator OCPP 2.0.1 mode passes ocpp-rpc strict mode both ways"
