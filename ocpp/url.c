/* Backend URLs: "ws[s]://host[:port]/path" with the identity put in.
 * Pure code. */
#include "ocpp/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

/* RFC 3986 unreserved characters stay; everything else of an identity is
 * percent-encoded so it is one path segment. */
static bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s[0..n) to out at *len; false when it does not fit. */
static bool put(char *out, size_t cap, size_t *len, const char *s, size_t n) {
  if (*len + n >= cap) return false;
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
  return true;
}

static bool put_identity(char *out, size_t cap, size_t *len, const char *id) {
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
    char esc[4];
    if (unreserved(*p)) {
      if (!put(out, cap, len, (const char *)p, 1)) return false;
    } else {
      snprintf(esc, sizeof esc, "%%%02X", *p);
      if (!put(out, cap, len, esc, 3)) return false;
    }
  }
  return true;
}

static int parse_path(const char *p, const char *identity, ocpp_url *out) {
  for (const unsigned char *c = (const unsigned char *)p; *c; c++)
    if (*c <= 0x20 || *c >= 0x7f || *c == '#') return OCPP_EINVAL;
  size_t len = 0;
  const char *mark = strstr(p, "{id}");
  if (!*p && !put(out->path, sizeof out->path, &len, "/", 1))
    return OCPP_ETOOBIG;
  if (mark) {
    if (!put(out->path, sizeof out->path, &len, p, (size_t)(mark - p)) ||
        !put_identity(out->path, sizeof out->path, &len, identity) ||
        !put(out->path, sizeof out->path, &len, mark + 4, strlen(mark + 4)))
      return OCPP_ETOOBIG;
    return strstr(mark + 4, "{id}") ? OCPP_EINVAL : 0;
  }
  size_t plen = strlen(p);
  if (strchr(p, '?')) return OCPP_EINVAL; /* where would the id go? */
  if (!put(out->path, sizeof out->path, &len, p, plen) ||
      (len == 0 || out->path[len - 1] != '/'
         ? !put(out->path, sizeof out->path, &len, "/", 1) : false) ||
      !put_identity(out->path, sizeof out->path, &len, identity))
    return OCPP_ETOOBIG;
  return 0;
}

static int parse_port(const char *s, size_t n, int *port) {
  if (n == 0 || n > 5) return OCPP_EINVAL;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return OCPP_EINVAL;
    v = v * 10 + (s[i] - '0');
  }
  if (v < 1 || v > 65535) return OCPP_EINVAL;
  *port = v;
  return 0;
}

static bool host_chars_ok(const char *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)h[i];
    if (!(unreserved(c) || c == '%'))
      return false;
  }
  return n > 0;
}

/* host[:port] or [v6][:port] in a[0..n). */
static int parse_authority(const char *a, size_t n, ocpp_url *out) {
  if (memchr(a, '@', n)) return OCPP_EINVAL;
  const char *host = a, *port = NULL;
  size_t hlen;
  if (n > 0 && a[0] == '[') {
    const char *close = memchr(a, ']', n);
    if (!close) return OCPP_EINVAL;
    host = a + 1;
    hlen = (size_t)(close - host);
    size_t rest = n - hlen - 2;
    if (rest > 0 && close[1] != ':') return OCPP_EINVAL;
    port = rest > 0 ? close + 2 : NULL;
    struct in6_addr v6;
    char tmp[64];
    if (hlen >= sizeof tmp) return OCPP_EINVAL;
    memcpy(tmp, host, hlen);
    tmp[hlen] = '\0';
    if (inet_pton(AF_INET6, tmp, &v6) != 1) return OCPP_EINVAL;
    out->host_is_ip = true;
  } else {
    const char *colon = memchr(a, ':', n);
    hlen = colon ? (size_t)(colon - a) : n;
    port = colon ? colon + 1 : NULL;
    if (!host_chars_ok(host, hlen)) return OCPP_EINVAL;
  }
  if (hlen == 0) return OCPP_EINVAL;
  if (hlen > OCPP_URL_HOST_MAX) return OCPP_ETOOBIG;
  if (port && parse_port(port, (size_t)(a + n - port), &out->port) != 0)
    return OCPP_EINVAL;
  memcpy(out->host, host, hlen);
  out->host[hlen] = '\0';
  struct in_addr v4;
  if (!out->host_is_ip) out->host_is_ip = inet_pton(AF_INET, out->host, &v4) == 1;
  const char *lb = a[0] == '[' ? "[" : "", *rb = a[0] == '[' ? "]" : "";
  if (out->port == (out->tls ? 443 : 80))
    snprintf(out->host_header, sizeof out->host_header, "%s%s%s", lb,
             out->host, rb);
  else
    snprintf(out->host_header, sizeof out->host_header, "%s%s%s:%d", lb,
             out->host, rb, out->port);
  return 0;
}

static bool identity_ok(const char *id) {
  if (!*id) return false;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return false;
  return true;
}

int ocpp_url_parse(const char *url, const char *identity, ocpp_url *out) {
  if (!url || !identity || !out) return OCPP_EINVAL;
  memset(out, 0, sizeof *out);
  if (!identity_ok(identity)) return OCPP_EIDENTITY;
  size_t skip;
  if (strncasecmp(url, "wss://", 6) == 0) {
    out->tls = true;
    skip = 6;
  } else if (strncasecmp(url, "ws://", 5) == 0) {
    skip = 5;
  } else {
    return OCPP_EINVAL;
  }
  out->port = out->tls ? 443 : 80;
  const char *a = url + skip;
  size_t alen = strcspn(a, "/?#");
  if (a[alen] == '?' || a[alen] == '#') return OCPP_EINVAL;
  int rc = parse_authority(a, alen, out);
  if (rc == 0) rc = parse_path(a + alen, identity, out);
  if (rc != 0) {
    int keep = rc;
    memset(out, 0, sizeof *out);
    return keep;
  }
  return 0;
}
