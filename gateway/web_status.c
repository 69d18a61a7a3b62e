/* What the gateway adds to the status object for the page: each
 * connector's KNX objects and the limit in force (from the bridge), and
 * the masking of tags when no password guards the page. */
#include "gateway/web.h"

#include <stdio.h>
#include <string.h>

json_t *gw_json_utc(time_t t)
{
  struct tm tm;
  char buf[32];
  if (t <= 0 || !gmtime_r(&t, &tm) ||
      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return json_null();
  return json_string(buf);
}

static json_t *object_value(const gw_object_view *v)
{
  if (!v->known)
    return json_null();
  switch (v->kind) {
  case GW_VIEW_TIME: return gw_json_utc(v->time);
  case GW_VIEW_TEXT: return json_string(v->text);
  case GW_VIEW_NUMBER: break;
  }
  return json_real(v->number);
}

/* The bridge stamps values with its monotonic clock; the page wants the
 * wall time, which is now minus the age. */
static json_t *object_time(const gw_object_view *v, uint64_t now_ms,
                           time_t now)
{
  if (!v->known || v->at_ms > now_ms)
    return v->known ? gw_json_utc(now) : json_null();
  return gw_json_utc(now - (time_t)((now_ms - v->at_ms) / 1000));
}

static json_t *objects_of(const gw_bridge *b, const char *id, int connector,
                          uint64_t now_ms, time_t now)
{
  gw_object_view views[GW_OBJ_COUNT];
  int n = gw_bridge_objects(b, id, connector, views);
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    char ga[KNX_GA_STRLEN];
    knx_ga_format(views[i].ga, ga);
    json_array_append_new(arr, json_pack(
      "{s:s,s:s,s:s,s:s,s:o,s:o}", "name", gw_object_key(views[i].obj),
      "ga", ga, "dpt", knx_dpt_name(views[i].dpt), "direction",
      views[i].state ? "sent" : "received", "value", object_value(&views[i]),
      "time", object_time(&views[i], now_ms, now)));
  }
  return arr;
}

static json_t *limit_of(const gw_bridge *b, const char *id, int connector,
                        const json_t *charger)
{
  static const char *const sources[] = {
    [GW_LIMIT_MAX_CURRENT] = "KNX max_current",
    [GW_LIMIT_FAST_CHARGING] = "KNX fast_charging",
    [GW_LIMIT_ENERGY] = "energy manager",
    [GW_LIMIT_BACKEND] = "billing backend",
  };
  double amps;
  gw_limit_by by;
  if (gw_bridge_limit(b, id, connector, &amps, &by) == GW_OK &&
      (unsigned)by < sizeof sources / sizeof sources[0])
    return json_pack("{s:f,s:s}", "amps", amps, "source", sources[by]);
  /* a limit the charger accepted before this connector's commands (a
   * charger-wide one) still holds */
  const json_t *wide = json_object_get(charger, "limit_a");
  if (json_is_number(wide))
    return json_pack("{s:f,s:s}", "amps", json_number_value(wide), "source",
                     "gateway (charger-wide)");
  return json_pack("{s:n,s:s}", "amps", "source", "charger default");
}

void gw_web_add_bridge(json_t *st, const gw_bridge *b, uint64_t now_ms,
                       time_t now)
{
  size_t i, k;
  json_t *c, *conn;
  json_array_foreach(json_object_get(st, "chargers"), i, c) {
    const char *id = json_string_value(json_object_get(c, "id"));
    if (!id)
      continue;
    json_array_foreach(json_object_get(c, "connectors"), k, conn) {
      int n = (int)json_integer_value(json_object_get(conn, "id"));
      json_object_set_new(conn, "objects", objects_of(b, id, n, now_ms, now));
      json_object_set_new(conn, "limit", limit_of(b, id, n, c));
    }
  }
}

static void mask_key(json_t *o, const char *key)
{
  const json_t *v = json_object_get(o, key);
  if (json_is_string(v) && json_string_length(v) > 0)
    json_object_set_new(o, key, json_string(GW_TAG_MASK));
}

void gw_web_mask_tags(json_t *st)
{
  size_t i, k, j;
  json_t *c, *conn, *obj, *s;
  json_array_foreach(json_object_get(st, "chargers"), i, c) {
    json_array_foreach(json_object_get(c, "connectors"), k, conn) {
      mask_key(conn, "id_tag");
      mask_key(conn, "tag_name");
      json_array_foreach(json_object_get(conn, "objects"), j, obj) {
        const char *name = json_string_value(json_object_get(obj, "name"));
        if (name && strcmp(name, gw_object_key(GW_OBJ_LAST_TAG)) == 0)
          mask_key(obj, "value");
      }
    }
  }
  json_array_foreach(json_object_get(st, "sessions"), i, s) {
    mask_key(s, "id_tag");
    mask_key(s, "tag_name");
  }
}
