/*
 * Snapping a point to the nearest road position (route.h) through a uniform grid over the edge
 * segments. Cells are ~100 m squares in a local equirectangular frame (longitude scaled by the
 * cosine of the graph's middle latitude), each listing the segments whose bounding box touches
 * it (CSR: cell_first / cell_edge). A query scans rings of cells around the point, nearest first,
 * and stops when the next ring is farther than the best segment found or than max_m.
 *
 * Each physical segment is indexed once: one edge of a twin pair (the lower id), never a
 * duplicate edge from a turn-restriction copy. The index is built on first use (pthread_once),
 * costs ~8 bytes per segment and a millisecond per ~50k segments, and lives with the graph.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/graph_impl.h"
#include "net/route.h"

#define CELL_M    100.0
#define MAX_CELLS (1u << 24)

struct cg_snap_index {
    double x0, y0; /* origin of the grid in degrees (lon, lat) */
    double mx, my; /* metres per degree of lon / lat */
    double cell;   /* cell size in metres */
    uint32_t nx, ny;
    uint32_t *cell_first; /* nx * ny + 1 */
    uint32_t *cell_edge;
};

void cg_snap_index_free(cg_snap_index *ix)
{
    if (!ix)
        return;
    free(ix->cell_first);
    free(ix->cell_edge);
    free(ix);
}

static int indexed(const cg_graph *g, uint32_t e)
{
    return !(g->flags[e] & CG_EDGE_DUP) && (g->twin[e] == CG_NO_EDGE || e < g->twin[e]);
}

typedef struct {
    const cg_graph *g;
    cg_snap_index *ix;
} build_ctx;

static void cell_range(const cg_snap_index *ix, double ax, double ay, double bx, double by,
                       uint32_t *cx0, uint32_t *cy0, uint32_t *cx1, uint32_t *cy1)
{
    double lo_x = fmin(ax, bx), hi_x = fmax(ax, bx), lo_y = fmin(ay, by), hi_y = fmax(ay, by);
    double fx0 = (lo_x - ix->x0) * ix->mx / ix->cell, fx1 = (hi_x - ix->x0) * ix->mx / ix->cell;
    double fy0 = (lo_y - ix->y0) * ix->my / ix->cell, fy1 = (hi_y - ix->y0) * ix->my / ix->cell;
    *cx0 = fx0 < 0 ? 0 : fx0 >= ix->nx ? ix->nx - 1 : (uint32_t)fx0;
    *cx1 = fx1 < 0 ? 0 : fx1 >= ix->nx ? ix->nx - 1 : (uint32_t)fx1;
    *cy0 = fy0 < 0 ? 0 : fy0 >= ix->ny ? ix->ny - 1 : (uint32_t)fy0;
    *cy1 = fy1 < 0 ? 0 : fy1 >= ix->ny ? ix->ny - 1 : (uint32_t)fy1;
}

static cg_snap_index *build_index(const cg_graph *g)
{
    cg_snap_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    cg_bbox b = g->bbox;
    double mid = (b.min_y + b.max_y) / 2 * M_PI / 180;
    ix->my = CG_EARTH_RADIUS_M * M_PI / 180;
    ix->mx = ix->my * cos(mid);
    ix->x0 = b.min_x;
    ix->y0 = b.min_y;
    double w = (b.max_x - b.min_x) * ix->mx, h = (b.max_y - b.min_y) * ix->my;
    ix->cell = CELL_M;
    while ((w / ix->cell + 1) * (h / ix->cell + 1) > MAX_CELLS)
        ix->cell *= 2;
    ix->nx = (uint32_t)(w / ix->cell) + 1;
    ix->ny = (uint32_t)(h / ix->cell) + 1;
    size_t nc = (size_t)ix->nx * ix->ny;
    ix->cell_first = calloc(nc + 1, sizeof *ix->cell_first);
    if (!ix->cell_first)
        goto fail;
    /* Two passes over the segments: count per cell, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t v = 0; v < g->n; v++) {
            double ax = g->lon[v] / CG_COORD_SCALE, ay = g->lat[v] / CG_COORD_SCALE;
            for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
                if (!indexed(g, e))
                    continue;
                uint32_t u = g->head[e], x0, y0, x1, y1;
                cell_range(ix, ax, ay, g->lon[u] / CG_COORD_SCALE, g->lat[u] / CG_COORD_SCALE, &x0,
                           &y0, &x1, &y1);
                for (uint32_t y = y0; y <= y1; y++)
                    for (uint32_t x = x0; x <= x1; x++) {
                        size_t c = (size_t)y * ix->nx + x;
                        if (pass == 0)
                            ix->cell_first[c + 1]++;
                        else
                            ix->cell_edge[ix->cell_first[c]++] = e;
                    }
            }
        }
        if (pass == 0) {
            for (size_t c = 0; c < nc; c++)
                ix->cell_first[c + 1] += ix->cell_first[c];
            ix->cell_edge = malloc((ix->cell_first[nc] ? ix->cell_first[nc] : 1) * 4);
            if (!ix->cell_edge)
                goto fail;
        } else {
            /* Filling advanced each start to the next cell's start: shift back. */
            memmove(ix->cell_first + 1, ix->cell_first, nc * sizeof *ix->cell_first);
            ix->cell_first[0] = 0;
        }
    }
    return ix;
fail:
    cg_snap_index_free(ix);
    return NULL;
}

static cg_graph *once_graph;
static pthread_mutex_t once_lock = PTHREAD_MUTEX_INITIALIZER;

static void once_build(void)
{
    cg_graph *g = once_graph;
    g->snap = build_index(g);
    g->snap_failed = g->snap == NULL;
}

/* pthread_once takes no argument: the lock hands the graph to the one initialiser. */
static int ensure_index(const cg_graph *gc)
{
    cg_graph *g = (cg_graph *)gc; /* the lazily built index is the graph's only mutable part */
    pthread_mutex_lock(&once_lock);
    once_graph = g;
    pthread_once(&g->snap_once, once_build);
    pthread_mutex_unlock(&once_lock);
    return g->snap ? 0 : -1;
}

int cg_graph_snap(const cg_graph *g, cg_point p, double max_m, cg_snap *out, cg_err *err)
{
    if (!(p.y >= -90 && p.y <= 90 && p.x >= -180 && p.x <= 180))
        return cg_err_set(err, CG_EINVAL, "point", "not a coordinate: %g,%g", p.y, p.x);
    if (ensure_index(g))
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory indexing roads");
    const cg_snap_index *ix = g->snap;
    double qx = (p.x - ix->x0) * ix->mx, qy = (p.y - ix->y0) * ix->my;
    long cx = (long)floor(qx / ix->cell), cy = (long)floor(qy / ix->cell);
    double best = INFINITY, best_t = 0;
    uint32_t best_e = CG_NO_EDGE;
    long max_ring = (long)(max_m / ix->cell) + 2;
    for (long r = 0; r <= max_ring; r++) {
        /* Every point of ring r is at least (r - 1) cells from the query point. */
        if ((r - 1) * ix->cell > fmin(best, max_m))
            break;
        for (long y = cy - r; y <= cy + r; y++) {
            if (y < 0 || y >= (long)ix->ny)
                continue;
            long step = (y == cy - r || y == cy + r) ? 1 : 2 * r;
            for (long x = cx - r; x <= cx + r; x += step ? step : 1) {
                if (x < 0 || x >= (long)ix->nx)
                    continue;
                size_t c = (size_t)y * ix->nx + (size_t)x;
                for (uint32_t k = ix->cell_first[c]; k < ix->cell_first[c + 1]; k++) {
                    uint32_t e = ix->cell_edge[k];
                    uint32_t a = cg_graph_edge_from(g, e), b = g->head[e];
                    double ax = (g->lon[a] / CG_COORD_SCALE - ix->x0) * ix->mx;
                    double ay = (g->lat[a] / CG_COORD_SCALE - ix->y0) * ix->my;
                    double bx = (g->lon[b] / CG_COORD_SCALE - ix->x0) * ix->mx;
                    double by = (g->lat[b] / CG_COORD_SCALE - ix->y0) * ix->my;
                    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
                    double t = l2 > 0 ? ((qx - ax) * dx + (qy - ay) * dy) / l2 : 0;
                    t = t < 0 ? 0 : t > 1 ? 1 : t;
                    double ex = ax + t * dx - qx, ey = ay + t * dy - qy;
                    double d = sqrt(ex * ex + ey * ey);
                    if (d < best || (d == best && e < best_e)) {
                        best = d;
                        best_e = e;
                        best_t = t;
                    }
                }
            }
        }
    }
    if (best_e == CG_NO_EDGE || best > max_m)
        return cg_err_set(err, CG_EINVAL, "point",
                          "%.6f,%.6f is %s from the nearest road (more than %.0f m): not on the "
                          "road network",
                          p.y, p.x, best_e == CG_NO_EDGE ? "far" : "too far", max_m);
    out->edge = best_e;
    out->fraction = best_t;
    out->at = cg_graph_edge_point_at(g, best_e, best_t);
    out->snap_m = cg_distance_m(p, out->at);
    return 0;
}
