/* Fuzz target: timestamps, MeterValues samples, idTag policy, enums. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"

static const char *const seed_texts[] = {
    "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":["
    "{\"value\":\"1234.5\",\"context\":\"Sample.Periodic\",\"unit\":\"kWh\"},"
    "{\"value\":\"16\",\"measurand\":\"Current.Import\",\"phase\":\"L1\"},"
    "{\"value\":7.2,\"measurand\":\"Power.Active.Import\",\"unit\":\"kW\","
    "\"location\":\"Inlet\"},"
    "{\"value\":\"230\",\"measurand\":\"Voltage\",\"phase\":\"L2-N\"},"
    "{\"value\":\"ab\",\"format\":\"SignedData\"}]}",
    ("[{\"timestamp\":\"2026-11-22T12:00:00.123+02:00\",\"sampledValue\":"
     "[{\"value\":\"50\",\"unit\":\"Hz\"}]}]"),
    "2024-02-29t23:59:60.5-0230",
    "04:a2-3B 9c",
    "SuspendedEVSE",
};

size_t fuzz_seed(size_t index, const uint8_t **data);

size_t fuzz_seed(size_t index, const uint8_t **data) {
  if (index >= sizeof seed_texts / sizeof seed_texts[0]) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seed_texts[index];
  return strlen(seed_texts[index]);
}

static void check_meter(const json_t *v) {
  ocpp_meter_sample s;
  if (ocpp_meter_parse(v, &s) != 0) return;
  if (!s.context || s.ignored < 0) abort();
  if (s.has_current && isnan(s.current_a)) abort();
  if (s.has_energy && !isfinite(s.energy_wh)) abort();
}

static void check_time(const char *s) {
  time_t t;
  if (ocpp_time_parse(s, &t) != 0) return;
  char text[OCPP_TIME_STRLEN];
  ocpp_time_format(t, text);
  time_t back;
  /* Inside years 0000..9999 formatting and parsing are inverse. */
  if (t >= (time_t)-62167219200 && t <= (time_t)253402300799 &&
      (ocpp_time_parse(text, &back) != 0 || back != t))
    abort();
}

static void check_tags(const char *s, size_t len) {
  char *norm = malloc(len + 1);
  if (!norm) return;
  ocpp_tag_normalize(s, norm);
  const char *tags[] = {s, "USER1"};
  ocpp_charger_options c;
  memset(&c, 0, sizeof c);
  c.start_mode = OCPP_START_TAG;
  c.tags = tags;
  c.n_tags = 2;
  c.remote_tag = "KNX";
  c.tag_match = OCPP_TAG_EXACT;
  if (s[0] && ocpp_tag_check(&c, s) != OCPP_AUTH_ACCEPTED) abort();
  c.tag_match = OCPP_TAG_RELAXED;
  /* A tag matches its own normal form when anything is left of it. */
  if (norm[0] && ocpp_tag_check(&c, norm) != OCPP_AUTH_ACCEPTED) abort();
  free(norm);
}

static void check_enums(const char *s) {
  ocpp_cp_status st;
  ocpp_cp_error er;
  if (ocpp_cp_status_parse(s, &st) == 0 &&
      strcmp(ocpp_cp_status_name(st), s) != 0)
    abort();
  if (ocpp_cp_error_parse(s, &er) == 0 && strcmp(ocpp_cp_error_name(er), s) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
  if (v) {
    check_meter(v);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) check_meter(e);
    json_decref(v);
  }
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  check_time(s);
  check_tags(s, strlen(s));
  check_enums(s);
  free(s);
  return 0;
}
