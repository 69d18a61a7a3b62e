/* The record of one charger the central system knows: its options, what
 * it told us about itself and the live state of its connectors, including
 * the running transaction. It outlives connections. The registry
 * (registry.c) creates and frees it; the charger's session (cs16_*.c) is
 * the only writer of everything below `conn_state`, and everyone else
 * (status output, commands) asks the record. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_CHARGER_H
#define OCPPKNX_OCPP_CHARGER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ocpp/ocpp.h"

#define OCPP_MAX_CONNECTORS 16     /* connectors tracked per charger */
#define OCPP_ID_MAX 64

struct ocpp_conn;

typedef struct {
  ocpp_cp_status status;
  ocpp_cp_error error;
  bool status_known;
  int32_t tx_id;              /* 0 when no transaction runs */
  char tx_tag[37];             /* idTag (1.6: 20) or idToken (2.0.1: 36) */
  char tx_tag_name[OCPP_TAG_NAME_MAX + 1]; /* the owner's name; "" none */
  double tx_meter_start_wh;
  bool tx_has_meter_start;
  time_t tx_start;
  int32_t last_stopped_tx;    /* for meter values that arrive late */
  double current_a, power_w, energy_wh, session_energy_wh;
  bool has_current, has_power, has_energy;
  int reservation_id;         /* 0 = none made by us */
  /* OCPP 2.0.1: the EVSE's state beside the status it maps to */
  char tx_charger_id[37];     /* the charger's transactionId; "" none */
  int tx_seq_no;              /* last seqNo of it, -1 none yet */
  int connector_status;       /* OCPP_201_CONNECTOR_*; -1 unknown */
  int charging_state;         /* OCPP_201_CHARGING_*; -1 none */
  bool finishing;             /* a transaction ended, still occupied */
  ocpp_cp_error problem;      /* from NotifyEvent; error is what was sent */
} ocpp_connector_state;

/* OCPP 2.0.1 ConnectorStatusEnumType and ChargingStateEnumType, in the
 * specification's order. */
enum {
  OCPP_201_CONNECTOR_AVAILABLE, OCPP_201_CONNECTOR_OCCUPIED,
  OCPP_201_CONNECTOR_RESERVED, OCPP_201_CONNECTOR_UNAVAILABLE,
  OCPP_201_CONNECTOR_FAULTED
};
enum {
  OCPP_201_CHARGING_CHARGING, OCPP_201_CHARGING_EV_CONNECTED,
  OCPP_201_CHARGING_SUSPENDED_EV, OCPP_201_CHARGING_SUSPENDED_EVSE,
  OCPP_201_CHARGING_IDLE
};

typedef struct ocpp_cp {
  ocpp_charger_options opt;   /* strings owned (copies) */
  char **tag_store;           /* owned copies behind opt.tags */
  bool configured;            /* from options, not accept_unknown */
  struct ocpp_conn *conn;     /* open connection or NULL (transport's) */
  char vendor[21], model[21], serial[26], firmware[51];
  time_t last_seen;
  time_t connected_since;
  /* connectors 0..n_conn_state - 1, owned: as many as configured, grown
   * (up to OCPP_MAX_CONNECTORS) when the charger speaks of more. Reach
   * them through ocpp__cp_connector() / ocpp__cp_connector_peek(). */
  ocpp_connector_state *conn_state;
  int n_conn_state;
  /* what GetConfiguration (1.6) or the device model report (2.0.1) told */
  int number_of_connectors;
  int evse_count;             /* 2.0.1: EVSEs its last report listed; 0
                                 unknown */
  int max_stack_level;        /* -1 unknown */
  bool watts_only;
  bool smart_charging;        /* SmartCharging feature profile listed,
                                 or unknown (assumed) */
  int profile_strategy;       /* first SetChargingProfile variant that
                                 worked, -1 unknown */
  double limit_a;             /* last limit accepted, -1 none */
  ocpp_version version;       /* spoken on the last connection: 1.6 or
                                 2.0.1 (AUTO before the first) */
} ocpp_cp;

/* Connector `connector` (0 = the charger), grown into the table on first
 * use; NULL when out of range or out of memory. The pointer is good until
 * the next call that may grow the table. */
ocpp_connector_state *ocpp__cp_connector(ocpp_cp *cp, int connector);

/* The same for reading: a connector not in the table yet reads as one
 * nothing is known of. NULL only when out of range. */
const ocpp_connector_state *ocpp__cp_connector_peek(const ocpp_cp *cp,
                                                    int connector);

/* Connectors the charger has: configured, or more if it said so. */
static inline int ocpp__cp_connector_count(const ocpp_cp *cp)
{
  int n = cp->opt.n_connectors;
  if (cp->number_of_connectors > n)
    n = cp->number_of_connectors;
  return n > OCPP_MAX_CONNECTORS ? OCPP_MAX_CONNECTORS : n;
}

/* Session energy of the connector's transaction, when it is known. */
static inline bool ocpp__cp_session_energy(const ocpp_connector_state *s,
                                           double *wh)
{
  if (!s->tx_id || !s->has_energy || !s->tx_has_meter_start)
    return false;
  *wh = s->session_energy_wh;
  return true;
}

#endif
