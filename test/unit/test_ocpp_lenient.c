/* Lenient repairs: each rule of ocpp/lenient.c on the schema fault the
 * validator really reports, and faults that must stay CALLERRORs. */
#include <criterion/criterion.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/lenient.h"
#include "ocpp/schema.h"

typedef struct {
  json_t *payload;
  ocpp_schema_fault fault;
  unsigned notes;
  char what[160];
  int rc;
} repair_run;

static json_t *parse(const char *text)
{
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  cr_assert_not_null(j, "bad test JSON: %s", err.text);
  return j;
}

/* Validates text as action/kind of version (it must fail) and repairs the
 * first fault. */
static repair_run repair_once_in(ocpp_version version, const char *action,
                                 ocpp_schema_kind kind, const char *text)
{
  repair_run r = {0};
  r.payload = parse(text);
  cr_assert_eq(ocpp_schema_validate_in(version, action, kind, r.payload,
                                       &r.fault),
               OCPP_ESCHEMA, "test payload is valid already");
  r.rc = ocpp_lenient_repair_in(version, action, kind, r.payload, &r.fault,
                                &r.notes, r.what, sizeof r.what);
  return r;
}

static repair_run repair_once(const char *action, ocpp_schema_kind kind,
                              const char *text)
{
  return repair_once_in(OCPP_VERSION_16, action, kind, text);
}

static void expect_valid_in(ocpp_version version, const char *action,
                            ocpp_schema_kind kind, const repair_run *r)
{
  ocpp_schema_fault f;
  cr_assert_eq(ocpp_schema_validate_in(version, action, kind, r->payload, &f),
               0, "still invalid at %s: %s", f.path, f.message);
}

static void expect_valid_now(const char *action, ocpp_schema_kind kind,
                             const repair_run *r)
{
  expect_valid_in(OCPP_VERSION_16, action, kind, r);
}

static const char *str_at(const json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

/* ---- timestamps ---------------------------------------------------------- */

Test(lenient, timestamp_without_offset_is_read_as_utc)
{
  repair_run r = repair_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\","
    "\"timestamp\":\"2030-01-02T03:04:05\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(r.fault.code, "PropertyConstraintViolation");
  cr_assert_str_eq(str_at(r.payload, "timestamp"), "2030-01-02T03:04:05Z");
  cr_assert_neq(r.what[0], '\0');
  expect_valid_now("StatusNotification", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, timestamp_with_hour_offset_is_converted_to_utc)
{
  repair_run r = repair_once("StartTransaction", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":0,"
    "\"timestamp\":\"2030-01-02T12:00:00+02\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(r.payload, "timestamp"), "2030-01-02T10:00:00Z");
  expect_valid_now("StartTransaction", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, timestamp_that_is_no_time_stays_an_error)
{
  repair_run r = repair_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\","
    "\"timestamp\":\"yesterday\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient, meter_value_timestamp_without_offset_is_repaired)
{
  repair_run r = repair_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-02T03:04:05\","
    "\"sampledValue\":[{\"value\":\"1\"}]}]}");
  cr_assert_eq(r.rc, 0);
  const json_t *mv = json_array_get(json_object_get(r.payload, "meterValue"), 0);
  cr_assert_str_eq(str_at(mv, "timestamp"), "2030-01-02T03:04:05Z");
  expect_valid_now("MeterValues", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

/* ---- over-long identification fields ------------------------------------- */

Test(lenient, long_serial_number_is_cut_to_25)
{
  repair_run r = repair_once("BootNotification", OCPP_SCHEMA_REQUEST,
    "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\","
    "\"chargePointSerialNumber\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(r.payload, "chargePointSerialNumber"),
                   "ABCDEFGHIJKLMNOPQRSTUVWXY");
  expect_valid_now("BootNotification", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, long_firmware_version_is_cut_to_50)
{
  char text[256];
  char fw[61];
  memset(fw, 'f', 60);
  fw[60] = '\0';
  snprintf(text, sizeof text, "{\"chargePointVendor\":\"V\",\"chargePointModel\":"
           "\"M\",\"firmwareVersion\":\"%s\"}", fw);
  repair_run r = repair_once("BootNotification", OCPP_SCHEMA_REQUEST, text);
  cr_assert_eq(r.rc, 0);
  cr_assert_eq(strlen(str_at(r.payload, "firmwareVersion")), 50);
  json_decref(r.payload);
}

Test(lenient, cut_keeps_whole_utf8_characters)
{
  /* 24 ASCII characters, then "é" (2 bytes) and more: 25 characters kept */
  repair_run r = repair_once("BootNotification", OCPP_SCHEMA_REQUEST,
    "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\","
    "\"chargePointSerialNumber\":\"ABCDEFGHIJKLMNOPQRSTUVWX\xc3\xa9YZ0123\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(r.payload, "chargePointSerialNumber"),
                   "ABCDEFGHIJKLMNOPQRSTUVWX\xc3\xa9");
  json_decref(r.payload);
}

Test(lenient, long_id_tag_stays_an_error)
{
  repair_run r = repair_once("Authorize", OCPP_SCHEMA_REQUEST,
    "{\"idTag\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"}");
  cr_assert_str_eq(r.fault.code, "PropertyConstraintViolation");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  cr_assert_str_eq(str_at(r.payload, "idTag"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  json_decref(r.payload);
}

/* ---- enumerations ---------------------------------------------------------- */

Test(lenient, unknown_error_code_becomes_other_error)
{
  repair_run r = repair_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"errorCode\":\"Error\",\"status\":\"Faulted\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(r.payload, "errorCode"), "OtherError");
  expect_valid_now("StatusNotification", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, unknown_status_stays_an_error)
{
  repair_run r = repair_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Foo\"}");
  cr_assert_str_eq(r.fault.code, "PropertyConstraintViolation");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient, unknown_stop_reason_is_dropped)
{
  repair_run r = repair_once("StopTransaction", OCPP_SCHEMA_REQUEST,
    "{\"transactionId\":5,\"meterStop\":10,\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"reason\":\"Unplugged\"}");
  cr_assert_eq(r.rc, 0);
  cr_assert_null(json_object_get(r.payload, "reason"));
  cr_assert_eq(json_integer_value(json_object_get(r.payload, "meterStop")), 10);
  expect_valid_now("StopTransaction", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

/* ---- sampled values ---------------------------------------------------------- */

static const char hz_sample[] =
  "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
  "\"sampledValue\":[{\"value\":\"50\",\"measurand\":\"Frequency\",\"unit\":\"Hz\"},"
  "{\"value\":\"1234\",\"unit\":\"Wh\"}]}]}";

Test(lenient, sample_with_unknown_unit_is_skipped_and_others_kept)
{
  repair_run r = repair_once("MeterValues", OCPP_SCHEMA_REQUEST, hz_sample);
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(r.fault.code, "PropertyConstraintViolation");
  const json_t *sv = json_object_get(
    json_array_get(json_object_get(r.payload, "meterValue"), 0), "sampledValue");
  cr_assert_eq(json_array_size(sv), 1);
  cr_assert_str_eq(str_at(json_array_get(sv, 0), "value"), "1234");
  expect_valid_now("MeterValues", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, sample_with_unknown_measurand_is_skipped)
{
  repair_run r = repair_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":\"1\"},{\"value\":\"2\",\"measurand\":\"Energy\"}]}]}");
  cr_assert_eq(r.rc, 0);
  const json_t *sv = json_object_get(
    json_array_get(json_object_get(r.payload, "meterValue"), 0), "sampledValue");
  cr_assert_eq(json_array_size(sv), 1);
  cr_assert_str_eq(str_at(json_array_get(sv, 0), "value"), "1");
  json_decref(r.payload);
}

Test(lenient, unknown_context_is_dropped_and_sample_kept)
{
  repair_run r = repair_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":\"7\",\"context\":\"Sample.Whatever\"}]}]}");
  cr_assert_eq(r.rc, 0);
  const json_t *s0 = json_array_get(json_object_get(
    json_array_get(json_object_get(r.payload, "meterValue"), 0), "sampledValue"), 0);
  cr_assert_str_eq(str_at(s0, "value"), "7");
  cr_assert_null(json_object_get(s0, "context"));
  expect_valid_now("MeterValues", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, sample_value_of_wrong_type_stays_an_error)
{
  repair_run r = repair_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":12}]}]}");
  cr_assert_str_eq(r.fault.code, "TypeConstraintViolation");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

/* ---- missing meterStop ----------------------------------------------------------- */

Test(lenient, missing_meter_stop_is_filled_and_noted)
{
  repair_run r = repair_once("StopTransaction", OCPP_SCHEMA_REQUEST,
    "{\"transactionId\":5,\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  cr_assert_str_eq(r.fault.code, "OccurenceConstraintViolation");
  cr_assert_eq(r.rc, 0);
  cr_assert(r.notes & OCPP_LENIENT_NO_METER_STOP);
  cr_assert_eq(json_integer_value(json_object_get(r.payload, "meterStop")), 0);
  expect_valid_now("StopTransaction", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient, missing_transaction_id_stays_an_error)
{
  repair_run r = repair_once("StopTransaction", OCPP_SCHEMA_REQUEST,
    "{\"meterStop\":5,\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  cr_assert_str_eq(r.fault.code, "OccurenceConstraintViolation");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  cr_assert_eq(r.notes, 0);
  json_decref(r.payload);
}

Test(lenient, missing_boot_model_stays_an_error)
{
  repair_run r = repair_once("BootNotification", OCPP_SCHEMA_REQUEST,
    "{\"chargePointVendor\":\"V\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

/* ---- answers ---------------------------------------------------------------------- */

Test(lenient, numeric_configuration_value_becomes_text)
{
  repair_run r = repair_once("GetConfiguration", OCPP_SCHEMA_RESPONSE,
    "{\"configurationKey\":[{\"key\":\"ChargeProfileMaxStackLevel\","
    "\"readonly\":true,\"value\":8}]}");
  cr_assert_str_eq(r.fault.code, "TypeConstraintViolation");
  cr_assert_eq(r.rc, 0);
  const json_t *k0 = json_array_get(json_object_get(r.payload, "configurationKey"), 0);
  cr_assert_str_eq(str_at(k0, "value"), "8");
  expect_valid_now("GetConfiguration", OCPP_SCHEMA_RESPONSE, &r);
  json_decref(r.payload);
}

Test(lenient, boolean_configuration_value_becomes_text)
{
  repair_run r = repair_once("GetConfiguration", OCPP_SCHEMA_RESPONSE,
    "{\"configurationKey\":[{\"key\":\"AuthorizeRemoteTxRequests\","
    "\"readonly\":false,\"value\":true}]}");
  cr_assert_eq(r.rc, 0);
  const json_t *k0 = json_array_get(json_object_get(r.payload, "configurationKey"), 0);
  cr_assert_str_eq(str_at(k0, "value"), "true");
  json_decref(r.payload);
}

Test(lenient, configuration_readonly_of_wrong_type_stays_an_error)
{
  repair_run r = repair_once("GetConfiguration", OCPP_SCHEMA_RESPONSE,
    "{\"configurationKey\":[{\"key\":\"K\",\"readonly\":\"yes\",\"value\":\"1\"}]}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient, other_answers_are_never_repaired)
{
  repair_run r = repair_once("ChangeAvailability", OCPP_SCHEMA_RESPONSE,
    "{\"status\":\"Done\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  cr_assert_str_eq(str_at(r.payload, "status"), "Done");
  json_decref(r.payload);
}

Test(lenient, error_code_in_a_status_answer_is_not_repaired)
{
  /* the errorCode rule is for StatusNotification requests only */
  repair_run r = repair_once("StatusNotification", OCPP_SCHEMA_RESPONSE,
    "{\"errorCode\":\"Error\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

/* ---- arguments -------------------------------------------------------------------- */

Test(lenient, null_arguments_are_refused)
{
  ocpp_schema_fault f = {.code = "PropertyConstraintViolation", .path = "x"};
  unsigned notes = 0;
  char what[32];
  json_t *p = json_object();
  cr_assert_eq(ocpp_lenient_repair(NULL, OCPP_SCHEMA_REQUEST, p, &f, &notes,
                                   what, sizeof what), OCPP_EINVAL);
  cr_assert_eq(ocpp_lenient_repair("Heartbeat", OCPP_SCHEMA_REQUEST, NULL, &f,
                                   &notes, what, sizeof what), OCPP_EINVAL);
  cr_assert_eq(ocpp_lenient_repair("Heartbeat", OCPP_SCHEMA_REQUEST, p, NULL,
                                   &notes, what, sizeof what), OCPP_EINVAL);
  cr_assert_eq(ocpp_lenient_repair("Heartbeat", OCPP_SCHEMA_REQUEST, p, &f,
                                   NULL, what, sizeof what), OCPP_EINVAL);
  json_decref(p);
}

Test(lenient, fault_path_outside_the_payload_is_refused)
{
  ocpp_schema_fault f = {.code = "PropertyConstraintViolation"};
  snprintf(f.path, sizeof f.path, "meterValue[3].sampledValue[0].unit");
  unsigned notes = 0;
  char what[64];
  json_t *p = parse("{\"connectorId\":1,\"meterValue\":[]}");
  cr_assert_eq(ocpp_lenient_repair("MeterValues", OCPP_SCHEMA_REQUEST, p, &f,
                                   &notes, what, sizeof what), OCPP_ENOREPAIR);
  cr_assert_eq(json_array_size(json_object_get(p, "meterValue")), 0);
  json_decref(p);
}

/* ---- 2.0.1: the same habits against the 2.0.1 schemas ---------------------------- */

static repair_run repair201_once(const char *action, ocpp_schema_kind kind,
                                 const char *text)
{
  return repair_once_in(OCPP_VERSION_201, action, kind, text);
}

static void expect_valid201(const char *action, ocpp_schema_kind kind,
                            const repair_run *r)
{
  expect_valid_in(OCPP_VERSION_201, action, kind, r);
}

static const json_t *sample201(const json_t *payload, size_t i)
{
  return json_array_get(json_object_get(
    json_array_get(json_object_get(payload, "meterValue"), 0), "sampledValue"), i);
}

Test(lenient201, status_timestamp_without_offset_is_read_as_utc)
{
  repair_run r = repair201_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"timestamp\":\"2030-01-02T03:04:05\",\"connectorStatus\":\"Available\","
    "\"evseId\":1,\"connectorId\":1}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(r.payload, "timestamp"), "2030-01-02T03:04:05Z");
  expect_valid201("StatusNotification", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

static const char tx_event_head[] =
  "{\"eventType\":\"Updated\",\"timestamp\":\"2030-01-01T00:00:00Z\","
  "\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":1,"
  "\"transactionInfo\":{\"transactionId\":\"T1\"";

Test(lenient201, sampled_value_as_a_string_becomes_a_number)
{
  char text[512];
  snprintf(text, sizeof text, "%s},\"meterValue\":[{\"timestamp\":"
           "\"2030-01-01T00:00:00Z\",\"sampledValue\":[{\"value\":\"1234.5\"}]}]}",
           tx_event_head);
  repair_run r = repair201_once("TransactionEvent", OCPP_SCHEMA_REQUEST, text);
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(r.fault.code, "TypeConstraintViolation");
  cr_assert_float_eq(json_number_value(json_object_get(sample201(r.payload, 0),
                                                       "value")), 1234.5, 1e-9);
  expect_valid201("TransactionEvent", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient201, sampled_value_that_is_no_number_stays_an_error)
{
  repair_run r = repair201_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":\"12 kWh\"}]}]}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  cr_assert_str_eq(str_at(sample201(r.payload, 0), "value"), "12 kWh");
  json_decref(r.payload);
  r = repair201_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":\"0x1A\"}]}]}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient201, sample_with_unknown_measurand_is_skipped_and_others_kept)
{
  repair_run r = repair201_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":50,\"measurand\":\"Frequency.Grid\"},"
    "{\"value\":1234}]}]}");
  cr_assert_eq(r.rc, 0);
  cr_assert_eq(json_array_size(json_object_get(json_array_get(
                 json_object_get(r.payload, "meterValue"), 0), "sampledValue")), 1);
  cr_assert_eq(json_number_value(json_object_get(sample201(r.payload, 0), "value")),
               1234);
  expect_valid201("MeterValues", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient201, unknown_context_is_dropped_and_sample_kept)
{
  repair_run r = repair201_once("MeterValues", OCPP_SCHEMA_REQUEST,
    "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"sampledValue\":[{\"value\":7,\"context\":\"Sample.Whatever\"}]}]}");
  cr_assert_eq(r.rc, 0);
  cr_assert_null(json_object_get(sample201(r.payload, 0), "context"));
  expect_valid201("MeterValues", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient201, unknown_stopped_reason_is_dropped)
{
  char text[512];
  snprintf(text, sizeof text, "%s,\"stoppedReason\":\"Unplugged\"}}", tx_event_head);
  repair_run r = repair201_once("TransactionEvent", OCPP_SCHEMA_REQUEST, text);
  cr_assert_eq(r.rc, 0);
  cr_assert_null(json_object_get(json_object_get(r.payload, "transactionInfo"),
                                 "stoppedReason"));
  cr_assert_str_eq(str_at(json_object_get(r.payload, "transactionInfo"),
                          "transactionId"), "T1");
  expect_valid201("TransactionEvent", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient201, unknown_trigger_reason_stays_an_error)
{
  repair_run r = repair201_once("TransactionEvent", OCPP_SCHEMA_REQUEST,
    "{\"eventType\":\"Updated\",\"timestamp\":\"2030-01-01T00:00:00Z\","
    "\"triggerReason\":\"Whenever\",\"seqNo\":1,"
    "\"transactionInfo\":{\"transactionId\":\"T1\"}}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient201, unknown_connector_status_stays_an_error)
{
  repair_run r = repair201_once("StatusNotification", OCPP_SCHEMA_REQUEST,
    "{\"timestamp\":\"2030-01-02T03:04:05Z\",\"connectorStatus\":\"Charging\","
    "\"evseId\":1,\"connectorId\":1}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient201, boot_with_long_serial_and_unknown_reason_is_repaired)
{
  repair_run r = repair201_once("BootNotification", OCPP_SCHEMA_REQUEST,
    "{\"reason\":\"Booted\",\"chargingStation\":{\"model\":\"W1\","
    "\"vendorName\":\"ACME\",\"serialNumber\":\"0123456789012345678901234567\"}}");
  cr_assert_eq(r.rc, 0);
  ocpp_schema_fault f;
  int rounds = 1;
  while (ocpp_schema_validate_in(OCPP_VERSION_201, "BootNotification",
                                 OCPP_SCHEMA_REQUEST, r.payload, &f) == OCPP_ESCHEMA &&
         rounds++ < 4)
    cr_assert_eq(ocpp_lenient_repair_in(OCPP_VERSION_201, "BootNotification",
                                        OCPP_SCHEMA_REQUEST, r.payload, &f,
                                        &r.notes, r.what, sizeof r.what), 0);
  cr_assert_eq(rounds, 2);
  cr_assert_str_eq(str_at(r.payload, "reason"), "Unknown");
  cr_assert_str_eq(str_at(json_object_get(r.payload, "chargingStation"),
                          "serialNumber"), "0123456789012345678901234");
  expect_valid201("BootNotification", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);
}

Test(lenient201, long_model_is_cut_to_20_but_an_id_token_stays_strict)
{
  repair_run r = repair201_once("BootNotification", OCPP_SCHEMA_REQUEST,
    "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":"
    "\"Wallbox with a very long model name\",\"vendorName\":\"ACME\"}}");
  cr_assert_eq(r.rc, 0);
  cr_assert_eq(strlen(str_at(json_object_get(r.payload, "chargingStation"),
                             "model")), 20);
  json_decref(r.payload);
  r = repair201_once("Authorize", OCPP_SCHEMA_REQUEST,
    "{\"idToken\":{\"idToken\":\"0123456789012345678901234567890123456789\","
    "\"type\":\"ISO14443\"}}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient201, numeric_report_and_variable_values_become_text)
{
  repair_run r = repair201_once("NotifyReport", OCPP_SCHEMA_REQUEST,
    "{\"requestId\":1,\"generatedAt\":\"2030-01-01T00:00:00Z\",\"seqNo\":0,"
    "\"reportData\":[{\"component\":{\"name\":\"SmartChargingCtrlr\"},"
    "\"variable\":{\"name\":\"Entries\"},\"variableAttribute\":[{\"value\":3}]}]}");
  cr_assert_eq(r.rc, 0);
  const json_t *attr = json_array_get(json_object_get(json_array_get(
    json_object_get(r.payload, "reportData"), 0), "variableAttribute"), 0);
  cr_assert_str_eq(str_at(attr, "value"), "3");
  expect_valid201("NotifyReport", OCPP_SCHEMA_REQUEST, &r);
  json_decref(r.payload);

  r = repair201_once("GetVariables", OCPP_SCHEMA_RESPONSE,
    "{\"getVariableResult\":[{\"attributeStatus\":\"Accepted\",\"attributeValue\":true,"
    "\"component\":{\"name\":\"AuthCtrlr\"},\"variable\":{\"name\":\"Enabled\"}}]}");
  cr_assert_eq(r.rc, 0);
  cr_assert_str_eq(str_at(json_array_get(json_object_get(r.payload,
                                                         "getVariableResult"), 0),
                          "attributeValue"), "true");
  expect_valid201("GetVariables", OCPP_SCHEMA_RESPONSE, &r);
  json_decref(r.payload);
}

Test(lenient201, other_answers_are_never_repaired)
{
  repair_run r = repair201_once("SetChargingProfile", OCPP_SCHEMA_RESPONSE,
    "{\"status\":\"Done\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}

Test(lenient201, the_16_rules_do_not_apply_to_201_fields)
{
  /* 2.0.1 has no errorCode in StatusNotification: no OtherError invented */
  repair_run r = repair201_once("SecurityEventNotification", OCPP_SCHEMA_REQUEST,
    "{\"type\":\"0123456789012345678901234567890123456789012345678901234\","
    "\"timestamp\":\"2030-01-01T00:00:00Z\"}");
  cr_assert_eq(r.rc, OCPP_ENOREPAIR);
  json_decref(r.payload);
}
