/* From targets to the limits in force: lowering at once, raising after a
 * steady hold and the rate limit, small changes not at all unless a phase
 * needs them. */
#include "energy/em_impl.h"

static const double EM_EPS = 1e-6;

void em__deadline(em_engine *e, uint64_t now, uint64_t at)
{
  if (at <= now)
    return;
  if (!e->next_deadline || at < e->next_deadline)
    e->next_deadline = at;
}

static void set_limit(em_conn *c, double v, uint64_t now)
{
  if (c->limit > 0 && v == 0) {
    c->has_pause = true;
    c->paused_at = now;
  }
  if (v > 0)
    c->started = true;
  c->limit = v;
  c->limit_at = now;
  c->send = true;
  c->raising = false;
}

static void follow(em_engine *e, em_conn *c, uint64_t now)
{
  const double thr = e->cfg.change_threshold;
  double t = c->target;
  /* the first start of a session needs no hold: the room it takes was
   * made by lowering the others at once */
  if (c->limit < 0 || (!c->started && c->limit == 0 && t > 0)) {
    set_limit(c, t, now);
    return;
  }
  if (t < c->limit - EM_EPS) {
    c->raising = false;
    if (c->limit - t >= thr - EM_EPS || t == 0)
      set_limit(c, t, now);
    return;
  }
  if (t < c->limit + thr - EM_EPS) {
    c->raising = false;
    return;
  }
  if (!c->raising) {
    c->raising = true;
    c->raise_since = now;
    c->raise_min = t;
  } else if (t < c->raise_min) {
    c->raise_min = t;
  }
  uint64_t due = c->raise_since + e->cfg.raise_hold_ms;
  if (c->limit_at + e->cfg.rate_limit_ms > due)
    due = c->limit_at + e->cfg.rate_limit_ms;
  if (now >= due)
    set_limit(c, c->raise_min, now);
  else
    em__deadline(e, now, due);
}

static double phase_sum(const em_engine *e, int p)
{
  double sum = 0;
  for (size_t i = 0; i < e->n; i++) {
    const em_conn *c = &e->conn[i];
    if (c->active && c->limit > 0 && (c->phases >> p & 1u))
      sum += c->limit;
  }
  return sum;
}

void em__apply(em_engine *e, uint64_t now)
{
  for (size_t i = 0; i < e->n; i++) {
    em_conn *c = &e->conn[i];
    c->send = false;
    if (c->active)
      follow(e, c, now);
    if (c->resend && c->active && c->limit >= 0)
      c->send = true;
    c->resend = false;
  }
  double headroom = e->cfg.main_fuse;
  for (int p = 0; p < EM_PHASES; p++) {
    /* a change below the threshold still goes out when the phase needs
     * it: the fuse comes before quiet telegrams */
    if (!e->sum.stale && phase_sum(e, p) > e->sum.budget[p] + EM_EPS) {
      for (size_t i = 0; i < e->n; i++) {
        em_conn *c = &e->conn[i];
        if (c->active && (c->phases >> p & 1u) &&
            c->limit > c->target + EM_EPS)
          set_limit(c, c->target, now);
      }
    }
    double free_p = e->sum.budget[p] - phase_sum(e, p);
    if (free_p < headroom)
      headroom = free_p;
  }
  e->sum.headroom = headroom;
}
