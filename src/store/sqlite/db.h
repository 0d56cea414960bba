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
    SQ_GRID_F_GEOM = 32,  /* list only: select the geometry */
    SQ_GRID_F_COUNT = 64, /* a count instead of a list */
    SQ_GRID_F_SCOPE = 128 /* the caller's scope (a code range, like the subtree) */
};
#define SQ_GRID_SHAPES 256

/* Kinds of place, for the per-transaction audit summary of place writes. */
typedef enum {
    SQ_PLACE_WAY,
    SQ_PLACE_BUILDING,
    SQ_PLACE_POI,
    SQ_PLACE_BOUNDARY,
    SQ_PLACE_KINDS
} sq_place_kind;

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
    SQ_GRID_READ,
    SQ_GRID_READ_GEOM,
    SQ_GRID_READ_AT,
    SQ_GRID_READ_AT_GEOM,
    SQ_ACCOUNT_EXISTS,
    SQ_ACCOUNT_CREATE,
    SQ_ACCOUNT_GET,
    SQ_ACCOUNT_BY_NAME,
    SQ_ACCOUNT_LIST,
    SQ_ACCOUNT_UPDATE,
    SQ_ACCOUNT_PASSWORD,
    SQ_ACCOUNT_COUNT,
    SQ_LOGIN_GET,
    SQ_LOGIN_FAILURE,
    SQ_LOGIN_RESET,
    SQ_SESSION_PUT,
    SQ_SESSION_GET,
    SQ_SESSION_RESOLVE,
    SQ_SESSION_DELETE,
    SQ_SESSION_DELETE_ACCOUNT,
    SQ_SESSION_PURGE,
    SQ_AUDIT_HEAD_GET,
    SQ_AUDIT_HEAD_SET,
    SQ_AUDIT_INSERT,
    SQ_AUDIT_LIST,
    SQ_AUDIT_LIST_DESC,
    SQ_CONTACT_PUT,
    SQ_CONTACT_GET,
    SQ_CONTACT_CLOSE,
    SQ_CONTACT_PURGE,
    SQ_SAVEPOINT,
    SQ_SAVEPOINT_RELEASE,
    SQ_SAVEPOINT_ROLLBACK,
    SQ_CASE_IDEM_GET,
    SQ_CASE_IDEM_PUT,
    SQ_CASE_IDEM_PURGE,
    SQ_CASE_INSERT,
    SQ_CASE_RTREE_PUT,
    SQ_CASE_RTREE_DELETE,
    SQ_CASE_NEAR,
    SQ_CASE_NEAR_CATEGORY,
    SQ_CASE_NEAR_PUT,
    SQ_CASE_NEAR_DELETE,
    SQ_CASE_FTS_PUT,
    SQ_CASE_GET,
    SQ_CASE_BY_TOKEN,
    SQ_CASE_UPDATE,
    SQ_CASE_POINT_GET,
    SQ_CASE_TOUCH,
    SQ_CASE_EVENT_NEXT,
    SQ_CASE_EVENT_PUT,
    SQ_CASE_HISTORY,
    SQ_CASE_PHOTO_PUT,
    SQ_CASE_PHOTO_COUNT,
    SQ_CASE_PHOTOS,
    SQ_CASE_PHOTO_REFS,
    SQ_CASE_FETCH,
    SQ_CASE_MARK,
    SQ_CASE_KEYS,
    SQ_CASE_KEYS_SINCE,
    SQ_CASE_AUDIT_HASH,
    SQ_GRID_CODE_EXISTS,
    SQ_CASE_STATS_FIRST, /* one per cg_stats_group */
    SQ_CASE_STATS_LAST = SQ_CASE_STATS_FIRST + 3,
    SQ_DOC_PUT,
    SQ_DOC_GET,
    SQ_DOC_EACH,
    SQ_RULES_GENERATION_GET,
    SQ_RULES_GENERATION_BUMP,
    SQ_PLACES_GENERATION_GET,
    SQ_PLACES_GENERATION_BUMP,
    SQ_WAYS_GENERATION_GET,
    SQ_WAYS_GENERATION_BUMP,
    SQ_GRID_LIST_FIRST, /* SQ_GRID_SHAPES ids follow, one per filter combination */
    SQ_STATEMENTS = SQ_GRID_LIST_FIRST + SQ_GRID_SHAPES
} sq_stmt_id;

#define SQ_CASE_LIST_CACHE 32

struct cg_store {
    sqlite3 *db;
    char *path;
    int readonly;
    int in_tx;     /* inside cg_store_begin/commit */
    int in_read;   /* inside cg_store_read_begin/end */
    int tx_failed; /* a put inside it failed after changing rows: commit must roll back */
    int64_t changes_before_put;
    int schema_version;
    cg_actor actor; /* whom the writes of this connection are attributed to */
    /* Places written inside the open transaction, not yet audited: one summary entry per
     * transaction is appended at commit (see access.c), not one per row. */
    int64_t pending_places[SQ_PLACE_KINDS];
    sqlite3_stmt *stmts[SQ_STATEMENTS];
    /* Case lists and counts: one statement per combination of filters (cases.c), too many
     * combinations for fixed ids, so a small cache keyed by the combination. */
    struct {
        uint32_t shape;
        sqlite3_stmt *st;
    } case_lists[SQ_CASE_LIST_CACHE];
    unsigned case_list_next; /* the slot the next miss replaces */
    int savepoint_open;      /* inside cg_store_savepoint */
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

/*
 * Appends an audit entry by the connection's actor inside the caller's write (between
 * sq_write_begin and sq_write_end, so the entry commits or rolls back with the write). The chain
 * head is read and advanced under the write lock, so sequence numbers have no gaps.
 */
int sq_audit(cg_store *s, const char *action, const char *target, const char *summary, cg_err *err);
/* A place was written: audited at once outside a transaction, summed per transaction inside. */
int sq_audit_place(cg_store *s, sq_place_kind kind, cg_err *err);
/* Inside cg_store_commit, before COMMIT: the summary entry of the transaction's place writes. */
int sq_audit_flush_places(cg_store *s, cg_err *err);

/*
 * The code range of a scope: codes in [lo, hi) lie within it (hi is the code with its last byte
 * incremented, as for subtree filters). An unrestricted scope (NULL or "") gives lo = "" and
 * hi = "", which callers treat as "no filter". A malformed code is CG_EINVAL.
 */
int sq_scope_range(const cg_scope *scope, char lo[CG_CODE_MAX], char hi[CG_CODE_MAX], cg_err *err);

/* The body of cg_store_contact_put / _close inside the caller's write (a new case stores its
 * resident's contact in the same transaction as the case). */
int sq_contact_write(cg_store *s, const char *case_ref, const char *contact, cg_err *err);
int sq_contact_close(cg_store *s, const char *case_ref, int64_t closed_at, cg_err *err);

/* Finalizes the case list statements (cases.c), at close. */
void sq_case_lists_free(cg_store *s);

/* The cell of a point in case_near (cases.c): 0.001 by 0.001 degree. */
int64_t sq_case_near_cell(double lon, double lat);
/* Fills case_near from the cases table (the version 4 migration, schema.c). */
int sq_case_near_fill(cg_store *s, cg_err *err);

/* Copies a text column into a fixed buffer, truncating at a character boundary if needed. */
void sq_column_text(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* Binds a bounding box's four coordinates to the named parameters :min_x :min_y :max_x :max_y. */
void sq_bind_bbox(sqlite3_stmt *st, const cg_bbox *b);

#endif
