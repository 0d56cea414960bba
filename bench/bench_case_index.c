/*
 * The case listing index (app/case_index.h) in one process, without HTTP: builds it over a
 * database (bench_cases_fill), reports build time and memory, then runs the listing benchmark's
 * filters (a random community + state + 30-day window, 100 per page) through the index and
 * through SQL (cg_store_case_count + cg_store_case_list, each case written with cg_case_json)
 * and prints the time per list: the index choosing a page of one, the index with every row read
 * from SQLite and written, the index with rows kept in memory (after a pass that keeps them),
 * and SQL. Every page is also compared between the index and SQL, byte for byte.
 *
 *   bench_case_index DB [N [PASS]]   (PASS 0..3: run only that one, e.g. under perf stat)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/case_index.h"
#include "app/cases.h"
#include "core/buf.h"
#include "core/log.h"

typedef struct {
    char codes[64][CG_CODE_MAX];
    size_t n;
} code_list;

static int collect_code(void *ctx, const cg_grid *g)
{
    code_list *l = ctx;
    if (l->n < 64)
        snprintf(l->codes[l->n++], CG_CODE_MAX, "%s", g->code);
    return 0;
}

static double now_s(void)
{
    return (double)cg_time_mono_ns() / 1e9;
}

/* CPU time of the process: on a shared machine, less disturbed than the wall clock. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB [N]\n", argv[0]);
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 2000;
    int only = argc > 3 ? atoi(argv[3]) : -1;
    cg_err err = {0};
    cg_store *s = NULL;
    if (cg_store_open(argv[1], 0, &s, &err)) {
        fprintf(stderr, "bench_case_index: %s\n", err.message);
        return 1;
    }
    code_list communities = {.n = 0};
    cg_grid_filter gf = {.level = CG_LEVEL_COMMUNITY};
    cg_case_rules *rules = NULL;
    if (cg_store_grid_list(s, &gf, collect_code, &communities, &err) || communities.n == 0 ||
        cg_case_rules_load(s, &rules, &err)) {
        fprintf(stderr, "bench_case_index: no communities or rules (%s)\n", err.message);
        return 1;
    }
    double t = now_s();
    cg_case_index *ix = NULL;
    if (cg_case_index_build(s, &ix, &err)) {
        fprintf(stderr, "bench_case_index: %s\n", err.message);
        return 1;
    }
    cg_case_index_stats st;
    cg_case_index_stats_get(ix, &st);
    printf("index: %lld cases, %lld grid codes, %.1f MB, built in %.2f s (%.2f s with the "
           "call)\n",
           (long long)st.cases, (long long)st.codes, (double)st.bytes / 1048576.0, st.seconds,
           now_s() - t);

    static const cg_case_state states[] = {CG_CASE_DISPATCHED, CG_CASE_IN_PROGRESS,
                                           CG_CASE_VERIFIED_CLOSED, CG_CASE_REPORTED,
                                           CG_CASE_HANDLED};
    int64_t now = (int64_t)time(NULL);
    cg_case_filter *filters = calloc((size_t)n, sizeof *filters);
    srand(7);
    for (int i = 0; i < n; i++) {
        int64_t until = now - (int64_t)(rand() % (330 * 86400));
        filters[i] = (cg_case_filter){.subtree_code = communities.codes[rand() % communities.n],
                                      .states = 1u << states[rand() % 5],
                                      .since = until - 30 * 86400,
                                      .until = until,
                                      .limit = 100};
    }
    cg_buf json, sql;
    cg_buf_init(&json);
    cg_buf_init(&sql);
    /* Each pass over the same filters. The rows are kept from pass 2 on (its first round keeps
     * them, unmeasured). */
    static const char *const names[] = {"index, a page of 1 (choosing)", "index + rows read + JSON",
                                        "index + rows kept + JSON", "SQL count + list + JSON"};
    int64_t mismatches = 0, cases = 0;
    for (int pass = 0; pass < 4; pass++) {
        if (only >= 0 && pass != only)
            continue;
        cg_case_index_set_row_limit(ix, pass >= 2 ? INT64_C(512) << 20 : 0);
        for (int warm = pass == 2; warm >= 0; warm--) {
            double t0 = now_s(), c0 = cpu_s();
            for (int i = 0; i < n; i++) {
                cg_case_filter f = filters[i];
                int64_t total = 0;
                size_t listed = 0;
                cg_buf_reset(&json);
                int rc;
                if (pass == 0)
                    f.limit = 1;
                if (pass < 3) {
                    rc = cg_case_index_list(ix, s, &f, rules, now, &json, &listed, &total, &err);
                } else {
                    /* Without an index: cg_cases_list_json lists through SQL. */
                    cg_case_ctx ctx = {.store = s, .rules = rules, .now = now};
                    cg_buf_reset(&sql);
                    rc = cg_cases_list_json(&ctx, &f, &sql, &listed, &total, &err);
                }
                if (rc) {
                    fprintf(stderr, "bench_case_index: list: %s\n", err.message);
                    return 1;
                }
                if (pass == 1)
                    cases += (int64_t)listed;
                if (pass == 3) {
                    /* The index's page (rows kept), byte for byte. */
                    int64_t total2 = 0;
                    size_t listed2 = 0;
                    cg_case_index_list(ix, s, &f, rules, now, &json, &listed2, &total2, &err);
                    if (total2 != total || listed2 != listed || json.len != sql.len ||
                        (sql.len && memcmp(json.data, sql.data, sql.len) != 0))
                        mismatches++;
                }
            }
            double dt = now_s() - t0, dc = cpu_s() - c0;
            if (!warm)
                printf("%-34s %7.3f ms CPU per list (%5.0f lists/s a core), %7.3f ms wall\n",
                       names[pass], 1000 * dc / n, n / dc, 1000 * dt / n);
        }
    }
    printf("%d lists, %.1f cases per page on average; pages differing between index and SQL: "
           "%lld\n",
           n, (double)cases / n, (long long)mismatches);
    cg_buf_free(&json);
    cg_buf_free(&sql);
    free(filters);
    cg_case_index_free(ix);
    cg_case_rules_free(rules);
    cg_store_close(s);
    return mismatches ? 1 : 0;
}
