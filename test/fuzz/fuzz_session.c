/* Fuzz target: a central-system session fed a sequence of frames.
 *
 * Input: lines.
 *   #t<ms>         advances the clock by ms and runs ocpp_session_tick()
 *   #c<k><n>[,<x>] command kind k (one character, 0-9 then a-z, modulo the
 *                  kinds; the last kind is a plain ocpp_session_call) for
 *                  connector n; x
 *                  picks the other fields (amps, tag, message, ...)
 *   #r             closes and reopens the session (a reconnect)
 *   #o<m><n><s>    charger options: start mode m, n connectors, store s
 *                  (0 none, 1 a store that knows ids 100..199, 2 a store
 *                  that fails)
 *   #v             switches between the 1.6 and the 2.0.1 role (a new
 *                  connection)
 *   #k             the next send closes the session from inside the hook
 *   #x             toggles sends failing (a transport that cannot write)
 *   anything else  one text frame for ocpp_session_recv()
 * Invariants (abort() when broken):
 * - every frame sent is valid JSON and a valid OCPP-J message; a CALL we
 *   send passes its request schema;
 * - every CALL received (and every broken frame that is not a response) is
 *   answered exactly once, with its id, by the first frame sent;
 * - a received response is never answered;
 * - every command or call that was accepted gets its callback exactly once
 *   by the end (after close and destroy), every refused one never;
 * - after a tick at t, the next deadline is 0 or later than t;
 * - events carry the charger id, a connector in range and no NULL text. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/charger.h"
#include "ocpp/rpc.h"
#include "ocpp/schema.h"
#include "ocpp/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(size_t index, const uint8_t **data);

#define MAX_TOKENS 256

static const char *const seed_texts[] = {
  /* a charger's whole session: boot, status, authorize, start, meter
   * values, stop, with the answers to the central system's calls */
  "[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"Alfen BV\","
  "\"chargePointModel\":\"NG910-60023\",\"chargePointSerialNumber\":"
  "\"ACE0001234\",\"firmwareVersion\":\"5.8.1-4123\"}]\n"
  "[3,\"1\",{\"configurationKey\":[{\"key\":\"NumberOfConnectors\","
  "\"readonly\":true,\"value\":\"1\"},{\"key\":\"MeterValuesSampledData\","
  "\"readonly\":false,\"value\":\"Energy.Active.Import.Register\"},{\"key\":"
  "\"MeterValueSampleInterval\",\"readonly\":false,\"value\":60}]}]\n"
  "[3,\"2\",{\"status\":\"Accepted\"}]\n"
  "[3,\"3\",{\"status\":\"Accepted\"}]\n"
  "[3,\"4\",{\"status\":\"Accepted\"}]\n"
  "[2,\"2\",\"StatusNotification\",{\"connectorId\":0,\"errorCode\":"
  "\"NoError\",\"status\":\"Available\"}]\n"
  "[2,\"3\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
  "\"NoError\",\"status\":\"Preparing\",\"timestamp\":"
  "\"2026-11-22T10:00:00Z\"}]\n"
  "[2,\"4\",\"Authorize\",{\"idTag\":\"04A1B2C3\"}]\n"
  "[2,\"5\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"04A1B2C3\","
  "\"meterStart\":1200,\"timestamp\":\"2026-11-22T10:00:05Z\"}]\n"
  "#t10000\n"
  "[2,\"6\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
  "\"NoError\",\"status\":\"Charging\"}]\n"
  "[2,\"7\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":1,"
  "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:01:00Z\",\"sampledValue\":"
  "[{\"value\":\"1.5\",\"unit\":\"kWh\",\"context\":\"Sample.Periodic\"},"
  "{\"value\":\"16.1\",\"measurand\":\"Current.Import\",\"phase\":\"L1\","
  "\"unit\":\"A\"},{\"value\":\"11000\",\"measurand\":"
  "\"Power.Active.Import\",\"unit\":\"W\"}]}]}]\n"
  "#c61,16\n"
  "[3,\"5\",{\"status\":\"Accepted\"}]\n"
  "[2,\"8\",\"Heartbeat\",{}]\n"
  "[2,\"9\",\"StopTransaction\",{\"transactionId\":1,\"idTag\":\"04A1B2C3\","
  "\"meterStop\":9200,\"timestamp\":\"2026-11-22T11:00:00Z\",\"reason\":"
  "\"EVDisconnected\",\"transactionData\":[{\"timestamp\":"
  "\"2026-11-22T11:00:00Z\",\"sampledValue\":[{\"value\":\"9200\"}]}]}]\n"
  "[2,\"10\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":1,"
  "\"meterValue\":[{\"timestamp\":\"2026-11-22T11:00:01Z\",\"sampledValue\":"
  "[{\"value\":\"9201\"}]}]}]\n",
  /* no boot: the central system asks for one; commands time out */
  "#o013\n#t6000\n[3,\"1\",{\"status\":\"Accepted\"}]\n#c11\n#c20,1\n"
  "#t40000\n#c81,3\n#t40000\n#r\n[2,\"a\",\"Heartbeat\",{}]\n",
  /* a gateway restart: the charger goes on with transaction 101 */
  "#o111\n[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":101,"
  "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":"
  "[{\"value\":\"2000\"}]}]}]\n#c11\n[3,\"1\",{\"status\":\"Rejected\"}]\n"
  "[2,\"2\",\"StopTransaction\",{\"transactionId\":101,\"meterStop\":3000,"
  "\"timestamp\":\"2026-11-22T10:30:00Z\"}]\n"
  "[2,\"3\",\"StopTransaction\",{\"transactionId\":-1,"
  "\"timestamp\":\"2026-11-22T10:30:00\"}]\n",
  /* broken frames */
  "[2,\"1\",\"Heartbeat\",{}\n[2,\"1\"]\n[7,\"x\",{}]\n[2,\"1\",\"Foo\",{}]\n"
  "[2,\"1\",\"Reset\",{\"type\":\"Hard\"}]\n"
  "[2,\"2\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":"
  "\"Error\",\"status\":\"Faulted\"}]\n[3,\"99\",{}]\n[4,\"1\",\"X\",\"\"]\n"
  "#k\n[2,\"3\",\"Heartbeat\",{}]\n#r\n#x\n#c01\n#x\n#c51\n",
  /* current limit fallbacks, reservation, availability on connector 0 */
  "[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"V\","
  "\"chargePointModel\":\"M\"}]\n[4,\"1\",\"NotSupported\",\"\",{}]\n"
  "#c60,10\n#c41,600\n#c20\n"
  "[3,\"2\",{\"status\":\"Accepted\"}]\n[3,\"3\",{\"status\":\"Accepted\"}]\n"
  "[3,\"4\",{\"status\":\"Accepted\"}]\n[3,\"5\",{\"status\":\"Rejected\"}]\n"
  "[3,\"6\",{\"status\":\"Rejected\"}]\n[3,\"7\",{\"status\":\"Accepted\"}]\n"
  "[3,\"8\",{\"status\":\"Rejected\"}]\n#c51\n[3,\"9\",{\"status\":\"Accepted\"}]\n"
  "[3,\"10\",{\"status\":\"Accepted\"}]\n",
  /* ChangeConfiguration (AuthorizationKey) and a plain call */
  "[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"V\","
  "\"chargePointModel\":\"M\"}]\n#c90,1\n#c90,3\n#ca0,1\n"
  "[3,\"2\",{\"status\":\"RebootRequired\"}]\n"
  "[3,\"3\",{\"status\":\"NotSupported\"}]\n",
  /* an OCPP 2.0.1 charger: boot, status, a transaction, a replay, commands */
  "#v\n#o111\n[2,\"1\",\"BootNotification\",{\"reason\":\"PowerUp\","
  "\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\"}}]\n"
  "[3,\"1\",{\"getVariableResult\":[]}]\n"
  "[2,\"2\",\"StatusNotification\",{\"timestamp\":\"2026-11-22T10:00:00Z\","
  "\"connectorStatus\":\"Occupied\",\"evseId\":1,\"connectorId\":1}]\n"
  "[2,\"3\",\"TransactionEvent\",{\"eventType\":\"Started\",\"timestamp\":"
  "\"2026-11-22T10:00:00Z\",\"triggerReason\":\"Authorized\",\"seqNo\":0,"
  "\"transactionInfo\":{\"transactionId\":\"T1\",\"chargingState\":\"Charging\"},"
  "\"evse\":{\"id\":1},\"idToken\":{\"idToken\":\"A\",\"type\":\"ISO14443\"},"
  "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":"
  "[{\"value\":1000}]}]}]\n#c11\n#c60,10\n[3,\"2\",{\"status\":\"Rejected\"}]\n"
  "[2,\"4\",\"TransactionEvent\",{\"eventType\":\"Ended\",\"timestamp\":"
  "\"2026-11-22T10:09:00Z\",\"triggerReason\":\"EVDeparted\",\"seqNo\":1,"
  "\"offline\":true,\"transactionInfo\":{\"transactionId\":\"T1\"}}]\n"
  "[2,\"5\",\"NotifyEvent\",{\"generatedAt\":\"2026-11-22T10:00:00Z\",\"seqNo\":0,"
  "\"eventData\":[{\"eventId\":1,\"timestamp\":\"2026-11-22T10:00:00Z\","
  "\"trigger\":\"Alerting\",\"actualValue\":\"1\",\"eventNotificationType\":"
  "\"HardWiredMonitor\",\"component\":{\"name\":\"RCD\"},\"variable\":"
  "{\"name\":\"Tripped\"}}]}]\n#c90,1\n#c71\n",
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

/* ---- the run's state ---------------------------------------------------- */

typedef struct {
  ocpp_session *s;
  ocpp_cp cp;
  ocpp_clock now;
  int store_mode;
  bool v201;                  /* the 2.0.1 role */
  int32_t next_store_tx;
  bool close_on_send, fail_sends;
  /* answers expected while one frame is being received */
  bool in_recv;
  int answers;
  bool first_send_seen, first_was_answer;
  char first_answer_id[OCPP_RPC_ID_MAX + 1];
  /* callbacks */
  int expected[MAX_TOKENS]; /* 1: accepted, must be called once; 0: never */
  int calls[MAX_TOKENS];
  int n_tokens;
} run_state;

static run_state R;
static const char *const tags[] = {"04A1B2C3", "*"};

static void check_str(const char *s)
{
  if (!s)
    abort();
}

/* ---- hooks -------------------------------------------------------------- */

static void check_sent(const char *text, size_t len)
{
  if (strlen(text) != len)
    abort();
  json_error_t err;
  json_t *j = json_loadb(text, len, 0, &err);
  if (!j)
    abort();
  json_decref(j);
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, len, &f, &fault) != 0)
    abort();
  if (f.type == OCPP_RPC_CALL &&
      ocpp_schema_validate_in(R.v201 ? OCPP_VERSION_201 : OCPP_VERSION_16,
                              f.action, OCPP_SCHEMA_REQUEST, f.payload, NULL) != 0)
    abort();
  if (f.type == OCPP_RPC_CALL && !R.in_recv) {
    /* fine: commands and ticks send calls */
  }
  if (R.in_recv) {
    bool answer = f.type != OCPP_RPC_CALL;
    if (answer)
      R.answers++;
    if (!R.first_send_seen) {
      R.first_send_seen = true;
      R.first_was_answer = answer;
      snprintf(R.first_answer_id, sizeof R.first_answer_id, "%s", f.id);
    }
  } else if (f.type != OCPP_RPC_CALL) {
    abort(); /* an answer with nothing to answer */
  }
  ocpp_rpc_frame_finish(&f);
}

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  if (!text)
    abort();
  check_sent(text, len);
  if (R.close_on_send) {
    R.close_on_send = false;
    ocpp_session_close(R.s, R.now);
  }
  return R.fail_sends ? -1 : 0;
}

static void on_log(void *ud, ocpp_log_level level, const char *log_id,
                   const char *line)
{
  (void)ud;
  if ((unsigned)level > OCPP_LOG_DEBUG)
    abort();
  check_str(log_id);
  check_str(line);
}

static void on_event(void *ud, const ocpp_event *ev)
{
  (void)ud;
  check_str(ev->charger_id);
  if (ev->connector < 0 || ev->connector > OCPP_MAX_CONNECTORS)
    abort();
  switch (ev->type) {
  case OCPP_EV_BOOT:
    check_str(ev->boot.vendor);
    check_str(ev->boot.model);
    check_str(ev->boot.serial);
    check_str(ev->boot.firmware);
    break;
  case OCPP_EV_STATUS:
    if ((unsigned)ev->status.status >= OCPP_CP_STATUS_COUNT ||
        (unsigned)ev->status.error >= OCPP_ERR_COUNT)
      abort();
    check_str(ev->status.info);
    check_str(ev->status.vendor_error);
    break;
  case OCPP_EV_TX_STARTED:
    check_str(ev->tx_started.id_tag);
    if (ev->connector < 1)
      abort();
    break;
  case OCPP_EV_TX_STOPPED:
    check_str(ev->tx_stopped.id_tag);
    check_str(ev->tx_stopped.reason);
    if (ev->tx_stopped.has_session_energy && ev->tx_stopped.session_energy_wh < 0)
      abort();
    break;
  case OCPP_EV_METER:
    check_str(ev->meter.context);
    if (ev->meter.has_session_energy && ev->meter.session_energy_wh < 0)
      abort();
    break;
  case OCPP_EV_TAG:
    check_str(ev->tag.id_tag);
    if (ocpp_auth_status_name(ev->tag.result) == NULL)
      abort();
    break;
  default:
    abort(); /* the session sends no other events */
  }
}

static int store_begin(void *ud, const char *charger_id, int connector,
                       const char *id_tag, double meter_start, time_t start,
                       const char *charger_tx_id, int32_t *tx_id)
{
  (void)charger_tx_id;
  (void)ud;
  (void)meter_start;
  (void)start;
  check_str(charger_id);
  check_str(id_tag);
  if (connector < 1 || connector > OCPP_MAX_CONNECTORS)
    abort();
  if (R.store_mode == 2)
    return -1;
  *tx_id = R.next_store_tx++;
  return 0;
}

static int store_find(void *ud, const char *charger_id, int32_t tx_id,
                      int *connector, double *meter_start, bool *stopped)
{
  (void)ud;
  check_str(charger_id);
  if (tx_id < 100 || tx_id > 199)
    return -1;
  *connector = 1 + tx_id % 4;
  *meter_start = tx_id * 10.0;
  *stopped = tx_id % 2 == 0;
  return 0;
}

/* 2.0.1: the charger's ids "S" + digits are known, odd ones stopped */
static int store_find_charger(void *ud, const char *charger_id,
                              const char *charger_tx, int32_t *tx_id,
                              int *connector, double *meter_start, bool *stopped)
{
  (void)ud;
  check_str(charger_id);
  check_str(charger_tx);
  if (charger_tx[0] != 'S' || !charger_tx[1])
    return -1;
  int n = atoi(charger_tx + 1) % 100;
  *tx_id = 100 + n;
  *connector = 1 + n % 4;
  *meter_start = n % 3 == 0 ? NAN : n * 10.0;
  *stopped = n % 2 == 1;
  return 0;
}

static void on_command(void *ud, ocpp_result r)
{
  intptr_t token = (intptr_t)ud;
  if (token < 0 || token >= R.n_tokens || R.expected[token] != 1)
    abort();
  if (ocpp_result_name(r) == NULL)
    abort();
  if (++R.calls[token] > 1)
    abort();
}

static void on_call_done(void *ud, bool answered, const json_t *payload,
                         const char *error_code)
{
  if (answered ? payload == NULL : error_code == NULL)
    abort();
  on_command(ud, OCPP_RESULT_ACCEPTED);
}

/* ---- directives --------------------------------------------------------- */

static void make_session(void)
{
  ocpp_session_config cfg = {
    .send = on_send, .log = on_log, .event = on_event,
    .log_id = "CP-1", .heartbeat_interval = 300, .call_timeout = 30,
    .meter_sample_interval = 60, .trace = true,
  };
  if (R.store_mode != 0) {
    cfg.store.begin_transaction = store_begin;
    cfg.store.find_transaction = store_find;
    cfg.store.find_charger_transaction = store_find_charger;
  }
  const ocpp_role *role = R.v201 ? &ocpp__role_cs201 : &ocpp__role_cs16;
  if (ocpp_session_create(role, &cfg, &R.cp, &R.s) != OCPP_OK)
    abort();
}

static void set_options(const char *arg)
{
  int m = arg[0] >= '0' && arg[0] <= '9' ? arg[0] - '0' : 0;
  int n = m && arg[1] >= '0' && arg[1] <= '9' ? arg[1] - '0' : 1;
  if (arg[0] && arg[1] >= '0' && arg[1] <= '9')
    n = arg[1] - '0';
  int st = arg[0] && arg[1] && arg[2] >= '0' && arg[2] <= '9' ? arg[2] - '0' : 0;
  R.cp.opt.start_mode = (ocpp_start_mode)(m % 3);
  R.cp.opt.n_connectors = n < 1 ? 1 : n;
  R.cp.watts_only = n >= 5;
  int mode = st % 3;
  if (mode != R.store_mode) {
    /* the store is the session's configuration: a new connection */
    R.store_mode = mode;
    ocpp_session_close(R.s, R.now);
    ocpp_session_destroy(R.s);
    make_session();
    ocpp_session_open(R.s, R.now);
  }
}

static const char *const messages[] = {
  "BootNotification", "DiagnosticsStatusNotification",
  "FirmwareStatusNotification", "Heartbeat", "MeterValues",
  "StatusNotification", "Bogus",
};

static void issue_command(const char *arg)
{
  if (R.n_tokens >= MAX_TOKENS)
    return;
  int digit = arg[0] >= '0' && arg[0] <= '9' ? arg[0] - '0'
            : arg[0] >= 'a' && arg[0] <= 'z' ? arg[0] - 'a' + 10 : 0;
  int kind = digit % (OCPP_CMD_COUNT + 1);
  const char *p = arg[0] ? arg + 1 : arg;
  int connector = atoi(p);
  const char *comma = strchr(p, ',');
  long x = comma ? strtol(comma + 1, NULL, 10) : 0;
  intptr_t token = R.n_tokens++;
  int rc;
  /* the callback may run before the command returns (a send that fails) */
  R.expected[token] = 1;
  if (kind == OCPP_CMD_COUNT) {
    json_t *payload = json_pack("{s:[s]}", "key", "HeartbeatInterval");
    rc = ocpp_session_call(R.s, x % 2 ? "GetConfiguration" : "Bogus", payload,
                           on_call_done, (void *)token, R.now);
  } else {
    ocpp_command cmd = {
      .kind = (ocpp_command_kind)kind, .connector = connector,
      .id_tag = x % 3 == 2 ? "0123456789abcdefghijK" : x % 3 ? "TAG" : NULL,
      .message = messages[(unsigned long)x % 7], .operative = x % 2,
      .hard = x % 2, .amps = (double)x / 2, .expiry_s = (int)x,
      .key = x % 3 ? "AuthorizationKey" : NULL, .value = "0123456789abcdef",
    };
    rc = ocpp_session_command(R.s, &cmd, on_command, (void *)token, R.now);
  }
  R.expected[token] = rc == OCPP_OK;
  if (rc != OCPP_OK && R.calls[token] != 0)
    abort(); /* refused, yet called back */
}

static void advance(const char *arg)
{
  unsigned long ms = strtoul(arg, NULL, 10);
  if (ms > 10000000ul)
    ms = 10000000ul;
  R.now.mono_ms += ms;
  R.now.wall += (time_t)(ms / 1000);
  ocpp_session_tick(R.s, R.now);
  uint64_t d = ocpp_session_next_deadline(R.s);
  if (d != 0 && d <= R.now.mono_ms)
    abort();
}

static void receive(const char *line, size_t len)
{
  bool open = ocpp_session_is_open(R.s);
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  bool expect_answer;
  char expect_id[OCPP_RPC_ID_MAX + 1];
  if (ocpp_rpc_decode(line, len, &f, &fault) == 0) {
    expect_answer = f.type == OCPP_RPC_CALL;
    snprintf(expect_id, sizeof expect_id, "%s", f.id);
    ocpp_rpc_frame_finish(&f);
  } else {
    expect_answer = fault.type != OCPP_RPC_RESULT && fault.type != OCPP_RPC_ERROR;
    snprintf(expect_id, sizeof expect_id, "%s", fault.has_id ? fault.id : "-1");
  }
  R.in_recv = true;
  R.answers = 0;
  R.first_send_seen = false;
  ocpp_session_recv(R.s, line, len, R.now);
  R.in_recv = false;
  if (!open)
    expect_answer = false;
  if (R.answers != (expect_answer ? 1 : 0))
    abort();
  if (expect_answer &&
      (!R.first_was_answer || strcmp(R.first_answer_id, expect_id) != 0))
    abort();
}

static void run_line(const char *line, size_t len)
{
  if (len >= 2 && line[0] == '#') {
    switch (line[1]) {
    case 't': advance(line + 2); return;
    case 'c': issue_command(line + 2); return;
    case 'r':
      ocpp_session_close(R.s, R.now);
      ocpp_session_open(R.s, R.now);
      return;
    case 'o': set_options(line + 2); return;
    case 'k': R.close_on_send = true; return;
    case 'v':
      R.v201 = !R.v201;
      ocpp_session_close(R.s, R.now);
      ocpp_session_destroy(R.s);
      make_session();
      ocpp_session_open(R.s, R.now);
      return;
    case 'x': R.fail_sends = !R.fail_sends; return;
    default: break;
    }
  }
  receive(line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  memset(&R, 0, sizeof R);
  R.now = (ocpp_clock){.mono_ms = 1000, .wall = 1795000000};
  R.next_store_tx = 1;
  R.cp.opt = (ocpp_charger_options){
    .id = "CP-1", .name = "CP-1", .start_mode = OCPP_START_TAG,
    .tags = tags, .n_tags = 1, .remote_tag = "KNX", .n_connectors = 2,
    .voltage = 230, .phases = 3,
  };
  R.cp.max_stack_level = -1;
  R.cp.smart_charging = true;
  R.cp.profile_strategy = -1;
  R.cp.limit_a = -1;
  make_session();
  ocpp_session_open(R.s, R.now);

  /* lines, each in its own exact-size copy (NUL-terminated for the
   * directives, which the recv length excludes) */
  size_t at = 0;
  while (at < size) {
    const uint8_t *nl = memchr(data + at, '\n', size - at);
    size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
    char *line = malloc(len + 1);
    if (!line)
      abort();
    memcpy(line, data + at, len);
    line[len] = '\0';
    run_line(line, len);
    free(line);
    at += len + 1;
  }

  ocpp_session_close(R.s, R.now);
  if (ocpp_session_pending(R.s) != 0 || ocpp_session_next_deadline(R.s) != 0)
    abort();
  ocpp_session_destroy(R.s);
  free(R.cp.conn_state);
  for (int i = 0; i < R.n_tokens; i++)
    if (R.calls[i] != R.expected[i])
      abort();
  return 0;
}
