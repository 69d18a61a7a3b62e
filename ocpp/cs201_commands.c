/* The central system's calls to an OCPP 2.0.1 charger: the commands of
 * ocpp.h as 2.0.1 messages (one row each, run by the command layer of
 * cs16_commands.c). The device model read and set after a boot is
 * cs201_report.c's. EVSE N is connector N; remote starts and reservations use the
 * charger's remote_tag as an idToken of type Central. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/session_impl.h"

#define ID_TOKEN_MAX 36

static const char *tag_or_remote(const ocpp_session *s, const char *id_tag)
{
  return id_tag && *id_tag ? id_tag : s->cp->opt.remote_tag;
}

static json_t *central_token(const char *tag)
{
  return json_pack("{s:s,s:s}", "idToken", tag, "type", "Central");
}

/* ---- payloads ------------------------------------------------------------- */

static json_t *p_start(ocpp_session *s, const ocpp_command *cmd,
                       ocpp_call *call, int *rc)
{
  (void)call;
  const char *tag = tag_or_remote(s, cmd->id_tag);
  if (!tag || !*tag || strlen(tag) > ID_TOKEN_MAX) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  return json_pack("{s:o,s:i,s:i}", "idToken", central_token(tag),
                   "remoteStartId", ocpp__session_next_reservation_id(s),
                   "evseId", cmd->connector);
}

static json_t *p_stop(ocpp_session *s, const ocpp_command *cmd,
                      ocpp_call *call, int *rc)
{
  (void)call;
  const ocpp_connector_state *cs = ocpp__cp_connector_peek(s->cp, cmd->connector);
  if (!cs->tx_id || !cs->tx_charger_id[0]) {
    *rc = OCPP_ESTATE;
    return NULL;
  }
  return json_pack("{s:s}", "transactionId", cs->tx_charger_id);
}

static json_t *p_availability(ocpp_session *s, const ocpp_command *cmd,
                              ocpp_call *call, int *rc)
{
  (void)s;
  (void)rc;
  call->operative = cmd->operative;
  json_t *p = json_pack("{s:s}", "operationalStatus",
                        cmd->operative ? "Operative" : "Inoperative");
  if (p && cmd->connector > 0)
    json_object_set_new(p, "evse", json_pack("{s:i}", "id", cmd->connector));
  return p;
}

static json_t *p_unlock(ocpp_session *s, const ocpp_command *cmd,
                        ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  (void)rc;
  return json_pack("{s:i,s:i}", "evseId", cmd->connector, "connectorId", 1);
}

static json_t *p_reserve(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_call *call, int *rc)
{
  const char *tag = tag_or_remote(s, cmd->id_tag);
  if (cmd->expiry_s <= 0 || !tag || !*tag || strlen(tag) > ID_TOKEN_MAX) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  char expiry[OCPP_TIME_STRLEN];
  ocpp_time_format(s->now.wall + cmd->expiry_s, expiry);
  call->attempt = ocpp__session_next_reservation_id(s);
  return json_pack("{s:i,s:s,s:o,s:i}", "id", call->attempt, "expiryDateTime",
                   expiry, "idToken", central_token(tag), "evseId",
                   cmd->connector);
}

static json_t *p_cancel(ocpp_session *s, const ocpp_command *cmd,
                        ocpp_call *call, int *rc)
{
  int reservation = ocpp__cp_connector_peek(s->cp, cmd->connector)->reservation_id;
  if (!reservation) {
    *rc = OCPP_ESTATE;
    return NULL;
  }
  call->attempt = reservation;
  return json_pack("{s:i}", "reservationId", reservation);
}

/* OnIdle: the charger waits for its transactions to end, which is what a
 * reset from a wall switch should do; "hard" asks for Immediate. */
static json_t *p_reset(ocpp_session *s, const ocpp_command *cmd,
                       ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  (void)rc;
  return json_pack("{s:s}", "type", cmd->hard ? "Immediate" : "OnIdle");
}

static json_t *p_trigger(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_call *call, int *rc)
{
  static const char *const names[] = {
    "BootNotification", "LogStatusNotification", "FirmwareStatusNotification",
    "Heartbeat", "MeterValues", "SignChargingStationCertificate",
    "SignV2GCertificate", "StatusNotification", "TransactionEvent",
    "SignCombinedCertificate", "PublishFirmwareStatusNotification", NULL
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
  if (p && cmd->connector > 0) {
    json_t *evse = json_pack("{s:i}", "id", cmd->connector);
    /* a StatusNotification is about one connector of the EVSE */
    if (evse && strcmp(cmd->message, "StatusNotification") == 0)
      json_object_set_new(evse, "connectorId", json_integer(1));
    json_object_set_new(p, "evse", evse);
  }
  return p;
}

/* The 1.6 configuration keys the gateway sets, as 2.0.1 variables. */
static const struct {
  const char *key, *component, *variable;
} key_map[] = {
  {"AuthorizationKey", "SecurityCtrlr", "BasicAuthPassword"},
  {"HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval"},
  {"MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval"},
  {"MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands"},
};

json_t *ocpp__cs201_set_variable(const char *component, const char *variable,
                                 const char *value)
{
  return json_pack("{s:s,s:{s:s},s:{s:s}}", "attributeValue", value,
                   "component", "name", component, "variable", "name", variable);
}

/* key is a 1.6 key of key_map or "Component.Variable". */
static json_t *p_configuration(ocpp_session *s, const ocpp_command *cmd,
                               ocpp_call *call, int *rc)
{
  (void)s;
  (void)call;
  if (!cmd->key || !cmd->value || strlen(cmd->value) > 1000) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  for (size_t i = 0; i < sizeof key_map / sizeof key_map[0]; i++)
    if (strcmp(cmd->key, key_map[i].key) == 0)
      return json_pack("{s:[o]}", "setVariableData",
                       ocpp__cs201_set_variable(key_map[i].component, key_map[i].variable,
                                    cmd->value));
  const char *dot = strchr(cmd->key, '.');
  if (!dot || dot == cmd->key || !dot[1] || dot - cmd->key > 50 ||
      strlen(dot + 1) > 50) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  char component[51];
  snprintf(component, sizeof component, "%.*s", (int)(dot - cmd->key), cmd->key);
  return json_pack("{s:[o]}", "setVariableData",
                   ocpp__cs201_set_variable(component, dot + 1, cmd->value));
}

/* ---- current limit ---------------------------------------------------------- */

typedef enum {
  PROFILE_STATION_MAX,       /* whole charger, EVSE 0 */
  PROFILE_TX_DEFAULT,        /* default for the EVSE's transactions */
  PROFILE_TX,                /* the running transaction only */
  PROFILE_STRATEGIES
} profile_strategy;

static const char *const profile_purpose[PROFILE_STRATEGIES] = {
  "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"};

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
  int evse = st == PROFILE_STATION_MAX ? 0 : connector;
  const ocpp_connector_state *cs = ocpp__cp_connector_peek(cp, evse);
  if (st == PROFILE_TX && (evse < 1 || !cs->tx_id || !cs->tx_charger_id[0]))
    return NULL;
  int id = ocpp__command_profile_id((int)st, evse);
  json_t *profile = json_pack(
    "{s:i,s:i,s:s,s:s,s:[{s:i,s:s,s:[{s:i,s:f}]}]}", "id", id,
    "stackLevel", 0, "chargingProfilePurpose", profile_purpose[st],
    "chargingProfileKind", "Relative", "chargingSchedule", "id", id,
    "chargingRateUnit", unit, "chargingSchedulePeriod", "startPeriod", 0,
    "limit", limit);
  if (profile && st == PROFILE_TX)
    json_object_set_new(profile, "transactionId", json_string(cs->tx_charger_id));
  return profile ? json_pack("{s:i,s:o}", "evseId", evse, "chargingProfile", profile)
                 : NULL;
}

/* A limit for one EVSE is not a limit for the whole station. */
static int first_strategy(int connector, int attempt)
{
  return connector > 0 && attempt == PROFILE_STATION_MAX ? PROFILE_TX_DEFAULT
                                                         : attempt;
}

static json_t *p_limit(ocpp_session *s, const ocpp_command *cmd,
                       ocpp_call *call, int *rc)
{
  if (!(cmd->amps >= 0 && cmd->amps <= 1000)) {
    *rc = OCPP_EINVAL;
    return NULL;
  }
  call->amps = cmd->amps;
  int first = first_strategy(cmd->connector, call->attempt);
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
  ocpp_command cmd = {.kind = OCPP_CMD_CURRENT_LIMIT, .connector = call->connector,
                      .amps = call->amps};
  if (try_next && call->attempt + 1 < PROFILE_STRATEGIES &&
      ocpp__command_queue(s, call->row, &cmd, call->attempt + 1, call->cb,
                          call->cb_data) == OCPP_OK)
    return true;
  ocpp__session_log(s, OCPP_LOG_WARN, "current limit %.1f A not set: %s",
                    call->amps, ocpp_result_name(r));
  return false;
}

/* The profile the limit went in, by its id and by what it is, so that a
 * charger that matches either way clears that one and no other. */
static json_t *p_lift(ocpp_session *s, const ocpp_command *cmd,
                      ocpp_call *call, int *rc)
{
  int st = s->cp->profile_strategy;
  if (!(cmd->amps >= 0 && cmd->amps <= 1000) || st < 0) {
    *rc = st < 0 ? OCPP_ESTATE : OCPP_EINVAL;
    return NULL;
  }
  st = first_strategy(cmd->connector, st);
  call->amps = cmd->amps;
  call->attempt = st;
  int evse = st == PROFILE_STATION_MAX ? 0 : cmd->connector;
  return json_pack("{s:i,s:{s:i,s:s,s:i}}", "chargingProfileId",
                   ocpp__command_profile_id(st, evse),
                   "chargingProfileCriteria", "evseId", evse,
                   "chargingProfilePurpose", profile_purpose[st],
                   "stackLevel", 0);
}

/* ---- the table ------------------------------------------------------------ */

static const char *const accepted_only[] = {"Accepted", NULL};
static const char *const availability_ok[] = {"Accepted", "Scheduled", NULL};
static const char *const unlocked[] = {"Unlocked", NULL};
static const char *const reset_ok[] = {"Accepted", "Scheduled", NULL};
static const char *const configured[] = {"Accepted", "RebootRequired", NULL};
static const char *const cleared[] = {"Accepted", "Unknown", NULL};

const ocpp_command_row ocpp__cs201_command_table[OCPP_CMD_COUNT] = {
  [OCPP_CMD_REMOTE_START] = {OCPP_CMD_REMOTE_START, "RequestStartTransaction",
                             1, accepted_only, p_start, NULL, false},
  [OCPP_CMD_REMOTE_STOP] = {OCPP_CMD_REMOTE_STOP, "RequestStopTransaction", 1,
                            accepted_only, p_stop, NULL, false},
  [OCPP_CMD_CHANGE_AVAILABILITY] = {OCPP_CMD_CHANGE_AVAILABILITY,
                                    "ChangeAvailability", 0, availability_ok,
                                    p_availability, NULL, true},
  [OCPP_CMD_UNLOCK] = {OCPP_CMD_UNLOCK, "UnlockConnector", 1, unlocked,
                       p_unlock, NULL, true},
  [OCPP_CMD_RESERVE] = {OCPP_CMD_RESERVE, "ReserveNow", 1, accepted_only,
                        p_reserve, ocpp__command_after_reserve, true},
  [OCPP_CMD_CANCEL_RESERVATION] = {OCPP_CMD_CANCEL_RESERVATION,
                                   "CancelReservation", 1, accepted_only,
                                   p_cancel, ocpp__command_after_cancel, true},
  [OCPP_CMD_CURRENT_LIMIT] = {OCPP_CMD_CURRENT_LIMIT, "SetChargingProfile", 0,
                              accepted_only, p_limit, after_limit, false},
  [OCPP_CMD_RESET] = {OCPP_CMD_RESET, "Reset", -1, reset_ok, p_reset, NULL,
                      false},
  [OCPP_CMD_TRIGGER] = {OCPP_CMD_TRIGGER, "TriggerMessage", 0, accepted_only,
                        p_trigger, NULL, false},
  [OCPP_CMD_CHANGE_CONFIGURATION] = {OCPP_CMD_CHANGE_CONFIGURATION,
                                     "SetVariables", -1, configured,
                                     p_configuration, NULL, false},
  [OCPP_CMD_CLEAR_CACHE] = {OCPP_CMD_CLEAR_CACHE, "ClearCache", -1,
                            accepted_only, ocpp__command_no_fields, NULL, false},
  [OCPP_CMD_LIFT_LIMIT] = {OCPP_CMD_LIFT_LIMIT, "ClearChargingProfile", 0,
                           cleared, p_lift, ocpp__command_after_lift, true},
};
