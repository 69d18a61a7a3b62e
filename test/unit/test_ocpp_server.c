/* The OCPP server on a real libuv loop over 127.0.0.1, with a small raw
 * WebSocket client written here: life cycle, command API return codes,
 * the fallbacks for chargers that reject calls, the queue cap and the
 * callbacks of calls lost with the connection; plain GETs: the
 * application's answers, Basic Auth of the status page and event streams
 * (head, broadcast, the cap, keep-alive, no timer without a stream,
 * closed by destroy). */
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
  int gets;                 /* calls of the http_get hook */
  char last_path[128];
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

static void init_loop(void)
{
  memset(&fx, 0, sizeof fx);
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  fx.port = free_port();
  snprintf(fx.listen, sizeof fx.listen, "127.0.0.1:%d", fx.port);
}

static void setup(void)
{
  init_loop();
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

/* A socket connected to the server under test. */
static int connect_server(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(fx.port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static client *client_open(const char *path)
{
  client *c = calloc(1, sizeof *c);
  cr_assert_not_null(c);
  c->fd = connect_server();
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

/* ---- plain GETs: answers, event streams, Basic Auth ---------------------- */

/* more than the kernel takes at once and than the write backlog cap of a
 * WebSocket */
#define BIG_ANSWER (24u << 20)

static int on_http_get(void *ud, const char *path, ocpp_http_answer *a)
{
  fixture *f = ud;
  f->gets++;
  snprintf(f->last_path, sizeof f->last_path, "%s", path);
  if (strcmp(path, "/events") == 0 || strcmp(path, "/events1") == 0) {
    a->stream = true;
    a->stream_channel = path[7] == '1';
    return 0;
  }
  if (strcmp(path, "/events9") == 0) {
    a->stream = true;
    a->stream_channel = OCPP_STREAM_CHANNELS;
    return 0;
  }
  if (strncmp(path, "/file", 5) == 0) {
    a->content_type = "text/csv";
    snprintf(a->extra_headers, sizeof a->extra_headers,
             "Content-Disposition: attachment; filename=\"x.csv\"\r\n");
    a->body = strdup("a,b\n1,2\n");
    a->body_len = 8;
    return 0;
  }
  if (strcmp(path, "/") == 0) {
    a->body = strdup("page");
    a->body_len = 4;
    return 0;
  }
  if (strcmp(path, "/big") == 0) {
    a->body_len = BIG_ANSWER;
    a->body = malloc(BIG_ANSWER);
    cr_assert_not_null(a->body);
    memset(a->body, 'x', BIG_ANSWER);
    return 0;
  }
  return -1;
}

static void start_page(const char *password)
{
  init_loop();
  ocpp_server_options o = {.listen = fx.listen, .heartbeat_interval = 60,
                           .call_timeout = 5, .http_password = password,
                           .max_streams = 2, .stream_keepalive_ms = 100};
  ocpp_callbacks cb = {.http_get = on_http_get};
  cr_assert_eq(ocpp_server_create(&fx.loop, &o, NULL, 0, &cb, &fx, &fx.srv,
                                  NULL, 0), OCPP_OK);
}

static void open_page(void)
{
  start_page(NULL);
}

static void run_for(int ms)
{
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (uv_hrtime() < end) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

TestSuite(streams, .init = open_page, .fini = teardown, .timeout = 30);
TestSuite(auth, .fini = teardown, .timeout = 30);

/* a raw HTTP client */

typedef struct {
  int fd;
  char buf[65536];
  size_t len;
  bool eof;
} http_client;

/* Runs the loop and takes what arrived, for up to ms. */
static void http_pump(http_client *c, int ms)
{
  uv_run(&fx.loop, UV_RUN_NOWAIT);
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  if (poll(&p, 1, ms) > 0 && c->len + 1 < sizeof c->buf) {
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len,
                     MSG_DONTWAIT);
    if (n > 0)
      c->len += (size_t)n;
    else if (n == 0)
      c->eof = true;
  }
  c->buf[c->len] = '\0';
  uv_run(&fx.loop, UV_RUN_NOWAIT);
}

/* Until text has arrived (true) or WAIT_MS passed (false). */
static bool wait_text(http_client *c, const char *text)
{
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (!strstr(c->buf, text) && !c->eof && uv_hrtime() < end)
    http_pump(c, 5);
  return strstr(c->buf, text) != NULL;
}

static http_client *http_get(const char *path, const char *auth)
{
  http_client *c = calloc(1, sizeof *c);
  cr_assert_not_null(c);
  c->fd = connect_server();
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "%s%s%s\r\n", path, auth ? "Authorization: " : "",
                   auth ? auth : "", auth ? "\r\n" : "");
  cr_assert_eq(send(c->fd, req, (size_t)n, 0), n);
  cr_assert(wait_text(c, "\r\n\r\n"), "no answer to GET %s", path);
  return c;
}

static void http_close(http_client *c)
{
  close(c->fd);
  free(c);
}

/* Until the server counts n streams. */
static void wait_streams(size_t n)
{
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (ocpp_server_stream_count(fx.srv, OCPP_ALL_CHANNELS) != n && uv_hrtime() < end) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  cr_assert_eq(ocpp_server_stream_count(fx.srv, OCPP_ALL_CHANNELS), n);
}

static void count_active_timer(uv_handle_t *h, void *arg)
{
  if (h->type == UV_TIMER && uv_is_active(h))
    (*(int *)arg)++;
}

static int active_timers(void)
{
  int n = 0;
  uv_walk(&fx.loop, count_active_timer, &n);
  return n;
}

/* ---- answers ------------------------------------------------------------- */

Test(streams, answer_carries_body_type_and_extra_headers)
{
  http_client *c = http_get("/file?from=1", NULL);
  cr_assert(wait_text(c, "1,2\n"));
  cr_assert(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", c->buf);
  cr_assert_not_null(strstr(c->buf, "Content-Type: text/csv\r\n"));
  cr_assert_not_null(strstr(c->buf, "Content-Length: 8\r\n"));
  cr_assert_not_null(strstr(c->buf, "Content-Disposition: attachment; "
                                    "filename=\"x.csv\"\r\n"));
  cr_assert_str_eq(fx.last_path, "/file?from=1");
  http_close(c);
}

Test(streams, large_answer_waits_for_the_reader)
{
  http_client *c = http_get("/big", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%.40s", c->buf);
  size_t got = c->len - (size_t)(strstr(c->buf, "\r\n\r\n") + 4 - c->buf);
  char chunk[65536];
  uint64_t end = uv_hrtime() + (uint64_t)10000 * 1000000u;
  while (got < BIG_ANSWER && uv_hrtime() < end) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0)
      break;
    if (n > 0)
      got += (size_t)n;
    else
      usleep(500);
  }
  cr_assert_eq(got, BIG_ANSWER, "%zu of %u bytes", got, BIG_ANSWER);
  http_close(c);
}

Test(streams, negative_answer_is_404)
{
  http_client *c = http_get("/nothing", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 404", 12) == 0, "%s", c->buf);
  http_close(c);
}

/* ---- event streams --------------------------------------------------------- */

Test(streams, stream_stays_open_and_gets_every_broadcast)
{
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "x", "nobody"), 0);
  http_client *c = http_get("/events", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", c->buf);
  cr_assert_not_null(strstr(c->buf, "Content-Type: text/event-stream"));
  cr_assert_null(strstr(c->buf, "Content-Length"));
  wait_streams(1);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "status", "a\nb"), 1);
  cr_assert(wait_text(c, "event: status\ndata: a\ndata: b\n\n"), "%s", c->buf);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, NULL, "2"), 1);
  cr_assert(wait_text(c, "\n\ndata: 2\n\n"), "%s", c->buf);
  cr_assert_not(c->eof);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "a\nb", "x"), OCPP_EINVAL);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "a", NULL), OCPP_EINVAL);
  cr_assert_eq(ocpp_server_stream_broadcast(NULL, 0, "a", "x"), OCPP_EINVAL);
  http_close(c);
}

Test(streams, broadcast_goes_to_its_channel_only)
{
  http_client *a = http_get("/events", NULL);
  http_client *b = http_get("/events1", NULL);
  wait_streams(2);
  cr_assert_eq(ocpp_server_stream_count(fx.srv, 0), 1);
  cr_assert_eq(ocpp_server_stream_count(fx.srv, 1), 1);
  cr_assert_eq(ocpp_server_stream_count(fx.srv, 2), 0);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 1, "one", "1"), 1);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "zero", "0"), 1);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 5, "five", "5"), 0);
  cr_assert(wait_text(a, "event: zero\ndata: 0\n\n"), "%s", a->buf);
  cr_assert(wait_text(b, "event: one\ndata: 1\n\n"), "%s", b->buf);
  cr_assert_null(strstr(a->buf, "event: one"));
  cr_assert_null(strstr(b->buf, "event: zero"));
  http_close(a);
  http_close(b);
  wait_streams(0);
  cr_assert_eq(ocpp_server_stream_count(fx.srv, 1), 0);
}

Test(streams, channel_out_of_range_is_500)
{
  http_client *c = http_get("/events9", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 500", 12) == 0, "%s", c->buf);
  cr_assert_eq(ocpp_server_stream_count(fx.srv, OCPP_ALL_CHANNELS), 0);
  http_close(c);
}

Test(streams, one_stream_over_the_cap_is_503)
{
  http_client *a = http_get("/events", NULL);
  http_client *b = http_get("/events", NULL);
  wait_streams(2);
  http_client *c = http_get("/events", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 503", 12) == 0, "%s", c->buf);
  cr_assert_not_null(strstr(c->buf, "Retry-After: 10\r\n"));
  cr_assert_eq(ocpp_server_stream_count(fx.srv, OCPP_ALL_CHANNELS), 2);
  cr_assert_eq(ocpp_server_stream_broadcast(fx.srv, 0, "e", "d"), 2);
  http_close(c);
  http_close(a);
  http_close(b);
}

Test(streams, closed_stream_frees_its_place)
{
  http_client *a = http_get("/events", NULL);
  http_client *b = http_get("/events", NULL);
  wait_streams(2);
  http_close(a);
  wait_streams(1);
  http_client *c = http_get("/events", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%s", c->buf);
  wait_streams(2);
  http_close(b);
  http_close(c);
}

Test(streams, idle_stream_gets_keepalive_comments)
{
  /* every 100 ms here (stream_keepalive_ms), again and again */
  http_client *c = http_get("/events", NULL);
  cr_assert(wait_text(c, "retry: 2000\n\n: keep-alive\n\n: keep-alive\n\n"),
            "%s", c->buf);
  http_close(c);
}

Test(streams, no_timer_runs_without_a_stream)
{
  run_for(50);
  cr_assert_eq(active_timers(), 0);
  http_client *c = http_get("/events", NULL);
  wait_streams(1);
  cr_assert_eq(active_timers(), 1, "the stream's keep-alive timer");
  http_close(c);
  wait_streams(0);
  run_for(20);
  cr_assert_eq(active_timers(), 0);
}

Test(streams, destroy_closes_every_stream)
{
  http_client *a = http_get("/events", NULL);
  http_client *b = http_get("/events", NULL);
  wait_streams(2);
  ocpp_server_destroy(fx.srv, on_closed);
  fx.srv = NULL;
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while ((!a->eof || !b->eof || !fx.closed) && uv_hrtime() < end) {
    http_pump(a, 2);
    http_pump(b, 2);
  }
  cr_assert(a->eof && b->eof, "a stream stayed open");
  cr_assert(fx.closed);
  http_close(a);
  http_close(b);
}

/* ---- Basic Auth -------------------------------------------------------------- */

/* "admin:s3cret" and "admin:wrong" */
#define RIGHT "Basic YWRtaW46czNjcmV0"
#define WRONG "Basic YWRtaW46d3Jvbmc="

Test(auth, every_get_needs_the_password)
{
  start_page("s3cret");
  static const char *const paths[] = {"/", "/events", "/file", "/nothing"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    static const char *const bad[] = {NULL, WRONG, "Basic !!", "Bearer x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      http_client *c = http_get(paths[i], bad[k]);
      cr_assert(strncmp(c->buf, "HTTP/1.1 401", 12) == 0, "%s %s: %s",
                paths[i], bad[k] ? bad[k] : "-", c->buf);
      cr_assert_not_null(strstr(c->buf, "WWW-Authenticate: Basic realm="));
      http_close(c);
    }
  }
  cr_assert_eq(fx.gets, 0, "the application saw an unauthorized GET");
  http_client *c = http_get("/", RIGHT);
  cr_assert(wait_text(c, "page"));
  cr_assert(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%s", c->buf);
  http_close(c);
  c = http_get("/events", RIGHT);
  cr_assert(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%s", c->buf);
  http_close(c);
  cr_assert_eq(fx.gets, 2);
}

Test(auth, empty_password_leaves_the_page_open)
{
  start_page("");
  http_client *c = http_get("/", NULL);
  cr_assert(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%s", c->buf);
  http_close(c);
}

Test(server, set_password_needs_a_known_charger_and_a_password)
{
  cr_assert_eq(ocpp_server_set_password(fx.srv, "CP1", "new", "old"), OCPP_OK);
  cr_assert_eq(ocpp_server_set_password(fx.srv, "CP1", "newer", NULL), OCPP_OK);
  cr_assert_eq(ocpp_server_set_password(fx.srv, "NOPE", "x", NULL),
               OCPP_EUNKNOWN);
  cr_assert_eq(ocpp_server_set_password(fx.srv, "CP1", NULL, "x"), OCPP_EINVAL);
  cr_assert_eq(ocpp_server_set_password(fx.srv, NULL, "x", NULL), OCPP_EINVAL);
  cr_assert_eq(ocpp_server_set_password(NULL, "CP1", "x", NULL), OCPP_EINVAL);
}
