/* Tests for gw_store: the SQLite session store. */
#include "gateway/store.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char dbpath[128];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/gw-store-test-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/ocppknx.db", dir);
}

static void remove_dir(void) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  char path[160];
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    snprintf(path, sizeof path, "%s%s", dbpath, suffixes[i]);
    unlink(path);
  }
  rmdir(dir);
}

TestSuite(store, .init = make_dir, .fini = remove_dir);

static gw_store *open_store(void) {
  gw_store *st = NULL;
  int rc = gw_store_open(dir, &st);
  cr_assert_eq(rc, 0, "open: %d", rc);
  return st;
}

/* First column of the first row through a connection of our own, read-only
 * so it sees exactly what is committed. LLONG_MIN for NULL or no row. */
static long long query_int(const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s",
               sql, sqlite3_errmsg(db));
  long long v = LLONG_MIN;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

static void raw_exec(const char *sql) {
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s",
               sql, sqlite3_errmsg(db));
  sqlite3_close(db);
}

static time_t utc(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                  .tm_hour = h, .tm_min = mi, .tm_sec = s};
  return timegm(&tm);
}

static int32_t begin(gw_store *st, const char *charger, const char *tag,
                     double wh, time_t start) {
  int32_t id = 0;
  int rc = gw_store_begin(st, charger, 1, tag, wh, start, &id);
  cr_assert_eq(rc, 0, "begin: %d %s", rc, gw_store_last_error(st));
  return id;
}

typedef struct {
  int rc;
  bool duplicate, has_energy;
  double energy;
} stop_out;

static stop_out stop(gw_store *st, const char *charger, int32_t id,
                     bool has_wh, double wh, time_t when) {
  stop_out o = {0};
  o.rc = gw_store_end(st, charger, id, "", has_wh, wh, when, "Local",
                      &o.duplicate, &o.has_energy, &o.energy);
  return o;
}

/* Captures the CSV export as a string (caller frees). */
static char *export_csv(gw_store *st, time_t from, time_t to, int *rows) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  *rows = gw_store_export_csv(st, f, from, to);
  fclose(f);
  return buf;
}

#define HEADER                                                              \
  "charger_id,connector,transaction_id,id_tag,start,stop,meter_start_wh,"  \
  "meter_stop_wh,energy_wh,stop_reason,tag_name,upstream_transaction_id\n"

/* ---- opening and schema -------------------------------------------------- */

Test(store, open_creates_missing_dir_and_private_files) {
  char sub[128];
  snprintf(sub, sizeof sub, "%s/state", dir);
  gw_store *st = NULL;
  cr_assert_eq(gw_store_open(sub, &st), 0);
  begin(st, "CP1", "T", 0, 100);
  struct stat sb;
  char path[192];
  cr_assert_eq(stat(sub, &sb), 0);
  cr_expect_eq(sb.st_mode & 0777, 0750);
  static const char *const files[] = {"ocppknx.db", "ocppknx.db-wal"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", sub, files[i]);
    cr_assert_eq(stat(path, &sb), 0, "%s", path);
    cr_expect_eq(sb.st_mode & 0777, 0600, "%s mode %o", path, sb.st_mode & 0777);
  }
  gw_store_close(st);
  static const char *const names[] = {"ocppknx.db-wal", "ocppknx.db-shm",
                                      "ocppknx.db"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", sub, names[i]);
    unlink(path);
  }
  cr_expect_eq(rmdir(sub), 0);
}

Test(store, open_creates_the_current_schema_in_wal_mode) {
  gw_store *st = open_store();
  cr_expect_eq(query_int("PRAGMA user_version"), 5);
  cr_expect_eq(query_int("SELECT count(*) FROM sqlite_master WHERE type ="
                         " 'table' AND name IN ('meta', 'sessions',"
                         " 'chargers')"), 3);
  cr_expect_eq(query_int("SELECT value FROM meta WHERE key ="
                         " 'next_transaction_id'"), 1);
  cr_expect_eq(query_int("SELECT count(*) FROM pragma_table_info('sessions')"
                         " WHERE name IN ('charger_id', 'transaction_id')"
                         " AND pk > 0"), 2);
  gw_store_close(st);
  sqlite3 *db = NULL;
  sqlite3_open(dbpath, &db);
  sqlite3_stmt *s = NULL;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

Test(store, open_rejects_invalid_arguments) {
  gw_store *st = (gw_store *)&st;
  cr_expect_eq(gw_store_open(NULL, &st), GW_EINVAL);
  cr_expect_null(st);
  cr_expect_eq(gw_store_open("", &st), GW_EINVAL);
  cr_expect_eq(gw_store_open(dir, NULL), GW_EINVAL);
  cr_expect_eq(gw_store_open_readonly(NULL, &st), GW_EINVAL);
  gw_store_close(NULL);
}

Test(store, open_fails_when_dir_cannot_be_created) {
  char sub[128];
  snprintf(sub, sizeof sub, "%s/missing/state", dir);
  gw_store *st = NULL;
  cr_expect_eq(gw_store_open(sub, &st), GW_EOPEN);
  cr_assert_not_null(st, "a closed handle carries the reason");
  cr_expect_neq(strstr(gw_store_last_error(st), "mkdir"), NULL, "%s",
                gw_store_last_error(st));
  int32_t id;
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", 0, 1, &id), GW_EINVAL);
  cr_expect_eq(gw_store_flush(st), GW_EINVAL);
  gw_store_close(st);
}

Test(store, open_refuses_a_file_that_is_not_a_database) {
  FILE *f = fopen(dbpath, "w");
  cr_assert_not_null(f);
  fputs("this is not an SQLite database, just some text that is long enough"
        " to be read as a broken header .......................", f);
  fclose(f);
  gw_store *st = NULL;
  cr_expect_eq(gw_store_open(dir, &st), GW_EOPEN);
  cr_expect_str_neq(gw_store_last_error(st), "");
  gw_store_close(st);
}

Test(store, empty_file_is_upgraded_from_version_0) {
  FILE *f = fopen(dbpath, "w");
  cr_assert_not_null(f);
  fclose(f);
  gw_store *st = open_store();
  cr_expect_eq(query_int("PRAGMA user_version"), 5);
  cr_expect_eq(begin(st, "CP1", "T", 0, 100), 1);
  gw_store_close(st);
}

Test(store, newer_schema_is_refused) {
  raw_exec("PRAGMA user_version = 99");
  gw_store *st = NULL;
  cr_expect_eq(gw_store_open(dir, &st), GW_ESCHEMA);
  cr_expect_neq(strstr(gw_store_last_error(st), "newer"), NULL);
  gw_store_close(st);
  st = NULL;
  cr_expect_eq(gw_store_open_readonly(dir, &st), GW_ESCHEMA);
  gw_store_close(st);
  cr_expect_eq(query_int("PRAGMA user_version"), 99, "left untouched");
}

Test(store, readonly_open_of_missing_database_fails) {
  gw_store *st = NULL;
  cr_expect_eq(gw_store_open_readonly(dir, &st), GW_EOPEN);
  gw_store_close(st);
  struct stat sb;
  cr_expect_neq(stat(dbpath, &sb), 0, "read-only open must not create");
}

Test(store, reopen_keeps_sessions_and_chargers) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "TAG1", 1500, 1000);
  cr_assert_eq(gw_store_save_charger(st, "CP1", "ACME", "Box", "S1", "1.0"), 0);
  gw_store_close(st);
  st = open_store();
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", id, &s), 0);
  cr_expect_str_eq(s.charger_id, "CP1");
  cr_expect_str_eq(s.id_tag, "TAG1");
  cr_expect_eq(s.connector, 1);
  cr_expect_eq(s.start, 1000);
  cr_expect_eq(s.stop, 0);
  cr_expect(s.has_meter_start);
  cr_expect_float_eq(s.meter_start_wh, 1500, 1e-9);
  cr_expect_not(s.has_meter_stop);
  cr_expect_not(s.has_energy);
  cr_expect_str_eq(s.stop_reason, "");
  cr_expect_eq(query_int("SELECT count(*) FROM chargers WHERE vendor = 'ACME'"
                         " AND firmware = '1.0'"), 1);
  gw_store_close(st);
}

Test(store, find_of_unknown_session_is_not_found) {
  gw_store *st = open_store();
  gw_session s;
  cr_expect_eq(gw_store_find(st, "CP1", 42, &s), GW_ENOTFOUND);
  cr_expect_eq(gw_store_find(st, NULL, 42, &s), GW_EINVAL);
  cr_expect_eq(gw_store_find(st, "CP1", 42, NULL), GW_EINVAL);
  gw_store_close(st);
}

Test(store, save_charger_replaces_previous_info) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_save_charger(st, "CP1", "ACME", "Box", "S1", "1.0"), 0);
  cr_assert_eq(gw_store_save_charger(st, "CP1", "ACME", "Box", "S1", NULL), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM chargers"), 1);
  cr_expect_eq(query_int("SELECT count(*) FROM chargers WHERE firmware = ''"),
               1);
  cr_expect_gt(query_int("SELECT updated FROM chargers"), 0);
  gw_store_close(st);
}

Test(store, load_charger_returns_what_was_saved_before_a_reopen) {
  gw_store *st = open_store();
  gw_charger_info info;
  cr_expect_eq(gw_store_load_charger(st, "CP1", &info), GW_ENOTFOUND);
  cr_assert_eq(gw_store_save_charger(st, "CP1", "Zaptec", "Go", "ZCS000143", NULL), 0);
  gw_store_close(st);
  st = open_store();
  cr_assert_eq(gw_store_load_charger(st, "CP1", &info), 0);
  cr_expect_str_eq(info.vendor, "Zaptec");
  cr_expect_str_eq(info.model, "Go");
  cr_expect_str_eq(info.serial, "ZCS000143");
  cr_expect_str_eq(info.firmware, "");
  cr_expect_eq(gw_store_load_charger(st, "CP2", &info), GW_ENOTFOUND);
  cr_expect_eq(gw_store_load_charger(st, NULL, &info), GW_EINVAL);
  cr_expect_eq(gw_store_load_charger(st, "CP1", NULL), GW_EINVAL);
  gw_store_close(st);
}

/* ---- transaction counter ------------------------------------------------- */

Test(store, counter_starts_at_1_and_increases_across_reopen) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 0, 100);
  int32_t b = begin(st, "CP2", "T", 0, 101);
  cr_expect_eq(a, 1);
  cr_expect_gt(b, a);
  gw_store_close(st);
  st = open_store();
  int32_t c = begin(st, "CP1", "T", 0, 102);
  cr_expect_gt(c, b);
  gw_store_close(st);
  cr_expect_geq(query_int("SELECT value FROM meta WHERE key ="
                          " 'next_transaction_id'"), c + 1);
}

Test(store, counter_never_reused_after_crash) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    gw_store *st = NULL;
    int32_t id = 0;
    if (gw_store_open(dir, &st) != 0 ||
        gw_store_begin(st, "CP1", 1, "T", 10, 100, &id) != 0)
      _exit(1);
    if (write(fds[1], &id, sizeof id) != (ssize_t)sizeof id)
      _exit(1);
    raise(SIGKILL); /* dies without closing, as a power cut would */
    _exit(1);
  }
  close(fds[1]);
  int32_t crashed_id = 0;
  cr_assert_eq(read(fds[0], &crashed_id, sizeof crashed_id),
               (ssize_t)sizeof crashed_id);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  gw_store *st = open_store();
  gw_session s;
  cr_expect_eq(gw_store_find(st, "CP1", crashed_id, &s), 0,
               "the started session was durable");
  cr_expect_gt(begin(st, "CP2", "T", 0, 200), crashed_id);
  gw_store_close(st);
}

Test(store, begin_skips_ids_a_charger_made_up) {
  gw_store *st = open_store();
  stop_out o = stop(st, "CP9", 1, true, 500, 50);
  cr_assert_eq(o.rc, 0);
  int32_t id = begin(st, "CP1", "T", 0, 100);
  cr_expect_eq(id, 2);
  gw_store_close(st);
}

Test(store, begin_rejects_invalid_arguments) {
  gw_store *st = open_store();
  int32_t id = 0;
  char longid[GW_STORE_MAX_TEXT + 2];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  cr_expect_eq(gw_store_begin(st, NULL, 1, "T", 0, 1, &id), GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "", 1, "T", 0, 1, &id), GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, longid, 1, "T", 0, 1, &id), GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, longid, 0, 1, &id),
               GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "CP1", -1, "T", 0, 1, &id), GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", NAN, 1, &id),
               GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", INFINITY, 1, &id),
               GW_EINVAL);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", 0, 1, NULL), GW_EINVAL);
  cr_expect_eq(gw_store_begin(NULL, "CP1", 1, "T", 0, 1, &id),
               GW_EINVAL);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 0);
  /* The rejected calls consumed no id. */
  cr_expect_eq(begin(st, "CP1", "T", 0, 1), 1);
  gw_store_close(st);
}

/* ---- repeated starts ----------------------------------------------------- */

Test(store, begin_repeated_for_running_session_returns_same_id) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 1000, 100);
  cr_expect_eq(begin(st, "CP1", "T", 1000, 100), a);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  cr_expect_eq(begin(st, "CP1", "T", 1000, 101), a + 1,
               "the repeat consumed no id");
  gw_store_close(st);
}

Test(store, begin_repeated_after_reopen_returns_same_id) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 1000, 100);
  gw_store_close(st);
  st = open_store();
  cr_expect_eq(begin(st, "CP1", "T", 1000, 100), a);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, begin_repeating_a_stopped_session_gets_new_id) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(stop(st, "CP1", a, true, 2000, 200).rc, 0);
  int32_t b = begin(st, "CP1", "T", 1000, 100);
  cr_expect_gt(b, a);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 2);
  gw_store_close(st);
}

Test(store, begin_differing_in_any_field_gets_new_id) {
  gw_store *st = open_store();
  int32_t ids[6] = {0};
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 100, &ids[0]), 0);
  cr_assert_eq(gw_store_begin(st, "CP2", 1, "T", 1000, 100, &ids[1]), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 2, "T", 1000, 100, &ids[2]), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "U", 1000, 100, &ids[3]), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "T", 1001, 100, &ids[4]), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 101, &ids[5]), 0);
  for (int i = 1; i < 6; i++)
    cr_expect_gt(ids[i], ids[i - 1], "start %d", i);
  gw_store_close(st);
}

Test(store, begin_repeat_looks_past_other_connectors) {
  gw_store *st = open_store();
  int32_t a = 0, other = 0, again = 0;
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 100, &a), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 2, "U", 50, 150, &other), 0);
  cr_assert_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 100, &again), 0);
  cr_expect_eq(again, a);
  gw_store_close(st);
}

Test(store, begin_repeating_an_older_start_of_the_connector_gets_new_id) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 1000, 100);
  int32_t b = begin(st, "CP1", "T", 1000, 200);
  int32_t c = begin(st, "CP1", "T", 1000, 100);
  cr_expect_gt(c, b, "only the newest start on a connector is repeated");
  cr_expect_gt(b, a);
  gw_store_close(st);
}

Test(store, begin_without_start_time_is_never_a_repeat) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T", 1000, 0);
  cr_expect_gt(begin(st, "CP1", "T", 1000, 0), a);
  gw_store_close(st);
}

Test(store, begin_does_not_match_a_recovered_session) {
  gw_store *st = open_store();
  /* A reading for an id we never handed out makes a recovered row with the
   * reading as its start. */
  cr_assert_eq(gw_store_meter(st, "CP1", 1, 77, 1000, 100), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  raw_exec("UPDATE sessions SET id_tag = 'T'");
  cr_expect_neq(begin(st, "CP1", "T", 1000, 100), 77);
  gw_store_close(st);
}

/* ---- stops --------------------------------------------------------------- */

Test(store, stop_computes_energy_from_meter_stop_minus_start) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  stop_out o = stop(st, "CP1", id, true, 8500, 200);
  cr_assert_eq(o.rc, 0);
  cr_expect_not(o.duplicate);
  cr_expect(o.has_energy);
  cr_expect_float_eq(o.energy, 7500, 1e-9);
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", id, &s), 0);
  cr_expect_eq(s.stop, 200);
  cr_expect_str_eq(s.stop_reason, "Local");
  cr_expect(s.has_energy);
  cr_expect_float_eq(s.energy_wh, 7500, 1e-9);
  cr_expect_float_eq(s.meter_stop_wh, 8500, 1e-9);
  gw_store_close(st);
}

Test(store, stop_is_committed_before_returning) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(stop(st, "CP1", id, true, 2000, 200).rc, 0);
  /* Another connection sees it while this one is still open. */
  cr_expect_eq(query_int("SELECT stop FROM sessions WHERE charger_id = 'CP1'"),
               200);
  gw_store_close(st);
}

Test(store, second_stop_is_duplicate_and_changes_nothing) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(stop(st, "CP1", id, true, 2000, 200).rc, 0);
  stop_out o = stop(st, "CP1", id, true, 9999, 300);
  cr_assert_eq(o.rc, 0);
  cr_expect(o.duplicate);
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", id, &s), 0);
  cr_expect_eq(s.stop, 200);
  cr_expect_float_eq(s.meter_stop_wh, 2000, 1e-9);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, stop_of_unknown_id_creates_recovered_row) {
  gw_store *st = open_store();
  stop_out o = stop(st, "CP1", 4711, true, 3000, 500);
  cr_assert_eq(o.rc, 0);
  cr_expect_not(o.duplicate);
  cr_expect_not(o.has_energy, "no meter start known");
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", 4711, &s), 0);
  cr_expect_eq(s.stop, 500);
  cr_expect_eq(s.start, 0);
  cr_expect_not(s.has_meter_start);
  cr_expect_not(s.has_energy);
  cr_expect_eq(query_int("SELECT recovered FROM sessions WHERE"
                         " transaction_id = 4711"), 1);
  cr_expect(stop(st, "CP1", 4711, true, 3000, 600).duplicate,
            "a positive id is stopped once");
  gw_store_close(st);
}

Test(store, stop_id_zero_twice_same_time_is_duplicate) {
  gw_store *st = open_store();
  cr_assert_eq(stop(st, "CP1", 0, true, 100, 1000).rc, 0);
  stop_out o = stop(st, "CP1", 0, true, 100, 1000);
  cr_assert_eq(o.rc, 0);
  cr_expect(o.duplicate);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, stop_id_zero_twice_other_time_is_new_row) {
  gw_store *st = open_store();
  cr_assert_eq(stop(st, "CP1", 0, true, 100, 1000).rc, 0);
  stop_out o = stop(st, "CP1", 0, true, 200, 2000);
  cr_assert_eq(o.rc, 0);
  cr_expect_not(o.duplicate);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE"
                         " charger_transaction_id = 0 AND recovered = 1"), 2);
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", 0, &s), 0);
  cr_expect_eq(s.transaction_id, 0);
  cr_expect_eq(s.stop, 2000, "newest row");
  gw_store_close(st);
}

Test(store, stop_id_minus_one_twice_other_time_is_new_row) {
  gw_store *st = open_store();
  cr_assert_eq(stop(st, "CP1", -1, false, 0, 1000).rc, 0);
  cr_expect(stop(st, "CP1", -1, false, 0, 1000).duplicate);
  cr_expect_not(stop(st, "CP1", -1, false, 0, 1500).duplicate);
  cr_expect_not(stop(st, "CP1", 0, false, 0, 1000).duplicate,
                "0 and -1 are different ids");
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE"
                         " charger_transaction_id = -1"), 2);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 3);
  gw_store_close(st);
}

Test(store, same_made_up_id_on_two_chargers_is_two_sessions) {
  gw_store *st = open_store();
  cr_expect_not(stop(st, "CP1", 0, true, 1, 1000).duplicate);
  cr_expect_not(stop(st, "CP2", 0, true, 1, 1000).duplicate);
  cr_expect_not(stop(st, "CP1", 77, true, 1, 1000).duplicate);
  cr_expect_not(stop(st, "CP2", 77, true, 1, 1000).duplicate);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 4);
  gw_store_close(st);
}

Test(store, stop_without_meter_uses_last_flushed_reading) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 4200, 150), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  stop_out o = stop(st, "CP1", id, false, 0, 200);
  cr_assert_eq(o.rc, 0);
  cr_expect(o.has_energy);
  cr_expect_float_eq(o.energy, 3200, 1e-9);
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", id, &s), 0);
  cr_expect_not(s.has_meter_stop);
  cr_expect_float_eq(s.energy_wh, 3200, 1e-9);
  gw_store_close(st);
}

Test(store, stop_without_meter_uses_unflushed_reading) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 4200, 150), 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 5100, 160), 0);
  stop_out o = stop(st, "CP1", id, false, 0, 200);
  cr_assert_eq(o.rc, 0);
  cr_expect(o.has_energy);
  cr_expect_float_eq(o.energy, 4100, 1e-9);
  cr_expect_eq(query_int("SELECT last_meter_time FROM sessions"), 160);
  gw_store_close(st);
}

Test(store, stop_without_any_meter_has_unknown_energy) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  stop_out o = stop(st, "CP1", id, false, 0, 200);
  cr_assert_eq(o.rc, 0);
  cr_expect_not(o.has_energy);
  cr_expect_eq(query_int("SELECT energy_wh IS NULL FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, stop_rejects_invalid_arguments) {
  gw_store *st = open_store();
  bool dup;
  cr_expect_eq(gw_store_end(st, NULL, 1, "", false, 0, 1, "", &dup, NULL, NULL),
               GW_EINVAL);
  cr_expect_eq(gw_store_end(st, "CP1", 1, "", true, NAN, 1, "", &dup, NULL,
                            NULL), GW_EINVAL);
  cr_expect_eq(gw_store_end(st, "CP1", 1, "", false, 0, -5, "", &dup, NULL,
                            NULL), GW_EINVAL);
  cr_expect_eq(gw_store_end(NULL, "CP1", 1, "", false, 0, 1, "", &dup, NULL,
                            NULL), GW_EINVAL);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 0);
  /* NULL result pointers are allowed. */
  cr_expect_eq(gw_store_end(st, "CP1", 5, NULL, false, 0, 1, NULL, NULL, NULL,
                            NULL), 0);
  gw_store_close(st);
}

/* ---- meter readings ------------------------------------------------------ */

Test(store, meter_reading_is_written_only_on_flush) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 1500, 110), 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 1700, 120), 0);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), LLONG_MIN,
               "nothing on disk before the flush");
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), 1700);
  cr_expect_eq(query_int("SELECT last_meter_time FROM sessions"), 120);
  gw_store_close(st);
}

Test(store, meter_reading_for_unknown_transaction_recovers_session) {
  gw_store *st = open_store();
  gw_store *ro = NULL;
  gw_session s;
  cr_assert_eq(gw_store_meter(st, "CP1", 2, 555, 1000, 300), 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 2, 555, 1800, 360), 0);
  cr_assert_eq(gw_store_open_readonly(dir, &ro), 0);
  cr_expect_eq(gw_store_find(ro, "CP1", 555, &s), GW_ENOTFOUND);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_assert_eq(gw_store_find(ro, "CP1", 555, &s), 0);
  cr_expect_eq(s.connector, 2);
  cr_expect_eq(s.start, 300);
  cr_expect(s.has_meter_start);
  cr_expect_float_eq(s.meter_start_wh, 1000, 1e-9);
  cr_expect_str_eq(s.id_tag, "");
  cr_expect_eq(s.stop, 0);
  gw_store_close(ro);
  cr_expect_eq(query_int("SELECT recovered FROM sessions"), 1);
  stop_out o = stop(st, "CP1", 555, true, 2500, 400);
  cr_assert_eq(o.rc, 0);
  cr_expect_not(o.duplicate);
  cr_expect_float_eq(o.energy, 1500, 1e-9);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, meter_reading_for_id_zero_then_stop_is_one_session) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_meter(st, "CP1", 1, 0, 1000, 300), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, 0, 1400, 350), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  stop_out o = stop(st, "CP1", 0, false, 0, 400);
  cr_assert_eq(o.rc, 0);
  cr_expect(o.has_energy);
  cr_expect_float_eq(o.energy, 400, 1e-9);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, unflushed_reading_gives_recovered_stop_its_start) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_meter(st, "CP1", 1, 900, 1000, 300), 0);
  stop_out o = stop(st, "CP1", 900, true, 1600, 400);
  cr_assert_eq(o.rc, 0);
  cr_expect_float_eq(o.energy, 600, 1e-9);
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", 900, &s), 0);
  cr_expect_eq(s.start, 300);
  cr_expect_eq(s.connector, 1);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, meter_reading_after_stop_is_ignored) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(stop(st, "CP1", id, true, 2000, 200).rc, 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 1900, 190), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), LLONG_MIN);
  gw_store_close(st);
}

Test(store, replayed_older_reading_does_not_replace_newer) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 3000, 300), 0);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 2000, 200), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), 3000);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 2500, 250), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), 3000);
  gw_store_close(st);
}

Test(store, close_writes_pending_readings) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 1000, 100);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, id, 1234, 110), 0);
  gw_store_close(st);
  cr_expect_eq(query_int("SELECT last_meter_wh FROM sessions"), 1234);
}

Test(store, many_transactions_batch_in_one_flush) {
  gw_store *st = open_store();
  char name[16];
  for (int i = 0; i < 300; i++) {
    snprintf(name, sizeof name, "CP%d", i);
    cr_assert_eq(gw_store_meter(st, name, 1, i + 1, 100.0 * i, 50), 0);
  }
  /* Update half of them again and take some away with a stop. */
  for (int i = 0; i < 150; i++) {
    snprintf(name, sizeof name, "CP%d", i);
    cr_assert_eq(gw_store_meter(st, name, 1, i + 1, 100.0 * i + 7, 60), 0);
  }
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 300);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE"
                         " last_meter_wh = meter_start_wh + 7"), 150);
  gw_store_close(st);
}

Test(store, meter_rejects_invalid_arguments) {
  gw_store *st = open_store();
  cr_expect_eq(gw_store_meter(st, NULL, 1, 1, 0, 1), GW_EINVAL);
  cr_expect_eq(gw_store_meter(st, "CP1", -1, 1, 0, 1), GW_EINVAL);
  cr_expect_eq(gw_store_meter(st, "CP1", 1, 1, NAN, 1), GW_EINVAL);
  cr_expect_eq(gw_store_meter(st, "CP1", 1, 1, 1e300, 1), GW_EINVAL);
  cr_expect_eq(gw_store_meter(st, "CP1", 1, 1, 0, -1), GW_EINVAL);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 0);
  gw_store_close(st);
}

/* ---- read-only access ---------------------------------------------------- */

Test(store, readonly_store_reads_while_writer_runs_and_refuses_writes) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "T", 0, 100);
  gw_store *ro = NULL;
  cr_assert_eq(gw_store_open_readonly(dir, &ro), 0);
  gw_session s;
  cr_expect_eq(gw_store_find(ro, "CP1", id, &s), 0);
  int32_t other = 0;
  cr_expect_eq(gw_store_begin(ro, "CP1", 1, "T", 0, 1, &other),
               GW_EINVAL);
  cr_expect_eq(gw_store_meter(ro, "CP1", 1, id, 5, 1), GW_EINVAL);
  cr_expect_eq(gw_store_save_charger(ro, "CP1", "a", "b", "c", "d"),
               GW_EINVAL);
  cr_expect_eq(gw_store_end(ro, "CP1", id, "", false, 0, 5, "", NULL, NULL,
                            NULL), GW_EINVAL);
  int32_t next = begin(st, "CP2", "T", 0, 110);
  cr_expect_eq(gw_store_find(ro, "CP2", next, &s), 0, "sees new commits");
  gw_store_close(ro);
  gw_store_close(st);
}

/* ---- disk failures ------------------------------------------------------- */

/* Fills the database (limited to its current size) until a start is
 * deferred; returns how many starts succeeded. ids receives every id. */
static int fill_until_deferred(gw_store *st, int32_t *ids, int cap) {
  char tag[GW_STORE_MAX_TEXT + 1];
  memset(tag, 'x', sizeof tag - 1);
  tag[sizeof tag - 1] = '\0';
  cr_assert_eq(gw_store_set_max_pages(st, 1), 0);
  for (int i = 0; i < cap; i++) {
    int rc = gw_store_begin(st, "FILL", 1, tag, i, 1000 + i, &ids[i]);
    if (rc == GW_EDEFERRED)
      return i;
    cr_assert_eq(rc, 0, "%d: %s", rc, gw_store_last_error(st));
  }
  cr_assert_fail("database never filled up");
  return -1;
}

Test(store, full_disk_defers_records_and_flush_writes_them_once) {
  enum { CAP = 2000 };
  static int32_t ids[CAP + 8];
  gw_store *st = open_store();
  int32_t first = begin(st, "CP1", "T", 1000, 100);
  int ok = fill_until_deferred(st, ids, CAP);
  cr_assert(gw_store_has_deferred(st));
  cr_expect_gt(ids[ok], ids[ok - 1]);
  long long on_disk = query_int("SELECT count(*) FROM sessions");
  cr_expect_eq(on_disk, ok + 1, "deferred start is not on disk");

  /* More work while the disk is full: all kept in memory, in order. */
  int32_t second = 0;
  cr_expect_eq(gw_store_begin(st, "CP2", 2, "T2", 500, 2000, &second),
               GW_EDEFERRED);
  cr_expect_gt(second, ids[ok]);
  cr_assert_eq(gw_store_meter(st, "CP1", 1, first, 1800, 150), 0);
  cr_expect_eq(gw_store_flush(st), GW_EDEFERRED);
  stop_out o = stop(st, "CP2", second, true, 900, 2100);
  cr_expect_eq(o.rc, GW_EDEFERRED);
  cr_expect_not(o.duplicate);
  cr_expect(o.has_energy, "meter start known from the waiting start");
  cr_expect_float_eq(o.energy, 400, 1e-9);
  o = stop(st, "CP2", second, true, 900, 2100);
  cr_expect(o.duplicate, "repeat of a waiting stop");
  o = stop(st, "CP1", first, false, 0, 200);
  cr_expect_eq(o.rc, GW_EDEFERRED);
  cr_expect_float_eq(o.energy, 800, 1e-9, "from the unwritten reading");
  o = stop(st, "CP3", 0, true, 10, 3000);
  cr_expect_eq(o.rc, GW_EDEFERRED);
  cr_expect_eq(gw_store_save_charger(st, "CP2", "V", "M", "S", "F"),
               GW_EDEFERRED);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), on_disk);
  cr_expect_eq(query_int("SELECT count(*) FROM chargers"), 0);

  cr_assert_eq(gw_store_set_max_pages(st, 1L << 30), 0);
  cr_assert_eq(gw_store_flush(st), 0, "%s", gw_store_last_error(st));
  cr_expect_not(gw_store_has_deferred(st));
  cr_expect_eq(gw_store_flush(st), 0);

  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), on_disk + 3);
  cr_expect_eq(query_int("SELECT count(*) FROM (SELECT transaction_id FROM"
                         " sessions GROUP BY transaction_id"
                         " HAVING count(*) > 1)"), 0, "ids unique");
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE charger_id ="
                         " 'FILL'"), ok + 1);
  cr_expect_eq(query_int("SELECT energy_wh FROM sessions WHERE charger_id ="
                         " 'CP2'"), 400);
  cr_expect_eq(query_int("SELECT energy_wh FROM sessions WHERE charger_id ="
                         " 'CP1'"), 800);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE charger_id ="
                         " 'CP3' AND recovered = 1"), 1);
  cr_expect_eq(query_int("SELECT count(*) FROM chargers"), 1);
  cr_expect_geq(query_int("SELECT value FROM meta WHERE key ="
                          " 'next_transaction_id'"), second + 1);
  gw_store_close(st);
  st = open_store();
  cr_expect_gt(begin(st, "CP4", "T", 0, 4000), second);
  gw_store_close(st);
}

Test(store, next_successful_write_also_writes_deferred_records) {
  enum { CAP = 2000 };
  static int32_t ids[CAP + 8];
  gw_store *st = open_store();
  int ok = fill_until_deferred(st, ids, CAP);
  int32_t deferred_id = ids[ok];
  cr_assert_eq(gw_store_set_max_pages(st, 1L << 30), 0);
  int32_t next = begin(st, "CP1", "T", 0, 5000);
  cr_expect_gt(next, deferred_id);
  cr_expect_not(gw_store_has_deferred(st));
  char sql[128];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM sessions WHERE transaction_id = %d",
           (int)deferred_id);
  cr_expect_eq(query_int(sql), 1);
  gw_store_close(st);
}

Test(store, full_disk_stop_for_unknown_id_zero_is_kept_once) {
  enum { CAP = 2000 };
  static int32_t ids[CAP + 8];
  gw_store *st = open_store();
  fill_until_deferred(st, ids, CAP);
  cr_expect_eq(stop(st, "CP1", 0, true, 5, 700).rc, GW_EDEFERRED);
  cr_expect(stop(st, "CP1", 0, true, 5, 700).duplicate);
  cr_expect_not(stop(st, "CP1", 0, true, 5, 800).duplicate);
  cr_assert_eq(gw_store_set_max_pages(st, 1L << 30), 0);
  cr_assert_eq(gw_store_flush(st), 0);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE"
                         " charger_id = 'CP1'"), 2);
  gw_store_close(st);
}

Test(store, full_disk_repeated_start_gets_the_waiting_id) {
  enum { CAP = 2000 };
  static int32_t ids[CAP + 8];
  gw_store *st = open_store();
  fill_until_deferred(st, ids, CAP);
  int32_t a = 0, again = 0, after_stop = 0;
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 5000, &a),
               GW_EDEFERRED);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 5000, &again),
               GW_EDEFERRED);
  cr_expect_eq(again, a);
  cr_expect_eq(stop(st, "CP1", a, true, 1500, 5100).rc, GW_EDEFERRED);
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "T", 1000, 5000, &after_stop),
               GW_EDEFERRED);
  cr_expect_gt(after_stop, a, "the waiting stop ended that session");
  cr_assert_eq(gw_store_set_max_pages(st, 1L << 30), 0);
  cr_assert_eq(gw_store_flush(st), 0, "%s", gw_store_last_error(st));
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE"
                         " charger_id = 'CP1'"), 2);
  gw_store_close(st);
}

Test(store, set_max_pages_rejects_invalid_arguments) {
  gw_store *st = open_store();
  cr_expect_eq(gw_store_set_max_pages(st, 0), GW_EINVAL);
  cr_expect_eq(gw_store_set_max_pages(NULL, 10), GW_EINVAL);
  gw_store_close(st);
}

/* ---- CSV export ---------------------------------------------------------- */

Test(store, csv_has_exact_header_and_row_format) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 1, 12, 0, 0);
  int32_t id = 0;
  cr_assert_eq(gw_store_begin(st, "CP1", 2, "TAG", 1000.4, t0, &id), 0);
  cr_assert_eq(gw_store_end(st, "CP1", id, "TAG", true, 3500.9, t0 + 3723,
                            "EVDisconnected", NULL, NULL, NULL), 0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  cr_expect_eq(rows, 1);
  char want[512];
  snprintf(want, sizeof want,
           HEADER "CP1,2,%d,TAG,2026-10-01T12:00:00Z,2026-10-01T13:02:03Z,"
           "1000,3501,2501,EVDisconnected,,\n", (int)id);
  cr_expect_str_eq(csv, want);
  free(csv);
  gw_store_close(st);
}

Test(store, csv_quotes_comma_quote_and_newline) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 1, 12, 0, 0);
  int32_t id = 0;
  cr_assert_eq(gw_store_begin(st, "CP,1", 1, "a\"b", 0, t0, &id), 0);
  cr_assert_eq(gw_store_end(st, "CP,1", id, "", true, 10, t0 + 60, "line\nbreak",
                            NULL, NULL, NULL), 0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  char want[512];
  snprintf(want, sizeof want,
           HEADER "\"CP,1\",1,%d,\"a\"\"b\",2026-10-01T12:00:00Z,"
           "2026-10-01T12:01:00Z,0,10,10,\"line\nbreak\",,\n", (int)id);
  cr_expect_str_eq(csv, want);
  free(csv);
  gw_store_close(st);
}

Test(store, csv_shows_running_session_with_empty_stop) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 1, 12, 0, 0);
  int32_t id = begin(st, "CP1", "TAG", 77, t0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  char want[256];
  snprintf(want, sizeof want,
           HEADER "CP1,1,%d,TAG,2026-10-01T12:00:00Z,,77,,,,,\n", (int)id);
  cr_expect_eq(rows, 1);
  cr_expect_str_eq(csv, want);
  free(csv);
  gw_store_close(st);
}

Test(store, csv_recovered_stop_has_empty_start_and_charger_id) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 2, 8, 30, 0);
  cr_assert_eq(stop(st, "CP1", -1, false, 0, t0).rc, 0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  cr_expect_str_eq(csv, HEADER "CP1,,-1,,,2026-10-02T08:30:00Z,,,,Local,,\n");
  free(csv);
  gw_store_close(st);
}

Test(store, csv_orders_by_start_then_charger) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 1, 0, 0, 0);
  begin(st, "CPB", "", 0, t0 + 100);
  begin(st, "CPA", "", 0, t0 + 200);
  begin(st, "CPA", "", 0, t0 + 100);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  cr_expect_eq(rows, 3);
  cr_expect_str_eq(csv,
    HEADER "CPA,1,3,,2026-10-01T00:01:40Z,,0,,,,,\n"
           "CPB,1,1,,2026-10-01T00:01:40Z,,0,,,,,\n"
           "CPA,1,2,,2026-10-01T00:03:20Z,,0,,,,,\n");
  free(csv);
  gw_store_close(st);
}

Test(store, csv_filter_is_half_open_on_start_or_stop) {
  gw_store *st = open_store();
  time_t day1 = utc(2026, 10, 1, 0, 0, 0);
  time_t day2 = utc(2026, 10, 2, 0, 0, 0);
  time_t day3 = utc(2026, 10, 3, 0, 0, 0);
  begin(st, "CP1", "before", 0, day1 - 1);
  begin(st, "CP1", "first", 0, day1);
  begin(st, "CP1", "last", 0, day2 - 1);
  begin(st, "CP1", "after", 0, day2);
  cr_assert_eq(stop(st, "CP2", 0, false, 0, day1 + 10).rc, 0);
  cr_assert_eq(stop(st, "CP2", -1, false, 0, day3).rc, 0);
  int rows = 0;
  char *csv = export_csv(st, day1, day2, &rows);
  cr_expect_eq(rows, 3);
  cr_expect(strstr(csv, ",first,") && strstr(csv, ",last,") &&
            strstr(csv, "CP2,,0,"), "%s", csv);
  cr_expect_null(strstr(csv, "before"));
  cr_expect_null(strstr(csv, "after"));
  free(csv);
  csv = export_csv(st, day2, 0, &rows);
  cr_expect_eq(rows, 2, "open end: after and the stop on day 3");
  free(csv);
  csv = export_csv(st, 0, day1, &rows);
  cr_expect_eq(rows, 1, "open start: before");
  free(csv);
  gw_store_close(st);
}

Test(store, csv_rejects_invalid_arguments) {
  gw_store *st = open_store();
  cr_expect_eq(gw_store_export_csv(st, NULL, 0, 0), GW_EINVAL);
  cr_expect_eq(gw_store_export_csv(NULL, stdout, 0, 0), GW_EINVAL);
  cr_expect_eq(gw_store_export_csv(st, stdout, -1, 0), GW_EINVAL);
  gw_store_close(st);
}

Test(store, csv_works_on_readonly_store) {
  gw_store *st = open_store();
  begin(st, "CP1", "T", 0, utc(2026, 10, 1, 12, 0, 0));
  gw_store *ro = NULL;
  cr_assert_eq(gw_store_open_readonly(dir, &ro), 0);
  int rows = 0;
  char *csv = export_csv(ro, 0, 0, &rows);
  cr_expect_eq(rows, 1);
  free(csv);
  gw_store_close(ro);
  gw_store_close(st);
}

/* The export run by someone who may read the state directory but not write
 * it, after the daemon stopped (no -wal, no -shm): SQLite cannot create the
 * -shm it wants for a WAL database. Root ignores permissions, so as root the
 * reader becomes nobody in a child process. */
Test(store, readonly_open_works_in_a_directory_it_cannot_write) {
  gw_store *st = open_store();
  begin(st, "CP1", "T", 0, utc(2026, 10, 1, 12, 0, 0));
  gw_store_close(st);
  struct stat sb;
  cr_assert_eq(stat(dbpath, &sb), 0, "database exists");
  char shm[160];
  snprintf(shm, sizeof shm, "%s-shm", dbpath);
  cr_assert_neq(access(shm, F_OK), 0, "no -shm after close");
  const uid_t nobody = 65534;
  if (getuid() == 0) {
    cr_assert_eq(chown(dir, nobody, nobody), 0);
    cr_assert_eq(chown(dbpath, nobody, nobody), 0);
  }
  cr_assert_eq(chmod(dir, 0500), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    if (getuid() == 0 && (setgid(nobody) != 0 || setuid(nobody) != 0))
      _exit(10);
    gw_store *ro = NULL;
    if (gw_store_open_readonly(dir, &ro) != 0)
      _exit(11);
    FILE *devnull = fopen("/dev/null", "w");
    int rows = devnull ? gw_store_export_csv(ro, devnull, 0, 0) : -1;
    if (devnull)
      fclose(devnull);
    gw_store_close(ro);
    _exit(rows == 1 ? 0 : 12);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  chmod(dir, 0700);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "reader status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  cr_expect_neq(access(shm, F_OK), 0, "the reader wrote nothing");
}

/* ---- authorization cache ------------------------------------------------- */

Test(store, auth_cache_keeps_the_backends_answer_across_a_reopen) {
  gw_store *st = open_store();
  bool ok = false;
  cr_expect_eq(gw_store_auth_get(st, "CP1", "BACKEND1", 1000, &ok), GW_ENOTFOUND);
  cr_assert_eq(gw_store_auth_put(st, "CP1", "BACKEND1", true, 0, 1000), 0);
  cr_assert_eq(gw_store_auth_put(st, "CP1", "BLOCKED1", false, 0, 1000), 0);
  gw_store_close(st);
  st = open_store();
  cr_assert_eq(gw_store_auth_get(st, "CP1", "BACKEND1", 5000, &ok), 0);
  cr_expect(ok);
  cr_assert_eq(gw_store_auth_get(st, "CP1", "BLOCKED1", 5000, &ok), 0);
  cr_expect_not(ok);
  cr_expect_eq(gw_store_auth_get(st, "CP2", "BACKEND1", 5000, &ok), GW_ENOTFOUND,
               "per charger: another backend never accepted it");
  gw_store_close(st);
}

Test(store, auth_cache_entry_is_refused_once_its_expiry_passed) {
  gw_store *st = open_store();
  bool ok = false;
  cr_assert_eq(gw_store_auth_put(st, "CP1", "T1", true, 2000, 1000), 0);
  cr_assert_eq(gw_store_auth_get(st, "CP1", "T1", 1999, &ok), 0);
  cr_expect(ok);
  cr_assert_eq(gw_store_auth_get(st, "CP1", "T1", 2000, &ok), 0);
  cr_expect_not(ok);
  /* a new answer replaces the old one */
  cr_assert_eq(gw_store_auth_put(st, "CP1", "T1", true, 0, 3000), 0);
  cr_assert_eq(gw_store_auth_get(st, "CP1", "T1", 9000, &ok), 0);
  cr_expect(ok);
  cr_expect_eq(query_int("SELECT count(*) FROM auth_cache"), 1);
  gw_store_close(st);
}

Test(store, auth_cache_rejects_invalid_arguments) {
  gw_store *st = open_store();
  bool ok;
  cr_expect_eq(gw_store_auth_put(st, NULL, "T", true, 0, 1), GW_EINVAL);
  cr_expect_eq(gw_store_auth_put(st, "CP1", "", true, 0, 1), GW_EINVAL);
  cr_expect_eq(gw_store_auth_get(st, "CP1", "T", 1, NULL), GW_EINVAL);
  cr_expect_eq(gw_store_auth_get(NULL, "CP1", "T", 1, &ok), GW_EINVAL);
  gw_store_close(st);
}

/* A store with one session, taken back to an older schema by downgrade_sql
 * and opened again: upgraded to the current one with the session kept. */
static gw_store *upgraded_store(const char *downgrade_sql) {
  gw_store *st = open_store();
  int32_t id = begin(st, "CP1", "TAG1", 1500, 1000);
  gw_store_close(st);
  raw_exec(downgrade_sql);
  st = open_store();
  cr_expect_eq(query_int("PRAGMA user_version"), 5);
  gw_session s;
  cr_expect_eq(gw_store_find(st, "CP1", id, &s), 0);
  return st;
}

Test(store, version_2_database_is_upgraded_with_its_sessions) {
  gw_store *st = upgraded_store("DROP TABLE auth_cache; DROP TABLE upstream_queue;"
                                " DROP TABLE upstream_transactions;"
                                " DROP INDEX sessions_by_charger_text;"
                                " ALTER TABLE sessions DROP COLUMN charger_tx_text;"
                                " PRAGMA user_version = 2");
  cr_expect_eq(gw_store_auth_put(st, "CP1", "T", true, 0, 1), 0);
  gw_store_close(st);
}

Test(store, version_3_database_is_upgraded_with_an_empty_queue) {
  gw_store *st = upgraded_store("DROP TABLE upstream_queue;"
                                " DROP TABLE upstream_transactions;"
                                " DROP INDEX sessions_by_charger_text;"
                                " ALTER TABLE sessions DROP COLUMN charger_tx_text;"
                                " PRAGMA user_version = 3");
  int n = -1;
  time_t oldest = 1;
  cr_expect_eq(gw_store_queue_stats(st, "CP1", &n, &oldest), 0);
  cr_expect_eq(n, 0);
  cr_expect_eq(oldest, 0);
  gw_store_close(st);
}

Test(store, version_4_database_gains_the_charger_transaction_text) {
  gw_store *st = upgraded_store("DROP INDEX sessions_by_charger_text;"
                                " ALTER TABLE sessions DROP COLUMN charger_tx_text;"
                                " PRAGMA user_version = 4");
  gw_session s;
  cr_assert_eq(gw_store_find(st, "CP1", 1, &s), 0);
  cr_expect_str_eq(s.charger_tx_id, "", "a 1.6 session has no text id");
  int32_t id = 0;
  cr_assert_eq(gw_store_begin_charger_tx(st, "CP1", 1, "T", 0, 2000,
                                         "uuid-1", &id), 0);
  cr_expect_eq(id, 2);
  gw_store_close(st);
}

/* ---- OCPP 2.0.1 transaction ids (strings chosen by the charger) ---------- */

static int32_t begin_text(gw_store *st, const char *charger, int evse,
                          const char *tag, double wh, time_t start,
                          const char *charger_tx) {
  int32_t id = 0;
  int rc = gw_store_begin_charger_tx(st, charger, evse, tag, wh, start,
                                     charger_tx, &id);
  cr_assert_eq(rc, 0, "begin: %d %s", rc, gw_store_last_error(st));
  return id;
}

Test(store, charger_transaction_text_is_kept_beside_our_id) {
  gw_store *st = open_store();
  int32_t id = begin_text(st, "CP1", 2, "TAG1", 500, 1000, "0f8e-11aa");
  cr_expect_eq(id, 1);
  gw_session s;
  cr_assert_eq(gw_store_find_charger_tx(st, "CP1", "0f8e-11aa", &s), 0);
  cr_expect_eq(s.transaction_id, id);
  cr_expect_eq(s.connector, 2);
  cr_expect_str_eq(s.id_tag, "TAG1");
  cr_expect_str_eq(s.charger_tx_id, "0f8e-11aa");
  cr_expect_float_eq(s.meter_start_wh, 500, 1e-9);
  cr_assert_eq(gw_store_find(st, "CP1", id, &s), 0);
  cr_expect_str_eq(s.charger_tx_id, "0f8e-11aa");
  gw_store_close(st);
}

Test(store, charger_transaction_text_started_again_is_the_same_session) {
  gw_store *st = open_store();
  int32_t id = begin_text(st, "CP1", 1, "TAG1", 500, 1000, "tx-A");
  /* a replayed Started may differ in anything but the charger's id */
  cr_expect_eq(begin_text(st, "CP1", 1, "", 700, 1005, "tx-A"), id);
  cr_expect(stop(st, "CP1", id, true, 900, 2000).rc == 0);
  cr_expect_eq(begin_text(st, "CP1", 1, "TAG1", 500, 1000, "tx-A"), id,
               "also once it has stopped");
  gw_store_close(st);
  st = open_store();
  cr_expect_eq(begin_text(st, "CP1", 1, "TAG1", 500, 1000, "tx-A"), id,
               "and after a restart");
  cr_expect_eq(query_int("SELECT count(*) FROM sessions"), 1);
  gw_store_close(st);
}

Test(store, charger_transaction_text_is_per_charger) {
  gw_store *st = open_store();
  int32_t a = begin_text(st, "CP1", 1, "T", 0, 1000, "same");
  int32_t b = begin_text(st, "CP2", 1, "T", 0, 1000, "same");
  cr_expect_neq(a, b);
  gw_session s;
  cr_assert_eq(gw_store_find_charger_tx(st, "CP2", "same", &s), 0);
  cr_expect_eq(s.transaction_id, b);
  cr_expect_eq(gw_store_find_charger_tx(st, "CP3", "same", &s), GW_ENOTFOUND);
  gw_store_close(st);
}

Test(store, charger_transaction_text_lookup_rejects_invalid_arguments) {
  gw_store *st = open_store();
  gw_session s;
  cr_expect_eq(gw_store_find_charger_tx(st, "CP1", "", &s), GW_EINVAL);
  cr_expect_eq(gw_store_find_charger_tx(st, "CP1", NULL, &s), GW_EINVAL);
  cr_expect_eq(gw_store_find_charger_tx(st, NULL, "x", &s), GW_EINVAL);
  cr_expect_eq(gw_store_find_charger_tx(st, "CP1", "x", NULL), GW_EINVAL);
  char longer[GW_STORE_MAX_TEXT + 2];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  int32_t id = 0;
  cr_expect_eq(gw_store_begin_charger_tx(st, "CP1", 1, "T", 0, 1, longer, &id),
               GW_EINVAL);
  cr_expect_eq(gw_store_find_charger_tx(st, "CP1", longer, &s), GW_EINVAL);
  gw_store_close(st);
}

Test(store, csv_export_gives_the_charger_transaction_text_as_it_is) {
  gw_store *st = open_store();
  int32_t a = begin(st, "CP1", "T1", 0, 1000);
  int32_t b = begin_text(st, "CP2", 1, "T2", 0, 1000, "7c1d-uuid");
  cr_assert(stop(st, "CP1", a, true, 1000, 2000).rc == 0);
  cr_assert(stop(st, "CP2", b, true, 2000, 2000).rc == 0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  cr_expect_eq(rows, 2);
  cr_expect_neq(strstr(csv, "\nCP1,1,1,T1,"), NULL, "%s", csv);
  cr_expect_neq(strstr(csv, "\nCP2,1,7c1d-uuid,T2,"), NULL, "%s", csv);
  free(csv);
  gw_store_close(st);
}

/* ---- the queue of a billing backend -------------------------------------- */

static void expect_head(gw_store *st, const char *charger, const char *action,
                        int32_t tx, const char *payload, time_t queued,
                        int64_t *seq) {
  gw_queued q;
  cr_assert_eq(gw_store_queue_head(st, charger, &q), 0);
  cr_expect_str_eq(q.action, action);
  cr_expect_eq(q.transaction_id, tx);
  cr_expect_str_eq(q.payload, payload);
  cr_expect_eq(q.queued, queued);
  *seq = q.seq;
  free(q.payload);
}

Test(store, queue_keeps_order_per_charger_across_a_reopen) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_queue_put(st, "CP1", 7, "StartTransaction", "{\"a\":1}", 100), 0);
  cr_assert_eq(gw_store_queue_put(st, "CP2", 9, "StartTransaction", "{\"b\":1}", 101), 0);
  cr_assert_eq(gw_store_queue_put(st, "CP1", 7, "MeterValues", "{\"a\":2}", 102), 0);
  cr_assert_eq(gw_store_queue_put(st, "CP1", 7, "StopTransaction", "{\"a\":3}", 103), 0);
  /* nothing is deferred: the queue is on disk at once */
  cr_expect_eq(query_int("SELECT count(*) FROM upstream_queue"), 4);
  gw_store_close(st);
  st = open_store();
  int n = 0;
  time_t oldest = 0;
  cr_assert_eq(gw_store_queue_stats(st, "CP1", &n, &oldest), 0);
  cr_expect_eq(n, 3);
  cr_expect_eq(oldest, 100);
  int64_t seq;
  expect_head(st, "CP1", "StartTransaction", 7, "{\"a\":1}", 100, &seq);
  /* the head stays the head until the backend answered it */
  expect_head(st, "CP1", "StartTransaction", 7, "{\"a\":1}", 100, &seq);
  cr_assert_eq(gw_store_queue_done(st, seq, "CP1", 7, true, 4711), 0);
  expect_head(st, "CP1", "MeterValues", 7, "{\"a\":2}", 102, &seq);
  cr_assert_eq(gw_store_queue_done(st, seq, "CP1", 7, false, 0), 0);
  /* done twice (an answer after a reconnect) changes nothing more */
  cr_expect_eq(gw_store_queue_done(st, seq, "CP1", 7, false, 0), 0);
  expect_head(st, "CP1", "StopTransaction", 7, "{\"a\":3}", 103, &seq);
  cr_assert_eq(gw_store_queue_done(st, seq, "CP1", 7, false, 0), 0);
  gw_queued q;
  cr_expect_eq(gw_store_queue_head(st, "CP1", &q), GW_ENOTFOUND);
  cr_assert_eq(gw_store_queue_stats(st, "CP1", &n, &oldest), 0);
  cr_expect_eq(n, 0);
  cr_expect_eq(oldest, 0);
  expect_head(st, "CP2", "StartTransaction", 9, "{\"b\":1}", 101, &seq);
  gw_store_close(st);
}

Test(store, queue_start_makes_a_backend_session_that_gets_its_id) {
  gw_store *st = open_store();
  bool known = true;
  int32_t up = -1;
  cr_expect_eq(gw_store_upstream_tx(st, "CP1", 7, &known, &up), GW_ENOTFOUND);
  cr_assert_eq(gw_store_queue_put(st, "CP1", 7, "StartTransaction", "{}", 100), 0);
  cr_assert_eq(gw_store_upstream_tx(st, "CP1", 7, &known, &up), 0);
  cr_expect(!known, "no backend id before its answer");
  /* other messages make no backend session */
  cr_assert_eq(gw_store_queue_put(st, "CP1", 8, "MeterValues", "{}", 100), 0);
  cr_expect_eq(gw_store_upstream_tx(st, "CP1", 8, &known, &up), GW_ENOTFOUND);
  int64_t seq;
  expect_head(st, "CP1", "StartTransaction", 7, "{}", 100, &seq);
  cr_assert_eq(gw_store_queue_done(st, seq, "CP1", 7, true, 4711), 0);
  gw_store_close(st);
  st = open_store();
  cr_assert_eq(gw_store_upstream_tx(st, "CP1", 7, &known, &up), 0);
  cr_expect(known);
  cr_expect_eq(up, 4711);
  cr_expect_eq(gw_store_upstream_tx(st, "CP2", 7, &known, &up), GW_ENOTFOUND);
  gw_store_close(st);
}

Test(store, csv_shows_the_backend_id_of_a_backend_session_only) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 10, 1, 12, 0, 0);
  int32_t local = begin(st, "CP1", "LOCAL", 0, t0);
  int32_t remote = begin(st, "CP1", "EMP1", 0, t0 + 60);
  cr_assert_eq(gw_store_queue_put(st, "CP1", remote, "StartTransaction", "{}", t0 + 60), 0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  char want[512];
  /* not answered yet: empty */
  snprintf(want, sizeof want,
           HEADER "CP1,1,%d,LOCAL,2026-10-01T12:00:00Z,,0,,,,,\n"
           "CP1,1,%d,EMP1,2026-10-01T12:01:00Z,,0,,,,,\n", (int)local,
           (int)remote);
  cr_expect_str_eq(csv, want);
  free(csv);
  int64_t seq;
  expect_head(st, "CP1", "StartTransaction", remote, "{}", t0 + 60, &seq);
  cr_assert_eq(gw_store_queue_done(st, seq, "CP1", remote, true, 900001), 0);
  csv = export_csv(st, 0, 0, &rows);
  snprintf(want, sizeof want,
           HEADER "CP1,1,%d,LOCAL,2026-10-01T12:00:00Z,,0,,,,,\n"
           "CP1,1,%d,EMP1,2026-10-01T12:01:00Z,,0,,,,,900001\n", (int)local,
           (int)remote);
  cr_expect_str_eq(csv, want);
  free(csv);
  gw_store_close(st);
}

Test(store, queue_rejects_bad_arguments_and_read_only_stores) {
  gw_store *st = open_store();
  cr_expect_eq(gw_store_queue_put(st, "", 1, "MeterValues", "{}", 1), GW_EINVAL);
  cr_expect_eq(gw_store_queue_put(st, "CP1", 1, "", "{}", 1), GW_EINVAL);
  cr_expect_eq(gw_store_queue_put(st, "CP1", 1, "MeterValues", NULL, 1), GW_EINVAL);
  cr_expect_eq(gw_store_queue_put(NULL, "CP1", 1, "MeterValues", "{}", 1), GW_EINVAL);
  char *big = malloc(GW_STORE_PAYLOAD_MAX + 2);
  cr_assert_not_null(big);
  memset(big, 'x', GW_STORE_PAYLOAD_MAX + 1);
  big[GW_STORE_PAYLOAD_MAX + 1] = '\0';
  cr_expect_eq(gw_store_queue_put(st, "CP1", 1, "MeterValues", big, 1), GW_EINVAL);
  free(big);
  gw_queued q;
  cr_expect_eq(gw_store_queue_head(st, "CP1", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_queue_head(NULL, "CP1", &q), GW_EINVAL);
  int n;
  time_t t;
  cr_expect_eq(gw_store_queue_stats(st, "CP1", NULL, &t), GW_EINVAL);
  cr_expect_eq(gw_store_queue_stats(st, NULL, &n, &t), GW_EINVAL);
  bool known;
  int32_t up;
  cr_expect_eq(gw_store_upstream_tx(st, "CP1", 1, NULL, &up), GW_EINVAL);
  cr_expect_eq(gw_store_upstream_tx(st, "CP1", 1, &known, NULL), GW_EINVAL);
  cr_expect_eq(query_int("SELECT count(*) FROM upstream_queue"), 0);
  gw_store_close(st);
  gw_store *ro = NULL;
  cr_assert_eq(gw_store_open_readonly(dir, &ro), 0);
  cr_expect_eq(gw_store_queue_put(ro, "CP1", 1, "MeterValues", "{}", 1), GW_EINVAL);
  cr_expect_eq(gw_store_queue_done(ro, 1, "CP1", 1, false, 0), GW_EINVAL);
  cr_expect_eq(gw_store_queue_stats(ro, "CP1", &n, &t), 0);
  gw_store_close(ro);
}

/* ---- the reports of the status page -------------------------------------- */

typedef struct {
  int n;
  char line[8][96];
} recent_rows;

static void take_recent(void *ud, const gw_session *s) {
  recent_rows *r = ud;
  if (r->n < 8)
    snprintf(r->line[r->n], sizeof r->line[0], "%s %d %s %lld %.0f %s",
             s->charger_id, (int)s->transaction_id, s->id_tag,
             (long long)s->start, s->has_energy ? s->energy_wh : -1,
             s->stop_reason);
  r->n++;
}

Test(store, recent_gives_the_newest_sessions_first_up_to_the_limit) {
  gw_store *st = open_store();
  time_t t0 = utc(2026, 11, 1, 8, 0, 0);
  int32_t a = begin(st, "CP1", "A", 100, t0);
  cr_assert_eq(stop(st, "CP1", a, true, 1100, t0 + 3600).rc, 0);
  int32_t b = begin(st, "CP2", "B", 0, t0 + 86400);
  int32_t c = begin(st, "CP1", "C", 5000, t0 + 2 * 86400);
  recent_rows r = {0};
  cr_assert_eq(gw_store_recent(st, 50, take_recent, &r), 3);
  char want[3][96];
  snprintf(want[0], sizeof want[0], "CP1 %d C %lld -1 ", (int)c,
           (long long)(t0 + 2 * 86400));
  snprintf(want[1], sizeof want[1], "CP2 %d B %lld -1 ", (int)b,
           (long long)(t0 + 86400));
  snprintf(want[2], sizeof want[2], "CP1 %d A %lld 1000 Local", (int)a,
           (long long)t0);
  for (int i = 0; i < 3; i++)
    cr_assert_str_eq(r.line[i], want[i]);
  recent_rows two = {0};
  cr_assert_eq(gw_store_recent(st, 2, take_recent, &two), 2);
  cr_assert_str_eq(two.line[1], want[1]);
  cr_assert_eq(gw_store_recent(st, 0, take_recent, &two), GW_EINVAL);
  cr_assert_eq(gw_store_recent(st, 1001, take_recent, &two), GW_EINVAL);
  cr_assert_eq(gw_store_recent(st, 5, NULL, &two), GW_EINVAL);
  cr_assert_eq(gw_store_recent(NULL, 5, take_recent, &two), GW_EINVAL);
  gw_store_close(st);
}

typedef struct {
  int n;
  char line[8][96];
} month_rows;

static void take_month(void *ud, int64_t month, const char *charger,
                       const char *tag, double wh) {
  month_rows *r = ud;
  if (r->n < 8)
    snprintf(r->line[r->n], sizeof r->line[0], "%lld-%02lld %s %s %.0f",
             (long long)(month / 12), (long long)(month % 12 + 1), charger,
             tag, wh);
  r->n++;
}

Test(store, energy_by_month_sums_per_utc_month_charger_and_tag) {
  gw_store *st = open_store();
  struct {
    const char *charger, *tag;
    time_t start;
    double from_wh, to_wh;
  } s[] = {
    {"CP1", "A", utc(2026, 10, 31, 23, 59, 59), 0, 1000},
    {"CP1", "A", utc(2026, 11, 1, 0, 0, 0), 0, 2000},
    {"CP1", "A", utc(2026, 11, 20, 12, 0, 0), 10, 510},
    {"CP1", "B", utc(2026, 11, 21, 12, 0, 0), 0, 300},
    {"CP2", "A", utc(2026, 11, 22, 12, 0, 0), 0, 40},
    {"CP2", "A", utc(2025, 11, 22, 12, 0, 0), 0, 7777}, /* before from */
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    int32_t id = begin(st, s[i].charger, s[i].tag, s[i].from_wh, s[i].start);
    cr_assert_eq(stop(st, s[i].charger, id, true, s[i].to_wh,
                      s[i].start + 600).rc, 0);
  }
  /* running, no energy yet: counts nothing */
  begin(st, "CP3", "Z", 100, utc(2026, 11, 23, 0, 0, 0));
  month_rows r = {0};
  int n = gw_store_energy_by_month(st, utc(2026, 1, 1, 0, 0, 0),
                                   utc(2027, 1, 1, 0, 0, 0), take_month, &r);
  cr_assert_eq(n, 4);
  cr_assert_str_eq(r.line[0], "2026-10 CP1 A 1000");
  cr_assert_str_eq(r.line[1], "2026-11 CP1 A 2500");
  cr_assert_str_eq(r.line[2], "2026-11 CP1 B 300");
  cr_assert_str_eq(r.line[3], "2026-11 CP2 A 40");
  cr_assert_eq(gw_store_energy_by_month(st, 10, 10, take_month, &r), GW_EINVAL);
  cr_assert_eq(gw_store_energy_by_month(st, -1, 10, take_month, &r),
               GW_EINVAL);
  cr_assert_eq(gw_store_energy_by_month(st, 0, 10, NULL, &r), GW_EINVAL);
  gw_store_close(st);
}

/* ---- tag names ----------------------------------------------------------- */

/* A tag list that the test changes between calls, as a reload would. */
static const char *namer_name = "Anna";
static int namer_calls;

static const char *test_namer(void *ud, const char *charger_id,
                              const char *id_tag) {
  cr_assert_str_eq(ud, "list");
  cr_assert_str_eq(charger_id, "CP1");
  namer_calls++;
  return strcmp(id_tag, "04A2B3C4") == 0 ? namer_name : NULL;
}

static char *text_of(const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  char *v = NULL;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = strdup((const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

Test(store, session_keeps_the_tag_name_it_started_with) {
  gw_store *st = open_store();
  gw_store_set_tag_namer(st, test_namer, "list");
  namer_name = "Anna";
  int32_t id = begin(st, "CP1", "04A2B3C4", 0, 1000);
  namer_name = "Renamed";
  cr_assert_eq(stop(st, "CP1", id, true, 500, 2000).rc, 0);
  char *name = text_of("SELECT tag_name FROM sessions");
  cr_expect_str_eq(name, "Anna");
  free(name);
  gw_store_close(st);
}

Test(store, unknown_tag_has_an_empty_name_and_no_namer_names_nothing) {
  gw_store *st = open_store();
  begin(st, "CP1", "OTHER", 0, 1000);
  gw_store_set_tag_namer(st, test_namer, "list");
  namer_calls = 0;
  begin(st, "CP1", "UNKNOWN", 0, 1100);
  cr_expect_eq(namer_calls, 1);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE tag_name = ''"),
               2);
  gw_store_close(st);
}

Test(store, stop_of_an_unknown_transaction_is_named_at_the_stop) {
  gw_store *st = open_store();
  gw_store_set_tag_namer(st, test_namer, "list");
  namer_name = "Anna";
  cr_assert_eq(gw_store_end(st, "CP1", 77, "04A2B3C4", true, 900, 2100,
                            "Local", NULL, NULL, NULL), 0);
  char *name = text_of("SELECT tag_name FROM sessions WHERE"
                       " charger_transaction_id = 77");
  cr_expect_str_eq(name, "Anna");
  free(name);
  gw_store_close(st);
}

Test(store, csv_has_the_tag_name_column) {
  gw_store *st = open_store();
  gw_store_set_tag_namer(st, test_namer, "list");
  namer_name = "Company car, Anna";
  time_t t0 = utc(2026, 10, 1, 12, 0, 0);
  int32_t id = begin(st, "CP1", "04A2B3C4", 10, t0);
  int rows = 0;
  char *csv = export_csv(st, 0, 0, &rows);
  char want[256];
  snprintf(want, sizeof want,
           HEADER "CP1,1,%d,04A2B3C4,2026-10-01T12:00:00Z,,10,,,,"
           "\"Company car, Anna\",\n", (int)id);
  cr_expect_str_eq(csv, want);
  free(csv);
  gw_store_close(st);
}

Test(store, deferred_start_keeps_its_tag_name) {
  enum { CAP = 2000 };
  static int32_t ids[CAP + 8];
  gw_store *st = open_store();
  cr_assert_gt(fill_until_deferred(st, ids, CAP), 0);
  gw_store_set_tag_namer(st, test_namer, "list");
  namer_name = "Anna";
  int32_t id = 0;
  cr_expect_eq(gw_store_begin(st, "CP1", 1, "04A2B3C4", 0, 5000, &id),
               GW_EDEFERRED);
  namer_name = "Renamed";
  cr_assert_eq(gw_store_set_max_pages(st, 1L << 30), 0);
  cr_assert_eq(gw_store_flush(st), 0, "%s", gw_store_last_error(st));
  char *name = text_of("SELECT tag_name FROM sessions WHERE charger_id = 'CP1'");
  cr_expect_str_eq(name, "Anna");
  free(name);
  gw_store_close(st);
}

Test(store, version_1_database_gains_the_tag_name_column) {
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
    "INSERT INTO meta VALUES ('next_transaction_id', 5);"
    "CREATE TABLE sessions (charger_id TEXT NOT NULL, connector INTEGER,"
    " transaction_id INTEGER NOT NULL, charger_transaction_id INTEGER NOT NULL,"
    " id_tag TEXT NOT NULL DEFAULT '', start INTEGER, stop INTEGER,"
    " meter_start_wh REAL, meter_stop_wh REAL, last_meter_wh REAL,"
    " last_meter_time INTEGER, energy_wh REAL, stop_reason TEXT,"
    " recovered INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (charger_id, transaction_id));"
    "INSERT INTO sessions (charger_id, connector, transaction_id,"
    " charger_transaction_id, id_tag, start) VALUES ('CP1', 1, 4, 4, 'OLD', 10);"
    "CREATE TABLE chargers (charger_id TEXT PRIMARY KEY, vendor TEXT,"
    " model TEXT, serial TEXT, firmware TEXT, updated INTEGER);"
    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  gw_store *st = open_store();
  cr_expect_eq(query_int("PRAGMA user_version"), 5);
  cr_expect_eq(query_int("SELECT count(*) FROM sessions WHERE id_tag = 'OLD'"
                         " AND tag_name = ''"), 1);
  cr_expect_eq(query_int("SELECT count(*) FROM sqlite_master WHERE type ="
                         " 'table' AND name IN ('passwords', 'auth_cache')"), 2);
  cr_expect_eq(begin(st, "CP1", "T", 0, 100), 5);
  gw_store_close(st);
}

/* ---- rotated passwords --------------------------------------------------- */

Test(store, password_is_stored_durably_with_its_previous_one) {
  gw_store *st = open_store();
  gw_stored_password sp;
  cr_expect_eq(gw_store_get_password(st, "CP1", &sp), GW_ENOTFOUND);
  cr_assert_eq(gw_store_set_password(st, "CP1", "new-one", "old-one"), 0);
  gw_store_close(st);
  st = open_store();
  cr_assert_eq(gw_store_get_password(st, "CP1", &sp), 0);
  cr_expect_str_eq(sp.password, "new-one");
  cr_expect(sp.has_previous);
  cr_expect_str_eq(sp.previous, "old-one");
  cr_assert_eq(gw_store_set_password(st, "CP1", "new-one", NULL), 0);
  cr_assert_eq(gw_store_get_password(st, "CP1", &sp), 0);
  cr_expect_not(sp.has_previous);
  cr_expect_str_eq(sp.previous, "");
  cr_expect_eq(gw_store_get_password(st, "CP2", &sp), GW_ENOTFOUND);
  gw_store_close(st);
}

Test(store, forgotten_password_is_gone) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_set_password(st, "CP1", "pw", NULL), 0);
  cr_assert_eq(gw_store_forget_password(st, "CP1"), 0);
  gw_stored_password sp;
  cr_expect_eq(gw_store_get_password(st, "CP1", &sp), GW_ENOTFOUND);
  cr_expect_eq(gw_store_forget_password(st, "CP1"), 0, "nothing to forget");
  gw_store_close(st);
}

Test(store, password_arguments_are_checked) {
  gw_store *st = open_store();
  gw_stored_password sp;
  char long_pw[42];
  memset(long_pw, 'a', 41);
  long_pw[41] = '\0';
  cr_expect_eq(gw_store_set_password(st, "CP1", "", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_set_password(st, "CP1", NULL, NULL), GW_EINVAL);
  cr_expect_eq(gw_store_set_password(st, "CP1", long_pw, NULL), GW_EINVAL);
  cr_expect_eq(gw_store_set_password(st, "CP1", "pw", ""), GW_EINVAL);
  cr_expect_eq(gw_store_set_password(st, "", "pw", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_set_password(NULL, "CP1", "pw", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_get_password(st, "CP1", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_get_password(st, NULL, &sp), GW_EINVAL);
  cr_expect_eq(gw_store_forget_password(st, NULL), GW_EINVAL);
  long_pw[40] = '\0';
  cr_expect_eq(gw_store_set_password(st, "CP1", long_pw, long_pw), 0,
               "40 characters is the AuthorizationKey maximum");
  gw_store_close(st);
}

Test(store, read_only_store_reads_but_does_not_write_passwords) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_set_password(st, "CP1", "pw", NULL), 0);
  gw_store_close(st);
  cr_assert_eq(gw_store_open_readonly(dir, &st), 0);
  gw_stored_password sp;
  cr_expect_eq(gw_store_get_password(st, "CP1", &sp), 0);
  cr_expect_eq(gw_store_set_password(st, "CP1", "other", NULL), GW_EINVAL);
  cr_expect_eq(gw_store_forget_password(st, "CP1"), GW_EINVAL);
  gw_store_close(st);
}

Test(store, unusable_stored_password_is_an_error_not_a_login) {
  gw_store *st = open_store();
  cr_assert_eq(gw_store_set_password(st, "CP1", "pw", NULL), 0);
  raw_exec("UPDATE passwords SET password = ''");
  gw_stored_password sp;
  cr_expect_eq(gw_store_get_password(st, "CP1", &sp), GW_EIO);
  cr_expect_neq(strstr(gw_store_last_error(st), "CP1"), NULL);
  gw_store_close(st);
}
