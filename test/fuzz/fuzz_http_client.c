/* Fuzz target: the client side of the upgrade (the answer check, backend
 * URLs, the request builder). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/http.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define MAX_ANSWER 8192

static const char *const seed_texts[] = {
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n[2,\"1\",\"Reset\",{\"type\":\"Soft\"}]",
    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n",
    "HTTP/1.1 101 S\nupgrade: WebSocket\nconnection: upgrade\n\n",
    "wss://[::1]:9443/ocpp/{id}",
    "ws://backend.example.com:8180/steve/websocket/CentralSystemService",
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

static void check_answer(const char *buf, size_t size) {
  ocpp_upgrade_answer a;
  int rc = ocpp_http_check_upgrade(buf, size, MAX_ANSWER, KEY, &a);
  if (rc > (int)size) abort();
  if (memchr(a.reason, '\0', sizeof a.reason) == NULL ||
      memchr(a.protocol, '\0', sizeof a.protocol) == NULL)
    abort();
  /* a valid answer is valid only once complete */
  if (rc > 0 && (a.status != 101 ||
                 ocpp_http_check_upgrade(buf, (size_t)rc - 1, MAX_ANSWER, KEY,
                                         &a) != OCPP_HTTP_INCOMPLETE))
    abort();
}

static void check_url(const char *s) {
  ocpp_url u;
  if (ocpp_url_parse(s, "CP 1/ä", &u) != 0) return;
  if (!u.host[0] || u.port < 1 || u.port > 65535 || u.path[0] != '/' ||
      memchr(u.path, ' ', strlen(u.path)))
    abort();
  char req[2048];
  size_t n = ocpp_http_upgrade_request(req, sizeof req, &u, KEY, "CP1", s);
  if (n >= sizeof req) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_answer((const char *)data, size);
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  check_url(s);
  free(s);
  return 0;
}
