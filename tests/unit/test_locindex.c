/*
 * Unit tests for the locate index (geo/locindex.c): a tiling of jittered quadrilaterals that
 * includes a concave L-shape, a polygon with a hole (and the island that fills it), a
 * multipolygon, a parent covering the whole tiling and a lone triangle. The index must agree with
 * the brute-force cg_mpoly_contains on random points, put points on shared edges and vertices
 * into exactly one tile, and behave on empty input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/locindex.h"
#include "testutil.h"

#define N    20 /* lattice cells per side */
#define LON0 120.0
#define LAT0 30.0
#define U    0.001

static cg_point lattice[N + 1][N + 1]; /* [j][i]: row j, column i */

static uint64_t rng_state = 88172645463325252ull;

static double next_random(void) /* xorshift64*, uniform in [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void make_lattice(void)
{
    for (int j = 0; j <= N; j++)
        for (int i = 0; i <= N; i++) {
            int border = i == 0 || j == 0 || i == N || j == N;
            double jx = border ? 0 : (next_random() - 0.5) * 0.7;
            double jy = border ? 0 : (next_random() - 0.5) * 0.7;
            lattice[j][i].x = LON0 + (i + jx) * U;
            lattice[j][i].y = LAT0 + (j + jy) * U;
        }
}

/* The lattice vertices around cells [i0, i1) x [j0, j1), counter-clockwise. */
static size_t block_outline(int i0, int j0, int i1, int j1, cg_point *out)
{
    size_t n = 0;
    for (int i = i0; i < i1; i++)
        out[n++] = lattice[j0][i];
    for (int j = j0; j < j1; j++)
        out[n++] = lattice[j][i1];
    for (int i = i1; i > i0; i--)
        out[n++] = lattice[j1][i];
    for (int j = j1; j > j0; j--)
        out[n++] = lattice[j][i0];
    return n;
}

typedef struct {
    cg_mpoly polys[N * N + 8];
    const cg_mpoly *ptrs[N * N + 8];
    cg_bbox boxes[N * N + 8];
    size_t n;
    size_t parent; /* the polygon covering the whole tiling */
} polyset;

static cg_mpoly *next_poly(polyset *s)
{
    cg_mpoly *m = &s->polys[s->n];
    m->polys = NULL;
    m->n_polys = 0;
    s->ptrs[s->n] = m;
    s->n++;
    return m;
}

static void add_cell(cg_mpoly *m, int i, int j)
{
    cg_point q[4];
    block_outline(i, j, i + 1, j + 1, q);
    cg_mpoly_add_ring_polygon(m, q, 4);
}

static void build_set(polyset *s)
{
    make_lattice();
    s->n = 0;
    static int owner[N][N]; /* 1 where a composite polygon already covers the cell */
    memset(owner, 0, sizeof owner);
    cg_point pts[4 * N + 1];

    /* Concave L: cells (2,2), (3,2), (2,3). */
    cg_point l_shape[] = {lattice[2][2], lattice[2][3], lattice[2][4], lattice[3][4],
                          lattice[3][3], lattice[4][3], lattice[4][2], lattice[3][2]};
    cg_mpoly_add_ring_polygon(next_poly(s), l_shape, 8);
    owner[2][2] = owner[2][3] = owner[3][2] = 1;

    /* A 3x3 block with the centre cell as a hole, and the island in the hole. */
    cg_mpoly *ring = next_poly(s);
    size_t n = block_outline(6, 6, 9, 9, pts);
    cg_mpoly_add_ring_polygon(ring, pts, n);
    cg_mpoly hole = {NULL, 0};
    add_cell(&hole, 7, 7);
    cg_ring *rings = realloc(ring->polys[0].rings, 2 * sizeof(cg_ring));
    assert_non_null(rings);
    rings[1] = hole.polys[0].rings[0];
    ring->polys[0].rings = rings;
    ring->polys[0].n_rings = 2;
    free(hole.polys[0].rings);
    free(hole.polys);
    add_cell(next_poly(s), 7, 7);
    for (int j = 6; j < 9; j++)
        for (int i = 6; i < 9; i++)
            owner[j][i] = 1;

    /* A multipolygon of two cells far apart. */
    cg_mpoly *multi = next_poly(s);
    add_cell(multi, 12, 3);
    add_cell(multi, 15, 10);
    owner[3][12] = owner[10][15] = 1;

    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++)
            if (!owner[j][i])
                add_cell(next_poly(s), i, j);

    s->parent = s->n;
    n = block_outline(0, 0, N, N, pts);
    cg_mpoly_add_ring_polygon(next_poly(s), pts, n);

    /* A lone triangle beyond the tiling, so the extent holds points that are in nothing. */
    cg_point tri[] = {{LON0 + 22 * U, LAT0 + 22 * U},
                      {LON0 + 25 * U, LAT0 + 22 * U},
                      {LON0 + 22 * U, LAT0 + 25 * U}};
    cg_mpoly_add_ring_polygon(next_poly(s), tri, 3);

    for (size_t k = 0; k < s->n; k++)
        s->boxes[k] = cg_mpoly_bbox(&s->polys[k]);
}

static void free_set(polyset *s)
{
    for (size_t k = 0; k < s->n; k++)
        cg_mpoly_free(&s->polys[k]);
}

static size_t brute_force(const polyset *s, cg_point p, size_t *out)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n; k++)
        if (cg_bbox_contains(&s->boxes[k], p) && cg_mpoly_contains(&s->polys[k], p))
            out[n++] = k;
    return n;
}

static double segment_distance(cg_point p, cg_point a, cg_point b)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double t = ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

static double edge_distance(const cg_mpoly *m, cg_point p)
{
    double best = INFINITY;
    for (size_t i = 0; i < m->n_polys; i++)
        for (size_t j = 0; j < m->polys[i].n_rings; j++) {
            const cg_ring *r = &m->polys[i].rings[j];
            for (size_t k = 0; k + 1 < r->n; k++)
                best = fmin(best, segment_distance(p, r->pts[k], r->pts[k + 1]));
        }
    return best;
}

static cg_locindex *build_index(const polyset *s)
{
    cg_err err;
    cg_err_clear(&err);
    cg_locindex *ix = cg_locindex_build(s->ptrs, s->n, &err);
    if (!ix)
        fail_msg("build failed: %s", err.message);
    return ix;
}

static void test_agrees_with_brute_force(void **state)
{
    (void)state;
    static polyset s;
    build_set(&s);
    cg_locindex *ix = build_index(&s);
    size_t want[8], got[8], near_edge = 0, inside_some = 0, outside_all = 0;
    for (int t = 0; t < 200000; t++) {
        /* The extent of the set plus a margin, so some points fall outside it. */
        cg_point p = {LON0 + (next_random() * 27 - 1) * U, LAT0 + (next_random() * 27 - 1) * U};
        size_t nw = brute_force(&s, p, want);
        size_t ng = cg_locindex_find(ix, p, got, 8);
        assert_true(ng <= 8);
        if (nw == ng && memcmp(want, got, nw * sizeof(size_t)) == 0) {
            if (nw)
                inside_some++;
            else
                outside_all++;
            continue;
        }
        /* A disagreement is allowed only within 1e-9 degrees of an edge of a polygon concerned. */
        double d = INFINITY;
        for (size_t k = 0; k < nw; k++)
            d = fmin(d, edge_distance(&s.polys[want[k]], p));
        for (size_t k = 0; k < ng; k++)
            d = fmin(d, edge_distance(&s.polys[got[k]], p));
        if (d >= 1e-9)
            fail_msg("point %.12f %.12f: index says %zu polygons, brute force %zu", p.x, p.y, ng,
                     nw);
        near_edge++;
    }
    /* Both kinds of answer were exercised, and edge cases stayed rare. */
    assert_true(inside_some > 100000);
    assert_true(outside_all > 10000);
    assert_true(near_edge < 10);
    cg_locindex_free(ix);
    free_set(&s);
}

/* Lattice vertices, points on shared edges and points level with a vertex belong to exactly one
 * tile. */
static void test_shared_boundaries_go_to_exactly_one_tile(void **state)
{
    (void)state;
    static polyset s;
    build_set(&s);
    cg_locindex *ix = build_index(&s);
    size_t got[8];
    for (int j = 1; j < N; j++)
        for (int i = 1; i < N; i++) {
            cg_point v = lattice[j][i], right = lattice[j][i + 1], up = lattice[j + 1][i];
            /* The last probe's ray passes exactly through vertex v: the half-open rule must
             * count v once. */
            cg_point probes[] = {v,
                                 {v.x + (right.x - v.x) * 0.5, v.y + (right.y - v.y) * 0.5},
                                 {v.x + (up.x - v.x) * 0.3, v.y + (up.y - v.y) * 0.3},
                                 {v.x - 0.3 * U, v.y}};
            for (size_t k = 0; k < 4; k++) {
                size_t n = cg_locindex_find(ix, probes[k], got, 8);
                size_t tiles = 0;
                for (size_t m = 0; m < n && m < 8; m++)
                    tiles += got[m] != s.parent;
                if (tiles != 1)
                    fail_msg("vertex (%d,%d) probe %zu is in %zu tiles", i, j, k, tiles);
            }
        }
    cg_locindex_free(ix);
    free_set(&s);
}

static void test_hole_and_multipolygon(void **state)
{
    (void)state;
    static polyset s;
    build_set(&s);
    cg_locindex *ix = build_index(&s);
    size_t got[8];
    /* Centre of the hole: the island (polygon 2) and the parent, not the ring (polygon 1). */
    cg_point centre = {(lattice[7][7].x + lattice[8][8].x) / 2,
                       (lattice[7][7].y + lattice[8][8].y) / 2};
    size_t n = cg_locindex_find(ix, centre, got, 8);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], s.parent);
    /* Both parts of the multipolygon (polygon 3). */
    for (int part = 0; part < 2; part++) {
        int i = part ? 15 : 12, j = part ? 10 : 3;
        cg_point c = {(lattice[j][i].x + lattice[j + 1][i + 1].x) / 2,
                      (lattice[j][i].y + lattice[j + 1][i + 1].y) / 2};
        n = cg_locindex_find(ix, c, got, 8);
        assert_int_equal(n, 2);
        assert_int_equal(got[0], 3);
    }
    /* max smaller than the count: the lowest indexes are written, the full count returned. */
    n = cg_locindex_find(ix, centre, got, 1);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], 2);
    cg_locindex_free(ix);
    free_set(&s);
}

static void test_points_outside_everything(void **state)
{
    (void)state;
    static polyset s;
    build_set(&s);
    cg_locindex *ix = build_index(&s);
    size_t got[8];
    cg_point far[] = {{0, 0},
                      {LON0 - U, LAT0 + 5 * U},
                      {LON0 + 24.9 * U, LAT0 + 24.9 * U}, /* in the extent, beyond the triangle */
                      {LON0 + 21 * U, LAT0 + 10 * U},
                      {NAN, LAT0},
                      {LON0, INFINITY}};
    for (size_t k = 0; k < sizeof far / sizeof far[0]; k++)
        assert_int_equal(cg_locindex_find(ix, far[k], got, 8), 0);
    assert_true(cg_locindex_memory(ix) > sizeof(size_t) * s.n);
    cg_locindex_free(ix);
    free_set(&s);
}

static void test_empty_index(void **state)
{
    (void)state;
    cg_err err;
    cg_locindex *ix = cg_locindex_build(NULL, 0, &err);
    assert_non_null(ix);
    size_t got[1];
    cg_point p = {LON0, LAT0};
    assert_int_equal(cg_locindex_find(ix, p, got, 1), 0);
    assert_true(cg_locindex_memory(ix) > 0);
    cg_locindex_free(ix);

    cg_mpoly empty = {NULL, 0};
    const cg_mpoly *ptrs[] = {&empty};
    ix = cg_locindex_build(ptrs, 1, &err);
    assert_non_null(ix);
    assert_int_equal(cg_locindex_find(ix, p, got, 1), 0);
    cg_locindex_free(ix);
}

static void test_rejects_non_finite_coordinates(void **state)
{
    (void)state;
    cg_point tri[] = {{0, 0}, {1, 0}, {NAN, 1}};
    cg_mpoly m = {NULL, 0};
    cg_mpoly_add_ring_polygon(&m, tri, 3);
    const cg_mpoly *ptrs[] = {&m};
    cg_err err;
    cg_err_clear(&err);
    assert_null(cg_locindex_build(ptrs, 1, &err));
    assert_int_equal(err.code, CG_EINVAL);
    cg_mpoly_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_brute_force),
        cmocka_unit_test(test_shared_boundaries_go_to_exactly_one_tile),
        cmocka_unit_test(test_hole_and_multipolygon),
        cmocka_unit_test(test_points_outside_everything),
        cmocka_unit_test(test_empty_index),
        cmocka_unit_test(test_rejects_non_finite_coordinates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
