/* Internal to the bridge: the types its five files share, and the calls
 * between them (gw__ names). Split by job so that each file can be read on
 * its own: the queue does not know about commands, the commands do not
 * know about DPT encodings. The public API stays gateway/bridge.h. */
#ifndef OCPPKNX_GW_BRIDGE_IMPL_H
#define OCPPKNX_GW_BRIDGE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gateway/bridge.h"

enum {
  GW_TAG_MAX = 14              /* DPT 16.000 carries 14 bytes */
};

/* An object's value in the gateway's own units (A, W, Wh, 0/1, enum index),
 * independent of the DPT chosen for it, so a DPT change on reload only
 * needs a new encoding. */
typedef struct {
  union {
    double num;
    time_t time;
    char text[GW_TAG_MAX + 1];
  };
} gw_value;

typedef struct {
  bool known;
  gw_value val;         /* the value last published (a state object), or
                           last written by the bus (a command object) */
  uint64_t at_ms;       /* when val was taken (gw_bridge's now_ms) */
} gw_published;

typedef struct {
  int id;
  bool has_ga[GW_OBJ_COUNT];
  uint16_t ga[GW_OBJ_COUNT];
  gw_published obj[GW_OBJ_COUNT];
  bool status_known;
  ocpp_cp_status status;
  ocpp_cp_error error;
  /* The transaction itself is the charger record's (ocpp/): asked for
   * through ops.transaction, never copied here. */
  bool charging;        /* charging_state: a transaction runs, not paused */
  bool paused;          /* stop_mode = pause held the transaction at 0 A */
  bool has_cap;         /* the billing backend caps the current: */
  double cap_a;         /* every limit sent is min(local, cap_a) */
  bool has_local;       /* the local limit last asked for (KNX, the */
  double local_a;       /* energy manager), before the cap, */
  gw_limit_by local_by; /* and who asked for it */
  gw_limit_by limit_by; /* who the limit in force is owed to;
                           GW_LIMIT_NONE: none accepted yet */
} gw_connector;

typedef struct {
  char *id;
  char *remote_tag;
  double normal_current, fast_current;
  double current_hysteresis, power_hysteresis, energy_hysteresis;
  gw_stop_mode stop_mode;
  int reservation_minutes;
  knx_dpt dpt[GW_OBJ_COUNT];
  /* StatusNotification for connector 0 speaks for every connector. */
  bool charger_status_known;
  bool charger_unavailable;
  bool charger_faulted;
  ocpp_cp_error charger_error;
  size_t n_conn;
  gw_connector conn[]; /* only the configured ones: 1000 chargers stay small */
} gw_charger;

typedef struct {
  uint16_t ga;
  uint8_t conn;
  uint8_t obj;
  gw_charger *ch;
} gw_ga_ref;

typedef struct {
  uint16_t ga;
  knx_service svc;
  knx_payload p;
} gw_telegram;

typedef struct {
  gw_telegram *items;
  size_t cap, head, len;
} gw_queue;

/* The OCPP calls the command objects lead to. */
typedef enum {
  GW_CALL_REMOTE_START,
  GW_CALL_REMOTE_STOP,
  GW_CALL_PAUSE,
  GW_CALL_RESUME,
  GW_CALL_RESERVE,
  GW_CALL_CANCEL_RESERVATION,
  GW_CALL_AVAILABILITY,
  GW_CALL_UNLOCK,
  GW_CALL_MAX_CURRENT,
  GW_CALL_FAST_CHARGING,
  GW_CALL_RESET,
  GW_CALL_ENERGY_LIMIT,
  GW_CALL_BACKEND_CAP,
  GW_CALL_LIFT_LIMIT,
  GW_CALL_COUNT
} gw_call;

/* One per command in flight: all its completion needs. It names its
 * charger by id so that a charger removed by a reload meanwhile is simply
 * not found any more. */
typedef struct gw_pending {
  struct gw_pending *prev, *next;
  gw_bridge *b;         /* NULL once the bridge is gone */
  gw_call call;
  int connector;
  double value;         /* the command value (0/1, or A for max_current) */
  double amps;          /* the current asked for */
  gw_limit_by by;       /* who a limit is owed to once accepted */
  char charger_id[];
} gw_pending;

struct gw_bridge {
  gw_bridge_ops ops;
  void *user_data;
  gw_charger **chargers;  /* sorted by id */
  size_t n_chargers;
  gw_ga_ref *refs;        /* sorted by ga */
  size_t n_refs;
  gw_queue writes;
  gw_queue responses;
  bool link_down;
  bool overflow_logged;
  uint64_t interval_us;   /* between two telegrams: 1 s / rate, rounded up */
  bool sent_once;
  uint64_t next_us;       /* earliest time of the next telegram */
  uint64_t sent;
  uint64_t now_ms;        /* of the call into the bridge that runs now (or
                             ran last): stamps the values it takes */
  gw_pending *pending;
};

typedef enum { GW_KIND_NUMBER, GW_KIND_TIME, GW_KIND_TEXT } gw_kind;

/* ---- bridge_chargers.c: the registry ------------------------------------ */

void gw__log(const gw_bridge *b, gw_log_level level, const char *charger_id,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
gw_charger *gw__charger_find(gw_charger **list, size_t n, const char *id);
gw_connector *gw__connector_find(gw_charger *ch, int id);
/* First index of b->refs with ga >= ga. */
size_t gw__ref_lower_bound(const gw_bridge *b, uint16_t ga);
/* What ocpp/ knows of the connector's transaction (ops.transaction); false
 * when nothing is known, *out then zeroed. */
bool gw__connector_tx(const gw_bridge *b, const gw_charger *ch,
                      const gw_connector *cn, ocpp_transaction_info *out);
bool gw__tx_running(const gw_bridge *b, const gw_charger *ch,
                    const gw_connector *cn);

/* ---- bridge_queue.c: telegrams and their pace --------------------------- */

int gw__queues_init(gw_bridge *b, int max_telegrams_per_second);
void gw__queues_free(gw_bridge *b);
/* Drops every telegram that waits (knxd is gone: they would be stale). */
void gw__queues_clear(gw_bridge *b);
void gw__queue_write(gw_bridge *b, uint16_t ga, const knx_payload *p);
void gw__queue_response(gw_bridge *b, uint16_t ga, const knx_payload *p);

/* ---- bridge_publish.c: values to group addresses ------------------------ */

const char *gw__object_name(gw_object obj);
double gw__dpt_scale(knx_dpt dpt);
gw_kind gw__dpt_kind(knx_dpt dpt);
void gw__publish(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                 gw_object obj, const gw_value *v, bool force);
void gw__publish_number(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                        gw_object obj, double num, bool force);
void gw__publish_measure(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                         gw_object obj, double num, double hyst);
void gw__publish_time(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                      gw_object obj, time_t t);
/* last_tag: the tag's name when it has one (name may be NULL), else the
 * idTag, in the 14 ASCII characters of DPT 16.000. */
void gw__publish_tag(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                     const char *tag, const char *name);
void gw__set_charging(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                      bool charging);
/* Queues the answer to a GroupValue_Read of r; false when r has none. */
bool gw__answer_read(gw_bridge *b, const gw_ga_ref *r);

#endif
