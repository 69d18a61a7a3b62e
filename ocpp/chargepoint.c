/* Requests from a charger: one handler per action, dispatched from a sorted
 * table. Every payload is validated against the OCPP 1.6 schema before use;
 * known field quirks are repaired by lenient.c and logged. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/internal.h"
#include "ocpp/lenient.h"
#include "ocpp/schema.h"

/* What a handler produces: an answer payload, or a CALLERROR. */
typedef struct {
  json_t *answer;
  const char *error_code;
  char error_text[160];
  unsigned notes;            /* OCPP_LENIENT_* notes from the repair */
  int auto_start_connector;  /* start_mode auto: start after answering */
  bool configure;            /* BootNotification: configure after answering */
} handler_out;

typedef void (*handler_fn)(ocpp_cp *cp, json_t *req, handler_out *out);

ocpp_connector_state *ocpp__cp_connector(ocpp_cp *cp, int connector)
{
  if (connector < 0 || connector > OCPP_MAX_CONNECTORS)
    return NULL;
  return &cp->conn_state[connector];
}

/* connectorId as sent, or -1 when negative or beyond int: the schema has
 * no minimum, so such values reach the handlers and must not index the
 * connector table. */
static int connector_id(const json_t *req)
{
  json_int_t v = json_integer_value(json_object_get(req, "connectorId"));
  return v < 0 || v > INT_MAX ? -1 : (int)v;
}

static time_t payload_time(const json_t *req, const char *key)
{
  time_t t;
  const char *s = json_string_value(json_object_get(req, key));
  if (s && ocpp_time_parse(s, &t) == 0)
    return t;
  return time(NULL);
}

static const char *str_or_empty(const json_t *req, const char *key)
{
  const char *s = json_string_value(json_object_get(req, key));
  return s ? s : "";
}

static json_t *now_string(void)
{
  char buf[OCPP_TIME_STRLEN];
  ocpp_time_format(time(NULL), buf);
  return json_string(buf);
}

static json_t *id_tag_info(ocpp_auth_status st)
{
  return json_pack("{s:{s:s}}", "idTagInfo", "status", ocpp_auth_status_name(st));
}

static void emit_simple(ocpp_cp *cp, ocpp_event *ev)
{
  ev->charger_id = cp->opt.id;
  if (!ev->timestamp)
    ev->timestamp = time(NULL);
  ocpp__emit(cp->srv, ev);
}

/* ---- connection events -------------------------------------------------- */

void ocpp__cp_on_open(ocpp_cp *cp, ocpp_conn *c)
{
  cp->conn = c;
  cp->booted = false;
  cp->connected_since = cp->last_seen = time(NULL);
  c->boot_deadline = ocpp__now_ms(cp->srv) + OCPP_BOOT_WAIT_MS;
  ocpp__conn_rearm(c);
  ocpp_event ev = {.type = OCPP_EV_ONLINE};
  emit_simple(cp, &ev);
}

void ocpp__cp_on_close(ocpp_cp *cp, ocpp_conn *c)
{
  if (cp->conn != c)
    return;
  cp->conn = NULL;
  if (c->replaced)
    return;
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id, "disconnected (%s)", c->peer);
  ocpp_event ev = {.type = OCPP_EV_OFFLINE};
  emit_simple(cp, &ev);
}

void ocpp__cp_set_status(ocpp_cp *cp, int connector, ocpp_cp_status st,
                         ocpp_cp_error err)
{
  ocpp_connector_state *s = ocpp__cp_connector(cp, connector);
  if (!s)
    return;
  s->status = st;
  s->error = err;
  s->status_known = true;
}

/* ---- handlers ----------------------------------------------------------- */

static void copy_field(char *dst, size_t cap, const json_t *req, const char *key)
{
  snprintf(dst, cap, "%s", str_or_empty(req, key));
}

static void h_boot(ocpp_cp *cp, json_t *req, handler_out *out)
{
  copy_field(cp->vendor, sizeof cp->vendor, req, "chargePointVendor");
  copy_field(cp->model, sizeof cp->model, req, "chargePointModel");
  const char *serial = str_or_empty(req, "chargePointSerialNumber");
  if (!*serial)
    serial = str_or_empty(req, "chargeBoxSerialNumber");
  snprintf(cp->serial, sizeof cp->serial, "%s", serial);
  copy_field(cp->firmware, sizeof cp->firmware, req, "firmwareVersion");
  cp->booted = true;
  if (cp->conn)
    cp->conn->boot_deadline = 0;
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "boot: vendor \"%s\" model \"%s\" serial \"%s\" firmware \"%s\"",
            cp->vendor, cp->model, cp->serial, cp->firmware);
  ocpp_event ev = {.type = OCPP_EV_BOOT};
  ev.boot.vendor = cp->vendor;
  ev.boot.model = cp->model;
  ev.boot.serial = cp->serial;
  ev.boot.firmware = cp->firmware;
  emit_simple(cp, &ev);
  out->answer = json_pack("{s:s,s:o,s:i}", "status", "Accepted", "currentTime",
                          now_string(), "interval",
                          cp->srv->opt.heartbeat_interval);
  out->configure = true;
}

static void h_heartbeat(ocpp_cp *cp, json_t *req, handler_out *out)
{
  (void)cp;
  (void)req;
  out->answer = json_pack("{s:o}", "currentTime", now_string());
}

static void h_status(ocpp_cp *cp, json_t *req, handler_out *out)
{
  int connector = connector_id(req);
  ocpp_cp_status st;
  ocpp_cp_error err;
  if (connector < 0) {
    out->error_code = "PropertyConstraintViolation";
    snprintf(out->error_text, sizeof out->error_text,
             "connectorId out of range");
    return;
  }
  if (ocpp_cp_status_parse(str_or_empty(req, "status"), &st) != 0)
    st = OCPP_CP_UNAVAILABLE; /* schema-checked already: cannot happen */
  if (ocpp_cp_error_parse(str_or_empty(req, "errorCode"), &err) != 0)
    err = OCPP_ERR_OTHER_ERROR;
  /* Chargers report faults with errorCode but status Available etc.; the
   * error code is passed on unchanged, the status too. */
  out->answer = json_object();
  if (connector > OCPP_MAX_CONNECTORS) {
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id,
              "status for connector %d ignored (more than %d)", connector,
              OCPP_MAX_CONNECTORS);
    return;
  }
  ocpp_connector_state *s = ocpp__cp_connector(cp, connector);
  bool changed = !s->status_known || s->status != st || s->error != err;
  ocpp__cp_set_status(cp, connector, st, err);
  if (changed)
    ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id, "connector %d: %s%s%s",
              connector, ocpp_cp_status_name(st),
              err != OCPP_ERR_NO_ERROR ? " " : "",
              err != OCPP_ERR_NO_ERROR ? ocpp_cp_error_name(err) : "");
  ocpp_event ev = {.type = OCPP_EV_STATUS, .connector = connector,
                   .timestamp = payload_time(req, "timestamp")};
  ev.status.status = st;
  ev.status.error = err;
  ev.status.info = str_or_empty(req, "info");
  ev.status.vendor_error = str_or_empty(req, "vendorErrorCode");
  emit_simple(cp, &ev);
  if (cp->opt.start_mode == OCPP_START_AUTO && connector >= 1 &&
      st == OCPP_CP_PREPARING && s->tx_id == 0)
    out->auto_start_connector = connector;
}

static ocpp_auth_status check_tag(ocpp_cp *cp, int connector, const char *tag)
{
  ocpp_auth_status st = ocpp_tag_check(&cp->opt, tag);
  ocpp__log(cp->srv, st == OCPP_AUTH_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "idTag \"%s\": %s", tag, ocpp_auth_status_name(st));
  ocpp_event ev = {.type = OCPP_EV_TAG, .connector = connector};
  ev.tag.id_tag = tag;
  ev.tag.result = st;
  emit_simple(cp, &ev);
  return st;
}

static void h_authorize(ocpp_cp *cp, json_t *req, handler_out *out)
{
  ocpp_auth_status st = check_tag(cp, 0, str_or_empty(req, "idTag"));
  out->answer = id_tag_info(st);
}

static int32_t fallback_transaction_id(void)
{
  /* only used when the application gives no store: a process-wide counter
   * is still unique within the run */
  static int32_t next = 1;
  return next++;
}

static void h_start(ocpp_cp *cp, json_t *req, handler_out *out)
{
  int connector = connector_id(req);
  const char *tag = str_or_empty(req, "idTag");
  double meter_start = (double)json_integer_value(json_object_get(req, "meterStart"));
  time_t ts = payload_time(req, "timestamp");
  ocpp_connector_state *s = ocpp__cp_connector(cp, connector);
  if (!s || connector < 1) {
    out->error_code = "PropertyConstraintViolation";
    snprintf(out->error_text, sizeof out->error_text,
             "connectorId %d out of range", connector);
    return;
  }
  /* A charger that lost our answer repeats the same request: give it the
   * same transaction instead of opening a second one. */
  if (s->tx_id && strcmp(s->tx_tag, tag) == 0 && s->tx_start == ts &&
      s->tx_meter_start_wh == meter_start) {
    out->answer = json_pack("{s:i,s:{s:s}}", "transactionId", s->tx_id,
                            "idTagInfo", "status", "Accepted");
    return;
  }
  ocpp_auth_status st = check_tag(cp, connector, tag);
  int32_t tx_id = 0;
  const ocpp_store_hooks *h = &cp->srv->cb.store;
  if (h->begin_transaction) {
    if (h->begin_transaction(cp->srv->user_data, cp->opt.id, connector, tag,
                             meter_start, ts, &tx_id) != 0 || tx_id == 0) {
      out->error_code = "InternalError";
      snprintf(out->error_text, sizeof out->error_text,
               "cannot record the transaction now");
      return;
    }
  } else {
    tx_id = fallback_transaction_id();
  }
  out->answer = json_pack("{s:i,s:{s:s}}", "transactionId", tx_id, "idTagInfo",
                          "status", ocpp_auth_status_name(st));
  if (st != OCPP_AUTH_ACCEPTED)
    return;
  s->tx_id = tx_id;
  snprintf(s->tx_tag, sizeof s->tx_tag, "%s", tag);
  s->tx_meter_start_wh = meter_start;
  s->tx_has_meter_start = true;
  s->tx_start = ts;
  s->session_energy_wh = 0;
  if (json_object_get(req, "reservationId"))
    s->reservation_id = 0;
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "connector %d: transaction %d started (idTag \"%s\", meter %.0f Wh)",
            connector, tx_id, tag, meter_start);
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .connector = connector,
                   .timestamp = ts};
  ev.tx_started.transaction_id = tx_id;
  ev.tx_started.id_tag = tag;
  ev.tx_started.meter_start_wh = meter_start;
  emit_simple(cp, &ev);
}

static int connector_of_tx(ocpp_cp *cp, int32_t tx_id)
{
  if (tx_id == 0)
    return -1;
  for (int i = 1; i <= OCPP_MAX_CONNECTORS; i++)
    if (cp->conn_state[i].tx_id == tx_id)
      return i;
  return -1;
}

/* Connector of a transaction this process did not see start. */
static int connector_from_store(ocpp_cp *cp, int32_t tx_id, double *meter_start,
                                bool *has_start, bool *stopped)
{
  const ocpp_store_hooks *h = &cp->srv->cb.store;
  int connector = 0;
  *has_start = false;
  *stopped = false;
  if (h->find_transaction &&
      h->find_transaction(cp->srv->user_data, cp->opt.id, tx_id, &connector,
                          meter_start, stopped) == 0)
    *has_start = true;
  return connector;
}

static void emit_meter(ocpp_cp *cp, int connector, int32_t tx_id,
                       const ocpp_meter_sample *m);

static void meter_values_of(ocpp_cp *cp, int connector, int32_t tx_id,
                            const json_t *arr)
{
  size_t i;
  const json_t *mv;
  json_array_foreach(arr, i, mv) {
    ocpp_meter_sample m;
    if (ocpp_meter_parse(mv, &m) == 0)
      emit_meter(cp, connector, tx_id, &m);
  }
}

static void h_stop(ocpp_cp *cp, json_t *req, handler_out *out)
{
  int32_t tx_id = (int32_t)json_integer_value(json_object_get(req, "transactionId"));
  const json_t *ms = (out->notes & OCPP_LENIENT_NO_METER_STOP)
                       ? NULL : json_object_get(req, "meterStop");
  const char *tag = str_or_empty(req, "idTag");
  time_t ts = payload_time(req, "timestamp");
  int connector = connector_of_tx(cp, tx_id);
  bool duplicate = false;
  double meter_start = 0;
  bool has_start = false, stopped = false;
  if (connector < 0) {
    for (int i = 1; i <= OCPP_MAX_CONNECTORS; i++)
      if (tx_id != 0 && cp->conn_state[i].last_stopped_tx == tx_id) {
        duplicate = true;
        connector = i;
      }
  }
  if (connector < 0) {
    connector = connector_from_store(cp, tx_id, &meter_start, &has_start, &stopped);
    duplicate = stopped;
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id,
              "StopTransaction for transaction %d that %s", tx_id,
              has_start ? "started before a restart" : "is not known: recorded");
  }
  const json_t *data = json_object_get(req, "transactionData");
  if (data && !duplicate)
    meter_values_of(cp, connector, tx_id, data);

  ocpp_connector_state *s = ocpp__cp_connector(cp, connector > 0 ? connector : 0);
  if (connector > 0 && s->tx_id == tx_id && s->tx_has_meter_start) {
    has_start = true;
    meter_start = s->tx_meter_start_wh;
  }
  if (connector > 0 && s->tx_id == tx_id) {
    s->tx_id = 0;
    s->last_stopped_tx = tx_id;
    s->has_current = true;
    s->current_a = 0;
    s->has_power = true;
    s->power_w = 0;
  }
  ocpp_event ev = {.type = OCPP_EV_TX_STOPPED, .connector = connector > 0 ? connector : 0,
                   .timestamp = ts};
  ev.tx_stopped.transaction_id = tx_id;
  ev.tx_stopped.id_tag = tag;
  ev.tx_stopped.has_meter_stop = ms != NULL;
  ev.tx_stopped.meter_stop_wh = ms ? (double)json_integer_value(ms) : 0;
  ev.tx_stopped.has_meter_start = has_start;
  ev.tx_stopped.meter_start_wh = meter_start;
  ev.tx_stopped.reason = str_or_empty(req, "reason");
  ev.tx_stopped.duplicate = duplicate;
  if (ms && has_start && ev.tx_stopped.meter_stop_wh >= meter_start) {
    ev.tx_stopped.has_session_energy = true;
    ev.tx_stopped.session_energy_wh = ev.tx_stopped.meter_stop_wh - meter_start;
  }
  if (!duplicate)
    ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
              "connector %d: transaction %d stopped (%s%s)", ev.connector,
              tx_id, *ev.tx_stopped.reason ? ev.tx_stopped.reason : "no reason",
              ms ? "" : ", no meterStop");
  emit_simple(cp, &ev);
  out->answer = *tag ? id_tag_info(OCPP_AUTH_ACCEPTED) : json_object();
}

static void emit_meter(ocpp_cp *cp, int connector, int32_t tx_id,
                       const ocpp_meter_sample *m)
{
  ocpp_connector_state *s = ocpp__cp_connector(cp, connector);
  bool has_session = false;
  double session_wh = 0;
  if (s) {
    if (m->has_current) { s->current_a = m->current_a; s->has_current = true; }
    if (m->has_power) { s->power_w = m->power_w; s->has_power = true; }
    if (m->has_energy) {
      s->energy_wh = m->energy_wh;
      s->has_energy = true;
      if (s->tx_id && (tx_id == 0 || s->tx_id == tx_id) && s->tx_has_meter_start &&
          m->energy_wh >= s->tx_meter_start_wh) {
        s->session_energy_wh = m->energy_wh - s->tx_meter_start_wh;
        has_session = true;
        session_wh = s->session_energy_wh;
      }
    }
  }
  ocpp_event ev = {.type = OCPP_EV_METER, .connector = connector,
                   .timestamp = m->timestamp};
  ev.meter.transaction_id = tx_id;
  ev.meter.context = m->context;
  ev.meter.has_energy = m->has_energy;
  ev.meter.energy_wh = m->energy_wh;
  ev.meter.has_current = m->has_current;
  ev.meter.current_a = m->current_a;
  memcpy(ev.meter.current_phase_a, m->current_phase_a, sizeof m->current_phase_a);
  ev.meter.has_power = m->has_power;
  ev.meter.power_w = m->power_w;
  ev.meter.has_voltage = m->has_voltage;
  ev.meter.voltage_v = m->voltage_v;
  ev.meter.has_offered = m->has_offered;
  ev.meter.offered_a = m->offered_a;
  ev.meter.has_session_energy = has_session;
  ev.meter.session_energy_wh = session_wh;
  emit_simple(cp, &ev);
}

/* After a restart of the gateway the charger goes on with its transaction:
 * its MeterValues carry the id, which is all we need to pick it up. */
static void recover_transaction(ocpp_cp *cp, int connector, int32_t tx_id,
                                const json_t *values)
{
  ocpp_connector_state *s = ocpp__cp_connector(cp, connector);
  if (!s || connector < 1 || tx_id == 0 || s->tx_id == tx_id ||
      s->last_stopped_tx == tx_id)
    return;
  double meter_start = 0;
  bool has_start, stopped;
  connector_from_store(cp, tx_id, &meter_start, &has_start, &stopped);
  if (stopped)
    return; /* values that arrive after the stop */
  if (!has_start) {
    /* best guess: the first energy reading of this message */
    ocpp_meter_sample m;
    const json_t *first = json_array_get(values, 0);
    if (first && ocpp_meter_parse(first, &m) == 0 && m.has_energy) {
      meter_start = m.energy_wh;
      has_start = true;
    }
  }
  s->tx_id = tx_id;
  s->tx_tag[0] = '\0';
  s->tx_meter_start_wh = meter_start;
  s->tx_has_meter_start = has_start;
  s->tx_start = time(NULL);
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "connector %d: running transaction %d recovered from MeterValues",
            connector, tx_id);
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .connector = connector};
  ev.tx_started.transaction_id = tx_id;
  ev.tx_started.id_tag = "";
  ev.tx_started.meter_start_wh = meter_start;
  ev.tx_started.recovered = true;
  emit_simple(cp, &ev);
}

static void h_meter(ocpp_cp *cp, json_t *req, handler_out *out)
{
  int connector = connector_id(req);
  const json_t *txj = json_object_get(req, "transactionId");
  int32_t tx_id = txj ? (int32_t)json_integer_value(txj) : 0;
  const json_t *values = json_object_get(req, "meterValue");
  if (connector < 0) {
    out->error_code = "PropertyConstraintViolation";
    snprintf(out->error_text, sizeof out->error_text,
             "connectorId out of range");
    return;
  }
  out->answer = json_object();
  if (connector > OCPP_MAX_CONNECTORS)
    return;
  if (tx_id)
    recover_transaction(cp, connector, tx_id, values);
  meter_values_of(cp, connector, tx_id, values);
}

static void h_data_transfer(ocpp_cp *cp, json_t *req, handler_out *out)
{
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "DataTransfer from vendor \"%s\" (messageId \"%s\") not handled",
            str_or_empty(req, "vendorId"), str_or_empty(req, "messageId"));
  out->answer = json_pack("{s:s}", "status", "UnknownVendorId");
}

static void h_diagnostics_status(ocpp_cp *cp, json_t *req, handler_out *out)
{
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id, "diagnostics status: %s",
            str_or_empty(req, "status"));
  out->answer = json_object();
}

static void h_firmware_status(ocpp_cp *cp, json_t *req, handler_out *out)
{
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id, "firmware status: %s",
            str_or_empty(req, "status"));
  out->answer = json_object();
}

static void h_security_event(ocpp_cp *cp, json_t *req, handler_out *out)
{
  const char *info = str_or_empty(req, "techInfo");
  ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "security event %s%s%.200s",
            str_or_empty(req, "type"), *info ? ": " : "", info);
  out->answer = json_object();
}

/* Sorted by name for bsearch. */
static const struct handler_row {
  const char *action;
  handler_fn fn;
} handlers[] = {
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

static int handler_cmp(const void *key, const void *row)
{
  return strcmp(key, ((const struct handler_row *)row)->action);
}

static const struct handler_row *find_handler(const char *action)
{
  return bsearch(action, handlers, sizeof handlers / sizeof handlers[0],
                 sizeof handlers[0], handler_cmp);
}

/* ---- dispatch ----------------------------------------------------------- */

/* Sends an encoded frame (NULL when encoding ran out of memory) and frees
 * it. */
static void send_frame(ocpp_cp *cp, ocpp_conn *c, char *out)
{
  if (!out)
    return;
  if (cp->srv->opt.trace)
    ocpp__log(cp->srv, OCPP_LOG_DEBUG, cp->opt.id, "send %s", out);
  ocpp__conn_send_text(c, out);
  free(out);
}

static void send_call_error(ocpp_cp *cp, ocpp_conn *c, const char *id,
                            const char *code, const char *text)
{
  send_frame(cp, c, ocpp_rpc_encode_error(id, code, text, NULL));
}

static void send_answer(ocpp_cp *cp, ocpp_conn *c, const char *id,
                        const char *action, json_t *answer)
{
  ocpp_schema_fault fault;
  if (ocpp_schema_validate(action, OCPP_SCHEMA_RESPONSE, answer, &fault) != 0)
    ocpp__log(cp->srv, OCPP_LOG_ERROR, cp->opt.id,
              "internal: %s answer fails the schema at %s: %s", action,
              fault.path, fault.message);
  send_frame(cp, c, ocpp_rpc_encode_result(id, answer));
}

/* The CALLERROR's errorDescription: the whole path once (the schema's
 * message starts with the path's last segment), cut on a UTF-8 character
 * boundary so the frame stays valid JSON text. */
static void fault_description(const ocpp_schema_fault *fault, char *out,
                              size_t cap)
{
  const char *text = fault->message;
  const char *sep = strstr(text, ": ");
  int n = 0;
  if (fault->path[0] && sep) {
    text = sep + 2;
    n = snprintf(out, cap, "%.60s: ", fault->path);
  }
  if (n < 0 || (size_t)n >= cap) {
    out[0] = '\0';
    return;
  }
  size_t len = strlen(text);
  size_t room = cap - (size_t)n - 1;
  if (len > room) {
    len = room;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
      len--;
  }
  memcpy(out + n, text, len);
  out[(size_t)n + len] = '\0';
}

/* Validates, repairing the quirks real chargers have where no data is lost;
 * returns false with the CALLERROR in out when the payload is unusable. */
static bool validate_request(ocpp_cp *cp, const char *action, json_t *payload,
                             handler_out *out)
{
  for (int round = 0; round < OCPP_LENIENT_MAX_REPAIRS; round++) {
    ocpp_schema_fault fault;
    if (ocpp_schema_validate(action, OCPP_SCHEMA_REQUEST, payload, &fault) == 0)
      return true;
    char what[160];
    if (ocpp_lenient_repair(action, OCPP_SCHEMA_REQUEST, payload, &fault,
                            &out->notes, what, sizeof what) != 0) {
      out->error_code = fault.code;
      fault_description(&fault, out->error_text, sizeof out->error_text);
      return false;
    }
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "%s: %s", action, what);
  }
  out->error_code = "FormationViolation";
  snprintf(out->error_text, sizeof out->error_text, "too many invalid fields");
  return false;
}

static void handle_call(ocpp_cp *cp, ocpp_conn *c, ocpp_rpc_frame *f)
{
  handler_out out = {0};
  const struct handler_row *h = find_handler(f->action);
  if (!h) {
    bool known = ocpp_schema_known_action(f->action);
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "%s action \"%s\"",
              known ? "unsupported" : "unknown", f->action);
    send_call_error(cp, c, f->id, known ? "NotSupported" : "NotImplemented",
                    known ? "action not supported by the central system"
                          : "unknown action");
    return;
  }
  if (!validate_request(cp, f->action, f->payload, &out)) {
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "%s rejected: %s %s",
              f->action, out.error_code, out.error_text);
    send_call_error(cp, c, f->id, out.error_code, out.error_text);
    return;
  }
  h->fn(cp, f->payload, &out);
  if (!out.answer) {
    send_call_error(cp, c, f->id, out.error_code ? out.error_code : "InternalError",
                    out.error_text);
    return;
  }
  send_answer(cp, c, f->id, f->action, out.answer);
  json_decref(out.answer);
  if (c->state != OCPP_CONN_OPEN || cp->conn != c)
    return;
  if (out.configure)
    ocpp__cp_configure_after_boot(cp);
  if (out.auto_start_connector)
    ocpp__cp_auto_start(cp, out.auto_start_connector);
}

void ocpp__cp_on_text(ocpp_cp *cp, ocpp_conn *c, const char *text, size_t len)
{
  cp->last_seen = time(NULL);
  if (cp->srv->opt.trace)
    ocpp__log(cp->srv, OCPP_LOG_DEBUG, cp->opt.id, "recv %.*s",
              len > 2000 ? 2000 : (int)len, text);
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, len, &f, &fault) != 0) {
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "bad frame: %s %s",
              fault.code, fault.message);
    /* OCPP-J: a broken CALLRESULT or CALLERROR is never answered */
    if (fault.type == OCPP_RPC_RESULT || fault.type == OCPP_RPC_ERROR)
      return;
    /* Without a readable id there is nothing to answer to; "-1" tells the
     * charger (and a human reading its log) what went wrong anyway. */
    send_call_error(cp, c, fault.has_id ? fault.id : "-1", fault.code,
                    fault.message);
    return;
  }
  if (f.type == OCPP_RPC_CALL)
    handle_call(cp, c, &f);
  else
    ocpp__calls_on_response(cp, c, &f);
  ocpp_rpc_frame_finish(&f);
}

void ocpp__cp_on_deadline(ocpp_cp *cp, ocpp_conn *c, uint64_t now)
{
  if (c->call_deadline && now >= c->call_deadline) {
    c->call_deadline = 0;
    ocpp__calls_on_timeout(cp, c);
  }
  if (c->boot_deadline && now >= c->boot_deadline) {
    c->boot_deadline = 0;
    if (!cp->booted)
      ocpp__cp_request_boot(cp);
  }
}
