/* Texts of the engine's codes, modes and reasons. */
#include "energy/energy.h"

#include <string.h>

const char *em_strerror(int code)
{
  switch (code) {
  case EM_OK: return "success";
  case EM_EINVAL: return "invalid argument";
  case EM_ENOMEM: return "out of memory";
  case EM_ERANGE: return "connector out of range";
  default: return "unknown error";
  }
}

static const char *const em_modes[EM_MODE_COUNT] = {
  [EM_MODE_OFF] = "off",
  [EM_MODE_NOW] = "now",
  [EM_MODE_MINPV] = "minpv",
  [EM_MODE_PV] = "pv",
  [EM_MODE_CHEAP] = "cheap",
};

const char *em_mode_name(em_mode m)
{
  return (unsigned)m < EM_MODE_COUNT ? em_modes[m] : NULL;
}

int em_mode_parse(const char *text, em_mode *out)
{
  if (!text || !out)
    return EM_EINVAL;
  for (int m = 0; m < EM_MODE_COUNT; m++) {
    if (strcmp(text, em_modes[m]) == 0) {
      *out = (em_mode)m;
      return EM_OK;
    }
  }
  return EM_EINVAL;
}

static const char *const em_reasons[EM_REASON_COUNT] = {
  [EM_REASON_IDLE] = "idle",
  [EM_REASON_WISH] = "wish",
  [EM_REASON_OFF] = "off",
  [EM_REASON_FUSE] = "fuse",
  [EM_REASON_PRIORITY] = "priority",
  [EM_REASON_SURPLUS] = "surplus",
  [EM_REASON_TARIFF] = "tariff",
  [EM_REASON_STALE] = "stale meter",
  [EM_REASON_CAP] = "cap",
  [EM_REASON_GUARD] = "restart guard",
};

const char *em_reason_name(em_reason r)
{
  return (unsigned)r < EM_REASON_COUNT ? em_reasons[r] : NULL;
}
