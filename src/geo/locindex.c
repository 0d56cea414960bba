/*
 * The locate index: see locindex.h.
 *
 * A uniform grid of cells covers the extent of all polygons (about CELLS_PER_POLYGON cells per
 * polygon, square in degrees). Each cell holds, in ascending polygon order, an entry for every
 * polygon that may contain a point of the cell:
 *   - FULL: no edge of the polygon comes near the cell and its centre is inside, so every point
 *     of the cell is inside. Answered without any test; for the big levels (district, streets)
 *     this is almost every cell.
 *   - BOUNDARY: some edge touches the cell. The entry points to a short list of edges and the
 *     point is tested by the usual even-odd ray cast, but over that list only.
 * Cells that no edge touches and whose centre is outside get no entry at all.
 *
 * Why the short edge list is exact. The ray goes from the point p to x = +infinity. An edge can
 * cross it only if the edge spans p.y (so its y-range meets the cell's row) and reaches to the
 * right of p.x (so its largest x is at least the cell's left side). The list of a boundary entry
 * is exactly the polygon's edges that pass both tests: edges of the row's band, sorted by their
 * largest x so that each cell of the row uses a prefix of one shared array. Every edge that can
 * cross the ray is in the list, so the crossing count equals the count over the whole polygon:
 * the answer is the same as a full ray cast (cg_mpoly_contains), not an approximation. For a
 * grid polygon the list has a handful of edges; a large polygon's boundary cells see the few
 * edges of its two sides within one row. (A scheme that stops the ray at the cell's side and
 * precomputes "is the cell's corner inside" needs a second, vertical path along the cell side
 * whose crossings must use exactly the same tie-breaking as the horizontal ray; the row band
 * avoids that at the cost of storing a few more edges.)
 *
 * Boundaries. The crossing rule is half-open: an edge counts when y0 <= p.y < y1 (its endpoints
 * ordered by y) and p.x < x(p.y). Each edge is stored with its endpoints in that canonical order
 * and its x(y) computed as x0 + (y - y0) * k with k precomputed, so two polygons that share an
 * edge with identical vertices compute bit-identical crossings. For a tiling (siblings sharing
 * edges and vertices exactly) every point, including points exactly on a shared edge or vertex,
 * is therefore in exactly one of the siblings. Where neighbours do not share vertices (a vertex
 * of one lying on an edge of the other), a point within rounding distance of that edge may be in
 * either, both or neither. Cells and bands are widened by a millionth of a cell so that a point
 * rounded into a neighbouring cell still sees every edge it needs.
 *
 * Cost: a lookup is one cell computation and a few entries; building is linear in the number of
 * edges times the cells they touch. Memory is reported by cg_locindex_memory.
 */
#include "geo/locindex.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CELLS_PER_POLYGON 16
#define MAX_CELLS         (1u << 24)
#define FULL              UINT32_MAX /* n_edges of an entry whose cell is wholly inside */

typedef struct {
    double y0, y1; /* y0 < y1: horizontal edges are never stored, they cross no ray */
    double x0, k;  /* x at height y is x0 + (y - y0) * k */
} li_edge;

typedef struct {
    uint32_t poly;
    uint32_t n_edges; /* FULL, or the number of edges from first_edge to test */
    uint32_t first_edge;
} li_entry;

struct cg_locindex {
    cg_bbox extent;
    double cell_w, cell_h, inv_w, inv_h;
    uint32_t nx, ny;
    uint32_t *cell_start; /* nx * ny + 1 offsets into entries */
    li_entry *entries;
    li_edge *edges;
    size_t n_entries, n_edges;
};

/* ---- growable arrays used while building ---- */

typedef struct {
    uint32_t cell;
    li_entry entry;
} pending_entry;

typedef struct {
    pending_entry *pending;
    size_t n_pending, cap_pending;
    li_edge *edges;
    size_t n_edges, cap_edges;
} builder;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * size);
    if (!q)
        return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

/* An edge of a polygon while building: canonical (y0 <= y1) plus its x-range. */
typedef struct {
    li_edge e;
    double min_x, max_x;
    int horizontal;
} build_edge;

static int cmp_max_x_desc(const void *a, const void *b)
{
    double x = (*(build_edge *const *)a)->max_x, y = (*(build_edge *const *)b)->max_x;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Does segment a-b meet the closed rectangle? (Liang-Barsky clipping.) */
static int segment_meets_rect(cg_point a, cg_point b, double x0, double y0, double x1, double y1)
{
    double t0 = 0, t1 = 1, dx = b.x - a.x, dy = b.y - a.y;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {a.x - x0, x1 - a.x, a.y - y0, y1 - a.y};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return 0;
            if (t > t0)
                t0 = t;
        } else {
            if (t < t0)
                return 0;
            if (t < t1)
                t1 = t;
        }
    }
    return 1;
}

static uint32_t clamp_cell(double v, uint32_t n)
{
    if (!(v > 0))
        return 0;
    if (v >= (double)n)
        return n - 1;
    return (uint32_t)v;
}

static size_t count_edges(const cg_mpoly *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_polys; i++)
        for (size_t j = 0; j < m->polys[i].n_rings; j++)
            n += m->polys[i].rings[j].n;
    return n;
}

/* The polygon's edges, each ring taken as cyclic (a ring left open is closed here). */
static size_t collect_edges(const cg_mpoly *m, build_edge *out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_polys; i++)
        for (size_t j = 0; j < m->polys[i].n_rings; j++) {
            const cg_ring *r = &m->polys[i].rings[j];
            for (size_t k = 0; k < r->n; k++) {
                cg_point a = r->pts[k ? k - 1 : r->n - 1], b = r->pts[k];
                if (a.x == b.x && a.y == b.y)
                    continue;
                if (a.y > b.y) {
                    cg_point t = a;
                    a = b;
                    b = t;
                }
                build_edge *e = &out[n++];
                e->horizontal = a.y == b.y;
                e->e.y0 = a.y;
                e->e.y1 = b.y;
                e->e.x0 = a.x;
                e->e.k = e->horizontal ? 0 : (b.x - a.x) / (b.y - a.y);
                e->min_x = fmin(a.x, b.x);
                e->max_x = fmax(a.x, b.x);
            }
        }
    return n;
}

static int edge_crosses_ray(const li_edge *e, cg_point p)
{
    return e->y0 <= p.y && p.y < e->y1 && p.x < e->x0 + (p.y - e->y0) * e->k;
}

/* Adds the entries of polygon `index` to the builder. */
static int index_polygon(const cg_locindex *ix, builder *b, uint32_t index, const cg_mpoly *m,
                         cg_bbox box, cg_err *err)
{
    size_t n_raw = count_edges(m);
    double eps_x = ix->cell_w * 1e-6, eps_y = ix->cell_h * 1e-6;
    uint32_t cx0 = clamp_cell((box.min_x - eps_x - ix->extent.min_x) * ix->inv_w, ix->nx);
    uint32_t cx1 = clamp_cell((box.max_x + eps_x - ix->extent.min_x) * ix->inv_w, ix->nx);
    uint32_t cy0 = clamp_cell((box.min_y - eps_y - ix->extent.min_y) * ix->inv_h, ix->ny);
    uint32_t cy1 = clamp_cell((box.max_y + eps_y - ix->extent.min_y) * ix->inv_h, ix->ny);
    size_t w = cx1 - cx0 + 1, h = cy1 - cy0 + 1;

    build_edge *edges = malloc(sizeof(*edges) * (n_raw ? n_raw : 1));
    unsigned char *marked = calloc(w * h, 1);
    build_edge **row = malloc(sizeof(*row) * (n_raw ? n_raw : 1));
    int rc = 0;
    if (!edges || !marked || !row) {
        rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    size_t n_edges = collect_edges(m, edges);

    /* Boundary cells: every cell an edge touches (rectangles widened by eps). */
    for (size_t i = 0; i < n_edges; i++) {
        const build_edge *e = &edges[i];
        cg_point a = {e->e.x0, e->e.y0};
        cg_point z = {e->horizontal ? (a.x == e->min_x ? e->max_x : e->min_x)
                                    : a.x + (e->e.y1 - e->e.y0) * e->e.k,
                      e->e.y1};
        uint32_t ex0 = clamp_cell((e->min_x - eps_x - ix->extent.min_x) * ix->inv_w, ix->nx);
        uint32_t ex1 = clamp_cell((e->max_x + eps_x - ix->extent.min_x) * ix->inv_w, ix->nx);
        uint32_t ey0 = clamp_cell((e->e.y0 - eps_y - ix->extent.min_y) * ix->inv_h, ix->ny);
        uint32_t ey1 = clamp_cell((e->e.y1 + eps_y - ix->extent.min_y) * ix->inv_h, ix->ny);
        for (uint32_t cy = ey0; cy <= ey1; cy++)
            for (uint32_t cx = ex0; cx <= ex1; cx++) {
                double rx0 = ix->extent.min_x + cx * ix->cell_w - eps_x;
                double ry0 = ix->extent.min_y + cy * ix->cell_h - eps_y;
                if (segment_meets_rect(a, z, rx0, ry0, rx0 + ix->cell_w + 2 * eps_x,
                                       ry0 + ix->cell_h + 2 * eps_y))
                    marked[(cy - cy0) * w + (cx - cx0)] = 1;
            }
    }

    for (uint32_t cy = cy0; cy <= cy1; cy++) {
        double band0 = ix->extent.min_y + cy * ix->cell_h - eps_y;
        double band1 = band0 + ix->cell_h + 2 * eps_y;
        double centre_y = ix->extent.min_y + (cy + 0.5) * ix->cell_h;
        size_t n_row = 0;
        for (size_t i = 0; i < n_edges; i++)
            if (!edges[i].horizontal && edges[i].e.y1 >= band0 && edges[i].e.y0 <= band1)
                row[n_row++] = &edges[i];
        qsort(row, n_row, sizeof(*row), cmp_max_x_desc);
        size_t stored_at = SIZE_MAX; /* the row's edges go in once, for its leftmost user */
        size_t prefix = n_row;
        for (uint32_t cx = cx0; cx <= cx1; cx++) {
            double left = ix->extent.min_x + cx * ix->cell_w - eps_x;
            pending_entry pe = {cy * ix->nx + cx, {index, FULL, 0}};
            if (marked[(cy - cy0) * w + (cx - cx0)]) {
                while (prefix > 0 && row[prefix - 1]->max_x < left)
                    prefix--;
                if (prefix == 0)
                    continue; /* no edge can cross a ray from this cell: all outside */
                if (stored_at == SIZE_MAX) {
                    if (b->n_edges + prefix > UINT32_MAX ||
                        grow((void **)&b->edges, &b->cap_edges, b->n_edges + prefix,
                             sizeof(li_edge))) {
                        rc = cg_err_set(err, CG_ELIMIT, NULL, "the locate index is too large");
                        goto done;
                    }
                    stored_at = b->n_edges;
                    for (size_t i = 0; i < prefix; i++)
                        b->edges[b->n_edges++] = row[i]->e;
                }
                pe.entry.n_edges = (uint32_t)prefix;
                pe.entry.first_edge = (uint32_t)stored_at;
            } else {
                cg_point centre = {ix->extent.min_x + (cx + 0.5) * ix->cell_w, centre_y};
                int inside = 0;
                for (size_t i = 0; i < n_row; i++)
                    inside ^= edge_crosses_ray(&row[i]->e, centre);
                if (!inside)
                    continue;
            }
            if (b->n_pending >= UINT32_MAX || grow((void **)&b->pending, &b->cap_pending,
                                                   b->n_pending + 1, sizeof(pending_entry))) {
                rc = cg_err_set(err, CG_ELIMIT, NULL, "the locate index is too large");
                goto done;
            }
            b->pending[b->n_pending++] = pe;
        }
    }
done:
    free(edges);
    free(marked);
    free(row);
    return rc;
}

static int check_coordinates(const cg_mpoly *m, size_t index, cg_err *err)
{
    for (size_t i = 0; i < m->n_polys; i++)
        for (size_t j = 0; j < m->polys[i].n_rings; j++)
            for (size_t k = 0; k < m->polys[i].rings[j].n; k++) {
                cg_point p = m->polys[i].rings[j].pts[k];
                if (!isfinite(p.x) || !isfinite(p.y))
                    return cg_err_set(err, CG_EINVAL, "geometry",
                                      "polygon %zu has a coordinate that is not a finite number",
                                      index);
            }
    return 0;
}

/* Chooses the grid: about CELLS_PER_POLYGON square cells per polygon over the extent. */
static void choose_grid(cg_locindex *ix, size_t n_polys)
{
    double w = ix->extent.max_x - ix->extent.min_x, h = ix->extent.max_y - ix->extent.min_y;
    double target = fmin((double)n_polys * CELLS_PER_POLYGON, MAX_CELLS);
    double side = w > 0 && h > 0 ? sqrt(w * h / target) : fmax(w, h) / target;
    double nx = side > 0 ? ceil(w / side) : 1, ny = side > 0 ? ceil(h / side) : 1;
    ix->nx = (uint32_t)fmax(1, fmin(nx, MAX_CELLS));
    ix->ny = (uint32_t)fmax(1, fmin(ny, MAX_CELLS / ix->nx));
    ix->cell_w = w > 0 ? w / ix->nx : 1;
    ix->cell_h = h > 0 ? h / ix->ny : 1;
    ix->inv_w = 1 / ix->cell_w;
    ix->inv_h = 1 / ix->cell_h;
}

cg_locindex *cg_locindex_build(const cg_mpoly *const *polys, size_t n, cg_err *err)
{
    if (n >= UINT32_MAX) {
        cg_err_set(err, CG_ELIMIT, NULL, "too many polygons for the locate index (%zu)", n);
        return NULL;
    }
    cg_locindex *ix = calloc(1, sizeof(*ix));
    cg_bbox *boxes = malloc(sizeof(*boxes) * (n ? n : 1));
    builder b = {NULL, 0, 0, NULL, 0, 0};
    if (!ix || !boxes) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    cg_bbox_empty(&ix->extent);
    size_t n_used = 0;
    for (size_t i = 0; i < n; i++) {
        if (check_coordinates(polys[i], i, err))
            goto fail;
        boxes[i] = cg_mpoly_bbox(polys[i]);
        if (boxes[i].min_x > boxes[i].max_x)
            continue; /* empty: contains nothing */
        n_used++;
        cg_point lo = {boxes[i].min_x, boxes[i].min_y}, hi = {boxes[i].max_x, boxes[i].max_y};
        cg_bbox_extend(&ix->extent, lo);
        cg_bbox_extend(&ix->extent, hi);
    }
    if (n_used == 0) {
        /* An empty index: one cell, no entries; every lookup falls outside the extent. */
        ix->nx = ix->ny = 1;
        ix->cell_start = calloc(2, sizeof(uint32_t));
        if (!ix->cell_start) {
            cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
            goto fail;
        }
        free(boxes);
        return ix;
    }
    choose_grid(ix, n_used);
    for (size_t i = 0; i < n; i++)
        if (boxes[i].min_x <= boxes[i].max_x &&
            index_polygon(ix, &b, (uint32_t)i, polys[i], boxes[i], err))
            goto fail;

    /* Counting sort of the entries by cell; stable, so each cell keeps ascending polygons. */
    size_t n_cells = (size_t)ix->nx * ix->ny;
    ix->cell_start = calloc(n_cells + 1, sizeof(uint32_t));
    ix->entries = malloc(sizeof(li_entry) * (b.n_pending ? b.n_pending : 1));
    if (!ix->cell_start || !ix->entries) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b.n_pending; i++)
        ix->cell_start[b.pending[i].cell + 1]++;
    for (size_t c = 0; c < n_cells; c++)
        ix->cell_start[c + 1] += ix->cell_start[c];
    for (size_t i = 0; i < b.n_pending; i++)
        ix->entries[ix->cell_start[b.pending[i].cell]++] = b.pending[i].entry;
    /* The fill moved each start to the next cell's start: shift back. */
    memmove(ix->cell_start + 1, ix->cell_start, sizeof(uint32_t) * n_cells);
    ix->cell_start[0] = 0;
    assert(ix->cell_start[n_cells] == b.n_pending);
    ix->n_entries = b.n_pending;
    ix->edges = b.edges;
    ix->n_edges = b.n_edges;
    free(b.pending);
    free(boxes);
    return ix;
fail:
    free(b.pending);
    free(b.edges);
    free(boxes);
    cg_locindex_free(ix);
    return NULL;
}

void cg_locindex_free(cg_locindex *ix)
{
    if (!ix)
        return;
    free(ix->cell_start);
    free(ix->entries);
    free(ix->edges);
    free(ix);
}

size_t cg_locindex_find(const cg_locindex *ix, cg_point p, size_t *out, size_t max)
{
    /* Written so that NaN coordinates fail the test and find nothing. */
    if (!(p.x >= ix->extent.min_x && p.x <= ix->extent.max_x && p.y >= ix->extent.min_y &&
          p.y <= ix->extent.max_y))
        return 0;
    uint32_t cx = (uint32_t)((p.x - ix->extent.min_x) * ix->inv_w);
    uint32_t cy = (uint32_t)((p.y - ix->extent.min_y) * ix->inv_h);
    if (cx >= ix->nx)
        cx = ix->nx - 1;
    if (cy >= ix->ny)
        cy = ix->ny - 1;
    size_t cell = (size_t)cy * ix->nx + cx;
    size_t found = 0;
    for (uint32_t i = ix->cell_start[cell]; i < ix->cell_start[cell + 1]; i++) {
        const li_entry *e = &ix->entries[i];
        int inside = 1;
        if (e->n_edges != FULL) {
            inside = 0;
            const li_edge *edge = ix->edges + e->first_edge;
            for (uint32_t k = 0; k < e->n_edges; k++)
                inside ^= edge_crosses_ray(&edge[k], p);
        }
        if (inside) {
            if (found < max)
                out[found] = e->poly;
            found++;
        }
    }
    return found;
}

size_t cg_locindex_memory(const cg_locindex *ix)
{
    if (!ix)
        return 0;
    return sizeof(*ix) + sizeof(uint32_t) * ((size_t)ix->nx * ix->ny + 1) +
           sizeof(li_entry) * ix->n_entries + sizeof(li_edge) * ix->n_edges;
}
