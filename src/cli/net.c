/*
 * `civgrid net build`: builds one profile's road graph and contraction hierarchy and writes it
 * beside the database (DB.car.graph), from the database's roads (filled by `civgrid demo` or
 * `civgrid import osm`) or, with --pbf, straight from an OpenStreetMap extract, which is also
 * where car turn restrictions come from (the database keeps no relations). Prints a summary:
 * nodes, edges, components kept and dropped, restrictions, build times and bytes per node.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/opts.h"
#include "net/graph.h"

static void show_progress(void *ctx, const char *stage, double fraction)
{
    int *last = ctx;
    int pct = (int)(fraction * 100);
    if (pct == *last && fraction > 0)
        return;
    *last = pct;
    fprintf(stderr, "\r  %-20s %3d%%", stage, pct);
    fflush(stderr);
}

static int net_build(int argc, char **argv)
{
    const char *db = NULL, *profile_s = "car", *speeds_path = NULL, *pbf = NULL, *out = NULL;
    cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "profile", "NAME", &profile_s, "car (default), foot or bicycle"},
        {CG_OPT_STRING, "speeds", "FILE", &speeds_path,
         "JSON object of road class -> km/h overriding the profile's defaults"},
        {CG_OPT_STRING, "pbf", "FILE", &pbf,
         "build from this OpenStreetMap extract (with its turn restrictions) instead of the "
         "database's roads"},
        {CG_OPT_STRING, "output", "FILE", &out, "graph file (default DB.PROFILE.graph)"},
        {0}};
    static const cg_cmd_help help = {
        "civgrid net build [--db FILE] [--profile car|foot|bicycle] [--speeds FILE] [--pbf FILE]",
        "Build the road graph and its contraction hierarchy for one profile and write it beside "
        "the database. Roads come from the database; with --pbf from the extract itself, which "
        "also supplies turn restrictions for the car profile.",
        NULL,
        "exit status: 0 built, 2 usage, 3 bad input (no roads, bad extract or speeds file), "
        "4 runtime failure"};
    cg_cmd_help h = help;
    h.opts = opts;
    int r = cg_opts_parse(&h, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 0) {
        fprintf(stderr, "civgrid: net build takes no arguments ('%s')\n", argv[0]);
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    cg_graph_build_opts o = {0};
    cg_speeds sp;
    if (cg_profile_parse(profile_s, &o.profile, &err))
        return cg_cli_fail(&err);
    cg_speeds_default(o.profile, &sp);
    if (speeds_path && cg_speeds_load(speeds_path, &sp, &err))
        return cg_cli_fail(&err);
    o.speeds = &sp;
    o.build_ch = 1;
    int last = -1;
    if (isatty(2)) {
        o.progress = show_progress;
        o.progress_ctx = &last;
    }
    const char *db_path = cg_cli_db_path(db);
    char path[4096];
    if (out)
        snprintf(path, sizeof path, "%s", out);
    else if (cg_graph_path(db_path, o.profile, path, sizeof path, &err))
        return cg_cli_fail(&err);
    cg_graph *g = NULL;
    cg_graph_stats st;
    int rc;
    if (pbf) {
        rc = cg_graph_build_pbf(pbf, &o, &g, &st, &err);
    } else {
        cg_store *s;
        int status = cg_cli_open_store(db_path, CG_STORE_READONLY, &s);
        if (status)
            return status;
        rc = cg_graph_build_store(s, &o, &g, &st, &err);
        cg_store_close(s);
    }
    if (o.progress && last >= 0)
        fprintf(stderr, "\r%40s\r", "");
    if (rc)
        return cg_cli_fail(&err);
    rc = cg_graph_save(g, path, &err);
    cg_graph_free(g);
    if (rc)
        return cg_cli_fail(&err);
    printf("%s graph: %lld nodes, %lld edges (from %lld of %lld ways)\n",
           cg_profile_name(o.profile), (long long)st.nodes, (long long)st.edges,
           (long long)st.ways_used, (long long)st.ways_read);
    printf("largest strongly connected component kept; dropped %lld nodes and %lld edges in "
           "%lld other components\n",
           (long long)st.nodes_dropped, (long long)st.edges_dropped,
           (long long)st.components_dropped);
    if (o.profile == CG_PROFILE_CAR)
        printf("turn restrictions: %lld read, %lld applied, %lld not matching the roads\n",
               (long long)st.restrictions_read, (long long)st.restrictions_applied,
               (long long)st.restrictions_ignored);
    printf("graph built in %.2f s, contraction hierarchy in %.2f s; %.1f bytes/node\n", st.build_s,
           st.ch_s, st.nodes ? (double)st.bytes / st.nodes : 0.0);
    printf("written to %s\n", path);
    return CG_EXIT_OK;
}

int cmd_net(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "build") == 0)
        return net_build(argc - 1, argv + 1);
    FILE *f = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout
                                                                                          : stderr;
    fprintf(f, "usage: civgrid net build [options]   (see 'civgrid net build --help')\n");
    return f == stdout ? CG_EXIT_OK : CG_EXIT_USAGE;
}
