/* Group address notation and the module's error texts. */
#include "knx/knx.h"

#include <stdio.h>

static const struct {
  int code;
  const char *text;
} error_texts[] = {
    {KNX_OK, "success"},
    {KNX_EINVAL, "invalid argument or malformed input"},
    {KNX_ERANGE, "value out of range for the datapoint type"},
    {KNX_ESIZE, "payload length does not fit the datapoint type"},
    {KNX_EUNSUPPORTED, "unsupported APDU service"},
    {KNX_ENOTCONN, "not connected to knxd"},
    {KNX_EIO, "knxd connection failed"},
    {KNX_ENOMEM, "out of memory"},
};

const char *knx_strerror(int code)
{
  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++) {
    if (error_texts[i].code == code)
      return error_texts[i].text;
  }
  return "unknown error";
}

/* One level of a group address: decimal digits only (no sign, no blank),
 * at most max. Stops at the first non-digit, which the caller checks. The
 * value is bounded on every digit, so no input can overflow. */
static int parse_level(const char **pos, unsigned max, unsigned *out)
{
  const char *p = *pos;
  unsigned value = 0;

  if (*p < '0' || *p > '9')
    return KNX_EINVAL;
  while (*p >= '0' && *p <= '9') {
    value = value * 10 + (unsigned)(*p - '0');
    if (value > max)
      return KNX_EINVAL;
    p++;
  }
  *pos = p;
  *out = value;
  return KNX_OK;
}

/* Level limits per notation, indexed by the number of slashes. */
static const struct {
  unsigned levels;
  unsigned max[3];
  unsigned shift[3];
} notations[] = {
    {1, {65535, 0, 0}, {0, 0, 0}},    /* free: 0-65535 */
    {2, {31, 2047, 0}, {11, 0, 0}},   /* 2-level: 0-31/0-2047 */
    {3, {31, 7, 255}, {11, 8, 0}},    /* 3-level: 0-31/0-7/0-255 */
};

int knx_ga_parse(const char *text, uint16_t *ga)
{
  if (text == NULL || ga == NULL)
    return KNX_EINVAL;

  size_t slashes = 0;
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '/')
      slashes++;
  }
  if (slashes >= sizeof notations / sizeof notations[0])
    return KNX_EINVAL;

  const char *p = text;
  unsigned address = 0;
  for (unsigned level = 0; level < notations[slashes].levels; level++) {
    unsigned value;
    if (level > 0) {
      if (*p != '/')
        return KNX_EINVAL;
      p++;
    }
    if (parse_level(&p, notations[slashes].max[level], &value) != KNX_OK)
      return KNX_EINVAL;
    address |= value << notations[slashes].shift[level];
  }
  if (*p != '\0')
    return KNX_EINVAL;
  *ga = (uint16_t)address;
  return KNX_OK;
}

void knx_ga_format(uint16_t ga, char out[KNX_GA_STRLEN])
{
  snprintf(out, KNX_GA_STRLEN, "%u/%u/%u", (unsigned)(ga >> 11) & 0x1Fu,
           (unsigned)(ga >> 8) & 0x07u, (unsigned)ga & 0xFFu);
}
