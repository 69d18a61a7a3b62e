/* WebSocket client: HTTP upgrade, then wslay fed from a byte buffer that the
 * transport fills. The transport is only reached through its ops, so a TLS
 * transport can replace TCP without touching this file's framing logic. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha.h>

#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wslay/wslay.h>

#define WS_MAX_HEAD 8192
#define WS_CLOSE_WAIT_MS 2000
#define WS_HANDSHAKE_WAIT_MS 10000
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum ws_state { WS_IDLE, WS_CONNECTING, WS_HANDSHAKE, WS_OPEN };

struct sim_ws {
	uv_loop_t *loop;
	struct sim_transport *tr;
	wslay_event_context_ptr ctx;
	struct sim_ws_cbs cbs;
	void *user_data;
	char *host, *path, *subprotocols, *basic_auth;
	int port;
	enum ws_state state;
	char key[32];
	char head[WS_MAX_HEAD];
	size_t head_len;
	uint8_t *rx;
	size_t rx_len, rx_off, rx_cap;
	bool local_close;
	bool server_close;
	bool pumping;
	bool was_open;
	bool close_queued;
	uint16_t close_code; /* close requested; queued once data is out */
	char detail[160];
	uv_timer_t timer;
};

static void ws_pump(struct sim_ws *ws);

/* ---- handshake helpers (no I/O) ---- */

int sim_ws_accept_for(const char *key24, char *out, size_t cap)
{
	char cat[64 + sizeof WS_GUID];
	byte digest[WC_SHA_DIGEST_SIZE];
	word32 outlen = (word32)cap;
	size_t klen = strlen(key24);

	if (klen == 0 || klen > 64 || cap < 29)
		return -EINVAL;
	memcpy(cat, key24, klen);
	memcpy(cat + klen, WS_GUID, sizeof WS_GUID);
	if (wc_ShaHash((const byte *)cat, (word32)(klen + sizeof WS_GUID - 1),
		       digest) != 0)
		return -EINVAL;
	if (Base64_Encode_NoNl(digest, sizeof digest, (byte *)out, &outlen) != 0)
		return -EINVAL;
	out[outlen < cap ? outlen : cap - 1] = '\0';
	return 0;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* does the comma-separated list contain token (case-insensitive)? */
static bool list_has(const char *list, size_t len, const char *token)
{
	size_t tl = strlen(token);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		const char *s = skip_ws(p, e);

		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
			return true;
		p = comma ? comma + 1 : end;
	}
	return false;
}

static void set_err(char *err, size_t cap, const char *msg)
{
	if (err && cap)
		snprintf(err, cap, "%s", msg);
}

int sim_ws_check_response(const char *buf, size_t len, const char *key24,
			  const char *offered, char *proto, size_t proto_cap,
			  char *err, size_t err_cap)
{
	const char *end = NULL, *p, *line_end;
	bool upgrade = false, connection = false, accept_ok = false;
	char want[40];
	size_t i;

	for (i = 0; i + 3 < len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 2; /* keep the last header's CRLF */
			break;
		}
	}
	if (!end)
		return len >= WS_MAX_HEAD ? -EMSGSIZE : 0;
	if (proto_cap)
		proto[0] = '\0';
	if (sim_ws_accept_for(key24, want, sizeof want) < 0) {
		set_err(err, err_cap, "bad key");
		return -EPROTO;
	}
	line_end = memchr(buf, '\r', (size_t)(end - buf));
	if (!line_end || line_end - buf < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0) {
		set_err(err, err_cap, "not an HTTP/1.1 response");
		return -EPROTO;
	}
	if (strncmp(buf + 9, "101", 3) != 0) {
		char msg[96];

		snprintf(msg, sizeof msg, "upgrade refused: %.*s",
			 (int)(line_end - buf - 9 > 60 ? 60 : line_end - buf - 9),
			 buf + 9);
		set_err(err, err_cap, msg);
		return -EPROTO;
	}
	for (p = line_end + 2; p < end; p = line_end + 2) {
		const char *colon, *v;
		size_t nlen, vlen;

		line_end = memchr(p, '\r', (size_t)(end - p));
		if (!line_end)
			break;
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (!colon)
			continue;
		nlen = (size_t)(colon - p);
		v = skip_ws(colon + 1, line_end);
		vlen = (size_t)(line_end - v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (nlen == 7 && strncasecmp(p, "Upgrade", 7) == 0)
			upgrade = list_has(v, vlen, "websocket");
		else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0)
			connection = list_has(v, vlen, "upgrade");
		else if (nlen == 20 &&
			 strncasecmp(p, "Sec-WebSocket-Accept", 20) == 0)
			accept_ok = vlen == strlen(want) &&
				    memcmp(v, want, vlen) == 0;
		else if (nlen == 22 &&
			 strncasecmp(p, "Sec-WebSocket-Protocol", 22) == 0) {
			if (vlen >= proto_cap) {
				set_err(err, err_cap, "subprotocol too long");
				return -EPROTO;
			}
			memcpy(proto, v, vlen);
			proto[vlen] = '\0';
		}
	}
	if (!upgrade || !connection) {
		set_err(err, err_cap, "missing Upgrade/Connection headers");
		return -EPROTO;
	}
	if (!accept_ok) {
		set_err(err, err_cap, "wrong Sec-WebSocket-Accept");
		return -EPROTO;
	}
	if (proto[0] && (!offered || !list_has(offered, strlen(offered), proto))) {
		set_err(err, err_cap, "server chose a subprotocol not offered");
		return -EPROTO;
	}
	return (int)(end - buf) + 2;
}

/* ---- wslay callbacks ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
			  size_t len, int flags, void *user_data)
{
	struct sim_ws *ws = user_data;
	size_t avail = ws->rx_len - ws->rx_off;

	(void)flags;
	if (avail == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > avail)
		len = avail;
	memcpy(buf, ws->rx + ws->rx_off, len);
	ws->rx_off += len;
	if (ws->rx_off == ws->rx_len)
		ws->rx_off = ws->rx_len = 0;
	return (ssize_t)len;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
			  size_t len, int flags, void *user_data)
{
	struct sim_ws *ws = user_data;

	(void)flags;
	if (ws->tr->ops->write(ws->tr, data, len) < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf,
			 size_t len, void *user_data)
{
	(void)user_data;
	if (uv_random(NULL, NULL, buf, len, 0, NULL) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
		      const struct wslay_event_on_msg_recv_arg *arg,
		      void *user_data)
{
	struct sim_ws *ws = user_data;

	(void)ctx;
	if (arg->opcode == WSLAY_TEXT_FRAME) {
		if (ws->cbs.on_text)
			ws->cbs.on_text(ws->user_data, (const char *)arg->msg,
					arg->msg_length);
	} else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		if (!ws->local_close)
			ws->server_close = true;
		snprintf(ws->detail, sizeof ws->detail, "%s close %u",
			 ws->local_close ? "answered" : "server",
			 (unsigned)arg->status_code);
	}
}

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.genmask_callback = ws_genmask_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

/* ---- transport callbacks ---- */

static void ws_fail(struct sim_ws *ws, const char *detail)
{
	if (!ws->detail[0] || !ws->local_close)
		snprintf(ws->detail, sizeof ws->detail, "%s", detail);
	ws->local_close = true;
	ws->tr->ops->close(ws->tr);
}

static int rx_append(struct sim_ws *ws, const uint8_t *buf, size_t len)
{
	if (ws->rx_len + len > ws->rx_cap) {
		size_t cap = ws->rx_cap ? ws->rx_cap : 65536;
		uint8_t *n;

		while (cap < ws->rx_len + len)
			cap *= 2;
		if (cap > 4 * (size_t)SIM_MAX_MSG)
			return -EMSGSIZE;
		n = realloc(ws->rx, cap);
		if (!n)
			return -ENOMEM;
		ws->rx = n;
		ws->rx_cap = cap;
	}
	memcpy(ws->rx + ws->rx_len, buf, len);
	ws->rx_len += len;
	return 0;
}

static void ws_timer_cb(uv_timer_t *t)
{
	struct sim_ws *ws = t->data;

	if (ws->state == WS_HANDSHAKE)
		ws_fail(ws, "no handshake answer");
	else
		ws_fail(ws, "no close answer");
}

static void ws_begin_handshake(struct sim_ws *ws)
{
	uint8_t raw[16];
	word32 klen = sizeof ws->key;
	char req[2048], auth[512];
	int n;

	auth[0] = '\0';
	if (uv_random(NULL, NULL, raw, sizeof raw, 0, NULL) != 0 ||
	    Base64_Encode_NoNl(raw, sizeof raw, (byte *)ws->key, &klen) != 0) {
		ws_fail(ws, "no random key");
		return;
	}
	ws->key[klen] = '\0';
	if (ws->basic_auth) {
		char b64[400];
		word32 blen = sizeof b64 - 1;

		if (Base64_Encode_NoNl((const byte *)ws->basic_auth,
				       (word32)strlen(ws->basic_auth),
				       (byte *)b64, &blen) != 0) {
			ws_fail(ws, "credentials too long");
			return;
		}
		b64[blen] = '\0';
		snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", b64);
	}
	n = snprintf(req, sizeof req,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s%s%s:%d\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "%s%s%s"
		     "%s"
		     "\r\n",
		     ws->path, strchr(ws->host, ':') ? "[" : "", ws->host,
		     strchr(ws->host, ':') ? "]" : "", ws->port, ws->key,
		     ws->subprotocols ? "Sec-WebSocket-Protocol: " : "",
		     ws->subprotocols ? ws->subprotocols : "",
		     ws->subprotocols ? "\r\n" : "", auth);
	if (n < 0 || (size_t)n >= sizeof req) {
		ws_fail(ws, "request too long");
		return;
	}
	ws->state = WS_HANDSHAKE;
	ws->head_len = 0;
	uv_timer_start(&ws->timer, ws_timer_cb, WS_HANDSHAKE_WAIT_MS, 0);
	if (ws->tr->ops->write(ws->tr, (const uint8_t *)req, (size_t)n) < 0)
		ws_fail(ws, "write failed");
}

static void ws_on_connect(void *user_data, int status)
{
	struct sim_ws *ws = user_data;

	if (status < 0) {
		ws->state = WS_IDLE;
		snprintf(ws->detail, sizeof ws->detail, "connect: %s",
			 uv_strerror(status));
		if (ws->cbs.on_closed)
			ws->cbs.on_closed(ws->user_data, false, false,
					  ws->detail);
		return;
	}
	ws_begin_handshake(ws);
}

static void ws_finish_handshake(struct sim_ws *ws)
{
	char proto[128], err[128];
	int used = sim_ws_check_response(ws->head, ws->head_len, ws->key,
					 ws->subprotocols, proto, sizeof proto,
					 err, sizeof err);

	if (used == 0)
		return;
	if (used < 0) {
		ws_fail(ws, used == -EMSGSIZE ? "response head too large" : err);
		return;
	}
	uv_timer_stop(&ws->timer);
	if (wslay_event_context_client_init(&ws->ctx, &ws_callbacks, ws) != 0) {
		ws_fail(ws, "out of memory");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx, SIM_MAX_MSG);
	ws->state = WS_OPEN;
	ws->was_open = true;
	if ((size_t)used < ws->head_len &&
	    rx_append(ws, (const uint8_t *)ws->head + used,
		      ws->head_len - (size_t)used) < 0) {
		ws_fail(ws, "out of memory");
		return;
	}
	if (ws->cbs.on_open)
		ws->cbs.on_open(ws->user_data, proto);
	ws_pump(ws);
}

static void ws_on_data(void *user_data, const uint8_t *buf, size_t len)
{
	struct sim_ws *ws = user_data;

	if (ws->state == WS_HANDSHAKE) {
		size_t room = sizeof ws->head - ws->head_len;
		size_t take = len < room ? len : room;

		memcpy(ws->head + ws->head_len, buf, take);
		ws->head_len += take;
		ws_finish_handshake(ws);
		if (take < len && ws->state == WS_OPEN) {
			if (rx_append(ws, buf + take, len - take) < 0)
				ws_fail(ws, "receive buffer full");
			else
				ws_pump(ws);
		}
		return;
	}
	if (ws->state != WS_OPEN)
		return;
	if (rx_append(ws, buf, len) < 0) {
		ws_fail(ws, "receive buffer full");
		return;
	}
	ws_pump(ws);
}

static void ws_on_closed(void *user_data, int status)
{
	struct sim_ws *ws = user_data;
	bool was_open = ws->was_open;
	bool by_server = !ws->local_close || ws->server_close;

	uv_timer_stop(&ws->timer);
	if (ws->ctx) {
		wslay_event_context_free(ws->ctx);
		ws->ctx = NULL;
	}
	ws->state = WS_IDLE;
	ws->rx_len = ws->rx_off = 0;
	if (!ws->detail[0])
		snprintf(ws->detail, sizeof ws->detail, "%s",
			 status < 0 ? uv_strerror(status)
				    : (ws->local_close ? "closed" : "server closed"));
	if (ws->cbs.on_closed)
		ws->cbs.on_closed(ws->user_data, was_open, by_server,
				  ws->detail);
}

static void ws_pump(struct sim_ws *ws)
{
	if (ws->pumping || ws->state != WS_OPEN || !ws->ctx)
		return;
	ws->pumping = true;
	for (int pass = 0; pass < 64; pass++) {
		size_t before = ws->rx_len - ws->rx_off;

		if (wslay_event_want_read(ws->ctx) &&
		    wslay_event_recv(ws->ctx) != 0) {
			ws->pumping = false;
			ws_fail(ws, "protocol error from server");
			return;
		}
		if (ws->state != WS_OPEN || !ws->ctx)
			break;
		if (wslay_event_want_write(ws->ctx) &&
		    wslay_event_send(ws->ctx) != 0) {
			ws->pumping = false;
			ws_fail(ws, "send failed");
			return;
		}
		/* wslay sends control frames first; a close must not overtake
		 * text frames queued before it */
		if (ws->close_code && !ws->close_queued &&
		    wslay_event_get_queued_msg_count(ws->ctx) == 0) {
			ws->close_queued = true;
			if (wslay_event_queue_close(ws->ctx, ws->close_code, NULL,
						    0) != 0 ||
			    wslay_event_send(ws->ctx) != 0) {
				ws->pumping = false;
				ws_fail(ws, "close failed");
				return;
			}
		}
		if (!wslay_event_want_read(ws->ctx) &&
		    !wslay_event_want_write(ws->ctx)) {
			ws->pumping = false;
			ws->local_close = ws->local_close || !ws->server_close;
			ws->tr->ops->close(ws->tr);
			return;
		}
		if (ws->rx_len - ws->rx_off == before || before == 0)
			break;
	}
	ws->pumping = false;
}

/* ---- public ---- */

static const struct sim_transport_cbs ws_transport_cbs = {
	.on_connect = ws_on_connect,
	.on_data = ws_on_data,
	.on_closed = ws_on_closed,
};

struct sim_ws *sim_ws_create(uv_loop_t *loop, const struct sim_ws_opts *opts,
			     const struct sim_ws_cbs *cbs, void *user_data)
{
	struct sim_ws *ws = calloc(1, sizeof *ws);

	if (!ws)
		return NULL;
	ws->loop = loop;
	ws->cbs = *cbs;
	ws->user_data = user_data;
	ws->port = opts->port;
	ws->host = strdup(opts->host);
	ws->path = strdup(opts->path);
	ws->subprotocols = opts->subprotocols ? strdup(opts->subprotocols) : NULL;
	ws->basic_auth = opts->basic_auth ? strdup(opts->basic_auth) : NULL;
	if (opts->tls) {
		char err[256];

		ws->tr = sim_tls_create(loop, &ws_transport_cbs, ws, opts->tls,
					err, sizeof err);
		if (!ws->tr)
			fprintf(stderr, "ocpp-charger-sim: %s\n", err);
	} else {
		ws->tr = sim_tcp_create(loop, &ws_transport_cbs, ws);
	}
	if (!ws->host || !ws->path || !ws->tr ||
	    (opts->subprotocols && !ws->subprotocols) ||
	    (opts->basic_auth && !ws->basic_auth)) {
		if (ws->tr)
			ws->tr->ops->destroy(ws->tr);
		free(ws->host);
		free(ws->path);
		free(ws->subprotocols);
		free(ws->basic_auth);
		free(ws);
		return NULL;
	}
	uv_timer_init(loop, &ws->timer);
	ws->timer.data = ws;
	return ws;
}

int sim_ws_set_password(struct sim_ws *ws, const char *password)
{
	const char *colon = ws->basic_auth ? strchr(ws->basic_auth, ':') : NULL;
	size_t user = colon ? (size_t)(colon - ws->basic_auth) : 0;
	char *next;

	if (!colon)
		return -EINVAL;
	next = malloc(user + 1 + strlen(password) + 1);
	if (!next)
		return -ENOMEM;
	memcpy(next, ws->basic_auth, user + 1);
	strcpy(next + user + 1, password);
	free(ws->basic_auth);
	ws->basic_auth = next;
	return 0;
}

int sim_ws_connect(struct sim_ws *ws)
{
	int rc;

	if (ws->state != WS_IDLE)
		return -EALREADY;
	ws->local_close = ws->server_close = ws->was_open = false;
	ws->close_queued = false;
	ws->close_code = 0;
	ws->detail[0] = '\0';
	rc = ws->tr->ops->connect(ws->tr, ws->host, ws->port);
	if (rc < 0)
		return rc;
	ws->state = WS_CONNECTING;
	return 0;
}

int sim_ws_send_text(struct sim_ws *ws, const char *text, size_t len)
{
	struct wslay_event_msg msg = {
		.opcode = WSLAY_TEXT_FRAME,
		.msg = (const uint8_t *)text,
		.msg_length = len,
	};

	if (ws->state != WS_OPEN || !ws->ctx || ws->local_close)
		return -ENOTCONN;
	if (wslay_event_queue_msg(ws->ctx, &msg) != 0)
		return -ENOMEM;
	ws_pump(ws);
	return 0;
}

void sim_ws_close(struct sim_ws *ws, uint16_t code)
{
	if (ws->state == WS_IDLE)
		return;
	if (ws->state != WS_OPEN || !ws->ctx) {
		ws->local_close = true;
		ws->tr->ops->close(ws->tr);
		return;
	}
	if (ws->local_close)
		return;
	ws->local_close = true;
	ws->close_code = code;
	snprintf(ws->detail, sizeof ws->detail, "closed %u", (unsigned)code);
	uv_timer_start(&ws->timer, ws_timer_cb, WS_CLOSE_WAIT_MS, 0);
	ws_pump(ws);
}

void sim_ws_drop(struct sim_ws *ws)
{
	if (ws->state == WS_IDLE)
		return;
	ws->local_close = true;
	snprintf(ws->detail, sizeof ws->detail, "dropped");
	ws->tr->ops->close(ws->tr);
}

bool sim_ws_is_open(const struct sim_ws *ws)
{
	return ws->state == WS_OPEN && !ws->local_close;
}

bool sim_ws_is_idle(const struct sim_ws *ws)
{
	return ws->state == WS_IDLE;
}

static void ws_free(uv_handle_t *h)
{
	struct sim_ws *ws = h->data;

	free(ws->rx);
	free(ws->host);
	free(ws->path);
	free(ws->subprotocols);
	free(ws->basic_auth);
	free(ws);
}

void sim_ws_destroy(struct sim_ws *ws)
{
	if (!ws)
		return;
	ws->tr->ops->destroy(ws->tr);
	ws->tr = NULL;
	if (ws->ctx) {
		wslay_event_context_free(ws->ctx);
		ws->ctx = NULL;
	}
	uv_close((uv_handle_t *)&ws->timer, ws_free);
}
