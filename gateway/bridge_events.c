/* OCPP events become KNX state objects. The transaction belongs to the
 * charger record in ocpp/: events carry what changed and the bridge asks
 * the record for the rest, so the two can never disagree. */
#include "gateway/bridge_impl.h"

#include <math.h>

/* DPT 5.010 values of DESIGN.md's table, spelled out so that a reordering
 * of the OCPP enum can never change what goes on the bus. */
static const uint8_t gw_status_value[OCPP_CP_STATUS_COUNT] = {
  [OCPP_CP_AVAILABLE] = 0,
  [OCPP_CP_PREPARING] = 1,
  [OCPP_CP_CHARGING] = 2,
  [OCPP_CP_SUSPENDED_EV] = 3,
  [OCPP_CP_SUSPENDED_EVSE] = 4,
  [OCPP_CP_FINISHING] = 5,
  [OCPP_CP_RESERVED] = 6,
  [OCPP_CP_UNAVAILABLE] = 7,
  [OCPP_CP_FAULTED] = 8,
};

static const uint8_t gw_error_value[OCPP_ERR_COUNT] = {
  [OCPP_ERR_NO_ERROR] = 0,
  [OCPP_ERR_CONNECTOR_LOCK_FAILURE] = 1,
  [OCPP_ERR_EV_COMMUNICATION_ERROR] = 2,
  [OCPP_ERR_GROUND_FAILURE] = 3,
  [OCPP_ERR_HIGH_TEMPERATURE] = 4,
  [OCPP_ERR_INTERNAL_ERROR] = 5,
  [OCPP_ERR_LOCAL_LIST_CONFLICT] = 6,
  [OCPP_ERR_OTHER_ERROR] = 7,
  [OCPP_ERR_OVER_CURRENT_FAILURE] = 8,
  [OCPP_ERR_OVER_VOLTAGE] = 9,
  [OCPP_ERR_POWER_METER_FAILURE] = 10,
  [OCPP_ERR_POWER_SWITCH_FAILURE] = 11,
  [OCPP_ERR_READER_FAILURE] = 12,
  [OCPP_ERR_RESET_FAILURE] = 13,
  [OCPP_ERR_UNDER_VOLTAGE] = 14,
  [OCPP_ERR_WEAK_SIGNAL] = 15,
};

static const bool gw_status_plugged[OCPP_CP_STATUS_COUNT] = {
  [OCPP_CP_PREPARING] = true,
  [OCPP_CP_CHARGING] = true,
  [OCPP_CP_SUSPENDED_EV] = true,
  [OCPP_CP_SUSPENDED_EVSE] = true,
  [OCPP_CP_FINISHING] = true,
};

/* A new session's energy is news even when it equals the last one. */
static void publish_session_energy(gw_bridge *b, const gw_charger *ch,
                                   gw_connector *cn, double wh)
{
  gw__publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY, wh, true);
  gw__publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE, wh, false);
}

static void refresh_availability(gw_bridge *b, const gw_charger *ch,
                                 gw_connector *cn)
{
  if (!cn->status_known && !ch->charger_status_known)
    return;
  bool own_unavailable =
      cn->status_known && cn->status == OCPP_CP_UNAVAILABLE;
  bool available = !own_unavailable && !ch->charger_unavailable;
  gw__publish_number(b, ch, cn, GW_OBJ_AVAILABILITY_STATE, available ? 1 : 0,
                     false);
}

static void refresh_error(gw_bridge *b, const gw_charger *ch, gw_connector *cn)
{
  ocpp_cp_error e;
  if (ch->charger_faulted)
    e = ch->charger_error;
  else if (cn->status_known)
    e = cn->error;
  else
    return;
  gw__publish_number(b, ch, cn, GW_OBJ_ERROR_CODE, gw_error_value[e], false);
}

static void ev_online(gw_bridge *b, gw_charger *ch, const ocpp_event *ev,
                      bool online)
{
  (void)ev;
  for (size_t i = 0; i < ch->n_conn; i++)
    gw__publish_number(b, ch, &ch->conn[i], GW_OBJ_ONLINE, online ? 1 : 0,
                       false);
}

static void ev_became_online(gw_bridge *b, gw_charger *ch,
                             const ocpp_event *ev)
{
  ev_online(b, ch, ev, true);
}

static void ev_became_offline(gw_bridge *b, gw_charger *ch,
                              const ocpp_event *ev)
{
  ev_online(b, ch, ev, false);
}

static void status_charger_wide(gw_bridge *b, gw_charger *ch,
                                const ocpp_event *ev)
{
  ch->charger_status_known = true;
  ch->charger_unavailable = ev->status.status == OCPP_CP_UNAVAILABLE;
  ch->charger_faulted = ev->status.status == OCPP_CP_FAULTED;
  ch->charger_error = ev->status.error;
  for (size_t i = 0; i < ch->n_conn; i++) {
    refresh_availability(b, ch, &ch->conn[i]);
    refresh_error(b, ch, &ch->conn[i]);
  }
}

static void ev_status(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  ocpp_cp_status s = ev->status.status;
  ocpp_cp_error e = ev->status.error;
  if ((unsigned)s >= OCPP_CP_STATUS_COUNT || (unsigned)e >= OCPP_ERR_COUNT) {
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: status %d/%d out of "
            "range, ignored", ev->connector, (int)s, (int)e);
    return;
  }
  if (ev->connector == 0) {
    status_charger_wide(b, ch, ev);
    return;
  }
  gw_connector *cn = gw__connector_find(ch, ev->connector);
  if (!cn)
    return;
  cn->status_known = true;
  cn->status = s;
  cn->error = e;
  gw__publish_number(b, ch, cn, GW_OBJ_STATUS, gw_status_value[s], false);
  refresh_error(b, ch, cn);
  gw__publish_number(b, ch, cn, GW_OBJ_PLUGGED, gw_status_plugged[s] ? 1 : 0,
                     false);
  refresh_availability(b, ch, cn);
}

static void ev_tx_started(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  gw_connector *cn = gw__connector_find(ch, ev->connector);
  if (!cn)
    return;
  cn->paused = false;
  gw__set_charging(b, ch, cn, true);
  if (ev->tx_started.recovered) {
    /* Picked up after a restart: not a new session, so no start time or
     * tag; the energy so far is what the record knows. */
    ocpp_transaction_info tx;
    if (gw__connector_tx(b, ch, cn, &tx) && tx.has_meter_start &&
        tx.has_energy && tx.energy_wh >= tx.meter_start_wh)
      gw__publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE,
                         tx.energy_wh - tx.meter_start_wh, false);
    return;
  }
  gw__publish_time(b, ch, cn, GW_OBJ_START_TIME, ev->timestamp);
  if (ev->tx_started.id_tag && *ev->tx_started.id_tag)
    gw__publish_tag(b, ch, cn, ev->tx_started.id_tag, ev->tx_started.tag_name);
  gw__publish_number(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE, 0, false);
}

/* StopTransaction may come without a connector (unknown id after a
 * restart, id 0 or -1): then the connector running that id is meant. */
static gw_connector *stopped_connector(const gw_bridge *b, gw_charger *ch,
                                       const ocpp_event *ev)
{
  if (ev->connector > 0)
    return gw__connector_find(ch, ev->connector);
  for (size_t i = 0; i < ch->n_conn; i++) {
    ocpp_transaction_info tx;
    if (gw__connector_tx(b, ch, &ch->conn[i], &tx) && tx.transaction_id != 0 &&
        tx.transaction_id == ev->tx_stopped.transaction_id)
      return &ch->conn[i];
  }
  if (ch->n_conn == 1 && gw__tx_running(b, ch, &ch->conn[0]))
    return &ch->conn[0];
  return NULL;
}

/* The session energy when the event has none: the charger sent no
 * meterStop (the last register counts), or the stop could not be tied to
 * the transaction still running on the connector. */
static void stop_energy_fallback(gw_bridge *b, gw_charger *ch,
                                 gw_connector *cn, const ocpp_event *ev)
{
  ocpp_transaction_info tx;
  bool known = gw__connector_tx(b, ch, cn, &tx);
  bool has_start = ev->tx_stopped.has_meter_start;
  double start = ev->tx_stopped.meter_start_wh;
  if (!has_start && known && tx.transaction_id != 0 && tx.has_meter_start) {
    has_start = true;
    start = tx.meter_start_wh;
  }
  bool has_stop = ev->tx_stopped.has_meter_stop &&
                  isfinite(ev->tx_stopped.meter_stop_wh);
  double stop = ev->tx_stopped.meter_stop_wh;
  if (!has_stop && known && tx.has_energy) {
    has_stop = true;
    stop = tx.energy_wh;
  }
  if (!has_start || !has_stop)
    return;
  if (stop < start) {
    gw__log(b, GW_LOG_WARN, ch->id, "connector %d: meter stop %.0f Wh "
            "below start %.0f Wh: session_energy not sent", cn->id, stop,
            start);
    return;
  }
  publish_session_energy(b, ch, cn, stop - start);
}

static void ev_tx_stopped(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  if (ev->tx_stopped.duplicate)
    return;
  gw_connector *cn = stopped_connector(b, ch, ev);
  if (!cn)
    return;
  cn->paused = false;
  if (ev->tx_stopped.has_meter_stop && isfinite(ev->tx_stopped.meter_stop_wh))
    /* meterStop is a register reading like any MeterValues sample. */
    gw__publish_measure(b, ch, cn, GW_OBJ_METER, ev->tx_stopped.meter_stop_wh,
                        ch->energy_hysteresis);
  gw__set_charging(b, ch, cn, false);
  gw__publish_time(b, ch, cn, GW_OBJ_END_TIME, ev->timestamp);
  if (ev->tx_stopped.has_session_energy)
    publish_session_energy(b, ch, cn, ev->tx_stopped.session_energy_wh);
  else
    stop_energy_fallback(b, ch, cn, ev);
  /* nothing flows once the transaction has ended */
  gw__publish_number(b, ch, cn, GW_OBJ_CURRENT, 0, false);
  gw__publish_number(b, ch, cn, GW_OBJ_POWER, 0, false);
}

static void ev_meter(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  gw_connector *cn = gw__connector_find(ch, ev->connector);
  if (!cn)
    return;
  int32_t tx = ev->meter.transaction_id;
  ocpp_transaction_info run;
  bool running = tx == 0 || (gw__connector_tx(b, ch, cn, &run) &&
                             run.transaction_id == tx);
  if (!running) {
    /* Backlog of a finished transaction replayed after a reconnect:
     * its values are history, not the present. */
    gw__log(b, GW_LOG_DEBUG, ch->id, "connector %d: meter values of "
            "transaction %ld not running, not published", cn->id,
            (long)tx);
    return;
  }
  if (ev->meter.has_current)
    gw__publish_measure(b, ch, cn, GW_OBJ_CURRENT, ev->meter.current_a,
                        ch->current_hysteresis);
  if (ev->meter.has_power)
    gw__publish_measure(b, ch, cn, GW_OBJ_POWER, ev->meter.power_w,
                        ch->power_hysteresis);
  if (!ev->meter.has_energy || !isfinite(ev->meter.energy_wh))
    return;
  gw__publish_measure(b, ch, cn, GW_OBJ_METER, ev->meter.energy_wh,
                      ch->energy_hysteresis);
  if (ev->meter.has_session_energy)
    gw__publish_measure(b, ch, cn, GW_OBJ_SESSION_ENERGY_LIVE,
                        ev->meter.session_energy_wh, ch->energy_hysteresis);
}

static void ev_tag(gw_bridge *b, gw_charger *ch, const ocpp_event *ev)
{
  const char *tag = ev->tag.id_tag;
  if (!tag || !*tag)
    return;
  /* Authorize names no connector: the tag belongs to the charger. */
  for (size_t i = 0; i < ch->n_conn; i++) {
    if (ev->connector == 0 || ch->conn[i].id == ev->connector)
      gw__publish_tag(b, ch, &ch->conn[i], tag, ev->tag.name);
  }
}

typedef void (*gw_event_fn)(gw_bridge *b, gw_charger *ch,
                            const ocpp_event *ev);

/* BOOT and REFUSED have nothing to show on KNX. */
static const gw_event_fn gw_events[] = {
  [OCPP_EV_ONLINE] = ev_became_online,
  [OCPP_EV_OFFLINE] = ev_became_offline,
  [OCPP_EV_STATUS] = ev_status,
  [OCPP_EV_TX_STARTED] = ev_tx_started,
  [OCPP_EV_TX_STOPPED] = ev_tx_stopped,
  [OCPP_EV_METER] = ev_meter,
  [OCPP_EV_TAG] = ev_tag,
};

void gw_bridge_on_upstream(gw_bridge *b, const char *charger_id, bool up,
                           uint64_t now_ms)
{
  (void)now_ms;
  gw_charger *ch = b && charger_id
                     ? gw__charger_find(b->chargers, b->n_chargers, charger_id)
                     : NULL;
  for (size_t i = 0; ch && i < ch->n_conn; i++)
    gw__publish_number(b, ch, &ch->conn[i], GW_OBJ_UPSTREAM_ONLINE, up ? 1 : 0,
                       false);
}

void gw_bridge_on_ocpp_event(gw_bridge *b, const ocpp_event *ev,
                             uint64_t now_ms)
{
  if (!b || !ev)
    return;
  b->now_ms = now_ms;
  if ((unsigned)ev->type >= sizeof gw_events / sizeof gw_events[0] ||
      !gw_events[ev->type])
    return;
  gw_charger *ch = gw__charger_find(b->chargers, b->n_chargers, ev->charger_id);
  if (ch)
    gw_events[ev->type](b, ch, ev);
}
