/* The human-readable status page: the same data as /status, as a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/app.h"

static void put_escaped(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* A JSON value as table text: strings as they are, null as "-". */
static void put_value(FILE *f, const json_t *v)
{
  if (!v || json_is_null(v)) {
    fputs("-", f);
  } else if (json_is_string(v)) {
    put_escaped(f, json_string_value(v));
  } else if (json_is_real(v)) {
    fprintf(f, "%.1f", json_real_value(v));
  } else {
    char *t = json_dumps(v, JSON_ENCODE_ANY);
    put_escaped(f, t);
    free(t);
  }
}

static void put_cell(FILE *f, const json_t *obj, const char *key)
{
  fputs("<td>", f);
  put_value(f, json_object_get(obj, key));
  fputs("</td>", f);
}

static void put_chargers(FILE *f, const json_t *chargers)
{
  fputs("<h2>Chargers</h2><table><tr><th>id</th><th>name</th><th>online</th>"
        "<th>vendor</th><th>model</th><th>serial</th><th>firmware</th>"
        "<th>last seen</th><th>connector</th><th>status</th><th>error</th>"
        "<th>transaction</th><th>current A</th><th>power W</th>"
        "<th>meter Wh</th><th>session Wh</th></tr>\n", f);
  size_t i, k;
  const json_t *c, *conn;
  json_array_foreach(chargers, i, c) {
    json_array_foreach(json_object_get(c, "connectors"), k, conn) {
      fputs("<tr>", f);
      static const char *const keys[] = {"id", "name", "online", "vendor",
                                         "model", "serial", "firmware",
                                         "last_seen"};
      for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
        put_cell(f, c, keys[j]);
      static const char *const ckeys[] = {"id", "status", "error_code",
                                          "transaction_id", "current_a",
                                          "power_w", "energy_wh",
                                          "session_energy_wh"};
      for (size_t j = 0; j < sizeof ckeys / sizeof ckeys[0]; j++)
        put_cell(f, conn, ckeys[j]);
      fputs("</tr>\n", f);
    }
  }
  fputs("</table>\n", f);
}

static void put_refused(FILE *f, const json_t *refused)
{
  fputs("<h2>Refused connections</h2><table><tr><th>identity</th>"
        "<th>address</th><th>time</th><th>HTTP</th><th>reason</th></tr>\n", f);
  size_t i;
  const json_t *r;
  json_array_foreach(refused, i, r) {
    fputs("<tr>", f);
    static const char *const keys[] = {"identity", "address", "time",
                                       "http_status", "reason"};
    for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
      put_cell(f, r, keys[j]);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

/* The energy manager: the budget and the load per phase, then per
 * connector its mode, its allocation and why. Absent without [energy]. */
static void put_energy(FILE *f, const json_t *en)
{
  if (!json_is_object(en))
    return;
  fputs("<h2>Energy manager</h2><p>main fuse ", f);
  put_value(f, json_object_get(en, "main_fuse"));
  fputs(" A · headroom ", f);
  put_value(f, json_object_get(en, "headroom_a"));
  fputs(" A · grid power ", f);
  put_value(f, json_object_get(en, "grid_power_w"));
  fputs(" W · stale meter ", f);
  put_value(f, json_object_get(en, "stale"));
  fputs("</p><table><tr><th></th><th>L1</th><th>L2</th><th>L3</th></tr>\n", f);
  static const char *const rows[][2] = {{"measured A", "measured_a"},
                                        {"base load A", "base_load_a"},
                                        {"budget A", "budget_a"}};
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    fprintf(f, "<tr><th>%s</th>", rows[r][0]);
    for (size_t p = 0; p < 3; p++) {
      fputs("<td>", f);
      put_value(f, json_array_get(json_object_get(en, rows[r][1]), p));
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table><table><tr><th>charger</th><th>connector</th><th>mode</th>"
        "<th>session</th><th>allocation A</th><th>target A</th>"
        "<th>reason</th><th>phases</th></tr>\n", f);
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(en, "connectors"), i, c) {
    fputs("<tr>", f);
    static const char *const keys[] = {"charger", "connector", "mode",
                                       "session", "allocation_a", "target_a",
                                       "reason", "phases"};
    for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
      put_cell(f, c, keys[j]);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

char *gw_status_html(const char *status_json)
{
  json_t *st = json_loads(status_json, 0, NULL);
  if (!st)
    return NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f) {
    json_decref(st);
    return NULL;
  }
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>ocppknx</title><style>body{font-family:sans-serif}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:2px 6px}</style></head><body>\n<h1>ocppknx ", f);
  put_value(f, json_object_get(st, "version"));
  fputs("</h1>\n<p>uptime ", f);
  put_value(f, json_object_get(st, "uptime_s"));
  fputs(" s · knxd ", f);
  json_t *knx = json_object_get(st, "knx");
  put_value(f, json_object_get(knx, "url"));
  fputs(": ", f);
  put_value(f, json_object_get(knx, "state"));
  fputs(" · <a href=\"/status\">JSON</a></p>\n", f);
  put_chargers(f, json_object_get(st, "chargers"));
  put_energy(f, json_object_get(st, "energy"));
  put_refused(f, json_object_get(st, "refused"));
  fputs("</body></html>\n", f);
  fclose(f);
  json_decref(st);
  return out;
}
