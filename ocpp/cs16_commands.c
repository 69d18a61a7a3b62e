/* The central system's calls to a 1.6 charger. Every command of ocpp.h is
 * one row of the table below: how its payload is built, which answer
 * statuses count as accepted, and what follows the answer (the fallbacks
 * real chargers need: charging profile variants, connector 0 of a
 * one-connector charger). One completion maps every answer to an
 * ocpp_result. The boot request is the role's own call; the configuration
 * after boot is in cs16_config.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/cs_common.h"
#include "ocpp/session_impl.h"

#define CALL_STATUS(payload) json_string_value(json_object_get((payload), "status"))

static const ocpp_command_row *row_of(const ocpp_session *s,
                                     ocpp_command_kind kind);

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

/* accepted names count as ACCEPTED ("RebootRequired" as REBOOT_REQUIRED:
 * whoever asked for the change must learn that it waits for a reboot),
 * "NotSupported" as NOT_SUPPORTED, every other status as REJECTED. */
static ocpp_result result_of_status(const json_t *payload,
                                    const char *const *accepted)
{
  const char *st = CALL_STATUS(payload);
  /* 2.0.1 SetVariables: one status per variable, and one variable sent */
  if (!st)
    st = json_string_value(json_object_get(
        json_array_get(json_object_get(payload, "setVariableResult"), 0),
        "attributeStatus"));
  if (!st)
    return OCPP_RESULT_ERROR;
  for (size_t i = 0; accepted[i]; i++)
    if (strcmp(st, accepted[i]) == 0)
      return strcmp(st, "RebootRequired") == 0 ? OCPP_RESULT_REBOOT_REQUIRED
                                               : OCPP_RESULT_ACCEPTED;
  if (strcmp(st, "NotSupported") == 0 || strcmp(st, "NotImplemented") == 0 ||
      strcmp(st, "UnknownComponent") == 0 || strcmp(st, "UnknownVariable") == 0 ||
      strcmp(st, "NotSupportedAttributeType") == 0)
    return OCPP_RESULT_NOT_SUPPORTED;
  return OCPP_RESULT_REJECTED;
}

static void log_result(ocpp_session *s, const ocpp_call *call, ocpp_result r,
                       const json_t *payload)
{
  char detail[64] = "";
  const char *status = payload ? CALL_STATUS(payload) : NULL;
  if (call->row->detail)
    snprintf(detail, sizeof detail, " connector %d", call->connector);
  if (call->row->kind == OCPP_CMD_CHANGE_AVAILABILITY)
    snprintf(detail, sizeof detail, " connector %d %s", call->connector,
             call->operative ? "Operative" : "Inoperative");
  bool taken = r == OCPP_RESULT_ACCEPTED || r == OCPP_RESULT_REBOOT_REQUIRED;
  ocpp__session_log(s, taken ? OCPP_LOG_INFO : OCPP_LOG_WARN,
                    "%s%s: %s%s%s", call->action, detail, ocpp_result_name(r),
                    status && r == OCPP_RESULT_REJECTED ? " " : "",
                    status && r == OCPP_RESULT_REJECTED ? status : "");
}

/* The one completion of every command. */
static void command_finish(ocpp_session *s, ocpp_call *call, bool answered,
                           const json_t *payload, const char *error_code)
{
  const ocpp_command_row *row = call->row;
  ocpp_result r = answered ? result_of_status(payload, row->accepted)
                           : result_of_error(error_code);
  if (row->after && row->after(s, call, r, answered ? payload : NULL))
    return;
  /* both limit kinds log their own outcome, fallbacks included */
  if (row->kind != OCPP_CMD_CURRENT_LIMIT && row->kind != OCPP_CMD_LIFT_LIMIT)
    log_result(s, call, r, answered ? payload : NULL);
  if (call->cb)
    call->cb(call->cb_data, r);
}

/* ---- payloads ----------------------------------------------------------- */

static const char *tag_or_remote(const ocpp_session *s, const char *id_tag)
{
  return id_tag && *id_tag ? id_tag : s->cp->opt.remote_tag;
}

static json_t *p_remote_start(ocpp_session *s, const ocpp_command *cmd,
                              ocpp_call *call, int *rc)
{
  (void)call;
  const char *tag = tag_or_remote(s, cmd->id_tag);
  if (strlen(tag) > 20) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  return json_pack("{s:i,s:s}", "connectorId", cmd->connector, "idTag", tag);
}

static json_t *p_remote_stop(ocpp_session *s, const ocpp_command *cmd,
                             ocpp_call *call, int *rc)
{
  (void)call;
  int32_t tx = ocpp__cp_connector_peek(s->cp, cmd->connector)->tx_id;
  if (!tx) {
    *rc = OCPP_ESTATE;
    return NULL;
  }
  return json_pack("{s:i}", "transactionId", tx);
}

static json_t *p_availability(ocpp_session *s, const ocpp_command *cmd,
                              ocpp_call *call, int *rc)
{
  (void)s;
  (void)rc;
  call->operative = cmd->operative;
  return json_pack("{s:i,s:s}", "connectorId", cmd->connector, "type",
                   cmd->operative ? "Operative" : "Inoperative");
}

static json_t *p_connector(ocpp_session *s, const ocpp_command *cmd,
                           ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  (void)rc;
  return json_pack("{s:i}", "connectorId", cmd->connector);
}

static json_t *p_reserve(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_call *call, int *rc)
{
  const char *tag = tag_or_remote(s, cmd->id_tag);
  if (cmd->expiry_s <= 0 || strlen(tag) > 20) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  char expiry[OCPP_TIME_STRLEN];
  ocpp_time_format(s->now.wall + cmd->expiry_s, expiry);
  call->attempt = ocpp__session_next_reservation_id(s);
  return json_pack("{s:i,s:s,s:s,s:i}", "connectorId", cmd->connector,
                   "expiryDate", expiry, "idTag", tag, "reservationId",
                   call->attempt);
}

static json_t *p_cancel(ocpp_session *s, const ocpp_command *cmd,
                        ocpp_call *call, int *rc)
{
  int reservation =
      ocpp__cp_connector_peek(s->cp, cmd->connector)->reservation_id;
  if (!reservation) {
    *rc = OCPP_ESTATE;
    return NULL;
  }
  call->attempt = reservation;
  return json_pack("{s:i}", "reservationId", reservation);
}

static json_t *p_reset(ocpp_session *s, const ocpp_command *cmd,
                       ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  (void)rc;
  return json_pack("{s:s}", "type", cmd->hard ? "Hard" : "Soft");
}

static json_t *p_trigger(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_call *call, int *rc)
{
  static const char *const names[] = {
    "BootNotification", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues",
    "StatusNotification", NULL
  };
  (void)s;
  (void)call;
  bool known = false;
  for (size_t i = 0; cmd->message && names[i]; i++)
    known = known || strcmp(cmd->message, names[i]) == 0;
  if (!known) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  json_t *p = json_pack("{s:s}", "requestedMessage", cmd->message);
  if (p && cmd->connector > 0)
    json_object_set_new(p, "connectorId", json_integer(cmd->connector));
  return p;
}

static json_t *p_configuration(ocpp_session *s, const ocpp_command *cmd,
                               ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  if (!cmd->key || !cmd->value || !cmd->key[0] || strlen(cmd->key) > 50 ||
      strlen(cmd->value) > 500) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  return json_pack("{s:s,s:s}", "key", cmd->key, "value", cmd->value);
}

json_t *ocpp__command_no_fields(ocpp_session *s, const ocpp_command *cmd,
                                ocpp_call *call, int *rc)
{
  (void)s;
  (void)cmd;
  (void)call;
  (void)rc;
  return json_object();
}

/* ---- current limit ------------------------------------------------------ */

typedef enum {
  PROFILE_CHARGE_POINT_MAX,  /* whole charger, connector 0 */
  PROFILE_TX_DEFAULT,        /* default for new and running transactions */
  PROFILE_TX,                /* the running transaction only */
  PROFILE_STRATEGIES
} profile_strategy;

static const char *const profile_purpose[PROFILE_STRATEGIES] = {
  "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"};

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

/* The profile of strategy st, or NULL when it cannot be expressed now (a
 * TxProfile without a transaction). */
static json_t *profile_payload(const ocpp_cp *cp, profile_strategy st,
                               int connector, double amps)
{
  double limit = amps;
  const char *unit = "A";
  if (cp->watts_only) {
    limit = amps * cp->opt.voltage * cp->opt.phases;
    unit = "W";
  }
  limit = ocpp_limit_as_sent(limit);
  int cid = st == PROFILE_CHARGE_POINT_MAX ? 0 : connector;
  int32_t tx = st == PROFILE_TX && cid >= 1 ? ocpp__cp_connector_peek(cp, cid)->tx_id : 0;
  if (st == PROFILE_TX && !tx)
    return NULL;
  json_t *profile = json_pack(
    "{s:i,s:i,s:s,s:s,s:{s:s,s:[{s:i,s:f}]}}", "chargingProfileId",
    ocpp__command_profile_id((int)st, cid),
    "stackLevel", 0, "chargingProfilePurpose", profile_purpose[st],
    "chargingProfileKind", "Relative", "chargingSchedule", "chargingRateUnit",
    unit, "chargingSchedulePeriod", "startPeriod", 0, "limit", limit);
  if (profile && tx)
    json_object_set_new(profile, "transactionId", json_integer(tx));
  return profile ? json_pack("{s:i,s:o}", "connectorId", cid,
                             "csChargingProfiles", profile)
                 : NULL;
}

/* On a charger with more than one connector, the charger-wide profile
 * would hold one connector's limit against all the others. */
static int first_strategy(const ocpp_cp *cp, int connector, int attempt)
{
  if (attempt == PROFILE_CHARGE_POINT_MAX && connector > 0 &&
      ocpp__cp_connector_count(cp) > 1)
    return PROFILE_TX_DEFAULT;
  return attempt;
}

/* The first strategy from call->attempt on that can be expressed now. */
static json_t *p_limit(ocpp_session *s, const ocpp_command *cmd,
                       ocpp_call *call, int *rc)
{
  if (!(cmd->amps >= 0 && cmd->amps <= 1000)) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  call->amps = cmd->amps;
  int first = first_strategy(s->cp, cmd->connector, call->attempt);
  for (int st = first; st < PROFILE_STRATEGIES; st++) {
    json_t *p = profile_payload(s->cp, (profile_strategy)st, cmd->connector,
                                cmd->amps);
    if (p) {
      call->attempt = st;
      return p;
    }
  }
  *rc = OCPP_ESTATE;
  return NULL;
}

static ocpp_command limit_command(const ocpp_call *call)
{
  return (ocpp_command){.kind = OCPP_CMD_CURRENT_LIMIT,
                        .connector = call->connector, .amps = call->amps};
}

/* Refused variants are tried in turn; a lost connection or a timeout ends
 * the command, since the next variant would meet the same fate. */
static bool after_limit(ocpp_session *s, ocpp_call *call, ocpp_result r,
                        const json_t *payload)
{
  (void)payload;
  if (r == OCPP_RESULT_ACCEPTED) {
    s->cp->profile_strategy = call->attempt;
    s->cp->limit_a = call->amps;
    ocpp__session_log(s, OCPP_LOG_INFO, "current limit %.1f A set (%s)",
                      call->amps, profile_purpose[call->attempt]);
    return false;
  }
  bool try_next = r == OCPP_RESULT_REJECTED || r == OCPP_RESULT_NOT_SUPPORTED ||
                  r == OCPP_RESULT_ERROR;
  ocpp_command cmd = limit_command(call);
  if (try_next && call->attempt + 1 < PROFILE_STRATEGIES &&
      ocpp__command_queue(s, call->row, &cmd, call->attempt + 1, call->cb,
                    call->cb_data) == OCPP_OK)
    return true;
  ocpp__session_log(s, OCPP_LOG_WARN, "current limit %.1f A not set: %s",
                    call->amps, ocpp_result_name(r));
  return false;
}

/* Ids unique on the charger, so that the profile of one connector never
 * replaces another's and a ClearChargingProfile takes back only this
 * server's: 1 for the whole charger, 10 x connector + variant else. */
int ocpp__command_profile_id(int strategy, int connector)
{
  return strategy == 0 ? 1 : 10 * connector + strategy;
}

static json_t *p_lift(ocpp_session *s, const ocpp_command *cmd,
                      ocpp_call *call, int *rc)
{
  int st = s->cp->profile_strategy;
  if (!(cmd->amps >= 0 && cmd->amps <= 1000) || st < 0) {
    *rc = st < 0 ? OCPP_ESTATE : OCPP_EINVAL;
    return NULL;
  }
  st = first_strategy(s->cp, cmd->connector, st);
  call->amps = cmd->amps;
  call->attempt = st;
  int cid = st == PROFILE_CHARGE_POINT_MAX ? 0 : cmd->connector;
  return json_pack("{s:i,s:i,s:s,s:i}", "id",
                   ocpp__command_profile_id(st, cid), "connectorId", cid,
                   "chargingProfilePurpose", profile_purpose[st],
                   "stackLevel", 0);
}

/* A charger without ClearChargingProfile gets the limit as a profile at
 * the new maximum, which ends in the same current; a lost connection or a
 * timeout ends the command, as for the limit. */
bool ocpp__command_after_lift(ocpp_session *s, ocpp_call *call, ocpp_result r,
                              const json_t *payload)
{
  (void)payload;
  if (r == OCPP_RESULT_ACCEPTED) {
    s->cp->limit_a = -1;
    ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: current limit lifted",
                      call->connector);
    return false;
  }
  if (r == OCPP_RESULT_TIMEOUT || r == OCPP_RESULT_OFFLINE) {
    ocpp__session_log(s, OCPP_LOG_WARN, "connector %d: current limit not "
                      "lifted: %s", call->connector, ocpp_result_name(r));
    return false;
  }
  ocpp__session_log(s, OCPP_LOG_INFO, "connector %d: ClearChargingProfile "
                    "%s: sending %.1f A as the limit instead", call->connector,
                    ocpp_result_name(r), call->amps);
  ocpp_command cmd = {.kind = OCPP_CMD_CURRENT_LIMIT,
                      .connector = call->connector, .amps = call->amps};
  const ocpp_command_row *row = row_of(s, OCPP_CMD_CURRENT_LIMIT);
  int rc = ocpp__command_queue(s, row, &cmd, call->attempt, call->cb,
                               call->cb_data);
  /* a TxProfile's transaction may be over: start from the first variant */
  if (rc == OCPP_ESTATE && call->attempt > 0)
    rc = ocpp__command_queue(s, row, &cmd, 0, call->cb, call->cb_data);
  return rc == OCPP_OK;
}

/* ---- follow-ups of the other commands ----------------------------------- */

/* Single-connector chargers often refuse connector 0 (the whole charger);
 * the one connector means the same thing to the user. */
static bool after_availability(ocpp_session *s, ocpp_call *call, ocpp_result r,
                               const json_t *payload)
{
  (void)payload;
  if (r == OCPP_RESULT_ACCEPTED || r == OCPP_RESULT_TIMEOUT ||
      r == OCPP_RESULT_OFFLINE || call->connector != 0 ||
      ocpp__cp_connector_count(s->cp) != 1)
    return false;
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "ChangeAvailability on connector 0 refused: trying connector 1");
  ocpp_command cmd = {.kind = OCPP_CMD_CHANGE_AVAILABILITY, .connector = 1,
                      .operative = call->operative};
  return ocpp__command_queue(s, call->row, &cmd, 0, call->cb, call->cb_data) == OCPP_OK;
}

bool ocpp__command_after_reserve(ocpp_session *s, ocpp_call *call, ocpp_result r,
                          const json_t *payload)
{
  (void)payload;
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, call->connector);
  if (r == OCPP_RESULT_ACCEPTED && cs)
    cs->reservation_id = call->attempt;
  return false;
}

bool ocpp__command_after_cancel(ocpp_session *s, ocpp_call *call, ocpp_result r,
                         const json_t *payload)
{
  (void)r;
  ocpp_connector_state *cs = ocpp__cp_connector(s->cp, call->connector);
  /* Rejected means the charger no longer holds it (expired or used) */
  if (payload && cs && cs->reservation_id == call->attempt)
    cs->reservation_id = 0;
  return false;
}

/* ---- the table ---------------------------------------------------------- */

static const char *const accepted_only[] = {"Accepted", NULL};
static const char *const availability_ok[] = {"Accepted", "Scheduled", NULL};
static const char *const unlocked[] = {"Unlocked", NULL};
static const char *const configured[] = {"Accepted", "RebootRequired", NULL};
static const char *const cleared[] = {"Accepted", "Unknown", NULL};

static const ocpp_command_row commands[OCPP_CMD_COUNT] = {
  [OCPP_CMD_REMOTE_START] = {OCPP_CMD_REMOTE_START, "RemoteStartTransaction",
                             1, accepted_only, p_remote_start, NULL, false},
  [OCPP_CMD_REMOTE_STOP] = {OCPP_CMD_REMOTE_STOP, "RemoteStopTransaction", 1,
                            accepted_only, p_remote_stop, NULL, false},
  [OCPP_CMD_CHANGE_AVAILABILITY] = {OCPP_CMD_CHANGE_AVAILABILITY,
                                    "ChangeAvailability", 0, availability_ok,
                                    p_availability, after_availability, true},
  [OCPP_CMD_UNLOCK] = {OCPP_CMD_UNLOCK, "UnlockConnector", 1, unlocked,
                       p_connector, NULL, true},
  [OCPP_CMD_RESERVE] = {OCPP_CMD_RESERVE, "ReserveNow", 1, accepted_only,
                        p_reserve, ocpp__command_after_reserve, true},
  [OCPP_CMD_CANCEL_RESERVATION] = {OCPP_CMD_CANCEL_RESERVATION,
                                   "CancelReservation", 1, accepted_only,
                                   p_cancel, ocpp__command_after_cancel, true},
  [OCPP_CMD_CURRENT_LIMIT] = {OCPP_CMD_CURRENT_LIMIT, "SetChargingProfile", 0,
                              accepted_only, p_limit, after_limit, false},
  [OCPP_CMD_RESET] = {OCPP_CMD_RESET, "Reset", -1, accepted_only, p_reset,
                      NULL, false},
  [OCPP_CMD_TRIGGER] = {OCPP_CMD_TRIGGER, "TriggerMessage", 0, accepted_only,
                        p_trigger, NULL, false},
  [OCPP_CMD_CHANGE_CONFIGURATION] = {OCPP_CMD_CHANGE_CONFIGURATION,
                                     "ChangeConfiguration", -1, configured,
                                     p_configuration, NULL, false},
  [OCPP_CMD_CLEAR_CACHE] = {OCPP_CMD_CLEAR_CACHE, "ClearCache", -1,
                            accepted_only, ocpp__command_no_fields, NULL, false},
  [OCPP_CMD_LIFT_LIMIT] = {OCPP_CMD_LIFT_LIMIT, "ClearChargingProfile", 0,
                           cleared, p_lift, ocpp__command_after_lift, true},
};

/* The role's table: a 2.0.1 charger has its own rows (cs201_commands.c). */
static const ocpp_command_row *row_of(const ocpp_session *s,
                                     ocpp_command_kind kind)
{
  const ocpp_command_row *table = s->role->commands ? s->role->commands
                                                    : commands;
  return (unsigned)kind < OCPP_CMD_COUNT ? &table[kind] : NULL;
}

const ocpp_command_row *ocpp__cs16_commands(void)
{
  return commands;
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
    [OCPP_CMD_CHANGE_CONFIGURATION] = "ChangeConfiguration",
    [OCPP_CMD_CLEAR_CACHE] = "ClearCache",
    [OCPP_CMD_LIFT_LIMIT] = "LiftCurrentLimit",
  };
  return (unsigned)kind < OCPP_CMD_COUNT ? names[kind] : NULL;
}

/* Queues row's call for cmd; the payload builder may refuse (EINVAL,
 * ESTATE) before anything is queued. first_attempt: the fallback step to
 * start from. */
int ocpp__command_queue(ocpp_session *s, const ocpp_command_row *row,
                         const ocpp_command *cmd, int first_attempt,
                         ocpp_command_cb cb, void *cb_data)
{
  ocpp_call fields = {.connector = cmd->connector, .attempt = first_attempt};
  int rc = OCPP_ENOMEM;
  json_t *payload = row->payload(s, cmd, &fields, &rc);
  if (!payload)
    return rc;
  ocpp_call *call;
  rc = ocpp__session_queue(s, row->action, payload, command_finish, &call);
  if (rc != OCPP_OK)
    return rc;
  call->row = row;
  call->cb = cb;
  call->cb_data = cb_data;
  call->connector = fields.connector;
  call->attempt = fields.attempt;
  call->amps = fields.amps;
  call->operative = fields.operative;
  return OCPP_OK;
}

static int check_connector(const ocpp_session *s, const ocpp_command_row *row,
                           int connector)
{
  if (row->min_connector < 0)
    return OCPP_OK;
  if (connector < row->min_connector ||
      connector > ocpp__cp_connector_count(s->cp))
    return OCPP_EINVAL;
  return OCPP_OK;
}

int ocpp_session_command(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_command_cb cb, void *user_data, ocpp_clock now)
{
  if (!s || !cmd || !s->cp)
    return OCPP_EINVAL;
  const ocpp_command_row *row = row_of(s, cmd->kind);
  if (!row || !row->action)
    return OCPP_EINVAL;
  if (!s->open)
    return OCPP_ENOTCONN;
  s->now = now;
  ocpp_command c = *cmd;
  /* nothing of this server's to take back: the maximum goes as a limit */
  if (c.kind == OCPP_CMD_LIFT_LIMIT && s->cp->profile_strategy < 0) {
    c.kind = OCPP_CMD_CURRENT_LIMIT;
    row = row_of(s, c.kind);
  }
  if (row->min_connector < 0)
    c.connector = 0;
  int rc = check_connector(s, row, c.connector);
  if (rc != OCPP_OK)
    return rc;
  int first = 0;
  if (row->kind == OCPP_CMD_CURRENT_LIMIT && s->cp->profile_strategy > 0)
    first = s->cp->profile_strategy;
  rc = ocpp__command_queue(s, row, &c, first, cb, user_data);
  /* the variant that worked last may not fit now (a TxProfile without a
   * transaction): start from the first again */
  if (rc == OCPP_ESTATE && first > 0)
    rc = ocpp__command_queue(s, row, &c, 0, cb, user_data);
  if (rc == OCPP_OK)
    ocpp__session_pump(s);
  return rc;
}

void ocpp__cs16_auto_start(ocpp_session *s, int connector)
{
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "connector %d: vehicle plugged in, starting (start_mode auto)",
                    connector);
  ocpp_command cmd = {.kind = OCPP_CMD_REMOTE_START, .connector = connector};
  const ocpp_command_row *row = row_of(s, OCPP_CMD_REMOTE_START);
  if (check_connector(s, row, connector) == OCPP_OK &&
      ocpp__command_queue(s, row, &cmd, 0, NULL, NULL) == OCPP_OK)
    ocpp__session_pump(s);
}

void ocpp__cs16_request_boot(ocpp_session *s)
{
  ocpp__session_log(s, OCPP_LOG_INFO,
                    "no BootNotification after connecting: asking for one");
  ocpp_command cmd = {.kind = OCPP_CMD_TRIGGER, .message = "BootNotification"};
  if (ocpp__command_queue(s, row_of(s, OCPP_CMD_TRIGGER), &cmd, 0, NULL, NULL) == OCPP_OK)
    ocpp__session_pump(s);
}
