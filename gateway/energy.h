/* gw_energy: the energy manager in the gateway. It joins the allocation
 * engine (energy/energy.h) with what the gateway sees: the KNX energy
 * meter and tariff, each connector's transaction and per-phase
 * Current.Import, the KNX max_current (a cap), fast_charging (the wish)
 * and charge_mode writes the bridge hands on, and the tag a session
 * started with. Its limits go out through gw_energy_ops.set_limit (the
 * bridge's current-limit path). Like the bridge it does no I/O: time comes
 * in as now_ms and gw_energy_pump says when it is due again.
 */
#ifndef OCPPKNX_GW_ENERGY_H
#define OCPPKNX_GW_ENERGY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/conf.h"
#include "gateway/errors.h"
#include "gateway/log.h"
#include "knx/knx.h"
#include "ocpp/ocpp.h"

typedef struct {
  /* A new limit for a connector (0 pauses). */
  void (*set_limit)(void *user_data, const char *charger_id, int connector,
                    double amps);
  /* A connector object's value: charge_mode_state, allocated_current_state. */
  void (*publish)(void *user_data, const char *charger_id, int connector,
                  gw_object obj, double value);
  /* A main-file object (headroom_state): a write, or the answer to a read. */
  void (*send)(void *user_data, uint16_t ga, knx_dpt dpt, double value,
               bool response);
  /* What ocpp/ knows of a connector's transaction (after a reload). May be
   * NULL. */
  int (*transaction)(void *user_data, const char *charger_id, int connector,
                     ocpp_transaction_info *out);
  void (*log)(void *user_data, gw_log_level level, const char *charger_id,
              const char *message);
} gw_energy_ops;

typedef struct gw_energy gw_energy;

/* cfg must have an [energy] section (cfg->energy.enabled); every connector
 * of every charger is managed. sample_interval_s: the MeterValues interval
 * the chargers are given. Returns GW_OK, GW_EINVAL (NULL argument, no
 * [energy], a hook missing) or GW_ENOMEM. */
int gw_energy_create(const gw_conf *cfg, int sample_interval_s,
                     const gw_energy_ops *ops, void *user_data,
                     gw_energy **out);

/* NULL is allowed. */
void gw_energy_destroy(gw_energy *en);

/* SIGHUP: a new charger set. Connector modes set from KNX stay for the
 * connectors that stay; running transactions are asked for through
 * ops.transaction, and their limits sent again. Returns GW_OK, GW_EINVAL
 * or GW_ENOMEM (the old set stays). */
int gw_energy_set_chargers(gw_energy *en, const gw_charger_conf *chargers,
                           size_t n, uint64_t now_ms);

/* Transactions, meter values, status. */
void gw_energy_on_ocpp_event(gw_energy *en, const ocpp_event *ev,
                             uint64_t now_ms);

/* A group telegram: the meter's, the tariff's, a read of headroom_state.
 * Returns true when the address is one of the manager's. */
bool gw_energy_on_knx_group(gw_energy *en, uint16_t dst, knx_service svc,
                            const knx_payload *p, uint64_t now_ms);

/* The knxd link went up (headroom_state is sent again) or down. */
void gw_energy_on_knx_link(gw_energy *en, bool up, uint64_t now_ms);

/* A write the bridge hands on (gw_bridge_ops.energy_write). */
void gw_energy_on_write(gw_energy *en, const char *charger_id, int connector,
                        gw_object obj, double value, uint64_t now_ms);

/* Runs the allocation when an input changed (at most once per second) or
 * a hold, guard or staleness ends, and hands its results to the ops.
 * Returns when to call it again (ms, same clock), or 0 for never without
 * new input. */
uint64_t gw_energy_pump(gw_energy *en, uint64_t now_ms);

/* {"main_fuse", "stale", "measured_a":[L1,L2,L3], "base_load_a", "budget_a",
 *  "headroom_a", "grid_power_w", "surplus_w", "cheap", "connectors":[{
 *  "charger", "connector", "mode", "session", "allocation_a", "target_a",
 *  "reason", "phases"}]} as a new object (caller owns it); NULL on ENOMEM. */
json_t *gw_energy_status(const gw_energy *en);

#endif
