/*
 * Calendar dates and ISO 8601 times, one implementation for the APIs and the JSON writers: day
 * numbers from civil dates and back (H. Hinnant's algorithms, proleptic Gregorian, day 0 =
 * 1970-01-01), and an instant written in Asia/Shanghai as "2026-11-24T10:00:00+08:00".
 */
#ifndef CG_CORE_DATETIME_H
#define CG_CORE_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#define CG_ISO_LOCAL_LEN 25 /* "2026-11-24T10:00:00+08:00" without the NUL */

/* Days since 1970-01-01 of a civil date (month 1..12, day 1..31). */
int64_t cg_days_from_civil(int64_t y, int m, int d);
/* The civil date of a day number. */
void cg_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* Writes t (Unix seconds) as local time in UTC+8 with its offset, NUL-terminated, into out
 * (at least CG_ISO_LOCAL_LEN + 1 bytes); returns CG_ISO_LOCAL_LEN, or 0 (and "") outside the
 * years 0..9999. */
size_t cg_time_iso_local(int64_t t, char *out);

#endif
