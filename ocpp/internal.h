/* Internal structures of the ocpp module, shared by server.c (listener,
 * registry, status), conn.c (transport, handshake, WebSocket),
 * chargepoint.c (requests from chargers) and commands.c (calls to them). */
#ifndef OCPPKNX_OCPP_INTERNAL_H
#define OCPPKNX_OCPP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <wslay/wslay.h>

#include "ocpp/ocpp.h"
#include "ocpp/rpc.h"
#include "ocpp/tls.h"

#define OCPP_MAX_CONNECTORS 16     /* connectors tracked per charger */
#define OCPP_MAX_QUEUED_CALLS 32   /* calls waiting per charger */
#define OCPP_MAX_REFUSED 32        /* refused identities remembered */
#define OCPP_HANDSHAKE_MAX 8192    /* bytes of HTTP request headers */
#define OCPP_HANDSHAKE_TIMEOUT_MS 10000
#define OCPP_BOOT_WAIT_MS 5000     /* ask for a BootNotification after */
#define OCPP_MAX_HANDSHAKES_PER_ADDR 8 /* connections of one address still
                                          in the handshake; established
                                          ones are bounded by the known
                                          identities (one each) */
#define OCPP_MAX_WRITE_BACKLOG (1u << 20) /* bytes not yet taken by the
                                             kernel before we give up */
#define OCPP_ID_MAX 64

typedef struct ocpp_conn ocpp_conn;
typedef struct ocpp_cp ocpp_cp;
typedef struct ocpp_call ocpp_call;

/* What a finished call reports to whoever queued it: result plus the
 * validated response payload (NULL unless ACCEPTED-or-answered). */
typedef void (*ocpp_call_done)(ocpp_cp *cp, ocpp_call *call,
                               bool answered, const json_t *payload,
                               const char *error_code);

struct ocpp_call {
  ocpp_call *next;
  ocpp_cp *cp;
  char id[OCPP_RPC_ID_MAX + 1];
  char action[OCPP_RPC_ACTION_MAX + 1];
  json_t *payload;            /* owned */
  ocpp_call_done done;
  /* what the public command asked for */
  ocpp_command_cb cb;
  void *cb_data;
  int connector;
  int attempt;                /* fallback step (profiles, availability) */
  double amps;
  bool operative;
};

typedef struct {
  ocpp_cp_status status;
  ocpp_cp_error error;
  bool status_known;
  int32_t tx_id;              /* 0 when no transaction runs */
  char tx_tag[21];
  double tx_meter_start_wh;
  bool tx_has_meter_start;
  time_t tx_start;
  int32_t last_stopped_tx;    /* for meter values that arrive late */
  double current_a, power_w, energy_wh, session_energy_wh;
  bool has_current, has_power, has_energy;
  int reservation_id;         /* 0 = none made by us */
  bool auto_start_pending;
} ocpp_connector_state;

/* A charger the server knows: configured, or accepted as unknown. It
 * outlives its connections. */
struct ocpp_cp {
  ocpp_server *srv;
  ocpp_charger_options opt;   /* strings owned (copies) */
  char **tag_store;           /* owned copies behind opt.tags */
  bool configured;            /* from options, not accept_unknown */
  ocpp_conn *conn;            /* open connection or NULL */
  bool booted;                /* BootNotification seen on conn */
  char vendor[21], model[21], serial[26], firmware[51];
  time_t last_seen;
  time_t connected_since;
  ocpp_connector_state conn_state[OCPP_MAX_CONNECTORS + 1];
  /* what GetConfiguration told us */
  int number_of_connectors;
  int max_stack_level;        /* -1 unknown */
  bool watts_only;
  bool smart_charging;        /* SmartCharging feature profile listed,
                                 or unknown (assumed) */
  int profile_strategy;       /* first SetChargingProfile variant that
                                 worked, -1 unknown */
  double limit_a;             /* last limit accepted, -1 none */
};

typedef enum {
  OCPP_CONN_HANDSHAKE,
  OCPP_CONN_OPEN,
  OCPP_CONN_CLOSING
} ocpp_conn_state;

struct ocpp_conn {
  ocpp_server *srv;
  ocpp_conn *prev, *next;     /* server's list */
  uv_tcp_t tcp;
  uv_timer_t timer;           /* earliest of the deadlines below */
  int open_handles;
  ocpp_conn_state state;
  bool tls;
  ocpp_tls *tls_session;       /* wss:// only; owned */
  char peer[64];              /* "192.0.2.7:51234" */
  char peer_ip[48];
  /* handshake */
  char *hbuf;
  size_t hlen;
  /* WebSocket */
  wslay_event_context_ptr ws;
  const uint8_t *in;          /* bytes being fed to wslay */
  size_t in_len;
  size_t write_backlog;
  /* OCPP */
  ocpp_cp *cp;
  bool replaced;              /* a newer connection took over */
  ocpp_call *inflight;
  ocpp_call *queue_head, *queue_tail;
  int queued;
  uint64_t handshake_deadline, call_deadline, boot_deadline;
  bool configured_after_boot;
  uint32_t next_call_id;
};

typedef struct {
  char identity[OCPP_ID_MAX + 1];
  char address[64];
  time_t when;
  int http_status;
  char reason[64];
} ocpp_refused;

struct ocpp_server {
  uv_loop_t *loop;
  ocpp_server_options opt;    /* strings owned */
  ocpp_callbacks cb;
  void *user_data;
  uv_tcp_t listener;
  bool listening;
  uv_tcp_t tls_listener;      /* wss:// */
  bool tls_listening;
  ocpp_tls_ctx *tls_ctx;      /* NULL without tls_listen */
  ocpp_cp **cps;
  size_t n_cps;
  ocpp_conn *conns;
  ocpp_refused refused[OCPP_MAX_REFUSED];
  size_t n_refused, refused_next;
  int next_reservation_id;
  bool destroying;
  int pending_closes;
  void (*on_closed)(void *);
  void *on_closed_data;
  time_t started;
};

/* server.c */
void ocpp__log(ocpp_server *srv, ocpp_log_level lvl, const char *charger_id,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ocpp__emit(ocpp_server *srv, const ocpp_event *ev);
ocpp_cp *ocpp__find_cp(const ocpp_server *srv, const char *id);
ocpp_cp *ocpp__add_unknown_cp(ocpp_server *srv, const char *id);
void ocpp__remember_refused(ocpp_server *srv, const char *identity,
                            const char *address, int status,
                            const char *reason);
int ocpp__count_handshakes_from(const ocpp_server *srv, const char *ip);
void ocpp__conn_unlinked(ocpp_server *srv);
uint64_t ocpp__now_ms(const ocpp_server *srv);

/* conn.c */
void ocpp__conn_accept(ocpp_server *srv, uv_stream_t *listener, bool tls);
int ocpp__conn_send_text(ocpp_conn *c, const char *text);
void ocpp__conn_close(ocpp_conn *c, uint16_t ws_code, const char *reason);
void ocpp__conn_rearm(ocpp_conn *c);

/* chargepoint.c */
void ocpp__cp_on_open(ocpp_cp *cp, ocpp_conn *c);
void ocpp__cp_on_close(ocpp_cp *cp, ocpp_conn *c);
void ocpp__cp_on_text(ocpp_cp *cp, ocpp_conn *c, const char *text,
                      size_t len);
void ocpp__cp_on_deadline(ocpp_cp *cp, ocpp_conn *c, uint64_t now);
void ocpp__cp_set_status(ocpp_cp *cp, int connector, ocpp_cp_status st,
                         ocpp_cp_error err);
ocpp_connector_state *ocpp__cp_connector(ocpp_cp *cp, int connector);

/* commands.c */
int ocpp__call(ocpp_cp *cp, const char *action, json_t *payload,
               ocpp_call_done done, ocpp_command_cb cb, void *cb_data,
               ocpp_call **out);
void ocpp__calls_on_response(ocpp_cp *cp, ocpp_conn *c,
                             const ocpp_rpc_frame *f);
void ocpp__calls_on_timeout(ocpp_cp *cp, ocpp_conn *c);
void ocpp__calls_fail_all(ocpp_conn *c);
void ocpp__cp_configure_after_boot(ocpp_cp *cp);
void ocpp__cp_request_boot(ocpp_cp *cp);
void ocpp__cp_auto_start(ocpp_cp *cp, int connector);

#endif
