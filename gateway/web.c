/* The status page's routes and live updates. GET / is the page, /status
 * the same as JSON, /events the page's event stream (its HTML),
 * /status/events the same for tools (the JSON), both kept open by the
 * transport, /sessions.csv the export for a date range. A change marks the page
 * dirty; one timer sends it to the open streams GW_WEB_PUSH_MS later, so
 * a burst of meter values costs one push, and nothing runs while no
 * stream is open. The sessions and the chart come from the store only
 * after a session started or ended. */
#include "gateway/web.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/draft.h"

#define RECENT_SESSIONS 50
/* the page's streams get its HTML, those of tools the JSON */
enum { PAGE_CHANNEL, JSON_CHANNEL };
#define CHART_TAGS 8          /* series of the per-tag chart; the rest is
                                 "other" */

struct gw_web {
  uv_loop_t *loop;
  uv_timer_t push_timer;
  bool tags_visible;
  gw_web_sources src;
  bool have_sources;
  json_t *sessions;           /* cached; NULL: read again */
  json_t *chart;              /* cached; NULL: read again */
  int64_t chart_month;        /* the month the cached chart ends with */
};

int gw_web_create(uv_loop_t *loop, bool tags_visible, gw_web **out)
{
  if (!loop || !out)
    return GW_EINVAL;
  gw_web *w = calloc(1, sizeof *w);
  if (!w)
    return GW_ENOMEM;
  w->loop = loop;
  w->tags_visible = tags_visible;
  uv_timer_init(loop, &w->push_timer);
  w->push_timer.data = w;
  *out = w;
  return GW_OK;
}

void gw_web_set_sources(gw_web *w, const gw_web_sources *src)
{
  if (!w || !src)
    return;
  w->src = *src;
  w->have_sources = true;
}

static void on_web_closed(uv_handle_t *h)
{
  gw_web *w = h->data;
  json_decref(w->sessions);
  json_decref(w->chart);
  free(w);
}

void gw_web_destroy(gw_web *w)
{
  if (!w)
    return;
  w->have_sources = false;
  uv_close((uv_handle_t *)&w->push_timer, on_web_closed);
}

void gw_web_sessions_changed(gw_web *w)
{
  if (!w)
    return;
  json_decref(w->sessions);
  json_decref(w->chart);
  w->sessions = w->chart = NULL;
  gw_web_changed(w);
}

/* ---- the reports from the store ---------------------------------------- */

static void add_session(void *ud, const gw_session *s)
{
  json_array_append_new(ud, json_pack(
    "{s:s,s:i,s:I,s:o,s:s,s:o,s:o,s:o,s:s}", "charger_id", s->charger_id,
    "connector", s->connector, "transaction_id",
    (json_int_t)s->transaction_id, "charger_transaction_id",
    s->charger_tx_id && *s->charger_tx_id ? json_string(s->charger_tx_id)
                                          : json_null(),
    "id_tag", s->id_tag, "start",
    gw_json_utc(s->start), "stop", gw_json_utc(s->stop), "energy_wh",
    s->has_energy ? json_real(s->energy_wh) : json_null(), "stop_reason",
    s->stop_reason));
}

static json_t *read_sessions(gw_web *w)
{
  json_t *arr = json_array();
  if (gw_store_recent(w->src.store, RECENT_SESSIONS, add_session, arr) < 0) {
    json_decref(arr);
    return NULL;
  }
  return arr;
}

typedef struct {
  int64_t now_month;
  json_t *chargers;   /* label -> [12] */
  json_t *tags;
  json_t *labels;     /* tag -> its label */
  size_t n_tags;
  bool tags_visible;
} chart_acc;

static json_t *zero_months(void)
{
  json_t *a = json_array();
  for (int i = 0; i < GW_CHART_MONTHS; i++)
    json_array_append_new(a, json_real(0));
  return a;
}

static void add_to(json_t *series, const char *label, int slot, double wh)
{
  json_t *months = json_object_get(series, label);
  if (!months) {
    months = zero_months();
    json_object_set_new(series, label, months);
  }
  json_t *v = json_array_get(months, (size_t)slot);
  json_real_set(v, json_real_value(v) + wh);
}

/* Without a password the tags are numbered, not named: the bars stay
 * apart, the tags stay hidden. */
static void tag_label(chart_acc *a, const char *tag, char *out, size_t cap)
{
  const char *key = tag[0] ? tag : "(no tag)";
  const json_t *known = json_object_get(a->labels, key);
  if (known) {
    snprintf(out, cap, "%s", json_string_value(known));
    return;
  }
  if (a->n_tags >= CHART_TAGS)
    snprintf(out, cap, "other");
  else if (a->tags_visible || !tag[0])
    snprintf(out, cap, "%s", key);
  else
    snprintf(out, cap, "tag %zu", a->n_tags + 1);
  if (a->n_tags < CHART_TAGS)
    a->n_tags++;
  json_object_set_new(a->labels, key, json_string(out));
}

static void add_month_row(void *ud, int64_t month, const char *charger_id,
                          const char *id_tag, double wh)
{
  chart_acc *a = ud;
  int slot = gw_month_slot(month, a->now_month);
  if (slot < 0)
    return;
  add_to(a->chargers, charger_id, slot, wh);
  char label[64];
  tag_label(a, id_tag, label, sizeof label);
  add_to(a->tags, label, slot, wh);
}

static json_t *series_of(json_t *by_label)
{
  json_t *arr = json_array();
  const char *label;
  json_t *months;
  json_object_foreach(by_label, label, months)
    json_array_append_new(arr, json_pack("{s:s,s:O}", "label", label, "wh",
                                         months));
  return arr;
}

static json_t *read_chart(gw_web *w, int64_t now_month)
{
  chart_acc a = {.now_month = now_month, .chargers = json_object(),
                 .tags = json_object(), .labels = json_object(),
                 .tags_visible = w->tags_visible};
  int64_t first = now_month - (GW_CHART_MONTHS - 1);
  int rc = gw_store_energy_by_month(w->src.store, gw_month_start(first),
                                    gw_month_start(now_month + 1),
                                    add_month_row, &a);
  json_t *out = NULL;
  if (rc >= 0) {
    json_t *months = json_array();
    for (int64_t m = first; m <= now_month; m++) {
      char label[8];
      gw_month_label(m, label);
      json_array_append_new(months, json_string(label));
    }
    out = json_pack("{s:{s:O,s:o},s:{s:O,s:o}}",
                    "chargers", "months", months, "series",
                    series_of(a.chargers), "tags", "months", months, "series",
                    series_of(a.tags));
    json_decref(months);
  }
  json_decref(a.chargers);
  json_decref(a.tags);
  json_decref(a.labels);
  return out;
}

/* ---- the status object --------------------------------------------------- */

static json_t *full_status(gw_web *w)
{
  json_t *st = w->src.status(w->src.user_data);
  if (!st)
    return NULL;
  time_t now = time(NULL);
  int64_t month = gw_month_number(now);
  if (w->chart && month != w->chart_month) {
    json_decref(w->chart);
    w->chart = NULL;
  }
  if (!w->sessions)
    w->sessions = read_sessions(w);
  if (!w->chart) {
    w->chart = read_chart(w, month);
    w->chart_month = month;
  }
  json_object_set(st, "sessions", w->sessions ? w->sessions : json_null());
  json_object_set(st, "energy_months", w->chart ? w->chart : json_null());
  json_object_set_new(st, "tags_visible", json_boolean(w->tags_visible));
  if (!w->tags_visible)
    gw_web_mask_tags(st);
  return st;
}

/* ---- live updates -------------------------------------------------------- */

static void push(gw_web *w)
{
  json_t *st = full_status(w);
  if (!st)
    return;
  ocpp_server *srv = w->src.ocpp;
  char *json = ocpp_server_stream_count(srv, JSON_CHANNEL)
                 ? json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  char *main_html = ocpp_server_stream_count(srv, PAGE_CHANNEL)
                      ? gw_page_main(st) : NULL;
  json_decref(st);
  if (json)
    ocpp_server_stream_broadcast(srv, JSON_CHANNEL, "status", json);
  if (main_html)
    ocpp_server_stream_broadcast(srv, PAGE_CHANNEL, "page", main_html);
  free(json);
  free(main_html);
}

static void on_push_timer(uv_timer_t *t)
{
  gw_web *w = t->data;
  if (w->have_sources &&
      ocpp_server_stream_count(w->src.ocpp, OCPP_ALL_CHANNELS) > 0)
    push(w);
}

static void schedule_push(gw_web *w)
{
  if (!uv_is_active((uv_handle_t *)&w->push_timer) &&
      !uv_is_closing((uv_handle_t *)&w->push_timer))
    uv_timer_start(&w->push_timer, on_push_timer, GW_WEB_PUSH_MS, 0);
}

void gw_web_changed(gw_web *w)
{
  if (w && w->have_sources &&
      ocpp_server_stream_count(w->src.ocpp, OCPP_ALL_CHANNELS) > 0)
    schedule_push(w);
}

/* ---- routes -------------------------------------------------------------- */

static int answer_text(ocpp_http_answer *a, int status, const char *ctype,
                       char *body)
{
  if (!body)
    return GW_ENOMEM;
  a->status = status;
  a->content_type = ctype;
  a->body = body;
  a->body_len = strlen(body);
  return GW_OK;
}

static int route_status(gw_web *w, ocpp_http_answer *a, bool html)
{
  json_t *st = full_status(w);
  if (!st)
    return GW_ENOMEM;
  char *body = html ? gw_page_html(st)
                    : json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(st);
  return answer_text(a, 200, html ? "text/html; charset=utf-8"
                                  : "application/json", body);
}

static void day_text(time_t t, bool end_of_day, char *out, size_t cap)
{
  struct tm tm;
  time_t day = end_of_day ? t - 86400 : t;
  if (!t || !gmtime_r(&day, &tm) || strftime(out, cap, "%Y-%m-%d", &tm) == 0)
    snprintf(out, cap, "all");
}

static int route_csv(gw_web *w, const char *query, ocpp_http_answer *a)
{
  time_t from, to;
  if (gw_query_range(query, &from, &to) != GW_OK)
    return answer_text(a, 400, "text/plain; charset=utf-8",
                       strdup("expected from=YYYY-MM-DD&to=YYYY-MM-DD, from "
                              "not after to\n"));
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    return GW_ENOMEM;
  int rows = gw_store_export_csv_masked(w->src.store, f, from, to,
                                        w->tags_visible ? NULL : GW_TAG_MASK);
  fclose(f);
  if (rows < 0) {
    free(out);
    return answer_text(a, 500, "text/plain; charset=utf-8",
                       strdup("the store cannot be read\n"));
  }
  char d1[16], d2[16];
  day_text(from, false, d1, sizeof d1);
  day_text(to, true, d2, sizeof d2);
  snprintf(a->extra_headers, sizeof a->extra_headers,
           "Content-Disposition: attachment; filename=\"sessions-%s-%s.csv\"\r\n",
           d1, d2);
  a->status = 200;
  a->content_type = "text/csv; charset=utf-8";
  a->body = out;
  a->body_len = len;
  return GW_OK;
}

/* A drafted charger file for a refused identity, as --draft-charger
 * writes it without an export: every object commented out. */
static int route_draft(const char *query, ocpp_http_answer *a)
{
  char id[128];
  char *text = NULL;
  gw_conf_diag notes = {0};
  int rc = gw_query_value(query, "id", id, sizeof id);
  if (rc == GW_OK)
    rc = gw_draft_charger(id, NULL, NULL, &text, &notes);
  gw_conf_diag_finish(&notes);
  if (rc == GW_ENOMEM)
    return rc;
  if (rc != GW_OK)
    return answer_text(a, 400, "text/plain; charset=utf-8",
                       strdup("expected id=IDENTITY that a charger file can hold\n"));
  /* the file name only from characters that need no quoting */
  char name[sizeof id];
  size_t n = 0;
  for (const char *p = id; *p && n + 1 < sizeof name; p++)
    name[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
                 *p == '.') ? *p : '_';
  name[n] = '\0';
  snprintf(a->extra_headers, sizeof a->extra_headers,
           "Content-Disposition: attachment; filename=\"%s.conf\"\r\n", name);
  return answer_text(a, 200, "text/plain; charset=utf-8", text);
}

static bool path_is(const char *path, size_t len, const char *route)
{
  return strlen(route) == len && strncmp(path, route, len) == 0;
}

int gw_web_http_get(void *ud, const char *path, ocpp_http_answer *a)
{
  gw_web *w = ud;
  if (!w || !w->have_sources || !path || !a)
    return GW_ENOTFOUND;
  size_t len = strcspn(path, "?");
  const char *query = path[len] == '?' ? path + len + 1 : "";
  if (path_is(path, len, "/"))
    return route_status(w, a, true);
  if (path_is(path, len, "/status"))
    return route_status(w, a, false);
  if (path_is(path, len, "/sessions.csv"))
    return route_csv(w, query, a);
  if (path_is(path, len, "/draft.conf"))
    return route_draft(query, a);
  bool page_events = path_is(path, len, "/events");
  if (page_events || path_is(path, len, "/status/events")) {
    /* the new stream gets the state with the next push */
    a->stream = true;
    a->stream_channel = page_events ? PAGE_CHANNEL : JSON_CHANNEL;
    schedule_push(w);
    return GW_OK;
  }
  return GW_ENOTFOUND;
}
