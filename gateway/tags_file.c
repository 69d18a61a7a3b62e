/* gw_tags_load: reading a tag list file for the pure parser (tags.c). */
#include "gateway/tags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_MAX (1024 * 1024)     /* far above GW_TAGS_MAX full lines */

static int fail(gw_tags_problem_cb cb, void *ud, const char *msg)
{
  if (cb)
    cb(ud, 0, msg);
  return GW_ECONFIG;
}

int gw_tags_load(const char *path, gw_tags **out,
                 gw_tags_problem_cb on_problem, void *user_data)
{
  if (!out)
    return GW_EINVAL;
  *out = NULL;
  if (!path)
    return GW_EINVAL;
  FILE *fp = fopen(path, "r");
  if (!fp)
    return fail(on_problem, user_data, strerror(errno));
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(fp);
    return fail(on_problem, user_data, "not a regular file");
  }
  if (st.st_size > FILE_MAX) {
    fclose(fp);
    return fail(on_problem, user_data, "larger than 1 MiB");
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (!text) {
    fclose(fp);
    return GW_ENOMEM;
  }
  size_t len = fread(text, 1, (size_t)st.st_size, fp);
  bool bad = ferror(fp) != 0;
  fclose(fp);
  int rc = bad ? fail(on_problem, user_data, "read error")
               : gw_tags_parse(text, len, out, on_problem, user_data);
  free(text);
  return rc;
}
