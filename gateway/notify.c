/* systemd's notification protocol: what the service manager learns about
 * the running daemon. The protocol is one datagram per message to the
 * socket in $NOTIFY_SOCKET, which systemd documents as stable for programs
 * that do not link libsystemd (sd_notify(3)); linking it would map five
 * more libraries (gcrypt, zstd, lzma, lz4, cap) into a daemon that is
 * meant to stay small. */
#include "gateway/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/errors.h"

#define STATUS_MAX 160

struct gw_notify {
  uv_timer_t watchdog;
  bool has_watchdog;
  bool ready;              /* READY=1 carries the first status line */
  bool stopping;           /* the status line stays "shutting down" */
  char status[STATUS_MAX]; /* the last STATUS= sent, to skip repeats */
};

/* One message to $NOTIFY_SOCKET (a path, or "@name" in the abstract
 * namespace); nothing when it is unset. Failures are not the daemon's
 * concern: the service manager notices a missing READY by itself. */
static void notify_send(const char *fmt, ...)
{
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t plen = path ? strlen(path) : 0;
  if (plen < 2 || plen >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
    return;
  memcpy(sa.sun_path, path, plen);
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  char msg[STATUS_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
  while (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                salen) < 0 && errno == EINTR)
    ;
  close(fd);
}

/* The watchdog interval in microseconds when WATCHDOG_USEC asks for one
 * and WATCHDOG_PID (if set) names this process; 0 otherwise. */
static int watchdog_usec(uint64_t *usec)
{
  *usec = 0;
  const char *v = getenv("WATCHDOG_USEC");
  if (!v || !*v)
    return 0;
  char *end;
  errno = 0;
  unsigned long long u = strtoull(v, &end, 10);
  if (errno || *end || u == 0 || v[0] == '-')
    return GW_EINVAL;
  const char *pid = getenv("WATCHDOG_PID");
  if (pid && *pid) {
    unsigned long long p = strtoull(pid, &end, 10);
    if (*end || p != (unsigned long long)getpid())
      return 0; /* meant for another process */
  }
  *usec = u;
  return 1;
}

static void on_watchdog(uv_timer_t *t)
{
  (void)t;
  notify_send("WATCHDOG=1");
}

int gw_notify_create(uv_loop_t *loop, gw_notify **out, uint64_t *watchdog_ms)
{
  *out = NULL;
  *watchdog_ms = 0;
  uint64_t usec = 0;
  int enabled = watchdog_usec(&usec);
  if (enabled < 0)
    return GW_EINVAL;
  gw_notify *n = calloc(1, sizeof *n);
  if (!n)
    return GW_ENOMEM;
  *out = n;
  if (enabled == 0)
    return GW_OK;
  /* half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms */
  uint64_t ms = usec / 2000 ? usec / 2000 : 1;
  uv_timer_init(loop, &n->watchdog);
  n->watchdog.data = n;
  /* the kicks must not hold off the end of the loop at shutdown */
  uv_unref((uv_handle_t *)&n->watchdog);
  uv_timer_start(&n->watchdog, on_watchdog, ms, ms);
  n->has_watchdog = true;
  *watchdog_ms = ms;
  return GW_OK;
}

static void format_status(const gw_notify_summary *s, char *buf, size_t size)
{
  snprintf(buf, size, "%zu of %zu chargers online, knxd %s%s",
           s->chargers_online, s->chargers_known,
           s->knx_up ? "connected" : "not connected",
           s->store_writable ? "" : ", store not writable");
}

void gw_notify_ready(gw_notify *n, const gw_notify_summary *s)
{
  if (!n)
    return;
  n->ready = true;
  format_status(s, n->status, sizeof n->status);
  notify_send("READY=1\nSTATUS=%s", n->status);
}

void gw_notify_status(gw_notify *n, const gw_notify_summary *s)
{
  if (!n || !n->ready || n->stopping)
    return;
  char line[STATUS_MAX];
  format_status(s, line, sizeof line);
  if (strcmp(line, n->status) == 0)
    return;
  memcpy(n->status, line, sizeof line);
  notify_send("STATUS=%s", n->status);
}

void gw_notify_stopping(gw_notify *n, const char *why)
{
  if (!n)
    return;
  n->stopping = true;
  snprintf(n->status, sizeof n->status, "%s: shutting down", why);
  notify_send("STOPPING=1\nSTATUS=%s", n->status);
}

static void on_watchdog_closed(uv_handle_t *h)
{
  free(h->data);
}

void gw_notify_destroy(gw_notify *n)
{
  if (!n)
    return;
  if (!n->has_watchdog) {
    free(n);
    return;
  }
  uv_close((uv_handle_t *)&n->watchdog, on_watchdog_closed);
}
