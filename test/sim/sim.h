/* ocpp-charger-sim: internal interfaces shared by the simulator's files.
 *
 * The simulator is a stand-alone program; nothing here is installed. Layers,
 * from the wire up:
 *   sim_transport  bytes in / bytes out over a stream (TCP today, TLS later)
 *   sim_ws         WebSocket client (HTTP upgrade + wslay) on a transport
 *   sim_script     command-line parser for scenario scripts
 *   sim_cp         the charge point: OCPP-J frames, call queue, auto answers
 *   sim_cp201      the OCPP 2.0.1 messages and answers (--ocpp 2.0.1|both)
 *   sim_run        runs script commands against the charge point
 */
#ifndef OCPP_CHARGER_SIM_H
#define OCPP_CHARGER_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <uv.h>

#define SIM_MAX_CONNECTORS 32
#define SIM_MAX_LINE 4096
#define SIM_MAX_MSG (1024 * 1024)
#define SIM_MAX_QUEUE 256
#define SIM_MAX_ACTIONS 64
#define SIM_MAX_SCRIPT_LINES 100000
#define SIM_CALL_TIMEOUT_MS 30000

enum sim_exit {
	SIM_EXIT_OK = 0,
	SIM_EXIT_EXPECT = 1,
	SIM_EXIT_CONNECT = 2,
	SIM_EXIT_USAGE = 3,
};

/* ---- transport: a byte stream, so wss:// can slot in beside TCP ---- */

struct sim_transport;

struct sim_transport_cbs {
	/* status 0 = connected, else a negative libuv error code */
	void (*on_connect)(void *user_data, int status);
	void (*on_data)(void *user_data, const uint8_t *buf, size_t len);
	/* the stream is gone: status 0 = closed locally or EOF, else an error */
	void (*on_closed)(void *user_data, int status);
};

struct sim_transport_ops {
	/* 0, or a negative libuv error; on failure no callback follows */
	int (*connect)(struct sim_transport *t, const char *host, int port);
	/* 0, or a negative libuv error (the stream is then being closed) */
	int (*write)(struct sim_transport *t, const uint8_t *buf, size_t len);
	/* closes the stream if open; on_closed follows once */
	void (*close)(struct sim_transport *t);
	/* NULL-safe; no callback is called afterwards */
	void (*destroy)(struct sim_transport *t);
};

struct sim_transport {
	const struct sim_transport_ops *ops;
};

/* NULL on allocation failure */
struct sim_transport *sim_tcp_create(uv_loop_t *loop,
				     const struct sim_transport_cbs *cbs,
				     void *user_data);

/* wss://: the server certificate must chain to ca and name host */
struct sim_tls_opts {
	const char *ca;
	const char *cert; /* client certificate (security profile 3) or NULL */
	const char *key;
	const char *host;
};

/* NULL with the cause in err (unreadable file, out of memory) */
struct sim_transport *sim_tls_create(uv_loop_t *loop,
				     const struct sim_transport_cbs *cbs,
				     void *user_data,
				     const struct sim_tls_opts *opts,
				     char *err, size_t err_cap);

/* ---- WebSocket client ---- */

struct sim_ws;

struct sim_ws_opts {
	const char *host;
	int port;
	const char *path;
	const char *subprotocols; /* NULL = send no Sec-WebSocket-Protocol */
	const char *basic_auth;   /* "user:pass" or NULL */
	const struct sim_tls_opts *tls; /* NULL = ws:// */
};

struct sim_ws_cbs {
	/* handshake complete; protocol is "" when the server chose none */
	void (*on_open)(void *user_data, const char *protocol);
	void (*on_text)(void *user_data, const char *text, size_t len);
	/* connection gone. was_open: the handshake had completed;
	 * by_server: the server sent a close frame or ended the stream */
	void (*on_closed)(void *user_data, bool was_open, bool by_server,
			  const char *detail);
};

/* NULL on allocation failure; opts strings are copied */
struct sim_ws *sim_ws_create(uv_loop_t *loop, const struct sim_ws_opts *opts,
			     const struct sim_ws_cbs *cbs, void *user_data);
/* 0, -EALREADY when not idle, or a negative libuv error */
int sim_ws_connect(struct sim_ws *ws);
/* 0, -ENOTCONN when not open, -ENOMEM */
int sim_ws_send_text(struct sim_ws *ws, const char *text, size_t len);
/* close handshake with code, TCP closed after the answer or 2 s */
void sim_ws_close(struct sim_ws *ws, uint16_t code);
/* TCP close without a close frame */
void sim_ws_drop(struct sim_ws *ws);
bool sim_ws_is_open(const struct sim_ws *ws);
/* The password of the Basic Auth credentials for the next connections
 * (the user stays); -EINVAL without credentials, -ENOMEM */
int sim_ws_set_password(struct sim_ws *ws, const char *password);
bool sim_ws_is_idle(const struct sim_ws *ws);
/* NULL-safe; memory is released from the loop, run it afterwards */
void sim_ws_destroy(struct sim_ws *ws);

/* Handshake pieces, no I/O. key24 is the 24-character base64 key.
 * sim_ws_accept_for: 0 or -EINVAL. out needs 29 bytes. */
int sim_ws_accept_for(const char *key24, char *out, size_t cap);
/* bytes of the response head consumed (> 0), 0 when more bytes are needed,
 * -EPROTO on a bad answer (err says why), -EMSGSIZE when the head is too
 * large. proto receives the chosen subprotocol or "". */
int sim_ws_check_response(const char *buf, size_t len, const char *key24,
			  const char *offered, char *proto, size_t proto_cap,
			  char *err, size_t err_cap);

/* ---- script ---- */

enum sim_op {
	SIM_OP_CONNECT,
	SIM_OP_DISCONNECT,
	SIM_OP_DROP,
	SIM_OP_RECONNECT,
	SIM_OP_BOOT,
	SIM_OP_HEARTBEAT,
	SIM_OP_AUTHORIZE,
	SIM_OP_STATUS,
	SIM_OP_PLUG,
	SIM_OP_UNPLUG,
	SIM_OP_START,
	SIM_OP_METER,
	SIM_OP_STOP,
	SIM_OP_FAULT,
	SIM_OP_SEND,
	SIM_OP_WAIT,
	SIM_OP_EXPECT,
	SIM_OP_EXPECT_CLOSE,
	SIM_OP_ANSWER,
	SIM_OP_CHARGE,
	SIM_OP_LOOP,
	SIM_OP_QUIT,
	SIM_OP_CHARGE_TICKS, /* internal step of `charge` */
	SIM_OP_OFFLINE,
};

enum sim_answer {
	SIM_ANSWER_ACCEPT,
	SIM_ANSWER_REJECT,
	SIM_ANSWER_NOTSUPPORTED,
	SIM_ANSWER_NONE,
	SIM_ANSWER_ERROR,
	SIM_ANSWER_REBOOT, /* taken, but only after a reboot */
};

enum sim_meter_field {
	SIM_M_ENERGY = 1 << 0,
	SIM_M_CURRENT = 1 << 1,
	SIM_M_L1 = 1 << 2,
	SIM_M_L2 = 1 << 3,
	SIM_M_L3 = 1 << 4,
	SIM_M_POWER = 1 << 5,
	SIM_M_VOLTAGE = 1 << 6,
};

struct sim_meter_args {
	unsigned has; /* enum sim_meter_field bits */
	double energy_wh;
	double current;
	double phase[3];
	double power;
	double voltage;
	bool kwh;
};

struct sim_cmd {
	enum sim_op op;
	int line;
	int connector;
	double num;  /* seconds, Wh, timeout */
	double num2; /* amps for charge */
	bool has_num;
	bool use_register; /* meter value comes from the connector register */
	bool from_stdin;
	bool quiet_skip;   /* `charge` steps: no error when nothing to stop */
	char *s1;          /* tag, status, action, raw text, errorcode */
	char *s2;          /* errorcode, reason */
	char *s3;          /* info */
	enum sim_answer answer;
	struct sim_meter_args meter;
};

struct sim_script {
	struct sim_cmd *cmds;
	size_t n;
	size_t cap;
};

/* 1 = *out filled, 0 = blank or comment, -EINVAL = bad line (err says why),
 * -ENOMEM */
int sim_script_parse_line(const char *line, struct sim_cmd *out, char *err,
			  size_t err_cap);
/* 0, -ENOENT/-errno when unreadable, -EINVAL with "FILE:LINE: message" in
 * err, -E2BIG when too long, -ENOMEM */
int sim_script_load(struct sim_script *s, const char *path, char *err,
		    size_t err_cap);
void sim_script_finish(struct sim_script *s);
void sim_cmd_finish(struct sim_cmd *c);
/* 0 or -ENOMEM; takes ownership of c's strings */
int sim_script_append(struct sim_script *s, struct sim_cmd *c);

bool sim_is_charge_point_status(const char *s);
bool sim_is_error_code(const char *s);
bool sim_is_stop_reason(const char *s);

/* ---- charge point ---- */

struct sim_connector {
	char status[24];
	char error_code[32];
	double energy_wh;
	bool tx_running;
	bool tx_pending; /* StartTransaction sent, no answer yet */
	int tx_id;
	char id_tag[24];
	int reservation_id;
	bool reserved;
	double limit; /* charging profile limit, < 0 = none */
	char limit_unit[4];
	/* OCPP 2.0.1: the charger names its transactions */
	char tx_id201[40];
	int seq_no;
	long remote_start_id;
	bool has_remote_start;
};

struct sim_call {
	struct sim_call *next;
	char action[40];
	json_t *payload;
	int connector;
};

struct sim_action_state {
	char action[40];
	enum sim_answer answer;
	bool has_answer;
	unsigned received;
	unsigned consumed;
};

struct sim_config_key {
	const char *key;
	char value[501];  /* ConfigurationKey value: CiString500 */
	bool readonly;
};

enum sim_ocpp {
	SIM_OCPP_16,
	SIM_OCPP_201,
	SIM_OCPP_BOTH, /* offers both, speaks what the server chose */
};

#define SIM_DM_MAX 48

struct sim_options {
	const char *url;
	enum sim_ocpp ocpp;
	char host[256];
	int port;
	char path[1024];
	int connectors;
	const char *script;
	bool use_stdin;
	const char *log_path;
	const char *subprotocols;
	const char *basic_auth;
	bool tls;                 /* wss:// */
	struct sim_tls_opts tls_opts;
	const char *vendor, *model, *serial, *firmware;
	bool no_boot;
	double reconnect_delay;
	bool quiet;
};

enum sim_block {
	SIM_BLOCK_NONE,
	SIM_BLOCK_CALLS,
	SIM_BLOCK_TIMER,
	SIM_BLOCK_EXPECT,
	SIM_BLOCK_CLOSE,
	SIM_BLOCK_CONNECT,
	SIM_BLOCK_DISCONNECT,
	SIM_BLOCK_CHARGE,
	SIM_BLOCK_INPUT, /* waiting for stdin lines */
};

struct sim {
	uv_loop_t *loop;
	struct sim_options opt;
	struct sim_ws *ws;
	FILE *log;
	bool log_is_stdout;
	uint64_t t0_ns;

	bool connected;
	bool v201; /* this connection speaks OCPP 2.0.1 */
	bool reset_on_idle;
	char dm_value[SIM_DM_MAX][101];
	bool ever_connected;
	bool want_connected;    /* false after `disconnect` */
	unsigned server_closes; /* for expect-close */
	unsigned server_closes_consumed;
	bool reset_pending;
	bool boot_after_connect;
	uv_timer_t reconnect_timer;

	struct sim_connector conn[SIM_MAX_CONNECTORS + 1];
	struct sim_call *queue_head, *queue_tail;
	size_t queue_len;
	struct sim_call *inflight;
	char inflight_id[24];
	unsigned long next_call_id;
	uv_timer_t call_timer;
	uv_timer_t heartbeat_timer;
	uv_timer_t boot_retry_timer;
	bool booted;
	bool hold_sends; /* set while an incoming CALL is being answered */

	struct sim_action_state actions[SIM_MAX_ACTIONS];
	size_t n_actions;
	struct sim_config_key config[8];
	size_t n_config;

	/* runner */
	struct sim_script script;
	size_t pc;
	struct sim_script input; /* stdin commands, consumed from the front */
	size_t input_pc;
	int input_lines;
	bool input_eof;
	bool script_done;
	bool runner_started;
	struct sim_cmd steps[6]; /* expansion of `charge` */
	size_t n_steps, step_pc;
	enum sim_block block;
	const struct sim_cmd *blocked_cmd;
	uv_timer_t run_timer;   /* wait, expect/close timeouts */
	uv_timer_t charge_timer;
	int charge_conn;
	double charge_amps;
	int charge_ticks_left;
	bool kicking, kick_again;
	uv_pipe_t stdin_pipe;
	uv_tty_t stdin_tty;
	uv_stream_t *stdin_stream;
	char stdin_buf[SIM_MAX_LINE];
	size_t stdin_len;

	bool exiting;
	int exit_code;
	uv_timer_t exit_timer;
	uv_signal_t sigint, sigterm;
};

/* work after an answer went out: the charger acts once it replied */
struct sim_after {
	void (*fn)(struct sim *s, struct sim_after *a);
	int c;
	long n;
	char text[64];
};

struct sim_reply {
	json_t *payload;        /* CALLRESULT payload */
	const char *error_code; /* or CALLERROR */
	const char *error_desc;
	struct sim_after after;
};

struct sim_call_handler {
	const char *action;
	int (*fn)(struct sim *s, const json_t *req, struct sim_reply *r);
	const char *negative; /* status for `answer ACTION reject` */
};

/* sim_cp.c */
int sim_cp_queue_call_at(struct sim *s, const char *action, json_t *payload,
			 int connector, bool front);
void sim_cp_restart_heartbeat(struct sim *s, long interval);
void sim_cp_reset_check(struct sim *s);
int sim_cp_status_reply(struct sim_reply *r, const char *status);
int sim_cp_formation(struct sim_reply *r, const char *desc);
void sim_cp_on_boot_conf(struct sim *s, struct sim_call *c, json_t *conf);

/* sim_cp201.c: the OCPP 2.0.1 messages; a connector of the 1.6 mode is an
 * EVSE with one connector here */
void sim_cp201_init(struct sim *s);
void sim_cp201_set_status(struct sim *s, int c, const char *status);
void sim_cp201_boot(struct sim *s, bool front);
void sim_cp201_authorize(struct sim *s, const char *tag);
void sim_cp201_start(struct sim *s, int c, const char *tag, double meter_wh);
bool sim_cp201_stop(struct sim *s, int c, double meter_wh, const char *reason,
		    const char *then_status);
void sim_cp201_meter(struct sim *s, int c, const struct sim_meter_args *m,
		     const char *context);
void sim_cp201_on_result(struct sim *s, struct sim_call *c, json_t *conf);
const struct sim_call_handler *sim_cp201_handler(const char *action);

void sim_cp_init(struct sim *s);
void sim_cp_finish(struct sim *s);
/* 0, -ENOBUFS when the queue is full, -ENOMEM; takes payload */
int sim_cp_queue_call(struct sim *s, const char *action, json_t *payload,
		      int connector);
bool sim_cp_calls_idle(const struct sim *s);
void sim_cp_on_open(struct sim *s);
void sim_cp_on_closed(struct sim *s);
void sim_cp_on_text(struct sim *s, const char *text, size_t len);
int sim_cp_send_text(struct sim *s, const char *text);
void sim_cp_set_status(struct sim *s, int c, const char *status,
		       const char *error_code, const char *info);
void sim_cp_boot(struct sim *s);
void sim_cp_heartbeat(struct sim *s);
void sim_cp_authorize(struct sim *s, const char *tag);
void sim_cp_plug(struct sim *s, int c);
void sim_cp_unplug(struct sim *s, int c);
void sim_cp_start(struct sim *s, int c, const char *tag, double meter_wh);
/* false when no transaction runs on c */
bool sim_cp_stop(struct sim *s, int c, double meter_wh, const char *reason,
		 const char *then_status);
void sim_cp_meter(struct sim *s, int c, const struct sim_meter_args *m,
		  const char *context);
void sim_cp_set_answer(struct sim *s, const char *action, enum sim_answer a);
struct sim_action_state *sim_cp_action(struct sim *s, const char *action);
void sim_cp_iso_now(char *out, size_t cap);

/* sim_main.c */
void sim_log_frame(struct sim *s, const char *dir, const char *text);
void sim_log_event(struct sim *s, const char *event, const char *detail,
		   json_t *extra);
void sim_say(struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sim_connect(struct sim *s);
void sim_exit(struct sim *s, int code);

/* sim_run.c */
void sim_run_kick(struct sim *s);
void sim_run_on_connected(struct sim *s);
void sim_run_on_disconnected(struct sim *s);
int sim_run_start_stdin(struct sim *s);
void sim_run_close_handles(struct sim *s);
int sim_run_init(struct sim *s);

#endif
