#!/bin/bash
# idTags of a billing backend: the backend decides Authorize and
# StartTransaction for the tags of [upstream] tags, its answers are kept
# in the store, and while it is down a tag it accepted before is accepted
# from that cache and any other refused. The charger's local tags are
# decided by its own tags list and never reach the backend, and so does
# the gateway's own remote_tag.
source "$TEST_SRC/lib.sh"

BPORT=$(free_port)
BLOG=$T/backend.log
start_backend "$BLOG" --accept EMP1
write_config
write_secure_charger CP1 0
cat >>"$T/chargers.d/CP1.conf" <<EOF2
tags = LOCAL1

[upstream]
url = ws://127.0.0.1:$BPORT/ocpp/{id}
tags = EMP1, EMP2, EMP3, KNX
EOF2
start_gateway
printf 'heartbeat\n' >"$T/idle.sim"
start_sim cp CP1 "$T/idle.sim" --reconnect-delay 1
backend_wait "$BLOG" BootNotification 1
link_status 'u["connected"]'

N=0
# authorize TAG STATUS: the charger presents TAG and gets STATUS
authorize() {
  N=$((N + 1))
  sim_cmd cp "authorize $1"
  ocpp_wait_count cp answer Authorize "$N" 100
  ocpp_check cp answer Authorize "p['idTagInfo']['status'] == '$2'" \
    "Authorize $1: not $2"
}

# ---- the backend decides its tags ----
authorize EMP1 Accepted
backend_check "$BLOG" Authorize 'p == {"idTag": "EMP1"}' "EMP1 not asked at the backend"
authorize EMP2 Invalid
backend_check "$BLOG" Authorize 'p == {"idTag": "EMP2"}' "EMP2 not asked at the backend"
[ "$(backend_count "$BLOG" Authorize)" -eq 2 ] || fail "backend asked $(backend_count "$BLOG" Authorize) times, not 2"

# ---- local tags stay local ----
authorize LOCAL1 Accepted
authorize OTHER Invalid
# the gateway's remote_tag (KNX starts) is local even when listed
authorize KNX Accepted
grep -q 'LOCAL1\|OTHER\|KNX' "$BLOG" && fail "a local tag reached the backend"

# a backend tag starts a transaction when the backend accepts it
sim_cmd cp "start 1 EMP1 1000"
ocpp_wait_count cp answer StartTransaction 1 100
ocpp_check cp answer StartTransaction "p['idTagInfo']['status'] == 'Accepted' and p['transactionId'] > 0" \
  "StartTransaction EMP1 not accepted"
[ "$(backend_count "$BLOG" Authorize)" -eq 3 ] || fail "StartTransaction EMP1 not decided by the backend"
sim_cmd cp "stop 1 2000 Local"
ocpp_wait_count cp answer StopTransaction 1 100

# ---- the backend is down: the cache decides ----
kill "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null || true
link_status 'not u["connected"]'
authorize EMP1 Accepted
expect_log 'CP1: backend unreachable: idTag "EMP1" accepted from the cache'
authorize EMP2 Invalid
expect_log 'CP1: backend unreachable: idTag "EMP2" refused: refused or expired in the cache'
authorize EMP3 Invalid
expect_log 'CP1: backend unreachable: idTag "EMP3" refused: unknown to the cache'
authorize LOCAL1 Accepted

# the cache outlives the gateway
stop_gateway
restart_gateway
expect_log_count 'CP1: connected from' 2
authorize EMP1 Accepted
sim_cmd cp "start 1 EMP3 3000"
ocpp_wait_count cp answer StartTransaction 2 100
ocpp_check cp answer StartTransaction "p['idTagInfo']['status'] == 'Invalid'" \
  "StartTransaction of an unknown backend tag accepted while the backend is down"

backend_validate "$BLOG"
validate_frames cp
note "backend Authorize: $(backend_count "$BLOG" Authorize) (EMP1, EMP2, EMP1 for the start); offline: EMP1 accepted from the cache, EMP2 and EMP3 refused"
