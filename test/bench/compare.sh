#!/bin/bash
# Side by side in one run: the same load generator against the no-parse
# floor (floor_server), the Node central system on ocpp-rpc in strict mode
# (node_server.js) and ocppknxd (full validation, bridge to a knxd test bus,
# store on). Servers run on core 0, the generator on core 1. Each round
# measures all three in turn; the medians over the rounds and their ratios
# are printed, since absolute figures move with the machine's other load.
#
#   test/bench/compare.sh BUILD_DIR            CHARGERS (100), CALLS (20000),
#                                              ROUNDS (3), FRAME (large|small),
#                                              PACE_MS (0: closed loop; N: each
#                                              charger waits N ms after an
#                                              answer, an offered rate of
#                                              CHARGERS * 1000 / N calls/s)
#   RESULTS_DIR=DIR keeps each round's output in DIR/SERVER.ROUND
#   test/bench/compare.sh --smoke BUILD_DIR    a short run of each server that
#                                              only checks every call is
#                                              answered (the 'bench' suite)
#
# BUILD_DIR holds gateway/ocppknxd, test/bench/bench_meter and
# test/bench/floor_server (a release build for numbers). The Node server
# needs node and npm; ocpp-rpc is installed into NPM_DIR
# (${TMPDIR:-/tmp}/ocppknx-bench-npm) from test/interop/package.json.
set -euo pipefail

SMOKE=0
if [ "${1:-}" = --smoke ]; then
  SMOKE=1
  shift
fi
BUILD=$(cd "${1:?usage: compare.sh [--smoke] BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OCPPKNXD=$BUILD/gateway/ocppknxd
BENCH_METER=$BUILD/test/bench/bench_meter
FLOOR=$BUILD/test/bench/floor_server
NPM_DIR=${NPM_DIR:-${TMPDIR:-/tmp}/ocppknx-bench-npm}
for f in "$OCPPKNXD" "$BENCH_METER" "$FLOOR"; do
  [ -x "$f" ] || { echo "missing $f (build it first)" >&2; exit 2; }
done
for c in knxd node npm; do
  command -v "$c" >/dev/null || { echo "$c is not installed" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$SMOKE" = 1 ]; then
  CHARGERS=${CHARGERS:-5} CALLS=${CALLS:-500} ROUNDS=1
fi
CHARGERS=${CHARGERS:-100}
CALLS=${CALLS:-20000}
ROUNDS=${ROUNDS:-3}
FRAME=${FRAME:-large}
FRAME_OPT=()
[ "$FRAME" = large ] && FRAME_OPT=(-L)
PACE_MS=${PACE_MS:-0}
[ "$PACE_MS" -gt 0 ] && FRAME_OPT+=(-w "$PACE_MS")
PIN_SERVER=
PIN_LOAD=
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER="taskset -c 0"
  PIN_LOAD="taskset -c 1"
fi

# shellcheck source=lib.sh
. "$HERE/lib.sh"

# RESULTS_DIR: keep every round's "key value" lines there (table.sh)
if [ -n "${RESULTS_DIR:-}" ]; then
  OUT=$RESULTS_DIR
  mkdir -p "$OUT"
else
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-compare.XXXXXX")
fi
SRV_PID=
stop_server() {
  [ -n "$SRV_PID" ] && { kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null || true; }
  SRV_PID=
}
trap 'stop_server; stop_all; [ -n "${RESULTS_DIR:-}" ] || rm -rf "$OUT"' EXIT

install_ocpp_rpc() {
  local want have
  want=$(node -p 'require(process.argv[1]).dependencies["ocpp-rpc"]' \
    "$SRC/test/interop/package.json")
  have=$(node -p 'require(process.argv[1]).version' \
    "$NPM_DIR/node_modules/ocpp-rpc/package.json" 2>/dev/null || true)
  [ "$have" = "$want" ] && return 0
  mkdir -p "$NPM_DIR"
  cp "$SRC/test/interop/package.json" "$NPM_DIR/package.json"
  timeout 240 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
    --loglevel=error >"$NPM_DIR/install.log" 2>&1 \
    || { tail -n 20 "$NPM_DIR/install.log" >&2; exit 2; }
}

wait_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' \
      "$port" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $port did not start" >&2
  exit 1
}

# load NAME PID PORT: the generator against one server, "key value" lines
# saved in $OUT/NAME.ROUND
load() {
  local name=$1 pid=$2 port=$3
  $PIN_LOAD "$BENCH_METER" -u "127.0.0.1:$port" -p "$pid" -c "$CHARGERS" \
    -n "$CALLS" -S 300 "${FRAME_OPT[@]}" >"$OUT/$name.$ROUND" \
    || { echo "$name: the load did not complete" >&2; cat "$OUT/$name.$ROUND" >&2; exit 1; }
}

run_floor() {
  local port
  port=$(free_port)
  $PIN_SERVER "$FLOOR" "$port" &
  SRV_PID=$!
  wait_port "$port"
  load floor "$SRV_PID" "$port"
  stop_server
}

run_node() {
  local port
  port=$(free_port)
  NODE_PATH=$NPM_DIR/node_modules $PIN_SERVER node "$HERE/node_server.js" "$port" \
    >"$OUT/node.log" 2>&1 &
  SRV_PID=$!
  wait_port "$port"
  load node "$SRV_PID" "$port"
  stop_server
}

run_daemon() {
  setup "$CHARGERS"
  load ocppknxd "$GW_PID" "$PORT"
  stop_all
}

install_ocpp_rpc
for ROUND in $(seq 1 "$ROUNDS"); do
  run_floor
  run_node
  run_daemon
done

# median KEY NAME over the rounds
median() {
  local key=$1 name=$2
  cat "$OUT/$name".* | awk -v k="$key" '$1 == k { print $2 }' | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'
}

if [ "$SMOKE" = 1 ]; then
  for name in floor node ocppknxd; do
    [ "$(median calls "$name")" = "$CALLS" ] \
      || { echo "$name answered $(median calls "$name") of $CALLS calls" >&2; exit 1; }
  done
  echo "smoke: every server answered all $CALLS calls from $CHARGERS chargers"
  exit 0
fi

echo "chargers $CHARGERS, calls $CALLS per run, frame $FRAME, pace ${PACE_MS} ms, rounds $ROUNDS (medians)"
printf '%-10s %10s %10s %14s %12s\n' server calls/s p99_ms cpu_s_per_10k vmhwm_mib
for name in floor node ocppknxd; do
  printf '%-10s %10s %10.2f %14s %12.1f\n' "$name" \
    "$(median calls_per_s "$name")" \
    "$(awk -v u="$(median rtt_p99_us "$name")" 'BEGIN { print u / 1000 }')" \
    "$(median daemon_cpu_s_per_10k "$name")" \
    "$(awk -v k="$(median daemon_vmhwm_kib "$name")" 'BEGIN { print k / 1024 }')"
done
f=$(median daemon_cpu_s_per_10k floor)
n=$(median daemon_cpu_s_per_10k node)
d=$(median daemon_cpu_s_per_10k ocppknxd)
awk -v f="$f" -v n="$n" -v d="$d" 'BEGIN {
  printf "ocppknxd / floor CPU per call: %.2f\n", d / f
  printf "node / ocppknxd CPU per call:  %.2f\n", n / d
}'
