/* The MeterValues fast path: one pass over a frame's bytes with a SAX
 * parser, no JSON tree. Pure code: bytes in, decoded samples out.
 * Internal to ocpp/.
 *
 * ocpp_meter_fast_parse takes only what the general path (ocpp_rpc_decode,
 * ocpp_schema_validate without any lenient repair, ocpp_meter_parse) would
 * take without a fault, and gives exactly the samples it would give; it
 * declines everything else, and the caller then goes the general way.
 * Declined on purpose, though some are valid: a frame with any backslash,
 * byte >= 0x80 or control character other than tab, CR and LF; a type id
 * written other than 2; numbers of more than 18 digits; duplicate keys;
 * more than OCPP_METER_FAST_MAX meterValue elements; values or timestamps
 * longer than their buffers. */
#ifndef OCPPKNX_OCPP_METER_FAST_H
#define OCPPKNX_OCPP_METER_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocpp/codec.h"
#include "ocpp/rpc.h"

#define OCPP_METER_FAST_MAX 16        /* meterValue elements */

/* One element of meterValue (or transactionData) decoded. */
typedef struct {
  ocpp_meter_sample sample;   /* context points to a static string */
  bool ok;                    /* ocpp_meter_parse returned 0 (a timestamp
                                 it reads); else sample is its empty one */
} ocpp_meter_item;

/* A MeterValues CALL. */
typedef struct ocpp_meter_fast {
  char id[OCPP_RPC_ID_MAX + 1];
  size_t id_len;
  int64_t connector_id;       /* as json_integer_value would read it */
  bool has_transaction_id;
  int64_t transaction_id;
  size_t n_values;
  ocpp_meter_item values[OCPP_METER_FAST_MAX];
} ocpp_meter_fast;

/* true with *out filled when text[0..len) is such a MeterValues CALL;
 * false (out undefined) when the general path must read it. */
bool ocpp_meter_fast_parse(const char *text, size_t len, ocpp_meter_fast *out);

#endif
