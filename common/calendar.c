#include "common/calendar.h"

bool cal_is_leap_year(int64_t year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int cal_days_in_month(int64_t year, int month)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12)
    return 0;
  return month == 2 && cal_is_leap_year(year) ? 29 : days[month - 1];
}

bool cal_date_is_valid(int64_t year, int month, int day)
{
  return day >= 1 && day <= cal_days_in_month(year, month);
}

/* Howard Hinnant's days_from_civil: eras of 400 years, March-based years
 * so that the leap day is the last day of the year. */
int64_t cal_days_from_civil(int64_t year, int month, int day)
{
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t yoe = year - era * 400;
  int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
