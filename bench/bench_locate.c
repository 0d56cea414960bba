/*
 * Locate benchmark: civgrid's locate index against GEOS (an STRtree over envelopes plus prepared
 * geometries, the usual way to do point-in-polygon with GEOS) on the same polygons and the same
 * random points, single thread. Prints lookups per second for each (median of 5 runs), their
 * ratio, build times and the index's memory, and checks that both give the same answers.
 *
 * usage: bench_locate [DB_FILE|demo:SIZE|-] [N_POINTS]
 *   DB_FILE    a civgrid database: every current grid of every level is indexed
 *   demo:city  the grids of `civgrid demo --size city` (seed 1), generated in memory; also
 *              demo:small
 *   -        (or no argument) a synthetic city: 4,000 jittered quadrilateral grids sharing their
 *            vertices, 500 communities, 20 streets and a district over them (4,521 polygons)
 * Target (issue: foundation): >= 2M lookups/s, and at least as fast as GEOS.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/geos.h"
#include "geo/locindex.h"
#include "model/demo.h"
#include "store/store.h"

#define RUNS        5
#define MAX_RESULTS 16

typedef struct {
    cg_mpoly *polys;
    size_t n, cap;
} polygon_set;

static cg_mpoly *set_add(polygon_set *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->polys = realloc(s->polys, sizeof(cg_mpoly) * s->cap);
        if (!s->polys) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    cg_mpoly *m = &s->polys[s->n++];
    m->polys = NULL;
    m->n_polys = 0;
    return m;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double next_random(void) /* xorshift64*, uniform in [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* ---- the synthetic city ---- */

#define COLS 80
#define ROWS 50

static cg_point lattice[ROWS + 1][COLS + 1];

static void add_block(polygon_set *s, int i0, int j0, int i1, int j1)
{
    cg_point ring[2 * (COLS + ROWS)];
    size_t n = 0;
    for (int i = i0; i < i1; i++)
        ring[n++] = lattice[j0][i];
    for (int j = j0; j < j1; j++)
        ring[n++] = lattice[j][i1];
    for (int i = i1; i > i0; i--)
        ring[n++] = lattice[j1][i];
    for (int j = j1; j > j0; j--)
        ring[n++] = lattice[j][i0];
    cg_mpoly_add_ring_polygon(set_add(s), ring, n);
}

static void make_synthetic(polygon_set *s)
{
    /* About 220 m x 200 m grids around Hangzhou; interior vertices jittered, shared exactly. */
    for (int j = 0; j <= ROWS; j++)
        for (int i = 0; i <= COLS; i++) {
            int border = i == 0 || j == 0 || i == COLS || j == ROWS;
            lattice[j][i].x = 120.10 + (i + (border ? 0 : (next_random() - 0.5) * 0.6)) * 0.0023;
            lattice[j][i].y = 30.20 + (j + (border ? 0 : (next_random() - 0.5) * 0.6)) * 0.0018;
        }
    add_block(s, 0, 0, COLS, ROWS); /* the district */
    for (int j = 0; j < ROWS; j += 10)
        for (int i = 0; i < COLS; i += 20)
            add_block(s, i, j, i + 20, j + 10); /* streets */
    for (int j = 0; j < ROWS; j += 2)
        for (int i = 0; i < COLS; i += 4)
            add_block(s, i, j, i + 4, j + 2); /* communities */
    for (int j = 0; j < ROWS; j++)
        for (int i = 0; i < COLS; i++)
            add_block(s, i, j, i + 1, j + 1); /* grids */
}

/* ---- grids from a civgrid database ---- */

static int on_grid(void *ctx, const cg_grid *g)
{
    cg_mpoly_clone(&g->geom, set_add(ctx));
    return 0;
}

static int load_db(const char *path, polygon_set *s)
{
    cg_store *store;
    cg_err err;
    if (cg_store_open(path, CG_STORE_READONLY, &store, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return -1;
    }
    cg_grid_filter f;
    memset(&f, 0, sizeof f);
    f.with_geom = 1;
    int rc = cg_store_grid_list(store, &f, on_grid, s, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", path, err.message);
    cg_store_close(store);
    return rc;
}

static int load_demo(const char *size_name, polygon_set *s)
{
    cg_demo_size size;
    cg_demo d;
    cg_err err;
    if (cg_demo_size_parse(size_name, &size, &err) ||
        cg_demo_generate(1, size, NULL, NULL, &d, &err)) {
        fprintf(stderr, "demo: %s\n", err.message);
        return -1;
    }
    for (size_t i = 0; i < d.n_grids; i++)
        cg_mpoly_clone(&d.grids[i].geom, set_add(s));
    cg_demo_free(&d);
    return 0;
}

/* ---- the GEOS side ---- */

typedef struct {
    cg_geos g;
    GEOSGeometry **geoms;
    const GEOSPreparedGeometry **prepared;
    size_t *ids;
    GEOSSTRtree *tree;
    size_t n;
} geos_index;

typedef struct {
    const geos_index *gi;
    const GEOSGeometry *point;
    size_t *out;
    size_t n;
} geos_query;

static void on_candidate(void *item, void *userdata)
{
    geos_query *q = userdata;
    size_t id = *(const size_t *)item;
    if (GEOSPreparedIntersects_r(q->gi->g.handle, q->gi->prepared[id], q->point) == 1) {
        /* Insertion keeps the answer in ascending order, as civgrid returns it. */
        size_t k = q->n < MAX_RESULTS ? q->n : MAX_RESULTS - 1;
        while (k > 0 && q->out[k - 1] > id) {
            q->out[k] = q->out[k - 1];
            k--;
        }
        q->out[k] = id;
        q->n++;
    }
}

static size_t geos_find(const geos_index *gi, const GEOSGeometry *point, size_t *out)
{
    geos_query q = {gi, point, out, 0};
    GEOSSTRtree_query_r(gi->g.handle, gi->tree, point, on_candidate, &q);
    return q.n;
}

static int geos_build(geos_index *gi, const polygon_set *s)
{
    cg_err err;
    if (cg_geos_init(&gi->g, &err))
        return -1;
    gi->n = s->n;
    gi->geoms = calloc(s->n, sizeof(*gi->geoms));
    gi->prepared = calloc(s->n, sizeof(*gi->prepared));
    gi->ids = calloc(s->n, sizeof(*gi->ids));
    gi->tree = GEOSSTRtree_create_r(gi->g.handle, 10);
    for (size_t i = 0; i < s->n; i++) {
        gi->ids[i] = i;
        gi->geoms[i] = cg_geos_from_mpoly(&gi->g, &s->polys[i], &err);
        if (!gi->geoms[i]) {
            fprintf(stderr, "polygon %zu: %s\n", i, err.message);
            return -1;
        }
        gi->prepared[i] = GEOSPrepare_r(gi->g.handle, gi->geoms[i]);
        GEOSSTRtree_insert_r(gi->g.handle, gi->tree, gi->geoms[i], &gi->ids[i]);
    }
    return 0;
}

static void geos_free(geos_index *gi)
{
    for (size_t i = 0; i < gi->n; i++) {
        if (gi->prepared[i])
            GEOSPreparedGeom_destroy_r(gi->g.handle, gi->prepared[i]);
        if (gi->geoms[i])
            GEOSGeom_destroy_r(gi->g.handle, gi->geoms[i]);
    }
    if (gi->tree)
        GEOSSTRtree_destroy_r(gi->g.handle, gi->tree);
    free(gi->geoms);
    free(gi->prepared);
    free(gi->ids);
    cg_geos_finish(&gi->g);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(double), cmp_double);
    return v[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *db = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    long n_points = argc > 2 ? atol(argv[2]) : 500000;
    if (argc > 3 || n_points <= 0) {
        fprintf(stderr, "usage: bench_locate [DB_FILE|demo:SIZE|-] [N_POINTS]\n");
        return 2;
    }
    polygon_set set = {NULL, 0, 0};
    if (db && strncmp(db, "demo:", 5) == 0) {
        if (load_demo(db + 5, &set))
            return 1;
    } else if (db) {
        if (load_db(db, &set))
            return 1;
    } else {
        make_synthetic(&set);
    }
    if (set.n == 0) {
        fprintf(stderr, "no polygons to index\n");
        return 1;
    }
    const cg_mpoly **ptrs = malloc(sizeof(*ptrs) * set.n);
    cg_bbox extent;
    cg_bbox_empty(&extent);
    for (size_t i = 0; i < set.n; i++) {
        ptrs[i] = &set.polys[i];
        cg_bbox b = cg_mpoly_bbox(&set.polys[i]);
        if (b.min_x <= b.max_x) {
            cg_point lo = {b.min_x, b.min_y}, hi = {b.max_x, b.max_y};
            cg_bbox_extend(&extent, lo);
            cg_bbox_extend(&extent, hi);
        }
    }
    printf("polygons: %zu (%s), random points: %ld over the extent plus 2%%\n", set.n,
           db ? db : "synthetic city", n_points);

    double t0 = now_s();
    cg_err err;
    cg_locindex *ix = cg_locindex_build(ptrs, set.n, &err);
    double civgrid_build = now_s() - t0;
    if (!ix) {
        fprintf(stderr, "locate index: %s\n", err.message);
        return 1;
    }
    geos_index gi;
    memset(&gi, 0, sizeof gi);
    t0 = now_s();
    if (geos_build(&gi, &set))
        return 1;
    double geos_build_s = now_s() - t0; /* the tree itself is built on the first query */

    double w = extent.max_x - extent.min_x, h = extent.max_y - extent.min_y;
    cg_point *pts = malloc(sizeof(*pts) * (size_t)n_points);
    GEOSGeometry **gpts = malloc(sizeof(*gpts) * (size_t)n_points);
    for (long i = 0; i < n_points; i++) {
        pts[i].x = extent.min_x - 0.01 * w + next_random() * 1.02 * w;
        pts[i].y = extent.min_y - 0.01 * h + next_random() * 1.02 * h;
        /* GEOS needs a geometry per query; made beforehand so that only the lookup is timed. */
        gpts[i] = GEOSGeom_createPointFromXY_r(gi.g.handle, pts[i].x, pts[i].y);
    }

    /* First pass: the answers of both, compared. */
    long mismatches = 0, hits = 0;
    for (long i = 0; i < n_points; i++) {
        size_t c[MAX_RESULTS], g[MAX_RESULTS];
        size_t nc = cg_locindex_find(ix, pts[i], c, MAX_RESULTS);
        size_t ng = geos_find(&gi, gpts[i], g);
        hits += nc > 0;
        if (ng != nc || memcmp(g, c, (nc < MAX_RESULTS ? nc : MAX_RESULTS) * sizeof(size_t)))
            mismatches++;
    }

    double civgrid_rate[RUNS], geos_rate[RUNS];
    size_t out[MAX_RESULTS], checksum = 0;
    for (int r = 0; r < RUNS; r++) {
        t0 = now_s();
        for (long i = 0; i < n_points; i++)
            checksum += cg_locindex_find(ix, pts[i], out, MAX_RESULTS);
        civgrid_rate[r] = n_points / (now_s() - t0);
        t0 = now_s();
        for (long i = 0; i < n_points; i++)
            checksum += geos_find(&gi, gpts[i], out);
        geos_rate[r] = n_points / (now_s() - t0);
    }
    double c = median(civgrid_rate), g = median(geos_rate);
    printf("answers: %ld of %ld points inside some polygon; civgrid and GEOS disagree on %ld "
           "(checksum %zu)\n",
           hits, n_points, mismatches, checksum);
    printf("civgrid locindex : %10.0f lookups/s (median of %d)  build %.3f s  memory %.1f MB\n", c,
           RUNS, civgrid_build, cg_locindex_memory(ix) / 1048576.0);
    printf("GEOS STRtree+prep: %10.0f lookups/s (median of %d)  build %.3f s (lazy)  memory n/a\n",
           g, RUNS, geos_build_s);
    printf("ratio civgrid/GEOS: %.2fx; target >= 2,000,000 lookups/s: %s\n", c / g,
           c >= 2e6 ? "met" : "NOT met");

    for (long i = 0; i < n_points; i++)
        GEOSGeom_destroy_r(gi.g.handle, gpts[i]);
    free(gpts);
    free(pts);
    geos_free(&gi);
    cg_locindex_free(ix);
    for (size_t i = 0; i < set.n; i++)
        cg_mpoly_free(&set.polys[i]);
    free(set.polys);
    free(ptrs);
    return mismatches ? 1 : 0;
}
