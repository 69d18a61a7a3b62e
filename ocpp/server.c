/* The central system: listeners, creation and shutdown, reloading the
 * charger set, and the command entry. Connections live in conn.c, the
 * charger records in registry.c, OCPP in the session engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/http.h"
#include "ocpp/internal.h"
#include "ocpp/ws.h"

#define DEFAULT_MAX_MESSAGE 65536

static void conn_gone(ocpp_server *srv);

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
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
  free((char *)o->http_password);
}

static int copy_options(ocpp_server *srv, const ocpp_server_options *o)
{
  srv->opt = *o;
  srv->opt.listen = dup_or_null(o->listen);
  srv->opt.tls_listen = dup_or_null(o->tls_listen);
  srv->opt.tls_cert = dup_or_null(o->tls_cert);
  srv->opt.tls_key = dup_or_null(o->tls_key);
  srv->opt.tls_ca = dup_or_null(o->tls_ca);
  srv->opt.http_password = dup_or_null(o->http_password);
  if (srv->opt.max_message_size == 0)
    srv->opt.max_message_size = DEFAULT_MAX_MESSAGE;
  if (srv->opt.heartbeat_interval <= 0)
    srv->opt.heartbeat_interval = 300;
  if (srv->opt.call_timeout <= 0)
    srv->opt.call_timeout = 30;
  if (srv->opt.meter_sample_interval <= 0)
    srv->opt.meter_sample_interval = 60;
  if ((o->listen && !srv->opt.listen) ||
      (o->tls_listen && !srv->opt.tls_listen) ||
      (o->http_password && !srv->opt.http_password))
    return OCPP_ENOMEM;
  return OCPP_OK;
}

static void free_registry(ocpp_server *srv)
{
  for (size_t i = 0; i < srv->n_cps; i++)
    ocpp__cp_destroy(srv->cps[i]);
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
  srv->counters.next_reservation_id = 1;
  srv->counters.next_fallback_tx = 1;
  srv->conn_gone = conn_gone;
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

static void conn_gone(ocpp_server *srv)
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
    ocpp__conn_close(c, OCPP_WS_GOING_AWAY, "server shutting down");
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
    ocpp_cp *cp = ocpp__cp_create(&chargers[i], true);
    if (!cp) {
      rc = OCPP_ENOMEM;
      break;
    }
    if (old) {
      /* keep the live state and the connection, take the new options */
      ocpp__cp_take_options(old, cp);
      cp = old;
    }
    next[count++] = cp;
  }
  if (rc != OCPP_OK) {
    for (size_t i = 0; i < count; i++)
      if (!ocpp__find_cp(srv, next[i]->opt.id))
        ocpp__cp_destroy(next[i]);
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
      ocpp__conn_close(cp->conn, OCPP_WS_POLICY,
                       "charger removed");
    }
    ocpp__cp_destroy(cp);
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
  return cp && cp->conn && ocpp__conn_is_open(cp->conn);
}

int ocpp_server_transaction(const ocpp_server *srv, const char *charger_id,
                            int connector, ocpp_transaction_info *out)
{
  if (!srv || !charger_id || !out || connector < 1 ||
      connector > OCPP_MAX_CONNECTORS)
    return OCPP_EINVAL;
  const ocpp_cp *cp = ocpp__find_cp(srv, charger_id);
  if (!cp)
    return OCPP_EUNKNOWN;
  const ocpp_connector_state *cs = ocpp__cp_connector_peek(cp, connector);
  *out = (ocpp_transaction_info){
    .transaction_id = cs->tx_id,
    .has_meter_start = cs->tx_id != 0 && cs->tx_has_meter_start,
    .meter_start_wh = cs->tx_meter_start_wh,
    .has_energy = cs->has_energy,
    .energy_wh = cs->energy_wh,
  };
  return OCPP_OK;
}

int ocpp_server_authorized(ocpp_server *srv, const char *charger_id,
                           uint32_t token, ocpp_auth_status status)
{
  if (!srv || !charger_id)
    return OCPP_EINVAL;
  ocpp_cp *cp = ocpp__find_cp(srv, charger_id);
  if (!cp)
    return OCPP_EUNKNOWN;
  return cp->conn ? ocpp__conn_authorized(cp->conn, token, status)
                  : OCPP_ENOENT;
}

int ocpp_server_command(ocpp_server *srv, const char *charger_id,
                        const ocpp_command *cmd, ocpp_command_cb cb,
                        void *user_data)
{
  if (!srv || !charger_id || !cmd)
    return OCPP_EINVAL;
  ocpp_cp *cp = ocpp__find_cp(srv, charger_id);
  if (!cp)
    return OCPP_EUNKNOWN;
  if (!cp->conn || !ocpp__conn_is_open(cp->conn))
    return OCPP_ENOTCONN;
  return ocpp__conn_command(cp->conn, cmd, cb, user_data);
}

json_t *ocpp_server_status(const ocpp_server *srv)
{
  return srv ? ocpp__status(srv) : NULL;
}

/* ---- event streams ------------------------------------------------------ */

int ocpp_server_stream_broadcast(ocpp_server *srv, unsigned channel,
                                 const char *event, const char *data)
{
  if (!srv || !data || (event && strpbrk(event, "\r\n")))
    return OCPP_EINVAL;
  if (ocpp_server_stream_count(srv, channel) == 0)
    return 0;
  size_t len = 0;
  char *text = ocpp_sse_event(event, data, &len);
  if (!text)
    return OCPP_ENOMEM;
  int sent = 0;
  /* a failed write only marks its connection closing; the list stays */
  for (ocpp_conn *c = srv->conns; c; c = c->next)
    if (c->state == OCPP_CONN_STREAM && c->stream_channel == channel &&
        ocpp__conn_stream_write(c, text, len) == OCPP_OK)
      sent++;
  free(text);
  return sent;
}

size_t ocpp_server_stream_count(const ocpp_server *srv, unsigned channel)
{
  if (!srv)
    return 0;
  if (channel == OCPP_ALL_CHANNELS)
    return srv->n_streams;
  return channel < OCPP_STREAM_CHANNELS ? srv->n_channel[channel] : 0;
}
