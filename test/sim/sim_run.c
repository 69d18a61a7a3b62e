/* Script runner: executes commands one after another; a command that has to
 * wait (for answers, a timer, a CALL from the server, the connection) sets a
 * block reason, and every event that could lift it kicks the runner again. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COMMANDS_PER_KICK 1000
#define PHASE_VOLTAGE 230.0
#define MAX_STDIN_FILE (1024 * 1024)

static const char *origin(const struct sim *s, const struct sim_cmd *c)
{
	return c->from_stdin ? "stdin" : s->opt.script;
}

static void fail_run(struct sim *s, const struct sim_cmd *c, int code,
		     const char *msg)
{
	char line[256];

	snprintf(line, sizeof line, "%s:%d: %s", origin(s, c), c->line, msg);
	fprintf(stderr, "%s\n", line);
	sim_log_event(s, "error", line, NULL);
	sim_exit(s, code);
}

static void run_timer_done(uv_timer_t *t)
{
	struct sim *s = t->data;
	const struct sim_cmd *c = s->blocked_cmd;
	char msg[128];

	switch (s->block) {
	case SIM_BLOCK_TIMER:
		s->block = SIM_BLOCK_NONE;
		sim_run_kick(s);
		break;
	case SIM_BLOCK_EXPECT:
		snprintf(msg, sizeof msg, "expect %s: timed out after %g s",
			 c->s1, c->num);
		fail_run(s, c, SIM_EXIT_EXPECT, msg);
		break;
	case SIM_BLOCK_CLOSE:
		snprintf(msg, sizeof msg, "expect-close: timed out after %g s",
			 c->num);
		fail_run(s, c, SIM_EXIT_EXPECT, msg);
		break;
	default:
		break;
	}
}

static void start_run_timer(struct sim *s, double seconds)
{
	uv_timer_start(&s->run_timer, run_timer_done,
		       (uint64_t)llround(seconds * 1000.0), 0);
}

static double charge_amps(const struct sim *s, int c, double amps)
{
	const struct sim_connector *k = &s->conn[c];
	double limit = k->limit;

	if (limit < 0)
		return amps;
	if (strcmp(k->limit_unit, "W") == 0)
		limit /= 3 * PHASE_VOLTAGE;
	return limit < amps ? limit : amps;
}

static void charge_tick(uv_timer_t *t)
{
	struct sim *s = t->data;
	int c = s->charge_conn;
	struct sim_connector *k = &s->conn[c];
	struct sim_meter_args m = { 0 };
	double amps;

	if (!k->tx_running || s->charge_ticks_left <= 0) {
		uv_timer_stop(t);
		s->block = SIM_BLOCK_NONE;
		sim_run_kick(s);
		return;
	}
	amps = charge_amps(s, c, s->charge_amps);
	k->energy_wh += amps * PHASE_VOLTAGE * 3 / 3600.0;
	m.has = SIM_M_ENERGY | SIM_M_L1 | SIM_M_L2 | SIM_M_L3 | SIM_M_POWER |
		SIM_M_VOLTAGE;
	m.energy_wh = k->energy_wh;
	m.phase[0] = m.phase[1] = m.phase[2] = amps;
	m.power = amps * PHASE_VOLTAGE * 3;
	m.voltage = PHASE_VOLTAGE;
	sim_cp_meter(s, c, &m, "Sample.Periodic");
	if (--s->charge_ticks_left <= 0) {
		uv_timer_stop(t);
		s->block = SIM_BLOCK_NONE;
		sim_run_kick(s);
	}
}

static int dup_step(struct sim *s, enum sim_op op, const struct sim_cmd *from)
{
	struct sim_cmd *st = &s->steps[s->n_steps++];

	memset(st, 0, sizeof *st);
	st->op = op;
	st->line = from->line;
	st->from_stdin = from->from_stdin;
	st->connector = from->connector;
	st->num = from->num;
	st->num2 = from->num2;
	st->use_register = true;
	st->quiet_skip = true;
	if (from->s1 && !(st->s1 = strdup(from->s1)))
		return -ENOMEM;
	return 0;
}

static void clear_steps(struct sim *s)
{
	for (size_t i = 0; i < s->n_steps; i++)
		sim_cmd_finish(&s->steps[i]);
	s->n_steps = s->step_pc = 0;
}

static int expand_charge(struct sim *s, const struct sim_cmd *c)
{
	static const enum sim_op ops[] = {
		SIM_OP_PLUG, SIM_OP_AUTHORIZE, SIM_OP_START,
		SIM_OP_CHARGE_TICKS, SIM_OP_STOP, SIM_OP_UNPLUG,
	};

	clear_steps(s);
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (dup_step(s, ops[i], c) < 0)
			return -ENOMEM;
	s->steps[4].s2 = strdup("Local");
	return s->steps[4].s2 ? 0 : -ENOMEM;
}

static int expand_reconnect(struct sim *s, const struct sim_cmd *c)
{
	clear_steps(s);
	if (dup_step(s, SIM_OP_DISCONNECT, c) < 0 ||
	    dup_step(s, SIM_OP_CONNECT, c) < 0)
		return -ENOMEM;
	return 0;
}

static struct sim_cmd *fetch(struct sim *s)
{
	if (s->step_pc < s->n_steps)
		return &s->steps[s->step_pc++];
	if (s->n_steps)
		clear_steps(s);
	if (!s->script_done) {
		if (s->pc < s->script.n)
			return &s->script.cmds[s->pc++];
		s->script_done = true;
	}
	if (s->opt.use_stdin) {
		if (s->input_pc < s->input.n)
			return &s->input.cmds[s->input_pc++];
		if (!s->input_eof) {
			/* everything read so far ran: drop it, keep memory flat */
			sim_script_finish(&s->input);
			s->input_pc = 0;
			s->block = SIM_BLOCK_INPUT;
			return NULL;
		}
	}
	sim_exit(s, SIM_EXIT_OK);
	return NULL;
}

static bool lifted(struct sim *s)
{
	const struct sim_cmd *c = s->blocked_cmd;
	struct sim_action_state *a;

	switch (s->block) {
	case SIM_BLOCK_NONE:
		return true;
	case SIM_BLOCK_CALLS:
		return sim_cp_calls_idle(s) || !s->connected;
	case SIM_BLOCK_EXPECT:
		a = sim_cp_action(s, c->s1);
		if (a && a->received > a->consumed) {
			a->consumed++;
			uv_timer_stop(&s->run_timer);
			return true;
		}
		return false;
	case SIM_BLOCK_CLOSE:
		if (s->server_closes > s->server_closes_consumed) {
			s->server_closes_consumed++;
			uv_timer_stop(&s->run_timer);
			return true;
		}
		return false;
	case SIM_BLOCK_CONNECT:
		return s->connected || sim_ws_is_idle(s->ws);
	case SIM_BLOCK_DISCONNECT:
		return sim_ws_is_idle(s->ws);
	case SIM_BLOCK_INPUT:
		return s->input_pc < s->input.n || s->input_eof;
	case SIM_BLOCK_TIMER:
	case SIM_BLOCK_CHARGE:
		return false;
	}
	return false;
}

static double cmd_meter(const struct sim *s, const struct sim_cmd *c)
{
	return c->use_register ? s->conn[c->connector].energy_wh : c->num;
}

static void block_on(struct sim *s, enum sim_block b, const struct sim_cmd *c)
{
	s->block = b;
	s->blocked_cmd = c;
}

static void exec(struct sim *s, struct sim_cmd *c)
{
	int n = c->connector;
	char msg[128];

	switch (c->op) {
	case SIM_OP_CONNECT:
		s->want_connected = true;
		if (!s->connected)
			sim_connect(s);
		block_on(s, SIM_BLOCK_CONNECT, c);
		break;
	case SIM_OP_DISCONNECT:
		s->want_connected = false;
		sim_ws_close(s->ws, 1000);
		block_on(s, SIM_BLOCK_DISCONNECT, c);
		break;
	case SIM_OP_DROP:
		sim_ws_drop(s->ws);
		block_on(s, SIM_BLOCK_DISCONNECT, c);
		break;
	case SIM_OP_OFFLINE:
		/* the network goes: no close frame, no reconnect until
		 * `connect`; transaction messages are kept meanwhile */
		s->want_connected = false;
		sim_ws_drop(s->ws);
		block_on(s, SIM_BLOCK_DISCONNECT, c);
		break;
	case SIM_OP_RECONNECT:
		if (expand_reconnect(s, c) < 0)
			fail_run(s, c, SIM_EXIT_USAGE, "out of memory");
		break;
	case SIM_OP_BOOT:
		sim_cp_boot(s);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_HEARTBEAT:
		sim_cp_heartbeat(s);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_AUTHORIZE:
		sim_cp_authorize(s, c->s1);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_STATUS:
		sim_cp_set_status(s, n, c->s1, c->s2, c->s3);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_PLUG:
		sim_cp_plug(s, n);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_UNPLUG:
		sim_cp_unplug(s, n);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_START:
		sim_cp_start(s, n, c->s1, cmd_meter(s, c));
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_METER:
		sim_cp_meter(s, n, &c->meter, "Sample.Periodic");
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_STOP:
		if (!sim_cp_stop(s, n, cmd_meter(s, c), c->s2, "Finishing") &&
		    !c->quiet_skip) {
			snprintf(msg, sizeof msg, "%s:%d: no transaction on connector %d",
				 origin(s, c), c->line, n);
			sim_log_event(s, "error", msg, NULL);
			sim_say(s, "%s", msg);
		}
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_FAULT:
		sim_cp_set_status(s, n, "Faulted", c->s2, NULL);
		block_on(s, SIM_BLOCK_CALLS, c);
		break;
	case SIM_OP_SEND:
		if (sim_cp_send_text(s, c->s1) < 0)
			sim_log_event(s, "error", "send: not connected", NULL);
		break;
	case SIM_OP_WAIT:
		block_on(s, SIM_BLOCK_TIMER, c);
		start_run_timer(s, c->num);
		break;
	case SIM_OP_EXPECT:
		block_on(s, SIM_BLOCK_EXPECT, c);
		if (!lifted(s))
			start_run_timer(s, c->num);
		else
			s->block = SIM_BLOCK_NONE;
		break;
	case SIM_OP_EXPECT_CLOSE:
		block_on(s, SIM_BLOCK_CLOSE, c);
		if (!lifted(s))
			start_run_timer(s, c->num);
		else
			s->block = SIM_BLOCK_NONE;
		break;
	case SIM_OP_ANSWER:
		sim_cp_set_answer(s, c->s1, c->answer);
		break;
	case SIM_OP_CHARGE:
		if (expand_charge(s, c) < 0)
			fail_run(s, c, SIM_EXIT_USAGE, "out of memory");
		break;
	case SIM_OP_CHARGE_TICKS:
		s->charge_conn = n;
		s->charge_amps = c->num2;
		s->charge_ticks_left = (int)ceil(c->num);
		block_on(s, SIM_BLOCK_CHARGE, c);
		uv_timer_start(&s->charge_timer, charge_tick, 1000, 1000);
		break;
	case SIM_OP_LOOP:
		s->pc = 0;
		s->script_done = false;
		break;
	case SIM_OP_QUIT:
		sim_exit(s, SIM_EXIT_OK);
		break;
	}
}

static void run(struct sim *s)
{
	for (int i = 0; i < MAX_COMMANDS_PER_KICK; i++) {
		struct sim_cmd *c;

		if (s->exiting || !lifted(s))
			return;
		s->block = SIM_BLOCK_NONE;
		c = fetch(s);
		if (!c)
			return;
		exec(s, c);
	}
	/* a script without waits (e.g. only `loop`) must not starve the loop */
	block_on(s, SIM_BLOCK_TIMER, NULL);
	start_run_timer(s, 0.001);
}

void sim_run_kick(struct sim *s)
{
	if (!s->runner_started)
		return;
	if (s->kicking) {
		s->kick_again = true;
		return;
	}
	s->kicking = true;
	do {
		s->kick_again = false;
		run(s);
	} while (s->kick_again && !s->exiting);
	s->kicking = false;
}

void sim_run_on_connected(struct sim *s)
{
	s->runner_started = true;
	sim_run_kick(s);
}

void sim_run_on_disconnected(struct sim *s)
{
	sim_run_kick(s);
}

/* ---- stdin ---- */

static int take_line(struct sim *s, const char *line)
{
	struct sim_cmd c;
	char msg[256];
	int rc;

	s->input_lines++;
	rc = sim_script_parse_line(line, &c, msg, sizeof msg);
	if (rc == 0)
		return 0;
	if (rc == 1 && c.connector > s->opt.connectors) {
		snprintf(msg, sizeof msg, "connector %d does not exist",
			 c.connector);
		sim_cmd_finish(&c);
		rc = -EINVAL;
	}
	if (rc < 0) {
		fprintf(stderr, "stdin:%d: %s\n", s->input_lines, msg);
		sim_exit(s, SIM_EXIT_USAGE);
		return rc;
	}
	c.line = s->input_lines;
	c.from_stdin = true;
	if (s->input.n >= SIM_MAX_SCRIPT_LINES ||
	    sim_script_append(&s->input, &c) < 0) {
		sim_cmd_finish(&c);
		fprintf(stderr, "stdin:%d: too many pending commands\n",
			s->input_lines);
		sim_exit(s, SIM_EXIT_USAGE);
		return -ENOBUFS;
	}
	return 0;
}

/* splits complete lines off the buffer; with eof the rest is a line too */
static int take_lines(struct sim *s, bool eof)
{
	size_t start = 0;

	for (size_t i = 0; i < s->stdin_len; i++) {
		if (s->stdin_buf[i] != '\n')
			continue;
		s->stdin_buf[i] = '\0';
		if (take_line(s, s->stdin_buf + start) < 0)
			return -EINVAL;
		start = i + 1;
	}
	memmove(s->stdin_buf, s->stdin_buf + start, s->stdin_len - start);
	s->stdin_len -= start;
	if (eof && s->stdin_len) {
		s->stdin_buf[s->stdin_len] = '\0';
		s->stdin_len = 0;
		return take_line(s, s->stdin_buf);
	}
	if (s->stdin_len >= sizeof s->stdin_buf - 1) {
		fprintf(stderr, "stdin:%d: line too long\n", s->input_lines + 1);
		sim_exit(s, SIM_EXIT_USAGE);
		return -EINVAL;
	}
	return 0;
}

static void stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sim *s = h->data;

	(void)suggested;
	*buf = uv_buf_init(s->stdin_buf + s->stdin_len,
			   (unsigned)(sizeof s->stdin_buf - 1 - s->stdin_len));
}

static void stdin_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct sim *s = stream->data;

	(void)buf;
	if (s->exiting)
		return;
	if (n < 0) {
		uv_read_stop(stream);
		s->input_eof = true;
		take_lines(s, true);
	} else {
		s->stdin_len += (size_t)n;
		take_lines(s, false);
	}
	sim_run_kick(s);
}

static int read_stdin_file(struct sim *s)
{
	size_t total = 0;
	ssize_t n;

	do {
		n = read(0, s->stdin_buf + s->stdin_len,
			 sizeof s->stdin_buf - 1 - s->stdin_len);
		if (n < 0)
			return -errno;
		s->stdin_len += (size_t)n;
		total += (size_t)n;
		if (take_lines(s, n == 0) < 0)
			return -EINVAL;
	} while (n > 0 && total < MAX_STDIN_FILE);
	s->input_eof = true;
	return 0;
}

int sim_run_start_stdin(struct sim *s)
{
	int rc;

	switch (uv_guess_handle(0)) {
	case UV_TTY:
		rc = uv_tty_init(s->loop, &s->stdin_tty, 0, 1);
		if (rc < 0)
			return rc;
		s->stdin_stream = (uv_stream_t *)&s->stdin_tty;
		break;
	case UV_NAMED_PIPE:
		rc = uv_pipe_init(s->loop, &s->stdin_pipe, 0);
		if (rc < 0)
			return rc;
		s->stdin_stream = (uv_stream_t *)&s->stdin_pipe;
		rc = uv_pipe_open(&s->stdin_pipe, 0);
		if (rc < 0)
			return rc;
		break;
	case UV_FILE:
		return read_stdin_file(s);
	default:
		return UV_EINVAL;
	}
	s->stdin_stream->data = s;
	return uv_read_start(s->stdin_stream, stdin_alloc, stdin_read);
}

int sim_run_init(struct sim *s)
{
	uv_timer_init(s->loop, &s->run_timer);
	uv_timer_init(s->loop, &s->charge_timer);
	s->run_timer.data = s->charge_timer.data = s;
	return 0;
}

void sim_run_close_handles(struct sim *s)
{
	uv_close((uv_handle_t *)&s->run_timer, NULL);
	uv_close((uv_handle_t *)&s->charge_timer, NULL);
	if (s->stdin_stream && !uv_is_closing((uv_handle_t *)s->stdin_stream))
		uv_close((uv_handle_t *)s->stdin_stream, NULL);
	clear_steps(s);
	sim_script_finish(&s->input);
}
