/* The energy manager's life, its connector map and its pump: the engine
 * runs at most once per second after an input changed, or when one of its
 * holds, guards or staleness ends; what it decides goes to the ops. */
#include "gateway/energy_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "at most once per second" */
static const uint64_t GW_EN_STEP_MS = 1000;
/* headroom_state is sent when it moved this much (A) */
static const double GW_EN_HEADROOM_STEP = 0.5;

void gw__en_log(const gw_energy *en, gw_log_level level,
                const char *charger_id, const char *fmt, ...)
{
  if (!en->ops.log)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  en->ops.log(en->user_data, level, charger_id, msg);
}

long gw__en_find(const gw_energy *en, const char *charger_id, int connector)
{
  for (size_t i = 0; charger_id && i < en->n; i++) {
    if (en->conn[i].connector == connector &&
        strcmp(en->conn[i].charger_id, charger_id) == 0)
      return (long)i;
  }
  return -1;
}

em_mode gw__en_mode(const gw_en_conn *c)
{
  if (c->paused_by_knx)
    return EM_MODE_OFF;
  return c->session_mode_set ? c->session_mode : c->conn_mode;
}

void gw__en_apply_mode(gw_energy *en, size_t i)
{
  em_set_mode(en->em, i, gw__en_mode(&en->conn[i]));
  en->dirty = true;
}

/* ---- the connector map --------------------------------------------------- */

static void conn_finish(gw_en_conn *c)
{
  free(c->charger_id);
  for (size_t k = 0; k < c->n_tag_modes; k++)
    free(c->tag_mode_tags[k]);
  free(c->tag_mode_tags);
  free(c->tag_mode_modes);
}

static void map_free(gw_en_conn *conn, size_t n)
{
  for (size_t i = 0; conn && i < n; i++)
    conn_finish(&conn[i]);
  free(conn);
}

static int conn_init(gw_en_conn *c, const gw_charger_conf *ch, int connector)
{
  *c = (gw_en_conn){
    .connector = connector,
    .normal_current = ch->normal_current,
    .fast_current = ch->fast_current,
    .phases = ch->phases,
    .tag_match = ch->tag_match,
    .conn_mode = ch->mode,
  };
  c->charger_id = strdup(ch->id ? ch->id : "");
  size_t n = ch->n_tag_modes;
  c->tag_mode_tags = calloc(n ? n : 1, sizeof *c->tag_mode_tags);
  c->tag_mode_modes = calloc(n ? n : 1, sizeof *c->tag_mode_modes);
  if (!c->charger_id || !c->tag_mode_tags || !c->tag_mode_modes)
    return GW_ENOMEM;
  for (; c->n_tag_modes < n; c->n_tag_modes++) {
    size_t k = c->n_tag_modes;
    if (!(c->tag_mode_tags[k] = strdup(ch->tag_mode_tags[k])))
      return GW_ENOMEM;
    c->tag_mode_modes[k] = ch->tag_mode_modes[k];
  }
  return GW_OK;
}

static em_connector_config engine_connector(const gw_charger_conf *ch,
                                            int sample_interval_s)
{
  return (em_connector_config){
    .priority = ch->priority,
    .min_current = ch->min_current,
    .max_current = ch->fast_current > ch->min_current ? ch->fast_current
                                                      : ch->min_current,
    .phase_mask = ch->phases == 1 ? 1u : 7u,
    /* half an interval of slack: a reading a little late is not unknown */
    .draw_valid_ms = (uint64_t)sample_interval_s * 1500,
  };
}

static em_config engine_config(const gw_energy_conf *c,
                               const gw_charger_conf *chargers, size_t n)
{
  em_config ec;
  em_config_default(&ec);
  ec.main_fuse = c->main_fuse;
  ec.safe_current = c->safe_current;
  ec.stale_after_ms = (uint64_t)c->stale_after * 1000;
  double scale = c->test_time_scale >= 1 ? c->test_time_scale : 1;
  ec.raise_hold_ms = (uint64_t)(ec.raise_hold_ms / scale);
  ec.rate_limit_ms = (uint64_t)(ec.rate_limit_ms / scale);
  ec.restart_guard_ms = (uint64_t)(ec.restart_guard_ms / scale);
  ec.pv_start_ms = (uint64_t)(ec.pv_start_ms / scale);
  ec.pv_stop_ms = (uint64_t)(ec.pv_stop_ms / scale);
  if (n > 0)
    ec.voltage = chargers[0].voltage;
  return ec;
}

/* A new engine and map for chargers; nothing of en changes on failure. */
static int build(const gw_energy *en, const gw_charger_conf *chargers,
                 size_t n, em_engine **em_out, gw_en_conn **map_out,
                 size_t *n_out)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += chargers[i].n_connectors;
  gw_en_conn *map = calloc(total ? total : 1, sizeof *map);
  em_connector_config *cc = calloc(total ? total : 1, sizeof *cc);
  em_config ec = engine_config(&en->cfg, chargers, n);
  em_engine *em = NULL;
  int rc = map && cc ? GW_OK : GW_ENOMEM;
  if (rc == GW_OK && em_create(&ec, &em) != EM_OK)
    rc = GW_EINVAL;
  size_t k = 0;
  for (size_t i = 0; rc == GW_OK && i < n; i++) {
    for (size_t j = 0; rc == GW_OK && j < chargers[i].n_connectors; j++) {
      cc[k] = engine_connector(&chargers[i], en->sample_interval_s);
      rc = conn_init(&map[k], &chargers[i], chargers[i].connectors[j].id);
      k++;
    }
  }
  if (rc == GW_OK) {
    int erc = em_set_connectors(em, cc, total);
    rc = erc == EM_OK ? GW_OK : erc == EM_ENOMEM ? GW_ENOMEM : GW_EINVAL;
  }
  for (size_t i = 0; rc == GW_OK && i < total; i++)
    em_set_mode(em, i, map[i].conn_mode);
  free(cc);
  if (rc != GW_OK) {
    em_destroy(em);
    map_free(map, k);
    return rc;
  }
  *em_out = em;
  *map_out = map;
  *n_out = total;
  return GW_OK;
}

int gw_energy_create(const gw_conf *cfg, int sample_interval_s,
                     const gw_energy_ops *ops, void *user_data,
                     gw_energy **out)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!cfg || !cfg->energy.enabled || !ops || !ops->set_limit ||
      !ops->publish || !ops->send || sample_interval_s <= 0)
    return GW_EINVAL;
  gw_energy *en = calloc(1, sizeof *en);
  if (!en)
    return GW_ENOMEM;
  en->ops = *ops;
  en->user_data = user_data;
  en->cfg = cfg->energy;
  en->sample_interval_s = sample_interval_s;
  int rc = build(en, cfg->chargers, cfg->n_chargers, &en->em, &en->conn,
                 &en->n);
  if (rc != GW_OK) {
    free(en);
    return rc;
  }
  en->dirty = true;
  *out = en;
  return GW_OK;
}

void gw_energy_destroy(gw_energy *en)
{
  if (!en)
    return;
  em_destroy(en->em);
  map_free(en->conn, en->n);
  free(en);
}

/* A reload's engine knows nothing yet: the readings and the transactions
 * that run now. */
static void refill(gw_energy *en)
{
  for (int p = 0; p < 3; p++) {
    if (en->has_grid[p])
      em_set_grid_current(en->em, p, en->grid[p], en->grid_at[p]);
  }
  if (en->has_power)
    em_set_grid_power(en->em, en->power, en->power_at);
  em_set_cheap(en->em, en->cheap);
  for (size_t i = 0; en->ops.transaction && i < en->n; i++) {
    ocpp_transaction_info tx;
    if (en->ops.transaction(en->user_data, en->conn[i].charger_id,
                            en->conn[i].connector, &tx) == 0 &&
        tx.transaction_id != 0)
      em_set_session(en->em, i, true, en->last_step);
  }
}

int gw_energy_set_chargers(gw_energy *en, const gw_charger_conf *chargers,
                           size_t n, uint64_t now_ms)
{
  if (!en || (!chargers && n > 0))
    return GW_EINVAL;
  em_engine *em;
  gw_en_conn *map;
  size_t total;
  int rc = build(en, chargers, n, &em, &map, &total);
  if (rc != GW_OK)
    return rc;
  for (size_t i = 0; i < total; i++) {
    long old = gw__en_find(en, map[i].charger_id, map[i].connector);
    if (old >= 0)
      map[i].conn_mode = en->conn[old].conn_mode;
  }
  em_destroy(en->em);
  map_free(en->conn, en->n);
  en->em = em;
  en->conn = map;
  en->n = total;
  for (size_t i = 0; i < total; i++)
    gw__en_apply_mode(en, i);
  en->last_step = now_ms;
  refill(en);
  en->dirty = true;
  return GW_OK;
}

/* ---- the pump ------------------------------------------------------------ */

static void note_stale(gw_energy *en, const em_summary *sum)
{
  if (sum->stale && !en->stale_logged) {
    en->stale_logged = true;
    gw__en_log(en, GW_LOG_WARN, NULL, "energy: grid current missing or older "
               "than %d s (stale meter): %g A for every charging connector",
               en->cfg.stale_after, en->cfg.safe_current);
  } else if (!sum->stale && en->stale_logged) {
    en->stale_logged = false;
    gw__en_log(en, GW_LOG_INFO, NULL, "energy: grid meter back");
  }
}

static void send_headroom(gw_energy *en, const em_summary *sum, bool force)
{
  if (!en->cfg.headroom_state.set)
    return;
  double h = floor(sum->headroom * 10 + 1e-6) / 10;
  if (!force && en->headroom_sent &&
      fabs(h - en->headroom) < GW_EN_HEADROOM_STEP)
    return;
  en->headroom_sent = true;
  en->headroom = h;
  en->ops.send(en->user_data, en->cfg.headroom_state.ga,
               en->cfg.grid_current_dpt, h, false);
}

static void hand_out(gw_energy *en, size_t i)
{
  const gw_en_conn *c = &en->conn[i];
  em_allocation a;
  if (em_get(en->em, i, &a) != EM_OK)
    return;
  if (a.send && a.limit >= 0) {
    gw__en_log(en, GW_LOG_INFO, c->charger_id, "connector %d: energy: %g A "
               "(%s, mode %s)", c->connector, a.limit,
               em_reason_name(a.reason), em_mode_name(a.mode));
    en->ops.set_limit(en->user_data, c->charger_id, c->connector, a.limit);
  }
  en->ops.publish(en->user_data, c->charger_id, c->connector,
                  GW_OBJ_ALLOCATED_CURRENT_STATE,
                  a.active && a.limit > 0 ? a.limit : 0);
  en->ops.publish(en->user_data, c->charger_id, c->connector,
                  GW_OBJ_CHARGE_MODE_STATE, (double)gw__en_mode(c));
}

static void step(gw_energy *en, uint64_t now_ms)
{
  em_step(en->em, now_ms);
  en->dirty = false;
  en->stepped = true;
  en->last_step = now_ms;
  em_summary sum;
  em_get_summary(en->em, &sum);
  note_stale(en, &sum);
  for (size_t i = 0; i < en->n; i++)
    hand_out(en, i);
  send_headroom(en, &sum, false);
}

uint64_t gw_energy_pump(gw_energy *en, uint64_t now_ms)
{
  if (!en)
    return 0;
  uint64_t due = em_next_deadline(en->em);
  bool paced = !en->stepped || now_ms >= en->last_step + GW_EN_STEP_MS;
  if ((en->dirty && paced) || (due && now_ms >= due))
    step(en, now_ms);
  uint64_t next = em_next_deadline(en->em);
  if (en->dirty) {
    uint64_t paced_at = en->last_step + GW_EN_STEP_MS;
    if (!next || paced_at < next)
      next = paced_at;
  }
  return next;
}

void gw_energy_on_knx_link(gw_energy *en, bool up, uint64_t now_ms)
{
  (void)now_ms;
  if (!en || !up)
    return;
  em_summary sum;
  em_get_summary(en->em, &sum);
  if (en->stepped)
    send_headroom(en, &sum, true);
}
