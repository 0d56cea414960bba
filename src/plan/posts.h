/*
 * Patrol-post placement on the road network: where to put posts so a patrol reaches demand
 * within a budget. Turns the network into a covering instance (plan/cover.h) and solves it.
 *
 * Demand: buildings weighted by households (snapped to the road), or, when none are given,
 * road sample points every sample_m metres (weight 1 each). Candidates: given sites, or road
 * positions sampled every sample_m metres (the midpoint of the segment where each multiple of
 * sample_m falls, walking the segments in order). Existing posts are extra candidates, fixed.
 *
 * Coverage lists: one bounded forward search per candidate (budget = the plan's budget), then
 * the time at each demand point on every segment the search touched (segtime.h). The reverse
 * direction (one backward search per demand point) gives the same lists and is cheaper when
 * demand points are fewer than candidates; it needs the edges entering a node, which the graph
 * does not index, so the forward direction is the one implemented and candidates are sampled
 * coarsely enough (sample_m) that they stay the smaller side on real maps.
 */
#ifndef CG_PLAN_POSTS_H
#define CG_PLAN_POSTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "net/route.h"
#include "plan/cover.h"
#include "plan/segtime.h"

typedef struct {
    cg_point at;
    double weight; /* households (>= 0) */
} cg_posts_demand;

/*
 * The demand weight of a building: its households; a building whose count is unknown (-1, as
 * in OpenStreetMap data) counts as one, so planning on real extracts reaches every building
 * rather than treating them all as empty; a non-residential building (0) weighs nothing.
 */
static inline double cg_posts_building_weight(int households)
{
    return households > 0 ? households : households < 0 ? 1 : 0;
}

typedef struct {
    double budget_s;          /* default 120 */
    cg_cover_problem problem; /* CG_COVER_SET (fewest posts) or CG_COVER_MAX (best p) */
    size_t p;
    int exact;                     /* also solve with CBC and report the gap */
    double time_limit_s;           /* per solve; 0: cover.h's defaults */
    double sample_m;               /* candidate and road-demand spacing; default 250 */
    cg_cover_progress_fn progress; /* "coverage lists" stage too; may be NULL */
    void *progress_ctx;
} cg_posts_opts;

void cg_posts_opts_init(cg_posts_opts *o);

typedef struct {
    /* The point the site's road position was snapped from, on a 1e-7 degree grid (what
     * cg_posts_geojson writes): a fixed post or given site where it was given, a sampled
     * candidate at its segment's midpoint. Snapped again (cg_graph_snap) it gives exactly the
     * position the plan was computed for, so coverage from the proposed posts reaches exactly
     * covered_weight (see posts.c). */
    cg_point at;
    int fixed;
    double covered_weight; /* demand weight this site reaches within the budget */
} cg_posts_site;

typedef struct {
    size_t n_demand, n_candidates, n_fixed; /* n_demand: every demand point given */
    /* total_weight counts every demand point, those too far from a road too (as coverage.h
     * does), so covered_weight / total_weight is the share coverage reports for the posts. */
    double total_weight, coverable_weight, covered_weight;
    size_t n_uncoverable; /* demand points no candidate reaches (reported, not an error),
                             n_far_demand of them because they are too far from any road */
    size_t n_far_demand;
    size_t n_unsnapped;   /* demand points or sites too far from any road (left out) */
    cg_posts_site *sites; /* open sites, fixed ones included */
    size_t n_sites;
    double objective, bound;
    int optimal, timed_out;
    int exact_run;                            /* exact mode was asked and ran */
    double exact_objective, exact_bound, gap; /* heuristic vs CBC (cg_cover_gap) */
    int exact_optimal;
    double lists_s, solve_s, exact_s;
} cg_posts_result;

/*
 * Plans posts. demand may be NULL (n_demand 0): road sample points then. sites may be NULL:
 * sampled road positions then. fixed: existing posts (may be NULL). Errors: a bad budget
 * ("budget"), p of 0 for maximal covering ("p"), exact mode without CBC ("exact"), no usable
 * demand ("demand"), or the cover solver's errors.
 */
int cg_posts_plan(const cg_segs *segs, cg_search *s, const cg_posts_demand *demand, size_t n_demand,
                  const cg_point *sites, size_t n_sites, const cg_point *fixed, size_t n_fixed,
                  const cg_posts_opts *o, cg_posts_result *out, cg_err *err);
void cg_posts_result_free(cg_posts_result *r);

/* The open sites as a GeoJSON FeatureCollection of Points (properties fixed, covered_weight)
 * with the plan's figures in a top-level "plan" member. */
void cg_posts_geojson(const cg_posts_result *r, const cg_posts_opts *o, cg_buf *b);

#endif
