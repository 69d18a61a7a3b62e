#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/rpc.h"

static int decode(const char *text, ocpp_rpc_frame *f, ocpp_rpc_fault *fault) {
  return ocpp_rpc_decode(text, strlen(text), f, fault);
}

/* Asserts a fault with code, and with id when id is not NULL. */
static void assert_fault(const char *text, const char *code, const char *id) {
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  cr_assert_eq(decode(text, &f, &fault), OCPP_EFORMAT, "%s", text);
  cr_assert_not_null(fault.code);
  cr_assert_str_eq(fault.code, code, "%s", text);
  cr_assert_neq(fault.message[0], '\0');
  cr_assert_null(f.root);
  if (id) {
    cr_assert(fault.has_id, "%s", text);
    cr_assert_str_eq(fault.id, id);
  } else {
    cr_assert_not(fault.has_id, "%s", text);
  }
}

/* ---- valid frames ------------------------------------------------------- */

Test(rpc_decode, valid_call) {
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  cr_assert_eq(decode("[2,\"19223201\",\"BootNotification\","
                      "{\"chargePointVendor\":\"V\"}]",
                      &f, &fault),
               0);
  cr_assert_eq(f.type, OCPP_RPC_CALL);
  cr_assert_str_eq(f.id, "19223201");
  cr_assert_str_eq(f.action, "BootNotification");
  cr_assert(json_is_object(f.payload));
  cr_assert_str_eq(
      json_string_value(json_object_get(f.payload, "chargePointVendor")), "V");
  ocpp_rpc_frame_finish(&f);
  cr_assert_null(f.root);
}

Test(rpc_decode, valid_result) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode(" [3, \"a1\", {\"status\":\"Accepted\"}] ", &f, NULL), 0);
  cr_assert_eq(f.type, OCPP_RPC_RESULT);
  cr_assert_str_eq(f.id, "a1");
  cr_assert_str_eq(json_string_value(json_object_get(f.payload, "status")),
                   "Accepted");
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, valid_error_with_details) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[4,\"a1\",\"NotImplemented\",\"no\",{\"x\":1}]", &f,
                      NULL),
               0);
  cr_assert_eq(f.type, OCPP_RPC_ERROR);
  cr_assert_str_eq(f.error_code, "NotImplemented");
  cr_assert_str_eq(f.error_description, "no");
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, error_without_details_is_tolerated) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[4,\"a1\",\"GenericError\",\"\"]", &f, NULL), 0);
  cr_assert_str_eq(f.error_code, "GenericError");
  cr_assert_str_eq(f.error_description, "");
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, id_of_36_characters_is_accepted) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[3,\"123456789012345678901234567890123456\",{}]", &f,
                      NULL),
               0);
  cr_assert_eq(strlen(f.id), 36);
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, type_written_as_real_is_accepted) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[2.0,\"1\",\"Heartbeat\",{}]", &f, NULL), 0);
  cr_assert_eq(f.type, OCPP_RPC_CALL);
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, duplicate_keys_are_accepted) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[3,\"1\",{\"a\":1,\"a\":2}]", &f, NULL), 0);
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, payload_outlives_nothing_but_root) {
  ocpp_rpc_frame f;
  cr_assert_eq(decode("[3,\"1\",{\"a\":1}]", &f, NULL), 0);
  json_t *payload = json_incref(f.payload);
  ocpp_rpc_frame_finish(&f);
  cr_assert_eq(json_integer_value(json_object_get(payload, "a")), 1);
  json_decref(payload);
}

/* ---- malformed frames --------------------------------------------------- */

Test(rpc_decode, invalid_json_is_formation_violation_without_id) {
  assert_fault("[2,\"1\",\"Heartbeat\",{}", "FormationViolation", NULL);
  assert_fault("", "FormationViolation", NULL);
  assert_fault("[2,\"1\",\"Heartbeat\",{}] x", "FormationViolation", NULL);
}

Test(rpc_decode, nan_is_not_json) {
  assert_fault("[3,\"1\",{\"a\":NaN}]", "FormationViolation", NULL);
}

Test(rpc_decode, object_root_is_formation_violation) {
  assert_fault("{\"a\":1}", "FormationViolation", NULL);
}

Test(rpc_decode, scalar_root_is_formation_violation) {
  assert_fault("2", "FormationViolation", NULL);
  assert_fault("\"x\"", "FormationViolation", NULL);
}

Test(rpc_decode, empty_array_is_formation_violation) {
  assert_fault("[]", "FormationViolation", NULL);
}

Test(rpc_decode, type_id_not_a_number_is_formation_violation) {
  assert_fault("[\"2\",\"1\",\"Heartbeat\",{}]", "FormationViolation", "1");
  assert_fault("[null,\"1\",\"Heartbeat\",{}]", "FormationViolation", "1");
}

Test(rpc_decode, unknown_type_id_is_protocol_error_with_id) {
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  assert_fault("[5,\"7\",\"Heartbeat\",{}]", "ProtocolError", "7");
  cr_assert_eq(decode("[5,\"7\",{}]", &f, &fault), OCPP_EFORMAT);
  cr_assert_eq(fault.type, 5);
  assert_fault("[1,\"7\"]", "ProtocolError", "7");
  assert_fault("[2.5,\"7\",\"Heartbeat\",{}]", "ProtocolError", "7");
}

Test(rpc_decode, call_with_too_few_elements_is_protocol_error) {
  assert_fault("[2,\"1\",\"Heartbeat\"]", "ProtocolError", "1");
  assert_fault("[2]", "ProtocolError", NULL);
}

Test(rpc_decode, call_with_too_many_elements_is_formation_violation) {
  assert_fault("[2,\"1\",\"Heartbeat\",{},{}]", "FormationViolation", "1");
}

Test(rpc_decode, call_fault_reports_call_type) {
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  cr_assert_eq(decode("[2,\"1\",\"Heartbeat\",[]]", &f, &fault),
               OCPP_EFORMAT);
  cr_assert_eq(fault.type, OCPP_RPC_CALL);
}

Test(rpc_decode, id_not_a_string_is_formation_violation_without_id) {
  assert_fault("[2,1,\"Heartbeat\",{}]", "FormationViolation", NULL);
  assert_fault("[2,null,\"Heartbeat\",{}]", "FormationViolation", NULL);
}

Test(rpc_decode, id_longer_than_36_is_formation_violation_without_id) {
  assert_fault("[2,\"1234567890123456789012345678901234567\",\"Heartbeat\",{}]",
               "FormationViolation", NULL);
}

Test(rpc_decode, action_not_a_string_is_formation_violation_with_id) {
  assert_fault("[2,\"1\",42,{}]", "FormationViolation", "1");
}

Test(rpc_decode, empty_or_overlong_action_is_formation_violation) {
  assert_fault("[2,\"1\",\"\",{}]", "FormationViolation", "1");
  char text[200];
  char action[OCPP_RPC_ACTION_MAX + 2];
  memset(action, 'A', sizeof action - 1);
  action[sizeof action - 1] = '\0';
  snprintf(text, sizeof text, "[2,\"1\",\"%s\",{}]", action);
  assert_fault(text, "FormationViolation", "1");
}

Test(rpc_decode, call_payload_not_object_is_formation_violation_with_id) {
  assert_fault("[2,\"1\",\"Heartbeat\",null]", "FormationViolation", "1");
  assert_fault("[2,\"1\",\"Heartbeat\",[]]", "FormationViolation", "1");
  assert_fault("[2,\"1\",\"Heartbeat\",\"{}\"]", "FormationViolation", "1");
}

Test(rpc_decode, result_payload_not_object_is_formation_violation) {
  assert_fault("[3,\"1\",null]", "FormationViolation", "1");
}

Test(rpc_decode, result_with_wrong_count) {
  assert_fault("[3,\"1\"]", "ProtocolError", "1");
  assert_fault("[3,\"1\",{},{}]", "FormationViolation", "1");
}

Test(rpc_decode, error_with_wrong_count) {
  assert_fault("[4,\"1\",\"GenericError\"]", "ProtocolError", "1");
  assert_fault("[4,\"1\",\"GenericError\",\"\",{},1]", "FormationViolation",
               "1");
}

Test(rpc_decode, error_fields_not_strings_are_formation_violation) {
  assert_fault("[4,\"1\",1,\"\",{}]", "FormationViolation", "1");
  assert_fault("[4,\"1\",\"GenericError\",null,{}]", "FormationViolation",
               "1");
}

Test(rpc_decode, escaped_nul_in_id_is_not_json) {
  assert_fault("[2,\"a\\u0000b\",\"Heartbeat\",{}]", "FormationViolation",
               NULL);
}

Test(rpc_decode, text_is_bounded_by_len) {
  static const char text[] = "[3,\"1\",{}]garbage";
  ocpp_rpc_frame f;
  cr_assert_eq(ocpp_rpc_decode(text, 10, &f, NULL), 0);
  ocpp_rpc_frame_finish(&f);
}

Test(rpc_decode, finish_is_null_safe_and_idempotent) {
  ocpp_rpc_frame f;
  ocpp_rpc_frame_finish(NULL);
  cr_assert_eq(decode("[3,\"1\",{}]", &f, NULL), 0);
  ocpp_rpc_frame_finish(&f);
  ocpp_rpc_frame_finish(&f);
  cr_assert_null(f.root);
}

/* ---- encoders ----------------------------------------------------------- */

Test(rpc_encode, call_is_compact_and_round_trips) {
  json_t *payload = json_pack("{s:i}", "connectorId", 1);
  char *text = ocpp_rpc_encode_call("42", "UnlockConnector", payload);
  cr_assert_str_eq(text, "[2,\"42\",\"UnlockConnector\",{\"connectorId\":1}]");
  ocpp_rpc_frame f;
  cr_assert_eq(decode(text, &f, NULL), 0);
  cr_assert_str_eq(f.action, "UnlockConnector");
  cr_assert(json_equal(f.payload, payload));
  ocpp_rpc_frame_finish(&f);
  free(text);
  cr_assert_eq(payload->refcount, 1); /* not stolen */
  json_decref(payload);
}

Test(rpc_encode, result_round_trips) {
  json_t *payload = json_pack("{s:s}", "status", "Accepted");
  char *text = ocpp_rpc_encode_result("abc", payload);
  cr_assert_str_eq(text, "[3,\"abc\",{\"status\":\"Accepted\"}]");
  ocpp_rpc_frame f;
  cr_assert_eq(decode(text, &f, NULL), 0);
  cr_assert_eq(f.type, OCPP_RPC_RESULT);
  cr_assert(json_equal(f.payload, payload));
  ocpp_rpc_frame_finish(&f);
  free(text);
  cr_assert_eq(payload->refcount, 1);
  json_decref(payload);
}

Test(rpc_encode, null_payload_is_empty_object) {
  char *text = ocpp_rpc_encode_result("1", NULL);
  cr_assert_str_eq(text, "[3,\"1\",{}]");
  free(text);
}

Test(rpc_encode, error_round_trips) {
  char *text = ocpp_rpc_encode_error("9", "FormationViolation", "bad \"x\"",
                                     NULL);
  cr_assert_str_eq(text, "[4,\"9\",\"FormationViolation\",\"bad \\\"x\\\"\",{}]");
  ocpp_rpc_frame f;
  cr_assert_eq(decode(text, &f, NULL), 0);
  cr_assert_str_eq(f.error_code, "FormationViolation");
  cr_assert_str_eq(f.error_description, "bad \"x\"");
  ocpp_rpc_frame_finish(&f);
  free(text);
}

Test(rpc_encode, error_details_not_stolen) {
  json_t *details = json_pack("{s:s}", "k", "v");
  char *text = ocpp_rpc_encode_error("9", "GenericError", NULL, details);
  cr_assert_str_eq(text, "[4,\"9\",\"GenericError\",\"\",{\"k\":\"v\"}]");
  free(text);
  cr_assert_eq(details->refcount, 1);
  json_decref(details);
}

Test(rpc_encode, null_or_invalid_strings_give_null) {
  cr_assert_null(ocpp_rpc_encode_call(NULL, "Heartbeat", NULL));
  cr_assert_null(ocpp_rpc_encode_call("1", NULL, NULL));
  cr_assert_null(ocpp_rpc_encode_result("\xff", NULL));
  cr_assert_null(ocpp_rpc_encode_error("1", NULL, "x", NULL));
}
