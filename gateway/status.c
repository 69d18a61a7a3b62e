/* The status page: one card per charger with its connectors, their KNX
 * objects and its backend link, the knxd link, the refused identities,
 * the energy charts and the last sessions, from the status object. Pure:
 * JSON in, HTML out; every text that comes from the status is escaped,
 * since vendor strings and identities are chosen by whoever connects. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/app.h"
#include "gateway/web.h"

static const char *text_of(const json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

static bool is_utc_time(const char *t)
{
  return t && strlen(t) == 20 && t[10] == 'T' && t[19] == 'Z';
}

/* "2026-12-04T18:05:09Z" as "2026-12-04 18:05 UTC"; anything else as it
 * is, escaped; null as "-". */
static void put_time(FILE *f, const json_t *v)
{
  const char *t = json_string_value(v);
  if (!t || !*t) {
    fputs("-", f);
    return;
  }
  if (is_utc_time(t)) {
    fprintf(f, "%.10s %.5s UTC", t, t + 11);
    return;
  }
  gw_html_escape(f, t);
}

/* The same in a table, without the year: "12-04 18:05". */
static void put_short_time(FILE *f, const json_t *v)
{
  const char *t = json_string_value(v);
  if (is_utc_time(t))
    fprintf(f, "%.5s %.5s", t + 5, t + 11);
  else
    put_time(f, v);
}

/* A JSON value as text: strings escaped, numbers as %g, null as "-". */
static void put_value(FILE *f, const json_t *v)
{
  if (json_is_string(v))
    gw_html_escape(f, json_string_value(v));
  else if (json_is_number(v))
    fprintf(f, "%g", json_number_value(v));
  else if (json_is_boolean(v))
    fputs(json_is_true(v) ? "yes" : "no", f);
  else
    fputs("-", f);
}

typedef enum { CELL_VALUE, CELL_TIME } cell_kind;

typedef struct {
  const char *key;
  cell_kind kind;
} cell;

/* One <td> per cell, from the fields of o. */
static void put_cells(FILE *f, const json_t *o, const cell *cells, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_object_get(o, cells[i].key);
    fputs("<td>", f);
    /* a time object's value is a time too */
    if (cells[i].kind == CELL_TIME || is_utc_time(json_string_value(v)))
      put_short_time(f, v);
    else
      put_value(f, v);
    fputs("</td>", f);
  }
}

/* v / scale with its unit, or "-" */
static void put_measure(FILE *f, const json_t *v, double scale,
                        const char *fmt, const char *unit)
{
  if (!json_is_number(v)) {
    fputs("-", f);
    return;
  }
  fprintf(f, fmt, json_number_value(v) / scale);
  fprintf(f, " %s", unit);
}

static void put_field(FILE *f, const char *label, const char *field)
{
  fprintf(f, "<dt>%s</dt><dd data-field=\"%s\">", label, field);
}

/* Lower-case letters of a status name, for its CSS class. */
static void put_status_class(FILE *f, const char *status)
{
  fputs("status s-", f);
  for (const char *p = status ? status : "unknown"; *p; p++)
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
      fputc(*p | 0x20, f);
}

static void put_objects(FILE *f, const char *charger_id, const json_t *conn)
{
  const json_t *objs = json_object_get(conn, "objects");
  if (!json_is_array(objs) || json_array_size(objs) == 0)
    return;
  fputs("<details id=\"o-", f);
  gw_html_escape(f, charger_id);
  fprintf(f, "-%d\"><summary>KNX objects (%zu)</summary>"
          "<table class=\"objects\"><tr><th>Object</th><th>GA</th>"
          "<th>DPT</th><th>Value</th><th>When</th></tr>",
          (int)json_integer_value(json_object_get(conn, "id")),
          json_array_size(objs));
  size_t i;
  const json_t *o;
  json_array_foreach(objs, i, o) {
    const char *dir = text_of(o, "direction");
    static const cell cells[] = {{"ga", CELL_VALUE}, {"dpt", CELL_VALUE},
                                 {"value", CELL_VALUE}, {"time", CELL_TIME}};
    fputs("<tr><td>", f);
    gw_html_escape(f, text_of(o, "name"));
    fputs(dir && strcmp(dir, "received") == 0 ? " &#8592;" : " &#8594;", f);
    fputs("</td>", f);
    put_cells(f, o, cells, sizeof cells / sizeof cells[0]);
    fputs("</tr>", f);
  }
  fputs("</table></details>", f);
}

static void put_limit(FILE *f, const json_t *limit)
{
  put_field(f, "Limit", "limit");
  const json_t *amps = json_object_get(limit, "amps");
  if (json_is_number(amps))
    fprintf(f, "%g A &middot; ", json_number_value(amps));
  const char *source = text_of(limit, "source");
  gw_html_escape(f, source ? source : "-");
  fputs("</dd>", f);
}

static void put_connector(FILE *f, const char *charger_id, const json_t *conn)
{
  const char *status = text_of(conn, "status");
  fprintf(f, "<div class=\"conn\" data-connector=\"%d\"><h3>Connector %d "
          "<span class=\"", (int)json_integer_value(json_object_get(conn, "id")),
          (int)json_integer_value(json_object_get(conn, "id")));
  put_status_class(f, status);
  fputs("\" data-status=\"", f);
  gw_html_escape(f, status ? status : "Unknown");
  fputs("\">", f);
  gw_html_escape(f, status ? status : "unknown");
  fputs("</span></h3><dl class=\"kv\">", f);
  const char *error = text_of(conn, "error_code");
  if (error && strcmp(error, "NoError") != 0) {
    put_field(f, "Error", "error");
    gw_html_escape(f, error);
    fputs("</dd>", f);
  }
  put_field(f, "Current", "current");
  put_measure(f, json_object_get(conn, "current_a"), 1, "%.1f", "A");
  fputs("</dd>", f);
  put_field(f, "Power", "power");
  put_measure(f, json_object_get(conn, "power_w"), 1000, "%.2f", "kW");
  fputs("</dd>", f);
  put_field(f, "Session", "session");
  put_measure(f, json_object_get(conn, "session_energy_wh"), 1000, "%.2f",
              "kWh");
  fputs("</dd>", f);
  put_field(f, "Tag", "tag");
  put_value(f, json_object_get(conn, "id_tag"));
  const char *tag_name = text_of(conn, "tag_name");
  if (tag_name && *tag_name) {
    fputs(" (", f);
    gw_html_escape(f, tag_name);
    fputs(")", f);
  }
  fputs("</dd>", f);
  put_limit(f, json_object_get(conn, "limit"));
  fputs("</dl>", f);
  put_objects(f, charger_id, conn);
  fputs("</div>", f);
}

/* Vendor, model and firmware, once the charger told them. */
static void put_identity(FILE *f, const json_t *c)
{
  const char *vendor = text_of(c, "vendor"), *model = text_of(c, "model");
  const char *firmware = text_of(c, "firmware");
  if ((!vendor || !*vendor) && (!model || !*model)) {
    fputs("no BootNotification yet", f);
    return;
  }
  gw_html_escape(f, vendor);
  fputs(" ", f);
  gw_html_escape(f, model);
  if (firmware && *firmware) {
    fputs(" &middot; firmware ", f);
    gw_html_escape(f, firmware);
  }
  /* 1.6 and 2.0.1 chargers look the same everywhere else */
  const char *version = text_of(c, "ocpp_version");
  if (version && *version) {
    fputs(" &middot; OCPP ", f);
    gw_html_escape(f, version);
  }
  json_int_t evses = json_integer_value(json_object_get(c, "evse_count"));
  if (evses > 0)
    fprintf(f, " &middot; %lld EVSE%s", (long long)evses, evses == 1 ? "" : "s");
}

/* The charger's link to its billing backend ([upstream]), when it has
 * one: registered or not, the last error, the states waiting for it. */
static void put_uplink(FILE *f, const json_t *u)
{
  if (!json_is_object(u))
    return;
  bool up = json_is_true(json_object_get(u, "connected"));
  fprintf(f, "<div class=\"uplink\" data-upstream=\"%s\"><h3><span "
          "class=\"dot%s\"></span>Backend link</h3><dl class=\"kv\">",
          up ? "up" : "down", up ? " on" : "");
  put_field(f, "Backend", "upstream-url");
  gw_html_escape(f, text_of(u, "url"));
  fputs(" &middot; as ", f);
  gw_html_escape(f, text_of(u, "identity"));
  fputs("</dd>", f);
  put_field(f, "Connected", "upstream-connected");
  if (up) {
    fputs("yes, since ", f);
    put_time(f, json_object_get(u, "since"));
  } else {
    fputs("no", f);
  }
  fputs("</dd>", f);
  const char *err = text_of(u, "last_error");
  put_field(f, "Last error", "upstream-error");
  gw_html_escape(f, err && *err ? err : "-");
  fputs("</dd>", f);
  put_field(f, "Queued", "upstream-queue");
  put_value(f, json_object_get(u, "queue_length"));
  const json_t *oldest = json_object_get(u, "oldest_queued");
  if (json_is_string(oldest)) {
    fputs(" &middot; oldest ", f);
    put_time(f, oldest);
  }
  fputs("</dd></dl></div>", f);
}

static void put_charger(FILE *f, const json_t *c)
{
  const char *id = text_of(c, "id");
  const char *name = text_of(c, "name");
  bool online = json_is_true(json_object_get(c, "online"));
  fputs("<section class=\"card charger\" data-charger=\"", f);
  gw_html_escape(f, id);
  fprintf(f, "\" data-online=\"%s\"><h2><span class=\"dot%s\"></span>",
          online ? "yes" : "no", online ? " on" : "");
  gw_html_escape(f, name ? name : id);
  if (name && id && strcmp(name, id) != 0) {
    fputs(" <small>", f);
    gw_html_escape(f, id);
    fputs("</small>", f);
  }
  fputs("</h2><p class=\"meta\">", f);
  if (online) {
    fputs("online since ", f);
    put_time(f, json_object_get(c, "connected_since"));
  } else {
    fputs("offline &middot; last seen ", f);
    put_time(f, json_object_get(c, "last_seen"));
  }
  fputs("</p><p class=\"meta\">", f);
  put_identity(f, c);
  fputs("</p>", f);
  put_uplink(f, json_object_get(c, "upstream"));
  size_t k;
  const json_t *conn;
  json_array_foreach(json_object_get(c, "connectors"), k, conn)
    put_connector(f, id, conn);
  fputs("</section>\n", f);
}

static void put_knx(FILE *f, const json_t *knx)
{
  const char *state = text_of(knx, "state");
  bool up = state && strcmp(state, "up") == 0;
  fprintf(f, "<section class=\"card\" id=\"knx\"><h2><span class=\"dot%s\">"
          "</span>knxd %s</h2><p class=\"meta\">", up ? " on" : "",
          up ? "up" : "down");
  gw_html_escape(f, text_of(knx, "url"));
  const char *err = text_of(knx, "last_error");
  if (!up && err && *err) {
    fputs(" &middot; ", f);
    gw_html_escape(f, err);
  }
  fputs(" &middot; telegrams sent ", f);
  put_value(f, json_object_get(knx, "telegrams_sent"));
  fputs("</p></section>\n", f);
}

/* A link that downloads a drafted charger file for identity: the id
 * percent-encoded, which leaves nothing to escape for HTML. */
static void put_draft_link(FILE *f, const char *identity)
{
  if (!identity || !*identity)
    return;
  fputs("<a class=\"draft\" download href=\"/draft.conf?id=", f);
  for (const unsigned char *p = (const unsigned char *)identity; *p; p++) {
    if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
      fputc(*p, f);
    else
      fprintf(f, "%%%02X", *p);
  }
  fputs("\">charger file</a>", f);
}

static void put_refused(FILE *f, const json_t *refused)
{
  fputs("<section class=\"card\" id=\"refused\"><h2>Refused connections</h2>",
        f);
  if (json_array_size(refused) == 0) {
    fputs("<p class=\"meta\">none</p></section>\n", f);
    return;
  }
  fputs("<table><tr><th>Identity</th><th>Address</th><th>Time</th>"
        "<th>Reason</th><th></th></tr>", f);
  size_t i;
  const json_t *r;
  json_array_foreach(refused, i, r) {
    static const cell cells[] = {{"identity", CELL_VALUE},
                                 {"address", CELL_VALUE}, {"time", CELL_TIME}};
    fputs("<tr>", f);
    put_cells(f, r, cells, sizeof cells / sizeof cells[0]);
    fputs("<td>", f);
    gw_html_escape(f, text_of(r, "reason"));
    fputs(" (HTTP ", f);
    put_value(f, json_object_get(r, "http_status"));
    fputs(")</td><td>", f);
    put_draft_link(f, text_of(r, "identity"));
    fputs("</td></tr>", f);
  }
  fputs("</table></section>\n", f);
}

static void put_chart(FILE *f, const json_t *chart, const char *title,
                      const char *id)
{
  char *svg = gw_chart_svg(chart, title);
  if (!svg)
    return;
  fprintf(f, "<h3>%s</h3><div class=\"chart\" id=\"%s\">%s</div>", title, id,
          svg);
  free(svg);
}

static void put_charts(FILE *f, const json_t *months)
{
  if (!json_is_object(months))
    return;
  fputs("<section class=\"card\" id=\"energy\"><h2>Energy per month</h2>", f);
  put_chart(f, json_object_get(months, "chargers"), "per charger",
            "chart-chargers");
  put_chart(f, json_object_get(months, "tags"), "per tag", "chart-tags");
  fputs("</section>\n", f);
}

static void put_csv_form(FILE *f, const json_t *months)
{
  const char *first = json_string_value(json_array_get(
    json_object_get(json_object_get(months, "chargers"), "months"), 0));
  fputs("<form action=\"/sessions.csv\" method=\"get\"><label>from "
        "<input type=\"date\" name=\"from\"", f);
  if (first && strlen(first) == 7) {
    fputs(" value=\"", f);
    gw_html_escape(f, first);
    fputs("-01\"", f);
  }
  fputs("></label><label>to <input type=\"date\" name=\"to\"></label>"
        "<button type=\"submit\">CSV</button></form>", f);
}

static void put_sessions(FILE *f, const json_t *sessions, const json_t *months)
{
  fputs("<section class=\"card\" id=\"sessions\"><h2>Last sessions</h2>", f);
  put_csv_form(f, months);
  fputs("<table><tr><th>Start</th><th>Charger</th><th>kWh</th><th>Tag</th>"
        "</tr>", f);
  size_t i;
  const json_t *s;
  json_array_foreach(sessions, i, s) {
    static const cell start[] = {{"start", CELL_TIME}};
    fputs("<tr>", f);
    put_cells(f, s, start, 1);
    fputs("<td>", f);
    gw_html_escape(f, text_of(s, "charger_id"));
    fprintf(f, " #%d</td><td>",
            (int)json_integer_value(json_object_get(s, "connector")));
    put_measure(f, json_object_get(s, "energy_wh"), 1000, "%.2f", "");
    fputs("</td><td>", f);
    put_value(f, json_object_get(s, "id_tag"));
    fputs("</td></tr>", f);
  }
  fputs("</table></section>\n", f);
}

static void put_uptime(FILE *f, const json_t *v)
{
  if (!json_is_integer(v))
    return;
  long long sec = json_integer_value(v);
  if (sec >= 86400)
    fprintf(f, " &middot; up %lld d %lld h", sec / 86400, sec % 86400 / 3600);
  else if (sec >= 3600)
    fprintf(f, " &middot; up %lld h %lld min", sec / 3600, sec % 3600 / 60);
  else
    fprintf(f, " &middot; up %lld min", sec / 60);
}

static void put_energy(FILE *f, const json_t *en);

static void put_main(FILE *f, const json_t *st)
{
  fputs("<p class=\"meta\">ocppknx ", f);
  put_value(f, json_object_get(st, "version"));
  put_uptime(f, json_object_get(st, "uptime_s"));
  fputs(" &middot; <a href=\"/status\">JSON</a></p>\n", f);
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(st, "chargers"), i, c)
    put_charger(f, c);
  put_energy(f, json_object_get(st, "energy"));
  put_knx(f, json_object_get(st, "knx"));
  put_refused(f, json_object_get(st, "refused"));
  put_charts(f, json_object_get(st, "energy_months"));
  put_sessions(f, json_object_get(st, "sessions"),
               json_object_get(st, "energy_months"));
}

static const char page_style[] =
  "*{box-sizing:border-box}"
  "body{margin:0;font:15px/1.4 system-ui,sans-serif;background:#eef1f5;"
  "color:#1b1f24}"
  "header,main{max-width:760px;margin:0 auto;padding:0 8px}"
  "h1{font-size:20px;margin:10px 0 0}"
  ".card{background:#fff;border-radius:10px;padding:10px 12px;margin:10px 0;"
  "box-shadow:0 1px 3px #0002}"
  "h2{font-size:17px;margin:0 0 4px;overflow-wrap:anywhere}"
  "h3{font-size:15px;margin:10px 0 4px}"
  ".meta{margin:2px 0;color:#555;font-size:13px;overflow-wrap:anywhere}"
  ".dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
  "margin-right:6px;background:#aaa}.dot.on{background:#1a9c3e}"
  ".status{padding:1px 8px;border-radius:10px;background:#dde;font-size:13px;"
  "font-weight:normal}"
  ".s-charging{background:#1a9c3e;color:#fff}.s-available{background:#cfe3f7}"
  ".s-faulted,.s-unavailable{background:#c62828;color:#fff}"
  ".s-preparing,.s-suspendedev,.s-suspendedevse,.s-finishing,.s-reserved"
  "{background:#ffd27a}"
  "dl.kv{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:4px 0}"
  "dt{color:#555}dd{margin:0;overflow-wrap:anywhere}"
  "table{width:100%;border-collapse:collapse;table-layout:fixed;"
  "font-size:12px;margin-top:4px}"
  "td,th{padding:3px 4px;border-bottom:1px solid #e3e6ea;text-align:left;"
  "overflow-wrap:anywhere;vertical-align:top}"
  "table.objects th:nth-child(1){width:34%}table.objects th:nth-child(2),"
  "table.objects th:nth-child(3){width:15%}"
  "summary{cursor:pointer;color:#245}"
  ".chart svg{width:100%;height:auto;display:block}"
  "form{display:flex;flex-wrap:wrap;gap:6px;align-items:center;"
  "font-size:13px}input,button{font:inherit;max-width:100%}"
  "body.stale h1::after{content:\" (reconnecting)\";color:#c62828;"
  "font-size:13px}";

/* Live updates replace <main> with what the "page" events carry; the
 * KNX tables that were open stay open. */
static const char page_script[] =
  "(function(){if(!window.EventSource)return;"
  "var m=document.getElementById('main'),b=document.body,"
  "s=new EventSource('/events');"
  "s.addEventListener('page',function(e){"
  "var o=[].map.call(m.querySelectorAll('details[open]'),function(d){"
  "return d.id});m.innerHTML=e.data;o.forEach(function(i){"
  "var d=document.getElementById(i);if(d)d.open=true});"
  "b.classList.remove('stale');b.dataset.updates=(+b.dataset.updates||0)+1;});"
  "s.onerror=function(){b.classList.add('stale')};})();";

static void put_main_of(FILE *f, const void *st)
{
  put_main(f, st);
}

char *gw_page_main(const json_t *st)
{
  return json_is_object(st) ? gw_html_render(put_main_of, st) : NULL;
}

static void put_page(FILE *f, const void *main_html)
{
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,"
          "initial-scale=1\"><title>ocppknx</title><style>%s</style></head>"
          "<body><header><h1>ocppknx</h1></header>\n<main id=\"main\">%s"
          "</main>\n<script>%s</script></body></html>\n", page_style,
          (const char *)main_html, page_script);
}

char *gw_page_html(const json_t *st)
{
  char *main_html = gw_page_main(st);
  char *out = main_html ? gw_html_render(put_page, main_html) : NULL;
  free(main_html);
  return out;
}

/* The energy manager: the budget and the load per phase, then per
 * connector its mode, its allocation and why. Absent without [energy].
 * Four columns at most, so that it fits a phone's width. */
static void put_energy(FILE *f, const json_t *en)
{
  if (!json_is_object(en))
    return;
  fputs("<section class=\"card\" id=\"energy\"><h2>Energy manager</h2>"
        "<p class=\"meta\">main fuse ", f);
  put_measure(f, json_object_get(en, "main_fuse"), 1, "%.0f", "A");
  fputs(" &middot; headroom ", f);
  put_measure(f, json_object_get(en, "headroom_a"), 1, "%.1f", "A");
  fputs(" &middot; grid ", f);
  put_measure(f, json_object_get(en, "grid_power_w"), 1, "%.0f", "W");
  if (json_is_true(json_object_get(en, "stale")))
    fputs(" &middot; <b>meter stale: safe current</b>", f);
  fputs("</p><table><tr><th></th><th>L1</th><th>L2</th><th>L3</th></tr>", f);
  static const char *const rows[][2] = {{"measured A", "measured_a"},
                                        {"house A", "base_load_a"},
                                        {"budget A", "budget_a"}};
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    fprintf(f, "<tr><th>%s</th>", rows[r][0]);
    for (size_t ph = 0; ph < 3; ph++) {
      fputs("<td>", f);
      put_value(f, json_array_get(json_object_get(en, rows[r][1]), ph));
      fputs("</td>", f);
    }
    fputs("</tr>", f);
  }
  fputs("</table><table><tr><th>Connector</th><th>Mode</th><th>A</th>"
        "<th>Why</th></tr>", f);
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(en, "connectors"), i, c) {
    fputs("<tr><td>", f);
    gw_html_escape(f, text_of(c, "charger"));
    fputs("/", f);
    put_value(f, json_object_get(c, "connector"));
    fputs("</td>", f);
    static const cell cells[] = {{"mode", CELL_VALUE}, {"allocation_a", CELL_VALUE},
                                 {"reason", CELL_VALUE}};
    put_cells(f, c, cells, sizeof cells / sizeof cells[0]);
    fputs("</tr>", f);
  }
  fputs("</table></section>\n", f);
}

char *gw_status_html(const char *status_json)
{
  json_t *st = status_json ? json_loads(status_json, 0, NULL) : NULL;
  if (!st)
    return NULL;
  char *html = gw_page_html(st);
  json_decref(st);
  return html;
}
