/* One TCP connection: the HTTP upgrade, then WebSocket frames through
 * the endpoint of ws.c. Bytes in and out pass through conn_feed()/conn_write_raw() so a
 * TLS layer can sit between the socket and the rest. A connection is never
 * freed inside one of its own callbacks: it is marked closing and freed
 * when libuv has closed both handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/http.h"
#include "ocpp/internal.h"
#include "ocpp/ws.h"

static uint64_t now_ms(const ocpp_conn *c)
{
  return uv_now(c->srv->loop);
}

/* The transport reads the clocks; the session engine is handed them. */
static ocpp_clock clock_now(const ocpp_conn *c)
{
  return (ocpp_clock){.mono_ms = now_ms(c), .wall = time(NULL)};
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void conn_rearm(ocpp_conn *c);
static void ws_input(ocpp_conn *c, const uint8_t *data, size_t len);
static int conn_start_tls(ocpp_conn *c);
static void conn_set_state(ocpp_conn *c, ocpp_conn_state state);

/* ---- lifetime ----------------------------------------------------------- */

static void conn_free(ocpp_conn *c)
{
  ocpp_server *srv = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  ocpp_ws_free(c->ws);
  ocpp_session_destroy(c->session);
  ocpp_tls_destroy(c->tls_session);
  free(c->hbuf);
  free(c);
  srv->conn_gone(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
  ocpp_conn *c = h->data;
  if (--c->open_handles == 0)
    conn_free(c);
}

/* The charger's connection ends: offline (unless a newer connection took
 * over), and every call it had in flight or queued ends Offline. */
static void detach_charger(ocpp_conn *c)
{
  ocpp_cp *cp = c->cp;
  if (cp && cp->conn == c) {
    cp->conn = NULL;
    if (!c->replaced) {
      ocpp__log(c->srv, OCPP_LOG_INFO, cp->opt.id, "disconnected (%s)", c->peer);
      ocpp_event ev = {.type = OCPP_EV_OFFLINE, .charger_id = cp->opt.id,
                       .timestamp = time(NULL)};
      ocpp__emit(c->srv, &ev);
    }
  }
  c->cp = NULL;
  ocpp_session_close(c->session, clock_now(c));
}

static void conn_shutdown_now(ocpp_conn *c)
{
  if (c->state == OCPP_CONN_CLOSING && uv_is_closing((uv_handle_t *)&c->tcp))
    return;
  detach_charger(c);
  conn_set_state(c, OCPP_CONN_CLOSING);
  if (!uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  if (!uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

#define OCPP_CLOSE_GRACE_MS 3000

static void after_shutdown(uv_shutdown_t *req, int status)
{
  ocpp_conn *c = req->data;
  free(req);
  if (status < 0)
    conn_shutdown_now(c);
}

/* Lets the queued writes (an HTTP answer, a close frame) reach the peer,
 * half-closes, and closes when the peer has closed too (conn_on_read sees
 * its EOF) or after OCPP_CLOSE_GRACE_MS. Closing at once would make the
 * peer's answer to our close frame hit a dead socket (a reset, or SIGPIPE
 * in a client that does not ignore it). */
static void close_after_writes(ocpp_conn *c)
{
  ocpp_tls_close_notify(c->tls_session);
  conn_set_state(c, OCPP_CONN_CLOSING);
  c->handshake_deadline = now_ms(c) + OCPP_CLOSE_GRACE_MS;
  conn_rearm(c);
  uv_shutdown_t *req = malloc(sizeof *req);
  if (!req) {
    conn_shutdown_now(c);
    return;
  }
  req->data = c;
  if (uv_shutdown(req, (uv_stream_t *)&c->tcp, after_shutdown) < 0) {
    free(req);
    conn_shutdown_now(c);
  }
}

/* ---- raw output --------------------------------------------------------- */

typedef struct {
  uv_write_t req;
  ocpp_conn *conn;
  size_t len;
  char data[];
} write_chunk;

static void after_write(uv_write_t *req, int status)
{
  write_chunk *w = (write_chunk *)req;
  ocpp_conn *c = w->conn;
  c->write_backlog -= w->len;
  free(w);
  if (status < 0 && c->state != OCPP_CONN_CLOSING)
    conn_shutdown_now(c);
}

/* Bytes the kernel takes at once leave through uv_try_write: no request,
 * no copy, no callback, and none of the epoll_ctl that libuv's write queue
 * costs per write. Only a rest that did not fit is copied and queued;
 * uv_try_write refuses while older writes wait, so the order holds. */
static int conn_write_socket_v(ocpp_conn *c, const uv_buf_t *bufs,
                               unsigned nbufs)
{
  if (c->state == OCPP_CONN_CLOSING)
    return OCPP_ENOTCONN;
  size_t total = 0;
  for (unsigned i = 0; i < nbufs; i++)
    total += bufs[i].len;
  int sent = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
  if (sent == UV_EAGAIN || sent == UV_ENOSYS)
    sent = 0;
  if (sent < 0) {
    conn_shutdown_now(c);
    return OCPP_EIO;
  }
  size_t len = total - (size_t)sent;
  if (len == 0)
    return 0;
  /* A peer that does not read must not grow our memory without bound. A
   * plain HTTP answer (still in the handshake state) is written once and
   * its size is the application's: a large CSV may wait for the peer. */
  if (c->state != OCPP_CONN_HANDSHAKE &&
      c->write_backlog + len > OCPP_MAX_WRITE_BACKLOG) {
    ocpp__log(c->srv, OCPP_LOG_WARN, c->cp ? c->cp->opt.id : NULL,
              "%s does not read: dropping the connection", c->peer);
    conn_shutdown_now(c);
    return OCPP_ETOOBIG;
  }
  write_chunk *w = malloc(sizeof *w + len);
  if (!w) {
    if (sent > 0) /* half a frame is out: the stream is beyond repair */
      conn_shutdown_now(c);
    return OCPP_ENOMEM;
  }
  w->conn = c;
  w->len = len;
  size_t skip = (size_t)sent, off = 0;
  for (unsigned i = 0; i < nbufs; i++) {
    size_t blen = bufs[i].len;
    if (skip >= blen) {
      skip -= blen;
      continue;
    }
    memcpy(w->data + off, bufs[i].base + skip, blen - skip);
    off += blen - skip;
    skip = 0;
  }
  uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
  c->write_backlog += len;
  int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, after_write);
  if (rc < 0) {
    c->write_backlog -= len;
    free(w);
    conn_shutdown_now(c);
    return OCPP_EIO;
  }
  return 0;
}

static int conn_write_socket(ocpp_conn *c, const void *data, size_t len)
{
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  return conn_write_socket_v(c, &b, 1);
}

/* Bytes of the HTTP/WebSocket layer: encrypted first on wss://. */
static int conn_write_raw(ocpp_conn *c, const void *data, size_t len)
{
  if (!c->tls_session)
    return conn_write_socket(c, data, len);
  if (c->state == OCPP_CONN_CLOSING)
    return OCPP_ENOTCONN;
  int rc = ocpp_tls_write(c->tls_session, data, len);
  if (rc != OCPP_OK && c->state != OCPP_CONN_CLOSING)
    conn_shutdown_now(c);
  return rc;
}

/* Sends a plain HTTP answer and closes once it is written. */
static void conn_http_reply_n(ocpp_conn *c, int status, const char *ctype,
                              const char *extra, const char *body, size_t blen)
{
  size_t cap = blen + 1024;
  char *out = malloc(cap);
  size_t n = out ? ocpp_http_response(out, cap, status, ctype, extra, body, blen)
                 : 0;
  if (n)
    conn_write_raw(c, out, n);
  free(out);
  if (c->state != OCPP_CONN_CLOSING)
    close_after_writes(c);
}

static void conn_http_reply(ocpp_conn *c, int status, const char *ctype,
                            const char *extra, const char *body)
{
  conn_http_reply_n(c, status, ctype, extra, body, body ? strlen(body) : 0);
}

int ocpp__conn_stream_write(ocpp_conn *c, const char *data, size_t len)
{
  if (c->state != OCPP_CONN_STREAM)
    return OCPP_ENOTCONN;
  return conn_write_raw(c, data, len);
}

/* ---- timers ------------------------------------------------------------- */

static uint64_t stream_keepalive_ms(const ocpp_server *srv)
{
  return srv->opt.stream_keepalive_ms > 0
           ? (uint64_t)srv->opt.stream_keepalive_ms
           : OCPP_STREAM_KEEPALIVE_MS;
}

static void stream_keepalive(ocpp_conn *c)
{
  static const char ping[] = ": keep-alive\n\n";
  c->handshake_deadline = now_ms(c) + stream_keepalive_ms(c->srv);
  if (ocpp__conn_stream_write(c, ping, sizeof ping - 1) == OCPP_OK)
    conn_rearm(c);
}

static void on_timer(uv_timer_t *t)
{
  ocpp_conn *c = t->data;
  if (c->state == OCPP_CONN_STREAM) {
    stream_keepalive(c);
    return;
  }
  if (c->state != OCPP_CONN_OPEN) {
    if (c->handshake_deadline && now_ms(c) >= c->handshake_deadline) {
      if (c->state == OCPP_CONN_HANDSHAKE)
        ocpp__log(c->srv, OCPP_LOG_INFO, NULL, "%s: handshake timeout",
                  c->peer);
      else if (c->state == OCPP_CONN_WAITING)
        ocpp__log(c->srv, OCPP_LOG_WARN, NULL,
                  "%s: handshake timeout while waiting for a slot of its "
                  "address", c->peer);
      conn_shutdown_now(c);
    } else {
      conn_rearm(c);
    }
    return;
  }
  ocpp_session_tick(c->session, clock_now(c));
  if (c->state == OCPP_CONN_OPEN)
    conn_rearm(c);
}

/* One timer per connection, at the earliest of the handshake (or close)
 * deadline and what the session asks for. */
static void conn_rearm(ocpp_conn *c)
{
  if (uv_is_closing((uv_handle_t *)&c->timer))
    return;
  uint64_t due = c->handshake_deadline;
  uint64_t session_due = c->state == OCPP_CONN_OPEN
                           ? ocpp_session_next_deadline(c->session) : 0;
  if (session_due && (!due || session_due < due))
    due = session_due;
  if (!due) {
    uv_timer_stop(&c->timer);
    return;
  }
  uint64_t now = now_ms(c);
  uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- peers ------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  /* The server's one buffer is enough: every read is consumed before the
   * next read callback can run (single thread, no deferral). */
  ocpp_conn *c = h->data;
  *buf = uv_buf_init(c->srv->read_buf, sizeof c->srv->read_buf);
}

static int count_handshakes_from(const ocpp_server *srv, const char *ip)
{
  int n = 0;
  for (const ocpp_conn *c = srv->conns; c; c = c->next)
    if (c->state == OCPP_CONN_HANDSHAKE && strcmp(c->peer_ip, ip) == 0)
      n++;
  return n;
}

static size_t count_waiting_from(const ocpp_server *srv, const char *ip)
{
  size_t n = 0;
  for (const ocpp_conn *c = srv->waiting_head; c; c = c->wait_next)
    if (strcmp(c->peer_ip, ip) == 0)
      n++;
  return n;
}

static void describe_peer(ocpp_conn *c)
{
  struct sockaddr_storage ss;
  int len = sizeof ss;
  snprintf(c->peer, sizeof c->peer, "?");
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
    return;
  char ip[46] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
    snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
    snprintf(c->peer, sizeof c->peer, "[%s]:%d", ip, port);
  }
  snprintf(c->peer_ip, sizeof c->peer_ip, "%s", ip);
}

/* ---- admission ---------------------------------------------------------- */
/* A power cut brings every charger of a building back at once, often from
 * one address (NAT). Turning the surplus away would cost minutes, since
 * chargers redial slowly; instead each address gets a few handshakes read
 * at a time and the rest wait, unread, in the order they came, under the
 * handshake deadline they got when accepted. Slots are per address, so a
 * flood from one address does not delay chargers from the others. */

static void enqueue_waiting(ocpp_conn *c)
{
  ocpp_server *srv = c->srv;
  c->wait_prev = srv->waiting_tail;
  c->wait_next = NULL;
  if (srv->waiting_tail)
    srv->waiting_tail->wait_next = c;
  else
    srv->waiting_head = c;
  srv->waiting_tail = c;
  srv->n_waiting++;
}

static void dequeue_waiting(ocpp_conn *c)
{
  ocpp_server *srv = c->srv;
  if (c->wait_prev)
    c->wait_prev->wait_next = c->wait_next;
  else
    srv->waiting_head = c->wait_next;
  if (c->wait_next)
    c->wait_next->wait_prev = c->wait_prev;
  else
    srv->waiting_tail = c->wait_prev;
  c->wait_prev = c->wait_next = NULL;
  srv->n_waiting--;
}

static ocpp_conn *first_waiting_from(const ocpp_server *srv, const char *ip)
{
  for (ocpp_conn *c = srv->waiting_head; c; c = c->wait_next)
    if (strcmp(c->peer_ip, ip) == 0)
      return c;
  return NULL;
}

static void begin_handshake(ocpp_conn *c)
{
  conn_set_state(c, OCPP_CONN_HANDSHAKE);
  if (c->tls && conn_start_tls(c) != 0) {
    conn_shutdown_now(c);
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, conn_on_read);
}

/* Fills the free handshake slots of one address from its waiting
 * connections. A handshake that fails at once frees its slot again; the
 * loop, not recursion, takes the next one. */
static void admit_waiting(ocpp_server *srv, const char *ip)
{
  if (srv->admitting || srv->destroying)
    return;
  srv->admitting = true;
  ocpp_conn *next;
  while (count_handshakes_from(srv, ip) < OCPP_MAX_HANDSHAKES_PER_ADDR &&
         (next = first_waiting_from(srv, ip)) != NULL)
    begin_handshake(next);
  srv->admitting = false;
}

/* Every state change goes through here so that the admission queue and the
 * handshake slots stay true. */
static void conn_set_state(ocpp_conn *c, ocpp_conn_state state)
{
  ocpp_conn_state old = c->state;
  if (old == state)
    return;
  c->state = state;
  if (old == OCPP_CONN_WAITING)
    dequeue_waiting(c);
  if (old == OCPP_CONN_STREAM) {
    c->srv->n_streams--;
    c->srv->n_channel[c->stream_channel]--;
  }
  if (state == OCPP_CONN_STREAM) {
    c->srv->n_streams++;
    c->srv->n_channel[c->stream_channel]++;
  }
  if (state == OCPP_CONN_WAITING)
    enqueue_waiting(c);
  if (old == OCPP_CONN_HANDSHAKE) {
    char ip[sizeof c->peer_ip];
    memcpy(ip, c->peer_ip, sizeof ip);
    admit_waiting(c->srv, ip);
  }
}

/* ---- accept ------------------------------------------------------------- */

static bool has_handshake_slot(const ocpp_server *srv, const char *ip)
{
  return count_handshakes_from(srv, ip) < OCPP_MAX_HANDSHAKES_PER_ADDR &&
         !first_waiting_from(srv, ip);
}

/* The queue is bounded too: past these caps a connection is not a charger
 * that came back but a flood, and is closed at once. */
static bool may_wait(ocpp_conn *c)
{
  ocpp_server *srv = c->srv;
  if (srv->n_waiting >= OCPP_MAX_WAITING) {
    ocpp__log(srv, OCPP_LOG_WARN, NULL,
              "%s: refused: %d handshakes are waiting already", c->peer,
              OCPP_MAX_WAITING);
    return false;
  }
  if (count_waiting_from(srv, c->peer_ip) >= OCPP_MAX_WAITING_PER_ADDR) {
    ocpp__log(srv, OCPP_LOG_WARN, NULL,
              "%s: refused: %d handshakes from this address are waiting "
              "already", c->peer, OCPP_MAX_WAITING_PER_ADDR);
    return false;
  }
  return true;
}

void ocpp__conn_accept(ocpp_server *srv, uv_stream_t *listener, bool tls)
{
  ocpp_conn *c = calloc(1, sizeof *c);
  if (!c)
    return;
  c->srv = srv;
  c->tls = tls;
  /* neither waiting nor in the handshake until uv_accept() succeeds, so a
   * failed accept touches no slot and no queue */
  c->state = OCPP_CONN_CLOSING;
  uv_tcp_init(srv->loop, &c->tcp);
  uv_timer_init(srv->loop, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->open_handles = 2;
  c->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = c;
  srv->conns = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    conn_shutdown_now(c);
    return;
  }
  describe_peer(c);
  uv_tcp_nodelay(&c->tcp, 1);
  /* Dead peers (power cut, cable pulled) are found by TCP keepalive, not by
   * a read deadline tied to the heartbeat interval. */
  uv_tcp_keepalive(&c->tcp, 1, 60);
  c->handshake_deadline = now_ms(c) + OCPP_HANDSHAKE_TIMEOUT_MS;
  conn_rearm(c);
  if (has_handshake_slot(srv, c->peer_ip)) {
    begin_handshake(c);
    return;
  }
  if (!may_wait(c)) {
    conn_shutdown_now(c);
    return;
  }
  conn_set_state(c, OCPP_CONN_WAITING);
  ocpp__log(srv, OCPP_LOG_DEBUG, NULL,
            "%s: handshake waits for a slot of its address", c->peer);
}

/* ---- handshake ---------------------------------------------------------- */

static void refuse(ocpp_conn *c, const char *identity, int status,
                   const char *reason, const char *extra)
{
  ocpp_server *srv = c->srv;
  ocpp__log(srv, OCPP_LOG_WARN, identity && *identity ? identity : NULL,
            "refused %s: %s (HTTP %d)", c->peer, reason, status);
  ocpp__remember_refused(srv, identity ? identity : "", c->peer, status, reason);
  conn_http_reply(c, status, "text/plain", extra, reason);
}

/* Text from the peer (a certificate, a path) goes into the log: keep it
 * on one printable line. */
static void printable_copy(char *out, size_t cap, const char *in)
{
  size_t i = 0;
  for (; in[i] && i + 1 < cap; i++)
    out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
  out[i] = '\0';
}

static const char www_authenticate[] =
  "WWW-Authenticate: Basic realm=\"ocppknx\", charset=\"UTF-8\"\r\n";

static bool plain_get_authorized(ocpp_conn *c, const ocpp_http_request *req)
{
  const char *password = c->srv->opt.http_password;
  if (!password || !password[0] ||
      ocpp_http_auth_matches(req->authorization, "admin", password))
    return true;
  char path[64];
  printable_copy(path, sizeof path, req->path);
  path[strcspn(path, "?")] = '\0'; /* a query is the client's business */
  ocpp__log(c->srv, OCPP_LOG_INFO, NULL, "%s: GET %s: %s", c->peer, path,
            req->authorization[0] ? "wrong credentials" : "no credentials");
  conn_http_reply(c, 401, "text/plain", www_authenticate,
                  "credentials needed\n");
  return false;
}

/* The response stays open; events follow through
 * ocpp_server_stream_broadcast, a comment line keeps an idle one alive. */
static void start_stream(ocpp_conn *c, unsigned channel)
{
  ocpp_server *srv = c->srv;
  int cap = srv->opt.max_streams > 0 ? srv->opt.max_streams
                                     : OCPP_DEFAULT_MAX_STREAMS;
  if (channel >= OCPP_STREAM_CHANNELS) {
    conn_http_reply(c, 500, "text/plain", NULL, "no such event channel\n");
    return;
  }
  if (srv->n_streams >= (size_t)cap) {
    ocpp__log(srv, OCPP_LOG_WARN, NULL, "%s: refused an event stream: %d "
              "are open already", c->peer, cap);
    conn_http_reply(c, 503, "text/plain", "Retry-After: 10\r\n",
                    "too many event streams open\n");
    return;
  }
  char head[256];
  size_t n = ocpp_http_stream_head(head, sizeof head);
  free(c->hbuf); /* nothing more is read from a stream */
  c->hbuf = NULL;
  c->hlen = 0;
  c->stream_channel = channel;
  conn_set_state(c, OCPP_CONN_STREAM);
  if (ocpp__conn_stream_write(c, head, n) != OCPP_OK)
    return;
  c->handshake_deadline = now_ms(c) + stream_keepalive_ms(srv);
  conn_rearm(c);
  ocpp__log(srv, OCPP_LOG_DEBUG, NULL, "%s: event stream open (%zu)", c->peer,
            srv->n_streams);
}

static void serve_plain_get(ocpp_conn *c, const ocpp_http_request *req)
{
  ocpp_server *srv = c->srv;
  if (!plain_get_authorized(c, req))
    return;
  ocpp_http_answer a = {.status = 200};
  if (!srv->cb.http_get || srv->cb.http_get(srv->user_data, req->path, &a) < 0) {
    free(a.body);
    conn_http_reply(c, 404, "text/plain", NULL, "not found\n");
    return;
  }
  if (a.stream)
    start_stream(c, a.stream_channel);
  else
    conn_http_reply_n(c, a.status ? a.status : 200, a.content_type,
                      a.extra_headers[0] ? a.extra_headers : NULL, a.body,
                      a.body ? a.body_len : 0);
  free(a.body);
}

/* The charger proved it has the new password: the previous one, kept
 * while a rotation waits for this, is no longer accepted. */
static void confirm_password(ocpp_conn *c, ocpp_cp *cp)
{
  if (ocpp__cp_set_password(cp, cp->opt.password, NULL) != OCPP_OK)
    return; /* the previous one stays accepted; asked again next time */
  ocpp__log(c->srv, OCPP_LOG_INFO, cp->opt.id,
            "%s: connected with the new Basic Auth password; the previous "
            "one is no longer accepted", c->peer);
  ocpp_event ev = {.type = OCPP_EV_PASSWORD_CONFIRMED, .charger_id = cp->opt.id};
  ocpp__emit(c->srv, &ev);
}

static bool check_basic_auth(ocpp_conn *c, ocpp_cp *cp,
                             const ocpp_http_request *req)
{
  char user[128], pass[128];
  if (!req->authorization[0]) {
    refuse(c, cp->opt.id, 401, "missing Basic Auth credentials",
           "WWW-Authenticate: Basic realm=\"ocppknx\"\r\n");
    return false;
  }
  bool ok = ocpp_http_basic_auth(req->authorization, user, sizeof user, pass,
                                 sizeof pass) == 0;
  bool user_ok = ok && strcmp(user, cp->opt.id) == 0;
  /* both compared every time, so the time says nothing about which one */
  bool is_current = ok && cp->opt.password &&
                    ocpp_secret_equal(pass, cp->opt.password);
  bool is_previous = ok && cp->opt.previous_password &&
                     ocpp_secret_equal(pass, cp->opt.previous_password);
  memset(pass, 0, sizeof pass);
  if (!user_ok || !(is_current || is_previous)) {
    refuse(c, cp->opt.id, 401,
           !ok ? "malformed Basic Auth header"
               : !user_ok ? "Basic Auth user name is not the identity"
                          : "wrong Basic Auth password",
           "WWW-Authenticate: Basic realm=\"ocppknx\"\r\n");
    return false;
  }
  if (is_current && cp->opt.previous_password)
    confirm_password(c, cp);
  return true;
}

/* Security profile 3: a client certificate that chains to tls_ca and names
 * this charger in its subject CN. */
static bool check_client_cert(ocpp_conn *c, const ocpp_cp *cp)
{
  const ocpp_tls_peer_info *p = ocpp_tls_peer(c->tls_session);
  const char *why = !p->has_cert ? "no client certificate"
                    : !p->verified ? "client certificate not trusted"
                    : strcmp(p->cn, cp->opt.id) != 0
                      ? "client certificate is for another identity"
                      : NULL;
  if (!why)
    return true;
  if (p->has_cert) {
    char cn[OCPP_TLS_CN_MAX + 1];
    printable_copy(cn, sizeof cn, p->cn);
    ocpp__log(c->srv, OCPP_LOG_INFO, cp->opt.id,
              "%s: client certificate CN \"%s\"%s%s", c->peer, cn,
              p->verified ? "" : ": ", p->verified ? "" : p->verify_error);
  }
  refuse(c, cp->opt.id, 403, why, NULL);
  return false;
}

static bool check_security(ocpp_conn *c, ocpp_cp *cp,
                           const ocpp_http_request *req)
{
  int profile = cp->opt.security_profile;
  if ((profile == 2 || profile == 3) && !c->tls) {
    refuse(c, cp->opt.id, 403, "security profile needs wss://", NULL);
    return false;
  }
  if (profile == 1 || profile == 2)
    return check_basic_auth(c, cp, req);
  if (profile == 3)
    return check_client_cert(c, cp);
  return true;
}

static int ws_write(void *user_data, const uint8_t *head, size_t head_len,
                    const uint8_t *payload, size_t payload_len);
static void ws_text(void *user_data, const char *text, size_t len);

static int start_websocket(ocpp_conn *c, const ocpp_http_request *req,
                           const char *protocol)
{
  char accept[29];
  int rc = ocpp_ws_accept(req->ws_key, accept);
  if (rc != OCPP_OK)
    return rc;
  static const ocpp_ws_callbacks cbs = {.write = ws_write, .text = ws_text};
  rc = ocpp_ws_create(&c->ws, &cbs, c, c->srv->opt.max_message_size);
  if (rc != OCPP_OK)
    return rc;
  char resp[512];
  size_t n = ocpp_http_upgrade_response(resp, sizeof resp, accept, protocol);
  if (!n)
    return OCPP_ETOOBIG;
  return conn_write_raw(c, resp, n);
}

/* ---- the session ------------------------------------------------------- */

static int session_send(void *user_data, const char *text, size_t len);

static void session_log(void *user_data, ocpp_log_level level,
                        const char *log_id, const char *line)
{
  ocpp_conn *c = user_data;
  if (c->srv->cb.on_log)
    c->srv->cb.on_log(c->srv->user_data, level, log_id, line);
}

static void session_event(void *user_data, const ocpp_event *ev)
{
  ocpp_conn *c = user_data;
  ocpp__emit(c->srv, ev);
}

static int create_session(ocpp_conn *c, ocpp_cp *cp, ocpp_version version)
{
  ocpp_server *srv = c->srv;
  ocpp_session_config cfg = {
    .send = session_send,
    .log = session_log,
    .event = session_event,
    .user_data = c,
    .store = srv->cb.store,
    .authorize = srv->cb.authorize,
    .store_data = srv->user_data,
    .counters = &srv->counters,
    .log_id = cp->opt.id,
    .heartbeat_interval = srv->opt.heartbeat_interval,
    .call_timeout = srv->opt.call_timeout,
    .meter_sample_interval = srv->opt.meter_sample_interval,
    .trace = srv->opt.trace,
  };
  const ocpp_role *role =
      version == OCPP_VERSION_201 ? &ocpp__role_cs201 : &ocpp__role_cs16;
  return ocpp_session_create(role, &cfg, cp, &c->session);
}

bool ocpp__conn_is_open(const ocpp_conn *c)
{
  return c->state == OCPP_CONN_OPEN && ocpp_session_is_open(c->session);
}

int ocpp__conn_authorized(ocpp_conn *c, uint32_t token, ocpp_auth_status st)
{
  if (!ocpp__conn_is_open(c))
    return OCPP_ENOENT;
  int rc = ocpp_session_authorized(c->session, token, st, clock_now(c));
  if (c->state == OCPP_CONN_OPEN)
    conn_rearm(c);
  return rc;
}

int ocpp__conn_command(ocpp_conn *c, const ocpp_command *cmd,
                       ocpp_command_cb cb, void *user_data)
{
  if (!ocpp__conn_is_open(c))
    return OCPP_ENOTCONN;
  int rc = ocpp_session_command(c->session, cmd, cb, user_data, clock_now(c));
  if (c->state == OCPP_CONN_OPEN)
    conn_rearm(c);
  return rc;
}

static ocpp_cp *lookup_charger(ocpp_conn *c, const char *identity)
{
  ocpp_server *srv = c->srv;
  ocpp_cp *cp = ocpp__find_cp(srv, identity);
  if (cp || !srv->opt.accept_unknown)
    return cp;
  cp = ocpp__add_unknown_cp(srv, identity);
  if (cp)
    ocpp__log(srv, OCPP_LOG_INFO, identity,
              "accepting unknown identity (accept_unknown)");
  return cp;
}

static void handle_upgrade(ocpp_conn *c, const ocpp_http_request *req)
{
  ocpp_server *srv = c->srv;
  char identity[OCPP_ID_MAX + 1];
  if (req->ws_version != 13) {
    refuse(c, NULL, 426, "unsupported WebSocket version",
           "Sec-WebSocket-Version: 13\r\n");
    return;
  }
  if (ocpp_http_identity(req->path, identity, sizeof identity) != 0) {
    refuse(c, "", 400, "no charge point identity in the URL", NULL);
    return;
  }
  if (req->has_protocol_header && !req->offers_ocpp16 && !req->offers_ocpp201) {
    ocpp__log(srv, OCPP_LOG_WARN, identity, "offered subprotocols \"%s\"",
              req->protocols);
    refuse(c, identity, 400, "neither ocpp1.6 nor ocpp2.0.1 offered", NULL);
    return;
  }
  ocpp_cp *cp = lookup_charger(c, identity);
  if (!cp) {
    refuse(c, identity, 404, "unknown identity", NULL);
    return;
  }
  ocpp_version version = ocpp_http_choose_version(req, cp->opt.version);
  if (version == OCPP_VERSION_AUTO) {
    ocpp__log(srv, OCPP_LOG_WARN, identity,
              "offered subprotocols \"%s\", configured ocpp_version = %s",
              req->protocols, cp->opt.version == OCPP_VERSION_16 ? "1.6" : "2.0.1");
    refuse(c, identity, 400, cp->opt.version == OCPP_VERSION_16
                                 ? "subprotocol ocpp1.6 not offered"
                                 : "subprotocol ocpp2.0.1 not offered", NULL);
    return;
  }
  if (!check_security(c, cp, req))
    return;
  const char *protocol = version == OCPP_VERSION_201 ? "ocpp2.0.1" : "ocpp1.6";
  if (!req->has_protocol_header)
    ocpp__log(srv, OCPP_LOG_WARN, identity,
              "no Sec-WebSocket-Protocol header: assuming %s", protocol);
  int rc = create_session(c, cp, version);
  if (rc == OCPP_OK)
    rc = start_websocket(c, req, req->has_protocol_header ? protocol : NULL);
  if (rc != OCPP_OK) {
    ocpp__log(srv, OCPP_LOG_WARN, identity, "%s: cannot open the WebSocket: %s",
              c->peer, ocpp_strerror(rc));
    conn_shutdown_now(c);
    return;
  }
  conn_set_state(c, OCPP_CONN_OPEN);
  c->handshake_deadline = 0;
  ocpp_conn *old = cp->conn;
  if (old && old != c) {
    ocpp__log(srv, OCPP_LOG_INFO, identity,
              "new connection from %s replaces the one from %s", c->peer,
              old->peer);
    old->replaced = true;
    ocpp__conn_close(old, OCPP_WS_NORMAL, "replaced");
  }
  c->cp = cp;
  cp->conn = c;
  cp->version = version;
  ocpp__log(srv, OCPP_LOG_INFO, identity, "connected from %s%s, %s", c->peer,
            c->tls ? " (wss)" : "", protocol);
  ocpp_session_open(c->session, clock_now(c));
  ocpp_event ev = {.type = OCPP_EV_ONLINE, .charger_id = cp->opt.id,
                   .timestamp = cp->connected_since};
  ocpp__emit(srv, &ev);
  conn_rearm(c);
}

static void handshake_input(ocpp_conn *c, const char *data, size_t len)
{
  if (c->hlen + len > OCPP_HANDSHAKE_MAX) {
    refuse(c, NULL, 431, "request headers too large", NULL);
    return;
  }
  char *nb = realloc(c->hbuf, c->hlen + len + 1);
  if (!nb) {
    conn_shutdown_now(c);
    return;
  }
  c->hbuf = nb;
  memcpy(c->hbuf + c->hlen, data, len);
  c->hlen += len;
  c->hbuf[c->hlen] = '\0';

  ocpp_http_request req;
  int n = ocpp_http_parse(c->hbuf, c->hlen, OCPP_HANDSHAKE_MAX, &req);
  if (n == OCPP_HTTP_INCOMPLETE)
    return;
  if (n < 0) {
    static const struct { int code; int status; const char *reason; } map[] = {
      {OCPP_ETOOBIG, 431, "request headers too large"},
      {OCPP_EMETHOD, 405, "method not allowed"},
      {OCPP_EVERSION, 505, "HTTP version not supported"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (map[i].code == n) {
        refuse(c, NULL, map[i].status, map[i].reason, NULL);
        return;
      }
    refuse(c, NULL, 400, "malformed HTTP request", NULL);
    return;
  }
  size_t rest = c->hlen - (size_t)n;
  if (!req.upgrade_websocket) {
    serve_plain_get(c, &req);
    return;
  }
  if (!req.connection_upgrade || !req.ws_key[0]) {
    refuse(c, NULL, 400, "malformed WebSocket upgrade request", NULL);
    return;
  }
  handle_upgrade(c, &req);
  if (c->state == OCPP_CONN_OPEN && rest) {
    /* a client may send its first frame right behind the request */
    ws_input(c, (const uint8_t *)c->hbuf + n, rest);
  }
  free(c->hbuf);
  c->hbuf = NULL;
  c->hlen = 0;
}

/* ---- WebSocket ---------------------------------------------------------- */

/* A frame's header and payload leave in one write, one TCP segment and on
 * wss:// one TLS record instead of two, which cuts the kernel's share of
 * an answered call by about a third. */
static int ws_write(void *user_data, const uint8_t *head, size_t head_len,
                    const uint8_t *payload, size_t payload_len)
{
  ocpp_conn *c = user_data;
  if (!payload_len)
    return conn_write_raw(c, head, head_len);
  if (!c->tls_session) {
    uv_buf_t b[2] = {uv_buf_init((char *)head, (unsigned)head_len),
                     uv_buf_init((char *)payload, (unsigned)payload_len)};
    return conn_write_socket_v(c, b, 2);
  }
  uint8_t *joined = malloc(head_len + payload_len);
  if (!joined) {
    int rc = conn_write_raw(c, head, head_len);
    return rc == 0 ? conn_write_raw(c, payload, payload_len) : rc;
  }
  memcpy(joined, head, head_len);
  memcpy(joined + head_len, payload, payload_len);
  int rc = conn_write_raw(c, joined, head_len + payload_len);
  free(joined);
  return rc;
}

static void ws_text(void *user_data, const char *text, size_t len)
{
  ocpp_conn *c = user_data;
  if (c->state != OCPP_CONN_OPEN || !c->cp)
    return;
  ocpp_session_recv(c->session, text, len, clock_now(c));
}

/* A close went out (the peer's close answered, or its protocol error
 * refused): the connection ends once the frame has reached the peer. */
static void ws_input(ocpp_conn *c, const uint8_t *data, size_t len)
{
  ocpp_ws_feed(c->ws, data, len); /* a violation is answered inside */
  if (c->state != OCPP_CONN_OPEN)
    return;
  if (ocpp_ws_finished(c->ws)) {
    detach_charger(c);
    close_after_writes(c);
    return;
  }
  conn_rearm(c);
}

static int session_send(void *user_data, const char *text, size_t len)
{
  ocpp_conn *c = user_data;
  if (c->state != OCPP_CONN_OPEN || !c->ws)
    return OCPP_ENOTCONN;
  if (ocpp_ws_send_text(c->ws, text, len) != OCPP_OK) {
    /* part of a frame may be out: the stream is beyond repair */
    conn_shutdown_now(c);
    return OCPP_ENOTCONN;
  }
  return c->state == OCPP_CONN_OPEN ? OCPP_OK : OCPP_ENOTCONN;
}

void ocpp__conn_close(ocpp_conn *c, uint16_t ws_code, const char *reason)
{
  if (c->state == OCPP_CONN_CLOSING)
    return;
  if (c->state != OCPP_CONN_OPEN || !c->ws) {
    conn_shutdown_now(c);
    return;
  }
  detach_charger(c);
  ocpp_ws_close(c->ws, ws_code, reason);
  /* Do not wait for the peer's close frame: a charger that never answers
   * must not keep the connection (and a shutdown) hanging. */
  close_after_writes(c);
}

static void conn_feed(ocpp_conn *c, const char *data, size_t len)
{
  if (c->state == OCPP_CONN_HANDSHAKE) {
    handshake_input(c, data, len);
    return;
  }
  if (c->state != OCPP_CONN_OPEN)
    return;
  ws_input(c, (const uint8_t *)data, len);
}

/* ---- TLS (wss://) ------------------------------------------------------- */

static int tls_send(void *user_data, const void *data, size_t len)
{
  return conn_write_socket(user_data, data, len);
}

static void tls_handshake_done(void *user_data)
{
  ocpp_conn *c = user_data;
  ocpp__log(c->srv, OCPP_LOG_DEBUG, NULL, "%s: TLS %s %s", c->peer,
            ocpp_tls_version(c->tls_session), ocpp_tls_cipher(c->tls_session));
}

static bool tls_plain(void *user_data, const char *data, size_t len)
{
  ocpp_conn *c = user_data;
  conn_feed(c, data, len);
  return c->state != OCPP_CONN_CLOSING;
}

static int conn_start_tls(ocpp_conn *c)
{
  static const ocpp_tls_io io = {
    .send = tls_send,
    .on_handshake = tls_handshake_done,
    .on_plain = tls_plain,
  };
  return ocpp_tls_create(c->srv->tls_ctx, &io, c, &c->tls_session);
}

static void conn_tls_input(ocpp_conn *c, const char *data, size_t len)
{
  int rc = ocpp_tls_input(c->tls_session, data, len);
  if (rc == OCPP_OK || c->state == OCPP_CONN_CLOSING)
    return;
  if (rc == OCPP_ETLSFAIL && !ocpp_tls_handshake_done(c->tls_session)) {
    ocpp__log(c->srv, OCPP_LOG_WARN, NULL,
              "refused %s: TLS handshake failed: %s", c->peer,
              ocpp_tls_reason(c->tls_session));
    ocpp__remember_refused(c->srv, "", c->peer, 0, "TLS handshake failed");
    close_after_writes(c); /* lets wolfSSL's alert reach the peer */
    return;
  }
  if (rc == OCPP_ETLSFAIL)
    ocpp__log(c->srv, OCPP_LOG_INFO, c->cp ? c->cp->opt.id : NULL,
              "%s: TLS error: %s", c->peer, ocpp_tls_reason(c->tls_session));
  conn_shutdown_now(c);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  ocpp_conn *c = s->data;
  if (c->state == OCPP_CONN_CLOSING) {
    /* only the peer's EOF matters now; what it still sends is dropped */
    if (nread < 0)
      conn_shutdown_now(c);
    return;
  }
  if (nread < 0) {
    if (c->cp && nread != UV_EOF)
      ocpp__log(c->srv, OCPP_LOG_INFO, c->cp->opt.id, "connection lost: %s",
                uv_strerror((int)nread));
    conn_shutdown_now(c);
    return;
  }
  if (nread > 0 && c->tls_session)
    conn_tls_input(c, buf->base, (size_t)nread);
  else if (nread > 0)
    conn_feed(c, buf->base, (size_t)nread);
}
