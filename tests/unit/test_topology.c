/*
 * Unit tests for the topology check (geo/topology.c): hierarchies built in C from rectangles and
 * jittered quadrilaterals, with planted gaps, overlaps, children outside their parent and a
 * bow-tie. Expected areas are computed independently of civgrid, with the closed form for a
 * lon/lat rectangle on the sphere: R^2 * dlon * (sin lat2 - sin lat1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/topology.h"
#include "testutil.h"

#define LON0 120.1
#define LAT0 30.2
#define U    0.001 /* one unit of the test layouts, about 100 m */
#define R    6371008.8

static double rect_area_m2(double x0, double y0, double x1, double y1)
{
    double d = M_PI / 180;
    return R * R * (x1 - x0) * d * (sin(y1 * d) - sin(y0 * d));
}

/* A rectangle in layout units (counter-clockwise), as a one-polygon cg_mpoly. */
static cg_mpoly rect(double x0, double y0, double x1, double y1)
{
    cg_point pts[] = {{LON0 + x0 * U, LAT0 + y0 * U},
                      {LON0 + x1 * U, LAT0 + y0 * U},
                      {LON0 + x1 * U, LAT0 + y1 * U},
                      {LON0 + x0 * U, LAT0 + y1 * U}};
    cg_mpoly m = {NULL, 0};
    cg_mpoly_add_ring_polygon(&m, pts, 4);
    return m;
}

static double units_area(double x0, double y0, double x1, double y1)
{
    return rect_area_m2(LON0 + x0 * U, LAT0 + y0 * U, LON0 + x1 * U, LAT0 + y1 * U);
}

static int in_units_rect(cg_point p, double x0, double y0, double x1, double y1)
{
    double e = 1e-9;
    return p.x >= LON0 + x0 * U - e && p.x <= LON0 + x1 * U + e && p.y >= LAT0 + y0 * U - e &&
           p.y <= LAT0 + y1 * U + e;
}

typedef struct {
    cg_mpoly geom[64];
    cg_topo_item items[64];
    size_t n;
} layout;

static long add(layout *l, const char *code, long parent, cg_mpoly m)
{
    assert_true(l->n < 64);
    l->geom[l->n] = m;
    l->items[l->n].code = code;
    l->items[l->n].parent = parent;
    l->items[l->n].geom = &l->geom[l->n];
    return (long)l->n++;
}

static void layout_free(layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        cg_mpoly_free(&l->geom[i]);
}

static cg_finding *check(layout *l, size_t *n)
{
    cg_err err;
    cg_err_clear(&err);
    cg_finding *f = NULL;
    int rc = cg_topology_check(l->items, l->n, NULL, &f, n, &err);
    if (rc)
        fail_msg("check failed: %s", err.message);
    return f;
}

static void assert_area(double got, double want)
{
    if (fabs(got - want) > 0.005 * want)
        fail_msg("area %.3f m2, expected %.3f m2 (within 0.5%%)", got, want);
}

/* A 4x4 tiling of jittered quadrilaterals sharing their vertices exactly: nothing to report. */
static void test_exact_tiling_has_no_findings(void **state)
{
    (void)state;
    layout l = {0};
    long parent = add(&l, "330106", -1, rect(0, 0, 4, 4));
    cg_point v[5][5];
    srand(7);
    for (int j = 0; j <= 4; j++)
        for (int i = 0; i <= 4; i++) {
            int border = i == 0 || j == 0 || i == 4 || j == 4;
            double jx = border ? 0 : (rand() / (double)RAND_MAX - 0.5) * 0.6;
            double jy = border ? 0 : (rand() / (double)RAND_MAX - 0.5) * 0.6;
            v[j][i].x = LON0 + (i + jx) * U;
            v[j][i].y = LAT0 + (j + jy) * U;
        }
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++) {
            cg_point q[] = {v[j][i], v[j][i + 1], v[j + 1][i + 1], v[j + 1][i]};
            cg_mpoly m = {NULL, 0};
            cg_mpoly_add_ring_polygon(&m, q, 4);
            add(&l, "child", parent, m);
        }
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 0);
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_planted_gap(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 4, 4));
    add(&l, "a", p, rect(0, 0, 2, 2));
    add(&l, "b", p, rect(2, 0, 4, 2));
    add(&l, "c", p, rect(0, 2, 2, 4));
    add(&l, "d", p, rect(2, 2, 3.3, 4)); /* leaves [3.3, 4] x [2, 4] uncovered */
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].kind, CG_FINDING_GAP);
    assert_int_equal(f[0].item, p);
    assert_int_equal(f[0].other, -1);
    assert_area(f[0].area_m2, units_area(3.3, 2, 4, 4));
    assert_true(in_units_rect(f[0].at, 3.3, 2, 4, 4));
    assert_true(f[0].geom.n_polys >= 1);
    assert_area(cg_mpoly_area_m2(&f[0].geom), units_area(3.3, 2, 4, 4));
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_two_gaps_are_two_findings(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 4, 1));
    add(&l, "a", p, rect(0.5, 0, 2, 1));
    add(&l, "b", p, rect(2, 0, 3.5, 1));
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 2);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f[i].kind, CG_FINDING_GAP);
        assert_area(f[i].area_m2, units_area(0, 0, 0.5, 1));
        assert_true(in_units_rect(f[i].at, 0, 0, 0.5, 1) || in_units_rect(f[i].at, 3.5, 0, 4, 1));
        total += f[i].area_m2;
    }
    assert_area(total, 2 * units_area(0, 0, 0.5, 1));
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_planted_overlap(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 4, 2));
    long a = add(&l, "a", p, rect(0, 0, 2.4, 2)); /* overlaps b by [2, 2.4] x [0, 2] */
    long b = add(&l, "b", p, rect(2, 0, 4, 2));
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].kind, CG_FINDING_OVERLAP);
    assert_true((f[0].item == a && f[0].other == b) || (f[0].item == b && f[0].other == a));
    assert_area(f[0].area_m2, units_area(2, 0, 2.4, 2));
    assert_true(in_units_rect(f[0].at, 2, 0, 2.4, 2));
    assert_non_null(strstr(f[0].reason, "overlaps"));
    assert_string_equal(cg_finding_reason_code(&f[0]), "overlap");
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_child_outside_parent(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 4, 2));
    add(&l, "a", p, rect(0, 0, 2, 2));
    long b = add(&l, "b", p, rect(2, 0, 4.7, 2)); /* sticks out by [4, 4.7] x [0, 2] */
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].kind, CG_FINDING_OUTSIDE_PARENT);
    assert_int_equal(f[0].item, b);
    assert_int_equal(f[0].other, p);
    assert_area(f[0].area_m2, units_area(4, 0, 4.7, 2));
    assert_true(in_units_rect(f[0].at, 4, 0, 4.7, 2));
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_bow_tie_is_invalid_and_excluded(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 4, 2));
    add(&l, "a", p, rect(0, 0, 2, 2));
    cg_point tie[] = {{LON0 + 2 * U, LAT0},
                      {LON0 + 4 * U, LAT0 + 2 * U},
                      {LON0 + 4 * U, LAT0},
                      {LON0 + 2 * U, LAT0 + 2 * U}};
    cg_mpoly m = {NULL, 0};
    cg_mpoly_add_ring_polygon(&m, tie, 4);
    long b = add(&l, "tie", p, m);
    size_t n;
    cg_finding *f = check(&l, &n);
    /* Only the invalid polygon: it takes part in no other check of its family. */
    assert_int_equal(n, 1);
    assert_int_equal(f[0].kind, CG_FINDING_INVALID);
    assert_int_equal(f[0].item, b);
    assert_true(fabs(f[0].at.x - (LON0 + 3 * U)) < 1e-9);
    assert_true(fabs(f[0].at.y - (LAT0 + 1 * U)) < 1e-9);
    assert_non_null(strstr(f[0].reason, "elf-intersection"));
    assert_string_equal(cg_finding_reason_code(&f[0]), "invalid_self_intersection");
    assert_int_equal(f[0].geom.n_polys, 0);
    cg_findings_free(f, n);
    layout_free(&l);
}

/* An invalid parent is reported and skipped, but its children are still compared. */
static void test_invalid_parent_still_checks_its_children(void **state)
{
    (void)state;
    layout l = {0};
    cg_point tie[] = {
        {LON0, LAT0}, {LON0 + 4 * U, LAT0 + 2 * U}, {LON0 + 4 * U, LAT0}, {LON0, LAT0 + 2 * U}};
    cg_mpoly m = {NULL, 0};
    cg_mpoly_add_ring_polygon(&m, tie, 4);
    long p = add(&l, "tie", -1, m);
    add(&l, "a", p, rect(0, 0, 2.5, 2));
    add(&l, "b", p, rect(2, 0, 4, 2));
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].kind, CG_FINDING_INVALID);
    assert_int_equal(f[0].item, p);
    assert_int_equal(f[1].kind, CG_FINDING_OVERLAP);
    assert_area(f[1].area_m2, units_area(2, 0, 2.5, 2));
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_open_ring_is_invalid_not_a_crash(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 1, 1));
    cg_mpoly m = rect(0, 0, 1, 1);
    m.polys[0].rings[0].n = 3; /* too few points to be a ring */
    add(&l, "short", p, m);
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].kind, CG_FINDING_INVALID);
    assert_int_equal(f[0].item, 1);
    /* a fault GEOS names or the plain code, never an empty one */
    assert_true(strncmp(cg_finding_reason_code(&f[0]), "invalid", 7) == 0);
    cg_findings_free(f, n);
    layout_free(&l);
}

/*
 * district / street / community / grid, listed children first to show order does not matter.
 * Planted: a gap inside community C1 (its grids leave [3.5, 4] x [0, 2]) and an overlap between
 * communities C3 and C4 ([6, 6.5] x [0, 4]); the grids of C3 and C4 overlap too but are not
 * siblings, so that is not a separate finding.
 */
static void test_multi_level_hierarchy(void **state)
{
    (void)state;
    layout l = {0};
    /* Indexes are fixed up front so that children can be added before their parents. */
    enum { D, S1, S2, C1, C2, C3, C4 };
    long base = 8; /* the 8 grids come first */
    add(&l, "g1", base + C1, rect(0, 0, 2, 2));
    add(&l, "g2", base + C1, rect(2, 0, 3.5, 2));
    add(&l, "g3", base + C2, rect(0, 2, 2, 4));
    add(&l, "g4", base + C2, rect(2, 2, 4, 4));
    add(&l, "g5", base + C3, rect(4, 0, 6.5, 2));
    add(&l, "g6", base + C3, rect(4, 2, 6.5, 4));
    add(&l, "g7", base + C4, rect(6, 0, 8, 2));
    add(&l, "g8", base + C4, rect(6, 2, 8, 4));
    assert_int_equal(add(&l, "D", -1, rect(0, 0, 8, 4)), base + D);
    add(&l, "S1", base + D, rect(0, 0, 4, 4));
    add(&l, "S2", base + D, rect(4, 0, 8, 4));
    add(&l, "C1", base + S1, rect(0, 0, 4, 2));
    add(&l, "C2", base + S1, rect(0, 2, 4, 4));
    add(&l, "C3", base + S2, rect(4, 0, 6.5, 4));
    add(&l, "C4", base + S2, rect(6, 0, 8, 4));
    size_t n;
    cg_finding *f = check(&l, &n);
    assert_int_equal(n, 2);
    int saw_gap = 0, saw_overlap = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind == CG_FINDING_GAP) {
            saw_gap++;
            assert_int_equal(f[i].item, base + C1);
            assert_area(f[i].area_m2, units_area(3.5, 0, 4, 2));
            assert_true(in_units_rect(f[i].at, 3.5, 0, 4, 2));
        } else {
            saw_overlap++;
            assert_int_equal(f[i].kind, CG_FINDING_OVERLAP);
            long lo = f[i].item < f[i].other ? f[i].item : f[i].other;
            long hi = f[i].item < f[i].other ? f[i].other : f[i].item;
            assert_int_equal(lo, base + C3);
            assert_int_equal(hi, base + C4);
            assert_area(f[i].area_m2, units_area(6, 0, 6.5, 4));
        }
    }
    assert_int_equal(saw_gap, 1);
    assert_int_equal(saw_overlap, 1);
    cg_findings_free(f, n);
    layout_free(&l);
}

static void test_min_area_hides_slivers(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 2, 1));
    add(&l, "a", p, rect(0, 0, 1, 1));
    add(&l, "b", p, rect(1.001, 0, 2, 1)); /* a 0.1 m x 110 m gap, about 10 m2 */
    cg_topology_opts opts = {.min_area_m2 = 50};
    cg_finding *f;
    size_t n;
    cg_err err;
    assert_int_equal(cg_topology_check(l.items, l.n, &opts, &f, &n, &err), 0);
    assert_int_equal(n, 0);
    cg_findings_free(f, n);
    opts.min_area_m2 = 5;
    assert_int_equal(cg_topology_check(l.items, l.n, &opts, &f, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_area(f[0].area_m2, units_area(1, 0, 1.001, 1));
    cg_findings_free(f, n);
    layout_free(&l);
}

typedef struct {
    size_t calls, last_done, total;
    int monotonic;
} progress_log;

static void on_progress(void *ctx, size_t done, size_t total)
{
    progress_log *log = ctx;
    if (done < log->last_done)
        log->monotonic = 0;
    log->calls++;
    log->last_done = done;
    log->total = total;
}

static void test_progress_and_bad_parent(void **state)
{
    (void)state;
    layout l = {0};
    long p = add(&l, "P", -1, rect(0, 0, 2, 1));
    add(&l, "a", p, rect(0, 0, 1, 1));
    add(&l, "b", p, rect(1, 0, 2, 1));
    progress_log log = {0, 0, 0, 1};
    cg_topology_opts opts = {.progress = on_progress, .progress_ctx = &log};
    cg_finding *f;
    size_t n;
    cg_err err;
    assert_int_equal(cg_topology_check(l.items, l.n, &opts, &f, &n, &err), 0);
    cg_findings_free(f, n);
    assert_true(log.calls >= 2);
    assert_true(log.monotonic);
    assert_int_equal(log.last_done, log.total);

    l.items[2].parent = 17;
    assert_int_equal(cg_topology_check(l.items, l.n, NULL, &f, &n, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_string_equal(err.field, "parent");
    layout_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_tiling_has_no_findings),
        cmocka_unit_test(test_planted_gap),
        cmocka_unit_test(test_two_gaps_are_two_findings),
        cmocka_unit_test(test_planted_overlap),
        cmocka_unit_test(test_child_outside_parent),
        cmocka_unit_test(test_bow_tie_is_invalid_and_excluded),
        cmocka_unit_test(test_invalid_parent_still_checks_its_children),
        cmocka_unit_test(test_open_ring_is_invalid_not_a_crash),
        cmocka_unit_test(test_multi_level_hierarchy),
        cmocka_unit_test(test_min_area_hides_slivers),
        cmocka_unit_test(test_progress_and_bad_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
