/* The status output: every charger's record and the refused identities
 * as JSON, for the status page and GET /status. */
#include "ocpp/codec.h"
#include "ocpp/internal.h"

static json_t *time_or_null(time_t t)
{
  if (!t)
    return json_null();
  char buf[OCPP_TIME_STRLEN];
  ocpp_time_format(t, buf);
  return json_string(buf);
}

static json_t *number_or_null(bool has, double v)
{
  return has ? json_real(v) : json_null();
}

static json_t *connector_status(const ocpp_cp *cp, int i)
{
  const ocpp_connector_state *s = ocpp__cp_connector_peek(cp, i);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(i));
  json_object_set_new(o, "status", s->status_known
                      ? json_string(ocpp_cp_status_name(s->status)) : json_null());
  json_object_set_new(o, "error_code", json_string(ocpp_cp_error_name(s->error)));
  json_object_set_new(o, "transaction_id",
                      s->tx_id ? json_integer(s->tx_id) : json_null());
  json_object_set_new(o, "id_tag", s->tx_id ? json_string(s->tx_tag) : json_null());
  json_object_set_new(o, "tag_name", s->tx_id && s->tx_tag_name[0]
                      ? json_string(s->tx_tag_name) : json_null());
  json_object_set_new(o, "current_a", number_or_null(s->has_current, s->current_a));
  json_object_set_new(o, "power_w", number_or_null(s->has_power, s->power_w));
  json_object_set_new(o, "energy_wh", number_or_null(s->has_energy, s->energy_wh));
  double session_wh = 0;
  bool has_session = ocpp__cp_session_energy(s, &session_wh);
  json_object_set_new(o, "session_energy_wh",
                      number_or_null(has_session, session_wh));
  json_object_set_new(o, "transaction_start",
                      s->tx_id ? time_or_null(s->tx_start) : json_null());
  return o;
}

static json_t *charger_status(const ocpp_cp *cp)
{
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(cp->opt.id));
  json_object_set_new(o, "name", json_string(cp->opt.name ? cp->opt.name : cp->opt.id));
  json_object_set_new(o, "configured", json_boolean(cp->configured));
  json_object_set_new(o, "online", json_boolean(cp->conn && cp->conn->state == OCPP_CONN_OPEN));
  json_object_set_new(o, "address", cp->conn ? json_string(cp->conn->peer) : json_null());
  json_object_set_new(o, "vendor", json_string(cp->vendor));
  json_object_set_new(o, "model", json_string(cp->model));
  json_object_set_new(o, "serial", json_string(cp->serial));
  json_object_set_new(o, "firmware", json_string(cp->firmware));
  json_object_set_new(o, "ocpp_version",
                      cp->version == OCPP_VERSION_201 ? json_string("2.0.1")
                      : cp->version == OCPP_VERSION_16 ? json_string("1.6")
                                                       : json_null());
  json_object_set_new(o, "evse_count", cp->evse_count ? json_integer(cp->evse_count)
                                                      : json_null());
  json_object_set_new(o, "last_seen", time_or_null(cp->last_seen));
  json_object_set_new(o, "connected_since",
                      cp->conn ? time_or_null(cp->connected_since)
                               : json_null());
  json_object_set_new(o, "limit_a", cp->limit_a >= 0 ? json_real(cp->limit_a)
                                                     : json_null());
  json_t *arr = json_array();
  int n = ocpp__cp_connector_count(cp);
  for (int i = 1; i <= n; i++)
    json_array_append_new(arr, connector_status(cp, i));
  json_object_set_new(o, "connectors", arr);
  return o;
}

json_t *ocpp__status(const ocpp_server *srv)
{
  json_t *root = json_object();
  json_t *chargers = json_array();
  for (size_t i = 0; i < srv->n_cps; i++)
    json_array_append_new(chargers, charger_status(srv->cps[i]));
  json_object_set_new(root, "chargers", chargers);
  json_t *refused = json_array();
  for (size_t i = 0; i < srv->n_refused; i++) {
    const ocpp_refused *r = &srv->refused[i];
    json_t *o = json_object();
    json_object_set_new(o, "identity", json_string(r->identity));
    json_object_set_new(o, "address", json_string(r->address));
    json_object_set_new(o, "time", time_or_null(r->when));
    json_object_set_new(o, "http_status", json_integer(r->http_status));
    json_object_set_new(o, "reason", json_string(r->reason));
    json_array_append_new(refused, o);
  }
  json_object_set_new(root, "refused", refused);
  return root;
}
