/* gw_store, the reports of the status page: the last sessions and the
 * energy per month. See store.h. */
#include "gateway/store_impl.h"

#include <math.h>

/* Statements run once per status refresh at most, so they are prepared
 * per call and not kept. */
static sqlite3_stmt *prepare(gw_store *st, const char *sql, const char *what)
{
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
    store_db_error(st, what);
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* Steps through every row; returns the count or GW_EIO. */
static int finish_rows(gw_store *st, sqlite3_stmt *s, int rc, int rows,
                       const char *what)
{
  if (rc != SQLITE_DONE) {
    store_db_error(st, what);
    rows = GW_EIO;
  }
  sqlite3_finalize(s);
  return rows;
}

int gw_store_recent(gw_store *st, int limit,
                    void (*fn)(void *user_data, const gw_session *s),
                    void *user_data)
{
  static const char sql[] =
    "SELECT charger_id, connector, charger_transaction_id, id_tag, start,"
    " stop, meter_start_wh, meter_stop_wh, energy_wh, stop_reason,"
    " charger_tx_text FROM sessions ORDER BY coalesce(start, stop) DESC, rowid DESC"
    " LIMIT ?1";
  if (!store_usable(st, false) || !fn || limit < 1 || limit > 1000)
    return GW_EINVAL;
  sqlite3_stmt *s = prepare(st, sql, "recent sessions");
  if (!s)
    return GW_EIO;
  sqlite3_bind_int(s, 1, limit);
  int rows = 0, rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    gw_session one;
    store_session_of_row(s, &one);
    fn(user_data, &one);
    rows++;
  }
  return finish_rows(st, s, rc, rows, "recent sessions");
}

int gw_store_energy_by_month(gw_store *st, time_t from, time_t to,
                             void (*fn)(void *user_data, int64_t month,
                                        const char *charger_id,
                                        const char *id_tag, double wh),
                             void *user_data)
{
  static const char sql[] =
    "SELECT CAST(strftime('%Y', start, 'unixepoch') AS INTEGER) * 12"
    " + CAST(strftime('%m', start, 'unixepoch') AS INTEGER) - 1 AS month,"
    " charger_id, id_tag, sum(energy_wh)"
    " FROM sessions WHERE start >= ?1 AND start < ?2"
    " AND energy_wh IS NOT NULL"
    " GROUP BY month, charger_id, id_tag ORDER BY month, charger_id, id_tag";
  if (!store_usable(st, false) || !fn || from < 0 || to <= from)
    return GW_EINVAL;
  sqlite3_stmt *s = prepare(st, sql, "energy per month");
  if (!s)
    return GW_EIO;
  sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
  int rows = 0, rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    double wh = sqlite3_column_double(s, 3);
    const unsigned char *id = sqlite3_column_text(s, 1);
    const unsigned char *tag = sqlite3_column_text(s, 2);
    if (isfinite(wh) && fabs(wh) <= MAX_METER_WH)
      fn(user_data, sqlite3_column_int64(s, 0), id ? (const char *)id : "",
         tag ? (const char *)tag : "", wh);
    rows++;
  }
  return finish_rows(st, s, rc, rows, "energy per month");
}
