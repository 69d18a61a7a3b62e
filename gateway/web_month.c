/* Month arithmetic of the energy chart: months as one number (year * 12 +
 * month - 1, UTC), so that a window of twelve is a plain subtraction and
 * the store groups by the same number. Pure. */
#include "gateway/web.h"

#include <stdio.h>

#include "common/calendar.h"

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t gw_month_number(time_t t)
{
  int64_t days = floor_div((int64_t)t, 86400);
  /* civil_from_days (H. Hinnant), the inverse of cal_days_from_civil */
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  return year * 12 + month - 1;
}

time_t gw_month_start(int64_t month)
{
  int64_t year = floor_div(month, 12);
  int m = (int)(month - year * 12) + 1;
  return (time_t)(cal_days_from_civil(year, m, 1) * 86400);
}

void gw_month_label(int64_t month, char out[8])
{
  int64_t year = floor_div(month, 12);
  int m = (int)(month - year * 12) + 1;
  if (year < 0 || year > 9999) {
    snprintf(out, 8, "?");
    return;
  }
  snprintf(out, 8, "%04d-%02d", (int)year, m);
}

int gw_month_slot(int64_t month, int64_t now_month)
{
  int64_t d = now_month - month;
  if (d < 0 || d >= GW_CHART_MONTHS)
    return -1;
  return (int)(GW_CHART_MONTHS - 1 - d);
}
