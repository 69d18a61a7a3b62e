/* Fuzz target: a charge point session (the gateway towards a backend) fed
 * a sequence of frames from the central system.
 *
 * Input: lines.
 *   #t<ms>        advances the clock by ms and runs ocpp_session_tick()
 *   #r            closes and reopens the session (a reconnect)
 *   #b            gives the identity to boot with
 *   #s            the owner sends a StatusNotification
 *   anything else one text frame for ocpp_session_recv()
 * Invariants (abort() when broken):
 * - every frame sent is a valid OCPP-J message, a CALL we send passes its
 *   request schema;
 * - nothing but a BootNotification goes out before the session is
 *   registered, and nothing at all before the identity is known;
 * - every owner's call that was accepted is called back exactly once by
 *   the end, a refused one never;
 * - after a tick at t, the next deadline is 0 or later than t. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/rpc.h"
#include "ocpp/schema.h"
#include "ocpp/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(size_t index, const uint8_t **data);

#define MAX_CALLS 256

static const char *const seed_texts[] = {
  "#b\n[3,\"1\",{\"status\":\"Accepted\",\"currentTime\":"
  "\"2026-12-04T18:00:00Z\",\"interval\":5}]\n#s\n#t5000\n"
  "[3,\"2\",{}]\n[3,\"3\",{\"currentTime\":\"2026-12-04T18:00:05Z\"}]\n"
  "[2,\"cs-1\",\"Reset\",{\"type\":\"Soft\"}]\n#r\n#t60000\n",
  "[3,\"1\",{\"status\":\"Pending\",\"currentTime\":\"2026-12-04T18:00:00Z\","
  "\"interval\":0}]\n#b\n#t30000\n#t60000\n[4,\"1\",\"InternalError\",\"\",{}]\n",
};

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  if (index >= sizeof seed_texts / sizeof seed_texts[0]) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seed_texts[index];
  return strlen(seed_texts[index]);
}

static struct {
  ocpp_session *s;
  ocpp_clock now;
  bool has_boot;
  int expected[MAX_CALLS], got[MAX_CALLS];
  int n_calls;
} R;

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, len, &f, &fault) != 0)
    abort();
  if (f.type == OCPP_RPC_CALL) {
    ocpp_schema_fault sf;
    bool boot = strcmp(f.action, "BootNotification") == 0;
    if (ocpp_schema_validate(f.action, OCPP_SCHEMA_REQUEST, f.payload, &sf) != 0 ||
        !R.has_boot || (!boot && !ocpp_session_cp16_registered(R.s)))
      abort();
  }
  ocpp_rpc_frame_finish(&f);
  return 0;
}

static json_t *on_call(void *ud, const char *action, const json_t *payload,
                       const char **error_code)
{
  (void)ud;
  (void)payload;
  if (strcmp(action, "Reset") == 0)
    return json_pack("{s:s}", "status", "Accepted");
  *error_code = "NotSupported";
  return NULL;
}

static void on_done(void *ud, bool answered, const json_t *payload,
                    const char *error_code)
{
  intptr_t token = (intptr_t)ud;
  if ((answered ? payload == NULL : error_code == NULL) || !R.expected[token] ||
      ++R.got[token] > 1)
    abort();
}

static void owner_call(void)
{
  if (R.n_calls >= MAX_CALLS || !ocpp_session_cp16_registered(R.s))
    return;
  intptr_t token = R.n_calls++;
  json_t *p = json_pack("{s:i,s:s,s:s}", "connectorId", 1, "errorCode",
                        "NoError", "status", "Available");
  R.expected[token] = 1;
  if (ocpp_session_call(R.s, "StatusNotification", p, on_done, (void *)token,
                        R.now) != OCPP_OK)
    R.expected[token] = 0;
}

static void directive(const char *line)
{
  static const ocpp_cp16_boot boot = {"Zaptec", "Go", "ZCS000143", "2.1.0"};
  switch (line[1]) {
  case 't':
    R.now.mono_ms += (uint64_t)strtoul(line + 2, NULL, 10) % 3600000u;
    R.now.wall++;
    ocpp_session_tick(R.s, R.now);
    if (ocpp_session_next_deadline(R.s) &&
        ocpp_session_next_deadline(R.s) <= R.now.mono_ms)
      abort();
    break;
  case 'r':
    ocpp_session_close(R.s, R.now);
    ocpp_session_open(R.s, R.now);
    break;
  case 'b':
    R.has_boot = true;
    ocpp_session_cp16_set_boot(R.s, &boot, R.now);
    break;
  case 's':
    owner_call();
    break;
  default:
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  memset(&R, 0, sizeof R);
  R.now = (ocpp_clock){.mono_ms = 1000, .wall = 1795000000};
  ocpp_session_config cfg = {.send = on_send, .call = on_call,
                             .log_id = "garage", .call_timeout = 30};
  if (ocpp_session_create(&ocpp__role_cp16, &cfg, NULL, &R.s) != OCPP_OK)
    abort();
  ocpp_session_open(R.s, R.now);
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    char *line = malloc(n + 1);
    if (!line)
      break;
    memcpy(line, p, n);
    line[n] = '\0';
    if (n >= 2 && line[0] == '#')
      directive(line);
    else
      ocpp_session_recv(R.s, line, n, R.now);
    free(line);
    p += n + 1;
  }
  ocpp_session_destroy(R.s);
  for (int i = 0; i < R.n_calls; i++)
    if (R.got[i] != R.expected[i])
      abort();
  return 0;
}
