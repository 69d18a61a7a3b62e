/* gw_store, the CSV export (gw_store_export_csv, ..._masked). See
 * store.h. */
#include "gateway/store_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef enum { COL_TEXT, COL_TAG, COL_INT, COL_TIME, COL_WH } col_kind;

/* Export columns in header order; SELECT lists them in the same order. */
static const struct {
  const char *name;
  col_kind kind;
} csv_cols[] = {
  {"charger_id", COL_TEXT},     {"connector", COL_INT},
  {"transaction_id", COL_TEXT}, {"id_tag", COL_TAG},
  {"start", COL_TIME},          {"stop", COL_TIME},
  {"meter_start_wh", COL_WH},   {"meter_stop_wh", COL_WH},
  {"energy_wh", COL_WH},        {"stop_reason", COL_TEXT},
  {"tag_name", COL_TAG},         {"upstream_transaction_id", COL_INT},
};
#define CSV_NCOLS ((int)(sizeof csv_cols / sizeof csv_cols[0]))

static void csv_text(FILE *out, const char *v) {
  if (strpbrk(v, ",\"\r\n") == NULL) {
    fputs(v, out);
    return;
  }
  fputc('"', out);
  for (const char *p = v; *p; p++) {
    if (*p == '"')
      fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

static void csv_field(FILE *out, sqlite3_stmt *s, int col,
                      const char *tag_mask) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    return;
  switch (csv_cols[col].kind) {
  case COL_TEXT:
  case COL_TAG: {
    const unsigned char *v = sqlite3_column_text(s, col);
    const char *text = v ? (const char *)v : "";
    if (csv_cols[col].kind == COL_TAG && tag_mask && *text)
      text = tag_mask;
    csv_text(out, text);
    break;
  }
  case COL_INT:
    fprintf(out, "%lld", (long long)sqlite3_column_int64(s, col));
    break;
  case COL_TIME: {
    time_t t = (time_t)sqlite3_column_int64(s, col);
    struct tm tm;
    char buf[32];
    if (t != 0 && gmtime_r(&t, &tm) != NULL &&
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
      fputs(buf, out);
    break;
  }
  case COL_WH: {
    double v = sqlite3_column_double(s, col);
    if (isfinite(v) && fabs(v) <= MAX_METER_WH)
      fprintf(out, "%lld", (long long)llround(v));
    break;
  }
  }
}

int gw_store_export_csv(gw_store *st, FILE *out, time_t from, time_t to) {
  return gw_store_export_csv_masked(st, out, from, to, NULL);
}

int gw_store_export_csv_masked(gw_store *st, FILE *out, time_t from,
                               time_t to, const char *tag_mask) {
  static const char sql[] =
    /* OCPP 2.0.1 chargers choose string ids: exported as they are */
    "SELECT s.charger_id, s.connector, CASE WHEN s.charger_tx_text <> ''"
    " THEN s.charger_tx_text ELSE s.charger_transaction_id END, s.id_tag,"
    " s.start, s.stop, s.meter_start_wh, s.meter_stop_wh, s.energy_wh,"
    " s.stop_reason, s.tag_name, u.upstream_transaction_id"
    " FROM sessions s LEFT JOIN upstream_transactions u"
    " ON u.charger_id = s.charger_id AND u.transaction_id = s.transaction_id"
    " AND s.transaction_id > 0"
    " WHERE (?1 = 0 OR coalesce(s.start, s.stop) >= ?1)"
    " AND (?2 = 0 OR coalesce(s.start, s.stop) < ?2)"
    " ORDER BY coalesce(s.start, s.stop), s.charger_id,"
    " s.charger_transaction_id";
  if (!store_usable(st, false) || out == NULL || from < 0 || to < 0)
    return GW_EINVAL;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
    store_db_error(st, "export");
    return GW_EIO;
  }
  sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
  for (int c = 0; c < CSV_NCOLS; c++)
    fprintf(out, "%s%s", c ? "," : "", csv_cols[c].name);
  fputc('\n', out);
  int rows = 0, rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW && rows < INT32_MAX) {
    for (int c = 0; c < CSV_NCOLS; c++) {
      if (c)
        fputc(',', out);
      csv_field(out, s, c, tag_mask);
    }
    fputc('\n', out);
    rows++;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    store_db_error(st, "export");
    rows = GW_EIO;
  }
  sqlite3_finalize(s);
  if (rows >= 0 && (fflush(out) != 0 || ferror(out))) {
    store_error(st, "writing the export failed");
    rows = GW_EIO;
  }
  return rows;
}
