/* Capped HTTP/1.1 request parser for the WebSocket upgrade (RFC 6455
 * section 4.2.1) and the status page, plus the handshake helpers. */
#include "ocpp/http.h"

#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24 /* base64 of 16 bytes, with "==" padding */
#define WS_KEY_BYTES 16

/* ---- small character helpers (locale independent) ----------------------- */

static int lower_ascii(int c) {
  return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool span_equal_ci(const char *s, size_t n, const char *lit) {
  size_t i = 0;
  for (; i < n && lit[i] != '\0'; i++) {
    if (lower_ascii((unsigned char)s[i]) != lower_ascii((unsigned char)lit[i]))
      return false;
  }
  return i == n && lit[i] == '\0';
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* Field values may hold visible ASCII, obs-text, SP and HTAB only. */
static bool is_field_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool hex_value(int c, int *out) {
  if (c >= '0' && c <= '9') {
    *out = c - '0';
    return true;
  }
  c = lower_ascii(c);
  if (c >= 'a' && c <= 'f') {
    *out = c - 'a' + 10;
    return true;
  }
  return false;
}

static bool is_base64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Copies s[0..n) into dst with a NUL; false when it does not fit. */
static bool copy_span(char *dst, size_t cap, const char *s, size_t n) {
  if (n >= cap) return false;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return true;
}

/* true when an element of the comma separated list s[0..n) equals token.
 * Empty elements are skipped (RFC 9110 5.6.1). */
static bool list_has_token(const char *s, size_t n, const char *token,
                           bool case_insensitive) {
  size_t i = 0;
  while (i < n) {
    while (i < n && (is_ows(s[i]) || s[i] == ',')) i++;
    size_t start = i;
    while (i < n && s[i] != ',') i++;
    size_t end = i;
    while (end > start && is_ows(s[end - 1])) end--;
    size_t len = end - start;
    if (len == strlen(token)) {
      bool eq = case_insensitive ? span_equal_ci(s + start, len, token)
                                 : memcmp(s + start, token, len) == 0;
      if (eq) return true;
    }
  }
  return false;
}

bool ocpp__http_has_token(const char *s, size_t n, const char *token) {
  return s && token && list_has_token(s, n, token, true);
}

/* ---- header handlers ---------------------------------------------------- */

typedef int (*header_fn)(ocpp_http_request *req, const char *v, size_t n);

static int on_upgrade(ocpp_http_request *req, const char *v, size_t n) {
  if (list_has_token(v, n, "websocket", true)) req->upgrade_websocket = true;
  return 0;
}

static int on_connection(ocpp_http_request *req, const char *v, size_t n) {
  if (list_has_token(v, n, "upgrade", true)) req->connection_upgrade = true;
  return 0;
}

static int on_key(ocpp_http_request *req, const char *v, size_t n) {
  if (req->ws_key[0] != '\0') return OCPP_EHTTP; /* must be unique */
  if (n == 0) return OCPP_EHTTP;
  return copy_span(req->ws_key, sizeof req->ws_key, v, n) ? 0
                                                           : OCPP_ETOOBIG;
}

/* Anything but a plain decimal number becomes -1 so that the server answers
 * 426 with the version it supports. */
static int on_version(ocpp_http_request *req, const char *v, size_t n) {
  int value = 0;
  if (n == 0 || n > 3) {
    req->ws_version = -1;
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') {
      req->ws_version = -1;
      return 0;
    }
    value = value * 10 + (v[i] - '0');
  }
  req->ws_version = value;
  return 0;
}

static int on_protocol(ocpp_http_request *req, const char *v, size_t n) {
  size_t used = strlen(req->protocols);
  size_t sep = (req->has_protocol_header && used > 0 && n > 0) ? 2 : 0;
  if (used + sep + n >= sizeof req->protocols) return OCPP_ETOOBIG;
  if (sep) memcpy(req->protocols + used, ", ", sep);
  memcpy(req->protocols + used + sep, v, n);
  req->protocols[used + sep + n] = '\0';
  req->has_protocol_header = true;
  /* Chargers spell the subprotocol in several cases; accept them all. */
  if (list_has_token(v, n, "ocpp1.6", true)) req->offers_ocpp16 = true;
  if (list_has_token(v, n, "ocpp2.0.1", true)) req->offers_ocpp201 = true;
  return 0;
}

static int on_authorization(ocpp_http_request *req, const char *v, size_t n) {
  if (req->authorization[0] != '\0') return OCPP_EHTTP;
  return copy_span(req->authorization, sizeof req->authorization, v, n)
             ? 0
             : OCPP_ETOOBIG;
}

static int on_host(ocpp_http_request *req, const char *v, size_t n) {
  if (req->host[0] != '\0') return OCPP_EHTTP; /* RFC 9112 3.2 */
  return copy_span(req->host, sizeof req->host, v, n) ? 0 : OCPP_ETOOBIG;
}

static const struct {
  const char *name;
  header_fn fn;
} header_table[] = {
    {"upgrade", on_upgrade},
    {"connection", on_connection},
    {"sec-websocket-key", on_key},
    {"sec-websocket-version", on_version},
    {"sec-websocket-protocol", on_protocol},
    {"authorization", on_authorization},
    {"host", on_host},
};

/* ---- request line and header lines -------------------------------------- */

/* Rejects bytes no request line or header may contain. */
static bool line_chars_ok(const char *line, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c == '\0' || c == '\r' || c == '\n') return false;
  }
  return true;
}

/* "ws://host:port/path" -> "/path": RFC 9112 3.2.2 says servers accept the
 * absolute form. Sets *off to the offset of the path in target; false when
 * target is not in absolute form. */
static bool absolute_form_path(const char *t, size_t n, size_t *off) {
  static const char *const schemes[] = {"http://", "https://", "ws://",
                                        "wss://"};
  for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
    size_t sl = strlen(schemes[s]);
    if (n > sl && span_equal_ci(t, sl, schemes[s])) {
      const char *slash = memchr(t + sl, '/', n - sl);
      *off = slash ? (size_t)(slash - t) : n;
      return true;
    }
  }
  return false;
}

static int parse_target(ocpp_http_request *req, const char *t, size_t n) {
  if (n == 0) return OCPP_EHTTP;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c <= 0x20 || c >= 0x7f) return OCPP_EHTTP;
  }
  if (t[0] != '/') {
    size_t off;
    if (!absolute_form_path(t, n, &off)) return OCPP_EHTTP;
    t += off;
    n -= off;
    if (n == 0) {
      t = "/";
      n = 1;
    }
  }
  return copy_span(req->path, sizeof req->path, t, n) ? 0 : OCPP_ETOOBIG;
}

static int parse_request_line(ocpp_http_request *req, const char *line,
                              size_t n) {
  const char *sp1 = memchr(line, ' ', n);
  if (!sp1 || sp1 == line) return OCPP_EHTTP;
  size_t mlen = (size_t)(sp1 - line);
  for (size_t i = 0; i < mlen; i++)
    if (!is_tchar((unsigned char)line[i])) return OCPP_EHTTP;

  const char *target = sp1 + 1;
  size_t rest = n - mlen - 1;
  const char *sp2 = memchr(target, ' ', rest);
  if (!sp2) return OCPP_EHTTP;
  size_t tlen = (size_t)(sp2 - target);
  const char *version = sp2 + 1;
  size_t vlen = rest - tlen - 1;

  /* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
  if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' ||
      version[7] > '9')
    return OCPP_EHTTP;

  if (!copy_span(req->method, sizeof req->method, line, mlen))
    return OCPP_EMETHOD; /* longer than any method we answer */
  int rc = parse_target(req, target, tlen);
  if (rc < 0) return rc;
  if (memcmp(version + 5, "1.1", 3) != 0) return OCPP_EVERSION;
  if (strcmp(req->method, "GET") != 0) return OCPP_EMETHOD;
  return 0;
}

static int parse_header_line(ocpp_http_request *req, const char *line,
                             size_t n) {
  if (is_ows(line[0])) return OCPP_EHTTP; /* obs-fold, RFC 9112 5.2 */
  const char *colon = memchr(line, ':', n);
  if (!colon || colon == line) return OCPP_EHTTP;
  size_t name_len = (size_t)(colon - line);
  for (size_t i = 0; i < name_len; i++)
    if (!is_tchar((unsigned char)line[i])) return OCPP_EHTTP;

  const char *v = colon + 1;
  size_t vlen = n - name_len - 1;
  for (size_t i = 0; i < vlen; i++)
    if (!is_field_char((unsigned char)v[i])) return OCPP_EHTTP;
  while (vlen > 0 && is_ows(v[0])) {
    v++;
    vlen--;
  }
  while (vlen > 0 && is_ows(v[vlen - 1])) vlen--;

  for (size_t i = 0; i < sizeof header_table / sizeof header_table[0]; i++) {
    if (span_equal_ci(line, name_len, header_table[i].name))
      return header_table[i].fn(req, v, vlen);
  }
  return 0;
}

/* A peer that speaks TLS or garbage to the plain port is refused at its
 * first byte instead of after max_bytes or a timeout. */
static bool method_prefix_ok(const char *buf, size_t len) {
  for (size_t i = 0; i < len && buf[i] != ' '; i++)
    if (!is_tchar((unsigned char)buf[i])) return false;
  return true;
}

int ocpp_http_parse(const char *buf, size_t len, size_t max_bytes,
                    ocpp_http_request *req) {
  if (!buf || !req) return OCPP_EINVAL;
  memset(req, 0, sizeof *req);
  if (max_bytes > INT_MAX) max_bytes = INT_MAX; /* the result is an int */
  if (!method_prefix_ok(buf, len < max_bytes ? len : max_bytes))
    return OCPP_EHTTP;
  size_t limit = len < max_bytes ? len : max_bytes;
  size_t pos = 0;
  size_t headers = 0;
  bool first = true;

  while (pos < limit) {
    const char *nl = memchr(buf + pos, '\n', limit - pos);
    if (!nl) break;
    size_t end = (size_t)(nl - buf);
    size_t n = end - pos;
    if (n > 0 && buf[pos + n - 1] == '\r') n--; /* CRLF, or bare LF */
    const char *line = buf + pos;
    pos = end + 1;

    if (!line_chars_ok(line, n)) return OCPP_EHTTP;
    if (first) {
      if (n == 0) return OCPP_EHTTP;
      int rc = parse_request_line(req, line, n);
      if (rc < 0) return rc;
      first = false;
      continue;
    }
    if (n == 0) return (int)pos; /* blank line: end of headers */
    if (++headers > OCPP_HTTP_MAX_HEADERS) return OCPP_ETOOBIG;
    int rc = parse_header_line(req, line, n);
    if (rc < 0) return rc;
  }
  return len >= max_bytes ? OCPP_ETOOBIG : OCPP_HTTP_INCOMPLETE;
}

/* ---- identity ----------------------------------------------------------- */

ocpp_version ocpp_http_choose_version(const ocpp_http_request *req,
                                      ocpp_version wanted) {
  if (!req->has_protocol_header)
    return wanted == OCPP_VERSION_201 ? OCPP_VERSION_201 : OCPP_VERSION_16;
  bool v16 = req->offers_ocpp16 && wanted != OCPP_VERSION_201;
  bool v201 = req->offers_ocpp201 && wanted != OCPP_VERSION_16;
  if (v16) return OCPP_VERSION_16;
  if (v201) return OCPP_VERSION_201;
  return OCPP_VERSION_AUTO;
}

int ocpp_http_identity(const char *target, char *out, size_t cap) {
  if (!target || !out || cap == 0) return OCPP_EINVAL;
  out[0] = '\0';
  size_t end = strcspn(target, "?#");
  while (end > 0 && target[end - 1] == '/') end--;
  size_t start = end;
  while (start > 0 && target[start - 1] != '/') start--;
  if (start == end) return OCPP_EIDENTITY;

  size_t o = 0;
  for (size_t i = start; i < end; i++) {
    unsigned char c = (unsigned char)target[i];
    if (c == '%') {
      int hi, lo;
      if (i + 2 >= end || !hex_value((unsigned char)target[i + 1], &hi) ||
          !hex_value((unsigned char)target[i + 2], &lo))
        goto bad;
      c = (unsigned char)(hi * 16 + lo);
      if (c == '/') goto bad;
      i += 2;
    }
    if (c < 0x20 || c == 0x7f) goto bad;
    if (o + 1 >= cap) goto bad;
    out[o++] = (char)c;
  }
  out[o] = '\0';
  return 0;
bad:
  out[0] = '\0';
  return OCPP_EIDENTITY;
}

/* ---- Sec-WebSocket-Accept ----------------------------------------------- */

static bool ws_key_valid(const char *key) {
  if (strlen(key) != WS_KEY_LEN) return false;
  for (size_t i = 0; i < WS_KEY_LEN - 2; i++)
    if (!is_base64_char((unsigned char)key[i])) return false;
  if (key[WS_KEY_LEN - 2] != '=' || key[WS_KEY_LEN - 1] != '=') return false;
  byte raw[WS_KEY_BYTES + 4];
  word32 raw_len = sizeof raw;
  if (Base64_Decode((const byte *)key, WS_KEY_LEN, raw, &raw_len) != 0)
    return false;
  return raw_len == WS_KEY_BYTES;
}

int ocpp_ws_accept(const char *key, char out[29]) {
  if (!key || !out) return OCPP_EINVAL;
  out[0] = '\0';
  if (!ws_key_valid(key)) return OCPP_EWSKEY;

  char joined[WS_KEY_LEN + sizeof WS_GUID];
  memcpy(joined, key, WS_KEY_LEN);
  memcpy(joined + WS_KEY_LEN, WS_GUID, sizeof WS_GUID);
  byte digest[WC_SHA_DIGEST_SIZE];
  if (wc_ShaHash((const byte *)joined, (word32)(sizeof joined - 1), digest) != 0)
    return OCPP_ECRYPTO;

  byte encoded[64];
  word32 enc_len = sizeof encoded;
  if (Base64_Encode_NoNl(digest, sizeof digest, encoded, &enc_len) != 0)
    return OCPP_ECRYPTO;
  while (enc_len > 0 && (encoded[enc_len - 1] == '\n' ||
                         encoded[enc_len - 1] == '\0'))
    enc_len--;
  if (enc_len != 28) return OCPP_ECRYPTO;
  memcpy(out, encoded, 28);
  out[28] = '\0';
  return 0;
}

/* ---- Basic authentication ----------------------------------------------- */

#define BASIC_MAX_B64 512

/* Strict alphabet check, then padding restored for clients that drop it. */
static int basic_decode(const char *b64, byte *raw, word32 *raw_len) {
  char padded[BASIC_MAX_B64 + 4];
  size_t n = strlen(b64);
  size_t body = n;
  while (body > 0 && b64[body - 1] == '=') body--;
  if (body == 0 || n - body > 2 || n > BASIC_MAX_B64) return OCPP_EAUTH;
  for (size_t i = 0; i < body; i++)
    if (!is_base64_char((unsigned char)b64[i])) return OCPP_EAUTH;
  if (body % 4 == 1) return OCPP_EAUTH;
  size_t full = (body + 3) / 4 * 4;
  if (n > full) return OCPP_EAUTH; /* more '=' than the length allows */
  memcpy(padded, b64, body);
  memset(padded + body, '=', full - body);
  int rc = Base64_Decode((const byte *)padded, (word32)full, raw, raw_len);
  explicit_bzero(padded, sizeof padded);
  return rc == 0 ? 0 : OCPP_EAUTH;
}

int ocpp_http_basic_auth(const char *authorization, char *user,
                         size_t user_cap, char *password, size_t pass_cap) {
  byte raw[BASIC_MAX_B64];
  word32 raw_len = sizeof raw - 1;
  int rc = OCPP_EAUTH;
  if (!authorization || !user || !password || user_cap == 0 || pass_cap == 0)
    return OCPP_EINVAL;
  user[0] = '\0';
  password[0] = '\0';

  const char *p = authorization;
  while (is_ows(*p)) p++;
  if (!span_equal_ci(p, 5, "basic") || !is_ows(p[5])) goto done;
  p += 5;
  while (is_ows(*p)) p++;
  size_t n = strlen(p);
  while (n > 0 && is_ows(p[n - 1])) n--;
  char b64[BASIC_MAX_B64 + 1];
  if (n == 0 || n > BASIC_MAX_B64) goto done;
  memcpy(b64, p, n);
  b64[n] = '\0';
  if (basic_decode(b64, raw, &raw_len) != 0) goto done;

  if (memchr(raw, '\0', raw_len)) goto done;
  const byte *colon = memchr(raw, ':', raw_len);
  if (!colon) goto done;
  size_t ulen = (size_t)(colon - raw);
  size_t plen = raw_len - ulen - 1;
  if (!copy_span(user, user_cap, (const char *)raw, ulen) ||
      !copy_span(password, pass_cap, (const char *)colon + 1, plen)) {
    user[0] = '\0';
    password[0] = '\0';
    goto done;
  }
  rc = 0;
done:
  explicit_bzero(raw, sizeof raw);
  return rc;
}

/* ---- secrets and responses ---------------------------------------------- */

bool ocpp_secret_equal(const char *a, const char *b) {
  if (!a || !b) return false;
  size_t lb = strlen(b);
  size_t ia = 0;
  unsigned diff = 0;
  /* a is read up to its NUL and never beyond; the loop count is lb + 1 so
   * the NULs are compared too (catches a longer a). */
  for (size_t i = 0; i <= lb; i++) {
    unsigned char ca = (unsigned char)a[ia];
    diff |= (unsigned)(ca ^ (unsigned char)b[i]);
    ia += (size_t)(ca != 0);
  }
  return diff == 0;
}

size_t ocpp_http_upgrade_response(char *buf, size_t cap, const char *accept,
                                  const char *protocol) {
  if (!buf || !accept) return 0;
  int n = snprintf(buf, cap,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n"
                   "%s%s%s"
                   "\r\n",
                   accept, protocol ? "Sec-WebSocket-Protocol: " : "",
                   protocol ? protocol : "", protocol ? "\r\n" : "");
  if (n < 0 || (size_t)n >= cap) return 0;
  return (size_t)n;
}

static const struct {
  int status;
  const char *reason;
  const char *implied; /* header the status requires, RFC 9110 / RFC 6455 */
} status_table[] = {
    {200, "OK", NULL},
    {204, "No Content", NULL},
    {400, "Bad Request", NULL},
    {401, "Unauthorized", NULL},
    {403, "Forbidden", NULL},
    {404, "Not Found", NULL},
    {405, "Method Not Allowed", "Allow: GET"},
    {408, "Request Timeout", NULL},
    {413, "Content Too Large", NULL},
    {426, "Upgrade Required", "Sec-WebSocket-Version: 13"},
    {429, "Too Many Requests", NULL},
    {431, "Request Header Fields Too Large", NULL},
    {500, "Internal Server Error", NULL},
    {501, "Not Implemented", NULL},
    {503, "Service Unavailable", NULL},
    {505, "HTTP Version Not Supported", NULL},
};

/* true when extra already carries the header named in implied. */
static bool extra_has_header(const char *extra, const char *implied) {
  size_t name_len = (size_t)(strchr(implied, ':') - implied);
  for (const char *p = extra; p && *p;) {
    size_t line_len = strcspn(p, "\r\n");
    if (line_len > name_len && p[name_len] == ':' &&
        strncasecmp(p, implied, name_len) == 0)
      return true;
    p = strchr(p, '\n');
    if (p) p++;
  }
  return false;
}

size_t ocpp_http_response(char *buf, size_t cap, int status,
                          const char *content_type, const char *extra_headers,
                          const char *body, size_t body_len) {
  if (!buf || status < 100 || status > 599 || (!body && body_len > 0))
    return 0;
  const char *reason = "Unknown";
  const char *implied = NULL;
  for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++) {
    if (status_table[i].status == status) {
      reason = status_table[i].reason;
      implied = status_table[i].implied;
      break;
    }
  }
  if (implied && extra_headers && extra_has_header(extra_headers, implied))
    implied = NULL;
  int n = snprintf(buf, cap,
                   "HTTP/1.1 %d %s\r\n"
                   "Connection: close\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %zu\r\n"
                   "%s%s%s"
                   "\r\n",
                   status, reason,
                   content_type ? content_type : "text/plain; charset=utf-8",
                   body_len, implied ? implied : "", implied ? "\r\n" : "",
                   extra_headers ? extra_headers : "");
  if (n < 0 || (size_t)n >= cap || cap - (size_t)n < body_len) return 0;
  if (body_len > 0) memcpy(buf + n, body, body_len);
  return (size_t)n + body_len;
}

bool ocpp_http_auth_matches(const char *authorization, const char *user,
                            const char *password) {
  char u[128], pw[128];
  if (!user || !password ||
      ocpp_http_basic_auth(authorization ? authorization : "", u, sizeof u, pw,
                           sizeof pw) != 0)
    return false;
  /* both compared every time, so the timing tells nothing about which one
   * was wrong */
  bool user_ok = ocpp_secret_equal(u, user);
  bool pass_ok = ocpp_secret_equal(pw, password);
  memset(pw, 0, sizeof pw);
  return user_ok && pass_ok;
}

size_t ocpp_http_stream_head(char *buf, size_t cap) {
  if (!buf) return 0;
  /* no-transform and X-Accel-Buffering keep proxies from holding events
   * back; the retry line tells EventSource to come back after 2 s */
  int n = snprintf(buf, cap,
                   "HTTP/1.1 200 OK\r\n"
                   "Connection: close\r\n"
                   "Content-Type: text/event-stream; charset=utf-8\r\n"
                   "Cache-Control: no-store, no-transform\r\n"
                   "X-Accel-Buffering: no\r\n"
                   "\r\n"
                   "retry: 2000\n\n");
  if (n < 0 || (size_t)n >= cap) return 0;
  return (size_t)n;
}

char *ocpp_sse_event(const char *event, const char *data, size_t *len) {
  if (!data || !len || (event && strpbrk(event, "\r\n"))) return NULL;
  size_t lines = 1;
  for (const char *p = data; *p; p++)
    if (*p == '\n' || (*p == '\r' && p[1] != '\n')) lines++;
  size_t ev_len = event ? strlen(event) : 0;
  size_t cap = (ev_len ? ev_len + 8 : 0) + strlen(data) + lines * 7 + 2;
  char *out = malloc(cap);
  if (!out) return NULL;
  size_t n = 0;
  if (ev_len) {
    memcpy(out, "event: ", 7);
    memcpy(out + 7, event, ev_len);
    out[7 + ev_len] = '\n';
    n = ev_len + 8;
  }
  const char *p = data;
  for (;;) {
    size_t span = strcspn(p, "\r\n");
    memcpy(out + n, "data: ", 6);
    memcpy(out + n + 6, p, span);
    n += 6 + span;
    out[n++] = '\n';
    p += span;
    if (!*p) break;
    p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
  }
  out[n++] = '\n';
  *len = n;
  return out;
}
