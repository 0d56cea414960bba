/*
 * Fills a demo database with N synthetic cases for the listing benchmark (bench/cases_bench.sh):
 * cases spread over the district's grids, the default categories, the last 365 days and the
 * states a year of work leaves behind (most closed, the rest at every stage). Written through
 * the store's own insert (rows, history, full-text index, audit), 20,000 per transaction, so
 * the file is exactly what the server would have written. Prints progress and the insert rate.
 *
 *   bench_cases_fill DB N [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/case.h"
#include "model/category.h"
#include "store/store.h"

typedef struct {
    char code[CG_CODE_MAX];
    double x, y, w, h;
} grid_box;

typedef struct {
    grid_box *items;
    size_t n, cap;
} grid_list;

static int collect(void *ctx, const cg_grid *g)
{
    grid_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items)
            return 1;
    }
    grid_box *b = &l->items[l->n++];
    snprintf(b->code, sizeof b->code, "%s", g->code);
    cg_bbox bb = cg_mpoly_bbox(&g->geom);
    b->x = bb.min_x;
    b->y = bb.min_y;
    b->w = bb.max_x - bb.min_x;
    b->h = bb.max_y - bb.min_y;
    return 0;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double unit_rand(void)
{
    return (double)(next_rand() >> 11) / 9007199254740992.0;
}

static const char *const words[] = {
    "井盖", "缺失", "路灯",   "不亮",   "垃圾",   "堆放", "占道", "经营", "积水", "破损",
    "违章", "停车", "噪音",   "扰民",   "树木",   "倒伏", "消防", "通道", "堵塞", "小区",
    "东门", "路口", "人行道", "公交站", "菜市场", "学校", "北侧", "南侧", "夜间", "多日"};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB N [SEED]\n", argv[0]);
        return 2;
    }
    const char *db = argv[1];
    long n = atol(argv[2]);
    if (argc > 3)
        rng_state ^= (uint64_t)atoll(argv[3]) * 0x9E3779B97F4A7C15ull;
    cg_err err = {0};
    cg_store *s = NULL;
    if (cg_store_open(db, 0, &s, &err)) {
        fprintf(stderr, "bench_cases_fill: %s\n", err.message);
        return 1;
    }
    grid_list grids = {0};
    cg_grid_filter f = {.level = CG_LEVEL_GRID, .with_geom = 1};
    if (cg_store_grid_list(s, &f, collect, &grids, &err) || grids.n == 0) {
        fprintf(stderr, "bench_cases_fill: no grids (%s)\n", err.message);
        return 1;
    }
    cg_taxonomy tax = {0};
    if (cg_taxonomy_default(&tax, &err)) {
        fprintf(stderr, "bench_cases_fill: %s\n", err.message);
        return 1;
    }
    const char **cats = malloc(tax.n * sizeof *cats);
    size_t n_cats = 0;
    for (size_t i = 0; i < tax.n; i++)
        if (cg_taxonomy_fileable(&tax, tax.items[i].code))
            cats[n_cats++] = tax.items[i].code;

    /* States a year of work leaves behind. */
    static const struct {
        cg_case_state state;
        int percent;
    } mix[] = {{CG_CASE_REPORTED, 4},    {CG_CASE_REGISTERED, 4}, {CG_CASE_DISPATCHED, 10},
               {CG_CASE_IN_PROGRESS, 8}, {CG_CASE_HANDLED, 4},    {CG_CASE_VERIFIED_CLOSED, 50},
               {CG_CASE_EVALUATED, 16},  {CG_CASE_RETURNED, 1},   {CG_CASE_REJECTED, 3}};
    int64_t now = (int64_t)time(NULL);
    cg_case *c = calloc(1, sizeof *c);
    cg_case_event *ev = calloc(1, sizeof *ev);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        if (i % 20000 == 0 && cg_store_begin(s, &err))
            break;
        memset(c, 0, sizeof *c);
        const grid_box *g = &grids.items[next_rand() % grids.n];
        snprintf(c->grid_code, sizeof c->grid_code, "%s", g->code);
        c->lon = cg_coord_round(g->x + g->w * (0.25 + 0.5 * unit_rand()));
        c->lat = cg_coord_round(g->y + g->h * (0.25 + 0.5 * unit_rand()));
        snprintf(c->category, sizeof c->category, "%s", cats[next_rand() % n_cats]);
        c->source = (cg_case_source)(1 + next_rand() % 5);
        size_t len = 0;
        int nw = 4 + (int)(next_rand() % 10);
        for (int w = 0; w < nw; w++)
            len += (size_t)snprintf(c->description + len, sizeof c->description - len, "%s",
                                    words[next_rand() % (sizeof words / sizeof words[0])]);
        c->reported_at = now - (int64_t)(unit_rand() * 365 * 86400);
        int pick = (int)(next_rand() % 100), acc = 0;
        c->status.state = CG_CASE_REPORTED;
        for (size_t m = 0; m < sizeof mix / sizeof mix[0]; m++) {
            acc += mix[m].percent;
            if (pick < acc) {
                c->status.state = mix[m].state;
                break;
            }
        }
        c->status.tier = CG_TIER_GRID;
        int open = !cg_case_state_closed(c->status.state) && !cg_case_state_final(c->status.state);
        if (c->status.state != CG_CASE_REPORTED)
            c->registered_at = c->reported_at + 1800;
        if (c->status.state >= CG_CASE_DISPATCHED && c->status.state != CG_CASE_REJECTED) {
            c->dispatched_at = c->reported_at + 3600;
            c->assignee.kind = CG_ASSIGN_GRID;
            snprintf(c->assignee.label, sizeof c->assignee.label, "%s", g->code);
            c->deadlines.handle_by = c->dispatched_at + 3 * 86400;
        }
        if (cg_case_state_closed(c->status.state)) {
            c->handled_at = c->reported_at + 2 * 86400;
            c->closed_at = c->handled_at + 3600;
        }
        c->due_at =
            open ? (c->deadlines.handle_by ? c->deadlines.handle_by : c->reported_at + 7200) : 0;
        c->updated_at = c->closed_at ? c->closed_at : c->reported_at;
        memset(ev, 0, sizeof *ev);
        ev->action = CG_ACT_REPORT;
        ev->from = CG_CASE_NONE;
        ev->to = CG_CASE_REPORTED;
        ev->at = c->reported_at;
        snprintf(ev->actor_name, sizeof ev->actor_name, "bench");
        snprintf(ev->detail, sizeof ev->detail, "{}");
        int64_t existing = 0;
        if (cg_store_case_insert(s, c, ev, NULL, NULL, &existing, &err)) {
            fprintf(stderr, "bench_cases_fill: case %ld: %s\n", i, err.message);
            cg_store_rollback(s);
            return 1;
        }
        if ((i + 1) % 20000 == 0 || i + 1 == n) {
            if (cg_store_commit(s, &err)) {
                fprintf(stderr, "bench_cases_fill: %s\n", err.message);
                return 1;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
            fprintf(stderr, "\rbench_cases_fill: %ld / %ld cases (%.0f/s)", i + 1, n,
                    (double)(i + 1) / secs);
        }
    }
    fprintf(stderr, "\n");
    printf("filled %ld cases over %zu grids and %zu categories\n", n, grids.n, n_cats);
    free(c);
    free(ev);
    free(cats);
    free(grids.items);
    cg_taxonomy_free(&tax);
    cg_store_close(s);
    return 0;
}
