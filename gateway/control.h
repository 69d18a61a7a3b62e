/* gw_control: the daemon's local control socket, and its client.
 *
 * The daemon listens on a unix socket in the store directory
 * (GW_CONTROL_SOCKET, mode 0600: only its own user and root can connect).
 * A client sends one line, "<command> <argument>\n", and reads one line
 * back, "ok <text>\n" or "error <text>\n"; then the daemon closes the
 * connection. The only command is "rotate-password <charger id>".
 */
#ifndef OCPPKNX_GW_CONTROL_H
#define OCPPKNX_GW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "gateway/errors.h"

#define GW_CONTROL_SOCKET "ocppknxd.sock"
#define GW_CONTROL_LINE_MAX 256       /* request and answer, with '\n' */

typedef struct gw_control gw_control;
typedef struct gw_control_request gw_control_request;

typedef struct {
  /* "rotate-password ID": answer req exactly once with
   * gw_control_answer (at once or later). */
  void (*rotate_password)(void *user_data, const char *charger_id,
                          gw_control_request *req);
} gw_control_ops;

/* Listens on path (a stale socket file there is replaced). Returns GW_OK,
 * GW_EINVAL (NULL argument, path too long for a unix socket), GW_EOPEN
 * (cannot bind or listen: err says why) or GW_ENOMEM. */
int gw_control_start(uv_loop_t *loop, const char *path,
                     const gw_control_ops *ops, void *user_data,
                     gw_control **out, char *err, size_t err_len);

/* Sends the answer ("ok TEXT" or "error TEXT") and closes the request's
 * connection; the request is freed after. text must not hold a secret. */
void gw_control_answer(gw_control_request *req, bool ok, const char *text);

/* Stops listening, removes the socket file and closes connections whose
 * request is not complete; requests handed to the ops stay valid until
 * they are answered. NULL is a no-op. */
void gw_control_stop(gw_control *ctl);

/* The client: sends "command argument" to the daemon whose socket is at
 * path and waits up to timeout_ms for its answer. Returns GW_OK with the
 * answer's text in answer (without "ok "/"error " and '\n') and *ok set,
 * GW_EOPEN when no daemon listens there (errno text in answer), GW_EIO
 * when the connection fails or no answer comes in time, GW_EINVAL. */
int gw_control_call(const char *path, const char *command,
                    const char *argument, int timeout_ms, bool *ok,
                    char *answer, size_t answer_len);

#endif
