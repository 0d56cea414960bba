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

#include "core/buf.h"
#include "core/err.h"
#include "geo/geom.h"
#include "model/access.h"
#include "model/audit.h"
#include "model/case.h"
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

/* 1 when the connection can write; 0 when it was opened with CG_STORE_READONLY or when the file
 * could only be opened for reading (permissions, a read-only file system: SQLite then falls
 * back to reading, and every write fails with CG_EBUSY, field "database", "database
 * read-only"). A store that cannot write does not start writing when the file becomes writable:
 * cg_store_reopen_if_writable does that. */
int cg_store_writable(cg_store *s);

/* When *s could only read although it was opened read-write, and its file can be written now,
 * replaces *s with a fresh read-write connection and closes the old one: returns 1. Returns 0
 * when nothing changed (still read-only, or always writable), -1 when the new connection could
 * not be opened (*s is kept, err says why). Costs one access(2) while read-only, nothing else. */
int cg_store_reopen_if_writable(cg_store **s, cg_err *err);

/*
 * For long-running servers, before any store is opened: SQLite's page caches take their pages
 * from one fixed pool of `bytes` (allocated once; pages are touched only when used) instead of
 * the malloc heap, so the churn of caches that every WAL commit resets in the readers does not
 * fragment the heap and grow the process (see bench/README.md, Load). Pages beyond the pool
 * fall back to malloc. Returns -1 (and changes nothing) when SQLite is already in use.
 */
int cg_store_use_page_pool(size_t bytes, cg_err *err);

/* The schema version this binary writes, and the one the open store has. */
int cg_store_schema_version_supported(void);
int cg_store_schema_version(cg_store *s);

/* Transactions do not nest. Inside one, a put that fails before writing leaves the transaction
 * usable; one that fails part-way (a database-level failure) makes further puts fail and commit
 * roll back, so no half-written put is ever committed. */
int cg_store_begin(cg_store *s, cg_err *err);
int cg_store_commit(cg_store *s, cg_err *err);
void cg_store_rollback(cg_store *s);

/* A savepoint inside cg_store_begin/commit (they do not nest): a unit of puts that can be
 * undone alone, as the group commit of new cases does with one savepoint per case. Rolling
 * back to it also undoes a put that failed part-way, so the transaction stays usable. */
int cg_store_savepoint(cg_store *s, cg_err *err);
int cg_store_savepoint_release(cg_store *s, cg_err *err);
void cg_store_savepoint_rollback(cg_store *s);
/* 1 while the open transaction can still commit: no put failed part-way and SQLite has not
 * rolled it back (a put that failed before writing leaves it whole). */
int cg_store_tx_whole(cg_store *s);

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
    const cg_scope *scope;    /* the caller's scope, applied in the query; NULL: unrestricted */
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

/* A number that changes whenever places are written (once per transaction that writes any, by
 * any connection or process), like the grid generation; 0 for a store never given a place. */
int64_t cg_store_places_generation(cg_store *s);
/* The same for roads alone (ways): moves with every transaction that writes a way; 0 for a
 * store never given one (or whose roads were all written before the counter existed), -1 when
 * it cannot be read. */
int64_t cg_store_ways_generation(cg_store *s);

typedef struct {
    int64_t grids, ways, buildings, pois, boundaries;
} cg_store_counts;
int cg_store_counts_get(cg_store *s, cg_store_counts *out, cg_err *err);

/* Key/value metadata (e.g. "demo.seed", "import.source"). */
int cg_store_meta_set(cg_store *s, const char *key, const char *value, cg_err *err);
/* Copies the value into buf; CG_ENOTFOUND when the key is absent. */
int cg_store_meta_get(cg_store *s, const char *key, char *buf, size_t cap, cg_err *err);

/* ==== access: accounts, logins, sessions, audit, resident contacts (issue 3) ====
 *
 * Scope: functions taking a `const cg_scope *scope` apply it in the SQL itself (a code range, as
 * for subtree filters); an object outside the scope is reported exactly like a missing one
 * (CG_ENOTFOUND, same message), so refusals leak nothing. NULL means unrestricted and is for
 * trusted local callers only (the command line run by the machine's operator).
 *
 * Audit: every write function of this store appends an audit entry (who, when, what, a
 * before/after summary) in the same transaction as the write, attributed to the connection's
 * current actor (cg_store_set_actor; "system" until set). So no write can skip the log.
 */

/* Scoped variants of the grid reads: cg_grid_filter gains `scope` (below). */
int cg_store_grid_read(cg_store *s, const cg_scope *scope, const char *code, int64_t at,
                       int with_geom, cg_grid *out, cg_err *err);
/* Sets a grid's team (leader, deputy, members: account ids, 0/none allowed) as a new version. */
int cg_store_grid_team_set(cg_store *s, const cg_scope *scope, const char *code, int64_t leader_id,
                           int64_t deputy_id, const int64_t *member_ids, size_t n_members,
                           int64_t now, cg_err *err);

typedef struct {
    int64_t actor_id; /* account id; 0 for the command line, the system, anonymous residents */
    char name[48];    /* username, "cli:<unix user>", "system" or "anonymous" */
    char address[48]; /* client address, "" for local work */
} cg_actor;

/* The actor every following write on this connection is attributed to (copied). */
void cg_store_set_actor(cg_store *s, const cg_actor *actor);

/* -- accounts -- */
typedef int (*cg_account_cb)(void *ctx, const cg_account *a);
/* Creates an account (a->id is set); CG_ECONFLICT when the username exists. */
int cg_store_account_create(cg_store *s, cg_account *a, const char *password_hash, cg_err *err);
/* Reads an account whose own scope lies within `scope`. */
int cg_store_account_get(cg_store *s, const cg_scope *scope, int64_t id, cg_account *out,
                         cg_err *err);
/* For login only (unscoped): the account and its password hash; CG_ENOTFOUND when absent. */
int cg_store_account_by_name(cg_store *s, const char *username, cg_account *out,
                             char *password_hash, size_t hash_cap, cg_err *err);
/* Accounts whose scope lies within `scope`, by username. */
int cg_store_account_list(cg_store *s, const cg_scope *scope, cg_account_cb cb, void *ctx,
                          cg_err *err);
/* Updates display name, roles, scope, department, duty phone and disabled of a->id. */
int cg_store_account_update(cg_store *s, const cg_scope *scope, const cg_account *a, cg_err *err);
int cg_store_account_set_password(cg_store *s, const cg_scope *scope, int64_t id,
                                  const char *password_hash, cg_err *err);
int cg_store_account_count(cg_store *s, int64_t *count, cg_err *err);

/* -- login throttling: keys are "user:<name>" and "addr:<address>" -- */
typedef struct {
    int failures;
    int64_t last_failure;
    int64_t locked_until; /* Unix time; 0 when not locked */
} cg_login_state;
int cg_store_login_state_get(cg_store *s, const char *key, cg_login_state *out, cg_err *err);
int cg_store_login_failure(cg_store *s, const char *key, int64_t now, int64_t locked_until,
                           cg_err *err);
int cg_store_login_reset(cg_store *s, const char *key, cg_err *err);

/* -- sessions: the store keeps the SHA-256 of a token, never the token -- */
enum { CG_SESSION_COOKIE = 1, CG_SESSION_BEARER = 2 };
typedef struct {
    char token_hash[65];
    int64_t account_id;
    int kind;
    char csrf[48]; /* the CSRF token of a cookie session */
    int64_t created_at, expires_at;
    char address[48];
} cg_session;
int cg_store_session_put(cg_store *s, const cg_session *session, cg_err *err);
int cg_store_session_get(cg_store *s, const char *token_hash, cg_session *out, cg_err *err);
/* The session and its account in one read (CG_ENOTFOUND when either is missing). */
int cg_store_session_resolve(cg_store *s, const char *token_hash, cg_session *session,
                             cg_account *account, cg_err *err);
int cg_store_session_delete(cg_store *s, const char *token_hash, cg_err *err);
/* Revokes every session of an account (disable, password change). */
int cg_store_session_delete_account(cg_store *s, int64_t account_id, cg_err *err);
int cg_store_session_purge(cg_store *s, int64_t now, int64_t *purged, cg_err *err);

/* -- audit log: append-only, hash-chained (entries: model/audit.h) -- */
typedef int (*cg_audit_cb)(void *ctx, const cg_audit_entry *e);
typedef struct {
    int64_t since, until; /* 0: open */
    const char *actor, *action, *target_prefix;
    int limit, offset; /* limit 0: no limit */
    int newest_first;
} cg_audit_filter;
/* Appends an entry by the current actor (reads by auditors, e.g. of a resident's contact). */
int cg_store_audit_append(cg_store *s, const char *action, const char *target, const char *summary,
                          cg_err *err);
int cg_store_audit_list(cg_store *s, const cg_audit_filter *f, cg_audit_cb cb, void *ctx,
                        cg_err *err);
/* The newest entry's seq and hash as recorded apart from the log (detects a removed tail). */
int cg_store_audit_head(cg_store *s, int64_t *seq, char hash[65], cg_err *err);

/* -- resident contact details, kept apart from everything else -- */
/* case_ref names the case the contact belongs to (the cases issue defines it). */
int cg_store_contact_put(cg_store *s, const char *case_ref, const char *contact, cg_err *err);
/* Reads a contact and audits the read ("contact.read"). CG_ENOTFOUND when absent or purged. */
int cg_store_contact_get(cg_store *s, const char *case_ref, char *buf, size_t cap, cg_err *err);
/* Marks the case closed at `closed_at`, starting its retention period. */
int cg_store_contact_close(cg_store *s, const char *case_ref, int64_t closed_at, cg_err *err);
/* Deletes contacts of cases closed before `closed_before`; audited as one entry. */
int cg_store_contact_purge(cg_store *s, int64_t closed_before, int64_t *purged, cg_err *err);

/* ==== cases (issue 4) ====
 *
 * Grids: a case's grid_code is "" or the code of a stored grid (any version; the service takes
 * it from the atlas). Subtree and scope filters find cases through the grid codes stored in
 * their range, so a case naming a code no grid ever had is not listed by them.
 *
 * Scope: a case belongs to the scope that contains its grid_code; cases in the no-grid queue
 * (grid_code "") are visible to unrestricted scopes only. Out-of-scope cases are reported as
 * missing (CG_ENOTFOUND), as for grids. Every write appends its history entry and an audit
 * entry in the same transaction as the row.
 *
 * A case's resident contact (cg_store_contact_*) is keyed by case_ref = the case id in decimal
 * ("12"). The description, address, source, token, reporter, device_id and reported_at are
 * fixed at insert (the full-text index is written once); an update may change everything else
 * the row holds but n_photos and has_contact, which the store keeps.
 */

/*
 * Inserts a new case (state reported, its "report" history entry, the resident's contact when
 * `contact` is non-empty, the idempotency key when `idem_key` is non-empty) as one unit. c->id,
 * c->version and c->token are set. When idem_key was already used, nothing is written:
 * *existing_id receives the case it created and the call returns 0 (a retry, not an error);
 * otherwise *existing_id is 0. Keys are kept CG_IDEM_KEEP_DAYS days.
 */
#define CG_IDEM_KEEP_DAYS 7
int cg_store_case_insert(cg_store *s, cg_case *c, const cg_case_event *report, const char *contact,
                         const char *idem_key, int64_t *existing_id, cg_err *err);

/* Reads a case within scope (NULL: unrestricted). */
int cg_store_case_get(cg_store *s, const cg_scope *scope, int64_t id, cg_case *out, cg_err *err);
/* Reads a case by its Open311 token (unscoped: the public lookup). */
int cg_store_case_by_token(cg_store *s, const char *token, cg_case *out, cg_err *err);

/*
 * Writes a changed case and appends its history entry (ev->seq is set) as one unit. The row is
 * written only if its stored version is c->version (then bumped: c->version + 1 is stored and
 * written back to c); otherwise CG_ECONFLICT "the case changed meanwhile", nothing written.
 * ev may be NULL for a write that is not a step (never for state changes).
 */
int cg_store_case_update(cg_store *s, cg_case *c, cg_case_event *ev, cg_err *err);
/* Appends a note entry (is_note) without changing the row's state (its version still moves). */
int cg_store_case_note(cg_store *s, int64_t case_id, cg_case_event *ev, cg_err *err);

typedef int (*cg_case_cb)(void *ctx, const cg_case *c);
typedef int (*cg_case_event_cb)(void *ctx, const cg_case_event *e);

/* The history of a case, oldest first. */
int cg_store_case_history(cg_store *s, int64_t case_id, cg_case_event_cb cb, void *ctx,
                          cg_err *err);

typedef enum {
    CG_CASE_ORDER_NEWEST = 0, /* reported_at descending, then id descending */
    CG_CASE_ORDER_DUE,        /* overdue first: due_at ascending (0 last), then id */
    CG_CASE_ORDER_ID,         /* id ascending (Open311 and exports) */
} cg_case_order;

typedef struct {
    uint32_t states;            /* bit set of (1u << cg_case_state); 0: any */
    const char *category;       /* this code and its sub-categories; NULL/"": any */
    const char *subtree_code;   /* grid code and its descendants; "" alone: the no-grid queue */
    int no_grid;                /* only the no-grid queue */
    int64_t overdue_at;         /* > 0: only cases with 0 < due_at < overdue_at */
    int64_t handle_before;      /* > 0: only cases with 0 < handle_by < handle_before (the timer) */
    cg_case_source source;      /* 0: any */
    int64_t since, until;       /* reported_at in [since, until); 0: open */
    int64_t updated_since;      /* updated_at >= this; 0: open */
    const cg_bbox *bbox;        /* point inside */
    const char *text;           /* full-text search (FTS5 over description and address; the text
                                   is quoted as terms, never passed as FTS syntax) */
    int64_t assignee_account;   /* > 0: assigned to this account */
    const char *assignee_label; /* non-NULL: assignee label equals (department, grid code) */
    int64_t reporter_id;        /* > 0: reported by this account */
    const int64_t *ids;         /* non-NULL: only these ids (n_ids of them) */
    size_t n_ids;
    cg_case_order order;
    int limit, offset; /* limit 0: no limit */
    const cg_scope *scope;
} cg_case_filter;

int cg_store_case_list(cg_store *s, const cg_case_filter *f, cg_case_cb cb, void *ctx, cg_err *err);

/*
 * Cases near a point for the duplicate search: the same answer as cg_store_case_list with
 * states, category, [since, until), bbox, scope, CG_CASE_ORDER_NEWEST and limit, but found
 * through an index of (category, ~100 m cell, report time), so only the candidates are read
 * (not every case ever reported there); each is passed as its id and point.
 */
typedef struct {
    uint32_t states;      /* bit set of (1u << cg_case_state); 0: any */
    const char *category; /* this code and its sub-categories; NULL/"": any */
    int64_t since, until; /* reported_at in [since, until) */
    cg_bbox bbox;         /* point inside */
    int limit;            /* the newest `limit`, 1..1024 */
    const cg_scope *scope;
} cg_case_near_query;
typedef int (*cg_case_near_cb)(void *ctx, int64_t id, double lon, double lat);
int cg_store_case_near(cg_store *s, const cg_case_near_query *q, cg_case_near_cb cb, void *ctx,
                       cg_err *err);
int cg_store_case_count(cg_store *s, const cg_case_filter *f, int64_t *count, cg_err *err);

/*
 * What the server's in-memory listing index (app/case_index.h) reads: every case's key, and the
 * keys of the cases written since a mark. A mark is a position in the database's history: every
 * write of a case row (insert, step, note, photo, by any connection or process) appends an audit
 * entry naming it ("case:<id>") in its own transaction, and case ids grow with each insert (cases
 * are never deleted). Read them inside cg_store_read_begin/end so they describe one moment.
 */
typedef struct {
    int64_t audit_seq;   /* the newest audit entry (0: none) */
    char audit_hash[65]; /* its hash: tells this database's history from a restored one's */
    int64_t max_id;      /* the newest case id (0: none) */
} cg_case_mark;

typedef struct {
    int64_t id;
    int64_t reported_at;
    char grid_code[CG_CODE_MAX]; /* "": the no-grid queue */
    int state;                   /* as stored (a cg_case_state) */
} cg_case_key;
typedef int (*cg_case_key_cb)(void *ctx, const cg_case_key *k);

/* A read transaction: every read until cg_store_read_end sees the database at one moment
 * (writes made meanwhile by others are not seen). No writes on this connection until the end;
 * not inside cg_store_begin (CG_EINVAL). */
int cg_store_read_begin(cg_store *s, cg_err *err);
void cg_store_read_end(cg_store *s);

int cg_store_case_mark(cg_store *s, cg_case_mark *out, cg_err *err);
/* Every case's key, in (grid_code, state, reported_at, id) order. */
int cg_store_case_keys(cg_store *s, cg_case_key_cb cb, void *ctx, cg_err *err);
/* The current keys of the cases written after `from`: inserted since (id > from->max_id) or named
 * by an audit entry after from->audit_seq; a case may come more than once. CG_ECONFLICT (field
 * "audit") when the entry `from` names is not in this database's history any more (a restore
 * replaced it): start again from cg_store_case_keys. */
int cg_store_case_keys_since(cg_store *s, const cg_case_mark *from, cg_case_key_cb cb, void *ctx,
                             cg_err *err);
/* The rows of these cases, in this order (unscoped; an id that is not a case is skipped). */
int cg_store_case_fetch(cg_store *s, const int64_t *ids, size_t n, cg_case_cb cb, void *ctx,
                        cg_err *err);
/* Has `code` ever been stored as a grid (any version)? The subtree and scope filters of case lists
 * match the cases whose grid code is one of these. */
int cg_store_grid_code_exists(cg_store *s, const char *code, int *exists, cg_err *err);

/* Photos: the files live on disk, content-addressed (app/cases.c); the store records which case
 * (and which history entry) each belongs to. Adding the same photo twice to a case is a no-op. */
typedef struct {
    char sha256[65];
    char mime[24]; /* image/jpeg, image/png, image/webp */
    int64_t bytes;
    int64_t event_seq;
    int64_t at;
} cg_case_photo;
typedef int (*cg_case_photo_cb)(void *ctx, const cg_case_photo *p);
int cg_store_case_photo_add(cg_store *s, int64_t case_id, const cg_case_photo *p, cg_err *err);
int cg_store_case_photos(cg_store *s, int64_t case_id, cg_case_photo_cb cb, void *ctx, cg_err *err);
/* How many cases name this photo file (0 when none: a file no row names may be removed). */
int cg_store_case_photo_refs(cg_store *s, const char *sha256, int64_t *refs, cg_err *err);

/*
 * Statistics over a period [since, until): one row per group. Counts come from the history
 * (registered: register steps in the period; dispatched: dispatch steps; closed: close steps;
 * closed_on_time: of those, closed at or before the case's handle_by; returned: return steps;
 * extended: approve_extension steps) plus reported (cases reported in the period) and
 * overdue_open (open cases overdue at `until`). Rates are the app's (docs/cases.md).
 */
typedef enum {
    CG_STATS_BY_GRID = 0,   /* grid_code cut to `level`'s code length (CG_LEVEL_GRID: whole code) */
    CG_STATS_BY_CATEGORY,   /* category code */
    CG_STATS_BY_DEPARTMENT, /* assignee label of department assignees ("" otherwise) */
    CG_STATS_BY_DAY,        /* local date YYYY-MM-DD (Asia/Shanghai) of the event */
} cg_stats_group;

typedef struct {
    char key[CG_CAT_NAME_MAX];
    int64_t reported, registered, dispatched, closed, closed_on_time, returned, extended,
        overdue_open;
} cg_case_stats_row;

typedef struct {
    cg_stats_group group;
    cg_level level; /* for CG_STATS_BY_GRID */
    int64_t since, until;
    const char *subtree_code; /* NULL: all */
    const char *category;     /* NULL: all */
    const cg_scope *scope;
} cg_case_stats_query;

typedef int (*cg_case_stats_cb)(void *ctx, const cg_case_stats_row *row);
int cg_store_case_stats(cg_store *s, const cg_case_stats_query *q, cg_case_stats_cb cb, void *ctx,
                        cg_err *err);

/* Deletes idempotency keys older than `before`. */
int cg_store_idem_purge(cg_store *s, int64_t before, int64_t *purged, cg_err *err);

/*
 * Rule documents: the category taxonomy ("categories"), the weekly hours ("calendar.hours") and
 * each imported year ("calendar.2026"), stored as the JSON their model parsers read. A put
 * replaces the document, bumps the rules generation and is audited. get copies into out
 * (CG_ENOTFOUND when never stored); each calls cb(name, json) for names starting with prefix.
 */
int cg_store_doc_put(cg_store *s, const char *name, const char *json, cg_err *err);
int cg_store_doc_get(cg_store *s, const char *name, cg_buf *out, cg_err *err);
typedef int (*cg_doc_cb)(void *ctx, const char *name, const char *json);
int cg_store_doc_each(cg_store *s, const char *prefix, cg_doc_cb cb, void *ctx, cg_err *err);
/* Changes whenever a rule document is written (like the grid generation). */
int64_t cg_store_rules_generation(cg_store *s);

/* ==== backup and restore ==== */

/* Progress of a long copy: pages done and total. */
typedef void (*cg_store_progress)(void *ctx, int64_t done, int64_t total);

/*
 * Copies the whole database into `dest` as it was at one instant, while other connections go on
 * writing: the copy is written to dest + ".part" and renamed into place only when complete, so a
 * failed backup never leaves a half-written file under the destination name.
 */
int cg_store_backup(cg_store *s, const char *dest, cg_store_progress progress, void *ctx,
                    cg_err *err);

/*
 * Replaces the contents of the database at `location` with a backup, after checking that the
 * backup is an intact civgrid database this binary can read (integrity check, schema version).
 * The grid generation moves past both databases' values, so a running server reloads.
 */
int cg_store_restore(const char *backup, const char *location, cg_err *err);

/* PRAGMA integrity_check: 0 when "ok"; otherwise CG_EIO with the first problem SQLite names. */
int cg_store_integrity_check(cg_store *s, cg_err *err);

#endif
