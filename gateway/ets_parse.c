/* Choosing the reader for an ETS export: XML when its first character
 * (after a byte order mark and blanks) is '<', else CSV. Above the
 * readers, so that they never call back up into it. */
#include <ctype.h>
#include <string.h>

#include "gateway/ets_impl.h"

static bool looks_like_xml(const char *data, size_t len)
{
  size_t i = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  else if (len >= 2 && (memcmp(data, "\xFF\xFE", 2) == 0 ||
                        memcmp(data, "\xFE\xFF", 2) == 0))
    i = 2;
  for (; i < len; i++) {
    if (data[i] == '<')
      return true;
    if (data[i] != '\0' && !isspace((unsigned char)data[i]))
      return false;
  }
  return false;
}

int gw_ets_parse(const char *data, size_t len, gw_ets **out,
                 gw_conf_diag *notes, char *why, size_t cap)
{
  if (data != NULL && looks_like_xml(data, len))
    return gw_ets_parse_xml(data, len, out, notes, why, cap);
  return gw_ets_parse_csv(data, len, out, notes, why, cap);
}
