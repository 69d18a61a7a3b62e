/* The charge point role: the gateway towards a central system. The
 * session core validates the central system's CALLs and hands them to the
 * owner's call hook (ocpp_session_config.call), which answers for the
 * charger the gateway stands for. The role registers itself: a
 * BootNotification with the charger's identity on every connection,
 * repeated after the interval while the answer is Pending or Rejected,
 * then a Heartbeat every interval; the owner's own CALLs (status and
 * transaction messages) go out with ocpp_session_call() once registered.
 * A CALL for an action OCPP 1.6 does not define is answered
 * NotImplemented without reaching the owner. */
#include <stdio.h>
#include <string.h>

#include "ocpp/session_impl.h"

#define CP16_DEFAULT_INTERVAL 300  /* s, when the answer gives none */
#define CP16_RETRY_S 60            /* a boot that got no answer */

/* Copies src into dst[cap], cut on a UTF-8 boundary. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
  size_t n = src ? strlen(src) : 0;
  if (n >= cap) {
    n = cap - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
      n--;
  }
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

static void schedule(ocpp_session *s, int seconds)
{
  s->boot_deadline = s->now.mono_ms + (uint64_t)seconds * 1000u;
}

static void finish_boot(ocpp_session *s, ocpp_call *call, bool answered,
                        const json_t *payload, const char *error_code)
{
  (void)call;
  s->cp16.boot_pending = false;
  if (!s->open)
    return;
  if (!answered) {
    ocpp__session_log(s, OCPP_LOG_WARN, "BootNotification not answered (%s); "
                      "again in %d s", error_code, CP16_RETRY_S);
    schedule(s, CP16_RETRY_S);
    return;
  }
  const char *status = json_string_value(json_object_get(payload, "status"));
  json_int_t interval = json_integer_value(json_object_get(payload, "interval"));
  s->cp16.interval = interval > 0 && interval <= 86400 ? (int)interval
                                                       : CP16_DEFAULT_INTERVAL;
  bool accepted = status && strcmp(status, "Accepted") == 0;
  ocpp__session_log(s, accepted ? OCPP_LOG_INFO : OCPP_LOG_WARN,
                    "BootNotification %s; %s every %d s", status ? status : "?",
                    accepted ? "heartbeat" : "again", s->cp16.interval);
  schedule(s, s->cp16.interval);
  if (!accepted)
    return;
  s->cp16.registered = true;
  if (s->cfg.registered)
    s->cfg.registered(s->cfg.user_data, true);
}

static void send_boot(ocpp_session *s)
{
  const ocpp_cp16_state *c = &s->cp16;
  json_t *p = json_pack("{s:s,s:s}", "chargePointVendor",
                        c->vendor[0] ? c->vendor : "unknown",
                        "chargePointModel", c->model[0] ? c->model : "unknown");
  if (p && c->serial[0])
    json_object_set_new(p, "chargePointSerialNumber", json_string(c->serial));
  if (p && c->firmware[0])
    json_object_set_new(p, "firmwareVersion", json_string(c->firmware));
  if (ocpp__session_queue(s, "BootNotification", p, finish_boot, NULL) != OCPP_OK) {
    schedule(s, CP16_RETRY_S);
    return;
  }
  s->cp16.boot_pending = true;
  ocpp__session_pump(s);
}

static void finish_heartbeat(ocpp_session *s, ocpp_call *call, bool answered,
                             const json_t *payload, const char *error_code)
{
  (void)s;
  (void)call;
  (void)answered;
  (void)payload;
  (void)error_code;
}

static void send_heartbeat(ocpp_session *s)
{
  schedule(s, s->cp16.interval);
  if (ocpp__session_queue(s, "Heartbeat", json_object(), finish_heartbeat,
                          NULL) == OCPP_OK)
    ocpp__session_pump(s);
}

static void cp16_open(ocpp_session *s)
{
  s->cp16.registered = false;
  s->cp16.boot_pending = false;
  s->boot_deadline = 0;
  if (s->cp16.has_boot)
    send_boot(s);
  else
    ocpp__session_log(s, OCPP_LOG_INFO,
                      "waiting for the charger's identity to boot with");
}

static void cp16_close(ocpp_session *s)
{
  bool was = s->cp16.registered;
  s->cp16.registered = false;
  s->cp16.boot_pending = false;
  if (was && s->cfg.registered)
    s->cfg.registered(s->cfg.user_data, false);
}

static void cp16_tick(ocpp_session *s)
{
  if (!s->boot_deadline || s->now.mono_ms < s->boot_deadline)
    return;
  s->boot_deadline = 0;
  if (s->cp16.registered)
    send_heartbeat(s);
  else if (!s->cp16.boot_pending && s->cp16.has_boot)
    send_boot(s);
}

int ocpp_session_cp16_set_boot(ocpp_session *s, const ocpp_cp16_boot *boot,
                               ocpp_clock now)
{
  if (!s || !boot || s->role != &ocpp__role_cp16)
    return OCPP_EINVAL;
  ocpp_cp16_state *c = &s->cp16;
  copy_cut(c->vendor, sizeof c->vendor, boot->vendor);
  copy_cut(c->model, sizeof c->model, boot->model);
  copy_cut(c->serial, sizeof c->serial, boot->serial);
  copy_cut(c->firmware, sizeof c->firmware, boot->firmware);
  bool first = !c->has_boot;
  c->has_boot = true;
  s->now = now;
  if (s->open && first && !c->registered && !c->boot_pending)
    send_boot(s);
  return OCPP_OK;
}

int ocpp_session_cp16_set_interval(ocpp_session *s, int seconds,
                                   ocpp_clock now)
{
  if (!s || s->role != &ocpp__role_cp16 || seconds < 1 || seconds > 86400)
    return OCPP_EINVAL;
  s->cp16.interval = seconds;
  s->now = now;
  if (s->open && s->cp16.registered)
    schedule(s, seconds);
  return OCPP_OK;
}

int ocpp_session_cp16_interval(const ocpp_session *s)
{
  return s && s->role == &ocpp__role_cp16 ? s->cp16.interval : 0;
}

bool ocpp_session_cp16_registered(const ocpp_session *s)
{
  return s && s->role == &ocpp__role_cp16 && s->cp16.registered;
}

const ocpp_role ocpp__role_cp16 = {
  .name = "charge point 1.6",
  .version = OCPP_VERSION_16,
  .handlers = NULL,
  .on_open = cp16_open,
  .on_close = cp16_close,
  .on_tick = cp16_tick,
};
