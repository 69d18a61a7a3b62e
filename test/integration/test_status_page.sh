#!/bin/bash
# The status page in headless Chromium during a simulated session (see
# status_page.py), then the same routes behind [status] password.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1 "name = Garage"
write_charger_at CP2 1 "name = Carport"
start_gateway
expect_sim_refused x "ws://127.0.0.1:$PORT/ocpp/CP-UNKNOWN"

cat >"$T/a.sim" <<'SIM'
plug 1
start 1 TAG1 1000
meter 1 energy=3000 current=10 power=6900
stop 1 5000 Local
start 1 TAG2 5000
meter 1 energy=5600 current.L1=16 current.L2=16 current.L3=16 power=11040
SIM
start_sim a CP1 "$T/a.sim" --vendor '<i>ACME</i>' --model 'M"1' --firmware 3.1
ocpp_wait_count a answer StartTransaction 2
ocpp_wait_count a answer MeterValues 2

shot=${SCREENSHOT_DIR:-$T}/status-page.png
/usr/bin/python3 "$TEST_SRC/status_page.py" "$PORT" "$T/a.in" "$shot" ||
  fail "the status page in the browser"
[ -s "$shot" ] || fail "no screenshot"
note "screenshot: $shot"

note "the same routes behind [status] password"
stop_gateway
cat >>"$T/ocppknxd.conf" <<'EOF2'
[status]
password = s3cret pass
EOF2
start_gateway
/usr/bin/python3 - "$PORT" <<'PY' || fail "password protection"
import base64, json, sys, urllib.request, urllib.error
port = sys.argv[1]
def get(path, auth=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if auth:
        req.add_header("Authorization",
                       "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()
paths = ["/", "/status", "/sessions.csv?from=2000-01-01&to=2099-12-31"]
for path in paths + ["/events", "/status/events"]:
    for auth in (None, "admin:wrong", "root:s3cret pass", "admin:s3cret pas"):
        code, headers, _ = get(path, auth)
        assert code == 401, (path, auth, code)
        assert headers["WWW-Authenticate"].startswith("Basic realm="), headers
for path in paths:
    code, headers, body = get(path, "admin:s3cret pass")
    assert code == 200, (path, code)
st = json.loads(get("/status", "admin:s3cret pass")[2])
assert st["tags_visible"] is True, st["tags_visible"]
tags = [s["id_tag"] for s in st["sessions"]]
assert tags == ["TAG2", "TAG1"], tags
csv = get(paths[2], "admin:s3cret pass")[2].splitlines()
assert csv[0].startswith("charger_id,connector,transaction_id,id_tag"), csv
assert len(csv) == 3 and ",TAG1," in csv[1] and ",TAG2," in csv[2], csv
PY
note "status_page passed"
