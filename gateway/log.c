#include "gateway/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The daemon has one log; keeping its two settings here avoids threading a
 * logger through every call. Tests never depend on it. */
static gw_log_level log_max = GW_LOG_INFO;
static bool log_journal;

void gw_log_init(gw_log_level max_level)
{
  log_max = max_level;
  log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void gw_log_set_level(gw_log_level max_level)
{
  log_max = max_level;
}

gw_log_level gw_log_get_level(void)
{
  return log_max;
}

void gw_log_line(gw_log_level level, const char *charger_id, const char *msg)
{
  static const char *const words[] = {"error", "warn", "info", "debug"};
  static const int syslog_prio[] = {3, 4, 6, 7};
  if (level > log_max)
    return;
  /* one fprintf per line: lines from one process never interleave */
  if (log_journal) {
    fprintf(stderr, "<%d>%s%s%s\n", syslog_prio[level],
            charger_id ? charger_id : "", charger_id ? ": " : "", msg);
    return;
  }
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  fprintf(stderr, "%s %-5s %s%s%s\n", stamp, words[level],
          charger_id ? charger_id : "", charger_id ? ": " : "", msg);
}

void gw_log(gw_log_level level, const char *charger_id, const char *fmt, ...)
{
  if (level > log_max)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gw_log_line(level, charger_id, msg);
}
