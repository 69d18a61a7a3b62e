#!/bin/bash
# The whole comparison in one go, printed as the table of PERFORMANCE.md:
# the no-parse floor, the Node ocpp-rpc strict server and ocppknxd under
# the same closed-loop MeterValues load for 1, 100 and 1000 chargers
# (compare.sh), then ocppknxd alone for memory with 2 chargers, the idle
# case, 1000 chargers at once from one address, and the KNX latency and
# bus load (run-bench.sh). A closed loop measures what a server can take;
# its p99 is the queue of every charger's call (Little's law: at N
# chargers the mean wait is N / throughput), so the 1000-charger latency
# is also measured paced (PACED: chargers and the pause after each answer,
# in ms), a load of chargers that are not in step. Every case runs ROUNDS
# times; the table shows the medians and the ratios of the medians.
#
#   test/bench/table.sh BUILD_DIR     COUNTS ("1 100 1000"), ROUNDS (3),
#                                     CALLS (20000 per load run),
#                                     PACED ("1000:100"; "" for none)
#
# BUILD_DIR: a release build with gateway/ocppknxd, test/bench/bench_meter
# and test/bench/floor_server. Needs knxd, node and npm (compare.sh).
set -euo pipefail

BUILD=$(cd "${1:?usage: table.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
COUNTS=${COUNTS:-1 100 1000}
PACED=${PACED-1000:100}
ROUNDS=${ROUNDS:-3}
export ROUNDS CALLS=${CALLS:-20000}
RES=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-table.XXXXXX")
trap 'rm -rf "$RES"' EXIT

# median KEY FILES...: the median of "KEY value" over the files
median() {
  local key=$1
  shift
  cat "$@" 2>/dev/null | awk -v k="$key" '$1 == k { print $2 }' | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'
}

for n in $COUNTS; do
  echo "== load: $n chargers, $ROUNDS rounds" >&2
  CHARGERS=$n RESULTS_DIR=$RES/load$n "$HERE/compare.sh" "$BUILD" >&2
done
for p in $PACED; do
  echo "== paced load: ${p%%:*} chargers, ${p##*:} ms after each answer" >&2
  CHARGERS=${p%%:*} PACE_MS=${p##*:} RESULTS_DIR=$RES/paced${p%%:*} \
    "$HERE/compare.sh" "$BUILD" >&2
done
for run in mem2 idle reconnect latency telegrams; do
  for r in $(seq 1 "$ROUNDS"); do
    echo "== $run, round $r" >&2
    CHARGERS=1000 "$HERE/run-bench.sh" "$BUILD" "$run" >"$RES/$run.$r" 2>&1 \
      || { cat "$RES/$run.$r" >&2; exit 1; }
  done
done

echo "Medians of $ROUNDS rounds; $CALLS closed-loop MeterValues calls (930-byte frame) per load run."
echo
echo "| server | chargers | calls/s | p99 ms | CPU-s per 10k calls | VmHWM MiB |"
echo "|---|---|---|---|---|---|"
for n in $COUNTS; do
  for s in floor node ocppknxd; do
    f=("$RES/load$n/$s".*)
    awk -v s="$s" -v n="$n" -v c="$(median calls_per_s "${f[@]}")" \
      -v p="$(median rtt_p99_us "${f[@]}")" -v u="$(median daemon_cpu_s_per_10k "${f[@]}")" \
      -v m="$(median daemon_vmhwm_kib "${f[@]}")" \
      'BEGIN { printf "| %s | %d | %.0f | %.2f | %.3f | %.1f |\n", s, n, c, p / 1000, u, m / 1024 }'
  done
done
for p in $PACED; do
  n=${p%%:*} w=${p##*:}
  for s in floor node ocppknxd; do
    f=("$RES/paced$n/$s".*)
    awk -v s="$s" -v n="$n" -v w="$w" -v c="$(median calls_per_s "${f[@]}")" \
      -v p="$(median rtt_p99_us "${f[@]}")" -v u="$(median daemon_cpu_s_per_10k "${f[@]}")" \
      -v m="$(median daemon_vmhwm_kib "${f[@]}")" \
      'BEGIN { printf "| %s | %d, paced %d ms | %.0f | %.2f | %.3f | %.1f |\n", s, n, w, c, p / 1000, u, m / 1024 }'
  done
done
echo
echo "| ratio of CPU per call | chargers | value |"
echo "|---|---|---|"
for n in $COUNTS; do
  fl=$(median daemon_cpu_s_per_10k "$RES/load$n/floor".*)
  no=$(median daemon_cpu_s_per_10k "$RES/load$n/node".*)
  gw=$(median daemon_cpu_s_per_10k "$RES/load$n/ocppknxd".*)
  awk -v n="$n" -v f="$fl" -v o="$no" -v g="$gw" 'BEGIN {
    if (f > 0) printf "| ocppknxd / floor | %d | %.2f |\n", n, g / f
    if (g > 0) printf "| node / ocppknxd | %d | %.2f |\n", n, o / g
  }'
done
echo
echo "| ocppknxd alone | median |"
echo "|---|---|"
printf '| VmRSS with 2 chargers | %s KiB |\n' "$(median daemon_vmrss_kib "$RES"/mem2.*)"
printf '| of that anonymous / file pages (executable, libraries) | %s / %s KiB |\n' \
  "$(median daemon_rss_anon_kib "$RES"/mem2.*)" "$(median daemon_rss_file_kib "$RES"/mem2.*)"
printf '| context switches in 10 s idle, 2 chargers | %s |\n' \
  "$(median daemon_ctxt_switches "$RES"/idle.*)"
printf '| 1000 chargers from one address, 64 in flight: all booted after | %s s |\n' \
  "$(median ready_s "$RES"/reconnect.*)"
printf '| of those refused / handshake timeouts | %s / %s |\n' \
  "$(median chargers_refused "$RES"/reconnect.*)" "$(median handshake_timeouts "$RES"/reconnect.*)"
printf '| KNX → OCPP p99 (charging=1 → RemoteStartTransaction) | %s ms |\n' \
  "$(median knx_to_ocpp_p99_ms "$RES"/latency.*)"
printf '| OCPP → KNX p99 (MeterValues → current telegram) | %s ms |\n' \
  "$(median ocpp_to_knx_p99_ms "$RES"/latency.*)"
printf '| bus load, steady 16 A session | %s telegrams per charger-hour |\n' \
  "$(median telegrams_per_charger_hour "$RES"/telegrams.*)"
