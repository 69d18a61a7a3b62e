/* Password rotation: from the control request to the charger's answer.
 * See rotate.h. */
#include "gateway/rotate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway/log.h"

#define PW_LEN 40
#define KEY_BYTES (PW_LEN / 2)

struct gw_rotation {
  gw_rotation *next;
  gw_rotate_env *env;
  gw_control_request *req;
  char id[128];
  char fresh[PW_LEN + 1];
  char old[PW_LEN + 1];
  char old_previous[PW_LEN + 1];   /* "" when there was none */
  bool had_row;                    /* the store held a password before */
};

int gw_rotate_make_password(char out[41])
{
  unsigned char key[KEY_BYTES];
  size_t got = 0;
  while (got < sizeof key) {
    ssize_t n = getrandom(key + got, sizeof key - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return GW_EIO;
    got += (size_t)n;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof key; i++) {
    out[2 * i] = hex[key[i] >> 4];
    out[2 * i + 1] = hex[key[i] & 15];
  }
  out[PW_LEN] = '\0';
  memset(key, 0, sizeof key);
  return GW_OK;
}

static gw_charger_conf *charger_of(gw_conf *cfg, const char *id)
{
  for (size_t i = 0; i < cfg->n_chargers; i++)
    if (strcmp(cfg->chargers[i].id, id) == 0)
      return &cfg->chargers[i];
  return NULL;
}

static void wipe_free(char *s)
{
  if (s)
    memset(s, 0, strlen(s));
  free(s);
}

/* The configuration's record of the passwords in force. */
static int conf_set(gw_charger_conf *c, const char *password,
                    const char *previous)
{
  char *pw = strdup(password);
  char *prev = previous && *previous ? strdup(previous) : NULL;
  if (!pw || (previous && *previous && !prev)) {
    wipe_free(pw);
    wipe_free(prev);
    return GW_ENOMEM;
  }
  wipe_free(c->password);
  wipe_free(c->previous_password);
  c->password = pw;
  c->previous_password = prev;
  return GW_OK;
}

int gw_rotate_apply_stored(gw_store *store, gw_charger_conf *chargers,
                           size_t n)
{
  for (size_t i = 0; i < n; i++) {
    gw_charger_conf *c = &chargers[i];
    if (c->security_profile != 1 && c->security_profile != 2)
      continue;
    gw_stored_password sp;
    int rc = gw_store_get_password(store, c->id, &sp);
    if (rc == GW_ENOTFOUND)
      continue;
    if (rc == GW_OK)
      rc = conf_set(c, sp.password, sp.has_previous ? sp.previous : NULL);
    memset(&sp, 0, sizeof sp);
    if (rc != GW_OK)
      return rc == GW_ENOMEM ? GW_ENOMEM : GW_EIO;
  }
  return GW_OK;
}

static void unlink_rotation(gw_rotation *r)
{
  for (gw_rotation **p = &r->env->running; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
}

static void finish(gw_rotation *r, bool ok, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void finish(gw_rotation *r, bool ok, const char *fmt, ...)
{
  char text[GW_CONTROL_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  gw_log(ok ? GW_LOG_INFO : GW_LOG_WARN, r->id, "password rotation: %s", text);
  gw_control_answer(r->req, ok, text);
  unlink_rotation(r);
  memset(r, 0, sizeof *r);
  free(r);
}

/* Back to the passwords before the rotation, everywhere. */
static void revert(gw_rotation *r)
{
  const char *prev = r->old_previous[0] ? r->old_previous : NULL;
  int rc = r->had_row ? gw_store_set_password(r->env->store, r->id, r->old, prev)
                      : gw_store_forget_password(r->env->store, r->id);
  if (rc != GW_OK)
    gw_log(GW_LOG_ERROR, r->id, "password rotation: cannot restore the stored "
           "password (%s): both stay accepted", gw_strerror(rc));
  if (rc == GW_OK && r->env->ocpp)
    ocpp_server_set_password(r->env->ocpp, r->id, r->old, prev);
  gw_charger_conf *c = charger_of(r->env->cfg, r->id);
  if (rc == GW_OK && c)
    conf_set(c, r->old, prev);
}

static void on_answer(void *ud, ocpp_result result)
{
  gw_rotation *r = ud;
  const char *name = ocpp_result_name(result);
  switch (result) {
  case OCPP_RESULT_ACCEPTED:
  case OCPP_RESULT_REBOOT_REQUIRED:
    finish(r, true, "Accepted: the charger has a new password; the old one "
           "is accepted until it connects with the new one");
    return;
  case OCPP_RESULT_TIMEOUT:
  case OCPP_RESULT_OFFLINE:
    finish(r, false, "%s: no answer from the charger; the old and the new "
           "password are both accepted until it connects with the new one",
           name);
    return;
  default:
    revert(r);
    finish(r, false, "%s: the charger keeps its password", name);
    return;
  }
}

static bool running_for(const gw_rotate_env *env, const char *id)
{
  for (const gw_rotation *r = env->running; r; r = r->next)
    if (strcmp(r->id, id) == 0)
      return true;
  return false;
}

/* Why a rotation cannot start for c now, or NULL. */
static const char *cannot_start(const gw_rotate_env *env,
                                const gw_charger_conf *c)
{
  if (c->security_profile != 1 && c->security_profile != 2)
    return "does not use a Basic Auth password (security_profile 1 or 2)";
  if (!c->password)
    return "has no password to rotate";
  if (running_for(env, c->id))
    return "is already taking a new password";
  if (c->previous_password)
    return "has not connected with the password of the last rotation yet; "
           "it must reconnect with it first";
  if (!env->ocpp || !ocpp_server_is_online(env->ocpp, c->id))
    return "is not connected: it can only take a new password while online";
  return NULL;
}

static gw_rotation *new_rotation(gw_rotate_env *env, const gw_charger_conf *c,
                                 gw_control_request *req)
{
  gw_rotation *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->env = env;
  r->req = req;
  snprintf(r->id, sizeof r->id, "%s", c->id);
  snprintf(r->old, sizeof r->old, "%s", c->password);
  gw_stored_password sp;
  r->had_row = gw_store_get_password(env->store, c->id, &sp) == GW_OK;
  if (r->had_row && sp.has_previous)
    snprintf(r->old_previous, sizeof r->old_previous, "%s", sp.previous);
  memset(&sp, 0, sizeof sp);
  r->next = env->running;
  env->running = r;
  return r;
}

/* Both passwords accepted from before the charger hears of the new one,
 * so that its reconnect can never be refused. */
static int accept_both(gw_rotation *r, gw_charger_conf *c)
{
  int rc = gw_store_set_password(r->env->store, r->id, r->fresh, r->old);
  if (rc != GW_OK)
    return rc;
  if (ocpp_server_set_password(r->env->ocpp, r->id, r->fresh, r->old) != OCPP_OK ||
      conf_set(c, r->fresh, r->old) != GW_OK) {
    revert(r);
    return GW_ENOMEM;
  }
  return GW_OK;
}

void gw_rotate_password(gw_rotate_env *env, const char *charger_id,
                        gw_control_request *req)
{
  gw_charger_conf *c = charger_of(env->cfg, charger_id);
  char text[GW_CONTROL_LINE_MAX];
  if (!c) {
    snprintf(text, sizeof text, "no charger \"%.64s\" is configured", charger_id);
    gw_log(GW_LOG_WARN, NULL, "password rotation refused: %s", text);
    gw_control_answer(req, false, text);
    return;
  }
  const char *why = cannot_start(env, c);
  if (why) {
    snprintf(text, sizeof text, "charger %.64s %s", c->id, why);
    gw_log(GW_LOG_WARN, c->id, "password rotation refused: %s", why);
    gw_control_answer(req, false, text);
    return;
  }
  gw_rotation *r = new_rotation(env, c, req);
  if (!r) {
    gw_control_answer(req, false, "out of memory");
    return;
  }
  if (gw_rotate_make_password(r->fresh) != GW_OK) {
    finish(r, false, "no random bytes for a new password");
    return;
  }
  int rc = accept_both(r, c);
  if (rc != GW_OK) {
    finish(r, false, "cannot store a new password (%s): nothing changed",
           rc == GW_EIO ? gw_store_last_error(env->store) : gw_strerror(rc));
    return;
  }
  ocpp_command cmd = {.kind = OCPP_CMD_CHANGE_CONFIGURATION,
                      .key = "AuthorizationKey", .value = r->fresh};
  int orc = ocpp_server_command(env->ocpp, r->id, &cmd, on_answer, r);
  if (orc != OCPP_OK) {
    revert(r);
    finish(r, false, "cannot send ChangeConfiguration (%s): nothing changed",
           ocpp_strerror(orc));
    return;
  }
  gw_log(GW_LOG_INFO, r->id,
         "password rotation: ChangeConfiguration AuthorizationKey sent");
}

int gw_rotate_confirmed(gw_rotate_env *env, const char *charger_id)
{
  gw_charger_conf *c = charger_of(env->cfg, charger_id);
  if (!c || !c->password)
    return GW_OK;
  int rc = gw_store_set_password(env->store, charger_id, c->password, NULL);
  if (rc != GW_OK) {
    gw_log(GW_LOG_ERROR, charger_id, "password rotation: cannot forget the "
           "previous password in the store (%s)", gw_strerror(rc));
    return rc;
  }
  wipe_free(c->previous_password);
  c->previous_password = NULL;
  return GW_OK;
}
