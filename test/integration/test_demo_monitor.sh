#!/bin/bash
# The demo's bus monitor (packaging/demo_bus.py) decodes what really crosses
# the bus with the configuration: the gateway's telegrams of two chargers
# with different DPT choices, a panel's command, a read and its response,
# data that does not fit the object's DPT, an address nobody configured.
source "$TEST_SRC/lib.sh"
export TZ=UTC   # the time objects and the expected text in the same zone

DEMO_LOG=$T/demo.log
start_bus
write_config
write_charger CP1 "name = Garage"
write_charger_at CP2 1 "name = Carport
current_dpt = 9.021
time_dpt = 19.001"

/usr/bin/python3 "$TEST_SRC/../../packaging/demo_bus.py" "$KNX_URL" \
  "$T/chargers.d" "$TEST_SRC/../.." >"$DEMO_LOG" 2>&1 &
SIM_PIDS+=($!)   # torn down with the simulators

# expect_demo ERE: a line of the monitor, within 5 s
expect_demo() {
  local i
  for i in $(seq 1 50); do
    grep -Eq "$1" "$DEMO_LOG" && return 0
    sleep 0.1
  done
  fail "not in the bus monitor: $1 (got: $(tail -n 30 "$DEMO_LOG"))"
}

# every group address of both charger files is known to the monitor
n_ga=$(cat "$T"/chargers.d/*.conf | grep -Ec '^[a-z_]+ *= *[0-9]+/[0-9]+/[0-9]+')
expect_demo "^bus monitor: $n_ga group addresses of the configuration$"
for i in $(seq 1 50); do
  knxtool groupswrite "$KNX_URL" 31/7/255 1 >/dev/null
  grep -Eq '^Write +31/7/255 +\(not configured\) +01 +from ' "$DEMO_LOG" && break
  sleep 0.1
done
expect_demo '^Write +31/7/255 +\(not configured\) +01 +from '

start_gateway
cat >"$T/a.sim" <<'SIM'
plug 1
start 1 TAG1 2000
meter 1 energy=2600 current.L1=16 current.L2=16 current.L3=16 power=11040
SIM
# 6.4 A is 6400 mA, exact in DPT 9's 2-byte float
cat >"$T/b.sim" <<'SIM'
plug 1
start 1 TAG2 2000
meter 1 energy=2600 current.L1=6.4 current.L2=6.4 current.L3=6.4 power=4416
SIM
start_sim a CP1 "$T/a.sim"
start_sim b CP2 "$T/b.sim"
ocpp_wait_count a answer MeterValues 1
ocpp_wait_count b answer MeterValues 1

expect_demo '^Write +9/7/52 +Garage/1 online +1 \(active\) +from '
expect_demo '^Write +9/7/0 +Garage/1 status +2 \(Charging\) +from '
expect_demo '^Write +9/7/100 +Garage/1 error_code +0 \(NoError\) +from '
expect_demo '^Write +9/7/1 +Garage/1 charging_state +1 \(start\) +from '
expect_demo '^Write +9/7/50 +Garage/1 last_tag +"TAG1" +from '
expect_demo '^Write +9/7/40 +Garage/1 current +16\.00 A +from '
expect_demo '^Write +9/7/45 +Garage/1 power +11040\.00 W +from '
expect_demo '^Write +9/7/11 +Garage/1 session_energy_live +600 Wh +from '
expect_demo '^Write +9/1/50 +Carport/1 last_tag +"TAG2" +from '
expect_demo '^Write +9/1/40 +Carport/1 current +6400\.00 mA +from '
expect_demo '^Write +9/1/45 +Carport/1 power +4416\.00 W +from '

# start_time in each charger's DPT: 10.001 (weekday and time), 19.001 (date)
when() {
  /usr/bin/python3 -c '
import datetime, sys
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
print(t.strftime(sys.argv[2]))' "$1" "$2"
}
ts_a=$(ocpp_get a sent StartTransaction 'p["timestamp"]')
ts_b=$(ocpp_get b sent StartTransaction 'p["timestamp"]')
expect_demo "^Write +9/7/20 +Garage/1 start_time +$(when "$ts_a" '%a %H:%M:%S') +from "
expect_demo "^Write +9/1/20 +Carport/1 start_time +$(when "$ts_b" '%Y-%m-%d %H:%M:%S') +from "

# a panel reads the status, then stops charging; a broken write
/usr/bin/python3 "$TEST_SRC/knx_bus.py" read "$KNX_URL" 9/7/0 >/dev/null ||
  fail "no answer to the read of 9/7/0"
expect_demo '^Read +9/7/0 +Garage/1 status +from '
expect_demo '^Response +9/7/0 +Garage/1 status +2 \(Charging\) +from '
knxtool groupswrite "$KNX_URL" 9/7/2 0 >/dev/null
expect_demo '^Write +9/7/2 +Garage/1 charging +0 \(stop\) +from '
expect_frame a 'RemoteStopTransaction'
/usr/bin/python3 "$TEST_SRC/knx_bus.py" write "$KNX_URL" 9/7/42 01 02
expect_demo '^Write +9/7/42 +Garage/1 max_current +01 02 \(not DPT 14\.019\) +from '
note "demo monitor: $(grep -c . "$DEMO_LOG") lines decoded"
