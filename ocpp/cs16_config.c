/* What the central system sets up on a 1.6 charger after its
 * BootNotification: GetConfiguration of what it needs to know (connectors,
 * smart charging, the rate unit), then only the settings that differ, then
 * a TriggerMessage for the connector states. A charger that refuses any of
 * it keeps working. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/cs_common.h"
#include "ocpp/session_impl.h"

#define CALL_STATUS(payload) json_string_value(json_object_get((payload), "status"))

/* The calls after GetConfiguration go out one after the other: queued
 * all at once they would sit in memory for every charger of a site that
 * boots together after a power cut. */
enum {
  BOOT_STEP_MEASURANDS = 1u << 0,
  BOOT_STEP_INTERVAL = 1u << 1,
  BOOT_STEP_STATUS = 1u << 2
};

static void next_boot_step(ocpp_session *s);

/* The gateway works without these; a refusal is only worth a line. */
static void finish_quiet(ocpp_session *s, ocpp_call *call, bool answered,
                         const json_t *payload, const char *error_code)
{
  const char *st = answered ? CALL_STATUS(payload) : error_code;
  const char *key = json_string_value(json_object_get(call->payload, "key"));
  ocpp__session_log(s, OCPP_LOG_INFO, "%s%s%s: %s", call->action,
                    key ? " " : "", key ? key : "", st ? st : "?");
  /* a lost connection ends the sequence; the next boot starts it again */
  if (answered || (error_code && strcmp(error_code, "Offline") != 0))
    next_boot_step(s);
  else
    s->boot_steps = 0;
}

static void change_config(ocpp_session *s, const char *key, const char *value)
{
  json_t *p = json_pack("{s:s,s:s}", "key", key, "value", value);
  ocpp__session_queue(s, "ChangeConfiguration", p, finish_quiet, NULL);
}

static const char wanted_measurands[] =
  "Energy.Active.Import.Register,Current.Import,Power.Active.Import";

static void next_boot_step(ocpp_session *s)
{
  unsigned step = s->boot_steps & -s->boot_steps;   /* the lowest bit */
  if (!step || !s->open)
    return;
  s->boot_steps &= ~step;
  char interval[16];
  snprintf(interval, sizeof interval, "%d", s->cfg.meter_sample_interval);
  if (step == BOOT_STEP_MEASURANDS)
    change_config(s, "MeterValuesSampledData", wanted_measurands);
  else if (step == BOOT_STEP_INTERVAL)
    change_config(s, "MeterValueSampleInterval", interval);
  else
    ocpp__session_queue(s, "TriggerMessage",
                        json_pack("{s:s}", "requestedMessage",
                                  "StatusNotification"),
                        finish_quiet, NULL);
  /* called from a completion: the session sends it when that returns */
}

typedef struct {
  const char *value;
  bool readonly;
} config_entry;

static config_entry config_lookup(const json_t *payload, const char *key)
{
  config_entry e = {NULL, false};
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

static void finish_get_configuration(ocpp_session *s, ocpp_call *call,
                                     bool answered, const json_t *payload,
                                     const char *error_code)
{
  (void)call;
  char interval[16];
  snprintf(interval, sizeof interval, "%d", s->cfg.meter_sample_interval);
  unsigned steps = BOOT_STEP_STATUS;
  if (!answered) {
    if (error_code && strcmp(error_code, "Offline") == 0)
      return;
    ocpp__session_log(s, OCPP_LOG_INFO, "GetConfiguration: %s; configuring blind",
                      error_code);
    steps |= BOOT_STEP_MEASURANDS | BOOT_STEP_INTERVAL;
  } else {
    learn_capabilities(s->cp, payload);
    config_entry md = config_lookup(payload, "MeterValuesSampledData");
    /* Only change what differs: some chargers reboot on every change of
     * their measurand list. */
    if (!md.readonly && !(md.value && ocpp__cs_list_includes(md.value, wanted_measurands)))
      steps |= BOOT_STEP_MEASURANDS;
    config_entry iv = config_lookup(payload, "MeterValueSampleInterval");
    if (!iv.readonly && !(iv.value && strcmp(iv.value, interval) == 0))
      steps |= BOOT_STEP_INTERVAL;
  }
  s->boot_steps = steps;
  next_boot_step(s);
}

void ocpp__cs16_configure_after_boot(ocpp_session *s)
{
  if (s->configured_after_boot)
    return;
  s->configured_after_boot = true;
  json_t *p = json_pack("{s:[s,s,s,s,s,s]}", "key", "NumberOfConnectors",
                        "SupportedFeatureProfiles", "ChargeProfileMaxStackLevel",
                        "ChargingScheduleAllowedChargingRateUnit",
                        "MeterValuesSampledData", "MeterValueSampleInterval");
  if (ocpp__session_queue(s, "GetConfiguration", p, finish_get_configuration,
                          NULL) == OCPP_OK)
    ocpp__session_pump(s);
}
