/* OCPP-J framing: [2,id,action,payload] [3,id,payload] [4,id,code,desc,
 * details]. Pure code over jansson. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_RPC_H
#define OCPPKNX_OCPP_RPC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ocpp/ocpp.h"

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
  int type;             /* message type id when an integer 1..99, else 0;
                           a RESULT or ERROR (3, 4) is never answered */
} ocpp_rpc_fault;

/* Decodes one text message. Returns 0 with f filled (call
 * ocpp_rpc_frame_finish later), or OCPP_EFORMAT (ocpp.h) with fault
 * filled, also for a NULL text or f.
 * The rule for the fault code (OCPP-J 1.6 section 4.2.3):
 * - ProtocolError: a well-formed array that breaks the RPC protocol: an
 *   unknown message type id (not 2, 3, 4) or too few elements (the frame is
 *   incomplete: CALL < 4, RESULT < 3, ERROR < 4).
 * - FormationViolation: everything else: not JSON, not an array, empty,
 *   type id not a number, too many elements, id not a string or longer than
 *   36 chars, action not a string (or longer than 64), CALL/RESULT payload
 *   not a JSON object, errorCode/errorDescription not strings.
 * has_id is set (and id copied) whenever element 1 is a string of at most
 * 36 chars, so a CALL can be answered with a CALLERROR; fault.type says
 * whether it was a CALL. An ERROR may lack its details (4 elements). */
int ocpp_rpc_decode(const char *text, size_t len, ocpp_rpc_frame *f,
                    ocpp_rpc_fault *fault);

void ocpp_rpc_frame_finish(ocpp_rpc_frame *f);

/* Encoders return a malloc'd compact JSON text (free()), or NULL on ENOMEM
 * or when a string is NULL or not UTF-8 (description NULL means "").
 * They do not steal payload/details references. payload/details NULL
 * means {}. */
char *ocpp_rpc_encode_call(const char *id, const char *action,
                           const json_t *payload);
char *ocpp_rpc_encode_result(const char *id, const json_t *payload);
char *ocpp_rpc_encode_error(const char *id, const char *code,
                            const char *description, const json_t *details);

#endif
