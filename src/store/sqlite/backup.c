/*
 * Online backup and restore through SQLite's backup API.
 *
 * Backup holds a read transaction on the source for the whole copy. In WAL mode that pins one
 * snapshot, so the copy is consistent (every transaction committed before it, none after) while
 * other connections keep writing, and the backup never restarts the way an unpinned backup does
 * each time a writer touches a page already copied. Pages are copied in steps so a long copy can
 * report progress.
 *
 * Restore copies a checked backup over the live database with the same API (which takes the
 * write lock), then moves the grid generation past both values so servers reload their grids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/db.h"

#define PAGES_PER_STEP 1024

static int copy_pages(sqlite3 *from, sqlite3 *to, cg_store_progress progress, void *ctx,
                      const char *what, cg_err *err)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b)
        return cg_err_set(err, CG_EIO, "", "%s: %s", what, sqlite3_errmsg(to));
    int rc;
    while ((rc = sqlite3_backup_step(b, PAGES_PER_STEP)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED) {
        if (progress) {
            int total = sqlite3_backup_pagecount(b);
            progress(ctx, total - sqlite3_backup_remaining(b), total);
        }
        if (rc != SQLITE_OK)
            sqlite3_sleep(20);
    }
    if (progress) {
        int total = sqlite3_backup_pagecount(b);
        progress(ctx, total, total);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return cg_err_set(err, (rc & 0xff) == SQLITE_FULL ? CG_EBUSY : CG_EIO, "", "%s: %s", what,
                          sqlite3_errstr(rc));
    return 0;
}

int cg_store_backup(cg_store *s, const char *dest, cg_store_progress progress, void *ctx,
                    cg_err *err)
{
    if (s->in_tx)
        return cg_err_set(err, CG_ECONFLICT, "", "backup: finish the open transaction first");
    size_t n = strlen(dest) + 6;
    char *part = malloc(n);
    if (!part)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    snprintf(part, n, "%s.part", dest);
    unlink(part);
    sqlite3 *out = NULL;
    int rc = sqlite3_open_v2(part, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int r = 0;
    if (rc != SQLITE_OK) {
        r = cg_err_set(err, CG_EIO, "file", "cannot create %s: %s", part, sqlite3_errstr(rc));
        goto done;
    }
    /* Pin one snapshot of the source for the whole copy (see the comment at the top). */
    if (sqlite3_exec(s->db, "BEGIN; SELECT count(*) FROM schema_version;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        r = sq_fail(s, sqlite3_errcode(s->db), "backup", err);
        goto done;
    }
    r = copy_pages(s->db, out, progress, ctx, "backup", err);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (r == 0 && sqlite3_close(out) != SQLITE_OK)
        r = cg_err_set(err, CG_EIO, "file", "cannot finish %s", part);
    out = NULL;
    if (r == 0 && rename(part, dest) != 0)
        r = cg_err_set(err, CG_EIO, "file", "cannot rename %s to %s: %m", part, dest);
done:
    if (out)
        sqlite3_close(out);
    if (r != 0)
        unlink(part);
    free(part);
    return r;
}

int cg_store_integrity_check(cg_store *s, cg_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, sqlite3_errcode(s->db), "integrity check", err);
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc != SQLITE_ROW)
        r = sq_fail(s, rc, "integrity check", err);
    else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        r = cg_err_set(err, CG_EIO, "database", "database '%s' failed its integrity check: %.300s",
                       s->path, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

int cg_store_restore(const char *backup, const char *location, cg_err *err)
{
    cg_store *src = NULL, *dst = NULL;
    if (cg_store_open(backup, CG_STORE_READONLY, &src, err) != 0) {
        cg_err_prefix(err, "backup %s", backup);
        return -1;
    }
    int r = cg_store_integrity_check(src, err);
    if (r == 0 && cg_store_schema_version(src) != cg_store_schema_version_supported())
        r = cg_err_set(err, CG_ESCHEMA, "file",
                       "backup %s has schema version %d; this civgrid restores version %d (open "
                       "it once with this civgrid's 'civgrid version' to check, or upgrade it "
                       "first by opening a copy with 'civgrid grids list --db COPY')",
                       backup, cg_store_schema_version(src), cg_store_schema_version_supported());
    if (r == 0)
        r = cg_store_open(location, CG_STORE_CREATE, &dst, err);
    int64_t before = 0;
    if (r == 0) {
        before = cg_store_grid_generation(dst);
        r = copy_pages(src->db, dst->db, NULL, NULL, "restore", err);
    }
    if (r == 0) {
        int64_t restored = cg_store_grid_generation(dst);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(dst->db,
                               "UPDATE counters SET value = ? WHERE name = 'grid_generation'", -1,
                               &st, NULL) != SQLITE_OK)
            r = sq_fail(dst, sqlite3_errcode(dst->db), "restore", err);
        else {
            sqlite3_bind_int64(st, 1, (before > restored ? before : restored) + 1);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE)
                r = sq_fail(dst, rc, "restore", err);
        }
    }
    if (dst)
        cg_store_close(dst);
    cg_store_close(src);
    return r;
}
