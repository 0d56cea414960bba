/* Unit tests for the pure parts of src/http: percent-decoding, the query parser and its typed
 * getters, route matching (literal before placeholder, 404 vs 405 with Allow), and the config
 * file loader's refusals. The server itself is tested over HTTP in tests/api/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/config.h"
#include "http/query.h"
#include "http/router.h"
#include "testutil.h"

static void test_url_decode(void **state)
{
    (void)state;
    cg_arena *a = cg_arena_new(4096);
    cg_err err;
    char *out;
    assert_int_equal(cg_url_decode(a, "a%20b+c%2Fd", 11, 1, &out, &err), 0);
    assert_string_equal(out, "a b c/d");
    assert_int_equal(cg_url_decode(a, "a+b", 3, 0, &out, &err), 0);
    assert_string_equal(out, "a+b");
    assert_int_equal(cg_url_decode(a, "%e7%bd%91", 9, 0, &out, &err), 0);
    assert_string_equal(out, "网");
    const char *bad[] = {"%", "%4", "%zz", "ab%g1", "%00", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(cg_url_decode(a, bad[i], strlen(bad[i]), 0, &out, &err), -1);
    cg_arena_free(a);
}

static void test_query(void **state)
{
    (void)state;
    cg_arena *a = cg_arena_new(4096);
    cg_err err;
    cg_query q;
    const char *qs = "lat=30.5&lon=120.25&&crs=gcj02&name=%E7%BD%91+x&empty=&bbox=1,2,3,4";
    assert_int_equal(cg_query_parse(a, qs, strlen(qs), &q, &err), 0);
    assert_int_equal(q.n, 6);
    assert_string_equal(cg_query_get(&q, "name"), "网 x");
    assert_string_equal(cg_query_get(&q, "empty"), "");
    assert_null(cg_query_get(&q, "missing"));
    double d;
    int present;
    assert_int_equal(cg_query_double(&q, "lat", 1, -90, 90, &d, &present, &err), 0);
    assert_true(present && d == 30.5);
    assert_int_equal(cg_query_double(&q, "lon", 1, -90, 90, &d, &present, &err), -1);
    assert_string_equal(err.field, "lon");
    assert_int_equal(cg_query_double(&q, "nope", 1, -90, 90, &d, &present, &err), -1);
    assert_string_equal(err.field, "nope");
    assert_int_equal(cg_query_double(&q, "nope", 0, -90, 90, &d, &present, &err), 0);
    assert_false(present);
    assert_int_equal(cg_query_double(&q, "crs", 1, -90, 90, &d, &present, &err), -1);
    assert_string_equal(err.field, "crs");
    assert_int_equal(cg_query_double(&q, "empty", 1, -90, 90, &d, &present, &err), -1);
    double box[4];
    assert_int_equal(cg_query_bbox(&q, "bbox", box, &present, &err), 0);
    assert_true(box[0] == 1 && box[3] == 4);
    static const char *const known[] = {"lat", "lon", "crs", "name", "empty", NULL};
    assert_int_equal(cg_query_check_known(&q, known, &err), -1);
    assert_string_equal(err.field, "bbox");

    /* repeated keys, nameless parameters, bad escapes, non-numbers */
    const char *bad[] = {"a=1&a=2", "=1", "a=%zz", "a%=1", NULL};
    const char *field[] = {"a", "query", "a", NULL};
    for (int i = 0; bad[i]; i++) {
        cg_err_clear(&err);
        assert_int_equal(cg_query_parse(a, bad[i], strlen(bad[i]), &q, &err), -1);
        if (field[i])
            assert_string_equal(err.field, field[i]);
    }
    const char *nums[] = {"n=nan", "n=inf", "n=0x10", "n=1e999", "n= 1", "n=1abc", NULL};
    for (int i = 0; nums[i]; i++) {
        assert_int_equal(cg_query_parse(a, nums[i], strlen(nums[i]), &q, &err), 0);
        assert_int_equal(cg_query_double(&q, "n", 1, -1e9, 1e9, &d, &present, &err), -1);
    }
    long n;
    const char *longs[] = {"n=+5", "n=5.0", "n=99999999999999999999", "n=11", NULL};
    for (int i = 0; longs[i]; i++) {
        assert_int_equal(cg_query_parse(a, longs[i], strlen(longs[i]), &q, &err), 0);
        assert_int_equal(cg_query_long(&q, "n", 0, 10, &n, &present, &err), -1);
        assert_string_equal(err.field, "n");
    }
    const char *boxes[] = {"b=1,2,3", "b=1,2,3,4,5", "b=3,2,1,4", "b=1,-91,2,3", "b=1,,2,3", NULL};
    for (int i = 0; boxes[i]; i++) {
        assert_int_equal(cg_query_parse(a, boxes[i], strlen(boxes[i]), &q, &err), 0);
        assert_int_equal(cg_query_bbox(&q, "b", box, &present, &err), -1);
    }
    /* too many parameters */
    char many[1024] = "";
    for (int i = 0; i <= CG_QUERY_MAX_PARAMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "k%d=1&", i);
    assert_int_equal(cg_query_parse(a, many, strlen(many), &q, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    cg_arena_free(a);
}

static void handler_a(cg_http_req *req)
{
    (void)req;
}

static void handler_b(cg_http_req *req)
{
    (void)req;
}

static void test_router(void **state)
{
    (void)state;
    static const cg_route routes[] = {
        {"GET", "/api/v1/grids", handler_a, "", CG_PERM_GRID_READ},
        {"GET", "/api/v1/grids/check", handler_b, "", CG_PERM_GRID_READ},
        {"GET", "/api/v1/grids/{code}", handler_a, "", CG_PERM_GRID_READ},
        {"DELETE", "/api/v1/grids/{code}", handler_b, "", CG_PERM_GRID_READ},
        {"GET", "/api/v1/grids/{code}/history", handler_b, "", CG_PERM_GRID_READ},
        {"GET", "/open311/v2/requests.{format}", handler_a, "", CG_PERM_PUBLIC},
        {"GET", "/open311/v2/requests/{id}.{format}", handler_b, "", CG_PERM_PUBLIC},
    };
    size_t n = sizeof routes / sizeof routes[0];
    cg_arena *a = cg_arena_new(4096);
    const cg_route *r;
    const char *params[CG_ROUTE_MAX_PARAMS];
    char allow[64];
    assert_int_equal(
        cg_route_match(routes, n, "GET", "/api/v1/grids/check", a, &r, params, allow, sizeof allow),
        CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[1]);
    assert_int_equal(cg_route_match(routes, n, "GET", "/api/v1/grids/330106", a, &r, params, allow,
                                    sizeof allow),
                     CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[2]);
    assert_string_equal(params[0], "330106");
    assert_int_equal(cg_route_match(routes, n, "HEAD", "/api/v1/grids/7/history", a, &r, params,
                                    allow, sizeof allow),
                     CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[4]);
    assert_string_equal(params[0], "7");
    assert_int_equal(
        cg_route_match(routes, n, "DELETE", "/api/v1/grids/7", a, &r, params, allow, sizeof allow),
        CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[3]);
    assert_int_equal(
        cg_route_match(routes, n, "POST", "/api/v1/grids/7", a, &r, params, allow, sizeof allow),
        CG_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, HEAD, DELETE");
    assert_int_equal(
        cg_route_match(routes, n, "PUT", "/api/v1/grids", a, &r, params, allow, sizeof allow),
        CG_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, HEAD");
    /* placeholders within a segment: the suffix after the last '.' */
    assert_int_equal(cg_route_match(routes, n, "GET", "/open311/v2/requests.json", a, &r, params,
                                    allow, sizeof allow),
                     CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[5]);
    assert_string_equal(params[0], "json");
    assert_int_equal(cg_route_match(routes, n, "GET", "/open311/v2/requests/a.b.xml", a, &r, params,
                                    allow, sizeof allow),
                     CG_ROUTE_FOUND);
    assert_ptr_equal(r, &routes[6]);
    assert_string_equal(params[0], "a.b");
    assert_string_equal(params[1], "xml");
    const char *missing[] = {"/open311/v2/requests",
                             "/open311/v2/requests.",
                             "/open311/v2/requests/12",
                             "/open311/v2/requests/.json",
                             "/open311/v2/requests/12.",
                             "/open311/v2/requestsjson",
                             "/api/v1/grids/",
                             "/api/v1/grids//history",
                             "/api/v1/grids/7/x",
                             "/api/v1",
                             "/api/v1/gridsx",
                             "/api/v1/grids/7/history/",
                             "",
                             "/",
                             NULL};
    for (int i = 0; missing[i]; i++)
        assert_int_equal(
            cg_route_match(routes, n, "GET", missing[i], a, &r, params, allow, sizeof allow),
            CG_ROUTE_NO_PATH);
    cg_arena_free(a);
}

static void test_config(void **state)
{
    (void)state;
    cg_http_config c;
    cg_err err;
    cg_http_config_defaults(&c);
    assert_int_equal(c.port, 8080);
    assert_true(c.threads >= 1);
    assert_int_equal(c.max_body, 1024 * 1024);
    assert_int_equal(cg_http_config_validate(&c, &err), 0);

    const char *path = cg_test_tmppath("civgrid.json");
    static const struct {
        const char *doc, *field;
    } bad[] = {
        {"{\"port\": 70000}", "port"},
        {"{\"port\": \"80\"}", "port"},
        {"{\"threads\": 0}", "threads"},
        {"{\"colour\": 1}", "colour"},
        {"{\"max_body\": -1}", "max_body"},
        {"{\"db\": 5}", "db"},
        {"{\"port\": 1e12}", "port"},
        {"[1, 2]", ""},
        {"{\"port\": 80, \"port\": 81}", ""},
        {"{\"open311_api_keys\": \"short\"}", "open311_api_keys"},
        {"{\"open311_api_keys\": \"good-key-001,bad key here\"}", "open311_api_keys"},
        {"{\"open311_api_keys\": \"good-key-001,\\u00e9t\\u00e9-key-02\"}", "open311_api_keys"},
        {"{\"open311_jurisdiction\": \"city.gov/x\"}", "open311_jurisdiction"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cg_http_config_defaults(&c);
        cg_test_write_file(path, bad[i].doc, strlen(bad[i].doc));
        cg_err_clear(&err);
        assert_int_equal(cg_http_config_load(&c, path, &err), -1);
        assert_string_equal(err.field, bad[i].field);
    }
    const char *good = "{\"db\": \"x.db\", \"bind\": \"::1\", \"port\": 0, \"threads\": 3, "
                       "\"access_log\": \"\", \"max_body\": 10}";
    cg_http_config_defaults(&c);
    cg_test_write_file(path, good, strlen(good));
    assert_int_equal(cg_http_config_load(&c, path, &err), 0);
    assert_string_equal(c.db, "x.db");
    assert_int_equal(c.port, 0);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.max_body, 10);
    assert_int_equal(cg_http_config_validate(&c, &err), 0);
    const char *o311 = "{\"open311_api_keys\": \"app-key-7f3a9c, kiosk.key_0b12\", "
                       "\"open311_jurisdiction\": \"civgrid.example.cn\", "
                       "\"open311_contact\": \"12345\"}";
    cg_test_write_file(path, o311, strlen(o311));
    assert_int_equal(cg_http_config_load(&c, path, &err), 0);
    assert_string_equal(c.open311_api_keys, "app-key-7f3a9c, kiosk.key_0b12");
    assert_string_equal(c.open311_jurisdiction, "civgrid.example.cn");
    assert_int_equal(cg_http_config_validate(&c, &err), 0);
    snprintf(c.bind, sizeof c.bind, "localhost:80");
    assert_int_equal(cg_http_config_validate(&c, &err), -1);
    assert_string_equal(err.field, "bind");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
