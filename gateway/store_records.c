/* gw_store, the records: sessions, meter readings and charger info. See
 * store.h for the contract; store_db.c opens the database.
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
#include "gateway/store_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEFERRED 65536      /* records kept while the disk fails */
#define MAX_PENDING_METERS 4096 /* transactions with an unwritten reading */
#define MAX_CONNECTOR 1000
#define MAX_ID_PROBES 100000    /* ids skipped because a charger made them up */

/* ---- small helpers ------------------------------------------------------- */

static bool wh_ok(double wh) {
  return isfinite(wh) && fabs(wh) <= MAX_METER_WH;
}

static char *dup_text(const char *s) {
  return strdup(s ? s : "");
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
    store_error(st, "too many records waiting for the disk");
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
  return GW_ENOMEM;
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
    return GW_ENOMEM;
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
  sqlite3_stmt *s = store_stmt(st, ST_STOPPED_DUP);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, id);
  bind_time(s, 3, stop);
  int rc = store_step_row(st, s, "stop lookup");
  sqlite3_reset(s);
  return rc;
}

static int running_lookup(gw_store *st, const char *charger_id, int32_t id,
                          running_row *row) {
  memset(row, 0, sizeof *row);
  sqlite3_stmt *s = store_stmt(st, ST_RUNNING_ROW);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, id);
  int rc = store_step_row(st, s, "session lookup");
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
  sqlite3_stmt *s = store_stmt(st, ST_MIN_SYNTHETIC);
  if (s == NULL)
    return -1;
  bind_text(s, 1, charger_id);
  int rc = store_step_row(st, s, "key lookup");
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
  const char *tag, *tag_name;
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
  sqlite3_stmt *s = store_stmt(st, ST_RECOVERED_INSERT);
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
  bind_text(s, 14, r->tag_name);
  return store_step_done(st, s, "insert recovered session");
}

static int apply_begin(gw_store *st, const record *r) {
  sqlite3_stmt *s = store_stmt(st, ST_BEGIN_INSERT);
  if (s == NULL)
    return -1;
  bind_text(s, 1, r->charger_id);
  sqlite3_bind_int(s, 2, r->connector);
  sqlite3_bind_int(s, 3, r->id);
  bind_text(s, 4, r->text[TXT_TAG]);
  bind_time(s, 5, r->when);
  bind_opt_double(s, 6, r->has_wh, r->wh);
  bind_text(s, 7, r->text[TXT_TAG_NAME]);
  bind_text(s, 8, r->text[TXT_CHARGER_TX]);
  if (store_step_done(st, s, "insert session") < 0)
    return -1;
  s = store_stmt(st, ST_COUNTER_RAISE);
  if (s == NULL)
    return -1;
  sqlite3_bind_int64(s, 1, (sqlite3_int64)r->id + 1);
  return store_step_done(st, s, "update counter");
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
      .id = r->id, .tag = r->text[TXT_TAG], .tag_name = r->text[TXT_TAG_NAME],
      .start = r->snap.has ? r->snap.first_time : 0, .stop = r->when,
      .has_start_wh = row.has_start_wh, .start_wh = row.start_wh,
      .has_stop_wh = r->has_wh, .stop_wh = r->wh,
      .has_last = row.has_last, .last_wh = row.last_wh,
      .last_time = row.last_time, .energy = *res,
      .reason = r->text[TXT_REASON],
    };
    return insert_recovered(st, &rr);
  }
  sqlite3_stmt *s = store_stmt(st, ST_END_UPDATE);
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
  bind_text(s, 9, r->text[TXT_TAG_NAME]);
  return store_step_done(st, s, "update session");
}

static int apply_charger(gw_store *st, const record *r) {
  sqlite3_stmt *s = store_stmt(st, ST_CHARGER_UPSERT);
  if (s == NULL)
    return -1;
  bind_text(s, 1, r->charger_id);
  for (int i = 0; i < 4; i++)
    bind_text(s, 2 + i, r->text[i]);
  sqlite3_bind_int64(s, 6, (sqlite3_int64)r->when);
  return store_step_done(st, s, "save charger");
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
    sqlite3_stmt *s = store_stmt(st, ST_METER_UPDATE);
    if (s == NULL)
      return -1;
    sqlite3_bind_int64(s, 1, row.rowid);
    sqlite3_bind_double(s, 2, m->snap.last_wh);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)m->snap.last_time);
    return store_step_done(st, s, "update meter");
  }
  sqlite3_stmt *s = store_stmt(st, ST_METER_STALE);
  if (s == NULL)
    return -1;
  bind_text(s, 1, m->charger_id);
  sqlite3_bind_int(s, 2, m->id);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)m->snap.first_time);
  int stale = store_step_row(st, s, "meter lookup");
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
 * a stop. Returns 0 or GW_EDEFERRED (everything kept).
 *
 * Any failure defers, not only the disk errors (FULL, READONLY, IOERR,
 * CANTOPEN, BUSY after the timeout): the charger has been or will be
 * answered either way, so keeping the record and retrying is the only
 * choice that loses nothing; gw_store_last_error() tells what failed. */
static int write_all(gw_store *st, bool with_meters, end_result *res) {
  bool meters = with_meters && st->n_meters > 0;
  if (st->n_deferred == 0 && !meters)
    return 0;
  if (store_exec(st, "BEGIN IMMEDIATE") < 0)
    goto fail;
  for (size_t i = 0; i < st->n_deferred; i++) {
    bool newest = i + 1 == st->n_deferred;
    if (apply_record(st, &st->deferred[i], newest ? res : NULL) < 0)
      goto fail;
  }
  for (size_t i = 0; meters && i < st->cap_meters; i++)
    if (st->meters[i].charger_id != NULL && apply_meter(st, &st->meters[i]) < 0)
      goto fail;
  if (store_exec(st, "COMMIT") < 0)
    goto fail;
  deferred_clear(st);
  if (meters)
    meters_clear(st);
  if (with_meters)
    st->meters_failed = false;
  return 0;
fail:
  store_rollback(st);
  if (meters)
    st->meters_failed = true;
  return GW_EDEFERRED;
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

/* ---- writes -------------------------------------------------------------- */

/* Next free id: skips ids a charger made up that are already stored. A
 * failed read only means we cannot skip; the counter alone keeps our own
 * ids unique. */
static int allocate_id(gw_store *st, int32_t *id) {
  for (int probes = 0; probes < MAX_ID_PROBES; probes++) {
    if (st->next_id > INT32_MAX) {
      store_error(st, "transaction id space exhausted");
      return GW_EINVAL;
    }
    int32_t candidate = (int32_t)st->next_id;
    int taken = 0;
    for (size_t i = 0; i < st->n_deferred && !taken; i++)
      taken = st->deferred[i].kind == REC_END && st->deferred[i].id == candidate;
    sqlite3_stmt *s = taken ? NULL : store_stmt(st, ST_ID_TAKEN);
    if (s != NULL) {
      sqlite3_bind_int(s, 1, candidate);
      taken = store_step_row(st, s, "id lookup");
      sqlite3_reset(s);
    }
    if (taken != 1) {
      *id = candidate;
      return 0;
    }
    st->next_id++;
  }
  store_error(st, "no free transaction id found");
  return GW_EINVAL;
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
  sqlite3_stmt *s = store_stmt(st, ST_SAME_START);
  if (s == NULL)
    return 0;
  bind_text(s, 1, k->charger_id);
  sqlite3_bind_int(s, 2, k->connector);
  bind_text(s, 3, k->tag);
  bind_time(s, 4, k->start);
  sqlite3_bind_double(s, 5, k->meter_start_wh);
  int32_t id = 0;
  if (store_step_row(st, s, "start lookup") == 1)
    id = (int32_t)sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return id > 0 && !deferred_stop_after(st, k->charger_id, id, 0) ? id : 0;
}

void gw_store_set_tag_namer(gw_store *st, gw_store_tag_namer namer,
                            void *user_data) {
  if (st == NULL)
    return;
  st->namer = namer;
  st->namer_data = user_data;
}

/* The name is cut to the store's cap on text rather than refusing the
 * session over it. */
static const char *tag_name_of(gw_store *st, const char *charger_id,
                               const char *id_tag) {
  if (st->namer == NULL || id_tag == NULL || *id_tag == '\0')
    return NULL;
  const char *name = st->namer(st->namer_data, charger_id, id_tag);
  return name != NULL && strlen(name) <= GW_STORE_MAX_TEXT ? name : NULL;
}

/* The session an OCPP 2.0.1 charger's transactionId already has, or 0: its
 * id is its own and unique, so a Started event that comes again (replayed
 * after a reconnect) is the same session, running or not. */
static int32_t same_charger_tx(gw_store *st, const char *charger_id,
                               const char *charger_tx_id) {
  for (size_t i = st->n_deferred; i-- > 0;) {
    const record *o = &st->deferred[i];
    if (o->kind == REC_BEGIN && o->text[TXT_CHARGER_TX] != NULL &&
        strcmp(o->text[TXT_CHARGER_TX], charger_tx_id) == 0 &&
        strcmp(o->charger_id, charger_id) == 0)
      return o->id;
  }
  sqlite3_stmt *s = store_stmt(st, ST_FIND_TEXT);
  if (s == NULL)
    return 0;
  bind_text(s, 1, charger_id);
  bind_text(s, 2, charger_tx_id);
  int32_t id = 0;
  if (store_step_row(st, s, "transaction lookup") == 1)
    id = (int32_t)sqlite3_column_int64(s, 2);
  sqlite3_reset(s);
  return id;
}

int gw_store_begin(gw_store *st, const char *charger_id, int connector,
                   const char *id_tag, double meter_start_wh, time_t start,
                   int32_t *transaction_id) {
  return gw_store_begin_charger_tx(st, charger_id, connector, id_tag,
                                   meter_start_wh, start, NULL, transaction_id);
}

int gw_store_begin_charger_tx(gw_store *st, const char *charger_id,
                              int connector, const char *id_tag,
                              double meter_start_wh, time_t start,
                              const char *charger_tx_id,
                              int32_t *transaction_id) {
  if (!store_usable(st, true) || transaction_id == NULL ||
      !store_charger_ok(charger_id) || !store_text_ok(id_tag) || connector < 0 ||
      connector > MAX_CONNECTOR || start < 0 || !store_text_ok(charger_tx_id))
    return GW_EINVAL;
  bool has_charger_tx = charger_tx_id != NULL && charger_tx_id[0] != '\0';
  /* a 2.0.1 transaction may start without a meter reading: NaN */
  bool has_start_wh = !(has_charger_tx && isnan(meter_start_wh));
  if (has_start_wh && !wh_ok(meter_start_wh))
    return GW_EINVAL;
  const start_key key = {
    .charger_id = charger_id, .tag = id_tag ? id_tag : "",
    .connector = connector, .meter_start_wh = meter_start_wh, .start = start,
  };
  int32_t same = has_charger_tx ? same_charger_tx(st, charger_id, charger_tx_id)
                                : repeated_start(st, &key);
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
    .text = {dup_text(id_tag), dup_text(NULL),
             dup_text(tag_name_of(st, charger_id, id_tag)),
             dup_text(charger_tx_id)},
    .connector = connector, .id = id, .has_wh = has_start_wh,
    .wh = has_start_wh ? meter_start_wh : 0, .when = start,
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
  if (!store_usable(st, true) || !store_charger_ok(charger_id) ||
      !store_text_ok(id_tag) || !store_text_ok(reason) || stop < 0 ||
      (has_meter_stop && !wh_ok(meter_stop_wh)))
    return GW_EINVAL;
  record r = {
    .kind = REC_END, .charger_id = dup_text(charger_id),
    .text = {dup_text(id_tag), dup_text(reason),
             dup_text(tag_name_of(st, charger_id, id_tag)), dup_text(NULL)},
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
  if (!store_usable(st, true) || !store_charger_ok(charger_id) ||
      connector < 0 || connector > MAX_CONNECTOR || !wh_ok(energy_wh) ||
      when < 0)
    return GW_EINVAL;
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
      store_error(st, "too many transactions with readings waiting for the disk");
      return GW_ENOMEM;
    }
  }
  if ((st->n_meters + 1) * 2 > st->cap_meters && meter_grow(st) != 0)
    return GW_ENOMEM;
  char *copy = strdup(charger_id);
  if (copy == NULL)
    return GW_ENOMEM;
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
  if (!store_usable(st, false))
    return GW_EINVAL;
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
  if (!store_usable(st, true) || !store_charger_ok(charger_id) ||
      !store_text_ok(vendor) || !store_text_ok(model) || !store_text_ok(serial) ||
      !store_text_ok(firmware))
    return GW_EINVAL;
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

/* ---- reads --------------------------------------------------------------- */

static const char *column_text(sqlite3_stmt *s, int col) {
  const unsigned char *v = sqlite3_column_text(s, col);
  return v ? (const char *)v : "";
}

void store_session_of_row(sqlite3_stmt *s, gw_session *out) {
  *out = (gw_session){
    .charger_id = column_text(s, 0),
    .connector = sqlite3_column_int(s, 1),
    .transaction_id = sqlite3_column_int(s, 2),
    .id_tag = column_text(s, 3),
    .start = (time_t)sqlite3_column_int64(s, 4),
    .stop = (time_t)sqlite3_column_int64(s, 5),
    .has_meter_start = sqlite3_column_type(s, 6) != SQLITE_NULL,
    .meter_start_wh = sqlite3_column_double(s, 6),
    .has_meter_stop = sqlite3_column_type(s, 7) != SQLITE_NULL,
    .meter_stop_wh = sqlite3_column_double(s, 7),
    .has_energy = sqlite3_column_type(s, 8) != SQLITE_NULL,
    .energy_wh = sqlite3_column_double(s, 8),
    .stop_reason = column_text(s, 9),
    .charger_tx_id = column_text(s, 10),
  };
}

/* The one row of a lookup statement whose ?1 is bound to the charger and ?2
 * to the key, as a session whose texts outlive the statement's reset. */
static int find_row(gw_store *st, sqlite3_stmt *s, gw_session *out) {
  int rc = store_step_row(st, s, "find session");
  if (rc <= 0) {
    sqlite3_reset(s);
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  }
  store_session_of_row(s, out);
  /* the column texts go with the reset: the caller gets copies */
  snprintf(st->find_charger, sizeof st->find_charger, "%s", out->charger_id);
  snprintf(st->find_tag, sizeof st->find_tag, "%s", out->id_tag);
  snprintf(st->find_reason, sizeof st->find_reason, "%s", out->stop_reason);
  snprintf(st->find_charger_tx, sizeof st->find_charger_tx, "%s",
           out->charger_tx_id);
  out->charger_tx_id = st->find_charger_tx;
  out->charger_id = st->find_charger;
  out->id_tag = st->find_tag;
  out->stop_reason = st->find_reason;
  sqlite3_reset(s);
  return 0;
}

int gw_store_find(gw_store *st, const char *charger_id,
                  int32_t transaction_id, gw_session *out) {
  if (!store_usable(st, false) || out == NULL || !store_charger_ok(charger_id))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_FIND);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  sqlite3_bind_int(s, 2, transaction_id);
  return find_row(st, s, out);
}

int gw_store_find_charger_tx(gw_store *st, const char *charger_id,
                             const char *charger_tx_id, gw_session *out) {
  if (!store_usable(st, false) || out == NULL || !store_charger_ok(charger_id) ||
      charger_tx_id == NULL || charger_tx_id[0] == '\0' ||
      !store_text_ok(charger_tx_id))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_FIND_TEXT);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  bind_text(s, 2, charger_tx_id);
  return find_row(st, s, out);
}

int gw_store_load_charger(gw_store *st, const char *charger_id,
                          gw_charger_info *out) {
  if (!store_usable(st, false) || out == NULL || !store_charger_ok(charger_id))
    return GW_EINVAL;
  sqlite3_stmt *s = store_stmt(st, ST_CHARGER_INFO);
  if (s == NULL)
    return GW_EIO;
  bind_text(s, 1, charger_id);
  int rc = store_step_row(st, s, "charger info");
  if (rc <= 0)
    return rc < 0 ? GW_EIO : GW_ENOTFOUND;
  snprintf(out->vendor, sizeof out->vendor, "%s", column_text(s, 0));
  snprintf(out->model, sizeof out->model, "%s", column_text(s, 1));
  snprintf(out->serial, sizeof out->serial, "%s", column_text(s, 2));
  snprintf(out->firmware, sizeof out->firmware, "%s", column_text(s, 3));
  sqlite3_reset(s);
  return 0;
}

/* ---- close --------------------------------------------------------------- */

/* The records are written out first, then the database goes. */
void gw_store_close(gw_store *st) {
  if (st == NULL)
    return;
  store_records_close(st);
  store_db_close(st);
}

void store_records_close(gw_store *st) {
  if (store_usable(st, true))
    write_all(st, true, NULL);
  deferred_clear(st);
  free(st->deferred);
  st->deferred = NULL;
  st->cap_deferred = 0;
  meters_clear(st);
  free(st->meters);
  st->meters = NULL;
  st->cap_meters = 0;
}
