#!/bin/bash
# The WebSocket handshake and framing of the OCPP listener, with a raw
# client: identities, subprotocols, versions, limits, control frames.
source "$TEST_SRC/lib.sh"

start_bus
write_config "max_message_size = 4096"
write_charger CP1
write_charger_at ONLY16 5 "ocpp_version = 1.6"
write_charger_at ONLY201 6 "ocpp_version = 2.0.1"
start_gateway

# a client that sends half a request and then nothing is dropped after the
# handshake timeout (10 s); it runs beside the other cases
ocpp_ws slowloris --wait 15 >"$T/slowloris.out" 2>&1 &
SLOW_PID=$!

# upgrade OUTFILE [ocpp_ws options]: the HTTP status line of an upgrade
upgrade() {
  local out=$1
  shift
  ocpp_ws upgrade "$@" >"$out" || fail "upgrade client failed: $*"
  head -1 "$out"
}

# ---- identities ---------------------------------------------------------------
[ "$(upgrade "$T/u1" --path /ocpp/NOPE)" = "HTTP 404" ] \
  || fail "unknown identity not refused with 404: $(cat "$T/u1")"
expect_log "NOPE: refused 127\.0\.0\.1:[0-9]+: unknown identity \(HTTP 404\)"
status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "refused identity not listed in /status"
import json, sys
st = json.load(open(sys.argv[1]))
r = [x for x in st["refused"] if x["identity"] == "NOPE"]
assert r and r[0]["address"].startswith("127.0.0.1:") and r[0]["http_status"] == 404, st
PY

for path in /steve/websocket/CentralSystemService/CP1 /CP1 /ocpp/CP%31 /ocpp/%43%50%31; do
  [ "$(upgrade "$T/u2" --path "$path")" = "HTTP 101" ] \
    || fail "identity CP1 not found in $path: $(cat "$T/u2")"
done
for path in / "/?x=1"; do
  [ "$(upgrade "$T/u3" --path "$path")" = "HTTP 400" ] \
    || fail "path $path without identity not refused with 400: $(cat "$T/u3")"
done

# ---- subprotocols -------------------------------------------------------------
[ "$(upgrade "$T/u4" --no-protocol)" = "HTTP 101" ] \
  || fail "no Sec-WebSocket-Protocol not accepted: $(cat "$T/u4")"
grep -qi '^sec-websocket-protocol' "$T/u4" \
  && fail "101 names a subprotocol the client did not offer"
expect_log "CP1: no Sec-WebSocket-Protocol header: assuming ocpp1\.6"

[ "$(upgrade "$T/u5" --protocol "ocpp2.0.1, ocpp1.6")" = "HTTP 101" ] \
  || fail "ocpp1.6 offered second not accepted: $(cat "$T/u5")"
grep -qx 'sec-websocket-protocol: ocpp1.6' "$T/u5" \
  || fail "ocpp1.6 not selected: $(cat "$T/u5")"

[ "$(upgrade "$T/u6" --protocol ocpp2.0.1)" = "HTTP 101" ] \
  || fail "only ocpp2.0.1 offered, not accepted under auto: $(cat "$T/u6")"
grep -qx 'sec-websocket-protocol: ocpp2.0.1' "$T/u6" \
  || fail "ocpp2.0.1 not selected: $(cat "$T/u6")"
expect_log "CP1: connected from 127\.0\.0\.1:[0-9]+, ocpp2\.0\.1"

[ "$(upgrade "$T/u6b" --protocol ocpp1.5)" = "HTTP 400" ] \
  || fail "only ocpp1.5 offered but not refused: $(cat "$T/u6b")"
expect_log 'CP1: offered subprotocols "ocpp1\.5"'

# ocpp_version fixes the version: what the charger offers beside it is not taken
[ "$(upgrade "$T/u6c" --path /ocpp/ONLY16 --protocol ocpp2.0.1)" = "HTTP 400" ] \
  || fail "ocpp_version 1.6 accepted a charger offering only 2.0.1: $(cat "$T/u6c")"
expect_log 'ONLY16: offered subprotocols "ocpp2\.0\.1", configured ocpp_version = 1\.6'
expect_log 'ONLY16: refused 127\.0\.0\.1:[0-9]+: subprotocol ocpp1\.6 not offered \(HTTP 400\)'
[ "$(upgrade "$T/u6d" --path /ocpp/ONLY201 --protocol "ocpp1.6, ocpp2.0.1")" = "HTTP 101" ] \
  || fail "ocpp_version 2.0.1 refused a charger offering both: $(cat "$T/u6d")"
grep -qx 'sec-websocket-protocol: ocpp2.0.1' "$T/u6d" \
  || fail "ocpp_version 2.0.1 did not select ocpp2.0.1: $(cat "$T/u6d")"
[ "$(upgrade "$T/u6e" --path /ocpp/ONLY201 --protocol ocpp1.6)" = "HTTP 400" ] \
  || fail "ocpp_version 2.0.1 accepted a charger offering only 1.6: $(cat "$T/u6e")"
expect_log 'ONLY201: offered subprotocols "ocpp1\.6", configured ocpp_version = 2\.0\.1'

# ---- protocol version and header limits ----------------------------------------
[ "$(upgrade "$T/u7" --version 8)" = "HTTP 426" ] \
  || fail "Sec-WebSocket-Version 8 not answered with 426: $(cat "$T/u7")"
grep -qx 'sec-websocket-version: 13' "$T/u7" || fail "426 does not name version 13"

big=$(ocpp_ws bigheaders --size 20000)
case "$big" in
  "HTTP 431"|"HTTP 400") ;;
  *) fail "oversized request headers answered with: $big" ;;
esac
kill -0 "$GW_PID" 2>/dev/null || fail "gateway died on oversized headers"

# ---- frames ---------------------------------------------------------------------
r=$(ocpp_ws big --size 5000)
[ "$r" = "close 1009" ] || fail "message over max_message_size: $r (want close 1009)"
r=$(ocpp_ws big --size 4000)
[ "$r" = "close 1009" ] && fail "message under max_message_size closed"
r=$(ocpp_ws binary)
[ "$r" = "close 1003" ] || fail "binary frame: $r (want close 1003)"
r=$(ocpp_ws badutf8)
[ "$r" = "close 1007" ] || fail "invalid UTF-8: $r (want close 1007)"
r=$(ocpp_ws ping)
[ "$r" = "pong are-you-there" ] || fail "ping: $r (want the payload back in a pong)"
r=$(ocpp_ws frame --text '[2,"hb1","Heartbeat",{}]')
case "$r" in
  'text [3,"hb1",{"currentTime":"'*'Z"}]') ;;
  *) fail "Heartbeat over a raw connection: $r" ;;
esac
kill -0 "$GW_PID" 2>/dev/null || fail "gateway died"

# ---- slow client -----------------------------------------------------------------
wait "$SLOW_PID" || true
grep -Eq '^closed after ([89]|1[0-4]) s$' "$T/slowloris.out" \
  || fail "half a request not closed after the handshake timeout: $(cat "$T/slowloris.out")"

# ---- accept_unknown ---------------------------------------------------------------
stop_gateway
write_config "accept_unknown = true"
start_gateway
[ "$(upgrade "$T/u8" --path /ocpp/NEWONE)" = "HTTP 101" ] \
  || fail "accept_unknown=true refuses an unknown identity: $(cat "$T/u8")"
expect_log "NEWONE: accepting unknown identity"

# ---- limits per address ---------------------------------------------------------
# Many chargers behind one address (NAT, or this test) all get in...
many=$(ocpp_ws many --count 30)
[ "$many" = "30 of 30 upgraded" ] || fail "30 chargers from one address: $many"
# ...also when they all dial at once after a power cut: the surplus over the
# 8 handshakes read at a time per address waits its turn instead of being
# turned away
burst=$(ocpp_ws burst --count 60)
[ "$burst" = "60 of 60 upgraded" ] || fail "60 chargers dialing at once: $burst"
# Half-open handshakes are kept (they wait, none is closed at once)...
flood=$(ocpp_ws flood --count 12)
[ "$(tr ' ' '\n' <<<"$flood" | grep -c '^open$')" -eq 12 ] \
  || fail "12 pending handshakes from one address: $flood (want all 12 open)"
# ...a flood holding every slot of its address does not delay a charger from
# another address, and a charger behind the flooding address is served in
# its turn once the flood goes away
r=$(ocpp_ws queue --count 12 --source 127.0.0.9)
[ "$r" = "other 101 same waiting flood 12 open, after release same 101" ] \
  || fail "admission under a flood: $r"

note "ocpp_handshake passed"
