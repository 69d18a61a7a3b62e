/* gw_uplinks: the links of the chargers that have an [upstream] section,
 * one ocpp_upstream each. The gateway is that charger towards its billing
 * backend: it boots with the charger's identity (as the charger gave it,
 * or as the store kept it), and tells the backend every connector's
 * status. The transactions of the backend's own sessions (their idTag is
 * one of [upstream] tags) are passed on through a durable queue in the
 * store; of sessions with local tags nothing reaches a backend: only the
 * charger's identity and connector states. */
#ifndef OCPPKNX_GW_UPLINK_H
#define OCPPKNX_GW_UPLINK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "gateway/conf.h"
#include "gateway/errors.h"
#include "gateway/store.h"
#include "ocpp/ocpp.h"

typedef struct gw_uplinks gw_uplinks;

typedef struct {
  /* The link of charger_id registered with its backend (up), or lost it. */
  void (*on_link)(void *user_data, const char *charger_id, bool up);
  /* One log line of a link (ocpp_upstream's on_log). */
  void (*on_log)(void *user_data, ocpp_log_level level, const char *charger_id,
                 const char *message);
  /* The decision gw_uplinks_authorize promised (GW_AUTH_LATER) for token:
   * ocpp_server_authorized(). Called exactly once per such promise. */
  void (*decided)(void *user_data, const char *charger_id, uint32_t token,
                  ocpp_auth_status status);
  /* A backend's command for its charger, as ocpp_server_command(): 0 when
   * queued (cb follows exactly once), negative otherwise. NULL: commands
   * are refused. */
  int (*command)(void *user_data, const char *charger_id,
                 const ocpp_command *cmd, ocpp_command_cb cb, void *cb_data);
  /* As ocpp_server_transaction(): what runs on a connector, to find the
   * gateway's transaction of a backend's transactionId. May be NULL. */
  int (*transaction)(void *user_data, const char *charger_id, int connector,
                     ocpp_transaction_info *out);
  /* The backend's current cap for a connector (0: all), amps < 0 none
   * (gw_bridge_set_backend_cap). NULL: charging profiles are refused. */
  int (*set_cap)(void *user_data, const char *charger_id, int connector,
                 double amps);
} gw_uplink_hooks;

typedef enum {
  GW_AUTH_LOCAL,   /* not a backend's tag: the charger's own options */
  GW_AUTH_NOW,     /* decided: *status */
  GW_AUTH_LATER    /* the backend is asked: hooks.decided follows */
} gw_auth_verdict;

typedef struct {
  int call_timeout;              /* s */
  bool trace;
  size_t max_message_size;
} gw_uplink_options;

/* Starts a link for every charger of chargers[0..n) with an [upstream]
 * url; store keeps the backends' answers for idTags (not owned). Returns GW_OK, GW_EINVAL (NULL argument), GW_ENOMEM or GW_EOCPP
 * (a link could not start: its certificate files; logged through on_log
 * with the reason). On failure *out is NULL and nothing runs. */
int gw_uplinks_create(uv_loop_t *loop, const gw_charger_conf *chargers,
                      size_t n, const gw_uplink_options *opt, gw_store *store,
                      const gw_uplink_hooks *hooks, void *user_data,
                      gw_uplinks **out);

/* An idTag the charger presents (Authorize, StartTransaction). A tag of the
 * charger's [upstream] tags is the backend's: asked there while the link is
 * registered (GW_AUTH_LATER; its answer is cached), else decided from the
 * cache: accepted before and not expired is Accepted, anything else
 * Invalid (GW_AUTH_NOW). Other tags, and the charger's remote_tag, never
 * leave the gateway (GW_AUTH_LOCAL). */
gw_auth_verdict gw_uplinks_authorize(gw_uplinks *u, const char *charger_id,
                                     const char *id_tag, uint32_t token,
                                     ocpp_auth_status *status);

/* SIGHUP: the links of the reloaded chargers. A link whose [upstream] did
 * not change keeps running; a changed one is replaced by a new link that
 * starts from the old one's identity and connector states; links of
 * chargers without [upstream] now end. Returns GW_OK, GW_EINVAL,
 * GW_ENOMEM or GW_EOCPP (a new link could not start, logged): then
 * nothing changed. */
int gw_uplinks_reload(gw_uplinks *u, const gw_charger_conf *chargers,
                      size_t n);

/* The charger's identity for its backend's BootNotification. Chargers
 * without a link are ignored. */
void gw_uplinks_set_boot(gw_uplinks *u, const char *charger_id,
                         const char *vendor, const char *model,
                         const char *serial, const char *firmware);

/* An event of the chargers' side: BootNotification and StatusNotification
 * are passed on to the charger's backend; StartTransaction, MeterValues
 * and StopTransaction of the backend's sessions are queued in the store
 * (durable when this returns) and delivered in order, with the backend's
 * transaction id. Call it before the charger gets its answer. */
void gw_uplinks_on_event(gw_uplinks *u, const ocpp_event *ev);

/* Adds "upstream" {url, identity, connected, websocket, since, last_error,
 * failures, queue_length, oldest_queued} to each object of chargers (the
 * status' "chargers" array) whose "id" has a link. */
void gw_uplinks_status(const gw_uplinks *u, json_t *chargers);

/* The current cap in A that a csChargingProfiles of SetChargingProfile
 * puts in force at now: the period of its chargingSchedule running then
 * (counted from startSchedule, else from now), in A as it stands, in W
 * divided by voltage x phases (the period's numberPhases when it has
 * one). Returns GW_OK, GW_EINVAL (no usable schedule) or GW_ENOTFOUND
 * (nothing in force at now: not started, duration or validTo passed). */
int gw_profile_cap(const json_t *profile, double voltage, int phases,
                   time_t now, double *amps);

/* The status the backend's CALL of action is answered with when the
 * charger's result of the relayed command is result, as the action's
 * answer schema names it: a ChangeConfiguration the charger answered
 * RebootRequired is RebootRequired, not Accepted; no answer, a CALLERROR
 * or a refusal is the refusal. NULL for an action that is not relayed. */
const char *gw_uplink_relay_status(const char *action, ocpp_result result);

/* Ends every link (their sockets close on the loop) and frees. NULL is
 * allowed. */
void gw_uplinks_destroy(gw_uplinks *u);

#endif
