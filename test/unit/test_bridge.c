/* gw_bridge against fake ends: a recording KNX bus and a recording OCPP
 * server whose command results each test decides. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/bridge.h"
#include "gateway/uplink.h"
#include "gateway/web.h"

/* ---- fake ends ------------------------------------------------------------ */

enum { MAX_SENT = 16384, MAX_CMDS = 64, MAX_LOGS = 256 };

typedef struct {
  uint16_t ga;
  knx_service svc;
  knx_payload p;
} sent_telegram;

typedef struct {
  ocpp_command_kind kind;
  char charger[32];
  int connector;
  char tag[32];
  int expiry_s;
  double amps;
  bool operative;
  bool hard;
  ocpp_command_cb cb;
  void *cb_data;
  bool completed;
} sent_cmd;

/* The charger record of CP1's connectors, as the OCPP side keeps it: the
 * event helpers below update it the way the server does before it emits. */
typedef struct {
  int32_t tx;
  bool has_start;
  double start_wh;
  bool has_energy;
  double energy_wh;
} fake_tx;

typedef struct {
  sent_telegram sent[MAX_SENT];
  size_t n_sent;
  int send_rc;
  sent_cmd cmds[MAX_CMDS];
  size_t n_cmds;
  int cmd_rc;
  size_t wakes;
  fake_tx txs[GW_MAX_CONNECTORS + 1];
  char logs[MAX_LOGS][256];
  size_t n_logs;
} fake_ends;

static fake_ends *F;

static int fake_send(void *u, uint16_t ga, knx_service svc,
                     const knx_payload *p)
{
  fake_ends *f = u;
  if (f->send_rc != 0)
    return f->send_rc;
  cr_assert_lt(f->n_sent, MAX_SENT);
  f->sent[f->n_sent++] = (sent_telegram){ga, svc, *p};
  return 0;
}

/* Records what the bridge asked for; a nonzero cmd_rc is the error the
 * command function returns (the callback then never comes). */
static int fake_command(void *u, const char *id, const ocpp_command *cmd,
                        ocpp_command_cb cb, void *cb_data)
{
  fake_ends *f = u;
  cr_assert_lt(f->n_cmds, MAX_CMDS);
  sent_cmd *c = &f->cmds[f->n_cmds++];
  memset(c, 0, sizeof *c);
  c->kind = cmd->kind;
  snprintf(c->charger, sizeof c->charger, "%s", id);
  c->connector = cmd->connector;
  snprintf(c->tag, sizeof c->tag, "%s", cmd->id_tag ? cmd->id_tag : "(null)");
  c->expiry_s = cmd->expiry_s;
  c->amps = cmd->amps;
  c->operative = cmd->operative;
  c->hard = cmd->hard;
  c->cb = cb;
  c->cb_data = cb_data;
  c->completed = f->cmd_rc != 0;
  return f->cmd_rc;
}

static int fake_transaction(void *u, const char *id, int conn,
                            ocpp_transaction_info *out)
{
  fake_ends *f = u;
  if (strcmp(id, "CP1") != 0 || conn < 1 || conn > GW_MAX_CONNECTORS)
    return OCPP_EUNKNOWN;
  const fake_tx *t = &f->txs[conn];
  *out = (ocpp_transaction_info){
    .transaction_id = t->tx,
    .has_meter_start = t->tx != 0 && t->has_start,
    .meter_start_wh = t->start_wh,
    .has_energy = t->has_energy,
    .energy_wh = t->energy_wh,
  };
  return OCPP_OK;
}

static void fake_wake(void *u)
{
  ((fake_ends *)u)->wakes++;
}

static void fake_log(void *u, gw_log_level level, const char *id,
                     const char *msg)
{
  (void)level;
  (void)id;
  fake_ends *f = u;
  if (f->n_logs < MAX_LOGS)
    snprintf(f->logs[f->n_logs++], sizeof f->logs[0], "%s", msg);
}

static const gw_bridge_ops fake_ops = {
  .knx_send = fake_send,
  .command = fake_command,
  .transaction = fake_transaction,
  .wake = fake_wake,
  .log = fake_log,
};

/* ---- configuration ------------------------------------------------------ */

#define GA3(a, b, c) ((uint16_t)((a) << 11 | (b) << 8 | (c)))
/* Connector k's object obj lives at 9/k/obj. */
#define GA(conn, obj) GA3(9, (conn), (obj))

static void connector_all(gw_connector_conf *cn, int id)
{
  memset(cn, 0, sizeof *cn);
  cn->id = id;
  for (int obj = 0; obj < GW_OBJ_COUNT; obj++) {
    cn->has_ga[obj] = true;
    cn->ga[obj] = GA(id, obj);
  }
}

/* Connector tables of the chargers a test builds; each test runs in a
 * process of its own, so the pool never runs dry. */
static gw_connector_conf connector_pool[4096];
static size_t connector_pool_used;

static gw_charger_conf charger_cfg(const char *id, int n_connectors)
{
  gw_charger_conf c;
  memset(&c, 0, sizeof c);
  cr_assert_leq(connector_pool_used + (size_t)n_connectors,
                sizeof connector_pool / sizeof connector_pool[0]);
  c.connectors = &connector_pool[connector_pool_used];
  connector_pool_used += (size_t)n_connectors;
  c.id = (char *)id;
  c.name = (char *)id;
  c.normal_current = 10;
  c.fast_current = 16;
  c.current_hysteresis = 0.2;
  c.power_hysteresis = 100;
  c.energy_hysteresis = 100;
  c.voltage = 230;
  c.phases = 3;
  c.time_dpt = KNX_DPT_10_001;
  c.current_dpt = KNX_DPT_14_019;
  c.power_dpt = KNX_DPT_14_056;
  c.meter_dpt = KNX_DPT_13_013;
  c.remote_tag = (char *)"KNX";
  c.stop_mode = GW_STOP_STOP;
  c.reservation_minutes = 30;
  c.n_connectors = (size_t)n_connectors;
  for (int i = 0; i < n_connectors; i++)
    connector_all(&c.connectors[i], i + 1);
  return c;
}

/* ---- fixture -------------------------------------------------------------- */

static gw_bridge *B;
static uint64_t NOW;

static void make_bridge(const gw_charger_conf *c, size_t n, int tps)
{
  gw_bridge_destroy(B);
  B = NULL;
  cr_assert_eq(gw_bridge_create(c, n, tps, &fake_ops, F, &B), GW_OK);
}

static void setup(void)
{
  F = calloc(1, sizeof *F);
  cr_assert_not_null(F);
  NOW = 1000;
  gw_charger_conf c = charger_cfg("CP1", 1);
  make_bridge(&c, 1, 1000);
}

static void teardown(void)
{
  /* Every queued command gets its answer before destroy, as the server
   * guarantees; the contexts would leak otherwise. */
  for (size_t i = 0; F && i < F->n_cmds; i++) {
    if (!F->cmds[i].completed) {
      F->cmds[i].completed = true;
      F->cmds[i].cb(F->cmds[i].cb_data, OCPP_RESULT_OFFLINE);
    }
  }
  gw_bridge_destroy(B);
  B = NULL;
  free(F);
  F = NULL;
}

TestSuite(bridge, .init = setup, .fini = teardown);

/* Sends everything queued, whatever the rate limit. */
static void flush(void)
{
  for (int i = 0; i < 100000; i++) {
    NOW += 1000;
    if (gw_bridge_pump(B, NOW) == 0)
      return;
  }
  cr_assert_fail("queue never drained");
}

static void clear_sent(void)
{
  flush();
  F->n_sent = 0;
}

static size_t count_to(uint16_t ga)
{
  size_t n = 0;
  for (size_t i = 0; i < F->n_sent; i++)
    n += F->sent[i].ga == ga;
  return n;
}

static const sent_telegram *last_to(uint16_t ga)
{
  for (size_t i = F->n_sent; i-- > 0;) {
    if (F->sent[i].ga == ga)
      return &F->sent[i];
  }
  return NULL;
}

static void expect_bytes(uint16_t ga, const uint8_t *bytes, size_t len)
{
  const sent_telegram *t = last_to(ga);
  cr_assert_not_null(t, "nothing sent to %u", ga);
  cr_assert_eq(t->svc, KNX_GROUP_WRITE);
  cr_assert_eq(t->p.len, len, "length %u, expected %zu", t->p.len, len);
  for (size_t i = 0; i < len; i++)
    cr_assert_eq(t->p.data[i], bytes[i], "byte %zu: %02x, expected %02x", i,
                 t->p.data[i], bytes[i]);
}

#define EXPECT_BYTES(ga, ...)                                                  \
  do {                                                                         \
    const uint8_t b_[] = {__VA_ARGS__};                                        \
    expect_bytes((ga), b_, sizeof b_);                                         \
  } while (0)

static double last_number(uint16_t ga, knx_dpt dpt)
{
  const sent_telegram *t = last_to(ga);
  cr_assert_not_null(t, "nothing sent to %u", ga);
  knx_value v;
  cr_assert_eq(knx_dpt_decode(dpt, &t->p, &v), KNX_OK);
  return v.number;
}

static bool logged(const char *needle)
{
  for (size_t i = 0; i < F->n_logs; i++) {
    if (strstr(F->logs[i], needle))
      return true;
  }
  return false;
}

/* ---- events ---------------------------------------------------------------- */

static void event(const ocpp_event *ev)
{
  gw_bridge_on_ocpp_event(B, ev, NOW);
}

static void ev_status_of(const char *id, int conn, ocpp_cp_status s,
                         ocpp_cp_error e)
{
  ocpp_event ev = {.type = OCPP_EV_STATUS, .charger_id = id,
                   .connector = conn};
  ev.status.status = s;
  ev.status.error = e;
  ev.status.info = "";
  ev.status.vendor_error = "";
  event(&ev);
}

static void ev_status(int conn, ocpp_cp_status s, ocpp_cp_error e)
{
  ev_status_of("CP1", conn, s, e);
}

static void ev_simple(ocpp_event_type type)
{
  ocpp_event ev = {.type = type, .charger_id = "CP1"};
  event(&ev);
}

static void ev_start(int conn, int32_t tx, const char *tag, double start_wh,
                     time_t ts)
{
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .charger_id = "CP1",
                   .connector = conn, .timestamp = ts};
  ev.tx_started.transaction_id = tx;
  ev.tx_started.id_tag = tag;
  ev.tx_started.meter_start_wh = start_wh;
  F->txs[conn] = (fake_tx){tx, true, start_wh, F->txs[conn].has_energy,
                           F->txs[conn].energy_wh};
  event(&ev);
}

static void ev_recovered(int conn, int32_t tx, double start_wh)
{
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .charger_id = "CP1",
                   .connector = conn, .timestamp = 1};
  ev.tx_started.transaction_id = tx;
  ev.tx_started.id_tag = "";
  ev.tx_started.meter_start_wh = start_wh;
  ev.tx_started.recovered = true;
  F->txs[conn] = (fake_tx){tx, true, start_wh, F->txs[conn].has_energy,
                           F->txs[conn].energy_wh};
  event(&ev);
}

static void ev_stop_full(int conn, int32_t tx, bool has_stop, double stop_wh,
                         time_t ts, bool duplicate)
{
  ocpp_event ev = {.type = OCPP_EV_TX_STOPPED, .charger_id = "CP1",
                   .connector = conn, .timestamp = ts};
  ev.tx_stopped.transaction_id = tx;
  ev.tx_stopped.id_tag = "";
  ev.tx_stopped.has_meter_stop = has_stop;
  ev.tx_stopped.meter_stop_wh = stop_wh;
  ev.tx_stopped.reason = "";
  ev.tx_stopped.duplicate = duplicate;
  fake_tx *t = &F->txs[conn];
  if (!duplicate && t->tx == tx) {
    ev.tx_stopped.has_meter_start = t->has_start;
    ev.tx_stopped.meter_start_wh = t->start_wh;
    if (has_stop && t->has_start && stop_wh >= t->start_wh) {
      ev.tx_stopped.has_session_energy = true;
      ev.tx_stopped.session_energy_wh = stop_wh - t->start_wh;
    }
    t->tx = 0;
  }
  event(&ev);
}

static void ev_stop(int conn, int32_t tx, double stop_wh, time_t ts)
{
  ev_stop_full(conn, tx, true, stop_wh, ts, false);
}

typedef struct {
  int32_t tx;
  bool has_current, has_power, has_energy;
  double current_a, power_w, energy_wh;
} meter_sample;

static void ev_meter(int conn, meter_sample m)
{
  ocpp_event ev = {.type = OCPP_EV_METER, .charger_id = "CP1",
                   .connector = conn, .timestamp = 1};
  ev.meter.transaction_id = m.tx;
  ev.meter.context = "Sample.Periodic";
  ev.meter.has_current = m.has_current;
  ev.meter.current_a = m.current_a;
  ev.meter.has_power = m.has_power;
  ev.meter.power_w = m.power_w;
  ev.meter.has_energy = m.has_energy;
  ev.meter.energy_wh = m.energy_wh;
  for (int i = 0; i < 3; i++)
    ev.meter.current_phase_a[i] = NAN;
  fake_tx *t = &F->txs[conn];
  if (m.has_energy) {
    t->has_energy = true;
    t->energy_wh = m.energy_wh;
    if (t->tx && (m.tx == 0 || m.tx == t->tx) && t->has_start &&
        m.energy_wh >= t->start_wh) {
      ev.meter.has_session_energy = true;
      ev.meter.session_energy_wh = m.energy_wh - t->start_wh;
    }
  }
  event(&ev);
}

static void ev_current(double a)
{
  ev_meter(1, (meter_sample){.has_current = true, .current_a = a});
}

static void ev_named_tag(int conn, const char *tag, const char *name)
{
  ocpp_event ev = {.type = OCPP_EV_TAG, .charger_id = "CP1",
                   .connector = conn};
  ev.tag.id_tag = tag;
  ev.tag.name = name;
  ev.tag.result = OCPP_AUTH_ACCEPTED;
  event(&ev);
}

static void ev_tag(int conn, const char *tag)
{
  ev_named_tag(conn, tag, NULL);
}

/* ---- KNX input ---------------------------------------------------------- */

static void knx_write_value(uint16_t ga, knx_dpt dpt, double number)
{
  knx_value v;
  memset(&v, 0, sizeof v);
  v.number = number;
  knx_payload p;
  cr_assert_eq(knx_dpt_encode(dpt, &v, &p), KNX_OK);
  gw_bridge_on_knx_group(B, 0x1105, ga, KNX_GROUP_WRITE, &p, NOW);
}

static void knx_write_bit(gw_object obj, int bit)
{
  knx_write_value(GA(1, obj), KNX_DPT_1_001, bit);
}

static void knx_read(uint16_t ga)
{
  knx_payload p = {0};
  gw_bridge_on_knx_group(B, 0x1105, ga, KNX_GROUP_READ, &p, NOW);
}

static void complete(size_t i, ocpp_result r)
{
  cr_assert_lt(i, F->n_cmds);
  cr_assert(!F->cmds[i].completed);
  F->cmds[i].completed = true;
  F->cmds[i].cb(F->cmds[i].cb_data, r);
}

static const sent_cmd *only_cmd(ocpp_command_kind kind)
{
  cr_assert_eq(F->n_cmds, 1, "%zu commands", F->n_cmds);
  cr_assert_eq(F->cmds[0].kind, kind, "command %d", F->cmds[0].kind);
  cr_assert_str_eq(F->cmds[0].charger, "CP1");
  return &F->cmds[0];
}

/* ---- payloads of the state objects ------------------------------------- */

Test(bridge, status_charging_is_dpt5_byte_2)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_STATUS), 0x02);
}

Test(bridge, every_status_maps_to_the_table_value)
{
  static const struct {
    ocpp_cp_status s;
    uint8_t knx;
  } table[] = {
    {OCPP_CP_AVAILABLE, 0},     {OCPP_CP_PREPARING, 1},
    {OCPP_CP_CHARGING, 2},      {OCPP_CP_SUSPENDED_EV, 3},
    {OCPP_CP_SUSPENDED_EVSE, 4}, {OCPP_CP_FINISHING, 5},
    {OCPP_CP_RESERVED, 6},      {OCPP_CP_UNAVAILABLE, 7},
    {OCPP_CP_FAULTED, 8},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    ev_status(1, table[i].s, OCPP_ERR_NO_ERROR);
    flush();
    EXPECT_BYTES(GA(1, GW_OBJ_STATUS), table[i].knx);
  }
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 9);
}

Test(bridge, every_error_code_maps_to_the_table_value)
{
  static const struct {
    ocpp_cp_error e;
    uint8_t knx;
  } table[] = {
    {OCPP_ERR_NO_ERROR, 0},
    {OCPP_ERR_CONNECTOR_LOCK_FAILURE, 1},
    {OCPP_ERR_EV_COMMUNICATION_ERROR, 2},
    {OCPP_ERR_GROUND_FAILURE, 3},
    {OCPP_ERR_HIGH_TEMPERATURE, 4},
    {OCPP_ERR_INTERNAL_ERROR, 5},
    {OCPP_ERR_LOCAL_LIST_CONFLICT, 6},
    {OCPP_ERR_OTHER_ERROR, 7},
    {OCPP_ERR_OVER_CURRENT_FAILURE, 8},
    {OCPP_ERR_OVER_VOLTAGE, 9},
    {OCPP_ERR_POWER_METER_FAILURE, 10},
    {OCPP_ERR_POWER_SWITCH_FAILURE, 11},
    {OCPP_ERR_READER_FAILURE, 12},
    {OCPP_ERR_RESET_FAILURE, 13},
    {OCPP_ERR_UNDER_VOLTAGE, 14},
    {OCPP_ERR_WEAK_SIGNAL, 15},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    ev_status(1, OCPP_CP_FAULTED, table[i].e);
    flush();
    EXPECT_BYTES(GA(1, GW_OBJ_ERROR_CODE), table[i].knx);
  }
  cr_assert_eq(count_to(GA(1, GW_OBJ_ERROR_CODE)), 16);
}

Test(bridge, plugged_is_1_from_preparing_to_finishing)
{
  static const struct {
    ocpp_cp_status s;
    uint8_t plugged;
  } table[] = {
    {OCPP_CP_AVAILABLE, 0},      {OCPP_CP_PREPARING, 1},
    {OCPP_CP_CHARGING, 1},       {OCPP_CP_SUSPENDED_EV, 1},
    {OCPP_CP_SUSPENDED_EVSE, 1}, {OCPP_CP_FINISHING, 1},
    {OCPP_CP_RESERVED, 0},       {OCPP_CP_UNAVAILABLE, 0},
    {OCPP_CP_FAULTED, 0},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    ev_status(1, table[i].s, OCPP_ERR_NO_ERROR);
    flush();
    const sent_telegram *t = last_to(GA(1, GW_OBJ_PLUGGED));
    cr_assert_not_null(t);
    cr_assert(t->p.short_form);
    cr_assert_eq(t->p.data[0], table[i].plugged, "status %d", table[i].s);
  }
}

static void set_dpts(knx_dpt time_dpt, knx_dpt current_dpt, knx_dpt power_dpt,
                     knx_dpt meter_dpt)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  c.time_dpt = time_dpt;
  c.current_dpt = current_dpt;
  c.power_dpt = power_dpt;
  c.meter_dpt = meter_dpt;
  make_bridge(&c, 1, 1000);
}

Test(bridge, current_16a_in_dpt14_019)
{
  ev_current(16.0);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_CURRENT), 0x41, 0x80, 0x00, 0x00);
}

Test(bridge, current_16a_in_dpt9_021_is_16000_ma)
{
  set_dpts(KNX_DPT_10_001, KNX_DPT_9_021, KNX_DPT_14_056, KNX_DPT_13_013);
  ev_current(16.0);
  flush();
  /* 16000 mA = 0.01 * 1563 * 2^10 (rounded mantissa): E = 10, M = 0x61B. */
  EXPECT_BYTES(GA(1, GW_OBJ_CURRENT), 0x56, 0x1B);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_CURRENT), KNX_DPT_9_021),
                     16000.0, 10.0);
}

Test(bridge, power_in_dpt14_056_and_dpt9_024)
{
  ev_meter(1, (meter_sample){.has_power = true, .power_w = 11000});
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_POWER), 0x46, 0x2B, 0xE0, 0x00);
  set_dpts(KNX_DPT_10_001, KNX_DPT_14_019, KNX_DPT_9_024, KNX_DPT_13_013);
  F->n_sent = 0;
  ev_meter(1, (meter_sample){.has_power = true, .power_w = 11000});
  flush();
  /* 11 kW = 0.01 * 1100: E = 0, M = 0x44C. */
  EXPECT_BYTES(GA(1, GW_OBJ_POWER), 0x04, 0x4C);
}

Test(bridge, meter_in_dpt13_013_kwh_and_dpt13_010_wh)
{
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 12345678});
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_METER), 0x00, 0x00, 0x30, 0x3A); /* 12346 kWh */
  set_dpts(KNX_DPT_10_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_010);
  F->n_sent = 0;
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 12345678});
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_METER), 0x00, 0xBC, 0x61, 0x4E);
}

static void berlin(void)
{
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
}

/* 2024-07-15 12:34:56 UTC, a Monday: 14:34:56 CEST in Berlin. */
static const time_t SUMMER_MONDAY = 1721046896;
/* 2024-01-15 12:34:56 UTC, a Monday: 13:34:56 CET. */
static const time_t WINTER_MONDAY = 1705322096;
/* 2024-07-14 12:34:56 UTC, a Sunday. */
static const time_t SUMMER_SUNDAY = 1720960496;

Test(bridge, start_time_in_dpt10_001_is_local_with_weekday)
{
  berlin();
  ev_start(1, 7, "TAG", 1000, SUMMER_MONDAY);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_START_TIME), 1 << 5 | 14, 34, 56);
}

Test(bridge, sunday_is_weekday_7_in_dpt10_001)
{
  berlin();
  ev_start(1, 7, "TAG", 1000, SUMMER_SUNDAY);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_START_TIME), 7 << 5 | 14, 34, 56);
}

Test(bridge, end_time_in_dpt19_001_has_date_weekday_and_summer_flag)
{
  berlin();
  set_dpts(KNX_DPT_19_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_013);
  ev_start(1, 7, "TAG", 1000, SUMMER_MONDAY - 3600);
  ev_stop(1, 7, 2000, SUMMER_MONDAY);
  flush();
  /* year-1900, month, day, weekday|hour, minute, second, NWD|SUTI, 0 */
  EXPECT_BYTES(GA(1, GW_OBJ_END_TIME), 124, 7, 15, 1 << 5 | 14, 34, 56,
               0x21, 0x00);
}

Test(bridge, winter_time_in_dpt19_001_has_no_summer_flag)
{
  berlin();
  set_dpts(KNX_DPT_19_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_013);
  ev_start(1, 7, "TAG", 1000, WINTER_MONDAY);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_START_TIME), 124, 1, 15, 1 << 5 | 13, 34, 56,
               0x20, 0x00);
}

Test(bridge, session_energy_is_stop_minus_start_in_dpt13_010)
{
  ev_start(1, 7, "TAG", 1000, 100);
  ev_stop(1, 7, 12500, 200);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_SESSION_ENERGY), 0x00, 0x00, 0x2C, 0xEC);
  EXPECT_BYTES(GA(1, GW_OBJ_SESSION_ENERGY_LIVE), 0x00, 0x00, 0x2C, 0xEC);
}

Test(bridge, meter_stop_updates_the_meter_object)
{
  ev_start(1, 7, "TAG", 1000000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true, .energy_wh = 1002000});
  ev_stop(1, 7, 1004000, 200);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_METER), 0x00, 0x00, 0x03, 0xEC); /* 1004 kWh */
}

Test(bridge, meter_stop_within_hysteresis_does_not_resend_the_meter)
{
  ev_start(1, 7, "TAG", 1000000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true, .energy_wh = 1002000});
  ev_stop(1, 7, 1002050, 200);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_METER)), 1);
}

Test(bridge, current_and_power_drop_to_0_when_the_transaction_stops)
{
  ev_start(1, 7, "TAG", 1000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_current = true, .current_a = 16,
                             .has_power = true, .power_w = 11040});
  ev_stop(1, 7, 4000, 200);
  flush();
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_CURRENT), KNX_DPT_14_019), 0, 1e-9);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_POWER), KNX_DPT_14_056), 0, 1e-9);
}

Test(bridge, session_energy_uses_last_meter_when_stop_has_none)
{
  ev_start(1, 7, "TAG", 1000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true,
                             .energy_wh = 4000});
  ev_stop_full(1, 7, false, 0, 200, false);
  flush();
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY), KNX_DPT_13_010), 3000, 0.5);
}

Test(bridge, session_energy_after_a_restart_uses_the_stored_start)
{
  /* no StartTransaction seen by this process: the start comes with the
   * stop event (the server read it from the store) */
  ocpp_event ev = {.type = OCPP_EV_TX_STOPPED, .charger_id = "CP1",
                   .connector = 1, .timestamp = 200};
  ev.tx_stopped.transaction_id = 7;
  ev.tx_stopped.id_tag = "";
  ev.tx_stopped.has_meter_stop = true;
  ev.tx_stopped.meter_stop_wh = 4000;
  ev.tx_stopped.has_meter_start = true;
  ev.tx_stopped.meter_start_wh = 1000;
  ev.tx_stopped.reason = "";
  event(&ev);
  flush();
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY), KNX_DPT_13_010), 3000, 0.5);
}

Test(bridge, stop_without_connector_ends_the_only_running_transaction)
{
  /* id -1: the record cannot tie it, the transaction still runs there */
  ev_start(1, 7, "TAG", 1000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true, .energy_wh = 2500});
  ev_stop_full(0, -1, true, 4000, 200, false);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 0);
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY), KNX_DPT_13_010), 3000, 0.5);
}

Test(bridge, session_energy_not_sent_without_a_start_value)
{
  ev_stop(1, 7, 12500, 200);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_SESSION_ENERGY)), 0);
  cr_assert_eq(count_to(GA(1, GW_OBJ_END_TIME)), 1);
}

Test(bridge, transaction_sets_and_clears_charging_state)
{
  ev_start(1, 7, "TAG", 1000, 100);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
  ev_current(16);
  ev_stop(1, 7, 2000, 200);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 0);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_CURRENT), KNX_DPT_14_019), 0,
                     1e-9);
}

Test(bridge, duplicate_stop_is_ignored)
{
  ev_start(1, 7, "TAG", 1000, 100);
  ev_stop(1, 7, 2000, 200);
  clear_sent();
  ev_stop_full(1, 7, true, 3000, 300, true);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, recovered_transaction_sends_charging_and_live_energy_only)
{
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 5000});
  clear_sent();
  ev_recovered(1, 9, 2000);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY_LIVE), KNX_DPT_13_010), 3000,
      0.5);
  cr_assert_eq(count_to(GA(1, GW_OBJ_START_TIME)), 0);
  cr_assert_eq(count_to(GA(1, GW_OBJ_LAST_TAG)), 0);
}

Test(bridge, live_energy_follows_meter_during_transaction)
{
  set_dpts(KNX_DPT_10_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_010);
  ev_start(1, 7, "TAG", 1000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true,
                             .energy_wh = 1050});
  flush();
  /* 50 Wh is within the 100 Wh hysteresis: still the 0 of the start. */
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY_LIVE), KNX_DPT_13_010), 0, 0.5);
  ev_meter(1, (meter_sample){.tx = 7, .has_energy = true,
                             .energy_wh = 1250});
  flush();
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_SESSION_ENERGY_LIVE), KNX_DPT_13_010), 250,
      0.5);
}

Test(bridge, meter_backlog_of_a_finished_transaction_is_not_published)
{
  ev_start(1, 7, "TAG", 1000, 100);
  ev_stop(1, 7, 2000, 200);
  clear_sent();
  ev_meter(1, (meter_sample){.tx = 7, .has_current = true, .current_a = 16});
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, last_tag_is_sent_as_dpt16_000)
{
  ev_tag(0, "04A1B2C3");
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), '0', '4', 'A', '1', 'B', '2', 'C', '3',
               0, 0, 0, 0, 0, 0);
}

Test(bridge, long_tag_is_cut_to_14_bytes_with_a_log_line)
{
  ev_start(1, 7, "0123456789ABCDEFGH", 1000, 100);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), '0', '1', '2', '3', '4', '5', '6', '7',
               '8', '9', 'A', 'B', 'C', 'D');
  cr_assert(logged("longer than 14"));
}

Test(bridge, non_ascii_tag_bytes_become_question_marks)
{
  ev_tag(1, "M\xc3\xbcller");
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), 'M', '?', '?', 'l', 'l', 'e', 'r', 0,
               0, 0, 0, 0, 0, 0);
}

Test(bridge, last_tag_shows_the_name_of_a_named_tag)
{
  ev_named_tag(1, "04A2B3C4", "Anna");
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), 'A', 'n', 'n', 'a', 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0);
  ev_named_tag(1, "11223344", "");
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), '1', '1', '2', '2', '3', '3', '4', '4',
               0, 0, 0, 0, 0, 0);
}

Test(bridge, long_name_is_cut_to_14_characters_on_last_tag)
{
  ev_named_tag(1, "0A0B0C0D", "Company car M\xc3\xbcller");
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), 'C', 'o', 'm', 'p', 'a', 'n', 'y', ' ',
               'c', 'a', 'r', ' ', 'M', '?');
}

Test(bridge, started_transaction_publishes_the_tag_name)
{
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .charger_id = "CP1",
                   .connector = 1, .timestamp = 1000};
  ev.tx_started.transaction_id = 9;
  ev.tx_started.id_tag = "04A2B3C4";
  ev.tx_started.tag_name = "Anna";
  F->txs[1] = (fake_tx){9, true, 0, false, 0};
  event(&ev);
  flush();
  EXPECT_BYTES(GA(1, GW_OBJ_LAST_TAG), 'A', 'n', 'n', 'a', 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0);
}

Test(bridge, online_and_offline_set_online_object)
{
  ev_simple(OCPP_EV_ONLINE);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_ONLINE))->p.data[0], 1);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_simple(OCPP_EV_OFFLINE);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_ONLINE))->p.data[0], 0);
  /* The other objects keep their values: a read still answers them. */
  F->n_sent = 0;
  knx_read(GA(1, GW_OBJ_STATUS));
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(F->sent[0].p.data[0], 2);
}

Test(bridge, upstream_link_sets_upstream_online_and_not_online)
{
  gw_bridge_on_upstream(B, "CP1", true, 0);
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_UPSTREAM_ONLINE))->p.data[0], 1);
  gw_bridge_on_upstream(B, "CP1", false, 0);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_UPSTREAM_ONLINE))->p.data[0], 0);
  cr_assert_null(last_to(GA(1, GW_OBJ_ONLINE)));
  F->n_sent = 0;
  gw_bridge_on_upstream(B, "other", true, 0);
  gw_bridge_on_upstream(B, NULL, true, 0);
  gw_bridge_on_upstream(NULL, "CP1", true, 0);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, boot_and_refused_send_nothing)
{
  ev_simple(OCPP_EV_BOOT);
  ev_simple(OCPP_EV_REFUSED);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

/* ---- availability and connector 0 ------------------------------------------ */

Test(bridge, availability_state_starts_at_1_and_follows_unavailable)
{
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 1);
  ev_status(1, OCPP_CP_UNAVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 0);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_AVAILABILITY_STATE)), 3);
}

Test(bridge, connector_0_unavailable_applies_to_all_connectors)
{
  gw_charger_conf c = charger_cfg("CP1", 2);
  make_bridge(&c, 1, 1000);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  ev_status(2, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  clear_sent();
  ev_status(0, OCPP_CP_UNAVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 0);
  cr_assert_eq(last_to(GA(2, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 0);
  /* The per-connector status objects keep their own values. */
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 0);
  cr_assert_eq(count_to(GA(2, GW_OBJ_STATUS)), 0);
  ev_status(0, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 1);
  cr_assert_eq(last_to(GA(2, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 1);
}

Test(bridge, connector_0_faulted_applies_error_to_all_connectors)
{
  gw_charger_conf c = charger_cfg("CP1", 2);
  make_bridge(&c, 1, 1000);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  ev_status(2, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  clear_sent();
  ev_status(0, OCPP_CP_FAULTED, OCPP_ERR_HIGH_TEMPERATURE);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_ERROR_CODE))->p.data[0], 4);
  cr_assert_eq(last_to(GA(2, GW_OBJ_ERROR_CODE))->p.data[0], 4);
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 0);
}

Test(bridge, connector_0_available_does_not_touch_status_objects)
{
  ev_status(0, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 0);
  cr_assert_eq(count_to(GA(1, GW_OBJ_PLUGGED)), 0);
}

/* ---- change detection and hysteresis ----------------------------------- */

Test(bridge, unchanged_value_is_not_sent_again)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  flush();
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_PLUGGED)), 1);
}

Test(bridge, current_within_hysteresis_is_not_sent)
{
  ev_current(16.0);
  ev_current(16.15);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
  ev_current(15.85);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
}

Test(bridge, current_step_of_exactly_the_hysteresis_is_not_sent)
{
  /* 16.1 - 15.9 is 0.2000000000000028 in binary: still "not more". */
  ev_current(15.9);
  flush();
  ev_current(16.1);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
}

Test(bridge, current_beyond_hysteresis_is_sent)
{
  ev_current(16.0);
  flush();
  ev_current(16.25);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 2);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_CURRENT), KNX_DPT_14_019),
                     16.25, 1e-6);
}

Test(bridge, hysteresis_measures_from_the_last_sent_value)
{
  ev_current(16.0);
  flush();
  /* Three small steps: each within 0.2 A of the previous, but the third
   * is 0.3 A from what the bus shows. */
  ev_current(16.1);
  ev_current(16.2);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
  ev_current(16.3);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 2);
}

Test(bridge, current_dropping_to_zero_is_always_sent)
{
  ev_current(0.1);
  flush();
  ev_current(0.0);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 2);
}

Test(bridge, power_and_meter_respect_their_hysteresis)
{
  set_dpts(KNX_DPT_10_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_010);
  ev_meter(1, (meter_sample){.has_power = true, .power_w = 11000,
                             .has_energy = true, .energy_wh = 50000});
  ev_meter(1, (meter_sample){.has_power = true, .power_w = 11090,
                             .has_energy = true, .energy_wh = 50090});
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_POWER)), 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_METER)), 1);
  ev_meter(1, (meter_sample){.has_power = true, .power_w = 11150,
                             .has_energy = true, .energy_wh = 50150});
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_POWER)), 2);
  cr_assert_eq(count_to(GA(1, GW_OBJ_METER)), 2);
}

Test(bridge, meter_in_kwh_is_sent_only_when_the_kwh_changes)
{
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 50000});
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 50300});
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_METER)), 1);
  ev_meter(1, (meter_sample){.has_energy = true, .energy_wh = 50600});
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_METER)), 2);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_METER), KNX_DPT_13_013), 51,
                     1e-9);
}

/* ---- reads ----------------------------------------------------------------- */

Test(bridge, read_on_state_address_is_answered_with_the_value)
{
  ev_status(1, OCPP_CP_SUSPENDED_EV, OCPP_ERR_NO_ERROR);
  clear_sent();
  knx_read(GA(1, GW_OBJ_STATUS));
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(F->sent[0].svc, KNX_GROUP_RESPONSE);
  cr_assert_eq(F->sent[0].ga, GA(1, GW_OBJ_STATUS));
  cr_assert_eq(F->sent[0].p.data[0], 3);
}

Test(bridge, read_of_a_never_known_value_is_not_answered)
{
  knx_read(GA(1, GW_OBJ_STATUS));
  knx_read(GA(1, GW_OBJ_CURRENT));
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, read_on_command_address_is_ignored)
{
  ev_start(1, 7, "TAG", 1000, 100);
  clear_sent();
  knx_read(GA(1, GW_OBJ_CHARGING));
  flush();
  cr_assert_eq(F->n_sent, 0);
  cr_assert_eq(F->n_cmds, 0);
}

Test(bridge, responses_go_before_queued_writes)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  make_bridge(&c, 1, 1);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  gw_bridge_pump(B, NOW); /* status: the one token */
  cr_assert_eq(F->n_sent, 1);
  knx_read(GA(1, GW_OBJ_STATUS));
  NOW += 1000;
  gw_bridge_pump(B, NOW);
  cr_assert_eq(F->n_sent, 2);
  cr_assert_eq(F->sent[1].svc, KNX_GROUP_RESPONSE);
}

Test(bridge, responses_are_not_coalesced)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  clear_sent();
  knx_read(GA(1, GW_OBJ_STATUS));
  knx_read(GA(1, GW_OBJ_STATUS));
  flush();
  cr_assert_eq(F->n_sent, 2);
}

/* ---- queue, coalescing, rate limit ------------------------------------- */

Test(bridge, coalescing_sends_only_the_newest_value)
{
  ev_current(10);
  ev_status(1, OCPP_CP_PREPARING, OCPP_ERR_NO_ERROR);
  ev_current(16);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_CURRENT), KNX_DPT_14_019), 16,
                     1e-9);
  /* The address keeps its first place in the queue. */
  cr_assert_eq(F->sent[0].ga, GA(1, GW_OBJ_CURRENT));
  cr_assert_eq(F->sent[1].ga, GA(1, GW_OBJ_STATUS));
}

/* Five connectors, four objects each from one status: 20 telegrams. */
static void queue_twenty(int tps)
{
  gw_charger_conf c = charger_cfg("CP1", 5);
  make_bridge(&c, 1, tps);
  for (int conn = 1; conn <= 5; conn++)
    ev_status(conn, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
}

Test(bridge, rate_limit_spaces_telegrams_200_ms_apart_at_five_per_second)
{
  queue_twenty(5);
  uint64_t t0 = 50000;
  uint64_t next = gw_bridge_pump(B, t0);
  cr_assert_eq(F->n_sent, 1, "burst of %zu", F->n_sent);
  cr_assert_eq(next, t0 + 200);
  /* Calling early sends nothing and names the same time. */
  cr_assert_eq(gw_bridge_pump(B, t0 + 199), t0 + 200);
  cr_assert_eq(F->n_sent, 1);
  int calls = 0;
  while (next != 0 && calls < 100) {
    uint64_t at = next;
    size_t before = F->n_sent;
    next = gw_bridge_pump(B, at);
    calls++;
    cr_assert_eq(F->n_sent - before, 1);
    cr_assert(next == 0 || next == at + 200, "next %llu after %llu",
              (unsigned long long)next, (unsigned long long)at);
  }
  cr_assert_eq(F->n_sent, 20);
  cr_assert_eq(calls, 19);
  cr_assert_eq(gw_bridge_telegrams_sent(B), 20);
}

Test(bridge, rate_limit_never_puts_more_than_the_rate_into_one_second)
{
  queue_twenty(3); /* 333.3 ms: rounding down would fit 4 into a second */
  uint64_t at[20];
  size_t n = 0;
  uint64_t next = 50000;
  while (next != 0 && n < 20) {
    size_t before = F->n_sent;
    uint64_t now = next;
    next = gw_bridge_pump(B, now);
    for (size_t i = before; i < F->n_sent && n < 20; i++)
      at[n++] = now;
  }
  cr_assert_eq(n, 20);
  for (size_t i = 0; i + 3 < n; i++)
    cr_assert_geq(at[i + 3] - at[i], 1000, "4 telegrams within %llu ms",
                  (unsigned long long)(at[i + 3] - at[i]));
}

Test(bridge, rate_limit_first_telegram_after_a_quiet_spell_goes_at_once)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  make_bridge(&c, 1, 5);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR); /* 4 telegrams */
  cr_assert_eq(gw_bridge_pump(B, 50000), 50200);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  flush();
  size_t before = F->n_sent;
  ev_current(16);
  cr_assert_eq(gw_bridge_pump(B, 90000), 0);
  cr_assert_eq(F->n_sent, before + 1);
}

Test(bridge, rate_limit_restarts_when_the_clock_goes_back)
{
  queue_twenty(5);
  gw_bridge_pump(B, 50000);
  cr_assert_eq(F->n_sent, 1);
  gw_bridge_pump(B, 40000);
  cr_assert_eq(F->n_sent, 2);
}

Test(bridge, pump_returns_0_when_nothing_is_queued)
{
  cr_assert_eq(gw_bridge_pump(B, NOW), 0);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  /* 1000 per second: one telegram per millisecond */
  for (uint64_t ms = 0; ms < 3; ms++)
    cr_assert_eq(gw_bridge_pump(B, NOW + ms), NOW + ms + 1);
  cr_assert_eq(gw_bridge_pump(B, NOW + 3), 0);
  cr_assert_eq(F->n_sent, 4);
}

Test(bridge, failed_send_drops_the_telegram)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  F->send_rc = KNX_ENOTCONN;
  flush();
  F->send_rc = 0;
  flush();
  cr_assert_eq(F->n_sent, 0);
  cr_assert_eq(gw_bridge_telegrams_sent(B), 0);
}

Test(bridge, link_up_republishes_every_known_state)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_current(16);
  clear_sent();
  gw_bridge_on_knx_link(B, true, NOW);
  flush();
  /* status, error_code, plugged, availability_state, current */
  cr_assert_eq(F->n_sent, 5);
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_START_TIME)), 0);
}

Test(bridge, link_down_drops_the_queue_and_up_publishes_again)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  gw_bridge_on_knx_link(B, false, NOW);
  cr_assert_eq(gw_bridge_pump(B, NOW + 1000), 0);
  cr_assert_eq(F->n_sent, 0);
  ev_current(16);
  flush();
  cr_assert_eq(F->n_sent, 0);
  gw_bridge_on_knx_link(B, true, NOW);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_STATUS)), 1);
  cr_assert_eq(count_to(GA(1, GW_OBJ_CURRENT)), 1);
}

Test(bridge, full_queue_drops_the_oldest_write_with_a_log_line)
{
  /* 1100 chargers with status objects only: 1100 x 4 = 4400 > 4096. */
  enum { N = 1100 };
  gw_charger_conf *cs = calloc(N, sizeof *cs);
  char (*ids)[16] = calloc(N, sizeof *ids);
  cr_assert(cs && ids);
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "C%04d", i);
    cs[i] = charger_cfg(ids[i], 1);
    memset(cs[i].connectors[0].has_ga, 0, sizeof cs[i].connectors[0].has_ga);
    for (int k = 0; k < 4; k++) {
      gw_object obj = (gw_object[]){GW_OBJ_STATUS, GW_OBJ_ERROR_CODE,
                                      GW_OBJ_PLUGGED,
                                      GW_OBJ_AVAILABILITY_STATE}[k];
      cs[i].connectors[0].has_ga[obj] = true;
      cs[i].connectors[0].ga[obj] = (uint16_t)(1 + i * 4 + k);
    }
  }
  make_bridge(cs, N, 1000);
  for (int i = 0; i < N; i++)
    ev_status_of(ids[i], 1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(F->n_sent, 4096);
  cr_assert_eq(F->sent[0].ga, 1 + (N * 4 - 4096));
  cr_assert(logged("queue full"));
  free(cs);
  free(ids);
}

/* ---- commands -------------------------------------------------------------- */

Test(bridge, charging_1_sends_remote_start_with_remote_tag)
{
  knx_write_bit(GW_OBJ_CHARGING, 1);
  const sent_cmd *c = only_cmd(OCPP_CMD_REMOTE_START);
  cr_assert_eq(c->connector, 1);
  cr_assert_str_eq(c->tag, "KNX");
  cr_assert(logged("charging command 1 -> RemoteStartTransaction"));
}

Test(bridge, charging_0_sends_remote_stop_in_stop_mode)
{
  knx_write_bit(GW_OBJ_CHARGING, 0);
  cr_assert_eq(only_cmd(OCPP_CMD_REMOTE_STOP)->connector, 1);
}

Test(bridge, reserve_1_sends_reserve_now_for_configured_minutes)
{
  knx_write_bit(GW_OBJ_RESERVE, 1);
  const sent_cmd *c = only_cmd(OCPP_CMD_RESERVE);
  cr_assert_eq(c->connector, 1);
  cr_assert_str_eq(c->tag, "KNX");
  cr_assert_eq(c->expiry_s, 30 * 60);
}

Test(bridge, reserve_0_cancels_the_reservation)
{
  knx_write_bit(GW_OBJ_RESERVE, 0);
  cr_assert_eq(only_cmd(OCPP_CMD_CANCEL_RESERVATION)->connector, 1);
}

Test(bridge, availability_writes_change_availability)
{
  knx_write_bit(GW_OBJ_AVAILABILITY, 0);
  cr_assert_eq(only_cmd(OCPP_CMD_CHANGE_AVAILABILITY)->operative, false);
  complete(0, OCPP_RESULT_ACCEPTED);
  F->n_cmds = 0;
  knx_write_bit(GW_OBJ_AVAILABILITY, 1);
  cr_assert_eq(only_cmd(OCPP_CMD_CHANGE_AVAILABILITY)->operative, true);
}

Test(bridge, unlock_1_unlocks_and_0_is_ignored)
{
  knx_write_bit(GW_OBJ_UNLOCK, 0);
  cr_assert_eq(F->n_cmds, 0);
  knx_write_bit(GW_OBJ_UNLOCK, 1);
  cr_assert_eq(only_cmd(OCPP_CMD_UNLOCK)->connector, 1);
}

Test(bridge, reset_1_is_a_soft_reset_and_0_is_ignored)
{
  knx_write_bit(GW_OBJ_RESET, 0);
  cr_assert_eq(F->n_cmds, 0);
  knx_write_bit(GW_OBJ_RESET, 1);
  cr_assert_eq(only_cmd(OCPP_CMD_RESET)->hard, false);
}

Test(bridge, max_current_in_dpt14_019_sets_the_limit)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 12.5);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 12.5, 1e-6);
}

Test(bridge, max_current_in_dpt9_021_is_converted_from_ma)
{
  set_dpts(KNX_DPT_10_001, KNX_DPT_9_021, KNX_DPT_14_056, KNX_DPT_13_013);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_9_021, 8000);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 8.0, 0.01);
}

Test(bridge, max_current_state_shows_the_limit_the_charger_gets)
{
  /* 10.24 A: the command gets the wish; the tenths 10.2 and 10.1 fail
   * exact 0.1-multiple checks in binary floating point (10.1 / 0.1 =
   * 100.99999999999999), so an A-limited charger gets 10.0 A: shown */
  set_dpts(KNX_DPT_10_001, KNX_DPT_9_021, KNX_DPT_14_056, KNX_DPT_13_013);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_9_021, 10240);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 10.24, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_9_021), 10000, 5);
}

Test(bridge, max_current_keeps_tenths_that_are_exact_multiples)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 12.5);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 12.5, 1e-9);
}

Test(bridge, max_current_below_6a_is_raised_to_6a_with_a_log_line)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 3);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 6.0, 1e-9);
  cr_assert(logged("IEC 61851"));
}

Test(bridge, max_current_0_pauses_and_above_80_is_clamped)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 0);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 0.0, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  F->n_cmds = 0;
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 120);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 80.0, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  F->n_cmds = 0;
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, -5);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 0.0, 1e-9);
}

Test(bridge, accepted_max_current_becomes_max_current_state)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 13);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_MAX_CURRENT_STATE)), 0);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_14_019), 13, 1e-6);
}

Test(bridge, fast_charging_switches_between_the_two_currents)
{
  knx_write_bit(GW_OBJ_FAST_CHARGING, 1);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 16, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_FAST_CHARGING_STATE))->p.data[0], 1);
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_14_019), 16, 1e-6);
  F->n_cmds = 0;
  knx_write_bit(GW_OBJ_FAST_CHARGING, 0);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 10, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_FAST_CHARGING_STATE))->p.data[0], 0);
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_14_019), 10, 1e-6);
}

Test(bridge, write_that_fails_to_decode_is_ignored_with_a_log_line)
{
  knx_payload p = {.short_form = false, .len = 3, .data = {1, 2, 3}};
  gw_bridge_on_knx_group(B, 0x1105, GA(1, GW_OBJ_MAX_CURRENT),
                         KNX_GROUP_WRITE, &p, NOW);
  gw_bridge_on_knx_group(B, 0x1105, GA(1, GW_OBJ_CHARGING), KNX_GROUP_WRITE,
                         NULL, NOW);
  cr_assert_eq(F->n_cmds, 0);
  cr_assert(logged("ignored"));
}

Test(bridge, writes_to_state_or_unknown_addresses_are_ignored)
{
  knx_write_bit(GW_OBJ_CHARGING_STATE, 1);
  knx_write_value(GA3(1, 2, 3), KNX_DPT_1_001, 1);
  cr_assert_eq(F->n_cmds, 0);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

/* ---- failures re-send the true state ---------------------------------------- */

Test(bridge, rejected_start_resends_charging_state_0)
{
  ev_status(1, OCPP_CP_PREPARING, OCPP_ERR_NO_ERROR);
  ev_start(1, 7, "TAG", 0, 100);
  ev_stop(1, 7, 10, 200);
  clear_sent();
  knx_write_bit(GW_OBJ_CHARGING, 1);
  complete(0, OCPP_RESULT_REJECTED);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CHARGING_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 0);
  cr_assert(logged("RemoteStartTransaction rejected: re-sending "
                   "charging_state 0"));
}

Test(bridge, timed_out_stop_resends_charging_state_1)
{
  ev_start(1, 7, "TAG", 0, 100);
  clear_sent();
  knx_write_bit(GW_OBJ_CHARGING, 0);
  complete(0, OCPP_RESULT_TIMEOUT);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CHARGING_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
}

Test(bridge, accepted_start_sends_nothing_until_the_transaction_starts)
{
  knx_write_bit(GW_OBJ_CHARGING, 1);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, offline_availability_resends_availability_state)
{
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  clear_sent();
  knx_write_bit(GW_OBJ_AVAILABILITY, 0);
  complete(0, OCPP_RESULT_OFFLINE);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_AVAILABILITY_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_AVAILABILITY_STATE))->p.data[0], 1);
}

Test(bridge, rejected_fast_charging_resends_fast_charging_state)
{
  knx_write_bit(GW_OBJ_FAST_CHARGING, 0);
  complete(0, OCPP_RESULT_ACCEPTED);
  clear_sent();
  knx_write_bit(GW_OBJ_FAST_CHARGING, 1);
  complete(1, OCPP_RESULT_REJECTED);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_FAST_CHARGING_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_FAST_CHARGING_STATE))->p.data[0], 0);
  cr_assert_eq(count_to(GA(1, GW_OBJ_MAX_CURRENT_STATE)), 0);
}

Test(bridge, failed_max_current_resends_max_current_state)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 10);
  complete(0, OCPP_RESULT_ACCEPTED);
  clear_sent();
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  complete(1, OCPP_RESULT_ERROR);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_MAX_CURRENT_STATE)), 1);
  cr_assert_float_eq(
      last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_14_019), 10, 1e-6);
}

Test(bridge, command_function_error_resends_state_at_once)
{
  ev_start(1, 7, "TAG", 0, 100);
  clear_sent();
  F->cmd_rc = OCPP_ENOTCONN;
  knx_write_bit(GW_OBJ_CHARGING, 0);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CHARGING_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
  cr_assert(logged("not sent"));
}

Test(bridge, create_without_a_command_hook_is_einval)
{
  gw_bridge_ops ops = fake_ops;
  ops.command = NULL;
  gw_bridge *b = NULL;
  gw_charger_conf c = charger_cfg("CP1", 1);
  cr_assert_eq(gw_bridge_create(&c, 1, 100, &ops, F, &b), GW_EINVAL);
  cr_assert_null(b);
}

Test(bridge, command_result_wakes_the_owner_to_pump)
{
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(F->wakes, 0);
  complete(0, OCPP_RESULT_REJECTED);
  cr_assert_eq(F->wakes, 1);
}

/* ---- the command result table ------------------------------------------ */

/* One row per command object: what a panel writes, and the state object
 * whose true value a failure must re-send (GW_OBJ_COUNT: none). */
typedef struct {
  gw_object cmd;
  knx_dpt dpt;
  double value;
  const char *action;
  gw_object state;
  knx_dpt state_dpt;
  double truth;         /* the state known_states() leaves */
} cmd_row;

static const cmd_row CMD_ROWS[] = {
  {GW_OBJ_CHARGING, KNX_DPT_1_001, 1, "RemoteStartTransaction",
   GW_OBJ_CHARGING_STATE, KNX_DPT_1_001, 0},
  {GW_OBJ_AVAILABILITY, KNX_DPT_1_001, 0, "ChangeAvailability",
   GW_OBJ_AVAILABILITY_STATE, KNX_DPT_1_001, 1},
  {GW_OBJ_MAX_CURRENT, KNX_DPT_14_019, 16, "SetChargingProfile",
   GW_OBJ_MAX_CURRENT_STATE, KNX_DPT_14_019, 10},
  {GW_OBJ_FAST_CHARGING, KNX_DPT_1_001, 1, "SetChargingProfile",
   GW_OBJ_FAST_CHARGING_STATE, KNX_DPT_1_001, 0},
  {GW_OBJ_RESERVE, KNX_DPT_1_001, 1, "ReserveNow", GW_OBJ_COUNT, 0, 0},
  {GW_OBJ_UNLOCK, KNX_DPT_1_001, 1, "UnlockConnector", GW_OBJ_COUNT, 0, 0},
  {GW_OBJ_RESET, KNX_DPT_1_001, 1, "Reset", GW_OBJ_COUNT, 0, 0},
};

static const struct {
  ocpp_result result;
  const char *text;
} FAILURES[] = {
  {OCPP_RESULT_REJECTED, "rejected"},
  {OCPP_RESULT_NOT_SUPPORTED, "not supported"},
  {OCPP_RESULT_TIMEOUT, "timed out"},
  {OCPP_RESULT_OFFLINE, "lost (charger offline)"},
  {OCPP_RESULT_ERROR, "failed"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A fresh bridge where every state object of CMD_ROWS has a known value
 * and nothing is waiting. */
static void known_states(void)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  make_bridge(&c, 1, 1000);
  memset(F->txs, 0, sizeof F->txs);
  ev_status(1, OCPP_CP_AVAILABLE, OCPP_ERR_NO_ERROR);
  ev_start(1, 7, "TAG", 0, 100);
  ev_stop(1, 7, 10, 200);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 10);
  complete(F->n_cmds - 1, OCPP_RESULT_ACCEPTED);
  knx_write_bit(GW_OBJ_FAST_CHARGING, 0);
  complete(F->n_cmds - 1, OCPP_RESULT_ACCEPTED);
  clear_sent();
  F->n_cmds = 0;
  F->n_logs = 0;
}

static void write_row(const cmd_row *row)
{
  knx_write_value(GA(1, row->cmd), row->dpt, row->value);
  cr_assert_eq(F->n_cmds, 1, "%s: %zu commands", row->action, F->n_cmds);
}

static void expect_true_state(const cmd_row *row, const char *why)
{
  flush();
  if (row->state == GW_OBJ_COUNT) {
    cr_assert_eq(F->n_sent, 0, "%s %s: %zu telegrams", row->action, why,
                 F->n_sent);
    return;
  }
  cr_assert_eq(count_to(GA(1, row->state)), 1, "%s %s: state not re-sent",
               row->action, why);
  cr_assert_float_eq(last_number(GA(1, row->state), row->state_dpt),
                     row->truth, 1e-6, "%s %s", row->action, why);
}

Test(bridge, every_failed_result_resends_the_true_state)
{
  for (size_t i = 0; i < N_OF(CMD_ROWS); i++) {
    for (size_t k = 0; k < N_OF(FAILURES); k++) {
      const cmd_row *row = &CMD_ROWS[i];
      known_states();
      write_row(row);
      complete(0, FAILURES[k].result);
      expect_true_state(row, FAILURES[k].text);
      char line[96];
      snprintf(line, sizeof line, "%s %s", row->action, FAILURES[k].text);
      cr_assert(logged(line), "no log line \"%s\"", line);
    }
  }
}

Test(bridge, command_not_sent_resends_the_true_state_at_once)
{
  for (size_t i = 0; i < N_OF(CMD_ROWS); i++) {
    const cmd_row *row = &CMD_ROWS[i];
    known_states();
    F->cmd_rc = OCPP_ENOTCONN;
    write_row(row);
    F->cmd_rc = 0;
    expect_true_state(row, "not sent");
    cr_assert(logged("not sent (charger not connected)"), "%s", row->action);
  }
}

Test(bridge, accepted_result_shows_what_the_charger_will_not_announce)
{
  for (size_t i = 0; i < N_OF(CMD_ROWS); i++) {
    const cmd_row *row = &CMD_ROWS[i];
    known_states();
    write_row(row);
    complete(0, OCPP_RESULT_ACCEPTED);
    flush();
    char line[96];
    snprintf(line, sizeof line, "%s accepted", row->action);
    cr_assert(logged(line), "no log line \"%s\"", line);
    if (row->cmd == GW_OBJ_MAX_CURRENT) {
      cr_assert_eq(F->n_sent, 1);
      cr_assert_float_eq(last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE),
                                     KNX_DPT_14_019), 16, 1e-6);
    } else if (row->cmd == GW_OBJ_FAST_CHARGING) {
      cr_assert_eq(F->n_sent, 2);
      cr_assert_eq(last_to(GA(1, GW_OBJ_FAST_CHARGING_STATE))->p.data[0], 1);
      cr_assert_float_eq(last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE),
                                     KNX_DPT_14_019), 16, 1e-6);
    } else {
      /* start, availability, reserve, unlock, reset: the charger's own
       * notifications carry the new state */
      cr_assert_eq(F->n_sent, 0, "%s accepted: %zu telegrams", row->action,
                   F->n_sent);
    }
  }
}

/* ---- pause / resume ---------------------------------------------------------- */

static void pause_mode(void)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  c.stop_mode = GW_STOP_PAUSE;
  make_bridge(&c, 1, 1000);
}

Test(bridge, pause_mode_stop_sets_a_0a_limit)
{
  pause_mode();
  ev_start(1, 7, "TAG", 0, 100);
  clear_sent();
  knx_write_bit(GW_OBJ_CHARGING, 0);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 0, 1e-9);
  flush();
  cr_assert_eq(F->n_sent, 0);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 0);
}

Test(bridge, resume_after_pause_restores_the_limit_instead_of_starting)
{
  pause_mode();
  ev_start(1, 7, "TAG", 0, 100);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 13);
  complete(0, OCPP_RESULT_ACCEPTED);
  knx_write_bit(GW_OBJ_CHARGING, 0);
  complete(1, OCPP_RESULT_ACCEPTED);
  clear_sent();
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(F->n_cmds, 3);
  cr_assert_eq(F->cmds[2].kind, OCPP_CMD_CURRENT_LIMIT);
  cr_assert_float_eq(F->cmds[2].amps, 13, 1e-9);
  complete(2, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
}

Test(bridge, resume_without_a_limit_uses_the_normal_current)
{
  pause_mode();
  ev_start(1, 7, "TAG", 0, 100);
  knx_write_bit(GW_OBJ_CHARGING, 0);
  complete(0, OCPP_RESULT_ACCEPTED);
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(F->cmds[1].kind, OCPP_CMD_CURRENT_LIMIT);
  cr_assert_float_eq(F->cmds[1].amps, 10, 1e-9);
}

Test(bridge, rejected_pause_resends_charging_state_1)
{
  pause_mode();
  ev_start(1, 7, "TAG", 0, 100);
  clear_sent();
  knx_write_bit(GW_OBJ_CHARGING, 0);
  complete(0, OCPP_RESULT_REJECTED);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_CHARGING_STATE)), 1);
  cr_assert_eq(last_to(GA(1, GW_OBJ_CHARGING_STATE))->p.data[0], 1);
}

Test(bridge, start_after_the_paused_transaction_ended_is_a_remote_start)
{
  pause_mode();
  ev_start(1, 7, "TAG", 0, 100);
  knx_write_bit(GW_OBJ_CHARGING, 0);
  complete(0, OCPP_RESULT_ACCEPTED);
  ev_stop(1, 7, 100, 200);
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(F->cmds[1].kind, OCPP_CMD_REMOTE_START);
}

/* ---- life cycle ------------------------------------------------------------ */

Test(bridge, callback_after_the_charger_was_removed_is_harmless)
{
  knx_write_bit(GW_OBJ_CHARGING, 1);
  gw_charger_conf other = charger_cfg("CP2", 1);
  cr_assert_eq(gw_bridge_set_chargers(B, &other, 1), GW_OK);
  clear_sent();
  complete(0, OCPP_RESULT_REJECTED);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, callback_after_destroy_is_harmless)
{
  knx_write_bit(GW_OBJ_CHARGING, 1);
  gw_bridge_destroy(B);
  B = NULL;
  complete(0, OCPP_RESULT_REJECTED);
}

Test(bridge, reload_keeps_state_of_chargers_that_stay)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  clear_sent();
  gw_charger_conf cs[2] = {charger_cfg("CP1", 1), charger_cfg("CP2", 1)};
  cs[1].connectors[0].ga[GW_OBJ_STATUS] = GA3(10, 0, 0);
  cr_assert_eq(gw_bridge_set_chargers(B, cs, 2), GW_OK);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  flush();
  cr_assert_eq(F->n_sent, 0);
  knx_read(GA(1, GW_OBJ_STATUS));
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(F->sent[0].p.data[0], 2);
}

Test(bridge, reload_with_a_new_address_sends_the_value_there)
{
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  clear_sent();
  gw_charger_conf c = charger_cfg("CP1", 1);
  c.connectors[0].ga[GW_OBJ_STATUS] = GA3(10, 1, 1);
  cr_assert_eq(gw_bridge_set_chargers(B, &c, 1), GW_OK);
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(F->sent[0].ga, GA3(10, 1, 1));
  cr_assert_eq(F->sent[0].p.data[0], 2);
}

Test(bridge, objects_without_address_produce_nothing)
{
  gw_charger_conf c = charger_cfg("CP1", 1);
  memset(c.connectors[0].has_ga, 0, sizeof c.connectors[0].has_ga);
  c.connectors[0].has_ga[GW_OBJ_STATUS] = true;
  make_bridge(&c, 1, 1000);
  ev_simple(OCPP_EV_ONLINE);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_start(1, 7, "TAG", 1000, 100);
  ev_meter(1, (meter_sample){.tx = 7, .has_current = true, .current_a = 16,
                             .has_power = true, .power_w = 11000,
                             .has_energy = true, .energy_wh = 5000});
  ev_tag(1, "TAG2");
  ev_stop(1, 7, 6000, 200);
  knx_write_bit(GW_OBJ_CHARGING, 1);
  flush();
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(F->sent[0].ga, GA(1, GW_OBJ_STATUS));
  cr_assert_eq(F->n_cmds, 0);
}

Test(bridge, events_for_unknown_chargers_or_connectors_are_ignored)
{
  ev_status_of("NOPE", 1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_status(5, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_status(1, (ocpp_cp_status)42, OCPP_ERR_NO_ERROR);
  ocpp_event ev = {.type = (ocpp_event_type)99, .charger_id = "CP1"};
  event(&ev);
  gw_bridge_on_ocpp_event(B, NULL, NOW);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, create_rejects_invalid_arguments)
{
  gw_bridge *b = NULL;
  gw_charger_conf c = charger_cfg("CP1", 1);
  cr_assert_eq(gw_bridge_create(&c, 1, 5, NULL, F, &b), GW_EINVAL);
  cr_assert_eq(gw_bridge_create(&c, 1, 5, &fake_ops, F, NULL),
               GW_EINVAL);
  cr_assert_eq(gw_bridge_create(NULL, 1, 5, &fake_ops, F, &b),
               GW_EINVAL);
  gw_bridge_ops no_send = fake_ops;
  no_send.knx_send = NULL;
  cr_assert_eq(gw_bridge_create(&c, 1, 5, &no_send, F, &b), GW_EINVAL);
  gw_charger_conf twice[2] = {c, c};
  cr_assert_eq(gw_bridge_create(twice, 2, 5, &fake_ops, F, &b),
               GW_EINVAL);
  c.id = NULL;
  cr_assert_eq(gw_bridge_create(&c, 1, 5, &fake_ops, F, &b), GW_EINVAL);
  cr_assert_null(b);
  cr_assert_eq(gw_bridge_set_chargers(NULL, NULL, 0), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_chargers(B, twice, 2), GW_EINVAL);
  gw_bridge_destroy(NULL);
  cr_assert_eq(gw_bridge_pump(NULL, 1), 0);
  cr_assert_eq(gw_bridge_telegrams_sent(NULL), 0);
}

Test(bridge, rate_below_1_is_raised_to_1)
{
  queue_twenty(0);
  uint64_t next = gw_bridge_pump(B, 50000);
  cr_assert_eq(F->n_sent, 1);
  cr_assert_eq(next, 51000);
}

/* ---- telegram budget ---------------------------------------------------------- */

Test(bridge, steady_session_stays_within_240_telegrams_per_charger_hour)
{
  /* The most talkative choice: the meter in Wh. */
  set_dpts(KNX_DPT_10_001, KNX_DPT_14_019, KNX_DPT_14_056, KNX_DPT_13_010);
  ev_simple(OCPP_EV_ONLINE);
  ev_status(1, OCPP_CP_CHARGING, OCPP_ERR_NO_ERROR);
  ev_start(1, 7, "TAG", 1000000, 100);
  flush();
  F->n_sent = 0;
  srand(1);
  double energy = 1000000;
  for (int i = 0; i < 360; i++) {
    double noise_a = ((double)rand() / RAND_MAX - 0.5) * 0.2;  /* +-0.1 A */
    double noise_w = ((double)rand() / RAND_MAX - 0.5) * 100;  /* +-50 W */
    energy += 11000.0 / 360;
    ev_meter(1, (meter_sample){.tx = 7, .has_current = true,
                               .current_a = 16 + noise_a, .has_power = true,
                               .power_w = 11040 + noise_w,
                               .has_energy = true, .energy_wh = energy});
    NOW += 10000;
    gw_bridge_pump(B, NOW);
  }
  flush();
  cr_assert_leq(F->n_sent, 240, "%zu telegrams in one hour", F->n_sent);
  /* The meter did move: the budget is met by thresholds, not silence. */
  cr_assert_geq(count_to(GA(1, GW_OBJ_METER)), 80);
}

/* ---- with the energy manager ---------------------------------------------- */

typedef struct {
  char charger[32];
  int connector;
  gw_object obj;
  double value;
} energy_write;

static energy_write EW[16];
static size_t n_ew;

static void fake_energy_write(void *u, const char *id, int conn, gw_object obj,
                              double value)
{
  (void)u;
  cr_assert_lt(n_ew, 16);
  EW[n_ew] = (energy_write){.connector = conn, .obj = obj, .value = value};
  snprintf(EW[n_ew].charger, sizeof EW[n_ew].charger, "%s", id);
  n_ew++;
}

static void make_managed_bridge(gw_stop_mode stop_mode)
{
  gw_bridge_ops ops = fake_ops;
  ops.energy_write = fake_energy_write;
  gw_charger_conf c = charger_cfg("CP1", 1);
  c.stop_mode = stop_mode;
  gw_bridge_destroy(B);
  B = NULL;
  n_ew = 0;
  cr_assert_eq(gw_bridge_create(&c, 1, 1000, &ops, F, &B), GW_OK);
}

Test(bridge, managed_current_writes_go_to_the_energy_manager_not_to_the_charger)
{
  make_managed_bridge(GW_STOP_STOP);
  clear_sent();
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 12);
  knx_write_bit(GW_OBJ_FAST_CHARGING, 0);
  knx_write_value(GA(1, GW_OBJ_CHARGE_MODE), KNX_DPT_5_010, 3);
  cr_assert_eq(F->n_cmds, 0);
  cr_assert_eq(n_ew, 3);
  cr_assert_str_eq(EW[0].charger, "CP1");
  cr_assert_eq(EW[0].connector, 1);
  cr_assert_eq(EW[0].obj, GW_OBJ_MAX_CURRENT);
  cr_assert_float_eq(EW[0].value, 12, 1e-9);
  cr_assert_eq(EW[1].obj, GW_OBJ_FAST_CHARGING);
  cr_assert_float_eq(EW[1].value, 0, 1e-9);
  cr_assert_eq(EW[2].obj, GW_OBJ_CHARGE_MODE);
  cr_assert_float_eq(EW[2].value, 3, 1e-9);
  flush();
  /* the wish is taken as it is: its state follows at once */
  EXPECT_BYTES(GA(1, GW_OBJ_FAST_CHARGING_STATE), 0x00);
  cr_assert(logged("connector 1: max_current 12 -> energy manager"));
}

Test(bridge, without_the_energy_manager_charge_mode_is_ignored)
{
  clear_sent();
  knx_write_value(GA(1, GW_OBJ_CHARGE_MODE), KNX_DPT_5_010, 3);
  cr_assert_eq(F->n_cmds, 0);
  flush();
  cr_assert_eq(F->n_sent, 0);
}

Test(bridge, managed_pause_and_resume_go_to_the_energy_manager)
{
  make_managed_bridge(GW_STOP_PAUSE);
  ev_start(1, 42, "TAG", 0, 1700000000);
  knx_write_bit(GW_OBJ_CHARGING, 0);
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(F->n_cmds, 0);
  cr_assert_eq(n_ew, 2);
  cr_assert_eq(EW[0].obj, GW_OBJ_CHARGING);
  cr_assert_float_eq(EW[0].value, 0, 1e-9);
  cr_assert_float_eq(EW[1].value, 1, 1e-9);
}

Test(bridge, managed_start_without_a_transaction_is_still_a_remote_start)
{
  make_managed_bridge(GW_STOP_PAUSE);
  knx_write_bit(GW_OBJ_CHARGING, 1);
  cr_assert_eq(n_ew, 0);
  cr_assert_eq(F->n_cmds, 1);
  cr_assert_eq(F->cmds[0].kind, OCPP_CMD_REMOTE_START);
}

Test(bridge, energy_limit_takes_the_current_limit_path_and_shows_as_max_current_state)
{
  make_managed_bridge(GW_STOP_STOP);
  clear_sent();
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 10.24), GW_OK);
  cr_assert_eq(F->n_cmds, 1);
  cr_assert_eq(F->cmds[0].kind, OCPP_CMD_CURRENT_LIMIT);
  cr_assert_eq(F->cmds[0].connector, 1);
  cr_assert_float_eq(F->cmds[0].amps, 10.24, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  flush();
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_MAX_CURRENT_STATE),
                                 KNX_DPT_14_019), ocpp_limit_as_sent(10.24),
                     1e-5);
  /* 0 A: the pause of the current-limit path */
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 0), GW_OK);
  cr_assert_float_eq(F->cmds[1].amps, 0, 1e-9);
  complete(1, OCPP_RESULT_REJECTED);
  cr_assert(logged("SetChargingProfile (energy manager) rejected"));
}

Test(bridge, energy_limit_refuses_bad_arguments)
{
  cr_assert_eq(gw_bridge_set_limit(NULL, "CP1", 1, 6), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_limit(B, NULL, 1, 6), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, -1), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 81), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, NAN), GW_EINVAL);
  cr_assert_eq(gw_bridge_set_limit(B, "CP9", 1, 6), GW_ENOTFOUND);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 2, 6), GW_ENOTFOUND);
  cr_assert_eq(F->n_cmds, 0);
}

Test(bridge, published_values_are_sent_once_and_answered_on_reads)
{
  clear_sent();
  cr_assert_eq(gw_bridge_publish_value(B, "CP1", 1,
                                       GW_OBJ_ALLOCATED_CURRENT_STATE, 7.5),
               GW_OK);
  cr_assert_eq(gw_bridge_publish_value(B, "CP1", 1,
                                       GW_OBJ_ALLOCATED_CURRENT_STATE, 7.5),
               GW_OK);
  cr_assert_eq(gw_bridge_publish_value(B, "CP1", 1, GW_OBJ_CHARGE_MODE_STATE,
                                       3), GW_OK);
  flush();
  cr_assert_eq(count_to(GA(1, GW_OBJ_ALLOCATED_CURRENT_STATE)), 1);
  cr_assert_float_eq(last_number(GA(1, GW_OBJ_ALLOCATED_CURRENT_STATE),
                                 KNX_DPT_14_019), 7.5, 1e-6);
  EXPECT_BYTES(GA(1, GW_OBJ_CHARGE_MODE_STATE), 0x03);
  knx_read(GA(1, GW_OBJ_CHARGE_MODE_STATE));
  flush();
  const sent_telegram *t = last_to(GA(1, GW_OBJ_CHARGE_MODE_STATE));
  cr_assert_eq(t->svc, KNX_GROUP_RESPONSE);
  cr_assert_eq(gw_bridge_publish_value(B, "CP1", 1, GW_OBJ_CHARGE_MODE, 3),
               GW_EINVAL);
  cr_assert_eq(gw_bridge_publish_value(B, "CP1", 1, GW_OBJ_COUNT, 3),
               GW_EINVAL);
  cr_assert_eq(gw_bridge_publish_value(B, "CP2", 1, GW_OBJ_CHARGE_MODE_STATE,
                                       3), GW_ENOTFOUND);
}

Test(bridge, main_file_values_go_out_as_writes_or_answers)
{
  clear_sent();
  uint16_t ga = GA3(1, 0, 6);
  cr_assert_eq(gw_bridge_send_value(B, ga, KNX_DPT_9_021, 4.5, false), GW_OK);
  flush();
  /* mA in a 2-byte float: 4500.48 */
  cr_assert_float_eq(last_number(ga, KNX_DPT_9_021), 4500, 1);
  cr_assert_eq(gw_bridge_send_value(B, ga, KNX_DPT_14_019, 4.5, true), GW_OK);
  flush();
  cr_assert_eq(last_to(ga)->svc, KNX_GROUP_RESPONSE);
  cr_assert_eq(gw_bridge_send_value(B, ga, KNX_DPT_16_000, 1, false),
               GW_EINVAL);
  cr_assert_eq(gw_bridge_send_value(NULL, ga, KNX_DPT_14_019, 1, false),
               GW_EINVAL);
}

/* ---- what the status page reads ----------------------------------------- */

static const gw_object_view *view_of(const gw_object_view *v, int n,
                                     gw_object obj)
{
  for (int i = 0; i < n; i++)
    if (v[i].obj == obj)
      return &v[i];
  return NULL;
}

Test(bridge, objects_list_every_addressed_object_with_ga_and_dpt)
{
  gw_object_view v[GW_OBJ_COUNT];
  int n = gw_bridge_objects(B, "CP1", 1, v);
  cr_assert_eq(n, GW_OBJ_COUNT);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(v[i].obj, (gw_object)i);
    cr_assert_eq(v[i].ga, GA(1, v[i].obj));
    cr_assert_eq(v[i].state, gw_object_is_state(v[i].obj));
    cr_assert_not(v[i].known, "%s known before any event",
                  gw_object_key(v[i].obj));
  }
  cr_assert_eq(view_of(v, n, GW_OBJ_CURRENT)->dpt, KNX_DPT_14_019);
  cr_assert_eq(view_of(v, n, GW_OBJ_START_TIME)->kind, GW_VIEW_TIME);
  cr_assert_eq(view_of(v, n, GW_OBJ_LAST_TAG)->kind, GW_VIEW_TEXT);
}

Test(bridge, objects_carry_the_last_value_sent_and_when)
{
  NOW = 5000;
  ev_current(12.5);
  ev_tag(1, "04A1B2");
  NOW = 9000;
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 11);
  gw_object_view v[GW_OBJ_COUNT];
  int n = gw_bridge_objects(B, "CP1", 1, v);
  const gw_object_view *cur = view_of(v, n, GW_OBJ_CURRENT);
  cr_assert(cur->known && cur->state);
  cr_assert_float_eq(cur->number, 12.5, 1e-9);
  cr_assert_eq(cur->at_ms, 5000);
  const gw_object_view *tag = view_of(v, n, GW_OBJ_LAST_TAG);
  cr_assert(tag->known);
  cr_assert_str_eq(tag->text, "04A1B2");
  /* a command the bus wrote, as received */
  const gw_object_view *cmd = view_of(v, n, GW_OBJ_MAX_CURRENT);
  cr_assert(cmd->known && !cmd->state);
  cr_assert_float_eq(cmd->number, 11, 1e-9);
  cr_assert_eq(cmd->at_ms, 9000);
}

Test(bridge, objects_of_unknown_charger_or_connector)
{
  gw_object_view v[GW_OBJ_COUNT];
  cr_assert_eq(gw_bridge_objects(B, "CP9", 1, v), GW_ENOTFOUND);
  cr_assert_eq(gw_bridge_objects(B, "CP1", 2, v), GW_ENOTFOUND);
  cr_assert_eq(gw_bridge_objects(B, NULL, 1, v), GW_EINVAL);
  cr_assert_eq(gw_bridge_objects(NULL, "CP1", 1, v), GW_EINVAL);
}

Test(bridge, limit_names_the_command_that_set_it)
{
  double amps = -1;
  gw_limit_by by = GW_LIMIT_NONE;
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_ENOTFOUND);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 13);
  /* not accepted yet: no limit in force */
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_ENOTFOUND);
  complete(0, OCPP_RESULT_ACCEPTED);
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_OK);
  cr_assert_float_eq(amps, 13, 1e-9);
  cr_assert_eq(by, GW_LIMIT_MAX_CURRENT);
  F->n_cmds = 0;
  knx_write_bit(GW_OBJ_FAST_CHARGING, 1);
  complete(0, OCPP_RESULT_REJECTED);
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_OK);
  cr_assert_eq(by, GW_LIMIT_MAX_CURRENT, "a rejected command changed the source");
  F->n_cmds = 0;
  knx_write_bit(GW_OBJ_FAST_CHARGING, 1);
  complete(0, OCPP_RESULT_ACCEPTED);
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_OK);
  cr_assert_float_eq(amps, 16, 1e-9);
  cr_assert_eq(by, GW_LIMIT_FAST_CHARGING);
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, NULL, &by), GW_EINVAL);
}

/* ---- the billing backend's cap ------------------------------------------ */

Test(bridge, backend_cap_below_the_local_limit_is_what_the_charger_gets)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 16, 1e-9);
  complete(0, OCPP_RESULT_ACCEPTED);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  cr_assert_eq(F->n_cmds, 2);
  cr_assert_eq(F->cmds[1].kind, OCPP_CMD_CURRENT_LIMIT);
  cr_assert_float_eq(F->cmds[1].amps, 10, 1e-9);
  /* a local limit below the cap goes through, one above it does not */
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 8);
  cr_assert_float_eq(F->cmds[2].amps, 8, 1e-9);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 20);
  cr_assert_float_eq(F->cmds[3].amps, 10, 1e-9);
}

Test(bridge, backend_cap_above_the_local_limit_leaves_it)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 12);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 32), GW_OK);
  cr_assert_eq(F->n_cmds, 2);
  cr_assert_float_eq(F->cmds[1].amps, 12, 1e-9);
}

Test(bridge, cleared_backend_cap_gives_the_local_limit_back)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, -1), GW_OK);
  cr_assert_eq(F->n_cmds, 3);
  cr_assert_float_eq(F->cmds[2].amps, 16, 1e-9);
}

Test(bridge, backend_cap_without_a_local_limit_is_sent_alone)
{
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 0, 10), GW_OK);
  cr_assert_float_eq(only_cmd(OCPP_CMD_CURRENT_LIMIT)->amps, 10, 1e-9);
  cr_assert_eq(F->cmds[0].connector, 1);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP9", 1, 10), GW_ENOTFOUND);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 81), GW_EINVAL);
}

Test(bridge, cleared_backend_cap_alone_is_lifted)
{
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  complete(0, OCPP_RESULT_ACCEPTED);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, -1), GW_OK);
  cr_assert_eq(F->n_cmds, 2);
  cr_assert_eq(F->cmds[1].kind, OCPP_CMD_LIFT_LIMIT);
  cr_assert_eq(F->cmds[1].connector, 1);
  complete(1, OCPP_RESULT_ACCEPTED);
  /* no limit of the gateway's in force any more */
  double amps;
  gw_limit_by by;
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_ENOTFOUND);
}

Test(bridge, clearing_a_cap_that_was_never_set_sends_nothing)
{
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, -1), GW_OK);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 0, -1), GW_OK);
  cr_assert_eq(F->n_cmds, 0);
}

/* The limit in force after completing command i with Accepted. */
static gw_limit_by accepted_by(size_t i, double amps)
{
  complete(i, OCPP_RESULT_ACCEPTED);
  double in_force = -1;
  gw_limit_by by = GW_LIMIT_NONE;
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &in_force, &by), GW_OK);
  cr_assert_float_eq(in_force, amps, 1e-9);
  return by;
}

Test(bridge, limit_names_the_backend_while_its_cap_is_what_the_charger_gets)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  cr_assert_eq(accepted_by(0, 16), GW_LIMIT_MAX_CURRENT);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  cr_assert_eq(accepted_by(1, 10), GW_LIMIT_BACKEND);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 6);
  cr_assert_eq(accepted_by(2, 6), GW_LIMIT_MAX_CURRENT);
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  cr_assert_eq(accepted_by(3, 10), GW_LIMIT_BACKEND);
  /* equal to the cap: the local limit is not lowered by it */
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 10);
  cr_assert_eq(accepted_by(4, 10), GW_LIMIT_MAX_CURRENT);
  knx_write_bit(GW_OBJ_FAST_CHARGING, 1);
  cr_assert_eq(accepted_by(5, 10), GW_LIMIT_BACKEND);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, -1), GW_OK);
  cr_assert_eq(accepted_by(6, 16), GW_LIMIT_FAST_CHARGING);
}

Test(bridge, limit_names_the_backend_when_its_cap_is_the_only_limit)
{
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  cr_assert_eq(accepted_by(0, 10), GW_LIMIT_BACKEND);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 8), GW_OK);
  cr_assert_eq(accepted_by(1, 8), GW_LIMIT_ENERGY);
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 12), GW_OK);
  cr_assert_eq(accepted_by(2, 10), GW_LIMIT_BACKEND);
}

Test(bridge, limit_of_a_refused_cap_keeps_its_source)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  cr_assert_eq(accepted_by(0, 16), GW_LIMIT_MAX_CURRENT);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  complete(1, OCPP_RESULT_REJECTED);
  double amps = -1;
  gw_limit_by by = GW_LIMIT_NONE;
  cr_assert_eq(gw_bridge_limit(B, "CP1", 1, &amps, &by), GW_OK);
  cr_assert_float_eq(amps, 16, 1e-9);
  cr_assert_eq(by, GW_LIMIT_MAX_CURRENT);
}

/* What /status and the page say of connector 1's limit. */
static char *limit_shown(json_t **limit)
{
  json_t *st = json_pack("{s:[{s:s,s:[{s:i}]}]}", "chargers", "id", "CP1",
                         "connectors", "id", 1);
  gw_web_add_bridge(st, B, NOW, 1767225600);
  json_t *conn = json_array_get(
      json_object_get(json_array_get(json_object_get(st, "chargers"), 0),
                      "connectors"), 0);
  *limit = json_incref(json_object_get(conn, "limit"));
  char *html = gw_page_html(st);
  json_decref(st);
  cr_assert_not_null(html);
  return html;
}

Test(bridge, status_names_the_backend_while_its_cap_holds)
{
  knx_write_value(GA(1, GW_OBJ_MAX_CURRENT), KNX_DPT_14_019, 16);
  complete(0, OCPP_RESULT_ACCEPTED);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, 10), GW_OK);
  complete(1, OCPP_RESULT_ACCEPTED);
  json_t *limit;
  char *html = limit_shown(&limit);
  cr_assert_float_eq(json_number_value(json_object_get(limit, "amps")), 10,
                     1e-9);
  cr_assert_str_eq(json_string_value(json_object_get(limit, "source")),
                   "billing backend");
  cr_assert_not_null(strstr(html, "10 A &middot; billing backend"), "%s", html);
  json_decref(limit);
  free(html);
  cr_assert_eq(gw_bridge_set_backend_cap(B, "CP1", 1, -1), GW_OK);
  complete(2, OCPP_RESULT_ACCEPTED);
  html = limit_shown(&limit);
  cr_assert_str_eq(json_string_value(json_object_get(limit, "source")),
                   "KNX max_current");
  cr_assert_not_null(strstr(html, "16 A &middot; KNX max_current"), "%s", html);
  json_decref(limit);
  free(html);
}

Test(bridge, status_names_the_energy_manager)
{
  cr_assert_eq(gw_bridge_set_limit(B, "CP1", 1, 8), GW_OK);
  complete(0, OCPP_RESULT_ACCEPTED);
  json_t *limit;
  char *html = limit_shown(&limit);
  cr_assert_str_eq(json_string_value(json_object_get(limit, "source")),
                   "energy manager");
  json_decref(limit);
  free(html);
}

/* ---- what a relayed command's answer tells the backend ------------------ */

Test(bridge, relayed_change_configuration_tells_the_chargers_status)
{
  static const struct {
    ocpp_result result;
    const char *status;
  } cases[] = {
    {OCPP_RESULT_ACCEPTED, "Accepted"},
    {OCPP_RESULT_REBOOT_REQUIRED, "RebootRequired"},
    {OCPP_RESULT_REJECTED, "Rejected"},
    {OCPP_RESULT_NOT_SUPPORTED, "NotSupported"},
    {OCPP_RESULT_TIMEOUT, "Rejected"},
    {OCPP_RESULT_OFFLINE, "Rejected"},
    {OCPP_RESULT_ERROR, "Rejected"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    cr_assert_str_eq(gw_uplink_relay_status("ChangeConfiguration",
                                            cases[i].result),
                     cases[i].status, "%s", ocpp_result_name(cases[i].result));
}

Test(bridge, relayed_answers_use_the_names_of_their_schema)
{
  /* only a configuration change can wait for a reboot */
  cr_assert_str_eq(gw_uplink_relay_status("Reset", OCPP_RESULT_REBOOT_REQUIRED),
                   "Accepted");
  cr_assert_str_eq(gw_uplink_relay_status("UnlockConnector",
                                          OCPP_RESULT_ACCEPTED), "Unlocked");
  cr_assert_str_eq(gw_uplink_relay_status("UnlockConnector",
                                          OCPP_RESULT_REJECTED), "UnlockFailed");
  cr_assert_str_eq(gw_uplink_relay_status("TriggerMessage",
                                          OCPP_RESULT_NOT_SUPPORTED),
                   "NotImplemented");
  cr_assert_null(gw_uplink_relay_status("GetConfiguration",
                                        OCPP_RESULT_ACCEPTED));
  cr_assert_null(gw_uplink_relay_status(NULL, OCPP_RESULT_ACCEPTED));
}

/* ---- a backend's charging profile as a cap (gw_profile_cap) ------------- */

static double cap_of(const char *profile, double voltage, int phases,
                     time_t now, int want_rc)
{
  json_t *p = json_loads(profile, 0, NULL);
  cr_assert_not_null(p, "bad JSON in the test");
  double amps = -1;
  cr_assert_eq(gw_profile_cap(p, voltage, phases, now, &amps), want_rc);
  json_decref(p);
  return amps;
}

Test(bridge, profile_in_a_is_the_cap)
{
  cr_assert_float_eq(cap_of("{\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
                            "\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                            "\"limit\":10.5}]}}", 230, 3, 1000, GW_OK),
                     10.5, 1e-9);
}

Test(bridge, profile_in_w_is_divided_by_voltage_and_phases)
{
  const char *w = "{\"chargingSchedule\":{\"chargingRateUnit\":\"W\","
                  "\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                  "\"limit\":6900}]}}";
  cr_assert_float_eq(cap_of(w, 230, 3, 1000, GW_OK), 10, 1e-9);
  cr_assert_float_eq(cap_of(w, 230, 1, 1000, GW_OK), 30, 1e-9);
  /* the period's numberPhases wins over the charger's */
  cr_assert_float_eq(cap_of("{\"chargingSchedule\":{\"chargingRateUnit\":\"W\","
                            "\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                            "\"limit\":2300,\"numberPhases\":1}]}}",
                            230, 3, 1000, GW_OK), 10, 1e-9);
}

Test(bridge, profile_cap_is_the_period_running_now)
{
  /* 2026-01-01T00:00:00Z = 1767225600 */
  const char *s = "{\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
                  "\"startSchedule\":\"2026-01-01T00:00:00Z\",\"duration\":7200,"
                  "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16},"
                  "{\"startPeriod\":3600,\"limit\":8}]}}";
  cr_assert_float_eq(cap_of(s, 230, 3, 1767225600 + 60, GW_OK), 16, 1e-9);
  cr_assert_float_eq(cap_of(s, 230, 3, 1767225600 + 3700, GW_OK), 8, 1e-9);
  cap_of(s, 230, 3, 1767225600 + 7200, GW_ENOTFOUND);
  cap_of(s, 230, 3, 1767225600 - 10, GW_ENOTFOUND);
}

Test(bridge, profile_without_a_usable_schedule_is_einval)
{
  cap_of("{}", 230, 3, 1000, GW_EINVAL);
  cap_of("{\"chargingSchedule\":{\"chargingRateUnit\":\"kW\","
         "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1}]}}",
         230, 3, 1000, GW_EINVAL);
}
