/* What the central system roles of both versions share: reading a
 * request's strings and times, the decision on an idTag (the owner's tag
 * list, the authorize hook, then start_mode and tags) and a meter sample
 * turned into the connector's state and an event. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/cs_common.h"

const char *ocpp__cs_str(const json_t *req, const char *key)
{
  const char *v = json_string_value(json_object_get(req, key));
  return v ? v : "";
}

int ocpp__cs_int(const json_t *obj, const char *key, int fallback)
{
  const json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v))
    return fallback;
  json_int_t n = json_integer_value(v);
  return n < INT_MIN || n > INT_MAX ? fallback : (int)n;
}

time_t ocpp__cs_time(const ocpp_session *s, const json_t *req, const char *key)
{
  time_t t;
  const char *v = json_string_value(json_object_get(req, key));
  if (v && ocpp_time_parse(v, &t) == 0)
    return t;
  return s->now.wall;
}

json_t *ocpp__cs_now(const ocpp_session *s)
{
  char buf[OCPP_TIME_STRLEN];
  ocpp_time_format(s->now.wall, buf);
  return json_string(buf);
}

/* The next comma-separated member at *p, without the spaces around it;
 * false at the end of the list. */
static bool next_member(const char **p, const char **member, size_t *len)
{
  const char *m = *p;
  while (*m == ' ' || *m == ',')
    m++;
  if (!*m)
    return false;
  const char *end = strchr(m, ',');
  size_t n = end ? (size_t)(end - m) : strlen(m);
  *p = m + n;
  while (n && m[n - 1] == ' ')
    n--;
  *member = m;
  *len = n;
  return true;
}

static bool has_member(const char *list, const char *member, size_t len)
{
  const char *p = list, *m;
  size_t n;
  while (next_member(&p, &m, &n))
    if (n == len && strncmp(m, member, len) == 0)
      return true;
  return false;
}

bool ocpp__cs_list_includes(const char *list, const char *wanted)
{
  const char *p = wanted, *m;
  size_t n;
  while (next_member(&p, &m, &n))
    if (!has_member(list, m, n))
      return false;
  return true;
}

json_t *ocpp__cs_tag_info(const ocpp_cs_verdict *v)
{
  json_t *info = json_pack("{s:s}", "status", ocpp_auth_status_name(v->status));
  if (info && v->expiry) {
    char buf[OCPP_TIME_STRLEN];
    ocpp_time_format(v->expiry, buf);
    json_object_set_new(info, "expiryDate", json_string(buf));
  }
  return info;
}

/* A tag's decision, logged and reported. */
void ocpp__cs_tag_decided(ocpp_session *s, int connector, const char *tag,
                          const ocpp_cs_verdict *v)
{
  ocpp__session_log(s, v->status == OCPP_AUTH_ACCEPTED ? OCPP_LOG_INFO
                                                       : OCPP_LOG_WARN,
                    "idTag \"%s\"%s%s%s: %s", tag, v->name[0] ? " (" : "",
                    v->name, v->name[0] ? ")" : "",
                    ocpp_auth_status_name(v->status));
  ocpp_event ev = {.type = OCPP_EV_TAG, .connector = connector};
  ev.tag.id_tag = tag;
  ev.tag.name = v->name;
  ev.tag.result = v->status;
  ocpp__session_emit(s, &ev);
}

/* The owner's tag list decides for the tags it knows; then the owner's
 * authorize hook (a billing backend's tag), now or later; the others
 * follow start_mode and tags. OCPP_EPENDING: out waits for the decision;
 * another failure is a CALLERROR in out. */
int ocpp__cs_check_tag(ocpp_session *s, int connector, const char *tag,
                     ocpp_cs_verdict *v, ocpp_handler_out *out)
{
  const ocpp_store_hooks *h = &s->cfg.store;
  ocpp_tag_verdict known = {.status = OCPP_AUTH_INVALID};
  memset(v, 0, sizeof *v);
  if (tag[0] && h->lookup_tag &&
      h->lookup_tag(s->cfg.store_data, s->cfg.log_id, tag, s->now.wall, &known)) {
    v->status = known.status;
    v->expiry = known.expiry;
    snprintf(v->name, sizeof v->name, "%s", known.name);
  } else {
    uint32_t token = 0;
    int rc = ocpp__session_decide_tag(s, tag, &v->status, &token);
    if (rc == OCPP_EPENDING) {
      out->defer_token = token;
      return rc;
    }
    if (rc == OCPP_EQUEUEFULL || rc == OCPP_ENOMEM) {
      out->error_code = "InternalError";
      snprintf(out->error_text, sizeof out->error_text,
               "too many idTags waiting for a decision");
      return rc;
    }
    if (rc == OCPP_ENOENT)
      v->status = ocpp_tag_check(&s->cp->opt, tag);
  }
  ocpp__cs_tag_decided(s, connector, tag, v);
  return OCPP_OK;
}

void ocpp__cs_emit_meter(ocpp_session *s, int connector, int32_t tx_id,
                         const ocpp_meter_sample *m, const char *charger_tx_id)
{
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, connector);
  ocpp_event ev = {.type = OCPP_EV_METER, .connector = connector,
                   .timestamp = m->timestamp};
  if (cs) {
    if (m->has_current) { cs->current_a = m->current_a; cs->has_current = true; }
    if (m->has_power) { cs->power_w = m->power_w; cs->has_power = true; }
    if (m->has_energy) {
      cs->energy_wh = m->energy_wh;
      cs->has_energy = true;
      if (cs->tx_id && (tx_id == 0 || cs->tx_id == tx_id) &&
          cs->tx_has_meter_start && m->energy_wh >= cs->tx_meter_start_wh) {
        cs->session_energy_wh = m->energy_wh - cs->tx_meter_start_wh;
        ev.meter.has_session_energy = true;
        ev.meter.session_energy_wh = cs->session_energy_wh;
      }
    }
  }
  ev.meter.transaction_id = tx_id;
  ev.meter.context = m->context;
  ev.meter.has_energy = m->has_energy;
  ev.meter.energy_wh = m->energy_wh;
  ev.meter.has_current = m->has_current;
  ev.meter.current_a = m->current_a;
  memcpy(ev.meter.current_phase_a, m->current_phase_a, sizeof m->current_phase_a);
  ev.meter.has_power = m->has_power;
  ev.meter.power_w = m->power_w;
  ev.meter.has_voltage = m->has_voltage;
  ev.meter.voltage_v = m->voltage_v;
  ev.meter.has_offered = m->has_offered;
  ev.meter.offered_a = m->offered_a;
  ev.meter.charger_tx_id = charger_tx_id ? charger_tx_id : "";
  ocpp__session_emit(s, &ev);
}

