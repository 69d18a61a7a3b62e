# ocppknxd --rotate-password: the running daemon gives a connected Basic
# Auth charger a new random password with ChangeConfiguration
# AuthorizationKey; the old one works until the charger reconnects with the
# new one, then only the new one, also after restarts (the store wins over
# the charger file); a rejected rotation changes nothing; clear errors for
# unknown, offline and profile 0 chargers and a daemon that is not running;
# no password in the log (at debug level with the frame trace) or /status.
source "$TEST_SRC/lib.sh"

INITIAL='same-on-every-box-2026'
write_secure_charger CP1 1 "$INITIAL"
write_secure_charger CP2 1 "$INITIAL"
write_secure_charger CP0 0
write_config
start_gateway
WS=ws://127.0.0.1:$PORT/ocpp

# rotate ID: runs --rotate-password, output in $T/rot.out / $T/rot.err
rotate() {
  local rc=0
  "$OCPPKNXD" -c "$T/ocppknxd.conf" --rotate-password "$1" >"$T/rot.out" \
    2>"$T/rot.err" || rc=$?
  cat "$T/rot.out" "$T/rot.err" >>"$T/rot.all"
  return "$rc"
}
# rotate_fails ID PHRASE: non-zero exit and PHRASE on stderr
rotate_fails() {
  if rotate "$1"; then fail "--rotate-password $1 succeeded: $(cat "$T/rot.out")"; fi
  grep -Fq -- "$2" "$T/rot.err" || { cat "$T/rot.err" >&2; fail "--rotate-password $1: no \"$2\""; }
}
# last_key SIM: the AuthorizationKey of the last ChangeConfiguration it got
last_key() {
  /usr/bin/python3 - "$T/sim-$1.log" <<'PY'
import json, sys
key = None
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    f = e.get("frame")
    if e.get("dir") == "in" and isinstance(f, list) and len(f) == 4 and \
       f[2] == "ChangeConfiguration" and f[3].get("key") == "AuthorizationKey":
        key = f[3]["value"]
print(key or "")
PY
}

note "errors: unknown, profile 0, offline"
rotate_fails NOPE 'no charger "NOPE" is configured'
rotate_fails CP0 'charger CP0 does not use a Basic Auth password'
rotate_fails CP1 'charger CP1 is not connected'
expect_log 'warn +CP1: password rotation refused: is not connected'

note "every charger may start with the same password"
expect_sim_ok cp2-initial "$WS/CP2" --basic-auth "CP2:$INITIAL"
: >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim" --basic-auth "CP1:$INITIAL"
wait_answered s1 BootNotification 1
expect_log 'CP1: connected from'

note "rotation: ChangeConfiguration AuthorizationKey with 40 hex characters"
rotate CP1 || fail "rotation failed: $(cat "$T/rot.err")"
grep -q '^CP1: Accepted: the charger has a new password' "$T/rot.out" || fail "answer: $(cat "$T/rot.out")"
NEW1=$(last_key s1)
[[ "$NEW1" =~ ^[0-9a-f]{40}$ ]] || fail "new password is not 40 hex characters: '$NEW1'"
expect_frame s1 '"event":"authorization-key"'
expect_log 'CP1: password rotation: Accepted'

note "a second rotation waits for the reconnect"
rotate_fails CP1 'has not connected with the password of the last rotation yet'

note "the old password still works until the reconnect, also after a restart"
expect_sim_ok old-1 "$WS/CP1" --basic-auth "CP1:$INITIAL"
stop_gateway
restart_gateway
expect_sim_ok old-2 "$WS/CP1" --basic-auth "CP1:$INITIAL"

note "the charger reconnects with the new one: from now on only that one"
sim_cmd s1 reconnect
expect_log 'CP1: .*connected with the new Basic Auth password; the previous one is no longer accepted'
expect_sim_refused old-3 "$WS/CP1" --basic-auth "CP1:$INITIAL"
expect_log 'CP1: refused .*: wrong Basic Auth password \(HTTP 401\)'
expect_sim_ok new-1 "$WS/CP1" --basic-auth "CP1:$NEW1"

note "after a restart the stored password wins over the charger file"
stop_gateway
restart_gateway
expect_sim_refused old-4 "$WS/CP1" --basic-auth "CP1:$INITIAL"
expect_sim_ok new-2 "$WS/CP1" --basic-auth "CP1:$NEW1"
expect_sim_ok cp2-still "$WS/CP2" --basic-auth "CP2:$INITIAL"

note "a charger that rejects keeps its password"
: >"$T/s2.sim"
start_sim s2 CP1 "$T/s2.sim" --basic-auth "CP1:$NEW1"
wait_answered s2 BootNotification 1
sim_cmd s2 'answer ChangeConfiguration reject'
sim_cmd s2 heartbeat   # commands run in order: once answered, the policy is set
wait_answered s2 Heartbeat 1
rotate_fails CP1 'Rejected: the charger keeps its password'
NEW2=$(last_key s2)
[[ "$NEW2" =~ ^[0-9a-f]{40}$ ]] && [ "$NEW2" != "$NEW1" ] || fail "second key '$NEW2'"
expect_sim_refused rejected-new "$WS/CP1" --basic-auth "CP1:$NEW2"
expect_sim_ok rejected-old "$WS/CP1" --basic-auth "CP1:$NEW1"
stop_gateway
restart_gateway
expect_sim_ok rejected-old-restart "$WS/CP1" --basic-auth "CP1:$NEW1"
expect_sim_refused rejected-new-restart "$WS/CP1" --basic-auth "CP1:$NEW2"

validate_frames s1
validate_frames s2

note "no password in the log, in /status or in the command's output"
status_json >"$T/status.json"
grep -q 'bytes with an AuthorizationKey (not logged)' "$GW_LOG" || fail "the trace did not see the frame"
for pw in "$INITIAL" "$NEW1" "$NEW2"; do
  for f in "$GW_LOG" "$T/status.json" "$T/rot.all"; do
    ! grep -Fq -- "$pw" "$f" || fail "a password is in $f"
  done
done

note "a daemon that is not running"
stop_gateway
[ ! -e "$T/store/ocppknxd.sock" ] || fail "control socket left behind"
rotate_fails CP1 'cannot reach the daemon'
grep -Fq 'is ocppknxd running with this configuration?' "$T/rot.err" || fail "unclear message"
