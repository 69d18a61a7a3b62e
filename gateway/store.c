/* gw_store: SQLite session store. See store.h for the contract.
 *
 * Every write (start, stop, charger info) becomes a record appended to an
 * in-memory list, and the whole list is then written in one transaction.
 * Normally the list holds just that record and is empty again when the call
 * returns; when the disk fails the transaction rolls back and the records
 * wait, in order, for gw_store_flush() or the next write. Applying a record
 * twice changes nothing, so replays are safe.
 *
 * Meter readings are only the newest per (charger, transaction); they live
 * in a small hash table and are written by gw_store_flush().
 */
#include "gateway/store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_NAME "ocppknx.db"
#define BUSY_TIMEOUT_MS 2000
#define MAX_DEFERRED 65536      /* records kept while the disk fails */
#define MAX_PENDING_METERS 4096 /* transactions with an unwritten reading */
#define MAX_CONNECTOR 1000
#define MAX_ID_PROBES 100000    /* ids skipped because a charger made them up */
#define MAX_METER_WH 1e15       /* beyond any real register; keeps llround defined */
#define COUNTER_KEY "next_transaction_id"
#define PATH_CAP 4096           /* dir + "/ocppknx.db" */

/* ---- statements ---------------------------------------------------------- */

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
  ST_SAME_START,
  ST_COUNT
} stmt_id;

/* Rows for ids the charger makes up (<= 0) are stored under a synthetic
 * negative transaction_id so repeats of 0 or -1 do not collide; the
 * charger's own id stays in charger_transaction_id, which is what lookups
 * and the export use. For the ids we hand out both columns are equal. */
static const char *const stmt_sql[ST_COUNT] = {
  [ST_ID_TAKEN] = "SELECT 1 FROM sessions WHERE transaction_id = ?1 LIMIT 1",
  [ST_BEGIN_INSERT] =
    "INSERT OR IGNORE INTO sessions (charger_id, connector, transaction_id,"
    " charger_transaction_id, id_tag, start, meter_start_wh, recovered)"
    " VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, 0)",
  [ST_COUNTER_RAISE] =
    "UPDATE meta SET value = max(value, ?1) WHERE key = '" COUNTER_KEY "'",
  [ST_STOPPED_DUP] =
    "SELECT 1 FROM sessions WHERE charger_id = ?1"
    " AND charger_transaction_id = ?2 AND stop_reason IS NOT NULL"
    " AND (?2 > 0 OR stop IS ?3) LIMIT 1",
  [ST_RUNNING_ROW] =
    "SELECT rowid, meter_start_wh, last_meter_wh, last_meter_time"
    " FROM sessions WHERE charger_id = ?1 AND charger_transaction_id = ?2"
    " AND stop_reason IS NULL ORDER BY rowid DESC LIMIT 1",
  [ST_END_UPDATE] =
    "UPDATE sessions SET stop = ?2, meter_stop_wh = ?3, energy_wh = ?4,"
    " stop_reason = ?5, last_meter_wh = ?6, last_meter_time = ?7,"
    " id_tag = CASE WHEN id_tag = '' THEN ?8 ELSE id_tag END"
    " WHERE rowid = ?1",
  [ST_MIN_SYNTHETIC] =
    "SELECT min(transaction_id) FROM sessions WHERE charger_id = ?1"
    " AND transaction_id < 0",
  [ST_RECOVERED_INSERT] =
    "INSERT OR IGNORE INTO sessions (charger_id, connector, transaction_id,"
    " charger_transaction_id, id_tag, start, stop, meter_start_wh,"
    " meter_stop_wh, last_meter_wh, last_meter_time, energy_wh, stop_reason,"
    " recovered)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1)",
  [ST_METER_UPDATE] =
    "UPDATE sessions SET last_meter_wh = ?2, last_meter_time = ?3"
    " WHERE rowid = ?1 AND (last_meter_time IS NULL OR last_meter_time <= ?3)",
  /* A reading for a session that already stopped is a late replay, not a
   * new session; for repeating ids only when it is not newer than the stop. */
  [ST_METER_STALE] =
    "SELECT 1 FROM sessions WHERE charger_id = ?1"
    " AND charger_transaction_id = ?2 AND (?2 > 0 OR stop >= ?3) LIMIT 1",
  [ST_CHARGER_UPSERT] =
    "INSERT INTO chargers (charger_id, vendor, model, serial, firmware,"
    " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (charger_id) DO UPDATE SET vendor = excluded.vendor,"
    " model = excluded.model, serial = excluded.serial,"
    " firmware = excluded.firmware, updated = excluded.updated",
  [ST_FIND] =
    "SELECT charger_id, connector, charger_transaction_id, id_tag, start,"
    " stop, meter_start_wh, meter_stop_wh, energy_wh, stop_reason"
    " FROM sessions WHERE charger_id = ?1 AND charger_transaction_id = ?2"
    " ORDER BY rowid DESC LIMIT 1",
  /* The running session a repeated StartTransaction refers to: the newest
   * of ours (not recovered) on that connector, if it is still running and
   * has the same tag, start time and meter start. A connector runs one
   * transaction at a time, so an older one never matches, and a stopped one
   * does not either, so chargers whose clock is stuck cannot fold two
   * sessions into one. Walks the primary key backwards: no scan. */
  [ST_SAME_START] =
    "SELECT transaction_id FROM (SELECT transaction_id, id_tag, start,"
    " meter_start_wh, stop_reason FROM sessions WHERE charger_id = ?1"
    " AND connector = ?2 AND recovered = 0 AND transaction_id > 0"
    " ORDER BY transaction_id DESC LIMIT 1)"
    " WHERE id_tag = ?3 AND start = ?4 AND meter_start_wh = ?5"
    " AND stop_reason IS NULL",
};

/* ---- schema migrations --------------------------------------------------- */

/* migrations[n] takes the schema from user_version n to n + 1. Add new steps
 * at the end; never edit a step that has shipped. */
static const char *const migrations[] = {
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
  "INSERT INTO meta (key, value) VALUES ('" COUNTER_KEY "', 1);"
  "CREATE TABLE sessions ("
  " charger_id TEXT NOT NULL, connector INTEGER,"
  " transaction_id INTEGER NOT NULL, charger_transaction_id INTEGER NOT NULL,"
  " id_tag TEXT NOT NULL DEFAULT '', start INTEGER, stop INTEGER,"
  " meter_start_wh REAL, meter_stop_wh REAL, last_meter_wh REAL,"
  " last_meter_time INTEGER, energy_wh REAL, stop_reason TEXT,"
  " recovered INTEGER NOT NULL DEFAULT 0,"
  " PRIMARY KEY (charger_id, transaction_id));"
  "CREATE INDEX sessions_by_charger_id ON sessions"
  " (charger_id, charger_transaction_id);"
  "CREATE INDEX sessions_by_id ON sessions (transaction_id);"
  "CREATE TABLE chargers (charger_id TEXT PRIMARY KEY, vendor TEXT,"
  " model TEXT, serial TEXT, firmware TEXT, updated INTEGER);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- in-memory records --------------------------------------------------- */

typedef struct {
  bool has;
  int connector;
  double first_wh, last_wh;
  time_t first_time, last_time;
} meter_snap;

typedef enum { REC_BEGIN, REC_END, REC_CHARGER } rec_kind;

enum { TXT_TAG = 0, TXT_REASON = 1, TXT_COUNT = 4 };

typedef struct {
  rec_kind kind;
  char *charger_id;
  char *text[TXT_COUNT]; /* begin/end: tag, reason; charger: vendor..firmware */
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
  char err[256];
  char find_charger[GW_STORE_MAX_TEXT + 1];
  char find_tag[GW_STORE_MAX_TEXT + 1];
  char find_reason[GW_STORE_MAX_TEXT + 1];
};

/* ---- small helpers ------------------------------------------------------- */

static void set_error(gw_store *st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->err, sizeof st->err, fmt, ap);
  va_end(ap);
}

static void set_db_error(gw_store *st, const char *what) {
  set_error(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

/* A store whose open failed only answers gw_store_last_error(). */
static bool usable(const gw_store *st, bool write) {
  return st != NULL && st->db != NULL && !(write && st->read_only);
}

static bool text_ok(const char *s) {
  return s == NULL || strnlen(s, GW_STORE_MAX_TEXT + 1) <= GW_STORE_MAX_TEXT;
}

static bool charger_ok(const char *s) {
  return s != NULL && s[0] != '\0' && text_ok(s);
}

static bool wh_ok(double wh) {
  return isfinite(wh) && fabs(wh) <= MAX_METER_WH;
}

static char *dup_text(const char *s) {
  return strdup(s ? s : "");
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
  sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* 0 stands for an unknown time in the API and NULL in the database. */
static void bind_time(sqlite3_stmt *s, int i, time_t t) {
  if (t == 0)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_int64(s, i, (sqlite3_int64)t);
}

static void bind_opt_double(sqlite3_stmt *s, int i, bool has, double v) {
  if (has)
    sqlite3_bind_double(s, i, v);
  else
    sqlite3_bind_null(s, i);
}

static sqlite3_stmt *stmt_get(gw_store *st, stmt_id id) {
  sqlite3_stmt *s = st->stmt[id];
  if (s != NULL) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }
  if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                         &s, NULL) != SQLITE_OK) {
    set_db_error(st, "prepare");
    return NULL;
  }
  st->stmt[id] = s;
  return s;
}

/* Steps a statement that returns no row. */
static int step_done(gw_store *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    set_db_error(st, what);
    return -1;
  }
  return 0;
}

/* Steps a statement expected to return at most one row: 1 row, 0 none,
 * -1 error. The statement is left on its row for the caller to read. */
static int step_row(gw_store *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return 1;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return 0;
  set_db_error(st, what);
  return -1;
}

static int exec_sql(gw_store *st, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    set_error(st, "%s", msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static void rollback(gw_store *st) {
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Newest of the two last readings wins. */
static void merge_last(bool *has, double *wh, time_t *t, const meter_snap *m) {
  if (m->has && (!*has || m->last_time >= *t)) {
    *has = true;
    *wh = m->last_wh;
    *t = m->last_time;
  }
}

static void energy_from(bool has_start, double start_wh, bool has_stop,
                        double stop_wh, bool has_last, double last_wh,
                        end_result *res) {
  res->has_energy = false;
  res->energy_wh = 0;
  if (has_start && has_stop) {
    res->has_energy = true;
    res->energy_wh = stop_wh - start_wh;
  } else if (has_start && has_last) {
    res->has_energy = true;
    res->energy_wh = last_wh - start_wh;
  }
}

/* ---- record list --------------------------------------------------------- */

static void record_free(record *r) {
  free(r->charger_id);
  for (int i = 0; i < TXT_COUNT; i++)
    free(r->text[i]);
}

static void deferred_clear(gw_store *st) {
  for (size_t i = 0; i < st->n_deferred; i++)
    record_free(&st->deferred[i]);
  st->n_deferred = 0;
}

/* Takes ownership of r (freed on failure too). */
static int deferred_push(gw_store *st, record *r) {
  if (r->charger_id == NULL)
    goto fail;
  for (int i = 0; i < TXT_COUNT; i++)
    if (r->text[i] == NULL)
      goto fail;
  if (st->n_deferred == MAX_DEFERRED) {
    set_error(st, "too many records waiting for the disk");
    goto fail;
  }
  if (st->n_deferred == st->cap_deferred) {
    size_t cap = st->cap_deferred ? st->cap_deferred * 2 : 8;
    record *v = realloc(st->deferred, cap * sizeof *v);
    if (v == NULL)
      goto fail;
    st->deferred = v;
    st->cap_deferred = cap;
  }
  st->deferred[st->n_deferred++] = *r;
  return 0;
fail:
  record_free(r);
  return GW_STORE_ENOMEM;
}

/* ---- pending meter readings ---------------------------------------------- */

static uint32_t meter_hash(const char *charger_id, int32_t id) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)charger_id; *p; p++)
    h = (h ^ *p) * 16777619u;
  uint32_t u = (uint32_t)id;
  for (int i = 0; i < 4; i++, u >>= 8)
    h = (h ^ (u & 0xffu)) * 16777619u;
  return h;
}

static size_t meter_find(const gw_store *st, const char *charger_id,
                         int32_t id, uint32_t hash) {
  size_t mask = st->cap_meters - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const meter_slot *m = &st->meters[i];
    if (m->charger_id == NULL ||
        (m->hash == hash && m->id == id && strcmp(m->charger_id, charger_id) == 0))
      return i;
  }
}

static int meter_grow(gw_store *st) {
  size_t cap = st->cap_meters ? st->cap_meters * 2 : 16;
  meter_slot *v = calloc(cap, sizeof *v);
  if (v == NULL)
    return GW_STORE_ENOMEM;
  meter_slot *old = st->meters;
  size_t old_cap = st->cap_meters;
  st->meters = v;
  st->cap_meters = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].charger_id != NULL)
      st->meters[meter_find(st, old[i].charger_id, old[i].id, old[i].hash)] =
        old[i];
  free(old);
  return 0;
}

/* Removes a pending reading and returns it (snap->has false when none). */
static void meter_take(gw_store *st, const char *charger_id, int32_t id,
                       meter_snap *snap) {
  memset(snap, 0, sizeof *snap);
  if (st->n_meters == 0)
    return;
  size_t mask = st->cap_meters - 1;
  size_t i = meter_find(st, charger_id, id, meter_hash(charger_id, id));
  if (st->meters[i].charger_id == NULL)
    return;
  *snap = st->meters[i].snap;
  free(st->meters[i].charger_id);
  st->meters[i].charger_id = NULL;
  st->n_meters--;
  /* Backward-shift deletion keeps linear probing chains intact. */
  for (size_t j = (i + 1) & mask; st->meters[j].charger_id != NULL;
       j = (j + 1) & mask) {
    size_t home = st->meters[j].hash & mask;
    bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      st->meters[i] = st->meters[j];
      st->meters[j].charger_id = NULL;
      i = j;
    }
  }
}

static void meters_clear(gw_store *st) {
  for (size_t i = 0; i < st->cap_meters; i++) {
    free(st->meters[i].charger_id);
    st->meters[i].charger_id = NULL;
  }
  st->n_meters = 0;
}

/* ---- applying records (inside a write transaction) ----------------------- */

/* What the database knows about the session a stop or reading refers to. */
typedef struct {
  bool running;          /* a row without stop exists */
  sqlite3_int64 rowid;
  bool has_start_wh;
  double start_wh;
  bool has_last;
  double last_wh;
  time_t last_time;
} running_row;

static int stopped_dup(gw_store *st, const char *charger_id, int32_t id,
                       time_t stop) {
  sqlite3_stmt *s = stmt_get(st, ST_STOPPED_DUP);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, id);
  bind_time(s, 3, stop);
  int rc = step_row(st, s, "stop lookup");
  sqlite3_reset(s);
  return rc;
}

static int running_lookup(gw_store *st, const char *charger_id, int32_t id,
                          running_row *row) {
  memset(row, 0, sizeof *row);
  sqlite3_stmt *s = stmt_get(st, ST_RUNNING_ROW);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, id);
  int rc = step_row(st, s, "session lookup");
  if (rc == 1) {
    row->running = true;
    row->rowid = sqlite3_column_int64(s, 0);
    row->has_start_wh = sqlite3_column_type(s, 1) != SQLITE_NULL;
    row->start_wh = sqlite3_column_double(s, 1);
    row->has_last = sqlite3_column_type(s, 2) != SQLITE_NULL;
    row->last_wh = sqlite3_column_double(s, 2);
    row->last_time = (time_t)sqlite3_column_int64(s, 3);
    sqlite3_reset(s);
  }
  return rc < 0 ? -1 : 0;
}

/* Key for a recovered row: the charger's id, or a fresh negative key for
 * ids that repeat. */
static int recovered_key(gw_store *st, const char *charger_id, int32_t id,
                         sqlite3_int64 *key) {
  if (id > 0) {
    *key = id;
    return 0;
  }
  sqlite3_stmt *s = stmt_get(st, ST_MIN_SYNTHETIC);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  int rc = step_row(st, s, "key lookup");
  if (rc < 0)
    return -1;
  sqlite3_int64 min = 0;
  if (rc == 1 && sqlite3_column_type(s, 0) != SQLITE_NULL)
    min = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  *key = min - 1;
  return 0;
}

typedef struct {
  const char *charger_id;
  int connector;
  int32_t id;
  const char *tag;
  time_t start, stop;
  bool has_start_wh; double start_wh;
  bool has_stop_wh;  double stop_wh;
  bool has_last;     double last_wh; time_t last_time;
  end_result energy;
  const char *reason; /* NULL: running */
} recovered_row;

static int insert_recovered(gw_store *st, const recovered_row *r) {
  sqlite3_int64 key;
  if (recovered_key(st, r->charger_id, r->id, &key) < 0)
    return -1;
  sqlite3_stmt *s = stmt_get(st, ST_RECOVERED_INSERT);
  if (s == NULL)
    return -1;
  bind_text(s, 1, r->charger_id);
  if (r->connector > 0)
    sqlite3_bind_int(s, 2, r->connector);
  else
    sqlite3_bind_null(s, 2);
  sqlite3_bind_int64(s, 3, key);
  sqlite3_bind_int(s, 4, r->id);
  bind_text(s, 5, r->tag);
  bind_time(s, 6, r->start);
  bind_time(s, 7, r->stop);
  bind_opt_double(s, 8, r->has_start_wh, r->start_wh);
  bind_opt_double(s, 9, r->has_stop_wh, r->stop_wh);
  bind_opt_double(s, 10, r->has_last, r->last_wh);
  if (r->has_last)
    sqlite3_bind_int64(s, 11, (sqlite3_int64)r->last_time);
  bind_opt_double(s, 12, r->energy.has_energy, r->energy.energy_wh);
  if (r->reason != NULL)
    bind_text(s, 13, r->reason);
  return step_done(st, s, "insert recovered session");
}

static int apply_begin(gw_store *st, const record *r) {
  sqlite3_stmt *s = stmt_get(st, ST_BEGIN_INSERT);
  if (s == NULL)
    return -1;
  bind_text(s, 1, r->charger_id);
  sqlite3_bind_int(s, 2, r->connector);
  sqlite3_bind_int(s, 3, r->id);
  bind_text(s, 4, r->text[TXT_TAG]);
  bind_time(s, 5, r->when);
  sqlite3_bind_double(s, 6, r->wh);
  if (step_done(st, s, "insert session") < 0)
    return -1;
  s = stmt_get(st, ST_COUNTER_RAISE);
  if (s == NULL)
    return -1;
  sqlite3_bind_int64(s, 1, (sqlite3_int64)r->id + 1);
  return step_done(st, s, "update counter");
}

static int apply_end(gw_store *st, const record *r, end_result *res) {
  end_result local;
  if (res == NULL)
    res = &local;
  memset(res, 0, sizeof *res);
  int dup = stopped_dup(st, r->charger_id, r->id, r->when);
  if (dup < 0)
    return -1;
  if (dup == 1) {
    res->duplicate = true;
    return 0;
  }
  running_row row;
  if (running_lookup(st, r->charger_id, r->id, &row) < 0)
    return -1;
  if (!row.running && r->snap.has) {
    /* Readings never written: they describe the start of this session. */
    row.has_start_wh = true;
    row.start_wh = r->snap.first_wh;
  }
  merge_last(&row.has_last, &row.last_wh, &row.last_time, &r->snap);
  energy_from(row.has_start_wh, row.start_wh, r->has_wh, r->wh, row.has_last,
              row.last_wh, res);
  if (!row.running) {
    recovered_row rr = {
      .charger_id = r->charger_id, .connector = r->snap.connector,
      .id = r->id, .tag = r->text[TXT_TAG],
      .start = r->snap.has ? r->snap.first_time : 0, .stop = r->when,
      .has_start_wh = row.has_start_wh, .start_wh = row.start_wh,
      .has_stop_wh = r->has_wh, .stop_wh = r->wh,
      .has_last = row.has_last, .last_wh = row.last_wh,
      .last_time = row.last_time, .energy = *res,
      .reason = r->text[TXT_REASON],
    };
    return insert_recovered(st, &rr);
  }
  sqlite3_stmt *s = stmt_get(st, ST_END_UPDATE);
  if (s == NULL)
    return -1;
  sqlite3_bind_int64(s, 1, row.rowid);
  bind_time(s, 2, r->when);
  bind_opt_double(s, 3, r->has_wh, r->wh);
  bind_opt_double(s, 4, res->has_energy, res->energy_wh);
  bind_text(s, 5, r->text[TXT_REASON]);
  bind_opt_double(s, 6, row.has_last, row.last_wh);
  if (row.has_last)
    sqlite3_bind_int64(s, 7, (sqlite3_int64)row.last_time);
  bind_text(s, 8, r->text[TXT_TAG]);
  return step_done(st, s, "update session");
}

static int apply_charger(gw_store *st, const record *r) {
  sqlite3_stmt *s = stmt_get(st, ST_CHARGER_UPSERT);
  if (s == NULL)
    return -1;
  bind_text(s, 1, r->charger_id);
  for (int i = 0; i < 4; i++)
    bind_text(s, 2 + i, r->text[i]);
  sqlite3_bind_int64(s, 6, (sqlite3_int64)r->when);
  return step_done(st, s, "save charger");
}

static int apply_record(gw_store *st, const record *r, end_result *res) {
  switch (r->kind) {
  case REC_BEGIN: return apply_begin(st, r);
  case REC_END: return apply_end(st, r, res);
  case REC_CHARGER: return apply_charger(st, r);
  }
  return -1;
}

static int apply_meter(gw_store *st, const meter_slot *m) {
  running_row row;
  if (running_lookup(st, m->charger_id, m->id, &row) < 0)
    return -1;
  if (row.running) {
    sqlite3_stmt *s = stmt_get(st, ST_METER_UPDATE);
    if (s == NULL)
      return -1;
    sqlite3_bind_int64(s, 1, row.rowid);
    sqlite3_bind_double(s, 2, m->snap.last_wh);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)m->snap.last_time);
    return step_done(st, s, "update meter");
  }
  sqlite3_stmt *s = stmt_get(st, ST_METER_STALE);
  if (s == NULL)
    return -1;
  bind_text(s, 1, m->charger_id);
  sqlite3_bind_int(s, 2, m->id);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)m->snap.first_time);
  int stale = step_row(st, s, "meter lookup");
  sqlite3_reset(s);
  if (stale != 0)
    return stale < 0 ? -1 : 0;
  recovered_row rr = {
    .charger_id = m->charger_id, .connector = m->snap.connector, .id = m->id,
    .tag = "", .start = m->snap.first_time,
    .has_start_wh = true, .start_wh = m->snap.first_wh,
    .has_last = true, .last_wh = m->snap.last_wh,
    .last_time = m->snap.last_time,
  };
  return insert_recovered(st, &rr);
}

/* Writes every deferred record (and, with_meters, the pending readings) in
 * one transaction. res receives the result of the newest record when it is
 * a stop. Returns 0 or GW_STORE_EDEFERRED (everything kept).
 *
 * Any failure defers, not only the disk errors (FULL, READONLY, IOERR,
 * CANTOPEN, BUSY after the timeout): the charger has been or will be
 * answered either way, so keeping the record and retrying is the only
 * choice that loses nothing; gw_store_last_error() tells what failed. */
static int write_all(gw_store *st, bool with_meters, end_result *res) {
  bool meters = with_meters && st->n_meters > 0;
  if (st->n_deferred == 0 && !meters)
    return 0;
  if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
    goto fail;
  for (size_t i = 0; i < st->n_deferred; i++) {
    bool newest = i + 1 == st->n_deferred;
    if (apply_record(st, &st->deferred[i], newest ? res : NULL) < 0)
      goto fail;
  }
  for (size_t i = 0; meters && i < st->cap_meters; i++)
    if (st->meters[i].charger_id != NULL && apply_meter(st, &st->meters[i]) < 0)
      goto fail;
  if (exec_sql(st, "COMMIT") < 0)
    goto fail;
  deferred_clear(st);
  if (meters)
    meters_clear(st);
  if (with_meters)
    st->meters_failed = false;
  return 0;
fail:
  rollback(st);
  if (meters)
    st->meters_failed = true;
  return GW_STORE_EDEFERRED;
}

/* ---- stop results while the disk fails ----------------------------------- */

/* What the stop of r would find, judged from the records still waiting
 * (before index `upto`) and what the database can still read. */
static void preview_end(gw_store *st, const record *r, size_t upto,
                        end_result *res) {
  running_row row = {0};
  bool decided = false;
  memset(res, 0, sizeof *res);
  for (size_t i = upto; i-- > 0 && !decided;) {
    const record *o = &st->deferred[i];
    if (o->id != r->id || strcmp(o->charger_id, r->charger_id) != 0)
      continue;
    if (o->kind == REC_END) {
      if (r->id > 0 || o->when == r->when) {
        res->duplicate = true;
        return;
      }
      decided = true; /* that stop closed the running row; this is a new one */
    } else if (o->kind == REC_BEGIN) {
      row.running = true;
      row.has_start_wh = true;
      row.start_wh = o->wh;
      decided = true;
    }
  }
  if (!decided) {
    if (stopped_dup(st, r->charger_id, r->id, r->when) == 1) {
      res->duplicate = true;
      return;
    }
    if (running_lookup(st, r->charger_id, r->id, &row) < 0)
      memset(&row, 0, sizeof row);
  }
  if (!row.running && r->snap.has) {
    row.has_start_wh = true;
    row.start_wh = r->snap.first_wh;
  }
  merge_last(&row.has_last, &row.last_wh, &row.last_time, &r->snap);
  energy_from(row.has_start_wh, row.start_wh, r->has_wh, r->wh, row.has_last,
              row.last_wh, res);
}

/* ---- open / close -------------------------------------------------------- */

static int migrate(gw_store *st) {
  if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
    return GW_STORE_EOPEN;
  int rc = GW_STORE_EOPEN;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
    set_db_error(st, "read schema version");
    goto done;
  }
  int version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  s = NULL;
  if (version > SCHEMA_VERSION || version < 0) {
    set_error(st, "database schema %d is newer than this program (%d)",
              version, SCHEMA_VERSION);
    rc = GW_STORE_ESCHEMA;
    goto done;
  }
  for (int v = version; v < SCHEMA_VERSION; v++)
    if (exec_sql(st, migrations[v]) < 0)
      goto done;
  if (version < SCHEMA_VERSION) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    if (exec_sql(st, sql) < 0)
      goto done;
  }
  if (exec_sql(st, "COMMIT") < 0)
    goto done;
  rc = 0;
done:
  sqlite3_finalize(s);
  if (rc != 0)
    rollback(st);
  return rc;
}

static int check_version(gw_store *st) {
  sqlite3_stmt *s = NULL;
  int rc = GW_STORE_EOPEN;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
    set_db_error(st, "read schema version");
    goto done;
  }
  int version = sqlite3_column_int(s, 0);
  if (version > SCHEMA_VERSION) {
    set_error(st, "database schema %d is newer than this program (%d)",
              version, SCHEMA_VERSION);
    rc = GW_STORE_ESCHEMA;
  } else if (version < SCHEMA_VERSION) {
    set_error(st, "database schema %d is older than this program (%d)",
              version, SCHEMA_VERSION);
  } else {
    rc = 0;
  }
done:
  sqlite3_finalize(s);
  return rc;
}

/* The counter in meta is authoritative: it survives deleting old sessions
 * and is not moved by ids that chargers make up. It is raised in the same
 * transaction that inserts the session, so a crash right after the commit
 * cannot hand the id out again. The highest id we ever allocated
 * (recovered = 0) is a second floor, for a meta row lost by hand editing. */
static int load_counter(gw_store *st) {
  static const char sql[] =
    "SELECT max(coalesce((SELECT value FROM meta WHERE key = '" COUNTER_KEY
    "'), 1), coalesce((SELECT max(transaction_id) + 1 FROM sessions"
    " WHERE recovered = 0 AND transaction_id > 0), 1))";
  sqlite3_stmt *s = NULL;
  int rc = GW_STORE_EOPEN;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    set_db_error(st, "read transaction counter");
    goto done;
  }
  st->next_id = sqlite3_column_int64(s, 0);
  if (st->next_id < 1)
    st->next_id = 1;
  rc = 0;
done:
  sqlite3_finalize(s);
  return rc;
}

static int make_path(const char *dir, char *path, size_t size) {
  int n = snprintf(path, size, "%s/%s", dir, DB_NAME);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* SQLite gives -wal and -shm the mode of the database file, so creating
 * that one 0600 keeps all three private without touching the umask. */
static int prepare_files(gw_store *st, const char *dir, const char *path) {
  if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
    set_error(st, "mkdir %s: %s", dir, strerror(errno));
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_error(st, "open %s: %s", path, strerror(errno));
    return -1;
  }
  close(fd);
  return 0;
}

static int open_db(gw_store *st, const char *name, int flags) {
  if (sqlite3_open_v2(name, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    if (st->db == NULL)
      return GW_STORE_ENOMEM;
    set_db_error(st, "open");
    return GW_STORE_EOPEN;
  }
  sqlite3_extended_result_codes(st->db, 1);
  sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
  return exec_sql(st, "PRAGMA foreign_keys = ON") < 0 ? GW_STORE_EOPEN : 0;
}

/* true when neither path-wal nor path-shm exists: no writer has the
 * database open and the file itself holds every commit. */
static bool without_wal_files(const char *path) {
  static const char *const suffixes[] = {"-wal", "-shm"};
  char aux[PATH_CAP + 8];
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    snprintf(aux, sizeof aux, "%s%s", path, suffixes[i]);
    if (access(aux, F_OK) == 0 || errno != ENOENT)
      return false;
  }
  return true;
}

/* "file:PATH?immutable=1" with the characters URIs give a meaning escaped. */
static int immutable_uri(const char *path, char *uri, size_t size) {
  size_t n = (size_t)snprintf(uri, size, "file:");
  for (const char *p = path; *p && n + 4 < size; p++) {
    if (strchr("%?#", *p) != NULL)
      n += (size_t)snprintf(uri + n, size - n, "%%%02X", (unsigned char)*p);
    else
      uri[n++] = *p;
  }
  static const char tail[] = "?immutable=1";
  if (n + sizeof tail > size)
    return -1;
  memcpy(uri + n, tail, sizeof tail);
  return 0;
}

/* A reader without write access to the directory cannot create the -shm
 * file SQLite wants for a WAL database. When no writer runs (no -wal, no
 * -shm) the database file is complete and can be read as immutable; a
 * daemon starting during that export could only add sessions the export
 * does not show, since its writes go to a new -wal first. */
static int open_reader(gw_store *st, const char *path) {
  int rc = open_db(st, path, SQLITE_OPEN_READONLY);
  if (rc == 0)
    rc = check_version(st);
  if (rc != GW_STORE_EOPEN || st->db == NULL)
    return rc;
  int code = sqlite3_errcode(st->db) & 0xff; /* primary code */
  if ((code != SQLITE_READONLY && code != SQLITE_CANTOPEN) ||
      !without_wal_files(path))
    return rc;
  char uri[3 * PATH_CAP + 32];
  if (immutable_uri(path, uri, sizeof uri) < 0)
    return rc;
  sqlite3_close(st->db);
  st->db = NULL;
  rc = open_db(st, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  return rc == 0 ? check_version(st) : rc;
}

static int open_writer(gw_store *st, const char *dir, const char *path) {
  if (prepare_files(st, dir, path) < 0)
    return GW_STORE_EOPEN;
  int rc = open_db(st, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (rc != 0)
    return rc;
  if (exec_sql(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL") < 0)
    return GW_STORE_EOPEN;
  rc = migrate(st);
  return rc == 0 ? load_counter(st) : rc;
}

static int open_common(const char *dir, bool read_only, gw_store **out) {
  if (out == NULL)
    return GW_STORE_EINVAL;
  *out = NULL;
  if (dir == NULL || dir[0] == '\0')
    return GW_STORE_EINVAL;
  gw_store *st = calloc(1, sizeof *st);
  if (st == NULL)
    return GW_STORE_ENOMEM;
  st->read_only = read_only;
  char path[PATH_CAP];
  int rc = make_path(dir, path, sizeof path) < 0 ? GW_STORE_EINVAL
           : read_only                          ? open_reader(st, path)
                                                : open_writer(st, dir, path);
  if (rc == 0) {
    *out = st;
    return 0;
  }
  sqlite3_close(st->db);
  st->db = NULL;
  if (rc == GW_STORE_EOPEN || rc == GW_STORE_ESCHEMA)
    *out = st; /* closed, kept so the caller can read why */
  else
    free(st);
  return rc;
}

int gw_store_open(const char *dir, gw_store **out) {
  return open_common(dir, false, out);
}

int gw_store_open_readonly(const char *dir, gw_store **out) {
  return open_common(dir, true, out);
}

void gw_store_close(gw_store *st) {
  if (st == NULL)
    return;
  if (usable(st, true))
    write_all(st, true, NULL);
  for (int i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  sqlite3_close(st->db);
  deferred_clear(st);
  free(st->deferred);
  meters_clear(st);
  free(st->meters);
  free(st);
}

const char *gw_store_last_error(const gw_store *st) {
  return st == NULL ? "no store" : st->err;
}

/* ---- writes -------------------------------------------------------------- */

/* Next free id: skips ids a charger made up that are already stored. A
 * failed read only means we cannot skip; the counter alone keeps our own
 * ids unique. */
static int allocate_id(gw_store *st, int32_t *id) {
  for (int probes = 0; probes < MAX_ID_PROBES; probes++) {
    if (st->next_id > INT32_MAX) {
      set_error(st, "transaction id space exhausted");
      return GW_STORE_EINVAL;
    }
    int32_t candidate = (int32_t)st->next_id;
    int taken = 0;
    for (size_t i = 0; i < st->n_deferred && !taken; i++)
      taken = st->deferred[i].kind == REC_END && st->deferred[i].id == candidate;
    sqlite3_stmt *s = taken ? NULL : stmt_get(st, ST_ID_TAKEN);
    if (s != NULL) {
      sqlite3_bind_int(s, 1, candidate);
      taken = step_row(st, s, "id lookup");
      sqlite3_reset(s);
    }
    if (taken != 1) {
      *id = candidate;
      return 0;
    }
    st->next_id++;
  }
  set_error(st, "no free transaction id found");
  return GW_STORE_EINVAL;
}

/* true when a stop for (charger_id, id) waits in the deferred list after
 * index `from`. */
static bool deferred_stop_after(const gw_store *st, const char *charger_id,
                                int32_t id, size_t from) {
  for (size_t i = from; i < st->n_deferred; i++) {
    const record *o = &st->deferred[i];
    if (o->kind == REC_END && o->id == id &&
        strcmp(o->charger_id, charger_id) == 0)
      return true;
  }
  return false;
}

/* What a StartTransaction says about its session. */
typedef struct {
  const char *charger_id, *tag;
  int connector;
  double meter_start_wh;
  time_t start;
} start_key;

static bool record_has_start(const record *o, const start_key *k) {
  return o->when == k->start && o->wh == k->meter_start_wh &&
         strcmp(o->text[TXT_TAG], k->tag) == 0;
}

/* The id of a still running session that `k` repeats, or 0. A charger that
 * lost our answer (connection or gateway gone) sends its StartTransaction
 * again; a second id would leave the first session running forever. Only
 * the newest start on the connector can be repeated; the waiting records
 * are newer than the database, so they are asked first. */
static int32_t repeated_start(gw_store *st, const start_key *k) {
  if (k->start == 0)
    return 0; /* without a start time a repeat cannot be told apart */
  for (size_t i = st->n_deferred; i-- > 0;) {
    const record *o = &st->deferred[i];
    if (o->kind != REC_BEGIN || o->connector != k->connector ||
        strcmp(o->charger_id, k->charger_id) != 0)
      continue;
    return record_has_start(o, k) &&
           !deferred_stop_after(st, k->charger_id, o->id, i + 1) ? o->id : 0;
  }
  sqlite3_stmt *s = stmt_get(st, ST_SAME_START);
  if (s == NULL)
    return 0;
  bind_text(s, 1, k->charger_id);
  sqlite3_bind_int(s, 2, k->connector);
  bind_text(s, 3, k->tag);
  bind_time(s, 4, k->start);
  sqlite3_bind_double(s, 5, k->meter_start_wh);
  int32_t id = 0;
  if (step_row(st, s, "start lookup") == 1)
    id = (int32_t)sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return id > 0 && !deferred_stop_after(st, k->charger_id, id, 0) ? id : 0;
}

int gw_store_begin(gw_store *st, const char *charger_id, int connector,
                   const char *id_tag, double meter_start_wh, time_t start,
                   int32_t *transaction_id) {
  if (!usable(st, true) || transaction_id == NULL ||
      !charger_ok(charger_id) || !text_ok(id_tag) || connector < 0 ||
      connector > MAX_CONNECTOR || !wh_ok(meter_start_wh) || start < 0)
    return GW_STORE_EINVAL;
  const start_key key = {
    .charger_id = charger_id, .tag = id_tag ? id_tag : "",
    .connector = connector, .meter_start_wh = meter_start_wh, .start = start,
  };
  int32_t same = repeated_start(st, &key);
  if (same > 0) {
    *transaction_id = same;
    return write_all(st, false, NULL);
  }
  int32_t id;
  int rc = allocate_id(st, &id);
  if (rc != 0)
    return rc;
  record r = {
    .kind = REC_BEGIN, .charger_id = dup_text(charger_id),
    .text = {dup_text(id_tag), dup_text(NULL), dup_text(NULL), dup_text(NULL)},
    .connector = connector, .id = id, .has_wh = true, .wh = meter_start_wh,
    .when = start,
  };
  rc = deferred_push(st, &r);
  if (rc != 0)
    return rc;
  /* The id is handed out from here on, whether or not the disk takes it. */
  st->next_id++;
  *transaction_id = id;
  return write_all(st, false, NULL);
}

int gw_store_end(gw_store *st, const char *charger_id, int32_t transaction_id,
                 const char *id_tag, bool has_meter_stop, double meter_stop_wh,
                 time_t stop, const char *reason, bool *duplicate,
                 bool *has_energy, double *energy_wh) {
  if (!usable(st, true) || !charger_ok(charger_id) ||
      !text_ok(id_tag) || !text_ok(reason) || stop < 0 ||
      (has_meter_stop && !wh_ok(meter_stop_wh)))
    return GW_STORE_EINVAL;
  record r = {
    .kind = REC_END, .charger_id = dup_text(charger_id),
    .text = {dup_text(id_tag), dup_text(reason), dup_text(NULL), dup_text(NULL)},
    .id = transaction_id, .has_wh = has_meter_stop,
    .wh = has_meter_stop ? meter_stop_wh : 0, .when = stop,
  };
  meter_snap snap;
  meter_take(st, charger_id, transaction_id, &snap);
  r.snap = snap;
  end_result res = {0};
  int rc;
  if (r.charger_id != NULL) {
    /* Judged before writing, from the database and the records still
     * waiting: the answer when the disk fails, and it keeps a repeated stop
     * out of the waiting list. */
    preview_end(st, &r, st->n_deferred, &res);
  }
  if (res.duplicate) {
    record_free(&r);
    rc = write_all(st, false, NULL);
  } else {
    rc = deferred_push(st, &r);
    if (rc != 0)
      return rc;
    end_result written = {0};
    rc = write_all(st, false, &written);
    if (rc == 0)
      res = written;
  }
  if (duplicate)
    *duplicate = res.duplicate;
  if (has_energy)
    *has_energy = res.has_energy;
  if (energy_wh)
    *energy_wh = res.has_energy ? res.energy_wh : 0;
  return rc;
}

int gw_store_meter(gw_store *st, const char *charger_id, int connector,
                   int32_t transaction_id, double energy_wh, time_t when) {
  if (!usable(st, true) || !charger_ok(charger_id) ||
      connector < 0 || connector > MAX_CONNECTOR || !wh_ok(energy_wh) ||
      when < 0)
    return GW_STORE_EINVAL;
  uint32_t hash = meter_hash(charger_id, transaction_id);
  if (st->cap_meters > 0) {
    meter_slot *m = &st->meters[meter_find(st, charger_id, transaction_id, hash)];
    if (m->charger_id != NULL) {
      /* Chargers replay old readings after a reconnect: keep the newest. */
      if (when >= m->snap.last_time) {
        m->snap.last_wh = energy_wh;
        m->snap.last_time = when;
      }
      if (when < m->snap.first_time) {
        m->snap.first_wh = energy_wh;
        m->snap.first_time = when;
      }
      return 0;
    }
  }
  if (st->n_meters >= MAX_PENDING_METERS) {
    write_all(st, true, NULL);
    if (st->n_meters >= MAX_PENDING_METERS) {
      set_error(st, "too many transactions with readings waiting for the disk");
      return GW_STORE_ENOMEM;
    }
  }
  if ((st->n_meters + 1) * 2 > st->cap_meters && meter_grow(st) != 0)
    return GW_STORE_ENOMEM;
  char *copy = strdup(charger_id);
  if (copy == NULL)
    return GW_STORE_ENOMEM;
  meter_slot *m = &st->meters[meter_find(st, charger_id, transaction_id, hash)];
  *m = (meter_slot){
    .charger_id = copy, .id = transaction_id, .hash = hash,
    .snap = {.has = true, .connector = connector, .first_wh = energy_wh,
             .last_wh = energy_wh, .first_time = when, .last_time = when},
  };
  st->n_meters++;
  return 0;
}

int gw_store_flush(gw_store *st) {
  if (!usable(st, false))
    return GW_STORE_EINVAL;
  if (st->read_only)
    return 0;
  return write_all(st, true, NULL);
}

bool gw_store_has_deferred(const gw_store *st) {
  return st != NULL && (st->n_deferred > 0 || st->meters_failed);
}

int gw_store_save_charger(gw_store *st, const char *charger_id,
                          const char *vendor, const char *model,
                          const char *serial, const char *firmware) {
  if (!usable(st, true) || !charger_ok(charger_id) ||
      !text_ok(vendor) || !text_ok(model) || !text_ok(serial) ||
      !text_ok(firmware))
    return GW_STORE_EINVAL;
  record r = {
    .kind = REC_CHARGER, .charger_id = dup_text(charger_id),
    .text = {dup_text(vendor), dup_text(model), dup_text(serial),
             dup_text(firmware)},
    .when = time(NULL),
  };
  int rc = deferred_push(st, &r);
  if (rc != 0)
    return rc;
  return write_all(st, false, NULL);
}

int gw_store_set_max_pages(gw_store *st, long pages) {
  if (!usable(st, false) || pages <= 0)
    return GW_STORE_EINVAL;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", pages);
  return exec_sql(st, sql) < 0 ? GW_STORE_EIO : 0;
}

/* ---- reads --------------------------------------------------------------- */

static void copy_column(sqlite3_stmt *s, int col, char *dst, size_t size) {
  const unsigned char *v = sqlite3_column_text(s, col);
  snprintf(dst, size, "%s", v ? (const char *)v : "");
}

int gw_store_find(gw_store *st, const char *charger_id,
                  int32_t transaction_id, gw_session *out) {
  if (!usable(st, false) || out == NULL || !charger_ok(charger_id))
    return GW_STORE_EINVAL;
  sqlite3_stmt *s = stmt_get(st, ST_FIND);
  if (s == NULL)
    return GW_STORE_EIO;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, transaction_id);
  int rc = step_row(st, s, "find session");
  if (rc <= 0)
    return rc < 0 ? GW_STORE_EIO : GW_STORE_ENOTFOUND;
  copy_column(s, 0, st->find_charger, sizeof st->find_charger);
  copy_column(s, 3, st->find_tag, sizeof st->find_tag);
  copy_column(s, 9, st->find_reason, sizeof st->find_reason);
  *out = (gw_session){
    .charger_id = st->find_charger,
    .connector = sqlite3_column_int(s, 1),
    .transaction_id = sqlite3_column_int(s, 2),
    .id_tag = st->find_tag,
    .start = (time_t)sqlite3_column_int64(s, 4),
    .stop = (time_t)sqlite3_column_int64(s, 5),
    .has_meter_start = sqlite3_column_type(s, 6) != SQLITE_NULL,
    .meter_start_wh = sqlite3_column_double(s, 6),
    .has_meter_stop = sqlite3_column_type(s, 7) != SQLITE_NULL,
    .meter_stop_wh = sqlite3_column_double(s, 7),
    .has_energy = sqlite3_column_type(s, 8) != SQLITE_NULL,
    .energy_wh = sqlite3_column_double(s, 8),
    .stop_reason = st->find_reason,
  };
  sqlite3_reset(s);
  return 0;
}

/* ---- CSV export ---------------------------------------------------------- */

typedef enum { COL_TEXT, COL_INT, COL_TIME, COL_WH } col_kind;

/* Export columns in header order; SELECT lists them in the same order. */
static const struct {
  const char *name;
  col_kind kind;
} csv_cols[] = {
  {"charger_id", COL_TEXT},     {"connector", COL_INT},
  {"transaction_id", COL_INT},  {"id_tag", COL_TEXT},
  {"start", COL_TIME},          {"stop", COL_TIME},
  {"meter_start_wh", COL_WH},   {"meter_stop_wh", COL_WH},
  {"energy_wh", COL_WH},        {"stop_reason", COL_TEXT},
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

static void csv_field(FILE *out, sqlite3_stmt *s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    return;
  switch (csv_cols[col].kind) {
  case COL_TEXT: {
    const unsigned char *v = sqlite3_column_text(s, col);
    csv_text(out, v ? (const char *)v : "");
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
  static const char sql[] =
    "SELECT charger_id, connector, charger_transaction_id, id_tag, start,"
    " stop, meter_start_wh, meter_stop_wh, energy_wh, stop_reason"
    " FROM sessions WHERE (?1 = 0 OR coalesce(start, stop) >= ?1)"
    " AND (?2 = 0 OR coalesce(start, stop) < ?2)"
    " ORDER BY coalesce(start, stop), charger_id, charger_transaction_id";
  if (!usable(st, false) || out == NULL || from < 0 || to < 0)
    return GW_STORE_EINVAL;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
    set_db_error(st, "export");
    return GW_STORE_EIO;
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
      csv_field(out, s, c);
    }
    fputc('\n', out);
    rows++;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    set_db_error(st, "export");
    rows = GW_STORE_EIO;
  }
  sqlite3_finalize(s);
  if (rows >= 0 && (fflush(out) != 0 || ferror(out))) {
    set_error(st, "writing the export failed");
    rows = GW_STORE_EIO;
  }
  return rows;
}
