/* The client side of the WebSocket upgrade and the redial delays: URLs,
 * the request's exact bytes, the check of the server's answer (valid and
 * every way it can be wrong), the backoff. Pure code, no socket. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "ocpp/backoff.h"
#include "ocpp/http.h"

/* RFC 6455 section 1.3's example key and its accept value */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- URLs ---------------------------------------------------------------- */

Test(url, id_placeholder_is_replaced_and_default_port_follows_the_scheme)
{
  ocpp_url u;
  cr_assert_eq(ocpp_url_parse("wss://backend.example.com/ocpp/{id}", "ZCS000143", &u), 0);
  cr_assert(u.tls);
  cr_assert_str_eq(u.host, "backend.example.com");
  cr_assert_not(u.host_is_ip);
  cr_assert_eq(u.port, 443);
  cr_assert_str_eq(u.host_header, "backend.example.com");
  cr_assert_str_eq(u.path, "/ocpp/ZCS000143");
  cr_assert_eq(ocpp_url_parse("ws://10.0.0.7/x/{id}/y", "A", &u), 0);
  cr_assert_not(u.tls);
  cr_assert_eq(u.port, 80);
  cr_assert(u.host_is_ip);
  cr_assert_str_eq(u.path, "/x/A/y");
}

Test(url, without_placeholder_the_identity_is_the_last_segment)
{
  ocpp_url u;
  cr_assert_eq(ocpp_url_parse("ws://h:8180/steve/websocket/CentralSystemService", "CP 1", &u), 0);
  cr_assert_str_eq(u.path, "/steve/websocket/CentralSystemService/CP%201");
  cr_assert_str_eq(u.host_header, "h:8180");
  cr_assert_eq(ocpp_url_parse("ws://h/ocpp/", "CP1", &u), 0);
  cr_assert_str_eq(u.path, "/ocpp/CP1");
  cr_assert_eq(ocpp_url_parse("WS://h", "CP1", &u), 0);
  cr_assert_str_eq(u.path, "/CP1");
}

Test(url, identity_is_percent_encoded_as_one_segment)
{
  ocpp_url u;
  cr_assert_eq(ocpp_url_parse("ws://h/{id}", "a/b?c#ä", &u), 0);
  cr_assert_str_eq(u.path, "/a%2Fb%3Fc%23%C3%A4");
}

Test(url, ipv6_literal_keeps_its_brackets_in_the_host_header)
{
  ocpp_url u;
  cr_assert_eq(ocpp_url_parse("wss://[::1]:9443/{id}", "CP1", &u), 0);
  cr_assert_str_eq(u.host, "::1");
  cr_assert(u.host_is_ip);
  cr_assert_eq(u.port, 9443);
  cr_assert_str_eq(u.host_header, "[::1]:9443");
}

Test(url, invalid_urls_are_einval)
{
  static const char *const bad[] = {
    "http://h/{id}", "h/{id}", "ws://", "ws:///x", "ws://h:0/", "ws://h:65536/",
    "ws://h:/", "ws://h:8x/", "ws://user:pw@h/", "ws://h/{id}#f", "ws://h/a b",
    "ws://[::1/", "ws://[zz]/", "ws://h?x", "ws://h/{id}/{id}", "ws://h/x?y",
    "ws://h_!/", "",
  };
  ocpp_url u;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(ocpp_url_parse(bad[i], "CP1", &u), OCPP_EINVAL, "%s", bad[i]);
  cr_assert_eq(ocpp_url_parse(NULL, "CP1", &u), OCPP_EINVAL);
  cr_assert_eq(ocpp_url_parse("ws://h/", NULL, &u), OCPP_EINVAL);
  cr_assert_eq(ocpp_url_parse("ws://h/", "CP1", NULL), OCPP_EINVAL);
}

Test(url, empty_or_control_identity_is_eidentity)
{
  ocpp_url u;
  cr_assert_eq(ocpp_url_parse("ws://h/{id}", "", &u), OCPP_EIDENTITY);
  cr_assert_eq(ocpp_url_parse("ws://h/{id}", "a\nb", &u), OCPP_EIDENTITY);
}

Test(url, overlong_host_or_path_is_etoobig)
{
  char url[1200];
  ocpp_url u;
  memset(url, 0, sizeof url);
  memcpy(url, "ws://", 5);
  memset(url + 5, 'a', 300);
  cr_assert_eq(ocpp_url_parse(url, "CP1", &u), OCPP_ETOOBIG);
  memset(url, 0, sizeof url);
  memcpy(url, "ws://h/", 7);
  memset(url + 7, 'p', 600);
  cr_assert_eq(ocpp_url_parse(url, "CP1", &u), OCPP_ETOOBIG);
}

/* ---- the request --------------------------------------------------------- */

Test(request, has_the_exact_bytes_without_credentials)
{
  ocpp_url u;
  char buf[1024];
  cr_assert_eq(ocpp_url_parse("ws://127.0.0.1:8016/ocpp/{id}", "CP1", &u), 0);
  size_t n = ocpp_http_upgrade_request(buf, sizeof buf, &u, KEY, NULL, NULL);
  static const char want[] =
    "GET /ocpp/CP1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8016\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: ocpp1.6\r\n"
    "\r\n";
  cr_assert_eq(n, strlen(want));
  cr_assert_str_eq(buf, want);
}

Test(request, carries_basic_auth_of_identity_and_password)
{
  ocpp_url u;
  char buf[1024];
  cr_assert_eq(ocpp_url_parse("wss://b.example/{id}", "Aladdin", &u), 0);
  size_t n = ocpp_http_upgrade_request(buf, sizeof buf, &u, KEY, "Aladdin",
                                       "open sesame");
  cr_assert_gt(n, 0);
  /* RFC 7617's example */
  cr_assert(strstr(buf, "\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"));
  cr_assert(strstr(buf, "\r\nHost: b.example\r\n"));
}

Test(request, too_small_buffer_or_bad_credentials_give_zero)
{
  ocpp_url u;
  char buf[1024];
  cr_assert_eq(ocpp_url_parse("ws://h/{id}", "CP1", &u), 0);
  cr_assert_eq(ocpp_http_upgrade_request(buf, 40, &u, KEY, NULL, NULL), 0);
  cr_assert_eq(ocpp_http_upgrade_request(buf, sizeof buf, &u, KEY, "a:b", "pw"), 0);
  char longpw[300];
  memset(longpw, 'x', sizeof longpw - 1);
  longpw[sizeof longpw - 1] = '\0';
  cr_assert_eq(ocpp_http_upgrade_request(buf, sizeof buf, &u, KEY, "CP1", longpw), 0);
  cr_assert_eq(ocpp_http_upgrade_request(buf, sizeof buf, NULL, KEY, NULL, NULL), 0);
  cr_assert_eq(ocpp_http_upgrade_request(buf, sizeof buf, &u, NULL, NULL, NULL), 0);
}

Test(request, key_is_the_base64_of_the_nonce)
{
  static const unsigned char nonce[16] = "the sample nonce";
  char key[25];
  cr_assert_eq(ocpp_ws_key(nonce, key), 0);
  cr_assert_str_eq(key, KEY);
  cr_assert_eq(ocpp_ws_key(NULL, key), OCPP_EINVAL);
}

/* ---- the answer ---------------------------------------------------------- */

static const char good[] =
  "HTTP/1.1 101 Switching Protocols\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Accept: " ACCEPT "\r\n"
  "Sec-WebSocket-Protocol: ocpp1.6\r\n"
  "\r\n";

static int check(const char *text, ocpp_upgrade_answer *a)
{
  return ocpp_http_check_upgrade(text, strlen(text), 8192, KEY, a);
}

Test(answer, valid_101_returns_the_header_length)
{
  ocpp_upgrade_answer a;
  char buf[512];
  snprintf(buf, sizeof buf, "%s[2,\"1\",\"Reset\",{}]", good);
  cr_assert_eq(check(buf, &a), (int)strlen(good));
  cr_assert_eq(a.status, 101);
  cr_assert_str_eq(a.protocol, "ocpp1.6");
}

Test(answer, header_names_and_tokens_ignore_case_and_protocol_may_be_absent)
{
  static const char text[] =
    "HTTP/1.1 101 Switching Protocols\n"
    "upgrade: WebSocket\n"
    "connection: keep-alive, upgrade\n"
    "sec-websocket-accept: " ACCEPT "\n"
    "\n";
  ocpp_upgrade_answer a;
  cr_assert_eq(check(text, &a), (int)strlen(text));
  cr_assert_str_eq(a.protocol, "");
}

Test(answer, every_prefix_is_incomplete)
{
  ocpp_upgrade_answer a;
  for (size_t n = 0; n < strlen(good); n++)
    cr_assert_eq(ocpp_http_check_upgrade(good, n, 8192, KEY, &a),
                 OCPP_HTTP_INCOMPLETE, "prefix %zu", n);
}

Test(answer, other_status_is_erefused_with_the_status)
{
  ocpp_upgrade_answer a;
  cr_assert_eq(check("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n", &a),
               OCPP_EREFUSED);
  cr_assert_eq(a.status, 401);
  cr_assert_str_eq(a.reason, "Unauthorized");
  cr_assert_eq(check("HTTP/1.1 404\r\n\r\n", &a), OCPP_EREFUSED);
  cr_assert_eq(a.status, 404);
}

Test(answer, wrong_accept_missing_headers_or_other_subprotocol_are_eupgrade)
{
  static const char *const bad[] = {
    "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    "HTTP/1.1 101 S\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
    "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
    "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n",
  };
  ocpp_upgrade_answer a;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(check(bad[i], &a), OCPP_EUPGRADE, "case %zu", i);
}

Test(answer, malformed_status_or_header_lines_are_ehttp)
{
  static const char *const bad[] = {
    "HTTP/1.0 101 S\r\n\r\n", "HTTP/1.1 1O1 S\r\n\r\n", "HTTP/1.1 10\r\n\r\n",
    "HTTP/1.1 1011 S\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n",
    "HTTP/1.1 101 S\r\nno colon here\r\n\r\n",
    "HTTP/1.1 101 S\r\n folded: x\r\n\r\n",
    "HTTP/1.1 101 S\r\n: empty name\r\n\r\n",
  };
  ocpp_upgrade_answer a;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(check(bad[i], &a), OCPP_EHTTP, "case %zu", i);
  cr_assert_eq(ocpp_http_check_upgrade("HTTP/1.1 101 S\r\nA\0: b\r\n\r\n", 26,
                                       8192, KEY, &a), OCPP_EHTTP);
}

Test(answer, endless_headers_are_etoobig)
{
  char buf[9000];
  int n = snprintf(buf, sizeof buf, "HTTP/1.1 101 S\r\n");
  while (n < 8500)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "X-Pad: aaaaaaaaaaaaaaaa\r\n");
  ocpp_upgrade_answer a;
  cr_assert_eq(ocpp_http_check_upgrade(buf, (size_t)n, 8192, KEY, &a), OCPP_ETOOBIG);
  n = snprintf(buf, sizeof buf, "HTTP/1.1 101 S\r\n");
  for (int i = 0; i < OCPP_HTTP_MAX_HEADERS + 1; i++)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "X: y\r\n");
  n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
  cr_assert_eq(ocpp_http_check_upgrade(buf, (size_t)n, 8192, KEY, &a), OCPP_ETOOBIG);
}

Test(answer, null_arguments_and_a_bad_key_are_einval)
{
  ocpp_upgrade_answer a;
  cr_assert_eq(ocpp_http_check_upgrade(NULL, 0, 8192, KEY, &a), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_check_upgrade(good, strlen(good), 8192, NULL, &a), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_check_upgrade(good, strlen(good), 8192, KEY, NULL), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_check_upgrade(good, strlen(good), 8192, "short", &a), OCPP_EINVAL);
}

/* ---- backoff ------------------------------------------------------------- */

Test(backoff, starts_at_5_s_and_doubles_to_5_min)
{
  static const uint64_t want[] = {0, 5000, 10000, 20000, 40000, 80000, 160000,
                                  300000, 300000};
  for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_expect_eq(ocpp_backoff_ms(i), want[i], "after %u failures", i);
}

Test(backoff, stays_at_5_min_for_any_count)
{
  cr_assert_eq(ocpp_backoff_ms(64), 300000);
  cr_assert_eq(ocpp_backoff_ms(100000), 300000);
  cr_assert_eq(ocpp_backoff_ms(~0u), 300000);
}
