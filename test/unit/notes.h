/* For the tests of code that reports in a gw_conf_diag. */
#ifndef OCPPKNX_TEST_NOTES_H
#define OCPPKNX_TEST_NOTES_H

#include <stdbool.h>
#include <string.h>

#include "gateway/conf.h"

/* true when a line of notes contains part. */
static inline bool notes_have(const gw_conf_diag *notes, const char *part)
{
  for (size_t i = 0; i < notes->n; i++)
    if (strstr(notes->lines[i], part))
      return true;
  return false;
}

#endif
