#!/bin/bash
# The backend's MeterValueSampleInterval paces only what the gateway
# forwards to it: with 4 s set by the backend's ChangeConfiguration, a
# charger that sends a meter value every second for 8 s has the backend
# get at most one per 4 s (1 to 3 of the 8), while the charger gets all
# its answers and never the backend's interval.
source "$TEST_SRC/lib.sh"

BPORT=$(free_port)
BLOG=$T/backend.log
cat >"$T/pace.csms" <<'EOF2'
after BootNotification
call ChangeConfiguration {"key": "MeterValueSampleInterval", "value": "4"}
EOF2
start_backend "$BLOG" --script "$T/pace.csms"
upstream_charger_up "$BLOG"
expect_log 'backend: MeterValueSampleInterval = 4 s' 100

sim_cmd cp "start 1 EMP1 1000"
ocpp_wait_count cp answer StartTransaction 1 100
backend_wait "$BLOG" StartTransaction 1
for i in 1 2 3 4 5 6 7 8; do
  sim_cmd cp "meter 1 energy=$((1000 + 100 * i))"
  ocpp_wait_count cp answer MeterValues "$i" 100
  sleep 1
done
sim_cmd cp "stop 1 2000 Local"
ocpp_wait_count cp answer StopTransaction 1 100
backend_wait "$BLOG" StopTransaction 1
N=$(backend_count "$BLOG" MeterValues)
[ "$N" -ge 1 ] && [ "$N" -le 3 ] ||
  fail "the backend got $N MeterValues of 8 in 8 s, not 1 to 3 (one per 4 s)"
/usr/bin/python3 - "$T/sim-cp.log" <<'PY' || fail "the backend's MeterValueSampleInterval reached the charger"
import json, sys
got = [e["frame"][3] for e in map(json.loads, open(sys.argv[1]))
       if e.get("dir") == "in" and e.get("frame", [0])[0] == 2
       and e["frame"][2] == "ChangeConfiguration"]
assert not any(p.get("key") == "MeterValueSampleInterval" and p.get("value") == "4"
               for p in got), got
PY
backend_validate "$BLOG"
validate_frames cp
note "charger sent 8 MeterValues in 8 s, the backend got $N (MeterValueSampleInterval 4 s), the charger's own interval untouched"
