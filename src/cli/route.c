/*
 * `civgrid route --from LAT,LON --to LAT,LON`: the fastest route on the road graph built by
 * `civgrid net build` (a contraction-hierarchy query), as ETA and distance, or with --geojson as
 * a GeoJSON Feature (LineString; properties profile, seconds, metres).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/opts.h"
#include "net/route.h"

int cmd_route(int argc, char **argv)
{
    const char *db = NULL, *from_s = NULL, *to_s = NULL, *profile_s = "car";
    int geojson = 0;
    cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "from", "LAT,LON", &from_s, "start (WGS84)"},
        {CG_OPT_STRING, "to", "LAT,LON", &to_s, "destination (WGS84)"},
        {CG_OPT_STRING, "profile", "NAME", &profile_s, "car (default), foot or bicycle"},
        {CG_OPT_FLAG, "geojson", NULL, &geojson, "print the route as a GeoJSON Feature"},
        {0}};
    static const cg_cmd_help help = {
        "civgrid route --from LAT,LON --to LAT,LON [--profile car|foot|bicycle] [--geojson]",
        "The fastest route between two points on the road graph (run 'civgrid net build' "
        "first). Points are snapped to the nearest road within 500 m.",
        NULL, "exit status: 0 ok, 2 usage, 3 bad input (a point far from any road), 4 runtime"};
    cg_cmd_help h = help;
    h.opts = opts;
    int r = cg_opts_parse(&h, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_err err = {0};
    cg_profile p;
    cg_point from, to;
    if (argc != 0) {
        fprintf(stderr, "civgrid: route takes no arguments ('%s')\n", argv[0]);
        return CG_EXIT_USAGE;
    }
    if (cg_profile_parse(profile_s, &p, &err) ||
        cg_route_parse_latlon(from_s, "from", &from, &err) ||
        cg_route_parse_latlon(to_s, "to", &to, &err)) {
        cg_cli_fail(&err);
        return CG_EXIT_USAGE;
    }
    const char *db_path = cg_cli_db_path(db);
    cg_store *s;
    int status = cg_cli_open_store(db_path, CG_STORE_READONLY, &s);
    if (status)
        return status;
    char path[4096];
    cg_graph *g = NULL;
    cg_search *q = NULL;
    int rc =
        cg_graph_path(db_path, p, path, sizeof path, &err) || cg_graph_load(path, p, s, &g, &err);
    cg_store_close(s);
    cg_snap a, b;
    cg_path route = {0};
    if (!rc && cg_graph_snap(g, from, CG_SNAP_MAX_M, &a, &err)) {
        snprintf(err.field, sizeof err.field, "from");
        rc = -1;
    }
    if (!rc && cg_graph_snap(g, to, CG_SNAP_MAX_M, &b, &err)) {
        snprintf(err.field, sizeof err.field, "to");
        rc = -1;
    }
    if (!rc)
        rc = cg_search_new(g, &q, &err) || cg_route_ch(q, &a, &b, geojson, &route, &err);
    if (rc) {
        status = cg_cli_fail(&err);
    } else if (geojson) {
        cg_buf out;
        cg_buf_init(&out);
        cg_path_write_geojson(&out, &route, p);
        printf("%.*s\n", (int)out.len, out.data);
        cg_buf_free(&out);
    } else {
        printf("%s route: %.1f min (%.0f s), %.2f km\n", cg_profile_name(p), route.seconds / 60,
               route.seconds, route.metres / 1000);
        printf("start snapped %.0f m to the road, destination %.0f m\n", a.snap_m, b.snap_m);
    }
    cg_path_free(&route);
    cg_search_free(q);
    cg_graph_free(g);
    return status;
}
