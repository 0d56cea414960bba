/*
 * Tests of the in-memory case listing index (app/case_index.h) against the SQL path it stands in
 * for: on a real database file, after rounds of random writes made through the index's own
 * connection, through a second connection and by a separate process (fork), random filters
 * (grid subtree, no-grid queue, scope, states, report-time window, limit, offset) listed at random
 * times must give the same total as cg_store_case_count and the same page, byte for byte, as
 * cg_store_case_list's cases written with cg_case_json: every field of every case, overdue and
 * remaining time included. Also: a grid code stored after its cases, a restore (another
 * history), a renamed category (rules of another generation) and the filters the index leaves to
 * SQL. Each runs without rows kept in memory, with room for them all, and with a bound so small
 * that they are let go again and again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <jansson.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/case_index.h"
#include "core/datetime.h"
#include "store/store.h"
#include "testutil.h"

#define T0      1790000000
#define MAX_IDS 4096

/* Grid codes of the test district: street 001 with communities 001 and 002, street 002 with
 * community 001; grids under each. UNKNOWN is a code no grid has (yet). */
static const char *const grid_codes[] = {
    "330199001001001", "330199001001002", "330199001001003", "330199001002001",
    "330199001002002", "330199002001001", "330199002001002", "330199002001003",
};
#define N_GRIDS (sizeof grid_codes / sizeof grid_codes[0])
#define UNKNOWN "330199001009001"

static const char *const subtrees[] = {
    "330199",          "330199001",  "330199002",    "330199001001", "330199001002", "330199002001",
    "330199001001002", "3301990010", "330199001009", UNKNOWN,        "330199003",    "4",
};
#define N_SUBTREES (sizeof subtrees / sizeof subtrees[0])

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int pick(int n)
{
    return (int)(next_rand() % (uint64_t)n);
}

static void put_grid(cg_store *s, const char *code)
{
    size_t len = strlen(code);
    char parent[CG_CODE_MAX] = "";
    if (len > 6)
        snprintf(parent, sizeof parent, "%.*s", (int)len - 3, code);
    cg_err err = {0};
    cg_grid g;
    cg_grid_init(&g);
    if (cg_store_grid_get(s, code, 0, 0, &g, &err) == 0) {
        cg_grid_free(&g);
        return;
    }
    cg_grid_free(&g);
    if (parent[0])
        put_grid(s, parent);
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

static const char *random_code(void)
{
    int r = pick(20);
    if (r == 0)
        return "";
    if (r == 1)
        return UNKNOWN;
    return grid_codes[pick((int)N_GRIDS)];
}

/* A new case; report times repeat often, so ties are ordered by id. */
static int64_t insert_case(cg_store *s)
{
    cg_case c;
    memset(&c, 0, sizeof c);
    c.source = CG_SOURCE_WORKER;
    snprintf(c.category, sizeof c.category, "0101");
    snprintf(c.description, sizeof c.description, "case %d", pick(1000));
    snprintf(c.grid_code, sizeof c.grid_code, "%s", random_code());
    c.has_point = 1;
    c.lon = 120;
    c.lat = 30;
    c.status.state = CG_CASE_REPORTED;
    c.reported_at = T0 - 3600 * (int64_t)pick(24 * 60);
    c.updated_at = c.reported_at;
    cg_case_event ev;
    memset(&ev, 0, sizeof ev);
    ev.action = CG_ACT_REPORT;
    ev.from = CG_CASE_NONE;
    ev.to = CG_CASE_REPORTED;
    ev.at = c.reported_at;
    snprintf(ev.actor_name, sizeof ev.actor_name, "test");
    snprintf(ev.detail, sizeof ev.detail, "{}");
    int64_t existing;
    cg_err err = {0};
    if (cg_store_case_insert(s, &c, &ev, NULL, NULL, &existing, &err))
        fail_msg("insert: %s", err.message);
    return c.id;
}

/* Moves a case to another state and often to another grid; sometimes only a note. */
static void change_case(cg_store *s, int64_t id)
{
    cg_err err = {0};
    cg_case c;
    if (cg_store_case_get(s, NULL, id, &c, &err))
        fail_msg("get %lld: %s", (long long)id, err.message);
    cg_case_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.actor_name, sizeof ev.actor_name, "test");
    snprintf(ev.detail, sizeof ev.detail, "{}");
    ev.at = T0;
    if (pick(5) == 0) {
        if (cg_store_case_note(s, id, &ev, &err))
            fail_msg("note: %s", err.message);
        return;
    }
    ev.action = CG_ACT_REGISTER;
    ev.from = c.status.state;
    c.status.state = (cg_case_state)(1 + pick(CG_CASE_STATE_COUNT - 1));
    ev.to = c.status.state;
    if (pick(3) == 0)
        snprintf(c.grid_code, sizeof c.grid_code, "%s", random_code());
    /* Fields no list filters on change too: a kept row must follow them. */
    c.priority = pick(3);
    if (pick(2)) {
        c.assignee.kind = CG_ASSIGN_GRID;
        snprintf(c.assignee.label, sizeof c.assignee.label, "第%d网格", pick(100));
    }
    c.due_at = pick(2) ? T0 + 3600 * (int64_t)pick(100) : 0;
    c.updated_at = T0;
    if (cg_store_case_update(s, &c, &ev, &err))
        fail_msg("update: %s", err.message);
}

static void random_writes(cg_store *s, int n)
{
    cg_err err = {0};
    cg_case_mark m;
    if (cg_store_case_mark(s, &m, &err))
        fail_msg("mark: %s", err.message);
    /* Many writes in one transaction (each its own commit would cost an fsync). */
    int batch = n > 40;
    if (batch && cg_store_begin(s, &err))
        fail_msg("begin: %s", err.message);
    for (int i = 0; i < n; i++) {
        if (m.max_id == 0 || pick(2) == 0)
            m.max_id = insert_case(s);
        else
            change_case(s, 1 + pick((int)m.max_id));
    }
    if (batch && cg_store_commit(s, &err))
        fail_msg("commit: %s", err.message);
}

/* The writes of another process: a child opens its own store, writes and exits. */
/* The writer program: this test run again with --writer PATH N SEED (main below). It is a new
 * program, not a fork: nothing of the test's memory comes with it (under valgrind a forked
 * child's exit counted the parent's blocks as its own leaks). */
static int writer_main(const char *path, int n, uint64_t seed)
{
    rng ^= seed;
    cg_store *s = NULL;
    cg_err err = {0};
    if (cg_store_open(path, 0, &s, &err))
        return 3;
    random_writes(s, n);
    cg_store_close(s);
    return 0;
}

static char self[4096]; /* this program's path (argv[0]; /proc/self/exe is valgrind's own) */

static void writes_by_other_process(const char *path, int n, uint64_t seed)
{
    char n_arg[16], seed_arg[32];
    snprintf(n_arg, sizeof n_arg, "%d", n);
    snprintf(seed_arg, sizeof seed_arg, "%llu", (unsigned long long)seed);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork");
    if (pid == 0) {
        execl(self, "test_case_index", "--writer", path, n_arg, seed_arg, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The bound on the rows kept for the index under test (cg_case_index_set_row_limit). */
static int64_t row_limit;

/* A database file and its log and shared-memory files gone (a test that failed before may have
 * left them, and a connection of its still open). */
static void remove_db(const char *path)
{
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static cg_case_index *build(cg_store *s)
{
    cg_case_index *ix = NULL;
    cg_err err = {0};
    if (cg_case_index_build(s, &ix, &err))
        fail_msg("build: %s", err.message);
    cg_case_index_set_row_limit(ix, row_limit);
    return ix;
}

/* The rules the lists are written with (the store's, loaded per test) and the time of a list. */
static cg_case_rules *rules;
static int64_t list_now = T0;

static void load_rules(cg_store *s)
{
    cg_err err = {0};
    cg_case_rules_free(rules);
    rules = NULL;
    if (cg_case_rules_load(s, &rules, &err))
        fail_msg("rules: %s", err.message);
}

/* A page: its ids, and its cases written as the staff list writes them. */
typedef struct {
    int64_t ids[MAX_IDS];
    int n;
    cg_buf json;
} listing;

static int collect(void *arg, const cg_case *c)
{
    listing *l = arg;
    assert_true(l->n < MAX_IDS);
    l->ids[l->n] = c->id;
    if (l->n++)
        cg_buf_putc(&l->json, ',');
    cg_case_json(c, rules, list_now, &l->json);
    return 0;
}

static listing by_sql, by_index;

static void listing_reset(listing *l)
{
    l->n = 0;
    if (!l->json.data)
        cg_buf_init(&l->json);
    cg_buf_reset(&l->json);
}

/* Lists f through the index into by_index; returns cg_case_index_list's result. */
static int index_list(cg_case_index *ix, cg_store *s, const cg_case_filter *f, int64_t *total,
                      cg_err *err)
{
    listing_reset(&by_index);
    size_t n = 0;
    int rc = cg_case_index_list(ix, s, f, rules, list_now, &by_index.json, &n, total, err);
    by_index.n = (int)n;
    return rc;
}

/* The first difference of two pages, for a failure message. */
static void first_difference(const cg_buf *a, const cg_buf *b, char *out, size_t cap)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->data[i] == b->data[i])
        i++;
    size_t from = i > 60 ? i - 60 : 0;
    snprintf(out, cap, "at byte %zu: sql ...%.120s... index ...%.120s...", i, a->data + from,
             b->data + from);
}

static void describe(const cg_case_filter *f, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "subtree=%s no_grid=%d scope=%s states=%#x since=%lld until=%lld limit=%d "
             "offset=%d",
             f->subtree_code ? f->subtree_code : "(null)", f->no_grid,
             f->scope ? f->scope->code : "(null)", f->states, (long long)f->since,
             (long long)f->until, f->limit, f->offset);
}

/* Lists f both ways on s, at a random time (cases overdue and not), and compares the totals and
 * the pages byte for byte. Returns the total. */
static int64_t compare(cg_case_index *ix, cg_store *s, const cg_case_filter *f)
{
    cg_err err = {0};
    char what[256];
    describe(f, what, sizeof what);
    list_now = T0 - 3600 * (int64_t)pick(24 * 30) + 3600 * (int64_t)pick(24 * 5);
    int64_t sql_total = -1, ix_total = -2;
    listing_reset(&by_sql);
    if (cg_store_case_count(s, f, &sql_total, &err) ||
        cg_store_case_list(s, f, collect, &by_sql, &err))
        fail_msg("sql (%s): %s", what, err.message);
    int rc = index_list(ix, s, f, &ix_total, &err);
    if (rc != 0)
        fail_msg("index (%s): rc %d %s", what, rc, err.message);
    if (sql_total != ix_total)
        fail_msg("total (%s): sql %lld, index %lld", what, (long long)sql_total,
                 (long long)ix_total);
    if (by_sql.n != by_index.n)
        fail_msg("page (%s): sql %d cases, index %d", what, by_sql.n, by_index.n);
    if (by_sql.json.len != by_index.json.len ||
        (by_sql.json.len && memcmp(by_sql.json.data, by_index.json.data, by_sql.json.len) != 0)) {
        char diff[512];
        first_difference(&by_sql.json, &by_index.json, diff, sizeof diff);
        fail_msg("page (%s) differs %s", what, diff);
    }
    return sql_total;
}

static cg_scope scopes[4];

static void random_filter(cg_case_filter *f)
{
    memset(f, 0, sizeof *f);
    int r = pick(6);
    if (r < 3)
        f->subtree_code = subtrees[pick((int)N_SUBTREES)];
    else if (r == 3)
        f->subtree_code = "";
    else if (r == 4)
        f->no_grid = 1;
    if (pick(3) == 0)
        f->scope = &scopes[pick(4)];
    r = pick(4);
    if (r == 1)
        f->states = 1u << (1 + pick(CG_CASE_STATE_COUNT - 1));
    else if (r >= 2)
        f->states = (uint32_t)next_rand() & ((1u << CG_CASE_STATE_COUNT) - 1);
    if (pick(2))
        f->since = T0 - 3600 * (int64_t)pick(24 * 70);
    if (pick(2))
        f->until = (f->since ? f->since : T0 - 60 * 86400) + 3600 * (int64_t)(1 + pick(24 * 40));
    if (pick(10) == 0)
        f->until = T0 + 1; /* everything so far */
    f->limit = pick(4) == 0 ? 1 + pick(5) : 1 + pick(100);
    r = pick(5);
    f->offset = r < 2 ? 0 : r < 4 ? pick(150) : 500 + pick(1500);
}

static void run_filters(cg_case_index *ix, cg_store *s, int n)
{
    int64_t nonempty = 0;
    for (int i = 0; i < n; i++) {
        cg_case_filter f;
        random_filter(&f);
        if (compare(ix, s, &f) > 0)
            nonempty++;
    }
    /* The filters must find something, or the comparison proves little. */
    assert_true(nonempty > n / 4);
}

static void test_random_writes_and_filters(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("index.db");
    remove_db(path);
    cg_store *a = NULL, *b = NULL;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &a, &err) || cg_store_open(path, 0, &b, &err))
        fail_msg("open: %s", err.message);
    for (size_t i = 0; i < N_GRIDS; i++)
        put_grid(a, grid_codes[i]);
    load_rules(a);
    snprintf(scopes[0].code, sizeof scopes[0].code, "330199");
    snprintf(scopes[1].code, sizeof scopes[1].code, "330199001");
    snprintf(scopes[2].code, sizeof scopes[2].code, "330199001002");
    snprintf(scopes[3].code, sizeof scopes[3].code, "330199002");

    /* An empty database first, then a first batch before the build. */
    cg_case_index *ix = build(a);
    cg_case_filter all = {.limit = 10};
    assert_int_equal(compare(ix, a, &all), 0);
    cg_case_index_free(ix);
    random_writes(a, 2400);
    ix = build(a);
    cg_case_index_stats st;
    cg_case_index_stats_get(ix, &st);
    assert_true(st.serving);
    assert_true(st.cases > 900);
    run_filters(ix, a, 200);

    for (int round = 0; round < 24; round++) {
        switch (round % 4) {
        case 0:
            random_writes(a, 1 + pick(60)); /* this connection */
            break;
        case 1:
            random_writes(b, 1 + pick(60)); /* another connection */
            break;
        case 2:
            writes_by_other_process(path, 1 + pick(60), (uint64_t)round * 7919);
            break;
        default:
            /* Writes between two lists of the same page. */
            for (int i = 0; i < 20; i++) {
                cg_case_filter f;
                random_filter(&f);
                compare(ix, a, &f);
                random_writes(i % 2 ? a : b, 1 + pick(5));
                compare(ix, a, &f);
            }
            break;
        }
        run_filters(ix, a, 60);
    }

    /* The grid of UNKNOWN is stored after its cases: its subtree lists them from then on. */
    cg_case_filter unknown = {.subtree_code = "330199001", .limit = 100};
    int64_t before = compare(ix, a, &unknown);
    put_grid(b, UNKNOWN);
    int64_t after = compare(ix, a, &unknown);
    assert_true(after > before);
    run_filters(ix, a, 100);

    /* Pagination: the pages of a filter, put together, are its whole list in order. */
    cg_case_filter page = {.subtree_code = "330199001", .limit = 37};
    int64_t total = compare(ix, a, &page);
    assert_true(total > 200);
    static listing whole;
    listing_reset(&whole);
    cg_case_filter every = {.subtree_code = "330199001"};
    if (cg_store_case_list(a, &every, collect, &whole, &err))
        fail_msg("list: %s", err.message);
    assert_int_equal(whole.n, total);
    for (page.offset = 0; page.offset < total + 40; page.offset += 37) {
        compare(ix, a, &page); /* the index's page is SQL's, byte for byte */
        for (int i = 0; i < by_sql.n; i++)
            assert_int_equal(by_sql.ids[i], whole.ids[page.offset + i]);
        assert_int_equal(by_index.n, page.offset >= total       ? 0
                                     : total - page.offset < 37 ? total - page.offset
                                                                : 37);
    }
    cg_buf_free(&whole.json);
    cg_case_index_free(ix);
    cg_store_close(b);
    cg_store_close(a);
}

static void test_restore(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("restore.db");
    const char *saved = cg_test_tmppath("restore.bak");
    remove_db(path);
    remove_db(saved);
    cg_store *a = NULL;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &a, &err))
        fail_msg("open: %s", err.message);
    for (size_t i = 0; i < N_GRIDS; i++)
        put_grid(a, grid_codes[i]);
    load_rules(a);
    random_writes(a, 400);
    if (cg_store_backup(a, saved, NULL, NULL, &err))
        fail_msg("backup: %s", err.message);
    random_writes(a, 300);
    cg_case_index *ix = build(a);
    run_filters(ix, a, 50);
    cg_case_index_stats st;
    cg_case_index_stats_get(ix, &st);
    assert_int_equal(st.rebuilds, 1);
    /* Back to the older file while the index's connection stays open, then as many writes as
     * before: the audit log is as long as the one the index followed, but another history. */
    if (cg_store_restore(saved, path, &err))
        fail_msg("restore: %s", err.message);
    random_writes(a, 300);
    run_filters(ix, a, 50);
    cg_case_index_stats_get(ix, &st);
    assert_int_equal(st.rebuilds, 2);
    /* Back again: the database is now older than the index. */
    if (cg_store_restore(saved, path, &err))
        fail_msg("restore: %s", err.message);
    run_filters(ix, a, 50);
    cg_case_index_stats_get(ix, &st);
    assert_int_equal(st.rebuilds, 3);
    random_writes(a, 100);
    run_filters(ix, a, 50);
    cg_case_index_free(ix);
    cg_store_close(a);
}

/* ---- lists on several threads while another connection writes ---- */

typedef struct {
    const char *path;
    cg_case_index *ix;
    int seed;
    atomic_int *stop;
    int lists, failures;
    char failure[CG_ERR_MESSAGE_MAX + 128];
} reader;

/* Every case of an index-served page must match the filter as read in the same transaction, and
 * come newest first: a stale entry, or a kept row of an older version, would show up as a case
 * that does not. The page is read back as JSON. Returns 0, or what is wrong. */
static int check_page(const cg_case_filter *f, const cg_buf *page, size_t n)
{
    char *text = malloc(page->len + 3);
    if (!text)
        return 9;
    text[0] = '[';
    if (page->len)
        memcpy(text + 1, page->data, page->len);
    memcpy(text + 1 + page->len, "]", 2);
    json_t *cases = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_array(cases) || json_array_size(cases) != n) {
        json_decref(cases);
        return 8;
    }
    char since[CG_ISO_LOCAL_LEN + 1] = "", until[CG_ISO_LOCAL_LEN + 1] = "";
    if (f->since)
        cg_time_iso_local(f->since, since);
    if (f->until)
        cg_time_iso_local(f->until, until);
    int bad = 0;
    const char *last_at = NULL;
    json_int_t last_id = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        json_t *c = json_array_get(cases, i);
        const char *state = json_string_value(json_object_get(c, "state"));
        const char *grid = json_string_value(json_object_get(c, "grid"));
        const char *at = json_string_value(json_object_get(c, "reported_at"));
        json_int_t id = json_integer_value(json_object_get(c, "id"));
        cg_case_state st;
        if (!state || !at || id <= 0 || cg_case_state_parse(state, &st) != 0)
            bad = 7;
        else if (f->states && !(f->states & (1u << st)))
            bad = 1;
        else if (f->subtree_code && *f->subtree_code &&
                 (!grid || strncmp(grid, f->subtree_code, strlen(f->subtree_code)) != 0))
            bad = 2;
        else if (f->no_grid && (!f->subtree_code || !*f->subtree_code) && grid)
            bad = 3;
        /* ISO times of one offset compare as strings. */
        else if ((since[0] && strcmp(at, since) < 0) || (until[0] && strcmp(at, until) >= 0))
            bad = 4;
        else if (last_at &&
                 (strcmp(at, last_at) > 0 || (strcmp(at, last_at) == 0 && id >= last_id)))
            bad = 5;
        last_at = at;
        last_id = id;
    }
    json_decref(cases);
    return bad;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    cg_store *s = NULL;
    cg_err err = {0};
    if (cg_store_open(r->path, 0, &s, &err)) {
        snprintf(r->failure, sizeof r->failure, "open: %s", err.message);
        r->failures++;
        return NULL;
    }
    cg_buf page;
    cg_buf_init(&page);
    uint64_t state = 0x2545F4914F6CDD1Dull * (uint64_t)(r->seed + 1);
    while (!atomic_load(r->stop) || r->lists < 50) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        cg_case_filter f = {.limit = 1 + (int)(state % 60)};
        if (state & 0x100)
            f.subtree_code = subtrees[(state >> 9) % N_SUBTREES];
        if (state & 0x10000)
            f.states = 1u << (1 + (state >> 17) % (CG_CASE_STATE_COUNT - 1));
        if (state & 0x1000000)
            f.since = T0 - 3600 * (int64_t)((state >> 25) % (24 * 60));
        int64_t total = -1;
        size_t n = 0;
        cg_buf_reset(&page);
        int rc = cg_case_index_list(r->ix, s, &f, rules, T0, &page, &n, &total, &err);
        int bad = rc == 0 ? check_page(&f, &page, n) : 0;
        r->lists++;
        if (rc != 0 || bad || total < (int64_t)n) {
            r->failures++;
            snprintf(r->failure, sizeof r->failure, "rc %d bad %d total %lld rows %zu: %s", rc, bad,
                     (long long)total, n, err.message);
        }
    }
    cg_buf_free(&page);
    cg_store_close(s);
    return NULL;
}

static void test_concurrent_lists_and_writes(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("concurrent.db");
    remove_db(path);
    cg_store *a = NULL, *w = NULL;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &a, &err) || cg_store_open(path, 0, &w, &err))
        fail_msg("open: %s", err.message);
    for (size_t i = 0; i < N_GRIDS; i++)
        put_grid(a, grid_codes[i]);
    load_rules(a);
    random_writes(a, 600);
    cg_case_index *ix = build(a);
    atomic_int stop = 0;
    reader readers[3];
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) {
        readers[i] = (reader){.path = path, .ix = ix, .seed = i, .stop = &stop};
        assert_int_equal(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
    }
    /* Writes in small transactions while the readers list. */
    for (int i = 0; i < 60; i++)
        random_writes(w, 1 + pick(8));
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        if (readers[i].failures)
            fail_msg("reader %d: %d of %d lists wrong, e.g. %s", i, readers[i].failures,
                     readers[i].lists, readers[i].failure);
    }
    /* Then every filter agrees with SQL exactly. */
    run_filters(ix, a, 100);
    cg_case_index_free(ix);
    cg_store_close(w);
    cg_store_close(a);
}

static void test_filters_left_to_sql(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("fits.db");
    remove_db(path);
    cg_store *a = NULL;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &a, &err))
        fail_msg("open: %s", err.message);
    put_grid(a, grid_codes[0]);
    load_rules(a);
    cg_case c;
    int64_t id = insert_case(a);
    if (cg_store_case_get(a, NULL, id, &c, &err))
        fail_msg("get: %s", err.message);
    cg_case_index *ix = build(a);
    int64_t total = -1;
    cg_scope bad;
    memset(&bad, 0, sizeof bad);
    bad.code[0] = (char)0xFF;
    cg_bbox box = {119, 29, 121, 31};
    int64_t ids[] = {1, 2};
    cg_case_filter fits = {.states = 1u << CG_CASE_REPORTED, .until = T0 + 1, .limit = 100};
    assert_true(cg_case_index_fits(&fits));
    cg_case_filter f[] = {
        {.limit = 10, .category = "01"},
        {.limit = 10, .overdue_at = T0},
        {.limit = 10, .source = CG_SOURCE_RESIDENT},
        {.limit = 10, .updated_since = T0},
        {.limit = 10, .bbox = &box},
        {.limit = 10, .text = "井盖"},
        {.limit = 10, .assignee_account = 3},
        {.limit = 10, .assignee_label = "x"},
        {.limit = 10, .reporter_id = 3},
        {.limit = 10, .ids = ids, .n_ids = 2},
        {.limit = 10, .order = CG_CASE_ORDER_DUE},
        {.limit = 10, .order = CG_CASE_ORDER_ID},
        {.limit = 0},
        {.limit = CG_CASE_INDEX_LIMIT_MAX + 1},
        {.limit = 10, .states = 1u << CG_CASE_STATE_COUNT},
        {.limit = 10, .scope = &bad},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (cg_case_index_fits(&f[i]))
            fail_msg("filter %zu should be left to SQL", i);
        int64_t total = -1;
        /* Not served: nothing is written, the caller lists through SQL. */
        assert_int_equal(index_list(ix, a, &f[i], &total, &err), 1);
        assert_int_equal(total, -1);
        assert_int_equal(by_index.json.len, 0);
        assert_int_equal(by_index.n, 0);
    }
    assert_int_equal(index_list(ix, a, &fits, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(by_index.n, 1);
    /* Inside a transaction of the caller's, SQL answers (it sees the transaction's writes). */
    if (cg_store_begin(a, &err))
        fail_msg("begin: %s", err.message);
    insert_case(a);
    total = -1;
    assert_int_equal(index_list(ix, a, &fits, &total, &err), 1);
    assert_int_equal(by_index.json.len, 0);
    cg_store_rollback(a);
    assert_int_equal(index_list(ix, a, &fits, &total, &err), 0);
    assert_int_equal(total, 1);
    cg_case_index_free(ix);
    cg_store_close(a);
}

/* Runs one statement with ?1 bound to text, on a connection of its own (as another program
 * would). */
static int exec_text(const char *path, const char *sql, const char *text)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "exec_text: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc != SQLITE_OK;
}

/* A row kept in memory gives back every field as stored, at their largest and oddest: the
 * longest description (4,000 characters of 3 bytes), an address, a label, a device id, every
 * time, negative numbers; the second list of the page is answered from memory. */
static void test_rows_kept_whole(void **state)
{
    (void)state;
    if (row_limit == 0)
        skip();
    const char *path = cg_test_tmppath("rows.db");
    remove_db(path);
    cg_store *a = NULL;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &a, &err))
        fail_msg("open: %s", err.message);
    put_grid(a, grid_codes[0]);
    int64_t id = insert_case(a);
    cg_case *c = calloc(2, sizeof *c);
    assert_non_null(c);
    if (cg_store_case_get(a, NULL, id, c, &err))
        fail_msg("get: %s", err.message);
    cg_case_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.actor_name, sizeof ev.actor_name, "test");
    snprintf(ev.detail, sizeof ev.detail, "{}");
    ev.at = T0;
    ev.action = CG_ACT_REGISTER;
    ev.from = c->status.state;
    ev.to = c->status.state = CG_CASE_DISPATCHED;
    c->status.tier = CG_TIER_COMMUNITY;
    c->priority = 2;
    c->lon = -179.1234567;
    c->lat = -89.7654321;
    c->assignee.kind = CG_ASSIGN_ACCOUNT;
    c->assignee.account_id = 4242;
    memset(c->assignee.label, 'L', sizeof c->assignee.label - 1);
    c->assignee.label[sizeof c->assignee.label - 1] = '\0';
    c->extension = -3;
    c->extension_requested = 7;
    c->registered_at = T0 - 5;
    c->dispatched_at = T0 - 4;
    c->handled_at = T0 - 3;
    c->closed_at = T0 - 2;
    c->updated_at = T0 - 1;
    c->deadlines.register_by = T0 + 1;
    c->deadlines.dispatch_by = T0 + 2;
    c->deadlines.handle_by = T0 + 3;
    c->due_at = T0 + 4;
    c->duplicate_of = 1;
    c->evaluation = 5;
    c->suspended_at = T0 - 6;
    c->suspended_s = 12345;
    if (cg_store_case_update(a, c, &ev, &err))
        fail_msg("update: %s", err.message);
    /* The fields an update does not write, straight into the row. */
    char *long_text = malloc(CG_CASE_DESC_BYTES);
    assert_non_null(long_text);
    long_text[0] = '\0';
    for (int i = 0; i < CG_CASE_DESC_MAX; i++)
        strcat(long_text + 3 * i, "井");
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE cases SET description = ?1, address = '杭州市 \"某路\" 1号\\n', "
             "device_id = 'device-Ω', has_contact = 1, n_photos = 3, reporter_id = 77 "
             "WHERE id = %lld",
             (long long)id);
    if (exec_text(path, sql, long_text))
        fail_msg("direct update failed");
    free(long_text);
    /* Listed three times: read from SQLite, then from memory twice; the last two at times
     * before and after the case's due time (the part written at each list). */
    load_rules(a);
    cg_case_index *ix = build(a);
    if (cg_store_case_get(a, NULL, id, &c[0], &err))
        fail_msg("get: %s", err.message);
    assert_int_equal(strlen(c[0].description), 3 * CG_CASE_DESC_MAX);
    cg_case_filter f = {.states = 1u << CG_CASE_DISPATCHED, .limit = 10};
    cg_buf want;
    cg_buf_init(&want);
    const int64_t times[] = {T0, T0 - 86400, T0 + 86400};
    for (int round = 0; round < 3; round++) {
        int64_t total = -1;
        list_now = times[round];
        assert_int_equal(index_list(ix, a, &f, &total, &err), 0);
        assert_int_equal(total, 1);
        assert_int_equal(by_index.n, 1);
        cg_buf_reset(&want);
        cg_case_json(&c[0], rules, list_now, &want);
        assert_string_equal(by_index.json.data, want.data);
        assert_non_null(
            strstr(by_index.json.data, round == 2 ? "\"overdue\":true" : "\"overdue\":false"));
    }
    cg_case_index_stats st;
    cg_case_index_stats_get(ix, &st);
    /* The row holds 12 KB of text: under a smaller bound it is never kept, and read each time. */
    int fits = row_limit > 16 << 10;
    assert_int_equal(st.row_misses, fits ? 1 : 3);
    assert_int_equal(st.row_hits, fits ? 2 : 0);
    assert_int_equal(st.rows, fits ? 1 : 0);
    /* A note moves the version: the kept row is let go and read again. */
    ev.is_note = 1;
    if (cg_store_case_note(a, id, &ev, &err))
        fail_msg("note: %s", err.message);
    if (cg_store_case_get(a, NULL, id, &c[1], &err))
        fail_msg("get: %s", err.message);
    assert_true(c[1].version == c[0].version + 1);
    int64_t total = -1;
    list_now = T0;
    assert_int_equal(index_list(ix, a, &f, &total, &err), 0);
    assert_int_equal(by_index.n, 1);
    cg_buf_reset(&want);
    cg_case_json(&c[1], rules, list_now, &want);
    assert_string_equal(by_index.json.data, want.data);
    cg_case_index_stats_get(ix, &st);
    assert_int_equal(st.row_misses, fits ? 2 : 4);

    /* The case's category renamed: the rules' next generation; the kept row, written with the
     * old name, is let go and the page shows the new one. */
    const cg_category *cat = cg_taxonomy_find(&rules->taxonomy, c[1].category);
    assert_non_null(cat);
    char old_name[256];
    snprintf(old_name, sizeof old_name, "\"%s\"", cat->name_zh);
    cg_buf doc;
    cg_buf_init(&doc);
    if (cg_case_rules_export_taxonomy(a, &doc, &err))
        fail_msg("export: %s", err.message);
    char *at = strstr(doc.data, old_name);
    assert_non_null(at);
    cg_buf renamed;
    cg_buf_init(&renamed);
    cg_buf_append(&renamed, doc.data, (size_t)(at - doc.data));
    cg_buf_puts(&renamed, "\"改名后的类别\"");
    cg_buf_puts(&renamed, at + strlen(old_name));
    if (cg_case_rules_put_taxonomy(a, renamed.data, renamed.len, &err))
        fail_msg("put taxonomy: %s", err.message);
    int64_t old_generation = rules->generation;
    load_rules(a);
    assert_true(rules->generation != old_generation);
    assert_int_equal(index_list(ix, a, &f, &total, &err), 0);
    cg_buf_reset(&want);
    cg_case_json(&c[1], rules, list_now, &want);
    assert_string_equal(by_index.json.data, want.data);
    assert_non_null(strstr(by_index.json.data, "改名后的类别"));
    cg_case_index_stats_get(ix, &st);
    assert_int_equal(st.row_misses, fits ? 3 : 5);
    cg_buf_free(&doc);
    cg_buf_free(&renamed);
    cg_buf_free(&want);
    free(c);
    cg_case_index_free(ix);
    cg_store_close(a);
}

static int64_t limits[] = {0, 256 << 20, 8 << 10};
static const char *const limit_names[] = {
    "rows read from SQLite",
    "rows kept in memory",
    "rows kept under an 8 KB bound (let go again and again)",
};
static size_t limit_at;

static int with_limit(void **state)
{
    (void)state;
    row_limit = limits[limit_at];
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--writer") == 0)
        return writer_main(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    if (!realpath(argv[0], self)) {
        perror(argv[0]);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_writes_and_filters),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_concurrent_lists_and_writes),
        cmocka_unit_test(test_filters_left_to_sql),
        cmocka_unit_test(test_rows_kept_whole),
    };
    int failed = 0;
    /* CIVGRID_ROW_LIMITS="0 2" runs only those groups (valgrind-units runs the last). */
    const char *only = getenv("CIVGRID_ROW_LIMITS");
    for (limit_at = 0; limit_at < sizeof limits / sizeof limits[0]; limit_at++)
        if (!only || strchr(only, (int)('0' + limit_at)))
            failed += _cmocka_run_group_tests(limit_names[limit_at], tests,
                                              sizeof tests / sizeof tests[0], with_limit, NULL);
    cg_case_rules_free(rules);
    cg_buf_free(&by_sql.json);
    cg_buf_free(&by_index.json);
    return failed;
}
