#!/bin/bash
# Performance budget runs (DESIGN.md "Performance budget") against the real
# daemon: a knxd test bus, ocppknxd with a generated configuration in a
# temporary directory, then the load. Builds nothing.
#
#   test/bench/run-bench.sh BUILD_DIR [cpu] [mem2] [mem1000] [idle]
#                                     [latency] [telegrams] [reconnect]
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
[ ${#RUNS[@]} -gt 0 ] || RUNS=(cpu mem2 mem1000 idle latency telegrams reconnect)

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

# shellcheck source=lib.sh
. "$HERE/lib.sh"

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
  # what the resident pages are: anonymous memory of the daemon's own, and
  # file pages of the executable and of each shared library
  awk '/^RssAnon:/ { print "daemon_rss_anon_kib", $2 }
       /^RssFile:/ { print "daemon_rss_file_kib", $2 }' "/proc/$GW_PID/status"
  awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6; sub(/.*\//, "", n); if (n == "") n = "[anon]" }
       /^Rss:/ { rss[n] += $2 }
       /^Private_Clean:|^Private_Dirty:/ { own[n] += $2 }
       END { for (n in rss) if (rss[n] > 0)
               printf "rss_kib %s %d private %d\n", n, rss[n], own[n] }' \
    "/proc/$GW_PID/smaps" | sort -k3 -rn
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

run_reconnect() {
  local n=${CHARGERS:-1000} k=${IN_FLIGHT:-64}
  setup "$n"
  echo "== reconnect: $n chargers from one address, $k handshakes in flight"
  meter -c "$n" -o -k "$k" -x -S 500 | tee "$T/reconnect.out"
  echo "handshake_timeouts $(grep -c 'handshake timeout' "$T/gateway.log" || true)"
  stop_all
}

for r in "${RUNS[@]}"; do
  case "$r" in
    cpu|mem2|mem1000|idle|latency|telegrams|reconnect) "run_$r" ;;
    *) echo "unknown run: $r" >&2; exit 2 ;;
  esac
done
