/* gw_app: the running daemon. Joins the OCPP server, the knxd link, the
 * bridge and the store on one libuv loop. */
#ifndef OCPPKNX_GW_APP_H
#define OCPPKNX_GW_APP_H

#include <uv.h>

#include "gateway/conf.h"
#include "gateway/errors.h"

/* Runs the gateway on cfg until SIGTERM/SIGINT. cfg is owned by the app
 * from here on (replaced chargers on SIGHUP). Returns 0 after a clean
 * shutdown, or when start-up failed (already logged) GW_EOPEN (the store),
 * GW_EOCPP, GW_EKNX or GW_ENOMEM. */
int gw_app_run(gw_conf *cfg);

#endif
