#!/bin/bash
# GET /status/events and /events: events on opening and after changes,
# coalesced, each stream its kind; at most 16
# streams; every stream closed when the gateway stops (status_events.py).
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1
start_gateway
printf 'plug 1\n' >"$T/a.sim"
start_sim a CP1 "$T/a.sim"
wait_answered a StatusNotification 1

mkfifo "$T/py.in"
/usr/bin/python3 "$TEST_SRC/status_events.py" "$PORT" "$T/a.in" \
  <"$T/py.in" >"$T/py.out" 2>&1 &
PY_PID=$!
exec {PY_FD}>"$T/py.in"
for i in $(seq 1 600); do
  grep -q '^events ok' "$T/py.out" && break
  kill -0 "$PY_PID" 2>/dev/null || { cat "$T/py.out" >&2; fail "status_events.py"; }
  sleep 0.1
done
grep -q '^events ok' "$T/py.out" || { cat "$T/py.out" >&2; fail "no result"; }
note "$(grep '^events ok' "$T/py.out")"

stop_gateway
echo >&"$PY_FD"
wait "$PY_PID" || { cat "$T/py.out" >&2; fail "streams after the shutdown"; }
grep -q '^all streams closed at shutdown' "$T/py.out" || fail "shutdown"
expect_log 'SIGTERM: shutting down'
note "status_events passed"
