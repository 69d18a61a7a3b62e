# Tag lists (tags_file): Authorize and StartTransaction answers on the wire
# for named, blocked, expired and unknown tags, reversed UIDs, the name on
# KNX last_tag, in /status and in the CSV export; a SIGHUP with a bad list
# keeps the old one, a good one takes effect; --check-config names the bad
# line.
source "$TEST_SRC/lib.sh"

write_config
echo 'tags_file = tags.conf' >>"$T/ocppknxd.conf"   # into [chargers]
# /status shows tags and their names only behind the page's password
STATUS_PASSWORD=tagsecret
printf '[status]\npassword = %s\n' "$STATUS_PASSWORD" >>"$T/ocppknxd.conf"
cat >"$T/tags.conf" <<'EOF2'
# the family's cards
04A2B3C4 = Anna
0A0B0C0D = Company car, expires 2020-01-31
0E0F1011 = Guest, expires 2099-12-31
DEADBEEF = Lost card, blocked
EOF2
write_charger CP1 $'start_mode = tag\ntags = 1122334455\ntag_match = reversed'
start_bus
start_monitor
start_gateway
printf 'plug 1\n' >"$T/s1.sim"
start_sim s1 CP1 "$T/s1.sim"
wait_answered s1 BootNotification 1

# authorize MSGID TAG: prints the idTagInfo the gateway answered
authorize() {
  sim_cmd s1 "send [2,\"$1\",\"Authorize\",{\"idTag\":\"$2\"}]"
  /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["idTagInfo"], sort_keys=True))' \
    "$(wait_answer s1 "$1")"
}

# expect_info MSGID TAG JSON: the answer to Authorize TAG is exactly JSON
expect_info() {
  local got
  got=$(authorize "$1" "$2")
  [ "$got" = "$3" ] || fail "Authorize $2: got $got, want $3"
}

note "Authorize: the list decides for the tags it knows"
expect_info a1 04A2B3C4 '{"status": "Accepted"}'
expect_bus " to 9/7/50: $(knx_dpt text16 Anna)$"
expect_info a2 c4b3a204 '{"status": "Accepted"}'
expect_info a3 0A0B0C0D '{"expiryDate": "2020-01-31T23:59:59Z", "status": "Expired"}'
expect_info a4 0E0F1011 '{"expiryDate": "2099-12-31T23:59:59Z", "status": "Accepted"}'
expect_bus " to 9/7/50: $(knx_dpt text16 Guest)$"
expect_info a5 DEADBEEF '{"status": "Blocked"}'
expect_bus " to 9/7/50: $(knx_dpt text16 'Lost card')$"
note "unknown tags follow start_mode and tags"
expect_info a6 CAFE0001 '{"status": "Invalid"}'
expect_bus " to 9/7/50: $(knx_dpt text16 CAFE0001)$"
expect_info a7 5544332211 '{"status": "Accepted"}'
expect_log 'CP1.*idTag "04A2B3C4" \(Anna\): Accepted'

note "StartTransaction: Accepted with the name, Blocked and Expired refused"
start_tx() {
  sim_cmd s1 "send [2,\"$1\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"$2\",\"meterStart\":$3,\"timestamp\":\"$4\"}]"
  wait_answer s1 "$1"
}
refused=$(start_tx s-lost DEADBEEF 50 2026-11-01T08:00:00Z)
/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["idTagInfo"]=={"status":"Blocked"} and a["transactionId"]>0, a' \
  "$refused" || fail "blocked start: $refused"
refused=$(start_tx s-old 0A0B0C0D 60 2026-11-01T08:30:00Z)
/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["idTagInfo"]=={"status":"Expired","expiryDate":"2020-01-31T23:59:59Z"}, a' \
  "$refused" || fail "expired start: $refused"
tx=$(accepted_tx "$(start_tx s-anna C4B3A204 100 2026-11-01T09:00:00Z)")
status_json >"$T/status.json"
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "status JSON without the tag name"
import json, sys
c = json.load(open(sys.argv[1]))["chargers"][0]["connectors"][0]
assert c["id_tag"] == "C4B3A204" and c["tag_name"] == "Anna", c
PY

note "SIGHUP with a bad line keeps the old list"
cp "$T/tags.conf" "$T/tags.good"
printf '04A2B3C4 = Anna\nDEADBEEF Lost card\n' >"$T/tags.conf"
kill -HUP "$GW_PID"
expect_log "tags.conf:2: expected \"UID = name"
expect_log 'SIGHUP: charger files not reloaded'
expect_info h1 DEADBEEF '{"status": "Blocked"}'

[ "$(ocpp_count s1 call ClearCache)" -eq 0 ] || fail "a list not reloaded cleared the cache"

note "SIGHUP with a good list: new names and states; the guest's card is gone"
printf '04A2B3C4 = Anna Berg\nDEADBEEF = Found card\n' >"$T/tags.conf"
kill -HUP "$GW_PID"
expect_log 'SIGHUP: 1 charger files loaded'
# the charger's own cache must not accept the removed card any more
ocpp_wait_count s1 call ClearCache 1
ocpp_check s1 call ClearCache 'p == {}' "ClearCache not sent empty"
expect_log 'CP1: tag list lost a tag: ClearCache sent'
expect_info h2 DEADBEEF '{"status": "Accepted"}'
expect_bus " to 9/7/50: $(knx_dpt text16 'Found card')$"
expect_info h3 0A0B0C0D '{"status": "Invalid"}'

note "the session keeps the name it started with"
sim_cmd s1 "send [2,\"stop-anna\",\"StopTransaction\",{\"transactionId\":$tx,\"meterStop\":1600,\"timestamp\":\"2026-11-01T10:00:00Z\",\"reason\":\"Local\",\"idTag\":\"C4B3A204\"}]"
wait_answer s1 stop-anna >/dev/null
export_sessions "$T/all.csv"
grep -Fxq "CP1,1,$tx,C4B3A204,2026-11-01T09:00:00Z,2026-11-01T10:00:00Z,100,1600,1500,Local,Anna," "$T/all.csv" \
  || { cat "$T/all.csv" >&2; fail "CSV row of Anna's session"; }
head -n 1 "$T/all.csv" | grep -q ',stop_reason,tag_name,upstream_transaction_id$' || fail "CSV header"
grep -q ',DEADBEEF,.*,Lost card,$' "$T/all.csv" || { cat "$T/all.csv" >&2; fail "CSV row of the blocked start"; }

validate_frames s1

note "--check-config names the file and line"
printf '04A2B3C4 = Anna\n\n0A0B0C0D = Car, expires 2027-02-30\n' >"$T/tags.conf"
rc=0
"$OCPPKNXD" -c "$T/ocppknxd.conf" --check-config >"$T/check.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "--check-config accepted a bad tag file"
grep -Fq "$T/tags.conf:3: expires: \"2027-02-30\" is not a date (YYYY-MM-DD)" "$T/check.out" \
  || { cat "$T/check.out" >&2; fail "--check-config message"; }
