/* Plain TCP transport over libuv. Each connection owns its own handle so a
 * reconnect never races the close callback of the previous one. */
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
