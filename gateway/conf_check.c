/* The configuration checks that look at more than one value: a charger's
 * settings against each other and the main file, duplicate charger ids,
 * group addresses two objects cannot share, the TLS files; and the
 * diagnostics list every check reports to. */
#include "gateway/conf_impl.h"
#include "ocpp/ocpp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

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

/* ---- one charger --------------------------------------------------------- */

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

static void check_readable(reporter *r, const parse_ctx *ctx, const char *key,
                           const char *path)
{
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    conf_report(r, ctx->file, conf_line_of(ctx, key), "%s: cannot read \"%s\": %s", key,
           path, strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
    conf_report(r, ctx->file, conf_line_of(ctx, key), "%s: \"%s\" is not a regular file",
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
  int line = conf_line_of(ctx, "tls_cert");
  WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(path, WOLFSSL_FILETYPE_PEM);
  if (x == NULL) {
    conf_report(r, ctx->file, line, "tls_cert: \"%s\" holds no PEM certificate", path);
    return false;
  }
  char when[64];
  WOLFSSL_ASN1_TIME *not_before = wolfSSL_X509_get_notBefore(x);
  WOLFSSL_ASN1_TIME *not_after = wolfSSL_X509_get_notAfter(x);
  if (not_before != NULL && wolfSSL_X509_cmp_current_time(not_before) > 0) {
    format_asn1_time(not_before, when, sizeof when);
    conf_report(r, ctx->file, line, "tls_cert: \"%s\" is not valid before %s", path,
           when);
  }
  if (not_after != NULL && wolfSSL_X509_cmp_current_time(not_after) < 0) {
    format_asn1_time(not_after, when, sizeof when);
    conf_report(r, ctx->file, line, "tls_cert: \"%s\" expired on %s", path, when);
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
      conf_report(r, ctx->file, conf_line_of(ctx, "tls_key"),
             "tls_key: \"%s\" holds no PEM private key", m->tls_key);
  }
  if (cert_ok && key_ok && !ocpp_tls_key_matches_cert(m->tls_cert, m->tls_key))
    conf_report(r, ctx->file, conf_line_of(ctx, "tls_key"),
           "tls_key: \"%s\" does not match the certificate \"%s\"", m->tls_key,
           m->tls_cert);
  if (readable_file(m->tls_ca) &&
      wolfSSL_CTX_load_verify_locations(tls, m->tls_ca, NULL) != WOLFSSL_SUCCESS)
    conf_report(r, ctx->file, conf_line_of(ctx, "tls_ca"),
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

void conf_check_tls(reporter *r, const parse_ctx *ctx, const gw_conf *m)
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
      conf_report(r, ctx->file, conf_line_of(ctx, "tls_listen"), "tls_listen: needs %s",
             files[i].key);
  }
  check_tls_files(r, ctx, m);
}
