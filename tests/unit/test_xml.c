/* Unit tests for src/core/xml.c: escaping, replacement of what XML cannot carry, nesting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/buf.h"
#include "core/xml.h"
#include "testutil.h"

static const char *escaped(cg_buf *b, const char *s, size_t len)
{
    cg_buf_reset(b);
    cg_xml_escape(b, s, len);
    return b->data;
}

static void test_escape(void **state)
{
    (void)state;
    cg_buf b;
    cg_buf_init(&b);
    assert_string_equal(escaped(&b, "a&b<c>d\"e'f", 11), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    assert_string_equal(escaped(&b, "t\tn\nr\r", 6), "t&#9;n&#10;r&#13;");
    /* C0 controls XML cannot carry, and NUL inside the given length */
    assert_string_equal(escaped(&b,
                                "a\x01"
                                "b\x1f"
                                "c\0d",
                                7),
                        "a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD"
                        "c\xEF\xBF\xBD"
                        "d");
    /* UTF-8 passes through: Chinese, an emoji */
    assert_string_equal(escaped(&b, "井盖\xF0\x9F\x98\x80", 10), "井盖\xF0\x9F\x98\x80");
    /* not UTF-8: a lone continuation byte, a truncated sequence, an overlong '<', a surrogate,
     * U+FFFE */
    assert_string_equal(escaped(&b, "\x80x", 2), "\xEF\xBF\xBDx");
    assert_string_equal(escaped(&b, "\xE4\xB8", 2), "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(escaped(&b, "\xC0\xBC", 2), "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(escaped(&b, "\xED\xA0\x80", 3), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(escaped(&b, "\xEF\xBF\xBE", 3), "\xEF\xBF\xBD");
    assert_string_equal(escaped(&b, "", 0), "");
    cg_buf_free(&b);
}

static void test_document(void **state)
{
    (void)state;
    cg_buf b;
    cg_buf_init(&b);
    cg_xml x;
    cg_xml_begin(&x, &b);
    cg_xml_open(&x, "service_requests");
    cg_xml_open(&x, "request");
    cg_xml_elementf(&x, "service_request_id", "%d", 12);
    cg_xml_element(&x, "description", "<script>&");
    cg_xml_element(&x, "account_id", NULL);
    cg_xml_close(&x);
    cg_xml_open(&x, "request");
    cg_xml_end(&x);
    assert_string_equal(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<service_requests><request><service_request_id>12"
                                "</service_request_id><description>&lt;script&gt;&amp;"
                                "</description><account_id/></request><request></request>"
                                "</service_requests>\n");
    assert_int_equal(x.depth, 0);
    /* a long formatted value */
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cg_buf_reset(&b);
    cg_xml_begin(&x, &b);
    cg_xml_elementf(&x, "d", "%s&", big);
    assert_non_null(strstr(b.data, "a&amp;</d>"));
    assert_int_equal(strlen(b.data), strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") +
                                         strlen("<d></d>") + 599 + 5);
    cg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
