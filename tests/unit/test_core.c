/* Unit tests for src/core: option parser, arena, buffer, CSV, error values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/err.h"
#include "core/opts.h"
#include "testutil.h"

static void test_opts(void **state)
{
    (void)state;
    const char *db = NULL;
    int flag = 0, n = 5;
    double d = 0;
    cg_opt opts[] = {{CG_OPT_STRING, "db", "FILE", &db, "database"},
                     {CG_OPT_FLAG, "json", NULL, &flag, "json"},
                     {CG_OPT_INT, "count", "N", &n, "count"},
                     {CG_OPT_DOUBLE, "area", "M2", &d, "area"},
                     {0}};
    cg_cmd_help help = {"t [options]", "test", opts, NULL};
    char *argv[] = {"t",         "--db",  "x.db",   "pos1", "--json",
                    "--count=7", "-33.5", "--area", "2.5",  NULL};
    int argc = 9;
    assert_int_equal(cg_opts_parse(&help, &argc, argv), 0);
    assert_string_equal(db, "x.db");
    assert_int_equal(flag, 1);
    assert_int_equal(n, 7);
    assert_true(d == 2.5);
    assert_int_equal(argc, 2);
    assert_string_equal(argv[0], "pos1");
    assert_string_equal(argv[1], "-33.5");

    char *bad_int[] = {"t", "--count", "seven", NULL};
    argc = 3;
    assert_int_equal(cg_opts_parse(&help, &argc, bad_int), -1);
    char *unknown[] = {"t", "--nope", NULL};
    argc = 2;
    assert_int_equal(cg_opts_parse(&help, &argc, unknown), -1);
    char *missing[] = {"t", "--db", NULL};
    argc = 2;
    assert_int_equal(cg_opts_parse(&help, &argc, missing), -1);
}

static void test_arena_and_buf(void **state)
{
    (void)state;
    cg_arena *a = cg_arena_new(256);
    char *s = cg_arena_sprintf(a, "%s-%d", "grid", 42);
    assert_string_equal(s, "grid-42");
    void *big = cg_arena_alloc(a, 10000); /* larger than a block */
    memset(big, 1, 10000);
    for (int i = 0; i < 1000; i++)
        assert_true(((uintptr_t)cg_arena_alloc(a, 3) & 15) == 0);
    assert_true(cg_arena_used(a) >= 10000 + 1000 * 16);
    cg_arena_reset(a);
    assert_int_equal(cg_arena_used(a), 0);
    cg_arena_free(a);

    cg_buf b;
    cg_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        cg_buf_printf(&b, "%d,", i);
    assert_int_equal(strlen(b.data), b.len);
    assert_non_null(strstr(b.data, ",999,"));
    cg_buf_free(&b);
}

/* The printf-free number writers give printf's bytes: integers at the extremes, and fixed-point
 * values at every precision over random magnitudes (coordinates, seconds, negative values, values
 * that round up to the next whole number). */
static void test_buf_numbers(void **state)
{
    (void)state;
    static const long long ints[] = {0, 1, -1, 9, 10, 1234567890123LL, INT64_MAX, INT64_MIN};
    cg_buf b;
    cg_buf_init(&b);
    char want[64];
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        cg_buf_reset(&b);
        cg_buf_put_i64(&b, ints[i]);
        snprintf(want, sizeof want, "%lld", ints[i]);
        assert_string_equal(b.data, want);
    }
    static const double fixed[] = {0.0,         -0.0,       0.5,        121.4737012, -33.8567844,
                                   179.9999999, 9.99999996, 1e6 + 0.25, 1e12,        -1e-9};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int d = 0; d <= 9; d++) {
            cg_buf_reset(&b);
            cg_buf_put_fixed(&b, fixed[i], d);
            snprintf(want, sizeof want, "%.*f", d, fixed[i]);
            assert_string_equal(b.data, want);
        }
    /* Random values: the 7-decimal coordinates civgrid stores must come out exactly as printf
     * writes them; arbitrary doubles may differ from printf only where the scaling itself rounds
     * a tie, so at most in the last digit and rarely. */
    uint64_t x = 88172645463325252ULL;
    int off_by_one = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        double v = (u - 0.5) * 360.0;
        double stored = nearbyint(v * 1e7) / 1e7;
        cg_buf_reset(&b);
        cg_buf_put_fixed(&b, stored, 7);
        snprintf(want, sizeof want, "%.7f", stored);
        assert_string_equal(b.data, want);
        int d = (int)(x % 10);
        cg_buf_reset(&b);
        cg_buf_put_fixed(&b, v, d);
        snprintf(want, sizeof want, "%.*f", d, v);
        if (strcmp(b.data, want) != 0) {
            off_by_one++;
            assert_int_equal(strlen(b.data), strlen(want));
            assert_memory_equal(b.data, want, strlen(want) - 1 - (want[strlen(want) - 1] == '0'));
        }
    }
    assert_true(off_by_one < 100);
    cg_buf_free(&b);
}

static void test_csv(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBFname,lat,lon\r\n"
                       "\"Wang, \"\"the\"\" market\",30.1,120.2\r\n"
                       "\"two\nlines\",30.2,\n"
                       "last,1,2";
    const char *path = cg_test_tmppath("in.csv");
    cg_test_write_file(path, text, strlen(text));
    FILE *f = fopen(path, "rb");
    cg_csv_reader r;
    cg_csv_reader_init(&r, f);
    assert_int_equal(cg_csv_next(&r), 1);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(cg_csv_field(&r, 0), "name");
    assert_int_equal(cg_csv_next(&r), 1);
    assert_string_equal(cg_csv_field(&r, 0), "Wang, \"the\" market");
    assert_string_equal(cg_csv_field(&r, 2), "120.2");
    assert_int_equal(cg_csv_next(&r), 1);
    assert_string_equal(cg_csv_field(&r, 0), "two\nlines");
    assert_string_equal(cg_csv_field(&r, 2), "");
    assert_int_equal(cg_csv_next(&r), 1);
    assert_string_equal(cg_csv_field(&r, 0), "last");
    assert_int_equal(cg_csv_next(&r), 0);
    cg_csv_reader_free(&r);
    fclose(f);

    const char *broken = "a,b\n\"never closed,1\n";
    cg_test_write_file(path, broken, strlen(broken));
    f = fopen(path, "rb");
    cg_csv_reader_init(&r, f);
    assert_int_equal(cg_csv_next(&r), 1);
    assert_int_equal(cg_csv_next(&r), -1);
    cg_csv_reader_free(&r);
    fclose(f);

    cg_buf out;
    cg_buf_init(&out);
    cg_csv_write_field(&out, "plain");
    cg_buf_putc(&out, ',');
    cg_csv_write_field(&out, "has \"quote\", comma");
    assert_string_equal(out.data, "plain,\"has \"\"quote\"\", comma\"");
    cg_buf_free(&out);
}

static void test_err(void **state)
{
    (void)state;
    cg_err e = {0};
    assert_int_equal(cg_err_set(&e, CG_EINVAL, "lat", "latitude %d out of range", 99), -1);
    cg_err_prefix(&e, "row %d", 3);
    assert_string_equal(e.message, "row 3: latitude 99 out of range");
    assert_string_equal(e.field, "lat");
    assert_int_equal(cg_code_http_status(CG_ENOTFOUND), 404);
    assert_int_equal(cg_code_http_status(CG_EBUSY), 503);
    assert_string_equal(cg_code_name(CG_ELIMIT), "too_large");
    assert_int_equal(cg_code_exit_status(CG_EINVAL), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts),        cmocka_unit_test(test_arena_and_buf),
        cmocka_unit_test(test_buf_numbers), cmocka_unit_test(test_csv),
        cmocka_unit_test(test_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
