/* The queue of billing backends: transaction messages kept in order until
 * the backend answered them, and the backend's transaction id of each of
 * its sessions. Each write is its own durable database transaction, never
 * deferred: the charger is answered only after the message is on disk, so
 * what the charger was told reaches the backend after any crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/store_impl.h"

static bool action_ok(const char *a) {
  return a != NULL && a[0] != '\0' && strlen(a) < sizeof ((gw_queued *)0)->action;
}

/* Runs the statements of one message as one database transaction. */
static int begin_write(gw_store *st) {
  return store_exec(st, "BEGIN IMMEDIATE") < 0 ? -1 : 0;
}

static int end_write(gw_store *st, int rc) {
  if (rc == 0 && store_exec(st, "COMMIT") == 0)
    return 0;
  store_rollback(st);
  return GW_EIO;
}

int gw_store_queue_put(gw_store *st, const char *charger_id,
                       int32_t transaction_id, const char *action,
                       const char *payload, time_t queued) {
  if (!store_usable(st, true) || !store_charger_ok(charger_id) ||
      !action_ok(action) || payload == NULL ||
      strnlen(payload, GW_STORE_PAYLOAD_MAX + 1) > GW_STORE_PAYLOAD_MAX)
    return GW_EINVAL;
  if (begin_write(st) < 0)
    return GW_EIO;
  int rc = -1;
  sqlite3_stmt *s = store_stmt(st, ST_QUEUE_PUT);
  if (s != NULL) {
    bind_text(s, 1, charger_id);
    sqlite3_bind_int(s, 2, transaction_id);
    bind_text(s, 3, action);
    bind_text(s, 4, payload);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)queued);
    rc = store_step_done(st, s, "upstream queue");
  }
  if (rc == 0 && strcmp(action, "StartTransaction") == 0) {
    s = store_stmt(st, ST_UPTX_ADD);
    rc = -1;
    if (s != NULL) {
      bind_text(s, 1, charger_id);
      sqlite3_bind_int(s, 2, transaction_id);
      rc = store_step_done(st, s, "upstream transaction");
    }
  }
  return end_write(st, rc);
}

int gw_store_queue_head(gw_store *st, const char *charger_id, gw_queued *out) {
  if (!store_usable(st, false) || !store_charger_ok(charger_id) || out == NULL)
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_QUEUE_HEAD);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  int rc = store_step_row(st, s, "upstream queue");
  if (rc <= 0)
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  const unsigned char *action = sqlite3_column_text(s, 2);
  const unsigned char *payload = sqlite3_column_text(s, 3);
  *out = (gw_queued){
    .seq = sqlite3_column_int64(s, 0),
    .transaction_id = (int32_t)sqlite3_column_int(s, 1),
    .payload = strdup(payload ? (const char *)payload : "{}"),
    .queued = (time_t)sqlite3_column_int64(s, 4),
  };
  snprintf(out->action, sizeof out->action, "%s",
           action ? (const char *)action : "");
  sqlite3_reset(s);
  return out->payload ? 0 : GW_ENOMEM;
}

int gw_store_queue_done(gw_store *st, int64_t seq, const char *charger_id,
                        int32_t transaction_id, bool has_upstream_id,
                        int32_t upstream_id) {
  if (!store_usable(st, true) || !store_charger_ok(charger_id))
    return GW_EINVAL;
  if (begin_write(st) < 0)
    return GW_EIO;
  int rc = 0;
  sqlite3_stmt *s;
  if (has_upstream_id) {
    rc = -1;
    if ((s = store_stmt(st, ST_UPTX_SET)) != NULL) {
      bind_text(s, 1, charger_id);
      sqlite3_bind_int(s, 2, transaction_id);
      sqlite3_bind_int(s, 3, upstream_id);
      rc = store_step_done(st, s, "upstream transaction");
    }
  }
  if (rc == 0) {
    rc = -1;
    if ((s = store_stmt(st, ST_QUEUE_DROP)) != NULL) {
      sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
      rc = store_step_done(st, s, "upstream queue");
    }
  }
  return end_write(st, rc);
}

int gw_store_queue_stats(gw_store *st, const char *charger_id, int *count,
                         time_t *oldest) {
  if (!store_usable(st, false) || !store_charger_ok(charger_id) ||
      count == NULL || oldest == NULL)
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_QUEUE_STATS);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  int rc = store_step_row(st, s, "upstream queue");
  if (rc < 0)
    return GW_EIO;
  *count = rc ? sqlite3_column_int(s, 0) : 0;
  *oldest = rc ? (time_t)sqlite3_column_int64(s, 1) : 0;
  sqlite3_reset(s);
  return 0;
}

int gw_store_upstream_tx(gw_store *st, const char *charger_id,
                         int32_t transaction_id, bool *known,
                         int32_t *upstream_id) {
  if (!store_usable(st, false) || !store_charger_ok(charger_id) ||
      known == NULL || upstream_id == NULL)
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_UPTX_GET);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, transaction_id);
  int rc = store_step_row(st, s, "upstream transaction");
  if (rc <= 0)
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  *known = sqlite3_column_type(s, 0) != SQLITE_NULL;
  *upstream_id = *known ? (int32_t)sqlite3_column_int(s, 0) : 0;
  sqlite3_reset(s);
  return 0;
}
