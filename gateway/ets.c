/* The group list the ETS readers build: adding groups, notes, ETS's DPT
 * text, and choosing the reader for a file. */
#include "gateway/ets_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ets_run(ets_reader read, const char *data, size_t len, gw_ets **out,
            gw_conf_diag *notes, char *why, size_t cap)
{
  char scratch[8];
  if (why == NULL || cap == 0)
    why = scratch, cap = sizeof scratch;
  why[0] = '\0';
  if (data == NULL || out == NULL) {
    snprintf(why, cap, "no input");
    return GW_EINVAL;
  }
  *out = NULL;
  if (len > GW_ETS_MAX_BYTES) {
    snprintf(why, cap, "larger than %u bytes", GW_ETS_MAX_BYTES);
    return GW_EINVAL;
  }
  ets_builder b = {calloc(1, sizeof(gw_ets)), notes};
  int rc = b.ets ? read(data, len, &b, why, cap) : GW_ENOMEM;
  if (rc == GW_OK && b.ets->n == 0) {
    snprintf(why, cap, "no group address in the export");
    rc = GW_EINVAL;
  }
  if (rc == GW_ENOMEM)
    snprintf(why, cap, "out of memory");
  if (rc == GW_OK)
    *out = b.ets;
  else
    gw_ets_destroy(b.ets);
  return rc;
}

void gw_ets_destroy(gw_ets *ets)
{
  if (ets == NULL)
    return;
  for (size_t i = 0; i < ets->n; i++) {
    free((char *)ets->groups[i].name);
    free((char *)ets->groups[i].path);
  }
  free(ets->groups);
  free(ets);
}

size_t gw_ets_count(const gw_ets *ets)
{
  return ets ? ets->n : 0;
}

const gw_ets_group *gw_ets_group_at(const gw_ets *ets, size_t i)
{
  return (ets && i < ets->n) ? &ets->groups[i] : NULL;
}

static int notes_vadd(gw_conf_diag *notes, const char *prefix, const char *fmt,
                      va_list ap)
{
  if (notes == NULL || notes->n > GW_NOTES_MAX)
    return GW_OK;
  char msg[512];
  int off = snprintf(msg, sizeof msg, "%s", prefix);
  if (notes->n == GW_NOTES_MAX)
    snprintf(msg, sizeof msg, "more problems left out");
  else
    vsnprintf(msg + off, sizeof msg - (size_t)off, fmt, ap);
  char **lines = realloc(notes->lines, (notes->n + 1) * sizeof *lines);
  if (lines == NULL)
    return GW_ENOMEM;
  notes->lines = lines;
  if ((lines[notes->n] = strdup(msg)) == NULL)
    return GW_ENOMEM;
  notes->n++;
  return GW_OK;
}

int gw_notes_add(gw_conf_diag *notes, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = notes_vadd(notes, "", fmt, ap);
  va_end(ap);
  return rc;
}

int ets_note(ets_builder *b, int line, const char *fmt, ...)
{
  char prefix[24] = "";
  if (line > 0)
    snprintf(prefix, sizeof prefix, "line %d: ", line);
  va_list ap;
  va_start(ap, fmt);
  int rc = notes_vadd(b->notes, prefix, fmt, ap);
  va_end(ap);
  return rc;
}

char *ets_clip(char *s, size_t max)
{
  size_t n = strlen(s);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--; /* s[n] would continue a sequence cut in two */
    s[n] = '\0';
  }
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  size_t lead = strspn(s, " \t\r\n");
  memmove(s, s + lead, n - lead + 1);
  return s;
}

static int read_number(const char **p, int *out)
{
  if (!isdigit((unsigned char)**p))
    return GW_EINVAL;
  long v = 0;
  while (isdigit((unsigned char)**p)) {
    v = v * 10 + (**p - '0');
    if (v > 65535)
      return GW_EINVAL;
    (*p)++;
  }
  *out = (int)v;
  return GW_OK;
}

int ets_parse_dpt(const char *text, int *dpt_main, int *dpt_sub)
{
  /* The last entry is the one given to the group itself (ETS lists the
   * DPTs of its objects before it). */
  const char *last = text;
  for (const char *c = text; *c; c++)
    if (*c == ',')
      last = c + 1;
  while (isspace((unsigned char)*last))
    last++;
  const char *p = last;
  if (strncasecmp(p, "DPST-", 5) == 0)
    p += 5;
  else if (strncasecmp(p, "DPT-", 4) == 0)
    p += 4;
  int m, s = -1;
  if (read_number(&p, &m) != GW_OK)
    return GW_EINVAL;
  if (*p == '-' || *p == '.') {
    p++;
    if (read_number(&p, &s) != GW_OK)
      return GW_EINVAL;
  }
  while (isspace((unsigned char)*p))
    p++;
  if (*p != '\0')
    return GW_EINVAL;
  *dpt_main = m;
  *dpt_sub = s;
  return GW_OK;
}

static char *clipped_copy(const char *s)
{
  char *c = strndup(s ? s : "", GW_ETS_MAX_NAME + 8);
  return c ? ets_clip(c, GW_ETS_MAX_NAME) : NULL;
}

int ets_add(ets_builder *b, uint16_t ga, const char *name, const char *path,
            const char *dpts, int line)
{
  gw_ets *e = b->ets;
  char text[KNX_GA_STRLEN];
  knx_ga_format(ga, text);
  if (ga == 0)
    return ets_note(b, line, "0/0/0 is the broadcast address, no group: skipped");
  if (e->seen[ga])
    return ets_note(b, line, "%s is in the export twice: the first is kept", text);
  if (e->n >= GW_ETS_MAX_GROUPS)
    return GW_EINVAL;
  gw_ets_group g = {.ga = ga, .dpt_main = -1, .dpt_sub = -1, .line = line};
  if (dpts && *dpts && ets_parse_dpt(dpts, &g.dpt_main, &g.dpt_sub) != GW_OK) {
    int rc = ets_note(b, line, "%s: DPT \"%.40s\" not understood, ignored", text, dpts);
    if (rc != GW_OK)
      return rc;
  }
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 64;
    gw_ets_group *grown = realloc(e->groups, cap * sizeof *grown);
    if (grown == NULL)
      return GW_ENOMEM;
    e->groups = grown;
    e->cap = cap;
  }
  char *n = clipped_copy(name), *pa = clipped_copy(path);
  if (n == NULL || pa == NULL) {
    free(n);
    free(pa);
    return GW_ENOMEM;
  }
  g.name = n;
  g.path = pa;
  e->groups[e->n++] = g;
  e->seen[ga] = true;
  return GW_OK;
}

static bool looks_like_xml(const char *data, size_t len)
{
  size_t i = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  else if (len >= 2 && (memcmp(data, "\xFF\xFE", 2) == 0 ||
                        memcmp(data, "\xFE\xFF", 2) == 0))
    i = 2;
  for (; i < len; i++) {
    if (data[i] == '<')
      return true;
    if (data[i] != '\0' && !isspace((unsigned char)data[i]))
      return false;
  }
  return false;
}

int gw_ets_parse(const char *data, size_t len, gw_ets **out,
                 gw_conf_diag *notes, char *why, size_t cap)
{
  if (data != NULL && looks_like_xml(data, len))
    return gw_ets_parse_xml(data, len, out, notes, why, cap);
  return gw_ets_parse_csv(data, len, out, notes, why, cap);
}
