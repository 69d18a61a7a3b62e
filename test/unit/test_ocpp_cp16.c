/* The charge point role of the session engine, driven without sockets: a
 * fake clock and a send hook that keeps every frame. Each test plays the
 * central system and checks the exact frames the role sends: the boot on
 * every connection, its retries, the heartbeat at the accepted interval,
 * the registration reported to the owner, and the central system's CALLs
 * handed to the owner. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/session.h"

#define MAX_FRAMES 32
#define T0_MONO 100000

static struct {
  ocpp_session *s;
  ocpp_clock now;
  json_t *frames[MAX_FRAMES];
  int n_frames;
  int registered, unregistered;
  char call_action[32];
} T;

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  json_t *j = json_loadb(text, len, 0, NULL);
  cr_assert_not_null(j, "sent frame is not JSON: %s", text);
  cr_assert_lt(T.n_frames, MAX_FRAMES);
  T.frames[T.n_frames++] = j;
  return 0;
}

static void on_registered(void *ud, bool registered)
{
  (void)ud;
  if (registered)
    T.registered++;
  else
    T.unregistered++;
}

static json_t *on_call(void *ud, const char *action, const json_t *payload,
                       const char **error_code)
{
  (void)ud;
  (void)payload;
  snprintf(T.call_action, sizeof T.call_action, "%s", action);
  if (strcmp(action, "Reset") == 0)
    return json_pack("{s:s}", "status", "Rejected");
  *error_code = "NotSupported";
  return NULL;
}

static void setup(void)
{
  memset(&T, 0, sizeof T);
  T.now = (ocpp_clock){.mono_ms = T0_MONO, .wall = 1795000000};
  ocpp_session_config cfg = {
    .send = on_send, .call = on_call, .registered = on_registered,
    .log_id = "garage", .call_timeout = 30,
  };
  cr_assert_eq(ocpp_session_create(&ocpp__role_cp16, &cfg, NULL, &T.s), OCPP_OK);
}

static void teardown(void)
{
  ocpp_session_destroy(T.s);
  for (int i = 0; i < T.n_frames; i++)
    json_decref(T.frames[i]);
}

TestSuite(cp16, .init = setup, .fini = teardown);

static const ocpp_cp16_boot zaptec = {"Zaptec", "Go", "ZCS000143", "2.1.0"};

static json_t *last(void)
{
  cr_assert_gt(T.n_frames, 0);
  return T.frames[T.n_frames - 1];
}

/* The last frame is a CALL of action; returns its payload. */
static json_t *expect_call(const char *action)
{
  json_t *f = last();
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 2);
  cr_assert_str_eq(json_string_value(json_array_get(f, 2)), action);
  return json_array_get(f, 3);
}

static void answer(const char *payload)
{
  json_t *f = last();
  char text[512];
  snprintf(text, sizeof text, "[3,\"%s\",%s]",
           json_string_value(json_array_get(f, 1)), payload);
  ocpp_session_recv(T.s, text, strlen(text), T.now);
}

static void advance_to(uint64_t mono)
{
  T.now.mono_ms = mono;
  T.now.wall += 1;
  ocpp_session_tick(T.s, T.now);
}

/* Opens with the identity and answers the boot with status and interval. */
static void open_and_answer(const char *status, int interval)
{
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, &zaptec, T.now), OCPP_OK);
  ocpp_session_open(T.s, T.now);
  expect_call("BootNotification");
  char conf[128];
  snprintf(conf, sizeof conf,
           "{\"status\":\"%s\",\"currentTime\":\"2026-12-04T18:00:00Z\","
           "\"interval\":%d}", status, interval);
  answer(conf);
}

static void open_and_accept(int interval)
{
  open_and_answer("Accepted", interval);
}

Test(cp16, boot_carries_the_chargers_identity_on_open)
{
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, &zaptec, T.now), OCPP_OK);
  cr_assert_eq(T.n_frames, 0, "nothing is sent while closed");
  ocpp_session_open(T.s, T.now);
  cr_assert_eq(T.n_frames, 1);
  json_t *p = expect_call("BootNotification");
  cr_assert_str_eq(json_string_value(json_object_get(p, "chargePointVendor")), "Zaptec");
  cr_assert_str_eq(json_string_value(json_object_get(p, "chargePointModel")), "Go");
  cr_assert_str_eq(json_string_value(json_object_get(p, "chargePointSerialNumber")), "ZCS000143");
  cr_assert_str_eq(json_string_value(json_object_get(p, "firmwareVersion")), "2.1.0");
  cr_assert_eq(json_object_size(p), 4);
  cr_assert_not(ocpp_session_cp16_registered(T.s));
}

Test(cp16, without_identity_nothing_is_sent_until_it_is_given)
{
  ocpp_session_open(T.s, T.now);
  cr_assert_eq(T.n_frames, 0);
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
  static const ocpp_cp16_boot bare = {"ABB", "Terra AC", NULL, ""};
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, &bare, T.now), OCPP_OK);
  json_t *p = expect_call("BootNotification");
  cr_assert_eq(json_object_size(p), 2, "absent serial and firmware are left out");
}

Test(cp16, accepted_boot_registers_and_heartbeats_at_the_interval)
{
  open_and_accept(7);
  cr_assert_eq(T.registered, 1);
  cr_assert(ocpp_session_cp16_registered(T.s));
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 7000);
  int before = T.n_frames;
  advance_to(T0_MONO + 6999);
  cr_assert_eq(T.n_frames, before);
  advance_to(T0_MONO + 7000);
  cr_assert_eq(T.n_frames, before + 1);
  json_t *p = expect_call("Heartbeat");
  cr_assert_eq(json_object_size(p), 0);
  answer("{\"currentTime\":\"2026-12-04T18:00:07Z\"}");
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 14000);
  advance_to(T0_MONO + 14000);
  expect_call("Heartbeat");
}

Test(cp16, pending_boot_is_repeated_after_the_interval_and_does_not_register)
{
  open_and_answer("Pending", 20);
  cr_assert_eq(T.registered, 0);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 20000);
  advance_to(T0_MONO + 20000);
  expect_call("BootNotification");
  answer("{\"status\":\"Accepted\",\"currentTime\":\"2026-12-04T18:00:20Z\",\"interval\":0}");
  cr_assert_eq(T.registered, 1);
  /* interval 0: the default heartbeat */
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 20000 + 300000);
}

Test(cp16, rejected_boot_is_repeated_and_never_heartbeats)
{
  open_and_answer("Rejected", 30);
  advance_to(T0_MONO + 30000);
  expect_call("BootNotification");
  cr_assert_eq(T.registered, 0);
}

Test(cp16, unanswered_boot_is_repeated_after_a_minute)
{
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, &zaptec, T.now), OCPP_OK);
  ocpp_session_open(T.s, T.now);
  advance_to(T0_MONO + 30000); /* call_timeout */
  cr_assert_eq(T.n_frames, 1);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 90000);
  advance_to(T0_MONO + 90000);
  cr_assert_eq(T.n_frames, 2);
  expect_call("BootNotification");
}

Test(cp16, invalid_boot_answer_does_not_register)
{
  open_and_answer("Maybe", 5);
  cr_assert_eq(T.registered, 0);
  cr_assert_eq(ocpp_session_next_deadline(T.s), T0_MONO + 60000);
}

Test(cp16, every_connection_boots_again_and_close_unregisters)
{
  open_and_accept(60);
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(T.unregistered, 1);
  cr_assert_not(ocpp_session_cp16_registered(T.s));
  cr_assert_eq(ocpp_session_next_deadline(T.s), 0);
  int before = T.n_frames;
  ocpp_session_open(T.s, T.now);
  cr_assert_eq(T.n_frames, before + 1);
  expect_call("BootNotification");
  cr_assert_eq(T.registered, 1, "not registered again before the answer");
}

Test(cp16, long_identity_is_cut_to_the_schema_on_a_character_boundary)
{
  /* 19 ASCII bytes and a two-byte character: 21 bytes, over the 20 */
  static const ocpp_cp16_boot longer = {"ABCDEFGHIJKLMNOPQRSä", "", "", ""};
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, &longer, T.now), OCPP_OK);
  ocpp_session_open(T.s, T.now);
  json_t *p = expect_call("BootNotification");
  cr_assert_str_eq(json_string_value(json_object_get(p, "chargePointVendor")),
                   "ABCDEFGHIJKLMNOPQRS");
  cr_assert_str_eq(json_string_value(json_object_get(p, "chargePointModel")), "unknown");
}

Test(cp16, central_system_calls_reach_the_owner)
{
  open_and_accept(60);
  static const char reset[] = "[2,\"cs-1\",\"Reset\",{\"type\":\"Hard\"}]";
  ocpp_session_recv(T.s, reset, strlen(reset), T.now);
  cr_assert_str_eq(T.call_action, "Reset");
  json_t *f = last();
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 3);
  cr_assert_str_eq(json_string_value(json_array_get(f, 1)), "cs-1");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 2), "status")),
                   "Rejected");
  static const char unlock[] = "[2,\"cs-2\",\"UnlockConnector\",{\"connectorId\":1}]";
  ocpp_session_recv(T.s, unlock, strlen(unlock), T.now);
  f = last();
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 4);
  cr_assert_str_eq(json_string_value(json_array_get(f, 2)), "NotSupported");
}

Test(cp16, invalid_or_unknown_calls_do_not_reach_the_owner)
{
  open_and_accept(60);
  static const char bad[] = "[2,\"cs-3\",\"Reset\",{\"type\":\"Sideways\"}]";
  ocpp_session_recv(T.s, bad, strlen(bad), T.now);
  cr_assert_str_eq(T.call_action, "");
  cr_assert_eq(json_integer_value(json_array_get(last(), 0)), 4);
  static const char unknown[] = "[2,\"cs-4\",\"SelfDestruct\",{}]";
  ocpp_session_recv(T.s, unknown, strlen(unknown), T.now);
  cr_assert_str_eq(T.call_action, "");
  cr_assert_str_eq(json_string_value(json_array_get(last(), 2)), "NotImplemented");
}

Test(cp16, set_boot_rejects_null_and_the_central_system_role)
{
  cr_assert_eq(ocpp_session_cp16_set_boot(NULL, &zaptec, T.now), OCPP_EINVAL);
  cr_assert_eq(ocpp_session_cp16_set_boot(T.s, NULL, T.now), OCPP_EINVAL);
  cr_assert_not(ocpp_session_cp16_registered(NULL));
}
