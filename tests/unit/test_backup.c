/*
 * Backup under write load and restore: a writer thread commits grids in transactions of ten
 * while backups are taken; every backup must pass the integrity check and hold whole
 * transactions only (a multiple of ten grids), and a restore must reproduce a backup exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store.h"
#include "testutil.h"

#define BATCH 10

static atomic_int stop_writer;
static atomic_int batches_written;
static atomic_int writer_done;

static void make_grid(cg_grid *g, int k)
{
    cg_grid_init(g);
    snprintf(g->code, sizeof g->code, "330199%03d", k % 999 + 1);
    if (k >= 999) /* past 999 streets, use communities under street 001 */
        snprintf(g->code, sizeof g->code, "330199001%03d", k % 999 + 1);
    snprintf(g->name_zh, sizeof g->name_zh, "网格%d", k);
    g->level = cg_level_from_code(g->code);
    g->households = k;
    double x = 120 + (k % 100) * 0.001, y = 30 + (k / 100) * 0.001;
    cg_point pts[] = {{x, y}, {x + 0.001, y}, {x + 0.001, y + 0.001}, {x, y + 0.001}};
    cg_mpoly_add_ring_polygon(&g->geom, pts, 4);
    g->area_m2 = cg_mpoly_area_m2(&g->geom);
}

static void *writer(void *arg)
{
    const char *path = arg;
    cg_store *s;
    cg_err err = {0};
    if (cg_store_open(path, 0, &s, &err) != 0) {
        atomic_store(&writer_done, 1);
        return NULL;
    }
    for (int b = 0; !atomic_load(&stop_writer) && b < 190; b++) {
        if (cg_store_begin(s, &err) != 0)
            continue; /* busy: try the next batch */
        int ok = 1;
        for (int i = 0; i < BATCH && ok; i++) {
            cg_grid g;
            make_grid(&g, b * BATCH + i);
            ok = cg_store_grid_put(s, &g, 1000 + b, &err) == 0;
            cg_grid_free(&g);
        }
        if (ok && cg_store_commit(s, &err) == 0)
            atomic_fetch_add(&batches_written, 1);
        else
            cg_store_rollback(s);
    }
    cg_store_close(s);
    atomic_store(&writer_done, 1);
    return NULL;
}

static int append_row(void *ctx, const cg_grid *g)
{
    cg_buf *b = ctx;
    uint8_t *wkb;
    size_t len;
    cg_mpoly_to_wkb(&g->geom, &wkb, &len);
    cg_buf_printf(b, "%s|%s|%d|%lld|%zu|", g->code, g->name_zh, g->households,
                  (long long)g->valid_from, len);
    cg_buf_append(b, wkb, len);
    cg_buf_putc(b, '\n');
    free(wkb);
    return 0;
}

/* Every grid row of a database, in code order, as bytes. */
static void dump(const char *path, cg_buf *out)
{
    cg_store *s;
    cg_err err = {0};
    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    cg_grid_filter f = {0};
    f.with_geom = 1;
    assert_int_equal(cg_store_grid_list(s, &f, append_row, out, &err), 0);
    cg_store_close(s);
}

static int64_t grid_count(const char *path)
{
    cg_store *s;
    cg_err err = {0};
    assert_int_equal(cg_store_open(path, 0, &s, &err), 0);
    assert_int_equal(cg_store_integrity_check(s, &err), 0);
    cg_grid_filter f = {0};
    int64_t n = -1;
    assert_int_equal(cg_store_grid_count(s, &f, &n, &err), 0);
    cg_store_close(s);
    return n;
}

static void test_backup_under_load_and_restore(void **state)
{
    (void)state;
    const char *db = cg_test_tmppath("live.db");
    cg_store *s;
    cg_err err = {0};
    assert_int_equal(cg_store_open(db, CG_STORE_CREATE, &s, &err), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, (void *)db), 0);

    int64_t counts[6];
    int taken = 0;
    for (int i = 0; i < 6; i++) {
        /* Wait for progress between backups so they see different states. */
        int target = (i + 1) * 3;
        while (atomic_load(&batches_written) < target && !atomic_load(&writer_done))
            sched_yield();
        char name[32];
        snprintf(name, sizeof name, "backup-%d.db", i);
        const char *path = cg_test_tmppath(name);
        if (cg_store_backup(s, path, NULL, NULL, &err) != 0) {
            fail_msg("backup %d failed: %s", i, err.message);
        }
        counts[taken++] = grid_count(path);
        assert_int_equal(counts[taken - 1] % BATCH, 0); /* whole transactions only */
    }
    atomic_store(&stop_writer, 1);
    pthread_join(t, NULL);
    /* Backups taken later never hold fewer grids. */
    for (int i = 1; i < taken; i++)
        assert_true(counts[i] >= counts[i - 1]);
    assert_true(counts[taken - 1] > 0);

    /* Restore the third backup over the live database: identical rows, and the grid
     * generation moves so servers reload. */
    int64_t generation_before = cg_store_grid_generation(s);
    cg_store_close(s);
    const char *chosen = cg_test_tmppath("backup-2.db");
    assert_int_equal(cg_store_restore(chosen, db, &err), 0);
    cg_buf a, b;
    cg_buf_init(&a);
    cg_buf_init(&b);
    dump(chosen, &a);
    dump(db, &b);
    assert_true(a.len > 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(grid_count(db), counts[2]);
    assert_int_equal(cg_store_open(db, 0, &s, &err), 0);
    assert_true(cg_store_grid_generation(s) > generation_before);
    cg_store_close(s);
    cg_buf_free(&a);
    cg_buf_free(&b);
}

static void test_restore_refuses_bad_backups(void **state)
{
    (void)state;
    const char *db = cg_test_tmppath("target.db");
    cg_store *s;
    cg_err err = {0};
    assert_int_equal(cg_store_open(db, CG_STORE_CREATE, &s, &err), 0);
    cg_store_close(s);
    const char *junk = cg_test_tmppath("junk.db");
    cg_test_write_file(junk, "not a database at all, just text\n", 33);
    assert_int_equal(cg_store_restore(junk, db, &err), -1);
    assert_non_null(strstr(err.message, "junk.db"));
    assert_int_equal(cg_store_restore(cg_test_tmppath("missing.db"), db, &err), -1);
    /* a backup refused leaves no ".part" behind and never creates the destination name */
    assert_int_equal(cg_store_open(db, 0, &s, &err), 0);
    assert_int_equal(cg_store_backup(s, "/nonexistent-dir/x.db", NULL, NULL, &err), -1);
    cg_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_under_load_and_restore),
        cmocka_unit_test(test_restore_refuses_bad_backups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
