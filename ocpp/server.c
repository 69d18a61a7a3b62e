/* The central system: listener, the registry of chargers, status output,
 * shutdown. Connections live in conn.c, OCPP handling in chargepoint.c and
 * commands.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/internal.h"

#define DEFAULT_MAX_MESSAGE 65536

void ocpp__log(ocpp_server *srv, ocpp_log_level lvl, const char *charger_id,
               const char *fmt, ...)
{
  if (!srv->cb.on_log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  srv->cb.on_log(srv->user_data, lvl, charger_id, line);
}

void ocpp__emit(ocpp_server *srv, const ocpp_event *ev)
{
  if (srv->cb.on_event)
    srv->cb.on_event(srv->user_data, ev);
}

uint64_t ocpp__now_ms(const ocpp_server *srv)
{
  return uv_now(srv->loop);
}

/* ---- the charger registry ---------------------------------------------- */

ocpp_cp *ocpp__find_cp(const ocpp_server *srv, const char *id)
{
  for (size_t i = 0; i < srv->n_cps; i++)
    if (strcmp(srv->cps[i]->opt.id, id) == 0)
      return srv->cps[i];
  return NULL;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static void cp_free_options(ocpp_cp *cp)
{
  free((char *)cp->opt.id);
  free((char *)cp->opt.name);
  free((char *)cp->opt.password);
  free((char *)cp->opt.remote_tag);
  for (size_t i = 0; i < cp->opt.n_tags; i++)
    free(cp->tag_store[i]);
  free(cp->tag_store);
  cp->tag_store = NULL;
  memset(&cp->opt, 0, sizeof cp->opt);
}

static int cp_copy_options(ocpp_cp *cp, const ocpp_charger_options *o)
{
  ocpp_charger_options c = *o;
  c.id = dup_or_null(o->id);
  c.name = dup_or_null(o->name ? o->name : o->id);
  c.password = dup_or_null(o->password);
  c.remote_tag = strdup(o->remote_tag && *o->remote_tag ? o->remote_tag : "KNX");
  c.tags = NULL;
  c.n_tags = 0;
  cp->opt = c;
  if (!c.id || !c.name || !c.remote_tag || (o->password && !c.password))
    return OCPP_ENOMEM;
  if (o->n_tags) {
    cp->tag_store = calloc(o->n_tags, sizeof(char *));
    if (!cp->tag_store)
      return OCPP_ENOMEM;
    for (size_t i = 0; i < o->n_tags; i++) {
      cp->tag_store[i] = strdup(o->tags[i]);
      if (!cp->tag_store[i])
        return OCPP_ENOMEM;
      cp->opt.n_tags = i + 1;
    }
    cp->opt.tags = (const char *const *)cp->tag_store;
  }
  if (cp->opt.n_connectors < 1)
    cp->opt.n_connectors = 1;
  if (cp->opt.n_connectors > OCPP_MAX_CONNECTORS)
    cp->opt.n_connectors = OCPP_MAX_CONNECTORS;
  if (cp->opt.voltage <= 0)
    cp->opt.voltage = 230;
  if (cp->opt.phases != 1 && cp->opt.phases != 3)
    cp->opt.phases = 3;
  return OCPP_OK;
}

static void cp_init_state(ocpp_cp *cp)
{
  cp->max_stack_level = -1;
  cp->smart_charging = true;
  cp->profile_strategy = -1;
  cp->limit_a = -1;
  for (int i = 0; i <= OCPP_MAX_CONNECTORS; i++) {
    cp->conn_state[i].status = OCPP_CP_AVAILABLE;
    cp->conn_state[i].error = OCPP_ERR_NO_ERROR;
  }
}

static ocpp_cp *cp_create(ocpp_server *srv, const ocpp_charger_options *o,
                          bool configured)
{
  ocpp_cp *cp = calloc(1, sizeof *cp);
  if (!cp)
    return NULL;
  cp->srv = srv;
  cp->configured = configured;
  cp_init_state(cp);
  if (cp_copy_options(cp, o) != OCPP_OK) {
    cp_free_options(cp);
    free(cp);
    return NULL;
  }
  return cp;
}

static void cp_destroy(ocpp_cp *cp)
{
  if (!cp)
    return;
  cp_free_options(cp);
  free(cp);
}

static int registry_append(ocpp_server *srv, ocpp_cp *cp)
{
  ocpp_cp **n = realloc(srv->cps, (srv->n_cps + 1) * sizeof *n);
  if (!n)
    return OCPP_ENOMEM;
  srv->cps = n;
  srv->cps[srv->n_cps++] = cp;
  return OCPP_OK;
}

ocpp_cp *ocpp__add_unknown_cp(ocpp_server *srv, const char *id)
{
  static const char *const all[] = {"*"};
  ocpp_charger_options o = {
    .id = id, .start_mode = OCPP_START_TAG, .tags = all, .n_tags = 1,
    .remote_tag = "KNX", .n_connectors = 1, .voltage = 230, .phases = 3,
  };
  ocpp_cp *cp = cp_create(srv, &o, false);
  if (!cp)
    return NULL;
  if (registry_append(srv, cp) != OCPP_OK) {
    cp_destroy(cp);
    return NULL;
  }
  return cp;
}

void ocpp__remember_refused(ocpp_server *srv, const char *identity,
                            const char *address, int status,
                            const char *reason)
{
  /* The same charger retries every few seconds: keep one entry per
   * identity and address, with the latest time. */
  ocpp_refused *r = NULL;
  for (size_t i = 0; i < srv->n_refused; i++)
    if (strcmp(srv->refused[i].identity, identity) == 0 &&
        strcmp(srv->refused[i].address, address) == 0)
      r = &srv->refused[i];
  if (!r) {
    r = &srv->refused[srv->refused_next];
    srv->refused_next = (srv->refused_next + 1) % OCPP_MAX_REFUSED;
    if (srv->n_refused < OCPP_MAX_REFUSED)
      srv->n_refused++;
  }
  snprintf(r->identity, sizeof r->identity, "%s", identity);
  snprintf(r->address, sizeof r->address, "%s", address);
  snprintf(r->reason, sizeof r->reason, "%s", reason);
  r->http_status = status;
  r->when = time(NULL);

  ocpp_event ev = {.type = OCPP_EV_REFUSED, .charger_id = identity,
                   .timestamp = r->when};
  ev.refused.identity = identity;
  ev.refused.address = address;
  ev.refused.http_status = status;
  ev.refused.reason = reason;
  ocpp__emit(srv, &ev);
}

int ocpp__count_handshakes_from(const ocpp_server *srv, const char *ip)
{
  int n = 0;
  for (const ocpp_conn *c = srv->conns; c; c = c->next)
    if (c->state == OCPP_CONN_HANDSHAKE && strcmp(c->peer_ip, ip) == 0)
      n++;
  return n;
}

/* ---- listener ----------------------------------------------------------- */

static void on_connection(uv_stream_t *listener, int status)
{
  ocpp_server *srv = listener->data;
  if (status < 0) {
    ocpp__log(srv, OCPP_LOG_WARN, NULL, "accept failed: %s",
              uv_strerror(status));
    return;
  }
  ocpp__conn_accept(srv, listener,
                    listener == (uv_stream_t *)&srv->tls_listener);
}

static int start_listener(ocpp_server *srv, char *err, size_t err_len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (ocpp_listen_parse(srv->opt.listen, &ss) != OCPP_OK) {
    snprintf(err, err_len, "listen: invalid address \"%s\"", srv->opt.listen);
    return OCPP_EINVAL;
  }
  uv_tcp_init(srv->loop, &srv->listener);
  srv->listener.data = srv;
  srv->listening = true;
  int rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
  if (rc != 0) {
    snprintf(err, err_len, "listen %s: %s", srv->opt.listen, uv_strerror(rc));
    return OCPP_ELISTEN;
  }
  return OCPP_OK;
}

static int start_tls_listener(ocpp_server *srv, char *err, size_t err_len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (ocpp_listen_parse(srv->opt.tls_listen, &ss) != OCPP_OK) {
    snprintf(err, err_len, "tls_listen: invalid address \"%s\"",
             srv->opt.tls_listen);
    return OCPP_EINVAL;
  }
  uv_tcp_init(srv->loop, &srv->tls_listener);
  srv->tls_listener.data = srv;
  srv->tls_listening = true;
  int rc = uv_tcp_bind(&srv->tls_listener, (struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&srv->tls_listener, 128, on_connection);
  if (rc != 0) {
    snprintf(err, err_len, "tls_listen %s: %s", srv->opt.tls_listen,
             uv_strerror(rc));
    return OCPP_ELISTEN;
  }
  return OCPP_OK;
}

/* ---- create / destroy --------------------------------------------------- */

static void free_options(ocpp_server_options *o)
{
  free((char *)o->listen);
  free((char *)o->tls_listen);
  free((char *)o->tls_cert);
  free((char *)o->tls_key);
  free((char *)o->tls_ca);
}

static int copy_options(ocpp_server *srv, const ocpp_server_options *o)
{
  srv->opt = *o;
  srv->opt.listen = dup_or_null(o->listen);
  srv->opt.tls_listen = dup_or_null(o->tls_listen);
  srv->opt.tls_cert = dup_or_null(o->tls_cert);
  srv->opt.tls_key = dup_or_null(o->tls_key);
  srv->opt.tls_ca = dup_or_null(o->tls_ca);
  if (srv->opt.max_message_size == 0)
    srv->opt.max_message_size = DEFAULT_MAX_MESSAGE;
  if (srv->opt.heartbeat_interval <= 0)
    srv->opt.heartbeat_interval = 300;
  if (srv->opt.call_timeout <= 0)
    srv->opt.call_timeout = 30;
  if (srv->opt.meter_sample_interval <= 0)
    srv->opt.meter_sample_interval = 60;
  if ((o->listen && !srv->opt.listen) || (o->tls_listen && !srv->opt.tls_listen))
    return OCPP_ENOMEM;
  return OCPP_OK;
}

static void free_registry(ocpp_server *srv)
{
  for (size_t i = 0; i < srv->n_cps; i++)
    cp_destroy(srv->cps[i]);
  free(srv->cps);
  srv->cps = NULL;
  srv->n_cps = 0;
}

static void server_free(ocpp_server *srv)
{
  free_registry(srv);
  free_options(&srv->opt);
  ocpp_tls_ctx_destroy(srv->tls_ctx);
  free(srv);
}

static void on_listener_closed_on_error(uv_handle_t *h)
{
  ocpp_server *srv = h->data;
  if (--srv->pending_closes <= 0)
    server_free(srv);
}

/* Creation failed with listeners open: the memory goes once every one of
 * them is closed. */
static void abandon_listeners(ocpp_server *srv)
{
  uv_tcp_t *handles[] = {&srv->listener, &srv->tls_listener};
  bool open[] = {srv->listening, srv->tls_listening};
  srv->pending_closes = 0;
  for (size_t i = 0; i < 2; i++)
    srv->pending_closes += open[i];
  if (srv->pending_closes == 0) {
    server_free(srv);
    return;
  }
  for (size_t i = 0; i < 2; i++)
    if (open[i])
      uv_close((uv_handle_t *)handles[i], on_listener_closed_on_error);
}

int ocpp_server_create(uv_loop_t *loop, const ocpp_server_options *opts,
                       const ocpp_charger_options *chargers, size_t n_chargers,
                       const ocpp_callbacks *cb, void *user_data,
                       ocpp_server **out, char *err, size_t err_len)
{
  char dummy[8];
  if (!err) {
    err = dummy;
    err_len = sizeof dummy;
  }
  err[0] = '\0';
  if (!out)
    return OCPP_EINVAL;
  *out = NULL;
  if (!loop || !opts || !cb || (n_chargers && !chargers))
    return OCPP_EINVAL;
  ocpp_server *srv = calloc(1, sizeof *srv);
  if (!srv)
    return OCPP_ENOMEM;
  srv->loop = loop;
  srv->cb = *cb;
  srv->user_data = user_data;
  srv->next_reservation_id = 1;
  srv->started = time(NULL);
  int rc = copy_options(srv, opts);
  if (rc == OCPP_OK)
    rc = ocpp_server_set_chargers(srv, chargers, n_chargers);
  if (rc != OCPP_OK) {
    snprintf(err, err_len, "%s", ocpp_strerror(rc));
    server_free(srv);
    return rc;
  }
  if (srv->opt.tls_listen && srv->opt.tls_listen[0]) {
    rc = ocpp_tls_ctx_create(srv->opt.tls_cert, srv->opt.tls_key,
                             srv->opt.tls_ca, &srv->tls_ctx, err, err_len);
    if (rc != OCPP_OK) {
      server_free(srv);
      return rc == OCPP_EINVAL ? OCPP_ETLS : rc;
    }
  }
  if (srv->opt.listen && srv->opt.listen[0]) {
    rc = start_listener(srv, err, err_len);
    if (rc != OCPP_OK) {
      if (srv->listening) {
        /* A bound-but-failed handle must be closed before the memory goes;
         * the loop runs the close callback, so the caller sees the error
         * now and the memory is freed on the next loop turn. */
        uv_close((uv_handle_t *)&srv->listener, on_listener_closed_on_error);
      } else {
        server_free(srv);
      }
      return rc;
    }
  }
  if (srv->tls_ctx) {
    rc = start_tls_listener(srv, err, err_len);
    if (rc != OCPP_OK) {
      abandon_listeners(srv);
      return rc;
    }
  }
  *out = srv;
  return OCPP_OK;
}

static void maybe_finish_destroy(ocpp_server *srv)
{
  if (srv->pending_closes > 0 || srv->conns)
    return;
  void (*done)(void *) = srv->on_closed;
  void *data = srv->on_closed_data;
  server_free(srv);
  if (done)
    done(data);
}

void ocpp__conn_unlinked(ocpp_server *srv)
{
  if (srv->destroying)
    maybe_finish_destroy(srv);
}

static void on_listener_closed(uv_handle_t *h)
{
  ocpp_server *srv = h->data;
  srv->pending_closes--;
  maybe_finish_destroy(srv);
}

void ocpp_server_destroy(ocpp_server *srv, void (*on_closed)(void *user_data))
{
  if (!srv)
    return;
  srv->destroying = true;
  srv->on_closed = on_closed;
  srv->on_closed_data = srv->user_data;
  if (srv->listening) {
    srv->listening = false;
    srv->pending_closes++;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
  }
  if (srv->tls_listening) {
    srv->tls_listening = false;
    srv->pending_closes++;
    uv_close((uv_handle_t *)&srv->tls_listener, on_listener_closed);
  }
  ocpp_conn *next;
  for (ocpp_conn *c = srv->conns; c; c = next) {
    next = c->next;
    ocpp__conn_close(c, WSLAY_CODE_GOING_AWAY, "server shutting down");
  }
  maybe_finish_destroy(srv);
}

/* Replaces the charger set. Chargers that stay keep their live state and
 * connection; the options are refreshed. */
int ocpp_server_set_chargers(ocpp_server *srv,
                             const ocpp_charger_options *chargers, size_t n)
{
  if (!srv || (n && !chargers))
    return OCPP_EINVAL;
  ocpp_cp **next = calloc(n + srv->n_cps + 1, sizeof *next);
  if (!next)
    return OCPP_ENOMEM;
  size_t count = 0;
  int rc = OCPP_OK;
  for (size_t i = 0; i < n && rc == OCPP_OK; i++) {
    if (!chargers[i].id || !chargers[i].id[0]) {
      rc = OCPP_EINVAL;
      break;
    }
    ocpp_cp *old = ocpp__find_cp(srv, chargers[i].id);
    ocpp_cp *cp = cp_create(srv, &chargers[i], true);
    if (!cp) {
      rc = OCPP_ENOMEM;
      break;
    }
    if (old) {
      /* keep the live state and the connection, take the new options */
      cp_free_options(old);
      old->opt = cp->opt;
      old->tag_store = cp->tag_store;
      old->configured = true;
      free(cp);
      cp = old;
    }
    next[count++] = cp;
  }
  if (rc != OCPP_OK) {
    for (size_t i = 0; i < count; i++)
      if (!ocpp__find_cp(srv, next[i]->opt.id))
        cp_destroy(next[i]);
    free(next);
    return rc;
  }
  /* chargers that are gone: disconnect; unknown-but-accepted stay */
  for (size_t i = 0; i < srv->n_cps; i++) {
    ocpp_cp *cp = srv->cps[i];
    bool kept = false;
    for (size_t j = 0; j < count && !kept; j++)
      kept = strcmp(next[j]->opt.id, cp->opt.id) == 0;
    if (kept)
      continue;
    if (!cp->configured && srv->opt.accept_unknown) {
      next[count++] = cp;
      continue;
    }
    if (cp->conn) {
      ocpp__log(srv, OCPP_LOG_INFO, cp->opt.id,
                "no longer configured: disconnecting");
      ocpp_conn *c = cp->conn;
      ocpp__cp_on_close(cp, c);
      c->cp = NULL;
      ocpp__conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "charger removed");
    }
    cp_destroy(cp);
  }
  free(srv->cps);
  srv->cps = next;
  srv->n_cps = count;
  return OCPP_OK;
}

bool ocpp_server_is_online(const ocpp_server *srv, const char *charger_id)
{
  if (!srv || !charger_id)
    return false;
  const ocpp_cp *cp = ocpp__find_cp(srv, charger_id);
  return cp && cp->conn && cp->conn->state == OCPP_CONN_OPEN;
}

/* ---- status ------------------------------------------------------------- */

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
  const ocpp_connector_state *s = &cp->conn_state[i];
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(i));
  json_object_set_new(o, "status", s->status_known
                      ? json_string(ocpp_cp_status_name(s->status)) : json_null());
  json_object_set_new(o, "error_code", json_string(ocpp_cp_error_name(s->error)));
  json_object_set_new(o, "transaction_id",
                      s->tx_id ? json_integer(s->tx_id) : json_null());
  json_object_set_new(o, "current_a", number_or_null(s->has_current, s->current_a));
  json_object_set_new(o, "power_w", number_or_null(s->has_power, s->power_w));
  json_object_set_new(o, "energy_wh", number_or_null(s->has_energy, s->energy_wh));
  json_object_set_new(o, "session_energy_wh",
                      number_or_null(s->tx_id && s->has_energy && s->tx_has_meter_start,
                                     s->session_energy_wh));
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
  json_object_set_new(o, "last_seen", time_or_null(cp->last_seen));
  json_t *arr = json_array();
  int n = cp->opt.n_connectors;
  if (cp->number_of_connectors > n)
    n = cp->number_of_connectors > OCPP_MAX_CONNECTORS ? OCPP_MAX_CONNECTORS
                                                       : cp->number_of_connectors;
  for (int i = 1; i <= n; i++)
    json_array_append_new(arr, connector_status(cp, i));
  json_object_set_new(o, "connectors", arr);
  return o;
}

json_t *ocpp_server_status(const ocpp_server *srv)
{
  if (!srv)
    return NULL;
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
