/* What the energy manager is told: the meter and the tariff from KNX,
 * transactions and per-phase currents from the chargers, and the KNX
 * writes the bridge hands on (cap, wish, mode, pause). Each only records
 * and marks the manager due; gw_energy_pump decides. */
#include "gateway/energy_impl.h"

#include <math.h>
#include <string.h>

/* ---- KNX ----------------------------------------------------------------- */

/* The value of p in the gateway's units (A, W, 0/1). */
static bool decode(knx_dpt dpt, const knx_payload *p, double *out)
{
  knx_value v;
  if (!p || knx_dpt_decode(dpt, p, &v) != KNX_OK || !isfinite(v.number))
    return false;
  switch (dpt) {
  case KNX_DPT_9_021: *out = v.number / 1000; break;  /* mA */
  case KNX_DPT_9_024: *out = v.number * 1000; break;  /* kW */
  default: *out = v.number; break;
  }
  return true;
}

static void bad_value(gw_energy *en, const char *what, uint16_t ga,
                      knx_dpt dpt)
{
  char text[KNX_GA_STRLEN];
  knx_ga_format(ga, text);
  gw__en_log(en, GW_LOG_WARN, NULL, "energy: %s on %s ignored: not DPT %s",
             what, text, knx_dpt_name(dpt));
}

static void grid_current(gw_energy *en, int phase, const knx_payload *p,
                         uint64_t now_ms)
{
  double a;
  if (!decode(en->cfg.grid_current_dpt, p, &a)) {
    bad_value(en, "grid current", en->cfg.grid_current[phase].ga,
              en->cfg.grid_current_dpt);
    return;
  }
  en->has_grid[phase] = true;
  en->grid[phase] = a;
  en->grid_at[phase] = now_ms;
  em_set_grid_current(en->em, phase, a, now_ms);
  en->dirty = true;
}

static void grid_power(gw_energy *en, const knx_payload *p, uint64_t now_ms)
{
  double w;
  if (!decode(en->cfg.grid_power_dpt, p, &w)) {
    bad_value(en, "grid power", en->cfg.grid_power.ga, en->cfg.grid_power_dpt);
    return;
  }
  en->has_power = true;
  en->power = w;
  en->power_at = now_ms;
  em_set_grid_power(en->em, w, now_ms);
  en->dirty = true;
}

static void tariff(gw_energy *en, const knx_payload *p)
{
  double v;
  if (!decode(KNX_DPT_1_001, p, &v)) {
    bad_value(en, "cheap tariff", en->cfg.cheap_tariff.ga, KNX_DPT_1_001);
    return;
  }
  if (en->cheap != (v != 0))
    gw__en_log(en, GW_LOG_INFO, NULL, "energy: cheap tariff %s",
               v != 0 ? "on" : "off");
  en->cheap = v != 0;
  em_set_cheap(en->em, en->cheap);
  en->dirty = true;
}

bool gw_energy_on_knx_group(gw_energy *en, uint16_t dst, knx_service svc,
                            const knx_payload *p, uint64_t now_ms)
{
  if (!en)
    return false;
  const gw_energy_conf *c = &en->cfg;
  if (c->headroom_state.set && dst == c->headroom_state.ga) {
    if (svc == KNX_GROUP_READ && en->headroom_sent)
      en->ops.send(en->user_data, dst, c->grid_current_dpt, en->headroom,
                   true);
    return true;
  }
  /* a meter answering someone's read is a measurement too */
  bool value = svc == KNX_GROUP_WRITE || svc == KNX_GROUP_RESPONSE;
  for (int ph = 0; ph < 3; ph++) {
    if (c->grid_current[ph].set && dst == c->grid_current[ph].ga) {
      if (value)
        grid_current(en, ph, p, now_ms);
      return true;
    }
  }
  if (c->grid_power.set && dst == c->grid_power.ga) {
    if (value)
      grid_power(en, p, now_ms);
    return true;
  }
  if (c->cheap_tariff.set && dst == c->cheap_tariff.ga) {
    if (value)
      tariff(en, p);
    return true;
  }
  return false;
}

/* ---- KNX writes the bridge hands on -------------------------------------- */

static void write_mode(gw_energy *en, size_t i, double v)
{
  gw_en_conn *c = &en->conn[i];
  if (!(v >= 0 && v < EM_MODE_COUNT) || v != floor(v)) {
    gw__en_log(en, GW_LOG_WARN, c->charger_id, "connector %d: charge_mode %g "
               "ignored (0 off, 1 now, 2 minpv, 3 pv, 4 cheap)", c->connector,
               v);
    return;
  }
  c->conn_mode = (em_mode)v;
  c->session_mode_set = false;  /* KNX decides over the tag from now on */
  gw__en_log(en, GW_LOG_INFO, c->charger_id, "connector %d: charge mode %s",
             c->connector, em_mode_name(c->conn_mode));
  gw__en_apply_mode(en, i);
}

void gw_energy_on_write(gw_energy *en, const char *charger_id, int connector,
                        gw_object obj, double value, uint64_t now_ms)
{
  (void)now_ms;
  long i = en ? gw__en_find(en, charger_id, connector) : -1;
  if (i < 0)
    return;
  gw_en_conn *c = &en->conn[i];
  switch (obj) {
  case GW_OBJ_MAX_CURRENT:
    em_set_cap(en->em, (size_t)i, value < 0 ? 0 : value);
    break;
  case GW_OBJ_FAST_CHARGING:
    em_set_wish(en->em, (size_t)i,
                value != 0 ? c->fast_current : c->normal_current);
    break;
  case GW_OBJ_CHARGE_MODE:
    write_mode(en, (size_t)i, value);
    return;
  case GW_OBJ_CHARGING:
    c->paused_by_knx = value == 0;
    gw__en_apply_mode(en, (size_t)i);
    return;
  default:
    return;
  }
  en->dirty = true;
}

/* ---- OCPP ---------------------------------------------------------------- */

/* The mode a session started with id_tag runs in: its tag_modes entry,
 * else the connector's mode. */
static void session_starts(gw_energy *en, size_t i, const char *id_tag,
                           uint64_t now_ms)
{
  gw_en_conn *c = &en->conn[i];
  c->session_mode_set = false;
  c->paused_by_knx = false;
  for (size_t k = 0; id_tag && k < c->n_tag_modes; k++) {
    if (ocpp_tags_equal(c->tag_match, c->tag_mode_tags[k], id_tag)) {
      c->session_mode_set = true;
      c->session_mode = c->tag_mode_modes[k];
      gw__en_log(en, GW_LOG_INFO, c->charger_id, "connector %d: tag %s: "
                 "charge mode %s", c->connector, id_tag,
                 em_mode_name(c->session_mode));
      break;
    }
  }
  em_set_session(en->em, i, true, now_ms);
  gw__en_apply_mode(en, i);
}

static void session_ends(gw_energy *en, size_t i, uint64_t now_ms)
{
  gw_en_conn *c = &en->conn[i];
  c->session_mode_set = false;
  c->paused_by_knx = false;
  em_set_session(en->em, i, false, now_ms);
  gw__en_apply_mode(en, i);
}

/* Per-phase Current.Import. A value without a phase is the car's only on a
 * 1-phase charger; on a 3-phase one nobody knows its phases. */
static void meter(gw_energy *en, size_t i, const ocpp_event *ev,
                  uint64_t now_ms)
{
  double amps[3];
  bool any = false;
  for (int p = 0; p < 3; p++) {
    amps[p] = ev->meter.current_phase_a[p];
    if (!isnan(amps[p]) && amps[p] < 0)
      amps[p] = 0;
    any = any || !isnan(amps[p]);
  }
  if (!any && !ev->meter.has_current)
    return;
  if (!any && en->conn[i].phases == 1)
    amps[0] = ev->meter.current_a;
  em_set_draw(en->em, i, amps, now_ms);
  en->dirty = true;
}

/* A charger that booted may have dropped its charging profiles: each of
 * its running sessions gets its limit again. */
static void charger_booted(gw_energy *en, const char *charger_id)
{
  for (size_t i = 0; i < en->n; i++) {
    if (strcmp(en->conn[i].charger_id, charger_id) == 0) {
      em_forget_limit(en->em, i);
      en->dirty = true;
    }
  }
}

void gw_energy_on_ocpp_event(gw_energy *en, const ocpp_event *ev,
                             uint64_t now_ms)
{
  if (!en || !ev)
    return;
  if (ev->type == OCPP_EV_BOOT && ev->charger_id) {
    charger_booted(en, ev->charger_id);
    return;
  }
  long i = gw__en_find(en, ev->charger_id, ev->connector);
  if (i < 0)
    return;
  switch (ev->type) {
  case OCPP_EV_TX_STARTED:
    session_starts(en, (size_t)i, ev->tx_started.id_tag, now_ms);
    break;
  case OCPP_EV_TX_STOPPED:
    session_ends(en, (size_t)i, now_ms);
    break;
  case OCPP_EV_METER:
    meter(en, (size_t)i, ev, now_ms);
    break;
  case OCPP_EV_STATUS:
    /* the car is gone without a StopTransaction seen */
    if (ev->status.status == OCPP_CP_AVAILABLE)
      session_ends(en, (size_t)i, now_ms);
    break;
  default:
    break;
  }
}
