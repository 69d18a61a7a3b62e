/* The date range of GET /sessions.csv and of --export-sessions: days as
 * "YYYY-MM-DD" in UTC, the "to" day included. Pure. */
#include "gateway/web.h"

#include <ctype.h>
#include <string.h>

#include "common/calendar.h"

int gw_parse_day(const char *s, bool end_of_day, time_t *out)
{
  static const char form[] = "dddd-dd-dd";
  if (!s || !out || strlen(s) != sizeof form - 1)
    return GW_EINVAL;
  int v[3] = {0, 0, 0};
  int field = 0;
  for (size_t i = 0; form[i]; i++) {
    if (form[i] == '-') {
      if (s[i] != '-')
        return GW_EINVAL;
      field++;
      continue;
    }
    if (!isdigit((unsigned char)s[i]))
      return GW_EINVAL;
    v[field] = v[field] * 10 + (s[i] - '0');
  }
  if (v[0] < 1970 || !cal_date_is_valid(v[0], v[1], v[2]))
    return GW_EINVAL;
  int64_t days = cal_days_from_civil(v[0], v[1], v[2]) + (end_of_day ? 1 : 0);
  *out = (time_t)(days * 86400);
  return GW_OK;
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s[0..len) into out (cap bytes with the NUL): GW_EINVAL for a bad
 * escape, a NUL, or a value longer than a date could be. */
static int decode_part(const char *s, size_t len, char *out, size_t cap)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= len)
        return GW_EINVAL;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return GW_EINVAL;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (n + 1 >= cap)
      return GW_EINVAL;
    out[n++] = c;
  }
  out[n] = '\0';
  return GW_OK;
}

/* One "key=value" pair; only from and to mean anything. */
static int take_pair(const char *p, size_t len, time_t *from, time_t *to,
                     bool seen[2])
{
  const char *eq = memchr(p, '=', len);
  size_t klen = eq ? (size_t)(eq - p) : len;
  char key[8], value[16];
  if (decode_part(p, klen, key, sizeof key) != GW_OK)
    return GW_OK; /* a long or odd key is not one of ours */
  int which = strcmp(key, "from") == 0 ? 0 : strcmp(key, "to") == 0 ? 1 : -1;
  if (which < 0)
    return GW_OK;
  if (seen[which])
    return GW_EINVAL;
  seen[which] = true;
  const char *v = eq ? eq + 1 : p + len;
  if (decode_part(v, (size_t)(p + len - v), value, sizeof value) != GW_OK)
    return GW_EINVAL;
  if (!value[0])
    return GW_OK;
  return gw_parse_day(value, which == 1, which == 0 ? from : to);
}

int gw_query_value(const char *query, const char *key, char *out, size_t cap)
{
  if (!key || !out || cap == 0)
    return GW_EINVAL;
  size_t klen = strlen(key);
  for (const char *p = query ? query : ""; *p;) {
    size_t len = strcspn(p, "&");
    if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
      return decode_part(p + klen + 1, len - klen - 1, out, cap);
    p += len;
    if (*p)
      p++;
  }
  return GW_ENOTFOUND;
}

int gw_query_range(const char *query, time_t *from, time_t *to)
{
  if (!from || !to)
    return GW_EINVAL;
  *from = *to = 0;
  bool seen[2] = {false, false};
  for (const char *p = query ? query : ""; *p;) {
    size_t len = strcspn(p, "&");
    int rc = take_pair(p, len, from, to, seen);
    if (rc != GW_OK) {
      *from = *to = 0;
      return rc;
    }
    p += len;
    if (*p)
      p++;
  }
  if (*from && *to && *from >= *to) {
    *from = *to = 0;
    return GW_EINVAL;
  }
  return GW_OK;
}
