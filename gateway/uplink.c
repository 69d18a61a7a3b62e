/* The chargers' backend links: which link stands for which charger, its
 * identity and the connector states the backend is told. A state is kept
 * until the backend has answered its StatusNotification (the latest one
 * per connector: a backend wants to know how a connector is, not every
 * step it took while the link was down), and sent again on the next
 * registration when the answer never came. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink_impl.h"

/* ---- connector states ----------------------------------------------------- */

static void send_states(gw_uplink *l);

static void state_done(void *user_data, bool answered, const json_t *payload,
                       const char *error_code)
{
  (void)payload;
  (void)error_code;
  status_slot *s = user_data;
  s->inflight = false;
  /* no answer: the state is still news to the backend */
  if (!answered)
    s->waiting = true;
  else
    send_states(s->link);
}

static json_t *state_payload(const status_slot *s)
{
  char when[32];
  gw__uplink_utc_text(s->when, when);
  json_t *p = json_pack("{s:i,s:s,s:s,s:s}", "connectorId", s->connector,
                        "errorCode", ocpp_cp_error_name(s->error), "status",
                        ocpp_cp_status_name(s->status), "timestamp", when);
  if (p && s->info[0])
    json_object_set_new(p, "info", json_string(s->info));
  if (p && s->vendor_error[0])
    json_object_set_new(p, "vendorErrorCode", json_string(s->vendor_error));
  return p;
}

/* Every waiting state that is not already on its way, while the link is
 * registered (ocpp_upstream_call refuses otherwise, and the state waits). */
static void send_states(gw_uplink *l)
{
  for (int i = 0; i < N_SLOTS; i++) {
    status_slot *s = &l->slots[i];
    if (!s->waiting || s->inflight)
      continue;
    if (ocpp_upstream_call(l->up, "StatusNotification", state_payload(s),
                           state_done, s) != OCPP_OK)
      return;
    s->waiting = false;
    s->inflight = true;
  }
}

void gw__uplink_resend_states(gw_uplink *l, int connector)
{
  for (int i = 0; i < N_SLOTS; i++)
    if (l->slots[i].known && (connector == 0 || connector == i))
      l->slots[i].waiting = true;
  send_states(l);
}

static void boot_sent(void *user_data, bool answered, const json_t *payload,
                      const char *error_code)
{
  (void)user_data;
  (void)answered;
  (void)payload;
  (void)error_code;
}

void gw__uplink_send_boot(gw_uplink *l)
{
  const boot_info *b = &l->boot;
  json_t *p = json_pack("{s:s,s:s}", "chargePointVendor",
                        b->vendor[0] ? b->vendor : "unknown",
                        "chargePointModel", b->model[0] ? b->model : "unknown");
  /* the store's fields are the schema's length or shorter, but 25 for
   * the serial: cut like the link's own boot */
  if (p && b->serial[0] && strlen(b->serial) <= 25)
    json_object_set_new(p, "chargePointSerialNumber", json_string(b->serial));
  if (p && b->firmware[0])
    json_object_set_new(p, "firmwareVersion", json_string(b->firmware));
  ocpp_upstream_call(l->up, "BootNotification", p, boot_sent, NULL);
}

static void on_status(gw_uplink *l, const ocpp_event *ev)
{
  if (ev->connector < 0 || ev->connector >= N_SLOTS)
    return;
  status_slot *s = &l->slots[ev->connector];
  s->known = true;
  s->waiting = true;
  s->status = ev->status.status;
  s->error = ev->status.error;
  /* the charger's StatusNotification passed the same schema: they fit */
  snprintf(s->info, sizeof s->info, "%s", ev->status.info ? ev->status.info : "");
  snprintf(s->vendor_error, sizeof s->vendor_error, "%s",
           ev->status.vendor_error ? ev->status.vendor_error : "");
  s->when = ev->timestamp ? ev->timestamp : time(NULL);
  send_states(l);
}

/* ---- the link's hooks ----------------------------------------------------- */

static void link_up_or_down(void *user_data, bool up)
{
  gw_uplink *l = user_data;
  if (up) {
    /* a new registration: the backend hears every known state again */
    for (int i = 0; i < N_SLOTS; i++)
      if (l->slots[i].known)
        l->slots[i].waiting = true;
    send_states(l);
    gw__uplink_queue_send(l);
  }
  if (l->set->hooks.on_link)
    l->set->hooks.on_link(l->set->user_data, l->charger_id, up);
}

static void link_log(void *user_data, ocpp_log_level level,
                     const char *charger_id, const char *message)
{
  gw_uplink *l = user_data;
  if (l->set->hooks.on_log)
    l->set->hooks.on_log(l->set->user_data, level, charger_id, message);
}

static json_t *link_call(void *user_data, const char *action,
                         const json_t *payload, const char **error_code)
{
  return gw__uplink_command(user_data, action, payload, error_code);
}

/* ---- lifetime ------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static bool same_text(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_tags(const gw_upstream_conf *a, const gw_upstream_conf *b)
{
  if (a->n_tags != b->n_tags)
    return false;
  for (size_t i = 0; i < a->n_tags; i++)
    if (!same_text(a->tags[i], b->tags[i]))
      return false;
  return true;
}

static bool same_conf(const gw_upstream_conf *a, const gw_upstream_conf *b)
{
  return same_text(a->url, b->url) && same_text(a->identity, b->identity) &&
         same_tags(a, b) &&
         a->security_profile == b->security_profile &&
         same_text(a->password, b->password) &&
         same_text(a->tls_ca, b->tls_ca) && same_text(a->tls_cert, b->tls_cert) &&
         same_text(a->tls_key, b->tls_key) && a->commands == b->commands;
}

static void conf_free_tags(gw_upstream_conf *c)
{
  for (size_t i = 0; c->tags && i < c->n_tags; i++)
    free(c->tags[i]);
  free(c->tags);
  c->tags = NULL;
  c->n_tags = 0;
}

static void free_link(gw_uplink *l)
{
  if (!l)
    return;
  /* its calls finish Offline inside, while l still exists */
  ocpp_upstream_destroy(l->up, NULL, NULL);
  gw_upstream_conf *c = &l->conf;
  if (c->password)
    memset(c->password, 0, strlen(c->password));
  free(c->url);
  free(c->identity);
  free(c->password);
  free(c->tls_ca);
  free(c->tls_cert);
  free(c->tls_key);
  conf_free_tags(c);
  free(l->charger_id);
  free(l);
}

static bool copy_tags(gw_upstream_conf *dst, const gw_upstream_conf *src)
{
  dst->tags = calloc(src->n_tags ? src->n_tags : 1, sizeof *dst->tags);
  if (!dst->tags)
    return false;
  for (; dst->n_tags < src->n_tags; dst->n_tags++)
    if (!(dst->tags[dst->n_tags] = strdup(src->tags[dst->n_tags])))
      return false;
  return true;
}

static bool copy_conf(gw_upstream_conf *dst, const gw_upstream_conf *src,
                      const char *charger_id)
{
  *dst = (gw_upstream_conf){
    .url = dup_or_null(src->url),
    .identity = dup_or_null(src->identity ? src->identity : charger_id),
    .security_profile = src->security_profile,
    .password = dup_or_null(src->password),
    .tls_ca = dup_or_null(src->tls_ca),
    .tls_cert = dup_or_null(src->tls_cert),
    .tls_key = dup_or_null(src->tls_key),
    .commands = src->commands,
    .line = src->line,
  };
  return dst->url && dst->identity && (!src->password || dst->password) &&
         (!src->tls_ca || dst->tls_ca) && (!src->tls_cert || dst->tls_cert) &&
         (!src->tls_key || dst->tls_key) && copy_tags(dst, src);
}

/* What the link needs of the charger's own options. */
static void take_charger_options(gw_uplink *l, const gw_charger_conf *c)
{
  l->tag_match = c->tag_match;
  l->voltage = c->voltage > 0 ? c->voltage : 230;
  l->phases = c->phases > 0 ? c->phases : 3;
  snprintf(l->remote_tag, sizeof l->remote_tag, "%s",
           c->remote_tag ? c->remote_tag : "");
}

/* A new link for charger c; NULL when it cannot start (logged). */
static gw_uplink *start_link(gw_uplinks *u, const gw_charger_conf *c)
{
  gw_uplink *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->set = u;
  take_charger_options(l, c);
  l->charger_id = strdup(c->id);
  if (!l->charger_id || !copy_conf(&l->conf, &c->upstream, c->id)) {
    free_link(l);
    return NULL;
  }
  for (int i = 0; i < N_SLOTS; i++)
    l->slots[i] = (status_slot){.link = l, .connector = i};
  const gw_upstream_conf *uc = &l->conf;
  ocpp_upstream_options o = {
    .url = uc->url, .identity = uc->identity, .log_id = c->id,
    .security_profile = uc->security_profile, .password = uc->password,
    .tls_ca = uc->tls_ca, .tls_cert = uc->tls_cert, .tls_key = uc->tls_key,
    .call_timeout = u->opt.call_timeout, .trace = u->opt.trace,
    .max_message_size = u->opt.max_message_size,
  };
  static const ocpp_upstream_callbacks cb = {
    .on_link = link_up_or_down, .on_log = link_log, .on_call = link_call,
  };
  char err[256];
  int rc = ocpp_upstream_create(u->loop, &o, &cb, l, &l->up, err, sizeof err);
  if (rc == OCPP_OK)
    return l;
  char line[320];
  snprintf(line, sizeof line, "[upstream]: %s", err[0] ? err : ocpp_strerror(rc));
  link_log(l, OCPP_LOG_ERROR, c->id, line);
  free_link(l);
  return NULL;
}

static void apply_boot(gw_uplink *l)
{
  if (l->boot.known)
    ocpp_upstream_set_boot(l->up, l->boot.vendor, l->boot.model,
                           l->boot.serial, l->boot.firmware);
}

/* A link that replaces old (its settings changed on a reload) starts from
 * what old knew: the identity, the states the backend may lack, and the
 * caps its profiles hold on the charger (the bridge keeps them too). */
static void take_state(gw_uplink *l, const gw_uplink *old)
{
  l->boot = old->boot;
  memcpy(l->caps, old->caps, sizeof l->caps);
  for (int i = 0; i < N_SLOTS; i++) {
    l->slots[i] = old->slots[i];
    l->slots[i].link = l;
    l->slots[i].inflight = false;
    if (l->slots[i].known)
      l->slots[i].waiting = true;
  }
  apply_boot(l);
}

/* New links for chargers[0..n) into links[] (n entries; NULL where a
 * charger has no [upstream]); an unchanged link of u is reused. false when
 * one cannot start: what was made is freed, u is as it was. */
static bool build_links(gw_uplinks *u, const gw_charger_conf *chargers,
                        size_t n, gw_uplink **links)
{
  for (size_t i = 0; i < n; i++) {
    links[i] = NULL;
    if (!chargers[i].upstream.url)
      continue;
    gw_uplink *old = gw__uplink_find(u, chargers[i].id);
    if (old && same_conf(&old->conf, &chargers[i].upstream)) {
      take_charger_options(old, &chargers[i]);
      continue;
    }
    links[i] = start_link(u, &chargers[i]);
    if (links[i])
      continue;
    for (size_t k = 0; k < i; k++)
      free_link(links[k]);
    return false;
  }
  return true;
}

/* A link that ends on a reload: KNX must not go on showing it up. */
static void end_link(gw_uplink *l)
{
  ocpp_upstream_info info;
  ocpp_upstream_info_get(l->up, &info);
  if (info.registered && l->set->hooks.on_link)
    l->set->hooks.on_link(l->set->user_data, l->charger_id, false);
  free_link(l);
}

/* A link whose [upstream] is gone: the limits its backend set go with it. */
static void drop_caps(gw_uplink *l)
{
  gw_uplinks *u = l->set;
  for (int c = 0; c < N_SLOTS && u->hooks.set_cap; c++)
    if (l->caps[c].set)
      u->hooks.set_cap(u->user_data, l->charger_id, c, -1);
}

/* Puts links[] in place: unchanged old links move over, replaced ones hand
 * their state on, the rest of the old ones end. */
static void swap_links(gw_uplinks *u, const gw_charger_conf *chargers,
                       size_t n, gw_uplink **links)
{
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (!chargers[i].upstream.url)
      continue;
    gw_uplink *old = gw__uplink_find(u, chargers[i].id);
    for (size_t k = 0; old && k < u->n; k++)
      if (u->links[k] == old)
        u->links[k] = NULL;
    if (links[i] && old) {
      take_state(links[i], old);
      end_link(old);
    }
    links[kept++] = links[i] ? links[i] : old;
  }
  for (size_t k = 0; k < u->n; k++)
    if (u->links[k]) {
      drop_caps(u->links[k]);
      end_link(u->links[k]);
    }
  free(u->links);
  u->links = links;
  u->n = kept;
}

int gw_uplinks_reload(gw_uplinks *u, const gw_charger_conf *chargers, size_t n)
{
  if (!u || (!chargers && n))
    return GW_EINVAL;
  gw_uplink **links = calloc(n ? n : 1, sizeof *links);
  if (!links)
    return GW_ENOMEM;
  if (!build_links(u, chargers, n, links)) {
    free(links);
    return GW_EOCPP;
  }
  swap_links(u, chargers, n, links);
  return GW_OK;
}

int gw_uplinks_create(uv_loop_t *loop, const gw_charger_conf *chargers,
                      size_t n, const gw_uplink_options *opt, gw_store *store,
                      const gw_uplink_hooks *hooks, void *user_data,
                      gw_uplinks **out)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!loop || (!chargers && n) || !opt || !hooks)
    return GW_EINVAL;
  gw_uplinks *u = calloc(1, sizeof *u);
  if (!u)
    return GW_ENOMEM;
  *u = (gw_uplinks){.loop = loop, .store = store, .opt = *opt,
                    .hooks = *hooks, .user_data = user_data};
  int rc = gw_uplinks_reload(u, chargers, n);
  if (rc == GW_OK && !(u->later = malloc(sizeof *u->later)))
    rc = GW_ENOMEM;
  if (rc != GW_OK) {
    for (size_t i = 0; i < u->n; i++)
      free_link(u->links[i]);
    free(u->links);
    free(u);
    return rc;
  }
  uv_timer_init(loop, u->later);
  u->later->data = u;
  *out = u;
  return GW_OK;
}

static void later_closed(uv_handle_t *h)
{
  free(h);
}

void gw_uplinks_destroy(gw_uplinks *u)
{
  if (!u)
    return;
  gw__uplink_relays_forget(u);
  u->later->data = NULL;
  uv_close((uv_handle_t *)u->later, later_closed);
  for (size_t i = 0; i < u->n; i++)
    free_link(u->links[i]);
  free(u->links);
  free(u);
}

/* ---- events and status ---------------------------------------------------- */

/* The BootNotification fields passed the schema: they fit. */
static void keep_boot(gw_uplink *l, const char *vendor, const char *model,
                      const char *serial, const char *firmware)
{
  boot_info *b = &l->boot;
  b->known = true;
  snprintf(b->vendor, sizeof b->vendor, "%s", vendor ? vendor : "");
  snprintf(b->model, sizeof b->model, "%s", model ? model : "");
  snprintf(b->serial, sizeof b->serial, "%s", serial ? serial : "");
  snprintf(b->firmware, sizeof b->firmware, "%s", firmware ? firmware : "");
  apply_boot(l);
}

void gw_uplinks_set_boot(gw_uplinks *u, const char *charger_id,
                         const char *vendor, const char *model,
                         const char *serial, const char *firmware)
{
  gw_uplink *l = gw__uplink_find(u, charger_id);
  if (l)
    keep_boot(l, vendor, model, serial, firmware);
}

void gw_uplinks_on_event(gw_uplinks *u, const ocpp_event *ev)
{
  gw_uplink *l = ev ? gw__uplink_find(u, ev->charger_id) : NULL;
  if (!l)
    return;
  if (ev->type == OCPP_EV_BOOT)
    keep_boot(l, ev->boot.vendor, ev->boot.model, ev->boot.serial,
              ev->boot.firmware);
  else if (ev->type == OCPP_EV_STATUS)
    on_status(l, ev);
  else
    gw__uplink_queue_event(l, ev);
}

static json_t *time_or_null(time_t t)
{
  char text[32];
  if (!t)
    return json_null();
  gw__uplink_utc_text(t, text);
  return json_string(text);
}

static json_t *link_status(const gw_uplink *l)
{
  ocpp_upstream_info info;
  ocpp_upstream_info_get(l->up, &info);
  int queued = 0;
  time_t oldest = 0;
  for (int i = 0; i < N_SLOTS; i++) {
    const status_slot *s = &l->slots[i];
    if (!s->waiting && !s->inflight)
      continue;
    queued++;
    if (!oldest || s->when < oldest)
      oldest = s->when;
  }
  int in_store = 0;
  time_t store_oldest = 0;
  gw__uplink_queue_stats(l, &in_store, &store_oldest);
  queued += in_store;
  if (store_oldest && (!oldest || store_oldest < oldest))
    oldest = store_oldest;
  json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:s,s:i,s:i}", "url", l->conf.url,
                        "identity", l->conf.identity, "connected", info.registered,
                        "websocket", info.open, "last_error", info.last_error,
                        "failures", (int)info.failures, "queue_length", queued);
  if (o) {
    json_object_set_new(o, "since", time_or_null(info.since));
    json_object_set_new(o, "oldest_queued", time_or_null(oldest));
  }
  return o;
}

void gw_uplinks_status(const gw_uplinks *u, json_t *chargers)
{
  size_t i;
  json_t *c;
  json_array_foreach(chargers, i, c) {
    const gw_uplink *l =
      gw__uplink_find(u, json_string_value(json_object_get(c, "id")));
    if (l)
      json_object_set_new(c, "upstream", link_status(l));
  }
}

