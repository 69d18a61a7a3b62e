#!/bin/bash
# knxd goes away mid-session and comes back on the same socket path: the
# gateway notices, reconnects, publishes its state objects again and keeps
# the charger's WebSocket. Then the daemon starts while knxd is absent,
# serves a charger, and joins the bus when knxd appears.
source "$TEST_SRC/lib.sh"

# bus_on_path: a new knxd whose socket appears at $KNX_SOCK only once the
# monitor is connected to it, so the monitor sees everything the gateway
# sends after reconnecting (knxd listens on a side path, then the socket is
# renamed into place; for clients it is the same path as before).
bus_on_path() {
  local real_sock=$KNX_SOCK real_url=$KNX_URL
  KNX_SOCK=$T/knx-next.sock
  KNX_URL=local:$KNX_SOCK
  start_bus
  start_monitor
  mv -f "$KNX_SOCK" "$real_sock"
  KNX_SOCK=$real_sock
  KNX_URL=$real_url
  BUS_MARK=0
}

kill_bus() {
  kill -9 "$KNXD_PID" 2>/dev/null || true
  wait "$KNXD_PID" 2>/dev/null || true
  KNXD_PID=
  kill "$MON_PID" 2>/dev/null || true
  wait "$MON_PID" 2>/dev/null || true
  MON_PID=
}

start_bus
write_config
write_charger CP1
start_gateway
start_monitor
printf 'plug 1\nstart 1 TAG-1 1500000\nmeter 1 energy=1502000 current=16 power=11040\n' >"$T/a.sim"
start_sim a CP1 "$T/a.sim"
expect_bus " to 9/7/46: $(knx_dpt i13 1502)$"
expect_bus " to 9/7/0: 02 $"

# ---- knxd killed mid-session ----------------------------------------------
kill_bus
expect_log 'knxd link down' 30
# the charger goes on while the bus is gone
sim_cmd a "meter 1 energy=1503000 current=16 power=11040"
ocpp_wait_count a answer MeterValues 2
bus_on_path
t0=$(date +%s.%N)
for i in $(seq 1 60); do
  [ "$(count_log 'knxd link up')" -ge 2 ] && break
  sleep 0.1
done
[ "$(count_log 'knxd link up')" -ge 2 ] || fail "no second link up after knxd came back"
t1=$(date +%s.%N)
/usr/bin/python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 4.0 else 1)" ||
  fail "reconnect took more than 4 s"

# the state objects again, with the value that changed while knxd was away
expect_bus " to 9/7/0: 02 $"
expect_bus " to 9/7/1: 01$"
expect_bus " to 9/7/52: 01$"
expect_bus " to 9/7/51: 01$"
expect_bus " to 9/7/4: 01$"
expect_bus " to 9/7/100: 00 $"
expect_bus " to 9/7/46: $(knx_dpt i13 1503)$"
expect_bus " to 9/7/11: $(knx_dpt i13 3000)$"
expect_bus " to 9/7/40: $(knx_dpt f14 16)$"
expect_bus " to 9/7/50: $(knx_dpt text16 TAG-1)$"
ts=$(ocpp_get a sent StartTransaction 'p["timestamp"]')
expect_bus " to 9/7/20: $(knx_dpt time10 "$ts")$"
# command objects are not state: never published
if grep -E ' to 9/7/(2|3|5|6|42|44|101): ' "$BUS_LOG"; then
  fail "a command object was published"
fi

# later values keep flowing
sim_cmd a "meter 1 energy=1505000 current=8 power=5520"
expect_bus " to 9/7/46: $(knx_dpt i13 1505)$"
expect_bus " to 9/7/40: $(knx_dpt f14 8)$"

# the charger never noticed: same WebSocket, one boot, never offline
grep -q '"event": *"disconnected"' "$T/sim-a.log" && fail "the charger was disconnected"
[ "$(ocpp_count a sent BootNotification)" -eq 1 ] || fail "the charger booted again"
[ "$(count_log 'CP1: disconnected')" -eq 0 ] || fail "the gateway dropped the charger"
grep -E ' to 9/7/52: 00$' "$BUS_LOG" && fail "online went to 0"

# ---- the daemon starts while knxd is absent --------------------------------
sim_cmd a "stop 1 1506000 Local"
ocpp_wait_count a answer StopTransaction 1
stop_gateway
kill "$(sim_pid a)" 2>/dev/null || true
kill_bus
rm -f "$KNX_SOCK"
restart_gateway
# the installer learns why the bus stays quiet
expect_log "knxd not reachable \\(local:$KNX_SOCK\\): .*No such file or directory; retrying"
printf 'plug 1\n' >"$T/b.sim"
start_sim b CP1 "$T/b.sim"
# served without a bus
ocpp_wait_count b answer BootNotification 1
ocpp_check b answer BootNotification 'p["status"] == "Accepted"' "boot not accepted without knxd"
ocpp_wait_count b answer StatusNotification 2
sleep 1
bus_on_path
for i in $(seq 1 100); do
  [ "$(count_log 'knxd link up')" -ge 3 ] && break
  sleep 0.1
done
[ "$(count_log 'knxd link up')" -ge 3 ] || fail "the gateway did not connect to knxd when it appeared"
expect_bus " to 9/7/52: 01$"
expect_bus " to 9/7/0: 01 $"
expect_bus " to 9/7/51: 01$"
sim_cmd b "start 1 TAG-2 1506000"
expect_bus " to 9/7/1: 01$"
expect_bus " to 9/7/50: $(knx_dpt text16 TAG-2)$"
validate_frames a
validate_frames b
note "knx_restart passed"
