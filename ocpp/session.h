/* The OCPP-J session engine: one peer's RPC, without I/O.
 *
 * A session is fed complete WebSocket text messages and the current time,
 * and hands the text it wants sent to a callback; it says when it next
 * needs the time (ocpp_session_next_deadline) and never reads a clock,
 * opens a socket or arms a timer itself. RPC call tracking (one call in
 * flight, the rest queued, each with a timeout), the message codecs,
 * schema validation with the lenient repairs and the action handlers all
 * live behind it. What the session does with a peer's CALLs depends on its
 * role: the central system towards a charger (ocpp__role_cs16), or a
 * charge point towards a central system (ocpp__role_cp16).
 *
 * Every callback runs synchronously inside the session function that
 * caused it; the owner may call ocpp_session_close() from inside one, never
 * ocpp_session_destroy(). Internal to ocpp/; the transport (conn.c),
 * tests and fuzz targets use it. */
#ifndef OCPPKNX_OCPP_SESSION_H
#define OCPPKNX_OCPP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ocpp/ocpp.h"

#define OCPP_MAX_QUEUED_CALLS 32   /* calls waiting per session */

typedef struct ocpp_session ocpp_session;
typedef struct ocpp_role ocpp_role;
typedef struct ocpp_cp ocpp_cp;

/* The time, as the owner reads it: a monotonic clock for deadlines and the
 * wall clock for OCPP timestamps. */
typedef struct {
  uint64_t mono_ms;
  time_t wall;
} ocpp_clock;

/* Counters that must be unique across every session of one owner (the
 * server): the owner keeps one and passes it to each session. */
typedef struct {
  int32_t next_fallback_tx;     /* transaction ids when there is no store */
  int next_reservation_id;
} ocpp_session_counters;

/* What a finished call reports to whoever sent it with
 * ocpp_session_call(): answered is true with the validated CALLRESULT
 * payload, else error_code says why ("Timeout", "Offline", a CALLERROR's
 * code, "FormationViolation" for an answer that fails the schema). */
typedef void (*ocpp_session_done)(void *user_data, bool answered,
                                  const json_t *payload,
                                  const char *error_code);

/* A CALL of the peer that the role hands to its owner (charge point role):
 * the payload is validated; return a new answer payload (the session takes
 * it), or NULL and set *error_code to answer with a CALLERROR. */
typedef json_t *(*ocpp_session_call_fn)(void *user_data, const char *action,
                                        const json_t *payload,
                                        const char **error_code);

typedef struct {
  /* Sends one text message; 0, or negative when the transport cannot take
   * it (the session then fails the call it was sending). */
  int (*send)(void *user_data, const char *text, size_t len);
  /* One line per event; the charger id is the session's log_id. */
  void (*log)(void *user_data, ocpp_log_level level, const char *log_id,
              const char *line);
  /* Events of the central system role (ocpp.h); may be NULL. */
  void (*event)(void *user_data, const ocpp_event *ev);
  /* Incoming CALLs of the charge point role; NULL answers NotImplemented. */
  ocpp_session_call_fn call;
  /* Charge point role: the central system accepted the BootNotification
   * (true), or the registration ended with the connection (false). May be
   * NULL. */
  void (*registered)(void *user_data, bool registered);
  void *user_data;
  ocpp_store_hooks store;       /* central system role; may be empty */
  /* central system role: ocpp_callbacks.authorize, with the session's
   * log_id as the charger id; may be NULL */
  int (*authorize)(void *user_data, const char *charger_id, const char *id_tag,
                   uint32_t token, ocpp_auth_status *status);
  void *store_data;             /* user data of store and authorize */
  ocpp_session_counters *counters; /* central system role; not owned */
  const char *log_id;           /* charger id in logs; copied */
  int heartbeat_interval;       /* s, in BootNotification.conf */
  int call_timeout;             /* s to wait for the peer's answer */
  int meter_sample_interval;    /* s for MeterValueSampleInterval */
  bool trace;                   /* log every frame at debug level */
} ocpp_session_config;

/* Return codes: the OCPP_E* codes of ocpp.h. */

/* Creates a closed session in role for the charger record cp (the central
 * system role reads and updates it; NULL for the charge point role).
 * Returns OCPP_OK, OCPP_EINVAL or OCPP_ENOMEM. */
int ocpp_session_create(const ocpp_role *role, const ocpp_session_config *cfg,
                        ocpp_cp *cp, ocpp_session **out);

/* Fails what is still queued (Offline) and frees. NULL is a no-op. */
void ocpp_session_destroy(ocpp_session *s);

/* The transport is up: the role's start (the central system waits for a
 * BootNotification and asks for one after 5 s). */
void ocpp_session_open(ocpp_session *s, ocpp_clock now);

/* The transport is gone: every call in flight or queued finishes Offline,
 * no more text is sent. Idempotent. */
void ocpp_session_close(ocpp_session *s, ocpp_clock now);

bool ocpp_session_is_open(const ocpp_session *s);

/* One complete text message from the peer. */
void ocpp_session_recv(ocpp_session *s, const char *text, size_t len,
                       ocpp_clock now);

/* Runs what is due at now (call timeouts, the boot request). */
void ocpp_session_tick(ocpp_session *s, ocpp_clock now);

/* Monotonic ms at which ocpp_session_tick must run next, 0 = nothing due. */
uint64_t ocpp_session_next_deadline(const ocpp_session *s);

/* Queues a CALL of action with payload (taken, also on failure); done
 * follows exactly once when OCPP_OK is returned, never otherwise. Returns
 * OCPP_OK, OCPP_ENOTCONN, OCPP_EQUEUEFULL or OCPP_ENOMEM. */
int ocpp_session_call(ocpp_session *s, const char *action, json_t *payload,
                      ocpp_session_done done, void *user_data, ocpp_clock now);

/* A command of ocpp.h for the charger (central system role); cb follows
 * exactly once when OCPP_OK is returned. Returns the codes of
 * ocpp_server_command except OCPP_EUNKNOWN. */
int ocpp_session_command(ocpp_session *s, const ocpp_command *cmd,
                         ocpp_command_cb cb, void *user_data, ocpp_clock now);

/* What the charge point role says about itself in BootNotification;
 * strings longer than the schema allows are cut (on a UTF-8 boundary),
 * NULL or "" optional ones left out, empty vendor or model sent as
 * "unknown". */
typedef struct {
  const char *vendor, *model, *serial, *firmware;
} ocpp_cp16_boot;

/* Charge point role: the identity to boot with (copied). Sent at once when
 * the session is open and not registered yet, else on the next open; a
 * registered session keeps what it booted with until it reconnects.
 * Returns OCPP_OK or OCPP_EINVAL (NULL argument, another role). */
int ocpp_session_cp16_set_boot(ocpp_session *s, const ocpp_cp16_boot *boot,
                               ocpp_clock now);

/* Charge point role: the heartbeat interval (1..86400 s) from now on,
 * until the next BootNotification answer sets its own (the central
 * system's ChangeConfiguration of HeartbeatInterval). Returns OCPP_OK or
 * OCPP_EINVAL. ocpp_session_cp16_interval: the interval in force (0 for
 * another role). */
int ocpp_session_cp16_set_interval(ocpp_session *s, int seconds,
                                   ocpp_clock now);
int ocpp_session_cp16_interval(const ocpp_session *s);

/* Charge point role: the BootNotification was accepted on this
 * connection. Until then the owner must send nothing (OCPP 1.6 4.2). */
bool ocpp_session_cp16_registered(const ocpp_session *s);

/* Central system role: the decision the authorize hook deferred with
 * token; the charger's CALL is answered now (or, when the hook is still
 * running, as soon as it returns). Returns OCPP_OK, OCPP_EINVAL or
 * OCPP_ENOENT (no such decision waits). */
int ocpp_session_authorized(ocpp_session *s, uint32_t token,
                            ocpp_auth_status status, ocpp_clock now);

/* Charge point role, only inside the call hook: the CALL it runs for is
 * answered later, with ocpp_session_answer_call(token); the hook returns
 * NULL and leaves *error_code NULL. Returns the token, or 0 when the call
 * cannot wait (too many wait, no memory, not inside the hook): answer it
 * now. Waiting calls are dropped when the session closes. */
uint32_t ocpp_session_defer_call(ocpp_session *s);

/* The answer (taken) to the CALL deferred with token, or with answer NULL
 * a CALLERROR error_code (NULL: InternalError). Sent now, or when the hook
 * that deferred it returns. Returns OCPP_OK, OCPP_EINVAL or OCPP_ENOENT
 * (no such call waits: the connection closed since). */
int ocpp_session_answer_call(ocpp_session *s, uint32_t token, json_t *answer,
                             const char *error_code, ocpp_clock now);

/* Calls queued or in flight. */
int ocpp_session_pending(const ocpp_session *s);

/* The roles. */
extern const ocpp_role ocpp__role_cs16;
extern const ocpp_role ocpp__role_cp16;
extern const ocpp_role ocpp__role_cs201;

#endif
