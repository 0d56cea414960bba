/*
 * Cases in SQLite (store.h, "cases"): inserts with their report entry, contact and idempotency
 * key; versioned updates with their history entry; notes, photos, reads, filtered lists and
 * counts, the search of cases near a point (the duplicate search), statistics from the history,
 * idempotency purges, and the rule documents. Tables: schema.c, versions 3 and 4.
 *
 * Every write runs inside sq_write_begin/sq_write_end with its history entry and its audit entry,
 * so a case, its history and the log never disagree. Audit summaries stay short (action, state,
 * version): the history is the full record, the log says who wrote what when.
 *
 * Lists: like grids.c, each combination of filters is its own statement, built from constant
 * fragments and prepared once per connection; there are too many combinations for fixed ids, so
 * they live in a small cache keyed by the combination (struct cg_store.case_lists). Input only
 * ever reaches SQLite as bound parameters: the set of states and of ids as a JSON array read by
 * json_each, the full-text query as quoted phrases built by fts_query below.
 *
 * Full text: Chinese is written without spaces, and FTS5's unicode61 tokenizer would take a whole
 * run of characters as one token, so "井盖" would not find "路口井盖破损". The indexed text gets a
 * space around every CJK character (each one a token), and a search term is turned the same way
 * into a quoted phrase: a phrase of adjacent tokens is then exactly a substring search for
 * Chinese of any length, and a word search for Latin text. Quotes in the input are doubled inside
 * the phrase, so FTS operators (AND, OR, NEAR, *, column filters) typed by a user are searched as
 * text, never interpreted.
 */
#include "store/sqlite/db.h"
#include "geo/geojson.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"

#define CASE_COLUMNS                                                                               \
    "c.id, c.version, c.token, c.source, c.category, c.description, c.has_point, c.lon, c.lat, "   \
    "c.address, c.grid_code, c.priority, c.state, c.tier, c.assignee_kind, c.assignee_account, "   \
    "c.assignee_label, c.reporter_id, c.extension, c.extension_requested, c.reported_at, "         \
    "c.registered_at, c.dispatched_at, c.handled_at, c.closed_at, c.updated_at, c.register_by, "   \
    "c.dispatch_by, c.handle_by, c.due_at, c.duplicate_of, c.evaluation, c.has_contact, "          \
    "c.n_photos, c.device_id, c.suspended_at, c.suspended_s"

#define MAX_IDS 1000 /* ids in one list filter */

static void case_from_row(sqlite3_stmt *st, cg_case *c)
{
    /* Every field is set below and every text ends at its NUL, so the two large text buffers
     * (17 KB of the struct's 18) are not cleared first: clearing them was the largest cost of
     * reading a case in a list. */
    memset(c, 0, offsetof(cg_case, description));
    memset(&c->lon, 0, offsetof(cg_case, address) - offsetof(cg_case, lon));
    memset(c->grid_code, 0, sizeof *c - offsetof(cg_case, grid_code));
    c->id = sqlite3_column_int64(st, 0);
    c->version = sqlite3_column_int64(st, 1);
    sq_column_text(st, 2, c->token, sizeof c->token);
    c->source = (cg_case_source)sqlite3_column_int(st, 3);
    sq_column_text(st, 4, c->category, sizeof c->category);
    sq_column_text(st, 5, c->description, sizeof c->description);
    c->has_point = sqlite3_column_int(st, 6);
    c->lon = sqlite3_column_double(st, 7);
    c->lat = sqlite3_column_double(st, 8);
    sq_column_text(st, 9, c->address, sizeof c->address);
    sq_column_text(st, 10, c->grid_code, sizeof c->grid_code);
    c->priority = sqlite3_column_int(st, 11);
    c->status.state = (cg_case_state)sqlite3_column_int(st, 12);
    c->status.tier = (cg_case_tier)sqlite3_column_int(st, 13);
    c->assignee.kind = (cg_assignee_kind)sqlite3_column_int(st, 14);
    c->assignee.account_id = sqlite3_column_int64(st, 15);
    sq_column_text(st, 16, c->assignee.label, sizeof c->assignee.label);
    c->reporter_id = sqlite3_column_int64(st, 17);
    c->extension = sqlite3_column_int(st, 18);
    c->extension_requested = sqlite3_column_int(st, 19);
    c->reported_at = sqlite3_column_int64(st, 20);
    c->registered_at = sqlite3_column_int64(st, 21);
    c->dispatched_at = sqlite3_column_int64(st, 22);
    c->handled_at = sqlite3_column_int64(st, 23);
    c->closed_at = sqlite3_column_int64(st, 24);
    c->updated_at = sqlite3_column_int64(st, 25);
    c->deadlines.register_by = sqlite3_column_int64(st, 26);
    c->deadlines.dispatch_by = sqlite3_column_int64(st, 27);
    c->deadlines.handle_by = sqlite3_column_int64(st, 28);
    c->due_at = sqlite3_column_int64(st, 29);
    c->duplicate_of = sqlite3_column_int64(st, 30);
    c->evaluation = sqlite3_column_int(st, 31);
    c->has_contact = sqlite3_column_int(st, 32);
    c->n_photos = sqlite3_column_int(st, 33);
    sq_column_text(st, 34, c->device_id, sizeof c->device_id);
    c->suspended_at = sqlite3_column_int64(st, 35);
    c->suspended_s = sqlite3_column_int64(st, 36);
}

static void case_ref(char out[24], int64_t id)
{
    snprintf(out, 24, "%" PRId64, id);
}

static void case_audit_target(char out[32], int64_t id)
{
    snprintf(out, 32, "case:%" PRId64, id);
}

/* ---- checks ---- */

static int check_case(const cg_case *c, cg_err *err)
{
    if (!c->category[0])
        return cg_err_set(err, CG_EINVAL, "category", "a case needs a category");
    if (!(c->lon >= -180 && c->lon <= 180))
        return cg_err_set(err, CG_EINVAL, "lon", "longitude %g is outside -180..180", c->lon);
    if (!(c->lat >= -90 && c->lat <= 90))
        return cg_err_set(err, CG_EINVAL, "lat", "latitude %g is outside -90..90", c->lat);
    if (c->priority < 0 || c->priority > 2)
        return cg_err_set(err, CG_EINVAL, "priority", "priority must be 0, 1 or 2");
    if ((int)c->status.state <= CG_CASE_NONE || (int)c->status.state >= CG_CASE_STATE_COUNT)
        return cg_err_set(err, CG_EINVAL, "state", "unknown case state %d", (int)c->status.state);
    if ((int)c->status.tier < CG_TIER_GRID || (int)c->status.tier > CG_TIER_STREET)
        return cg_err_set(err, CG_EINVAL, "tier", "unknown tier %d", (int)c->status.tier);
    if (c->evaluation < 0 || c->evaluation > 5)
        return cg_err_set(err, CG_EINVAL, "evaluation", "an evaluation is 1..5");
    if (c->suspended_at < 0 || c->suspended_s < 0)
        return cg_err_set(err, CG_EINVAL, "suspended_s", "suspended time must not be negative");
    return 0;
}

static int check_event(const cg_case_event *ev, cg_err *err)
{
    if (!ev->detail[0])
        return 0;
    /* The column checks json_valid; refuse early with a field name instead of a constraint. */
    json_error_t je;
    json_t *j = json_loads(ev->detail, JSON_REJECT_DUPLICATES, &je);
    int ok = j && json_is_object(j);
    json_decref(j);
    return ok ? 0 : cg_err_set(err, CG_EINVAL, "detail", "an event's detail must be a JSON object");
}

/* ---- full text ---- */

/* Decodes one UTF-8 sequence (the input was validated upstream; invalid bytes pass through as
 * single code units, which the tokenizer ignores). Returns its length. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = (p[0] & 0xE0) == 0xC0   ? 2
               : (p[0] & 0xF0) == 0xE0 ? 3
               : (p[0] & 0xF8) == 0xF0 ? 4
                                       : 1;
    uint32_t v = n == 2 ? p[0] & 0x1F : n == 3 ? p[0] & 0x0F : n == 4 ? p[0] & 0x07 : p[0];
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = p[0];
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/* CJK ideographs, kana, Hangul, CJK punctuation and full-width forms: written without spaces. */
static int cjk(uint32_t cp)
{
    return cp >= 0x2E80;
}

/* Appends text with a space on each side of every CJK character. */
static void fts_spread(cg_buf *b, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (p + n > end)
            n = (size_t)(end - p);
        if (cjk(cp))
            cg_buf_putc(b, ' ');
        cg_buf_append(b, p, n);
        if (cjk(cp))
            cg_buf_putc(b, ' ');
        p += n;
    }
}

/* The indexed body of a case. */
static void fts_body(cg_buf *b, const cg_case *c)
{
    fts_spread(b, c->description, strlen(c->description));
    cg_buf_putc(b, '\n');
    fts_spread(b, c->address, strlen(c->address));
}

/* Turns user text into an FTS5 query of quoted phrases, one per whitespace-separated term (all
 * must match). Returns 0 when the text has no terms (no filter). */
static int fts_query(cg_buf *q, const char *text)
{
    int terms = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (p == start)
            break;
        cg_buf b;
        cg_buf_init(&b);
        fts_spread(&b, start, (size_t)(p - start));
        if (terms++)
            cg_buf_putc(q, ' ');
        cg_buf_putc(q, '"');
        for (size_t i = 0; i < b.len; i++) {
            if (b.data[i] == '"')
                cg_buf_putc(q, '"');
            cg_buf_putc(q, b.data[i]);
        }
        cg_buf_putc(q, '"');
        cg_buf_free(&b);
    }
    return terms;
}

/* ---- history entries ---- */

static int event_put(cg_store *s, int64_t case_id, cg_case_event *ev, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_EVENT_NEXT,
                   "SELECT coalesce(max(seq), 0) + 1 FROM case_events WHERE case_id = ?1", &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, case_id);
    int rc = sqlite3_step(l.st);
    int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : 0;
    sq_release(&l);
    if (rc != SQLITE_ROW)
        return sq_fail(s, rc, "numbering a history entry", err);
    if (sq_acquire(s, SQ_CASE_EVENT_PUT,
                   "INSERT INTO case_events (case_id, seq, is_note, action, from_state, to_state, "
                   "tier, actor_id, actor_name, roles, at, note, detail) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                   &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int(st, 3, ev->is_note ? 1 : 0);
    sqlite3_bind_int(st, 4, ev->is_note ? -1 : (int)ev->action);
    sqlite3_bind_int(st, 5, (int)ev->from);
    sqlite3_bind_int(st, 6, (int)ev->to);
    sqlite3_bind_int(st, 7, (int)ev->tier);
    sqlite3_bind_int64(st, 8, ev->actor_id);
    sqlite3_bind_text(st, 9, ev->actor_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, ev->roles);
    sqlite3_bind_int64(st, 11, ev->at);
    sqlite3_bind_text(st, 12, ev->note, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, ev->detail[0] ? ev->detail : "{}", -1, SQLITE_STATIC);
    if (sq_exec(s, &l, err))
        return -1;
    ev->case_id = case_id;
    ev->seq = seq;
    return 0;
}

static void event_from_row(sqlite3_stmt *st, cg_case_event *e)
{
    memset(e, 0, sizeof *e);
    e->case_id = sqlite3_column_int64(st, 0);
    e->seq = sqlite3_column_int64(st, 1);
    e->is_note = sqlite3_column_int(st, 2);
    int action = sqlite3_column_int(st, 3);
    e->action = action < 0 ? CG_ACT_REPORT : (cg_case_action)action;
    e->from = (cg_case_state)sqlite3_column_int(st, 4);
    e->to = (cg_case_state)sqlite3_column_int(st, 5);
    e->tier = (cg_case_tier)sqlite3_column_int(st, 6);
    e->actor_id = sqlite3_column_int64(st, 7);
    sq_column_text(st, 8, e->actor_name, sizeof e->actor_name);
    e->roles = (uint32_t)sqlite3_column_int64(st, 9);
    e->at = sqlite3_column_int64(st, 10);
    sq_column_text(st, 11, e->note, sizeof e->note);
    sq_column_text(st, 12, e->detail, sizeof e->detail);
}

/* ---- insert ---- */

static int idem_lookup(cg_store *s, const char *key, int64_t *case_id, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_IDEM_GET, "SELECT case_id FROM idempotency WHERE key = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st);
    *case_id = rc == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : 0;
    sq_release(&l);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "reading a key", err);
}

static int rtree_put(cg_store *s, const cg_case *c, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_RTREE_PUT,
                   "INSERT OR REPLACE INTO cases_rtree (id, min_x, max_x, min_y, max_y) "
                   "VALUES (?1, ?2, ?2, ?3, ?3)",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, c->id);
    sqlite3_bind_double(l.st, 2, c->lon);
    sqlite3_bind_double(l.st, 3, c->lat);
    return sq_exec(s, &l, err);
}

/* ---- the duplicate search's index (case_near: category, cell, reported_at, id) ---- */

/* A cell is 0.001 degree of longitude by 0.001 of latitude (~111 m north-south), numbered from
 * the south-west corner of the world; SQL computes the same number (schema.c, version 4). */
#define NEAR_CELL_DEG 0.001
#define NEAR_ROW      1000000 /* cells per row of the numbering (> 360 / NEAR_CELL_DEG) */

static int64_t near_col(double lon)
{
    return (int64_t)((lon + 180.0) * 1000.0);
}

static int64_t near_row(double lat)
{
    return (int64_t)((lat + 90.0) * 1000.0);
}

int64_t sq_case_near_cell(double lon, double lat)
{
    return near_col(lon) * NEAR_ROW + near_row(lat);
}

static int near_put(cg_store *s, const char *category, double lon, double lat, int64_t reported_at,
                    int64_t id, int remove, cg_err *err)
{
    sq_lease l;
    if (remove ? sq_acquire(s, SQ_CASE_NEAR_DELETE,
                            "DELETE FROM case_near WHERE category = ?1 AND cell = ?2 AND "
                            "reported_at = ?3 AND id = ?4",
                            &l, err)
               : sq_acquire(s, SQ_CASE_NEAR_PUT,
                            "INSERT OR REPLACE INTO case_near (category, cell, reported_at, id) "
                            "VALUES (?1, ?2, ?3, ?4)",
                            &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 2, sq_case_near_cell(lon, lat));
    sqlite3_bind_int64(l.st, 3, reported_at);
    sqlite3_bind_int64(l.st, 4, id);
    return sq_exec(s, &l, err);
}

static int rtree_delete(cg_store *s, int64_t id, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_RTREE_DELETE, "DELETE FROM cases_rtree WHERE id = ?1", &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, id);
    return sq_exec(s, &l, err);
}

static int insert_row(cg_store *s, cg_case *c, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_INSERT,
                   "INSERT INTO cases (version, token, source, category, description, has_point, "
                   "lon, lat, address, grid_code, priority, state, tier, assignee_kind, "
                   "assignee_account, assignee_label, reporter_id, extension, "
                   "extension_requested, reported_at, registered_at, dispatched_at, handled_at, "
                   "closed_at, updated_at, register_by, dispatch_by, handle_by, due_at, "
                   "duplicate_of, evaluation, has_contact, n_photos, device_id) VALUES (?1, ?2, "
                   "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                   "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, 0, ?33)",
                   &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    sqlite3_bind_int64(st, 1, c->version);
    sqlite3_bind_text(st, 2, c->token, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)c->source);
    sqlite3_bind_text(st, 4, c->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->description, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, c->has_point ? 1 : 0);
    sqlite3_bind_double(st, 7, c->lon);
    sqlite3_bind_double(st, 8, c->lat);
    sqlite3_bind_text(st, 9, c->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, c->grid_code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 11, c->priority);
    sqlite3_bind_int(st, 12, (int)c->status.state);
    sqlite3_bind_int(st, 13, (int)c->status.tier);
    sqlite3_bind_int(st, 14, (int)c->assignee.kind);
    sqlite3_bind_int64(st, 15, c->assignee.account_id);
    sqlite3_bind_text(st, 16, c->assignee.label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 17, c->reporter_id);
    sqlite3_bind_int(st, 18, c->extension);
    sqlite3_bind_int(st, 19, c->extension_requested);
    sqlite3_bind_int64(st, 20, c->reported_at);
    sqlite3_bind_int64(st, 21, c->registered_at);
    sqlite3_bind_int64(st, 22, c->dispatched_at);
    sqlite3_bind_int64(st, 23, c->handled_at);
    sqlite3_bind_int64(st, 24, c->closed_at);
    sqlite3_bind_int64(st, 25, c->updated_at);
    sqlite3_bind_int64(st, 26, c->deadlines.register_by);
    sqlite3_bind_int64(st, 27, c->deadlines.dispatch_by);
    sqlite3_bind_int64(st, 28, c->deadlines.handle_by);
    sqlite3_bind_int64(st, 29, c->due_at);
    sqlite3_bind_int64(st, 30, c->duplicate_of);
    sqlite3_bind_int(st, 31, c->evaluation);
    sqlite3_bind_int(st, 32, c->has_contact);
    sqlite3_bind_text(st, 33, c->device_id, -1, SQLITE_STATIC);
    if (sq_exec(s, &l, err))
        return -1;
    c->id = sqlite3_last_insert_rowid(s->db);
    if (c->has_point && (rtree_put(s, c, err) ||
                         near_put(s, c->category, c->lon, c->lat, c->reported_at, c->id, 0, err)))
        return -1;
    cg_buf body;
    cg_buf_init(&body);
    fts_body(&body, c);
    int ok = sq_acquire(s, SQ_CASE_FTS_PUT, "INSERT INTO case_fts (rowid, body) VALUES (?1, ?2)",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, c->id);
        sqlite3_bind_text(l.st, 2, body.data, (int)body.len, SQLITE_STATIC);
        ok = sq_exec(s, &l, err) == 0;
    }
    cg_buf_free(&body);
    return ok ? 0 : -1;
}

static int audit_case(cg_store *s, const char *action, const cg_case *c, const cg_case_event *ev,
                      cg_err *err)
{
    cg_buf b;
    cg_buf_init(&b);
    cg_buf_printf(&b, "{\"version\":%" PRId64 ",\"state\":\"%s\"", c->version,
                  cg_case_state_name(c->status.state));
    if (strcmp(action, "case.create") == 0) {
        cg_buf_puts(&b, ",\"category\":");
        cg_json_write_string(&b, c->category);
        cg_buf_puts(&b, ",\"grid\":");
        cg_json_write_string(&b, c->grid_code);
        cg_buf_printf(&b, ",\"source\":\"%s\"", cg_case_source_name(c->source));
    }
    if (ev)
        cg_buf_printf(&b, ",\"seq\":%" PRId64 ",\"step\":\"%s\"", ev->seq,
                      ev->is_note ? "note" : cg_case_action_name(ev->action));
    cg_buf_putc(&b, '}');
    char target[32];
    case_audit_target(target, c->id);
    int rc = sq_audit(s, action, target, b.data, err);
    cg_buf_free(&b);
    return rc;
}

static int idem_put(cg_store *s, const char *key, int64_t case_id, int64_t at, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_IDEM_PUT,
                   "INSERT INTO idempotency (key, case_id, created_at) VALUES (?1, ?2, ?3)", &l,
                   err))
        return -1;
    sqlite3_bind_text(l.st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l.st, 2, case_id);
    sqlite3_bind_int64(l.st, 3, at);
    return sq_exec(s, &l, err);
}

/* A case's public token (Open311 `token`): 96 random bits behind the report time's seconds in
 * hex. The random part makes it unguessable; the time in front makes new tokens sort after the
 * old ones, so the UNIQUE index on tokens grows at its end like the other indexes instead of
 * taking every insert to a random page (one page written to the log per case). The time is no
 * secret: Open311 publishes every request's requested_datetime. */
static void token_new(char out[CG_CASE_TOKEN_LEN + 1], int64_t at)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[CG_CASE_TOKEN_LEN / 2];
    uint32_t t = (uint32_t)(at > 0 ? at : 0);
    raw[0] = (unsigned char)(t >> 24);
    raw[1] = (unsigned char)(t >> 16);
    raw[2] = (unsigned char)(t >> 8);
    raw[3] = (unsigned char)t;
    randombytes_buf(raw + 4, sizeof raw - 4);
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[CG_CASE_TOKEN_LEN] = '\0';
}

int cg_store_case_insert(cg_store *s, cg_case *c, const cg_case_event *report, const char *contact,
                         const char *idem_key, int64_t *existing_id, cg_err *err)
{
    *existing_id = 0;
    if (!report)
        return cg_err_set(err, CG_EINVAL, "report", "a new case needs its report entry");
    if (check_case(c, err) || check_event(report, err))
        return -1;
    if (c->reported_at <= 0)
        return cg_err_set(err, CG_EINVAL, "reported_at", "a case needs its report time");
    if (idem_key && strlen(idem_key) > 255)
        return cg_err_set(err, CG_ELIMIT, "idempotency_key", "a key has at most 255 bytes");
    if (sq_write_begin(s, err))
        return -1;
    int ok = 1;
    int64_t existing = 0;
    if (idem_key && *idem_key)
        ok = idem_lookup(s, idem_key, &existing, err) == 0;
    if (ok && existing) {
        /* A retry: nothing is written, the first case stands. */
        if (sq_write_end(s, 1, err))
            return -1;
        *existing_id = existing;
        return 0;
    }
    cg_case_event ev = *report;
    if (ok) {
        token_new(c->token, c->reported_at);
        c->version = 1;
        c->has_contact = contact && *contact;
        c->n_photos = 0;
        if (!c->updated_at)
            c->updated_at = c->reported_at;
        ok = insert_row(s, c, err) == 0 && event_put(s, c->id, &ev, err) == 0;
    }
    char ref[24];
    case_ref(ref, c->id);
    if (ok && c->has_contact)
        ok = sq_contact_write(s, ref, contact, err) == 0;
    if (ok && idem_key && *idem_key)
        ok = idem_put(s, idem_key, c->id, c->reported_at, err) == 0;
    ok = ok && audit_case(s, "case.create", c, NULL, err) == 0;
    if (sq_write_end(s, ok, err) || !ok) {
        c->id = 0;
        cg_err_prefix(err, "storing a new case");
        return -1;
    }
    return 0;
}

/* ---- reads ---- */

int cg_store_case_get(cg_store *s, const cg_scope *scope, int64_t id, cg_case *out, cg_err *err)
{
    char lo[CG_CODE_MAX], hi[CG_CODE_MAX];
    if (sq_scope_range(scope, lo, hi, err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_GET,
                   "SELECT " CASE_COLUMNS " FROM cases c WHERE c.id = :id AND "
                   "(:lo = '' OR (c.grid_code >= :lo AND c.grid_code < :hi))",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, sqlite3_bind_parameter_index(l.st, ":id"), id);
    sqlite3_bind_text(l.st, sqlite3_bind_parameter_index(l.st, ":lo"), lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(l.st, sqlite3_bind_parameter_index(l.st, ":hi"), hi, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    /* Outside the scope and absent are one answer. */
    if (rc == SQLITE_ROW)
        case_from_row(l.st, out);
    else if (rc == SQLITE_DONE)
        result = cg_err_set(err, CG_ENOTFOUND, "id", "no case %" PRId64, id);
    else
        result = sq_fail(s, rc, "reading a case", err);
    sq_release(&l);
    return result;
}

int cg_store_case_by_token(cg_store *s, const char *token, cg_case *out, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_BY_TOKEN, "SELECT " CASE_COLUMNS " FROM cases c WHERE c.token = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, token, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW)
        case_from_row(l.st, out);
    else if (rc == SQLITE_DONE)
        result = cg_err_set(err, CG_ENOTFOUND, "token", "no case with this token");
    else
        result = sq_fail(s, rc, "reading a case", err);
    sq_release(&l);
    return result;
}

int cg_store_case_fetch(cg_store *s, const int64_t *ids, size_t n, cg_case_cb cb, void *ctx,
                        cg_err *err)
{
    if (n == 0)
        return 0;
    if (n > MAX_IDS)
        return cg_err_set(err, CG_ELIMIT, "ids", "at most %d ids in one read", MAX_IDS);
    cg_buf list;
    cg_buf_init(&list);
    cg_buf_putc(&list, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            cg_buf_putc(&list, ',');
        cg_buf_put_i64(&list, ids[i]);
    }
    cg_buf_putc(&list, ']');
    sq_lease l;
    /* One statement for the page: the ids in their order (json_each walks the array in order,
     * and CROSS JOIN keeps it the outer loop), each row by its primary key. */
    if (sq_acquire(s, SQ_CASE_FETCH,
                   "SELECT " CASE_COLUMNS " FROM json_each(?1) j CROSS JOIN cases c "
                   "ON c.id = j.value",
                   &l, err)) {
        cg_buf_free(&list);
        return -1;
    }
    sqlite3_bind_text(l.st, 1, list.data, (int)list.len, SQLITE_STATIC);
    cg_case *c = malloc(sizeof *c);
    int result = c ? 0 : cg_err_set(err, CG_ENOMEM, "", "out of memory reading cases");
    int rc = SQLITE_DONE;
    while (c && (rc = sqlite3_step(l.st)) == SQLITE_ROW) {
        case_from_row(l.st, c);
        if (cb(ctx, c))
            break;
    }
    if (c && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "reading cases", err);
    free(c);
    sq_release(&l);
    cg_buf_free(&list);
    return result;
}

/* ---- updates and notes ---- */

typedef struct {
    int64_t version;
    int has_point;
    double lon, lat;
    int64_t reported_at;
    char category[CG_CAT_CODE_MAX];
} stored_head;

static int head_read(cg_store *s, int64_t id, stored_head *h, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_POINT_GET,
                   "SELECT version, has_point, lon, lat, reported_at, category FROM cases "
                   "WHERE id = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, id);
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW) {
        h->version = sqlite3_column_int64(l.st, 0);
        h->has_point = sqlite3_column_int(l.st, 1);
        h->lon = sqlite3_column_double(l.st, 2);
        h->lat = sqlite3_column_double(l.st, 3);
        h->reported_at = sqlite3_column_int64(l.st, 4);
        sq_column_text(l.st, 5, h->category, sizeof h->category);
    }
    sq_release(&l);
    if (rc == SQLITE_DONE)
        return cg_err_set(err, CG_ENOTFOUND, "id", "no case %" PRId64, id);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "reading a case", err);
}

static int update_row(cg_store *s, const cg_case *c, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_UPDATE,
                   "UPDATE cases SET version = ?2, category = ?3, has_point = ?4, lon = ?5, "
                   "lat = ?6, grid_code = ?7, priority = ?8, state = ?9, tier = ?10, "
                   "assignee_kind = ?11, assignee_account = ?12, assignee_label = ?13, "
                   "extension = ?14, extension_requested = ?15, registered_at = ?16, "
                   "dispatched_at = ?17, handled_at = ?18, closed_at = ?19, updated_at = ?20, "
                   "register_by = ?21, dispatch_by = ?22, handle_by = ?23, due_at = ?24, "
                   "duplicate_of = ?25, evaluation = ?26, suspended_at = ?27, suspended_s = ?28 "
                   "WHERE id = ?1",
                   &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, c->version + 1);
    sqlite3_bind_text(st, 3, c->category, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, c->has_point ? 1 : 0);
    sqlite3_bind_double(st, 5, c->lon);
    sqlite3_bind_double(st, 6, c->lat);
    sqlite3_bind_text(st, 7, c->grid_code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, c->priority);
    sqlite3_bind_int(st, 9, (int)c->status.state);
    sqlite3_bind_int(st, 10, (int)c->status.tier);
    sqlite3_bind_int(st, 11, (int)c->assignee.kind);
    sqlite3_bind_int64(st, 12, c->assignee.account_id);
    sqlite3_bind_text(st, 13, c->assignee.label, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, c->extension);
    sqlite3_bind_int(st, 15, c->extension_requested);
    sqlite3_bind_int64(st, 16, c->registered_at);
    sqlite3_bind_int64(st, 17, c->dispatched_at);
    sqlite3_bind_int64(st, 18, c->handled_at);
    sqlite3_bind_int64(st, 19, c->closed_at);
    sqlite3_bind_int64(st, 20, c->updated_at);
    sqlite3_bind_int64(st, 21, c->deadlines.register_by);
    sqlite3_bind_int64(st, 22, c->deadlines.dispatch_by);
    sqlite3_bind_int64(st, 23, c->deadlines.handle_by);
    sqlite3_bind_int64(st, 24, c->due_at);
    sqlite3_bind_int64(st, 25, c->duplicate_of);
    sqlite3_bind_int(st, 26, c->evaluation);
    sqlite3_bind_int64(st, 27, c->suspended_at);
    sqlite3_bind_int64(st, 28, c->suspended_s);
    return sq_exec(s, &l, err);
}

int cg_store_case_update(cg_store *s, cg_case *c, cg_case_event *ev, cg_err *err)
{
    if (check_case(c, err) || (ev && check_event(ev, err)))
        return -1;
    if (sq_write_begin(s, err))
        return -1;
    stored_head h;
    int ok = head_read(s, c->id, &h, err) == 0;
    if (ok && h.version != c->version)
        ok = cg_err_set(err, CG_ECONFLICT, "version",
                        "the case changed meanwhile (version %" PRId64 ", not %" PRId64 ")",
                        h.version, c->version) == 0;
    ok = ok && update_row(s, c, err) == 0;
    int moved = h.has_point != (c->has_point != 0) || h.lon != c->lon || h.lat != c->lat;
    if (ok && moved)
        ok = c->has_point ? rtree_put(s, c, err) == 0 : rtree_delete(s, c->id, err) == 0;
    /* case_near holds the category, the cell and the report time (which never changes). */
    if (ok && (moved || strcmp(h.category, c->category) != 0)) {
        if (h.has_point)
            ok = near_put(s, h.category, h.lon, h.lat, h.reported_at, c->id, 1, err) == 0;
        if (ok && c->has_point)
            ok = near_put(s, c->category, c->lon, c->lat, h.reported_at, c->id, 0, err) == 0;
    }
    if (ok && ev)
        ok = event_put(s, c->id, ev, err) == 0;
    if (ok) {
        c->version++;
        ok = audit_case(s, "case.update", c, ev, err) == 0;
        if (!ok)
            c->version--;
    }
    if (sq_write_end(s, ok, err) || !ok) {
        if (ok)
            c->version--;
        cg_err_prefix(err, "updating case %" PRId64, c->id);
        return -1;
    }
    return 0;
}

/* Moves a case's version and update time (a note or a photo changed what it shows). */
static int touch(cg_store *s, int64_t id, int64_t at, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_TOUCH,
                   "UPDATE cases SET version = version + 1, updated_at = max(updated_at, ?2) "
                   "WHERE id = ?1",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, id);
    sqlite3_bind_int64(l.st, 2, at);
    if (sq_exec(s, &l, err))
        return -1;
    if (sqlite3_changes64(s->db) == 0)
        return cg_err_set(err, CG_ENOTFOUND, "id", "no case %" PRId64, id);
    return 0;
}

int cg_store_case_note(cg_store *s, int64_t case_id, cg_case_event *ev, cg_err *err)
{
    if (check_event(ev, err))
        return -1;
    if (sq_write_begin(s, err))
        return -1;
    ev->is_note = 1;
    int ok = touch(s, case_id, ev->at, err) == 0 && event_put(s, case_id, ev, err) == 0;
    if (ok) {
        char target[32], summary[64];
        case_audit_target(target, case_id);
        snprintf(summary, sizeof summary, "{\"seq\":%" PRId64 ",\"step\":\"note\"}", ev->seq);
        ok = sq_audit(s, "case.note", target, summary, err) == 0;
    }
    if (sq_write_end(s, ok, err) || !ok) {
        cg_err_prefix(err, "adding a note to case %" PRId64, case_id);
        return -1;
    }
    return 0;
}

int cg_store_case_history(cg_store *s, int64_t case_id, cg_case_event_cb cb, void *ctx, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_HISTORY,
                   "SELECT case_id, seq, is_note, action, from_state, to_state, tier, actor_id, "
                   "actor_name, roles, at, note, detail FROM case_events WHERE case_id = ?1 "
                   "ORDER BY seq",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, case_id);
    int rc, result = 0;
    cg_case_event *e = malloc(sizeof *e);
    if (!e) {
        sq_release(&l);
        return cg_err_set(err, CG_ENOMEM, "", "out of memory reading a history");
    }
    while ((rc = sqlite3_step(l.st)) == SQLITE_ROW) {
        event_from_row(l.st, e);
        if (cb(ctx, e))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "reading a history", err);
    free(e);
    sq_release(&l);
    return result;
}

/* ---- lists and counts ---- */

enum {
    F_STATES = 1 << 0,
    F_CATEGORY = 1 << 1,
    F_SUBTREE = 1 << 2,
    F_NOGRID = 1 << 3,
    F_OVERDUE = 1 << 4,
    F_SOURCE = 1 << 5,
    F_SINCE = 1 << 6,
    F_UNTIL = 1 << 7,
    F_UPDATED = 1 << 8,
    F_BBOX = 1 << 9,
    F_TEXT = 1 << 10,
    F_ASSIGNEE = 1 << 11,
    F_LABEL = 1 << 12,
    F_REPORTER = 1 << 13,
    F_IDS = 1 << 14,
    F_SCOPE = 1 << 15,
    F_COUNT = 1 << 16,
    F_ORDER_SHIFT = 17, /* two bits: cg_case_order */
    F_STATE1 = 1 << 19, /* exactly one state: an equality the planner can use with the time */
    F_HANDLE = 1 << 20,
};

void sq_case_lists_free(cg_store *s)
{
    for (int i = 0; i < SQ_CASE_LIST_CACHE; i++) {
        sqlite3_finalize(s->case_lists[i].st);
        s->case_lists[i].st = NULL;
    }
}

static void append(cg_buf *b, uint32_t shape, uint32_t flag, const char *text)
{
    if (shape & flag)
        cg_buf_puts(b, text);
}

#define DUE_ORDER " ORDER BY c.due_at = 0, c.due_at, c.id"

static void list_sql(uint32_t shape, cg_buf *b)
{
    /* Due first: the page's ids are chosen by an inner query that needs only the filter's and
     * the order's columns (an index covers them: cases_state_due for the open-cases queue), and
     * only the page's rows are read. Sorting whole rows read a row for every case matched: the
     * console's queue over 1.5M open cases took 21 s, its ids alone 2. */
    int deferred = !(shape & F_COUNT) && ((shape >> F_ORDER_SHIFT) & 3) == CG_CASE_ORDER_DUE;
    if (shape & F_COUNT)
        cg_buf_puts(b, "SELECT count(*) FROM cases c WHERE 1");
    else if (deferred)
        cg_buf_puts(b, "SELECT " CASE_COLUMNS " FROM cases c WHERE c.id IN "
                       "(SELECT c.id FROM cases c WHERE 1");
    else
        cg_buf_puts(b, "SELECT " CASE_COLUMNS " FROM cases c WHERE 1");
    append(b, shape, F_STATES, " AND c.state IN (SELECT value FROM json_each(:states))");
    append(b, shape, F_STATE1, " AND c.state = :state");
    append(b, shape, F_CATEGORY, " AND c.category >= :cat_lo AND c.category < :cat_hi");
    /* A subtree (and a scope) is the set of grid codes in its range, every version ever
     * stored, so that an index leading with grid_code is searched code by code together with
     * the state and the time range, instead of scanning the whole code range: counting a
     * community's dispatched cases of a month reads those cases, not the month's. */
    append(b, shape, F_SUBTREE,
           " AND c.grid_code IN (SELECT code FROM grids WHERE code >= :sub_lo AND code < :sub_hi)");
    append(b, shape, F_NOGRID, " AND c.grid_code = ''");
    append(b, shape, F_SCOPE,
           " AND c.grid_code IN (SELECT code FROM grids WHERE code >= :scope_lo AND code < "
           ":scope_hi)");
    append(b, shape, F_OVERDUE, " AND c.due_at > 0 AND c.due_at < :overdue_at");
    append(b, shape, F_HANDLE, " AND c.handle_by > 0 AND c.handle_by < :handle_before");
    append(b, shape, F_SOURCE, " AND c.source = :source");
    append(b, shape, F_SINCE, " AND c.reported_at >= :since");
    append(b, shape, F_UNTIL, " AND c.reported_at < :until");
    append(b, shape, F_UPDATED, " AND c.updated_at >= :updated_since");
    append(b, shape, F_BBOX,
           " AND c.id IN (SELECT id FROM cases_rtree WHERE min_x <= :max_x AND max_x >= :min_x"
           " AND min_y <= :max_y AND max_y >= :min_y) AND c.has_point = 1"
           " AND c.lon BETWEEN :min_x AND :max_x AND c.lat BETWEEN :min_y AND :max_y");
    append(b, shape, F_TEXT, " AND c.id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH :q)");
    append(b, shape, F_ASSIGNEE, " AND c.assignee_account = :assignee");
    append(b, shape, F_LABEL, " AND c.assignee_label = :label");
    append(b, shape, F_REPORTER, " AND c.reporter_id = :reporter");
    append(b, shape, F_IDS, " AND c.id IN (SELECT value FROM json_each(:ids))");
    if (shape & F_COUNT)
        return;
    switch ((cg_case_order)((shape >> F_ORDER_SHIFT) & 3)) {
    case CG_CASE_ORDER_DUE:
        cg_buf_puts(b, DUE_ORDER);
        break;
    case CG_CASE_ORDER_ID:
        cg_buf_puts(b, " ORDER BY c.id");
        break;
    default:
        cg_buf_puts(b, " ORDER BY c.reported_at DESC, c.id DESC");
        break;
    }
    cg_buf_puts(b, " LIMIT :limit OFFSET :offset");
    if (deferred)
        cg_buf_puts(b, ")" DUE_ORDER);
}

/* A statement for a shape: from the connection's cache, or prepared and cached (replacing the
 * oldest entry). A cached statement already running (a callback listing again) is not shared:
 * a private copy is prepared and finalized after use. */
static int list_acquire(cg_store *s, uint32_t shape, sq_lease *l, cg_err *err)
{
    l->temporary = 0;
    for (int i = 0; i < SQ_CASE_LIST_CACHE; i++)
        if (s->case_lists[i].st && s->case_lists[i].shape == shape &&
            !sqlite3_stmt_busy(s->case_lists[i].st)) {
            l->st = s->case_lists[i].st;
            return 0;
        }
    cg_buf sql;
    cg_buf_init(&sql);
    list_sql(shape, &sql);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(s->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    cg_buf_free(&sql);
    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "preparing a case list", err);
    unsigned slot = s->case_list_next % SQ_CASE_LIST_CACHE;
    if (s->case_lists[slot].st && sqlite3_stmt_busy(s->case_lists[slot].st)) {
        l->temporary = 1;
    } else {
        sqlite3_finalize(s->case_lists[slot].st);
        s->case_lists[slot].st = st;
        s->case_lists[slot].shape = shape;
        s->case_list_next++;
    }
    l->st = st;
    return 0;
}

/* Bound values that must outlive the binding (SQLITE_STATIC). */
typedef struct {
    char cat_hi[CG_CAT_CODE_MAX];
    char sub_hi[CG_CODE_MAX];
    char scope_lo[CG_CODE_MAX], scope_hi[CG_CODE_MAX];
    cg_buf states, ids, query;
} list_bounds;

static void bounds_free(list_bounds *b)
{
    cg_buf_free(&b->states);
    cg_buf_free(&b->ids);
    cg_buf_free(&b->query);
}

/* The upper end of a prefix range: the prefix with its last byte incremented. */
static int prefix_hi(const char *prefix, char *hi, size_t cap, const char *field, cg_err *err)
{
    size_t n = strlen(prefix);
    if (n == 0 || n >= cap || (unsigned char)prefix[n - 1] == 0xFF)
        return cg_err_set(err, CG_EINVAL, field, "'%.40s' is not a code", prefix);
    memcpy(hi, prefix, n + 1);
    hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    return 0;
}

static void bind_text(sqlite3_stmt *st, const char *name, const char *value)
{
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, name), value, -1, SQLITE_STATIC);
}

static void bind_int64(sqlite3_stmt *st, const char *name, int64_t value)
{
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, name), value);
}

static int list_prepare(cg_store *s, const cg_case_filter *f, int count, sq_lease *l,
                        list_bounds *b, cg_err *err)
{
    memset(b, 0, sizeof *b);
    cg_buf_init(&b->states);
    cg_buf_init(&b->ids);
    cg_buf_init(&b->query);
    if (f->limit < 0 || f->offset < 0)
        return cg_err_set(err, CG_EINVAL, f->limit < 0 ? "limit" : "offset",
                          "limit and offset must not be negative");
    if ((int)f->order < CG_CASE_ORDER_NEWEST || (int)f->order > CG_CASE_ORDER_ID)
        return cg_err_set(err, CG_EINVAL, "order", "unknown order %d", (int)f->order);
    if (f->ids && f->n_ids > MAX_IDS)
        return cg_err_set(err, CG_ELIMIT, "ids", "at most %d ids in one list", MAX_IDS);
    uint32_t shape = count ? F_COUNT : (uint32_t)f->order << F_ORDER_SHIFT;
    if (f->states && (f->states & (f->states - 1)) == 0) {
        shape |= F_STATE1;
    } else if (f->states) {
        shape |= F_STATES;
        cg_buf_putc(&b->states, '[');
        for (int i = 0; i < CG_CASE_STATE_COUNT; i++)
            if (f->states & (1u << i))
                cg_buf_printf(&b->states, "%s%d", b->states.len > 1 ? "," : "", i);
        cg_buf_putc(&b->states, ']');
    }
    if (f->category && *f->category) {
        if (prefix_hi(f->category, b->cat_hi, sizeof b->cat_hi, "category", err))
            return -1;
        shape |= F_CATEGORY;
    }
    if (f->subtree_code && *f->subtree_code) {
        if (prefix_hi(f->subtree_code, b->sub_hi, sizeof b->sub_hi, "subtree", err))
            return -1;
        shape |= F_SUBTREE;
    } else if (f->subtree_code || f->no_grid) {
        shape |= F_NOGRID;
    }
    if (sq_scope_range(f->scope, b->scope_lo, b->scope_hi, err))
        return -1;
    if (b->scope_lo[0])
        shape |= F_SCOPE;
    if (f->overdue_at > 0)
        shape |= F_OVERDUE;
    if (f->handle_before > 0)
        shape |= F_HANDLE;
    if (f->source)
        shape |= F_SOURCE;
    if (f->since)
        shape |= F_SINCE;
    if (f->until)
        shape |= F_UNTIL;
    if (f->updated_since)
        shape |= F_UPDATED;
    if (f->bbox)
        shape |= F_BBOX;
    if (f->text && fts_query(&b->query, f->text))
        shape |= F_TEXT;
    if (f->assignee_account > 0)
        shape |= F_ASSIGNEE;
    if (f->assignee_label)
        shape |= F_LABEL;
    if (f->reporter_id > 0)
        shape |= F_REPORTER;
    if (f->ids) {
        shape |= F_IDS;
        cg_buf_putc(&b->ids, '[');
        for (size_t i = 0; i < f->n_ids; i++)
            cg_buf_printf(&b->ids, "%s%" PRId64, i ? "," : "", f->ids[i]);
        cg_buf_putc(&b->ids, ']');
    }
    if (list_acquire(s, shape, l, err))
        return -1;
    sqlite3_stmt *st = l->st;
    if (shape & F_STATES)
        bind_text(st, ":states", b->states.data);
    if (shape & F_STATE1) {
        int state = 0;
        while (!(f->states & (1u << state)))
            state++;
        bind_int64(st, ":state", state);
    }
    if (shape & F_CATEGORY) {
        bind_text(st, ":cat_lo", f->category);
        bind_text(st, ":cat_hi", b->cat_hi);
    }
    if (shape & F_SUBTREE) {
        bind_text(st, ":sub_lo", f->subtree_code);
        bind_text(st, ":sub_hi", b->sub_hi);
    }
    if (shape & F_SCOPE) {
        bind_text(st, ":scope_lo", b->scope_lo);
        bind_text(st, ":scope_hi", b->scope_hi);
    }
    if (shape & F_OVERDUE)
        bind_int64(st, ":overdue_at", f->overdue_at);
    if (shape & F_HANDLE)
        bind_int64(st, ":handle_before", f->handle_before);
    if (shape & F_SOURCE)
        bind_int64(st, ":source", (int64_t)f->source);
    if (shape & F_SINCE)
        bind_int64(st, ":since", f->since);
    if (shape & F_UNTIL)
        bind_int64(st, ":until", f->until);
    if (shape & F_UPDATED)
        bind_int64(st, ":updated_since", f->updated_since);
    if (shape & F_BBOX)
        sq_bind_bbox(st, f->bbox);
    if (shape & F_TEXT)
        bind_text(st, ":q", b->query.data);
    if (shape & F_ASSIGNEE)
        bind_int64(st, ":assignee", f->assignee_account);
    if (shape & F_LABEL)
        bind_text(st, ":label", f->assignee_label);
    if (shape & F_REPORTER)
        bind_int64(st, ":reporter", f->reporter_id);
    if (shape & F_IDS)
        bind_text(st, ":ids", b->ids.data);
    if (!count) {
        bind_int64(st, ":limit", f->limit ? f->limit : -1);
        bind_int64(st, ":offset", f->offset);
    }
    return 0;
}

int cg_store_case_list(cg_store *s, const cg_case_filter *f, cg_case_cb cb, void *ctx, cg_err *err)
{
    static const cg_case_filter all;
    list_bounds b;
    sq_lease l = {0};
    if (list_prepare(s, f ? f : &all, 0, &l, &b, err)) {
        bounds_free(&b);
        return -1;
    }
    cg_case *c = malloc(sizeof *c);
    int rc = SQLITE_DONE, result = 0;
    if (!c)
        result = cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
    while (c && (rc = sqlite3_step(l.st)) == SQLITE_ROW) {
        case_from_row(l.st, c);
        if (cb(ctx, c))
            break;
    }
    if (c && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing cases", err);
    free(c);
    sq_release(&l);
    bounds_free(&b);
    return result;
}

/* ---- cases near a point (the duplicate search) ---- */

#define NEAR_MAX_CELLS 64   /* more (a box near a pole): the list's own search */
#define NEAR_LIMIT_MAX 1024 /* candidates kept, newest first */

typedef struct {
    int64_t id, at;
    double lon, lat;
} near_hit;

/* Keeps the newest `cap` hits in `top`, newest first (reported_at, then id, descending). */
static void near_keep(near_hit *top, int *n, int cap, const near_hit *h)
{
    int i = *n;
    while (i > 0 && (h->at > top[i - 1].at || (h->at == top[i - 1].at && h->id > top[i - 1].id)))
        i--;
    if (i >= cap)
        return;
    int last = *n < cap ? *n : cap - 1;
    memmove(&top[i + 1], &top[i], (size_t)(last - i) * sizeof *top);
    top[i] = *h;
    if (*n < cap)
        (*n)++;
}

typedef struct {
    cg_case_near_cb cb;
    void *ctx;
} near_relay;

static int near_relay_case(void *ctx, const cg_case *c)
{
    near_relay *r = ctx;
    return r->cb(r->ctx, c->id, c->lon, c->lat);
}

int cg_store_case_near(cg_store *s, const cg_case_near_query *q, cg_case_near_cb cb, void *ctx,
                       cg_err *err)
{
    if (q->limit < 1 || q->limit > NEAR_LIMIT_MAX)
        return cg_err_set(err, CG_EINVAL, "limit", "a search nearby keeps 1 to %d cases",
                          NEAR_LIMIT_MAX);
    const cg_bbox *bb = &q->bbox;
    if (!(bb->min_x <= bb->max_x && bb->min_y <= bb->max_y))
        return cg_err_set(err, CG_EINVAL, "bbox", "the box of a search nearby is empty");
    /* The cells under the box (clamped to the world: no case lies outside it). */
    double x0 = bb->min_x < -180 ? -180 : bb->min_x, x1 = bb->max_x > 180 ? 180 : bb->max_x;
    double y0 = bb->min_y < -90 ? -90 : bb->min_y, y1 = bb->max_y > 90 ? 90 : bb->max_y;
    if (x0 > x1 || y0 > y1)
        return 0;
    int64_t c0 = near_col(x0), c1 = near_col(x1), r0 = near_row(y0), r1 = near_row(y1);
    if ((c1 - c0 + 1) * (r1 - r0 + 1) > NEAR_MAX_CELLS) {
        cg_case_filter f = {.states = q->states,
                            .category = q->category,
                            .since = q->since,
                            .until = q->until,
                            .bbox = &q->bbox,
                            .order = CG_CASE_ORDER_NEWEST,
                            .limit = q->limit,
                            .scope = q->scope};
        near_relay r = {cb, ctx};
        return cg_store_case_list(s, &f, near_relay_case, &r, err);
    }
    const char *cat = q->category ? q->category : "";
    char cat_hi[CG_CAT_CODE_MAX] = "", scope_lo[CG_CODE_MAX], scope_hi[CG_CODE_MAX];
    if ((*cat && prefix_hi(cat, cat_hi, sizeof cat_hi, "category", err)) ||
        sq_scope_range(q->scope, scope_lo, scope_hi, err))
        return -1;
    near_hit *top = malloc((size_t)q->limit * sizeof *top);
    if (!top)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory searching cases nearby");
    int n = 0, rc = SQLITE_OK, result = 0;
    /*
     * case_near is ordered by (category, cell, reported_at, id). The categories of the range
     * are found one seek at a time (a code and its sub-codes are few), and for each category
     * and each cell under the box one seek reads exactly the entries of the period; the row
     * then decides, with the same conditions as cg_store_case_list's filters. No category: all
     * of them (the upper bound is then a blob, which sorts after every text).
     */
    sq_lease cats, hits;
    if (sq_acquire(s, SQ_CASE_NEAR_CATEGORY,
                   "SELECT category FROM case_near WHERE category >= :from AND "
                   "category < :hi ORDER BY category LIMIT 1",
                   &cats, err)) {
        free(top);
        return -1;
    }
    if (sq_acquire(s, SQ_CASE_NEAR,
                   "SELECT c.id, c.reported_at, c.lon, c.lat FROM case_near d CROSS JOIN cases c"
                   " ON c.id = d.id WHERE d.category = :cat AND d.cell = :cell"
                   " AND d.reported_at >= :since AND d.reported_at < :until"
                   " AND c.has_point = 1 AND c.lon BETWEEN :min_x AND :max_x"
                   " AND c.lat BETWEEN :min_y AND :max_y"
                   " AND c.reported_at >= :since AND c.reported_at < :until"
                   " AND c.category >= :lo AND c.category < :hi AND (:states >> c.state) & 1"
                   " AND (:scope_lo = '' OR (c.grid_code >= :scope_lo AND c.grid_code < :scope_hi"
                   " AND EXISTS (SELECT 1 FROM grids g WHERE g.code = c.grid_code)))",
                   &hits, err)) {
        sq_release(&cats);
        free(top);
        return -1;
    }
    static const unsigned char after_all[] = {0xFF};
    bind_text(hits.st, ":lo", cat);
    if (*cat) {
        bind_text(cats.st, ":hi", cat_hi);
        bind_text(hits.st, ":hi", cat_hi);
    } else {
        sqlite3_bind_blob(cats.st, sqlite3_bind_parameter_index(cats.st, ":hi"), after_all, 1,
                          SQLITE_STATIC);
        sqlite3_bind_blob(hits.st, sqlite3_bind_parameter_index(hits.st, ":hi"), after_all, 1,
                          SQLITE_STATIC);
    }
    sq_bind_bbox(hits.st, &q->bbox);
    bind_int64(hits.st, ":since", q->since);
    bind_int64(hits.st, ":until", q->until);
    bind_int64(hits.st, ":states", q->states ? (int64_t)q->states : (int64_t)0x7fffffff);
    bind_text(hits.st, ":scope_lo", scope_lo);
    bind_text(hits.st, ":scope_hi", scope_hi);
    /* The next category at or after `from`: the search's own code first, then the one just
     * done followed by "\x01", which sorts before every longer code and after the code itself
     * (text has no NUL): one lower bound, so the seek starts there, never scanning a category's
     * entries to get past them. */
    char category[256], from[258];
    snprintf(from, sizeof from, "%s", cat);
    for (;;) {
        sqlite3_reset(cats.st);
        bind_text(cats.st, ":from", from);
        rc = sqlite3_step(cats.st);
        if (rc != SQLITE_ROW)
            break;
        int len = sqlite3_column_bytes(cats.st, 0);
        if (len >= (int)sizeof category) {
            result = cg_err_set(err, CG_EINVAL, "category", "a stored category is too long");
            break;
        }
        memcpy(category, sqlite3_column_text(cats.st, 0), (size_t)len + 1);
        memcpy(from, category, (size_t)len);
        from[len] = '\x01';
        from[len + 1] = '\0';
        sqlite3_reset(hits.st); /* a statement binds only after a reset */
        bind_text(hits.st, ":cat", category);
        for (int64_t col = c0; col <= c1 && rc == SQLITE_ROW; col++)
            for (int64_t row = r0; row <= r1; row++) {
                sqlite3_reset(hits.st);
                bind_int64(hits.st, ":cell", col * NEAR_ROW + row);
                while ((rc = sqlite3_step(hits.st)) == SQLITE_ROW) {
                    near_hit h = {
                        sqlite3_column_int64(hits.st, 0), sqlite3_column_int64(hits.st, 1),
                        sqlite3_column_double(hits.st, 2), sqlite3_column_double(hits.st, 3)};
                    near_keep(top, &n, q->limit, &h);
                }
                if (rc != SQLITE_DONE)
                    break;
                rc = SQLITE_ROW;
            }
        if (rc != SQLITE_ROW)
            break;
    }
    if (!result && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "searching cases nearby", err);
    sq_release(&hits);
    sq_release(&cats);
    for (int i = 0; !result && i < n; i++)
        if (cb(ctx, top[i].id, top[i].lon, top[i].lat))
            break;
    free(top);
    return result;
}

/* Logs every 10 s of a long migration step (a progress handler; never interrupts). */
typedef struct {
    const char *path;
    time_t start, last;
} fill_progress;

static int fill_tick(void *arg)
{
    fill_progress *p = arg;
    time_t now = time(NULL);
    if (now - p->last >= 10) {
        p->last = now;
        cg_log_info("database '%s': still indexing cases for the duplicate search (%lld s)",
                    p->path, (long long)(now - p->start));
    }
    return 0;
}

int sq_case_near_fill(cg_store *s, cg_err *err)
{
    int64_t total = 0;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT count(*) FROM cases WHERE has_point = 1", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        total = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "indexing the case points", err);
    fill_progress p = {s->path, time(NULL), time(NULL)};
    if (total > 100000) {
        cg_log_info("database '%s': indexing %lld cases for the duplicate search (schema "
                    "version 4; 10-30 s per million) ...",
                    s->path, (long long)total);
        sqlite3_progress_handler(s->db, 100000, fill_tick, &p);
    }
    /* The cell numbers of sq_case_near_cell ((lon + 180) * 1000 truncated, in doubles), sorted
     * first: appending in key order is ~2x faster than inserting in id order. */
    rc = sqlite3_exec(s->db,
                      "INSERT INTO case_near (category, cell, reported_at, id) "
                      "SELECT category, CAST((lon + 180.0) * 1000.0 AS INTEGER) * 1000000 + "
                      "CAST((lat + 90.0) * 1000.0 AS INTEGER), reported_at, id FROM cases "
                      "WHERE has_point = 1 ORDER BY 1, 2, 3, 4",
                      NULL, NULL, NULL);
    sqlite3_progress_handler(s->db, 0, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "indexing the case points", err);
    if (total > 100000)
        cg_log_info("database '%s': %lld cases indexed in %lld s", s->path, (long long)total,
                    (long long)(time(NULL) - p.start));
    return 0;
}

int cg_store_case_count(cg_store *s, const cg_case_filter *f, int64_t *count, cg_err *err)
{
    static const cg_case_filter all;
    list_bounds b;
    sq_lease l = {0};
    if (list_prepare(s, f ? f : &all, 1, &l, &b, err)) {
        bounds_free(&b);
        return -1;
    }
    int rc = sqlite3_step(l.st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(l.st, 0);
    sq_release(&l);
    bounds_free(&b);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, rc, "counting cases", err);
}

/* ---- photos ---- */

int cg_store_case_photo_add(cg_store *s, int64_t case_id, const cg_case_photo *p, cg_err *err)
{
    if (strlen(p->sha256) != 64)
        return cg_err_set(err, CG_EINVAL, "sha256", "a photo is named by its SHA-256 (64 hex)");
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int ok = sq_acquire(s, SQ_CASE_PHOTO_PUT,
                        "INSERT INTO case_photos (case_id, sha256, mime, bytes, event_seq, at) "
                        "SELECT id, ?2, ?3, ?4, ?5, ?6 FROM cases WHERE id = ?1 "
                        "ON CONFLICT (case_id, sha256) DO NOTHING",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, case_id);
        sqlite3_bind_text(l.st, 2, p->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 3, p->mime, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l.st, 4, p->bytes);
        sqlite3_bind_int64(l.st, 5, p->event_seq);
        sqlite3_bind_int64(l.st, 6, p->at);
        ok = sq_exec(s, &l, err) == 0;
    }
    int added = ok && sqlite3_changes64(s->db) > 0;
    if (added) {
        ok = sq_acquire(s, SQ_CASE_PHOTO_COUNT,
                        "UPDATE cases SET n_photos = (SELECT count(*) FROM case_photos "
                        "WHERE case_id = ?1) WHERE id = ?1",
                        &l, err) == 0;
        if (ok) {
            sqlite3_bind_int64(l.st, 1, case_id);
            ok = sq_exec(s, &l, err) == 0;
        }
        char target[32], summary[128];
        case_audit_target(target, case_id);
        snprintf(summary, sizeof summary, "{\"photo\":\"%s\",\"bytes\":%" PRId64 "}", p->sha256,
                 p->bytes);
        ok = ok && sq_audit(s, "case.photo", target, summary, err) == 0;
    } else if (ok) {
        /* Either the photo was there already (a no-op) or the case is missing. */
        stored_head h;
        ok = head_read(s, case_id, &h, err) == 0;
    }
    return sq_write_end(s, ok, err);
}

int cg_store_case_photo_refs(cg_store *s, const char *sha256, int64_t *refs, cg_err *err)
{
    *refs = 0;
    sq_lease l;
    /* The index case_photos_sha (schema 6): one seek, however many photos there are. */
    if (sq_acquire(s, SQ_CASE_PHOTO_REFS, "SELECT count(*) FROM case_photos WHERE sha256 = ?1", &l,
                   err))
        return -1;
    sqlite3_bind_text(l.st, 1, sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW)
        *refs = sqlite3_column_int64(l.st, 0);
    else
        result = sq_fail(s, rc, "counting a photo's cases", err);
    sq_release(&l);
    return result;
}

int cg_store_case_photos(cg_store *s, int64_t case_id, cg_case_photo_cb cb, void *ctx, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_CASE_PHOTOS,
                   "SELECT sha256, mime, bytes, event_seq, at FROM case_photos WHERE case_id = ?1 "
                   "ORDER BY at, event_seq, sha256",
                   &l, err))
        return -1;
    sqlite3_bind_int64(l.st, 1, case_id);
    int rc, result = 0;
    while ((rc = sqlite3_step(l.st)) == SQLITE_ROW) {
        cg_case_photo p;
        memset(&p, 0, sizeof p);
        sq_column_text(l.st, 0, p.sha256, sizeof p.sha256);
        sq_column_text(l.st, 1, p.mime, sizeof p.mime);
        p.bytes = sqlite3_column_int64(l.st, 2);
        p.event_seq = sqlite3_column_int64(l.st, 3);
        p.at = sqlite3_column_int64(l.st, 4);
        if (cb(ctx, &p))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing photos", err);
    sq_release(&l);
    return result;
}

/* ---- statistics ---- */

/*
 * One statement per grouping. The rows to count come from three sources, tagged and summed in
 * one pass: history steps in the period (joined to their case for the key and the filters),
 * cases reported in the period, and open cases overdue at `until`. The filters are optional
 * terms with empty-string sentinels: statistics are read by people, not per request, so one
 * plan per grouping is enough.
 */
#define STATS_CASE_FILTER                                                                          \
    " AND (:sub_lo = '' OR (c.grid_code >= :sub_lo AND c.grid_code < :sub_hi))"                    \
    " AND (:cat_lo = '' OR (c.category >= :cat_lo AND c.category < :cat_hi))"                      \
    " AND (:scope_lo = '' OR (c.grid_code >= :scope_lo AND c.grid_code < :scope_hi))"
#define STATS_SQL(KEY_EVENT, KEY_REPORTED, KEY_DUE)                                                \
    "WITH rows (k, a, on_time, reported, overdue) AS ("                                            \
    " SELECT " KEY_EVENT ", e.action, c.handle_by > 0 AND e.at <= c.handle_by, 0, 0"               \
    " FROM case_events e JOIN cases c ON c.id = e.case_id"                                         \
    " WHERE e.is_note = 0 AND e.action IN (1, 4, 6, 8, 14) AND e.at >= :since AND e.at < "         \
    ":until" STATS_CASE_FILTER " UNION ALL SELECT " KEY_REPORTED ", -1, 0, 1, 0 FROM cases c"      \
    " WHERE c.reported_at >= :since AND c.reported_at < :until" STATS_CASE_FILTER                  \
    " UNION ALL SELECT " KEY_DUE ", -1, 0, 0, 1 FROM cases c"                                      \
    " WHERE c.due_at > 0 AND c.due_at < :until" STATS_CASE_FILTER ")"                              \
    " SELECT k, sum(reported), sum(a = 1), sum(a = 4), sum(a = 14), sum(a = 14 AND on_time),"      \
    " sum(a = 6), sum(a = 8), sum(overdue) FROM rows GROUP BY k ORDER BY k"
#define KEY_GRID   "CASE WHEN :n > 0 THEN substr(c.grid_code, 1, :n) ELSE c.grid_code END"
#define KEY_DEPT   "CASE WHEN c.assignee_kind = 2 THEN c.assignee_label ELSE '' END"
#define KEY_DAY(T) "date(" T " + 28800, 'unixepoch')"

/* The action numbers in STATS_SQL must be these. */
_Static_assert(CG_ACT_REGISTER == 1 && CG_ACT_DISPATCH == 4 && CG_ACT_RETURN == 6 &&
                   CG_ACT_APPROVE_EXTENSION == 8 && CG_ACT_CLOSE == 14,
               "STATS_SQL names actions by number");
_Static_assert(CG_ASSIGN_DEPARTMENT == 2, "KEY_DEPT names the department kind by number");

int cg_store_case_stats(cg_store *s, const cg_case_stats_query *q, cg_case_stats_cb cb, void *ctx,
                        cg_err *err)
{
    static const char *const sql[4] = {
        [CG_STATS_BY_GRID] = STATS_SQL(KEY_GRID, KEY_GRID, KEY_GRID),
        [CG_STATS_BY_CATEGORY] = STATS_SQL("c.category", "c.category", "c.category"),
        [CG_STATS_BY_DEPARTMENT] = STATS_SQL(KEY_DEPT, KEY_DEPT, KEY_DEPT),
        [CG_STATS_BY_DAY] =
            STATS_SQL(KEY_DAY("e.at"), KEY_DAY("c.reported_at"), KEY_DAY("c.due_at")),
    };
    if ((int)q->group < CG_STATS_BY_GRID || (int)q->group > CG_STATS_BY_DAY)
        return cg_err_set(err, CG_EINVAL, "group", "unknown grouping %d", (int)q->group);
    int n = 0;
    if (q->group == CG_STATS_BY_GRID && q->level && q->level != CG_LEVEL_GRID) {
        n = cg_level_code_length(q->level);
        if (n <= 0)
            return cg_err_set(err, CG_EINVAL, "level", "unknown grid level %d", (int)q->level);
    }
    int64_t until = q->until ? q->until : (int64_t)time(NULL);
    if (q->since && q->since >= until)
        return cg_err_set(err, CG_EINVAL, "since", "the period is empty (since >= until)");
    char sub_hi[CG_CODE_MAX] = "", cat_hi[CG_CAT_CODE_MAX] = "";
    char scope_lo[CG_CODE_MAX], scope_hi[CG_CODE_MAX];
    const char *sub = q->subtree_code ? q->subtree_code : "";
    const char *cat = q->category ? q->category : "";
    if ((*sub && prefix_hi(sub, sub_hi, sizeof sub_hi, "subtree", err)) ||
        (*cat && prefix_hi(cat, cat_hi, sizeof cat_hi, "category", err)) ||
        sq_scope_range(q->scope, scope_lo, scope_hi, err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, (sq_stmt_id)(SQ_CASE_STATS_FIRST + q->group), sql[q->group], &l, err))
        return -1;
    sqlite3_stmt *st = l.st;
    if (q->group == CG_STATS_BY_GRID)
        bind_int64(st, ":n", n);
    bind_int64(st, ":since", q->since);
    bind_int64(st, ":until", until);
    bind_text(st, ":sub_lo", sub);
    bind_text(st, ":sub_hi", sub_hi);
    bind_text(st, ":cat_lo", cat);
    bind_text(st, ":cat_hi", cat_hi);
    bind_text(st, ":scope_lo", scope_lo);
    bind_text(st, ":scope_hi", scope_hi);
    int rc, result = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cg_case_stats_row row;
        memset(&row, 0, sizeof row);
        sq_column_text(st, 0, row.key, sizeof row.key);
        row.reported = sqlite3_column_int64(st, 1);
        row.registered = sqlite3_column_int64(st, 2);
        row.dispatched = sqlite3_column_int64(st, 3);
        row.closed = sqlite3_column_int64(st, 4);
        row.closed_on_time = sqlite3_column_int64(st, 5);
        row.returned = sqlite3_column_int64(st, 6);
        row.extended = sqlite3_column_int64(st, 7);
        row.overdue_open = sqlite3_column_int64(st, 8);
        if (cb(ctx, &row))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "computing statistics", err);
    sq_release(&l);
    return result;
}

/* ---- idempotency keys ---- */

int cg_store_idem_purge(cg_store *s, int64_t before, int64_t *purged, cg_err *err)
{
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int64_t n = 0;
    int ok = sq_acquire(s, SQ_CASE_IDEM_PURGE, "DELETE FROM idempotency WHERE created_at < ?1", &l,
                        err) == 0;
    if (ok) {
        sqlite3_bind_int64(l.st, 1, before);
        ok = sq_exec(s, &l, err) == 0;
        n = ok ? sqlite3_changes64(s->db) : 0;
    }
    /* The timer purges every minute; only a purge that removed something is worth an entry. */
    if (ok && n > 0) {
        char summary[96];
        snprintf(summary, sizeof summary, "{\"purged\":%" PRId64 ",\"before\":%" PRId64 "}", n,
                 before);
        ok = sq_audit(s, "idempotency.purge", "idempotency", summary, err) == 0;
    }
    if (sq_write_end(s, ok, err))
        return -1;
    if (purged)
        *purged = n;
    return 0;
}

/* ---- rule documents ---- */

int cg_store_doc_put(cg_store *s, const char *name, const char *json, cg_err *err)
{
    if (!name || !*name || strlen(name) > 64)
        return cg_err_set(err, CG_EINVAL, "name", "a document needs a name of 1..64 bytes");
    if (!json)
        return cg_err_set(err, CG_EINVAL, "json", "document '%s' has no content", name);
    if (sq_write_begin(s, err))
        return -1;
    sq_lease l;
    int ok = sq_acquire(s, SQ_DOC_PUT,
                        "INSERT INTO docs (name, json, updated_at) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (name) DO UPDATE SET json = excluded.json, "
                        "updated_at = excluded.updated_at",
                        &l, err) == 0;
    if (ok) {
        sqlite3_bind_text(l.st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(l.st, 2, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l.st, 3, (int64_t)time(NULL));
        ok = sq_exec(s, &l, err) == 0;
        if (!ok && err && err->code == CG_ECONFLICT)
            cg_err_set(err, CG_EINVAL, "json", "document '%s' is not valid JSON", name);
    }
    if (ok)
        ok = sq_acquire(s, SQ_RULES_GENERATION_BUMP,
                        "UPDATE counters SET value = value + 1 WHERE name = 'rules_generation'", &l,
                        err) == 0 &&
             sq_exec(s, &l, err) == 0;
    if (ok) {
        cg_buf b;
        cg_buf_init(&b);
        cg_buf_puts(&b, "{\"name\":");
        cg_json_write_string(&b, name);
        cg_buf_printf(&b, ",\"bytes\":%zu}", strlen(json));
        char target[96];
        snprintf(target, sizeof target, "doc:%s", name);
        ok = sq_audit(s, "doc.put", target, b.data, err) == 0;
        cg_buf_free(&b);
    }
    return sq_write_end(s, ok, err);
}

int cg_store_doc_get(cg_store *s, const char *name, cg_buf *out, cg_err *err)
{
    sq_lease l;
    if (sq_acquire(s, SQ_DOC_GET, "SELECT json FROM docs WHERE name = ?1", &l, err))
        return -1;
    sqlite3_bind_text(l.st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l.st), result = 0;
    if (rc == SQLITE_ROW)
        cg_buf_append(out, sqlite3_column_text(l.st, 0), (size_t)sqlite3_column_bytes(l.st, 0));
    else if (rc == SQLITE_DONE)
        result = cg_err_set(err, CG_ENOTFOUND, "name", "no document '%s'", name);
    else
        result = sq_fail(s, rc, "reading a document", err);
    sq_release(&l);
    return result;
}

int cg_store_doc_each(cg_store *s, const char *prefix, cg_doc_cb cb, void *ctx, cg_err *err)
{
    char hi[80] = "";
    const char *lo = prefix ? prefix : "";
    if (*lo && prefix_hi(lo, hi, sizeof hi, "prefix", err))
        return -1;
    sq_lease l;
    if (sq_acquire(s, SQ_DOC_EACH,
                   "SELECT name, json FROM docs WHERE :lo = '' OR (name >= :lo AND name < :hi) "
                   "ORDER BY name",
                   &l, err))
        return -1;
    bind_text(l.st, ":lo", lo);
    bind_text(l.st, ":hi", hi);
    int rc, result = 0;
    while ((rc = sqlite3_step(l.st)) == SQLITE_ROW)
        if (cb(ctx, (const char *)sqlite3_column_text(l.st, 0),
               (const char *)sqlite3_column_text(l.st, 1)))
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sq_fail(s, rc, "listing documents", err);
    sq_release(&l);
    return result;
}

int64_t cg_store_rules_generation(cg_store *s)
{
    sq_lease l;
    if (sq_acquire(s, SQ_RULES_GENERATION_GET,
                   "SELECT value FROM counters WHERE name = 'rules_generation'", &l, NULL))
        return -1;
    int64_t value = sqlite3_step(l.st) == SQLITE_ROW ? sqlite3_column_int64(l.st, 0) : -1;
    sq_release(&l);
    return value;
}
