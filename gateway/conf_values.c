/* The configuration's value parsers: strings, listen addresses, booleans,
 * numbers, DPT choices, enums, tag lists and group addresses, and the KNX
 * object table of a connector. Each parser fills one typed field or says
 * why the text is not a value (conf_impl.h). */
#include "gateway/conf_impl.h"
#include "ocpp/ocpp.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- objects ------------------------------------------------------------- */

/* Which charger setting chooses the DPT of an object, if any. */
typedef enum { DPT_FIXED, DPT_TIME, DPT_CURRENT, DPT_POWER, DPT_METER } dpt_source;

static const struct {
  const char *key;
  bool is_state;
  dpt_source source;
  knx_dpt fixed;
} objects[GW_OBJ_COUNT] = {
    [GW_OBJ_STATUS] = {"status", true, DPT_FIXED, KNX_DPT_5_010},
    [GW_OBJ_ERROR_CODE] = {"error_code", true, DPT_FIXED, KNX_DPT_5_010},
    [GW_OBJ_CHARGING_STATE] = {"charging_state", true, DPT_FIXED, KNX_DPT_1_010},
    [GW_OBJ_CHARGING] = {"charging", false, DPT_FIXED, KNX_DPT_1_010},
    [GW_OBJ_RESERVE] = {"reserve", false, DPT_FIXED, KNX_DPT_1_010},
    [GW_OBJ_AVAILABILITY_STATE] = {"availability_state", true, DPT_FIXED, KNX_DPT_1_003},
    [GW_OBJ_AVAILABILITY] = {"availability", false, DPT_FIXED, KNX_DPT_1_003},
    [GW_OBJ_UNLOCK] = {"unlock", false, DPT_FIXED, KNX_DPT_1_003},
    [GW_OBJ_SESSION_ENERGY] = {"session_energy", true, DPT_FIXED, KNX_DPT_13_010},
    [GW_OBJ_START_TIME] = {"start_time", true, DPT_TIME, KNX_DPT_10_001},
    [GW_OBJ_END_TIME] = {"end_time", true, DPT_TIME, KNX_DPT_10_001},
    [GW_OBJ_CURRENT] = {"current", true, DPT_CURRENT, KNX_DPT_14_019},
    [GW_OBJ_MAX_CURRENT_STATE] = {"max_current_state", true, DPT_CURRENT, KNX_DPT_14_019},
    [GW_OBJ_MAX_CURRENT] = {"max_current", false, DPT_CURRENT, KNX_DPT_14_019},
    [GW_OBJ_FAST_CHARGING_STATE] = {"fast_charging_state", true, DPT_FIXED, KNX_DPT_1_001},
    [GW_OBJ_FAST_CHARGING] = {"fast_charging", false, DPT_FIXED, KNX_DPT_1_001},
    [GW_OBJ_RESET] = {"reset", false, DPT_FIXED, KNX_DPT_1_015},
    [GW_OBJ_POWER] = {"power", true, DPT_POWER, KNX_DPT_14_056},
    [GW_OBJ_METER] = {"meter", true, DPT_METER, KNX_DPT_13_013},
    [GW_OBJ_SESSION_ENERGY_LIVE] = {"session_energy_live", true, DPT_FIXED, KNX_DPT_13_010},
    [GW_OBJ_LAST_TAG] = {"last_tag", true, DPT_FIXED, KNX_DPT_16_000},
    [GW_OBJ_PLUGGED] = {"plugged", true, DPT_FIXED, KNX_DPT_1_002},
    [GW_OBJ_ONLINE] = {"online", true, DPT_FIXED, KNX_DPT_1_011},
    [GW_OBJ_CHARGE_MODE_STATE] = {"charge_mode_state", true, DPT_FIXED, KNX_DPT_5_010},
    [GW_OBJ_CHARGE_MODE] = {"charge_mode", false, DPT_FIXED, KNX_DPT_5_010},
    [GW_OBJ_ALLOCATED_CURRENT_STATE] = {"allocated_current_state", true, DPT_CURRENT,
                                        KNX_DPT_14_019},
    [GW_OBJ_UPSTREAM_ONLINE] = {"upstream_online", true, DPT_FIXED, KNX_DPT_1_011},
};

bool gw_object_needs_energy(gw_object obj)
{
  return obj == GW_OBJ_CHARGE_MODE || obj == GW_OBJ_CHARGE_MODE_STATE ||
         obj == GW_OBJ_ALLOCATED_CURRENT_STATE;
}

const char *gw_object_key(gw_object obj)
{
  if ((int)obj < 0 || obj >= GW_OBJ_COUNT)
    return NULL;
  return objects[obj].key;
}

bool gw_object_is_state(gw_object obj)
{
  if ((int)obj < 0 || obj >= GW_OBJ_COUNT)
    return false;
  return objects[obj].is_state;
}

knx_dpt gw_object_dpt(const struct gw_charger_conf *c, gw_object obj)
{
  if ((int)obj < 0 || obj >= GW_OBJ_COUNT)
    return KNX_DPT_COUNT;
  if (c == NULL)
    return objects[obj].fixed; /* the defaults of the selectable DPTs */
  switch (objects[obj].source) {
  case DPT_TIME: return c->time_dpt;
  case DPT_CURRENT: return c->current_dpt;
  case DPT_POWER: return c->power_dpt;
  case DPT_METER: return c->meter_dpt;
  case DPT_FIXED: break;
  }
  return objects[obj].fixed;
}

int conf_object_by_key(const char *key)
{
  for (int i = 0; i < GW_OBJ_COUNT; i++) {
    if (strcmp(objects[i].key, key) == 0)
      return i;
  }
  return -1;
}

/* ---- diagnostics --------------------------------------------------------- */


/* ---- small helpers ------------------------------------------------------- */

static bool has_control_char(const char *s)
{
  for (; *s != '\0'; s++) {
    if (iscntrl((unsigned char)*s))
      return true;
  }
  return false;
}

char *conf_dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

char *conf_join_path(const char *dir, const char *rel)
{
  if (rel[0] == '/' || strcmp(dir, ".") == 0)
    return strdup(rel);
  size_t dl = strlen(dir);
  const char *sep = (dl > 0 && dir[dl - 1] == '/') ? "" : "/";
  size_t cap = dl + strlen(sep) + strlen(rel) + 1;
  char *out = malloc(cap);
  if (out != NULL)
    snprintf(out, cap, "%s%s%s", dir, sep, rel);
  return out;
}

char *conf_trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* ---- value parsers ------------------------------------------------------- */

static int store_string(const char *value, void *field)
{
  char *copy = strdup(value);
  if (copy == NULL)
    return GW_ENOMEM;
  char **slot = field;
  free(*slot);
  *slot = copy;
  return GW_OK;
}

static int check_string(const key_row *row, const char *value, char *why,
                        size_t cap)
{
  size_t len = strlen(value);
  if (len < (size_t)row->min) {
    snprintf(why, cap, "must not be empty");
    return GW_ECONFIG;
  }
  if (len > (size_t)row->max) {
    snprintf(why, cap, "longer than %d characters", (int)row->max);
    return GW_ECONFIG;
  }
  if (has_control_char(value)) {
    snprintf(why, cap, "contains a control character");
    return GW_ECONFIG;
  }
  return GW_OK;
}

int conf_parse_string(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  return rc != GW_OK ? rc : store_string(value, field);
}

/* An IP literal and a port 1..65535, as the server binds it; "" disables
 * the listener. */
int conf_parse_listen(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  if (rc != GW_OK)
    return rc;
  if (value[0] != '\0' && ocpp_listen_parse(value, NULL) != OCPP_OK) {
    snprintf(why, cap,
             "\"%s\" is not host:port (host an IPv4 address or [IPv6 address], port 1..65535)",
             value);
    return GW_ECONFIG;
  }
  return store_string(value, field);
}

int conf_parse_bool(const key_row *row, const char *value, void *field,
                      char *why, size_t cap)
{
  static const struct {
    const char *name;
    bool value;
  } bools[] = {
      {"true", true}, {"yes", true}, {"on", true}, {"1", true},
      {"false", false}, {"no", false}, {"off", false}, {"0", false},
  };
  (void)row;
  for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
    if (strcasecmp(value, bools[i].name) == 0) {
      *(bool *)field = bools[i].value;
      return GW_OK;
    }
  }
  snprintf(why, cap, "\"%s\" is not a boolean (true|false|yes|no|on|off|1|0)", value);
  return GW_ECONFIG;
}

static bool is_integer_text(const char *s)
{
  if (*s == '-' || *s == '+')
    s++;
  return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

static bool is_decimal_text(const char *s)
{
  if (*s == '-' || *s == '+')
    s++;
  size_t whole = strspn(s, "0123456789");
  s += whole;
  size_t frac = 0;
  if (*s == '.') {
    s++;
    frac = strspn(s, "0123456789");
    s += frac;
  }
  return *s == '\0' && whole + frac > 0;
}

int conf_parse_int(const key_row *row, const char *value, void *field,
                     char *why, size_t cap)
{
  if (!is_integer_text(value)) {
    snprintf(why, cap, "\"%s\" is not an integer", value);
    return GW_ECONFIG;
  }
  errno = 0;
  long n = strtol(value, NULL, 10);
  if (errno != 0 || n < (long)row->min || n > (long)row->max) {
    snprintf(why, cap, "%s is out of range %ld..%ld", value, (long)row->min,
             (long)row->max);
    return GW_ECONFIG;
  }
  *(int *)field = (int)n;
  return GW_OK;
}

int conf_parse_double(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  if (!is_decimal_text(value) || strlen(value) > 32) {
    snprintf(why, cap, "\"%s\" is not a number", value);
    return GW_ECONFIG;
  }
  double d = strtod(value, NULL);
  if (!(d >= row->min && d <= row->max)) {
    snprintf(why, cap, "%s is out of range %g..%g", value, row->min, row->max);
    return GW_ECONFIG;
  }
  *(double *)field = d;
  return GW_OK;
}

/* 1 or 3: a table would only hide the gap. */
int conf_parse_phases(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int n = 0;
  int rc = conf_parse_int(row, value, &n, why, cap);
  if (rc == GW_OK && n != 1 && n != 3) {
    snprintf(why, cap, "%s is not 1 or 3", value);
    rc = GW_ECONFIG;
  }
  if (rc == GW_OK)
    *(int *)field = n;
  return rc;
}

/* row->dpts lists the allowed DPTs. */
int conf_parse_dpt(const key_row *row, const char *value, void *field,
              char *why, size_t cap)
{
  char choices[64] = "";
  for (size_t i = 0; row->dpts[i] != KNX_DPT_COUNT; i++) {
    size_t used = strlen(choices);
    snprintf(choices + used, sizeof choices - used, "%s%s", i > 0 ? " or " : "",
             knx_dpt_name(row->dpts[i]));
  }
  knx_dpt dpt;
  if (knx_dpt_parse(value, &dpt) != KNX_OK) {
    snprintf(why, cap, "unknown DPT \"%s\" (%s)", value, choices);
    return GW_ECONFIG;
  }
  for (size_t i = 0; row->dpts[i] != KNX_DPT_COUNT; i++) {
    if (dpt == row->dpts[i]) {
      *(knx_dpt *)field = dpt;
      return GW_OK;
    }
  }
  snprintf(why, cap, "DPT %s is not allowed here (%s)", knx_dpt_name(dpt), choices);
  return GW_ECONFIG;
}

int conf_parse_id(const key_row *row, const char *value, void *field,
                    char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  if (rc != GW_OK)
    return rc;
  if (strchr(value, '/') != NULL) {
    snprintf(why, cap, "\"%s\" must not contain '/'", value);
    return GW_ECONFIG;
  }
  return store_string(value, field);
}

void conf_free_strings(char **tags, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(tags[i]);
  free(tags);
}

/* Splits "a, b ,c" into trimmed entries, each at most row->max characters
 * (an IdToken: 20; with a mode after it: more). */
static int split_list(const key_row *row, const char *value, char ***out,
                      size_t *n_out, char *why, size_t cap)
{
  size_t max_len = row != NULL && row->max > 0 ? (size_t)row->max : ID_TOKEN_MAX;
  char *copy = strdup(value);
  char **tags = calloc(MAX_TAGS, sizeof *tags);
  size_t n = 0;
  int rc = (copy == NULL || tags == NULL) ? GW_ENOMEM : GW_OK;
  char *rest = copy;
  while (rc == GW_OK && rest != NULL) {
    char *comma = strchr(rest, ',');
    if (comma != NULL)
      *comma = '\0';
    char *tag = conf_trim(rest);
    rest = comma != NULL ? comma + 1 : NULL;
    if (tag[0] == '\0') {
      snprintf(why, cap, "empty entry in \"%s\"", value);
      rc = GW_ECONFIG;
    } else if (strlen(tag) > max_len) {
      snprintf(why, cap, "\"%s\" is longer than %zu characters", tag, max_len);
      rc = GW_ECONFIG;
    } else if (has_control_char(tag)) {
      snprintf(why, cap, "\"%s\" contains a control character", tag);
      rc = GW_ECONFIG;
    } else if (n == MAX_TAGS) {
      snprintf(why, cap, "more than %d tags", MAX_TAGS);
      rc = GW_ECONFIG;
    } else if ((tags[n] = strdup(tag)) == NULL) {
      rc = GW_ENOMEM;
    } else {
      n++;
    }
  }
  free(copy);
  if (rc != GW_OK) {
    conf_free_strings(tags, n);
    return rc;
  }
  /* keep only what was found: a thousand chargers must not each hold room
   * for MAX_TAGS */
  char **fitted = realloc(tags, (n ? n : 1) * sizeof *tags);
  *out = fitted ? fitted : tags;
  *n_out = n;
  return GW_OK;
}

/* A new list for *list and *n, the old one freed. */
static int replace_tags(const key_row *row, const char *value, char ***list,
                        size_t *n, char *why, size_t cap)
{
  char **tags = NULL;
  size_t count = 0;
  int rc = split_list(row, value, &tags, &count, why, cap);
  if (rc != GW_OK)
    return rc;
  conf_free_strings(*list, *n);
  *list = tags;
  *n = count;
  return GW_OK;
}

int conf_parse_tags(const key_row *row, const char *value, void *field,
                      char *why, size_t cap)
{
  /* The list and its length are one value: the row points at the list. */
  gw_charger_conf *c = (gw_charger_conf *)((char *)field - offsetof(gw_charger_conf, tags));
  return replace_tags(row, value, &c->tags, &c->n_tags, why, cap);
}

int conf_parse_upstream_tags(const key_row *row, const char *value,
                             void *field, char *why, size_t cap)
{
  gw_upstream_conf *u =
    (gw_upstream_conf *)((char *)field - offsetof(gw_upstream_conf, tags));
  return replace_tags(row, value, &u->tags, &u->n_tags, why, cap);
}

/* ---- enums --------------------------------------------------------------- */

/* Each enum field has its own name table of its own type, so a value is
 * never converted between enum types. */
#define ENUM_PARSER(fn, type, ...)                                            \
  int fn(const key_row *row, const char *value, void *field, char *why,       \
         size_t cap)                                                          \
  {                                                                           \
    static const struct {                                                     \
      const char *name;                                                       \
      type value;                                                             \
    } names[] = {__VA_ARGS__};                                                \
    const size_t n = sizeof names / sizeof names[0];                          \
    (void)row;                                                                \
    for (size_t i = 0; i < n; i++) {                                          \
      if (strcasecmp(value, names[i].name) == 0) {                            \
        *(type *)field = names[i].value;                                      \
        return GW_OK;                                                         \
      }                                                                       \
    }                                                                         \
    char choices[128] = "";                                                   \
    for (size_t i = 0; i < n; i++) {                                          \
      size_t used = strlen(choices);                                          \
      snprintf(choices + used, sizeof choices - used, "%s%s", i ? "|" : "",   \
               names[i].name);                                                \
    }                                                                         \
    snprintf(why, cap, "\"%s\" is not one of %s", value, choices);            \
    return GW_ECONFIG;                                                        \
  }

ENUM_PARSER(conf_parse_log_level, gw_log_level,
            {"error", GW_LOG_ERROR}, {"warn", GW_LOG_WARN},
            {"info", GW_LOG_INFO}, {"debug", GW_LOG_DEBUG})
ENUM_PARSER(conf_parse_start_mode, ocpp_start_mode,
            {"auto", OCPP_START_AUTO}, {"tag", OCPP_START_TAG},
            {"any", OCPP_START_ANY})
ENUM_PARSER(conf_parse_stop_mode, gw_stop_mode,
            {"stop", GW_STOP_STOP}, {"pause", GW_STOP_PAUSE})
ENUM_PARSER(conf_parse_commands, gw_commands_mode,
            {"allow", GW_COMMANDS_ALLOW}, {"readonly", GW_COMMANDS_READONLY})
ENUM_PARSER(conf_parse_tag_match, ocpp_tag_match,
            {"exact", OCPP_TAG_EXACT}, {"relaxed", OCPP_TAG_RELAXED},
            {"reversed", OCPP_TAG_REVERSED})
ENUM_PARSER(conf_parse_ocpp_version, ocpp_version,
            {"auto", OCPP_VERSION_AUTO}, {"1.6", OCPP_VERSION_16},
            {"2.0.1", OCPP_VERSION_201})
ENUM_PARSER(conf_parse_charge_mode, em_mode,
            {"now", EM_MODE_NOW}, {"minpv", EM_MODE_MINPV},
            {"pv", EM_MODE_PV}, {"cheap", EM_MODE_CHEAP}, {"off", EM_MODE_OFF})

/* ---- tag modes ----------------------------------------------------------- */

/* One "TAG:mode" entry; the mode follows the last ':' since tags may hold
 * colons themselves ("04:A2:19:7B"). */
static int tag_mode_entry(const char *entry, char **tag, em_mode *mode,
                          char *why, size_t cap)
{
  const char *colon = strrchr(entry, ':');
  if (colon == NULL || colon == entry) {
    snprintf(why, cap, "\"%s\" is not TAG:mode", entry);
    return GW_ECONFIG;
  }
  char mode_text[16];
  snprintf(mode_text, sizeof mode_text, "%s", colon + 1);
  int rc = conf_parse_charge_mode(NULL, conf_trim(mode_text), mode, why, cap);
  if (rc != GW_OK)
    return rc;
  *tag = strndup(entry, (size_t)(colon - entry));
  if (*tag == NULL)
    return GW_ENOMEM;
  conf_trim(*tag);
  if ((*tag)[0] == '\0') {
    free(*tag);
    snprintf(why, cap, "\"%s\" has no tag", entry);
    return GW_ECONFIG;
  }
  return GW_OK;
}

int conf_parse_tag_modes(const key_row *row, const char *value, void *field,
                         char *why, size_t cap)
{
  gw_charger_conf *c =
      (gw_charger_conf *)((char *)field - offsetof(gw_charger_conf, tag_mode_tags));
  char **entries = NULL;
  size_t n = 0;
  int rc = split_list(row, value, &entries, &n, why, cap);
  char **tags = rc == GW_OK ? calloc(n ? n : 1, sizeof *tags) : NULL;
  em_mode *modes = rc == GW_OK ? calloc(n ? n : 1, sizeof *modes) : NULL;
  if (rc == GW_OK && (tags == NULL || modes == NULL))
    rc = GW_ENOMEM;
  size_t done = 0;
  for (; rc == GW_OK && done < n; done++)
    rc = tag_mode_entry(entries[done], &tags[done], &modes[done], why, cap);
  conf_free_strings(entries, n);
  if (rc != GW_OK) {
    conf_free_strings(tags, tags != NULL ? n : 0);
    free(modes);
    return rc;
  }
  conf_free_strings(c->tag_mode_tags, c->n_tag_modes);
  free(c->tag_mode_modes);
  c->tag_mode_tags = tags;
  c->tag_mode_modes = modes;
  c->n_tag_modes = n;
  return GW_OK;
}

/* ---- group addresses in the main file ------------------------------------ */

int conf_ga_check(const char *value, uint16_t *ga, char *why, size_t cap)
{
  if (knx_ga_parse(value, ga) != KNX_OK) {
    char problem[96];
    conf_ga_problem(value, problem, sizeof problem);
    snprintf(why, cap, "invalid group address \"%s\" (%s)", value, problem);
    return GW_ECONFIG;
  }
  if (*ga == 0) {
    snprintf(why, cap, "group address 0/0/0 is the broadcast address");
    return GW_ECONFIG;
  }
  return GW_OK;
}

int conf_parse_ga(const key_row *row, const char *value, void *field,
                  char *why, size_t cap)
{
  (void)row;
  gw_ga_opt *opt = field;
  int rc = conf_ga_check(value, &opt->ga, why, cap);
  opt->set = rc == GW_OK;
  return rc;
}

/* ---- group addresses ----------------------------------------------------- */

/* knx_ga_parse only says no; this says why, for the diagnostic. */
void conf_ga_problem(const char *text, char *why, size_t cap)
{
  static const struct {
    unsigned max;
    const char *name;
  } levels[3][3] = {
      {{65535, "free address"}},
      {{31, "main group"}, {2047, "sub group"}},
      {{31, "main group"}, {7, "middle group"}, {255, "sub group"}},
  };
  size_t slashes = 0;
  for (const char *p = text; *p != '\0'; p++)
    slashes += *p == '/';
  const char *p = text;
  for (size_t level = 0; slashes < 3 && level <= slashes; level++) {
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || (p[digits] != '/' && p[digits] != '\0'))
      break;
    unsigned long v = digits <= 6 ? strtoul(p, NULL, 10) : ULONG_MAX;
    if (v > levels[slashes][level].max) {
      snprintf(why, cap, "%s 0..%u", levels[slashes][level].name,
               levels[slashes][level].max);
      return;
    }
    p += digits + (p[digits] == '/');
  }
  snprintf(why, cap, "expected main/middle/sub, main/sub or a number");
}
