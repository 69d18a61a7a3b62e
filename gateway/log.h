/* One line per event on stderr: level, charger id, message. Under systemd
 * (JOURNAL_STREAM set) lines carry a <N> priority prefix instead of a level
 * word, and journald adds the time. Only the daemon logs. */
#ifndef OCPPKNX_GW_LOG_H
#define OCPPKNX_GW_LOG_H

#include <stdarg.h>

typedef enum { GW_LOG_ERROR, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG } gw_log_level;

void gw_log_init(gw_log_level max_level);
void gw_log_set_level(gw_log_level max_level);
gw_log_level gw_log_get_level(void);

/* charger_id may be NULL for gateway-wide events. */
void gw_log(gw_log_level level, const char *charger_id, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
void gw_log_line(gw_log_level level, const char *charger_id, const char *msg);

#endif
