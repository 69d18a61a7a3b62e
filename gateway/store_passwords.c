/* gw_store, rotated Basic Auth passwords (gw_store_*_password). See
 * store.h. */
#include "gateway/store_impl.h"

#include <string.h>
#include <time.h>

static bool password_ok(const char *p, bool may_be_null) {
  if (p == NULL)
    return may_be_null;
  size_t n = strlen(p);
  return n > 0 && n <= GW_STORE_PASSWORD_MAX;
}

int gw_store_get_password(gw_store *st, const char *charger_id,
                          gw_stored_password *out) {
  if (!store_usable(st, false) || !store_charger_ok(charger_id) || out == NULL)
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_PASSWORD_GET);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  int rc = store_step_row(st, s, "read password");
  if (rc <= 0)
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  const unsigned char *pw = sqlite3_column_text(s, 0);
  const unsigned char *prev = sqlite3_column_text(s, 1);
  memset(out, 0, sizeof *out);
  if (pw == NULL || !password_ok((const char *)pw, false) ||
      (prev != NULL && !password_ok((const char *)prev, false))) {
    sqlite3_reset(s);
    store_error(st, "stored password of %s is not usable", charger_id);
    return GW_EIO;
  }
  memcpy(out->password, pw, strlen((const char *)pw));
  if (prev != NULL) {
    out->has_previous = true;
    memcpy(out->previous, prev, strlen((const char *)prev));
  }
  sqlite3_reset(s);
  return 0;
}

int gw_store_set_password(gw_store *st, const char *charger_id,
                          const char *password, const char *previous) {
  if (!store_usable(st, true) || !store_charger_ok(charger_id) ||
      !password_ok(password, false) || !password_ok(previous, true))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_PASSWORD_SET);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  bind_text(s, 2, password);
  if (previous != NULL)
    bind_text(s, 3, previous);
  sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
  int rc = store_step_done(st, s, "store password");
  sqlite3_clear_bindings(s);
  return rc < 0 ? GW_EIO : 0;
}

int gw_store_forget_password(gw_store *st, const char *charger_id) {
  if (!store_usable(st, true) || !store_charger_ok(charger_id))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_PASSWORD_DELETE);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  return store_step_done(st, s, "forget password") < 0 ? GW_EIO : 0;
}
