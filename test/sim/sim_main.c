/* ocpp-charger-sim: an OCPP 1.6J or 2.0.1 charge point for tests, benchmarks
 * and trying a setup without a car. Options, logging and the connection's
 * life cycle live here; see sim.h for the layers. */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_GRACE_MS 1000

static void usage(FILE *f)
{
	fputs("usage: ocpp-charger-sim --url ws[s]://HOST:PORT/PATH/ID [options]\n"
	      "  --connectors N         connectors (default 1)\n"
	      "  --script FILE          run the commands in FILE\n"
	      "  --stdin                read commands from stdin\n"
	      "  --log FILE             JSON lines log of frames and events (- = stdout)\n"
	      "  --ocpp 1.6|2.0.1|both  OCPP version (default 1.6); both offers\n"
	      "                         2.0.1 and 1.6, speaks what the server chose\n"
	      "  --subprotocols LIST    Sec-WebSocket-Protocol (default from --ocpp)\n"
	      "  --no-subprotocol       send no Sec-WebSocket-Protocol\n"
	      "  --basic-auth USER:PASS HTTP Basic authentication\n"
	      "  --ca FILE              wss://: CA (PEM) the server certificate\n"
	      "                         must chain to (required for wss://)\n"
	      "  --cert FILE --key FILE wss://: client certificate and key (PEM)\n"
	      "  --vendor V --model M --serial S --firmware F\n"
	      "  --no-boot              no BootNotification after connecting\n"
	      "  --reconnect-delay S    reconnect after a lost connection\n"
	      "  --quiet\n",
	      f);
}

/* ---- output ---- */

void sim_say(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->opt.quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static json_int_t elapsed_ms(const struct sim *s)
{
	return (json_int_t)((uv_hrtime() - s->t0_ns) / 1000000u);
}

static void log_line(struct sim *s, json_t *entry)
{
	char *text;

	if (!entry)
		return;
	text = json_dumps(entry, JSON_COMPACT);
	json_decref(entry);
	if (!text)
		return;
	fprintf(s->log, "%s\n", text);
	fflush(s->log);
	free(text);
}

void sim_log_frame(struct sim *s, const char *dir, const char *text)
{
	json_t *frame;

	sim_say(s, "%s %s", strcmp(dir, "out") == 0 ? "->" : "<-", text);
	if (!s->log)
		return;
	frame = json_loads(text, JSON_DECODE_ANY, NULL);
	if (frame)
		log_line(s, json_pack("{sIssso}", "t", elapsed_ms(s), "dir", dir,
				      "frame", frame));
	else
		log_line(s, json_pack("{sIssss}", "t", elapsed_ms(s), "dir", dir,
				      "raw", text));
}

void sim_log_event(struct sim *s, const char *event, const char *detail,
		   json_t *extra)
{
	json_t *entry;

	sim_say(s, "** %s: %s", event, detail ? detail : "");
	if (!s->log) {
		json_decref(extra);
		return;
	}
	entry = json_pack("{sIssss}", "t", elapsed_ms(s), "event", event,
			  "detail", detail ? detail : "");
	if (entry && extra)
		json_object_update(entry, extra);
	json_decref(extra);
	log_line(s, entry);
}

/* ---- shutdown ---- */

static void finalize(struct sim *s)
{
	if (!s->ws)
		return;
	uv_timer_stop(&s->exit_timer);
	sim_cp_finish(s);
	sim_run_close_handles(s);
	uv_close((uv_handle_t *)&s->reconnect_timer, NULL);
	uv_close((uv_handle_t *)&s->exit_timer, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	sim_ws_destroy(s->ws);
	s->ws = NULL;
}

static void on_signal(uv_signal_t *sig, int signum)
{
	(void)signum;
	sim_exit(sig->data, SIM_EXIT_OK);
}

static void exit_timer_done(uv_timer_t *t)
{
	finalize(t->data);
}

void sim_exit(struct sim *s, int code)
{
	if (s->exiting)
		return;
	s->exiting = true;
	s->exit_code = code;
	if (!s->ws)
		return;
	if (sim_ws_is_idle(s->ws)) {
		finalize(s);
		return;
	}
	sim_ws_close(s->ws, 1000);
	uv_timer_start(&s->exit_timer, exit_timer_done, EXIT_GRACE_MS, 0);
}

/* ---- connection ---- */

static void connect_failed(struct sim *s, const char *detail)
{
	sim_log_event(s, "error", detail, NULL);
	if (!s->ever_connected) {
		fprintf(stderr, "ocpp-charger-sim: cannot connect to %s: %s\n",
			s->opt.url, detail);
		sim_exit(s, SIM_EXIT_CONNECT);
	}
}

void sim_connect(struct sim *s)
{
	int rc;

	if (s->exiting)
		return;
	rc = sim_ws_connect(s->ws);
	if (rc < 0 && rc != -EALREADY)
		connect_failed(s, uv_strerror(rc));
}

static void reconnect_due(uv_timer_t *t)
{
	struct sim *s = t->data;

	if (s->want_connected && !s->connected)
		sim_connect(s);
}

static void on_open(void *user_data, const char *protocol)
{
	struct sim *s = user_data;

	s->connected = true;
	s->ever_connected = true;
	s->v201 = s->opt.ocpp == SIM_OCPP_201 ||
		  (s->opt.ocpp == SIM_OCPP_BOTH &&
		   strcmp(protocol, "ocpp2.0.1") == 0);
	uv_timer_stop(&s->reconnect_timer);
	sim_log_event(s, "connected", protocol[0] ? protocol : "(no subprotocol)",
		      NULL);
	sim_cp_on_open(s);
	sim_run_on_connected(s);
}

static void on_text(void *user_data, const char *text, size_t len)
{
	struct sim *s = user_data;
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	sim_log_frame(s, "in", copy);
	free(copy);
	if (!s->exiting)
		sim_cp_on_text(s, text, len);
}

static void on_closed(void *user_data, bool was_open, bool by_server,
		      const char *detail)
{
	struct sim *s = user_data;
	bool after_reset = s->reset_pending;

	if (!was_open) {
		if (s->exiting) {
			finalize(s);
			return;
		}
		connect_failed(s, detail);
	} else {
		s->connected = false;
		sim_log_event(s, "disconnected", detail, NULL);
		if (by_server)
			s->server_closes++;
		sim_cp_on_closed(s);
		if (s->exiting) {
			finalize(s);
			return;
		}
	}
	if (s->exiting)
		return;
	if (after_reset)
		uv_timer_start(&s->reconnect_timer, reconnect_due, 1000, 0);
	else if (s->want_connected && s->opt.reconnect_delay > 0)
		uv_timer_start(&s->reconnect_timer, reconnect_due,
			       (uint64_t)llround(s->opt.reconnect_delay * 1000),
			       0);
	sim_run_on_disconnected(s);
}

/* ---- command line ---- */

static int parse_url(struct sim_options *o)
{
	const char *p = o->url, *host, *host_end, *path;
	char *end;
	long port = 80;

	if (strncmp(p, "wss://", 6) == 0) {
		o->tls = true;
		port = 443;
		host = p + 6;
	} else if (strncmp(p, "ws://", 5) == 0) {
		host = p + 5;
	} else {
		goto bad;
	}
	if (*host == '[') {
		host_end = strchr(host, ']');
		if (!host_end)
			goto bad;
		host++;
		p = host_end + 1;
	} else {
		host_end = host + strcspn(host, ":/");
		p = host_end;
	}
	if ((size_t)(host_end - host) == 0 ||
	    (size_t)(host_end - host) >= sizeof o->host)
		goto bad;
	memcpy(o->host, host, (size_t)(host_end - host));
	o->host[host_end - host] = '\0';
	if (*p == ':') {
		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535)
			goto bad;
		p = end;
	}
	path = *p ? p : "/";
	if (*path != '/' || strlen(path) >= sizeof o->path ||
	    strpbrk(path, " \r\n"))
		goto bad;
	snprintf(o->path, sizeof o->path, "%s", path);
	o->port = (int)port;
	o->tls_opts.host = o->host;
	if (o->tls && !o->tls_opts.ca) {
		fprintf(stderr, "ocpp-charger-sim: wss:// needs --ca FILE\n");
		return -EINVAL;
	}
	if (!o->tls && (o->tls_opts.ca || o->tls_opts.cert)) {
		fprintf(stderr, "ocpp-charger-sim: --ca and --cert need wss://\n");
		return -EINVAL;
	}
	if (!o->tls_opts.cert != !o->tls_opts.key) {
		fprintf(stderr, "ocpp-charger-sim: --cert and --key go together\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "ocpp-charger-sim: bad URL '%s'\n", o->url);
	return -EINVAL;
}

static int parse_double_arg(const char *name, const char *v, double lo,
			    double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || !isfinite(d) || d < lo || d > hi) {
		fprintf(stderr, "ocpp-charger-sim: bad value for --%s: %s\n",
			name, v);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

static bool field_ok(const char *name, const char *v, size_t max)
{
	if (strlen(v) <= max)
		return true;
	fprintf(stderr, "ocpp-charger-sim: --%s longer than %zu characters\n",
		name, max);
	return false;
}

static int parse_ocpp(struct sim_options *o, const char *v)
{
	if (strcmp(v, "1.6") == 0)
		o->ocpp = SIM_OCPP_16;
	else if (strcmp(v, "2.0.1") == 0)
		o->ocpp = SIM_OCPP_201;
	else if (strcmp(v, "both") == 0)
		o->ocpp = SIM_OCPP_BOTH;
	else {
		fprintf(stderr, "ocpp-charger-sim: --ocpp must be 1.6, 2.0.1 or both\n");
		return -EINVAL;
	}
	return 0;
}

static const char *default_subprotocols(enum sim_ocpp v)
{
	switch (v) {
	case SIM_OCPP_201: return "ocpp2.0.1";
	case SIM_OCPP_BOTH: return "ocpp2.0.1, ocpp1.6";
	case SIM_OCPP_16: break;
	}
	return "ocpp1.6";
}

static int parse_options(struct sim_options *o, int argc, char **argv)
{
	enum { O_NO_SUBPROTOCOL = 256, O_NO_BOOT, O_RECONNECT, O_VENDOR,
	       O_MODEL, O_SERIAL, O_FIRMWARE, O_BASIC_AUTH, O_SUBPROTOCOLS,
	       O_CA, O_CERT, O_KEY, O_OCPP };
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "connectors", required_argument, NULL, 'c' },
		{ "script", required_argument, NULL, 's' },
		{ "stdin", no_argument, NULL, 'i' },
		{ "log", required_argument, NULL, 'l' },
		{ "subprotocols", required_argument, NULL, O_SUBPROTOCOLS },
		{ "ocpp", required_argument, NULL, O_OCPP },
		{ "no-subprotocol", no_argument, NULL, O_NO_SUBPROTOCOL },
		{ "basic-auth", required_argument, NULL, O_BASIC_AUTH },
		{ "ca", required_argument, NULL, O_CA },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "vendor", required_argument, NULL, O_VENDOR },
		{ "model", required_argument, NULL, O_MODEL },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "firmware", required_argument, NULL, O_FIRMWARE },
		{ "no-boot", no_argument, NULL, O_NO_BOOT },
		{ "reconnect-delay", required_argument, NULL, O_RECONNECT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double d;
	int opt;
	bool own_subprotocols = false;

	o->connectors = 1;
	o->subprotocols = "ocpp1.6";
	o->vendor = "ocppknx";
	o->model = "sim";
	o->serial = "SIM-0001";
	o->firmware = "1.0";
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u': o->url = optarg; break;
		case 'c':
			if (parse_double_arg("connectors", optarg, 1,
					     SIM_MAX_CONNECTORS, &d) < 0 ||
			    d != floor(d))
				return -EINVAL;
			o->connectors = (int)d;
			break;
		case 's': o->script = optarg; break;
		case 'i': o->use_stdin = true; break;
		case 'l': o->log_path = optarg; break;
		case O_SUBPROTOCOLS:
			if (!field_ok("subprotocols", optarg, 200) ||
			    strpbrk(optarg, "\r\n"))
				return -EINVAL;
			o->subprotocols = optarg;
			own_subprotocols = true;
			break;
		case O_NO_SUBPROTOCOL:
			o->subprotocols = NULL;
			own_subprotocols = true;
			break;
		case O_OCPP:
			if (parse_ocpp(o, optarg) < 0)
				return -EINVAL;
			break;
		case O_BASIC_AUTH:
			if (!strchr(optarg, ':') ||
			    !field_ok("basic-auth", optarg, 250)) {
				fprintf(stderr, "ocpp-charger-sim: --basic-auth needs USER:PASS\n");
				return -EINVAL;
			}
			o->basic_auth = optarg;
			break;
		case O_CA: o->tls_opts.ca = optarg; break;
		case O_CERT: o->tls_opts.cert = optarg; break;
		case O_KEY: o->tls_opts.key = optarg; break;
		case O_VENDOR:
			if (!field_ok("vendor", optarg, 20))
				return -EINVAL;
			o->vendor = optarg;
			break;
		case O_MODEL:
			if (!field_ok("model", optarg, 20))
				return -EINVAL;
			o->model = optarg;
			break;
		case O_SERIAL:
			if (!field_ok("serial", optarg, 25))
				return -EINVAL;
			o->serial = optarg;
			break;
		case O_FIRMWARE:
			if (!field_ok("firmware", optarg, 50))
				return -EINVAL;
			o->firmware = optarg;
			break;
		case O_NO_BOOT: o->no_boot = true; break;
		case O_RECONNECT:
			if (parse_double_arg("reconnect-delay", optarg, 0, 86400,
					     &o->reconnect_delay) < 0)
				return -EINVAL;
			break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ocpp-charger-sim: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!own_subprotocols)
		o->subprotocols = default_subprotocols(o->ocpp);
	if (!o->url) {
		fprintf(stderr, "ocpp-charger-sim: --url is required\n");
		return -EINVAL;
	}
	return parse_url(o);
}

static int check_connectors(const struct sim *s)
{
	for (size_t i = 0; i < s->script.n; i++) {
		const struct sim_cmd *c = &s->script.cmds[i];

		if (c->connector > s->opt.connectors) {
			fprintf(stderr, "%s:%d: connector %d does not exist\n",
				s->opt.script, c->line, c->connector);
			return -EINVAL;
		}
	}
	return 0;
}

static int setup(struct sim *s)
{
	static const struct sim_ws_cbs ws_cbs = {
		.on_open = on_open,
		.on_text = on_text,
		.on_closed = on_closed,
	};
	struct sim_ws_opts wo = {
		.host = s->opt.host,
		.port = s->opt.port,
		.path = s->opt.path,
		.subprotocols = s->opt.subprotocols,
		.basic_auth = s->opt.basic_auth,
		.tls = s->opt.tls ? &s->opt.tls_opts : NULL,
	};

	if (s->opt.log_path && strcmp(s->opt.log_path, "-") == 0) {
		s->log = stdout;
		s->log_is_stdout = true;
	} else if (s->opt.log_path) {
		s->log = fopen(s->opt.log_path, "w");
		if (!s->log) {
			fprintf(stderr, "ocpp-charger-sim: %s: %s\n",
				s->opt.log_path, strerror(errno));
			return -errno;
		}
	}
	s->ws = sim_ws_create(s->loop, &wo, &ws_cbs, s);
	if (!s->ws)
		return -ENOMEM;
	sim_cp_init(s);
	sim_run_init(s);
	uv_timer_init(s->loop, &s->reconnect_timer);
	uv_timer_init(s->loop, &s->exit_timer);
	s->reconnect_timer.data = s->exit_timer.data = s;
	uv_signal_init(s->loop, &s->sigint);
	uv_signal_init(s->loop, &s->sigterm);
	s->sigint.data = s->sigterm.data = s;
	uv_signal_start(&s->sigint, on_signal, SIGINT);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
	return 0;
}

int main(int argc, char **argv)
{
	static struct sim s; /* large; static keeps it off the stack */
	uv_loop_t loop;
	char err[512];
	int code = SIM_EXIT_USAGE;

	s.t0_ns = uv_hrtime();
	if (parse_options(&s.opt, argc, argv) < 0) {
		usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (s.opt.script) {
		if (sim_script_load(&s.script, s.opt.script, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			sim_script_finish(&s.script);
			return SIM_EXIT_USAGE;
		}
		if (check_connectors(&s) < 0) {
			sim_script_finish(&s.script);
			return SIM_EXIT_USAGE;
		}
	}
	/* a central system that dies mid-write must not kill the simulator */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop) != 0)
		return SIM_EXIT_USAGE;
	s.loop = &loop;
	if (setup(&s) < 0)
		goto out;
	s.want_connected = true;
	if (s.opt.use_stdin && sim_run_start_stdin(&s) < 0 && !s.exiting) {
		fprintf(stderr, "ocpp-charger-sim: cannot read stdin\n");
		sim_exit(&s, SIM_EXIT_USAGE);
	}
	if (!s.exiting)
		sim_connect(&s);
	uv_run(&loop, UV_RUN_DEFAULT);
	code = s.exit_code;
out:
	if (s.ws) {
		/* setup failed half-way or exit never ran: release from here */
		finalize(&s);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	sim_script_finish(&s.script);
	if (s.log && !s.log_is_stdout)
		fclose(s.log);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "ocpp-charger-sim: handles left open\n");
		if (code == 0)
			code = SIM_EXIT_USAGE;
	}
	return code;
}
