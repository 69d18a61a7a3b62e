/* Pure OCPP helpers: timestamps, MeterValues samples, idTag policy.
 * Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_CODEC_H
#define OCPPKNX_OCPP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ocpp/ocpp.h"

/* Parses an OCPP date-time: "2026-11-22T10:00:00Z", fractions of a second,
 * offsets "+02:00", "+0200", "+02", and no offset at all (taken as UTC,
 * as chargers that send it mean). Returns 0, OCPP_EINVAL (NULL text or
 * out) or OCPP_ETIME (not such a date-time, or no such day). */
int ocpp_time_parse(const char *text, time_t *out);

/* "2026-11-22T10:00:00Z": always UTC with Z, whole seconds. */
#define OCPP_TIME_STRLEN 32
void ocpp_time_format(time_t t, char out[OCPP_TIME_STRLEN]);

/* One meterValue element reduced to what the gateway uses. */
typedef struct {
  time_t timestamp;
  const char *context;          /* borrowed from the JSON; "" if absent */
  bool has_energy;  double energy_wh;
  bool has_current; double current_a;
  double current_phase_a[3];    /* NaN when absent */
  bool has_power;   double power_w;
  bool has_voltage; double voltage_v;
  bool has_offered; double offered_a;
  int ignored;                  /* samples skipped (unknown unit, not a
                                   number, other measurand/location) */
} ocpp_meter_sample;

/* Reads one element of MeterValues.meterValue (or transactionData): every
 * sampledValue with format Raw (or absent) is converted: a missing measurand
 * means Energy.Active.Import.Register; Wh/kWh -> Wh, W/kW -> W, A, V;
 * missing unit means Wh for energy, W for power, A for current, V for
 * voltage. Only location Outlet/absent (and Inlet when no Outlet value) are
 * used. Phases L1, L2, L3 (also L1-N ...) fill current_phase_a; current_a is
 * the highest phase or the value without phase. Without a value without
 * phase, per-phase energy and power are summed, voltages averaged and
 * offered currents maxed; N and line-to-line phases are ignored. "value"
 * may be a decimal string or a JSON number; units are compared ignoring
 * case; the first value for a measurand/location/phase wins; context is
 * the first string context seen, whatever its text. Values that are not
 * numbers, have an impossible unit, are SignedData, duplicates or Inlet
 * values beside Outlet ones are counted in ignored, never fatal.
 * Returns 0, OCPP_EINVAL (NULL out, meter_value not an object) or
 * OCPP_ETIME (no valid timestamp). */
int ocpp_meter_parse(const json_t *meter_value, ocpp_meter_sample *out);

/* The steps of ocpp_meter_parse, for a reader that is not jansson (the
 * MeterValues fast path): ocpp_meter_begin, ocpp_meter_add for each
 * sampledValue in order, ocpp_meter_end; set the timestamp yourself. The
 * members of a sampledValue as text, NULL when absent; value is the
 * decimal text, or NULL with has_number for a JSON number (NULL without
 * has_number: not usable). Strings are NUL-terminated and must outlive the
 * sample (context is kept). */
typedef struct {
  const char *value;
  bool has_number;
  double number;
  const char *context, *format, *measurand, *phase, *location, *unit;
  bool unusable;                /* a member of the wrong type: only the
                                   context is taken */
} ocpp_sampled_value;

/* What ocpp_meter_add has gathered; only for these functions. */
typedef struct {
  bool set[2][4];               /* location, phase slot */
  double v[2][4];
} ocpp_meter_quantity_acc;
typedef struct {
  ocpp_meter_quantity_acc q[5]; /* energy, power, current, voltage, offered */
} ocpp_meter_acc;

/* Clears acc and sets out to what a meterValue without usable
 * sampledValue holds (also what ocpp_meter_parse leaves on failure). */
void ocpp_meter_begin(ocpp_meter_acc *acc, ocpp_meter_sample *out);
void ocpp_meter_add(ocpp_meter_acc *acc, const ocpp_sampled_value *sv,
                    ocpp_meter_sample *out);
void ocpp_meter_end(const ocpp_meter_acc *acc, ocpp_meter_sample *out);

/* Decides an idTag for a charger: with start_mode "any" every non-empty tag
 * is Accepted; with "tag" and "auto" the tag must be in tags ("*" allows
 * all; the charger's own remote_tag is always allowed so that remote starts
 * work). Comparison follows tag_match. */
ocpp_auth_status ocpp_tag_check(const ocpp_charger_options *charger,
                                const char *id_tag);

/* Normalised form used by OCPP_TAG_RELAXED: upper case, without ' ', ':',
 * '-'. out must hold strlen(tag)+1 bytes. */
void ocpp_tag_normalize(const char *tag, char *out);

/* Names <-> enums of StatusNotification. Parsing returns 0, OCPP_EINVAL
 * (NULL out) or OCPP_ENOENT (NULL or unknown text). */
int ocpp_cp_status_parse(const char *text, ocpp_cp_status *out);
int ocpp_cp_error_parse(const char *text, ocpp_cp_error *out);

#endif
