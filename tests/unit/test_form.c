/* Unit tests for src/core/form.c: urlencoded and multipart form bodies, their limits and the
 * errors that name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/form.h"
#include "testutil.h"

static const cg_form_limits LIM = {8, 32, 64, 1024, "media"};

static int parse_url(cg_arena *a, const char *body, cg_form *f, cg_err *e)
{
    return cg_form_parse_urlencoded(a, body, strlen(body), &LIM, f, e);
}

static void test_urlencoded(void **state)
{
    (void)state;
    cg_arena *a = cg_arena_new(4096);
    cg_form f;
    cg_err e;
    assert_int_equal(
        parse_url(a, "service_code=0101&description=a+b%21%E4%B8%AD&&lat=30.2&flag", &f, &e), 0);
    assert_int_equal(f.n, 4);
    assert_string_equal(cg_form_get(&f, "service_code"), "0101");
    assert_string_equal(cg_form_get(&f, "description"), "a b!\xE4\xB8\xAD");
    assert_int_equal(f.fields[1].value_len, 7);
    assert_string_equal(cg_form_get(&f, "lat"), "30.2");
    assert_string_equal(cg_form_get(&f, "flag"), "");
    assert_null(cg_form_get(&f, "long"));
    assert_int_equal(f.has_file, 0);
    /* encoded names, empty body */
    assert_int_equal(parse_url(a, "attribute%5Bx%5D=1", &f, &e), 0);
    assert_string_equal(f.fields[0].name, "attribute[x]");
    assert_int_equal(parse_url(a, "", &f, &e), 0);
    assert_int_equal(f.n, 0);

    /* errors name the field */
    assert_int_equal(parse_url(a, "a=1&description=abc%4", &f, &e), -1);
    assert_string_equal(e.field, "description");
    assert_non_null(strstr(e.message, "truncated"));
    assert_int_equal(parse_url(a, "description=%zz", &f, &e), -1);
    assert_string_equal(e.field, "description");
    assert_int_equal(parse_url(a, "description=a%00b", &f, &e), -1);
    assert_string_equal(e.field, "description");
    assert_non_null(strstr(e.message, "NUL"));
    static const char raw_nul[] = "a=1&description=x\0y";
    assert_int_equal(cg_form_parse_urlencoded(a, raw_nul, sizeof raw_nul - 1, &LIM, &f, &e), -1);
    assert_string_equal(e.field, "description");
    assert_int_equal(parse_url(a, "lat=1&lat=2", &f, &e), -1);
    assert_string_equal(e.field, "lat");
    assert_int_equal(parse_url(a, "=1", &f, &e), -1);
    assert_string_equal(e.field, "body");
    char big[200];
    snprintf(big, sizeof big, "description=%0*d", 65, 0);
    assert_int_equal(parse_url(a, big, &f, &e), -1);
    assert_int_equal(e.code, CG_ELIMIT);
    assert_string_equal(e.field, "description");
    snprintf(big, sizeof big, "description=%0*d", 64, 0); /* exactly the limit */
    assert_int_equal(parse_url(a, big, &f, &e), 0);
    snprintf(big, sizeof big, "%0*d=1", 33, 0);
    assert_int_equal(parse_url(a, big, &f, &e), -1);
    assert_int_equal(e.code, CG_ELIMIT);
    assert_int_equal(parse_url(a, "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", &f, &e), -1);
    assert_int_equal(e.code, CG_ELIMIT);
    assert_string_equal(e.field, "body");

    static const char *const known[] = {"a", "b", NULL};
    assert_int_equal(parse_url(a, "a=1&b=2", &f, &e), 0);
    assert_int_equal(cg_form_check_known(&f, known, &e), 0);
    assert_int_equal(parse_url(a, "a=1&zz=2", &f, &e), 0);
    assert_int_equal(cg_form_check_known(&f, known, &e), -1);
    assert_string_equal(e.field, "zz");
    cg_arena_free(a);
}

#define CT "multipart/form-data; boundary=XyZ"

static int parse_mp(cg_arena *a, const char *ct, const char *body, size_t len, cg_form *f,
                    cg_err *e)
{
    return cg_form_parse(a, ct, body, len, &LIM, f, e);
}

static void test_multipart(void **state)
{
    (void)state;
    cg_arena *a = cg_arena_new(4096);
    cg_form f;
    cg_err e;
    static const char body[] =
        "preamble\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"service_code\"\r\n"
        "\r\n"
        "0101\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; name=\"description\"\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "line one\r\nline two\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"media\"; filename=\"p\\\"1.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n"
        "\x89PNG\r\n\x1a\n\0\0bytes\r\n"
        "--XyZ--\r\n"
        "epilogue";
    size_t len = sizeof body - 1;
    assert_int_equal(parse_mp(a, CT, body, len, &f, &e), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(cg_form_get(&f, "service_code"), "0101");
    assert_string_equal(cg_form_get(&f, "description"), "line one\r\nline two");
    assert_int_equal(f.has_file, 1);
    assert_string_equal(f.file.filename, "p\"1.png");
    assert_string_equal(f.file.content_type, "image/png");
    assert_int_equal(f.file.len, 15);
    assert_memory_equal(f.file.data, "\x89PNG\r\n\x1a\n\0\0bytes", 15);
    /* the file points into the body, not a copy */
    assert_true((const char *)f.file.data > body && (const char *)f.file.data < body + len);

    /* a quoted boundary, first delimiter at the very start, no closing epilogue */
    static const char q[] = "--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a b--";
    assert_int_equal(parse_mp(a, "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"", q,
                              sizeof q - 1, &f, &e),
                     0);
    assert_string_equal(cg_form_get(&f, "x"), "1");

    /* errors */
    assert_int_equal(parse_mp(a, "multipart/form-data", q, sizeof q - 1, &f, &e), -1);
    assert_string_equal(e.field, "Content-Type");
    static const char unclosed[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nno end";
    assert_int_equal(parse_mp(a, CT, unclosed, sizeof unclosed - 1, &f, &e), -1);
    assert_string_equal(e.field, "body");
    assert_non_null(strstr(e.message, "description"));
    static const char noname[] = "--XyZ\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ--";
    assert_int_equal(parse_mp(a, CT, noname, sizeof noname - 1, &f, &e), -1);
    assert_non_null(strstr(e.message, "no field name"));
    static const char otherfile[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.pdf\"\r\n\r\n1\r\n"
        "--XyZ--";
    assert_int_equal(parse_mp(a, CT, otherfile, sizeof otherfile - 1, &f, &e), -1);
    assert_string_equal(e.field, "doc");
    static const char twofiles[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a\"\r\n\r\n1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"b\"\r\n\r\n2\r\n"
        "--XyZ--";
    assert_int_equal(parse_mp(a, CT, twofiles, sizeof twofiles - 1, &f, &e), -1);
    assert_string_equal(e.field, "media");
    static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\na\0b\r\n"
                              "--XyZ--";
    assert_int_equal(parse_mp(a, CT, nul, sizeof nul - 1, &f, &e), -1);
    assert_string_equal(e.field, "d");
    /* the file limit */
    char big[1400];
    int n = snprintf(big, sizeof big,
                     "--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a\"\r\n"
                     "\r\n");
    memset(big + n, 'x', 1025);
    n += 1025;
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n--XyZ--");
    assert_int_equal(parse_mp(a, CT, big, (size_t)n, &f, &e), -1);
    assert_int_equal(e.code, CG_ELIMIT);
    assert_string_equal(e.field, "media");
    /* a header block that never ends is bounded */
    char hdr[CG_FORM_MAX_HEADERS + 200];
    n = snprintf(hdr, sizeof hdr, "--XyZ\r\nX: ");
    memset(hdr + n, 'h', sizeof hdr - (size_t)n);
    assert_int_equal(parse_mp(a, CT, hdr, sizeof hdr, &f, &e), -1);
    assert_non_null(strstr(e.message, "headers"));

    /* dispatch by Content-Type */
    assert_int_equal(
        parse_mp(a, "application/x-www-form-urlencoded; charset=utf-8", "a=1", 3, &f, &e), 0);
    assert_string_equal(cg_form_get(&f, "a"), "1");
    assert_int_equal(parse_mp(a, "application/json", "{}", 2, &f, &e), -1);
    assert_int_equal(e.code, CG_EUNSUPPORTED);
    assert_string_equal(e.field, "Content-Type");
    assert_int_equal(parse_mp(a, NULL, "", 0, &f, &e), 0);
    assert_int_equal(f.n, 0);
    cg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_multipart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
