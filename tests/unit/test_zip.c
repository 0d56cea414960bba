/*
 * Unit tests for the bounded ZIP reader (core/zip.h) and zipped Shapefiles
 * (cg_shapefile_read_zip): tests/data/shp_utf8.zip holds the shp_utf8 fixture deflated (made with
 * Python's zipfile); the entries must come out byte for byte as the files beside it, and every
 * limit, damaged byte and lie about a size must be refused with a reason, never read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/zip.h"
#include "geo/shapefile.h"
#include "testutil.h"

static char *zip_data;
static size_t zip_len;

static int want_all(void *ctx, const char *name)
{
    (void)name;
    if (ctx)
        (*(int *)ctx)++;
    return 1;
}

static int want_dbf(void *ctx, const char *name)
{
    (void)ctx;
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".dbf") == 0;
}

static void test_entries_match_the_files(void **state)
{
    (void)state;
    cg_zip_entry *e;
    size_t n;
    cg_err err;
    assert_int_equal(cg_zip_extract(zip_data, zip_len, NULL, want_all, NULL, &e, &n, &err), 0);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        char *file;
        size_t len;
        assert_int_equal(cg_read_file(cg_test_data(e[i].name), &file, &len, 1 << 20), 0);
        assert_int_equal(e[i].len, len);
        assert_memory_equal(e[i].data, file, len);
        assert_int_equal(e[i].data[len], '\0');
        free(file);
    }
    cg_zip_entries_free(e, n);
    /* only what is asked for */
    assert_int_equal(cg_zip_extract(zip_data, zip_len, NULL, want_dbf, NULL, &e, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].name, "shp_utf8.dbf");
    cg_zip_entries_free(e, n);
}

static void test_limits(void **state)
{
    (void)state;
    cg_zip_entry *e = (void *)1;
    size_t n = 7;
    cg_err err;
    cg_zip_limits few = {2, 0, 0};
    assert_int_equal(cg_zip_extract(zip_data, zip_len, &few, want_all, NULL, &e, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_string_equal(err.field, "zip");
    assert_null(e);
    assert_int_equal(n, 0);
    cg_zip_limits small = {0, 100, 0};
    assert_int_equal(cg_zip_extract(zip_data, zip_len, &small, want_all, NULL, &e, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_non_null(strstr(err.message, "over the limit"));
    cg_zip_limits total = {0, 0, 300};
    assert_int_equal(cg_zip_extract(zip_data, zip_len, &total, want_all, NULL, &e, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
}

/* Every single-byte change and every truncation either still reads (a byte of no consequence:
 * a timestamp, a comment) or is refused; none may crash or read outside the buffer (the
 * sanitizer and valgrind passes of scripts/test watch that). Changes inside compressed data or
 * stored sizes must be caught by the CRC or the size checks. */
static void test_damage_is_refused(void **state)
{
    (void)state;
    char *copy = malloc(zip_len);
    size_t refused = 0;
    for (size_t i = 0; i < zip_len; i++) {
        memcpy(copy, zip_data, zip_len);
        copy[i] ^= 0x5a;
        cg_zip_entry *e;
        size_t n;
        cg_err err;
        if (cg_zip_extract(copy, zip_len, NULL, want_all, NULL, &e, &n, &err) == 0) {
            /* whatever still reads must still be the right bytes */
            for (size_t k = 0; k < n; k++) {
                char *file;
                size_t len;
                if (cg_read_file(cg_test_data(e[k].name), &file, &len, 1 << 20) == 0) {
                    assert_int_equal(e[k].len, len);
                    assert_memory_equal(e[k].data, file, len);
                    free(file);
                }
            }
            cg_zip_entries_free(e, n);
        } else {
            assert_string_equal(err.field, "zip");
            assert_true(err.message[0]);
            refused++;
        }
    }
    assert_true(refused > zip_len / 2);
    for (size_t len = 0; len < zip_len; len++) {
        cg_zip_entry *e;
        size_t n;
        cg_err err;
        assert_int_equal(cg_zip_extract(zip_data, len, NULL, want_all, NULL, &e, &n, &err), -1);
    }
    free(copy);
}

static void test_zipped_shapefile(void **state)
{
    (void)state;
    cg_feature *fs;
    size_t n;
    cg_err err;
    assert_int_equal(cg_shapefile_read_zip(zip_data, zip_len, NULL, 1 << 20, &fs, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_true(fs[0].has_geom);
    cg_features_free(fs, n);
    /* too little room to unpack it */
    assert_int_equal(cg_shapefile_read_zip(zip_data, zip_len, NULL, 200, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    /* not an archive at all */
    assert_int_equal(cg_shapefile_read_zip("PK\3\4", 4, NULL, 1 << 20, &fs, &n, &err), -1);
    assert_non_null(strstr(err.message, "not a ZIP archive"));
}

int main(void)
{
    if (cg_read_file(cg_test_data("shp_utf8.zip"), &zip_data, &zip_len, 1 << 20) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_match_the_files),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_zipped_shapefile),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    free(zip_data);
    return r;
}
