/* systemd's notification protocol through libsystemd (sd_notify): what the
 * service manager learns about the running daemon. */
#include "gateway/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "gateway/errors.h"

#define STATUS_MAX 160

struct gw_notify {
  uv_timer_t watchdog;
  bool has_watchdog;
  bool ready;              /* READY=1 carries the first status line */
  bool stopping;           /* the status line stays "shutting down" */
  char status[STATUS_MAX]; /* the last STATUS= sent, to skip repeats */
};

static void on_watchdog(uv_timer_t *t)
{
  (void)t;
  sd_notify(0, "WATCHDOG=1");
}

int gw_notify_create(uv_loop_t *loop, gw_notify **out, uint64_t *watchdog_ms)
{
  *out = NULL;
  *watchdog_ms = 0;
  uint64_t usec = 0;
  /* > 0: asked for, and WATCHDOG_PID (when set) names this process */
  int enabled = sd_watchdog_enabled(0, &usec);
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
  sd_notifyf(0, "READY=1\nSTATUS=%s", n->status);
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
  sd_notifyf(0, "STATUS=%s", n->status);
}

void gw_notify_stopping(gw_notify *n, const char *why)
{
  if (!n)
    return;
  n->stopping = true;
  snprintf(n->status, sizeof n->status, "%s: shutting down", why);
  sd_notifyf(0, "STOPPING=1\nSTATUS=%s", n->status);
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
