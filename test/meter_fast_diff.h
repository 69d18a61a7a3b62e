/* The differential check of the MeterValues fast path, shared by its unit
 * test and its fuzz target: whenever ocpp_meter_fast_parse accepts a frame,
 * the general path (ocpp_rpc_decode, ocpp_schema_validate without repairs,
 * ocpp_meter_parse of each element) must accept it too and read the same
 * id, connectorId, transactionId and samples. */
#ifndef OCPPKNX_TEST_METER_FAST_DIFF_H
#define OCPPKNX_TEST_METER_FAST_DIFF_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "ocpp/meter_fast.h"
#include "ocpp/rpc.h"
#include "ocpp/schema.h"

static bool mfd_same_double(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return a == b && signbit(a) == signbit(b);
}

/* NULL when the samples are the same, else the first field that is not. */
static const char *mfd_sample_diff(const ocpp_meter_sample *a,
                                   const ocpp_meter_sample *b) {
  if (a->timestamp != b->timestamp) return "timestamp";
  if (!a->context || !b->context || strcmp(a->context, b->context) != 0)
    return "context";
  if (a->has_energy != b->has_energy || !mfd_same_double(a->energy_wh, b->energy_wh))
    return "energy";
  if (a->has_current != b->has_current || !mfd_same_double(a->current_a, b->current_a))
    return "current";
  for (int i = 0; i < 3; i++)
    if (!mfd_same_double(a->current_phase_a[i], b->current_phase_a[i]))
      return "phase current";
  if (a->has_power != b->has_power || !mfd_same_double(a->power_w, b->power_w))
    return "power";
  if (a->has_voltage != b->has_voltage || !mfd_same_double(a->voltage_v, b->voltage_v))
    return "voltage";
  if (a->has_offered != b->has_offered || !mfd_same_double(a->offered_a, b->offered_a))
    return "offered";
  if (a->ignored != b->ignored) return "ignored";
  return NULL;
}

typedef struct {
  bool fast;        /* the fast path accepted */
  bool general;     /* the general path accepted it as a valid MeterValues */
  const char *diff; /* NULL, or what the two read differently */
} mfd_result;

static const char *mfd_compare(const ocpp_meter_fast *mv, const json_t *payload,
                               const char *id) {
  if (strcmp(mv->id, id) != 0 || mv->id_len != strlen(id)) return "id";
  if (mv->connector_id !=
      json_integer_value(json_object_get(payload, "connectorId")))
    return "connectorId";
  const json_t *tx = json_object_get(payload, "transactionId");
  if (mv->has_transaction_id != (tx != NULL) ||
      (tx && mv->transaction_id != json_integer_value(tx)))
    return "transactionId";
  const json_t *values = json_object_get(payload, "meterValue");
  if (mv->n_values != json_array_size(values)) return "number of meterValue";
  for (size_t i = 0; i < mv->n_values; i++) {
    ocpp_meter_sample m;
    bool ok = ocpp_meter_parse(json_array_get(values, i), &m) == 0;
    if (ok != mv->values[i].ok) return "meterValue readable";
    const char *d = mfd_sample_diff(&mv->values[i].sample, &m);
    if (d) return d;
  }
  return NULL;
}

static mfd_result meter_fast_diff(const char *text, size_t len) {
  mfd_result r = {false, false, NULL};
  ocpp_meter_fast mv;
  r.fast = ocpp_meter_fast_parse(text, len, &mv);
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, len, &f, &fault) != 0) {
    if (r.fast) r.diff = "the general path cannot decode it";
    return r;
  }
  r.general = f.type == OCPP_RPC_CALL && strcmp(f.action, "MeterValues") == 0 &&
              ocpp_schema_validate(f.action, OCPP_SCHEMA_REQUEST, f.payload,
                                   NULL) == 0;
  if (r.fast && !r.general)
    r.diff = "the general path finds it invalid";
  else if (r.fast)
    r.diff = mfd_compare(&mv, f.payload, f.id);
  ocpp_rpc_frame_finish(&f);
  return r;
}

#endif
