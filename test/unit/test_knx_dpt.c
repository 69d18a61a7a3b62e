/* Reference vectors follow KNX Standard 03_07_02 (Datapoint Types). */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "knx/knx.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__})
#define NBYTES(...) (sizeof((const uint8_t[]){__VA_ARGS__}))

static knx_value number(double n)
{
  knx_value v;
  memset(&v, 0, sizeof v);
  v.number = n;
  return v;
}

static knx_value text(const char *s)
{
  knx_value v;
  memset(&v, 0, sizeof v);
  memcpy(v.text, s, strlen(s));
  return v;
}

static knx_value when(int year, int month, int day, int weekday, int hour,
                      int minute, int second, unsigned flags)
{
  knx_value v;
  memset(&v, 0, sizeof v);
  v.time = (knx_datetime){year, month, day, weekday, hour, minute, second,
                          flags};
  return v;
}

static knx_payload long_payload(const uint8_t *bytes, size_t len)
{
  knx_payload p = {.short_form = false, .len = (uint8_t)len};
  memcpy(p.data, bytes, len);
  return p;
}

static void expect_encoding(knx_dpt dpt, knx_value v, const uint8_t *want,
                            size_t want_len)
{
  knx_payload p;
  cr_assert_eq(knx_dpt_encode(dpt, &v, &p), KNX_OK, "%s", knx_dpt_name(dpt));
  cr_assert_not(p.short_form, "%s", knx_dpt_name(dpt));
  cr_assert_eq(p.len, want_len, "%s: len %u", knx_dpt_name(dpt), p.len);
  for (size_t i = 0; i < want_len; i++) {
    cr_assert_eq(p.data[i], want[i], "%s: byte %zu is %02X, want %02X",
                 knx_dpt_name(dpt), i, p.data[i], want[i]);
  }
}

static void expect_encode_error(knx_dpt dpt, knx_value v, int rc)
{
  knx_payload p = {.len = 99};
  cr_assert_eq(knx_dpt_encode(dpt, &v, &p), rc, "%s", knx_dpt_name(dpt));
  cr_assert_eq(p.len, 99, "output touched on error");
}

static knx_value decode_ok(knx_dpt dpt, const uint8_t *bytes, size_t len)
{
  knx_payload p = long_payload(bytes, len);
  knx_value v;
  cr_assert_eq(knx_dpt_decode(dpt, &p, &v), KNX_OK, "%s", knx_dpt_name(dpt));
  return v;
}

static void expect_decode_error(knx_dpt dpt, const uint8_t *bytes, size_t len,
                                int rc)
{
  knx_payload p = long_payload(bytes, len);
  knx_value v = number(-7.0);
  cr_assert_eq(knx_dpt_decode(dpt, &p, &v), rc, "%s", knx_dpt_name(dpt));
  cr_assert_eq(v.number, -7.0, "output touched on error");
}

static void expect_number(knx_dpt dpt, const uint8_t *bytes, size_t len,
                          double want)
{
  knx_value v = decode_ok(dpt, bytes, len);
  cr_assert_float_eq(v.number, want, 1e-9, "%s: %.10g, want %.10g",
                     knx_dpt_name(dpt), v.number, want);
}

/* ---- names --------------------------------------------------------------- */

Test(dpt_name, every_dpt_has_a_name_that_parses_back)
{
  for (int i = 0; i < KNX_DPT_COUNT; i++) {
    knx_dpt back = KNX_DPT_COUNT;
    const char *name = knx_dpt_name((knx_dpt)i);
    cr_assert_str_neq(name, "?");
    cr_assert_eq(knx_dpt_parse(name, &back), KNX_OK, "%s", name);
    cr_assert_eq(back, (knx_dpt)i, "%s", name);
  }
}

Test(dpt_name, names_follow_main_dot_three_digit_sub)
{
  cr_assert_str_eq(knx_dpt_name(KNX_DPT_9_021), "9.021");
  cr_assert_str_eq(knx_dpt_name(KNX_DPT_1_001), "1.001");
  cr_assert_str_eq(knx_dpt_name(KNX_DPT_16_000), "16.000");
  cr_assert_str_eq(knx_dpt_name(KNX_DPT_19_001), "19.001");
}

Test(dpt_name, out_of_range_is_question_mark)
{
  cr_assert_str_eq(knx_dpt_name(KNX_DPT_COUNT), "?");
  cr_assert_str_eq(knx_dpt_name((knx_dpt)-1), "?");
}

Test(dpt_parse, accepts_dpt_prefix_with_or_without_space_any_case)
{
  const char *forms[] = {"9.021", "DPT9.021", "DPT 9.021", "dpt9.021",
                         "dpt 9.021", "Dpt 9.021"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    knx_dpt d = KNX_DPT_1_001;
    cr_assert_eq(knx_dpt_parse(forms[i], &d), KNX_OK, "%s", forms[i]);
    cr_assert_eq(d, KNX_DPT_9_021, "%s", forms[i]);
  }
}

Test(dpt_parse, rejects_unknown_and_malformed)
{
  const char *bad[] = {"",          "9",        "9.",        ".021",
                       "9.999",     "2.001",    "DPT",       "DPT ",
                       "DPT  9.021", " 9.021",  "9.021 ",    "9,021",
                       "DPX9.021",  "9.0211",   "-9.021",    "+9.021",
                       "9.021x",    "DPT-9.021", "9..021",   "99999.1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    knx_dpt d = KNX_DPT_5_010;
    cr_assert_eq(knx_dpt_parse(bad[i], &d), KNX_EINVAL, "\"%s\"", bad[i]);
    cr_assert_eq(d, KNX_DPT_5_010);
  }
  knx_dpt d;
  cr_assert_eq(knx_dpt_parse(NULL, &d), KNX_EINVAL);
  cr_assert_eq(knx_dpt_parse("9.021", NULL), KNX_EINVAL);
}

/* ---- generic argument checks -------------------------------------------- */

Test(dpt, unknown_dpt_is_invalid)
{
  knx_value v = number(1);
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_dpt_encode(KNX_DPT_COUNT, &v, &p), KNX_EINVAL);
  cr_assert_eq(knx_dpt_decode(KNX_DPT_COUNT, &p, &v), KNX_EINVAL);
  cr_assert_eq(knx_dpt_encode((knx_dpt)-3, &v, &p), KNX_EINVAL);
}

Test(dpt, null_arguments_are_invalid)
{
  knx_value v = number(1);
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_dpt_encode(KNX_DPT_1_001, NULL, &p), KNX_EINVAL);
  cr_assert_eq(knx_dpt_encode(KNX_DPT_1_001, &v, NULL), KNX_EINVAL);
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_001, NULL, &v), KNX_EINVAL);
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_001, &p, NULL), KNX_EINVAL);
}

/* Data length each DPT takes in the long form (0: short form only). */
static const uint8_t dpt_lengths[KNX_DPT_COUNT] = {
    [KNX_DPT_5_001] = 1,  [KNX_DPT_5_010] = 1,  [KNX_DPT_7_001] = 2,
    [KNX_DPT_9_001] = 2,  [KNX_DPT_9_021] = 2,  [KNX_DPT_9_024] = 2,
    [KNX_DPT_10_001] = 3, [KNX_DPT_11_001] = 3, [KNX_DPT_12_001] = 4,
    [KNX_DPT_13_010] = 4, [KNX_DPT_13_013] = 4, [KNX_DPT_14_019] = 4,
    [KNX_DPT_14_056] = 4, [KNX_DPT_16_000] = 14, [KNX_DPT_16_001] = 14,
    [KNX_DPT_19_001] = 8,
};

Test(dpt, every_long_dpt_refuses_other_lengths)
{
  for (int d = 0; d < KNX_DPT_COUNT; d++) {
    if (dpt_lengths[d] == 0)
      continue;
    for (uint8_t len = 0; len <= 14; len++) {
      if (len == dpt_lengths[d])
        continue;
      knx_payload p = {.short_form = false, .len = len};
      knx_value v;
      cr_assert_eq(knx_dpt_decode((knx_dpt)d, &p, &v), KNX_ESIZE, "%s len %u",
                   knx_dpt_name((knx_dpt)d), len);
    }
  }
}

Test(dpt, every_long_dpt_refuses_the_short_form)
{
  for (int d = 0; d < KNX_DPT_COUNT; d++) {
    if (dpt_lengths[d] == 0)
      continue;
    knx_payload p = {.short_form = true, .len = 1};
    knx_value v;
    cr_assert_eq(knx_dpt_decode((knx_dpt)d, &p, &v), KNX_ESIZE, "%s",
                 knx_dpt_name((knx_dpt)d));
  }
}

Test(dpt, payload_length_above_14_is_esize)
{
  knx_payload p = {.short_form = false, .len = 200};
  knx_value v;
  for (int d = 0; d < KNX_DPT_COUNT; d++)
    cr_assert_eq(knx_dpt_decode((knx_dpt)d, &p, &v), KNX_ESIZE);
}

Test(dpt, every_dpt_encodes_with_its_length)
{
  for (int d = 0; d < KNX_DPT_COUNT; d++) {
    knx_value v = number(1);
    if (d == KNX_DPT_10_001 || d == KNX_DPT_11_001 || d == KNX_DPT_19_001)
      v = when(2024, 1, 1, 1, 0, 0, 0, 0);
    if (d == KNX_DPT_16_000 || d == KNX_DPT_16_001)
      v = text("x");
    knx_payload p;
    cr_assert_eq(knx_dpt_encode((knx_dpt)d, &v, &p), KNX_OK, "%s",
                 knx_dpt_name((knx_dpt)d));
    cr_assert_eq(p.short_form, dpt_lengths[d] == 0);
    cr_assert_eq(p.len, dpt_lengths[d] == 0 ? 1 : dpt_lengths[d]);
  }
}

/* ---- DPT 1 ---------------------------------------------------------------- */

Test(dpt1, encodes_in_short_form)
{
  const knx_dpt ones[] = {KNX_DPT_1_001, KNX_DPT_1_002, KNX_DPT_1_003,
                          KNX_DPT_1_010, KNX_DPT_1_011, KNX_DPT_1_015};
  for (size_t i = 0; i < sizeof ones / sizeof ones[0]; i++) {
    for (int bit = 0; bit <= 1; bit++) {
      knx_value v = number(bit);
      knx_payload p;
      cr_assert_eq(knx_dpt_encode(ones[i], &v, &p), KNX_OK);
      cr_assert(p.short_form);
      cr_assert_eq(p.len, 1);
      cr_assert_eq(p.data[0], bit);
    }
  }
}

Test(dpt1, refuses_values_other_than_0_and_1)
{
  expect_encode_error(KNX_DPT_1_001, number(2), KNX_ERANGE);
  expect_encode_error(KNX_DPT_1_001, number(0.5), KNX_ERANGE);
  expect_encode_error(KNX_DPT_1_001, number(-1), KNX_ERANGE);
  expect_encode_error(KNX_DPT_1_001, number(NAN), KNX_ERANGE);
}

Test(dpt1, decodes_short_form)
{
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  knx_value v;
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_010, &p, &v), KNX_OK);
  cr_assert_eq(v.number, 1.0);
  p.data[0] = 0;
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_010, &p, &v), KNX_OK);
  cr_assert_eq(v.number, 0.0);
}

Test(dpt1, decodes_one_long_byte)
{
  expect_number(KNX_DPT_1_001, BYTES(0x01), 1, 1.0);
  expect_number(KNX_DPT_1_001, BYTES(0x00), 1, 0.0);
}

Test(dpt1, refuses_value_above_one)
{
  knx_payload p = {.short_form = true, .len = 1, .data = {2}};
  knx_value v;
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_001, &p, &v), KNX_ERANGE);
  expect_decode_error(KNX_DPT_1_001, BYTES(0xFF), 1, KNX_ERANGE);
}

Test(dpt1, refuses_other_lengths)
{
  expect_decode_error(KNX_DPT_1_001, BYTES(0x00, 0x01), 2, KNX_ESIZE);
  expect_decode_error(KNX_DPT_1_001, BYTES(0), 0, KNX_ESIZE);
  knx_payload p = {.short_form = true, .len = 0};
  knx_value v;
  cr_assert_eq(knx_dpt_decode(KNX_DPT_1_001, &p, &v), KNX_ESIZE);
}

/* ---- DPT 5 ---------------------------------------------------------------- */

Test(dpt5_001, scales_percent_to_0_255_rounding_to_nearest)
{
  expect_encoding(KNX_DPT_5_001, number(0), BYTES(0x00), 1);
  expect_encoding(KNX_DPT_5_001, number(100), BYTES(0xFF), 1);
  expect_encoding(KNX_DPT_5_001, number(50), BYTES(0x80), 1);   /* 127.5 */
  expect_encoding(KNX_DPT_5_001, number(1), BYTES(0x03), 1);    /* 2.55 */
  expect_encoding(KNX_DPT_5_001, number(0.19), BYTES(0x00), 1); /* 0.48 */
  expect_encoding(KNX_DPT_5_001, number(0.2), BYTES(0x01), 1);  /* 0.51 */
  expect_encoding(KNX_DPT_5_001, number(99.7), BYTES(0xFE), 1); /* 254.2 */
}

Test(dpt5_001, refuses_outside_0_100)
{
  expect_encode_error(KNX_DPT_5_001, number(-0.1), KNX_ERANGE);
  expect_encode_error(KNX_DPT_5_001, number(100.1), KNX_ERANGE);
  expect_encode_error(KNX_DPT_5_001, number(NAN), KNX_ERANGE);
  expect_encode_error(KNX_DPT_5_001, number(INFINITY), KNX_ERANGE);
}

Test(dpt5_001, decodes_to_percent)
{
  expect_number(KNX_DPT_5_001, BYTES(0xFF), 1, 100.0);
  expect_number(KNX_DPT_5_001, BYTES(0x00), 1, 0.0);
  expect_number(KNX_DPT_5_001, BYTES(0x80), 1, 12800.0 / 255.0);
}

Test(dpt5_001, every_step_round_trips)
{
  for (int raw = 0; raw <= 255; raw++) {
    knx_value v = decode_ok(KNX_DPT_5_001, BYTES((uint8_t)raw), 1);
    expect_encoding(KNX_DPT_5_001, v, BYTES((uint8_t)raw), 1);
  }
}

Test(dpt5_010, encodes_unsigned_byte)
{
  expect_encoding(KNX_DPT_5_010, number(8), BYTES(0x08), 1);
  expect_encoding(KNX_DPT_5_010, number(255), BYTES(0xFF), 1);
  expect_encoding(KNX_DPT_5_010, number(0), BYTES(0x00), 1);
  expect_encoding(KNX_DPT_5_010, number(2.4), BYTES(0x02), 1);
  expect_encoding(KNX_DPT_5_010, number(2.5), BYTES(0x03), 1);
}

Test(dpt5_010, refuses_outside_0_255)
{
  expect_encode_error(KNX_DPT_5_010, number(256), KNX_ERANGE);
  expect_encode_error(KNX_DPT_5_010, number(-1), KNX_ERANGE);
  expect_encode_error(KNX_DPT_5_010, number(NAN), KNX_ERANGE);
}

Test(dpt5_010, decodes_unsigned_byte)
{
  expect_number(KNX_DPT_5_010, BYTES(0xFE), 1, 254.0);
  expect_number(KNX_DPT_5_010, BYTES(0x08), 1, 8.0);
}

/* ---- DPT 7, 12, 13 --------------------------------------------------------- */

Test(dpt7_001, encodes_big_endian_uint16)
{
  expect_encoding(KNX_DPT_7_001, number(258), BYTES(0x01, 0x02), 2);
  expect_encoding(KNX_DPT_7_001, number(65535), BYTES(0xFF, 0xFF), 2);
  expect_encoding(KNX_DPT_7_001, number(0), BYTES(0x00, 0x00), 2);
  expect_encoding(KNX_DPT_7_001, number(99.6), BYTES(0x00, 0x64), 2);
}

Test(dpt7_001, refuses_outside_uint16)
{
  expect_encode_error(KNX_DPT_7_001, number(65536), KNX_ERANGE);
  expect_encode_error(KNX_DPT_7_001, number(-1), KNX_ERANGE);
  expect_encode_error(KNX_DPT_7_001, number(-INFINITY), KNX_ERANGE);
}

Test(dpt7_001, decodes_big_endian_uint16)
{
  expect_number(KNX_DPT_7_001, BYTES(0xAB, 0xCD), 2, 0xABCD);
}

Test(dpt12_001, encodes_big_endian_uint32)
{
  expect_encoding(KNX_DPT_12_001, number(0x01020304), BYTES(1, 2, 3, 4), 4);
  expect_encoding(KNX_DPT_12_001, number(4294967295.0),
                  BYTES(0xFF, 0xFF, 0xFF, 0xFF), 4);
}

Test(dpt12_001, refuses_outside_uint32)
{
  expect_encode_error(KNX_DPT_12_001, number(4294967296.0), KNX_ERANGE);
  expect_encode_error(KNX_DPT_12_001, number(-0.6), KNX_ERANGE);
}

Test(dpt12_001, decodes_big_endian_uint32)
{
  expect_number(KNX_DPT_12_001, BYTES(0xFF, 0xFF, 0xFF, 0xFF), 4,
                4294967295.0);
  expect_number(KNX_DPT_12_001, BYTES(0, 0, 1, 0), 4, 256.0);
}

Test(dpt13, encodes_twos_complement_int32)
{
  expect_encoding(KNX_DPT_13_010, number(-1), BYTES(0xFF, 0xFF, 0xFF, 0xFF), 4);
  expect_encoding(KNX_DPT_13_010, number(-2147483648.0),
                  BYTES(0x80, 0x00, 0x00, 0x00), 4);
  expect_encoding(KNX_DPT_13_013, number(2147483647.0),
                  BYTES(0x7F, 0xFF, 0xFF, 0xFF), 4);
  expect_encoding(KNX_DPT_13_010, number(12345),
                  BYTES(0x00, 0x00, 0x30, 0x39), 4);
}

Test(dpt13, rounds_half_away_from_zero)
{
  expect_encoding(KNX_DPT_13_010, number(1234.5), BYTES(0, 0, 0x04, 0xD3), 4);
  expect_encoding(KNX_DPT_13_010, number(-1234.5),
                  BYTES(0xFF, 0xFF, 0xFB, 0x2D), 4);
  expect_encoding(KNX_DPT_13_010, number(1234.4), BYTES(0, 0, 0x04, 0xD2), 4);
}

Test(dpt13, refuses_outside_int32)
{
  expect_encode_error(KNX_DPT_13_010, number(2147483648.0), KNX_ERANGE);
  expect_encode_error(KNX_DPT_13_013, number(-2147483649.0), KNX_ERANGE);
  expect_encode_error(KNX_DPT_13_013, number(NAN), KNX_ERANGE);
}

Test(dpt13, decodes_negative_values)
{
  expect_number(KNX_DPT_13_010, BYTES(0xFF, 0xFF, 0xFF, 0xFE), 4, -2.0);
  expect_number(KNX_DPT_13_013, BYTES(0x80, 0, 0, 0), 4, -2147483648.0);
  expect_number(KNX_DPT_13_013, BYTES(0x7F, 0xFF, 0xFF, 0xFF), 4,
                2147483647.0);
}

/* ---- DPT 9 ---------------------------------------------------------------- */

Test(dpt9, encodes_published_examples)
{
  expect_encoding(KNX_DPT_9_001, number(21.0), BYTES(0x0C, 0x1A), 2);
  expect_encoding(KNX_DPT_9_001, number(0.0), BYTES(0x00, 0x00), 2);
  expect_encoding(KNX_DPT_9_001, number(-0.01), BYTES(0x87, 0xFF), 2);
  expect_encoding(KNX_DPT_9_001, number(-30.0), BYTES(0x8A, 0x24), 2);
  expect_encoding(KNX_DPT_9_001, number(0.01), BYTES(0x00, 0x01), 2);
  expect_encoding(KNX_DPT_9_001, number(20.47), BYTES(0x07, 0xFF), 2);
  expect_encoding(KNX_DPT_9_001, number(20.48), BYTES(0x0C, 0x00), 2);
  expect_encoding(KNX_DPT_9_001, number(-20.48), BYTES(0x80, 0x00), 2);
}

Test(dpt9, encodes_range_ends)
{
  expect_encoding(KNX_DPT_9_024, number(-671088.64), BYTES(0xF8, 0x00), 2);
  /* 670760.96 is M = 2047, E = 15 = 0x7FFF, the invalid-data marker: the
   * nearest value that still is a number is one step below. */
  expect_encoding(KNX_DPT_9_024, number(670760.96), BYTES(0x7F, 0xFE), 2);
  expect_encoding(KNX_DPT_9_024, number(670433.28), BYTES(0x7F, 0xFE), 2);
}

Test(dpt9, refuses_outside_range_and_non_numbers)
{
  expect_encode_error(KNX_DPT_9_001, number(670761.0), KNX_ERANGE);
  expect_encode_error(KNX_DPT_9_001, number(-671089.0), KNX_ERANGE);
  expect_encode_error(KNX_DPT_9_001, number(NAN), KNX_ERANGE);
  expect_encode_error(KNX_DPT_9_021, number(INFINITY), KNX_ERANGE);
  expect_encode_error(KNX_DPT_9_021, number(-INFINITY), KNX_ERANGE);
}

Test(dpt9, rounds_to_nearest_step)
{
  /* E = 1: steps of 0.02. */
  expect_encoding(KNX_DPT_9_001, number(21.015), BYTES(0x0C, 0x1B), 2);
  expect_encoding(KNX_DPT_9_001, number(21.005), BYTES(0x0C, 0x1A), 2);
  /* E = 0: steps of 0.01. */
  expect_encoding(KNX_DPT_9_001, number(0.014), BYTES(0x00, 0x01), 2);
  expect_encoding(KNX_DPT_9_001, number(0.016), BYTES(0x00, 0x02), 2);
  expect_encoding(KNX_DPT_9_001, number(-0.004), BYTES(0x00, 0x00), 2);
  /* Rounding up to 2048 needs the next exponent. */
  expect_encoding(KNX_DPT_9_001, number(20.476), BYTES(0x0C, 0x00), 2);
}

Test(dpt9, decodes_published_examples)
{
  expect_number(KNX_DPT_9_001, BYTES(0x0C, 0x1A), 2, 21.0);
  expect_number(KNX_DPT_9_001, BYTES(0x87, 0xFF), 2, -0.01);
  expect_number(KNX_DPT_9_001, BYTES(0x8A, 0x24), 2, -30.0);
  expect_number(KNX_DPT_9_001, BYTES(0x00, 0x00), 2, 0.0);
  expect_number(KNX_DPT_9_024, BYTES(0xF8, 0x00), 2, -671088.64);
  expect_number(KNX_DPT_9_024, BYTES(0x7F, 0xFE), 2, 670433.28);
  expect_number(KNX_DPT_9_021, BYTES(0x80, 0x00), 2, -20.48);
}

Test(dpt9, decodes_non_normalised_values)
{
  /* E = 1, M = 2: 0.04 although E = 0, M = 4 is the usual form. */
  expect_number(KNX_DPT_9_001, BYTES(0x08, 0x02), 2, 0.04);
}

Test(dpt9, invalid_data_marker_is_erange)
{
  expect_decode_error(KNX_DPT_9_001, BYTES(0x7F, 0xFF), 2, KNX_ERANGE);
}

Test(dpt9, every_code_survives_decode_encode_decode)
{
  for (unsigned raw = 0; raw <= 0xFFFF; raw++) {
    if (raw == 0x7FFF)
      continue;
    knx_value v = decode_ok(KNX_DPT_9_001, BYTES((uint8_t)(raw >> 8),
                                                 (uint8_t)raw), 2);
    knx_payload p;
    cr_assert_eq(knx_dpt_encode(KNX_DPT_9_001, &v, &p), KNX_OK, "%04X", raw);
    cr_assert_neq(p.data[0] << 8 | p.data[1], 0x7FFF, "%04X", raw);
    knx_value back;
    cr_assert_eq(knx_dpt_decode(KNX_DPT_9_001, &p, &back), KNX_OK);
    cr_assert_float_eq(back.number, v.number, 1e-9, "%04X", raw);
  }
}

/* ---- DPT 14 --------------------------------------------------------------- */

Test(dpt14, encodes_big_endian_ieee754_single)
{
  expect_encoding(KNX_DPT_14_019, number(16.0), BYTES(0x41, 0x80, 0x00, 0x00),
                  4);
  expect_encoding(KNX_DPT_14_019, number(16.5), BYTES(0x41, 0x84, 0x00, 0x00),
                  4);
  expect_encoding(KNX_DPT_14_056, number(-1.5), BYTES(0xBF, 0xC0, 0x00, 0x00),
                  4);
  expect_encoding(KNX_DPT_14_056, number(0.0), BYTES(0, 0, 0, 0), 4);
}

Test(dpt14, refuses_nan_infinity_and_overflow)
{
  expect_encode_error(KNX_DPT_14_019, number(NAN), KNX_ERANGE);
  expect_encode_error(KNX_DPT_14_019, number(INFINITY), KNX_ERANGE);
  expect_encode_error(KNX_DPT_14_056, number(-INFINITY), KNX_ERANGE);
  expect_encode_error(KNX_DPT_14_056, number(1e39), KNX_ERANGE);
}

Test(dpt14, decodes_big_endian_ieee754_single)
{
  expect_number(KNX_DPT_14_019, BYTES(0x41, 0x84, 0x00, 0x00), 4, 16.5);
  expect_number(KNX_DPT_14_056, BYTES(0xC2, 0x28, 0x00, 0x00), 4, -42.0);
}

Test(dpt14, decoded_nan_and_infinity_are_erange)
{
  expect_decode_error(KNX_DPT_14_019, BYTES(0x7F, 0xC0, 0, 0), 4, KNX_ERANGE);
  expect_decode_error(KNX_DPT_14_019, BYTES(0x7F, 0x80, 0, 0), 4, KNX_ERANGE);
  expect_decode_error(KNX_DPT_14_019, BYTES(0xFF, 0x80, 0, 0), 4, KNX_ERANGE);
}

/* ---- DPT 16 --------------------------------------------------------------- */

Test(dpt16, encodes_specification_example_padded_with_nul)
{
  expect_encoding(KNX_DPT_16_000, text("KNX is OK"),
                  BYTES(0x4B, 0x4E, 0x58, 0x20, 0x69, 0x73, 0x20, 0x4F, 0x4B,
                        0, 0, 0, 0, 0),
                  14);
}

Test(dpt16, fourteen_characters_fill_the_field)
{
  expect_encoding(KNX_DPT_16_001, text("ABCDEFGHIJKLMN"),
                  BYTES('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K',
                        'L', 'M', 'N'),
                  14);
}

Test(dpt16, empty_text_is_all_nul)
{
  expect_encoding(KNX_DPT_16_000, text(""),
                  BYTES(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 14);
}

Test(dpt16, refuses_more_than_14_bytes)
{
  knx_value v;
  memset(v.text, 'x', sizeof v.text);
  expect_encode_error(KNX_DPT_16_000, v, KNX_ERANGE);
  expect_encode_error(KNX_DPT_16_001, v, KNX_ERANGE);
}

Test(dpt16_000, refuses_non_ascii)
{
  expect_encode_error(KNX_DPT_16_000, text("Stra\xDF" "e"), KNX_ERANGE);
  expect_encode_error(KNX_DPT_16_000, text("\x80"), KNX_ERANGE);
}

Test(dpt16_001, carries_latin1_bytes)
{
  expect_encoding(KNX_DPT_16_001, text("Stra\xDF" "e \xE4\xFF"),
                  BYTES('S', 't', 'r', 'a', 0xDF, 'e', ' ', 0xE4, 0xFF, 0, 0,
                        0, 0, 0),
                  14);
}

Test(dpt16, decode_stops_at_first_nul)
{
  knx_value v = decode_ok(KNX_DPT_16_000,
                          BYTES('A', 'B', 0, 'C', 'D', 0, 0, 0, 0, 0, 0, 0, 0,
                                0),
                          14);
  cr_assert_str_eq(v.text, "AB");
}

Test(dpt16, decodes_fourteen_characters_with_terminator)
{
  knx_value v = decode_ok(KNX_DPT_16_000,
                          BYTES('K', 'N', 'X', ' ', 'i', 's', ' ', 'O', 'K',
                                ' ', 't', 'o', 'o', '!'),
                          14);
  cr_assert_str_eq(v.text, "KNX is OK too!");
  cr_assert_eq(v.text[14], '\0');
}

Test(dpt16_000, decode_refuses_non_ascii)
{
  expect_decode_error(KNX_DPT_16_000,
                      BYTES('a', 0xE4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 14,
                      KNX_ERANGE);
}

Test(dpt16_001, decode_accepts_any_byte)
{
  knx_value v = decode_ok(KNX_DPT_16_001,
                          BYTES('a', 0xE4, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
                                0, 0),
                          14);
  cr_assert_str_eq(v.text, "a\xE4\xFF\x80");
}

/* ---- DPT 10.001 ----------------------------------------------------------- */

Test(dpt10, encodes_weekday_hour_minute_second)
{
  expect_encoding(KNX_DPT_10_001, when(0, 0, 0, 1, 13, 45, 30, 0),
                  BYTES(0x2D, 0x2D, 0x1E), 3);
  expect_encoding(KNX_DPT_10_001, when(0, 0, 0, 7, 23, 59, 59, 0),
                  BYTES(0xF7, 0x3B, 0x3B), 3);
  expect_encoding(KNX_DPT_10_001, when(0, 0, 0, 0, 0, 0, 0, 0),
                  BYTES(0x00, 0x00, 0x00), 3);
}

Test(dpt10, refuses_invalid_fields)
{
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, 1, 24, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, 1, 0, 60, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, 1, 0, 0, 60, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, 8, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, -1, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_10_001, when(0, 0, 0, 1, -1, 0, 0, 0),
                      KNX_ERANGE);
}

Test(dpt10, decodes_fields)
{
  knx_value v = decode_ok(KNX_DPT_10_001, BYTES(0xF7, 0x3B, 0x3B), 3);
  cr_assert_eq(v.time.weekday, 7);
  cr_assert_eq(v.time.hour, 23);
  cr_assert_eq(v.time.minute, 59);
  cr_assert_eq(v.time.second, 59);
}

Test(dpt10, decode_refuses_invalid_fields)
{
  expect_decode_error(KNX_DPT_10_001, BYTES(0x18, 0, 0), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_10_001, BYTES(0, 0x3C, 0), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_10_001, BYTES(0, 0, 0x3C), 3, KNX_ERANGE);
}

/* ---- DPT 11.001 ----------------------------------------------------------- */

Test(dpt11, encodes_day_month_two_digit_year)
{
  expect_encoding(KNX_DPT_11_001, when(2024, 2, 29, 0, 0, 0, 0, 0),
                  BYTES(0x1D, 0x02, 0x18), 3);
  expect_encoding(KNX_DPT_11_001, when(1990, 1, 1, 0, 0, 0, 0, 0),
                  BYTES(0x01, 0x01, 0x5A), 3);
  expect_encoding(KNX_DPT_11_001, when(2089, 12, 31, 0, 0, 0, 0, 0),
                  BYTES(0x1F, 0x0C, 0x59), 3);
  expect_encoding(KNX_DPT_11_001, when(2000, 6, 15, 0, 0, 0, 0, 0),
                  BYTES(0x0F, 0x06, 0x00), 3);
}

Test(dpt11, refuses_invalid_dates)
{
  expect_encode_error(KNX_DPT_11_001, when(1989, 1, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2090, 1, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2024, 13, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2024, 0, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2024, 1, 0, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2024, 1, 32, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2023, 2, 29, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_11_001, when(2024, 4, 31, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
}

Test(dpt11, decodes_years_90_to_99_as_19xx_and_others_as_20xx)
{
  knx_value v = decode_ok(KNX_DPT_11_001, BYTES(0x01, 0x01, 0x5A), 3);
  cr_assert_eq(v.time.year, 1990);
  v = decode_ok(KNX_DPT_11_001, BYTES(0x1F, 0x0C, 0x63), 3);
  cr_assert_eq(v.time.year, 1999);
  v = decode_ok(KNX_DPT_11_001, BYTES(0x1F, 0x0C, 0x59), 3);
  cr_assert_eq(v.time.year, 2089);
  cr_assert_eq(v.time.month, 12);
  cr_assert_eq(v.time.day, 31);
  v = decode_ok(KNX_DPT_11_001, BYTES(0x1D, 0x02, 0x00), 3);
  cr_assert_eq(v.time.year, 2000);
  cr_assert_eq(v.time.day, 29);
}

Test(dpt11, decode_refuses_invalid_dates)
{
  expect_decode_error(KNX_DPT_11_001, BYTES(0x01, 0x01, 0x64), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_11_001, BYTES(0x00, 0x01, 0x00), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_11_001, BYTES(0x01, 0x0D, 0x00), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_11_001, BYTES(0x01, 0x00, 0x00), 3, KNX_ERANGE);
  expect_decode_error(KNX_DPT_11_001, BYTES(0x1D, 0x02, 0x17), 3, KNX_ERANGE);
}

/* ---- DPT 19.001 ----------------------------------------------------------- */

Test(dpt19, encodes_all_octets)
{
  /* Saturday 2024-06-15 14:30:05, summer time, externally synchronised. */
  expect_encoding(KNX_DPT_19_001,
                  when(2024, 6, 15, 6, 14, 30, 5,
                       KNX_DT_SUMMER_TIME | KNX_DT_EXT_SYNC),
                  BYTES(0x7C, 0x06, 0x0F, 0xCE, 0x1E, 0x05, 0x01, 0x80), 8);
}

Test(dpt19, flags_map_to_octet_2_from_fault_down_to_summer_time)
{
  const struct {
    unsigned flag;
    uint8_t octet;
  } map[] = {
      {KNX_DT_FAULT, 0x80},          {KNX_DT_WORKING_DAY, 0x40},
      {KNX_DT_NO_WORKING_DAY, 0x20}, {KNX_DT_NO_YEAR, 0x10},
      {KNX_DT_NO_DATE, 0x08},        {KNX_DT_NO_DAY_OF_WEEK, 0x04},
      {KNX_DT_NO_TIME, 0x02},        {KNX_DT_SUMMER_TIME, 0x01},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    knx_value v = when(2024, 1, 1, 1, 0, 0, 0, map[i].flag);
    knx_payload p;
    cr_assert_eq(knx_dpt_encode(KNX_DPT_19_001, &v, &p), KNX_OK);
    cr_assert_eq(p.data[6], map[i].octet, "flag %x", map[i].flag);
    cr_assert_eq(p.data[7], 0);
    knx_value back;
    cr_assert_eq(knx_dpt_decode(KNX_DPT_19_001, &p, &back), KNX_OK);
    cr_assert_eq(back.time.flags, map[i].flag);
  }
}

Test(dpt19, clock_quality_octet_carries_clq_and_src)
{
  knx_value v = when(2024, 1, 1, 1, 0, 0, 0, KNX_DT_RELIABLE_SYNC);
  knx_payload p;
  cr_assert_eq(knx_dpt_encode(KNX_DPT_19_001, &v, &p), KNX_OK);
  cr_assert_eq(p.data[7], 0x40);
  v.time.flags = KNX_DT_EXT_SYNC | KNX_DT_RELIABLE_SYNC;
  cr_assert_eq(knx_dpt_encode(KNX_DPT_19_001, &v, &p), KNX_OK);
  cr_assert_eq(p.data[7], 0xC0);
}

Test(dpt19, accepts_year_range_ends_and_hour_24)
{
  expect_encoding(KNX_DPT_19_001, when(1900, 1, 1, 0, 24, 0, 0, 0),
                  BYTES(0x00, 0x01, 0x01, 0x18, 0x00, 0x00, 0x00, 0x00), 8);
  expect_encoding(KNX_DPT_19_001, when(2155, 12, 31, 7, 23, 59, 59, 0),
                  BYTES(0xFF, 0x0C, 0x1F, 0xF7, 0x3B, 0x3B, 0x00, 0x00), 8);
}

Test(dpt19, refuses_invalid_fields)
{
  expect_encode_error(KNX_DPT_19_001, when(1899, 1, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2156, 1, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 13, 1, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2023, 2, 29, 0, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 1, 1, 8, 0, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 1, 1, 0, 24, 0, 1, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 1, 1, 0, 25, 0, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 1, 1, 0, 0, 60, 0, 0),
                      KNX_ERANGE);
  expect_encode_error(KNX_DPT_19_001, when(2024, 1, 1, 0, 0, 0, 0, 1u << 12),
                      KNX_ERANGE);
}

Test(dpt19, fields_flagged_not_valid_are_sent_as_zero)
{
  expect_encoding(KNX_DPT_19_001,
                  when(-5, 77, 99, 3, 99, 99, 99,
                       KNX_DT_NO_YEAR | KNX_DT_NO_DATE | KNX_DT_NO_TIME),
                  BYTES(0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x1A, 0x00), 8);
}

Test(dpt19, no_year_allows_february_29)
{
  knx_value v = when(0, 2, 29, 0, 0, 0, 0, KNX_DT_NO_YEAR);
  knx_payload p;
  cr_assert_eq(knx_dpt_encode(KNX_DPT_19_001, &v, &p), KNX_OK);
}

Test(dpt19, decodes_all_fields)
{
  knx_value v = decode_ok(KNX_DPT_19_001,
                          BYTES(0x7C, 0x06, 0x0F, 0xCE, 0x1E, 0x05, 0x41, 0x80),
                          8);
  cr_assert_eq(v.time.year, 2024);
  cr_assert_eq(v.time.month, 6);
  cr_assert_eq(v.time.day, 15);
  cr_assert_eq(v.time.weekday, 6);
  cr_assert_eq(v.time.hour, 14);
  cr_assert_eq(v.time.minute, 30);
  cr_assert_eq(v.time.second, 5);
  cr_assert_eq(v.time.flags,
               KNX_DT_SUMMER_TIME | KNX_DT_WORKING_DAY | KNX_DT_EXT_SYNC);
}

Test(dpt19, decode_refuses_invalid_fields)
{
  expect_decode_error(KNX_DPT_19_001, BYTES(0x7C, 0x0D, 0x01, 0, 0, 0, 0, 0),
                      8, KNX_ERANGE);
  expect_decode_error(KNX_DPT_19_001, BYTES(0x7C, 0x01, 0x00, 0, 0, 0, 0, 0),
                      8, KNX_ERANGE);
  expect_decode_error(KNX_DPT_19_001, BYTES(0x7C, 0x01, 0x01, 0x19, 0, 0, 0, 0),
                      8, KNX_ERANGE);
  expect_decode_error(KNX_DPT_19_001, BYTES(0x7C, 0x01, 0x01, 0x18, 1, 0, 0, 0),
                      8, KNX_ERANGE);
  expect_decode_error(KNX_DPT_19_001, BYTES(0x7C, 0x01, 0x01, 0, 0x3C, 0, 0, 0),
                      8, KNX_ERANGE);
}

Test(dpt19, decode_skips_checks_of_fields_flagged_not_valid)
{
  knx_value v = decode_ok(KNX_DPT_19_001,
                          BYTES(0x7C, 0x0D, 0x00, 0x1F, 0x3F, 0x3F, 0x0A, 0x00),
                          8);
  cr_assert_eq(v.time.flags, KNX_DT_NO_DATE | KNX_DT_NO_TIME);
  cr_assert_eq(v.time.year, 2024);
  cr_assert_eq(v.time.month, 0);
  cr_assert_eq(v.time.day, 0);
  cr_assert_eq(v.time.hour, 0);
  cr_assert_eq(v.time.minute, 0);
}
