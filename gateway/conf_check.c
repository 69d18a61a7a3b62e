/* The configuration checks that look at more than one value: a charger's
 * settings against each other and the main file, duplicate charger ids,
 * group addresses two objects cannot share, the TLS files; and the
 * diagnostics list every check reports to. */
#include "gateway/conf_impl.h"
#include "ocpp/ocpp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics --------------------------------------------------------- */

void gw_conf_diag_finish(gw_conf_diag *d)
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

void conf_report(reporter *r, const char *file, int line, const char *fmt, ...)
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

/* ---- the energy manager -------------------------------------------------- */

void conf_check_energy(const parse_ctx *ctx, const gw_conf *m,
                       int section_line)
{
  const gw_energy_conf *e = &m->energy;
  if (!e->enabled)
    return;
  static const char *const keys[3] = {"grid_current_l1", "grid_current_l2",
                                      "grid_current_l3"};
  for (int p = 0; p < 3; p++) {
    if (!e->grid_current[p].set && conf_line_of(ctx, keys[p]) == 0)
      conf_report(ctx->rep, m->file, section_line,
                  "[energy]: %s is missing (the meter's current per phase "
                  "is what keeps the fuse)", keys[p]);
  }
  if (e->safe_current > 0 && e->safe_current < 6)
    conf_report(ctx->rep, m->file, conf_line_of(ctx, "safe_current"),
                "safe_current: %g A is below the IEC 61851 minimum of 6 A "
                "(0 pauses)", e->safe_current);
}

/* The energy settings of a charger: only with [energy], and min_current
 * within what the charger is given. */
static void conf_check_charger_energy(const parse_ctx *ctx,
                                      const gw_charger_conf *c,
                                      const gw_conf *m)
{
  if (c->min_current > c->fast_current)
    conf_report(ctx->rep, c->file, conf_line_of(ctx, "min_current"),
                "min_current %g A is above fast_current %g A", c->min_current,
                c->fast_current);
  if (m->energy.enabled)
    return;
  for (size_t k = 0; k < c->n_connectors; k++) {
    for (int obj = 0; obj < GW_OBJ_COUNT; obj++) {
      if (gw_object_needs_energy(obj) && c->connectors[k].has_ga[obj])
        conf_report(ctx->rep, c->file, c->connectors[k].line[obj],
                    "%s: needs an [energy] section in %s", gw_object_key(obj),
                    m->file);
    }
  }
}

/* ---- one charger --------------------------------------------------------- */

/* [upstream]: the checks the link makes when it starts, so that
 * --check-config finds the same problems. */
static void check_upstream(const parse_ctx *ctx, const gw_charger_conf *c)
{
  const gw_upstream_conf *u = &c->upstream;
  if (u->line == 0)
    return;
  if (u->url == NULL) {
    conf_report(ctx->rep, c->file, u->line, "url is missing in [upstream]");
    return;
  }
  ocpp_upstream_options o = {
    .url = u->url, .identity = u->identity ? u->identity : "",
    .security_profile = u->security_profile, .password = u->password,
    .tls_ca = u->tls_ca, .tls_cert = u->tls_cert, .tls_key = u->tls_key,
  };
  char why[160];
  if (ocpp_upstream_check_options(&o, why, sizeof why) == OCPP_OK) {
    conf_check_upstream_files(ctx, c);
    return;
  }
  int line = conf_line_in(ctx, "upstream", strncmp(why, "url", 3) == 0
                                                ? "url" : "security_profile");
  conf_report(ctx->rep, c->file, line ? line : u->line, "[upstream] %s", why);
}

void conf_check_charger(const parse_ctx *ctx, const gw_charger_conf *c,
                        const gw_conf *m)
{
  reporter *r = ctx->rep;
  const char *f = c->file;
  int profile_line = conf_line_of(ctx, "security_profile");
  if (c->id == NULL && conf_line_of(ctx, "id") == 0)
    conf_report(r, f, 0, "id is missing in [charger]");
  if (c->normal_current > c->fast_current) {
    int line = conf_line_of(ctx, "fast_current");
    conf_report(r, f, line != 0 ? line : conf_line_of(ctx, "normal_current"),
           "normal_current %g A is above fast_current %g A", c->normal_current,
           c->fast_current);
  }
  int p = c->security_profile;
  bool tls = m->tls_listen != NULL && m->tls_listen[0] != '\0';
  if ((p == 1 || p == 2) && c->password == NULL)
    conf_report(r, f, profile_line, "security_profile: %d needs a password", p);
  if ((p == 2 || p == 3) && !tls)
    conf_report(r, f, profile_line, "security_profile: %d needs tls_listen in %s", p, m->file);
  if (p == 3 && m->tls_ca == NULL)
    conf_report(r, f, profile_line, "security_profile: 3 needs tls_ca in %s", m->file);
  conf_check_charger_energy(ctx, c, m);
  check_upstream(ctx, c);
}

void conf_check_duplicate_ids(reporter *r, const gw_charger_conf *c,
                              const int *id_lines, size_t n)
{
  for (size_t i = 1; i < n; i++) {
    for (size_t k = 0; c[i].id != NULL && k < i; k++) {
      if (c[k].id != NULL && strcmp(c[i].id, c[k].id) == 0) {
        conf_report(r, c[i].file, id_lines[i],
               "id: \"%s\" is already used by %s:%d", c[i].id, c[k].file,
               id_lines[k]);
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
  else if (!gw_object_is_state(a->obj) && !gw_object_is_state(b->obj))
    snprintf(why, cap, "group address %s is also the command address of %s at %s:%d",
             ga, key, a->charger->file, a->line);
  else if (!gw_object_is_state(a->obj) || !gw_object_is_state(b->obj))
    snprintf(why, cap, "group address %s is also used by %s at %s:%d "
             "(only state objects of one DPT may share an address)", ga, key,
             a->charger->file, a->line);
  else
    return NULL;
  return why;
}

int conf_check_ga_conflicts(reporter *r, const gw_charger_conf *chargers, size_t n)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += chargers[i].n_connectors * GW_OBJ_COUNT;
  ga_use *uses = calloc(total > 0 ? total : 1, sizeof *uses);
  if (uses == NULL)
    return GW_ENOMEM;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < chargers[i].n_connectors; k++) {
      const gw_connector_conf *conn = &chargers[i].connectors[k];
      for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++) {
        if (!conn->has_ga[obj])
          continue;
        uses[count] = (ga_use){conn->ga[obj], &chargers[i], conn->line[obj],
                               obj, i * 100000u + (size_t)conn->line[obj]};
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
        conf_report(r, uses[j].charger->file, uses[j].line, "%s: %s",
               gw_object_key(uses[j].obj), why);
        break;
      }
    }
  }
  free(uses);
  return GW_OK;
}

/* ---- TLS files ----------------------------------------------------------- */

typedef struct {
  reporter *r;
  const parse_ctx *ctx;
  const char *section;          /* of the keys: "ocpp" or "upstream" */
} tls_report;

static void on_tls_problem(void *user_data, ocpp_tls_file file,
                           const char *message)
{
  tls_report *t = user_data;
  const char *key = "tls_cert";
  switch (file) {
  case OCPP_TLS_FILE_CERT: key = "tls_cert"; break;
  case OCPP_TLS_FILE_KEY: key = "tls_key"; break;
  case OCPP_TLS_FILE_CA: key = "tls_ca"; break;
  }
  conf_report(t->r, t->ctx->file, conf_line_in(t->ctx, t->section, key),
              "%s: %s", key, message);
}

void conf_check_tls(reporter *r, const parse_ctx *ctx, const gw_conf *m,
                    bool read_files)
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
    if (files[i].path == NULL && files[i].required)
      conf_report(r, ctx->file, conf_line_of(ctx, "tls_listen"),
                  "tls_listen: needs %s", files[i].key);
  }
  tls_report t = {r, ctx, "ocpp"};
  if (read_files &&
      ocpp_tls_check_files(m->tls_cert, m->tls_key, m->tls_ca, on_tls_problem,
                           &t) == OCPP_ENOMEM)
    r->oom = true;
}

void conf_check_upstream_files(const parse_ctx *ctx, const gw_charger_conf *c)
{
  const gw_upstream_conf *u = &c->upstream;
  if (u->url == NULL || ctx->text != NULL) /* from memory: no files */
    return;
  tls_report t = {ctx->rep, ctx, "upstream"};
  if (ocpp_tls_check_files(u->tls_cert, u->tls_key, u->tls_ca, on_tls_problem,
                           &t) == OCPP_ENOMEM)
    ctx->rep->oom = true;
}
