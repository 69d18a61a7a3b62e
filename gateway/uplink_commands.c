/* The backend's commands: what the gateway answers to a CALL of the
 * billing backend. With commands = readonly each is refused with the
 * refusal its schema defines, so the backend sees a well-formed "no" and
 * the charger sees nothing; an action without such a refusal is answered
 * NotSupported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink_impl.h"

/* The refusal of each action whose answer has one, as its schema spells
 * it (UnlockConnector and SendLocalList have no "Rejected"). */
static const struct {
  const char *action;
  const char *answer;
} refusals[] = {
  {"CancelReservation", "{\"status\":\"Rejected\"}"},
  {"ChangeAvailability", "{\"status\":\"Rejected\"}"},
  {"ChangeConfiguration", "{\"status\":\"Rejected\"}"},
  {"ClearCache", "{\"status\":\"Rejected\"}"},
  {"ClearChargingProfile", "{\"status\":\"Unknown\"}"},
  {"DataTransfer", "{\"status\":\"Rejected\"}"},
  {"GetCompositeSchedule", "{\"status\":\"Rejected\"}"},
  {"RemoteStartTransaction", "{\"status\":\"Rejected\"}"},
  {"RemoteStopTransaction", "{\"status\":\"Rejected\"}"},
  {"ReserveNow", "{\"status\":\"Rejected\"}"},
  {"Reset", "{\"status\":\"Rejected\"}"},
  {"SendLocalList", "{\"status\":\"NotSupported\"}"},
  {"SetChargingProfile", "{\"status\":\"Rejected\"}"},
  {"TriggerMessage", "{\"status\":\"Rejected\"}"},
  {"UnlockConnector", "{\"status\":\"NotSupported\"}"},
};

json_t *gw__uplink_refusal(const char *action)
{
  for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
    if (strcmp(refusals[i].action, action) == 0)
      return json_loads(refusals[i].answer, 0, NULL);
  return NULL;
}

static json_t *refuse(gw_uplink *l, const char *action, const char *why,
                      const char **error_code)
{
  json_t *answer = gw__uplink_refusal(action);
  char line[160];
  snprintf(line, sizeof line, "backend: %s refused: %s", action, why);
  gw__uplink_log(l, OCPP_LOG_INFO, line);
  if (!answer)
    *error_code = "NotSupported";
  return answer;
}

/* ---- relayed commands ---------------------------------------------------- */

/* What each relayed command's result is called in its answer schema;
 * reboot: the name of an acceptance that waits for a reboot, where the
 * answer has one (NULL: plain accepted). */
typedef struct {
  const char *action;
  const char *accepted, *rejected, *not_supported, *reboot;
} relay_answers;

enum { R_START, R_STOP, R_UNLOCK, R_AVAILABILITY, R_RESET, R_TRIGGER,
       R_CONFIGURATION, R_COUNT };

static const relay_answers answers[R_COUNT] = {
  [R_START] = {"RemoteStartTransaction", "Accepted", "Rejected", "Rejected"},
  [R_STOP] = {"RemoteStopTransaction", "Accepted", "Rejected", "Rejected"},
  [R_UNLOCK] = {"UnlockConnector", "Unlocked", "UnlockFailed", "NotSupported"},
  [R_AVAILABILITY] = {"ChangeAvailability", "Accepted", "Rejected", "Rejected"},
  [R_RESET] = {"Reset", "Accepted", "Rejected", "Rejected"},
  [R_TRIGGER] = {"TriggerMessage", "Accepted", "Rejected", "NotImplemented"},
  [R_CONFIGURATION] = {"ChangeConfiguration", "Accepted", "Rejected",
                       "NotSupported", "RebootRequired"},
};

static void relay_unlink(gw_relay *r)
{
  if (r->prev)
    r->prev->next = r->next;
  else if (r->set)
    r->set->relays = r->next;
  if (r->next)
    r->next->prev = r->prev;
  r->prev = r->next = NULL;
}

void gw__uplink_relays_forget(gw_uplinks *u)
{
  while (u->relays) {
    gw_relay *r = u->relays;
    relay_unlink(r);
    r->set = NULL;
  }
}

static const char *status_of(int kind, ocpp_result result)
{
  const relay_answers *a = &answers[kind];
  if (result == OCPP_RESULT_REBOOT_REQUIRED)
    return a->reboot ? a->reboot : a->accepted;
  return result == OCPP_RESULT_ACCEPTED ? a->accepted
         : result == OCPP_RESULT_NOT_SUPPORTED ? a->not_supported
                                               : a->rejected;
}

const char *gw_uplink_relay_status(const char *action, ocpp_result result)
{
  for (int kind = 0; action && kind < R_COUNT; kind++)
    if (strcmp(answers[kind].action, action) == 0)
      return status_of(kind, result);
  return NULL;
}

static void relay_done(void *user_data, ocpp_result result)
{
  gw_relay *r = user_data;
  gw_uplink *l = r->set ? gw__uplink_find(r->set, r->charger_id) : NULL;
  relay_unlink(r);
  if (l && l->up == r->up) {
    const char *status = status_of(r->kind, result);
    char line[160];
    snprintf(line, sizeof line, "backend: %s relayed, charger: %s",
             answers[r->kind].action, ocpp_result_name(result));
    gw__uplink_log(l, OCPP_LOG_INFO, line);
    ocpp_upstream_answer(l->up, r->token, json_pack("{s:s}", "status", status),
                         NULL);
  }
  free(r);
}

/* Sends cmd to the charger; the backend's CALL waits for the result. NULL
 * with *error_code when it cannot wait, else NULL with *error_code NULL
 * (deferred) or the refusal when the charger cannot take it. */
static json_t *relay(gw_uplink *l, int kind, const ocpp_command *cmd,
                     const char **error_code)
{
  gw_uplinks *u = l->set;
  const char *action = answers[kind].action;
  if (!u->hooks.command)
    return refuse(l, action, "no charger side", error_code);
  size_t id_len = strlen(l->charger_id) + 1;
  gw_relay *r = calloc(1, sizeof *r + id_len);
  uint32_t token = r ? ocpp_upstream_defer(l->up) : 0;
  if (!token) {
    free(r);
    *error_code = "InternalError";
    return NULL;
  }
  *r = (gw_relay){.set = u, .up = l->up, .token = token, .kind = kind,
                  .next = u->relays};
  memcpy(r->charger_id, l->charger_id, id_len);
  if (u->relays)
    u->relays->prev = r;
  u->relays = r;
  int rc = u->hooks.command(u->user_data, l->charger_id, cmd, relay_done, r);
  if (rc == 0)
    return NULL;
  relay_unlink(r);
  free(r);
  char why[96];
  snprintf(why, sizeof why, "charger: %s", ocpp_strerror(rc));
  json_t *answer = refuse(l, action, why, error_code);
  /* the refusal goes out through the token taken for the wait */
  ocpp_upstream_answer(l->up, token, answer, answer ? NULL : "NotSupported");
  *error_code = NULL;
  return NULL;
}

static int connector_of(const json_t *payload)
{
  json_int_t c = json_integer_value(json_object_get(payload, "connectorId"));
  return c >= 0 && c <= GW_MAX_CONNECTORS ? (int)c : -1;
}

/* The connector whose running transaction the backend knows as tx: the
 * store keeps the backend's id beside the gateway's. 0 when none. */
static int connector_of_backend_tx(gw_uplink *l, int32_t tx)
{
  gw_uplinks *u = l->set;
  if (!u->hooks.transaction || !u->store)
    return 0;
  for (int c = 1; c <= GW_MAX_CONNECTORS; c++) {
    ocpp_transaction_info info;
    bool known = false;
    int32_t up = 0;
    if (u->hooks.transaction(u->user_data, l->charger_id, c, &info) == 0 &&
        info.transaction_id &&
        gw_store_upstream_tx(u->store, l->charger_id, info.transaction_id,
                             &known, &up) == GW_OK &&
        known && up == tx)
      return c;
  }
  return 0;
}

static json_t *remote_start(gw_uplink *l, const json_t *p, const char **ec)
{
  int c = connector_of(p);
  ocpp_command cmd = {
    .kind = OCPP_CMD_REMOTE_START, .connector = c > 0 ? c : 1,
    .id_tag = json_string_value(json_object_get(p, "idTag")),
  };
  return relay(l, R_START, &cmd, ec);
}

static json_t *remote_stop(gw_uplink *l, const json_t *p, const char **ec)
{
  int32_t tx = (int32_t)json_integer_value(json_object_get(p, "transactionId"));
  int c = connector_of_backend_tx(l, tx);
  if (!c) {
    char why[64];
    snprintf(why, sizeof why, "transaction %d unknown", (int)tx);
    return refuse(l, "RemoteStopTransaction", why, ec);
  }
  ocpp_command cmd = {.kind = OCPP_CMD_REMOTE_STOP, .connector = c};
  return relay(l, R_STOP, &cmd, ec);
}

static json_t *unlock(gw_uplink *l, const json_t *p, const char **ec)
{
  ocpp_command cmd = {.kind = OCPP_CMD_UNLOCK, .connector = connector_of(p)};
  return relay(l, R_UNLOCK, &cmd, ec);
}

static json_t *availability(gw_uplink *l, const json_t *p, const char **ec)
{
  const char *type = json_string_value(json_object_get(p, "type"));
  ocpp_command cmd = {.kind = OCPP_CMD_CHANGE_AVAILABILITY,
                      .connector = connector_of(p),
                      .operative = type && strcmp(type, "Operative") == 0};
  return relay(l, R_AVAILABILITY, &cmd, ec);
}

static json_t *reset(gw_uplink *l, const json_t *p, const char **ec)
{
  const char *type = json_string_value(json_object_get(p, "type"));
  ocpp_command cmd = {.kind = OCPP_CMD_RESET,
                      .hard = type && strcmp(type, "Hard") == 0};
  return relay(l, R_RESET, &cmd, ec);
}

static void on_later(uv_timer_t *t)
{
  if (t->data)
    gw__uplink_run_triggers(t->data);
}

void gw__uplink_run_triggers(gw_uplinks *u)
{
  for (size_t i = 0; i < u->n; i++) {
    gw_uplink *l = u->links[i];
    if (!l || !l->trigger_token)
      continue;
    uint32_t token = l->trigger_token;
    l->trigger_token = 0;
    if (ocpp_upstream_answer(l->up, token,
                             json_pack("{s:s}", "status", "Accepted"),
                             NULL) != OCPP_OK)
      continue;
    if (strcmp(l->trigger, "BootNotification") == 0)
      gw__uplink_send_boot(l);
    else if (strcmp(l->trigger, "Heartbeat") == 0)
      ocpp_upstream_call(l->up, "Heartbeat", json_object(), NULL, NULL);
    else
      gw__uplink_resend_states(l, l->trigger_connector);
  }
}

/* Boot, Heartbeat and the connector states are the gateway's to send: the
 * charger's own would go to the gateway, not to the backend. */
static json_t *local_trigger(gw_uplink *l, const char *msg, int connector,
                             const char **ec)
{
  uint32_t token = l->trigger_token ? 0 : ocpp_upstream_defer(l->up);
  if (!token)
    return refuse(l, "TriggerMessage", "one is running", ec);
  l->trigger_token = token;
  snprintf(l->trigger, sizeof l->trigger, "%s", msg);
  l->trigger_connector = connector > 0 ? connector : 0;
  uv_timer_start(l->set->later, on_later, 0, 0);
  return NULL;
}

static json_t *trigger(gw_uplink *l, const json_t *p, const char **ec)
{
  const char *msg = json_string_value(json_object_get(p, "requestedMessage"));
  int c = connector_of(p);
  if (msg && (strcmp(msg, "BootNotification") == 0 ||
              strcmp(msg, "Heartbeat") == 0 ||
              strcmp(msg, "StatusNotification") == 0))
    return local_trigger(l, msg, c, ec);
  if (!msg || strcmp(msg, "MeterValues") != 0)
    return refuse(l, "TriggerMessage", "not relayed", ec);
  ocpp_command cmd = {.kind = OCPP_CMD_TRIGGER, .connector = c > 0 ? c : 0,
                      .message = msg};
  return relay(l, R_TRIGGER, &cmd, ec);
}

static json_t *status(const char *text)
{
  return json_pack("{s:s}", "status", text);
}

/* A whole number 0..86400 in text; -1 when not. */
static int seconds_of(const char *text)
{
  char *end;
  long v = text && *text ? strtol(text, &end, 10) : -1;
  return v >= 0 && v <= 86400 && *end == '\0' ? (int)v : -1;
}

/* The keys that are the gateway's own towards the backend: how often it
 * sends a Heartbeat and MeterValues there. */
static json_t *local_key(gw_uplink *l, const char *key, const char *value)
{
  int v = seconds_of(value);
  if (strcmp(key, "MeterValueSampleInterval") == 0 && v >= 0)
    l->meter_interval = v;
  else if (strcmp(key, "MeterValueSampleInterval") == 0 ||
           ocpp_upstream_set_heartbeat(l->up, v) != OCPP_OK)
    return status("Rejected");
  char line[160];
  snprintf(line, sizeof line, "backend: %s = %d s", key, v);
  gw__uplink_log(l, OCPP_LOG_INFO, line);
  return status("Accepted");
}

static bool is_local_key(const char *key)
{
  return key && (strcmp(key, "HeartbeatInterval") == 0 ||
                 strcmp(key, "MeterValueSampleInterval") == 0);
}

static json_t *change_configuration(gw_uplink *l, const json_t *p,
                                    const char **ec)
{
  ocpp_command cmd = {
    .kind = OCPP_CMD_CHANGE_CONFIGURATION,
    .key = json_string_value(json_object_get(p, "key")),
    .value = json_string_value(json_object_get(p, "value")),
  };
  if (is_local_key(cmd.key))
    return local_key(l, cmd.key, cmd.value);
  return relay(l, R_CONFIGURATION, &cmd, ec);
}

static json_t *key_entry(gw_uplink *l, const char *key)
{
  ocpp_upstream_info info;
  ocpp_upstream_info_get(l->up, &info);
  char value[16];
  snprintf(value, sizeof value, "%d",
           strcmp(key, "HeartbeatInterval") == 0 ? info.heartbeat_interval
                                                 : l->meter_interval);
  return json_pack("{s:s,s:b,s:s}", "key", key, "readonly", 0, "value", value);
}

/* The gateway's own keys; the charger's are the charger's business, so
 * every other key is unknown here. */
static json_t *get_configuration(gw_uplink *l, const json_t *p, const char **ec)
{
  (void)ec;
  const json_t *keys = json_object_get(p, "key");
  json_t *known = json_array(), *unknown = json_array();
  if (!json_array_size(keys)) {
    json_array_append_new(known, key_entry(l, "HeartbeatInterval"));
    json_array_append_new(known, key_entry(l, "MeterValueSampleInterval"));
  }
  size_t i;
  const json_t *k;
  json_array_foreach(keys, i, k) {
    const char *key = json_string_value(k);
    if (is_local_key(key))
      json_array_append_new(known, key_entry(l, key));
    else
      json_array_append(unknown, (json_t *)k);
  }
  json_t *answer = json_pack("{s:o}", "configurationKey", known);
  if (answer && json_array_size(unknown))
    json_object_set(answer, "unknownKey", unknown);
  json_decref(unknown);
  return answer;
}

static json_t *data_transfer(gw_uplink *l, const json_t *p, const char **ec)
{
  (void)l;
  (void)p;
  (void)ec;
  return json_pack("{s:s}", "status", "UnknownVendorId");
}

/* The backend's limit becomes a cap: what the charger gets is the lower
 * of it and the local limits (the bridge applies it). */
static void remember_cap(cap_slot *k, const json_t *profile, double amps)
{
  const char *purpose =
    json_string_value(json_object_get(profile, "chargingProfilePurpose"));
  k->set = true;
  k->id = (int)json_integer_value(json_object_get(profile, "chargingProfileId"));
  k->stack_level = (int)json_integer_value(json_object_get(profile, "stackLevel"));
  snprintf(k->purpose, sizeof k->purpose, "%s", purpose ? purpose : "");
  k->amps = amps;
}

/* What the backend's profiles put on connector c (1..): the lower of its
 * own cap and the charger-wide one; -1 none. */
static double effective_cap(const gw_uplink *l, int c)
{
  const cap_slot *own = &l->caps[c], *wide = &l->caps[0];
  double amps = own->set ? own->amps : -1;
  if (wide->set && (amps < 0 || wide->amps < amps))
    amps = wide->amps;
  return amps;
}

/* Hands the caps of the connectors touched (touched[0]: all) to the
 * bridge; GW_OK when one of them took it. */
static int apply_caps(gw_uplink *l, const bool *touched)
{
  gw_uplinks *u = l->set;
  int rc = GW_ENOTFOUND;
  for (int c = 1; c < N_SLOTS; c++)
    if ((touched[0] || touched[c]) &&
        u->hooks.set_cap(u->user_data, l->charger_id, c,
                         effective_cap(l, c)) == GW_OK)
      rc = GW_OK;
  return rc;
}

static json_t *set_profile(gw_uplink *l, const json_t *p, const char **ec)
{
  gw_uplinks *u = l->set;
  int c = connector_of(p);
  const json_t *profile = json_object_get(p, "csChargingProfiles");
  double amps = 0;
  int rc = c < 0 || !u->hooks.set_cap ? GW_EINVAL
           : gw_profile_cap(profile, l->voltage, l->phases, time(NULL), &amps);
  if (rc == GW_OK && amps > 80)
    amps = 80;
  if (rc == GW_OK) {
    /* each connector gets the lower of its own cap and the charger-wide
     * one at once, never a higher one first */
    cap_slot before = l->caps[c];
    remember_cap(&l->caps[c], profile, amps);
    bool touched[N_SLOTS] = {false};
    touched[c] = true;
    rc = apply_caps(l, touched);
    if (rc != GW_OK)
      l->caps[c] = before;
  }
  char line[128];
  if (rc != GW_OK)
    return refuse(l, "SetChargingProfile", gw_strerror(rc), ec);
  snprintf(line, sizeof line, "backend: connector %d capped at %.1f A", c,
           amps);
  gw__uplink_log(l, OCPP_LOG_INFO, line);
  return status("Accepted");
}

/* An id names one profile; without one, each criterion given must match. */
static bool cap_matches(const cap_slot *k, int connector, const json_t *p)
{
  if (!k->set)
    return false;
  const json_t *id = json_object_get(p, "id");
  if (id)
    return json_integer_value(id) == k->id;
  const json_t *c = json_object_get(p, "connectorId");
  const char *purpose =
    json_string_value(json_object_get(p, "chargingProfilePurpose"));
  const json_t *level = json_object_get(p, "stackLevel");
  return (!c || json_integer_value(c) == connector) &&
         (!purpose || strcmp(purpose, k->purpose) == 0) &&
         (!level || json_integer_value(level) == k->stack_level);
}

static json_t *clear_profile(gw_uplink *l, const json_t *p, const char **ec)
{
  (void)ec;
  gw_uplinks *u = l->set;
  bool cleared[N_SLOTS] = {false};
  int n = 0;
  for (int c = 0; c < N_SLOTS; c++) {
    if (!cap_matches(&l->caps[c], c, p))
      continue;
    l->caps[c].set = false;
    cleared[c] = true;
    n++;
  }
  if (n == 0 || !u->hooks.set_cap)
    return status("Unknown");
  apply_caps(l, cleared);
  gw__uplink_log(l, OCPP_LOG_INFO, "backend: current cap removed");
  return status("Accepted");
}

typedef json_t *(*command_fn)(gw_uplink *l, const json_t *payload,
                              const char **error_code);

static const struct {
  const char *action;
  command_fn fn;
} commands[] = {
  {"ChangeAvailability", availability},
  {"ChangeConfiguration", change_configuration},
  {"ClearChargingProfile", clear_profile},
  {"DataTransfer", data_transfer},
  {"GetConfiguration", get_configuration},
  {"RemoteStartTransaction", remote_start},
  {"RemoteStopTransaction", remote_stop},
  {"Reset", reset},
  {"SetChargingProfile", set_profile},
  {"TriggerMessage", trigger},
  {"UnlockConnector", unlock},
};

json_t *gw__uplink_command(gw_uplink *l, const char *action,
                           const json_t *payload, const char **error_code)
{
  /* reading the configuration controls nothing */
  if (l->conf.commands == GW_COMMANDS_READONLY &&
      strcmp(action, "GetConfiguration") != 0)
    return refuse(l, action, "commands = readonly", error_code);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].action, action) == 0)
      return commands[i].fn(l, payload, error_code);
  return refuse(l, action, "not relayed", error_code);
}
