/* ocppknxd --draft-charger and --version: the edge that reads the ETS
 * export and prints (the drafting itself is pure, draft.h). */
#include "gateway/cli.h"
#include "gateway/draft.h"
#include "gateway/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, at most GW_ETS_MAX_BYTES + 1 bytes (so that a larger one
 * is seen to be too large). */
static int read_file(const char *path, char **data, size_t *len, int *err)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    *err = errno;
    return GW_EIO;
  }
  size_t cap = 64 * 1024, n = 0;
  char *buf = malloc(cap);
  int rc = buf ? GW_OK : GW_ENOMEM;
  while (rc == GW_OK && n <= GW_ETS_MAX_BYTES) {
    if (n == cap) {
      char *grown = realloc(buf, cap *= 2);
      if (grown == NULL) {
        rc = GW_ENOMEM;
        break;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        *err = errno;
        rc = GW_EIO;
      }
      break;
    }
  }
  fclose(f);
  if (rc != GW_OK) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len = n;
  return GW_OK;
}

static void print_notes(const char *prefix, gw_conf_diag *notes)
{
  for (size_t i = 0; i < notes->n; i++)
    fprintf(stderr, "%s: %s\n", prefix, notes->lines[i]);
  gw_conf_diag_finish(notes);
}

static int load_ets(const char *path, gw_ets **ets)
{
  char *data = NULL, why[200] = "";
  size_t len = 0;
  int err = 0;
  int rc = read_file(path, &data, &len, &err);
  if (rc != GW_OK) {
    fprintf(stderr, "%s: cannot read: %s\n", path, rc == GW_EIO ? strerror(err)
                                                                : gw_strerror(rc));
    return 1;
  }
  gw_conf_diag notes = {0};
  rc = gw_ets_parse(data, len, ets, &notes, why, sizeof why);
  free(data);
  print_notes(path, &notes);
  if (rc != GW_OK) {
    fprintf(stderr, "%s: %s\n", path, why);
    return 1;
  }
  return 0;
}

int gw_cli_draft(const char *id, const char *ets_file, const char *match)
{
  gw_ets *ets = NULL;
  if (ets_file != NULL && load_ets(ets_file, &ets) != 0)
    return 1;
  gw_conf_diag notes = {0};
  char *text = NULL;
  int rc = gw_draft_charger(id, ets, match, &text, &notes);
  if (rc == GW_OK)
    fputs(text, stdout);
  print_notes(ets_file ? ets_file : "draft", &notes);
  free(text);
  gw_ets_destroy(ets);
  if (rc == GW_EINVAL) {
    fprintf(stderr, "ocppknxd: \"%s\" cannot be a charger identity in a parameter file "
                    "(1..48 characters, no '/', no control characters)\n", id);
    return 2;
  }
  if (rc != GW_OK) {
    fprintf(stderr, "ocppknxd: %s\n", gw_strerror(rc));
    return 1;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

int gw_cli_version(void)
{
  gw_version v[16];
  size_t n = gw_versions(v, sizeof v / sizeof v[0]);
  for (size_t i = 0; i < n && i < sizeof v / sizeof v[0]; i++) {
    if (i == 0)
      printf("%s %s\n", v[i].name, v[i].version);
    else
      printf("%s %s (%s)\n", v[i].name, v[i].version, v[i].source);
  }
  return 0;
}
