#!/bin/bash
# max_telegrams_per_second = 5: a burst of charger events reaches the bus
# spread out (no 1-second window with more than 5 telegrams, +1 for the
# window edges), coalesced per group address, and the last value of each
# address is what the bus ends with.
source "$TEST_SRC/lib.sh"

MAX_TPS=5
start_bus
write_config
write_charger CP1
start_gateway
start_stamped_monitor

N=30
{
  echo "plug 1"
  echo "start 1 TAG-1 1500000"
  for i in $(seq 1 $N); do
    echo "meter 1 energy=$((1500000 + 1000 * i)) current=$((6 + i / 2)).$((i % 2 * 5)) power=$((1000 + 500 * i))"
    if [ $((i % 5)) -eq 0 ]; then
      [ $((i % 10)) -eq 0 ] && echo "status 1 Charging" || echo "status 1 SuspendedEV"
    fi
  done
} >"$T/a.sim"
start_sim a CP1 "$T/a.sim"
ocpp_wait_count a answer MeterValues $N 100
sent_at=$(date +%s.%N)

last_energy=$((1500000 + 1000 * N))
expect_bus " to 9/7/46: $(knx_dpt i13 $((last_energy / 1000)))$" 150
expect_bus " to 9/7/11: $(knx_dpt i13 $((1000 * N)))$" 150
expect_bus " to 9/7/40: $(knx_dpt f14 $((6 + N / 2)).$((N % 2 * 5)))$" 150
expect_bus " to 9/7/45: $(knx_dpt f14 $((1000 + 500 * N)))$" 150
sleep 1   # anything still queued would show up now

/usr/bin/python3 - "$BUS_LOG" "$N" "$sent_at" \
  "$(knx_dpt i13 $((last_energy / 1000)))" "$(knx_dpt i13 $((1000 * N)))" \
  "$(knx_dpt f14 $((6 + N / 2)).$((N % 2 * 5)))" "$(knx_dpt f14 $((1000 + 500 * N)))" <<'PY' || fail "rate limit or coalescing broken"
import re, sys
log, n, sent_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
want_last = {"9/7/46": sys.argv[4], "9/7/11": sys.argv[5], "9/7/40": sys.argv[6],
             "9/7/45": sys.argv[7], "9/7/0": "02 ", "9/7/1": "01"}
line_re = re.compile(r"^(\d+\.\d+) (Write|Response) from ([0-9.]+) to (\S+): (.*)$")
rows = [m.groups() for m in map(line_re.match, open(log).read().splitlines()) if m]
gw = {src for _, _, src, ga, _ in rows if ga == "9/7/52"}
if len(gw) != 1:
    sys.exit(f"gateway address unclear: {gw}")
src = gw.pop()
tel = [(float(t), ga, data) for t, _, s, ga, data in rows if s == src]
times = [t for t, _, _ in tel]
worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
span = times[-1] - times[0]
print(f"# {len(tel)} telegrams from {src} in {span:.2f} s, at most {worst} in any second")
ok = True
if worst > 6:
    print(f"{worst} telegrams within one second (limit 5 + 1)"); ok = False
# a token bucket of 5 lets 5 go at once, then one per 200 ms
if span < (len(tel) - 5) / 5 - 0.3:
    print(f"{len(tel)} telegrams in only {span:.2f} s"); ok = False
meter = [d for _, ga, d in tel if ga == "9/7/46"]
if len(meter) >= n:
    print(f"{len(meter)} meter telegrams for {n} values: not coalesced"); ok = False
for ga, want in want_last.items():
    got = [d for _, g, d in tel if g == ga]
    if not got or got[-1] != want:
        print(f"{ga}: last value {got[-1:] } instead of {want!r}"); ok = False
# nothing may come after the burst has been drained (no re-sends)
late = [t for t in times if t > sent_at + 12]
if late:
    print(f"{len(late)} telegrams long after the burst"); ok = False
sys.exit(0 if ok else 1)
PY
note "knx_rate passed"
