#!/bin/bash
# OCPP security profiles 1-3 and the TLS settings of the wss:// listener:
# who gets in, who is refused and why, what TLS versions and suites are
# offered, and that no password reaches the log.
source "$TEST_SRC/lib.sh"

PASS1='pw-one-Xq7'
PASS2='pw-two-Zr4'
make_pki
make_client_cert CP3
make_client_cert CP3B
OTHER=$T/other-pki
"$TEST_SRC/../../certs/ocppknx-certs" ca "$OTHER" >/dev/null || fail "second CA"
make_client_cert CP3 "$OTHER"

write_secure_charger CP1 1 "$PASS1"
write_secure_charger CP2 2 "$PASS2"
write_secure_charger CP3 3
write_secure_charger CP3B 3
write_config "$(tls_config)"
start_gateway

WS=ws://127.0.0.1:$PORT/ocpp
WSS=wss://127.0.0.1:$TLS_PORT/ocpp
CA=(--ca "$PKI/ca.crt")

# ---- profile 1: Basic Auth over ws:// ----
expect_sim_ok p1-right "$WS/CP1" --basic-auth "CP1:$PASS1"
expect_log 'CP1: connected from 127\.0\.0\.1:[0-9]+, ocpp1\.6$'

expect_sim_refused p1-wrong "$WS/CP1" --basic-auth "CP1:not-$PASS1"
expect_log 'CP1: refused .*: wrong Basic Auth password \(HTTP 401\)'

expect_sim_refused p1-missing "$WS/CP1"
expect_log 'CP1: refused .*: missing Basic Auth credentials \(HTTP 401\)'

expect_sim_refused p1-user "$WS/CP1" --basic-auth "someone:$PASS1"
expect_log 'CP1: refused .*: Basic Auth user name is not the identity \(HTTP 401\)'

# the 401 answer asks for Basic Auth
/usr/bin/python3 - "$PORT" <<'PY' || fail "401 without WWW-Authenticate: Basic"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
head = data.split(b"\r\n\r\n")[0].decode().lower()
assert head.startswith("http/1.1 401"), head
assert 'www-authenticate: basic' in head, head
PY

# ---- profile 2: TLS + Basic Auth ----
expect_sim_ok p2-right "$WSS/CP2" "${CA[@]}" --basic-auth "CP2:$PASS2"
expect_log 'CP2: connected from 127\.0\.0\.1:[0-9]+ \(wss\)'

expect_sim_refused p2-wrong "$WSS/CP2" "${CA[@]}" --basic-auth "CP2:not-$PASS2"
expect_log 'CP2: refused .*: wrong Basic Auth password \(HTTP 401\)'

expect_sim_refused p2-plain "$WS/CP2" --basic-auth "CP2:$PASS2"
expect_log 'CP2: refused .*: security profile needs wss:// \(HTTP 403\)'

# ---- profile 3: TLS client certificates ----
expect_sim_ok p3-good "$WSS/CP3" "${CA[@]}" --cert "$PKI/CP3.crt" --key "$PKI/CP3.key"
expect_log 'CP3: connected from 127\.0\.0\.1:[0-9]+ \(wss\)'

expect_sim_refused p3-other-id "$WSS/CP3" "${CA[@]}" --cert "$PKI/CP3B.crt" --key "$PKI/CP3B.key"
expect_log 'CP3: refused .*: client certificate is for another identity \(HTTP 403\)'

expect_sim_refused p3-untrusted "$WSS/CP3" "${CA[@]}" --cert "$OTHER/CP3.crt" --key "$OTHER/CP3.key"
expect_log 'CP3: refused .*: client certificate not trusted \(HTTP 403\)'

expect_sim_refused p3-none "$WSS/CP3" "${CA[@]}"
expect_log 'CP3: refused .*: no client certificate \(HTTP 403\)'

# the certificate of CP3B lets CP3B in (the CN decides, not the file)
expect_sim_ok p3-good-b "$WSS/CP3B" "${CA[@]}" --cert "$PKI/CP3B.crt" --key "$PKI/CP3B.key"

# ---- the simulator does not trust a server from another CA ----
before=$(count_log 'TLS handshake failed')
expect_sim_refused untrusted-server "$WSS/CP2" --ca "$OTHER/ca.crt" --basic-auth "CP2:$PASS2"
grep -q 'TLS handshake failed' "$T/sim-untrusted-server.out" ||
  fail "untrusted server: simulator did not fail in the TLS handshake: $(cat "$T/sim-untrusted-server.out")"
expect_log 'refused 127\.0\.0\.1:[0-9]+: TLS handshake failed: '
[ "$(count_log 'TLS handshake failed')" -gt "$before" ] ||
  fail "untrusted server: gateway did not log the failed handshake"

# ---- TLS versions: 1.0 and 1.1 refused by the server ----
s_client() { # ARGS...: one handshake, output in $T/s_client.out
  echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
    -CAfile "$PKI/ca.crt" "$@" >"$T/s_client.out" 2>&1
}
for v in tls1 tls1_1; do
  before=$(count_log 'TLS handshake failed')
  s_client "-$v" -cipher 'DEFAULT:@SECLEVEL=0' && fail "$v: handshake succeeded"
  # the alert comes from the server: the ClientHello reached it
  grep -q 'alert protocol version' "$T/s_client.out" ||
    fail "$v: no protocol_version alert from the server: $(tail -3 "$T/s_client.out")"
  for i in $(seq 1 30); do
    [ "$(count_log 'TLS handshake failed')" -gt "$before" ] && break
    sleep 0.1
  done
  [ "$(count_log 'TLS handshake failed')" -gt "$before" ] ||
    fail "$v: gateway did not log the refused handshake"
done

s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 ||
  fail "TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 refused: $(tail -3 "$T/s_client.out")"
grep -Eq 'New, TLSv1\.2|Protocol *: TLSv1\.2' "$T/s_client.out" || fail "TLS 1.2 not negotiated"
s_client -tls1_3 || fail "TLS 1.3 refused: $(tail -3 "$T/s_client.out")"
grep -Eq 'New, TLSv1\.3|Protocol *: TLSv1\.3' "$T/s_client.out" || fail "TLS 1.3 not negotiated"

# ---- only ECDHE with AEAD ciphers ----
for good in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
            ECDHE-ECDSA-CHACHA20-POLY1305; do
  s_client -tls1_2 -cipher "$good" || fail "$good refused"
done
for bad in AES128-SHA256 AES128-GCM-SHA256 ECDHE-ECDSA-AES128-SHA256 \
           ECDHE-ECDSA-AES128-SHA 'DHE-RSA-AES128-GCM-SHA256'; do
  s_client -tls1_2 -cipher "$bad" && fail "cipher $bad accepted"
  grep -Eq 'alert handshake failure|no ciphers available' "$T/s_client.out" ||
    fail "cipher $bad: unexpected failure: $(tail -3 "$T/s_client.out")"
done

# ---- refused handshakes are listed in /status ----
status_json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
assert any(r["reason"] == "TLS handshake failed" for r in st["refused"]), st["refused"]
assert any(r["identity"] == "CP3" and r["http_status"] == 403 for r in st["refused"]), st["refused"]
' || fail "refused TLS handshakes missing from /status"

# ---- no password in the log (debug level, trace_ocpp on) ----
for secret in "$PASS1" "$PASS2" "not-$PASS1" "not-$PASS2" \
              "$(printf 'CP1:%s' "$PASS1" | base64)" \
              "$(printf 'CP2:%s' "$PASS2" | base64)"; do
  grep -qF -- "$secret" "$GW_LOG" && fail "a password is in the gateway log: $secret"
done
grep -q ' debug ' "$GW_LOG" || fail "log is not at debug level: the password check proves nothing"

kill -0 "$GW_PID" || fail "gateway died"
stop_gateway
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$GW_LOG" &&
  fail "sanitizer report in the gateway log"
note "all security profile checks passed"
