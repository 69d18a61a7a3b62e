# A charging session survives kill -9 of the gateway in its middle: after
# the restart the charger goes on with MeterValues for the same
# transactionId and stops it; the export shows one row with the whole
# energy, and later sessions never get an id that was handed out before.
source "$TEST_SRC/lib.sh"

start_bus
start_monitor
write_config
write_charger CP1
start_gateway
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim" --reconnect-delay 0.2
wait_answered s1 BootNotification 1

sim_cmd s1 "start 1 TAG1 1000"
wait_answered s1 StartTransaction 1
read -r tx status _ <<<"$(sessions s1 starts)"
[ "$status" = Accepted ] || fail "StartTransaction answered $status"
sim_cmd s1 "meter 1 energy=1500 power=7000"
wait_answered s1 MeterValues 1

note "kill -9 of the gateway during transaction $tx"
kill9_gateway
# the charger keeps measuring while the gateway is away
sim_cmd s1 "meter 1 energy=2500 power=7000"
sleep 0.3
restart_gateway
wait_answered s1 MeterValues 2 100
sim_cmd s1 "meter 1 energy=3500 power=7000"
wait_answered s1 MeterValues 3
sim_cmd s1 "stop 1 4000"
wait_answered s1 StopTransaction 1
read -r stop_tx _ stop_answer <<<"$(sessions s1 stops)"
[ "$stop_tx" = "$tx" ] && [ "$stop_answer" = result ] \
  || fail "StopTransaction for $stop_tx answered with $stop_answer"

export_sessions "$T/one.csv"
rows=$(/usr/bin/python3 "$TEST_SRC/store_sessions.py" rows "$T/one.csv" "$tx")
[ "$(printf '%s\n' "$rows" | grep -c .)" -eq 1 ] \
  || { cat "$T/one.csv" >&2; fail "want one row for transaction $tx, got: $rows"; }
IFS=, read -r charger tag start stop mstart mstop energy reason <<<"$rows"
[ "$charger" = CP1 ] || fail "charger $charger"
[ "$tag" = TAG1 ] || fail "tag $tag"
[ "$mstart" = 1000 ] && [ "$mstop" = 4000 ] || fail "meter $mstart..$mstop"
[ "$energy" = 3000 ] || fail "energy_wh $energy, want 3000"
[ "$reason" = Local ] || fail "stop_reason $reason"
# start and stop: the charger's timestamps, to the second, in UTC
sim_start=$(sessions s1 starts | awk 'NR==1 {print $5}')
[ "$start" = "${sim_start:0:19}Z" ] || fail "start $start, charger said $sim_start"
[[ "$stop" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] \
  || fail "stop '$stop' is not ISO 8601 UTC"
[[ ! "$stop" < "$start" ]] || fail "stop $stop before start $start"

note "kill -9 right after the stop, then a new session"
kill9_gateway
restart_gateway
sim_cmd s1 "start 1 TAG2 4000"
wait_answered s1 StartTransaction 2 100
tx2=$(sessions s1 starts | awk 'END {print $1}')
[ "$tx2" -gt "$tx" ] || fail "new transaction id $tx2 not above $tx"
sim_cmd s1 "stop 1 4500"
wait_answered s1 StopTransaction 2

note "kill -9 during a session, then the stop without meter values first"
sim_cmd s1 "start 1 TAG3 4500"
wait_answered s1 StartTransaction 3 100
kill9_gateway
restart_gateway
sim_cmd s1 "stop 1 6000"
wait_answered s1 StopTransaction 3 100
# session_energy (9/7/10, DPT 13.010): 1500 Wh from the stored start
expect_bus 'to 9/7/10: 00 00 05 DC $'

export_sessions "$T/all.csv"
/usr/bin/python3 "$TEST_SRC/store_sessions.py" verify "$T/sim-s1.log" \
  "$T/all.csv" CP1 || { cat "$T/all.csv" >&2; fail "export does not match"; }
validate_frames s1
note "ok: transaction $tx kept 3000 Wh across kill -9, next id $tx2"
