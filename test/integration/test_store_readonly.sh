# The state directory stops taking writes in the middle of the sessions and
# takes them again later: the gateway keeps answering the charger (starts
# with fresh, unique ids, stops Accepted), logs the store error, and once the
# disk works every session is in the export.
#
# The gateway, knxd's socket and the export run as nobody, since root ignores
# file permissions; at the end the export also reads a store directory it
# cannot write. Two ways the disk stops taking writes:
#  1. chmod: the store directory 0500 and the database files 0400. SQLite
#     keeps the database, -wal and -shm open, and permissions are checked at
#     open time only, so its writes still succeed; the phase checks that
#     nothing is lost and the charger is answered either way.
#  2. a full disk: no mounts here, so the gateway's RLIMIT_FSIZE is set to 0
#     at run time (prlimit): every write to a regular file fails with EFBIG
#     as it would with ENOSPC (SQLite reports an I/O error or SQLITE_FULL).
#     SIGXFSZ, which only that way of failing raises, is ignored from the
#     start, and the gateway's log goes through a pipe, which the limit does
#     not cover. Setting the limit back is the disk working again.
source "$TEST_SRC/lib.sh"

# As root the unprivileged side is nobody; an ordinary user running the
# suite obeys file permissions already and plays that part itself.
if [ "$(id -u)" -eq 0 ]; then
  RUN_AS=nobody
  AS_RUNNER=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
else
  RUN_AS=$(id -un)
  AS_RUNNER=()
fi

write_config
write_charger CP1
chmod 0777 "$T"
[ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$T/store"
umask 000   # knxd's socket must be writable for nobody
start_bus
umask 022

# the gateway as nobody, SIGXFSZ ignored, its log through a pipe
start_gateway_unprivileged() {
  local before i
  before=$(cat "$GW_LOG" 2>/dev/null | grep -c 'running:' || true)
  ( trap '' XFSZ; exec "${AS_RUNNER[@]}" "$OCPPKNXD" -c "$T/ocppknxd.conf" ) \
    > >(cat >>"$GW_LOG") 2>&1 &
  GW_PID=$!
  for i in $(seq 1 200); do
    kill -0 "$GW_PID" 2>/dev/null || fail "gateway died at start"
    [ "$(cat "$GW_LOG" 2>/dev/null | grep -c 'running:' || true)" -gt "$before" ] && return 0
    sleep 0.05
  done
  fail "gateway did not start"
}

export_unprivileged() {
  "${AS_RUNNER[@]}" "$OCPPKNXD" -c "$T/ocppknxd.conf" --export-sessions >"$1" \
    || fail "export as $RUN_AS failed"
}

n_sessions=0
# charge TAG METER_START METER_STOP: one whole session; its id in $TX
charge() {
  n_sessions=$(( n_sessions + 1 ))
  sim_cmd s1 "start 1 $1 $2"
  wait_answered s1 StartTransaction "$n_sessions"
  sim_cmd s1 "meter 1 energy=$(( ($2 + $3) / 2 ))"
  sim_cmd s1 "stop 1 $3"
  wait_answered s1 StopTransaction "$n_sessions"
  local status
  read -r TX status _ < <(sessions s1 starts | tail -n 1)
  [ "$status" = Accepted ] || fail "start of $1: $status"
  [ "$(sessions s1 stops | tail -n 1)" = "$TX $3 result" ] \
    || fail "stop of $1 not answered: $(sessions s1 stops | tail -n 1)"
}

# fsize LIMIT: the gateway's RLIMIT_FSIZE (soft; the hard limit stays
# unlimited). As nobody: changing another user's limits takes
# CAP_SYS_RESOURCE, which containers often lack.
fsize() {
  "${AS_RUNNER[@]}" prlimit --pid "$GW_PID" --fsize="$1":unlimited \
    || fail "prlimit --fsize=$1"
}

# counted ID...: every id once among the rows of the export FILE ($csv)
rows_of() {
  /usr/bin/python3 "$TEST_SRC/store_sessions.py" rows "$csv" "$1" | grep -c . || true
}

start_gateway_unprivileged
[ "$(stat -c %U "$T/store/ocppknx.db")" = "$RUN_AS" ] \
  || fail "database not owned by $RUN_AS"
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim"
wait_answered s1 BootNotification 1
charge TAG0 100 200; a0=$TX

note "phase 1: store directory and database files read-only"
chmod 0500 "$T/store"
chmod 0400 "$T/store"/ocppknx.db*
charge TAGA1 1000 1600; a1=$TX
charge TAGA2 2000 2500; a2=$TX
[ "$a2" -gt "$a1" ] && [ "$a1" -gt "$a0" ] || fail "ids $a0 $a1 $a2"
csv=$T/phase1.csv
export_unprivileged "$csv"
if grep -q 'store: cannot write' "$GW_LOG"; then
  note "phase 1: the gateway saw the store fail"
else
  note "phase 1: SQLite kept writing through its open files (no error)"
  [ "$(rows_of "$a1")" -eq 1 ] && [ "$(rows_of "$a2")" -eq 1 ] \
    || { cat "$csv" >&2; fail "phase 1 sessions not on disk although no error"; }
fi
chmod 0700 "$T/store"
chmod 0600 "$T/store"/ocppknx.db*

note "phase 2: every write fails (RLIMIT_FSIZE 0)"
fsize 0
charge TAGB1 3000 3700; b1=$TX
charge TAGB2 4000 4100; b2=$TX
[ "$b1" -gt "$a2" ] && [ "$b2" -gt "$b1" ] || fail "ids during the failure: $a2 $b1 $b2"
expect_log 'store: cannot write to .*keeping sessions in memory'
[[ "$(status_json)" == *'"writable": false'* ]] || fail "/status does not show the failing store"
csv=$T/phase2.csv
export_unprivileged "$csv"
[ "$(rows_of "$b1")" -eq 0 ] || fail "phase 2 wrote to the disk: the failure was not real"
kill -0 "$GW_PID" || fail "gateway died"

note "disk writable again: the next start writes everything waiting"
fsize unlimited
charge TAGC1 5000 5200; c1=$TX
[ "$c1" -gt "$b2" ] || fail "id $c1 after $b2"
expect_log 'store: writing again, nothing was lost'
[[ "$(status_json)" == *'"writable": true'* ]] || fail "/status still shows the store failing"

csv=$T/final.csv
export_unprivileged "$csv"
for tx in "$a0" "$a1" "$a2" "$b1" "$b2" "$c1"; do
  [ "$(rows_of "$tx")" -eq 1 ] || { cat "$csv" >&2; fail "transaction $tx: $(rows_of "$tx") rows"; }
done
/usr/bin/python3 "$TEST_SRC/store_sessions.py" verify "$T/sim-s1.log" "$csv" CP1 \
  || { cat "$csv" >&2; fail "export does not match what the charger saw"; }
[ "$(grep -c . "$csv")" -eq 7 ] || { cat "$csv" >&2; fail "want 6 sessions"; }
validate_frames s1

note "export as $RUN_AS after the gateway stopped, store directory read-only"
stop_gateway
[ ! -e "$T/store/ocppknx.db-shm" ] || fail "-shm left after a clean stop"
chmod 0500 "$T/store"
csv=$T/stopped.csv
export_unprivileged "$csv"
chmod 0700 "$T/store"
[ "$(grep -c . "$csv")" -eq 7 ] || { cat "$csv" >&2; fail "want 6 sessions from a read-only directory"; }
