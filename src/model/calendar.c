/*
 * Working calendar and deadline arithmetic (calendar.h).
 *
 * The idea: every change (hours, an imported year) rebuilds three tables over all 36,525 local
 * days of 2000..2099, about 400 KB:
 *   kind[d]  which hours day d works: 0 none, 1..7 weekday 0..6, 8 make-up hours;
 *   cum[d]   working seconds before day d (a prefix sum);
 *   rank[d]  working days before day d; and wday[r], the day index of the r-th working day.
 * Then the working time W(t) elapsed since 2000-01-01 until t is cum[day] plus the worked part
 * of that day (at most CG_CAL_MAX_INTERVALS steps), so "between" is W(to) - W(from); "N working
 * hours" is the instant where W reaches W(start) + N, found by a binary search of cum (17
 * steps); "N working days" is wday[rank[day] + N], O(1). No loop ever walks calendar days, so
 * a 20-working-day deadline costs what a 1-hour one does. Rebuilding costs ~0.2 ms, paid only
 * when an administrator changes the calendar.
 */
#include "model/calendar.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DAYS    36525 /* 2000-01-01 .. 2099-12-31 */
#define N_YEARS   (CG_CAL_LAST_YEAR - CG_CAL_FIRST_YEAR + 1)
#define DAY_SECS  86400
#define N_KINDS   9 /* 0: day off; 1..7: weekday 0..6; 8: make-up */
#define KIND_OFF  0
#define KIND_MAKE 8

typedef struct {
    cg_cal_interval iv[CG_CAL_MAX_INTERVALS];
    int n;
    int32_t total; /* working seconds in the day */
} day_hours;

/* Per imported year: 0 normal, 1 holiday, 2 make-up day, for each day of the year. */
typedef struct {
    int imported;
    uint8_t mark[366];
} year_marks;

struct cg_calendar {
    day_hours hours[N_KINDS]; /* hours[KIND_OFF] stays empty */
    year_marks years[N_YEARS];
    uint8_t kind[N_DAYS];
    int64_t cum[N_DAYS + 1];
    int32_t rank[N_DAYS + 1];
    int32_t wday[N_DAYS];
    int32_t n_working;
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* days_from_civil(2000, 1, 1): a constant, so readers on many threads share no state. */
#define EPOCH_DAY 10957

static int64_t first_day(void)
{
    return EPOCH_DAY;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

const char *cg_time_unit_name(cg_time_unit unit)
{
    switch (unit) {
    case CG_UNIT_WORK_HOURS:
        return "working_hours";
    case CG_UNIT_WORK_DAYS:
        return "working_days";
    }
    return "unknown";
}

int cg_time_unit_parse(const char *s, cg_time_unit *out)
{
    if (strcmp(s, "working_hours") == 0)
        *out = CG_UNIT_WORK_HOURS;
    else if (strcmp(s, "working_days") == 0)
        *out = CG_UNIT_WORK_DAYS;
    else
        return -1;
    return 0;
}

static void rebuild(cg_calendar *cal)
{
    int64_t base = first_day();
    assert(base == days_from_civil(CG_CAL_FIRST_YEAR, 1, 1));
    int64_t cum = 0;
    int32_t rank = 0;
    cal->n_working = 0;
    for (int y = CG_CAL_FIRST_YEAR; y <= CG_CAL_LAST_YEAR; y++) {
        const year_marks *ym = &cal->years[y - CG_CAL_FIRST_YEAR];
        int64_t d0 = days_from_civil(y, 1, 1) - base;
        int ndays = is_leap(y) ? 366 : 365;
        for (int i = 0; i < ndays; i++) {
            int64_t d = d0 + i;
            /* 1970-01-01 was a Thursday (weekday 4). */
            int wd = (int)(((d + base) % 7 + 11) % 7);
            int kind = 1 + wd;
            if (ym->imported && ym->mark[i] == 1)
                kind = KIND_OFF;
            else if (ym->imported && ym->mark[i] == 2)
                kind = KIND_MAKE;
            if (cal->hours[kind].n == 0)
                kind = KIND_OFF;
            cal->kind[d] = (uint8_t)kind;
            cal->cum[d] = cum;
            cal->rank[d] = rank;
            if (kind != KIND_OFF) {
                cum += cal->hours[kind].total;
                cal->wday[rank++] = (int32_t)d;
            }
        }
    }
    cal->cum[N_DAYS] = cum;
    cal->rank[N_DAYS] = rank;
    cal->n_working = rank;
}

static void set_hours_raw(cg_calendar *cal, int kind, const cg_cal_interval *iv, int n)
{
    day_hours *h = &cal->hours[kind];
    h->n = n;
    h->total = 0;
    for (int i = 0; i < n; i++) {
        h->iv[i] = iv[i];
        h->total += (iv[i].end - iv[i].start) * 60;
    }
}

cg_calendar *cg_calendar_new(void)
{
    cg_calendar *cal = calloc(1, sizeof *cal);
    if (!cal)
        return NULL;
    static const cg_cal_interval def[2] = {{8 * 60 + 30, 12 * 60}, {13 * 60 + 30, 17 * 60 + 30}};
    for (int wd = 1; wd <= 5; wd++)
        set_hours_raw(cal, 1 + wd, def, 2);
    set_hours_raw(cal, KIND_MAKE, def, 2);
    rebuild(cal);
    return cal;
}

void cg_calendar_free(cg_calendar *cal)
{
    free(cal);
}

static int check_hours(const cg_cal_interval *iv, int n, cg_err *err)
{
    if (n < 0 || n > CG_CAL_MAX_INTERVALS)
        return cg_err_set(err, CG_ELIMIT, "hours", "at most %d working periods a day (got %d)",
                          CG_CAL_MAX_INTERVALS, n);
    for (int i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "hours[%d]", i);
        if (iv[i].start < 0 || iv[i].end > 1440 || iv[i].start >= iv[i].end)
            return cg_err_set(err, CG_EINVAL, field,
                              "a working period must start before it ends, within 00:00-24:00");
        if (i > 0 && iv[i].start < iv[i - 1].end)
            return cg_err_set(err, CG_EINVAL, field,
                              "working periods must be in order and must not overlap");
    }
    return 0;
}

int cg_calendar_set_hours(cg_calendar *cal, int weekday, const cg_cal_interval *iv, int n,
                          cg_err *err)
{
    if (weekday < 0 || weekday > CG_CAL_MAKEUP)
        return cg_err_set(err, CG_EINVAL, "weekday",
                          "weekday %d is not 0 (Sunday) .. 6 (Saturday) or 7 (make-up days)",
                          weekday);
    if (check_hours(iv, n, err))
        return -1;
    set_hours_raw(cal, weekday == CG_CAL_MAKEUP ? KIND_MAKE : 1 + weekday, iv, n);
    rebuild(cal);
    return 0;
}

static int parse_hhmm(const char *s, size_t len, int *minutes)
{
    if (len != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

int cg_calendar_parse_hours(const char *text, cg_cal_interval *iv, int *n, cg_err *err)
{
    int count = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        char field[32];
        snprintf(field, sizeof field, "hours[%d]", count);
        if (count == CG_CAL_MAX_INTERVALS)
            return cg_err_set(err, CG_ELIMIT, "hours", "at most %d working periods a day",
                              CG_CAL_MAX_INTERVALS);
        int a, b;
        if (len != 11 || p[5] != '-' || parse_hhmm(p, 5, &a) || parse_hhmm(p + 6, 5, &b))
            return cg_err_set(err, CG_EINVAL, field, "'%.*s' is not a period like 08:30-12:00",
                              (int)(len > 40 ? 40 : len), p);
        iv[count].start = (int16_t)a;
        iv[count].end = (int16_t)b;
        count++;
        p += len;
        if (*p == ',' && !*++p)
            return cg_err_set(err, CG_EINVAL, "hours", "a trailing comma ends the list");
    }
    if (check_hours(iv, count, err))
        return -1;
    *n = count;
    return 0;
}

/* Parses "YYYY-MM-DD" into the day of `year` (0-based); -1 with a message otherwise. */
static int parse_date(const char *s, int year, int *doy, const char **why)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
        *why = "is not a date YYYY-MM-DD";
        return -1;
    }
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            *why = "is not a date YYYY-MM-DD";
            return -1;
        }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *why = "is not a real date";
        return -1;
    }
    if (y != year) {
        *why = "lies outside the year of the document";
        return -1;
    }
    *doy = (int)(days_from_civil(y, m, d) - days_from_civil(y, 1, 1));
    return 0;
}

static int import_list(json_t *root, const char *key, int year, uint8_t mark, uint8_t *marks,
                       cg_err *err)
{
    json_t *arr = json_object_get(root, key);
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return cg_err_set(err, CG_EINVAL, key, "'%s' must be an array of dates YYYY-MM-DD", key);
    if (json_array_size(arr) > CG_CAL_MAX_DATES)
        return cg_err_set(err, CG_ELIMIT, key, "'%s' holds %zu dates; at most %d", key,
                          json_array_size(arr), CG_CAL_MAX_DATES);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char field[48];
        snprintf(field, sizeof field, "%s[%zu]", key, i);
        if (!json_is_string(v))
            return cg_err_set(err, CG_EINVAL, field, "%s must be a string YYYY-MM-DD", field);
        const char *s = json_string_value(v), *why = NULL;
        int doy;
        if (parse_date(s, year, &doy, &why))
            return cg_err_set(err, CG_EINVAL, field, "%s: '%.16s' %s", field, s, why);
        if (marks[doy] == mark)
            return cg_err_set(err, CG_ECONFLICT, field, "%s: %s is listed twice", field, s);
        if (marks[doy])
            return cg_err_set(err, CG_ECONFLICT, field,
                              "%s: %s is both a holiday and a make-up working day", field, s);
        if (mark == 2) {
            int wd = (int)(((days_from_civil(year, 1, 1) + doy) % 7 + 11) % 7);
            if (wd != 0 && wd != 6)
                return cg_err_set(err, CG_EINVAL, field,
                                  "%s: %s is a weekday; make-up working days fall on Saturday "
                                  "or Sunday",
                                  field, s);
        }
        marks[doy] = mark;
    }
    return 0;
}

int cg_calendar_import_year(cg_calendar *cal, const char *json, size_t len, int *year_out,
                            cg_err *err)
{
    if (len > CG_CAL_JSON_MAX)
        return cg_err_set(err, CG_ELIMIT, "calendar",
                          "a calendar year document is at most %d bytes (got %zu)", CG_CAL_JSON_MAX,
                          len);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cg_err_set(err, CG_EINVAL, "calendar", "not valid JSON (line %d: %s)", jerr.line,
                          jerr.text);
    int rc = -1;
    uint8_t marks[366] = {0};
    if (!json_is_object(root)) {
        cg_err_set(err, CG_EINVAL, "calendar", "a calendar year must be a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "year") && strcmp(key, "holidays") && strcmp(key, "workdays") &&
            strcmp(key, "source") && strcmp(key, "note")) {
            /* An empty key still gets a field name: errors always name one. */
            cg_err_set(err, CG_EINVAL, key[0] ? key : "(empty key)",
                       "unknown field '%.40s' (year, holidays, workdays, source, note)", key);
            goto out;
        }
        if ((!strcmp(key, "source") || !strcmp(key, "note")) && !json_is_string(v)) {
            cg_err_set(err, CG_EINVAL, key, "'%s' must be a string", key);
            goto out;
        }
    }
    json_t *jy = json_object_get(root, "year");
    if (!json_is_integer(jy) || json_integer_value(jy) < CG_CAL_FIRST_YEAR ||
        json_integer_value(jy) > CG_CAL_LAST_YEAR) {
        cg_err_set(err, CG_EINVAL, "year", "'year' must be an integer in %d..%d", CG_CAL_FIRST_YEAR,
                   CG_CAL_LAST_YEAR);
        goto out;
    }
    int year = (int)json_integer_value(jy);
    if (import_list(root, "holidays", year, 1, marks, err) ||
        import_list(root, "workdays", year, 2, marks, err))
        goto out;
    year_marks *ym = &cal->years[year - CG_CAL_FIRST_YEAR];
    ym->imported = 1;
    memcpy(ym->mark, marks, sizeof marks);
    rebuild(cal);
    if (year_out)
        *year_out = year;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int cg_calendar_has_year(const cg_calendar *cal, int year)
{
    return year >= CG_CAL_FIRST_YEAR && year <= CG_CAL_LAST_YEAR &&
           cal->years[year - CG_CAL_FIRST_YEAR].imported;
}

int cg_calendar_is_working_day(const cg_calendar *cal, int year, int month, int day)
{
    if (year < CG_CAL_FIRST_YEAR || year > CG_CAL_LAST_YEAR || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month))
        return 0;
    return cal->kind[days_from_civil(year, month, day) - first_day()] != KIND_OFF;
}

/* Splits t into a day index and seconds into that local day; -1 outside the range. */
static int locate(int64_t t, int64_t *day, int32_t *sec, cg_err *err)
{
    int64_t local = t + CG_CAL_TZ_OFFSET;
    int64_t d = floor_div(local, DAY_SECS) - first_day();
    if (d < 0 || d >= N_DAYS)
        return cg_err_set(err, CG_EINVAL, "time",
                          "time %lld lies outside the calendar (%d-01-01 .. %d-12-31, UTC+8)",
                          (long long)t, CG_CAL_FIRST_YEAR, CG_CAL_LAST_YEAR);
    *day = d;
    *sec = (int32_t)(local - floor_div(local, DAY_SECS) * DAY_SECS);
    return 0;
}

static int64_t day_start(int64_t d)
{
    return (d + first_day()) * DAY_SECS - CG_CAL_TZ_OFFSET;
}

/* Working seconds elapsed from the start of the calendar to (day, sec). */
static int64_t worked(const cg_calendar *cal, int64_t d, int32_t sec)
{
    const day_hours *h = &cal->hours[cal->kind[d]];
    int64_t w = cal->cum[d];
    for (int i = 0; i < h->n; i++) {
        int32_t a = h->iv[i].start * 60, b = h->iv[i].end * 60;
        if (sec <= a)
            break;
        w += (sec < b ? sec : b) - a;
    }
    return w;
}

/* The instant at which W reaches target (> 0 and <= total working time). */
static int64_t instant_of(const cg_calendar *cal, int64_t target)
{
    /* The last day d with cum[d] < target: that day holds the target's second. */
    int64_t lo = 0, hi = N_DAYS - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (cal->cum[mid] < target)
            lo = mid;
        else
            hi = mid - 1;
    }
    const day_hours *h = &cal->hours[cal->kind[lo]];
    int64_t r = target - cal->cum[lo];
    assert(r > 0 && h->n > 0);
    for (int i = 0; i < h->n; i++) {
        int64_t len = (h->iv[i].end - h->iv[i].start) * 60;
        if (r <= len)
            return day_start(lo) + h->iv[i].start * 60 + r;
        r -= len;
    }
    assert(!"target beyond the day's working time");
    return 0;
}

int cg_calendar_next_working(const cg_calendar *cal, int64_t t, int64_t *out, cg_err *err)
{
    int64_t d = 0;
    int32_t sec = 0;
    if (locate(t, &d, &sec, err))
        return -1;
    const day_hours *h = &cal->hours[cal->kind[d]];
    for (int i = 0; i < h->n; i++) {
        if (sec < h->iv[i].end * 60) {
            *out = sec >= h->iv[i].start * 60 ? t : day_start(d) + h->iv[i].start * 60;
            return 0;
        }
    }
    int32_t r = cal->rank[d + 1];
    if (r >= cal->n_working)
        return cg_err_set(err, CG_ELIMIT, "time",
                          "no working time after this instant in the "
                          "calendar's range");
    int32_t nd = cal->wday[r];
    *out = day_start(nd) + cal->hours[cal->kind[nd]].iv[0].start * 60;
    return 0;
}

int cg_calendar_add_seconds(const cg_calendar *cal, int64_t start, int64_t seconds, int64_t *out,
                            cg_err *err)
{
    if (seconds < 0)
        return cg_err_set(err, CG_EINVAL, "amount", "a working time to add must not be negative");
    if (seconds == 0)
        return cg_calendar_next_working(cal, start, out, err);
    int64_t d = 0;
    int32_t sec = 0;
    if (locate(start, &d, &sec, err))
        return -1;
    int64_t target = worked(cal, d, sec) + seconds;
    if (target > cal->cum[N_DAYS])
        return cg_err_set(err, CG_ELIMIT, "amount", "the deadline falls after %d-12-31",
                          CG_CAL_LAST_YEAR);
    *out = instant_of(cal, target);
    return 0;
}

int cg_calendar_deadline(const cg_calendar *cal, int64_t start, int amount, cg_time_unit unit,
                         int64_t *out, cg_err *err)
{
    if (amount <= 0)
        return cg_err_set(err, CG_EINVAL, "amount", "a time limit must be positive (got %d)",
                          amount);
    if (unit == CG_UNIT_WORK_HOURS)
        return cg_calendar_add_seconds(cal, start, (int64_t)amount * 3600, out, err);
    if (unit != CG_UNIT_WORK_DAYS)
        return cg_err_set(err, CG_EINVAL, "unit", "unknown time unit %d", (int)unit);
    int64_t begin = 0, d = 0;
    int32_t sec = 0;
    if (cg_calendar_next_working(cal, start, &begin, err) || locate(begin, &d, &sec, err))
        return -1;
    assert(cal->kind[d] != KIND_OFF);
    int64_t r = (int64_t)cal->rank[d] + amount;
    if (r >= cal->n_working)
        return cg_err_set(err, CG_ELIMIT, "amount", "the deadline falls after %d-12-31",
                          CG_CAL_LAST_YEAR);
    int32_t nd = cal->wday[r];
    const day_hours *h = &cal->hours[cal->kind[nd]];
    *out = day_start(nd) + h->iv[h->n - 1].end * 60;
    return 0;
}

int cg_calendar_between(const cg_calendar *cal, int64_t from, int64_t to, int64_t *seconds,
                        cg_err *err)
{
    int64_t d1 = 0, d2 = 0;
    int32_t s1 = 0, s2 = 0;
    if (locate(from, &d1, &s1, err) || locate(to, &d2, &s2, err))
        return -1;
    *seconds = worked(cal, d2, s2) - worked(cal, d1, s1);
    return 0;
}
