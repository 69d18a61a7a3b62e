/* gw_bridge: the per-charger mapping between OCPP events/commands and KNX
 * objects (DESIGN.md's table). Pure logic: time comes in as now_ms, KNX
 * telegrams and OCPP commands go out through gw_bridge_ops, so tests drive
 * it with fake ends. It queues telegrams, coalesces them per group address
 * and releases at most max_telegrams_per_second through gw_bridge_pump().
 */
#ifndef OCPPKNX_GW_BRIDGE_H
#define OCPPKNX_GW_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/conf.h"
#include "gateway/errors.h"
#include "gateway/log.h"
#include "knx/knx.h"
#include "ocpp/ocpp.h"

/* The two ends, passed once. */
typedef struct {
  int (*knx_send)(void *user_data, uint16_t ga, knx_service svc,
                  const knx_payload *p);
  /* Every OCPP command, as ocpp_server_command(): 0 when queued (cb follows
   * exactly once with cb_data), negative otherwise (cb never called). cmd
   * and its strings are only valid during the call. */
  int (*command)(void *user_data, const char *charger_id,
                 const ocpp_command *cmd, ocpp_command_cb cb, void *cb_data);
  /* What the charger record (ocpp/) knows of a connector's transaction,
   * as ocpp_server_transaction(): 0 and *out filled, or negative. The
   * bridge keeps no copy of it. May be NULL: no transaction is known. */
  int (*transaction)(void *user_data, const char *charger_id, int connector,
                     ocpp_transaction_info *out);
  /* A command result queued telegrams outside of a call into the bridge:
   * gw_bridge_pump() is due. May be NULL. */
  void (*wake)(void *user_data);
  /* One line per event; charger_id may be NULL. */
  void (*log)(void *user_data, gw_log_level level, const char *charger_id,
              const char *message);
  /* With the energy manager: writes of max_current (a cap), fast_charging
   * (the wish), charge_mode, and of charging on a running transaction with
   * stop_mode = pause (0 off, 1 back to the mode) go here instead of to a
   * command; the manager's limits come back through gw_bridge_set_limit.
   * NULL: no energy manager, every write is a command as before. */
  void (*energy_write)(void *user_data, const char *charger_id, int connector,
                       gw_object obj, double value);
} gw_bridge_ops;

typedef struct gw_bridge gw_bridge;

/* chargers: the configured chargers (the bridge keeps its own copy of what
 * it needs). Returns GW_OK, GW_EINVAL (NULL out or ops, no knx_send or
 * command hook, bad charger set) or GW_ENOMEM. */
int gw_bridge_create(const gw_charger_conf *chargers, size_t n_chargers,
                     int max_telegrams_per_second, const gw_bridge_ops *ops,
                     void *user_data, gw_bridge **out);

/* SIGHUP: new charger set; state of chargers that stay is kept (values of
 * objects whose group address or DPT changed are sent on the new address).
 * Commands still in flight for a removed charger complete without effect.
 * Returns GW_OK, GW_EINVAL (NULL b, a charger without id, duplicate ids)
 * or GW_ENOMEM; on failure the old set stays. */
int gw_bridge_set_chargers(gw_bridge *b, const gw_charger_conf *chargers,
                           size_t n_chargers);

/* NULL is allowed. The OCPP side should deliver pending command callbacks
 * before; one that arrives later only frees its own context. */
void gw_bridge_destroy(gw_bridge *b);

/* An OCPP event (all of ocpp.h's). */
void gw_bridge_on_ocpp_event(gw_bridge *b, const ocpp_event *ev,
                             uint64_t now_ms);

/* The charger's link to its billing backend is registered (up) or not:
 * the upstream_online object of each connector. */
void gw_bridge_on_upstream(gw_bridge *b, const char *charger_id, bool up,
                           uint64_t now_ms);

/* A group telegram from the bus. */
void gw_bridge_on_knx_group(gw_bridge *b, uint16_t src, uint16_t dst,
                            knx_service svc, const knx_payload *p,
                            uint64_t now_ms);

/* The knxd link went up (every state object is queued again) or down
 * (queue dropped; values are re-published on the next up). */
void gw_bridge_on_knx_link(gw_bridge *b, bool up, uint64_t now_ms);

/* Sends what the rate limit allows now. Returns the time (ms, same clock)
 * when it should be called again, or 0 when nothing is queued. */
uint64_t gw_bridge_pump(gw_bridge *b, uint64_t now_ms);

/* The energy manager's limit for a connector, through the same current
 * limit path as a max_current write (SetChargingProfile with its
 * fallbacks, W for chargers that take only W, 0 A pauses); once accepted
 * max_current_state shows it. Returns GW_OK, GW_EINVAL (NULL argument,
 * amps not in 0..80) or GW_ENOTFOUND (no such charger or connector). */
int gw_bridge_set_limit(gw_bridge *b, const char *charger_id, int connector,
                        double amps);

/* The billing backend's cap for a connector (0: every connector of the
 * charger), from its SetChargingProfile: every current limit sent from now
 * on is min(local limit, cap), and the limit in force is sent again at
 * once (the cap alone when no local limit was asked for). amps < 0 removes
 * the cap (ClearChargingProfile): the local limit applies again, or 80 A
 * without one. Returns GW_OK, GW_EINVAL (NULL argument, amps over 80) or
 * GW_ENOTFOUND (no such charger or connector). */
int gw_bridge_set_backend_cap(gw_bridge *b, const char *charger_id,
                              int connector, double amps);

/* Sets a connector object's value (for the energy manager's objects) and
 * sends it when it changed; answered on reads like every state object.
 * Returns GW_OK, GW_EINVAL or GW_ENOTFOUND. */
int gw_bridge_publish_value(gw_bridge *b, const char *charger_id,
                            int connector, gw_object obj, double value);

/* A value on a group address of no charger (the main file's objects), as a
 * write or as the answer to a read, through the telegram queue. Returns
 * GW_OK, GW_EINVAL (NULL b, value not encodable in dpt). */
int gw_bridge_send_value(gw_bridge *b, uint16_t ga, knx_dpt dpt, double value,
                         bool response);

/* ---- what the status page reads (bridge_view.c) ------------------------- */

typedef enum { GW_VIEW_NUMBER, GW_VIEW_TIME, GW_VIEW_TEXT } gw_view_kind;

/* One KNX object of a connector as the bridge knows it. */
typedef struct {
  gw_object obj;
  uint16_t ga;
  knx_dpt dpt;
  bool state;          /* sent by the gateway; false: written by the bus */
  bool known;          /* a value was sent or received */
  gw_view_kind kind;
  double number;       /* gateway units: A, W, Wh, 0/1, enumeration index */
  time_t time;
  char text[16];       /* ASCII, NUL-terminated */
  uint64_t at_ms;      /* when, on the clock of the now_ms arguments */
} gw_object_view;

/* The objects with a group address of connector of charger_id, in
 * gw_object order, into out[0..GW_OBJ_COUNT). Returns how many, GW_EINVAL
 * (NULL argument) or GW_ENOTFOUND (no such charger or connector). */
int gw_bridge_objects(const gw_bridge *b, const char *charger_id, int connector,
                      gw_object_view out[GW_OBJ_COUNT]);

/* Who the current limit in force on a connector is owed to. */
typedef enum {
  GW_LIMIT_MAX_CURRENT,    /* a KNX max_current write */
  GW_LIMIT_FAST_CHARGING,  /* a KNX fast_charging write */
  GW_LIMIT_ENERGY,         /* the energy manager */
  GW_LIMIT_BACKEND,        /* the billing backend's cap, lower than the
                              local limit (or the only one) */
  GW_LIMIT_NONE            /* no limit of the gateway's in force */
} gw_limit_by;

/* The current limit the gateway's accepted commands put in force on a
 * connector, and who it is owed to: the local limit's asker, or the
 * backend when its cap is what the charger got. Returns GW_OK, GW_EINVAL
 * (NULL argument) or GW_ENOTFOUND: no such connector, or no limit accepted
 * since the start (the charger's own default applies). */
int gw_bridge_limit(const gw_bridge *b, const char *charger_id, int connector,
                    double *amps, gw_limit_by *by);

/* Telegrams sent so far (for the status page and benchmarks). */
uint64_t gw_bridge_telegrams_sent(const gw_bridge *b);

#endif
