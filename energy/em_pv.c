/* The surplus modes: pv (only from surplus, with start and stop delays),
 * minpv (min_current always, more from surplus) and cheap outside the
 * cheap window (as pv). The surplus is what is exported plus what these
 * cars draw now; it is handed out by priority, equal amps within one. */
#include "energy/em_impl.h"

#include <math.h>

static const double EM_EPS = 1e-6;

bool em__pv_type(const em_engine *e, const em_conn *c)
{
  return c->active && (c->mode == EM_MODE_MINPV || c->mode == EM_MODE_PV ||
                       (c->mode == EM_MODE_CHEAP && !e->cheap));
}

static double watts_per_amp(const em_engine *e, const em_conn *c)
{
  return em__popcount(c->phases) * e->cfg.voltage;
}

static double min_watts(const em_engine *e, const em_conn *c)
{
  return c->cfg.min_current * watts_per_amp(e, c);
}

/* A running pv car is short when the surplus does not cover the minimum
 * of every car before it and its own: after pv_stop_ms of that it stops. */
static void running_timers(em_engine *e, em_conn *c, double *need, double S,
                           uint64_t now)
{
  *need += min_watts(e, c);
  if (*need <= S + EM_EPS) {
    c->pv_short = false;
    return;
  }
  if (!c->pv_short) {
    c->pv_short = true;
    c->pv_short_since = now;
  }
  if (now - c->pv_short_since >= e->cfg.pv_stop_ms) {
    c->pv_on = false;
    c->pv_short = false;
    *need -= min_watts(e, c);
    return;
  }
  em__deadline(e, now, c->pv_short_since + e->cfg.pv_stop_ms);
}

/* A waiting car starts when the surplus has covered the minimum of the
 * running ones and its own for pv_start_ms. */
static void waiting_timers(em_engine *e, em_conn *c, double *need, double S,
                           uint64_t now)
{
  if (*need + min_watts(e, c) > S + EM_EPS) {
    c->pv_ok = false;
    return;
  }
  *need += min_watts(e, c);
  if (!c->pv_ok) {
    c->pv_ok = true;
    c->pv_ok_since = now;
  }
  if (now - c->pv_ok_since >= e->cfg.pv_start_ms) {
    c->pv_on = true;
    c->pv_ok = false;
    /* the surplus has been steady since pv_ok_since: that is the hold */
    c->raising = true;
    c->raise_since = c->pv_ok_since;
    c->raise_min = INFINITY;
    return;
  }
  em__deadline(e, now, c->pv_ok_since + e->cfg.pv_start_ms);
}

/* Hands the surplus above the minima out to the running cars of
 * order[0..m), priority by priority, raising a group's cars together. */
static void share_surplus(em_engine *e, size_t m, double left)
{
  size_t k = 0;
  while (k < m && left > EM_EPS) {
    size_t end = k + 1;
    while (end < m && e->conn[e->order[end]].cfg.priority ==
                          e->conn[e->order[k]].cfg.priority)
      end++;
    for (size_t round = 0; round <= end - k && left > EM_EPS; round++) {
      double cost = 0, delta = INFINITY;
      for (size_t j = k; j < end; j++) {
        em_conn *c = &e->conn[e->order[j]];
        double room = c->demand - e->alloc[e->order[j]];
        if (room <= EM_EPS)
          continue;
        cost += watts_per_amp(e, c);
        if (room < delta)
          delta = room;
      }
      if (cost <= 0)
        break;
      if (left / cost < delta)
        delta = left / cost;
      for (size_t j = k; j < end; j++) {
        em_conn *c = &e->conn[e->order[j]];
        if (c->demand - e->alloc[e->order[j]] > EM_EPS)
          e->alloc[e->order[j]] += delta;
      }
      left -= delta * cost;
    }
    k = end;
  }
}

void em__pv_demands(em_engine *e, uint64_t now)
{
  double S = e->sum.surplus_w;
  size_t m = 0;
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    if (em__pv_type(e, c) && c->demand > 0)
      e->order[m++] = i;
    else
      c->pv_ok = c->pv_short = false;
    /* the cheap window ended: it waits for surplus like pv */
    if (c->mode == EM_MODE_CHEAP && e->cheap)
      c->pv_on = false;
  }
  em__sort_by_priority(e, e->order, m);
  double need = 0;
  for (size_t k = 0; k < m; k++) {
    em_conn *c = &e->conn[e->order[k]];
    if (c->mode == EM_MODE_MINPV) {
      c->pv_on = true;
      need += min_watts(e, c);
    }
  }
  for (size_t k = 0; k < m; k++) {
    em_conn *c = &e->conn[e->order[k]];
    if (c->mode != EM_MODE_MINPV && c->pv_on)
      running_timers(e, c, &need, S, now);
  }
  for (size_t k = 0; k < m; k++) {
    em_conn *c = &e->conn[e->order[k]];
    if (!c->pv_on)
      waiting_timers(e, c, &need, S, now);
  }
  /* the running cars first get their minimum, then the rest */
  size_t r = 0;
  double left = S;
  for (size_t k = 0; k < m; k++) {
    size_t i = e->order[k];
    em_conn *c = &e->conn[i];
    if (!c->pv_on) {
      c->demand = 0;
      c->demand_reason = c->mode == EM_MODE_CHEAP ? EM_REASON_TARIFF
                                                  : EM_REASON_SURPLUS;
      continue;
    }
    e->alloc[i] = c->cfg.min_current;
    left -= min_watts(e, c);
    e->order[r++] = i;
  }
  share_surplus(e, r, left);
  for (size_t k = 0; k < r; k++) {
    size_t i = e->order[k];
    em_conn *c = &e->conn[i];
    if (e->alloc[i] < c->demand - 0.05) {
      c->demand = e->alloc[i];
      c->demand_reason = EM_REASON_SURPLUS;
    }
  }
}
