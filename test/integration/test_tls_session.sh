#!/bin/bash
# A full charging session over wss:// with a profile 3 charger (client
# certificate) and a profile 2 charger beside it: boot, authorize, start,
# meter values, stop; every frame the gateway sent passes the schemas; a
# clean shutdown closes both WebSockets with 1001 through TLS.
source "$TEST_SRC/lib.sh"

make_pki
make_client_cert CPS3
write_secure_charger CPS3 3
write_secure_charger CPS2 2 'pw-session-Tk9'
write_config "$(tls_config)"
start_gateway

WSS=wss://127.0.0.1:$TLS_PORT/ocpp
cat >"$T/session.sim" <<'EOF'
authorize TAG1
plug 1
start 1 TAG1 1000
meter 1 energy=1250 current.L1=16 current.L2=16 current.L3=16 power=11040 voltage=230
meter 1 energy=1500 current.L1=16 current.L2=16 current.L3=16 power=11040 voltage=230
stop 1 1600 Local
unplug 1
EOF

# both sessions run at once, each on its own TLS connection
start_sim s3 CPS3 "$T/session.sim" --url "$WSS/CPS3" --ca "$PKI/ca.crt" \
  --cert "$PKI/CPS3.crt" --key "$PKI/CPS3.key"
start_sim s2 CPS2 "$T/session.sim" --url "$WSS/CPS2" --ca "$PKI/ca.crt" \
  --basic-auth 'CPS2:pw-session-Tk9'

for id in CPS3 CPS2; do
  expect_log "$id: connected from 127\.0\.0\.1:[0-9]+ \(wss\)"
  expect_log "$id: connector 1: transaction [0-9]+ started \(idTag \"TAG1\", meter 1000 Wh\)"
  expect_log "$id: connector 1: transaction [0-9]+ stopped \(Local\)"
  expect_log "$id: transaction [0-9]+: 600 Wh"
done
for s in s3 s2; do
  expect_frame "$s" '"StartTransaction"'
  expect_frame "$s" '^\{"t":[0-9]+,"dir":"in","frame":\[3,.*"transactionId":[1-9][0-9]*'
  expect_frame "$s" '"MeterValues"'
  expect_frame "$s" '"StopTransaction"'
  validate_frames "$s"
done
expect_log 'TLS TLSv1\.3 TLS13-'

status_json | /usr/bin/python3 -c '
import json, sys
st = {c["id"]: c for c in json.load(sys.stdin)["chargers"]}
for cid in ("CPS3", "CPS2"):
    c = st[cid]
    assert c["online"], c
    assert c["vendor"] == "ocppknx", c
    assert c["connectors"][0]["transaction_id"] is None, c
' || fail "status after the sessions is wrong"

# SIGTERM: both chargers get a 1001 close frame through TLS
stop_gateway
for s in s3 s2; do
  for i in $(seq 1 50); do
    grep -q '"disconnected"' "$T/sim-$s.log" && break
    sleep 0.1
  done
  grep -Eq '"disconnected".*1001' "$T/sim-$s.log" ||
    fail "$s: no 1001 close over wss: $(grep disconnected "$T/sim-$s.log")"
done
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$GW_LOG" &&
  fail "sanitizer report in the gateway log"
note "wss sessions passed"
