/*
 * `civgrid import osm FILE.osm.pbf [--db FILE]`: roads, buildings, points of interest and
 * administrative boundaries from an OpenStreetMap extract (src/net/osm.c) into the store, in one
 * transaction. The reader delivers objects only after the whole file parsed, and the database is
 * opened at the first object, so a truncated or foreign file fails with nothing written (not even
 * a new empty database). The ODbL attribution is printed and stored in the meta table.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/opts.h"
#include "net/osm.h"
#include "store/store.h"

typedef struct {
    const char *db_path;
    cg_store *store; /* opened, with a transaction begun, at the first object */
    long long t0;
} import_ctx;

static int ensure_store(import_ctx *c, cg_err *err)
{
    if (c->store)
        return 0;
    if (cg_store_open(c->db_path, CG_STORE_CREATE, &c->store, err) != 0)
        return -1;
    cg_cli_set_actor(c->store);
    if (cg_store_begin(c->store, err) != 0) {
        cg_store_close(c->store);
        c->store = NULL;
        return -1;
    }
    return 0;
}

static int put_way(void *ctx, const cg_way *w, cg_err *err)
{
    return ensure_store(ctx, err) ? -1 : cg_store_way_put(((import_ctx *)ctx)->store, w, err);
}

static int put_building(void *ctx, const cg_building *b, cg_err *err)
{
    return ensure_store(ctx, err) ? -1 : cg_store_building_put(((import_ctx *)ctx)->store, b, err);
}

static int put_poi(void *ctx, const cg_poi *p, cg_err *err)
{
    return ensure_store(ctx, err) ? -1 : cg_store_poi_put(((import_ctx *)ctx)->store, p, err);
}

static int put_boundary(void *ctx, const cg_boundary *b, cg_err *err)
{
    return ensure_store(ctx, err) ? -1 : cg_store_boundary_put(((import_ctx *)ctx)->store, b, err);
}

static void progress(void *ctx, const char *stage)
{
    import_ctx *c = ctx;
    fprintf(stderr, "civgrid: import osm: %6.1fs %s\n", (cg_time_mono_ns() - c->t0) / 1e9, stage);
}

int cg_cli_import_osm(int argc, char **argv)
{
    const char *db = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"}, {0}};
    const cg_cmd_help help = {
        "civgrid import osm [options] FILE.osm.pbf",
        "Import roads (highway=*), buildings (building=*), points of interest of the key-unit "
        "kinds and administrative boundaries from an OpenStreetMap extract, in one transaction.",
        opts, "Map data © OpenStreetMap contributors, available under the ODbL."};
    int parsed = cg_opts_parse(&help, &argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "civgrid: import osm needs exactly one FILE\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    const char *path = argv[0];
    import_ctx c = {cg_cli_db_path(db), NULL, cg_time_mono_ns()};
    cg_osm_callbacks cb = {put_way, put_building, put_poi, put_boundary, progress};
    cg_osm_stats st;
    cg_err err = {0};
    int rc = cg_osm_read(path, &cb, &c, &st, &err);
    if (rc == 0)
        rc = ensure_store(&c, &err);
    if (rc == 0) {
        const char *base = strrchr(path, '/');
        rc = cg_store_meta_set(c.store, "attribution", CG_OSM_ATTRIBUTION, &err);
        if (rc == 0)
            rc = cg_store_meta_set(c.store, "import.source", base ? base + 1 : path, &err);
        if (rc == 0)
            rc = cg_store_commit(c.store, &err);
    }
    if (rc != 0) {
        if (c.store) {
            cg_store_rollback(c.store);
            cg_store_close(c.store);
        }
        return cg_cli_fail(&err);
    }
    cg_store_close(c.store);
    printf("imported %s into %s in %.1f s: %lld roads, %lld buildings, %lld points of interest, "
           "%lld administrative boundaries\n",
           path, c.db_path, (cg_time_mono_ns() - c.t0) / 1e9, (long long)st.ways,
           (long long)st.buildings, (long long)st.pois, (long long)st.boundaries);
    printf("read %lld nodes, %lld ways, %lld relations\n", (long long)st.nodes,
           (long long)st.ways_read, (long long)st.relations);
    printf("skipped: %lld ways with nodes missing from the extract, %lld building ways that are "
           "not closed, %lld boundary rings that could not be closed, %lld boundaries without a "
           "closed outer ring\n",
           (long long)st.skipped_missing_nodes, (long long)st.skipped_open_buildings,
           (long long)st.skipped_rings, (long long)st.skipped_boundaries);
    printf("Map data %s (https://www.openstreetmap.org/copyright)\n", CG_OSM_ATTRIBUTION);
    return CG_EXIT_OK;
}
