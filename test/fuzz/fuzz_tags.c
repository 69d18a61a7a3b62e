/* Fuzz target: the tag list parser and the lookup (gateway/tags.c).
 *
 * Whatever the input, the parser must not crash or leak, must report a
 * problem exactly when it fails, and every tag of a list it accepts must
 * be found again by its own UID under every match mode, with a state that
 * follows its attributes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/tags.h"

static const char *const seed_texts[] = {
  ("04A2B3C4 = Anna\n0A0B0C0D = Company car, expires 2027-06-30\n"
   "DEADBEEF = Lost card, blocked\n"),
  ("# comment\n; other\n\n11223344 =\n"
   "55667788 = blocked, expires 2020-02-29\n"),
  "\xEF\xBB\xBF 04-A2-B3-C4 = x\r\n04:a2:b3:c4 = twin\nbad line\n",
  "A = a, b\nB = expires 2027-13-01\nC = blocked, blocked\nD = ,\n",
};

size_t fuzz_seed(size_t index, const uint8_t **data);

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  if (index >= sizeof seed_texts / sizeof seed_texts[0]) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seed_texts[index];
  return strlen(seed_texts[index]);
}

static void count_problem(void *ud, int line, const char *message)
{
  if (line < 0 || !message || !*message)
    abort();
  (*(size_t *)ud)++;
}

static void check_tag(const gw_tags *t, const gw_tag *g)
{
  static const ocpp_tag_match modes[] = {OCPP_TAG_EXACT, OCPP_TAG_RELAXED,
                                         OCPP_TAG_REVERSED};
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
    if (gw_tags_find(t, g->uid, modes[m]) != g)
      abort();
  ocpp_auth_status st = gw_tag_status(g, g->expiry ? g->expiry + 1 : 0);
  if (g->blocked ? st != OCPP_AUTH_BLOCKED
                 : st != (g->expiry ? OCPP_AUTH_EXPIRED : OCPP_AUTH_ACCEPTED))
    abort();
  ocpp_tag_verdict v;
  if (!gw_tags_verdict(t, g->uid, OCPP_TAG_EXACT, 0, &v) ||
      strcmp(v.name, g->name) != 0 || strlen(g->name) > GW_TAG_NAME_MAX)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t problems = 0;
  gw_tags *t = NULL;
  int rc = gw_tags_parse((const char *)data, size, &t, count_problem, &problems);
  if ((rc == GW_OK) != (problems == 0) || (rc == GW_OK) != (t != NULL))
    abort();
  if (rc != GW_OK && rc != GW_ECONFIG)
    abort();
  for (size_t i = 0; t && i < gw_tags_count(t); i++)
    check_tag(t, gw_tags_at(t, i));
  gw_tags_destroy(t);
  return 0;
}
