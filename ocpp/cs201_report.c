/* The device model of an OCPP 2.0.1 charger after its boot. The gateway
 * asks for a FullInventory report (the only report base that lists the EVSE
 * and Connector components together with the controllers' variables;
 * SummaryInventory has only availability and problems) and reads its
 * NotifyReport parts: the EVSEs and their connectors, the smart charging
 * rate unit and limits, and the values of the variables it is about to set.
 * A charger that refuses the report, breaks it off or never sends it is
 * read with GetVariables instead; either way SetVariables (only what
 * differs) and the connector states follow. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/cs_common.h"
#include "ocpp/session_impl.h"

/* What the gateway sets after boot; NULL value: meter_sample_interval. */
static const struct {
  const char *component, *variable, *value;
} wanted[] = {
  {"SampledDataCtrlr", "TxUpdatedInterval", NULL},
  {"SampledDataCtrlr", "TxUpdatedMeasurands",
   "Energy.Active.Import.Register,Current.Import,Power.Active.Import,Voltage"},
  {"TxCtrlr", "TxStartPoint", "PowerPathClosed"},
  {"TxCtrlr", "TxStopPoint", "EVConnected,Authorized"},
};

#define N_WANTED (sizeof wanted / sizeof wanted[0])

enum { RATE_A = 1, RATE_W = 2 };

static const char *wanted_value(const ocpp_session *s, size_t i, char *buf,
                                size_t cap)
{
  if (wanted[i].value)
    return wanted[i].value;
  snprintf(buf, cap, "%d", s->cfg.meter_sample_interval);
  return buf;
}

/* A whole decimal number in lo..hi, nothing else. */
static bool parse_int(const char *text, int lo, int hi, int *out)
{
  char *end;
  if (!text || !*text)
    return false;
  long n = strtol(text, &end, 10);
  if (*end || n < lo || n > hi)
    return false;
  *out = (int)n;
  return true;
}

/* The gateway works without these; a refusal is only worth a line.
 * SetVariables answers one status per variable, and the first is shown. */
static void finish_quiet(ocpp_session *s, ocpp_call *call, bool answered,
                         const json_t *payload, const char *error_code)
{
  const json_t *first = json_array_get(json_object_get(payload, "setVariableResult"), 0);
  const char *st = answered ? json_string_value(json_object_get(payload, "status"))
                            : error_code;
  if (!st && answered)
    st = json_string_value(json_object_get(first, "attributeStatus"));
  if (!st)
    st = answered ? "answered" : "?";
  ocpp__session_log(s, OCPP_LOG_INFO, "%s: %s", call->action, st);
}

/* ---- what the gateway learns ------------------------------------------------ */

static void learn_smart_charging(ocpp_session *s, int rate_unit, int stack_level,
                                 int enabled, const char *unit_text)
{
  ocpp_cp *cp = s->cp;
  if (rate_unit > 0)
    cp->watts_only = rate_unit == RATE_W;
  if (stack_level >= 0)
    cp->max_stack_level = stack_level;
  if (enabled >= 0)
    cp->smart_charging = enabled != 0;
  ocpp__session_log(s, OCPP_LOG_INFO, "smart charging: rate unit %s%s",
                    rate_unit > 0 ? unit_text : "unknown (A)",
                    cp->smart_charging ? "" : ", disabled");
}

static int rate_unit_of(const char *text)
{
  if (!text)
    return -1;
  int bits = (strchr(text, 'A') ? RATE_A : 0) | (strchr(text, 'W') ? RATE_W : 0);
  return bits ? bits : -1;
}

/* The EVSEs the report listed: the connector table sized to them, and a
 * line for what the configuration and the charger disagree on, once per
 * change of the charger's EVSE count. */
static void learn_evses(ocpp_session *s)
{
  const ocpp_report201 *r = &s->report;
  ocpp_cp *cp = s->cp;
  if (r->evse_max < 1)
    return;
  bool changed = cp->evse_count != r->evse_max;
  cp->evse_count = r->evse_max;
  cp->number_of_connectors = r->evse_max;
  if (!ocpp__cp_connector(cp, r->evse_max))
    ocpp__session_log(s, OCPP_LOG_ERROR, "connector table for %d EVSEs: out of memory",
                      r->evse_max);
  if (!changed)
    return;
  ocpp__session_log(s, OCPP_LOG_INFO, "the charger has %d EVSE%s", r->evse_max,
                    r->evse_max == 1 ? "" : "s");
  for (int n = r->evse_max + 1; n <= cp->opt.n_connectors; n++)
    ocpp__session_log(s, OCPP_LOG_WARN, "[connector %d] is configured, but the "
                      "charger has no EVSE %d", n, n);
  for (int e = 1; e <= r->evse_max; e++)
    if (r->connectors[e] > 1)
      ocpp__session_log(s, OCPP_LOG_INFO, "EVSE %d has %d connectors: only "
                        "connector 1 is mapped", e, r->connectors[e]);
}

/* ---- after the device model is known ---------------------------------------- */

static void set_variables(ocpp_session *s)
{
  json_t *data = json_array();
  char buf[16];
  for (size_t i = 0; data && i < N_WANTED; i++)
    if (!(s->report.settled & (1u << i)))
      json_array_append_new(data, ocpp__cs201_set_variable(
                                      wanted[i].component, wanted[i].variable,
                                      wanted_value(s, i, buf, sizeof buf)));
  if (data && json_array_size(data) == 0) {
    ocpp__session_log(s, OCPP_LOG_INFO, "SetVariables: nothing to change");
    json_decref(data);
    return;
  }
  json_t *p = data ? json_pack("{s:o}", "setVariableData", data) : NULL;
  ocpp__session_queue(s, "SetVariables", p, finish_quiet, NULL);
}

/* The rest of the configuration, once the gateway knows what it may. */
static void configure_rest(ocpp_session *s)
{
  set_variables(s);
  json_t *p = json_pack("{s:s}", "requestedMessage", "StatusNotification");
  ocpp__session_queue(s, "TriggerMessage", p, finish_quiet, NULL);
  ocpp__session_pump(s);
}

/* ---- the fallback: GetVariables --------------------------------------------- */

static const char *variable_value(const json_t *payload, const char *component,
                                  const char *variable)
{
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(payload, "getVariableResult"), i, r) {
    const char *c = json_string_value(json_object_get(json_object_get(r, "component"), "name"));
    const char *v = json_string_value(json_object_get(json_object_get(r, "variable"), "name"));
    const char *st = json_string_value(json_object_get(r, "attributeStatus"));
    if (c && v && st && strcmp(c, component) == 0 && strcmp(v, variable) == 0 &&
        strcmp(st, "Accepted") == 0)
      return json_string_value(json_object_get(r, "attributeValue"));
  }
  return NULL;
}

/* What the gateway needs to know to send limits: the rate units and the
 * stack levels the charger takes. A charger that rejects the question is
 * sent amps at stack level 0. */
static void finish_get_variables(ocpp_session *s, ocpp_call *call, bool answered,
                                 const json_t *payload, const char *error_code)
{
  (void)call;
  if (!answered) {
    ocpp__session_log(s, OCPP_LOG_INFO, "GetVariables: %s; assuming A", error_code);
  } else {
    const char *unit = variable_value(payload, "SmartChargingCtrlr", "RateUnit");
    const char *level = variable_value(payload, "SmartChargingCtrlr", "ProfileStackLevel");
    const char *enabled = variable_value(payload, "SmartChargingCtrlr", "Enabled");
    learn_smart_charging(s, rate_unit_of(unit), level ? atoi(level) : -1,
                         enabled ? strcmp(enabled, "false") != 0 : -1, unit);
  }
  configure_rest(s);
}

static json_t *get_variable(const char *component, const char *variable)
{
  return json_pack("{s:{s:s},s:{s:s}}", "component", "name", component,
                   "variable", "name", variable);
}

static void get_variables(ocpp_session *s)
{
  json_t *p = json_pack("{s:[o,o,o]}", "getVariableData",
                        get_variable("SmartChargingCtrlr", "RateUnit"),
                        get_variable("SmartChargingCtrlr", "ProfileStackLevel"),
                        get_variable("SmartChargingCtrlr", "Enabled"));
  if (ocpp__session_queue(s, "GetVariables", p, finish_get_variables, NULL) == OCPP_OK)
    ocpp__session_pump(s);
}

/* ---- the report ------------------------------------------------------------- */

/* A report part quiet for longer than a call may take: given up. */
static void arm_wait(ocpp_session *s)
{
  s->role_deadline = s->now.mono_ms + (uint64_t)s->cfg.call_timeout * 1000u;
}

static void finish_base_report(ocpp_session *s, ocpp_call *call, bool answered,
                               const json_t *payload, const char *error_code)
{
  (void)call;
  ocpp_report201 *r = &s->report;
  const char *st = answered ? json_string_value(json_object_get(payload, "status"))
                            : error_code;
  /* the whole report came before its answer */
  if (r->state != OCPP_REPORT_ASKED || !s->open)
    return;
  if (answered && st && strcmp(st, "Accepted") == 0) {
    r->state = OCPP_REPORT_RECEIVING;
    arm_wait(s);
    ocpp__session_log(s, OCPP_LOG_INFO, "GetBaseReport %d: Accepted", r->request_id);
    return;
  }
  r->state = OCPP_REPORT_DONE;
  ocpp__session_log(s, OCPP_LOG_INFO, "GetBaseReport: %s; reading with GetVariables",
                    st ? st : "?");
  get_variables(s);
}

static void read_evse(ocpp_report201 *r, const json_t *evse, const char *variable,
                      const char *value, bool readonly)
{
  (void)variable;
  (void)value;
  (void)readonly;
  int id = ocpp__cs_int(evse, "id", -1);
  if (id < 1 || id > OCPP_MAX_CONNECTORS) {
    r->not_understood++;
    return;
  }
  if (id > r->evse_max)
    r->evse_max = id;
}

static void read_connector(ocpp_report201 *r, const json_t *evse,
                           const char *variable, const char *value, bool readonly)
{
  int id = ocpp__cs_int(evse, "id", -1);
  int connector = ocpp__cs_int(evse, "connectorId", -1);
  if (id < 1 || id > OCPP_MAX_CONNECTORS || connector < 1 || connector > 255) {
    r->not_understood++;
    return;
  }
  read_evse(r, evse, variable, value, readonly);
  if (connector > r->connectors[id])
    r->connectors[id] = (unsigned char)connector;
}

static void read_smart_charging(ocpp_report201 *r, const json_t *evse,
                                const char *variable, const char *value,
                                bool readonly)
{
  (void)readonly;
  /* a limit of one EVSE is not the station's */
  if (evse || !value)
    return;
  int n;
  bool ok = true;
  if (strcmp(variable, "RateUnit") == 0)
    ok = (r->rate_unit = rate_unit_of(value)) > 0;
  else if (strcmp(variable, "ProfileStackLevel") == 0)
    ok = parse_int(value, 0, INT_MAX, &n) && ((r->stack_level = n), true);
  else if (strcmp(variable, "Enabled") == 0)
    ok = (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) &&
         ((r->enabled = strcmp(value, "true") == 0), true);
  if (!ok)
    r->not_understood++;
}

/* A variable the gateway sets: settled when it has the value already (a
 * list: the same members) or cannot be written. */
static void read_wanted(ocpp_session *s, const json_t *evse, const char *component,
                        const char *variable, const char *value, bool readonly)
{
  ocpp_report201 *r = &s->report;
  if (evse)
    return;
  for (size_t i = 0; i < N_WANTED; i++) {
    if (strcmp(wanted[i].component, component) != 0 ||
        strcmp(wanted[i].variable, variable) != 0)
      continue;
    char buf[16];
    const char *want = wanted_value(s, i, buf, sizeof buf);
    bool same = value && (wanted[i].value
                              ? ocpp__cs_list_includes(value, want) &&
                                    ocpp__cs_list_includes(want, value)
                              : strcmp(value, want) == 0);
    if (same || readonly)
      r->settled |= 1u << i;
    int n;
    if (!wanted[i].value && value && parse_int(value, 0, INT_MAX, &n))
      r->sample_interval = n;
  }
}

typedef void (*entry_reader)(ocpp_report201 *r, const json_t *evse,
                             const char *variable, const char *value,
                             bool readonly);

static const struct {
  const char *component;
  entry_reader read;
} readers[] = {
  {"Connector", read_connector},
  {"EVSE", read_evse},
  {"SmartChargingCtrlr", read_smart_charging},
};

/* The Actual attribute of a report entry (an attribute without a type is
 * Actual), or NULL. */
static const json_t *actual_attribute(const json_t *entry)
{
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(entry, "variableAttribute"), i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    if (!type || strcmp(type, "Actual") == 0)
      return a;
  }
  return NULL;
}

static void read_entry(ocpp_session *s, const json_t *entry)
{
  const json_t *component = json_object_get(entry, "component");
  const char *name = ocpp__cs_str(component, "name");
  const char *variable = ocpp__cs_str(json_object_get(entry, "variable"), "name");
  const json_t *evse = json_object_get(component, "evse");
  const json_t *attr = actual_attribute(entry);
  const char *value = json_string_value(json_object_get(attr, "value"));
  const char *mutability = json_string_value(json_object_get(attr, "mutability"));
  bool readonly = mutability && strcmp(mutability, "ReadOnly") == 0;
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
    if (strcmp(readers[i].component, name) == 0)
      readers[i].read(&s->report, evse, variable, value, readonly);
  read_wanted(s, evse, name, variable, value, readonly);
}

bool ocpp__cs201_report_part(ocpp_session *s, const json_t *req, bool *last)
{
  ocpp_report201 *r = &s->report;
  *last = false;
  if ((r->state != OCPP_REPORT_ASKED && r->state != OCPP_REPORT_RECEIVING) ||
      ocpp__cs_int(req, "requestId", -1) != r->request_id)
    return false;
  int seq = ocpp__cs_int(req, "seqNo", -1);
  if (r->parts && seq < r->next_seq) {
    ocpp__session_log(s, OCPP_LOG_INFO, "report %d part %d seen before: ignored",
                      r->request_id, seq);
    return true;
  }
  if (seq != r->next_seq)
    ocpp__session_log(s, OCPP_LOG_WARN, "report %d: part %d after %d, %d missing",
                      r->request_id, seq, r->next_seq - 1, seq - r->next_seq);
  r->next_seq = seq + 1;
  r->parts++;
  size_t i;
  const json_t *entry;
  json_array_foreach(json_object_get(req, "reportData"), i, entry)
    read_entry(s, entry);
  if (json_is_true(json_object_get(req, "tbc"))) {
    arm_wait(s);
    return true;
  }
  /* the rest runs once this part is answered */
  r->state = OCPP_REPORT_DONE;
  s->role_deadline = 0;
  *last = true;
  return true;
}

static void report_applied(ocpp_session *s, bool complete)
{
  ocpp_report201 *r = &s->report;
  ocpp__session_log(s, complete ? OCPP_LOG_INFO : OCPP_LOG_WARN,
                    "report %d %s after %d part%s", r->request_id,
                    complete ? "complete" : "broken off", r->parts,
                    r->parts == 1 ? "" : "s");
  if (r->not_understood)
    ocpp__session_log(s, OCPP_LOG_INFO, "report %d: %d entr%s not understood, ignored",
                      r->request_id, r->not_understood,
                      r->not_understood == 1 ? "y" : "ies");
  learn_evses(s);
  if (r->sample_interval >= 0)
    ocpp__session_log(s, OCPP_LOG_INFO, "TxUpdatedInterval %d s", r->sample_interval);
  if (r->rate_unit < 0) {
    ocpp__session_log(s, OCPP_LOG_INFO, "report %d without SmartChargingCtrlr.RateUnit: "
                      "reading with GetVariables", r->request_id);
    get_variables(s);
    return;
  }
  learn_smart_charging(s, r->rate_unit, r->stack_level, r->enabled,
                       r->rate_unit == RATE_W ? "W" : r->rate_unit == RATE_A ? "A" : "A,W");
  configure_rest(s);
}

void ocpp__cs201_report_end(ocpp_session *s)
{
  if (s->report.state == OCPP_REPORT_DONE)
    report_applied(s, true);
}

void ocpp__cs201_report_tick(ocpp_session *s)
{
  ocpp_report201 *r = &s->report;
  if (!s->role_deadline || s->now.mono_ms < s->role_deadline)
    return;
  s->role_deadline = 0;
  if (r->state != OCPP_REPORT_RECEIVING)
    return;
  r->state = OCPP_REPORT_DONE;
  ocpp__session_log(s, OCPP_LOG_WARN, "report %d: no part for %d s", r->request_id,
                    s->cfg.call_timeout);
  report_applied(s, false);
}

void ocpp__cs201_configure_after_boot(ocpp_session *s)
{
  if (s->configured_after_boot)
    return;
  s->configured_after_boot = true;
  s->report = (ocpp_report201){
    .state = OCPP_REPORT_ASKED,
    .request_id = ocpp__session_next_reservation_id(s),
    .rate_unit = -1, .stack_level = -1, .enabled = -1, .sample_interval = -1,
  };
  json_t *p = json_pack("{s:i,s:s}", "requestId", s->report.request_id,
                        "reportBase", "FullInventory");
  if (ocpp__session_queue(s, "GetBaseReport", p, finish_base_report, NULL) == OCPP_OK)
    ocpp__session_pump(s);
}
