# ocppknxd --export-sessions: exact CSV header and rows, times in UTC with
# Z, --from/--to by UTC day (whatever TZ says), exports while the gateway
# runs and writes, clear errors and a non-zero exit for bad dates.
source "$TEST_SRC/lib.sh"

write_config
write_charger CP1
start_bus
start_gateway
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim"
wait_answered s1 BootNotification 1

# session NAME TAG METER_START START [METER_STOP STOP REASON]: a session
# with the charger's own timestamps in raw frames; prints its id
session() {
  local name=$1 tag=$2 wh=$3 start=$4 tx
  sim_cmd s1 "send [2,\"start-$name\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"$tag\",\"meterStart\":$wh,\"timestamp\":\"$start\"}]"
  tx=$(accepted_tx "$(wait_answer s1 "start-$name")")
  if [ $# -gt 4 ]; then
    sim_cmd s1 "send [2,\"stop-$name\",\"StopTransaction\",{\"transactionId\":$tx,\"meterStop\":$5,\"timestamp\":\"$6\",\"reason\":\"$7\",\"idTag\":\"$tag\"}]"
    wait_answer s1 "stop-$name" >/dev/null
  fi
  echo "$tx"
}

oct=$(session oct OCT 100 2026-10-05T23:30:00Z 1100 2026-10-06T01:00:00Z EVDisconnected)
nov=$(session nov 'A,B' 2000 2026-11-05T08:00:00.250Z 4500 2026-11-05T09:15:00Z Local)
dec=$(session dec RUN 5000 2026-12-01T10:00:00Z)
row_oct="CP1,1,$oct,OCT,2026-10-05T23:30:00Z,2026-10-06T01:00:00Z,100,1100,1000,EVDisconnected,,"
row_nov="CP1,1,$nov,\"A,B\",2026-11-05T08:00:00Z,2026-11-05T09:15:00Z,2000,4500,2500,Local,,"
row_dec="CP1,1,$dec,RUN,2026-12-01T10:00:00Z,,5000,,,,,"
header='charger_id,connector,transaction_id,id_tag,start,stop,meter_start_wh,meter_stop_wh,energy_wh,stop_reason,tag_name,upstream_transaction_id'

# expect_csv FILE ROW...: FILE is the header and exactly these rows, in order
expect_csv() {
  local file=$1
  shift
  local want
  want=$(printf '%s\n' "$header" "$@")
  [ "$(cat "$file")" = "$want" ] || {
    echo "---- got" >&2; cat "$file" >&2; echo "---- want" >&2; echo "$want" >&2
    fail "export $file"; }
}

note "everything, while the gateway runs (one session still running)"
export_sessions "$T/all.csv"
expect_csv "$T/all.csv" "$row_oct" "$row_nov" "$row_dec"
[ "$(tail -c 1 "$T/all.csv" | od -An -c | tr -d ' ')" = '\n' ] || fail "last line not ended"
! grep -q $'\r' "$T/all.csv" || fail "CR in the export"

note "date filters by the UTC day of the start"
export_sessions "$T/f1.csv" --from 2026-11-01
expect_csv "$T/f1.csv" "$row_nov" "$row_dec"
export_sessions "$T/f2.csv" --to 2026-10-31
expect_csv "$T/f2.csv" "$row_oct"
TZ=Pacific/Kiritimati export_sessions "$T/f3.csv" --from 2026-10-05 --to 2026-10-05
expect_csv "$T/f3.csv" "$row_oct"
TZ=America/Los_Angeles export_sessions "$T/f4.csv" --from 2026-11-05 --to 2026-11-05
expect_csv "$T/f4.csv" "$row_nov"
export_sessions "$T/f5.csv" --from 2026-10-06 --to 2026-11-04
expect_csv "$T/f5.csv"
export_sessions "$T/f6.csv" --from 2026-10-05 --to 2026-12-01
expect_csv "$T/f6.csv" "$row_oct" "$row_nov" "$row_dec"
export_sessions "$T/f7.csv" --from 2026-10-06 --to 2026-11-30
expect_csv "$T/f7.csv" "$row_nov"

note "bad dates: a clear error, no CSV, non-zero exit"
for bad in 2026-13-01 2026-02-30 2025-02-29 2026-10-5 ' 2026-10-05' 05.10.2026 \
           2026-10-05T00:00:00Z yesterday ''; do
  for opt in --from --to; do
    rc=0
    "$OCPPKNXD" -c "$T/ocppknxd.conf" --export-sessions "$opt" "$bad" \
      >"$T/bad.out" 2>"$T/bad.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$opt '$bad' accepted"
    [ ! -s "$T/bad.out" ] || fail "$opt '$bad' printed CSV"
    grep -Fq -- "$bad: expected a date YYYY-MM-DD" "$T/bad.err" \
      || { cat "$T/bad.err" >&2; fail "$opt '$bad': unclear error"; }
  done
done
rc=0
"$OCPPKNXD" -c "$T/ocppknxd.conf" --export-sessions --from 2026-11-02 --to 2026-11-01 \
  >"$T/bad.out" 2>"$T/bad.err" || rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$T/bad.out" ] && grep -q -- '--from' "$T/bad.err" \
  || { cat "$T/bad.err" >&2; fail "--from after --to: rc $rc"; }

note "exports while the gateway writes"
writer() {
  for i in $(seq 1 30); do
    sim_cmd s1 "meter 1 energy=$(( 5000 + i * 10 ))"
    sleep 0.02
  done
}
writer &
writer_pid=$!
for i in $(seq 1 15); do
  export_sessions "$T/busy.csv"
  [ "$(head -n 1 "$T/busy.csv")" = "$header" ] || fail "export $i while busy"
  grep -Fqx "$row_oct" "$T/busy.csv" || fail "export $i while busy lost a row"
  sim_cmd s1 "send [2,\"busy-start-$i\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"RUN\",\"meterStart\":5000,\"timestamp\":\"2026-12-01T10:00:00Z\"}]"
done
wait "$writer_pid"
wait_answer s1 busy-start-15 >/dev/null
# every repeat of the running session's start got its id: no new rows
export_sessions "$T/after.csv"
expect_csv "$T/after.csv" "$row_oct" "$row_nov" "$row_dec"

note "after the gateway stopped, and without a database"
stop_gateway
export_sessions "$T/stopped.csv"
expect_csv "$T/stopped.csv" "$row_oct" "$row_nov" "$row_dec"
sed -i "s|^dir = $T/store\$|dir = $T/nothing-here|" "$T/ocppknxd.conf"
rc=0
"$OCPPKNXD" -c "$T/ocppknxd.conf" --export-sessions >"$T/none.out" 2>"$T/none.err" || rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$T/none.out" ] && grep -q 'nothing-here/ocppknx.db: cannot open' "$T/none.err" \
  || { cat "$T/none.err" >&2; fail "export without a database: rc $rc"; }
[ ! -e "$T/nothing-here" ] || fail "the export created the state directory"
