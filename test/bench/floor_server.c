/* floor_server: the cheapest OCPP-J central system a benchmark can compare
 * against. It upgrades every WebSocket, and answers every CALL without
 * parsing it: the message id is cut out of the text and [3,"id",{}] goes
 * back (BootNotification and StartTransaction get the few fields a charger
 * needs to go on, found by a substring search). Transport as in the daemon:
 * wslay, the frame header joined with its payload, uv_try_write first. What
 * the daemon costs above this floor is its parsing, validation, bridge and
 * store.
 *
 *   floor_server PORT
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>
#include <wslay/wslay.h>

#include "ocpp/http.h"

enum { FL_HEAD_MAX = 8192, FL_MSG_MAX = 512 };

typedef struct {
  uv_tcp_t tcp;
  bool upgraded;
  char head[FL_HEAD_MAX];
  size_t head_len;
  wslay_event_context_ptr ws;
  const uint8_t *in;
  size_t in_len;
  uint8_t held[14];
  size_t held_len;
} fl_conn;

typedef struct {
  uv_write_t req;
  size_t len;
  char data[];
} fl_write;

static uv_loop_t *loop;
static char read_buf[65536];
static unsigned long tx_seq;

static void after_write(uv_write_t *req, int status) {
  (void)status;
  free(req);
}

static void close_conn(fl_conn *c);

/* One write per answer: what the kernel does not take at once is queued. */
static void write_out(fl_conn *c, const uv_buf_t *bufs, unsigned n) {
  int sent = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
  size_t total = 0, done = sent > 0 ? (size_t)sent : 0;
  for (unsigned i = 0; i < n; i++)
    total += bufs[i].len;
  if (done == total)
    return;
  fl_write *w = malloc(sizeof *w + total - done);
  if (!w) {
    close_conn(c);
    return;
  }
  size_t at = 0, skip = done;
  for (unsigned i = 0; i < n; i++) {
    size_t len = bufs[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(w->data + at, bufs[i].base + skip, len - skip);
    at += len - skip;
    skip = 0;
  }
  uv_buf_t rest = uv_buf_init(w->data, (unsigned)at);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &rest, 1, after_write) != 0)
    free(w);
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
                          size_t len, int flags, void *user_data) {
  (void)ctx;
  fl_conn *c = user_data;
  if ((flags & WSLAY_MSG_MORE) && len <= sizeof c->held) {
    memcpy(c->held, data, len);
    c->held_len = len;
    return (ssize_t)len;
  }
  uv_buf_t bufs[2];
  unsigned n = 0;
  if (c->held_len)
    bufs[n++] = uv_buf_init((char *)c->held, (unsigned)c->held_len);
  bufs[n++] = uv_buf_init((char *)data, (unsigned)len);
  write_out(c, bufs, n);
  c->held_len = 0;
  return (ssize_t)len;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
                          size_t len, int flags, void *user_data) {
  (void)flags;
  fl_conn *c = user_data;
  if (c->in_len == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  size_t n = len < c->in_len ? len : c->in_len;
  memcpy(buf, c->in, n);
  c->in += n;
  c->in_len -= n;
  return (ssize_t)n;
}

/* [2,"id","Action",{...}]: the id is the second string's contents. */
static bool cut_id(const char *m, size_t len, const char **id, size_t *id_len) {
  const char *q = memchr(m, '"', len);
  if (!q)
    return false;
  const char *end = memchr(q + 1, '"', len - (size_t)(q + 1 - m));
  if (!end)
    return false;
  *id = q + 1;
  *id_len = (size_t)(end - *id);
  return true;
}

/* what appears among the first bytes, where the action name is */
static bool contains(const char *m, size_t len, const char *what) {
  size_t wl = strlen(what), span = len < 96 ? len : 96;
  for (size_t i = 0; i + wl <= span; i++)
    if (memcmp(m + i, what, wl) == 0)
      return true;
  return false;
}

static void on_call(fl_conn *c, const char *m, size_t len) {
  const char *id;
  size_t id_len;
  if (len < 4 || m[1] != '2' || !cut_id(m, len, &id, &id_len) ||
      id_len > 64)
    return;
  char payload[128] = "{}";
  if (contains(m, len, "\"BootNotification\""))
    snprintf(payload, sizeof payload,
             "{\"status\":\"Accepted\",\"currentTime\":"
             "\"2026-01-01T00:00:00Z\",\"interval\":300}");
  else if (contains(m, len, "\"StartTransaction\""))
    snprintf(payload, sizeof payload,
             "{\"transactionId\":%lu,\"idTagInfo\":{\"status\":\"Accepted\"}}",
             ++tx_seq);
  char out[FL_MSG_MAX];
  int n = snprintf(out, sizeof out, "[3,\"%.*s\",%s]", (int)id_len, id,
                   payload);
  struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)out,
                                (size_t)n};
  wslay_event_queue_msg(c->ws, &msg);
}

static void on_msg(wslay_event_context_ptr ctx,
                   const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data) {
  (void)ctx;
  if (arg->opcode == WSLAY_TEXT_FRAME)
    on_call(user_data, (const char *)arg->msg, arg->msg_length);
}

static const struct wslay_event_callbacks ws_cbs = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .on_msg_recv_callback = on_msg,
};

static void on_closed(uv_handle_t *h) {
  fl_conn *c = h->data;
  if (c->ws)
    wslay_event_context_free(c->ws);
  free(c);
}

static void close_conn(fl_conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void feed_ws(fl_conn *c, const uint8_t *data, size_t len) {
  c->in = data;
  c->in_len = len;
  if (wslay_event_recv(c->ws) != 0 ||
      (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) ||
      (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)))
    close_conn(c);
}

static void on_head(fl_conn *c, const char *data, size_t len) {
  if (c->head_len + len > sizeof c->head) {
    close_conn(c);
    return;
  }
  memcpy(c->head + c->head_len, data, len);
  c->head_len += len;
  ocpp_http_request req;
  int n = ocpp_http_parse(c->head, c->head_len, sizeof c->head, &req);
  if (n == 0)
    return;
  char accept[29], out[512];
  size_t out_len;
  if (n < 0 || ocpp_ws_accept(req.ws_key, accept) != 0 ||
      (out_len = ocpp_http_upgrade_response(out, sizeof out, accept,
                                            "ocpp1.6")) == 0 ||
      wslay_event_context_server_init(&c->ws, &ws_cbs, c) != 0) {
    close_conn(c);
    return;
  }
  uv_buf_t buf = uv_buf_init(out, (unsigned)out_len);
  write_out(c, &buf, 1);
  c->upgraded = true;
  if ((size_t)n < c->head_len)
    feed_ws(c, (const uint8_t *)c->head + n, c->head_len - (size_t)n);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  fl_conn *c = s->data;
  if (n < 0) {
    close_conn(c);
    return;
  }
  if (!c->upgraded)
    on_head(c, buf->base, (size_t)n);
  else
    feed_ws(c, (const uint8_t *)buf->base, (size_t)n);
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0)
    return;
  fl_conn *c = calloc(1, sizeof *c);
  if (!c)
    return;
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    close_conn(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor_server PORT\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  loop = uv_default_loop();
  uv_tcp_t server;
  struct sockaddr_in addr;
  uv_tcp_init(loop, &server);
  uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 1024, on_connection) != 0) {
    fprintf(stderr, "floor_server: cannot listen on port %s\n", argv[1]);
    return 1;
  }
  return uv_run(loop, UV_RUN_DEFAULT);
}
