/* The server side of a WebSocket (RFC 6455) on wslay's frame layer: fed the
 * bytes that arrive after the upgrade, it hands back complete text
 * messages and the frames to send. No I/O and no clock.
 *
 * wslay's event layer would keep two 4 KiB buffers per connection next to
 * the frame layer's own; on a box with a thousand chargers that is most of
 * the daemon's memory. This endpoint keeps only the frame layer's buffer
 * and a message buffer while a fragmented or oversized message is being
 * received. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_WS_H
#define OCPPKNX_OCPP_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ocpp_ws ocpp_ws;

/* Close codes the transport sends (RFC 6455, 7.4.1). */
enum {
  OCPP_WS_NORMAL = 1000,
  OCPP_WS_GOING_AWAY = 1001,
  OCPP_WS_POLICY = 1008,
};

typedef struct {
  /* One frame for the peer: its header and its payload, to leave in one
   * write. Returns 0 or an OCPP_E* code (the endpoint then fails). */
  int (*write)(void *user_data, const uint8_t *head, size_t head_len,
               const uint8_t *payload, size_t payload_len);
  /* A complete, valid UTF-8 text message. */
  void (*text)(void *user_data, const char *text, size_t len);
} ocpp_ws_callbacks;

/* max_message: the longest text message accepted (close 1009 beyond). */
int ocpp_ws_create(ocpp_ws **out, const ocpp_ws_callbacks *cb,
                   void *user_data, size_t max_message);
void ocpp_ws_free(ocpp_ws *ws);

/* Bytes from the peer. Messages are delivered, pings answered and a close
 * answered from inside. Returns OCPP_OK, or OCPP_EPROTO once the peer broke
 * the protocol (a close frame with the reason has been written). */
int ocpp_ws_feed(ocpp_ws *ws, const uint8_t *data, size_t len);

int ocpp_ws_send_text(ocpp_ws *ws, const char *text, size_t len);

/* Writes a close frame (once); nothing is sent after it. */
int ocpp_ws_close(ocpp_ws *ws, uint16_t code, const char *reason);

/* True once there is nothing left to exchange: a close went out, or a
 * write failed. The owner then closes the connection. */
bool ocpp_ws_finished(const ocpp_ws *ws);

/* The close code the peer sent, 1005 when it sent none, 0 before. */
uint16_t ocpp_ws_peer_close_code(const ocpp_ws *ws);

#endif
