/* Fuzz target: the schema validator and the lenient repairs.
 *
 * Input: an action name, a newline, a JSON payload. The payload is
 * validated as the action's request and as its response, against the 1.6
 * and against the 2.0.1 schemas; when invalid, it
 * is repaired as the session does (at most OCPP_LENIENT_MAX_REPAIRS
 * rounds) and validated again. Invariants (abort() when broken):
 * - a fault has a code, and its path and message are NUL-terminated UTF-8
 *   (they end up in a CALLERROR, which must be valid JSON text);
 * - an action is validated iff ocpp_schema_known_action() knows it;
 * - a repair that claims success leaves a payload that is an object, dumps
 *   and loads back as an equal value, and says what it did;
 * - a repaired payload that validates still validates after a dump and
 *   load round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/lenient.h"
#include "ocpp/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(size_t index, const uint8_t **data);

static const char *const seed_texts[] = {
  "TransactionEvent\n{\"eventType\":\"Updated\",\"timestamp\":"
  "\"2030-01-01T10:00:00\",\"triggerReason\":\"MeterValuePeriodic\","
  "\"seqNo\":5,\"transactionInfo\":{\"transactionId\":\"T1\","
  "\"stoppedReason\":\"Unplugged\"},\"meterValue\":[{\"timestamp\":"
  "\"2030-01-01T10:00:00+02\",\"sampledValue\":[{\"value\":\"1750\"},"
  "{\"value\":5,\"measurand\":\"Frequency.Grid\"}]}]}",
  "BootNotification\n{\"reason\":\"Booted\",\"chargingStation\":{"
  "\"model\":\"Wallbox with a very long model name\",\"vendorName\":\"ACME\","
  "\"serialNumber\":\"0123456789012345678901234567\"}}",
  "NotifyReport\n{\"requestId\":1,\"generatedAt\":\"2030-01-01T00:00:00Z\","
  "\"seqNo\":0,\"reportData\":[{\"component\":{\"name\":\"C\"},"
  "\"variable\":{\"name\":\"V\"},\"variableAttribute\":[{\"value\":3}]}]}",
  "BootNotification\n{\"chargePointVendor\":\"Schneider Electric\","
  "\"chargePointModel\":\"EVlink\",\"chargePointSerialNumber\":"
  "\"EVB1A22P4RI3N1234567890123456\",\"firmwareVersion\":\"3.3.0.12\"}",
  "StatusNotification\n{\"connectorId\":1,\"errorCode\":\"Error\","
  "\"status\":\"Faulted\",\"timestamp\":\"2026-11-22T10:00:00\"}",
  "StatusNotification\n{\"connectorId\":0,\"errorCode\":\"NoError\","
  "\"status\":\"Available\",\"timestamp\":\"2026-11-22T10:00:00+02\"}",
  "MeterValues\n{\"connectorId\":1,\"transactionId\":7,\"meterValue\":[{"
  "\"timestamp\":\"2026-11-22T10:00:00Z\",\"sampledValue\":[{\"value\":"
  "\"50.0\",\"measurand\":\"Frequency\",\"unit\":\"Hz\"},{\"value\":"
  "\"1234\",\"context\":\"Sample.Clock\",\"unit\":\"Wh\"},{\"value\":\"16\","
  "\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"}]}]}",
  "MeterValues\n{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
  "\"2026-11-22T10:00:00Z\",\"sampledValue\":[{\"value\":\"1\","
  "\"context\":\"Trigger.Bogus\",\"location\":\"Body\"}]}]}",
  "StopTransaction\n{\"transactionId\":-1,\"timestamp\":"
  "\"2026-11-22T11:00:00Z\",\"reason\":\"Unknown\",\"transactionData\":[{"
  "\"timestamp\":\"2026-11-22T11:00:00Z\",\"sampledValue\":[{\"value\":"
  "\"9000\"}]}]}",
  "StartTransaction\n{\"connectorId\":1,\"idTag\":\"04A1B2C3D4E5F6\","
  "\"meterStart\":1200,\"timestamp\":\"2026-11-22T10:00:00.123Z\","
  "\"reservationId\":3}",
  "GetConfiguration\n{\"configurationKey\":[{\"key\":"
  "\"MeterValueSampleInterval\",\"readonly\":false,\"value\":60},{\"key\":"
  "\"AuthorizeRemoteTxRequests\",\"readonly\":true,\"value\":true}],"
  "\"unknownKey\":[\"Foo\"]}",
  "SetChargingProfile\n{\"connectorId\":0,\"csChargingProfiles\":{"
  "\"chargingProfileId\":1,\"stackLevel\":0,\"chargingProfilePurpose\":"
  "\"ChargePointMaxProfile\",\"chargingProfileKind\":\"Relative\","
  "\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
  "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10.2}]}}}",
  "DataTransfer\n{\"vendorId\":\"com.example\",\"messageId\":\"x\","
  "\"data\":\"\xc3\xa9t\xc3\xa9\"}",
  "Authorize\n{\"idTag\":\"0123456789012345678901\"}",
  "UpdateFirmware\n{\"location\":\"ftp://host/fw.bin\",\"retrieveDate\":"
  "\"2026-11-22T10:00:00Z\",\"retries\":3}",
  "SendLocalList\n{\"listVersion\":2,\"updateType\":\"Full\","
  "\"localAuthorizationList\":[{\"idTag\":\"A\",\"idTagInfo\":{\"status\":"
  "\"Accepted\",\"expiryDate\":\"2030-01-01T00:00:00Z\"}}]}",
};

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  if (index >= sizeof seed_texts / sizeof seed_texts[0]) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seed_texts[index];
  return strlen(seed_texts[index]);
}

static void check_text(const char *s, size_t cap)
{
  if (!memchr(s, '\0', cap))
    abort();
  json_t *j = json_string(s); /* NULL when not UTF-8 */
  if (!j)
    abort();
  json_decref(j);
}

static void check_fault(const ocpp_schema_fault *f)
{
  if (!f->code || !*f->code)
    abort();
  check_text(f->path, sizeof f->path);
  check_text(f->message, sizeof f->message);
}

/* The payload dumps and loads back as an equal value. */
static json_t *round_trip(const json_t *payload)
{
  char *text = json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(17));
  if (!text)
    abort();
  json_error_t err;
  json_t *again = json_loads(text, 0, &err);
  free(text);
  if (!again || !json_equal(again, payload))
    abort();
  return again;
}

static void check_kind(ocpp_version version, const char *action,
                       ocpp_schema_kind kind, const json_t *original,
                       bool known)
{
  json_t *payload = json_deep_copy(original);
  if (!payload)
    return;
  ocpp_schema_fault fault;
  int rc = ocpp_schema_validate_in(version, action, kind, payload, &fault);
  if ((rc == OCPP_ENOACTION) == known)
    abort();
  if (rc == OCPP_ESCHEMA)
    check_fault(&fault);
  else if (rc != 0 && rc != OCPP_ENOACTION)
    abort();
  /* validation does not change the payload */
  if (!json_equal(payload, original))
    abort();

  unsigned notes = 0;
  for (int round = 0; rc == OCPP_ESCHEMA &&
                      round < OCPP_LENIENT_MAX_REPAIRS; round++) {
    char what[160];
    if (ocpp_lenient_repair_in(version, action, kind, payload, &fault,
                               &notes, what, sizeof what) != 0)
      break;
    if (!json_is_object(payload) || !what[0])
      abort();
    check_text(what, sizeof what);
    json_decref(round_trip(payload));
    rc = ocpp_schema_validate_in(version, action, kind, payload, &fault);
    if (rc == OCPP_ESCHEMA)
      check_fault(&fault);
    else if (rc != 0)
      abort();
  }
  if (notes & ~(unsigned)OCPP_LENIENT_NO_METER_STOP)
    abort();
  if ((notes & OCPP_LENIENT_NO_METER_STOP) &&
      (kind != OCPP_SCHEMA_REQUEST || version != OCPP_VERSION_16 ||
       strcmp(action, "StopTransaction") != 0))
    abort();
  if (rc == 0) {
    json_t *again = round_trip(payload);
    if (ocpp_schema_validate_in(version, action, kind, again, NULL) != 0)
      abort();
    json_decref(again);
  }
  json_decref(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr(data, '\n', size);
  if (!nl)
    return 0;
  size_t alen = (size_t)(nl - data);
  char action[80];
  if (alen >= sizeof action || memchr(data, '\0', alen))
    return 0;
  memcpy(action, data, alen);
  action[alen] = '\0';

  const char *text = (const char *)nl + 1;
  size_t len = size - alen - 1;
  json_error_t err;
  json_t *payload = json_loadb(text, len, JSON_DECODE_ANY, &err);
  if (!payload)
    return 0;
  static const ocpp_version versions[] = {OCPP_VERSION_16, OCPP_VERSION_201};
  for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
    bool known = ocpp_schema_known_action_in(versions[v], action);
    check_kind(versions[v], action, OCPP_SCHEMA_REQUEST, payload, known);
    /* a response schema exists for every request schema */
    check_kind(versions[v], action, OCPP_SCHEMA_RESPONSE, payload, known);
  }
  bool known = ocpp_schema_known_action(action);
  /* a NULL payload is a fault, never a crash */
  ocpp_schema_fault fault;
  int rc = ocpp_schema_validate(action, OCPP_SCHEMA_REQUEST, NULL, &fault);
  if (known ? rc != OCPP_ESCHEMA : rc != OCPP_ENOACTION)
    abort();
  json_decref(payload);
  return 0;
}
