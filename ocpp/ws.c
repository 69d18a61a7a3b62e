/* The server side of a WebSocket on wslay's frame layer (see ws.h). The
 * frame layer parses and unmasks frames; this file keeps the rules of
 * RFC 6455 above it: masking, opcodes, fragmentation, control frames,
 * UTF-8, the message size cap and the closing handshake. */
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "ocpp/ocpp.h"
#include "ocpp/ws.h"

enum {
  WS_CONT = 0x0,
  WS_TEXT = 0x1,
  WS_BINARY = 0x2,
  WS_CLOSE = 0x8,
  WS_PING = 0x9,
  WS_PONG = 0xa,
  WS_NO_MESSAGE = 0xff,
  WS_CTRL_MAX = 125,
  WS_HEAD_MAX = 14,
};

enum {
  WS_CODE_NORMAL = 1000,
  WS_CODE_PROTOCOL = 1002,
  WS_CODE_UNSUPPORTED = 1003,
  WS_CODE_NONE = 1005,
  WS_CODE_BAD_DATA = 1007,
  WS_CODE_TOO_BIG = 1009,
  WS_CODE_INTERNAL = 1011,
};

/* Incremental UTF-8 check that also refuses overlong forms, surrogates and
 * code points above U+10FFFF; a sequence may span frames. */
typedef struct {
  uint8_t need;   /* continuation bytes still due */
  uint8_t lo, hi; /* the range the next continuation byte must lie in */
} utf8_state;

struct ocpp_ws {
  wslay_frame_context_ptr frame;
  const ocpp_ws_callbacks *cb;
  void *user_data;
  size_t max_message;
  /* input being fed */
  const uint8_t *in;
  size_t in_len;
  /* the data message being received (WS_NO_MESSAGE: none) */
  uint8_t msg_opcode;
  bool msg_fin;
  uint8_t *msg;   /* only while a message spans chunks; freed after */
  size_t msg_len, msg_cap;
  utf8_state utf8;
  /* the frame being received */
  bool in_frame;
  uint8_t frame_opcode;
  uint64_t frame_len, frame_off;
  uint8_t ctrl[WS_CTRL_MAX];
  size_t ctrl_len;
  /* output: a frame header waits for its payload (one write per frame) */
  uint8_t held[WS_HEAD_MAX];
  size_t held_len;
  bool holding;
  int write_rc;
  bool close_sent;
  uint16_t peer_code;
};

static bool utf8_step(utf8_state *s, uint8_t b)
{
  if (s->need) {
    if (b < s->lo || b > s->hi)
      return false;
    s->need--;
    s->lo = 0x80;
    s->hi = 0xbf;
    return true;
  }
  if (b < 0x80)
    return true;
  s->lo = 0x80;
  s->hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) {
    s->need = 1;
  } else if (b >= 0xe0 && b <= 0xef) {
    s->need = 2;
    if (b == 0xe0)
      s->lo = 0xa0; /* overlong */
    if (b == 0xed)
      s->hi = 0x9f; /* surrogates */
  } else if (b >= 0xf0 && b <= 0xf4) {
    s->need = 3;
    if (b == 0xf0)
      s->lo = 0x90; /* overlong */
    if (b == 0xf4)
      s->hi = 0x8f; /* above U+10FFFF */
  } else {
    return false;
  }
  return true;
}

/* OCPP text is nearly all ASCII: skip it eight bytes at a time. */
static size_t ascii_run(const uint8_t *p, size_t len)
{
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull)
      break;
  }
  return i;
}

static bool utf8_check(utf8_state *s, const uint8_t *p, size_t len)
{
  size_t i = 0;
  while (i < len) {
    if (!s->need) {
      i += ascii_run(p + i, len - i);
      if (i == len)
        break;
    }
    if (!utf8_step(s, p[i++]))
      return false;
  }
  return true;
}

/* ---- output ------------------------------------------------------------- */

/* The frame layer hands a header (flagged WSLAY_MSG_MORE) and then its
 * payload, one right after the other; they are joined into one write. */
static ssize_t frame_send_cb(const uint8_t *data, size_t len, int flags,
                             void *user_data)
{
  ocpp_ws *ws = user_data;
  if ((flags & WSLAY_MSG_MORE) && !ws->holding && len <= sizeof ws->held) {
    memcpy(ws->held, data, len);
    ws->held_len = len;
    ws->holding = true;
    return (ssize_t)len;
  }
  int rc;
  if (ws->holding)
    rc = ws->cb->write(ws->user_data, ws->held, ws->held_len, data, len);
  else
    rc = ws->cb->write(ws->user_data, data, len, NULL, 0);
  ws->holding = false;
  if (rc != 0) {
    ws->write_rc = rc;
    return WSLAY_ERR_CALLBACK_FAILURE;
  }
  return (ssize_t)len;
}

static int send_frame(ocpp_ws *ws, uint8_t opcode, const uint8_t *data,
                      size_t len)
{
  if (ws->close_sent || ws->write_rc)
    return OCPP_ENOTCONN;
  struct wslay_frame_iocb iocb = {
    .fin = 1, .opcode = opcode, .payload_length = len, .data = data,
    .data_length = len};
  ssize_t r = wslay_frame_send(ws->frame, &iocb);
  if (ws->holding) { /* a frame without payload: the header alone */
    ws->holding = false;
    int rc = ws->cb->write(ws->user_data, ws->held, ws->held_len, NULL, 0);
    if (rc)
      ws->write_rc = rc;
  }
  if (ws->write_rc)
    return ws->write_rc;
  return r == (ssize_t)len ? OCPP_OK : OCPP_EIO;
}

int ocpp_ws_send_text(ocpp_ws *ws, const char *text, size_t len)
{
  return send_frame(ws, WS_TEXT, (const uint8_t *)text, len);
}

int ocpp_ws_close(ocpp_ws *ws, uint16_t code, const char *reason)
{
  if (ws->close_sent)
    return OCPP_OK;
  uint8_t body[WS_CTRL_MAX];
  size_t rlen = reason ? strlen(reason) : 0;
  if (rlen > sizeof body - 2)
    rlen = sizeof body - 2;
  body[0] = (uint8_t)(code >> 8);
  body[1] = (uint8_t)(code & 0xff);
  if (rlen)
    memcpy(body + 2, reason, rlen);
  int rc = send_frame(ws, WS_CLOSE, body, rlen + 2);
  ws->close_sent = true;
  return rc;
}

static int fail(ocpp_ws *ws, uint16_t code, const char *reason)
{
  ocpp_ws_close(ws, code, reason);
  return OCPP_EWSPROTO;
}

/* ---- input -------------------------------------------------------------- */

static ssize_t frame_recv_cb(uint8_t *buf, size_t len, int flags,
                             void *user_data)
{
  (void)flags;
  ocpp_ws *ws = user_data;
  if (ws->in_len == 0)
    return WSLAY_ERR_WANT_READ;
  size_t n = len < ws->in_len ? len : ws->in_len;
  memcpy(buf, ws->in, n);
  ws->in += n;
  ws->in_len -= n;
  return (ssize_t)n;
}

static bool is_control(uint8_t opcode)
{
  return opcode & 0x8;
}

static bool valid_close_code(uint16_t code)
{
  if (code >= 3000 && code <= 4999)
    return true;
  return code >= 1000 && code <= 1011 && code != 1004 && code != 1005 &&
         code != 1006;
}

static int control_done(ocpp_ws *ws)
{
  if (ws->frame_opcode == WS_PING)
    return send_frame(ws, WS_PONG, ws->ctrl, ws->ctrl_len) == OCPP_OK
               ? OCPP_OK : OCPP_EIO;
  if (ws->frame_opcode != WS_CLOSE)
    return OCPP_OK; /* a pong: nothing to do */
  if (ws->ctrl_len == 1)
    return fail(ws, WS_CODE_PROTOCOL, "close frame of one byte");
  uint16_t code = WS_CODE_NONE;
  if (ws->ctrl_len >= 2) {
    code = (uint16_t)(ws->ctrl[0] << 8 | ws->ctrl[1]);
    utf8_state u = {0};
    if (!valid_close_code(code))
      return fail(ws, WS_CODE_PROTOCOL, "invalid close code");
    if (!utf8_check(&u, ws->ctrl + 2, ws->ctrl_len - 2) || u.need)
      return fail(ws, WS_CODE_BAD_DATA, "close reason is not UTF-8");
  }
  ws->peer_code = code;
  ocpp_ws_close(ws, code == WS_CODE_NONE ? WS_CODE_NORMAL : code, NULL);
  return OCPP_OK;
}

static int message_append(ocpp_ws *ws, const uint8_t *data, size_t len)
{
  if (ws->msg_len + len > ws->msg_cap) {
    size_t cap = ws->msg_cap ? ws->msg_cap : 1024;
    while (cap < ws->msg_len + len)
      cap *= 2;
    uint8_t *m = realloc(ws->msg, cap);
    if (!m)
      return OCPP_ENOMEM;
    ws->msg = m;
    ws->msg_cap = cap;
  }
  memcpy(ws->msg + ws->msg_len, data, len);
  ws->msg_len += len;
  return OCPP_OK;
}

static void message_reset(ocpp_ws *ws)
{
  free(ws->msg);
  ws->msg = NULL;
  ws->msg_len = ws->msg_cap = 0;
  ws->msg_opcode = WS_NO_MESSAGE;
  ws->utf8 = (utf8_state){0};
}

/* A new frame: is it allowed here, and does its message fit? */
static int frame_start(ocpp_ws *ws, const struct wslay_frame_iocb *f)
{
  if (!f->mask)
    return fail(ws, WS_CODE_PROTOCOL, "client frames must be masked");
  if (f->rsv)
    return fail(ws, WS_CODE_PROTOCOL, "no extension was negotiated");
  if (is_control(f->opcode)) {
    if (f->opcode != WS_CLOSE && f->opcode != WS_PING && f->opcode != WS_PONG)
      return fail(ws, WS_CODE_PROTOCOL, "unknown opcode");
    if (!f->fin || f->payload_length > WS_CTRL_MAX)
      return fail(ws, WS_CODE_PROTOCOL, "fragmented or long control frame");
  } else if (f->opcode == WS_CONT) {
    if (ws->msg_opcode == WS_NO_MESSAGE)
      return fail(ws, WS_CODE_PROTOCOL, "continuation without a message");
    ws->msg_fin = f->fin;
  } else if (f->opcode == WS_TEXT || f->opcode == WS_BINARY) {
    if (ws->msg_opcode != WS_NO_MESSAGE)
      return fail(ws, WS_CODE_PROTOCOL, "new message inside a fragmented one");
    if (f->opcode == WS_BINARY)
      return fail(ws, WS_CODE_UNSUPPORTED, "text frames only");
    ws->msg_opcode = f->opcode;
    ws->msg_fin = f->fin;
  } else {
    return fail(ws, WS_CODE_PROTOCOL, "unknown opcode");
  }
  if (!is_control(f->opcode) &&
      f->payload_length > ws->max_message - ws->msg_len)
    return fail(ws, WS_CODE_TOO_BIG, "message too big");
  ws->in_frame = true;
  ws->frame_opcode = f->opcode;
  ws->frame_len = f->payload_length;
  ws->frame_off = 0;
  ws->ctrl_len = 0;
  return OCPP_OK;
}

/* The usual case: a whole message in one frame and one chunk, handed on
 * from the frame layer's buffer without a copy. */
static bool whole_in_chunk(const ocpp_ws *ws, const struct wslay_frame_iocb *f)
{
  return ws->msg_fin && ws->msg_len == 0 && ws->frame_off == 0 &&
         f->data_length == ws->frame_len;
}

static int deliver(ocpp_ws *ws, const uint8_t *text, size_t len)
{
  if (ws->utf8.need)
    return fail(ws, WS_CODE_BAD_DATA, "text is not UTF-8");
  uint8_t *owned = ws->msg;
  ws->msg = NULL;
  message_reset(ws);
  ws->cb->text(ws->user_data, (const char *)text, len);
  free(owned);
  return OCPP_OK;
}

static int data_chunk(ocpp_ws *ws, const struct wslay_frame_iocb *f)
{
  if (!utf8_check(&ws->utf8, f->data, f->data_length))
    return fail(ws, WS_CODE_BAD_DATA, "text is not UTF-8");
  if (whole_in_chunk(ws, f)) {
    ws->in_frame = false;
    return deliver(ws, f->data, f->data_length);
  }
  if (message_append(ws, f->data, f->data_length) != OCPP_OK)
    return fail(ws, WS_CODE_INTERNAL, "out of memory");
  ws->frame_off += f->data_length;
  if (ws->frame_off < ws->frame_len)
    return OCPP_OK;
  ws->in_frame = false;
  if (!ws->msg_fin)
    return OCPP_OK; /* more fragments follow */
  return deliver(ws, ws->msg, ws->msg_len);
}

static int control_chunk(ocpp_ws *ws, const struct wslay_frame_iocb *f)
{
  memcpy(ws->ctrl + ws->ctrl_len, f->data, f->data_length);
  ws->ctrl_len += f->data_length;
  ws->frame_off += f->data_length;
  if (ws->frame_off < ws->frame_len)
    return OCPP_OK;
  ws->in_frame = false;
  return control_done(ws);
}

static int chunk(ocpp_ws *ws, const struct wslay_frame_iocb *f)
{
  if (!ws->in_frame) {
    int rc = frame_start(ws, f);
    if (rc != OCPP_OK)
      return rc;
  }
  if (is_control(ws->frame_opcode))
    return control_chunk(ws, f);
  return data_chunk(ws, f);
}

int ocpp_ws_feed(ocpp_ws *ws, const uint8_t *data, size_t len)
{
  if (ws->close_sent || ws->write_rc)
    return OCPP_OK; /* after our close nothing more is read */
  ws->in = data;
  ws->in_len = len;
  int rc = OCPP_OK;
  while (rc == OCPP_OK && !ws->close_sent) {
    struct wslay_frame_iocb f;
    ssize_t r = wslay_frame_recv(ws->frame, &f);
    if (r == WSLAY_ERR_WANT_READ)
      break;
    if (r < 0) {
      rc = fail(ws, WS_CODE_PROTOCOL, "malformed frame");
      break;
    }
    rc = chunk(ws, &f);
  }
  ws->in = NULL;
  ws->in_len = 0;
  return rc;
}

/* ---- lifetime ----------------------------------------------------------- */

int ocpp_ws_create(ocpp_ws **out, const ocpp_ws_callbacks *cb,
                   void *user_data, size_t max_message)
{
  static const struct wslay_frame_callbacks frame_cbs = {
    .send_callback = frame_send_cb,
    .recv_callback = frame_recv_cb,
  };
  *out = NULL;
  ocpp_ws *ws = calloc(1, sizeof *ws);
  if (!ws)
    return OCPP_ENOMEM;
  if (wslay_frame_context_init(&ws->frame, &frame_cbs, ws) != 0) {
    free(ws);
    return OCPP_ENOMEM;
  }
  ws->cb = cb;
  ws->user_data = user_data;
  ws->max_message = max_message;
  ws->msg_opcode = WS_NO_MESSAGE;
  *out = ws;
  return OCPP_OK;
}

void ocpp_ws_free(ocpp_ws *ws)
{
  if (!ws)
    return;
  wslay_frame_context_free(ws->frame);
  free(ws->msg);
  free(ws);
}

bool ocpp_ws_finished(const ocpp_ws *ws)
{
  return ws->close_sent || ws->write_rc != 0;
}

uint16_t ocpp_ws_peer_close_code(const ocpp_ws *ws)
{
  return ws->peer_code;
}
