/* Datapoint type codec after KNX Standard 03_07_02 (Datapoint Types). */
#include "knx/knx.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "common/calendar.h"

typedef int (*dpt_encode_fn)(const knx_value *v, knx_payload *out);
typedef int (*dpt_decode_fn)(const knx_payload *p, knx_value *out);

/* ---- helpers ------------------------------------------------------------ */

static void put_be16(uint8_t *b, uint16_t v)
{
  b[0] = (uint8_t)(v >> 8);
  b[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *b)
{
  return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static void put_be32(uint8_t *b, uint32_t v)
{
  b[0] = (uint8_t)(v >> 24);
  b[1] = (uint8_t)(v >> 16);
  b[2] = (uint8_t)(v >> 8);
  b[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *b)
{
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         b[3];
}

static void start_long(knx_payload *out, uint8_t len)
{
  memset(out, 0, sizeof *out);
  out->len = len;
}

static int expect_long(const knx_payload *p, uint8_t len)
{
  return !p->short_form && p->len == len ? KNX_OK : KNX_ESIZE;
}

/* Rounds half away from zero, then checks the integer against [min, max]. */
static int round_in_range(double v, double min, double max, double *out)
{
  if (!isfinite(v))
    return KNX_ERANGE;
  double r = round(v);
  if (r < min || r > max)
    return KNX_ERANGE;
  *out = r;
  return KNX_OK;
}

static bool in_range(int v, int min, int max)
{
  return v >= min && v <= max;
}

/* year 0 means "unknown": February then may have 29 days, as it has in
 * the calendar, where year 0 is a leap year. */
static bool date_is_valid(int year, int month, int day)
{
  return cal_date_is_valid(year, month, day);
}

static bool time_is_valid(int hour, int minute, int second)
{
  return in_range(hour, 0, 23) && in_range(minute, 0, 59) &&
         in_range(second, 0, 59);
}

/* ---- DPT 1: one bit, short form ---------------------------------------- */

static int encode_bit(const knx_value *v, knx_payload *out)
{
  if (v->number != 0.0 && v->number != 1.0)
    return KNX_ERANGE;
  memset(out, 0, sizeof *out);
  out->short_form = true;
  out->len = 1;
  out->data[0] = v->number == 1.0 ? 1 : 0;
  return KNX_OK;
}

static int decode_bit(const knx_payload *p, knx_value *out)
{
  /* Short form, or one long data byte as some devices send it. */
  if (p->len != 1)
    return KNX_ESIZE;
  if (p->data[0] > 1)
    return KNX_ERANGE;
  out->number = p->data[0];
  return KNX_OK;
}

/* ---- DPT 5: 8-bit unsigned ---------------------------------------------- */

static int encode_scaling(const knx_value *v, knx_payload *out)
{
  double raw;
  if (!isfinite(v->number) || v->number < 0.0 || v->number > 100.0)
    return KNX_ERANGE;
  if (round_in_range(v->number * 255.0 / 100.0, 0, 255, &raw) != KNX_OK)
    return KNX_ERANGE;
  start_long(out, 1);
  out->data[0] = (uint8_t)raw;
  return KNX_OK;
}

static int decode_scaling(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 1) != KNX_OK)
    return KNX_ESIZE;
  out->number = p->data[0] * 100.0 / 255.0;
  return KNX_OK;
}

static int encode_u8(const knx_value *v, knx_payload *out)
{
  double raw;
  if (round_in_range(v->number, 0, UINT8_MAX, &raw) != KNX_OK)
    return KNX_ERANGE;
  start_long(out, 1);
  out->data[0] = (uint8_t)raw;
  return KNX_OK;
}

static int decode_u8(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 1) != KNX_OK)
    return KNX_ESIZE;
  out->number = p->data[0];
  return KNX_OK;
}

/* ---- DPT 7, 12, 13: 16/32-bit integers ---------------------------------- */

static int encode_u16(const knx_value *v, knx_payload *out)
{
  double raw;
  if (round_in_range(v->number, 0, UINT16_MAX, &raw) != KNX_OK)
    return KNX_ERANGE;
  start_long(out, 2);
  put_be16(out->data, (uint16_t)raw);
  return KNX_OK;
}

static int decode_u16(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 2) != KNX_OK)
    return KNX_ESIZE;
  out->number = get_be16(p->data);
  return KNX_OK;
}

static int encode_u32(const knx_value *v, knx_payload *out)
{
  double raw;
  if (round_in_range(v->number, 0, UINT32_MAX, &raw) != KNX_OK)
    return KNX_ERANGE;
  start_long(out, 4);
  put_be32(out->data, (uint32_t)raw);
  return KNX_OK;
}

static int decode_u32(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 4) != KNX_OK)
    return KNX_ESIZE;
  out->number = get_be32(p->data);
  return KNX_OK;
}

static int encode_s32(const knx_value *v, knx_payload *out)
{
  double raw;
  if (round_in_range(v->number, INT32_MIN, INT32_MAX, &raw) != KNX_OK)
    return KNX_ERANGE;
  int64_t wide = (int64_t)raw;
  start_long(out, 4);
  put_be32(out->data, (uint32_t)(wide & 0xFFFFFFFF));
  return KNX_OK;
}

static int decode_s32(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 4) != KNX_OK)
    return KNX_ESIZE;
  int64_t wide = get_be32(p->data);
  if (wide > INT32_MAX)
    wide -= INT64_C(1) << 32;
  out->number = (double)wide;
  return KNX_OK;
}

/* ---- DPT 9: 2-byte float ------------------------------------------------- */

/* value = 0.01 * M * 2^E, M 12-bit two's complement, E 0..15. */
enum {
  F16_INVALID = 0x7FFF,
  F16_SIGN = 0x8000,
  F16_MANTISSA = 0x07FF,
  F16_EXP_SHIFT = 11,
  F16_EXP_MAX = 15,
  F16_M_MIN = -2048,
  F16_M_MAX = 2047
};
#define F16_MIN (-671088.64)
#define F16_MAX 670760.96

static int encode_f16(const knx_value *v, knx_payload *out)
{
  double value = v->number;
  if (!isfinite(value) || value < F16_MIN || value > F16_MAX)
    return KNX_ERANGE;

  double hundredths = value * 100.0;
  int exponent = 0;
  double mantissa = round(hundredths);
  /* The smallest exponent whose rounded mantissa fits is the finest step,
   * hence the nearest representable value. */
  while (mantissa < F16_M_MIN || mantissa > F16_M_MAX) {
    if (++exponent > F16_EXP_MAX)
      return KNX_ERANGE;
    mantissa = round(ldexp(hundredths, -exponent));
  }

  int m = (int)mantissa;
  unsigned raw = (unsigned)exponent << F16_EXP_SHIFT |
                 ((unsigned)(m + 4096) & F16_MANTISSA);
  if (m < 0)
    raw |= F16_SIGN;
  /* The top of the range would be the invalid-data marker; the nearest
   * value that still means a number is one step below. */
  if (raw == F16_INVALID)
    raw = F16_INVALID - 1;
  start_long(out, 2);
  put_be16(out->data, (uint16_t)raw);
  return KNX_OK;
}

static int decode_f16(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 2) != KNX_OK)
    return KNX_ESIZE;
  uint16_t raw = get_be16(p->data);
  if (raw == F16_INVALID)
    return KNX_ERANGE;
  int mantissa = raw & F16_MANTISSA;
  if (raw & F16_SIGN)
    mantissa -= 2048;
  int exponent = (raw >> F16_EXP_SHIFT) & F16_EXP_MAX;
  out->number = ldexp(mantissa, exponent) / 100.0;
  return KNX_OK;
}

/* ---- DPT 14: IEEE 754 single, big-endian -------------------------------- */

static int encode_f32(const knx_value *v, knx_payload *out)
{
  if (!isfinite(v->number) || fabs(v->number) > FLT_MAX)
    return KNX_ERANGE;
  float f = (float)v->number;
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  start_long(out, 4);
  put_be32(out->data, bits);
  return KNX_OK;
}

static int decode_f32(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 4) != KNX_OK)
    return KNX_ESIZE;
  uint32_t bits = get_be32(p->data);
  float f;
  memcpy(&f, &bits, sizeof f);
  if (!isfinite(f))
    return KNX_ERANGE;
  out->number = f;
  return KNX_OK;
}

/* ---- DPT 16: 14-byte strings --------------------------------------------- */

enum { TEXT_LEN = 14 };

static bool text_fits(const char *text, size_t len, bool ascii_only)
{
  for (size_t i = 0; ascii_only && i < len; i++) {
    if ((unsigned char)text[i] > 0x7F)
      return false;
  }
  return true;
}

static int encode_text(const knx_value *v, knx_payload *out, bool ascii_only)
{
  size_t len = strnlen(v->text, sizeof v->text);
  if (len > TEXT_LEN || !text_fits(v->text, len, ascii_only))
    return KNX_ERANGE;
  start_long(out, TEXT_LEN);
  memcpy(out->data, v->text, len);
  return KNX_OK;
}

static int decode_text(const knx_payload *p, knx_value *out, bool ascii_only)
{
  if (expect_long(p, TEXT_LEN) != KNX_OK)
    return KNX_ESIZE;
  size_t len = strnlen((const char *)p->data, TEXT_LEN);
  if (!text_fits((const char *)p->data, len, ascii_only))
    return KNX_ERANGE;
  memset(out->text, 0, sizeof out->text);
  memcpy(out->text, p->data, len);
  return KNX_OK;
}

static int encode_ascii(const knx_value *v, knx_payload *out)
{
  return encode_text(v, out, true);
}

static int decode_ascii(const knx_payload *p, knx_value *out)
{
  return decode_text(p, out, true);
}

static int encode_latin1(const knx_value *v, knx_payload *out)
{
  return encode_text(v, out, false);
}

static int decode_latin1(const knx_payload *p, knx_value *out)
{
  return decode_text(p, out, false);
}

/* ---- DPT 10.001: time of day --------------------------------------------- */

enum { WEEKDAY_SHIFT = 5, HOUR_MASK = 0x1F, MINUTE_MASK = 0x3F };

static int encode_time(const knx_value *v, knx_payload *out)
{
  const knx_datetime *t = &v->time;
  if (!in_range(t->weekday, 0, 7) ||
      !time_is_valid(t->hour, t->minute, t->second))
    return KNX_ERANGE;
  start_long(out, 3);
  out->data[0] = (uint8_t)(t->weekday << WEEKDAY_SHIFT | t->hour);
  out->data[1] = (uint8_t)t->minute;
  out->data[2] = (uint8_t)t->second;
  return KNX_OK;
}

static int decode_time(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 3) != KNX_OK)
    return KNX_ESIZE;
  knx_datetime t = {0};
  t.weekday = p->data[0] >> WEEKDAY_SHIFT;
  t.hour = p->data[0] & HOUR_MASK;
  t.minute = p->data[1] & MINUTE_MASK;
  t.second = p->data[2] & MINUTE_MASK;
  if (!time_is_valid(t.hour, t.minute, t.second))
    return KNX_ERANGE;
  out->time = t;
  return KNX_OK;
}

/* ---- DPT 11.001: date ---------------------------------------------------- */

enum { DAY_MASK = 0x1F, MONTH_MASK = 0x0F, YEAR_MASK = 0x7F };

static int encode_date(const knx_value *v, knx_payload *out)
{
  const knx_datetime *t = &v->time;
  if (!in_range(t->year, 1990, 2089) ||
      !date_is_valid(t->year, t->month, t->day))
    return KNX_ERANGE;
  start_long(out, 3);
  out->data[0] = (uint8_t)t->day;
  out->data[1] = (uint8_t)t->month;
  out->data[2] = (uint8_t)(t->year % 100);
  return KNX_OK;
}

static int decode_date(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 3) != KNX_OK)
    return KNX_ESIZE;
  knx_datetime t = {0};
  t.day = p->data[0] & DAY_MASK;
  t.month = p->data[1] & MONTH_MASK;
  int yy = p->data[2] & YEAR_MASK;
  if (yy > 99)
    return KNX_ERANGE;
  t.year = yy >= 90 ? 1900 + yy : 2000 + yy;
  if (!date_is_valid(t.year, t.month, t.day))
    return KNX_ERANGE;
  out->time = t;
  return KNX_OK;
}

/* ---- DPT 19.001: date and time ------------------------------------------- */

/* Octet 2 (flags): bit 7 F .. bit 0 SUTI is KNX_DT_FAULT (1 << 0) ..
 * KNX_DT_SUMMER_TIME (1 << 7) in reverse order. Octet 1: CLQ bit 7, SRC
 * bit 6. */
enum {
  DT_OCTET_FLAGS = 0xFF,
  DT_CLQ = 0x80,
  DT_SRC = 0x40,
  DT_KNOWN_FLAGS = DT_OCTET_FLAGS | KNX_DT_EXT_SYNC | KNX_DT_RELIABLE_SYNC
};

static uint8_t reverse_bits(unsigned v)
{
  uint8_t r = 0;
  for (int i = 0; i < 8; i++) {
    if (v & (1u << i))
      r |= (uint8_t)(0x80u >> i);
  }
  return r;
}

static bool datetime_is_valid(const knx_datetime *t)
{
  unsigned f = t->flags;
  int year = (f & KNX_DT_NO_YEAR) ? 0 : t->year;
  if (!(f & KNX_DT_NO_YEAR) && !in_range(t->year, 1900, 2155))
    return false;
  if (!(f & KNX_DT_NO_DATE) && !date_is_valid(year, t->month, t->day))
    return false;
  if (!(f & KNX_DT_NO_DAY_OF_WEEK) && !in_range(t->weekday, 0, 7))
    return false;
  if (!(f & KNX_DT_NO_TIME)) {
    bool midnight_end = t->hour == 24 && t->minute == 0 && t->second == 0;
    if (!midnight_end && !time_is_valid(t->hour, t->minute, t->second))
      return false;
  }
  return true;
}

/* Fields that the flags mark as not valid are sent and read as 0. */
static knx_datetime datetime_masked(const knx_datetime *t)
{
  knx_datetime m = *t;
  if (m.flags & KNX_DT_NO_YEAR)
    m.year = 0;
  if (m.flags & KNX_DT_NO_DATE) {
    m.month = 0;
    m.day = 0;
  }
  if (m.flags & KNX_DT_NO_DAY_OF_WEEK)
    m.weekday = 0;
  if (m.flags & KNX_DT_NO_TIME) {
    m.hour = 0;
    m.minute = 0;
    m.second = 0;
  }
  return m;
}

static int encode_datetime(const knx_value *v, knx_payload *out)
{
  if ((v->time.flags & ~(unsigned)DT_KNOWN_FLAGS) != 0 ||
      !datetime_is_valid(&v->time))
    return KNX_ERANGE;
  knx_datetime t = datetime_masked(&v->time);
  start_long(out, 8);
  out->data[0] = (uint8_t)(t.flags & KNX_DT_NO_YEAR ? 0 : t.year - 1900);
  out->data[1] = (uint8_t)t.month;
  out->data[2] = (uint8_t)t.day;
  out->data[3] = (uint8_t)(t.weekday << WEEKDAY_SHIFT | t.hour);
  out->data[4] = (uint8_t)t.minute;
  out->data[5] = (uint8_t)t.second;
  out->data[6] = reverse_bits(t.flags & DT_OCTET_FLAGS);
  out->data[7] = (uint8_t)((t.flags & KNX_DT_EXT_SYNC ? DT_CLQ : 0) |
                           (t.flags & KNX_DT_RELIABLE_SYNC ? DT_SRC : 0));
  return KNX_OK;
}

static int decode_datetime(const knx_payload *p, knx_value *out)
{
  if (expect_long(p, 8) != KNX_OK)
    return KNX_ESIZE;
  const uint8_t *d = p->data;
  knx_datetime t = {0};
  t.year = 1900 + d[0];
  t.month = d[1] & MONTH_MASK;
  t.day = d[2] & DAY_MASK;
  t.weekday = d[3] >> WEEKDAY_SHIFT;
  t.hour = d[3] & HOUR_MASK;
  t.minute = d[4] & MINUTE_MASK;
  t.second = d[5] & MINUTE_MASK;
  t.flags = reverse_bits(d[6]);
  if (d[7] & DT_CLQ)
    t.flags |= KNX_DT_EXT_SYNC;
  if (d[7] & DT_SRC)
    t.flags |= KNX_DT_RELIABLE_SYNC;
  if (!datetime_is_valid(&t))
    return KNX_ERANGE;
  out->time = datetime_masked(&t);
  return KNX_OK;
}

/* ---- the table ----------------------------------------------------------- */

static const struct {
  const char *name;
  unsigned main, sub;
  dpt_encode_fn encode;
  dpt_decode_fn decode;
} dpts[KNX_DPT_COUNT] = {
    [KNX_DPT_1_001] = {"1.001", 1, 1, encode_bit, decode_bit},
    [KNX_DPT_1_002] = {"1.002", 1, 2, encode_bit, decode_bit},
    [KNX_DPT_1_003] = {"1.003", 1, 3, encode_bit, decode_bit},
    [KNX_DPT_1_010] = {"1.010", 1, 10, encode_bit, decode_bit},
    [KNX_DPT_1_011] = {"1.011", 1, 11, encode_bit, decode_bit},
    [KNX_DPT_1_015] = {"1.015", 1, 15, encode_bit, decode_bit},
    [KNX_DPT_5_001] = {"5.001", 5, 1, encode_scaling, decode_scaling},
    [KNX_DPT_5_010] = {"5.010", 5, 10, encode_u8, decode_u8},
    [KNX_DPT_7_001] = {"7.001", 7, 1, encode_u16, decode_u16},
    [KNX_DPT_9_001] = {"9.001", 9, 1, encode_f16, decode_f16},
    [KNX_DPT_9_021] = {"9.021", 9, 21, encode_f16, decode_f16},
    [KNX_DPT_9_024] = {"9.024", 9, 24, encode_f16, decode_f16},
    [KNX_DPT_10_001] = {"10.001", 10, 1, encode_time, decode_time},
    [KNX_DPT_11_001] = {"11.001", 11, 1, encode_date, decode_date},
    [KNX_DPT_12_001] = {"12.001", 12, 1, encode_u32, decode_u32},
    [KNX_DPT_13_010] = {"13.010", 13, 10, encode_s32, decode_s32},
    [KNX_DPT_13_013] = {"13.013", 13, 13, encode_s32, decode_s32},
    [KNX_DPT_14_019] = {"14.019", 14, 19, encode_f32, decode_f32},
    [KNX_DPT_14_056] = {"14.056", 14, 56, encode_f32, decode_f32},
    [KNX_DPT_16_000] = {"16.000", 16, 0, encode_ascii, decode_ascii},
    [KNX_DPT_16_001] = {"16.001", 16, 1, encode_latin1, decode_latin1},
    [KNX_DPT_19_001] = {"19.001", 19, 1, encode_datetime, decode_datetime},
};

static bool dpt_is_valid(knx_dpt dpt)
{
  return (unsigned)dpt < KNX_DPT_COUNT;
}

const char *knx_dpt_name(knx_dpt dpt)
{
  return dpt_is_valid(dpt) ? dpts[dpt].name : "?";
}

/* Up to max_digits decimal digits; stops at the first non-digit. */
static int parse_number(const char **pos, int max_digits, unsigned *out)
{
  const char *p = *pos;
  unsigned value = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') {
    if (++digits > max_digits)
      return KNX_EINVAL;
    value = value * 10 + (unsigned)(*p - '0');
    p++;
  }
  if (digits == 0)
    return KNX_EINVAL;
  *pos = p;
  *out = value;
  return KNX_OK;
}

static void skip_prefix(const char **pos)
{
  const char *p = *pos;
  static const char prefix[] = "dpt";
  for (size_t i = 0; i < sizeof prefix - 1; i++) {
    if (p[i] == '\0' || (p[i] | 0x20) != prefix[i])
      return;
  }
  p += sizeof prefix - 1;
  if (*p == ' ')
    p++;
  *pos = p;
}

int knx_dpt_parse(const char *text, knx_dpt *dpt)
{
  if (text == NULL || dpt == NULL)
    return KNX_EINVAL;
  const char *p = text;
  unsigned main_number, sub_number;
  skip_prefix(&p);
  if (parse_number(&p, 3, &main_number) != KNX_OK || *p++ != '.' ||
      parse_number(&p, 3, &sub_number) != KNX_OK || *p != '\0')
    return KNX_EINVAL;
  for (int i = 0; i < KNX_DPT_COUNT; i++) {
    if (dpts[i].main == main_number && dpts[i].sub == sub_number) {
      *dpt = (knx_dpt)i;
      return KNX_OK;
    }
  }
  return KNX_EINVAL;
}

int knx_dpt_encode(knx_dpt dpt, const knx_value *v, knx_payload *out)
{
  if (!dpt_is_valid(dpt) || v == NULL || out == NULL)
    return KNX_EINVAL;
  knx_payload encoded;
  int rc = dpts[dpt].encode(v, &encoded);
  if (rc == KNX_OK)
    *out = encoded;
  return rc;
}

int knx_dpt_decode(knx_dpt dpt, const knx_payload *p, knx_value *out)
{
  if (!dpt_is_valid(dpt) || p == NULL || out == NULL)
    return KNX_EINVAL;
  if (p->len > sizeof p->data)
    return KNX_ESIZE;
  knx_value decoded;
  memset(&decoded, 0, sizeof decoded);
  int rc = dpts[dpt].decode(p, &decoded);
  if (rc == KNX_OK)
    *out = decoded;
  return rc;
}
