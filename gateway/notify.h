/* gw_notify: the daemon's side of systemd's service notification protocol
 * (Type=notify): readiness, a one-line status, stopping, and the watchdog.
 *
 * Without NOTIFY_SOCKET every call is a no-op; without WATCHDOG_USEC no
 * timer exists, so an idle daemon still never wakes up. With the watchdog,
 * a repeating timer on the loop sends WATCHDOG=1 at half the interval: a
 * loop that stalls stops the kicks and systemd restarts the daemon. */
#ifndef OCPPKNX_GW_NOTIFY_H
#define OCPPKNX_GW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct gw_notify gw_notify;

/* What the status line tells: counts and the state of the two links. */
typedef struct {
  size_t chargers_online;
  size_t chargers_known;
  bool knx_up;
  bool store_writable;
} gw_notify_summary;

/* Creates the notifier on loop and, when the service manager asked for a
 * watchdog, starts its timer (it does not keep the loop alive by itself).
 * *watchdog_ms is the kick period, 0 without a watchdog. Returns 0,
 * GW_ENOMEM, or GW_EINVAL (a WATCHDOG_USEC that cannot be read). */
int gw_notify_create(uv_loop_t *loop, gw_notify **out, uint64_t *watchdog_ms);

/* READY=1 with the status line. Call once, when the listeners and the
 * store are up. */
void gw_notify_ready(gw_notify *n, const gw_notify_summary *s);

/* STATUS= with the status line; nothing is sent before gw_notify_ready,
 * after gw_notify_stopping, or when the line did not change. */
void gw_notify_status(gw_notify *n, const gw_notify_summary *s);

/* STOPPING=1, before the orderly close; why goes into the status line. */
void gw_notify_stopping(gw_notify *n, const char *why);

/* The three above accept NULL (no notifier: nothing is sent). */

/* Stops and closes the watchdog timer; the notifier is freed in the close
 * callback, so the loop must run once more. NULL is allowed. */
void gw_notify_destroy(gw_notify *n);

#endif
