/* OCPP-J framing over jansson. */
#include "ocpp/rpc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char FORMATION[] = "FormationViolation";
static const char PROTOCOL[] = "ProtocolError";

static int fail(ocpp_rpc_fault *fault, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ocpp_rpc_fault *fault, const char *code, const char *fmt, ...) {
  va_list ap;
  fault->code = code;
  va_start(ap, fmt);
  vsnprintf(fault->message, sizeof fault->message, fmt, ap);
  va_end(ap);
  /* The text quotes parser errors that may hold input bytes, and it ends up
   * in a JSON string and a log line: keep it printable ASCII. */
  for (char *p = fault->message; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
  return OCPP_EFORMAT;
}

/* Reads element 1 so that even a broken CALL can be answered. */
static void fault_take_id(ocpp_rpc_fault *fault, const json_t *root) {
  const json_t *id = json_array_get(root, 1);
  if (!json_is_string(id) || json_string_length(id) > OCPP_RPC_ID_MAX) return;
  memcpy(fault->id, json_string_value(id), json_string_length(id) + 1);
  fault->has_id = true;
}

/* false when v is not an integral number; else *type is the type id, or
 * 0 when it is outside 1..99. A real like 2.0 is accepted: some JSON
 * encoders write every number that way. */
static bool message_type(const json_t *v, int *type) {
  *type = 0;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i >= 1 && i <= 99) *type = (int)i;
    return true;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d >= 1 && d <= 99 && d == floor(d)) *type = (int)d;
    return true;
  }
  return false;
}

typedef struct {
  ocpp_rpc_type type;
  const char *name;
  size_t min_elems, max_elems;
} frame_shape;

static const frame_shape shapes[] = {
    {OCPP_RPC_CALL, "CALL", 4, 4},
    {OCPP_RPC_RESULT, "CALLRESULT", 3, 3},
    {OCPP_RPC_ERROR, "CALLERROR", 4, 5},
};

static const frame_shape *shape_for(int type) {
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    if ((int)shapes[i].type == type) return &shapes[i];
  return NULL;
}

static int decode_call(const json_t *root, ocpp_rpc_frame *f,
                       ocpp_rpc_fault *fault) {
  const json_t *action = json_array_get(root, 2);
  if (!json_is_string(action))
    return fail(fault, FORMATION, "action is not a string");
  size_t alen = json_string_length(action);
  if (alen == 0 || alen > OCPP_RPC_ACTION_MAX)
    return fail(fault, FORMATION, "action length %zu not in 1..%d", alen,
                OCPP_RPC_ACTION_MAX);
  json_t *payload = json_array_get(root, 3);
  if (!json_is_object(payload))
    return fail(fault, FORMATION, "CALL payload is not an object");
  memcpy(f->action, json_string_value(action), alen + 1);
  f->payload = payload;
  return 0;
}

static int decode_result(const json_t *root, ocpp_rpc_frame *f,
                         ocpp_rpc_fault *fault) {
  json_t *payload = json_array_get(root, 2);
  if (!json_is_object(payload))
    return fail(fault, FORMATION, "CALLRESULT payload is not an object");
  f->payload = payload;
  return 0;
}

/* Details are not used, so their type is not checked. */
static int decode_error(const json_t *root, ocpp_rpc_frame *f,
                        ocpp_rpc_fault *fault) {
  const json_t *code = json_array_get(root, 2);
  const json_t *desc = json_array_get(root, 3);
  if (!json_is_string(code))
    return fail(fault, FORMATION, "errorCode is not a string");
  if (!json_is_string(desc))
    return fail(fault, FORMATION, "errorDescription is not a string");
  f->error_code = json_string_value(code);
  f->error_description = json_string_value(desc);
  return 0;
}

static int decode_root(json_t *root, ocpp_rpc_frame *f,
                       ocpp_rpc_fault *fault) {
  if (!json_is_array(root))
    return fail(fault, FORMATION, "message is not a JSON array");
  size_t n = json_array_size(root);
  if (n == 0) return fail(fault, FORMATION, "message is an empty array");

  fault_take_id(fault, root);
  int type;
  if (!message_type(json_array_get(root, 0), &type))
    return fail(fault, FORMATION, "message type id is not a number");
  fault->type = type;

  const frame_shape *shape = shape_for(type);
  if (!shape) return fail(fault, PROTOCOL, "unknown message type id");
  if (n < shape->min_elems)
    return fail(fault, PROTOCOL, "%s is incomplete: %zu elements",
                shape->name, n);
  if (n > shape->max_elems)
    return fail(fault, FORMATION, "%s has %zu elements", shape->name, n);

  const json_t *id = json_array_get(root, 1);
  if (!json_is_string(id))
    return fail(fault, FORMATION, "unique id is not a string");
  if (json_string_length(id) > OCPP_RPC_ID_MAX)
    return fail(fault, FORMATION, "unique id longer than %d characters",
                OCPP_RPC_ID_MAX);

  f->type = shape->type;
  memcpy(f->id, json_string_value(id), json_string_length(id) + 1);
  switch (shape->type) {
  case OCPP_RPC_CALL: return decode_call(root, f, fault);
  case OCPP_RPC_RESULT: return decode_result(root, f, fault);
  case OCPP_RPC_ERROR: return decode_error(root, f, fault);
  }
  return fail(fault, PROTOCOL, "unknown message type id");
}

int ocpp_rpc_decode(const char *text, size_t len, ocpp_rpc_frame *f,
                    ocpp_rpc_fault *fault) {
  ocpp_rpc_fault scratch;
  if (!fault) fault = &scratch;
  memset(fault, 0, sizeof *fault);
  if (!f) return fail(fault, FORMATION, "no frame");
  memset(f, 0, sizeof *f);
  if (!text) return fail(fault, FORMATION, "no message");

  json_error_t err;
  json_t *root = json_loadb(text, len, 0, &err);
  if (!root) return fail(fault, FORMATION, "invalid JSON: %s", err.text);
  int rc = decode_root(root, f, fault);
  if (rc != 0) {
    json_decref(root);
    memset(f, 0, sizeof *f);
    return rc;
  }
  f->root = root;
  return 0;
}

void ocpp_rpc_frame_finish(ocpp_rpc_frame *f) {
  if (!f) return;
  json_decref(f->root);
  memset(f, 0, sizeof *f);
}

/* ---- encoders ----------------------------------------------------------- */

/* The encoders' steps return OCPP_OK, OCPP_ENOMEM or OCPP_EINVAL. */
static int append_new(json_t *arr, json_t *v) {
  return json_array_append_new(arr, v) == 0 ? OCPP_OK : OCPP_ENOMEM;
}

/* Appends a borrowed object (or {} for NULL) without taking its reference.
 * jansson only counts references here; the value itself is not changed. */
static int append_object(json_t *arr, const json_t *obj) {
  if (!obj) return append_new(arr, json_object());
  return json_array_append(arr, (json_t *)obj) == 0 ? OCPP_OK : OCPP_ENOMEM;
}

/* NULL and text that is not UTF-8 are OCPP_EINVAL. */
static int append_string(json_t *arr, const char *s) {
  if (!s) return OCPP_EINVAL;
  json_t *v = json_string(s);
  if (!v) return OCPP_EINVAL;
  return append_new(arr, v);
}

static char *dump_and_free(json_t *arr, int rc) {
  char *text = rc == 0 ? json_dumps(arr, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
  json_decref(arr);
  return text;
}

char *ocpp_rpc_encode_call(const char *id, const char *action,
                           const json_t *payload) {
  json_t *arr = json_array();
  if (!arr) return NULL;
  int rc = append_new(arr, json_integer(OCPP_RPC_CALL));
  if (rc == 0) rc = append_string(arr, id);
  if (rc == 0) rc = append_string(arr, action);
  if (rc == 0) rc = append_object(arr, payload);
  return dump_and_free(arr, rc);
}

/* Ids that need no escaping in JSON (chargers use digits and UUIDs). */
static bool plain_id(const char *id) {
  for (const unsigned char *c = (const unsigned char *)id; *c; c++)
    if (*c < 0x20 || *c >= 0x7f || *c == '"' || *c == '\\') return false;
  return true;
}

/* Every charger request is answered: writing [3,"id",payload] directly
 * spares building and freeing a JSON array per answer. */
static char *encode_result_plain(const char *id, const json_t *payload) {
  char *body = NULL;
  if (payload && json_object_size(payload) > 0) {
    body = json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!body) return NULL;
  }
  const char *b = body ? body : "{}";
  size_t n = strlen(id) + strlen(b) + 8;
  char *out = malloc(n);
  if (out) snprintf(out, n, "[3,\"%s\",%s]", id, b);
  free(body);
  return out;
}

char *ocpp_rpc_encode_result(const char *id, const json_t *payload) {
  if (id && plain_id(id) && (!payload || json_is_object(payload)))
    return encode_result_plain(id, payload);
  json_t *arr = json_array();
  if (!arr) return NULL;
  int rc = append_new(arr, json_integer(OCPP_RPC_RESULT));
  if (rc == 0) rc = append_string(arr, id);
  if (rc == 0) rc = append_object(arr, payload);
  return dump_and_free(arr, rc);
}

char *ocpp_rpc_encode_error(const char *id, const char *code,
                            const char *description, const json_t *details) {
  json_t *arr = json_array();
  if (!arr) return NULL;
  int rc = append_new(arr, json_integer(OCPP_RPC_ERROR));
  if (rc == 0) rc = append_string(arr, id);
  if (rc == 0) rc = append_string(arr, code);
  if (rc == 0) rc = append_string(arr, description ? description : "");
  if (rc == 0) rc = append_object(arr, details);
  return dump_and_free(arr, rc);
}
