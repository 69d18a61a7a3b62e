/* OCPP-J framing: [2,id,action,payload] [3,id,payload] [4,id,code,desc,
 * details]. Pure code over jansson. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_RPC_H
#define OCPPKNX_OCPP_RPC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef enum {
  OCPP_RPC_CALL = 2,
  OCPP_RPC_RESULT = 3,
  OCPP_RPC_ERROR = 4
} ocpp_rpc_type;

#define OCPP_RPC_ID_MAX 36      /* unique ids are at most 36 characters */
#define OCPP_RPC_ACTION_MAX 64

typedef struct {
  ocpp_rpc_type type;
  char id[OCPP_RPC_ID_MAX + 1];
  char action[OCPP_RPC_ACTION_MAX + 1]; /* CALL only */
  json_t *payload;        /* CALL, RESULT: borrowed from root */
  const char *error_code; /* ERROR: borrowed from root */
  const char *error_description;
  json_t *root;           /* owned: release with ocpp_rpc_frame_finish */
} ocpp_rpc_frame;

/* Why a frame could not be decoded, and what to answer. */
typedef struct {
  const char *code;     /* "FormationViolation", "ProtocolError", ... */
  char message[160];    /* for errorDescription and the log */
  bool has_id;          /* id could be read: answer with a CALLERROR */
  char id[OCPP_RPC_ID_MAX + 1];
} ocpp_rpc_fault;

enum {
  OCPP_RPC_EFORMAT = -1  /* see fault */
};

/* Decodes one text message. Returns 0 with f filled (call
 * ocpp_rpc_frame_finish later), or OCPP_RPC_EFORMAT with fault filled:
 * not JSON or not an array -> FormationViolation (no id); unknown message
 * type id, wrong element count or types -> FormationViolation or
 * ProtocolError with the id when it is a string. An id longer than 36 chars
 * or an action that is not a string is a FormationViolation.
 * Payload of a CALL/RESULT must be a JSON object (else FormationViolation). */
int ocpp_rpc_decode(const char *text, size_t len, ocpp_rpc_frame *f,
                    ocpp_rpc_fault *fault);

void ocpp_rpc_frame_finish(ocpp_rpc_frame *f);

/* Encoders return a malloc'd compact JSON text, or NULL on ENOMEM. They do
 * not steal payload/details references. details NULL means {}. */
char *ocpp_rpc_encode_call(const char *id, const char *action,
                           const json_t *payload);
char *ocpp_rpc_encode_result(const char *id, const json_t *payload);
char *ocpp_rpc_encode_error(const char *id, const char *code,
                            const char *description, const json_t *details);

#endif
