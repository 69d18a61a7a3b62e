# 20 charging sessions, each with a kill -9 of the gateway at a random point:
# before or after the StartTransaction answer, during the meter values, or
# right after the StopTransaction went out. The charger retries what was not
# answered after reconnecting. At the end the export must have exactly one
# row per transaction the charger saw accepted, with the right energy for
# every stop that was answered, and no id twice.
# STORE_LOOP_SEED=N repeats a run (the seed is printed).
source "$TEST_SRC/lib.sh"

ROUNDS=${STORE_LOOP_ROUNDS:-20}
SEED=${STORE_LOOP_SEED:-$(( ($(date +%s) + $$) % 32768 ))}
RANDOM=$SEED
note "seed $SEED, $ROUNDS rounds"

write_config
write_charger CP1
start_bus
start_gateway
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim" --reconnect-delay 0.1
wait_answered s1 BootNotification 1

# a short random pause: 0 to $1 milliseconds
jitter() { sleep "$(printf '0.%03d' $(( RANDOM % ($1 + 1) )))"; }

crash() {
  jitter "$1"
  kill9_gateway
  restart_gateway
}

points=(before_start_answer after_start_answer during_meter_values after_stop_sent)
meters=0
declare -A used
for round in $(seq 1 "$ROUNDS"); do
  point=${points[RANDOM % ${#points[@]}]}
  used[$point]=1
  base=$(( round * 10000 ))
  sim_cmd s1 "start 1 TAG$round $base"
  [ "$point" = before_start_answer ] && crash 20
  wait_answered s1 StartTransaction "$round" 100
  [ "$point" = after_start_answer ] && crash 0
  kill_at=$(( RANDOM % 3 + 1 ))
  for k in 1 2 3; do
    sim_cmd s1 "meter 1 energy=$(( base + k * 100 )) power=7000"
    [ "$point" = during_meter_values ] && [ "$k" = "$kill_at" ] && crash 20
  done
  meters=$(( meters + 3 ))
  wait_answered s1 MeterValues "$meters" 100
  sim_cmd s1 "stop 1 $(( base + 1000 ))"
  [ "$point" = after_stop_sent ] && crash 10
  wait_answered s1 StopTransaction "$round" 100
  echo "# round $round: $point"
done
note "kill points used: ${!used[*]}"

export_sessions "$T/sessions.csv"
/usr/bin/python3 "$TEST_SRC/store_sessions.py" verify "$T/sim-s1.log" \
  "$T/sessions.csv" CP1 || { cat "$T/sessions.csv" >&2; fail "export does not match (seed $SEED)"; }
accepted=$(sessions s1 starts | awk '$2 == "Accepted" {print $1}' | sort -un | wc -l)
[ "$accepted" -eq "$ROUNDS" ] || fail "$accepted transactions accepted, want $ROUNDS"
[ "$(sessions s1 stops | awk '$3 == "result"' | cut -d' ' -f1 | sort -u | wc -l)" -eq "$ROUNDS" ] \
  || fail "not every StopTransaction was answered"
validate_frames s1
