/* gw_energy against fake ends: the configuration from the real loader,
 * KNX telegrams and OCPP events in, limits, object values and log lines
 * out. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gateway/energy.h"
#include "test/energy_conf.h"

enum { MAX_OUT = 4096 };

typedef struct {
  char charger[16];
  int connector;
  gw_object obj;     /* GW_OBJ_COUNT: a limit */
  double value;
} out_value;

typedef struct {
  uint16_t ga;
  double value;
  bool response;
} sent_value;

static out_value OUT[MAX_OUT];
static size_t n_out;
static sent_value SENT[MAX_OUT];
static size_t n_sent;
static char LOGS[MAX_OUT][256];
static size_t n_logs;
static bool tx_running;

static void add_out(const char *id, int conn, gw_object obj, double v)
{
  cr_assert_lt(n_out, MAX_OUT);
  OUT[n_out] = (out_value){.connector = conn, .obj = obj, .value = v};
  snprintf(OUT[n_out].charger, sizeof OUT[n_out].charger, "%s", id);
  n_out++;
}

static void f_set_limit(void *u, const char *id, int conn, double amps)
{
  (void)u;
  add_out(id, conn, GW_OBJ_COUNT, amps);
}

static void f_publish(void *u, const char *id, int conn, gw_object obj,
                      double v)
{
  (void)u;
  add_out(id, conn, obj, v);
}

static void f_send(void *u, uint16_t ga, knx_dpt dpt, double v, bool response)
{
  (void)u;
  (void)dpt;
  cr_assert_lt(n_sent, MAX_OUT);
  SENT[n_sent++] = (sent_value){ga, v, response};
}

static int f_transaction(void *u, const char *id, int conn,
                         ocpp_transaction_info *out)
{
  (void)u;
  (void)id;
  (void)conn;
  *out = (ocpp_transaction_info){.transaction_id = tx_running ? 7 : 0};
  return 0;
}

static void f_log(void *u, gw_log_level level, const char *id,
                  const char *msg)
{
  (void)u;
  (void)level;
  if (n_logs < MAX_OUT)
    snprintf(LOGS[n_logs++], sizeof LOGS[0], "%s%s%s", id ? id : "",
             id ? ": " : "", msg);
}

static const gw_energy_ops ops = {
  .set_limit = f_set_limit,
  .publish = f_publish,
  .send = f_send,
  .transaction = f_transaction,
  .log = f_log,
};

static gw_conf *CFG;
static gw_energy *EN;
static uint64_t NOW;

static const char main_text[] = "[energy]\nmain_fuse = 25\n" ENERGY_METER_KEYS;

static void load(const char *a, const char *b)
{
  gw_conf_text main = {main_text, strlen(main_text)};
  gw_conf_text ch[2] = {{a, strlen(a)}, {b, strlen(b)}};
  gw_conf_diag diag = {0};
  int rc = gw_conf_load_strings(&main, ch, 2, &CFG, &diag);
  for (size_t i = 0; i < diag.n; i++)
    fprintf(stderr, "%s\n", diag.lines[i]);
  gw_conf_diag_finish(&diag);
  cr_assert_eq(rc, GW_OK);
  cr_assert_eq(gw_energy_create(CFG, 10, &ops, NULL, &EN), GW_OK);
}

static void setup(void)
{
  n_out = n_sent = n_logs = 0;
  tx_running = false;
  NOW = 100000;
  load("[charger]\nid = A\npriority = 5\ntag_modes = SUN:pv\n",
       "[charger]\nid = B\nmode = cheap\nnormal_current = 8\n");
}

static void teardown(void)
{
  gw_energy_destroy(EN);
  EN = NULL;
  gw_conf_destroy(CFG);
  CFG = NULL;
}

TestSuite(gw_energy, .init = setup, .fini = teardown);

#define GA3(a, b, c) ((uint16_t)((a) << 11 | (b) << 8 | (c)))

static void knx_value_to(uint16_t ga, knx_dpt dpt, double v)
{
  knx_value kv = {.number = v};
  knx_payload p;
  cr_assert_eq(knx_dpt_encode(dpt, &kv, &p), KNX_OK);
  cr_assert(gw_energy_on_knx_group(EN, ga, KNX_GROUP_WRITE, &p, NOW));
}

/* The meter: amps per phase (9.021 is mA), watts (9.024 is kW). */
static void meter(double a, double w)
{
  for (int p = 0; p < 3; p++)
    knx_value_to(GA3(1, 0, p + 1), KNX_DPT_9_021, a * 1000);
  knx_value_to(GA3(1, 0, 4), KNX_DPT_9_024, w / 1000);
}

static void start(const char *id, const char *tag)
{
  ocpp_event ev = {.type = OCPP_EV_TX_STARTED, .charger_id = id,
                   .connector = 1};
  ev.tx_started.transaction_id = 1;
  ev.tx_started.id_tag = tag;
  gw_energy_on_ocpp_event(EN, &ev, NOW);
}

static void draw(const char *id, double a)
{
  ocpp_event ev = {.type = OCPP_EV_METER, .charger_id = id, .connector = 1};
  for (int p = 0; p < 3; p++)
    ev.meter.current_phase_a[p] = a;
  gw_energy_on_ocpp_event(EN, &ev, NOW);
}

static void pump_at(uint64_t t)
{
  NOW = t;
  gw_energy_pump(EN, NOW);
}

/* The last value of obj (GW_OBJ_COUNT: limit) for charger id; NAN if none. */
static double last(const char *id, gw_object obj)
{
  for (size_t i = n_out; i-- > 0;) {
    if (OUT[i].obj == obj && strcmp(OUT[i].charger, id) == 0)
      return OUT[i].value;
  }
  return NAN;
}

static size_t count_limits(const char *id)
{
  size_t n = 0;
  for (size_t i = 0; i < n_out; i++)
    n += OUT[i].obj == GW_OBJ_COUNT && strcmp(OUT[i].charger, id) == 0;
  return n;
}

static bool logged(const char *needle)
{
  for (size_t i = 0; i < n_logs; i++) {
    if (strstr(LOGS[i], needle))
      return true;
  }
  return false;
}

Test(gw_energy, refuses_a_configuration_without_energy_and_missing_hooks)
{
  gw_energy *e = (gw_energy *)1;
  gw_conf none = {0};
  cr_assert_eq(gw_energy_create(&none, 10, &ops, NULL, &e), GW_EINVAL);
  cr_assert_null(e);
  gw_energy_ops bad = ops;
  bad.set_limit = NULL;
  cr_assert_eq(gw_energy_create(CFG, 10, &bad, NULL, &e), GW_EINVAL);
  cr_assert_eq(gw_energy_create(CFG, 0, &ops, NULL, &e), GW_EINVAL);
  cr_assert_eq(gw_energy_create(NULL, 10, &ops, NULL, &e), GW_EINVAL);
  cr_assert_eq(gw_energy_create(CFG, 10, &ops, NULL, NULL), GW_EINVAL);
  gw_energy_destroy(NULL);
  cr_assert_eq(gw_energy_pump(NULL, 0), 0);
}

Test(gw_energy, two_cars_share_the_meter_reading_in_its_dpts)
{
  start("A", "CARD");
  start("B", "CARD");
  gw_energy_on_knx_group(EN, GA3(1, 0, 5), KNX_GROUP_WRITE,
                         &(knx_payload){.short_form = true, .len = 1,
                                        .data = {1}}, NOW);
  gw_energy_on_write(EN, "B", 1, GW_OBJ_FAST_CHARGING, 0, NOW);
  draw("A", 0);
  draw("B", 0);
  meter(5, 3450);           /* 5 A per phase of house load */
  pump_at(NOW);
  /* B wishes its normal_current; A gets the rest of the 20 A */
  cr_assert_float_eq(last("B", GW_OBJ_COUNT), 8, 1e-9);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 12, 1e-9);
  cr_assert_float_eq(last("A", GW_OBJ_ALLOCATED_CURRENT_STATE), 12, 1e-9);
  cr_assert_float_eq(last("B", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_CHEAP, 1e-9);
  cr_assert(logged("A: connector 1: energy: 12 A (fuse, mode now)"));
  json_t *st = gw_energy_status(EN);
  cr_assert_not_null(st);
  json_t *measured = json_object_get(st, "measured_a");
  cr_assert_float_eq(json_real_value(json_array_get(measured, 1)), 5, 0.01);
  cr_assert_float_eq(json_real_value(json_object_get(st, "grid_power_w")),
                     3450, 2);
  json_t *b = json_array_get(json_object_get(st, "connectors"), 1);
  cr_assert_str_eq(json_string_value(json_object_get(b, "charger")), "B");
  cr_assert_str_eq(json_string_value(json_object_get(b, "mode")), "cheap");
  cr_assert_str_eq(json_string_value(json_object_get(b, "reason")), "wish");
  json_decref(st);
}

Test(gw_energy, a_tag_in_tag_modes_starts_its_session_in_that_mode)
{
  meter(2, 1380);
  start("A", "SUN");
  pump_at(NOW);
  cr_assert(logged("A: connector 1: tag SUN: charge mode pv"));
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_PV, 1e-9);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 0, 1e-9);
  /* the next session, without that tag: the connector's mode again */
  ocpp_event stop = {.type = OCPP_EV_TX_STOPPED, .charger_id = "A",
                     .connector = 1};
  gw_energy_on_ocpp_event(EN, &stop, NOW);
  start("A", "OTHER");
  pump_at(NOW + 1000);
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_NOW, 1e-9);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 16, 1e-9);
}

Test(gw_energy, knx_writes_set_the_mode_the_cap_and_the_wish)
{
  meter(0, 0);
  start("A", "CARD");
  pump_at(NOW);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 16, 1e-9);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_MAX_CURRENT, 9, NOW);
  pump_at(NOW + 1000);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 9, 1e-9);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGE_MODE, 0, NOW);
  pump_at(NOW + 1000);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 0, 1e-9);
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_OFF, 1e-9);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGE_MODE, 7, NOW);
  cr_assert(logged("charge_mode 7 ignored"));
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGING, 0, NOW);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGE_MODE, 1, NOW);
  pump_at(NOW + 1000);
  /* paused from KNX: the mode changes, the pause stays */
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_OFF, 1e-9);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGING, 1, NOW);
  pump_at(NOW + 1000);
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_NOW, 1e-9);
  gw_energy_on_write(EN, "Z", 1, GW_OBJ_CHARGE_MODE, 1, NOW);  /* unknown */
}

Test(gw_energy, steps_at_most_once_per_second_and_says_when)
{
  meter(0, 0);
  start("A", "CARD");
  pump_at(NOW);
  size_t limits = count_limits("A");
  gw_energy_on_write(EN, "A", 1, GW_OBJ_MAX_CURRENT, 9, NOW);
  uint64_t next = gw_energy_pump(EN, NOW + 200);
  cr_assert_eq(count_limits("A"), limits, "stepped within a second");
  cr_assert_eq(next, NOW + 1000);
  pump_at(NOW + 1000);
  cr_assert_eq(count_limits("A"), limits + 1);
}

Test(gw_energy, a_silent_meter_is_logged_once_and_gives_safe_current)
{
  meter(0, 0);
  start("A", "CARD");
  draw("A", 16);
  pump_at(NOW);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 16, 1e-9);
  uint64_t t = NOW;
  for (int s = 1; s <= 70; s++) {
    draw("A", last("A", GW_OBJ_COUNT));
    pump_at(t + (uint64_t)s * 1000);
  }
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 6, 1e-9);
  size_t n = 0;
  for (size_t i = 0; i < n_logs; i++)
    n += strstr(LOGS[i], "stale meter") && strstr(LOGS[i], "grid current");
  cr_assert_eq(n, 1);
  meter(0, 0);
  pump_at(NOW + 1000);
  cr_assert(logged("energy: grid meter back"));
}

Test(gw_energy, headroom_is_sent_on_change_and_answered_on_reads)
{
  meter(5, 0);
  pump_at(NOW);
  cr_assert_eq(n_sent, 1);
  cr_assert_eq(SENT[0].ga, GA3(1, 0, 6));
  cr_assert_float_eq(SENT[0].value, 20, 1e-9);
  cr_assert(!SENT[0].response);
  meter(5.2, 0);            /* 0.2 A less is not worth a telegram */
  pump_at(NOW + 1000);
  cr_assert_eq(n_sent, 1);
  cr_assert(gw_energy_on_knx_group(EN, GA3(1, 0, 6), KNX_GROUP_READ, NULL,
                                   NOW));
  cr_assert_eq(n_sent, 2);
  cr_assert(SENT[1].response);
  gw_energy_on_knx_link(EN, true, NOW);
  cr_assert_eq(n_sent, 3);
  cr_assert(!gw_energy_on_knx_group(EN, GA3(2, 0, 1), KNX_GROUP_WRITE, NULL,
                                    NOW));
}

Test(gw_energy, a_meter_value_in_the_wrong_dpt_is_ignored_with_a_log_line)
{
  knx_payload p = {.len = 4, .data = {0x41, 0x80, 0, 0}};  /* not 9.021 */
  cr_assert(gw_energy_on_knx_group(EN, GA3(1, 0, 1), KNX_GROUP_WRITE, &p,
                                   NOW));
  cr_assert(logged("energy: grid current on 1/0/1 ignored: not DPT 9.021"));
}

Test(gw_energy, a_reload_keeps_the_modes_and_asks_for_running_sessions)
{
  meter(0, 0);
  gw_energy_on_write(EN, "A", 1, GW_OBJ_CHARGE_MODE, EM_MODE_MINPV, NOW);
  tx_running = true;
  cr_assert_eq(gw_energy_set_chargers(EN, CFG->chargers, CFG->n_chargers,
                                      NOW), GW_OK);
  pump_at(NOW + 1000);
  cr_assert_float_eq(last("A", GW_OBJ_CHARGE_MODE_STATE), EM_MODE_MINPV, 1e-9);
  /* the running session gets a limit again */
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 6, 1e-9);
  cr_assert_eq(gw_energy_set_chargers(NULL, NULL, 0, NOW), GW_EINVAL);
}

Test(gw_energy, a_charger_that_boots_gets_its_limit_again)
{
  meter(0, 0);
  start("A", "CARD");
  pump_at(NOW);
  size_t limits = count_limits("A");
  pump_at(NOW + 5000);
  cr_assert_eq(count_limits("A"), limits);
  ocpp_event boot = {.type = OCPP_EV_BOOT, .charger_id = "A"};
  boot.boot.vendor = boot.boot.model = boot.boot.serial = boot.boot.firmware = "";
  gw_energy_on_ocpp_event(EN, &boot, NOW);
  pump_at(NOW + 1000);
  cr_assert_eq(count_limits("A"), limits + 1);
  cr_assert_float_eq(last("A", GW_OBJ_COUNT), 16, 1e-9);
}
