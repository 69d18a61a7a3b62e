/* Targets: what the rules give each connector now, before the hold and
 * the change threshold decide what is sent. The fuse stage is max-min fair
 * per priority: cars of one priority are raised together until they reach
 * their demand or one of their phases is full; a car that would get less
 * than min_current is dropped (the lowest priority first) and the rest
 * shared again. */
#include "energy/em_impl.h"

#include <math.h>
#include <stdlib.h>

static const double EM_EPS = 1e-6;

enum { MARK_CANDIDATE, MARK_FROZEN, MARK_OUT };

int em__popcount(unsigned mask)
{
  int n = 0;
  for (int p = 0; p < EM_PHASES; p++)
    n += (mask >> p) & 1u;
  return n;
}

unsigned em__phases(const em_conn *c)
{
  unsigned seen = c->seen_mask & c->cfg.phase_mask;
  return seen ? seen : c->cfg.phase_mask;
}

static bool fresh(uint64_t at, uint64_t now, uint64_t valid)
{
  return now <= at || now - at <= valid;
}

void em__sort_by_priority(const em_engine *e, size_t *idx, size_t m)
{
  /* insertion sort: few connectors, and stable by index */
  for (size_t i = 1; i < m; i++) {
    size_t v = idx[i];
    size_t j = i;
    while (j > 0 && (e->conn[idx[j - 1]].cfg.priority <
                         e->conn[v].cfg.priority ||
                     (e->conn[idx[j - 1]].cfg.priority ==
                          e->conn[v].cfg.priority &&
                      idx[j - 1] > v))) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = v;
  }
}

/* What a connector is taken to draw on phase p, taken when the grid is
 * read: the base load is the grid reading minus what the connectors drew
 * at that moment, so a car's later reading (it stopped, it followed a
 * raise) does not move it, and a raise on a silent meter cannot feed
 * itself. Unknown or stale counts as 0, so its draw stays in the base load
 * and its allocation comes on top. A reading counts at most with the limit
 * in force (the car has not followed a lowering yet). */
double em__draw_estimate(const em_conn *c, int p, uint64_t now)
{
  if (!c->active || !c->has_draw ||
      !fresh(c->draw_at, now, c->cfg.draw_valid_ms) || isnan(c->draw[p]))
    return 0;
  double d = c->draw[p];
  if (c->limit >= 0 && d > c->limit)
    d = c->limit;
  return d;
}

static void measure(em_engine *e, uint64_t now)
{
  em_summary *s = &e->sum;
  const em_config *cfg = &e->cfg;
  s->stale = false;
  s->cheap = e->cheap;
  for (int p = 0; p < EM_PHASES; p++) {
    if (!e->has_grid[p] || !fresh(e->grid_at[p], now, cfg->stale_after_ms)) {
      s->stale = true;
      s->grid_current[p] = e->has_grid[p] ? e->grid[p] : NAN;
      continue;
    }
    s->grid_current[p] = e->grid[p];
    em__deadline(e, now, e->grid_at[p] + cfg->stale_after_ms + 1);
  }
  double pv_draw_w = 0;
  for (size_t i = 0; i < e->n; i++) {
    if (em__pv_type(e, &e->conn[i]))
      pv_draw_w += e->conn[i].power_draw_w;
  }
  for (int p = 0; p < EM_PHASES; p++) {
    double drawn = 0;
    for (size_t i = 0; i < e->n; i++)
      drawn += e->conn[i].grid_draw[p];
    double base = isnan(s->grid_current[p]) ? 0 : s->grid_current[p] - drawn;
    s->base_load[p] = base > 0 ? base : 0;
    s->budget[p] = cfg->main_fuse - s->base_load[p];
  }
  s->has_power = e->has_power && fresh(e->power_at, now, cfg->stale_after_ms);
  s->grid_power = e->has_power ? e->power : NAN;
  s->surplus_w = s->has_power ? pv_draw_w - e->power : 0;
  if (s->has_power)
    em__deadline(e, now, e->power_at + cfg->stale_after_ms + 1);
}

/* The demand before the fuse: the wish, capped, or 0. */
static void demand(em_engine *e, em_conn *c)
{
  double w = c->wish < c->cfg.max_current ? c->wish : c->cfg.max_current;
  em_reason r = EM_REASON_WISH;
  if (c->cap >= 0 && c->cap < w) {
    w = c->cap;
    r = EM_REASON_CAP;
  }
  if (!c->active) {
    w = 0;
    r = EM_REASON_IDLE;
  } else if (c->mode == EM_MODE_OFF) {
    w = 0;
    r = EM_REASON_OFF;
  } else if (w < c->cfg.min_current - EM_EPS) {
    w = 0;
  }
  c->demand = w;
  c->demand_reason = r;
  (void)e;
}

static bool guarded(const em_engine *e, const em_conn *c, uint64_t now)
{
  return c->limit == 0 && c->has_pause &&
         now - c->paused_at < e->cfg.restart_guard_ms;
}

/* Raises the cars of one priority group together. */
static void fill_group(em_engine *e, const size_t *g, size_t m, double R[])
{
  for (size_t round = 0; round <= m; round++) {
    int n_p[EM_PHASES] = {0};
    size_t open = 0;
    double delta = INFINITY;
    for (size_t k = 0; k < m; k++) {
      size_t i = g[k];
      if (e->mark[i] != MARK_CANDIDATE)
        continue;
      open++;
      unsigned ph = e->conn[i].phases;
      for (int p = 0; p < EM_PHASES; p++)
        n_p[p] += (ph >> p) & 1u;
      double left = e->conn[i].demand - e->alloc[i];
      if (left < delta)
        delta = left;
    }
    if (open == 0)
      return;
    for (int p = 0; p < EM_PHASES; p++) {
      if (n_p[p] > 0 && R[p] / n_p[p] < delta)
        delta = R[p] / n_p[p];
    }
    if (delta < 0)
      delta = 0;
    for (int p = 0; p < EM_PHASES; p++)
      R[p] -= delta * n_p[p];
    for (size_t k = 0; k < m; k++) {
      size_t i = g[k];
      if (e->mark[i] != MARK_CANDIDATE)
        continue;
      e->alloc[i] += delta;
      bool full = e->alloc[i] >= e->conn[i].demand - EM_EPS;
      for (int p = 0; p < EM_PHASES; p++) {
        if ((e->conn[i].phases >> p & 1u) && R[p] <= EM_EPS)
          full = true;
      }
      if (full)
        e->mark[i] = MARK_FROZEN;
    }
  }
}

/* One pass of the fuse stage over the candidates in order[0..m). */
static void share(em_engine *e, size_t m)
{
  double R[EM_PHASES];
  for (int p = 0; p < EM_PHASES; p++)
    R[p] = e->sum.budget[p] > 0 ? e->sum.budget[p] : 0;
  for (size_t k = 0; k < m; k++) {
    size_t i = e->order[k];
    e->alloc[i] = 0;
    if (e->mark[i] == MARK_FROZEN)
      e->mark[i] = MARK_CANDIDATE;
  }
  size_t k = 0;
  while (k < m) {
    size_t end = k + 1;
    while (end < m && e->conn[e->order[end]].cfg.priority ==
                          e->conn[e->order[k]].cfg.priority)
      end++;
    fill_group(e, e->order + k, end - k, R);
    k = end;
  }
}

/* The candidate to drop when some get less than min_current: the lowest
 * priority among those short, one that is not charging before one that
 * is, the last index before an earlier one. */
static bool pick_short(const em_engine *e, size_t m, size_t *out)
{
  bool found = false;
  size_t best = 0;
  for (size_t k = 0; k < m; k++) {
    size_t i = e->order[k];
    const em_conn *c = &e->conn[i];
    if (e->mark[i] == MARK_OUT ||
        e->alloc[i] >= c->cfg.min_current - EM_EPS)
      continue;
    if (!found) {
      best = i;
      found = true;
      continue;
    }
    const em_conn *b = &e->conn[best];
    bool charging = c->limit > 0, best_charging = b->limit > 0;
    if (c->cfg.priority < b->cfg.priority ||
        (c->cfg.priority == b->cfg.priority &&
         (charging < best_charging ||
          (charging == best_charging && i > best))))
      best = i;
  }
  *out = best;
  return found;
}

/* Why a car got less than its demand in the fuse stage. */
static em_reason fuse_reason(const em_engine *e, size_t m, size_t i)
{
  const em_conn *c = &e->conn[i];
  for (size_t k = 0; k < m; k++) {
    size_t j = e->order[k];
    const em_conn *o = &e->conn[j];
    if (j != i && e->mark[j] != MARK_OUT && e->alloc[j] > 0 &&
        o->cfg.priority > c->cfg.priority && (o->phases & c->phases))
      return EM_REASON_PRIORITY;
  }
  return EM_REASON_FUSE;
}

static void fuse_stage(em_engine *e, uint64_t now)
{
  size_t m = 0;
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    c->target = 0;
    c->reason = c->demand_reason;
    if (c->demand <= 0)
      continue;
    if (guarded(e, c, now)) {
      c->reason = EM_REASON_GUARD;
      em__deadline(e, now, c->paused_at + e->cfg.restart_guard_ms);
      continue;
    }
    e->mark[i] = MARK_CANDIDATE;
    e->order[m++] = i;
  }
  em__sort_by_priority(e, e->order, m);
  for (size_t tries = 0; tries <= m; tries++) {
    share(e, m);
    size_t drop;
    if (!pick_short(e, m, &drop))
      break;
    e->mark[drop] = MARK_OUT;
    e->alloc[drop] = 0;
  }
  for (size_t k = 0; k < m; k++) {
    size_t i = e->order[k];
    em_conn *c = &e->conn[i];
    /* tenths, as the charger gets them, never above the share */
    double a = floor(e->alloc[i] * 10 + EM_EPS) / 10;
    if (e->mark[i] == MARK_OUT || a < c->cfg.min_current - EM_EPS)
      a = 0;
    c->target = a;
    if (a < c->demand - 0.05)
      c->reason = fuse_reason(e, m, i);
  }
}

static void stale_stage(em_engine *e)
{
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    if (!c->active || c->mode == EM_MODE_OFF)
      continue;
    double w = c->wish < c->cfg.max_current ? c->wish : c->cfg.max_current;
    if (c->cap >= 0 && c->cap < w)
      w = c->cap;
    double t = e->cfg.safe_current < w ? e->cfg.safe_current : w;
    /* a paused car stays paused: no start on a measurement we lack */
    if (c->limit == 0 || t < c->cfg.min_current - EM_EPS)
      t = 0;
    c->target = t;
    c->reason = EM_REASON_STALE;
  }
}

void em__targets(em_engine *e, uint64_t now)
{
  measure(e, now);
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    c->phases = c->active ? em__phases(c) : 0;
    demand(e, c);
  }
  em__pv_demands(e, now);
  if (e->sum.stale)
    stale_stage(e);
  else
    fuse_stage(e, now);
}
