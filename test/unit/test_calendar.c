/* The shared proleptic Gregorian calendar of common/calendar.h. */
#include <criterion/criterion.h>

#include "common/calendar.h"

Test(calendar, century_years_are_leap_only_every_400)
{
  cr_assert_not(cal_is_leap_year(1900));
  cr_assert(cal_is_leap_year(2000));
  cr_assert_not(cal_is_leap_year(2100));
  cr_assert(cal_is_leap_year(2400));
}

Test(calendar, ordinary_years)
{
  cr_assert(cal_is_leap_year(2024));
  cr_assert_not(cal_is_leap_year(2023));
  cr_assert_not(cal_is_leap_year(2026));
}

Test(calendar, negative_years_follow_the_same_rule)
{
  cr_assert(cal_is_leap_year(0));
  cr_assert(cal_is_leap_year(-4));
  cr_assert_not(cal_is_leap_year(-1));
  cr_assert_not(cal_is_leap_year(-100));
  cr_assert(cal_is_leap_year(-400));
}

Test(calendar, days_in_month)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; m++)
    cr_assert_eq(cal_days_in_month(2023, m), days[m - 1], "month %d", m);
  cr_assert_eq(cal_days_in_month(2024, 2), 29);
  cr_assert_eq(cal_days_in_month(1900, 2), 28);
  cr_assert_eq(cal_days_in_month(2000, 2), 29);
}

Test(calendar, month_out_of_range_has_no_days)
{
  cr_assert_eq(cal_days_in_month(2024, 0), 0);
  cr_assert_eq(cal_days_in_month(2024, 13), 0);
  cr_assert_eq(cal_days_in_month(2024, -1), 0);
}

Test(calendar, leap_day_is_valid_only_in_leap_years)
{
  cr_assert(cal_date_is_valid(2024, 2, 29));
  cr_assert_not(cal_date_is_valid(2023, 2, 29));
  cr_assert_not(cal_date_is_valid(1900, 2, 29));
  cr_assert(cal_date_is_valid(2000, 2, 29));
  cr_assert_not(cal_date_is_valid(2024, 2, 30));
}

Test(calendar, invalid_dates)
{
  cr_assert_not(cal_date_is_valid(2024, 0, 1));
  cr_assert_not(cal_date_is_valid(2024, 13, 1));
  cr_assert_not(cal_date_is_valid(2024, 1, 0));
  cr_assert_not(cal_date_is_valid(2024, 1, 32));
  cr_assert_not(cal_date_is_valid(2024, 4, 31));
  cr_assert_not(cal_date_is_valid(2024, 1, -1));
  cr_assert(cal_date_is_valid(2024, 12, 31));
  cr_assert(cal_date_is_valid(2024, 1, 1));
}

Test(calendar, days_from_civil_known_values)
{
  cr_assert_eq(cal_days_from_civil(1970, 1, 1), 0);
  cr_assert_eq(cal_days_from_civil(1970, 1, 2), 1);
  cr_assert_eq(cal_days_from_civil(1969, 12, 31), -1);
  cr_assert_eq(cal_days_from_civil(2000, 1, 1), 10957);
  cr_assert_eq(cal_days_from_civil(2000, 3, 1), 11017);
  cr_assert_eq(cal_days_from_civil(2024, 2, 29), 19782);
  cr_assert_eq(cal_days_from_civil(1900, 3, 1), -25508);
}

Test(calendar, days_from_civil_negative_years)
{
  cr_assert_eq(cal_days_from_civil(0, 3, 1), -719468);
  cr_assert_eq(cal_days_from_civil(0, 1, 1), -719528);
  cr_assert_eq(cal_days_from_civil(-1, 12, 31), -719529);
  cr_assert_eq(cal_days_from_civil(-400, 1, 1), -719528 - 146097);
}

Test(calendar, every_day_follows_the_one_before)
{
  int64_t prev = cal_days_from_civil(-801, 12, 31);
  for (int64_t y = -800; y <= 2800; y++)
    for (int m = 1; m <= 12; m++)
      for (int d = 1; d <= cal_days_in_month(y, m); d++) {
        int64_t n = cal_days_from_civil(y, m, d);
        cr_assert_eq(n, prev + 1, "%lld-%02d-%02d", (long long)y, m, d);
        prev = n;
      }
}
