/*
 * Tests of the GeoJSON reader and writer (src/geo/geojson.c): the fixtures in tests/data
 * (geojson_*.json) for a valid hierarchy, a broken document and features broken in each
 * documented way; limits; GCJ-02 input; and writer output parsed back with jansson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "geo/geojson.h"
#include "testutil.h"

static char *load(const char *name, size_t *len)
{
    char *data;
    assert_int_equal(cg_read_file(cg_test_data(name), &data, len, 0), 0);
    return data;
}

static const char *prop_string(const cg_feature *f, const char *key)
{
    return json_string_value(json_object_get(f->props, key));
}

/* Area of a longitude/latitude rectangle on the sphere, in closed form. */
static double rectangle_area_m2(double lon0, double lat0, double lon1, double lat1)
{
    double r = CG_EARTH_RADIUS_M, d = M_PI / 180.0;
    return r * r * (lon1 - lon0) * d * (sin(lat1 * d) - sin(lat0 * d));
}

static void test_hierarchy_sample(void **state)
{
    (void)state;
    size_t len, n;
    char *data = load("geojson_hierarchy.json", &len);
    cg_feature *fs;
    cg_err err;
    cg_err_clear(&err);
    assert_int_equal(cg_geojson_read(data, len, NULL, &fs, &n, &err), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(fs[i].error, "");
        assert_int_equal(fs[i].has_geom, 1);
        assert_int_equal(fs[i].index, i);
    }
    assert_string_equal(prop_string(&fs[0], "name"), "西湖区");
    assert_string_equal(prop_string(&fs[2], "name"), "宝石社区");
    assert_string_equal(prop_string(&fs[3], "parent"), "330106001001");
    assert_true(json_is_null(json_object_get(fs[0].props, "parent")));
    assert_int_equal(json_integer_value(json_object_get(fs[3].props, "households")), 210);

    /* The community: a polygon with a hole and a second polygon. */
    const cg_mpoly *m = &fs[2].geom;
    assert_int_equal(m->n_polys, 2);
    assert_int_equal(m->polys[0].n_rings, 2);
    assert_int_equal(m->polys[1].n_rings, 1);
    assert_false(cg_mpoly_contains(m, (cg_point){120.015, 30.215})); /* in the hole */
    assert_true(cg_mpoly_contains(m, (cg_point){120.03, 30.23}));
    assert_true(cg_mpoly_contains(m, (cg_point){120.07, 30.21}));
    double expect = rectangle_area_m2(120.0, 30.2, 120.05, 30.25) -
                    rectangle_area_m2(120.01, 30.21, 120.02, 30.22) +
                    rectangle_area_m2(120.06, 30.2, 120.08, 30.22);
    assert_true(fabs(cg_mpoly_area_m2(m) - expect) / expect < 1e-3);
    /* A one-polygon geometry becomes a one-part multipolygon. */
    assert_int_equal(fs[3].geom.n_polys, 1);
    assert_int_equal(fs[3].geom.polys[0].rings[0].n, 5);
    assert_true(fs[3].geom.polys[0].rings[0].pts[1].x == 120.025);
    cg_features_free(fs, n);
    free(data);
}

static void test_broken_document(void **state)
{
    (void)state;
    size_t len, n = 99;
    char *data = load("geojson_broken.json", &len);
    cg_feature *fs = (cg_feature *)1;
    cg_err err;
    cg_err_clear(&err);
    assert_int_equal(cg_geojson_read(data, len, NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_non_null(strstr(err.message, "not valid JSON"));
    assert_non_null(strstr(err.message, "line 3"));
    assert_null(fs);
    assert_int_equal(n, 0);
    free(data);
}

static void test_bad_features(void **state)
{
    (void)state;
    size_t len, n;
    char *data = load("geojson_bad_features.json", &len);
    cg_feature *fs;
    cg_err err;
    cg_err_clear(&err);
    assert_int_equal(cg_geojson_read(data, len, NULL, &fs, &n, &err), 0);
    assert_int_equal(n, 8);
    assert_string_equal(fs[0].error, "");
    assert_int_equal(fs[0].has_geom, 1);
    assert_string_equal(fs[1].error,
                        "polygon 0 ring 1 is not closed (first (120.12, 30.22) != last (120.12, "
                        "30.23))");
    assert_non_null(strstr(fs[2].error, "polygon 0 ring 0: ring has 3 positions, a ring needs at "
                                        "least 4"));
    assert_non_null(
        strstr(fs[3].error, "polygon 1 ring 0 coordinate 5: longitude 200 out of range"));
    assert_string_equal(fs[4].error, "geometry type Point is not a polygon");
    assert_string_equal(fs[5].error, "properties is not an object");
    assert_true(json_is_object(fs[5].props));
    assert_string_equal(fs[6].error, "");
    assert_int_equal(fs[6].has_geom, 0);
    assert_string_equal(prop_string(&fs[6], "name"), "no geometry");
    assert_non_null(strstr(fs[7].error, "\"Thing\""));
    for (size_t i = 1; i < n; i++)
        assert_int_equal(fs[i].has_geom, 0);
    cg_features_free(fs, n);
    free(data);
}

static int read_text(const char *text, const cg_geojson_read_opts *opts, cg_err *err, size_t *n_out)
{
    cg_feature *fs;
    size_t n;
    cg_err_clear(err);
    int rc = cg_geojson_read(text, strlen(text), opts, &fs, &n, err);
    if (n_out)
        *n_out = n;
    cg_features_free(fs, n);
    return rc;
}

static void test_document_shape_errors(void **state)
{
    (void)state;
    cg_err err;
    assert_int_equal(read_text("", NULL, &err, NULL), -1);
    assert_non_null(strstr(err.message, "empty"));
    assert_int_equal(read_text("[1, 2]", NULL, &err, NULL), -1);
    assert_non_null(strstr(err.message, "JSON array, expected a GeoJSON FeatureCollection"));
    assert_int_equal(read_text("{\"type\":\"Polygon\",\"coordinates\":[]}", NULL, &err, NULL), -1);
    assert_non_null(strstr(err.message, "GeoJSON Polygon, expected a FeatureCollection"));
    assert_int_equal(read_text("{\"type\":\"FeatureCollection\"}", NULL, &err, NULL), -1);
    assert_non_null(strstr(err.message, "no \"features\" array"));
    assert_int_equal(read_text("{\"features\":[]}", NULL, &err, NULL), -1);
    assert_non_null(strstr(err.message, "no \"type\""));
    assert_int_equal(read_text("{\"type\":\"FeatureCollection\",\"type\":\"x\",\"features\":[]}",
                               NULL, &err, NULL),
                     -1);
    assert_non_null(strstr(err.message, "duplicate"));
    size_t n;
    assert_int_equal(read_text("{\"type\":\"FeatureCollection\",\"features\":[]}", NULL, &err, &n),
                     0);
    assert_int_equal(n, 0);
}

static void test_single_feature(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"Feature\",\"properties\":{\"code\":\"1\"},\"geometry\":"
                       "{\"type\":\"Polygon\",\"coordinates\":[[[1,2],[3,2],[3,4],[1,2]]]}}";
    cg_feature *fs;
    size_t n;
    cg_err err;
    assert_int_equal(cg_geojson_read(text, strlen(text), NULL, &fs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fs[0].has_geom, 1);
    assert_string_equal(prop_string(&fs[0], "code"), "1");
    assert_true(fs[0].geom.polys[0].rings[0].pts[2].y == 4);
    cg_features_free(fs, n);
}

static void test_limits(void **state)
{
    (void)state;
    size_t len;
    char *data = load("geojson_hierarchy.json", &len);
    cg_feature *fs;
    size_t n;
    cg_err err;
    cg_geojson_read_opts opts = {CG_CRS_WGS84, 3, 0};
    assert_int_equal(cg_geojson_read(data, len, &opts, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_non_null(strstr(err.message, "4 features, more than the limit of 3"));
    opts.max_features = 4;
    opts.max_vertices = 10;
    assert_int_equal(cg_geojson_read(data, len, &opts, &fs, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(fs[0].error, "");
    /* The community has 15 vertices. */
    assert_non_null(strstr(fs[2].error, "more than 10 vertices"));
    assert_int_equal(fs[2].has_geom, 0);
    cg_features_free(fs, n);
    free(data);
}

static void test_nesting_depth(void **state)
{
    (void)state;
    cg_err err;
    for (size_t depth = 65; depth <= 100000; depth *= 40) {
        char *text = malloc(depth * 2 + 1);
        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        text[depth * 2] = '\0';
        assert_int_equal(read_text(text, NULL, &err, NULL), -1);
        assert_int_equal(err.code, CG_ELIMIT);
        assert_non_null(strstr(err.message, "more than 64 levels deep"));
        free(text);
    }
    /* Brackets inside strings do not count. */
    char text[400];
    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",\"features\":[],\"note\":\"%0100d\"}", 0);
    memset(strstr(text, "\"0") + 1, '[', 100);
    assert_int_equal(read_text(text, NULL, &err, NULL), 0);
}

static void test_gcj02_input(void **state)
{
    (void)state;
    cg_point wgs[4] = {{120.1, 30.2}, {120.2, 30.2}, {120.2, 30.3}, {120.1, 30.2}};
    char text[1024];
    int off = snprintf(text, sizeof text,
                       "{\"type\":\"Feature\",\"properties\":null,\"geometry\":"
                       "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int i = 0; i < 4; i++) {
        cg_point g = cg_gcj02_from_wgs84(wgs[i]);
        off += snprintf(text + off, sizeof text - (size_t)off, "%s[%.12f,%.12f]", i ? "," : "", g.x,
                        g.y);
    }
    snprintf(text + off, sizeof text - (size_t)off, "]]}}");
    cg_geojson_read_opts opts = {CG_CRS_GCJ02, 0, 0};
    cg_feature *fs;
    size_t n;
    cg_err err;
    assert_int_equal(cg_geojson_read(text, strlen(text), &opts, &fs, &n, &err), 0);
    assert_string_equal(fs[0].error, "");
    const cg_ring *r = &fs[0].geom.polys[0].rings[0];
    for (int i = 0; i < 4; i++) {
        assert_true(fabs(r->pts[i].x - wgs[i].x) < 1e-6);
        assert_true(fabs(r->pts[i].y - wgs[i].y) < 1e-6);
    }
    /* Without the option the same text is read as WGS84, hundreds of metres away. */
    cg_features_free(fs, n);
    assert_int_equal(cg_geojson_read(text, strlen(text), NULL, &fs, &n, &err), 0);
    assert_true(fabs(fs[0].geom.polys[0].rings[0].pts[0].x - wgs[0].x) > 1e-3);
    cg_features_free(fs, n);
}

static void test_parse_geometry(void **state)
{
    (void)state;
    json_t *g =
        json_loads("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
                   "[[[2,0],[3,0],[3,1],[2,0]]]]}",
                   0, NULL);
    cg_mpoly m;
    cg_err err;
    assert_int_equal(cg_geojson_parse_geometry(g, CG_CRS_WGS84, &m, &err), 0);
    assert_int_equal(m.n_polys, 2);
    assert_true(m.polys[1].rings[0].pts[1].x == 3);
    cg_mpoly_free(&m);
    json_decref(g);
    assert_int_equal(cg_geojson_parse_geometry(json_null(), CG_CRS_WGS84, &m, &err), -1);
    assert_non_null(strstr(err.message, "geometry is a null"));
    g = json_loads("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[\"x\",1],[0,0]]]}", 0,
                   NULL);
    assert_int_equal(cg_geojson_parse_geometry(g, CG_CRS_WGS84, &m, &err), -1);
    assert_non_null(strstr(err.message, "polygon 0 ring 0 coordinate 2 is not a [longitude, "
                                        "latitude] array of numbers"));
    assert_int_equal(m.n_polys, 0);
    json_decref(g);
}

/* Builds a one-ring polygon from pts (closed by the helper). */
static void ring_mpoly(cg_mpoly *m, const cg_point *pts, size_t n)
{
    m->polys = NULL;
    m->n_polys = 0;
    cg_mpoly_add_ring_polygon(m, pts, n);
}

static void test_writer_round_trip(void **state)
{
    (void)state;
    cg_point pts[] = {
        {120.123456789, 30.1}, {-0.00000001, 30.15}, {179.99999999, -89.5}, {120.0000000499, 30.2}};
    cg_mpoly m;
    ring_mpoly(&m, pts, 4);
    int precisions[] = {7, 0, 3, 15, 17};
    for (size_t t = 0; t < sizeof precisions / sizeof *precisions; t++) {
        int prec = precisions[t];
        cg_buf b;
        cg_buf_init(&b);
        cg_geojson_write_mpoly(&b, &m, CG_CRS_WGS84, prec);
        json_error_t jerr;
        json_t *doc = json_loads(b.data, 0, &jerr);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "type")), "MultiPolygon");
        json_t *ring = json_array_get(json_array_get(json_object_get(doc, "coordinates"), 0), 0);
        assert_int_equal(json_array_size(ring), 5);
        double tolerance = 0.5 * pow(10, -prec) * (1 + 1e-9);
        for (size_t k = 0; k < 5; k++) {
            json_t *p = json_array_get(ring, k);
            const cg_point *want = &m.polys[0].rings[0].pts[k];
            double x = json_number_value(json_array_get(p, 0));
            double y = json_number_value(json_array_get(p, 1));
            if (prec == 17) {
                assert_true(x == want->x && y == want->y);
            } else {
                assert_true(fabs(x - want->x) <= tolerance);
                assert_true(fabs(y - want->y) <= tolerance);
            }
        }
        assert_null(strstr(b.data, "-0,"));
        assert_null(strstr(b.data, "-0]"));
        if (prec == 7) {
            /* Trailing zeros trimmed; rounding up carries into the integer part. */
            assert_non_null(strstr(b.data, "[120.1234568,30.1]"));
            assert_non_null(strstr(b.data, "[0,30.15]"));
            assert_non_null(strstr(b.data, "[180,-89.5]"));
            assert_non_null(strstr(b.data, "[120,30.2]"));
        }
        json_decref(doc);
        cg_buf_free(&b);
    }
    cg_mpoly_free(&m);
}

static void test_writer_gcj02(void **state)
{
    (void)state;
    cg_point pts[] = {{116.39, 39.9}, {116.4, 39.9}, {116.4, 39.91}};
    cg_mpoly m;
    ring_mpoly(&m, pts, 3);
    cg_buf b;
    cg_buf_init(&b);
    cg_geojson_write_mpoly(&b, &m, CG_CRS_GCJ02, 9);
    json_t *doc = json_loads(b.data, 0, NULL);
    assert_non_null(doc);
    json_t *first = json_array_get(
        json_array_get(json_array_get(json_object_get(doc, "coordinates"), 0), 0), 0);
    /* Written in GCJ-02: shifted hundreds of metres from the WGS84 input. */
    assert_true(fabs(json_number_value(json_array_get(first, 0)) - 116.39) > 1e-3);
    cg_mpoly back;
    cg_err err;
    assert_int_equal(cg_geojson_parse_geometry(doc, CG_CRS_GCJ02, &back, &err), 0);
    for (size_t k = 0; k < 4; k++) {
        assert_true(fabs(back.polys[0].rings[0].pts[k].x - m.polys[0].rings[0].pts[k].x) < 1e-6);
        assert_true(fabs(back.polys[0].rings[0].pts[k].y - m.polys[0].rings[0].pts[k].y) < 1e-6);
    }
    cg_mpoly_free(&back);
    json_decref(doc);
    cg_buf_free(&b);
    cg_mpoly_free(&m);
}

static void test_write_string(void **state)
{
    (void)state;
    const char *in = "a\"b\\c/\n\t\r\b\f\x01\x1f 街道 😀";
    cg_buf b;
    cg_buf_init(&b);
    cg_json_write_string(&b, in);
    assert_string_equal(b.data, "\"a\\\"b\\\\c/\\n\\t\\r\\b\\f\\u0001\\u001f 街道 😀\"");
    json_t *s = json_loads(b.data, JSON_DECODE_ANY, NULL);
    assert_non_null(s);
    assert_string_equal(json_string_value(s), in);
    json_decref(s);

    /* Invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong slash and a
     * surrogate) becomes U+FFFD so the output stays valid JSON. */
    cg_buf_reset(&b);
    cg_json_write_string(&b, "x\x80y\xe8\xa1z\xc0\xaf\xed\xa0\x80");
    s = json_loads(b.data, JSON_DECODE_ANY, NULL);
    assert_non_null(s);
    assert_string_equal(json_string_value(s), "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd"
                                              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(s);

    cg_buf_reset(&b);
    cg_json_write_string(&b, NULL);
    assert_string_equal(b.data, "null");
    cg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hierarchy_sample), cmocka_unit_test(test_broken_document),
        cmocka_unit_test(test_bad_features),     cmocka_unit_test(test_document_shape_errors),
        cmocka_unit_test(test_single_feature),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_nesting_depth),    cmocka_unit_test(test_gcj02_input),
        cmocka_unit_test(test_parse_geometry),   cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_writer_gcj02),     cmocka_unit_test(test_write_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
