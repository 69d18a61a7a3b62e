/* cal: proleptic Gregorian calendar arithmetic shared by the OCPP time
 * codec and schema checks and the KNX date DPTs. Pure functions on plain
 * integers; no time zone, no struct tm, no errno. */
#ifndef OCPPKNX_COMMON_CALENDAR_H
#define OCPPKNX_COMMON_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

bool cal_is_leap_year(int64_t year);

/* 28..31 for month 1..12 of year; 0 for a month out of range. */
int cal_days_in_month(int64_t year, int month);

/* true when year-month-day names a day of the calendar. */
bool cal_date_is_valid(int64_t year, int month, int day);

/* Days since 1970-01-01 (negative before it); month 1..12, day 1..31.
 * The same arithmetic as timegm() without struct tm. */
int64_t cal_days_from_civil(int64_t year, int month, int day);

#endif
