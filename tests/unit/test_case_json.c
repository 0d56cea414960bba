/*
 * The case JSON writer's hand-made number and time formatting (app/case_json.c) against the C
 * library's: every instant comes out as gmtime + 8 h would print it, every number as printf
 * would.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app/cases.h"

/* The value of "key":"..." or "key":N in a JSON text (its raw characters). */
static void field(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    assert_non_null(p);
    p += strlen(pat);
    size_t n = strcspn(p, ",}");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = 0;
}

static void test_times_and_numbers(void **state)
{
    (void)state;
    static cg_case c;
    cg_buf b;
    cg_buf_init(&b);
    uint64_t rng = 12345;
    for (int i = 0; i < 20000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        /* 1970 .. 2100, plus the edges */
        int64_t t = i == 0 ? 1 : i == 1 ? 4102444799 : (int64_t)(rng >> 33) % 4102444800 + 1;
        int64_t id = i == 2 ? INT64_MAX : (int64_t)(rng >> 20);
        memset(&c, 0, sizeof c);
        c.id = id;
        c.reported_at = t;
        c.extension = i % 7;
        c.reporter_id = i == 3 ? 0 : (int64_t)(rng >> 40);
        cg_buf_reset(&b);
        cg_case_json(&c, NULL, 0, &b);
        char got[64], want[64];
        field(b.data, "reported_at", got, sizeof got);
        time_t local = (time_t)(t + 8 * 3600);
        struct tm tm;
        gmtime_r(&local, &tm);
        strftime(want, sizeof want, "\"%Y-%m-%dT%H:%M:%S+08:00\"", &tm);
        assert_string_equal(got, want);
        field(b.data, "id", got, sizeof got);
        snprintf(want, sizeof want, "%" PRId64, id);
        assert_string_equal(got, want);
        field(b.data, "reporter_id", got, sizeof got);
        snprintf(want, sizeof want, "%" PRId64, c.reporter_id);
        assert_string_equal(got, want);
        field(b.data, "registered_at", got, sizeof got);
        assert_string_equal(got, "null");
    }
    cg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_times_and_numbers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
