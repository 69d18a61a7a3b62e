/* The simulated charge point: outgoing CALL queue (one in flight), answers to
 * the central system's CALLs from a sorted action table, and the connector
 * state those answers change. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ID_LEN 36
#define MAX_KEYS_REQUESTED 100

/* ---- helpers ---- */

void sim_cp_iso_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000L));
}

static json_t *now_json(void)
{
	char ts[40];

	sim_cp_iso_now(ts, sizeof ts);
	return json_string(ts);
}

static void fmt_number(char *out, size_t cap, double v)
{
	size_t n;

	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, cap, "%.0f", v);
		return;
	}
	snprintf(out, cap, "%.3f", v);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 1 && out[n - 1] == '.')
		out[--n] = '\0';
}

static bool valid_connector(const struct sim *s, int c, bool allow_zero)
{
	return c >= (allow_zero ? 0 : 1) && c <= s->opt.connectors;
}

struct sim_action_state *sim_cp_action(struct sim *s, const char *action)
{
	for (size_t i = 0; i < s->n_actions; i++)
		if (strcmp(s->actions[i].action, action) == 0)
			return &s->actions[i];
	if (s->n_actions == SIM_MAX_ACTIONS || strlen(action) >= 40)
		return NULL;
	struct sim_action_state *a = &s->actions[s->n_actions++];

	memset(a, 0, sizeof *a);
	snprintf(a->action, sizeof a->action, "%s", action);
	return a;
}

void sim_cp_set_answer(struct sim *s, const char *action, enum sim_answer ans)
{
	struct sim_action_state *a = sim_cp_action(s, action);

	if (a) {
		a->answer = ans;
		a->has_answer = true;
	}
}

/* ---- outgoing calls ---- */

static void call_free(struct sim_call *c)
{
	if (c) {
		json_decref(c->payload);
		free(c);
	}
}

static void call_timeout(uv_timer_t *t);

static void send_next(struct sim *s)
{
	struct sim_call *c = s->queue_head;
	json_t *frame;
	char *text;

	if (s->hold_sends || s->inflight || !s->connected || !c) {
		sim_cp_reset_check(s);
		return;
	}
	s->queue_head = c->next;
	if (!s->queue_head)
		s->queue_tail = NULL;
	s->queue_len--;
	c->next = NULL;
	snprintf(s->inflight_id, sizeof s->inflight_id, "%lu", ++s->next_call_id);
	frame = json_pack("[issO]", 2, s->inflight_id, c->action, c->payload);
	text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
	json_decref(frame);
	if (!text || sim_cp_send_text(s, text) < 0) {
		sim_log_event(s, "error", "could not send a CALL", NULL);
		free(text);
		call_free(c);
		return;
	}
	free(text);
	s->inflight = c;
	uv_timer_start(&s->call_timer, call_timeout, SIM_CALL_TIMEOUT_MS, 0);
}

static void push_call(struct sim *s, struct sim_call *c, bool front)
{
	if (front) {
		c->next = s->queue_head;
		s->queue_head = c;
		if (!s->queue_tail)
			s->queue_tail = c;
	} else {
		c->next = NULL;
		if (s->queue_tail)
			s->queue_tail->next = c;
		else
			s->queue_head = c;
		s->queue_tail = c;
	}
	s->queue_len++;
}

static int queue_call(struct sim *s, const char *action, json_t *payload,
		      int connector, bool front)
{
	struct sim_call *c;

	if (!payload)
		return -ENOMEM;
	if (s->queue_len >= SIM_MAX_QUEUE) {
		json_decref(payload);
		sim_log_event(s, "error", "call queue full, message dropped",
			      NULL);
		return -ENOBUFS;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		json_decref(payload);
		return -ENOMEM;
	}
	snprintf(c->action, sizeof c->action, "%s", action);
	c->payload = payload;
	c->connector = connector;
	push_call(s, c, front);
	send_next(s);
	return 0;
}

int sim_cp_queue_call_at(struct sim *s, const char *action, json_t *payload,
			 int connector, bool front)
{
	return queue_call(s, action, payload, connector, front);
}

int sim_cp_queue_call(struct sim *s, const char *action, json_t *payload,
		      int connector)
{
	return queue_call(s, action, payload, connector, false);
}

bool sim_cp_calls_idle(const struct sim *s)
{
	return !s->inflight && !s->queue_head;
}

static void finish_inflight(struct sim *s)
{
	uv_timer_stop(&s->call_timer);
	call_free(s->inflight);
	s->inflight = NULL;
	s->inflight_id[0] = '\0';
	send_next(s);
	sim_run_kick(s);
}

static void call_timeout(uv_timer_t *t)
{
	struct sim *s = t->data;
	char msg[96];

	if (!s->inflight)
		return;
	snprintf(msg, sizeof msg, "no answer to %s %s within %d s",
		 s->inflight->action, s->inflight_id, SIM_CALL_TIMEOUT_MS / 1000);
	sim_log_event(s, "error", msg, NULL);
	finish_inflight(s);
}

/* transaction messages survive a lost connection, like on real chargers */
static bool is_transaction_message(const char *action)
{
	return strcmp(action, "StartTransaction") == 0 ||
	       strcmp(action, "TransactionEvent") == 0 ||
	       strcmp(action, "StopTransaction") == 0 ||
	       strcmp(action, "MeterValues") == 0;
}

/* ---- messages the charge point sends ---- */

void sim_cp_set_status(struct sim *s, int c, const char *status,
		       const char *error_code, const char *info)
{
	struct sim_connector *k = &s->conn[c];
	json_t *p;

	if (s->v201) {
		sim_cp201_set_status(s, c, status);
		return;
	}
	snprintf(k->status, sizeof k->status, "%s", status);
	snprintf(k->error_code, sizeof k->error_code, "%s",
		 error_code ? error_code : "NoError");
	p = json_pack("{sissssso}", "connectorId", c, "status", k->status,
		      "errorCode", k->error_code, "timestamp", now_json());
	if (p && info)
		json_object_set_new(p, "info", json_string(info));
	sim_cp_queue_call(s, "StatusNotification", p, c);
}

static void send_status_of(struct sim *s, int c)
{
	struct sim_connector *k = &s->conn[c];
	char status[24], code[32];

	snprintf(status, sizeof status, "%s", k->status);
	snprintf(code, sizeof code, "%s", k->error_code);
	sim_cp_set_status(s, c, status, code, NULL);
}

static void queue_boot(struct sim *s, bool front)
{
	json_t *p;

	if (s->v201) {
		sim_cp201_boot(s, front);
		return;
	}
	p = json_pack("{ssssssss}", "chargePointVendor", s->opt.vendor,
			      "chargePointModel", s->opt.model,
			      "chargePointSerialNumber", s->opt.serial,
			      "firmwareVersion", s->opt.firmware);

	queue_call(s, "BootNotification", p, 0, front);
}

void sim_cp_boot(struct sim *s)
{
	queue_boot(s, false);
}

void sim_cp_heartbeat(struct sim *s)
{
	sim_cp_queue_call(s, "Heartbeat", json_object(), 0);
}

void sim_cp_authorize(struct sim *s, const char *tag)
{
	if (s->v201)
		sim_cp201_authorize(s, tag);
	else
		sim_cp_queue_call(s, "Authorize", json_pack("{ss}", "idTag", tag),
				  0);
}

void sim_cp_plug(struct sim *s, int c)
{
	sim_cp_set_status(s, c, "Preparing", NULL, NULL);
}

void sim_cp_start(struct sim *s, int c, const char *tag, double meter_wh)
{
	struct sim_connector *k = &s->conn[c];
	json_t *p;

	if (s->v201) {
		sim_cp201_start(s, c, tag, meter_wh);
		return;
	}
	k->energy_wh = meter_wh;
	k->tx_pending = true;
	snprintf(k->id_tag, sizeof k->id_tag, "%s", tag);
	p = json_pack("{sisssIso}", "connectorId", c, "idTag", tag,
		      "meterStart", (json_int_t)llround(meter_wh), "timestamp",
		      now_json());
	if (p && k->reserved) {
		json_object_set_new(p, "reservationId",
				    json_integer(k->reservation_id));
		k->reserved = false;
	}
	sim_cp_queue_call(s, "StartTransaction", p, c);
}

bool sim_cp_stop(struct sim *s, int c, double meter_wh, const char *reason,
		 const char *then_status)
{
	struct sim_connector *k = &s->conn[c];
	json_t *p;

	if (s->v201)
		return sim_cp201_stop(s, c, meter_wh, reason, then_status);
	if (!k->tx_running)
		return false;
	k->energy_wh = meter_wh;
	k->tx_running = false;
	p = json_pack("{sisIsossss}", "transactionId", k->tx_id, "meterStop",
		      (json_int_t)llround(meter_wh), "timestamp", now_json(),
		      "reason", reason, "idTag", k->id_tag);
	sim_cp_queue_call(s, "StopTransaction", p, c);
	if (then_status)
		sim_cp_set_status(s, c, then_status, NULL, NULL);
	return true;
}

void sim_cp_unplug(struct sim *s, int c)
{
	sim_cp_stop(s, c, s->conn[c].energy_wh, "EVDisconnected", NULL);
	sim_cp_set_status(s, c, "Available", NULL, NULL);
}

static json_t *sampled(double v, const char *measurand, const char *unit,
		       const char *phase, const char *context)
{
	char num[48];
	json_t *o;

	fmt_number(num, sizeof num, v);
	o = json_pack("{ssssssss}", "value", num, "context", context,
		      "measurand", measurand, "unit", unit, "location",
		      "Outlet");
	if (o && phase)
		json_object_set_new(o, "phase", json_string(phase));
	return o;
}

void sim_cp_meter(struct sim *s, int c, const struct sim_meter_args *m,
		  const char *context)
{
	static const char *const phases[] = { "L1", "L2", "L3" };
	struct sim_connector *k = &s->conn[c];
	json_t *values, *p;

	if (s->v201) {
		sim_cp201_meter(s, c, m, context);
		return;
	}
	values = json_array();
	if (!values)
		return;
	if (m->has & SIM_M_ENERGY)
		k->energy_wh = m->energy_wh;
	if ((m->has & SIM_M_ENERGY) || !(m->has & ~(unsigned)SIM_M_ENERGY))
		json_array_append_new(
			values,
			sampled(m->kwh ? k->energy_wh / 1000.0 : k->energy_wh,
				"Energy.Active.Import.Register",
				m->kwh ? "kWh" : "Wh", NULL, context));
	if (m->has & SIM_M_CURRENT)
		json_array_append_new(values, sampled(m->current, "Current.Import",
						      "A", NULL, context));
	for (int i = 0; i < 3; i++)
		if (m->has & (SIM_M_L1 << i))
			json_array_append_new(values,
					      sampled(m->phase[i], "Current.Import",
						      "A", phases[i], context));
	if (m->has & SIM_M_POWER)
		json_array_append_new(values,
				      sampled(m->power, "Power.Active.Import",
					      "W", NULL, context));
	if (m->has & SIM_M_VOLTAGE)
		json_array_append_new(values, sampled(m->voltage, "Voltage", "V",
						      NULL, context));
	p = json_pack("{si s[{soso}]}", "connectorId", c, "meterValue",
		      "timestamp", now_json(), "sampledValue", values);
	if (p && k->tx_running)
		json_object_set_new(p, "transactionId", json_integer(k->tx_id));
	sim_cp_queue_call(s, "MeterValues", p, c);
}

/* ---- answers to our calls ---- */

static void heartbeat_tick(uv_timer_t *t)
{
	struct sim *s = t->data;

	if (s->connected)
		sim_cp_heartbeat(s);
}

void sim_cp_restart_heartbeat(struct sim *s, long interval)
{
	uv_timer_stop(&s->heartbeat_timer);
	if (interval > 0)
		uv_timer_start(&s->heartbeat_timer, heartbeat_tick,
			       (uint64_t)interval * 1000,
			       (uint64_t)interval * 1000);
}

static struct sim_config_key *config_find(struct sim *s, const char *key)
{
	for (size_t i = 0; i < s->n_config; i++)
		if (strcmp(s->config[i].key, key) == 0)
			return &s->config[i];
	return NULL;
}

static void boot_retry(uv_timer_t *t)
{
	struct sim *s = t->data;

	if (s->connected && !s->booted)
		queue_boot(s, true);
}

void sim_cp_on_boot_conf(struct sim *s, struct sim_call *c, json_t *conf)
{
	const char *status = json_string_value(json_object_get(conf, "status"));
	json_int_t interval = json_integer_value(json_object_get(conf, "interval"));
	struct sim_config_key *hb = config_find(s, "HeartbeatInterval");

	(void)c;
	if (interval < 0 || interval > 86400)
		interval = 0;
	if (status && strcmp(status, "Accepted") == 0) {
		s->booted = true;
		if (hb)
			snprintf(hb->value, sizeof hb->value, "%ld", (long)interval);
		sim_cp_restart_heartbeat(s, (long)interval);
		for (int i = 1; i <= s->opt.connectors; i++)
			send_status_of(s, i);
		return;
	}
	uv_timer_start(&s->boot_retry_timer, boot_retry,
		       (uint64_t)(interval > 0 ? interval : 10) * 1000, 0);
}

static void on_start_conf(struct sim *s, struct sim_call *c, json_t *conf)
{
	struct sim_connector *k = &s->conn[c->connector];
	json_t *id = json_object_get(conf, "transactionId");
	const char *st = json_string_value(
		json_object_get(json_object_get(conf, "idTagInfo"), "status"));

	k->tx_pending = false;
	if (!json_is_integer(id)) {
		sim_log_event(s, "error", "StartTransaction.conf without id",
			      NULL);
		return;
	}
	k->tx_id = (int)json_integer_value(id);
	k->tx_running = true;
	if (st && strcmp(st, "Accepted") != 0)
		sim_log_event(s, "error", "idTag not accepted", NULL);
	sim_cp_set_status(s, c->connector, "Charging", NULL, NULL);
}

struct result_handler {
	const char *action;
	void (*fn)(struct sim *s, struct sim_call *c, json_t *conf);
};

static const struct result_handler result_handlers[] = {
	{ "BootNotification", sim_cp_on_boot_conf },
	{ "StartTransaction", on_start_conf },
};

static void handle_result(struct sim *s, json_t *frame, bool is_error)
{
	const char *id = json_string_value(json_array_get(frame, 1));

	if (!id || !s->inflight || strcmp(id, s->inflight_id) != 0) {
		sim_log_event(s, "error", "answer to an unknown call id", NULL);
		return;
	}
	if (!is_error) {
		json_t *conf = json_array_get(frame, 2);

		if (s->v201 && json_is_object(conf))
			sim_cp201_on_result(s, s->inflight, conf);
		for (size_t i = 0;
		     i < sizeof result_handlers / sizeof *result_handlers; i++)
			if (strcmp(result_handlers[i].action,
				   s->inflight->action) == 0 && json_is_object(conf))
				result_handlers[i].fn(s, s->inflight, conf);
	} else if (strcmp(s->inflight->action, "StartTransaction") == 0) {
		s->conn[s->inflight->connector].tx_pending = false;
	}
	finish_inflight(s);
}

/* ---- answers to the central system's calls ---- */

int sim_cp_formation(struct sim_reply *r, const char *desc)
{
	r->error_code = "FormationViolation";
	r->error_desc = desc;
	return -EINVAL;
}

int sim_cp_status_reply(struct sim_reply *r, const char *status)
{
	r->payload = json_pack("{ss}", "status", status);
	return r->payload ? 0 : -ENOMEM;
}

static bool get_int(const json_t *o, const char *key, long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = (long)json_integer_value(v);
	return true;
}

static const char *get_str(const json_t *o, const char *key, size_t max)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && strlen(v) <= max ? v : NULL;
}

static void after_remote_start(struct sim *s, struct sim_after *a)
{
	if (strcmp(s->conn[a->c].status, "Available") == 0)
		sim_cp_plug(s, a->c);
	sim_cp_start(s, a->c, a->text, s->conn[a->c].energy_wh);
}

static bool connector_free(const struct sim *s, int c)
{
	const struct sim_connector *k = &s->conn[c];

	return !k->tx_running && !k->tx_pending &&
	       (strcmp(k->status, "Available") == 0 ||
		strcmp(k->status, "Preparing") == 0 ||
		strcmp(k->status, "Finishing") == 0 ||
		strcmp(k->status, "Reserved") == 0);
}

static void store_profile(struct sim *s, int c, const json_t *profile);

static int h_remote_start(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *tag = get_str(req, "idTag", 20);
	long c = 0;

	if (!tag)
		return sim_cp_formation(r, "idTag missing");
	if (json_object_get(req, "connectorId") && !get_int(req, "connectorId", &c))
		return sim_cp_formation(r, "connectorId not an integer");
	if (c == 0) {
		for (int i = 1; i <= s->opt.connectors && !c; i++)
			if (connector_free(s, i))
				c = i;
	}
	if (!valid_connector(s, (int)c, false) || !connector_free(s, (int)c))
		return sim_cp_status_reply(r, "Rejected");
	if (json_is_object(json_object_get(req, "chargingProfile")))
		store_profile(s, (int)c, json_object_get(req, "chargingProfile"));
	r->after.fn = after_remote_start;
	r->after.c = (int)c;
	snprintf(r->after.text, sizeof r->after.text, "%s", tag);
	return sim_cp_status_reply(r, "Accepted");
}

static void after_remote_stop(struct sim *s, struct sim_after *a)
{
	sim_cp_stop(s, a->c, s->conn[a->c].energy_wh, "Remote", "Finishing");
}

static int h_remote_stop(struct sim *s, const json_t *req, struct sim_reply *r)
{
	long id;

	if (!get_int(req, "transactionId", &id))
		return sim_cp_formation(r, "transactionId missing");
	for (int i = 1; i <= s->opt.connectors; i++) {
		if (s->conn[i].tx_running && s->conn[i].tx_id == id) {
			r->after.fn = after_remote_stop;
			r->after.c = i;
			return sim_cp_status_reply(r, "Accepted");
		}
	}
	return sim_cp_status_reply(r, "Rejected");
}

static void after_availability(struct sim *s, struct sim_after *a)
{
	int from = a->c == 0 ? 1 : a->c, to = a->c == 0 ? s->opt.connectors : a->c;

	for (int i = from; i <= to; i++) {
		const char *st = a->n ? "Unavailable"
				      : (s->conn[i].tx_running ? "Charging"
							       : "Available");
		sim_cp_set_status(s, i, st, NULL, NULL);
	}
}

static int h_change_availability(struct sim *s, const json_t *req,
				 struct sim_reply *r)
{
	const char *type = get_str(req, "type", 20);
	long c;

	if (!get_int(req, "connectorId", &c) || !type ||
	    (strcmp(type, "Inoperative") != 0 && strcmp(type, "Operative") != 0))
		return sim_cp_formation(r, "connectorId or type missing");
	if (!valid_connector(s, (int)c, true))
		return sim_cp_status_reply(r, "Rejected");
	r->after.fn = after_availability;
	r->after.c = (int)c;
	r->after.n = strcmp(type, "Inoperative") == 0;
	return sim_cp_status_reply(r, "Accepted");
}

static int h_unlock(struct sim *s, const json_t *req, struct sim_reply *r)
{
	long c;

	if (!get_int(req, "connectorId", &c))
		return sim_cp_formation(r, "connectorId missing");
	return sim_cp_status_reply(r, valid_connector(s, (int)c, false) ? "Unlocked"
								 : "NotSupported");
}

static void after_reserve(struct sim *s, struct sim_after *a)
{
	sim_cp_set_status(s, a->c, "Reserved", NULL, NULL);
}

static int h_reserve_now(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *tag = get_str(req, "idTag", 20);
	long c, id;
	struct sim_connector *k;

	if (!get_int(req, "connectorId", &c) || !get_int(req, "reservationId", &id) ||
	    !tag || !json_is_string(json_object_get(req, "expiryDate")))
		return sim_cp_formation(r, "required field missing");
	if (c == 0)
		c = 1;
	if (!valid_connector(s, (int)c, false))
		return sim_cp_status_reply(r, "Rejected");
	k = &s->conn[c];
	if (k->tx_running || k->tx_pending)
		return sim_cp_status_reply(r, "Occupied");
	if (strcmp(k->status, "Faulted") == 0)
		return sim_cp_status_reply(r, "Faulted");
	if (strcmp(k->status, "Unavailable") == 0)
		return sim_cp_status_reply(r, "Unavailable");
	k->reserved = true;
	k->reservation_id = (int)id;
	r->after.fn = after_reserve;
	r->after.c = (int)c;
	return sim_cp_status_reply(r, "Accepted");
}

static void after_cancel_reservation(struct sim *s, struct sim_after *a)
{
	sim_cp_set_status(s, a->c, "Available", NULL, NULL);
}

static int h_cancel_reservation(struct sim *s, const json_t *req,
				struct sim_reply *r)
{
	long id;

	if (!get_int(req, "reservationId", &id))
		return sim_cp_formation(r, "reservationId missing");
	for (int i = 1; i <= s->opt.connectors; i++) {
		if (s->conn[i].reserved && s->conn[i].reservation_id == id) {
			s->conn[i].reserved = false;
			r->after.fn = after_cancel_reservation;
			r->after.c = i;
			return sim_cp_status_reply(r, "Accepted");
		}
	}
	return sim_cp_status_reply(r, "Rejected");
}

static void after_reset(struct sim *s, struct sim_after *a)
{
	for (int i = 1; i <= s->opt.connectors; i++) {
		sim_cp_stop(s, i, s->conn[i].energy_wh, a->text, NULL);
		s->conn[i].reserved = false;
		s->conn[i].tx_pending = false;
		s->conn[i].limit = -1;
		snprintf(s->conn[i].status, sizeof s->conn[i].status,
			 "Available");
		snprintf(s->conn[i].error_code, sizeof s->conn[i].error_code,
			 "NoError");
	}
	s->reset_pending = true;
	sim_cp_reset_check(s);
}

static int h_reset(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *type = get_str(req, "type", 10);

	(void)s;
	if (!type || (strcmp(type, "Soft") != 0 && strcmp(type, "Hard") != 0))
		return sim_cp_formation(r, "type must be Soft or Hard");
	r->after.fn = after_reset;
	snprintf(r->after.text, sizeof r->after.text, "%sReset", type);
	return sim_cp_status_reply(r, "Accepted");
}

static void store_profile(struct sim *s, int c, const json_t *profile)
{
	const json_t *sched = json_object_get(profile, "chargingSchedule");
	const char *unit =
		json_string_value(json_object_get(sched, "chargingRateUnit"));
	const json_t *period0 =
		json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);
	double limit = json_number_value(json_object_get(period0, "limit"));
	int from = c == 0 ? 1 : c, to = c == 0 ? s->opt.connectors : c;
	char detail[128];
	json_t *extra;

	if (!unit || (strcmp(unit, "A") != 0 && strcmp(unit, "W") != 0))
		unit = "A";
	for (int i = from; i <= to; i++) {
		s->conn[i].limit = limit;
		snprintf(s->conn[i].limit_unit, sizeof s->conn[i].limit_unit, "%s",
			 unit);
	}
	snprintf(detail, sizeof detail, "connector %d limit %g %s", c, limit,
		 unit);
	extra = json_pack("{sisfsssO*sO*}", "connectorId", c, "limit", limit,
			  "unit", unit, "purpose",
			  json_object_get(profile, "chargingProfilePurpose"),
			  "stackLevel", json_object_get(profile, "stackLevel"));
	sim_log_event(s, "charging-profile", detail, extra);
}

static int h_set_profile(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const json_t *profile = json_object_get(req, "csChargingProfiles");
	const json_t *periods = json_object_get(
		json_object_get(profile, "chargingSchedule"),
		"chargingSchedulePeriod");
	long c;

	if (!get_int(req, "connectorId", &c) || !json_is_object(profile) ||
	    !json_is_array(periods) || json_array_size(periods) == 0 ||
	    !json_is_number(json_object_get(json_array_get(periods, 0), "limit")))
		return sim_cp_formation(r, "connectorId or csChargingProfiles missing");
	if (!valid_connector(s, (int)c, true))
		return sim_cp_status_reply(r, "Rejected");
	store_profile(s, (int)c, profile);
	return sim_cp_status_reply(r, "Accepted");
}

static int h_clear_profile(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	long c = 0;

	if (json_object_get(req, "connectorId") && !get_int(req, "connectorId", &c))
		return sim_cp_formation(r, "connectorId not an integer");
	for (int i = 1; i <= s->opt.connectors; i++)
		if (c == 0 || c == i)
			s->conn[i].limit = -1;
	sim_log_event(s, "charging-profile", "cleared",
		      json_pack("{si}", "connectorId", (int)c));
	return sim_cp_status_reply(r, "Accepted");
}

static json_t *config_entry(const struct sim_config_key *k)
{
	return json_pack("{sssbss}", "key", k->key, "readonly", k->readonly,
			 "value", k->value);
}

static int h_get_configuration(struct sim *s, const json_t *req,
			       struct sim_reply *r)
{
	const json_t *keys = json_object_get(req, "key");
	json_t *known = json_array(), *unknown = json_array();
	size_t i;
	const json_t *k;

	if (!known || !unknown)
		goto nomem;
	if (keys && (!json_is_array(keys) ||
		     json_array_size(keys) > MAX_KEYS_REQUESTED)) {
		json_decref(known);
		json_decref(unknown);
		return sim_cp_formation(r, "key must be an array of at most 100");
	}
	if (!keys || json_array_size(keys) == 0) {
		for (i = 0; i < s->n_config; i++)
			json_array_append_new(known, config_entry(&s->config[i]));
	} else {
		json_array_foreach(keys, i, k) {
			const char *name = json_string_value(k);
			struct sim_config_key *ck = name ? config_find(s, name) : NULL;

			if (ck)
				json_array_append_new(known, config_entry(ck));
			else if (name && strlen(name) <= 50)
				json_array_append_new(unknown, json_string(name));
		}
	}
	r->payload = json_object();
	if (!r->payload)
		goto nomem;
	json_object_set_new(r->payload, "configurationKey", known);
	if (json_array_size(unknown))
		json_object_set_new(r->payload, "unknownKey", unknown);
	else
		json_decref(unknown);
	return 0;
nomem:
	json_decref(known);
	json_decref(unknown);
	return -ENOMEM;
}

static int h_change_configuration(struct sim *s, const json_t *req,
				  struct sim_reply *r)
{
	const char *key = get_str(req, "key", 50);
	const char *value = get_str(req, "value", 500);
	struct sim_config_key *k;

	if (!key || !value)
		return sim_cp_formation(r, "key and value required");
	/* Write-only (security whitepaper): not in the configuration list;
	 * a real charger takes it for its next connection */
	if (strcmp(key, "AuthorizationKey") == 0) {
		if (strlen(value) < 16 || strlen(value) > 40 ||
		    sim_ws_set_password(s->ws, value) != 0)
			return sim_cp_status_reply(r, "Rejected");
		sim_log_event(s, "authorization-key", "taken for the next connection",
			      NULL);
		return sim_cp_status_reply(r, "Accepted");
	}
	k = config_find(s, key);
	if (!k)
		return sim_cp_status_reply(r, "NotSupported");
	if (k->readonly || strlen(value) >= sizeof k->value)
		return sim_cp_status_reply(r, "Rejected");
	if (strcmp(key, "HeartbeatInterval") == 0 ||
	    strcmp(key, "MeterValueSampleInterval") == 0) {
		char *end;
		long v = strtol(value, &end, 10);

		if (end == value || *end || v < 0 || v > 86400)
			return sim_cp_status_reply(r, "Rejected");
		if (strcmp(key, "HeartbeatInterval") == 0)
			sim_cp_restart_heartbeat(s, v);
	}
	snprintf(k->value, sizeof k->value, "%s", value);
	return sim_cp_status_reply(r, "Accepted");
}

static void trigger_boot(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_boot(s);
}

static void trigger_heartbeat(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_heartbeat(s);
}

static void trigger_status(struct sim *s, struct sim_after *a)
{
	if (a->c > 0) {
		send_status_of(s, a->c);
		return;
	}
	for (int i = 1; i <= s->opt.connectors; i++)
		send_status_of(s, i);
}

static void trigger_meter(struct sim *s, struct sim_after *a)
{
	struct sim_meter_args m = { 0 };

	for (int i = 1; i <= s->opt.connectors; i++)
		if (a->c == 0 || a->c == i)
			sim_cp_meter(s, i, &m, "Trigger");
}

static void trigger_diagnostics(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_queue_call(s, "DiagnosticsStatusNotification",
			  json_pack("{ss}", "status", "Idle"), 0);
}

static void trigger_firmware(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_queue_call(s, "FirmwareStatusNotification",
			  json_pack("{ss}", "status", "Idle"), 0);
}

struct trigger {
	const char *message;
	void (*fn)(struct sim *s, struct sim_after *a);
};

static const struct trigger triggers[] = {
	{ "BootNotification", trigger_boot },
	{ "DiagnosticsStatusNotification", trigger_diagnostics },
	{ "FirmwareStatusNotification", trigger_firmware },
	{ "Heartbeat", trigger_heartbeat },
	{ "MeterValues", trigger_meter },
	{ "StatusNotification", trigger_status },
};

static int h_trigger(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *msg = get_str(req, "requestedMessage", 40);
	long c = 0;

	if (!msg)
		return sim_cp_formation(r, "requestedMessage missing");
	if (json_object_get(req, "connectorId") &&
	    (!get_int(req, "connectorId", &c) || !valid_connector(s, (int)c, true)))
		return sim_cp_status_reply(r, "Rejected");
	for (size_t i = 0; i < sizeof triggers / sizeof *triggers; i++) {
		if (strcmp(triggers[i].message, msg) == 0) {
			r->after.fn = triggers[i].fn;
			r->after.c = (int)c;
			return sim_cp_status_reply(r, "Accepted");
		}
	}
	return sim_cp_status_reply(r, "NotImplemented");
}

static int h_clear_cache(struct sim *s, const json_t *req, struct sim_reply *r)
{
	(void)s;
	(void)req;
	return sim_cp_status_reply(r, "Accepted");
}

static int h_data_transfer(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	(void)s;
	if (!get_str(req, "vendorId", 255))
		return sim_cp_formation(r, "vendorId missing");
	return sim_cp_status_reply(r, "UnknownVendorId");
}

/* sorted by action */
static const struct sim_call_handler call_handlers[] = {
	{ "CancelReservation", h_cancel_reservation, "Rejected" },
	{ "ChangeAvailability", h_change_availability, "Rejected" },
	{ "ChangeConfiguration", h_change_configuration, "Rejected" },
	{ "ClearCache", h_clear_cache, "Rejected" },
	{ "ClearChargingProfile", h_clear_profile, "Unknown" },
	{ "DataTransfer", h_data_transfer, "Rejected" },
	{ "GetConfiguration", h_get_configuration, NULL },
	{ "RemoteStartTransaction", h_remote_start, "Rejected" },
	{ "RemoteStopTransaction", h_remote_stop, "Rejected" },
	{ "ReserveNow", h_reserve_now, "Rejected" },
	{ "Reset", h_reset, "Rejected" },
	{ "SetChargingProfile", h_set_profile, "Rejected" },
	{ "TriggerMessage", h_trigger, "Rejected" },
	{ "UnlockConnector", h_unlock, "UnlockFailed" },
};

static int cmp_handler(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sim_call_handler *)elem)->action);
}

static void send_frame(struct sim *s, json_t *frame)
{
	char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;

	if (!text || sim_cp_send_text(s, text) < 0)
		sim_log_event(s, "error", "could not send an answer", NULL);
	free(text);
	json_decref(frame);
}

static void send_call_error(struct sim *s, const char *id, const char *code,
			    const char *desc)
{
	send_frame(s, json_pack("[isss{}]", 4, id, code, desc ? desc : ""));
}

static void reboot_required(json_t *o, const char *key)
{
	const char *st = json_string_value(json_object_get(o, key));

	if (st && strcmp(st, "Accepted") == 0)
		json_object_set_new(o, key, json_string("RebootRequired"));
}

/* `answer ACTION reboot`: the change is made, and the answer says it takes
 * effect after the next reboot (ChangeConfiguration, each variable of
 * SetVariables). */
static void as_reboot_required(json_t *payload)
{
	json_t *item;
	size_t i;

	reboot_required(payload, "status");
	json_array_foreach(json_object_get(payload, "setVariableResult"), i, item)
		reboot_required(item, "attributeStatus");
}

static void answer_call(struct sim *s, const char *id, const char *action,
			const json_t *req)
{
	const struct sim_call_handler *h =
		s->v201 ? sim_cp201_handler(action)
			: bsearch(action, call_handlers,
				  sizeof call_handlers / sizeof *call_handlers,
				  sizeof *call_handlers, cmp_handler);
	struct sim_action_state *st = sim_cp_action(s, action);
	enum sim_answer mode = st && st->has_answer ? st->answer
						    : SIM_ANSWER_ACCEPT;
	struct sim_reply r = { 0 };

	switch (mode) {
	case SIM_ANSWER_NONE:
		return;
	case SIM_ANSWER_ERROR:
		send_call_error(s, id, "InternalError", "simulated failure");
		return;
	case SIM_ANSWER_NOTSUPPORTED:
		send_call_error(s, id, "NotSupported", "not supported");
		return;
	case SIM_ANSWER_REJECT:
		if (!h || !h->negative) {
			send_call_error(s, id, h ? "GenericError" : "NotImplemented",
					"rejected");
			return;
		}
		send_frame(s, json_pack("[is{ss}]", 3, id, "status", h->negative));
		return;
	case SIM_ANSWER_ACCEPT:
	case SIM_ANSWER_REBOOT:
		break;
	}
	if (!h) {
		send_call_error(s, id, "NotImplemented", "");
		return;
	}
	if (!json_is_object(req)) {
		send_call_error(s, id, "FormationViolation",
				"payload is not an object");
		return;
	}
	if (h->fn(s, req, &r) < 0) {
		json_decref(r.payload);
		send_call_error(s, id, r.error_code ? r.error_code : "InternalError",
				r.error_desc);
		return;
	}
	if (mode == SIM_ANSWER_REBOOT)
		as_reboot_required(r.payload);
	send_frame(s, json_pack("[isO]", 3, id, r.payload));
	json_decref(r.payload);
	if (r.after.fn)
		r.after.fn(s, &r.after);
}

static void handle_call(struct sim *s, json_t *frame)
{
	const char *id = json_string_value(json_array_get(frame, 1));
	const char *action = json_string_value(json_array_get(frame, 2));
	struct sim_action_state *st;

	if (!id || strlen(id) > MAX_ID_LEN) {
		sim_log_event(s, "error", "CALL without a usable id", NULL);
		return;
	}
	if (!action || strlen(action) >= 40 || json_array_size(frame) != 4) {
		send_call_error(s, id, "FormationViolation", "bad CALL frame");
		return;
	}
	s->hold_sends = true;
	answer_call(s, id, action, json_array_get(frame, 3));
	s->hold_sends = false;
	st = sim_cp_action(s, action);
	if (st)
		st->received++;
	send_next(s);
	sim_run_kick(s);
}

void sim_cp_on_text(struct sim *s, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *frame;
	json_int_t type;

	frame = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(frame) || !json_is_integer(json_array_get(frame, 0))) {
		sim_log_event(s, "error", "frame is not an OCPP-J array", NULL);
		json_decref(frame);
		return;
	}
	type = json_integer_value(json_array_get(frame, 0));
	if (type == 2)
		handle_call(s, frame);
	else if (type == 3 || type == 4)
		handle_result(s, frame, type == 4);
	else
		sim_log_event(s, "error", "unknown message type", NULL);
	json_decref(frame);
}

/* ---- connection life cycle ---- */

void sim_cp_reset_check(struct sim *s)
{
	if (!s->reset_pending || !s->connected || s->inflight || s->queue_head)
		return;
	sim_log_event(s, "reset", "rebooting", NULL);
	sim_ws_close(s->ws, 1000);
}

void sim_cp_on_open(struct sim *s)
{
	s->booted = false;
	if (!s->opt.no_boot || s->boot_after_connect)
		queue_boot(s, true);
	s->boot_after_connect = false;
	send_next(s);
}

void sim_cp_on_closed(struct sim *s)
{
	struct sim_call *c = s->inflight;

	uv_timer_stop(&s->call_timer);
	uv_timer_stop(&s->heartbeat_timer);
	uv_timer_stop(&s->boot_retry_timer);
	s->inflight = NULL;
	if (c && is_transaction_message(c->action))
		push_call(s, c, true);
	else
		call_free(c);
	/* a pending boot is re-sent on the next connect anyway */
	for (struct sim_call **pp = &s->queue_head; *pp;) {
		struct sim_call *q = *pp;

		if (strcmp(q->action, "BootNotification") == 0) {
			*pp = q->next;
			s->queue_len--;
			call_free(q);
			continue;
		}
		pp = &q->next;
	}
	s->queue_tail = NULL;
	for (struct sim_call *q = s->queue_head; q; q = q->next)
		s->queue_tail = q;
	if (s->reset_pending) {
		s->reset_pending = false;
		s->boot_after_connect = true;
	}
}

int sim_cp_send_text(struct sim *s, const char *text)
{
	int rc = sim_ws_send_text(s->ws, text, strlen(text));

	if (rc == 0)
		sim_log_frame(s, "out", text);
	return rc;
}

void sim_cp_init(struct sim *s)
{
	static const struct {
		const char *key;
		const char *value;
		bool readonly;
	} defaults[] = {
		{ "NumberOfConnectors", NULL, true },
		{ "SupportedFeatureProfiles",
		  "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
		  "SmartCharging,RemoteTrigger",
		  true },
		{ "ChargeProfileMaxStackLevel", "8", true },
		{ "ChargingScheduleAllowedChargingRateUnit", "Current", true },
		{ "MeterValuesSampledData",
		  "Energy.Active.Import.Register,Current.Import,Power.Active.Import",
		  false },
		{ "MeterValueSampleInterval", "60", false },
		{ "HeartbeatInterval", "0", false },
		{ "AuthorizeRemoteTxRequests", "false", false },
	};
	size_t n = sizeof defaults / sizeof *defaults;

	for (int i = 0; i <= SIM_MAX_CONNECTORS; i++) {
		snprintf(s->conn[i].status, sizeof s->conn[i].status, "Available");
		snprintf(s->conn[i].error_code, sizeof s->conn[i].error_code,
			 "NoError");
		s->conn[i].limit = -1;
	}
	for (size_t i = 0; i < n && i < sizeof s->config / sizeof *s->config;
	     i++) {
		s->config[i].key = defaults[i].key;
		s->config[i].readonly = defaults[i].readonly;
		if (defaults[i].value)
			snprintf(s->config[i].value, sizeof s->config[i].value,
				 "%s", defaults[i].value);
		else
			snprintf(s->config[i].value, sizeof s->config[i].value,
				 "%d", s->opt.connectors);
		s->n_config = i + 1;
	}
	sim_cp201_init(s);
	uv_timer_init(s->loop, &s->call_timer);
	uv_timer_init(s->loop, &s->heartbeat_timer);
	uv_timer_init(s->loop, &s->boot_retry_timer);
	s->call_timer.data = s->heartbeat_timer.data = s;
	s->boot_retry_timer.data = s;
}

void sim_cp_finish(struct sim *s)
{
	struct sim_call *c = s->queue_head;

	while (c) {
		struct sim_call *next = c->next;

		call_free(c);
		c = next;
	}
	s->queue_head = s->queue_tail = NULL;
	s->queue_len = 0;
	call_free(s->inflight);
	s->inflight = NULL;
	uv_close((uv_handle_t *)&s->call_timer, NULL);
	uv_close((uv_handle_t *)&s->heartbeat_timer, NULL);
	uv_close((uv_handle_t *)&s->boot_retry_timer, NULL);
}
