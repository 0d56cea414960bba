/*
 * `civgrid import grids FILE` and `civgrid import osm FILE.osm.pbf`.
 *
 * A grid import reads every feature (GeoJSON or Shapefile), validates all of them against the
 * grid rules and the grids already stored (model/grid_import.h), and writes them in one
 * transaction only when not a single feature was rejected: all or nothing, with a report of every
 * rejected feature and why. Unchanged grids are left alone, so re-importing a file is harmless;
 * changed ones get a new version and keep their history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/grid_import_run.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/opts.h"
#include "geo/geojson.h"
#include "geo/shapefile.h"
#include "model/grid_import.h"

#define MAX_GEOJSON_BYTES (2048UL * 1024 * 1024)

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int read_features(const char *path, const char *format, cg_crs crs, const char *encoding,
                         int max_features, cg_feature **features, size_t *n, cg_err *err)
{
    int shp = format ? strcasecmp(format, "shapefile") == 0 || strcasecmp(format, "shp") == 0
                     : ends_with(path, ".shp");
    if (format && !shp && strcasecmp(format, "geojson") != 0)
        return cg_err_set(err, CG_EINVAL, "format", "unknown format '%s' (geojson or shapefile)",
                          format);
    if (shp) {
        cg_shapefile_read_opts o = {encoding, crs, (size_t)max_features};
        return cg_shapefile_read(path, &o, features, n, err);
    }
    char *data;
    size_t len;
    if (cg_read_file(path, &data, &len, MAX_GEOJSON_BYTES) != 0)
        return cg_err_set(err, CG_EIO, "file", "cannot read %s: %m", path);
    cg_geojson_read_opts o = {crs, (size_t)max_features, 0};
    int r = cg_geojson_read(data, len, &o, features, n, err);
    free(data);
    if (r != 0)
        cg_err_prefix(err, "%s", path);
    return r;
}

static int import_grids(int argc, char **argv)
{
    const char *db = NULL, *crs_name = NULL, *format = NULL, *encoding = NULL;
    int max_features = 1000000, dry_run = 0;
    cg_grid_fields fields = {0};
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "crs", "CRS", &crs_name,
         "coordinates of the input: wgs84 (default) or gcj02"},
        {CG_OPT_STRING, "format", "FMT", &format, "geojson or shapefile (default: by extension)"},
        {CG_OPT_STRING, "encoding", "ENC", &encoding,
         "Shapefile attribute encoding (default: .cpg, else UTF-8 or GB18030)"},
        {CG_OPT_STRING, "code-field", "NAME", &fields.code, "attribute holding the grid code"},
        {CG_OPT_STRING, "name-field", "NAME", &fields.name, "attribute holding the Chinese name"},
        {CG_OPT_STRING, "name-en-field", "NAME", &fields.name_en,
         "attribute holding the English name"},
        {CG_OPT_STRING, "level-field", "NAME", &fields.level, "attribute holding the level"},
        {CG_OPT_STRING, "parent-field", "NAME", &fields.parent,
         "attribute holding the parent code"},
        {CG_OPT_STRING, "grade-field", "NAME", &fields.grade, "attribute holding the grade"},
        {CG_OPT_STRING, "households-field", "NAME", &fields.households,
         "attribute holding the household count"},
        {CG_OPT_INT, "max-features", "N", &max_features,
         "refuse files with more features (1000000)"},
        {CG_OPT_FLAG, "dry-run", NULL, &dry_run, "validate only; write nothing"},
        {0}};
    const cg_cmd_help help = {
        "civgrid import grids [options] FILE",
        "Import a grid hierarchy from GeoJSON (a FeatureCollection of Polygon/MultiPolygon\n"
        "features) or an ESRI Shapefile (.shp with .dbf, optional .prj and .cpg). Each feature\n"
        "needs a code and a name; level and parent follow from the code when not given. Nothing\n"
        "is written unless every feature is valid.",
        opts,
        "exit status: 0 imported, 2 usage error, 3 features rejected (nothing written), 4 failure\n"
        "example: civgrid import grids streets.geojson --crs gcj02"};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "civgrid: import grids needs exactly one FILE\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    cg_crs crs;
    if (cg_crs_parse(crs_name, "crs", &crs, &err) != 0)
        return cg_cli_fail(&err);

    cg_feature *features = NULL;
    size_t n = 0;
    if (read_features(argv[0], format, crs, encoding, max_features, &features, &n, &err) != 0)
        return cg_cli_fail(&err);
    fprintf(stderr, "read %zu features from %s\n", n, argv[0]);

    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), CG_STORE_CREATE, &s);
    if (status != 0) {
        cg_features_free(features, n);
        return status;
    }
    cg_cli_set_actor(s);
    cg_grid *grids = NULL;
    cg_reject *rejects = NULL;
    size_t n_grids = 0, n_rejects = 0;
    if (cg_grid_import_prepare(features, n, &fields, cg_grid_import_lookup_store, s, &grids,
                               &n_grids, &rejects, &n_rejects, &err) != 0) {
        status = cg_cli_fail(&err);
        goto done;
    }
    if (n_rejects > 0) {
        fprintf(stderr, "rejected %zu of %zu features; nothing was written:\n", n_rejects, n);
        for (size_t i = 0; i < n_rejects; i++)
            fprintf(stderr, "  feature %zu%s%s%s: %s%s%s\n", rejects[i].feature_index,
                    rejects[i].code[0] ? " (code " : "", rejects[i].code,
                    rejects[i].code[0] ? ")" : "", rejects[i].field,
                    rejects[i].field[0] ? ": " : "", rejects[i].reason);
        status = CG_EXIT_INPUT;
        goto done;
    }
    if (dry_run) {
        printf("%zu features are valid (dry run: nothing written)\n", n_grids);
        goto done;
    }
    cg_grid_import_counts counts;
    if (cg_grid_import_write(s, grids, n_grids, cg_time_now(), NULL, NULL, NULL, &counts, &err) !=
        0) {
        status = cg_cli_fail(&err);
        goto done;
    }
    size_t written = counts.written, same = counts.unchanged;
    const size_t *per_level = counts.per_level;
    printf("imported %zu grids (", written);
    for (int l = CG_LEVEL_DISTRICT, first = 1; l <= CG_LEVEL_SUBGRID; l++)
        if (per_level[l]) {
            printf("%s%zu %s", first ? "" : ", ", per_level[l], cg_level_name(l));
            first = 0;
        }
    printf("%s), %zu unchanged\n", written ? "" : "none", same);
done:
    for (size_t i = 0; i < n_grids; i++)
        cg_grid_free(&grids[i]);
    free(grids);
    free(rejects);
    cg_features_free(features, n);
    cg_store_close(s);
    return status;
}

int cmd_import(int argc, char **argv)
{
    static const cg_opt opts[] = {{0}};
    static const cg_cmd_help help = {
        "civgrid import (grids|osm) [options] FILE",
        "Import data into the database:\n"
        "  grids FILE          a grid hierarchy from GeoJSON or an ESRI Shapefile\n"
        "  osm FILE.osm.pbf    roads, buildings, points of interest and administrative\n"
        "                      boundaries from an OpenStreetMap extract\n"
        "'civgrid import grids --help' and 'civgrid import osm --help' list their options.",
        opts, NULL};
    if (argc >= 2 && strcmp(argv[1], "grids") == 0)
        return import_grids(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "osm") == 0)
        return cg_cli_import_osm(argc - 1, argv + 1);
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    fprintf(stderr, "civgrid: import needs 'grids' or 'osm' (got %s)\nusage: %s\n",
            argc > 0 ? argv[0] : "nothing", help.usage);
    return CG_EXIT_USAGE;
}
