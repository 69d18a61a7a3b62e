#include "gateway/errors.h"

const char *gw_strerror(int code)
{
  static const char *const text[] = {
    [0] = "success",
    [-GW_EINVAL] = "invalid argument",
    [-GW_ENOMEM] = "out of memory",
    [-GW_ECONFIG] = "configuration has errors",
    [-GW_EOPEN] = "cannot open the store",
    [-GW_ESCHEMA] = "store written by a newer version",
    [-GW_EDEFERRED] = "write deferred: disk write failed, retried later",
    [-GW_ENOTFOUND] = "not found",
    [-GW_EIO] = "input/output error",
    [-GW_EOCPP] = "OCPP listener cannot start",
    [-GW_EKNX] = "knxd link cannot be created",
  };
  if (code > 0 || -code >= (int)(sizeof text / sizeof text[0]) || !text[-code])
    return "unknown error";
  return text[-code];
}
