/*
 * `civgrid iso --at LAT,LON --budget S`: the isochrone of a point on the road graph `civgrid net
 * build` wrote, as GeoJSON on standard output: the reachable network (edges cut where the
 * budget runs out) and, unless --lines-only, a buffered area around it (see plan/isochrone.h).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/plan_load.h"
#include "core/opts.h"
#include "plan/isochrone.h"

int cmd_iso(int argc, char **argv)
{
    const char *db = NULL, *at_s = NULL, *profile_s = "car";
    double budget = CG_COVERAGE_DEFAULT_S, buffer = CG_ISO_BUFFER_M;
    int lines_only = 0;
    cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "at", "LAT,LON", &at_s, "start (WGS84)"},
        {CG_OPT_DOUBLE, "budget", "S", &budget, "seconds (default 120)"},
        {CG_OPT_STRING, "profile", "NAME", &profile_s, "car (default), foot or bicycle"},
        {CG_OPT_DOUBLE, "buffer", "M", &buffer, "half-width of the area in metres (default 50)"},
        {CG_OPT_FLAG, "lines-only", NULL, &lines_only, "the reachable network without the area"},
        {0}};
    static const cg_cmd_help help = {
        "civgrid iso --at LAT,LON --budget S [--profile car|foot|bicycle] [--lines-only]",
        "The road network reachable from a point within the budget, and an area around it, as "
        "GeoJSON (run 'civgrid net build' first).",
        NULL,
        "exit status: 0 ok, 2 usage, 3 bad input (no graph, a point far from roads), 4 runtime"};
    cg_cmd_help h = help;
    h.opts = opts;
    int r = cg_opts_parse(&h, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_err err = {0};
    cg_profile p;
    cg_point at;
    if (argc != 0) {
        fprintf(stderr, "civgrid: iso takes no arguments ('%s')\n", argv[0]);
        return CG_EXIT_USAGE;
    }
    if (cg_profile_parse(profile_s, &p, &err) || cg_route_parse_latlon(at_s, "at", &at, &err) ||
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
    status = cg_cli_plan_graph(db_path, p, s, &g);
    cg_store_close(s);
    if (status)
        return status;
    cg_segs segs = {0};
    cg_segtimes st = {0};
    cg_search *q = NULL;
    cg_isochrone iso = {0};
    cg_snap sn;
    if (cg_graph_snap(g, at, CG_SNAP_MAX_M, &sn, &err) != 0) {
        snprintf(err.field, sizeof err.field, "at");
        status = cg_cli_fail(&err);
    } else if (cg_segs_build(g, &segs, &err) || cg_segtimes_init(&st, &segs, &err) ||
               cg_search_new(g, &q, &err) ||
               cg_isochrone_compute(&st, q, &sn, budget, lines_only ? 0 : buffer, &iso, &err)) {
        status = cg_cli_fail(&err);
    } else {
        cg_buf b;
        cg_buf_init(&b);
        cg_isochrone_geojson(&segs, &iso, &b);
        printf("%.*s\n", (int)b.len, b.data);
        cg_buf_free(&b);
        fprintf(stderr, "%.0f m of road within %.0f s (%zu nodes)%s\n", iso.metres, budget,
                iso.reached_nodes, iso.has_polygon ? "" : "; no area");
    }
    cg_isochrone_free(&iso);
    cg_search_free(q);
    cg_segtimes_free(&st);
    cg_segs_free(&segs);
    cg_graph_free(g);
    return status;
}
