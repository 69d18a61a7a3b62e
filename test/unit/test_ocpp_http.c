#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/http.h"

#define CAP 8192

static const char VALID[] =
    "GET /ocpp/CP1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8016\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: ocpp1.6\r\n"
    "Authorization: Basic Q1AxOnNlY3JldA==\r\n"
    "\r\n";

static int parse(const char *text, ocpp_http_request *req) {
  return ocpp_http_parse(text, strlen(text), CAP, req);
}

/* Builds a request from the request line and a header block. */
static char *request(const char *line, const char *headers) {
  size_t n = strlen(line) + strlen(headers) + 8;
  char *buf = malloc(n);
  cr_assert_not_null(buf);
  snprintf(buf, n, "%s\r\n%s\r\n", line, headers);
  return buf;
}

static int parse_headers(const char *headers, ocpp_http_request *req) {
  char *buf = request("GET /CP1 HTTP/1.1", headers);
  int rc = parse(buf, req);
  free(buf);
  return rc;
}

/* ---- ocpp_http_parse ---------------------------------------------------- */

Test(http_parse, valid_upgrade_request_fills_every_field) {
  ocpp_http_request req;
  int rc = parse(VALID, &req);
  cr_assert_eq(rc, (int)strlen(VALID));
  cr_assert_str_eq(req.method, "GET");
  cr_assert_str_eq(req.path, "/ocpp/CP1");
  cr_assert(req.upgrade_websocket);
  cr_assert(req.connection_upgrade);
  cr_assert_str_eq(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
  cr_assert_eq(req.ws_version, 13);
  cr_assert(req.has_protocol_header);
  cr_assert(req.offers_ocpp16);
  cr_assert_str_eq(req.protocols, "ocpp1.6");
  cr_assert_str_eq(req.authorization, "Basic Q1AxOnNlY3JldA==");
  cr_assert_str_eq(req.host, "127.0.0.1:8016");
}

Test(http_parse, returns_length_up_to_blank_line_only) {
  char buf[sizeof VALID + 16];
  snprintf(buf, sizeof buf, "%sEXTRA", VALID);
  ocpp_http_request req;
  cr_assert_eq(parse(buf, &req), (int)strlen(VALID));
}

Test(http_parse, missing_upgrade_header_is_reported) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Connection: Upgrade\r\n", &req), 0);
  cr_assert_not(req.upgrade_websocket);
  cr_assert(req.connection_upgrade);
}

Test(http_parse, upgrade_other_protocol_is_not_websocket) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Upgrade: h2c\r\n", &req), 0);
  cr_assert_not(req.upgrade_websocket);
}

Test(http_parse, upgrade_value_is_case_insensitive) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("upgrade: WebSocket\r\n", &req), 0);
  cr_assert(req.upgrade_websocket);
}

Test(http_parse, connection_without_upgrade_token) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Connection: keep-alive\r\n", &req), 0);
  cr_assert_not(req.connection_upgrade);
}

Test(http_parse, connection_token_list_with_upgrade) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("CONNECTION: keep-alive, Upgrade\r\n", &req), 0);
  cr_assert(req.connection_upgrade);
}

Test(http_parse, connection_token_must_match_whole) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Connection: upgraded, notupgrade\r\n", &req), 0);
  cr_assert_not(req.connection_upgrade);
}

Test(http_parse, missing_key_leaves_it_empty) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Upgrade: websocket\r\n", &req), 0);
  cr_assert_str_eq(req.ws_key, "");
  cr_assert_eq(req.ws_version, 0);
}

Test(http_parse, duplicate_key_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Sec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n",
                             &req),
               OCPP_EHTTP);
}

Test(http_parse, overlong_key_is_too_big) {
  char headers[200];
  snprintf(headers, sizeof headers, "Sec-WebSocket-Key: %0100d\r\n", 0);
  ocpp_http_request req;
  cr_assert_eq(parse_headers(headers, &req), OCPP_ETOOBIG);
}

Test(http_parse, other_version_is_reported_for_426) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Sec-WebSocket-Version: 8\r\n", &req), 0);
  cr_assert_eq(req.ws_version, 8);
}

Test(http_parse, non_numeric_version_is_negative) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Sec-WebSocket-Version: 13a\r\n", &req), 0);
  cr_assert_eq(req.ws_version, -1);
}

Test(http_parse, no_subprotocol_header) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Upgrade: websocket\r\n", &req), 0);
  cr_assert_not(req.has_protocol_header);
  cr_assert_not(req.offers_ocpp16);
  cr_assert_str_eq(req.protocols, "");
}

Test(http_parse, several_subprotocols_in_one_header) {
  ocpp_http_request req;
  cr_assert_gt(
      parse_headers("Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6\r\n", &req), 0);
  cr_assert(req.has_protocol_header);
  cr_assert(req.offers_ocpp16);
  cr_assert_str_eq(req.protocols, "ocpp2.0.1, ocpp1.6");
}

Test(http_parse, repeated_protocol_headers_are_merged) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Sec-WebSocket-Protocol: ocpp2.0.1\r\n"
                             "Sec-WebSocket-Protocol: ocpp1.6\r\n",
                             &req),
               0);
  cr_assert(req.offers_ocpp16);
  cr_assert_str_eq(req.protocols, "ocpp2.0.1, ocpp1.6");
}

Test(http_parse, subprotocol_without_ocpp16) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Sec-WebSocket-Protocol: ocpp1.5, ocpp1.6j\r\n",
                             &req),
               0);
  cr_assert(req.has_protocol_header);
  cr_assert_not(req.offers_ocpp16);
}

Test(http_parse, subprotocol_in_other_case_is_accepted) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Sec-WebSocket-Protocol: OCPP1.6\r\n", &req), 0);
  cr_assert(req.offers_ocpp16);
}

Test(http_parse, overlong_protocol_list_is_too_big) {
  char headers[1024] = "";
  for (int i = 0; i < 20; i++)
    strcat(headers, "Sec-WebSocket-Protocol: ocpp1.6, ocpp2.0\r\n");
  ocpp_http_request req;
  cr_assert_eq(parse_headers(headers, &req), OCPP_ETOOBIG);
}

Test(http_parse, header_values_are_trimmed) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("Host: \t example \t\r\n", &req), 0);
  cr_assert_str_eq(req.host, "example");
}

Test(http_parse, unknown_headers_are_skipped) {
  ocpp_http_request req;
  cr_assert_gt(parse_headers("X-Foo: bar\r\nUser-Agent: x\r\n", &req), 0);
}

Test(http_parse, obs_fold_is_rejected) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Upgrade: websocket\r\n  more\r\n", &req),
               OCPP_EHTTP);
}

Test(http_parse, header_without_colon_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Upgrade websocket\r\n", &req), OCPP_EHTTP);
}

Test(http_parse, space_before_colon_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Upgrade : websocket\r\n", &req), OCPP_EHTTP);
}

Test(http_parse, control_character_in_value_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Host: a\x01" "b\r\n", &req), OCPP_EHTTP);
}

Test(http_parse, nul_byte_is_bad) {
  static const char text[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(text, sizeof text - 1, CAP, &req),
               OCPP_EHTTP);
}

Test(http_parse, duplicate_host_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse_headers("Host: a\r\nHost: b\r\n", &req), OCPP_EHTTP);
}

Test(http_parse, headers_over_max_bytes_are_too_big) {
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(VALID, strlen(VALID), 40, &req),
               OCPP_ETOOBIG);
}

Test(http_parse, request_of_exactly_max_bytes_is_complete) {
  ocpp_http_request req;
  size_t n = strlen(VALID);
  cr_assert_eq(ocpp_http_parse(VALID, n, n, &req), (int)n);
}

Test(http_parse, too_many_headers_are_too_big) {
  size_t cap = (OCPP_HTTP_MAX_HEADERS + 1) * 8 + 1;
  char *headers = calloc(1, cap);
  cr_assert_not_null(headers);
  for (int i = 0; i <= OCPP_HTTP_MAX_HEADERS; i++) strcat(headers, "X-A: b\r\n");
  ocpp_http_request req;
  cr_assert_eq(parse_headers(headers, &req), OCPP_ETOOBIG);
  free(headers);
}

Test(http_parse, max_headers_are_accepted) {
  size_t cap = OCPP_HTTP_MAX_HEADERS * 8 + 1;
  char *headers = calloc(1, cap);
  cr_assert_not_null(headers);
  for (int i = 0; i < OCPP_HTTP_MAX_HEADERS; i++) strcat(headers, "X-A: b\r\n");
  ocpp_http_request req;
  cr_assert_gt(parse_headers(headers, &req), 0);
  free(headers);
}

Test(http_parse, split_at_every_offset_is_incomplete_then_complete) {
  size_t n = strlen(VALID);
  for (size_t cut = 0; cut < n; cut++) {
    char *part = malloc(cut + 1); /* exact size: ASan sees over-reads */
    cr_assert_not_null(part);
    memcpy(part, VALID, cut);
    ocpp_http_request req;
    int rc = ocpp_http_parse(part, cut, CAP, &req);
    free(part);
    cr_assert_eq(rc, OCPP_HTTP_INCOMPLETE, "cut at %zu gave %d", cut, rc);
  }
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(VALID, n, CAP, &req), (int)n);
  cr_assert(req.offers_ocpp16);
}

Test(http_parse, bare_lf_line_ends_are_tolerated) {
  static const char text[] = "GET /CP1 HTTP/1.1\nUpgrade: websocket\n\n";
  ocpp_http_request req;
  cr_assert_eq(parse(text, &req), (int)strlen(text));
  cr_assert(req.upgrade_websocket);
}

Test(http_parse, post_is_method_error) {
  ocpp_http_request req;
  char *buf = request("POST /CP1 HTTP/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EMETHOD);
  cr_assert_str_eq(req.method, "POST");
  free(buf);
}

Test(http_parse, long_method_is_method_error) {
  ocpp_http_request req;
  char *buf = request("PROPPATCHX /CP1 HTTP/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EMETHOD);
  free(buf);
}

Test(http_parse, method_error_is_known_before_headers_end) {
  ocpp_http_request req;
  cr_assert_eq(parse("DELETE / HTTP/1.1\r\nHost: a\r\n", &req),
               OCPP_EMETHOD);
}

Test(http_parse, http10_is_version_error) {
  ocpp_http_request req;
  char *buf = request("GET /CP1 HTTP/1.0", "");
  cr_assert_eq(parse(buf, &req), OCPP_EVERSION);
  free(buf);
}

Test(http_parse, garbage_version_is_bad) {
  ocpp_http_request req;
  char *buf = request("GET /CP1 HTTX/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EHTTP);
  free(buf);
}

Test(http_parse, request_line_without_target_is_bad) {
  ocpp_http_request req;
  char *buf = request("GET HTTP/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EHTTP);
  free(buf);
}

Test(http_parse, double_space_in_request_line_is_bad) {
  ocpp_http_request req;
  char *buf = request("GET  /CP1 HTTP/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EHTTP);
  free(buf);
}

Test(http_parse, empty_first_line_is_bad) {
  ocpp_http_request req;
  cr_assert_eq(parse("\r\nGET / HTTP/1.1\r\n\r\n", &req), OCPP_EHTTP);
}

Test(http_parse, target_not_starting_with_slash_is_bad) {
  ocpp_http_request req;
  char *buf = request("GET CP1 HTTP/1.1", "");
  cr_assert_eq(parse(buf, &req), OCPP_EHTTP);
  free(buf);
}

Test(http_parse, absolute_form_target_keeps_the_path) {
  ocpp_http_request req;
  char *buf = request("GET ws://box:8016/ocpp/CP1?x=1 HTTP/1.1", "");
  cr_assert_gt(parse(buf, &req), 0);
  cr_assert_str_eq(req.path, "/ocpp/CP1?x=1");
  free(buf);
}

Test(http_parse, overlong_target_is_too_big) {
  char line[OCPP_HTTP_PATH_MAX + 32];
  memset(line, 'a', sizeof line);
  memcpy(line, "GET /", 5);
  memcpy(line + sizeof line - 10, " HTTP/1.1", 10);
  ocpp_http_request req;
  char *buf = request(line, "");
  cr_assert_eq(parse(buf, &req), OCPP_ETOOBIG);
  free(buf);
}

Test(http_parse, query_is_kept_in_path) {
  ocpp_http_request req;
  char *buf = request("GET /status?x=1 HTTP/1.1", "");
  cr_assert_gt(parse(buf, &req), 0);
  cr_assert_str_eq(req.path, "/status?x=1");
  free(buf);
}

Test(http_parse, overlong_authorization_is_too_big) {
  char headers[700];
  snprintf(headers, sizeof headers, "Authorization: Basic %0600d\r\n", 0);
  ocpp_http_request req;
  cr_assert_eq(parse_headers(headers, &req), OCPP_ETOOBIG);
}

Test(http_parse, tls_hello_on_plain_port_is_bad_at_first_byte) {
  static const char hello[] = "\x16\x03\x01\x02\x00";
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(hello, 1, CAP, &req), OCPP_EHTTP);
  cr_assert_eq(ocpp_http_parse(hello, sizeof hello - 1, CAP, &req),
               OCPP_EHTTP);
}

Test(http_parse, partial_method_is_incomplete) {
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse("GE", 2, CAP, &req), OCPP_HTTP_INCOMPLETE);
}

Test(http_parse, null_arguments_are_bad) {
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(NULL, 0, CAP, &req), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_parse(VALID, strlen(VALID), CAP, NULL),
               OCPP_EINVAL);
}

/* ---- ocpp_http_identity ------------------------------------------------- */

static void assert_identity(const char *target, const char *expected) {
  char out[64];
  cr_assert_eq(ocpp_http_identity(target, out, sizeof out), 0, "%s", target);
  cr_assert_str_eq(out, expected);
}

static void assert_identity_bad(const char *target) {
  char out[64];
  cr_assert_eq(ocpp_http_identity(target, out, sizeof out), OCPP_EIDENTITY,
               "%s", target);
  cr_assert_str_eq(out, "");
}

Test(http_identity, plain_segment) { assert_identity("/CP1", "CP1"); }

Test(http_identity, ocpp_prefix) { assert_identity("/ocpp/CP1", "CP1"); }

Test(http_identity, steve_prefix) {
  assert_identity("/steve/websocket/CentralSystemService/CP1", "CP1");
}

Test(http_identity, trailing_slash_is_skipped) {
  assert_identity("/ocpp/CP1/", "CP1");
  assert_identity("/ocpp/CP1//", "CP1");
}

Test(http_identity, query_and_fragment_are_dropped) {
  assert_identity("/ocpp/CP1?token=abc/def", "CP1");
  assert_identity("/ocpp/CP1#frag", "CP1");
}

Test(http_identity, percent_space_is_decoded) {
  assert_identity("/ocpp/CP%201", "CP 1");
}

Test(http_identity, lower_case_hex_is_decoded) {
  assert_identity("/%c3%a9", "\xc3\xa9");
}

Test(http_identity, plus_stays_plus) { assert_identity("/CP+1", "CP+1"); }

Test(http_identity, truncated_escape_is_bad) {
  assert_identity_bad("/CP%2");
  assert_identity_bad("/CP%");
}

Test(http_identity, non_hex_escape_is_bad) { assert_identity_bad("/CP%zz"); }

Test(http_identity, encoded_slash_is_bad) { assert_identity_bad("/a%2Fb"); }

Test(http_identity, encoded_nul_is_bad) { assert_identity_bad("/CP%00"); }

Test(http_identity, encoded_control_is_bad) {
  assert_identity_bad("/CP%0A");
  assert_identity_bad("/CP%7F");
}

Test(http_identity, empty_is_bad) {
  assert_identity_bad("");
  assert_identity_bad("/");
  assert_identity_bad("///");
  assert_identity_bad("/?x=1");
}

Test(http_identity, longer_than_cap_is_bad) {
  char out[4];
  cr_assert_eq(ocpp_http_identity("/ABCD", out, sizeof out), OCPP_EIDENTITY);
  cr_assert_eq(ocpp_http_identity("/ABC", out, sizeof out), 0);
  cr_assert_str_eq(out, "ABC");
}

Test(http_identity, escape_counts_as_one_character) {
  char out[4];
  cr_assert_eq(ocpp_http_identity("/A%20C", out, sizeof out), 0);
  cr_assert_str_eq(out, "A C");
}

/* ---- ocpp_ws_accept ----------------------------------------------------- */

Test(ws_accept, rfc6455_example) {
  char out[29];
  cr_assert_eq(ocpp_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
  cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(ws_accept, other_key_gives_other_accept) {
  char out[29];
  cr_assert_eq(ocpp_ws_accept("AQIDBAUGBwgJCgsMDQ4PEA==", out), 0);
  cr_assert_eq(strlen(out), 28);
  cr_assert_str_neq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(ws_accept, key_of_wrong_length_is_bad) {
  char out[29];
  cr_assert_eq(ocpp_ws_accept("dGhlIHNhbXBsZQ==", out), OCPP_EWSKEY);
  cr_assert_eq(ocpp_ws_accept("", out), OCPP_EWSKEY);
  cr_assert_eq(ocpp_ws_accept("dGhlIHNhbXBsZSBub25jZQ==AAAA", out),
               OCPP_EWSKEY);
}

Test(ws_accept, key_with_invalid_characters_is_bad) {
  char out[29];
  cr_assert_eq(ocpp_ws_accept("dGhlIHNhbXBsZSBub25j*Q==", out),
               OCPP_EWSKEY);
}

Test(ws_accept, key_without_padding_is_bad) {
  char out[29];
  /* 24 characters, but 18 bytes once decoded */
  cr_assert_eq(ocpp_ws_accept("dGhlIHNhbXBsZSBub25jZQAA", out),
               OCPP_EWSKEY);
}

/* ---- ocpp_http_basic_auth ----------------------------------------------- */

Test(basic_auth, valid_credentials) {
  char user[32], pass[32];
  /* "CP1:secret" */
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1AxOnNlY3JldA==", user, sizeof user,
                                    pass, sizeof pass),
               0);
  cr_assert_str_eq(user, "CP1");
  cr_assert_str_eq(pass, "secret");
}

Test(basic_auth, password_may_contain_colons) {
  char user[32], pass[32];
  /* "CP1:a:b" */
  cr_assert_eq(ocpp_http_basic_auth("basic Q1AxOmE6Yg==", user, sizeof user,
                                    pass, sizeof pass),
               0);
  cr_assert_str_eq(user, "CP1");
  cr_assert_str_eq(pass, "a:b");
}

Test(basic_auth, missing_padding_is_tolerated) {
  char user[32], pass[32];
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1AxOnNlY3JldA", user, sizeof user,
                                    pass, sizeof pass),
               0);
  cr_assert_str_eq(pass, "secret");
}

Test(basic_auth, no_colon_is_bad) {
  char user[32], pass[32];
  /* "CP1secret" */
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1Axc2VjcmV0", user, sizeof user,
                                    pass, sizeof pass),
               OCPP_EAUTH);
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
}

Test(basic_auth, bad_base64_is_bad) {
  char user[32], pass[32];
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1Ax*nNlY3JldA==", user, sizeof user,
                                    pass, sizeof pass),
               OCPP_EAUTH);
  cr_assert_eq(ocpp_http_basic_auth("Basic Q", user, sizeof user, pass,
                                    sizeof pass),
               OCPP_EAUTH);
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1Ax=nNl", user, sizeof user, pass,
                                    sizeof pass),
               OCPP_EAUTH);
}

Test(basic_auth, other_scheme_is_bad) {
  char user[32], pass[32];
  cr_assert_eq(ocpp_http_basic_auth("Bearer Q1AxOnNlY3JldA==", user,
                                    sizeof user, pass, sizeof pass),
               OCPP_EAUTH);
  cr_assert_eq(ocpp_http_basic_auth("BasicQ1AxOnNlY3JldA==", user, sizeof user,
                                    pass, sizeof pass),
               OCPP_EAUTH);
  cr_assert_eq(ocpp_http_basic_auth("", user, sizeof user, pass, sizeof pass),
               OCPP_EAUTH);
}

Test(basic_auth, user_longer_than_cap_is_bad) {
  char user[3], pass[32];
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1AxOnNlY3JldA==", user, sizeof user,
                                    pass, sizeof pass),
               OCPP_EAUTH);
  cr_assert_str_eq(pass, "");
}

Test(basic_auth, decoded_nul_is_bad) {
  char user[32], pass[32];
  /* "CP1:a\0b" */
  cr_assert_eq(ocpp_http_basic_auth("Basic Q1AxOmEAYg==", user, sizeof user,
                                    pass, sizeof pass),
               OCPP_EAUTH);
}

/* ---- ocpp_secret_equal -------------------------------------------------- */

Test(secret_equal, equal_strings) {
  cr_assert(ocpp_secret_equal("secret", "secret"));
  cr_assert(ocpp_secret_equal("", ""));
}

Test(secret_equal, different_content) {
  cr_assert_not(ocpp_secret_equal("secreT", "secret"));
}

Test(secret_equal, prefix_is_not_equal) {
  cr_assert_not(ocpp_secret_equal("secret", "secret1"));
  cr_assert_not(ocpp_secret_equal("secret1", "secret"));
  cr_assert_not(ocpp_secret_equal("", "secret"));
}

Test(secret_equal, null_is_never_equal) {
  cr_assert_not(ocpp_secret_equal(NULL, "a"));
  cr_assert_not(ocpp_secret_equal("a", NULL));
}

/* ---- responses ---------------------------------------------------------- */

Test(http_response, upgrade_with_protocol) {
  char buf[512];
  size_t n = ocpp_http_upgrade_response(buf, sizeof buf,
                                        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                                        "ocpp1.6");
  static const char expected[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                 "Upgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: "
                                 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                 "Sec-WebSocket-Protocol: ocpp1.6\r\n"
                                 "\r\n";
  cr_assert_eq(n, strlen(expected));
  cr_assert_str_eq(buf, expected);
}

Test(http_response, upgrade_without_protocol) {
  char buf[512];
  size_t n = ocpp_http_upgrade_response(buf, sizeof buf, "abc", NULL);
  cr_assert_gt(n, 0);
  cr_assert_null(strstr(buf, "Sec-WebSocket-Protocol"));
  cr_assert_not_null(strstr(buf, "Sec-WebSocket-Accept: abc\r\n\r\n"));
}

Test(http_response, upgrade_too_small_buffer) {
  char buf[40];
  cr_assert_eq(ocpp_http_upgrade_response(buf, sizeof buf, "abc", "ocpp1.6"),
               0);
}

Test(http_response, not_found_with_body) {
  char buf[512];
  size_t n = ocpp_http_response(buf, sizeof buf, 404, "text/plain", NULL,
                                "unknown", 7);
  static const char expected[] = "HTTP/1.1 404 Not Found\r\n"
                                 "Connection: close\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 7\r\n"
                                 "\r\n"
                                 "unknown";
  cr_assert_eq(n, strlen(expected));
  cr_assert(memcmp(buf, expected, n) == 0);
}

Test(http_response, unauthorized_with_extra_header) {
  char buf[512];
  size_t n = ocpp_http_response(buf, sizeof buf, 401, NULL,
                                "WWW-Authenticate: Basic realm=\"ocppknx\"\r\n",
                                NULL, 0);
  cr_assert_gt(n, 0);
  buf[n] = '\0';
  cr_assert_not_null(strstr(buf, "HTTP/1.1 401 Unauthorized\r\n"));
  cr_assert_not_null(
      strstr(buf, "WWW-Authenticate: Basic realm=\"ocppknx\"\r\n\r\n"));
  cr_assert_not_null(strstr(buf, "Content-Length: 0\r\n"));
}

Test(http_response, upgrade_required_names_version_13) {
  char buf[512];
  size_t n = ocpp_http_response(buf, sizeof buf, 426, NULL, NULL, NULL, 0);
  cr_assert_gt(n, 0);
  buf[n] = '\0';
  cr_assert_not_null(strstr(buf, "426 Upgrade Required\r\n"));
  cr_assert_not_null(strstr(buf, "Sec-WebSocket-Version: 13\r\n"));
}

Test(http_response, implied_header_not_repeated) {
  char buf[512];
  size_t n = ocpp_http_response(buf, sizeof buf, 426, NULL,
                                "sec-websocket-version: 13\r\n", NULL, 0);
  cr_assert_gt(n, 0);
  buf[n] = '\0';
  cr_assert_null(strstr(buf, "Sec-WebSocket-Version"));
  cr_assert_not_null(strstr(buf, "sec-websocket-version: 13\r\n"));
}

Test(http_response, too_small_buffer_for_body) {
  char buf[100];
  char body[60];
  memset(body, 'x', sizeof body);
  cr_assert_eq(ocpp_http_response(buf, sizeof buf, 500, NULL, NULL, body,
                                  sizeof body),
               0);
}

Test(http_response, invalid_status_is_refused) {
  char buf[256];
  cr_assert_eq(ocpp_http_response(buf, sizeof buf, 42, NULL, NULL, NULL, 0), 0);
  cr_assert_eq(ocpp_http_response(buf, sizeof buf, 600, NULL, NULL, NULL, 0),
               0);
}

/* ---- the status page's Basic Auth and event streams ---------------------- */

/* "admin:s3cret" */
#define ADMIN_AUTH "Basic YWRtaW46czNjcmV0"

Test(http_auth_matches, right_user_and_password) {
  cr_assert(ocpp_http_auth_matches(ADMIN_AUTH, "admin", "s3cret"));
  cr_assert(ocpp_http_auth_matches("basic   YWRtaW46czNjcmV0  ", "admin",
                                   "s3cret"));
}

Test(http_auth_matches, wrong_password_user_or_form) {
  cr_assert_not(ocpp_http_auth_matches(ADMIN_AUTH, "admin", "s3cre"));
  cr_assert_not(ocpp_http_auth_matches(ADMIN_AUTH, "admin", "s3cret!"));
  cr_assert_not(ocpp_http_auth_matches(ADMIN_AUTH, "root", "s3cret"));
  /* "admin:" and "admin" (no colon) */
  cr_assert_not(ocpp_http_auth_matches("Basic YWRtaW46", "admin", "s3cret"));
  cr_assert_not(ocpp_http_auth_matches("Basic YWRtaW4=", "admin", "s3cret"));
  cr_assert_not(ocpp_http_auth_matches("Bearer YWRtaW46czNjcmV0", "admin",
                                       "s3cret"));
  cr_assert_not(ocpp_http_auth_matches("Basic !!!", "admin", "s3cret"));
  cr_assert_not(ocpp_http_auth_matches("", "admin", "s3cret"));
  cr_assert_not(ocpp_http_auth_matches(NULL, "admin", "s3cret"));
  cr_assert_not(ocpp_http_auth_matches(ADMIN_AUTH, NULL, "s3cret"));
  cr_assert_not(ocpp_http_auth_matches(ADMIN_AUTH, "admin", NULL));
}

Test(http_stream_head, open_ended_event_stream) {
  char buf[512];
  size_t n = ocpp_http_stream_head(buf, sizeof buf);
  cr_assert_gt(n, 0);
  buf[n] = '\0';
  cr_assert(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", buf);
  cr_assert_not_null(strstr(buf, "\r\nContent-Type: text/event-stream"));
  cr_assert_null(strstr(buf, "Content-Length"));
  cr_assert_not_null(strstr(buf, "\r\n\r\nretry: 2000\n\n"));
  cr_assert_eq(ocpp_http_stream_head(buf, 20), 0);
  cr_assert_eq(ocpp_http_stream_head(NULL, 512), 0);
}

static void expect_sse(const char *event, const char *data, const char *want) {
  size_t len = 0;
  char *out = ocpp_sse_event(event, data, &len);
  cr_assert_not_null(out);
  cr_assert_eq(len, strlen(want));
  cr_assert(memcmp(out, want, len) == 0, "got \"%.*s\"", (int)len, out);
  free(out);
}

Test(sse_event, one_data_line_per_line) {
  expect_sse("status", "{\"a\":1}", "event: status\ndata: {\"a\":1}\n\n");
  expect_sse(NULL, "x", "data: x\n\n");
  expect_sse("", "", "data: \n\n");
  expect_sse("page", "a\nb\r\nc\rd", "event: page\ndata: a\ndata: b\ndata: c\n"
             "data: d\n\n");
  expect_sse("page", "end\n", "event: page\ndata: end\ndata: \n\n");
  expect_sse("p", "\n\n", "event: p\ndata: \ndata: \ndata: \n\n");
}

Test(sse_event, refuses_a_name_that_breaks_the_frame) {
  size_t len = 0;
  cr_assert_null(ocpp_sse_event("a\nb", "x", &len));
  cr_assert_null(ocpp_sse_event("a\rb", "x", &len));
  cr_assert_null(ocpp_sse_event("a", NULL, &len));
  cr_assert_null(ocpp_sse_event("a", "x", NULL));
}
