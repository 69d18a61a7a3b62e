/* The versions of ocppknxd and of the libraries it runs with, for
 * --version and the status output. */
#ifndef OCPPKNX_GW_VERSION_H
#define OCPPKNX_GW_VERSION_H

#include <stddef.h>

typedef struct {
  const char *name;     /* "libuv", "wolfSSL", ... */
  const char *version;  /* "1.44.2"; "unknown" when the build did not say */
  const char *source;   /* "runtime": asked of the loaded library;
                           "build": from its headers or package at build time */
} gw_version;

/* Fills out[0..cap) with ocppknxd itself first, then each library; returns
 * how many there are (may exceed cap: only cap are written). The strings
 * are static. */
size_t gw_versions(gw_version *out, size_t cap);

#endif
