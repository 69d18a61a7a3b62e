#!/bin/bash
# The transactions of a billing backend's sessions: StartTransaction,
# MeterValues and StopTransaction of a session with a backend tag reach
# the backend (test/sim/fake_csms.py) with the backend's transaction id,
# while the charger keeps the gateway's; a session with a local tag sends
# nothing. With the backend down they wait in the store's queue and arrive
# once and in order, with the charger's timestamps, when it is back; the
# same when the gateway is killed with SIGKILL while the queue is not
# empty. A message whose answer never came is sent again after the
# reconnect. Every frame on the backend link is checked against the schemas.
source "$TEST_SRC/lib.sh"

BPORT=$(free_port)
BLOG=$T/backend.log
start_backend "$BLOG" --first-transaction-id 9001
write_config
write_charger CP1 'tags = LOCAL1'
add_upstream CP1
start_gateway
printf 'boot\nheartbeat\n' >"$T/idle.sim"
start_sim cp CP1 "$T/idle.sim" --reconnect-delay 1
backend_wait "$BLOG" BootNotification 1
link_status 'u["connected"]'

STARTS=0
STOPS=0
# session TAG START METER... STOP: one session on connector 1, each meter
# reading answered before the next; prints the gateway's transaction id
session() {
  local tag=$1 start=$2
  shift 2
  STARTS=$((STARTS + 1))
  sim_cmd cp "start 1 $tag $start"
  ocpp_wait_count cp answer StartTransaction "$STARTS" 100
  while [ $# -gt 1 ]; do
    local n
    n=$(ocpp_count cp answer MeterValues)
    sim_cmd cp "meter 1 energy=$1"
    ocpp_wait_count cp answer MeterValues $((n + 1)) 100
    shift
  done
  STOPS=$((STOPS + 1))
  sim_cmd cp "stop 1 $1 Local"
  ocpp_wait_count cp answer StopTransaction "$STOPS" 100
}
own_id() {
  /usr/bin/python3 "$TEST_SRC/ocpp_log.py" "$T/sim-cp.log" get answer \
    StartTransaction 'p["transactionId"]'
}
# queued_messages: the session messages in the store's queue (read-only;
# /status' queue_length also counts unconfirmed connector states)
queued_messages() {
  /usr/bin/python3 - "$T/store/ocppknx.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM upstream_queue").fetchone()[0])
PY
}
check_backend() {
  /usr/bin/python3 "$TEST_SRC/upstream_queue.py" "$@" || fail "backend: $*"
}

# ---- a backend session arrives with the backend's id ----
session EMP1 1000 1500 2000
backend_wait "$BLOG" StopTransaction 1
A=$(own_id)
[ "$A" != 9001 ] || fail "the charger got the backend's transaction id"
note "backend session: $(check_backend "$BLOG" "$T/sim-cp.log" 9001 \
  StartTransaction MeterValues StopTransaction)"

# ---- a local session sends nothing ----
session LOCAL1 3000 3500 4000
B=$(own_id)
sleep 1
counts() {
  echo "$(backend_count "$1" StartTransaction) StartTransaction," \
    "$(backend_count "$1" MeterValues) MeterValues," \
    "$(backend_count "$1" StopTransaction) StopTransaction"
}
[ "$(counts "$BLOG")" = "1 StartTransaction, 1 MeterValues, 1 StopTransaction" ] ||
  fail "the local session reached the backend: $(counts "$BLOG")"
note "local session: backend got $(counts "$BLOG") (unchanged)"
grep -q LOCAL1 "$BLOG" && fail "the local tag reached the backend"
link_status 'u["queue_length"] == 0'

# ---- the backend goes down mid-session and comes back after the stop ----
STARTS=$((STARTS + 1))
sim_cmd cp "start 1 EMP1 5000"
ocpp_wait_count cp answer StartTransaction "$STARTS" 100
C=$(own_id)
backend_wait "$BLOG" StartTransaction 2
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
link_status 'not u["connected"]'
sim_cmd cp "meter 1 energy=5500"
ocpp_wait_count cp answer MeterValues 3 100
sim_cmd cp "meter 1 energy=6000"
ocpp_wait_count cp answer MeterValues 4 100
STOPS=$((STOPS + 1))
sim_cmd cp "stop 1 6500 Local"
ocpp_wait_count cp answer StopTransaction "$STOPS" 100
link_status 'u["queue_length"] >= 3 and u["oldest_queued"]'
QUEUED=$(queued_messages)
sleep 1.2  # delivery must keep the charger's time, not take its own
BLOG2=$T/backend2.log
start_backend "$BLOG2" --first-transaction-id 9500
backend_wait "$BLOG2" StopTransaction 1
link_status 'u["queue_length"] == 0'
sleep 0.5
note "backend killed mid-session, back after the stop: $(check_backend "$BLOG2" \
  "$T/sim-cp.log" 9002 --queued "$QUEUED" MeterValues MeterValues StopTransaction)"

# ---- the gateway killed with SIGKILL while the queue is not empty ----
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
link_status 'not u["connected"]'
session EMP1 7000 7500 8000
D=$(own_id)
link_status 'u["queue_length"] >= 3'
QUEUED=$(queued_messages)
kill9_gateway
sleep 1.2
BLOG3=$T/backend3.log
start_backend "$BLOG3" --first-transaction-id 9700
restart_gateway
backend_wait "$BLOG3" StopTransaction 1
link_status 'u["queue_length"] == 0'
sleep 0.5
note "gateway killed with SIGKILL, queue not empty: $(check_backend "$BLOG3" \
  "$T/sim-cp.log" 9700 --queued "$QUEUED" StartTransaction MeterValues StopTransaction)"

# ---- an answer that never came: sent again after the reconnect ----
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
BLOG4=$T/backend4.log
start_backend "$BLOG4" --first-transaction-id 9900 --drop-unanswered MeterValues
backend_wait "$BLOG4" BootNotification 1
link_status 'u["connected"]'
session EMP1 9000 9500 10000
E=$(own_id)
backend_wait "$BLOG4" StopTransaction 1
link_status 'u["queue_length"] == 0'
sleep 0.5
[ "$(counts "$BLOG4")" = "1 StartTransaction, 2 MeterValues, 1 StopTransaction" ] ||
  fail "unanswered MeterValues: backend got $(counts "$BLOG4")"
/usr/bin/python3 - "$BLOG4" <<'PY' || fail "unanswered MeterValues: out of order"
import json, sys
tx = ("StartTransaction", "MeterValues", "StopTransaction")
got = [f["frame"][2] for f in map(json.loads, open(sys.argv[1]))
       if f.get("dir") == "in" and f.get("frame", [0])[0] == 2
       and f["frame"][2] in tx]
assert got == ["StartTransaction", "MeterValues", "MeterValues",
               "StopTransaction"], got
PY
backend_check "$BLOG4" MeterValues 'p["transactionId"] == 9900' \
  "MeterValues sent again without the backend's id"
note "unanswered MeterValues: backend got $(counts "$BLOG4") (the MeterValues again after the reconnect)"

# ---- the export names the backend's ids ----
export_sessions "$T/all.csv"
/usr/bin/python3 - "$T/all.csv" "$A" "$B" "$C" "$D" "$E" <<'PY' || fail "export: upstream_transaction_id"
import csv, sys
rows = {r["transaction_id"]: r["upstream_transaction_id"]
        for r in csv.DictReader(open(sys.argv[1]))}
want = dict(zip(sys.argv[2:], ["9001", "", "9002", "9700", "9900"]))
assert all(rows[k] == v for k, v in want.items()), (rows, want)
PY

backend_validate "$BLOG"
backend_validate "$BLOG2"
backend_validate "$BLOG3"
backend_validate "$BLOG4"
validate_frames cp
total() {
  local a=$1 n=0 log
  for log in "$BLOG" "$BLOG2" "$BLOG3" "$BLOG4"; do
    n=$((n + $(backend_count "$log" "$a")))
  done
  echo "$n $a"
}
note "backend links in all: $(total StartTransaction), $(total MeterValues), $(total StopTransaction) for 4 backend sessions (one MeterValues twice: its answer never came); 0 for the local session"
