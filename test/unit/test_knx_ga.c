#include <criterion/criterion.h>

#include <string.h>

#include "knx/knx.h"

static uint16_t ga3(unsigned main, unsigned middle, unsigned sub)
{
  return (uint16_t)(main << 11 | middle << 8 | sub);
}

static void expect_ga(const char *text, uint16_t want)
{
  uint16_t ga = 0xABCD;
  cr_assert_eq(knx_ga_parse(text, &ga), KNX_OK, "parse \"%s\"", text);
  cr_assert_eq(ga, want, "\"%s\" -> 0x%04x, want 0x%04x", text, ga, want);
}

static void expect_invalid(const char *text)
{
  uint16_t ga = 0x1234;
  cr_assert_eq(knx_ga_parse(text, &ga), KNX_EINVAL, "\"%s\" accepted", text);
  cr_assert_eq(ga, 0x1234, "\"%s\" changed the output", text);
}

Test(ga, three_level_packs_main_middle_sub)
{
  expect_ga("9/7/0", ga3(9, 7, 0));
  expect_ga("1/2/3", 0x0A03);
  expect_ga("0/0/0", 0);
  expect_ga("31/7/255", 0xFFFF);
}

Test(ga, two_level_packs_main_and_11_bit_sub)
{
  expect_ga("9/1234", (uint16_t)(9 << 11 | 1234));
  expect_ga("0/0", 0);
  expect_ga("31/2047", 0xFFFF);
}

Test(ga, free_notation_is_decimal)
{
  expect_ga("12345", 12345);
  expect_ga("0", 0);
  expect_ga("65535", 65535);
  expect_ga("1234", 1234);
}

Test(ga, leading_zeros_are_accepted)
{
  expect_ga("01/02/003", ga3(1, 2, 3));
  expect_ga("00042", 42);
}

Test(ga, three_level_rejects_out_of_range_levels)
{
  expect_invalid("32/0/0");
  expect_invalid("0/8/0");
  expect_invalid("0/0/256");
}

Test(ga, two_level_rejects_out_of_range_levels)
{
  expect_invalid("32/0");
  expect_invalid("0/2048");
}

Test(ga, free_rejects_values_above_65535)
{
  expect_invalid("65536");
  expect_invalid("99999999999999999999999");
}

Test(ga, rejects_empty_and_missing_levels)
{
  expect_invalid("");
  expect_invalid("/");
  expect_invalid("1/");
  expect_invalid("/1");
  expect_invalid("1//2");
  expect_invalid("1/2/");
}

Test(ga, rejects_extra_slashes)
{
  expect_invalid("1/2/3/4");
  expect_invalid("1/2/3/");
}

Test(ga, rejects_signs)
{
  expect_invalid("-1");
  expect_invalid("+1");
  expect_invalid("1/-2/3");
  expect_invalid("1/+2/3");
}

Test(ga, rejects_blanks)
{
  expect_invalid(" 1/2/3");
  expect_invalid("1/2/3 ");
  expect_invalid("1 /2/3");
  expect_invalid("1/ 2/3");
  expect_invalid("\t5");
}

Test(ga, rejects_junk)
{
  expect_invalid("x1/2/3");
  expect_invalid("1/2/3x");
  expect_invalid("0x12");
  expect_invalid("1.2.3");
  expect_invalid("1/2a/3");
}

Test(ga, rejects_null_arguments)
{
  uint16_t ga;
  cr_assert_eq(knx_ga_parse(NULL, &ga), KNX_EINVAL);
  cr_assert_eq(knx_ga_parse("1/2/3", NULL), KNX_EINVAL);
}

Test(ga, format_writes_three_level_form)
{
  char out[KNX_GA_STRLEN];
  knx_ga_format(ga3(9, 7, 42), out);
  cr_assert_str_eq(out, "9/7/42");
  knx_ga_format(0xFFFF, out);
  cr_assert_str_eq(out, "31/7/255");
  knx_ga_format(0, out);
  cr_assert_str_eq(out, "0/0/0");
}

Test(ga, format_then_parse_round_trips_every_address)
{
  char out[KNX_GA_STRLEN];
  for (unsigned ga = 0; ga <= 0xFFFF; ga++) {
    uint16_t back;
    knx_ga_format((uint16_t)ga, out);
    cr_assert_eq(knx_ga_parse(out, &back), KNX_OK, "%s", out);
    cr_assert_eq(back, ga, "%s", out);
  }
}

Test(ga, strerror_names_every_code)
{
  const int codes[] = {KNX_OK,     KNX_EINVAL,       KNX_ERANGE,
                       KNX_ESIZE,  KNX_EUNSUPPORTED, KNX_ENOTCONN,
                       KNX_EIO,    KNX_ENOMEM};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *text = knx_strerror(codes[i]);
    cr_assert_not_null(text);
    cr_assert_str_neq(text, "unknown error", "code %d", codes[i]);
    for (size_t j = 0; j < i; j++)
      cr_assert_str_neq(text, knx_strerror(codes[j]));
  }
}

Test(ga, strerror_of_unknown_code_is_not_null)
{
  cr_assert_str_eq(knx_strerror(-999), "unknown error");
  cr_assert_str_eq(knx_strerror(42), "unknown error");
}
