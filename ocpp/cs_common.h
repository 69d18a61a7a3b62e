/* The central system roles' shared handler helpers (cs_common.c).
 * Internal to the engine. */
#ifndef OCPPKNX_OCPP_CS_COMMON_H
#define OCPPKNX_OCPP_CS_COMMON_H

#include "ocpp/codec.h"
#include "ocpp/session_impl.h"

/* The decision on one idTag, with what the owner's list adds to it. */
typedef struct {
  ocpp_auth_status status;
  time_t expiry;                /* 0 = none */
  char name[OCPP_TAG_NAME_MAX + 1];
} ocpp_cs_verdict;

/* The string member key of req, "" when absent or not a string. */
const char *ocpp__cs_str(const json_t *req, const char *key);
/* The integer member key of obj when it fits an int, else fallback. */
int ocpp__cs_int(const json_t *obj, const char *key, int fallback);
/* The date-time member key of req, or the session's time. */
time_t ocpp__cs_time(const ocpp_session *s, const json_t *req, const char *key);
/* The session's time as a new JSON date-time string. */
json_t *ocpp__cs_now(const ocpp_session *s);
/* Every member of the comma list wanted is in the comma list list, in
 * any order; spaces around members do not count. */
bool ocpp__cs_list_includes(const char *list, const char *wanted);
/* idTagInfo / idTokenInfo of a verdict: {status[, expiryDate]} (the 2.0.1
 * answer calls the date cacheExpiryDateTime: see its caller). */
json_t *ocpp__cs_tag_info(const ocpp_cs_verdict *v);
/* A tag's decision, logged and reported (OCPP_EV_TAG). */
void ocpp__cs_tag_decided(ocpp_session *s, int connector, const char *tag,
                          const ocpp_cs_verdict *v);
/* Decides tag for connector: OCPP_OK with *v, OCPP_EPENDING (out's
 * defer_token set) or another failure with out's CALLERROR. */
int ocpp__cs_check_tag(ocpp_session *s, int connector, const char *tag,
                       ocpp_cs_verdict *v, ocpp_handler_out *out);
/* One sample of connector's transaction tx_id (0: none) into the record
 * and an OCPP_EV_METER event; charger_tx_id is "" for 1.6. */
void ocpp__cs_emit_meter(ocpp_session *s, int connector, int32_t tx_id,
                         const ocpp_meter_sample *m, const char *charger_tx_id);

#endif
