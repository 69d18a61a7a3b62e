/* OCPP 2.0.1 messages of the simulated charging station. The queue, the
 * connection and the script stay those of the 1.6 mode; each 1.6 connector
 * is an EVSE with one connector (connectorId 1), and the connector state is
 * kept in 1.6 terms so both modes share the runner and its checks. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ID_TOKEN_TYPE "ISO14443"

/* ---- helpers ---- */

static json_t *now_json(void)
{
	char ts[40];

	sim_cp_iso_now(ts, sizeof ts);
	return json_string(ts);
}

static bool valid_evse(const struct sim *s, long e)
{
	return e >= 1 && e <= s->opt.connectors;
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool int_of(const json_t *o, const char *key, long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = (long)json_integer_value(v);
	return true;
}

/* 1.6 ChargePointStatus -> 2.0.1 ConnectorStatusEnumType */
static const char *connector_status(const char *st16)
{
	static const char *const occupied[] = {
		"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
		"Finishing",
	};

	for (size_t i = 0; i < sizeof occupied / sizeof *occupied; i++)
		if (strcmp(st16, occupied[i]) == 0)
			return "Occupied";
	if (strcmp(st16, "Reserved") == 0 || strcmp(st16, "Unavailable") == 0 ||
	    strcmp(st16, "Faulted") == 0)
		return st16;
	return "Available";
}

static json_t *evse_obj(int c)
{
	return json_pack("{sisi}", "id", c, "connectorId", 1);
}

/* ---- messages the station sends ---- */

static void send_status(struct sim *s, int c)
{
	json_t *p = json_pack("{sosssisi}", "timestamp", now_json(),
			      "connectorStatus",
			      connector_status(s->conn[c].status), "evseId", c,
			      "connectorId", 1);

	sim_cp_queue_call(s, "StatusNotification", p, c);
}

void sim_cp201_set_status(struct sim *s, int c, const char *status)
{
	struct sim_connector *k = &s->conn[c];

	if (c == 0) {
		/* 2.0.1 has no station-wide connector: every EVSE reports */
		for (int i = 1; i <= s->opt.connectors; i++)
			sim_cp201_set_status(s, i, status);
		return;
	}
	snprintf(k->status, sizeof k->status, "%s", status);
	send_status(s, c);
}

/* status changes inside a transaction: a StatusNotification only when the
 * 2.0.1 connector status changes (Preparing .. Finishing are all Occupied) */
static void move_status(struct sim *s, int c, const char *status)
{
	struct sim_connector *k = &s->conn[c];
	bool same = strcmp(connector_status(k->status),
			   connector_status(status)) == 0;

	snprintf(k->status, sizeof k->status, "%s", status);
	if (!same)
		send_status(s, c);
}

void sim_cp201_boot(struct sim *s, bool front)
{
	json_t *p = json_pack("{sss{ssssssss}}", "reason", "PowerUp",
			      "chargingStation", "model", s->opt.model,
			      "vendorName", s->opt.vendor, "serialNumber",
			      s->opt.serial, "firmwareVersion", s->opt.firmware);

	sim_cp_queue_call_at(s, "BootNotification", p, 0, front);
}

static json_t *id_token(const char *tag)
{
	return json_pack("{ssss}", "idToken", tag, "type", ID_TOKEN_TYPE);
}

void sim_cp201_authorize(struct sim *s, const char *tag)
{
	sim_cp_queue_call(s, "Authorize", json_pack("{so}", "idToken",
						    id_token(tag)), 0);
}

static json_t *sampled(double v, const char *measurand, const char *unit,
		       const char *phase, const char *context)
{
	json_t *o = json_pack("{sfsssssss{ss}}", "value", v, "context", context,
			      "measurand", measurand, "location", "Outlet",
			      "unitOfMeasure", "unit", unit);

	if (o && phase)
		json_object_set_new(o, "phase", json_string(phase));
	return o;
}

static json_t *meter_value(json_t *values)
{
	return json_pack("[{soso}]", "timestamp", now_json(), "sampledValue",
			 values);
}

static json_t *energy_value(const struct sim_connector *k, const char *context)
{
	return meter_value(json_pack("[o]", sampled(k->energy_wh,
						    "Energy.Active.Import.Register",
						    "Wh", NULL, context)));
}

/* a transaction id of the station's own: UUID-shaped, unique per run */
static void new_tx_id(struct sim *s, int c, char *out, size_t cap)
{
	static unsigned long counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	counter++;
	snprintf(out, cap, "%08lx-%04x-4%03x-8%03x-%012lx",
		 (unsigned long)ts.tv_sec & 0xffffffffUL,
		 (unsigned)(ts.tv_nsec >> 16) & 0xffffu, (unsigned)c & 0xfffu,
		 (unsigned)getpid() & 0xfffu,
		 (counter + s->next_call_id) & 0xffffffffffffUL);
}

static json_t *tx_event(struct sim *s, int c, const char *type,
			const char *trigger)
{
	struct sim_connector *k = &s->conn[c];
	json_t *p = json_pack("{sssosssis{ss}so}", "eventType", type,
			      "timestamp", now_json(), "triggerReason", trigger,
			      "seqNo", k->seq_no++, "transactionInfo",
			      "transactionId", k->tx_id201, "evse",
			      evse_obj(c));

	/* stored while the connection is down, sent after the reconnect */
	if (p && !s->connected)
		json_object_set_new(p, "offline", json_true());
	return p;
}

static void tx_info_set(json_t *p, const char *key, json_t *v)
{
	json_object_set_new(json_object_get(p, "transactionInfo"), key, v);
}

void sim_cp201_start(struct sim *s, int c, const char *tag, double meter_wh)
{
	struct sim_connector *k = &s->conn[c];
	json_t *p;

	k->energy_wh = meter_wh;
	k->seq_no = 0;
	k->tx_running = true;
	k->tx_pending = false;
	snprintf(k->id_tag, sizeof k->id_tag, "%s", tag);
	new_tx_id(s, c, k->tx_id201, sizeof k->tx_id201);
	p = tx_event(s, c, "Started",
		     k->has_remote_start ? "RemoteStart" : "Authorized");
	if (!p)
		return;
	tx_info_set(p, "chargingState", json_string("Charging"));
	if (k->has_remote_start)
		tx_info_set(p, "remoteStartId", json_integer(k->remote_start_id));
	json_object_set_new(p, "idToken", id_token(tag));
	json_object_set_new(p, "meterValue",
			    energy_value(k, "Transaction.Begin"));
	if (k->reserved) {
		json_object_set_new(p, "reservationId",
				    json_integer(k->reservation_id));
		k->reserved = false;
	}
	sim_cp_queue_call(s, "TransactionEvent", p, c);
	move_status(s, c, "Charging");
}

struct reason_map {
	const char *reason16, *stopped, *trigger;
};

/* the script's 1.6 reasons -> stoppedReason, triggerReason */
static const struct reason_map reasons[] = {
	{ "DeAuthorized", "DeAuthorized", "Deauthorized" },
	{ "EVDisconnected", "EVDisconnected", "EVCommunicationLost" },
	{ "EmergencyStop", "EmergencyStop", "AbnormalCondition" },
	{ "HardReset", "ImmediateReset", "ResetCommand" },
	{ "Local", "Local", "StopAuthorized" },
	{ "Other", "Other", "AbnormalCondition" },
	{ "PowerLoss", "PowerLoss", "AbnormalCondition" },
	{ "Reboot", "Reboot", "ResetCommand" },
	{ "Remote", "Remote", "RemoteStop" },
	{ "SoftReset", "ImmediateReset", "ResetCommand" },
	{ "UnlockCommand", "Other", "UnlockCommand" },
};

static const struct reason_map *reason_of(const char *reason16)
{
	for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
		if (strcmp(reasons[i].reason16, reason16) == 0)
			return &reasons[i];
	return &reasons[5];
}

static void reset_now(struct sim *s);

static bool any_tx(const struct sim *s)
{
	for (int i = 1; i <= s->opt.connectors; i++)
		if (s->conn[i].tx_running)
			return true;
	return false;
}

bool sim_cp201_stop(struct sim *s, int c, double meter_wh, const char *reason,
		    const char *then_status)
{
	struct sim_connector *k = &s->conn[c];
	const struct reason_map *m = reason_of(reason);
	json_t *p;

	if (!k->tx_running)
		return false;
	k->energy_wh = meter_wh;
	k->tx_running = false;
	k->has_remote_start = false;
	p = tx_event(s, c, "Ended", m->trigger);
	if (p) {
		tx_info_set(p, "stoppedReason", json_string(m->stopped));
		tx_info_set(p, "chargingState",
			    json_string(then_status ? "EVConnected" : "Idle"));
		json_object_set_new(p, "meterValue",
				    energy_value(k, "Transaction.End"));
	}
	sim_cp_queue_call(s, "TransactionEvent", p, c);
	if (then_status)
		move_status(s, c, then_status);
	if (s->reset_on_idle && !any_tx(s))
		reset_now(s);
	return true;
}

static json_t *meter_values(const struct sim_connector *k,
			    const struct sim_meter_args *m, const char *context)
{
	static const char *const phases[] = { "L1", "L2", "L3" };
	json_t *v = json_array();

	if (!v)
		return NULL;
	if ((m->has & SIM_M_ENERGY) || !(m->has & ~(unsigned)SIM_M_ENERGY))
		json_array_append_new(v, sampled(m->kwh ? k->energy_wh / 1000.0
							: k->energy_wh,
						 "Energy.Active.Import.Register",
						 m->kwh ? "kWh" : "Wh", NULL,
						 context));
	if (m->has & SIM_M_CURRENT)
		json_array_append_new(v, sampled(m->current, "Current.Import",
						 "A", NULL, context));
	for (int i = 0; i < 3; i++)
		if (m->has & (SIM_M_L1 << i))
			json_array_append_new(v, sampled(m->phase[i],
							 "Current.Import", "A",
							 phases[i], context));
	if (m->has & SIM_M_POWER)
		json_array_append_new(v, sampled(m->power, "Power.Active.Import",
						 "W", NULL, context));
	if (m->has & SIM_M_VOLTAGE)
		json_array_append_new(v, sampled(m->voltage, "Voltage", "V",
						 NULL, context));
	return v;
}

/* in a transaction the values ride on TransactionEvent Updated, outside
 * one on MeterValues */
void sim_cp201_meter(struct sim *s, int c, const struct sim_meter_args *m,
		     const char *context)
{
	struct sim_connector *k = &s->conn[c];
	json_t *values, *p;

	if (m->has & SIM_M_ENERGY)
		k->energy_wh = m->energy_wh;
	values = meter_values(k, m, context);
	if (!values)
		return;
	if (!k->tx_running) {
		p = json_pack("{sis[{soso}]}", "evseId", c, "meterValue",
			      "timestamp", now_json(), "sampledValue", values);
		sim_cp_queue_call(s, "MeterValues", p, c);
		return;
	}
	p = tx_event(s, c, "Updated",
		     strcmp(context, "Trigger") == 0 ? "Trigger"
						     : "MeterValuePeriodic");
	if (p)
		json_object_set_new(p, "meterValue", meter_value(values));
	else
		json_decref(values);
	sim_cp_queue_call(s, "TransactionEvent", p, c);
}

/* ---- answers to the station's calls ---- */

static void on_tx_event_conf(struct sim *s, struct sim_call *c, json_t *conf)
{
	const char *st = str_of(json_object_get(conf, "idTokenInfo"), "status");
	struct sim_connector *k = &s->conn[c->connector];

	if (!st || strcmp(st, "Accepted") == 0)
		return;
	sim_log_event(s, "error", "idToken not accepted",
		      json_pack("{ss}", "status", st));
	/* a station stops charging for a token the CSMS refuses */
	if (k->tx_running)
		sim_cp201_stop(s, c->connector, k->energy_wh, "DeAuthorized",
			       "Finishing");
}

static void on_boot201_conf(struct sim *s, struct sim_call *c, json_t *conf);

void sim_cp201_on_result(struct sim *s, struct sim_call *c, json_t *conf)
{
	if (strcmp(c->action, "TransactionEvent") == 0)
		on_tx_event_conf(s, c, conf);
	else if (strcmp(c->action, "BootNotification") == 0)
		on_boot201_conf(s, c, conf);
}

/* ---- device model ---- */

struct dm_var {
	const char *component;
	const char *variable;
	const char *initial;
	bool readonly;
	const char *data_type;
	bool per_evse; /* one instance per EVSE (component.evse.id) */
};

static const struct dm_var dm[] = {
	{ "AuthCtrlr", "AuthorizeRemoteStart", "false", false, "boolean", false },
	{ "ChargingStation", "Model", NULL, true, "string", false },
	{ "Connector", "ConnectorType", "cType2", true, "string", true },
	{ "ChargingStation", "VendorName", NULL, true, "string", false },
	{ "DeviceDataCtrlr", "ItemsPerMessage", "32", true, "integer", false },
	{ "EVSE", "Available", "true", true, "boolean", true },
	{ "OCPPCommCtrlr", "HeartbeatInterval", "0", false, "integer", false },
	{ "SampledDataCtrlr", "TxUpdatedInterval", "60", false, "integer", false },
	{ "SampledDataCtrlr", "TxUpdatedMeasurands",
	  "Energy.Active.Import.Register,Current.Import,Power.Active.Import,Voltage",
	  false, "MemberList", false },
	{ "SmartChargingCtrlr", "Enabled", "true", true, "boolean", false },
	{ "SmartChargingCtrlr", "ProfileStackLevel", "8", true, "integer", false },
	{ "SmartChargingCtrlr", "RateUnit", "A,W", true, "MemberList", false },
	{ "TxCtrlr", "EVConnectionTimeOut", "60", false, "integer", false },
	{ "TxCtrlr", "TxStartPoint", "Authorized,EVConnected", false,
	  "MemberList", false },
	{ "TxCtrlr", "TxStopPoint", "Authorized,EVConnected", false,
	  "MemberList", false },
};

#define DM_N (sizeof dm / sizeof *dm)

void sim_cp201_init(struct sim *s)
{
	_Static_assert(DM_N <= SIM_DM_MAX, "device model larger than its store");
	for (size_t i = 0; i < DM_N; i++) {
		const char *v = dm[i].initial;

		if (strcmp(dm[i].variable, "Model") == 0)
			v = s->opt.model;
		else if (strcmp(dm[i].variable, "VendorName") == 0)
			v = s->opt.vendor;
		snprintf(s->dm_value[i], sizeof s->dm_value[i], "%s", v);
	}
}

static void on_boot201_conf(struct sim *s, struct sim_call *c, json_t *conf)
{
	json_int_t interval = json_integer_value(json_object_get(conf, "interval"));

	(void)c;
	for (size_t i = 0; i < DM_N; i++)
		if (strcmp(dm[i].variable, "HeartbeatInterval") == 0 &&
		    interval >= 0 && interval <= 86400)
			snprintf(s->dm_value[i], sizeof s->dm_value[i], "%ld",
				 (long)interval);
}

enum dm_lookup { DM_FOUND, DM_NO_COMPONENT, DM_NO_VARIABLE };

static enum dm_lookup dm_find(const struct sim *s, const json_t *component,
			      const json_t *variable, size_t *idx)
{
	const char *cn = str_of(component, "name");
	const char *vn = str_of(variable, "name");
	const json_t *evse = json_object_get(component, "evse");
	long e = 0;
	bool component_known = false;

	if (evse)
		int_of(evse, "id", &e);
	for (size_t i = 0; cn && vn && i < DM_N; i++) {
		if (strcmp(dm[i].component, cn) != 0)
			continue;
		if (dm[i].per_evse ? !valid_evse(s, e) : evse != NULL)
			continue;
		component_known = true;
		if (strcmp(dm[i].variable, vn) == 0 &&
		    !json_object_get(variable, "instance")) {
			*idx = i;
			return DM_FOUND;
		}
	}
	return component_known ? DM_NO_VARIABLE : DM_NO_COMPONENT;
}

static const char *const lookup_status[] = {
	[DM_FOUND] = "Accepted",
	[DM_NO_COMPONENT] = "UnknownComponent",
	[DM_NO_VARIABLE] = "UnknownVariable",
};

static bool not_actual(const json_t *item)
{
	const char *at = str_of(item, "attributeType");

	return at && strcmp(at, "Actual") != 0;
}

static json_t *get_one(struct sim *s, const json_t *item)
{
	const json_t *comp = json_object_get(item, "component");
	const json_t *var = json_object_get(item, "variable");
	size_t i = 0;
	enum dm_lookup l = dm_find(s, comp, var, &i);
	json_t *r = json_pack("{sOsO}", "component", comp, "variable", var);

	if (!r)
		return NULL;
	if (l == DM_FOUND && not_actual(item)) {
		json_object_set_new(r, "attributeStatus",
				    json_string("NotSupportedAttributeType"));
		return r;
	}
	json_object_set_new(r, "attributeStatus", json_string(lookup_status[l]));
	if (l == DM_FOUND) {
		json_object_set_new(r, "attributeType", json_string("Actual"));
		json_object_set_new(r, "attributeValue",
				    json_string(s->dm_value[i]));
	}
	return r;
}

static int h_get_variables(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	const json_t *data = json_object_get(req, "getVariableData");
	const json_t *item;
	json_t *out;
	size_t i;

	if (!json_is_array(data) || json_array_size(data) == 0)
		return sim_cp_formation(r, "getVariableData missing");
	out = json_array();
	if (!out)
		return -ENOMEM;
	json_array_foreach(data, i, item)
		json_array_append_new(out, get_one(s, item));
	r->payload = json_pack("{so}", "getVariableResult", out);
	return r->payload ? 0 : -ENOMEM;
}

static bool integer_text(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (end == v || *end || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

static const char *set_value(struct sim *s, size_t i, const char *value)
{
	long n = 0;

	if (dm[i].readonly || strlen(value) >= sizeof s->dm_value[i])
		return "Rejected";
	if (strcmp(dm[i].data_type, "integer") == 0 &&
	    !integer_text(value, 0, 86400, &n))
		return "Rejected";
	if (strcmp(dm[i].data_type, "boolean") == 0 &&
	    strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
		return "Rejected";
	if (strcmp(dm[i].variable, "HeartbeatInterval") == 0)
		sim_cp_restart_heartbeat(s, n);
	snprintf(s->dm_value[i], sizeof s->dm_value[i], "%s", value);
	return "Accepted";
}

static json_t *set_one(struct sim *s, const json_t *item)
{
	const json_t *comp = json_object_get(item, "component");
	const json_t *var = json_object_get(item, "variable");
	const char *value = str_of(item, "attributeValue");
	size_t i = 0;
	enum dm_lookup l = dm_find(s, comp, var, &i);
	const char *st = lookup_status[l];

	if (l == DM_FOUND)
		st = not_actual(item) ? "NotSupportedAttributeType"
				      : set_value(s, i, value ? value : "");
	sim_log_event(s, "set-variable", st,
		      json_pack("{sOsOss}", "component", comp, "variable", var,
				"value", value ? value : ""));
	return json_pack("{sOsOssss}", "component", comp, "variable", var,
			 "attributeType", "Actual", "attributeStatus", st);
}

static int h_set_variables(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	const json_t *data = json_object_get(req, "setVariableData");
	const json_t *item;
	json_t *out;
	size_t i;

	if (!json_is_array(data) || json_array_size(data) == 0)
		return sim_cp_formation(r, "setVariableData missing");
	out = json_array();
	if (!out)
		return -ENOMEM;
	json_array_foreach(data, i, item)
		json_array_append_new(out, set_one(s, item));
	r->payload = json_pack("{so}", "setVariableResult", out);
	return r->payload ? 0 : -ENOMEM;
}

/* entries per NotifyReport, so that a report comes in several parts */
#define REPORT_ITEMS 6

static json_t *report_entry(const struct sim *s, size_t i, int evse)
{
	json_t *comp = json_pack("{ss}", "name", dm[i].component);

	/* the station's connectors: connector 1 of each EVSE */
	if (comp && evse && strcmp(dm[i].component, "Connector") == 0)
		json_object_set_new(comp, "evse", evse_obj(evse));
	else if (comp && evse)
		json_object_set_new(comp, "evse", json_pack("{si}", "id", evse));
	return json_pack("{sos{ss}s[{ssssss}]s{sssb}}", "component", comp,
			 "variable", "name", dm[i].variable,
			 "variableAttribute", "type", "Actual", "value",
			 s->dm_value[i], "mutability",
			 dm[i].readonly ? "ReadOnly" : "ReadWrite",
			 "variableCharacteristics", "dataType", dm[i].data_type,
			 "supportsMonitoring", 0);
}

static void send_report(struct sim *s, int request_id, json_t *data)
{
	size_t n = json_array_size(data);

	for (size_t from = 0, seq = 0; from < n; from += REPORT_ITEMS, seq++) {
		json_t *part = json_array();

		for (size_t i = from; part && i < n && i < from + REPORT_ITEMS; i++)
			json_array_append(part, json_array_get(data, i));
		sim_cp_queue_call(s, "NotifyReport",
				  json_pack("{sisosbsiso}", "requestId",
					    request_id, "generatedAt",
					    now_json(), "tbc",
					    from + REPORT_ITEMS < n, "seqNo",
					    (int)seq, "reportData", part),
				  0);
	}
}

static void after_base_report(struct sim *s, struct sim_after *a)
{
	json_t *data = json_array();

	if (!data)
		return;
	for (size_t i = 0; i < DM_N; i++) {
		if (!dm[i].per_evse) {
			json_array_append_new(data, report_entry(s, i, 0));
			continue;
		}
		for (int e = 1; e <= s->opt.connectors; e++)
			json_array_append_new(data, report_entry(s, i, e));
	}
	send_report(s, (int)a->n, data);
	json_decref(data);
}

static int h_get_base_report(struct sim *s, const json_t *req,
			     struct sim_reply *r)
{
	const char *base = str_of(req, "reportBase");
	long id;

	(void)s;
	if (!int_of(req, "requestId", &id) || !base)
		return sim_cp_formation(r, "requestId or reportBase missing");
	r->after.fn = after_base_report;
	r->after.n = id;
	return sim_cp_status_reply(r, "Accepted");
}

/* ---- transactions on request ---- */

static bool evse_free(const struct sim *s, int c)
{
	const struct sim_connector *k = &s->conn[c];

	return !k->tx_running && !k->tx_pending &&
	       strcmp(k->status, "Unavailable") != 0 &&
	       strcmp(k->status, "Faulted") != 0;
}

static void store_profile(struct sim *s, int evse, const json_t *profile)
{
	const json_t *sched =
		json_array_get(json_object_get(profile, "chargingSchedule"), 0);
	const char *unit = str_of(sched, "chargingRateUnit");
	const json_t *p0 =
		json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);
	double limit = json_number_value(json_object_get(p0, "limit"));
	int from = evse == 0 ? 1 : evse, to = evse == 0 ? s->opt.connectors : evse;
	char detail[128];

	if (!unit || (strcmp(unit, "A") != 0 && strcmp(unit, "W") != 0))
		unit = "A";
	for (int i = from; i <= to; i++) {
		s->conn[i].limit = limit;
		snprintf(s->conn[i].limit_unit, sizeof s->conn[i].limit_unit,
			 "%s", unit);
	}
	snprintf(detail, sizeof detail, "evse %d limit %g %s", evse, limit,
		 unit);
	sim_log_event(s, "charging-profile", detail,
		      json_pack("{sisisfsssO*sO*}", "evseId", evse,
				"connectorId", evse, "limit", limit, "unit",
				unit, "purpose",
				json_object_get(profile, "chargingProfilePurpose"),
				"stackLevel", json_object_get(profile, "stackLevel")));
}

static bool profile_ok(const json_t *profile)
{
	const json_t *sched =
		json_array_get(json_object_get(profile, "chargingSchedule"), 0);
	const json_t *p0 =
		json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);

	return json_is_number(json_object_get(p0, "limit"));
}

static void after_request_start(struct sim *s, struct sim_after *a)
{
	if (strcmp(s->conn[a->c].status, "Available") == 0 ||
	    strcmp(s->conn[a->c].status, "Reserved") == 0)
		sim_cp_plug(s, a->c);
	sim_cp_start(s, a->c, a->text, s->conn[a->c].energy_wh);
}

static int h_request_start(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	const char *tag = str_of(json_object_get(req, "idToken"), "idToken");
	const json_t *profile = json_object_get(req, "chargingProfile");
	long id, e = 0;

	if (!tag || strlen(tag) >= sizeof s->conn[0].id_tag ||
	    !int_of(req, "remoteStartId", &id))
		return sim_cp_formation(r, "idToken or remoteStartId missing");
	if (json_object_get(req, "evseId") && !int_of(req, "evseId", &e))
		return sim_cp_formation(r, "evseId not an integer");
	for (int i = 1; i <= s->opt.connectors && e == 0; i++)
		if (evse_free(s, i))
			e = i;
	if (!valid_evse(s, e) || !evse_free(s, (int)e))
		return sim_cp_status_reply(r, "Rejected");
	if (json_is_object(profile) && profile_ok(profile))
		store_profile(s, (int)e, profile);
	s->conn[e].remote_start_id = id;
	s->conn[e].has_remote_start = true;
	r->after.fn = after_request_start;
	r->after.c = (int)e;
	snprintf(r->after.text, sizeof r->after.text, "%s", tag);
	return sim_cp_status_reply(r, "Accepted");
}

static void after_request_stop(struct sim *s, struct sim_after *a)
{
	sim_cp_stop(s, a->c, s->conn[a->c].energy_wh, "Remote", "Finishing");
}

static int h_request_stop(struct sim *s, const json_t *req,
			  struct sim_reply *r)
{
	const char *id = str_of(req, "transactionId");

	if (!id)
		return sim_cp_formation(r, "transactionId missing");
	for (int i = 1; i <= s->opt.connectors; i++) {
		if (s->conn[i].tx_running &&
		    strcmp(s->conn[i].tx_id201, id) == 0) {
			r->after.fn = after_request_stop;
			r->after.c = i;
			return sim_cp_status_reply(r, "Accepted");
		}
	}
	return sim_cp_status_reply(r, "Rejected");
}

/* ---- availability, reservations, connectors ---- */

static void after_availability(struct sim *s, struct sim_after *a)
{
	int from = a->c == 0 ? 1 : a->c, to = a->c == 0 ? s->opt.connectors : a->c;

	for (int i = from; i <= to; i++)
		if (!s->conn[i].tx_running)
			sim_cp201_set_status(s, i, a->n ? "Unavailable"
							: "Available");
}

static int h_change_availability(struct sim *s, const json_t *req,
				 struct sim_reply *r)
{
	const char *op = str_of(req, "operationalStatus");
	const json_t *evse = json_object_get(req, "evse");
	long e = 0;
	bool busy = false;

	if (!op || (strcmp(op, "Inoperative") != 0 &&
		    strcmp(op, "Operative") != 0))
		return sim_cp_formation(r, "operationalStatus missing");
	if (evse && (!int_of(evse, "id", &e) || (e != 0 && !valid_evse(s, e))))
		return sim_cp_status_reply(r, "Rejected");
	for (int i = 1; i <= s->opt.connectors; i++)
		if ((e == 0 || e == i) && s->conn[i].tx_running)
			busy = true;
	r->after.fn = after_availability;
	r->after.c = (int)e;
	r->after.n = strcmp(op, "Inoperative") == 0;
	return sim_cp_status_reply(r, busy && r->after.n ? "Scheduled"
							  : "Accepted");
}

static int h_unlock(struct sim *s, const json_t *req, struct sim_reply *r)
{
	long e, c;

	if (!int_of(req, "evseId", &e) || !int_of(req, "connectorId", &c))
		return sim_cp_formation(r, "evseId or connectorId missing");
	if (!valid_evse(s, e) || c != 1)
		return sim_cp_status_reply(r, "UnknownConnector");
	if (s->conn[e].tx_running)
		return sim_cp_status_reply(r, "OngoingAuthorizedTransaction");
	return sim_cp_status_reply(r, "Unlocked");
}

static void after_reserve(struct sim *s, struct sim_after *a)
{
	sim_cp201_set_status(s, a->c, "Reserved");
}

static int h_reserve_now(struct sim *s, const json_t *req, struct sim_reply *r)
{
	long id, e = 1;
	struct sim_connector *k;

	if (!int_of(req, "id", &id) || !str_of(req, "expiryDateTime") ||
	    !str_of(json_object_get(req, "idToken"), "idToken"))
		return sim_cp_formation(r, "id, expiryDateTime or idToken missing");
	if (json_object_get(req, "evseId") && !int_of(req, "evseId", &e))
		return sim_cp_formation(r, "evseId not an integer");
	if (!valid_evse(s, e))
		return sim_cp_status_reply(r, "Rejected");
	k = &s->conn[e];
	if (k->tx_running || k->reserved)
		return sim_cp_status_reply(r, "Occupied");
	if (strcmp(k->status, "Faulted") == 0 ||
	    strcmp(k->status, "Unavailable") == 0)
		return sim_cp_status_reply(r, k->status);
	k->reserved = true;
	k->reservation_id = (int)id;
	r->after.fn = after_reserve;
	r->after.c = (int)e;
	return sim_cp_status_reply(r, "Accepted");
}

static void after_cancel(struct sim *s, struct sim_after *a)
{
	sim_cp201_set_status(s, a->c, "Available");
}

static int h_cancel_reservation(struct sim *s, const json_t *req,
				struct sim_reply *r)
{
	long id;

	if (!int_of(req, "reservationId", &id))
		return sim_cp_formation(r, "reservationId missing");
	for (int i = 1; i <= s->opt.connectors; i++) {
		if (s->conn[i].reserved && s->conn[i].reservation_id == id) {
			s->conn[i].reserved = false;
			r->after.fn = after_cancel;
			r->after.c = i;
			return sim_cp_status_reply(r, "Accepted");
		}
	}
	return sim_cp_status_reply(r, "Rejected");
}

/* ---- reset ---- */

static void reset_now(struct sim *s)
{
	s->reset_on_idle = false;
	for (int i = 1; i <= s->opt.connectors; i++) {
		sim_cp201_stop(s, i, s->conn[i].energy_wh, "HardReset", NULL);
		s->conn[i].reserved = false;
		s->conn[i].limit = -1;
		snprintf(s->conn[i].status, sizeof s->conn[i].status,
			 "Available");
	}
	s->reset_pending = true;
	sim_cp_reset_check(s);
}

static void after_reset(struct sim *s, struct sim_after *a)
{
	if (a->n && any_tx(s)) {
		sim_log_event(s, "reset", "once idle", NULL);
		s->reset_on_idle = true;
		return;
	}
	reset_now(s);
}

static int h_reset(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *type = str_of(req, "type");

	if (!type || (strcmp(type, "Immediate") != 0 &&
		      strcmp(type, "OnIdle") != 0))
		return sim_cp_formation(r, "type must be Immediate or OnIdle");
	if (json_object_get(req, "evseId"))
		return sim_cp_status_reply(r, "Rejected");
	r->after.fn = after_reset;
	r->after.n = strcmp(type, "OnIdle") == 0;
	return sim_cp_status_reply(r, r->after.n && any_tx(s) ? "Scheduled"
							       : "Accepted");
}

/* ---- smart charging ---- */

static int h_set_profile(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const json_t *profile = json_object_get(req, "chargingProfile");
	long e;

	if (!int_of(req, "evseId", &e) || !json_is_object(profile) ||
	    !profile_ok(profile))
		return sim_cp_formation(r, "evseId or chargingProfile missing");
	if (e != 0 && !valid_evse(s, e))
		return sim_cp_status_reply(r, "Rejected");
	store_profile(s, (int)e, profile);
	return sim_cp_status_reply(r, "Accepted");
}

static int h_clear_profile(struct sim *s, const json_t *req,
			   struct sim_reply *r)
{
	long e = 0;

	int_of(json_object_get(req, "chargingProfileCriteria"), "evseId", &e);
	for (int i = 1; i <= s->opt.connectors; i++)
		if (e == 0 || e == i)
			s->conn[i].limit = -1;
	sim_log_event(s, "charging-profile", "cleared",
		      json_pack("{sisi}", "evseId", (int)e, "connectorId",
				(int)e));
	return sim_cp_status_reply(r, "Accepted");
}

/* ---- triggers and the rest ---- */

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
	for (int i = 1; i <= s->opt.connectors; i++)
		if (a->c == 0 || a->c == i)
			send_status(s, i);
}

static void trigger_meter(struct sim *s, struct sim_after *a)
{
	struct sim_meter_args m = { 0 };

	for (int i = 1; i <= s->opt.connectors; i++)
		if ((a->c == 0 || a->c == i) &&
		    (a->n == 0 || s->conn[i].tx_running))
			sim_cp201_meter(s, i, &m, "Trigger");
}

static void trigger_firmware(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_queue_call(s, "FirmwareStatusNotification",
			  json_pack("{ss}", "status", "Idle"), 0);
}

static void trigger_log(struct sim *s, struct sim_after *a)
{
	(void)a;
	sim_cp_queue_call(s, "LogStatusNotification",
			  json_pack("{ss}", "status", "Idle"), 0);
}

struct trigger {
	const char *message;
	void (*fn)(struct sim *s, struct sim_after *a);
	long n;
};

static const struct trigger triggers[] = {
	{ "BootNotification", trigger_boot, 0 },
	{ "FirmwareStatusNotification", trigger_firmware, 0 },
	{ "Heartbeat", trigger_heartbeat, 0 },
	{ "LogStatusNotification", trigger_log, 0 },
	{ "MeterValues", trigger_meter, 0 },
	{ "StatusNotification", trigger_status, 0 },
	{ "TransactionEvent", trigger_meter, 1 },
};

static int h_trigger(struct sim *s, const json_t *req, struct sim_reply *r)
{
	const char *msg = str_of(req, "requestedMessage");
	const json_t *evse = json_object_get(req, "evse");
	long e = 0;

	if (!msg)
		return sim_cp_formation(r, "requestedMessage missing");
	if (evse && (!int_of(evse, "id", &e) || (e != 0 && !valid_evse(s, e))))
		return sim_cp_status_reply(r, "Rejected");
	for (size_t i = 0; i < sizeof triggers / sizeof *triggers; i++) {
		if (strcmp(triggers[i].message, msg) == 0) {
			r->after.fn = triggers[i].fn;
			r->after.c = (int)e;
			r->after.n = triggers[i].n;
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
	if (!str_of(req, "vendorId"))
		return sim_cp_formation(r, "vendorId missing");
	return sim_cp_status_reply(r, "UnknownVendorId");
}

/* sorted by action */
static const struct sim_call_handler handlers[] = {
	{ "CancelReservation", h_cancel_reservation, "Rejected" },
	{ "ChangeAvailability", h_change_availability, "Rejected" },
	{ "ClearCache", h_clear_cache, "Rejected" },
	{ "ClearChargingProfile", h_clear_profile, "Unknown" },
	{ "DataTransfer", h_data_transfer, "Rejected" },
	{ "GetBaseReport", h_get_base_report, "Rejected" },
	{ "GetVariables", h_get_variables, NULL },
	{ "RequestStartTransaction", h_request_start, "Rejected" },
	{ "RequestStopTransaction", h_request_stop, "Rejected" },
	{ "ReserveNow", h_reserve_now, "Rejected" },
	{ "Reset", h_reset, "Rejected" },
	{ "SetChargingProfile", h_set_profile, "Rejected" },
	{ "SetVariables", h_set_variables, NULL },
	{ "TriggerMessage", h_trigger, "Rejected" },
	{ "UnlockConnector", h_unlock, "UnlockFailed" },
};

static int cmp_handler(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sim_call_handler *)elem)->action);
}

const struct sim_call_handler *sim_cp201_handler(const char *action)
{
	return bsearch(action, handlers, sizeof handlers / sizeof *handlers,
		       sizeof *handlers, cmp_handler);
}
