/* The link to knxd: libeibclient's group socket watched by a uv_poll_t,
 * reconnected on a uv_timer with backoff. Memory and the EIBConnection are
 * only released from libuv close callbacks. */
#include "knx/knx.h"

#include <eibclient.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  BACKOFF_FIRST_MS = 500,
  BACKOFF_MAX_MS = 30000,
  /* Telegrams handled per readable event, so a flood cannot starve the
   * loop; the rest stays in the socket and wakes the poll again. */
  TELEGRAMS_PER_EVENT = 64,
  /* libeibclient's own limit for a group APDU. */
  RECV_BUF = 255,
  ERROR_LEN = 256
};

struct knx_link {
  uv_loop_t *loop;
  char *url;
  knx_link_callbacks cb;
  void *user_data;

  EIBConnection *con;
  uv_poll_t poll;
  bool poll_open; /* initialised and not yet handed to uv_close */
  uv_timer_t retry;
  uint64_t backoff_ms;

  knx_link_state state;
  char last_error[ERROR_LEN];

  bool destroying;
  unsigned closing_handles;
  void (*on_closed)(void *user_data);
};

static void set_error(knx_link *link, const char *what, int err)
{
  snprintf(link->last_error, sizeof link->last_error, "%s %s: %s", what,
           link->url, strerror(err));
}

static void set_state(knx_link *link, knx_link_state state)
{
  if (link->state == state)
    return;
  link->state = state;
  if (!link->destroying && link->cb.on_state != NULL)
    link->cb.on_state(link->user_data, state);
}

static void finish_if_closed(knx_link *link)
{
  if (!link->destroying || link->closing_handles > 0)
    return;
  void (*on_closed)(void *) = link->on_closed;
  void *user_data = link->user_data;
  free(link->url);
  free(link);
  if (on_closed != NULL)
    on_closed(user_data);
}

static void on_retry(uv_timer_t *timer);

static void schedule_retry(knx_link *link)
{
  uv_timer_start(&link->retry, on_retry, link->backoff_ms, 0);
  link->backoff_ms *= 2;
  if (link->backoff_ms > BACKOFF_MAX_MS)
    link->backoff_ms = BACKOFF_MAX_MS;
}

static void on_poll_closed(uv_handle_t *handle)
{
  knx_link *link = handle->data;
  link->closing_handles--;
  /* EIBClose closes the fd, so only now that libuv no longer watches it. */
  EIBClose(link->con);
  link->con = NULL;
  if (link->destroying) {
    finish_if_closed(link);
    return;
  }
  schedule_retry(link);
}

static void close_poll(knx_link *link)
{
  if (!link->poll_open)
    return;
  link->poll_open = false;
  link->closing_handles++;
  uv_close((uv_handle_t *)&link->poll, on_poll_closed);
}

/* The connection broke: stop using it now, reconnect once it is closed. */
static void lose_connection(knx_link *link, const char *what, int err)
{
  set_error(link, what, err);
  close_poll(link);
  set_state(link, KNX_LINK_DOWN);
}

static void deliver(knx_link *link, const uint8_t *apdu, int len,
                    eibaddr_t src, eibaddr_t dst)
{
  knx_service svc;
  knx_payload payload;
  /* Other services and malformed APDUs are not ours: ignore them. */
  if (knx_apdu_decode(apdu, (size_t)len, &svc, &payload) != KNX_OK)
    return;
  if (link->cb.on_group != NULL)
    link->cb.on_group(link->user_data, src, dst, svc, &payload);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
  knx_link *link = poll->data;
  (void)events;
  if (status < 0) {
    lose_connection(link, "poll", -status);
    return;
  }
  for (int i = 0; i < TELEGRAMS_PER_EVENT; i++) {
    errno = 0;
    int complete = EIB_Poll_Complete(link->con);
    if (complete < 0) {
      lose_connection(link, "read", errno != 0 ? errno : ECONNRESET);
      return;
    }
    if (complete == 0)
      return;
    uint8_t apdu[RECV_BUF];
    eibaddr_t src, dst;
    int len = EIBGetGroup_Src(link->con, sizeof apdu, apdu, &src, &dst);
    if (len < 0) {
      lose_connection(link, "read", errno != 0 ? errno : EIO);
      return;
    }
    deliver(link, apdu, len, src, dst);
    /* The callback may have destroyed the link or broken it by a send. */
    if (link->destroying || !link->poll_open)
      return;
  }
}

/* One connection attempt. On failure last_error says why. */
static int connect_once(knx_link *link)
{
  errno = 0;
  EIBConnection *con = EIBSocketURL(link->url);
  if (con == NULL) {
    set_error(link, "connect", errno != 0 ? errno : EINVAL);
    return KNX_EIO;
  }
  /* Blocks for one round trip to knxd on the local socket; the async
   * variant would only matter for a knxd that accepts but never answers. */
  errno = 0;
  if (EIBOpen_GroupSocket(con, 0) != 0) {
    set_error(link, "open group socket on", errno != 0 ? errno : EIO);
    EIBClose(con);
    return KNX_EIO;
  }
  int rc = uv_poll_init(link->loop, &link->poll, EIB_Poll_FD(con));
  if (rc < 0) {
    set_error(link, "watch", -rc);
    EIBClose(con);
    return KNX_EIO;
  }
  link->con = con;
  link->poll.data = link;
  link->poll_open = true;
  rc = uv_poll_start(&link->poll, UV_READABLE | UV_DISCONNECT, on_readable);
  if (rc < 0) {
    /* The poll is initialised: closing it also closes con and retries. */
    set_error(link, "watch", -rc);
    close_poll(link);
    return KNX_EIO;
  }
  link->backoff_ms = BACKOFF_FIRST_MS;
  set_state(link, KNX_LINK_UP);
  return KNX_OK;
}

static void try_connect(knx_link *link)
{
  /* A half-made connection that is closing retries from its close
   * callback. */
  if (connect_once(link) == KNX_OK || link->con != NULL)
    return;
  schedule_retry(link);
}

static void on_retry(uv_timer_t *timer)
{
  knx_link *link = timer->data;
  try_connect(link);
}

int knx_link_create(uv_loop_t *loop, const char *url,
                    const knx_link_callbacks *cb, void *user_data,
                    knx_link **out)
{
  if (loop == NULL || url == NULL || url[0] == '\0' || cb == NULL ||
      out == NULL)
    return KNX_EINVAL;

  knx_link *link = calloc(1, sizeof *link);
  if (link == NULL)
    return KNX_ENOMEM;
  link->url = strdup(url);
  if (link->url == NULL) {
    free(link);
    return KNX_ENOMEM;
  }
  link->loop = loop;
  link->cb = *cb;
  link->user_data = user_data;
  link->state = KNX_LINK_DOWN;
  link->backoff_ms = BACKOFF_FIRST_MS;
  uv_timer_init(loop, &link->retry);
  link->retry.data = link;

  *out = link;
  try_connect(link);
  return KNX_OK;
}

int knx_link_send(knx_link *link, uint16_t dst, knx_service svc,
                  const knx_payload *p)
{
  if (link == NULL)
    return KNX_EINVAL;
  if (link->state != KNX_LINK_UP || link->destroying)
    return KNX_ENOTCONN;

  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  int rc = knx_apdu_encode(svc, p, apdu, sizeof apdu, &len);
  if (rc != KNX_OK)
    return KNX_EINVAL;

  errno = 0;
  if (EIBSendGroup(link->con, dst, (int)len, apdu) != (int)len) {
    lose_connection(link, "send to", errno != 0 ? errno : EIO);
    return KNX_EIO;
  }
  return KNX_OK;
}

knx_link_state knx_link_get_state(const knx_link *link)
{
  return link != NULL ? link->state : KNX_LINK_DOWN;
}

const char *knx_link_last_error(const knx_link *link)
{
  return link != NULL ? link->last_error : "";
}

static void on_retry_closed(uv_handle_t *handle)
{
  knx_link *link = handle->data;
  link->closing_handles--;
  finish_if_closed(link);
}

void knx_link_destroy(knx_link *link, void (*on_closed)(void *user_data))
{
  if (link == NULL || link->destroying)
    return;
  link->destroying = true;
  link->on_closed = on_closed;
  link->state = KNX_LINK_DOWN;
  close_poll(link);
  link->closing_handles++;
  uv_close((uv_handle_t *)&link->retry, on_retry_closed);
}
