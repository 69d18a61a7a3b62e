/* The engine's life and its inputs: every setter only records, em_step
 * decides. */
#include "energy/em_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void em_config_default(em_config *c)
{
  if (!c)
    return;
  *c = (em_config){
    .main_fuse = 25,
    .safe_current = 6,
    .stale_after_ms = 60000,
    .raise_hold_ms = 30000,
    .rate_limit_ms = 10000,
    .restart_guard_ms = 300000,
    .pv_start_ms = 60000,
    .pv_stop_ms = 300000,
    .change_threshold = 0.5,
    .voltage = 230,
  };
}

static bool config_valid(const em_config *c)
{
  return isfinite(c->main_fuse) && c->main_fuse > 0 &&
         isfinite(c->safe_current) && c->safe_current >= 0 &&
         isfinite(c->change_threshold) && c->change_threshold >= 0 &&
         isfinite(c->voltage) && c->voltage > 0 && c->stale_after_ms > 0;
}

int em_create(const em_config *c, em_engine **out)
{
  if (!out)
    return EM_EINVAL;
  *out = NULL;
  if (!c || !config_valid(c))
    return EM_EINVAL;
  em_engine *e = calloc(1, sizeof *e);
  if (!e)
    return EM_ENOMEM;
  e->cfg = *c;
  *out = e;
  return EM_OK;
}

void em_destroy(em_engine *e)
{
  if (!e)
    return;
  free(e->conn);
  free(e->order);
  free(e->alloc);
  free(e->mark);
  free(e);
}

static bool connector_valid(const em_connector_config *c)
{
  return c->priority >= 1 && c->priority <= 10 && isfinite(c->min_current) &&
         c->min_current > 0 && isfinite(c->max_current) &&
         c->max_current >= c->min_current && c->phase_mask >= 1 &&
         c->phase_mask <= 7;
}

static void conn_idle(em_conn *c)
{
  c->active = false;
  c->has_draw = false;
  c->seen_mask = 0;
  c->limit = -1;
  c->started = false;
  c->has_pause = false;
  c->raising = false;
  c->pv_on = c->pv_ok = c->pv_short = false;
  c->target = 0;
  c->reason = EM_REASON_IDLE;
  c->send = false;
}

int em_set_connectors(em_engine *e, const em_connector_config *c, size_t n)
{
  if (!e || (!c && n > 0))
    return EM_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (!connector_valid(&c[i]))
      return EM_EINVAL;
  }
  size_t cap = n ? n : 1;
  em_conn *nc = calloc(cap, sizeof *nc);
  size_t *order = calloc(cap, sizeof *order);
  double *alloc = calloc(cap, sizeof *alloc);
  unsigned char *mark = calloc(cap, sizeof *mark);
  if (!nc || !order || !alloc || !mark) {
    free(nc);
    free(order);
    free(alloc);
    free(mark);
    return EM_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    if (i < e->n) {
      nc[i] = e->conn[i];
    } else {
      conn_idle(&nc[i]);
      nc[i].mode = EM_MODE_NOW;
      nc[i].wish = c[i].max_current;
      nc[i].cap = -1;
    }
    nc[i].cfg = c[i];
  }
  free(e->conn);
  free(e->order);
  free(e->alloc);
  free(e->mark);
  e->conn = nc;
  e->order = order;
  e->alloc = alloc;
  e->mark = mark;
  e->n = n;
  return EM_OK;
}

size_t em_connector_count(const em_engine *e)
{
  return e ? e->n : 0;
}

int em_set_grid_current(em_engine *e, int phase, double amps, uint64_t now_ms)
{
  if (!e || phase < 0 || phase >= EM_PHASES || !isfinite(amps))
    return EM_EINVAL;
  e->has_grid[phase] = true;
  e->grid[phase] = amps;
  e->grid_at[phase] = now_ms;
  for (size_t i = 0; i < e->n; i++)
    e->conn[i].grid_draw[phase] = em__draw_estimate(&e->conn[i], phase, now_ms);
  return EM_OK;
}

int em_set_grid_power(em_engine *e, double watts, uint64_t now_ms)
{
  if (!e || !isfinite(watts))
    return EM_EINVAL;
  e->has_power = true;
  e->power = watts;
  e->power_at = now_ms;
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    c->power_draw_w = 0;
    for (int p = 0; p < EM_PHASES; p++)
      c->power_draw_w += em__draw_estimate(c, p, now_ms) * e->cfg.voltage;
  }
  return EM_OK;
}

int em_set_cheap(em_engine *e, bool cheap)
{
  if (!e)
    return EM_EINVAL;
  e->cheap = cheap;
  return EM_OK;
}

static em_conn *conn_at(em_engine *e, size_t i, int *rc)
{
  *rc = !e ? EM_EINVAL : i >= e->n ? EM_ERANGE : EM_OK;
  return *rc == EM_OK ? &e->conn[i] : NULL;
}

int em_set_session(em_engine *e, size_t i, bool active, uint64_t now_ms)
{
  (void)now_ms;
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  if (active == c->active)
    return EM_OK;
  conn_idle(c);
  c->active = active;
  return EM_OK;
}

int em_forget_limit(em_engine *e, size_t i)
{
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  c->resend = c->active;
  return EM_OK;
}

int em_set_mode(em_engine *e, size_t i, em_mode mode)
{
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  if ((unsigned)mode >= EM_MODE_COUNT)
    return EM_EINVAL;
  if (mode != c->mode) {
    /* a car that charges when it is switched to a surplus mode goes on
     * until the surplus has been short for pv_stop_ms */
    c->pv_on = c->limit > 0;
    c->pv_ok = c->pv_short = false;
  }
  c->mode = mode;
  return EM_OK;
}

int em_set_wish(em_engine *e, size_t i, double amps)
{
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  if (!isfinite(amps) || amps < 0)
    return EM_EINVAL;
  c->wish = amps;
  return EM_OK;
}

int em_set_cap(em_engine *e, size_t i, double amps)
{
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  if (isnan(amps))
    return EM_EINVAL;
  c->cap = amps < 0 ? -1 : amps;
  return EM_OK;
}

int em_set_draw(em_engine *e, size_t i, const double amps[EM_PHASES],
                uint64_t now_ms)
{
  int rc;
  em_conn *c = conn_at(e, i, &rc);
  if (!c)
    return rc;
  if (!amps)
    return EM_EINVAL;
  for (int p = 0; p < EM_PHASES; p++) {
    if (isinf(amps[p]) || amps[p] < 0)
      return EM_EINVAL;
  }
  /* A car is counted on fewer phases than wired only when every wired
   * phase was measured: a phase not reported may carry current. */
  unsigned drawing = 0;
  bool all_measured = true;
  for (int p = 0; p < EM_PHASES; p++) {
    c->draw[p] = amps[p];
    if (!(c->cfg.phase_mask & (1u << p)))
      continue;
    if (isnan(amps[p]))
      all_measured = false;
    else if (amps[p] > 1.0)
      drawing |= 1u << p;
  }
  if (all_measured && drawing)
    c->seen_mask = drawing;
  else if (!all_measured)
    c->seen_mask = 0;
  c->has_draw = true;
  c->draw_at = now_ms;
  return EM_OK;
}

int em_get(const em_engine *e, size_t i, em_allocation *out)
{
  if (!e || !out)
    return EM_EINVAL;
  if (i >= e->n)
    return EM_ERANGE;
  const em_conn *c = &e->conn[i];
  *out = (em_allocation){
    .active = c->active,
    .mode = c->mode,
    .limit = c->limit,
    .target = c->target,
    .reason = c->reason,
    .send = c->send,
    .phases = c->phases,
  };
  return EM_OK;
}

int em_get_summary(const em_engine *e, em_summary *out)
{
  if (!e || !out)
    return EM_EINVAL;
  *out = e->sum;
  return EM_OK;
}

uint64_t em_next_deadline(const em_engine *e)
{
  return e ? e->next_deadline : 0;
}

int em_step(em_engine *e, uint64_t now_ms)
{
  if (!e)
    return EM_EINVAL;
  e->next_deadline = 0;
  em__targets(e, now_ms);
  em__apply(e, now_ms);
  return EM_OK;
}
