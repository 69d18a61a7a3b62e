/* Library versions: asked of the loaded library where it can tell (a
 * shared library can be newer than the headers the daemon was built
 * with), else what the build saw. The build passes what no header
 * carries (meson.build: OCPPKNX_*_VERSION). */
#include "gateway/version.h"

#include <expat.h>
#include <ini.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wslay/wslay.h>
#include <yajl/yajl_version.h>

#ifndef OCPPKNX_INIH_VERSION
#define OCPPKNX_INIH_VERSION "unknown"
#endif
#ifndef OCPPKNX_EIBCLIENT_VERSION
#define OCPPKNX_EIBCLIENT_VERSION "unknown"
#endif
#ifndef OCPPKNX_WSLAY_VERSION
#define OCPPKNX_WSLAY_VERSION WSLAY_VERSION
#endif

static const char *yajl_text(void)
{
  static char text[24];
  int v = yajl_version();
  /* yajl_version() is MAJOR * 10000 + MINOR * 100 + MICRO. */
  if (text[0] == '\0')
    snprintf(text, sizeof text, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
  return text;
}

static const char *expat_text(void)
{
  const char *v = XML_ExpatVersion(); /* "expat_2.5.0" */
  const char *u = strchr(v, '_');
  return u ? u + 1 : v;
}

size_t gw_versions(gw_version *out, size_t cap)
{
  const gw_version all[] = {
    {"ocppknxd", OCPPKNX_VERSION, "build"},
    {"libuv", uv_version_string(), "runtime"},
    {"wolfSSL", wolfSSL_lib_version(), "runtime"},
    {"SQLite", sqlite3_libversion(), "runtime"},
    {"jansson", jansson_version_str(), "runtime"},
    {"yajl", yajl_text(), "runtime"},
    {"wslay", OCPPKNX_WSLAY_VERSION, "build"},
    {"libeibclient", OCPPKNX_EIBCLIENT_VERSION, "build"},
    {"inih", OCPPKNX_INIH_VERSION, "build"},
    {"expat", expat_text(), "runtime"},
  };
  size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n && i < cap; i++)
    out[i] = all[i];
  return n;
}
