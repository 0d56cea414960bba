/*
 * Tests of the working calendar (src/model/calendar.c): working hours with a lunch break,
 * weekends, the 2026 public holidays and make-up days (tests/data/calendar_2026.json), year
 * boundaries, starts inside and outside working hours, both kinds of limit, the working time
 * between two instants, and precise errors for bad hours and bad year documents. Expected
 * instants are written as local Beijing times and converted with timegm(), independently of
 * the calendar's own date arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/buf.h"
#include "model/calendar.h"
#include "testutil.h"

/* Unix time of a local (UTC+8) wall-clock time. */
static int64_t bj(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) - 8 * 3600;
}

static cg_calendar *cal_2026(void)
{
    cg_calendar *cal = cg_calendar_new();
    assert_non_null(cal);
    char *json;
    size_t len;
    assert_int_equal(cg_read_file(cg_test_data("calendar_2026.json"), &json, &len, 1 << 20), 0);
    cg_err err = {0};
    int year = 0;
    assert_int_equal(cg_calendar_import_year(cal, json, len, &year, &err), 0);
    assert_int_equal(year, 2026);
    free(json);
    return cal;
}

static int64_t hours(const cg_calendar *cal, int64_t start, int n)
{
    int64_t out = 0;
    cg_err err = {0};
    assert_int_equal(cg_calendar_deadline(cal, start, n, CG_UNIT_WORK_HOURS, &out, &err), 0);
    return out;
}

static int64_t days(const cg_calendar *cal, int64_t start, int n)
{
    int64_t out = 0;
    cg_err err = {0};
    assert_int_equal(cg_calendar_deadline(cal, start, n, CG_UNIT_WORK_DAYS, &out, &err), 0);
    return out;
}

static void test_hours_and_lunch(void **state)
{
    (void)state;
    cg_calendar *cal = cg_calendar_new();
    /* 2026-03-09 is a Monday in a week without holidays. */
    assert_int_equal(hours(cal, bj(2026, 3, 9, 10, 0), 2), bj(2026, 3, 9, 12, 0));
    assert_int_equal(hours(cal, bj(2026, 3, 9, 10, 0), 3), bj(2026, 3, 9, 14, 30));
    assert_int_equal(hours(cal, bj(2026, 3, 9, 12, 30), 1), bj(2026, 3, 9, 14, 30));
    assert_int_equal(hours(cal, bj(2026, 3, 9, 7, 0), 1), bj(2026, 3, 9, 9, 30));
    /* 7.5 working hours a day: 8 hours from Monday 08:30 end Tuesday 09:00. */
    assert_int_equal(hours(cal, bj(2026, 3, 9, 8, 30), 8), bj(2026, 3, 10, 9, 0));
    /* Friday 17:00 + 1 h: half an hour on Friday, half on Monday. */
    assert_int_equal(hours(cal, bj(2026, 3, 13, 17, 0), 1), bj(2026, 3, 16, 9, 0));
    /* A start on Sunday begins Monday 08:30. */
    assert_int_equal(hours(cal, bj(2026, 3, 15, 11, 0), 2), bj(2026, 3, 16, 10, 30));
    int64_t t;
    cg_err err = {0};
    assert_int_equal(cg_calendar_next_working(cal, bj(2026, 3, 9, 12, 0), &t, &err), 0);
    assert_int_equal(t, bj(2026, 3, 9, 13, 30));
    assert_int_equal(cg_calendar_next_working(cal, bj(2026, 3, 9, 9, 0), &t, &err), 0);
    assert_int_equal(t, bj(2026, 3, 9, 9, 0));
    cg_calendar_free(cal);
}

static void test_days_definition(void **state)
{
    (void)state;
    cg_calendar *cal = cg_calendar_new();
    /* The start day is not counted: Monday + 1 working day is the end of Tuesday. */
    assert_int_equal(days(cal, bj(2026, 3, 9, 10, 0), 1), bj(2026, 3, 10, 17, 30));
    assert_int_equal(days(cal, bj(2026, 3, 9, 7, 0), 1), bj(2026, 3, 10, 17, 30));
    /* After hours on Friday work begins Monday, so Monday is the start day. */
    assert_int_equal(days(cal, bj(2026, 3, 13, 18, 0), 1), bj(2026, 3, 17, 17, 30));
    assert_int_equal(days(cal, bj(2026, 3, 14, 10, 0), 1), bj(2026, 3, 17, 17, 30));
    /* Thursday + 5 working days crosses one weekend. */
    assert_int_equal(days(cal, bj(2026, 3, 12, 9, 0), 5), bj(2026, 3, 19, 17, 30));
    /* Illegal construction, 20 working days from Monday: four weeks later, Monday. */
    assert_int_equal(days(cal, bj(2026, 3, 9, 9, 0), 20), bj(2026, 4, 6, 17, 30));
    cg_calendar_free(cal);
}

static void test_holidays_2026(void **state)
{
    (void)state;
    cg_calendar *cal = cal_2026();
    assert_true(cg_calendar_has_year(cal, 2026));
    assert_false(cg_calendar_has_year(cal, 2027));
    assert_false(cg_calendar_is_working_day(cal, 2026, 10, 1));
    assert_true(cg_calendar_is_working_day(cal, 2026, 10, 10)); /* Saturday, make-up */
    assert_true(cg_calendar_is_working_day(cal, 2026, 9, 20));  /* Sunday, make-up */
    assert_false(cg_calendar_is_working_day(cal, 2026, 9, 19)); /* an ordinary Saturday */
    assert_false(cg_calendar_is_working_day(cal, 2026, 2, 23));
    assert_true(cg_calendar_is_working_day(cal, 2026, 2, 24));
    /* National Day: Sep 30 + 1 working day skips Oct 1-7; +3 lands on make-up Saturday. */
    assert_int_equal(days(cal, bj(2026, 9, 30, 10, 0), 1), bj(2026, 10, 8, 17, 30));
    assert_int_equal(days(cal, bj(2026, 9, 30, 10, 0), 3), bj(2026, 10, 10, 17, 30));
    /* Sunday Sep 20 is a make-up day, Saturday Sep 19 is not. */
    assert_int_equal(hours(cal, bj(2026, 9, 19, 10, 0), 1), bj(2026, 9, 20, 9, 30));
    /* Spring Festival: Friday Feb 13 16:00 + 3 h runs into make-up Saturday Feb 14. */
    assert_int_equal(hours(cal, bj(2026, 2, 13, 16, 0), 3), bj(2026, 2, 14, 10, 0));
    assert_int_equal(days(cal, bj(2026, 2, 14, 9, 0), 1), bj(2026, 2, 24, 17, 30));
    /* Labour Day May 1-5: Thursday Apr 30 + 1 working day is Wednesday May 6. */
    assert_int_equal(days(cal, bj(2026, 4, 30, 9, 0), 1), bj(2026, 5, 6, 17, 30));
    /* Mid-Autumn (Fri Sep 25 .. Sun Sep 27): Thursday + 1 day is Monday Sep 28. */
    assert_int_equal(days(cal, bj(2026, 9, 24, 9, 0), 1), bj(2026, 9, 28, 17, 30));
    cg_calendar_free(cal);
}

static void test_year_boundary(void **state)
{
    (void)state;
    cg_calendar *cal = cal_2026();
    /* 2025 is not imported (weekly pattern); Jan 1-3 2026 are holidays, Sunday Jan 4 works. */
    assert_int_equal(days(cal, bj(2025, 12, 31, 16, 0), 1), bj(2026, 1, 4, 17, 30));
    assert_int_equal(hours(cal, bj(2025, 12, 31, 17, 0), 1), bj(2026, 1, 4, 9, 0));
    /* 2027 not imported: Friday Jan 1 2027 counts as a working day until it is. */
    assert_int_equal(days(cal, bj(2026, 12, 31, 9, 0), 1), bj(2027, 1, 1, 17, 30));
    const char *y2027 = "{\"year\":2027,\"holidays\":[\"2027-01-01\"]}";
    cg_err err = {0};
    assert_int_equal(cg_calendar_import_year(cal, y2027, strlen(y2027), NULL, &err), 0);
    assert_int_equal(days(cal, bj(2026, 12, 31, 9, 0), 1), bj(2027, 1, 4, 17, 30));
    /* Re-importing a year replaces it. */
    const char *y2027b = "{\"year\":2027,\"holidays\":[]}";
    assert_int_equal(cg_calendar_import_year(cal, y2027b, strlen(y2027b), NULL, &err), 0);
    assert_int_equal(days(cal, bj(2026, 12, 31, 9, 0), 1), bj(2027, 1, 1, 17, 30));
    cg_calendar_free(cal);
}

static void test_between(void **state)
{
    (void)state;
    cg_calendar *cal = cal_2026();
    int64_t s;
    cg_err err = {0};
    assert_int_equal(
        cg_calendar_between(cal, bj(2026, 3, 13, 17, 0), bj(2026, 3, 16, 9, 0), &s, &err), 0);
    assert_int_equal(s, 3600);
    assert_int_equal(
        cg_calendar_between(cal, bj(2026, 3, 16, 9, 0), bj(2026, 3, 13, 17, 0), &s, &err), 0);
    assert_int_equal(s, -3600);
    /* Over the lunch break only the working minutes count. */
    assert_int_equal(
        cg_calendar_between(cal, bj(2026, 3, 9, 11, 0), bj(2026, 3, 9, 14, 0), &s, &err), 0);
    assert_int_equal(s, 90 * 60);
    /* The whole National Day week holds no working time. */
    assert_int_equal(
        cg_calendar_between(cal, bj(2026, 9, 30, 17, 30), bj(2026, 10, 8, 8, 30), &s, &err), 0);
    assert_int_equal(s, 0);
    /* Adding then measuring gives the amount back, for many starts and amounts. */
    uint32_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        x = x * 1664525u + 1013904223u;
        int64_t start = bj(2025, 6, 1, 0, 0) + (int64_t)(x % (600u * 86400u));
        int64_t amount = 60 * (int64_t)(x >> 20 & 0x3fff);
        int64_t end;
        assert_int_equal(cg_calendar_add_seconds(cal, start, amount, &end, &err), 0);
        assert_true(end >= start);
        assert_int_equal(cg_calendar_between(cal, start, end, &s, &err), 0);
        assert_int_equal(s, amount);
    }
    cg_calendar_free(cal);
}

static void test_custom_hours(void **state)
{
    (void)state;
    cg_calendar *cal = cg_calendar_new();
    cg_cal_interval iv[CG_CAL_MAX_INTERVALS];
    int n = 0;
    cg_err err = {0};
    assert_int_equal(cg_calendar_parse_hours("09:00-12:00", iv, &n, &err), 0);
    assert_int_equal(cg_calendar_set_hours(cal, 6, iv, n, &err), 0);
    assert_true(cg_calendar_is_working_day(cal, 2026, 3, 14));
    assert_int_equal(hours(cal, bj(2026, 3, 13, 17, 0), 1), bj(2026, 3, 14, 9, 30));
    assert_int_equal(cg_calendar_parse_hours("", iv, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cg_calendar_set_hours(cal, 1, iv, n, &err), 0);
    assert_false(cg_calendar_is_working_day(cal, 2026, 3, 9));
    assert_int_equal(cg_calendar_parse_hours("08:30-12:00,11:00-13:00", iv, &n, &err), -1);
    assert_string_equal(err.field, "hours[1]");
    assert_int_equal(cg_calendar_parse_hours("8:30-12:00", iv, &n, &err), -1);
    assert_string_equal(err.field, "hours[0]");
    assert_int_equal(cg_calendar_parse_hours("12:00-08:00", iv, &n, &err), -1);
    assert_int_equal(cg_calendar_parse_hours("08:00-09:00,", iv, &n, &err), -1);
    assert_int_equal(
        cg_calendar_parse_hours("01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00", iv,
                                &n, &err),
        -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_int_equal(cg_calendar_set_hours(cal, 8, iv, 0, &err), -1);
    assert_string_equal(err.field, "weekday");
    cg_calendar_free(cal);
}

static void expect_import_error(const char *json, cg_code code, const char *field)
{
    cg_calendar *cal = cg_calendar_new();
    cg_err err = {0};
    assert_int_equal(cg_calendar_import_year(cal, json, strlen(json), NULL, &err), -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    /* Nothing was applied: 2026-10-01 stays a working Thursday. */
    assert_false(cg_calendar_has_year(cal, 2026));
    assert_true(cg_calendar_is_working_day(cal, 2026, 10, 1));
    cg_calendar_free(cal);
}

static void test_import_errors(void **state)
{
    (void)state;
    expect_import_error("{\"year\":2026,\"holidays\":[\"2026-10-01\",\"2026-02-30\"]}", CG_EINVAL,
                        "holidays[1]");
    expect_import_error("{\"year\":2026,\"holidays\":[\"2026-10-01\",\"2026-10-01\"]}",
                        CG_ECONFLICT, "holidays[1]");
    expect_import_error(
        "{\"year\":2026,\"holidays\":[\"2026-10-01\"],\"workdays\":[\"2026-10-01\"]}", CG_ECONFLICT,
        "workdays[0]");
    expect_import_error(
        "{\"year\":2026,\"holidays\":[\"2026-10-01\"],\"workdays\":[\"2026-10-09\"]}", CG_EINVAL,
        "workdays[0]");
    expect_import_error("{\"year\":2026,\"holidays\":[\"2027-01-01\"]}", CG_EINVAL, "holidays[0]");
    expect_import_error("{\"year\":2026,\"holidays\":[\"2026-1-01\"]}", CG_EINVAL, "holidays[0]");
    expect_import_error("{\"year\":2026,\"holidays\":[20261001]}", CG_EINVAL, "holidays[0]");
    expect_import_error("{\"year\":2026,\"holidays\":\"2026-10-01\"}", CG_EINVAL, "holidays");
    expect_import_error("{\"year\":1999,\"holidays\":[]}", CG_EINVAL, "year");
    expect_import_error("{\"year\":\"2026\"}", CG_EINVAL, "year");
    expect_import_error("{\"year\":2026,\"holiday\":[]}", CG_EINVAL, "holiday");
    expect_import_error("{\"year\":2026,\"note\":7}", CG_EINVAL, "note");
    /* found by fuzz_calendar: an empty key is still named */
    expect_import_error("{\"\":401}", CG_EINVAL, "(empty key)");
    expect_import_error("[2026]", CG_EINVAL, "calendar");
    expect_import_error("{\"year\":2026,", CG_EINVAL, "calendar");
    cg_buf b;
    cg_buf_init(&b);
    cg_buf_puts(&b, "{\"year\":2026,\"holidays\":[");
    for (int i = 0; i <= CG_CAL_MAX_DATES; i++)
        cg_buf_printf(&b, "%s\"2026-03-%02d\"", i ? "," : "", 1 + i % 28);
    cg_buf_puts(&b, "]}");
    expect_import_error(b.data, CG_ELIMIT, "holidays");
    cg_buf_free(&b);
}

static void test_range_errors(void **state)
{
    (void)state;
    cg_calendar *cal = cg_calendar_new();
    int64_t out;
    cg_err err = {0};
    assert_int_equal(
        cg_calendar_deadline(cal, bj(1999, 12, 31, 9, 0), 1, CG_UNIT_WORK_DAYS, &out, &err), -1);
    assert_string_equal(err.field, "time");
    assert_int_equal(
        cg_calendar_deadline(cal, bj(2099, 12, 31, 9, 0), 1, CG_UNIT_WORK_DAYS, &out, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_int_equal(
        cg_calendar_deadline(cal, bj(2099, 12, 31, 9, 0), 8, CG_UNIT_WORK_HOURS, &out, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_int_equal(
        cg_calendar_deadline(cal, bj(2026, 3, 9, 9, 0), 0, CG_UNIT_WORK_DAYS, &out, &err), -1);
    assert_string_equal(err.field, "amount");
    cg_calendar_free(cal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hours_and_lunch), cmocka_unit_test(test_days_definition),
        cmocka_unit_test(test_holidays_2026),   cmocka_unit_test(test_year_boundary),
        cmocka_unit_test(test_between),         cmocka_unit_test(test_custom_hours),
        cmocka_unit_test(test_import_errors),   cmocka_unit_test(test_range_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
