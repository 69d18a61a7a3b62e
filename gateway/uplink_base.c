/* What every backend-link file asks, below all of them: finding a
 * charger's link, whether a tag is the backend's, the log line, and the
 * time format of OCPP. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink_impl.h"

gw_uplink *gw__uplink_find(const gw_uplinks *u, const char *charger_id)
{
  for (size_t i = 0; u && charger_id && i < u->n; i++)
    if (u->links[i] && strcmp(u->links[i]->charger_id, charger_id) == 0)
      return u->links[i];
  return NULL;
}

void gw__uplink_utc_text(time_t t, char out[32])
{
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void gw__uplink_log(gw_uplink *l, ocpp_log_level level, const char *message)
{
  if (l->set->hooks.on_log)
    l->set->hooks.on_log(l->set->user_data, level, l->charger_id, message);
}

/* The backend's tags are matched as the charger's tag_match says, like the
 * charger's own list. */
bool gw__uplink_backend_tag(const gw_uplink *l, const char *tag)
{
  /* KNX starts with remote_tag: local control, not the backend's session */
  if (l->remote_tag[0] && strcmp(tag, l->remote_tag) == 0)
    return false;
  for (size_t i = 0; i < l->conf.n_tags; i++) {
    const char *t = l->conf.tags[i];
    if (strcmp(t, "*") == 0 || ocpp_tags_equal(l->tag_match, t, tag))
      return true;
  }
  return false;
}
