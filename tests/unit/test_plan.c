/*
 * Tests of the planning layer (src/plan/segtime.c, isochrone.c, coverage.c, dispatch.c,
 * posts.c) on a constructed street whose answers follow from geometry: a straight two-way
 * residential road from x = 0 to x = 400 m (nodes every 100 m) with a 100 m oneway spur going
 * north from x = 100, on a local metric frame. Times are metres over the profile's default
 * residential speed, so every expected length, share, time and order below is worked out by
 * hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/coverage.h"
#include "plan/dispatch.h"
#include "plan/isochrone.h"
#include "plan/posts.h"
#include "testutil.h"

#define LAT0 30.0
#define LON0 120.0
static cg_point at_m(double x, double y)
{
    double my = CG_EARTH_RADIUS_M * M_PI / 180, mx = my * cos(LAT0 * M_PI / 180);
    return (cg_point){LON0 + x / mx, LAT0 + y / my};
}

static double mps; /* residential car speed in m/s */
static double secs(double metres)
{
    return metres / mps;
}

typedef struct {
    cg_way w[4];
    size_t n;
    cg_graph *g;
    cg_segs segs;
    cg_segtimes st;
    cg_search *s;
} street;

static void way(street *t, int64_t id, int oneway, int n, const int64_t *ids, const double *xy)
{
    cg_way *w = &t->w[t->n++];
    memset(w, 0, sizeof *w);
    w->id = id;
    w->road_class = CG_ROAD_RESIDENTIAL;
    w->oneway = oneway;
    w->n = (size_t)n;
    w->node_ids = malloc(sizeof(int64_t) * n);
    w->pts = malloc(sizeof(cg_point) * n);
    for (int i = 0; i < n; i++) {
        w->node_ids[i] = ids[i];
        w->pts[i] = at_m(xy[2 * i], xy[2 * i + 1]);
    }
}

static int setup(void **state)
{
    street *t = calloc(1, sizeof *t);
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    mps = sp.kmh[CG_ROAD_RESIDENTIAL] / 3.6;
    way(t, 1, 0, 5, (int64_t[]){1, 2, 3, 4, 5}, (double[]){0, 0, 100, 0, 200, 0, 300, 0, 400, 0});
    /* The spur: a oneway loop (100,0) -> (100,100) -> (200,0), so it stays in the strongly
     * connected component (a oneway dead end would be dropped). */
    way(t, 2, 1, 3, (int64_t[]){2, 6, 3}, (double[]){100, 0, 100, 100, 200, 0});
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    o.build_ch = 1;
    cg_err err;
    cg_graph_stats st;
    if (cg_graph_build_ways(t->w, t->n, &o, &t->g, &st, &err) != 0)
        fail_msg("build: %s", err.message);
    assert_int_equal(st.nodes, 6);
    assert_int_equal(cg_segs_build(t->g, &t->segs, &err), 0);
    assert_int_equal(t->segs.n, 6); /* four street segments, two spur segments */
    assert_int_equal(cg_segtimes_init(&t->st, &t->segs, &err), 0);
    assert_int_equal(cg_search_new(t->g, &t->s, &err), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    street *t = *state;
    cg_search_free(t->s);
    cg_segtimes_free(&t->st);
    cg_segs_free(&t->segs);
    cg_graph_free(t->g);
    for (size_t i = 0; i < t->n; i++)
        cg_way_free(&t->w[i]);
    free(t);
    return 0;
}

static cg_snap snap(const street *t, double x, double y)
{
    cg_snap sn;
    cg_err err;
    if (cg_graph_snap(t->g, at_m(x, y), CG_SNAP_MAX_M, &sn, &err) != 0)
        fail_msg("snap: %s", err.message);
    return sn;
}

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* From x = 0 within the time of 150 m: the street up to x = 150 (cut mid-edge), and the first
 * 50 m of the spur, whose foot at x = 100 is reached with 50 m of budget left. */
static void test_isochrone_cut(void **state)
{
    street *t = *state;
    cg_snap at = snap(t, 0, 0);
    cg_isochrone iso;
    cg_err err;
    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, secs(150), 0, &iso, &err), 0);
    NEAR(iso.metres, 150 + 50, 0.5);
    double far = 0;
    for (size_t i = 0; i < iso.n_pieces; i++) {
        cg_point a = cg_segs_point(&t->segs, iso.pieces[i].seg, iso.pieces[i].lo);
        cg_point b = cg_segs_point(&t->segs, iso.pieces[i].seg, iso.pieces[i].hi);
        far = fmax(far, fmax(cg_distance_m(at_m(0, 0), a), cg_distance_m(at_m(0, 0), b)));
    }
    NEAR(far, 150, 0.5);
    assert_int_equal(iso.has_polygon, 0);
    cg_isochrone_free(&iso);

    /* With the polygon: a 20 m buffer around 200 m of lines covers about 200 * 40 m2 plus the
     * round caps, and contains the start but not a point 100 m north of x = 300. */
    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, secs(150), 20, &iso, &err), 0);
    assert_int_equal(iso.has_polygon, 1);
    assert_true(iso.polygon_m2 > 200 * 40 * 0.9 && iso.polygon_m2 < 200 * 40 + 3 * 1300);
    assert_true(cg_mpoly_contains(&iso.polygon, at_m(10, 5)));
    assert_false(cg_mpoly_contains(&iso.polygon, at_m(300, 100)));
    cg_buf b;
    cg_buf_init(&b);
    cg_isochrone_geojson(&t->segs, &iso, &b);
    assert_non_null(strstr(b.data, "\"MultiPolygon\""));
    cg_buf_free(&b);
    cg_isochrone_free(&iso);

    /* From mid-edge x = 350 within 100 m: back to 250, forward to the end at 400. */
    at = snap(t, 350, 0);
    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, secs(100), 0, &iso, &err), 0);
    NEAR(iso.metres, 150, 0.5);
    cg_isochrone_free(&iso);

    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, 0, 0, &iso, &err), -1);
    assert_string_equal(err.field, "budget");
    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, 86401, 0, &iso, &err), -1);
}

/* The oneway spur is covered only from its foot: from x = 200 within 120 m the street covers
 * 80..320 (240 m) and the spur nothing, because its lanes lead into x = 200, not out of it. */
static void test_oneway_cut(void **state)
{
    street *t = *state;
    cg_snap at = snap(t, 200, 0);
    cg_isochrone iso;
    cg_err err;
    assert_int_equal(cg_isochrone_compute(&t->st, t->s, &at, secs(120), 0, &iso, &err), 0);
    /* 80..100 (20) + 100..200 (100) + 200..320 (120) = 240, and from x = 100 the spur's first
     * 20 m (reached at 100 m with 20 m of budget left). */
    NEAR(iso.metres, 240 + 20, 0.5);
    cg_isochrone_free(&iso);
}

/* Grids: A = x < 200, B = x > 200 (rectangles around the street; the spur is in A by its
 * midpoints at (100,50) and (150,50)). */
static void grids(cg_mpoly *a, cg_mpoly *b)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    cg_point ra[] = {at_m(-10, -50), at_m(200, -50), at_m(200, 150), at_m(-10, 150)};
    cg_point rb[] = {at_m(200, -50), at_m(410, -50), at_m(410, 150), at_m(200, 150)};
    cg_mpoly_add_ring_polygon(a, ra, 4);
    cg_mpoly_add_ring_polygon(b, rb, 4);
}

static void test_coverage_shares(void **state)
{
    street *t = *state;
    cg_mpoly ga, gb;
    grids(&ga, &gb);
    const cg_mpoly *gs[] = {&ga, &gb};
    cg_coverage_building bl[] = {{at_m(120, -20), 5}, {at_m(320, -20), 3}, {at_m(380, -20), 2}};
    cg_coverage_ctx *c;
    cg_err err;
    assert_int_equal(cg_coverage_ctx_new(t->g, gs, 2, bl, 3, &c, &err), 0);
    assert_int_equal(cg_coverage_unsnapped(c), 0);

    /* One post at x = 0; budgets of 250 m and 350 m. */
    cg_snap post = snap(t, 0, 0);
    double budgets[] = {secs(250), secs(350)};
    cg_coverage_opts o = {budgets, 2, 0, 1, 0};
    cg_coverage cov;
    assert_int_equal(cg_coverage_run(c, t->s, &post, 1, &o, &cov, &err), 0);
    double spur = 100 + sqrt(100 * 100 + 100 * 100);
    NEAR(cov.grid[0].road_m, 200 + spur, 0.5);
    NEAR(cov.grid[1].road_m, 200, 0.5);
    /* A: the street fully, and 150 of the spur's 241 m (entered at x = 100 with 150 m left). */
    NEAR(cov.grid[0].road_cov_m[0], 200 + 150, 0.5);
    NEAR(cov.grid[1].road_cov_m[0], 50, 0.5);
    NEAR(cov.grid[1].road_cov_m[1], 150, 0.5);
    /* Buildings: at 120 in A (5 households), at 320 and 380 in B (3 and 2). */
    assert_int_equal(cov.grid[0].buildings, 1);
    assert_int_equal(cov.grid[0].buildings_cov[0], 1);
    assert_int_equal(cov.grid[1].buildings, 2);
    assert_int_equal(cov.grid[1].buildings_cov[0], 0);
    assert_int_equal(cov.grid[1].buildings_cov[1], 1);
    NEAR(cov.grid[1].households_cov[1], 3, 1e-9);
    NEAR(cov.all.households, 10, 1e-9);
    /* Worst points within the horizon (2 x 350 m): B's is the far end at x = 400. A's is the
     * spur's last metre before x = 200: the spur is oneway into x = 200, so that metre is only
     * reached round the spur, 100 + 241 m from the post. */
    NEAR(cov.grid[1].worst_s, secs(400), 0.05);
    NEAR(cov.grid[1].worst_at.x, at_m(400, 0).x, 1e-7);
    NEAR(cov.grid[0].worst_s, secs(100 + spur), 0.05);
    /* Uncovered at 250 m: B's 250..400 (150 m) and the spur's last 91 m. */
    double unc = 0;
    for (size_t i = 0; i < cov.n_uncovered; i++)
        unc += (cov.uncovered[i].hi - cov.uncovered[i].lo) *
               cg_coverage_segs(c)->seg[cov.uncovered[i].seg].metres;
    NEAR(unc, 150 + spur - 150, 0.5);
    cg_coverage_free(&cov);

    /* A second post at x = 400 covers all of B within 250 m; B's worst point is then its west
     * edge at x = 200, 200 m from both posts. */
    cg_snap posts[] = {snap(t, 0, 0), snap(t, 400, 0)};
    assert_int_equal(cg_coverage_run(c, t->s, posts, 2, &o, &cov, &err), 0);
    NEAR(cov.grid[1].road_cov_m[0], 200, 0.5);
    NEAR(cov.grid[1].worst_s, secs(200), 0.05);
    assert_int_equal(cov.grid[1].buildings_cov[0], 2);
    /* More budget never covers less. */
    for (int g = 0; g < 2; g++)
        assert_true(cov.grid[g].road_cov_m[1] >= cov.grid[g].road_cov_m[0]);
    cg_coverage_free(&cov);

    /* Bad input. */
    assert_int_equal(cg_coverage_run(c, t->s, posts, 0, &o, &cov, &err), -1);
    assert_string_equal(err.field, "posts");
    double bad = 0;
    cg_coverage_opts ob = {&bad, 1, 0, 0, 0};
    assert_int_equal(cg_coverage_run(c, t->s, posts, 2, &ob, &cov, &err), -1);
    assert_string_equal(err.field, "budget");
    cg_coverage_ctx_free(c);
    cg_mpoly_free(&ga);
    cg_mpoly_free(&gb);
}

static void test_dispatch_order(void **state)
{
    street *t = *state;
    cg_unit units[] = {
        {snap(t, 300, 0), 1}, {snap(t, 10, 0), 0}, {snap(t, 50, 0), 1}, {snap(t, 390, 0), 1}};
    cg_snap incident = snap(t, 0, 0);
    cg_dispatch d;
    cg_err err;
    assert_int_equal(cg_dispatch_nearest(t->s, &incident, units, 4, 2, &d, &err), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_available, 3);
    assert_int_equal(d.picks[0].unit, 2); /* 50 m away; the unit at 10 m is busy */
    assert_int_equal(d.picks[1].unit, 0);
    NEAR(d.picks[0].eta_s, secs(50), 0.05);
    NEAR(d.picks[1].eta_s, secs(300), 0.05);
    NEAR(d.picks[1].route.metres, 300, 0.5);
    assert_true(d.picks[1].route.n >= 2);
    NEAR(d.picks[1].route.pts[0].x, at_m(300, 0).x, 1e-7);
    NEAR(d.picks[1].route.pts[d.picks[1].route.n - 1].x, at_m(0, 0).x, 1e-7);
    cg_dispatch_free(&d);
    units[0].available = units[2].available = units[3].available = 0;
    assert_int_equal(cg_dispatch_nearest(t->s, &incident, units, 4, 2, &d, &err), -1);
    assert_string_equal(err.field, "units");
}

/* Buildings at x = 20, 120, 220, 320 (weights 1, 1, 5, 5); sites at 0, 200, 400; budget 130 m.
 * Site 0 reaches {20, 120}, site 200 {120, 220, 320}, site 400 {320}. */
static void test_posts_plan(void **state)
{
    street *t = *state;
    cg_posts_demand dem[] = {
        {at_m(20, -20), 1}, {at_m(120, -20), 1}, {at_m(220, -20), 5}, {at_m(320, -20), 5}};
    cg_point sites[] = {at_m(0, 0), at_m(200, 0), at_m(400, 0)};
    cg_posts_opts o;
    cg_posts_opts_init(&o);
    o.budget_s = secs(130);
    cg_posts_result r;
    cg_err err;
    assert_int_equal(cg_posts_plan(&t->segs, t->s, dem, 4, sites, 3, NULL, 0, &o, &r, &err), 0);
    assert_int_equal(r.n_demand, 4);
    assert_int_equal(r.n_candidates, 3);
    assert_int_equal(r.n_sites, 2); /* {0, 200}: no single site reaches both 20 and 220 */
    NEAR(r.sites[0].at.x, at_m(0, 0).x, 1e-7);
    NEAR(r.sites[1].at.x, at_m(200, 0).x, 1e-7);
    NEAR(r.covered_weight, 12, 1e-9);
    cg_posts_result_free(&r);

    /* An existing post at 400 and one more: 200 adds 1 + 5, 0 adds 2: take 200. */
    cg_point fixed[] = {at_m(400, 0)};
    o.problem = CG_COVER_MAX;
    o.p = 1;
    assert_int_equal(cg_posts_plan(&t->segs, t->s, dem, 4, sites, 3, fixed, 1, &o, &r, &err), 0);
    assert_int_equal(r.n_fixed, 1);
    assert_int_equal(r.n_sites, 2);
    NEAR(r.covered_weight, 11, 1e-9);
    int saw_fixed = 0, saw_200 = 0;
    for (size_t i = 0; i < r.n_sites; i++) {
        saw_fixed |= r.sites[i].fixed && fabs(r.sites[i].at.x - at_m(400, 0).x) < 1e-7;
        saw_200 |= !r.sites[i].fixed && fabs(r.sites[i].at.x - at_m(200, 0).x) < 1e-7;
    }
    assert_true(saw_fixed && saw_200);
    if (cg_cover_exact_available()) {
        o.exact = 1;
        cg_posts_result_free(&r);
        assert_int_equal(cg_posts_plan(&t->segs, t->s, dem, 4, sites, 3, fixed, 1, &o, &r, &err),
                         0);
        assert_int_equal(r.exact_run, 1);
        NEAR(r.exact_objective, 11, 1e-6);
        NEAR(r.gap, 0, 1e-9);
    }
    cg_posts_result_free(&r);

    /* Demand no site reaches is reported, not an error: within 30 m, 20 and 220 are reached
     * (20 m from sites 0 and 200) but 120 and 320 are not. */
    o.problem = CG_COVER_SET;
    o.exact = 0;
    o.budget_s = secs(30);
    assert_int_equal(cg_posts_plan(&t->segs, t->s, dem, 4, sites, 3, NULL, 0, &o, &r, &err), 0);
    assert_int_equal(r.n_uncoverable, 2);
    assert_int_equal(r.n_sites, 2);
    cg_posts_result_free(&r);
    o.budget_s = 0;
    assert_int_equal(cg_posts_plan(&t->segs, t->s, dem, 4, sites, 3, NULL, 0, &o, &r, &err), -1);
    assert_string_equal(err.field, "budget");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isochrone_cut),   cmocka_unit_test(test_oneway_cut),
        cmocka_unit_test(test_coverage_shares), cmocka_unit_test(test_dispatch_order),
        cmocka_unit_test(test_posts_plan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
