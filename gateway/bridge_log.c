/* The bridge's log line, through the owner's hook. Every other bridge
 * file logs, so it sits below them all. */
#include "gateway/bridge_impl.h"

#include <stdarg.h>
#include <stdio.h>

enum { GW_LOG_LINE = 256 };

void gw__log(const gw_bridge *b, gw_log_level level,
             const char *charger_id, const char *fmt, ...)
{
  if (!b->ops.log)
    return;
  char line[GW_LOG_LINE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  b->ops.log(b->user_data, level, charger_id, line);
}
