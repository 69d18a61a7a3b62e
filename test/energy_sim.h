/* A simulated house for the energy engine, shared by its property test and
 * its fuzz target: a house load per phase, a PV system, and cars that draw
 * what their limit allows (on their own phases, maybe less) and report it
 * or not. After every step it checks what the engine promises:
 * - after a step in which the meter reported, on no phase do the limits in
 *   force exceed what the fuse leaves beside the house load (while it is
 *   silent nobody knows the house load);
 * - no limit lies between 0 and the connector's min_current;
 * - no car starts again within the restart guard of its pause.
 * The engine takes a meter reading of a car as its draw while the reading
 * is valid (draw_valid_ms): a car that stops reporting keeps drawing what
 * it last reported (or less when its limit is lowered) until then. */
#ifndef OCPPKNX_TEST_ENERGY_SIM_H
#define OCPPKNX_TEST_ENERGY_SIM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "energy/energy.h"

#define ES_MAX 8

typedef struct {
  em_engine *e;
  em_config cfg;
  size_t n;
  em_connector_config cc[ES_MAX];
  unsigned car_mask[ES_MAX];    /* the phases the car really uses */
  bool active[ES_MAX];
  double factor[ES_MAX];        /* share of its limit the car draws */
  bool reports[ES_MAX];         /* it sends per-phase meter values */
  double draw[ES_MAX][EM_PHASES];
  double reported[ES_MAX][EM_PHASES];
  bool has_report[ES_MAX];
  uint64_t reported_at[ES_MAX];
  double last_limit[ES_MAX];
  bool has_pause[ES_MAX];
  uint64_t paused_at[ES_MAX];
  double house[EM_PHASES];
  double pv_w;
  bool silent;                  /* the meter sends nothing */
  uint64_t now;
  char fail[200];               /* "" or the first broken promise */
  uint64_t checked, tight;      /* steps checked against the fuse, and of
                                   those the ones within 1 A of it */
} es_sim;

static int es_init(es_sim *s, const em_config *cfg,
                   const em_connector_config *cc, size_t n)
{
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  s->n = n > ES_MAX ? ES_MAX : n;
  memcpy(s->cc, cc, s->n * sizeof *cc);
  for (size_t i = 0; i < s->n; i++) {
    s->car_mask[i] = cc[i].phase_mask;
    s->factor[i] = 1;
    s->reports[i] = true;
    s->last_limit[i] = -1;
  }
  s->now = 1000;
  int rc = em_create(cfg, &s->e);
  if (rc == EM_OK)
    rc = em_set_connectors(s->e, s->cc, s->n);
  return rc;
}

static void es_finish(es_sim *s)
{
  em_destroy(s->e);
  s->e = NULL;
}

/* A car arrives (car_mask: its phases within the wiring) or leaves. */
static void es_session(es_sim *s, size_t i, bool on, unsigned car_mask)
{
  if (i >= s->n || on == s->active[i])
    return;
  s->active[i] = on;
  s->car_mask[i] = car_mask & s->cc[i].phase_mask;
  if (!s->car_mask[i])
    s->car_mask[i] = s->cc[i].phase_mask;
  s->has_pause[i] = false;
  s->last_limit[i] = -1;
  s->has_report[i] = false;
  for (int p = 0; p < EM_PHASES; p++)
    s->draw[i][p] = 0;
  em_set_session(s->e, i, on, s->now);
}

static void es_failf(es_sim *s, const char *fmt, size_t i, double a, double b)
{
  if (!s->fail[0])
    snprintf(s->fail, sizeof s->fail, fmt, (unsigned long long)s->now, i, a,
             b);
}

static void es_check(es_sim *s)
{
  em_summary sum;
  em_get_summary(s->e, &sum);
  double on_phase[EM_PHASES] = {0};
  for (size_t i = 0; i < s->n; i++) {
    em_allocation a;
    em_get(s->e, i, &a);
    if (!s->active[i])
      continue;
    double min = s->cc[i].min_current;
    if (a.limit > 0 && a.limit < min - 1e-9)
      es_failf(s, "t=%llu connector %zu: limit %g below min %g", i, a.limit,
               min);
    double before = s->last_limit[i];
    if (before > 0 && a.limit == 0) {
      s->has_pause[i] = true;
      s->paused_at[i] = s->now;
    } else if (before == 0 && a.limit > 0 && s->has_pause[i] &&
               s->now - s->paused_at[i] < s->cfg.restart_guard_ms) {
      es_failf(s, "t=%llu connector %zu: restarted %g ms after its pause "
               "(limit %g)", i, (double)(s->now - s->paused_at[i]), a.limit);
    }
    s->last_limit[i] = a.limit;
    for (int p = 0; p < EM_PHASES; p++) {
      if (a.limit > 0 && (s->car_mask[i] >> p & 1u))
        on_phase[p] += a.limit;
    }
  }
  if (sum.stale || s->silent)
    return;
  s->checked++;
  bool tight = false;
  for (int p = 0; p < EM_PHASES; p++) {
    double room = s->cfg.main_fuse - s->house[p];
    if (room < 0)
      room = 0;
    if (on_phase[p] > room + 1e-6)
      es_failf(s, "t=%llu phase %zu: chargers allowed %g A beside the house "
               "load, the fuse leaves %g A", (size_t)p + 1, on_phase[p], room);
    if (on_phase[p] > 0 && on_phase[p] > room - 1)
      tight = true;
  }
  s->tight += tight;
}

/* The cars follow the limits now in force. */
static void es_follow(es_sim *s)
{
  for (size_t i = 0; i < s->n; i++) {
    em_allocation a;
    em_get(s->e, i, &a);
    double amps = !s->active[i] ? 0
                  : a.limit < 0 ? s->cc[i].max_current
                                : a.limit * s->factor[i];
    bool held = s->active[i] && !s->reports[i] && s->has_report[i] &&
                s->now - s->reported_at[i] <= s->cc[i].draw_valid_ms;
    for (int p = 0; p < EM_PHASES; p++) {
      double d = (s->car_mask[i] >> p & 1u) ? amps : 0;
      if (held) {
        d = s->reported[i][p];
        if (a.limit >= 0 && d > a.limit)
          d = a.limit;
      }
      s->draw[i][p] = d;
    }
  }
}

/* The car's meter values stop or start again. One that stops goes on
 * drawing what it last reported (or less, within its limit). */
static void es_reports(es_sim *s, size_t i, bool on)
{
  if (i >= s->n || on == s->reports[i])
    return;
  s->reports[i] = on;
  if (on || !s->has_report[i])
    return;
  em_allocation a;
  em_get(s->e, i, &a);
  for (int p = 0; p < EM_PHASES; p++) {
    double d = s->reported[i][p];
    s->draw[i][p] = a.limit >= 0 && d > a.limit ? a.limit : d;
  }
}

/* dt_ms passes; the cars and the meter report what they see at that
 * moment, the engine runs, the promises are checked and the cars follow. */
static void es_step(es_sim *s, uint64_t dt_ms)
{
  s->now += dt_ms;
  double grid[EM_PHASES], power = -s->pv_w;
  for (int p = 0; p < EM_PHASES; p++) {
    grid[p] = s->house[p];
    for (size_t i = 0; i < s->n; i++)
      grid[p] += s->draw[i][p];
    power += grid[p] * s->cfg.voltage;
  }
  for (size_t i = 0; i < s->n; i++) {
    if (s->active[i] && s->reports[i]) {
      em_set_draw(s->e, i, s->draw[i], s->now);
      memcpy(s->reported[i], s->draw[i], sizeof s->reported[i]);
      s->has_report[i] = true;
      s->reported_at[i] = s->now;
    }
  }
  if (!s->silent) {
    for (int p = 0; p < EM_PHASES; p++)
      em_set_grid_current(s->e, p, grid[p], s->now);
    em_set_grid_power(s->e, power, s->now);
  }
  em_step(s->e, s->now);
  es_check(s);
  es_follow(s);
}

#endif
