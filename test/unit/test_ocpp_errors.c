/* The one set of OCPP_E* codes: every code has its own name and text, and
 * the module's parsers and engines return the code of their failure. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/codec.h"
#include "ocpp/http.h"
#include "ocpp/lenient.h"
#include "ocpp/ocpp.h"
#include "ocpp/rpc.h"
#include "ocpp/schema.h"
#include "ocpp/tls.h"

/* Every code of ocpp.h, in its order. */
static const int codes[] = {
  OCPP_OK,        OCPP_EINVAL,    OCPP_ENOMEM,    OCPP_ENOTCONN,
  OCPP_EUNKNOWN,  OCPP_EQUEUEFULL, OCPP_ELISTEN,  OCPP_ETLS,
  OCPP_ESTATE,    OCPP_EFORMAT,   OCPP_EHTTP,     OCPP_ETOOBIG,
  OCPP_EMETHOD,   OCPP_EVERSION,  OCPP_EIDENTITY, OCPP_EWSKEY,
  OCPP_EAUTH,     OCPP_ECRYPTO,   OCPP_ETIME,     OCPP_ENOENT,
  OCPP_ENOACTION, OCPP_ESCHEMA,   OCPP_ENOPATH,   OCPP_ENOREPAIR,
  OCPP_ECLOSED,   OCPP_ETLSFAIL,  OCPP_EIO,       OCPP_EWSPROTO,
  OCPP_EREFUSED,  OCPP_EUPGRADE,  OCPP_EPENDING,
};
#define N_CODES (sizeof codes / sizeof codes[0])

static bool is_listed(int err)
{
  for (size_t i = 0; i < N_CODES; i++)
    if (codes[i] == err)
      return true;
  return false;
}

/* ---- names and texts ----------------------------------------------------- */

Test(errors, success_is_zero_and_failures_are_negative)
{
  cr_assert_eq(codes[0], 0);
  for (size_t i = 1; i < N_CODES; i++)
    cr_assert_lt(codes[i], 0, "%s", ocpp_err_name(codes[i]));
}

Test(errors, every_code_has_its_own_value)
{
  for (size_t i = 0; i < N_CODES; i++)
    for (size_t j = i + 1; j < N_CODES; j++)
      cr_assert_neq(codes[i], codes[j], "%s and %s share %d",
                    ocpp_err_name(codes[i]), ocpp_err_name(codes[j]), codes[i]);
}

Test(errors, every_code_has_a_distinct_non_empty_name)
{
  for (size_t i = 0; i < N_CODES; i++) {
    const char *name = ocpp_err_name(codes[i]);
    cr_assert_not_null(name);
    cr_assert_eq(strncmp(name, "OCPP_", 5), 0, "code %d is %s", codes[i], name);
    cr_assert_gt(strlen(name), 5);
    for (size_t j = 0; j < i; j++)
      cr_assert_str_neq(name, ocpp_err_name(codes[j]), "code %d", codes[i]);
  }
  cr_assert_str_eq(ocpp_err_name(OCPP_EINVAL), "OCPP_EINVAL");
  cr_assert_str_eq(ocpp_err_name(OCPP_ETOOBIG), "OCPP_ETOOBIG");
}

Test(errors, every_code_has_a_distinct_text)
{
  for (size_t i = 0; i < N_CODES; i++) {
    const char *text = ocpp_strerror(codes[i]);
    cr_assert_not_null(text);
    cr_assert_gt(strlen(text), 0, "code %d", codes[i]);
    cr_assert_str_neq(text, "unknown error", "code %d", codes[i]);
    for (size_t j = 0; j < i; j++)
      cr_assert_str_neq(text, ocpp_strerror(codes[j]), "%s and %s",
                        ocpp_err_name(codes[i]), ocpp_err_name(codes[j]));
  }
}

Test(errors, unknown_codes_have_a_fixed_text)
{
  static const int unknown[] = {1, 3, 1000, -1000, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    cr_assert_str_eq(ocpp_strerror(unknown[i]), "unknown error", "%d",
                     unknown[i]);
    cr_assert_str_eq(ocpp_err_name(unknown[i]), "unknown", "%d", unknown[i]);
  }
}

Test(errors, no_code_is_named_that_the_header_does_not_list)
{
  for (int err = 0; err > -200; err--)
    if (strcmp(ocpp_err_name(err), "unknown") != 0)
      cr_assert(is_listed(err), "%d is named %s", err, ocpp_err_name(err));
}

Test(errors, success_has_a_text)
{
  cr_assert_str_eq(ocpp_strerror(OCPP_OK), "success");
  cr_assert_str_eq(ocpp_err_name(OCPP_OK), "OCPP_OK");
}

/* ---- the code each helper returns ---------------------------------------- */

Test(errors, malformed_rpc_is_eformat)
{
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  static const char *const bad[] = {"not json", "{}", "[]", "[2,\"1\"]",
                                    "[9,\"1\",\"Heartbeat\",{}]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(ocpp_rpc_decode(bad[i], strlen(bad[i]), &f, &fault),
                 OCPP_EFORMAT, "%s", bad[i]);
  cr_assert_eq(ocpp_rpc_decode(NULL, 0, &f, &fault), OCPP_EFORMAT);
}

static json_t *load(const char *text)
{
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  cr_assert_not_null(j, "bad test JSON: %s", err.text);
  return j;
}

Test(errors, unknown_action_in_schema_is_enoaction)
{
  json_t *p = json_object();
  cr_assert_eq(ocpp_schema_validate("Reboot", OCPP_SCHEMA_REQUEST, p, NULL),
               OCPP_ENOACTION);
  ocpp_schema_node_info info;
  cr_assert_eq(ocpp_schema_describe("Reboot", OCPP_SCHEMA_REQUEST, "", &info),
               OCPP_ENOACTION);
  json_decref(p);
}

Test(errors, invalid_payload_is_eschema)
{
  json_t *p = load("{\"connectorId\":\"one\"}");
  ocpp_schema_fault fault;
  cr_assert_eq(ocpp_schema_validate("UnlockConnector", OCPP_SCHEMA_REQUEST, p,
                                    &fault), OCPP_ESCHEMA);
  cr_assert_str_eq(fault.code, "TypeConstraintViolation");
  json_decref(p);
}

Test(errors, unknown_schema_path_is_enopath)
{
  ocpp_schema_node_info info;
  cr_assert_eq(ocpp_schema_describe("MeterValues", OCPP_SCHEMA_REQUEST,
                                    "nope", &info), OCPP_ENOPATH);
}

Test(errors, null_arguments_are_einval)
{
  ocpp_schema_node_info info;
  ocpp_http_request req;
  char out[64], user[16], pass[16];
  time_t t;
  cr_assert_eq(ocpp_schema_validate(NULL, OCPP_SCHEMA_REQUEST, NULL, NULL),
               OCPP_EINVAL);
  cr_assert_eq(ocpp_schema_describe("MeterValues", OCPP_SCHEMA_REQUEST, NULL,
                                    &info), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_parse(NULL, 0, 100, &req), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_identity(NULL, out, sizeof out), OCPP_EINVAL);
  cr_assert_eq(ocpp_ws_accept(NULL, out), OCPP_EINVAL);
  cr_assert_eq(ocpp_http_basic_auth(NULL, user, sizeof user, pass,
                                    sizeof pass), OCPP_EINVAL);
  cr_assert_eq(ocpp_time_parse(NULL, &t), OCPP_EINVAL);
  cr_assert_eq(ocpp_meter_parse(NULL, NULL), OCPP_EINVAL);
  cr_assert_eq(ocpp_tls_input(NULL, "x", 1), OCPP_EINVAL);
  cr_assert_eq(ocpp_listen_parse("nowhere", NULL), OCPP_EINVAL);
}

Test(errors, http_oversize_is_etoobig)
{
  size_t n = 4096;
  char *buf = malloc(n + 1);
  cr_assert_not_null(buf);
  memcpy(buf, "GET /CP1 HTTP/1.1\r\nX-Pad: ", 26);
  memset(buf + 26, 'a', n - 26);
  buf[n] = '\0';
  ocpp_http_request req;
  cr_assert_eq(ocpp_http_parse(buf, n, 1024, &req), OCPP_ETOOBIG);
  free(buf);
}

static int parse_text(const char *text)
{
  ocpp_http_request req;
  return ocpp_http_parse(text, strlen(text), 8192, &req);
}

Test(errors, http_failures_have_their_own_codes)
{
  cr_assert_eq(parse_text("POST /CP1 HTTP/1.1\r\n\r\n"), OCPP_EMETHOD);
  cr_assert_eq(parse_text("GET /CP1 HTTP/1.0\r\n\r\n"), OCPP_EVERSION);
  cr_assert_eq(parse_text("GET /CP1\r\n\r\n"), OCPP_EHTTP);
  cr_assert_eq(parse_text("GET /CP1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
               OCPP_EHTTP);
  cr_assert_eq(parse_text("GET /CP1 HTTP/1.1\r\n"), OCPP_HTTP_INCOMPLETE);
}

Test(errors, handshake_helpers_have_their_own_codes)
{
  char out[64], user[16], pass[16];
  cr_assert_eq(ocpp_http_identity("/", out, sizeof out), OCPP_EIDENTITY);
  cr_assert_eq(ocpp_http_identity("/CP%2F1", out, sizeof out), OCPP_EIDENTITY);
  cr_assert_eq(ocpp_ws_accept("short", out), OCPP_EWSKEY);
  cr_assert_eq(ocpp_http_basic_auth("Basic !!!!", user, sizeof user, pass,
                                    sizeof pass), OCPP_EAUTH);
  cr_assert_eq(ocpp_http_basic_auth("Bearer abc", user, sizeof user, pass,
                                    sizeof pass), OCPP_EAUTH);
}

Test(errors, bad_timestamps_are_etime)
{
  time_t t;
  cr_assert_eq(ocpp_time_parse("yesterday", &t), OCPP_ETIME);
  cr_assert_eq(ocpp_time_parse("2023-02-29T00:00:00Z", &t), OCPP_ETIME);
  json_t *v = load("{\"timestamp\":\"soon\",\"sampledValue\":[]}");
  ocpp_meter_sample s;
  cr_assert_eq(ocpp_meter_parse(v, &s), OCPP_ETIME);
  json_decref(v);
}

Test(errors, unknown_enumeration_names_are_enoent)
{
  ocpp_cp_status st;
  ocpp_cp_error er;
  cr_assert_eq(ocpp_cp_status_parse("Sleeping", &st), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_error_parse("Gremlins", &er), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_status_parse("Available", NULL), OCPP_EINVAL);
}

Test(errors, unrepairable_violation_is_enorepair)
{
  /* an idTag over 20 characters is never cut */
  json_t *p = load("{\"idTag\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"}");
  ocpp_schema_fault fault;
  cr_assert_eq(ocpp_schema_validate("Authorize", OCPP_SCHEMA_REQUEST, p,
                                    &fault), OCPP_ESCHEMA);
  unsigned notes = 0;
  char what[160];
  cr_assert_eq(ocpp_lenient_repair("Authorize", OCPP_SCHEMA_REQUEST, p, &fault,
                                   &notes, what, sizeof what), OCPP_ENOREPAIR);
  cr_assert_eq(ocpp_lenient_repair("Authorize", OCPP_SCHEMA_REQUEST, p, NULL,
                                   &notes, what, sizeof what), OCPP_EINVAL);
  json_decref(p);
}

Test(errors, tls_engine_needs_a_context)
{
  static const ocpp_tls_io io = {0};
  ocpp_tls *t = NULL;
  cr_assert_eq(ocpp_tls_create(NULL, &io, NULL, &t), OCPP_EINVAL);
  cr_assert_null(t);
  cr_assert_eq(ocpp_tls_write(NULL, "x", 1), OCPP_EINVAL);
}
