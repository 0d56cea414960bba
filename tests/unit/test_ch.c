/*
 * Contraction hierarchies against plain Dijkstra (src/net/ch.c vs src/net/dijkstra.c) on real
 * networks: the small demo district and the OpenStreetMap extracts in ../shared/data/osm (each
 * skipped with a message when absent). For thousands of random position pairs the two must give
 * the same travel time (integer milliseconds, so exactly), the hierarchy's unpacked route must be a
 * real path (every consecutive pair of road nodes joined by an edge, the edge times adding up to
 * the route's time) and one-to-many (plain and with pinned targets) must equal Dijkstra for every
 * target, both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/demo.h"
#include "net/route.h"
#include "testutil.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random road position: a random edge's point at a random fraction. */
static void random_snap(const cg_graph *g, cg_snap *s)
{
    cg_err err;
    for (;;) {
        uint32_t e = (uint32_t)(next_rand() % cg_graph_edge_count(g));
        cg_point p = cg_graph_edge_point_at(g, e, (next_rand() % 1000) / 1000.0);
        if (cg_graph_snap(g, p, CG_SNAP_MAX_M, s, &err) == 0)
            return;
    }
}

typedef struct {
    int32_t x, y;
    uint32_t v;
} coord_node;

static int cmp_cn(const void *a, const void *b)
{
    const coord_node *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return p->y < q->y ? -1 : p->y > q->y;
}

static coord_node key_of(cg_point p)
{
    return (coord_node){(int32_t)lround(p.x * 1e7), (int32_t)lround(p.y * 1e7), 0};
}

/* The cheapest edge between nodes at points a and b (copies of a node share its point). */
static uint32_t edge_ms(const cg_graph *g, const coord_node *idx, size_t n, cg_point a, cg_point b)
{
    coord_node ka = key_of(a), kb = key_of(b);
    const coord_node *lo = bsearch(&ka, idx, n, sizeof *idx, cmp_cn);
    uint32_t best = UINT32_MAX;
    if (!lo)
        return best;
    while (lo > idx && cmp_cn(lo - 1, &ka) == 0)
        lo--;
    for (; lo < idx + n && cmp_cn(lo, &ka) == 0; lo++)
        for (uint32_t e = cg_graph_out_begin(g, lo->v); e < cg_graph_out_end(g, lo->v); e++) {
            coord_node kh = key_of(cg_graph_node_point(g, cg_graph_edge_to(g, e)));
            if (cmp_cn(&kh, &kb) == 0 && cg_graph_edge_ms(g, e) < best)
                best = cg_graph_edge_ms(g, e);
        }
    return best;
}

static void compare(const cg_graph *g, int pairs, int one_to_many)
{
    size_t n = cg_graph_node_count(g);
    coord_node *idx = malloc(n * sizeof *idx);
    for (uint32_t v = 0; v < n; v++) {
        idx[v] = key_of(cg_graph_node_point(g, v));
        idx[v].v = v;
    }
    qsort(idx, n, sizeof *idx, cmp_cn);
    cg_search *s;
    cg_err err;
    assert_int_equal(cg_search_new(g, &s, &err), 0);
    int mid_block = 0;
    for (int i = 0; i < pairs; i++) {
        cg_snap a, b;
        random_snap(g, &a);
        random_snap(g, &b);
        cg_path ch, dj;
        assert_int_equal(cg_route_ch(s, &a, &b, 1, &ch, &err), 0);
        assert_int_equal(cg_route_dijkstra(s, &a, &b, 0, &dj, &err), 0);
        if (ch.seconds != dj.seconds)
            fail_msg("pair %d: hierarchy %.3f s, Dijkstra %.3f s", i, ch.seconds, dj.seconds);
        /* The unpacked route: start, road nodes joined by edges, end. */
        assert_true(ch.n >= 2);
        double interior = 0;
        for (size_t k = 1; k + 2 < ch.n; k++) {
            uint32_t ms = edge_ms(g, idx, n, ch.pts[k], ch.pts[k + 1]);
            if (ms == UINT32_MAX)
                fail_msg("pair %d: no edge between route points %zu and %zu", i, k, k + 1);
            interior += ms;
        }
        /* What is left is the two partial edges at the ends (each under one edge's time). */
        double ends = ch.seconds * 1000 - interior;
        assert_true(ends >= -2);
        assert_true(ends <= cg_graph_edge_ms(g, a.edge) + cg_graph_edge_ms(g, b.edge) + 2.0 +
                                (cg_graph_edge_ms(g, a.edge) + cg_graph_edge_ms(g, b.edge)) * 2);
        mid_block += ch.n == 2;
        cg_path_free(&ch);
    }
    assert_true(mid_block < pairs / 10);
    if (one_to_many) {
        enum { T = 60 };
        cg_snap one, t[T];
        double sec[T];
        for (int dir = 0; dir < 2; dir++)
            for (int round = 0; round < 3; round++) {
                random_snap(g, &one);
                for (int k = 0; k < T; k++)
                    random_snap(g, &t[k]);
                assert_int_equal(cg_route_one_to_many(s, &one, t, T, dir, sec, &err), 0);
                /* Pinned targets give the same times as the unpinned query. */
                cg_targets *pin;
                double sec2[T];
                assert_int_equal(cg_targets_pin(s, t, T, dir, &pin, &err), 0);
                assert_int_equal(cg_targets_query(s, pin, &one, sec2, &err), 0);
                for (int k = 0; k < T; k++)
                    if (sec2[k] != sec[k])
                        fail_msg("pinned target %d: %.3f vs %.3f", k, sec2[k], sec[k]);
                cg_targets_free(pin);
                for (int k = 0; k < T; k++) {
                    cg_path p;
                    const cg_snap *f = dir == CG_FORWARD ? &one : &t[k];
                    const cg_snap *to = dir == CG_FORWARD ? &t[k] : &one;
                    assert_int_equal(cg_route_dijkstra(s, f, to, 0, &p, &err), 0);
                    if (p.seconds != sec[k])
                        fail_msg("one-to-many dir %d target %d: %.3f vs Dijkstra %.3f", dir, k,
                                 sec[k], p.seconds);
                }
            }
    }
    cg_search_free(s);
    free(idx);
}

static void test_demo_small(void **state)
{
    (void)state;
    cg_demo d;
    cg_err err;
    assert_int_equal(cg_demo_generate(7, CG_DEMO_SMALL, NULL, NULL, &d, &err), 0);
    for (int p = 0; p < CG_PROFILE_COUNT; p++) {
        cg_graph_build_opts o = {0};
        o.profile = (cg_profile)p;
        o.build_ch = 1;
        cg_graph *g;
        cg_graph_stats st;
        assert_int_equal(cg_graph_build_ways(d.ways, d.n_ways, &o, &g, &st, &err), 0);
        assert_true(st.nodes > 1000);
        compare(g, p == CG_PROFILE_CAR ? 2000 : 500, p == CG_PROFILE_CAR);
        cg_graph_free(g);
    }
    cg_demo_free(&d);
}

static void extract(const char *name, int pairs)
{
    char rel[128];
    snprintf(rel, sizeof rel, "osm/%s", name);
    const char *path = cg_test_shared_data(rel);
    if (!path) {
        print_message("skipped: %s is absent\n", rel);
        skip();
    }
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    o.build_ch = 1;
    cg_graph *g;
    cg_graph_stats st;
    cg_err err;
    if (cg_graph_build_pbf(path, &o, &g, &st, &err) != 0)
        fail_msg("%s: %s", name, err.message);
    print_message("%s: %lld nodes, %lld edges, %lld restrictions applied, CH %.2f s\n", name,
                  (long long)st.nodes, (long long)st.edges, (long long)st.restrictions_applied,
                  st.ch_s);
    assert_true(st.nodes > 500);
    compare(g, pairs, 1);
    cg_graph_free(g);
}

static void test_monaco(void **state)
{
    (void)state;
    extract("monaco.osm.pbf", 1000);
}

static void test_andorra(void **state)
{
    (void)state;
    extract("andorra.osm.pbf", 1000);
}

static void test_heidelberg(void **state)
{
    (void)state;
    extract("heidelberg.test.pbf", 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_small),
        cmocka_unit_test(test_monaco),
        cmocka_unit_test(test_andorra),
        cmocka_unit_test(test_heidelberg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
