/* The main config file and the per-charger parameter files.
 *
 * inih splits keys and values; a reader function in front of it counts
 * lines (the Debian inih has no line numbers in the handler), strips
 * comments, trims every line (so indented keys never turn into inih's
 * continuation lines) and sees section headers, so empty, unknown and
 * duplicated sections are reported too. Keys are rows of a table.
 */
#include "gateway/conf.h"
#include "ocpp/ocpp.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#define MAX_DIAG_LINES 500      /* diagnostics kept; later ones are counted */
#define MAX_LINES_PER_FILE 5000
#define MAX_CHARGER_FILES 1000
#define MAX_TAGS 1000
#define MAX_ROWS 32             /* keys of the largest table */
#define MAX_STRING 255
#define MAX_PATH_LEN 4095
#define ID_MAX 48
#define ID_TOKEN_MAX 20         /* OCPP 1.6 IdToken */
#define PASSWORD_MAX 40         /* OCPP 1.6 AuthorizationKey */
#define NAME_MAX_LEN 128
#define MAX_SECTIONS 8

static const char default_listen[] = "0.0.0.0:8016";
static const char default_knx_url[] = "local:/run/knx";
static const char default_store_dir[] = "/var/lib/ocppknx";
static const char default_chargers_dir[] = "chargers.d";
static const char default_remote_tag[] = "KNX";

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
};

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

static int object_by_key(const char *key)
{
  for (int i = 0; i < GW_OBJ_COUNT; i++) {
    if (strcmp(objects[i].key, key) == 0)
      return i;
  }
  return -1;
}

/* ---- diagnostics --------------------------------------------------------- */

typedef struct {
  cfg_diag *diag;
  size_t problems;
  bool oom;
} reporter;

void cfg_diag_finish(cfg_diag *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    free(d->lines[i]);
  free(d->lines);
  d->lines = NULL;
  d->n = 0;
}

static void diag_append(reporter *r, char *line)
{
  char **grown = realloc(r->diag->lines, (r->diag->n + 1) * sizeof *grown);
  if (grown == NULL) {
    free(line);
    r->oom = true;
    return;
  }
  grown[r->diag->n++] = line;
  r->diag->lines = grown;
}

/* Adds "file:line: message" ("file: message" for line 0). */
__attribute__((format(printf, 4, 5)))
static void report(reporter *r, const char *file, int line, const char *fmt, ...)
{
  r->problems++;
  if (r->problems > MAX_DIAG_LINES + 1)
    return;
  char *text = NULL;
  if (r->problems == MAX_DIAG_LINES + 1) {
    text = strdup("too many problems; the list stops here");
  } else {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t cap = strlen(file) + strlen(msg) + 32;
    text = malloc(cap);
    if (text != NULL) {
      if (line > 0)
        snprintf(text, cap, "%s:%d: %s", file, line, msg);
      else
        snprintf(text, cap, "%s: %s", file, msg);
    }
  }
  if (text == NULL) {
    r->oom = true;
    return;
  }
  diag_append(r, text);
}

/* ---- small helpers ------------------------------------------------------- */

static bool has_control_char(const char *s)
{
  for (; *s != '\0'; s++) {
    if (iscntrl((unsigned char)*s))
      return true;
  }
  return false;
}

static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* rel against dir; an absolute rel or dir "." leaves rel as it is. */
static char *join_path(const char *dir, const char *rel)
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

static char *trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* ---- value parsers ------------------------------------------------------- */

/* A parser stores the value at field, or returns CFG_EINVALID with the reason
 * in why (the caller adds "file:line: key: "), or CFG_ENOMEM. */
struct key_row;
typedef int (*value_parser)(const struct key_row *row, const char *value,
                            void *field, char *why, size_t cap);

typedef struct {
  const char *name;
  int value;
} enum_name;

typedef struct key_row {
  const char *section;
  const char *key;
  value_parser parse;
  size_t offset;
  double min, max;          /* numbers: range; strings: length */
  const enum_name *names;   /* enums: NULL-terminated; DPTs: allowed list */
} key_row;

static int store_string(const char *value, void *field)
{
  char *copy = strdup(value);
  if (copy == NULL)
    return CFG_ENOMEM;
  char **slot = field;
  free(*slot);
  *slot = copy;
  return CFG_OK;
}

static int check_string(const key_row *row, const char *value, char *why,
                        size_t cap)
{
  size_t len = strlen(value);
  if (len < (size_t)row->min) {
    snprintf(why, cap, "must not be empty");
    return CFG_EINVALID;
  }
  if (len > (size_t)row->max) {
    snprintf(why, cap, "longer than %d characters", (int)row->max);
    return CFG_EINVALID;
  }
  if (has_control_char(value)) {
    snprintf(why, cap, "contains a control character");
    return CFG_EINVALID;
  }
  return CFG_OK;
}

static int parse_string(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  return rc != CFG_OK ? rc : store_string(value, field);
}

/* An IP literal and a port 1..65535, as the server binds it; "" disables
 * the listener. */
static int parse_listen(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  if (rc != CFG_OK)
    return rc;
  if (value[0] != '\0' && ocpp_listen_parse(value, NULL) != OCPP_OK) {
    snprintf(why, cap,
             "\"%s\" is not host:port (host an IPv4 address or [IPv6 address], port 1..65535)",
             value);
    return CFG_EINVALID;
  }
  return store_string(value, field);
}

static int parse_bool(const key_row *row, const char *value, void *field,
                      char *why, size_t cap)
{
  static const enum_name bools[] = {
      {"true", 1}, {"yes", 1}, {"on", 1}, {"1", 1},
      {"false", 0}, {"no", 0}, {"off", 0}, {"0", 0},
  };
  (void)row;
  for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
    if (strcasecmp(value, bools[i].name) == 0) {
      *(bool *)field = bools[i].value != 0;
      return CFG_OK;
    }
  }
  snprintf(why, cap, "\"%s\" is not a boolean (true|false|yes|no|on|off|1|0)", value);
  return CFG_EINVALID;
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

static int parse_int(const key_row *row, const char *value, void *field,
                     char *why, size_t cap)
{
  if (!is_integer_text(value)) {
    snprintf(why, cap, "\"%s\" is not an integer", value);
    return CFG_EINVALID;
  }
  errno = 0;
  long n = strtol(value, NULL, 10);
  if (errno != 0 || n < (long)row->min || n > (long)row->max) {
    snprintf(why, cap, "%s is out of range %ld..%ld", value, (long)row->min,
             (long)row->max);
    return CFG_EINVALID;
  }
  *(int *)field = (int)n;
  return CFG_OK;
}

static int parse_double(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  if (!is_decimal_text(value) || strlen(value) > 32) {
    snprintf(why, cap, "\"%s\" is not a number", value);
    return CFG_EINVALID;
  }
  double d = strtod(value, NULL);
  if (!(d >= row->min && d <= row->max)) {
    snprintf(why, cap, "%s is out of range %g..%g", value, row->min, row->max);
    return CFG_EINVALID;
  }
  *(double *)field = d;
  return CFG_OK;
}

static void list_names(const enum_name *names, const char *sep, char *out,
                       size_t cap)
{
  out[0] = '\0';
  for (size_t i = 0; names[i].name != NULL; i++) {
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s%s", i > 0 ? sep : "", names[i].name);
  }
}

static int parse_enum(const key_row *row, const char *value, void *field,
                      char *why, size_t cap)
{
  for (size_t i = 0; row->names[i].name != NULL; i++) {
    if (strcasecmp(value, row->names[i].name) == 0) {
      *(int *)field = row->names[i].value;
      return CFG_OK;
    }
  }
  char choices[128];
  list_names(row->names, "|", choices, sizeof choices);
  snprintf(why, cap, "\"%s\" is not one of %s", value, choices);
  return CFG_EINVALID;
}

/* 1 or 3: a table would only hide the gap. */
static int parse_phases(const key_row *row, const char *value, void *field,
                        char *why, size_t cap)
{
  int n = 0;
  int rc = parse_int(row, value, &n, why, cap);
  if (rc == CFG_OK && n != 1 && n != 3) {
    snprintf(why, cap, "%s is not 1 or 3", value);
    rc = CFG_EINVALID;
  }
  if (rc == CFG_OK)
    *(int *)field = n;
  return rc;
}

/* row->names lists the allowed DPTs (value = knx_dpt). */
static int parse_dpt(const key_row *row, const char *value, void *field,
                     char *why, size_t cap)
{
  char choices[64];
  list_names(row->names, " or ", choices, sizeof choices);
  knx_dpt dpt;
  if (knx_dpt_parse(value, &dpt) != KNX_OK) {
    snprintf(why, cap, "unknown DPT \"%s\" (%s)", value, choices);
    return CFG_EINVALID;
  }
  for (size_t i = 0; row->names[i].name != NULL; i++) {
    if ((int)dpt == row->names[i].value) {
      *(knx_dpt *)field = dpt;
      return CFG_OK;
    }
  }
  snprintf(why, cap, "DPT %s is not allowed here (%s)", knx_dpt_name(dpt), choices);
  return CFG_EINVALID;
}

static int parse_id(const key_row *row, const char *value, void *field,
                    char *why, size_t cap)
{
  int rc = check_string(row, value, why, cap);
  if (rc != CFG_OK)
    return rc;
  if (strchr(value, '/') != NULL) {
    snprintf(why, cap, "\"%s\" must not contain '/'", value);
    return CFG_EINVALID;
  }
  return store_string(value, field);
}

static void free_tags(char **tags, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(tags[i]);
  free(tags);
}

/* Splits "a, b ,c" into trimmed entries, each an IdToken. */
static int split_tags(const char *value, char ***out, size_t *n_out, char *why,
                      size_t cap)
{
  char *copy = strdup(value);
  char **tags = calloc(MAX_TAGS, sizeof *tags);
  size_t n = 0;
  int rc = (copy == NULL || tags == NULL) ? CFG_ENOMEM : CFG_OK;
  char *rest = copy;
  while (rc == CFG_OK && rest != NULL) {
    char *comma = strchr(rest, ',');
    if (comma != NULL)
      *comma = '\0';
    char *tag = trim(rest);
    rest = comma != NULL ? comma + 1 : NULL;
    if (tag[0] == '\0') {
      snprintf(why, cap, "empty entry in \"%s\"", value);
      rc = CFG_EINVALID;
    } else if (strlen(tag) > ID_TOKEN_MAX) {
      snprintf(why, cap, "\"%s\" is longer than %d characters", tag, ID_TOKEN_MAX);
      rc = CFG_EINVALID;
    } else if (has_control_char(tag)) {
      snprintf(why, cap, "\"%s\" contains a control character", tag);
      rc = CFG_EINVALID;
    } else if (n == MAX_TAGS) {
      snprintf(why, cap, "more than %d tags", MAX_TAGS);
      rc = CFG_EINVALID;
    } else if ((tags[n] = strdup(tag)) == NULL) {
      rc = CFG_ENOMEM;
    } else {
      n++;
    }
  }
  free(copy);
  if (rc != CFG_OK) {
    free_tags(tags, n);
    return rc;
  }
  /* keep only what was found: a thousand chargers must not each hold room
   * for MAX_TAGS */
  char **fitted = realloc(tags, (n ? n : 1) * sizeof *tags);
  *out = fitted ? fitted : tags;
  *n_out = n;
  return CFG_OK;
}

static int parse_tags(const key_row *row, const char *value, void *field,
                      char *why, size_t cap)
{
  (void)row;
  /* The list and its length are one value: the row points at the list. */
  gw_charger_conf *c = (gw_charger_conf *)((char *)field - offsetof(gw_charger_conf, tags));
  char **tags = NULL;
  size_t n = 0;
  int rc = split_tags(value, &tags, &n, why, cap);
  if (rc != CFG_OK)
    return rc;
  free_tags(c->tags, c->n_tags);
  c->tags = tags;
  c->n_tags = n;
  return CFG_OK;
}

/* ---- key tables ---------------------------------------------------------- */

static const enum_name log_levels[] = {
    {"error", GW_LOG_ERROR}, {"warn", GW_LOG_WARN},
    {"info", GW_LOG_INFO}, {"debug", GW_LOG_DEBUG}, {NULL, 0}};
static const enum_name start_modes[] = {
    {"auto", OCPP_START_AUTO}, {"tag", OCPP_START_TAG}, {"any", OCPP_START_ANY}, {NULL, 0}};
static const enum_name stop_modes[] = {
    {"stop", GW_STOP_STOP}, {"pause", GW_STOP_PAUSE}, {NULL, 0}};
static const enum_name tag_matches[] = {
    {"exact", OCPP_TAG_EXACT}, {"relaxed", OCPP_TAG_RELAXED}, {NULL, 0}};
static const enum_name time_dpts[] = {
    {"10.001", KNX_DPT_10_001}, {"19.001", KNX_DPT_19_001}, {NULL, 0}};
static const enum_name current_dpts[] = {
    {"14.019", KNX_DPT_14_019}, {"9.021", KNX_DPT_9_021}, {NULL, 0}};
static const enum_name power_dpts[] = {
    {"14.056", KNX_DPT_14_056}, {"9.024", KNX_DPT_9_024}, {NULL, 0}};
static const enum_name meter_dpts[] = {
    {"13.013", KNX_DPT_13_013}, {"13.010", KNX_DPT_13_010}, {NULL, 0}};

#define M(field) offsetof(gw_conf, field)
static const key_row main_rows[] = {
    {"ocpp", "listen", parse_listen, M(listen), 0, MAX_STRING, NULL},
    {"ocpp", "tls_listen", parse_listen, M(tls_listen), 0, MAX_STRING, NULL},
    {"ocpp", "tls_cert", parse_string, M(tls_cert), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "tls_key", parse_string, M(tls_key), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "tls_ca", parse_string, M(tls_ca), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "heartbeat_interval", parse_int, M(heartbeat_interval), 10, 86400, NULL},
    {"ocpp", "call_timeout", parse_int, M(call_timeout), 1, 600, NULL},
    {"ocpp", "accept_unknown", parse_bool, M(accept_unknown), 0, 0, NULL},
    {"ocpp", "meter_sample_interval", parse_int, M(meter_sample_interval), 1, 86400, NULL},
    {"ocpp", "max_message_size", parse_int, M(max_message_size), 4096, 16777216, NULL},
    {"knx", "url", parse_string, M(knx_url), 1, MAX_STRING, NULL},
    {"knx", "max_telegrams_per_second", parse_int, M(max_telegrams_per_second), 1, 1000, NULL},
    {"store", "dir", parse_string, M(store_dir), 1, MAX_PATH_LEN, NULL},
    {"log", "level", parse_enum, M(log_level), 0, 0, log_levels},
    {"log", "trace_ocpp", parse_bool, M(trace_ocpp), 0, 0, NULL},
    {"chargers", "dir", parse_string, M(chargers_dir), 1, MAX_PATH_LEN, NULL},
};
#undef M

#define C(field) offsetof(gw_charger_conf, field)
static const key_row charger_rows[] = {
    {"charger", "id", parse_id, C(id), 1, ID_MAX, NULL},
    {"charger", "name", parse_string, C(name), 1, NAME_MAX_LEN, NULL},
    {"charger", "security_profile", parse_int, C(security_profile), 0, 3, NULL},
    {"charger", "password", parse_string, C(password), 1, PASSWORD_MAX, NULL},
    {"charger", "normal_current", parse_double, C(normal_current), 6, 80, NULL},
    {"charger", "fast_current", parse_double, C(fast_current), 6, 80, NULL},
    {"charger", "current_hysteresis", parse_double, C(current_hysteresis), 0, 80, NULL},
    {"charger", "power_hysteresis", parse_double, C(power_hysteresis), 0, 100000, NULL},
    {"charger", "energy_hysteresis", parse_double, C(energy_hysteresis), 0, 1000000, NULL},
    {"charger", "voltage", parse_double, C(voltage), 100, 500, NULL},
    {"charger", "phases", parse_phases, C(phases), 1, 3, NULL},
    {"charger", "time_dpt", parse_dpt, C(time_dpt), 0, 0, time_dpts},
    {"charger", "current_dpt", parse_dpt, C(current_dpt), 0, 0, current_dpts},
    {"charger", "power_dpt", parse_dpt, C(power_dpt), 0, 0, power_dpts},
    {"charger", "meter_dpt", parse_dpt, C(meter_dpt), 0, 0, meter_dpts},
    {"charger", "start_mode", parse_enum, C(start_mode), 0, 0, start_modes},
    {"charger", "tags", parse_tags, C(tags), 0, 0, NULL},
    {"charger", "tag_match", parse_enum, C(tag_match), 0, 0, tag_matches},
    {"charger", "remote_tag", parse_string, C(remote_tag), 1, ID_TOKEN_MAX, NULL},
    {"charger", "stop_mode", parse_enum, C(stop_mode), 0, 0, stop_modes},
    {"charger", "reservation_minutes", parse_int, C(reservation_minutes), 1, 1440, NULL},
};
#undef C

static const char *const main_sections[] = {"ocpp", "knx", "store", "log", "chargers"};
static const char *const charger_sections[] = {"charger"};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))
_Static_assert(ROWS(main_rows) <= MAX_ROWS, "raise MAX_ROWS");
_Static_assert(ROWS(charger_rows) <= MAX_ROWS, "raise MAX_ROWS");
_Static_assert(ROWS(main_sections) <= MAX_SECTIONS, "raise MAX_SECTIONS");


typedef struct {
  const char *const *sections;
  size_t n_sections;
  const key_row *rows;
  size_t n_rows;
  bool connectors;              /* [connector N] allowed */
} file_schema;

static const file_schema main_schema = {
    main_sections, ROWS(main_sections), main_rows, ROWS(main_rows), false};
static const file_schema charger_schema = {
    charger_sections, ROWS(charger_sections), charger_rows, ROWS(charger_rows), true};

/* The row of key in section (NULL: any section, for keys used once). */
static int row_index(const file_schema *s, const char *section, const char *key)
{
  for (size_t i = 0; i < s->n_rows; i++) {
    if (strcmp(s->rows[i].key, key) == 0 &&
        (section == NULL || strcmp(s->rows[i].section, section) == 0))
      return (int)i;
  }
  return -1;
}

/* ---- one file ------------------------------------------------------------ */

typedef enum { SECT_NONE, SECT_SKIP, SECT_TABLE, SECT_CONNECTOR } sect_kind;

typedef struct {
  reporter *rep;
  const char *file;
  FILE *fp;
  char *buf;
  size_t buf_cap;
  int line;
  const file_schema *schema;
  void *target;                 /* gw_conf or gw_charger_conf */
  sect_kind kind;
  const char *section;          /* current table section */
  gw_connector_conf *conn;          /* current connector section */
  int section_line[MAX_SECTIONS];
  int connector_line[GW_MAX_CONNECTORS + 1];
  int key_line[MAX_ROWS];
} parse_ctx;

/* Strips a comment: a line starting with ';' or '#', or ';' after a blank
 * (inih's rule, applied here also where the value is empty). */
static char *strip_comment(char *s)
{
  s = trim(s);
  if (*s == ';' || *s == '#') {
    *s = '\0';
    return s;
  }
  for (char *p = s + 1; *p != '\0'; p++) {
    if (*p == ';' && isspace((unsigned char)p[-1])) {
      *p = '\0';
      break;
    }
  }
  return trim(s);
}

static void enter_connector(parse_ctx *ctx, const char *number)
{
  gw_charger_conf *c = ctx->target;
  long n = strlen(number) <= 3 ? strtol(number, NULL, 10) : 0;
  ctx->kind = SECT_SKIP;
  if (n < 1 || n > GW_MAX_CONNECTORS) {
    report(ctx->rep, ctx->file, ctx->line,
           "[connector %s]: connector number must be 1..%d", number,
           GW_MAX_CONNECTORS);
    return;
  }
  if (ctx->connector_line[n] != 0) {
    report(ctx->rep, ctx->file, ctx->line,
           "[connector %ld]: section given twice (first on line %d)", n,
           ctx->connector_line[n]);
    return;
  }
  ctx->connector_line[n] = ctx->line;
  ctx->conn = &c->connectors[c->n_connectors++];
  memset(ctx->conn, 0, sizeof *ctx->conn);
  ctx->conn->id = (int)n;
  ctx->kind = SECT_CONNECTOR;
}

static void enter_section(parse_ctx *ctx, const char *name)
{
  const file_schema *s = ctx->schema;
  for (size_t i = 0; i < s->n_sections; i++) {
    if (strcmp(s->sections[i], name) != 0)
      continue;
    if (ctx->section_line[i] != 0) {
      report(ctx->rep, ctx->file, ctx->line,
             "[%s]: section given twice (first on line %d)", name,
             ctx->section_line[i]);
      ctx->kind = SECT_SKIP;
      return;
    }
    ctx->section_line[i] = ctx->line;
    ctx->section = s->sections[i];
    ctx->kind = SECT_TABLE;
    return;
  }
  static const char prefix[] = "connector";
  size_t pl = sizeof prefix - 1;
  if (s->connectors && strncmp(name, prefix, pl) == 0 && isspace((unsigned char)name[pl])) {
    const char *number = name + pl;
    while (isspace((unsigned char)*number))
      number++;
    if (*number != '\0' && strspn(number, "0123456789") == strlen(number)) {
      enter_connector(ctx, number);
      return;
    }
  }
  report(ctx->rep, ctx->file, ctx->line, "unknown section [%s]", name);
  ctx->kind = SECT_SKIP;
}

/* A section header: returns false when malformed. s stays as it is, for
 * inih. */
static bool section_header(parse_ctx *ctx, const char *s)
{
  const char *close = strchr(s, ']');
  if (close == NULL) {
    report(ctx->rep, ctx->file, ctx->line, "missing ']' in section header");
    return false;
  }
  if (close[1] != '\0') { /* s is trimmed: anything here is not a blank */
    report(ctx->rep, ctx->file, ctx->line, "text after the section header");
    return false;
  }
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)(close - s - 1), s + 1);
  enter_section(ctx, trim(name));
  return true;
}

/* Checks one trimmed, comment-free line. Returns false when inih must not
 * see it (the problem is reported). */
static bool check_line(parse_ctx *ctx, char *s)
{
  if (*s == '\0')
    return true;
  if (*s == '[')
    return section_header(ctx, s);
  size_t key_len = strcspn(s, "=:");
  if (s[key_len] == '\0') {
    report(ctx->rep, ctx->file, ctx->line, "expected \"key = value\" or \"[section]\"");
    return false;
  }
  if (key_len == 0) {
    report(ctx->rep, ctx->file, ctx->line, "missing key before '%c'", s[0]);
    return false;
  }
  return true;
}

/* inih's reader: one line per call, normalised (see the file comment). */
static char *read_line(char *str, int num, void *stream)
{
  parse_ctx *ctx = stream;
  ssize_t len = getline(&ctx->buf, &ctx->buf_cap, ctx->fp);
  if (len < 0)
    return NULL;
  if (++ctx->line > MAX_LINES_PER_FILE) {
    report(ctx->rep, ctx->file, ctx->line, "more than %d lines", MAX_LINES_PER_FILE);
    return NULL;
  }
  char *s = ctx->buf;
  if (ctx->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
    s += 3;
  bool usable = true;
  if ((size_t)len != strlen(ctx->buf)) {
    report(ctx->rep, ctx->file, ctx->line, "contains a NUL byte");
    usable = false;
  } else {
    s = strip_comment(s);
    if (strlen(s) + 2 > (size_t)num) {
      report(ctx->rep, ctx->file, ctx->line, "line longer than %d characters",
             num - 2);
      usable = false;
    } else {
      usable = check_line(ctx, s);
    }
  }
  snprintf(str, (size_t)num, "%s\n", usable ? s : "");
  return str;
}

static void set_connector_ga(parse_ctx *ctx, const char *key, const char *value);

static int handle_key(void *user, const char *section, const char *name,
                      const char *value)
{
  parse_ctx *ctx = user;
  (void)section; /* the reader's own section state is complete */
  if (ctx->kind == SECT_SKIP)
    return 1;
  if (ctx->kind == SECT_NONE) {
    report(ctx->rep, ctx->file, ctx->line, "%s: key outside any section", name);
    return 1;
  }
  if (ctx->kind == SECT_CONNECTOR) {
    set_connector_ga(ctx, name, value);
    return 1;
  }
  int i = row_index(ctx->schema, ctx->section, name);
  if (i < 0) {
    report(ctx->rep, ctx->file, ctx->line, "unknown key \"%s\" in [%s]", name,
           ctx->section);
    return 1;
  }
  if (ctx->key_line[i] != 0) {
    report(ctx->rep, ctx->file, ctx->line, "%s: given twice (first on line %d)",
           name, ctx->key_line[i]);
    return 1;
  }
  ctx->key_line[i] = ctx->line;
  const key_row *row = &ctx->schema->rows[i];
  char why[256];
  int rc = row->parse(row, value, (char *)ctx->target + row->offset, why, sizeof why);
  if (rc == CFG_ENOMEM)
    ctx->rep->oom = true;
  else if (rc != CFG_OK)
    report(ctx->rep, ctx->file, ctx->line, "%s: %s", name, why);
  return 1;
}

/* knx_ga_parse only says no; this says why, for the diagnostic. */
static void ga_problem(const char *text, char *why, size_t cap)
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

static void set_connector_ga(parse_ctx *ctx, const char *key, const char *value)
{
  int obj = object_by_key(key);
  if (obj < 0) {
    report(ctx->rep, ctx->file, ctx->line, "unknown key \"%s\" in [connector %d]",
           key, ctx->conn->id);
    return;
  }
  if (ctx->conn->line[obj] != 0) {
    report(ctx->rep, ctx->file, ctx->line, "%s: given twice (first on line %d)",
           key, ctx->conn->line[obj]);
    return;
  }
  ctx->conn->line[obj] = ctx->line;
  uint16_t ga;
  if (knx_ga_parse(value, &ga) != KNX_OK) {
    char why[96];
    ga_problem(value, why, sizeof why);
    report(ctx->rep, ctx->file, ctx->line, "%s: invalid group address \"%s\" (%s)",
           key, value, why);
    return;
  }
  if (ga == 0) {
    report(ctx->rep, ctx->file, ctx->line,
           "%s: group address 0/0/0 is the broadcast address", key);
    return;
  }
  ctx->conn->ga[obj] = ga;
  ctx->conn->has_ga[obj] = true;
}

/* Parses file into target. Returns false (reported) when it cannot be
 * opened. */
static bool parse_file(parse_ctx *ctx)
{
  ctx->fp = fopen(ctx->file, "r");
  if (ctx->fp == NULL) {
    report(ctx->rep, ctx->file, 0, "%s", strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fileno(ctx->fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    report(ctx->rep, ctx->file, 0, "not a regular file");
    fclose(ctx->fp);
    ctx->fp = NULL;
    return false;
  }
  int rc = ini_parse_stream(read_line, ctx, handle_key, ctx);
  if (rc == -2)
    ctx->rep->oom = true;
  else if (rc > 0) /* only if the reader let something odd through */
    report(ctx->rep, ctx->file, rc, "syntax error");
  if (ferror(ctx->fp))
    report(ctx->rep, ctx->file, 0, "read error");
  fclose(ctx->fp);
  ctx->fp = NULL;
  free(ctx->buf);
  ctx->buf = NULL;
  return true;
}

static int line_of(const parse_ctx *ctx, const char *key)
{
  int i = row_index(ctx->schema, NULL, key);
  return i < 0 ? 0 : ctx->key_line[i];
}

/* ---- chargers ------------------------------------------------------------ */

static void charger_defaults(gw_charger_conf *c)
{
  memset(c, 0, sizeof *c);
  c->normal_current = 10;
  c->fast_current = 16;
  c->current_hysteresis = 0.2;
  c->power_hysteresis = 100;
  c->energy_hysteresis = 100;
  c->voltage = 230;
  c->phases = 3;
  c->time_dpt = KNX_DPT_10_001;
  c->current_dpt = KNX_DPT_14_019;
  c->power_dpt = KNX_DPT_14_056;
  c->meter_dpt = KNX_DPT_13_013;
  c->start_mode = OCPP_START_TAG;
  c->tag_match = OCPP_TAG_EXACT;
  c->stop_mode = GW_STOP_STOP;
  c->reservation_minutes = 30;
}

static void charger_finish(gw_charger_conf *c)
{
  free(c->file);
  free(c->id);
  free(c->name);
  free(c->password);
  free_tags(c->tags, c->n_tags);
  free(c->remote_tag);
  memset(c, 0, sizeof *c);
}

void gw_conf_chargers_free(gw_charger_conf *chargers, size_t n)
{
  if (chargers == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    charger_finish(&chargers[i]);
  free(chargers);
}

/* Lines of a charger's keys, kept while the set is checked as a whole. */
typedef struct {
  int key_line[MAX_ROWS];
} charger_lines;

static int compare_connectors(const void *a, const void *b)
{
  return ((const gw_connector_conf *)a)->id - ((const gw_connector_conf *)b)->id;
}

/* Values that are missing after the parse get their defaults here. */
static int charger_fill(gw_charger_conf *c)
{
  if (c->name == NULL && c->id != NULL && (c->name = strdup(c->id)) == NULL)
    return CFG_ENOMEM;
  if (c->remote_tag == NULL && (c->remote_tag = strdup(default_remote_tag)) == NULL)
    return CFG_ENOMEM;
  if (c->tags == NULL) {
    c->tags = calloc(1, sizeof *c->tags);
    if (c->tags == NULL || (c->tags[0] = strdup("*")) == NULL)
      return CFG_ENOMEM;
    c->n_tags = 1;
  }
  if (c->n_connectors == 0) {
    c->connectors[0].id = 1;
    c->n_connectors = 1;
  }
  qsort(c->connectors, c->n_connectors, sizeof c->connectors[0], compare_connectors);
  return CFG_OK;
}

static void charger_check(const parse_ctx *ctx, const gw_charger_conf *c,
                          const gw_conf *m)
{
  reporter *r = ctx->rep;
  const char *f = c->file;
  int profile_line = line_of(ctx, "security_profile");
  if (c->id == NULL && line_of(ctx, "id") == 0)
    report(r, f, 0, "id is missing in [charger]");
  if (c->normal_current > c->fast_current) {
    int line = line_of(ctx, "fast_current");
    report(r, f, line != 0 ? line : line_of(ctx, "normal_current"),
           "normal_current %g A is above fast_current %g A", c->normal_current,
           c->fast_current);
  }
  int p = c->security_profile;
  bool tls = m->tls_listen != NULL && m->tls_listen[0] != '\0';
  if ((p == 1 || p == 2) && c->password == NULL)
    report(r, f, profile_line, "security_profile: %d needs a password", p);
  if ((p == 2 || p == 3) && !tls)
    report(r, f, profile_line, "security_profile: %d needs tls_listen in %s", p, m->file);
  if (p == 3 && m->tls_ca == NULL)
    report(r, f, profile_line, "security_profile: 3 needs tls_ca in %s", m->file);
}

static int load_charger(reporter *r, const gw_conf *m, const char *path,
                        gw_charger_conf *c, charger_lines *lines)
{
  charger_defaults(c);
  if ((c->file = strdup(path)) == NULL)
    return CFG_ENOMEM;
  parse_ctx ctx = {.rep = r, .file = c->file, .schema = &charger_schema, .target = c};
  bool opened = parse_file(&ctx);
  if (r->oom || charger_fill(c) != CFG_OK)
    return CFG_ENOMEM;
  if (opened)
    charger_check(&ctx, c, m);
  memcpy(lines->key_line, ctx.key_line, sizeof lines->key_line);
  return CFG_OK;
}

static void check_duplicate_ids(reporter *r, const gw_charger_conf *c,
                                const charger_lines *lines, size_t n)
{
  int id_row = row_index(&charger_schema, NULL, "id");
  for (size_t i = 1; i < n; i++) {
    for (size_t k = 0; c[i].id != NULL && k < i; k++) {
      if (c[k].id != NULL && strcmp(c[i].id, c[k].id) == 0) {
        report(r, c[i].file, lines[i].key_line[id_row],
               "id: \"%s\" is already used by %s:%d", c[i].id, c[k].file,
               lines[k].key_line[id_row]);
        break;
      }
    }
  }
}

/* ---- group address conflicts --------------------------------------------- */

typedef struct {
  uint16_t ga;
  const gw_charger_conf *charger;
  int line;
  gw_object obj;
  size_t order;                 /* file order, keeps the first use first */
} ga_use;

static int compare_uses(const void *a, const void *b)
{
  const ga_use *x = a, *y = b;
  if (x->ga != y->ga)
    return x->ga < y->ga ? -1 : 1;
  return x->order < y->order ? -1 : (x->order > y->order);
}

/* Why use b may not share its address with the earlier use a; NULL if it may. */
static const char *ga_conflict(const ga_use *a, const ga_use *b, char *why, size_t cap)
{
  knx_dpt da = gw_object_dpt(a->charger, a->obj);
  knx_dpt db = gw_object_dpt(b->charger, b->obj);
  char ga[KNX_GA_STRLEN];
  knx_ga_format(b->ga, ga);
  const char *key = gw_object_key(a->obj);
  if (da != db)
    snprintf(why, cap, "group address %s is also used by %s at %s:%d with DPT %s "
             "(here %s)", ga, key, a->charger->file, a->line, knx_dpt_name(da),
             knx_dpt_name(db));
  else if (!objects[a->obj].is_state && !objects[b->obj].is_state)
    snprintf(why, cap, "group address %s is also the command address of %s at %s:%d",
             ga, key, a->charger->file, a->line);
  else if (!objects[a->obj].is_state || !objects[b->obj].is_state)
    snprintf(why, cap, "group address %s is also used by %s at %s:%d "
             "(only state objects of one DPT may share an address)", ga, key,
             a->charger->file, a->line);
  else
    return NULL;
  return why;
}

static int check_ga_conflicts(reporter *r, const gw_charger_conf *chargers, size_t n)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += chargers[i].n_connectors * GW_OBJ_COUNT;
  ga_use *uses = calloc(total > 0 ? total : 1, sizeof *uses);
  if (uses == NULL)
    return CFG_ENOMEM;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < chargers[i].n_connectors; k++) {
      const gw_connector_conf *conn = &chargers[i].connectors[k];
      for (int obj = 0; obj < GW_OBJ_COUNT; obj++) {
        if (!conn->has_ga[obj])
          continue;
        uses[count] = (ga_use){conn->ga[obj], &chargers[i], conn->line[obj],
                               (gw_object)obj, i * 100000u + (size_t)conn->line[obj]};
        count++;
      }
    }
  }
  qsort(uses, count, sizeof *uses, compare_uses);
  for (size_t first = 0, j = 1; j < count; j++) {
    if (uses[j].ga != uses[first].ga) {
      first = j;
      continue;
    }
    for (size_t k = first; k < j; k++) {
      char why[512];
      if (ga_conflict(&uses[k], &uses[j], why, sizeof why) != NULL) {
        report(r, uses[j].charger->file, uses[j].line, "%s: %s",
               gw_object_key(uses[j].obj), why);
        break;
      }
    }
  }
  free(uses);
  return CFG_OK;
}

/* ---- the chargers directory ---------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
  size_t n = strlen(name);
  return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The sorted "*.conf" names of dir. */
static int list_conf_files(reporter *r, const char *dir, char ***out, size_t *n_out)
{
  *out = NULL;
  *n_out = 0;
  DIR *d = opendir(dir);
  if (d == NULL) {
    report(r, dir, 0, "%s", strerror(errno));
    return CFG_EINVALID;
  }
  char **names = NULL;
  size_t n = 0;
  int rc = CFG_OK;
  struct dirent *e;
  while (rc == CFG_OK && (e = readdir(d)) != NULL) {
    if (!is_conf_name(e->d_name))
      continue;
    if (n == MAX_CHARGER_FILES) {
      report(r, dir, 0, "more than %d charger files", MAX_CHARGER_FILES);
      rc = CFG_EINVALID;
      break;
    }
    char **grown = realloc(names, (n + 1) * sizeof *grown);
    if (grown == NULL || (grown[n] = strdup(e->d_name)) == NULL) {
      names = grown != NULL ? grown : names;
      rc = CFG_ENOMEM;
      break;
    }
    names = grown;
    n++;
  }
  closedir(d);
  if (rc != CFG_OK) {
    free_tags(names, n);
    return rc;
  }
  if (n > 0)
    qsort(names, n, sizeof *names, compare_names);
  *out = names;
  *n_out = n;
  return CFG_OK;
}

static int load_chargers(reporter *r, const gw_conf *m, gw_charger_conf **out,
                         size_t *n_out)
{
  char **names = NULL;
  size_t n_names = 0;
  *out = NULL;
  *n_out = 0;
  int rc = list_conf_files(r, m->chargers_dir, &names, &n_names);
  if (rc != CFG_OK)
    return rc;
  gw_charger_conf *chargers = calloc(n_names > 0 ? n_names : 1, sizeof *chargers);
  charger_lines *lines = calloc(n_names > 0 ? n_names : 1, sizeof *lines);
  size_t n = 0;
  if (chargers == NULL || lines == NULL)
    rc = CFG_ENOMEM;
  for (size_t i = 0; rc == CFG_OK && i < n_names; i++) {
    char *path = join_path(m->chargers_dir, names[i]);
    if (path == NULL) {
      rc = CFG_ENOMEM;
      break;
    }
    n++; /* counted first so a partial charger is freed too */
    rc = load_charger(r, m, path, &chargers[i], &lines[i]);
    free(path);
  }
  if (rc == CFG_OK) {
    check_duplicate_ids(r, chargers, lines, n);
    rc = check_ga_conflicts(r, chargers, n);
  }
  free_tags(names, n_names);
  free(lines);
  if (rc != CFG_OK) {
    gw_conf_chargers_free(chargers, n);
    return rc;
  }
  *out = chargers;
  *n_out = n;
  return CFG_OK;
}

/* ---- the main file ------------------------------------------------------- */

static void main_defaults(gw_conf *m)
{
  memset(m, 0, sizeof *m);
  m->heartbeat_interval = 300;
  m->call_timeout = 30;
  m->meter_sample_interval = 60;
  m->max_message_size = 65536;
  m->max_telegrams_per_second = 20;
  m->log_level = GW_LOG_INFO;
}

static int default_string(char **slot, const char *value)
{
  if (*slot == NULL && (*slot = strdup(value)) == NULL)
    return CFG_ENOMEM;
  return CFG_OK;
}

/* Relative paths become relative to the main file's directory; an empty TLS
 * path means "not set" (NULL). */
static int resolve_path(char **slot, const char *dir)
{
  if (*slot == NULL)
    return CFG_OK;
  if ((*slot)[0] == '\0') {
    free(*slot);
    *slot = NULL;
    return CFG_OK;
  }
  char *joined = join_path(dir, *slot);
  if (joined == NULL)
    return CFG_ENOMEM;
  free(*slot);
  *slot = joined;
  return CFG_OK;
}

static int main_fill(gw_conf *m)
{
  char *dir = dir_of(m->file);
  int rc = dir == NULL ? CFG_ENOMEM : CFG_OK;
  if (rc == CFG_OK)
    rc = default_string(&m->listen, default_listen);
  if (rc == CFG_OK)
    rc = default_string(&m->tls_listen, "");
  if (rc == CFG_OK)
    rc = default_string(&m->knx_url, default_knx_url);
  if (rc == CFG_OK)
    rc = default_string(&m->store_dir, default_store_dir);
  if (rc == CFG_OK)
    rc = default_string(&m->chargers_dir, default_chargers_dir);
  char **paths[] = {&m->tls_cert, &m->tls_key, &m->tls_ca, &m->store_dir,
                    &m->chargers_dir};
  for (size_t i = 0; rc == CFG_OK && i < sizeof paths / sizeof paths[0]; i++)
    rc = resolve_path(paths[i], dir);
  free(dir);
  return rc;
}

static void check_readable(reporter *r, const parse_ctx *ctx, const char *key,
                           const char *path)
{
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    report(r, ctx->file, line_of(ctx, key), "%s: cannot read \"%s\": %s", key,
           path, strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
    report(r, ctx->file, line_of(ctx, key), "%s: \"%s\" is not a regular file",
           key, path);
  fclose(fp);
}

/* ---- TLS files: parsed the way the daemon will load them ---- */

static void format_asn1_time(const WOLFSSL_ASN1_TIME *t, char *out, size_t cap)
{
  struct tm tm;
  if (t == NULL || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS ||
      strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
    snprintf(out, cap, "an unreadable date");
}

/* Returns true when the certificate loaded (dates are reported either way). */
static bool check_tls_cert_file(reporter *r, const parse_ctx *ctx,
                                const char *path)
{
  int line = line_of(ctx, "tls_cert");
  WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(path, WOLFSSL_FILETYPE_PEM);
  if (x == NULL) {
    report(r, ctx->file, line, "tls_cert: \"%s\" holds no PEM certificate", path);
    return false;
  }
  char when[64];
  WOLFSSL_ASN1_TIME *not_before = wolfSSL_X509_get_notBefore(x);
  WOLFSSL_ASN1_TIME *not_after = wolfSSL_X509_get_notAfter(x);
  if (not_before != NULL && wolfSSL_X509_cmp_current_time(not_before) > 0) {
    format_asn1_time(not_before, when, sizeof when);
    report(r, ctx->file, line, "tls_cert: \"%s\" is not valid before %s", path,
           when);
  }
  if (not_after != NULL && wolfSSL_X509_cmp_current_time(not_after) < 0) {
    format_asn1_time(not_after, when, sizeof when);
    report(r, ctx->file, line, "tls_cert: \"%s\" expired on %s", path, when);
  }
  wolfSSL_X509_free(x);
  return true;
}

/* check_readable has already reported the others */
static bool readable_file(const char *path)
{
  struct stat st;
  return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, R_OK) == 0;
}

static void check_tls_contents(reporter *r, const parse_ctx *ctx,
                               const gw_conf *m, WOLFSSL_CTX *tls)
{
  bool cert_ok = readable_file(m->tls_cert) &&
                 check_tls_cert_file(r, ctx, m->tls_cert);
  bool key_ok = false;
  if (readable_file(m->tls_key)) {
    key_ok = wolfSSL_CTX_use_PrivateKey_file(tls, m->tls_key,
                                             WOLFSSL_FILETYPE_PEM) == WOLFSSL_SUCCESS;
    if (!key_ok)
      report(r, ctx->file, line_of(ctx, "tls_key"),
             "tls_key: \"%s\" holds no PEM private key", m->tls_key);
  }
  if (cert_ok && key_ok && !ocpp_tls_key_matches_cert(m->tls_cert, m->tls_key))
    report(r, ctx->file, line_of(ctx, "tls_key"),
           "tls_key: \"%s\" does not match the certificate \"%s\"", m->tls_key,
           m->tls_cert);
  if (readable_file(m->tls_ca) &&
      wolfSSL_CTX_load_verify_locations(tls, m->tls_ca, NULL) != WOLFSSL_SUCCESS)
    report(r, ctx->file, line_of(ctx, "tls_ca"),
           "tls_ca: \"%s\" holds no PEM CA certificate", m->tls_ca);
}

static void check_tls_files(reporter *r, const parse_ctx *ctx, const gw_conf *m)
{
  if (wolfSSL_Init() != WOLFSSL_SUCCESS)
    return;
  WOLFSSL_CTX *tls = wolfSSL_CTX_new(wolfSSLv23_server_method());
  if (tls == NULL)
    r->oom = true;
  else
    check_tls_contents(r, ctx, m, tls);
  wolfSSL_CTX_free(tls);
  wolfSSL_Cleanup();
}

static void main_check_tls(reporter *r, const parse_ctx *ctx, const gw_conf *m)
{
  if (m->tls_listen[0] == '\0')
    return;
  const struct {
    const char *key;
    const char *path;
    bool required;
  } files[] = {{"tls_cert", m->tls_cert, true},
               {"tls_key", m->tls_key, true},
               {"tls_ca", m->tls_ca, false}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (files[i].path != NULL)
      check_readable(r, ctx, files[i].key, files[i].path);
    else if (files[i].required)
      report(r, ctx->file, line_of(ctx, "tls_listen"), "tls_listen: needs %s",
             files[i].key);
  }
  check_tls_files(r, ctx, m);
}

/* Runs the whole load; the diagnostics go to r. */
static int load_all(reporter *r, const char *path, gw_conf **out)
{
  gw_conf *m = malloc(sizeof *m);
  if (m == NULL)
    return CFG_ENOMEM;
  main_defaults(m);
  int rc = CFG_OK;
  if ((m->file = strdup(path)) == NULL) {
    rc = CFG_ENOMEM;
    goto done;
  }
  parse_ctx ctx = {.rep = r, .file = m->file, .schema = &main_schema, .target = m};
  bool opened = parse_file(&ctx);
  if (r->oom || main_fill(m) != CFG_OK) {
    rc = CFG_ENOMEM;
    goto done;
  }
  if (!opened) {
    rc = CFG_EINVALID; /* without the main file nothing else is known */
    goto done;
  }
  main_check_tls(r, &ctx, m);
  rc = load_chargers(r, m, &m->chargers, &m->n_chargers);
  if (rc == CFG_OK && r->oom)
    rc = CFG_ENOMEM;
  if (rc == CFG_OK && r->problems > 0)
    rc = CFG_EINVALID;
done:
  if (rc != CFG_OK) {
    gw_conf_destroy(m);
    m = NULL;
  }
  *out = m;
  return rc;
}

int gw_conf_load(const char *path, gw_conf **out, cfg_diag *diag)
{
  if (out == NULL)
    return CFG_EINVALID;
  *out = NULL;
  cfg_diag scratch = {0};
  reporter r = {.diag = diag != NULL ? diag : &scratch};
  int rc = path == NULL ? CFG_EINVALID : load_all(&r, path, out);
  if (r.oom && rc == CFG_OK) {
    gw_conf_destroy(*out);
    *out = NULL;
    rc = CFG_ENOMEM;
  }
  cfg_diag_finish(&scratch);
  return rc;
}

int gw_conf_load_chargers(const gw_conf *main, gw_charger_conf **chargers, size_t *n,
                      cfg_diag *diag)
{
  if (chargers == NULL || n == NULL)
    return CFG_EINVALID;
  *chargers = NULL;
  *n = 0;
  if (main == NULL)
    return CFG_EINVALID;
  cfg_diag scratch = {0};
  reporter r = {.diag = diag != NULL ? diag : &scratch};
  gw_charger_conf *loaded = NULL;
  size_t count = 0;
  int rc = load_chargers(&r, main, &loaded, &count);
  if (rc == CFG_OK && r.oom)
    rc = CFG_ENOMEM;
  if (rc == CFG_OK && r.problems > 0)
    rc = CFG_EINVALID;
  if (rc != CFG_OK) {
    gw_conf_chargers_free(loaded, count);
  } else {
    *chargers = loaded;
    *n = count;
  }
  cfg_diag_finish(&scratch);
  return rc;
}

void gw_conf_destroy(gw_conf *cfg)
{
  if (cfg == NULL)
    return;
  free(cfg->file);
  free(cfg->listen);
  free(cfg->tls_listen);
  free(cfg->tls_cert);
  free(cfg->tls_key);
  free(cfg->tls_ca);
  free(cfg->knx_url);
  free(cfg->store_dir);
  free(cfg->chargers_dir);
  gw_conf_chargers_free(cfg->chargers, cfg->n_chargers);
  free(cfg);
}
