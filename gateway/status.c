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

/* The chargers that stand for themselves towards a billing backend. */
static void put_backends(FILE *f, const json_t *chargers)
{
  size_t i;
  const json_t *c;
  bool any = false;
  json_array_foreach(chargers, i, c) {
    const json_t *u = json_object_get(c, "upstream");
    if (!u)
      continue;
    if (!any)
      fputs("<h2>Backend links</h2><table><tr><th>charger</th><th>url</th>"
            "<th>identity</th><th>connected</th><th>since</th>"
            "<th>last error</th><th>queued</th><th>oldest queued</th></tr>\n",
            f);
    any = true;
    fputs("<tr>", f);
    put_cell(f, c, "id");
    static const char *const keys[] = {"url", "identity", "connected", "since",
                                       "last_error", "queue_length",
                                       "oldest_queued"};
    for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
      put_cell(f, u, keys[j]);
    fputs("</tr>\n", f);
  }
  if (any)
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
  put_backends(f, json_object_get(st, "chargers"));
  put_refused(f, json_object_get(st, "refused"));
  fputs("</body></html>\n", f);
  fclose(f);
  json_decref(st);
  return out;
}
