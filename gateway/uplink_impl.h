/* The inside of gw_uplinks, shared by uplink.c (the links, connector
 * states, status) and uplink_auth.c (the backend's idTags). */
#ifndef OCPPKNX_GW_UPLINK_IMPL_H
#define OCPPKNX_GW_UPLINK_IMPL_H

#include "gateway/uplink.h"

#define N_SLOTS (GW_MAX_CONNECTORS + 1)  /* connector 0 (the charger) too */
#define GW_BOOT_TEXT 51                  /* firmwareVersion, the longest */

typedef struct gw_uplink gw_uplink;

/* One connector's latest state for the backend. */
typedef struct {
  gw_uplink *link;
  int connector;
  bool known;
  bool waiting;                  /* not sent since it changed */
  bool inflight;                 /* sent, not answered yet */
  ocpp_cp_status status;
  ocpp_cp_error error;
  char info[51];                 /* the schema's caps */
  char vendor_error[51];
  time_t when;                   /* when the charger reported it */
} status_slot;

/* The charger's identity for its backend, kept to hand it to a link that
 * replaces this one on a reload. */
typedef struct {
  bool known;
  char vendor[GW_BOOT_TEXT], model[GW_BOOT_TEXT];
  char serial[GW_BOOT_TEXT], firmware[GW_BOOT_TEXT];
} boot_info;

/* The backend's profile behind a connector's cap: its ClearChargingProfile
 * clears what it names and nothing else (OCPP 1.6 5.5: by id, or by
 * connector, purpose and stack level). */
typedef struct {
  bool set;
  int id;
  int stack_level;
  char purpose[32];
  double amps;
} cap_slot;

struct gw_uplink {
  gw_uplinks *set;
  char *charger_id;
  gw_upstream_conf conf;         /* copies; compared on a reload */
  ocpp_tag_match tag_match;      /* the charger's, for conf.tags */
  char remote_tag[21];           /* the gateway's own tag: always local */
  double voltage;                /* the charger's, for profiles in W */
  int phases;
  ocpp_upstream *up;
  boot_info boot;
  status_slot slots[N_SLOTS];
  /* the head of the store's queue while it is on its way (one at a time:
   * the backend gets the messages in their order, a MeterValues never
   * before the answer that gave its StartTransaction the backend's id) */
  bool queue_inflight;
  /* a TriggerMessage the gateway answers itself: the answer goes first,
   * the message after it (OCPP 1.6 5.17), from the set's timer */
  int meter_interval;            /* s between MeterValues to the backend,
                                    its MeterValueSampleInterval; 0: all */
  time_t meter_sent[N_SLOTS];    /* the last one queued per connector */
  cap_slot caps[N_SLOTS];        /* the backend's caps, connector 0 too */
  uint32_t trigger_token;        /* 0: none waits */
  char trigger[24];              /* the requestedMessage */
  int trigger_connector;         /* 0: every connector */
};

/* A backend's command on its way to the charger: the CALL waits for the
 * charger's result. It names its link by charger id and upstream, so a
 * link replaced or gone meanwhile is simply not answered (its waiting
 * CALLs went with it). */
typedef struct gw_relay gw_relay;
struct gw_relay {
  gw_relay *prev, *next;
  gw_uplinks *set;               /* NULL once the set is gone */
  ocpp_upstream *up;
  uint32_t token;
  int kind;                      /* the answer table's row */
  char charger_id[];
};

struct gw_uplinks {
  uv_loop_t *loop;
  gw_store *store;               /* the authorization cache; not owned */
  gw_uplink_options opt;
  gw_uplink_hooks hooks;
  void *user_data;
  gw_uplink **links;             /* each its own allocation: the link's
                                    hooks point at it */
  size_t n;
  gw_relay *relays;              /* commands waiting for a charger */
  uv_timer_t *later;             /* runs the answered triggers; its own
                                    allocation, closed on the loop */
};

/* The triggered messages whose answer has gone (uplink_commands.c). */
void gw__uplink_run_triggers(gw_uplinks *u);

/* Every known connector state (connector 0: all) to the backend again. */
void gw__uplink_resend_states(gw_uplink *l, int connector);

/* A BootNotification with the identity the link boots with. */
void gw__uplink_send_boot(gw_uplink *l);

/* The set ends: commands still on their way finish without an answer. */
void gw__uplink_relays_forget(gw_uplinks *u);

/* The link of charger_id, or NULL. */
gw_uplink *gw__uplink_find(const gw_uplinks *u, const char *charger_id);

/* A tag of the backend's (uplink_auth.c): in [upstream] tags and not the
 * charger's remote_tag. */
bool gw__uplink_backend_tag(const gw_uplink *l, const char *tag);

/* A transaction event of the charger (uplink_queue.c): a backend session's
 * StartTransaction, MeterValues and StopTransaction go into the store's
 * queue, then out to the backend. */
void gw__uplink_queue_event(gw_uplink *l, const ocpp_event *ev);

/* Sends the head of the queue, unless one is on its way or the link is not
 * registered (it follows on the next registration). */
void gw__uplink_queue_send(gw_uplink *l);

/* The queue's length and its oldest message's time (0: empty). */
void gw__uplink_queue_stats(const gw_uplink *l, int *count, time_t *oldest);

/* A CALL of the backend (uplink_commands.c): the answer payload, or NULL
 * with *error_code for a CALLERROR. */
json_t *gw__uplink_command(gw_uplink *l, const char *action,
                           const json_t *payload, const char **error_code);

/* The refusal action's answer schema defines ({"status":"Rejected"}, ...);
 * NULL when it has none. */
json_t *gw__uplink_refusal(const char *action);

/* "2026-10-01T12:00:00Z" */
void gw__uplink_utc_text(time_t t, char out[32]);

/* One line in the link's charger's name. */
void gw__uplink_log(gw_uplink *l, ocpp_log_level level, const char *message);

#endif
