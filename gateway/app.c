/* The daemon: wiring of ocpp server, knxd link, bridge and store.
 *
 * Events go one way each: charger -> ocpp event -> store + bridge -> KNX;
 * KNX telegram -> bridge -> ocpp command -> charger. The app only passes
 * them along, logs, and owns the timers (bridge pump, store flush). */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/app.h"
#include "gateway/bridge.h"
#include "gateway/control.h"
#include "gateway/energy.h"
#include "gateway/log.h"
#include "gateway/notify.h"
#include "gateway/rotate.h"
#include "gateway/store.h"
#include "gateway/uplink.h"
#include "gateway/web.h"
#include "knx/knx.h"
#include "ocpp/ocpp.h"

#define STORE_FLUSH_MS 10000   /* meter readings reach the disk within */
#define STORE_RETRY_MS 30000   /* a failing disk is tried again after */
#define ENERGY_SAMPLE_MAX_S 10 /* MeterValues at least this often when managed */

typedef struct {
  uv_loop_t *loop;
  gw_conf *cfg;
  gw_store *store;
  ocpp_server *ocpp;
  knx_link *knx;
  gw_bridge *bridge;
  gw_notify *notify;
  gw_control *control;
  gw_rotate_env rotate;
  gw_energy *energy;            /* NULL without [energy] */
  gw_web *web;                /* the status page */
  gw_uplinks *uplinks;        /* the chargers' backend links */
  uv_timer_t pump_timer;
  uv_timer_t energy_timer;
  uv_timer_t flush_timer;
  uv_signal_t sig_term, sig_int, sig_hup;
  bool stopping;
  bool store_failing;
  time_t started;
  /* ocpp_charger_options point into these */
  ocpp_charger_options *charger_opts;
  size_t n_charger_opts;
} gw_app;

/* ---- charger options for the ocpp server -------------------------------- */

static ocpp_charger_options *ocpp_options_of(const gw_charger_conf *ch, size_t n)
{
  ocpp_charger_options *o = calloc(n ? n : 1, sizeof *o);
  if (!o)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    int connectors = 1;
    for (size_t k = 0; k < ch[i].n_connectors; k++)
      if (ch[i].connectors[k].id > connectors)
        connectors = ch[i].connectors[k].id;
    o[i] = (ocpp_charger_options){
      .id = ch[i].id,
      .name = ch[i].name,
      .security_profile = ch[i].security_profile,
      .password = ch[i].password,
      .previous_password = ch[i].previous_password,
      .start_mode = ch[i].start_mode,
      .tags = (const char *const *)ch[i].tags,
      .n_tags = ch[i].n_tags,
      .tag_match = ch[i].tag_match,
      .remote_tag = ch[i].remote_tag,
      .n_connectors = connectors,
      .voltage = ch[i].voltage,
      .phases = ch[i].phases,
      .version = ch[i].ocpp_version,
    };
  }
  return o;
}

/* ---- service manager ---------------------------------------------------- */

static void summarize(const gw_app *app, gw_notify_summary *s)
{
  *s = (gw_notify_summary){.chargers_known = app->cfg->n_chargers,
                           .store_writable = !app->store_failing};
  for (size_t i = 0; app->ocpp && i < app->cfg->n_chargers; i++)
    s->chargers_online += ocpp_server_is_online(app->ocpp,
                                                app->cfg->chargers[i].id);
  s->knx_up = app->knx && knx_link_get_state(app->knx) == KNX_LINK_UP;
}

static void update_status(const gw_app *app)
{
  gw_notify_summary s;
  summarize(app, &s);
  gw_notify_status(app->notify, &s);
}

/* ---- store hooks -------------------------------------------------------- */

static void note_store_result(gw_app *app, int rc)
{
  if (rc == GW_EDEFERRED && !app->store_failing) {
    app->store_failing = true;
    gw_log(GW_LOG_ERROR, NULL,
           "store: cannot write to %s (%s): keeping sessions in memory until "
           "it works again",
           app->cfg->store_dir, gw_store_last_error(app->store));
    update_status(app);
  } else if (rc == GW_OK && app->store_failing &&
             !gw_store_has_deferred(app->store)) {
    app->store_failing = false;
    gw_log(GW_LOG_INFO, NULL, "store: writing again, nothing was lost");
    update_status(app);
  }
}

static void on_flush_timer(uv_timer_t *t);

static void schedule_flush(gw_app *app, uint64_t ms)
{
  if (!uv_is_active((uv_handle_t *)&app->flush_timer))
    uv_timer_start(&app->flush_timer, on_flush_timer, ms, 0);
}

static void on_flush_timer(uv_timer_t *t)
{
  gw_app *app = t->data;
  int rc = gw_store_flush(app->store);
  note_store_result(app, rc);
  if (rc != GW_OK)
    schedule_flush(app, STORE_RETRY_MS);
}

static int hook_begin(void *ud, const char *charger_id, int connector,
                      const char *id_tag, double meter_start_wh, time_t start,
                      const char *charger_tx_id, int32_t *transaction_id)
{
  gw_app *app = ud;
  int rc = gw_store_begin_charger_tx(app->store, charger_id, connector, id_tag,
                                     meter_start_wh, start, charger_tx_id,
                                     transaction_id);
  note_store_result(app, rc);
  if (rc == GW_EDEFERRED)
    schedule_flush(app, STORE_RETRY_MS);
  return rc == GW_OK || rc == GW_EDEFERRED ? 0 : -1;
}

static int hook_find(void *ud, const char *charger_id, int32_t transaction_id,
                     int *connector, double *meter_start_wh, bool *stopped)
{
  gw_app *app = ud;
  gw_session s;
  if (gw_store_find(app->store, charger_id, transaction_id, &s) != GW_OK)
    return -1;
  *connector = s.connector;
  *meter_start_wh = s.has_meter_start ? s.meter_start_wh : 0;
  *stopped = s.stop != 0 || (s.stop_reason && *s.stop_reason);
  return s.has_meter_start ? 0 : -1;
}

static int hook_find_charger_tx(void *ud, const char *charger_id,
                                const char *charger_tx_id,
                                int32_t *transaction_id, int *connector,
                                double *meter_start_wh, bool *stopped)
{
  gw_app *app = ud;
  gw_session s;
  if (gw_store_find_charger_tx(app->store, charger_id, charger_tx_id, &s) !=
      GW_OK)
    return -1;
  *transaction_id = s.transaction_id;
  *connector = s.connector;
  *meter_start_wh = s.has_meter_start ? s.meter_start_wh : NAN;
  *stopped = s.stop != 0 || (s.stop_reason && *s.stop_reason);
  return 0;
}

/* ---- tag lists ---------------------------------------------------------- */

static const gw_charger_conf *charger_conf(const gw_app *app, const char *id)
{
  for (size_t i = 0; id && i < app->cfg->n_chargers; i++)
    if (strcmp(app->cfg->chargers[i].id, id) == 0)
      return &app->cfg->chargers[i];
  return NULL;
}

static bool hook_lookup_tag(void *ud, const char *charger_id,
                            const char *id_tag, time_t now,
                            ocpp_tag_verdict *out)
{
  const gw_charger_conf *c = charger_conf(ud, charger_id);
  return c && gw_tags_verdict(c->tag_list, id_tag, c->tag_match, now, out);
}

static const char *store_tag_name(void *ud, const char *charger_id,
                                  const char *id_tag)
{
  const gw_charger_conf *c = charger_conf(ud, charger_id);
  const gw_tag *t = c ? gw_tags_find(c->tag_list, id_tag, c->tag_match) : NULL;
  return t ? t->name : NULL;
}

/* ---- events ------------------------------------------------------------- */

static uint64_t now_ms(const gw_app *app)
{
  return uv_now(app->loop);
}

static void pump(gw_app *app);
static void energy_pump(gw_app *app);

static void record_stop(gw_app *app, ocpp_event *ev)
{
  bool duplicate = false, has_energy = false;
  double energy = 0;
  int rc = gw_store_end(app->store, ev->charger_id, ev->tx_stopped.transaction_id,
                        ev->tx_stopped.id_tag, ev->tx_stopped.has_meter_stop,
                        ev->tx_stopped.meter_stop_wh, ev->timestamp,
                        ev->tx_stopped.reason, &duplicate, &has_energy, &energy);
  note_store_result(app, rc);
  if (rc == GW_EDEFERRED)
    schedule_flush(app, STORE_RETRY_MS);
  if (duplicate)
    ev->tx_stopped.duplicate = true;
  if (has_energy && !duplicate)
    gw_log(GW_LOG_INFO, ev->charger_id, "transaction %d: %.0f Wh",
           ev->tx_stopped.transaction_id, energy);
}

static void on_ocpp_event(void *ud, const ocpp_event *event)
{
  gw_app *app = ud;
  ocpp_event ev = *event;
  switch (ev.type) {
  case OCPP_EV_TX_STOPPED:
    /* durable before the charger gets its answer */
    record_stop(app, &ev);
    break;
  case OCPP_EV_METER:
    if (ev.meter.transaction_id && ev.meter.has_energy) {
      gw_store_meter(app->store, ev.charger_id, ev.connector,
                     ev.meter.transaction_id, ev.meter.energy_wh, ev.timestamp);
      schedule_flush(app, STORE_FLUSH_MS);
    }
    break;
  case OCPP_EV_PASSWORD_CONFIRMED:
    gw_rotate_confirmed(&app->rotate, ev.charger_id);
    break;
  case OCPP_EV_BOOT:
    note_store_result(app, gw_store_save_charger(app->store, ev.charger_id,
                                                 ev.boot.vendor, ev.boot.model,
                                                 ev.boot.serial,
                                                 ev.boot.firmware));
    break;
  case OCPP_EV_ONLINE:
  case OCPP_EV_OFFLINE:
    update_status(app);
    break;
  default:
    break;
  }
  gw_uplinks_on_event(app->uplinks, &ev);
  gw_bridge_on_ocpp_event(app->bridge, &ev, now_ms(app));
  gw_energy_on_ocpp_event(app->energy, &ev, now_ms(app));
  energy_pump(app);
  pump(app);
  if (ev.type == OCPP_EV_TX_STARTED || ev.type == OCPP_EV_TX_STOPPED)
    gw_web_sessions_changed(app->web);
  else
    gw_web_changed(app->web);
}

static gw_log_level log_level_of(ocpp_log_level level)
{
  switch (level) {
  case OCPP_LOG_ERROR: return GW_LOG_ERROR;
  case OCPP_LOG_WARN: return GW_LOG_WARN;
  case OCPP_LOG_INFO: return GW_LOG_INFO;
  case OCPP_LOG_DEBUG: return GW_LOG_DEBUG;
  }
  return GW_LOG_ERROR;
}

static void on_ocpp_log(void *ud, ocpp_log_level level, const char *charger_id,
                        const char *message)
{
  (void)ud;
  gw_log_line(log_level_of(level), charger_id, message);
}

/* ---- backend links ------------------------------------------------------ */

static void on_uplink(void *ud, const char *charger_id, bool up)
{
  gw_app *app = ud;
  /* the link logged why already */
  gw_bridge_on_upstream(app->bridge, charger_id, up, now_ms(app));
  pump(app);
  gw_web_changed(app->web);
}

/* A backend's decision on a charger's idTag goes to the waiting CALL (gone
 * when the charger disconnected meanwhile). */
static void on_uplink_decided(void *ud, const char *charger_id, uint32_t token,
                              ocpp_auth_status status)
{
  gw_app *app = ud;
  ocpp_server_authorized(app->ocpp, charger_id, token, status);
}

static int hook_authorize(void *ud, const char *charger_id, const char *id_tag,
                          uint32_t token, ocpp_auth_status *status)
{
  gw_app *app = ud;
  switch (gw_uplinks_authorize(app->uplinks, charger_id, id_tag, token, status)) {
  case GW_AUTH_NOW: return OCPP_OK;
  case GW_AUTH_LATER: return OCPP_EPENDING;
  case GW_AUTH_LOCAL: break;
  }
  return OCPP_ENOENT;
}

static int op_command(void *ud, const char *charger_id,
                      const ocpp_command *cmd, ocpp_command_cb cb,
                      void *cb_data);
static int op_transaction(void *ud, const char *charger_id, int connector,
                          ocpp_transaction_info *out);

static int on_backend_cap(void *ud, const char *charger_id, int connector,
                          double amps)
{
  gw_app *app = ud;
  int rc = gw_bridge_set_backend_cap(app->bridge, charger_id, connector, amps);
  pump(app);
  return rc;
}

static int start_uplinks(gw_app *app)
{
  const gw_conf *c = app->cfg;
  gw_uplink_options o = {.call_timeout = c->call_timeout, .trace = c->trace_ocpp,
                         .max_message_size = (size_t)c->max_message_size};
  static const gw_uplink_hooks hooks = {.on_link = on_uplink,
                                        .on_log = on_ocpp_log,
                                        .decided = on_uplink_decided,
                                        .command = op_command,
                                        .transaction = op_transaction,
                                        .set_cap = on_backend_cap};
  int rc = gw_uplinks_create(app->loop, c->chargers, c->n_chargers, &o,
                             app->store, &hooks, app, &app->uplinks);
  if (rc != GW_OK)
    return rc;
  /* the identity the charger last booted with: chargers often reconnect
   * without a new BootNotification */
  for (size_t i = 0; i < c->n_chargers; i++) {
    gw_charger_info info;
    if (c->chargers[i].upstream.url &&
        gw_store_load_charger(app->store, c->chargers[i].id, &info) == GW_OK)
      gw_uplinks_set_boot(app->uplinks, c->chargers[i].id, info.vendor,
                          info.model, info.serial, info.firmware);
  }
  return GW_OK;
}

/* ---- KNX ---------------------------------------------------------------- */

static void on_pump_timer(uv_timer_t *t)
{
  pump(t->data);
}

static void pump(gw_app *app)
{
  if (!app->bridge)
    return;
  /* The loop time is that of the last wake-up: after slow handlers it is
   * behind, and telegrams stamped too early would crowd the rate limit. */
  uv_update_time(app->loop);
  uint64_t now = now_ms(app);
  uint64_t next = gw_bridge_pump(app->bridge, now);
  if (!next) {
    uv_timer_stop(&app->pump_timer);
    return;
  }
  uv_timer_start(&app->pump_timer, on_pump_timer, next > now ? next - now : 1, 0);
}

static void on_knx_state(void *ud, knx_link_state state)
{
  gw_app *app = ud;
  if (state == KNX_LINK_UP)
    gw_log(GW_LOG_INFO, NULL, "knxd link up (%s)", app->cfg->knx_url);
  else
    gw_log(GW_LOG_WARN, NULL, "knxd link down (%s): %s; retrying",
           app->cfg->knx_url, knx_link_last_error(app->knx));
  gw_bridge_on_knx_link(app->bridge, state == KNX_LINK_UP, now_ms(app));
  update_status(app);
  gw_energy_on_knx_link(app->energy, state == KNX_LINK_UP, now_ms(app));
  pump(app);
  gw_web_changed(app->web);
}

static void on_knx_group(void *ud, uint16_t src, uint16_t dst, knx_service svc,
                         const knx_payload *p)
{
  gw_app *app = ud;
  if (gw_energy_on_knx_group(app->energy, dst, svc, p, now_ms(app)))
    energy_pump(app);
  gw_bridge_on_knx_group(app->bridge, src, dst, svc, p, now_ms(app));
  pump(app);
  gw_web_changed(app->web);
}

/* ---- energy manager ----------------------------------------------------- */

static void on_energy_timer(uv_timer_t *t)
{
  gw_app *app = t->data;
  energy_pump(app);
  pump(app);
}

/* The manager's results queue commands and telegrams: the bridge pump
 * follows every call of this. */
static void energy_pump(gw_app *app)
{
  if (!app->energy)
    return;
  uv_update_time(app->loop);
  uint64_t now = now_ms(app);
  uint64_t next = gw_energy_pump(app->energy, now);
  if (!next) {
    uv_timer_stop(&app->energy_timer);
    return;
  }
  uv_timer_start(&app->energy_timer, on_energy_timer,
                 next > now ? next - now : 1, 0);
}

static void en_set_limit(void *ud, const char *charger_id, int connector,
                         double amps)
{
  gw_app *app = ud;
  int rc = gw_bridge_set_limit(app->bridge, charger_id, connector, amps);
  if (rc != GW_OK)
    gw_log(GW_LOG_WARN, charger_id, "connector %d: energy limit %g A not "
           "sent: %s", connector, amps, gw_strerror(rc));
}

static void en_publish(void *ud, const char *charger_id, int connector,
                       gw_object obj, double value)
{
  gw_app *app = ud;
  gw_bridge_publish_value(app->bridge, charger_id, connector, obj, value);
}

static void en_send(void *ud, uint16_t ga, knx_dpt dpt, double value,
                    bool response)
{
  gw_app *app = ud;
  gw_bridge_send_value(app->bridge, ga, dpt, value, response);
}

static int en_transaction(void *ud, const char *charger_id, int connector,
                          ocpp_transaction_info *out)
{
  gw_app *app = ud;
  return ocpp_server_transaction(app->ocpp, charger_id, connector, out);
}

static void en_log(void *ud, gw_log_level level, const char *charger_id,
                   const char *message)
{
  (void)ud;
  gw_log_line(level, charger_id, message);
}

static const gw_energy_ops energy_ops = {
  .set_limit = en_set_limit,
  .publish = en_publish,
  .send = en_send,
  .transaction = en_transaction,
  .log = en_log,
};

/* The interval managed chargers are asked for (ChangeConfiguration of
 * MeterValueSampleInterval after boot). */
static int sample_interval_of(const gw_conf *c)
{
  if (c->energy.enabled && c->meter_sample_interval > ENERGY_SAMPLE_MAX_S)
    return ENERGY_SAMPLE_MAX_S;
  return c->meter_sample_interval;
}

/* ---- bridge ops --------------------------------------------------------- */

static int op_knx_send(void *ud, uint16_t ga, knx_service svc,
                       const knx_payload *p)
{
  gw_app *app = ud;
  return knx_link_send(app->knx, ga, svc, p);
}

static int op_command(void *ud, const char *charger_id,
                      const ocpp_command *cmd, ocpp_command_cb cb, void *cb_data)
{
  gw_app *app = ud;
  return ocpp_server_command(app->ocpp, charger_id, cmd, cb, cb_data);
}

static int op_transaction(void *ud, const char *charger_id, int connector,
                          ocpp_transaction_info *out)
{
  gw_app *app = ud;
  return ocpp_server_transaction(app->ocpp, charger_id, connector, out);
}

/* A command result changes what the bridge wants on the bus (the true
 * state after a rejection). */
static void op_wake(void *ud)
{
  gw_app *app = ud;
  pump(app);
  gw_web_changed(app->web);
}

static void op_energy_write(void *ud, const char *charger_id, int connector,
                            gw_object obj, double value)
{
  gw_app *app = ud;
  gw_energy_on_write(app->energy, charger_id, connector, obj, value,
                     now_ms(app));
  energy_pump(app);
}

static const gw_bridge_ops bridge_ops = {
  .knx_send = op_knx_send,
  .command = op_command,
  .transaction = op_transaction,
  .wake = op_wake,
  .log = en_log,
};

/* ---- status page -------------------------------------------------------- */

/* The status object of /status and the page: the OCPP side's, with what
 * the daemon, the knxd link and the bridge add. */
static json_t *status_json(void *ud)
{
  gw_app *app = ud;
  json_t *st = ocpp_server_status(app->ocpp);
  if (!st)
    return NULL;
  gw_uplinks_status(app->uplinks, json_object_get(st, "chargers"));
  json_object_set_new(st, "version", json_string(OCPPKNX_VERSION));
  json_object_set_new(st, "uptime_s",
                      json_integer((json_int_t)(time(NULL) - app->started)));
  json_object_set_new(st, "knx", json_pack(
    "{s:s,s:s,s:s,s:I}", "url", app->cfg->knx_url, "state",
    knx_link_get_state(app->knx) == KNX_LINK_UP ? "up" : "down", "last_error",
    knx_link_last_error(app->knx), "telegrams_sent",
    (json_int_t)gw_bridge_telegrams_sent(app->bridge)));
  json_object_set_new(st, "store", json_pack(
    "{s:s,s:b}", "dir", app->cfg->store_dir, "writable", !app->store_failing));
  if (app->energy)
    json_object_set_new(st, "energy", gw_energy_status(app->energy));
  gw_web_add_bridge(st, app->bridge, now_ms(app), time(NULL));
  return st;
}

static int on_http_get(void *ud, const char *path, ocpp_http_answer *answer)
{
  gw_app *app = ud;
  return app->web ? gw_web_http_get(app->web, path, answer) : GW_ENOTFOUND;
}

/* ---- signals and shutdown ----------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
  (void)h;
}

static void close_app_handles(gw_app *app)
{
  gw_web_destroy(app->web);
  app->web = NULL;
  uv_handle_t *hs[] = {
    (uv_handle_t *)&app->pump_timer, (uv_handle_t *)&app->flush_timer,
    (uv_handle_t *)&app->energy_timer,
    (uv_handle_t *)&app->sig_term, (uv_handle_t *)&app->sig_int,
    (uv_handle_t *)&app->sig_hup};
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], on_handle_closed);
  gw_notify_destroy(app->notify);
  app->notify = NULL;
}

static void on_knx_closed(void *ud)
{
  (void)ud;
}

static void on_ocpp_closed(void *ud)
{
  gw_app *app = ud;
  app->ocpp = NULL;
  app->rotate.ocpp = NULL;
  gw_control_stop(app->control);
  app->control = NULL;
  /* every pending command callback has run: the bridge can go */
  gw_energy_destroy(app->energy);
  app->energy = NULL;
  gw_bridge_destroy(app->bridge);
  app->bridge = NULL;
  knx_link_destroy(app->knx, on_knx_closed);
  app->knx = NULL;
  close_app_handles(app);
}

static void stop_app(gw_app *app, const char *why)
{
  if (app->stopping)
    return;
  app->stopping = true;
  gw_notify_stopping(app->notify, why);
  gw_log(GW_LOG_INFO, NULL, "%s: shutting down", why);
  /* the page goes first: nothing pushes to streams that are closing */
  gw_web_destroy(app->web);
  app->web = NULL;
  gw_uplinks_destroy(app->uplinks);
  app->uplinks = NULL;
  ocpp_server_destroy(app->ocpp, on_ocpp_closed);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
  stop_app(s->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* A tag the reloaded list no longer accepts may still be in a charger's
 * own authorization cache: the charger is told to forget its cache. */
static void clear_lost_tags(gw_app *app, const gw_charger_conf *chargers,
                            size_t n)
{
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    const gw_charger_conf *old = NULL;
    for (size_t j = 0; j < app->cfg->n_chargers && !old; j++)
      if (strcmp(app->cfg->chargers[j].id, chargers[i].id) == 0)
        old = &app->cfg->chargers[j];
    if (!old || !gw_tags_lost(old->tag_list, chargers[i].tag_list,
                              chargers[i].tag_match, now))
      continue;
    if (!ocpp_server_is_online(app->ocpp, chargers[i].id)) {
      gw_log(GW_LOG_INFO, chargers[i].id, "tag list lost a tag; offline, its "
             "authorization cache is not cleared");
      continue;
    }
    ocpp_command cmd = {.kind = OCPP_CMD_CLEAR_CACHE};
    int rc = ocpp_server_command(app->ocpp, chargers[i].id, &cmd, NULL, NULL);
    gw_log(rc == OCPP_OK ? GW_LOG_INFO : GW_LOG_WARN, chargers[i].id,
           "tag list lost a tag: ClearCache %s", rc == OCPP_OK ? "sent"
                                                             : ocpp_strerror(rc));
  }
}

static void reload_chargers(gw_app *app)
{
  gw_charger_conf *chargers = NULL;
  size_t n = 0;
  gw_conf_diag diag = {0};
  int rc = gw_conf_load_chargers(app->cfg, &chargers, &n, &diag);
  if (rc != GW_OK) {
    for (size_t i = 0; i < diag.n; i++)
      gw_log(GW_LOG_ERROR, NULL, "%s", diag.lines[i]);
    gw_log(GW_LOG_ERROR, NULL, "SIGHUP: charger files not reloaded");
    gw_conf_diag_finish(&diag);
    return;
  }
  gw_conf_diag_finish(&diag);
  rc = gw_rotate_apply_stored(app->store, chargers, n);
  if (rc != GW_OK) {
    gw_log(GW_LOG_ERROR, NULL, "SIGHUP: charger files not reloaded: rotated "
           "passwords: %s (%s)", gw_strerror(rc), gw_store_last_error(app->store));
    gw_conf_chargers_free(chargers, n);
    return;
  }
  ocpp_charger_options *opts = ocpp_options_of(chargers, n);
  int orc = opts ? ocpp_server_set_chargers(app->ocpp, opts, n) : OCPP_ENOMEM;
  int brc = orc == OCPP_OK ? gw_bridge_set_chargers(app->bridge, chargers, n)
                           : GW_OK;
  if (brc == GW_OK && orc == OCPP_OK && app->energy) {
    int erc = gw_energy_set_chargers(app->energy, chargers, n, now_ms(app));
    if (erc != GW_OK)
      gw_log(GW_LOG_ERROR, NULL, "SIGHUP: energy manager keeps the old "
             "chargers: %s", gw_strerror(erc));
  }
  if (orc != OCPP_OK || brc != GW_OK) {
    /* the ocpp server copied what it needs; a half update is still
     * consistent per module, but say so */
    if (orc != OCPP_OK)
      gw_log(GW_LOG_ERROR, NULL, "SIGHUP: chargers not reloaded: ocpp: %s",
             ocpp_strerror(orc));
    else
      gw_log(GW_LOG_ERROR, NULL, "SIGHUP: OCPP side reloaded, KNX side not: "
             "bridge: %s", gw_strerror(brc));
    free(opts);
    gw_conf_chargers_free(chargers, n);
    return;
  }
  if (gw_uplinks_reload(app->uplinks, chargers, n) != GW_OK)
    gw_log(GW_LOG_ERROR, NULL, "SIGHUP: backend links not reloaded");
  clear_lost_tags(app, chargers, n);
  free(app->charger_opts);
  app->charger_opts = opts;
  app->n_charger_opts = n;
  gw_conf_chargers_free(app->cfg->chargers, app->cfg->n_chargers);
  app->cfg->chargers = chargers;
  app->cfg->n_chargers = n;
  gw_log(GW_LOG_INFO, NULL, "SIGHUP: %zu charger files loaded", n);
  update_status(app);
  energy_pump(app);
  pump(app);
}

static void on_hup(uv_signal_t *s, int signum)
{
  (void)signum;
  reload_chargers(s->data);
}

/* ---- start -------------------------------------------------------------- */

static int start_notify(gw_app *app)
{
  uint64_t watchdog_ms = 0;
  int rc = gw_notify_create(app->loop, &app->notify, &watchdog_ms);
  if (rc != GW_OK)
    gw_log(GW_LOG_ERROR, NULL, "systemd: %s",
           rc == GW_EINVAL ? "WATCHDOG_USEC cannot be read" : gw_strerror(rc));
  else if (watchdog_ms)
    gw_log(GW_LOG_INFO, NULL, "systemd watchdog: a kick every %llu ms",
           (unsigned long long)watchdog_ms);
  return rc;
}

static int start_store(gw_app *app)
{
  int rc = gw_store_open(app->cfg->store_dir, &app->store);
  if (rc != GW_OK) {
    gw_log(GW_LOG_ERROR, NULL, "store: cannot open %s/ocppknx.db: %s",
           app->cfg->store_dir,
           rc == GW_ESCHEMA ? "written by a newer ocppknxd"
                                  : gw_store_last_error(app->store));
    gw_store_close(app->store);
    app->store = NULL;
    return GW_EOPEN;
  }
  gw_store_set_tag_namer(app->store, store_tag_name, app);
  rc = gw_rotate_apply_stored(app->store, app->cfg->chargers,
                              app->cfg->n_chargers);
  if (rc != GW_OK) {
    gw_log(GW_LOG_ERROR, NULL, "store: cannot read the rotated passwords: %s",
           gw_store_last_error(app->store));
    return GW_EOPEN;
  }
  return GW_OK;
}

static int start_ocpp(gw_app *app)
{
  const gw_conf *c = app->cfg;
  ocpp_server_options o = {
    .listen = c->listen,
    .tls_listen = c->tls_listen,
    .tls_cert = c->tls_cert,
    .tls_key = c->tls_key,
    .tls_ca = c->tls_ca,
    .heartbeat_interval = c->heartbeat_interval,
    .call_timeout = c->call_timeout,
    .accept_unknown = c->accept_unknown,
    .trace = c->trace_ocpp,
    .max_message_size = (size_t)c->max_message_size,
    .meter_sample_interval = sample_interval_of(c),
    .http_password = c->status_password,
  };
  ocpp_callbacks cb = {
    .on_event = on_ocpp_event,
    .on_log = on_ocpp_log,
    .http_get = on_http_get,
    .store = {.begin_transaction = hook_begin, .find_transaction = hook_find,
              .lookup_tag = hook_lookup_tag,
              .find_charger_transaction = hook_find_charger_tx},
    .authorize = hook_authorize,
  };
  app->charger_opts = ocpp_options_of(c->chargers, c->n_chargers);
  app->n_charger_opts = c->n_chargers;
  if (!app->charger_opts)
    return GW_ENOMEM;
  char err[256];
  int rc = ocpp_server_create(app->loop, &o, app->charger_opts,
                              app->n_charger_opts, &cb, app, &app->ocpp, err,
                              sizeof err);
  if (rc != OCPP_OK) {
    gw_log(GW_LOG_ERROR, NULL, "ocpp: %s", err[0] ? err : ocpp_strerror(rc));
    return GW_EOCPP;
  }
  gw_web_set_sources(app->web, &(gw_web_sources){
    .ocpp = app->ocpp, .store = app->store, .status = status_json,
    .user_data = app});
  if (c->listen && c->listen[0])
    gw_log(GW_LOG_INFO, NULL, "listening for chargers on ws://%s", c->listen);
  if (c->tls_listen && c->tls_listen[0])
    gw_log(GW_LOG_INFO, NULL, "listening for chargers on wss://%s", c->tls_listen);
  return GW_OK;
}

static void on_rotate_request(void *ud, const char *charger_id,
                              gw_control_request *req)
{
  gw_app *app = ud;
  gw_rotate_password(&app->rotate, charger_id, req);
}

/* The control socket is for the installer: without it chargers are still
 * served, so a failure is only logged. */
static void start_control(gw_app *app)
{
  static const gw_control_ops ops = {.rotate_password = on_rotate_request};
  app->rotate = (gw_rotate_env){.cfg = app->cfg, .store = app->store,
                                .ocpp = app->ocpp};
  char path[4200], err[256] = "";
  snprintf(path, sizeof path, "%s/%s", app->cfg->store_dir, GW_CONTROL_SOCKET);
  int rc = gw_control_start(app->loop, path, &ops, app, &app->control, err,
                            sizeof err);
  if (rc != GW_OK)
    gw_log(GW_LOG_WARN, NULL, "control socket: %s; --rotate-password will "
           "not reach this daemon", err[0] ? err : gw_strerror(rc));
}

static int start_knx(gw_app *app)
{
  static const knx_link_callbacks cb = {.on_state = on_knx_state,
                                        .on_group = on_knx_group};
  gw_bridge_ops ops = bridge_ops;
  if (app->cfg->energy.enabled)
    ops.energy_write = op_energy_write;
  int rc = gw_bridge_create(app->cfg->chargers, app->cfg->n_chargers,
                            app->cfg->max_telegrams_per_second, &ops,
                            app, &app->bridge);
  if (rc != GW_OK) {
    gw_log(GW_LOG_ERROR, NULL, "bridge: %s", gw_strerror(rc));
    return rc;
  }
  if (app->cfg->energy.enabled) {
    rc = gw_energy_create(app->cfg, sample_interval_of(app->cfg), &energy_ops,
                          app, &app->energy);
    if (rc != GW_OK) {
      gw_log(GW_LOG_ERROR, NULL, "energy manager: %s", gw_strerror(rc));
      return rc;
    }
    gw_log(GW_LOG_INFO, NULL, "energy manager: %g A main fuse, %zu chargers",
           app->cfg->energy.main_fuse, app->cfg->n_chargers);
  }
  rc = knx_link_create(app->loop, app->cfg->knx_url, &cb, app, &app->knx);
  if (rc != KNX_OK) {
    gw_log(GW_LOG_ERROR, NULL, "knx: %s", knx_strerror(rc));
    return GW_EKNX;
  }
  /* the link reports changes only; say why the bus is quiet from the start */
  if (knx_link_get_state(app->knx) != KNX_LINK_UP)
    gw_log(GW_LOG_WARN, NULL, "knxd not reachable (%s): %s; retrying",
           app->cfg->knx_url, knx_link_last_error(app->knx));
  return GW_OK;
}

static void init_handles(gw_app *app)
{
  uv_timer_init(app->loop, &app->pump_timer);
  uv_timer_init(app->loop, &app->flush_timer);
  uv_timer_init(app->loop, &app->energy_timer);
  app->pump_timer.data = app->flush_timer.data = app->energy_timer.data = app;
  uv_signal_init(app->loop, &app->sig_term);
  uv_signal_init(app->loop, &app->sig_int);
  uv_signal_init(app->loop, &app->sig_hup);
  app->sig_term.data = app->sig_int.data = app->sig_hup.data = app;
  uv_signal_start(&app->sig_term, on_stop_signal, SIGTERM);
  uv_signal_start(&app->sig_int, on_stop_signal, SIGINT);
  uv_signal_start(&app->sig_hup, on_hup, SIGHUP);
  if (gw_web_create(app->loop, app->cfg->status_password != NULL,
                    &app->web) != GW_OK)
    gw_log(GW_LOG_ERROR, NULL, "status page: out of memory");
}

static void teardown(gw_app *app)
{
  gw_uplinks_destroy(app->uplinks);
  app->uplinks = NULL;
  gw_control_stop(app->control);
  app->control = NULL;
  app->rotate.ocpp = NULL;
  if (app->ocpp)
    ocpp_server_destroy(app->ocpp, NULL);
  app->ocpp = NULL;
  gw_energy_destroy(app->energy);
  app->energy = NULL;
  gw_bridge_destroy(app->bridge);
  app->bridge = NULL;
  knx_link_destroy(app->knx, NULL);
  app->knx = NULL;
  close_app_handles(app);
  uv_run(app->loop, UV_RUN_DEFAULT);
}

/* One descriptor per charger: an apartment building's worth needs more
 * than the usual soft limit of 1024, and the hard limit allows it. */
static void raise_fd_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    gw_log(GW_LOG_DEBUG, NULL, "open files limit raised from %llu to %llu",
           (unsigned long long)was, (unsigned long long)rl.rlim_cur);
}

int gw_app_run(gw_conf *cfg)
{
  gw_app app = {.cfg = cfg, .started = time(NULL)};
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0)
    return GW_ENOMEM;
  app.loop = &loop;
  /* libeibclient writes with write(): a dead knxd must not kill us; a
   * file-size limit must fail the store's writes, not end the process */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  raise_fd_limit();
  init_handles(&app);
  int rc = start_notify(&app);
  if (rc == GW_OK)
    rc = start_store(&app);
  if (rc == GW_OK)
    rc = start_ocpp(&app);
  if (rc == GW_OK)
    start_control(&app);
  if (rc == GW_OK)
    rc = start_knx(&app);
  if (rc == GW_OK)
    rc = start_uplinks(&app);
  if (rc != GW_OK) {
    teardown(&app);
  } else {
    gw_log(GW_LOG_INFO, NULL, "ocppknxd %s running: %zu chargers, knxd %s",
           OCPPKNX_VERSION, cfg->n_chargers, cfg->knx_url);
    gw_notify_summary s;
    summarize(&app, &s);
    gw_notify_ready(app.notify, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  if (app.store && gw_store_flush(app.store) != GW_OK &&
      gw_store_has_deferred(app.store))
    gw_log(GW_LOG_ERROR, NULL,
           "store: exiting while %s cannot be written: the sessions kept in "
           "memory since then are lost (%s)",
           cfg->store_dir, gw_store_last_error(app.store));
  gw_store_close(app.store);
  free(app.charger_opts);
  int closed = uv_loop_close(&loop);
  if (closed != 0)
    gw_log(GW_LOG_WARN, NULL, "event loop closed with handles open");
  return rc;
}
