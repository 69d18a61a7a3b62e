/* Plain TCP transport over libuv. Each connection owns its own handle so a
 * reconnect never races the close callback of the previous one. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TCP_READ_CHUNK 65536

struct tcp_conn {
	uv_tcp_t handle;
	uv_connect_t connect_req;
	struct sim_tcp *owner; /* NULL once the transport was destroyed */
	int close_status;
	bool closing;
	char buf[TCP_READ_CHUNK];
};

struct sim_tcp {
	struct sim_transport base;
	uv_loop_t *loop;
	struct sim_transport_cbs cbs;
	void *user_data;
	struct tcp_conn *conn;
};

struct tcp_write {
	uv_write_t req;
	struct tcp_conn *conn;
	char data[];
};

static void tcp_handle_closed(uv_handle_t *h)
{
	struct tcp_conn *conn = h->data;
	struct sim_tcp *t = conn->owner;

	if (t) {
		if (t->conn == conn)
			t->conn = NULL;
		if (t->cbs.on_closed)
			t->cbs.on_closed(t->user_data, conn->close_status);
	}
	free(conn);
}

static void tcp_conn_close(struct tcp_conn *conn, int status)
{
	if (conn->closing)
		return;
	conn->closing = true;
	conn->close_status = status;
	uv_close((uv_handle_t *)&conn->handle, tcp_handle_closed);
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *conn = h->data;

	(void)suggested;
	*buf = uv_buf_init(conn->buf, sizeof conn->buf);
}

static void tcp_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct tcp_conn *conn = stream->data;

	(void)buf;
	if (n < 0) {
		tcp_conn_close(conn, n == UV_EOF ? 0 : (int)n);
		return;
	}
	if (n > 0 && conn->owner && !conn->closing &&
	    conn->owner->cbs.on_data)
		conn->owner->cbs.on_data(conn->owner->user_data,
					 (const uint8_t *)conn->buf, (size_t)n);
}

static void tcp_connected(uv_connect_t *req, int status)
{
	struct tcp_conn *conn = req->data;
	struct sim_tcp *t = conn->owner;

	if (status == 0 && !conn->closing)
		status = uv_read_start((uv_stream_t *)&conn->handle, tcp_alloc,
				       tcp_read);
	if (status < 0) {
		/* report the failure through on_connect only, not twice */
		if (t && t->conn == conn)
			t->conn = NULL;
		conn->owner = NULL;
		if (!conn->closing) {
			conn->closing = true;
			uv_close((uv_handle_t *)&conn->handle, tcp_handle_closed);
		}
		if (t && t->cbs.on_connect)
			t->cbs.on_connect(t->user_data, status);
		return;
	}
	if (t && t->cbs.on_connect)
		t->cbs.on_connect(t->user_data, 0);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss)
{
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return UV_EINVAL;
}

static int tcp_connect(struct sim_transport *base, const char *host, int port)
{
	struct sim_tcp *t = (struct sim_tcp *)base;
	struct sockaddr_storage ss;
	struct tcp_conn *conn;
	int rc;

	if (t->conn)
		return UV_EALREADY;
	rc = resolve(host, port, &ss);
	if (rc < 0)
		return rc;
	conn = calloc(1, sizeof *conn);
	if (!conn)
		return UV_ENOMEM;
	rc = uv_tcp_init(t->loop, &conn->handle);
	if (rc < 0) {
		free(conn);
		return rc;
	}
	conn->owner = t;
	conn->handle.data = conn;
	conn->connect_req.data = conn;
	uv_tcp_nodelay(&conn->handle, 1);
	rc = uv_tcp_connect(&conn->connect_req, &conn->handle,
			    (const struct sockaddr *)&ss, tcp_connected);
	if (rc < 0) {
		conn->owner = NULL;
		conn->closing = true;
		uv_close((uv_handle_t *)&conn->handle, tcp_handle_closed);
		return rc;
	}
	t->conn = conn;
	return 0;
}

static void tcp_written(uv_write_t *req, int status)
{
	struct tcp_write *w = (struct tcp_write *)req;

	if (status < 0 && status != UV_ECANCELED && !w->conn->closing)
		tcp_conn_close(w->conn, status);
	free(w);
}

static int tcp_write(struct sim_transport *base, const uint8_t *buf,
		     size_t len)
{
	struct sim_tcp *t = (struct sim_tcp *)base;
	struct tcp_write *w;
	uv_buf_t b;
	int rc;

	if (!t->conn || t->conn->closing)
		return UV_ENOTCONN;
	w = malloc(sizeof *w + len);
	if (!w)
		return UV_ENOMEM;
	memcpy(w->data, buf, len);
	w->conn = t->conn;
	b = uv_buf_init(w->data, (unsigned)len);
	rc = uv_write(&w->req, (uv_stream_t *)&t->conn->handle, &b, 1,
		      tcp_written);
	if (rc < 0) {
		free(w);
		tcp_conn_close(t->conn, rc);
	}
	return rc;
}

static void tcp_close(struct sim_transport *base)
{
	struct sim_tcp *t = (struct sim_tcp *)base;

	if (t->conn)
		tcp_conn_close(t->conn, 0);
}

static void tcp_destroy(struct sim_transport *base)
{
	struct sim_tcp *t = (struct sim_tcp *)base;

	if (!t)
		return;
	if (t->conn) {
		t->conn->owner = NULL;
		tcp_conn_close(t->conn, 0);
	}
	free(t);
}

static const struct sim_transport_ops tcp_ops = {
	.connect = tcp_connect,
	.write = tcp_write,
	.close = tcp_close,
	.destroy = tcp_destroy,
};

struct sim_transport *sim_tcp_create(uv_loop_t *loop,
				     const struct sim_transport_cbs *cbs,
				     void *user_data)
{
	struct sim_tcp *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->base.ops = &tcp_ops;
	t->loop = loop;
	t->cbs = *cbs;
	t->user_data = user_data;
	return &t->base;
}

/* ---- TLS transport (wss://): wolfSSL over the TCP transport above ----
 *
 * wolfSSL reads and writes through memory callbacks; the TCP transport
 * stays the only owner of the socket. The server certificate must chain to
 * the CA given with --ca and name the URL's host (DNS or IP subjectAltName):
 * there is deliberately no way to skip that. A client certificate (--cert,
 * --key) is offered for security profile 3. */

struct sim_tls {
	struct sim_transport base;
	struct sim_transport *tcp;
	struct sim_transport_cbs cbs;
	void *user_data;
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	char *host;
	bool host_is_ip;
	const uint8_t *in; /* lent during one on_data */
	size_t in_len;
	bool tcp_up;
	bool handshake_done;
	bool failed;       /* handshake failed: on_connect reports it */
	bool closing;      /* closed locally: ignore what still arrives */
};

static int tls_recv_cb(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct sim_tls *t = ctx;
	size_t n;

	(void)ssl;
	if (t->in_len == 0)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = (size_t)sz < t->in_len ? (size_t)sz : t->in_len;
	memcpy(buf, t->in, n);
	t->in += n;
	t->in_len -= n;
	return (int)n;
}

static int tls_send_cb(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct sim_tls *t = ctx;

	(void)ssl;
	if (t->tcp->ops->write(t->tcp, (const uint8_t *)buf, (size_t)sz) < 0)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return sz;
}

static void tls_report(struct sim_tls *t, int ret, const char *what)
{
	char text[WOLFSSL_MAX_ERROR_SZ];
	int code = t->ssl ? wolfSSL_get_error(t->ssl, ret) : ret;

	wolfSSL_ERR_error_string_n((unsigned long)code, text, sizeof text);
	fprintf(stderr, "ocpp-charger-sim: TLS %s: %s (%d)\n", what, text,
		code);
}

/* Handshake failed: close TCP; on_connect(error) follows from on_closed. */
static void tls_handshake_failed(struct sim_tls *t)
{
	t->failed = true;
	t->tcp->ops->close(t->tcp);
}

static bool tls_check_ip(struct sim_tls *t)
{
	WOLFSSL_X509 *x;
	bool ok;

	if (!t->host_is_ip)
		return true; /* names are checked by wolfSSL_check_domain_name */
	x = wolfSSL_get_peer_certificate(t->ssl);
	ok = x && wolfSSL_X509_check_ip_asc(x, t->host, 0) == 1;
	wolfSSL_X509_free(x);
	if (!ok)
		fprintf(stderr, "ocpp-charger-sim: TLS: the server certificate "
			"does not name %s\n", t->host);
	return ok;
}

static void tls_pump(struct sim_tls *t)
{
	char buf[16384];
	int n, code;

	if (!t->handshake_done) {
		n = wolfSSL_connect(t->ssl);
		if (n != WOLFSSL_SUCCESS) {
			if (wolfSSL_get_error(t->ssl, n) != WOLFSSL_ERROR_WANT_READ) {
				tls_report(t, n, "handshake failed");
				tls_handshake_failed(t);
			}
			return;
		}
		if (!tls_check_ip(t)) {
			tls_handshake_failed(t);
			return;
		}
		t->handshake_done = true;
		if (t->cbs.on_connect)
			t->cbs.on_connect(t->user_data, 0);
	}
	while (t->ssl && t->handshake_done && !t->closing) {
		n = wolfSSL_read(t->ssl, buf, sizeof buf);
		if (n > 0) {
			if (t->cbs.on_data)
				t->cbs.on_data(t->user_data, (const uint8_t *)buf,
					       (size_t)n);
			continue;
		}
		code = wolfSSL_get_error(t->ssl, n);
		if (code != WOLFSSL_ERROR_WANT_READ) {
			if (code != WOLFSSL_ERROR_ZERO_RETURN)
				tls_report(t, n, "read failed");
			t->tcp->ops->close(t->tcp);
		}
		return;
	}
}

static void tls_tcp_connected(void *user_data, int status)
{
	struct sim_tls *t = user_data;

	if (status < 0) {
		if (t->cbs.on_connect)
			t->cbs.on_connect(t->user_data, status);
		return;
	}
	t->tcp_up = true;
	wolfSSL_free(t->ssl);
	t->ssl = wolfSSL_new(t->ctx);
	if (!t->ssl) {
		tls_handshake_failed(t);
		return;
	}
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	if (!t->host_is_ip) {
		wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, t->host,
			       (unsigned short)strlen(t->host));
		wolfSSL_check_domain_name(t->ssl, t->host);
	}
	tls_pump(t); /* sends the ClientHello */
}

static void tls_tcp_data(void *user_data, const uint8_t *buf, size_t len)
{
	struct sim_tls *t = user_data;

	if (!t->ssl || t->failed || t->closing)
		return;
	t->in = buf;
	t->in_len = len;
	tls_pump(t);
	t->in = NULL;
	t->in_len = 0;
}

static void tls_tcp_closed(void *user_data, int status)
{
	struct sim_tls *t = user_data;
	bool was_up = t->handshake_done;

	t->tcp_up = false;
	t->handshake_done = false;
	t->failed = false;
	t->closing = false;
	if (!was_up) {
		/* the caller never saw a connection: report the failure there */
		if (t->cbs.on_connect)
			t->cbs.on_connect(t->user_data,
					  status < 0 ? status : UV_EPROTO);
		return;
	}
	if (t->cbs.on_closed)
		t->cbs.on_closed(t->user_data, status);
}

static int tls_connect(struct sim_transport *base, const char *host, int port)
{
	struct sim_tls *t = (struct sim_tls *)base;

	return t->tcp->ops->connect(t->tcp, host, port);
}

static int tls_write(struct sim_transport *base, const uint8_t *buf,
		     size_t len)
{
	struct sim_tls *t = (struct sim_tls *)base;
	int n;

	if (!t->handshake_done || !t->ssl)
		return UV_ENOTCONN;
	if (len == 0)
		return 0;
	n = wolfSSL_write(t->ssl, buf, (int)len);
	if (n != (int)len) {
		tls_report(t, n, "write failed");
		t->tcp->ops->close(t->tcp);
		return UV_EPROTO;
	}
	return 0;
}

static void tls_close(struct sim_transport *base)
{
	struct sim_tls *t = (struct sim_tls *)base;

	if (t->handshake_done && t->ssl && !t->closing)
		wolfSSL_shutdown(t->ssl); /* close_notify, no wait */
	t->closing = true;
	t->tcp->ops->close(t->tcp);
}

static void tls_destroy(struct sim_transport *base)
{
	struct sim_tls *t = (struct sim_tls *)base;

	if (!t)
		return;
	if (t->tcp)
		t->tcp->ops->destroy(t->tcp);
	wolfSSL_free(t->ssl);
	wolfSSL_CTX_free(t->ctx);
	free(t->host);
	free(t);
	wolfSSL_Cleanup();
}

static const struct sim_transport_ops tls_ops = {
	.connect = tls_connect,
	.write = tls_write,
	.close = tls_close,
	.destroy = tls_destroy,
};

static int tls_setup_ctx(struct sim_tls *t, const struct sim_tls_opts *o,
			 char *err, size_t err_cap)
{
	t->ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (!t->ctx) {
		snprintf(err, err_cap, "cannot create a TLS context");
		return -ENOMEM;
	}
	if (wolfSSL_CTX_load_verify_locations(t->ctx, o->ca, NULL) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, err_cap, "--ca %s: no PEM certificate", o->ca);
		return -EINVAL;
	}
	wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
	if (o->cert && wolfSSL_CTX_use_certificate_chain_file(t->ctx, o->cert) !=
			       WOLFSSL_SUCCESS) {
		snprintf(err, err_cap, "--cert %s: no PEM certificate", o->cert);
		return -EINVAL;
	}
	if (o->key && wolfSSL_CTX_use_PrivateKey_file(t->ctx, o->key,
						      WOLFSSL_FILETYPE_PEM) !=
			      WOLFSSL_SUCCESS) {
		snprintf(err, err_cap, "--key %s: no PEM private key", o->key);
		return -EINVAL;
	}
	wolfSSL_CTX_SetIORecv(t->ctx, tls_recv_cb);
	wolfSSL_CTX_SetIOSend(t->ctx, tls_send_cb);
	return 0;
}

struct sim_transport *sim_tls_create(uv_loop_t *loop,
				     const struct sim_transport_cbs *cbs,
				     void *user_data,
				     const struct sim_tls_opts *opts,
				     char *err, size_t err_cap)
{
	static const struct sim_transport_cbs inner = {
		.on_connect = tls_tcp_connected,
		.on_data = tls_tcp_data,
		.on_closed = tls_tcp_closed,
	};
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	struct sim_tls *t;

	snprintf(err, err_cap, "out of memory");
	if (!opts->ca || !opts->host) {
		snprintf(err, err_cap, "wss:// needs --ca");
		return NULL;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return NULL;
	t = calloc(1, sizeof *t);
	if (!t) {
		wolfSSL_Cleanup();
		return NULL;
	}
	t->base.ops = &tls_ops;
	t->cbs = *cbs;
	t->user_data = user_data;
	t->host = strdup(opts->host);
	t->host_is_ip = uv_ip4_addr(opts->host, 0, &a4) == 0 ||
			uv_ip6_addr(opts->host, 0, &a6) == 0;
	t->tcp = sim_tcp_create(loop, &inner, t);
	if (!t->host || !t->tcp || tls_setup_ctx(t, opts, err, err_cap) < 0) {
		tls_destroy(&t->base);
		return NULL;
	}
	return &t->base;
}
