#!/bin/bash
# An OCPP 2.0.1 charger (the simulator in 2.0.1 mode) behind a 1.6
# billing backend (test/sim/fake_csms.py): the backend gets a
# BootNotification with the charger's vendor, model, serial and firmware,
# an Authorize of its tag, and the session of that tag as 1.6 messages:
# TransactionEvent Started as StartTransaction, Updated meter values as
# MeterValues and Ended as StopTransaction, both with the backend's
# transaction id. A session of a local tag sends nothing. The backend
# link's frames pass the 1.6 schemas, the charger's the 2.0.1 schemas.
source "$TEST_SRC/lib.sh"

BPORT=$(free_port)
BLOG=$T/backend.log
start_backend "$BLOG" --first-transaction-id 9001
upstream_charger_up "$BLOG" --ocpp 2.0.1 --vendor ACME --model W201 \
  --serial SN-201-7 --firmware 4.2.1
expect_log "CP1: connected from 127\.0\.0\.1:[0-9]+, ocpp2\.0\.1"
backend_check "$BLOG" BootNotification \
  'p["chargePointVendor"] == "ACME" and p["chargePointModel"] == "W201" and p["chargePointSerialNumber"] == "SN-201-7" and p["firmwareVersion"] == "4.2.1"' \
  "the backend's BootNotification is not the 2.0.1 charger's identity"
note "backend BootNotification: ACME W201 SN-201-7 4.2.1 from the 2.0.1 charger"

# ---- a session of the backend's tag ----
sim_cmd cp "authorize EMP1"
backend_wait "$BLOG" Authorize 1
backend_check "$BLOG" Authorize 'p == {"idTag": "EMP1"}' "Authorize of EMP1"
ocpp_wait_count cp answer Authorize 1 100
ocpp_check cp answer Authorize 'p["idTokenInfo"]["status"] == "Accepted"' \
  "the charger did not get the backend's Accepted"
sim_cmd cp "plug 1"
sim_cmd cp "start 1 EMP1 1000"
backend_wait "$BLOG" StartTransaction 1
backend_check "$BLOG" StartTransaction \
  'p["idTag"] == "EMP1" and p["meterStart"] == 1000 and p["connectorId"] == 1' \
  "TransactionEvent Started did not become StartTransaction"
sim_cmd cp "meter 1 energy=1500"
backend_wait "$BLOG" MeterValues 1
backend_check "$BLOG" MeterValues \
  'p["transactionId"] == 9001 and any(s["value"] == "1500" and s["measurand"] == "Energy.Active.Import.Register" for s in p["meterValue"][0]["sampledValue"])' \
  "meter values of the 2.0.1 session did not reach the backend with its id 9001"
sim_cmd cp "stop 1 2000 Local"
backend_wait "$BLOG" StopTransaction 1
backend_check "$BLOG" StopTransaction \
  'p["transactionId"] == 9001 and p["meterStop"] == 2000' \
  "TransactionEvent Ended did not become StopTransaction of 9001"
link_status 'u["queue_length"] == 0'
note "backend session: Started, Updated, Ended reached the backend as StartTransaction, MeterValues, StopTransaction of 9001"

# ---- a local tag's session sends nothing ----
counts() {
  echo "$(backend_count "$BLOG" Authorize) Authorize," \
    "$(backend_count "$BLOG" StartTransaction) StartTransaction," \
    "$(backend_count "$BLOG" MeterValues) MeterValues," \
    "$(backend_count "$BLOG" StopTransaction) StopTransaction"
}
BEFORE=$(counts)
ENDED=$(ocpp_count cp answer TransactionEvent)
sim_cmd cp "authorize LOCAL1"
sim_cmd cp "start 1 LOCAL1 3000"
sim_cmd cp "meter 1 energy=3500"
sim_cmd cp "stop 1 4000 Local"
ocpp_wait_count cp answer TransactionEvent $((ENDED + 3)) 100
sleep 1
[ "$(counts)" = "$BEFORE" ] || fail "the local session reached the backend: $(counts)"
! grep -q LOCAL1 "$BLOG" || fail "the local tag reached the backend"
note "local session: backend still got $(counts)"

backend_validate "$BLOG"
validate_frames cp
