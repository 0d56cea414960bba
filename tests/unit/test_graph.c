/*
 * Tests of the road graph (src/net/graph.c, graph_file.c, snap.c, dijkstra.c) on small
 * constructed networks whose answers follow from geometry: oneway roads, a no-turn and an
 * only-turn restriction, access=private, the dropped disconnected component, snapping (and the
 * error for a point far from any road), the multi-source bounded search against single-source
 * searches, and the graph file: a round trip, then a corrupted, a truncated, a wrong-version and
 * a stale file, each refused with its own error.
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

#include "net/route.h"
#include "testutil.h"

/* Nodes on a local metric frame near (30N, 120E): x, y in metres. */
#define LAT0 30.0
#define LON0 120.0
static cg_point at_m(double x, double y)
{
    double my = CG_EARTH_RADIUS_M * M_PI / 180, mx = my * cos(LAT0 * M_PI / 180);
    return (cg_point){LON0 + x / mx, LAT0 + y / my};
}

typedef struct {
    cg_way w[16];
    size_t n;
} net;

static void way(net *t, int64_t id, cg_road_class cls, int oneway, const char *access, int nn,
                const int64_t *ids, const double *xy)
{
    cg_way *w = &t->w[t->n++];
    memset(w, 0, sizeof *w);
    w->id = id;
    w->road_class = cls;
    w->oneway = oneway;
    snprintf(w->access, sizeof w->access, "%s", access);
    w->n = (size_t)nn;
    w->node_ids = malloc(sizeof(int64_t) * nn);
    w->pts = malloc(sizeof(cg_point) * nn);
    for (int i = 0; i < nn; i++) {
        w->node_ids[i] = ids[i];
        w->pts[i] = at_m(xy[2 * i], xy[2 * i + 1]);
    }
}

static void net_free(net *t)
{
    for (size_t i = 0; i < t->n; i++)
        cg_way_free(&t->w[i]);
}

/* The graph node at metric position (x, y), not a turn-restriction copy. */
static uint32_t node_at(const cg_graph *g, double x, double y)
{
    cg_point p = at_m(x, y);
    for (uint32_t v = 0; v < cg_graph_node_count(g); v++) {
        cg_point q = cg_graph_node_point(g, v);
        if (cg_graph_node_origin(g, v) == v && fabs(q.x - p.x) < 1e-6 && fabs(q.y - p.y) < 1e-6)
            return v;
    }
    fail_msg("no node at %g,%g", x, y);
    return CG_NO_NODE;
}

static cg_graph *build(const net *t, cg_profile p, const cg_turn_restriction *r, size_t nr,
                       cg_graph_stats *st)
{
    cg_graph_build_opts o = {0};
    o.profile = p;
    o.restrictions = r;
    o.n_restrictions = nr;
    o.build_ch = 1;
    cg_graph *g = NULL;
    cg_err err;
    if (cg_graph_build_ways(t->w, t->n, &o, &g, st, &err) != 0)
        fail_msg("build: %s", err.message);
    return g;
}

/* Seconds from node a to node b by bounded Dijkstra. */
static double node_time(const cg_graph *g, uint32_t a, uint32_t b)
{
    cg_search *s;
    cg_err err;
    assert_int_equal(cg_search_new(g, &s, &err), 0);
    assert_int_equal(cg_search_bounded_nodes(s, &a, 1, INFINITY, CG_FORWARD, &err), 0);
    double t = cg_search_seconds(s, b);
    cg_search_free(s);
    return t;
}

static double kmh_s(double metres, double kmh)
{
    return metres / (kmh / 3.6);
}

/* A 200 m square, one side oneway: going against it takes the other three sides. */
static void test_oneway(void **state)
{
    (void)state;
    net t = {0};
    int64_t a[] = {1, 2}, b[] = {2, 3}, c[] = {3, 4}, d[] = {4, 1};
    way(&t, 10, CG_ROAD_RESIDENTIAL, 1, "", 2, a, (double[]){0, 0, 200, 0});
    way(&t, 11, CG_ROAD_RESIDENTIAL, 0, "", 2, b, (double[]){200, 0, 200, 200});
    way(&t, 12, CG_ROAD_RESIDENTIAL, 0, "", 2, c, (double[]){200, 200, 0, 200});
    way(&t, 13, CG_ROAD_RESIDENTIAL, 0, "", 2, d, (double[]){0, 200, 0, 0});
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, NULL, 0, &st);
    assert_int_equal(st.nodes, 4);
    assert_int_equal(st.edges, 7);
    uint32_t n1 = node_at(g, 0, 0), n2 = node_at(g, 200, 0);
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    double v = sp.kmh[CG_ROAD_RESIDENTIAL];
    assert_true(fabs(node_time(g, n1, n2) - kmh_s(200, v)) < 0.05);
    assert_true(fabs(node_time(g, n2, n1) - kmh_s(600, v)) < 0.05);
    /* A position exactly at the tail of the oneway road is at node 1: it may leave by the other
     * road too (regression: it used to be forced along the oneway road). */
    cg_snap at1 = {CG_NO_EDGE, 0, 0, cg_graph_node_point(g, n1)}, at4;
    for (uint32_t e = cg_graph_out_begin(g, n1); e < cg_graph_out_end(g, n1); e++)
        if (cg_graph_edge_to(g, e) == n2)
            at1.edge = e;
    cg_err err;
    assert_int_equal(cg_graph_snap(g, at_m(0, 200), 1, &at4, &err), 0);
    cg_search *q;
    assert_int_equal(cg_search_new(g, &q, &err), 0);
    cg_path p1, p2;
    assert_int_equal(cg_route_ch(q, &at1, &at4, 0, &p1, &err), 0);
    assert_int_equal(cg_route_dijkstra(q, &at1, &at4, 0, &p2, &err), 0);
    assert_true(fabs(p1.seconds - kmh_s(200, v)) < 0.05 && p1.seconds == p2.seconds);
    assert_true(fabs(p1.metres - 200) < 0.5);
    cg_search_free(q);
    cg_graph_free(g);
    /* On foot the oneway does not apply. */
    g = build(&t, CG_PROFILE_FOOT, NULL, 0, &st);
    cg_speeds_default(CG_PROFILE_FOOT, &sp);
    assert_true(fabs(node_time(g, node_at(g, 200, 0), node_at(g, 0, 0)) -
                     kmh_s(200, sp.kmh[CG_ROAD_RESIDENTIAL])) < 0.05);
    cg_graph_free(g);
    net_free(&t);
}

/*
 * A crossing C with arms 100 m long to N, E, S, W, and a ring: N-W and N-E and E-S (no S-W).
 * Coming from S, the left turn into W is forbidden, so S -> W goes S-C-N then N-W.
 */
static void crossing(net *t)
{
    way(t, 20, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){8, 5}, (double[]){0, -100, 0, 0});
    way(t, 21, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){5, 6}, (double[]){0, 0, 0, 100});
    way(t, 22, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){5, 7}, (double[]){0, 0, 100, 0});
    way(t, 23, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){5, 9}, (double[]){0, 0, -100, 0});
    way(t, 24, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){6, 9}, (double[]){0, 100, -100, 0});
    way(t, 25, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){6, 7}, (double[]){0, 100, 100, 0});
    way(t, 26, CG_ROAD_RESIDENTIAL, 0, "", 2, (int64_t[]){7, 8}, (double[]){100, 0, 0, -100});
}

static void check_turn(const cg_turn_restriction *r, int detour)
{
    net t = {0};
    crossing(&t);
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, r, r ? 1 : 0, &st);
    assert_int_equal(st.restrictions_applied, r ? 1 : 0);
    assert_int_equal(st.restrictions_ignored, 0);
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    double v = sp.kmh[CG_ROAD_RESIDENTIAL], diag = 100 * sqrt(2);
    uint32_t s = node_at(g, 0, -100), w = node_at(g, -100, 0), e = node_at(g, 100, 0);
    double want = detour ? kmh_s(200 + diag, v) : kmh_s(200, v);
    assert_true(fabs(node_time(g, s, w) - want) < 0.05);
    /* Other turns from S stay as they were: S -> E takes the direct ring road E-S either way,
     * and W -> S (the opposite direction through the crossing) is not restricted. */
    assert_true(fabs(node_time(g, s, e) - kmh_s(diag, v)) < 0.05);
    assert_true(fabs(node_time(g, w, s) - kmh_s(200, v)) < 0.05);
    /* The hierarchy agrees with Dijkstra through the split node. */
    cg_search *q;
    cg_err err;
    assert_int_equal(cg_search_new(g, &q, &err), 0);
    cg_snap a, b;
    assert_int_equal(cg_graph_snap(g, at_m(0, -90), 50, &a, &err), 0);
    assert_int_equal(cg_graph_snap(g, at_m(-90, 0), 50, &b, &err), 0);
    cg_path p1, p2;
    assert_int_equal(cg_route_ch(q, &a, &b, 1, &p1, &err), 0);
    assert_int_equal(cg_route_dijkstra(q, &a, &b, 1, &p2, &err), 0);
    assert_true(fabs(p1.seconds - p2.seconds) < 1e-9);
    assert_true(fabs(p1.metres - (detour ? 200 + diag : 180)) < 1.0);
    cg_path_free(&p1);
    cg_path_free(&p2);
    cg_search_free(q);
    cg_graph_free(g);
    net_free(&t);
}

static void test_no_left_turn(void **state)
{
    (void)state;
    cg_turn_restriction r = {20, 5, 23, 0};
    check_turn(&r, 1);
}

static void test_only_straight_on(void **state)
{
    (void)state;
    cg_turn_restriction r = {20, 5, 21, 1};
    check_turn(&r, 1);
}

static void test_restriction_not_for_foot_and_unmatched_ignored(void **state)
{
    (void)state;
    net t = {0};
    crossing(&t);
    cg_turn_restriction r[] = {{20, 5, 23, 0}, {20, 5, 999, 0}, {20, 77, 23, 0}};
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, r, 3, &st);
    assert_int_equal(st.restrictions_applied, 1);
    assert_int_equal(st.restrictions_ignored, 2);
    cg_graph_free(g);
    /* Without restrictions, and on foot with them, S -> W turns left at the crossing. */
    check_turn(NULL, 0);
    g = build(&t, CG_PROFILE_FOOT, r, 3, &st);
    assert_int_equal(st.restrictions_applied, 0);
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_FOOT, &sp);
    assert_true(fabs(node_time(g, node_at(g, 0, -100), node_at(g, -100, 0)) -
                     kmh_s(200, sp.kmh[CG_ROAD_RESIDENTIAL])) < 0.05);
    cg_graph_free(g);
    net_free(&t);
}

/* No U-turn at the crossing from any arm: every way into C is restricted, so C itself keeps no
 * edge in and leaves the component while its four copies stay; a copy then stands for it. */
static void test_every_approach_restricted(void **state)
{
    (void)state;
    net t = {0};
    crossing(&t);
    cg_turn_restriction r[] = {{20, 5, 20, 0}, {21, 5, 21, 0}, {22, 5, 22, 0}, {23, 5, 23, 0}};
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, r, 4, &st);
    assert_int_equal(st.restrictions_applied, 4);
    assert_int_equal(st.nodes_dropped, 1);
    uint32_t n = cg_graph_node_count(g);
    for (uint32_t v = 0; v < n; v++) {
        uint32_t o = cg_graph_node_origin(g, v);
        assert_true(o < n);
        assert_int_equal(cg_graph_node_origin(g, o), o);
    }
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    assert_true(fabs(node_time(g, node_at(g, 0, -100), node_at(g, 0, 100)) -
                     kmh_s(200, sp.kmh[CG_ROAD_RESIDENTIAL])) < 0.05);
    cg_graph_free(g);
    net_free(&t);
}

/* access=private is closed to cars; a separate road pair is a second component and is dropped. */
static void test_access_and_components(void **state)
{
    (void)state;
    net t = {0};
    crossing(&t);
    way(&t, 30, CG_ROAD_SERVICE, 0, "private", 2, (int64_t[]){8, 9}, (double[]){0, -100, -100, 0});
    way(&t, 31, CG_ROAD_RESIDENTIAL, 0, "", 3, (int64_t[]){40, 41, 42},
        (double[]){5000, 0, 5100, 0, 5200, 0});
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, NULL, 0, &st);
    assert_int_equal(st.ways_read, 9);
    assert_int_equal(st.ways_used, 8);
    assert_int_equal(st.nodes, 5);
    assert_int_equal(st.nodes_dropped, 3);
    assert_int_equal(st.components_dropped, 1);
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    assert_true(fabs(node_time(g, node_at(g, 0, -100), node_at(g, -100, 0)) -
                     kmh_s(200, sp.kmh[CG_ROAD_RESIDENTIAL])) < 0.05);
    cg_graph_free(g);
    /* Walkers may use the private road: S -> W along it. */
    g = build(&t, CG_PROFILE_FOOT, NULL, 0, &st);
    cg_speeds_default(CG_PROFILE_FOOT, &sp);
    assert_true(fabs(node_time(g, node_at(g, 0, -100), node_at(g, -100, 0)) -
                     kmh_s(100 * sqrt(2), sp.kmh[CG_ROAD_SERVICE])) < 0.05);
    cg_graph_free(g);
    net_free(&t);
}

static void test_snap(void **state)
{
    (void)state;
    net t = {0};
    crossing(&t);
    cg_graph_stats st;
    cg_graph *g = build(&t, CG_PROFILE_CAR, NULL, 0, &st);
    cg_snap s;
    cg_err err;
    /* 30 m west of the south arm, 40 m below the crossing (and 40 m from the west arm). */
    assert_int_equal(cg_graph_snap(g, at_m(-30, -40), CG_SNAP_MAX_M, &s, &err), 0);
    assert_true(fabs(s.snap_m - 30) < 0.5);
    assert_true(cg_distance_m(s.at, at_m(0, -40)) < 0.5);
    cg_edge e;
    cg_graph_edge(g, s.edge, &e);
    double want = cg_distance_m(cg_graph_node_point(g, e.from), at_m(0, -40)) / e.metres;
    assert_true(fabs(s.fraction - want) < 1e-3);
    /* Nearest of two roads: 10 m from the N-E ring beats 60 m from the E arm. */
    assert_int_equal(cg_graph_snap(g, at_m(57, 40), CG_SNAP_MAX_M, &s, &err), 0);
    assert_true(s.snap_m < 15);
    /* Far from every road: a clear error, not a far-away answer. */
    assert_int_equal(cg_graph_snap(g, at_m(3000, 3000), CG_SNAP_MAX_M, &s, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_non_null(strstr(err.message, "road"));
    assert_int_equal(cg_graph_snap(g, (cg_point){200, 95}, CG_SNAP_MAX_M, &s, &err), -1);
    cg_graph_free(g);
    net_free(&t);
}

/* A lattice of residential streets, 80 m apart, 12 x 12 nodes. */
static void lattice(cg_way **out, size_t *n_out)
{
    enum { K = 12 };
    cg_way *w = calloc(2 * K, sizeof *w);
    for (int line = 0; line < 2 * K; line++) {
        w[line].id = 100 + line;
        w[line].road_class = line % 3 ? CG_ROAD_RESIDENTIAL : CG_ROAD_SECONDARY;
        w[line].oneway = line == 5 ? 1 : 0;
        w[line].n = K;
        w[line].node_ids = malloc(K * sizeof(int64_t));
        w[line].pts = malloc(K * sizeof(cg_point));
        for (int k = 0; k < K; k++) {
            int i = line < K ? k : line - K, j = line < K ? line : k;
            w[line].node_ids[k] = 1 + j * K + i;
            w[line].pts[k] = at_m(i * 80.0, j * 80.0);
        }
    }
    *out = w;
    *n_out = 2 * K;
}

static void test_multi_source(void **state)
{
    (void)state;
    cg_way *w;
    size_t nw;
    lattice(&w, &nw);
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    cg_graph *g;
    cg_err err;
    assert_int_equal(cg_graph_build_ways(w, nw, &o, &g, NULL, &err), 0);
    cg_snap src[3];
    cg_point pts[3] = {at_m(35, 0), at_m(800, 410), at_m(400, 880)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(cg_graph_snap(g, pts[i], 50, &src[i], &err), 0);
    cg_search *all, *one[3];
    assert_int_equal(cg_search_new(g, &all, &err), 0);
    for (int dir = 0; dir < 2; dir++) {
        double budget = 60;
        assert_int_equal(cg_search_bounded(all, src, 3, budget, dir, &err), 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(cg_search_new(g, &one[i], &err), 0);
            assert_int_equal(cg_search_bounded(one[i], &src[i], 1, INFINITY, dir, &err), 0);
        }
        size_t within = 0;
        for (uint32_t v = 0; v < cg_graph_node_count(g); v++) {
            double best = INFINITY;
            for (int i = 0; i < 3; i++)
                best = fmin(best, cg_search_seconds(one[i], v));
            double t = cg_search_seconds(all, v);
            if (best <= budget) {
                within++;
                assert_true(fabs(t - best) < 1e-9);
                uint32_t s = cg_search_source(all, v);
                assert_true(s < 3);
                assert_true(fabs(cg_search_seconds(one[s], v) - best) < 1e-9);
            } else {
                assert_true(isinf(t));
            }
        }
        assert_int_equal(cg_search_reached_count(all), within);
        assert_true(within > 10 && within < cg_graph_node_count(g));
        for (int i = 0; i < 3; i++)
            cg_search_free(one[i]);
    }
    cg_search_bounded(all, src, 3, 0, CG_FORWARD, &err);
    assert_int_equal(err.code, CG_EINVAL);
    assert_int_equal(cg_search_bounded(all, src, 0, 10, CG_FORWARD, &err), -1);
    cg_search_free(all);
    cg_graph_free(g);
    for (size_t i = 0; i < nw; i++)
        cg_way_free(&w[i]);
    free(w);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void patch(const char *path, long off, int xor_byte)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ xor_byte, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, long len)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    for (long i = 0; i < len; i++)
        fputc(fgetc(a), b);
    fclose(a);
    fclose(b);
}

static void test_file(void **state)
{
    (void)state;
    cg_way *w;
    size_t nw;
    lattice(&w, &nw);
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_BICYCLE;
    o.build_ch = 1;
    cg_graph *g, *h;
    cg_err err;
    assert_int_equal(cg_graph_build_ways(w, nw, &o, &g, NULL, &err), 0);
    const char *path = cg_test_tmppath("t.bicycle.graph");
    assert_int_equal(cg_graph_save(g, path, &err), 0);
    assert_int_equal(cg_graph_load(path, CG_PROFILE_BICYCLE, NULL, &h, &err), 0);
    assert_int_equal(cg_graph_node_count(h), cg_graph_node_count(g));
    assert_int_equal(cg_graph_edge_count(h), cg_graph_edge_count(g));
    assert_true(cg_graph_has_ch(h));
    for (uint32_t e = 0; e < cg_graph_edge_count(g); e++) {
        cg_edge a, b;
        cg_graph_edge(g, e, &a);
        cg_graph_edge(h, e, &b);
        assert_true(a.from == b.from && a.to == b.to && a.ms == b.ms && a.metres == b.metres &&
                    a.road_class == b.road_class && a.flags == b.flags && a.twin == b.twin);
    }
    cg_search *sg, *sh;
    assert_int_equal(cg_search_new(g, &sg, &err), 0);
    assert_int_equal(cg_search_new(h, &sh, &err), 0);
    cg_snap a, b;
    assert_int_equal(cg_graph_snap(h, at_m(10, 10), 50, &a, &err), 0);
    assert_int_equal(cg_graph_snap(h, at_m(870, 700), 50, &b, &err), 0);
    cg_path p1, p2;
    assert_int_equal(cg_route_ch(sg, &a, &b, 0, &p1, &err), 0);
    assert_int_equal(cg_route_ch(sh, &a, &b, 0, &p2, &err), 0);
    assert_true(p1.seconds == p2.seconds && p1.seconds > 0);
    cg_search_free(sg);
    cg_search_free(sh);
    cg_graph_free(h);

    assert_int_equal(cg_graph_load(path, CG_PROFILE_CAR, NULL, &h, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    long len = file_size(path);
    const char *bad = cg_test_tmppath("bad.graph");
    copy_file(path, bad, len);
    patch(bad, len - 100, 0x10);
    assert_int_equal(cg_graph_load(bad, CG_PROFILE_BICYCLE, NULL, &h, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_non_null(strstr(err.message, "checksum"));
    copy_file(path, bad, len - 64);
    assert_int_equal(cg_graph_load(bad, CG_PROFILE_BICYCLE, NULL, &h, &err), -1);
    assert_non_null(strstr(err.message, "truncated"));
    copy_file(path, bad, len);
    patch(bad, 8, 0x7); /* the version field follows the 8-byte magic */
    assert_int_equal(cg_graph_load(bad, CG_PROFILE_BICYCLE, NULL, &h, &err), -1);
    assert_int_equal(err.code, CG_EUNSUPPORTED);
    cg_test_write_file(bad, "hello", 5);
    assert_int_equal(cg_graph_load(bad, CG_PROFILE_BICYCLE, NULL, &h, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_int_equal(cg_graph_load(cg_test_tmppath("none.graph"), CG_PROFILE_CAR, NULL, &h, &err),
                     -1);
    assert_int_equal(err.code, CG_ENOTFOUND);

    /* Built from a store: adding a road afterwards makes the file stale. */
    cg_store *st;
    const char *db = cg_test_tmppath("g.db");
    assert_int_equal(cg_store_open(db, CG_STORE_CREATE, &st, &err), 0);
    for (size_t i = 0; i < nw; i++)
        assert_int_equal(cg_store_way_put(st, &w[i], &err), 0);
    cg_graph_free(g);
    assert_int_equal(cg_graph_build_store(st, &o, &g, NULL, &err), 0);
    char gp[512];
    assert_int_equal(cg_graph_path(db, CG_PROFILE_BICYCLE, gp, sizeof gp, &err), 0);
    assert_int_equal(cg_graph_save(g, gp, &err), 0);
    assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), 0);
    cg_graph_free(h);
    /* Rewritten as it was, or only renamed: nothing routing reads changed, the file stays. */
    cg_way same = w[0];
    snprintf(same.name_en, sizeof same.name_en, "Renamed Road");
    assert_int_equal(cg_store_way_put(st, &same, &err), 0);
    assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), 0);
    cg_graph_free(h);
    /* An edited road (same count of roads): a node moved 10 m, a road made oneway, a road
     * closed (access=no), each makes it stale; put back, the file is good again. */
    cg_point moved_pts[64];
    assert_true(w[0].n <= 64);
    memcpy(moved_pts, w[0].pts, w[0].n * sizeof *moved_pts);
    moved_pts[w[0].n - 1].x += 1e-4;
    cg_way moved = w[0];
    moved.pts = moved_pts;
    cg_way oneway = w[1];
    oneway.oneway = oneway.oneway ? 0 : 1;
    cg_way closed = w[2];
    snprintf(closed.access, sizeof closed.access, "no");
    const cg_way *edits[] = {&moved, &oneway, &closed};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(cg_store_way_put(st, edits[k], &err), 0);
        assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), -1);
        assert_int_equal(err.code, CG_ECONFLICT);
        assert_non_null(strstr(err.message, "stale"));
        assert_non_null(strstr(err.message, "edited"));
        assert_int_equal(cg_store_way_put(st, &w[k], &err), 0);
        assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), 0);
        cg_graph_free(h);
    }
    /* A road added. */
    cg_way extra = w[0];
    extra.id = 999;
    assert_int_equal(cg_store_way_put(st, &extra, &err), 0);
    assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_non_null(strstr(err.message, "stale"));
    assert_non_null(strstr(err.message, "roads"));
    /* Built again, the file is good. */
    cg_graph_free(g);
    assert_int_equal(cg_graph_build_store(st, &o, &g, NULL, &err), 0);
    assert_int_equal(cg_graph_save(g, gp, &err), 0);
    assert_int_equal(cg_graph_load(gp, CG_PROFILE_BICYCLE, st, &h, &err), 0);
    cg_graph_free(h);
    cg_store_close(st);
    cg_graph_free(g);
    for (size_t i = 0; i < nw; i++)
        cg_way_free(&w[i]);
    free(w);
}

static void test_profiles(void **state)
{
    (void)state;
    cg_profile p;
    cg_err err;
    assert_int_equal(cg_profile_parse("bicycle", &p, &err), 0);
    assert_int_equal(p, CG_PROFILE_BICYCLE);
    assert_int_equal(cg_profile_parse("tank", &p, &err), -1);
    assert_string_equal(err.field, "profile");
    cg_speeds sp;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    const char *path = cg_test_tmppath("speeds.json");
    cg_test_write_file(path, "{\"service\": 8, \"footway\": 0}", 28);
    assert_int_equal(cg_speeds_load(path, &sp, &err), 0);
    assert_true(sp.kmh[CG_ROAD_SERVICE] == 8);
    cg_test_write_file(path, "{\"servise\": 8}", 14);
    assert_int_equal(cg_speeds_load(path, &sp, &err), -1);
    assert_string_equal(err.field, "servise");
    cg_test_write_file(path, "{\"service\": 900}", 16);
    assert_int_equal(cg_speeds_load(path, &sp, &err), -1);
    cg_test_write_file(path, "[1,2]", 5);
    assert_int_equal(cg_speeds_load(path, &sp, &err), -1);
    /* maxspeed lowers a car's speed, never raises it. */
    cg_way w = {0};
    w.road_class = CG_ROAD_PRIMARY;
    w.n = 2;
    double kmh;
    int f, b;
    cg_speeds_default(CG_PROFILE_CAR, &sp);
    w.maxspeed_kmh = 20;
    cg_profile_way(CG_PROFILE_CAR, &sp, &w, &kmh, &f, &b);
    assert_true(kmh == 20 && f && b);
    w.maxspeed_kmh = 120;
    cg_profile_way(CG_PROFILE_CAR, &sp, &w, &kmh, &f, &b);
    assert_true(kmh == sp.kmh[CG_ROAD_PRIMARY]);
    w.oneway = -1;
    cg_profile_way(CG_PROFILE_CAR, &sp, &w, &kmh, &f, &b);
    assert_true(!f && b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oneway),
        cmocka_unit_test(test_no_left_turn),
        cmocka_unit_test(test_only_straight_on),
        cmocka_unit_test(test_restriction_not_for_foot_and_unmatched_ignored),
        cmocka_unit_test(test_every_approach_restricted),
        cmocka_unit_test(test_access_and_components),
        cmocka_unit_test(test_snap),
        cmocka_unit_test(test_multi_source),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
