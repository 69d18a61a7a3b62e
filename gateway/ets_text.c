/* The encodings ETS writes its CSV export in (UTF-8 with or without BOM,
 * "Unicode" = UTF-16 with BOM, and the Windows code page), turned into
 * UTF-8 for the parser. */
#include "gateway/ets_impl.h"

#include <stdlib.h>
#include <string.h>

const uint16_t ets_cp1252_high[32] = {
  0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
  0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static size_t put_utf8(char *o, uint32_t cp)
{
  if (cp == 0)
    cp = ' ';
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
  if (s[0] < 0x80)
    return 1;
  size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
  if (n == 0 || n > left)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) ||  /* overlong */
      (n == 3 && s[0] == 0xED && s[1] >= 0xA0) || /* surrogate */
      (n == 4 && s[0] == 0xF0 && s[1] < 0x90) ||
      (n == 4 && s[0] == 0xF4 && s[1] >= 0x90))
    return 0;
  return n;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(s + i, len - i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

static size_t from_utf16(const unsigned char *s, size_t len, bool le, char *o)
{
  size_t w = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    uint32_t u = le ? (uint32_t)(s[i] | s[i + 1] << 8) : (uint32_t)(s[i] << 8 | s[i + 1]);
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < len) {
      uint32_t lo = le ? (uint32_t)(s[i + 2] | s[i + 3] << 8)
                       : (uint32_t)(s[i + 2] << 8 | s[i + 3]);
      if (lo >= 0xDC00 && lo < 0xE000) {
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      } else {
        u = 0xFFFD;
      }
    } else if (u >= 0xD800 && u < 0xE000) {
      u = 0xFFFD;
    }
    w += put_utf8(o + w, u);
  }
  return w;
}

static size_t from_cp1252(const unsigned char *s, size_t len, char *o)
{
  size_t w = 0;
  for (size_t i = 0; i < len; i++) {
    uint32_t u = s[i];
    if (u >= 0x80 && u < 0xA0)
      u = ets_cp1252_high[u - 0x80] ? ets_cp1252_high[u - 0x80] : 0xFFFD;
    w += put_utf8(o + w, u);
  }
  return w;
}

static size_t copy_utf8(const unsigned char *s, size_t len, char *o)
{
  for (size_t i = 0; i < len; i++)
    o[i] = s[i] ? (char)s[i] : ' ';
  return len;
}

int ets_to_utf8(const char *data, size_t len, char **out, size_t *out_len)
{
  const unsigned char *s = (const unsigned char *)data;
  enum { U8, U16LE, U16BE, CP1252 } enc = U8;
  if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
    s += 3, len -= 3;
  } else if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
    s += 2, len -= 2, enc = U16LE;
  } else if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
    s += 2, len -= 2, enc = U16BE;
  } else if (len >= 2 && s[0] != 0 && s[1] == 0) {
    enc = U16LE; /* a UTF-16 file whose BOM was lost: '"' 00 ... */
  } else if (len >= 2 && s[0] == 0 && s[1] != 0) {
    enc = U16BE;
  }
  if (enc == U8 && !valid_utf8(s, len))
    enc = CP1252;
  /* UTF-16 needs at most 3 bytes per 2 (or 4 per 4), Windows-1252 3 per 1. */
  char *o = malloc(len * 3 + 1);
  if (o == NULL)
    return GW_ENOMEM;
  size_t w = enc == U8      ? copy_utf8(s, len, o)
             : enc == CP1252 ? from_cp1252(s, len, o)
                             : from_utf16(s, len, enc == U16LE, o);
  o[w] = '\0';
  *out = o;
  *out_len = w;
  return GW_OK;
}
