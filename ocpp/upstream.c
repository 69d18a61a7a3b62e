/* The link to a backend: the gateway dials out as a charge point. One
 * TCP connection at a time (resolve, connect, TLS on wss://, the HTTP
 * upgrade, then WebSocket frames through a wslay client), one session in
 * the charge point role (cp16.c) that lives as long as the upstream and is
 * opened and closed with each connection, and one timer for everything
 * that is due: the redial, the handshake deadline, the session's
 * deadlines. Nothing is freed inside a libuv callback of its own handles:
 * the upstream goes when its last handle has closed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wslay/wslay.h>

#include "ocpp/backoff.h"
#include "ocpp/http.h"
#include "ocpp/session.h"
#include "ocpp/tls.h"

#define UP_HANDSHAKE_MS 15000      /* connect + TLS + upgrade */
#define UP_ANSWER_MAX 8192         /* bytes of the server's upgrade answer */
#define UP_WRITE_BACKLOG (1u << 20)
#define UP_READ_BUFFER 65536

typedef enum {
  UP_IDLE,          /* waiting to dial */
  UP_RESOLVING,
  UP_CONNECTING,
  UP_TLS,
  UP_UPGRADE,       /* request sent, reading the answer */
  UP_OPEN,
  UP_DOWN,          /* the socket is closing; the redial follows */
  UP_DESTROYED
} up_state;

static const char *const state_names[] = {
  "idle", "resolving", "connecting", "tls", "upgrade", "open", "down",
  "destroyed",
};

struct ocpp_upstream {
  uv_loop_t *loop;
  ocpp_upstream_options opt;   /* strings owned */
  ocpp_upstream_callbacks cb;
  void *user_data;
  ocpp_url url;
  up_state state;
  uv_timer_t timer;
  uv_tcp_t tcp;
  bool tcp_live;               /* initialised, not yet closed */
  uv_getaddrinfo_t gai;
  bool resolving;
  uv_connect_t connect_req;
  ocpp_tls_ctx *tls_ctx;       /* wss:// only */
  ocpp_tls *tls;
  wslay_event_context_ptr ws;
  const uint8_t *in;           /* bytes being fed to wslay */
  size_t in_len;
  char *answer;                /* the upgrade answer read so far */
  size_t answer_len;
  char key[25];
  ocpp_session *session;
  WC_RNG rng;
  bool rng_ok;
  size_t backlog;
  uint64_t deadline;           /* redial time, or the handshake deadline */
  unsigned failures;
  char last_error[160];
  time_t since;
  int open_handles;
  void (*on_closed)(void *);
  void *on_closed_data;
  char read_buf[UP_READ_BUFFER];
};

static void up_rearm(ocpp_upstream *up);
static void up_fail(ocpp_upstream *up, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static ocpp_clock clock_now(const ocpp_upstream *up)
{
  return (ocpp_clock){.mono_ms = uv_now(up->loop), .wall = time(NULL)};
}

static void up_log(ocpp_upstream *up, ocpp_log_level lvl, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void up_log(ocpp_upstream *up, ocpp_log_level lvl, const char *fmt, ...)
{
  if (!up->cb.on_log)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  up->cb.on_log(up->user_data, lvl, up->opt.log_id, line);
}

/* Every state change goes through here (and the debug log says so). */
static void up_set_state(ocpp_upstream *up, up_state state)
{
  if (up->state == state)
    return;
  up_log(up, OCPP_LOG_DEBUG, "backend link %s -> %s", state_names[up->state],
         state_names[state]);
  up->state = state;
}

/* ---- lifetime ----------------------------------------------------------- */

static void free_options(ocpp_upstream_options *o)
{
  free((char *)o->url);
  free((char *)o->identity);
  free((char *)o->log_id);
  if (o->password)
    explicit_bzero((char *)o->password, strlen(o->password));
  free((char *)o->password);
  free((char *)o->tls_ca);
  free((char *)o->tls_cert);
  free((char *)o->tls_key);
}

/* The connection's pieces above the socket. Freed only once the socket
 * has closed: a failure is often found inside one of their callbacks. */
static void free_link(ocpp_upstream *up)
{
  if (up->ws)
    wslay_event_context_free(up->ws);
  up->ws = NULL;
  ocpp_tls_destroy(up->tls);
  up->tls = NULL;
  free(up->answer);
  up->answer = NULL;
  up->answer_len = 0;
}

static void up_free(ocpp_upstream *up)
{
  void (*on_closed)(void *) = up->on_closed;
  void *data = up->on_closed_data;
  free_link(up);
  ocpp_session_destroy(up->session);
  ocpp_tls_ctx_destroy(up->tls_ctx);
  if (up->rng_ok)
    wc_FreeRng(&up->rng);
  free_options(&up->opt);
  free(up);
  if (on_closed)
    on_closed(data);
}

static void up_handle_gone(ocpp_upstream *up)
{
  if (--up->open_handles == 0 && up->state == UP_DESTROYED && !up->resolving)
    up_free(up);
}

/* The session learns that the link is gone (and tells the owner, when it
 * was registered). */
static void drop_link(ocpp_upstream *up)
{
  if (ocpp_session_is_open(up->session))
    up->since = time(NULL);
  ocpp_session_close(up->session, clock_now(up));
}

static void dial(ocpp_upstream *up);

static void on_tcp_closed(uv_handle_t *h)
{
  ocpp_upstream *up = h->data;
  up->tcp_live = false;
  up->backlog = 0;
  free_link(up);
  if (up->state == UP_DOWN) {
    up_set_state(up, UP_IDLE);
    up->deadline = uv_now(up->loop) + ocpp_backoff_ms(up->failures);
    up_rearm(up);
  }
  up_handle_gone(up);
}

static void close_tcp(ocpp_upstream *up)
{
  if (up->tcp_live && !uv_is_closing((uv_handle_t *)&up->tcp))
    uv_close((uv_handle_t *)&up->tcp, on_tcp_closed);
}

/* This attempt or link is over: the reason is kept for the status page
 * and logged once; the redial waits for the socket to close. */
static void up_fail(ocpp_upstream *up, const char *fmt, ...)
{
  if (up->state == UP_DOWN || up->state == UP_DESTROYED ||
      up->state == UP_IDLE)
    return;
  bool was_open = up->state == UP_OPEN;
  char why[sizeof up->last_error];  /* fmt's arguments may be last_error */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  memcpy(up->last_error, why, sizeof why);
  up->failures++;
  up_log(up, OCPP_LOG_WARN, "backend %s: %s; next attempt in %u s",
         was_open ? "link lost" : "not connected", up->last_error,
         (unsigned)(ocpp_backoff_ms(up->failures) / 1000));
  up_set_state(up, UP_DOWN);
  drop_link(up);
  if (up->state == UP_DESTROYED) /* on_link destroyed the upstream */
    return;
  if (up->tcp_live) {
    close_tcp(up);
    return;
  }
  up_set_state(up, UP_IDLE);
  up->deadline = uv_now(up->loop) + ocpp_backoff_ms(up->failures);
  up_rearm(up);
}

/* ---- raw output --------------------------------------------------------- */

typedef struct {
  uv_write_t req;
  ocpp_upstream *up;
  size_t len;
  char data[];
} up_write;

static void after_write(uv_write_t *req, int status)
{
  up_write *w = (up_write *)req;
  ocpp_upstream *up = w->up;
  if (up->backlog >= w->len)
    up->backlog -= w->len;
  free(w);
  if (status < 0 && status != UV_ECANCELED)
    up_fail(up, "write: %s", uv_strerror(status));
}

static int write_socket(ocpp_upstream *up, const void *data, size_t len)
{
  if (!up->tcp_live || uv_is_closing((uv_handle_t *)&up->tcp))
    return OCPP_ENOTCONN;
  if (up->backlog + len > UP_WRITE_BACKLOG) {
    up_fail(up, "the backend does not read");
    return OCPP_ETOOBIG;
  }
  up_write *w = malloc(sizeof *w + len);
  if (!w)
    return OCPP_ENOMEM;
  w->up = up;
  w->len = len;
  memcpy(w->data, data, len);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
  int rc = uv_write(&w->req, (uv_stream_t *)&up->tcp, &b, 1, after_write);
  if (rc < 0) {
    free(w);
    up_fail(up, "write: %s", uv_strerror(rc));
    return OCPP_EIO;
  }
  up->backlog += len;
  return OCPP_OK;
}

/* Bytes of the HTTP and WebSocket layers: encrypted first on wss://. */
static int write_raw(ocpp_upstream *up, const void *data, size_t len)
{
  if (up->state == UP_DOWN || up->state == UP_DESTROYED)
    return OCPP_ENOTCONN;
  if (!up->tls)
    return write_socket(up, data, len);
  int rc = ocpp_tls_write(up->tls, data, len);
  if (rc != OCPP_OK)
    up_fail(up, "TLS write: %s", ocpp_tls_reason(up->tls));
  return rc;
}

/* ---- the session -------------------------------------------------------- */

static int session_send(void *user_data, const char *text, size_t len);

static void session_log(void *user_data, ocpp_log_level level,
                        const char *log_id, const char *line)
{
  ocpp_upstream *up = user_data;
  (void)log_id;
  up_log(up, level, "backend: %s", line);
}

static void session_registered(void *user_data, bool registered)
{
  ocpp_upstream *up = user_data;
  if (up->state != UP_DESTROYED && up->cb.on_link)
    up->cb.on_link(up->user_data, registered);
}

static json_t *session_call(void *user_data, const char *action,
                            const json_t *payload, const char **error_code)
{
  ocpp_upstream *up = user_data;
  if (!up->cb.on_call) {
    *error_code = "NotImplemented";
    return NULL;
  }
  return up->cb.on_call(up->user_data, action, payload, error_code);
}

static int create_session(ocpp_upstream *up)
{
  ocpp_session_config cfg = {
    .send = session_send,
    .log = session_log,
    .call = session_call,
    .registered = session_registered,
    .user_data = up,
    .log_id = up->opt.log_id,
    .call_timeout = up->opt.call_timeout,
    .trace = up->opt.trace,
  };
  return ocpp_session_create(&ocpp__role_cp16, &cfg, NULL, &up->session);
}

/* ---- WebSocket ---------------------------------------------------------- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
                          size_t len, int flags, void *user_data)
{
  (void)flags;
  ocpp_upstream *up = user_data;
  if (up->in_len == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1; /* wslay's callback contract */
  }
  size_t n = len < up->in_len ? len : up->in_len;
  memcpy(buf, up->in, n);
  up->in += n;
  up->in_len -= n;
  return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
                          size_t len, int flags, void *user_data)
{
  (void)flags;
  ocpp_upstream *up = user_data;
  if (write_raw(up, data, len) != OCPP_OK) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return (ssize_t)len;
}

/* Client frames are masked (RFC 6455 5.3) with keys nobody can predict. */
static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf,
                         size_t len, void *user_data)
{
  ocpp_upstream *up = user_data;
  if (wc_RNG_GenerateBlock(&up->rng, buf, (word32)len) != 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return 0;
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
                      const struct wslay_event_on_msg_recv_arg *arg,
                      void *user_data)
{
  ocpp_upstream *up = user_data;
  if (up->state != UP_OPEN)
    return;
  if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
    snprintf(up->last_error, sizeof up->last_error,
             "closed by the backend (%u)", (unsigned)arg->status_code);
    return;
  }
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA,
                            (const uint8_t *)"text frames only", 16);
    return;
  }
  if (arg->opcode == WSLAY_TEXT_FRAME)
    ocpp_session_recv(up->session, (const char *)arg->msg, arg->msg_length,
                      clock_now(up));
}

/* Sends what wslay has queued; a finished close handshake ends the link. */
static void flush_ws(ocpp_upstream *up)
{
  if (up->state != UP_OPEN || !up->ws)
    return;
  if (wslay_event_send(up->ws) != 0) {
    up_fail(up, "WebSocket write failed");
    return;
  }
  if (up->state == UP_OPEN && !wslay_event_want_read(up->ws) &&
      !wslay_event_want_write(up->ws))
    up_fail(up, "%s", up->last_error[0] ? up->last_error
                                        : "WebSocket closed");
}

static int session_send(void *user_data, const char *text, size_t len)
{
  ocpp_upstream *up = user_data;
  if (up->state != UP_OPEN || !up->ws)
    return OCPP_ENOTCONN;
  struct wslay_event_msg msg = {
    .opcode = WSLAY_TEXT_FRAME,
    .msg = (const uint8_t *)text,
    .msg_length = len,
  };
  if (wslay_event_queue_msg(up->ws, &msg) != 0)
    return OCPP_ENOMEM;
  flush_ws(up);
  return up->state == UP_OPEN ? OCPP_OK : OCPP_ENOTCONN;
}

static void ws_feed(ocpp_upstream *up, const char *data, size_t len)
{
  up->in = (const uint8_t *)data;
  up->in_len = len;
  int rc = wslay_event_recv(up->ws);
  up->in = NULL;
  up->in_len = 0;
  if (up->state != UP_OPEN)
    return;
  if (rc != 0 && rc != WSLAY_ERR_WANT_READ) {
    up_fail(up, "WebSocket protocol error from the backend");
    return;
  }
  flush_ws(up);
  if (up->state == UP_OPEN)
    up_rearm(up);
}

static int start_websocket(ocpp_upstream *up)
{
  static const struct wslay_event_callbacks cbs = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .genmask_callback = ws_genmask_cb,
    .on_msg_recv_callback = ws_msg_cb,
  };
  if (wslay_event_context_client_init(&up->ws, &cbs, up) != 0)
    return OCPP_ENOMEM;
  wslay_event_config_set_max_recv_msg_length(up->ws, up->opt.max_message_size);
  return OCPP_OK;
}

/* ---- the upgrade -------------------------------------------------------- */

static void link_open(ocpp_upstream *up, size_t consumed)
{
  if (start_websocket(up) != OCPP_OK) {
    up_fail(up, "out of memory");
    return;
  }
  up_set_state(up, UP_OPEN);
  up->failures = 0;
  up->last_error[0] = '\0';
  up->deadline = 0;
  up->since = time(NULL);
  up_log(up, OCPP_LOG_INFO, "backend connected: %s://%s%s as %s",
         up->url.tls ? "wss" : "ws", up->url.host_header, up->url.path,
         up->opt.identity);
  ocpp_session_open(up->session, clock_now(up)); /* sends the boot */
  flush_ws(up);
  /* a first frame that came right behind the answer */
  size_t rest = up->answer_len - consumed;
  char *answer = up->answer;
  up->answer = NULL;
  up->answer_len = 0;
  if (up->state == UP_OPEN && rest)
    ws_feed(up, answer + consumed, rest);
  free(answer);
  if (up->state == UP_OPEN)
    up_rearm(up);
}

static void answer_input(ocpp_upstream *up, const char *data, size_t len)
{
  if (up->answer_len + len > UP_ANSWER_MAX) {
    up_fail(up, "upgrade answer too large");
    return;
  }
  char *nb = realloc(up->answer, up->answer_len + len + 1);
  if (!nb) {
    up_fail(up, "out of memory");
    return;
  }
  up->answer = nb;
  memcpy(nb + up->answer_len, data, len);
  up->answer_len += len;
  nb[up->answer_len] = '\0';
  ocpp_upgrade_answer ans;
  int n = ocpp_http_check_upgrade(up->answer, up->answer_len, UP_ANSWER_MAX,
                                  up->key, &ans);
  if (n == OCPP_HTTP_INCOMPLETE)
    return;
  if (n == OCPP_EREFUSED)
    up_fail(up, "upgrade refused: HTTP %d %s", ans.status, ans.reason);
  else if (n < 0)
    up_fail(up, "bad upgrade answer: %s", ocpp_strerror(n));
  else
    link_open(up, (size_t)n);
}

static void plain_input(ocpp_upstream *up, const char *data, size_t len)
{
  if (up->state == UP_UPGRADE)
    answer_input(up, data, len);
  else if (up->state == UP_OPEN)
    ws_feed(up, data, len);
}

static void send_upgrade(ocpp_upstream *up)
{
  unsigned char nonce[16];
  if (wc_RNG_GenerateBlock(&up->rng, nonce, sizeof nonce) != 0 ||
      ocpp_ws_key(nonce, up->key) != 0) {
    up_fail(up, "no random bytes for the WebSocket key");
    return;
  }
  bool basic = up->opt.security_profile == 1 || up->opt.security_profile == 2;
  char req[2048];
  size_t n = ocpp_http_upgrade_request(req, sizeof req, &up->url, up->key,
                                       basic ? up->opt.identity : NULL,
                                       basic ? up->opt.password : NULL);
  if (!n) {
    up_fail(up, "upgrade request too large");
    return;
  }
  up_set_state(up, UP_UPGRADE);
  write_raw(up, req, n);
  explicit_bzero(req, sizeof req);
}

/* ---- TLS ---------------------------------------------------------------- */

static int tls_send(void *user_data, const void *data, size_t len)
{
  return write_socket(user_data, data, len);
}

static void tls_handshake_done(void *user_data)
{
  ocpp_upstream *up = user_data;
  up_log(up, OCPP_LOG_DEBUG, "backend TLS %s %s", ocpp_tls_version(up->tls),
         ocpp_tls_cipher(up->tls));
  send_upgrade(up);
}

static bool tls_plain(void *user_data, const char *data, size_t len)
{
  ocpp_upstream *up = user_data;
  plain_input(up, data, len);
  return up->state == UP_UPGRADE || up->state == UP_OPEN;
}

static void tls_input(ocpp_upstream *up, const char *data, size_t len)
{
  int rc = ocpp_tls_input(up->tls, data, len);
  if (rc == OCPP_OK || up->state == UP_DOWN || up->state == UP_DESTROYED)
    return;
  if (rc == OCPP_ECLOSED)
    up_fail(up, "%s", up->last_error[0] ? up->last_error
                                        : "TLS closed by the backend");
  else if (!ocpp_tls_handshake_done(up->tls))
    up_fail(up, "TLS handshake failed: %s", ocpp_tls_reason(up->tls));
  else
    up_fail(up, "TLS error: %s", ocpp_tls_reason(up->tls));
}

static void start_tls(ocpp_upstream *up)
{
  static const ocpp_tls_io io = {
    .send = tls_send,
    .on_handshake = tls_handshake_done,
    .on_plain = tls_plain,
  };
  int rc = ocpp_tls_client_create(up->tls_ctx, &io, up, up->url.host,
                                  up->url.host_is_ip, &up->tls);
  if (rc != OCPP_OK) {
    up_fail(up, "TLS: %s", ocpp_strerror(rc));
    return;
  }
  up_set_state(up, UP_TLS);
  tls_input(up, NULL, 0); /* the ClientHello */
}

/* ---- TCP ---------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  ocpp_upstream *up = h->data;
  *buf = uv_buf_init(up->read_buf, sizeof up->read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  ocpp_upstream *up = s->data;
  if (up->state == UP_DOWN || up->state == UP_DESTROYED)
    return;
  if (nread < 0) {
    up_fail(up, "%s", nread == UV_EOF && up->last_error[0]
                        ? up->last_error
                        : nread == UV_EOF ? "connection closed by the backend"
                                          : uv_strerror((int)nread));
    return;
  }
  if (nread == 0)
    return;
  if (up->tls)
    tls_input(up, buf->base, (size_t)nread);
  else
    plain_input(up, buf->base, (size_t)nread);
}

static void on_connect(uv_connect_t *req, int status)
{
  ocpp_upstream *up = req->data;
  if (up->state != UP_CONNECTING)
    return;
  if (status < 0) {
    up_fail(up, "connect to %s:%d: %s", up->url.host, up->url.port,
            uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&up->tcp, 1);
  uv_tcp_keepalive(&up->tcp, 1, 60);
  uv_read_start((uv_stream_t *)&up->tcp, alloc_cb, on_read);
  if (up->url.tls)
    start_tls(up);
  else
    send_upgrade(up);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
  ocpp_upstream *up = req->data;
  up->resolving = false;
  if (up->state == UP_DESTROYED) {
    uv_freeaddrinfo(ai);
    if (up->open_handles == 0)
      up_free(up);
    return;
  }
  if (up->state != UP_RESOLVING) { /* the attempt timed out meanwhile */
    uv_freeaddrinfo(ai);
    return;
  }
  if (status < 0 || !ai) {
    up_fail(up, "cannot resolve %s: %s", up->url.host, uv_strerror(status));
    uv_freeaddrinfo(ai);
    return;
  }
  uv_tcp_init(up->loop, &up->tcp);
  up->tcp.data = up;
  up->tcp_live = true;
  up->open_handles++;
  up_set_state(up, UP_CONNECTING);
  up->connect_req.data = up;
  int rc = uv_tcp_connect(&up->connect_req, &up->tcp, ai->ai_addr, on_connect);
  uv_freeaddrinfo(ai);
  if (rc < 0)
    up_fail(up, "connect to %s:%d: %s", up->url.host, up->url.port,
            uv_strerror(rc));
}

static void dial(ocpp_upstream *up)
{
  if (up->resolving) { /* a lookup that timed out still runs */
    up->deadline = uv_now(up->loop) + 1000;
    up_rearm(up);
    return;
  }
  char port[8];
  snprintf(port, sizeof port, "%d", up->url.port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  up->gai.data = up;
  up->deadline = uv_now(up->loop) + UP_HANDSHAKE_MS;
  up_set_state(up, UP_RESOLVING);
  int rc = uv_getaddrinfo(up->loop, &up->gai, on_resolved, up->url.host, port,
                          &hints);
  if (rc < 0) {
    up_fail(up, "cannot resolve %s: %s", up->url.host, uv_strerror(rc));
    return;
  }
  up->resolving = true;
  up_rearm(up);
}

/* ---- the timer ---------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
  ocpp_upstream *up = t->data;
  uint64_t now = uv_now(up->loop);
  if (up->state == UP_IDLE && now >= up->deadline) {
    dial(up);
    return;
  }
  if (up->state == UP_OPEN) {
    ocpp_session_tick(up->session, clock_now(up));
    flush_ws(up);
  } else if (up->state != UP_IDLE && up->state != UP_DOWN &&
             up->deadline && now >= up->deadline) {
    up_fail(up, "no WebSocket within %d s", UP_HANDSHAKE_MS / 1000);
    return;
  }
  up_rearm(up);
}

static void up_rearm(ocpp_upstream *up)
{
  if (up->state == UP_DESTROYED || uv_is_closing((uv_handle_t *)&up->timer))
    return;
  uint64_t due = up->state == UP_OPEN ? ocpp_session_next_deadline(up->session)
                 : up->state == UP_DOWN ? 0 : up->deadline;
  if (!due) {
    uv_timer_stop(&up->timer);
    return;
  }
  uint64_t now = uv_now(up->loop);
  uv_timer_start(&up->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- the API ------------------------------------------------------------ */

/* err may be NULL; the text is cut to err_len. */
static void set_err(char *err, size_t err_len, const char *text)
{
  if (err && err_len)
    snprintf(err, err_len, "%s", text);
}

static int check_options(const ocpp_upstream_options *o, ocpp_url *url,
                         char *err, size_t err_len)
{
  int rc = ocpp_url_parse(o->url, o->identity, url);
  if (rc != 0) {
    set_err(err, err_len, rc == OCPP_EIDENTITY
                            ? "url: identity is empty or not printable"
                            : "url: not a ws:// or wss:// URL");
    return OCPP_EINVAL;
  }
  int p = o->security_profile;
  const char *why =
    p < 0 || p > 3 ? "security_profile must be 0..3"
    : p >= 2 && !url->tls ? "security_profile 2 and 3 need a wss:// url"
    : (p == 1 || p == 2) && (!o->password || !*o->password)
      ? "security_profile 1 and 2 need a password"
    : p == 3 && (!o->tls_cert || !*o->tls_cert || !o->tls_key || !*o->tls_key)
      ? "security_profile 3 needs tls_cert and tls_key"
    : NULL;
  set_err(err, err_len, why ? why : "");
  return why ? OCPP_EINVAL : OCPP_OK;
}

int ocpp_upstream_check_options(const ocpp_upstream_options *opt, char *err,
                                size_t err_len)
{
  if (!opt || !opt->url || !opt->identity) {
    set_err(err, err_len, "url and identity are needed");
    return OCPP_EINVAL;
  }
  ocpp_url url;
  return check_options(opt, &url, err, err_len);
}

static char *dup_or_null(const char *s)
{
  return s && *s ? strdup(s) : NULL;
}

static bool copy_options(ocpp_upstream_options *dst,
                         const ocpp_upstream_options *src)
{
  *dst = *src;
  dst->url = strdup(src->url);
  dst->identity = strdup(src->identity);
  dst->log_id = strdup(src->log_id ? src->log_id : src->identity);
  dst->password = dup_or_null(src->password);
  dst->tls_ca = dup_or_null(src->tls_ca);
  dst->tls_cert = dup_or_null(src->tls_cert);
  dst->tls_key = dup_or_null(src->tls_key);
  if (dst->max_message_size == 0)
    dst->max_message_size = 65536;
  if (dst->call_timeout <= 0)
    dst->call_timeout = 30;
  return dst->url && dst->identity && dst->log_id &&
         (!src->password || !*src->password || dst->password) &&
         (!src->tls_ca || !*src->tls_ca || dst->tls_ca) &&
         (!src->tls_cert || !*src->tls_cert || dst->tls_cert) &&
         (!src->tls_key || !*src->tls_key || dst->tls_key);
}

/* The pieces that can fail, before any handle exists. */
static int up_prepare(ocpp_upstream *up, char *err, size_t err_len)
{
  if (wc_InitRng(&up->rng) != 0) {
    set_err(err, err_len, "no random number generator");
    return OCPP_ECRYPTO;
  }
  up->rng_ok = true;
  int rc = create_session(up);
  if (rc == OCPP_OK && up->url.tls) {
    bool p3 = up->opt.security_profile == 3;
    rc = ocpp_tls_client_ctx_create(up->opt.tls_ca, p3 ? up->opt.tls_cert : NULL,
                                    p3 ? up->opt.tls_key : NULL, &up->tls_ctx,
                                    err, err_len);
  }
  return rc;
}

int ocpp_upstream_create(uv_loop_t *loop, const ocpp_upstream_options *opt,
                         const ocpp_upstream_callbacks *cb, void *user_data,
                         ocpp_upstream **out, char *err, size_t err_len)
{
  set_err(err, err_len, "");
  if (!out)
    return OCPP_EINVAL;
  *out = NULL;
  if (!loop || !cb)
    return OCPP_EINVAL;
  int rc = ocpp_upstream_check_options(opt, err, err_len);
  if (rc != OCPP_OK)
    return rc;
  ocpp_upstream *up = calloc(1, sizeof *up);
  if (!up)
    return OCPP_ENOMEM;
  rc = check_options(opt, &up->url, err, err_len);
  if (rc == OCPP_OK && !copy_options(&up->opt, opt))
    rc = OCPP_ENOMEM;
  if (rc == OCPP_OK)
    rc = up_prepare(up, err, err_len);
  if (rc != OCPP_OK) {
    ocpp_session_destroy(up->session);
    ocpp_tls_ctx_destroy(up->tls_ctx);
    if (up->rng_ok)
      wc_FreeRng(&up->rng);
    free_options(&up->opt); /* every string is a copy, or NULL */
    free(up);
    return rc == OCPP_ECRYPTO ? OCPP_ENOMEM : rc;
  }
  up->loop = loop;
  up->cb = *cb;
  up->user_data = user_data;
  uv_timer_init(loop, &up->timer);
  up->timer.data = up;
  up->open_handles = 1;
  *out = up;
  dial(up);
  return OCPP_OK;
}

int ocpp_upstream_call(ocpp_upstream *up, const char *action, json_t *payload,
                       ocpp_upstream_done done, void *user_data)
{
  if (!up || !action) {
    json_decref(payload);
    return OCPP_EINVAL;
  }
  if (up->state != UP_OPEN || !ocpp_session_cp16_registered(up->session)) {
    json_decref(payload);
    return OCPP_ENOTCONN;
  }
  int rc = ocpp_session_call(up->session, action, payload, done, user_data,
                             clock_now(up));
  if (up->state == UP_OPEN)
    up_rearm(up);
  return rc;
}

int ocpp_upstream_set_heartbeat(ocpp_upstream *up, int seconds)
{
  if (!up || up->state == UP_DESTROYED)
    return OCPP_EINVAL;
  int rc = ocpp_session_cp16_set_interval(up->session, seconds, clock_now(up));
  if (up->state == UP_OPEN)
    up_rearm(up);
  return rc;
}

uint32_t ocpp_upstream_defer(ocpp_upstream *up)
{
  return up && up->state == UP_OPEN ? ocpp_session_defer_call(up->session) : 0;
}

int ocpp_upstream_answer(ocpp_upstream *up, uint32_t token, json_t *payload,
                         const char *error_code)
{
  if (!up || up->state == UP_DESTROYED) {
    json_decref(payload);
    return OCPP_EINVAL;
  }
  int rc = ocpp_session_answer_call(up->session, token, payload, error_code,
                                    clock_now(up));
  if (up->state == UP_OPEN)
    up_rearm(up);
  return rc;
}

void ocpp_upstream_info_get(const ocpp_upstream *up, ocpp_upstream_info *out)
{
  if (!out)
    return;
  if (!up) {
    *out = (ocpp_upstream_info){.last_error = ""};
    return;
  }
  *out = (ocpp_upstream_info){
    .open = up->state == UP_OPEN,
    .registered = ocpp_session_cp16_registered(up->session),
    .last_error = up->last_error,
    .since = up->since,
    .failures = up->failures,
    .pending = ocpp_session_pending(up->session),
    .heartbeat_interval = ocpp_session_cp16_interval(up->session),
  };
}

int ocpp_upstream_set_boot(ocpp_upstream *up, const char *vendor,
                           const char *model, const char *serial,
                           const char *firmware)
{
  if (!up || up->state == UP_DESTROYED)
    return OCPP_EINVAL;
  ocpp_cp16_boot b = {vendor, model, serial, firmware};
  int rc = ocpp_session_cp16_set_boot(up->session, &b, clock_now(up));
  if (up->state == UP_OPEN)
    up_rearm(up);
  return rc;
}

static void on_timer_closed(uv_handle_t *h)
{
  up_handle_gone(h->data);
}

void ocpp_upstream_destroy(ocpp_upstream *up, void (*on_closed)(void *data),
                           void *data)
{
  if (!up || up->state == UP_DESTROYED)
    return;
  up->on_closed = on_closed;
  up->on_closed_data = data;
  if (up->state == UP_OPEN && up->ws) {
    wslay_event_queue_close(up->ws, WSLAY_CODE_GOING_AWAY,
                            (const uint8_t *)"shutdown", 8);
    wslay_event_send(up->ws);
  }
  ocpp_tls_close_notify(up->tls);
  up_set_state(up, UP_DESTROYED);
  drop_link(up);
  if (up->resolving)
    uv_cancel((uv_req_t *)&up->gai);
  close_tcp(up);
  uv_close((uv_handle_t *)&up->timer, on_timer_closed);
}
