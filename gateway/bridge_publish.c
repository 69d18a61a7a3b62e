/* Values to group addresses: the gateway's own units (A, W, Wh, 0/1) are
 * turned into the DPT configured for each object, and only what changed on
 * the bus is queued. Measurements have a hysteresis so that a steady
 * session stays within a few telegrams per minute. */
#include "gateway/bridge_impl.h"

#include <math.h>
#include <string.h>

/* Decimal noise (16.1 - 15.9) must not count as a step above hysteresis. */
static const double GW_HYSTERESIS_EPS = 1e-9;

/* The gateway's unit times this factor is the DPT's unit; 0 means 1. */
static const double gw_dpt_scale[KNX_DPT_COUNT] = {
  [KNX_DPT_9_021] = 1000.0, /* A -> mA */
  [KNX_DPT_9_024] = 0.001,  /* W -> kW */
  [KNX_DPT_13_013] = 0.001, /* Wh -> kWh */
};

static const gw_kind gw_dpt_kind[KNX_DPT_COUNT] = {
  [KNX_DPT_10_001] = GW_KIND_TIME,
  [KNX_DPT_11_001] = GW_KIND_TIME,
  [KNX_DPT_19_001] = GW_KIND_TIME,
  [KNX_DPT_16_000] = GW_KIND_TEXT,
  [KNX_DPT_16_001] = GW_KIND_TEXT,
};

const char *gw__object_name(gw_object obj)
{
  const char *key = gw_object_key(obj);
  return key ? key : "?";
}

double gw__dpt_scale(knx_dpt dpt)
{
  double s = (unsigned)dpt < KNX_DPT_COUNT ? gw_dpt_scale[dpt] : 0.0;
  return s != 0.0 ? s : 1.0;
}

gw_kind gw__dpt_kind(knx_dpt dpt)
{
  return (unsigned)dpt < KNX_DPT_COUNT ? gw_dpt_kind[dpt] : GW_KIND_NUMBER;
}

static int local_time(time_t t, knx_dpt dpt, knx_datetime *out)
{
  struct tm tm;
  if (!localtime_r(&t, &tm))
    return KNX_ERANGE;
  memset(out, 0, sizeof *out);
  out->weekday = tm.tm_wday == 0 ? 7 : tm.tm_wday;
  out->hour = tm.tm_hour;
  out->minute = tm.tm_min;
  out->second = tm.tm_sec > 59 ? 59 : tm.tm_sec; /* leap second */
  if (dpt == KNX_DPT_19_001 || dpt == KNX_DPT_11_001) {
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
  }
  if (dpt == KNX_DPT_19_001) {
    out->flags = KNX_DT_NO_WORKING_DAY;
    if (tm.tm_isdst > 0)
      out->flags |= KNX_DT_SUMMER_TIME;
  }
  return KNX_OK;
}

static int encode_value(knx_dpt dpt, const gw_value *v, knx_payload *out)
{
  knx_value kv;
  memset(&kv, 0, sizeof kv);
  switch (gw__dpt_kind(dpt)) {
  case GW_KIND_TIME: {
    int rc = local_time(v->time, dpt, &kv.time);
    if (rc != KNX_OK)
      return rc;
    break;
  }
  case GW_KIND_TEXT:
    memcpy(kv.text, v->text, sizeof kv.text);
    break;
  case GW_KIND_NUMBER:
    kv.number = v->num * gw__dpt_scale(dpt);
    break;
  }
  return knx_dpt_encode(dpt, &kv, out);
}

/* The encoding of what an object last published: kept as the value only
 * (a thousand chargers with thirty objects each), encoded again when a
 * read or a returning knxd needs the bytes. */
static bool published_payload(const gw_charger *ch, gw_object obj,
                              const gw_published *o, knx_payload *out)
{
  return o->known && encode_value(ch->dpt[obj], &o->val, out) == KNX_OK;
}

static bool payload_equal(const knx_payload *a, const knx_payload *b)
{
  return a->short_form == b->short_form && a->len == b->len &&
         memcmp(a->data, b->data, a->len) == 0;
}

/* Records v as the object's value and queues it when it changed on the bus
 * (or when force asks to correct a panel). Objects without a group address
 * still remember the value, so a reload that adds the address has it. */
void gw__publish(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                 gw_object obj, const gw_value *v, bool force)
{
  gw_published *o = &cn->obj[obj];
  if (!cn->has_ga[obj]) {
    o->known = true;
    o->val = *v;
    o->at_ms = b->now_ms;
    return;
  }
  knx_payload p;
  int rc = encode_value(ch->dpt[obj], v, &p);
  if (rc != KNX_OK) {
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: %s cannot be encoded as "
            "DPT %s (%s)", cn->id, gw__object_name(obj),
            knx_dpt_name(ch->dpt[obj]), knx_strerror(rc));
    return;
  }
  knx_payload old;
  if (!force && published_payload(ch, obj, o, &old) && payload_equal(&old, &p))
    return;
  o->known = true;
  o->val = *v;
  o->at_ms = b->now_ms;
  gw__queue_write(b, cn->ga[obj], &p);
}

void gw__publish_number(gw_bridge *b, const gw_charger *ch,
                        gw_connector *cn, gw_object obj, double num,
                        bool force)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  v.num = num;
  gw__publish(b, ch, cn, obj, &v, force);
}

/* A measurement goes out when it moved more than hyst from the value last
 * sent, or when it drops to exactly 0 (a stopped session must show 0). */
void gw__publish_measure(gw_bridge *b, const gw_charger *ch,
                         gw_connector *cn, gw_object obj, double num,
                         double hyst)
{
  if (!isfinite(num))
    return;
  const gw_published *o = &cn->obj[obj];
  if (o->known) {
    bool to_zero = num == 0.0 && o->val.num != 0.0;
    if (!to_zero && fabs(num - o->val.num) <= hyst + GW_HYSTERESIS_EPS)
      return;
  }
  gw__publish_number(b, ch, cn, obj, num, false);
}

void gw__publish_time(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                      gw_object obj, time_t t)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  v.time = t;
  gw__publish(b, ch, cn, obj, &v, false);
}

/* 16.000 is ASCII only: every other byte shows as '?'. Sets *cut when
 * in is longer than GW_TAG_MAX bytes. */
static void ascii_text(const char *in, char *out, bool *cut)
{
  size_t len = strlen(in);
  *cut = len > GW_TAG_MAX;
  if (*cut)
    len = GW_TAG_MAX;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    out[i] = c > 0x7F ? '?' : (char)c;
  }
}

void gw__publish_tag(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                     const char *tag, const char *name)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  bool cut;
  bool named = name && *name;
  ascii_text(named ? name : tag, v.text, &cut);
  if (cut && !named)
    gw__log(b, GW_LOG_INFO, ch->id, "idTag \"%s\" is longer than %d "
            "characters: last_tag shows the first %d", tag, GW_TAG_MAX,
            GW_TAG_MAX);
  gw__publish(b, ch, cn, GW_OBJ_LAST_TAG, &v, false);
}

void gw__set_charging(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                      bool charging)
{
  cn->charging = charging;
  gw__publish_number(b, ch, cn, GW_OBJ_CHARGING_STATE, charging ? 1 : 0, false);
}

bool gw__answer_read(gw_bridge *b, const gw_ga_ref *r)
{
  if (!gw_object_is_state(r->obj))
    return false;
  const gw_published *o = &r->ch->conn[r->conn].obj[r->obj];
  knx_payload p;
  if (!published_payload(r->ch, r->obj, o, &p))
    return false;
  gw__queue_response(b, r->ga, &p);
  return true;
}

int gw_bridge_publish_value(gw_bridge *b, const char *charger_id,
                            int connector, gw_object obj, double value)
{
  if (!b || !charger_id || (unsigned)obj >= GW_OBJ_COUNT ||
      !gw_object_is_state(obj) || !isfinite(value))
    return GW_EINVAL;
  gw_charger *ch = gw__charger_find(b->chargers, b->n_chargers, charger_id);
  gw_connector *cn = ch ? gw__connector_find(ch, connector) : NULL;
  if (!cn)
    return GW_ENOTFOUND;
  gw__publish_number(b, ch, cn, obj, value, false);
  return GW_OK;
}

int gw_bridge_send_value(gw_bridge *b, uint16_t ga, knx_dpt dpt, double value,
                         bool response)
{
  if (!b || gw__dpt_kind(dpt) != GW_KIND_NUMBER)
    return GW_EINVAL;
  gw_value v = {.num = value};
  knx_payload p;
  if (encode_value(dpt, &v, &p) != KNX_OK)
    return GW_EINVAL;
  if (response)
    gw__queue_response(b, ga, &p);
  else
    gw__queue_write(b, ga, &p);
  return GW_OK;
}

/* While knxd is gone nothing can be sent, and what waited would be stale;
 * once it is back the panels may have missed everything, so every known
 * state goes out again. */
void gw_bridge_on_knx_link(gw_bridge *b, bool up, uint64_t now_ms)
{
  if (!b)
    return;
  b->now_ms = now_ms;
  b->link_down = !up;
  if (!up) {
    gw__queues_clear(b);
    return;
  }
  b->overflow_logged = false;
  for (size_t i = 0; i < b->n_chargers; i++) {
    gw_charger *ch = b->chargers[i];
    for (size_t c = 0; c < ch->n_conn; c++) {
      gw_connector *cn = &ch->conn[c];
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
        knx_payload p;
        if (cn->has_ga[obj] && gw_object_is_state(obj) &&
            published_payload(ch, obj, &cn->obj[obj], &p))
          gw__queue_write(b, cn->ga[obj], &p);
      }
    }
  }
}
