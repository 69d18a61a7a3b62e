/* The OCPP server on a real libuv loop over 127.0.0.1, with a small raw
 * WebSocket client written here: life cycle, command API return codes,
 * the fallbacks for chargers that reject calls, the queue cap and the
 * callbacks of calls lost with the connection. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "ocpp/internal.h"
#include "ocpp/ocpp.h"

#include "loopback.h"

#define WAIT_MS 3000

/* ---- fixture ------------------------------------------------------------ */

typedef struct {
  uv_loop_t loop;
  ocpp_server *srv;
  int port;
  char listen[32];
  bool closed;
  int events[OCPP_EV_REFUSED + 1];
} fixture;

static fixture fx;

static void on_event(void *ud, const ocpp_event *ev)
{
  fixture *f = ud;
  if ((unsigned)ev->type <= OCPP_EV_REFUSED)
    f->events[ev->type]++;
}

static void on_closed(void *ud)
{
  ((fixture *)ud)->closed = true;
}

static const char *const all_tags[] = {"*"};

static ocpp_charger_options charger(const char *id, int connectors)
{
  ocpp_charger_options o = {
    .id = id, .start_mode = OCPP_START_TAG, .tags = all_tags, .n_tags = 1,
    .remote_tag = "KNX", .n_connectors = connectors, .voltage = 230,
    .phases = 3,
  };
  return o;
}

static int start_server(int call_timeout)
{
  ocpp_charger_options cps[] = {charger("CP1", 1), charger("CP2", 2)};
  ocpp_server_options o = {.listen = fx.listen, .heartbeat_interval = 60,
                           .call_timeout = call_timeout};
  ocpp_callbacks cb = {.on_event = on_event};
  return ocpp_server_create(&fx.loop, &o, cps, 2, &cb, &fx, &fx.srv, NULL, 0);
}

static void setup(void)
{
  memset(&fx, 0, sizeof fx);
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  fx.port = free_port();
  snprintf(fx.listen, sizeof fx.listen, "127.0.0.1:%d", fx.port);
  cr_assert_eq(start_server(5), OCPP_OK);
}

static void run_until(bool *flag, int ms)
{
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (!*flag && uv_hrtime() < end) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void teardown(void)
{
  if (fx.srv) {
    ocpp_server_destroy(fx.srv, on_closed);
    run_until(&fx.closed, WAIT_MS);
    cr_assert(fx.closed, "server not closed");
  }
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&fx.loop), 0, "a handle was left open");
}

/* ---- raw client --------------------------------------------------------- */

typedef struct {
  int fd;
  unsigned char buf[1 << 17];
  size_t len;
} client;

/* Runs the loop and reads what the server sent, for up to ms. */
static void client_pump(client *c, int ms)
{
  uv_run(&fx.loop, UV_RUN_NOWAIT);
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  if (poll(&p, 1, ms) > 0 && c->len < sizeof c->buf) {
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len,
                     MSG_DONTWAIT);
    if (n > 0)
      c->len += (size_t)n;
  }
  uv_run(&fx.loop, UV_RUN_NOWAIT);
}

static void consume(client *c, size_t n)
{
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

static client *client_open(const char *path)
{
  client *c = calloc(1, sizeof *c);
  cr_assert_not_null(c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(fx.port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
                   path);
  cr_assert_eq(send(c->fd, req, (size_t)n, 0), n);
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  char *head_end = NULL;
  while (!head_end && uv_hrtime() < end) {
    client_pump(c, 5);
    c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
    head_end = strstr((char *)c->buf, "\r\n\r\n");
  }
  cr_assert_not_null(head_end, "no handshake answer");
  cr_assert(strncmp((char *)c->buf, "HTTP/1.1 101", 12) == 0, "%s", c->buf);
  consume(c, (size_t)(head_end + 4 - (char *)c->buf));
  return c;
}

static void client_close(client *c)
{
  close(c->fd);
  free(c);
  /* let the server see the EOF */
  for (int i = 0; i < 20; i++) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void client_send(client *c, const char *text)
{
  size_t n = strlen(text);
  unsigned char head[14];
  size_t h = 0;
  head[h++] = 0x81;
  if (n < 126) {
    head[h++] = (unsigned char)(0x80 | n);
  } else {
    head[h++] = 0x80 | 126;
    head[h++] = (unsigned char)(n >> 8);
    head[h++] = (unsigned char)n;
  }
  static const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
  memcpy(head + h, mask, 4);
  h += 4;
  unsigned char *out = malloc(h + n);
  memcpy(out, head, h);
  for (size_t i = 0; i < n; i++)
    out[h + i] = (unsigned char)text[i] ^ mask[i % 4];
  cr_assert_eq(send(c->fd, out, h + n, 0), (ssize_t)(h + n));
  free(out);
  uv_run(&fx.loop, UV_RUN_NOWAIT);
}

/* Next text message from the server as JSON; NULL when none came in ms. */
static json_t *client_recv(client *c, int ms)
{
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  for (;;) {
    if (c->len >= 2) {
      size_t n = c->buf[1] & 0x7f, h = 2;
      if (n == 126) {
        n = c->len >= 4 ? ((size_t)c->buf[2] << 8) | c->buf[3] : SIZE_MAX;
        h = 4;
      }
      if (n != SIZE_MAX && c->len >= h + n) {
        int op = c->buf[0] & 0x0f;
        json_t *j = op == 1 ? json_loadb((char *)c->buf + h, n, 0, NULL) : NULL;
        consume(c, h + n);
        if (op == 1)
          return j;
        continue;
      }
    }
    if (uv_hrtime() >= end)
      return NULL;
    client_pump(c, 5);
  }
}

/* The next CALL; it must be of action. Returns its payload (owned) and id. */
static json_t *expect_call(client *c, const char *action, char *id, size_t idlen)
{
  json_t *f = client_recv(c, WAIT_MS);
  cr_assert_not_null(f, "no %s from the server", action);
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 2);
  const char *got = json_string_value(json_array_get(f, 2));
  cr_assert_str_eq(got ? got : "", action);
  snprintf(id, idlen, "%s", json_string_value(json_array_get(f, 1)));
  json_t *p = json_incref(json_array_get(f, 3));
  json_decref(f);
  return p;
}

static void answer(client *c, const char *id, const char *payload)
{
  char text[1024];
  snprintf(text, sizeof text, "[3,\"%s\",%s]", id, payload);
  client_send(c, text);
}

/* Sends a CALL and returns the server's answer payload (owned). */
static json_t *call(client *c, const char *id, const char *action,
                    const char *payload)
{
  char text[1024];
  snprintf(text, sizeof text, "[2,\"%s\",\"%s\",%s]", id, action, payload);
  client_send(c, text);
  json_t *f = client_recv(c, WAIT_MS);
  cr_assert_not_null(f, "no answer to %s", action);
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 3, "%s not accepted",
               action);
  cr_assert_str_eq(json_string_value(json_array_get(f, 1)), id);
  json_t *p = json_incref(json_array_get(f, 2));
  json_decref(f);
  return p;
}

static client *connect_charger(const char *id)
{
  char path[64];
  snprintf(path, sizeof path, "/ocpp/%s", id);
  client *c = client_open(path);
  bool online = false;
  for (int i = 0; i < 200 && !online; i++) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    online = ocpp_server_is_online(fx.srv, id);
    if (!online)
      usleep(1000);
  }
  cr_assert(online, "%s not online", id);
  return c;
}

/* ---- command results ---------------------------------------------------- */

typedef struct {
  int calls;
  ocpp_result last;
} result_box;

static void on_result(void *ud, ocpp_result r)
{
  result_box *b = ud;
  b->calls++;
  b->last = r;
}

#define CMD(k, ...) ((ocpp_command){.kind = OCPP_CMD_##k, __VA_ARGS__})

/* Queues one command with on_result into b. */
static int command(ocpp_server *srv, const char *id, ocpp_command cmd,
                   result_box *b)
{
  return ocpp_server_command(srv, id, &cmd, on_result, b);
}

static void wait_result(client *c, result_box *b)
{
  for (int i = 0; i < WAIT_MS / 5 && b->calls == 0; i++)
    client_pump(c, 5);
  cr_assert_eq(b->calls, 1, "callback called %d times", b->calls);
}

/* ---- life cycle ----------------------------------------------------------- */

TestSuite(server, .init = setup, .fini = teardown, .timeout = 30);

Test(server, create_and_destroy_leave_no_handle)
{
  cr_assert_not_null(fx.srv);
  cr_assert_not(ocpp_server_is_online(fx.srv, "CP1"));
}

Test(server, destroy_of_null_is_a_no_op)
{
  ocpp_server_destroy(NULL, on_closed);
  cr_assert_not(fx.closed);
}

Test(server, second_server_on_the_same_port_fails_with_elisten)
{
  ocpp_server *second = (ocpp_server *)&fx; /* must be reset to NULL */
  ocpp_server_options o = {.listen = fx.listen};
  ocpp_callbacks cb = {.on_event = on_event};
  char err[128] = "";
  int rc = ocpp_server_create(&fx.loop, &o, NULL, 0, &cb, &fx, &second, err,
                              sizeof err);
  cr_assert_eq(rc, OCPP_ELISTEN);
  cr_assert_null(second);
  cr_assert_neq(err[0], '\0');
  cr_assert_eq(fx.events[OCPP_EV_ONLINE], 0);
}

Test(server, bad_listen_address_is_einval)
{
  ocpp_server *s = NULL;
  ocpp_server_options o = {.listen = "127.0.0.1"};
  ocpp_callbacks cb = {0};
  cr_assert_eq(ocpp_server_create(&fx.loop, &o, NULL, 0, &cb, NULL, &s, NULL, 0),
               OCPP_EINVAL);
  cr_assert_null(s);
}

Test(server, connection_makes_the_charger_online_and_its_loss_offline)
{
  client *c = connect_charger("CP1");
  cr_assert_eq(fx.events[OCPP_EV_ONLINE], 1);
  client_close(c);
  for (int i = 0; i < 200 && ocpp_server_is_online(fx.srv, "CP1"); i++) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  cr_assert_not(ocpp_server_is_online(fx.srv, "CP1"));
  cr_assert_eq(fx.events[OCPP_EV_OFFLINE], 1);
}

/* ---- command API return codes ------------------------------------------- */

Test(server, command_for_an_unknown_charger_is_eunknown)
{
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "NOPE", CMD(REMOTE_START, .connector = 1), &b),
               OCPP_EUNKNOWN);
  cr_assert_eq(command(fx.srv, "NOPE", CMD(RESET, .hard = false), &b),
               OCPP_EUNKNOWN);
  cr_assert_eq(b.calls, 0);
}

Test(server, command_for_an_offline_charger_is_enotconn)
{
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(UNLOCK, .connector = 1), &b),
               OCPP_ENOTCONN);
  cr_assert_eq(command(fx.srv, "CP2",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = 6), &b),
               OCPP_ENOTCONN);
  cr_assert_eq(b.calls, 0);
}

Test(server, command_with_a_bad_connector_is_einval)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(REMOTE_START, .connector = 0), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1", CMD(REMOTE_START, .connector = 2), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1", CMD(UNLOCK, .connector = -1), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CHANGE_AVAILABILITY, .connector = 17,
                           .operative = true), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = -3), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(TRIGGER, .connector = 0, .message = "Coffee"), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(REMOTE_START, .connector = 1,
                           .id_tag = "ABCDEFGHIJKLMNOPQRSTU"), &b),
               OCPP_EINVAL);
  cr_assert_eq(command(NULL, "CP1", CMD(REMOTE_START, .connector = 1), &b),
               OCPP_EINVAL);
  cr_assert_eq(b.calls, 0);
  client_close(c);
}

Test(server, remote_stop_without_transaction_is_estate)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(REMOTE_STOP, .connector = 1), &b),
               OCPP_ESTATE);
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CANCEL_RESERVATION, .connector = 1), &b),
               OCPP_ESTATE);
  cr_assert_eq(b.calls, 0);
  client_close(c);
}

Test(server, transaction_query_follows_start_meter_and_stop)
{
  client *c = connect_charger("CP1");
  ocpp_transaction_info t;
  cr_assert_eq(ocpp_server_transaction(fx.srv, "CP1", 1, &t), OCPP_OK);
  cr_assert_eq(t.transaction_id, 0);
  json_t *p = call(c, "s1", "StartTransaction",
                   "{\"connectorId\":1,\"idTag\":\"T1\",\"meterStart\":1000,"
                   "\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  json_int_t tx = json_integer_value(json_object_get(p, "transactionId"));
  json_decref(p);
  char text[200];
  snprintf(text, sizeof text, "{\"connectorId\":1,\"transactionId\":%lld,"
           "\"meterValue\":[{\"timestamp\":\"2030-01-01T00:10:00Z\","
           "\"sampledValue\":[{\"value\":\"1500\"}]}]}", (long long)tx);
  json_decref(call(c, "m1", "MeterValues", text));
  cr_assert_eq(ocpp_server_transaction(fx.srv, "CP1", 1, &t), OCPP_OK);
  cr_assert_eq(t.transaction_id, tx);
  cr_assert(t.has_meter_start);
  cr_assert_float_eq(t.meter_start_wh, 1000, 1e-9);
  cr_assert(t.has_energy);
  cr_assert_float_eq(t.energy_wh, 1500, 1e-9);
  snprintf(text, sizeof text, "{\"transactionId\":%lld,\"meterStop\":1600,"
           "\"timestamp\":\"2030-01-01T00:20:00Z\"}", (long long)tx);
  json_decref(call(c, "s2", "StopTransaction", text));
  cr_assert_eq(ocpp_server_transaction(fx.srv, "CP1", 1, &t), OCPP_OK);
  cr_assert_eq(t.transaction_id, 0);
  cr_assert_not(t.has_meter_start);
  cr_assert(t.has_energy);
  cr_assert_eq(ocpp_server_transaction(fx.srv, "NOPE", 1, &t), OCPP_EUNKNOWN);
  cr_assert_eq(ocpp_server_transaction(fx.srv, "CP1", 0, &t), OCPP_EINVAL);
  cr_assert_eq(ocpp_server_transaction(fx.srv, "CP1", 1, NULL), OCPP_EINVAL);
  client_close(c);
}

Test(server, remote_stop_names_the_running_transaction)
{
  client *c = connect_charger("CP1");
  json_t *p = call(c, "s1", "StartTransaction",
                   "{\"connectorId\":1,\"idTag\":\"T1\",\"meterStart\":0,"
                   "\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  json_int_t tx = json_integer_value(json_object_get(p, "transactionId"));
  cr_assert_gt(tx, 0);
  json_decref(p);
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(REMOTE_STOP, .connector = 1), &b),
               OCPP_OK);
  char id[40];
  p = expect_call(c, "RemoteStopTransaction", id, sizeof id);
  cr_assert_eq(json_integer_value(json_object_get(p, "transactionId")), tx);
  json_decref(p);
  answer(c, id, "{\"status\":\"Accepted\"}");
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_ACCEPTED);
  client_close(c);
}

/* ---- fallbacks -------------------------------------------------------------- */

Test(server, availability_on_connector_0_falls_back_to_connector_1)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CHANGE_AVAILABILITY, .connector = 0), &b),
               OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "ChangeAvailability", id, sizeof id);
  cr_assert_eq(json_integer_value(json_object_get(p, "connectorId")), 0);
  cr_assert_str_eq(json_string_value(json_object_get(p, "type")), "Inoperative");
  json_decref(p);
  answer(c, id, "{\"status\":\"Rejected\"}");
  p = expect_call(c, "ChangeAvailability", id, sizeof id);
  cr_assert_eq(json_integer_value(json_object_get(p, "connectorId")), 1);
  cr_assert_str_eq(json_string_value(json_object_get(p, "type")), "Inoperative");
  json_decref(p);
  cr_assert_eq(b.calls, 0, "result reported before the retry was answered");
  answer(c, id, "{\"status\":\"Scheduled\"}");
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_ACCEPTED);
  client_close(c);
}

Test(server, availability_on_connector_0_of_two_connectors_is_not_retried)
{
  client *c = connect_charger("CP2");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP2",
                       CMD(CHANGE_AVAILABILITY, .connector = 0,
                           .operative = true), &b),
               OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "ChangeAvailability", id, sizeof id);
  json_decref(p);
  answer(c, id, "{\"status\":\"Rejected\"}");
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_REJECTED);
  cr_assert_null(client_recv(c, 100), "a retry was sent");
  client_close(c);
}

static const char *purpose_of(const json_t *p)
{
  return json_string_value(json_object_get(
    json_object_get(p, "csChargingProfiles"), "chargingProfilePurpose"));
}

Test(server, charging_profile_falls_back_from_max_to_default_to_tx)
{
  client *c = connect_charger("CP1");
  json_t *p = call(c, "s1", "StartTransaction",
                   "{\"connectorId\":1,\"idTag\":\"T1\",\"meterStart\":0,"
                   "\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  json_int_t tx = json_integer_value(json_object_get(p, "transactionId"));
  json_decref(p);
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = 13.5), &b),
               OCPP_OK);
  static const char *const order[] = {"ChargePointMaxProfile",
                                      "TxDefaultProfile", "TxProfile"};
  for (int i = 0; i < 3; i++) {
    char id[40];
    p = expect_call(c, "SetChargingProfile", id, sizeof id);
    cr_assert_str_eq(purpose_of(p), order[i]);
    cr_assert_eq(json_integer_value(json_object_get(p, "connectorId")), i == 0 ? 0 : 1);
    const json_t *prof = json_object_get(p, "csChargingProfiles");
    const json_t *sched = json_object_get(prof, "chargingSchedule");
    cr_assert_str_eq(json_string_value(json_object_get(sched, "chargingRateUnit")), "A");
    cr_assert_float_eq(json_number_value(json_object_get(json_array_get(
      json_object_get(sched, "chargingSchedulePeriod"), 0), "limit")), 13.5, 1e-9);
    if (i == 2)
      cr_assert_eq(json_integer_value(json_object_get(prof, "transactionId")), tx);
    else
      cr_assert_null(json_object_get(prof, "transactionId"));
    json_decref(p);
    cr_assert_eq(b.calls, 0);
    answer(c, id, "{\"status\":\"Rejected\"}");
  }
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_REJECTED);
  cr_assert_null(client_recv(c, 100), "a fourth profile was sent");
  client_close(c);
}

Test(server, charging_profile_remembers_the_variant_that_worked)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = 10), &b),
               OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "SetChargingProfile", id, sizeof id);
  cr_assert_str_eq(purpose_of(p), "ChargePointMaxProfile");
  json_decref(p);
  answer(c, id, "{\"status\":\"Rejected\"}");
  p = expect_call(c, "SetChargingProfile", id, sizeof id);
  cr_assert_str_eq(purpose_of(p), "TxDefaultProfile");
  json_decref(p);
  answer(c, id, "{\"status\":\"Accepted\"}");
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_ACCEPTED);
  /* no transaction runs, so TxProfile is out of reach anyway */
  result_box b2 = {0};
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = 8), &b2),
               OCPP_OK);
  p = expect_call(c, "SetChargingProfile", id, sizeof id);
  cr_assert_str_eq(purpose_of(p), "TxDefaultProfile");
  json_decref(p);
  answer(c, id, "{\"status\":\"Accepted\"}");
  wait_result(c, &b2);
  client_close(c);
}

/* A charger whose GetConfiguration says it takes only W. */
static void boot_watts_only(client *c)
{
  json_t *p = call(c, "b1", "BootNotification",
                   "{\"chargePointVendor\":\"Huawei\",\"chargePointModel\":\"AC\"}");
  json_decref(p);
  char id[40];
  p = expect_call(c, "GetConfiguration", id, sizeof id);
  json_decref(p);
  answer(c, id, "{\"configurationKey\":["
         "{\"key\":\"ChargingScheduleAllowedChargingRateUnit\",\"readonly\":true,\"value\":\"Power\"},"
         "{\"key\":\"MeterValuesSampledData\",\"readonly\":false,\"value\":"
         "\"Energy.Active.Import.Register,Current.Import,Power.Active.Import\"},"
         "{\"key\":\"MeterValueSampleInterval\",\"readonly\":false,\"value\":\"60\"}]}");
  p = expect_call(c, "TriggerMessage", id, sizeof id);
  json_decref(p);
  answer(c, id, "{\"status\":\"Accepted\"}");
}

Test(server, charging_profile_is_in_watts_for_a_watts_only_charger)
{
  client *c = connect_charger("CP1");
  boot_watts_only(c);
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1",
                       CMD(CURRENT_LIMIT, .connector = 1, .amps = 16), &b),
               OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "SetChargingProfile", id, sizeof id);
  const json_t *sched = json_object_get(json_object_get(p, "csChargingProfiles"),
                                        "chargingSchedule");
  cr_assert_str_eq(json_string_value(json_object_get(sched, "chargingRateUnit")), "W");
  cr_assert_float_eq(json_number_value(json_object_get(json_array_get(
    json_object_get(sched, "chargingSchedulePeriod"), 0), "limit")),
    16.0 * 230 * 3, 1e-6);
  json_decref(p);
  answer(c, id, "{\"status\":\"Accepted\"}");
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_ACCEPTED);
  client_close(c);
}

/* ---- queue ------------------------------------------------------------------- */

Test(server, queue_is_capped_and_every_call_is_reported_offline_on_loss)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  int queued = 0, rc;
  while ((rc = command(fx.srv, "CP1",
                       CMD(UNLOCK, .connector = 1), &b)) == OCPP_OK &&
         queued < 1000)
    queued++;
  cr_assert_eq(rc, OCPP_EQUEUEFULL);
  /* one in flight, OCPP_MAX_QUEUED_CALLS waiting */
  cr_assert_eq(queued, OCPP_MAX_QUEUED_CALLS + 1);
  cr_assert_eq(b.calls, 0);
  client_close(c);
  for (int i = 0; i < 200 && b.calls < queued; i++) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  cr_assert_eq(b.calls, queued, "%d callbacks for %d calls", b.calls, queued);
  cr_assert_eq(b.last, OCPP_RESULT_OFFLINE);
}

Test(server, unanswered_call_times_out)
{
  /* a server with a 1 s call timeout in place of the fixture's */
  ocpp_server_destroy(fx.srv, on_closed);
  run_until(&fx.closed, WAIT_MS);
  fx.closed = false;
  fx.srv = NULL;
  cr_assert_eq(start_server(1), OCPP_OK);
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(RESET, .hard = false), &b), OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "Reset", id, sizeof id);
  cr_assert_str_eq(json_string_value(json_object_get(p, "type")), "Soft");
  json_decref(p);
  for (int i = 0; i < 400 && b.calls == 0; i++)
    client_pump(c, 5);
  cr_assert_eq(b.calls, 1);
  cr_assert_eq(b.last, OCPP_RESULT_TIMEOUT);
  /* a late answer changes nothing */
  answer(c, id, "{\"status\":\"Accepted\"}");
  client_pump(c, 20);
  cr_assert_eq(b.calls, 1);
  client_close(c);
}

Test(server, callerror_answer_is_reported_as_error)
{
  client *c = connect_charger("CP1");
  result_box b = {0};
  cr_assert_eq(command(fx.srv, "CP1", CMD(UNLOCK, .connector = 1), &b),
               OCPP_OK);
  char id[40];
  json_t *p = expect_call(c, "UnlockConnector", id, sizeof id);
  json_decref(p);
  char text[128];
  snprintf(text, sizeof text, "[4,\"%s\",\"InternalError\",\"\",{}]", id);
  client_send(c, text);
  wait_result(c, &b);
  cr_assert_eq(b.last, OCPP_RESULT_ERROR);
  client_close(c);
}

/* ---- limit encoding ------------------------------------------------------ */

Test(server, limits_sent_pass_exact_multiple_of_0_1_checks_and_never_rise)
{
  for (int centi = 0; centi <= 8000; centi++) {
    double want = centi / 100.0;
    double sent = ocpp_limit_as_sent(want);
    double q = sent / 0.1;
    cr_assert_eq(q, floor(q), "%.2f A sent as %.17g", want, sent);
    cr_assert_leq(sent, round(want * 10.0) / 10.0 + 1e-9, "%.2f A rose", want);
    cr_assert_geq(sent, floor(want) - 1e-9, "%.2f A fell too far", want);
  }
  cr_assert_float_eq(ocpp_limit_as_sent(16.0), 16.0, 1e-12);
  cr_assert_float_eq(ocpp_limit_as_sent(12.5), 12.5, 1e-12);
}
