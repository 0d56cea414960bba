/*
 * Response-time coverage: from a set of posts (or units), which parts of each grid a patrol
 * reaches within a budget (2 minutes by default; the 1/3/5-minute circles; 10 minutes). Pure
 * computation over a loaded graph: the caller hands in grid polygons (e.g. from the atlas) and
 * building centroids with household counts (from the store).
 *
 * Two steps. cg_coverage_ctx_new does the per-map work once: the segment table (segtime.h),
 * every segment's grids (by its midpoint, through a locate index; nested grids all count), and
 * every building snapped to the road network and assigned to grids by its centroid. Then
 * cg_coverage_run answers for one set of posts with ONE bounded multi-source search to the
 * horizon (never one search per post), and measures every budget from the same search: per
 * grid, the share of road length, of buildings and of households reachable within each budget,
 * the worst point of the grid's roads and its time, and the uncovered road pieces of the first
 * budget.
 */
#ifndef CG_PLAN_COVERAGE_H
#define CG_PLAN_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "geo/geom.h"
#include "net/route.h"
#include "plan/segtime.h"

#define CG_COVERAGE_MAX_BUDGETS  8
#define CG_COVERAGE_DEFAULT_S    120.0
#define CG_COVERAGE_MAX_BUDGET_S 86400.0

typedef struct cg_coverage_ctx cg_coverage_ctx;

typedef struct {
    cg_point at;    /* centroid */
    int households; /* a count; <= 0 counts as none */
} cg_coverage_building;

/*
 * grids: n_grids polygons (referenced, must outlive the context); buildings copied. A building
 * farther than CG_SNAP_MAX_M from every road counts in its grid but is never reachable.
 */
int cg_coverage_ctx_new(const cg_graph *g, const cg_mpoly *const *grids, size_t n_grids,
                        const cg_coverage_building *buildings, size_t n_buildings,
                        cg_coverage_ctx **out, cg_err *err);
void cg_coverage_ctx_free(cg_coverage_ctx *c);
const cg_segs *cg_coverage_segs(const cg_coverage_ctx *c);
size_t cg_coverage_unsnapped(const cg_coverage_ctx *c); /* buildings too far from any road */

typedef struct {
    double road_m;                              /* road length in the grid (each segment once) */
    double road_cov_m[CG_COVERAGE_MAX_BUDGETS]; /* of it, reachable within budget k */
    int64_t buildings;                          /* buildings whose centroid is in the grid */
    int64_t buildings_cov[CG_COVERAGE_MAX_BUDGETS];
    double households;
    double households_cov[CG_COVERAGE_MAX_BUDGETS];
    /* The slowest road point of the grid and its time; INFINITY when some road of the grid is
     * not reached within the horizon, -1 when the grid holds no road. */
    double worst_s;
    cg_point worst_at;
} cg_grid_coverage;

typedef struct {
    uint32_t seg;
    double lo, hi; /* fractions along the segment */
} cg_coverage_piece;

typedef struct {
    size_t n_budgets;
    double budgets[CG_COVERAGE_MAX_BUDGETS];
    double horizon_s;
    size_t n_grids;
    cg_grid_coverage *grid;       /* n_grids, in the order given to the context */
    cg_grid_coverage all;         /* the whole network and every building */
    cg_coverage_piece *uncovered; /* road not reachable within budgets[0] */
    size_t n_uncovered;
    size_t reached_nodes;
    double search_s, measure_s; /* wall time of the search and of the measuring */
} cg_coverage;

typedef struct {
    const double *budgets; /* n_budgets seconds in (0, 86400]; NULL: one budget of 120 s */
    size_t n_budgets;
    /* Search bound for worst times: 0 means twice the largest budget (capped at a day); a grid
     * with road beyond it reports worst_s = INFINITY. */
    double horizon_s;
    int uncovered;          /* collect uncovered pieces */
    int uncovered_in_grids; /* only pieces of segments lying in some grid (scoped callers) */
} cg_coverage_opts;

/* Checks a budget: > 0 and <= 86400 s, else CG_EINVAL naming `field`. */
int cg_coverage_check_budget(double budget_s, const char *field, cg_err *err);

/*
 * Coverage from n posts (snapped positions). s must be a search workspace on the context's
 * graph. Errors: CG_EINVAL for no posts ("posts"), a bad budget ("budget"), more than
 * CG_COVERAGE_MAX_BUDGETS budgets.
 */
int cg_coverage_run(cg_coverage_ctx *c, cg_search *s, const cg_snap *posts, size_t n,
                    const cg_coverage_opts *opts, cg_coverage *out, cg_err *err);
/*
 * The same with the caller's segment times (cg_segtimes_init on cg_coverage_segs(c)) instead of
 * the context's own: the context is then only read, so threads may share one (the server caches
 * it), each with its own st and s.
 */
int cg_coverage_run_with(const cg_coverage_ctx *c, cg_segtimes *st, cg_search *s,
                         const cg_snap *posts, size_t n, const cg_coverage_opts *opts,
                         cg_coverage *out, cg_err *err);
void cg_coverage_free(cg_coverage *cov);

/*
 * The uncovered pieces as a GeoJSON FeatureCollection of LineStrings (properties: metres, and
 * grids: the codes of the grids the piece lies in, when grid_codes names them in the order the
 * grids were given to cg_coverage_ctx_new; may be NULL).
 */
void cg_coverage_uncovered_geojson(const cg_coverage_ctx *c, const cg_coverage *cov,
                                   const char *const *grid_codes, cg_buf *b);

#endif
