#!/bin/bash
# The link to a billing backend, end to end: the gateway registers with
# an independent central system (test/sim/fake_csms.py) as the charger
# behind it, with the charger's own vendor, model, serial and firmware,
# sends a Heartbeat at the backend's interval and every connector's
# status, shows the link in /status and on KNX (upstream_online), and
# after the backend was killed and came back registers again. Every frame
# that crosses the backend link is checked against the official schemas.
source "$TEST_SRC/lib.sh"

BPORT=$(free_port)
BLOG=$T/backend.log
start_bus
start_backend "$BLOG"
write_config
write_charger CP1
sed -i 's/^;upstream_online = /upstream_online = /' "$T/chargers.d/CP1.conf"
cat >>"$T/chargers.d/CP1.conf" <<EOF2

[upstream]
url = ws://127.0.0.1:$BPORT/ocpp/{id}
identity = EMP-4711
EOF2
start_gateway
start_monitor
printf 'heartbeat\n' >"$T/idle.sim"

# ---- registration with the charger's identity ----
start_sim cp CP1 "$T/idle.sim" --vendor Zaptec --model Go --serial ZCS000143 \
  --firmware 2.1.0
expect_frame cp '"BootNotification"'
backend_wait "$BLOG" BootNotification 1
grep -q '"event":"connected","path":"/ocpp/EMP-4711"' "$BLOG" ||
  fail "backend not dialed at /ocpp/EMP-4711"
backend_check "$BLOG" BootNotification \
  'p == {"chargePointVendor": "Zaptec", "chargePointModel": "Go", "chargePointSerialNumber": "ZCS000143", "firmwareVersion": "2.1.0"}' \
  "BootNotification without the charger's identity"
expect_log 'CP1: backend: BootNotification Accepted; heartbeat every 2 s'
expect_bus ' to 9/7/53: 01$'

# the charger's connector state reaches the backend
backend_wait "$BLOG" StatusNotification 1
backend_check "$BLOG" StatusNotification \
  'p["connectorId"] == 1 and p["status"] == "Available" and p["errorCode"] == "NoError"' \
  "connector 1's status"
sim_cmd cp "status 1 Preparing"
backend_wait "$BLOG" StatusNotification 2
backend_check "$BLOG" StatusNotification 'p["status"] == "Preparing"' "Preparing"

# heartbeats at the backend's interval of 2 s
backend_wait "$BLOG" Heartbeat 2
link_status 'u["connected"] and u["websocket"] and u["queue_length"] == 0 and u["last_error"] == "" and u["identity"] == "EMP-4711"'

# the status page shows the link
/usr/bin/python3 - "$PORT" <<'PY' || fail "status page without the backend link"
import sys, urllib.request
html = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5).read().decode()
assert "Backend link</h3>" in html and 'data-upstream="up"' in html and "EMP-4711" in html, html
PY

# ---- the backend goes away ----
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
expect_log 'CP1: backend link lost: .*; next attempt in 5 s'
expect_bus ' to 9/7/53: 00$'
link_status 'not u["connected"] and u["last_error"] != "" and u["failures"] >= 1'

# a status change while it is down waits for the link
sim_cmd cp "status 1 Charging"
link_status 'u["queue_length"] == 1 and u["oldest_queued"] is not None'

# ---- back: registered again, the waiting state delivered ----
BLOG2=$T/backend2.log
start_backend "$BLOG2"
backend_wait "$BLOG2" BootNotification 1 
backend_check "$BLOG2" BootNotification 'p["chargePointSerialNumber"] == "ZCS000143"' \
  "second BootNotification without the charger's identity"
backend_wait "$BLOG2" StatusNotification 1
backend_check "$BLOG2" StatusNotification 'p["connectorId"] == 1 and p["status"] == "Charging"' \
  "the state changed during the outage"
link_status 'u["connected"] and u["queue_length"] == 0 and u["failures"] == 0'
[ "$(count_bus ' to 9/7/53: 01$')" -ge 2 ] || fail "upstream_online not 1 again"

# ---- SIGHUP with a new url: the link moves, with what it knew ----
B3PORT=$(free_port)
BLOG3=$T/backend3.log
start_backend "$BLOG3" --port "$B3PORT"
sed -i "s|^url = ws://127.0.0.1:$BPORT/|url = ws://127.0.0.1:$B3PORT/|" \
  "$T/chargers.d/CP1.conf"
kill -HUP "$GW_PID"
expect_log 'SIGHUP: 1 charger files loaded'
backend_wait "$BLOG3" BootNotification 1
backend_check "$BLOG3" BootNotification 'p["chargePointSerialNumber"] == "ZCS000143"' \
  "BootNotification after the reload without the charger's identity"
backend_wait "$BLOG3" StatusNotification 1
/usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$BLOG3" check call StatusNotification \
  'p["connectorId"] == 1 and p["status"] == "Charging"' --any ||
  fail "the connector state did not follow the reload"
for i in $(seq 1 50); do
  grep -q '"event":"disconnected"' "$BLOG2" && break
  sleep 0.1
done
grep -q '"event":"disconnected"' "$BLOG2" || fail "the old backend kept the link"
link_status "u['connected'] and u['url'] == 'ws://127.0.0.1:$B3PORT/ocpp/{id}'"

# the charger's own link was never touched
grep -q 'CP1: disconnected' "$GW_LOG" && fail "the charger lost its connection"

backend_validate "$BLOG"
backend_validate "$BLOG2"
backend_validate "$BLOG3"
validate_frames cp
note "boots: $(backend_count "$BLOG" BootNotification)+$(backend_count "$BLOG2" BootNotification)," \
  "heartbeats: $(backend_count "$BLOG" Heartbeat), statuses: $(backend_count "$BLOG" StatusNotification)+$(backend_count "$BLOG2" StatusNotification)"
