/* Where each key of a file was read: the reader records it, the checks
 * name it in their diagnostics. Below both, so that neither calls the
 * other for it. */
#include "gateway/conf_impl.h"

#include <string.h>

int conf_row_index(const file_schema *s, const char *section, const char *key)
{
  for (size_t i = 0; i < s->n_rows; i++) {
    if (strcmp(s->rows[i].key, key) == 0 &&
        (section == NULL || strcmp(s->rows[i].section, section) == 0))
      return (int)i;
  }
  return -1;
}

int conf_line_of(const parse_ctx *ctx, const char *key)
{
  return conf_line_in(ctx, NULL, key);
}

int conf_line_in(const parse_ctx *ctx, const char *section, const char *key)
{
  int i = conf_row_index(ctx->schema, section, key);
  return i < 0 ? 0 : ctx->key_line[i];
}
