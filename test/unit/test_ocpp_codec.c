#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "ocpp/codec.h"

#define T_2026_11_22_10 ((time_t)1795341600) /* 2026-11-22T10:00:00Z */

static time_t parse_ok(const char *text) {
  time_t t = 0;
  cr_assert_eq(ocpp_time_parse(text, &t), 0, "%s", text);
  return t;
}

static void parse_bad(const char *text) {
  time_t t = 12345;
  cr_assert_eq(ocpp_time_parse(text, &t), OCPP_ETIME, "%s", text);
  cr_assert_eq(t, 12345, "output changed for %s", text);
}

/* ---- timestamps --------------------------------------------------------- */

Test(time_parse, zulu) {
  cr_assert_eq(parse_ok("2026-11-22T10:00:00Z"), T_2026_11_22_10);
}

Test(time_parse, lower_case_separators) {
  cr_assert_eq(parse_ok("2026-11-22t10:00:00z"), T_2026_11_22_10);
}

Test(time_parse, fractions_are_dropped) {
  cr_assert_eq(parse_ok("2026-11-22T10:00:00.000Z"), T_2026_11_22_10);
  cr_assert_eq(parse_ok("2026-11-22T10:00:00.9Z"), T_2026_11_22_10);
  cr_assert_eq(parse_ok("2026-11-22T10:00:00.123456789Z"), T_2026_11_22_10);
}

Test(time_parse, fraction_without_digits_or_too_long_is_invalid) {
  parse_bad("2026-11-22T10:00:00.Z");
  parse_bad("2026-11-22T10:00:00.1234567890Z");
}

Test(time_parse, offset_with_colon) {
  cr_assert_eq(parse_ok("2026-11-22T12:00:00+02:00"), T_2026_11_22_10);
  cr_assert_eq(parse_ok("2026-11-22T07:30:00-02:30"), T_2026_11_22_10);
}

Test(time_parse, offset_without_colon) {
  cr_assert_eq(parse_ok("2026-11-22T12:00:00+0200"), T_2026_11_22_10);
}

Test(time_parse, offset_hours_only) {
  cr_assert_eq(parse_ok("2026-11-22T12:00:00+02"), T_2026_11_22_10);
  cr_assert_eq(parse_ok("2026-11-22T12:00:00.5+02"), T_2026_11_22_10);
}

Test(time_parse, no_offset_is_utc) {
  cr_assert_eq(parse_ok("2026-11-22T10:00:00"), T_2026_11_22_10);
}

Test(time_parse, offset_crossing_midnight) {
  cr_assert_eq(parse_ok("2026-11-23T00:00:00+14:00"), T_2026_11_22_10);
}

Test(time_parse, leap_day_in_leap_years) {
  cr_assert_eq(parse_ok("2024-02-29T12:00:00Z"), (time_t)1709208000);
  cr_assert_eq(parse_ok("2000-02-29T00:00:00Z"), (time_t)951782400);
}

Test(time_parse, leap_day_in_common_years_is_invalid) {
  parse_bad("2026-02-29T00:00:00Z");
  parse_bad("1900-02-29T00:00:00Z");
}

Test(time_parse, leap_second_is_accepted) {
  cr_assert_eq(parse_ok("2016-12-31T23:59:60Z"), (time_t)1483228800);
}

Test(time_parse, before_epoch) {
  cr_assert_eq(parse_ok("1969-12-31T23:59:59Z"), (time_t)-1);
}

Test(time_parse, out_of_range_fields_are_invalid) {
  parse_bad("2026-13-01T00:00:00Z");
  parse_bad("2026-00-01T00:00:00Z");
  parse_bad("2026-04-31T00:00:00Z");
  parse_bad("2026-01-00T00:00:00Z");
  parse_bad("2026-01-01T24:00:00Z");
  parse_bad("2026-01-01T00:60:00Z");
  parse_bad("2026-01-01T00:00:61Z");
  parse_bad("2026-01-01T00:00:00+24:00");
  parse_bad("2026-01-01T00:00:00+02:60");
}

Test(time_parse, malformed_text_is_invalid) {
  parse_bad("");
  parse_bad("2026-11-22");
  parse_bad("2026-11-22 10:00");
  parse_bad("26-11-22T10:00:00Z");
  parse_bad("2026/11/22T10:00:00Z");
  parse_bad("2026-11-22X10:00:00Z");
  parse_bad("2026-11-22T10:00:00ZZ");
  parse_bad("2026-11-22T10:00:00+2");
  parse_bad("2026-11-22T10:00:00+02:0");
  parse_bad("2026-11-22T10:00:00+020");
  parse_bad("2026-11-22T10:00:00 ");
  parse_bad("2026-1a-22T10:00:00Z");
}

Test(time_parse, null_is_invalid) {
  time_t t;
  cr_assert_eq(ocpp_time_parse(NULL, &t), OCPP_EINVAL);
  cr_assert_eq(ocpp_time_parse("2026-11-22T10:00:00Z", NULL),
               OCPP_EINVAL);
}

Test(time_format, utc_with_z) {
  char out[OCPP_TIME_STRLEN];
  ocpp_time_format(T_2026_11_22_10, out);
  cr_assert_str_eq(out, "2026-11-22T10:00:00Z");
}

Test(time_format, round_trips_through_parse) {
  static const time_t samples[] = {0, 951782400, 1709208000, 1795341601,
                                   4102444799};
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    char out[OCPP_TIME_STRLEN];
    ocpp_time_format(samples[i], out);
    cr_assert_eq(parse_ok(out), samples[i], "%s", out);
  }
}

/* ---- MeterValues -------------------------------------------------------- */

static json_t *load(const char *text) {
  json_error_t err;
  json_t *v = json_loads(text, 0, &err);
  cr_assert_not_null(v, "%s: %s", text, err.text);
  return v;
}

/* The sample borrows its context from the JSON, so the last document stays
 * alive until the next call or the end of the test. */
static json_t *kept;

static void release_kept(void) {
  json_decref(kept);
  kept = NULL;
}

TestSuite(meter_parse, .fini = release_kept);

/* Parses {"timestamp":..., "sampledValue":[samples]}. */
static ocpp_meter_sample meter(const char *samples) {
  char text[2048];
  snprintf(text, sizeof text,
           "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":[%s]}",
           samples);
  json_t *v = load(text);
  ocpp_meter_sample s;
  cr_assert_eq(ocpp_meter_parse(v, &s), 0, "%s", text);
  release_kept();
  kept = v;
  return s;
}

Test(meter_parse, energy_in_wh) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"1234.5\",\"measurand\":\"Energy.Active.Import.Register\","
      "\"unit\":\"Wh\",\"context\":\"Sample.Periodic\"}");
  cr_assert_eq(s.timestamp, T_2026_11_22_10);
  cr_assert(s.has_energy);
  cr_assert_float_eq(s.energy_wh, 1234.5, 1e-9);
  cr_assert_str_eq(s.context, "Sample.Periodic");
  cr_assert_eq(s.ignored, 0);
  cr_assert_not(s.has_current);
  cr_assert(isnan(s.current_phase_a[0]));
}

Test(meter_parse, kwh_becomes_wh) {
  ocpp_meter_sample s = meter("{\"value\":\"12.5\",\"unit\":\"kWh\"}");
  cr_assert(s.has_energy);
  cr_assert_float_eq(s.energy_wh, 12500.0, 1e-9);
}

Test(meter_parse, kw_becomes_w) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"7.2\",\"measurand\":\"Power.Active.Import\",\"unit\":\"kW\"}");
  cr_assert(s.has_power);
  cr_assert_float_eq(s.power_w, 7200.0, 1e-9);
}

Test(meter_parse, missing_unit_takes_base_unit) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"100\"},"
      "{\"value\":\"3000\",\"measurand\":\"Power.Active.Import\"},"
      "{\"value\":\"16\",\"measurand\":\"Current.Import\"},"
      "{\"value\":\"231\",\"measurand\":\"Voltage\"}");
  cr_assert_float_eq(s.energy_wh, 100.0, 1e-9);
  cr_assert_float_eq(s.power_w, 3000.0, 1e-9);
  cr_assert_float_eq(s.current_a, 16.0, 1e-9);
  cr_assert_float_eq(s.voltage_v, 231.0, 1e-9);
}

Test(meter_parse, missing_measurand_is_energy) {
  ocpp_meter_sample s = meter("{\"value\":\"42\",\"unit\":\"Wh\"}");
  cr_assert(s.has_energy);
  cr_assert_float_eq(s.energy_wh, 42.0, 1e-9);
}

Test(meter_parse, offered_current) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"16\",\"measurand\":\"Current.Offered\",\"unit\":\"A\"}");
  cr_assert(s.has_offered);
  cr_assert_float_eq(s.offered_a, 16.0, 1e-9);
  cr_assert_not(s.has_current);
}

Test(meter_parse, phases_fill_phase_currents_and_max) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"10\",\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"},"
      "{\"value\":\"12.5\",\"measurand\":\"Current.Import\",\"phase\":\"L2-N\",\"unit\":\"A\"},"
      "{\"value\":\"11\",\"measurand\":\"Current.Import\",\"phase\":\"L3\",\"unit\":\"A\"}");
  cr_assert(s.has_current);
  cr_assert_float_eq(s.current_phase_a[0], 10.0, 1e-9);
  cr_assert_float_eq(s.current_phase_a[1], 12.5, 1e-9);
  cr_assert_float_eq(s.current_phase_a[2], 11.0, 1e-9);
  cr_assert_float_eq(s.current_a, 12.5, 1e-9);
}

Test(meter_parse, single_phase_leaves_others_nan) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"6\",\"measurand\":\"Current.Import\",\"phase\":\"L2\"}");
  cr_assert(isnan(s.current_phase_a[0]));
  cr_assert_float_eq(s.current_phase_a[1], 6.0, 1e-9);
  cr_assert(isnan(s.current_phase_a[2]));
  cr_assert_float_eq(s.current_a, 6.0, 1e-9);
}

Test(meter_parse, neutral_and_line_to_line_phases_are_ignored) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"1\",\"measurand\":\"Current.Import\",\"phase\":\"N\"},"
      "{\"value\":\"400\",\"measurand\":\"Voltage\",\"phase\":\"L1-L2\"}");
  cr_assert_not(s.has_current);
  cr_assert_not(s.has_voltage);
  cr_assert_eq(s.ignored, 2);
}

Test(meter_parse, per_phase_power_is_summed) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"1000\",\"measurand\":\"Power.Active.Import\",\"phase\":\"L1\"},"
      "{\"value\":\"1100\",\"measurand\":\"Power.Active.Import\",\"phase\":\"L2\"}");
  cr_assert(s.has_power);
  cr_assert_float_eq(s.power_w, 2100.0, 1e-9);
}

Test(meter_parse, total_power_wins_over_phases) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"1000\",\"measurand\":\"Power.Active.Import\",\"phase\":\"L1\"},"
      "{\"value\":\"2500\",\"measurand\":\"Power.Active.Import\"}");
  cr_assert_float_eq(s.power_w, 2500.0, 1e-9);
}

Test(meter_parse, voltage_of_phases_is_averaged) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"230\",\"measurand\":\"Voltage\",\"phase\":\"L1-N\"},"
      "{\"value\":\"234\",\"measurand\":\"Voltage\",\"phase\":\"L2-N\"}");
  cr_assert_float_eq(s.voltage_v, 232.0, 1e-9);
}

Test(meter_parse, values_as_json_numbers_are_accepted) {
  ocpp_meter_sample s = meter(
      "{\"value\":1500,\"unit\":\"Wh\"},"
      "{\"value\":7.5,\"measurand\":\"Current.Import\"}");
  cr_assert_float_eq(s.energy_wh, 1500.0, 1e-9);
  cr_assert_float_eq(s.current_a, 7.5, 1e-9);
}

Test(meter_parse, hz_unit_is_ignored) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"50\",\"measurand\":\"Voltage\",\"unit\":\"Hz\"}");
  cr_assert_not(s.has_voltage);
  cr_assert_eq(s.ignored, 1);
}

Test(meter_parse, unit_of_other_dimension_is_ignored) {
  ocpp_meter_sample s = meter("{\"value\":\"50\",\"unit\":\"W\"},"
                              "{\"value\":\"50\",\"unit\":\"Celsius\"}");
  cr_assert_not(s.has_energy);
  cr_assert_eq(s.ignored, 2);
}

Test(meter_parse, unit_case_is_tolerated) {
  ocpp_meter_sample s = meter("{\"value\":\"2\",\"unit\":\"KWH\"}");
  cr_assert_float_eq(s.energy_wh, 2000.0, 1e-9);
}

Test(meter_parse, bad_context_is_tolerated) {
  ocpp_meter_sample s =
      meter("{\"value\":\"5\",\"context\":\"Sample.Perodic\"}");
  cr_assert(s.has_energy);
  cr_assert_str_eq(s.context, "Sample.Perodic");
  cr_assert_eq(s.ignored, 0);
}

Test(meter_parse, non_string_context_is_tolerated) {
  ocpp_meter_sample s = meter("{\"value\":\"5\",\"context\":7}");
  cr_assert(s.has_energy);
  cr_assert_str_eq(s.context, "");
}

Test(meter_parse, signed_data_is_ignored) {
  ocpp_meter_sample s =
      meter("{\"value\":\"AbCd==\",\"format\":\"SignedData\"},"
            "{\"value\":\"9\",\"format\":\"Raw\"}");
  cr_assert_float_eq(s.energy_wh, 9.0, 1e-9);
  cr_assert_eq(s.ignored, 1);
}

Test(meter_parse, garbage_values_are_ignored) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"abc\"},{\"value\":\"0x10\"},{\"value\":\"nan\"},"
      "{\"value\":\"inf\"},{\"value\":\"1,5\"},{\"value\":\"\"},"
      "{\"value\":null},{\"value\":true},{},\"text\",{\"value\":\"1e\"}");
  cr_assert_not(s.has_energy);
  cr_assert_eq(s.ignored, 11);
}

Test(meter_parse, decimal_forms_are_accepted) {
  ocpp_meter_sample s = meter("{\"value\":\" -1.5e3 \"}");
  cr_assert_float_eq(s.energy_wh, -1500.0, 1e-9);
}

Test(meter_parse, other_measurands_are_counted) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"55\",\"measurand\":\"SoC\",\"unit\":\"Percent\"},"
      "{\"value\":\"30\",\"measurand\":\"Temperature\",\"unit\":\"Celsius\"}");
  cr_assert_eq(s.ignored, 2);
}

Test(meter_parse, inlet_used_only_without_outlet) {
  ocpp_meter_sample s = meter(
      "{\"value\":\"100\",\"location\":\"Inlet\"},"
      "{\"value\":\"7\",\"measurand\":\"Current.Import\",\"location\":\"Inlet\"},"
      "{\"value\":\"6\",\"measurand\":\"Current.Import\",\"location\":\"Outlet\"}");
  cr_assert_float_eq(s.energy_wh, 100.0, 1e-9);
  cr_assert_float_eq(s.current_a, 6.0, 1e-9);
  cr_assert_eq(s.ignored, 1);
}

Test(meter_parse, other_locations_are_ignored) {
  ocpp_meter_sample s =
      meter("{\"value\":\"30\",\"location\":\"Body\"},"
            "{\"value\":\"30\",\"location\":\"EV\"}");
  cr_assert_not(s.has_energy);
  cr_assert_eq(s.ignored, 2);
}

Test(meter_parse, duplicate_value_keeps_first) {
  ocpp_meter_sample s = meter("{\"value\":\"1\"},{\"value\":\"2\"}");
  cr_assert_float_eq(s.energy_wh, 1.0, 1e-9);
  cr_assert_eq(s.ignored, 1);
}

Test(meter_parse, missing_sampled_value_gives_empty_sample) {
  json_t *v = load("{\"timestamp\":\"2026-11-22T10:00:00Z\"}");
  ocpp_meter_sample s;
  cr_assert_eq(ocpp_meter_parse(v, &s), 0);
  cr_assert_not(s.has_energy);
  cr_assert_eq(s.ignored, 0);
  json_decref(v);
}

Test(meter_parse, bad_timestamp_is_invalid) {
  json_t *v = load("{\"timestamp\":\"yesterday\",\"sampledValue\":[]}");
  ocpp_meter_sample s;
  cr_assert_eq(ocpp_meter_parse(v, &s), OCPP_ETIME);
  json_decref(v);
  v = load("{\"sampledValue\":[]}");
  cr_assert_eq(ocpp_meter_parse(v, &s), OCPP_ETIME);
  json_decref(v);
}

Test(meter_parse, not_an_object_is_invalid) {
  json_t *v = load("[1,2]");
  ocpp_meter_sample s;
  cr_assert_eq(ocpp_meter_parse(v, &s), OCPP_EINVAL);
  cr_assert_eq(ocpp_meter_parse(NULL, &s), OCPP_EINVAL);
  json_decref(v);
}

/* ---- idTags ------------------------------------------------------------- */

static const char *const listed_tags[] = {"04:A2:3B:9C", "USER1"};

static ocpp_charger_options charger(ocpp_start_mode mode, ocpp_tag_match m,
                                    const char *const *tags, size_t n) {
  ocpp_charger_options c;
  memset(&c, 0, sizeof c);
  c.id = "CP1";
  c.start_mode = mode;
  c.tags = tags;
  c.n_tags = n;
  c.tag_match = m;
  c.remote_tag = "KNX";
  return c;
}

/* expected result for each start_mode (auto, tag, any) x match mode */
static void assert_tag(const char *const *tags, size_t n, const char *tag,
                       ocpp_auth_status exact_list, ocpp_auth_status relaxed) {
  static const ocpp_start_mode modes[] = {OCPP_START_AUTO, OCPP_START_TAG,
                                          OCPP_START_ANY};
  for (size_t i = 0; i < 3; i++) {
    ocpp_charger_options ce = charger(modes[i], OCPP_TAG_EXACT, tags, n);
    ocpp_charger_options cr = charger(modes[i], OCPP_TAG_RELAXED, tags, n);
    ocpp_auth_status want_e =
        modes[i] == OCPP_START_ANY ? OCPP_AUTH_ACCEPTED : exact_list;
    ocpp_auth_status want_r =
        modes[i] == OCPP_START_ANY ? OCPP_AUTH_ACCEPTED : relaxed;
    cr_assert_eq(ocpp_tag_check(&ce, tag), want_e, "mode %zu exact %s", i, tag);
    cr_assert_eq(ocpp_tag_check(&cr, tag), want_r, "mode %zu relaxed %s", i,
                 tag);
  }
}

Test(tag_check, listed_tag_is_accepted_everywhere) {
  assert_tag(listed_tags, 2, "USER1", OCPP_AUTH_ACCEPTED, OCPP_AUTH_ACCEPTED);
  assert_tag(listed_tags, 2, "04:A2:3B:9C", OCPP_AUTH_ACCEPTED,
             OCPP_AUTH_ACCEPTED);
}

Test(tag_check, unlisted_tag_only_with_any) {
  assert_tag(listed_tags, 2, "STRANGER", OCPP_AUTH_INVALID, OCPP_AUTH_INVALID);
}

Test(tag_check, differently_formatted_tag_only_when_relaxed) {
  assert_tag(listed_tags, 2, "04a23b9c", OCPP_AUTH_INVALID, OCPP_AUTH_ACCEPTED);
  assert_tag(listed_tags, 2, "04-A2-3B-9C", OCPP_AUTH_INVALID,
             OCPP_AUTH_ACCEPTED);
  assert_tag(listed_tags, 2, "user1", OCPP_AUTH_INVALID, OCPP_AUTH_ACCEPTED);
}

Test(tag_check, relaxed_still_needs_same_characters) {
  assert_tag(listed_tags, 2, "04A23B9D", OCPP_AUTH_INVALID, OCPP_AUTH_INVALID);
  assert_tag(listed_tags, 2, "USER", OCPP_AUTH_INVALID, OCPP_AUTH_INVALID);
  assert_tag(listed_tags, 2, "USER12", OCPP_AUTH_INVALID, OCPP_AUTH_INVALID);
}

Test(tag_check, star_allows_every_tag) {
  static const char *const star[] = {"USER1", "*"};
  assert_tag(star, 2, "STRANGER", OCPP_AUTH_ACCEPTED, OCPP_AUTH_ACCEPTED);
}

Test(tag_check, remote_tag_is_always_allowed) {
  assert_tag(listed_tags, 2, "KNX", OCPP_AUTH_ACCEPTED, OCPP_AUTH_ACCEPTED);
  assert_tag(NULL, 0, "KNX", OCPP_AUTH_ACCEPTED, OCPP_AUTH_ACCEPTED);
  assert_tag(listed_tags, 2, "knx", OCPP_AUTH_INVALID, OCPP_AUTH_ACCEPTED);
}

Test(tag_check, empty_list_refuses_other_tags) {
  assert_tag(NULL, 0, "USER1", OCPP_AUTH_INVALID, OCPP_AUTH_INVALID);
}

Test(tag_check, empty_tag_is_invalid_in_every_mode) {
  static const ocpp_start_mode modes[] = {OCPP_START_AUTO, OCPP_START_TAG,
                                          OCPP_START_ANY};
  static const char *const star[] = {"*"};
  for (size_t i = 0; i < 3; i++) {
    ocpp_charger_options c = charger(modes[i], OCPP_TAG_RELAXED, star, 1);
    cr_assert_eq(ocpp_tag_check(&c, ""), OCPP_AUTH_INVALID);
    cr_assert_eq(ocpp_tag_check(&c, NULL), OCPP_AUTH_INVALID);
  }
  cr_assert_eq(ocpp_tag_check(NULL, "USER1"), OCPP_AUTH_INVALID);
}

Test(tag_check, separators_only_never_match_relaxed) {
  static const char *const odd[] = {"--"};
  ocpp_charger_options c = charger(OCPP_START_TAG, OCPP_TAG_RELAXED, odd, 1);
  cr_assert_eq(ocpp_tag_check(&c, "::"), OCPP_AUTH_INVALID);
}

Test(tag_normalize, upper_case_without_separators) {
  char out[32];
  ocpp_tag_normalize("04:a2-3b 9c", out);
  cr_assert_str_eq(out, "04A23B9C");
  ocpp_tag_normalize("", out);
  cr_assert_str_eq(out, "");
}

/* ---- enumerations ------------------------------------------------------- */

Test(enums, status_names_round_trip) {
  static const char *const expected[] = {
      "Available", "Preparing",   "Charging",  "SuspendedEV", "SuspendedEVSE",
      "Finishing", "Reserved",    "Unavailable", "Faulted"};
  cr_assert_eq(sizeof expected / sizeof expected[0], OCPP_CP_STATUS_COUNT);
  for (int i = 0; i < OCPP_CP_STATUS_COUNT; i++) {
    ocpp_cp_status s;
    cr_assert_str_eq(ocpp_cp_status_name((ocpp_cp_status)i), expected[i]);
    cr_assert_eq(ocpp_cp_status_parse(expected[i], &s), 0);
    cr_assert_eq((int)s, i);
  }
}

Test(enums, error_names_round_trip) {
  static const char *const expected[] = {
      "NoError",          "ConnectorLockFailure", "EVCommunicationError",
      "GroundFailure",    "HighTemperature",      "InternalError",
      "LocalListConflict", "OtherError",          "OverCurrentFailure",
      "OverVoltage",      "PowerMeterFailure",    "PowerSwitchFailure",
      "ReaderFailure",    "ResetFailure",         "UnderVoltage",
      "WeakSignal"};
  cr_assert_eq(sizeof expected / sizeof expected[0], OCPP_ERR_COUNT);
  for (int i = 0; i < OCPP_ERR_COUNT; i++) {
    ocpp_cp_error e;
    cr_assert_str_eq(ocpp_cp_error_name((ocpp_cp_error)i), expected[i]);
    cr_assert_eq(ocpp_cp_error_parse(expected[i], &e), 0);
    cr_assert_eq((int)e, i);
  }
}

Test(enums, unknown_text_is_invalid) {
  ocpp_cp_status s = OCPP_CP_CHARGING;
  ocpp_cp_error e = OCPP_ERR_WEAK_SIGNAL;
  cr_assert_eq(ocpp_cp_status_parse("available", &s), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_status_parse("", &s), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_status_parse(NULL, &s), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_error_parse("Error", &e), OCPP_ENOENT);
  cr_assert_eq(ocpp_cp_error_parse("NoErrorX", &e), OCPP_ENOENT);
  cr_assert_eq(s, OCPP_CP_CHARGING);
  cr_assert_eq(e, OCPP_ERR_WEAK_SIGNAL);
}

Test(enums, out_of_range_names_are_null) {
  cr_assert_null(ocpp_cp_status_name(OCPP_CP_STATUS_COUNT));
  cr_assert_null(ocpp_cp_status_name((ocpp_cp_status)-1));
  cr_assert_null(ocpp_cp_error_name(OCPP_ERR_COUNT));
  cr_assert_null(ocpp_auth_status_name((ocpp_auth_status)5));
  cr_assert_null(ocpp_result_name((ocpp_result)(OCPP_RESULT_REBOOT_REQUIRED + 1)));
}

Test(enums, auth_status_names) {
  cr_assert_str_eq(ocpp_auth_status_name(OCPP_AUTH_ACCEPTED), "Accepted");
  cr_assert_str_eq(ocpp_auth_status_name(OCPP_AUTH_BLOCKED), "Blocked");
  cr_assert_str_eq(ocpp_auth_status_name(OCPP_AUTH_EXPIRED), "Expired");
  cr_assert_str_eq(ocpp_auth_status_name(OCPP_AUTH_INVALID), "Invalid");
  cr_assert_str_eq(ocpp_auth_status_name(OCPP_AUTH_CONCURRENT_TX),
                   "ConcurrentTx");
}

Test(enums, result_names) {
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_ACCEPTED), "Accepted");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_REJECTED), "Rejected");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_NOT_SUPPORTED), "NotSupported");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_TIMEOUT), "Timeout");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_OFFLINE), "Offline");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_ERROR), "Error");
  cr_assert_str_eq(ocpp_result_name(OCPP_RESULT_REBOOT_REQUIRED),
                   "RebootRequired");
}

Test(enums, strerror_covers_every_code) {
  static const int codes[] = {OCPP_OK,       OCPP_EINVAL,     OCPP_ENOMEM,
                              OCPP_ENOTCONN, OCPP_EUNKNOWN,   OCPP_EQUEUEFULL,
                              OCPP_ELISTEN,  OCPP_ETLS,       OCPP_ESTATE};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *text = ocpp_strerror(codes[i]);
    cr_assert_not_null(text);
    cr_assert_str_neq(text, "unknown error", "code %d", codes[i]);
  }
  cr_assert_str_eq(ocpp_strerror(-99), "unknown error");
  cr_assert_str_eq(ocpp_strerror(3), "unknown error");
}

Test(codec, reversed_tag_match_takes_the_byte_reversed_uid)
{
  static const char *const tags[] = {"04A2B3C4"};
  ocpp_charger_options c = {.start_mode = OCPP_START_TAG, .tags = tags,
                            .n_tags = 1, .tag_match = OCPP_TAG_REVERSED,
                            .remote_tag = "KNX"};
  cr_expect_eq(ocpp_tag_check(&c, "C4B3A204"), OCPP_AUTH_ACCEPTED);
  cr_expect_eq(ocpp_tag_check(&c, "c4:b3:a2:04"), OCPP_AUTH_ACCEPTED);
  cr_expect_eq(ocpp_tag_check(&c, "04a2b3c4"), OCPP_AUTH_ACCEPTED);
  cr_expect_eq(ocpp_tag_check(&c, "4C3B2A40"), OCPP_AUTH_INVALID);
  cr_expect_eq(ocpp_tag_check(&c, "C4B3A2"), OCPP_AUTH_INVALID);
  c.tag_match = OCPP_TAG_RELAXED;
  cr_expect_eq(ocpp_tag_check(&c, "C4B3A204"), OCPP_AUTH_INVALID);
  cr_expect(!ocpp_tags_equal(OCPP_TAG_REVERSED, "ABC", "CBA"), "odd length");
  cr_expect(!ocpp_tags_equal(OCPP_TAG_REVERSED, "0G", "G0"), "not hex");
  cr_expect(!ocpp_tags_equal(OCPP_TAG_REVERSED, "", ""));
  cr_expect(!ocpp_tags_equal(OCPP_TAG_REVERSED, NULL, "04"));
  cr_expect(ocpp_tags_equal(OCPP_TAG_REVERSED, "0011223344556677889A",
                            "9A887766554433221100"), "20 digits");
}
