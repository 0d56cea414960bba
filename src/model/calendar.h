/*
 * The working calendar: working hours per weekday, public holidays and make-up working days
 * (调休), and deadline arithmetic in working time. Types and rules only; the store keeps the
 * imported years and hands their JSON back here.
 *
 * Time zone: every calendar is in Asia/Shanghai, a fixed UTC+8 without daylight saving (China
 * has had none since 1991), so local dates are (unix time + 8 h) / 86400 and no tz database is
 * needed. Instants are Unix seconds. The calendar covers local dates 2000-01-01 .. 2099-12-31;
 * an instant outside that range is refused (CG_EINVAL, field "time"), a deadline falling past
 * its end gives CG_ELIMIT.
 *
 * Defaults (cg_calendar_new): Monday to Friday 08:30-12:00 and 13:30-17:30 (7.5 working hours a
 * day), Saturday and Sunday off, make-up days worked with the same hours, no holidays. Years of
 * holidays are imported one at a time; a year never imported follows the weekly pattern only
 * (cg_calendar_has_year tells the caller so it can warn).
 *
 * "N working hours" from a start: the instant at which N hours of working time have elapsed
 * since the start; a start outside working hours begins at the next working period, and a
 * deadline that falls exactly on the end of a period (12:00) stays there.
 * "N working days" from a start: the end of the last working period of the Nth working day
 * after the day on which work begins (the start moved to the next working period if outside
 * one). The day work begins is not counted, as with periods "自...之日起" in Chinese law, so
 * N working days always contain at least N full working days: a report on Monday 10:00 with a
 * one-working-day limit is due Tuesday 17:30; one on Saturday is due Tuesday 17:30 too (work
 * begins Monday 08:30; Monday is the day of the start).
 *
 * A calendar is immutable while it is read: build it (new, set hours, import years), then share
 * it read-only between threads; every deadline function is O(1) or O(log days) on tables
 * precomputed by each change.
 */
#ifndef CG_MODEL_CALENDAR_H
#define CG_MODEL_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CG_CAL_TZ_OFFSET     (8 * 3600) /* Asia/Shanghai, UTC+8, no DST */
#define CG_CAL_FIRST_YEAR    2000
#define CG_CAL_LAST_YEAR     2099
#define CG_CAL_MAX_INTERVALS 4    /* working periods in one day */
#define CG_CAL_MAX_DATES     64   /* holidays (and, separately, make-up days) per imported year */
#define CG_CAL_JSON_MAX      8192 /* bytes of one year's JSON document */

/* The unit of a time limit. */
typedef enum { CG_UNIT_WORK_HOURS = 1, CG_UNIT_WORK_DAYS = 2 } cg_time_unit;

/* "working_hours" / "working_days"; "unknown" otherwise. */
const char *cg_time_unit_name(cg_time_unit unit);
/* Parses "working_hours" or "working_days"; -1 when neither. */
int cg_time_unit_parse(const char *s, cg_time_unit *out);

/* One working period of a day, in minutes after local midnight: [start, end), 0..1440. */
typedef struct {
    int16_t start, end;
} cg_cal_interval;

/* Weekdays as in struct tm: 0 Sunday .. 6 Saturday; CG_CAL_MAKEUP names the hours of make-up
 * working days (调休上班). */
#define CG_CAL_MAKEUP 7

typedef struct cg_calendar cg_calendar;

/* A calendar with the default hours and no holidays; NULL when out of memory. */
cg_calendar *cg_calendar_new(void);
void cg_calendar_free(cg_calendar *cal);

/*
 * Sets the working periods of a weekday (0..6) or of make-up days (CG_CAL_MAKEUP); n == 0 makes
 * it a day off. Periods must lie in 0..1440, be non-empty, sorted and not overlap (field
 * "hours[i]"). At most CG_CAL_MAX_INTERVALS.
 */
int cg_calendar_set_hours(cg_calendar *cal, int weekday, const cg_cal_interval *iv, int n,
                          cg_err *err);
/* Parses "08:30-12:00,13:30-17:30" (or "" for a day off) into periods; validates as above. */
int cg_calendar_parse_hours(const char *text, cg_cal_interval *iv, int *n, cg_err *err);

/*
 * Imports one year's holidays and make-up days from JSON, replacing what that year had:
 *   {"year": 2026, "holidays": ["2026-01-01", ...], "workdays": ["2026-01-04", ...],
 *    "source": "...", "note": "..."}
 * year in 2000..2099; every date "YYYY-MM-DD", a real date inside that year, no duplicates, no
 * date in both lists; make-up days must fall on Saturday or Sunday (a weekday is a working day
 * already); at most CG_CAL_MAX_DATES per list; "source" and "note" are optional strings; any
 * other key is refused. Errors name the field and index ("holidays[3]"). On error the calendar
 * is unchanged. The year is written to *year_out when non-NULL.
 */
int cg_calendar_import_year(cg_calendar *cal, const char *json, size_t len, int *year_out,
                            cg_err *err);
/* Was this year imported? */
int cg_calendar_has_year(const cg_calendar *cal, int year);
/* Is this local date a working day (has working periods after holidays and make-up days)? */
int cg_calendar_is_working_day(const cg_calendar *cal, int year, int month, int day);

/* The first working instant at or after t (t itself when it lies inside a working period). */
int cg_calendar_next_working(const cg_calendar *cal, int64_t t, int64_t *out, cg_err *err);
/* start + seconds of working time (seconds >= 0; see "N working hours" above). */
int cg_calendar_add_seconds(const cg_calendar *cal, int64_t start, int64_t seconds, int64_t *out,
                            cg_err *err);
/* The deadline of `amount` (> 0) units from start (see the definitions at the top). */
int cg_calendar_deadline(const cg_calendar *cal, int64_t start, int amount, cg_time_unit unit,
                         int64_t *out, cg_err *err);
/*
 * Working seconds between two instants: positive when to > from, negative when to < from (an
 * SLA countdown past its deadline). A case closed at c was closed on time when
 * cg_calendar_between(deadline, c) <= 0 — equivalently c <= deadline.
 */
int cg_calendar_between(const cg_calendar *cal, int64_t from, int64_t to, int64_t *seconds,
                        cg_err *err);

#endif
