/* The authorization cache of billing backends: one row per charger and
 * idTag with the backend's last answer, so that a tag the backend accepted
 * can charge while the backend is unreachable, and nothing else can. */
#include <string.h>

#include "gateway/store_impl.h"

int gw_store_auth_put(gw_store *st, const char *charger_id, const char *id_tag,
                      bool accepted, time_t expiry, time_t now) {
  if (!store_usable(st, true) || !store_charger_ok(charger_id) || !store_charger_ok(id_tag))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_AUTH_PUT);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  bind_text(s, 2, id_tag);
  sqlite3_bind_int(s, 3, accepted ? 1 : 0);
  if (expiry)
    sqlite3_bind_int64(s, 4, (sqlite3_int64)expiry);
  sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
  return store_step_done(st, s, "auth cache") == 0 ? 0 : GW_EIO;
}

int gw_store_auth_get(gw_store *st, const char *charger_id, const char *id_tag,
                      time_t now, bool *accepted) {
  if (!store_usable(st, false) || !store_charger_ok(charger_id) || !store_charger_ok(id_tag) ||
      accepted == NULL)
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_AUTH_GET);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  bind_text(s, 2, id_tag);
  int rc = store_step_row(st, s, "auth cache");
  if (rc <= 0)
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  bool expired = sqlite3_column_type(s, 1) != SQLITE_NULL &&
                 (time_t)sqlite3_column_int64(s, 1) <= now;
  *accepted = sqlite3_column_int(s, 0) == 1 && !expired;
  sqlite3_reset(s);
  return 0;
}
