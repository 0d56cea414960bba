/* Unit tests for src/core: option parser, arena, buffer, CSV, error values. */
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
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_arena_and_buf),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
