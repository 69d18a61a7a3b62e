#!/bin/bash
# systemd's Type=notify protocol, seen from the service manager's socket:
# READY=1 only once the listener accepts connections, STATUS= lines that
# follow chargers and knxd, WATCHDOG=1 only when WATCHDOG_USEC asks for it
# (no timer and no wake-ups otherwise), STOPPING=1 on SIGTERM before the
# chargers are disconnected.
source "$TEST_SRC/lib.sh"

NOTIFY_LOG=$T/notify.log
NOTIFY_PID=
start_bus
write_config
write_charger CP1

/usr/bin/python3 "$TEST_SRC/notify_sock.py" "$T/notify.sock" "$PORT" >"$NOTIFY_LOG" 2>&1 &
NOTIFY_PID=$!
SIM_PIDS+=("$NOTIFY_PID")   # torn down with the simulators
for i in $(seq 1 50); do
  grep -qx bound "$NOTIFY_LOG" && break
  sleep 0.1
done
grep -qx bound "$NOTIFY_LOG" || fail "notify socket not bound: $(cat "$NOTIFY_LOG")"

# expect_notify ERE [N]: at least N datagrams (or probe results) on the
# socket match, within 10 s
expect_notify() {
  local i
  for i in $(seq 1 100); do
    [ "$(grep -Ec "$1" "$NOTIFY_LOG")" -ge "${2:-1}" ] && return 0
    sleep 0.1
  done
  fail "not on the notify socket: $1 (got: $(tr '\n' ';' <"$NOTIFY_LOG"))"
}

# context switches of every thread of process $1: a sleeping process that
# never wakes up does not make any
wakeups() {
  cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n }'
}

# ---- run 1: notifications, no watchdog -----------------------------------
export NOTIFY_SOCKET=$T/notify.sock
start_gateway
unset NOTIFY_SOCKET
NOTIFY_GW=$GW_PID

expect_notify "^READY=1: port $PORT "
[ "$(grep -c "^READY=1: port" "$NOTIFY_LOG")" -eq 1 ] || fail "READY=1 more than once"
grep -qx "READY=1: port $PORT open" "$NOTIFY_LOG" ||
  fail "READY=1 came before the listener accepted connections"
grep -qx "$GW_PID READY=1|STATUS=0 of 1 chargers online, knxd connected" "$NOTIFY_LOG" ||
  fail "READY=1 without the status line, or not from the daemon: $(cat "$NOTIFY_LOG")"
grep -q "STATUS=" <(sed -n '1,/READY=1/p' "$NOTIFY_LOG" | grep -v READY) &&
  fail "a STATUS= line before READY=1"

# idle without a watchdog: not one wake-up in two seconds
before=$(wakeups "$GW_PID")
sleep 2
after=$(wakeups "$GW_PID")
[ "$before" -eq "$after" ] || fail "idle daemon woke up $((after - before)) times"
grep -q WATCHDOG "$NOTIFY_LOG" && fail "WATCHDOG=1 without WATCHDOG_USEC"
grep -q 'systemd watchdog' "$GW_LOG" && fail "watchdog started without WATCHDOG_USEC"

printf 'wait 600\n' >"$T/idle.sim"
start_sim a CP1 "$T/idle.sim"
expect_notify "^$GW_PID STATUS=1 of 1 chargers online, knxd connected$"
stop_bus
expect_notify "^$GW_PID STATUS=1 of 1 chargers online, knxd not connected$"
start_bus
expect_notify "^$GW_PID STATUS=1 of 1 chargers online, knxd connected$" 2
kill "$(sim_pid a)"
expect_notify "^$GW_PID STATUS=0 of 1 chargers online, knxd connected$"

# SIGTERM with a charger online: STOPPING=1 comes before the orderly close,
# so before the charger goes offline, and the status line stays
# "shutting down" while the connections close
start_sim b CP1 "$T/idle.sim"
expect_notify "^$GW_PID STATUS=1 of 1 chargers online, knxd connected$" 3
kill -TERM "$GW_PID"
wait "$GW_PID" || fail "gateway exit status $? after SIGTERM"
GW_PID=
expect_frame b 'close 1001'
expect_notify "STOPPING=1"
[ "$(tail -n 1 "$NOTIFY_LOG")" = "$NOTIFY_GW STOPPING=1|STATUS=SIGTERM: shutting down" ] ||
  fail "not STOPPING=1 with its status line last: $(tail -n 3 "$NOTIFY_LOG")"
[ "$(tail -n 2 "$NOTIFY_LOG" | head -n 1)" = "$NOTIFY_GW STATUS=1 of 1 chargers online, knxd connected" ] ||
  fail "STOPPING=1 came after the charger went offline: $(tail -n 3 "$NOTIFY_LOG")"

# ---- run 2: the watchdog --------------------------------------------------
: >"$NOTIFY_LOG"
# WATCHDOG_PID names the process itself, as systemd sets it: a shell that
# exports its own pid and execs the daemon
restart_gateway env NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 \
  bash -c 'export WATCHDOG_PID=$$; exec "$@"' wd
NOTIFY_GW=$GW_PID
expect_log 'systemd watchdog: a kick every 200 ms'
expect_notify "^$GW_PID READY=1"
expect_notify "^$GW_PID WATCHDOG=1$" 3
# a stalled loop stops the kicks
kill -STOP "$GW_PID"
kicks=$(grep -c "WATCHDOG=1" "$NOTIFY_LOG")
sleep 1
[ "$(grep -c "WATCHDOG=1" "$NOTIFY_LOG")" -eq "$kicks" ] || fail "kicks from a stopped daemon"
kill -CONT "$GW_PID"
expect_notify "^$GW_PID WATCHDOG=1$" $((kicks + 1))
kill -TERM "$GW_PID"
wait "$GW_PID" || fail "gateway exit status $? after SIGTERM (watchdog)"
GW_PID=
expect_notify "^$NOTIFY_GW STOPPING=1"

# ---- run 3: a watchdog meant for another process -------------------------
: >"$NOTIFY_LOG"
: >"$GW_LOG"
restart_gateway env NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 WATCHDOG_PID=1
expect_notify "^$GW_PID READY=1"
grep -q 'systemd watchdog' "$GW_LOG" && fail "watchdog started for WATCHDOG_PID=1"
before=$(wakeups "$GW_PID")
sleep 1
after=$(wakeups "$GW_PID")
[ "$before" -eq "$after" ] || fail "daemon with another process's watchdog woke up"
note "READY=1 after the listener, STATUS follows chargers and knxd, watchdog only when asked, STOPPING=1 before the close"
