/* What the status page reads of the bridge: each connector's objects with
 * their last value and when it was taken, and the limit in force. Read
 * only; copies out, so the caller holds nothing of the bridge. */
#include "gateway/bridge_impl.h"

#include <string.h>

static gw_view_kind view_kind(gw_kind k)
{
  return k == GW_KIND_TIME ? GW_VIEW_TIME
         : k == GW_KIND_TEXT ? GW_VIEW_TEXT : GW_VIEW_NUMBER;
}

static void view_of(const gw_charger *ch, const gw_connector *cn,
                    gw_object obj, gw_object_view *v)
{
  const gw_published *o = &cn->obj[obj];
  memset(v, 0, sizeof *v);
  v->obj = obj;
  v->ga = cn->ga[obj];
  v->dpt = ch->dpt[obj];
  v->state = gw_object_is_state(obj);
  v->known = o->known;
  v->at_ms = o->at_ms;
  /* commands arrive as numbers whatever their DPT (bridge_commands.c) */
  v->kind = v->state ? view_kind(gw__dpt_kind(v->dpt)) : GW_VIEW_NUMBER;
  if (!o->known)
    return;
  if (v->kind == GW_VIEW_TIME)
    v->time = o->val.time;
  else if (v->kind == GW_VIEW_TEXT)
    memcpy(v->text, o->val.text, GW_TAG_MAX);
  else
    v->number = o->val.num;
}

static const gw_connector *find_connector(const gw_bridge *b,
                                          const char *charger_id,
                                          int connector,
                                          const gw_charger **ch)
{
  *ch = gw__charger_find(b->chargers, b->n_chargers, charger_id);
  return *ch ? gw__connector_find((gw_charger *)*ch, connector) : NULL;
}

int gw_bridge_objects(const gw_bridge *b, const char *charger_id, int connector,
                      gw_object_view out[GW_OBJ_COUNT])
{
  if (!b || !charger_id || !out)
    return GW_EINVAL;
  const gw_charger *ch;
  const gw_connector *cn = find_connector(b, charger_id, connector, &ch);
  if (!cn)
    return GW_ENOTFOUND;
  int n = 0;
  for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
    if (cn->has_ga[obj])
      view_of(ch, cn, obj, &out[n++]);
  return n;
}

int gw_bridge_limit(const gw_bridge *b, const char *charger_id, int connector,
                    double *amps, gw_limit_by *by)
{
  if (!b || !charger_id || !amps || !by)
    return GW_EINVAL;
  const gw_charger *ch;
  const gw_connector *cn = find_connector(b, charger_id, connector, &ch);
  if (!cn || cn->limit_by == GW_LIMIT_NONE ||
      !cn->obj[GW_OBJ_MAX_CURRENT_STATE].known)
    return GW_ENOTFOUND;
  *amps = cn->obj[GW_OBJ_MAX_CURRENT_STATE].val.num;
  *by = cn->limit_by;
  return GW_OK;
}
