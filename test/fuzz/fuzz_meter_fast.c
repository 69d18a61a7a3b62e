/* Fuzz target: the MeterValues fast path against the general path.
 * Whenever ocpp_meter_fast_parse takes a frame, ocpp_rpc_decode, the schema
 * (without repairs) and ocpp_meter_parse must take it too and read the same
 * id, connectorId, transactionId and samples (test/meter_fast_diff.h).
 * test/fuzz/meter_fast.dict holds the schema's words for libFuzzer:
 *   ./fuzz_meter_fast_libfuzzer -dict=../test/fuzz/meter_fast.dict corpus/ */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/meter_fast_diff.h"

#define TS "\"timestamp\":\"2026-11-22T10:00:00Z\""

static const char *const seed_texts[] = {
    "[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{" TS
    ",\"sampledValue\":[{\"value\":\"1.5\"}]}]}]",
    "[2,\"1042\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":17,"
    "\"meterValue\":[{\"timestamp\":\"2026-11-22T10:00:00.123+01:00\","
    "\"sampledValue\":[{\"value\":\"13013.2\",\"context\":\"Sample.Periodic\","
    "\"measurand\":\"Energy.Active.Import.Register\",\"location\":\"Outlet\","
    "\"unit\":\"Wh\"},{\"value\":\"15.9\",\"context\":\"Sample.Periodic\","
    "\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"location\":\"Outlet\","
    "\"unit\":\"A\"},{\"value\":\"16.1\",\"measurand\":\"Current.Import\","
    "\"phase\":\"L2\",\"unit\":\"A\"},{\"value\":\"230.1\",\"measurand\":"
    "\"Voltage\",\"phase\":\"L1-N\",\"unit\":\"V\"},{\"value\":\"11.04\","
    "\"measurand\":\"Power.Active.Import\",\"unit\":\"kW\"},{\"value\":\"32\","
    "\"measurand\":\"Current.Offered\",\"format\":\"Raw\"}]}]}]",
    "[2,\"x\",\"MeterValues\",{\"meterValue\":[{\"sampledValue\":[{\"value\":"
    "\"7\",\"location\":\"Inlet\"},{\"value\":\"8\",\"format\":\"SignedData\"}],"
    TS "},{" TS ",\"sampledValue\":[]}],\"connectorId\":0}]",
    "[2,\"\",\"MeterValues\",{\"connectorId\":-1,\"transactionId\":0,"
    "\"meterValue\":[]}]",
    " [ 2 , \"a\" , \"MeterValues\" , { \"connectorId\" : 2 , \"meterValue\" :"
    " [ { \"timestamp\" : \"2024-02-29t23:59:60z\" , \"sampledValue\" : [ {"
    " \"value\" : \"1e3\" , \"unit\" : \"kWh\" } ] } ] } ]\n",
    "[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
    "\"2026-11-22T10:00:00.1234567890Z\",\"sampledValue\":[{\"value\":\"1\"}]}]}]",
    "[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{" TS
    ",\"sampledValue\":[{\"value\":\"1\",\"context\":\"Trigger\",\"phase\":"
    "\"L3-N\",\"measurand\":\"Current.Import\"}]}]}]",
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mfd_result r = meter_fast_diff((const char *)data, size);
  if (r.diff) {
    fprintf(stderr, "fuzz_meter_fast: %s: %.*s\n", r.diff, (int)size,
            (const char *)data);
    abort();
  }
  return 0;
}
