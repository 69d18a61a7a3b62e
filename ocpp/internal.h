/* The central system's transport side, shared by server.c (listener,
 * lifetime, the command entry), registry.c (charger records, refused
 * identities), status.c (status output) and conn.c (TCP, TLS, HTTP
 * upgrade, WebSocket, timers). OCPP itself is the session engine's
 * (session.h); nothing here is known to it. */
#ifndef OCPPKNX_OCPP_INTERNAL_H
#define OCPPKNX_OCPP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>


#include "ocpp/charger.h"
#include "ocpp/ocpp.h"
#include "ocpp/session.h"
#include "ocpp/tls.h"

#define OCPP_MAX_REFUSED 32        /* refused identities remembered */
#define OCPP_HANDSHAKE_MAX 8192    /* bytes of HTTP request headers */
#define OCPP_HANDSHAKE_TIMEOUT_MS 10000
#define OCPP_MAX_HANDSHAKES_PER_ADDR 8 /* connections of one address read
                                          in the handshake at once; the
                                          rest wait their turn, and
                                          established ones are bounded by
                                          the known identities (one each) */
#define OCPP_MAX_WAITING_PER_ADDR 1024 /* handshakes of one address waiting
                                          for one of those slots */
#define OCPP_MAX_WAITING 4096           /* ...and of all addresses */
#define OCPP_MAX_WRITE_BACKLOG (1u << 20) /* bytes not yet taken by the
                                             kernel before we give up */
#define OCPP_READ_BUFFER 65536
#define OCPP_DEFAULT_MAX_STREAMS 16
#define OCPP_STREAM_KEEPALIVE_MS 25000 /* a comment line on an idle stream,
                                          before proxies and browsers give
                                          up on it */

typedef struct ocpp_conn ocpp_conn;

typedef enum {
  OCPP_CONN_WAITING,          /* accepted, not read: waits for a handshake
                                 slot of its address */
  OCPP_CONN_HANDSHAKE,
  OCPP_CONN_OPEN,
  OCPP_CONN_STREAM,           /* a GET answered with an open event stream */
  OCPP_CONN_CLOSING
} ocpp_conn_state;

struct ocpp_conn {
  ocpp_server *srv;
  ocpp_conn *prev, *next;     /* server's list */
  ocpp_conn *wait_prev, *wait_next; /* server's admission queue, while
                                       OCPP_CONN_WAITING */
  uv_tcp_t tcp;
  uv_timer_t timer;           /* earliest of the deadlines */
  int open_handles;
  ocpp_conn_state state;
  bool tls;
  ocpp_tls *tls_session;       /* wss:// only; owned */
  char peer[64];              /* "192.0.2.7:51234" */
  char peer_ip[48];
  uint64_t handshake_deadline; /* also the grace period of a close, and
                                  the next keep-alive of a stream */
  /* handshake */
  char *hbuf;
  size_t hlen;
  /* WebSocket */
  struct ocpp_ws *ws;         /* owned; NULL before the upgrade */
  size_t write_backlog;
  /* OCPP */
  ocpp_cp *cp;                /* the charger, once the upgrade is done */
  ocpp_session *session;      /* owned; NULL before the upgrade */
  bool replaced;              /* a newer connection took over */
  unsigned stream_channel;    /* OCPP_CONN_STREAM: which broadcasts */
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
  ocpp_conn *waiting_head, *waiting_tail; /* admission queue, oldest first */
  size_t n_waiting;
  bool admitting;             /* admit_waiting() is running */
  size_t n_streams;           /* connections in OCPP_CONN_STREAM */
  size_t n_channel[OCPP_STREAM_CHANNELS]; /* ... of each channel */
  ocpp_refused refused[OCPP_MAX_REFUSED];
  size_t n_refused, refused_next;
  ocpp_session_counters counters; /* shared by the sessions */
  char read_buf[OCPP_READ_BUFFER]; /* every read is consumed before the
                                      next one: one buffer serves all */
  void (*conn_gone)(ocpp_server *srv); /* after a connection is freed */
  bool destroying;
  int pending_closes;
  void (*on_closed)(void *);
  void *on_closed_data;
};

/* registry.c: charger records, refused identities, the application's
 * hooks */
void ocpp__log(ocpp_server *srv, ocpp_log_level lvl, const char *charger_id,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ocpp__emit(ocpp_server *srv, const ocpp_event *ev);
ocpp_cp *ocpp__find_cp(const ocpp_server *srv, const char *id);
ocpp_cp *ocpp__cp_create(const ocpp_charger_options *o, bool configured);
void ocpp__cp_destroy(ocpp_cp *cp);
/* moves fresh's options into cp (a charger that stays across a reload) */
void ocpp__cp_take_options(ocpp_cp *cp, ocpp_cp *fresh);
/* Replaces the record's passwords with copies (previous may be NULL).
 * Returns OCPP_OK or OCPP_ENOMEM (nothing changed). */
int ocpp__cp_set_password(ocpp_cp *cp, const char *password,
                          const char *previous);
ocpp_cp *ocpp__add_unknown_cp(ocpp_server *srv, const char *id);
void ocpp__remember_refused(ocpp_server *srv, const char *identity,
                            const char *address, int status,
                            const char *reason);

/* conn.c */
void ocpp__conn_accept(ocpp_server *srv, uv_stream_t *listener, bool tls);
void ocpp__conn_close(ocpp_conn *c, uint16_t ws_code, const char *reason);
bool ocpp__conn_is_open(const ocpp_conn *c);
int ocpp__conn_authorized(ocpp_conn *c, uint32_t token, ocpp_auth_status st);
int ocpp__conn_command(ocpp_conn *c, const ocpp_command *cmd,
                       ocpp_command_cb cb, void *user_data);
/* Writes bytes to a stream connection (OCPP_CONN_STREAM); 0 or an
 * OCPP_E* code (the connection is then closing). */
int ocpp__conn_stream_write(ocpp_conn *c, const char *data, size_t len);

/* status.c */
json_t *ocpp__status(const ocpp_server *srv);

#endif
