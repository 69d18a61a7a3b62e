/* The client side of the WebSocket upgrade (RFC 6455 section 4.1): the
 * request the gateway sends to a backend and the check of its answer.
 * Pure code: text in, text or a verdict out. */
#include "ocpp/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#define CRED_MAX 255

int ocpp_ws_key(const unsigned char nonce[16], char out[25]) {
  if (!nonce || !out) return OCPP_EINVAL;
  byte enc[32];
  word32 n = sizeof enc;
  if (Base64_Encode_NoNl(nonce, 16, enc, &n) != 0) return OCPP_ECRYPTO;
  while (n > 0 && (enc[n - 1] == '\n' || enc[n - 1] == '\0')) n--;
  if (n != 24) return OCPP_ECRYPTO;
  memcpy(out, enc, 24);
  out[24] = '\0';
  return 0;
}

/* "Authorization: Basic base64(user:password)\r\n" into out; false when
 * it does not fit. */
static bool basic_header(char *out, size_t cap, const char *user,
                         const char *password) {
  size_t ul = strlen(user), pl = strlen(password);
  if (ul > CRED_MAX || pl > CRED_MAX || strchr(user, ':')) return false;
  byte plain[2 * CRED_MAX + 2];
  memcpy(plain, user, ul);
  plain[ul] = ':';
  memcpy(plain + ul + 1, password, pl);
  byte enc[4 * (sizeof plain / 3 + 1) + 4];
  word32 n = sizeof enc;
  int rc = Base64_Encode_NoNl(plain, (word32)(ul + 1 + pl), enc, &n);
  explicit_bzero(plain, sizeof plain);
  while (rc == 0 && n > 0 && (enc[n - 1] == '\n' || enc[n - 1] == '\0')) n--;
  int w = rc == 0 ? snprintf(out, cap, "Authorization: Basic %.*s\r\n", (int)n,
                             (const char *)enc)
                  : -1;
  explicit_bzero(enc, sizeof enc);
  return w > 0 && (size_t)w < cap;
}

size_t ocpp_http_upgrade_request(char *buf, size_t cap, const ocpp_url *url,
                                 const char *key, const char *user,
                                 const char *password) {
  if (!buf || !url || !key) return 0;
  char auth[700] = "";
  if (user && !basic_header(auth, sizeof auth, user, password ? password : ""))
    return 0;
  int n = snprintf(buf, cap,
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: ocpp1.6\r\n"
                   "%s"
                   "\r\n",
                   url->path, url->host_header, key, auth);
  explicit_bzero(auth, sizeof auth);
  if (n < 0 || (size_t)n >= cap) {
    if (cap) explicit_bzero(buf, cap);
    return 0;
  }
  return (size_t)n;
}

/* ---- the answer ---------------------------------------------------------- */

typedef struct {
  bool upgrade, connection, accept_ok;
} answer_seen;

static size_t trimmed(const char **v, size_t n) {
  while (n > 0 && (**v == ' ' || **v == '\t')) {
    (*v)++;
    n--;
  }
  while (n > 0 && ((*v)[n - 1] == ' ' || (*v)[n - 1] == '\t')) n--;
  return n;
}

static int status_line(const char *line, size_t n, ocpp_upgrade_answer *out) {
  /* "HTTP/1.1 101 Switching Protocols" */
  if (n < 12 || memcmp(line, "HTTP/1.1 ", 9) != 0 || (n > 12 && line[12] != ' '))
    return OCPP_EHTTP;
  int status = 0;
  for (int i = 9; i < 12; i++) {
    if (line[i] < '0' || line[i] > '9') return OCPP_EHTTP;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return OCPP_EHTTP;
  out->status = status;
  size_t rlen = n > 13 ? n - 13 : 0;
  if (rlen >= sizeof out->reason) rlen = sizeof out->reason - 1;
  for (size_t i = 0; i < rlen; i++) {
    unsigned char c = (unsigned char)line[13 + i];
    out->reason[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out->reason[rlen] = '\0';
  return 0;
}

static int header_line(const char *line, size_t n, const char *want_accept,
                       answer_seen *seen, ocpp_upgrade_answer *out) {
  const char *colon = memchr(line, ':', n);
  if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
    return OCPP_EHTTP;
  size_t name = (size_t)(colon - line);
  const char *v = colon + 1;
  size_t vlen = trimmed(&v, n - name - 1);
  if (name == 7 && strncasecmp(line, "Upgrade", 7) == 0)
    seen->upgrade = ocpp__http_has_token(v, vlen, "websocket");
  else if (name == 10 && strncasecmp(line, "Connection", 10) == 0)
    seen->connection = ocpp__http_has_token(v, vlen, "upgrade");
  else if (name == 20 && strncasecmp(line, "Sec-WebSocket-Accept", 20) == 0)
    seen->accept_ok = vlen == 28 && memcmp(v, want_accept, 28) == 0;
  else if (name == 22 && strncasecmp(line, "Sec-WebSocket-Protocol", 22) == 0) {
    if (vlen >= sizeof out->protocol) return OCPP_EUPGRADE;
    memcpy(out->protocol, v, vlen);
    out->protocol[vlen] = '\0';
  }
  return 0;
}

static int verdict(const answer_seen *seen, const ocpp_upgrade_answer *out) {
  if (out->status != 101) return OCPP_EREFUSED;
  if (!seen->upgrade || !seen->connection || !seen->accept_ok)
    return OCPP_EUPGRADE;
  if (out->protocol[0] && strcmp(out->protocol, "ocpp1.6") != 0)
    return OCPP_EUPGRADE;
  return 0;
}

int ocpp_http_check_upgrade(const char *buf, size_t len, size_t max_bytes,
                            const char *key, ocpp_upgrade_answer *out) {
  if (!buf || !key || !out) return OCPP_EINVAL;
  memset(out, 0, sizeof *out);
  char want[29];
  int rc = ocpp_ws_accept(key, want);
  if (rc != 0) return rc == OCPP_EWSKEY ? OCPP_EINVAL : rc;
  size_t limit = len < max_bytes ? len : max_bytes;
  answer_seen seen = {0};
  size_t pos = 0, lines = 0;
  while (pos < limit) {
    const char *nl = memchr(buf + pos, '\n', limit - pos);
    if (!nl) break;
    size_t end = (size_t)(nl - buf);
    size_t n = end - pos;
    if (n > 0 && buf[pos + n - 1] == '\r') n--;
    const char *line = buf + pos;
    pos = end + 1;
    if (memchr(line, '\0', n) || memchr(line, '\r', n)) return OCPP_EHTTP;
    if (lines++ == 0) {
      rc = status_line(line, n, out);
    } else if (n == 0) {
      rc = verdict(&seen, out);
      return rc == 0 ? (int)pos : rc;
    } else {
      rc = lines > OCPP_HTTP_MAX_HEADERS + 1
             ? OCPP_ETOOBIG
             : header_line(line, n, want, &seen, out);
    }
    if (rc != 0) return rc;
  }
  return len >= max_bytes ? OCPP_ETOOBIG : OCPP_HTTP_INCOMPLETE;
}
