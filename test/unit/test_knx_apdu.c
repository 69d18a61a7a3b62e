#include <criterion/criterion.h>

#include <string.h>

#include "knx/knx.h"

static knx_payload short_payload(uint8_t v)
{
  knx_payload p = {.short_form = true, .len = 1, .data = {v}};
  return p;
}

static knx_payload long_payload(const uint8_t *bytes, uint8_t len)
{
  knx_payload p = {.short_form = false, .len = len};
  memcpy(p.data, bytes, len);
  return p;
}

static void expect_encoded(knx_service svc, const knx_payload *p,
                           const uint8_t *want, size_t want_len)
{
  uint8_t apdu[KNX_APDU_MAX + 4];
  size_t len = 0;
  cr_assert_eq(knx_apdu_encode(svc, p, apdu, sizeof apdu, &len), KNX_OK);
  cr_assert_eq(len, want_len);
  cr_assert_arr_eq(apdu, want, want_len);
}

/* ---- encode -------------------------------------------------------------- */

Test(apdu_encode, read_is_00_00)
{
  expect_encoded(KNX_GROUP_READ, NULL, (const uint8_t[]){0x00, 0x00}, 2);
}

Test(apdu_encode, read_ignores_payload)
{
  knx_payload p = short_payload(1);
  expect_encoded(KNX_GROUP_READ, &p, (const uint8_t[]){0x00, 0x00}, 2);
}

Test(apdu_encode, short_write_puts_value_in_apci_byte)
{
  knx_payload p = short_payload(1);
  expect_encoded(KNX_GROUP_WRITE, &p, (const uint8_t[]){0x00, 0x81}, 2);
  p = short_payload(0x3F);
  expect_encoded(KNX_GROUP_WRITE, &p, (const uint8_t[]){0x00, 0xBF}, 2);
}

Test(apdu_encode, short_response_puts_value_in_apci_byte)
{
  knx_payload p = short_payload(1);
  expect_encoded(KNX_GROUP_RESPONSE, &p, (const uint8_t[]){0x00, 0x41}, 2);
  p = short_payload(0);
  expect_encoded(KNX_GROUP_RESPONSE, &p, (const uint8_t[]){0x00, 0x40}, 2);
}

Test(apdu_encode, long_write_appends_data)
{
  knx_payload p = long_payload((const uint8_t[]){0x0C, 0x1A}, 2);
  expect_encoded(KNX_GROUP_WRITE, &p, (const uint8_t[]){0x00, 0x80, 0x0C, 0x1A},
                 4);
}

Test(apdu_encode, long_one_byte_keeps_apci_byte_clear)
{
  knx_payload p = long_payload((const uint8_t[]){0x08}, 1);
  expect_encoded(KNX_GROUP_WRITE, &p, (const uint8_t[]){0x00, 0x80, 0x08}, 3);
}

Test(apdu_encode, long_response_appends_data)
{
  knx_payload p = long_payload((const uint8_t[]){0x41, 0x84, 0x00, 0x00}, 4);
  expect_encoded(KNX_GROUP_RESPONSE, &p,
                 (const uint8_t[]){0x00, 0x40, 0x41, 0x84, 0x00, 0x00}, 6);
}

Test(apdu_encode, fourteen_data_bytes_fill_the_maximum)
{
  uint8_t data[14];
  for (int i = 0; i < 14; i++)
    data[i] = (uint8_t)('A' + i);
  knx_payload p = long_payload(data, 14);
  uint8_t want[16] = {0x00, 0x80};
  memcpy(want + 2, data, 14);
  expect_encoded(KNX_GROUP_WRITE, &p, want, 16);
}

Test(apdu_encode, short_value_above_6_bits_is_invalid)
{
  knx_payload p = short_payload(0x40);
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, sizeof apdu, &len),
               KNX_EINVAL);
}

Test(apdu_encode, short_form_with_other_length_is_invalid)
{
  knx_payload p = short_payload(1);
  p.len = 2;
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, sizeof apdu, &len),
               KNX_EINVAL);
}

Test(apdu_encode, long_form_without_data_is_invalid)
{
  knx_payload p = {.short_form = false, .len = 0};
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, sizeof apdu, &len),
               KNX_EINVAL);
}

Test(apdu_encode, long_form_over_14_bytes_is_invalid)
{
  knx_payload p = {.short_form = false, .len = 15};
  uint8_t apdu[32];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, sizeof apdu, &len),
               KNX_EINVAL);
}

Test(apdu_encode, write_without_payload_is_invalid)
{
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, NULL, apdu, sizeof apdu, &len),
               KNX_EINVAL);
  cr_assert_eq(
      knx_apdu_encode(KNX_GROUP_RESPONSE, NULL, apdu, sizeof apdu, &len),
      KNX_EINVAL);
}

Test(apdu_encode, unknown_service_is_invalid)
{
  knx_payload p = short_payload(1);
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode((knx_service)7, &p, apdu, sizeof apdu, &len),
               KNX_EINVAL);
}

Test(apdu_encode, null_output_is_invalid)
{
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_READ, NULL, NULL, 16, &len),
               KNX_EINVAL);
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_READ, NULL, apdu, sizeof apdu, NULL),
               KNX_EINVAL);
}

Test(apdu_encode, too_small_buffer_is_esize)
{
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  knx_payload p = long_payload((const uint8_t[]){1, 2, 3, 4}, 4);
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, 5, &len), KNX_ESIZE);
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_READ, NULL, apdu, 1, &len),
               KNX_ESIZE);
  knx_payload s = short_payload(1);
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &s, apdu, 1, &len), KNX_ESIZE);
  cr_assert_eq(knx_apdu_encode(KNX_GROUP_WRITE, &p, apdu, 6, &len), KNX_OK);
}

/* ---- decode -------------------------------------------------------------- */

static void decode_ok(const uint8_t *apdu, size_t len, knx_service *svc,
                      knx_payload *p)
{
  cr_assert_eq(knx_apdu_decode(apdu, len, svc, p), KNX_OK);
}

Test(apdu_decode, read_has_no_data)
{
  knx_service svc = KNX_GROUP_WRITE;
  knx_payload p = short_payload(9);
  decode_ok((const uint8_t[]){0x00, 0x00}, 2, &svc, &p);
  cr_assert_eq(svc, KNX_GROUP_READ);
  cr_assert_eq(p.len, 0);
}

Test(apdu_decode, read_with_data_is_invalid)
{
  knx_service svc;
  knx_payload p;
  cr_assert_eq(knx_apdu_decode((const uint8_t[]){0x00, 0x00, 0x01}, 3, &svc, &p),
               KNX_EINVAL);
}

Test(apdu_decode, two_byte_write_is_short_form)
{
  knx_service svc;
  knx_payload p;
  decode_ok((const uint8_t[]){0x00, 0x81}, 2, &svc, &p);
  cr_assert_eq(svc, KNX_GROUP_WRITE);
  cr_assert(p.short_form);
  cr_assert_eq(p.len, 1);
  cr_assert_eq(p.data[0], 1);
}

Test(apdu_decode, two_byte_response_is_short_form)
{
  knx_service svc;
  knx_payload p;
  decode_ok((const uint8_t[]){0x00, 0x7F}, 2, &svc, &p);
  cr_assert_eq(svc, KNX_GROUP_RESPONSE);
  cr_assert(p.short_form);
  cr_assert_eq(p.data[0], 0x3F);
}

Test(apdu_decode, long_write_carries_data)
{
  knx_service svc;
  knx_payload p;
  decode_ok((const uint8_t[]){0x00, 0x80, 0x0C, 0x1A}, 4, &svc, &p);
  cr_assert_eq(svc, KNX_GROUP_WRITE);
  cr_assert_not(p.short_form);
  cr_assert_eq(p.len, 2);
  cr_assert_eq(p.data[0], 0x0C);
  cr_assert_eq(p.data[1], 0x1A);
}

Test(apdu_decode, long_response_carries_data)
{
  knx_service svc;
  knx_payload p;
  decode_ok((const uint8_t[]){0x00, 0x40, 0x41, 0x84, 0x00, 0x00}, 6, &svc, &p);
  cr_assert_eq(svc, KNX_GROUP_RESPONSE);
  cr_assert_not(p.short_form);
  cr_assert_eq(p.len, 4);
  cr_assert_arr_eq(p.data, ((const uint8_t[]){0x41, 0x84, 0x00, 0x00}), 4);
}

Test(apdu_decode, one_long_data_byte_stays_long)
{
  knx_service svc;
  knx_payload p;
  decode_ok((const uint8_t[]){0x00, 0x80, 0x00}, 3, &svc, &p);
  cr_assert_not(p.short_form);
  cr_assert_eq(p.len, 1);
  cr_assert_eq(p.data[0], 0);
}

Test(apdu_decode, sixteen_bytes_is_the_maximum)
{
  uint8_t apdu[KNX_APDU_MAX + 1] = {0x00, 0x80};
  for (int i = 2; i < KNX_APDU_MAX + 1; i++)
    apdu[i] = (uint8_t)i;
  knx_service svc;
  knx_payload p;
  decode_ok(apdu, KNX_APDU_MAX, &svc, &p);
  cr_assert_eq(p.len, 14);
  cr_assert_eq(p.data[13], 15);
  cr_assert_eq(knx_apdu_decode(apdu, KNX_APDU_MAX + 1, &svc, &p), KNX_EINVAL);
}

Test(apdu_decode, shorter_than_two_bytes_is_invalid)
{
  knx_service svc;
  knx_payload p;
  cr_assert_eq(knx_apdu_decode((const uint8_t[]){0x00}, 1, &svc, &p),
               KNX_EINVAL);
  cr_assert_eq(knx_apdu_decode((const uint8_t[]){0x00}, 0, &svc, &p),
               KNX_EINVAL);
}

Test(apdu_decode, apci_c0_is_unsupported)
{
  knx_service svc;
  knx_payload p;
  cr_assert_eq(knx_apdu_decode((const uint8_t[]){0x00, 0xC0, 0x01}, 3, &svc, &p),
               KNX_EUNSUPPORTED);
}

Test(apdu_decode, high_apci_bits_are_unsupported)
{
  knx_service svc;
  knx_payload p;
  for (uint8_t hi = 1; hi <= 3; hi++) {
    cr_assert_eq(knx_apdu_decode((const uint8_t[]){hi, 0x80, 0x01}, 3, &svc, &p),
                 KNX_EUNSUPPORTED, "byte0 %u", hi);
  }
}

Test(apdu_decode, null_arguments_are_invalid)
{
  const uint8_t apdu[] = {0x00, 0x81};
  knx_service svc;
  knx_payload p;
  cr_assert_eq(knx_apdu_decode(NULL, 2, &svc, &p), KNX_EINVAL);
  cr_assert_eq(knx_apdu_decode(apdu, 2, NULL, &p), KNX_EINVAL);
  cr_assert_eq(knx_apdu_decode(apdu, 2, &svc, NULL), KNX_EINVAL);
}

Test(apdu, encode_then_decode_round_trips)
{
  const knx_service services[] = {KNX_GROUP_WRITE, KNX_GROUP_RESPONSE};
  for (size_t s = 0; s < 2; s++) {
    for (uint8_t len = 1; len <= 14; len++) {
      uint8_t data[14];
      for (uint8_t i = 0; i < len; i++)
        data[i] = (uint8_t)(len * 17 + i);
      knx_payload in = long_payload(data, len), out;
      uint8_t apdu[KNX_APDU_MAX];
      size_t n;
      knx_service svc;
      cr_assert_eq(knx_apdu_encode(services[s], &in, apdu, sizeof apdu, &n),
                   KNX_OK);
      cr_assert_eq(knx_apdu_decode(apdu, n, &svc, &out), KNX_OK);
      cr_assert_eq(svc, services[s]);
      cr_assert_eq(out.len, len);
      cr_assert_arr_eq(out.data, data, len);
    }
  }
}
