/* The charger registry: the record of every charger the server knows
 * (configured, or accepted as unknown), the identities refused at the
 * handshake, and the application's log and event hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/internal.h"

void ocpp__log(ocpp_server *srv, ocpp_log_level lvl, const char *charger_id,
               const char *fmt, ...)
{
  if (!srv->cb.on_log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  srv->cb.on_log(srv->user_data, lvl, charger_id, line);
}

void ocpp__emit(ocpp_server *srv, const ocpp_event *ev)
{
  if (srv->cb.on_event)
    srv->cb.on_event(srv->user_data, ev);
}

/* ---- charger records ---------------------------------------------------- */

ocpp_cp *ocpp__find_cp(const ocpp_server *srv, const char *id)
{
  for (size_t i = 0; i < srv->n_cps; i++)
    if (strcmp(srv->cps[i]->opt.id, id) == 0)
      return srv->cps[i];
  return NULL;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* Frees a password copy without leaving it in freed memory. */
static void free_secret(const char *p)
{
  if (!p)
    return;
  memset((char *)p, 0, strlen(p));
  free((char *)p);
}

static void cp_free_options(ocpp_cp *cp)
{
  free((char *)cp->opt.id);
  free((char *)cp->opt.name);
  free_secret(cp->opt.password);
  free_secret(cp->opt.previous_password);
  free((char *)cp->opt.remote_tag);
  for (size_t i = 0; i < cp->opt.n_tags; i++)
    free(cp->tag_store[i]);
  free(cp->tag_store);
  cp->tag_store = NULL;
  memset(&cp->opt, 0, sizeof cp->opt);
}

static int cp_copy_options(ocpp_cp *cp, const ocpp_charger_options *o)
{
  ocpp_charger_options c = *o;
  c.id = dup_or_null(o->id);
  c.name = dup_or_null(o->name ? o->name : o->id);
  c.password = dup_or_null(o->password);
  c.previous_password = dup_or_null(o->previous_password);
  c.remote_tag = strdup(o->remote_tag && *o->remote_tag ? o->remote_tag : "KNX");
  c.tags = NULL;
  c.n_tags = 0;
  cp->opt = c;
  if (!c.id || !c.name || !c.remote_tag || (o->password && !c.password) ||
      (o->previous_password && !c.previous_password))
    return OCPP_ENOMEM;
  if (o->n_tags) {
    cp->tag_store = calloc(o->n_tags, sizeof(char *));
    if (!cp->tag_store)
      return OCPP_ENOMEM;
    for (size_t i = 0; i < o->n_tags; i++) {
      cp->tag_store[i] = strdup(o->tags[i]);
      if (!cp->tag_store[i])
        return OCPP_ENOMEM;
      cp->opt.n_tags = i + 1;
    }
    cp->opt.tags = (const char *const *)cp->tag_store;
  }
  if (cp->opt.n_connectors < 1)
    cp->opt.n_connectors = 1;
  if (cp->opt.n_connectors > OCPP_MAX_CONNECTORS)
    cp->opt.n_connectors = OCPP_MAX_CONNECTORS;
  if (cp->opt.voltage <= 0)
    cp->opt.voltage = 230;
  if (cp->opt.phases != 1 && cp->opt.phases != 3)
    cp->opt.phases = 3;
  return OCPP_OK;
}

static void cp_init_state(ocpp_cp *cp)
{
  cp->max_stack_level = -1;
  cp->smart_charging = true;
  cp->profile_strategy = -1;
  cp->limit_a = -1;
}

ocpp_cp *ocpp__cp_create(const ocpp_charger_options *o, bool configured)
{
  ocpp_cp *cp = calloc(1, sizeof *cp);
  if (!cp)
    return NULL;
  cp->configured = configured;
  cp_init_state(cp);
  if (cp_copy_options(cp, o) != OCPP_OK ||
      !ocpp__cp_connector(cp, cp->opt.n_connectors)) {
    cp_free_options(cp);
    free(cp->conn_state);
    free(cp);
    return NULL;
  }
  return cp;
}

void ocpp__cp_destroy(ocpp_cp *cp)
{
  if (!cp)
    return;
  cp_free_options(cp);
  free(cp->conn_state);
  free(cp);
}

int ocpp__cp_set_password(ocpp_cp *cp, const char *password,
                          const char *previous)
{
  char *pw = strdup(password);
  char *prev = previous ? strdup(previous) : NULL;
  if (!pw || (previous && !prev)) {
    free_secret(pw);
    free_secret(prev);
    return OCPP_ENOMEM;
  }
  free_secret(cp->opt.password);
  free_secret(cp->opt.previous_password);
  cp->opt.password = pw;
  cp->opt.previous_password = prev;
  return OCPP_OK;
}

int ocpp_server_set_password(ocpp_server *srv, const char *charger_id,
                             const char *password, const char *previous)
{
  if (!srv || !charger_id || !password)
    return OCPP_EINVAL;
  ocpp_cp *cp = ocpp__find_cp(srv, charger_id);
  if (!cp || !cp->configured)
    return OCPP_EUNKNOWN;
  return ocpp__cp_set_password(cp, password, previous);
}

void ocpp__cp_take_options(ocpp_cp *cp, ocpp_cp *fresh)
{
  cp_free_options(cp);
  cp->opt = fresh->opt;
  cp->tag_store = fresh->tag_store;
  cp->configured = true;
  free(fresh);
}

static int registry_append(ocpp_server *srv, ocpp_cp *cp)
{
  ocpp_cp **n = realloc(srv->cps, (srv->n_cps + 1) * sizeof *n);
  if (!n)
    return OCPP_ENOMEM;
  srv->cps = n;
  srv->cps[srv->n_cps++] = cp;
  return OCPP_OK;
}

ocpp_cp *ocpp__add_unknown_cp(ocpp_server *srv, const char *id)
{
  static const char *const all[] = {"*"};
  ocpp_charger_options o = {
    .id = id, .start_mode = OCPP_START_TAG, .tags = all, .n_tags = 1,
    .remote_tag = "KNX", .n_connectors = 1, .voltage = 230, .phases = 3,
  };
  ocpp_cp *cp = ocpp__cp_create(&o, false);
  if (!cp)
    return NULL;
  if (registry_append(srv, cp) != OCPP_OK) {
    ocpp__cp_destroy(cp);
    return NULL;
  }
  return cp;
}

void ocpp__remember_refused(ocpp_server *srv, const char *identity,
                            const char *address, int status,
                            const char *reason)
{
  /* The same charger retries every few seconds: keep one entry per
   * identity and address, with the latest time. */
  ocpp_refused *r = NULL;
  for (size_t i = 0; i < srv->n_refused; i++)
    if (strcmp(srv->refused[i].identity, identity) == 0 &&
        strcmp(srv->refused[i].address, address) == 0)
      r = &srv->refused[i];
  if (!r) {
    r = &srv->refused[srv->refused_next];
    srv->refused_next = (srv->refused_next + 1) % OCPP_MAX_REFUSED;
    if (srv->n_refused < OCPP_MAX_REFUSED)
      srv->n_refused++;
  }
  snprintf(r->identity, sizeof r->identity, "%s", identity);
  snprintf(r->address, sizeof r->address, "%s", address);
  snprintf(r->reason, sizeof r->reason, "%s", reason);
  r->http_status = status;
  r->when = time(NULL); /* the registry is the transport's: it may read the clock */

  ocpp_event ev = {.type = OCPP_EV_REFUSED, .charger_id = identity,
                   .timestamp = r->when};
  ev.refused.identity = identity;
  ev.refused.address = address;
  ev.refused.http_status = status;
  ev.refused.reason = reason;
  ocpp__emit(srv, &ev);
}

