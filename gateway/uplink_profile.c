/* A billing backend's SetChargingProfile as one number: the current cap
 * that its schedule puts in force now. Pure: the profile, the charger's
 * voltage and phases and the time come in, the cap goes out. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "gateway/uplink.h"

/* "2026-10-01T12:00:00Z" (fractions and zones read as UTC); 0 when not a
 * date. */
static time_t time_of(const char *text)
{
  struct tm tm = {0};
  const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  return end ? timegm(&tm) : 0;
}

/* The period whose startPeriod is the last one at or before elapsed s;
 * NULL when the first one starts later. */
static const json_t *period_at(const json_t *periods, double elapsed)
{
  const json_t *best = NULL;
  double best_start = -1;
  size_t i;
  const json_t *p;
  json_array_foreach(periods, i, p) {
    double start = json_number_value(json_object_get(p, "startPeriod"));
    if (start <= elapsed && start >= best_start) {
      best = p;
      best_start = start;
    }
  }
  return best;
}

int gw_profile_cap(const json_t *profile, double voltage, int phases,
                   time_t now, double *amps)
{
  const json_t *sched = json_object_get(profile, "chargingSchedule");
  const char *unit =
    json_string_value(json_object_get(sched, "chargingRateUnit"));
  const json_t *periods = json_object_get(sched, "chargingSchedulePeriod");
  if (!amps || !unit || !json_array_size(periods) || voltage <= 0 ||
      phases < 1 || (strcmp(unit, "A") != 0 && strcmp(unit, "W") != 0))
    return GW_EINVAL;
  const char *to = json_string_value(json_object_get(profile, "validTo"));
  if (to && time_of(to) && time_of(to) <= now)
    return GW_ENOTFOUND;
  time_t start = time_of(json_string_value(json_object_get(sched,
                                                           "startSchedule")));
  double elapsed = start ? difftime(now, start) : 0;
  const json_t *duration = json_object_get(sched, "duration");
  if (elapsed < 0 ||
      (json_is_integer(duration) && elapsed >= json_integer_value(duration)))
    return GW_ENOTFOUND;
  const json_t *p = period_at(periods, elapsed);
  if (!p)
    return GW_ENOTFOUND;
  double limit = json_number_value(json_object_get(p, "limit"));
  json_int_t n = json_integer_value(json_object_get(p, "numberPhases"));
  if (!isfinite(limit) || limit < 0)
    return GW_EINVAL;
  *amps = strcmp(unit, "A") == 0 ? limit
          : limit / (voltage * (n >= 1 && n <= 3 ? (double)n : phases));
  return GW_OK;
}
