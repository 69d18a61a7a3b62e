/* The central-system session engine, driven without sockets: a fake clock,
 * a send hook that keeps every frame (parsed with jansson) and an event
 * hook that keeps every event. Each test feeds charger frames and checks
 * the exact frames the session sends back. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/codec.h"
#include "ocpp/internal.h"
#include "ocpp/schema.h"
#include "ocpp/session.h"

#define MAX_FRAMES 128
#define MAX_EVENTS 64
#define MAX_CBS 16
#define T0_WALL 1795000000  /* wall clock at the start */
#define T0_MONO 100000

/* An event with its text copied (the session's pointers do not last). */
typedef struct {
  ocpp_event ev;
  char text[4][64];
} event_rec;

static struct {
  ocpp_session *s;
  ocpp_cp *cp;
  ocpp_clock now;
  ocpp_session_counters counters;
  json_t *frames[MAX_FRAMES];
  int n_frames;
  int send_rc;              /* what the send hook returns */
  bool close_in_send;
  event_rec events[MAX_EVENTS];
  int n_events;
  int cb_count[MAX_CBS];
  ocpp_result cb_result[MAX_CBS];
  /* the store */
  bool store_fails;
  int32_t store_next_tx;
  int32_t stored_tx;        /* find_transaction knows this one */
  int stored_connector;
  double stored_meter_start;
  bool stored_stopped;
  int begin_calls;
  int lookups;
  time_t lookup_now;        /* the time the last lookup was given */
  const char *secret;       /* must never be in a log line */
  int secret_lines;         /* lines that contained it */
  int hidden_frames;        /* trace lines that kept a frame out */
} T;

static const char *const allowed_tags[] = {"04A1B2C3", "AA:BB:CC:DD"};

/* ---- hooks -------------------------------------------------------------- */

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  cr_assert_eq(strlen(text), len);
  json_error_t err;
  json_t *j = json_loadb(text, len, 0, &err);
  cr_assert_not_null(j, "sent frame is not JSON: %s", text);
  cr_assert(json_is_array(j));
  cr_assert_lt(T.n_frames, MAX_FRAMES);
  T.frames[T.n_frames++] = j;
  if (T.close_in_send) {
    T.close_in_send = false;
    ocpp_session_close(T.s, T.now);
  }
  return T.send_rc;
}

static void copy_text(event_rec *r, int slot, const char **field)
{
  cr_assert_not_null(*field);
  snprintf(r->text[slot], sizeof r->text[slot], "%s", *field);
  *field = r->text[slot];
}

static void on_event(void *ud, const ocpp_event *ev)
{
  (void)ud;
  cr_assert_lt(T.n_events, MAX_EVENTS);
  event_rec *r = &T.events[T.n_events++];
  r->ev = *ev;
  cr_assert_str_eq(ev->charger_id, "CP-1");
  r->ev.charger_id = NULL;
  switch (ev->type) {
  case OCPP_EV_BOOT:
    copy_text(r, 0, &r->ev.boot.vendor);
    copy_text(r, 1, &r->ev.boot.model);
    copy_text(r, 2, &r->ev.boot.serial);
    copy_text(r, 3, &r->ev.boot.firmware);
    break;
  case OCPP_EV_STATUS:
    copy_text(r, 0, &r->ev.status.info);
    copy_text(r, 1, &r->ev.status.vendor_error);
    break;
  case OCPP_EV_TX_STARTED:
    copy_text(r, 0, &r->ev.tx_started.id_tag);
    copy_text(r, 1, &r->ev.tx_started.tag_name);
    break;
  case OCPP_EV_TX_STOPPED:
    copy_text(r, 0, &r->ev.tx_stopped.id_tag);
    copy_text(r, 1, &r->ev.tx_stopped.reason);
    break;
  case OCPP_EV_METER: copy_text(r, 0, &r->ev.meter.context); break;
  case OCPP_EV_TAG:
    copy_text(r, 0, &r->ev.tag.id_tag);
    copy_text(r, 1, &r->ev.tag.name);
    break;
  default: cr_assert_fail("unexpected event type %d", ev->type);
  }
}

static void on_log(void *ud, ocpp_log_level level, const char *id,
                   const char *line)
{
  (void)ud;
  (void)level;
  cr_assert_not_null(id);
  cr_assert_not_null(line);
  if (T.secret && strstr(line, T.secret))
    T.secret_lines++;
  if (strstr(line, "with an AuthorizationKey (not logged)"))
    T.hidden_frames++;
}

static int store_begin(void *ud, const char *charger_id, int connector,
                       const char *id_tag, double meter_start, time_t start,
                       const char *charger_tx_id, int32_t *tx_id)
{
  (void)charger_tx_id;
  (void)ud;
  (void)connector;
  (void)id_tag;
  (void)meter_start;
  (void)start;
  cr_assert_str_eq(charger_id, "CP-1");
  T.begin_calls++;
  if (T.store_fails)
    return -1;
  *tx_id = T.store_next_tx++;
  return 0;
}

static int store_find(void *ud, const char *charger_id, int32_t tx_id,
                      int *connector, double *meter_start, bool *stopped)
{
  (void)ud;
  cr_assert_str_eq(charger_id, "CP-1");
  if (!T.stored_tx || tx_id != T.stored_tx)
    return -1;
  *connector = T.stored_connector;
  *meter_start = T.stored_meter_start;
  *stopped = T.stored_stopped;
  return 0;
}

static void on_cb(void *ud, ocpp_result r)
{
  intptr_t i = (intptr_t)ud;
  cr_assert(i >= 0 && i < MAX_CBS);
  T.cb_count[i]++;
  T.cb_result[i] = r;
}

/* The owner's tag list: LISTED (Anna), BLOCKD, OLDCAR expiring at
 * T0_WALL + 100 s; every other tag is unknown to it. */
#define OLDCAR_EXPIRY (T0_WALL + 100)

static bool fake_lookup_tag(void *ud, const char *charger_id,
                            const char *id_tag, time_t now,
                            ocpp_tag_verdict *out)
{
  (void)ud;
  cr_assert_str_eq(charger_id, "CP-1");
  T.lookups++;
  T.lookup_now = now;
  memset(out, 0, sizeof *out);
  if (strcmp(id_tag, "LISTED") == 0) {
    out->status = OCPP_AUTH_ACCEPTED;
    snprintf(out->name, sizeof out->name, "Anna");
  } else if (strcmp(id_tag, "BLOCKD") == 0) {
    out->status = OCPP_AUTH_BLOCKED;
    snprintf(out->name, sizeof out->name, "Lost card");
  } else if (strcmp(id_tag, "OLDCAR") == 0) {
    out->status = now > OLDCAR_EXPIRY ? OCPP_AUTH_EXPIRED : OCPP_AUTH_ACCEPTED;
    out->expiry = OLDCAR_EXPIRY;
  } else {
    return false;
  }
  return true;
}

/* ---- set-up ------------------------------------------------------------- */

typedef struct {
  ocpp_start_mode start_mode;
  int n_connectors;
  bool store;
  bool relaxed;
  bool any_tag;
  bool tag_list;            /* the owner has a tag list (fake_lookup_tag) */
  int heartbeat_interval;
  int call_timeout;
} setup_opts;

static ocpp_session_config config_for(const setup_opts *o)
{
  ocpp_session_config cfg = {
    .send = on_send, .log = on_log, .event = on_event,
    .log_id = "CP-1", .heartbeat_interval = o->heartbeat_interval,
    .call_timeout = o->call_timeout, .meter_sample_interval = 60,
    .counters = &T.counters, .trace = true,
  };
  if (o->store) {
    cfg.store.begin_transaction = store_begin;
    cfg.store.find_transaction = store_find;
  }
  if (o->tag_list)
    cfg.store.lookup_tag = fake_lookup_tag;
  return cfg;
}

static void start_with(setup_opts o)
{
  memset(&T, 0, sizeof T);
  T.now = (ocpp_clock){.mono_ms = T0_MONO, .wall = T0_WALL};
  T.store_next_tx = 500;
  static const char *const any[] = {"*"};
  ocpp_charger_options opt = {
    .id = "CP-1", .start_mode = o.start_mode,
    .tags = o.any_tag ? any : allowed_tags, .n_tags = o.any_tag ? 1 : 2,
    .tag_match = o.relaxed ? OCPP_TAG_RELAXED : OCPP_TAG_EXACT,
    .remote_tag = "KNX", .n_connectors = o.n_connectors ? o.n_connectors : 1,
  };
  T.cp = ocpp__cp_create(&opt, true);
  cr_assert_not_null(T.cp);
  ocpp_session_config cfg = config_for(&o);
  cr_assert_eq(ocpp_session_create(&ocpp__role_cs16, &cfg, T.cp, &T.s),
               OCPP_OK);
  ocpp_session_open(T.s, T.now);
}

static void start(void) { start_with((setup_opts){.start_mode = OCPP_START_TAG}); }

static void teardown(void)
{
  ocpp_session_destroy(T.s);
  T.s = NULL;
  if (T.cp)
    ocpp__cp_destroy(T.cp);
  T.cp = NULL;
  for (int i = 0; i < T.n_frames; i++)
    json_decref(T.frames[i]);
  T.n_frames = 0;
}

/* ---- driving ------------------------------------------------------------ */

static void recv_text(const char *text)
{
  ocpp_session_recv(T.s, text, strlen(text), T.now);
}

static void recvf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void recvf(const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  recv_text(buf);
}

static void advance(uint64_t ms)
{
  T.now.mono_ms += ms;
  T.now.wall += (time_t)(ms / 1000);
  ocpp_session_tick(T.s, T.now);
}

static json_t *frame_at(int i)
{
  cr_assert(i >= 0 && i < T.n_frames, "no frame %d (%d sent)", i, T.n_frames);
  return T.frames[i];
}

static json_t *last(void) { return frame_at(T.n_frames - 1); }

static int frame_type(const json_t *f)
{
  return (int)json_integer_value(json_array_get(f, 0));
}

static const char *frame_id(const json_t *f)
{
  return json_string_value(json_array_get(f, 1));
}

/* The payload of CALLRESULT f answering id. */
static json_t *result_of(json_t *f, const char *id)
{
  cr_assert_eq(frame_type(f), 3, "not a CALLRESULT: %s",
               json_dumps(f, JSON_COMPACT));
  cr_assert_eq(json_array_size(f), 3);
  cr_assert_str_eq(frame_id(f), id);
  json_t *p = json_array_get(f, 2);
  cr_assert(json_is_object(p));
  return p;
}

static json_t *expect_result(const char *id) { return result_of(last(), id); }

static void error_of(json_t *f, const char *id, const char *code)
{
  cr_assert_eq(frame_type(f), 4, "not a CALLERROR");
  cr_assert_eq(json_array_size(f), 5);
  cr_assert_str_eq(frame_id(f), id);
  cr_assert_str_eq(json_string_value(json_array_get(f, 2)), code);
  cr_assert(json_is_string(json_array_get(f, 3)));
  cr_assert(json_is_object(json_array_get(f, 4)));
}

static void expect_error(const char *id, const char *code)
{
  error_of(last(), id, code);
}

/* The payload of CALL f of action; its id in *id when id is not NULL. */
static json_t *call_of(json_t *f, const char *action, const char **id)
{
  cr_assert_eq(frame_type(f), 2, "not a CALL");
  cr_assert_eq(json_array_size(f), 4);
  cr_assert_str_eq(json_string_value(json_array_get(f, 2)), action);
  if (id)
    *id = frame_id(f);
  return json_array_get(f, 3);
}

static json_t *expect_call(const char *action, const char **id)
{
  return call_of(last(), action, id);
}

static json_t *parse(const char *text)
{
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  cr_assert_not_null(j, "bad test JSON %s: %s", text, err.text);
  return j;
}

/* payload equals the JSON text want */
static void expect_json(const json_t *payload, const char *want)
{
  json_t *w = parse(want);
  char *got = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
  cr_assert(json_equal(payload, w), "got %s, want %s", got, want);
  free(got);
  json_decref(w);
}

static const char *str(const json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

static json_int_t num(const json_t *o, const char *key)
{
  return json_integer_value(json_object_get(o, key));
}

/* Answers the last CALL with the CALLRESULT payload text. */
static void answer_last(const char *payload)
{
  const char *id;
  cr_assert_eq(frame_type(last()), 2, "last frame is not a CALL");
  id = frame_id(last());
  char buf[2048];
  snprintf(buf, sizeof buf, "[3,\"%s\",%s]", id, payload);
  recv_text(buf);
}

static void answer_last_error(const char *code)
{
  cr_assert_eq(frame_type(last()), 2, "last frame is not a CALL");
  recvf("[4,\"%s\",\"%s\",\"\",{}]", frame_id(last()), code);
}

static const event_rec *event_at(int i)
{
  cr_assert(i >= 0 && i < T.n_events, "no event %d (%d)", i, T.n_events);
  return &T.events[i];
}

static const event_rec *last_event(void) { return event_at(T.n_events - 1); }

static int count_events(ocpp_event_type type)
{
  int n = 0;
  for (int i = 0; i < T.n_events; i++)
    n += T.events[i].ev.type == type;
  return n;
}

static const char *now_text(void)
{
  static char buf[OCPP_TIME_STRLEN];
  ocpp_time_format(T.now.wall, buf);
  return buf;
}

#define BOOT "[2,\"b1\",\"BootNotification\",{\"chargePointVendor\":\"Alfen BV\"," \
             "\"chargePointModel\":\"NG910\",\"chargePointSerialNumber\":\"ACE1\"," \
             "\"firmwareVersion\":\"5.8.1\"}]"

/* Boot and answer the configuration after it, so that nothing is in
 * flight. config: the GetConfiguration answer. */
static void boot_with(const char *config)
{
  recv_text(BOOT);
  call_of(last(), "GetConfiguration", NULL);
  answer_last(config);
  while (ocpp_session_pending(T.s) > 0) {
    const char *action = json_string_value(json_array_get(last(), 2));
    cr_assert(strcmp(action, "ChangeConfiguration") == 0 ||
              strcmp(action, "TriggerMessage") == 0, "unexpected %s", action);
    answer_last("{\"status\":\"Accepted\"}");
  }
}

static void boot(void)
{
  boot_with("{\"configurationKey\":[]}");
}

static void status(int connector, const char *st)
{
  char id[16];
  snprintf(id, sizeof id, "s%d", connector);
  recvf("[2,\"%s\",\"StatusNotification\",{\"connectorId\":%d,"
        "\"errorCode\":\"NoError\",\"status\":\"%s\"}]", id, connector, st);
  expect_json(expect_result(id), "{}");
}

/* Starts a transaction on connector with tag; returns its id. */
static int32_t start_tx(int connector, const char *tag, int meter_start)
{
  recvf("[2,\"t%d\",\"StartTransaction\",{\"connectorId\":%d,\"idTag\":\"%s\","
        "\"meterStart\":%d,\"timestamp\":\"2026-11-22T10:00:00Z\"}]",
        connector, connector, tag, meter_start);
  char id[16];
  snprintf(id, sizeof id, "t%d", connector);
  json_t *p = expect_result(id);
  return (int32_t)num(p, "transactionId");
}

TestSuite(session, .fini = teardown, .timeout = 20);

/* ---- boot and heartbeat ------------------------------------------------- */

Test(session, boot_is_accepted_with_the_configured_interval)
{
  start_with((setup_opts){.heartbeat_interval = 123});
  recv_text(BOOT);
  json_t *conf = result_of(frame_at(0), "b1");
  cr_assert_str_eq(str(conf, "status"), "Accepted");
  cr_assert_eq(num(conf, "interval"), 123);
  cr_assert_str_eq(str(conf, "currentTime"), now_text());
  cr_assert_eq(json_object_size(conf), 3);
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_BOOT);
  cr_assert_str_eq(e->ev.boot.vendor, "Alfen BV");
  cr_assert_str_eq(e->ev.boot.model, "NG910");
  cr_assert_str_eq(e->ev.boot.serial, "ACE1");
  cr_assert_str_eq(e->ev.boot.firmware, "5.8.1");
  cr_assert_str_eq(T.cp->vendor, "Alfen BV");
}

Test(session, boot_interval_defaults_to_300)
{
  start();
  recv_text(BOOT);
  cr_assert_eq(num(result_of(frame_at(0), "b1"), "interval"), 300);
}

Test(session, boot_serial_falls_back_to_the_charge_box_serial)
{
  start();
  recv_text("[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"V\","
            "\"chargePointModel\":\"M\",\"chargeBoxSerialNumber\":\"CB9\"}]");
  cr_assert_str_eq(last_event()->ev.boot.serial, "CB9");
  cr_assert_str_eq(last_event()->ev.boot.firmware, "");
}

Test(session, boot_over_long_vendor_is_cut_not_refused)
{
  start();
  recv_text("[2,\"1\",\"BootNotification\",{\"chargePointVendor\":"
            "\"Schneider Electric Industries\",\"chargePointModel\":\"M\"}]");
  cr_assert_str_eq(str(result_of(frame_at(0), "1"), "status"), "Accepted");
  cr_assert_str_eq(last_event()->ev.boot.vendor, "Schneider Electric I");
}

Test(session, boot_missing_model_is_an_occurence_violation)
{
  start();
  recv_text("[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"V\"}]");
  expect_error("1", "OccurenceConstraintViolation");
  cr_assert_eq(T.n_frames, 1);
  cr_assert_eq(T.n_events, 0);
}

Test(session, boot_is_followed_by_get_configuration)
{
  start();
  recv_text(BOOT);
  cr_assert_eq(T.n_frames, 2);
  const char *id;
  json_t *p = call_of(frame_at(1), "GetConfiguration", &id);
  cr_assert_str_eq(id, "1");
  expect_json(p, "{\"key\":[\"NumberOfConnectors\",\"SupportedFeatureProfiles\","
                 "\"ChargeProfileMaxStackLevel\","
                 "\"ChargingScheduleAllowedChargingRateUnit\","
                 "\"MeterValuesSampledData\",\"MeterValueSampleInterval\"]}");
}

Test(session, configuration_after_boot_changes_what_differs)
{
  start();
  recv_text(BOOT);
  answer_last("{\"configurationKey\":[{\"key\":\"MeterValueSampleInterval\","
              "\"readonly\":false,\"value\":\"300\"}]}");
  expect_json(call_of(last(), "ChangeConfiguration", NULL),
              "{\"key\":\"MeterValuesSampledData\",\"value\":"
              "\"Energy.Active.Import.Register,Current.Import,Power.Active.Import\"}");
  /* one after the other: nothing waits in the queue meanwhile */
  cr_assert_eq(ocpp_session_pending(T.s), 1);
  answer_last("{\"status\":\"Accepted\"}");
  expect_json(call_of(last(), "ChangeConfiguration", NULL),
              "{\"key\":\"MeterValueSampleInterval\",\"value\":\"60\"}");
  cr_assert_eq(ocpp_session_pending(T.s), 1);
  answer_last("{\"status\":\"Accepted\"}");
  expect_json(call_of(last(), "TriggerMessage", NULL),
              "{\"requestedMessage\":\"StatusNotification\"}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(ocpp_session_pending(T.s), 0);
  cr_assert_eq(T.n_frames, 5);
}

Test(session, configuration_already_right_is_left_alone)
{
  start();
  recv_text(BOOT);
  /* measurands in another order, the interval as a number (repaired) */
  answer_last("{\"configurationKey\":[{\"key\":\"MeterValuesSampledData\","
              "\"readonly\":false,\"value\":\"Power.Active.Import, "
              "Current.Import,Energy.Active.Import.Register\"},{\"key\":"
              "\"MeterValueSampleInterval\",\"readonly\":false,\"value\":60}]}");
  expect_json(call_of(last(), "TriggerMessage", NULL),
              "{\"requestedMessage\":\"StatusNotification\"}");
  cr_assert_eq(T.n_frames, 3);
}

Test(session, read_only_configuration_is_not_changed)
{
  start();
  recv_text(BOOT);
  answer_last("{\"configurationKey\":[{\"key\":\"MeterValuesSampledData\","
              "\"readonly\":true,\"value\":\"Energy.Active.Import.Register\"},"
              "{\"key\":\"MeterValueSampleInterval\",\"readonly\":true,"
              "\"value\":\"900\"}]}");
  call_of(last(), "TriggerMessage", NULL);
  cr_assert_eq(T.n_frames, 3);
}

Test(session, configuration_is_blind_when_get_configuration_fails)
{
  start();
  recv_text(BOOT);
  answer_last_error("NotImplemented");
  json_t *p = call_of(last(), "ChangeConfiguration", NULL);
  cr_assert_str_eq(str(p, "key"), "MeterValuesSampledData");
  answer_last("{\"status\":\"Rejected\"}");
  p = call_of(last(), "ChangeConfiguration", NULL);
  cr_assert_str_eq(str(p, "key"), "MeterValueSampleInterval");
  answer_last("{\"status\":\"NotSupported\"}");
  call_of(last(), "TriggerMessage", NULL);
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, configuration_sequence_ends_with_the_connection)
{
  start();
  recv_text(BOOT);
  answer_last("{\"configurationKey\":[]}");
  call_of(last(), "ChangeConfiguration", NULL);
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
  /* the next connection starts it again from GetConfiguration */
  ocpp_session_open(T.s, T.now);
  int n = T.n_frames;
  recv_text(BOOT);
  cr_assert_eq(T.n_frames, n + 2);
  call_of(last(), "GetConfiguration", NULL);
  answer_last("{\"configurationKey\":[]}");
  cr_assert_str_eq(str(call_of(last(), "ChangeConfiguration", NULL), "key"),
                   "MeterValuesSampledData");
}

Test(session, configuration_runs_once_per_connection)
{
  start();
  boot();
  int n = T.n_frames;
  recv_text(BOOT);
  cr_assert_eq(T.n_frames, n + 1);
  result_of(last(), "b1");
  ocpp_session_close(T.s, T.now);
  ocpp_session_open(T.s, T.now);
  recv_text(BOOT);
  call_of(last(), "GetConfiguration", NULL);
}

Test(session, capabilities_are_learnt_from_get_configuration)
{
  start();
  boot_with("{\"configurationKey\":[{\"key\":\"NumberOfConnectors\",\"readonly\":true,"
            "\"value\":\"2\"},{\"key\":\"ChargingScheduleAllowedChargingRateUnit\","
            "\"readonly\":true,\"value\":\"Power\"},{\"key\":"
            "\"SupportedFeatureProfiles\",\"readonly\":true,\"value\":"
            "\"Core,RemoteTrigger\"},{\"key\":\"ChargeProfileMaxStackLevel\","
            "\"readonly\":true,\"value\":\"3\"}]}");
  cr_assert_eq(T.cp->number_of_connectors, 2);
  cr_assert(T.cp->watts_only);
  cr_assert_not(T.cp->smart_charging);
  cr_assert_eq(T.cp->max_stack_level, 3);
  ocpp_command cmd = {.kind = OCPP_CMD_UNLOCK, .connector = 2};
  cr_assert_eq(ocpp_session_command(T.s, &cmd, NULL, NULL, T.now), OCPP_OK);
}

Test(session, heartbeat_answers_the_current_time)
{
  start();
  boot();
  T.now.wall += 3600;
  recv_text("[2,\"hb\",\"Heartbeat\",{}]");
  json_t *p = expect_result("hb");
  cr_assert_eq(json_object_size(p), 1);
  cr_assert_str_eq(str(p, "currentTime"), now_text());
}

Test(session, heartbeat_before_boot_is_answered)
{
  start();
  recv_text("[2,\"hb\",\"Heartbeat\",{}]");
  cr_assert_eq(T.n_frames, 1);
  cr_assert_str_eq(str(expect_result("hb"), "currentTime"), now_text());
}

Test(session, no_boot_within_5s_asks_for_one)
{
  start();
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 5000);
  advance(4999);
  cr_assert_eq(T.n_frames, 0);
  advance(1);
  expect_json(expect_call("TriggerMessage", NULL),
              "{\"requestedMessage\":\"BootNotification\"}");
  /* now the call's deadline */
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 5000 + 30000);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
  advance(60000);
  cr_assert_eq(T.n_frames, 1);
}

Test(session, boot_in_time_asks_for_nothing)
{
  start();
  advance(1000);
  recv_text(BOOT);
  answer_last_error("NotImplemented");
  while (ocpp_session_pending(T.s) > 0)
    answer_last("{\"status\":\"Accepted\"}");
  int n = T.n_frames;
  advance(10000);
  cr_assert_eq(T.n_frames, n);
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
}

Test(session, next_deadline_is_zero_when_closed)
{
  start();
  cr_assert_neq(ocpp_session_next_deadline(T.s), 0);
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
  cr_assert_not(ocpp_session_is_open(T.s));
  recv_text("[2,\"1\",\"Heartbeat\",{}]");
  cr_assert_eq(T.n_frames, 0);
}

/* ---- StatusNotification ------------------------------------------------- */

Test(session, status_is_kept_per_connector)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .n_connectors = 2});
  boot();
  status(0, "Available");
  status(1, "Charging");
  recv_text("[2,\"s2\",\"StatusNotification\",{\"connectorId\":2,\"errorCode\":"
            "\"GroundFailure\",\"status\":\"Faulted\",\"info\":\"RCD\","
            "\"vendorErrorCode\":\"E42\",\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  expect_json(expect_result("s2"), "{}");
  cr_assert_eq(count_events(OCPP_EV_STATUS), 3);
  cr_assert_eq(T.cp->conn_state[0].status, OCPP_CP_AVAILABLE);
  cr_assert_eq(T.cp->conn_state[1].status, OCPP_CP_CHARGING);
  cr_assert_eq(T.cp->conn_state[2].status, OCPP_CP_FAULTED);
  cr_assert_eq(T.cp->conn_state[2].error, OCPP_ERR_GROUND_FAILURE);
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.connector, 2);
  cr_assert_eq(e->ev.status.status, OCPP_CP_FAULTED);
  cr_assert_eq(e->ev.status.error, OCPP_ERR_GROUND_FAILURE);
  cr_assert_str_eq(e->ev.status.info, "RCD");
  cr_assert_str_eq(e->ev.status.vendor_error, "E42");
  time_t ts;
  ocpp_time_parse("2026-11-22T10:00:00Z", &ts);
  cr_assert_eq(e->ev.timestamp, ts);
  cr_assert_eq(event_at(T.n_events - 2)->ev.timestamp, T.now.wall);
}

Test(session, status_unknown_error_code_is_taken_as_other_error)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
            "\"Error\",\"status\":\"Faulted\"}]");
  expect_json(expect_result("1"), "{}");
  cr_assert_eq(last_event()->ev.status.error, OCPP_ERR_OTHER_ERROR);
}

Test(session, status_unknown_status_is_refused)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
            "\"NoError\",\"status\":\"Occupied\"}]");
  expect_error("1", "PropertyConstraintViolation");
  cr_assert_eq(T.n_events, 0);
}

Test(session, status_negative_connector_is_out_of_range)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":-1,\"errorCode\":"
            "\"NoError\",\"status\":\"Available\"}]");
  expect_error("1", "PropertyConstraintViolation");
  cr_assert_str_eq(json_string_value(json_array_get(last(), 3)),
                   "connectorId -1 out of range");
}

Test(session, status_beyond_the_tracked_connectors_is_answered_and_ignored)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":17,\"errorCode\":"
            "\"NoError\",\"status\":\"Available\"}]");
  expect_json(expect_result("1"), "{}");
  cr_assert_eq(T.n_events, 0);
}

Test(session, status_timestamp_without_offset_is_read_as_utc)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
            "\"NoError\",\"status\":\"Available\",\"timestamp\":"
            "\"2026-11-22T10:00:00\"}]");
  expect_json(expect_result("1"), "{}");
  time_t ts;
  ocpp_time_parse("2026-11-22T10:00:00Z", &ts);
  cr_assert_eq(last_event()->ev.timestamp, ts);
}

Test(session, preparing_in_auto_mode_starts_remotely_after_the_answer)
{
  start_with((setup_opts){.start_mode = OCPP_START_AUTO});
  boot();
  int n = T.n_frames;
  recv_text("[2,\"s1\",\"StatusNotification\",{\"connectorId\":1,"
            "\"errorCode\":\"NoError\",\"status\":\"Preparing\"}]");
  cr_assert_eq(T.n_frames, n + 2);
  result_of(frame_at(n), "s1");
  expect_json(call_of(frame_at(n + 1), "RemoteStartTransaction", NULL),
              "{\"connectorId\":1,\"idTag\":\"KNX\"}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, preparing_in_auto_mode_with_a_transaction_starts_nothing)
{
  start_with((setup_opts){.start_mode = OCPP_START_AUTO});
  boot();
  start_tx(1, "KNX", 0);
  int n = T.n_frames;
  status(1, "Preparing");
  cr_assert_eq(T.n_frames, n + 1);
}

Test(session, preparing_in_tag_mode_starts_nothing)
{
  start();
  boot();
  int n = T.n_frames;
  status(1, "Preparing");
  cr_assert_eq(T.n_frames, n + 1);
  status(0, "Preparing");
  cr_assert_eq(T.n_frames, n + 2);
}

/* ---- Authorize ---------------------------------------------------------- */

static const char *authorize(const char *tag)
{
  recvf("[2,\"a\",\"Authorize\",{\"idTag\":\"%s\"}]", tag);
  json_t *p = expect_result("a");
  cr_assert_eq(json_object_size(p), 1);
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_TAG);
  cr_assert_str_eq(e->ev.tag.id_tag, tag);
  cr_assert_eq(e->ev.connector, 0);
  const char *st = str(json_object_get(p, "idTagInfo"), "status");
  cr_assert_str_eq(st, ocpp_auth_status_name(e->ev.tag.result));
  return st;
}

Test(session, authorize_known_tag_in_tag_mode_is_accepted)
{
  start();
  cr_assert_str_eq(authorize("04A1B2C3"), "Accepted");
}

Test(session, authorize_unknown_tag_in_tag_mode_is_invalid)
{
  start();
  cr_assert_str_eq(authorize("DEADBEEF"), "Invalid");
}

Test(session, authorize_unknown_tag_in_auto_mode_is_invalid)
{
  start_with((setup_opts){.start_mode = OCPP_START_AUTO});
  cr_assert_str_eq(authorize("DEADBEEF"), "Invalid");
  cr_assert_str_eq(authorize("04A1B2C3"), "Accepted");
}

Test(session, authorize_any_tag_in_any_mode_is_accepted)
{
  start_with((setup_opts){.start_mode = OCPP_START_ANY});
  cr_assert_str_eq(authorize("DEADBEEF"), "Accepted");
}

Test(session, authorize_the_remote_tag_is_always_accepted)
{
  start();
  cr_assert_str_eq(authorize("KNX"), "Accepted");
}

Test(session, authorize_with_a_wildcard_accepts_all)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .any_tag = true});
  cr_assert_str_eq(authorize("0011"), "Accepted");
}

Test(session, authorize_relaxed_match_ignores_case_and_separators)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .relaxed = true});
  cr_assert_str_eq(authorize("aabbccdd"), "Accepted");
  cr_assert_str_eq(authorize("04-a1-b2-c3"), "Accepted");
}

Test(session, authorize_exact_match_is_exact)
{
  start();
  cr_assert_str_eq(authorize("aa:bb:cc:dd"), "Invalid");
}

Test(session, authorize_over_long_tag_is_refused)
{
  start();
  recv_text("[2,\"a\",\"Authorize\",{\"idTag\":\"0123456789abcdefghijk\"}]");
  expect_error("a", "PropertyConstraintViolation");
  cr_assert_eq(T.n_events, 0);
}

Test(session, authorize_without_tag_is_an_occurence_violation)
{
  start();
  recv_text("[2,\"a\",\"Authorize\",{}]");
  expect_error("a", "OccurenceConstraintViolation");
}

Test(session, authorize_with_a_number_tag_is_a_type_violation)
{
  start();
  recv_text("[2,\"a\",\"Authorize\",{\"idTag\":1234}]");
  expect_error("a", "TypeConstraintViolation");
}

/* ---- the owner's tag list ---------------------------------------------- */

Test(session, listed_tag_is_accepted_with_its_name_although_tags_do_not_list_it)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .tag_list = true});
  cr_assert_str_eq(authorize("LISTED"), "Accepted");
  cr_assert_str_eq(last_event()->ev.tag.name, "Anna");
  cr_assert_eq(T.lookup_now, T0_WALL, "the session's time, not a clock");
}

Test(session, listed_blocked_tag_is_blocked_even_in_any_mode)
{
  start_with((setup_opts){.start_mode = OCPP_START_ANY, .tag_list = true});
  cr_assert_str_eq(authorize("BLOCKD"), "Blocked");
  cr_assert_str_eq(last_event()->ev.tag.name, "Lost card");
  cr_assert_str_eq(authorize("SOMEONE"), "Accepted", "unknown: any mode");
  cr_assert_str_eq(last_event()->ev.tag.name, "");
}

Test(session, unknown_tag_follows_start_mode_and_tags)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .tag_list = true});
  cr_assert_str_eq(authorize("SOMEONE"), "Invalid");
  cr_assert_str_eq(authorize("04A1B2C3"), "Accepted");
  cr_assert_str_eq(authorize("KNX"), "Accepted");
  cr_assert_eq(T.lookups, 3);
}

Test(session, expiring_tag_answers_its_expiry_date_and_expires_with_fed_time)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .tag_list = true});
  recv_text("[2,\"a\",\"Authorize\",{\"idTag\":\"OLDCAR\"}]");
  json_t *info = json_object_get(expect_result("a"), "idTagInfo");
  cr_assert_str_eq(str(info, "status"), "Accepted");
  char want[OCPP_TIME_STRLEN];
  ocpp_time_format(OLDCAR_EXPIRY, want);
  cr_assert_str_eq(str(info, "expiryDate"), want);
  advance(101 * 1000);
  recv_text("[2,\"b\",\"Authorize\",{\"idTag\":\"OLDCAR\"}]");
  info = json_object_get(expect_result("b"), "idTagInfo");
  cr_assert_str_eq(str(info, "status"), "Expired");
  cr_assert_str_eq(str(info, "expiryDate"), want);
  cr_assert_eq(T.lookup_now, T0_WALL + 101);
}

Test(session, start_with_a_listed_tag_carries_its_name)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true,
                          .tag_list = true});
  int32_t tx = start_tx(1, "LISTED", 100);
  cr_assert_eq(tx, 500);
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_TX_STARTED);
  cr_assert_str_eq(e->ev.tx_started.tag_name, "Anna");
  cr_assert_str_eq(T.cp->conn_state[1].tx_tag_name, "Anna");
}

Test(session, start_with_a_blocked_tag_is_answered_blocked_and_not_started)
{
  start_with((setup_opts){.start_mode = OCPP_START_ANY, .store = true,
                          .tag_list = true});
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":1,"
            "\"idTag\":\"BLOCKD\",\"meterStart\":0,"
            "\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  json_t *p = expect_result("t");
  cr_assert_eq(num(p, "transactionId"), 500);
  json_t *info = json_object_get(p, "idTagInfo");
  cr_assert_str_eq(str(info, "status"), "Blocked");
  cr_assert_null(json_object_get(info, "expiryDate"));
  cr_assert_eq(last_event()->ev.type, OCPP_EV_TAG);
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
}

/* ---- CALLERRORs --------------------------------------------------------- */

/* A property name of 1 + 40 two-byte characters: cutting it at 60 bytes
 * splits a character. */
static void long_utf8_name(char *out, size_t cap)
{
  size_t n = 0;
  out[n++] = 'x';
  for (int i = 0; i < 40 && n + 3 < cap; i++) {
    out[n++] = (char)0xC3;
    out[n++] = (char)0xA9;
  }
  out[n] = '\0';
}

Test(session, fault_on_a_long_utf8_name_is_answered_with_valid_text)
{
  start();
  char name[128];
  long_utf8_name(name, sizeof name);
  recvf("[2,\"1\",\"Heartbeat\",{\"%s\":1}]", name);
  cr_assert_eq(T.n_frames, 1, "the CALL was not answered");
  expect_error("1", "PropertyConstraintViolation");
}

Test(session, schema_fault_text_on_a_long_utf8_name_is_utf8)
{
  char name[128], text[256];
  long_utf8_name(name, sizeof name);
  snprintf(text, sizeof text, "{\"%s\":[]}", name);
  json_t *p = parse(text);
  ocpp_schema_fault f;
  cr_assert_eq(ocpp_schema_validate("Heartbeat", OCPP_SCHEMA_REQUEST, p, &f),
               OCPP_ESCHEMA);
  json_t *m = json_string(f.message);
  cr_assert_not_null(m, "fault message is not UTF-8");
  json_decref(m);
  m = json_string(f.path);
  cr_assert_not_null(m, "fault path is not UTF-8");
  json_decref(m);
  json_decref(p);
}

Test(session, malformed_json_is_a_formation_violation)
{
  start();
  recv_text("[2,\"1\",\"Heartbeat\",{}");
  expect_error("-1", "FormationViolation");
  recv_text("");
  expect_error("-1", "FormationViolation");
  cr_assert_eq(T.n_frames, 2);
}

Test(session, a_frame_that_is_not_an_array_is_a_formation_violation)
{
  start();
  recv_text("{\"id\":\"1\"}");
  expect_error("-1", "FormationViolation");
  recv_text("[]");
  expect_error("-1", "FormationViolation");
}

Test(session, unknown_message_type_is_a_protocol_error)
{
  start();
  recv_text("[7,\"x\",{}]");
  expect_error("x", "ProtocolError");
}

Test(session, incomplete_call_is_a_protocol_error)
{
  start();
  recv_text("[2,\"1\",\"Heartbeat\"]");
  expect_error("1", "ProtocolError");
}

Test(session, call_with_too_many_elements_is_a_formation_violation)
{
  start();
  recv_text("[2,\"1\",\"Heartbeat\",{},{}]");
  expect_error("1", "FormationViolation");
}

Test(session, call_payload_not_an_object_is_a_formation_violation)
{
  start();
  recv_text("[2,\"1\",\"Heartbeat\",[]]");
  expect_error("1", "FormationViolation");
  recv_text("[2,1,\"Heartbeat\",{}]");
  expect_error("-1", "FormationViolation");
}

Test(session, unknown_action_is_not_implemented)
{
  start();
  recv_text("[2,\"1\",\"MakeCoffee\",{}]");
  expect_error("1", "NotImplemented");
}

Test(session, central_system_action_from_the_charger_is_not_supported)
{
  start();
  recv_text("[2,\"1\",\"Reset\",{\"type\":\"Hard\"}]");
  expect_error("1", "NotSupported");
}

Test(session, wrong_type_is_a_type_constraint_violation)
{
  start();
  recv_text("[2,\"1\",\"StatusNotification\",{\"connectorId\":\"1\","
            "\"errorCode\":\"NoError\",\"status\":\"Available\"}]");
  expect_error("1", "TypeConstraintViolation");
  cr_assert_str_eq(json_string_value(json_array_get(last(), 3)),
                   "connectorId: expected integer, got string");
}

Test(session, unknown_property_is_a_property_constraint_violation)
{
  start();
  recv_text("[2,\"1\",\"Heartbeat\",{\"foo\":1}]");
  expect_error("1", "PropertyConstraintViolation");
}

Test(session, broken_responses_are_never_answered)
{
  start();
  recv_text("[3,\"1\"]");
  recv_text("[3,\"1\",[]]");
  recv_text("[4,\"1\",5,\"x\"]");
  recv_text("[3,\"zz\",{}]"); /* no such call */
  cr_assert_eq(T.n_frames, 0);
}

Test(session, a_call_with_an_already_seen_id_is_answered_again)
{
  start();
  recv_text("[2,\"7\",\"Heartbeat\",{}]");
  recv_text("[2,\"7\",\"Heartbeat\",{}]");
  cr_assert_eq(T.n_frames, 2);
  result_of(frame_at(0), "7");
  result_of(frame_at(1), "7");
}

Test(session, an_id_of_37_characters_cannot_be_answered_by_it)
{
  start();
  recv_text("[2,\"0123456789012345678901234567890123456\",\"Heartbeat\",{}]");
  expect_error("-1", "FormationViolation");
}

Test(session, a_type_id_written_as_a_real_is_taken)
{
  start();
  recv_text("[2.0,\"1\",\"Heartbeat\",{}]");
  expect_result("1");
}

/* ---- commands: remote start and stop ------------------------------------ */

static int command(ocpp_command cmd, intptr_t slot)
{
  return ocpp_session_command(T.s, &cmd, on_cb, (void *)slot, T.now);
}

Test(session, remote_start_uses_the_remote_tag_or_the_given_one)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_START,
                                      .connector = 1}, 0), OCPP_OK);
  expect_json(expect_call("RemoteStartTransaction", NULL),
              "{\"connectorId\":1,\"idTag\":\"KNX\"}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_START,
                                      .connector = 1, .id_tag = "CARD7"}, 1),
               OCPP_OK);
  expect_json(expect_call("RemoteStartTransaction", NULL),
              "{\"connectorId\":1,\"idTag\":\"CARD7\"}");
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_REJECTED);
  cr_assert_eq(T.cb_count[0], 1);
}

Test(session, remote_start_refuses_bad_arguments_without_a_callback)
{
  start();
  boot();
  int n = T.n_frames;
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_START,
                                      .connector = 1,
                                      .id_tag = "0123456789abcdefghijk"}, 0),
               OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_START,
                                      .connector = 0}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_START,
                                      .connector = 2}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_COUNT}, 0), OCPP_EINVAL);
  cr_assert_eq(T.n_frames, n);
  cr_assert_eq(T.cb_count[0], 0);
}

Test(session, remote_stop_needs_a_transaction)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_STOP,
                                      .connector = 1}, 0), OCPP_ESTATE);
  int32_t tx = start_tx(1, "04A1B2C3", 100);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_STOP,
                                      .connector = 1}, 0), OCPP_OK);
  json_t *p = expect_call("RemoteStopTransaction", NULL);
  cr_assert_eq(json_object_size(p), 1);
  cr_assert_eq(num(p, "transactionId"), tx);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
}

/* ---- StartTransaction --------------------------------------------------- */

Test(session, start_with_a_known_tag_opens_a_transaction)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1200);
  cr_assert_eq(tx, 1);
  expect_json(last() ? json_array_get(last(), 2) : NULL,
              "{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\"}}");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 1);
  cr_assert_str_eq(T.cp->conn_state[1].tx_tag, "04A1B2C3");
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_TX_STARTED);
  cr_assert_eq(e->ev.connector, 1);
  cr_assert_eq(e->ev.tx_started.transaction_id, 1);
  cr_assert_str_eq(e->ev.tx_started.id_tag, "04A1B2C3");
  cr_assert_eq(e->ev.tx_started.meter_start_wh, 1200);
  cr_assert_not(e->ev.tx_started.recovered);
  cr_assert_eq(event_at(T.n_events - 2)->ev.type, OCPP_EV_TAG);
}

Test(session, start_with_an_unknown_tag_is_answered_invalid_and_not_opened)
{
  start();
  boot();
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"BAD\","
            "\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  json_t *p = expect_result("t");
  cr_assert_str_eq(str(json_object_get(p, "idTagInfo"), "status"), "Invalid");
  cr_assert_gt(num(p, "transactionId"), 0);
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
  cr_assert_eq(count_events(OCPP_EV_TX_STARTED), 0);
  cr_assert_eq(last_event()->ev.type, OCPP_EV_TAG);
  cr_assert_eq(last_event()->ev.tag.result, OCPP_AUTH_INVALID);
}

Test(session, transaction_ids_are_unique_across_connectors_and_sessions)
{
  start_with((setup_opts){.start_mode = OCPP_START_ANY, .n_connectors = 2});
  boot();
  int32_t a = start_tx(1, "A", 0);
  int32_t b = start_tx(2, "B", 0);
  cr_assert_neq(a, b);
  /* a second session with the same counters */
  ocpp_charger_options opt = {.id = "CP-2", .start_mode = OCPP_START_ANY,
                              .n_connectors = 1};
  ocpp_cp *cp2 = ocpp__cp_create(&opt, true);
  ocpp_session_config cfg = config_for(&(setup_opts){0});
  ocpp_session *s2;
  cr_assert_eq(ocpp_session_create(&ocpp__role_cs16, &cfg, cp2, &s2), OCPP_OK);
  ocpp_session_open(s2, T.now);
  const char *req = "[2,\"t\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":"
                    "\"C\",\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\"}]";
  ocpp_session_recv(s2, req, strlen(req), T.now);
  int32_t c = (int32_t)num(expect_result("t"), "transactionId");
  cr_assert(c != a && c != b);
  ocpp_session_destroy(s2);
  ocpp__cp_destroy(cp2);
}

Test(session, a_repeated_start_gets_the_same_transaction)
{
  start();
  boot();
  int32_t a = start_tx(1, "04A1B2C3", 10);
  int32_t b = start_tx(1, "04A1B2C3", 10);
  cr_assert_eq(a, b);
  cr_assert_eq(count_events(OCPP_EV_TX_STARTED), 1);
  int32_t c = start_tx(1, "04A1B2C3", 11);
  cr_assert_neq(c, a);
}

Test(session, start_on_connector_0_is_out_of_range)
{
  start();
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":0,\"idTag\":\"KNX\","
            "\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  expect_error("t", "PropertyConstraintViolation");
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":17,\"idTag\":\"KNX\","
            "\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  expect_error("t", "PropertyConstraintViolation");
}

Test(session, start_takes_its_id_from_the_store)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  boot();
  cr_assert_eq(start_tx(1, "04A1B2C3", 0), 500);
  cr_assert_eq(T.begin_calls, 1);
}

Test(session, start_that_the_store_cannot_record_is_an_internal_error)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  boot();
  T.store_fails = true;
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"KNX\","
            "\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  expect_error("t", "InternalError");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
}

Test(session, start_missing_meter_start_is_an_occurence_violation)
{
  start();
  recv_text("[2,\"t\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"KNX\","
            "\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  expect_error("t", "OccurenceConstraintViolation");
}

/* ---- StopTransaction ---------------------------------------------------- */

static json_t *stop_tx(int32_t tx, const char *extra)
{
  recvf("[2,\"p\",\"StopTransaction\",{\"transactionId\":%d,"
        "\"timestamp\":\"2026-11-22T11:00:00Z\"%s}]", (int)tx, extra);
  return expect_result("p");
}

Test(session, stop_of_a_running_transaction)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  json_t *p = stop_tx(tx, ",\"meterStop\":4500,\"idTag\":\"04A1B2C3\","
                          "\"reason\":\"EVDisconnected\"");
  expect_json(p, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
  cr_assert_eq(T.cp->conn_state[1].last_stopped_tx, tx);
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_TX_STOPPED);
  cr_assert_eq(e->ev.connector, 1);
  cr_assert_eq(e->ev.tx_stopped.transaction_id, tx);
  cr_assert(e->ev.tx_stopped.has_meter_stop);
  cr_assert_eq(e->ev.tx_stopped.meter_stop_wh, 4500);
  cr_assert(e->ev.tx_stopped.has_session_energy);
  cr_assert_eq(e->ev.tx_stopped.session_energy_wh, 3500);
  cr_assert_str_eq(e->ev.tx_stopped.reason, "EVDisconnected");
  cr_assert_not(e->ev.tx_stopped.duplicate);
}

Test(session, stop_without_tag_is_answered_with_an_empty_object)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 0);
  expect_json(stop_tx(tx, ",\"meterStop\":10"), "{}");
}

Test(session, stop_of_an_unknown_transaction_is_accepted)
{
  start();
  boot();
  expect_json(stop_tx(77, ",\"meterStop\":10,\"idTag\":\"X\""),
              "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.connector, 0);
  cr_assert_eq(e->ev.tx_stopped.transaction_id, 77);
  cr_assert_not(e->ev.tx_stopped.has_meter_start);
  cr_assert_not(e->ev.tx_stopped.has_session_energy);
  cr_assert_not(e->ev.tx_stopped.duplicate);
}

Test(session, stop_with_id_0_or_minus_1_is_accepted)
{
  start();
  boot();
  start_tx(1, "04A1B2C3", 0);
  stop_tx(0, ",\"meterStop\":10");
  cr_assert_eq(last_event()->ev.tx_stopped.transaction_id, 0);
  stop_tx(-1, ",\"meterStop\":10");
  cr_assert_eq(last_event()->ev.tx_stopped.transaction_id, -1);
  /* the running transaction is untouched */
  cr_assert_neq(T.cp->conn_state[1].tx_id, 0);
}

Test(session, stop_repeated_is_a_duplicate)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  stop_tx(tx, ",\"meterStop\":2000");
  stop_tx(tx, ",\"meterStop\":2000");
  const event_rec *e = last_event();
  cr_assert(e->ev.tx_stopped.duplicate);
  cr_assert_eq(e->ev.connector, 1);
  cr_assert_eq(count_events(OCPP_EV_TX_STOPPED), 2);
}

Test(session, stop_of_a_transaction_the_store_knows_is_recovered)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  T.stored_tx = 42;
  T.stored_connector = 1;
  T.stored_meter_start = 800;
  boot();
  stop_tx(42, ",\"meterStop\":1800");
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.connector, 1);
  cr_assert(e->ev.tx_stopped.has_meter_start);
  cr_assert_eq(e->ev.tx_stopped.meter_start_wh, 800);
  cr_assert(e->ev.tx_stopped.has_session_energy);
  cr_assert_eq(e->ev.tx_stopped.session_energy_wh, 1000);
  cr_assert_not(e->ev.tx_stopped.duplicate);
}

Test(session, stop_of_a_transaction_the_store_has_stopped_is_a_duplicate)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  T.stored_tx = 42;
  T.stored_connector = 1;
  T.stored_stopped = true;
  boot();
  stop_tx(42, ",\"meterStop\":1800,\"transactionData\":[{\"timestamp\":"
              "\"2026-11-22T11:00:00Z\",\"sampledValue\":[{\"value\":\"1800\"}]}]");
  cr_assert(last_event()->ev.tx_stopped.duplicate);
  cr_assert_eq(count_events(OCPP_EV_METER), 0);
}

Test(session, stop_without_meter_stop_is_repaired)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  stop_tx(tx, "");
  const event_rec *e = last_event();
  cr_assert_not(e->ev.tx_stopped.has_meter_stop);
  cr_assert_not(e->ev.tx_stopped.has_session_energy);
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
}

Test(session, stop_with_an_unknown_reason_drops_the_reason)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 0);
  stop_tx(tx, ",\"meterStop\":5,\"reason\":\"Bored\"");
  cr_assert_str_eq(last_event()->ev.tx_stopped.reason, "");
}

Test(session, stop_transaction_data_becomes_meter_events)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  stop_tx(tx, ",\"meterStop\":3000,\"transactionData\":[{\"timestamp\":"
              "\"2026-11-22T10:30:00Z\",\"sampledValue\":[{\"value\":\"2000\"}]},"
              "{\"timestamp\":\"2026-11-22T11:00:00Z\",\"sampledValue\":"
              "[{\"value\":\"3\",\"unit\":\"kWh\"}]}]");
  cr_assert_eq(count_events(OCPP_EV_METER), 2);
  const event_rec *m = event_at(T.n_events - 2);
  cr_assert_eq(m->ev.type, OCPP_EV_METER);
  cr_assert_eq(m->ev.meter.energy_wh, 3000);
  cr_assert_eq(m->ev.meter.transaction_id, tx);
  cr_assert(m->ev.meter.has_session_energy);
  cr_assert_eq(m->ev.meter.session_energy_wh, 2000);
}

/* ---- MeterValues -------------------------------------------------------- */

static void meter(int connector, int32_t tx, const char *samples)
{
  char txt[32] = "";
  if (tx)
    snprintf(txt, sizeof txt, ",\"transactionId\":%d", (int)tx);
  recvf("[2,\"m\",\"MeterValues\",{\"connectorId\":%d%s,\"meterValue\":[{"
        "\"timestamp\":\"2026-11-22T10:10:00Z\",\"sampledValue\":[%s]}]}]",
        connector, txt, samples);
  expect_json(expect_result("m"), "{}");
}

Test(session, meter_values_before_boot_are_taken)
{
  start();
  meter(1, 0, "{\"value\":\"1234\"}");
  const event_rec *e = last_event();
  cr_assert_eq(e->ev.type, OCPP_EV_METER);
  cr_assert(e->ev.meter.has_energy);
  cr_assert_eq(e->ev.meter.energy_wh, 1234);
  cr_assert_eq(e->ev.meter.transaction_id, 0);
  cr_assert_not(e->ev.meter.has_session_energy);
  cr_assert_eq(T.cp->conn_state[1].energy_wh, 1234);
}

Test(session, meter_values_of_a_transaction_carry_the_session_energy)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  meter(1, tx, "{\"value\":\"1.5\",\"unit\":\"kWh\"},{\"value\":\"16\","
               "\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"}");
  const event_rec *e = last_event();
  cr_assert(e->ev.meter.has_session_energy);
  cr_assert_eq(e->ev.meter.session_energy_wh, 500);
  cr_assert(e->ev.meter.has_current);
  cr_assert_eq(e->ev.meter.current_a, 16);
  cr_assert_eq(T.cp->conn_state[1].session_energy_wh, 500);
}

Test(session, meter_values_after_stop_do_not_reopen_the_transaction)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 1000);
  stop_tx(tx, ",\"meterStop\":2000");
  meter(1, tx, "{\"value\":\"2001\"}");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
  cr_assert_eq(count_events(OCPP_EV_TX_STARTED), 1);
  cr_assert_eq(last_event()->ev.type, OCPP_EV_METER);
  cr_assert_not(last_event()->ev.meter.has_session_energy);
}

Test(session, meter_values_recover_a_running_transaction)
{
  start();
  meter(1, 33, "{\"value\":\"5000\"}");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 33);
  const event_rec *st = event_at(T.n_events - 2);
  cr_assert_eq(st->ev.type, OCPP_EV_TX_STARTED);
  cr_assert(st->ev.tx_started.recovered);
  cr_assert_eq(st->ev.tx_started.transaction_id, 33);
  cr_assert_eq(st->ev.tx_started.meter_start_wh, 5000);
  meter(1, 33, "{\"value\":\"5600\"}");
  cr_assert_eq(last_event()->ev.meter.session_energy_wh, 600);
  cr_assert_eq(count_events(OCPP_EV_TX_STARTED), 1);
  /* and its stop counts the energy from the guessed start */
  stop_tx(33, ",\"meterStop\":6000");
  cr_assert_eq(last_event()->ev.tx_stopped.session_energy_wh, 1000);
}

Test(session, meter_values_recover_with_the_start_the_store_knows)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  T.stored_tx = 42;
  T.stored_connector = 1;
  T.stored_meter_start = 4000;
  meter(1, 42, "{\"value\":\"5000\"}");
  cr_assert_eq(event_at(T.n_events - 2)->ev.tx_started.meter_start_wh, 4000);
  cr_assert_eq(last_event()->ev.meter.session_energy_wh, 1000);
}

Test(session, meter_values_of_a_stopped_stored_transaction_recover_nothing)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .store = true});
  T.stored_tx = 42;
  T.stored_connector = 1;
  T.stored_stopped = true;
  meter(1, 42, "{\"value\":\"5000\"}");
  cr_assert_eq(T.cp->conn_state[1].tx_id, 0);
  cr_assert_eq(count_events(OCPP_EV_TX_STARTED), 0);
  cr_assert_eq(count_events(OCPP_EV_METER), 1);
}

Test(session, meter_sample_with_an_impossible_unit_is_dropped)
{
  start();
  meter(1, 0, "{\"value\":\"50\",\"measurand\":\"Frequency\",\"unit\":\"Hz\"},"
              "{\"value\":\"700\"}");
  cr_assert_eq(last_event()->ev.meter.energy_wh, 700);
}

Test(session, meter_values_on_a_negative_connector_are_out_of_range)
{
  start();
  recv_text("[2,\"m\",\"MeterValues\",{\"connectorId\":-2,\"meterValue\":[{"
            "\"timestamp\":\"2026-11-22T10:10:00Z\",\"sampledValue\":"
            "[{\"value\":\"1\"}]}]}]");
  expect_error("m", "PropertyConstraintViolation");
}

Test(session, meter_values_without_samples_are_answered_without_events)
{
  /* the 1.6 schema sets no minItems on meterValue */
  start();
  recv_text("[2,\"m\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]");
  expect_json(expect_result("m"), "{}");
  cr_assert_eq(T.n_events, 0);
}

Test(session, meter_values_without_a_timestamp_are_a_violation)
{
  start();
  recv_text("[2,\"m\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":"
            "[{\"sampledValue\":[{\"value\":\"1\"}]}]}]");
  expect_error("m", "OccurenceConstraintViolation");
}

/* ---- notifications that are only logged --------------------------------- */

Test(session, data_transfer_is_answered_unknown_vendor)
{
  start();
  recv_text("[2,\"d\",\"DataTransfer\",{\"vendorId\":\"com.x\",\"data\":\"1\"}]");
  expect_json(expect_result("d"), "{\"status\":\"UnknownVendorId\"}");
}

Test(session, status_notifications_of_firmware_and_diagnostics_are_acknowledged)
{
  start();
  recv_text("[2,\"f\",\"FirmwareStatusNotification\",{\"status\":\"Installed\"}]");
  expect_json(expect_result("f"), "{}");
  recv_text("[2,\"g\",\"DiagnosticsStatusNotification\",{\"status\":\"Idle\"}]");
  expect_json(expect_result("g"), "{}");
  recv_text("[2,\"h\",\"SecurityEventNotification\",{\"type\":\"TamperDetected\","
            "\"timestamp\":\"2026-11-22T10:00:00Z\",\"techInfo\":\"lid\"}]");
  expect_json(expect_result("h"), "{}");
  cr_assert_eq(T.n_events, 0);
}

/* ---- commands: availability, unlock, reset, trigger --------------------- */

Test(session, availability_on_connector_0_falls_back_to_connector_1)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_AVAILABILITY,
                                      .connector = 0, .operative = false}, 0),
               OCPP_OK);
  expect_json(expect_call("ChangeAvailability", NULL),
              "{\"connectorId\":0,\"type\":\"Inoperative\"}");
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_count[0], 0);
  expect_json(expect_call("ChangeAvailability", NULL),
              "{\"connectorId\":1,\"type\":\"Inoperative\"}");
  answer_last("{\"status\":\"Scheduled\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
}

Test(session, availability_fallback_ends_with_its_own_result)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CHANGE_AVAILABILITY, .connector = 0,
                         .operative = true}, 0);
  answer_last_error("GenericError");
  expect_json(expect_call("ChangeAvailability", NULL),
              "{\"connectorId\":1,\"type\":\"Operative\"}");
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_REJECTED);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, availability_on_a_two_connector_charger_has_no_fallback)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .n_connectors = 2});
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CHANGE_AVAILABILITY, .connector = 0}, 0);
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_REJECTED);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, availability_timeout_has_no_fallback)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CHANGE_AVAILABILITY, .connector = 0}, 0);
  advance(30000);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_TIMEOUT);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, unlock_maps_each_status)
{
  static const struct { const char *status; ocpp_result r; } cases[] = {
    {"Unlocked", OCPP_RESULT_ACCEPTED},
    {"UnlockFailed", OCPP_RESULT_REJECTED},
    {"NotSupported", OCPP_RESULT_NOT_SUPPORTED},
  };
  start();
  boot();
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_UNLOCK,
                                        .connector = 1}, i), OCPP_OK);
    expect_json(expect_call("UnlockConnector", NULL), "{\"connectorId\":1}");
    char payload[64];
    snprintf(payload, sizeof payload, "{\"status\":\"%s\"}", cases[i].status);
    answer_last(payload);
    cr_assert_eq(T.cb_count[i], 1);
    cr_assert_eq(T.cb_result[i], cases[i].r, "%s", cases[i].status);
  }
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_UNLOCK, .connector = 0}, 3),
               OCPP_EINVAL);
}

Test(session, change_configuration_sends_key_and_value_and_maps_the_answer)
{
  static const struct { const char *status; ocpp_result r; } cases[] = {
    {"Accepted", OCPP_RESULT_ACCEPTED},
    {"RebootRequired", OCPP_RESULT_REBOOT_REQUIRED},
    {"Rejected", OCPP_RESULT_REJECTED},
    {"NotSupported", OCPP_RESULT_NOT_SUPPORTED},
  };
  start();
  boot();
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                        .key = "HeartbeatInterval",
                                        .value = "120", .connector = 5}, i),
                 OCPP_OK);
    expect_json(expect_call("ChangeConfiguration", NULL),
                "{\"key\":\"HeartbeatInterval\",\"value\":\"120\"}");
    char payload[64];
    snprintf(payload, sizeof payload, "{\"status\":\"%s\"}", cases[i].status);
    answer_last(payload);
    cr_assert_eq(T.cb_count[i], 1);
    cr_assert_eq(T.cb_result[i], cases[i].r, "%s", cases[i].status);
  }
}

Test(session, clear_cache_is_sent_empty_and_a_rejection_is_only_a_result)
{
  static const struct { const char *status; ocpp_result r; } cases[] = {
    {"Accepted", OCPP_RESULT_ACCEPTED},
    {"Rejected", OCPP_RESULT_REJECTED},
  };
  start();
  boot();
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CLEAR_CACHE,
                                        .connector = 3}, i), OCPP_OK);
    expect_json(expect_call("ClearCache", NULL), "{}");
    char payload[64];
    snprintf(payload, sizeof payload, "{\"status\":\"%s\"}", cases[i].status);
    answer_last(payload);
    cr_assert_eq(T.cb_count[i], 1);
    cr_assert_eq(T.cb_result[i], cases[i].r, "%s", cases[i].status);
  }
  cr_assert_eq(ocpp_session_pending(T.s), 0, "a rejection is not retried");
}

Test(session, change_configuration_refuses_missing_or_over_long_fields)
{
  start();
  boot();
  char long_key[52];
  memset(long_key, 'k', 51);
  long_key[51] = '\0';
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                      .value = "1"}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                      .key = "K"}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                      .key = long_key, .value = "1"}, 0),
               OCPP_EINVAL);
  cr_assert_eq(T.cb_count[0], 0);
}

Test(session, authorization_key_never_reaches_the_log_even_with_the_trace)
{
  start();
  boot();
  T.secret = "0123456789abcdef0123456789abcdef01234567";
  int hidden_before = T.hidden_frames;
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                      .key = "AuthorizationKey",
                                      .value = T.secret}, 0), OCPP_OK);
  json_t *p = expect_call("ChangeConfiguration", NULL);
  cr_assert_str_eq(str(p, "value"), T.secret, "the charger gets it");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  /* a charger that lists it in GetConfiguration does not get it logged */
  recvf("[2,\"x\",\"DataTransfer\",{\"vendorId\":\"v\",\"data\":"
        "\"AuthorizationKey=%s\"}]", T.secret);
  cr_assert_eq(T.secret_lines, 0);
  cr_assert_eq(T.hidden_frames, hidden_before + 2);
}

Test(session, reset_sends_hard_or_soft)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESET, .hard = true, .connector = 9}, 0);
  expect_json(expect_call("Reset", NULL), "{\"type\":\"Hard\"}");
  answer_last("{\"status\":\"Accepted\"}");
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 1);
  expect_json(expect_call("Reset", NULL), "{\"type\":\"Soft\"}");
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_REJECTED);
}

Test(session, trigger_message_with_and_without_a_connector)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_TRIGGER, .message = "MeterValues",
                         .connector = 1}, 0);
  expect_json(expect_call("TriggerMessage", NULL),
              "{\"requestedMessage\":\"MeterValues\",\"connectorId\":1}");
  answer_last("{\"status\":\"NotImplemented\"}");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_NOT_SUPPORTED);
  command((ocpp_command){.kind = OCPP_CMD_TRIGGER, .message = "Heartbeat"}, 1);
  expect_json(expect_call("TriggerMessage", NULL),
              "{\"requestedMessage\":\"Heartbeat\"}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ACCEPTED);
}

Test(session, trigger_of_an_unknown_message_is_refused)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_TRIGGER,
                                      .message = "Coffee"}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_TRIGGER}, 0), OCPP_EINVAL);
  cr_assert_eq(T.cb_count[0], 0);
}

/* ---- commands: reservations --------------------------------------------- */

Test(session, reserve_then_cancel_the_same_reservation)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1,
                                      .expiry_s = 600}, 0), OCPP_OK);
  json_t *p = expect_call("ReserveNow", NULL);
  char expiry[OCPP_TIME_STRLEN];
  ocpp_time_format(T.now.wall + 600, expiry);
  cr_assert_str_eq(str(p, "expiryDate"), expiry);
  cr_assert_str_eq(str(p, "idTag"), "KNX");
  cr_assert_eq(num(p, "connectorId"), 1);
  int rid = (int)num(p, "reservationId");
  cr_assert_gt(rid, 0);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cp->conn_state[1].reservation_id, rid);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CANCEL_RESERVATION,
                                      .connector = 1}, 1), OCPP_OK);
  p = expect_call("CancelReservation", NULL);
  cr_assert_eq(num(p, "reservationId"), rid);
  answer_last("{\"status\":\"Rejected\"}");
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_REJECTED);
  cr_assert_eq(T.cp->conn_state[1].reservation_id, 0);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CANCEL_RESERVATION,
                                      .connector = 1}, 2), OCPP_ESTATE);
}

Test(session, a_refused_reservation_is_not_kept)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1,
                         .expiry_s = 60, .id_tag = "CARD"}, 0);
  cr_assert_str_eq(str(expect_call("ReserveNow", NULL), "idTag"), "CARD");
  answer_last("{\"status\":\"Occupied\"}");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_REJECTED);
  cr_assert_eq(T.cp->conn_state[1].reservation_id, 0);
}

Test(session, reservation_ids_are_unique)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1, .expiry_s = 60}, 0);
  int a = (int)num(expect_call("ReserveNow", NULL), "reservationId");
  answer_last("{\"status\":\"Accepted\"}");
  command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1, .expiry_s = 60}, 1);
  int b = (int)num(expect_call("ReserveNow", NULL), "reservationId");
  cr_assert_neq(a, b);
}

Test(session, reserve_needs_an_expiry_and_a_short_tag)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1}, 0),
               OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1,
                                      .expiry_s = 60,
                                      .id_tag = "0123456789abcdefghijk"}, 0),
               OCPP_EINVAL);
  cr_assert_eq(T.cb_count[0], 0);
}

Test(session, a_start_with_the_reservation_clears_it)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1, .expiry_s = 60}, 0);
  int rid = (int)num(expect_call("ReserveNow", NULL), "reservationId");
  answer_last("{\"status\":\"Accepted\"}");
  recvf("[2,\"t\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"KNX\","
        "\"meterStart\":0,\"timestamp\":\"2026-11-22T10:00:00Z\","
        "\"reservationId\":%d}]", rid);
  expect_result("t");
  cr_assert_eq(T.cp->conn_state[1].reservation_id, 0);
}

/* ---- commands: current limit -------------------------------------------- */

static json_t *profile_of(json_t *p, int *connector)
{
  *connector = (int)num(p, "connectorId");
  return json_object_get(p, "csChargingProfiles");
}

static const char *purpose(json_t *prof)
{
  return str(prof, "chargingProfilePurpose");
}

static double limit_of(json_t *prof)
{
  json_t *sched = json_object_get(prof, "chargingSchedule");
  json_t *period = json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);
  return json_number_value(json_object_get(period, "limit"));
}

Test(session, current_limit_starts_with_the_charge_point_max_profile)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                                      .connector = 1, .amps = 16}, 0), OCPP_OK);
  expect_json(expect_call("SetChargingProfile", NULL),
              "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,"
              "\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargePointMaxProfile\","
              "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
              "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
              "\"startPeriod\":0,\"limit\":16.0}]}}}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cp->limit_a, 16);
  cr_assert_eq(T.cp->profile_strategy, 0);
}

Test(session, current_limit_falls_back_through_the_profiles)
{
  start();
  boot();
  int32_t tx = start_tx(1, "04A1B2C3", 0);
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                         .amps = 10}, 0);
  int c;
  cr_assert_str_eq(purpose(profile_of(expect_call("SetChargingProfile", NULL), &c)),
                   "ChargePointMaxProfile");
  cr_assert_eq(c, 0);
  answer_last("{\"status\":\"Rejected\"}");
  json_t *prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  cr_assert_str_eq(purpose(prof), "TxDefaultProfile");
  cr_assert_eq(c, 1);
  cr_assert_eq(json_object_get(prof, "transactionId"), NULL);
  answer_last_error("NotSupported");
  prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  cr_assert_str_eq(purpose(prof), "TxProfile");
  cr_assert_eq(num(prof, "transactionId"), tx);
  cr_assert_eq(T.cb_count[0], 0);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cp->profile_strategy, 2);
  /* the next limit starts with what worked */
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                         .amps = 8}, 1);
  cr_assert_str_eq(purpose(profile_of(expect_call("SetChargingProfile", NULL), &c)),
                   "TxProfile");
}

Test(session, current_limit_without_a_transaction_ends_rejected)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                         .amps = 6}, 0);
  answer_last("{\"status\":\"Rejected\"}");
  answer_last("{\"status\":\"Rejected\"}");
  /* no TxProfile without a transaction */
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_REJECTED);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, current_limit_remembered_tx_profile_restarts_without_transaction)
{
  start();
  boot();
  T.cp->profile_strategy = 2;
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                         .amps = 6}, 0);
  int c;
  cr_assert_str_eq(purpose(profile_of(expect_call("SetChargingProfile", NULL), &c)),
                   "ChargePointMaxProfile");
}

Test(session, current_limit_timeout_ends_without_fallback)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 0,
                         .amps = 6}, 0);
  int n = T.n_frames;
  advance(30000);
  cr_assert_eq(T.n_frames, n);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_TIMEOUT);
}

Test(session, current_limit_in_watts_for_watt_only_chargers)
{
  start();
  boot_with("{\"configurationKey\":[{\"key\":"
            "\"ChargingScheduleAllowedChargingRateUnit\",\"readonly\":true,"
            "\"value\":\"Power\"}]}");
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 0,
                         .amps = 10}, 0);
  int c;
  json_t *prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  json_t *sched = json_object_get(prof, "chargingSchedule");
  cr_assert_str_eq(str(sched, "chargingRateUnit"), "W");
  cr_assert_float_eq(limit_of(prof), 6900.0, 1e-9);
}

Test(session, current_limit_is_sent_as_a_tenth_strict_peers_accept)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 0,
                         .amps = 10.2}, 0);
  int c;
  double sent = limit_of(profile_of(expect_call("SetChargingProfile", NULL), &c));
  cr_assert_eq(sent, ocpp_limit_as_sent(10.2));
  cr_assert_leq(sent, 10.2);
  cr_assert_eq(sent / 0.1, floor(sent / 0.1));
}

Test(session, current_limit_out_of_range_is_refused)
{
  start();
  boot();
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                                      .amps = -1}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                                      .amps = NAN}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                                      .amps = 1001}, 0), OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                                      .amps = 0}, 0), OCPP_OK);
}

/* ---- commands: lifting the limit ---------------------------------------- */

static void limit_accepted(int connector, double amps, int token)
{
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                         .connector = connector, .amps = amps}, token);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_result[token], OCPP_RESULT_ACCEPTED);
}

static int lift(int connector, int token)
{
  return command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT,
                                .connector = connector, .amps = 80}, token);
}

Test(session, lift_clears_the_profile_the_limit_went_in)
{
  start();
  boot();
  limit_accepted(1, 10, 0);
  cr_assert_eq(lift(1, 1), OCPP_OK);
  expect_json(expect_call("ClearChargingProfile", NULL),
              "{\"id\":1,\"connectorId\":0,\"chargingProfilePurpose\":"
              "\"ChargePointMaxProfile\",\"stackLevel\":0}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cp->limit_a, -1);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, lift_of_a_profile_already_gone_is_accepted)
{
  start();
  boot();
  limit_accepted(1, 10, 0);
  lift(1, 1);
  answer_last("{\"status\":\"Unknown\"}");
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ACCEPTED);
}

Test(session, lift_names_the_connectors_own_profile)
{
  start_with((setup_opts){.n_connectors = 2});
  boot();
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 2,
                         .amps = 10}, 0);
  int c;
  json_t *prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  /* a charger-wide profile would hold connector 1 to connector 2's limit */
  cr_assert_str_eq(purpose(prof), "TxDefaultProfile");
  cr_assert_eq(c, 2);
  /* unique on the charger: connector 1's profile never replaces it */
  cr_assert_eq(num(prof, "chargingProfileId"), 21);
  answer_last("{\"status\":\"Accepted\"}");
  lift(2, 1);
  expect_json(expect_call("ClearChargingProfile", NULL),
              "{\"id\":21,\"connectorId\":2,\"chargingProfilePurpose\":"
              "\"TxDefaultProfile\",\"stackLevel\":0}");
}

Test(session, lift_refused_sends_the_maximum_as_the_limit)
{
  start();
  boot();
  limit_accepted(1, 10, 0);
  lift(1, 1);
  answer_last_error("NotImplemented");
  cr_assert_eq(T.cb_count[1], 0);
  int c;
  json_t *prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  cr_assert_str_eq(purpose(prof), "ChargePointMaxProfile");
  cr_assert_eq(limit_of(prof), 80.0);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ACCEPTED);
  cr_assert_eq(T.cp->limit_a, 80);
}

Test(session, lift_refused_after_the_transaction_starts_from_the_first_profile)
{
  start();
  boot();
  T.cp->profile_strategy = 2;   /* a TxProfile worked, its session is over */
  lift(1, 0);
  expect_json(expect_call("ClearChargingProfile", NULL),
              "{\"id\":12,\"connectorId\":1,\"chargingProfilePurpose\":"
              "\"TxProfile\",\"stackLevel\":0}");
  answer_last_error("NotImplemented");
  int c;
  json_t *prof = profile_of(expect_call("SetChargingProfile", NULL), &c);
  cr_assert_str_eq(purpose(prof), "ChargePointMaxProfile");
  cr_assert_eq(limit_of(prof), 80.0);
}

Test(session, lift_without_a_limit_before_sends_the_maximum)
{
  start();
  boot();
  cr_assert_eq(lift(1, 0), OCPP_OK);
  int c;
  cr_assert_eq(limit_of(profile_of(expect_call("SetChargingProfile", NULL), &c)),
               80.0);
}

Test(session, lift_timeout_ends_without_fallback)
{
  start();
  boot();
  limit_accepted(1, 10, 0);
  lift(1, 1);
  int n = T.n_frames;
  advance(30000);
  cr_assert_eq(T.n_frames, n);
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_TIMEOUT);
  cr_assert_eq(T.cp->limit_a, 10);
}

Test(session, lift_out_of_range_is_refused)
{
  start();
  boot();
  limit_accepted(1, 10, 0);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT,
                                      .connector = 1, .amps = -1}, 1),
               OCPP_EINVAL);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT,
                                      .connector = 9, .amps = 80}, 1),
               OCPP_EINVAL);
}

/* ---- calls: timeouts, errors, close ------------------------------------- */

Test(session, an_unanswered_call_times_out_and_the_next_goes_out)
{
  start_with((setup_opts){.start_mode = OCPP_START_TAG, .call_timeout = 10});
  boot();
  command((ocpp_command){.kind = OCPP_CMD_UNLOCK, .connector = 1}, 0);
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 1);
  cr_assert_eq(ocpp_session_pending(T.s), 2);
  const char *id;
  expect_call("UnlockConnector", &id);
  char first_id[40];
  snprintf(first_id, sizeof first_id, "%s", id);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T.now.mono_ms + 10000);
  advance(9999);
  cr_assert_eq(T.cb_count[0], 0);
  advance(1);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_TIMEOUT);
  expect_call("Reset", NULL);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T.now.mono_ms + 10000);
  /* the late answer is ignored */
  recvf("[3,\"%s\",{\"status\":\"Unlocked\"}]", first_id);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_count[1], 0);
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
}

Test(session, call_errors_map_to_results)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 0);
  answer_last_error("NotImplemented");
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 1);
  answer_last_error("GenericError");
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 2);
  answer_last_error("NotSupported");
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_NOT_SUPPORTED);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ERROR);
  cr_assert_eq(T.cb_result[2], OCPP_RESULT_NOT_SUPPORTED);
}

Test(session, an_answer_that_fails_the_schema_is_an_error)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 0);
  answer_last("{\"status\":\"Maybe\"}");
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ERROR);
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 1);
  answer_last("{}");
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_ERROR);
}

Test(session, an_answer_with_another_id_is_ignored)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 0);
  recv_text("[3,\"nope\",{\"status\":\"Accepted\"}]");
  recv_text("[4,\"nope\",\"GenericError\",\"\"]");
  cr_assert_eq(T.cb_count[0], 0);
  answer_last("{\"status\":\"Accepted\"}");
  answer_last("{\"status\":\"Accepted\"}"); /* a duplicate answer */
  cr_assert_eq(T.cb_count[0], 1);
}

Test(session, close_finishes_every_call_offline_once)
{
  start();
  boot();
  for (int i = 0; i < 3; i++)
    cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_UNLOCK,
                                        .connector = 1}, i), OCPP_OK);
  cr_assert_eq(ocpp_session_pending(T.s), 3);
  ocpp_session_close(T.s, T.now);
  ocpp_session_close(T.s, T.now);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(T.cb_count[i], 1);
    cr_assert_eq(T.cb_result[i], OCPP_RESULT_OFFLINE);
  }
  cr_assert_eq(ocpp_session_pending(T.s), 0);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_UNLOCK, .connector = 1}, 3),
               OCPP_ENOTCONN);
  cr_assert_eq(T.cb_count[3], 0);
}

Test(session, destroy_finishes_pending_commands_offline)
{
  start();
  boot();
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 0);
  command((ocpp_command){.kind = OCPP_CMD_RESET}, 1);
  ocpp_session_destroy(T.s);
  T.s = NULL;
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_count[1], 1);
  cr_assert_eq(T.cb_result[1], OCPP_RESULT_OFFLINE);
}

Test(session, a_full_queue_refuses_without_a_callback)
{
  start();
  boot();
  int ok = 0, rc = OCPP_OK;
  while ((rc = command((ocpp_command){.kind = OCPP_CMD_RESET}, 0)) == OCPP_OK)
    ok++;
  cr_assert_eq(rc, OCPP_EQUEUEFULL);
  cr_assert_eq(ok, OCPP_MAX_QUEUED_CALLS + 1); /* one in flight */
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(T.cb_count[0], ok);
}

Test(session, a_send_that_fails_finishes_the_command_once)
{
  start();
  boot();
  T.send_rc = -1;
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_RESET}, 0), OCPP_OK);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_ERROR);
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

Test(session, a_close_inside_send_finishes_the_command_offline_once)
{
  start();
  boot();
  T.close_in_send = true;
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_RESET}, 0), OCPP_OK);
  cr_assert_eq(T.cb_count[0], 1);
  cr_assert_eq(T.cb_result[0], OCPP_RESULT_OFFLINE);
  cr_assert_not(ocpp_session_is_open(T.s));
}

Test(session, a_close_while_answering_the_boot_queues_nothing)
{
  start();
  T.close_in_send = true;
  recv_text(BOOT);
  cr_assert_eq(T.n_frames, 1);
  result_of(frame_at(0), "b1");
  cr_assert_eq(ocpp_session_pending(T.s), 0);
}

static int done_count;
static bool done_answered;
static char done_code[32];

static void on_done(void *ud, bool answered, const json_t *payload,
                    const char *error_code)
{
  (void)ud;
  done_count++;
  done_answered = answered;
  snprintf(done_code, sizeof done_code, "%s", error_code ? error_code : "");
  if (answered)
    cr_assert_not_null(payload);
}

Test(session, a_plain_call_reports_its_answer_once)
{
  start();
  boot();
  done_count = 0;
  cr_assert_eq(ocpp_session_call(T.s, "ClearCache", json_object(), on_done,
                                 NULL, T.now), OCPP_OK);
  expect_json(expect_call("ClearCache", NULL), "{}");
  answer_last("{\"status\":\"Accepted\"}");
  cr_assert_eq(done_count, 1);
  cr_assert(done_answered);
  cr_assert_eq(ocpp_session_call(T.s, "ClearCache", json_object(), on_done,
                                 NULL, T.now), OCPP_OK);
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(done_count, 2);
  cr_assert_str_eq(done_code, "Offline");
  cr_assert_eq(ocpp_session_call(T.s, "ClearCache", json_object(), on_done,
                                 NULL, T.now), OCPP_ENOTCONN);
  cr_assert_eq(done_count, 2);
}

Test(session, a_plain_call_that_fails_its_schema_is_an_internal_error)
{
  start();
  boot();
  done_count = 0;
  int n = T.n_frames;
  cr_assert_eq(ocpp_session_call(T.s, "Reset", json_object(), on_done, NULL,
                                 T.now), OCPP_OK);
  cr_assert_eq(T.n_frames, n);
  cr_assert_eq(done_count, 1);
  cr_assert_str_eq(done_code, "InternalError");
}

Test(session, a_reconnect_asks_for_boot_again)
{
  start();
  boot();
  ocpp_session_close(T.s, T.now);
  ocpp_session_open(T.s, T.now);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T.now.mono_ms + 5000);
  int n = T.n_frames;
  advance(5000);
  cr_assert_eq(T.n_frames, n + 1);
  expect_json(expect_call("TriggerMessage", NULL),
              "{\"requestedMessage\":\"BootNotification\"}");
}
