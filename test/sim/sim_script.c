/* Scenario script parser: one command per line, checked completely before
 * anything runs so a typo fails fast with FILE:LINE. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16
#define MAX_TEXT 255

static const char *const cp_statuses[] = {
	"Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV",
	"Finishing", "Reserved", "Unavailable", "Faulted", NULL,
};

static const char *const error_codes[] = {
	"ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
	"HighTemperature", "InternalError", "LocalListConflict", "NoError",
	"OtherError", "OverCurrentFailure", "PowerMeterFailure",
	"PowerSwitchFailure", "ReaderFailure", "ResetFailure",
	"UnderVoltage", "OverVoltage", "WeakSignal", NULL,
};

static const char *const stop_reasons[] = {
	"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
	"PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand",
	"DeAuthorized", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

bool sim_is_charge_point_status(const char *s)
{
	return in_list(cp_statuses, s);
}

bool sim_is_error_code(const char *s)
{
	return in_list(error_codes, s);
}

bool sim_is_stop_reason(const char *s)
{
	return in_list(stop_reasons, s);
}

struct parse {
	char *tok[MAX_TOKENS];
	int n;
	const char *rest; /* text after the first word, for `send` */
	struct sim_cmd *cmd;
	char *err;
	size_t err_cap;
};

static int fail(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->err_cap, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_number(struct parse *p, const char *s, const char *what,
			double lo, double hi, double *out)
{
	char *end;
	double v = 0;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return fail(p, "bad %s '%s'", what, s);
	*out = v;
	return 0;
}

static int parse_connector(struct parse *p, const char *s)
{
	double v = 0;

	if (parse_number(p, s, "connector", 0, SIM_MAX_CONNECTORS, &v) < 0)
		return -EINVAL;
	if (v != floor(v))
		return fail(p, "bad connector '%s'", s);
	p->cmd->connector = (int)v;
	return 0;
}

static int set_text(struct parse *p, char **dst, const char *s, size_t max)
{
	if (strlen(s) > max)
		return fail(p, "'%.20s...' is longer than %zu characters", s, max);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int p_none(struct parse *p)
{
	(void)p;
	return 0;
}

static int p_tag(struct parse *p)
{
	return set_text(p, &p->cmd->s1, p->tok[1], 20);
}

static int p_connector_only(struct parse *p)
{
	return parse_connector(p, p->tok[1]);
}

static int p_status(struct parse *p)
{
	if (parse_connector(p, p->tok[1]) < 0)
		return -EINVAL;
	if (!sim_is_charge_point_status(p->tok[2]))
		return fail(p, "unknown status '%s'", p->tok[2]);
	if (p->n > 3 && !sim_is_error_code(p->tok[3]))
		return fail(p, "unknown error code '%s'", p->tok[3]);
	if (set_text(p, &p->cmd->s1, p->tok[2], 30) < 0 ||
	    (p->n > 3 && set_text(p, &p->cmd->s2, p->tok[3], 30) < 0) ||
	    (p->n > 4 && set_text(p, &p->cmd->s3, p->tok[4], 50) < 0))
		return -EINVAL;
	return 0;
}

static int p_start(struct parse *p)
{
	if (parse_connector(p, p->tok[1]) < 0 ||
	    set_text(p, &p->cmd->s1, p->tok[2], 20) < 0 ||
	    parse_number(p, p->tok[3], "meter value", 0, 1e12, &p->cmd->num) < 0)
		return -EINVAL;
	p->cmd->has_num = true;
	return 0;
}

struct meter_key {
	const char *key;
	unsigned bit;
	size_t offset;
};

static const struct meter_key meter_keys[] = {
	{ "current", SIM_M_CURRENT, offsetof(struct sim_meter_args, current) },
	{ "current.L1", SIM_M_L1, offsetof(struct sim_meter_args, phase) },
	{ "current.L2", SIM_M_L2,
	  offsetof(struct sim_meter_args, phase) + sizeof(double) },
	{ "current.L3", SIM_M_L3,
	  offsetof(struct sim_meter_args, phase) + 2 * sizeof(double) },
	{ "energy", SIM_M_ENERGY, offsetof(struct sim_meter_args, energy_wh) },
	{ "power", SIM_M_POWER, offsetof(struct sim_meter_args, power) },
	{ "voltage", SIM_M_VOLTAGE, offsetof(struct sim_meter_args, voltage) },
};

static int p_meter(struct parse *p)
{
	struct sim_meter_args *m = &p->cmd->meter;

	if (parse_connector(p, p->tok[1]) < 0)
		return -EINVAL;
	for (int i = 2; i < p->n; i++) {
		char *eq = strchr(p->tok[i], '=');
		const struct meter_key *k = NULL;
		double v = 0;

		if (!eq)
			return fail(p, "expected key=value, got '%s'", p->tok[i]);
		*eq = '\0';
		if (strcmp(p->tok[i], "unit.energy") == 0) {
			if (strcmp(eq + 1, "kWh") == 0)
				m->kwh = true;
			else if (strcmp(eq + 1, "Wh") == 0)
				m->kwh = false;
			else
				return fail(p, "unit.energy must be Wh or kWh");
			continue;
		}
		for (size_t j = 0; j < sizeof meter_keys / sizeof *meter_keys; j++)
			if (strcmp(meter_keys[j].key, p->tok[i]) == 0)
				k = &meter_keys[j];
		if (!k)
			return fail(p, "unknown meter key '%s'", p->tok[i]);
		if (parse_number(p, eq + 1, k->key, -1e12, 1e12, &v) < 0)
			return -EINVAL;
		memcpy((char *)m + k->offset, &v, sizeof v);
		m->has |= k->bit;
	}
	return 0;
}

static int p_stop(struct parse *p)
{
	if (parse_connector(p, p->tok[1]) < 0 ||
	    parse_number(p, p->tok[2], "meter value", 0, 1e12, &p->cmd->num) < 0)
		return -EINVAL;
	p->cmd->has_num = true;
	if (p->n > 3 && !sim_is_stop_reason(p->tok[3]))
		return fail(p, "unknown stop reason '%s'", p->tok[3]);
	return set_text(p, &p->cmd->s2, p->n > 3 ? p->tok[3] : "Local", 20);
}

static int p_fault(struct parse *p)
{
	if (parse_connector(p, p->tok[1]) < 0)
		return -EINVAL;
	if (!sim_is_error_code(p->tok[2]))
		return fail(p, "unknown error code '%s'", p->tok[2]);
	return set_text(p, &p->cmd->s2, p->tok[2], 30);
}

static int p_send(struct parse *p)
{
	if (!p->rest || !*p->rest)
		return fail(p, "send needs text");
	return set_text(p, &p->cmd->s1, p->rest, SIM_MAX_LINE);
}

static int p_seconds(struct parse *p)
{
	if (parse_number(p, p->tok[1], "seconds", 0, 1e7, &p->cmd->num) < 0)
		return -EINVAL;
	p->cmd->has_num = true;
	return 0;
}

static int p_action_name(struct parse *p, const char *s)
{
	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
			return fail(p, "bad action name '%s'", s);
	return set_text(p, &p->cmd->s1, s, 39);
}

static int p_expect(struct parse *p)
{
	if (p_action_name(p, p->tok[1]) < 0)
		return -EINVAL;
	p->cmd->num = 30;
	if (p->n > 2 &&
	    parse_number(p, p->tok[2], "timeout", 0, 1e7, &p->cmd->num) < 0)
		return -EINVAL;
	return 0;
}

static int p_expect_close(struct parse *p)
{
	p->cmd->num = 30;
	if (p->n > 1 &&
	    parse_number(p, p->tok[1], "timeout", 0, 1e7, &p->cmd->num) < 0)
		return -EINVAL;
	return 0;
}

static const char *const answer_names[] = {
	[SIM_ANSWER_ACCEPT] = "accept",
	[SIM_ANSWER_REJECT] = "reject",
	[SIM_ANSWER_NOTSUPPORTED] = "notsupported",
	[SIM_ANSWER_NONE] = "none",
	[SIM_ANSWER_ERROR] = "error",
	[SIM_ANSWER_REBOOT] = "reboot",
};

static int p_answer(struct parse *p)
{
	if (p_action_name(p, p->tok[1]) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof answer_names / sizeof *answer_names; i++) {
		if (strcmp(answer_names[i], p->tok[2]) == 0) {
			p->cmd->answer = (enum sim_answer)i;
			return 0;
		}
	}
	return fail(p, "answer must be accept|reject|notsupported|none|error|"
		       "reboot");
}

static int p_charge(struct parse *p)
{
	if (parse_connector(p, p->tok[1]) < 0 ||
	    set_text(p, &p->cmd->s1, p->tok[2], 20) < 0 ||
	    parse_number(p, p->tok[3], "seconds", 0, 1e7, &p->cmd->num) < 0)
		return -EINVAL;
	p->cmd->num2 = 16;
	if (p->n > 4 &&
	    parse_number(p, p->tok[4], "current", 0, 1000, &p->cmd->num2) < 0)
		return -EINVAL;
	return 0;
}

struct command_def {
	const char *name;
	enum sim_op op;
	int min_args, max_args;
	bool needs_connector; /* connector must be >= 1 */
	int (*parse)(struct parse *p);
	const char *usage;
};

/* sorted by name */
static const struct command_def commands[] = {
	{ "answer", SIM_OP_ANSWER, 2, 2, false, p_answer,
	  "answer ACTION accept|reject|notsupported|none|error|reboot" },
	{ "authorize", SIM_OP_AUTHORIZE, 1, 1, false, p_tag, "authorize TAG" },
	{ "boot", SIM_OP_BOOT, 0, 0, false, p_none, "boot" },
	{ "charge", SIM_OP_CHARGE, 3, 4, true, p_charge,
	  "charge C TAG SECONDS [AMPS]" },
	{ "connect", SIM_OP_CONNECT, 0, 0, false, p_none, "connect" },
	{ "disconnect", SIM_OP_DISCONNECT, 0, 0, false, p_none, "disconnect" },
	{ "drop", SIM_OP_DROP, 0, 0, false, p_none, "drop" },
	{ "expect", SIM_OP_EXPECT, 1, 2, false, p_expect,
	  "expect ACTION [TIMEOUT_S]" },
	{ "expect-close", SIM_OP_EXPECT_CLOSE, 0, 1, false, p_expect_close,
	  "expect-close [TIMEOUT_S]" },
	{ "fault", SIM_OP_FAULT, 2, 2, true, p_fault, "fault C ERRORCODE" },
	{ "heartbeat", SIM_OP_HEARTBEAT, 0, 0, false, p_none, "heartbeat" },
	{ "loop", SIM_OP_LOOP, 0, 0, false, p_none, "loop" },
	{ "meter", SIM_OP_METER, 1, 8, true, p_meter,
	  "meter C [energy=WH] [current=A] [power=W] ..." },
	{ "offline", SIM_OP_OFFLINE, 0, 0, false, p_none, "offline" },
	{ "plug", SIM_OP_PLUG, 1, 1, true, p_connector_only, "plug C" },
	{ "quit", SIM_OP_QUIT, 0, 0, false, p_none, "quit" },
	{ "reconnect", SIM_OP_RECONNECT, 0, 0, false, p_none, "reconnect" },
	{ "send", SIM_OP_SEND, 0, MAX_TOKENS, false, p_send, "send TEXT" },
	{ "start", SIM_OP_START, 3, 3, true, p_start, "start C TAG METER_WH" },
	{ "status", SIM_OP_STATUS, 2, 4, false, p_status,
	  "status C STATUS [ERRORCODE [INFO]]" },
	{ "stop", SIM_OP_STOP, 2, 3, true, p_stop, "stop C METER_WH [REASON]" },
	{ "unplug", SIM_OP_UNPLUG, 1, 1, true, p_connector_only, "unplug C" },
	{ "wait", SIM_OP_WAIT, 1, 1, false, p_seconds, "wait SECONDS" },
};

static int cmp_def(const void *key, const void *elem)
{
	return strcmp(key, ((const struct command_def *)elem)->name);
}

void sim_cmd_finish(struct sim_cmd *c)
{
	if (!c)
		return;
	free(c->s1);
	free(c->s2);
	free(c->s3);
	c->s1 = c->s2 = c->s3 = NULL;
}

int sim_script_parse_line(const char *line, struct sim_cmd *out, char *err,
			  size_t err_cap)
{
	char buf[SIM_MAX_LINE + 1];
	struct parse p = { .cmd = out, .err = err, .err_cap = err_cap };
	const struct command_def *def;
	size_t len = strlen(line);
	char *s, *save = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > SIM_MAX_LINE)
		return fail(&p, "line longer than %d characters", SIM_MAX_LINE);
	memcpy(buf, line, len + 1);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	s = buf + strspn(buf, " \t");
	if (strncmp(s, "send", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
		/* the raw text keeps '#' and inner spaces; only the line end goes */
		s[4] = '\0';
		buf[len] = '\0';
		p.rest = s + 5;
		p.tok[p.n++] = s;
	} else {
		char *hash = strchr(s, '#');

		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(s, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			if (p.n == MAX_TOKENS)
				return fail(&p, "too many words");
			p.tok[p.n++] = t;
		}
		if (p.n == 0)
			return 0;
	}
	def = bsearch(p.tok[0], commands, sizeof commands / sizeof *commands,
		      sizeof *commands, cmp_def);
	if (!def)
		return fail(&p, "unknown command '%s'", p.tok[0]);
	if (def->op != SIM_OP_SEND &&
	    (p.n - 1 < def->min_args || p.n - 1 > def->max_args))
		return fail(&p, "usage: %s", def->usage);
	out->op = def->op;
	rc = def->parse(&p);
	if (rc == 0 && def->needs_connector && out->connector < 1)
		rc = fail(&p, "connector must be 1 or more");
	if (rc < 0) {
		sim_cmd_finish(out);
		return rc;
	}
	return 1;
}

int sim_script_append(struct sim_script *s, struct sim_cmd *c)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sim_cmd *n = realloc(s->cmds, cap * sizeof *n);

		if (!n)
			return -ENOMEM;
		s->cmds = n;
		s->cap = cap;
	}
	s->cmds[s->n++] = *c;
	memset(c, 0, sizeof *c);
	return 0;
}

int sim_script_load(struct sim_script *s, const char *path, char *err,
		    size_t err_cap)
{
	char line[SIM_MAX_LINE + 2], msg[256];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, err_cap, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof line, f)) {
		struct sim_cmd c;

		lineno++;
		if (lineno > SIM_MAX_SCRIPT_LINES) {
			snprintf(err, err_cap, "%s:%d: script too long", path,
				 lineno);
			rc = -E2BIG;
			goto out;
		}
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, err_cap, "%s:%d: line too long", path,
				 lineno);
			rc = -EINVAL;
			goto out;
		}
		rc = sim_script_parse_line(line, &c, msg, sizeof msg);
		if (rc < 0) {
			snprintf(err, err_cap, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
		if (rc == 0)
			continue;
		c.line = lineno;
		rc = sim_script_append(s, &c);
		if (rc < 0) {
			sim_cmd_finish(&c);
			snprintf(err, err_cap, "%s:%d: out of memory", path,
				 lineno);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

void sim_script_finish(struct sim_script *s)
{
	for (size_t i = 0; i < s->n; i++)
		sim_cmd_finish(&s->cmds[i]);
	free(s->cmds);
	memset(s, 0, sizeof *s);
}
