/* The owner's say over a charger's idTags (a billing backend's tags): the
 * central system session asks its authorize hook about every tag the
 * owner's tag list (lookup_tag) does not know, before the charger's own
 * options, answers at once when the hook decides, and holds Authorize and
 * StartTransaction until ocpp_session_authorized() when the hook defers.
 * Driven without sockets; each test checks the exact frames sent. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ocpp/internal.h"
#include "ocpp/session_impl.h"

#define MAX_FRAMES 64

static struct {
  ocpp_session *s;
  ocpp_cp *cp;
  ocpp_clock now;
  json_t *frames[MAX_FRAMES];
  int n_frames;
  int hook_rc;                /* what the hook returns */
  ocpp_auth_status hook_status;
  bool decide_inside;         /* the hook decides before it returns */
  uint32_t token;
  char hook_tag[32];
  int hook_calls, tag_events, started;
  ocpp_auth_status last_tag_result;
} T;

static int on_send(void *ud, const char *text, size_t len)
{
  (void)ud;
  json_t *j = json_loadb(text, len, 0, NULL);
  cr_assert_not_null(j);
  cr_assert_lt(T.n_frames, MAX_FRAMES);
  T.frames[T.n_frames++] = j;
  return 0;
}

static void on_event(void *ud, const ocpp_event *ev)
{
  (void)ud;
  if (ev->type == OCPP_EV_TAG) {
    T.tag_events++;
    T.last_tag_result = ev->tag.result;
  } else if (ev->type == OCPP_EV_TX_STARTED) {
    T.started++;
  }
}

static int hook(void *ud, const char *charger_id, const char *id_tag,
                uint32_t token, ocpp_auth_status *status)
{
  (void)ud;
  cr_assert_str_eq(charger_id, "CP-1");
  snprintf(T.hook_tag, sizeof T.hook_tag, "%s", id_tag);
  T.hook_calls++;
  T.token = token;
  if (T.decide_inside)
    cr_assert_eq(ocpp_session_authorized(T.s, token, OCPP_AUTH_ACCEPTED, T.now),
                 OCPP_OK);
  *status = T.hook_status;
  return T.hook_rc;
}

/* The owner's tag list: it knows LISTED1 (named, with an expiry) and
 * BLOCKED1. */
static bool lookup(void *ud, const char *charger_id, const char *id_tag,
                   time_t now, ocpp_tag_verdict *out)
{
  (void)ud;
  (void)now;
  cr_assert_str_eq(charger_id, "CP-1");
  if (strcmp(id_tag, "LISTED1") == 0) {
    *out = (ocpp_tag_verdict){.status = OCPP_AUTH_ACCEPTED,
                              .expiry = 1798761599, .name = "Anna"};
    return true;
  }
  if (strcmp(id_tag, "BLOCKED1") == 0) {
    *out = (ocpp_tag_verdict){.status = OCPP_AUTH_BLOCKED};
    return true;
  }
  return false;
}

static const char *const local_tags[] = {"LOCAL1"};

static void setup(void)
{
  memset(&T, 0, sizeof T);
  T.now = (ocpp_clock){.mono_ms = 100000, .wall = 1795000000};
  T.hook_rc = OCPP_ENOENT;
  ocpp_charger_options opt = {
    .id = "CP-1", .start_mode = OCPP_START_TAG, .tags = local_tags,
    .n_tags = 1, .remote_tag = "KNX", .n_connectors = 2,
  };
  T.cp = ocpp__cp_create(&opt, true);
  cr_assert_not_null(T.cp);
  ocpp_session_config cfg = {
    .send = on_send, .event = on_event, .authorize = hook, .log_id = "CP-1",
    .call_timeout = 30, .store = {.lookup_tag = lookup},
  };
  cr_assert_eq(ocpp_session_create(&ocpp__role_cs16, &cfg, T.cp, &T.s), OCPP_OK);
  ocpp_session_open(T.s, T.now);
}

static void teardown(void)
{
  ocpp_session_destroy(T.s);
  ocpp__cp_destroy(T.cp);
  for (int i = 0; i < T.n_frames; i++)
    json_decref(T.frames[i]);
}

TestSuite(authorize, .init = setup, .fini = teardown);

static void recv_text(const char *text)
{
  ocpp_session_recv(T.s, text, strlen(text), T.now);
}

/* The frame sent last is the answer with id; returns its payload. */
static json_t *answer_to(const char *id)
{
  cr_assert_gt(T.n_frames, 0);
  json_t *f = T.frames[T.n_frames - 1];
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 3, "not a CALLRESULT");
  cr_assert_str_eq(json_string_value(json_array_get(f, 1)), id);
  return json_array_get(f, 2);
}

static const char *tag_status(const json_t *payload)
{
  return json_string_value(json_object_get(json_object_get(payload, "idTagInfo"),
                                           "status"));
}

static const char authorize_backend[] =
  "[2,\"a1\",\"Authorize\",{\"idTag\":\"BACKEND1\"}]";
static const char start_backend[] =
  "[2,\"s1\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"BACKEND1\","
  "\"meterStart\":1500,\"timestamp\":\"2026-12-04T18:00:00Z\"}]";

Test(authorize, tag_the_hook_leaves_follows_the_chargers_tags)
{
  recv_text("[2,\"a1\",\"Authorize\",{\"idTag\":\"LOCAL1\"}]");
  cr_assert_eq(T.hook_calls, 1);
  cr_assert_str_eq(tag_status(answer_to("a1")), "Accepted");
  recv_text("[2,\"a2\",\"Authorize\",{\"idTag\":\"OTHER\"}]");
  cr_assert_str_eq(tag_status(answer_to("a2")), "Invalid");
  cr_assert_eq(T.tag_events, 2);
}

Test(authorize, hook_decision_now_wins_over_the_chargers_tags)
{
  T.hook_rc = OCPP_OK;
  T.hook_status = OCPP_AUTH_ACCEPTED;
  recv_text(authorize_backend);
  cr_assert_str_eq(T.hook_tag, "BACKEND1");
  cr_assert_str_eq(tag_status(answer_to("a1")), "Accepted");
  T.hook_status = OCPP_AUTH_BLOCKED;
  recv_text("[2,\"a2\",\"Authorize\",{\"idTag\":\"LOCAL1\"}]");
  cr_assert_str_eq(tag_status(answer_to("a2")), "Blocked");
}

Test(authorize, tag_list_decides_its_tags_without_asking_the_hook)
{
  T.hook_rc = OCPP_EPENDING;
  recv_text("[2,\"a1\",\"Authorize\",{\"idTag\":\"LISTED1\"}]");
  cr_assert_eq(T.hook_calls, 0);
  json_t *info = json_object_get(answer_to("a1"), "idTagInfo");
  cr_assert_str_eq(json_string_value(json_object_get(info, "status")), "Accepted");
  cr_assert_str_eq(json_string_value(json_object_get(info, "expiryDate")),
                   "2026-12-31T23:59:59Z");
  recv_text("[2,\"s1\",\"StartTransaction\",{\"connectorId\":1,"
            "\"idTag\":\"BLOCKED1\",\"meterStart\":0,"
            "\"timestamp\":\"2026-12-04T18:00:00Z\"}]");
  cr_assert_eq(T.hook_calls, 0);
  cr_assert_str_eq(tag_status(answer_to("s1")), "Blocked");
  cr_assert_eq(T.started, 0);
  /* a tag the list does not know goes to the hook */
  recv_text(authorize_backend);
  cr_assert_eq(T.hook_calls, 1);
  cr_assert_str_eq(T.hook_tag, "BACKEND1");
  cr_assert_eq(T.n_frames, 2, "the backend's tag waits");
  cr_assert_eq(T.tag_events, 2);
}

Test(authorize, deferred_authorize_is_answered_with_the_later_decision)
{
  T.hook_rc = OCPP_EPENDING;
  recv_text(authorize_backend);
  cr_assert_eq(T.n_frames, 0, "answered before the decision");
  cr_assert_eq(T.tag_events, 0);
  cr_assert_neq(T.token, 0);
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_OK);
  cr_assert_eq(T.n_frames, 1);
  cr_assert_str_eq(tag_status(answer_to("a1")), "Accepted");
  cr_assert_eq(T.tag_events, 1);
  cr_assert_eq(T.last_tag_result, OCPP_AUTH_ACCEPTED);
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_ENOENT, "a decision is used once");
}

Test(authorize, deferred_start_begins_the_transaction_only_when_accepted)
{
  T.hook_rc = OCPP_EPENDING;
  recv_text(start_backend);
  cr_assert_eq(T.n_frames, 0);
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_OK);
  json_t *p = answer_to("s1");
  cr_assert_str_eq(tag_status(p), "Accepted");
  cr_assert_gt(json_integer_value(json_object_get(p, "transactionId")), 0);
  cr_assert_eq(T.started, 1);
  recv_text("[2,\"s2\",\"StartTransaction\",{\"connectorId\":2,\"idTag\":\"BACKEND2\","
            "\"meterStart\":0,\"timestamp\":\"2026-12-04T18:01:00Z\"}]");
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_INVALID, T.now),
               OCPP_OK);
  cr_assert_str_eq(tag_status(answer_to("s2")), "Invalid");
  cr_assert_eq(T.started, 1);
}

Test(authorize, decisions_may_come_in_any_order)
{
  T.hook_rc = OCPP_EPENDING;
  recv_text(authorize_backend);
  uint32_t first = T.token;
  recv_text("[2,\"a2\",\"Authorize\",{\"idTag\":\"BACKEND2\"}]");
  uint32_t second = T.token;
  cr_assert_neq(first, second);
  cr_assert_eq(ocpp_session_authorized(T.s, second, OCPP_AUTH_INVALID, T.now), OCPP_OK);
  cr_assert_str_eq(tag_status(answer_to("a2")), "Invalid");
  cr_assert_eq(ocpp_session_authorized(T.s, first, OCPP_AUTH_ACCEPTED, T.now), OCPP_OK);
  cr_assert_str_eq(tag_status(answer_to("a1")), "Accepted");
  cr_assert_eq(T.n_frames, 2);
}

Test(authorize, decision_inside_the_hook_is_answered_once_at_once)
{
  T.hook_rc = OCPP_EPENDING;
  T.decide_inside = true;
  recv_text(authorize_backend);
  cr_assert_eq(T.n_frames, 1);
  cr_assert_str_eq(tag_status(answer_to("a1")), "Accepted");
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_ENOENT);
}

Test(authorize, close_drops_what_waits_and_sends_nothing)
{
  T.hook_rc = OCPP_EPENDING;
  recv_text(start_backend);
  ocpp_session_close(T.s, T.now);
  cr_assert_eq(ocpp_session_authorized(T.s, T.token, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_ENOENT);
  cr_assert_eq(T.n_frames, 0);
  cr_assert_eq(T.started, 0);
}

Test(authorize, too_many_waiting_decisions_are_an_internal_error)
{
  T.hook_rc = OCPP_EPENDING;
  char frame[96];
  for (int i = 0; i < OCPP_MAX_DEFERRED; i++) {
    snprintf(frame, sizeof frame, "[2,\"w%d\",\"Authorize\",{\"idTag\":\"B%d\"}]", i, i);
    recv_text(frame);
  }
  cr_assert_eq(T.n_frames, 0);
  recv_text("[2,\"over\",\"Authorize\",{\"idTag\":\"B99\"}]");
  cr_assert_eq(T.n_frames, 1);
  json_t *f = T.frames[0];
  cr_assert_eq(json_integer_value(json_array_get(f, 0)), 4);
  cr_assert_str_eq(json_string_value(json_array_get(f, 1)), "over");
  cr_assert_str_eq(json_string_value(json_array_get(f, 2)), "InternalError");
}

Test(authorize, unknown_token_or_bad_status_is_refused)
{
  cr_assert_eq(ocpp_session_authorized(T.s, 4711, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_ENOENT);
  cr_assert_eq(ocpp_session_authorized(T.s, 1, (ocpp_auth_status)99, T.now),
               OCPP_EINVAL);
  cr_assert_eq(ocpp_session_authorized(NULL, 1, OCPP_AUTH_ACCEPTED, T.now),
               OCPP_EINVAL);
}
