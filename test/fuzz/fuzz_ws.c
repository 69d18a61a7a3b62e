/* Fuzz target: the WebSocket endpoint (ocpp/ws.c) fed arbitrary bytes in
 * arbitrary pieces. Checked: every message handed on is within the size
 * cap and valid UTF-8, every frame written is a well-formed, unmasked
 * server frame, and nothing is written after the close. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/ocpp.h"
#include "ocpp/ws.h"

#define MAX_MESSAGE 600

static bool closed;

/* masked client frames: a text message, a ping, two fragments, a close */
static const uint8_t seed_frames[] = {
  0x81, 0x85, 1, 2, 3, 4, '[' ^ 1, '1' ^ 2, ',' ^ 3, '2' ^ 4, ']' ^ 1,
  0x89, 0x82, 0, 0, 0, 0, 'h', 'i',
  0x01, 0x81, 0, 0, 0, 0, 'a', 0x80, 0x82, 0, 0, 0, 0, 0xc3, 0xa9,
  0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8,
};

size_t fuzz_seed(size_t index, const uint8_t **data);

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  if (index > 0) {
    *data = NULL;
    return 0;
  }
  *data = seed_frames;
  return sizeof seed_frames;
}

static bool valid_utf8(const uint8_t *p, size_t n)
{
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    size_t more = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1
                : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 9;
    if (more == 9 || i + more >= n + (more == 0))
      return false;
    uint32_t cp = more == 0 ? b : b & (0x3f >> more);
    for (size_t k = 1; k <= more; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += more + 1;
  }
  return true;
}

static int on_write(void *user_data, const uint8_t *head, size_t head_len,
                    const uint8_t *payload, size_t payload_len)
{
  (void)user_data;
  (void)payload;
  if (closed || head_len < 2 || head_len > 14)
    abort();
  if (!(head[0] & 0x80) || (head[0] & 0x70) || (head[1] & 0x80))
    abort(); /* one final frame, no extension bits, never masked */
  uint64_t len = head[1] & 0x7f;
  if (len == 126)
    len = (uint64_t)head[2] << 8 | head[3];
  if (len != payload_len)
    abort();
  if ((head[0] & 0x0f) == 0x8)
    closed = true;
  return 0;
}

static void on_text(void *user_data, const char *text, size_t len)
{
  (void)user_data;
  if (len > MAX_MESSAGE || !valid_utf8((const uint8_t *)text, len))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const ocpp_ws_callbacks cbs = {.write = on_write, .text = on_text};
  if (size < 1)
    return 0;
  ocpp_ws *ws;
  if (ocpp_ws_create(&ws, &cbs, NULL, MAX_MESSAGE) != OCPP_OK)
    return 0;
  closed = false;
  size_t piece = (size_t)data[0] % 64 + 1, off = 1;
  while (off < size) {
    size_t n = size - off < piece ? size - off : piece;
    ocpp_ws_feed(ws, data + off, n);
    off += n;
    if (!closed && off % 7 == 0)
      ocpp_ws_send_text(ws, "[3,\"1\",{}]", 10);
  }
  if (ocpp_ws_finished(ws) != closed)
    abort();
  ocpp_ws_free(ws);
  return 0;
}
