#!/bin/bash
# The status output on the ws:// listener: GET /status (JSON), GET / (HTML),
# anything else 404.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1 "name = Garage"
write_charger_at CP2 1
# started with a low soft limit on open files, the daemon raises it to the
# hard limit (one descriptor per charger)
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -gt 256 ] && ulimit -Sn 256
start_gateway
soft=$(awk '/^Max open files/ {print $4}' "/proc/$GW_PID/limits")
gw_hard=$(awk '/^Max open files/ {print $5}' "/proc/$GW_PID/limits")
[ "$soft" = "$gw_hard" ] || fail "open files limit $soft, hard $gw_hard"

# before any charger connected
status_json >"$T/s0.json"
/usr/bin/python3 - "$T/s0.json" <<'PY' || fail "/status before any connection is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
assert isinstance(st["version"], str) and st["version"], st
assert isinstance(st["uptime_s"], int) and st["uptime_s"] >= 0, st
assert st["knx"]["state"] == "up", st
ids = sorted(c["id"] for c in st["chargers"])
assert ids == ["CP1", "CP2"], ids
assert all(c["online"] is False for c in st["chargers"]), st
assert st["refused"] == [], st
PY

cat >"$T/a.sim" <<'SIM'
plug 1
start 1 TAG1 2000
meter 1 energy=2600 current.L1=12.5 current.L2=12 current.L3=12 power=8600
SIM
start_sim a CP1 "$T/a.sim" --vendor ACME --model Wallbox9 --serial SN-42 --firmware 3.1.4
ocpp_wait_count a answer MeterValues 1
TX=$(ocpp_get a answer StartTransaction 'p["transactionId"]')

status_json >"$T/s1.json"
/usr/bin/python3 - "$T/s1.json" "$TX" <<'PY' || fail "/status during a session is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
cp = {c["id"]: c for c in st["chargers"]}
c1, c2 = cp["CP1"], cp["CP2"]
assert c1["online"] is True and c2["online"] is False, st
assert c1["name"] == "Garage", c1
assert (c1["vendor"], c1["model"], c1["serial"], c1["firmware"]) == \
    ("ACME", "Wallbox9", "SN-42", "3.1.4"), c1
assert c1["last_seen"] and c1["last_seen"].endswith("Z"), c1
k = c1["connectors"][0]
assert k["id"] == 1 and k["status"] == "Charging", k
assert k["transaction_id"] == int(sys.argv[2]), k
assert abs(k["current_a"] - 12.5) < 1e-6, k
assert abs(k["power_w"] - 8600) < 1e-6, k
assert abs(k["energy_wh"] - 2600) < 1e-6, k
assert abs(k["session_energy_wh"] - 600) < 1e-6, k
PY

# the page for humans, and nothing else
/usr/bin/python3 - "$PORT" <<'PY' || fail "GET / or an unknown path is wrong"
import sys, urllib.request, urllib.error
port = sys.argv[1]
r = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
body = r.read().decode()
assert r.status == 200, r.status
assert r.headers["Content-Type"].startswith("text/html"), r.headers
assert "<html" in body and "CP1" in body, body[:300]
for path in ("/nothing", "/status/x", "/index.html"):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
        raise SystemExit(f"{path} answered 200")
    except urllib.error.HTTPError as e:
        assert e.code == 404, (path, e.code)
PY

# after the charger left
sim_cmd a "disconnect"
expect_log "CP1: disconnected"
status_json >"$T/s2.json"
/usr/bin/python3 - "$T/s2.json" <<'PY' || fail "/status after the disconnection is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
c1 = next(c for c in st["chargers"] if c["id"] == "CP1")
assert c1["online"] is False, c1
assert c1["vendor"] == "ACME", c1
PY

validate_frames a
note "ocpp_status passed"
