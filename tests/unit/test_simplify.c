/*
 * Tests for geo/simplify.c: Douglas–Peucker on lines and rings, clipping polylines to a box, and
 * the Web Mercator tile arithmetic the base-map tiles are cut by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "geo/simplify.h"

static void test_dp_keeps_ends_and_corners(void **state)
{
    (void)state;
    /* An L with small wiggles: the wiggles go, the corner stays. */
    cg_point pts[] = {{0, 0}, {1, 0.1}, {2, -0.1}, {3, 0}, {3.1, 1}, {2.9, 2}, {3, 3}};
    unsigned char keep[7];
    size_t kept = cg_simplify_dp(pts, 7, 0.5, keep);
    assert_int_equal(kept, 3);
    assert_true(keep[0] && keep[3] && keep[6]);
    assert_false(keep[1] || keep[2] || keep[4] || keep[5]);
    /* A tolerance below the wiggles keeps everything. */
    assert_int_equal(cg_simplify_dp(pts, 7, 0.05, keep), 7);
    /* No tolerance: no change; short lines stay whole. */
    assert_int_equal(cg_simplify_dp(pts, 7, 0, keep), 7);
    assert_int_equal(cg_simplify_dp(pts, 2, 10, keep), 2);
}

static void test_dp_bound_holds(void **state)
{
    (void)state;
    /* Every dropped vertex lies within the tolerance of the simplified line, and a larger
     * tolerance never keeps more. */
    enum { N = 2000 };
    cg_point *pts = malloc(N * sizeof *pts);
    unsigned char *keep = malloc(N), *keep2 = malloc(N);
    srand(7);
    for (size_t i = 0; i < N; i++)
        pts[i] = (cg_point){i * 0.1, sin(i * 0.01) * 30 + (rand() % 100) / 100.0};
    size_t fine = cg_simplify_dp(pts, N, 0.5, keep);
    size_t coarse = cg_simplify_dp(pts, N, 5, keep2);
    assert_true(coarse < fine);
    assert_true(fine < N);
    size_t a = 0;
    for (size_t b = 1; b < N; b++) {
        if (!keep[b])
            continue;
        for (size_t i = a + 1; i < b; i++) {
            double dx = pts[b].x - pts[a].x, dy = pts[b].y - pts[a].y;
            double len = sqrt(dx * dx + dy * dy);
            double d = fabs(dy * (pts[i].x - pts[a].x) - dx * (pts[i].y - pts[a].y)) / len;
            assert_true(d <= 0.5 + 1e-9);
        }
        a = b;
    }
    free(pts);
    free(keep);
    free(keep2);
}

static void test_ring_never_collapses(void **state)
{
    (void)state;
    cg_point sq[] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}};
    unsigned char keep[5];
    /* A square larger than the tolerance keeps its corners. */
    assert_int_equal(cg_simplify_ring_dp(sq, 5, 1, keep), 5);
    /* Plain DP on a closed ring would keep only the first and last (the same point); the ring
     * variant keeps the farthest corner as well, so the caller can tell "tiny" (< 4) apart. */
    assert_int_equal(cg_simplify_dp(sq, 5, 100, keep), 2);
    assert_true(cg_simplify_ring_dp(sq, 5, 100, keep) < 4);
}

static void test_clip(void **state)
{
    (void)state;
    cg_bbox box = {0, 0, 10, 10};
    cg_point out[16];
    size_t starts[9];
    /* In, out, back in: two parts, cut at the edges. */
    cg_point zig[] = {{-5, 5}, {5, 5}, {5, 15}, {8, 15}, {8, 5}};
    size_t parts = cg_clip_polyline(zig, 5, &box, out, starts);
    assert_int_equal(parts, 2);
    assert_int_equal(starts[0], 0);
    assert_int_equal(starts[1], 3);
    assert_int_equal(starts[2], 5);
    assert_true(out[0].x == 0 && out[0].y == 5);
    assert_true(out[1].x == 5 && out[1].y == 5);
    assert_true(out[2].x == 5 && out[2].y == 10);
    assert_true(out[3].x == 8 && out[3].y == 10);
    assert_true(out[4].x == 8 && out[4].y == 5);
    /* Wholly inside: one part, unchanged. */
    cg_point in[] = {{1, 1}, {2, 2}, {3, 1}};
    assert_int_equal(cg_clip_polyline(in, 3, &box, out, starts), 1);
    assert_int_equal(starts[1], 3);
    /* Wholly outside, and touching a corner only: nothing. */
    cg_point away[] = {{20, 20}, {30, 30}};
    assert_int_equal(cg_clip_polyline(away, 2, &box, out, starts), 0);
    cg_point corner[] = {{-1, 8}, {2, 11}}; /* cuts the corner (0, 10) */
    assert_int_equal(cg_clip_polyline(corner, 2, &box, out, starts), 1);
    cg_point graze[] = {{-1, 1}, {1, -1}}; /* passes the corner (0, 0) only */
    assert_int_equal(cg_clip_polyline(graze, 2, &box, out, starts), 0);
}

static void test_mercator(void **state)
{
    (void)state;
    cg_point w = cg_mercator_from_lonlat((cg_point){0, 0});
    assert_float_equal(w.x, 0.5, 1e-12);
    assert_float_equal(w.y, 0.5, 1e-12);
    cg_point hz = {120.16, 30.27};
    cg_point back = cg_mercator_to_lonlat(cg_mercator_from_lonlat(hz));
    assert_float_equal(back.x, hz.x, 1e-9);
    assert_float_equal(back.y, hz.y, 1e-9);
    /* The tile holding Hangzhou at z14 is 13660/6745 (as any slippy map numbers it). */
    cg_point t = cg_mercator_from_lonlat(hz);
    assert_int_equal((long)(t.x * 16384), 13660);
    assert_int_equal((long)(t.y * 16384), 6745);
    cg_bbox b = cg_tile_world_bbox(14, 13660, 6745);
    assert_true(b.min_x <= t.x && t.x < b.max_x && b.min_y <= t.y && t.y < b.max_y);
    /* Beyond the square world, latitudes clamp. */
    assert_float_equal(cg_mercator_from_lonlat((cg_point){0, 89.9}).y, 0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_keeps_ends_and_corners),
        cmocka_unit_test(test_dp_bound_holds),
        cmocka_unit_test(test_ring_never_collapses),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_mercator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
