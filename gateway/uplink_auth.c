/* The billing backend's idTags: asking it, and its cached answers while
 * it cannot be asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink_impl.h"

/* While the backend cannot be asked: what it answered before. */
static ocpp_auth_status from_cache(gw_uplink *l, const char *tag)
{
  bool accepted = false;
  int rc = gw_store_auth_get(l->set->store, l->charger_id, tag, time(NULL),
                             &accepted);
  char line[160];
  snprintf(line, sizeof line, "backend unreachable: idTag \"%s\" %s", tag,
           rc == GW_OK && accepted ? "accepted from the cache"
           : rc == GW_OK           ? "refused: refused or expired in the cache"
                                   : "refused: unknown to the cache");
  gw__uplink_log(l, OCPP_LOG_INFO, line);
  return rc == GW_OK && accepted ? OCPP_AUTH_ACCEPTED : OCPP_AUTH_INVALID;
}

static const char *const auth_names[] = {
  [OCPP_AUTH_ACCEPTED] = "Accepted", [OCPP_AUTH_BLOCKED] = "Blocked",
  [OCPP_AUTH_EXPIRED] = "Expired", [OCPP_AUTH_INVALID] = "Invalid",
  [OCPP_AUTH_CONCURRENT_TX] = "ConcurrentTx",
};

static ocpp_auth_status auth_of(const char *name)
{
  for (size_t i = 0; name && i < sizeof auth_names / sizeof auth_names[0]; i++)
    if (strcmp(auth_names[i], name) == 0)
      return (ocpp_auth_status)i;
  return OCPP_AUTH_INVALID;
}

/* "2027-01-31T23:59:59Z" (fractions and other zones as UTC); 0 when absent
 * or not a date. */
static time_t expiry_of(const char *text)
{
  struct tm tm = {0};
  const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  return end ? timegm(&tm) : 0;
}

typedef struct {
  gw_uplink *link;
  uint32_t token;
  char tag[21];                  /* IdToken: 20 characters */
} auth_ask;

static void auth_done(void *user_data, bool answered, const json_t *payload,
                      const char *error_code)
{
  (void)error_code;
  auth_ask *a = user_data;
  gw_uplink *l = a->link;
  ocpp_auth_status st;
  if (answered) {
    const json_t *info = json_object_get(payload, "idTagInfo");
    st = auth_of(json_string_value(json_object_get(info, "status")));
    time_t expiry = expiry_of(json_string_value(json_object_get(info, "expiryDate")));
    if (gw_store_auth_put(l->set->store, l->charger_id, a->tag,
                          st == OCPP_AUTH_ACCEPTED, expiry, time(NULL)) != GW_OK)
      gw__uplink_log(l, OCPP_LOG_WARN,
                     "backend: the answer for an idTag could not be cached");
  } else {
    st = from_cache(l, a->tag);
  }
  if (l->set->hooks.decided)
    l->set->hooks.decided(l->set->user_data, l->charger_id, a->token, st);
  free(a);
}

gw_auth_verdict gw_uplinks_authorize(gw_uplinks *u, const char *charger_id,
                                     const char *id_tag, uint32_t token,
                                     ocpp_auth_status *status)
{
  gw_uplink *l = gw__uplink_find(u, charger_id);
  if (!l || !id_tag || !gw__uplink_backend_tag(l, id_tag))
    return GW_AUTH_LOCAL;
  auth_ask *a = calloc(1, sizeof *a);
  if (a) {
    a->link = l;
    a->token = token;
    snprintf(a->tag, sizeof a->tag, "%s", id_tag);
    if (ocpp_upstream_call(l->up, "Authorize",
                           json_pack("{s:s}", "idTag", a->tag), auth_done,
                           a) == OCPP_OK)
      return GW_AUTH_LATER;
    free(a);
  }
  *status = from_cache(l, id_tag);
  return GW_AUTH_NOW;
}
