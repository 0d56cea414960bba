/*
 * Proposed posts fed back to coverage: the posts cg_posts_plan proposes, written as GeoJSON
 * (cg_posts_geojson, what `civgrid posts plan --geojson` and the planning API hand out), read back
 * as points (cg_plan_points_parse, what `civgrid cover --posts` and /api/v1/coverage read) and
 * snapped again must reach exactly the demand the planner reported: the same covered weight of
 * the same total (before, a building too far from every road counted in coverage's total and
 * not in the planner's, and a post re-snapped from its rounded coordinates landed millimetres
 * from the position the planner had measured). On the small demo district (buildings with household
 * counts) and on the Monaco extract in ../shared/data/osm (buildings of unknown size, weight 1
 * each; skipped when absent).
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

#include "model/demo.h"
#include "net/osm.h"
#include "plan/coverage.h"
#include "plan/points.h"
#include "plan/posts.h"
#include "testutil.h"

/* Plans posts for the buildings (with `fixed` existing posts), then runs coverage from the
 * proposed posts as a user re-feeding the planner's GeoJSON would, and compares. */
static void plan_and_recover(const cg_graph *g, const cg_coverage_building *bld, size_t n_bld,
                             const cg_point *fixed, size_t n_fixed, double budget_s,
                             cg_cover_problem problem, size_t p, const char *name)
{
    cg_err err;
    cg_segs segs;
    cg_search *s;
    assert_int_equal(cg_segs_build(g, &segs, &err), 0);
    assert_int_equal(cg_search_new(g, &s, &err), 0);
    cg_posts_demand *dem = malloc(n_bld * sizeof *dem);
    /* Coverage counts households; give it the planner's weights so the two measure alike. */
    cg_coverage_building *wb = malloc(n_bld * sizeof *wb);
    assert_non_null(dem);
    assert_non_null(wb);
    for (size_t i = 0; i < n_bld; i++) {
        double w = cg_posts_building_weight(bld[i].households);
        dem[i] = (cg_posts_demand){bld[i].at, w};
        wb[i] = (cg_coverage_building){bld[i].at, (int)w};
    }
    cg_posts_opts o;
    cg_posts_opts_init(&o);
    o.budget_s = budget_s;
    o.problem = problem;
    o.p = p;
    o.time_limit_s = 0.5;
    cg_posts_result r;
    if (cg_posts_plan(&segs, s, dem, n_bld, NULL, 0, fixed, n_fixed, &o, &r, &err) != 0)
        fail_msg("%s: plan: %s", name, err.message);
    assert_true(r.n_sites > n_fixed);

    cg_buf b;
    cg_buf_init(&b);
    cg_posts_geojson(&r, &o, &b);
    cg_point *pts;
    int *avail;
    size_t n_pts;
    assert_int_equal(cg_plan_points_parse(b.data, b.len, "posts", &pts, &avail, &n_pts, &err), 0);
    assert_int_equal(n_pts, r.n_sites);
    cg_snap *posts = malloc(n_pts * sizeof *posts);
    assert_non_null(posts);
    for (size_t i = 0; i < n_pts; i++)
        assert_int_equal(cg_graph_snap(g, pts[i], CG_SNAP_MAX_M, &posts[i], &err), 0);
    cg_coverage_ctx *ctx;
    cg_coverage cov;
    cg_coverage_opts co = {&o.budget_s, 1, 0, 0, 0};
    assert_int_equal(cg_coverage_ctx_new(g, NULL, 0, wb, n_bld, &ctx, &err), 0);
    assert_int_equal(cg_coverage_run(ctx, s, posts, n_pts, &co, &cov, &err), 0);
    print_message("%s: %zu posts (%zu fixed); planner %.0f of %.0f (%.2f%%), coverage %.0f of "
                  "%.0f (%.2f%%); %zu buildings unsnapped\n",
                  name, r.n_sites, r.n_fixed, r.covered_weight, r.total_weight,
                  100 * r.covered_weight / r.total_weight, cov.all.households_cov[0],
                  cov.all.households, 100 * cov.all.households_cov[0] / cov.all.households,
                  cg_coverage_unsnapped(ctx));
    /* Weights are whole numbers, so the sums are exact. */
    assert_true(r.total_weight == cov.all.households);
    assert_true(r.covered_weight == cov.all.households_cov[0]);

    cg_coverage_free(&cov);
    cg_coverage_ctx_free(ctx);
    free(posts);
    free(pts);
    free(avail);
    cg_buf_free(&b);
    cg_posts_result_free(&r);
    free(wb);
    free(dem);
    cg_search_free(s);
    cg_segs_free(&segs);
}

static void test_demo_small(void **state)
{
    (void)state;
    cg_demo d;
    cg_err err;
    assert_int_equal(cg_demo_generate(1, CG_DEMO_SMALL, NULL, NULL, &d, &err), 0);
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    cg_graph *g;
    cg_graph_stats st;
    assert_int_equal(cg_graph_build_ways(d.ways, d.n_ways, &o, &g, &st, &err), 0);
    cg_coverage_building *bld = malloc(d.n_buildings * sizeof *bld);
    assert_non_null(bld);
    for (size_t i = 0; i < d.n_buildings; i++)
        bld[i] = (cg_coverage_building){cg_mpoly_centroid(&d.buildings[i].geom),
                                        d.buildings[i].households};
    cg_point fixed[8];
    size_t n_fixed = 0;
    for (size_t i = 0; i < d.n_pois && n_fixed < 8; i++)
        if (strcmp(d.pois[i].kind, "police") == 0)
            fixed[n_fixed++] = d.pois[i].at;
    plan_and_recover(g, bld, d.n_buildings, fixed, n_fixed, 120, CG_COVER_SET, 0,
                     "demo small, set, 120 s");
    /* Short of full coverage, so the share depends on every post's exact position. */
    plan_and_recover(g, bld, d.n_buildings, fixed, n_fixed, 45, CG_COVER_MAX, 3,
                     "demo small, p = 3, 45 s");
    plan_and_recover(g, bld, d.n_buildings, NULL, 0, 60, CG_COVER_MAX, 4,
                     "demo small, p = 4, 60 s");
    free(bld);
    cg_graph_free(g);
    cg_demo_free(&d);
}

typedef struct {
    cg_coverage_building *v;
    size_t n, cap;
    cg_point police[64];
    size_t n_police;
} osm_collect;

static int on_building(void *ctx, const cg_building *b, cg_err *err)
{
    (void)err;
    osm_collect *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        assert_non_null(c->v);
    }
    c->v[c->n++] = (cg_coverage_building){cg_mpoly_centroid(&b->geom), b->households};
    return 0;
}

static int on_poi(void *ctx, const cg_poi *p, cg_err *err)
{
    (void)err;
    osm_collect *c = ctx;
    if (strcmp(p->kind, "police") == 0 && c->n_police < 64)
        c->police[c->n_police++] = p->at;
    return 0;
}

static void test_monaco(void **state)
{
    (void)state;
    const char *path = cg_test_shared_data("osm/monaco.osm.pbf");
    if (!path) {
        print_message("skipped: ../shared/data/osm/monaco.osm.pbf is absent\n");
        skip();
    }
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    cg_graph *g;
    cg_graph_stats st;
    cg_err err;
    if (cg_graph_build_pbf(path, &o, &g, &st, &err) != 0)
        fail_msg("monaco: %s", err.message);
    osm_collect c = {0};
    cg_osm_callbacks cb = {0};
    cb.building = on_building;
    cb.poi = on_poi;
    assert_int_equal(cg_osm_read(path, &cb, &c, NULL, &err), 0);
    assert_true(c.n > 10000 && c.n_police >= 3);
    plan_and_recover(g, c.v, c.n, c.police, c.n_police, 120, CG_COVER_SET, 0, "monaco, set");
    plan_and_recover(g, c.v, c.n, c.police, c.n_police, 120, CG_COVER_MAX, 20, "monaco, p = 20");
    plan_and_recover(g, c.v, c.n, NULL, 0, 60, CG_COVER_MAX, 30, "monaco, p = 30, 60 s");
    free(c.v);
    cg_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_small),
        cmocka_unit_test(test_monaco),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
