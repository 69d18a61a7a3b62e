# Shared by run-bench.sh and compare.sh: a knxd test bus and ocppknxd with
# a generated configuration in a temporary directory. Expects HERE, SRC,
# OCPPKNXD and BENCH_METER to be set.

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
  # PIN_SERVER: a command prefix such as "taskset -c 0" (compare.sh)
  ${PIN_SERVER:-} "$OCPPKNXD" -c "$T/ocppknxd.conf" >"$T/gateway.log" 2>&1 &
  GW_PID=$!
  for i in $(seq 1 200); do
    kill -0 "$GW_PID" 2>/dev/null || { cat "$T/gateway.log" >&2; exit 1; }
    grep -q 'running:' "$T/gateway.log" && return 0
    sleep 0.05
  done
  echo "gateway did not start" >&2
  exit 1
}

