/* The XML group-address export of ETS (GroupAddress-Export, namespace
 * http://knx.org/xml/ga-export/01): nested GroupRange elements for the
 * main and middle groups (or the levels of a free structure) and
 * GroupAddress leaves with Name, Address and DPTs. Read with expat; a
 * document type declaration is refused, since ETS writes none and it is
 * where entity expansion attacks live. */
#include "gateway/ets_impl.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16 /* GroupRange nesting; ETS's free structure has 4 levels */

typedef struct {
  ets_builder b;
  XML_Parser parser;
  int depth;                /* elements open */
  int ranges;               /* GroupRange elements open */
  bool root_ok;
  int rc;                   /* first failure, GW_OK until then */
  char why[200];
  char *range_name[MAX_DEPTH];
} xml_state;

/* Element name without a namespace prefix. */
static const char *local_name(const XML_Char *name)
{
  const char *colon = strrchr(name, ':');
  return colon ? colon + 1 : name;
}

static const char *attr(const XML_Char **atts, const char *key)
{
  for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
    if (strcmp(local_name(atts[i]), key) == 0)
      return atts[i + 1];
  return NULL;
}

static void fail(xml_state *st, int rc, const char *fmt, const char *arg)
{
  if (st->rc == GW_OK) {
    st->rc = rc;
    snprintf(st->why, sizeof st->why, fmt, arg);
  }
  XML_StopParser(st->parser, XML_FALSE);
}

static int line_of(const xml_state *st)
{
  return (int)XML_GetCurrentLineNumber(st->parser);
}

static void path_of(const xml_state *st, char *out, size_t cap)
{
  size_t w = 0;
  out[0] = '\0';
  for (int i = 0; i < st->ranges && i < MAX_DEPTH; i++) {
    if (!st->range_name[i] || !*st->range_name[i])
      continue;
    int n = snprintf(out + w, cap - w, "%s%s", w ? " / " : "", st->range_name[i]);
    if (n < 0 || (size_t)n >= cap - w)
      break;
    w += (size_t)n;
  }
}

static void on_address(xml_state *st, const XML_Char **atts)
{
  const char *name = attr(atts, "Name"), *addr = attr(atts, "Address");
  uint16_t ga;
  int rc = GW_OK;
  if (addr == NULL || knx_ga_parse(addr, &ga) != KNX_OK) {
    rc = ets_note(&st->b, line_of(st), "\"%.40s\" is not a group address: skipped",
                  addr ? addr : "");
  } else if (name == NULL || !*name) {
    rc = ets_note(&st->b, line_of(st), "%s has no name: skipped", addr);
  } else {
    char path[MAX_DEPTH * (GW_ETS_MAX_NAME + 3)];
    path_of(st, path, sizeof path);
    rc = ets_add(&st->b, ga, name, path, attr(atts, "DPTs"), line_of(st));
  }
  if (rc == GW_EINVAL)
    fail(st, rc, "more than %s group addresses", "65536");
  else if (rc != GW_OK)
    fail(st, rc, "%s", "out of memory");
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **atts)
{
  xml_state *st = ud;
  const char *name = local_name(el);
  if (st->depth++ == 0) {
    if (strcmp(name, "GroupAddress-Export") != 0)
      fail(st, GW_EINVAL, "root element <%.60s> is not <GroupAddress-Export>", name);
    st->root_ok = true;
    return;
  }
  if (strcmp(name, "GroupRange") == 0) {
    if (st->ranges >= MAX_DEPTH) {
      fail(st, GW_EINVAL, "GroupRange nested deeper than %s levels", "16");
      return;
    }
    const char *rn = attr(atts, "Name");
    if ((st->range_name[st->ranges] = strdup(rn ? rn : "")) == NULL)
      fail(st, GW_ENOMEM, "%s", "out of memory");
    st->ranges++;
  } else if (strcmp(name, "GroupAddress") == 0) {
    on_address(st, atts);
  }
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
  xml_state *st = ud;
  st->depth--;
  if (strcmp(local_name(el), "GroupRange") == 0 && st->ranges > 0) {
    st->ranges--;
    free(st->range_name[st->ranges]);
    st->range_name[st->ranges] = NULL;
  }
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sys,
                               const XML_Char *pub, int has_internal)
{
  (void)name, (void)sys, (void)pub, (void)has_internal;
  fail(ud, GW_EINVAL, "%s", "a document type declaration is not allowed in an export");
}

/* Windows-1252, which expat does not know by itself. */
static int XMLCALL on_unknown_encoding(void *ud, const XML_Char *name, XML_Encoding *info)
{
  (void)ud;
  if (strcasecmp(name, "windows-1252") != 0 && strcasecmp(name, "cp1252") != 0)
    return XML_STATUS_ERROR;
  for (int i = 0; i < 256; i++)
    info->map[i] = i;
  for (int i = 0; i < 32; i++)
    info->map[0x80 + i] = ets_cp1252_high[i] ? ets_cp1252_high[i] : -1;
  info->data = NULL;
  info->convert = NULL;
  info->release = NULL;
  return XML_STATUS_OK;
}

static void parse(xml_state *st, const char *data, size_t len)
{
  XML_SetUserData(st->parser, st);
  XML_SetElementHandler(st->parser, on_start, on_end);
  XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
  XML_SetUnknownEncodingHandler(st->parser, on_unknown_encoding, NULL);
  if (XML_Parse(st->parser, data, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
      st->rc == GW_OK) {
    char msg[128];
    snprintf(msg, sizeof msg, "line %lu: %s",
             (unsigned long)XML_GetCurrentLineNumber(st->parser),
             XML_ErrorString(XML_GetErrorCode(st->parser)));
    fail(st, GW_EINVAL, "broken XML: %s", msg);
  }
  if (st->rc == GW_OK && !st->root_ok)
    fail(st, GW_EINVAL, "%s", "no <GroupAddress-Export> element");
}

static int read_xml(const char *data, size_t len, ets_builder *b, char *why, size_t cap)
{
  xml_state *st = calloc(1, sizeof *st);
  if (st == NULL || (st->parser = XML_ParserCreate(NULL)) == NULL) {
    free(st);
    return GW_ENOMEM;
  }
  st->b = *b;
  parse(st, data, len);
  int rc = st->rc;
  snprintf(why, cap, "%s", st->why);
  for (int i = 0; i < MAX_DEPTH; i++)
    free(st->range_name[i]);
  XML_ParserFree(st->parser);
  free(st);
  return rc;
}

int gw_ets_parse_xml(const char *data, size_t len, gw_ets **out,
                     gw_conf_diag *notes, char *why, size_t cap)
{
  return ets_run(read_xml, data, len, out, notes, why, cap);
}
