/*
 * The one interface civgrid persists through. It speaks domain types (the headers in model/) only;
 * SQL lives behind it, in store/sqlite/ (the embedded default) and store/pg/ (PostgreSQL/PostGIS, a
 * later backend implementing the same functions and passing the same tests).
 *
 * Threads: a cg_store is one connection and belongs to one thread at a time. The server opens one
 * per worker thread. Writes that belong together run inside cg_store_begin/commit, so an import
 * is all or nothing.
 *
 * Errors: every function returns 0 or -1 and fills cg_err. A locked or full database is CG_EBUSY
 * (the server answers 503); a missing row is CG_ENOTFOUND; a database written by a newer civgrid
 * is CG_ESCHEMA, refused at open.
 */
#ifndef CG_STORE_STORE_H
#define CG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "geo/geom.h"
#include "model/grid.h"
#include "model/place.h"

typedef struct cg_store cg_store;

enum {
    CG_STORE_CREATE = 1,   /* create the file when missing */
    CG_STORE_READONLY = 2, /* open read-only (no migrations run; an old schema is refused) */
};

/*
 * Opens (and, with CG_STORE_CREATE, creates) a store and applies pending migrations in one
 * transaction. `location` is a file path for SQLite ("postgresql://..." is reserved for the
 * PostgreSQL backend).
 */
int cg_store_open(const char *location, int flags, cg_store **out, cg_err *err);
void cg_store_close(cg_store *s);

/* The schema version this binary writes, and the one the open store has. */
int cg_store_schema_version_supported(void);
int cg_store_schema_version(cg_store *s);

/* Transactions do not nest. Inside one, a put that fails before writing leaves the transaction
 * usable; one that fails part-way (a database-level failure) makes further puts fail and commit
 * roll back, so no half-written put is ever committed. */
int cg_store_begin(cg_store *s, cg_err *err);
int cg_store_commit(cg_store *s, cg_err *err);
void cg_store_rollback(cg_store *s);

/* A number that changes whenever grids are written (by any connection or process). */
int64_t cg_store_grid_generation(cg_store *s);

/* ---- grids ---- */

/*
 * Stores g as the current version of g->code at time `now`. When a current version exists it is
 * closed (valid_to = now) and the new one gets valid_from = now: history is kept. g->id is set.
 * Two puts with the same `now` both stay in history; the earlier one gets the empty interval
 * valid_from = valid_to = now, so the later one wins at every time. A `now` before the current
 * version's valid_from is refused (CG_ECONFLICT): history is never rewritten. `now` must be > 0.
 */
int cg_store_grid_put(cg_store *s, cg_grid *g, int64_t now, cg_err *err);

/* Closes the current version of a code (valid_to = now) without a successor. */
int cg_store_grid_retire(cg_store *s, const char *code, int64_t now, cg_err *err);

/* Reads the version of `code` valid at time `at` (0: the current one). CG_ENOTFOUND if none.
 * `out` is overwritten (cg_grid_init first); free it with cg_grid_free, also after an error. */
int cg_store_grid_get(cg_store *s, const char *code, int64_t at, int with_geom, cg_grid *out,
                      cg_err *err);

typedef struct {
    const char *parent_code;  /* only direct children of this code ("" : only roots) */
    const char *subtree_code; /* only this code and its descendants (scope filter) */
    cg_level level;           /* 0: any level */
    const cg_bbox *bbox;      /* only grids whose bounding box intersects this one */
    int with_geom;            /* load geometries (costly for large lists) */
    int64_t at;               /* 0: current versions; else the versions valid at that time */
    int limit, offset;        /* limit 0: no limit */
} cg_grid_filter;

/* Called once per grid in code order; return non-zero to stop early (the list returns 0). The
 * grid (and its geometry and members) is valid only during the call: copy what you keep. */
typedef int (*cg_grid_cb)(void *ctx, const cg_grid *g);

int cg_store_grid_list(cg_store *s, const cg_grid_filter *f, cg_grid_cb cb, void *ctx, cg_err *err);
/* The number of grids the filter matches, ignoring limit and offset (a total for paging). A NULL
 * filter lists or counts every current grid. */
int cg_store_grid_count(cg_store *s, const cg_grid_filter *f, int64_t *count, cg_err *err);
/* Every version of a code, oldest first. */
int cg_store_grid_history(cg_store *s, const char *code, cg_grid_cb cb, void *ctx, cg_err *err);

/* ---- places: roads, buildings, points of interest, administrative boundaries ---- */

/* Places are keyed by their source id: a put with an existing id replaces that row; id 0 gets a
 * fresh id. A way needs at least two nodes; buildings and boundaries need a geometry. */

int cg_store_way_put(cg_store *s, const cg_way *w, cg_err *err);
int cg_store_building_put(cg_store *s, const cg_building *b, cg_err *err);
int cg_store_poi_put(cg_store *s, const cg_poi *p, cg_err *err);
int cg_store_boundary_put(cg_store *s, const cg_boundary *b, cg_err *err);

typedef int (*cg_way_cb)(void *ctx, const cg_way *w);
typedef int (*cg_building_cb)(void *ctx, const cg_building *b);
typedef int (*cg_poi_cb)(void *ctx, const cg_poi *p);
typedef int (*cg_boundary_cb)(void *ctx, const cg_boundary *b);

/* bbox may be NULL for all. Rows come in id order (boundaries: by admin_level, then id); the
 * struct handed to the callback is valid only during the call. */
int cg_store_way_each(cg_store *s, const cg_bbox *bbox, cg_way_cb cb, void *ctx, cg_err *err);
int cg_store_building_each(cg_store *s, const cg_bbox *bbox, cg_building_cb cb, void *ctx,
                           cg_err *err);
int cg_store_poi_each(cg_store *s, const cg_bbox *bbox, cg_poi_cb cb, void *ctx, cg_err *err);
int cg_store_boundary_each(cg_store *s, cg_boundary_cb cb, void *ctx, cg_err *err);

typedef struct {
    int64_t grids, ways, buildings, pois, boundaries;
} cg_store_counts;
int cg_store_counts_get(cg_store *s, cg_store_counts *out, cg_err *err);

/* Key/value metadata (e.g. "demo.seed", "import.source"). */
int cg_store_meta_set(cg_store *s, const char *key, const char *value, cg_err *err);
/* Copies the value into buf; CG_ENOTFOUND when the key is absent. */
int cg_store_meta_get(cg_store *s, const char *key, char *buf, size_t cap, cg_err *err);

#endif
