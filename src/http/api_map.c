/*
 * The base map: civgrid's own roads, building footprints and the outlines of streets and
 * communities (with their names) as vector tiles of GeoJSON, GET /api/v1/basemap/{z}/{x}/{y}, so
 * the maps need no tile server on the internet. Public: residents need a map, and roads,
 * footprints and area names say nothing about people (grids below community level, their teams
 * and grades are not in it; building household counts are left out).
 *
 * An index of every place, in Web Mercator world units, is built once per (places generation,
 * grid generation) on the first tile asked for and shared by all threads; a newer generation
 * builds a new one, and the old one goes when its last request does. A tile then costs a look at
 * the features near it: features below their class's zoom are skipped, roads and outlines are
 * clipped to the tile (plus a few pixels), every line and ring is simplified by Douglas–Peucker
 * with half a pixel of tolerance, features smaller than a pixel are dropped, and coordinates get
 * only the decimals a pixel needs. A tile holds at most MAX_FEATURES features and MAX_BYTES
 * bytes: the features are written most important first (outlines, labels, roads by class,
 * buildings), so a tile over a cap loses the least important ones and says so ("truncated").
 *
 * Tiles carry an ETag of the generations, so browsers revalidate with If-None-Match and get 304.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geojson.h"
#include "geo/simplify.h"
#include "http/http.h"

#define CONTENT_GEOJSON "application/geo+json"
#define CONTENT_JSON    "application/json"
#define TILE_MAX_ZOOM   20
#define CELL_ZOOM       15         /* index cells are tiles of this zoom */
#define CELLS_MAX       (1L << 22) /* a coarser cell zoom when the data spreads wider */
#define BUFFER_PX       4.0        /* lines are clipped this far beyond the tile edge */
#define TOLERANCE_PX    0.5
#define MAX_FEATURES    5000
#define MAX_BYTES       (1024 * 1024)
#define BUILDING_ZOOM   15
#define FORMAT_VERSION  1 /* in the ETag: bump when the tile content changes shape */

enum { LAYER_OUTLINE, LAYER_LABEL, LAYER_ROAD, LAYER_BUILDING };

typedef struct {
    uint32_t first_ring, n_rings; /* into the index's ring ends */
    uint32_t props;               /* offset of the properties JSON in the string pool */
    uint32_t sort;                /* layer and class: lower is more important */
    uint8_t layer, minzoom;
    cg_bbox box; /* world units */
} feature;

/* A ring or line: points from the previous ring's end to this end; `starts` marks a polygon's
 * outer ring (buildings), so holes follow their outer ring. */
typedef struct {
    uint32_t end;
    uint8_t starts;
} ring_end;

typedef struct basemap {
    int64_t places_gen, grid_gen;
    int refs; /* requests holding it, plus one while current */
    feature *features;
    size_t n_features, cap_features;
    ring_end *rings;
    size_t n_rings, cap_rings;
    cg_point *pts; /* world units */
    size_t n_pts, cap_pts;
    size_t max_ring; /* the longest ring or line, for the per-request scratch */
    cg_buf pool;     /* properties JSON, NUL-separated */
    cg_bbox extent;  /* lon/lat of everything */
    /* features visible below the cell zoom, in priority order */
    uint32_t *major;
    size_t n_major;
    /* cells: CSR over the tiles of cell_zoom covering the extent */
    int cell_zoom;
    long cx0, cy0, nx, ny;
    uint32_t *cell_start, *cell_items;
    char etag[64];
} basemap;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER; /* one build at a time */
static basemap *current;

static void basemap_free(basemap *m)
{
    if (!m)
        return;
    free(m->features);
    free(m->rings);
    free(m->pts);
    free(m->major);
    free(m->cell_start);
    free(m->cell_items);
    cg_buf_free(&m->pool);
    free(m);
}

static void release_locked(basemap *m)
{
    if (--m->refs == 0)
        basemap_free(m);
}

/* ---- building the index ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

typedef struct {
    basemap *m;
    cg_err *err;
    int failed;
} build_ctx;

static int oom(build_ctx *c)
{
    c->failed = 1;
    cg_err_set(c->err, CG_ENOMEM, NULL, "out of memory building the base map");
    return 1;
}

/* Starts a feature whose properties are the JSON members in b (without braces). */
static feature *feature_begin(build_ctx *c, int layer, int minzoom, unsigned cls, cg_buf *props)
{
    basemap *m = c->m;
    if (grow((void **)&m->features, &m->cap_features, m->n_features + 1, sizeof(feature))) {
        oom(c);
        return NULL;
    }
    feature *f = &m->features[m->n_features++];
    memset(f, 0, sizeof *f);
    f->layer = (uint8_t)layer;
    f->minzoom = (uint8_t)minzoom;
    f->sort = (uint32_t)layer << 8 | cls;
    f->first_ring = (uint32_t)m->n_rings;
    f->props = (uint32_t)m->pool.len;
    cg_buf_append(&m->pool, props->data ? props->data : "", props->len + 1);
    cg_bbox_empty(&f->box);
    return f;
}

/* Appends a ring or line of lon/lat points to the feature begun last. */
static int feature_ring(build_ctx *c, feature *f, const cg_point *pts, size_t n, int starts)
{
    basemap *m = c->m;
    if (grow((void **)&m->pts, &m->cap_pts, m->n_pts + n, sizeof(cg_point)) ||
        grow((void **)&m->rings, &m->cap_rings, m->n_rings + 1, sizeof(ring_end)))
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        cg_point w = cg_mercator_from_lonlat(pts[i]);
        m->pts[m->n_pts++] = w;
        cg_bbox_extend(&f->box, w);
        cg_bbox_extend(&m->extent, pts[i]);
    }
    m->rings[m->n_rings].end = (uint32_t)m->n_pts;
    m->rings[m->n_rings].starts = (uint8_t)starts;
    m->n_rings++;
    f->n_rings++;
    if (n > m->max_ring)
        m->max_ring = n;
    return 0;
}

static void put_names(cg_buf *b, const char *zh, const char *en)
{
    if (zh[0]) {
        cg_buf_puts(b, ",\"name_zh\":");
        cg_json_write_string(b, zh);
    }
    if (en[0]) {
        cg_buf_puts(b, ",\"name_en\":");
        cg_json_write_string(b, en);
    }
}

/* The zoom from which a road class is drawn (roughly as OpenStreetMap's own map does). */
static int road_minzoom(cg_road_class c)
{
    switch (c) {
    case CG_ROAD_MOTORWAY:
    case CG_ROAD_TRUNK:
        return 5;
    case CG_ROAD_PRIMARY:
        return 8;
    case CG_ROAD_SECONDARY:
        return 9;
    case CG_ROAD_TERTIARY:
        return 11;
    case CG_ROAD_UNCLASSIFIED:
    case CG_ROAD_RESIDENTIAL:
    case CG_ROAD_LIVING_STREET:
        return 13;
    case CG_ROAD_PEDESTRIAN:
        return 14;
    case CG_ROAD_SERVICE:
    case CG_ROAD_TRACK:
        return 15;
    default:
        return 16;
    }
}

static int on_way(void *ctx, const cg_way *w)
{
    build_ctx *c = ctx;
    cg_buf props;
    cg_buf_init(&props);
    cg_buf_puts(&props, "\"layer\":\"road\",\"class\":");
    cg_json_write_string(&props, cg_road_class_name(w->road_class));
    put_names(&props, w->name_zh, w->name_en);
    if (w->oneway)
        cg_buf_puts(&props, ",\"oneway\":true");
    feature *f =
        feature_begin(c, LAYER_ROAD, road_minzoom(w->road_class), (unsigned)w->road_class, &props);
    cg_buf_free(&props);
    return !f || feature_ring(c, f, w->pts, w->n, 0);
}

static int add_polygons(build_ctx *c, feature *f, const cg_mpoly *g)
{
    for (size_t p = 0; p < g->n_polys; p++)
        for (size_t r = 0; r < g->polys[p].n_rings; r++) {
            const cg_ring *ring = &g->polys[p].rings[r];
            if (ring->n >= 4 && feature_ring(c, f, ring->pts, ring->n, r == 0))
                return 1;
        }
    return 0;
}

static int on_building(void *ctx, const cg_building *b)
{
    build_ctx *c = ctx;
    cg_buf props;
    cg_buf_init(&props);
    cg_buf_puts(&props, "\"layer\":\"building\",\"kind\":");
    cg_json_write_string(&props, b->kind);
    put_names(&props, b->name_zh, b->name_en);
    if (b->levels > 0)
        cg_buf_printf(&props, ",\"levels\":%d", b->levels);
    feature *f = feature_begin(c, LAYER_BUILDING, BUILDING_ZOOM, 0, &props);
    cg_buf_free(&props);
    return !f || add_polygons(c, f, &b->geom);
}

/* A point inside a grid for its name: the centroid when it lies inside, else the middle of the
 * widest run of the outer ring across the centroid's latitude. */
static cg_point label_point(const cg_mpoly *g)
{
    cg_point p = cg_mpoly_centroid(g);
    if (cg_mpoly_contains(g, p) || !g->n_polys || !g->polys[0].n_rings)
        return p;
    const cg_ring *r = &g->polys[0].rings[0];
    double best = -1;
    cg_point at = r->pts[0];
    double xs[64];
    size_t n = 0;
    for (size_t i = 0; i + 1 < r->n && n < 64; i++) {
        cg_point a = r->pts[i], b = r->pts[i + 1];
        if ((a.y <= p.y) != (b.y <= p.y))
            xs[n++] = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            cg_point mid = {(xs[i] + xs[j]) / 2, p.y};
            if (xs[j] > xs[i] && xs[j] - xs[i] > best && cg_mpoly_contains(g, mid)) {
                best = xs[j] - xs[i];
                at = mid;
            }
        }
    return at;
}

static int add_outline(build_ctx *c, const cg_grid *g)
{
    int street = g->level == CG_LEVEL_STREET;
    cg_buf props;
    cg_buf_init(&props);
    cg_buf_printf(&props,
                  "\"layer\":\"outline\",\"level\":\"%s\",\"code\":", cg_level_name(g->level));
    cg_json_write_string(&props, g->code);
    put_names(&props, g->name_zh, g->name_en);
    feature *f = feature_begin(c, LAYER_OUTLINE, street ? 10 : 13, (unsigned)g->level, &props);
    int rc = !f || add_polygons(c, f, &g->geom);
    if (!rc) {
        for (uint32_t i = 0; i < f->n_rings; i++)
            c->m->rings[f->first_ring + i].starts = 0; /* drawn as lines */
        cg_buf_reset(&props);
        cg_buf_printf(&props,
                      "\"layer\":\"label\",\"level\":\"%s\",\"code\":", cg_level_name(g->level));
        cg_json_write_string(&props, g->code);
        put_names(&props, g->name_zh, g->name_en);
        cg_point at = label_point(&g->geom);
        feature *l = feature_begin(c, LAYER_LABEL, street ? 11 : 14, (unsigned)g->level, &props);
        rc = !l || feature_ring(c, l, &at, 1, 0);
    }
    cg_buf_free(&props);
    return rc;
}

static int by_priority(const void *a, const void *b)
{
    const feature *x = a, *y = b;
    return x->sort < y->sort ? -1 : x->sort > y->sort;
}

/* The cell range of a world box at the index's cell zoom, clamped to the grid. */
static void cell_range(const basemap *m, const cg_bbox *b, long r[4])
{
    double n = ldexp(1.0, m->cell_zoom);
    long x0 = (long)floor(b->min_x * n) - m->cx0, y0 = (long)floor(b->min_y * n) - m->cy0;
    long x1 = (long)floor(b->max_x * n) - m->cx0, y1 = (long)floor(b->max_y * n) - m->cy0;
    r[0] = x0 < 0 ? 0 : x0;
    r[1] = y0 < 0 ? 0 : y0;
    r[2] = x1 >= m->nx ? m->nx - 1 : x1;
    r[3] = y1 >= m->ny ? m->ny - 1 : y1;
}

static int index_cells(basemap *m)
{
    if (!m->n_features)
        return 0;
    cg_bbox all;
    cg_bbox_empty(&all);
    for (size_t i = 0; i < m->n_features; i++) {
        cg_bbox_extend(&all, (cg_point){m->features[i].box.min_x, m->features[i].box.min_y});
        cg_bbox_extend(&all, (cg_point){m->features[i].box.max_x, m->features[i].box.max_y});
    }
    for (m->cell_zoom = CELL_ZOOM;; m->cell_zoom--) {
        double n = ldexp(1.0, m->cell_zoom);
        m->cx0 = (long)floor(all.min_x * n);
        m->cy0 = (long)floor(all.min_y * n);
        m->nx = (long)floor(all.max_x * n) - m->cx0 + 1;
        m->ny = (long)floor(all.max_y * n) - m->cy0 + 1;
        if (m->nx * m->ny <= CELLS_MAX || m->cell_zoom == 0)
            break;
    }
    size_t cells = (size_t)(m->nx * m->ny);
    m->cell_start = calloc(cells + 1, sizeof(uint32_t));
    if (!m->cell_start)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < m->n_features; i++) {
        long r[4];
        cell_range(m, &m->features[i].box, r);
        for (long y = r[1]; y <= r[3]; y++)
            for (long x = r[0]; x <= r[2]; x++) {
                m->cell_start[y * m->nx + x + 1]++;
                total++;
            }
    }
    for (size_t c = 0; c < cells; c++)
        m->cell_start[c + 1] += m->cell_start[c];
    m->cell_items = malloc((total ? total : 1) * sizeof(uint32_t));
    uint32_t *fill = malloc(cells * sizeof(uint32_t));
    if (!m->cell_items || !fill) {
        free(fill);
        return -1;
    }
    memcpy(fill, m->cell_start, cells * sizeof(uint32_t));
    for (size_t i = 0; i < m->n_features; i++) {
        long r[4];
        cell_range(m, &m->features[i].box, r);
        for (long y = r[1]; y <= r[3]; y++)
            for (long x = r[0]; x <= r[2]; x++)
                m->cell_items[fill[y * m->nx + x]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

static int basemap_build(cg_store *s, const cg_atlas *a, int64_t places_gen, basemap **out,
                         cg_err *err)
{
    basemap *m = calloc(1, sizeof *m);
    if (!m)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory building the base map");
    cg_buf_init(&m->pool);
    cg_bbox_empty(&m->extent);
    m->places_gen = places_gen;
    m->grid_gen = cg_atlas_generation(a);
    build_ctx c = {m, err, 0};
    for (size_t i = 0; i < cg_atlas_count(a) && !c.failed; i++) {
        const cg_grid *g = cg_atlas_grid(a, i);
        if ((g->level == CG_LEVEL_STREET || g->level == CG_LEVEL_COMMUNITY) && g->geom.n_polys)
            add_outline(&c, g);
    }
    if (!c.failed && (cg_store_way_each(s, NULL, on_way, &c, err) || c.failed ||
                      cg_store_building_each(s, NULL, on_building, &c, err) || c.failed)) {
        basemap_free(m);
        cg_err_prefix(err, "building the base map");
        return -1;
    }
    if (c.failed) {
        basemap_free(m);
        return -1;
    }
    qsort(m->features, m->n_features, sizeof(feature), by_priority);
    m->major = malloc((m->n_features ? m->n_features : 1) * sizeof(uint32_t));
    if (!m->major || index_cells(m)) {
        basemap_free(m);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory building the base map");
    }
    for (size_t i = 0; i < m->n_features; i++)
        if (m->features[i].minzoom < CELL_ZOOM)
            m->major[m->n_major++] = (uint32_t)i;
    snprintf(m->etag, sizeof m->etag, "\"basemap-%d-%lld-%lld\"", FORMAT_VERSION,
             (long long)places_gen, (long long)m->grid_gen);
    m->refs = 1;
    *out = m;
    return 0;
}

/* The index for the request's store and atlas, built when the generations moved; one reference
 * taken (give it back with release). */
static int acquire(cg_http_req *req, basemap **out, cg_err *err)
{
    cg_store *s;
    if (cg_http_store(req, &s, err))
        return -1;
    const cg_atlas *a = cg_http_atlas(req);
    int64_t places_gen = cg_store_places_generation(s), grid_gen = cg_atlas_generation(a);
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&lock);
        basemap *m = current;
        if (m && m->places_gen == places_gen && m->grid_gen == grid_gen) {
            m->refs++;
            pthread_mutex_unlock(&lock);
            *out = m;
            return 0;
        }
        pthread_mutex_unlock(&lock);
        if (attempt)
            break;
        /* Build outside the lock that tile requests take; a second request for the same
         * generations waits here and then finds the first one's index. */
        pthread_mutex_lock(&build_lock);
        pthread_mutex_lock(&lock);
        int fresh = current && current->places_gen == places_gen && current->grid_gen == grid_gen;
        pthread_mutex_unlock(&lock);
        if (!fresh) {
            basemap *n = NULL;
            if (basemap_build(s, a, places_gen, &n, err)) {
                pthread_mutex_unlock(&build_lock);
                return -1;
            }
            pthread_mutex_lock(&lock);
            if (current)
                release_locked(current);
            current = n;
            pthread_mutex_unlock(&lock);
        }
        pthread_mutex_unlock(&build_lock);
    }
    /* The generations moved while building: use what is there, it is the newer one. */
    pthread_mutex_lock(&lock);
    current->refs++;
    *out = current;
    pthread_mutex_unlock(&lock);
    return 0;
}

static void release(basemap *m)
{
    pthread_mutex_lock(&lock);
    release_locked(m);
    pthread_mutex_unlock(&lock);
}

/* ---- writing a tile ---- */

typedef struct {
    cg_buf *b;
    int z, digits;
    double scale;    /* world units -> pixels */
    cg_bbox tile;    /* world units */
    cg_bbox clip_px; /* tile pixels, with the buffer */
    cg_point *px, *clipped;
    size_t *starts;
    unsigned char *keep;
} tile_ctx;

/* A coordinate with `digits` decimals, without printf (most of a tile's bytes are these). */
static void put_coord(cg_buf *b, double v, int digits)
{
    static const long long pow10[] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};
    long long n = llround(fabs(v) * (double)pow10[digits]);
    long long whole = n / pow10[digits], frac = n % pow10[digits];
    char tmp[40], *p = tmp + sizeof tmp;
    if (digits) {
        for (int d = 0; d < digits; d++) {
            *--p = (char)('0' + frac % 10);
            frac /= 10;
        }
        *--p = '.';
    }
    do {
        *--p = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (v < 0 && n)
        *--p = '-';
    cg_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void put_point(tile_ctx *t, cg_point px)
{
    cg_point w = {t->tile.min_x + px.x / t->scale, t->tile.min_y + px.y / t->scale};
    cg_point ll = cg_mercator_to_lonlat(w);
    cg_buf_putc(t->b, '[');
    put_coord(t->b, ll.x, t->digits);
    cg_buf_putc(t->b, ',');
    put_coord(t->b, ll.y, t->digits);
    cg_buf_putc(t->b, ']');
}

static void to_pixels(tile_ctx *t, const cg_point *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t->px[i].x = (w[i].x - t->tile.min_x) * t->scale;
        t->px[i].y = (w[i].y - t->tile.min_y) * t->scale;
    }
}

/* Writes the clipped, simplified parts of one line as JSON arrays separated by commas;
 * returns how many were written. */
static size_t put_line_parts(tile_ctx *t, const cg_point *w, size_t n, int *first)
{
    to_pixels(t, w, n);
    size_t parts = cg_clip_polyline(t->px, n, &t->clip_px, t->clipped, t->starts);
    size_t written = 0;
    for (size_t k = 0; k < parts; k++) {
        const cg_point *p = t->clipped + t->starts[k];
        size_t m = t->starts[k + 1] - t->starts[k];
        cg_simplify_dp(p, m, TOLERANCE_PX, t->keep);
        /* a part shorter than a pixel adds nothing visible */
        double dx = p[m - 1].x - p[0].x, dy = p[m - 1].y - p[0].y;
        if (m == 2 && dx * dx + dy * dy < 1)
            continue;
        cg_buf_puts(t->b, *first ? "[" : ",[");
        *first = 0;
        int sep = 0;
        for (size_t i = 0; i < m; i++)
            if (t->keep[i]) {
                if (sep)
                    cg_buf_putc(t->b, ',');
                put_point(t, p[i]);
                sep = 1;
            }
        cg_buf_putc(t->b, ']');
        written++;
    }
    return written;
}

/* Writes one feature; 0 when nothing of it is visible in the tile (the caller rolls back). */
static int put_feature(tile_ctx *t, const basemap *m, const feature *f)
{
    cg_buf *b = t->b;
    cg_buf_puts(b, "{\"type\":\"Feature\",\"properties\":{");
    cg_buf_puts(b, m->pool.data + f->props);
    cg_buf_puts(b, "},\"geometry\":");
    const ring_end *r = m->rings + f->first_ring;
    size_t begin = f->first_ring ? m->rings[f->first_ring - 1].end : 0;
    if (f->layer == LAYER_LABEL) {
        cg_point w = m->pts[begin];
        if (w.x < t->tile.min_x || w.x >= t->tile.max_x || w.y < t->tile.min_y ||
            w.y >= t->tile.max_y)
            return 0; /* in exactly one tile, so a name is drawn once */
        to_pixels(t, &w, 1);
        cg_buf_puts(b, "{\"type\":\"Point\",\"coordinates\":");
        put_point(t, t->px[0]);
        cg_buf_puts(b, "}}");
        return 1;
    }
    if (f->layer == LAYER_BUILDING) {
        /* Small: drawn whole (never clipped), each ring simplified; a ring smaller than the
         * tolerance goes, and a polygon whose outer ring went goes with its holes. */
        size_t at = b->len, polys = 0;
        cg_buf_puts(b, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
        int open = 0, skip = 0;
        for (uint32_t i = 0; i < f->n_rings; i++) {
            size_t end = r[i].end, n = end - begin;
            const cg_point *w = m->pts + begin;
            begin = end;
            if (r[i].starts) {
                if (open)
                    cg_buf_putc(b, ']');
                open = 0;
                skip = 0;
            } else if (skip)
                continue;
            to_pixels(t, w, n);
            if (cg_simplify_ring_dp(t->px, n, TOLERANCE_PX, t->keep) < 4) {
                skip = r[i].starts;
                continue;
            }
            cg_buf_puts(b, open ? ",[" : (polys++ ? ",[[" : "[["));
            open = 1;
            int sep = 0;
            for (size_t k = 0; k < n; k++)
                if (t->keep[k]) {
                    if (sep)
                        cg_buf_putc(b, ',');
                    put_point(t, t->px[k]);
                    sep = 1;
                }
            cg_buf_putc(b, ']');
        }
        if (open)
            cg_buf_putc(b, ']');
        cg_buf_puts(b, "]}}");
        (void)at;
        return polys > 0;
    }
    /* roads and outlines: lines, clipped */
    cg_buf_puts(b, "{\"type\":\"MultiLineString\",\"coordinates\":[");
    int first = 1;
    size_t parts = 0;
    for (uint32_t i = 0; i < f->n_rings; i++) {
        size_t end = r[i].end;
        parts += put_line_parts(t, m->pts + begin, end - begin, &first);
        begin = end;
    }
    cg_buf_puts(b, "]}}");
    return parts > 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses a path parameter as an integer in [min, max]; the error names the field. */
static int path_long(const char *s, const char *field, long min, long max, long *out, cg_err *err)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || s[0] == '+' || s[0] == ' ' || v < min || v > max)
        return cg_err_set(err, CG_EINVAL, field,
                          "%s must be an integer from %ld to %ld, not '%.32s'", field, min, max, s);
    *out = v;
    return 0;
}

static void set_cache_headers(cg_http_req *req, const basemap *m)
{
    cg_http_add_header(req, "ETag", cg_arena_sprintf(req->arena, "%s", m->etag));
    cg_http_add_header(req, "Cache-Control", "public, max-age=300");
}

static int not_modified(cg_http_req *req, const basemap *m)
{
    const char *inm = cg_http_header(req, "If-None-Match");
    if (!inm || !strstr(inm, m->etag))
        return 0;
    set_cache_headers(req, m);
    cg_http_reply_static(req, 304, CONTENT_GEOJSON, "", 0);
    return 1;
}

/* ---- GET /api/v1/basemap/{z}/{x}/{y} ---- */

static void handle_tile(cg_http_req *req)
{
    static const char *const known[] = {"max_features", NULL};
    cg_err err;
    cg_err_clear(&err);
    long z, x, y, max_features = MAX_FEATURES;
    int present;
    if (cg_query_check_known(&req->query, known, &err) ||
        path_long(req->params[0], "z", 0, TILE_MAX_ZOOM, &z, &err) ||
        path_long(req->params[1], "x", 0, (1L << z) - 1, &x, &err) ||
        path_long(req->params[2], "y", 0, (1L << z) - 1, &y, &err) ||
        cg_query_long(&req->query, "max_features", 1, MAX_FEATURES, &max_features, &present,
                      &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    basemap *m;
    if (acquire(req, &m, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    if (not_modified(req, m)) {
        release(m);
        return;
    }
    tile_ctx t = {0};
    t.b = cg_http_scratch(req);
    t.z = (int)z;
    t.scale = ldexp(CG_TILE_SIZE, (int)z);
    t.tile = cg_tile_world_bbox((int)z, x, y);
    t.clip_px =
        (cg_bbox){-BUFFER_PX, -BUFFER_PX, CG_TILE_SIZE + BUFFER_PX, CG_TILE_SIZE + BUFFER_PX};
    /* decimals of a degree for a quarter of a pixel at the tile's latitude and zoom */
    t.digits = (int)ceil(log10(t.scale / 360.0 * 4));
    if (t.digits < 1)
        t.digits = 1;
    if (t.digits > 8)
        t.digits = 8;
    size_t ring = m->max_ring ? m->max_ring : 1;
    t.px = cg_arena_alloc(req->arena, ring * sizeof(cg_point));
    t.clipped = cg_arena_alloc(req->arena, 2 * ring * sizeof(cg_point));
    t.starts = cg_arena_alloc(req->arena, (ring + 1) * sizeof(size_t));
    t.keep = cg_arena_alloc(req->arena, 2 * ring);

    /* candidates, in priority order */
    double buf_w = BUFFER_PX / t.scale;
    cg_bbox near = {t.tile.min_x - buf_w, t.tile.min_y - buf_w, t.tile.max_x + buf_w,
                    t.tile.max_y + buf_w};
    const uint32_t *cand;
    size_t n_cand = 0;
    if (z < m->cell_zoom || !m->n_features) {
        cand = m->major;
        n_cand = m->n_major;
    } else {
        long r[4];
        cell_range(m, &near, r);
        size_t total = 0;
        for (long cy = r[1]; cy <= r[3]; cy++)
            for (long cx = r[0]; cx <= r[2]; cx++)
                total += m->cell_start[cy * m->nx + cx + 1] - m->cell_start[cy * m->nx + cx];
        uint32_t *list = cg_arena_alloc(req->arena, (total ? total : 1) * sizeof(uint32_t));
        for (long cy = r[1]; cy <= r[3]; cy++)
            for (long cx = r[0]; cx <= r[2]; cx++) {
                size_t c = (size_t)(cy * m->nx + cx);
                for (uint32_t k = m->cell_start[c]; k < m->cell_start[c + 1]; k++)
                    list[n_cand++] = m->cell_items[k];
            }
        qsort(list, n_cand, sizeof *list, cmp_u32);
        size_t u = 0;
        for (size_t k = 0; k < n_cand; k++)
            if (!u || list[u - 1] != list[k])
                list[u++] = list[k];
        n_cand = u;
        cand = list;
    }

    cg_buf *b = t.b;
    cg_buf_printf(b,
                  "{\"type\":\"FeatureCollection\",\"tile\":{\"z\":%ld,\"x\":%ld,\"y\":%ld},"
                  "\"features\":[",
                  z, x, y);
    size_t written = 0, omitted = 0;
    for (size_t k = 0; k < n_cand; k++) {
        const feature *f = &m->features[cand[k]];
        if (f->minzoom > z || !cg_bbox_intersects(&f->box, &near))
            continue;
        double w = (f->box.max_x - f->box.min_x) * t.scale,
               h = (f->box.max_y - f->box.min_y) * t.scale;
        if (f->layer != LAYER_LABEL && w < 1 && h < 1)
            continue; /* smaller than a pixel */
        if (written >= (size_t)max_features || b->len >= MAX_BYTES) {
            omitted++;
            continue;
        }
        size_t mark = b->len;
        if (written)
            cg_buf_putc(b, ',');
        if (!put_feature(&t, m, f)) {
            b->len = mark;
            b->data[mark] = '\0';
        } else if (b->len > MAX_BYTES) {
            b->len = mark; /* this one would break the byte cap */
            b->data[mark] = '\0';
            omitted++;
        } else
            written++;
    }
    cg_buf_printf(b, "],\"count\":%zu,\"truncated\":%s", written, omitted ? "true" : "false");
    if (omitted)
        cg_buf_printf(b, ",\"omitted\":%zu", omitted);
    cg_buf_putc(b, '}');
    set_cache_headers(req, m);
    release(m);
    cg_http_reply(req, 200, CONTENT_GEOJSON, b);
}

/* ---- GET /api/v1/basemap ---- */

static void handle_info(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    cg_err err;
    cg_err_clear(&err);
    if (cg_query_check_known(&req->query, known, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    basemap *m;
    if (acquire(req, &m, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"tiles\":\"/api/v1/basemap/{z}/{x}/{y}\",\"min_zoom\":0,");
    cg_buf_printf(b, "\"max_zoom\":%d,\"building_zoom\":%d,\"max_features\":%d,\"max_bytes\":%d,",
                  TILE_MAX_ZOOM, BUILDING_ZOOM, MAX_FEATURES, MAX_BYTES);
    if (m->extent.min_x <= m->extent.max_x)
        cg_buf_printf(b, "\"bounds\":[%.6f,%.6f,%.6f,%.6f],", m->extent.min_x, m->extent.min_y,
                      m->extent.max_x, m->extent.max_y);
    else
        cg_buf_puts(b, "\"bounds\":null,");
    cg_buf_puts(b, "\"etag\":");
    cg_json_write_string(b, m->etag);
    cg_buf_putc(b, '}');
    cg_http_add_header(req, "ETag", cg_arena_sprintf(req->arena, "%s", m->etag));
    cg_http_add_header(req, "Cache-Control", "no-cache");
    release(m);
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

const cg_route cg_map_routes[] = {
    {"GET", "/api/v1/basemap", handle_info,
     "the base map's extent, zoom range and tile URL (public)", CG_PERM_PUBLIC},
    {"GET", "/api/v1/basemap/{z}/{x}/{y}", handle_tile,
     "a base-map tile: roads, buildings, street and community outlines as GeoJSON (public)",
     CG_PERM_PUBLIC},
};
const size_t cg_map_routes_count = sizeof cg_map_routes / sizeof cg_map_routes[0];
