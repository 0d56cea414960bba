/*
 * Tests of the case section of store/store.h against the SQLite backend, on real database files:
 * insert, read, versioned update, idempotent replay, scope, every list filter and order, counts,
 * history and notes, photos, statistics, rule documents, savepoints, the search of cases near a
 * point (against the list and a full scan, on random data), and the migrations of version-2 and
 * version-3 databases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/db.h" /* sq_case_near_cell */
#include "store/store.h"
#include "testutil.h"

#define T0 1790000000 /* 2026-09-21 (a Monday) 22:13 +08:00 */

static cg_store *open_new(const char *name)
{
    cg_store *s = NULL;
    cg_err err = {0};
    const char *path = cg_test_tmppath(name);
    unlink(path);
    if (cg_store_open(path, CG_STORE_CREATE, &s, &err) != 0)
        fail_msg("open %s: %s", path, err.message);
    return s;
}

static void fill(cg_case *c, const char *category, const char *grid, double lon, double lat,
                 int64_t at, const char *desc, const char *addr)
{
    memset(c, 0, sizeof *c);
    c->source = CG_SOURCE_WORKER;
    snprintf(c->category, sizeof c->category, "%s", category);
    snprintf(c->description, sizeof c->description, "%s", desc);
    snprintf(c->address, sizeof c->address, "%s", addr);
    snprintf(c->grid_code, sizeof c->grid_code, "%s", grid);
    c->lon = lon;
    c->lat = lat;
    c->has_point = 1;
    c->status.state = CG_CASE_REPORTED;
    c->reported_at = at;
    c->updated_at = at;
    c->due_at = at + 7200;
    c->deadlines.register_by = at + 7200;
}

static void report_event(cg_case_event *e, int64_t at)
{
    memset(e, 0, sizeof *e);
    e->action = CG_ACT_REPORT;
    e->from = CG_CASE_NONE;
    e->to = CG_CASE_REPORTED;
    e->at = at;
    snprintf(e->actor_name, sizeof e->actor_name, "worker1");
    e->actor_id = 7;
    e->roles = CG_ROLE_WORKER;
    snprintf(e->detail, sizeof e->detail, "{}");
}

/* A case's grid code names a stored grid (the service takes it from the atlas): store the
 * grid (with its parents) the first time a code is used. */
static void ensure_grid(cg_store *s, const char *code)
{
    size_t len = strlen(code);
    if (len < 6)
        return;
    cg_err err = {0};
    cg_grid g;
    cg_grid_init(&g);
    int found = cg_store_grid_get(s, code, 0, 0, &g, &err) == 0;
    cg_grid_free(&g);
    if (found)
        return;
    char parent[CG_CODE_MAX] = "";
    static const size_t lengths[] = {6, 9, 12, 15, 17};
    for (size_t i = 1; i < sizeof lengths / sizeof lengths[0]; i++)
        if (lengths[i] == len)
            snprintf(parent, sizeof parent, "%.*s", (int)lengths[i - 1], code);
    ensure_grid(s, parent);
    cg_grid_init(&g);
    snprintf(g.code, sizeof g.code, "%s", code);
    snprintf(g.parent_code, sizeof g.parent_code, "%s", parent);
    g.level = cg_level_from_code(code);
    cg_point pts[] = {{119, 29}, {121, 29}, {121, 31}, {119, 31}, {119, 29}};
    cg_mpoly_add_ring_polygon(&g.geom, pts, 5);
    g.area_m2 = cg_mpoly_area_m2(&g.geom);
    if (cg_store_grid_put(s, &g, 1, &err))
        fail_msg("grid %s: %s", code, err.message);
    cg_grid_free(&g);
}

static int64_t add(cg_store *s, cg_case *c)
{
    cg_err err = {0};
    ensure_grid(s, c->grid_code);
    cg_case_event ev;
    report_event(&ev, c->reported_at);
    int64_t existing = -1;
    if (cg_store_case_insert(s, c, &ev, NULL, NULL, &existing, &err))
        fail_msg("insert: %s", err.message);
    assert_int_equal(existing, 0);
    return c->id;
}

/* Collects listed ids. */
typedef struct {
    int64_t ids[64];
    int n;
} idlist;

static int collect(void *ctx, const cg_case *c)
{
    idlist *l = ctx;
    if (l->n < 64)
        l->ids[l->n++] = c->id;
    return 0;
}

static idlist list(cg_store *s, const cg_case_filter *f)
{
    idlist l = {.n = 0};
    cg_err err = {0};
    if (cg_store_case_list(s, f, collect, &l, &err))
        fail_msg("list: %s", err.message);
    int64_t n = -1;
    if (cg_store_case_count(s, f, &n, &err))
        fail_msg("count: %s", err.message);
    /* Without limit/offset the count is the list's length. */
    if (!f->limit && !f->offset)
        assert_int_equal(n, l.n);
    return l;
}

/* A second case reported in the same second shares only the time prefix of the first's token. */
static void test_token_shape(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_token.db");
    cg_err err = {0};
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%08llx", (unsigned long long)T0);
    cg_case first, twin;
    fill(&first, "0101", "330106001001", 120.1, 30.2, T0, "井盖破损", "");
    fill(&twin, "0101", "330106001001", 120.1, 30.2, T0, "同一秒的另一件", "");
    cg_case_event ev;
    report_event(&ev, T0);
    int64_t existing = -1;
    assert_int_equal(cg_store_case_insert(s, &first, &ev, NULL, NULL, &existing, &err), 0);
    assert_int_equal(cg_store_case_insert(s, &twin, &ev, NULL, NULL, &existing, &err), 0);
    assert_memory_equal(first.token, prefix, 8);
    assert_memory_equal(twin.token, prefix, 8);
    assert_true(memcmp(twin.token + 8, first.token + 8, 24) != 0);
    assert_int_equal(strspn(twin.token, "0123456789abcdef"), 32);
    cg_store_close(s);
}

static void test_insert_get_update(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_basic.db");
    assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
    cg_case c;
    fill(&c, "0101", "330106001001", 120.1, 30.2, T0, "路口井盖破损", "文一路 1 号");
    c.source = CG_SOURCE_RESIDENT;
    snprintf(c.device_id, sizeof c.device_id, "dev-1");
    cg_err err = {0};
    cg_case_event ev;
    report_event(&ev, T0);
    int64_t existing = -1;
    assert_int_equal(cg_store_case_insert(s, &c, &ev, "13800000000", NULL, &existing, &err), 0);
    assert_int_equal(c.id, 1);
    assert_int_equal(c.version, 1);
    assert_int_equal(strlen(c.token), 32);
    assert_int_equal(strspn(c.token, "0123456789abcdef"), 32);
    /* The report time's seconds lead the token (new tokens sort after old ones); the rest is
     * random: a second case reported in the same second shares only that prefix. */
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%08llx", (unsigned long long)T0);
    assert_memory_equal(c.token, prefix, 8);
    assert_int_equal(c.has_contact, 1);

    cg_case got;
    assert_int_equal(cg_store_case_get(s, NULL, c.id, &got, &err), 0);
    assert_string_equal(got.description, "路口井盖破损");
    assert_string_equal(got.address, "文一路 1 号");
    assert_string_equal(got.grid_code, "330106001001");
    assert_string_equal(got.token, c.token);
    assert_string_equal(got.device_id, "dev-1");
    assert_int_equal(got.source, CG_SOURCE_RESIDENT);
    assert_int_equal(got.status.state, CG_CASE_REPORTED);
    assert_true(got.lon == 120.1 && got.lat == 30.2 && got.has_point);
    assert_int_equal(got.due_at, T0 + 7200);
    assert_int_equal(got.has_contact, 1);

    /* The contact is kept apart under the case id. */
    char contact[64];
    assert_int_equal(cg_store_contact_get(s, "1", contact, sizeof contact, &err), 0);
    assert_string_equal(contact, "13800000000");

    cg_case by_token;
    assert_int_equal(cg_store_case_by_token(s, c.token, &by_token, &err), 0);
    assert_int_equal(by_token.id, c.id);
    assert_int_equal(cg_store_case_by_token(s, "00000000000000000000000000000000", &by_token, &err),
                     -1);
    assert_int_equal(err.code, CG_ENOTFOUND);

    /* A step: version 1 -> 2, with its history entry. */
    got.status.state = CG_CASE_REGISTERED;
    got.registered_at = T0 + 60;
    got.updated_at = T0 + 60;
    got.assignee.kind = CG_ASSIGN_DEPARTMENT;
    snprintf(got.assignee.label, sizeof got.assignee.label, "城管局");
    cg_case_event step;
    report_event(&step, T0 + 60);
    step.action = CG_ACT_REGISTER;
    step.from = CG_CASE_REPORTED;
    step.to = CG_CASE_REGISTERED;
    snprintf(step.note, sizeof step.note, "立案");
    assert_int_equal(cg_store_case_update(s, &got, &step, &err), 0);
    assert_int_equal(got.version, 2);
    assert_int_equal(step.seq, 2);

    /* A writer holding the old version is refused and nothing changes. */
    cg_case stale = c; /* version 1 */
    stale.status.state = CG_CASE_REJECTED;
    cg_case_event step2 = step;
    assert_int_equal(cg_store_case_update(s, &stale, &step2, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_string_equal(err.field, "version");
    assert_int_equal(stale.version, 1);
    cg_case again;
    assert_int_equal(cg_store_case_get(s, NULL, c.id, &again, &err), 0);
    assert_int_equal(again.status.state, CG_CASE_REGISTERED);
    assert_int_equal(again.version, 2);
    assert_string_equal(again.assignee.label, "城管局");

    /* A missing case. */
    again.id = 999;
    assert_int_equal(cg_store_case_update(s, &again, NULL, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_case_get(s, NULL, 999, &again, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);

    /* Bad input names the field. */
    cg_case bad;
    fill(&bad, "", "", 0, 0, T0, "x", "");
    assert_int_equal(cg_store_case_insert(s, &bad, &ev, NULL, NULL, &existing, &err), -1);
    assert_string_equal(err.field, "category");
    fill(&bad, "0101", "", 200, 0, T0, "x", "");
    assert_int_equal(cg_store_case_insert(s, &bad, &ev, NULL, NULL, &existing, &err), -1);
    assert_string_equal(err.field, "lon");
    fill(&bad, "0101", "", 1, 1, T0, "x", "");
    cg_case_event badev = ev;
    snprintf(badev.detail, sizeof badev.detail, "[1,2]");
    assert_int_equal(cg_store_case_insert(s, &bad, &badev, NULL, NULL, &existing, &err), -1);
    assert_string_equal(err.field, "detail");

    /* Every write was audited: contact.put, case.create, contact.read, case.update. */
    int64_t seq;
    char hash[65];
    assert_int_equal(cg_store_audit_head(s, &seq, hash, &err), 0);
    assert_int_equal(seq, 4);
    cg_store_close(s);
}

static int count_audit(void *ctx, const cg_audit_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static void test_audit_entries(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_audit.db");
    cg_case c;
    fill(&c, "0101", "330106001001", 120.1, 30.2, T0, "desc", "");
    add(s, &c);
    cg_case_event note;
    report_event(&note, T0 + 5);
    snprintf(note.detail, sizeof note.detail, "{\"merged\":2}");
    cg_err err = {0};
    assert_int_equal(cg_store_case_note(s, c.id, &note, &err), 0);
    int created = 0, noted = 0;
    cg_audit_filter f = {.action = "case.create", .target_prefix = "case:1"};
    assert_int_equal(cg_store_audit_list(s, &f, count_audit, &created, &err), 0);
    f.action = "case.note";
    assert_int_equal(cg_store_audit_list(s, &f, count_audit, &noted, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(noted, 1);
    cg_store_close(s);
}

static void test_idempotency(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_idem.db");
    cg_err err = {0};
    cg_case c;
    fill(&c, "0101", "3301", 120, 30, T0, "first", "");
    cg_case_event ev;
    report_event(&ev, T0);
    int64_t existing = -1;
    assert_int_equal(cg_store_case_insert(s, &c, &ev, "", "key-1", &existing, &err), 0);
    assert_int_equal(existing, 0);
    int64_t first = c.id;

    cg_case retry;
    fill(&retry, "0101", "3301", 120, 30, T0 + 3, "retry", "");
    assert_int_equal(cg_store_case_insert(s, &retry, &ev, "", "key-1", &existing, &err), 0);
    assert_int_equal(existing, first);
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(s, NULL, &n, &err), 0);
    assert_int_equal(n, 1);

    /* Another key, another case. */
    assert_int_equal(cg_store_case_insert(s, &retry, &ev, "", "key-2", &existing, &err), 0);
    assert_int_equal(existing, 0);
    assert_true(retry.id != first);

    /* Purging old keys lets a key be used again (after CG_IDEM_KEEP_DAYS in real use). */
    int64_t purged = 0;
    assert_int_equal(cg_store_idem_purge(s, T0 + 1, &purged, &err), 0);
    assert_int_equal(purged, 1); /* key-1 (created at T0); key-2 at T0 + 3 stays */
    assert_int_equal(cg_store_case_insert(s, &c, &ev, "", "key-1", &existing, &err), 0);
    assert_int_equal(existing, 0);
    assert_int_equal(cg_store_case_insert(s, &c, &ev, "", "key-2", &existing, &err), 0);
    assert_int_equal(existing, retry.id);
    cg_store_close(s);
}

static void test_scope(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_scope.db");
    cg_err err = {0};
    cg_case a, b, none;
    fill(&a, "0101", "330106001001", 120, 30, T0, "in", "");
    fill(&b, "0101", "330106002001", 120, 30, T0, "out", "");
    fill(&none, "0101", "", 120, 30, T0, "no grid", "");
    add(s, &a);
    add(s, &b);
    add(s, &none);
    cg_scope sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.code, sizeof sc.code, "330106001");
    cg_case got;
    assert_int_equal(cg_store_case_get(s, &sc, a.id, &got, &err), 0);
    assert_int_equal(cg_store_case_get(s, &sc, b.id, &got, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    char out_msg[CG_ERR_MESSAGE_MAX];
    snprintf(out_msg, sizeof out_msg, "%s", err.message);
    /* The no-grid queue is for unrestricted scopes only. */
    assert_int_equal(cg_store_case_get(s, &sc, none.id, &got, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    /* Outside and missing read alike (apart from the number). */
    assert_int_equal(cg_store_case_get(s, &sc, 999, &got, &err), -1);
    assert_int_equal(strncmp(err.message, out_msg, 8), 0);
    assert_int_equal(cg_store_case_get(s, &cg_scope_all, none.id, &got, &err), 0);

    cg_case_filter f = {.scope = &sc};
    idlist l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], a.id);
    f.no_grid = 1;
    assert_int_equal(list(s, &f).n, 0);
    f.scope = NULL;
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], none.id);
    /* subtree_code "" alone is the no-grid queue too. */
    cg_case_filter g = {.subtree_code = ""};
    l = list(s, &g);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], none.id);
    cg_store_close(s);
}

static void test_filters(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_filters.db");
    cg_err err = {0};
    cg_case c[6];
    fill(&c[0], "0101", "330106001001", 120.0000, 30.0000, T0, "路口井盖破损", "文一路");
    fill(&c[1], "0102", "330106001002", 120.0100, 30.0100, T0 + 100, "垃圾 堆放 OR 乱扔", "教工路");
    fill(&c[2], "0201", "330106002001", 120.0200, 30.0200, T0 + 200,
         "street light \"broken\" NEAR the school", "");
    fill(&c[3], "0101", "", 121.0000, 31.0000, T0 + 300, "no grid manhole", "");
    fill(&c[4], "0301", "330106002002", 120.0300, 30.0300, T0 + 400, "manhole cover*", "");
    fill(&c[5], "0101", "330106001001", 0, 0, T0 + 500, "address only 井盖", "某小区 3 幢");
    c[1].source = CG_SOURCE_RESIDENT;
    c[2].reporter_id = 42;
    c[3].due_at = 0;
    c[4].due_at = T0 + 100000;
    c[5].has_point = 0;
    for (int i = 0; i < 6; i++)
        add(s, &c[i]);
    /* Assign two, move one forward. */
    c[0].status.state = CG_CASE_DISPATCHED;
    c[0].assignee.kind = CG_ASSIGN_ACCOUNT;
    c[0].assignee.account_id = 9;
    snprintf(c[0].assignee.label, sizeof c[0].assignee.label, "张三");
    c[0].updated_at = T0 + 1000;
    assert_int_equal(cg_store_case_update(s, &c[0], NULL, &err), 0);
    c[2].status.state = CG_CASE_DISPATCHED;
    c[2].assignee.kind = CG_ASSIGN_DEPARTMENT;
    snprintf(c[2].assignee.label, sizeof c[2].assignee.label, "路灯所");
    c[2].updated_at = T0 + 1000;
    assert_int_equal(cg_store_case_update(s, &c[2], NULL, &err), 0);

    cg_case_filter f;
#define RESET() memset(&f, 0, sizeof f)
    RESET();
    idlist l = list(s, &f);
    assert_int_equal(l.n, 6);
    /* Newest first by default. */
    assert_int_equal(l.ids[0], c[5].id);
    assert_int_equal(l.ids[5], c[0].id);

    RESET();
    f.states = 1u << CG_CASE_DISPATCHED;
    assert_int_equal(list(s, &f).n, 2);
    f.states |= 1u << CG_CASE_REPORTED;
    assert_int_equal(list(s, &f).n, 6);

    RESET();
    f.category = "01"; /* the group and its sub-categories */
    assert_int_equal(list(s, &f).n, 4);
    f.category = "0101";
    assert_int_equal(list(s, &f).n, 3);

    RESET();
    f.subtree_code = "330106001";
    assert_int_equal(list(s, &f).n, 3);
    f.subtree_code = "330106002001";
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[2].id);

    RESET();
    f.overdue_at = T0 + 7200 + 250; /* due_at < this: cases 0 (T0+7200), 1, 2 */
    assert_int_equal(list(s, &f).n, 3);

    RESET();
    f.source = CG_SOURCE_RESIDENT;
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[1].id);

    RESET();
    f.since = T0 + 100;
    f.until = T0 + 400;
    assert_int_equal(list(s, &f).n, 3);

    RESET();
    f.updated_since = T0 + 1000;
    assert_int_equal(list(s, &f).n, 2);

    RESET();
    cg_bbox box = {119.999, 29.999, 120.015, 30.015};
    f.bbox = &box;
    assert_int_equal(list(s, &f).n, 2); /* 0 and 1; 5 has no point */

    RESET();
    f.assignee_account = 9;
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[0].id);
    RESET();
    f.assignee_label = "路灯所";
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[2].id);

    RESET();
    f.reporter_id = 42;
    assert_int_equal(list(s, &f).n, 1);

    RESET();
    int64_t ids[] = {c[1].id, c[3].id, 999};
    f.ids = ids;
    f.n_ids = 3;
    assert_int_equal(list(s, &f).n, 2);

    /* Full text: Chinese substrings, words, and operators searched as text. */
    RESET();
    f.text = "井盖";
    assert_int_equal(list(s, &f).n, 2); /* 0 and 5 */
    f.text = "manhole";
    assert_int_equal(list(s, &f).n, 2); /* 3 and 4 */
    f.text = "manhole grid";
    assert_int_equal(list(s, &f).n, 1);
    f.text = "文一路";
    assert_int_equal(list(s, &f).n, 1); /* the address */
    f.text = "3 幢";
    assert_int_equal(list(s, &f).n, 1);
    f.text = "\"broken\"";
    assert_int_equal(list(s, &f).n, 1);
    f.text = "OR";
    l = list(s, &f);
    assert_int_equal(l.n, 1); /* the word "OR" in case 1, not an operator */
    assert_int_equal(l.ids[0], c[1].id);
    f.text = "井盖 OR manhole";
    assert_int_equal(list(s, &f).n, 0); /* all terms must match; none has all three */
    f.text = "NEAR(street school)";
    assert_int_equal(list(s, &f).n, 0);
    f.text = "cover*";
    assert_int_equal(list(s, &f).n, 1);
    f.text = "descr*";
    assert_int_equal(list(s, &f).n, 0); /* no prefix magic */
    f.text = "body:manhole";
    assert_int_equal(list(s, &f).n, 0); /* no column filter */
    f.text = "\"";
    assert_int_equal(list(s, &f).n, 0);
    f.text = "   ";
    assert_int_equal(list(s, &f).n, 6); /* no terms, no filter */

    /* Combined, with the scope. */
    RESET();
    cg_scope sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.code, sizeof sc.code, "330106001");
    f.scope = &sc;
    f.text = "井盖";
    f.category = "01";
    f.states = 1u << CG_CASE_REPORTED;
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[5].id);

    /* Orders, limit and offset. */
    RESET();
    f.order = CG_CASE_ORDER_ID;
    l = list(s, &f);
    for (int i = 0; i < 6; i++)
        assert_int_equal(l.ids[i], c[i].id);
    f.order = CG_CASE_ORDER_DUE; /* due_at ascending, 0 last */
    l = list(s, &f);
    assert_int_equal(l.ids[0], c[0].id);
    assert_int_equal(l.ids[4], c[4].id);
    assert_int_equal(l.ids[5], c[3].id);
    /* A page of it is the same slice (its ids are chosen apart from its rows). */
    int64_t due_ids[6];
    memcpy(due_ids, l.ids, sizeof due_ids);
    for (int offset = 0; offset < 6; offset++) {
        f.limit = 2;
        f.offset = offset;
        l = list(s, &f);
        assert_int_equal(l.n, offset < 5 ? 2 : 1);
        for (int i = 0; i < l.n; i++)
            assert_int_equal(l.ids[i], due_ids[offset + i]);
    }
    f.limit = 0;
    f.offset = 0;
    f.order = CG_CASE_ORDER_NEWEST;
    f.limit = 2;
    f.offset = 1;
    l = list(s, &f);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], c[4].id);
    assert_int_equal(l.ids[1], c[3].id);
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(s, &f, &n, &err), 0);
    assert_int_equal(n, 6); /* a total for paging */

    /* Bad filters. */
    RESET();
    f.limit = -1;
    assert_int_equal(cg_store_case_list(s, &f, collect, &l, &err), -1);
    assert_string_equal(err.field, "limit");
    RESET();
    f.ids = ids;
    f.n_ids = 5000;
    assert_int_equal(cg_store_case_list(s, &f, collect, &l, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);

    /* The timer's filter: handling deadline passed, among the states asked for. */
    c[0].deadlines.handle_by = T0 + 2000;
    assert_int_equal(cg_store_case_update(s, &c[0], NULL, &err), 0);
    c[2].deadlines.handle_by = T0 + 5000;
    assert_int_equal(cg_store_case_update(s, &c[2], NULL, &err), 0);
    c[4].deadlines.handle_by = T0 + 1000; /* still reported */
    assert_int_equal(cg_store_case_update(s, &c[4], NULL, &err), 0);
    RESET();
    f.states = 1u << CG_CASE_DISPATCHED;
    f.handle_before = T0 + 3000;
    l = list(s, &f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], c[0].id);
    f.handle_before = T0 + 2000; /* strictly before */
    assert_int_equal(list(s, &f).n, 0);
    f.handle_before = T0 + 6000;
    l = list(s, &f);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], c[2].id);
    assert_int_equal(l.ids[1], c[0].id);
    f.states |= 1u << CG_CASE_REPORTED;
    assert_int_equal(list(s, &f).n, 3);
#undef RESET
    cg_store_close(s);

    /* ... and SQLite reads it through the partial index on (state, handle_by), not the rows of
     * every open case (the shape of the filter's SQL in store/sqlite/cases.c). */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(cg_test_tmppath("cases_filters.db"), &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT c.id FROM cases c WHERE 1 AND "
                                        "c.state IN (SELECT value FROM json_each('[3,4]')) AND "
                                        "c.handle_by > 0 AND c.handle_by < 100 ORDER BY c.id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int uses = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        uses |= strstr((const char *)sqlite3_column_text(st, 3), "cases_state_handle") != NULL;
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(uses);
}

/* A list callback that reads from the store (nested use of the same statement). */
typedef struct {
    cg_store *s;
    int seen, inner;
} nested_ctx;

static int nested_cb(void *ctx, const cg_case *c)
{
    (void)c;
    nested_ctx *n = ctx;
    n->seen++;
    idlist l = {.n = 0};
    cg_case_filter f;
    memset(&f, 0, sizeof f);
    cg_err err = {0};
    assert_int_equal(cg_store_case_list(n->s, &f, collect, &l, &err), 0);
    n->inner += l.n;
    return 0;
}

static void test_nested_and_cache(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_nested.db");
    for (int i = 0; i < 3; i++) {
        cg_case c;
        fill(&c, "0101", "3301", 120, 30, T0 + i, "x", "");
        add(s, &c);
    }
    nested_ctx n = {s, 0, 0};
    cg_case_filter f;
    memset(&f, 0, sizeof f);
    cg_err err = {0};
    assert_int_equal(cg_store_case_list(s, &f, nested_cb, &n, &err), 0);
    assert_int_equal(n.seen, 3);
    assert_int_equal(n.inner, 9);
    /* More shapes than the cache holds still list correctly. */
    for (int k = 0; k < 80; k++) {
        memset(&f, 0, sizeof f);
        f.limit = k + 3;
        f.since = (k & 1) ? T0 : 0;
        f.until = (k & 2) ? T0 + 10 : 0;
        f.source = (k & 4) ? CG_SOURCE_WORKER : 0;
        f.reporter_id = 0;
        f.updated_since = (k & 8) ? T0 : 0;
        f.overdue_at = (k & 16) ? T0 + 100000 : 0;
        f.category = (k & 32) ? "01" : NULL;
        f.states = (k & 64) ? 1u << CG_CASE_REPORTED : 0;
        idlist l = list(s, &f);
        assert_int_equal(l.n, 3);
    }
    cg_store_close(s);
}

static int collect_events(void *ctx, const cg_case_event *e)
{
    cg_case_event *out = ctx;
    out[e->seq - 1] = *e;
    return 0;
}

static int collect_photos(void *ctx, const cg_case_photo *p)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static void test_history_photos(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_history.db");
    cg_err err = {0};
    cg_case c;
    fill(&c, "0101", "3301", 120, 30, T0, "x", "");
    add(s, &c);
    c.status.state = CG_CASE_REGISTERED;
    cg_case_event step;
    report_event(&step, T0 + 10);
    step.action = CG_ACT_REGISTER;
    step.from = CG_CASE_REPORTED;
    step.to = CG_CASE_REGISTERED;
    snprintf(step.detail, sizeof step.detail, "{\"assignee\":{\"kind\":\"grid\"}}");
    assert_int_equal(cg_store_case_update(s, &c, &step, &err), 0);
    cg_case_event note;
    report_event(&note, T0 + 20);
    snprintf(note.detail, sizeof note.detail, "{\"photo\":\"%064d\"}", 0);
    snprintf(note.note, sizeof note.note, "现场照片");
    assert_int_equal(cg_store_case_note(s, c.id, &note, &err), 0);
    assert_int_equal(note.seq, 3);
    assert_int_equal(note.is_note, 1);
    assert_int_equal(cg_store_case_note(s, 999, &note, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);

    cg_case_event *h = calloc(8, sizeof *h);
    assert_int_equal(cg_store_case_history(s, c.id, collect_events, h, &err), 0);
    assert_int_equal(h[0].action, CG_ACT_REPORT);
    assert_int_equal(h[0].is_note, 0);
    assert_string_equal(h[0].actor_name, "worker1");
    assert_int_equal(h[1].action, CG_ACT_REGISTER);
    assert_int_equal(h[1].to, CG_CASE_REGISTERED);
    assert_string_equal(h[1].detail, "{\"assignee\":{\"kind\":\"grid\"}}");
    assert_int_equal(h[2].is_note, 1);
    assert_string_equal(h[2].note, "现场照片");
    free(h);

    cg_case got;
    assert_int_equal(cg_store_case_get(s, NULL, c.id, &got, &err), 0);
    assert_int_equal(got.version, 3); /* the note moved the version */
    assert_int_equal(got.updated_at, T0 + 20);

    cg_case_photo p;
    memset(&p, 0, sizeof p);
    snprintf(p.sha256, sizeof p.sha256, "%064d", 0);
    snprintf(p.mime, sizeof p.mime, "image/jpeg");
    p.bytes = 1234;
    p.event_seq = 3;
    p.at = T0 + 20;
    assert_int_equal(cg_store_case_photo_add(s, c.id, &p, &err), 0);
    assert_int_equal(cg_store_case_photo_add(s, c.id, &p, &err), 0); /* a no-op */
    snprintf(p.sha256, sizeof p.sha256, "%064d", 1);
    assert_int_equal(cg_store_case_photo_add(s, c.id, &p, &err), 0);
    assert_int_equal(cg_store_case_photo_add(s, 999, &p, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    snprintf(p.sha256, sizeof p.sha256, "abc");
    assert_int_equal(cg_store_case_photo_add(s, c.id, &p, &err), -1);
    assert_string_equal(err.field, "sha256");
    int n = 0;
    assert_int_equal(cg_store_case_photos(s, c.id, collect_photos, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cg_store_case_get(s, NULL, c.id, &got, &err), 0);
    assert_int_equal(got.n_photos, 2);
    cg_store_close(s);
}

/* Moves a case one step with its history entry at time `at`. */
static void step_to(cg_store *s, cg_case *c, cg_case_action a, cg_case_state to, int64_t at)
{
    cg_err err = {0};
    cg_case_event ev;
    report_event(&ev, at);
    ev.action = a;
    ev.from = c->status.state;
    ev.to = to;
    c->status.state = to;
    c->updated_at = at;
    if (cg_store_case_update(s, c, &ev, &err))
        fail_msg("step: %s", err.message);
}

typedef struct {
    cg_case_stats_row rows[8];
    int n;
} stats_out;

static int collect_stats(void *ctx, const cg_case_stats_row *r)
{
    stats_out *o = ctx;
    if (o->n < 8)
        o->rows[o->n++] = *r;
    return 0;
}

static void test_stats(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_stats.db");
    cg_err err = {0};
    cg_case a, b, c, d;
    fill(&a, "0101", "330106001001", 120, 30, T0, "a", "");
    fill(&b, "0101", "330106001002", 120, 30, T0, "b", "");
    fill(&c, "0201", "330106002001", 120, 30, T0, "c", "");
    fill(&d, "0201", "330106002001", 120, 30, T0 - 86400 * 10, "old", "");
    add(s, &a);
    add(s, &b);
    add(s, &c);
    add(s, &d);
    /* a: registered, dispatched, closed on time. */
    a.deadlines.handle_by = T0 + 5000;
    step_to(s, &a, CG_ACT_REGISTER, CG_CASE_REGISTERED, T0 + 100);
    a.assignee.kind = CG_ASSIGN_DEPARTMENT;
    snprintf(a.assignee.label, sizeof a.assignee.label, "城管局");
    step_to(s, &a, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, T0 + 200);
    step_to(s, &a, CG_ACT_ACCEPT, CG_CASE_IN_PROGRESS, T0 + 300);
    step_to(s, &a, CG_ACT_HANDLE, CG_CASE_HANDLED, T0 + 400);
    a.due_at = 0;
    step_to(s, &a, CG_ACT_CLOSE, CG_CASE_VERIFIED_CLOSED, T0 + 500);
    /* b: registered, dispatched, returned, closed late. */
    b.deadlines.handle_by = T0 + 300;
    step_to(s, &b, CG_ACT_REGISTER, CG_CASE_REGISTERED, T0 + 100);
    step_to(s, &b, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, T0 + 150);
    step_to(s, &b, CG_ACT_RETURN, CG_CASE_RETURNED, T0 + 160);
    step_to(s, &b, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, T0 + 170);
    step_to(s, &b, CG_ACT_ACCEPT, CG_CASE_IN_PROGRESS, T0 + 180);
    step_to(s, &b, CG_ACT_REQUEST_EXTENSION, CG_CASE_EXTENSION_REQUESTED, T0 + 190);
    step_to(s, &b, CG_ACT_APPROVE_EXTENSION, CG_CASE_IN_PROGRESS, T0 + 195);
    step_to(s, &b, CG_ACT_HANDLE, CG_CASE_HANDLED, T0 + 400);
    b.due_at = 0;
    step_to(s, &b, CG_ACT_CLOSE, CG_CASE_VERIFIED_CLOSED, T0 + 600);
    /* c stays reported, overdue at T0 + 7200 (its register_by). d too, reported earlier. */

    cg_case_stats_query q = {.group = CG_STATS_BY_CATEGORY, .since = T0 - 10, .until = T0 + 8000};
    stats_out o = {.n = 0};
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.rows[0].key, "0101");
    assert_int_equal(o.rows[0].reported, 2);
    assert_int_equal(o.rows[0].registered, 2);
    assert_int_equal(o.rows[0].dispatched, 3);
    assert_int_equal(o.rows[0].closed, 2);
    assert_int_equal(o.rows[0].closed_on_time, 1);
    assert_int_equal(o.rows[0].returned, 1);
    assert_int_equal(o.rows[0].extended, 1);
    assert_int_equal(o.rows[0].overdue_open, 0);
    assert_string_equal(o.rows[1].key, "0201");
    assert_int_equal(o.rows[1].reported, 1); /* d was reported before the period */
    assert_int_equal(o.rows[1].overdue_open, 2);

    /* By grid cut at the street level (the 9-digit codes 330106001 and 330106002). */
    q.group = CG_STATS_BY_GRID;
    q.level = CG_LEVEL_STREET;
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 2);
    assert_int_equal((int)strlen(o.rows[0].key), cg_level_code_length(CG_LEVEL_STREET));
    assert_int_equal(o.rows[0].closed, 2);

    /* By department: a's steps after its assignment count under 城管局 (the current assignee). */
    q.group = CG_STATS_BY_DEPARTMENT;
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.rows[0].key, "");
    assert_string_equal(o.rows[1].key, "城管局");
    assert_int_equal(o.rows[1].closed, 1);
    assert_int_equal(o.rows[1].closed_on_time, 1);

    /* By day (Asia/Shanghai): T0 is 2026-09-21 22:13 local, T0 + 8000 the next day. */
    q.group = CG_STATS_BY_DAY;
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    /* d's overdue row falls on the day of its due time, 2026-09-12. */
    assert_int_equal(o.n, 3);
    assert_string_equal(o.rows[0].key, "2026-09-12");
    assert_int_equal(o.rows[0].overdue_open, 1);
    assert_string_equal(o.rows[1].key, "2026-09-21");
    assert_int_equal(o.rows[1].reported, 3);
    assert_int_equal(o.rows[1].closed, 2);
    assert_string_equal(o.rows[2].key, "2026-09-22");
    assert_int_equal(o.rows[2].overdue_open, 1); /* c, due 00:13 the next day */

    /* Scope and filters. */
    cg_scope sc;
    memset(&sc, 0, sizeof sc);
    snprintf(sc.code, sizeof sc.code, "330106002");
    q.group = CG_STATS_BY_CATEGORY;
    q.scope = &sc;
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.rows[0].key, "0201");
    q.scope = NULL;
    q.category = "0101";
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 1);
    q.category = NULL;
    q.subtree_code = "330106001002";
    o.n = 0;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.rows[0].returned, 1);
    assert_int_equal(o.rows[0].closed_on_time, 0);

    q.since = T0 + 9000;
    q.until = T0 + 8000;
    assert_int_equal(cg_store_case_stats(s, &q, collect_stats, &o, &err), -1);
    assert_string_equal(err.field, "since");
    cg_store_close(s);
}

static int collect_docs(void *ctx, const char *name, const char *json)
{
    (void)json;
    cg_buf *b = ctx;
    cg_buf_puts(b, name);
    cg_buf_putc(b, ';');
    return 0;
}

static void test_docs(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_docs.db");
    cg_err err = {0};
    int64_t g0 = cg_store_rules_generation(s);
    assert_true(g0 >= 0);
    cg_buf b;
    cg_buf_init(&b);
    assert_int_equal(cg_store_doc_get(s, "categories", &b, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_doc_put(s, "categories", "{\"version\":1}", &err), 0);
    assert_int_equal(cg_store_doc_put(s, "calendar.2026", "{\"year\":2026}", &err), 0);
    assert_int_equal(cg_store_doc_put(s, "calendar.hours", "{}", &err), 0);
    assert_int_equal(cg_store_doc_put(s, "calendar.2026", "{\"year\":2026,\"holidays\":[]}", &err),
                     0);
    assert_int_equal(cg_store_rules_generation(s), g0 + 4);
    assert_int_equal(cg_store_doc_get(s, "calendar.2026", &b, &err), 0);
    assert_string_equal(b.data, "{\"year\":2026,\"holidays\":[]}");
    cg_buf_reset(&b);
    assert_int_equal(cg_store_doc_each(s, "calendar.", collect_docs, &b, &err), 0);
    assert_string_equal(b.data, "calendar.2026;calendar.hours;");
    cg_buf_reset(&b);
    assert_int_equal(cg_store_doc_each(s, "", collect_docs, &b, &err), 0);
    assert_string_equal(b.data, "calendar.2026;calendar.hours;categories;");
    assert_int_equal(cg_store_doc_put(s, "categories", "{not json", &err), -1);
    assert_string_equal(err.field, "json");
    assert_int_equal(cg_store_rules_generation(s), g0 + 4);
    int n = 0;
    cg_audit_filter f = {.action = "doc.put"};
    assert_int_equal(cg_store_audit_list(s, &f, count_audit, &n, &err), 0);
    assert_int_equal(n, 4);
    cg_buf_free(&b);
    cg_store_close(s);
}

static void test_savepoints(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_savepoint.db");
    cg_err err = {0};
    assert_int_equal(cg_store_savepoint(s, &err), -1); /* no transaction */
    assert_int_equal(cg_store_begin(s, &err), 0);
    cg_case a, b;
    fill(&a, "0101", "3301", 120, 30, T0, "kept", "");
    fill(&b, "0101", "3301", 120, 30, T0, "undone", "");
    assert_int_equal(cg_store_savepoint(s, &err), 0);
    add(s, &a);
    assert_int_equal(cg_store_savepoint_release(s, &err), 0);
    assert_int_equal(cg_store_savepoint(s, &err), 0);
    add(s, &b);
    cg_store_savepoint_rollback(s);
    assert_int_equal(cg_store_commit(s, &err), 0);
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(s, NULL, &n, &err), 0);
    assert_int_equal(n, 1);
    cg_case got;
    assert_int_equal(cg_store_case_get(s, NULL, a.id, &got, &err), 0);
    assert_string_equal(got.description, "kept");
    cg_store_close(s);
}

/*
 * SQLite-specific: a version-2 database (made by taking a fresh one back to version 2: the case
 * tables dropped and the version row removed, exactly what a v2 civgrid left) upgrades on open
 * and keeps its data.
 */
static void test_migration_from_v2(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("cases_v2.db");
    cg_store *s = open_new("cases_v2.db");
    cg_err err = {0};
    assert_int_equal(cg_store_meta_set(s, "keep", "me", &err), 0);
    cg_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE cases; DROP TABLE cases_rtree; DROP TABLE case_events;"
                     "DROP TABLE case_photos; DROP TABLE idempotency;"
                     "DROP TABLE case_fts; DROP TABLE docs; DROP TABLE case_near;"
                     "DELETE FROM counters WHERE name = 'rules_generation';"
                     "DELETE FROM schema_version WHERE version >= 3;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    /* Read-only, the old schema is refused and left alone. */
    assert_int_equal(cg_store_open(path, CG_STORE_READONLY, &s, &err), -1);
    assert_int_equal(err.code, CG_ESCHEMA);

    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
    char buf[16];
    assert_int_equal(cg_store_meta_get(s, "keep", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "me");
    cg_case c;
    fill(&c, "0101", "3301", 120, 30, T0, "after the upgrade", "");
    add(s, &c);
    assert_int_equal(c.id, 1);
    assert_true(cg_store_rules_generation(s) >= 0);
    cg_store_close(s);
}

/* ---- the duplicate search's R*Tree (cg_store_case_near) against the list and a full scan ---- */

#define NEAR_N 1200

typedef struct {
    int64_t id;
    char category[CG_CAT_CODE_MAX];
    char grid[CG_CODE_MAX];
    double lon, lat;
    int has_point;
    int64_t at;
    cg_case_state state;
} near_model;

typedef struct {
    int64_t ids[NEAR_N];
    double lon[NEAR_N], lat[NEAR_N];
    int n;
} near_hits;

static int near_collect(void *ctx, int64_t id, double lon, double lat)
{
    near_hits *h = ctx;
    if (h->n < NEAR_N) {
        h->ids[h->n] = id;
        h->lon[h->n] = lon;
        h->lat[h->n] = lat;
        h->n++;
    }
    return 0;
}

static int list_collect(void *ctx, const cg_case *c)
{
    return near_collect(ctx, c->id, c->lon, c->lat);
}

/* Newest first, then the higher id (CG_CASE_ORDER_NEWEST). */
static int newest_first(const void *a, const void *b)
{
    const near_model *x = *(const near_model *const *)a, *y = *(const near_model *const *)b;
    if (x->at != y->at)
        return x->at < y->at ? 1 : -1;
    return (x->id < y->id) - (x->id > y->id);
}

static uint64_t near_rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    near_rng ^= near_rng << 13;
    near_rng ^= near_rng >> 7;
    near_rng ^= near_rng << 17;
    return near_rng;
}
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_rand() >> 11) / 9007199254740992.0;
}
#define PICK(a) ((a)[next_rand() % (sizeof(a) / sizeof((a)[0]))])

/*
 * Random cases (categories of every length, odd codes included; moved, recategorised and
 * closed after the insert; some without a point; grids inside and outside a scope) and random
 * searches: cg_store_case_near must give exactly what cg_store_case_list gives with the same
 * filters (what the duplicate search used before), and what a full scan of the model gives.
 */
static void test_near_random(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_near.db");
    cg_err err = {0};
    static near_model m[NEAR_N];
    static const char *const cats[] = {"01",     "0101", "0101", "0102", "010101", "010102",
                                       "0201",   "0202", "02",   "0A",   "01x",    "0101!",
                                       "010199", "0103", "0104", "0301"};
    static const char *const grids[] = {"330106001001", "330106001002", "330106002001", ""};
    const double x0 = 120.0, y0 = 30.0, w = 0.003; /* ~300 m */
    const int64_t span = 4 * 86400;
    assert_int_equal(cg_store_begin(s, &err), 0);
    for (int i = 0; i < NEAR_N; i++) {
        cg_case c;
        fill(&c, PICK(cats), PICK(grids), uniform(x0, x0 + w), uniform(y0, y0 + w),
             T0 + (int64_t)(next_rand() % span), "near", "");
        /* a few share a report time and place exactly (ties in the order) */
        if (i > 0 && next_rand() % 10 == 0) {
            c.reported_at = m[i - 1].at;
            c.updated_at = c.reported_at;
            c.lon = m[i - 1].lon;
            c.lat = m[i - 1].lat;
        }
        c.has_point = next_rand() % 20 != 0;
        if (!c.has_point)
            c.lon = c.lat = 0;
        add(s, &c);
        /* Moved, recategorised, closed: the R*Tree follows the row. */
        int change = (int)(next_rand() % 6);
        if (change == 1) {
            c.lon = uniform(x0, x0 + w);
            c.lat = uniform(y0, y0 + w);
            c.has_point = 1;
        } else if (change == 2) {
            snprintf(c.category, sizeof c.category, "%s", PICK(cats));
        } else if (change == 3) {
            c.status.state = (cg_case_state)(1 + next_rand() % (CG_CASE_STATE_COUNT - 1));
        } else if (change == 4) {
            c.has_point = 0;
        }
        if (change >= 1 && change <= 4) {
            c.updated_at = c.reported_at + 10;
            assert_int_equal(cg_store_case_update(s, &c, NULL, &err), 0);
        }
        m[i] = (near_model){.id = c.id,
                            .lon = c.lon,
                            .lat = c.lat,
                            .has_point = c.has_point,
                            .at = c.reported_at,
                            .state = c.status.state};
        snprintf(m[i].category, sizeof m[i].category, "%s", c.category);
        snprintf(m[i].grid, sizeof m[i].grid, "%s", c.grid_code);
    }
    assert_int_equal(cg_store_commit(s, &err), 0);

    static const char *const prefixes[] = {"01", "0101", "0101",  "010101", "0102", "02",   "0",
                                           "0A", "01x",  "0101!", "",       "0301", "0103", "0104"};
    static const char *const scopes[] = {"", "", "330106001", "330106002001", "3301060010"};
    uint32_t open = 0;
    for (int st = CG_CASE_REPORTED; st < CG_CASE_STATE_COUNT; st++)
        if (!cg_case_state_final((cg_case_state)st) && !cg_case_state_closed((cg_case_state)st))
            open |= 1u << st;
    static near_hits got, want;
    static const near_model *scan[NEAR_N];
    long total_hits = 0;
    for (int q = 0; q < 400; q++) {
        double lon = uniform(x0, x0 + w), lat = uniform(y0, y0 + w);
        if (q % 7 == 0) { /* right on a case */
            const near_model *k = &m[next_rand() % NEAR_N];
            lon = k->lon;
            lat = k->lat;
        }
        double r = q % 3 == 0 ? 0.0002 : 0.0006;
        int64_t at = T0 + (int64_t)(next_rand() % (span + 86400));
        cg_scope sc;
        memset(&sc, 0, sizeof sc);
        snprintf(sc.code, sizeof sc.code, "%s", PICK(scopes));
        cg_case_near_query nq = {.states = q % 5 == 0 ? (uint32_t)(next_rand() & 0x7ffe) : open,
                                 .category = PICK(prefixes),
                                 .since = at - 86400,
                                 .until = at + 1,
                                 .bbox = {lon - r, lat - r, lon + r, lat + r},
                                 .limit = q % 4 == 0 ? 3 : 256,
                                 .scope = sc.code[0] ? &sc : NULL};
        got.n = want.n = 0;
        if (cg_store_case_near(s, &nq, near_collect, &got, &err))
            fail_msg("near: %s", err.message);
        cg_case_filter f = {.states = nq.states,
                            .category = nq.category,
                            .since = nq.since,
                            .until = nq.until,
                            .bbox = &nq.bbox,
                            .order = CG_CASE_ORDER_NEWEST,
                            .limit = nq.limit,
                            .scope = nq.scope};
        if (cg_store_case_list(s, &f, list_collect, &want, &err))
            fail_msg("list: %s", err.message);
        assert_int_equal(got.n, want.n);
        for (int i = 0; i < got.n; i++) {
            assert_int_equal(got.ids[i], want.ids[i]);
            assert_true(got.lon[i] == want.lon[i] && got.lat[i] == want.lat[i]);
        }
        /* The full scan. */
        int n = 0;
        size_t plen = strlen(nq.category);
        size_t slen = strlen(sc.code);
        for (int i = 0; i < NEAR_N; i++) {
            const near_model *k = &m[i];
            if (!k->has_point || !(nq.states >> k->state & 1) || k->at < nq.since ||
                k->at >= nq.until || strncmp(k->category, nq.category, plen) != 0 ||
                k->lon < nq.bbox.min_x || k->lon > nq.bbox.max_x || k->lat < nq.bbox.min_y ||
                k->lat > nq.bbox.max_y || (slen && strncmp(k->grid, sc.code, slen) != 0) ||
                (slen && !k->grid[0]))
                continue;
            scan[n++] = k;
        }
        qsort(scan, (size_t)n, sizeof scan[0], newest_first);
        if (n > nq.limit)
            n = nq.limit;
        assert_int_equal(got.n, n);
        for (int i = 0; i < n; i++)
            assert_int_equal(got.ids[i], scan[i]->id);
        total_hits += n;
    }
    /* The searches found something (the comparison is not between empty lists). */
    assert_true(total_hits > 400);
    cg_store_close(s);
}

/* Near a pole the box spans too many cells: the same answer through the list. Cells at the
 * edges of the world. */
static void test_near_edges(void **state)
{
    (void)state;
    cg_store *s = open_new("cases_near_edges.db");
    cg_err err = {0};
    cg_case a, b, c;
    fill(&a, "0101", "", 10.0, 89.9999, T0, "pole", "");
    fill(&b, "0101", "", 180.0, -90.0, T0, "corner", "");
    fill(&c, "0101", "", -180.0, 0.0, T0, "west", "");
    add(s, &a);
    add(s, &b);
    add(s, &c);
    static near_hits h;
    cg_case_near_query q = {.category = "0101",
                            .since = T0 - 10,
                            .until = T0 + 10,
                            .bbox = {-170, 89.999, 170, 90},
                            .limit = 10};
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.ids[0], a.id);
    q.bbox = (cg_bbox){179.9995, -90.0005, 180.0005, -89.9995};
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.ids[0], b.id);
    q.bbox = (cg_bbox){-180.0005, -0.0005, -179.9995, 0.0005};
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.ids[0], c.id);
    q.limit = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), -1);
    assert_string_equal(err.field, "limit");
    cg_store_close(s);
}

/*
 * SQLite-specific: a version-3 database (without case_near, made by taking a fresh one back)
 * upgrades on open: every case with a point is indexed, and the duplicate search finds them.
 */
static void test_migration_from_v3(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("cases_v3.db");
    cg_store *s = open_new("cases_v3.db");
    cg_err err = {0};
    cg_case a, b, c;
    fill(&a, "0101", "330106001001", 120.0001, 30.0001, T0, "a", "");
    fill(&b, "0102", "330106001001", 120.0002, 30.0002, T0 + 10, "b", "");
    fill(&c, "0101", "330106001001", 0, 0, T0 + 20, "no point", "");
    c.has_point = 0;
    add(s, &a);
    add(s, &b);
    add(s, &c);
    cg_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE case_near; DROP INDEX cases_state_handle;"
                                  "DROP INDEX case_photos_sha;"
                                  "ALTER TABLE cases DROP COLUMN suspended_at;"
                                  "ALTER TABLE cases DROP COLUMN suspended_s;"
                                  "DELETE FROM schema_version WHERE version >= 4;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
    cg_case_near_query q = {.category = "01",
                            .since = T0 - 100,
                            .until = T0 + 100,
                            .bbox = {119.9999, 29.9999, 120.0004, 30.0004},
                            .limit = 256};
    static near_hits h;
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.ids[0], b.id);
    assert_int_equal(h.ids[1], a.id);
    q.category = "0101";
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.ids[0], a.id);
    /* New cases are indexed as they are written. */
    cg_case d;
    fill(&d, "0101", "330106001001", 120.0003, 30.0003, T0 + 30, "d", "");
    add(s, &d);
    h.n = 0;
    assert_int_equal(cg_store_case_near(s, &q, near_collect, &h, &err), 0);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.ids[0], d.id);
    cg_store_close(s);
    /* The migration's cells (SQL) are the writer's (C). */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT d.cell, c.lon, c.lat FROM case_near d "
                                        "JOIN cases c ON c.id = d.id ORDER BY d.id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_int_equal(
            sqlite3_column_int64(st, 0),
            sq_case_near_cell(sqlite3_column_double(st, 1), sqlite3_column_double(st, 2)));
        rows++;
    }
    assert_int_equal(rows, 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Schema 6 keeps the suspension clock on the row (written and read back with the case); a
 * version-5 database upgrades on open: the cases suspended then get the time of their last
 * suspend step, the others 0, and the photo index exists. */
static void test_migration_from_v5(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("cases_v5.db");
    cg_store *s = open_new("cases_v5.db");
    cg_err err = {0};
    cg_case a, b;
    fill(&a, "0101", "330106001001", 120.0001, 30.0001, T0, "a", "");
    fill(&b, "0101", "330106001001", 120.0002, 30.0002, T0 + 10, "b", "");
    add(s, &a);
    add(s, &b);
    step_to(s, &a, CG_ACT_REGISTER, CG_CASE_REGISTERED, T0 + 50);
    step_to(s, &a, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, T0 + 60);
    step_to(s, &a, CG_ACT_SUSPEND, CG_CASE_SUSPENDED, T0 + 100);
    step_to(s, &a, CG_ACT_RESUME, CG_CASE_DISPATCHED, T0 + 200);
    a.suspended_at = T0 + 300;
    a.suspended_s = 1234;
    step_to(s, &a, CG_ACT_SUSPEND, CG_CASE_SUSPENDED, T0 + 300);
    step_to(s, &b, CG_ACT_REGISTER, CG_CASE_REGISTERED, T0 + 50);
    cg_case got;
    assert_int_equal(cg_store_case_get(s, NULL, a.id, &got, &err), 0);
    assert_int_equal(got.suspended_at, T0 + 300);
    assert_int_equal(got.suspended_s, 1234);
    /* The store refuses a negative time. */
    got.suspended_s = -1;
    assert_int_equal(cg_store_case_update(s, &got, NULL, &err), -1);
    assert_string_equal(err.field, "suspended_s");
    cg_store_close(s);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX case_photos_sha;"
                                  "ALTER TABLE cases DROP COLUMN suspended_at;"
                                  "ALTER TABLE cases DROP COLUMN suspended_s;"
                                  "DELETE FROM schema_version WHERE version >= 6;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
    assert_int_equal(cg_store_case_get(s, NULL, a.id, &got, &err), 0);
    assert_int_equal(got.status.state, CG_CASE_SUSPENDED);
    assert_int_equal(got.suspended_at, T0 + 300); /* the last suspend step, not the first */
    assert_int_equal(got.suspended_s, 0);
    assert_int_equal(cg_store_case_get(s, NULL, b.id, &got, &err), 0);
    assert_int_equal(got.suspended_at, 0);
    assert_int_equal(got.suspended_s, 0);
    cg_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                        "AND name = 'case_photos_sha'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    /* The store's count of a photo's cases seeks that index. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT count(*) FROM case_photos "
                                        "WHERE sha256 = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int uses = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        uses |= strstr((const char *)sqlite3_column_text(st, 3), "case_photos_sha") != NULL;
    sqlite3_finalize(st);
    assert_true(uses);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_get_update),
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_audit_entries),
        cmocka_unit_test(test_idempotency),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_nested_and_cache),
        cmocka_unit_test(test_history_photos),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_docs),
        cmocka_unit_test(test_savepoints),
        cmocka_unit_test(test_migration_from_v2),
        cmocka_unit_test(test_near_random),
        cmocka_unit_test(test_near_edges),
        cmocka_unit_test(test_migration_from_v3),
        cmocka_unit_test(test_migration_from_v5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
