/* Validation of OCPP 1.6 payloads against the compiled schema table. */
#include <sys/stat.h>
#include <dirent.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/schema.h"

#define TS "\"2024-05-01T12:00:00Z\""

#define CODE_TYPE "TypeConstraintViolation"
#define CODE_PROPERTY "PropertyConstraintViolation"
#define CODE_OCCURENCE "OccurenceConstraintViolation"

/* Written by hand from the OCPP 1.6 specification, independently of the
 * table, so a missing or extra table entry shows up. */
static const char *const ocpp16_actions[] = {
  "Authorize", "BootNotification", "CancelReservation", "ChangeAvailability",
  "ChangeConfiguration", "ClearCache", "ClearChargingProfile", "DataTransfer",
  "DiagnosticsStatusNotification", "FirmwareStatusNotification",
  "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics",
  "GetLocalListVersion", "Heartbeat", "MeterValues", "RemoteStartTransaction",
  "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
  "SetChargingProfile", "StartTransaction", "StatusNotification",
  "StopTransaction", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
};
#define N_ACTIONS (sizeof ocpp16_actions / sizeof ocpp16_actions[0])

/* ---- helpers ------------------------------------------------------------ */

static json_t *parse(const char *text) {
  json_error_t error;
  json_t *json = json_loads(text, JSON_ALLOW_NUL, &error);
  cr_assert_not_null(json, "test JSON does not parse: %s: %s", error.text, text);
  return json;
}

static int validate_text(const char *action, ocpp_schema_kind kind,
                         const char *text, ocpp_schema_fault *fault) {
  json_t *payload = parse(text);
  int rc = ocpp_schema_validate(action, kind, payload, fault);
  json_decref(payload);
  return rc;
}

static void expect_valid(const char *action, ocpp_schema_kind kind,
                         const char *text) {
  ocpp_schema_fault fault = {0};
  int rc = validate_text(action, kind, text, &fault);
  cr_expect_eq(rc, 0, "%s rejected: %s at %s: %s", action,
               fault.code ? fault.code : "-", fault.path, fault.message);
}

static void expect_fault(const char *action, ocpp_schema_kind kind,
                         const char *text, const char *code,
                         const char *path, ocpp_schema_fault *out) {
  ocpp_schema_fault fault = {0};
  int rc = validate_text(action, kind, text, &fault);
  cr_assert_eq(rc, OCPP_ESCHEMA, "%s accepted: %s", action, text);
  cr_assert_not_null(fault.code);
  cr_expect_str_eq(fault.code, code, "%s: %s (%s)", action, fault.code,
                   fault.message);
  cr_expect_str_eq(fault.path, path);
  if (out) *out = fault;
}

#define REQ OCPP_SCHEMA_REQUEST
#define CONF OCPP_SCHEMA_RESPONSE

/* ---- minimal payloads of all 28 actions --------------------------------- */

typedef struct {
  const char *action;
  const char *request;
  const char *response;
} minimal_case;

static const minimal_case minimal_cases[] = {
  {"Authorize", "{\"idTag\":\"ABC\"}", "{\"idTagInfo\":{\"status\":\"Accepted\"}}"},
  {"BootNotification", "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}",
   "{\"status\":\"Accepted\",\"currentTime\":" TS ",\"interval\":300}"},
  {"CancelReservation", "{\"reservationId\":1}", "{\"status\":\"Accepted\"}"},
  {"ChangeAvailability", "{\"connectorId\":0,\"type\":\"Inoperative\"}",
   "{\"status\":\"Scheduled\"}"},
  {"ChangeConfiguration", "{\"key\":\"HeartbeatInterval\",\"value\":\"300\"}",
   "{\"status\":\"RebootRequired\"}"},
  {"ClearCache", "{}", "{\"status\":\"Accepted\"}"},
  {"ClearChargingProfile", "{}", "{\"status\":\"Unknown\"}"},
  {"DataTransfer", "{\"vendorId\":\"com.example\"}", "{\"status\":\"UnknownVendorId\"}"},
  {"DiagnosticsStatusNotification", "{\"status\":\"Idle\"}", "{}"},
  {"FirmwareStatusNotification", "{\"status\":\"Installed\"}", "{}"},
  {"GetCompositeSchedule", "{\"connectorId\":1,\"duration\":3600}",
   "{\"status\":\"Rejected\"}"},
  {"GetConfiguration", "{}", "{}"},
  {"GetDiagnostics", "{\"location\":\"ftp://diag.example/upload\"}", "{}"},
  {"GetLocalListVersion", "{}", "{\"listVersion\":0}"},
  {"Heartbeat", "{}", "{\"currentTime\":" TS "}"},
  {"MeterValues",
   "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":" TS
   ",\"sampledValue\":[{\"value\":\"10\"}]}]}",
   "{}"},
  {"RemoteStartTransaction", "{\"idTag\":\"ABC\"}", "{\"status\":\"Accepted\"}"},
  {"RemoteStopTransaction", "{\"transactionId\":5}", "{\"status\":\"Rejected\"}"},
  {"ReserveNow",
   "{\"connectorId\":1,\"expiryDate\":" TS ",\"idTag\":\"ABC\",\"reservationId\":3}",
   "{\"status\":\"Occupied\"}"},
  {"Reset", "{\"type\":\"Soft\"}", "{\"status\":\"Accepted\"}"},
  {"SendLocalList", "{\"listVersion\":1,\"updateType\":\"Full\"}",
   "{\"status\":\"VersionMismatch\"}"},
  {"SetChargingProfile",
   "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,"
   "\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
   "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
   "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[]}}}",
   "{\"status\":\"NotSupported\"}"},
  {"StartTransaction",
   "{\"connectorId\":1,\"idTag\":\"ABC\",\"meterStart\":0,\"timestamp\":" TS "}",
   "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":1}"},
  {"StatusNotification",
   "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\"}", "{}"},
  {"StopTransaction", "{\"meterStop\":100,\"timestamp\":" TS ",\"transactionId\":1}",
   "{}"},
  {"TriggerMessage", "{\"requestedMessage\":\"Heartbeat\"}",
   "{\"status\":\"NotImplemented\"}"},
  {"UnlockConnector", "{\"connectorId\":1}", "{\"status\":\"Unlocked\"}"},
  {"UpdateFirmware",
   "{\"location\":\"https://fw.example/f.bin\",\"retrieveDate\":" TS "}", "{}"},
};

/* Criterion may run a test in a fresh process image, so parameters carry
 * indices into the static tables rather than pointers. */
static void index_params_free(struct criterion_test_params *params) {
  cr_free(params->params);
}

static struct criterion_test_params index_params(size_t count) {
  size_t *indices = cr_malloc(count * sizeof *indices);
  for (size_t i = 0; i < count; i++) indices[i] = i;
  return cr_make_param_array(size_t, indices, count, index_params_free);
}

#define N_MINIMAL (sizeof minimal_cases / sizeof minimal_cases[0])

ParameterizedTestParameters(schema, minimal_request_is_valid) {
  return index_params(N_MINIMAL);
}

ParameterizedTest(size_t *i, schema, minimal_request_is_valid) {
  expect_valid(minimal_cases[*i].action, REQ, minimal_cases[*i].request);
}

ParameterizedTestParameters(schema, minimal_response_is_valid) {
  return index_params(N_MINIMAL);
}

ParameterizedTest(size_t *i, schema, minimal_response_is_valid) {
  expect_valid(minimal_cases[*i].action, CONF, minimal_cases[*i].response);
}

Test(schema, minimal_cases_cover_all_28_actions) {
  cr_assert_eq(N_MINIMAL, N_ACTIONS);
  for (size_t i = 0; i < N_ACTIONS; i++)
    cr_expect_str_eq(minimal_cases[i].action, ocpp16_actions[i]);
}

/* An empty object lacks the required properties of every action that has
 * some, which shows the request and response schemas are really consulted. */
Test(schema, empty_payload_misses_required_property) {
  ocpp_schema_fault fault;
  cr_expect_eq(validate_text("StatusNotification", REQ, "{}", &fault),
               OCPP_ESCHEMA);
  cr_expect_eq(validate_text("CancelReservation", CONF, "{}", &fault),
               OCPP_ESCHEMA);
}

Test(schema, request_is_not_valid_as_response) {
  expect_fault("BootNotification", CONF,
               "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}",
               CODE_OCCURENCE, "status", NULL);
}

/* ---- action lookup ------------------------------------------------------ */

Test(schema, every_ocpp16_action_is_known) {
  for (size_t i = 0; i < N_ACTIONS; i++)
    cr_expect(ocpp_schema_known_action(ocpp16_actions[i]), "%s", ocpp16_actions[i]);
}

Test(schema, security_whitepaper_and_misspelt_actions_are_unknown) {
  cr_expect_not(ocpp_schema_known_action("CertificateSigned"));
  cr_expect_not(ocpp_schema_known_action("SignedUpdateFirmware"));
  cr_expect_not(ocpp_schema_known_action("heartbeat"));
  cr_expect_not(ocpp_schema_known_action("HeartbeatResponse"));
  cr_expect_not(ocpp_schema_known_action(""));
  cr_expect_not(ocpp_schema_known_action(NULL));
}

Test(schema, unknown_action_returns_eunknown) {
  ocpp_schema_fault fault;
  cr_expect_eq(validate_text("Reboot", REQ, "{}", &fault), OCPP_ENOACTION);
  cr_expect_eq(validate_text("CertificateSigned", CONF, "{}", &fault),
               OCPP_ENOACTION);
  cr_expect_eq(validate_text(NULL, REQ, "{}", &fault), OCPP_EINVAL);
}

/* ---- BootNotification --------------------------------------------------- */

#define BOOT_WITH(extra) \
  "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"" extra "}"

Test(schema, boot_missing_vendor_is_occurence_violation) {
  ocpp_schema_fault fault;
  expect_fault("BootNotification", REQ, "{\"chargePointModel\":\"M\"}",
               CODE_OCCURENCE, "chargePointVendor", &fault);
  cr_expect_str_eq(fault.message, "chargePointVendor: required property is missing");
}

Test(schema, boot_serial_of_26_chars_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("BootNotification", REQ,
               BOOT_WITH(",\"chargePointSerialNumber\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\""),
               CODE_PROPERTY, "chargePointSerialNumber", &fault);
  cr_expect_str_eq(fault.message,
                   "chargePointSerialNumber: 26 characters, at most 25 allowed");
}

Test(schema, boot_serial_of_25_chars_is_valid) {
  expect_valid("BootNotification", REQ,
               BOOT_WITH(",\"chargePointSerialNumber\":\"ABCDEFGHIJKLMNOPQRSTUVWXY\""));
}

Test(schema, boot_additional_property_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("BootNotification", REQ, BOOT_WITH(",\"chargePointColour\":\"red\""),
               CODE_PROPERTY, "chargePointColour", &fault);
  cr_expect_str_eq(fault.message, "chargePointColour: property is not allowed");
}

Test(schema, boot_vendor_as_number_is_type_violation) {
  ocpp_schema_fault fault;
  expect_fault("BootNotification", REQ,
               "{\"chargePointVendor\":7,\"chargePointModel\":\"M\"}", CODE_TYPE,
               "chargePointVendor", &fault);
  cr_expect_str_eq(fault.message, "chargePointVendor: expected string, got integer");
}

Test(schema, boot_response_interval_as_string_is_type_violation) {
  expect_fault("BootNotification", CONF,
               "{\"status\":\"Accepted\",\"currentTime\":" TS ",\"interval\":\"300\"}",
               CODE_TYPE, "interval", NULL);
}

Test(schema, boot_response_bad_current_time_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("BootNotification", CONF,
               "{\"status\":\"Accepted\",\"currentTime\":\"yesterday\",\"interval\":300}",
               CODE_PROPERTY, "currentTime", &fault);
  cr_expect_str_eq(fault.message,
                   "currentTime: \"yesterday\" is not an RFC 3339 date-time");
}

/* ---- StatusNotification ------------------------------------------------- */

#define STATUS(connector, error_code, extra)                                 \
  "{\"connectorId\":" connector ",\"errorCode\":\"" error_code                 \
  "\",\"status\":\"Available\"" extra "}"

Test(schema, status_full_payload_is_valid) {
  expect_valid("StatusNotification", REQ,
               STATUS("1", "OtherError",
                      ",\"info\":\"x\",\"timestamp\":" TS
                      ",\"vendorId\":\"v\",\"vendorErrorCode\":\"E1\""));
}

Test(schema, status_error_code_error_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("StatusNotification", REQ, STATUS("1", "Error", ""), CODE_PROPERTY,
               "errorCode", &fault);
  cr_expect_str_eq(fault.message, "errorCode: \"Error\" is not one of the allowed values");
}

Test(schema, status_enum_is_case_sensitive) {
  expect_fault("StatusNotification", REQ, STATUS("1", "noError", ""), CODE_PROPERTY,
               "errorCode", NULL);
}

Test(schema, status_connector_as_string_is_type_violation) {
  ocpp_schema_fault fault;
  expect_fault("StatusNotification", REQ, STATUS("\"1\"", "NoError", ""), CODE_TYPE,
               "connectorId", &fault);
  cr_expect_str_eq(fault.message, "connectorId: expected integer, got string");
}

Test(schema, status_connector_as_fraction_is_type_violation) {
  ocpp_schema_fault fault;
  expect_fault("StatusNotification", REQ, STATUS("1.5", "NoError", ""), CODE_TYPE,
               "connectorId", &fault);
  cr_expect_str_eq(fault.message, "connectorId: expected integer, got number");
}

Test(schema, status_connector_as_whole_real_is_type_violation) {
  expect_fault("StatusNotification", REQ, STATUS("1.0", "NoError", ""), CODE_TYPE,
               "connectorId", NULL);
}

Test(schema, status_connector_null_is_type_violation) {
  expect_fault("StatusNotification", REQ, STATUS("null", "NoError", ""), CODE_TYPE,
               "connectorId", NULL);
}

Test(schema, status_timestamp_without_offset_is_property_violation) {
  expect_fault("StatusNotification", REQ,
               STATUS("1", "NoError", ",\"timestamp\":\"2024-05-01T12:00:00\""),
               CODE_PROPERTY, "timestamp", NULL);
}

/* ---- StartTransaction / StopTransaction --------------------------------- */

Test(schema, start_transaction_missing_meter_start_is_occurence_violation) {
  expect_fault("StartTransaction", REQ,
               "{\"connectorId\":1,\"idTag\":\"ABC\",\"timestamp\":" TS "}",
               CODE_OCCURENCE, "meterStart", NULL);
}

Test(schema, start_transaction_meter_start_as_float_is_type_violation) {
  expect_fault("StartTransaction", REQ,
               "{\"connectorId\":1,\"idTag\":\"ABC\",\"meterStart\":12.5,"
               "\"timestamp\":" TS "}",
               CODE_TYPE, "meterStart", NULL);
}

Test(schema, start_transaction_id_tag_of_21_chars_is_property_violation) {
  expect_fault("StartTransaction", REQ,
               "{\"connectorId\":1,\"idTag\":\"123456789012345678901\","
               "\"meterStart\":0,\"timestamp\":" TS "}",
               CODE_PROPERTY, "idTag", NULL);
}

Test(schema, start_transaction_response_bad_status_has_nested_path) {
  expect_fault("StartTransaction", CONF,
               "{\"idTagInfo\":{\"status\":\"OK\"},\"transactionId\":1}",
               CODE_PROPERTY, "idTagInfo.status", NULL);
}

#define STOP_WITH_DATA(data)                                                  \
  "{\"meterStop\":100,\"timestamp\":" TS ",\"transactionId\":1,"              \
  "\"reason\":\"EVDisconnected\",\"transactionData\":" data "}"

Test(schema, stop_transaction_with_transaction_data_is_valid) {
  expect_valid("StopTransaction", REQ,
               STOP_WITH_DATA("[{\"timestamp\":" TS ",\"sampledValue\":[{\"value\":"
                              "\"100\",\"context\":\"Transaction.End\",\"format\":"
                              "\"Raw\",\"measurand\":\"Energy.Active.Import.Register\","
                              "\"location\":\"Outlet\",\"unit\":\"Wh\"}]}]"));
}

Test(schema, stop_transaction_bad_unit_in_transaction_data_has_nested_path) {
  expect_fault("StopTransaction", REQ,
               STOP_WITH_DATA("[{\"timestamp\":" TS ",\"sampledValue\":[{\"value\":"
                              "\"1\",\"unit\":\"Hz\"}]}]"),
               CODE_PROPERTY, "transactionData[0].sampledValue[0].unit", NULL);
}

Test(schema, stop_transaction_unknown_reason_is_property_violation) {
  expect_fault("StopTransaction", REQ,
               "{\"meterStop\":1,\"timestamp\":" TS ",\"transactionId\":1,"
               "\"reason\":\"Unplugged\"}",
               CODE_PROPERTY, "reason", NULL);
}

/* ---- MeterValues -------------------------------------------------------- */

#define METER(values)                                                       \
  "{\"connectorId\":1,\"transactionId\":7,\"meterValue\":" values "}"

Test(schema, meter_values_bad_unit_reports_full_path) {
  ocpp_schema_fault fault;
  expect_fault("MeterValues", REQ,
               METER("[{\"timestamp\":" TS ",\"sampledValue\":[{\"value\":\"230\","
                     "\"unit\":\"V\"},{\"value\":\"50\",\"unit\":\"Hz\"}]}]"),
               CODE_PROPERTY, "meterValue[0].sampledValue[1].unit", &fault);
  cr_expect_str_eq(fault.message, "unit: \"Hz\" is not one of the allowed values");
}

Test(schema, meter_values_missing_timestamp_in_second_item_is_occurence) {
  expect_fault("MeterValues", REQ,
               METER("[{\"timestamp\":" TS ",\"sampledValue\":[]},"
                     "{\"sampledValue\":[]}]"),
               CODE_OCCURENCE, "meterValue[1].timestamp", NULL);
}

Test(schema, meter_values_sampled_value_object_is_type_violation) {
  expect_fault("MeterValues", REQ,
               METER("[{\"timestamp\":" TS ",\"sampledValue\":{\"value\":\"1\"}}]"),
               CODE_TYPE, "meterValue[0].sampledValue", NULL);
}

Test(schema, meter_values_numeric_value_is_type_violation) {
  expect_fault("MeterValues", REQ,
               METER("[{\"timestamp\":" TS ",\"sampledValue\":[{\"value\":230}]}]"),
               CODE_TYPE, "meterValue[0].sampledValue[0].value", NULL);
}

Test(schema, meter_values_unknown_property_in_sample_is_property_violation) {
  expect_fault("MeterValues", REQ,
               METER("[{\"timestamp\":" TS ",\"sampledValue\":[{\"value\":\"1\","
                     "\"quality\":\"good\"}]}]"),
               CODE_PROPERTY, "meterValue[0].sampledValue[0].quality", NULL);
}

Test(schema, meter_values_item_that_is_not_an_object_is_type_violation) {
  expect_fault("MeterValues", REQ, METER("[\"reading\"]"), CODE_TYPE,
               "meterValue[0]", NULL);
}

/* ---- SetChargingProfile ------------------------------------------------- */

#define PROFILE(periods, extra)                                               \
  "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":12,"      \
  "\"transactionId\":5,\"stackLevel\":1,\"chargingProfilePurpose\":"          \
  "\"TxProfile\",\"chargingProfileKind\":\"Recurring\",\"recurrencyKind\":"   \
  "\"Daily\",\"validFrom\":" TS ",\"validTo\":\"2025-01-01T00:00:00.000+01:00\"," \
  "\"chargingSchedule\":{\"duration\":86400,\"startSchedule\":" TS ","        \
  "\"chargingRateUnit\":\"W\",\"minChargingRate\":1380.5,"                     \
  "\"chargingSchedulePeriod\":" periods "}" extra "}}"

Test(schema, set_charging_profile_full_profile_is_valid) {
  expect_valid("SetChargingProfile", REQ,
               PROFILE("[{\"startPeriod\":0,\"limit\":11000,\"numberPhases\":3},"
                       "{\"startPeriod\":3600,\"limit\":6.3},"
                       "{\"startPeriod\":7200,\"limit\":4140.7}]", ""));
}

Test(schema, set_charging_profile_limit_off_the_tenth_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("SetChargingProfile", REQ,
               PROFILE("[{\"startPeriod\":0,\"limit\":16},"
                       "{\"startPeriod\":60,\"limit\":16.05}]", ""),
               CODE_PROPERTY,
               "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit",
               &fault);
  cr_expect_str_eq(fault.message, "limit: 16.05 is not a multiple of 0.1");
}

Test(schema, set_charging_profile_limit_as_string_is_type_violation) {
  expect_fault("SetChargingProfile", REQ,
               PROFILE("[{\"startPeriod\":0,\"limit\":\"16\"}]", ""), CODE_TYPE,
               "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit",
               NULL);
}

Test(schema, set_charging_profile_period_without_start_is_occurence) {
  expect_fault("SetChargingProfile", REQ, PROFILE("[{\"limit\":16}]", ""),
               CODE_OCCURENCE,
               "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].startPeriod",
               NULL);
}

Test(schema, set_charging_profile_unknown_profile_property_is_property) {
  expect_fault("SetChargingProfile", REQ,
               PROFILE("[]", ",\"priority\":1"), CODE_PROPERTY,
               "csChargingProfiles.priority", NULL);
}

Test(schema, set_charging_profile_bad_valid_to_is_property_violation) {
  expect_fault("SetChargingProfile", REQ,
               "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,"
               "\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
               "\"chargingProfileKind\":\"Absolute\",\"validTo\":\"2025-13-01T00:00:00Z\","
               "\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
               "\"chargingSchedulePeriod\":[]}}}",
               CODE_PROPERTY, "csChargingProfiles.validTo", NULL);
}

Test(schema, get_composite_schedule_response_min_rate_is_checked) {
  expect_fault("GetCompositeSchedule", CONF,
               "{\"status\":\"Accepted\",\"chargingSchedule\":{\"chargingRateUnit\":"
               "\"A\",\"minChargingRate\":6.25,\"chargingSchedulePeriod\":[]}}",
               CODE_PROPERTY, "chargingSchedule.minChargingRate", NULL);
}

/* ---- GetConfiguration response ------------------------------------------ */

#define KEY_51 "K1234567890123456789012345678901234567890123456789X"

Test(schema, get_configuration_response_with_keys_is_valid) {
  expect_valid("GetConfiguration", CONF,
               "{\"configurationKey\":[{\"key\":\"HeartbeatInterval\",\"readonly\":"
               "false,\"value\":\"300\"},{\"key\":\"NumberOfConnectors\","
               "\"readonly\":true}],\"unknownKey\":[\"Foo\"]}");
}

Test(schema, get_configuration_readonly_as_string_is_type_violation) {
  ocpp_schema_fault fault;
  expect_fault("GetConfiguration", CONF,
               "{\"configurationKey\":[{\"key\":\"A\",\"readonly\":\"true\"}]}",
               CODE_TYPE, "configurationKey[0].readonly", &fault);
  cr_expect_str_eq(fault.message, "readonly: expected boolean, got string");
}

Test(schema, get_configuration_missing_readonly_is_occurence_violation) {
  expect_fault("GetConfiguration", CONF,
               "{\"configurationKey\":[{\"key\":\"A\",\"readonly\":true},{\"key\":\"B\"}]}",
               CODE_OCCURENCE, "configurationKey[1].readonly", NULL);
}

Test(schema, get_configuration_unknown_key_of_51_chars_is_property_violation) {
  ocpp_schema_fault fault;
  expect_fault("GetConfiguration", CONF,
               "{\"unknownKey\":[\"Foo\",\"" KEY_51 "\"]}", CODE_PROPERTY,
               "unknownKey[1]", &fault);
  cr_expect_str_eq(fault.message, "unknownKey[1]: 51 characters, at most 50 allowed");
}

/* ---- ChangeAvailability ------------------------------------------------- */

Test(schema, change_availability_unknown_type_is_property_violation) {
  expect_fault("ChangeAvailability", REQ, "{\"connectorId\":1,\"type\":\"Off\"}",
               CODE_PROPERTY, "type", NULL);
}

Test(schema, change_availability_missing_connector_is_occurence_violation) {
  expect_fault("ChangeAvailability", REQ, "{\"type\":\"Operative\"}", CODE_OCCURENCE,
               "connectorId", NULL);
}

Test(schema, change_availability_connector_as_float_is_type_violation) {
  expect_fault("ChangeAvailability", REQ, "{\"connectorId\":0.5,\"type\":\"Operative\"}",
               CODE_TYPE, "connectorId", NULL);
}

/* ---- RemoteStartTransaction --------------------------------------------- */

#define REMOTE_START(profile_extra, schedule_extra)                            \
  "{\"connectorId\":1,\"idTag\":\"ABC\",\"chargingProfile\":{"                \
  "\"chargingProfileId\":3,\"chargingProfilePurpose\":\"TxProfile\","         \
  "\"chargingProfileKind\":\"Relative\"" profile_extra ","                    \
  "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":" \
  "[{\"startPeriod\":0,\"limit\":16.0}]" schedule_extra "}}}"

Test(schema, remote_start_with_charging_profile_is_valid) {
  expect_valid("RemoteStartTransaction", REQ, REMOTE_START(",\"stackLevel\":0", ""));
}

Test(schema, remote_start_profile_without_stack_level_is_occurence) {
  expect_fault("RemoteStartTransaction", REQ, REMOTE_START("", ""), CODE_OCCURENCE,
               "chargingProfile.stackLevel", NULL);
}

Test(schema, remote_start_extra_schedule_property_is_property_violation) {
  expect_fault("RemoteStartTransaction", REQ,
               REMOTE_START(",\"stackLevel\":0", ",\"phases\":3"), CODE_PROPERTY,
               "chargingProfile.chargingSchedule.phases", NULL);
}

/* ---- TriggerMessage ----------------------------------------------------- */

Test(schema, trigger_message_unknown_message_is_property_violation) {
  expect_fault("TriggerMessage", REQ, "{\"requestedMessage\":\"Reboot\"}",
               CODE_PROPERTY, "requestedMessage", NULL);
}

Test(schema, trigger_message_connector_as_string_is_type_violation) {
  expect_fault("TriggerMessage", REQ,
               "{\"requestedMessage\":\"MeterValues\",\"connectorId\":\"1\"}", CODE_TYPE,
               "connectorId", NULL);
}

Test(schema, trigger_message_missing_message_is_occurence_violation) {
  expect_fault("TriggerMessage", REQ, "{\"connectorId\":1}", CODE_OCCURENCE,
               "requestedMessage", NULL);
}

/* ---- payload shape ------------------------------------------------------ */

Test(schema, array_payload_is_type_violation_at_the_root) {
  ocpp_schema_fault fault;
  expect_fault("Heartbeat", REQ, "[]", CODE_TYPE, "", &fault);
  cr_expect_str_eq(fault.message, "payload: expected object, got array");
}

Test(schema, null_payload_pointer_is_formation_violation) {
  ocpp_schema_fault fault = {0};
  cr_assert_eq(ocpp_schema_validate("Heartbeat", REQ, NULL, &fault),
               OCPP_ESCHEMA);
  cr_expect_str_eq(fault.code, "FormationViolation");
}

Test(schema, fault_may_be_null) {
  json_t *payload = parse("{\"idTag\":7}");
  cr_expect_eq(ocpp_schema_validate("Authorize", REQ, payload, NULL),
               OCPP_ESCHEMA);
  json_decref(payload);
}

Test(schema, key_with_embedded_nul_is_not_a_known_property) {
  json_t *payload = parse("{\"idTag\":\"ABC\"}");
  json_object_setn_new(payload, "idTag\0x", 7, json_string("DEF"));
  ocpp_schema_fault fault = {0};
  cr_expect_eq(ocpp_schema_validate("Authorize", REQ, payload, &fault),
               OCPP_ESCHEMA);
  cr_expect_str_eq(fault.code, CODE_PROPERTY);
  json_decref(payload);
}

Test(schema, enum_value_with_embedded_nul_is_property_violation) {
  expect_fault("Reset", REQ, "{\"type\":\"Soft\\u0000\"}", CODE_PROPERTY, "type", NULL);
}

/* ---- string length and fault text --------------------------------------- */

/* "é" is two bytes: maxLength counts characters, as JSON Schema does. */
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"

Test(schema, max_length_counts_characters_not_bytes) {
  expect_valid("Authorize", REQ, "{\"idTag\":\"" E10 E10 "\"}");
  expect_fault("Authorize", REQ, "{\"idTag\":\"" E10 E10 "x\"}", CODE_PROPERTY,
               "idTag", NULL);
}

static bool is_valid_utf8(const char *s) {
  json_t *copy = json_string(s); /* refuses invalid UTF-8 */
  bool ok = copy != NULL;
  json_decref(copy);
  return ok;
}

Test(schema, long_enum_value_is_cut_at_a_character_boundary) {
  ocpp_schema_fault fault;
  expect_fault("Reset", REQ, "{\"type\":\"x" E10 E10 E10 "\"}", CODE_PROPERTY, "type",
               &fault);
  cr_expect(is_valid_utf8(fault.message), "%s", fault.message);
  cr_expect_not_null(strstr(fault.message, "...\" is not one of the allowed values"),
                     "%s", fault.message);
}

Test(schema, long_unknown_key_is_cut_at_a_character_boundary) {
  ocpp_schema_fault fault = {0};
  cr_assert_eq(validate_text("Heartbeat", REQ, "{\"" E10 E10 E10 E10 E10 "x\":1}",
                             &fault), OCPP_ESCHEMA);
  cr_expect_str_eq(fault.code, CODE_PROPERTY);
  cr_expect_lt(strlen(fault.path), sizeof fault.path);
  cr_expect_gt(strlen(fault.path), 0);
  cr_expect(is_valid_utf8(fault.path), "%s", fault.path);
  cr_expect(is_valid_utf8(fault.message), "%s", fault.message);
}

/* ---- date-time and uri formats ------------------------------------------ */

static const char *const good_date_times[] = {
  "2024-05-01T12:00:00Z",      "2024-05-01T12:00:00.123Z",
  "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00.5-05:30",
  "2024-05-01t12:00:00z",      "2024-02-29T00:00:00Z",
  "2000-02-29T23:59:59Z",      "2016-12-31T23:59:60Z",
};

static const char *const bad_date_times[] = {
  "",
  "2024-05-01",
  "2024-05-01 12:00:00Z",
  "2024-05-01T12:00:00",
  "2024-05-01T12:00Z",
  "2024-05-01T12:00:00+02",
  "2024-05-01T12:00:00+0200",
  "2024-05-01T12:00:00.Z",
  "2024-05-01T12:00:00ZZ",
  "2023-02-29T00:00:00Z",
  "1900-02-29T00:00:00Z",
  "2024-04-31T00:00:00Z",
  "2024-13-01T00:00:00Z",
  "2024-00-01T00:00:00Z",
  "2024-05-00T00:00:00Z",
  "2024-05-01T24:00:00Z",
  "2024-05-01T12:60:00Z",
  "2024-05-01T12:00:61Z",
  "2024-05-01T12:00:00+24:00",
  "24-05-01T12:00:00Z",
  "2024-5-1T12:00:00Z",
  "+2024-05-01T12:00:00Z",
};

ParameterizedTestParameters(schema, rfc3339_date_time_is_accepted) {
  return index_params(sizeof good_date_times / sizeof good_date_times[0]);
}

ParameterizedTest(size_t *i, schema, rfc3339_date_time_is_accepted) {
  char payload[128];
  snprintf(payload, sizeof payload, "{\"currentTime\":\"%s\"}", good_date_times[*i]);
  expect_valid("Heartbeat", CONF, payload);
}

ParameterizedTestParameters(schema, malformed_date_time_is_property_violation) {
  return index_params(sizeof bad_date_times / sizeof bad_date_times[0]);
}

ParameterizedTest(size_t *i, schema, malformed_date_time_is_property_violation) {
  char payload[128];
  snprintf(payload, sizeof payload, "{\"currentTime\":\"%s\"}", bad_date_times[*i]);
  expect_fault("Heartbeat", CONF, payload, CODE_PROPERTY, "currentTime", NULL);
}

Test(schema, uri_location_is_accepted) {
  expect_valid("GetDiagnostics", REQ,
               "{\"location\":\"ftp://user:pw@[::1]:21/diag%20dir/?a=b#f\"}");
  expect_valid("UpdateFirmware", REQ,
               "{\"location\":\"http://fw.example/f.bin\",\"retrieveDate\":" TS "}");
}

Test(schema, location_that_is_not_a_uri_is_property_violation) {
  expect_fault("GetDiagnostics", REQ, "{\"location\":\"diag upload\"}", CODE_PROPERTY,
               "location", NULL);
  expect_fault("GetDiagnostics", REQ, "{\"location\":\"/relative/path\"}",
               CODE_PROPERTY, "location", NULL);
  expect_fault("GetDiagnostics", REQ, "{\"location\":\"ftp://h/a b\"}", CODE_PROPERTY,
               "location", NULL);
  expect_fault("UpdateFirmware", REQ,
               "{\"location\":\"http://h/%zz\",\"retrieveDate\":" TS "}", CODE_PROPERTY,
               "location", NULL);
}

/* ---- describe ----------------------------------------------------------- */

Test(schema, describe_reports_root_and_nested_nodes) {
  ocpp_schema_node_info info;
  cr_assert_eq(ocpp_schema_describe("MeterValues", REQ, "", &info), 0);
  cr_expect_str_eq(info.type, "object");
  cr_expect(info.closed);
  cr_expect_eq(info.property_count, 3);

  cr_assert_eq(ocpp_schema_describe("MeterValues", REQ,
                                    "meterValue[].sampledValue[].unit", &info), 0);
  cr_expect_str_eq(info.type, "string");
  cr_expect_not(info.required);
  cr_assert_not_null(info.enum_values);
  cr_expect_str_eq(info.enum_values[0], "Wh");

  cr_assert_eq(ocpp_schema_describe("BootNotification", REQ, "chargePointVendor",
                                    &info), 0);
  cr_expect(info.required);
  cr_expect_eq(info.max_length, 20);
}

Test(schema, describe_rejects_unknown_paths_and_actions) {
  ocpp_schema_node_info info;
  cr_expect_eq(ocpp_schema_describe("MeterValues", REQ, "nope", &info),
               OCPP_ENOPATH);
  cr_expect_eq(ocpp_schema_describe("MeterValues", REQ, "meterValue.", &info),
               OCPP_ENOPATH);
  cr_expect_eq(ocpp_schema_describe("MeterValues", REQ, "connectorId[]", &info),
               OCPP_ENOPATH);
  cr_expect_eq(ocpp_schema_describe("MeterValues", REQ, "meterValue.timestamp", &info),
               OCPP_ENOPATH);
  cr_expect_eq(ocpp_schema_describe("MeterValues", REQ, NULL, &info),
               OCPP_EINVAL);
  cr_expect_eq(ocpp_schema_describe("GetLog", REQ, "", &info), OCPP_ENOACTION);
}

/* ---- cross-check against the schema files ------------------------------- */

/* The set being checked, and the file's definitions for 2.0.1 "$ref"s. */
static ocpp_version check_version = OCPP_VERSION_16;
static const json_t *check_definitions;

static const json_t *resolve_ref(const json_t *schema) {
  const char *ref = json_string_value(json_object_get(schema, "$ref"));
  if (!ref) return schema;
  cr_assert(strncmp(ref, "#/definitions/", 14) == 0, "bad $ref %s", ref);
  const json_t *target = json_object_get(check_definitions, ref + 14);
  cr_assert_not_null(target, "unresolved $ref %s", ref);
  return target;
}

static void cross_check_node(const char *file, const char *action,
                             ocpp_schema_kind kind, const char *path,
                             const json_t *schema, bool required);

static void cross_check_properties(const char *file, const char *action,
                                   ocpp_schema_kind kind, const char *path,
                                   const json_t *schema) {
  const json_t *properties = json_object_get(schema, "properties");
  const json_t *required = json_object_get(schema, "required");
  const char *name;
  const json_t *sub;
  json_object_foreach((json_t *)properties, name, sub) {
    bool is_required = false;
    for (size_t i = 0; i < json_array_size(required); i++)
      if (strcmp(json_string_value(json_array_get(required, i)), name) == 0)
        is_required = true;
    char child[256];
    snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", name);
    cross_check_node(file, action, kind, child, sub, is_required);
  }
}

static void cross_check_node(const char *file, const char *action,
                             ocpp_schema_kind kind, const char *path,
                             const json_t *schema, bool required) {
  ocpp_schema_node_info info;
  schema = resolve_ref(schema);
  cr_assert_eq(ocpp_schema_describe_in(check_version, action, kind, path, &info), 0,
               "%s: \"%s\" is not in the table", file, path);
  const char *type = json_string_value(json_object_get(schema, "type"));
  if (!type && check_version == OCPP_VERSION_201) type = "any";
  cr_assert_not_null(type, "%s: \"%s\" has no type", file, path);
  cr_expect_str_eq(info.type, type, "%s: \"%s\" type", file, path);
  cr_expect_eq(info.required, required, "%s: \"%s\" required", file, path);
  cr_expect_eq(info.max_length,
               (size_t)json_integer_value(json_object_get(schema, "maxLength")),
               "%s: \"%s\" maxLength", file, path);
  cr_expect_eq(info.min_items,
               (size_t)json_integer_value(json_object_get(schema, "minItems")),
               "%s: \"%s\" minItems", file, path);
  cr_expect_eq(info.max_items,
               (size_t)json_integer_value(json_object_get(schema, "maxItems")),
               "%s: \"%s\" maxItems", file, path);
  const json_t *minimum = json_object_get(schema, "minimum");
  const json_t *maximum = json_object_get(schema, "maximum");
  cr_expect_eq(info.has_minimum, minimum != NULL, "%s: \"%s\" minimum", file, path);
  cr_expect_eq(info.has_maximum, maximum != NULL, "%s: \"%s\" maximum", file, path);
  if (minimum) cr_expect_eq(info.minimum, json_number_value(minimum));
  if (maximum) cr_expect_eq(info.maximum, json_number_value(maximum));
  cr_expect_eq(info.multiple_of,
               json_number_value(json_object_get(schema, "multipleOf")),
               "%s: \"%s\" multipleOf", file, path);

  const char *format = json_string_value(json_object_get(schema, "format"));
  if (format) {
    cr_expect(info.format && strcmp(info.format, format) == 0,
              "%s: \"%s\" format", file, path);
  } else {
    cr_expect_null(info.format, "%s: \"%s\" format", file, path);
  }

  const json_t *values = json_object_get(schema, "enum");
  if (values) {
    cr_assert_not_null(info.enum_values, "%s: \"%s\" enum missing", file, path);
    size_t n = 0;
    while (info.enum_values[n]) n++;
    cr_expect_eq(n, json_array_size(values), "%s: \"%s\" enum size", file, path);
    for (size_t i = 0; i < n && i < json_array_size(values); i++)
      cr_expect_str_eq(info.enum_values[i], json_string_value(json_array_get(values, i)),
                       "%s: \"%s\" enum[%zu]", file, path, i);
  } else {
    cr_expect_null(info.enum_values, "%s: \"%s\" has an enum", file, path);
  }

  if (strcmp(type, "object") == 0) {
    const json_t *extra = json_object_get(schema, "additionalProperties");
    cr_expect_eq(info.closed, json_is_false(extra), "%s: \"%s\" closed", file, path);
    cr_expect_eq(info.property_count,
                 json_object_size(json_object_get(schema, "properties")),
                 "%s: \"%s\" property count", file, path);
    cross_check_properties(file, action, kind, path, schema);
  } else if (strcmp(type, "array") == 0) {
    char items[256];
    snprintf(items, sizeof items, "%s[]", path);
    cross_check_node(file, action, kind, items, json_object_get(schema, "items"), false);
  }
}

Test(schema, table_matches_the_schema_files) {
  const char *dir = getenv("OCPP16_SCHEMAS");
  cr_assert(dir && *dir, "OCPP16_SCHEMAS is not set (test/data/ocpp16/schemas)");
  struct stat st;
  cr_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "%s: no schema folder", dir);
  for (size_t i = 0; i < N_ACTIONS; i++) {
    for (int k = 0; k < 2; k++) {
      ocpp_schema_kind kind = k ? CONF : REQ;
      char file[512];
      snprintf(file, sizeof file, "%s/%s%s.json", dir, ocpp16_actions[i],
               k ? "Response" : "");
      json_error_t error;
      json_t *schema = json_load_file(file, 0, &error);
      cr_assert_not_null(schema, "%s: %s", file, error.text);
      cross_check_node(file, ocpp16_actions[i], kind, "", schema, false);
      json_decref(schema);
    }
  }
}

/* Every request and response file of the 2.0.1 set is in the table, node
 * for node, with its "$ref"s followed. */
Test(schema, table201_matches_the_schema_files) {
  const char *dir = getenv("OCPP201_SCHEMAS");
  cr_assert(dir && *dir, "OCPP201_SCHEMAS is not set (test/data/ocpp201/schemas)");
  DIR *folder = opendir(dir);
  cr_assert_not_null(folder, "%s: no schema folder", dir);
  size_t files = 0;
  struct dirent *entry;
  check_version = OCPP_VERSION_201;
  while ((entry = readdir(folder))) {
    const char *name = entry->d_name;
    size_t len = strlen(name);
    bool response = len > 13 && strcmp(name + len - 13, "Response.json") == 0;
    bool request = len > 12 && strcmp(name + len - 12, "Request.json") == 0;
    if (!request && !response) continue;
    char action[128];
    snprintf(action, sizeof action, "%.*s", (int)(len - (response ? 13 : 12)), name);
    char file[512];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    json_error_t error;
    json_t *schema = json_load_file(file, 0, &error);
    cr_assert_not_null(schema, "%s: %s", file, error.text);
    check_definitions = json_object_get(schema, "definitions");
    cr_expect(ocpp_schema_known_action_in(OCPP_VERSION_201, action), "%s", action);
    cross_check_node(file, action, response ? CONF : REQ, "", schema, false);
    json_decref(schema);
    files++;
  }
  closedir(folder);
  cr_expect_eq(files, 128, "%zu schema files", files);
}

Test(schema, validates_201_payloads_by_their_own_schema) {
  json_t *boot = json_pack("{s:s,s:{s:s,s:s}}", "reason", "PowerUp",
                           "chargingStation", "model", "W1", "vendorName", "V");
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "BootNotification", REQ,
                                       boot, NULL), 0);
  /* the 1.6 schema of the same action wants other fields */
  cr_expect_eq(ocpp_schema_validate("BootNotification", REQ, boot, NULL), OCPP_ESCHEMA);
  json_decref(boot);
  json_t *empty = json_object();
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "StartTransaction", REQ,
                                       empty, NULL), OCPP_ENOACTION);
  json_decref(empty);
  cr_expect(ocpp_schema_known_action_in(OCPP_VERSION_201, "TransactionEvent"));
  cr_expect(!ocpp_schema_known_action("TransactionEvent"));
}

Test(schema, checks_201_minimum_and_max_items) {
  ocpp_schema_fault fault;
  /* SetChargingProfile: chargingSchedule has at most 3 entries */
  json_t *period = json_pack("{s:i,s:f}", "startPeriod", 0, "limit", 16.0);
  json_t *schedule = json_pack("{s:i,s:s,s:[o]}", "id", 1, "chargingRateUnit", "A",
                               "chargingSchedulePeriod", period);
  json_t *profile = json_pack("{s:i,s:i,s:s,s:s,s:[O,O,O,O]}", "id", 1, "stackLevel",
                              0, "chargingProfilePurpose", "TxDefaultProfile",
                              "chargingProfileKind", "Absolute", "chargingSchedule",
                              schedule, schedule, schedule, schedule);
  json_t *req = json_pack("{s:i,s:o}", "evseId", 1, "chargingProfile", profile);
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "SetChargingProfile", REQ,
                                       req, &fault), OCPP_ESCHEMA);
  cr_expect_str_eq(fault.path, "chargingProfile.chargingSchedule");
  cr_expect_str_eq(fault.code, "OccurenceConstraintViolation");
  json_array_remove(json_object_get(profile, "chargingSchedule"), 0);
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "SetChargingProfile", REQ,
                                       req, &fault), 0, "%s %s", fault.path, fault.message);
  json_decref(schedule);
  json_decref(req);

  /* NotifyEVChargingNeeds: stateOfCharge has minimum 0 */
  json_t *needs = json_pack("{s:i,s:{s:s,s:{s:i,s:i}}}", "evseId", 1,
                            "chargingNeeds", "requestedEnergyTransfer", "AC_three_phase",
                            "dcChargingParameters", "evMaxCurrent", 32, "evMaxVoltage", 400);
  json_t *dc = json_object_get(json_object_get(needs, "chargingNeeds"),
                               "dcChargingParameters");
  json_object_set_new(dc, "stateOfCharge", json_integer(0));
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "NotifyEVChargingNeeds", REQ,
                                       needs, &fault), 0, "%s %s", fault.path, fault.message);
  json_object_set_new(dc, "stateOfCharge", json_integer(-1));
  cr_expect_eq(ocpp_schema_validate_in(OCPP_VERSION_201, "NotifyEVChargingNeeds", REQ,
                                       needs, &fault), OCPP_ESCHEMA);
  cr_expect_str_eq(fault.path, "chargingNeeds.dcChargingParameters.stateOfCharge");
  json_decref(needs);
}
