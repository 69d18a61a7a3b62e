/* Validation of OCPP 1.6 payloads against the official JSON schemas, from a
 * compact table compiled into the program. Pure code. Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_SCHEMA_H
#define OCPPKNX_OCPP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef enum {
  OCPP_SCHEMA_REQUEST,   /* e.g. BootNotification.json */
  OCPP_SCHEMA_RESPONSE   /* e.g. BootNotificationResponse.json */
} ocpp_schema_kind;

/* What was wrong, in the terms of OCPP-J CALLERROR codes. */
typedef struct {
  const char *code;      /* "TypeConstraintViolation", "PropertyConstraint-
                            Violation", "OccurenceConstraintViolation",
                            "FormationViolation" */
  char path[96];         /* "meterValue[0].sampledValue[1].unit" */
  char message[160];
} ocpp_schema_fault;

enum {
  OCPP_SCHEMA_EUNKNOWN = -1,  /* no such action */
  OCPP_SCHEMA_EINVALID = -2   /* see fault */
};

/* Validates payload as the request or response of action. Checks required
 * properties (Occurence), JSON types (Type; integers must be integers,
 * "number" accepts integers), enums, maxLength, date-time format and
 * additionalProperties:false (Property). Returns 0, OCPP_SCHEMA_EUNKNOWN or
 * OCPP_SCHEMA_EINVALID (first violation in fault). */
int ocpp_schema_validate(const char *action, ocpp_schema_kind kind,
                         const json_t *payload, ocpp_schema_fault *fault);

/* true for the 28 actions of OCPP 1.6 (core, firmware, local list,
 * reservation, smart charging, remote trigger). */
bool ocpp_schema_known_action(const char *action);

#endif
