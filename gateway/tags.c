/* gw_tags: parsing a tag list and looking tags up in it. See tags.h. */
#include "gateway/tags.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/calendar.h"

#define LINE_MAX_LEN 512
#define UID_MAX 20                 /* OCPP 1.6 IdToken */

struct gw_tags {
  gw_tag *tag;
  size_t n, cap;
};

typedef struct {
  gw_tags_problem_cb cb;
  void *user_data;
  int line;
  size_t problems;
} diag;

static void problem(diag *d, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void problem(diag *d, const char *fmt, ...)
{
  d->problems++;
  if (!d->cb)
    return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  d->cb(d->user_data, d->line, msg);
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static bool printable(const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7F)
      return false;
  return true;
}

/* Printable ASCII without ',' and with something besides separators. */
static bool uid_ok(const char *uid)
{
  bool significant = false;
  for (const unsigned char *p = (const unsigned char *)uid; *p; p++) {
    if (*p < 0x20 || *p > 0x7E || *p == ',')
      return false;
    if (*p != ' ' && *p != ':' && *p != '-')
      significant = true;
  }
  return significant;
}

/* "YYYY-MM-DD" → its last second (UTC). */
static bool parse_date(const char *s, time_t *out)
{
  int y, m, d, used = 0;
  if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 ||
      used != 10 || s[4] != '-' || s[7] != '-' || !cal_date_is_valid(y, m, d))
    return false;
  *out = (time_t)(cal_days_from_civil(y, m, d) * 86400 + 86399);
  return true;
}

typedef struct {
  gw_tag tag;
  bool has_name, has_expiry;
} line_fields;

/* One field after the '=': an attribute or the name. */
static bool take_field(diag *d, char *f, line_fields *lf)
{
  static const char expires[] = "expires";
  size_t el = sizeof expires - 1;
  if (strcasecmp(f, "blocked") == 0) {
    if (lf->tag.blocked) {
      problem(d, "\"blocked\" given twice");
      return false;
    }
    lf->tag.blocked = true;
    return true;
  }
  if (strncasecmp(f, expires, el) == 0 && (f[el] == ' ' || f[el] == '\t')) {
    char *date = trim(f + el);
    if (lf->has_expiry) {
      problem(d, "\"expires\" given twice");
      return false;
    }
    if (!parse_date(date, &lf->tag.expiry)) {
      problem(d, "expires: \"%s\" is not a date (YYYY-MM-DD)", date);
      return false;
    }
    lf->has_expiry = true;
    return true;
  }
  if (lf->has_name) {
    problem(d, "more than one name (\"%s\", \"%s\"): a name cannot contain ','",
            lf->tag.name, f);
    return false;
  }
  if (strlen(f) > GW_TAG_NAME_MAX || !printable(f)) {
    problem(d, "name \"%.*s\": at most %d bytes, no control characters",
            GW_TAG_NAME_MAX, f, GW_TAG_NAME_MAX);
    return false;
  }
  lf->tag.name = f;
  lf->has_name = true;
  return true;
}

static bool parse_fields(diag *d, char *rest, line_fields *lf)
{
  bool ok = true;
  if (*rest == '\0')
    return true; /* a known tag without a name */
  for (char *f = rest; ok && f;) {
    char *comma = strchr(f, ',');
    if (comma)
      *comma = '\0';
    char *field = trim(f);
    if (*field == '\0') {
      problem(d, "empty field between ','");
      ok = false;
    } else {
      ok = take_field(d, field, lf);
    }
    f = comma ? comma + 1 : NULL;
  }
  return ok;
}

static const gw_tag *find_same(const gw_tags *t, const char *uid)
{
  for (size_t i = 0; i < t->n; i++)
    if (strcasecmp(t->tag[i].uid, uid) == 0 ||
        ocpp_tags_equal(OCPP_TAG_RELAXED, t->tag[i].uid, uid))
      return &t->tag[i];
  return NULL;
}

static int add_tag(gw_tags *t, const gw_tag *tag)
{
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    gw_tag *grown = realloc(t->tag, cap * sizeof *grown);
    if (!grown)
      return GW_ENOMEM;
    t->tag = grown;
    t->cap = cap;
  }
  gw_tag *n = &t->tag[t->n];
  *n = *tag;
  n->uid = strdup(tag->uid);
  n->name = strdup(tag->name ? tag->name : "");
  if (!n->uid || !n->name) {
    free((char *)n->uid);
    free((char *)n->name);
    return GW_ENOMEM;
  }
  t->n++;
  return GW_OK;
}

/* One trimmed line without comment. Returns GW_OK (also for a bad line,
 * counted in d) or GW_ENOMEM. */
static int parse_line(gw_tags *t, diag *d, char *s)
{
  char *eq = strchr(s, '=');
  if (!eq) {
    problem(d, "expected \"UID = name[, expires YYYY-MM-DD][, blocked]\"");
    return GW_OK;
  }
  *eq = '\0';
  char *uid = trim(s);
  if (*uid == '\0' || strlen(uid) > UID_MAX || !uid_ok(uid)) {
    problem(d, "UID \"%s\": 1..%d printable ASCII characters, no ','", uid,
            UID_MAX);
    return GW_OK;
  }
  const gw_tag *same = find_same(t, uid);
  if (same) {
    problem(d, "tag \"%s\" given twice (first on line %d)", uid, same->line);
    return GW_OK;
  }
  line_fields lf = {.tag = {.uid = uid, .name = "", .line = d->line}};
  if (!parse_fields(d, trim(eq + 1), &lf))
    return GW_OK;
  return add_tag(t, &lf.tag);
}

/* The next line of text[*pos..len) into buf; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, char *buf,
                      size_t cap, bool *nul, bool *too_long)
{
  if (*pos >= len)
    return false;
  const char *start = text + *pos;
  const char *end = memchr(start, '\n', len - *pos);
  size_t n = end ? (size_t)(end - start) : len - *pos;
  *pos += n + (end ? 1 : 0);
  *nul = memchr(start, '\0', n) != NULL;
  *too_long = n >= cap;
  if (*too_long)
    n = cap - 1;
  memcpy(buf, start, n);
  buf[n] = '\0';
  return true;
}

static int parse_all(gw_tags *t, diag *d, const char *text, size_t len)
{
  char buf[LINE_MAX_LEN + 1];
  size_t pos = 0;
  bool nul, too_long;
  while (next_line(text, len, &pos, buf, sizeof buf, &nul, &too_long)) {
    d->line++;
    if (d->line > GW_TAGS_MAX) {
      problem(d, "more than %d lines", GW_TAGS_MAX);
      return GW_OK;
    }
    char *s = buf;
    if (d->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
      s += 3;
    s = trim(s);
    if (nul) {
      problem(d, "contains a NUL byte");
      continue;
    }
    if (too_long) {
      problem(d, "line longer than %d characters", LINE_MAX_LEN);
      continue;
    }
    if (*s == '\0' || *s == '#' || *s == ';')
      continue;
    if (parse_line(t, d, s) != GW_OK)
      return GW_ENOMEM;
  }
  return GW_OK;
}

int gw_tags_parse(const char *text, size_t len, gw_tags **out,
                  gw_tags_problem_cb on_problem, void *user_data)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!text && len > 0)
    return GW_EINVAL;
  gw_tags *t = calloc(1, sizeof *t);
  if (!t)
    return GW_ENOMEM;
  diag d = {.cb = on_problem, .user_data = user_data};
  int rc = parse_all(t, &d, text ? text : "", len);
  if (rc == GW_OK && d.problems > 0)
    rc = GW_ECONFIG;
  if (rc != GW_OK) {
    gw_tags_destroy(t);
    return rc;
  }
  *out = t;
  return GW_OK;
}

void gw_tags_destroy(gw_tags *tags)
{
  if (!tags)
    return;
  for (size_t i = 0; i < tags->n; i++) {
    free((char *)tags->tag[i].uid);
    free((char *)tags->tag[i].name);
  }
  free(tags->tag);
  free(tags);
}

size_t gw_tags_count(const gw_tags *tags)
{
  return tags ? tags->n : 0;
}

const gw_tag *gw_tags_at(const gw_tags *tags, size_t i)
{
  return tags && i < tags->n ? &tags->tag[i] : NULL;
}

static bool same_tag(ocpp_tag_match match, const char *uid, const char *id_tag)
{
  if (strcasecmp(uid, id_tag) == 0)
    return true;
  return match == OCPP_TAG_RELAXED && ocpp_tags_equal(match, uid, id_tag);
}

const gw_tag *gw_tags_find(const gw_tags *tags, const char *id_tag,
                           ocpp_tag_match match)
{
  if (!tags || !id_tag || !*id_tag)
    return NULL;
  ocpp_tag_match as_written =
    match == OCPP_TAG_EXACT ? OCPP_TAG_EXACT : OCPP_TAG_RELAXED;
  for (size_t i = 0; i < tags->n; i++)
    if (same_tag(as_written, tags->tag[i].uid, id_tag))
      return &tags->tag[i];
  if (match != OCPP_TAG_REVERSED)
    return NULL;
  for (size_t i = 0; i < tags->n; i++)
    if (ocpp_tags_equal(OCPP_TAG_REVERSED, tags->tag[i].uid, id_tag))
      return &tags->tag[i];
  return NULL;
}

ocpp_auth_status gw_tag_status(const gw_tag *tag, time_t now)
{
  if (!tag)
    return OCPP_AUTH_INVALID;
  if (tag->blocked)
    return OCPP_AUTH_BLOCKED;
  if (tag->expiry && now > tag->expiry)
    return OCPP_AUTH_EXPIRED;
  return OCPP_AUTH_ACCEPTED;
}

bool gw_tags_verdict(const gw_tags *tags, const char *id_tag,
                     ocpp_tag_match match, time_t now, ocpp_tag_verdict *out)
{
  const gw_tag *tag = gw_tags_find(tags, id_tag, match);
  if (!tag || !out)
    return false;
  out->status = gw_tag_status(tag, now);
  out->expiry = tag->expiry;
  snprintf(out->name, sizeof out->name, "%s", tag->name);
  return true;
}

/* A tag the old list accepted counts whatever the match says: the new
 * list is asked the way the charger's session will ask it. */
bool gw_tags_lost(const gw_tags *before, const gw_tags *after,
                  ocpp_tag_match match, time_t now)
{
  for (size_t i = 0; i < gw_tags_count(before); i++) {
    const gw_tag *old = gw_tags_at(before, i);
    if (gw_tag_status(old, now) != OCPP_AUTH_ACCEPTED)
      continue;
    const gw_tag *tag = gw_tags_find(after, old->uid, match);
    if (!tag || gw_tag_status(tag, now) != OCPP_AUTH_ACCEPTED)
      return true;
  }
  return false;
}
