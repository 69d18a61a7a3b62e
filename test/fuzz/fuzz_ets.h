/* What the ETS fuzz targets check of any input (fuzz_ets_csv.c,
 * fuzz_ets_xml.c): a reader either fails with a reason and no list, or
 * gives groups that keep its documented bounds; and a file drafted from
 * any export it accepts loads without a diagnostic. */
#ifndef OCPPKNX_FUZZ_ETS_H
#define OCPPKNX_FUZZ_ETS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/draft.h"

static void check_groups(const gw_ets *ets)
{
  static bool seen[65536];
  memset(seen, 0, sizeof seen);
  if (gw_ets_count(ets) == 0)
    abort();
  for (size_t i = 0; i < gw_ets_count(ets); i++) {
    const gw_ets_group *g = gw_ets_group_at(ets, i);
    if (g->name[0] == '\0' || strlen(g->name) > GW_ETS_MAX_NAME || seen[g->ga] ||
        (g->dpt_main < 0 && g->dpt_sub >= 0))
      abort();
    seen[g->ga] = true;
  }
}

static void check_draft_loads(const gw_ets *ets, const char *match)
{
  char *text = NULL;
  gw_conf_diag notes = {0};
  if (gw_draft_charger("FUZZ-1", ets, match, &text, &notes) != GW_OK)
    abort();
  static const char main_text[] = "[ocpp]\nlisten = 127.0.0.1:8016\n";
  gw_conf_text m = {main_text, sizeof main_text - 1}, c = {text, strlen(text)};
  gw_conf *cfg = NULL;
  gw_conf_diag diag = {0};
  if (gw_conf_load_strings(&m, &c, 1, &cfg, &diag) != GW_OK || diag.n != 0)
    abort();
  gw_conf_destroy(cfg);
  gw_conf_diag_finish(&diag);
  gw_conf_diag_finish(&notes);
  free(text);
}

static void check_export(int rc, gw_ets *ets, const char *why)
{
  if (rc != GW_OK) {
    if (ets != NULL || why[0] == '\0')
      abort();
    return;
  }
  check_groups(ets);
  check_draft_loads(ets, NULL);
  /* A match taken from the export, as an installer types it. */
  check_draft_loads(ets, gw_ets_group_at(ets, 0)->name);
  gw_ets_destroy(ets);
}

/* One input through a reader and the checks above. */
static int fuzz_ets_run(int (*parse)(const char *, size_t, gw_ets **, gw_conf_diag *, char *,
                                     size_t),
                        const uint8_t *data, size_t size)
{
  gw_ets *ets = NULL;
  char why[200] = "";
  int rc = parse((const char *)data, size, &ets, NULL, why, sizeof why);
  check_export(rc, ets, why);
  return 0;
}

/* The driver's fuzz_seed over a list of strings. */
static size_t fuzz_ets_seed(const char *const *seeds, size_t n, size_t index,
                            const uint8_t **data)
{
  if (index >= n) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seeds[index];
  return strlen(seeds[index]);
}

#endif
