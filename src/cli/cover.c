/*
 * `civgrid cover`: which parts of which grids a patrol reaches within the budget from the posts
 * (a GeoJSON file of points, or the store's POIs of a kind). One multi-source search on the
 * graph `civgrid net build` wrote; a table per grid (road, building and household shares, the
 * worst point and its time) and the uncovered road as GeoJSON with --geojson.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/atlas.h"
#include "cli/cli.h"
#include "cli/plan_load.h"
#include "core/opts.h"
#include "plan/coverage.h"

/* A share as a percentage, or "-" when there is nothing to share (a grid without roads, a map
 * whose buildings carry no household counts). */
static const char *pct(char buf[16], double part, double whole, const char *unit)
{
    if (!(whole > 0))
        return "-";
    snprintf(buf, 16, "%.1f%s", 100.0 * part / whole, unit);
    return buf;
}

int cmd_cover(int argc, char **argv)
{
    const char *db = NULL, *posts_file = NULL, *poi_kind = NULL, *geojson = NULL;
    const char *profile_s = "car", *level_s = "grid";
    double budget = CG_COVERAGE_DEFAULT_S;
    int circles = 0;
    cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "posts", "FILE", &posts_file, "posts as GeoJSON points"},
        {CG_OPT_STRING, "posts-from-pois", "KIND", &poi_kind,
         "the store's POIs of this kind as posts (e.g. police)"},
        {CG_OPT_DOUBLE, "budget", "S", &budget, "seconds (default 120)"},
        {CG_OPT_FLAG, "circles", NULL, &circles, "also the 60, 180, 300 and 600 s circles"},
        {CG_OPT_STRING, "profile", "NAME", &profile_s, "car (default), foot or bicycle"},
        {CG_OPT_STRING, "level", "NAME", &level_s, "grid level of the table (default grid)"},
        {CG_OPT_STRING, "geojson", "OUT", &geojson, "write the uncovered road to this file"},
        {0}};
    static const cg_cmd_help help = {
        "civgrid cover --posts FILE.geojson|--posts-from-pois KIND [--budget S] [--circles] "
        "[--geojson OUT]",
        "Response-time coverage of every grid from the posts on the road graph (run 'civgrid net "
        "build' first): shares of road length, buildings and households reachable within the "
        "budget, and each grid's worst point.",
        NULL, "exit status: 0 ok, 2 usage, 3 bad input (no graph, no posts), 4 runtime"};
    cg_cmd_help h = help;
    h.opts = opts;
    int r = cg_opts_parse(&h, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_err err = {0};
    cg_profile p;
    if (argc != 0 || (!posts_file == !poi_kind)) {
        fprintf(stderr, "civgrid: cover needs exactly one of --posts or --posts-from-pois\n");
        return CG_EXIT_USAGE;
    }
    if (cg_profile_parse(profile_s, &p, &err) || cg_coverage_check_budget(budget, "budget", &err)) {
        cg_cli_fail(&err);
        return CG_EXIT_USAGE;
    }
    cg_level level = CG_LEVEL_NONE;
    for (int l = CG_LEVEL_DISTRICT; l <= CG_LEVEL_SUBGRID; l++)
        if (strcmp(level_s, cg_level_name((cg_level)l)) == 0)
            level = (cg_level)l;
    if (level == CG_LEVEL_NONE) {
        fprintf(stderr, "civgrid: level: '%s' is not a grid level\n", level_s);
        return CG_EXIT_USAGE;
    }
    const char *db_path = cg_cli_db_path(db);
    cg_store *s;
    int status = cg_cli_open_store(db_path, CG_STORE_READONLY, &s);
    if (status)
        return status;
    cg_graph *g = NULL;
    cg_atlas *atlas = NULL;
    cg_point *pts = NULL;
    size_t n_pts = 0, n_bld = 0, n_grids = 0;
    cg_coverage_building *bld = NULL;
    const cg_mpoly **polys = NULL;
    size_t *gidx = NULL;
    const char **codes = NULL;
    cg_snap *posts = NULL;
    cg_coverage_ctx *ctx = NULL;
    cg_search *q = NULL;
    cg_coverage cov = {0};
    if ((status = cg_cli_plan_graph(db_path, p, s, &g)) ||
        (status = posts_file ? cg_cli_plan_points_file(posts_file, "posts", &pts, &n_pts)
                             : cg_cli_plan_pois(s, poi_kind, &pts, &n_pts)) ||
        (status = cg_cli_plan_buildings(s, &bld, &n_bld)))
        goto done;
    if (cg_atlas_load(s, 0, &atlas, &err) != 0) {
        status = cg_cli_fail(&err);
        goto done;
    }
    polys = malloc((cg_atlas_count(atlas) + 1) * sizeof *polys);
    gidx = malloc((cg_atlas_count(atlas) + 1) * sizeof *gidx);
    codes = malloc((cg_atlas_count(atlas) + 1) * sizeof *codes);
    posts = malloc(n_pts * sizeof *posts);
    if (!polys || !gidx || !codes || !posts) {
        fprintf(stderr, "civgrid: out of memory\n");
        status = CG_EXIT_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < cg_atlas_count(atlas); i++)
        if (cg_atlas_grid(atlas, i)->level == level) {
            gidx[n_grids] = i;
            polys[n_grids++] = &cg_atlas_grid(atlas, i)->geom;
        }
    size_t n_posts = 0, far = 0;
    for (size_t i = 0; i < n_pts; i++) {
        if (cg_graph_snap(g, pts[i], CG_SNAP_MAX_M, &posts[n_posts], &err) == 0)
            n_posts++;
        else
            far++;
    }
    if (far)
        fprintf(stderr, "civgrid: %zu of %zu posts are more than %.0f m from a road; left out\n",
                far, n_pts, CG_SNAP_MAX_M);
    cg_cli_plan_progress(NULL, "mapping roads and buildings to grids", -1);
    double budgets[5] = {budget, 60, 180, 300, 600};
    cg_coverage_opts co = {budgets, circles ? 5 : 1, 0, geojson != NULL, 0};
    if (cg_coverage_ctx_new(g, polys, n_grids, bld, n_bld, &ctx, &err) != 0 ||
        cg_search_new(g, &q, &err) != 0 ||
        cg_coverage_run(ctx, q, posts, n_posts, &co, &cov, &err)) {
        status = cg_cli_fail(&err);
        goto done;
    }
    cg_cli_plan_progress(NULL, "mapping roads and buildings to grids", 1);
    printf("%-18s %7s %7s %7s %9s  %s\n", "code", "road%", "bldg%", "hh%", "worst_s", "name");
    for (size_t i = 0; i < n_grids; i++) {
        const cg_grid *gr = cg_atlas_grid(atlas, gidx[i]);
        const cg_grid_coverage *c = &cov.grid[i];
        char worst[32];
        if (c->worst_s < 0)
            snprintf(worst, sizeof worst, "no road");
        else if (isinf(c->worst_s))
            snprintf(worst, sizeof worst, ">%.0f", cov.horizon_s);
        else
            snprintf(worst, sizeof worst, "%.0f", c->worst_s);
        char p1[16], p2[16], p3[16];
        printf("%-18s %7s %7s %7s %9s  %s\n", gr->code, pct(p1, c->road_cov_m[0], c->road_m, ""),
               pct(p2, (double)c->buildings_cov[0], (double)c->buildings, ""),
               pct(p3, c->households_cov[0], c->households, ""), worst,
               gr->name_zh[0] ? gr->name_zh : gr->name_en);
        codes[i] = gr->code;
    }
    for (size_t k = 0; k < cov.n_budgets; k++) {
        char p1[16], p2[16], p3[16];
        printf("all grids within %4.0f s: road %s, buildings %s", cov.budgets[k],
               pct(p1, cov.all.road_cov_m[k], cov.all.road_m, "%"),
               pct(p2, (double)cov.all.buildings_cov[k], (double)cov.all.buildings, "%"));
        if (cov.all.buildings > 0)
            printf(" (%lld of %lld)", (long long)cov.all.buildings_cov[k],
                   (long long)cov.all.buildings);
        printf(", households %s", pct(p3, cov.all.households_cov[k], cov.all.households, "%"));
        if (cov.all.households > 0)
            printf(" (%.0f of %.0f)", cov.all.households_cov[k], cov.all.households);
        printf("\n");
    }
    printf("%zu posts, one search: %.3f s, measuring %.3f s\n", n_posts, cov.search_s,
           cov.measure_s);
    if (geojson) {
        cg_buf b;
        cg_buf_init(&b);
        cg_coverage_uncovered_geojson(ctx, &cov, codes, &b);
        FILE *f = fopen(geojson, "wb");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
            fprintf(stderr, "civgrid: geojson: cannot write %s\n", geojson);
            status = CG_EXIT_RUNTIME;
        } else {
            printf("uncovered road: %zu pieces written to %s\n", cov.n_uncovered, geojson);
        }
        cg_buf_free(&b);
    }
done:
    cg_coverage_free(&cov);
    cg_search_free(q);
    cg_coverage_ctx_free(ctx);
    free(posts);
    free(gidx);
    free(codes);
    free(polys);
    free(bld);
    free(pts);
    cg_atlas_free(atlas);
    cg_graph_free(g);
    cg_store_close(s);
    return status;
}
