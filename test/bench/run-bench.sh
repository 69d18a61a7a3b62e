#!/bin/bash
# Performance budget runs (DESIGN.md "Performance budget") against the real
# daemon: a knxd test bus, ocppknxd with a generated configuration in a
# temporary directory, then the load. Builds nothing.
#
#   test/bench/run-bench.sh BUILD_DIR [cpu] [mem2] [mem1000] [idle]
#                                     [latency] [telegrams]
#
# Without a run name every run is made. BUILD_DIR must hold
# gateway/ocppknxd and test/bench/bench_meter (a release build:
# meson setup BUILD_DIR -Dbuildtype=release; ninja -C BUILD_DIR).
#
# Environment: CHARGERS (cpu run, 100), CALLS (cpu run, 10000),
# SAMPLES (latency run, 200), VALUES (telegram run, 30 meter values 10 s
# apart = 5 simulated minutes), KEEP=1 keeps the temporary directory.
set -euo pipefail

BUILD=${1:?usage: run-bench.sh BUILD_DIR [cpu|mem2|mem1000|idle|latency|telegrams]...}
shift
RUNS=("$@")
[ ${#RUNS[@]} -gt 0 ] || RUNS=(cpu mem2 mem1000 idle latency telegrams)

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OCPPKNXD=$BUILD/gateway/ocppknxd
BENCH_METER=$BUILD/test/bench/bench_meter
for f in "$OCPPKNXD" "$BENCH_METER"; do
  [ -x "$f" ] || { echo "missing $f (build it first)" >&2; exit 2; }
done
command -v knxd >/dev/null || { echo "knxd not installed" >&2; exit 2; }

# 1000 chargers need 1000 sockets in the daemon and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

T=
KNXD_PID=
GW_PID=

stop_all() {
  [ -n "$GW_PID" ] && { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; }
  [ -n "$KNXD_PID" ] && { kill "$KNXD_PID" 2>/dev/null; wait "$KNXD_PID" 2>/dev/null; }
  GW_PID=
  KNXD_PID=
  if [ -n "$T" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
  T=
}
trap 'stop_all' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# setup N: a bus, a config with N chargers BENCH0001..; every charger has
# the example file's connector objects on group addresses of its own.
setup() {
  local n=$1
  T=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-bench.XXXXXX")
  PORT=$(free_port)
  KNX_URL=local:$T/knx.sock
  knxd -e 0.0.1 -E 0.0.2:30 -u "$T/knx.sock" -b dummy: >"$T/knxd.log" 2>&1 &
  KNXD_PID=$!
  local i rc
  for i in $(seq 1 100); do
    rc=0; timeout 0.3 knxtool groupsocketlisten "$KNX_URL" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 124 ] && break
    sleep 0.05
  done
  mkdir -p "$T/chargers.d" "$T/store"
  cat >"$T/ocppknxd.conf" <<EOF
[ocpp]
listen = 127.0.0.1:$PORT
tls_listen =
heartbeat_interval = 300
call_timeout = 30
meter_sample_interval = 10
[knx]
url = $KNX_URL
max_telegrams_per_second = ${MAX_TPS:-50}
[store]
dir = $T/store
[log]
level = info
trace_ocpp = false
[chargers]
dir = chargers.d
EOF
  python3 "$HERE/bench_knx.py" chargers "$SRC/config/chargers.d/garage.conf" \
    "$T/chargers.d" BENCH "$n"
  "$OCPPKNXD" -c "$T/ocppknxd.conf" >"$T/gateway.log" 2>&1 &
  GW_PID=$!
  for i in $(seq 1 200); do
    kill -0 "$GW_PID" 2>/dev/null || { cat "$T/gateway.log" >&2; exit 1; }
    grep -q 'running:' "$T/gateway.log" && return 0
    sleep 0.05
  done
  echo "gateway did not start" >&2
  exit 1
}

meter() { "$BENCH_METER" -u "127.0.0.1:$PORT" -p "$GW_PID" "$@"; }

# key FILE: the value of "key value" lines
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

run_cpu() {
  local n=${CHARGERS:-100} calls=${CALLS:-10000}
  setup "$n"
  echo "== cpu: $calls MeterValues (3 sampled values) from $n chargers over ws://"
  meter -c "$n" -n "$calls" -S 500 | tee "$T/cpu.out"
  echo "gateway log lines: $(wc -l <"$T/gateway.log")"
  stop_all
}

run_mem2() {
  setup 2
  echo "== mem2: VmRSS with 2 chargers connected (in a transaction)"
  meter -c 2 -n 100 -S 2000
  cat "/proc/$GW_PID/smaps_rollup" 2>/dev/null | sed -n '1,8p'
  stop_all
}

run_mem1000() {
  setup 1000
  echo "== mem1000: VmRSS with 1000 chargers connected over ws://"
  meter -c 1000 -n 10000 -S 2000
  stop_all
}

run_idle() {
  setup 2
  echo "== idle: context switches of the daemon over 10 s, 2 chargers, nothing due"
  meter -c 2 -n 0 -S 3000 -I 10
  stop_all
}

run_latency() {
  setup 1
  echo "== latency: KNX charging=1 -> RemoteStartTransaction; MeterValues -> current telegram"
  python3 "$HERE/bench_knx.py" latency "$PORT" "$KNX_URL" \
    "$T/chargers.d/BENCH0001.conf" "${SAMPLES:-200}"
  stop_all
}

run_telegrams() {
  setup 1
  echo "== telegrams: steady 16 A session, meter values 10 s apart (simulated)"
  python3 "$HERE/bench_knx.py" telegrams "$PORT" "$KNX_URL" \
    "$T/chargers.d/BENCH0001.conf" "${VALUES:-30}"
  stop_all
}

for r in "${RUNS[@]}"; do
  case "$r" in
    cpu|mem2|mem1000|idle|latency|telegrams) "run_$r" ;;
    *) echo "unknown run: $r" >&2; exit 2 ;;
  esac
done
