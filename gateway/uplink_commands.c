/* The backend's commands: what the gateway answers to a CALL of the
 * billing backend. With commands = readonly each is refused with the
 * refusal its schema defines, so the backend sees a well-formed "no" and
 * the charger sees nothing; an action without such a refusal is answered
 * NotSupported. */
#include <stdio.h>
#include <string.h>

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

json_t *gw__uplink_command(gw_uplink *l, const char *action,
                           const json_t *payload, const char **error_code)
{
  (void)payload;
  if (l->conf.commands == GW_COMMANDS_READONLY)
    return refuse(l, action, "commands = readonly", error_code);
  if (strcmp(action, "DataTransfer") == 0)
    return json_pack("{s:s}", "status", "UnknownVendorId");
  return refuse(l, action, "not relayed", error_code);
}
