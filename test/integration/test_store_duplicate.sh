# Repeated transaction messages, as chargers send them when an answer got
# lost: the same StopTransaction twice is one session and Accepted both
# times (also when the repeat comes after a gateway restart); the same
# StartTransaction (same connector, tag, meterStart, timestamp) gets the
# same transactionId, also after a kill -9 between the two.
source "$TEST_SRC/lib.sh"

write_config
write_charger CP1
start_bus
start_gateway
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim" --reconnect-delay 0.1
wait_answered s1 BootNotification 1

# stop_accepted ANSWER: a StopTransaction answer with idTagInfo Accepted
stop_accepted() {
  [ "$1" = '{"idTagInfo":{"status":"Accepted"}}' ] \
    || fail "StopTransaction answered $1, want idTagInfo Accepted"
}

note "the simulator's StopTransaction, then the same frame again"
sim_cmd s1 "start 1 TAG1 1000"
wait_answered s1 StartTransaction 1
tx1=$(sessions s1 starts | awk 'NR==1 {print $1}')
sim_cmd s1 "meter 1 energy=1800"
sim_cmd s1 "stop 1 2000"
wait_answered s1 StopTransaction 1
[ "$(sessions s1 stops)" = "$tx1 2000 result" ] || fail "first stop: $(sessions s1 stops)"
stop1=$(sessions s1 last-call StopTransaction)
sim_cmd s1 "send [2,\"dup-stop-1\",\"StopTransaction\",$stop1]"
stop_accepted "$(wait_answer s1 dup-stop-1)"

note "the same StopTransaction once more after a restart of the gateway"
kill9_gateway
restart_gateway
wait_answered s1 BootNotification 2 100
sim_cmd s1 "send [2,\"dup-stop-2\",\"StopTransaction\",$stop1]"
stop_accepted "$(wait_answer s1 dup-stop-2)"

note "the same StartTransaction three times, a kill -9 before the third"
start='{"connectorId":1,"idTag":"TAG2","meterStart":5000,"timestamp":"2026-10-05T08:00:00Z"}'
sim_cmd s1 "send [2,\"dup-start-1\",\"StartTransaction\",$start]"
tx2=$(accepted_tx "$(wait_answer s1 dup-start-1)")
[ "$tx2" -gt "$tx1" ] || fail "transaction $tx2 after $tx1"
sim_cmd s1 "send [2,\"dup-start-2\",\"StartTransaction\",$start]"
again=$(accepted_tx "$(wait_answer s1 dup-start-2)")
[ "$again" = "$tx2" ] || fail "repeated StartTransaction got $again, first got $tx2"
kill9_gateway
restart_gateway
wait_answered s1 BootNotification 3 100
sim_cmd s1 "send [2,\"dup-start-3\",\"StartTransaction\",$start]"
again=$(accepted_tx "$(wait_answer s1 dup-start-3)")
[ "$again" = "$tx2" ] || fail "StartTransaction repeated after a restart got $again, first got $tx2"

note "a different timestamp is a new transaction"
other='{"connectorId":1,"idTag":"TAG2","meterStart":5000,"timestamp":"2026-10-05T08:00:01Z"}'
stop2='{"transactionId":'$tx2',"meterStop":5600,"timestamp":"2026-10-05T09:00:00Z","reason":"Local","idTag":"TAG2"}'
sim_cmd s1 "send [2,\"stop-2\",\"StopTransaction\",$stop2]"
stop_accepted "$(wait_answer s1 stop-2)"
sim_cmd s1 "send [2,\"dup-stop-3\",\"StopTransaction\",$stop2]"
stop_accepted "$(wait_answer s1 dup-stop-3)"
sim_cmd s1 "send [2,\"new-start\",\"StartTransaction\",$other]"
tx3=$(accepted_tx "$(wait_answer s1 new-start)")
[ "$tx3" -gt "$tx2" ] || fail "different start got $tx3, want a new id above $tx2"

export_sessions "$T/sessions.csv"
for tx in "$tx1" "$tx2" "$tx3"; do
  n=$(/usr/bin/python3 "$TEST_SRC/store_sessions.py" rows "$T/sessions.csv" "$tx" | grep -c . || true)
  [ "$n" -eq 1 ] || { cat "$T/sessions.csv" >&2; fail "transaction $tx has $n rows"; }
done
row1=$(/usr/bin/python3 "$TEST_SRC/store_sessions.py" rows "$T/sessions.csv" "$tx1")
[[ "$row1" == CP1,TAG1,*,1000,2000,1000,Local ]] || fail "row of $tx1: $row1"
row2=$(/usr/bin/python3 "$TEST_SRC/store_sessions.py" rows "$T/sessions.csv" "$tx2")
[ "$row2" = "CP1,TAG2,2026-10-05T08:00:00Z,2026-10-05T09:00:00Z,5000,5600,600,Local" ] \
  || fail "row of $tx2: $row2"
[ "$(grep -c . "$T/sessions.csv")" -eq 4 ] || { cat "$T/sessions.csv" >&2; fail "want 3 sessions"; }
grep -q 'transaction '"$tx1"': 1000 Wh' "$GW_LOG" || fail "energy of $tx1 not logged"
[ "$(grep -c 'transaction '"$tx1"': 1000 Wh' "$GW_LOG")" -eq 1 ] || fail "energy of $tx1 logged twice"
validate_frames s1
