/* Repairs for the ways real chargers break the OCPP 1.6 and 2.0.1 schemas
 * where the message is still usable and nothing is lost by fixing it:
 * timestamps without offset, over-long vendor strings, unknown error codes
 * and stop reasons, samples with impossible units or measurands, values of
 * the wrong JSON type (configuration values as numbers, 2.0.1 sampled
 * values as strings), a missing meterStop. Pure code. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_LENIENT_H
#define OCPPKNX_OCPP_LENIENT_H

#include <stddef.h>

#include <jansson.h>

#include "ocpp/schema.h"

/* A payload gets at most this many repairs before it counts as broken. */
#define OCPP_LENIENT_MAX_REPAIRS 16

/* Notes a repair leaves for the handler. */
enum {
  OCPP_LENIENT_NO_METER_STOP = 1u << 0  /* meterStop was missing; the 0 put
                                           in its place means "unknown" */
};

/* Tries to repair the violation in fault by changing payload in place.
 * Returns 0 when repaired (what describes it, notes may gain a flag),
 * OCPP_EINVAL (NULL argument, fault without code), OCPP_ENOMEM, or
 * OCPP_ENOREPAIR when the violation must be answered with a CALLERROR. */
int ocpp_lenient_repair(const char *action, ocpp_schema_kind kind,
                        json_t *payload, const ocpp_schema_fault *fault,
                        unsigned *notes, char *what, size_t what_len);
/* The same for the schemas of version (1.6 or 2.0.1). */
int ocpp_lenient_repair_in(ocpp_version version, const char *action,
                           ocpp_schema_kind kind, json_t *payload,
                           const ocpp_schema_fault *fault, unsigned *notes,
                           char *what, size_t what_len);

#endif
