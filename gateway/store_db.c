/* gw_store, the database: opening (files, pragmas, the read-only fallback),
 * schema migrations, the prepared statements and the helpers every store
 * file uses. See store.h for the contract, store_records.c for what is
 * written and store_csv.c for the export. */
#include "gateway/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_NAME "ocppknx.db"
#define BUSY_TIMEOUT_MS 2000
#define COUNTER_KEY "next_transaction_id"
#define PATH_CAP 4096           /* dir + "/ocppknx.db" */

/* ---- statements ---------------------------------------------------------- */

/* Rows for ids the charger makes up (<= 0) are stored under a synthetic
 * negative transaction_id so repeats of 0 or -1 do not collide; the
 * charger's own id stays in charger_transaction_id, which is what lookups
 * and the export use. For the ids we hand out both columns are equal. */
static const char *const stmt_sql[ST_COUNT] = {
  [ST_ID_TAKEN] = "SELECT 1 FROM sessions WHERE transaction_id = ?1 LIMIT 1",
  [ST_BEGIN_INSERT] =
    "INSERT OR IGNORE INTO sessions (charger_id, connector, transaction_id,"
    " charger_transaction_id, id_tag, start, meter_start_wh, recovered,"
    " tag_name, charger_tx_text) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, 0, ?7, ?8)",
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
    " tag_name = CASE WHEN id_tag = '' THEN ?9 ELSE tag_name END,"
    " id_tag = CASE WHEN id_tag = '' THEN ?8 ELSE id_tag END"
    " WHERE rowid = ?1",
  [ST_MIN_SYNTHETIC] =
    "SELECT min(transaction_id) FROM sessions WHERE charger_id = ?1"
    " AND transaction_id < 0",
  [ST_RECOVERED_INSERT] =
    "INSERT OR IGNORE INTO sessions (charger_id, connector, transaction_id,"
    " charger_transaction_id, id_tag, start, stop, meter_start_wh,"
    " meter_stop_wh, last_meter_wh, last_meter_time, energy_wh, stop_reason,"
    " recovered, tag_name)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14)",
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
    " stop, meter_start_wh, meter_stop_wh, energy_wh, stop_reason,"
    " charger_tx_text"
    " FROM sessions WHERE charger_id = ?1 AND charger_transaction_id = ?2"
    " ORDER BY rowid DESC LIMIT 1",
  [ST_FIND_TEXT] =
    "SELECT charger_id, connector, charger_transaction_id, id_tag, start,"
    " stop, meter_start_wh, meter_stop_wh, energy_wh, stop_reason,"
    " charger_tx_text"
    " FROM sessions WHERE charger_id = ?1 AND charger_tx_text = ?2"
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
  [ST_AUTH_PUT] =
    "INSERT INTO auth_cache (charger_id, id_tag, accepted, expiry, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (charger_id, id_tag) DO UPDATE"
    " SET accepted = excluded.accepted, expiry = excluded.expiry,"
    " updated = excluded.updated",
  [ST_AUTH_GET] =
    "SELECT accepted, expiry FROM auth_cache WHERE charger_id = ?1"
    " AND id_tag = ?2",
  [ST_CHARGER_INFO] =
    "SELECT vendor, model, serial, firmware FROM chargers"
    " WHERE charger_id = ?1",
  [ST_PASSWORD_GET] =
    "SELECT password, previous FROM passwords WHERE charger_id = ?1",
  [ST_PASSWORD_SET] =
    "INSERT INTO passwords (charger_id, password, previous, updated)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (charger_id) DO UPDATE SET"
    " password = excluded.password, previous = excluded.previous,"
    " updated = excluded.updated",
  [ST_PASSWORD_DELETE] = "DELETE FROM passwords WHERE charger_id = ?1",
  [ST_QUEUE_PUT] =
    "INSERT INTO upstream_queue (charger_id, transaction_id, action, payload,"
    " queued) VALUES (?1, ?2, ?3, ?4, ?5)",
  [ST_QUEUE_HEAD] =
    "SELECT seq, transaction_id, action, payload, queued FROM upstream_queue"
    " WHERE charger_id = ?1 ORDER BY seq LIMIT 1",
  [ST_QUEUE_DROP] = "DELETE FROM upstream_queue WHERE seq = ?1",
  [ST_QUEUE_STATS] =
    "SELECT count(*), min(queued) FROM upstream_queue WHERE charger_id = ?1",
  [ST_UPTX_ADD] =
    "INSERT OR IGNORE INTO upstream_transactions (charger_id, transaction_id)"
    " VALUES (?1, ?2)",
  [ST_UPTX_GET] =
    "SELECT upstream_transaction_id FROM upstream_transactions"
    " WHERE charger_id = ?1 AND transaction_id = ?2",
  [ST_UPTX_SET] =
    "UPDATE upstream_transactions SET upstream_transaction_id = ?3"
    " WHERE charger_id = ?1 AND transaction_id = ?2",
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
  /* the name the tag list gave the tag when the session was recorded;
   * rotated Basic Auth passwords (previous: still accepted until the
   * charger connects with password) */
  "ALTER TABLE sessions ADD COLUMN tag_name TEXT NOT NULL DEFAULT '';"
  "CREATE TABLE passwords (charger_id TEXT PRIMARY KEY,"
  " password TEXT NOT NULL, previous TEXT, updated INTEGER);",
  /* 2 -> 3: what billing backends answered for their idTags */
  "CREATE TABLE auth_cache (charger_id TEXT NOT NULL, id_tag TEXT NOT NULL,"
  " accepted INTEGER NOT NULL, expiry INTEGER, updated INTEGER NOT NULL,"
  " PRIMARY KEY (charger_id, id_tag));",
  /* 3 -> 4: the transaction messages a billing backend has still to get,
   * in the order they came (seq), and the backend's transaction id beside
   * ours for each session it was told of (NULL until it answered the
   * StartTransaction). A table of its own, not a column of sessions: a
   * session row may still wait in memory for the disk. */
  "CREATE TABLE upstream_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  " charger_id TEXT NOT NULL, transaction_id INTEGER NOT NULL,"
  " action TEXT NOT NULL, payload TEXT NOT NULL, queued INTEGER NOT NULL);"
  "CREATE INDEX upstream_queue_by_charger ON upstream_queue"
  " (charger_id, seq);"
  "CREATE TABLE upstream_transactions (charger_id TEXT NOT NULL,"
  " transaction_id INTEGER NOT NULL, upstream_transaction_id INTEGER,"
  " PRIMARY KEY (charger_id, transaction_id));",
  /* 4 -> 5: the transactionId an OCPP 2.0.1 charger chose (a string),
   * beside the gateway's own id; '' for OCPP 1.6 sessions */
  "ALTER TABLE sessions ADD COLUMN charger_tx_text TEXT NOT NULL DEFAULT '';"
  "CREATE INDEX sessions_by_charger_text ON sessions"
  " (charger_id, charger_tx_text);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- helpers ------------------------------------------------------------- */

void store_error(gw_store *st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->err, sizeof st->err, fmt, ap);
  va_end(ap);
}

void store_db_error(gw_store *st, const char *what) {
  store_error(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

bool store_usable(const gw_store *st, bool write) {
  return st != NULL && st->db != NULL && !(write && st->read_only);
}

sqlite3_stmt *store_stmt(gw_store *st, stmt_id id) {
  sqlite3_stmt *s = st->stmt[id];
  if (s != NULL) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }
  if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                         &s, NULL) != SQLITE_OK) {
    store_db_error(st, "prepare");
    return NULL;
  }
  st->stmt[id] = s;
  return s;
}

int store_step_done(gw_store *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    store_db_error(st, what);
    return -1;
  }
  return 0;
}

int store_step_row(gw_store *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return 1;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return 0;
  store_db_error(st, what);
  return -1;
}

int store_exec(gw_store *st, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    store_error(st, "%s", msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

void store_rollback(gw_store *st) {
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- open / close -------------------------------------------------------- */

static int migrate(gw_store *st) {
  if (store_exec(st, "BEGIN IMMEDIATE") < 0)
    return GW_EOPEN;
  int rc = GW_EOPEN;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
    store_db_error(st, "read schema version");
    goto done;
  }
  int version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  s = NULL;
  if (version > SCHEMA_VERSION || version < 0) {
    store_error(st, "database schema %d is newer than this program (%d)",
              version, SCHEMA_VERSION);
    rc = GW_ESCHEMA;
    goto done;
  }
  for (int v = version; v < SCHEMA_VERSION; v++)
    if (store_exec(st, migrations[v]) < 0)
      goto done;
  if (version < SCHEMA_VERSION) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    if (store_exec(st, sql) < 0)
      goto done;
  }
  if (store_exec(st, "COMMIT") < 0)
    goto done;
  rc = 0;
done:
  sqlite3_finalize(s);
  if (rc != 0)
    store_rollback(st);
  return rc;
}

static int check_version(gw_store *st) {
  sqlite3_stmt *s = NULL;
  int rc = GW_EOPEN;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
    store_db_error(st, "read schema version");
    goto done;
  }
  int version = sqlite3_column_int(s, 0);
  if (version > SCHEMA_VERSION) {
    store_error(st, "database schema %d is newer than this program (%d)",
              version, SCHEMA_VERSION);
    rc = GW_ESCHEMA;
  } else if (version < SCHEMA_VERSION) {
    store_error(st, "database schema %d is older than this program (%d)",
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
  int rc = GW_EOPEN;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    store_db_error(st, "read transaction counter");
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
    store_error(st, "mkdir %s: %s", dir, strerror(errno));
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    store_error(st, "open %s: %s", path, strerror(errno));
    return -1;
  }
  close(fd);
  return 0;
}

static int open_db(gw_store *st, const char *name, int flags) {
  if (sqlite3_open_v2(name, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    if (st->db == NULL)
      return GW_ENOMEM;
    store_db_error(st, "open");
    return GW_EOPEN;
  }
  sqlite3_extended_result_codes(st->db, 1);
  sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
  return store_exec(st, "PRAGMA foreign_keys = ON") < 0 ? GW_EOPEN : 0;
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
  if (rc != GW_EOPEN || st->db == NULL)
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
    return GW_EOPEN;
  int rc = open_db(st, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (rc != 0)
    return rc;
  if (store_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL") < 0)
    return GW_EOPEN;
  rc = migrate(st);
  return rc == 0 ? load_counter(st) : rc;
}

static int open_common(const char *dir, bool read_only, gw_store **out) {
  if (out == NULL)
    return GW_EINVAL;
  *out = NULL;
  if (dir == NULL || dir[0] == '\0')
    return GW_EINVAL;
  gw_store *st = calloc(1, sizeof *st);
  if (st == NULL)
    return GW_ENOMEM;
  st->read_only = read_only;
  char path[PATH_CAP];
  int rc = make_path(dir, path, sizeof path) < 0 ? GW_EINVAL
           : read_only                          ? open_reader(st, path)
                                                : open_writer(st, dir, path);
  if (rc == 0) {
    *out = st;
    return 0;
  }
  sqlite3_close(st->db);
  st->db = NULL;
  if (rc == GW_EOPEN || rc == GW_ESCHEMA)
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

void store_db_close(gw_store *st) {
  for (int i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  sqlite3_close(st->db);
  free(st);
}

const char *gw_store_last_error(const gw_store *st) {
  return st == NULL ? "no store" : st->err;
}

int gw_store_set_max_pages(gw_store *st, long pages) {
  if (!store_usable(st, false) || pages <= 0)
    return GW_EINVAL;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", pages);
  return store_exec(st, sql) < 0 ? GW_EIO : 0;
}

