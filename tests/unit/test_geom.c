/* Unit tests for src/geo/geom.c and crs.c: areas, point in polygon, WKB, GCJ-02. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/crs.h"
#include "geo/geom.h"
#include "testutil.h"

/* Area of a lon/lat rectangle on the sphere: R^2 * dlon * (sin lat2 - sin lat1). */
static double rect_area(double x0, double y0, double x1, double y1)
{
    double r = CG_EARTH_RADIUS_M, d = M_PI / 180;
    return r * r * (x1 - x0) * d * (sin(y1 * d) - sin(y0 * d));
}

static cg_mpoly square_with_hole(void)
{
    cg_mpoly m = {0};
    cg_point outer[] = {{120, 30}, {120.1, 30}, {120.1, 30.1}, {120, 30.1}};
    cg_mpoly_add_ring_polygon(&m, outer, 4);
    cg_polygon *p = &m.polys[0];
    p->rings = realloc(p->rings, sizeof(cg_ring) * 2);
    p->n_rings = 2;
    cg_point hole[] = {
        {120.02, 30.02}, {120.02, 30.04}, {120.04, 30.04}, {120.04, 30.02}, {120.02, 30.02}};
    p->rings[1].n = 5;
    p->rings[1].pts = malloc(sizeof hole);
    memcpy(p->rings[1].pts, hole, sizeof hole);
    return m;
}

static void test_area_and_contains(void **state)
{
    (void)state;
    cg_mpoly m = square_with_hole();
    double expected = rect_area(120, 30, 120.1, 30.1) - rect_area(120.02, 30.02, 120.04, 30.04);
    assert_true(fabs(cg_mpoly_area_m2(&m) - expected) / expected < 1e-9);
    assert_true(cg_mpoly_contains(&m, (cg_point){120.05, 30.05}));
    assert_false(cg_mpoly_contains(&m, (cg_point){120.03, 30.03})); /* in the hole */
    assert_false(cg_mpoly_contains(&m, (cg_point){120.2, 30.05}));
    cg_bbox b = cg_mpoly_bbox(&m);
    assert_true(b.min_x == 120 && b.max_y == 30.1);
    cg_point c = cg_mpoly_centroid(&m);
    assert_true(c.x > 120.04 && c.x < 120.06 && c.y > 30.04 && c.y < 30.06);
    cg_mpoly_free(&m);
}

static void test_wkb_round_trip(void **state)
{
    (void)state;
    cg_mpoly m = square_with_hole();
    uint8_t *wkb;
    size_t len;
    assert_int_equal(cg_mpoly_to_wkb(&m, &wkb, &len), 0);
    cg_mpoly back;
    cg_err e = {0};
    assert_int_equal(cg_mpoly_from_wkb(wkb, len, &back, &e), 0);
    assert_int_equal(back.n_polys, 1);
    assert_int_equal(back.polys[0].n_rings, 2);
    assert_memory_equal(back.polys[0].rings[1].pts, m.polys[0].rings[1].pts, 5 * sizeof(cg_point));
    /* every truncation is refused cleanly */
    for (size_t cut = 0; cut < len; cut += 7) {
        cg_mpoly t;
        assert_int_equal(cg_mpoly_from_wkb(wkb, cut, &t, &e), -1);
    }
    free(wkb);
    cg_mpoly_free(&back);
    cg_mpoly_free(&m);
}

/* Case locations are stored at 7 decimals: the rounded value is the nearest double to the
 * 7-decimal number, so writing it with 7 decimals and reading it back gives it again. */
static void test_coord_round(void **state)
{
    (void)state;
    assert_true(cg_coord_round(120.123456789) == 120.1234568);
    assert_true(cg_coord_round(-33.85678449) == -33.8567845);
    assert_true(cg_coord_round(180.0) == 180.0);
    assert_true(cg_coord_round(0.00000004) == 0.0);
    assert_true(isnan(cg_coord_round(NAN)));
    char text[32];
    for (double v = -179.99999995; v < 180; v += 3.3333333337) {
        double r = cg_coord_round(v);
        snprintf(text, sizeof text, "%.7f", r);
        assert_true(strtod(text, NULL) == r);
        assert_true(fabs(r - v) <= 0.5e-7 + 1e-12);
    }
}

static void test_point_check(void **state)
{
    (void)state;
    cg_err e = {0};
    assert_int_equal(cg_point_check((cg_point){120, 30}, "p", &e), 0);
    assert_int_equal(cg_point_check((cg_point){200, 30}, "lon", &e), -1);
    assert_string_equal(e.field, "lon");
    assert_int_equal(cg_point_check((cg_point){120, NAN}, "lat", &e), -1);
}

static void test_gcj02(void **state)
{
    (void)state;
    /* Tiananmen: WGS84 (116.391275, 39.906217) is about (116.397510, 39.907620) in GCJ-02,
     * an offset of several hundred metres as every map service shows. */
    cg_point w = {116.391275, 39.906217};
    cg_point g = cg_gcj02_from_wgs84(w);
    double shift = cg_distance_m(w, g);
    assert_true(shift > 300 && shift < 800);
    assert_true(fabs(g.x - 116.39751) < 2e-4 && fabs(g.y - 39.90762) < 2e-4);
    cg_point back = cg_wgs84_from_gcj02(g);
    assert_true(cg_distance_m(back, w) < 0.01);
    /* Outside China nothing moves. */
    cg_point monaco = {7.42, 43.73};
    cg_point same = cg_gcj02_from_wgs84(monaco);
    assert_true(same.x == monaco.x && same.y == monaco.y);
    cg_crs crs;
    cg_err e = {0};
    assert_int_equal(cg_crs_parse("GCJ-02", "crs", &crs, &e), 0);
    assert_int_equal(crs, CG_CRS_GCJ02);
    assert_int_equal(cg_crs_parse("bd09", "crs", &crs, &e), -1);
    assert_string_equal(e.field, "crs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_area_and_contains),
        cmocka_unit_test(test_wkb_round_trip),
        cmocka_unit_test(test_point_check),
        cmocka_unit_test(test_coord_round),
        cmocka_unit_test(test_gcj02),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
