/* KNX writes become OCPP commands, and their results come back to the bus.
 * A panel must never show a lie: a command that fails re-sends the true
 * state, one that succeeds shows only what the charger will not announce
 * itself. One table row per command says both. */
#include "gateway/bridge_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IEC 61851 has no PWM duty cycle below 6 A; 80 A is the type 2 maximum. */
static const double GW_MIN_CURRENT_A = 6.0;
static const double GW_MAX_CURRENT_A = 80.0;

/* The command table: what each call is on the OCPP side and what its
 * result does on KNX, read by the sender and by the one completion. A
 * failure re-sends `state` as it stands, so a panel never shows a lie; an
 * acceptance publishes only what the charger will not announce itself. */
typedef struct {
  const char *name;          /* the OCPP action, for the log */
  ocpp_command_kind kind;
  gw_object state;           /* re-sent on failure; GW_OBJ_COUNT: none */
  gw_object accepted_state;  /* takes the command value on acceptance;
                                GW_OBJ_COUNT: the charger's notifications
                                carry the new state */
  bool accepted_limit;       /* max_current_state takes the limit as sent */
  bool pause;                /* the pause flag follows the command value */
} gw_call_info;

#define GW_NONE GW_OBJ_COUNT

static const gw_call_info gw_calls[GW_CALL_COUNT] = {
  [GW_CALL_REMOTE_START] = {"RemoteStartTransaction", OCPP_CMD_REMOTE_START,
                            GW_OBJ_CHARGING_STATE, GW_NONE, false, false},
  [GW_CALL_REMOTE_STOP] = {"RemoteStopTransaction", OCPP_CMD_REMOTE_STOP,
                           GW_OBJ_CHARGING_STATE, GW_NONE, false, false},
  [GW_CALL_PAUSE] = {"SetChargingProfile 0 A (pause)", OCPP_CMD_CURRENT_LIMIT,
                     GW_OBJ_CHARGING_STATE, GW_OBJ_CHARGING_STATE, false,
                     true},
  [GW_CALL_RESUME] = {"SetChargingProfile (resume)", OCPP_CMD_CURRENT_LIMIT,
                      GW_OBJ_CHARGING_STATE, GW_OBJ_CHARGING_STATE, false,
                      true},
  [GW_CALL_RESERVE] = {"ReserveNow", OCPP_CMD_RESERVE, GW_NONE, GW_NONE, false,
                       false},
  [GW_CALL_CANCEL_RESERVATION] = {"CancelReservation",
                                  OCPP_CMD_CANCEL_RESERVATION, GW_NONE,
                                  GW_NONE, false, false},
  [GW_CALL_AVAILABILITY] = {"ChangeAvailability",
                            OCPP_CMD_CHANGE_AVAILABILITY,
                            GW_OBJ_AVAILABILITY_STATE, GW_NONE, false, false},
  [GW_CALL_UNLOCK] = {"UnlockConnector", OCPP_CMD_UNLOCK, GW_NONE, GW_NONE,
                      false, false},
  [GW_CALL_MAX_CURRENT] = {"SetChargingProfile", OCPP_CMD_CURRENT_LIMIT,
                           GW_OBJ_MAX_CURRENT_STATE, GW_NONE, true, false},
  [GW_CALL_FAST_CHARGING] = {"SetChargingProfile", OCPP_CMD_CURRENT_LIMIT,
                             GW_OBJ_FAST_CHARGING_STATE,
                             GW_OBJ_FAST_CHARGING_STATE, true, false},
  [GW_CALL_RESET] = {"Reset", OCPP_CMD_RESET, GW_NONE, GW_NONE, false, false},
  [GW_CALL_ENERGY_LIMIT] = {"SetChargingProfile (energy manager)",
                            OCPP_CMD_CURRENT_LIMIT, GW_OBJ_MAX_CURRENT_STATE,
                            GW_NONE, true, false},
  [GW_CALL_BACKEND_CAP] = {"SetChargingProfile (backend cap)",
                           OCPP_CMD_CURRENT_LIMIT, GW_OBJ_MAX_CURRENT_STATE,
                           GW_NONE, true, false},
  [GW_CALL_LIFT_LIMIT] = {"ClearChargingProfile (no limit left)",
                          OCPP_CMD_LIFT_LIMIT, GW_OBJ_MAX_CURRENT_STATE,
                          GW_NONE, true, false},
};

#undef GW_NONE

static const char *const gw_result_text[] = {
  [OCPP_RESULT_ACCEPTED] = "accepted",
  [OCPP_RESULT_REJECTED] = "rejected",
  [OCPP_RESULT_NOT_SUPPORTED] = "not supported",
  [OCPP_RESULT_TIMEOUT] = "timed out",
  [OCPP_RESULT_OFFLINE] = "lost (charger offline)",
  [OCPP_RESULT_ERROR] = "failed",
  [OCPP_RESULT_REBOOT_REQUIRED] = "accepted after a reboot",
};

static const char *result_text(ocpp_result r)
{
  if ((unsigned)r >= sizeof gw_result_text / sizeof gw_result_text[0])
    return "failed";
  return gw_result_text[r];
}

static void pending_unlink(gw_pending *pd)
{
  gw_bridge *b = pd->b;
  if (pd->prev)
    pd->prev->next = pd->next;
  else if (b)
    b->pending = pd->next;
  if (pd->next)
    pd->next->prev = pd->prev;
  pd->prev = pd->next = NULL;
}

static void resend_true_state(gw_bridge *b, const gw_charger *ch,
                              gw_connector *cn, gw_object obj)
{
  if (obj == GW_OBJ_CHARGING_STATE) {
    gw__publish_number(b, ch, cn, obj, cn->charging ? 1 : 0, true);
    return;
  }
  gw_value v = cn->obj[obj].val;
  if (cn->obj[obj].known)
    gw__publish(b, ch, cn, obj, &v, true);
}

static void command_failed(gw_bridge *b, const gw_charger *ch,
                           gw_connector *cn, gw_call call, const char *why)
{
  gw_object state = gw_calls[call].state;
  if (state == GW_OBJ_COUNT) {
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s", cn->id,
            gw_calls[call].name, why);
    return;
  }
  resend_true_state(b, ch, cn, state);
  const gw_published *o = &cn->obj[state];
  if (o->known)
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s: re-sending %s %g",
            cn->id, gw_calls[call].name, why, gw__object_name(state),
            o->val.num);
  else
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: %s %s (%s not known)",
            cn->id, gw_calls[call].name, why, gw__object_name(state));
}

static void command_accepted(gw_bridge *b, const gw_charger *ch,
                             gw_connector *cn, const gw_pending *pd)
{
  const gw_call_info *ci = &gw_calls[pd->call];
  if (ci->pause)
    cn->paused = pd->value == 0;
  if (ci->accepted_state == GW_OBJ_CHARGING_STATE)
    gw__set_charging(b, ch, cn, pd->value != 0 && gw__tx_running(b, ch, cn));
  else if (ci->accepted_state != GW_OBJ_COUNT)
    gw__publish_number(b, ch, cn, ci->accepted_state, pd->value, false);
  /* the limit as the charger got it (10.24 A is sent as 10.0 A); the
   * command itself took the wish, so W-limited chargers convert it
   * unrounded */
  if (ci->accepted_limit) {
    gw__publish_number(b, ch, cn, GW_OBJ_MAX_CURRENT_STATE,
                       ocpp_limit_as_sent(pd->amps), false);
    cn->limit_by = pd->by;
  }
  gw__log(b, GW_LOG_DEBUG, ch->id, "connector %d: %s accepted", cn->id,
          ci->name);
}

static void command_done(void *user_data, ocpp_result result)
{
  gw_pending *pd = user_data;
  gw_bridge *b = pd->b;
  if (b) {
    pending_unlink(pd);
    gw_charger *ch = gw__charger_find(b->chargers, b->n_chargers,
                                      pd->charger_id);
    gw_connector *cn = ch ? gw__connector_find(ch, pd->connector) : NULL;
    if (cn && result == OCPP_RESULT_ACCEPTED)
      command_accepted(b, ch, cn, pd);
    else if (cn)
      command_failed(b, ch, cn, pd->call, result_text(result));
  }
  free(pd);
  if (b && b->ops.wake)
    b->ops.wake(b->user_data);
}

/* Who asks for a local limit with call; a pause or resume keeps the
 * asker of the limit it stops or brings back. */
static gw_limit_by asker_of(gw_call call, gw_limit_by before)
{
  switch (call) {
  case GW_CALL_MAX_CURRENT: return GW_LIMIT_MAX_CURRENT;
  case GW_CALL_FAST_CHARGING: return GW_LIMIT_FAST_CHARGING;
  case GW_CALL_ENERGY_LIMIT: return GW_LIMIT_ENERGY;
  default: return before;
  }
}

/* A limit the gateway asks for is remembered as the local one, and what
 * is sent never exceeds the backend's cap; *by: who the limit sent is
 * owed to (the backend when its cap is lower, or when it is the only
 * limit). */
static double capped(gw_bridge *b, const gw_charger *ch, gw_connector *cn,
                     gw_call call, double amps, gw_limit_by *by)
{
  if (call != GW_CALL_BACKEND_CAP) {
    cn->has_local = true;
    cn->local_a = amps;
    cn->local_by = asker_of(call, cn->local_by);
  }
  *by = cn->has_local ? cn->local_by
        : cn->has_cap ? GW_LIMIT_BACKEND : GW_LIMIT_NONE;
  if (!cn->has_cap || amps <= cn->cap_a)
    return amps;
  gw__log(b, GW_LOG_INFO, ch->id, "connector %d: %g A capped to %g A by the "
          "backend", cn->id, amps, cn->cap_a);
  *by = GW_LIMIT_BACKEND;
  return cn->cap_a;
}

/* Sends call for a command write on obj; on success the OCPP side owns the
 * context until command_done. */
static void command_send(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                         gw_object obj, gw_call call, double value,
                         double amps)
{
  const gw_call_info *ci = &gw_calls[call];
  gw_limit_by by = GW_LIMIT_NONE;
  if (ci->kind == OCPP_CMD_CURRENT_LIMIT)
    amps = capped(b, ch, cn, call, amps, &by);
  gw__log(b, GW_LOG_INFO, ch->id, "connector %d: %s command %g -> %s",
          cn->id, gw__object_name(obj), value, ci->name);
  size_t id_len = strlen(ch->id) + 1;
  gw_pending *pd = calloc(1, sizeof *pd + id_len);
  if (!pd) {
    command_failed(b, ch, cn, call, "not sent (out of memory)");
    return;
  }
  pd->call = call;
  pd->connector = cn->id;
  pd->value = value;
  pd->amps = amps;
  pd->by = by;
  memcpy(pd->charger_id, ch->id, id_len);
  pd->b = b;
  pd->next = b->pending;
  if (b->pending)
    b->pending->prev = pd;
  b->pending = pd;
  /* Each kind reads only its own fields (ocpp.h). */
  ocpp_command cmd = {
    .kind = ci->kind,
    .connector = cn->id,
    .id_tag = ch->remote_tag,
    .operative = value != 0,
    .amps = amps,
    .expiry_s = ch->reservation_minutes * 60,
  };
  /* The callback may already have run (and freed pd) when this returns. */
  int rc = b->ops.command(b->user_data, ch->id, &cmd, command_done, pd);
  if (rc == 0)
    return;
  pending_unlink(pd);
  free(pd);
  char why[64];
  snprintf(why, sizeof why, "not sent (%s)", ocpp_strerror(rc));
  command_failed(b, ch, cn, call, why);
}

static double resume_current(const gw_charger *ch, const gw_connector *cn)
{
  const gw_published *limit = &cn->obj[GW_OBJ_MAX_CURRENT_STATE];
  if (limit->known && limit->val.num > 0)
    return limit->val.num;
  const gw_published *fast = &cn->obj[GW_OBJ_FAST_CHARGING_STATE];
  if (fast->known && fast->val.num != 0)
    return ch->fast_current;
  return ch->normal_current;
}

/* With the energy manager the writes that set a current are its inputs:
 * a limit sent here would fight its allocation. */
static bool to_energy(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                      gw_object obj, double v)
{
  if (!b->ops.energy_write)
    return false;
  gw__log(b, GW_LOG_INFO, ch->id, "connector %d: %s %g -> energy manager",
          cn->id, gw__object_name(obj), v);
  b->ops.energy_write(b->user_data, ch->id, cn->id, obj, v);
  return true;
}

static void cmd_charging(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                         double v)
{
  bool on = v != 0;
  if (ch->stop_mode == GW_STOP_PAUSE && gw__tx_running(b, ch, cn) &&
      to_energy(b, ch, cn, GW_OBJ_CHARGING, on))
    return;
  if (on && cn->paused && gw__tx_running(b, ch, cn))
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_RESUME, 1,
                 resume_current(ch, cn));
  else if (on)
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_REMOTE_START, 1, 0);
  else if (ch->stop_mode == GW_STOP_PAUSE)
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_PAUSE, 0, 0);
  else
    command_send(b, ch, cn, GW_OBJ_CHARGING, GW_CALL_REMOTE_STOP, 0, 0);
}

static void cmd_reserve(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                        double v)
{
  command_send(b, ch, cn, GW_OBJ_RESERVE,
               v != 0 ? GW_CALL_RESERVE : GW_CALL_CANCEL_RESERVATION,
               v != 0, 0);
}

static void cmd_availability(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                             double v)
{
  command_send(b, ch, cn, GW_OBJ_AVAILABILITY, GW_CALL_AVAILABILITY, v != 0,
               0);
}

static void cmd_unlock(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                       double v)
{
  if (v != 0)
    command_send(b, ch, cn, GW_OBJ_UNLOCK, GW_CALL_UNLOCK, 1, 0);
}

static void cmd_max_current(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                            double amps)
{
  if (to_energy(b, ch, cn, GW_OBJ_MAX_CURRENT, amps))
    return;
  double a = amps < 0 ? 0 : amps > GW_MAX_CURRENT_A ? GW_MAX_CURRENT_A : amps;
  if (a > 0 && a < GW_MIN_CURRENT_A) {
    gw__log(b, GW_LOG_INFO, ch->id, "connector %d: max_current %g A is below "
            "the IEC 61851 minimum: using %g A", cn->id, a, GW_MIN_CURRENT_A);
    a = GW_MIN_CURRENT_A;
  } else if (a != amps) {
    gw__log(b, GW_LOG_INFO, ch->id, "connector %d: max_current %g A clamped "
            "to %g A", cn->id, amps, a);
  }
  command_send(b, ch, cn, GW_OBJ_MAX_CURRENT, GW_CALL_MAX_CURRENT, a, a);
}

static void cmd_fast_charging(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                              double v)
{
  bool fast = v != 0;
  if (to_energy(b, ch, cn, GW_OBJ_FAST_CHARGING, fast)) {
    gw__publish_number(b, ch, cn, GW_OBJ_FAST_CHARGING_STATE, fast, false);
    return;
  }
  command_send(b, ch, cn, GW_OBJ_FAST_CHARGING, GW_CALL_FAST_CHARGING, fast,
               fast ? ch->fast_current : ch->normal_current);
}

static void cmd_reset(gw_bridge *b, gw_charger *ch, gw_connector *cn, double v)
{
  if (v != 0)
    command_send(b, ch, cn, GW_OBJ_RESET, GW_CALL_RESET, 1, 0);
}

static void cmd_charge_mode(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                            double v)
{
  to_energy(b, ch, cn, GW_OBJ_CHARGE_MODE, v);
}

int gw_bridge_set_limit(gw_bridge *b, const char *charger_id, int connector,
                        double amps)
{
  if (!b || !charger_id || !(amps >= 0 && amps <= GW_MAX_CURRENT_A))
    return GW_EINVAL;
  gw_charger *ch = gw__charger_find(b->chargers, b->n_chargers, charger_id);
  gw_connector *cn = ch ? gw__connector_find(ch, connector) : NULL;
  if (!cn)
    return GW_ENOTFOUND;
  command_send(b, ch, cn, GW_OBJ_ALLOCATED_CURRENT_STATE, GW_CALL_ENERGY_LIMIT,
               amps, amps);
  return GW_OK;
}

static void apply_cap(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                      double amps)
{
  /* nothing to take back */
  if (amps < 0 && !cn->has_cap)
    return;
  cn->has_cap = amps >= 0;
  cn->cap_a = amps;
  /* the backend's cap was the only limit: the gateway takes its profile
   * back rather than leaving one at the type 2 maximum behind */
  if (!cn->has_local && !cn->has_cap) {
    command_send(b, ch, cn, GW_OBJ_MAX_CURRENT, GW_CALL_LIFT_LIMIT,
                 GW_MAX_CURRENT_A, GW_MAX_CURRENT_A);
    return;
  }
  double want = cn->has_local ? cn->local_a : cn->cap_a;
  command_send(b, ch, cn, GW_OBJ_MAX_CURRENT, GW_CALL_BACKEND_CAP, want, want);
}

int gw_bridge_set_backend_cap(gw_bridge *b, const char *charger_id,
                              int connector, double amps)
{
  if (!b || !charger_id || !(amps <= GW_MAX_CURRENT_A))
    return GW_EINVAL;
  gw_charger *ch = gw__charger_find(b->chargers, b->n_chargers, charger_id);
  if (!ch)
    return GW_ENOTFOUND;
  if (connector == 0) {
    for (size_t i = 0; i < ch->n_conn; i++)
      apply_cap(b, ch, &ch->conn[i], amps);
    return GW_OK;
  }
  gw_connector *cn = gw__connector_find(ch, connector);
  if (!cn)
    return GW_ENOTFOUND;
  apply_cap(b, ch, cn, amps);
  return GW_OK;
}

typedef void (*gw_command_fn)(gw_bridge *b, gw_charger *ch, gw_connector *cn,
                              double value);

static const gw_command_fn gw_commands[GW_OBJ_COUNT] = {
  [GW_OBJ_CHARGING] = cmd_charging,
  [GW_OBJ_RESERVE] = cmd_reserve,
  [GW_OBJ_AVAILABILITY] = cmd_availability,
  [GW_OBJ_UNLOCK] = cmd_unlock,
  [GW_OBJ_MAX_CURRENT] = cmd_max_current,
  [GW_OBJ_FAST_CHARGING] = cmd_fast_charging,
  [GW_OBJ_RESET] = cmd_reset,
  [GW_OBJ_CHARGE_MODE] = cmd_charge_mode,
};

static void on_command_write(gw_bridge *b, const gw_ga_ref *r, uint16_t src,
                             const knx_payload *p)
{
  gw_command_fn fn = gw_commands[r->obj];
  if (!fn)
    return;
  gw_charger *ch = r->ch;
  gw_connector *cn = &ch->conn[r->conn];
  knx_dpt dpt = ch->dpt[r->obj];
  knx_value v;
  int rc = p ? knx_dpt_decode(dpt, p, &v) : KNX_EINVAL;
  if (rc == KNX_OK &&
      (gw__dpt_kind(dpt) != GW_KIND_NUMBER || !isfinite(v.number)))
    rc = KNX_ERANGE;
  if (rc != KNX_OK) {
    char ga[KNX_GA_STRLEN];
    knx_ga_format(r->ga, ga);
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: %s write to %s from "
            "%u.%u.%u ignored: not DPT %s (%s)", cn->id,
            gw__object_name(r->obj), ga, src >> 12, (src >> 8) & 0x0F,
            src & 0xFF, knx_dpt_name(dpt), knx_strerror(rc));
    return;
  }
  double value = v.number / gw__dpt_scale(dpt);
  /* kept for the status page only: reads, reloads and link changes send
   * state objects, never these */
  gw_published *seen = &cn->obj[r->obj];
  seen->known = true;
  seen->val.num = value;
  seen->at_ms = b->now_ms;
  fn(b, ch, cn, value);
}

void gw_bridge_on_knx_group(gw_bridge *b, uint16_t src, uint16_t dst,
                            knx_service svc, const knx_payload *p,
                            uint64_t now_ms)
{
  if (!b)
    return;
  b->now_ms = now_ms;
  /* Commands run the OCPP side's code, which may re-enter the bridge:
   * work on a copy of the matches, not on the index itself. */
  size_t first = gw__ref_lower_bound(b, dst);
  size_t n = 0;
  while (first + n < b->n_refs && b->refs[first + n].ga == dst)
    n++;
  if (n == 0)
    return;
  if (svc == KNX_GROUP_READ) {
    for (size_t i = 0; i < n; i++) {
      if (gw__answer_read(b, &b->refs[first + i]))
        return;
    }
    return;
  }
  if (svc != KNX_GROUP_WRITE)
    return;
  gw_ga_ref matches[GW_OBJ_COUNT];
  size_t m = 0;
  for (size_t i = 0; i < n && m < GW_OBJ_COUNT; i++) {
    if (!gw_object_is_state(b->refs[first + i].obj))
      matches[m++] = b->refs[first + i];
  }
  for (size_t i = 0; i < m; i++)
    on_command_write(b, &matches[i], src, p);
}
