/* gw_bridge: OCPP events become KNX state objects, KNX command writes become
 * OCPP calls. Everything leaves through gw_bridge_ops; the only clock is the
 * now_ms the caller passes, so the whole mapping runs in unit tests. */
#include "gateway/bridge.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  GW_WRITE_QUEUE_CAP = 4096,   /* writes waiting for the rate limit */
  GW_RESPONSE_QUEUE_CAP = 256, /* answers to GroupValue_Read */
  GW_MAX_CHARGERS = 10000,
  GW_TPS_MAX = 1000,
  GW_US_PER_S = 1000000,
  GW_US_PER_MS = 1000,
  GW_TAG_MAX = 14,             /* DPT 16.000 carries 14 bytes */
  GW_LOG_LINE = 256,
  GW_DEFAULT_RESERVATION_MIN = 30
};

/* IEC 61851 has no PWM duty cycle below 6 A; 80 A is the type 2 maximum. */
static const double GW_MIN_CURRENT_A = 6.0;
static const double GW_MAX_CURRENT_A = 80.0;
/* OCPP 1.6 chargingSchedulePeriod.limit: at most one digit fraction. */
/* Decimal noise (16.1 - 15.9) must not count as a step above hysteresis. */
static const double GW_HYSTERESIS_EPS = 1e-9;

static const double GW_DEFAULT_CURRENT_HYST = 0.2;
static const double GW_DEFAULT_POWER_HYST = 100.0;
static const double GW_DEFAULT_ENERGY_HYST = 100.0;

/* ---- types -------------------------------------------------------------- */

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
  gw_value val;         /* the value last published */
  knx_payload payload;  /* its encoding, answered on reads */
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
  gw_pending *pending;
};

/* ---- tables ------------------------------------------------------------- */

/* DPT 5.010 values of DESIGN.md's table, spelled out so that a reordering
 * of the OCPP enum can never change what goes on the bus. */
static const uint8_t gw_status_value[OCPP_CP_STATUS_COUNT] = {
  [OCPP_CP_AVAILABLE] = 0,
  [OCPP_CP_PREPARING] = 1,
  [OCPP_CP_CHARGING] = 2,
  [OCPP_CP_SUSPENDED_EV] = 3,
  [OCPP_CP_SUSPENDED_EVSE] = 4,
  [OCPP_CP_FINISHING] = 5,
  [OCPP_CP_RESERVED] = 6,
  [OCPP_CP_UNAVAILABLE] = 7,
  [OCPP_CP_FAULTED] = 8,
};

static const uint8_t gw_error_value[OCPP_ERR_COUNT] = {
  [OCPP_ERR_NO_ERROR] = 0,
  [OCPP_ERR_CONNECTOR_LOCK_FAILURE] = 1,
  [OCPP_ERR_EV_COMMUNICATION_ERROR] = 2,
  [OCPP_ERR_GROUND_FAILURE] = 3,
  [OCPP_ERR_HIGH_TEMPERATURE] = 4,
  [OCPP_ERR_INTERNAL_ERROR] = 5,
  [OCPP_ERR_LOCAL_LIST_CONFLICT] = 6,
  [OCPP_ERR_OTHER_ERROR] = 7,
  [OCPP_ERR_OVER_CURRENT_FAILURE] = 8,
  [OCPP_ERR_OVER_VOLTAGE] = 9,
  [OCPP_ERR_POWER_METER_FAILURE] = 10,
  [OCPP_ERR_POWER_SWITCH_FAILURE] = 11,
  [OCPP_ERR_READER_FAILURE] = 12,
  [OCPP_ERR_RESET_FAILURE] = 13,
  [OCPP_ERR_UNDER_VOLTAGE] = 14,
  [OCPP_ERR_WEAK_SIGNAL] = 15,
};

static const bool gw_status_plugged[OCPP_CP_STATUS_COUNT] = {
  [OCPP_CP_PREPARING] = true,
  [OCPP_CP_CHARGING] = true,
  [OCPP_CP_SUSPENDED_EV] = true,
  [OCPP_CP_SUSPENDED_EVSE] = true,
  [OCPP_CP_FINISHING] = true,
};

/* The gateway's unit times this factor is the DPT's unit; 0 means 1. */
static const double gw_dpt_scale[KNX_DPT_COUNT] = {
  [KNX_DPT_9_021] = 1000.0, /* A -> mA */
  [KNX_DPT_9_024] = 0.001,  /* W -> kW */
  [KNX_DPT_13_013] = 0.001, /* Wh -> kWh */
};

typedef enum { GW_KIND_NUMBER, GW_KIND_TIME, GW_KIND_TEXT } gw_kind;

static const gw_kind gw_dpt_kind[KNX_DPT_COUNT] = {
  [KNX_DPT_10_001] = GW_KIND_TIME,
  [KNX_DPT_11_001] = GW_KIND_TIME,
  [KNX_DPT_19_001] = GW_KIND_TIME,
  [KNX_DPT_16_000] = GW_KIND_TEXT,
  [KNX_DPT_16_001] = GW_KIND_TEXT,
};

/* The command table: what each call is on the OCPP side and what its
 * result does on KNX, read by the sender and by the one completion. A
 * failure re-sends `state` as it stands, so a panel never shows a lie; an
 * acceptance publishes only what the charger will not announce itself. */
typedef struct {
  const char *name;          /* the OCPP action, for the log */
  ocpp_command_kind kind;
  gw_object state;           /* re-sent on failure; GW_OBJ_COUNT: none */
  gw_object accepted_state;  /* takes the command value on acceptance;
                                GW_OBJ_COUNT: the charger's notifications
                                carry the new state */
  bool accepted_limit;       /* max_current_state takes the limit as sent */
  bool pause;                /* the pause flag follows the command value */
} gw_call_info;

#define GW_NONE GW_OBJ_COUNT
static const gw_call_info gw_calls[GW_CALL_COUNT] = {
  [GW_CALL_REMOTE_START] = {"RemoteStartTransaction", OCPP_CMD_REMOTE_START,
                            GW_OBJ_CHARGING_STATE, GW_NONE, false, false},
  [GW_CALL_REMOTE_STOP] = {"RemoteStopTransaction", OCPP_CMD_REMOTE_STOP,
                           GW_OBJ_CHARGING_STATE, GW_NONE, false, false},
  [GW_CALL_PAUSE] = {"SetChargingProfile 0 A (pause)", OCPP_CMD_CURRENT_LIMIT,
                     GW_OBJ_CHARGING_STATE, GW_OBJ_CHARGING_STATE, false,
                     true},
  [GW_CALL_RESUME] = {"SetChargingProfile (resume)", OCPP_CMD_CURRENT_LIMIT,
                      GW_OBJ_CHARGING_STATE, GW_OBJ_CHARGING_STATE, false,
                      true},
  [GW_CALL_RESERVE] = {"ReserveNow", OCPP_CMD_RESERVE, GW_NONE, GW_NONE, false,
                       false},
  [GW_CALL_CANCEL_RESERVATION] = {"CancelReservation",
                                  OCPP_CMD_CANCEL_RESERVATION, GW_NONE,
                                  GW_NONE, false, false},
  [GW_CALL_AVAILABILITY] = {"ChangeAvailability",
                            OCPP_CMD_CHANGE_AVAILABILITY,
                            GW_OBJ_AVAILABILITY_STATE, GW_NONE, false, false},
  [GW_CALL_UNLOCK] = {"UnlockConnector", OCPP_CMD_UNLOCK, GW_NONE, GW_NONE,
                      false, false},
  [GW_CALL_MAX_CURRENT] = {"SetChargingProfile", OCPP_CMD_CURRENT_LIMIT,
                           GW_OBJ_MAX_CURRENT_STATE, GW_NONE, true, false},
  [GW_CALL_FAST_CHARGING] = {"SetChargingProfile", OCPP_CMD_CURRENT_LIMIT,
                             GW_OBJ_FAST_CHARGING_STATE,
                             GW_OBJ_FAST_CHARGING_STATE, true, false},
  [GW_CALL_RESET] = {"Reset", OCPP_CMD_RESET, GW_NONE, GW_NONE, false, false},
};
#undef GW_NONE

static const char *const gw_result_text[] = {
  [OCPP_RESULT_ACCEPTED] = "accepted",
  [OCPP_RESULT_REJECTED] = "rejected",
  [OCPP_RESULT_NOT_SUPPORTED] = "not supported",
  [OCPP_RESULT_TIMEOUT] = "timed out",
  [OCPP_RESULT_OFFLINE] = "lost (charger offline)",
  [OCPP_RESULT_ERROR] = "failed",
};

static const char *result_text(ocpp_result r)
{
  if ((unsigned)r >= sizeof gw_result_text / sizeof gw_result_text[0])
    return "failed";
  return gw_result_text[r];
}

static const char *object_name(gw_object obj)
{
  const char *key = gw_object_key(obj);
  return key ? key : "?";
}

/* ---- logging ------------------------------------------------------------ */

static void bridge_log(const gw_bridge *b, gw_log_level level,
                       const char *charger_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void bridge_log(const gw_bridge *b, gw_log_level level,
                       const char *charger_id, const char *fmt, ...)
{
  if (!b->ops.log)
    return;
  char line[GW_LOG_LINE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  b->ops.log(b->user_data, level, charger_id, line);
}

/* ---- the telegram queue ------------------------------------------------- */

static int queue_init(gw_queue *q, size_t cap)
{
  q->items = calloc(cap, sizeof *q->items);
  q->cap = cap;
  q->head = 0;
  q->len = 0;
  return q->items ? 0 : GW_ENOMEM;
}

static gw_telegram *queue_at(gw_queue *q, size_t i)
{
  return &q->items[(q->head + i) % q->cap];
}

static gw_telegram queue_pop(gw_queue *q)
{
  gw_telegram t = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->len--;
  return t;
}

static void queue_push(gw_queue *q, uint16_t ga, knx_service svc,
                       const knx_payload *p)
{
  gw_telegram *t = queue_at(q, q->len);
  t->ga = ga;
  t->svc = svc;
  t->p = *p;
  q->len++;
}

static void queue_clear(gw_queue *q)
{
  q->head = 0;
  q->len = 0;
}

static void queue_make_room(gw_bridge *b, gw_queue *q, const char *what)
{
  if (q->len < q->cap)
    return;
  queue_pop(q);
  if (!b->overflow_logged) {
    bridge_log(b, GW_LOG_WARN, NULL,
           "KNX %s queue full (%zu): dropping the oldest telegrams", what,
           q->cap);
    b->overflow_logged = true;
  }
}

/* Only the newest value for a group address waits; it keeps the place of
 * the first one so a busy address cannot starve the others. */
static void queue_write(gw_bridge *b, uint16_t ga, const knx_payload *p)
{
  if (b->link_down)
    return;
  gw_queue *q = &b->writes;
  for (size_t i = 0; i < q->len; i++) {
    gw_telegram *t = queue_at(q, i);
    if (t->ga == ga) {
      t->p = *p;
      return;
    }
  }
  queue_make_room(b, q, "write");
  queue_push(q, ga, KNX_GROUP_WRITE, p);
}

static void queue_response(gw_bridge *b, uint16_t ga, const knx_payload *p)
{
  if (b->link_down)
    return;
  queue_make_room(b, &b->responses, "response");
  queue_push(&b->responses, ga, KNX_GROUP_RESPONSE, p);
}

/* ---- encoding ----------------------------------------------------------- */

static double dpt_scale(knx_dpt dpt)
{
  double s = (unsigned)dpt < KNX_DPT_COUNT ? gw_dpt_scale[dpt] : 0.0;
  return s != 0.0 ? s : 1.0;
}

static gw_kind dpt_kind(knx_dpt dpt)
{
  return (unsigned)dpt < KNX_DPT_COUNT ? gw_dpt_kind[dpt] : GW_KIND_NUMBER;
}

static int local_time(time_t t, knx_dpt dpt, knx_datetime *out)
{
  struct tm tm;
  if (!localtime_r(&t, &tm))
    return KNX_ERANGE;
  memset(out, 0, sizeof *out);
  out->weekday = tm.tm_wday == 0 ? 7 : tm.tm_wday;
  out->hour = tm.tm_hour;
  out->minute = tm.tm_min;
  out->second = tm.tm_sec > 59 ? 59 : tm.tm_sec; /* leap second */
  if (dpt == KNX_DPT_19_001 || dpt == KNX_DPT_11_001) {
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
  }
  if (dpt == KNX_DPT_19_001) {
    out->flags = KNX_DT_NO_WORKING_DAY;
    if (tm.tm_isdst > 0)
      out->flags |= KNX_DT_SUMMER_TIME;
  }
  return KNX_OK;
}

static int encode_value(knx_dpt dpt, const gw_value *v, knx_payload *out)
{
  knx_value kv;
  memset(&kv, 0, sizeof kv);
  switch (dpt_kind(dpt)) {
  case GW_KIND_TIME: {
    int rc = local_time(v->time, dpt, &kv.time);
    if (rc != KNX_OK)
      return rc;
    break;
  }
  case GW_KIND_TEXT:
    memcpy(kv.text, v->text, sizeof kv.text);
    break;
  case GW_KIND_NUMBER:
    kv.number = v->num * dpt_scale(dpt);
    break;
  }
  return knx_dpt_encode(dpt, &kv, out);
}

static bool payload_equal(const knx_payload *a, const knx_payload *b)
{
  return a->short_form == b->short_form && a->len == b->len &&
         memcmp(a->data, b->data, a->len) == 0;
}

/* ---- publishing state objects ------------------------------------------- */

/* Records v as the object's value and queues it when it changed on the bus
 * (or when force asks to correct a panel). Objects without a group address
 * still remember the value, so a reload that adds the address has it. */
static void publish(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                    gw_object obj, const gw_value *v, bool force)
{
  gw_published *o = &cn->obj[obj];
  if (!cn->has_ga[obj]) {
    o->known = true;
    o->val = *v;
    return;
  }
  knx_payload p;
  int rc = encode_value(ch->dpt[obj], v, &p);
  if (rc != KNX_OK) {
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: %s cannot be encoded as "
           "DPT %s (%s)", cn->id, object_name(obj),
           knx_dpt_name(ch->dpt[obj]), knx_strerror(rc));
    return;
  }
  if (o->known && !force && payload_equal(&o->payload, &p))
    return;
  o->known = true;
  o->val = *v;
  o->payload = p;
  queue_write(b, cn->ga[obj], &p);
}

static void publish_number(gw_bridge *b, const gw_charger *ch,
                           gw_connector *cn, gw_object obj, double num,
                           bool force)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  v.num = num;
  publish(b, ch, cn, obj, &v, force);
}

/* A measurement goes out when it moved more than hyst from the value last
 * sent, or when it drops to exactly 0 (a stopped session must show 0). */
static void publish_measure(gw_bridge *b, const gw_charger *ch,
                            gw_connector *cn, gw_object obj, double num,
                            double hyst)
{
  if (!isfinite(num))
    return;
  const gw_published *o = &cn->obj[obj];
  if (o->known) {
    bool to_zero = num == 0.0 && o->val.num != 0.0;
    if (!to_zero && fabs(num - o->val.num) <= hyst + GW_HYSTERESIS_EPS)
      return;
  }
  publish_number(b, ch, cn, obj, num, false);
}

static void publish_time(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                         gw_object obj, time_t t)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  v.time = t;
  publish(b, ch, cn, obj, &v, false);
}

static void publish_tag(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                        const char *tag)
{
  gw_value v;
  memset(&v, 0, sizeof v);
  size_t len = strlen(tag);
  if (len > GW_TAG_MAX) {
    bridge_log(b, GW_LOG_INFO, ch->id, "idTag \"%s\" is longer than %d "
           "characters: last_tag shows the first %d", tag, GW_TAG_MAX,
           GW_TAG_MAX);
    len = GW_TAG_MAX;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)tag[i];
    v.text[i] = c > 0x7F ? '?' : (char)c; /* 16.000 is ASCII only */
  }
  publish(b, ch, cn, GW_OBJ_LAST_TAG, &v, false);
}

static void set_charging(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                         bool charging)
{
  cn->charging = charging;
  publish_number(b, ch, cn, GW_OBJ_CHARGING_STATE, charging ? 1 : 0, false);
}

/* A new session's energy is news even when it equals the last one. */
static void publish_session_energy(gw_bridge *b, const gw_charger *ch,
                                   gw_connector *cn, double wh)
{
  publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY, wh, true);
  publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE, wh, false);
}

static void refresh_availability(gw_bridge *b, const gw_charger *ch,
                                 gw_connector *cn)
{
  if (!cn->status_known && !ch->charger_status_known)
    return;
  bool own_unavailable =
      cn->status_known && cn->status == OCPP_CP_UNAVAILABLE;
  bool available = !own_unavailable && !ch->charger_unavailable;
  publish_number(b, ch, cn, GW_OBJ_AVAILABILITY_STATE, available ? 1 : 0,
                 false);
}

static void refresh_error(gw_bridge *b, const gw_charger *ch, gw_connector *cn)
{
  ocpp_cp_error e;
  if (ch->charger_faulted)
    e = ch->charger_error;
  else if (cn->status_known)
    e = cn->error;
  else
    return;
  publish_number(b, ch, cn, GW_OBJ_ERROR_CODE, gw_error_value[e], false);
}

/* ---- lookups ------------------------------------------------------------ */

static int charger_cmp(const void *a, const void *b)
{
  const gw_charger *const *x = a;
  const gw_charger *const *y = b;
  return strcmp((*x)->id, (*y)->id);
}

static gw_charger *charger_find_in(gw_charger **list, size_t n,
                                   const char *id)
{
  if (!id)
    return NULL;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(id, list[mid]->id);
    if (c == 0)
      return list[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

static gw_connector *connector_find(gw_charger *ch, int id)
{
  for (size_t i = 0; i < ch->n_conn; i++) {
    if (ch->conn[i].id == id)
      return &ch->conn[i];
  }
  return NULL;
}

static bool connector_tx(const gw_bridge *b, const gw_charger *ch,
                         const gw_connector *cn, ocpp_transaction_info *out)
{
  memset(out, 0, sizeof *out);
  return b->ops.transaction &&
         b->ops.transaction(b->user_data, ch->id, cn->id, out) == 0;
}

static bool tx_running(const gw_bridge *b, const gw_charger *ch,
                       const gw_connector *cn)
{
  ocpp_transaction_info tx;
  return connector_tx(b, ch, cn, &tx) && tx.transaction_id != 0;
}

static int ref_cmp(const void *a, const void *b)
{
  const gw_ga_ref *x = a;
  const gw_ga_ref *y = b;
  return (int)x->ga - (int)y->ga;
}

/* First index with ref.ga >= ga. */
static size_t ref_lower_bound(const gw_bridge *b, uint16_t ga)
{
  size_t lo = 0, hi = b->n_refs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->refs[mid].ga < ga)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* ---- chargers ----------------------------------------------------------- */

static void charger_free(gw_charger *ch)
{
  if (!ch)
    return;
  free(ch->id);
  free(ch->remote_tag);
  free(ch);
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static double hysteresis_or(double v, double fallback)
{
  return isfinite(v) && v >= 0 ? v : fallback;
}

static int charger_new(const gw_charger_conf *c, gw_charger **out)
{
  *out = NULL;
  if (!c->id || !*c->id || c->n_connectors > GW_MAX_CONNECTORS)
    return GW_EINVAL;
  gw_charger *ch =
      calloc(1, sizeof *ch + c->n_connectors * sizeof ch->conn[0]);
  if (!ch)
    return GW_ENOMEM;
  ch->id = strdup(c->id);
  ch->remote_tag = dup_or_null(c->remote_tag);
  if (!ch->id || (c->remote_tag && !ch->remote_tag)) {
    charger_free(ch);
    return GW_ENOMEM;
  }
  ch->normal_current = c->normal_current;
  ch->fast_current = c->fast_current;
  ch->current_hysteresis =
      hysteresis_or(c->current_hysteresis, GW_DEFAULT_CURRENT_HYST);
  ch->power_hysteresis =
      hysteresis_or(c->power_hysteresis, GW_DEFAULT_POWER_HYST);
  ch->energy_hysteresis =
      hysteresis_or(c->energy_hysteresis, GW_DEFAULT_ENERGY_HYST);
  ch->stop_mode = c->stop_mode;
  ch->reservation_minutes = c->reservation_minutes > 0
                                ? c->reservation_minutes
                                : GW_DEFAULT_RESERVATION_MIN;
  for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
    ch->dpt[obj] = gw_object_dpt(c, obj);
  ch->n_conn = c->n_connectors;
  for (size_t i = 0; i < ch->n_conn; i++) {
    gw_connector *cn = &ch->conn[i];
    cn->id = c->connectors[i].id;
    memcpy(cn->has_ga, c->connectors[i].has_ga, sizeof cn->has_ga);
    memcpy(cn->ga, c->connectors[i].ga, sizeof cn->ga);
  }
  *out = ch;
  return GW_OK;
}

/* Keeps what the bridge knows about a charger across a reload; values of
 * objects whose address or DPT changed go out on the new address. */
static void charger_adopt(gw_bridge *b, gw_charger *ch, const gw_charger *old)
{
  ch->charger_status_known = old->charger_status_known;
  ch->charger_unavailable = old->charger_unavailable;
  ch->charger_faulted = old->charger_faulted;
  ch->charger_error = old->charger_error;
  for (size_t i = 0; i < ch->n_conn; i++) {
    gw_connector *cn = &ch->conn[i];
    const gw_connector *oc = NULL;
    for (size_t j = 0; j < old->n_conn && !oc; j++) {
      if (old->conn[j].id == cn->id)
        oc = &old->conn[j];
    }
    if (!oc)
      continue;
    gw_connector fresh = *cn;
    *cn = *oc;
    memcpy(cn->has_ga, fresh.has_ga, sizeof cn->has_ga);
    memcpy(cn->ga, fresh.ga, sizeof cn->ga);
    for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
      bool same = oc->has_ga[obj] == cn->has_ga[obj] &&
                  oc->ga[obj] == cn->ga[obj] && old->dpt[obj] == ch->dpt[obj];
      if (same || !cn->has_ga[obj] || !cn->obj[obj].known ||
          !gw_object_is_state(obj))
        continue;
      gw_value v = cn->obj[obj].val;
      publish(b, ch, cn, obj, &v, true);
    }
  }
}

static void chargers_free(gw_charger **list, size_t n)
{
  for (size_t i = 0; list && i < n; i++)
    charger_free(list[i]);
  free(list);
}

static int build_chargers(const gw_charger_conf *chargers, size_t n,
                          gw_charger ***out)
{
  *out = NULL;
  if ((n > 0 && !chargers) || n > GW_MAX_CHARGERS)
    return GW_EINVAL;
  gw_charger **list = calloc(n ? n : 1, sizeof *list);
  if (!list)
    return GW_ENOMEM;
  int rc = GW_OK;
  for (size_t i = 0; i < n && rc == GW_OK; i++)
    rc = charger_new(&chargers[i], &list[i]);
  if (rc == GW_OK && n > 0) {
    qsort(list, n, sizeof *list, charger_cmp);
    for (size_t i = 1; i < n && rc == GW_OK; i++) {
      if (strcmp(list[i - 1]->id, list[i]->id) == 0)
        rc = GW_EINVAL;
    }
  }
  if (rc != GW_OK) {
    chargers_free(list, n);
    return rc;
  }
  *out = list;
  return GW_OK;
}

static int build_refs(gw_charger **list, size_t n, gw_ga_ref **out,
                      size_t *n_out)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < list[i]->n_conn; c++) {
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
        count += list[i]->conn[c].has_ga[obj];
    }
  }
  gw_ga_ref *refs = calloc(count ? count : 1, sizeof *refs);
  if (!refs)
    return GW_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < list[i]->n_conn; c++) {
      const gw_connector *cn = &list[i]->conn[c];
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
        if (cn->has_ga[obj])
          refs[k++] = (gw_ga_ref){cn->ga[obj], (uint8_t)c, (uint8_t)obj,
                                  list[i]};
      }
    }
  }
  qsort(refs, count, sizeof *refs, ref_cmp);
  *out = refs;
  *n_out = count;
  return GW_OK;
}

/* ---- create / destroy --------------------------------------------------- */

int gw_bridge_create(const gw_charger_conf *chargers, size_t n_chargers,
                     int max_telegrams_per_second, const gw_bridge_ops *ops,
                     void *user_data, gw_bridge **out)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!ops || !ops->knx_send || !ops->command)
    return GW_EINVAL;
  gw_bridge *b = calloc(1, sizeof *b);
  if (!b)
    return GW_ENOMEM;
  b->ops = *ops;
  b->user_data = user_data;
  int tps = max_telegrams_per_second;
  uint64_t rate =
      (uint64_t)(tps < 1 ? 1 : tps > GW_TPS_MAX ? GW_TPS_MAX : tps);
  b->interval_us = (GW_US_PER_S + rate - 1) / rate;
  int rc = queue_init(&b->writes, GW_WRITE_QUEUE_CAP);
  if (rc == GW_OK)
    rc = queue_init(&b->responses, GW_RESPONSE_QUEUE_CAP);
  if (rc == GW_OK)
    rc = build_chargers(chargers, n_chargers, &b->chargers);
  if (rc == GW_OK) {
    b->n_chargers = n_chargers;
    rc = build_refs(b->chargers, b->n_chargers, &b->refs, &b->n_refs);
  }
  if (rc != GW_OK) {
    gw_bridge_destroy(b);
    return rc;
  }
  *out = b;
  return GW_OK;
}

int gw_bridge_set_chargers(gw_bridge *b, const gw_charger_conf *chargers,
                           size_t n_chargers)
{
  if (!b)
    return GW_EINVAL;
  gw_charger **list = NULL;
  int rc = build_chargers(chargers, n_chargers, &list);
  if (rc != GW_OK)
    return rc;
  gw_ga_ref *refs = NULL;
  size_t n_refs = 0;
  rc = build_refs(list, n_chargers, &refs, &n_refs);
  if (rc != GW_OK) {
    chargers_free(list, n_chargers);
    return rc;
  }
  for (size_t i = 0; i < n_chargers; i++) {
    const gw_charger *old =
        charger_find_in(b->chargers, b->n_chargers, list[i]->id);
    if (old)
      charger_adopt(b, list[i], old);
  }
  chargers_free(b->chargers, b->n_chargers);
  free(b->refs);
  b->chargers = list;
  b->n_chargers = n_chargers;
  b->refs = refs;
  b->n_refs = n_refs;
  return GW_OK;
}

void gw_bridge_destroy(gw_bridge *b)
{
  if (!b)
    return;
  /* A late callback then finds b == NULL and only frees its context. */
  for (gw_pending *pd = b->pending; pd; pd = pd->next)
    pd->b = NULL;
  chargers_free(b->chargers, b->n_chargers);
  free(b->refs);
  free(b->writes.items);
  free(b->responses.items);
  free(b);
}

uint64_t gw_bridge_telegrams_sent(const gw_bridge *b)
{
  return b ? b->sent : 0;
}

/* ---- commands ------------------------------------------------------------ */

static void pending_unlink(gw_pending *pd)
{
  gw_bridge *b = pd->b;
  if (pd->prev)
    pd->prev->next = pd->next;
  else if (b)
    b->pending = pd->next;
  if (pd->next)
    pd->next->prev = pd->prev;
  pd->prev = pd->next = NULL;
}

static void resend_true_state(gw_bridge *b, const gw_charger *ch,
                              gw_connector *cn, gw_object obj)
{
  if (obj == GW_OBJ_CHARGING_STATE) {
    publish_number(b, ch, cn, obj, cn->charging ? 1 : 0, true);
    return;
  }
  gw_value v = cn->obj[obj].val;
  if (cn->obj[obj].known)
    publish(b, ch, cn, obj, &v, true);
}

static void command_failed(gw_bridge *b, const gw_charger *ch,
                           gw_connector *cn, gw_call call, const char *why)
{
  gw_object state = gw_calls[call].state;
  if (state == GW_OBJ_COUNT) {
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s", cn->id,
           gw_calls[call].name, why);
    return;
  }
  resend_true_state(b, ch, cn, state);
  const gw_published *o = &cn->obj[state];
  if (o->known)
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s: re-sending %s %g",
           cn->id, gw_calls[call].name, why, object_name(state), o->val.num);
  else
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s (%s not known)",
           cn->id, gw_calls[call].name, why, object_name(state));
}

static void command_accepted(gw_bridge *b, const gw_charger *ch,
                             gw_connector *cn, const gw_pending *pd)
{
  const gw_call_info *ci = &gw_calls[pd->call];
  if (ci->pause)
    cn->paused = pd->value == 0;
  if (ci->accepted_state == GW_OBJ_CHARGING_STATE)
    set_charging(b, ch, cn, pd->value != 0 && tx_running(b, ch, cn));
  else if (ci->accepted_state != GW_OBJ_COUNT)
    publish_number(b, ch, cn, ci->accepted_state, pd->value, false);
  /* the limit as the charger got it (10.24 A is sent as 10.0 A); the
   * command itself took the wish, so W-limited chargers convert it
   * unrounded */
  if (ci->accepted_limit)
    publish_number(b, ch, cn, GW_OBJ_MAX_CURRENT_STATE,
                   ocpp_limit_as_sent(pd->amps), false);
  bridge_log(b, GW_LOG_DEBUG, ch->id, "connector %d: %s accepted", cn->id,
             ci->name);
}

static void command_done(void *user_data, ocpp_result result)
{
  gw_pending *pd = user_data;
  gw_bridge *b = pd->b;
  if (b) {
    pending_unlink(pd);
    gw_charger *ch = charger_find_in(b->chargers, b->n_chargers,
                                     pd->charger_id);
    gw_connector *cn = ch ? connector_find(ch, pd->connector) : NULL;
    if (cn && result == OCPP_RESULT_ACCEPTED)
      command_accepted(b, ch, cn, pd);
    else if (cn)
      command_failed(b, ch, cn, pd->call, result_text(result));
  }
  free(pd);
  if (b && b->ops.wake)
    b->ops.wake(b->user_data);
}

/* Sends call for a command write on obj; on success the OCPP side owns the
 * context until command_done. */
static void command_send(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                         gw_object obj, gw_call call, double value,
                         double amps)
{
  const gw_call_info *ci = &gw_calls[call];
  bridge_log(b, GW_LOG_INFO, ch->id, "connector %d: %s command %g -> %s",
             cn->id, object_name(obj), value, ci->name);
  size_t id_len = strlen(ch->id) + 1;
  gw_pending *pd = calloc(1, sizeof *pd + id_len);
  if (!pd) {
    command_failed(b, ch, cn, call, "not sent (out of memory)");
    return;
  }
  pd->call = call;
  pd->connector = cn->id;
  pd->value = value;
  pd->amps = amps;
  memcpy(pd->charger_id, ch->id, id_len);
  pd->b = b;
  pd->next = b->pending;
  if (b->pending)
    b->pending->prev = pd;
  b->pending = pd;
  /* Each kind reads only its own fields (ocpp.h). */
  ocpp_command cmd = {
    .kind = ci->kind,
    .connector = cn->id,
    .id_tag = ch->remote_tag,
    .operative = value != 0,
    .amps = amps,
    .expiry_s = ch->reservation_minutes * 60,
  };
  /* The callback may already have run (and freed pd) when this returns. */
  int rc = b->ops.command(b->user_data, ch->id, &cmd, command_done, pd);
  if (rc == 0)
    return;
  pending_unlink(pd);
  free(pd);
  char why[64];
  snprintf(why, sizeof why, "not sent (%s)", ocpp_strerror(rc));
  command_failed(b, ch, cn, call, why);
}

static double resume_current(const gw_charger *ch, const gw_connector *cn)
{
  const gw_published *limit = &cn->obj[GW_OBJ_MAX_CURRENT_STATE];
  if (limit->known && limit->val.num > 0)
    return limit->val.num;
  const gw_published *fast = &cn->obj[GW_OBJ_FAST_CHARGING_STATE];
  if (fast->known && fast->val.num != 0)
    return ch->fast_current;
  return ch->normal_current;
}

static void cmd_charging(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                         double v)
{
  bool on = v != 0;
  if (on && cn->paused && tx_running(b, ch, cn))
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_RESUME, 1,
                 resume_current(ch, cn));
  else if (on)
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_REMOTE_START, 1, 0);
  else if (ch->stop_mode == GW_STOP_PAUSE)
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_PAUSE, 0, 0);
  else
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_REMOTE_STOP, 0, 0);
}

static void cmd_reserve(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                        double v)
{
  command_send(b, ch, cn, GW_OBJ_RESERVE,
               v != 0 ? GW_CALL_RESERVE : GW_CALL_CANCEL_RESERVATION,
               v != 0, 0);
}

static void cmd_availability(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                             double v)
{
  command_send(b, ch, cn, GW_OBJ_AVAILABILITY, GW_CALL_AVAILABILITY, v != 0,
               0);
}

static void cmd_unlock(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                       double v)
{
  if (v != 0)
    command_send(b, ch, cn, GW_OBJ_UNLOCK, GW_CALL_UNLOCK, 1, 0);
}

static void cmd_max_current(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                            double amps)
{
  double a = amps < 0 ? 0 : amps > GW_MAX_CURRENT_A ? GW_MAX_CURRENT_A : amps;
  if (a > 0 && a < GW_MIN_CURRENT_A) {
    bridge_log(b, GW_LOG_INFO, ch->id, "connector %d: max_current %g A is below "
           "the IEC 61851 minimum: using %g A", cn->id, a, GW_MIN_CURRENT_A);
    a = GW_MIN_CURRENT_A;
  } else if (a != amps) {
    bridge_log(b, GW_LOG_INFO, ch->id, "connector %d: max_current %g A clamped "
           "to %g A", cn->id, amps, a);
  }
  command_send(b, ch, cn, GW_OBJ_MAX_CURRENT, GW_CALL_MAX_CURRENT, a, a);
}

static void cmd_fast_charging(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                              double v)
{
  bool fast = v != 0;
  command_send(b, ch, cn, GW_OBJ_FAST_CHARGING, GW_CALL_FAST_CHARGING, fast,
               fast ? ch->fast_current : ch->normal_current);
}

static void cmd_reset(gw_bridge *b, gw_charger *ch, gw_connector *cn, double v)
{
  if (v != 0)
    command_send(b, ch, cn, GW_OBJ_RESET, GW_CALL_RESET, 1, 0);
}

typedef void (*gw_command_fn)(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                              double value);

static const gw_command_fn gw_commands[GW_OBJ_COUNT] = {
  [GW_OBJ_CHARGING] = cmd_charging,
  [GW_OBJ_RESERVE] = cmd_reserve,
  [GW_OBJ_AVAILABILITY] = cmd_availability,
  [GW_OBJ_UNLOCK] = cmd_unlock,
  [GW_OBJ_MAX_CURRENT] = cmd_max_current,
  [GW_OBJ_FAST_CHARGING] = cmd_fast_charging,
  [GW_OBJ_RESET] = cmd_reset,
};

/* ---- KNX side ------------------------------------------------------------ */

static void on_command_write(gw_bridge *b, const gw_ga_ref *r, uint16_t src,
                             const knx_payload *p)
{
  gw_command_fn fn = gw_commands[r->obj];
  if (!fn)
    return;
  gw_charger *ch = r->ch;
  gw_connector *cn = &ch->conn[r->conn];
  knx_dpt dpt = ch->dpt[r->obj];
  knx_value v;
  int rc = p ? knx_dpt_decode(dpt, p, &v) : KNX_EINVAL;
  if (rc == KNX_OK && (dpt_kind(dpt) != GW_KIND_NUMBER || !isfinite(v.number)))
    rc = KNX_ERANGE;
  if (rc != KNX_OK) {
    char ga[KNX_GA_STRLEN];
    knx_ga_format(r->ga, ga);
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: %s write to %s from "
           "%u.%u.%u ignored: not DPT %s (%s)", cn->id, object_name(r->obj),
           ga, src >> 12, (src >> 8) & 0x0F, src & 0xFF, knx_dpt_name(dpt),
           knx_strerror(rc));
    return;
  }
  fn(b, ch, cn, v.number / dpt_scale(dpt));
}

static bool answer_read(gw_bridge *b, const gw_ga_ref *r)
{
  if (!gw_object_is_state(r->obj))
    return false;
  const gw_published *o = &r->ch->conn[r->conn].obj[r->obj];
  if (!o->known)
    return false;
  queue_response(b, r->ga, &o->payload);
  return true;
}

void gw_bridge_on_knx_group(gw_bridge *b, uint16_t src, uint16_t dst,
                            knx_service svc, const knx_payload *p,
                            uint64_t now_ms)
{
  (void)now_ms;
  if (!b)
    return;
  /* Commands run the OCPP side's code, which may re-enter the bridge:
   * work on a copy of the matches, not on the index itself. */
  size_t first = ref_lower_bound(b, dst);
  size_t n = 0;
  while (first + n < b->n_refs && b->refs[first + n].ga == dst)
    n++;
  if (n == 0)
    return;
  if (svc == KNX_GROUP_READ) {
    for (size_t i = 0; i < n; i++) {
      if (answer_read(b, &b->refs[first + i]))
        return;
    }
    return;
  }
  if (svc != KNX_GROUP_WRITE)
    return;
  gw_ga_ref matches[GW_OBJ_COUNT];
  size_t m = 0;
  for (size_t i = 0; i < n && m < GW_OBJ_COUNT; i++) {
    if (!gw_object_is_state(b->refs[first + i].obj))
      matches[m++] = b->refs[first + i];
  }
  for (size_t i = 0; i < m; i++)
    on_command_write(b, &matches[i], src, p);
}

void gw_bridge_on_knx_link(gw_bridge *b, bool up, uint64_t now_ms)
{
  (void)now_ms;
  if (!b)
    return;
  b->link_down = !up;
  if (!up) {
    queue_clear(&b->writes);
    queue_clear(&b->responses);
    return;
  }
  b->overflow_logged = false;
  for (size_t i = 0; i < b->n_chargers; i++) {
    gw_charger *ch = b->chargers[i];
    for (size_t c = 0; c < ch->n_conn; c++) {
      gw_connector *cn = &ch->conn[c];
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
        if (cn->has_ga[obj] && cn->obj[obj].known &&
            gw_object_is_state(obj))
          queue_write(b, cn->ga[obj], &cn->obj[obj].payload);
      }
    }
  }
}

/* Even spacing, no burst: a bucket that fills up during a quiet spell lets
 * rate telegrams go at once and rate more within the same second, and
 * clumps overflow the small buffers of KNX interfaces. Spaced telegrams
 * never put more than rate into any second; the first one after a quiet
 * spell still goes at once. */
static bool pace_allows(gw_bridge *b, uint64_t now_ms)
{
  uint64_t now_us = now_ms * GW_US_PER_MS;
  if (!b->sent_once || now_us >= b->next_us)
    return true;
  /* The clock went back: start over rather than wait for the old time. */
  return now_us + b->interval_us < b->next_us;
}

static void pace_note(gw_bridge *b, uint64_t now_ms)
{
  b->sent_once = true;
  b->next_us = now_ms * GW_US_PER_MS + b->interval_us;
}

uint64_t gw_bridge_pump(gw_bridge *b, uint64_t now_ms)
{
  if (!b)
    return 0;
  /* A failed send also takes its slot: the work per call stays bounded
   * even while the link is failing. */
  while ((b->responses.len || b->writes.len) && pace_allows(b, now_ms)) {
    gw_queue *q = b->responses.len ? &b->responses : &b->writes;
    gw_telegram t = queue_pop(q);
    pace_note(b, now_ms);
    if (b->ops.knx_send(b->user_data, t.ga, t.svc, &t.p) == 0)
      b->sent++;
  }
  if (!b->responses.len && !b->writes.len) {
    b->overflow_logged = false;
    return 0;
  }
  return (b->next_us + GW_US_PER_MS - 1) / GW_US_PER_MS;
}

/* ---- OCPP side ----------------------------------------------------------- */

static void ev_online(gw_bridge *b, gw_charger *ch, const ocpp_event *ev,
                      bool online)
{
  (void)ev;
  for (size_t i = 0; i < ch->n_conn; i++)
    publish_number(b, ch, &ch->conn[i], GW_OBJ_ONLINE, online ? 1 : 0,
                   false);
}

static void ev_became_online(gw_bridge *b, gw_charger *ch,
                             const ocpp_event *ev)
{
  ev_online(b, ch, ev, true);
}

static void ev_became_offline(gw_bridge *b, gw_charger *ch,
                              const ocpp_event *ev)
{
  ev_online(b, ch, ev, false);
}

static void status_charger_wide(gw_bridge *b, gw_charger *ch,
                                const ocpp_event *ev)
{
  ch->charger_status_known = true;
  ch->charger_unavailable = ev->status.status == OCPP_CP_UNAVAILABLE;
  ch->charger_faulted = ev->status.status == OCPP_CP_FAULTED;
  ch->charger_error = ev->status.error;
  for (size_t i = 0; i < ch->n_conn; i++) {
    refresh_availability(b, ch, &ch->conn[i]);
    refresh_error(b, ch, &ch->conn[i]);
  }
}

static void ev_status(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  ocpp_cp_status s = ev->status.status;
  ocpp_cp_error e = ev->status.error;
  if ((unsigned)s >= OCPP_CP_STATUS_COUNT || (unsigned)e >= OCPP_ERR_COUNT) {
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: status %d/%d out of "
           "range, ignored", ev->connector, (int)s, (int)e);
    return;
  }
  if (ev->connector == 0) {
    status_charger_wide(b, ch, ev);
    return;
  }
  gw_connector *cn = connector_find(ch, ev->connector);
  if (!cn)
    return;
  cn->status_known = true;
  cn->status = s;
  cn->error = e;
  publish_number(b, ch, cn, GW_OBJ_STATUS, gw_status_value[s], false);
  refresh_error(b, ch, cn);
  publish_number(b, ch, cn, GW_OBJ_PLUGGED, gw_status_plugged[s] ? 1 : 0,
                 false);
  refresh_availability(b, ch, cn);
}

static void ev_tx_started(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  gw_connector *cn = connector_find(ch, ev->connector);
  if (!cn)
    return;
  cn->paused = false;
  set_charging(b, ch, cn, true);
  if (ev->tx_started.recovered) {
    /* Picked up after a restart: not a new session, so no start time or
     * tag; the energy so far is what the record knows. */
    ocpp_transaction_info tx;
    if (connector_tx(b, ch, cn, &tx) && tx.has_meter_start && tx.has_energy &&
        tx.energy_wh >= tx.meter_start_wh)
      publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE,
                     tx.energy_wh - tx.meter_start_wh, false);
    return;
  }
  publish_time(b, ch, cn, GW_OBJ_START_TIME, ev->timestamp);
  if (ev->tx_started.id_tag && *ev->tx_started.id_tag)
    publish_tag(b, ch, cn, ev->tx_started.id_tag);
  publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE, 0, false);
}

/* StopTransaction may come without a connector (unknown id after a
 * restart, id 0 or -1): then the connector running that id is meant. */
static gw_connector *stopped_connector(const gw_bridge *b, gw_charger *ch,
                                       const ocpp_event *ev)
{
  if (ev->connector > 0)
    return connector_find(ch, ev->connector);
  for (size_t i = 0; i < ch->n_conn; i++) {
    ocpp_transaction_info tx;
    if (connector_tx(b, ch, &ch->conn[i], &tx) && tx.transaction_id != 0 &&
        tx.transaction_id == ev->tx_stopped.transaction_id)
      return &ch->conn[i];
  }
  return ch->n_conn == 1 && tx_running(b, ch, &ch->conn[0]) ? &ch->conn[0]
                                                             : NULL;
}

/* The session energy when the event has none: the charger sent no
 * meterStop (the last register counts), or the stop could not be tied to
 * the transaction still running on the connector. */
static void stop_energy_fallback(gw_bridge *b, gw_charger *ch,
                                 gw_connector *cn, const ocpp_event *ev)
{
  ocpp_transaction_info tx;
  bool known = connector_tx(b, ch, cn, &tx);
  bool has_start = ev->tx_stopped.has_meter_start;
  double start = ev->tx_stopped.meter_start_wh;
  if (!has_start && known && tx.transaction_id != 0 && tx.has_meter_start) {
    has_start = true;
    start = tx.meter_start_wh;
  }
  bool has_stop = ev->tx_stopped.has_meter_stop &&
                  isfinite(ev->tx_stopped.meter_stop_wh);
  double stop = ev->tx_stopped.meter_stop_wh;
  if (!has_stop && known && tx.has_energy) {
    has_stop = true;
    stop = tx.energy_wh;
  }
  if (!has_start || !has_stop)
    return;
  if (stop < start) {
    bridge_log(b, GW_LOG_WARN, ch->id, "connector %d: meter stop %.0f Wh "
               "below start %.0f Wh: session_energy not sent", cn->id, stop,
               start);
    return;
  }
  publish_session_energy(b, ch, cn, stop - start);
}

static void ev_tx_stopped(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  if (ev->tx_stopped.duplicate)
    return;
  gw_connector *cn = stopped_connector(b, ch, ev);
  if (!cn)
    return;
  cn->paused = false;
  if (ev->tx_stopped.has_meter_stop && isfinite(ev->tx_stopped.meter_stop_wh))
    /* meterStop is a register reading like any MeterValues sample. */
    publish_measure(b, ch, cn, GW_OBJ_METER, ev->tx_stopped.meter_stop_wh,
                    ch->energy_hysteresis);
  set_charging(b, ch, cn, false);
  publish_time(b, ch, cn, GW_OBJ_END_TIME, ev->timestamp);
  if (ev->tx_stopped.has_session_energy)
    publish_session_energy(b, ch, cn, ev->tx_stopped.session_energy_wh);
  else
    stop_energy_fallback(b, ch, cn, ev);
  /* nothing flows once the transaction has ended */
  publish_number(b, ch, cn, GW_OBJ_CURRENT, 0, false);
  publish_number(b, ch, cn, GW_OBJ_POWER, 0, false);
}

static void ev_meter(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  gw_connector *cn = connector_find(ch, ev->connector);
  if (!cn)
    return;
  int32_t tx = ev->meter.transaction_id;
  ocpp_transaction_info running;
  if (tx != 0 &&
      !(connector_tx(b, ch, cn, &running) && running.transaction_id == tx)) {
    /* Backlog of a finished transaction replayed after a reconnect:
     * its values are history, not the present. */
    bridge_log(b, GW_LOG_DEBUG, ch->id, "connector %d: meter values of "
               "transaction %ld not running, not published", cn->id,
               (long)tx);
    return;
  }
  if (ev->meter.has_current)
    publish_measure(b, ch, cn, GW_OBJ_CURRENT, ev->meter.current_a,
                    ch->current_hysteresis);
  if (ev->meter.has_power)
    publish_measure(b, ch, cn, GW_OBJ_POWER, ev->meter.power_w,
                    ch->power_hysteresis);
  if (!ev->meter.has_energy || !isfinite(ev->meter.energy_wh))
    return;
  publish_measure(b, ch, cn, GW_OBJ_METER, ev->meter.energy_wh,
                  ch->energy_hysteresis);
  if (ev->meter.has_session_energy)
    publish_measure(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE,
                    ev->meter.session_energy_wh, ch->energy_hysteresis);
}

static void ev_tag(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  const char *tag = ev->tag.id_tag;
  if (!tag || !*tag)
    return;
  /* Authorize names no connector: the tag belongs to the charger. */
  for (size_t i = 0; i < ch->n_conn; i++) {
    if (ev->connector == 0 || ch->conn[i].id == ev->connector)
      publish_tag(b, ch, &ch->conn[i], tag);
  }
}

typedef void (*gw_event_fn)(gw_bridge *b, gw_charger *ch,
                            const ocpp_event *ev);

/* BOOT and REFUSED have nothing to show on KNX. */
static const gw_event_fn gw_events[] = {
  [OCPP_EV_ONLINE] = ev_became_online,
  [OCPP_EV_OFFLINE] = ev_became_offline,
  [OCPP_EV_STATUS] = ev_status,
  [OCPP_EV_TX_STARTED] = ev_tx_started,
  [OCPP_EV_TX_STOPPED] = ev_tx_stopped,
  [OCPP_EV_METER] = ev_meter,
  [OCPP_EV_TAG] = ev_tag,
};

void gw_bridge_on_ocpp_event(gw_bridge *b, const ocpp_event *ev,
                             uint64_t now_ms)
{
  (void)now_ms;
  if (!b || !ev)
    return;
  if ((unsigned)ev->type >= sizeof gw_events / sizeof gw_events[0] ||
      !gw_events[ev->type])
    return;
  gw_charger *ch = charger_find_in(b->chargers, b->n_chargers, ev->charger_id);
  if (ch)
    gw_events[ev->type](b, ch, ev);
}
