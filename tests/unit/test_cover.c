/*
 * Unit tests for plan/cover.c: hand-made set covering and maximal covering instances whose
 * optima are worked out by hand, fixed sites, demand no candidate covers, bad instances, and
 * random geometric instances where the heuristic must come within 3% of CBC's proven optimum
 * and maximal covering must not lose coverage as p grows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "plan/cover.h"
#include "plan/cover_synth.h"
#include "testutil.h"

/* Six points 0..5. A = {0,1,2}, B = {3,4,5}, C = {0,1,3,4}, D = {2}, E = {5}.
 * Plain greedy takes C first (4 points) and then needs two more: 3 sites. The optimum is {A, B}
 * (no single site covers 2 and 5 together, so 2 is a lower bound). */
static const size_t trap_start[] = {0, 3, 6, 10, 11, 12};
static const uint32_t trap_cover[] = {0, 1, 2, 3, 4, 5, 0, 1, 3, 4, 2, 5};
enum { A, B, C, D, E };

static cg_cover_instance trap_instance(void)
{
    cg_cover_instance in = {0};
    in.n_demand = 6;
    in.n_cand = 5;
    in.cover_start = trap_start;
    in.cover = trap_cover;
    return in;
}

static void test_set_cover_beats_greedy_trap(void **state)
{
    (void)state;
    cg_cover_instance in = trap_instance();
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.time_limit_s = 0.2;
    cg_cover_result r;
    cg_err err;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_int_equal(r.n_open, 2);
    assert_int_equal(r.open[0], A);
    assert_int_equal(r.open[1], B);
    assert_int_equal(r.n_covered, 6);
    assert_int_equal(r.n_uncoverable, 0);
    assert_true(r.objective == 2.0);
    cg_cover_result_free(&r);
}

static void test_fixed_sites_kept(void **state)
{
    (void)state;
    /* With C fixed, the best completion is C + D + E or C + A + B: 3 sites, C among them. */
    cg_cover_instance in = trap_instance();
    uint8_t fixed[5] = {0, 0, 1, 0, 0};
    in.fixed = fixed;
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.time_limit_s = 0.2;
    cg_cover_result r;
    cg_err err;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_int_equal(r.n_open, 3);
    assert_int_equal(r.n_fixed, 1);
    int has_c = 0;
    for (size_t i = 0; i < r.n_open; i++)
        has_c |= r.open[i] == C;
    assert_true(has_c);
    assert_int_equal(r.n_covered, 6);
    cg_cover_result_free(&r);

    /* Maximal covering: p counts only the new sites. Weights make 2 and 5 heavy. */
    double w[6] = {1, 1, 10, 1, 1, 20};
    in.weight = w;
    o.problem = CG_COVER_MAX;
    o.p = 1;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    /* C and the best addition: B and E tie (each adds point 5, weight 20; B's 3 and 4 are C's
     * already), so either is right and which one the local search ends on depends on its time. */
    assert_int_equal(r.n_open, 2);
    assert_true((r.open[0] == B && r.open[1] == C) || (r.open[0] == C && r.open[1] == E));
    assert_true(r.covered_weight == 1 + 1 + 1 + 1 + 20);
    cg_cover_result_free(&r);
}

static void test_max_cover_hand_made(void **state)
{
    (void)state;
    cg_cover_instance in = trap_instance();
    double w[6] = {5, 5, 1, 5, 5, 1};
    in.weight = w;
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.problem = CG_COVER_MAX;
    o.time_limit_s = 0.2;
    cg_cover_result r;
    cg_err err;
    o.p = 1; /* C covers 20 of 22 */
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_int_equal(r.n_open, 1);
    assert_int_equal(r.open[0], C);
    assert_true(r.covered_weight == 20);
    cg_cover_result_free(&r);
    o.p = 2; /* A + B covers all 22, C + anything covers 21 */
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_int_equal(r.n_open, 2);
    assert_true(r.covered_weight == 22);
    assert_true(r.optimal); /* everything coverable is covered: the trivial bound is met */
    cg_cover_result_free(&r);
}

static void test_uncoverable_reported(void **state)
{
    (void)state;
    /* Points 0..5 as before plus 6 and 7 that no candidate reaches. */
    cg_cover_instance in = trap_instance();
    in.n_demand = 8;
    double w[8] = {1, 1, 1, 1, 1, 1, 3, 4};
    in.weight = w;
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.time_limit_s = 0.2;
    cg_cover_result r;
    cg_err err;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_int_equal(r.n_uncoverable, 2);
    assert_int_equal(r.uncoverable[0], 6);
    assert_int_equal(r.uncoverable[1], 7);
    assert_int_equal(r.n_open, 2);
    assert_int_equal(r.n_covered, 6);
    assert_true(r.total_weight == 13);
    assert_true(r.coverable_weight == 6);
    cg_cover_result_free(&r);

    /* No candidate at all: everything is uncoverable, nothing opens, no error. */
    cg_cover_instance none = {0};
    none.n_demand = 3;
    size_t start0 = 0;
    none.cover_start = &start0;
    assert_int_equal(cg_cover_solve(&none, &o, &r, &err), 0);
    assert_int_equal(r.n_uncoverable, 3);
    assert_int_equal(r.n_open, 0);
    cg_cover_result_free(&r);
}

static void test_bad_instances(void **state)
{
    (void)state;
    cg_cover_instance in = trap_instance();
    uint32_t unsorted[12];
    memcpy(unsorted, trap_cover, sizeof unsorted);
    unsorted[0] = 1;
    unsorted[1] = 0;
    in.cover = unsorted;
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    cg_cover_result r;
    cg_err err;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_string_equal(err.field, "cover");

    in = trap_instance();
    in.n_demand = 5; /* point 5 is out of range */
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), -1);
    assert_string_equal(err.field, "cover");

    in = trap_instance();
    double w[6] = {1, 1, -1, 1, 1, 1};
    in.weight = w;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), -1);
    assert_string_equal(err.field, "weight");

    in = trap_instance();
    o.problem = CG_COVER_MAX;
    o.p = 6;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), -1);
    assert_string_equal(err.field, "p");

    cg_cover_problem pr;
    assert_int_equal(cg_cover_problem_parse("max", &pr, &err), 0);
    assert_int_equal(pr, CG_COVER_MAX);
    assert_int_equal(cg_cover_problem_parse("most", &pr, &err), -1);
    assert_string_equal(err.field, "problem");
}

static void make_random(cg_cover_synth *s, uint64_t seed, size_t n, size_t m, double radius,
                        size_t n_fixed)
{
    cg_cover_synth_opts so = {n, m, 10.0, radius, 40, n_fixed, seed};
    cg_err err;
    assert_int_equal(cg_cover_synth_make(&so, s, &err), 0);
}

/* Checks a solution against the instance directly: which points its open sites cover. */
static void check_solution(const cg_cover_instance *in, const cg_cover_result *r)
{
    uint8_t *cov = calloc(in->n_demand + 1, 1);
    for (size_t i = 0; i < r->n_open; i++) {
        uint32_t j = r->open[i];
        assert_true(j < in->n_cand);
        for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++)
            cov[in->cover[k]] = 1;
    }
    double w = 0;
    size_t n = 0;
    for (size_t d = 0; d < in->n_demand; d++)
        if (cov[d]) {
            n++;
            w += in->weight ? in->weight[d] : 1;
        }
    assert_int_equal(n, r->n_covered);
    assert_true(w > r->covered_weight - 1e-6 && w < r->covered_weight + 1e-6);
    for (size_t j = 0; in->fixed && j < in->n_cand; j++)
        if (in->fixed[j]) {
            int found = 0;
            for (size_t i = 0; i < r->n_open; i++)
                found |= r->open[i] == j;
            assert_true(found);
        }
    free(cov);
}

static void test_random_against_cbc(void **state)
{
    (void)state;
    if (!cg_cover_exact_available())
        cg_test_skip("built without CBC");
    int compared = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        cg_cover_synth s;
        make_random(&s, seed, 600, 250, 0.9, seed % 2 ? 3 : 0);
        for (int problem = CG_COVER_SET; problem <= CG_COVER_MAX; problem++) {
            cg_cover_opts o;
            cg_cover_opts_init(&o);
            o.problem = (cg_cover_problem)problem;
            o.p = 12;
            o.time_limit_s = 0.5;
            o.seed = seed;
            cg_cover_result h, x;
            cg_err err;
            assert_int_equal(cg_cover_solve(&s.inst, &o, &h, &err), 0);
            check_solution(&s.inst, &h);
            if (problem == CG_COVER_SET)
                assert_int_equal(h.n_covered + h.n_uncoverable, s.inst.n_demand);
            o.method = CG_COVER_EXACT;
            o.time_limit_s = 20;
            assert_int_equal(cg_cover_solve(&s.inst, &o, &x, &err), 0);
            check_solution(&s.inst, &x);
            if (x.optimal) {
                double gap = cg_cover_gap(o.problem, h.objective, x.objective);
                print_message("seed %d %s: heuristic %g, optimum %g, gap %.2f%%\n", (int)seed,
                              cg_cover_problem_name(o.problem), h.objective, x.objective,
                              100 * gap);
                assert_true(gap <= 0.03);
                compared++;
            }
            cg_cover_result_free(&h);
            cg_cover_result_free(&x);
        }
        cg_cover_synth_free(&s);
    }
    assert_true(compared >= 6);
}

static void test_max_cover_monotone_in_p(void **state)
{
    (void)state;
    cg_cover_synth s;
    make_random(&s, 42, 800, 200, 0.8, 2);
    double prev = -1;
    for (size_t p = 0; p <= 30; p += 3) {
        cg_cover_opts o;
        cg_cover_opts_init(&o);
        o.problem = CG_COVER_MAX;
        o.p = p;
        o.time_limit_s = 0.2;
        cg_cover_result r;
        cg_err err;
        assert_int_equal(cg_cover_solve(&s.inst, &o, &r, &err), 0);
        check_solution(&s.inst, &r);
        assert_true(r.n_open <= p + 2);
        assert_true(r.covered_weight >= prev);
        assert_true(r.covered_weight <= r.coverable_weight + 1e-6);
        prev = r.covered_weight;
        cg_cover_result_free(&r);
    }
    cg_cover_synth_free(&s);
}

static void test_exact_hand_made(void **state)
{
    (void)state;
    if (!cg_cover_exact_available())
        cg_test_skip("built without CBC");
    cg_cover_instance in = trap_instance();
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.method = CG_COVER_EXACT;
    o.time_limit_s = 10;
    cg_cover_result r;
    cg_err err;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_true(r.optimal);
    assert_int_equal(r.n_open, 2);
    assert_true(r.bound == 2);
    cg_cover_result_free(&r);

    double w[6] = {5, 5, 1, 5, 5, 1};
    in.weight = w;
    o.problem = CG_COVER_MAX;
    o.p = 1;
    assert_int_equal(cg_cover_solve(&in, &o, &r, &err), 0);
    assert_true(r.optimal);
    assert_int_equal(r.open[0], C);
    assert_true(r.objective == 20 && r.bound == 20);
    cg_cover_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_cover_beats_greedy_trap),
        cmocka_unit_test(test_fixed_sites_kept),
        cmocka_unit_test(test_max_cover_hand_made),
        cmocka_unit_test(test_uncoverable_reported),
        cmocka_unit_test(test_bad_instances),
        cmocka_unit_test(test_exact_hand_made),
        cmocka_unit_test(test_max_cover_monotone_in_p),
        cmocka_unit_test(test_random_against_cbc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
