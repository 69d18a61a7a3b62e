/* The transactions of a backend's sessions: the charger's StartTransaction,
 * MeterValues and StopTransaction of a session whose idTag is the
 * backend's go into the store's queue before the charger is answered, and
 * from there to the backend, one at a time and in order. A message leaves
 * the queue only with the backend's CALLRESULT, so one whose answer never
 * came is sent again on the next registration, and none twice otherwise.
 * The queue holds the gateway's transaction ids; the backend's id, stored
 * with the answer to the StartTransaction, is put in when a message is
 * sent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink_impl.h"

static void queue_log(gw_uplink *l, ocpp_log_level level, const char *what,
                      const char *action, int32_t tx)
{
  char line[200];
  snprintf(line, sizeof line, "backend: %s %s of transaction %d", what, action,
           (int)tx);
  gw__uplink_log(l, level, line);
}

/* ---- into the queue -------------------------------------------------------- */

static void put(gw_uplink *l, const char *action, int32_t tx, json_t *payload)
{
  char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
  json_decref(payload);
  int rc = text ? gw_store_queue_put(l->set->store, l->charger_id, tx, action,
                                     text, time(NULL))
                : GW_ENOMEM;
  free(text);
  if (rc != GW_OK) {
    queue_log(l, OCPP_LOG_ERROR, "could not queue", action, tx);
    return;
  }
  gw__uplink_queue_send(l);
}

static json_t *timestamp_of(time_t t)
{
  char text[32];
  gw__uplink_utc_text(t ? t : time(NULL), text);
  return json_string(text);
}

/* Wh as the schema's integers; the charger's values passed its schema. */
static json_int_t whole_wh(double wh)
{
  return isfinite(wh) && fabs(wh) < 1e15 ? (json_int_t)llround(wh) : 0;
}

static bool is_backend_session(gw_uplink *l, int32_t tx)
{
  bool known = false;
  int32_t up = 0;
  return gw_store_upstream_tx(l->set->store, l->charger_id, tx, &known,
                              &up) == GW_OK;
}

static void on_started(gw_uplink *l, const ocpp_event *ev)
{
  const char *tag = ev->tx_started.id_tag;
  /* learnt from MeterValues after a restart: its start was queued then */
  if (ev->tx_started.recovered || !tag || !gw__uplink_backend_tag(l, tag))
    return;
  json_t *p = json_pack("{s:i,s:s,s:I,s:o}", "connectorId", ev->connector,
                        "idTag", tag, "meterStart",
                        whole_wh(ev->tx_started.meter_start_wh), "timestamp",
                        timestamp_of(ev->timestamp));
  put(l, "StartTransaction", ev->tx_started.transaction_id, p);
}

static void add_sample(json_t *samples, const char *measurand, const char *unit,
                       double v, const char *context)
{
  char text[48];
  snprintf(text, sizeof text, "%.3f", v);
  /* "1500.000" says no more than "1500" */
  char *dot = strchr(text, '.');
  if (dot) {
    char *end = text + strlen(text) - 1;
    while (end > dot && *end == '0')
      *end-- = '\0';
    if (end == dot)
      *end = '\0';
  }
  json_t *s = json_pack("{s:s,s:s,s:s}", "value", text, "measurand", measurand,
                        "unit", unit);
  if (s && context && *context)
    json_object_set_new(s, "context", json_string(context));
  json_array_append_new(samples, s);
}

/* The backend's MeterValueSampleInterval paces what it gets, not what
 * the charger samples: a periodic sample closer than that to the last one
 * queued for the connector stays local. */
static bool too_soon(gw_uplink *l, const ocpp_event *ev)
{
  int c = ev->connector;
  if (l->meter_interval <= 0 || c < 0 || c >= N_SLOTS)
    return false;
  const char *ctx = ev->meter.context;
  if (ctx && *ctx && strcmp(ctx, "Sample.Periodic") != 0)
    return false;
  time_t now = ev->timestamp ? ev->timestamp : time(NULL);
  if (l->meter_sent[c] && now - l->meter_sent[c] < l->meter_interval)
    return true;
  l->meter_sent[c] = now;
  return false;
}

static void on_meter(gw_uplink *l, const ocpp_event *ev)
{
  int32_t tx = ev->meter.transaction_id;
  if (!tx || !is_backend_session(l, tx) || too_soon(l, ev))
    return;
  json_t *samples = json_array();
  const char *ctx = ev->meter.context;
  if (ev->meter.has_energy)
    add_sample(samples, "Energy.Active.Import.Register", "Wh",
               ev->meter.energy_wh, ctx);
  if (ev->meter.has_power)
    add_sample(samples, "Power.Active.Import", "W", ev->meter.power_w, ctx);
  if (ev->meter.has_current)
    add_sample(samples, "Current.Import", "A", ev->meter.current_a, ctx);
  if (ev->meter.has_voltage)
    add_sample(samples, "Voltage", "V", ev->meter.voltage_v, ctx);
  if (ev->meter.has_offered)
    add_sample(samples, "Current.Offered", "A", ev->meter.offered_a, ctx);
  if (!samples || json_array_size(samples) == 0) {
    json_decref(samples);
    return;
  }
  json_t *p = json_pack("{s:i,s:i,s:[{s:o,s:o}]}", "connectorId", ev->connector,
                        "transactionId", (int)tx, "meterValue", "timestamp",
                        timestamp_of(ev->timestamp), "sampledValue", samples);
  put(l, "MeterValues", tx, p);
}

static void on_stopped(gw_uplink *l, const ocpp_event *ev)
{
  int32_t tx = ev->tx_stopped.transaction_id;
  /* a charger repeating its stop: the backend has the first one */
  if (ev->tx_stopped.duplicate || !is_backend_session(l, tx))
    return;
  /* meterStop is required: a charger that left it out (lenient) stopped
   * where it started, as far as anybody knows */
  double stop_wh = ev->tx_stopped.has_meter_stop ? ev->tx_stopped.meter_stop_wh
                   : ev->tx_stopped.has_meter_start ? ev->tx_stopped.meter_start_wh
                                                    : 0;
  json_t *p = json_pack("{s:i,s:I,s:o}", "transactionId", (int)tx, "meterStop",
                        whole_wh(stop_wh), "timestamp",
                        timestamp_of(ev->timestamp));
  const char *tag = ev->tx_stopped.id_tag, *reason = ev->tx_stopped.reason;
  if (p && tag && *tag)
    json_object_set_new(p, "idTag", json_string(tag));
  if (p && reason && *reason)
    json_object_set_new(p, "reason", json_string(reason));
  put(l, "StopTransaction", tx, p);
}

void gw__uplink_queue_event(gw_uplink *l, const ocpp_event *ev)
{
  if (!l->set->store)
    return;
  if (ev->type == OCPP_EV_TX_STARTED)
    on_started(l, ev);
  else if (ev->type == OCPP_EV_METER)
    on_meter(l, ev);
  else if (ev->type == OCPP_EV_TX_STOPPED)
    on_stopped(l, ev);
}

/* ---- out to the backend ---------------------------------------------------- */

typedef struct {
  gw_uplink *link;
  int64_t seq;
  int32_t tx;
  bool start;
  char action[32];
} sent_msg;

static void sent_done(void *user_data, bool answered, const json_t *payload,
                      const char *error_code)
{
  sent_msg *m = user_data;
  gw_uplink *l = m->link;
  l->queue_inflight = false;
  if (!answered) {
    /* kept: sent again on the next registration */
    char what[96];
    snprintf(what, sizeof what, "no answer (%s), kept:",
             error_code ? error_code : "?");
    queue_log(l, OCPP_LOG_WARN, what, m->action, m->tx);
    free(m);
    return;
  }
  const json_t *id = m->start ? json_object_get(payload, "transactionId") : NULL;
  int rc = gw_store_queue_done(l->set->store, m->seq, l->charger_id, m->tx,
                               json_is_integer(id),
                               (int32_t)json_integer_value(id));
  if (rc != GW_OK) {
    /* still the head: sent again after the next registration */
    queue_log(l, OCPP_LOG_ERROR, "answer could not be stored for", m->action,
              m->tx);
    free(m);
    return;
  }
  free(m);
  gw__uplink_queue_send(l);
}

/* The payload to send: the backend's transaction id in place of ours. false
 * when the message cannot be sent (its session has no backend id). */
static bool with_backend_id(gw_uplink *l, const gw_queued *q, json_t *p)
{
  if (strcmp(q->action, "StartTransaction") == 0)
    return true;
  bool known = false;
  int32_t up = 0;
  if (gw_store_upstream_tx(l->set->store, l->charger_id, q->transaction_id,
                           &known, &up) != GW_OK || !known)
    return false;
  json_object_set_new(p, "transactionId", json_integer(up));
  return true;
}

void gw__uplink_queue_send(gw_uplink *l)
{
  ocpp_upstream_info info;
  ocpp_upstream_info_get(l->up, &info);
  while (l->set->store && !l->queue_inflight && info.registered) {
    gw_queued q;
    if (gw_store_queue_head(l->set->store, l->charger_id, &q) != GW_OK)
      return;
    json_t *p = json_loads(q.payload, 0, NULL);
    free(q.payload);
    if (!p || !with_backend_id(l, &q, p)) {
      /* its StartTransaction never reached the queue (a failed write):
       * the backend could not place it, and it must not block the rest */
      json_decref(p);
      queue_log(l, OCPP_LOG_ERROR, "dropped", q.action, q.transaction_id);
      if (gw_store_queue_done(l->set->store, q.seq, l->charger_id,
                              q.transaction_id, false, 0) != GW_OK)
        return;
      continue;
    }
    sent_msg *m = calloc(1, sizeof *m);
    if (!m) {
      json_decref(p);
      return;
    }
    *m = (sent_msg){.link = l, .seq = q.seq, .tx = q.transaction_id,
                    .start = strcmp(q.action, "StartTransaction") == 0};
    snprintf(m->action, sizeof m->action, "%s", q.action);
    if (ocpp_upstream_call(l->up, q.action, p, sent_done, m) != OCPP_OK) {
      free(m);
      return;
    }
    l->queue_inflight = true;
  }
}

void gw__uplink_queue_stats(const gw_uplink *l, int *count, time_t *oldest)
{
  *count = 0;
  *oldest = 0;
  if (l->set->store &&
      gw_store_queue_stats(l->set->store, l->charger_id, count, oldest) != GW_OK)
    *count = 0;
}
