#!/bin/bash
# Security profiles towards a billing backend: 1 (Basic Auth over ws://),
# 2 (TLS with the server verified against tls_ca, and Basic Auth) and 3
# (a client certificate); a wrong password is refused by the backend, and
# a backend whose certificate does not chain to tls_ca is not connected
# at all (and the gateway says why). No password reaches the log.
source "$TEST_SRC/lib.sh"

PW1='pw-backend-one-Q7'
PW2='pw-backend-two-R4'
make_pki
make_client_cert P3
OTHER=$T/other-pki
"$TEST_SRC/../../certs/ocppknx-certs" ca "$OTHER" >/dev/null || fail "second CA"
"$TEST_SRC/../../certs/ocppknx-certs" server "$OTHER" 127.0.0.1 >/dev/null ||
  fail "second server certificate"

P1_PORT=$(free_port)
P2_PORT=$(free_port)
P3_PORT=$(free_port)
BAD_PORT=$(free_port)
start_backend "$T/b1.log" --port "$P1_PORT" --password "$PW1"
start_backend "$T/b2.log" --port "$P2_PORT" --password "$PW2" \
  --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"
start_backend "$T/b3.log" --port "$P3_PORT" \
  --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" --tls-ca "$PKI/ca.crt"
start_backend "$T/bad.log" --port "$BAD_PORT" \
  --tls-cert "$OTHER/server.crt" --tls-key "$OTHER/server.key"

# backend_charger ID [upstream] lines: a charger without KNX objects
backend_charger() {
  write_secure_charger "$1" 0
  printf '\n[upstream]\n%s\n' "$2" >>"$T/chargers.d/$1.conf"
}
backend_charger P1 "url = ws://127.0.0.1:$P1_PORT/ocpp/{id}
security_profile = 1
password = $PW1"
backend_charger P1BAD "url = ws://127.0.0.1:$P1_PORT/ocpp/{id}
security_profile = 1
password = not-$PW1"
backend_charger P2 "url = wss://127.0.0.1:$P2_PORT/ocpp/{id}
security_profile = 2
password = $PW2
tls_ca = $PKI/ca.crt"
backend_charger P3 "url = wss://127.0.0.1:$P3_PORT/ocpp/{id}
security_profile = 3
tls_ca = $PKI/ca.crt
tls_cert = $PKI/P3.crt
tls_key = $PKI/P3.key"
backend_charger BAD "url = wss://localhost:$BAD_PORT/ocpp/{id}
security_profile = 2
password = $PW2
tls_ca = $PKI/ca.crt"
write_config
start_gateway
printf 'heartbeat\n' >"$T/idle.sim"
for id in P1 P1BAD P2 P3 BAD; do
  start_sim "$id" "$id" "$T/idle.sim" --serial "SN-$id"
done

# registered: the backend got the charger's BootNotification over the link
for pair in P1:b1 P2:b2 P3:b3; do
  id=${pair%%:*} log=$T/${pair##*:}.log
  backend_wait "$log" BootNotification 1
  backend_check "$log" BootNotification "p['chargePointSerialNumber'] == 'SN-$id'" \
    "$id: BootNotification without the charger's serial"
  link_status "$id" 'u["connected"] and u["last_error"] == ""'
done
grep -q '"event":"connected","path":"/ocpp/P1".*"authorization":"Basic ' "$T/b1.log" ||
  fail "P1: no Basic Auth"
grep -q '"event":"connected","path":"/ocpp/P2".*"tls":true' "$T/b2.log" ||
  fail "P2: not over TLS"
grep -q '"event":"connected","path":"/ocpp/P3".*"identity":"P3"' "$T/b3.log" ||
  fail "P3: no client certificate for P3"

# a wrong password: refused by the backend, kept as the reason
expect_log 'P1BAD: backend not connected: upgrade refused: HTTP 401 Unauthorized; next attempt in 5 s'
grep -q '"event":"refused","status":401,"identity":"P1BAD"' "$T/b1.log" ||
  fail "P1BAD: the backend did not refuse the password"
link_status P1BAD 'not u["websocket"] and u["last_error"] == "upgrade refused: HTTP 401 Unauthorized"'

# a server certificate of another CA: no connection, and the log says why
expect_log 'BAD: backend not connected: TLS handshake failed: .*; next attempt in 5 s'
link_status BAD 'not u["websocket"] and u["last_error"].startswith("TLS handshake failed: ")'
grep -q '"event":"tls-failed"' "$T/bad.log" || fail "the bad backend saw no TLS attempt"
grep -q '"event":"connected"' "$T/bad.log" && fail "the bad backend got a WebSocket"
[ "$(/usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$T/bad.log" count call BootNotification)" -eq 0 ] ||
  fail "the bad backend got a BootNotification"

grep -qF -e "$PW1" -e "$PW2" "$GW_LOG" && fail "a backend password reached the log"
for log in b1 b2 b3; do backend_validate "$T/$log.log"; done
note "registered: P1 P2 P3; refused: P1BAD (401); not connected: BAD ($(grep -o 'BAD: backend not connected: TLS handshake failed: [^;]*' "$GW_LOG" | head -1))"
