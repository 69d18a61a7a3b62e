# Shared harness for the integration tests: a knxd test bus on a unix
# socket, the real ocppknxd on 127.0.0.1, the charger simulator, a bus
# monitor. Source it from a test script; everything lives in $T and is
# torn down on exit.
#
# Environment (set by meson): OCPPKNXD, OCPP_SIM, SCHEMA_DIR and
# SCHEMA_DIR_201 (the OCPP 1.6 and 2.0.1 schemas; default: test/data),
# TEST_SRC (test/integration source dir).

set -euo pipefail

T=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-it.XXXXXX")
KNX_SOCK=$T/knx.sock
KNX_URL=local:$KNX_SOCK
BUS_LOG=$T/bus.log
GW_LOG=$T/gateway.log
KNXD_PID=
MON_PID=
GW_PID=
SIM_PIDS=()
PORT=

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

cleanup() {
  local rc=$?
  set +e
  for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
  [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null
  [ -n "$KNXD_PID" ] && kill "$KNXD_PID" 2>/dev/null && wait "$KNXD_PID" 2>/dev/null
  if [ "$rc" -ne 0 ]; then
    echo "---- gateway log ($GW_LOG)" >&2; tail -n 80 "$GW_LOG" >&2 2>/dev/null
    echo "---- bus log" >&2; tail -n 40 "$BUS_LOG" >&2 2>/dev/null
    for f in "$T"/sim*.log; do
      [ -f "$f" ] && { echo "---- $f" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1 (the kernel picks; tests run in parallel).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_bus() {
  knxd -e 0.0.1 -E 0.0.2:30 -u "$KNX_SOCK" -b dummy: >"$T/knxd.log" 2>&1 &
  KNXD_PID=$!
  local i rc
  for i in $(seq 1 100); do
    kill -0 "$KNXD_PID" 2>/dev/null || { cat "$T/knxd.log" >&2; fail "knxd died"; }
    rc=0; timeout 0.3 knxtool groupsocketlisten "$KNX_URL" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 124 ] && return 0
    sleep 0.05
  done
  fail "knxd did not come up"
}

stop_bus() {
  kill "$KNXD_PID" 2>/dev/null || true
  wait "$KNXD_PID" 2>/dev/null || true
  KNXD_PID=
}

# Bus monitor with the marker handshake (knxd-test-bus.md): 31/7/255 is
# never configured for the gateway.
start_monitor() {
  : >"$BUS_LOG"
  knxtool groupsocketlisten "$KNX_URL" >>"$BUS_LOG" 2>&1 &
  MON_PID=$!
  local i
  for i in $(seq 1 50); do
    knxtool groupswrite "$KNX_URL" 31/7/255 1 >/dev/null
    grep -q ' to 31/7/255: 01$' "$BUS_LOG" && return 0
    sleep 0.1
  done
  fail "bus monitor not ready"
}

# expect_bus ERE [tenths of a second]
expect_bus() {
  local i
  for i in $(seq 1 "${2:-50}"); do
    grep -Eq "$1" "$BUS_LOG" && return 0
    sleep 0.1
  done
  fail "not on the bus: $1"
}

# count_bus ERE: how many telegrams match
count_bus() { grep -Ec "$1" "$BUS_LOG" || true; }

# write_config [extra lines for [ocpp]]: main file in $T with the
# charger files of $T/chargers.d (write those before starting).
write_config() {
  PORT=${PORT:-$(free_port)}
  mkdir -p "$T/chargers.d" "$T/store"
  cat >"$T/ocppknxd.conf" <<EOF
[ocpp]
listen = 127.0.0.1:$PORT
heartbeat_interval = 60
call_timeout = ${CALL_TIMEOUT:-5}
${1:-}
[knx]
url = $KNX_URL
max_telegrams_per_second = ${MAX_TPS:-50}
[store]
dir = $T/store
[log]
level = debug
trace_ocpp = true
[chargers]
dir = chargers.d
EOF
}

# write_charger ID [extra [charger] lines]: a charger with every connector 1
# object on the 9/7/x addresses of the example parameter file.
write_charger() {
  local id=$1 extra=${2:-}
  sed -e "s/^id = .*/id = $id/" "$TEST_SRC/../../config/chargers.d/garage.conf" \
    >"$T/chargers.d/$id.conf"
  if [ -n "$extra" ]; then
    /usr/bin/python3 - "$T/chargers.d/$id.conf" "$extra" <<'PY'
import sys
path, extra = sys.argv[1], sys.argv[2]
lines = open(path).read().split('\n')
keys = {l.split('=')[0].strip() for l in extra.split('\n') if '=' in l}
out = []
for l in lines:
    k = l.split('=')[0].strip() if '=' in l else None
    if k in keys:
        continue
    out.append(l)
    if l.strip() == '[charger]':
        out.extend(extra.split('\n'))
open(path, 'w').write('\n'.join(out))
PY
  fi
}

start_gateway() {
  # a second start in one test must wait for its own "running:" line, not
  # find the first run's
  local before i
  before=$(grep -c 'running:' "$GW_LOG" 2>/dev/null || true)
  "$OCPPKNXD" -c "$T/ocppknxd.conf" >>"$GW_LOG" 2>&1 &
  GW_PID=$!
  for i in $(seq 1 100); do
    kill -0 "$GW_PID" 2>/dev/null || { cat "$GW_LOG" >&2; fail "gateway died at start"; }
    [ "$(grep -c 'running:' "$GW_LOG" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
    sleep 0.05
  done
  fail "gateway did not start"
}

stop_gateway() {
  kill "$GW_PID" 2>/dev/null || true
  wait "$GW_PID" 2>/dev/null || true
  GW_PID=
}

# expect_log ERE [tenths]: a line in the gateway log
expect_log() {
  local i
  for i in $(seq 1 "${2:-50}"); do
    grep -Eq "$1" "$GW_LOG" && return 0
    sleep 0.1
  done
  fail "not in the gateway log: $1"
}

# start_sim NAME ID SCRIPT [sim options...]: runs the simulator in the
# background with its frame log in $T/sim-NAME.log; the script is read
# from the file SCRIPT, then commands from the fifo $T/NAME.in (use
# sim_cmd NAME "command").
start_sim() {
  local name=$1 id=$2 script=$3
  shift 3
  mkfifo "$T/$name.in"
  "$OCPP_SIM" --url "ws://127.0.0.1:$PORT/ocpp/$id" --script "$script" --stdin \
    --log "$T/sim-$name.log" --quiet "$@" <"$T/$name.in" >"$T/sim-$name.out" 2>&1 &
  SIM_PIDS+=($!)
  eval "SIM_${name}_PID=$!"
  # keep the fifo open for writing so the simulator does not see EOF
  eval "exec {SIM_${name}_FD}>\"$T/$name.in\""
}

sim_cmd() {
  local fd_var="SIM_$1_FD"
  printf '%s\n' "$2" >&"${!fd_var}"
}

# sim_pid NAME
sim_pid() { local v="SIM_$1_PID"; echo "${!v}"; }

# expect_frame NAME ERE [tenths]: a frame in the simulator's log
expect_frame() {
  local i
  for i in $(seq 1 "${3:-50}"); do
    grep -Eq "$2" "$T/sim-$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no frame /$2/ in sim $1"
}

# The folders of the official schemas, OCPP 1.6 and 2.0.1; a missing one
# fails the test.
schema_dirs() {
  SCHEMA_DIR=${SCHEMA_DIR:-$TEST_SRC/../data/ocpp16/schemas}
  SCHEMA_DIR_201=${SCHEMA_DIR_201:-$TEST_SRC/../data/ocpp201/schemas}
  [ -d "$SCHEMA_DIR" ] || fail "no schema folder $SCHEMA_DIR"
  [ -d "$SCHEMA_DIR_201" ] || fail "no schema folder $SCHEMA_DIR_201"
}

# Every frame the gateway sent to simulator NAME must pass the official
# schemas of the subprotocol of its connection.
validate_frames() {
  schema_dirs
  /usr/bin/python3 "$TEST_SRC/../sim/validate_frames.py" "$T/sim-$1.log" \
    "$SCHEMA_DIR" --schemas201 "$SCHEMA_DIR_201" --dir in ||
    fail "gateway sent frames that fail the schemas"
}

# status_json: GET /status from the gateway (as admin with
# $STATUS_PASSWORD when set: [status] password, tags shown)
status_json() {
  /usr/bin/python3 - "$PORT" "${STATUS_PASSWORD:-}" <<'PY'
import base64, sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/status")
if sys.argv[2]:
    req.add_header("Authorization", "Basic " + base64.b64encode(
        ("admin:" + sys.argv[2]).encode()).decode())
print(urllib.request.urlopen(req, timeout=5).read().decode())
PY
}

# ---- OCPP helpers (ocpp_log.py, ocpp_ws.py beside this file) ----

# ocpp_check NAME KIND KEY EXPR [--nth N|--any|--all] WHAT: a frame in
# simulator NAME's log must satisfy EXPR (see ocpp_log.py), else FAIL: WHAT
ocpp_check() {
  local name=$1 kind=$2 key=$3 expr=$4
  shift 4
  local what=${*: -1}
  local opts=("${@:1:$#-1}")
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$T/sim-$name.log" check "$kind" \
    "$key" "$expr" "${opts[@]}" || fail "$what"
}

# ocpp_get NAME KIND KEY EXPR [--nth N]: prints the value of EXPR
ocpp_get() {
  local name=$1
  shift
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$T/sim-$name.log" get "$@"
}

# ocpp_count NAME KIND KEY: how many frames of that kind
ocpp_count() {
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$T/sim-$1.log" count "$2" "$3"
}

# ocpp_ws CASE [options]: a raw client against the gateway (ocpp_ws.py)
ocpp_ws() {
  /usr/bin/python3 "$TEST_SRC/ocpp_ws.py" "$PORT" "$@"
}

# ocpp_wait_count NAME KIND KEY N [tenths]: until at least N such frames
ocpp_wait_count() {
  local i
  for i in $(seq 1 "${5:-50}"); do
    [ "$(ocpp_count "$1" "$2" "$3")" -ge "$4" ] && return 0
    sleep 0.1
  done
  fail "fewer than $4 frames of $2 $3 in sim $1"
}

# ---- crash and restart (store tests) -------------------------------------

# kill9_gateway: SIGKILL, no chance to flush or close anything
kill9_gateway() {
  kill -9 "$GW_PID" 2>/dev/null || true
  wait "$GW_PID" 2>/dev/null || true
  GW_PID=
}

# restart_gateway [command prefix...]: the gateway again with the same
# config and store; waits for a new "running:" line (the log keeps the
# lines of the runs before).
restart_gateway() {
  local before i
  before=$(cat "$GW_LOG" 2>/dev/null | grep -c 'running:' || true)
  "$@" "$OCPPKNXD" -c "$T/ocppknxd.conf" >>"$GW_LOG" 2>&1 &
  GW_PID=$!
  for i in $(seq 1 200); do
    kill -0 "$GW_PID" 2>/dev/null || { tail -n 20 "$GW_LOG" >&2; fail "gateway died at restart"; }
    [ "$(cat "$GW_LOG" 2>/dev/null | grep -c 'running:' || true)" -gt "$before" ] && return 0
    sleep 0.05
  done
  fail "gateway did not restart"
}

# export_sessions FILE [options...]: the CSV export into FILE
export_sessions() {
  local out=$1
  shift
  "$OCPPKNXD" -c "$T/ocppknxd.conf" --export-sessions "$@" >"$out" \
    || fail "--export-sessions $* failed"
}

# sessions NAME CMD...: store_sessions.py on simulator NAME's log
sessions() {
  local name=$1 cmd=$2
  shift 2
  /usr/bin/python3 "$TEST_SRC/store_sessions.py" "$cmd" "$T/sim-$name.log" "$@"
}

# wait_answered NAME ACTION N [tenths]: until N ACTION calls of simulator
# NAME got their answer
wait_answered() {
  local i
  for i in $(seq 1 "${4:-50}"); do
    [ "$(sessions "$1" answered "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "fewer than $3 answers to $2 in sim $1"
}

# write_charger_at ID MIDDLE [extra]: like write_charger, with the group
# addresses moved from 9/7/x to 9/MIDDLE/x (several chargers per gateway)
write_charger_at() {
  write_charger "$1" "${3:-}"
  sed -i -e "s#= 9/7/#= 9/$2/#" "$T/chargers.d/$1.conf"
}

# wait_answer NAME MSGID [tenths]: prints the answer to the call MSGID that
# simulator NAME sent (see store_sessions.py answer)
wait_answer() {
  local i a
  for i in $(seq 1 "${3:-50}"); do
    a=$(sessions "$1" answer "$2")
    [ -n "$a" ] && { printf '%s\n' "$a"; return 0; }
    sleep 0.1
  done
  fail "no answer to call $2 in sim $1"
}

# accepted_tx ANSWER: the transactionId of a StartTransaction answer (as
# wait_answer prints it) whose idTagInfo is Accepted; FAIL otherwise
accepted_tx() {
  /usr/bin/python3 -c '
import json, sys
a = json.loads(sys.argv[1])
if a.get("idTagInfo", {}).get("status") != "Accepted":
    sys.exit("not accepted: " + sys.argv[1])
print(a["transactionId"])' "$1" || fail "StartTransaction answer $1"
}

# ---- wss:// and security profiles ----------------------------------------

# make_pki: a CA, a server certificate for 127.0.0.1/localhost and the
# directory $T/pki, made by the certs/ tool the installer uses.
PKI=$T/pki
make_pki() {
  local tool=$TEST_SRC/../../certs/ocppknx-certs
  "$tool" ca "$PKI" >/dev/null || fail "ocppknx-certs ca failed"
  "$tool" server "$PKI" localhost 127.0.0.1 >/dev/null ||
    fail "ocppknx-certs server failed"
  TLS_PORT=${TLS_PORT:-$(free_port)}
}

# make_client_cert ID [DIR]: DIR/ID.crt + DIR/ID.key signed by DIR's CA
make_client_cert() {
  "$TEST_SRC/../../certs/ocppknx-certs" client "${2:-$PKI}" "$1" >/dev/null ||
    fail "ocppknx-certs client $1 failed"
}

# tls_config: the [ocpp] lines for a wss:// listener on $TLS_PORT (set by
# make_pki; call it in the same shell before)
tls_config() {
  printf 'tls_listen = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\ntls_ca = %s\n' \
    "$TLS_PORT" "$PKI/server.crt" "$PKI/server.key" "$PKI/ca.crt"
}

# write_secure_charger ID PROFILE [PASSWORD]: a charger without KNX objects
write_secure_charger() {
  mkdir -p "$T/chargers.d"
  {
    printf '[charger]\nid = %s\nsecurity_profile = %s\n' "$1" "$2"
    if [ -n "${3:-}" ]; then printf 'password = %s\n' "$3"; fi
  } >"$T/chargers.d/$1.conf"
}

# sim_once NAME URL [sim options...]: connects, boots, sends a heartbeat
# and quits; returns the simulator's exit status (0 connected, 2 refused).
sim_once() {
  local name=$1 url=$2
  shift 2
  printf 'heartbeat\nquit\n' >"$T/once.sim"
  local rc=0
  timeout 20 "$OCPP_SIM" --url "$url" --script "$T/once.sim" \
    --log "$T/sim-$name.log" --quiet "$@" >"$T/sim-$name.out" 2>&1 || rc=$?
  return "$rc"
}

# expect_sim_ok NAME URL [options...] / expect_sim_refused NAME URL [...]
expect_sim_ok() {
  local name=$1 rc=0
  sim_once "$@" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name: simulator should connect, exit $rc: $(cat "$T/sim-$name.out")"
}
expect_sim_refused() {
  local name=$1 rc=0
  sim_once "$@" || rc=$?
  [ "$rc" -eq 2 ] || fail "$name: simulator should be refused (exit 2), exit $rc: $(cat "$T/sim-$name.out")"
}

# count_log ERE: lines of the gateway log that match
count_log() { grep -Ec "$1" "$GW_LOG" || true; }

# ---- KNX objects (knx_bus.py, knx_dpt.py beside this file) ---------------

# start_stamped_monitor: like start_monitor, but knx_bus.py writes the
# lines, each prefixed with its arrival time ("1712345678.123456 Write
# from ..."); unanchored expect_bus patterns work on both.
start_stamped_monitor() {
  : >"$BUS_LOG"
  /usr/bin/python3 "$TEST_SRC/knx_bus.py" monitor "$KNX_URL" >>"$BUS_LOG" 2>&1 &
  MON_PID=$!
  local i
  for i in $(seq 1 50); do
    knxtool groupswrite "$KNX_URL" 31/7/255 1 >/dev/null
    grep -q ' to 31/7/255: 01$' "$BUS_LOG" && return 0
    sleep 0.1
  done
  fail "stamped bus monitor not ready"
}

# bus_mark: remember how many lines the bus log has; expect_bus_new then
# only looks at the lines after it
BUS_MARK=0
bus_mark() { BUS_MARK=$(wc -l <"$BUS_LOG"); }

# expect_bus_new ERE [tenths]: a telegram after the last bus_mark
expect_bus_new() {
  local i
  for i in $(seq 1 "${2:-50}"); do
    tail -n +"$((BUS_MARK + 1))" "$BUS_LOG" | grep -Eq "$1" && return 0
    sleep 0.1
  done
  fail "not on the bus since the mark: $1"
}

# count_bus_new ERE: telegrams after the last bus_mark that match
count_bus_new() { tail -n +"$((BUS_MARK + 1))" "$BUS_LOG" | grep -Ec "$1" || true; }

# bus_last GA: data of the last Write to GA, as the monitor printed it
bus_last() {
  grep -E "Write from [0-9.]+ to $1: " "$BUS_LOG" | tail -n 1 | sed -e 's/^.*: //'
}

# knx_dpt KIND VALUE: expected data bytes (knx_dpt.py)
knx_dpt() { /usr/bin/python3 "$TEST_SRC/knx_dpt.py" "$@"; }

# knx_read GA [seconds]: data of the Response to a Read of GA; empty when
# none came (knx_bus.py read)
knx_read() {
  /usr/bin/python3 "$TEST_SRC/knx_bus.py" read "$KNX_URL" "$1" "${2:-5}" || true
}

# knx_write GA HEX...: GroupValue_Write with data bytes
knx_write() {
  local ga=$1
  shift
  knxtool groupwrite "$KNX_URL" "$ga" "$@" >/dev/null
}

# knx_swrite GA V: GroupValue_Write, 6-bit form (DPT 1)
knx_swrite() { knxtool groupswrite "$KNX_URL" "$1" "$2" >/dev/null; }

# ---- a billing backend (the gateway's [upstream] links) ----

# start_backend LOG [fake_csms options]: an independent central system
# (test/sim/fake_csms.py) on $BPORT (or --port), heartbeat interval 2 s;
# its pid in BACKEND_PID
start_backend() {
  local log=$1
  shift
  local out=$log.out
  /usr/bin/python3 "$TEST_SRC/../sim/fake_csms.py" --port "${BPORT:-0}" --log "$log" \
    --interval 2 "$@" >"$out" 2>&1 &
  BACKEND_PID=$!
  SIM_PIDS+=("$BACKEND_PID")
  local i
  for i in $(seq 1 50); do
    grep -q '^PORT' "$out" && return 0
    sleep 0.1
  done
  fail "backend did not start"
}

# add_upstream ID [LINES]: an [upstream] section for charger ID's file
# towards the backend on $BPORT, with LINES (default: tags = EMP1)
add_upstream() {
  printf '\n[upstream]\nurl = ws://127.0.0.1:%s/ocpp/{id}\n%s\n' "$BPORT" \
    "${2:-tags = EMP1}" >>"$T/chargers.d/$1.conf"
}

# upstream_charger_up BACKEND_LOG [simulator options]: the gateway with
# charger CP1 and its [upstream] link to the backend already started on
# $BPORT, simulator cp booted, the link registered
upstream_charger_up() {
  local blog=$1
  shift
  write_config
  write_charger CP1
  add_upstream CP1
  start_gateway
  printf 'boot\nheartbeat\n' >"$T/idle.sim"
  start_sim cp CP1 "$T/idle.sim" "$@"
  backend_wait "$blog" BootNotification 1
  link_status 'u["connected"]'
}

# expect_log_count ERE N: until the gateway log has N lines matching ERE
expect_log_count() {
  local i
  for i in $(seq 1 150); do
    [ "$(count_log "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "fewer than $2 lines /$1/ in the gateway log"
}

# backend_count LOG ACTION: CALLs of ACTION the backend got
backend_count() {
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$1" count call "$2"
}

# backend_wait LOG ACTION N: until the backend got N CALLs of ACTION
backend_wait() {
  local i
  for i in $(seq 1 150); do
    [ "$(backend_count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "backend got $(backend_count "$1" "$2") $2, not $3"
}

# backend_check LOG ACTION EXPR WHAT: on the last such CALL
backend_check() {
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$1" check call "$2" "$3" || fail "$4"
}

# link_status [ID] EXPR: /status' upstream object of charger ID (CP1)
# satisfies EXPR (u)
link_status() {
  local id=CP1
  [ $# -eq 2 ] && { id=$1; shift; }
  local i
  for i in $(seq 1 150); do
    status_json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
u = [c for c in st["chargers"] if c["id"] == sys.argv[2]][0].get("upstream")
sys.exit(0 if u is not None and eval(sys.argv[1]) else 1)' "$1" "$id" && return 0
    sleep 0.1
  done
  status_json >&2
  fail "/status upstream: not $1"
}

backend_validate() {
  schema_dirs
  /usr/bin/python3 "$TEST_SRC/../sim/validate_frames.py" "$1" "$SCHEMA_DIR" ||
    fail "frames on the backend link fail the schemas ($1)"
}

# limit_status AMPS SOURCE: /status shows that limit on CP1's connector 1,
# owed to SOURCE ("limit set by" on the status page); AMPS "none": no
# limit of the gateway's
limit_status() {
  local i
  for i in $(seq 1 50); do
    status_json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
c = [c for c in st["chargers"] if c["id"] == "CP1"][0]["connectors"][0]
amps = None if sys.argv[1] == "none" else float(sys.argv[1])
sys.exit(0 if c["limit"] == {"amps": amps, "source": sys.argv[2]} else 1)' "$1" "$2" && return 0
    sleep 0.1
  done
  status_json >&2
  fail "/status: the limit is not $1 A set by $2"
}
