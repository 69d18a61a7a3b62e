/* gw_app: the running daemon. Joins the OCPP server, the knxd link, the
 * bridge and the store on one libuv loop. */
#ifndef OCPPKNX_GW_APP_H
#define OCPPKNX_GW_APP_H

#include <uv.h>

#include "gateway/conf.h"

enum {
  GW_APP_OK = 0,
  GW_APP_ESTORE = -1,   /* the store cannot be opened */
  GW_APP_EOCPP = -2,    /* the OCPP listener cannot start */
  GW_APP_EKNX = -3,     /* the knxd link cannot be created */
  GW_APP_ENOMEM = -4
};

/* Runs the gateway on cfg until SIGTERM/SIGINT. cfg is owned by the app
 * from here on (replaced chargers on SIGHUP). Returns 0 after a clean
 * shutdown or a GW_APP_E* code when start-up failed (already logged). */
int gw_app_run(gw_conf *cfg);

/* Text of the status page ("/status" JSON, "/" HTML); used by the daemon's
 * HTTP hook and by tests. Caller frees. */
char *gw_status_html(const char *status_json);

#endif
