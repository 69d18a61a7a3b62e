/* HTTP request parsing for the WebSocket upgrade and the status page.
 * Pure code: bytes in, a filled struct out. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_HTTP_H
#define OCPPKNX_OCPP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "ocpp/ocpp.h"

/* What ocpp_http_parse returns while the headers are not complete; not a
 * failure. Failures are the OCPP_E* codes of ocpp.h. */
#define OCPP_HTTP_INCOMPLETE 0

#define OCPP_HTTP_MAX_HEADERS 64
#define OCPP_HTTP_PATH_MAX 512

typedef struct {
  char method[8];
  char path[OCPP_HTTP_PATH_MAX];     /* request target, query included */
  bool upgrade_websocket;            /* Upgrade: websocket (any case) */
  bool connection_upgrade;           /* Connection: has token "upgrade" */
  char ws_key[64];                   /* Sec-WebSocket-Key, "" if absent */
  int ws_version;                    /* Sec-WebSocket-Version, 0 if absent,
                                        -1 if not a number */
  bool has_protocol_header;          /* Sec-WebSocket-Protocol present */
  bool offers_ocpp16;                /* ... and lists "ocpp1.6" */
  bool offers_ocpp201;               /* ... and lists "ocpp2.0.1" */
  char protocols[256];               /* the header's value, for logs */
  char authorization[512];           /* Authorization, "" if absent */
  char host[256];
} ocpp_http_request;

/* Parses the request line and headers in buf[0..len). Returns the number of
 * bytes up to and including the blank line (> 0) when complete,
 * OCPP_HTTP_INCOMPLETE when more bytes are needed, OCPP_EINVAL (NULL buf
 * or req), OCPP_EHTTP (malformed), OCPP_ETOOBIG, OCPP_EMETHOD (not GET)
 * or OCPP_EVERSION (not HTTP/1.1).
 * More than max_bytes without the end of headers is OCPP_ETOOBIG; so
 * are more than OCPP_HTTP_MAX_HEADERS header lines and over-long values of
 * the fields above. Header names are case-insensitive; repeated
 * Sec-WebSocket-Protocol headers are merged; a repeated Host,
 * Authorization or Sec-WebSocket-Key is OCPP_EHTTP, and so is obs-fold.
 * Lines may end in CRLF or a bare LF. An absolute-form target
 * ("ws://host/ocpp/CP1") is stored as its path. A first line that cannot
 * start a request (TLS on the plain port) fails at once with
 * OCPP_EHTTP. Calling again with a longer buf gives the same answer
 * for the same bytes, so split reads can simply be parsed again. */
int ocpp_http_parse(const char *buf, size_t len, size_t max_bytes,
                    ocpp_http_request *req);

/* The charge point identity: the last non-empty path segment of target
 * (query string dropped), percent-decoded. "/ocpp/CP%201" -> "CP 1".
 * Returns 0, OCPP_EINVAL (NULL target or out, cap 0), or OCPP_EIDENTITY
 * when empty, bad percent escape, a decoded NUL or control character, a
 * '/' from %2F, or longer than cap-1. */
int ocpp_http_identity(const char *target, char *out, size_t cap);

/* Sec-WebSocket-Accept for key (SHA-1 + Base64 with wolfSSL); out gets 28
 * chars + NUL. Returns 0, OCPP_EINVAL (NULL key or out), OCPP_EWSKEY (key
 * not 16 bytes in base64) or OCPP_ECRYPTO. */
int ocpp_ws_accept(const char *key, char out[29]);

/* Decodes "Basic base64(user:password)". Returns 0, OCPP_EINVAL (NULL
 * argument, cap 0) or OCPP_EAUTH (not such credentials, or a part longer
 * than its buffer). */
int ocpp_http_basic_auth(const char *authorization, char *user,
                         size_t user_cap, char *password, size_t pass_cap);

/* Constant-time comparison of two NUL-terminated secrets (time depends only
 * on the length of b, the expected one). true when equal. */
bool ocpp_secret_equal(const char *a, const char *b);

/* Writes "HTTP/1.1 101 Switching Protocols" with the accept key and, when
 * protocol is not NULL, Sec-WebSocket-Protocol. Returns the length, or 0 if
 * cap is too small. */
size_t ocpp_http_upgrade_response(char *buf, size_t cap, const char *accept,
                                  const char *protocol);

/* Writes a complete response with status (400, 401, 404, 405, 426, 500...),
 * its reason phrase, Connection: close, Content-Type and Content-Length.
 * extra_headers ("WWW-Authenticate: Basic realm=\"ocppknx\"\r\n") may be
 * NULL. 426 adds "Sec-WebSocket-Version: 13" and 405 "Allow: GET" unless
 * extra_headers has them. content_type NULL is text/plain. Returns the
 * length (no NUL is added after the body), or 0 if cap is too small or
 * status is not in 100..599. */
size_t ocpp_http_response(char *buf, size_t cap, int status,
                          const char *content_type, const char *extra_headers,
                          const char *body, size_t body_len);

/* true when authorization ("Basic base64(user:password)") names user and
 * password; the password is compared in constant time. NULL or malformed
 * authorization is false. */
bool ocpp_http_auth_matches(const char *authorization, const char *user,
                            const char *password);

/* Writes the head of a response that stays open as a stream of
 * server-sent events (200, text/event-stream, no length: the body ends
 * when the connection does). Returns the length, or 0 if cap is too
 * small. */
size_t ocpp_http_stream_head(char *buf, size_t cap);

/* One server-sent event as it goes on the wire: "event: NAME\n" (unless
 * event is NULL or ""), one "data: " line per line of data (CR, LF and
 * CRLF all end a line), then a blank line. Returns a malloc'd text and
 * its length in *len, or NULL (NULL data or len, a CR or LF in event, out
 * of memory). */
char *ocpp_sse_event(const char *event, const char *data, size_t *len);

/* true when the comma separated list s[0..n) has token, ignoring case
 * (Connection, Upgrade). Shared by the request parser and the client's
 * answer check. */
bool ocpp__http_has_token(const char *s, size_t n, const char *token);

/* ---- the client side (the gateway towards a backend) --------------------- */

#define OCPP_URL_HOST_MAX 253

/* A backend URL, split and with the identity in its path. */
typedef struct {
  bool tls;                          /* wss:// */
  char host[OCPP_URL_HOST_MAX + 1];  /* a name, or an IP literal without
                                        brackets */
  bool host_is_ip;
  int port;                          /* 80 / 443 when not given */
  char host_header[OCPP_URL_HOST_MAX + 10]; /* the Host: value */
  char path[OCPP_HTTP_PATH_MAX];     /* "{id}" replaced by the identity,
                                        percent-encoded; without "{id}" the
                                        identity is appended as the last
                                        segment (OCPP-J's rule) */
} ocpp_url;

/* Splits "ws://host[:port]/path" or "wss://..." (scheme case-insensitive,
 * "[v6]" hosts) and puts identity into the path. Returns 0, OCPP_EINVAL
 * (NULL argument, other scheme, empty host, bad port, no path allowed
 * characters, userinfo, fragment) or OCPP_ETOOBIG (host or path too long)
 * or OCPP_EIDENTITY (identity empty or with control characters). */
int ocpp_url_parse(const char *url, const char *identity, ocpp_url *out);

/* Sec-WebSocket-Key from 16 random bytes: 24 characters + NUL. Returns 0,
 * OCPP_EINVAL or OCPP_ECRYPTO. */
int ocpp_ws_key(const unsigned char nonce[16], char out[25]);

/* The version to speak with a charger configured for wanted, from what
 * its request offers: auto takes 1.6 when both are offered, 2.0.1 when
 * only that is; no Sec-WebSocket-Protocol header at all is taken as 1.6
 * (early 1.6 chargers), or as the configured version. Returns
 * OCPP_VERSION_16 or OCPP_VERSION_201, or OCPP_VERSION_AUTO when the
 * charger offers nothing the configuration allows. */
ocpp_version ocpp_http_choose_version(const ocpp_http_request *req,
                                      ocpp_version wanted);

/* Writes the upgrade request for url with key, asking for the subprotocol
 * ocpp1.6, and Basic Auth for user:password when user is not NULL (OCPP
 * security profiles 1 and 2). Returns the length, or 0 when cap is too
 * small or an argument is NULL or the credentials are longer than 255
 * bytes each. The credentials are wiped from the scratch space. */
size_t ocpp_http_upgrade_request(char *buf, size_t cap, const ocpp_url *url,
                                 const char *key, const char *user,
                                 const char *password);

/* What the server answered to the upgrade. */
typedef struct {
  int status;                        /* 101, 401, ... */
  char reason[64];                   /* its reason phrase, for the log */
  char protocol[32];                 /* Sec-WebSocket-Protocol; "" absent */
} ocpp_upgrade_answer;

/* Checks the server's answer to an upgrade request sent with key, in
 * buf[0..len). Returns the number of bytes up to and including the blank
 * line (> 0) for a valid handshake: status 101, Upgrade: websocket,
 * Connection: upgrade, the Sec-WebSocket-Accept of key, and no subprotocol
 * or "ocpp1.6". Otherwise OCPP_HTTP_INCOMPLETE (more bytes needed),
 * OCPP_EINVAL (NULL argument), OCPP_ETOOBIG (no end of headers within
 * max_bytes, more than OCPP_HTTP_MAX_HEADERS lines), OCPP_EHTTP (not an
 * HTTP/1.1 status line, a broken header line), OCPP_EREFUSED (a status
 * other than 101; out->status says which) or OCPP_EUPGRADE (101 with a
 * wrong accept key, a missing header or another subprotocol). out is
 * filled as far as the answer was read. */
int ocpp_http_check_upgrade(const char *buf, size_t len, size_t max_bytes,
                            const char *key, ocpp_upgrade_answer *out);

#endif
