/* Calls to a charger: one in flight per charger, the rest queued, each with
 * call_timeout. The public commands build their payload, and their
 * completion maps the charger's status to an ocpp_result, with the
 * fallbacks real chargers need (charging profiles, connector 0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/internal.h"
#include "ocpp/lenient.h"
#include "ocpp/schema.h"

/* Extra field the commands need on a call. */
#define CALL_STATUS(payload) json_string_value(json_object_get((payload), "status"))

/* ---- the queue ---------------------------------------------------------- */

static void call_free(ocpp_call *call)
{
  if (!call)
    return;
  json_decref(call->payload);
  free(call);
}

static void send_next(ocpp_conn *c);

static bool send_call(ocpp_conn *c, ocpp_call *call)
{
  ocpp_server *srv = c->srv;
  const char *cid = call->cp ? call->cp->opt.id : NULL;
  ocpp_schema_fault fault;
  if (ocpp_schema_validate(call->action, OCPP_SCHEMA_REQUEST, call->payload,
                           &fault) != 0) {
    ocpp__log(srv, OCPP_LOG_ERROR, cid, "internal: %s fails the schema at %s: %s",
              call->action, fault.path, fault.message);
    return false;
  }
  char *text = ocpp_rpc_encode_call(call->id, call->action, call->payload);
  if (!text)
    return false;
  if (srv->opt.trace)
    ocpp__log(srv, OCPP_LOG_DEBUG, cid, "send %s", text);
  int rc = ocpp__conn_send_text(c, text);
  free(text);
  if (rc != 0)
    return false;
  c->inflight = call;
  c->call_deadline = ocpp__now_ms(srv) + (uint64_t)srv->opt.call_timeout * 1000u;
  ocpp__conn_rearm(c);
  return true;
}

static void finish_call(ocpp_call *call, ocpp_result transport,
                        const json_t *payload, const char *error_code)
{
  call->done(call->cp, call, transport == OCPP_RESULT_ACCEPTED, payload,
             transport == OCPP_RESULT_ACCEPTED ? NULL
             : error_code ? error_code
             : transport == OCPP_RESULT_TIMEOUT ? "Timeout"
             : transport == OCPP_RESULT_OFFLINE ? "Offline" : "Error");
  call_free(call);
}

static void send_next(ocpp_conn *c)
{
  while (!c->inflight && c->queue_head && c->state == OCPP_CONN_OPEN) {
    ocpp_call *call = c->queue_head;
    c->queue_head = call->next;
    if (!c->queue_head)
      c->queue_tail = NULL;
    c->queued--;
    call->next = NULL;
    if (!send_call(c, call))
      finish_call(call, OCPP_RESULT_ERROR, NULL, "InternalError");
  }
}

int ocpp__call(ocpp_cp *cp, const char *action, json_t *payload,
               ocpp_call_done done, ocpp_command_cb cb, void *cb_data,
               ocpp_call **out)
{
  ocpp_conn *c = cp->conn;
  if (out)
    *out = NULL;
  if (!payload)
    return OCPP_ENOMEM;
  if (!c || c->state != OCPP_CONN_OPEN) {
    json_decref(payload);
    return OCPP_ENOTCONN;
  }
  if (c->queued >= OCPP_MAX_QUEUED_CALLS) {
    json_decref(payload);
    return OCPP_EQUEUEFULL;
  }
  ocpp_call *call = calloc(1, sizeof *call);
  if (!call) {
    json_decref(payload);
    return OCPP_ENOMEM;
  }
  call->cp = cp;
  call->payload = payload;
  call->done = done;
  call->cb = cb;
  call->cb_data = cb_data;
  snprintf(call->action, sizeof call->action, "%s", action);
  snprintf(call->id, sizeof call->id, "%u", ++c->next_call_id);
  if (out)
    *out = call;
  if (c->queue_tail)
    c->queue_tail->next = call;
  else
    c->queue_head = call;
  c->queue_tail = call;
  c->queued++;
  /* Sending happens on the next step of this function, never before the
   * caller had the chance to fill in the call's fields. */
  return OCPP_OK;
}

/* Starts sending what ocpp__call queued, once the caller has set it up. */
static int submit(ocpp_cp *cp, int rc)
{
  if (rc == OCPP_OK && cp->conn)
    send_next(cp->conn);
  return rc;
}

static bool valid_answer(ocpp_cp *cp, const ocpp_call *call, json_t *payload)
{
  for (int round = 0; round < OCPP_LENIENT_MAX_REPAIRS; round++) {
    ocpp_schema_fault fault;
    if (ocpp_schema_validate(call->action, OCPP_SCHEMA_RESPONSE, payload,
                             &fault) == 0)
      return true;
    char what[160];
    unsigned notes = 0;
    if (ocpp_lenient_repair(call->action, OCPP_SCHEMA_RESPONSE, payload,
                            &fault, &notes, what, sizeof what) != 0) {
      ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id,
                "answer to %s is invalid: %s at %s: %s", call->action,
                fault.code, fault.path, fault.message);
      return false;
    }
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "answer to %s: %s",
              call->action, what);
  }
  return false;
}

void ocpp__calls_on_response(ocpp_cp *cp, ocpp_conn *c, const ocpp_rpc_frame *f)
{
  ocpp_call *call = c->inflight;
  if (!call || strcmp(call->id, f->id) != 0) {
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id,
              "answer with unexpected id \"%s\" ignored", f->id);
    return;
  }
  c->inflight = NULL;
  c->call_deadline = 0;
  ocpp__conn_rearm(c);
  if (f->type == OCPP_RPC_RESULT) {
    if (valid_answer(cp, call, f->payload))
      finish_call(call, OCPP_RESULT_ACCEPTED, f->payload, NULL);
    else
      finish_call(call, OCPP_RESULT_ERROR, NULL, "FormationViolation");
  } else {
    ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "%s answered with %s: %s",
              call->action, f->error_code ? f->error_code : "?",
              f->error_description ? f->error_description : "");
    finish_call(call, OCPP_RESULT_ERROR, NULL,
                f->error_code ? f->error_code : "GenericError");
  }
  send_next(c);
}

void ocpp__calls_on_timeout(ocpp_cp *cp, ocpp_conn *c)
{
  ocpp_call *call = c->inflight;
  if (!call)
    return;
  c->inflight = NULL;
  ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id, "%s: no answer within %d s",
            call->action, cp->srv->opt.call_timeout);
  finish_call(call, OCPP_RESULT_TIMEOUT, NULL, NULL);
  send_next(c);
}

void ocpp__calls_fail_all(ocpp_conn *c)
{
  /* detach first: completions may queue new calls (they fail at once,
   * since the connection is no longer the charger's) */
  ocpp_call *inflight = c->inflight;
  ocpp_call *queue = c->queue_head;
  c->inflight = NULL;
  c->queue_head = c->queue_tail = NULL;
  c->queued = 0;
  c->call_deadline = 0;
  if (inflight)
    finish_call(inflight, OCPP_RESULT_OFFLINE, NULL, NULL);
  while (queue) {
    ocpp_call *next = queue->next;
    finish_call(queue, OCPP_RESULT_OFFLINE, NULL, NULL);
    queue = next;
  }
}

/* ---- result mapping ----------------------------------------------------- */

static ocpp_result result_of_error(const char *error_code)
{
  static const struct { const char *code; ocpp_result r; } map[] = {
    {"Timeout", OCPP_RESULT_TIMEOUT},
    {"Offline", OCPP_RESULT_OFFLINE},
    {"NotImplemented", OCPP_RESULT_NOT_SUPPORTED},
    {"NotSupported", OCPP_RESULT_NOT_SUPPORTED},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (error_code && strcmp(error_code, map[i].code) == 0)
      return map[i].r;
  return OCPP_RESULT_ERROR;
}

/* Maps the "status" of an answer: accepted_names count as ACCEPTED,
 * "NotSupported" as NOT_SUPPORTED, everything else as REJECTED. */
static ocpp_result result_of_status(const json_t *payload,
                                    const char *const *accepted_names)
{
  const char *st = CALL_STATUS(payload);
  if (!st)
    return OCPP_RESULT_ERROR;
  for (size_t i = 0; accepted_names[i]; i++)
    if (strcmp(st, accepted_names[i]) == 0)
      return OCPP_RESULT_ACCEPTED;
  if (strcmp(st, "NotSupported") == 0 || strcmp(st, "NotImplemented") == 0)
    return OCPP_RESULT_NOT_SUPPORTED;
  return OCPP_RESULT_REJECTED;
}

static void report(ocpp_call *call, ocpp_result r)
{
  if (call->cb)
    call->cb(call->cb_data, r);
}

static const char *const accepted_only[] = {"Accepted", NULL};

static void done_simple(ocpp_cp *cp, ocpp_call *call, bool answered,
                        const json_t *payload, const char *error_code)
{
  ocpp_result r = answered ? result_of_status(payload, accepted_only)
                           : result_of_error(error_code);
  ocpp__log(cp->srv, r == OCPP_RESULT_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "%s: %s", call->action, ocpp_result_name(r));
  report(call, r);
}

/* ---- lookups shared by the commands ------------------------------------- */

static int find_online(ocpp_server *srv, const char *id, ocpp_cp **out)
{
  if (!srv || !id)
    return OCPP_EINVAL;
  ocpp_cp *cp = ocpp__find_cp(srv, id);
  if (!cp)
    return OCPP_EUNKNOWN;
  if (!cp->conn || cp->conn->state != OCPP_CONN_OPEN)
    return OCPP_ENOTCONN;
  *out = cp;
  return OCPP_OK;
}

static int connector_count(const ocpp_cp *cp)
{
  int n = cp->opt.n_connectors;
  if (cp->number_of_connectors > n)
    n = cp->number_of_connectors;
  return n > OCPP_MAX_CONNECTORS ? OCPP_MAX_CONNECTORS : n;
}

static int check_connector(const ocpp_cp *cp, int connector, bool allow_zero)
{
  if (connector < (allow_zero ? 0 : 1) || connector > connector_count(cp))
    return OCPP_EINVAL;
  return OCPP_OK;
}

/* The charger must be online and have the connector (0 = whole charger
 * where allow_zero). */
static int find_connector(ocpp_server *srv, const char *id, int connector,
                          bool allow_zero, ocpp_cp **out)
{
  int rc = find_online(srv, id, out);
  return rc == OCPP_OK ? check_connector(*out, connector, allow_zero) : rc;
}

/* ---- remote start / stop ------------------------------------------------ */

int ocpp_remote_start(ocpp_server *srv, const char *charger_id, int connector,
                      const char *id_tag, ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, false, &cp);
  if (rc != OCPP_OK)
    return rc;
  const char *tag = id_tag && *id_tag ? id_tag : cp->opt.remote_tag;
  if (strlen(tag) > 20)
    return OCPP_EINVAL;
  json_t *p = json_pack("{s:i,s:s}", "connectorId", connector, "idTag", tag);
  return submit(cp, ocpp__call(cp, "RemoteStartTransaction", p, done_simple, cb,
                               user_data, NULL));
}

int ocpp_remote_stop(ocpp_server *srv, const char *charger_id, int connector,
                     ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, false, &cp);
  if (rc != OCPP_OK)
    return rc;
  int32_t tx = cp->conn_state[connector].tx_id;
  if (!tx)
    return OCPP_ESTATE;
  json_t *p = json_pack("{s:i}", "transactionId", tx);
  return submit(cp, ocpp__call(cp, "RemoteStopTransaction", p, done_simple, cb,
                               user_data, NULL));
}

void ocpp__cp_auto_start(ocpp_cp *cp, int connector)
{
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "connector %d: vehicle plugged in, starting (start_mode auto)",
            connector);
  ocpp_remote_start(cp->srv, cp->opt.id, connector, cp->opt.remote_tag, NULL,
                    NULL);
}

/* ---- availability ------------------------------------------------------- */

static json_t *availability_payload(int connector, bool operative)
{
  return json_pack("{s:i,s:s}", "connectorId", connector, "type",
                   operative ? "Operative" : "Inoperative");
}

static void done_availability(ocpp_cp *cp, ocpp_call *call, bool answered,
                              const json_t *payload, const char *error_code)
{
  static const char *const ok[] = {"Accepted", "Scheduled", NULL};
  ocpp_result r = answered ? result_of_status(payload, ok)
                           : result_of_error(error_code);
  /* Single-connector chargers often refuse connector 0 (the whole
   * charger); the one connector means the same thing to the user. */
  if ((r == OCPP_RESULT_REJECTED || r == OCPP_RESULT_NOT_SUPPORTED ||
       r == OCPP_RESULT_ERROR) &&
      call->connector == 0 && connector_count(cp) == 1) {
    ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
              "ChangeAvailability on connector 0 refused: trying connector 1");
    ocpp_call *retry;
    int rc = ocpp__call(cp, "ChangeAvailability",
                        availability_payload(1, call->operative),
                        done_availability, call->cb, call->cb_data, &retry);
    if (rc == OCPP_OK) {
      retry->connector = 1;
      retry->operative = call->operative;
      return; /* sent by the queue once this call is finished */
    }
  }
  ocpp__log(cp->srv, r == OCPP_RESULT_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "ChangeAvailability connector %d %s: %s",
            call->connector, call->operative ? "Operative" : "Inoperative",
            ocpp_result_name(r));
  report(call, r);
}

int ocpp_change_availability(ocpp_server *srv, const char *charger_id,
                             int connector, bool operative,
                             ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, true, &cp);
  if (rc != OCPP_OK)
    return rc;
  ocpp_call *call;
  rc = ocpp__call(cp, "ChangeAvailability",
                  availability_payload(connector, operative), done_availability,
                  cb, user_data, &call);
  if (rc == OCPP_OK) {
    call->connector = connector;
    call->operative = operative;
  }
  return submit(cp, rc);
}

/* ---- unlock, reserve, cancel, reset, trigger ---------------------------- */

static void done_unlock(ocpp_cp *cp, ocpp_call *call, bool answered,
                        const json_t *payload, const char *error_code)
{
  static const char *const ok[] = {"Unlocked", NULL};
  ocpp_result r = answered ? result_of_status(payload, ok)
                           : result_of_error(error_code);
  ocpp__log(cp->srv, r == OCPP_RESULT_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "UnlockConnector: %s", ocpp_result_name(r));
  report(call, r);
}

int ocpp_unlock(ocpp_server *srv, const char *charger_id, int connector,
                ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, false, &cp);
  if (rc != OCPP_OK)
    return rc;
  json_t *p = json_pack("{s:i}", "connectorId", connector);
  return submit(cp, ocpp__call(cp, "UnlockConnector", p, done_unlock, cb,
                               user_data, NULL));
}

static void done_reserve(ocpp_cp *cp, ocpp_call *call, bool answered,
                         const json_t *payload, const char *error_code)
{
  ocpp_result r = answered ? result_of_status(payload, accepted_only)
                           : result_of_error(error_code);
  if (r == OCPP_RESULT_ACCEPTED)
    cp->conn_state[call->connector].reservation_id = call->attempt;
  ocpp__log(cp->srv, r == OCPP_RESULT_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "ReserveNow connector %d: %s%s%s", call->connector,
            ocpp_result_name(r), answered ? " " : "",
            answered ? CALL_STATUS(payload) : "");
  report(call, r);
}

int ocpp_reserve(ocpp_server *srv, const char *charger_id, int connector,
                 const char *id_tag, int expiry_s, ocpp_command_cb cb,
                 void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, false, &cp);
  if (rc != OCPP_OK)
    return rc;
  if (expiry_s <= 0)
    return OCPP_EINVAL;
  const char *tag = id_tag && *id_tag ? id_tag : cp->opt.remote_tag;
  if (strlen(tag) > 20)
    return OCPP_EINVAL;
  char expiry[OCPP_TIME_STRLEN];
  ocpp_time_format(time(NULL) + expiry_s, expiry);
  int reservation = srv->next_reservation_id++;
  json_t *p = json_pack("{s:i,s:s,s:s,s:i}", "connectorId", connector,
                        "expiryDate", expiry, "idTag", tag, "reservationId",
                        reservation);
  ocpp_call *call;
  rc = ocpp__call(cp, "ReserveNow", p, done_reserve, cb, user_data, &call);
  if (rc == OCPP_OK) {
    call->connector = connector;
    call->attempt = reservation;
  }
  return submit(cp, rc);
}

static void done_cancel(ocpp_cp *cp, ocpp_call *call, bool answered,
                        const json_t *payload, const char *error_code)
{
  ocpp_result r = answered ? result_of_status(payload, accepted_only)
                           : result_of_error(error_code);
  ocpp_connector_state *s = &cp->conn_state[call->connector];
  /* Rejected means the charger no longer holds it (expired or used) */
  if (answered && s->reservation_id == call->attempt)
    s->reservation_id = 0;
  ocpp__log(cp->srv, r == OCPP_RESULT_ACCEPTED ? OCPP_LOG_INFO : OCPP_LOG_WARN,
            cp->opt.id, "CancelReservation connector %d: %s", call->connector,
            ocpp_result_name(r));
  report(call, r);
}

int ocpp_cancel_reservation(ocpp_server *srv, const char *charger_id,
                            int connector, ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, false, &cp);
  if (rc != OCPP_OK)
    return rc;
  int reservation = cp->conn_state[connector].reservation_id;
  if (!reservation)
    return OCPP_ESTATE;
  json_t *p = json_pack("{s:i}", "reservationId", reservation);
  ocpp_call *call;
  rc = ocpp__call(cp, "CancelReservation", p, done_cancel, cb, user_data, &call);
  if (rc == OCPP_OK) {
    call->connector = connector;
    call->attempt = reservation;
  }
  return submit(cp, rc);
}

int ocpp_reset(ocpp_server *srv, const char *charger_id, bool hard,
               ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_online(srv, charger_id, &cp);
  if (rc != OCPP_OK)
    return rc;
  json_t *p = json_pack("{s:s}", "type", hard ? "Hard" : "Soft");
  return submit(cp, ocpp__call(cp, "Reset", p, done_simple, cb, user_data, NULL));
}

static const char *const trigger_names[] = {
  "BootNotification", "DiagnosticsStatusNotification",
  "FirmwareStatusNotification", "Heartbeat", "MeterValues",
  "StatusNotification", NULL
};

int ocpp_trigger(ocpp_server *srv, const char *charger_id, int connector,
                 const char *message, ocpp_command_cb cb, void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, true, &cp);
  if (rc != OCPP_OK)
    return rc;
  bool known = false;
  for (size_t i = 0; message && trigger_names[i]; i++)
    known = known || strcmp(message, trigger_names[i]) == 0;
  if (!known)
    return OCPP_EINVAL;
  json_t *p = json_pack("{s:s}", "requestedMessage", message);
  if (p && connector > 0)
    json_object_set_new(p, "connectorId", json_integer(connector));
  return submit(cp, ocpp__call(cp, "TriggerMessage", p, done_simple, cb,
                               user_data, NULL));
}

void ocpp__cp_request_boot(ocpp_cp *cp)
{
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
            "no BootNotification after connecting: asking for one");
  ocpp_trigger(cp->srv, cp->opt.id, 0, "BootNotification", NULL, NULL);
}

/* ---- current limit ------------------------------------------------------ */

typedef enum {
  PROFILE_CHARGE_POINT_MAX,  /* whole charger, connector 0 */
  PROFILE_TX_DEFAULT,        /* default for new and running transactions */
  PROFILE_TX,                /* the running transaction only */
  PROFILE_STRATEGIES
} profile_strategy;

/* The schema wants the limit to be a multipleOf 0.1. Strict peers test that
 * as (limit / 0.1) being a whole number in binary floating point, which a
 * third of all tenths fail (10.2 / 0.1 = 101.99999999999999). Take the
 * nearest tenth that passes, stepping down so the limit never rises;
 * whole numbers always pass. */
double ocpp_limit_as_sent(double value)
{
  double tenth = round(value * 10.0) / 10.0;
  for (int step = 0; step < 10 && tenth > 0; step++) {
    double q = tenth / 0.1;
    if (q == floor(q))
      return tenth;
    tenth = (round(tenth * 10.0) - 1.0) / 10.0;
  }
  return floor(value);
}

static json_t *profile_payload(const ocpp_cp *cp, profile_strategy s,
                               int connector, double amps)
{
  static const char *const purpose[] = {"ChargePointMaxProfile",
                                        "TxDefaultProfile", "TxProfile"};
  double limit = amps;
  const char *unit = "A";
  if (cp->watts_only) {
    limit = amps * cp->opt.voltage * cp->opt.phases;
    unit = "W";
  }
  limit = ocpp_limit_as_sent(limit);
  int cid = s == PROFILE_CHARGE_POINT_MAX ? 0 : connector;
  if (s == PROFILE_TX && cid < 1)
    return NULL;
  json_t *profile = json_pack(
    "{s:i,s:i,s:s,s:s,s:{s:s,s:[{s:i,s:f}]}}", "chargingProfileId", 1 + (int)s,
    "stackLevel", 0, "chargingProfilePurpose", purpose[s],
    "chargingProfileKind", "Relative", "chargingSchedule", "chargingRateUnit",
    unit, "chargingSchedulePeriod", "startPeriod", 0, "limit", limit);
  if (!profile)
    return NULL;
  if (s == PROFILE_TX) {
    int32_t tx = cp->conn_state[cid].tx_id;
    if (!tx) {
      json_decref(profile);
      return NULL;
    }
    json_object_set_new(profile, "transactionId", json_integer(tx));
  }
  return json_pack("{s:i,s:o}", "connectorId", cid, "csChargingProfiles", profile);
}

static int send_profile(ocpp_cp *cp, int first, int connector, double amps,
                        ocpp_command_cb cb, void *cb_data);

static void done_profile(ocpp_cp *cp, ocpp_call *call, bool answered,
                         const json_t *payload, const char *error_code)
{
  ocpp_result r = answered ? result_of_status(payload, accepted_only)
                           : result_of_error(error_code);
  if (r == OCPP_RESULT_ACCEPTED) {
    cp->profile_strategy = call->attempt;
    cp->limit_a = call->amps;
    ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
              "current limit %.1f A set (%s)", call->amps,
              json_string_value(json_object_get(
                json_object_get(call->payload, "csChargingProfiles"),
                "chargingProfilePurpose")));
    report(call, r);
    return;
  }
  bool try_next = r == OCPP_RESULT_REJECTED || r == OCPP_RESULT_NOT_SUPPORTED ||
                  (r == OCPP_RESULT_ERROR && answered == false &&
                   error_code && strcmp(error_code, "Timeout") != 0 &&
                   strcmp(error_code, "Offline") != 0);
  if (try_next && call->attempt + 1 < PROFILE_STRATEGIES &&
      send_profile(cp, call->attempt + 1, call->connector, call->amps,
                   call->cb, call->cb_data) == OCPP_OK)
    return;
  ocpp__log(cp->srv, OCPP_LOG_WARN, cp->opt.id,
            "current limit %.1f A not set: %s", call->amps, ocpp_result_name(r));
  report(call, r);
}

/* Queues the first strategy from `first` on that can be expressed now. */
static int send_profile(ocpp_cp *cp, int first, int connector, double amps,
                        ocpp_command_cb cb, void *cb_data)
{
  for (int s = first; s < PROFILE_STRATEGIES; s++) {
    json_t *p = profile_payload(cp, (profile_strategy)s, connector, amps);
    if (!p)
      continue;
    ocpp_call *call;
    int rc = ocpp__call(cp, "SetChargingProfile", p, done_profile, cb, cb_data,
                        &call);
    if (rc != OCPP_OK)
      return rc;
    call->attempt = s;
    call->connector = connector;
    call->amps = amps;
    return OCPP_OK;
  }
  return OCPP_ESTATE;
}

int ocpp_set_current_limit(ocpp_server *srv, const char *charger_id,
                           int connector, double amps, ocpp_command_cb cb,
                           void *user_data)
{
  ocpp_cp *cp;
  int rc = find_connector(srv, charger_id, connector, true, &cp);
  if (rc != OCPP_OK)
    return rc;
  if (!(amps >= 0 && amps <= 1000))
    return OCPP_EINVAL;
  int first = cp->profile_strategy >= 0 ? cp->profile_strategy : 0;
  rc = send_profile(cp, first, connector, amps, cb, user_data);
  if (rc == OCPP_ESTATE && first > 0)
    rc = send_profile(cp, 0, connector, amps, cb, user_data);
  return submit(cp, rc);
}

/* ---- configuration after boot ------------------------------------------- */

static const char wanted_measurands[] =
  "Energy.Active.Import.Register,Current.Import,Power.Active.Import";

static void done_quiet(ocpp_cp *cp, ocpp_call *call, bool answered,
                       const json_t *payload, const char *error_code)
{
  /* the gateway works without these; a refusal is only worth a line */
  const char *st = answered ? CALL_STATUS(payload) : error_code;
  const char *key = json_string_value(json_object_get(call->payload, "key"));
  ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id, "%s%s%s: %s", call->action,
            key ? " " : "", key ? key : "", st ? st : "?");
}

static void change_config(ocpp_cp *cp, const char *key, const char *value)
{
  json_t *p = json_pack("{s:s,s:s}", "key", key, "value", value);
  ocpp__call(cp, "ChangeConfiguration", p, done_quiet, NULL, NULL, NULL);
}

static bool measurands_present(const char *current)
{
  /* every wanted measurand in the comma list, in any order */
  char want[sizeof wanted_measurands];
  memcpy(want, wanted_measurands, sizeof want);
  char *save = NULL;
  for (char *m = strtok_r(want, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
    const char *p = current;
    bool found = false;
    size_t ml = strlen(m);
    while (p && *p && !found) {
      while (*p == ' ' || *p == ',')
        p++;
      const char *e = strchr(p, ',');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      while (len && p[len - 1] == ' ')
        len--;
      found = len == ml && strncmp(p, m, ml) == 0;
      p = e;
    }
    if (!found)
      return false;
  }
  return true;
}

typedef struct {
  const char *key;
  const char *value;
  bool readonly;
} config_entry;

static config_entry config_lookup(const json_t *payload, const char *key)
{
  config_entry e = {key, NULL, false};
  size_t i;
  const json_t *kv;
  json_array_foreach(json_object_get(payload, "configurationKey"), i, kv) {
    const char *name = json_string_value(json_object_get(kv, "key"));
    if (!name || strcmp(name, key) != 0)
      continue;
    e.value = json_string_value(json_object_get(kv, "value"));
    e.readonly = json_is_true(json_object_get(kv, "readonly"));
  }
  return e;
}

static void learn_capabilities(ocpp_cp *cp, const json_t *payload)
{
  config_entry n = config_lookup(payload, "NumberOfConnectors");
  if (n.value && atoi(n.value) > 0)
    cp->number_of_connectors = atoi(n.value);
  config_entry lvl = config_lookup(payload, "ChargeProfileMaxStackLevel");
  if (lvl.value)
    cp->max_stack_level = atoi(lvl.value);
  config_entry unit = config_lookup(payload, "ChargingScheduleAllowedChargingRateUnit");
  if (unit.value)
    cp->watts_only = strstr(unit.value, "Power") && !strstr(unit.value, "Current");
  config_entry prof = config_lookup(payload, "SupportedFeatureProfiles");
  if (prof.value)
    cp->smart_charging = strstr(prof.value, "SmartCharging") != NULL;
}

static void done_get_configuration(ocpp_cp *cp, ocpp_call *call, bool answered,
                                   const json_t *payload,
                                   const char *error_code)
{
  (void)call;
  char interval[16];
  snprintf(interval, sizeof interval, "%d", cp->srv->opt.meter_sample_interval);
  if (!answered) {
    ocpp__log(cp->srv, OCPP_LOG_INFO, cp->opt.id,
              "GetConfiguration: %s; configuring blind", error_code);
    change_config(cp, "MeterValuesSampledData", wanted_measurands);
    change_config(cp, "MeterValueSampleInterval", interval);
  } else {
    learn_capabilities(cp, payload);
    config_entry md = config_lookup(payload, "MeterValuesSampledData");
    /* Only change what differs: some chargers reboot on every change of
     * their measurand list. */
    if (!md.readonly && !(md.value && measurands_present(md.value)))
      change_config(cp, "MeterValuesSampledData", wanted_measurands);
    config_entry iv = config_lookup(payload, "MeterValueSampleInterval");
    if (!iv.readonly && !(iv.value && strcmp(iv.value, interval) == 0))
      change_config(cp, "MeterValueSampleInterval", interval);
  }
  json_t *p = json_pack("{s:s}", "requestedMessage", "StatusNotification");
  ocpp__call(cp, "TriggerMessage", p, done_quiet, NULL, NULL, NULL);
}

void ocpp__cp_configure_after_boot(ocpp_cp *cp)
{
  if (!cp->conn || cp->conn->configured_after_boot)
    return;
  cp->conn->configured_after_boot = true;
  json_t *p = json_pack("{s:[s,s,s,s,s,s]}", "key", "NumberOfConnectors",
                        "SupportedFeatureProfiles", "ChargeProfileMaxStackLevel",
                        "ChargingScheduleAllowedChargingRateUnit",
                        "MeterValuesSampledData", "MeterValueSampleInterval");
  submit(cp, ocpp__call(cp, "GetConfiguration", p, done_get_configuration, NULL,
                        NULL, NULL));
}

const char *ocpp_command_name(ocpp_command_kind kind)
{
  static const char *const names[OCPP_CMD_COUNT] = {
    [OCPP_CMD_REMOTE_START] = "RemoteStart",
    [OCPP_CMD_REMOTE_STOP] = "RemoteStop",
    [OCPP_CMD_CHANGE_AVAILABILITY] = "ChangeAvailability",
    [OCPP_CMD_UNLOCK] = "Unlock",
    [OCPP_CMD_RESERVE] = "Reserve",
    [OCPP_CMD_CANCEL_RESERVATION] = "CancelReservation",
    [OCPP_CMD_CURRENT_LIMIT] = "SetCurrentLimit",
    [OCPP_CMD_RESET] = "Reset",
    [OCPP_CMD_TRIGGER] = "Trigger",
  };
  return (unsigned)kind < OCPP_CMD_COUNT ? names[kind] : NULL;
}

int ocpp_server_command(ocpp_server *srv, const char *charger_id,
                        const ocpp_command *cmd, ocpp_command_cb cb,
                        void *user_data)
{
  if (!cmd)
    return OCPP_EINVAL;
  switch (cmd->kind) {
  case OCPP_CMD_REMOTE_START:
    return ocpp_remote_start(srv, charger_id, cmd->connector, cmd->id_tag, cb,
                             user_data);
  case OCPP_CMD_REMOTE_STOP:
    return ocpp_remote_stop(srv, charger_id, cmd->connector, cb, user_data);
  case OCPP_CMD_CHANGE_AVAILABILITY:
    return ocpp_change_availability(srv, charger_id, cmd->connector,
                                    cmd->operative, cb, user_data);
  case OCPP_CMD_UNLOCK:
    return ocpp_unlock(srv, charger_id, cmd->connector, cb, user_data);
  case OCPP_CMD_RESERVE:
    return ocpp_reserve(srv, charger_id, cmd->connector, cmd->id_tag,
                        cmd->expiry_s, cb, user_data);
  case OCPP_CMD_CANCEL_RESERVATION:
    return ocpp_cancel_reservation(srv, charger_id, cmd->connector, cb,
                                   user_data);
  case OCPP_CMD_CURRENT_LIMIT:
    return ocpp_set_current_limit(srv, charger_id, cmd->connector, cmd->amps,
                                  cb, user_data);
  case OCPP_CMD_RESET:
    return ocpp_reset(srv, charger_id, cmd->hard, cb, user_data);
  case OCPP_CMD_TRIGGER:
    return ocpp_trigger(srv, charger_id, cmd->connector, cmd->message, cb,
                        user_data);
  case OCPP_CMD_COUNT:
    break;
  }
  return OCPP_EINVAL;
}
