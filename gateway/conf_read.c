/* The main config file and the per-charger parameter files.
 *
 * inih splits keys and values; a reader function in front of it counts
 * lines (the Debian inih has no line numbers in the handler), strips
 * comments, trims every line (so indented keys never turn into inih's
 * continuation lines) and sees section headers, so empty, unknown and
 * duplicated sections are reported too. Keys are rows of a table.
 */
#include "gateway/conf_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define MAX_STRING 255
#define MAX_PATH_LEN 4095
#define ID_MAX 48
#define PASSWORD_MAX 40         /* OCPP 1.6 AuthorizationKey */
#define NAME_MAX_LEN 128

static const char default_listen[] = "0.0.0.0:8016";
static const char default_knx_url[] = "local:/run/knx";
static const char default_store_dir[] = "/var/lib/ocppknx";
static const char default_chargers_dir[] = "chargers.d";
static const char default_remote_tag[] = "KNX";

/* ---- key tables ---------------------------------------------------------- */

static const knx_dpt time_dpts[] = {KNX_DPT_10_001, KNX_DPT_19_001, KNX_DPT_COUNT};
static const knx_dpt current_dpts[] = {KNX_DPT_14_019, KNX_DPT_9_021, KNX_DPT_COUNT};
static const knx_dpt power_dpts[] = {KNX_DPT_14_056, KNX_DPT_9_024, KNX_DPT_COUNT};
static const knx_dpt meter_dpts[] = {KNX_DPT_13_013, KNX_DPT_13_010, KNX_DPT_COUNT};

#define M(field) offsetof(gw_conf, field)
static const key_row main_rows[] = {
    {"ocpp", "listen", conf_parse_listen, M(listen), 0, MAX_STRING, NULL},
    {"ocpp", "tls_listen", conf_parse_listen, M(tls_listen), 0, MAX_STRING, NULL},
    {"ocpp", "tls_cert", conf_parse_string, M(tls_cert), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "tls_key", conf_parse_string, M(tls_key), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "tls_ca", conf_parse_string, M(tls_ca), 0, MAX_PATH_LEN, NULL},
    {"ocpp", "heartbeat_interval", conf_parse_int, M(heartbeat_interval), 10, 86400, NULL},
    {"ocpp", "call_timeout", conf_parse_int, M(call_timeout), 1, 600, NULL},
    {"ocpp", "accept_unknown", conf_parse_bool, M(accept_unknown), 0, 0, NULL},
    {"ocpp", "meter_sample_interval", conf_parse_int, M(meter_sample_interval), 1, 86400, NULL},
    {"ocpp", "max_message_size", conf_parse_int, M(max_message_size), 4096, 16777216, NULL},
    {"knx", "url", conf_parse_string, M(knx_url), 1, MAX_STRING, NULL},
    {"knx", "max_telegrams_per_second", conf_parse_int, M(max_telegrams_per_second), 1, 1000, NULL},
    {"store", "dir", conf_parse_string, M(store_dir), 1, MAX_PATH_LEN, NULL},
    {"log", "level", conf_parse_log_level, M(log_level), 0, 0, NULL},
    {"log", "trace_ocpp", conf_parse_bool, M(trace_ocpp), 0, 0, NULL},
    {"chargers", "dir", conf_parse_string, M(chargers_dir), 1, MAX_PATH_LEN, NULL},
    {"chargers", "tags_file", conf_parse_string, M(tags_file), 0, MAX_PATH_LEN, NULL},
    {"energy", "main_fuse", conf_parse_double, M(energy.main_fuse), 1, 1000, NULL},
    {"energy", "grid_current_l1", conf_parse_ga, M(energy.grid_current[0]), 0, 0, NULL},
    {"energy", "grid_current_l2", conf_parse_ga, M(energy.grid_current[1]), 0, 0, NULL},
    {"energy", "grid_current_l3", conf_parse_ga, M(energy.grid_current[2]), 0, 0, NULL},
    {"energy", "grid_current_dpt", conf_parse_dpt, M(energy.grid_current_dpt), 0, 0, current_dpts},
    {"energy", "grid_power", conf_parse_ga, M(energy.grid_power), 0, 0, NULL},
    {"energy", "grid_power_dpt", conf_parse_dpt, M(energy.grid_power_dpt), 0, 0, power_dpts},
    {"energy", "cheap_tariff", conf_parse_ga, M(energy.cheap_tariff), 0, 0, NULL},
    {"energy", "headroom_state", conf_parse_ga, M(energy.headroom_state), 0, 0, NULL},
    {"energy", "safe_current", conf_parse_double, M(energy.safe_current), 0, 80, NULL},
    {"energy", "stale_after", conf_parse_int, M(energy.stale_after), 5, 3600, NULL},
    {"energy", "test_time_scale", conf_parse_double, M(energy.test_time_scale), 1, 1000, NULL},
    {"status", "password", conf_parse_string, M(status_password), 1, MAX_STRING, NULL},
};
#undef M

#define C(field) offsetof(gw_charger_conf, field)
static const key_row charger_rows[] = {
    {"charger", "id", conf_parse_id, C(id), 1, ID_MAX, NULL},
    {"charger", "name", conf_parse_string, C(name), 1, NAME_MAX_LEN, NULL},
    {"charger", "security_profile", conf_parse_int, C(security_profile), 0, 3, NULL},
    {"charger", "password", conf_parse_string, C(password), 1, PASSWORD_MAX, NULL},
    {"charger", "normal_current", conf_parse_double, C(normal_current), 6, 80, NULL},
    {"charger", "fast_current", conf_parse_double, C(fast_current), 6, 80, NULL},
    {"charger", "current_hysteresis", conf_parse_double, C(current_hysteresis), 0, 80, NULL},
    {"charger", "power_hysteresis", conf_parse_double, C(power_hysteresis), 0, 100000, NULL},
    {"charger", "energy_hysteresis", conf_parse_double, C(energy_hysteresis), 0, 1000000, NULL},
    {"charger", "voltage", conf_parse_double, C(voltage), 100, 500, NULL},
    {"charger", "phases", conf_parse_phases, C(phases), 1, 3, NULL},
    {"charger", "time_dpt", conf_parse_dpt, C(time_dpt), 0, 0, time_dpts},
    {"charger", "current_dpt", conf_parse_dpt, C(current_dpt), 0, 0, current_dpts},
    {"charger", "power_dpt", conf_parse_dpt, C(power_dpt), 0, 0, power_dpts},
    {"charger", "meter_dpt", conf_parse_dpt, C(meter_dpt), 0, 0, meter_dpts},
    {"charger", "start_mode", conf_parse_start_mode, C(start_mode), 0, 0, NULL},
    {"charger", "tags", conf_parse_tags, C(tags), 0, 0, NULL},
    {"charger", "tag_match", conf_parse_tag_match, C(tag_match), 0, 0, NULL},
    {"charger", "ocpp_version", conf_parse_ocpp_version, C(ocpp_version), 0, 0, NULL},
    {"charger", "remote_tag", conf_parse_string, C(remote_tag), 1, ID_TOKEN_MAX, NULL},
    {"charger", "stop_mode", conf_parse_stop_mode, C(stop_mode), 0, 0, NULL},
    {"charger", "reservation_minutes", conf_parse_int, C(reservation_minutes), 1, 1440, NULL},
    {"charger", "tags_file", conf_parse_string, C(tags_file), 0, MAX_PATH_LEN, NULL},
    {"charger", "priority", conf_parse_int, C(priority), 1, 10, NULL},
    {"charger", "min_current", conf_parse_double, C(min_current), 6, 80, NULL},
    {"charger", "mode", conf_parse_charge_mode, C(mode), 0, 0, NULL},
    {"charger", "tag_modes", conf_parse_tag_modes, C(tag_mode_tags), 0, ID_TOKEN_MAX + 8, NULL},
    {"upstream", "url", conf_parse_string, C(upstream.url), 1, MAX_STRING, NULL},
    {"upstream", "identity", conf_parse_id, C(upstream.identity), 1, ID_MAX, NULL},
    {"upstream", "security_profile", conf_parse_int, C(upstream.security_profile), 0, 3, NULL},
    {"upstream", "password", conf_parse_string, C(upstream.password), 1, PASSWORD_MAX, NULL},
    {"upstream", "tls_ca", conf_parse_string, C(upstream.tls_ca), 0, MAX_PATH_LEN, NULL},
    {"upstream", "tls_cert", conf_parse_string, C(upstream.tls_cert), 0, MAX_PATH_LEN, NULL},
    {"upstream", "tls_key", conf_parse_string, C(upstream.tls_key), 0, MAX_PATH_LEN, NULL},
    {"upstream", "tags", conf_parse_upstream_tags, C(upstream.tags), 0, 0, NULL},
    {"upstream", "commands", conf_parse_commands, C(upstream.commands), 0, 0, NULL},
};
#undef C

static const char *const main_sections[] = {"ocpp", "knx", "store", "log", "chargers",
                                            "energy", "status"};
enum { ENERGY_SECTION = 5 };
static const char *const charger_sections[] = {"charger", "upstream"};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))
_Static_assert(ROWS(main_rows) <= MAX_ROWS, "raise MAX_ROWS");
_Static_assert(ROWS(charger_rows) <= MAX_ROWS, "raise MAX_ROWS");
_Static_assert(ROWS(main_sections) <= MAX_SECTIONS, "raise MAX_SECTIONS");

static const file_schema main_schema = {
    main_sections, ROWS(main_sections), main_rows, ROWS(main_rows), false};
static const file_schema charger_schema = {
    charger_sections, ROWS(charger_sections), charger_rows, ROWS(charger_rows), true};

/* ---- one file ------------------------------------------------------------ */

/* Strips a comment: a line starting with ';' or '#', or ';' after a blank
 * (inih's rule, applied here also where the value is empty). */
static char *strip_comment(char *s)
{
  s = conf_trim(s);
  if (*s == ';' || *s == '#') {
    *s = '\0';
    return s;
  }
  if (*s == '\0')
    return s; /* a blank line: s + 1 is past its end */
  for (char *p = s + 1; *p != '\0'; p++) {
    if (*p == ';' && isspace((unsigned char)p[-1])) {
      *p = '\0';
      break;
    }
  }
  return conf_trim(s);
}

static void enter_connector(parse_ctx *ctx, const char *number)
{
  gw_charger_conf *c = ctx->target;
  long n = strlen(number) <= 3 ? strtol(number, NULL, 10) : 0;
  ctx->kind = SECT_SKIP;
  if (n < 1 || n > GW_MAX_CONNECTORS) {
    conf_report(ctx->rep, ctx->file, ctx->line,
           "[connector %s]: connector number must be 1..%d", number,
           GW_MAX_CONNECTORS);
    return;
  }
  if (ctx->connector_line[n] != 0) {
    conf_report(ctx->rep, ctx->file, ctx->line,
           "[connector %ld]: section given twice (first on line %d)", n,
           ctx->connector_line[n]);
    return;
  }
  /* Sized to the sections found: a thousand one-connector chargers must
   * not carry room for eight each. */
  gw_connector_conf *grown =
      realloc(c->connectors, (c->n_connectors + 1) * sizeof *grown);
  if (grown == NULL) {
    ctx->rep->oom = true;
    return;
  }
  c->connectors = grown;
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
      conf_report(ctx->rep, ctx->file, ctx->line,
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
  conf_report(ctx->rep, ctx->file, ctx->line, "unknown section [%s]", name);
  ctx->kind = SECT_SKIP;
}

/* A section header: returns false when malformed. s stays as it is, for
 * inih. */
static bool section_header(parse_ctx *ctx, const char *s)
{
  const char *close = strchr(s, ']');
  if (close == NULL) {
    conf_report(ctx->rep, ctx->file, ctx->line, "missing ']' in section header");
    return false;
  }
  if (close[1] != '\0') { /* s is trimmed: anything here is not a blank */
    conf_report(ctx->rep, ctx->file, ctx->line, "text after the section header");
    return false;
  }
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)(close - s - 1), s + 1);
  enter_section(ctx, conf_trim(name));
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
    conf_report(ctx->rep, ctx->file, ctx->line, "expected \"key = value\" or \"[section]\"");
    return false;
  }
  if (key_len == 0) {
    conf_report(ctx->rep, ctx->file, ctx->line, "missing key before '%c'", s[0]);
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
    conf_report(ctx->rep, ctx->file, ctx->line, "more than %d lines", MAX_LINES_PER_FILE);
    return NULL;
  }
  char *s = ctx->buf;
  if (ctx->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
    s += 3;
  bool usable = true;
  if ((size_t)len != strlen(ctx->buf)) {
    conf_report(ctx->rep, ctx->file, ctx->line, "contains a NUL byte");
    usable = false;
  } else {
    s = strip_comment(s);
    if (strlen(s) + 2 > (size_t)num) {
      conf_report(ctx->rep, ctx->file, ctx->line, "line longer than %d characters",
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
    conf_report(ctx->rep, ctx->file, ctx->line, "%s: key outside any section", name);
    return 1;
  }
  if (ctx->kind == SECT_CONNECTOR) {
    set_connector_ga(ctx, name, value);
    return 1;
  }
  int i = conf_row_index(ctx->schema, ctx->section, name);
  if (i < 0) {
    conf_report(ctx->rep, ctx->file, ctx->line, "unknown key \"%s\" in [%s]", name,
           ctx->section);
    return 1;
  }
  if (ctx->key_line[i] != 0) {
    conf_report(ctx->rep, ctx->file, ctx->line, "%s: given twice (first on line %d)",
           name, ctx->key_line[i]);
    return 1;
  }
  ctx->key_line[i] = ctx->line;
  const key_row *row = &ctx->schema->rows[i];
  char why[256];
  int rc = row->parse(row, value, (char *)ctx->target + row->offset, why, sizeof why);
  if (rc == GW_ENOMEM)
    ctx->rep->oom = true;
  else if (rc != GW_OK)
    conf_report(ctx->rep, ctx->file, ctx->line, "%s: %s", name, why);
  return 1;
}


static void set_connector_ga(parse_ctx *ctx, const char *key, const char *value)
{
  int obj = conf_object_by_key(key);
  if (obj < 0) {
    conf_report(ctx->rep, ctx->file, ctx->line, "unknown key \"%s\" in [connector %d]",
           key, ctx->conn->id);
    return;
  }
  if (ctx->conn->line[obj] != 0) {
    conf_report(ctx->rep, ctx->file, ctx->line, "%s: given twice (first on line %d)",
           key, ctx->conn->line[obj]);
    return;
  }
  ctx->conn->line[obj] = ctx->line;
  uint16_t ga;
  if (knx_ga_parse(value, &ga) != KNX_OK) {
    char why[96];
    conf_ga_problem(value, why, sizeof why);
    conf_report(ctx->rep, ctx->file, ctx->line, "%s: invalid group address \"%s\" (%s)",
           key, value, why);
    return;
  }
  if (ga == 0) {
    conf_report(ctx->rep, ctx->file, ctx->line,
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
  if (ctx->text != NULL && ctx->text_len == 0)
    return true; /* an empty file; fmemopen wants a size */
  ctx->fp = ctx->text != NULL
              ? fmemopen((void *)ctx->text, ctx->text_len, "r")
              : fopen(ctx->file, "r");
  if (ctx->fp == NULL) {
    conf_report(ctx->rep, ctx->file, 0, "%s", strerror(errno));
    return false;
  }
  struct stat st;
  if (ctx->text == NULL &&
      (fstat(fileno(ctx->fp), &st) != 0 || !S_ISREG(st.st_mode))) {
    conf_report(ctx->rep, ctx->file, 0, "not a regular file");
    fclose(ctx->fp);
    ctx->fp = NULL;
    return false;
  }
  int rc = ini_parse_stream(read_line, ctx, handle_key, ctx);
  if (rc == -2)
    ctx->rep->oom = true;
  else if (rc > 0) /* only if the reader let something odd through */
    conf_report(ctx->rep, ctx->file, rc, "syntax error");
  if (ferror(ctx->fp))
    conf_report(ctx->rep, ctx->file, 0, "read error");
  fclose(ctx->fp);
  ctx->fp = NULL;
  free(ctx->buf);
  ctx->buf = NULL;
  return true;
}

/* ---- chargers ------------------------------------------------------------ */

static int resolve_path(char **slot, const char *dir);

typedef struct {
  reporter *rep;
  const char *file;
} tags_report;

static void on_tags_problem(void *ud, int line, const char *message)
{
  tags_report *t = ud;
  conf_report(t->rep, t->file, line, "%s", message);
}

static bool reported_before(const reporter *r, const char *path)
{
  size_t len = strlen(path);
  for (size_t i = 0; i < r->diag->n; i++)
    if (strncmp(r->diag->lines[i], path, len) == 0 &&
        r->diag->lines[i][len] == ':')
      return true;
  return false;
}

/* The charger's tag list: its own tags_file (relative to its file), else
 * the main file's. Every bad line is a diagnostic of the tag file. */
static int load_tag_list(reporter *r, const gw_conf *m, gw_charger_conf *c)
{
  char *dir = conf_dir_of(c->file);
  int rc = dir ? resolve_path(&c->tags_file, dir) : GW_ENOMEM;
  free(dir);
  const char *path = c->tags_file ? c->tags_file : m->tags_file;
  if (rc != GW_OK || path == NULL)
    return rc;
  tags_report t = {r, path};
  /* the main file's list is read for every charger: say its problems once */
  bool again = reported_before(r, path);
  rc = gw_tags_load(path, &c->tag_list, again ? NULL : on_tags_problem, &t);
  if (rc == GW_ECONFIG && again)
    r->problems++;
  return rc == GW_ENOMEM ? GW_ENOMEM : GW_OK;
}

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
  c->ocpp_version = OCPP_VERSION_AUTO;
  c->stop_mode = GW_STOP_STOP;
  c->reservation_minutes = 30;
  c->priority = 5;
  c->min_current = 6;
  c->mode = EM_MODE_NOW;
}

static void charger_finish(gw_charger_conf *c)
{
  free(c->file);
  free(c->id);
  free(c->name);
  free(c->password);
  free(c->previous_password);
  conf_free_strings(c->tags, c->n_tags);
  free(c->remote_tag);
  free(c->tags_file);
  gw_tags_destroy(c->tag_list);
  free(c->connectors);
  conf_free_strings(c->tag_mode_tags, c->n_tag_modes);
  free(c->tag_mode_modes);
  gw_upstream_conf *u = &c->upstream;
  free(u->url);
  free(u->identity);
  free(u->password);
  free(u->tls_ca);
  free(u->tls_cert);
  free(u->tls_key);
  conf_free_strings(u->tags, u->n_tags);
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


static int compare_connectors(const void *a, const void *b)
{
  return ((const gw_connector_conf *)a)->id - ((const gw_connector_conf *)b)->id;
}

/* Values that are missing after the parse get their defaults here. */
static int charger_fill(gw_charger_conf *c)
{
  if (c->name == NULL && c->id != NULL && (c->name = strdup(c->id)) == NULL)
    return GW_ENOMEM;
  if (c->remote_tag == NULL && (c->remote_tag = strdup(default_remote_tag)) == NULL)
    return GW_ENOMEM;
  if (c->tags == NULL) {
    c->tags = calloc(1, sizeof *c->tags);
    if (c->tags == NULL || (c->tags[0] = strdup("*")) == NULL)
      return GW_ENOMEM;
    c->n_tags = 1;
  }
  if (c->n_connectors == 0) {
    c->connectors = calloc(1, sizeof *c->connectors);
    if (c->connectors == NULL)
      return GW_ENOMEM;
    c->connectors[0].id = 1;
    c->n_connectors = 1;
  }
  qsort(c->connectors, c->n_connectors, sizeof c->connectors[0], compare_connectors);
  return GW_OK;
}

static int resolve_path(char **slot, const char *dir);

/* [upstream]: the identity defaults to the charger's id; paths are
 * relative to the main file, as the listener's are. */
static int upstream_fill(gw_charger_conf *c, const gw_conf *m, int line)
{
  gw_upstream_conf *u = &c->upstream;
  u->line = line;
  if (u->url == NULL)
    return GW_OK;
  if (u->identity == NULL && c->id != NULL && (u->identity = strdup(c->id)) == NULL)
    return GW_ENOMEM;
  if (u->tags == NULL) {
    u->tags = calloc(1, sizeof *u->tags);
    if (u->tags == NULL || (u->tags[0] = strdup("*")) == NULL)
      return GW_ENOMEM;
    u->n_tags = 1;
  }
  char *dir = conf_dir_of(m->file);
  int rc = dir == NULL ? GW_ENOMEM : GW_OK;
  char **paths[] = {&u->tls_ca, &u->tls_cert, &u->tls_key};
  for (size_t i = 0; rc == GW_OK && i < sizeof paths / sizeof paths[0]; i++)
    rc = resolve_path(paths[i], dir);
  free(dir);
  return rc;
}

/* text: the file's contents when loading from memory, else NULL. */
static int load_charger(reporter *r, const gw_conf *m, const char *path,
                        const gw_conf_text *text, gw_charger_conf *c,
                        int *id_line)
{
  charger_defaults(c);
  if ((c->file = strdup(path)) == NULL)
    return GW_ENOMEM;
  parse_ctx ctx = {.rep = r, .file = c->file, .schema = &charger_schema, .target = c};
  if (text != NULL) {
    ctx.text = text->text != NULL ? text->text : "";
    ctx.text_len = text->text != NULL ? text->len : 0;
  }
  bool opened = parse_file(&ctx);
  if (r->oom || charger_fill(c) != GW_OK ||
      upstream_fill(c, m, ctx.section_line[1]) != GW_OK)
    return GW_ENOMEM;
  if (opened)
    conf_check_charger(&ctx, c, m);
  *id_line = conf_line_of(&ctx, "id");
  /* from memory nothing else is read, as for the TLS files */
  return opened && text == NULL ? load_tag_list(r, m, c) : GW_OK;
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
    conf_report(r, dir, 0, "%s", strerror(errno));
    return GW_ECONFIG;
  }
  char **names = NULL;
  size_t n = 0;
  int rc = GW_OK;
  struct dirent *e;
  while (rc == GW_OK && (e = readdir(d)) != NULL) {
    if (!is_conf_name(e->d_name))
      continue;
    if (n == MAX_CHARGER_FILES) {
      conf_report(r, dir, 0, "more than %d charger files", MAX_CHARGER_FILES);
      rc = GW_ECONFIG;
      break;
    }
    char **grown = realloc(names, (n + 1) * sizeof *grown);
    if (grown == NULL || (grown[n] = strdup(e->d_name)) == NULL) {
      names = grown != NULL ? grown : names;
      rc = GW_ENOMEM;
      break;
    }
    names = grown;
    n++;
  }
  closedir(d);
  if (rc != GW_OK) {
    conf_free_strings(names, n);
    return rc;
  }
  if (n > 0)
    qsort(names, n, sizeof *names, compare_names);
  *out = names;
  *n_out = n;
  return GW_OK;
}

/* The charger files names[0..n) in chargers_dir, or, with texts, the
 * files of those names read from texts[0..n). */
static int load_set(reporter *r, const gw_conf *m, char **names,
                    const gw_conf_text *texts, size_t n_names,
                    gw_charger_conf **out, size_t *n_out)
{
  int rc = GW_OK;
  gw_charger_conf *chargers = calloc(n_names > 0 ? n_names : 1, sizeof *chargers);
  int *id_lines = calloc(n_names > 0 ? n_names : 1, sizeof *id_lines);
  size_t n = 0;
  if (chargers == NULL || id_lines == NULL)
    rc = GW_ENOMEM;
  for (size_t i = 0; rc == GW_OK && i < n_names; i++) {
    char *path = conf_join_path(m->chargers_dir, names[i]);
    if (path == NULL) {
      rc = GW_ENOMEM;
      break;
    }
    n++; /* counted first so a partial charger is freed too */
    rc = load_charger(r, m, path, texts != NULL ? &texts[i] : NULL,
                      &chargers[i], &id_lines[i]);
    free(path);
  }
  if (rc == GW_OK) {
    conf_check_duplicate_ids(r, chargers, id_lines, n);
    rc = conf_check_ga_conflicts(r, chargers, n);
  }
  free(id_lines);
  if (rc != GW_OK) {
    gw_conf_chargers_free(chargers, n);
    return rc;
  }
  *out = chargers;
  *n_out = n;
  return GW_OK;
}

/* texts NULL: every "*.conf" of chargers_dir; else n_texts files named
 * "1.conf", "2.conf", ... in it, read from memory. */
static int load_chargers(reporter *r, const gw_conf *m,
                         const gw_conf_text *texts, size_t n_texts,
                         gw_charger_conf **out, size_t *n_out)
{
  char **names = NULL;
  size_t n_names = 0;
  *out = NULL;
  *n_out = 0;
  int rc = GW_OK;
  if (texts == NULL) {
    rc = list_conf_files(r, m->chargers_dir, &names, &n_names);
  } else if (n_texts > MAX_CHARGER_FILES) {
    conf_report(r, m->chargers_dir, 0, "more than %d charger files",
                MAX_CHARGER_FILES);
    rc = GW_ECONFIG;
  } else if ((names = calloc(n_texts > 0 ? n_texts : 1, sizeof *names)) == NULL) {
    rc = GW_ENOMEM;
  } else {
    for (; rc == GW_OK && n_names < n_texts; n_names++) {
      char name[32];
      snprintf(name, sizeof name, "%zu.conf", n_names + 1);
      if ((names[n_names] = strdup(name)) == NULL)
        rc = GW_ENOMEM;
    }
  }
  if (rc == GW_OK)
    rc = load_set(r, m, names, texts, n_names, out, n_out);
  conf_free_strings(names, n_names);
  return rc;
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
  m->energy.main_fuse = 25;
  m->energy.grid_current_dpt = KNX_DPT_14_019;
  m->energy.grid_power_dpt = KNX_DPT_14_056;
  m->energy.safe_current = 6;
  m->energy.stale_after = 60;
  m->energy.test_time_scale = 1;
}

static int default_string(char **slot, const char *value)
{
  if (*slot == NULL && (*slot = strdup(value)) == NULL)
    return GW_ENOMEM;
  return GW_OK;
}

/* Relative paths become relative to the main file's directory; an empty TLS
 * path means "not set" (NULL). */
static int resolve_path(char **slot, const char *dir)
{
  if (*slot == NULL)
    return GW_OK;
  if ((*slot)[0] == '\0') {
    free(*slot);
    *slot = NULL;
    return GW_OK;
  }
  char *joined = conf_join_path(dir, *slot);
  if (joined == NULL)
    return GW_ENOMEM;
  free(*slot);
  *slot = joined;
  return GW_OK;
}

static int main_fill(gw_conf *m)
{
  char *dir = conf_dir_of(m->file);
  int rc = dir == NULL ? GW_ENOMEM : GW_OK;
  if (rc == GW_OK)
    rc = default_string(&m->listen, default_listen);
  if (rc == GW_OK)
    rc = default_string(&m->tls_listen, "");
  if (rc == GW_OK)
    rc = default_string(&m->knx_url, default_knx_url);
  if (rc == GW_OK)
    rc = default_string(&m->store_dir, default_store_dir);
  if (rc == GW_OK)
    rc = default_string(&m->chargers_dir, default_chargers_dir);
  char **paths[] = {&m->tls_cert, &m->tls_key, &m->tls_ca, &m->store_dir,
                    &m->chargers_dir, &m->tags_file};
  for (size_t i = 0; rc == GW_OK && i < sizeof paths / sizeof paths[0]; i++)
    rc = resolve_path(paths[i], dir);
  free(dir);
  return rc;
}


/* Runs the whole load; the diagnostics go to r. */
/* Runs the whole load from the files, or from memory when mem is given
 * (path is then only the main file's name); the diagnostics go to r. */
typedef struct {
  const gw_conf_text *main;
  const gw_conf_text *chargers;
  size_t n_chargers;
} mem_source;

static int load_all(reporter *r, const char *path, const mem_source *mem,
                    gw_conf **out)
{
  gw_conf *m = malloc(sizeof *m);
  if (m == NULL)
    return GW_ENOMEM;
  main_defaults(m);
  int rc = GW_OK;
  if ((m->file = strdup(path)) == NULL) {
    rc = GW_ENOMEM;
    goto done;
  }
  parse_ctx ctx = {.rep = r, .file = m->file, .schema = &main_schema, .target = m};
  if (mem != NULL) {
    ctx.text = mem->main->text != NULL ? mem->main->text : "";
    ctx.text_len = mem->main->text != NULL ? mem->main->len : 0;
  }
  bool opened = parse_file(&ctx);
  if (r->oom || main_fill(m) != GW_OK) {
    rc = GW_ENOMEM;
    goto done;
  }
  if (!opened) {
    rc = GW_ECONFIG; /* without the main file nothing else is known */
    goto done;
  }
  conf_check_tls(r, &ctx, m, mem == NULL);
  m->energy.enabled = ctx.section_line[ENERGY_SECTION] != 0;
  conf_check_energy(&ctx, m, ctx.section_line[ENERGY_SECTION]);
  rc = load_chargers(r, m, mem != NULL ? mem->chargers : NULL,
                     mem != NULL ? mem->n_chargers : 0, &m->chargers,
                     &m->n_chargers);
  if (rc == GW_OK && r->oom)
    rc = GW_ENOMEM;
  if (rc == GW_OK && r->problems > 0)
    rc = GW_ECONFIG;
done:
  if (rc != GW_OK) {
    gw_conf_destroy(m);
    m = NULL;
  }
  *out = m;
  return rc;
}

int gw_conf_load(const char *path, gw_conf **out, gw_conf_diag *diag)
{
  if (out == NULL)
    return GW_EINVAL;
  *out = NULL;
  gw_conf_diag scratch = {0};
  reporter r = {.diag = diag != NULL ? diag : &scratch};
  int rc = path == NULL ? GW_EINVAL : load_all(&r, path, NULL, out);
  if (r.oom && rc == GW_OK) {
    gw_conf_destroy(*out);
    *out = NULL;
    rc = GW_ENOMEM;
  }
  gw_conf_diag_finish(&scratch);
  return rc;
}

int gw_conf_load_strings(const gw_conf_text *main,
                         const gw_conf_text *chargers, size_t n_chargers,
                         gw_conf **out, gw_conf_diag *diag)
{
  if (out == NULL)
    return GW_EINVAL;
  *out = NULL;
  if (main == NULL || (chargers == NULL && n_chargers > 0))
    return GW_EINVAL;
  static const gw_conf_text none = {"", 0};
  mem_source mem = {main, chargers != NULL ? chargers : &none, n_chargers};
  gw_conf_diag scratch = {0};
  reporter r = {.diag = diag != NULL ? diag : &scratch};
  int rc = load_all(&r, "main.conf", &mem, out);
  if (r.oom && rc == GW_OK) {
    gw_conf_destroy(*out);
    *out = NULL;
    rc = GW_ENOMEM;
  }
  gw_conf_diag_finish(&scratch);
  return rc;
}

int gw_conf_load_chargers(const gw_conf *main, gw_charger_conf **chargers,
                          size_t *n, gw_conf_diag *diag)
{
  if (chargers == NULL || n == NULL)
    return GW_EINVAL;
  *chargers = NULL;
  *n = 0;
  if (main == NULL)
    return GW_EINVAL;
  gw_conf_diag scratch = {0};
  reporter r = {.diag = diag != NULL ? diag : &scratch};
  gw_charger_conf *loaded = NULL;
  size_t count = 0;
  int rc = load_chargers(&r, main, NULL, 0, &loaded, &count);
  if (rc == GW_OK && r.oom)
    rc = GW_ENOMEM;
  if (rc == GW_OK && r.problems > 0)
    rc = GW_ECONFIG;
  if (rc != GW_OK) {
    gw_conf_chargers_free(loaded, count);
  } else {
    *chargers = loaded;
    *n = count;
  }
  gw_conf_diag_finish(&scratch);
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
  free(cfg->status_password);
  free(cfg->chargers_dir);
  free(cfg->tags_file);
  gw_conf_chargers_free(cfg->chargers, cfg->n_chargers);
  free(cfg);
}
