/*
 * Place rows in SQLite: roads (ways), buildings, points of interest and administrative
 * boundaries. Places are keyed by their source id (an OSM id, or the demo generator's): a put
 * with an id that exists replaces that row, so rerunning an import updates rather than fails; a
 * put with id 0 gets a fresh id. Ways, buildings and POIs are indexed by an R*Tree for bbox
 * lists; the R*Tree rounds outwards to 32-bit floats, so each query also tests the row's exact
 * bbox columns.
 *
 * Way coordinates are stored as blobs: node ids as little-endian int64, points as little-endian
 * float64 (x, y) pairs. A city has ~1M road nodes; one row per way with two blobs keeps an import
 * to a few hundred thousand inserts instead of millions of node rows, and the routing issue reads
 * whole ways anyway.
 *
 * The structs handed to the *_each callbacks (and the arrays they point to) are valid only during
 * the call: copy what you keep.
 */
#include "store/sqlite/db.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_le64(p, v);
}

static double get_f64(const uint8_t *p)
{
    uint64_t v = get_le64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static void bind_id(sqlite3_stmt *st, int64_t id)
{
    if (id)
        sqlite3_bind_int64(st, 1, id);
    else
        sqlite3_bind_null(st, 1);
}

/*
 * Writes a bound row statement and its R*Tree entry as one unit (see sq_write_begin). The row is
 * the statement's last insert, so its rowid is the R*Tree id even when the row got a fresh id.
 */
static int put_indexed(cg_store *s, sq_lease *row, sq_stmt_id rtree_id, const char *rtree_sql,
                       const cg_bbox *box, sq_place_kind kind, cg_err *err)
{
    if (sq_write_begin(s, err)) {
        sq_release(row);
        return -1;
    }
    int ok = sq_exec(s, row, err) == 0;
    if (ok) {
        int64_t id = sqlite3_last_insert_rowid(s->db);
        sq_lease l;
        ok = sq_acquire(s, rtree_id, rtree_sql, &l, err) == 0;
        if (ok) {
            sqlite3_bind_int64(l.st, 1, id);
            sqlite3_bind_double(l.st, 2, box->min_x);
            sqlite3_bind_double(l.st, 3, box->max_x);
            sqlite3_bind_double(l.st, 4, box->min_y);
            sqlite3_bind_double(l.st, 5, box->max_y);
            ok = sq_exec(s, &l, err) == 0;
        }
    }
    ok = ok && sq_audit_place(s, kind, err) == 0;
    return sq_write_end(s, ok, err);
}

/* Decodes the current row and hands it to the caller's callback: 0 go on, 1 stop, -1 error. */
typedef int (*row_fn)(void *state, sqlite3_stmt *st, cg_err *err);

static int each_row(cg_store *s, sq_lease *l, row_fn fn, void *state, const char *what, cg_err *err)
{
    int rc, result = 0;
    while ((rc = sqlite3_step(l->st)) == SQLITE_ROW) {
        int r = fn(state, l->st, err);
        if (r) {
            result = r < 0 ? -1 : 0;
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, what, err);
    sq_release(l);
    return result;
}

/* Acquires the all-rows or the bbox statement of a kind and binds the box. */
static int acquire_maybe_bbox(cg_store *s, const cg_bbox *bbox, sq_stmt_id all_id,
                              const char *all_sql, sq_stmt_id bbox_id, const char *bbox_sql,
                              sq_lease *l, cg_err *err)
{
    if (sq_acquire(s, bbox ? bbox_id : all_id, bbox ? bbox_sql : all_sql, l, err))
        return -1;
    if (bbox)
        sq_bind_bbox(l->st, bbox);
    return 0;
}

/* The R*Tree join and exact bbox test shared by the bbox lists; `t` is the place table alias. */
#define BBOX_JOIN(table)                                                                           \
    " JOIN " table "_rtree r ON r.id = t.id"                                                       \
    " WHERE r.min_x <= :max_x AND r.max_x >= :min_x AND r.min_y <= :max_y AND r.max_y >= :min_y"   \
    " AND t.min_x <= :max_x AND t.max_x >= :min_x AND t.min_y <= :max_y AND t.max_y >= :min_y"

/* ---- ways ---- */

int cg_store_way_put(cg_store *s, const cg_way *w, cg_err *err)
{
    if (w->n < 2)
        return cg_err_set(err, CG_EINVAL, "nodes", "way %" PRId64 " needs at least two nodes",
                          w->id);
    if (w->oneway < -1 || w->oneway > 1)
        return cg_err_set(err, CG_EINVAL, "oneway", "way %" PRId64 ": oneway must be -1, 0 or 1",
                          w->id);
    uint8_t *blob = malloc(24 * w->n);
    if (!blob)
        return cg_err_set(err, CG_ENOMEM, "nodes", "out of memory storing way %" PRId64, w->id);
    uint8_t *ids = blob, *pts = blob + 8 * w->n;
    cg_bbox box;
    cg_bbox_empty(&box);
    for (size_t i = 0; i < w->n; i++) {
        put_le64(ids + 8 * i, (uint64_t)w->node_ids[i]);
        put_f64(pts + 16 * i, w->pts[i].x);
        put_f64(pts + 16 * i + 8, w->pts[i].y);
        cg_bbox_extend(&box, w->pts[i]);
    }
    sq_lease l;
    int result = -1;
    if (sq_acquire(s, SQ_WAY_PUT,
                   "INSERT OR REPLACE INTO ways (id, road_class, oneway, maxspeed_kmh, access, "
                   "name_zh, name_en, n, node_ids, pts, min_x, min_y, max_x, max_y) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                   &l, err) == 0) {
        bind_id(l.st, w->id);
        sqlite3_bind_int(l.st, 2, (int)w->road_class);
        sqlite3_bind_int(l.st, 3, w->oneway);
        sqlite3_bind_int(l.st, 4, w->maxspeed_kmh);
        sqlite3_bind_text(l.st, 5, w->access, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 6, w->name_zh, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 7, w->name_en, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l.st, 8, (int64_t)w->n);
        sqlite3_bind_blob(l.st, 9, ids, (int)(8 * w->n), SQLITE_STATIC);
        sqlite3_bind_blob(l.st, 10, pts, (int)(16 * w->n), SQLITE_STATIC);
        sqlite3_bind_double(l.st, 11, box.min_x);
        sqlite3_bind_double(l.st, 12, box.min_y);
        sqlite3_bind_double(l.st, 13, box.max_x);
        sqlite3_bind_double(l.st, 14, box.max_y);
        result = put_indexed(s, &l, SQ_WAY_RTREE_PUT,
                             "INSERT OR REPLACE INTO ways_rtree (id, min_x, max_x, min_y, max_y) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             &box, SQ_PLACE_WAY, err);
    }
    free(blob);
    if (result)
        cg_err_prefix(err, "storing way %" PRId64, w->id);
    return result;
}

typedef struct {
    cg_way_cb cb;
    void *ctx;
    cg_way way; /* reused for every row */
    size_t cap; /* capacity of way.node_ids and way.pts */
} way_state;

static int way_row(void *state, sqlite3_stmt *st, cg_err *err)
{
    way_state *ws = state;
    cg_way *w = &ws->way;
    w->id = sqlite3_column_int64(st, 0);
    w->road_class = (cg_road_class)sqlite3_column_int(st, 1);
    w->oneway = sqlite3_column_int(st, 2);
    w->maxspeed_kmh = sqlite3_column_int(st, 3);
    sq_column_text(st, 4, w->access, sizeof w->access);
    sq_column_text(st, 5, w->name_zh, sizeof w->name_zh);
    sq_column_text(st, 6, w->name_en, sizeof w->name_en);
    int64_t n = sqlite3_column_int64(st, 7);
    const uint8_t *ids = sqlite3_column_blob(st, 8);
    size_t ids_len = (size_t)sqlite3_column_bytes(st, 8);
    const uint8_t *pts = sqlite3_column_blob(st, 9);
    size_t pts_len = (size_t)sqlite3_column_bytes(st, 9);
    if (n < 2 || ids_len != 8 * (size_t)n || pts_len != 16 * (size_t)n)
        return cg_err_set(err, CG_ESCHEMA, "nodes", "way %" PRId64 ": stored nodes are corrupt",
                          w->id);
    if ((size_t)n > ws->cap) {
        int64_t *new_ids = realloc(w->node_ids, (size_t)n * sizeof *new_ids);
        if (new_ids)
            w->node_ids = new_ids;
        cg_point *new_pts = realloc(w->pts, (size_t)n * sizeof *new_pts);
        if (new_pts)
            w->pts = new_pts;
        if (!new_ids || !new_pts)
            return cg_err_set(err, CG_ENOMEM, "nodes", "out of memory reading way %" PRId64, w->id);
        ws->cap = (size_t)n;
    }
    w->n = (size_t)n;
    for (size_t i = 0; i < w->n; i++) {
        w->node_ids[i] = (int64_t)get_le64(ids + 8 * i);
        w->pts[i].x = get_f64(pts + 16 * i);
        w->pts[i].y = get_f64(pts + 16 * i + 8);
    }
    return ws->cb(ws->ctx, w) ? 1 : 0;
}

int cg_store_way_each(cg_store *s, const cg_bbox *bbox, cg_way_cb cb, void *ctx, cg_err *err)
{
#define WAY_COLUMNS                                                                                \
    "t.id, t.road_class, t.oneway, t.maxspeed_kmh, t.access, t.name_zh, t.name_en, t.n, "          \
    "t.node_ids, t.pts"
    sq_lease l;
    if (acquire_maybe_bbox(
            s, bbox, SQ_WAY_ALL, "SELECT " WAY_COLUMNS " FROM ways t ORDER BY t.id", SQ_WAY_BBOX,
            "SELECT " WAY_COLUMNS " FROM ways t" BBOX_JOIN("ways") " ORDER BY t.id", &l, err))
        return -1;
#undef WAY_COLUMNS
    way_state ws = {cb, ctx, {0}, 0};
    int result = each_row(s, &l, way_row, &ws, "listing ways", err);
    cg_way_free(&ws.way);
    return result;
}

/* ---- buildings ---- */

int cg_store_building_put(cg_store *s, const cg_building *b, cg_err *err)
{
    if (b->geom.n_polys == 0)
        return cg_err_set(err, CG_EINVAL, "geometry", "building %" PRId64 " has no geometry",
                          b->id);
    uint8_t *wkb;
    size_t wkb_len;
    if (cg_mpoly_to_wkb(&b->geom, &wkb, &wkb_len))
        return cg_err_set(err, CG_EINVAL, "geometry",
                          "building %" PRId64 ": geometry cannot be encoded", b->id);
    cg_bbox box = cg_mpoly_bbox(&b->geom);
    sq_lease l;
    int result = -1;
    if (sq_acquire(s, SQ_BUILDING_PUT,
                   "INSERT OR REPLACE INTO buildings (id, kind, name_zh, name_en, households, "
                   "levels, geom, min_x, min_y, max_x, max_y) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                   &l, err) == 0) {
        bind_id(l.st, b->id);
        sqlite3_bind_text(l.st, 2, b->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 3, b->name_zh, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 4, b->name_en, -1, SQLITE_STATIC);
        sqlite3_bind_int(l.st, 5, b->households);
        sqlite3_bind_int(l.st, 6, b->levels);
        sqlite3_bind_blob(l.st, 7, wkb, (int)wkb_len, SQLITE_STATIC);
        sqlite3_bind_double(l.st, 8, box.min_x);
        sqlite3_bind_double(l.st, 9, box.min_y);
        sqlite3_bind_double(l.st, 10, box.max_x);
        sqlite3_bind_double(l.st, 11, box.max_y);
        result = put_indexed(s, &l, SQ_BUILDING_RTREE_PUT,
                             "INSERT OR REPLACE INTO buildings_rtree (id, min_x, max_x, min_y, "
                             "max_y) VALUES (?1, ?2, ?3, ?4, ?5)",
                             &box, SQ_PLACE_BUILDING, err);
    }
    free(wkb);
    if (result)
        cg_err_prefix(err, "storing building %" PRId64, b->id);
    return result;
}

typedef struct {
    cg_building_cb cb;
    void *ctx;
} building_state;

static int building_row(void *state, sqlite3_stmt *st, cg_err *err)
{
    building_state *bs = state;
    cg_building b;
    memset(&b, 0, sizeof b);
    b.id = sqlite3_column_int64(st, 0);
    sq_column_text(st, 1, b.kind, sizeof b.kind);
    sq_column_text(st, 2, b.name_zh, sizeof b.name_zh);
    sq_column_text(st, 3, b.name_en, sizeof b.name_en);
    b.households = sqlite3_column_int(st, 4);
    b.levels = sqlite3_column_int(st, 5);
    if (cg_mpoly_from_wkb(sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6), &b.geom,
                          err)) {
        cg_err_prefix(err, "building %" PRId64, b.id);
        return -1;
    }
    int stop = bs->cb(bs->ctx, &b);
    cg_building_free(&b);
    return stop ? 1 : 0;
}

int cg_store_building_each(cg_store *s, const cg_bbox *bbox, cg_building_cb cb, void *ctx,
                           cg_err *err)
{
#define BUILDING_COLUMNS "t.id, t.kind, t.name_zh, t.name_en, t.households, t.levels, t.geom"
    sq_lease l;
    if (acquire_maybe_bbox(
            s, bbox, SQ_BUILDING_ALL, "SELECT " BUILDING_COLUMNS " FROM buildings t ORDER BY t.id",
            SQ_BUILDING_BBOX,
            "SELECT " BUILDING_COLUMNS " FROM buildings t" BBOX_JOIN("buildings") " ORDER BY t.id",
            &l, err))
        return -1;
#undef BUILDING_COLUMNS
    building_state bs = {cb, ctx};
    return each_row(s, &l, building_row, &bs, "listing buildings", err);
}

/* ---- points of interest ---- */

int cg_store_poi_put(cg_store *s, const cg_poi *p, cg_err *err)
{
    if (cg_point_check(p->at, "at", err)) {
        cg_err_prefix(err, "point of interest %" PRId64, p->id);
        return -1;
    }
    /* A point is its own box; the R*Tree rounds it outwards to a tiny box around it. */
    cg_bbox box = {p->at.x, p->at.y, p->at.x, p->at.y};
    sq_lease l;
    if (sq_acquire(s, SQ_POI_PUT,
                   "INSERT OR REPLACE INTO pois (id, kind, name_zh, name_en, x, y) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   &l, err))
        return -1;
    bind_id(l.st, p->id);
    sqlite3_bind_text(l.st, 2, p->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 3, p->name_zh, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 4, p->name_en, -1, SQLITE_STATIC);
    sqlite3_bind_double(l.st, 5, p->at.x);
    sqlite3_bind_double(l.st, 6, p->at.y);
    if (put_indexed(s, &l, SQ_POI_RTREE_PUT,
                    "INSERT OR REPLACE INTO pois_rtree (id, min_x, max_x, min_y, max_y) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
                    &box, SQ_PLACE_POI, err)) {
        cg_err_prefix(err, "storing point of interest %" PRId64, p->id);
        return -1;
    }
    return 0;
}

typedef struct {
    cg_poi_cb cb;
    void *ctx;
} poi_state;

static int poi_row(void *state, sqlite3_stmt *st, cg_err *err)
{
    (void)err;
    poi_state *ps = state;
    cg_poi p;
    p.id = sqlite3_column_int64(st, 0);
    sq_column_text(st, 1, p.kind, sizeof p.kind);
    sq_column_text(st, 2, p.name_zh, sizeof p.name_zh);
    sq_column_text(st, 3, p.name_en, sizeof p.name_en);
    p.at.x = sqlite3_column_double(st, 4);
    p.at.y = sqlite3_column_double(st, 5);
    return ps->cb(ps->ctx, &p) ? 1 : 0;
}

int cg_store_poi_each(cg_store *s, const cg_bbox *bbox, cg_poi_cb cb, void *ctx, cg_err *err)
{
    /* The exact test uses x and y: a POI's bbox is its point. */
    sq_lease l;
    if (acquire_maybe_bbox(s, bbox, SQ_POI_ALL,
                           "SELECT id, kind, name_zh, name_en, x, y FROM pois ORDER BY id",
                           SQ_POI_BBOX,
                           "SELECT t.id, t.kind, t.name_zh, t.name_en, t.x, t.y FROM pois t"
                           " JOIN pois_rtree r ON r.id = t.id"
                           " WHERE r.min_x <= :max_x AND r.max_x >= :min_x"
                           " AND r.min_y <= :max_y AND r.max_y >= :min_y"
                           " AND t.x BETWEEN :min_x AND :max_x AND t.y BETWEEN :min_y AND :max_y"
                           " ORDER BY t.id",
                           &l, err))
        return -1;
    poi_state ps = {cb, ctx};
    return each_row(s, &l, poi_row, &ps, "listing points of interest", err);
}

/* ---- administrative boundaries ---- */

int cg_store_boundary_put(cg_store *s, const cg_boundary *b, cg_err *err)
{
    if (b->geom.n_polys == 0)
        return cg_err_set(err, CG_EINVAL, "geometry", "boundary %" PRId64 " has no geometry",
                          b->id);
    uint8_t *wkb;
    size_t wkb_len;
    if (cg_mpoly_to_wkb(&b->geom, &wkb, &wkb_len))
        return cg_err_set(err, CG_EINVAL, "geometry",
                          "boundary %" PRId64 ": geometry cannot be encoded", b->id);
    cg_bbox box = cg_mpoly_bbox(&b->geom);
    sq_lease l;
    int result = -1;
    if (sq_acquire(s, SQ_BOUNDARY_PUT,
                   "INSERT OR REPLACE INTO boundaries (id, admin_level, name_zh, name_en, ref, "
                   "geom, min_x, min_y, max_x, max_y) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                   &l, err) == 0) {
        bind_id(l.st, b->id);
        sqlite3_bind_int(l.st, 2, b->admin_level);
        sqlite3_bind_text(l.st, 3, b->name_zh, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 4, b->name_en, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 5, b->ref, -1, SQLITE_STATIC);
        sqlite3_bind_blob(l.st, 6, wkb, (int)wkb_len, SQLITE_STATIC);
        sqlite3_bind_double(l.st, 7, box.min_x);
        sqlite3_bind_double(l.st, 8, box.min_y);
        sqlite3_bind_double(l.st, 9, box.max_x);
        sqlite3_bind_double(l.st, 10, box.max_y);
        if (sq_write_begin(s, err)) {
            sq_release(&l);
        } else {
            int ok = sq_exec(s, &l, err) == 0 && sq_audit_place(s, SQ_PLACE_BOUNDARY, err) == 0;
            result = sq_write_end(s, ok, err);
        }
    }
    free(wkb);
    if (result)
        cg_err_prefix(err, "storing boundary %" PRId64, b->id);
    return result;
}

typedef struct {
    cg_boundary_cb cb;
    void *ctx;
} boundary_state;

static int boundary_row(void *state, sqlite3_stmt *st, cg_err *err)
{
    boundary_state *bs = state;
    cg_boundary b;
    memset(&b, 0, sizeof b);
    b.id = sqlite3_column_int64(st, 0);
    b.admin_level = sqlite3_column_int(st, 1);
    sq_column_text(st, 2, b.name_zh, sizeof b.name_zh);
    sq_column_text(st, 3, b.name_en, sizeof b.name_en);
    sq_column_text(st, 4, b.ref, sizeof b.ref);
    if (cg_mpoly_from_wkb(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5), &b.geom,
                          err)) {
        cg_err_prefix(err, "boundary %" PRId64, b.id);
        return -1;
    }
    int stop = bs->cb(bs->ctx, &b);
    cg_boundary_free(&b);
    return stop ? 1 : 0;
}

int cg_store_boundary_each(cg_store *s, cg_boundary_cb cb, void *ctx, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_BOUNDARY_ALL,
                   "SELECT id, admin_level, name_zh, name_en, ref, geom FROM boundaries "
                   "ORDER BY admin_level, id",
                   &l, err))
        return -1;
    boundary_state bs = {cb, ctx};
    return each_row(s, &l, boundary_row, &bs, "listing boundaries", err);
}
