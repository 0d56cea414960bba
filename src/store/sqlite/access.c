/*
 * Access in SQLite: the connection's actor, the hash-chained audit log, accounts, login
 * throttling, sessions and residents' contact details (store.h, "access"). Tables: schema.c,
 * version 2.
 *
 * Audit: every write function of the store calls sq_audit inside its own write, so the entry
 * commits or rolls back with the change it describes. Appends run under the write lock (BEGIN
 * IMMEDIATE, sq_write_begin), read the head row, insert the next entry and move the head in one
 * transaction: two connections can never take the same seq, and seq has no gaps. Place writes
 * (roads, buildings, POIs, boundaries) come by the hundred thousand in an import, so inside a
 * transaction they are counted and summarised in ONE entry at commit; outside one each put is its
 * own batch of one. Session and throttle rows are bookkeeping, not data: their writes are not
 * audited here; the HTTP layer records logins and logouts with cg_store_audit_append.
 *
 * Scope: functions taking a scope put it in the WHERE clause as a code range (sq_scope_range),
 * and report an object outside it with the same CG_ENOTFOUND and message as a missing one.
 */
#include "store/sqlite/db.h"
#include "geo/geojson.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

/* ---- actor ---- */

void cg_store_set_actor(cg_store *s, const cg_actor *actor)
{
    memset(&s->actor, 0, sizeof s->actor);
    s->actor.actor_id = actor->actor_id;
    snprintf(s->actor.name, sizeof s->actor.name, "%s", actor->name);
    snprintf(s->actor.address, sizeof s->actor.address, "%s", actor->address);
}

int sq_scope_range(const cg_scope *scope, char lo[CG_CODE_MAX], char hi[CG_CODE_MAX], cg_err *err)
{
    lo[0] = hi[0] = '\0';
    if (!scope || !scope->code[0])
        return 0;
    size_t n = strnlen(scope->code, CG_CODE_MAX);
    if (n >= CG_CODE_MAX || (unsigned char)scope->code[n - 1] == 0xFF)
        return cg_err_set(err, CG_EINVAL, "scope", "'%.*s' is not a grid code", (int)n,
                          scope->code);
    memcpy(lo, scope->code, n + 1);
    memcpy(hi, scope->code, n + 1);
    hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    return 0;
}

/* Binds :lo and :hi of a statement written as "(:lo = '' OR (col >= :lo AND col < :hi))". */
static void bind_scope(sqlite3_stmt *st, const char *lo, const char *hi)
{
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":lo"), lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":hi"), hi, -1, SQLITE_TRANSIENT);
}

/* ---- audit ---- */

/* Copies text into a fixed field, cutting at a UTF-8 character boundary. */
static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int head_get(cg_store *s, int64_t *seq, char hash[65], cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_AUDIT_HEAD_GET, "SELECT seq, hash FROM audit_head WHERE id = 1", &l, err))
        return -1;
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(l.st, 0);
        sq_column_text(l.st, 1, hash, 65);
    }
    sq_release(&l);
    if (rc == SQLITE_DONE)
        return cg_err_set(err, CG_ESCHEMA, "audit", "the audit log's head row is missing");
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "reading the audit head", err);
}

int sq_audit(cg_store *s, const char *action, const char *target, const char *summary, cg_err *err)
{
    if (strlen(summary) >= sizeof((cg_audit_entry *)0)->summary)
        return cg_err_set(err, CG_ELIMIT, "summary", "an audit summary of %zu bytes is too long",
                          strlen(summary));
    cg_audit_entry entry;
    memset(&entry, 0, sizeof entry);
    if (head_get(s, &entry.seq, entry.prev_hash, err))
        return -1;
    entry.seq++;
    entry.at = (int64_t)time(NULL);
    entry.actor_id = s->actor.actor_id;
    copy_field(entry.actor, sizeof entry.actor, s->actor.name[0] ? s->actor.name : "system");
    copy_field(entry.address, sizeof entry.address, s->actor.address);
    copy_field(entry.action, sizeof entry.action, action);
    copy_field(entry.target, sizeof entry.target, target);
    copy_field(entry.summary, sizeof entry.summary, summary);
    cg_audit_hash(&entry, entry.hash);

    sq_lease l;
    if (sq_acquire(s, SQ_AUDIT_INSERT,
                   "INSERT INTO audit_log (seq, at, actor_id, actor, address, action, target, "
                   "summary, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, entry.seq);
    sqlite3_bind_int64(l.st, 2, entry.at);
    sqlite3_bind_int64(l.st, 3, entry.actor_id);
    sqlite3_bind_text(l.st, 4, entry.actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 5, entry.address, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 6, entry.action, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 7, entry.target, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 8, entry.summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 9, entry.prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 10, entry.hash, -1, SQLITE_STATIC);
    if (sq_exec(s, &l, err))
        return -1;
    if (sq_acquire(s, SQ_AUDIT_HEAD_SET, "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, entry.seq);
    sqlite3_bind_text(l.st, 2, entry.hash, -1, SQLITE_STATIC);
    return sq_exec(s, &l, err);
}

static const char *const place_kind_names[SQ_PLACE_KINDS] = {"ways", "buildings", "pois",
                                                             "boundaries"};

static int audit_places(cg_store *s, const int64_t counts[SQ_PLACE_KINDS], cg_err *err)
{
    cg_buf b;
    cg_buf_init(&b);
    cg_buf_putc(&b, '{');
    int first = 1;
    for (int k = 0; k < SQ_PLACE_KINDS; k++) {
        if (!counts[k])
            continue;
        cg_buf_printf(&b, "%s\"%s\":%" PRId64, first ? "" : ",", place_kind_names[k], counts[k]);
        first = 0;
    }
    cg_buf_putc(&b, '}');
    int rc = sq_audit(s, "places.put", "places", b.data, err);
    cg_buf_free(&b);
    if (rc)
        return rc;
    /* Once per write of places, inside it: the counter moves exactly when the places do. The row
     * is made by the first write, so databases of every schema version have it when needed. */
    sq_lease l;
    if (sq_acquire(s, SQ_PLACES_GENERATION_BUMP,
                   "INSERT INTO counters (name, value) VALUES ('places_generation', 1) "
                   "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                   &l, err) ||
        sq_exec(s, &l, err))
        return -1;
    if (!counts[SQ_PLACE_WAY])
        return 0;
    /* Roads alone have their own counter: the road graph's staleness check (net/graph.h). */
    if (sq_acquire(s, SQ_WAYS_GENERATION_BUMP,
                   "INSERT INTO counters (name, value) VALUES ('ways_generation', 1) "
                   "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                   &l, err))
        return -1;
    return sq_exec(s, &l, err);
}

int64_t cg_store_ways_generation(cg_store *s)
{
    sq_lease l;
    if (sq_acquire(
            s, SQ_WAYS_GENERATION_GET,
            "SELECT coalesce((SELECT value FROM counters WHERE name = 'ways_generation'), 0)", &l,
            NULL))
        return -1;
    int64_t value = sqlite3_step(l.st) == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : -1;
    sq_release(&l);
    return value;
}

int64_t cg_store_places_generation(cg_store *s)
{
    sq_lease l;
    if (sq_acquire(
            s, SQ_PLACES_GENERATION_GET,
            "SELECT coalesce((SELECT value FROM counters WHERE name = 'places_generation'), 0)", &l,
            NULL))
        return -1;
    int64_t value = sqlite3_step(l.st) == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : -1;
    sq_release(&l);
    return value;
}

int sq_audit_place(cg_store *s, sq_place_kind kind, cg_err *err)
{
    if (s->in_tx) {
        s->pending_places[kind]++;
        return 0;
    }
    int64_t one[SQ_PLACE_KINDS] = {0};
    one[kind] = 1;
    return audit_places(s, one, err);
}

int sq_audit_flush_places(cg_store *s, cg_err *err)
{
    int64_t total = 0;
    for (int k = 0; k < SQ_PLACE_KINDS; k++)
        total += s->pending_places[k];
    if (!total)
        return 0;
    int rc = audit_places(s, s->pending_places, err);
    memset(s->pending_places, 0, sizeof s->pending_places);
    return rc;
}

int cg_store_audit_append(cg_store *s, const char *action, const char *target, const char *summary,
                          cg_err *err)
{
    if (!action || !*action)
        return cg_err_set(err, CG_EINVAL, "action", "an audit entry needs an action");
    if (sq_write_begin(s, err))
        return -1;
    int ok = sq_audit(s, action, target ? target : "", summary ? summary : "{}", err) == 0;
    return sq_write_end(s, ok, err);
}

static void entry_from_row(sqlite3_stmt *st, cg_audit_entry *e)
{
    e->seq = sqlite3_column_int64(st, 0);
    e->at = sqlite3_column_int64(st, 1);
    e->actor_id = sqlite3_column_int64(st, 2);
    sq_column_text(st, 3, e->actor, sizeof e->actor);
    sq_column_text(st, 4, e->address, sizeof e->address);
    sq_column_text(st, 5, e->action, sizeof e->action);
    sq_column_text(st, 6, e->target, sizeof e->target);
    sq_column_text(st, 7, e->summary, sizeof e->summary);
    sq_column_text(st, 8, e->prev_hash, sizeof e->prev_hash);
    sq_column_text(st, 9, e->hash, sizeof e->hash);
}

/* The filters are few and optional, and the log is read by people, not per request; one
 * statement per order with "(:x IS NULL OR ...)" terms is enough. The target prefix is a range,
 * like a scope. */
#define AUDIT_LIST_SQL                                                                             \
    "SELECT seq, at, actor_id, actor, address, action, target, summary, prev_hash, hash "          \
    "FROM audit_log WHERE (:since IS NULL OR at >= :since) AND (:until IS NULL OR at < :until) "   \
    "AND (:actor IS NULL OR actor = :actor) AND (:action IS NULL OR action = :action) "            \
    "AND (:lo IS NULL OR (target >= :lo AND target < :hi)) "

int cg_store_audit_list(cg_store *s, const cg_audit_filter *f, cg_audit_cb cb, void *ctx,
                        cg_err *err)
{
    static const cg_audit_filter none;
    if (!f)
        f = &none;
    if (f->limit < 0 || f->offset < 0)
        return cg_err_set(err, CG_EINVAL, f->limit < 0 ? "limit" : "offset",
                          "limit and offset must not be negative");
    char hi[96];
    if (f->target_prefix && *f->target_prefix) {
        size_t n = strlen(f->target_prefix);
        if (n >= sizeof hi || (unsigned char)f->target_prefix[n - 1] == 0xFF)
            return cg_err_set(err, CG_EINVAL, "target", "the target prefix is too long");
        memcpy(hi, f->target_prefix, n + 1);
        hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    }
    sq_lease l;
    if (f->newest_first
            ? sq_acquire(s, SQ_AUDIT_LIST_DESC,
                         AUDIT_LIST_SQL "ORDER BY seq DESC LIMIT :limit OFFSET :offset", &l, err)
            : sq_acquire(s, SQ_AUDIT_LIST,
                         AUDIT_LIST_SQL "ORDER BY seq LIMIT :limit OFFSET :offset", &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    if (f->since)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), f->since);
    if (f->until)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"), f->until);
    if (f->actor && *f->actor)
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":actor"), f->actor, -1,
                          SQLITE_STATIC);
    if (f->action && *f->action)
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":action"), f->action, -1,
                          SQLITE_STATIC);
    if (f->target_prefix && *f->target_prefix) {
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":lo"), f->target_prefix, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":hi"), hi, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":limit"), f->limit ? f->limit : -1);
    sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":offset"), f->offset);
    int rc, result = 0;
    cg_audit_entry e;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        entry_from_row(st, &e);
        if (cb(ctx, &e))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing the audit log", err);
    sq_release(&l);
    return result;
}

int cg_store_audit_head(cg_store *s, int64_t *seq, char hash[65], cg_err *err)
{
    return head_get(s, seq, hash, err);
}

/* ---- accounts ---- */

#define ACCOUNT_COLUMNS                                                                            \
    "id, username, display_name, roles, scope, department, duty_phone, disabled, created_at"

static void account_from_row(sqlite3_stmt *st, cg_account *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    sq_column_text(st, 1, a->username, sizeof a->username);
    sq_column_text(st, 2, a->display_name, sizeof a->display_name);
    a->roles = (uint32_t)sqlite3_column_int64(st, 3);
    sq_column_text(st, 4, a->scope.code, sizeof a->scope.code);
    sq_column_text(st, 5, a->department, sizeof a->department);
    sq_column_text(st, 6, a->duty_phone, sizeof a->duty_phone);
    a->disabled = sqlite3_column_int(st, 7);
    a->created_at = sqlite3_column_int64(st, 8);
}

/* What an audit summary says about an account: never a password or its hash, nor the duty
 * phone (a person's number; the summary says only whether it changed). */
static void account_json(cg_buf *b, const cg_account *a)
{
    char roles[128];
    cg_roles_format(a->roles, roles, sizeof roles);
    cg_buf_puts(b, "{\"username\":");
    cg_json_write_string(b, a->username);
    cg_buf_puts(b, ",\"display_name\":");
    cg_json_write_string(b, a->display_name);
    cg_buf_puts(b, ",\"roles\":");
    cg_json_write_string(b, roles);
    cg_buf_puts(b, ",\"scope\":");
    cg_json_write_string(b, a->scope.code);
    cg_buf_puts(b, ",\"department\":");
    cg_json_write_string(b, a->department);
    cg_buf_printf(b, ",\"disabled\":%s}", a->disabled ? "true" : "false");
}

static int account_check(const cg_account *a, cg_err *err)
{
    if ((a->roles & ~(uint32_t)CG_ROLE_ALL) != 0)
        return cg_err_set(err, CG_EINVAL, "roles", "unknown role bits 0x%x", (unsigned)a->roles);
    char lo[CG_CODE_MAX], hi[CG_CODE_MAX];
    return sq_scope_range(&a->scope, lo, hi, err);
}

int cg_store_account_create(cg_store *s, cg_account *a, const char *password_hash, cg_err *err)
{
    if (cg_username_check(a->username, err) || account_check(a, err))
        return -1;
    if (!password_hash || !*password_hash)
        return cg_err_set(err, CG_EINVAL, "password", "an account needs a password hash");
    if (sq_write_begin(s, err))
        return -1;
    int64_t now = (int64_t)time(NULL);
    sq_lease l;
    int ok = sq_acquire(s, SQ_ACCOUNT_CREATE,
                        "INSERT INTO accounts (username, display_name, roles, scope, department, "
                        "duty_phone, disabled, created_at, password_hash) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_text(l.st, 1, a->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 2, a->display_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l.st, 3, a->roles);
        sqlite3_bind_text(l.st, 4, a->scope.code, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 5, a->department, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 6, a->duty_phone, -1, SQLITE_STATIC);
        sqlite3_bind_int(l.st, 7, a->disabled ? 1 : 0);
        sqlite3_bind_int64(l.st, 8, now);
        sqlite3_bind_text(l.st, 9, password_hash, -1, SQLITE_STATIC);
        ok = sq_exec(s, &l, err) == 0;
        if (!ok && err && err->code == CG_ECONFLICT)
            cg_err_set(err, CG_ECONFLICT, "username", "the username '%s' is taken", a->username);
    }
    if (ok) {
        a->id = sqlite3_last_insert_rowid(s->db);
        a->created_at = now;
        cg_buf b;
        cg_buf_init(&b);
        account_json(&b, a);
        char target[40];
        snprintf(target, sizeof target, "user:%" PRId64, a->id);
        ok = sq_audit(s, "user.create", target, b.data, err) == 0;
        cg_buf_free(&b);
    }
    if (sq_write_end(s, ok, err)) {
        a->id = 0;
        return -1;
    }
    return 0;
}

static int account_missing(int64_t id, cg_err *err)
{
    return cg_err_set(err, CG_ENOTFOUND, "id", "no account %" PRId64, id);
}

int cg_store_account_get(cg_store *s, const cg_scope *scope, int64_t id, cg_account *out,
                         cg_err *err)
{
    char lo[CG_CODE_MAX], hi[CG_CODE_MAX];
    if (sq_scope_range(scope, lo, hi, err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, SQ_ACCOUNT_GET,
                   "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = :id "
                   "AND (:lo = '' OR (scope >= :lo AND scope < :hi))",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, sqlite3_bind_parameter_index(l.st, ":id"), id);
    bind_scope(l.st, lo, hi);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW)
        account_from_row(l.st, out);
    else if (rc == SQLITE_DONE)
        result = account_missing(id, err);
    else
        result = sq_fail(s, rc, "reading an account", err);
    sq_release(&l);
    return result;
}

int cg_store_account_by_name(cg_store *s, const char *username, cg_account *out,
                             char *password_hash, size_t hash_cap, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_ACCOUNT_BY_NAME,
                   "SELECT " ACCOUNT_COLUMNS ", password_hash FROM accounts WHERE username = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW) {
        account_from_row(l.st, out);
        if (password_hash && hash_cap)
            sq_column_text(l.st, 9, password_hash, hash_cap);
    } else if (rc == SQLITE_DONE) {
        result = cg_err_set(err, CG_ENOTFOUND, "username", "no account '%s'", username);
    } else {
        result = sq_fail(s, rc, "reading an account", err);
    }
    sq_release(&l);
    return result;
}

int cg_store_account_list(cg_store *s, const cg_scope *scope, cg_account_cb cb, void *ctx,
                          cg_err *err)
{
    char lo[CG_CODE_MAX], hi[CG_CODE_MAX];
    if (sq_scope_range(scope, lo, hi, err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, SQ_ACCOUNT_LIST,
                   "SELECT " ACCOUNT_COLUMNS " FROM accounts "
                   "WHERE (:lo = '' OR (scope >= :lo AND scope < :hi)) ORDER BY username",
                   &l, err))
        return -1;
    bind_scope(l.st, lo, hi);
    int rc, result = 0;
    cg_account a;
    while ((rc = sqlite3_step(l.st)) == SQLITE_ROW) {
        account_from_row(l.st, &a);
        if (cb(ctx, &a))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing accounts", err);
    sq_release(&l);
    return result;
}

int cg_store_account_update(cg_store *s, const cg_scope *scope, const cg_account *a, cg_err *err)
{
    if (account_check(a, err))
        return -1;
    if (sq_write_begin(s, err))
        return -1;
    cg_account before;
    int ok = cg_store_account_get(s, scope, a->id, &before, err) == 0;
    sq_lease l;
    if (ok)
        ok = sq_acquire(s, SQ_ACCOUNT_UPDATE,
                        "UPDATE accounts SET display_name = ?2, roles = ?3, scope = ?4, "
                        "department = ?5, duty_phone = ?6, disabled = ?7 WHERE id = ?1",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, a->id);
        sqlite3_bind_text(l.st, 2, a->display_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l.st, 3, a->roles);
        sqlite3_bind_text(l.st, 4, a->scope.code, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 5, a->department, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 6, a->duty_phone, -1, SQLITE_STATIC);
        sqlite3_bind_int(l.st, 7, a->disabled ? 1 : 0);
        ok = sq_exec(s, &l, err) == 0;
    }
    /* A disabled account keeps no session: revoked in the same transaction. */
    if (ok && a->disabled)
        ok = cg_store_session_delete_account(s, a->id, err) == 0;
    if (ok) {
        cg_account after = before;
        snprintf(after.display_name, sizeof after.display_name, "%s", a->display_name);
        after.roles = a->roles;
        after.scope = a->scope;
        snprintf(after.department, sizeof after.department, "%s", a->department);
        after.disabled = a->disabled ? 1 : 0;
        cg_buf b;
        cg_buf_init(&b);
        cg_buf_puts(&b, "{\"before\":");
        account_json(&b, &before);
        cg_buf_puts(&b, ",\"after\":");
        account_json(&b, &after);
        cg_buf_printf(&b, ",\"duty_phone_changed\":%s}",
                      strcmp(before.duty_phone, a->duty_phone) ? "true" : "false");
        char target[40];
        snprintf(target, sizeof target, "user:%" PRId64, a->id);
        ok = sq_audit(s, "user.update", target, b.data, err) == 0;
        cg_buf_free(&b);
    }
    return sq_write_end(s, ok, err);
}

int cg_store_account_set_password(cg_store *s, const cg_scope *scope, int64_t id,
                                  const char *password_hash, cg_err *err)
{
    if (!password_hash || !*password_hash)
        return cg_err_set(err, CG_EINVAL, "password", "a password hash is needed");
    if (sq_write_begin(s, err))
        return -1;
    cg_account a;
    int ok = cg_store_account_get(s, scope, id, &a, err) == 0;
    sq_lease l;
    if (ok)
        ok = sq_acquire(s, SQ_ACCOUNT_PASSWORD,
                        "UPDATE accounts SET password_hash = ?2 WHERE id = ?1", &l, err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, id);
        sqlite3_bind_text(l.st, 2, password_hash, -1, SQLITE_STATIC);
        ok = sq_exec(s, &l, err) == 0;
    }
    /* A new password ends every session opened with the old one. */
    ok = ok && cg_store_session_delete_account(s, id, err) == 0;
    if (ok) {
        cg_buf b;
        cg_buf_init(&b);
        cg_buf_puts(&b, "{\"username\":");
        cg_json_write_string(&b, a.username);
        cg_buf_putc(&b, '}');
        char target[40];
        snprintf(target, sizeof target, "user:%" PRId64, id);
        ok = sq_audit(s, "user.password", target, b.data, err) == 0;
        cg_buf_free(&b);
    }
    return sq_write_end(s, ok, err);
}

int cg_store_account_count(cg_store *s, int64_t *count, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_ACCOUNT_COUNT, "SELECT count(*) FROM accounts", &l, err))
        return -1;
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(l.st, 0);
    sq_release(&l);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "counting accounts", err);
}

/* ---- login throttling ---- */

int cg_store_login_state_get(cg_store *s, const char *key, cg_login_state *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    sq_lease l;
    if (sq_acquire(s, SQ_LOGIN_GET,
                   "SELECT failures, last_failure, locked_until FROM login_throttle WHERE key = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW) {
        out->failures = sqlite3_column_int(l.st, 0);
        out->last_failure = sqlite3_column_int64(l.st, 1);
        out->locked_until = sqlite3_column_int64(l.st, 2);
    }
    sq_release(&l);
    /* A key never seen is a key with no failures: not an error. */
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "reading login state", err);
}

int cg_store_login_failure(cg_store *s, const char *key, int64_t now, int64_t locked_until,
                           cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_LOGIN_FAILURE,
                   "INSERT INTO login_throttle (key, failures, last_failure, locked_until) "
                   "VALUES (?1, 1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET "
                   "failures = failures + 1, last_failure = excluded.last_failure, "
                   "locked_until = excluded.locked_until",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 2, now);
    sqlite3_bind_int64(l.st, 3, locked_until);
    return sq_exec(s, &l, err);
}

int cg_store_login_reset(cg_store *s, const char *key, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_LOGIN_RESET, "DELETE FROM login_throttle WHERE key = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    return sq_exec(s, &l, err);
}

/* ---- sessions ---- */

int cg_store_session_put(cg_store *s, const cg_session *session, cg_err *err)
{
    if (strlen(session->token_hash) != 64)
        return cg_err_set(err, CG_EINVAL, "token_hash", "a session is keyed by a SHA-256 hex hash");
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_PUT,
                   "INSERT INTO sessions (token_hash, account_id, kind, csrf, created_at, "
                   "expires_at, address) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, session->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 2, session->account_id);
    sqlite3_bind_int(l.st, 3, session->kind);
    sqlite3_bind_text(l.st, 4, session->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 5, session->created_at);
    sqlite3_bind_int64(l.st, 6, session->expires_at);
    sqlite3_bind_text(l.st, 7, session->address, -1, SQLITE_STATIC);
    return sq_exec(s, &l, err);
}

int cg_store_session_get(cg_store *s, const char *token_hash, cg_session *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_GET,
                   "SELECT token_hash, account_id, kind, csrf, created_at, expires_at, address "
                   "FROM sessions WHERE token_hash = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW) {
        sq_column_text(l.st, 0, out->token_hash, sizeof out->token_hash);
        out->account_id = sqlite3_column_int64(l.st, 1);
        out->kind = sqlite3_column_int(l.st, 2);
        sq_column_text(l.st, 3, out->csrf, sizeof out->csrf);
        out->created_at = sqlite3_column_int64(l.st, 4);
        out->expires_at = sqlite3_column_int64(l.st, 5);
        sq_column_text(l.st, 6, out->address, sizeof out->address);
    } else if (rc == SQLITE_DONE) {
        result = cg_err_set(err, CG_ENOTFOUND, "session", "no such session");
    } else {
        result = sq_fail(s, rc, "reading a session", err);
    }
    sq_release(&l);
    return result;
}

/* One statement, so one read transaction, for the check every authenticated request makes. */
int cg_store_session_resolve(cg_store *s, const char *token_hash, cg_session *session,
                             cg_account *account, cg_err *err)
{
    memset(session, 0, sizeof *session);
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_RESOLVE,
                   "SELECT a.id, a.username, a.display_name, a.roles, a.scope, a.department, "
                   "a.duty_phone, a.disabled, a.created_at, s.token_hash, s.kind, s.csrf, "
                   "s.created_at, s.expires_at, s.address "
                   "FROM sessions AS s JOIN accounts AS a ON a.id = s.account_id "
                   "WHERE s.token_hash = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW) {
        account_from_row(l.st, account);
        sq_column_text(l.st, 9, session->token_hash, sizeof session->token_hash);
        session->account_id = account->id;
        session->kind = sqlite3_column_int(l.st, 10);
        sq_column_text(l.st, 11, session->csrf, sizeof session->csrf);
        session->created_at = sqlite3_column_int64(l.st, 12);
        session->expires_at = sqlite3_column_int64(l.st, 13);
        sq_column_text(l.st, 14, session->address, sizeof session->address);
    } else if (rc == SQLITE_DONE) {
        result = cg_err_set(err, CG_ENOTFOUND, "session", "no such session");
    } else {
        result = sq_fail(s, rc, "reading a session", err);
    }
    sq_release(&l);
    return result;
}

int cg_store_session_delete(cg_store *s, const char *token_hash, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_DELETE, "DELETE FROM sessions WHERE token_hash = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, token_hash, -1, SQLITE_STATIC);
    return sq_exec(s, &l, err);
}

int cg_store_session_delete_account(cg_store *s, int64_t account_id, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_DELETE_ACCOUNT, "DELETE FROM sessions WHERE account_id = ?1", &l,
                   err))
        return -1;
    sqlite3_bind_int64(l.st, 1, account_id);
    return sq_exec(s, &l, err);
}

int cg_store_session_purge(cg_store *s, int64_t now, int64_t *purged, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_SESSION_PURGE, "DELETE FROM sessions WHERE expires_at <= ?1", &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, now);
    if (sq_exec(s, &l, err))
        return -1;
    if (purged)
        *purged = sqlite3_changes64(s->db);
    return 0;
}

/* ---- resident contact details ---- */

static void case_target(char *buf, size_t cap, const char *case_ref)
{
    snprintf(buf, cap, "case:%s", case_ref);
}

int sq_contact_write(cg_store *s, const char *case_ref, const char *contact, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CONTACT_PUT,
                   "INSERT INTO resident_contact (case_ref, contact, created_at, closed_at) "
                   "VALUES (?1, ?2, ?3, 0) ON CONFLICT (case_ref) DO UPDATE SET "
                   "contact = excluded.contact",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, case_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, 2, contact, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 3, (int64_t)time(NULL));
    if (sq_exec(s, &l, err))
        return -1;
    char target[96];
    case_target(target, sizeof target, case_ref);
    /* The summary never holds the contact itself: the log outlives the retention period. */
    return sq_audit(s, "contact.put", target, "{}", err);
}

int cg_store_contact_put(cg_store *s, const char *case_ref, const char *contact, cg_err *err)
{
    if (!case_ref || !*case_ref)
        return cg_err_set(err, CG_EINVAL, "case_ref", "a contact belongs to a case");
    if (!contact)
        return cg_err_set(err, CG_EINVAL, "contact", "no contact given");
    if (sq_write_begin(s, err))
        return -1;
    int ok = sq_contact_write(s, case_ref, contact, err) == 0;
    return sq_write_end(s, ok, err);
}

int cg_store_contact_get(cg_store *s, const char *case_ref, char *buf, size_t cap, cg_err *err)
{
    assert(cap > 0);
    /* A read that writes: the audit entry and the read are one transaction, so no contact is
     * ever handed out without its entry. */
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int ok = sq_acquire(s, SQ_CONTACT_GET,
                        "SELECT contact FROM resident_contact WHERE case_ref = ?1", &l, err) == 0;
    if (ok) {
        sqlite3_bind_text(l.st, 1, case_ref, -1, SQLITE_STATIC);
        int rc = sqlite3_step(l.st);
        if (rc == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(l.st, 0);
            if (n >= cap)
                ok = cg_err_set(err, CG_ELIMIT, "contact",
                                "the contact of case '%s' does not fit the buffer", case_ref) == 0;
            else {
                memcpy(buf, sqlite3_column_text(l.st, 0), n);
                buf[n] = '\0';
            }
        } else if (rc == SQLITE_DONE) {
            ok = cg_err_set(err, CG_ENOTFOUND, "case_ref", "no contact for case '%s'", case_ref) ==
                 0;
        } else {
            ok = sq_fail(s, rc, "reading a contact", err) == 0;
        }
        sq_release(&l);
    }
    char target[96];
    case_target(target, sizeof target, case_ref);
    ok = ok && sq_audit(s, "contact.read", target, "{}", err) == 0;
    if (sq_write_end(s, ok, err)) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

int sq_contact_close(cg_store *s, const char *case_ref, int64_t closed_at, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CONTACT_CLOSE,
                   "UPDATE resident_contact SET closed_at = ?2 WHERE case_ref = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, case_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 2, closed_at);
    if (sq_exec(s, &l, err))
        return -1;
    if (sqlite3_changes64(s->db) == 0)
        return cg_err_set(err, CG_ENOTFOUND, "case_ref", "no contact for case '%s'", case_ref);
    char target[96], summary[64];
    case_target(target, sizeof target, case_ref);
    snprintf(summary, sizeof summary, "{\"closed_at\":%" PRId64 "}", closed_at);
    return sq_audit(s, "contact.close", target, summary, err);
}

int cg_store_contact_close(cg_store *s, const char *case_ref, int64_t closed_at, cg_err *err)
{
    if (closed_at <= 0)
        return cg_err_set(err, CG_EINVAL, "closed_at", "a closing time must be positive");
    if (sq_write_begin(s, err))
        return -1;
    int ok = sq_contact_close(s, case_ref, closed_at, err) == 0;
    return sq_write_end(s, ok, err);
}

int cg_store_contact_purge(cg_store *s, int64_t closed_before, int64_t *purged, cg_err *err)
{
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int64_t n = 0;
    int ok = sq_acquire(s, SQ_CONTACT_PURGE,
                        "DELETE FROM resident_contact WHERE closed_at > 0 AND closed_at < ?1", &l,
                        err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, closed_before);
        ok = sq_exec(s, &l, err) == 0;
        n = ok ? sqlite3_changes64(s->db) : 0;
    }
    char summary[96];
    snprintf(summary, sizeof summary, "{\"purged\":%" PRId64 ",\"closed_before\":%" PRId64 "}", n,
             closed_before);
    ok = ok && sq_audit(s, "contact.purge", "contacts", summary, err) == 0;
    if (sq_write_end(s, ok, err))
        return -1;
    if (purged)
        *purged = n;
    return 0;
}
