/* Fuzz target: HTTP upgrade parser and the handshake helpers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/http.h"

#define MAX_HEADER_BYTES 8192

static const char *const seed_texts[] = {
    "GET /ocpp/CP1 HTTP/1.1\r\nHost: 127.0.0.1:8016\r\nUpgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6, ocpp2.0\r\n"
    "Authorization: Basic Q1AxOnNlY3JldA==\r\n\r\n",
    "GET /steve/websocket/CentralSystemService/CP%201 HTTP/1.1\n"
    "upgrade: WebSocket\nSec-WebSocket-Protocol: ocpp1.6\n"
    "Sec-WebSocket-Protocol: ocpp2.0.1\n\n",
    "GET /status?x=1 HTTP/1.1\r\nHost: box\r\n\r\n",
    "POST / HTTP/1.0\r\n\r\n",
    "GET ws://box:8016/CP1/ HTTP/1.1\r\nSec-WebSocket-Version: 8\r\n\r\n",
};

size_t fuzz_seed(size_t index, const uint8_t **data);

size_t fuzz_seed(size_t index, const uint8_t **data) {
  if (index >= sizeof seed_texts / sizeof seed_texts[0]) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seed_texts[index];
  return strlen(seed_texts[index]);
}

static void check_terminated(const char *s, size_t cap) {
  if (memchr(s, '\0', cap) == NULL) abort();
}

static void check_request(const char *buf, int rc, const ocpp_http_request *r) {
  check_terminated(r->method, sizeof r->method);
  check_terminated(r->path, sizeof r->path);
  check_terminated(r->ws_key, sizeof r->ws_key);
  check_terminated(r->protocols, sizeof r->protocols);
  check_terminated(r->authorization, sizeof r->authorization);
  check_terminated(r->host, sizeof r->host);

  /* Every shorter read of a complete request must ask for more bytes. */
  ocpp_http_request prefix;
  if (ocpp_http_parse(buf, (size_t)rc - 1, MAX_HEADER_BYTES, &prefix) !=
      OCPP_HTTP_INCOMPLETE)
    abort();

  char id[64];
  (void)ocpp_http_identity(r->path, id, sizeof id);
  char accept[29];
  if (ocpp_ws_accept(r->ws_key, accept) == 0 && strlen(accept) != 28) abort();
  char user[64], pass[64];
  if (ocpp_http_basic_auth(r->authorization, user, sizeof user, pass,
                           sizeof pass) == 0 &&
      (strchr(user, ':') || !ocpp_secret_equal(pass, pass)))
    abort();
  char out[1024];
  size_t n = ocpp_http_upgrade_response(out, sizeof out, accept,
                                        r->has_protocol_header ? r->protocols
                                                               : NULL);
  if (n >= sizeof out) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  ocpp_http_request req;
  int rc = ocpp_http_parse(buf, size, MAX_HEADER_BYTES, &req);
  if (rc > (int)size) abort();
  if (rc > 0) check_request(buf, rc, &req);
  (void)ocpp_http_parse(buf, size, size / 2 + 1, &req);

  /* The whole input as one string for the helpers. */
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  char small[8], id[128], accept[29], user[32], pass[32];
  (void)ocpp_http_identity(s, small, sizeof small);
  if (ocpp_http_identity(s, id, sizeof id) == 0 &&
      (id[0] == '\0' || strchr(id, '/')))
    abort();
  (void)ocpp_ws_accept(s, accept);
  (void)ocpp_http_basic_auth(s, user, sizeof user, pass, sizeof pass);
  if (!ocpp_secret_equal(s, s)) abort();
  if (size > 0 && ocpp_secret_equal(s, s + 1) && strlen(s) > 0) abort();

  char out[512];
  size_t body_len = strlen(s);
  int status = 100 + (int)(size % 500);
  size_t n = ocpp_http_response(out, sizeof out, status, s, s, s, body_len);
  if (n > sizeof out) abort();
  free(s);
  return 0;
}
