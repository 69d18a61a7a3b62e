/* Internal to the gateway's energy manager (energy_manager.c,
 * energy_inputs.c, energy_status.c): the connector map and the state the
 * files share. The public API is gateway/energy.h. */
#ifndef OCPPKNX_GW_ENERGY_IMPL_H
#define OCPPKNX_GW_ENERGY_IMPL_H

#include "energy/energy.h"
#include "gateway/energy.h"

/* One managed connector: engine index = its place in gw_energy.conn. */
typedef struct {
  char *charger_id;
  int connector;
  double normal_current, fast_current;
  int phases;                    /* the charger's wiring: 1 or 3 */
  ocpp_tag_match tag_match;
  char **tag_mode_tags;          /* copies of the charger's tag_modes */
  em_mode *tag_mode_modes;
  size_t n_tag_modes;
  em_mode conn_mode;             /* the default, or what KNX wrote last */
  bool session_mode_set;         /* the session runs in session_mode */
  em_mode session_mode;          /* from its tag, or a charging = 0 pause */
  bool paused_by_knx;            /* charging = 0 with stop_mode = pause */
} gw_en_conn;

struct gw_energy {
  gw_energy_ops ops;
  void *user_data;
  gw_energy_conf cfg;            /* copy; the group addresses it listens to */
  int sample_interval_s;
  em_engine *em;
  gw_en_conn *conn;
  size_t n;
  bool dirty;                    /* an input changed since the last step */
  bool stepped;
  uint64_t last_step;
  bool stale_logged;
  bool headroom_sent;
  double headroom;               /* last sent */
  /* the last grid readings, fed again to an engine made by a reload */
  bool has_grid[3];
  double grid[3];
  uint64_t grid_at[3];
  bool has_power;
  double power;
  uint64_t power_at;
  bool cheap;
};

/* energy_manager.c */
void gw__en_log(const gw_energy *en, gw_log_level level,
                const char *charger_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The index of (charger_id, connector), or -1. */
long gw__en_find(const gw_energy *en, const char *charger_id, int connector);
/* The mode the connector's engine entry runs in now. */
em_mode gw__en_mode(const gw_en_conn *c);
/* Gives the engine c's mode (after a change of any of its sources). */
void gw__en_apply_mode(gw_energy *en, size_t i);

#endif
