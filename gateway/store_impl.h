/* Internal to the store (store_db.c, store_records.c, store_csv.c): the
 * context struct, the in-memory records and the helpers the files share.
 * Not installed, not for other modules. */
#ifndef OCPPKNX_GW_STORE_IMPL_H
#define OCPPKNX_GW_STORE_IMPL_H

#include "gateway/errors.h"
#include "gateway/store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define MAX_METER_WH 1e15       /* beyond any real register; keeps llround defined */

/* ---- statements (store_db.c prepares them on first use) ------------------ */

typedef enum {
  ST_ID_TAKEN,
  ST_BEGIN_INSERT,
  ST_COUNTER_RAISE,
  ST_STOPPED_DUP,
  ST_RUNNING_ROW,
  ST_END_UPDATE,
  ST_MIN_SYNTHETIC,
  ST_RECOVERED_INSERT,
  ST_METER_UPDATE,
  ST_METER_STALE,
  ST_CHARGER_UPSERT,
  ST_FIND,
  ST_FIND_TEXT,
  ST_SAME_START,
  ST_CHARGER_INFO,
  ST_AUTH_PUT,
  ST_AUTH_GET,
  ST_PASSWORD_GET,
  ST_PASSWORD_SET,
  ST_PASSWORD_DELETE,
  ST_QUEUE_PUT,
  ST_QUEUE_HEAD,
  ST_QUEUE_DROP,
  ST_QUEUE_STATS,
  ST_UPTX_ADD,
  ST_UPTX_GET,
  ST_UPTX_SET,
  ST_COUNT
} stmt_id;

/* ---- in-memory records (store_records.c) --------------------------------- */

typedef struct {
  bool has;
  int connector;
  double first_wh, last_wh;
  time_t first_time, last_time;
} meter_snap;

typedef enum { REC_BEGIN, REC_END, REC_CHARGER } rec_kind;

enum { TXT_TAG = 0, TXT_REASON = 1, TXT_TAG_NAME = 2, TXT_CHARGER_TX = 3,
       TXT_COUNT = 4 };

typedef struct {
  rec_kind kind;
  char *charger_id;
  char *text[TXT_COUNT]; /* begin/end: tag, reason, tag name, the
                            charger's transactionId (begin, OCPP 2.0.1);
                            charger: vendor..firmware */
  int connector;
  int32_t id;
  bool has_wh;
  double wh;             /* begin: meter start; end: meter stop */
  time_t when;           /* begin: start; end: stop; charger: updated */
  meter_snap snap;       /* end: unwritten readings taken over at the stop */
} record;

typedef struct {
  char *charger_id; /* NULL: free slot */
  int32_t id;
  uint32_t hash;
  meter_snap snap;
} meter_slot;

typedef struct {
  bool duplicate, has_energy;
  double energy_wh;
} end_result;

struct gw_store {
  sqlite3 *db;
  bool read_only;
  sqlite3_stmt *stmt[ST_COUNT];
  int64_t next_id;
  record *deferred;
  size_t n_deferred, cap_deferred;
  bool meters_failed;
  meter_slot *meters;
  size_t n_meters, cap_meters; /* cap_meters: power of two or 0 */
  gw_store_tag_namer namer;
  void *namer_data;
  char err[256];
  char find_charger[GW_STORE_MAX_TEXT + 1];
  char find_tag[GW_STORE_MAX_TEXT + 1];
  char find_reason[GW_STORE_MAX_TEXT + 1];
  char find_charger_tx[GW_STORE_MAX_TEXT + 1];
};

/* ---- shared helpers (store_db.c) ----------------------------------------- */

/* Fills st->err (gw_store_last_error). */
void store_error(gw_store *st, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* store_error with what failed and SQLite's message. */
void store_db_error(gw_store *st, const char *what);

/* A store whose open failed only answers gw_store_last_error(); write: also
 * false for a read-only store. */
bool store_usable(const gw_store *st, bool write);

/* The prepared statement `id`, reset and unbound; NULL (error set) when it
 * cannot be prepared. */
sqlite3_stmt *store_stmt(gw_store *st, stmt_id id);

/* Steps a statement that returns no row: 0 or -1 (error set). */
int store_step_done(gw_store *st, sqlite3_stmt *s, const char *what);

/* Steps a statement expected to return at most one row: 1 row, 0 none,
 * -1 error. The statement is left on its row for the caller to read. */
int store_step_row(gw_store *st, sqlite3_stmt *s, const char *what);

/* A row in the columns of ST_FIND (charger_id, connector,
 * charger_transaction_id, id_tag, start, stop, meter_start_wh,
 * meter_stop_wh, energy_wh, stop_reason, charger_tx_text) as a session; its strings are the
 * row's, valid until the statement steps or resets (store_records.c). */
void store_session_of_row(sqlite3_stmt *s, gw_session *out);

/* Runs SQL without results: 0 or -1 (error set). */
int store_exec(gw_store *st, const char *sql);

/* Rolls back an open transaction, if any. */
void store_rollback(gw_store *st);

/* Text arguments of the API: at most GW_STORE_MAX_TEXT bytes; a charger id
 * also not empty. */
static inline bool store_text_ok(const char *s) {
  return s == NULL || strnlen(s, GW_STORE_MAX_TEXT + 1) <= GW_STORE_MAX_TEXT;
}

static inline bool store_charger_ok(const char *s) {
  return s != NULL && s[0] != '\0' && store_text_ok(s);
}

static inline void bind_text(sqlite3_stmt *s, int i, const char *v) {
  sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* 0 stands for an unknown time in the API and NULL in the database. */
static inline void bind_time(sqlite3_stmt *s, int i, time_t t) {
  if (t == 0)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_int64(s, i, (sqlite3_int64)t);
}

static inline void bind_opt_double(sqlite3_stmt *s, int i, bool has, double v) {
  if (has)
    sqlite3_bind_double(s, i, v);
  else
    sqlite3_bind_null(s, i);
}

/* ---- records (store_records.c) ------------------------------------------- */

/* On close: writes what waits (best effort, when the store is writable) and
 * frees the deferred records and the pending readings. */
void store_records_close(gw_store *st);
/* store_db.c: finalizes the statements, closes the database, frees st */
void store_db_close(gw_store *st);

#endif
