/*
 * The SQLite backend's connection: opening a database (pragmas, migrations), turning SQLite's
 * result codes into cg_err values, transactions, the per-connection statement cache, and the
 * small tables every part uses (meta, counters). Grid rows are in grids.c, places in places.c,
 * the schema and its migrations in schema.c.
 *
 * One cg_store is one sqlite3 connection used by one thread at a time (the server opens one per
 * worker), so the connection is opened with SQLITE_OPEN_NOMUTEX: SQLite's own per-connection
 * mutex would only cost time. Different connections, in this process or others, coordinate
 * through the file locks of WAL mode: readers never block the writer and see a consistent
 * snapshot; a second writer waits up to the busy timeout and then gets CG_EBUSY.
 */
#include "store/sqlite/db.h"
#include "geo/geojson.h"

#include <assert.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

/* How long a writer waits for another connection's write transaction before CG_EBUSY. */
#define SQ_BUSY_TIMEOUT_MS 5000

/* Page cache per connection (negative: KiB). Bulk imports of ~1M road nodes need more than the
 * 2 MB default to keep the R*Tree and index pages hot; 16 MB per connection stays modest for a
 * server with one connection per worker thread. */
#define SQ_CACHE_PRAGMA "PRAGMA cache_size = -16384"

/* Reads through a memory map of the database file (up to SQLite's limit, 2 GB in Debian's
 * build) instead of a pread and a copy per page: a page of 100 cases reads ~100 scattered pages,
 * and the copies were a fifth of a listing's CPU. Pages are shared with the kernel's page cache,
 * not duplicated per connection. Writes still go through the log (WAL), never through the map. */
#define SQ_MMAP_PRAGMA "PRAGMA mmap_size = 2147418112"

/* A write refused because the disk is full: a 503 the client may retry once space returns. */
static int fail_full(const char *what, const char *path, cg_err *err)
{
    return cg_err_set(err, CG_EBUSY, "database",
                      "storage full: %s failed because the disk holding database '%s' has no "
                      "space left; nothing was written. Free space and try again (reads still "
                      "work)",
                      what, path);
}

/* A write refused because the file or its file system is read-only. */
static int fail_readonly(const char *what, const char *path, cg_err *err)
{
    return cg_err_set(err, CG_EBUSY, "database",
                      "database read-only: %s failed because database '%s' cannot be written "
                      "(file permissions or a read-only file system); nothing was written. "
                      "Reads still work",
                      what, path);
}

int sq_fail(cg_store *s, int rc, const char *what, cg_err *err)
{
    const char *path = s && s->path ? s->path : "database";
    const char *detail = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return cg_err_set(err, CG_EBUSY, "database",
                          "%s: database '%s' is locked by another writer: try again", what, path);
    case SQLITE_FULL:
        return fail_full(what, path, err);
    case SQLITE_READONLY:
        /* A WAL database is read through its -wal and -shm files, which SQLite creates next to
         * it: a read-only directory makes even reading impossible. */
        if (rc == SQLITE_READONLY_DIRECTORY || rc == SQLITE_READONLY_CANTINIT)
            return cg_err_set(err, CG_EBUSY, "database",
                              "%s: database '%s' is read-only and its directory is too: SQLite "
                              "needs to create the -wal and -shm files beside it",
                              what, path);
        return fail_readonly(what, path, err);
    case SQLITE_CONSTRAINT:
        return cg_err_set(err, CG_ECONFLICT, "", "%s: %s", what, detail);
    case SQLITE_NOTADB:
        return cg_err_set(err, CG_EINVAL, "database", "'%s' is not a civgrid database (not SQLite)",
                          path);
    case SQLITE_CORRUPT:
        return cg_err_set(err, CG_EIO, "database", "%s: database '%s' is corrupt", what, path);
    case SQLITE_NOMEM:
        return cg_err_set(err, CG_ENOMEM, "", "%s: out of memory", what);
    case SQLITE_CANTOPEN:
        return cg_err_set(err, CG_EIO, "database", "%s: cannot open database '%s': %s", what, path,
                          detail);
    case SQLITE_IOERR: {
        /* Some I/O paths (growing the -shm file, truncating the log) report a full or
         * read-only file system as a plain I/O error: the errno behind it tells. */
        int e = s && s->db ? sqlite3_system_errno(s->db) : 0;
        if (e == ENOSPC || e == EDQUOT)
            return fail_full(what, path, err);
        if (e == EROFS)
            return fail_readonly(what, path, err);
        return cg_err_set(err, CG_EIO, "database", "%s: database '%s': %s", what, path, detail);
    }
    default:
        return cg_err_set(err, CG_EIO, "", "%s: database '%s': %s", what, path, detail);
    }
}

int sq_acquire(cg_store *s, sq_stmt_id id, const char *sql, sq_lease *l, cg_err *err)
{
    assert(id < SQ_STATEMENTS);
    sqlite3_stmt **slot = &s->stmts[id];
    l->temporary = 0;
    if (*slot && !sqlite3_stmt_busy(*slot)) {
        l->st = *slot;
        return 0;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "preparing a statement", err);
    if (*slot) {
        l->temporary = 1;
    } else {
        *slot = st;
    }
    l->st = st;
    return 0;
}

void sq_release(sq_lease *l)
{
    if (!l->st)
        return;
    if (l->temporary) {
        sqlite3_finalize(l->st);
    } else {
        sqlite3_reset(l->st);
        sqlite3_clear_bindings(l->st);
    }
    l->st = NULL;
}

int sq_exec(cg_store *s, sq_lease *l, cg_err *err)
{
    int rc;
    while ((rc = sqlite3_step(l->st)) == SQLITE_ROW)
        ;
    sq_release(l);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, "writing", err);
    return 0;
}

/* Runs one of the fixed transaction-control statements. */
static int run_control(cg_store *s, sq_stmt_id id, const char *sql, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, id, sql, &l, err))
        return -1;
    int rc = sqlite3_step(l.st);
    sq_release(&l);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, sql, err);
    return 0;
}

/* SQLite rolls a whole transaction back by itself after some errors (disk full, I/O, out of
 * memory). Notice that, so the caller hears about it instead of committing nothing. */
static int transaction_lost(cg_store *s)
{
    return s->in_tx && sqlite3_get_autocommit(s->db);
}

int sq_write_begin(cg_store *s, cg_err *err)
{
    if (transaction_lost(s))
        return cg_err_set(err, CG_EBUSY, "",
                          "the transaction on '%s' was rolled back after an earlier error",
                          s->path);
    if (s->tx_failed)
        return cg_err_set(err, CG_EINVAL, "",
                          "an earlier write in this transaction on '%s' failed part-way: roll it "
                          "back",
                          s->path);
    if (s->in_tx) {
        s->changes_before_put = sqlite3_total_changes64(s->db);
        return 0;
    }
    if (s->in_read)
        return cg_err_set(err, CG_EINVAL, "", "no writes inside a read transaction on '%s'",
                          s->path);
    /* IMMEDIATE takes the write lock now, so two writers wait for each other (busy timeout)
     * instead of one failing when it upgrades a read snapshot that went stale. */
    return run_control(s, SQ_BEGIN, "BEGIN IMMEDIATE", err);
}

/*
 * Inside cg_store_begin a put runs without a savepoint of its own: with the R*Tree tables a
 * savepoint per put more than doubles the time of a bulk import (~300k ways), and puts check
 * their input before writing, so nearly every failure happens before the first row changes and
 * the transaction is still whole. When a put fails after changing a row (only a database-level
 * failure can do that), the transaction is marked failed: further puts are refused and commit
 * rolls back, so half a put is never committed.
 */
int sq_write_end(cg_store *s, int ok, cg_err *err)
{
    if (s->in_tx) {
        if (sqlite3_get_autocommit(s->db))
            return ok ? cg_err_set(err, CG_EBUSY, "",
                                   "the transaction on '%s' was rolled back after an error",
                                   s->path)
                      : -1;
        if (ok)
            return 0;
        if (sqlite3_total_changes64(s->db) != s->changes_before_put)
            s->tx_failed = 1;
        return -1;
    }
    if (ok && run_control(s, SQ_COMMIT, "COMMIT", err) == 0)
        return 0;
    if (!sqlite3_get_autocommit(s->db))
        run_control(s, SQ_ROLLBACK, "ROLLBACK", NULL);
    return -1;
}

int cg_store_begin(cg_store *s, cg_err *err)
{
    if (s->in_tx || s->in_read)
        return cg_err_set(err, CG_EINVAL, "", "a transaction is already open on '%s'", s->path);
    /* A read-only connection cannot take the write lock; its transaction is a read snapshot. */
    if (s->readonly ? run_control(s, SQ_BEGIN_READ, "BEGIN", err)
                    : run_control(s, SQ_BEGIN, "BEGIN IMMEDIATE", err))
        return -1;
    s->in_tx = 1;
    return 0;
}

int cg_store_commit(cg_store *s, cg_err *err)
{
    if (!s->in_tx)
        return cg_err_set(err, CG_EINVAL, "", "no transaction is open on '%s'", s->path);
    if (sqlite3_get_autocommit(s->db)) {
        s->in_tx = 0;
        return cg_err_set(err, CG_EBUSY, "",
                          "the transaction on '%s' was rolled back after an earlier error: nothing "
                          "was written",
                          s->path);
    }
    /* The summary entry of the transaction's place writes commits with them, or the commit
     * fails as a whole. */
    if (!s->tx_failed && sq_audit_flush_places(s, err)) {
        cg_store_rollback(s);
        return -1;
    }
    if (s->tx_failed) {
        cg_store_rollback(s);
        return cg_err_set(err, CG_EIO, "",
                          "a write in this transaction on '%s' failed part-way: the transaction "
                          "was rolled back and nothing was written",
                          s->path);
    }
    if (run_control(s, SQ_COMMIT, "COMMIT", err)) {
        /* A failed COMMIT (e.g. the disk filled) leaves the transaction open: end it. */
        cg_store_rollback(s);
        return -1;
    }
    s->in_tx = 0;
    return 0;
}

void cg_store_rollback(cg_store *s)
{
    if (!s->in_tx)
        return;
    s->in_tx = 0;
    s->tx_failed = 0;
    s->savepoint_open = 0;
    memset(s->pending_places, 0, sizeof s->pending_places);
    if (!sqlite3_get_autocommit(s->db))
        run_control(s, SQ_ROLLBACK, "ROLLBACK", NULL);
}

int cg_store_tx_whole(cg_store *s)
{
    return s->in_tx && !s->tx_failed && !transaction_lost(s);
}

int cg_store_read_begin(cg_store *s, cg_err *err)
{
    if (s->in_tx || s->in_read)
        return cg_err_set(err, CG_EINVAL, "", "a transaction is already open on '%s'", s->path);
    /* Deferred: the snapshot is taken by the first read and held until the end. */
    if (run_control(s, SQ_BEGIN_READ, "BEGIN", err))
        return -1;
    s->in_read = 1;
    return 0;
}

void cg_store_read_end(cg_store *s)
{
    if (!s->in_read)
        return;
    s->in_read = 0;
    if (!sqlite3_get_autocommit(s->db) && run_control(s, SQ_COMMIT, "COMMIT", NULL))
        run_control(s, SQ_ROLLBACK, "ROLLBACK", NULL);
}

/*
 * Savepoints inside cg_store_begin/commit. A put that fails part-way marks the transaction
 * failed (sq_write_end); rolling back to the savepoint undoes exactly that put, so the mark is
 * cleared with it and the transaction goes on.
 */
int cg_store_savepoint(cg_store *s, cg_err *err)
{
    if (!s->in_tx)
        return cg_err_set(err, CG_EINVAL, "", "a savepoint needs an open transaction on '%s'",
                          s->path);
    if (s->savepoint_open)
        return cg_err_set(err, CG_EINVAL, "", "savepoints do not nest (database '%s')", s->path);
    if (s->tx_failed || transaction_lost(s))
        return cg_err_set(err, CG_EBUSY, "", "the transaction on '%s' has already failed", s->path);
    if (run_control(s, SQ_SAVEPOINT, "SAVEPOINT cg_unit", err))
        return -1;
    s->savepoint_open = 1;
    return 0;
}

int cg_store_savepoint_release(cg_store *s, cg_err *err)
{
    if (!s->savepoint_open)
        return cg_err_set(err, CG_EINVAL, "", "no savepoint is open on '%s'", s->path);
    if (s->tx_failed || transaction_lost(s)) {
        cg_store_savepoint_rollback(s);
        return cg_err_set(err, CG_EIO, "", "a write under the savepoint on '%s' failed part-way",
                          s->path);
    }
    s->savepoint_open = 0;
    return run_control(s, SQ_SAVEPOINT_RELEASE, "RELEASE cg_unit", err);
}

void cg_store_savepoint_rollback(cg_store *s)
{
    if (!s->savepoint_open)
        return;
    s->savepoint_open = 0;
    if (transaction_lost(s))
        return;
    if (run_control(s, SQ_SAVEPOINT_ROLLBACK, "ROLLBACK TO cg_unit", NULL) == 0 &&
        run_control(s, SQ_SAVEPOINT_RELEASE, "RELEASE cg_unit", NULL) == 0)
        s->tx_failed = 0;
}

/* Pragmas that every connection needs, whatever its mode. */
static int configure_connection(cg_store *s, cg_err *err)
{
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
    int rc = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, SQ_CACHE_PRAGMA, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, SQ_MMAP_PRAGMA, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "opening", err);
    return 0;
}

/* Pragmas for a connection that writes. */
static int configure_writer(cg_store *s, cg_err *err)
{
    /* WAL: readers (the server's request threads) never wait for the writer, and a write
     * transaction appends to the log instead of rewriting pages in place. */
    int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    /* synchronous=FULL: in WAL mode the log is fsynced at every commit, so a commit that has
     * returned survives a crash of the process, the operating system or the power. NORMAL syncs
     * only at checkpoints and may lose the last transactions on power loss; that was acceptable
     * while writes were reruns of imports, but a case acknowledged to a resident or a hotline
     * operator must never vanish. The cost is one fsync per commit, which the case intake
     * spreads over many cases by committing them in groups (app/cases.h, cg_intake). */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    /* The statement journal (what a savepoint or a failing statement rolls back to, inside a
     * transaction) in memory: by default it spills to a temporary file past 64 KiB, and the
     * case intake, which writes each case of a group commit under its own savepoint, then paid
     * a pwrite for every page each case touched (~15 % of the server's CPU). It is never read
     * after a crash: durability is the WAL's, unchanged. The journal lives only until the
     * savepoint is released, so it holds at most the pages one write unit changes. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
    /* Checkpoint when the log holds 8,192 pages (32 MB) instead of SQLite's 1,000: every
     * checkpoint copies the pages changed since the last one into the database and fsyncs it
     * twice, and the pages every commit touches (index ends, the audit head) are copied once
     * per checkpoint however often they changed. The case intake spends ~5 % less CPU per case
     * (bench/README.md). Durability is the log's fsync at each commit, unchanged. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 8192", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "configuring the database", err);
    return 0;
}

static int check_location(const char *location, int flags, cg_err *err)
{
    if (!location || !*location)
        return cg_err_set(err, CG_EINVAL, "database", "no database path given");
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
        return cg_err_set(err, CG_EUNSUPPORTED, "database",
                          "'%s': the PostgreSQL backend is not part of this build", location);
    struct stat st;
    if (stat(location, &st) != 0) {
        if (errno == ENOENT && !(flags & CG_STORE_CREATE))
            return cg_err_set(err, CG_ENOTFOUND, "database", "database '%s' does not exist",
                              location);
        if (errno != ENOENT)
            return cg_err_set(err, CG_EIO, "database", "cannot open database '%s': %s", location,
                              strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        return cg_err_set(err, CG_EINVAL, "database", "'%s' is a directory, not a database file",
                          location);
    }
    return 0;
}

/*
 * SQLite creates the -wal and -shm files with the database file's mode. While the database is
 * read-only (mode 0444) they are made read-only too, and they outlive the cause: once the file is
 * writable again, a connection that finds a read-only -shm can still only read. When the
 * database is writable and a side file is ours but not writable, give it the database's mode,
 * as SQLite would have. Mode bits never affect a mapping another connection holds.
 */
static void align_side_files(const char *location)
{
    struct stat db;
    if (stat(location, &db) != 0 || access(location, W_OK) != 0)
        return;
    static const char *const suffixes[] = {"-shm", "-wal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char side[4096];
        struct stat st;
        if (snprintf(side, sizeof side, "%s%s", location, suffixes[i]) >= (int)sizeof side)
            return;
        if (lstat(side, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            access(side, W_OK) != 0)
            chmod(side, db.st_mode & 0666);
    }
}

int cg_store_open(const char *location, int flags, cg_store **out, cg_err *err)
{
    *out = NULL;
    if (check_location(location, flags, err))
        return -1;
    cg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(location))) {
        free(s);
        return cg_err_set(err, CG_ENOMEM, "", "out of memory opening '%s'", location);
    }
    s->readonly = (flags & CG_STORE_READONLY) != 0;
    if (!s->readonly)
        align_side_files(location);
    int oflags = SQLITE_OPEN_NOMUTEX;
    if (s->readonly)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | ((flags & CG_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(location, &s->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(s, rc, "opening", err);
        cg_store_close(s);
        return -1;
    }
    int version;
    /* The version is checked before any pragma that writes (journal_mode), so a database from a
     * newer civgrid is left exactly as it was. */
    if (configure_connection(s, err) || sq_schema_read_version(s, &version, err))
        goto fail;
    if (sq_schema_refuse_newer(s, version, err))
        goto fail;
    if (s->readonly) {
        if (version < sq_schema_version_supported()) {
            cg_err_set(err, CG_ESCHEMA, "database",
                       "database '%s' has schema version %d, older than this civgrid's (%d): open "
                       "it once read-write to upgrade it",
                       location, version, sq_schema_version_supported());
            goto fail;
        }
        s->schema_version = version;
    } else if (configure_writer(s, err) || sq_schema_migrate(s, err)) {
        goto fail;
    }
    *out = s;
    return 0;
fail:
    cg_store_close(s);
    return -1;
}

void cg_store_close(cg_store *s)
{
    if (!s)
        return;
    cg_store_rollback(s);
    for (int i = 0; i < SQ_STATEMENTS; i++)
        sqlite3_finalize(s->stmts[i]);
    sq_case_lists_free(s);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

int cg_store_writable(cg_store *s)
{
    return !s->readonly && sqlite3_db_readonly(s->db, "main") == 0;
}

int cg_store_reopen_if_writable(cg_store **s, cg_err *err)
{
    if (!*s || (*s)->readonly || cg_store_writable(*s) || (*s)->in_tx ||
        access((*s)->path, W_OK) != 0)
        return 0;
    cg_store *fresh;
    if (cg_store_open((*s)->path, 0, &fresh, err))
        return -1;
    if (!cg_store_writable(fresh)) { /* e.g. a read-only -shm another user left */
        cg_store_close(fresh);
        return 0;
    }
    cg_store_close(*s);
    *s = fresh;
    return 1;
}

int cg_store_schema_version_supported(void)
{
    return sq_schema_version_supported();
}

int cg_store_schema_version(cg_store *s)
{
    return s->schema_version;
}

void sq_column_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    assert(cap > 0);
    const char *src = (const char *)sqlite3_column_text(st, col);
    size_t n = src ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap) {
        n = cap - 1;
        /* Do not cut a UTF-8 sequence in half: back up to the start of the last character. */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void sq_bind_bbox(sqlite3_stmt *st, const cg_bbox *b)
{
    sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":min_x"), b->min_x);
    sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":min_y"), b->min_y);
    sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":max_x"), b->max_x);
    sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":max_y"), b->max_y);
}

/* ---- counters, meta, counts ---- */

int sq_grid_generation_bump(cg_store *s, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_GENERATION_BUMP,
                   "UPDATE counters SET value = value + 1 WHERE name = 'grid_generation'", &l, err))
        return -1;
    return sq_exec(s, &l, err);
}

int64_t cg_store_grid_generation(cg_store *s)
{
    sq_lease l;
    if (sq_acquire(s, SQ_GENERATION_GET,
                   "SELECT value FROM counters WHERE name = 'grid_generation'", &l, NULL))
        return -1;
    int64_t value = sqlite3_step(l.st) == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : -1;
    sq_release(&l);
    return value;
}

int cg_store_meta_set(cg_store *s, const char *key, const char *value, cg_err *err)
{
    if (!key || !*key)
        return cg_err_set(err, CG_EINVAL, "key", "a meta key must not be empty");
    if (!value)
        return cg_err_set(err, CG_EINVAL, "value", "meta key '%s' needs a value", key);
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int ok = sq_acquire(s, SQ_META_SET,
                        "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 2, value, -1, SQLITE_STATIC);
        ok = sq_exec(s, &l, err) == 0;
    }
    if (ok) {
        /* Meta values are short settings and provenance ("import.source"), safe to record. */
        cg_buf b;
        cg_buf_init(&b);
        cg_buf_puts(&b, "{\"key\":");
        cg_json_write_string(&b, key);
        cg_buf_puts(&b, ",\"value\":");
        cg_json_write_string(&b, value);
        cg_buf_putc(&b, '}');
        char target[96];
        snprintf(target, sizeof target, "meta:%.80s", key);
        ok = b.len < sizeof((cg_audit_entry *)0)->summary
                 ? sq_audit(s, "meta.set", target, b.data, err) == 0
                 : sq_audit(s, "meta.set", target, "{\"value\":\"(long)\"}", err) == 0;
        cg_buf_free(&b);
    }
    if (sq_write_end(s, ok, err)) {
        cg_err_prefix(err, "setting meta key '%s'", key);
        return -1;
    }
    return 0;
}

int cg_store_meta_get(cg_store *s, const char *key, char *buf, size_t cap, cg_err *err)
{
    assert(cap > 0);
    sq_lease l;
    if (sq_acquire(s, SQ_META_GET, "SELECT value FROM meta WHERE key = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(l.st, 0);
        if (n >= cap) {
            result = cg_err_set(err, CG_ELIMIT, "key",
                                "meta key '%s' holds %zu bytes, more than the %zu-byte buffer", key,
                                n, cap - 1);
        } else {
            memcpy(buf, sqlite3_column_text(l.st, 0), n);
            buf[n] = '\0';
        }
    } else if (rc == SQLITE_DONE) {
        result = cg_err_set(err, CG_ENOTFOUND, "key", "no meta key '%s'", key);
    } else {
        result = sq_fail(s, rc, "reading meta", err);
    }
    sq_release(&l);
    return result;
}

static int count_rows(cg_store *s, sq_stmt_id id, const char *sql, int64_t *out, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, id, sql, &l, err))
        return -1;
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(l.st, 0);
    sq_release(&l);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "counting rows", err);
}

int cg_store_counts_get(cg_store *s, cg_store_counts *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    /* One read transaction, so the five numbers describe the same moment. */
    int own = !s->in_tx;
    if (own && run_control(s, SQ_BEGIN_READ, "BEGIN", err))
        return -1;
    int rc =
        count_rows(s, SQ_COUNT_GRIDS, "SELECT count(*) FROM grids WHERE valid_to = 0", &out->grids,
                   err) ||
        count_rows(s, SQ_COUNT_WAYS, "SELECT count(*) FROM ways", &out->ways, err) ||
        count_rows(s, SQ_COUNT_BUILDINGS, "SELECT count(*) FROM buildings", &out->buildings, err) ||
        count_rows(s, SQ_COUNT_POIS, "SELECT count(*) FROM pois", &out->pois, err) ||
        count_rows(s, SQ_COUNT_BOUNDARIES, "SELECT count(*) FROM boundaries", &out->boundaries,
                   err);
    if (own)
        run_control(s, SQ_COMMIT, "COMMIT", NULL);
    return rc ? -1 : 0;
}

int cg_store_use_page_pool(size_t bytes, cg_err *err)
{
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK)
        return cg_err_set(err, CG_EINTERNAL, "", "SQLite is already initialised");
    /* Slots for the default 4 KiB pages and their headers, rounded to 8 bytes. */
    int slot = (4096 + header + 7) & ~7;
    int n = (int)(bytes / (size_t)slot);
    if (n < 16)
        return cg_err_set(err, CG_EINVAL, "bytes", "a page pool needs at least 16 pages");
    void *pool = malloc((size_t)slot * (size_t)n);
    if (!pool)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory for the page pool");
    if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, pool, slot, n) != SQLITE_OK) {
        free(pool);
        return cg_err_set(err, CG_EINTERNAL, "", "SQLite is already initialised");
    }
    /* The pool lives as long as the process: SQLite uses it until exit. */
    return 0;
}
