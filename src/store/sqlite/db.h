/*
 * Internals shared by the SQLite backend's files (db.c: the connection, errors, transactions and
 * the statement cache; schema.c: migrations; grids.c and places.c: the rows). Nothing outside
 * src/store/sqlite/ includes this header: the rest of civgrid sees only store/store.h.
 *
 * Statements: every statement is prepared once per connection, on first use, and kept in a cache
 * indexed by a statement id (below). SQL text is always a compile-time constant, or for the grid
 * list a combination of constant fragments chosen by which filters are set; input reaches SQLite
 * only through bound parameters.
 */
#ifndef CG_STORE_SQLITE_DB_H
#define CG_STORE_SQLITE_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

/* Which filters a grid list or count uses; one prepared statement per combination. */
enum {
    SQ_GRID_F_PARENT = 1,
    SQ_GRID_F_SUBTREE = 2,
    SQ_GRID_F_LEVEL = 4,
    SQ_GRID_F_BBOX = 8,
    SQ_GRID_F_AT = 16,
    SQ_GRID_F_GEOM = 32, /* list only: select the geometry */
    SQ_GRID_F_COUNT = 64 /* a count instead of a list */
};
#define SQ_GRID_SHAPES 128

typedef enum {
    SQ_BEGIN,
    SQ_BEGIN_READ,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_GENERATION_GET,
    SQ_GENERATION_BUMP,
    SQ_META_SET,
    SQ_META_GET,
    SQ_COUNT_GRIDS,
    SQ_COUNT_WAYS,
    SQ_COUNT_BUILDINGS,
    SQ_COUNT_POIS,
    SQ_COUNT_BOUNDARIES,
    SQ_GRID_CURRENT,
    SQ_GRID_CLOSE,
    SQ_GRID_INSERT,
    SQ_GRID_RTREE_INSERT,
    SQ_GRID_GET,
    SQ_GRID_GET_GEOM,
    SQ_GRID_GET_AT,
    SQ_GRID_GET_AT_GEOM,
    SQ_GRID_HISTORY,
    SQ_WAY_PUT,
    SQ_WAY_RTREE_PUT,
    SQ_WAY_ALL,
    SQ_WAY_BBOX,
    SQ_BUILDING_PUT,
    SQ_BUILDING_RTREE_PUT,
    SQ_BUILDING_ALL,
    SQ_BUILDING_BBOX,
    SQ_POI_PUT,
    SQ_POI_RTREE_PUT,
    SQ_POI_ALL,
    SQ_POI_BBOX,
    SQ_BOUNDARY_PUT,
    SQ_BOUNDARY_ALL,
    SQ_GRID_LIST_FIRST, /* SQ_GRID_SHAPES ids follow, one per filter combination */
    SQ_STATEMENTS = SQ_GRID_LIST_FIRST + SQ_GRID_SHAPES
} sq_stmt_id;

struct cg_store {
    sqlite3 *db;
    char *path;
    int readonly;
    int in_tx;     /* inside cg_store_begin/commit */
    int tx_failed; /* a put inside it failed after changing rows: commit must roll back */
    int64_t changes_before_put;
    int schema_version;
    sqlite3_stmt *stmts[SQ_STATEMENTS];
};

/*
 * A statement borrowed from the cache. When the cached one is already running (a callback of a
 * list calls back into the store with the same statement), a private copy is prepared and
 * finalized on release, so nested use is correct rather than an error.
 */
typedef struct {
    sqlite3_stmt *st;
    int temporary;
} sq_lease;

int sq_acquire(cg_store *s, sq_stmt_id id, const char *sql, sq_lease *l, cg_err *err);
void sq_release(sq_lease *l);

/* Runs a statement that returns no rows (or whose rows are ignored) and releases it. */
int sq_exec(cg_store *s, sq_lease *l, cg_err *err);

/*
 * Turns a SQLite result code into a cg_err: busy, locked, full and read-only are CG_EBUSY,
 * constraint violations CG_ECONFLICT, a file that is not a database CG_EINVAL; `what` says what
 * was being done ("storing grid 330106001").
 */
int sq_fail(cg_store *s, int rc, const char *what, cg_err *err);

/*
 * Brackets one put: its own transaction outside cg_store_begin; inside one, a failure after rows
 * changed marks the transaction failed (see db.c), so half a put is never committed.
 */
int sq_write_begin(cg_store *s, cg_err *err);
/* ok non-zero: commit (or release); zero: roll back. Returns -1 when committing failed. */
int sq_write_end(cg_store *s, int ok, cg_err *err);

/* Bumps the grid generation counter (inside the caller's write). */
int sq_grid_generation_bump(cg_store *s, cg_err *err);

/* Applies pending migrations (schema.c); sets s->schema_version. */
int sq_schema_migrate(cg_store *s, cg_err *err);
/* Reads the version of an open database without changing it; 0 for a fresh file. */
int sq_schema_read_version(cg_store *s, int *version, cg_err *err);
int sq_schema_version_supported(void);
/* CG_ESCHEMA with the "upgrade civgrid" message when version is newer than this binary's. */
int sq_schema_refuse_newer(cg_store *s, int version, cg_err *err);

/* Copies a text column into a fixed buffer, truncating at a character boundary if needed. */
void sq_column_text(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* Binds a bounding box's four coordinates to the named parameters :min_x :min_y :max_x :max_y. */
void sq_bind_bbox(sqlite3_stmt *st, const cg_bbox *b);

#endif
