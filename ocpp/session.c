/* The session core: frames in, frames out, one call in flight. The role's
 * table decides what a CALL of the peer does; this file only decodes,
 * validates (repairing known quirks), answers and keeps the calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/lenient.h"
#include "ocpp/meter_fast.h"
#include "ocpp/schema.h"
#include "ocpp/session_impl.h"

/* ---- output ------------------------------------------------------------- */

void ocpp__session_log(ocpp_session *s, ocpp_log_level lvl, const char *fmt,
                       ...)
{
  if (!s->cfg.log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  s->cfg.log(s->cfg.user_data, lvl, s->cfg.log_id, line);
}

void ocpp__session_emit(ocpp_session *s, ocpp_event *ev)
{
  ev->charger_id = s->cfg.log_id;
  if (!ev->timestamp)
    ev->timestamp = s->now.wall;
  if (s->cfg.event)
    s->cfg.event(s->cfg.user_data, ev);
}

/* A frame that may carry a charger's password (ChangeConfiguration of
 * AuthorizationKey, or a charger that lists it in GetConfiguration; in
 * 2.0.1 the variable BasicAuthPassword): the trace shows that it passed,
 * not what it holds. */
static bool holds_secret(const char *text, size_t len)
{
  static const char key[] = "AuthorizationKey";
  static const char variable[] = "BasicAuthPassword";
  return memmem(text, len, key, sizeof key - 1) != NULL ||
         memmem(text, len, variable, sizeof variable - 1) != NULL;
}

static void trace_frame(ocpp_session *s, const char *dir, const char *text,
                        size_t len)
{
  if (holds_secret(text, len))
    ocpp__session_log(s, OCPP_LOG_DEBUG,
                      "%s %zu bytes with an AuthorizationKey (not logged)",
                      dir, len);
  else
    ocpp__session_log(s, OCPP_LOG_DEBUG, "%s %.*s", dir,
                      len > 2000 ? 2000 : (int)len, text);
}

/* Sends a frame's text (NUL-terminated at len). */
static int send_text(ocpp_session *s, const char *text, size_t len)
{
  if (s->cfg.trace)
    trace_frame(s, "send", text, len);
  int rc = s->open ? s->cfg.send(s->cfg.user_data, text, len) : OCPP_ENOTCONN;
  return rc == 0 ? OCPP_OK : OCPP_ENOTCONN;
}

/* Sends an encoded frame (NULL when encoding ran out of memory) and frees
 * it. */
static int send_frame(ocpp_session *s, char *text)
{
  if (!text)
    return OCPP_ENOMEM;
  int rc = send_text(s, text, strlen(text));
  free(text);
  return rc;
}

static void send_call_error(ocpp_session *s, const char *id, const char *code,
                            const char *text)
{
  send_frame(s, ocpp_rpc_encode_error(id, code, text, NULL));
}

static void send_answer(ocpp_session *s, const char *id, const char *action,
                        json_t *answer)
{
  ocpp_schema_fault fault;
  int rc = ocpp_schema_validate_in(s->role->version, action, OCPP_SCHEMA_RESPONSE,
                                   answer, &fault);
  if (rc == OCPP_ESCHEMA)
    ocpp__session_log(s, OCPP_LOG_ERROR,
                      "internal: %s answer fails the schema at %s: %s", action,
                      fault.path, fault.message);
  else if (rc != OCPP_OK)
    ocpp__session_log(s, OCPP_LOG_ERROR, "internal: %s answer: %s", action,
                      ocpp_strerror(rc));
  send_frame(s, ocpp_rpc_encode_result(id, answer));
}

/* ---- validation --------------------------------------------------------- */

/* The CALLERROR's errorDescription: the whole path once (the schema's
 * message starts with the path's last segment), cut on a UTF-8 character
 * boundary so the frame stays valid JSON text. */
static void fault_description(const ocpp_schema_fault *fault, char *out,
                              size_t cap)
{
  const char *text = fault->message;
  const char *sep = strstr(text, ": ");
  int n = 0;
  if (fault->path[0] && sep) {
    text = sep + 2;
    size_t shown = strlen(fault->path);
    if (shown > 60) {
      shown = 60;
      while (shown > 0 && ((unsigned char)fault->path[shown] & 0xC0) == 0x80)
        shown--;
    }
    n = snprintf(out, cap, "%.*s: ", (int)shown, fault->path);
  }
  if (n < 0 || (size_t)n >= cap) {
    out[0] = '\0';
    return;
  }
  size_t len = strlen(text);
  size_t room = cap - (size_t)n - 1;
  if (len > room) {
    len = room;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
      len--;
  }
  memcpy(out + n, text, len);
  out[(size_t)n + len] = '\0';
}

/* Validates payload, repairing the quirks real chargers have where no data
 * is lost. Returns true when valid; else fault holds the last violation
 * (a fault with no code: too many repairs). */
static bool validate(ocpp_session *s, const char *action, ocpp_schema_kind kind,
                     json_t *payload, unsigned *notes, ocpp_schema_fault *fault)
{
  for (int round = 0; round < OCPP_LENIENT_MAX_REPAIRS; round++) {
    int rc = ocpp_schema_validate_in(s->role->version, action, kind, payload, fault);
    if (rc == OCPP_OK)
      return true;
    if (rc != OCPP_ESCHEMA) {
      /* no fault to repair or report: the action itself is unknown */
      ocpp__session_log(s, OCPP_LOG_WARN, "%s: %s", action, ocpp_strerror(rc));
      memset(fault, 0, sizeof *fault);
      return false;
    }
    char what[160];
    if (ocpp_lenient_repair_in(s->role->version, action, kind, payload,
                               fault, notes, what, sizeof what) != 0)
      return false;
    if (kind == OCPP_SCHEMA_REQUEST)
      ocpp__session_log(s, OCPP_LOG_WARN, "%s: %s", action, what);
    else
      ocpp__session_log(s, OCPP_LOG_WARN, "answer to %s: %s", action, what);
  }
  memset(fault, 0, sizeof *fault);
  return false;
}

/* ---- the peer's calls --------------------------------------------------- */

static int handler_cmp(const void *key, const void *row)
{
  return strcmp(key, ((const ocpp_handler_row *)row)->action);
}

static const ocpp_handler_row *find_handler(const ocpp_role *role,
                                            const char *action)
{
  if (!role->handlers)
    return NULL;
  return bsearch(action, role->handlers, role->n_handlers,
                 sizeof role->handlers[0], handler_cmp);
}

static void refuse_unhandled(ocpp_session *s, const ocpp_rpc_frame *f)
{
  bool known = ocpp_schema_known_action_in(s->role->version, f->action);
  ocpp__session_log(s, OCPP_LOG_WARN, "%s action \"%s\"",
                    known ? "unsupported" : "unknown", f->action);
  send_call_error(s, f->id, known ? "NotSupported" : "NotImplemented",
                  known ? "action not supported by the central system"
                        : "unknown action");
}

static ocpp_deferred *find_deferred(ocpp_session *s, uint32_t token,
                                    ocpp_deferred ***link);
static void take_late_answer(ocpp_session *s, ocpp_handler_out *out);

/* The charge point role: the owner answers, now or later. */
static void delegate_call(ocpp_session *s, ocpp_handler_out *out,
                          const ocpp_rpc_frame *f)
{
  const char *code = NULL;
  out->answer = s->cfg.call ? s->cfg.call(s->cfg.user_data, f->action,
                                          f->payload, &code)
                            : NULL;
  if (!out->answer && !code && s->cfg.call)
    take_late_answer(s, out);
  else if (!out->answer)
    out->error_code = code ? code : "NotImplemented";
}

/* The handler's result goes to the peer: an answer or a CALLERROR, then
 * the role's follow-up. */
static void finish_handler(ocpp_session *s, const char *id, const char *action,
                           ocpp_handler_out *out)
{
  if (!out->answer) {
    send_call_error(s, id, out->error_code ? out->error_code : "InternalError",
                    out->error_text);
    return;
  }
  send_answer(s, id, action, out->answer);
  json_decref(out->answer);
  out->answer = NULL;
  if (s->open && s->role->after_answer)
    s->role->after_answer(s, out);
}

static ocpp_deferred *find_deferred(ocpp_session *s, uint32_t token,
                                    ocpp_deferred ***link)
{
  for (ocpp_deferred **p = &s->deferred; *p; p = &(*p)->next)
    if ((*p)->token == token) {
      if (link)
        *link = p;
      return *p;
    }
  return NULL;
}

static void free_deferred(ocpp_session *s, ocpp_deferred **link)
{
  ocpp_deferred *d = *link;
  *link = d->next;
  json_decref(d->req);
  json_decref(d->answer);
  free(d);
  s->n_deferred--;
}

static void drop_deferred(ocpp_session *s)
{
  while (s->deferred)
    free_deferred(s, &s->deferred);
}

int ocpp__session_decide_tag(ocpp_session *s, const char *tag,
                             ocpp_auth_status *status, uint32_t *token)
{
  if (!s->cfg.authorize || !s->current)
    return OCPP_ENOENT;
  if (s->n_deferred >= OCPP_MAX_DEFERRED)
    return OCPP_EQUEUEFULL;
  ocpp_deferred *d = calloc(1, sizeof *d);
  if (!d)
    return OCPP_ENOMEM;
  d->token = ++s->next_token ? s->next_token : ++s->next_token;
  snprintf(d->id, sizeof d->id, "%s", s->current->id);
  snprintf(d->action, sizeof d->action, "%s", s->current->action);
  d->req = json_incref(s->current->payload);
  d->next = s->deferred;
  s->deferred = d;
  s->n_deferred++;
  uint32_t t = d->token;
  int rc = s->cfg.authorize(s->cfg.store_data, s->cfg.log_id, tag, t, status);
  ocpp_deferred **link;
  d = find_deferred(s, t, &link);
  if (rc == OCPP_EPENDING) {
    if (d && !d->decided) {
      *token = t;
      return OCPP_EPENDING;
    }
    /* decided inside the hook; without d the session closed meanwhile */
    *status = d ? d->status : OCPP_AUTH_INVALID;
    rc = OCPP_OK;
  }
  if (d)
    free_deferred(s, link);
  return rc == OCPP_OK ? OCPP_OK : OCPP_ENOENT;
}

int ocpp_session_authorized(ocpp_session *s, uint32_t token,
                            ocpp_auth_status status, ocpp_clock now)
{
  if (!s || (unsigned)status > OCPP_AUTH_CONCURRENT_TX)
    return OCPP_EINVAL;
  ocpp_deferred **link;
  ocpp_deferred *d = find_deferred(s, token, &link);
  if (!d)
    return OCPP_ENOENT;
  if (!d->armed) {
    d->decided = true;
    d->status = status;
    return OCPP_OK;
  }
  *link = d->next;
  s->n_deferred--;
  s->now = now;
  ocpp_handler_out out = {0};
  if (s->role->resume)
    s->role->resume(s, d->action, d->req, status, &out);
  finish_handler(s, d->id, d->action, &out);
  json_decref(d->req);
  free(d);
  return OCPP_OK;
}

/* ---- the charge point role's late answers ------------------------------ */

uint32_t ocpp_session_defer_call(ocpp_session *s)
{
  if (!s || !s->current || s->role->handlers ||
      s->n_deferred >= OCPP_MAX_DEFERRED)
    return 0;
  ocpp_deferred *d = calloc(1, sizeof *d);
  if (!d)
    return 0;
  d->token = ++s->next_token ? s->next_token : ++s->next_token;
  snprintf(d->id, sizeof d->id, "%s", s->current->id);
  snprintf(d->action, sizeof d->action, "%s", s->current->action);
  d->next = s->deferred;
  s->deferred = d;
  s->n_deferred++;
  return d->token;
}

/* The CALLERROR code of OCPP-J 4.2.3 named by code, in storage that
 * outlives the deferred call; InternalError for any other. */
static const char *static_error_code(const char *code)
{
  static const char *const codes[] = {
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError",
    "SecurityError", "FormationViolation", "PropertyConstraintViolation",
    "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError",
  };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (strcmp(codes[i], code) == 0)
      return codes[i];
  return "InternalError";
}

/* The hook returned neither answer nor error: it deferred the CALL (or
 * answered it already, or forgot, which is an InternalError). */
static void take_late_answer(ocpp_session *s, ocpp_handler_out *out)
{
  ocpp_deferred **link = NULL, *d = NULL;
  for (ocpp_deferred **p = &s->deferred; *p && !d; p = &(*p)->next)
    if (!(*p)->armed && strcmp((*p)->id, s->current->id) == 0) {
      link = p;
      d = *p;
    }
  if (!d) {
    out->error_code = "InternalError";
    return;
  }
  if (!d->decided) {
    out->defer_token = d->token;
    return;
  }
  out->answer = d->answer;
  d->answer = NULL;
  if (!out->answer)
    out->error_code = static_error_code(d->error_code);
  free_deferred(s, link);
}

int ocpp_session_answer_call(ocpp_session *s, uint32_t token, json_t *answer,
                             const char *error_code, ocpp_clock now)
{
  ocpp_deferred **link;
  ocpp_deferred *d = s ? find_deferred(s, token, &link) : NULL;
  if (!d || d->req) { /* none waits, or an authorize decision's */
    json_decref(answer);
    return s ? OCPP_ENOENT : OCPP_EINVAL;
  }
  if (!d->armed) {
    d->decided = true;
    d->answer = answer;
    snprintf(d->error_code, sizeof d->error_code, "%s",
             error_code ? error_code : "InternalError");
    return OCPP_OK;
  }
  *link = d->next;
  s->n_deferred--;
  s->now = now;
  ocpp_handler_out out = {.answer = answer};
  if (!answer)
    out.error_code = error_code ? error_code : "InternalError";
  finish_handler(s, d->id, d->action, &out);
  json_decref(out.answer);
  free(d);
  return OCPP_OK;
}

static void handle_call(ocpp_session *s, ocpp_rpc_frame *f)
{
  ocpp_handler_out out = {0};
  const ocpp_handler_row *h = find_handler(s->role, f->action);
  if (!h && (s->role->handlers ||
             !ocpp_schema_known_action_in(s->role->version, f->action))) {
    refuse_unhandled(s, f);
    return;
  }
  ocpp_schema_fault fault;
  if (!validate(s, f->action, OCPP_SCHEMA_REQUEST, f->payload, &out.notes,
                &fault)) {
    const char *code = fault.code ? fault.code : "FormationViolation";
    if (fault.code)
      fault_description(&fault, out.error_text, sizeof out.error_text);
    else
      snprintf(out.error_text, sizeof out.error_text, "too many invalid fields");
    ocpp__session_log(s, OCPP_LOG_WARN, "%s rejected: %s %s", f->action, code,
                      out.error_text);
    send_call_error(s, f->id, code, out.error_text);
    return;
  }
  s->current = f;
  if (h)
    h->fn(s, f->payload, &out);
  else
    delegate_call(s, &out, f);
  s->current = NULL;
  if (out.defer_token) {
    ocpp_deferred *d = find_deferred(s, out.defer_token, NULL);
    if (d)
      d->armed = true;
    return;
  }
  finish_handler(s, f->id, f->action, &out);
}

/* A MeterValues CALL read by the fast path: the role's handler, the same
 * logs and answers as through the table, no JSON tree. false: the frame
 * goes the general way. */
static bool recv_meter_fast(ocpp_session *s, const char *text, size_t len)
{
  ocpp_meter_fast mv;
  if (!s->role->meter_values || !ocpp_meter_fast_parse(text, len, &mv))
    return false;
  ocpp_handler_out out = {0};
  s->role->meter_values(s, &mv, &out);
  if (out.error_code) {
    send_call_error(s, mv.id, out.error_code, out.error_text);
    return true;
  }
  /* the one answer: [3,"id",{}] (the id needs no escaping) */
  char answer[OCPP_RPC_ID_MAX + 16];
  memcpy(answer, "[3,\"", 4);
  memcpy(answer + 4, mv.id, mv.id_len);
  memcpy(answer + 4 + mv.id_len, "\",{}]", 6);
  send_text(s, answer, mv.id_len + 9);
  if (s->open && s->role->after_answer)
    s->role->after_answer(s, &out);
  return true;
}

/* ---- our calls ---------------------------------------------------------- */

static void call_free(ocpp_call *call)
{
  json_decref(call->payload);
  free(call);
}

static void finish_call(ocpp_session *s, ocpp_call *call, bool answered,
                        const json_t *payload, const char *error_code)
{
  call->finish(s, call, answered, payload, answered ? NULL : error_code);
  call_free(call);
}

static bool send_call(ocpp_session *s, ocpp_call *call)
{
  ocpp_schema_fault fault;
  int rc = ocpp_schema_validate_in(s->role->version, call->action,
                                   OCPP_SCHEMA_REQUEST, call->payload, &fault);
  if (rc != OCPP_OK) {
    if (rc == OCPP_ESCHEMA)
      ocpp__session_log(s, OCPP_LOG_ERROR,
                        "internal: %s fails the schema at %s: %s",
                        call->action, fault.path, fault.message);
    else
      ocpp__session_log(s, OCPP_LOG_ERROR, "internal: %s: %s", call->action,
                        ocpp_strerror(rc));
    return false;
  }
  /* The transport never reads while it writes, so the answer cannot come
   * before the call is in flight; a transport that closes while writing
   * closes the session, and the caller finishes the call Offline. */
  if (send_frame(s, ocpp_rpc_encode_call(call->id, call->action,
                                         call->payload)) != OCPP_OK ||
      !s->open)
    return false;
  s->inflight = call;
  s->call_deadline = s->now.mono_ms + (uint64_t)s->cfg.call_timeout * 1000u;
  return true;
}

static ocpp_call *dequeue(ocpp_session *s)
{
  ocpp_call *call = s->queue_head;
  if (!call)
    return NULL;
  s->queue_head = call->next;
  if (!s->queue_head)
    s->queue_tail = NULL;
  s->queued--;
  call->next = NULL;
  return call;
}

void ocpp__session_pump(ocpp_session *s)
{
  while (s->open && !s->inflight && s->queue_head) {
    ocpp_call *call = dequeue(s);
    if (!send_call(s, call))
      finish_call(s, call, false, NULL, s->open ? "InternalError" : "Offline");
  }
}

int ocpp__session_queue(ocpp_session *s, const char *action, json_t *payload,
                        ocpp_call_finish finish, ocpp_call **out)
{
  if (out)
    *out = NULL;
  if (!payload)
    return OCPP_ENOMEM;
  int rc = !s->open ? OCPP_ENOTCONN
           : s->queued >= OCPP_MAX_QUEUED_CALLS ? OCPP_EQUEUEFULL : OCPP_OK;
  ocpp_call *call = rc == OCPP_OK ? calloc(1, sizeof *call) : NULL;
  if (rc == OCPP_OK && !call)
    rc = OCPP_ENOMEM;
  if (rc != OCPP_OK) {
    json_decref(payload);
    return rc;
  }
  call->payload = payload;
  call->finish = finish;
  snprintf(call->action, sizeof call->action, "%s", action);
  snprintf(call->id, sizeof call->id, "%u", ++s->next_call_id);
  if (s->queue_tail)
    s->queue_tail->next = call;
  else
    s->queue_head = call;
  s->queue_tail = call;
  s->queued++;
  if (out)
    *out = call;
  return OCPP_OK;
}

static void finish_generic(ocpp_session *s, ocpp_call *call, bool answered,
                           const json_t *payload, const char *error_code)
{
  (void)s;
  if (call->done)
    call->done(call->done_data, answered, payload, error_code);
}

int ocpp_session_call(ocpp_session *s, const char *action, json_t *payload,
                      ocpp_session_done done, void *user_data, ocpp_clock now)
{
  if (!s || !action) {
    json_decref(payload);
    return OCPP_EINVAL;
  }
  s->now = now;
  ocpp_call *call;
  int rc = ocpp__session_queue(s, action, payload, finish_generic, &call);
  if (rc != OCPP_OK)
    return rc;
  call->done = done;
  call->done_data = user_data;
  ocpp__session_pump(s);
  return OCPP_OK;
}

static void on_response(ocpp_session *s, ocpp_rpc_frame *f)
{
  ocpp_call *call = s->inflight;
  if (!call || strcmp(call->id, f->id) != 0) {
    ocpp__session_log(s, OCPP_LOG_WARN, "answer with unexpected id \"%s\" ignored",
                      f->id);
    return;
  }
  s->inflight = NULL;
  s->call_deadline = 0;
  if (f->type == OCPP_RPC_ERROR) {
    ocpp__session_log(s, OCPP_LOG_WARN, "%s answered with %s: %s", call->action,
                      f->error_code ? f->error_code : "?",
                      f->error_description ? f->error_description : "");
    finish_call(s, call, false, NULL,
                f->error_code ? f->error_code : "GenericError");
  } else {
    unsigned notes = 0;
    ocpp_schema_fault fault;
    if (validate(s, call->action, OCPP_SCHEMA_RESPONSE, f->payload, &notes,
                 &fault)) {
      finish_call(s, call, true, f->payload, NULL);
    } else {
      ocpp__session_log(s, OCPP_LOG_WARN, "answer to %s is invalid: %s at %s: %s",
                        call->action, fault.code ? fault.code : "FormationViolation",
                        fault.path, fault.code ? fault.message : "too many invalid fields");
      finish_call(s, call, false, NULL, "FormationViolation");
    }
  }
  ocpp__session_pump(s);
}

static void on_call_timeout(ocpp_session *s)
{
  ocpp_call *call = s->inflight;
  s->call_deadline = 0;
  if (!call)
    return;
  s->inflight = NULL;
  ocpp__session_log(s, OCPP_LOG_WARN, "%s: no answer within %d s", call->action,
                    s->cfg.call_timeout);
  finish_call(s, call, false, NULL, "Timeout");
  ocpp__session_pump(s);
}

/* Every call ends Offline; completions that queue new calls see a closed
 * session and fail at once. */
static void fail_all(ocpp_session *s)
{
  ocpp_call *inflight = s->inflight;
  ocpp_call *queue = s->queue_head;
  s->inflight = NULL;
  s->queue_head = s->queue_tail = NULL;
  s->queued = 0;
  s->call_deadline = 0;
  if (inflight)
    finish_call(s, inflight, false, NULL, "Offline");
  while (queue) {
    ocpp_call *next = queue->next;
    finish_call(s, queue, false, NULL, "Offline");
    queue = next;
  }
}

/* ---- counters ----------------------------------------------------------- */

int32_t ocpp__session_next_tx_id(ocpp_session *s)
{
  /* only used when the owner gives no store: unique within the owner */
  int32_t *next = s->cfg.counters ? &s->cfg.counters->next_fallback_tx
                                  : &s->own_fallback_tx;
  if (*next < 1)
    *next = 1;
  return (*next)++;
}

int ocpp__session_next_reservation_id(ocpp_session *s)
{
  int *next = s->cfg.counters ? &s->cfg.counters->next_reservation_id
                              : &s->own_reservation_id;
  if (*next < 1)
    *next = 1;
  return (*next)++;
}

/* ---- lifetime ----------------------------------------------------------- */

int ocpp_session_create(const ocpp_role *role, const ocpp_session_config *cfg,
                        ocpp_cp *cp, ocpp_session **out)
{
  if (!out)
    return OCPP_EINVAL;
  *out = NULL;
  if (!role || !cfg || !cfg->send || (role->needs_record && !cp))
    return OCPP_EINVAL;
  ocpp_session *s = calloc(1, sizeof *s);
  if (!s)
    return OCPP_ENOMEM;
  s->role = role;
  s->cfg = *cfg;
  s->cp = cp;
  s->cfg.log_id = strdup(cfg->log_id ? cfg->log_id : "");
  if (!s->cfg.log_id) {
    free(s);
    return OCPP_ENOMEM;
  }
  if (s->cfg.call_timeout <= 0)
    s->cfg.call_timeout = 30;
  if (s->cfg.heartbeat_interval <= 0)
    s->cfg.heartbeat_interval = 300;
  if (s->cfg.meter_sample_interval <= 0)
    s->cfg.meter_sample_interval = 60;
  *out = s;
  return OCPP_OK;
}

void ocpp_session_destroy(ocpp_session *s)
{
  if (!s)
    return;
  s->open = false;
  fail_all(s);
  drop_deferred(s);
  free((char *)s->cfg.log_id);
  free(s);
}

void ocpp_session_open(ocpp_session *s, ocpp_clock now)
{
  if (!s || s->open)
    return;
  s->now = now;
  s->open = true;
  s->booted = false;
  s->configured_after_boot = false;
  s->boot_steps = 0;
  if (s->role->on_open)
    s->role->on_open(s);
}

void ocpp_session_close(ocpp_session *s, ocpp_clock now)
{
  if (!s || !s->open)
    return;
  s->now = now;
  s->open = false;
  s->boot_deadline = 0;
  s->role_deadline = 0;
  fail_all(s);
  drop_deferred(s); /* answers for a connection that is gone */
  if (s->role->on_close)
    s->role->on_close(s);
}

bool ocpp_session_is_open(const ocpp_session *s)
{
  return s && s->open;
}

int ocpp_session_pending(const ocpp_session *s)
{
  return s ? s->queued + (s->inflight != NULL) : 0;
}

/* ---- input and time ----------------------------------------------------- */

void ocpp_session_recv(ocpp_session *s, const char *text, size_t len,
                       ocpp_clock now)
{
  if (!s || !s->open)
    return;
  s->now = now;
  if (s->cp)
    s->cp->last_seen = now.wall;
  if (s->cfg.trace)
    trace_frame(s, "recv", text, len);
  if (recv_meter_fast(s, text, len))
    return;
  ocpp_rpc_frame f;
  ocpp_rpc_fault fault;
  if (ocpp_rpc_decode(text, len, &f, &fault) != 0) {
    ocpp__session_log(s, OCPP_LOG_WARN, "bad frame: %s %s", fault.code,
                      fault.message);
    /* OCPP-J: a broken CALLRESULT or CALLERROR is never answered */
    if (fault.type == OCPP_RPC_RESULT || fault.type == OCPP_RPC_ERROR)
      return;
    /* Without a readable id there is nothing to answer to; "-1" tells the
     * peer (and a human reading its log) what went wrong anyway. */
    send_call_error(s, fault.has_id ? fault.id : "-1", fault.code,
                    fault.message);
    return;
  }
  if (f.type == OCPP_RPC_CALL)
    handle_call(s, &f);
  else
    on_response(s, &f);
  ocpp_rpc_frame_finish(&f);
}

void ocpp_session_tick(ocpp_session *s, ocpp_clock now)
{
  if (!s || !s->open)
    return;
  s->now = now;
  if (s->call_deadline && now.mono_ms >= s->call_deadline)
    on_call_timeout(s);
  if (s->open && s->role->on_tick)
    s->role->on_tick(s);
}

uint64_t ocpp_session_next_deadline(const ocpp_session *s)
{
  if (!s || !s->open)
    return 0;
  uint64_t next = 0;
  const uint64_t due[] = {s->call_deadline, s->boot_deadline, s->role_deadline};
  for (size_t i = 0; i < sizeof due / sizeof due[0]; i++)
    if (due[i] && (!next || due[i] < next))
      next = due[i];
  return next;
}
