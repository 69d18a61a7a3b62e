/* The energy manager on /status and the status page: the budget, the
 * measured load per phase and per connector the mode, the allocation and
 * why. */
#include "gateway/energy_impl.h"

#include <math.h>
#include <stdio.h>

static json_t *amps_or_null(double v)
{
  return isfinite(v) ? json_real(round(v * 100) / 100) : json_null();
}

static json_t *phase_array(const double v[3])
{
  json_t *a = json_array();
  for (int p = 0; a && p < 3; p++)
    json_array_append_new(a, amps_or_null(v[p]));
  return a;
}

static json_t *connector_status(const gw_energy *en, size_t i)
{
  const gw_en_conn *c = &en->conn[i];
  em_allocation a;
  if (em_get(en->em, i, &a) != EM_OK)
    return NULL;
  char phases[8] = "";
  for (int p = 0, n = 0; p < 3; p++) {
    if (a.phases >> p & 1u)
      n += snprintf(phases + n, sizeof phases - (size_t)n, "L%d", p + 1);
  }
  return json_pack("{s:s,s:i,s:s,s:b,s:o,s:o,s:s,s:s}",
                   "charger", c->charger_id, "connector", c->connector,
                   "mode", em_mode_name(gw__en_mode(c)), "session", a.active,
                   "allocation_a", a.limit >= 0 ? amps_or_null(a.limit)
                                                : json_null(),
                   "target_a", amps_or_null(a.target),
                   "reason", em_reason_name(a.reason), "phases", phases);
}

json_t *gw_energy_status(const gw_energy *en)
{
  if (!en)
    return NULL;
  em_summary s;
  em_get_summary(en->em, &s);
  json_t *conns = json_array();
  for (size_t i = 0; conns && i < en->n; i++)
    json_array_append_new(conns, connector_status(en, i));
  return json_pack("{s:f,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o}",
                   "main_fuse", en->cfg.main_fuse, "stale", s.stale,
                   "measured_a", phase_array(s.grid_current),
                   "base_load_a", phase_array(s.base_load),
                   "budget_a", phase_array(s.budget),
                   "headroom_a", amps_or_null(s.headroom),
                   "grid_power_w", s.has_power ? amps_or_null(s.grid_power)
                                               : json_null(),
                   "surplus_w", amps_or_null(s.surplus_w), "cheap", s.cheap,
                   "connectors", conns ? conns : json_array());
}
