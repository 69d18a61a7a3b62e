/* gw_control, the daemon's side: the listening unix socket and one
 * request per connection. See control.h. */
#include "gateway/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_WAITING 16     /* connections still sending their request */

struct gw_control_request {
  uv_pipe_t pipe;
  gw_control *ctl;         /* NULL once handed to the ops */
  char in[GW_CONTROL_LINE_MAX];
  size_t len;
  char out[GW_CONTROL_LINE_MAX + 8];
  uv_write_t write;
  gw_control_request *next; /* in ctl's list while reading */
};

struct gw_control {
  uv_pipe_t listener;
  gw_control_ops ops;
  void *user_data;
  char path[sizeof ((struct sockaddr_un *)0)->sun_path];
  gw_control_request *reading;
  int n_reading;
};

static void unlink_reading(gw_control_request *r)
{
  gw_control *ctl = r->ctl;
  if (!ctl)
    return;
  for (gw_control_request **p = &ctl->reading; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      ctl->n_reading--;
      break;
    }
  r->ctl = NULL;
}

static void on_request_closed(uv_handle_t *h)
{
  free(h->data);
}

static void close_request(gw_control_request *r)
{
  unlink_reading(r);
  if (!uv_is_closing((uv_handle_t *)&r->pipe))
    uv_close((uv_handle_t *)&r->pipe, on_request_closed);
}

static void on_written(uv_write_t *w, int status)
{
  (void)status; /* a client that left does not get its answer */
  close_request(w->data);
}

void gw_control_answer(gw_control_request *req, bool ok, const char *text)
{
  if (!req)
    return;
  int n = snprintf(req->out, sizeof req->out, "%s %.*s\n", ok ? "ok" : "error",
                   GW_CONTROL_LINE_MAX - 8, text ? text : "");
  uv_buf_t buf = uv_buf_init(req->out, (unsigned)n);
  req->write.data = req;
  if (uv_write(&req->write, (uv_stream_t *)&req->pipe, &buf, 1, on_written) != 0)
    close_request(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  gw_control_request *r = h->data;
  *buf = uv_buf_init(r->in + r->len, (unsigned)(sizeof r->in - 1 - r->len));
}

static void dispatch(gw_control_request *r)
{
  gw_control *ctl = r->ctl;
  char *nl = memchr(r->in, '\n', r->len);
  *nl = '\0';
  if (nl > r->in && nl[-1] == '\r')
    nl[-1] = '\0';
  uv_read_stop((uv_stream_t *)&r->pipe);
  unlink_reading(r);
  static const char rotate[] = "rotate-password ";
  if (strncmp(r->in, rotate, sizeof rotate - 1) == 0 &&
      r->in[sizeof rotate - 1] != '\0' && ctl->ops.rotate_password) {
    ctl->ops.rotate_password(ctl->user_data, r->in + sizeof rotate - 1, r);
    return;
  }
  gw_control_answer(r, false, "unknown command");
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  (void)buf;
  gw_control_request *r = s->data;
  if (n < 0) {
    close_request(r);
    return;
  }
  r->len += (size_t)n;
  if (memchr(r->in, '\n', r->len)) {
    dispatch(r);
  } else if (r->len >= sizeof r->in - 1) {
    uv_read_stop(s);
    unlink_reading(r);
    gw_control_answer(r, false, "request too long");
  }
}

static void on_connection(uv_stream_t *server, int status)
{
  gw_control *ctl = server->data;
  if (status < 0)
    return;
  gw_control_request *r = calloc(1, sizeof *r);
  if (!r || uv_pipe_init(server->loop, &r->pipe, 0) != 0) {
    free(r);
    return;
  }
  r->pipe.data = r;
  if (uv_accept(server, (uv_stream_t *)&r->pipe) != 0 ||
      ctl->n_reading >= MAX_WAITING ||
      uv_read_start((uv_stream_t *)&r->pipe, on_alloc, on_read) != 0) {
    uv_close((uv_handle_t *)&r->pipe, on_request_closed);
    return;
  }
  r->ctl = ctl;
  r->next = ctl->reading;
  ctl->reading = r;
  ctl->n_reading++;
}

/* Only a socket is replaced: a regular file of that name is an error. */
static int remove_stale(const char *path, char *err, size_t err_len)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return GW_OK;
  if (!S_ISSOCK(st.st_mode)) {
    snprintf(err, err_len, "%s exists and is not a socket", path);
    return GW_EOPEN;
  }
  unlink(path);
  return GW_OK;
}

static void on_listener_closed(uv_handle_t *h)
{
  free(h->data);
}

int gw_control_start(uv_loop_t *loop, const char *path,
                     const gw_control_ops *ops, void *user_data,
                     gw_control **out, char *err, size_t err_len)
{
  if (out)
    *out = NULL;
  if (!loop || !path || !ops || !out)
    return GW_EINVAL;
  gw_control *ctl = calloc(1, sizeof *ctl);
  if (!ctl)
    return GW_ENOMEM;
  if (strlen(path) >= sizeof ctl->path) {
    snprintf(err, err_len, "%s: path too long for a unix socket", path);
    free(ctl);
    return GW_EINVAL;
  }
  snprintf(ctl->path, sizeof ctl->path, "%s", path);
  ctl->ops = *ops;
  ctl->user_data = user_data;
  int rc = remove_stale(path, err, err_len);
  if (rc != GW_OK) {
    free(ctl);
    return rc;
  }
  uv_pipe_init(loop, &ctl->listener, 0);
  ctl->listener.data = ctl;
  /* 0600 from the start: no moment in which others could connect */
  mode_t old = umask(0177);
  int uv = uv_pipe_bind(&ctl->listener, path);
  umask(old);
  if (uv == 0)
    uv = uv_listen((uv_stream_t *)&ctl->listener, 8, on_connection);
  if (uv != 0) {
    snprintf(err, err_len, "%s: %s", path, uv_strerror(uv));
    uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
    return GW_EOPEN;
  }
  *out = ctl;
  return GW_OK;
}

void gw_control_stop(gw_control *ctl)
{
  if (!ctl)
    return;
  while (ctl->reading)
    close_request(ctl->reading);
  unlink(ctl->path);
  uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
}
