/*
 * Tests of store/store.h against the SQLite backend, on real database files in the test's
 * temporary directory. Most tests speak only store.h, so the PostgreSQL backend can run them
 * too; the few that must reach under the interface (planting a newer schema version, checking
 * the journal mode) say so and use sqlite3 directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "testutil.h"

/* ---- helpers ---- */

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

static void square(cg_mpoly *m, double x, double y, double w)
{
    cg_point pts[] = {{x, y}, {x + w, y}, {x + w, y + w}, {x, y + w}, {x, y}};
    cg_mpoly_add_ring_polygon(m, pts, 5);
}

static void make_grid(cg_grid *g, const char *code, const char *parent, cg_level level, double x,
                      double y, double w)
{
    cg_grid_init(g);
    snprintf(g->code, sizeof g->code, "%s", code);
    snprintf(g->parent_code, sizeof g->parent_code, "%s", parent);
    snprintf(g->name_zh, sizeof g->name_zh, "网格%s", code);
    snprintf(g->name_en, sizeof g->name_en, "Grid %s", code);
    g->level = level;
    square(&g->geom, x, y, w);
    g->area_m2 = cg_mpoly_area_m2(&g->geom);
}

static void put_grid(cg_store *s, cg_grid *g, int64_t now)
{
    cg_err err = {0};
    if (cg_store_grid_put(s, g, now, &err) != 0)
        fail_msg("put %s: %s", g->code, err.message);
}

static void read_whole(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(*len + 1);
    assert_int_equal(fread(*data, 1, *len, f), *len);
    fclose(f);
}

/* SQLite-specific: runs one statement on a raw connection (for planting test conditions). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Collects grid codes (and a copy of each grid's key fields) from a list. */
typedef struct {
    char codes[64][CG_CODE_MAX];
    char names[64][CG_NAME_MAX];
    int64_t valid_from[64], valid_to[64];
    int n;
    int stop_after; /* 0: never stop */
} collected;

static int collect(void *ctx, const cg_grid *g)
{
    collected *c = ctx;
    assert_true(c->n < 64);
    snprintf(c->codes[c->n], CG_CODE_MAX, "%s", g->code);
    snprintf(c->names[c->n], CG_NAME_MAX, "%s", g->name_en);
    c->valid_from[c->n] = g->valid_from;
    c->valid_to[c->n] = g->valid_to;
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void assert_mpoly_equal(const cg_mpoly *a, const cg_mpoly *b)
{
    assert_int_equal(a->n_polys, b->n_polys);
    for (size_t i = 0; i < a->n_polys; i++) {
        assert_int_equal(a->polys[i].n_rings, b->polys[i].n_rings);
        for (size_t j = 0; j < a->polys[i].n_rings; j++) {
            assert_int_equal(a->polys[i].rings[j].n, b->polys[i].rings[j].n);
            assert_memory_equal(a->polys[i].rings[j].pts, b->polys[i].rings[j].pts,
                                a->polys[i].rings[j].n * sizeof(cg_point));
        }
    }
}

/* ---- opening, migrations, refusals ---- */

static void test_open_create_reopen(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("reopen.db");
    cg_store *s = NULL;
    cg_err err = {0};
    assert_int_equal(cg_store_open(path, 0, &s, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_non_null(strstr(err.message, path));
    assert_null(s);

    assert_int_equal(cg_store_open(path, CG_STORE_CREATE, &s, &err), 0);
    assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
    assert_true(cg_store_schema_version_supported() >= 1);
    assert_int_equal(cg_store_meta_set(s, "demo.seed", "42", &err), 0);
    cg_store_close(s);

    /* Reopening applies no migration twice and keeps the data. */
    for (int round = 0; round < 2; round++) {
        assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
        assert_int_equal(cg_store_schema_version(s), cg_store_schema_version_supported());
        char buf[16];
        assert_int_equal(cg_store_meta_get(s, "demo.seed", buf, sizeof buf, &err), 0);
        assert_string_equal(buf, "42");
        cg_store_close(s);
    }
    /* SQLite-specific: one schema_version row per applied step, and the file is in WAL mode. */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM schema_version"),
                     cg_store_schema_version_supported());
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_newer_schema_refused_unchanged(void **state)
{
    (void)state;
    cg_store *s = open_new("newer.db");
    cg_grid g;
    make_grid(&g, "330106", "", CG_LEVEL_DISTRICT, 120, 30, 1);
    put_grid(s, &g, 1000);
    cg_grid_free(&g);
    cg_store_close(s);

    const char *path = cg_test_tmppath("newer.db");
    int newer = cg_store_schema_version_supported() + 6;
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO schema_version (version, applied_at) VALUES (%d, 0)",
             newer);
    raw_exec(path, sql);
    char *before, *after;
    size_t before_len, after_len;
    read_whole(path, &before, &before_len);

    cg_err err = {0};
    for (int flags = 0; flags <= CG_STORE_READONLY; flags += CG_STORE_READONLY) {
        s = NULL;
        assert_int_equal(cg_store_open(path, flags, &s, &err), -1);
        assert_null(s);
        assert_int_equal(err.code, CG_ESCHEMA);
        char expect[128];
        snprintf(expect, sizeof expect,
                 "database schema version %d is newer than this civgrid supports (%d)", newer,
                 cg_store_schema_version_supported());
        assert_non_null(strstr(err.message, expect));
        assert_non_null(strstr(err.message, "upgrade civgrid"));
    }
    read_whole(path, &after, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}

static void test_not_a_database_refused(void **state)
{
    (void)state;
    const char *path = cg_test_tmppath("notes.txt");
    char text[4096];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "grid notes, not a database\n"[i % 27];
    cg_test_write_file(path, text, sizeof text);
    cg_store *s = NULL;
    cg_err err = {0};
    assert_int_equal(cg_store_open(path, CG_STORE_CREATE, &s, &err), -1);
    assert_null(s);
    assert_true(err.code == CG_EINVAL || err.code == CG_EIO);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "not"));
    char *after;
    size_t len;
    read_whole(path, &after, &len);
    assert_int_equal(len, sizeof text);
    assert_memory_equal(after, text, len);
    free(after);

    /* A SQLite database of some other program is not adopted either. */
    const char *other = cg_test_tmppath("other.db");
    raw_exec(other, "CREATE TABLE accounts (id INTEGER PRIMARY KEY)");
    assert_int_equal(cg_store_open(other, 0, &s, &err), -1);
    assert_int_equal(err.code, CG_ESCHEMA);
    assert_non_null(strstr(err.message, "not a civgrid"));
    assert_int_equal(raw_int(other, "SELECT count(*) FROM sqlite_master"), 1);

    /* A directory is not a database file. */
    assert_int_equal(cg_store_open(cg_test_tmpdir(), CG_STORE_CREATE, &s, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
}

/* ---- grids ---- */

static void test_grid_round_trip(void **state)
{
    (void)state;
    cg_store *s = open_new("roundtrip.db");
    cg_grid g;
    make_grid(&g, "330106001002003", "330106001002", CG_LEVEL_GRID, 120.10, 30.20, 0.01);
    /* A second part with a hole, so multipolygons and inner rings survive the trip. */
    cg_point outer[] = {{120.2, 30.2}, {120.3, 30.2}, {120.3, 30.3}, {120.2, 30.3}};
    cg_mpoly_add_ring_polygon(&g.geom, outer, 4);
    cg_polygon *p = &g.geom.polys[1];
    p->rings = realloc(p->rings, 2 * sizeof *p->rings);
    cg_point hole[] = {{120.22, 30.22}, {120.22, 30.24}, {120.24, 30.24}, {120.22, 30.22}};
    p->rings[1].n = 4;
    p->rings[1].pts = malloc(sizeof hole);
    memcpy(p->rings[1].pts, hole, sizeof hole);
    p->n_rings = 2;
    g.grade = CG_GRADE_FOCUS;
    g.households = 237;
    g.area_m2 = 123456.5;
    g.leader_id = 11;
    g.deputy_id = 12;
    int64_t members[] = {21, 22, 9000000000LL};
    g.member_ids = malloc(sizeof members);
    memcpy(g.member_ids, members, sizeof members);
    g.n_members = 3;
    put_grid(s, &g, 1700000000);
    assert_true(g.id > 0);

    cg_grid out;
    cg_err err = {0};
    assert_int_equal(cg_store_grid_get(s, g.code, 0, 1, &out, &err), 0);
    assert_int_equal(out.id, g.id);
    assert_string_equal(out.code, g.code);
    assert_string_equal(out.parent_code, g.parent_code);
    assert_string_equal(out.name_zh, "网格330106001002003");
    assert_string_equal(out.name_en, g.name_en);
    assert_int_equal(out.level, CG_LEVEL_GRID);
    assert_int_equal(out.grade, CG_GRADE_FOCUS);
    assert_int_equal(out.households, 237);
    assert_true(out.area_m2 == 123456.5);
    assert_int_equal(out.leader_id, 11);
    assert_int_equal(out.deputy_id, 12);
    assert_int_equal(out.n_members, 3);
    assert_memory_equal(out.member_ids, members, sizeof members);
    assert_int_equal(out.valid_from, 1700000000);
    assert_int_equal(out.valid_to, 0);
    assert_mpoly_equal(&out.geom, &g.geom);
    cg_grid_free(&out);

    /* Without geometry: everything else, and no polygons. */
    assert_int_equal(cg_store_grid_get(s, g.code, 0, 0, &out, &err), 0);
    assert_int_equal(out.geom.n_polys, 0);
    assert_int_equal(out.n_members, 3);
    assert_string_equal(out.name_en, g.name_en);
    cg_grid_free(&out);

    assert_int_equal(cg_store_grid_get(s, "330106001002999", 0, 0, &out, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_non_null(strstr(err.message, "330106001002999"));
    cg_grid_free(&out);

    /* Bad input is refused with the field named. */
    cg_grid bad;
    cg_grid_init(&bad);
    assert_int_equal(cg_store_grid_put(s, &bad, 1700000000, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_string_equal(err.field, "code");
    assert_int_equal(cg_store_grid_put(s, &g, 0, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    cg_grid_free(&g);
    cg_store_close(s);
}

static void test_grid_versions(void **state)
{
    (void)state;
    cg_store *s = open_new("versions.db");
    cg_grid g;
    cg_err err = {0};
    make_grid(&g, "330106001", "330106", CG_LEVEL_STREET, 120, 30, 0.1);
    snprintf(g.name_en, sizeof g.name_en, "Old");
    put_grid(s, &g, 1000);
    int64_t old_id = g.id;
    snprintf(g.name_en, sizeof g.name_en, "New");
    put_grid(s, &g, 2000);
    assert_true(g.id != old_id);

    collected h = {0};
    assert_int_equal(cg_store_grid_history(s, "330106001", collect, &h, &err), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.names[0], "Old");
    assert_int_equal(h.valid_from[0], 1000);
    assert_int_equal(h.valid_to[0], 2000);
    assert_string_equal(h.names[1], "New");
    assert_int_equal(h.valid_from[1], 2000);
    assert_int_equal(h.valid_to[1], 0);

    cg_grid out;
    struct {
        int64_t at;
        const char *name; /* NULL: none valid */
    } cases[] = {{0, "New"},    {999, NULL},   {1000, "Old"},
                 {1999, "Old"}, {2000, "New"}, {5000, "New"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = cg_store_grid_get(s, "330106001", cases[i].at, 0, &out, &err);
        if (cases[i].name) {
            assert_int_equal(rc, 0);
            assert_string_equal(out.name_en, cases[i].name);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.code, CG_ENOTFOUND);
        }
        cg_grid_free(&out);
    }

    /* Same `now` twice: the later put wins at every time; history keeps an empty interval. */
    snprintf(g.name_en, sizeof g.name_en, "Newer");
    put_grid(s, &g, 2000);
    assert_int_equal(cg_store_grid_get(s, "330106001", 2000, 0, &out, &err), 0);
    assert_string_equal(out.name_en, "Newer");
    cg_grid_free(&out);
    assert_int_equal(cg_store_grid_get(s, "330106001", 0, 0, &out, &err), 0);
    assert_string_equal(out.name_en, "Newer");
    cg_grid_free(&out);
    h.n = 0;
    assert_int_equal(cg_store_grid_history(s, "330106001", collect, &h, &err), 0);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.valid_from[1], 2000);
    assert_int_equal(h.valid_to[1], 2000);
    int64_t count;
    assert_int_equal(cg_store_grid_count(s, NULL, &count, &err), 0);
    assert_int_equal(count, 1);

    /* A put dated before the current version would rewrite the past: refused, nothing written. */
    assert_int_equal(cg_store_grid_put(s, &g, 1500, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    h.n = 0;
    assert_int_equal(cg_store_grid_history(s, "330106001", collect, &h, &err), 0);
    assert_int_equal(h.n, 3);
    cg_grid_free(&g);
    cg_store_close(s);
}

/* The test hierarchy: codes, parents, levels and squares placed on a lattice. */
static const struct {
    const char *code, *parent;
    cg_level level;
    double x, y, w;
} tree[] = {
    {"330106", "", CG_LEVEL_DISTRICT, 120.0, 30.0, 0.4},
    {"330106001", "330106", CG_LEVEL_STREET, 120.0, 30.0, 0.2},
    {"330106002", "330106", CG_LEVEL_STREET, 120.2, 30.0, 0.2},
    {"330106001001", "330106001", CG_LEVEL_COMMUNITY, 120.0, 30.0, 0.1},
    {"330106001002", "330106001", CG_LEVEL_COMMUNITY, 120.1, 30.0, 0.1},
    {"330106002001", "330106002", CG_LEVEL_COMMUNITY, 120.2, 30.0, 0.1},
    {"330106001001001", "330106001001", CG_LEVEL_GRID, 120.00, 30.00, 0.05},
    {"330106001001002", "330106001001", CG_LEVEL_GRID, 120.05, 30.00, 0.05},
    {"330106001002001", "330106001002", CG_LEVEL_GRID, 120.10, 30.00, 0.05},
    {"330106002001001", "330106002001", CG_LEVEL_GRID, 120.20, 30.00, 0.05},
    {"330106002001002", "330106002001", CG_LEVEL_GRID, 120.25, 30.00, 0.05},
    {"33010600200100201", "330106002001002", CG_LEVEL_SUBGRID, 120.25, 30.00, 0.02},
    /* A second district whose code sorts right after the first's subtree. */
    {"330107", "", CG_LEVEL_DISTRICT, 121.0, 31.0, 0.4},
};
#define TREE_N ((int)(sizeof tree / sizeof tree[0]))

static cg_store *open_tree(const char *name)
{
    cg_store *s = open_new(name);
    cg_err err = {0};
    assert_int_equal(cg_store_begin(s, &err), 0);
    /* Put in reverse so the list's code order cannot come from insertion order. */
    for (int i = TREE_N - 1; i >= 0; i--) {
        cg_grid g;
        make_grid(&g, tree[i].code, tree[i].parent, tree[i].level, tree[i].x, tree[i].y, tree[i].w);
        put_grid(s, &g, 1000);
        cg_grid_free(&g);
    }
    assert_int_equal(cg_store_commit(s, &err), 0);
    return s;
}

typedef int (*tree_pred)(int i, const void *arg);

/* Lists with f and checks the result is exactly the tree entries matching pred, in code order,
 * and that the count agrees. */
static void check_filter(cg_store *s, const cg_grid_filter *f, tree_pred pred, const void *arg)
{
    collected c = {0};
    cg_err err = {0};
    if (cg_store_grid_list(s, f, collect, &c, &err) != 0)
        fail_msg("list: %s", err.message);
    int expected[TREE_N], n = 0;
    for (int i = 0; i < TREE_N; i++)
        if (pred(i, arg))
            expected[n++] = i;
    /* Expected codes in code order. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(tree[expected[j - 1]].code, tree[expected[j]].code) > 0;
             j--) {
            int t = expected[j];
            expected[j] = expected[j - 1];
            expected[j - 1] = t;
        }
    assert_true(n > 0);
    assert_int_equal(c.n, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(c.codes[i], tree[expected[i]].code);
    int64_t count;
    assert_int_equal(cg_store_grid_count(s, f, &count, &err), 0);
    assert_int_equal(count, n);
}

static int pred_parent(int i, const void *arg)
{
    return strcmp(tree[i].parent, arg) == 0;
}

static int pred_subtree(int i, const void *arg)
{
    return strncmp(tree[i].code, arg, strlen(arg)) == 0;
}

static int pred_level(int i, const void *arg)
{
    return tree[i].level == *(const cg_level *)arg;
}

static int pred_bbox(int i, const void *arg)
{
    cg_bbox b = {tree[i].x, tree[i].y, tree[i].x + tree[i].w, tree[i].y + tree[i].w};
    return cg_bbox_intersects(&b, arg);
}

static int pred_subtree_grids(int i, const void *arg)
{
    return pred_subtree(i, arg) && tree[i].level == CG_LEVEL_GRID;
}

static int pred_all(int i, const void *arg)
{
    (void)i;
    (void)arg;
    return 1;
}

static void test_grid_list_filters(void **state)
{
    (void)state;
    cg_store *s = open_tree("filters.db");
    cg_grid_filter f;

    memset(&f, 0, sizeof f);
    check_filter(s, &f, pred_all, NULL);
    check_filter(s, NULL, pred_all, NULL);

    const char *parents[] = {"", "330106", "330106001", "330106002001"};
    for (int i = 0; i < 4; i++) {
        memset(&f, 0, sizeof f);
        f.parent_code = parents[i];
        check_filter(s, &f, pred_parent, parents[i]);
    }
    const char *subtrees[] = {"330106", "330106001", "330106002001", "330106002001002"};
    for (int i = 0; i < 4; i++) {
        memset(&f, 0, sizeof f);
        f.subtree_code = subtrees[i];
        check_filter(s, &f, pred_subtree, subtrees[i]);
    }
    for (cg_level l = CG_LEVEL_DISTRICT; l <= CG_LEVEL_SUBGRID; l++) {
        memset(&f, 0, sizeof f);
        f.level = l;
        check_filter(s, &f, pred_level, &l);
    }
    /* Boxes that catch a few squares, end exactly on a west edge (inclusive, as
     * cg_bbox_intersects), and cover only the second district. */
    cg_bbox boxes[] = {{120.06, 30.01, 120.12, 30.02},
                       {120.15, 30.01, 120.2, 30.02},
                       {120.2, 30.1, 120.21, 30.11},
                       {120.9, 30.9, 121.1, 31.1}};
    for (int i = 0; i < 4; i++) {
        memset(&f, 0, sizeof f);
        f.bbox = &boxes[i];
        check_filter(s, &f, pred_bbox, &boxes[i]);
    }
    memset(&f, 0, sizeof f);
    f.subtree_code = "330106001";
    f.level = CG_LEVEL_GRID;
    check_filter(s, &f, pred_subtree_grids, "330106001");

    /* limit/offset page through the code order. */
    collected all = {0}, page = {0};
    cg_err err = {0};
    memset(&f, 0, sizeof f);
    assert_int_equal(cg_store_grid_list(s, &f, collect, &all, &err), 0);
    f.limit = 4;
    f.offset = 3;
    assert_int_equal(cg_store_grid_list(s, &f, collect, &page, &err), 0);
    assert_int_equal(page.n, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(page.codes[i], all.codes[3 + i]);
    f.offset = TREE_N - 2;
    page.n = 0;
    assert_int_equal(cg_store_grid_list(s, &f, collect, &page, &err), 0);
    assert_int_equal(page.n, 2);
    f.limit = -1;
    assert_int_equal(cg_store_grid_list(s, &f, collect, &page, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);

    /* A callback returning non-zero stops the list, which still succeeds. */
    collected some = {.stop_after = 2};
    assert_int_equal(cg_store_grid_list(s, NULL, collect, &some, &err), 0);
    assert_int_equal(some.n, 2);
    cg_store_close(s);
}

typedef struct {
    int with_geom_seen, without_geom_seen;
} geom_seen;

static int note_geom(void *ctx, const cg_grid *g)
{
    geom_seen *seen = ctx;
    if (g->geom.n_polys)
        seen->with_geom_seen++;
    else
        seen->without_geom_seen++;
    return 0;
}

/* A list callback that lists again (the same statement, nested): the inner list must work. */
typedef struct {
    cg_store *s;
    int outer, inner;
} nested;

static int count_inner(void *ctx, const cg_grid *g)
{
    (void)g;
    ((nested *)ctx)->inner++;
    return 0;
}

static int list_again(void *ctx, const cg_grid *g)
{
    (void)g;
    nested *n = ctx;
    n->outer++;
    cg_err err = {0};
    assert_int_equal(cg_store_grid_list(n->s, NULL, count_inner, n, &err), 0);
    return 0;
}

static void test_grid_list_geometry_and_nesting(void **state)
{
    (void)state;
    cg_store *s = open_tree("nesting.db");
    cg_err err = {0};
    cg_grid_filter f = {0};
    geom_seen seen = {0};
    assert_int_equal(cg_store_grid_list(s, &f, note_geom, &seen, &err), 0);
    assert_int_equal(seen.with_geom_seen, 0);
    assert_int_equal(seen.without_geom_seen, TREE_N);
    f.with_geom = 1;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(cg_store_grid_list(s, &f, note_geom, &seen, &err), 0);
    assert_int_equal(seen.with_geom_seen, TREE_N);

    nested n = {s, 0, 0};
    assert_int_equal(cg_store_grid_list(s, NULL, list_again, &n, &err), 0);
    assert_int_equal(n.outer, TREE_N);
    assert_int_equal(n.inner, TREE_N * TREE_N);
    cg_store_close(s);
}

static void test_grid_retire_and_at(void **state)
{
    (void)state;
    cg_store *s = open_tree("retire.db");
    cg_err err = {0};
    int64_t before, after;
    assert_int_equal(cg_store_grid_count(s, NULL, &before, &err), 0);
    assert_int_equal(cg_store_grid_retire(s, "330106002001002", 3000, &err), 0);
    assert_int_equal(cg_store_grid_count(s, NULL, &after, &err), 0);
    assert_int_equal(after, before - 1);

    cg_grid out;
    assert_int_equal(cg_store_grid_get(s, "330106002001002", 0, 0, &out, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    cg_grid_free(&out);
    assert_int_equal(cg_store_grid_get(s, "330106002001002", 2999, 0, &out, &err), 0);
    assert_int_equal(out.valid_to, 3000);
    cg_grid_free(&out);
    assert_int_equal(cg_store_grid_retire(s, "330106002001002", 4000, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_grid_retire(s, "330106002001001", 500, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);

    /* The parent's children: current ones exclude the retired grid, at 2000 it is there. */
    cg_grid_filter f = {.parent_code = "330106002001"};
    collected c = {0};
    assert_int_equal(cg_store_grid_list(s, &f, collect, &c, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.codes[0], "330106002001001");
    f.at = 2000;
    c.n = 0;
    assert_int_equal(cg_store_grid_list(s, &f, collect, &c, &err), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.codes[1], "330106002001002");
    f.at = 999; /* before anything was drawn */
    c.n = 0;
    assert_int_equal(cg_store_grid_list(s, &f, collect, &c, &err), 0);
    assert_int_equal(c.n, 0);
    cg_store_close(s);
}

static void test_generation_across_connections(void **state)
{
    (void)state;
    cg_store *a = open_new("generation.db"), *b = NULL;
    cg_err err = {0};
    assert_int_equal(cg_store_open(cg_test_tmppath("generation.db"), 0, &b, &err), 0);
    int64_t g0 = cg_store_grid_generation(a);
    assert_true(g0 >= 0);
    assert_int_equal(cg_store_grid_generation(b), g0);

    cg_grid g;
    make_grid(&g, "330106", "", CG_LEVEL_DISTRICT, 120, 30, 1);
    put_grid(a, &g, 1000);
    int64_t g1 = cg_store_grid_generation(a);
    assert_true(g1 != g0);
    assert_int_equal(cg_store_grid_generation(b), g1);

    /* Uncommitted writes are not seen by the other connection; committed ones are. */
    assert_int_equal(cg_store_begin(a, &err), 0);
    put_grid(a, &g, 2000);
    assert_int_equal(cg_store_grid_generation(b), g1);
    assert_int_equal(cg_store_commit(a, &err), 0);
    int64_t g2 = cg_store_grid_generation(b);
    assert_true(g2 != g1);

    /* Writes from the second connection and retirement change it too. */
    assert_int_equal(cg_store_grid_retire(b, "330106", 3000, &err), 0);
    assert_true(cg_store_grid_generation(a) != g2);

    /* Place and meta writes are not grid writes. */
    int64_t g3 = cg_store_grid_generation(a);
    assert_int_equal(cg_store_meta_set(a, "k", "v", &err), 0);
    assert_int_equal(cg_store_grid_generation(b), g3);
    cg_grid_free(&g);
    cg_store_close(a);
    cg_store_close(b);
}

static void test_transactions(void **state)
{
    (void)state;
    cg_store *s = open_new("tx.db");
    cg_err err = {0};
    int64_t gen = cg_store_grid_generation(s);
    cg_grid g;
    make_grid(&g, "330106", "", CG_LEVEL_DISTRICT, 120, 30, 1);
    cg_way w = {.id = 5, .road_class = CG_ROAD_PRIMARY, .n = 2};
    int64_t ids[] = {1, 2};
    cg_point pts[] = {{120.1, 30.1}, {120.2, 30.1}};
    w.node_ids = ids;
    w.pts = pts;

    assert_int_equal(cg_store_begin(s, &err), 0);
    assert_int_equal(cg_store_begin(s, &err), -1); /* no nesting */
    put_grid(s, &g, 1000);
    assert_int_equal(cg_store_way_put(s, &w, &err), 0);
    assert_int_equal(cg_store_meta_set(s, "import.source", "test", &err), 0);
    cg_store_rollback(s);

    cg_grid out;
    assert_int_equal(cg_store_grid_get(s, "330106", 0, 0, &out, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    cg_grid_free(&out);
    cg_store_counts counts;
    assert_int_equal(cg_store_counts_get(s, &counts, &err), 0);
    assert_int_equal(counts.grids, 0);
    assert_int_equal(counts.ways, 0);
    char buf[32];
    assert_int_equal(cg_store_meta_get(s, "import.source", buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_grid_generation(s), gen);
    assert_int_equal(cg_store_commit(s, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);

    /* A failed put inside a transaction undoes only itself; the rest commits. */
    assert_int_equal(cg_store_begin(s, &err), 0);
    put_grid(s, &g, 1000);
    assert_int_equal(cg_store_grid_put(s, &g, 500, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_int_equal(cg_store_commit(s, &err), 0);
    collected h = {0};
    assert_int_equal(cg_store_grid_history(s, "330106", collect, &h, &err), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.valid_from[0], 1000);
    cg_grid_free(&g);
    cg_store_close(s);
}

/* SQLite-specific setup: a trigger makes the second statement of a grid put fail, after the
 * first (closing the current version) has changed a row. */
static void test_failed_put_never_half_written(void **state)
{
    (void)state;
    cg_store *s = open_new("half.db");
    cg_err err = {0};
    cg_grid g;
    make_grid(&g, "330106", "", CG_LEVEL_DISTRICT, 120, 30, 1);
    put_grid(s, &g, 1000);
    cg_store_close(s);
    const char *path = cg_test_tmppath("half.db");
    raw_exec(path, "CREATE TRIGGER planted BEFORE INSERT ON grids WHEN NEW.name_en = 'boom' "
                   "BEGIN SELECT RAISE(ABORT, 'planted failure'); END");
    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    cg_grid out;

    /* On its own: the put's transaction rolls back, the current version stays current. */
    snprintf(g.name_en, sizeof g.name_en, "boom");
    assert_int_equal(cg_store_grid_put(s, &g, 2000, &err), -1);
    assert_non_null(strstr(err.message, "planted failure"));
    assert_int_equal(cg_store_grid_get(s, "330106", 0, 0, &out, &err), 0);
    assert_int_equal(out.valid_from, 1000);
    assert_int_equal(out.valid_to, 0);
    cg_grid_free(&out);

    /* In a transaction: the failed half-put poisons it; commit rolls everything back. */
    assert_int_equal(cg_store_begin(s, &err), 0);
    cg_grid other;
    make_grid(&other, "330107", "", CG_LEVEL_DISTRICT, 121, 31, 1);
    put_grid(s, &other, 2000);
    assert_int_equal(cg_store_grid_put(s, &g, 2000, &err), -1);
    assert_int_equal(cg_store_grid_put(s, &other, 3000, &err), -1);
    assert_non_null(strstr(err.message, "roll it back"));
    assert_int_equal(cg_store_commit(s, &err), -1);
    assert_int_equal(err.code, CG_EIO);
    assert_int_equal(cg_store_grid_get(s, "330107", 0, 0, &out, &err), -1);
    cg_grid_free(&out);
    assert_int_equal(cg_store_grid_get(s, "330106", 0, 0, &out, &err), 0);
    assert_int_equal(out.valid_to, 0);
    cg_grid_free(&out);

    /* The store is usable again afterwards. */
    assert_int_equal(cg_store_begin(s, &err), 0);
    put_grid(s, &other, 2000);
    assert_int_equal(cg_store_commit(s, &err), 0);
    assert_int_equal(cg_store_grid_get(s, "330107", 0, 0, &out, &err), 0);
    cg_grid_free(&out);
    cg_grid_free(&other);
    cg_grid_free(&g);
    cg_store_close(s);
}

static void test_busy_writer(void **state)
{
    (void)state;
    cg_store *a = open_new("busy.db"), *b = NULL;
    cg_err err = {0};
    assert_int_equal(cg_store_open(cg_test_tmppath("busy.db"), 0, &b, &err), 0);
    assert_int_equal(cg_store_begin(a, &err), 0);
    /* b waits out the busy timeout (5 s) for a's write lock, then reports CG_EBUSY. */
    assert_int_equal(cg_store_meta_set(b, "k", "v", &err), -1);
    assert_int_equal(err.code, CG_EBUSY);
    assert_non_null(strstr(err.message, "locked"));
    /* Readers are not blocked by the writer. */
    int64_t count;
    assert_int_equal(cg_store_grid_count(b, NULL, &count, &err), 0);
    cg_store_rollback(a);
    assert_int_equal(cg_store_meta_set(b, "k", "v", &err), 0);
    cg_store_close(a);
    cg_store_close(b);
}

/* ---- places ---- */

typedef struct {
    int64_t ids[16];
    size_t n_nodes[16];
    char names[16][512];
    int n;
} place_ids;

static int collect_way(void *ctx, const cg_way *w)
{
    place_ids *p = ctx;
    p->ids[p->n] = w->id;
    p->n_nodes[p->n] = w->n;
    snprintf(p->names[p->n], sizeof p->names[0], "%s", w->name_zh);
    p->n++;
    return 0;
}

static const cg_way *check_way_target;

static int check_way(void *ctx, const cg_way *w)
{
    (void)ctx;
    if (w->id != check_way_target->id)
        return 0;
    assert_int_equal(w->road_class, check_way_target->road_class);
    assert_int_equal(w->oneway, check_way_target->oneway);
    assert_int_equal(w->maxspeed_kmh, check_way_target->maxspeed_kmh);
    assert_string_equal(w->access, check_way_target->access);
    assert_string_equal(w->name_zh, check_way_target->name_zh);
    assert_string_equal(w->name_en, check_way_target->name_en);
    assert_int_equal(w->n, check_way_target->n);
    assert_memory_equal(w->node_ids, check_way_target->node_ids, w->n * sizeof(int64_t));
    assert_memory_equal(w->pts, check_way_target->pts, w->n * sizeof(cg_point));
    return 1;
}

static void test_ways(void **state)
{
    (void)state;
    cg_store *s = open_new("ways.db");
    cg_err err = {0};
    int64_t ids[3][4] = {{1, 2, 3, 4}, {4, 5, 6, 0}, {7, 8, 0, 0}};
    cg_point pts[3][4] = {{{120.00, 30.00}, {120.01, 30.00}, {120.02, 30.01}, {120.03, 30.01}},
                          {{120.03, 30.01}, {120.03, 30.05}, {120.04, 30.06}},
                          {{121.0, 31.0}, {121.1, 31.0}}};
    size_t n[3] = {4, 3, 2};
    cg_way ways[3];
    for (int i = 0; i < 3; i++) {
        memset(&ways[i], 0, sizeof ways[i]);
        ways[i].id = 100 + i;
        ways[i].road_class = (cg_road_class)(CG_ROAD_PRIMARY + i);
        ways[i].oneway = i - 1;
        ways[i].maxspeed_kmh = 30 * i;
        snprintf(ways[i].access, sizeof ways[i].access, "%s", i == 2 ? "private" : "");
        snprintf(ways[i].name_zh, sizeof ways[i].name_zh, "文%d路", i);
        snprintf(ways[i].name_en, sizeof ways[i].name_en, "Wen %d Road", i);
        ways[i].n = n[i];
        ways[i].node_ids = ids[i];
        ways[i].pts = pts[i];
        assert_int_equal(cg_store_way_put(s, &ways[i], &err), 0);
    }
    for (int i = 0; i < 3; i++) {
        check_way_target = &ways[i];
        assert_int_equal(cg_store_way_each(s, NULL, check_way, NULL, &err), 0);
    }
    place_ids got = {0};
    assert_int_equal(cg_store_way_each(s, NULL, collect_way, &got, &err), 0);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.ids[0], 100);
    assert_int_equal(got.ids[2], 102);

    /* bbox: expected membership from each way's own box. */
    cg_bbox boxes[] = {
        {120.025, 30.0, 120.035, 30.02}, {120.035, 30.04, 121.05, 31.05}, {10, 10, 11, 11}};
    for (int b = 0; b < 3; b++) {
        memset(&got, 0, sizeof got);
        assert_int_equal(cg_store_way_each(s, &boxes[b], collect_way, &got, &err), 0);
        int k = 0;
        for (int i = 0; i < 3; i++) {
            cg_bbox wb;
            cg_bbox_empty(&wb);
            for (size_t j = 0; j < n[i]; j++)
                cg_bbox_extend(&wb, pts[i][j]);
            if (cg_bbox_intersects(&wb, &boxes[b])) {
                assert_true(k < got.n);
                assert_int_equal(got.ids[k++], ways[i].id);
            }
        }
        assert_int_equal(got.n, k);
    }

    /* A put with an existing id replaces the way (and its place in the index). */
    ways[0].n = 2;
    snprintf(ways[0].name_zh, sizeof ways[0].name_zh, "改名路");
    assert_int_equal(cg_store_way_put(s, &ways[0], &err), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_way_each(s, NULL, collect_way, &got, &err), 0);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.n_nodes[0], 2);
    assert_string_equal(got.names[0], "改名路");
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_way_each(s, &boxes[0], collect_way, &got, &err), 0);
    assert_int_equal(got.n, 1); /* way 100 no longer reaches x >= 120.025 */
    assert_int_equal(got.ids[0], 101);

    cg_way one = {.id = 9, .n = 1, .node_ids = ids[0], .pts = pts[0]};
    assert_int_equal(cg_store_way_put(s, &one, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    cg_store_counts counts;
    assert_int_equal(cg_store_counts_get(s, &counts, &err), 0);
    assert_int_equal(counts.ways, 3);
    cg_store_close(s);
}

static int collect_building(void *ctx, const cg_building *b)
{
    place_ids *p = ctx;
    p->ids[p->n] = b->id;
    p->n_nodes[p->n] = b->geom.n_polys ? b->geom.polys[0].rings[0].n : 0;
    snprintf(p->names[p->n], sizeof p->names[0], "%s/%s/%d/%d", b->kind, b->name_zh, b->households,
             b->levels);
    p->n++;
    return 0;
}

static int collect_poi(void *ctx, const cg_poi *poi)
{
    place_ids *p = ctx;
    p->ids[p->n] = poi->id;
    snprintf(p->names[p->n], sizeof p->names[0], "%s/%s/%s/%.7f/%.7f", poi->kind, poi->name_zh,
             poi->name_en, poi->at.x, poi->at.y);
    p->n++;
    return 0;
}

static int collect_boundary(void *ctx, const cg_boundary *b)
{
    place_ids *p = ctx;
    p->ids[p->n] = b->id;
    p->n_nodes[p->n] = b->geom.n_polys;
    snprintf(p->names[p->n], sizeof p->names[0], "%d/%s/%s/%s", b->admin_level, b->name_zh,
             b->name_en, b->ref);
    p->n++;
    return 0;
}

static void test_buildings_pois_boundaries(void **state)
{
    (void)state;
    cg_store *s = open_new("places.db");
    cg_err err = {0};
    double origins[3][2] = {{120.0, 30.0}, {120.01, 30.0}, {120.5, 30.5}};
    for (int i = 0; i < 3; i++) {
        cg_building b;
        memset(&b, 0, sizeof b);
        b.id = 10 + i;
        snprintf(b.kind, sizeof b.kind, "%s", i ? "residential" : "school");
        snprintf(b.name_zh, sizeof b.name_zh, "楼%d", i);
        b.households = i ? 40 * i : 0;
        b.levels = 6 + i;
        square(&b.geom, origins[i][0], origins[i][1], 0.001);
        assert_int_equal(cg_store_building_put(s, &b, &err), 0);
        cg_building_free(&b);
    }
    place_ids got = {0};
    assert_int_equal(cg_store_building_each(s, NULL, collect_building, &got, &err), 0);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.n_nodes[0], 5);
    assert_string_equal(got.names[0], "school/楼0/0/6");
    assert_string_equal(got.names[2], "residential/楼2/80/8");
    cg_bbox near = {119.9, 29.9, 120.0105, 30.1};
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_building_each(s, &near, collect_building, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.ids[0], 10);
    assert_int_equal(got.ids[1], 11);
    cg_building empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(cg_store_building_put(s, &empty, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);

    cg_poi pois[] = {{.id = 1,
                      .kind = "school",
                      .name_zh = "文一小学",
                      .name_en = "Wenyi School",
                      .at = {120.0005, 30.0005}},
                     {.id = 2, .kind = "hazmat", .at = {120.3, 30.3}},
                     {.id = 3, .kind = "hospital", .at = {120.0105, 30.0}}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(cg_store_poi_put(s, &pois[i], &err), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_poi_each(s, NULL, collect_poi, &got, &err), 0);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.names[0], "school/文一小学/Wenyi School/120.0005000/30.0005000");
    /* The box's edge lies exactly on POI 3: inclusive, like cg_bbox_intersects. */
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_poi_each(s, &near, collect_poi, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.ids[0], 1);
    assert_int_equal(got.ids[1], 3);
    /* Just outside the point (closer than the R*Tree's float rounding): not listed. */
    cg_bbox beside = {120.0105 + 1e-9, 29.9, 120.1, 30.1};
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_poi_each(s, &beside, collect_poi, &got, &err), 0);
    assert_int_equal(got.n, 0);
    cg_poi bad = {.id = 4, .at = {200, 30}};
    assert_int_equal(cg_store_poi_put(s, &bad, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);

    for (int i = 0; i < 2; i++) {
        cg_boundary b;
        memset(&b, 0, sizeof b);
        b.id = 500 - i;
        b.admin_level = 6 + 2 * i;
        snprintf(b.name_zh, sizeof b.name_zh, "%s", i ? "文新街道" : "西湖区");
        snprintf(b.ref, sizeof b.ref, "%s", i ? "330106001" : "330106");
        square(&b.geom, 120, 30, 0.5 - 0.2 * i);
        assert_int_equal(cg_store_boundary_put(s, &b, &err), 0);
        cg_boundary_free(&b);
    }
    memset(&got, 0, sizeof got);
    assert_int_equal(cg_store_boundary_each(s, collect_boundary, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.names[0], "6/西湖区//330106");
    assert_string_equal(got.names[1], "8/文新街道//330106001");
    assert_int_equal(got.n_nodes[0], 1);

    cg_store_counts counts;
    assert_int_equal(cg_store_counts_get(s, &counts, &err), 0);
    assert_int_equal(counts.buildings, 3);
    assert_int_equal(counts.pois, 3);
    assert_int_equal(counts.boundaries, 2);
    assert_int_equal(counts.grids, 0);
    cg_store_close(s);
}

static void test_meta(void **state)
{
    (void)state;
    cg_store *s = open_new("meta.db");
    cg_err err = {0};
    char buf[16];
    assert_int_equal(cg_store_meta_get(s, "demo.seed", buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_meta_set(s, "demo.seed", "7", &err), 0);
    assert_int_equal(cg_store_meta_set(s, "demo.size", "small", &err), 0);
    assert_int_equal(cg_store_meta_set(s, "demo.seed", "8", &err), 0);
    assert_int_equal(cg_store_meta_get(s, "demo.seed", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "8");
    assert_int_equal(cg_store_meta_get(s, "demo.size", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "small");
    assert_int_equal(cg_store_meta_set(s, "long", "0123456789abcdefXYZ", &err), 0);
    assert_int_equal(cg_store_meta_get(s, "long", buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_int_equal(cg_store_meta_set(s, "", "x", &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    cg_store_close(s);
}

/* ---- read-only databases ---- */

static void check_read_only_store(cg_store *s)
{
    cg_err err = {0};
    cg_grid out;
    assert_int_equal(cg_store_grid_get(s, "330106", 0, 1, &out, &err), 0);
    assert_int_equal(out.geom.n_polys, 1);
    cg_grid_free(&out);
    cg_grid g;
    make_grid(&g, "330107", "", CG_LEVEL_DISTRICT, 121, 31, 1);
    assert_int_equal(cg_store_grid_put(s, &g, 2000, &err), -1);
    assert_int_equal(err.code, CG_EBUSY);
    assert_non_null(strstr(err.message, "read-only"));
    cg_grid_free(&g);
    assert_int_equal(cg_store_meta_set(s, "k", "v", &err), -1);
    assert_int_equal(err.code, CG_EBUSY);
    int64_t count;
    assert_int_equal(cg_store_grid_count(s, NULL, &count, &err), 0);
    assert_int_equal(count, 1);
}

static void test_read_only(void **state)
{
    (void)state;
    cg_store *s = open_new("readonly.db");
    cg_grid g;
    make_grid(&g, "330106", "", CG_LEVEL_DISTRICT, 120, 30, 1);
    put_grid(s, &g, 1000);
    cg_grid_free(&g);
    cg_store_close(s);
    const char *path = cg_test_tmppath("readonly.db");
    cg_err err = {0};

    /* Opened read-only on purpose. */
    assert_int_equal(cg_store_open(path, CG_STORE_READONLY, &s, &err), 0);
    check_read_only_store(s);
    cg_store_close(s);

    /* A file the process may not write. */
    assert_int_equal(chmod(path, 0444), 0);
    int fd = open(path, O_RDWR);
    if (fd >= 0) {
        close(fd);
        chmod(path, 0644);
        printf("# running with permission to write a 0444 file (root?): read-only file part "
               "skipped\n");
        return;
    }
    if (cg_store_open(path, 0, &s, &err) == 0) {
        check_read_only_store(s);
        cg_store_close(s);
    } else {
        assert_int_equal(err.code, CG_EBUSY);
        assert_non_null(strstr(err.message, "read-only"));
    }
    chmod(path, 0644);
}

/* ---- access: scopes in the SQL, audit of every write, resident contacts ---- */

static int count_grid(void *ctx, const cg_grid *g)
{
    (void)g;
    (*(int *)ctx)++;
    return 0;
}

static int count_account(void *ctx, const cg_account *a)
{
    (void)a;
    (*(int *)ctx)++;
    return 0;
}

static int64_t new_account(cg_store *s, const char *username, uint32_t roles, const char *scope)
{
    cg_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.username, sizeof a.username, "%s", username);
    snprintf(a.display_name, sizeof a.display_name, "User %s", username);
    a.roles = roles;
    snprintf(a.scope.code, sizeof a.scope.code, "%s", scope);
    cg_err err = {0};
    if (cg_store_account_create(s, &a, "$argon2id$not-a-real-hash", &err) != 0)
        fail_msg("create %s: %s", username, err.message);
    return a.id;
}

static int count_audit(void *ctx, const cg_audit_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

/* A district, two streets, a community and a grid under the first street. */
static void put_tree(cg_store *s)
{
    static const struct {
        const char *code, *parent;
        cg_level level;
    } rows[] = {
        {"330199", "", CG_LEVEL_DISTRICT},
        {"330199001", "330199", CG_LEVEL_STREET},
        {"330199002", "330199", CG_LEVEL_STREET},
        {"330199001001", "330199001", CG_LEVEL_COMMUNITY},
        {"330199001001001", "330199001001", CG_LEVEL_GRID},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cg_grid g;
        make_grid(&g, rows[i].code, rows[i].parent, rows[i].level, 120.0 + 0.01 * (double)i, 30.0,
                  0.01);
        put_grid(s, &g, 1000);
        cg_grid_free(&g);
    }
}

/* The same call on an empty store: what "absent" looks like, to compare refusals with. */
static cg_store *empty_store(void)
{
    return open_new("empty.db");
}

static void test_scope_grids(void **state)
{
    (void)state;
    cg_store *s = open_new("scope_grids.db");
    put_tree(s);
    cg_err err = {0};
    cg_scope street = {"330199001"}, community = {"330199001001"};

    int n = 0;
    cg_grid_filter f = {.scope = &community};
    assert_int_equal(cg_store_grid_list(s, &f, count_grid, &n, &err), 0);
    assert_int_equal(n, 2); /* the community and its grid, not the street or district */
    int64_t count = -1;
    assert_int_equal(cg_store_grid_count(s, &f, &count, &err), 0);
    assert_int_equal(count, 2);
    f.scope = &street;
    assert_int_equal(cg_store_grid_count(s, &f, &count, &err), 0);
    assert_int_equal(count, 3);
    /* A scope combines with the other filters: the district's children within the street. */
    f.parent_code = "330199";
    assert_int_equal(cg_store_grid_count(s, &f, &count, &err), 0);
    assert_int_equal(count, 1);
    f.parent_code = NULL;
    f.scope = &cg_scope_all;
    assert_int_equal(cg_store_grid_count(s, &f, &count, &err), 0);
    assert_int_equal(count, 5);

    /* Reads: inside works, outside answers exactly like a missing grid. */
    cg_grid g;
    assert_int_equal(cg_store_grid_read(s, &community, "330199001001001", 0, 1, &g, &err), 0);
    assert_string_equal(g.code, "330199001001001");
    cg_grid_free(&g);
    cg_store *empty = empty_store();
    cg_err outside = {0}, absent = {0};
    assert_int_equal(cg_store_grid_read(s, &community, "330199001", 0, 0, &g, &outside), -1);
    cg_grid_free(&g);
    assert_int_equal(cg_store_grid_read(empty, &community, "330199001", 0, 0, &g, &absent), -1);
    cg_grid_free(&g);
    assert_int_equal(outside.code, CG_ENOTFOUND);
    assert_int_equal(outside.code, absent.code);
    assert_string_equal(outside.message, absent.message);
    /* The same at a point in time. */
    assert_int_equal(cg_store_grid_read(s, &community, "330199002", 2000, 0, &g, &outside), -1);
    cg_grid_free(&g);
    assert_int_equal(cg_store_grid_read(empty, &community, "330199002", 2000, 0, &g, &absent), -1);
    cg_grid_free(&g);
    assert_string_equal(outside.message, absent.message);

    /* Teams: in scope a new version with the team; outside, refused like a missing grid and
     * nothing written. */
    int64_t leader = new_account(s, "leader1", CG_ROLE_LEADER, "330199001001");
    int64_t worker = new_account(s, "worker1", CG_ROLE_WORKER, "330199001001001");
    int64_t members[] = {worker};
    assert_int_equal(
        cg_store_grid_team_set(s, &community, "330199001001001", leader, 0, members, 1, 2000, &err),
        0);
    assert_int_equal(cg_store_grid_read(s, &community, "330199001001001", 0, 0, &g, &err), 0);
    assert_int_equal(g.leader_id, leader);
    assert_int_equal(g.n_members, 1);
    assert_int_equal(g.member_ids[0], worker);
    cg_grid_free(&g);
    int64_t generation = cg_store_grid_generation(s);
    assert_int_equal(
        cg_store_grid_team_set(s, &community, "330199002", leader, 0, NULL, 0, 2000, &outside), -1);
    assert_int_equal(
        cg_store_grid_team_set(empty, &community, "330199002", leader, 0, NULL, 0, 2000, &absent),
        -1);
    assert_int_equal(outside.code, CG_ENOTFOUND);
    assert_string_equal(outside.message, absent.message);
    assert_int_equal(cg_store_grid_generation(s), generation);
    /* A team member must be an account. */
    int64_t ghost[] = {9999};
    assert_int_equal(cg_store_grid_team_set(s, NULL, "330199001001001", 0, 0, ghost, 1, 2001, &err),
                     -1);
    assert_int_equal(err.code, CG_EINVAL);

    cg_store_close(empty);
    cg_store_close(s);
}

static void test_scope_accounts(void **state)
{
    (void)state;
    cg_store *s = open_new("scope_accounts.db");
    cg_store *empty = empty_store();
    cg_err err = {0}, outside = {0}, absent = {0};
    int64_t admin = new_account(s, "admin", CG_ROLE_ADMIN, "");
    int64_t worker = new_account(s, "worker1", CG_ROLE_WORKER, "330199001001001");
    int64_t op = new_account(s, "operator2", CG_ROLE_OPERATOR, "330199002");
    (void)admin;
    cg_scope street = {"330199001"};

    int n = 0;
    assert_int_equal(cg_store_account_list(s, &street, count_account, &n, &err), 0);
    assert_int_equal(n, 1); /* the worker only: the admin's whole-installation scope is wider */
    n = 0;
    assert_int_equal(cg_store_account_list(s, NULL, count_account, &n, &err), 0);
    assert_int_equal(n, 3);

    cg_account a;
    assert_int_equal(cg_store_account_get(s, &street, worker, &a, &err), 0);
    assert_string_equal(a.username, "worker1");
    assert_int_equal(cg_store_account_get(s, &street, op, &a, &outside), -1);
    assert_int_equal(cg_store_account_get(empty, &street, op, &a, &absent), -1);
    assert_int_equal(outside.code, CG_ENOTFOUND);
    assert_string_equal(outside.message, absent.message);

    /* Updates and password changes outside the scope: refused the same way, nothing changed. */
    cg_account change;
    assert_int_equal(cg_store_account_get(s, NULL, op, &change, &err), 0);
    change.disabled = 1;
    assert_int_equal(cg_store_account_update(s, &street, &change, &outside), -1);
    assert_int_equal(cg_store_account_update(empty, &street, &change, &absent), -1);
    assert_string_equal(outside.message, absent.message);
    assert_int_equal(cg_store_account_set_password(s, &street, op, "$argon2id$x", &outside), -1);
    assert_int_equal(cg_store_account_set_password(empty, &street, op, "$argon2id$x", &absent), -1);
    assert_string_equal(outside.message, absent.message);
    assert_int_equal(cg_store_account_get(s, NULL, op, &a, &err), 0);
    assert_int_equal(a.disabled, 0);
    char hash[128];
    assert_int_equal(cg_store_account_by_name(s, "operator2", &a, hash, sizeof hash, &err), 0);
    assert_string_equal(hash, "$argon2id$not-a-real-hash");

    /* Inside the scope they work; disabling revokes the account's sessions. */
    cg_session sess = {.account_id = worker, .kind = CG_SESSION_BEARER, .expires_at = 5000};
    memset(sess.token_hash, 'a', 64);
    assert_int_equal(cg_store_session_put(s, &sess, &err), 0);
    assert_int_equal(cg_store_account_get(s, &street, worker, &change, &err), 0);
    change.disabled = 1;
    assert_int_equal(cg_store_account_update(s, &street, &change, &err), 0);
    assert_int_equal(cg_store_session_get(s, sess.token_hash, &sess, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);

    /* A taken username is a conflict. */
    cg_account dup = {.roles = CG_ROLE_WORKER};
    snprintf(dup.username, sizeof dup.username, "worker1");
    assert_int_equal(cg_store_account_create(s, &dup, "$argon2id$x", &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    int64_t total = 0;
    assert_int_equal(cg_store_account_count(s, &total, &err), 0);
    assert_int_equal(total, 3);
    cg_store_close(empty);
    cg_store_close(s);
}

/* The newest audit entry. */
static int keep_entry(void *ctx, const cg_audit_entry *e)
{
    *(cg_audit_entry *)ctx = *e;
    return 1;
}

static int64_t head_seq(cg_store *s)
{
    int64_t seq = -1;
    char hash[65];
    cg_err err = {0};
    if (cg_store_audit_head(s, &seq, hash, &err))
        fail_msg("audit head: %s", err.message);
    return seq;
}

/* Asserts that exactly one entry was appended since `before`, with this action, by alice. */
static void expect_one_entry(cg_store *s, int64_t before, const char *action)
{
    assert_int_equal(head_seq(s), before + 1);
    cg_audit_entry e;
    memset(&e, 0, sizeof e);
    cg_audit_filter f = {.newest_first = 1, .limit = 1};
    cg_err err = {0};
    assert_int_equal(cg_store_audit_list(s, &f, keep_entry, &e, &err), 0);
    assert_int_equal(e.seq, before + 1);
    assert_string_equal(e.action, action);
    assert_string_equal(e.actor, "alice");
    assert_int_equal(e.actor_id, 7);
    assert_string_equal(e.address, "10.0.0.1");
}

static void test_audit_every_write(void **state)
{
    (void)state;
    cg_store *s = open_new("audit_writes.db");
    cg_err err = {0};
    /* Before an actor is set, writes are the system's. */
    cg_store_meta_set(s, "k", "v", &err);
    cg_audit_entry e;
    cg_audit_filter newest = {.newest_first = 1, .limit = 1};
    assert_int_equal(cg_store_audit_list(s, &newest, keep_entry, &e, &err), 0);
    assert_string_equal(e.actor, "system");

    cg_actor alice = {7, "alice", "10.0.0.1"};
    cg_store_set_actor(s, &alice);
    int64_t seq = head_seq(s);
#define ONE(call, action)                                                                          \
    do {                                                                                           \
        seq = head_seq(s);                                                                         \
        assert_int_equal((call), 0);                                                               \
        expect_one_entry(s, seq, action);                                                          \
    } while (0)

    cg_grid g;
    make_grid(&g, "330199", "", CG_LEVEL_DISTRICT, 120, 30, 0.1);
    ONE(cg_store_grid_put(s, &g, 1000, &err), "grid.put");
    assert_non_null(strstr(e.summary, "")); /* summaries checked below */
    int64_t acc = 0;
    {
        cg_account a = {.roles = CG_ROLE_WORKER};
        snprintf(a.username, sizeof a.username, "worker1");
        ONE(cg_store_account_create(s, &a, "$argon2id$secret-hash", &err), "user.create");
        acc = a.id;
        assert_int_equal(cg_store_audit_list(s, &newest, keep_entry, &e, &err), 0);
        assert_null(strstr(e.summary, "secret-hash"));
        assert_non_null(strstr(e.summary, "\"username\":\"worker1\""));
        a.roles = CG_ROLE_LEADER;
        ONE(cg_store_account_update(s, NULL, &a, &err), "user.update");
        ONE(cg_store_account_set_password(s, NULL, acc, "$argon2id$other-hash", &err),
            "user.password");
        assert_int_equal(cg_store_audit_list(s, &newest, keep_entry, &e, &err), 0);
        assert_null(strstr(e.summary, "other-hash"));
    }
    ONE(cg_store_grid_team_set(s, NULL, "330199", acc, 0, NULL, 0, 1500, &err), "grid.team");
    ONE(cg_store_grid_retire(s, "330199", 2000, &err), "grid.retire");
    assert_int_equal(cg_store_audit_list(s, &newest, keep_entry, &e, &err), 0);
    assert_non_null(strstr(e.summary, "\"after\":null"));
    assert_non_null(strstr(e.summary, "\"before\":{\"name\":"));
    cg_grid_free(&g);

    int64_t ids[] = {1, 2};
    cg_point pts[] = {{120.1, 30.1}, {120.2, 30.1}};
    cg_way w = {.id = 5, .road_class = CG_ROAD_PRIMARY, .n = 2, .node_ids = ids, .pts = pts};
    ONE(cg_store_way_put(s, &w, &err), "places.put");
    cg_building b;
    memset(&b, 0, sizeof b);
    square(&b.geom, 120.1, 30.1, 0.001);
    ONE(cg_store_building_put(s, &b, &err), "places.put");
    cg_poi p = {.id = 3, .kind = "school", .at = {120.1, 30.1}};
    ONE(cg_store_poi_put(s, &p, &err), "places.put");
    cg_boundary bd;
    memset(&bd, 0, sizeof bd);
    bd.admin_level = 8;
    square(&bd.geom, 120.1, 30.1, 0.01);
    ONE(cg_store_boundary_put(s, &bd, &err), "places.put");
    ONE(cg_store_meta_set(s, "import.source", "test", &err), "meta.set");
    ONE(cg_store_contact_put(s, "case-1", "138 0000 0000", &err), "contact.put");
    char contact[64];
    ONE(cg_store_contact_get(s, "case-1", contact, sizeof contact, &err), "contact.read");
    assert_string_equal(contact, "138 0000 0000");
    ONE(cg_store_contact_close(s, "case-1", 3000, &err), "contact.close");
    int64_t purged = -1;
    ONE(cg_store_contact_purge(s, 2000, &purged, &err), "contact.purge");
    assert_int_equal(purged, 0);
    ONE(cg_store_audit_append(s, "user.login", "user:7", "{}", &err), "user.login");
    /* No summary ever holds a contact. */
    cg_audit_filter contacts = {.target_prefix = "case:"};
    assert_int_equal(cg_store_audit_list(s, &contacts, keep_entry, &e, &err), 0);
    assert_null(strstr(e.summary, "138"));

    /* Places inside a transaction: one summary entry at commit, not one per row. */
    seq = head_seq(s);
    assert_int_equal(cg_store_begin(s, &err), 0);
    for (int i = 0; i < 3; i++) {
        w.id = 10 + i;
        assert_int_equal(cg_store_way_put(s, &w, &err), 0);
    }
    assert_int_equal(cg_store_poi_put(s, &p, &err), 0);
    assert_int_equal(cg_store_commit(s, &err), 0);
    expect_one_entry(s, seq, "places.put");
    assert_int_equal(cg_store_audit_list(s, &newest, keep_entry, &e, &err), 0);
    assert_string_equal(e.summary, "{\"ways\":3,\"pois\":1}");
    /* A rolled-back transaction leaves neither rows nor entries. */
    seq = head_seq(s);
    assert_int_equal(cg_store_begin(s, &err), 0);
    assert_int_equal(cg_store_way_put(s, &w, &err), 0);
    cg_store_rollback(s);
    assert_int_equal(head_seq(s), seq);
#undef ONE
    cg_mpoly_free(&b.geom);
    cg_mpoly_free(&bd.geom);
    cg_store_close(s);
}

static void test_contacts(void **state)
{
    (void)state;
    cg_store *s = open_new("contacts.db");
    cg_err err = {0};
    assert_int_equal(cg_store_contact_put(s, "old", "phone A", &err), 0);
    assert_int_equal(cg_store_contact_put(s, "recent", "phone B", &err), 0);
    assert_int_equal(cg_store_contact_put(s, "open", "phone C", &err), 0);
    assert_int_equal(cg_store_contact_close(s, "old", 1000, &err), 0);
    assert_int_equal(cg_store_contact_close(s, "recent", 5000, &err), 0);
    assert_int_equal(cg_store_contact_close(s, "missing", 5000, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    int64_t purged = 0;
    assert_int_equal(cg_store_contact_purge(s, 3000, &purged, &err), 0);
    assert_int_equal(purged, 1);
    char buf[32];
    assert_int_equal(cg_store_contact_get(s, "old", buf, sizeof buf, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_store_contact_get(s, "recent", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "phone B");
    assert_int_equal(cg_store_contact_get(s, "open", buf, sizeof buf, &err), 0);
    /* Open cases are never purged, however late the cut-off. */
    assert_int_equal(cg_store_contact_purge(s, INT64_MAX, &purged, &err), 0);
    assert_int_equal(purged, 1);
    assert_int_equal(cg_store_contact_get(s, "open", buf, sizeof buf, &err), 0);
    /* Every successful read was audited; the failed one was not. */
    int n = 0;
    cg_audit_filter reads = {.action = "contact.read"};
    assert_int_equal(cg_store_audit_list(s, &reads, count_audit, &n, &err), 0);
    assert_int_equal(n, 3);
    cg_store_close(s);
}

static void test_sessions_and_throttle(void **state)
{
    (void)state;
    cg_store *s = open_new("sessions.db");
    cg_err err = {0};
    int64_t id = new_account(s, "worker1", CG_ROLE_WORKER, "");
    cg_session a = {.account_id = id,
                    .kind = CG_SESSION_COOKIE,
                    .csrf = "c",
                    .created_at = 1,
                    .expires_at = 100};
    cg_session b = a;
    memset(a.token_hash, 'a', 64);
    memset(b.token_hash, 'b', 64);
    b.expires_at = 300;
    assert_int_equal(cg_store_session_put(s, &a, &err), 0);
    assert_int_equal(cg_store_session_put(s, &b, &err), 0);
    cg_session got;
    assert_int_equal(cg_store_session_get(s, a.token_hash, &got, &err), 0);
    assert_int_equal(got.account_id, id);
    assert_string_equal(got.csrf, "c");
    int64_t purged = 0;
    assert_int_equal(cg_store_session_purge(s, 200, &purged, &err), 0);
    assert_int_equal(purged, 1);
    assert_int_equal(cg_store_session_get(s, a.token_hash, &got, &err), -1);
    assert_int_equal(cg_store_session_get(s, b.token_hash, &got, &err), 0);
    assert_int_equal(cg_store_session_delete(s, b.token_hash, &err), 0);
    assert_int_equal(cg_store_session_get(s, b.token_hash, &got, &err), -1);

    cg_login_state st;
    assert_int_equal(cg_store_login_state_get(s, "user:x", &st, &err), 0);
    assert_int_equal(st.failures, 0);
    assert_int_equal(cg_store_login_failure(s, "user:x", 10, 0, &err), 0);
    assert_int_equal(cg_store_login_failure(s, "user:x", 11, 50, &err), 0);
    assert_int_equal(cg_store_login_state_get(s, "user:x", &st, &err), 0);
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.last_failure, 11);
    assert_int_equal(st.locked_until, 50);
    assert_int_equal(cg_store_login_reset(s, "user:x", &err), 0);
    assert_int_equal(cg_store_login_state_get(s, "user:x", &st, &err), 0);
    assert_int_equal(st.failures, 0);
    cg_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_create_reopen),
        cmocka_unit_test(test_newer_schema_refused_unchanged),
        cmocka_unit_test(test_not_a_database_refused),
        cmocka_unit_test(test_grid_round_trip),
        cmocka_unit_test(test_grid_versions),
        cmocka_unit_test(test_grid_list_filters),
        cmocka_unit_test(test_grid_list_geometry_and_nesting),
        cmocka_unit_test(test_grid_retire_and_at),
        cmocka_unit_test(test_generation_across_connections),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_failed_put_never_half_written),
        cmocka_unit_test(test_busy_writer),
        cmocka_unit_test(test_ways),
        cmocka_unit_test(test_buildings_pois_boundaries),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_scope_grids),
        cmocka_unit_test(test_scope_accounts),
        cmocka_unit_test(test_audit_every_write),
        cmocka_unit_test(test_contacts),
        cmocka_unit_test(test_sessions_and_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
