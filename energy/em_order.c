/* The phases a connector counts on and the order connectors are served
 * in: what the allocation (em_alloc.c) and the PV rules (em_pv.c) both
 * use, below both. */
#include "energy/em_impl.h"

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
