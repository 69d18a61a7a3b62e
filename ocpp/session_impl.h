/* The session's inside, shared by the core (session.c) and the roles
 * (cs16_handlers.c, cs16_commands.c, cp16.c). Internal to the engine. */
#ifndef OCPPKNX_OCPP_SESSION_IMPL_H
#define OCPPKNX_OCPP_SESSION_IMPL_H

#include <stdarg.h>

#include "ocpp/charger.h"
#include "ocpp/rpc.h"
#include "ocpp/session.h"

#define OCPP_BOOT_WAIT_MS 5000     /* ask for a BootNotification after */

typedef struct ocpp_call ocpp_call;
typedef struct ocpp_command_row ocpp_command_row;
typedef struct ocpp_meter_fast ocpp_meter_fast;

/* What a handler produces: an answer payload, or a CALLERROR. */
typedef struct {
  json_t *answer;
  const char *error_code;
  char error_text[160];
  unsigned notes;            /* OCPP_LENIENT_* notes from the repair */
  int auto_start_connector;  /* start_mode auto: start after answering */
  bool configure;            /* BootNotification: configure after answering */
  bool report_done;          /* NotifyReport: the last part of the report
                                asked after boot */
  uint32_t defer_token;      /* no answer now: ocpp_session_authorized() */
} ocpp_handler_out;

typedef void (*ocpp_handler_fn)(ocpp_session *s, json_t *req,
                                ocpp_handler_out *out);

/* One row of a role's table of the peer's actions, sorted by action. */
typedef struct {
  const char *action;
  ocpp_handler_fn fn;
} ocpp_handler_row;

struct ocpp_role {
  const char *name;
  ocpp_version version;              /* the schemas its frames follow */
  bool needs_record;                 /* central system: a charger record */
  const ocpp_handler_row *handlers;  /* NULL: every CALL goes to cfg.call */
  size_t n_handlers;
  void (*on_open)(ocpp_session *s);
  void (*on_close)(ocpp_session *s);
  /* after the answer to a CALL has been sent */
  void (*after_answer)(ocpp_session *s, const ocpp_handler_out *out);
  void (*on_tick)(ocpp_session *s);
  /* A MeterValues CALL that the fast path read (meter_fast.h): does what
   * the table's MeterValues handler does; answered with {} unless out
   * gets an error_code. NULL: MeterValues only through the table. */
  void (*meter_values)(ocpp_session *s, const ocpp_meter_fast *mv,
                       ocpp_handler_out *out);
  /* A CALL whose handler deferred its tag decision, now decided: fills out
   * as its handler would have. */
  void (*resume)(ocpp_session *s, const char *action, json_t *req,
                 ocpp_auth_status status, ocpp_handler_out *out);
  /* The commands of ocpp.h, indexed by kind (a row without action: not
   * possible with this version); NULL: the 1.6 table. */
  const ocpp_command_row *commands;
};

#define OCPP_MAX_DEFERRED 16       /* tag decisions waiting per session */

/* A CALL of the peer whose answer waits for the owner's tag decision. */
typedef struct ocpp_deferred ocpp_deferred;
struct ocpp_deferred {
  ocpp_deferred *next;
  uint32_t token;
  char id[OCPP_RPC_ID_MAX + 1];
  char action[OCPP_RPC_ACTION_MAX + 1];
  json_t *req;                /* owned reference */
  bool armed;                 /* its handler has returned */
  bool decided;               /* decided while the hook still ran */
  ocpp_auth_status status;
  json_t *answer;             /* charge point role: answered while the call
                                 hook still ran (owned), or NULL */
  char error_code[32];        /* ... or with this CALLERROR */
};

/* Builds the payload of cmd (NULL with *rc set when the command cannot be
 * sent now) and fills the call's fields its completion needs. */
typedef json_t *(*ocpp_command_payload_fn)(ocpp_session *s, const ocpp_command *cmd,
                              ocpp_call *call, int *rc);

/* After the answer: true when a retry took the command over (its callback
 * follows from the retry). */
typedef bool (*ocpp_command_after_fn)(ocpp_session *s, ocpp_call *call, ocpp_result r,
                         const json_t *payload);

struct ocpp_command_row {
  ocpp_command_kind kind;
  const char *action;
  int min_connector;          /* -1: no connector; 0: 0 = whole charger */
  const char *const *accepted;
  ocpp_command_payload_fn payload;
  ocpp_command_after_fn after;
  bool detail;                /* log the connector (and availability) */
};

/* How a call ends: answered with the validated payload, or not with the
 * reason. Called exactly once per queued call; the call is freed after. */
typedef void (*ocpp_call_finish)(ocpp_session *s, ocpp_call *call,
                                 bool answered, const json_t *payload,
                                 const char *error_code);

/* A call in flight or queued. */
struct ocpp_call {
  ocpp_call *next;
  char id[OCPP_RPC_ID_MAX + 1];
  char action[OCPP_RPC_ACTION_MAX + 1];
  json_t *payload;            /* owned */
  ocpp_call_finish finish;
  const ocpp_command_row *row; /* a command's row in the command table */
  ocpp_session_done done;     /* ocpp_session_call's caller */
  void *done_data;
  ocpp_command_cb cb;         /* the command's caller; may be NULL */
  void *cb_data;
  int connector;
  int attempt;                /* fallback step, or the reservation id */
  double amps;
  bool operative;
};

/* OCPP 2.0.1: the device model report asked after boot
 * (cs201_report.c), and what its NotifyReport parts told so far. */
typedef enum {
  OCPP_REPORT_NONE,           /* not asked on this connection */
  OCPP_REPORT_ASKED,          /* GetBaseReport sent, not answered yet */
  OCPP_REPORT_RECEIVING,      /* accepted: parts until tbc is false */
  OCPP_REPORT_DONE            /* complete, or given up for GetVariables */
} ocpp_report_state;

typedef struct {
  ocpp_report_state state;
  int request_id;
  int parts;                  /* parts consumed */
  int next_seq;               /* seqNo the next part should carry */
  int evse_max;               /* highest EVSE id reported; 0 none */
  unsigned char connectors[OCPP_MAX_CONNECTORS + 1]; /* per EVSE */
  int rate_unit;              /* -1 not reported, else bits: 1 A, 2 W */
  int stack_level;            /* -1 not reported */
  int enabled;                /* -1 not reported, 0, 1 */
  int sample_interval;        /* s; -1 not reported */
  unsigned settled;           /* bit per variable set after boot: it has
                                 the wanted value already, or is ReadOnly */
  int not_understood;         /* entries of EVSE, Connector or a value the
                                 gateway reads that made no sense */
} ocpp_report201;

/* The charge point role's registration (cp16.c): the identity it boots
 * with, whether the central system accepted it, and its interval. */
typedef struct {
  char vendor[21], model[21], serial[26], firmware[51]; /* schema caps */
  bool has_boot;              /* the owner gave the identity */
  bool boot_pending;          /* a BootNotification is queued or in flight */
  bool registered;            /* Accepted on this connection */
  int interval;               /* s: heartbeat, or the retry of a boot */
} ocpp_cp16_state;

struct ocpp_session {
  const ocpp_role *role;
  ocpp_session_config cfg;    /* log_id owned */
  ocpp_cp *cp;                /* central system role: the record; not owned */
  bool open;
  bool booted;                /* BootNotification seen on this session */
  bool configured_after_boot;
  unsigned boot_steps;        /* 1.6: the after-boot calls still to send,
                                 one at a time (cs16_commands.c) */
  ocpp_clock now;             /* of the call that is running */
  ocpp_call *inflight;
  ocpp_call *queue_head, *queue_tail;
  int queued;
  uint64_t call_deadline, boot_deadline;
  uint64_t role_deadline;     /* the role's own wait (2.0.1: the report) */
  uint32_t next_call_id;
  ocpp_cp16_state cp16;       /* charge point role */
  ocpp_report201 report;      /* central system role, OCPP 2.0.1 */
  const ocpp_rpc_frame *current; /* the CALL a handler runs for */
  ocpp_deferred *deferred;
  int n_deferred;
  uint32_t next_token;
  int32_t own_fallback_tx;    /* without shared counters */
  int own_reservation_id;
};

/* session.c */
void ocpp__session_log(ocpp_session *s, ocpp_log_level lvl, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
void ocpp__session_emit(ocpp_session *s, ocpp_event *ev);
/* Queues a call (payload taken, also on failure) that ends in finish;
 * *out gets it so the caller can fill in its fields before
 * ocpp__session_pump() sends it. */
int ocpp__session_queue(ocpp_session *s, const char *action, json_t *payload,
                        ocpp_call_finish finish, ocpp_call **out);
void ocpp__session_pump(ocpp_session *s);
int32_t ocpp__session_next_tx_id(ocpp_session *s);
/* Asks the owner's authorize hook about tag for the current CALL: OCPP_OK
 * with *status (decided now), OCPP_ENOENT (the charger's own options
 * decide), OCPP_EPENDING with *token (set out->defer_token to it) or
 * OCPP_EQUEUEFULL. */
int ocpp__session_decide_tag(ocpp_session *s, const char *tag,
                             ocpp_auth_status *status, uint32_t *token);
int ocpp__session_next_reservation_id(ocpp_session *s);

/* cs16_commands.c: the command layer of both central system roles */
/* Queues row's call for cmd, from fallback step first_attempt; the payload
 * builder may refuse (EINVAL, ESTATE) before anything is queued. */
int ocpp__command_queue(ocpp_session *s, const ocpp_command_row *row,
                        const ocpp_command *cmd, int first_attempt,
                        ocpp_command_cb cb, void *cb_data);
/* The payload of a command without fields: {}. */
json_t *ocpp__command_no_fields(ocpp_session *s, const ocpp_command *cmd,
                                ocpp_call *call, int *rc);
/* The reservation a ReserveNow made (call->attempt), kept when accepted;
 * forgotten when CancelReservation was answered. */
bool ocpp__command_after_reserve(ocpp_session *s, ocpp_call *call,
                                 ocpp_result r, const json_t *payload);
bool ocpp__command_after_cancel(ocpp_session *s, ocpp_call *call,
                                ocpp_result r, const json_t *payload);
/* The charging profile id of a SetChargingProfile variant (0: the whole
 * charger) on connector, for both versions. */
int ocpp__command_profile_id(int strategy, int connector);
/* OCPP_CMD_LIFT_LIMIT's follow-up, for both versions: the limit at the
 * maximum when ClearChargingProfile is refused. */
bool ocpp__command_after_lift(ocpp_session *s, ocpp_call *call,
                              ocpp_result r, const json_t *payload);
/* cs16_config.c */
void ocpp__cs16_configure_after_boot(ocpp_session *s);
void ocpp__cs16_request_boot(ocpp_session *s);
void ocpp__cs16_auto_start(ocpp_session *s, int connector);

/* cs201_commands.c */
extern const ocpp_command_row ocpp__cs201_command_table[OCPP_CMD_COUNT];
/* One setVariableData entry (attribute Actual). */
json_t *ocpp__cs201_set_variable(const char *component, const char *variable,
                                 const char *value);

/* cs201_report.c: the device model after boot */
void ocpp__cs201_configure_after_boot(ocpp_session *s);
/* A NotifyReport: true when it was a part of the report asked after boot
 * (consumed; *last when it ended the report), false for any other. */
bool ocpp__cs201_report_part(ocpp_session *s, const json_t *req, bool *last);
/* After the answer to the last part: what the report told is applied and
 * the configuration goes on. */
void ocpp__cs201_report_end(ocpp_session *s);
/* The role's deadline passed: a report that stopped coming is given up. */
void ocpp__cs201_report_tick(ocpp_session *s);

#endif
