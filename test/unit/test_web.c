/* The status page's pure parts: the page and the chart from a status
 * object (escaping, tolerance), the month arithmetic, the CSV date range,
 * the masking of tags. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "gateway/web.h"

static json_t *parse(const char *text)
{
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  cr_assert_not_null(j, "%s: %s", text, err.text);
  return j;
}

static char *page_of(const char *json)
{
  json_t *st = parse(json);
  char *html = gw_page_html(st);
  json_decref(st);
  cr_assert_not_null(html);
  return html;
}

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* ---- the page ------------------------------------------------------------ */

static const char HOSTILE[] =
  "{\"version\":\"1\",\"uptime_s\":5,"
  "\"knx\":{\"state\":\"down\",\"url\":\"local:/x\","
  "\"last_error\":\"<b>gone</b>\"},"
  "\"chargers\":[{\"id\":\"CP\\\"><script>x()</script>\","
  "\"name\":\"Tom & Jerry's\",\"online\":true,"
  "\"vendor\":\"<script>alert(1)</script>\",\"model\":\"<img src=x "
  "onerror=y()>\",\"firmware\":\"1'\\\"\","
  "\"connectors\":[{\"id\":1,\"status\":\"<i>Charging</i>\","
  "\"id_tag\":\"</td><script>\",\"limit\":{\"amps\":null,\"source\":"
  "\"<u>me</u>\"},\"objects\":[{\"name\":\"<o>\",\"ga\":\"<g>\",\"dpt\":"
  "\"<d>\",\"value\":\"<v>\",\"time\":\"<t>\"}]}]}],"
  "\"refused\":[{\"identity\":\"<svg onload=z()>\",\"address\":\"1.2.3.4:5\","
  "\"time\":\"2026-12-04T18:00:00Z\",\"http_status\":404,"
  "\"reason\":\"<marquee>\"}],"
  "\"sessions\":[{\"charger_id\":\"<s1>\",\"connector\":1,\"id_tag\":"
  "\"<tag>\",\"start\":\"2026-12-01T10:00:00Z\",\"energy_wh\":1500}],"
  "\"energy_months\":{\"chargers\":{\"months\":[\"2026-12\"],\"series\":"
  "[{\"label\":\"<script>bar()</script>\",\"wh\":[1000]}]},"
  "\"tags\":{\"months\":[\"2026-12\"],\"series\":[]}}}";

Test(page, hostile_texts_come_out_escaped)
{
  char *html = page_of(HOSTILE);
  /* the only script element is the page's own */
  cr_assert_eq(count(html, "<script"), 1, "%s", html);
  cr_assert_null(strstr(html, "<img"));
  cr_assert_null(strstr(html, "<svg onload"));
  cr_assert_null(strstr(html, "<marquee"));
  cr_assert_null(strstr(html, "<i>Charging"));
  cr_assert_null(strstr(html, "<b>gone"));
  cr_assert_null(strstr(html, "<u>me"));
  cr_assert_null(strstr(html, "<o>"));
  cr_assert_null(strstr(html, "<tag>"));
  cr_assert_not_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  cr_assert_not_null(strstr(html, "Tom &amp; Jerry&#39;s"));
  cr_assert_not_null(strstr(html, "data-charger=\"CP&quot;&gt;&lt;script&gt;"));
  cr_assert_not_null(strstr(html, "&lt;svg onload=z()&gt;"));
  cr_assert_not_null(strstr(html, "data-series=\"&lt;script&gt;bar()"));
  free(html);
}

Test(page, card_shows_the_connector)
{
  char *html = page_of(
    "{\"chargers\":[{\"id\":\"CP1\",\"name\":\"Garage\",\"online\":true,"
    "\"connected_since\":\"2026-12-04T08:01:02Z\",\"vendor\":\"ACME\","
    "\"model\":\"W9\",\"firmware\":\"3.1\",\"ocpp_version\":\"2.0.1\","
    "\"evse_count\":2,\"connectors\":[{\"id\":1,"
    "\"status\":\"Charging\",\"error_code\":\"NoError\",\"current_a\":16,"
    "\"power_w\":11040,\"session_energy_wh\":600,\"id_tag\":\"TAG1\","
    "\"limit\":{\"amps\":13,\"source\":\"KNX max_current\"},"
    "\"objects\":[{\"name\":\"current\",\"ga\":\"9/7/40\",\"dpt\":\"14.019\","
    "\"direction\":\"sent\",\"value\":16,\"time\":\"2026-12-04T08:05:00Z\"}]"
    "}]}]}");
  cr_assert_not_null(strstr(html, "data-status=\"Charging\">Charging"));
  cr_assert_not_null(strstr(html, "class=\"status s-charging\""));
  cr_assert_not_null(strstr(html, "data-field=\"current\">16.0 A<"));
  cr_assert_not_null(strstr(html, "data-field=\"power\">11.04 kW<"));
  cr_assert_not_null(strstr(html, "data-field=\"session\">0.60 kWh<"));
  cr_assert_not_null(strstr(html, "data-field=\"tag\">TAG1<"));
  cr_assert_not_null(strstr(html, "13 A &middot; KNX max_current"));
  cr_assert_not_null(strstr(html, "online since 2026-12-04 08:01 UTC"));
  cr_assert_not_null(strstr(html, "ACME W9 &middot; firmware 3.1 &middot; "
                                  "OCPP 2.0.1 &middot; 2 EVSEs"), "%s", html);
  cr_assert_not_null(strstr(html, "<td>9/7/40</td><td>14.019</td><td>16</td>"
                                  "<td>12-04 08:05</td>"));
  cr_assert_null(strstr(html, "data-field=\"error\""), "NoError shown");
  cr_assert_not_null(strstr(html, "name=\"viewport\""));
  free(html);
}

Test(page, card_shows_the_backend_link)
{
  char *html = page_of(
    "{\"chargers\":[{\"id\":\"CP1\",\"online\":true,\"connectors\":[],"
    "\"upstream\":{\"url\":\"wss://b.example/ocpp/EMP-4711\","
    "\"identity\":\"EMP-4711\",\"connected\":false,\"websocket\":false,"
    "\"since\":null,\"last_error\":\"<refused>\",\"failures\":3,"
    "\"queue_length\":2,\"oldest_queued\":\"2026-12-04T08:05:00Z\"}},"
    "{\"id\":\"CP2\",\"connectors\":[],\"upstream\":{\"url\":\"ws://b/\","
    "\"identity\":\"CP2\",\"connected\":true,\"since\":"
    "\"2026-12-04T09:00:00Z\",\"last_error\":\"\",\"queue_length\":0,"
    "\"oldest_queued\":null}},{\"id\":\"CP3\",\"connectors\":[]}]}");
  cr_assert_eq(count(html, "Backend link</h3>"), 2, "%s", html);
  cr_assert_not_null(strstr(html, "data-upstream=\"down\""));
  cr_assert_not_null(strstr(html, "wss://b.example/ocpp/EMP-4711 &middot; as "
                                  "EMP-4711"));
  cr_assert_not_null(strstr(html, "data-field=\"upstream-connected\">no<"));
  cr_assert_not_null(strstr(html, "data-field=\"upstream-error\">&lt;refused&gt;<"));
  cr_assert_not_null(strstr(html, "data-field=\"upstream-queue\">2 &middot; "
                                  "oldest 2026-12-04 08:05 UTC<"));
  cr_assert_not_null(strstr(html, "data-upstream=\"up\""));
  cr_assert_not_null(strstr(html, "data-field=\"upstream-connected\">yes, since "
                                  "2026-12-04 09:00 UTC<"));
  cr_assert_not_null(strstr(html, "data-field=\"upstream-queue\">0<"));
  free(html);
}

Test(page, unknown_fields_are_ignored_and_missing_ones_shown_as_dash)
{
  char *html = page_of(
    "{\"energy\":{\"mode\":\"surplus\",\"nested\":[1,2,{\"x\":null}]},"
    "\"chargers\":[{\"id\":\"CP1\",\"future\":[1],\"connectors\":[{"
    "\"id\":1,\"phases\":{\"l1\":3}}]}, 7, \"junk\"],"
    "\"refused\":{\"not\":\"an array\"},\"sessions\":null}");
  cr_assert_not_null(strstr(html, "data-field=\"current\">-<"));
  cr_assert_not_null(strstr(html, "data-status=\"Unknown\""));
  cr_assert_not_null(strstr(html, "knxd down"));
  cr_assert_not_null(strstr(html, "</html>"));
  free(html);
}

Test(page, main_part_is_what_updates_replace)
{
  json_t *st = parse("{\"chargers\":[{\"id\":\"CP1\",\"connectors\":[]}]}");
  char *main_html = gw_page_main(st);
  char *html = gw_page_html(st);
  cr_assert_not_null(main_html);
  cr_assert_null(strstr(main_html, "<html"));
  cr_assert_null(strstr(main_html, "<script"));
  cr_assert_not_null(strstr(html, main_html));
  cr_assert_not_null(strstr(html, "new EventSource('/events')"));
  free(main_html);
  free(html);
  json_decref(st);
}

Test(page, invalid_input)
{
  cr_assert_null(gw_status_html("{not json"));
  cr_assert_null(gw_status_html(NULL));
  cr_assert_null(gw_page_html(NULL));
  json_t *arr = json_array();
  cr_assert_null(gw_page_main(arr));
  json_decref(arr);
  char *html = gw_status_html("{}");
  cr_assert_not_null(html);
  free(html);
}

/* ---- the chart ----------------------------------------------------------- */

static char *chart_of(const char *json)
{
  json_t *c = parse(json);
  char *svg = gw_chart_svg(c, "per charger");
  json_decref(c);
  return svg;
}

Test(chart, one_bar_segment_per_series_and_month_with_energy)
{
  char *svg = chart_of(
    "{\"months\":[\"2026-10\",\"2026-11\",\"2026-12\"],\"series\":["
    "{\"label\":\"CP1\",\"wh\":[0,2000,4000]},"
    "{\"label\":\"CP2\",\"wh\":[0,0,1000]}]}");
  cr_assert_not_null(svg);
  cr_assert(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
  cr_assert_eq(count(svg, "class=\"bar\""), 3, "%s", svg);
  cr_assert_eq(count(svg, "data-month=\"2026-10\""), 0);
  cr_assert_eq(count(svg, "data-month=\"2026-12\""), 2);
  cr_assert_not_null(strstr(svg, "data-month=\"2026-11\" data-series=\"CP1\" "
                                 "data-wh=\"2000\""));
  /* 5 kWh on top: 1, 2 or 5 times a power of ten above the largest month */
  cr_assert_not_null(strstr(svg, ">5</text>"), "%s", svg);
  cr_assert_not_null(strstr(svg, ">Nov</text>"));
  free(svg);
}

Test(chart, bars_scale_with_their_energy)
{
  /* 4000 of a 5000 scale in a 130 px plot: 104 px; 1000 stacked on it */
  char *svg = chart_of("{\"months\":[\"2026-12\"],\"series\":["
                       "{\"label\":\"A\",\"wh\":[4000]},"
                       "{\"label\":\"B\",\"wh\":[1000]}]}");
  cr_assert_not_null(strstr(svg, "height=\"104.0\""), "%s", svg);
  cr_assert_not_null(strstr(svg, "height=\"26.0\""), "%s", svg);
  free(svg);
}

Test(chart, empty_chart_says_so)
{
  char *svg = chart_of("{\"months\":[\"2026-11\",\"2026-12\"],\"series\":[]}");
  cr_assert_not_null(strstr(svg, "no energy recorded"));
  cr_assert_eq(count(svg, "class=\"bar\""), 0);
  free(svg);
}

Test(chart, negative_and_non_numbers_draw_nothing)
{
  char *svg = chart_of("{\"months\":[\"2026-12\"],\"series\":["
                       "{\"label\":\"A\",\"wh\":[-5]},"
                       "{\"label\":\"B\",\"wh\":[\"x\"]},{\"label\":\"C\"}]}");
  cr_assert_eq(count(svg, "class=\"bar\""), 0);
  free(svg);
}

Test(chart, not_a_chart)
{
  cr_assert_null(chart_of("{\"months\":[]}"));
  cr_assert_null(chart_of("{\"series\":[]}"));
  cr_assert_null(chart_of("[]"));
  cr_assert_null(gw_chart_svg(NULL, "x"));
}

/* ---- months -------------------------------------------------------------- */

#define T_2026_12_04 1796385600 /* 2026-12-04T12:00:00Z */
#define T_2026_01_01 1767225600 /* 2026-01-01T00:00:00Z */

Test(month, number_of_a_time_in_utc)
{
  cr_assert_eq(gw_month_number(T_2026_12_04), 2026 * 12 + 11);
  cr_assert_eq(gw_month_number(T_2026_01_01), 2026 * 12);
  cr_assert_eq(gw_month_number(T_2026_01_01 - 1), 2025 * 12 + 11);
  cr_assert_eq(gw_month_number(0), 1970 * 12);
  cr_assert_eq(gw_month_number(-1), 1969 * 12 + 11);
  /* 2024-02-29T23:59:59Z, a leap day */
  cr_assert_eq(gw_month_number(1709251199), 2024 * 12 + 1);
  cr_assert_eq(gw_month_number(1709251200), 2024 * 12 + 2);
}

Test(month, start_is_the_first_second_of_the_month)
{
  cr_assert_eq(gw_month_start(2026 * 12), T_2026_01_01);
  cr_assert_eq(gw_month_start(1970 * 12), 0);
  for (int64_t m = 1990 * 12; m < 2040 * 12; m++) {
    time_t s = gw_month_start(m);
    cr_assert_eq(gw_month_number(s), m);
    cr_assert_eq(gw_month_number(s - 1), m - 1);
  }
}

Test(month, label)
{
  char l[8];
  gw_month_label(2026 * 12 + 11, l);
  cr_assert_str_eq(l, "2026-12");
  gw_month_label(2026 * 12, l);
  cr_assert_str_eq(l, "2026-01");
  gw_month_label(-5, l);
  cr_assert_str_eq(l, "?");
}

Test(month, slot_in_the_last_twelve)
{
  int64_t now = 2026 * 12 + 11;
  cr_assert_eq(gw_month_slot(now, now), 11);
  cr_assert_eq(gw_month_slot(2026 * 12, now), 0);
  cr_assert_eq(gw_month_slot(2026 * 12 + 5, now), 5);
  cr_assert_eq(gw_month_slot(2025 * 12 + 11, now), -1);
  cr_assert_eq(gw_month_slot(now + 1, now), -1);
  /* a window across the turn of the year */
  int64_t march = 2027 * 12 + 2;
  cr_assert_eq(gw_month_slot(2026 * 12 + 11, march), 8);
  cr_assert_eq(gw_month_slot(2026 * 12 + 3, march), 0);
  cr_assert_eq(gw_month_slot(2026 * 12 + 2, march), -1);
}

/* ---- the CSV date range --------------------------------------------------- */

static void expect_range(const char *q, time_t from, time_t to)
{
  time_t f = -1, t = -1;
  cr_assert_eq(gw_query_range(q, &f, &t), GW_OK, "%s", q ? q : "(null)");
  cr_assert_eq(f, from, "%s: from %lld", q, (long long)f);
  cr_assert_eq(t, to, "%s: to %lld", q, (long long)t);
}

static void expect_bad(const char *q)
{
  time_t f = -1, t = -1;
  cr_assert_eq(gw_query_range(q, &f, &t), GW_EINVAL, "%s accepted", q);
  cr_assert(f == 0 && t == 0);
}

Test(query, from_and_to_days_with_the_to_day_included)
{
  expect_range("from=2026-01-01&to=2026-01-31", T_2026_01_01,
               T_2026_01_01 + 31 * 86400);
  expect_range("to=2026-01-01&from=2026-01-01", T_2026_01_01,
               T_2026_01_01 + 86400);
  expect_range("from=2026-01-01", T_2026_01_01, 0);
  expect_range("to=2025-12-31", 0, T_2026_01_01);
}

Test(query, empty_and_missing_are_open_ends)
{
  expect_range(NULL, 0, 0);
  expect_range("", 0, 0);
  expect_range("from=&to=", 0, 0);
  expect_range("from&to", 0, 0);
  expect_range("&&", 0, 0);
  expect_range("x=1&from=2026-01-01&y", T_2026_01_01, 0);
  expect_range("fromage=1&tomorrow=2&averyveryverylongkey=3", 0, 0);
}

Test(query, percent_escapes_and_plus_are_decoded)
{
  expect_range("from=2026%2D01%2d01", T_2026_01_01, 0);
  expect_range("%66rom=2026-01-01", T_2026_01_01, 0);
  expect_bad("from=+2026-01-01");
  expect_bad("from=2026-01-01%");
  expect_bad("from=2026-01-01%4");
  expect_bad("from=%zz26-01-01");
  expect_bad("from=2026-01%0001");
}

Test(query, bad_dates_and_ranges)
{
  expect_bad("from=2026-02-30");
  expect_bad("from=2026-13-01");
  expect_bad("from=2026-1-01");
  expect_bad("from=2026-01-011");
  expect_bad("from=20260101");
  expect_bad("from=1969-12-31");
  expect_bad("from=2026-01-01&from=2026-01-02");
  expect_bad("to=2026-01-01&to=");
  expect_bad("from=2026-02-01&to=2026-01-31");
  expect_bad("from=2026-01-01T00:00");
  time_t f;
  cr_assert_eq(gw_query_range("", &f, NULL), GW_EINVAL);
  cr_assert_eq(gw_query_range("", NULL, &f), GW_EINVAL);
}

Test(query, parse_day)
{
  time_t t = 0;
  cr_assert_eq(gw_parse_day("2026-01-01", false, &t), GW_OK);
  cr_assert_eq(t, T_2026_01_01);
  cr_assert_eq(gw_parse_day("2025-12-31", true, &t), GW_OK);
  cr_assert_eq(t, T_2026_01_01);
  cr_assert_eq(gw_parse_day("2024-02-29", false, &t), GW_OK);
  cr_assert_eq(gw_parse_day("2025-02-29", false, &t), GW_EINVAL);
  cr_assert_eq(gw_parse_day(" 2026-01-01", false, &t), GW_EINVAL);
  cr_assert_eq(gw_parse_day(NULL, false, &t), GW_EINVAL);
  cr_assert_eq(gw_parse_day("2026-01-01", false, NULL), GW_EINVAL);
}

/* ---- masking --------------------------------------------------------------- */

Test(mask, every_tag_is_replaced)
{
  json_t *st = parse(
    "{\"chargers\":[{\"id\":\"CP1\",\"connectors\":[{\"id\":1,"
    "\"id_tag\":\"04A1B2C3\",\"objects\":[{\"name\":\"last_tag\","
    "\"value\":\"04A1B2C3\"},{\"name\":\"current\",\"value\":16}]},"
    "{\"id\":2,\"id_tag\":null}]}],"
    "\"sessions\":[{\"id_tag\":\"04A1B2C3\"},{\"id_tag\":\"\"}]}");
  gw_web_mask_tags(st);
  char *text = json_dumps(st, JSON_COMPACT);
  cr_assert_null(strstr(text, "04A1"), "%s", text);
  cr_assert_eq(count(text, "\"****\""), 3, "%s", text);
  cr_assert_not_null(strstr(text, "\"value\":16"));
  cr_assert_not_null(strstr(text, "\"id_tag\":null"));
  cr_assert_not_null(strstr(text, "\"id_tag\":\"\""));
  free(text);
  json_decref(st);
}

Test(query, a_value_is_found_and_decoded)
{
  char v[16];
  cr_assert_eq(gw_query_value("a=1&id=NEW%20BOX+7&b=2", "id", v, sizeof v), GW_OK);
  cr_assert_str_eq(v, "NEW BOX 7");
  cr_assert_eq(gw_query_value("idx=1&xid=2", "id", v, sizeof v), GW_ENOTFOUND);
  cr_assert_eq(gw_query_value("", "id", v, sizeof v), GW_ENOTFOUND);
  cr_assert_eq(gw_query_value(NULL, "id", v, sizeof v), GW_ENOTFOUND);
  cr_assert_eq(gw_query_value("id=", "id", v, sizeof v), GW_OK);
  cr_assert_str_eq(v, "");
}

Test(query, a_bad_or_long_value_is_refused)
{
  char v[8];
  cr_assert_eq(gw_query_value("id=%zz", "id", v, sizeof v), GW_EINVAL);
  cr_assert_eq(gw_query_value("id=%00", "id", v, sizeof v), GW_EINVAL);
  cr_assert_eq(gw_query_value("id=12345678", "id", v, sizeof v), GW_EINVAL);
  cr_assert_eq(gw_query_value("id=1", NULL, v, sizeof v), GW_EINVAL);
}
