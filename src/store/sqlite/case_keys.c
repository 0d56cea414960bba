/*
 * What the server's in-memory case listing index reads from SQLite (store.h, "case_mark"): every
 * case's key (id, reported_at, grid code, state) for the initial build, and the keys of the cases
 * written since a mark, so the index follows writes made by any connection or process.
 *
 * The change source is the audit log: every write of a case row appends, in the same
 * transaction, an entry whose target is "case:<id>" (cases.c, audit_case and the note and photo
 * writes), and the log's sequence numbers are gapless and only grow (access.c). New cases are
 * also found by id (ids grow, cases are never deleted), so an insert is seen even if its audit
 * entry were ever batched. A restore replaces the history: the entry a mark names then has
 * another hash (or is gone), which keys_since reports as CG_ECONFLICT.
 */
#include "store/sqlite/db.h"

#include <string.h>

int cg_store_case_mark(cg_store *s, cg_case_mark *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_MARK,
                   "SELECT h.seq, h.hash, (SELECT max(id) FROM cases) FROM audit_head h "
                   "WHERE h.id = 1",
                   &l, err))
        return -1;
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW) {
        out->audit_seq = sqlite3_column_int64(l.st, 0);
        sq_column_text(l.st, 1, out->audit_hash, sizeof out->audit_hash);
        out->max_id = sqlite3_column_int64(l.st, 2);
    }
    sq_release(&l);
    if (rc == SQLITE_DONE)
        return cg_err_set(err, CG_ESCHEMA, "audit", "the audit log's head row is missing");
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "reading the case mark", err);
}

static int each_key(cg_store *s, sq_lease *l, cg_case_key_cb cb, void *ctx, cg_err *err)
{
    cg_case_key k;
    int rc;
    while ((rc = sqlite3_step(l->st)) == SQLITE_ROW) {
        k.id = sqlite3_column_int64(l->st, 0);
        k.reported_at = sqlite3_column_int64(l->st, 1);
        sq_column_text(l->st, 2, k.grid_code, sizeof k.grid_code);
        k.state = sqlite3_column_int(l->st, 3);
        if (cb(ctx, &k)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sq_release(l);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "reading case keys", err);
}

int cg_store_case_keys(cg_store *s, cg_case_key_cb cb, void *ctx, cg_err *err)
{
    sq_lease l;
    /* The order of the index cases_grid_state, which covers the four columns: a scan of it. */
    if (sq_acquire(s, SQ_CASE_KEYS,
                   "SELECT id, reported_at, grid_code, state FROM cases "
                   "ORDER BY grid_code, state, reported_at, id",
                   &l, err))
        return -1;
    return each_key(s, &l, cb, ctx, err);
}

int cg_store_case_keys_since(cg_store *s, const cg_case_mark *from, cg_case_key_cb cb, void *ctx,
                             cg_err *err)
{
    sq_lease l;
    if (from->audit_seq > 0) {
        if (sq_acquire(s, SQ_CASE_AUDIT_HASH, "SELECT hash FROM audit_log WHERE seq = ?1", &l, err))
            return -1;
        sqlite3_bind_int64(l.st, 1, from->audit_seq);
        char hash[65] = "";
        int rc = sqlite3_step(l.st);
        if (rc == SQLITE_ROW)
            sq_column_text(l.st, 0, hash, sizeof hash);
        sq_release(&l);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return sq_fail(s, rc, "reading the audit log", err);
        if (strcmp(hash, from->audit_hash) != 0)
            return cg_err_set(err, CG_ECONFLICT, "audit",
                              "audit entry %lld is not the one seen before (database restored?)",
                              (long long)from->audit_seq);
    }
    /* CROSS JOIN keeps the (short) tail of the log outside and looks each case up by id. */
    if (sq_acquire(s, SQ_CASE_KEYS_SINCE,
                   "SELECT c.id, c.reported_at, c.grid_code, c.state FROM audit_log a "
                   "CROSS JOIN cases c ON c.id = CAST(substr(a.target, 6) AS INTEGER) "
                   "WHERE a.seq > ?1 AND +a.target >= 'case:' AND +a.target < 'case;' "
                   "UNION ALL "
                   "SELECT id, reported_at, grid_code, state FROM cases WHERE id > ?2",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, from->audit_seq);
    sqlite3_bind_int64(l.st, 2, from->max_id);
    return each_key(s, &l, cb, ctx, err);
}

int cg_store_grid_code_exists(cg_store *s, const char *code, int *exists, cg_err *err)
{
    *exists = 0;
    sq_lease l;
    if (sq_acquire(s, SQ_GRID_CODE_EXISTS, "SELECT 1 FROM grids WHERE code = ?1 LIMIT 1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st);
    *exists = rc == SQLITE_ROW;
    sq_release(&l);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "reading grid codes", err);
}
