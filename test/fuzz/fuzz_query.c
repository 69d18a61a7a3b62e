/* Fuzz target: the date range of GET /sessions.csv (gw_query_range) and
 * the day parser under it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/web.h"
#include "test/fuzz/seeds.h"

static const char *const seed_texts[] = {
    "from=2026-01-01&to=2026-01-31",
    "to=2026-12-31",
    "from=2026%2D01%2D01&x=1&&to=",
    "from=2026-02-30",
    "from=%zz&to=%0",
    "from=2026-01-01&from=2026-01-02",
};

FUZZ_SEED_TEXTS(seed_texts)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  time_t from = -1, to = -1;
  int rc = gw_query_range(s, &from, &to);
  if (rc != GW_OK && rc != GW_EINVAL) abort();
  /* whole days, an open end as 0, a failure leaves both open */
  if (from < 0 || to < 0 || from % 86400 || to % 86400) abort();
  if (rc == GW_OK && from && to && from >= to) abort();
  if (rc != GW_OK && (from || to)) abort();
  time_t day;
  if (gw_parse_day(s, false, &day) == GW_OK) {
    time_t next;
    if (strlen(s) != 10 || gw_parse_day(s, true, &next) != GW_OK ||
        next != day + 86400)
      abort();
  }
  free(s);
  return 0;
}
