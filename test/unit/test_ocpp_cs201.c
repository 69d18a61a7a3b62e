/* The central system role for OCPP 2.0.1 chargers, driven without sockets:
 * a fake clock, a send hook that keeps every frame and checks each CALL
 * the session sends against the 2.0.1 schemas, an event hook, and a store
 * that knows the charger's string transaction ids. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/internal.h"
#include "ocpp/schema.h"
#include "ocpp/session.h"

#define MAX_FRAMES 64
#define MAX_EVENTS 64
#define T0_WALL 1795000000
#define T0_MONO 100000

typedef struct {
  ocpp_event ev;
  char tag[40], charger_tx[40], reason[40];
} event_rec;

static struct {
  ocpp_session *s;
  ocpp_cp *cp;
  ocpp_clock now;
  ocpp_session_counters counters;
  json_t *frames[MAX_FRAMES];
  int n_frames;
  event_rec events[MAX_EVENTS];
  int n_events;
  int errors_logged;        /* ERROR lines: an internal schema failure */
  int32_t next_tx;
  char begun_charger_tx[40];
  double begun_meter_start;
  /* what find_charger_transaction knows */
  char stored_charger_tx[40];
  int32_t stored_tx;
  bool stored_stopped;
  ocpp_result results[8];
  int n_results;
  char logged[16384];       /* every line, one after the other */
} T;

static void record_result(void *ud, ocpp_result r)
{
  (void)ud;
  T.results[T.n_results++] = r;
}

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  json_t *j = json_loadb(text, len, 0, NULL);
  cr_assert_not_null(j, "sent frame is not JSON: %s", text);
  cr_assert_lt(T.n_frames, MAX_FRAMES);
  if (json_integer_value(json_array_get(j, 0)) == 2) {
    ocpp_schema_fault f;
    const char *action = json_string_value(json_array_get(j, 2));
    cr_assert_eq(ocpp_schema_validate_in(OCPP_VERSION_201, action,
                                         OCPP_SCHEMA_REQUEST,
                                         json_array_get(j, 3), &f), 0,
                 "%s fails the 2.0.1 schema at %s: %s", action, f.path, f.message);
  }
  T.frames[T.n_frames++] = j;
  return 0;
}

static void keep(char *dst, size_t cap, const char *src)
{
  snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void on_event(void *ud, const ocpp_event *ev)
{
  (void)ud;
  cr_assert_lt(T.n_events, MAX_EVENTS);
  event_rec *r = &T.events[T.n_events++];
  r->ev = *ev;
  switch (ev->type) {
  case OCPP_EV_TX_STARTED:
    keep(r->tag, sizeof r->tag, ev->tx_started.id_tag);
    keep(r->charger_tx, sizeof r->charger_tx, ev->tx_started.charger_tx_id);
    break;
  case OCPP_EV_TX_STOPPED:
    keep(r->tag, sizeof r->tag, ev->tx_stopped.id_tag);
    keep(r->charger_tx, sizeof r->charger_tx, ev->tx_stopped.charger_tx_id);
    keep(r->reason, sizeof r->reason, ev->tx_stopped.reason);
    break;
  case OCPP_EV_METER:
    keep(r->charger_tx, sizeof r->charger_tx, ev->meter.charger_tx_id);
    break;
  case OCPP_EV_TAG: keep(r->tag, sizeof r->tag, ev->tag.id_tag); break;
  default: break;
  }
}

static void on_log(void *ud, ocpp_log_level level, const char *id, const char *line)
{
  (void)ud;
  (void)id;
  /* the password of a rotation never reaches a log line */
  cr_assert(!strstr(line, "0123456789abcdef"), "secret logged: %s", line);
  size_t used = strlen(T.logged);
  snprintf(T.logged + used, sizeof T.logged - used, "%s\n", line);
  if (level == OCPP_LOG_ERROR) {
    T.errors_logged++;
    fprintf(stderr, "error line: %s\n", line);
  }
}

static int store_begin(void *ud, const char *charger_id, int connector,
                       const char *id_tag, double meter_start, time_t start,
                       const char *charger_tx_id, int32_t *tx_id)
{
  (void)ud;
  (void)charger_id;
  (void)connector;
  (void)id_tag;
  (void)start;
  keep(T.begun_charger_tx, sizeof T.begun_charger_tx, charger_tx_id);
  T.begun_meter_start = meter_start;
  *tx_id = T.next_tx++;
  return 0;
}

static int store_find_charger(void *ud, const char *charger_id,
                              const char *charger_tx_id, int32_t *tx_id,
                              int *connector, double *meter_start, bool *stopped)
{
  (void)ud;
  (void)charger_id;
  if (!T.stored_tx || strcmp(charger_tx_id, T.stored_charger_tx) != 0)
    return -1;
  *tx_id = T.stored_tx;
  *connector = 1;
  *meter_start = 1000;
  *stopped = T.stored_stopped;
  return 0;
}

static uint32_t pending_token;

/* a billing backend's tag: decided later */
static int authorize_later(void *ud, const char *charger_id, const char *tag,
                           uint32_t token, ocpp_auth_status *status)
{
  (void)ud;
  (void)charger_id;
  (void)status;
  if (strcmp(tag, "BACKEND") != 0)
    return OCPP_ENOENT;
  pending_token = token;
  return OCPP_EPENDING;
}

static void start_mode(ocpp_start_mode mode)
{
  memset(&T, 0, sizeof T);
  T.now = (ocpp_clock){.mono_ms = T0_MONO, .wall = T0_WALL};
  T.next_tx = 700;
  static const char *const tags[] = {"04A1B2C3"};
  ocpp_charger_options opt = {
    .id = "CP-1", .start_mode = mode, .tags = tags, .n_tags = 1,
    .remote_tag = "KNX", .n_connectors = 2, .voltage = 230, .phases = 3,
    .version = OCPP_VERSION_201,
  };
  T.cp = ocpp__cp_create(&opt, true);
  cr_assert_not_null(T.cp);
  ocpp_session_config cfg = {
    .send = on_send, .log = on_log, .event = on_event,
    .store = {.begin_transaction = store_begin,
              .find_charger_transaction = store_find_charger},
    .authorize = authorize_later,
    .counters = &T.counters, .log_id = "CP-1", .heartbeat_interval = 300,
    .call_timeout = 30, .meter_sample_interval = 60, .trace = true,
  };
  cr_assert_eq(ocpp_session_create(&ocpp__role_cs201, &cfg, T.cp, &T.s), OCPP_OK);
  ocpp_session_open(T.s, T.now);
}

static void start(void) { start_mode(OCPP_START_TAG); }

static void teardown(void)
{
  ocpp_session_destroy(T.s);
  ocpp__cp_destroy(T.cp);
  for (int i = 0; i < T.n_frames; i++)
    json_decref(T.frames[i]);
  cr_expect_eq(T.errors_logged, 0, "the session logged internal errors");
}

/* ---- driving ----------------------------------------------------------------- */

static void recvf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void recvf(const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ocpp_session_recv(T.s, buf, strlen(buf), T.now);
}

static json_t *last(void)
{
  cr_assert_gt(T.n_frames, 0, "nothing sent");
  return T.frames[T.n_frames - 1];
}

/* The CALLRESULT payload answering id, checked against the 2.0.1 schema of
 * action. */
static json_t *result_for(const char *id, const char *action)
{
  for (int i = T.n_frames - 1; i >= 0; i--) {
    json_t *f = T.frames[i];
    if (strcmp(json_string_value(json_array_get(f, 1)), id) != 0)
      continue;
    cr_assert_eq(json_integer_value(json_array_get(f, 0)), 3,
                 "%s answered with an error: %s", id,
                 json_dumps(f, 0));
    ocpp_schema_fault fault;
    cr_assert_eq(ocpp_schema_validate_in(OCPP_VERSION_201, action,
                                         OCPP_SCHEMA_RESPONSE,
                                         json_array_get(f, 2), &fault), 0,
                 "%s answer fails at %s: %s", action, fault.path, fault.message);
    return json_array_get(f, 2);
  }
  cr_assert_fail("no answer to %s", id);
  return NULL;
}

static const char *error_for(const char *id)
{
  json_t *f = last();
  cr_assert_str_eq(json_string_value(json_array_get(f, 1)), id);
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 4);
  return json_string_value(json_array_get(f, 2));
}

/* The last CALL sent, which must be action. */
static json_t *last_call(const char *action)
{
  for (int i = T.n_frames - 1; i >= 0; i--)
    if (json_integer_value(json_array_get(T.frames[i], 0)) == 2) {
      cr_assert_str_eq(json_string_value(json_array_get(T.frames[i], 2)), action);
      return json_array_get(T.frames[i], 3);
    }
  cr_assert_fail("no CALL sent");
  return NULL;
}

static void answer_call(const char *payload)
{
  for (int i = T.n_frames - 1; i >= 0; i--)
    if (json_integer_value(json_array_get(T.frames[i], 0)) == 2) {
      recvf("[3,\"%s\",%s]", json_string_value(json_array_get(T.frames[i], 1)),
            payload);
      return;
    }
  cr_assert_fail("no CALL to answer");
}

static const event_rec *last_event_of(ocpp_event_type type)
{
  for (int i = T.n_events - 1; i >= 0; i--)
    if (T.events[i].ev.type == type)
      return &T.events[i];
  return NULL;
}

static int count_events(ocpp_event_type type)
{
  int n = 0;
  for (int i = 0; i < T.n_events; i++)
    n += T.events[i].ev.type == type;
  return n;
}

static const char *path_str(json_t *root, const char *a, const char *b)
{
  json_t *v = json_object_get(root, a);
  return json_string_value(b ? json_object_get(v, b) : v);
}

static void boot(void)
{
  recvf("[2,\"b\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":"
        "{\"model\":\"P30\",\"vendorName\":\"KEBA\",\"serialNumber\":\"S1\","
        "\"firmwareVersion\":\"1.2\"}}]");
}

static void status(int evse, const char *st)
{
  recvf("[2,\"s%d%s\",\"StatusNotification\",{\"timestamp\":\"2026-11-22T10:00:00Z\","
        "\"connectorStatus\":\"%s\",\"evseId\":%d,\"connectorId\":1}]", evse, st, st,
        evse);
}

/* A TransactionEvent of transaction TX-9 on EVSE 1. extra: more members. */
static void tx_event(const char *id, const char *type, int seq, const char *extra)
{
  recvf("[2,\"%s\",\"TransactionEvent\",{\"eventType\":\"%s\",\"timestamp\":"
        "\"2026-11-22T10:%02d:00Z\",\"triggerReason\":\"Authorized\",\"seqNo\":%d,"
        "\"transactionInfo\":{\"transactionId\":\"TX-9\"%s},\"evse\":{\"id\":1,"
        "\"connectorId\":1}%s}]", id, type, seq, seq,
        strcmp(type, "Ended") == 0 ? ",\"stoppedReason\":\"EVDisconnected\"" : "",
        extra);
}

#define ENERGY(wh) ",\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\"," \
  "\"sampledValue\":[{\"value\":" #wh ",\"measurand\":\"Energy.Active.Import.Register\"," \
  "\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]"

TestSuite(cs201, .fini = teardown);

/* ---- boot and configuration ---------------------------------------------------- */

static bool logged(const char *text)
{
  return strstr(T.logged, text) != NULL;
}

static int count_calls(const char *action)
{
  int n = 0;
  for (int i = 0; i < T.n_frames; i++)
    n += json_integer_value(json_array_get(T.frames[i], 0)) == 2 &&
         strcmp(json_string_value(json_array_get(T.frames[i], 2)), action) == 0;
  return n;
}

/* The requestId of the GetBaseReport sent after boot. */
static int booted_report_id(void)
{
  boot();
  json_t *get = last_call("GetBaseReport");
  cr_expect_str_eq(path_str(get, "reportBase", NULL), "FullInventory");
  return (int)json_integer_value(json_object_get(get, "requestId"));
}

/* ... which the charger accepts. */
static int accepted_report_id(void)
{
  int id = booted_report_id();
  answer_call("{\"status\":\"Accepted\"}");
  return id;
}

/* One reportData entry: component (with evse, and connector when > 0)
 * and its variable's Actual value. */
#define ENTRY(component, evse, connector, variable, value, mutability) \
  "{\"component\":{\"name\":\"" component "\"" evse_json(evse, connector) "}," \
  "\"variable\":{\"name\":\"" variable "\"},\"variableAttribute\":[{\"type\":" \
  "\"Actual\",\"value\":\"" value "\",\"mutability\":\"" mutability "\"}]}"
#define evse_json(evse, connector) evse_##evse##_##connector
#define evse_0_0 ""
#define evse_1_0 ",\"evse\":{\"id\":1}"
#define evse_2_0 ",\"evse\":{\"id\":2}"
#define evse_99_0 ",\"evse\":{\"id\":99}"
#define evse_1_1 ",\"evse\":{\"id\":1,\"connectorId\":1}"
#define evse_1_2 ",\"evse\":{\"id\":1,\"connectorId\":2}"
#define evse_2_1 ",\"evse\":{\"id\":2,\"connectorId\":1}"

static void report_part(const char *msg_id, int request_id, int seq, bool tbc,
                        const char *entries)
{
  recvf("[2,\"%s\",\"NotifyReport\",{\"requestId\":%d,\"generatedAt\":"
        "\"2026-11-22T10:00:00Z\",\"seqNo\":%d,\"tbc\":%s,\"reportData\":[%s]}]",
        msg_id, request_id, seq, tbc ? "true" : "false", entries);
  result_for(msg_id, "NotifyReport");
}

Test(cs201, boot_is_accepted_and_the_device_model_report_asked, .init = start)
{
  boot();
  json_t *a = result_for("b", "BootNotification");
  cr_expect_str_eq(path_str(a, "status", NULL), "Accepted");
  cr_expect_eq(json_integer_value(json_object_get(a, "interval")), 300);
  const event_rec *e = last_event_of(OCPP_EV_BOOT);
  cr_assert_not_null(e);
  cr_expect_str_eq(T.cp->vendor, "KEBA");
  cr_expect_str_eq(T.cp->model, "P30");
  cr_expect_str_eq(T.cp->serial, "S1");
  json_t *get = last_call("GetBaseReport");
  cr_expect_str_eq(path_str(get, "reportBase", NULL), "FullInventory");
  cr_expect_gt(json_integer_value(json_object_get(get, "requestId")), 0);
}

Test(cs201, a_report_in_several_parts_is_read_and_only_what_differs_set,
     .init = start)
{
  int id = accepted_report_id();
  report_part("r0", id, 0, true,
              ENTRY("EVSE", 1, 0, "AvailabilityState", "Available", "ReadOnly") ","
              ENTRY("Connector", 1, 1, "AvailabilityState", "Available", "ReadOnly") ","
              ENTRY("Connector", 1, 2, "AvailabilityState", "Available", "ReadOnly") ","
              ENTRY("SmartChargingCtrlr", 0, 0, "RateUnit", "W", "ReadOnly"));
  cr_expect_eq(count_calls("SetVariables"), 0, "configured before the last part");
  report_part("r1", id, 1, true,
              ENTRY("EVSE", 2, 0, "Power", "11000", "ReadOnly") ","
              ENTRY("Connector", 2, 1, "ConnectorType", "cType2", "ReadOnly") ","
              ENTRY("SampledDataCtrlr", 0, 0, "TxUpdatedInterval", "60", "ReadWrite") ","
              ENTRY("TxCtrlr", 0, 0, "TxStartPoint", "PowerPathClosed", "ReadWrite"));
  /* a part sent again adds nothing */
  report_part("r1b", id, 1, true, ENTRY("EVSE", 99, 0, "Power", "1", "ReadOnly"));
  report_part("r2", id, 2, false,
              ENTRY("SmartChargingCtrlr", 0, 0, "ProfileStackLevel", "5", "ReadOnly") ","
              ENTRY("TxCtrlr", 0, 0, "TxStopPoint", "Authorized, EVConnected", "ReadWrite") ","
              ENTRY("FooCtrlr", 0, 0, "Bar", "1", "ReadWrite"));
  cr_expect_eq(count_calls("GetVariables"), 0, "the report told everything");
  cr_expect(T.cp->watts_only, "a charger that takes only W is sent W");
  cr_expect_eq(T.cp->max_stack_level, 5);
  cr_expect_eq(T.cp->evse_count, 2);
  cr_expect_eq(T.cp->n_conn_state, 3, "the connector table sized to the EVSEs");
  cr_expect(logged("EVSE 1 has 2 connectors"), "%s", T.logged);
  cr_expect(!logged("not understood"), "%s", T.logged);
  json_t *data = json_object_get(last_call("SetVariables"), "setVariableData");
  cr_assert_eq(json_array_size(data), 1, "only the measurands differ");
  cr_expect_str_eq(path_str(json_array_get(data, 0), "variable", "name"),
                   "TxUpdatedMeasurands");
  answer_call("{\"setVariableResult\":[{\"attributeStatus\":\"Accepted\","
              "\"component\":{\"name\":\"SampledDataCtrlr\"},"
              "\"variable\":{\"name\":\"TxUpdatedMeasurands\"}}]}");
  cr_expect_str_eq(path_str(last_call("TriggerMessage"), "requestedMessage", NULL),
                   "StatusNotification");
}

Test(cs201, a_report_that_has_every_value_already_sets_nothing, .init = start)
{
  int id = accepted_report_id();
  report_part("r0", id, 0, false,
              ENTRY("SmartChargingCtrlr", 0, 0, "RateUnit", "A,W", "ReadOnly") ","
              ENTRY("SampledDataCtrlr", 0, 0, "TxUpdatedInterval", "10", "ReadOnly") ","
              ENTRY("SampledDataCtrlr", 0, 0, "TxUpdatedMeasurands",
                    "Voltage,Energy.Active.Import.Register,Current.Import,"
                    "Power.Active.Import", "ReadWrite") ","
              ENTRY("TxCtrlr", 0, 0, "TxStartPoint", "PowerPathClosed", "ReadWrite") ","
              ENTRY("TxCtrlr", 0, 0, "TxStopPoint", "EVConnected,Authorized", "ReadWrite"));
  cr_expect(!T.cp->watts_only);
  cr_expect_eq(count_calls("SetVariables"), 0, "a read-only or equal value is not set");
  last_call("TriggerMessage");
}

/* The charger refuses the report in each way it can: GetVariables reads
 * what the gateway needs, and the rest follows as without a report. */
static void refused_report_reads_variables(const char *answer)
{
  start();
  boot();
  json_t *get = last_call("GetBaseReport");
  if (answer[0] == '[')
    recvf(answer, json_string_value(json_array_get(T.frames[T.n_frames - 1], 1)));
  else
    answer_call(answer);
  get = last_call("GetVariables");
  cr_expect_eq(json_array_size(json_object_get(get, "getVariableData")), 3, "%s", answer);
  answer_call("{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\","
              "\"attributeValue\":\"W\",\"component\":{\"name\":\"SmartChargingCtrlr\"},"
              "\"variable\":{\"name\":\"RateUnit\"}}]}");
  cr_expect(T.cp->watts_only, "a charger that takes only W is sent W");
  json_t *set = last_call("SetVariables");
  cr_expect_eq(json_array_size(json_object_get(set, "setVariableData")), 4);
  json_t *first = json_array_get(json_object_get(set, "setVariableData"), 0);
  cr_expect_str_eq(path_str(first, "variable", "name"), "TxUpdatedInterval");
  cr_expect_str_eq(path_str(first, "attributeValue", NULL), "60");
  answer_call("{\"setVariableResult\":[{\"attributeStatus\":\"Rejected\","
              "\"component\":{\"name\":\"SampledDataCtrlr\"},"
              "\"variable\":{\"name\":\"TxUpdatedInterval\"}}]}");
  /* a charger that rejects the settings goes on: the status is asked next */
  json_t *trig = last_call("TriggerMessage");
  cr_expect_str_eq(path_str(trig, "requestedMessage", NULL), "StatusNotification");
  teardown();
}

Test(cs201, a_refused_report_reads_the_smart_charging_variables)
{
  refused_report_reads_variables("{\"status\":\"Rejected\"}");
  refused_report_reads_variables("{\"status\":\"NotSupported\"}");
  refused_report_reads_variables("{\"status\":\"EmptyResultSet\"}");
  refused_report_reads_variables("[4,\"%s\",\"NotImplemented\",\"\",{}]");
  start(); /* for the suite's teardown */
}

Test(cs201, a_report_with_garbage_keeps_what_makes_sense, .init = start)
{
  int id = accepted_report_id();
  report_part("r0", id, 0, false,
              ENTRY("EVSE", 99, 0, "Power", "1", "ReadOnly") ","
              ENTRY("EVSE", 0, 0, "Power", "1", "ReadOnly") ","
              ENTRY("Connector", 1, 0, "AvailabilityState", "Available", "ReadOnly") ","
              ENTRY("Connector", 1, 1, "AvailabilityState", "Available", "ReadOnly") ","
              ENTRY("SmartChargingCtrlr", 0, 0, "RateUnit", "kg", "ReadOnly") ","
              ENTRY("SmartChargingCtrlr", 0, 0, "ProfileStackLevel", "lots", "ReadOnly") ","
              ENTRY("SmartChargingCtrlr", 0, 0, "Enabled", "maybe", "ReadOnly") ","
              ENTRY("SampledDataCtrlr", 0, 0, "TxUpdatedInterval", "soon", "ReadWrite") ","
              ENTRY("NoSuchCtrlr", 2, 1, "Whatever", "\\u00e9x", "ReadWrite"));
  cr_expect_eq(T.cp->evse_count, 1);
  cr_expect_eq(T.cp->max_stack_level, -1, "a stack level that is no number is not kept");
  cr_expect(T.cp->smart_charging);
  cr_expect(logged("6 entries not understood"), "%s", T.logged);
  cr_expect(logged("[connector 2] is configured, but the charger has no EVSE 2"),
            "%s", T.logged);
  /* no usable rate unit: asked again the other way */
  last_call("GetVariables");
}

Test(cs201, a_report_that_never_comes_falls_back_to_get_variables, .init = start)
{
  int id = accepted_report_id();
  uint64_t due = ocpp_session_next_deadline(T.s);
  cr_assert_gt(due, T.now.mono_ms);
  T.now.mono_ms = due - 1;
  ocpp_session_tick(T.s, T.now);
  cr_expect_eq(count_calls("GetVariables"), 0, "given up too early");
  T.now.mono_ms = due;
  ocpp_session_tick(T.s, T.now);
  last_call("GetVariables");
  /* a part after that is answered and changes nothing */
  report_part("late", id, 0, false,
              ENTRY("SmartChargingCtrlr", 0, 0, "RateUnit", "W", "ReadOnly"));
  cr_expect(!T.cp->watts_only);
  cr_expect_eq(count_calls("GetVariables"), 1);
}

Test(cs201, a_report_broken_off_keeps_its_evses_and_asks_the_rest, .init = start)
{
  int id = accepted_report_id();
  report_part("r0", id, 0, true, ENTRY("EVSE", 1, 0, "Power", "1", "ReadOnly"));
  T.now.mono_ms = ocpp_session_next_deadline(T.s);
  ocpp_session_tick(T.s, T.now);
  cr_expect_eq(T.cp->evse_count, 1);
  cr_expect(logged("broken off after 1 part"), "%s", T.logged);
  last_call("GetVariables");
}

Test(cs201, a_report_of_another_request_is_only_answered, .init = start)
{
  int id = accepted_report_id();
  report_part("x", id + 100, 0, false, ENTRY("EVSE", 2, 0, "Power", "1", "ReadOnly"));
  cr_expect_eq(T.cp->evse_count, 0);
  cr_expect_eq(count_calls("GetVariables") + count_calls("SetVariables"), 0);
}

Test(cs201, heartbeat_gets_the_time, .init = start)
{
  recvf("[2,\"h\",\"Heartbeat\",{}]");
  cr_expect_str_eq(path_str(result_for("h", "Heartbeat"), "currentTime", NULL),
                   "2026-11-18T11:06:40Z");
}

/* ---- status -------------------------------------------------------------------- */

Test(cs201, connector_status_maps_to_the_nine_states, .init = start)
{
  status(1, "Occupied");
  result_for("s1Occupied", "StatusNotification");
  const event_rec *e = last_event_of(OCPP_EV_STATUS);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.connector, 1);
  cr_expect_eq(e->ev.status.status, OCPP_CP_PREPARING);
  status(2, "Reserved");
  cr_expect_eq(last_event_of(OCPP_EV_STATUS)->ev.status.status, OCPP_CP_RESERVED);
  status(2, "Faulted");
  e = last_event_of(OCPP_EV_STATUS);
  cr_expect_eq(e->ev.status.status, OCPP_CP_FAULTED);
  cr_expect_eq(e->ev.status.error, OCPP_ERR_OTHER_ERROR);
  status(2, "Available");
  e = last_event_of(OCPP_EV_STATUS);
  cr_expect_eq(e->ev.status.status, OCPP_CP_AVAILABLE);
  cr_expect_eq(e->ev.status.error, OCPP_ERR_NO_ERROR);
  int before = count_events(OCPP_EV_STATUS);
  status(2, "Available");
  cr_expect_eq(count_events(OCPP_EV_STATUS), before, "no change, no event");
}

Test(cs201, auto_mode_starts_a_plugged_car_with_the_remote_tag)
{
  start_mode(OCPP_START_AUTO);
  status(1, "Occupied");
  json_t *req = last_call("RequestStartTransaction");
  cr_expect_eq(json_integer_value(json_object_get(req, "evseId")), 1);
  cr_expect_str_eq(path_str(req, "idToken", "idToken"), "KNX");
  cr_expect_str_eq(path_str(req, "idToken", "type"), "Central");
}

Test(cs201, status_of_evse_0_or_another_connector_is_answered_not_mapped, .init = start)
{
  recvf("[2,\"z\",\"StatusNotification\",{\"timestamp\":\"2026-11-22T10:00:00Z\","
        "\"connectorStatus\":\"Occupied\",\"evseId\":1,\"connectorId\":2}]");
  result_for("z", "StatusNotification");
  cr_expect_eq(count_events(OCPP_EV_STATUS), 0);
}

/* ---- tags --------------------------------------------------------------------- */

Test(cs201, authorize_answers_id_token_info, .init = start)
{
  recvf("[2,\"a1\",\"Authorize\",{\"idToken\":{\"idToken\":\"04A1B2C3\","
        "\"type\":\"ISO14443\"}}]");
  cr_expect_str_eq(path_str(result_for("a1", "Authorize"), "idTokenInfo", "status"),
                   "Accepted");
  recvf("[2,\"a2\",\"Authorize\",{\"idToken\":{\"idToken\":\"FFFF\","
        "\"type\":\"ISO14443\"}}]");
  cr_expect_str_eq(path_str(result_for("a2", "Authorize"), "idTokenInfo", "status"),
                   "Invalid");
  const event_rec *e = last_event_of(OCPP_EV_TAG);
  cr_expect_str_eq(e->tag, "FFFF");
  cr_expect_eq(e->ev.tag.result, OCPP_AUTH_INVALID);
}

/* ---- transactions ---------------------------------------------------------------- */

Test(cs201, a_whole_transaction_with_the_chargers_id, .init = start)
{
  status(1, "Occupied");
  tx_event("t0", "Started", 0,
           ",\"idToken\":{\"idToken\":\"04A1B2C3\",\"type\":\"ISO14443\"}" ENERGY(1000));
  json_t *a = result_for("t0", "TransactionEvent");
  cr_expect_str_eq(path_str(a, "idTokenInfo", "status"), "Accepted");
  cr_expect_str_eq(T.begun_charger_tx, "TX-9");
  cr_expect_eq(T.begun_meter_start, 1000);
  const event_rec *e = last_event_of(OCPP_EV_TX_STARTED);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.tx_started.transaction_id, 700);
  cr_expect_str_eq(e->charger_tx, "TX-9");
  cr_expect_str_eq(e->tag, "04A1B2C3");
  cr_expect(!e->ev.tx_started.recovered);

  recvf("[2,\"t1\",\"TransactionEvent\",{\"eventType\":\"Updated\",\"timestamp\":"
        "\"2026-11-22T10:05:00Z\",\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":1,"
        "\"transactionInfo\":{\"transactionId\":\"TX-9\",\"chargingState\":\"Charging\"},"
        "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:05:00Z\",\"sampledValue\":["
        "{\"value\":1.5,\"measurand\":\"Energy.Active.Import.Register\","
        "\"unitOfMeasure\":{\"unit\":\"kWh\"}},"
        "{\"value\":16,\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unitOfMeasure\":{\"unit\":\"A\"}},"
        "{\"value\":11,\"measurand\":\"Power.Active.Import\",\"unitOfMeasure\":{\"unit\":\"W\",\"multiplier\":3}}]}]}]");
  result_for("t1", "TransactionEvent");
  cr_expect_eq(last_event_of(OCPP_EV_STATUS)->ev.status.status, OCPP_CP_CHARGING);
  e = last_event_of(OCPP_EV_METER);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.meter.transaction_id, 700);
  cr_expect_str_eq(e->charger_tx, "TX-9");
  cr_expect_eq(e->ev.meter.energy_wh, 1500);
  cr_expect_eq(e->ev.meter.power_w, 11000);
  cr_expect_eq(e->ev.meter.current_a, 16);
  cr_expect(e->ev.meter.has_session_energy);
  cr_expect_eq(e->ev.meter.session_energy_wh, 500);

  tx_event("t2", "Ended", 2, ENERGY(2500));
  result_for("t2", "TransactionEvent");
  e = last_event_of(OCPP_EV_TX_STOPPED);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.tx_stopped.transaction_id, 700);
  cr_expect_str_eq(e->charger_tx, "TX-9");
  cr_expect_str_eq(e->reason, "EVDisconnected");
  cr_expect(e->ev.tx_stopped.has_session_energy);
  cr_expect_eq(e->ev.tx_stopped.session_energy_wh, 1500);
  cr_expect_eq(last_event_of(OCPP_EV_STATUS)->ev.status.status, OCPP_CP_FINISHING);
  status(1, "Available");
  cr_expect_eq(last_event_of(OCPP_EV_STATUS)->ev.status.status, OCPP_CP_AVAILABLE);
}

Test(cs201, replayed_events_change_nothing, .init = start)
{
  tx_event("t0", "Started", 0, ENERGY(1000));
  tx_event("t0b", "Started", 0, ENERGY(1000));
  result_for("t0b", "TransactionEvent");
  cr_expect_eq(count_events(OCPP_EV_TX_STARTED), 1);
  tx_event("t1", "Ended", 3, ENERGY(1200));
  tx_event("t1b", "Ended", 3, ",\"offline\":true" ENERGY(1200));
  result_for("t1b", "TransactionEvent");
  cr_expect_eq(count_events(OCPP_EV_TX_STOPPED), 1, "an Ended replayed closes once");
  cr_expect_eq(T.next_tx, 701, "one transaction recorded");
}

Test(cs201, an_offline_ended_after_a_restart_closes_the_stored_session, .init = start)
{
  snprintf(T.stored_charger_tx, sizeof T.stored_charger_tx, "TX-9");
  T.stored_tx = 42;
  tx_event("t5", "Ended", 5, ",\"offline\":true" ENERGY(1800));
  result_for("t5", "TransactionEvent");
  const event_rec *s = last_event_of(OCPP_EV_TX_STARTED);
  cr_assert_not_null(s);
  cr_expect(s->ev.tx_started.recovered);
  cr_expect_eq(s->ev.tx_started.transaction_id, 42);
  const event_rec *e = last_event_of(OCPP_EV_TX_STOPPED);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.tx_stopped.transaction_id, 42);
  cr_expect_eq(e->ev.tx_stopped.session_energy_wh, 800);
  cr_expect_eq(T.next_tx, 700, "no new transaction for a known one");
}

Test(cs201, an_ended_the_store_closed_already_is_only_answered, .init = start)
{
  snprintf(T.stored_charger_tx, sizeof T.stored_charger_tx, "TX-9");
  T.stored_tx = 42;
  T.stored_stopped = true;
  tx_event("t5", "Ended", 5, ",\"offline\":true" ENERGY(1800));
  result_for("t5", "TransactionEvent");
  cr_expect_eq(count_events(OCPP_EV_TX_STOPPED), 0);
  cr_expect_eq(count_events(OCPP_EV_TX_STARTED), 0);
}

Test(cs201, a_transaction_without_a_meter_reading_has_no_start, .init = start)
{
  tx_event("t0", "Started", 0, "");
  cr_expect(isnan(T.begun_meter_start));
  tx_event("t1", "Ended", 1, "");
  const event_rec *e = last_event_of(OCPP_EV_TX_STOPPED);
  cr_assert_not_null(e);
  cr_expect(!e->ev.tx_stopped.has_session_energy);
}

/* ---- invalid input -------------------------------------------------------------- */

Test(cs201, a_frame_that_breaks_the_schema_gets_its_error, .init = start)
{
  recvf("[2,\"x1\",\"TransactionEvent\",{\"eventType\":\"Started\"}]");
  cr_expect_str_eq(error_for("x1"), "OccurenceConstraintViolation");
  recvf("[2,\"x2\",\"StatusNotification\",{\"timestamp\":\"2026-11-22T10:00:00Z\","
        "\"connectorStatus\":\"Charging\",\"evseId\":1,\"connectorId\":1}]");
  cr_expect_str_eq(error_for("x2"), "PropertyConstraintViolation");
  recvf("[2,\"x3\",\"StartTransaction\",{}]");
  cr_expect_str_eq(error_for("x3"), "NotImplemented");
  recvf("[2,\"x4\",\"Get15118EVCertificate\",{\"iso15118SchemaVersion\":\"x\","
        "\"action\":\"Install\",\"exiRequest\":\"AA\"}]");
  cr_expect_str_eq(error_for("x4"), "NotSupported");
  cr_expect_eq(count_events(OCPP_EV_TX_STARTED), 0);
}

/* ---- events -------------------------------------------------------------------- */

Test(cs201, a_problem_event_sets_and_clears_the_error_code, .init = start)
{
  status(1, "Available");
  recvf("[2,\"n1\",\"NotifyEvent\",{\"generatedAt\":\"2026-11-22T10:00:00Z\",\"seqNo\":0,"
        "\"eventData\":[{\"eventId\":1,\"timestamp\":\"2026-11-22T10:00:00Z\","
        "\"trigger\":\"Delta\",\"actualValue\":\"true\",\"eventNotificationType\":"
        "\"HardWiredNotification\",\"component\":{\"name\":\"ConnectorPlugRetentionLock\","
        "\"evse\":{\"id\":1}},\"variable\":{\"name\":\"Problem\"}}]}]");
  result_for("n1", "NotifyEvent");
  const event_rec *e = last_event_of(OCPP_EV_STATUS);
  cr_expect_eq(e->ev.status.error, OCPP_ERR_CONNECTOR_LOCK_FAILURE);
  recvf("[2,\"n2\",\"NotifyEvent\",{\"generatedAt\":\"2026-11-22T10:01:00Z\",\"seqNo\":1,"
        "\"eventData\":[{\"eventId\":2,\"timestamp\":\"2026-11-22T10:01:00Z\","
        "\"trigger\":\"Delta\",\"actualValue\":\"false\",\"eventNotificationType\":"
        "\"HardWiredNotification\",\"component\":{\"name\":\"ConnectorPlugRetentionLock\","
        "\"evse\":{\"id\":1}},\"variable\":{\"name\":\"Problem\"}}]}]");
  cr_expect_eq(last_event_of(OCPP_EV_STATUS)->ev.status.error, OCPP_ERR_NO_ERROR);
}

Test(cs201, notifications_are_answered, .init = start)
{
  recvf("[2,\"f\",\"FirmwareStatusNotification\",{\"status\":\"Installed\"}]");
  result_for("f", "FirmwareStatusNotification");
  recvf("[2,\"l\",\"LogStatusNotification\",{\"status\":\"Uploaded\",\"requestId\":3}]");
  result_for("l", "LogStatusNotification");
  recvf("[2,\"e\",\"SecurityEventNotification\",{\"type\":\"ResetOrReboot\","
        "\"timestamp\":\"2026-11-22T10:00:00Z\"}]");
  result_for("e", "SecurityEventNotification");
  recvf("[2,\"r\",\"NotifyReport\",{\"requestId\":1,\"generatedAt\":"
        "\"2026-11-22T10:00:00Z\",\"seqNo\":0}]");
  result_for("r", "NotifyReport");
  recvf("[2,\"d\",\"DataTransfer\",{\"vendorId\":\"com.example\"}]");
  cr_expect_str_eq(path_str(result_for("d", "DataTransfer"), "status", NULL),
                   "UnknownVendorId");
  recvf("[2,\"m\",\"MeterValues\",{\"evseId\":2,\"meterValue\":[{\"timestamp\":"
        "\"2026-11-22T10:00:00Z\",\"sampledValue\":[{\"value\":230.5,\"measurand\":"
        "\"Voltage\"}]}]}]");
  result_for("m", "MeterValues");
  const event_rec *e = last_event_of(OCPP_EV_METER);
  cr_assert_not_null(e);
  cr_expect_eq(e->ev.connector, 2);
  cr_expect_eq(e->ev.meter.voltage_v, 230.5);
}

/* ---- commands ------------------------------------------------------------------- */

static int command(ocpp_command cmd)
{
  return ocpp_session_command(T.s, &cmd, record_result, NULL, T.now);
}

Test(cs201, remote_stop_names_the_chargers_transaction, .init = start)
{
  cr_expect_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_STOP, .connector = 1}),
               OCPP_ESTATE);
  tx_event("t0", "Started", 0, ENERGY(1000));
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_REMOTE_STOP, .connector = 1}),
               OCPP_OK);
  cr_expect_str_eq(path_str(last_call("RequestStopTransaction"), "transactionId", NULL),
                   "TX-9");
  answer_call("{\"status\":\"Accepted\"}");
  cr_expect_eq(T.results[0], OCPP_RESULT_ACCEPTED);
}

Test(cs201, a_current_limit_falls_back_to_the_transactions_profile, .init = start)
{
  tx_event("t0", "Started", 0, ENERGY(1000));
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                                      .amps = 10}), OCPP_OK);
  json_t *p = last_call("SetChargingProfile");
  cr_expect_eq(json_integer_value(json_object_get(p, "evseId")), 1);
  json_t *prof = json_object_get(p, "chargingProfile");
  cr_expect_str_eq(path_str(prof, "chargingProfilePurpose", NULL), "TxDefaultProfile");
  json_t *sched = json_array_get(json_object_get(prof, "chargingSchedule"), 0);
  cr_expect_str_eq(path_str(sched, "chargingRateUnit", NULL), "A");
  cr_expect_eq(json_number_value(json_object_get(
                   json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0),
                   "limit")), 10.0);
  answer_call("{\"status\":\"Rejected\"}");
  prof = json_object_get(last_call("SetChargingProfile"), "chargingProfile");
  cr_expect_str_eq(path_str(prof, "chargingProfilePurpose", NULL), "TxProfile");
  cr_expect_str_eq(path_str(prof, "transactionId", NULL), "TX-9");
  answer_call("{\"status\":\"Accepted\"}");
  cr_expect_eq(T.results[0], OCPP_RESULT_ACCEPTED);
  cr_expect_eq(T.cp->limit_a, 10.0);
}

static void answer_call_error(const char *code)
{
  for (int i = T.n_frames - 1; i >= 0; i--)
    if (json_integer_value(json_array_get(T.frames[i], 0)) == 2) {
      recvf("[4,\"%s\",\"%s\",\"\",{}]",
            json_string_value(json_array_get(T.frames[i], 1)), code);
      return;
    }
  cr_assert_fail("no CALL sent");
}

static void evse_limit_accepted(double amps)
{
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .connector = 1,
                         .amps = amps});
  json_t *prof = json_object_get(last_call("SetChargingProfile"), "chargingProfile");
  cr_expect_eq(json_integer_value(json_object_get(prof, "id")), 11);
  answer_call("{\"status\":\"Accepted\"}");
}

Test(cs201, lifting_a_limit_clears_its_profile, .init = start)
{
  evse_limit_accepted(10);
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT, .connector = 1,
                                      .amps = 80}), OCPP_OK);
  json_t *p = last_call("ClearChargingProfile");
  cr_expect_eq(json_integer_value(json_object_get(p, "chargingProfileId")), 11);
  json_t *crit = json_object_get(p, "chargingProfileCriteria");
  cr_expect_eq(json_integer_value(json_object_get(crit, "evseId")), 1);
  cr_expect_str_eq(path_str(crit, "chargingProfilePurpose", NULL), "TxDefaultProfile");
  cr_expect_eq(json_integer_value(json_object_get(crit, "stackLevel")), 0);
  answer_call("{\"status\":\"Unknown\"}");
  cr_assert_eq(T.n_results, 2);
  cr_expect_eq(T.results[1], OCPP_RESULT_ACCEPTED);
  cr_expect_eq(T.cp->limit_a, -1);
}

Test(cs201, lifting_a_station_limit_names_the_station_profile, .init = start)
{
  command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .amps = 16});
  answer_call("{\"status\":\"Accepted\"}");
  command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT, .amps = 80});
  json_t *p = last_call("ClearChargingProfile");
  cr_expect_eq(json_integer_value(json_object_get(p, "chargingProfileId")), 1);
  cr_expect_str_eq(path_str(json_object_get(p, "chargingProfileCriteria"),
                            "chargingProfilePurpose", NULL),
                   "ChargingStationMaxProfile");
  answer_call("{\"status\":\"Accepted\"}");
  cr_expect_eq(T.results[1], OCPP_RESULT_ACCEPTED);
}

Test(cs201, a_charger_without_clear_gets_the_maximum_as_its_limit, .init = start)
{
  evse_limit_accepted(10);
  command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT, .connector = 1, .amps = 80});
  last_call("ClearChargingProfile");
  answer_call_error("NotSupported");
  cr_assert_eq(T.n_results, 1);
  json_t *prof = json_object_get(last_call("SetChargingProfile"), "chargingProfile");
  cr_expect_str_eq(path_str(prof, "chargingProfilePurpose", NULL), "TxDefaultProfile");
  json_t *sched = json_array_get(json_object_get(prof, "chargingSchedule"), 0);
  cr_expect_eq(json_number_value(json_object_get(
                   json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0),
                   "limit")), 80.0);
  answer_call("{\"status\":\"Accepted\"}");
  cr_assert_eq(T.n_results, 2);
  cr_expect_eq(T.results[1], OCPP_RESULT_ACCEPTED);
  cr_expect_eq(T.cp->limit_a, 80.0);
}

Test(cs201, lifting_before_any_limit_sends_the_maximum, .init = start)
{
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_LIFT_LIMIT, .connector = 1,
                                      .amps = 80}), OCPP_OK);
  last_call("SetChargingProfile");
}

Test(cs201, station_limit_availability_unlock_reset_reserve, .init = start)
{
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT, .amps = 0}), OCPP_OK);
  json_t *p = last_call("SetChargingProfile");
  cr_expect_eq(json_integer_value(json_object_get(p, "evseId")), 0);
  cr_expect_str_eq(path_str(json_object_get(p, "chargingProfile"),
                            "chargingProfilePurpose", NULL), "ChargingStationMaxProfile");
  answer_call("{\"status\":\"Accepted\"}");

  command((ocpp_command){.kind = OCPP_CMD_CHANGE_AVAILABILITY, .connector = 2});
  p = last_call("ChangeAvailability");
  cr_expect_str_eq(path_str(p, "operationalStatus", NULL), "Inoperative");
  cr_expect_eq(json_integer_value(json_object_get(json_object_get(p, "evse"), "id")), 2);
  answer_call("{\"status\":\"Scheduled\"}");
  cr_expect_eq(T.results[1], OCPP_RESULT_ACCEPTED);

  command((ocpp_command){.kind = OCPP_CMD_UNLOCK, .connector = 1});
  p = last_call("UnlockConnector");
  cr_expect_eq(json_integer_value(json_object_get(p, "connectorId")), 1);
  answer_call("{\"status\":\"UnlockFailed\"}");
  cr_expect_eq(T.results[2], OCPP_RESULT_REJECTED);

  command((ocpp_command){.kind = OCPP_CMD_RESET});
  cr_expect_str_eq(path_str(last_call("Reset"), "type", NULL), "OnIdle");
  answer_call("{\"status\":\"Accepted\"}");

  command((ocpp_command){.kind = OCPP_CMD_RESERVE, .connector = 1, .expiry_s = 600});
  p = last_call("ReserveNow");
  cr_expect_str_eq(path_str(p, "idToken", "idToken"), "KNX");
  answer_call("{\"status\":\"Accepted\"}");
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CANCEL_RESERVATION,
                                      .connector = 1}), OCPP_OK);
  last_call("CancelReservation");
}

Test(cs201, configuration_keys_become_variables, .init = start)
{
  command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                         .key = "AuthorizationKey", .value = "0123456789abcdef"});
  json_t *d = json_array_get(json_object_get(last_call("SetVariables"), "setVariableData"), 0);
  cr_expect_str_eq(path_str(d, "component", "name"), "SecurityCtrlr");
  cr_expect_str_eq(path_str(d, "variable", "name"), "BasicAuthPassword");
  answer_call("{\"setVariableResult\":[{\"attributeStatus\":\"Accepted\","
              "\"component\":{\"name\":\"SecurityCtrlr\"},"
              "\"variable\":{\"name\":\"BasicAuthPassword\"}}]}");
  cr_expect_eq(T.results[0], OCPP_RESULT_ACCEPTED);
  command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                         .key = "AlignedDataCtrlr.Interval", .value = "900"});
  d = json_array_get(json_object_get(last_call("SetVariables"), "setVariableData"), 0);
  cr_expect_str_eq(path_str(d, "component", "name"), "AlignedDataCtrlr");
  answer_call("{\"setVariableResult\":[{\"attributeStatus\":\"UnknownVariable\","
              "\"component\":{\"name\":\"AlignedDataCtrlr\"},"
              "\"variable\":{\"name\":\"Interval\"}}]}");
  cr_expect_eq(T.results[1], OCPP_RESULT_NOT_SUPPORTED);
  cr_expect_eq(command((ocpp_command){.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                                      .key = "NoDot", .value = "1"}), OCPP_EINVAL);
}

Test(cs201, clear_cache_is_sent_and_a_rejection_is_only_logged, .init = start)
{
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_CLEAR_CACHE}), OCPP_OK);
  cr_expect_eq(json_object_size(last_call("ClearCache")), 0);
  answer_call("{\"status\":\"Rejected\"}");
  cr_expect_eq(T.results[0], OCPP_RESULT_REJECTED);
  cr_expect(logged("ClearCache: Rejected"), "%s", T.logged);
  cr_expect_eq(ocpp_session_pending(T.s), 0, "nothing follows a rejection");
}

Test(cs201, trigger_names_2_0_1_messages, .init = start)
{
  cr_assert_eq(command((ocpp_command){.kind = OCPP_CMD_TRIGGER, .connector = 1,
                                      .message = "StatusNotification"}), OCPP_OK);
  json_t *p = last_call("TriggerMessage");
  cr_expect_eq(json_integer_value(json_object_get(json_object_get(p, "evse"),
                                                  "connectorId")), 1);
  cr_expect_eq(command((ocpp_command){.kind = OCPP_CMD_TRIGGER,
                                      .message = "DiagnosticsStatusNotification"}),
               OCPP_EINVAL);
}

Test(cs201, a_tag_decided_later_starts_the_transaction_then, .init = start)
{
  tx_event("t0", "Started", 0,
           ",\"idToken\":{\"idToken\":\"BACKEND\",\"type\":\"ISO14443\"}" ENERGY(1000));
  cr_expect_eq(T.n_frames, 0, "answered before the decision");
  cr_expect_eq(count_events(OCPP_EV_TX_STARTED), 0, "recorded before the decision");
  cr_assert_eq(ocpp_session_authorized(T.s, pending_token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_OK);
  cr_expect_str_eq(path_str(result_for("t0", "TransactionEvent"), "idTokenInfo", "status"),
                   "Accepted");
  const event_rec *e = last_event_of(OCPP_EV_TX_STARTED);
  cr_assert_not_null(e);
  cr_expect_str_eq(e->tag, "BACKEND");
  cr_expect_str_eq(e->charger_tx, "TX-9");
}
