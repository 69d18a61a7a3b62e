/* Internal to the engine: the state its files share. The public API stays
 * energy/energy.h. */
#ifndef OCPPKNX_EM_IMPL_H
#define OCPPKNX_EM_IMPL_H

#include "energy/energy.h"

typedef struct {
  em_connector_config cfg;
  bool active;
  em_mode mode;
  double wish;
  double cap;                  /* < 0: none */
  bool has_draw;
  double draw[EM_PHASES];      /* NaN: not measured */
  uint64_t draw_at;
  unsigned seen_mask;          /* phases the car was seen drawing on */
  double limit;                /* in force; < 0 unknown */
  bool resend;                 /* the charger may have lost it */
  /* its draw when the grid was last read, per phase, and when the grid
   * power was: what of the grid reading was this car's */
  double grid_draw[EM_PHASES];
  double power_draw_w;
  uint64_t limit_at;           /* when it last changed */
  bool started;                /* the limit was > 0 in this session */
  bool has_pause;
  uint64_t paused_at;          /* when it last went from > 0 to 0 */
  bool raising;                /* target above limit since raise_since */
  uint64_t raise_since;
  double raise_min;            /* lowest target since raise_since */
  bool pv_on;                  /* pv-type mode: started on surplus */
  bool pv_ok;                  /* waiting: surplus covers min since ... */
  uint64_t pv_ok_since;
  bool pv_short;               /* running: surplus short since ... */
  uint64_t pv_short_since;
  /* the last em_step's result */
  double demand;               /* A wanted before the fuse stage */
  em_reason demand_reason;
  double target;
  em_reason reason;
  bool send;
  unsigned phases;
} em_conn;

struct em_engine {
  em_config cfg;
  em_conn *conn;
  size_t n;
  bool has_grid[EM_PHASES];
  double grid[EM_PHASES];
  uint64_t grid_at[EM_PHASES];
  bool has_power;
  double power;
  uint64_t power_at;
  bool cheap;
  em_summary sum;
  uint64_t next_deadline;
  /* scratch space of em_step, one entry per connector */
  size_t *order;
  double *alloc;
  unsigned char *mark;
};

/* ---- em_alloc.c: targets ------------------------------------------------ */

/* Fills every connector's target and reason, and e->sum, for now. */
void em__targets(em_engine *e, uint64_t now);

/* What a connector draws on phase p now, as far as its meter says. */
double em__draw_estimate(const em_conn *c, int p, uint64_t now);

/* Phases a connector counts on (measured ones once seen, else wired). */
unsigned em__phases(const em_conn *c);
int em__popcount(unsigned mask);
/* Sorts idx[0..m) by priority (highest first), then by index. */
void em__sort_by_priority(const em_engine *e, size_t *idx, size_t m);

/* ---- em_pv.c: the surplus modes ----------------------------------------- */

/* Sets demand and demand_reason of every active pv-type connector from the
 * surplus in e->sum, and runs their start and stop timers. */
void em__pv_demands(em_engine *e, uint64_t now);
bool em__pv_type(const em_engine *e, const em_conn *c);

/* ---- em_apply.c: from targets to the limits in force -------------------- */

void em__apply(em_engine *e, uint64_t now);

/* Keeps the earliest deadline after now in e->next_deadline. */
void em__deadline(em_engine *e, uint64_t now, uint64_t at);

#endif
