/*
 * What `civgrid cover`, `civgrid iso` and `civgrid posts` load before they compute: the road
 * graph `civgrid net build` wrote beside the database (with a clear "run civgrid net build
 * first" when it is missing or stale), the store's buildings, POIs of a kind, and points from a
 * GeoJSON file. Progress for long work goes to the terminal (stderr) only when it is one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/plan_load.h"

#include "app/demand.h"
#include "plan/points.h"

int cg_cli_plan_graph(const char *db_path, cg_profile p, cg_store *s, cg_graph **out)
{
    char path[4096];
    cg_err err = {0};
    if (cg_graph_path(db_path, p, path, sizeof path, &err) != 0)
        return cg_cli_fail(&err);
    if (cg_graph_load(path, p, s, out, &err) == 0)
        return CG_EXIT_OK;
    if (err.code == CG_ENOTFOUND || err.code == CG_ECONFLICT) {
        fprintf(stderr, "civgrid: %s: %s: run civgrid net build first\n", path, err.message);
        return CG_EXIT_INPUT;
    }
    return cg_cli_fail(&err);
}

int cg_cli_plan_buildings(cg_store *s, cg_coverage_building **out, size_t *n)
{
    cg_err err = {0};
    return cg_app_buildings_load(s, out, n, &err) == 0 ? CG_EXIT_OK : cg_cli_fail(&err);
}

typedef struct {
    const char *kind;
    cg_point *v;
    size_t n, cap;
} pois;

static int on_poi(void *ctx, const cg_poi *p)
{
    pois *a = ctx;
    if (strcmp(p->kind, a->kind) != 0)
        return 0;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        cg_point *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = p->at;
    return 0;
}

int cg_cli_plan_pois(cg_store *s, const char *kind, cg_point **out, size_t *n)
{
    pois a = {kind, NULL, 0, 0};
    cg_err err = {0};
    if (cg_store_poi_each(s, NULL, on_poi, &a, &err) != 0) {
        free(a.v);
        return cg_cli_fail(&err);
    }
    if (a.n == 0) {
        fprintf(stderr, "civgrid: posts-from-pois: the database holds no POI of kind '%s'\n", kind);
        return CG_EXIT_INPUT;
    }
    *out = a.v;
    *n = a.n;
    return CG_EXIT_OK;
}

int cg_cli_plan_points_file(const char *path, const char *field, cg_point **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "civgrid: %s: %s: %s\n", field, path, strerror(errno));
        return CG_EXIT_INPUT;
    }
    char *data = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            char *d = realloc(data, cap);
            if (!d) {
                free(data);
                fclose(f);
                fprintf(stderr, "civgrid: out of memory reading %s\n", path);
                return CG_EXIT_RUNTIME;
            }
            data = d;
        }
        memcpy(data + len, chunk, got);
        len += got;
    }
    fclose(f);
    int *avail = NULL;
    cg_err err = {0};
    int rc = cg_plan_points_parse(data ? data : "", len, field, out, &avail, n, &err);
    free(data);
    free(avail);
    return rc ? cg_cli_fail(&err) : CG_EXIT_OK;
}

void cg_cli_plan_progress(void *ctx, const char *stage, double fraction)
{
    (void)ctx;
    if (!isatty(STDERR_FILENO))
        return;
    if (fraction >= 0)
        fprintf(stderr, "\r%s: %3.0f%%%s", stage, fraction * 100, fraction >= 1 ? "\n" : "");
    else
        fprintf(stderr, "\r%s...", stage);
    fflush(stderr);
}
