/* HTML output that the page and the chart share: escaping, and rendering
 * into a string. Below both, so that neither calls up into the other. */
#include <stdio.h>
#include <stdlib.h>

#include "gateway/web.h"

void gw_html_escape(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

char *gw_html_render(void (*put)(FILE *f, const void *arg), const void *arg)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    return NULL;
  put(f, arg);
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}
