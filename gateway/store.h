/* gw_store: the SQLite session store in [store] dir.
 *
 * Holds the transaction counter, every charging session and the last known
 * charger info. Starts and stops are durable (WAL, synchronous=FULL) before
 * the call returns; meter readings are batched. When the disk cannot be
 * written, records stay in memory and are written by gw_store_flush() (or
 * the next write that succeeds) once it works again, in their original
 * order: nothing is lost and no id is reused.
 *
 * Transaction ids the charger makes up (0, -1, ...) may repeat: a stop for
 * such an id is a duplicate only when its stop time is the same too; the
 * rows get a synthetic negative key internally and keep the charger's id
 * for lookups and the export. Library code: it
 * does not log; failures come back as GW_E* codes (gateway/errors.h) plus
 * gw_store_last_error().
 */
#ifndef OCPPKNX_GW_STORE_H
#define OCPPKNX_GW_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "gateway/errors.h"

/* Cap on every text argument (charger id, tag, reason, charger info), in
 * bytes; longer input is GW_EINVAL. */
#define GW_STORE_MAX_TEXT 255

typedef struct gw_store gw_store;

typedef struct {
  const char *charger_id;
  int connector;
  int32_t transaction_id;
  const char *id_tag;           /* "" when unknown */
  time_t start, stop;           /* 0 when unknown / still running */
  bool has_meter_start; double meter_start_wh;
  bool has_meter_stop;  double meter_stop_wh;
  bool has_energy;      double energy_wh;
  const char *stop_reason;      /* "" when running */
  const char *charger_tx_id;    /* OCPP 2.0.1: the charger's transactionId;
                                   "" for OCPP 1.6 */
} gw_session;

/* Opens (creates, upgrades) dir/ocppknx.db; creates dir (0750) if missing,
 * files 0600. Returns 0, GW_EINVAL, GW_EOPEN, GW_ESCHEMA,
 * GW_ENOMEM. After EOPEN or ESCHEMA *out is a closed handle that only
 * answers gw_store_last_error() and must be passed to gw_store_close();
 * otherwise on failure *out is NULL. */
int gw_store_open(const char *dir, gw_store **out);

/* read_only: for the CSV export while the daemon runs. The database must
 * exist and have the current schema. Writes on such a store are
 * GW_EINVAL. Returns and *out as gw_store_open(). */
int gw_store_open_readonly(const char *dir, gw_store **out);

/* Flushes pending records (best effort) and closes. NULL allowed. */
void gw_store_close(gw_store *st);

const char *gw_store_last_error(const gw_store *st);

/* Allocates the next transaction id (never reused, also across crashes) and
 * records the session start. A start that repeats a session still running
 * (same charger, connector, tag, meter start and a known start time, as a
 * charger sends it again when our answer got lost) gets that session's id
 * and records nothing new. Returns 0 or GW_EDEFERRED (the id in
 * *transaction_id is still valid and unique); GW_EINVAL for bad
 * arguments, a read-only store or an exhausted id space; GW_ENOMEM
 * when the deferred list is full (nothing recorded, no id). */
int gw_store_begin(gw_store *st, const char *charger_id, int connector,
                   const char *id_tag, double meter_start_wh, time_t start,
                   int32_t *transaction_id);

/* gw_store_begin for an OCPP 2.0.1 charger: charger_tx_id (its own
 * transactionId, a string; NULL or "" for OCPP 1.6) is kept beside the
 * gateway's id, shown in the export's transaction_id column, and a start
 * with a charger_tx_id the store already knows gets that session's id and
 * records nothing new (a replayed Started event). */
int gw_store_begin_charger_tx(gw_store *st, const char *charger_id,
                              int connector, const char *id_tag,
                              double meter_start_wh, time_t start,
                              const char *charger_tx_id,
                              int32_t *transaction_id);

/* Records the stop. Unknown transaction ids (also 0, -1) get a row of their
 * own. A stop for a session that is already stopped changes nothing and
 * sets *duplicate. *energy_wh is meter_stop - meter_start when both are
 * known, else from the last meter reading; has_energy false when unknown.
 * duplicate, has_energy and energy_wh may be NULL. stop 0 = unknown.
 * Returns 0, GW_EDEFERRED (results computed from what is known),
 * GW_EINVAL, GW_ENOMEM (deferred list full, nothing recorded). */
int gw_store_end(gw_store *st, const char *charger_id, int32_t transaction_id,
                 const char *id_tag, bool has_meter_stop, double meter_stop_wh,
                 time_t stop, const char *reason, bool *duplicate,
                 bool *has_energy, double *energy_wh);

/* Remembers the latest energy register of a running transaction (batched;
 * written by gw_store_flush). A transaction the store does not know is
 * created as a recovered session (tag "", start = first reading).
 * Readings after the session's stop are ignored. Returns 0, GW_EINVAL,
 * GW_ENOMEM (too many transactions pending while the disk fails). */
int gw_store_meter(gw_store *st, const char *charger_id, int connector,
                   int32_t transaction_id, double energy_wh, time_t when);

/* Writes batched meter readings and deferred records. Returns 0 or
 * GW_EDEFERRED while the disk still fails. */
int gw_store_flush(gw_store *st);

/* true while records wait in memory for the disk. */
bool gw_store_has_deferred(const gw_store *st);

/* Looks a session up in the database (for ids that repeat, the newest row
 * with that id). Returns 0 (s filled; strings valid until the next call into
 * the store), GW_ENOTFOUND, GW_EINVAL, GW_EIO. */
int gw_store_find(gw_store *st, const char *charger_id,
                  int32_t transaction_id, gw_session *s);

/* The session of an OCPP 2.0.1 charger's transactionId (s->transaction_id
 * is the gateway's id). Returns as gw_store_find; GW_EINVAL also for an
 * empty charger_tx_id. */
int gw_store_find_charger_tx(gw_store *st, const char *charger_id,
                             const char *charger_tx_id, gw_session *s);

/* Records the charger's BootNotification data (NULL = ""). Returns 0,
 * GW_EDEFERRED, GW_EINVAL, GW_ENOMEM. */
int gw_store_save_charger(gw_store *st, const char *charger_id,
                          const char *vendor, const char *model,
                          const char *serial, const char *firmware);

/* A charger's BootNotification data as last recorded. */
typedef struct {
  char vendor[GW_STORE_MAX_TEXT + 1], model[GW_STORE_MAX_TEXT + 1];
  char serial[GW_STORE_MAX_TEXT + 1], firmware[GW_STORE_MAX_TEXT + 1];
} gw_charger_info;

/* What gw_store_save_charger recorded for charger_id, in this process or
 * an earlier one (the backend link boots with it before the charger has
 * booted again). Returns 0, GW_ENOTFOUND, GW_EINVAL, GW_EIO. */
int gw_store_load_charger(gw_store *st, const char *charger_id,
                          gw_charger_info *out);

/* The authorization cache of billing backends: what the backend of
 * charger_id last answered for id_tag (accepted or not, and until when:
 * expiry 0 = no expiry date). Written at once (durable when it returns
 * 0). Returns 0, GW_EINVAL, GW_EIO. */
int gw_store_auth_put(gw_store *st, const char *charger_id, const char *id_tag,
                      bool accepted, time_t expiry, time_t now);

/* The cached answer for id_tag at now: 0 with *accepted true when the
 * backend accepted it last and its expiry has not passed, false when it
 * refused it or the expiry passed; GW_ENOTFOUND for a tag the backend
 * never answered; GW_EINVAL, GW_EIO. */
int gw_store_auth_get(gw_store *st, const char *charger_id, const char *id_tag,
                      time_t now, bool *accepted);

/* ---- the queue of a billing backend -------------------------------------
 * Transaction messages (StartTransaction, MeterValues, StopTransaction) of
 * the backend's sessions, kept until the backend answered them. Written at
 * once and durably (never deferred): a message the charger was answered
 * for must reach the backend after any crash. */

#define GW_STORE_PAYLOAD_MAX 65536  /* one message's JSON text */

typedef struct {
  int64_t seq;                    /* the queue's order, never reused */
  int32_t transaction_id;         /* the gateway's */
  char action[32];
  char *payload;                  /* JSON text; the caller frees it */
  time_t queued;                  /* when it was put */
} gw_queued;

/* Appends a message for charger_id's backend. A StartTransaction also
 * records transaction_id as a session of the backend (its id unknown
 * yet), in the same database transaction. Returns 0, GW_EINVAL
 * (read-only store, bad text, payload over GW_STORE_PAYLOAD_MAX), GW_EIO. */
int gw_store_queue_put(gw_store *st, const char *charger_id,
                       int32_t transaction_id, const char *action,
                       const char *payload, time_t queued);

/* The oldest message of charger_id. Returns 0 (out filled, out->payload
 * allocated), GW_ENOTFOUND (empty), GW_EINVAL, GW_ENOMEM, GW_EIO. */
int gw_store_queue_head(gw_store *st, const char *charger_id, gw_queued *out);

/* The backend answered message seq: it leaves the queue. For a
 * StartTransaction, has_upstream_id stores the backend's transaction id
 * beside the gateway's, in the same database transaction. Returns 0 (also
 * when seq was gone), GW_EINVAL, GW_EIO. */
int gw_store_queue_done(gw_store *st, int64_t seq, const char *charger_id,
                        int32_t transaction_id, bool has_upstream_id,
                        int32_t upstream_id);

/* How many messages charger_id's queue holds, and when the oldest was put
 * (0 when empty). Returns 0, GW_EINVAL, GW_EIO. */
int gw_store_queue_stats(gw_store *st, const char *charger_id, int *count,
                         time_t *oldest);

/* Whether transaction_id of charger_id is a backend's session: GW_ENOTFOUND
 * when not; 0 when it is, with *known telling whether the backend's id
 * (*upstream_id) arrived yet. GW_EINVAL, GW_EIO. */
int gw_store_upstream_tx(gw_store *st, const char *charger_id,
                         int32_t transaction_id, bool *known,
                         int32_t *upstream_id);

/* The name of a tag at the moment a session is recorded (the tag list
 * changes; the session keeps the name it had). Returns "" or NULL when the
 * tag has none. */
typedef const char *(*gw_store_tag_namer)(void *user_data,
                                          const char *charger_id,
                                          const char *id_tag);

/* Sets who names tags for gw_store_begin and gw_store_end (kept in the
 * session's tag_name); without one the name stays "". NULL st is a no-op. */
void gw_store_set_tag_namer(gw_store *st, gw_store_tag_namer namer,
                            void *user_data);

/* ---- rotated Basic Auth passwords ---------------------------------------
 * Written at once and durably (never deferred): a password that is not on
 * disk must not be given to a charger. They win over the charger files. */

#define GW_STORE_PASSWORD_MAX 40  /* OCPP 1.6 AuthorizationKey */

typedef struct {
  char password[GW_STORE_PASSWORD_MAX + 1];
  bool has_previous;
  char previous[GW_STORE_PASSWORD_MAX + 1];  /* "" without */
} gw_stored_password;

/* The stored password of charger_id. Returns 0 (out filled),
 * GW_ENOTFOUND, GW_EINVAL, GW_EIO. */
int gw_store_get_password(gw_store *st, const char *charger_id,
                          gw_stored_password *out);

/* Stores password and previous (NULL: none) for charger_id. Returns 0,
 * GW_EINVAL (read-only store, empty or over-long password), GW_EIO. */
int gw_store_set_password(gw_store *st, const char *charger_id,
                          const char *password, const char *previous);

/* Forgets charger_id's stored password (the charger file's counts again).
 * Returns 0 (also when there was none), GW_EINVAL, GW_EIO. */
int gw_store_forget_password(gw_store *st, const char *charger_id);

/* Writes the CSV header and one row per session whose start (or stop, for
 * sessions without a start) lies in [from, to) (0 = open end). Returns the
 * number of rows, or GW_EINVAL, GW_EIO. Times are UTC
 * ("2026-10-01T12:00:00Z"), meter values and energy whole Wh, unknown values
 * empty, fields quoted as RFC 4180 asks; lines end in "\n". */
int gw_store_export_csv(gw_store *st, FILE *out, time_t from, time_t to);

/* The same with every tag and tag name that is not empty written as
 * tag_mask (NULL: as they are), for a download nobody logged in for. */
int gw_store_export_csv_masked(gw_store *st, FILE *out, time_t from,
                               time_t to, const char *tag_mask);

/* Calls fn for each of the last `limit` sessions (1..1000), newest start
 * first (sessions without a start by their stop). The session's strings
 * are valid during the call only. Returns the number of sessions, or
 * GW_EINVAL, GW_EIO. Records still waiting for the disk are not seen. */
int gw_store_recent(gw_store *st, int limit,
                    void (*fn)(void *user_data, const gw_session *s),
                    void *user_data);

/* Energy of the sessions that started in [from, to), summed per UTC month
 * (the month number year * 12 + month - 1, as gw_month_number counts),
 * charger and tag: fn is called once per group with strings valid during
 * the call. Sessions without a known energy count nothing. Returns the
 * number of groups, or GW_EINVAL, GW_EIO. */
int gw_store_energy_by_month(gw_store *st, time_t from, time_t to,
                             void (*fn)(void *user_data, int64_t month,
                                        const char *charger_id,
                                        const char *id_tag, double wh),
                             void *user_data);

/* Test and diagnostic knob: limits this connection's database to `pages`
 * pages (PRAGMA max_page_count; SQLite never sets it below the current
 * size), so a full disk can be produced without privileges. Returns 0,
 * GW_EINVAL, GW_EIO. */
int gw_store_set_max_pages(gw_store *st, long pages);

#endif
