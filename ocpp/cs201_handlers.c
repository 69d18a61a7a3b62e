/* The central system's answers to an OCPP 2.0.1 charger: one handler per
 * action, dispatched by the session core from the sorted table at the end.
 * EVSE N is connector N of the record (its connector 1), so the
 * application sees the same connectors and events as for 1.6: the status
 * it gets combines the EVSE's connector status with the transaction's
 * charging state, and a transaction carries the charger's string
 * transactionId beside the gateway's own id. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/cs_common.h"
#include "ocpp/session_impl.h"

#define EVENT_STARTED 0
#define EVENT_UPDATED 1
#define EVENT_ENDED 2

static int name_index(const char *const *names, const char *text)
{
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], text) == 0)
      return i;
  return -1;
}

static void bad_evse(ocpp_handler_out *out, int evse)
{
  out->error_code = "PropertyConstraintViolation";
  snprintf(out->error_text, sizeof out->error_text, "evseId %d out of range",
           evse);
}

/* ---- boot, heartbeat ------------------------------------------------------ */

static void h_boot(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp_cp *cp = s->cp;
  const json_t *station = json_object_get(req, "chargingStation");
  snprintf(cp->vendor, sizeof cp->vendor, "%s", ocpp__cs_str(station, "vendorName"));
  snprintf(cp->model, sizeof cp->model, "%s", ocpp__cs_str(station, "model"));
  snprintf(cp->serial, sizeof cp->serial, "%s", ocpp__cs_str(station, "serialNumber"));
  snprintf(cp->firmware, sizeof cp->firmware, "%s",
           ocpp__cs_str(station, "firmwareVersion"));
  s->booted = true;
  s->boot_deadline = 0;
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "boot (%s): vendor \"%s\" model \"%s\" serial \"%s\" firmware \"%s\"",
                    ocpp__cs_str(req, "reason"), cp->vendor, cp->model,
                    cp->serial, cp->firmware);
  ocpp_event ev = {.type = OCPP_EV_BOOT};
  ev.boot.vendor = cp->vendor;
  ev.boot.model = cp->model;
  ev.boot.serial = cp->serial;
  ev.boot.firmware = cp->firmware;
  ocpp__session_emit(s, &ev);
  out->answer = json_pack("{s:o,s:i,s:s}", "currentTime", ocpp__cs_now(s),
                          "interval", s->cfg.heartbeat_interval, "status",
                          "Accepted");
  out->configure = true;
}

static void h_heartbeat(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  (void)req;
  out->answer = json_pack("{s:o}", "currentTime", ocpp__cs_now(s));
}

/* ---- the status the application sees -------------------------------------- */

/* The nine 1.6 states from the 2.0.1 connector status and the charging
 * state of its transaction (README, "OCPP 2.0.1 chargers"). */
static ocpp_cp_status combined_status(const ocpp_connector_state *cs)
{
  static const ocpp_cp_status while_charging[] = {
    [OCPP_201_CHARGING_CHARGING] = OCPP_CP_CHARGING,
    [OCPP_201_CHARGING_EV_CONNECTED] = OCPP_CP_PREPARING,
    [OCPP_201_CHARGING_SUSPENDED_EV] = OCPP_CP_SUSPENDED_EV,
    [OCPP_201_CHARGING_SUSPENDED_EVSE] = OCPP_CP_SUSPENDED_EVSE,
    [OCPP_201_CHARGING_IDLE] = OCPP_CP_PREPARING,
  };
  switch (cs->connector_status) {
  case OCPP_201_CONNECTOR_AVAILABLE: return OCPP_CP_AVAILABLE;
  case OCPP_201_CONNECTOR_RESERVED: return OCPP_CP_RESERVED;
  case OCPP_201_CONNECTOR_UNAVAILABLE: return OCPP_CP_UNAVAILABLE;
  case OCPP_201_CONNECTOR_FAULTED: return OCPP_CP_FAULTED;
  default: break;
  }
  if (cs->tx_id)
    return cs->charging_state >= 0 ? while_charging[cs->charging_state]
                                   : OCPP_CP_PREPARING;
  if (cs->connector_status == OCPP_201_CONNECTOR_OCCUPIED)
    return cs->finishing ? OCPP_CP_FINISHING : OCPP_CP_PREPARING;
  return OCPP_CP_AVAILABLE;
}

/* Reports the connector's combined status when it changed; returns it. */
static ocpp_cp_status publish_status(ocpp_session *s, int connector,
                                     time_t when)
{
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  if (!cs)
    return OCPP_CP_AVAILABLE;
  ocpp_cp_status st = combined_status(cs);
  ocpp_cp_error err = cs->problem;
  if (st == OCPP_CP_FAULTED && err == OCPP_ERR_NO_ERROR)
    err = OCPP_ERR_OTHER_ERROR;
  if (cs->status_known && cs->status == st && cs->error == err)
    return st;
  cs->status = st;
  cs->error = err;
  cs->status_known = true;
  ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: %s%s%s", connector,
                    ocpp_cp_status_name(st), err != OCPP_ERR_NO_ERROR ? " " : "",
                    err != OCPP_ERR_NO_ERROR ? ocpp_cp_error_name(err) : "");
  ocpp_event ev = {.type = OCPP_EV_STATUS, .connector = connector,
                   .timestamp = when};
  ev.status.status = st;
  ev.status.error = err;
  ev.status.info = "";
  ev.status.vendor_error = "";
  ocpp__session_emit(s, &ev);
  return st;
}

static void maybe_auto_start(ocpp_session *s, int connector, ocpp_cp_status st,
                             ocpp_handler_out *out)
{
  const ocpp_connector_state *cs = ocpp__cp_connector_peek(s->cp, connector);
  if (s->cp->opt.start_mode == OCPP_START_AUTO && connector >= 1 &&
      st == OCPP_CP_PREPARING && cs && cs->tx_id == 0 && !cs->finishing)
    out->auto_start_connector = connector;
}

static void h_status(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  static const char *const names[] = {"Available", "Occupied", "Reserved",
                                      "Unavailable", "Faulted", NULL};
  int evse = ocpp__cs_int(req, "evseId", -1);
  int connector = ocpp__cs_int(req, "connectorId", -1);
  if (evse < 0) {
    bad_evse(out, evse);
    return;
  }
  out->answer = json_object();
  if (evse == 0 || evse > OCPP_MAX_CONNECTORS || connector != 1) {
    ocpp__session_log(s, OCPP_LOG_INFO,
                      "status of EVSE %d connector %d not mapped (EVSE 1..%d, "
                      "connector 1)", evse, connector, OCPP_MAX_CONNECTORS);
    return;
  }
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, evse);
  if (!cs) {
    ocpp__session_log(s, OCPP_LOG_ERROR, "status of EVSE %d not kept: out of memory",
                      evse);
    return;
  }
  int status = name_index(names, ocpp__cs_str(req, "connectorStatus"));
  cs->connector_status = status;
  if (status != OCPP_201_CONNECTOR_OCCUPIED)
    cs->finishing = false;
  ocpp_cp_status st = publish_status(s, evse, ocpp__cs_time(s, req, "timestamp"));
  maybe_auto_start(s, evse, st, out);
}

/* ---- tags ------------------------------------------------------------------ */

static json_t *id_token_info(const ocpp_cs_verdict *v)
{
  json_t *info = json_pack("{s:s}", "status", ocpp_auth_status_name(v->status));
  if (info && v->expiry) {
    char buf[OCPP_TIME_STRLEN];
    ocpp_time_format(v->expiry, buf);
    json_object_set_new(info, "cacheExpiryDateTime", json_string(buf));
  }
  return info;
}

static const char *token_of(const json_t *req)
{
  return ocpp__cs_str(json_object_get(req, "idToken"), "idToken");
}

static void h_authorize(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp_cs_verdict v;
  if (ocpp__cs_check_tag(s, 0, token_of(req), &v, out) == OCPP_OK)
    out->answer = json_pack("{s:o}", "idTokenInfo", id_token_info(&v));
}


/* ---- meter values ---------------------------------------------------------- */

/* One 2.0.1 meterValue element as a sample: the value is a number, its
 * unit and power of ten in unitOfMeasure. */
static int parse_meter_value(const json_t *mv, ocpp_meter_sample *out)
{
  ocpp_meter_acc acc;
  ocpp_meter_begin(&acc, out);
  if (ocpp_time_parse(ocpp__cs_str(mv, "timestamp"), &out->timestamp) != 0)
    return OCPP_ETIME;
  size_t i;
  const json_t *sv;
  json_array_foreach(json_object_get(mv, "sampledValue"), i, sv) {
    const json_t *unit = json_object_get(sv, "unitOfMeasure");
    int multiplier = ocpp__cs_int(unit, "multiplier", 0);
    ocpp_sampled_value f = {
      .has_number = true,
      .number = json_number_value(json_object_get(sv, "value")) *
                pow(10.0, multiplier < -9 || multiplier > 9 ? 0 : multiplier),
      .context = json_string_value(json_object_get(sv, "context")),
      .measurand = json_string_value(json_object_get(sv, "measurand")),
      .phase = json_string_value(json_object_get(sv, "phase")),
      .location = json_string_value(json_object_get(sv, "location")),
      .unit = json_string_value(json_object_get(unit, "unit")),
    };
    ocpp_meter_add(&acc, &f, out);
  }
  ocpp_meter_end(&acc, out);
  return OCPP_OK;
}

/* Samples of meterValue for connector; the last energy reading to *last_wh
 * (when not NULL and there is one). */
static void emit_meter_values(ocpp_session *s, int connector, int32_t tx_id,
                              const char *charger_tx, const json_t *values,
                              double *last_wh)
{
  size_t i;
  const json_t *mv;
  json_array_foreach(values, i, mv) {
    ocpp_meter_sample m;
    if (parse_meter_value(mv, &m) != OCPP_OK)
      continue;
    if (last_wh && m.has_energy)
      *last_wh = m.energy_wh;
    ocpp__cs_emit_meter(s, connector, tx_id, &m, charger_tx);
  }
}

/* The first energy register reading of values, NAN when none. */
static double first_energy(const json_t *values)
{
  size_t i;
  const json_t *mv;
  json_array_foreach(values, i, mv) {
    ocpp_meter_sample m;
    if (parse_meter_value(mv, &m) == OCPP_OK && m.has_energy)
      return m.energy_wh;
  }
  return NAN;
}

static void h_meter(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  int evse = ocpp__cs_int(req, "evseId", -1);
  if (evse < 0) {
    bad_evse(out, evse);
    return;
  }
  out->answer = json_object();
  if (evse > OCPP_MAX_CONNECTORS)
    return;
  const ocpp_connector_state *cs = ocpp__cp_connector_peek(s->cp, evse);
  emit_meter_values(s, evse, cs ? cs->tx_id : 0, cs ? cs->tx_charger_id : "",
                    json_object_get(req, "meterValue"), NULL);
}

/* ---- transactions ---------------------------------------------------------- */

/* What one TransactionEvent says. */
typedef struct {
  int type;                    /* EVENT_* */
  const char *tx;              /* transactionInfo.transactionId */
  int seq_no;
  time_t when;
  bool offline;
  int evse;                    /* 0: not given */
  const char *tag;             /* "" none */
  int charging_state;          /* -1 not given */
  const char *stopped_reason;  /* "" */
  const char *trigger;
  const json_t *meter_values;
} tx_event;

static tx_event read_event(const ocpp_session *s, const json_t *req)
{
  static const char *const types[] = {"Started", "Updated", "Ended", NULL};
  static const char *const states[] = {"Charging", "EVConnected", "SuspendedEV",
                                       "SuspendedEVSE", "Idle", NULL};
  const json_t *info = json_object_get(req, "transactionInfo");
  const char *state = json_string_value(json_object_get(info, "chargingState"));
  tx_event e = {
    .type = name_index(types, ocpp__cs_str(req, "eventType")),
    .tx = ocpp__cs_str(info, "transactionId"),
    .seq_no = ocpp__cs_int(req, "seqNo", 0),
    .when = ocpp__cs_time(s, req, "timestamp"),
    .offline = json_is_true(json_object_get(req, "offline")),
    .evse = ocpp__cs_int(json_object_get(req, "evse"), "id", 0),
    .tag = token_of(req),
    .charging_state = state ? name_index(states, state) : -1,
    .stopped_reason = ocpp__cs_str(info, "stoppedReason"),
    .trigger = ocpp__cs_str(req, "triggerReason"),
    .meter_values = json_object_get(req, "meterValue"),
  };
  return e;
}

/* The connector of the charger's transaction tx, running or stopped in this
 * process, or 0. */
static int connector_of_charger_tx(const ocpp_cp *cp, const char *tx,
                                   bool running)
{
  for (int i = 1; i < cp->n_conn_state; i++) {
    const ocpp_connector_state *cs = &cp->conn_state[i];
    if (strcmp(cs->tx_charger_id, tx) == 0 && (cs->tx_id != 0) == running)
      return i;
  }
  return 0;
}

/* What the store knows of the charger's transaction tx. */
typedef struct {
  bool known, stopped;
  int32_t id;
  int connector;
  double meter_start;
} stored_tx;

static stored_tx find_stored(ocpp_session *s, const char *tx)
{
  stored_tx t = {.meter_start = NAN};
  const ocpp_store_hooks *h = &s->cfg.store;
  if (h->find_charger_transaction &&
      h->find_charger_transaction(s->cfg.store_data, s->cfg.log_id, tx, &t.id,
                                  &t.connector, &t.meter_start, &t.stopped) == 0)
    t.known = t.id != 0;
  return t;
}

static int new_transaction(ocpp_session *s, int connector, const tx_event *e,
                           double meter_start, int32_t *tx_id)
{
  const ocpp_store_hooks *h = &s->cfg.store;
  if (!h->begin_transaction) {
    *tx_id = ocpp__session_next_tx_id(s);
    return OCPP_OK;
  }
  *tx_id = 0;
  if (h->begin_transaction(s->cfg.store_data, s->cfg.log_id, connector, e->tag,
                           meter_start, e->when, e->tx, tx_id) != 0 ||
      *tx_id == 0)
    return OCPP_ESTATE;
  return OCPP_OK;
}

static void begin_on_connector(ocpp_session *s, int connector, int32_t tx_id,
                               const tx_event *e, double meter_start,
                               bool recovered)
{
  ocpp_connector_state *cs = &s->cp->conn_state[connector];
  cs->tx_id = tx_id;
  snprintf(cs->tx_charger_id, sizeof cs->tx_charger_id, "%s", e->tx);
  snprintf(cs->tx_tag, sizeof cs->tx_tag, "%s", e->tag);
  cs->tx_tag_name[0] = '\0';
  cs->tx_has_meter_start = !isnan(meter_start);
  cs->tx_meter_start_wh = cs->tx_has_meter_start ? meter_start : 0;
  cs->tx_start = e->when;
  cs->tx_seq_no = -1;
  cs->session_energy_wh = 0;
  cs->finishing = false;
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "connector %d: transaction %d (\"%s\") %s%s", connector,
                    tx_id, e->tx, recovered ? "picked up" : "started",
                    e->offline ? " while offline" : "");
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .connector = connector,
                   .timestamp = e->when};
  ev.tx_started.transaction_id = tx_id;
  ev.tx_started.id_tag = e->tag;
  ev.tx_started.tag_name = "";
  ev.tx_started.meter_start_wh = cs->tx_meter_start_wh;
  ev.tx_started.recovered = recovered;
  ev.tx_started.charger_tx_id = cs->tx_charger_id;
  ocpp__session_emit(s, &ev);
}

/* The connector the event's transaction runs on, started (or picked up
 * after a restart) if need be; 0 when it is one that already ended (a
 * replay), -1 with out's CALLERROR. */
static int running_connector(ocpp_session *s, const tx_event *e,
                             ocpp_handler_out *out)
{
  int connector = connector_of_charger_tx(s->cp, e->tx, true);
  if (connector)
    return connector;
  if (connector_of_charger_tx(s->cp, e->tx, false))
    return 0;
  stored_tx st = find_stored(s, e->tx);
  if (st.known && st.stopped)
    return 0;
  connector = e->evse ? e->evse : (st.known ? st.connector : 1);
  if (connector < 1 || connector > OCPP_MAX_CONNECTORS ||
      !ocpp__cp_connector(s->cp, connector)) {
    bad_evse(out, connector);
    return -1;
  }
  int32_t tx_id = st.id;
  double meter_start = st.known ? st.meter_start : first_energy(e->meter_values);
  if (!st.known && new_transaction(s, connector, e, meter_start, &tx_id) != OCPP_OK) {
    out->error_code = "InternalError";
    snprintf(out->error_text, sizeof out->error_text,
             "cannot record the transaction now");
    return -1;
  }
  begin_on_connector(s, connector, tx_id, e, meter_start,
                     e->type != EVENT_STARTED || st.known);
  return connector;
}

static void end_transaction(ocpp_session *s, int connector, const tx_event *e,
                            bool has_stop, double stop_wh)
{
  ocpp_connector_state *cs = &s->cp->conn_state[connector];
  ocpp_event ev = {.type = OCPP_EV_TX_STOPPED, .connector = connector,
                   .timestamp = e->when};
  ev.tx_stopped.transaction_id = cs->tx_id;
  ev.tx_stopped.id_tag = cs->tx_tag;
  ev.tx_stopped.has_meter_stop = has_stop;
  ev.tx_stopped.meter_stop_wh = has_stop ? stop_wh : 0;
  ev.tx_stopped.has_meter_start = cs->tx_has_meter_start;
  ev.tx_stopped.meter_start_wh = cs->tx_meter_start_wh;
  ev.tx_stopped.reason = e->stopped_reason;
  ev.tx_stopped.charger_tx_id = cs->tx_charger_id;
  if (has_stop && cs->tx_has_meter_start && stop_wh >= cs->tx_meter_start_wh) {
    ev.tx_stopped.has_session_energy = true;
    ev.tx_stopped.session_energy_wh = stop_wh - cs->tx_meter_start_wh;
  }
  ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: transaction %d (\"%s\") "
                    "ended (%s%s)", connector, cs->tx_id, cs->tx_charger_id,
                    *e->stopped_reason ? e->stopped_reason : "no reason",
                    has_stop ? "" : ", no meter reading");
  ocpp__session_emit(s, &ev);
  cs->last_stopped_tx = cs->tx_id;
  cs->tx_id = 0;
  cs->charging_state = -1;
  cs->has_current = cs->has_power = true;
  cs->current_a = cs->power_w = 0;
  cs->finishing = cs->connector_status == OCPP_201_CONNECTOR_OCCUPIED;
}

/* A TransactionEvent once the tag it carries (if any) is decided. */
static void run_transaction(ocpp_session *s, json_t *req, const ocpp_cs_verdict *v,
                            ocpp_handler_out *out)
{
  tx_event e = read_event(s, req);
  int connector = running_connector(s, &e, out);
  if (connector < 0)
    return;
  out->answer = json_object();
  if (connector == 0) {
    ocpp__session_log(s, OCPP_LOG_INFO, "TransactionEvent %s seqNo %d of "
                      "transaction \"%s\" that ended already: nothing new",
                      ocpp__cs_str(req, "eventType"), e.seq_no, e.tx);
    return;
  }
  ocpp_connector_state *cs = &s->cp->conn_state[connector];
  if (cs->tx_seq_no >= 0 && e.seq_no <= cs->tx_seq_no) {
    ocpp__session_log(s, OCPP_LOG_INFO, "TransactionEvent seqNo %d of \"%s\" "
                      "seen before: ignored", e.seq_no, e.tx);
    return;
  }
  if (cs->tx_seq_no >= 0 && e.seq_no > cs->tx_seq_no + 1)
    ocpp__session_log(s, OCPP_LOG_WARN, "TransactionEvent of \"%s\": seqNo %d "
                      "after %d, %d missing", e.tx, e.seq_no, cs->tx_seq_no,
                      e.seq_no - cs->tx_seq_no - 1);
  cs->tx_seq_no = e.seq_no;
  if (e.tag[0] && strcmp(e.tag, cs->tx_tag) != 0)
    snprintf(cs->tx_tag, sizeof cs->tx_tag, "%s", e.tag);
  if (v) {
    snprintf(cs->tx_tag_name, sizeof cs->tx_tag_name, "%s", v->name);
    json_object_set_new(out->answer, "idTokenInfo", id_token_info(v));
  }
  double last_wh = NAN;
  emit_meter_values(s, connector, cs->tx_id, cs->tx_charger_id, e.meter_values,
                    &last_wh);
  cs = &s->cp->conn_state[connector];
  if (e.charging_state >= 0)
    cs->charging_state = e.charging_state;
  if (e.type == EVENT_ENDED) {
    bool has_stop = !isnan(last_wh);
    if (!has_stop && cs->has_energy) {
      has_stop = true;
      last_wh = cs->energy_wh;
    }
    end_transaction(s, connector, &e, has_stop, last_wh);
  }
  publish_status(s, connector, e.when);
}

/* The tag is decided first, before anything is recorded, so a decision
 * that the owner takes later (a billing backend) runs the event as a whole
 * once it is known. */
static void h_transaction(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  if (!json_object_get(req, "idToken")) {
    run_transaction(s, req, NULL, out);
    return;
  }
  ocpp_cs_verdict v;
  int evse = ocpp__cs_int(json_object_get(req, "evse"), "id", 0);
  if (ocpp__cs_check_tag(s, evse, token_of(req), &v, out) == OCPP_OK)
    run_transaction(s, req, &v, out);
}

static void cs201_resume(ocpp_session *s, const char *action, json_t *req,
                         ocpp_auth_status st, ocpp_handler_out *out)
{
  ocpp_cs_verdict v = {.status = st};
  bool event = strcmp(action, "TransactionEvent") == 0;
  int evse = event ? ocpp__cs_int(json_object_get(req, "evse"), "id", 0) : 0;
  ocpp__cs_tag_decided(s, evse, token_of(req), &v);
  if (event)
    run_transaction(s, req, &v, out);
  else
    out->answer = json_pack("{s:o}", "idTokenInfo", id_token_info(&v));
}

/* ---- events and notifications --------------------------------------------- */

/* The 1.6 error code closest to a component that reports a problem. */
static ocpp_cp_error error_of_component(const char *component,
                                        const char *variable)
{
  static const struct { const char *word; ocpp_cp_error code; } map[] = {
    {"ConnectorPlugRetentionLock", OCPP_ERR_CONNECTOR_LOCK_FAILURE},
    {"Lock", OCPP_ERR_CONNECTOR_LOCK_FAILURE},
    {"OverCurrent", OCPP_ERR_OVER_CURRENT_FAILURE},
    {"RCD", OCPP_ERR_GROUND_FAILURE},
    {"Ground", OCPP_ERR_GROUND_FAILURE},
    {"Temperature", OCPP_ERR_HIGH_TEMPERATURE},
    {"Overvoltage", OCPP_ERR_OVER_VOLTAGE},
    {"OverVoltage", OCPP_ERR_OVER_VOLTAGE},
    {"Undervoltage", OCPP_ERR_UNDER_VOLTAGE},
    {"UnderVoltage", OCPP_ERR_UNDER_VOLTAGE},
    {"PowerContactor", OCPP_ERR_POWER_SWITCH_FAILURE},
    {"PowerMeter", OCPP_ERR_POWER_METER_FAILURE},
    {"FiscalMetering", OCPP_ERR_POWER_METER_FAILURE},
    {"TokenReader", OCPP_ERR_READER_FAILURE},
    {"ConnectedEV", OCPP_ERR_EV_COMMUNICATION_ERROR},
    {"ISO15118Ctrlr", OCPP_ERR_EV_COMMUNICATION_ERROR},
    {"Controller", OCPP_ERR_INTERNAL_ERROR},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strstr(component, map[i].word) || strstr(variable, map[i].word))
      return map[i].code;
  return OCPP_ERR_OTHER_ERROR;
}

/* A problem reported (or cleared) through NotifyEvent: a Problem or Fault
 * variable, or an alert on another one. */
static void problem_event(ocpp_session *s, const json_t *data)
{
  const json_t *component = json_object_get(data, "component");
  const char *variable = ocpp__cs_str(json_object_get(data, "variable"), "name");
  const char *trigger = ocpp__cs_str(data, "trigger");
  const char *value = ocpp__cs_str(data, "actualValue");
  bool flag = strcmp(variable, "Problem") == 0 || strcmp(variable, "Fault") == 0;
  if (!flag && strcmp(trigger, "Alerting") != 0)
    return;
  int evse = ocpp__cs_int(json_object_get(component, "evse"), "id", 0);
  if (evse > OCPP_MAX_CONNECTORS)
    return;
  bool cleared = json_is_true(json_object_get(data, "cleared")) ||
                 (flag && strcmp(value, "false") == 0);
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, evse);
  if (!cs)
    return;
  cs->problem = cleared ? OCPP_ERR_NO_ERROR
                        : error_of_component(ocpp__cs_str(component, "name"), variable);
  ocpp__session_log(s, cleared ? OCPP_LOG_INFO : OCPP_LOG_WARN,
                    "event on %s.%s (EVSE %d): %s%s%.80s", ocpp__cs_str(component, "name"),
                    variable, evse, cleared ? "cleared" : ocpp_cp_error_name(cs->problem),
                    json_object_get(data, "techCode") ? " " : "",
                    ocpp__cs_str(data, "techCode"));
  publish_status(s, evse, ocpp__cs_time(s, data, "timestamp"));
}

static void h_notify_event(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  size_t i;
  const json_t *data;
  json_array_foreach(json_object_get(req, "eventData"), i, data)
    problem_event(s, data);
  out->answer = json_object();
}

static void h_notify_report(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  out->answer = json_object();
  if (ocpp__cs201_report_part(s, req, &out->report_done))
    return;
  ocpp__session_log(s, OCPP_LOG_INFO, "report %d part %d: %zu variables%s",
                    ocpp__cs_int(req, "requestId", 0), ocpp__cs_int(req, "seqNo", 0),
                    json_array_size(json_object_get(req, "reportData")),
                    json_is_true(json_object_get(req, "tbc")) ? ", more follow" : "");
}

static void h_security_event(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  const char *info = ocpp__cs_str(req, "techInfo");
  ocpp__session_log(s, OCPP_LOG_WARN, "security event %s%s%.200s",
                    ocpp__cs_str(req, "type"), *info ? ": " : "", info);
  out->answer = json_object();
}

/* Notifications whose answer is empty and that only need a log line. */
static void h_logged(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  const char *status = ocpp__cs_str(req, "status");
  ocpp__session_log(s, OCPP_LOG_INFO, "%s%s%s", s->current ? s->current->action : "",
                    *status ? ": " : "", status);
  out->answer = json_object();
}

static void h_data_transfer(ocpp_session *s, json_t *req, ocpp_handler_out *out)
{
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "DataTransfer from vendor \"%s\" (messageId \"%s\") not handled",
                    ocpp__cs_str(req, "vendorId"), ocpp__cs_str(req, "messageId"));
  out->answer = json_pack("{s:s}", "status", "UnknownVendorId");
}

/* ---- the role -------------------------------------------------------------- */

/* Sorted by name for bsearch. */
static const ocpp_handler_row handlers[] = {
  {"Authorize", h_authorize},
  {"BootNotification", h_boot},
  {"ClearedChargingLimit", h_logged},
  {"DataTransfer", h_data_transfer},
  {"FirmwareStatusNotification", h_logged},
  {"Heartbeat", h_heartbeat},
  {"LogStatusNotification", h_logged},
  {"MeterValues", h_meter},
  {"NotifyChargingLimit", h_logged},
  {"NotifyEvent", h_notify_event},
  {"NotifyMonitoringReport", h_logged},
  {"NotifyReport", h_notify_report},
  {"ReservationStatusUpdate", h_logged},
  {"SecurityEventNotification", h_security_event},
  {"StatusNotification", h_status},
  {"TransactionEvent", h_transaction},
};

static void cs201_open(ocpp_session *s)
{
  s->cp->connected_since = s->cp->last_seen = s->now.wall;
  s->boot_deadline = s->now.mono_ms + OCPP_BOOT_WAIT_MS;
}

static void cs201_after_answer(ocpp_session *s, const ocpp_handler_out *out)
{
  if (out->configure)
    ocpp__cs201_configure_after_boot(s);
  if (out->report_done)
    ocpp__cs201_report_end(s);
  if (out->auto_start_connector && s->open)
    ocpp__cs16_auto_start(s, out->auto_start_connector);
}

static void cs201_tick(ocpp_session *s)
{
  ocpp__cs201_report_tick(s);
  if (!s->boot_deadline || s->now.mono_ms < s->boot_deadline)
    return;
  s->boot_deadline = 0;
  if (!s->booted)
    ocpp__cs16_request_boot(s);
}

const ocpp_role ocpp__role_cs201 = {
  .name = "central system 2.0.1",
  .version = OCPP_VERSION_201,
  .needs_record = true,
  .handlers = handlers,
  .n_handlers = sizeof handlers / sizeof handlers[0],
  .on_open = cs201_open,
  .after_answer = cs201_after_answer,
  .on_tick = cs201_tick,
  .resume = cs201_resume,
  .commands = ocpp__cs201_command_table,
};
