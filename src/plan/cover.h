/*
 * Facility covering on an abstract instance: where to put patrol posts. Pure computation, no
 * graph, store or I/O: src/plan/posts.c (or a test, or a benchmark) turns travel times into
 * "candidate j covers demand points i1 < i2 < ..." lists and hands them here.
 *
 * Two problems on the same instance:
 *   - set covering (CG_COVER_SET): the fewest open sites so every coverable demand point is
 *     covered by at least one open site;
 *   - maximal covering (CG_COVER_MAX): open p sites (on top of the fixed ones) to maximise the
 *     covered demand weight (households).
 * Fixed sites (existing posts) are always open and are never counted in p.
 *
 * Two methods: a fast heuristic (lazy greedy + local search, see cover.c) for city scale, and an
 * exact integer program through CBC's C interface for small instances, with a time limit; the
 * exact result carries CBC's best bound so the caller can report the heuristic's gap.
 *
 * A demand point no candidate covers cannot be served by any choice: it is listed in
 * cg_cover_result.uncoverable, left out of the problem, and the rest is solved (a partial
 * result, never an error and never a hang).
 */
#ifndef CG_PLAN_COVER_H
#define CG_PLAN_COVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    size_t n_demand;
    const double *weight; /* n_demand weights >= 0 (households); NULL means 1 each */
    size_t n_cand;
    /* Candidate j covers demand points cover[cover_start[j] .. cover_start[j + 1]), strictly
     * increasing indices < n_demand (CSR; cover_start has n_cand + 1 entries). */
    const size_t *cover_start;
    const uint32_t *cover;
    const uint8_t *fixed; /* n_cand flags (1: always open), or NULL for none */
} cg_cover_instance;

typedef enum {
    CG_COVER_SET = 1, /* fewest sites covering every coverable demand point */
    CG_COVER_MAX = 2  /* best p extra sites by covered weight */
} cg_cover_problem;

typedef enum {
    CG_COVER_HEURISTIC = 1, /* lazy greedy + local search within time_limit */
    CG_COVER_EXACT = 2 /* CBC branch and cut within time_limit (needs cg_cover_exact_available) */
} cg_cover_method;

/* Called now and then during long work: stage ("greedy", "local search", "cbc") and a fraction
 * in [0, 1] (or -1 when unknown). */
typedef void (*cg_cover_progress_fn)(void *ctx, const char *stage, double fraction);

typedef struct {
    cg_cover_problem problem;
    cg_cover_method method;
    size_t p;            /* CG_COVER_MAX: sites to open besides the fixed ones */
    double time_limit_s; /* local search or CBC; <= 0 means the default (2 s heuristic, 60 s CBC) */
    uint64_t seed;       /* for the local search's perturbations; same seed, same moves */
    cg_cover_progress_fn progress;
    void *progress_ctx;
} cg_cover_opts;

/* Defaults: set covering, heuristic, p = 0, default time limit, seed 1, no progress. */
void cg_cover_opts_init(cg_cover_opts *opts);

typedef struct {
    uint32_t *open; /* open sites, fixed ones included, increasing */
    size_t n_open;
    size_t n_fixed;          /* how many of them are fixed */
    double covered_weight;   /* weight of demand points covered by an open site */
    double coverable_weight; /* weight of demand points some candidate covers */
    double total_weight;
    size_t n_covered;
    uint32_t *uncoverable; /* demand points no candidate covers, increasing */
    size_t n_uncoverable;
    /* The objective (open site count for CG_COVER_SET, covered weight for CG_COVER_MAX) and the
     * best bound on it known: CBC's bound in exact mode; in heuristic mode a cheap valid bound
     * (set covering: the fixed sites plus one; maximal covering: coverable weight). */
    double objective;
    double bound;
    int optimal;       /* 1 when objective is proven optimal (exact mode, or objective == bound) */
    int timed_out;     /* 1 when the time limit stopped the search before it was done */
    double seconds;    /* wall time of the solve */
    size_t iterations; /* local-search rounds (heuristic) */
} cg_cover_result;

/* Checks the instance (offsets, sorted in-range lists, weights). */
int cg_cover_validate(const cg_cover_instance *inst, cg_err *err);

/* Solves; fills *res (free with cg_cover_result_free) and returns 0, or -1 with err (bad
 * instance, p larger than the free candidates, exact mode without CBC, out of memory). */
int cg_cover_solve(const cg_cover_instance *inst, const cg_cover_opts *opts, cg_cover_result *res,
                   cg_err *err);

void cg_cover_result_free(cg_cover_result *res);

/* 1 when this build has CBC (exact mode), else 0. */
int cg_cover_exact_available(void);

/* The relative gap of a heuristic objective against an exact one, in [0, inf): for set covering
 * (heur - exact) / exact, for maximal covering (exact - heur) / exact; 0 when exact is 0. */
double cg_cover_gap(cg_cover_problem problem, double heuristic, double exact);

const char *cg_cover_problem_name(cg_cover_problem problem); /* "set" / "max" */
int cg_cover_problem_parse(const char *s, cg_cover_problem *out, cg_err *err);

#endif
