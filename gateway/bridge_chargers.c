/* The registry: the bridge object, its chargers and connectors sorted by
 * id and an index of group addresses, so that an event or a telegram finds
 * its objects in O(log n) among thousands. A reload builds a new registry
 * and carries the known values over, so nothing already on the bus is
 * forgotten. */
#include "gateway/bridge_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  GW_MAX_CHARGERS = 10000,
  GW_DEFAULT_RESERVATION_MIN = 30
};

static const double GW_DEFAULT_CURRENT_HYST = 0.2;
static const double GW_DEFAULT_POWER_HYST = 100.0;
static const double GW_DEFAULT_ENERGY_HYST = 100.0;

static int charger_cmp(const void *a, const void *b)
{
  const gw_charger *const *x = a;
  const gw_charger *const *y = b;
  return strcmp((*x)->id, (*y)->id);
}

static int ref_cmp(const void *a, const void *b)
{
  const gw_ga_ref *x = a;
  const gw_ga_ref *y = b;
  return (int)x->ga - (int)y->ga;
}

size_t gw__ref_lower_bound(const gw_bridge *b, uint16_t ga)
{
  size_t lo = 0, hi = b->n_refs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->refs[mid].ga < ga)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void charger_free(gw_charger *ch)
{
  if (!ch)
    return;
  free(ch->id);
  free(ch->remote_tag);
  free(ch);
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static double hysteresis_or(double v, double fallback)
{
  return isfinite(v) && v >= 0 ? v : fallback;
}

static int charger_new(const gw_charger_conf *c, gw_charger **out)
{
  *out = NULL;
  if (!c->id || !*c->id || c->n_connectors > GW_MAX_CONNECTORS)
    return GW_EINVAL;
  gw_charger *ch =
      calloc(1, sizeof *ch + c->n_connectors * sizeof ch->conn[0]);
  if (!ch)
    return GW_ENOMEM;
  ch->id = strdup(c->id);
  ch->remote_tag = dup_or_null(c->remote_tag);
  if (!ch->id || (c->remote_tag && !ch->remote_tag)) {
    charger_free(ch);
    return GW_ENOMEM;
  }
  ch->normal_current = c->normal_current;
  ch->fast_current = c->fast_current;
  ch->current_hysteresis =
      hysteresis_or(c->current_hysteresis, GW_DEFAULT_CURRENT_HYST);
  ch->power_hysteresis =
      hysteresis_or(c->power_hysteresis, GW_DEFAULT_POWER_HYST);
  ch->energy_hysteresis =
      hysteresis_or(c->energy_hysteresis, GW_DEFAULT_ENERGY_HYST);
  ch->stop_mode = c->stop_mode;
  ch->reservation_minutes = c->reservation_minutes > 0
                                ? c->reservation_minutes
                                : GW_DEFAULT_RESERVATION_MIN;
  for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
    ch->dpt[obj] = gw_object_dpt(c, obj);
  ch->n_conn = c->n_connectors;
  for (size_t i = 0; i < ch->n_conn; i++) {
    gw_connector *cn = &ch->conn[i];
    cn->id = c->connectors[i].id;
    cn->local_by = cn->limit_by = GW_LIMIT_NONE;
    memcpy(cn->has_ga, c->connectors[i].has_ga, sizeof cn->has_ga);
    memcpy(cn->ga, c->connectors[i].ga, sizeof cn->ga);
  }
  *out = ch;
  return GW_OK;
}

/* Keeps what the bridge knows about a charger across a reload; values of
 * objects whose address or DPT changed go out on the new address. */
static void charger_adopt(gw_bridge *b, gw_charger *ch, const gw_charger *old)
{
  ch->charger_status_known = old->charger_status_known;
  ch->charger_unavailable = old->charger_unavailable;
  ch->charger_faulted = old->charger_faulted;
  ch->charger_error = old->charger_error;
  for (size_t i = 0; i < ch->n_conn; i++) {
    gw_connector *cn = &ch->conn[i];
    const gw_connector *oc = NULL;
    for (size_t j = 0; j < old->n_conn && !oc; j++) {
      if (old->conn[j].id == cn->id)
        oc = &old->conn[j];
    }
    if (!oc)
      continue;
    gw_connector fresh = *cn;
    *cn = *oc;
    memcpy(cn->has_ga, fresh.has_ga, sizeof cn->has_ga);
    memcpy(cn->ga, fresh.ga, sizeof cn->ga);
    for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
      bool same = oc->has_ga[obj] == cn->has_ga[obj] &&
                  oc->ga[obj] == cn->ga[obj] && old->dpt[obj] == ch->dpt[obj];
      if (same || !cn->has_ga[obj] || !cn->obj[obj].known ||
          !gw_object_is_state(obj))
        continue;
      gw_value v = cn->obj[obj].val;
      gw__publish(b, ch, cn, obj, &v, true);
    }
  }
}

static void chargers_free(gw_charger **list, size_t n)
{
  for (size_t i = 0; list && i < n; i++)
    charger_free(list[i]);
  free(list);
}

static int build_chargers(const gw_charger_conf *chargers, size_t n,
                          gw_charger ***out)
{
  *out = NULL;
  if ((n > 0 && !chargers) || n > GW_MAX_CHARGERS)
    return GW_EINVAL;
  gw_charger **list = calloc(n ? n : 1, sizeof *list);
  if (!list)
    return GW_ENOMEM;
  int rc = GW_OK;
  for (size_t i = 0; i < n && rc == GW_OK; i++)
    rc = charger_new(&chargers[i], &list[i]);
  if (rc == GW_OK && n > 0) {
    qsort(list, n, sizeof *list, charger_cmp);
    for (size_t i = 1; i < n && rc == GW_OK; i++) {
      if (strcmp(list[i - 1]->id, list[i]->id) == 0)
        rc = GW_EINVAL;
    }
  }
  if (rc != GW_OK) {
    chargers_free(list, n);
    return rc;
  }
  *out = list;
  return GW_OK;
}

static int build_refs(gw_charger **list, size_t n, gw_ga_ref **out,
                      size_t *n_out)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < list[i]->n_conn; c++) {
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
        count += list[i]->conn[c].has_ga[obj];
    }
  }
  gw_ga_ref *refs = calloc(count ? count : 1, sizeof *refs);
  if (!refs)
    return GW_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < list[i]->n_conn; c++) {
      const gw_connector *cn = &list[i]->conn[c];
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
        if (cn->has_ga[obj])
          refs[k++] = (gw_ga_ref){cn->ga[obj], (uint8_t)c, (uint8_t)obj,
                                  list[i]};
      }
    }
  }
  qsort(refs, count, sizeof *refs, ref_cmp);
  *out = refs;
  *n_out = count;
  return GW_OK;
}

int gw_bridge_create(const gw_charger_conf *chargers, size_t n_chargers,
                     int max_telegrams_per_second, const gw_bridge_ops *ops,
                     void *user_data, gw_bridge **out)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!ops || !ops->knx_send || !ops->command)
    return GW_EINVAL;
  gw_bridge *b = calloc(1, sizeof *b);
  if (!b)
    return GW_ENOMEM;
  b->ops = *ops;
  b->user_data = user_data;
  int rc = gw__queues_init(b, max_telegrams_per_second);
  if (rc == GW_OK)
    rc = build_chargers(chargers, n_chargers, &b->chargers);
  if (rc == GW_OK) {
    b->n_chargers = n_chargers;
    rc = build_refs(b->chargers, b->n_chargers, &b->refs, &b->n_refs);
  }
  if (rc != GW_OK) {
    gw_bridge_destroy(b);
    return rc;
  }
  *out = b;
  return GW_OK;
}

int gw_bridge_set_chargers(gw_bridge *b, const gw_charger_conf *chargers,
                           size_t n_chargers)
{
  if (!b)
    return GW_EINVAL;
  gw_charger **list = NULL;
  int rc = build_chargers(chargers, n_chargers, &list);
  if (rc != GW_OK)
    return rc;
  gw_ga_ref *refs = NULL;
  size_t n_refs = 0;
  rc = build_refs(list, n_chargers, &refs, &n_refs);
  if (rc != GW_OK) {
    chargers_free(list, n_chargers);
    return rc;
  }
  for (size_t i = 0; i < n_chargers; i++) {
    const gw_charger *old =
        gw__charger_find(b->chargers, b->n_chargers, list[i]->id);
    if (old)
      charger_adopt(b, list[i], old);
  }
  chargers_free(b->chargers, b->n_chargers);
  free(b->refs);
  b->chargers = list;
  b->n_chargers = n_chargers;
  b->refs = refs;
  b->n_refs = n_refs;
  return GW_OK;
}

void gw_bridge_destroy(gw_bridge *b)
{
  if (!b)
    return;
  /* A late callback then finds b == NULL and only frees its context. */
  for (gw_pending *pd = b->pending; pd; pd = pd->next)
    pd->b = NULL;
  chargers_free(b->chargers, b->n_chargers);
  free(b->refs);
  gw__queues_free(b);
  free(b);
}
