/*
 * Grid rows in SQLite: versioned puts, retirement, reads at a point in time, filtered lists and
 * counts, history. See schema.c for the table and its indexes.
 *
 * Versions: a put closes the current row of its code (valid_to = now) and inserts a new current
 * row (valid_from = now, valid_to = 0). Two puts of the same code with the same `now` are both
 * kept: the first row is closed with valid_to = valid_from, an empty interval that no `at` query
 * selects (valid_from <= at < valid_to), so the later put wins at every time while history still
 * shows both. A put or retire whose `now` is earlier than the current version's valid_from would
 * rewrite the past and is refused with CG_ECONFLICT.
 *
 * Lists: each combination of filters is its own prepared statement, so SQLite plans each with
 * the index that suits it (the partial index of current rows for plain lists, the parent index
 * for children, a code range for a subtree, the R*Tree for a bbox) instead of one generic plan
 * with "(? IS NULL OR ...)" terms that no index can serve.
 */
#include "store/sqlite/db.h"
#include "geo/geojson.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* The columns grid_from_row reads, in order; the geometry (or NULL) follows as column 14. */
#define GRID_COLUMNS                                                                               \
    "g.id, g.code, g.parent_code, g.level, g.name_zh, g.name_en, g.grade, g.households, "          \
    "g.area_m2, g.leader_id, g.deputy_id, g.members, g.valid_from, g.valid_to"
#define GRID_GEOM_COLUMN 14

#define CURRENT_ONLY "g.valid_to = 0"
#define VALID_AT     "g.valid_from <= :at AND (g.valid_to = 0 OR g.valid_to > :at)"

/* ---- members: a JSON array of account ids ---- */

static char *members_to_json(const cg_grid *g)
{
    size_t cap = 3 + g->n_members * 21;
    char *json = malloc(cap);
    if (!json)
        return NULL;
    size_t len = 0;
    json[len++] = '[';
    for (size_t i = 0; i < g->n_members; i++)
        len +=
            (size_t)snprintf(json + len, cap - len, "%s%" PRId64, i ? "," : "", g->member_ids[i]);
    json[len++] = ']';
    json[len] = '\0';
    return json;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Parses what members_to_json wrote (the schema's json_valid check keeps the text JSON). */
static int members_from_json(const char *text, cg_grid *g, cg_err *err)
{
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    const char *p = skip_space(text);
    if (*p++ != '[')
        goto bad;
    p = skip_space(p);
    if (*p == ']')
        return 0;
    g->member_ids = malloc(n * sizeof *g->member_ids);
    if (!g->member_ids)
        return cg_err_set(err, CG_ENOMEM, "members", "out of memory reading grid %s", g->code);
    for (;;) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p || g->n_members == n)
            goto bad;
        g->member_ids[g->n_members++] = id;
        p = skip_space(end);
        if (*p == ']')
            return 0;
        if (*p++ != ',')
            goto bad;
        p = skip_space(p);
    }
bad:
    return cg_err_set(err, CG_ESCHEMA, "members", "grid %s: stored members are not a list of ids",
                      g->code);
}

/* ---- rows ---- */

static int grid_from_row(sqlite3_stmt *st, cg_grid *g, cg_err *err)
{
    cg_grid_init(g);
    g->id = sqlite3_column_int64(st, 0);
    sq_column_text(st, 1, g->code, sizeof g->code);
    sq_column_text(st, 2, g->parent_code, sizeof g->parent_code);
    g->level = (cg_level)sqlite3_column_int(st, 3);
    sq_column_text(st, 4, g->name_zh, sizeof g->name_zh);
    sq_column_text(st, 5, g->name_en, sizeof g->name_en);
    g->grade = (cg_grade)sqlite3_column_int(st, 6);
    g->households = sqlite3_column_int(st, 7);
    g->area_m2 = sqlite3_column_double(st, 8);
    g->leader_id = sqlite3_column_int64(st, 9);
    g->deputy_id = sqlite3_column_int64(st, 10);
    g->valid_from = sqlite3_column_int64(st, 12);
    g->valid_to = sqlite3_column_int64(st, 13);
    if (members_from_json((const char *)sqlite3_column_text(st, 11), g, err))
        goto fail;
    if (sqlite3_column_type(st, GRID_GEOM_COLUMN) == SQLITE_BLOB) {
        const uint8_t *wkb = sqlite3_column_blob(st, GRID_GEOM_COLUMN);
        size_t len = (size_t)sqlite3_column_bytes(st, GRID_GEOM_COLUMN);
        if (cg_mpoly_from_wkb(wkb, len, &g->geom, err)) {
            cg_err_prefix(err, "grid %s (row %" PRId64 ")", g->code, g->id);
            goto fail;
        }
    }
    return 0;
fail:
    cg_grid_free(g);
    return -1;
}

/* What the audit entry of a grid write says about the version it replaces. */
typedef struct {
    int found;
    char name_zh[128];
    int households;
    int64_t valid_from;
} grid_before;

/*
 * Closes the current version of `code` at `now`. before->found says whether there was one; a
 * `now` before its valid_from is refused.
 */
static int close_current(cg_store *s, const char *code, int64_t now, grid_before *before,
                         cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_GRID_CURRENT,
                   "SELECT id, valid_from, name_zh, households FROM grids "
                   "WHERE code = ?1 AND valid_to = 0",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st);
    int64_t id = 0, valid_from = 0;
    memset(before, 0, sizeof *before);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(l.st, 0);
        valid_from = sqlite3_column_int64(l.st, 1);
        sq_column_text(l.st, 2, before->name_zh, sizeof before->name_zh);
        before->households = sqlite3_column_int(l.st, 3);
        before->valid_from = valid_from;
    }
    sq_release(&l);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq_fail(s, rc, "reading the current grid", err);
    before->found = rc == SQLITE_ROW;
    if (!before->found)
        return 0;
    if (now < valid_from)
        return cg_err_set(err, CG_ECONFLICT, "valid_from",
                          "grid %s: time %" PRId64
                          " is before its current version (valid from %" PRId64 ")",
                          code, now, valid_from);
    if (sq_acquire(s, SQ_GRID_CLOSE, "UPDATE grids SET valid_to = ?2 WHERE id = ?1", &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, id);
    sqlite3_bind_int64(l.st, 2, now);
    return sq_exec(s, &l, err);
}

static int insert_version(cg_store *s, cg_grid *g, int64_t now, const uint8_t *wkb, size_t wkb_len,
                          const char *members, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_GRID_INSERT,
                   "INSERT INTO grids (code, parent_code, level, name_zh, name_en, grade, "
                   "households, area_m2, geom, min_x, min_y, max_x, max_y, leader_id, deputy_id, "
                   "members, valid_from, valid_to) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                   "?17, 0)",
                   &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    sqlite3_bind_text(st, 1, g->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->parent_code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)g->level);
    sqlite3_bind_text(st, 4, g->name_zh, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, g->name_en, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int)g->grade);
    sqlite3_bind_int(st, 7, g->households);
    sqlite3_bind_double(st, 8, g->area_m2);
    cg_bbox box;
    if (wkb) {
        box = cg_mpoly_bbox(&g->geom);
        sqlite3_bind_blob(st, 9, wkb, (int)wkb_len, SQLITE_STATIC);
        sqlite3_bind_double(st, 10, box.min_x);
        sqlite3_bind_double(st, 11, box.min_y);
        sqlite3_bind_double(st, 12, box.max_x);
        sqlite3_bind_double(st, 13, box.max_y);
    }
    sqlite3_bind_int64(st, 14, g->leader_id);
    sqlite3_bind_int64(st, 15, g->deputy_id);
    sqlite3_bind_text(st, 16, members, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 17, now);
    if (sq_exec(s, &l, err))
        return -1;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (wkb) {
        if (sq_acquire(s, SQ_GRID_RTREE_INSERT,
                       "INSERT INTO grids_rtree (id, min_x, max_x, min_y, max_y) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
                       &l, err))
            return -1;
        sqlite3_bind_int64(l.st, 1, id);
        sqlite3_bind_double(l.st, 2, box.min_x);
        sqlite3_bind_double(l.st, 3, box.max_x);
        sqlite3_bind_double(l.st, 4, box.min_y);
        sqlite3_bind_double(l.st, 5, box.max_y);
        if (sq_exec(s, &l, err))
            return -1;
    }
    g->id = id;
    return 0;
}

/* {"name":..,"households":..,"valid_from":..} of a version, for audit summaries. */
static void version_json(cg_buf *b, const char *name, int households, int64_t valid_from)
{
    cg_buf_puts(b, "{\"name\":");
    cg_json_write_string(b, name);
    cg_buf_printf(b, ",\"households\":%d,\"valid_from\":%" PRId64 "}", households, valid_from);
}

static int audit_grid(cg_store *s, const char *action, const char *code, const grid_before *before,
                      const cg_grid *after, int64_t now, const char *extra, cg_err *err)
{
    cg_buf b;
    cg_buf_init(&b);
    cg_buf_puts(&b, "{\"code\":");
    cg_json_write_string(&b, code);
    cg_buf_puts(&b, ",\"before\":");
    if (before->found)
        version_json(&b, before->name_zh, before->households, before->valid_from);
    else
        cg_buf_puts(&b, "null");
    cg_buf_puts(&b, ",\"after\":");
    if (after)
        version_json(&b, after->name_zh, after->households, now);
    else
        cg_buf_puts(&b, "null");
    if (extra)
        cg_buf_puts(&b, extra);
    cg_buf_putc(&b, '}');
    char target[CG_CODE_MAX + 8];
    snprintf(target, sizeof target, "grid:%s", code);
    int rc = sq_audit(s, action, target, b.data, err);
    cg_buf_free(&b);
    return rc;
}

/*
 * The body of a put, inside the caller's write: close the current version, insert the new one,
 * bump the generation. Auditing is the caller's, so a team change is one "grid.team" entry.
 */
static int put_check(const cg_grid *g, int64_t now, cg_err *err)
{
    if (!g->code[0])
        return cg_err_set(err, CG_EINVAL, "code", "a grid needs a code");
    if (now <= 0)
        return cg_err_set(err, CG_EINVAL, "valid_from",
                          "grid %s: time must be positive Unix seconds, not %" PRId64, g->code,
                          now);
    return 0;
}

static int put_version(cg_store *s, cg_grid *g, int64_t now, grid_before *before, cg_err *err)
{
    assert(put_check(g, now, NULL) == 0);
    uint8_t *wkb = NULL;
    size_t wkb_len = 0;
    if (g->geom.n_polys > 0 && cg_mpoly_to_wkb(&g->geom, &wkb, &wkb_len))
        return cg_err_set(err, CG_EINVAL, "geometry", "grid %s: geometry cannot be encoded",
                          g->code);
    char *members = members_to_json(g);
    if (!members) {
        free(wkb);
        return cg_err_set(err, CG_ENOMEM, "members", "out of memory storing grid %s", g->code);
    }
    int ok = close_current(s, g->code, now, before, err) == 0 &&
             insert_version(s, g, now, wkb, wkb_len, members, err) == 0 &&
             sq_grid_generation_bump(s, err) == 0;
    free(wkb);
    free(members);
    return ok ? 0 : -1;
}

int cg_store_grid_put(cg_store *s, cg_grid *g, int64_t now, cg_err *err)
{
    if (put_check(g, now, err))
        return -1;
    grid_before before;
    int ok = 0;
    if (sq_write_begin(s, err) == 0) {
        ok = put_version(s, g, now, &before, err) == 0 &&
             audit_grid(s, "grid.put", g->code, &before, g, now, NULL, err) == 0;
        if (sq_write_end(s, ok, err))
            ok = 0;
    }
    if (!ok) {
        g->id = 0;
        cg_err_prefix(err, "storing grid %s", g->code);
        return -1;
    }
    g->valid_from = now;
    g->valid_to = 0;
    return 0;
}

int cg_store_grid_retire(cg_store *s, const char *code, int64_t now, cg_err *err)
{
    if (now <= 0)
        return cg_err_set(err, CG_EINVAL, "valid_to",
                          "grid %s: time must be positive Unix seconds, not %" PRId64, code, now);
    if (sq_write_begin(s, err))
        return -1;
    grid_before before;
    int ok = close_current(s, code, now, &before, err) == 0;
    if (ok && !before.found) {
        cg_err_set(err, CG_ENOTFOUND, "code", "no current grid with code '%s'", code);
        ok = 0;
    }
    ok = ok && sq_grid_generation_bump(s, err) == 0 &&
         audit_grid(s, "grid.retire", code, &before, NULL, now, NULL, err) == 0;
    if (sq_write_end(s, ok, err))
        ok = 0;
    return ok ? 0 : -1;
}

int cg_store_grid_read(cg_store *s, const cg_scope *scope, const char *code, int64_t at,
                       int with_geom, cg_grid *out, cg_err *err)
{
#define SCOPE_TERM " AND (:lo = '' OR (g.code >= :lo AND g.code < :hi))"
    static const char *const sql[4] = {
        "SELECT " GRID_COLUMNS
        ", NULL FROM grids g WHERE g.code = :code AND " CURRENT_ONLY SCOPE_TERM,
        "SELECT " GRID_COLUMNS
        ", g.geom FROM grids g WHERE g.code = :code AND " CURRENT_ONLY SCOPE_TERM,
        "SELECT " GRID_COLUMNS ", NULL FROM grids g WHERE g.code = :code AND " VALID_AT SCOPE_TERM,
        "SELECT " GRID_COLUMNS
        ", g.geom FROM grids g WHERE g.code = :code AND " VALID_AT SCOPE_TERM,
    };
#undef SCOPE_TERM
    static const sq_stmt_id ids[4] = {SQ_GRID_READ, SQ_GRID_READ_GEOM, SQ_GRID_READ_AT,
                                      SQ_GRID_READ_AT_GEOM};
    int k = (at != 0) * 2 + (with_geom != 0);
    cg_grid_init(out);
    char lo[CG_CODE_MAX], hi[CG_CODE_MAX];
    if (sq_scope_range(scope, lo, hi, err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, ids[k], sql[k], &l, err))
        return -1;
    sqlite3_bind_text(l.st, sqlite3_bind_parameter_index(l.st, ":code"), code, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, sqlite3_bind_parameter_index(l.st, ":lo"), lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, sqlite3_bind_parameter_index(l.st, ":hi"), hi, -1, SQLITE_STATIC);
    if (at)
        sqlite3_bind_int64(l.st, sqlite3_bind_parameter_index(l.st, ":at"), at);
    int rc = sqlite3_step(l.st), result;
    /* Outside the scope and absent give the same answer, word for word. */
    if (rc == SQLITE_ROW)
        result = grid_from_row(l.st, out, err);
    else if (rc == SQLITE_DONE && at)
        result = cg_err_set(err, CG_ENOTFOUND, "code", "no grid '%s' valid at %" PRId64, code, at);
    else if (rc == SQLITE_DONE)
        result = cg_err_set(err, CG_ENOTFOUND, "code", "no grid with code '%s'", code);
    else
        result = sq_fail(s, rc, "reading a grid", err);
    sq_release(&l);
    return result;
}

/* The unscoped read is the scoped one with the whole installation as its scope. */
int cg_store_grid_get(cg_store *s, const char *code, int64_t at, int with_geom, cg_grid *out,
                      cg_err *err)
{
    return cg_store_grid_read(s, NULL, code, at, with_geom, out, err);
}

/* A team member must be an account; 0 leaves a role empty. */
static int account_exists(cg_store *s, int64_t id, const char *field, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_ACCOUNT_EXISTS, "SELECT 1 FROM accounts WHERE id = ?1", &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, id);
    int rc = sqlite3_step(l.st);
    sq_release(&l);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return cg_err_set(err, CG_EINVAL, field, "no account %" PRId64, id);
    return sq_fail(s, rc, "reading an account", err);
}

static void team_json(cg_buf *b, int64_t leader, int64_t deputy, const int64_t *members, size_t n)
{
    cg_buf_printf(b, "{\"leader_id\":%" PRId64 ",\"deputy_id\":%" PRId64 ",\"member_ids\":[",
                  leader, deputy);
    for (size_t i = 0; i < n; i++)
        cg_buf_printf(b, "%s%" PRId64, i ? "," : "", members[i]);
    cg_buf_puts(b, "]}");
}

int cg_store_grid_team_set(cg_store *s, const cg_scope *scope, const char *code, int64_t leader_id,
                           int64_t deputy_id, const int64_t *member_ids, size_t n_members,
                           int64_t now, cg_err *err)
{
    if (now <= 0)
        return cg_err_set(err, CG_EINVAL, "valid_from",
                          "grid %s: time must be positive Unix seconds, not %" PRId64, code, now);
    if (n_members > 1000)
        return cg_err_set(err, CG_ELIMIT, "member_ids", "a grid team has at most 1000 members");
    if (sq_write_begin(s, err))
        return -1;
    cg_grid g;
    int ok = cg_store_grid_read(s, scope, code, 0, 1, &g, err) == 0;
    if (ok && leader_id)
        ok = account_exists(s, leader_id, "leader_id", err) == 0;
    if (ok && deputy_id)
        ok = account_exists(s, deputy_id, "deputy_id", err) == 0;
    for (size_t i = 0; ok && i < n_members; i++)
        ok = account_exists(s, member_ids[i], "member_ids", err) == 0;
    cg_buf extra;
    cg_buf_init(&extra);
    if (ok) {
        cg_buf_puts(&extra, ",\"team_before\":");
        team_json(&extra, g.leader_id, g.deputy_id, g.member_ids, g.n_members);
        cg_buf_puts(&extra, ",\"team_after\":");
        team_json(&extra, leader_id, deputy_id, member_ids, n_members);
        int64_t *copy = n_members ? malloc(n_members * sizeof *copy) : NULL;
        if (n_members && !copy)
            ok = cg_err_set(err, CG_ENOMEM, "member_ids", "out of memory") == 0;
        else {
            if (n_members)
                memcpy(copy, member_ids, n_members * sizeof *copy);
            free(g.member_ids);
            g.member_ids = copy;
            g.n_members = n_members;
            g.leader_id = leader_id;
            g.deputy_id = deputy_id;
        }
    }
    grid_before before;
    ok = ok && put_version(s, &g, now, &before, err) == 0 &&
         audit_grid(s, "grid.team", code, &before, &g, now, extra.data, err) == 0;
    cg_buf_free(&extra);
    cg_grid_free(&g);
    if (sq_write_end(s, ok, err)) {
        cg_err_prefix(err, "setting the team of grid %s", code);
        return -1;
    }
    return 0;
}

/* ---- lists and counts ---- */

static void append(char *buf, size_t cap, const char *text)
{
    size_t len = strlen(buf), n = strlen(text);
    assert(len + n < cap);
    (void)cap; /* only the assertion reads it */
    memcpy(buf + len, text, n + 1);
}

/* The SQL for one filter combination, built only from the constant fragments below. */
static void list_sql(int shape, char *sql, size_t cap)
{
    sql[0] = '\0';
    if (shape & SQ_GRID_F_COUNT)
        append(sql, cap, "SELECT count(*) FROM grids g");
    else if (shape & SQ_GRID_F_GEOM)
        append(sql, cap, "SELECT " GRID_COLUMNS ", g.geom FROM grids g");
    else
        append(sql, cap, "SELECT " GRID_COLUMNS ", NULL FROM grids g");
    if (shape & SQ_GRID_F_BBOX)
        append(sql, cap, " JOIN grids_rtree r ON r.id = g.id");
    append(sql, cap, (shape & SQ_GRID_F_AT) ? " WHERE " VALID_AT : " WHERE " CURRENT_ONLY);
    if (shape & SQ_GRID_F_PARENT)
        append(sql, cap, " AND g.parent_code = :parent");
    if (shape & SQ_GRID_F_SUBTREE)
        append(sql, cap, " AND g.code >= :lo AND g.code < :hi");
    if (shape & SQ_GRID_F_SCOPE)
        append(sql, cap, " AND g.code >= :scope_lo AND g.code < :scope_hi");
    if (shape & SQ_GRID_F_LEVEL)
        append(sql, cap, " AND g.level = :level");
    if (shape & SQ_GRID_F_BBOX)
        append(sql, cap,
               " AND r.min_x <= :max_x AND r.max_x >= :min_x AND r.min_y <= :max_y"
               " AND r.max_y >= :min_y AND g.min_x <= :max_x AND g.max_x >= :min_x"
               " AND g.min_y <= :max_y AND g.max_y >= :min_y");
    if (!(shape & SQ_GRID_F_COUNT))
        /* At any one time a code has at most one valid version, so the code alone orders. */
        append(sql, cap, " ORDER BY g.code LIMIT :limit OFFSET :offset");
}

/*
 * Prepares and binds the statement for a filter. The subtree filter is the code range
 * [code, code with its last byte incremented): every descendant's code starts with its
 * ancestor's, and a range on `code` uses the index where LIKE 'x%' would not.
 */
typedef struct {
    char hi[CG_CODE_MAX];       /* the subtree's upper bound */
    char scope_lo[CG_CODE_MAX]; /* the scope's code range */
    char scope_hi[CG_CODE_MAX];
} list_bounds;

static int list_prepare(cg_store *s, const cg_grid_filter *f, int count, sq_lease *l,
                        list_bounds *bounds, cg_err *err)
{
    char *hi = bounds->hi;
    if (f->limit < 0 || f->offset < 0)
        return cg_err_set(err, CG_EINVAL, f->limit < 0 ? "limit" : "offset",
                          "limit and offset must not be negative");
    if (f->level < CG_LEVEL_NONE || f->level > CG_LEVEL_SUBGRID)
        return cg_err_set(err, CG_EINVAL, "level", "unknown grid level %d", (int)f->level);
    int shape = 0;
    if (f->parent_code)
        shape |= SQ_GRID_F_PARENT;
    if (f->subtree_code && f->subtree_code[0]) {
        size_t n = strlen(f->subtree_code);
        if (n >= CG_CODE_MAX || (unsigned char)f->subtree_code[n - 1] == 0xFF)
            return cg_err_set(err, CG_EINVAL, "subtree", "'%s' is not a grid code",
                              f->subtree_code);
        memcpy(hi, f->subtree_code, n + 1);
        hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
        shape |= SQ_GRID_F_SUBTREE;
    }
    /* The caller's scope is one more code range in the WHERE clause: grids outside it are never
     * read, so neither lists nor counts can tell them from absent ones. */
    if (sq_scope_range(f->scope, bounds->scope_lo, bounds->scope_hi, err))
        return -1;
    if (bounds->scope_lo[0])
        shape |= SQ_GRID_F_SCOPE;
    if (f->level)
        shape |= SQ_GRID_F_LEVEL;
    if (f->bbox)
        shape |= SQ_GRID_F_BBOX;
    if (f->at)
        shape |= SQ_GRID_F_AT;
    if (count)
        shape |= SQ_GRID_F_COUNT;
    else if (f->with_geom)
        shape |= SQ_GRID_F_GEOM;
    char sql[1024];
    list_sql(shape, sql, sizeof sql);
    if (sq_acquire(s, (sq_stmt_id)(SQ_GRID_LIST_FIRST + shape), sql, l, err))
        return -1;
    sqlite3_stmt *st = l->st;
    if (shape & SQ_GRID_F_PARENT)
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":parent"), f->parent_code, -1,
                          SQLITE_STATIC);
    if (shape & SQ_GRID_F_SUBTREE) {
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":lo"), f->subtree_code, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":hi"), hi, -1, SQLITE_STATIC);
    }
    if (shape & SQ_GRID_F_SCOPE) {
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":scope_lo"), bounds->scope_lo, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":scope_hi"), bounds->scope_hi, -1,
                          SQLITE_STATIC);
    }
    if (shape & SQ_GRID_F_LEVEL)
        sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":level"), (int)f->level);
    if (shape & SQ_GRID_F_BBOX)
        sq_bind_bbox(st, f->bbox);
    if (shape & SQ_GRID_F_AT)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":at"), f->at);
    if (!count) {
        sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":limit"), f->limit ? f->limit : -1);
        sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":offset"), f->offset);
    }
    return 0;
}

/* Steps a grid query, handing each row to cb until it returns non-zero. */
static int each_row(cg_store *s, sq_lease *l, cg_grid_cb cb, void *ctx, cg_err *err)
{
    int rc, result = 0;
    while ((rc = sqlite3_step(l->st)) == SQLITE_ROW) {
        cg_grid g;
        if (grid_from_row(l->st, &g, err)) {
            result = -1;
            break;
        }
        int stop = cb(ctx, &g);
        cg_grid_free(&g);
        if (stop)
            break;
    }
    if (result == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing grids", err);
    sq_release(l);
    return result;
}

int cg_store_grid_list(cg_store *s, const cg_grid_filter *f, cg_grid_cb cb, void *ctx, cg_err *err)
{
    static const cg_grid_filter all;
    list_bounds bounds;
    sq_lease l;
    if (list_prepare(s, f ? f : &all, 0, &l, &bounds, err))
        return -1;
    return each_row(s, &l, cb, ctx, err);
}

int cg_store_grid_count(cg_store *s, const cg_grid_filter *f, int64_t *count, cg_err *err)
{
    static const cg_grid_filter all;
    list_bounds bounds;
    sq_lease l;
    if (list_prepare(s, f ? f : &all, 1, &l, &bounds, err))
        return -1;
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(l.st, 0);
    sq_release(&l);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "counting grids", err);
}

int cg_store_grid_history(cg_store *s, const char *code, cg_grid_cb cb, void *ctx, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_GRID_HISTORY,
                   "SELECT " GRID_COLUMNS ", g.geom FROM grids g WHERE g.code = ?1 "
                   "ORDER BY g.valid_from, g.id",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, code, -1, SQLITE_STATIC);
    return each_row(s, &l, cb, ctx, err);
}
