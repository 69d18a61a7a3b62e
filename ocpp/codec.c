/* Pure OCPP helpers: timestamps, MeterValues samples, idTag policy, and the
 * names of the OCPP 1.6 enumerations. */
#include "ocpp/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/calendar.h"

/* ---- names -------------------------------------------------------------- */

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const cp_status_names[OCPP_CP_STATUS_COUNT] = {
    [OCPP_CP_AVAILABLE] = "Available",
    [OCPP_CP_PREPARING] = "Preparing",
    [OCPP_CP_CHARGING] = "Charging",
    [OCPP_CP_SUSPENDED_EV] = "SuspendedEV",
    [OCPP_CP_SUSPENDED_EVSE] = "SuspendedEVSE",
    [OCPP_CP_FINISHING] = "Finishing",
    [OCPP_CP_RESERVED] = "Reserved",
    [OCPP_CP_UNAVAILABLE] = "Unavailable",
    [OCPP_CP_FAULTED] = "Faulted",
};

static const char *const cp_error_names[OCPP_ERR_COUNT] = {
    [OCPP_ERR_NO_ERROR] = "NoError",
    [OCPP_ERR_CONNECTOR_LOCK_FAILURE] = "ConnectorLockFailure",
    [OCPP_ERR_EV_COMMUNICATION_ERROR] = "EVCommunicationError",
    [OCPP_ERR_GROUND_FAILURE] = "GroundFailure",
    [OCPP_ERR_HIGH_TEMPERATURE] = "HighTemperature",
    [OCPP_ERR_INTERNAL_ERROR] = "InternalError",
    [OCPP_ERR_LOCAL_LIST_CONFLICT] = "LocalListConflict",
    [OCPP_ERR_OTHER_ERROR] = "OtherError",
    [OCPP_ERR_OVER_CURRENT_FAILURE] = "OverCurrentFailure",
    [OCPP_ERR_OVER_VOLTAGE] = "OverVoltage",
    [OCPP_ERR_POWER_METER_FAILURE] = "PowerMeterFailure",
    [OCPP_ERR_POWER_SWITCH_FAILURE] = "PowerSwitchFailure",
    [OCPP_ERR_READER_FAILURE] = "ReaderFailure",
    [OCPP_ERR_RESET_FAILURE] = "ResetFailure",
    [OCPP_ERR_UNDER_VOLTAGE] = "UnderVoltage",
    [OCPP_ERR_WEAK_SIGNAL] = "WeakSignal",
};

static const char *const auth_status_names[] = {
    [OCPP_AUTH_ACCEPTED] = "Accepted",
    [OCPP_AUTH_BLOCKED] = "Blocked",
    [OCPP_AUTH_EXPIRED] = "Expired",
    [OCPP_AUTH_INVALID] = "Invalid",
    [OCPP_AUTH_CONCURRENT_TX] = "ConcurrentTx",
};

static const char *const result_names[] = {
    [OCPP_RESULT_ACCEPTED] = "Accepted",
    [OCPP_RESULT_REJECTED] = "Rejected",
    [OCPP_RESULT_NOT_SUPPORTED] = "NotSupported",
    [OCPP_RESULT_TIMEOUT] = "Timeout",
    [OCPP_RESULT_OFFLINE] = "Offline",
    [OCPP_RESULT_ERROR] = "Error",
    [OCPP_RESULT_REBOOT_REQUIRED] = "RebootRequired",
};

/* Enum values arrive from callers as ints; anything outside the table is
 * NULL rather than an out-of-bounds read. */
static const char *name_at(const char *const *names, size_t n, long v) {
  return (v >= 0 && (size_t)v < n) ? names[v] : NULL;
}

const char *ocpp_cp_status_name(ocpp_cp_status s) {
  return name_at(cp_status_names, COUNT_OF(cp_status_names), (long)s);
}

const char *ocpp_cp_error_name(ocpp_cp_error e) {
  return name_at(cp_error_names, COUNT_OF(cp_error_names), (long)e);
}

const char *ocpp_auth_status_name(ocpp_auth_status a) {
  return name_at(auth_status_names, COUNT_OF(auth_status_names), (long)a);
}

const char *ocpp_result_name(ocpp_result r) {
  return name_at(result_names, COUNT_OF(result_names), (long)r);
}

/* The index of text in names, or OCPP_ENOENT. */
static int name_index(const char *const *names, size_t n, const char *text) {
  if (!text) return OCPP_ENOENT;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], text) == 0) return (int)i;
  return OCPP_ENOENT;
}

int ocpp_cp_status_parse(const char *text, ocpp_cp_status *out) {
  if (!out) return OCPP_EINVAL;
  int i = name_index(cp_status_names, COUNT_OF(cp_status_names), text);
  if (i < 0) return i;
  *out = (ocpp_cp_status)i;
  return 0;
}

int ocpp_cp_error_parse(const char *text, ocpp_cp_error *out) {
  if (!out) return OCPP_EINVAL;
  int i = name_index(cp_error_names, COUNT_OF(cp_error_names), text);
  if (i < 0) return i;
  *out = (ocpp_cp_error)i;
  return 0;
}

/* ---- timestamps --------------------------------------------------------- */

/* Reads exactly n decimal digits. */
static bool read_digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

static bool expect(const char **p, const char *choices) {
  if (**p == '\0' || !strchr(choices, **p)) return false;
  (*p)++;
  return true;
}

#define TIME_FRACTION_MAX 9

/* "+02:00", "+0200", "+02", "Z", "" -> seconds east of UTC. */
static bool parse_offset(const char **p, int *seconds) {
  *seconds = 0;
  if (**p == '\0') return true;
  if (expect(p, "Zz")) return true;
  int sign = **p == '-' ? -1 : 1;
  if (!expect(p, "+-")) return false;
  int hh = 0, mm = 0;
  if (!read_digits(p, 2, &hh)) return false;
  if (**p == ':') {
    (*p)++;
    if (!read_digits(p, 2, &mm)) return false;
  } else if (**p != '\0' && !read_digits(p, 2, &mm)) {
    return false;
  }
  if (hh > 23 || mm > 59) return false;
  *seconds = sign * (hh * 3600 + mm * 60);
  return true;
}

int ocpp_time_parse(const char *text, time_t *out) {
  if (!text || !out) return OCPP_EINVAL;
  const char *p = text;
  int y, mo, d, h, mi, s, offset;
  if (!read_digits(&p, 4, &y) || !expect(&p, "-") ||
      !read_digits(&p, 2, &mo) || !expect(&p, "-") ||
      !read_digits(&p, 2, &d) || !expect(&p, "Tt ") ||
      !read_digits(&p, 2, &h) || !expect(&p, ":") ||
      !read_digits(&p, 2, &mi) || !expect(&p, ":") ||
      !read_digits(&p, 2, &s))
    return OCPP_ETIME;
  if (*p == '.') {
    p++;
    int n = 0;
    while (*p >= '0' && *p <= '9' && n <= TIME_FRACTION_MAX) {
      p++;
      n++;
    }
    if (n == 0 || n > TIME_FRACTION_MAX) return OCPP_ETIME;
  }
  if (!parse_offset(&p, &offset) || *p != '\0') return OCPP_ETIME;
  if (!cal_date_is_valid(y, mo, d) || h > 23 || mi > 59 || s > 60)
    return OCPP_ETIME;
  int64_t t = cal_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
              offset;
  *out = (time_t)t;
  return 0;
}

void ocpp_time_format(time_t t, char out[OCPP_TIME_STRLEN]) {
  struct tm tm;
  if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 ||
      tm.tm_year + 1900 > 9999) {
    snprintf(out, OCPP_TIME_STRLEN, "1970-01-01T00:00:00Z");
    return;
  }
  snprintf(out, OCPP_TIME_STRLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec);
}

/* ---- MeterValues -------------------------------------------------------- */

typedef enum { Q_ENERGY, Q_POWER, Q_CURRENT, Q_VOLTAGE, Q_OFFERED, Q_COUNT } quantity;
typedef enum { DIM_ENERGY, DIM_POWER, DIM_CURRENT, DIM_VOLTAGE } dimension;
typedef enum { LOC_OUTLET, LOC_INLET, LOC_COUNT } location;

/* How the per-phase values of a quantity become one number when no value
 * without phase was sent (current prefers its highest phase, see codec.h). */
typedef enum { COMBINE_SUM, COMBINE_MAX, COMBINE_AVG, COMBINE_PHASE_MAX } combine;

#define SLOT_NO_PHASE 3
#define SLOT_COUNT 4

static const struct {
  const char *name;
  quantity q;
} measurands[] = {
    {"Energy.Active.Import.Register", Q_ENERGY},
    {"Power.Active.Import", Q_POWER},
    {"Current.Import", Q_CURRENT},
    {"Voltage", Q_VOLTAGE},
    {"Current.Offered", Q_OFFERED},
};

static const struct {
  dimension dim;
  combine how;
} quantities[Q_COUNT] = {
    [Q_ENERGY] = {DIM_ENERGY, COMBINE_SUM},
    [Q_POWER] = {DIM_POWER, COMBINE_SUM},
    [Q_CURRENT] = {DIM_CURRENT, COMBINE_PHASE_MAX},
    [Q_VOLTAGE] = {DIM_VOLTAGE, COMBINE_AVG},
    [Q_OFFERED] = {DIM_CURRENT, COMBINE_MAX},
};

/* Only the UnitOfMeasure values that fit a measurand we use; every other
 * unit (varh, Celsius, "Hz" ...) makes the sample unusable. */
static const struct {
  const char *name;
  dimension dim;
  double factor;
} units[] = {
    {"Wh", DIM_ENERGY, 1.0},   {"kWh", DIM_ENERGY, 1000.0},
    {"W", DIM_POWER, 1.0},     {"kW", DIM_POWER, 1000.0},
    {"A", DIM_CURRENT, 1.0},   {"V", DIM_VOLTAGE, 1.0},
};

static const struct {
  const char *name;
  int slot;
} phases[] = {
    {"L1", 0}, {"L2", 1}, {"L3", 2}, {"L1-N", 0}, {"L2-N", 1}, {"L3-N", 2},
};

typedef ocpp_meter_quantity_acc accumulator;
_Static_assert(sizeof(((ocpp_meter_acc *)0)->q) / sizeof(accumulator) == Q_COUNT,
               "ocpp_meter_acc has a slot per quantity");
_Static_assert(sizeof(((accumulator *)0)->set) == LOC_COUNT * SLOT_COUNT,
               "ocpp_meter_quantity_acc has a slot per location and phase");

/* *out is the member's text, or NULL when absent. false when the member is
 * present but not a string. */
static bool member_string(const json_t *obj, const char *key,
                          const char **out) {
  const json_t *v = json_object_get(obj, key);
  *out = json_is_string(v) ? json_string_value(v) : NULL;
  return v == NULL || *out != NULL;
}

/* A decimal without exponent of at most 15 digits, as strtod reads it:
 * the digits make an integer below 2^53 and the power of ten (at most
 * 10^15) is exact too, so their quotient is the correctly rounded value
 * (Clinger's fast path), bit for bit what strtod returns. */
static double exact_decimal(const char *s) {
  static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  bool neg = *s == '-';
  if (*s == '+' || *s == '-') s++;
  uint64_t m = 0;
  int frac = 0;
  bool after_point = false;
  for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) {
    if (*s == '.') {
      after_point = true;
      continue;
    }
    m = m * 10 + (uint64_t)(*s - '0');
    frac += after_point;
  }
  double v = (double)m / pow10[frac];
  return neg ? -v : v;
}

/* Decimal numbers only: strtod alone would also take hex, "inf", "nan". */
static bool parse_decimal(const char *s, double *out) {
  while (*s == ' ') s++;
  const char *p = s;
  size_t digits = 0;
  if (*p == '+' || *p == '-') p++;
  for (; *p >= '0' && *p <= '9'; p++) digits++;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++) digits++;
  if (digits == 0) return false;
  bool plain = *p != 'e' && *p != 'E';
  if (!plain) {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  while (*p == ' ') p++;
  if (*p != '\0') return false;
  double v = plain && digits <= 15 ? exact_decimal(s) : strtod(s, NULL);
  if (!isfinite(v)) return false;
  *out = v;
  return true;
}

static bool sample_value(const ocpp_sampled_value *sv, double *out) {
  if (sv->value) return parse_decimal(sv->value, out);
  if (sv->has_number) {
    *out = sv->number;
    return isfinite(*out);
  }
  return false;
}

static int lookup_measurand(const char *name) {
  if (!name) return Q_ENERGY; /* OCPP 1.6 default */
  for (size_t i = 0; i < COUNT_OF(measurands); i++)
    if (strcmp(measurands[i].name, name) == 0) return (int)measurands[i].q;
  return OCPP_ENOENT;
}

static int lookup_location(const char *name) {
  if (!name || strcmp(name, "Outlet") == 0) return LOC_OUTLET;
  if (strcmp(name, "Inlet") == 0) return LOC_INLET;
  return OCPP_ENOENT;
}

static int lookup_phase(const char *name) {
  if (!name) return SLOT_NO_PHASE;
  for (size_t i = 0; i < COUNT_OF(phases); i++)
    if (strcmp(phases[i].name, name) == 0) return phases[i].slot;
  return OCPP_ENOENT;
}

/* Sets *factor to the base unit's; false when the unit does not fit q.
 * Units are compared ignoring case: "KWH" cannot mean anything else. */
static bool unit_factor(const char *name, quantity q, double *factor) {
  *factor = 1.0;
  if (!name) return true;
  for (size_t i = 0; i < COUNT_OF(units); i++)
    if ((units[i].name[0] | 0x20) == (name[0] | 0x20) &&
        strcasecmp(units[i].name, name) == 0) {
      *factor = units[i].factor;
      return units[i].dim == quantities[q].dim;
    }
  return false;
}

/* Adds one sampledValue to acc; false when it cannot be used. */
static bool take_sample(const ocpp_sampled_value *sv, accumulator acc[Q_COUNT],
                        const char **context) {
  if (sv->context && (*context)[0] == '\0')
    *context = sv->context; /* any text is kept: chargers invent contexts */
  if (sv->unusable) return false;
  if (sv->format && strcmp(sv->format, "Raw") != 0)
    return false; /* SignedData carries no plain value */
  int q = lookup_measurand(sv->measurand);
  int loc = lookup_location(sv->location);
  int slot = lookup_phase(sv->phase);
  if (q < 0 || loc < 0 || slot < 0) return false;
  double factor, value;
  if (!unit_factor(sv->unit, (quantity)q, &factor) || !sample_value(sv, &value))
    return false;
  if (acc[q].set[loc][slot]) return false; /* first value wins */
  acc[q].set[loc][slot] = true;
  acc[q].v[loc][slot] = value * factor;
  return true;
}

/* A present member that is not a string makes the sampledValue unusable;
 * its context still counts when it is a string. false: not an object. */
static bool json_sampled_value(const json_t *sv, ocpp_sampled_value *out) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(sv)) return false;
  member_string(sv, "context", &out->context); /* a non-string is no context */
  bool ok = member_string(sv, "format", &out->format);
  ok = member_string(sv, "measurand", &out->measurand) && ok;
  ok = member_string(sv, "location", &out->location) && ok;
  ok = member_string(sv, "phase", &out->phase) && ok;
  ok = member_string(sv, "unit", &out->unit) && ok;
  const json_t *v = json_object_get(sv, "value");
  if (json_is_string(v)) {
    out->value = json_string_value(v);
  } else if (json_is_number(v)) {
    out->has_number = true;
    out->number = json_number_value(v);
  }
  out->unusable = !ok;
  return true;
}

static int count_set(const accumulator *a, int loc) {
  int n = 0;
  for (int s = 0; s < SLOT_COUNT; s++) n += a->set[loc][s];
  return n;
}

/* Reduces one quantity; false when it has no value. Inlet values are
 * counted as ignored when the outlet has its own. */
static bool combine_quantity(const accumulator *a, quantity q, double *out,
                             double phase_out[3], int *ignored) {
  int loc = count_set(a, LOC_OUTLET) > 0 ? LOC_OUTLET : LOC_INLET;
  if (loc == LOC_OUTLET) *ignored += count_set(a, LOC_INLET);
  int n_phases = count_set(a, loc) - a->set[loc][SLOT_NO_PHASE];
  double sum = 0, max = -INFINITY;
  for (int s = 0; s < 3; s++) {
    if (!a->set[loc][s]) continue;
    sum += a->v[loc][s];
    if (a->v[loc][s] > max) max = a->v[loc][s];
    if (phase_out) phase_out[s] = a->v[loc][s];
  }
  bool whole = a->set[loc][SLOT_NO_PHASE];
  if (!whole && n_phases == 0) return false;
  switch (quantities[q].how) {
  case COMBINE_PHASE_MAX:
    *out = n_phases > 0 ? max : a->v[loc][SLOT_NO_PHASE];
    return true;
  case COMBINE_SUM: *out = whole ? a->v[loc][SLOT_NO_PHASE] : sum; return true;
  case COMBINE_MAX: *out = whole ? a->v[loc][SLOT_NO_PHASE] : max; return true;
  case COMBINE_AVG:
    *out = whole ? a->v[loc][SLOT_NO_PHASE] : sum / n_phases;
    return true;
  }
  return false;
}

void ocpp_meter_begin(ocpp_meter_acc *acc, ocpp_meter_sample *out) {
  memset(acc, 0, sizeof *acc);
  memset(out, 0, sizeof *out);
  out->context = "";
  for (int i = 0; i < 3; i++) out->current_phase_a[i] = NAN;
}

void ocpp_meter_add(ocpp_meter_acc *acc, const ocpp_sampled_value *sv,
                    ocpp_meter_sample *out) {
  if (!take_sample(sv, acc->q, &out->context)) out->ignored++;
}

void ocpp_meter_end(const ocpp_meter_acc *macc, ocpp_meter_sample *out) {
  const accumulator *acc = macc->q;
  out->has_energy = combine_quantity(&acc[Q_ENERGY], Q_ENERGY, &out->energy_wh,
                                     NULL, &out->ignored);
  out->has_power = combine_quantity(&acc[Q_POWER], Q_POWER, &out->power_w,
                                    NULL, &out->ignored);
  out->has_current =
      combine_quantity(&acc[Q_CURRENT], Q_CURRENT, &out->current_a,
                       out->current_phase_a, &out->ignored);
  out->has_voltage = combine_quantity(&acc[Q_VOLTAGE], Q_VOLTAGE,
                                      &out->voltage_v, NULL, &out->ignored);
  out->has_offered = combine_quantity(&acc[Q_OFFERED], Q_OFFERED,
                                      &out->offered_a, NULL, &out->ignored);
}

int ocpp_meter_parse(const json_t *meter_value, ocpp_meter_sample *out) {
  if (!out) return OCPP_EINVAL;
  ocpp_meter_acc acc;
  ocpp_meter_begin(&acc, out);
  if (!json_is_object(meter_value)) return OCPP_EINVAL;
  const json_t *ts = json_object_get(meter_value, "timestamp");
  if (!json_is_string(ts) ||
      ocpp_time_parse(json_string_value(ts), &out->timestamp) != 0)
    return OCPP_ETIME;

  const json_t *list = json_object_get(meter_value, "sampledValue");
  size_t i;
  const json_t *sv;
  json_array_foreach(list, i, sv) {
    ocpp_sampled_value fields;
    if (json_sampled_value(sv, &fields))
      ocpp_meter_add(&acc, &fields, out);
    else
      out->ignored++;
  }
  ocpp_meter_end(&acc, out);
  return 0;
}

/* ---- idTags ------------------------------------------------------------- */

static bool is_tag_separator(char c) { return c == ' ' || c == ':' || c == '-'; }

static char upper_ascii(char c) {
  return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

void ocpp_tag_normalize(const char *tag, char *out) {
  if (!out) return;
  size_t o = 0;
  for (const char *p = tag ? tag : ""; *p; p++)
    if (!is_tag_separator(*p)) out[o++] = upper_ascii(*p);
  out[o] = '\0';
}

/* Compares the normalised forms without a buffer; two tags that are only
 * separators do not match anything. */
static bool tags_equal_relaxed(const char *a, const char *b) {
  size_t significant = 0;
  for (;;) {
    while (is_tag_separator(*a)) a++;
    while (is_tag_separator(*b)) b++;
    if (*a == '\0' || *b == '\0') return *a == *b && significant > 0;
    if (upper_ascii(*a) != upper_ascii(*b)) return false;
    a++;
    b++;
    significant++;
  }
}

static int hex_value(char c) {
  c = upper_ascii(c);
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads a hex UID without separators into bytes; false when it is not one
 * (odd digit count, other characters, longer than an IdToken). */
static bool uid_bytes(const char *tag, unsigned char *out, size_t *n) {
  int high = -1;
  *n = 0;
  for (const char *p = tag; *p; p++) {
    if (is_tag_separator(*p)) continue;
    int v = hex_value(*p);
    if (v < 0 || *n == 10) return false;
    if (high < 0) {
      high = v;
    } else {
      out[(*n)++] = (unsigned char)(high << 4 | v);
      high = -1;
    }
  }
  return high < 0 && *n > 0;
}

static bool tags_equal_reversed(const char *a, const char *b) {
  unsigned char ba[10], bb[10];
  size_t na, nb;
  if (!uid_bytes(a, ba, &na) || !uid_bytes(b, bb, &nb) || na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (ba[i] != bb[na - 1 - i]) return false;
  return true;
}

bool ocpp_tags_equal(ocpp_tag_match match, const char *listed,
                     const char *id_tag) {
  if (!listed || listed[0] == '\0' || !id_tag || id_tag[0] == '\0')
    return false;
  switch (match) {
  case OCPP_TAG_EXACT:
    return strcmp(listed, id_tag) == 0;
  case OCPP_TAG_RELAXED:
    return tags_equal_relaxed(listed, id_tag);
  case OCPP_TAG_REVERSED:
    return tags_equal_relaxed(listed, id_tag) ||
           tags_equal_reversed(listed, id_tag);
  }
  return false;
}

static bool tags_equal(const ocpp_charger_options *c, const char *listed,
                       const char *id_tag) {
  return ocpp_tags_equal(c->tag_match, listed, id_tag);
}

ocpp_auth_status ocpp_tag_check(const ocpp_charger_options *charger,
                                const char *id_tag) {
  if (!charger || !id_tag || id_tag[0] == '\0') return OCPP_AUTH_INVALID;
  if (charger->start_mode == OCPP_START_ANY) return OCPP_AUTH_ACCEPTED;
  for (size_t i = 0; charger->tags && i < charger->n_tags; i++) {
    const char *t = charger->tags[i];
    if (t && strcmp(t, "*") == 0) return OCPP_AUTH_ACCEPTED;
    if (tags_equal(charger, t, id_tag)) return OCPP_AUTH_ACCEPTED;
  }
  if (tags_equal(charger, charger->remote_tag, id_tag))
    return OCPP_AUTH_ACCEPTED;
  return OCPP_AUTH_INVALID;
}
