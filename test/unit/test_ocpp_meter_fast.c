/* The MeterValues fast path (ocpp/meter_fast.c) against the general path:
 * a corpus of valid frames it must take and read exactly as jansson, the
 * schema and ocpp_meter_parse do, and of frames it must decline. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/charger.h"
#include "ocpp/meter_fast.h"
#include "ocpp/session.h"
#include "test/meter_fast_diff.h"

#define TS "\"timestamp\":\"2026-11-22T10:00:00Z\""
#define SV1 "\"sampledValue\":[{\"value\":\"1234.5\"}]"
#define MV1 "{" TS "," SV1 "}"
#define CALL(payload) "[2,\"m1\",\"MeterValues\"," payload "]"
#define P(...) CALL("{\"connectorId\":1,\"meterValue\":[" __VA_ARGS__ "]}")
/* one meterValue with one sampledValue of the given members */
#define SV(members) P("{" TS ",\"sampledValue\":[{" members "}]}")

/* The three-phase frame of the benchmark's large MeterValues. */
#define THREE_PHASE                                                          \
  "[2,\"1042\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":17,"     \
  "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00.123Z\","             \
  "\"sampledValue\":["                                                       \
  "{\"value\":\"13013.2\",\"context\":\"Sample.Periodic\",\"measurand\":"    \
  "\"Energy.Active.Import.Register\",\"location\":\"Outlet\",\"unit\":"      \
  "\"Wh\"},"                                                                 \
  "{\"value\":\"15.9\",\"context\":\"Sample.Periodic\",\"measurand\":"       \
  "\"Current.Import\",\"phase\":\"L1\",\"location\":\"Outlet\",\"unit\":"    \
  "\"A\"},"                                                                  \
  "{\"value\":\"16.1\",\"context\":\"Sample.Periodic\",\"measurand\":"       \
  "\"Current.Import\",\"phase\":\"L2\",\"location\":\"Outlet\",\"unit\":"    \
  "\"A\"},"                                                                  \
  "{\"value\":\"16.0\",\"context\":\"Sample.Periodic\",\"measurand\":"       \
  "\"Current.Import\",\"phase\":\"L3\",\"location\":\"Outlet\",\"unit\":"    \
  "\"A\"},"                                                                  \
  "{\"value\":\"230.1\",\"context\":\"Sample.Periodic\",\"measurand\":"      \
  "\"Voltage\",\"phase\":\"L1-N\",\"location\":\"Outlet\",\"unit\":\"V\"},"  \
  "{\"value\":\"229.8\",\"context\":\"Sample.Periodic\",\"measurand\":"      \
  "\"Voltage\",\"phase\":\"L2-N\",\"location\":\"Outlet\",\"unit\":\"V\"},"  \
  "{\"value\":\"231.0\",\"context\":\"Sample.Periodic\",\"measurand\":"      \
  "\"Voltage\",\"phase\":\"L3-N\",\"location\":\"Outlet\",\"unit\":\"V\"},"  \
  "{\"value\":\"11.04\",\"context\":\"Sample.Periodic\",\"measurand\":"      \
  "\"Power.Active.Import\",\"location\":\"Outlet\",\"unit\":\"kW\"},"        \
  "{\"value\":\"32\",\"context\":\"Sample.Periodic\",\"measurand\":"         \
  "\"Current.Offered\",\"location\":\"Outlet\",\"unit\":\"A\"}]}]}]"

/* Valid MeterValues CALLs of every shape: the fast path takes them all. */
static const char *const valid[] = {
    P(MV1),
    THREE_PHASE,
    CALL("{\"connectorId\":0,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":5,\"meterValue\":[" MV1 "]}"),
    CALL("{\"meterValue\":[" MV1 "],\"transactionId\":-3,\"connectorId\":2}"),
    CALL("{\"connectorId\":1,\"transactionId\":0,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":4294967297,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"meterValue\":[]}"),
    P("{" TS ",\"sampledValue\":[]}"),
    P("{" SV1 "," TS "}"),
    P(MV1 "," MV1 "," MV1),
    P(MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 ","
      MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1),
    /* connectorId the handler refuses or ignores: still read */
    CALL("{\"connectorId\":-1,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":17,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":2147483648,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":-0,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":123456789012345678,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":-123456789012345678,\"meterValue\":[" MV1 "]}"),
    /* ids */
    "[2,\"\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"123456789012345678901234567890123456\",\"MeterValues\","
    "{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"6f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\",\"MeterValues\","
    "{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"a b/c:d'!\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    /* whitespace as JSON has it */
    " [ 2 , \"m1\" ,\t\"MeterValues\" ,\r\n{ \"connectorId\" : 1 , \"meterValue\""
    " : [ { \"timestamp\" : \"2026-11-22T10:00:00Z\" , \"sampledValue\" : [ {"
    " \"value\" : \"1\" } ] } ] } ] \n",
    /* timestamps */
    P("{\"timestamp\":\"2026-11-22T10:00:00.5+02:00\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22t10:00:00z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00-11:30\"," SV1 "}"),
    P("{\"timestamp\":\"2024-02-29T23:59:60Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00.123456789Z\"," SV1 "}"),
    /* valid for the schema, not for ocpp_time_parse: an element not read */
    P("{\"timestamp\":\"2026-11-22T10:00:00.1234567890Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00.1234567890Z\"," SV1 "}," MV1),
    /* sampledValue members */
    SV("\"value\":\"1\",\"context\":\"Sample.Clock\",\"format\":\"Raw\","
       "\"measurand\":\"Energy.Active.Import.Register\",\"phase\":\"L1\","
       "\"location\":\"Outlet\",\"unit\":\"kWh\""),
    SV("\"unit\":\"kWh\",\"location\":\"Inlet\",\"value\":\"2.5\""),
    SV("\"value\":\"1\",\"format\":\"SignedData\""),
    SV("\"value\":\"1\",\"measurand\":\"Temperature\",\"unit\":\"Celsius\""),
    SV("\"value\":\"1\",\"measurand\":\"Power.Active.Import\",\"unit\":\"Wh\""),
    SV("\"value\":\"1\",\"location\":\"EV\""),
    SV("\"value\":\"1\",\"phase\":\"N\""),
    SV("\"value\":\"\""),
    SV("\"value\":\"abc\""),
    SV("\"value\":\" 12 \""),
    SV("\"value\":\"1e3\""),
    SV("\"value\":\"-0\""),
    SV("\"value\":\"0x10\""),
    SV("\"value\":\"inf\""),
    SV("\"value\":\"1e999\""),
    SV("\"value\":\"+.5\""),
    SV("\"value\":\"123456789012345678901234567890123456789012345678901234567890123\""),
    P("{" TS ",\"sampledValue\":[{\"value\":\"1\",\"context\":\"Trigger\"},"
      "{\"value\":\"2\",\"context\":\"Other\"},{\"value\":\"3\"}]}"),
    P("{" TS ",\"sampledValue\":[{\"value\":\"1\",\"measurand\":\"Voltage\","
      "\"phase\":\"L1\"},{\"value\":\"x\",\"measurand\":\"Voltage\",\"phase\":"
      "\"L2\"},{\"value\":\"3\",\"measurand\":\"Voltage\",\"phase\":\"L2\"}]}"),
    P("{" TS ",\"sampledValue\":[{\"value\":\"10\",\"location\":\"Inlet\"},"
      "{\"value\":\"11\",\"location\":\"Outlet\"},{\"value\":\"12\"}]}"),
    P("{" TS ",\"sampledValue\":[{\"value\":\"7\",\"measurand\":\"Current.Import\","
      "\"phase\":\"L2\",\"location\":\"Inlet\"}]}"),
};

/* Frames the fast path must decline, valid or not. */
static const char *const declined[] = {
    /* other messages */
    "[2,\"m1\",\"Heartbeat\",{}]",
    "[2,\"m1\",\"metervalues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues \",{\"connectorId\":1,\"meterValue\":[]}]",
    "[3,\"m1\",{}]",
    "[4,\"m1\",\"GenericError\",\"\",{}]",
    "[2.0,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2e0,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[02,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[\"2\",\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,1,\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"1234567890123456789012345678901234567\",\"MeterValues\","
    "{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\"]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]},{}]",
    "[2,\"m1\",\"MeterValues\",[]]",
    "[2,\"m1\",\"MeterValues\",null]",
    "{\"connectorId\":1,\"meterValue\":[]}",
    "[]",
    "",
    " ",
    "2",
    /* the payload's schema */
    CALL("{\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1}"),
    CALL("{}"),
    CALL("{\"connectorId\":\"1\",\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1.0,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1e0,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":null,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":true,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":[1],\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":null,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":\"5\",\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":5.5,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"meterValue\":{}}"),
    CALL("{\"connectorId\":1,\"meterValue\":\"x\"}"),
    CALL("{\"connectorId\":1,\"meterValue\":[1]}"),
    CALL("{\"connectorId\":1,\"meterValue\":[[]]}"),
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "],\"extra\":1}"),
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "],\"\":1}"),
    P("{" TS "}"),
    P("{" SV1 "}"),
    P("{" TS "," SV1 ",\"extra\":{}}"),
    P("{\"timestamp\":1," SV1 "}"),
    P("{\"timestamp\":null," SV1 "}"),
    P("{" TS ",\"sampledValue\":{}}"),
    P("{" TS ",\"sampledValue\":[1]}"),
    P("{" TS ",\"sampledValue\":[[]]}"),
    P("{" TS ",\"sampledValue\":[null]}"),
    SV("\"context\":\"Sample.Clock\""),
    SV(""),
    SV("\"value\":1"),
    SV("\"value\":1.5"),
    SV("\"value\":null"),
    SV("\"value\":[\"1\"]"),
    SV("\"value\":{}"),
    SV("\"value\":\"1\",\"extra\":\"x\""),
    SV("\"value\":\"1\",\"Value\":\"x\""),
    SV("\"value\":\"1\",\"context\":\"Sample.Foo\""),
    SV("\"value\":\"1\",\"context\":\"\""),
    SV("\"value\":\"1\",\"context\":1"),
    SV("\"value\":\"1\",\"format\":\"raw\""),
    SV("\"value\":\"1\",\"measurand\":\"Energy\""),
    SV("\"value\":\"1\",\"phase\":\"L4\""),
    SV("\"value\":\"1\",\"location\":\"outlet\""),
    SV("\"value\":\"1\",\"unit\":\"kwh\""),
    SV("\"value\":\"1\",\"unit\":\"Watt\""),
    SV("\"value\":\"1\",\"unit\":null"),
    /* dates: broken, or only what a lenient repair takes */
    P("{\"timestamp\":\"2026-02-30T10:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2025-02-29T10:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-13-01T10:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T24:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:60:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:61Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22 10:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00+0200\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00+02\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00+24:00\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00.Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22\"," SV1 "}"),
    P("{\"timestamp\":\"\"," SV1 "}"),
    P("{\"timestamp\":\" 2026-11-22T10:00:00Z\"," SV1 "}"),
    P("{\"timestamp\":\"2026-11-22T10:00:00Z \"," SV1 "}"),
    P("{\"timestamp\":\"+2026-11-22T10:00:00Z\"," SV1 "}"),
    /* valid, but longer than the fast path keeps */
    P("{\"timestamp\":\"2026-11-22T10:00:00.12345678901234567890123456789012345678901234567890Z\"," SV1 "}"),
    SV("\"value\":\"1234567890123456789012345678901234567890123456789012345678901234\""),
    /* UTF-8, broken or not, and escapes: the general path's */
    "[2,\"\xc3\xa9\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\xff\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\xc0\x80\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\xed\xa0\x80\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\xf4\x90\x80\x80\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\xe2\x82\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    SV("\"value\":\"1\xe2\x80\xaf\""),
    SV("\"value\":\"\xc3\""),
    "[2,\"\\u0041\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\\ud800\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"\\u0000\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"Meter\\u0056alues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",{\"connector\\u0049d\":1,\"meterValue\":[]}]",
    SV("\"value\":\"\\/\""),
    SV("\"value\":\"1\",\"unit\":\"W\\u0068\""),
    /* control characters */
    "[2,\"a\tb\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"a\nb\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    SV("\"value\":\"1\t\""),
    "[2,\"m1\",\"MeterValues\",\f{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",\v{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]\f",
    /* big numbers */
    CALL("{\"connectorId\":99999999999999999999,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":9223372036854775807,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":-9223372036854775808,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":1234567890123456789,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":01,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":-,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1e400,\"meterValue\":[" MV1 "]}"),
    /* duplicate keys */
    CALL("{\"connectorId\":1,\"connectorId\":2,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"transactionId\":1,\"transactionId\":2,\"meterValue\":[" MV1 "]}"),
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "],\"meterValue\":[]}"),
    P("{" TS "," TS "," SV1 "}"),
    P("{" TS "," SV1 "," SV1 "}"),
    SV("\"value\":\"1\",\"value\":\"2\""),
    SV("\"value\":\"1\",\"unit\":\"W\",\"unit\":\"W\""),
    /* more meterValue elements than the buffer */
    P(MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 ","
      MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1 "," MV1),
    /* not JSON */
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}] x",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}][]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[],}]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[,]}]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1 \"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",{connectorId:1,\"meterValue\":[]}]",
    "[2,'m1',\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",/**/{\"connectorId\":1,\"meterValue\":[]}]",
    "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]//",
    /* unfinished tokens after the frame */
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "\",{",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "\"",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") " \"]",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") " 1",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "-",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "t",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "nul",
    CALL("{\"connectorId\":1,\"meterValue\":[" MV1 "]}") "/",
    "\xef\xbb\xbf[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]",
};

static void expect_same(const char *text, size_t len) {
  mfd_result r = meter_fast_diff(text, len);
  cr_assert(r.fast, "declined: %.*s", (int)len, text);
  cr_assert(r.general, "general path refuses: %.*s", (int)len, text);
  cr_assert_null(r.diff, "%s differs: %.*s", r.diff ? r.diff : "", (int)len, text);
}

static void expect_declined(const char *text, size_t len) {
  mfd_result r = meter_fast_diff(text, len);
  cr_assert_null(r.diff, "%s: %.*s", r.diff ? r.diff : "", (int)len, text);
  cr_assert(!r.fast, "accepted: %.*s", (int)len, text);
}

Test(meter_fast, takes_every_valid_shape_and_reads_it_as_the_general_path) {
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
    expect_same(valid[i], strlen(valid[i]));
}

Test(meter_fast, declines_what_it_must_not_read) {
  for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
    expect_declined(declined[i], strlen(declined[i]));
}

Test(meter_fast, a_nul_byte_inside_is_declined) {
  static const char text[] = "[2,\"m\0\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[]}]";
  expect_declined(text, sizeof text - 1);
  expect_declined(text, sizeof text); /* with the terminator */
}

Test(meter_fast, every_prefix_of_a_valid_frame_is_declined) {
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    size_t len = strlen(valid[i]);
    for (size_t cut = 0; cut < len; cut++) {
      /* only trailing whitespace may go */
      bool blank_rest = strspn(valid[i] + cut, " \t\r\n") == len - cut;
      mfd_result r = meter_fast_diff(valid[i], cut);
      cr_assert_null(r.diff, "%s: %.*s", r.diff, (int)cut, valid[i]);
      if (!blank_rest) cr_assert(!r.fast, "accepted: %.*s", (int)cut, valid[i]);
    }
  }
}

/* Every single-byte deletion and replacement of the three-phase frame:
 * whatever the fast path takes, it reads as the general path does. */
Test(meter_fast, edits_of_a_frame_keep_the_invariant) {
  static const char base[] = THREE_PHASE;
  static const char bytes[] = "\"[]{},:\\ 0123456789.-eEZTz\x01\x80\xff";
  char buf[sizeof base];
  size_t len = sizeof base - 1;
  int taken = 0;
  for (size_t at = 0; at < len; at++) {
    memcpy(buf, base, at);
    memcpy(buf + at, base + at + 1, len - at - 1);
    mfd_result r = meter_fast_diff(buf, len - 1);
    cr_assert_null(r.diff, "%s: %.*s", r.diff, (int)len - 1, buf);
    taken += r.fast;
    for (size_t b = 0; b < sizeof bytes - 1; b++) {
      memcpy(buf, base, len);
      buf[at] = bytes[b];
      r = meter_fast_diff(buf, len);
      cr_assert_null(r.diff, "%s: %.*s", r.diff, (int)len, buf);
      taken += r.fast;
    }
  }
  cr_assert_gt(taken, 0);
}

Test(meter_fast, deep_nesting_is_declined_without_recursion) {
  size_t depth = 100000;
  char *text = malloc(2 * depth + 64);
  cr_assert_not_null(text);
  size_t n = (size_t)sprintf(text, "[2,\"m1\",\"MeterValues\",{\"connectorId\":");
  for (size_t i = 0; i < depth; i++) text[n++] = '[';
  for (size_t i = 0; i < depth; i++) text[n++] = ']';
  n += (size_t)sprintf(text + n, "}]");
  expect_declined(text, n);
  n = 0;
  for (size_t i = 0; i < depth; i++) text[n++] = '[';
  for (size_t i = 0; i < depth; i++) text[n++] = ']';
  expect_declined(text, n);
  free(text);
}

Test(meter_fast, many_sampled_values_need_no_buffer) {
  size_t count = 2000;
  char *text = malloc(count * 64 + 256);
  cr_assert_not_null(text);
  size_t n = (size_t)sprintf(text, "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,"
                                   "\"meterValue\":[{" TS ",\"sampledValue\":[");
  for (size_t i = 0; i < count; i++)
    n += (size_t)sprintf(text + n, "%s{\"value\":\"%zu\",\"phase\":\"L%zu\"}",
                         i ? "," : "", i, i % 3 + 1);
  n += (size_t)sprintf(text + n, "]}]}]");
  expect_same(text, n);
  free(text);
}

Test(meter_fast, reads_the_three_phase_frame) {
  ocpp_meter_fast mv;
  cr_assert(ocpp_meter_fast_parse(THREE_PHASE, strlen(THREE_PHASE), &mv));
  cr_assert_str_eq(mv.id, "1042");
  cr_assert_eq(mv.connector_id, 1);
  cr_assert(mv.has_transaction_id);
  cr_assert_eq(mv.transaction_id, 17);
  cr_assert_eq(mv.n_values, 1);
  const ocpp_meter_sample *m = &mv.values[0].sample;
  cr_assert(mv.values[0].ok);
  cr_assert_eq(m->timestamp, (time_t)1795341600);
  cr_assert_str_eq(m->context, "Sample.Periodic");
  cr_assert(m->has_energy);
  cr_assert_float_eq(m->energy_wh, 13013.2, 1e-9);
  cr_assert_float_eq(m->current_a, 16.1, 1e-9);
  cr_assert_float_eq(m->power_w, 11040, 1e-9);
  cr_assert_float_eq(m->voltage_v, (230.1 + 229.8 + 231.0) / 3, 1e-9);
  cr_assert_float_eq(m->offered_a, 32, 1e-9);
  cr_assert_eq(m->ignored, 0);
}

/* Every value of each enumeration of the schema is taken; the same value
 * with one letter changed is not. The schema table is checked against the
 * schema files by test_ocpp_schema. */
Test(meter_fast, takes_exactly_the_schema_enumerations) {
  static const char *const members[] = {"context", "format", "measurand",
                                        "phase", "location", "unit"};
  for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
    char path[64];
    snprintf(path, sizeof path, "meterValue[].sampledValue[].%s", members[i]);
    ocpp_schema_node_info info;
    cr_assert_eq(ocpp_schema_describe("MeterValues", OCPP_SCHEMA_REQUEST, path,
                                      &info), 0, "%s", path);
    cr_assert_not_null(info.enum_values, "%s", path);
    for (const char *const *v = info.enum_values; *v; v++) {
      char text[512];
      int n = snprintf(text, sizeof text,
                       P("{" TS ",\"sampledValue\":[{\"value\":\"1\",\"%s\":\"%s\"}]}"),
                       members[i], *v);
      expect_same(text, (size_t)n);
      char changed[64];
      snprintf(changed, sizeof changed, "%s", *v);
      changed[strlen(changed) - 1] ^= 0x20;
      n = snprintf(text, sizeof text,
                   P("{" TS ",\"sampledValue\":[{\"value\":\"1\",\"%s\":\"%s\"}]}"),
                   members[i], changed);
      expect_declined(text, (size_t)n);
      n = snprintf(text, sizeof text,
                   P("{" TS ",\"sampledValue\":[{\"value\":\"1\",\"%s\":\"%sx\"}]}"),
                   members[i], *v);
      expect_declined(text, (size_t)n);
    }
  }
}

/* The shape the state machine follows is the schema's. */
Test(meter_fast, follows_the_shape_of_the_schema) {
  static const struct {
    const char *path, *type;
    bool closed, required;
    size_t props;
  } nodes[] = {
      {"", "object", true, false, 3},
      {"connectorId", "integer", false, true, 0},
      {"transactionId", "integer", false, false, 0},
      {"meterValue", "array", false, true, 0},
      {"meterValue[]", "object", true, false, 2},
      {"meterValue[].timestamp", "string", false, true, 0},
      {"meterValue[].sampledValue", "array", false, true, 0},
      {"meterValue[].sampledValue[]", "object", true, false, 7},
      {"meterValue[].sampledValue[].value", "string", false, true, 0},
  };
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    ocpp_schema_node_info info;
    cr_assert_eq(ocpp_schema_describe("MeterValues", OCPP_SCHEMA_REQUEST,
                                      nodes[i].path, &info), 0);
    cr_assert_str_eq(info.type, nodes[i].type, "%s", nodes[i].path);
    cr_assert_eq(info.closed, nodes[i].closed, "%s", nodes[i].path);
    cr_assert_eq(info.required, nodes[i].required, "%s", nodes[i].path);
    cr_assert_eq(info.property_count, nodes[i].props, "%s", nodes[i].path);
    cr_assert_eq(info.min_items, 0, "%s", nodes[i].path);
    cr_assert_eq(info.max_length, 0, "%s", nodes[i].path);
    cr_assert_eq(info.multiple_of, 0, "%s", nodes[i].path);
    cr_assert_eq(info.enum_values, NULL, "%s", nodes[i].path);
  }
  ocpp_schema_node_info ts;
  cr_assert_eq(ocpp_schema_describe("MeterValues", OCPP_SCHEMA_REQUEST,
                                    "meterValue[].timestamp", &ts), 0);
  cr_assert_str_eq(ts.format, "date-time");
}

/* ---- the session: the same frame through either path ------------------- */

typedef struct {
  char text[16384];
  size_t len;
} transcript;

static void note(transcript *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(transcript *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
  va_end(ap);
  cr_assert(n >= 0 && (size_t)n < sizeof t->text - t->len, "transcript full");
  t->len += (size_t)n;
}

static int rec_send(void *ud, const char *text, size_t len) {
  note(ud, "send %.*s\n", (int)len, text);
  return 0;
}

static void rec_log(void *ud, ocpp_log_level level, const char *id,
                    const char *line) {
  note(ud, "log %d %s %s\n", (int)level, id, line);
}

static void rec_event(void *ud, const ocpp_event *ev) {
  note(ud, "event %d %s c%d t%lld", (int)ev->type, ev->charger_id,
       ev->connector, (long long)ev->timestamp);
  if (ev->type == OCPP_EV_METER) {
#define m (&ev->meter)
    note(ud, " tx%d %s e%d:%a i%d:%a [%a %a %a] p%d:%a u%d:%a o%d:%a s%d:%a",
         (int)m->transaction_id, m->context, m->has_energy, m->energy_wh,
         m->has_current, m->current_a, m->current_phase_a[0],
         m->current_phase_a[1], m->current_phase_a[2], m->has_power,
         m->power_w, m->has_voltage, m->voltage_v, m->has_offered,
         m->offered_a, m->has_session_energy, m->session_energy_wh);
#undef m
  } else if (ev->type == OCPP_EV_TX_STARTED) {
    note(ud, " tx%d %s %a r%d", (int)ev->tx_started.transaction_id,
         ev->tx_started.id_tag, ev->tx_started.meter_start_wh,
         ev->tx_started.recovered);
  }
  note(ud, "\n");
}

/* Feeds frames to a new central system session and records what it does. */
static void run_session(const char *const *frames, size_t n, transcript *t,
                        ocpp_cp *cp) {
  memset(t, 0, sizeof *t);
  memset(cp, 0, sizeof *cp);
  ocpp_session_config cfg = {
      .send = rec_send, .log = rec_log, .event = rec_event, .user_data = t,
      .log_id = "cp1"};
  ocpp_session *s;
  cr_assert_eq(ocpp_session_create(&ocpp__role_cs16, &cfg, cp, &s), OCPP_OK);
  ocpp_clock now = {.mono_ms = 1000, .wall = 1795341000};
  ocpp_session_open(s, now);
  for (size_t i = 0; i < n; i++) {
    now.mono_ms += 10;
    now.wall += 1;
    ocpp_session_recv(s, frames[i], strlen(frames[i]), now);
  }
  ocpp_session_destroy(s);
}

/* The frame with an escape in its id: the same CALL for jansson, declined
 * by the fast path. */
static char *general_twin(const char *frame) {
  const char *id = strchr(frame, '"') + 1; /* the first string */
  char *twin = malloc(strlen(frame) + 8);
  cr_assert_not_null(twin);
  size_t head = (size_t)(id - frame);
  memcpy(twin, frame, head);
  if (*id == '"') {
    strcpy(twin + head, frame + head); /* empty id: escape the action */
    char *a = strstr(twin, "\"MeterValues\"");
    memmove(a + 6, a + 1, strlen(a + 1) + 1);
    memcpy(a + 1, "\\u004d", 6);
    return twin;
  }
  sprintf(twin + head, "\\u%04x%s", (unsigned)(unsigned char)*id, id + 1);
  return twin;
}

static void expect_same_session(const char *const *frames, size_t n) {
  static transcript fast, general;
  static ocpp_cp cp_fast, cp_general;
  char *twins[32];
  cr_assert_leq(n, 32);
  for (size_t i = 0; i < n; i++) {
    twins[i] = general_twin(frames[i]);
    cr_assert(!ocpp_meter_fast_parse(twins[i], strlen(twins[i]),
                                     &(ocpp_meter_fast){0}));
  }
  run_session(frames, n, &fast, &cp_fast);
  run_session((const char *const *)twins, n, &general, &cp_general);
  cr_assert_str_eq(fast.text, general.text);
  cr_assert_eq(cp_fast.n_conn_state, cp_general.n_conn_state);
  if (cp_fast.n_conn_state > 0)
    cr_assert_eq(memcmp(cp_fast.conn_state, cp_general.conn_state,
                        (size_t)cp_fast.n_conn_state * sizeof cp_fast.conn_state[0]),
                 0);
  free(cp_fast.conn_state);
  free(cp_general.conn_state);
  for (size_t i = 0; i < n; i++) free(twins[i]);
}

Test(meter_fast_session, every_valid_frame_does_the_same_through_either_path) {
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
    expect_same_session(&valid[i], 1);
}

Test(meter_fast_session, a_running_transaction_is_recovered_the_same_way) {
  static const char *const frames[] = {
      CALL("{\"connectorId\":1,\"transactionId\":77,\"meterValue\":["
           "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":[{\"value\":"
           "\"5000\"}]}]}"),
      CALL("{\"connectorId\":1,\"transactionId\":77,\"meterValue\":["
           "{\"timestamp\":\"2026-11-22T10:01:00Z\",\"sampledValue\":[{\"value\":"
           "\"5100\"},{\"value\":\"7\",\"measurand\":\"Current.Import\"}]}]}"),
      CALL("{\"connectorId\":2,\"transactionId\":78,\"meterValue\":["
           "{\"timestamp\":\"2026-11-22T10:00:00.1234567890Z\",\"sampledValue\":"
           "[{\"value\":\"1\"}]},{\"timestamp\":\"2026-11-22T10:00:01Z\","
           "\"sampledValue\":[{\"value\":\"2\"}]}]}"),
      CALL("{\"connectorId\":-5,\"meterValue\":[]}"),
      CALL("{\"connectorId\":40,\"transactionId\":79,\"meterValue\":[" MV1 "]}"),
      THREE_PHASE,
  };
  expect_same_session(frames, sizeof frames / sizeof frames[0]);
}

Test(meter_fast_session, the_answer_is_the_constant_one) {
  static const char *const frames[] = {THREE_PHASE};
  static transcript t;
  static ocpp_cp cp;
  run_session(frames, 1, &t, &cp);
  cr_assert(strstr(t.text, "send [3,\"1042\",{}]\n") != NULL, "%s", t.text);
  cr_assert_eq(cp.conn_state[1].tx_id, 17);
  cr_assert_float_eq(cp.conn_state[1].energy_wh, 13013.2, 1e-9);
  free(cp.conn_state);
}

/* ---- the sample builder's decimals -------------------------------------- */

/* Short decimals are converted without strtod (codec.c); the result must be
 * strtod's, bit for bit, whatever the digits and the point. */
Test(meter_decimal, short_decimals_read_as_strtod_reads_them) {
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 200000; i++) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t r = x * 0x2545F4914F6CDD1Dull;
    char text[40], frame[256];
    int digits = 1 + (int)(r % 15);
    int point = (int)((r >> 8) % (uint64_t)(digits + 2)) - 1; /* -1: none */
    size_t n = 0;
    if (r & (1ull << 40)) text[n++] = (r & (1ull << 41)) ? '-' : '+';
    uint64_t d = r >> 16;
    for (int k = 0; k < digits; k++) {
      if (k == point) text[n++] = '.';
      text[n++] = (char)('0' + d % 10);
      d = d / 10 ? d / 10 : r >> (k + 3);
    }
    if (point == digits) text[n++] = '.';
    text[n] = '\0';
    snprintf(frame, sizeof frame,
             "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":"
             "[{\"value\":\"%s\"}]}", text);
    json_t *mv = json_loads(frame, 0, NULL);
    cr_assert_not_null(mv);
    ocpp_meter_sample m;
    cr_assert_eq(ocpp_meter_parse(mv, &m), 0);
    double want = strtod(text, NULL);
    cr_assert(m.has_energy, "%s", text);
    cr_assert_eq(memcmp(&m.energy_wh, &want, sizeof want), 0, "%s: %a, strtod %a",
                 text, m.energy_wh, want);
    json_decref(mv);
  }
}
