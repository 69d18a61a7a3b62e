/* gw_web: the status page on the OCPP listener. Routes (/, /status,
 * /events, /status/events, /sessions.csv), the live updates through the transport's event
 * streams, and the pure parts they are made of: the page and its chart
 * from a status JSON, the month arithmetic of the chart, the date range
 * of the CSV download.
 */
#ifndef OCPPKNX_GW_WEB_H
#define OCPPKNX_GW_WEB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "gateway/bridge.h"
#include "gateway/errors.h"
#include "gateway/store.h"
#include "ocpp/ocpp.h"

/* ---- the page (status.c, web_chart.c): pure ------------------------------ */

/* The whole page for the status object st (as GET /status gives it; unknown
 * fields are ignored, missing ones shown as "-"). Every text from st is
 * HTML-escaped. Returns a malloc'd text, or NULL (NULL st, out of memory). */
char *gw_page_html(const json_t *st);

/* Only what the live updates replace: the inside of <main>. */
char *gw_page_main(const json_t *st);

/* What put writes to a memory stream, as a malloc'd text; NULL when out
 * of memory. */
char *gw_html_render(void (*put)(FILE *f, const void *arg), const void *arg);

/* Writes s with & < > " ' as entities (NULL writes nothing). */
void gw_html_escape(FILE *f, const char *s);

/* Text of the status page from the JSON text of /status (for tests and
 * tools); NULL when it does not parse. Caller frees. */
char *gw_status_html(const char *status_json);

/* One bar chart as SVG from {"months":[12 x "YYYY-MM"], "series":[{"label":
 * text, "wh":[12 numbers]}]}: stacked bars per month, one colour per
 * series, a legend. Each bar segment is <rect class="bar"
 * data-month="YYYY-MM" data-series="label" data-wh="N">. Returns a
 * malloc'd text, or NULL (not such an object, out of memory). */
char *gw_chart_svg(const json_t *chart, const char *title);

/* ---- months (web_month.c): pure ----------------------------------------- */

#define GW_CHART_MONTHS 12

/* UTC month of t as year * 12 + (month - 1). */
int64_t gw_month_number(time_t t);

/* 00:00 UTC on the first day of month number m. */
time_t gw_month_start(int64_t month);

/* "YYYY-MM" of month number m into out (8 bytes). */
void gw_month_label(int64_t month, char out[8]);

/* The chart's slot of month among the GW_CHART_MONTHS months that end with
 * now_month: 0 (oldest) .. 11 (now_month), or -1 outside. */
int gw_month_slot(int64_t month, int64_t now_month);

/* ---- the CSV range (web_query.c): pure ---------------------------------- */

/* "YYYY-MM-DD" as 00:00 UTC of that day, or of the next day when
 * end_of_day (so that "--to" and "to=" include the day). Returns GW_OK or
 * GW_EINVAL (not exactly such a date, or no such day). */
int gw_parse_day(const char *s, bool end_of_day, time_t *out);

/* The query string of /sessions.csv ("from=2026-01-01&to=2026-01-31", the
 * part after '?'; NULL or "" is everything): from is the start of its
 * day, to the end of its day, a missing or empty one an open end (0).
 * Percent escapes and '+' are decoded; other keys are ignored. Returns
 * GW_OK, or GW_EINVAL: a bad date or escape, a key given twice, from
 * after to, NULL from/to. */
int gw_query_range(const char *query, time_t *from, time_t *to);

/* The value of key in a query string ("id=CP%201" gives "CP 1"), decoded
 * into out (cap bytes with the NUL). Returns GW_OK, GW_ENOTFOUND (no such
 * key) or GW_EINVAL (a bad escape, a NUL, longer than cap - 1). */
int gw_query_value(const char *query, const char *key, char *out, size_t cap);

/* ---- what the bridge adds to the status (web_status.c) ------------------- */

/* Adds to every connector of st->chargers what the bridge knows: "objects"
 * [{name, ga, dpt, direction ("sent"/"received"), value, time}] and
 * "limit" {amps, source}. now_ms is the bridge's clock, now the wall clock
 * that goes with it. */
void gw_web_add_bridge(json_t *st, const gw_bridge *b, uint64_t now_ms,
                       time_t now);

/* t as "2026-12-04T18:05:09Z", null for 0 (unknown). */
json_t *gw_json_utc(time_t t);

/* What a tag is shown as without a password. */
#define GW_TAG_MASK "****"

/* Replaces every tag and tag name in st (connectors' id_tag and tag_name,
 * the last_tag object, sessions) by GW_TAG_MASK: the page shows them only
 * behind a password. */
void gw_web_mask_tags(json_t *st);

/* ---- the routes and live updates (web.c) ------------------------------- */

typedef struct gw_web gw_web;

typedef struct {
  ocpp_server *ocpp;     /* the streams */
  gw_store *store;       /* sessions, chart, CSV */
  /* the daemon's status object (new reference), without sessions and
   * chart; NULL on failure */
  json_t *(*status)(void *user_data);
  void *user_data;
} gw_web_sources;

/* tags_visible: a password protects the page, so tags are shown. Returns
 * GW_OK, GW_EINVAL, GW_ENOMEM. */
int gw_web_create(uv_loop_t *loop, bool tags_visible, gw_web **out);

/* What the routes read; copied. Until it is called every route is 404. */
void gw_web_set_sources(gw_web *w, const gw_web_sources *src);

/* Closes the timer and frees w in its close callback. NULL is allowed. */
void gw_web_destroy(gw_web *w);

/* Something on the page changed: the open streams get the new page within
 * GW_WEB_PUSH_MS, once for any number of changes. Nothing when none is
 * open. */
#define GW_WEB_PUSH_MS 250
void gw_web_changed(gw_web *w);

/* A session started or ended: the sessions and the chart are read again. */
void gw_web_sessions_changed(gw_web *w);

/* The ocpp_callbacks.http_get hook, with w as user_data. */
int gw_web_http_get(void *w, const char *path, ocpp_http_answer *answer);

#endif
