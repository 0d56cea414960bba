/*
 * `civgrid posts plan`: where to put patrol posts on the road graph `civgrid net build` wrote.
 * Demand is the store's buildings weighted by households (road sample points when the store has
 * none); candidates are road positions every --spacing metres or the points of --sites; existing
 * posts (--fixed) stay. Set covering (--cover-all, the default) or maximal covering (--p N);
 * --exact also runs CBC and prints the heuristic's gap. Progress on the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plan_load.h"
#include "core/opts.h"
#include "plan/posts.h"

int cmd_posts(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "plan") != 0) {
        fprintf(stderr, "usage: civgrid posts plan [--budget S] [--p N | --cover-all] [--exact] "
                        "[--fixed FILE] [--sites FILE] [--geojson OUT]\n");
        return argc >= 2 && (strcmp(argv[1], "--help") == 0) ? CG_EXIT_OK : CG_EXIT_USAGE;
    }
    argc--;
    argv++;
    const char *db = NULL, *fixed_file = NULL, *sites_file = NULL, *geojson = NULL;
    const char *profile_s = "car";
    double budget = CG_COVERAGE_DEFAULT_S, spacing = 250, limit = 0;
    int p_n = 0, cover_all = 0, exact = 0;
    cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_DOUBLE, "budget", "S", &budget, "seconds (default 120)"},
        {CG_OPT_INT, "p", "N", &p_n, "open the best N posts (maximal covering by households)"},
        {CG_OPT_FLAG, "cover-all", NULL, &cover_all,
         "the fewest posts reaching every demand point (default)"},
        {CG_OPT_FLAG, "exact", NULL, &exact, "also solve with CBC and report the gap"},
        {CG_OPT_STRING, "fixed", "FILE", &fixed_file, "existing posts (GeoJSON points)"},
        {CG_OPT_STRING, "sites", "FILE", &sites_file, "candidate sites (GeoJSON points)"},
        {CG_OPT_DOUBLE, "spacing", "M", &spacing, "candidate spacing along roads (default 250)"},
        {CG_OPT_DOUBLE, "time-limit", "S", &limit, "per solve (default 2 s heuristic, 60 s CBC)"},
        {CG_OPT_STRING, "profile", "NAME", &profile_s, "car (default), foot or bicycle"},
        {CG_OPT_STRING, "geojson", "OUT", &geojson, "write the proposed posts to this file"},
        {0}};
    static const cg_cmd_help help = {
        "civgrid posts plan [--budget S] [--p N | --cover-all] [--exact] [--fixed FILE]",
        "Propose patrol posts so that demand (buildings weighted by households) is reached "
        "within the budget on the road graph (run 'civgrid net build' first).",
        NULL,
        "exit status: 0 ok, 1 some demand no candidate reaches, 2 usage, 3 bad input, "
        "4 runtime"};
    cg_cmd_help h = help;
    h.opts = opts;
    int r = cg_opts_parse(&h, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_err err = {0};
    cg_profile prof;
    if (argc != 0 || (p_n && cover_all) || p_n < 0) {
        fprintf(stderr, "civgrid: posts plan takes --p N or --cover-all, not both\n");
        return CG_EXIT_USAGE;
    }
    cg_posts_opts o;
    cg_posts_opts_init(&o);
    o.budget_s = budget;
    o.problem = p_n ? CG_COVER_MAX : CG_COVER_SET;
    o.p = (size_t)p_n;
    o.exact = exact;
    o.sample_m = spacing;
    o.time_limit_s = limit;
    o.progress = cg_cli_plan_progress;
    if (cg_profile_parse(profile_s, &prof, &err) ||
        cg_coverage_check_budget(budget, "budget", &err)) {
        cg_cli_fail(&err);
        return CG_EXIT_USAGE;
    }
    const char *db_path = cg_cli_db_path(db);
    cg_store *s;
    int status = cg_cli_open_store(db_path, CG_STORE_READONLY, &s);
    if (status)
        return status;
    cg_graph *g = NULL;
    cg_coverage_building *bld = NULL;
    cg_point *fixed = NULL, *sites = NULL;
    size_t n_bld = 0, n_fixed = 0, n_sites = 0;
    cg_posts_demand *dem = NULL;
    cg_segs segs = {0};
    cg_search *q = NULL;
    cg_posts_result res = {0};
    if ((status = cg_cli_plan_graph(db_path, prof, s, &g)) ||
        (status = cg_cli_plan_buildings(s, &bld, &n_bld)) ||
        (fixed_file && (status = cg_cli_plan_points_file(fixed_file, "fixed", &fixed, &n_fixed))) ||
        (sites_file && (status = cg_cli_plan_points_file(sites_file, "sites", &sites, &n_sites))))
        goto done;
    dem = malloc((n_bld + 1) * sizeof *dem);
    if (!dem) {
        status = CG_EXIT_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < n_bld; i++)
        dem[i] = (cg_posts_demand){bld[i].at, cg_posts_building_weight(bld[i].households)};
    if (cg_segs_build(g, &segs, &err) || cg_search_new(g, &q, &err) ||
        cg_posts_plan(&segs, q, dem, n_bld, sites, n_sites, fixed, n_fixed, &o, &res, &err)) {
        status = cg_cli_fail(&err);
        goto done;
    }
    printf("%s covering within %.0f s: %zu demand points (%s), %zu candidates, %zu fixed\n",
           cg_cover_problem_name(o.problem), budget, res.n_demand,
           n_bld ? "buildings by households" : "road samples", res.n_candidates, res.n_fixed);
    printf("posts: %zu (%zu new); covered weight %.0f of %.0f (coverable %.0f)\n", res.n_sites,
           res.n_sites - res.n_fixed, res.covered_weight, res.total_weight, res.coverable_weight);
    if (res.n_uncoverable)
        printf("%zu demand points no candidate reaches within the budget (%zu of them more than "
               "%.0f m from any road)\n",
               res.n_uncoverable, res.n_far_demand, CG_SNAP_MAX_M);
    printf("coverage lists %.2f s, heuristic %.2f s, objective %g (bound %g)\n", res.lists_s,
           res.solve_s, res.objective, res.bound);
    if (res.exact_run)
        printf("CBC: objective %g (%s, bound %g) in %.2f s; heuristic gap %.2f%%\n",
               res.exact_objective, res.exact_optimal ? "optimal" : "not proven", res.exact_bound,
               res.exact_s, 100 * res.gap);
    for (size_t i = 0; i < res.n_sites; i++)
        printf("%s %.6f,%.6f  reaches %.0f\n", res.sites[i].fixed ? "fixed" : "new  ",
               res.sites[i].at.y, res.sites[i].at.x, res.sites[i].covered_weight);
    if (geojson) {
        cg_buf b;
        cg_buf_init(&b);
        cg_posts_geojson(&res, &o, &b);
        FILE *f = fopen(geojson, "wb");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
            fprintf(stderr, "civgrid: geojson: cannot write %s\n", geojson);
            status = CG_EXIT_RUNTIME;
        }
        cg_buf_free(&b);
    }
    if (!status && res.n_uncoverable)
        status = CG_EXIT_FINDINGS;
done:
    cg_posts_result_free(&res);
    cg_search_free(q);
    cg_segs_free(&segs);
    free(dem);
    free(bld);
    free(fixed);
    free(sites);
    cg_graph_free(g);
    cg_store_close(s);
    return status;
}
