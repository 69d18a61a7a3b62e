/* draft: which object a group name stands for, the plan made from an
 * export, and the drafted file the loader reads back. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/draft.h"
#include "test/energy_conf.h"
#include "notes.h"

static gw_ets *ets;
static gw_conf_diag notes;
static gw_draft_plan plan;
static char *text;
static gw_conf *cfg;

static void finish(void)
{
  gw_ets_destroy(ets);
  ets = NULL;
  gw_conf_diag_finish(&notes);
  free(text);
  text = NULL;
  gw_conf_destroy(cfg);
  cfg = NULL;
}

TestSuite(classify);
TestSuite(match, .fini = finish);
TestSuite(file, .fini = finish);

static uint16_t ga3(unsigned m, unsigned mid, unsigned sub)
{
  return (uint16_t)(m << 11 | mid << 8 | sub);
}

/* ---- classify ------------------------------------------------------------ */

typedef struct {
  const char *name;
  gw_object obj;
  int connector;
} named;

static void expect_all(const named *rows, size_t n, const char *charger)
{
  for (size_t i = 0; i < n; i++) {
    gw_object obj = GW_OBJ_COUNT;
    int conn = 0;
    cr_assert_eq(gw_draft_classify(rows[i].name, charger, &obj, &conn), GW_OK, "\"%s\"",
                 rows[i].name);
    cr_expect_eq(obj, rows[i].obj, "\"%s\" -> %s, want %s", rows[i].name, gw_object_key(obj),
                 gw_object_key(rows[i].obj));
    cr_expect_eq(conn, rows[i].connector, "\"%s\" -> connector %d", rows[i].name, conn);
  }
}

Test(classify, german_names_give_every_object)
{
  static const named rows[] = {
    {"Wallbox Garage Status", GW_OBJ_STATUS, 1},
    {"Wallbox Garage Zustand", GW_OBJ_STATUS, 1},
    {"Wallbox Garage Fehlercode", GW_OBJ_ERROR_CODE, 1},
    {"Wallbox Garage Laden Rückmeldung", GW_OBJ_CHARGING_STATE, 1},
    {"Wallbox Garage Laden Start/Stop", GW_OBJ_CHARGING, 1},
    {"Wallbox Garage Reservierung", GW_OBJ_RESERVE, 1},
    {"Wallbox Garage Verfügbar Rückmeldung", GW_OBJ_AVAILABILITY_STATE, 1},
    {"Wallbox Garage Freigabe", GW_OBJ_AVAILABILITY, 1},
    {"Wallbox Garage Entriegeln", GW_OBJ_UNLOCK, 1},
    {"Wallbox Garage Energie Ladevorgang", GW_OBJ_SESSION_ENERGY, 1},
    {"Wallbox Garage Startzeit", GW_OBJ_START_TIME, 1},
    {"Wallbox Garage Ladeende", GW_OBJ_END_TIME, 1},
    {"Wallbox Garage Strom Ist", GW_OBJ_CURRENT, 1},
    {"Wallbox Garage Ladestrom RM", GW_OBJ_MAX_CURRENT_STATE, 1},
    {"Wallbox Garage Ladestrom", GW_OBJ_MAX_CURRENT, 1},
    {"Wallbox Garage Stromgrenze", GW_OBJ_MAX_CURRENT, 1},
    {"Wallbox Garage Schnellladen Status", GW_OBJ_FAST_CHARGING_STATE, 1},
    {"Wallbox Garage Schnellladen", GW_OBJ_FAST_CHARGING, 1},
    {"Wallbox Garage Neustart", GW_OBJ_RESET, 1},
    {"Wallbox Garage Leistung", GW_OBJ_POWER, 1},
    {"Wallbox Garage Zählerstand", GW_OBJ_METER, 1},
    {"WALLBOX GARAGE ZÄHLERSTAND", GW_OBJ_METER, 1},
    {"Wallbox Garage Energie Ladevorgang aktuell", GW_OBJ_SESSION_ENERGY_LIVE, 1},
    {"Wallbox Garage Letzte RFID Karte", GW_OBJ_LAST_TAG, 1},
    {"Wallbox Garage Stecker gesteckt", GW_OBJ_PLUGGED, 1},
    {"Wallbox Garage Online", GW_OBJ_ONLINE, 1},
  };
  expect_all(rows, sizeof rows / sizeof rows[0], "Wallbox Garage");
}

Test(classify, english_names_give_every_object)
{
  static const named rows[] = {
    {"Status", GW_OBJ_STATUS, 1},
    {"Error code", GW_OBJ_ERROR_CODE, 1},
    {"Charging feedback", GW_OBJ_CHARGING_STATE, 1},
    {"Charging start/stop", GW_OBJ_CHARGING, 1},
    {"Reserve", GW_OBJ_RESERVE, 1},
    {"Availability state", GW_OBJ_AVAILABILITY_STATE, 1},
    {"Availability", GW_OBJ_AVAILABILITY, 1},
    {"Unlock", GW_OBJ_UNLOCK, 1},
    {"Session energy", GW_OBJ_SESSION_ENERGY, 1},
    {"Start time", GW_OBJ_START_TIME, 1},
    {"End time", GW_OBJ_END_TIME, 1},
    {"Actual current", GW_OBJ_CURRENT, 1},
    {"Max current state", GW_OBJ_MAX_CURRENT_STATE, 1},
    {"Max current", GW_OBJ_MAX_CURRENT, 1},
    {"Fast charging feedback", GW_OBJ_FAST_CHARGING_STATE, 1},
    {"Fast charging", GW_OBJ_FAST_CHARGING, 1},
    {"Reset", GW_OBJ_RESET, 1},
    {"Power", GW_OBJ_POWER, 1},
    {"Energy meter", GW_OBJ_METER, 1},
    {"Session energy live", GW_OBJ_SESSION_ENERGY_LIVE, 1},
    {"Last tag", GW_OBJ_LAST_TAG, 1},
    {"Vehicle plugged", GW_OBJ_PLUGGED, 1},
    {"Online", GW_OBJ_ONLINE, 1},
    {"Charge point status", GW_OBJ_STATUS, 1},
    {"Charging station state", GW_OBJ_STATUS, 1},
  };
  expect_all(rows, sizeof rows / sizeof rows[0], NULL);
}

Test(classify, a_connector_number_in_the_name_selects_the_connector)
{
  static const named rows[] = {
    {"Ladepunkt 2 Status", GW_OBJ_STATUS, 2},
    {"Connector 3 Charging feedback", GW_OBJ_CHARGING_STATE, 3},
    {"LP2 Ladestrom", GW_OBJ_MAX_CURRENT, 2},
    {"Status Anschluss Nr. 4", GW_OBJ_STATUS, 4},
    {"Connector 9 Status", GW_OBJ_STATUS, 1},  /* 1..8 only */
  };
  expect_all(rows, sizeof rows / sizeof rows[0], NULL);
}

Test(classify, a_name_without_an_objects_words_is_not_found)
{
  gw_object obj;
  int conn;
  cr_assert_eq(gw_draft_classify("Wallbox Garage Beleuchtung", "Wallbox Garage", &obj, &conn),
               GW_ENOTFOUND);
  cr_assert_eq(gw_draft_classify("", NULL, &obj, &conn), GW_ENOTFOUND);
  cr_assert_eq(gw_draft_classify(NULL, NULL, &obj, &conn), GW_EINVAL);
}

Test(classify, the_charger_text_is_left_out_of_the_words)
{
  gw_object obj;
  int conn;
  /* "Charger" alone would be read as the charging command. */
  cr_assert_eq(gw_draft_classify("Carport Charger Status", "carport charger", &obj, &conn),
               GW_OK);
  cr_assert_eq(obj, GW_OBJ_STATUS);
}

Test(classify, the_charger_text_inside_a_word_stays)
{
  gw_object obj;
  int conn;
  /* "lade" is not taken out of "Schnellladen Status". */
  cr_assert_eq(gw_draft_classify("Lade Schnellladen Status", "lade", &obj, &conn), GW_OK);
  cr_assert_eq(obj, GW_OBJ_FAST_CHARGING_STATE);
}

/* ---- match --------------------------------------------------------------- */

static void load(const char *csv)
{
  char why[200];
  cr_assert_eq(gw_ets_parse_csv(csv, strlen(csv), &ets, NULL, why, sizeof why), GW_OK, "%s",
               why);
}

static bool noted(const char *part)
{
  return notes_have(&notes, part);
}

#define HEADER "\"Main\";\"Middle\";\"Sub\";\"Address\";\"Central\";\"Unfiltered\";" \
               "\"Description\";\"DatapointType\";\"Security\"\n"
#define ROW(name, addr, dpt) "\"\";\"\";\"" name "\";\"" addr "\";\"\";\"\";\"\";\"" dpt "\";\"\"\n"

Test(match, only_the_chargers_groups_are_taken)
{
  load(HEADER ROW("Wallbox Garage Status", "9/7/0", "DPST-5-10")
              ROW("Wallbox Hof Status", "9/6/0", "DPST-5-10"));
  cr_assert_eq(gw_draft_match(ets, "wallbox garage", &plan, &notes), GW_OK);
  cr_assert(plan.has[0][GW_OBJ_STATUS]);
  cr_assert_eq(plan.ga[0][GW_OBJ_STATUS], ga3(9, 7, 0));
  cr_assert_str_eq(plan.name[0][GW_OBJ_STATUS], "Wallbox Garage Status");
}

Test(match, the_middle_groups_name_can_pick_the_charger)
{
  load(HEADER "\"\";\"Carport\";\"\";\"9/6/-\"\n" ROW("Status", "9/6/0", "")
              "\"\";\"Garage\";\"\";\"9/7/-\"\n" ROW("Status", "9/7/0", ""));
  cr_assert_eq(gw_draft_match(ets, "Carport", &plan, &notes), GW_OK);
  cr_assert_eq(plan.ga[0][GW_OBJ_STATUS], ga3(9, 6, 0));
}

Test(match, two_groups_for_one_object_take_neither_and_name_both)
{
  load(HEADER ROW("WB Zählerstand", "9/7/46", "") ROW("WB Energie gesamt", "9/7/47", "")
              ROW("WB Status", "9/7/0", ""));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert_not(plan.has[0][GW_OBJ_METER]);
  cr_assert(noted("ambiguous: connector 1 meter: \"WB Zählerstand\" (9/7/46) and "
                  "\"WB Energie gesamt\" (9/7/47): neither is taken"));
  cr_assert(plan.has[0][GW_OBJ_STATUS]);
}

Test(match, objects_without_a_group_and_unused_groups_are_named)
{
  load(HEADER ROW("WB Status", "9/7/0", "") ROW("WB Beleuchtung", "9/7/9", ""));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert(noted("not found: connector 1: error_code, charging_state, charging,"));
  cr_assert_not(noted("not found: connector 1: status"));
  cr_assert(noted("not used: \"WB Beleuchtung\" (9/7/9)"));
}

Test(match, connectors_get_their_own_sections)
{
  load(HEADER ROW("WB Ladepunkt 1 Status", "9/7/0", "") ROW("WB Ladepunkt 2 Status", "9/7/1", ""));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert(plan.used[0] && plan.used[1]);
  cr_assert_not(plan.used[2]);
  cr_assert_eq(plan.ga[1][GW_OBJ_STATUS], ga3(9, 7, 1));
}

Test(match, a_connector_in_the_middle_group_applies_to_its_groups)
{
  load(HEADER "\"\";\"Carport Connector 2\";\"\";\"9/6/-\"\n" ROW("Status", "9/6/0", ""));
  cr_assert_eq(gw_draft_match(ets, "Carport", &plan, &notes), GW_OK);
  cr_assert(plan.has[1][GW_OBJ_STATUS]);
  cr_assert_not(plan.used[0]);
}

Test(match, a_dpt_alternative_from_ets_sets_the_dpt_key)
{
  load(HEADER ROW("WB Ladestrom", "9/7/42", "DPST-9-21") ROW("WB Strom Ist", "9/7/40", "DPT-9")
              ROW("WB Zählerstand", "9/7/46", "DPST-13-10")
              ROW("WB Startzeit", "9/7/20", "DPST-19-1"));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert_eq(plan.current_dpt, KNX_DPT_9_021);
  cr_assert_eq(plan.meter_dpt, KNX_DPT_13_010);
  cr_assert_eq(plan.time_dpt, KNX_DPT_19_001);
  cr_assert_eq(plan.power_dpt, KNX_DPT_14_056, "no power object: the default");
  cr_assert_not(noted("DPT"));
}

Test(match, a_dpt_that_is_not_the_objects_is_named_and_the_group_kept)
{
  load(HEADER ROW("WB Status", "9/7/0", "DPST-1-1") ROW("WB Strom", "9/7/40", "DPST-9-1"));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert(noted("DPT: ETS gives 1.001 for \"WB Status\" (9/7/0), status is 5.010"));
  cr_assert(noted("DPT: ETS gives 9.001 for \"WB Strom\" (9/7/40), current is 14.019 or 9.021"));
  cr_assert(plan.has[0][GW_OBJ_STATUS]);
  cr_assert_eq(plan.current_dpt, KNX_DPT_14_019);
}

Test(match, dpts_from_ets_that_disagree_leave_the_default)
{
  load(HEADER ROW("WB Ladestrom", "9/7/42", "DPST-9-21") ROW("WB Strom Ist", "9/7/40", "DPST-14-19"));
  cr_assert_eq(gw_draft_match(ets, "WB", &plan, &notes), GW_OK);
  cr_assert_eq(plan.current_dpt, KNX_DPT_14_019);
  cr_assert(noted("ETS gives both 14.019 and 9.021 for the objects of current_dpt"));
}

Test(match, a_match_no_group_has_is_named)
{
  load(HEADER ROW("Wallbox Garage Status", "9/7/0", ""));
  cr_assert_eq(gw_draft_match(ets, "Walbox", &plan, &notes), GW_OK);
  cr_assert(noted("no group of the export has \"Walbox\" in its name"));
  cr_assert(plan.used[0]);
  cr_assert_not(plan.has[0][GW_OBJ_STATUS]);
}

Test(match, null_arguments_are_einval)
{
  cr_assert_eq(gw_draft_match(NULL, "x", &plan, &notes), GW_EINVAL);
}

/* ---- the file ------------------------------------------------------------ */

static int load_back_with(const char *main_text, const char *charger)
{
  gw_conf_text m = {main_text, strlen(main_text)};
  gw_conf_text c = {charger, strlen(charger)};
  gw_conf_diag diag = {0};
  int rc = gw_conf_load_strings(&m, &c, 1, &cfg, &diag);
  for (size_t i = 0; i < diag.n; i++)
    cr_log_error("%s", diag.lines[i]);
  gw_conf_diag_finish(&diag);
  return rc;
}

static int load_back(const char *charger)
{
  return load_back_with("[ocpp]\nlisten = 127.0.0.1:8016\n", charger);
}

Test(file, without_an_export_every_object_is_commented_out_and_the_file_loads)
{
  cr_assert_eq(gw_draft_charger("CP-1", NULL, NULL, &text, &notes), GW_OK);
  for (int o = 0; o < GW_OBJ_COUNT; o++) {
    char commented[64];
    snprintf(commented, sizeof commented, "\n;%s = ", gw_object_key(o));
    cr_assert(strstr(text, commented), "%s", commented);
  }
  cr_assert_eq(load_back(text), GW_OK, "%s", text);
  cr_assert_str_eq(cfg->chargers[0].id, "CP-1");
  cr_assert_str_eq(cfg->chargers[0].name, "CP-1");
  cr_assert_eq(cfg->chargers[0].n_connectors, 1);
  for (int o = 0; o < GW_OBJ_COUNT; o++)
    cr_assert_not(cfg->chargers[0].connectors[0].has_ga[o]);
}

static bool is_object_key(const char *key)
{
  for (int o = 0; o < GW_OBJ_COUNT; o++)
    if (strcmp(gw_object_key(o), key) == 0)
      return true;
  return false;
}

Test(file, every_object_line_uncommented_is_a_key_the_loader_knows)
{
  cr_assert_eq(gw_draft_charger("CP-1", NULL, NULL, &text, &notes), GW_OK);
  /* Give each object its own address, as an installer would. */
  size_t cap = strlen(text) * 2;
  char *filled = malloc(cap);
  cr_assert_not_null(filled);
  size_t w = 0;
  int sub = 0;
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
    char key[64];
    if (sscanf(line, ";%63[a-z_] =", key) == 1 && is_object_key(key))
      w += (size_t)snprintf(filled + w, cap - w, "%s = 1/1/%d\n", key, sub++);
    else
      w += (size_t)snprintf(filled + w, cap - w, "%.*s", (int)n, line);
    line += n;
  }
  cr_assert_eq(sub, GW_OBJ_COUNT);
  /* the energy manager's objects need [energy] in the main file */
  int rc = load_back_with("[ocpp]\nlisten = 127.0.0.1:8016\n[energy]\n"
                          ENERGY_METER_KEYS, filled);
  free(filled);
  cr_assert_eq(rc, GW_OK);
  for (int o = 0; o < GW_OBJ_COUNT; o++)
    cr_assert(cfg->chargers[0].connectors[0].has_ga[o], "%s", gw_object_key(o));
}

Test(file, the_groups_of_the_export_are_read_back_by_the_loader)
{
  load(HEADER ROW("WB Status", "9/7/0", "DPST-5-10") ROW("WB Ladestrom", "9/7/42", "DPST-9-21")
              ROW("WB LP2 Laden Start/Stop", "9/7/102", "DPST-1-10"));
  cr_assert_eq(gw_draft_charger("CP-1", ets, "WB", &text, &notes), GW_OK);
  cr_assert_eq(load_back(text), GW_OK, "%s", text);
  const gw_charger_conf *c = &cfg->chargers[0];
  cr_assert_str_eq(c->name, "WB");
  cr_assert_eq(c->current_dpt, KNX_DPT_9_021);
  cr_assert_eq(c->n_connectors, 2);
  cr_assert_eq(c->connectors[0].ga[GW_OBJ_STATUS], ga3(9, 7, 0));
  cr_assert_eq(c->connectors[0].ga[GW_OBJ_MAX_CURRENT], ga3(9, 7, 42));
  cr_assert_eq(c->connectors[1].id, 2);
  cr_assert_eq(c->connectors[1].ga[GW_OBJ_CHARGING], ga3(9, 7, 102));
  int set = 0;
  for (int o = 0; o < GW_OBJ_COUNT; o++)
    set += c->connectors[0].has_ga[o] + c->connectors[1].has_ga[o];
  cr_assert_eq(set, 3);
  cr_assert(strstr(text, ";   ETS: WB Ladestrom\n"));
}

Test(file, a_match_that_cannot_be_a_name_leaves_the_id_as_name)
{
  cr_assert_eq(gw_draft_charger("CP-1", NULL, "a ; b", &text, &notes), GW_OK);
  cr_assert_eq(load_back(text), GW_OK);
  cr_assert_str_eq(cfg->chargers[0].name, "CP-1");
}

Test(file, an_id_that_a_file_cannot_hold_is_einval)
{
  static const char *const bad[] = {
    "", "a/b", " CP", "CP ", ";CP", "#CP", "C ;P", "C\nP",
    "0123456789012345678901234567890123456789012345678",  /* 49 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(gw_draft_charger(bad[i], NULL, NULL, &text, &notes), GW_EINVAL, "\"%s\"",
                 bad[i]);
    cr_assert_null(text);
  }
  cr_assert_eq(gw_draft_charger(NULL, NULL, NULL, &text, &notes), GW_EINVAL);
  cr_assert_eq(gw_draft_charger("CP", NULL, NULL, NULL, &notes), GW_EINVAL);
}

Test(file, an_id_of_48_characters_with_odd_characters_loads)
{
  const char *id = "CP;#x-ÄÖÜ_01234567890123456789012345678901234";
  cr_assert_eq(strlen(id), 48);
  cr_assert_eq(gw_draft_charger(id, NULL, NULL, &text, &notes), GW_OK);
  cr_assert_eq(load_back(text), GW_OK, "%s", text);
  cr_assert_str_eq(cfg->chargers[0].id, id);
}
