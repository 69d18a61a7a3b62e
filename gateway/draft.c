/* The text of a drafted charger parameter file (draft.h): the keys of
 * config/chargers.d/garage.conf in its order, with its comments, the
 * connector objects filled in from a plan. */
#include "gateway/draft_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 48          /* as the loader takes it (conf_read.c) */
#define NAME_MAX_LEN 128

/* The [charger] keys after id and name: value, comment, and whether the
 * line stays commented out (an example to fill in, or a key that only
 * matters with another file). DPT keys (value "") take the plan's. */
static const struct {
  const char *key, *value, *comment;
  bool example;
} charger_keys[] = {
  {"security_profile", "0", "0 none, 1 Basic Auth, 2 TLS + Basic Auth, 3 TLS client cert", false},
  {"password", "change-me-please", "Basic Auth, 1..40 characters (profiles 1 and 2)", true},
  {"normal_current", "10", "A (6..80)", false},
  {"fast_current", "16", "A (6..80, not below normal_current)", false},
  {"current_hysteresis", "0.2", "A a current must change before it is sent again", false},
  {"power_hysteresis", "100", "W, the same for power", false},
  {"energy_hysteresis", "100", "Wh, the same for meter and session_energy_live", false},
  {"voltage", "230", "V per phase (power estimates)", false},
  {"phases", "3", "1 or 3", false},
  {"time_dpt", "", "10.001 or 19.001 (start_time, end_time)", false},
  {"current_dpt", "", "14.019 or 9.021 (current, max_current)", false},
  {"power_dpt", "", "14.056 or 9.024", false},
  {"meter_dpt", "", "13.013 or 13.010", false},
  {"start_mode", "tag", "auto | tag | any", false},
  {"tags", "*", "allowed idTags, comma separated, * = all", false},
  {"tag_match", "exact", "exact | relaxed (ignore case and separators) | reversed (relaxed, also reversed byte order)", false},
  {"ocpp_version", "auto", "auto (1.6 when offered, else 2.0.1) | 1.6 | 2.0.1", false},
  {"tags_file", "tags.conf", "names and states of RFID tags (default: the main file's)", true},
  {"remote_tag", "KNX", "idTag for RemoteStartTransaction / ReserveNow", false},
  {"stop_mode", "stop", "stop (RemoteStopTransaction) | pause (0 A profile)", false},
  {"reservation_minutes", "30", "expiry of a ReserveNow sent for reserve = 1", false},
  {"priority", "5", "with [energy]: 1..10, higher is served first", true},
  {"min_current", "6", "with [energy]: A, a car that cannot get this much pauses", true},
  {"mode", "now", "with [energy]: now | minpv | pv | cheap | off", true},
  {"tag_modes", "TAG1:pv, TAG2:now", "with [energy]: the mode a tag's session gets", true},
};

static const char *const object_comment[GW_OBJ_COUNT] = {
  [GW_OBJ_STATUS] = "5.010 connector status (0 Available .. 8 Faulted)",
  [GW_OBJ_ERROR_CODE] = "5.010 OCPP error code (0 NoError .. 15 WeakSignal)",
  [GW_OBJ_CHARGING_STATE] = "1.010 feedback the gateway sends: 1 while a transaction runs",
  [GW_OBJ_CHARGING] = "1.010 command the gateway receives: 1 start, 0 stop",
  [GW_OBJ_RESERVE] = "1.010 command: 1 ReserveNow, 0 CancelReservation",
  [GW_OBJ_AVAILABILITY_STATE] = "1.003 feedback: 1 operative, 0 inoperative",
  [GW_OBJ_AVAILABILITY] = "1.003 command: ChangeAvailability",
  [GW_OBJ_UNLOCK] = "1.003 command: 1 UnlockConnector",
  [GW_OBJ_SESSION_ENERGY] = "13.010 Wh of the last transaction",
  [GW_OBJ_START_TIME] = "time_dpt: when the transaction started",
  [GW_OBJ_END_TIME] = "time_dpt: when it stopped",
  [GW_OBJ_CURRENT] = "current_dpt: actual charging current",
  [GW_OBJ_MAX_CURRENT_STATE] = "current_dpt: limit in force",
  [GW_OBJ_MAX_CURRENT] = "current_dpt command: set the limit (SetChargingProfile)",
  [GW_OBJ_FAST_CHARGING_STATE] = "1.001 feedback: 1 fast, 0 normal current",
  [GW_OBJ_FAST_CHARGING] = "1.001 command: choose fast or normal current",
  [GW_OBJ_RESET] = "1.015 command: 1 soft Reset",
  [GW_OBJ_POWER] = "power_dpt: active power",
  [GW_OBJ_METER] = "meter_dpt: meter register",
  [GW_OBJ_SESSION_ENERGY_LIVE] = "13.010 energy of the running transaction",
  [GW_OBJ_LAST_TAG] = "16.000 last idTag seen",
  [GW_OBJ_PLUGGED] = "1.002 vehicle connected",
  [GW_OBJ_ONLINE] = "1.011 charger connected to the gateway",
  [GW_OBJ_CHARGE_MODE] = "5.010 written: 0 off, 1 now, 2 minpv, 3 pv, 4 cheap (needs [energy])",
  [GW_OBJ_CHARGE_MODE_STATE] = "5.010 the connector's mode (needs [energy])",
  [GW_OBJ_ALLOCATED_CURRENT_STATE] = "current_dpt: the current the energy manager allows (needs [energy])",
  [GW_OBJ_UPSTREAM_ONLINE] = "1.011 gateway registered with the [upstream] backend",
};

/* A value the loader reads back unchanged: within its length, no control
 * character, no blank at either end (trimmed), no comment mark (a line's
 * first ';' or '#', or ';' after a blank). */
static bool writable_value(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ' || s[0] == ';' || s[0] == '#')
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F || (c == ';' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')))
      return false;
  }
  return true;
}

/* A group name in a comment: control characters as blanks. */
static void put_name(FILE *f, const char *name)
{
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    fputc(*p < 0x20 || *p == 0x7F ? ' ' : *p, f);
}

static const char *dpt_value(const gw_draft_plan *p, const char *key)
{
  knx_dpt d = strcmp(key, "time_dpt") == 0      ? p->time_dpt
              : strcmp(key, "current_dpt") == 0 ? p->current_dpt
              : strcmp(key, "power_dpt") == 0   ? p->power_dpt
                                                : p->meter_dpt;
  return knx_dpt_name(d);
}

static void line(FILE *f, bool on, const char *key, const char *value, const char *comment)
{
  char kv[160];
  snprintf(kv, sizeof kv, "%s%s = %s", on ? "" : ";", key, value);
  fprintf(f, "%-33s ; %s\n", kv, comment);
}

static void write_charger(FILE *f, const char *id, const char *match, const gw_draft_plan *p)
{
  fprintf(f, "; Parameter file of charger %s, drafted by ocppknxd.\n"
             "; Check every line, then copy it into the chargers directory.\n\n"
             "[charger]\n", id);
  line(f, true, "id", id, "charge point identity (URL path)");
  bool named = match != NULL && writable_value(match, NAME_MAX_LEN);
  line(f, true, "name", named ? match : id, "shown in logs and /status");
  for (size_t i = 0; i < sizeof charger_keys / sizeof charger_keys[0]; i++) {
    const char *k = charger_keys[i].key, *v = charger_keys[i].value;
    line(f, !charger_keys[i].example, k, *v ? v : dpt_value(p, k),
         charger_keys[i].comment);
  }
}

static void write_connector(FILE *f, int c, const gw_draft_plan *p, bool from_ets)
{
  fprintf(f, "\n[connector %d]%s\n", c + 1,
          from_ets ? "" : "                     ; fill in the group addresses");
  for (int o = 0; o < GW_OBJ_COUNT; o++) {
    char ga[KNX_GA_STRLEN] = "";
    if (p->has[c][o])
      knx_ga_format(p->ga[c][o], ga);
    /* the loader refuses these without [energy], which a draft cannot see */
    line(f, p->has[c][o] && !gw_object_needs_energy(o), gw_object_key(o), ga,
         object_comment[o]);
    if (p->has[c][o] && p->name[c][o]) {
      fputs(";   ETS: ", f);
      put_name(f, p->name[c][o]);
      fputc('\n', f);
    }
  }
}

int gw_draft_charger(const char *id, const gw_ets *ets, const char *match,
                     char **out, gw_conf_diag *notes)
{
  if (out == NULL || id == NULL || !writable_value(id, ID_MAX) || strchr(id, '/'))
    return GW_EINVAL;
  *out = NULL;
  gw_draft_plan *plan = calloc(1, sizeof *plan);
  if (plan == NULL)
    return GW_ENOMEM;
  int rc = GW_OK;
  if (ets != NULL) {
    rc = gw_draft_match(ets, match, plan, notes);
  } else {
    plan->used[0] = true;
    plan->time_dpt = gw_object_dpt(NULL, GW_OBJ_START_TIME);
    plan->current_dpt = gw_object_dpt(NULL, GW_OBJ_CURRENT);
    plan->power_dpt = gw_object_dpt(NULL, GW_OBJ_POWER);
    plan->meter_dpt = gw_object_dpt(NULL, GW_OBJ_METER);
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = rc == GW_OK ? open_memstream(&text, &len) : NULL;
  if (rc == GW_OK && f == NULL)
    rc = GW_ENOMEM;
  if (f != NULL) {
    write_charger(f, id, match, plan);
    for (int c = 0; c < GW_MAX_CONNECTORS; c++)
      if (plan->used[c])
        write_connector(f, c, plan, ets != NULL);
    if (ferror(f))
      rc = GW_ENOMEM;
    if (fclose(f) != 0)
      rc = GW_ENOMEM;
  }
  free(plan);
  if (rc == GW_OK)
    *out = text;
  else
    free(text);
  return rc;
}
