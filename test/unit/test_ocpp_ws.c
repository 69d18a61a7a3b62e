/* The WebSocket endpoint (ocpp/ws.c): frames in, messages and frames out,
 * and every protocol violation answered with its close code. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/ocpp.h"
#include "ocpp/ws.h"

#define MAX_MESSAGE 6000

typedef struct {
  char msgs[8][MAX_MESSAGE + 1];
  size_t msg_len[8];
  int n_msgs;
  uint8_t out[16384]; /* every frame written, back to back */
  size_t out_len;
  int writes;
  int fail_writes; /* refuse writes from now on */
} peer;

static peer p;
static ocpp_ws *ws;

static int on_write(void *user_data, const uint8_t *head, size_t head_len,
                    const uint8_t *payload, size_t payload_len)
{
  peer *q = user_data;
  if (q->fail_writes)
    return OCPP_EIO;
  cr_assert_leq(q->out_len + head_len + payload_len, sizeof q->out);
  memcpy(q->out + q->out_len, head, head_len);
  q->out_len += head_len;
  if (payload_len)
    memcpy(q->out + q->out_len, payload, payload_len);
  q->out_len += payload_len;
  q->writes++;
  return 0;
}

static void on_text(void *user_data, const char *text, size_t len)
{
  peer *q = user_data;
  cr_assert_lt(q->n_msgs, 8);
  memcpy(q->msgs[q->n_msgs], text, len);
  q->msgs[q->n_msgs][len] = '\0';
  q->msg_len[q->n_msgs++] = len;
}

static void setup(void)
{
  static const ocpp_ws_callbacks cbs = {.write = on_write, .text = on_text};
  memset(&p, 0, sizeof p);
  cr_assert_eq(ocpp_ws_create(&ws, &cbs, &p, MAX_MESSAGE), OCPP_OK);
}

static void teardown(void)
{
  ocpp_ws_free(ws);
  ws = NULL;
}

TestSuite(ws, .init = setup, .fini = teardown);

/* A client frame: FIN flag and opcode in b0, masked with a fixed key. */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload, size_t len)
{
  static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  size_t h = 0;
  out[h++] = b0;
  if (len < 126) {
    out[h++] = 0x80 | (uint8_t)len;
  } else {
    out[h++] = 0x80 | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  }
  memcpy(out + h, key, 4);
  h += 4;
  const uint8_t *s = payload;
  for (size_t i = 0; i < len; i++)
    out[h + i] = s[i] ^ key[i % 4];
  return h + len;
}

static int feed(const uint8_t *data, size_t len)
{
  return ocpp_ws_feed(ws, data, len);
}

static int feed_frame(uint8_t b0, const void *payload, size_t len)
{
  static uint8_t buf[MAX_MESSAGE + 64];
  return feed(buf, frame(buf, b0, payload, len));
}

/* The close code of the last frame written, which must be a close. */
static unsigned last_close_code(void)
{
  cr_assert_geq(p.out_len, 4);
  /* server frames are unmasked; a close with a reason is < 126 bytes */
  size_t i = 0, last = 0;
  while (i < p.out_len) {
    last = i;
    size_t len = p.out[i + 1] & 0x7f, h = 2;
    if (len == 126) {
      len = (size_t)p.out[i + 2] << 8 | p.out[i + 3];
      h = 4;
    }
    i += h + len;
  }
  cr_assert_eq(p.out[last], 0x88, "last frame is not a close");
  return (unsigned)p.out[last + 2] << 8 | p.out[last + 3];
}

Test(ws, one_text_frame_is_one_message)
{
  cr_assert_eq(feed_frame(0x81, "[2,\"1\",\"Heartbeat\",{}]", 22), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_str_eq(p.msgs[0], "[2,\"1\",\"Heartbeat\",{}]");
  cr_assert_eq(p.writes, 0);
  cr_assert_not(ocpp_ws_finished(ws));
}

Test(ws, byte_by_byte_is_the_same_message)
{
  uint8_t buf[64];
  size_t n = frame(buf, 0x81, "hello, charger", 14);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(feed(buf + i, 1), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_str_eq(p.msgs[0], "hello, charger");
}

Test(ws, two_frames_in_one_read_are_two_messages)
{
  uint8_t buf[64];
  size_t n = frame(buf, 0x81, "one", 3);
  n += frame(buf + n, 0x81, "two", 3);
  cr_assert_eq(feed(buf, n), OCPP_OK);
  cr_assert_eq(p.n_msgs, 2);
  cr_assert_str_eq(p.msgs[1], "two");
}

Test(ws, empty_text_message)
{
  cr_assert_eq(feed_frame(0x81, "", 0), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_eq(p.msg_len[0], 0);
}

Test(ws, fragments_with_a_ping_between_are_joined)
{
  /* "é" (C3 A9) split across the two fragments */
  uint8_t buf[128];
  size_t n = frame(buf, 0x01, "caf\xc3", 4);
  n += frame(buf + n, 0x89, "ping!", 5);
  n += frame(buf + n, 0x80, "\xa9 ok", 4);
  cr_assert_eq(feed(buf, n), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_str_eq(p.msgs[0], "caf\xc3\xa9 ok");
  /* the pong carries the ping's payload */
  cr_assert_eq(p.out[0], 0x8a);
  cr_assert_eq(p.out[1], 5);
  cr_assert_eq(memcmp(p.out + 2, "ping!", 5), 0);
}

Test(ws, message_longer_than_the_frame_buffer)
{
  static char big[5000];
  memset(big, 'x', sizeof big);
  cr_assert_eq(feed_frame(0x81, big, sizeof big), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_eq(p.msg_len[0], sizeof big);
}

Test(ws, message_over_the_cap_is_refused_with_1009)
{
  static char big[MAX_MESSAGE + 1];
  memset(big, 'x', sizeof big);
  cr_assert_eq(feed_frame(0x81, big, sizeof big), OCPP_EWSPROTO);
  cr_assert_eq(p.n_msgs, 0);
  cr_assert_eq(last_close_code(), 1009);
  cr_assert(ocpp_ws_finished(ws));
}

Test(ws, fragments_over_the_cap_are_refused_with_1009)
{
  static char half[MAX_MESSAGE / 2 + 1];
  memset(half, 'x', sizeof half);
  cr_assert_eq(feed_frame(0x01, half, sizeof half), OCPP_OK);
  cr_assert_eq(feed_frame(0x80, half, sizeof half), OCPP_EWSPROTO);
  cr_assert_eq(p.n_msgs, 0);
  cr_assert_eq(last_close_code(), 1009);
}

static void expect_refused(uint8_t b0, const char *payload, size_t len,
                           unsigned code)
{
  cr_assert_eq(feed_frame(b0, payload, len), OCPP_EWSPROTO);
  cr_assert_eq(p.n_msgs, 0);
  cr_assert_eq(last_close_code(), code);
  cr_assert(ocpp_ws_finished(ws));
}

Test(ws, invalid_utf8_is_refused_with_1007)
{
  expect_refused(0x81, "[\"\xff\xfe\"]", 6, 1007);
}

Test(ws, overlong_utf8_is_refused)
{
  expect_refused(0x81, "\xc0\x80", 2, 1007);
}

Test(ws, utf16_surrogate_is_refused)
{
  expect_refused(0x81, "\xed\xa0\x80", 3, 1007);
}

Test(ws, code_point_above_u10ffff_is_refused)
{
  expect_refused(0x81, "\xf4\x90\x80\x80", 4, 1007);
}

Test(ws, truncated_utf8_at_the_end_is_refused)
{
  expect_refused(0x81, "ok\xe2\x82", 4, 1007);
}

Test(ws, four_byte_utf8_is_accepted)
{
  cr_assert_eq(feed_frame(0x81, "\xf0\x9f\x94\x8c", 4), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
}

Test(ws, binary_is_refused_with_1003)
{
  expect_refused(0x82, "\x01\x02", 2, 1003);
}

Test(ws, unmasked_frame_is_refused_with_1002)
{
  const uint8_t raw[] = {0x81, 0x02, 'h', 'i'};
  cr_assert_eq(feed(raw, sizeof raw), OCPP_EWSPROTO);
  cr_assert_eq(p.n_msgs, 0);
  cr_assert_eq(last_close_code(), 1002);
}

Test(ws, extension_bits_are_refused)
{
  expect_refused(0xc1, "hi", 2, 1002);
}

Test(ws, unknown_opcode_is_refused)
{
  expect_refused(0x83, "hi", 2, 1002);
}

Test(ws, continuation_without_a_message_is_refused)
{
  expect_refused(0x80, "hi", 2, 1002);
}

Test(ws, new_message_inside_a_fragmented_one_is_refused)
{
  cr_assert_eq(feed_frame(0x01, "part", 4), OCPP_OK);
  expect_refused(0x81, "new", 3, 1002);
}

Test(ws, fragmented_ping_is_refused)
{
  expect_refused(0x09, "hi", 2, 1002);
}

Test(ws, ping_longer_than_125_bytes_is_refused)
{
  char big[126];
  memset(big, 'p', sizeof big);
  expect_refused(0x89, big, sizeof big, 1002);
}

Test(ws, peer_close_is_answered_with_its_code)
{
  cr_assert_eq(feed_frame(0x88, "\x03\xe8" "bye", 5), OCPP_OK);
  cr_assert_eq(last_close_code(), 1000);
  cr_assert_eq(ocpp_ws_peer_close_code(ws), 1000);
  cr_assert(ocpp_ws_finished(ws));
}

Test(ws, private_close_code_is_echoed)
{
  cr_assert_eq(feed_frame(0x88, "\x0b\xb8", 2), OCPP_OK); /* 3000 */
  cr_assert_eq(last_close_code(), 3000);
}

Test(ws, empty_close_is_answered_normal)
{
  cr_assert_eq(feed_frame(0x88, "", 0), OCPP_OK);
  cr_assert_eq(last_close_code(), 1000);
  cr_assert_eq(ocpp_ws_peer_close_code(ws), 1005);
}

Test(ws, close_of_one_byte_is_refused)
{
  expect_refused(0x88, "\x03", 1, 1002);
}

Test(ws, reserved_close_code_is_refused)
{
  expect_refused(0x88, "\x03\xed", 2, 1002); /* 1005 must not be sent */
}

Test(ws, close_code_below_1000_is_refused)
{
  expect_refused(0x88, "\x03\xe7", 2, 1002);
}

Test(ws, close_reason_must_be_utf8)
{
  expect_refused(0x88, "\x03\xe8\xff", 3, 1007);
}

Test(ws, nothing_is_read_or_sent_after_the_close)
{
  cr_assert_eq(feed_frame(0x88, "\x03\xe8", 2), OCPP_OK);
  size_t out = p.out_len;
  cr_assert_eq(feed_frame(0x81, "late", 4), OCPP_OK);
  cr_assert_eq(p.n_msgs, 0);
  cr_assert_neq(ocpp_ws_send_text(ws, "x", 1), OCPP_OK);
  cr_assert_eq(ocpp_ws_close(ws, 1000, NULL), OCPP_OK); /* once only */
  cr_assert_eq(p.out_len, out);
}

Test(ws, text_goes_out_in_one_write_per_frame)
{
  cr_assert_eq(ocpp_ws_send_text(ws, "[3,\"1\",{}]", 10), OCPP_OK);
  cr_assert_eq(p.writes, 1);
  cr_assert_eq(p.out_len, 12);
  cr_assert_eq(p.out[0], 0x81);
  cr_assert_eq(p.out[1], 10); /* unmasked */
  cr_assert_eq(memcmp(p.out + 2, "[3,\"1\",{}]", 10), 0);
}

Test(ws, long_text_gets_the_16_bit_length)
{
  static char text[300];
  memset(text, 'a', sizeof text);
  cr_assert_eq(ocpp_ws_send_text(ws, text, sizeof text), OCPP_OK);
  cr_assert_eq(p.writes, 1);
  cr_assert_eq(p.out[1], 126);
  cr_assert_eq(p.out[2] << 8 | p.out[3], 300);
  cr_assert_eq(p.out_len, 4 + sizeof text);
}

Test(ws, own_close_carries_code_and_reason)
{
  cr_assert_eq(ocpp_ws_close(ws, 1001, "server shutting down"), OCPP_OK);
  cr_assert_eq(last_close_code(), 1001);
  cr_assert_eq(memcmp(p.out + 4, "server shutting down", 20), 0);
  cr_assert(ocpp_ws_finished(ws));
}

Test(ws, failed_write_finishes_the_endpoint)
{
  p.fail_writes = 1;
  cr_assert_eq(ocpp_ws_send_text(ws, "x", 1), OCPP_EIO);
  cr_assert(ocpp_ws_finished(ws));
  p.fail_writes = 0;
  cr_assert_neq(ocpp_ws_send_text(ws, "y", 1), OCPP_OK);
  cr_assert_eq(p.writes, 0);
}

Test(ws, malformed_length_is_refused)
{
  /* a 64-bit length with the top bit set */
  const uint8_t raw[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
  cr_assert_eq(feed(raw, sizeof raw), OCPP_EWSPROTO);
  cr_assert_eq(last_close_code(), 1002);
}

Test(ws, utf8_inside_long_ascii_runs)
{
  const char ok[] = "[2,\"1\",\"DataTransfer\",{\"data\":\"K\xc3\xbchlschrank \xe2\x82\xac\"}]";
  cr_assert_eq(feed_frame(0x81, ok, sizeof ok - 1), OCPP_OK);
  cr_assert_eq(p.n_msgs, 1);
  cr_assert_str_eq(p.msgs[0], ok);
}

Test(ws, stray_continuation_byte_inside_ascii_is_refused)
{
  expect_refused(0x81, "0123456789abc\x80" "0123456789abcdef", 30, 1007);
}
