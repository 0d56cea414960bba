/*
 * Synthetic covering instances for the tests and the benchmark: demand points and candidate
 * sites scattered uniformly in a square, each candidate covering the demand points within a
 * radius (a stand-in for "reachable within the budget"), weights of 1..max_weight households.
 * The same seed always gives the same instance. Not used by the product itself.
 */
#ifndef CG_PLAN_COVER_SYNTH_H
#define CG_PLAN_COVER_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "plan/cover.h"

typedef struct {
    size_t n_demand, n_cand;
    double side;    /* the square's side */
    double radius;  /* coverage radius, same unit */
    int max_weight; /* weights uniform in 1..max_weight; 0 gives weight 1 everywhere */
    size_t n_fixed; /* the first n_fixed candidates are fixed */
    uint64_t seed;
} cg_cover_synth_opts;

typedef struct {
    cg_cover_instance inst; /* points into the arrays below */
    double *weight;
    size_t *cover_start;
    uint32_t *cover;
    uint8_t *fixed;
} cg_cover_synth;

int cg_cover_synth_make(const cg_cover_synth_opts *opts, cg_cover_synth *out, cg_err *err);
void cg_cover_synth_free(cg_cover_synth *s);

#endif
