/* Fuzz target: OCPP-J frame decoder and encoders. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/rpc.h"

static const char *const seed_texts[] = {
    "[2,\"19223201\",\"BootNotification\",{\"chargePointVendor\":\"V\","
    "\"chargePointModel\":\"M\"}]",
    "[2,\"1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
    "\"2026-11-22T10:00:00Z\",\"sampledValue\":[{\"value\":\"1.5\"}]}]}]",
    "[3,\"abc\",{\"status\":\"Accepted\",\"currentTime\":\"2026-11-22T10:00:00Z\"}]",
    "[4,\"abc\",\"NotImplemented\",\"unknown action\",{}]",
    "[4,\"abc\",\"GenericError\",\"\"]",
    "[5,\"x\"]",
    "[2.0,\"1\",\"Heartbeat\",{}]",
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

static char *encode_again(const ocpp_rpc_frame *f) {
  switch (f->type) {
  case OCPP_RPC_CALL: return ocpp_rpc_encode_call(f->id, f->action, f->payload);
  case OCPP_RPC_RESULT: return ocpp_rpc_encode_result(f->id, f->payload);
  case OCPP_RPC_ERROR:
    return ocpp_rpc_encode_error(f->id, f->error_code, f->error_description,
                                 NULL);
  }
  abort();
}

/* A decoded frame, encoded again, decodes to the same frame. */
static void check_round_trip(const ocpp_rpc_frame *f) {
  char *text = encode_again(f);
  if (!text) abort();
  ocpp_rpc_frame g;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, strlen(text), &g, &fault) != 0) abort();
  if (g.type != f->type || strcmp(g.id, f->id) != 0 ||
      strcmp(g.action, f->action) != 0)
    abort();
  if (f->payload && !json_equal(f->payload, g.payload)) abort();
  if (f->type == OCPP_RPC_ERROR &&
      (strcmp(f->error_code, g.error_code) != 0 ||
       strcmp(f->error_description, g.error_description) != 0))
    abort();
  ocpp_rpc_frame_finish(&g);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  int rc = ocpp_rpc_decode((const char *)data, size, &f, &fault);
  if (rc == 0) {
    check_round_trip(&f);
    ocpp_rpc_frame_finish(&f);
    return 0;
  }
  if (rc != OCPP_EFORMAT || !fault.code) abort();
  if (memchr(fault.message, '\0', sizeof fault.message) == NULL) abort();
  if (fault.has_id && strlen(fault.id) > OCPP_RPC_ID_MAX) abort();
  /* The server answers with the fault as it is: that must always encode. */
  char *answer = ocpp_rpc_encode_error(fault.has_id ? fault.id : "-1",
                                       fault.code, fault.message, NULL);
  if (!answer) abort();
  free(answer);
  return 0;
}
