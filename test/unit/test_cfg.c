/* cfg: the main file, the charger files, every check and its diagnostic. */
#include "gateway/conf.h"
#include "test/energy_conf.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[PATH_MAX];
static gw_conf *cfg;
static gw_conf_diag diag;
static int rc;

/* TLS files the loader parses like the daemon: EC P-256, made once with
 * fixed dates (valid 2020-2120, expired 2001, valid only from 2090). The
 * certificates all carry pem_key; pem_ca is a CA with pem_other_key. */
static const char pem_cert_valid[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBMDCB1qADAgECAhRMNLkSykbqwgnpjFFakOEGsHa8JDAKBggqhkjOPQQDAjAO\n"
  "MQwwCgYDVQQDDANib3gwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBa\n"
  "MA4xDDAKBgNVBAMMA2JveDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABH0xkNkI\n"
  "WNXg+4X7M85bKpHYww005i470r4fjsfT5u7MbSxAks746wWEAnfrCzF+T7ssDKpH\n"
  "W3rnbbu2v61O5eujEDAOMAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0EAwIDSQAwRgIh\n"
  "AODGtkiYIExtQCUKOvfQM54QEwQchxsaGJaIQDV9xcJfAiEAz/zhjvpPE7VfhS/B\n"
  "jDtD4FFIg/6wZINKBQlh1FBNzpo=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char pem_cert_expired[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBLTCB1KADAgECAhRiklYiZYlT41VO1HKce2QRGatjGDAKBggqhkjOPQQDAjAO\n"
  "MQwwCgYDVQQDDANib3gwHhcNMDAwMTAxMDAwMDAwWhcNMDEwMTAxMDAwMDAwWjAO\n"
  "MQwwCgYDVQQDDANib3gwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR9MZDZCFjV\n"
  "4PuF+zPOWyqR2MMNNOYuO9K+H47H0+buzG0sQJLO+OsFhAJ36wsxfk+7LAyqR1t6\n"
  "5227tr+tTuXroxAwDjAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0gAMEUCIQCv\n"
  "SAPFS8vMCBQARnJwZahmUj5oyKm0w+pwyS5SqdWv0wIgYfi1dqF4M6lXYTguBRJW\n"
  "4nfkIy3+jx4jYZJzH8XT9lw=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char pem_cert_future[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBMTCB2KADAgECAhQFkrEchssV1MfZwaQLfkRcEZwXCjAKBggqhkjOPQQDAjAO\n"
  "MQwwCgYDVQQDDANib3gwIhgPMjA5MDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAw\n"
  "MFowDjEMMAoGA1UEAwwDYm94MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfTGQ\n"
  "2QhY1eD7hfszzlsqkdjDDTTmLjvSvh+Ox9Pm7sxtLECSzvjrBYQCd+sLMX5PuywM\n"
  "qkdbeudtu7a/rU7l66MQMA4wDAYDVR0TAQH/BAIwADAKBggqhkjOPQQDAgNIADBF\n"
  "AiEAjXD8p3CFz7K78nSdgGKqlS24m1XWnWYm8f/uhKSoUToCIAcr+PsJP5LahwYb\n"
  "N6GdqGPV5tJMdys3lD31SPE7qQ40\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char pem_ca[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBSjCB8aADAgECAhRNsINmm94toKy7Fo6cEZJKlQs69zAKBggqhkjOPQQDAjAa\n"
  "MRgwFgYDVQQDDA9vY3Bwa254IHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEy\n"
  "MDAxMDEwMDAwMDBaMBoxGDAWBgNVBAMMD29jcHBrbnggdGVzdCBDQTBZMBMGByqG\n"
  "SM49AgEGCCqGSM49AwEHA0IABPpQl1FtwA2nEunAOMhEHn0/iPMKDFiO1aO/XYbX\n"
  "2tGfOGEEskwgNfXKOGrHODEbW402YEiWO8KV0CPo71iCB9ujEzARMA8GA1UdEwEB\n"
  "/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgSN6C04N/p7LO4vspo75UDYs0hA97\n"
  "oG3mvXE2gfUfbqACIQCudSP5013BPql1Sv96ZFEzSb8AFfTG3cjON6ALCMeHrQ==\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char pem_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg82sJm0jdm/bP9cAx\n"
  "EapD41LJFK4XoXw+mkyiqwm5sguhRANCAAR9MZDZCFjV4PuF+zPOWyqR2MMNNOYu\n"
  "O9K+H47H0+buzG0sQJLO+OsFhAJ36wsxfk+7LAyqR1t65227tr+tTuXr\n"
  "-----END PRIVATE KEY-----\n"
  ;

static const char pem_other_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNVcxIn512mu6zv+r\n"
  "UMXMZr/r2Hrf4IR1ccUwFgfqfgehRANCAAT6UJdRbcANpxLpwDjIRB59P4jzCgxY\n"
  "jtWjv12G19rRnzhhBLJMIDX1yjhqxzgxG1uNNmBIljvCldAj6O9Yggfb\n"
  "-----END PRIVATE KEY-----\n"
  ;


static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static const char *path_of(const char *rel)
{
  static char buf[2][PATH_MAX + 256];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, rel);
  return buf[which];
}

static void write_file(const char *rel, const char *text)
{
  FILE *fp = fopen(path_of(rel), "w");
  cr_assert_not_null(fp, "cannot write %s", rel);
  fputs(text, fp);
  fclose(fp);
}

static void setup(void)
{
  snprintf(dir, sizeof dir, "%s", "/tmp/cfg-test-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  cr_assert_eq(mkdir(path_of("chargers.d"), 0700), 0);
  cfg = NULL;
  diag = (gw_conf_diag){0};
}

static void teardown(void)
{
  gw_conf_destroy(cfg);
  gw_conf_diag_finish(&diag);
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(cfg, .init = setup, .fini = teardown);

static void dump_diag(void)
{
  for (size_t i = 0; i < diag.n; i++)
    fprintf(stderr, "  diag: %s\n", diag.lines[i]);
}

/* Loads main.conf written from text. */
static void load_main(const char *text)
{
  write_file("main.conf", text);
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
}

/* Loads a main file with defaults and one charger file. */
static void load_charger(const char *text)
{
  write_file("chargers.d/a.conf", text);
  load_main("");
}

static void expect_ok(void)
{
  if (rc != GW_OK)
    dump_diag();
  cr_assert_eq(rc, GW_OK);
  cr_assert_not_null(cfg);
  cr_assert_eq(diag.n, 0);
}

/* Asserts a diagnostic "<dir>/<where>: ...phrase...". */
static void expect_diag(const char *where, const char *phrase)
{
  char prefix[PATH_MAX + 300];
  snprintf(prefix, sizeof prefix, "%s: ", path_of(where));
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_null(cfg);
  for (size_t i = 0; i < diag.n; i++) {
    if (strncmp(diag.lines[i], prefix, strlen(prefix)) == 0 &&
        strstr(diag.lines[i], phrase) != NULL)
      return;
  }
  dump_diag();
  cr_assert_fail("no diagnostic \"%s...%s\"", prefix, phrase);
}

static void expect_one_diag(const char *where, const char *phrase)
{
  expect_diag(where, phrase);
  if (diag.n != 1)
    dump_diag();
  cr_assert_eq(diag.n, 1);
}

/* ---- the object table ----------------------------------------------------- */

Test(cfg, object_keys_follow_the_design_names)
{
  static const char *const keys[GW_OBJ_COUNT] = {
      "status", "error_code", "charging_state", "charging", "reserve",
      "availability_state", "availability", "unlock", "session_energy",
      "start_time", "end_time", "current", "max_current_state", "max_current",
      "fast_charging_state", "fast_charging", "reset", "power", "meter",
      "session_energy_live", "last_tag", "plugged", "online",
      "charge_mode_state", "charge_mode", "allocated_current_state",
      "upstream_online"};
  for (int i = 0; i < GW_OBJ_COUNT; i++)
    cr_assert_str_eq(gw_object_key((gw_object)i), keys[i]);
  cr_assert_null(gw_object_key(GW_OBJ_COUNT));
  cr_assert_null(gw_object_key((gw_object)-1));
}

Test(cfg, commands_are_not_state_objects)
{
  static const gw_object commands[] = {
      GW_OBJ_CHARGING, GW_OBJ_RESERVE, GW_OBJ_AVAILABILITY, GW_OBJ_UNLOCK,
      GW_OBJ_MAX_CURRENT, GW_OBJ_FAST_CHARGING, GW_OBJ_RESET,
      GW_OBJ_CHARGE_MODE};
  size_t states = 0;
  for (int i = 0; i < GW_OBJ_COUNT; i++) {
    bool command = false;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
      command = command || commands[k] == (gw_object)i;
    cr_assert_eq(gw_object_is_state((gw_object)i), !command, "%s",
                 gw_object_key((gw_object)i));
    states += !command;
  }
  cr_assert_eq(states, 19);
  cr_assert_not(gw_object_is_state(GW_OBJ_COUNT));
}

Test(cfg, object_dpts_follow_the_charger_choices)
{
  load_charger("[charger]\nid = A\ntime_dpt = 19.001\ncurrent_dpt = 9.021\n"
               "power_dpt = 9.024\nmeter_dpt = 13.010\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_START_TIME), KNX_DPT_19_001);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_END_TIME), KNX_DPT_19_001);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_CURRENT), KNX_DPT_9_021);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_MAX_CURRENT_STATE), KNX_DPT_9_021);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_MAX_CURRENT), KNX_DPT_9_021);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_POWER), KNX_DPT_9_024);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_METER), KNX_DPT_13_010);
}

Test(cfg, fixed_object_dpts_match_the_design_table)
{
  static const struct {
    gw_object obj;
    knx_dpt dpt;
  } fixed[] = {
      {GW_OBJ_STATUS, KNX_DPT_5_010}, {GW_OBJ_ERROR_CODE, KNX_DPT_5_010},
      {GW_OBJ_CHARGING_STATE, KNX_DPT_1_010}, {GW_OBJ_CHARGING, KNX_DPT_1_010},
      {GW_OBJ_RESERVE, KNX_DPT_1_010}, {GW_OBJ_AVAILABILITY_STATE, KNX_DPT_1_003},
      {GW_OBJ_AVAILABILITY, KNX_DPT_1_003}, {GW_OBJ_UNLOCK, KNX_DPT_1_003},
      {GW_OBJ_SESSION_ENERGY, KNX_DPT_13_010}, {GW_OBJ_START_TIME, KNX_DPT_10_001},
      {GW_OBJ_CURRENT, KNX_DPT_14_019}, {GW_OBJ_FAST_CHARGING_STATE, KNX_DPT_1_001},
      {GW_OBJ_FAST_CHARGING, KNX_DPT_1_001}, {GW_OBJ_RESET, KNX_DPT_1_015},
      {GW_OBJ_POWER, KNX_DPT_14_056}, {GW_OBJ_METER, KNX_DPT_13_013},
      {GW_OBJ_SESSION_ENERGY_LIVE, KNX_DPT_13_010}, {GW_OBJ_LAST_TAG, KNX_DPT_16_000},
      {GW_OBJ_PLUGGED, KNX_DPT_1_002}, {GW_OBJ_ONLINE, KNX_DPT_1_011}};
  load_charger("[charger]\nid = A\n");
  expect_ok();
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    cr_assert_eq(gw_object_dpt(&cfg->chargers[0], fixed[i].obj), fixed[i].dpt,
                 "%s", gw_object_key(fixed[i].obj));
  cr_assert_eq(gw_object_dpt(NULL, GW_OBJ_METER), KNX_DPT_13_013);
}

/* ---- defaults ------------------------------------------------------------- */

Test(cfg, empty_main_file_gives_every_default)
{
  load_main("");
  expect_ok();
  cr_assert_str_eq(cfg->file, path_of("main.conf"));
  cr_assert_str_eq(cfg->listen, "0.0.0.0:8016");
  cr_assert_str_eq(cfg->tls_listen, "");
  cr_assert_null(cfg->tls_cert);
  cr_assert_null(cfg->tls_key);
  cr_assert_null(cfg->tls_ca);
  cr_assert_eq(cfg->heartbeat_interval, 300);
  cr_assert_eq(cfg->call_timeout, 30);
  cr_assert_not(cfg->accept_unknown);
  cr_assert_eq(cfg->meter_sample_interval, 60);
  cr_assert_eq(cfg->max_message_size, 65536);
  cr_assert_str_eq(cfg->knx_url, "local:/run/knx");
  cr_assert_eq(cfg->max_telegrams_per_second, 20);
  cr_assert_str_eq(cfg->store_dir, "/var/lib/ocppknx");
  cr_assert_eq(cfg->log_level, GW_LOG_INFO);
  cr_assert_not(cfg->trace_ocpp);
  cr_assert_str_eq(cfg->chargers_dir, path_of("chargers.d"));
  cr_assert_eq(cfg->n_chargers, 0);
}

Test(cfg, charger_with_only_an_id_gets_every_default)
{
  load_charger("[charger]\nid = CP1\n");
  expect_ok();
  cr_assert_eq(cfg->n_chargers, 1);
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_str_eq(c->file, path_of("chargers.d/a.conf"));
  cr_assert_str_eq(c->id, "CP1");
  cr_assert_str_eq(c->name, "CP1");
  cr_assert_eq(c->security_profile, 0);
  cr_assert_null(c->password);
  cr_assert_float_eq(c->normal_current, 10, 1e-9);
  cr_assert_float_eq(c->fast_current, 16, 1e-9);
  cr_assert_float_eq(c->current_hysteresis, 0.2, 1e-9);
  cr_assert_float_eq(c->power_hysteresis, 100, 1e-9);
  cr_assert_float_eq(c->energy_hysteresis, 100, 1e-9);
  cr_assert_float_eq(c->voltage, 230, 1e-9);
  cr_assert_eq(c->phases, 3);
  cr_assert_eq(c->time_dpt, KNX_DPT_10_001);
  cr_assert_eq(c->current_dpt, KNX_DPT_14_019);
  cr_assert_eq(c->power_dpt, KNX_DPT_14_056);
  cr_assert_eq(c->meter_dpt, KNX_DPT_13_013);
  cr_assert_eq(c->start_mode, OCPP_START_TAG);
  cr_assert_eq(c->n_tags, 1);
  cr_assert_str_eq(c->tags[0], "*");
  cr_assert_eq(c->tag_match, OCPP_TAG_EXACT);
  cr_assert_eq(c->ocpp_version, OCPP_VERSION_AUTO);
  cr_assert_str_eq(c->remote_tag, "KNX");
  cr_assert_eq(c->stop_mode, GW_STOP_STOP);
  cr_assert_eq(c->reservation_minutes, 30);
}

Test(cfg, charger_without_connector_sections_has_connector_1)
{
  load_charger("[charger]\nid = CP1\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_eq(c->n_connectors, 1);
  cr_assert_eq(c->connectors[0].id, 1);
  for (int i = 0; i < GW_OBJ_COUNT; i++)
    cr_assert_not(c->connectors[0].has_ga[i]);
}

/* ---- value forms ---------------------------------------------------------- */

Test(cfg, every_main_key_is_read)
{
  write_file("ca.crt", pem_ca);
  write_file("s.crt", pem_cert_valid);
  write_file("s.key", pem_key);
  load_main("[ocpp]\nlisten = 127.0.0.1:9000\ntls_listen = [::1]:9001\n"
            "tls_cert = s.crt\ntls_key = s.key\ntls_ca = ca.crt\n"
            "heartbeat_interval = 60\ncall_timeout = 5\naccept_unknown = yes\n"
            "meter_sample_interval = 1\nmax_message_size = 4096\n"
            "[knx]\nurl = ip:127.0.0.1:6720\nmax_telegrams_per_second = 1000\n"
            "[store]\ndir = state\n[log]\nlevel = debug\ntrace_ocpp = on\n"
            "[chargers]\ndir = chargers.d\n");
  expect_ok();
  cr_assert_str_eq(cfg->listen, "127.0.0.1:9000");
  cr_assert_str_eq(cfg->tls_listen, "[::1]:9001");
  cr_assert_str_eq(cfg->tls_cert, path_of("s.crt"));
  cr_assert_str_eq(cfg->tls_key, path_of("s.key"));
  cr_assert_str_eq(cfg->tls_ca, path_of("ca.crt"));
  cr_assert_eq(cfg->heartbeat_interval, 60);
  cr_assert_eq(cfg->call_timeout, 5);
  cr_assert(cfg->accept_unknown);
  cr_assert_eq(cfg->meter_sample_interval, 1);
  cr_assert_eq(cfg->max_message_size, 4096);
  cr_assert_str_eq(cfg->knx_url, "ip:127.0.0.1:6720");
  cr_assert_eq(cfg->max_telegrams_per_second, 1000);
  cr_assert_str_eq(cfg->store_dir, path_of("state"));
  cr_assert_eq(cfg->log_level, GW_LOG_DEBUG);
  cr_assert(cfg->trace_ocpp);
}

Test(cfg, status_password_guards_the_page_when_given)
{
  load_main("");
  expect_ok();
  cr_assert_null(cfg->status_password, "the page is open by default");
  gw_conf_destroy(cfg);
  cfg = NULL;
  load_main("[status]\npassword = s3cret pass\n");
  expect_ok();
  cr_assert_str_eq(cfg->status_password, "s3cret pass");
}

Test(cfg, status_password_must_not_be_empty)
{
  load_main("[status]\npassword =\n");
  expect_one_diag("main.conf:2", "password");
}

Test(cfg, every_charger_key_is_read)
{
  load_charger("[charger]\nid = CP-7\nname = Car port\nsecurity_profile = 1\n"
               "password = secret\nnormal_current = 6.5\nfast_current = 32\n"
               "current_hysteresis = 0.5\npower_hysteresis = 50\n"
               "energy_hysteresis = 10\nvoltage = 240\nphases = 1\n"
               "start_mode = auto\ntags = AB12, cd34 ,*\ntag_match = relaxed\n"
               "remote_tag = PANEL\nstop_mode = pause\nreservation_minutes = 90\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_str_eq(c->name, "Car port");
  cr_assert_eq(c->security_profile, 1);
  cr_assert_str_eq(c->password, "secret");
  cr_assert_float_eq(c->normal_current, 6.5, 1e-9);
  cr_assert_float_eq(c->fast_current, 32, 1e-9);
  cr_assert_float_eq(c->current_hysteresis, 0.5, 1e-9);
  cr_assert_float_eq(c->power_hysteresis, 50, 1e-9);
  cr_assert_float_eq(c->energy_hysteresis, 10, 1e-9);
  cr_assert_float_eq(c->voltage, 240, 1e-9);
  cr_assert_eq(c->phases, 1);
  cr_assert_eq(c->start_mode, OCPP_START_AUTO);
  cr_assert_eq(c->n_tags, 3);
  cr_assert_str_eq(c->tags[0], "AB12");
  cr_assert_str_eq(c->tags[1], "cd34");
  cr_assert_str_eq(c->tags[2], "*");
  cr_assert_eq(c->tag_match, OCPP_TAG_RELAXED);
  cr_assert_str_eq(c->remote_tag, "PANEL");
  cr_assert_eq(c->stop_mode, GW_STOP_PAUSE);
  cr_assert_eq(c->reservation_minutes, 90);
}

Test(cfg, every_boolean_spelling_is_accepted)
{
  static const struct {
    const char *text;
    bool value;
  } forms[] = {{"true", true}, {"yes", true}, {"on", true}, {"1", true},
               {"TRUE", true}, {"false", false}, {"no", false}, {"off", false},
               {"0", false}, {"Off", false}};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    char text[128];
    snprintf(text, sizeof text, "[ocpp]\naccept_unknown = %s\n", forms[i].text);
    load_main(text);
    expect_ok();
    cr_assert_eq(cfg->accept_unknown, forms[i].value, "%s", forms[i].text);
    gw_conf_destroy(cfg);
    cfg = NULL;
  }
}

Test(cfg, non_boolean_is_rejected)
{
  load_main("[log]\ntrace_ocpp = maybe\n");
  expect_one_diag("main.conf:2", "trace_ocpp: \"maybe\" is not a boolean");
}

Test(cfg, integer_below_range_is_rejected)
{
  load_main("[ocpp]\nheartbeat_interval = 9\n");
  expect_one_diag("main.conf:2", "heartbeat_interval: 9 is out of range 10..86400");
}

Test(cfg, integer_above_range_is_rejected)
{
  load_main("[knx]\nmax_telegrams_per_second = 1001\n");
  expect_one_diag("main.conf:2", "max_telegrams_per_second: 1001 is out of range 1..1000");
}

Test(cfg, integer_with_a_unit_is_rejected)
{
  load_main("[ocpp]\n\ncall_timeout = 30s\n");
  expect_one_diag("main.conf:3", "call_timeout: \"30s\" is not an integer");
}

Test(cfg, huge_integer_is_out_of_range)
{
  load_main("[ocpp]\ncall_timeout = 99999999999999999999999\n");
  expect_one_diag("main.conf:2", "call_timeout: 99999999999999999999999 is out of range");
}

Test(cfg, call_timeout_zero_is_rejected)
{
  load_main("[ocpp]\ncall_timeout = 0\n");
  expect_one_diag("main.conf:2", "call_timeout: 0 is out of range 1..600");
}

Test(cfg, decimal_forms_are_accepted)
{
  load_charger("[charger]\nid = A\nnormal_current = 6.\ncurrent_hysteresis = .25\n");
  expect_ok();
  cr_assert_float_eq(cfg->chargers[0].normal_current, 6.0, 1e-9);
  cr_assert_float_eq(cfg->chargers[0].current_hysteresis, 0.25, 1e-9);
}

Test(cfg, decimal_with_exponent_is_rejected)
{
  load_charger("[charger]\nid = A\nvoltage = 2.3e2\n");
  expect_one_diag("chargers.d/a.conf:3", "voltage: \"2.3e2\" is not a number");
}

Test(cfg, current_below_6_amperes_is_rejected)
{
  load_charger("[charger]\nid = A\nnormal_current = 5.9\n");
  expect_one_diag("chargers.d/a.conf:3", "normal_current: 5.9 is out of range 6..80");
}

Test(cfg, current_above_80_amperes_is_rejected)
{
  load_charger("[charger]\nid = A\nfast_current = 81\n");
  expect_one_diag("chargers.d/a.conf:3", "fast_current: 81 is out of range 6..80");
}

Test(cfg, normal_current_above_fast_current_is_rejected)
{
  load_charger("[charger]\nid = A\nnormal_current = 20\nfast_current = 16\n");
  expect_one_diag("chargers.d/a.conf:4", "normal_current 20 A is above fast_current 16 A");
}

Test(cfg, phases_must_be_1_or_3)
{
  load_charger("[charger]\nid = A\nphases = 2\n");
  expect_one_diag("chargers.d/a.conf:3", "phases: 2 is not 1 or 3");
}

Test(cfg, unknown_log_level_is_rejected)
{
  load_main("[log]\nlevel = verbose\n");
  expect_one_diag("main.conf:2", "level: \"verbose\" is not one of error|warn|info|debug");
}

Test(cfg, log_levels_are_read)
{
  static const struct {
    const char *text;
    gw_log_level level;
  } levels[] = {{"error", GW_LOG_ERROR}, {"warn", GW_LOG_WARN},
                {"info", GW_LOG_INFO}, {"debug", GW_LOG_DEBUG}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    char text[64];
    snprintf(text, sizeof text, "[log]\nlevel = %s\n", levels[i].text);
    load_main(text);
    expect_ok();
    cr_assert_eq(cfg->log_level, levels[i].level);
    gw_conf_destroy(cfg);
    cfg = NULL;
  }
}

Test(cfg, unknown_start_mode_is_rejected)
{
  load_charger("[charger]\nid = A\nstart_mode = always\n");
  expect_one_diag("chargers.d/a.conf:3", "start_mode: \"always\" is not one of auto|tag|any");
}

Test(cfg, unknown_stop_mode_is_rejected)
{
  load_charger("[charger]\nid = A\nstop_mode = halt\n");
  expect_one_diag("chargers.d/a.conf:3", "stop_mode: \"halt\" is not one of stop|pause");
}

Test(cfg, unknown_tag_match_is_rejected)
{
  load_charger("[charger]\nid = A\ntag_match = fuzzy\n");
  expect_one_diag("chargers.d/a.conf:3", "tag_match: \"fuzzy\" is not one of exact|relaxed|reversed");
}

Test(cfg, every_ocpp_version_is_accepted)
{
  static const struct { const char *text; ocpp_version v; } cases[] = {
    {"auto", OCPP_VERSION_AUTO}, {"1.6", OCPP_VERSION_16},
    {"2.0.1", OCPP_VERSION_201},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[64];
    snprintf(text, sizeof text, "[charger]\nid = A\nocpp_version = %s\n",
             cases[i].text);
    load_charger(text);
    expect_ok();
    cr_expect_eq(cfg->chargers[0].ocpp_version, cases[i].v, "%s",
                 cases[i].text);
    gw_conf_destroy(cfg);
    cfg = NULL;
    gw_conf_diag_finish(&diag);
    diag = (gw_conf_diag){0};
  }
}

Test(cfg, unknown_ocpp_version_is_rejected)
{
  load_charger("[charger]\nid = A\nocpp_version = 2.0\n");
  expect_one_diag("chargers.d/a.conf:3", "ocpp_version: \"2.0\" is not one of auto|1.6|2.0.1");
}

Test(cfg, dpt_outside_the_choices_is_rejected)
{
  load_charger("[charger]\nid = A\ntime_dpt = 11.001\n");
  expect_one_diag("chargers.d/a.conf:3", "time_dpt: DPT 11.001 is not allowed here (10.001 or 19.001)");
}

Test(cfg, unknown_dpt_is_rejected)
{
  load_charger("[charger]\nid = A\nmeter_dpt = 13.999\n");
  expect_one_diag("chargers.d/a.conf:3", "meter_dpt: unknown DPT \"13.999\"");
}

Test(cfg, each_dpt_key_has_its_own_choices)
{
  load_charger("[charger]\nid = A\ncurrent_dpt = 9.024\npower_dpt = 9.021\n");
  expect_diag("chargers.d/a.conf:3", "current_dpt: DPT 9.024 is not allowed here (14.019 or 9.021)");
  expect_diag("chargers.d/a.conf:4", "power_dpt: DPT 9.021 is not allowed here (14.056 or 9.024)");
}

Test(cfg, dpt_with_prefix_is_accepted)
{
  load_charger("[charger]\nid = A\npower_dpt = DPT9.024\n");
  expect_ok();
  cr_assert_eq(cfg->chargers[0].power_dpt, KNX_DPT_9_024);
}

Test(cfg, listen_without_port_is_rejected)
{
  load_main("[ocpp]\nlisten = 0.0.0.0\n");
  expect_one_diag("main.conf:2", "listen: \"0.0.0.0\" is not host:port");
}

Test(cfg, listen_port_above_65535_is_rejected)
{
  load_main("[ocpp]\nlisten = 0.0.0.0:65536\n");
  expect_one_diag("main.conf:2", "listen: \"0.0.0.0:65536\" is not host:port");
}

Test(cfg, empty_listen_disables_the_listener)
{
  load_main("[ocpp]\nlisten =\n");
  expect_ok();
  cr_assert_str_eq(cfg->listen, "");
}

Test(cfg, empty_knx_url_is_rejected)
{
  load_main("[knx]\nurl =\n");
  expect_one_diag("main.conf:2", "url: must not be empty");
}

/* ---- tags and identities -------------------------------------------------- */

Test(cfg, empty_tag_in_the_list_is_rejected)
{
  load_charger("[charger]\nid = A\ntags = AB, ,CD\n");
  expect_one_diag("chargers.d/a.conf:3", "tags: empty entry");
}

Test(cfg, tag_longer_than_an_id_token_is_rejected)
{
  load_charger("[charger]\nid = A\ntags = 123456789012345678901\n");
  expect_one_diag("chargers.d/a.conf:3", "tags: \"123456789012345678901\" is longer than 20 characters");
}

Test(cfg, tag_of_20_characters_is_accepted)
{
  load_charger("[charger]\nid = A\ntags = 12345678901234567890\n");
  expect_ok();
  cr_assert_str_eq(cfg->chargers[0].tags[0], "12345678901234567890");
}

Test(cfg, remote_tag_longer_than_20_characters_is_rejected)
{
  load_charger("[charger]\nid = A\nremote_tag = 123456789012345678901\n");
  expect_one_diag("chargers.d/a.conf:3", "remote_tag: longer than 20 characters");
}

Test(cfg, id_with_a_slash_is_rejected)
{
  load_charger("[charger]\nid = a/b\n");
  expect_one_diag("chargers.d/a.conf:2", "id: \"a/b\" must not contain '/'");
}

Test(cfg, id_longer_than_48_characters_is_rejected)
{
  load_charger("[charger]\nid = 1234567890123456789012345678901234567890123456789\n");
  expect_one_diag("chargers.d/a.conf:2", "id: longer than 48 characters");
}

Test(cfg, id_of_48_characters_is_accepted)
{
  load_charger("[charger]\nid = 123456789012345678901234567890123456789012345678\n");
  expect_ok();
}

Test(cfg, empty_id_is_rejected)
{
  load_charger("[charger]\nid =\n");
  expect_one_diag("chargers.d/a.conf:2", "id: must not be empty");
}

Test(cfg, id_with_a_control_character_is_rejected)
{
  load_charger("[charger]\nid = a\tb\n");
  expect_one_diag("chargers.d/a.conf:2", "id: contains a control character");
}

Test(cfg, missing_id_is_rejected)
{
  load_charger("[charger]\nname = Garage\n");
  expect_one_diag("chargers.d/a.conf", "id is missing in [charger]");
}

Test(cfg, duplicate_ids_across_files_are_rejected)
{
  write_file("chargers.d/b.conf", "; second\n[charger]\nid = CP1\n");
  load_charger("[charger]\nid = CP1\n");
  expect_one_diag("chargers.d/b.conf:3", "id: \"CP1\" is already used by");
  cr_assert(strstr(diag.lines[0], path_of("chargers.d/a.conf:2")) != NULL, "%s",
            diag.lines[0]);
}

Test(cfg, password_longer_than_40_characters_is_rejected)
{
  load_charger("[charger]\nid = A\npassword = 12345678901234567890123456789012345678901\n");
  expect_one_diag("chargers.d/a.conf:3", "password: longer than 40 characters");
}

/* ---- comments and syntax -------------------------------------------------- */

Test(cfg, inline_comments_are_stripped)
{
  load_charger("[charger]                 ; the charger\n"
               "id = CP1                  ; identity\n"
               "password = a;b            ; ';' without a blank stays\n"
               "[connector 1]             ; first\n"
               "status = 9/7/0            ; 5.010\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_str_eq(c->id, "CP1");
  cr_assert_str_eq(c->password, "a;b");
  cr_assert(c->connectors[0].has_ga[GW_OBJ_STATUS]);
}

Test(cfg, comment_after_an_empty_value_leaves_it_empty)
{
  load_main("[ocpp]\ntls_listen =        ; disabled\n");
  expect_ok();
  cr_assert_str_eq(cfg->tls_listen, "");
}

Test(cfg, comment_lines_and_indented_keys_are_read)
{
  load_main("# hash comment\n; semicolon comment\n[ocpp]\n"
            "  heartbeat_interval = 60\n  call_timeout = 7\n");
  expect_ok();
  cr_assert_eq(cfg->heartbeat_interval, 60);
  cr_assert_eq(cfg->call_timeout, 7);
}

Test(cfg, long_comment_lines_are_accepted)
{
  char text[1200];
  char comment[1000];
  memset(comment, 'x', sizeof comment - 1);
  comment[sizeof comment - 1] = '\0';
  snprintf(text, sizeof text, "[ocpp]\ncall_timeout = 7 ; %s\n", comment);
  load_main(text);
  expect_ok();
  cr_assert_eq(cfg->call_timeout, 7);
}

Test(cfg, overlong_line_is_rejected)
{
  char text[1200];
  char value[400];
  memset(value, 'x', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  snprintf(text, sizeof text, "[knx]\nurl = %s\n", value);
  load_main(text);
  expect_one_diag("main.conf:2", "line longer than");
}

Test(cfg, windows_line_endings_and_bom_are_accepted)
{
  load_main("\xEF\xBB\xBF[ocpp]\r\ncall_timeout = 7\r\n");
  expect_ok();
  cr_assert_eq(cfg->call_timeout, 7);
}

Test(cfg, unknown_section_is_rejected_even_when_empty)
{
  load_main("[ocpp]\n[knxx]\n");
  expect_one_diag("main.conf:2", "unknown section [knxx]");
}

Test(cfg, keys_of_an_unknown_section_are_not_reported_again)
{
  load_main("[sore]\ndir = /tmp\n");
  expect_one_diag("main.conf:1", "unknown section [sore]");
}

Test(cfg, unknown_key_is_rejected)
{
  load_main("[ocpp]\nheartbeat = 60\n");
  expect_one_diag("main.conf:2", "unknown key \"heartbeat\" in [ocpp]");
}

Test(cfg, key_of_another_section_is_rejected)
{
  load_main("[knx]\nlisten = 0.0.0.0:1\n");
  expect_one_diag("main.conf:2", "unknown key \"listen\" in [knx]");
}

Test(cfg, same_key_name_in_two_sections_is_read_for_each)
{
  load_main("[store]\ndir = /srv/state\n[chargers]\ndir = /nonexistent/chargers\n");
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_eq(diag.n, 1);
  cr_assert_str_eq(diag.lines[0], "/nonexistent/chargers: No such file or directory");
}

Test(cfg, key_outside_any_section_is_rejected)
{
  load_main("listen = 0.0.0.0:1\n");
  expect_one_diag("main.conf:1", "listen: key outside any section");
}

Test(cfg, duplicated_section_is_rejected)
{
  load_main("[ocpp]\n\n[ocpp]\ncall_timeout = 5\n");
  expect_one_diag("main.conf:3", "[ocpp]: section given twice (first on line 1)");
}

Test(cfg, duplicated_key_is_rejected)
{
  load_main("[ocpp]\ncall_timeout = 5\ncall_timeout = 6\n");
  expect_one_diag("main.conf:3", "call_timeout: given twice (first on line 2)");
}

Test(cfg, line_without_equals_is_rejected)
{
  load_main("[ocpp]\ncall_timeout 5\n");
  expect_one_diag("main.conf:2", "expected \"key = value\" or \"[section]\"");
}

Test(cfg, section_without_closing_bracket_is_rejected)
{
  load_main("[ocpp\n");
  expect_one_diag("main.conf:1", "missing ']' in section header");
}

Test(cfg, text_after_a_section_header_is_rejected)
{
  load_main("[ocpp] listen\n");
  expect_one_diag("main.conf:1", "text after the section header");
}

Test(cfg, nul_byte_in_a_line_is_rejected)
{
  FILE *fp = fopen(path_of("main.conf"), "w");
  cr_assert_not_null(fp);
  static const char text[] = "[ocpp]\ncall_timeout = 5\0 7\n";
  fwrite(text, 1, sizeof text - 1, fp);
  fclose(fp);
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
  expect_one_diag("main.conf:2", "contains a NUL byte");
}

Test(cfg, file_with_too_many_lines_is_rejected)
{
  FILE *fp = fopen(path_of("main.conf"), "w");
  cr_assert_not_null(fp);
  for (int i = 0; i < 6000; i++)
    fputs("; filler\n", fp);
  fclose(fp);
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
  expect_one_diag("main.conf:5001", "more than 5000 lines");
}

Test(cfg, missing_key_name_is_rejected)
{
  load_main("[ocpp]\n= 5\n");
  expect_one_diag("main.conf:2", "missing key before '='");
}

Test(cfg, every_problem_is_reported_not_only_the_first)
{
  load_main("[ocpp]\ncall_timeout = 0\nheartbeat_interval = x\nbogus = 1\n[log]\nlevel = loud\n");
  expect_diag("main.conf:2", "call_timeout");
  expect_diag("main.conf:3", "heartbeat_interval");
  expect_diag("main.conf:4", "bogus");
  expect_diag("main.conf:6", "level");
  cr_assert_eq(diag.n, 4);
}

Test(cfg, problems_in_main_and_charger_files_are_reported_together)
{
  write_file("chargers.d/a.conf", "[charger]\nid = A\nphases = 4\n");
  load_main("[ocpp]\ncall_timeout = 0\n");
  expect_diag("main.conf:2", "call_timeout");
  expect_diag("chargers.d/a.conf:3", "phases");
  cr_assert_eq(diag.n, 2);
}

Test(cfg, missing_main_file_is_reported)
{
  rc = gw_conf_load(path_of("nothere.conf"), &cfg, &diag);
  expect_one_diag("nothere.conf", "No such file or directory");
  cr_assert(strstr(diag.lines[0], ":0") == NULL);
}

Test(cfg, null_diag_is_allowed)
{
  write_file("main.conf", "[ocpp]\ncall_timeout = 0\n");
  cr_assert_eq(gw_conf_load(path_of("main.conf"), &cfg, NULL), GW_ECONFIG);
  cr_assert_null(cfg);
}

Test(cfg, destroy_accepts_null)
{
  gw_conf_destroy(NULL);
  gw_conf_chargers_free(NULL, 0);
  gw_conf_diag_finish(NULL);
}

/* ---- connectors and group addresses --------------------------------------- */

Test(cfg, group_address_notations_are_read)
{
  load_charger("[charger]\nid = A\n[connector 2]\nstatus = 9/7/0\n"
               "error_code = 9/1892\nplugged = 19300\n");
  expect_ok();
  const gw_connector_conf *k = &cfg->chargers[0].connectors[0];
  cr_assert_eq(cfg->chargers[0].n_connectors, 1);
  cr_assert_eq(k->id, 2);
  cr_assert_eq(k->ga[GW_OBJ_STATUS], (9 << 11) | (7 << 8));
  cr_assert_eq(k->ga[GW_OBJ_ERROR_CODE], (9 << 11) | 1892);
  cr_assert_eq(k->ga[GW_OBJ_PLUGGED], 19300);
  cr_assert_eq(k->line[GW_OBJ_STATUS], 4);
  cr_assert_eq(k->line[GW_OBJ_PLUGGED], 6);
  cr_assert_not(k->has_ga[GW_OBJ_ONLINE]);
}

Test(cfg, connectors_are_sorted_by_number)
{
  load_charger("[charger]\nid = A\n[connector 3]\nstatus = 1/0/3\n[connector 1]\nstatus = 1/0/1\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_eq(c->n_connectors, 2);
  cr_assert_eq(c->connectors[0].id, 1);
  cr_assert_eq(c->connectors[0].ga[GW_OBJ_STATUS], (1 << 11) | 1);
  cr_assert_eq(c->connectors[1].id, 3);
}

Test(cfg, middle_group_out_of_range_is_named)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 9/8/0\n");
  expect_one_diag("chargers.d/a.conf:4", "status: invalid group address \"9/8/0\" (middle group 0..7)");
}

Test(cfg, main_group_out_of_range_is_named)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 32/0/0\n");
  expect_one_diag("chargers.d/a.conf:4", "(main group 0..31)");
}

Test(cfg, sub_group_out_of_range_is_named)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 1/0/256\nonline = 1/2048\n");
  expect_diag("chargers.d/a.conf:4", "(sub group 0..255)");
  expect_diag("chargers.d/a.conf:5", "online: invalid group address \"1/2048\" (sub group 0..2047)");
}

Test(cfg, free_address_out_of_range_is_named)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 65536\n");
  expect_one_diag("chargers.d/a.conf:4", "(free address 0..65535)");
}

Test(cfg, malformed_group_address_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 1/2/3/4\ncharging = x\n");
  expect_diag("chargers.d/a.conf:4", "expected main/middle/sub, main/sub or a number");
  expect_diag("chargers.d/a.conf:5", "charging: invalid group address \"x\"");
}

Test(cfg, broadcast_group_address_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 0/0/0\n");
  expect_one_diag("chargers.d/a.conf:4", "status: group address 0/0/0 is the broadcast address");
}

Test(cfg, connector_number_out_of_range_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 9]\nstatus = 1/0/1\n[connector 0]\n");
  expect_diag("chargers.d/a.conf:3", "[connector 9]: connector number must be 1..8");
  expect_diag("chargers.d/a.conf:5", "[connector 0]: connector number must be 1..8");
  cr_assert_eq(diag.n, 2);
}

Test(cfg, duplicated_connector_section_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 1/0/1\n[connector 1]\nonline = 1/0/2\n");
  expect_one_diag("chargers.d/a.conf:5", "[connector 1]: section given twice (first on line 3)");
}

Test(cfg, unknown_connector_key_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus_state = 1/0/1\n");
  expect_one_diag("chargers.d/a.conf:4", "unknown key \"status_state\" in [connector 1]");
}

Test(cfg, connector_section_is_unknown_in_the_main_file)
{
  load_main("[connector 1]\n");
  expect_one_diag("main.conf:1", "unknown section [connector 1]");
}

Test(cfg, duplicated_connector_key_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 1/0/1\nstatus = 1/0/2\n");
  expect_one_diag("chargers.d/a.conf:5", "status: given twice (first on line 4)");
}

Test(cfg, group_address_with_two_dpts_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\nstatus = 1/0/1\nplugged = 1/0/1\n");
  expect_one_diag("chargers.d/a.conf:5", "plugged: group address 1/0/1 is also used by status at");
  cr_assert(strstr(diag.lines[0], "a.conf:4") != NULL, "%s", diag.lines[0]);
  cr_assert(strstr(diag.lines[0], "5.010") != NULL, "%s", diag.lines[0]);
}

Test(cfg, group_address_used_as_two_commands_is_rejected)
{
  write_file("chargers.d/b.conf", "[charger]\nid = B\n[connector 1]\ncharging = 2/0/1\n");
  load_charger("[charger]\nid = A\n[connector 1]\ncharging = 2/0/1\n");
  expect_one_diag("chargers.d/b.conf:4", "charging: group address 2/0/1 is also the command address of charging at");
  cr_assert(strstr(diag.lines[0], path_of("chargers.d/a.conf:4")) != NULL, "%s", diag.lines[0]);
}

Test(cfg, command_and_state_on_one_address_is_rejected)
{
  load_charger("[charger]\nid = A\n[connector 1]\ncharging_state = 2/0/1\ncharging = 2/0/1\n");
  expect_one_diag("chargers.d/a.conf:5", "only state objects of one DPT may share an address");
}

Test(cfg, state_objects_of_one_dpt_may_share_an_address)
{
  write_file("chargers.d/b.conf", "[charger]\nid = B\n[connector 1]\nonline = 3/0/1\n");
  load_charger("[charger]\nid = A\n[connector 1]\nonline = 3/0/1\n[connector 2]\nonline = 3/0/1\n");
  expect_ok();
}

Test(cfg, selected_dpts_count_for_address_conflicts)
{
  write_file("chargers.d/b.conf", "[charger]\nid = B\ncurrent_dpt = 9.021\n[connector 1]\ncurrent = 3/0/1\n");
  load_charger("[charger]\nid = A\n[connector 1]\ncurrent = 3/0/1\n");
  expect_one_diag("chargers.d/b.conf:5", "current: group address 3/0/1 is also used by current at");
}

/* ---- security ------------------------------------------------------------- */

Test(cfg, profile_1_without_password_is_rejected)
{
  load_charger("[charger]\nid = A\nsecurity_profile = 1\n");
  expect_one_diag("chargers.d/a.conf:3", "security_profile: 1 needs a password");
}

Test(cfg, security_profile_4_is_rejected)
{
  load_charger("[charger]\nid = A\nsecurity_profile = 4\n");
  expect_one_diag("chargers.d/a.conf:3", "security_profile: 4 is out of range 0..3");
}

Test(cfg, profile_2_without_tls_listener_is_rejected)
{
  load_charger("[charger]\nid = A\nsecurity_profile = 2\npassword = pw\n");
  expect_one_diag("chargers.d/a.conf:3", "security_profile: 2 needs tls_listen in");
}

static void write_tls_main(const char *extra)
{
  char text[512];
  write_file("s.crt", pem_cert_valid);
  write_file("s.key", pem_key);
  snprintf(text, sizeof text,
           "[ocpp]\ntls_listen = 127.0.0.1:8017\ntls_cert = s.crt\ntls_key = s.key\n%s",
           extra);
  write_file("main.conf", text);
}

Test(cfg, profile_2_with_tls_listener_is_accepted)
{
  write_file("chargers.d/a.conf", "[charger]\nid = A\nsecurity_profile = 2\npassword = pw\n");
  write_tls_main("");
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
  expect_ok();
  cr_assert_eq(cfg->chargers[0].security_profile, 2);
}

Test(cfg, profile_3_without_tls_ca_is_rejected)
{
  write_file("chargers.d/a.conf", "[charger]\nid = A\nsecurity_profile = 3\n");
  write_tls_main("");
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
  expect_one_diag("chargers.d/a.conf:3", "security_profile: 3 needs tls_ca in");
}

Test(cfg, profile_3_with_tls_ca_is_accepted)
{
  write_file("chargers.d/a.conf", "[charger]\nid = A\nsecurity_profile = 3\n");
  write_file("ca.crt", pem_ca);
  write_tls_main("tls_ca = ca.crt\n");
  rc = gw_conf_load(path_of("main.conf"), &cfg, &diag);
  expect_ok();
}

Test(cfg, missing_tls_certificate_file_is_rejected)
{
  load_main("[ocpp]\ntls_listen = 0.0.0.0:8017\ntls_cert = certs/none.crt\ntls_key = /nonexistent/k\n");
  expect_diag("main.conf:3", "tls_cert: cannot read");
  expect_diag("main.conf:3", "certs/none.crt\": No such file or directory");
  expect_diag("main.conf:4", "tls_key: cannot read \"/nonexistent/k\"");
  cr_assert_eq(diag.n, 2);
}

Test(cfg, tls_listener_without_certificate_is_rejected)
{
  load_main("[ocpp]\ntls_listen = 0.0.0.0:8017\n");
  expect_diag("main.conf:2", "tls_listen: needs tls_cert");
  expect_diag("main.conf:2", "tls_listen: needs tls_key");
  cr_assert_eq(diag.n, 2);
}

Test(cfg, directory_as_tls_file_is_rejected)
{
  write_file("s.key", pem_key);
  load_main("[ocpp]\ntls_listen = 0.0.0.0:8017\ntls_cert = chargers.d\ntls_key = s.key\n");
  expect_one_diag("main.conf:3", "is not a regular file");
}

Test(cfg, tls_files_are_not_read_without_a_tls_listener)
{
  load_main("[ocpp]\ntls_cert = none.crt\ntls_key = none.key\n");
  expect_ok();
  cr_assert_str_eq(cfg->tls_cert, path_of("none.crt"));
}

/* ---- paths and the chargers directory ------------------------------------- */

Test(cfg, relative_paths_follow_the_main_file_not_the_working_directory)
{
  cr_assert_eq(mkdir(path_of("etc"), 0700), 0);
  cr_assert_eq(mkdir(path_of("etc/cars"), 0700), 0);
  write_file("etc/cars/x.conf", "[charger]\nid = X\n");
  write_file("etc/main.conf", "[store]\ndir = ../state\n[chargers]\ndir = cars\n");
  char cwd[PATH_MAX];
  cr_assert_not_null(getcwd(cwd, sizeof cwd));
  cr_assert_eq(chdir("/"), 0);
  rc = gw_conf_load(path_of("etc/main.conf"), &cfg, &diag);
  cr_assert_eq(chdir(cwd), 0);
  expect_ok();
  cr_assert_str_eq(cfg->store_dir, path_of("etc/../state"));
  cr_assert_str_eq(cfg->chargers_dir, path_of("etc/cars"));
  cr_assert_eq(cfg->n_chargers, 1);
  cr_assert_str_eq(cfg->chargers[0].file, path_of("etc/cars/x.conf"));
}

Test(cfg, main_file_in_the_working_directory_keeps_paths_short)
{
  write_file("main.conf", "");
  char cwd[PATH_MAX];
  cr_assert_not_null(getcwd(cwd, sizeof cwd));
  cr_assert_eq(chdir(dir), 0);
  write_file("chargers.d/a.conf", "[charger]\nid = A\nphases = 2\n");
  rc = gw_conf_load("main.conf", &cfg, &diag);
  cr_assert_eq(chdir(cwd), 0);
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_eq(diag.n, 1);
  cr_assert(strncmp(diag.lines[0], "chargers.d/a.conf:3: phases:", 28) == 0, "%s",
            diag.lines[0]);
}

Test(cfg, absolute_paths_are_kept)
{
  load_main("[store]\ndir = /srv/ocppknx\n");
  expect_ok();
  cr_assert_str_eq(cfg->store_dir, "/srv/ocppknx");
}

Test(cfg, missing_chargers_directory_is_rejected)
{
  load_main("[chargers]\ndir = nothere.d\n");
  expect_one_diag("nothere.d", "No such file or directory");
}

Test(cfg, charger_files_are_read_in_name_order)
{
  write_file("chargers.d/20-b.conf", "[charger]\nid = B\n");
  write_file("chargers.d/10-c.conf", "[charger]\nid = C\n");
  write_file("chargers.d/30-a.conf", "[charger]\nid = A\n");
  load_main("");
  expect_ok();
  cr_assert_eq(cfg->n_chargers, 3);
  cr_assert_str_eq(cfg->chargers[0].id, "C");
  cr_assert_str_eq(cfg->chargers[1].id, "B");
  cr_assert_str_eq(cfg->chargers[2].id, "A");
}

Test(cfg, files_not_ending_in_conf_are_ignored)
{
  write_file("chargers.d/a.conf.bak", "garbage\n");
  write_file("chargers.d/README", "garbage\n");
  write_file("chargers.d/.hidden.conf", "garbage\n");
  load_main("");
  expect_ok();
  cr_assert_eq(cfg->n_chargers, 0);
}

Test(cfg, directory_named_like_a_charger_file_is_rejected)
{
  cr_assert_eq(mkdir(path_of("chargers.d/x.conf"), 0700), 0);
  load_main("");
  expect_one_diag("chargers.d/x.conf", "not a regular file");
}

Test(cfg, reload_reads_the_charger_files_again)
{
  load_charger("[charger]\nid = A\n");
  expect_ok();
  write_file("chargers.d/b.conf", "[charger]\nid = B\n");
  gw_charger_conf *chargers = NULL;
  size_t n = 0;
  cr_assert_eq(gw_conf_load_chargers(cfg, &chargers, &n, &diag), GW_OK);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(chargers[1].id, "B");
  gw_conf_chargers_free(chargers, n);
}

Test(cfg, reload_applies_the_same_checks)
{
  load_charger("[charger]\nid = A\n");
  expect_ok();
  write_file("chargers.d/b.conf", "[charger]\nid = A\nsecurity_profile = 2\npassword = x\n");
  gw_charger_conf *chargers = NULL;
  size_t n = 7;
  cr_assert_eq(gw_conf_load_chargers(cfg, &chargers, &n, &diag), GW_ECONFIG);
  cr_assert_null(chargers);
  cr_assert_eq(n, 0);
  cr_assert_eq(diag.n, 2);
  char prefix[PATH_MAX + 64];
  snprintf(prefix, sizeof prefix, "%s:", path_of("chargers.d/b.conf"));
  for (size_t i = 0; i < diag.n; i++)
    cr_assert(strncmp(diag.lines[i], prefix, strlen(prefix)) == 0, "%s", diag.lines[i]);
}

/* ---- the example files ---------------------------------------------------- */

Test(cfg, example_configuration_loads_without_problems)
{
  char source[PATH_MAX];
  char main_path[PATH_MAX + 32];
  cr_assert_not_null(realpath(__FILE__, source), "cannot find %s", __FILE__);
  char *root = dirname(dirname(dirname(source)));
  snprintf(main_path, sizeof main_path, "%s/config/ocppknxd.conf", root);
  rc = gw_conf_load(main_path, &cfg, &diag);
  expect_ok();
  cr_assert_str_eq(cfg->listen, "0.0.0.0:8016");
  cr_assert_str_eq(cfg->tls_listen, "");
  cr_assert_str_eq(cfg->knx_url, "local:/run/knx");
  cr_assert_str_eq(cfg->store_dir, "/var/lib/ocppknx");
  cr_assert_eq(cfg->n_chargers, 1);
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_str_eq(c->id, "OCPP123455A9876");
  cr_assert_str_eq(c->name, "Garage");
  cr_assert_eq(c->security_profile, 0);
  cr_assert_eq(c->n_connectors, 1);
  /* the energy manager's objects and upstream_online are there commented
   * out, like [energy] and [upstream] */
  for (int i = 0; i < GW_OBJ_COUNT; i++) {
    bool off = i == GW_OBJ_CHARGE_MODE || i == GW_OBJ_CHARGE_MODE_STATE ||
               i == GW_OBJ_ALLOCATED_CURRENT_STATE ||
               i == GW_OBJ_UPSTREAM_ONLINE;
    cr_assert_eq(c->connectors[0].has_ga[i], !off, "%s",
                 gw_object_key((gw_object)i));
    if (!off)
      cr_assert_eq(c->connectors[0].ga[i] >> 8, (9 << 3) | 7, "%s",
                   gw_object_key((gw_object)i));
  }
  cr_assert_not(cfg->energy.enabled);
  cr_assert_null(c->upstream.url);
}

/* ---- TLS file contents (--check-config) ------------------------------------ */

/* main.conf with the TLS keys on lines 3 (cert), 4 (key), 5 (ca) */
static void load_tls(const char *cert, const char *key, const char *ca)
{
  write_file("s.crt", cert);
  write_file("s.key", key);
  if (ca)
    write_file("ca.crt", ca);
  load_main(ca ? "[ocpp]\ntls_listen = 127.0.0.1:8017\ntls_cert = s.crt\n"
                 "tls_key = s.key\ntls_ca = ca.crt\n"
               : "[ocpp]\ntls_listen = 127.0.0.1:8017\ntls_cert = s.crt\n"
                 "tls_key = s.key\n");
}

Test(cfg, valid_tls_certificate_key_and_ca_are_accepted)
{
  load_tls(pem_cert_valid, pem_key, pem_ca);
  expect_ok();
}

Test(cfg, tls_certificate_that_is_not_pem_is_rejected)
{
  load_tls("not a certificate\n", pem_key, NULL);
  expect_one_diag("main.conf:3", "tls_cert: \"");
  expect_diag("main.conf:3", "s.crt\" holds no PEM certificate");
}

Test(cfg, private_key_given_as_certificate_is_rejected)
{
  load_tls(pem_key, pem_key, NULL);
  expect_one_diag("main.conf:3", "holds no PEM certificate");
}

Test(cfg, tls_key_that_is_not_pem_is_rejected)
{
  load_tls(pem_cert_valid, "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
           NULL);
  expect_one_diag("main.conf:4", "tls_key: \"");
  expect_diag("main.conf:4", "s.key\" holds no PEM private key");
}

Test(cfg, tls_key_of_another_certificate_is_rejected)
{
  load_tls(pem_cert_valid, pem_other_key, NULL);
  expect_one_diag("main.conf:4", "does not match the certificate");
}

Test(cfg, expired_tls_certificate_is_rejected_with_its_date)
{
  load_tls(pem_cert_expired, pem_key, NULL);
  expect_one_diag("main.conf:3", "s.crt\" expired on 2001-01-01 00:00 UTC");
}

Test(cfg, tls_certificate_not_yet_valid_is_rejected_with_its_date)
{
  load_tls(pem_cert_future, pem_key, NULL);
  expect_one_diag("main.conf:3", "s.crt\" is not valid before 2090-01-01 00:00 UTC");
}

Test(cfg, tls_ca_that_is_not_pem_is_rejected)
{
  load_tls(pem_cert_valid, pem_key, "garbage\n");
  expect_one_diag("main.conf:5", "tls_ca: \"");
  expect_diag("main.conf:5", "ca.crt\" holds no PEM CA certificate");
}

Test(cfg, every_tls_problem_is_reported_at_once)
{
  load_tls(pem_cert_expired, pem_other_key, "garbage\n");
  expect_diag("main.conf:3", "expired on");
  expect_diag("main.conf:4", "does not match the certificate");
  expect_diag("main.conf:5", "holds no PEM CA certificate");
  cr_assert_eq(diag.n, 3);
}

Test(cfg, tls_contents_are_not_checked_without_a_tls_listener)
{
  write_file("s.crt", "garbage");
  write_file("s.key", "garbage");
  load_main("[ocpp]\ntls_cert = s.crt\ntls_key = s.key\n");
  expect_ok();
}

/* ---- loading from memory ---------------------------------------------------- */

static gw_conf_text text_of(const char *s)
{
  return (gw_conf_text){s, strlen(s)};
}

Test(cfg, files_given_in_memory_are_loaded)
{
  gw_conf_text main = text_of("[ocpp]\nlisten = 127.0.0.1:9000\n");
  gw_conf_text chargers[] = {
    text_of("[charger]\nid = A\n[connector 1]\nstatus = 1/2/3\n"),
    text_of("[charger]\nid = B\nphases = 1\n"),
  };
  rc = gw_conf_load_strings(&main, chargers, 2, &cfg, &diag);
  expect_ok();
  cr_assert_str_eq(cfg->file, "main.conf");
  cr_assert_str_eq(cfg->listen, "127.0.0.1:9000");
  cr_assert_eq(cfg->n_chargers, 2);
  cr_assert_str_eq(cfg->chargers[0].id, "A");
  cr_assert_str_eq(cfg->chargers[0].file, "chargers.d/1.conf");
  cr_assert(cfg->chargers[0].connectors[0].has_ga[GW_OBJ_STATUS]);
  cr_assert_str_eq(cfg->chargers[1].id, "B");
  cr_assert_eq(cfg->chargers[1].phases, 1);
}

Test(cfg, diagnostics_of_memory_files_name_them)
{
  gw_conf_text main = text_of("");
  gw_conf_text chargers[] = {text_of("[charger]\nid = A\n"),
                             text_of("[charger]\nid = A\nphases = 2\n")};
  rc = gw_conf_load_strings(&main, chargers, 2, &cfg, &diag);
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_null(cfg);
  cr_assert_eq(diag.n, 2);
  cr_assert_str_eq(diag.lines[0], "chargers.d/2.conf:3: phases: 2 is not 1 or 3");
  cr_assert_str_eq(diag.lines[1],
                   "chargers.d/2.conf:2: id: \"A\" is already used by chargers.d/1.conf:2");
}

Test(cfg, memory_load_checks_tls_keys_but_reads_no_tls_file)
{
  gw_conf_text given = text_of("[ocpp]\ntls_listen = 127.0.0.1:8017\n"
                               "tls_cert = /nonexistent/s.crt\ntls_key = /nonexistent/s.key\n");
  rc = gw_conf_load_strings(&given, NULL, 0, &cfg, &diag);
  expect_ok();
  gw_conf_destroy(cfg);
  cfg = NULL;
  gw_conf_text missing = text_of("[ocpp]\ntls_listen = 127.0.0.1:8017\n");
  rc = gw_conf_load_strings(&missing, NULL, 0, &cfg, &diag);
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_str_eq(diag.lines[0], "main.conf:2: tls_listen: needs tls_cert");
}

Test(cfg, blank_and_nul_lines_in_memory_are_handled)
{
  static const char text[] = "\n   \n[log]\n\t\nlevel = debug\n\n";
  gw_conf_text main = {text, sizeof text - 1};
  rc = gw_conf_load_strings(&main, NULL, 0, &cfg, &diag);
  expect_ok();
  cr_assert_eq(cfg->log_level, GW_LOG_DEBUG);
  gw_conf_destroy(cfg);
  cfg = NULL;
  static const char nul[] = "[log]\nlevel = in\0fo\n";
  gw_conf_text bad = {nul, sizeof nul - 1};
  rc = gw_conf_load_strings(&bad, NULL, 0, &cfg, &diag);
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_str_eq(diag.lines[0], "main.conf:2: contains a NUL byte");
}

Test(cfg, memory_load_refuses_null_arguments)
{
  gw_conf_text main = text_of("");
  cr_assert_eq(gw_conf_load_strings(NULL, NULL, 0, &cfg, &diag), GW_EINVAL);
  cr_assert_eq(gw_conf_load_strings(&main, NULL, 1, &cfg, &diag), GW_EINVAL);
  cr_assert_eq(gw_conf_load_strings(&main, NULL, 0, NULL, &diag), GW_EINVAL);
  cr_assert_null(cfg);
  cr_assert_eq(gw_conf_load_strings(&main, NULL, 0, &cfg, NULL), GW_OK);
}

/* ---- [upstream] ------------------------------------------------------------ */

Test(cfg, upstream_section_is_read_with_its_defaults)
{
  cr_assert_eq(mkdir(path_of("certs"), 0700), 0);
  write_file("certs/backend-ca.crt", pem_cert_valid);
  load_charger("[charger]\nid = ZCS000143\n\n[upstream]\n"
               "url = wss://backend.example.com/ocpp/{id}\n"
               "security_profile = 2\npassword = pw-backend\n"
               "tls_ca = certs/backend-ca.crt\n");
  expect_ok();
  const gw_upstream_conf *u = &cfg->chargers[0].upstream;
  cr_assert_str_eq(u->url, "wss://backend.example.com/ocpp/{id}");
  cr_assert_str_eq(u->identity, "ZCS000143");
  cr_assert_eq(u->security_profile, 2);
  cr_assert_str_eq(u->password, "pw-backend");
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s/certs/backend-ca.crt", dir);
  cr_assert_str_eq(u->tls_ca, want);
  cr_assert_null(u->tls_cert);
  cr_assert_eq(u->line, 4);
  /* the charger's own profile is not the link's */
  cr_assert_eq(cfg->chargers[0].security_profile, 0);
}

Test(cfg, upstream_commands_default_to_allow)
{
  load_charger("[charger]\nid = A\n\n[upstream]\nurl = ws://127.0.0.1:9/x\n");
  expect_ok();
  cr_assert_eq(cfg->chargers[0].upstream.commands, GW_COMMANDS_ALLOW);
}

Test(cfg, upstream_commands_readonly_is_read)
{
  load_charger("[charger]\nid = A\n\n[upstream]\nurl = ws://127.0.0.1:9/x\n"
               "commands = readonly\n");
  expect_ok();
  cr_assert_eq(cfg->chargers[0].upstream.commands, GW_COMMANDS_READONLY);
}

Test(cfg, unknown_upstream_commands_mode_is_rejected)
{
  load_charger("[charger]\nid = A\n\n[upstream]\nurl = ws://127.0.0.1:9/x\n"
               "commands = some\n");
  expect_one_diag("chargers.d/a.conf:6",
                  "commands: \"some\" is not one of allow|readonly");
}

Test(cfg, charger_without_upstream_has_no_link)
{
  load_charger("[charger]\nid = A\n");
  expect_ok();
  cr_assert_null(cfg->chargers[0].upstream.url);
  cr_assert_eq(cfg->chargers[0].upstream.line, 0);
}

Test(cfg, upstream_identity_can_differ_from_the_id)
{
  load_charger("[charger]\nid = A\n[upstream]\nurl = ws://10.0.0.2:8180/steve/\n"
               "identity = EMP-4711\n");
  expect_ok();
  cr_assert_str_eq(cfg->chargers[0].upstream.identity, "EMP-4711");
}

Test(cfg, upstream_without_url_is_reported_at_its_header)
{
  load_charger("[charger]\nid = A\n[upstream]\nidentity = B\n");
  expect_one_diag("chargers.d/a.conf:3", "url is missing in [upstream]");
}

Test(cfg, upstream_url_that_is_not_ws_is_reported_at_the_url)
{
  load_charger("[charger]\nid = A\n[upstream]\nsecurity_profile = 0\n"
               "url = https://backend.example.com/ocpp\n");
  expect_one_diag("chargers.d/a.conf:5", "[upstream] url: not a ws:// or wss:// URL");
}

Test(cfg, upstream_profile_2_on_ws_is_reported)
{
  load_charger("[charger]\nid = A\n[upstream]\nurl = ws://b/\n"
               "security_profile = 2\npassword = x\n");
  expect_one_diag("chargers.d/a.conf:5",
                  "[upstream] security_profile 2 and 3 need a wss:// url");
}

Test(cfg, upstream_profile_1_without_password_is_reported)
{
  load_charger("[charger]\nid = A\n[upstream]\nurl = ws://b/\nsecurity_profile = 1\n");
  expect_one_diag("chargers.d/a.conf:5", "[upstream] security_profile 1 and 2 need a password");
}

Test(cfg, upstream_profile_3_without_certificate_is_reported)
{
  load_charger("[charger]\nid = A\n[upstream]\nurl = wss://b/\nsecurity_profile = 3\n");
  expect_one_diag("chargers.d/a.conf:5",
                  "[upstream] security_profile 3 needs tls_cert and tls_key");
}

Test(cfg, upstream_unknown_key_and_repeated_section_are_reported)
{
  load_charger("[charger]\nid = A\n[upstream]\nurl = ws://b/\nbilling = yes\n"
               "[upstream]\n");
  expect_diag("chargers.d/a.conf:5", "unknown key \"billing\" in [upstream]");
  expect_diag("chargers.d/a.conf:6", "[upstream]: section given twice");
}

Test(cfg, upstream_tls_files_are_checked_at_their_lines)
{
  write_file("backend-ca.crt", "garbage\n");
  load_charger("[charger]\nid = A\n[upstream]\nurl = wss://b/\n"
               "tls_ca = backend-ca.crt\nsecurity_profile = 3\n"
               "tls_cert = missing.crt\ntls_key = missing.key\n");
  expect_diag("chargers.d/a.conf:5", "tls_ca: \"");
  expect_diag("chargers.d/a.conf:5", "backend-ca.crt\" holds no PEM CA certificate");
  expect_diag("chargers.d/a.conf:7", "tls_cert: cannot read \"");
  expect_diag("chargers.d/a.conf:8", "tls_key: cannot read \"");
}

Test(cfg, upstream_tls_files_are_not_read_from_memory)
{
  gw_conf_text main = {"", 0};
  static const char text[] = "[charger]\nid = A\n[upstream]\nurl = wss://b/\n"
                             "tls_ca = /nonexistent/ca.crt\n";
  gw_conf_text ch = {text, sizeof text - 1};
  rc = gw_conf_load_strings(&main, &ch, 1, &cfg, &diag);
  expect_ok();
  cr_assert_str_eq(cfg->chargers[0].upstream.tls_ca, "/nonexistent/ca.crt");
}

Test(cfg, upstream_tags_default_to_all_and_take_a_list)
{
  load_charger("[charger]\nid = A\ntags = LOCAL1\n[upstream]\nurl = ws://b/\n");
  expect_ok();
  const gw_upstream_conf *u = &cfg->chargers[0].upstream;
  cr_assert_eq(u->n_tags, 1);
  cr_assert_str_eq(u->tags[0], "*");
  gw_conf_destroy(cfg);
  cfg = NULL;
  load_charger("[charger]\nid = A\n[upstream]\nurl = ws://b/\ntags = EMP1, EMP2\n");
  expect_ok();
  u = &cfg->chargers[0].upstream;
  cr_assert_eq(u->n_tags, 2);
  cr_assert_str_eq(u->tags[1], "EMP2");
  cr_assert_eq(cfg->chargers[0].n_tags, 1, "the charger's own list is apart");
}

/* ---- tag lists ------------------------------------------------------------ */

static const gw_tag *tag_of(const gw_charger_conf *c, const char *id_tag)
{
  return gw_tags_find(c->tag_list, id_tag, c->tag_match);
}

Test(cfg, main_tags_file_is_every_chargers_list_relative_to_the_main_file)
{
  write_file("tags.conf", "04A2B3C4 = Anna\nDEADBEEF = Lost card, blocked\n");
  write_file("chargers.d/a.conf", "[charger]\nid = A\n");
  write_file("chargers.d/b.conf", "[charger]\nid = B\ntag_match = reversed\n");
  load_main("[chargers]\ntags_file = tags.conf\n");
  expect_ok();
  cr_assert_str_eq(cfg->tags_file, path_of("tags.conf"));
  cr_assert_eq(cfg->n_chargers, 2);
  cr_assert_null(cfg->chargers[0].tags_file);
  cr_assert_eq(gw_tags_count(cfg->chargers[0].tag_list), 2);
  cr_assert_str_eq(tag_of(&cfg->chargers[0], "04A2B3C4")->name, "Anna");
  cr_assert_null(tag_of(&cfg->chargers[0], "C4B3A204"));
  cr_assert_eq(cfg->chargers[1].tag_match, OCPP_TAG_REVERSED);
  cr_assert_str_eq(tag_of(&cfg->chargers[1], "C4B3A204")->name, "Anna");
}

Test(cfg, charger_tags_file_wins_and_is_relative_to_the_charger_file)
{
  write_file("tags.conf", "04A2B3C4 = Anna\n");
  write_file("chargers.d/own.tags", "04A2B3C4 = Anna at the office\n");
  write_file("chargers.d/a.conf", "[charger]\nid = A\ntags_file = own.tags\n");
  load_main("[chargers]\ntags_file = tags.conf\n");
  expect_ok();
  cr_assert_str_eq(cfg->chargers[0].tags_file, path_of("chargers.d/own.tags"));
  cr_assert_str_eq(tag_of(&cfg->chargers[0], "04A2B3C4")->name,
                   "Anna at the office");
}

Test(cfg, without_tags_file_there_is_no_list)
{
  load_charger("[charger]\nid = A\n");
  expect_ok();
  cr_assert_null(cfg->tags_file);
  cr_assert_null(cfg->chargers[0].tag_list);
}

Test(cfg, bad_line_in_a_tag_file_is_reported_with_file_and_line)
{
  write_file("chargers.d/own.tags", "04A2B3C4 = Anna\n0A0B0C0D = Car, expires 2027-13-01\n");
  load_charger("[charger]\nid = A\ntags_file = own.tags\n");
  expect_one_diag("chargers.d/own.tags:2",
                  "expires: \"2027-13-01\" is not a date (YYYY-MM-DD)");
}

Test(cfg, missing_tag_file_is_reported)
{
  load_charger("[charger]\nid = A\ntags_file = nowhere.tags\n");
  expect_one_diag("chargers.d/nowhere.tags", "No such file or directory");
}

Test(cfg, reloading_chargers_reads_the_tag_file_again_and_refuses_a_bad_one)
{
  write_file("tags.conf", "04A2B3C4 = Anna\n");
  write_file("chargers.d/a.conf", "[charger]\nid = A\n");
  load_main("[chargers]\ntags_file = tags.conf\n");
  expect_ok();
  write_file("tags.conf", "04A2B3C4 = Anna\n11223344 = Ben\n");
  gw_charger_conf *ch = NULL;
  size_t n = 0;
  cr_assert_eq(gw_conf_load_chargers(cfg, &ch, &n, &diag), GW_OK);
  cr_assert_str_eq(tag_of(&ch[0], "11223344")->name, "Ben");
  gw_conf_chargers_free(ch, n);
  write_file("tags.conf", "04A2B3C4 = Anna\n11223344 Ben\n");
  cr_assert_eq(gw_conf_load_chargers(cfg, &ch, &n, &diag), GW_ECONFIG);
  cr_assert_null(ch);
  cr_assert_eq(diag.n, 1);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s:2: expected", path_of("tags.conf"));
  cr_assert_eq(strncmp(diag.lines[0], want, strlen(want)), 0, "%s",
               diag.lines[0]);
}

Test(cfg, problems_of_the_main_tag_file_are_reported_once)
{
  write_file("tags.conf", "04A2B3C4 Anna\n");
  write_file("chargers.d/a.conf", "[charger]\nid = A\n");
  write_file("chargers.d/b.conf", "[charger]\nid = B\n");
  load_main("[chargers]\ntags_file = tags.conf\n");
  expect_one_diag("tags.conf:1", "expected \"UID = name");
}

/* ---- the energy manager -------------------------------------------------- */

static const char energy_main[] =
    "[energy]\n"
    "main_fuse = 35\n"
    ENERGY_METER_KEYS
    "safe_current = 0\n"
    "stale_after = 30\n";

Test(cfg, without_an_energy_section_the_manager_is_off)
{
  load_main("");
  expect_ok();
  cr_assert_not(cfg->energy.enabled);
  cr_assert_float_eq(cfg->energy.main_fuse, 25, 1e-9);
  cr_assert_float_eq(cfg->energy.safe_current, 6, 1e-9);
  cr_assert_eq(cfg->energy.stale_after, 60);
  cr_assert_eq(cfg->energy.grid_current_dpt, KNX_DPT_14_019);
  cr_assert_eq(cfg->energy.grid_power_dpt, KNX_DPT_14_056);
  cr_assert_float_eq(cfg->energy.test_time_scale, 1, 1e-9);
}

Test(cfg, every_energy_key_is_read)
{
  load_main(energy_main);
  expect_ok();
  const gw_energy_conf *e = &cfg->energy;
  cr_assert(e->enabled);
  cr_assert_float_eq(e->main_fuse, 35, 1e-9);
  for (int p = 0; p < 3; p++) {
    cr_assert(e->grid_current[p].set);
    cr_assert_eq(e->grid_current[p].ga, (1 << 11) | (unsigned)(p + 1));
  }
  cr_assert_eq(e->grid_current_dpt, KNX_DPT_9_021);
  cr_assert_eq(e->grid_power.ga, (1 << 11) | 4);
  cr_assert_eq(e->grid_power_dpt, KNX_DPT_9_024);
  cr_assert_eq(e->cheap_tariff.ga, (1 << 11) | 5);
  cr_assert_eq(e->headroom_state.ga, (1 << 11) | 6);
  cr_assert_float_eq(e->safe_current, 0, 1e-9);
  cr_assert_eq(e->stale_after, 30);
}

Test(cfg, energy_without_the_meter_names_the_missing_key)
{
  load_main("[log]\nlevel = info\n[energy]\ngrid_current_l1 = 1/0/1\n"
            "grid_current_l3 = 1/0/3\n");
  expect_one_diag("main.conf:3", "[energy]: grid_current_l2 is missing");
}

Test(cfg, energy_values_out_of_range_name_file_line_and_key)
{
  load_main("[energy]\ngrid_current_l1 = 1/0/1\ngrid_current_l2 = 1/0/2\n"
            "grid_current_l3 = 32/0/3\nmain_fuse = 0\nstale_after = 1\n"
            "grid_power_dpt = 14.019\n");
  expect_diag("main.conf:4", "grid_current_l3: invalid group address \"32/0/3\" "
              "(main group 0..31)");
  expect_diag("main.conf:5", "main_fuse: 0 is out of range 1..1000");
  expect_diag("main.conf:6", "stale_after: 1 is out of range 5..3600");
  expect_diag("main.conf:7", "grid_power_dpt: DPT 14.019 is not allowed here");
  cr_assert_eq(diag.n, 4);
}

Test(cfg, safe_current_below_6_amperes_but_not_0_is_rejected)
{
  char text[1024];
  snprintf(text, sizeof text, "%s", energy_main);
  char *sc = strstr(text, "safe_current = 0");
  cr_assert_not_null(sc);
  memcpy(sc, "safe_current = 4", 16);
  load_main(text);
  expect_one_diag("main.conf:11", "safe_current: 4 A is below the IEC 61851 minimum");
}

Test(cfg, energy_group_address_0_is_rejected)
{
  load_main("[energy]\ngrid_current_l1 = 0/0/0\ngrid_current_l2 = 1/0/2\n"
            "grid_current_l3 = 1/0/3\n");
  expect_one_diag("main.conf:2", "grid_current_l1: group address 0/0/0 is the "
                  "broadcast address");
}

Test(cfg, charger_energy_keys_are_read)
{
  write_file("chargers.d/a.conf",
             "[charger]\nid = A\npriority = 8\nmin_current = 7.5\nmode = pv\n"
             "tag_modes = TAG1:pv, 04:A2:19:7B : cheap,TAG2:now\n"
             "[connector 1]\ncharge_mode = 3/0/1\ncharge_mode_state = 3/0/2\n"
             "allocated_current_state = 3/0/3\n");
  load_main(energy_main);
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_eq(c->priority, 8);
  cr_assert_float_eq(c->min_current, 7.5, 1e-9);
  cr_assert_eq(c->mode, EM_MODE_PV);
  cr_assert_eq(c->n_tag_modes, 3);
  cr_assert_str_eq(c->tag_mode_tags[0], "TAG1");
  cr_assert_eq(c->tag_mode_modes[0], EM_MODE_PV);
  cr_assert_str_eq(c->tag_mode_tags[1], "04:A2:19:7B");
  cr_assert_eq(c->tag_mode_modes[1], EM_MODE_CHEAP);
  cr_assert_str_eq(c->tag_mode_tags[2], "TAG2");
  cr_assert_eq(c->tag_mode_modes[2], EM_MODE_NOW);
  cr_assert(c->connectors[0].has_ga[GW_OBJ_CHARGE_MODE]);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_CHARGE_MODE), KNX_DPT_5_010);
  cr_assert_eq(gw_object_dpt(c, GW_OBJ_ALLOCATED_CURRENT_STATE), KNX_DPT_14_019);
}

Test(cfg, charger_energy_defaults)
{
  load_charger("[charger]\nid = A\n");
  expect_ok();
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_eq(c->priority, 5);
  cr_assert_float_eq(c->min_current, 6, 1e-9);
  cr_assert_eq(c->mode, EM_MODE_NOW);
  cr_assert_eq(c->n_tag_modes, 0);
}

Test(cfg, bad_charger_energy_values_name_file_line_and_key)
{
  load_charger("[charger]\nid = A\npriority = 11\nmode = fast\n"
               "tag_modes = TAG1:pv, TAG2\nmin_current = 5\n");
  expect_diag("chargers.d/a.conf:3", "priority: 11 is out of range 1..10");
  expect_diag("chargers.d/a.conf:4", "mode: \"fast\" is not one of now|minpv|pv|cheap|off");
  expect_diag("chargers.d/a.conf:5", "tag_modes: \"TAG2\" is not TAG:mode");
  expect_diag("chargers.d/a.conf:6", "min_current: 5 is out of range 6..80");
  cr_assert_eq(diag.n, 4);
}

Test(cfg, tag_modes_with_an_unknown_mode_or_no_tag_are_rejected)
{
  load_charger("[charger]\nid = A\ntag_modes = TAG1:solar\n");
  expect_one_diag("chargers.d/a.conf:3", "tag_modes: \"solar\" is not one of");
  gw_conf_diag_finish(&diag);
  load_charger("[charger]\nid = A\ntag_modes = :pv\n");
  expect_one_diag("chargers.d/a.conf:3", "tag_modes: \":pv\" is not TAG:mode");
}

Test(cfg, min_current_above_fast_current_is_rejected)
{
  load_charger("[charger]\nid = A\nfast_current = 10\nmin_current = 12\n");
  expect_one_diag("chargers.d/a.conf:4", "min_current 12 A is above fast_current 10 A");
}

Test(cfg, energy_objects_need_the_energy_section)
{
  load_charger("[charger]\nid = A\n[connector 1]\ncharge_mode = 3/0/1\n"
               "allocated_current_state = 3/0/3\n");
  expect_diag("chargers.d/a.conf:4", "charge_mode: needs an [energy] section in");
  expect_diag("chargers.d/a.conf:5", "allocated_current_state: needs an [energy] "
              "section in");
  cr_assert_eq(diag.n, 2);
}
