/* Validation of OCPP 1.6 and 2.0.1 payloads against the official JSON
 * schemas, from compact tables compiled into the program. Pure code.
 * Internal to ocpp/. The functions without a version are those of 1.6. */
#ifndef OCPPKNX_OCPP_SCHEMA_H
#define OCPPKNX_OCPP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ocpp/ocpp.h"

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

/* Validates payload as the request or response of action. Checks required
 * properties (Occurence), JSON types (Type; integers must be integers,
 * "number" accepts integers), enums, maxLength, date-time and uri formats,
 * multipleOf, minItems and additionalProperties:false (Property). fault may
 * be NULL. Returns 0, OCPP_EINVAL (NULL action), OCPP_ENOACTION (not an
 * action of OCPP 1.6) or OCPP_ESCHEMA (first violation in fault; a NULL
 * payload is a FormationViolation). */
int ocpp_schema_validate(const char *action, ocpp_schema_kind kind,
                         const json_t *payload, ocpp_schema_fault *fault);

/* The same for the schemas of version (OCPP_VERSION_16 or _201; AUTO is
 * taken as 1.6): ENOACTION for an action that version does not have. */
int ocpp_schema_validate_in(ocpp_version version, const char *action,
                            ocpp_schema_kind kind, const json_t *payload,
                            ocpp_schema_fault *fault);

/* true for the 28 actions of OCPP 1.6 (core, firmware, local list,
 * reservation, smart charging, remote trigger) and SecurityEventNotification
 * of the OCPP 1.6 security whitepaper. */
bool ocpp_schema_known_action(const char *action);
/* true for the actions of version (2.0.1: its 64 actions). */
bool ocpp_schema_known_action_in(ocpp_version version, const char *action);

/* The schemas' date-time format check on s[0..len): RFC 3339 (section
 * 5.6) with a day of the calendar, as ocpp_schema_validate applies it. */
bool ocpp_schema_is_date_time(const char *s, size_t len);

/* One node of the compiled table, for checking the table against the schema
 * files. */
typedef struct {
  const char *type;                /* "object", "array", "string", "integer",
                                      "number" or "boolean" */
  const char *format;              /* "date-time", "uri" or NULL */
  const char *const *enum_values;  /* NULL-terminated, or NULL for none */
  size_t max_length;               /* 0: no maxLength */
  size_t min_items;                /* 0: no minItems */
  size_t max_items;                /* 0: no maxItems */
  bool has_minimum;                /* minimum / maximum of a number */
  double minimum;
  bool has_maximum;
  double maximum;
  double multiple_of;              /* 0: no multipleOf */
  bool closed;                     /* additionalProperties: false */
  bool required;                   /* listed in its parent's "required" */
  size_t property_count;           /* properties of an object node */
} ocpp_schema_node_info;

/* Describes the node at path in the request or response schema of action.
 * path is "" for the payload itself, property names joined by '.', and "[]"
 * after a name for the items of that array: "meterValue[].sampledValue[].unit".
 * Returns 0 (info filled), OCPP_EINVAL (NULL action, path or info),
 * OCPP_ENOACTION or OCPP_ENOPATH (no such node). */
int ocpp_schema_describe(const char *action, ocpp_schema_kind kind,
                         const char *path, ocpp_schema_node_info *info);
int ocpp_schema_describe_in(ocpp_version version, const char *action,
                            ocpp_schema_kind kind, const char *path,
                            ocpp_schema_node_info *info);

#endif
