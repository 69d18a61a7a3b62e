/* The central system's answers to a 1.6 charger: one handler per action,
 * dispatched by the session core from the sorted table at the end, and
 * the role's start, tick and follow-ups. Payloads arrive validated (and
 * repaired where a known quirk broke them). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/lenient.h"
#include "ocpp/meter_fast.h"
#include "ocpp/cs_common.h"
#include "ocpp/session_impl.h"

/* connectorId as sent, or -1 when negative or beyond int: the schema has
 * no minimum, so such values reach the handlers and must not index the
 * connector table. */
static int connector_of(json_int_t v)
{
  return v < 0 || v > INT_MAX ? -1 : (int)v;
}

static int connector_id(const json_t *req)
{
  return connector_of(json_integer_value(json_object_get(req, "connectorId")));
}

static json_t *id_tag_info(ocpp_auth_status st)
{
  return json_pack("{s:{s:s}}", "idTagInfo", "status", ocpp_auth_status_name(st));
}
static void out_of_range(ocpp_handler_out *out, int connector)
{
  out->error_code = "PropertyConstraintViolation";
  snprintf(out->error_text, sizeof out->error_text,
           "connectorId %d out of range", connector);
}

/* ---- boot, heartbeat, status -------------------------------------------- */

static void copy_field(char *dst, size_t cap, const json_t *req, const char *key)
{
  snprintf(dst, cap, "%s", ocpp__cs_str(req, key));
}

static void h_boot(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp_cp *cp = s->cp;
  copy_field(cp->vendor, sizeof cp->vendor, req, "chargePointVendor");
  copy_field(cp->model, sizeof cp->model, req, "chargePointModel");
  const char *serial = ocpp__cs_str(req, "chargePointSerialNumber");
  if (!*serial)
    serial = ocpp__cs_str(req, "chargeBoxSerialNumber");
  snprintf(cp->serial, sizeof cp->serial, "%s", serial);
  copy_field(cp->firmware, sizeof cp->firmware, req, "firmwareVersion");
  s->booted = true;
  s->boot_deadline = 0;
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "boot: vendor \"%s\" model \"%s\" serial \"%s\" firmware \"%s\"",
                    cp->vendor, cp->model, cp->serial, cp->firmware);
  ocpp_event ev = {.type = OCPP_EV_BOOT};
  ev.boot.vendor = cp->vendor;
  ev.boot.model = cp->model;
  ev.boot.serial = cp->serial;
  ev.boot.firmware = cp->firmware;
  ocpp__session_emit(s, &ev);
  out->answer = json_pack("{s:s,s:o,s:i}", "status", "Accepted", "currentTime",
                          ocpp__cs_now(s), "interval", s->cfg.heartbeat_interval);
  out->configure = true;
}

static void h_heartbeat(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  (void)req;
  out->answer = json_pack("{s:o}", "currentTime", ocpp__cs_now(s));
}

static void set_status(ocpp_connector_state *cs, ocpp_cp_status st,
                       ocpp_cp_error err)
{
  cs->status = st;
  cs->error = err;
  cs->status_known = true;
}

static void h_status(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  int connector = connector_id(req);
  ocpp_cp_status st;
  ocpp_cp_error err;
  if (connector < 0) {
    out_of_range(out, connector);
    return;
  }
  if (ocpp_cp_status_parse(ocpp__cs_str(req, "status"), &st) != 0)
    st = OCPP_CP_UNAVAILABLE; /* schema-checked already: cannot happen */
  if (ocpp_cp_error_parse(ocpp__cs_str(req, "errorCode"), &err) != 0)
    err = OCPP_ERR_OTHER_ERROR;
  /* Chargers report faults with errorCode but status Available etc.; the
   * error code is passed on unchanged, the status too. */
  out->answer = json_object();
  if (connector > OCPP_MAX_CONNECTORS) {
    ocpp__session_log(s, OCPP_LOG_WARN,
                      "status for connector %d ignored (more than %d)",
                      connector, OCPP_MAX_CONNECTORS);
    return;
  }
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  if (!cs) {
    ocpp__session_log(s, OCPP_LOG_ERROR,
                      "status for connector %d not kept: out of memory",
                      connector);
    return;
  }
  bool changed = !cs->status_known || cs->status != st || cs->error != err;
  set_status(cs, st, err);
  if (changed)
    ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: %s%s%s", connector,
                      ocpp_cp_status_name(st),
                      err != OCPP_ERR_NO_ERROR ? " " : "",
                      err != OCPP_ERR_NO_ERROR ? ocpp_cp_error_name(err) : "");
  ocpp_event ev = {.type = OCPP_EV_STATUS, .connector = connector,
                   .timestamp = ocpp__cs_time(s, req, "timestamp")};
  ev.status.status = st;
  ev.status.error = err;
  ev.status.info = ocpp__cs_str(req, "info");
  ev.status.vendor_error = ocpp__cs_str(req, "vendorErrorCode");
  ocpp__session_emit(s, &ev);
  if (s->cp->opt.start_mode == OCPP_START_AUTO && connector >= 1 &&
      st == OCPP_CP_PREPARING && cs->tx_id == 0)
    out->auto_start_connector = connector;
}

/* ---- tags and transactions ---------------------------------------------- */

static void h_authorize(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp_cs_verdict v;
  if (ocpp__cs_check_tag(s, 0, ocpp__cs_str(req, "idTag"), &v, out) == OCPP_OK)
    out->answer = json_pack("{s:o}", "idTagInfo", ocpp__cs_tag_info(&v));
}

/* A new transaction id: recorded by the store before the charger hears of
 * it, or from the owner's counter without a store. */
static int new_transaction(ocpp_session *s, int connector, const char *tag,
                           double meter_start, time_t ts, int32_t *tx_id)
{
  const ocpp_store_hooks *h = &s->cfg.store;
  *tx_id = 0;
  if (!h->begin_transaction) {
    *tx_id = ocpp__session_next_tx_id(s);
    return OCPP_OK;
  }
  if (h->begin_transaction(s->cfg.store_data, s->cfg.log_id, connector, tag,
                           meter_start, ts, NULL, tx_id) != 0 || *tx_id == 0)
    return OCPP_ESTATE;
  return OCPP_OK;
}

static void begin_on_connector(ocpp_connector_state *cs, int32_t tx_id,
                               const char *tag, const char *tag_name,
                               double meter_start, bool has_start, time_t ts)
{
  cs->tx_id = tx_id;
  snprintf(cs->tx_tag, sizeof cs->tx_tag, "%s", tag);
  snprintf(cs->tx_tag_name, sizeof cs->tx_tag_name, "%s", tag_name);
  cs->tx_meter_start_wh = meter_start;
  cs->tx_has_meter_start = has_start;
  cs->tx_start = ts;
  cs->session_energy_wh = 0;
}

/* The connector of a StartTransaction, or NULL with the CALLERROR in out;
 * a repeated request gets its transaction again in out (and NULL). */
static ocpp_connector_state *start_connector(ocpp_session *s, json_t *req,
                                             ocpp_handler_out *out)
{
  int connector = connector_id(req);
  const char *tag = ocpp__cs_str(req, "idTag");
  double meter_start = (double)json_integer_value(json_object_get(req, "meterStart"));
  time_t ts = ocpp__cs_time(s, req, "timestamp");
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  if (!cs || connector < 1) {
    out_of_range(out, connector);
    return NULL;
  }
  /* A charger that lost our answer repeats the same request: give it the
   * same transaction instead of opening a second one. */
  if (cs->tx_id && strcmp(cs->tx_tag, tag) == 0 && cs->tx_start == ts &&
      cs->tx_meter_start_wh == meter_start) {
    out->answer = json_pack("{s:i,s:{s:s}}", "transactionId", cs->tx_id,
                            "idTagInfo", "status", "Accepted");
    return NULL;
  }
  return cs;
}

/* StartTransaction once its tag is decided. */
static void start_decided(ocpp_session *s, json_t *req, const ocpp_cs_verdict *v,
                          ocpp_connector_state *cs, ocpp_handler_out *out)
{
  int connector = connector_id(req);
  const char *tag = ocpp__cs_str(req, "idTag");
  double meter_start = (double)json_integer_value(json_object_get(req, "meterStart"));
  time_t ts = ocpp__cs_time(s, req, "timestamp");
  int32_t tx_id;
  if (new_transaction(s, connector, tag, meter_start, ts, &tx_id) != OCPP_OK) {
    out->error_code = "InternalError";
    snprintf(out->error_text, sizeof out->error_text,
             "cannot record the transaction now");
    return;
  }
  out->answer = json_pack("{s:i,s:o}", "transactionId", tx_id, "idTagInfo",
                          ocpp__cs_tag_info(v));
  if (v->status != OCPP_AUTH_ACCEPTED)
    return;
  begin_on_connector(cs, tx_id, tag, v->name, meter_start, true, ts);
  if (json_object_get(req, "reservationId"))
    cs->reservation_id = 0;
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "connector %d: transaction %d started (idTag \"%s\", meter %.0f Wh)",
                    connector, tx_id, tag, meter_start);
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .connector = connector,
                   .timestamp = ts};
  ev.tx_started.transaction_id = tx_id;
  ev.tx_started.id_tag = tag;
  ev.tx_started.tag_name = v->name;
  ev.tx_started.meter_start_wh = meter_start;
  ocpp__session_emit(s, &ev);
}

static void h_start(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp_connector_state *cs = start_connector(s, req, out);
  ocpp_cs_verdict v;
  if (cs && ocpp__cs_check_tag(s, connector_id(req), ocpp__cs_str(req, "idTag"), &v,
                      out) == OCPP_OK)
    start_decided(s, req, &v, cs, out);
}

/* An Authorize or StartTransaction whose tag the owner decided later. */
static void cs16_resume(ocpp_session *s, const char *action, json_t *req,
                        ocpp_auth_status st, ocpp_handler_out *out)
{
  bool start = strcmp(action, "StartTransaction") == 0;
  ocpp_connector_state *cs = start ? start_connector(s, req, out) : NULL;
  if (start && !cs)
    return;
  ocpp_cs_verdict v = {.status = st};
  ocpp__cs_tag_decided(s, start ? connector_id(req) : 0, ocpp__cs_str(req, "idTag"), &v);
  if (start)
    start_decided(s, req, &v, cs, out);
  else
    out->answer = json_pack("{s:o}", "idTagInfo", ocpp__cs_tag_info(&v));
}

/* The connector running tx_id, or OCPP_ENOENT. */
static int connector_of_tx(const ocpp_cp *cp, int32_t tx_id)
{
  if (tx_id == 0)
    return OCPP_ENOENT;
  for (int i = 1; i < cp->n_conn_state; i++)
    if (cp->conn_state[i].tx_id == tx_id)
      return i;
  return OCPP_ENOENT;
}

/* The connector that last stopped tx_id, or OCPP_ENOENT. */
static int connector_stopped_tx(const ocpp_cp *cp, int32_t tx_id)
{
  if (tx_id == 0)
    return OCPP_ENOENT;
  for (int i = cp->n_conn_state - 1; i >= 1; i--)
    if (cp->conn_state[i].last_stopped_tx == tx_id)
      return i;
  return OCPP_ENOENT;
}

/* What the store knows of a transaction this process did not see start. */
typedef struct {
  int connector;
  double meter_start;
  bool has_start;
  bool stopped;
} stored_tx;

static stored_tx find_stored(ocpp_session *s, int32_t tx_id)
{
  stored_tx t = {0};
  const ocpp_store_hooks *h = &s->cfg.store;
  if (h->find_transaction &&
      h->find_transaction(s->cfg.store_data, s->cfg.log_id, tx_id, &t.connector,
                          &t.meter_start, &t.stopped) == 0)
    t.has_start = true;
  else
    t = (stored_tx){0};
  return t;
}

static void meter_values_of(ocpp_session *s, int connector, int32_t tx_id,
                            const ocpp_meter_item *items, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (items[i].ok)
      ocpp__cs_emit_meter(s, connector, tx_id, &items[i].sample, "");
}

#define ITEMS_ON_STACK 8

/* The elements of a meterValue or transactionData array decoded into buf
 * (cap items) or, when more, a new array (free it when *items != buf).
 * Returns the count, or SIZE_MAX without memory. */
static size_t decode_items(const json_t *arr, ocpp_meter_item *buf, size_t cap,
                           ocpp_meter_item **items)
{
  size_t n = json_array_size(arr);
  *items = buf;
  if (n > cap && !(*items = malloc(n * sizeof **items)))
    return SIZE_MAX;
  for (size_t i = 0; i < n; i++)
    (*items)[i].ok = ocpp_meter_parse(json_array_get(arr, i),
                                      &(*items)[i].sample) == 0;
  return n;
}

static void no_memory(ocpp_handler_out *out)
{
  out->error_code = "InternalError";
  snprintf(out->error_text, sizeof out->error_text, "out of memory");
}

/* Where a StopTransaction belongs: the connector running it, one that
 * stopped it already (a retry), or what the store knows. */
typedef struct {
  int connector;              /* -1 unknown, 0 not on a connector */
  bool duplicate;
  bool has_start;
  double meter_start;
} stop_target;

static stop_target locate_stop(ocpp_session *s, int32_t tx_id)
{
  stop_target t = {.connector = connector_of_tx(s->cp, tx_id)};
  if (t.connector > 0) {
    ocpp_connector_state *cs = &s->cp->conn_state[t.connector];
    t.has_start = cs->tx_has_meter_start;
    t.meter_start = cs->tx_meter_start_wh;
    return t;
  }
  t.connector = connector_stopped_tx(s->cp, tx_id);
  if (t.connector > 0) {
    t.duplicate = true;
    return t;
  }
  stored_tx st = find_stored(s, tx_id);
  t.connector = st.connector;
  t.duplicate = st.stopped;
  t.has_start = st.has_start;
  t.meter_start = st.meter_start;
  ocpp__session_log(s, OCPP_LOG_WARN, "StopTransaction for transaction %d that %s",
                    tx_id, st.has_start ? "started before a restart"
                                        : "is not known: recorded");
  return t;
}

static void end_on_connector(ocpp_connector_state *cs, int32_t tx_id)
{
  cs->tx_id = 0;
  cs->last_stopped_tx = tx_id;
  cs->has_current = true;
  cs->current_a = 0;
  cs->has_power = true;
  cs->power_w = 0;
}

static void h_stop(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  int32_t tx_id = (int32_t)json_integer_value(json_object_get(req, "transactionId"));
  const json_t *ms = (out->notes & OCPP_LENIENT_NO_METER_STOP)
                       ? NULL : json_object_get(req, "meterStop");
  const char *tag = ocpp__cs_str(req, "idTag");
  stop_target t = locate_stop(s, tx_id);
  /* the store's word is trusted no further than the charger's */
  int connector = t.connector > 0 && t.connector <= OCPP_MAX_CONNECTORS
                    ? t.connector : 0;
  const json_t *data = json_object_get(req, "transactionData");
  if (data && !t.duplicate) {
    ocpp_meter_item buf[ITEMS_ON_STACK], *items;
    size_t n = decode_items(data, buf, ITEMS_ON_STACK, &items);
    if (n != SIZE_MAX)
      meter_values_of(s, connector, tx_id, items, n);
    if (items != buf)
      free(items);
  }
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  if (connector > 0 && cs && cs->tx_id == tx_id)
    end_on_connector(cs, tx_id);
  ocpp_event ev = {.type = OCPP_EV_TX_STOPPED, .connector = connector,
                   .timestamp = ocpp__cs_time(s, req, "timestamp")};
  ev.tx_stopped.transaction_id = tx_id;
  ev.tx_stopped.id_tag = tag;
  ev.tx_stopped.has_meter_stop = ms != NULL;
  ev.tx_stopped.meter_stop_wh = ms ? (double)json_integer_value(ms) : 0;
  ev.tx_stopped.has_meter_start = t.has_start;
  ev.tx_stopped.meter_start_wh = t.meter_start;
  ev.tx_stopped.reason = ocpp__cs_str(req, "reason");
  ev.tx_stopped.duplicate = t.duplicate;
  if (ms && t.has_start && ev.tx_stopped.meter_stop_wh >= t.meter_start) {
    ev.tx_stopped.has_session_energy = true;
    ev.tx_stopped.session_energy_wh = ev.tx_stopped.meter_stop_wh - t.meter_start;
  }
  if (!t.duplicate)
    ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: transaction %d stopped (%s%s)",
                      connector, tx_id,
                      *ev.tx_stopped.reason ? ev.tx_stopped.reason : "no reason",
                      ms ? "" : ", no meterStop");
  ocpp__session_emit(s, &ev);
  out->answer = *tag ? id_tag_info(OCPP_AUTH_ACCEPTED) : json_object();
}

/* After a restart of the gateway the charger goes on with its transaction:
 * its MeterValues carry the id, which is all we need to pick it up. */
static void recover_transaction(ocpp_session *s, int connector, int32_t tx_id,
                                const ocpp_meter_item *first)
{
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  if (!cs || connector < 1 || tx_id == 0 || cs->tx_id == tx_id ||
      cs->last_stopped_tx == tx_id)
    return;
  stored_tx st = find_stored(s, tx_id);
  if (st.stopped)
    return; /* values that arrive after the stop */
  if (!st.has_start) {
    /* best guess: the first energy reading of this message */
    if (first && first->ok && first->sample.has_energy) {
      st.meter_start = first->sample.energy_wh;
      st.has_start = true;
    }
  }
  begin_on_connector(cs, tx_id, "", "", st.meter_start, st.has_start,
                     s->now.wall);
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "connector %d: running transaction %d recovered from MeterValues",
                    connector, tx_id);
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .connector = connector};
  ev.tx_started.transaction_id = tx_id;
  ev.tx_started.id_tag = "";
  ev.tx_started.tag_name = "";
  ev.tx_started.meter_start_wh = st.meter_start;
  ev.tx_started.recovered = true;
  ocpp__session_emit(s, &ev);
}

/* What a MeterValues request does, whichever path read it: connectorId
 * and transactionId as sent (0: none), its meterValue elements decoded.
 * false with out's error when it is refused. */
static bool meter_values(ocpp_session *s, json_int_t connector_value,
                         json_int_t tx_value, const ocpp_meter_item *items,
                         size_t n, ocpp_handler_out *out)
{
  int connector = connector_of(connector_value);
  int32_t tx_id = (int32_t)tx_value;
  if (connector < 0) {
    out_of_range(out, connector);
    return false;
  }
  if (connector > OCPP_MAX_CONNECTORS)
    return true;
  if (tx_id)
    recover_transaction(s, connector, tx_id, n ? &items[0] : NULL);
  meter_values_of(s, connector, tx_id, items, n);
  return true;
}

static void h_meter(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  const json_t *txj = json_object_get(req, "transactionId");
  ocpp_meter_item buf[ITEMS_ON_STACK], *items;
  size_t n = decode_items(json_object_get(req, "meterValue"), buf,
                          ITEMS_ON_STACK, &items);
  if (n == SIZE_MAX) {
    no_memory(out);
    return;
  }
  if (meter_values(s, json_integer_value(json_object_get(req, "connectorId")),
                   txj ? json_integer_value(txj) : 0, items, n, out))
    out->answer = json_object();
  if (items != buf)
    free(items);
}

/* The fast path's MeterValues (meter_fast.h). */
static void cs16_meter_values(ocpp_session *s, const ocpp_meter_fast *mv,
                              ocpp_handler_out *out)
{
  meter_values(s, mv->connector_id,
               mv->has_transaction_id ? mv->transaction_id : 0, mv->values,
               mv->n_values, out);
}

/* ---- notifications that are only logged --------------------------------- */

static void h_data_transfer(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "DataTransfer from vendor \"%s\" (messageId \"%s\") not handled",
                    ocpp__cs_str(req, "vendorId"), ocpp__cs_str(req, "messageId"));
  out->answer = json_pack("{s:s}", "status", "UnknownVendorId");
}

static void h_diagnostics_status(ocpp_session *s, json_t *req,
                                 ocpp_handler_out *out)
{
  ocpp__session_log(s, OCPP_LOG_INFO, "diagnostics status: %s",
                    ocpp__cs_str(req, "status"));
  out->answer = json_object();
}

static void h_firmware_status(ocpp_session *s, json_t *req,
                              ocpp_handler_out *out)
{
  ocpp__session_log(s, OCPP_LOG_INFO, "firmware status: %s",
                    ocpp__cs_str(req, "status"));
  out->answer = json_object();
}

static void h_security_event(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  const char *info = ocpp__cs_str(req, "techInfo");
  ocpp__session_log(s, OCPP_LOG_WARN, "security event %s%s%.200s",
                    ocpp__cs_str(req, "type"), *info ? ": " : "", info);
  out->answer = json_object();
}

/* ---- the role ----------------------------------------------------------- */

/* Sorted by name for bsearch. */
static const ocpp_handler_row handlers[] = {
  {"Authorize", h_authorize},
  {"BootNotification", h_boot},
  {"DataTransfer", h_data_transfer},
  {"DiagnosticsStatusNotification", h_diagnostics_status},
  {"FirmwareStatusNotification", h_firmware_status},
  {"Heartbeat", h_heartbeat},
  {"MeterValues", h_meter},
  {"SecurityEventNotification", h_security_event},
  {"StartTransaction", h_start},
  {"StatusNotification", h_status},
  {"StopTransaction", h_stop},
};

static void cs16_open(ocpp_session *s)
{
  s->cp->connected_since = s->cp->last_seen = s->now.wall;
  s->boot_deadline = s->now.mono_ms + OCPP_BOOT_WAIT_MS;
}

static void cs16_after_answer(ocpp_session *s, const ocpp_handler_out *out)
{
  if (out->configure)
    ocpp__cs16_configure_after_boot(s);
  if (out->auto_start_connector && s->open)
    ocpp__cs16_auto_start(s, out->auto_start_connector);
}

static void cs16_tick(ocpp_session *s)
{
  if (!s->boot_deadline || s->now.mono_ms < s->boot_deadline)
    return;
  s->boot_deadline = 0;
  if (!s->booted)
    ocpp__cs16_request_boot(s);
}

const ocpp_role ocpp__role_cs16 = {
  .name = "central system 1.6",
  .version = OCPP_VERSION_16,
  .needs_record = true,
  .handlers = handlers,
  .n_handlers = sizeof handlers / sizeof handlers[0],
  .on_open = cs16_open,
  .after_answer = cs16_after_answer,
  .on_tick = cs16_tick,
  .meter_values = cs16_meter_values,
  .resume = cs16_resume,
};
