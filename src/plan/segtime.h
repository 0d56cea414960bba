/*
 * Road segments and travel times along them: the measuring layer under coverage, isochrones and
 * post placement. Pure computation over a loaded graph (net/graph.h) and the result of a bounded
 * search (net/route.h).
 *
 * Segments. The graph has one directed edge per road segment and direction, plus the repeated
 * edges of turn-restriction copies (CG_EDGE_DUP). Measuring the network needs each physical
 * segment once, so cg_segs maps every edge (duplicates included) to one undirected segment keyed
 * by its two original end nodes, a < b; a position on a segment is a fraction x (0 at a, 1 at b).
 *
 * Times along a segment. After a bounded search, travel time at x is the least of a few
 * "contributions": a reached tail node t0 plus the edge's time scaled by the distance driven
 * (t0 + |x - x0| * slope), valid only in the edge's direction, and the search's sources sitting
 * on the segment (time 0 at their fraction). cg_segtimes collects them for every segment the
 * search touched, in time proportional to the settled part of the network (never the graph),
 * and answers: the time at a position, the pieces within a budget, the worst point.
 */
#ifndef CG_PLAN_SEGTIME_H
#define CG_PLAN_SEGTIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "net/route.h"

typedef struct {
    uint32_t a, b; /* original end nodes, a < b */
    float metres;
} cg_seg;

typedef struct {
    const cg_graph *g;
    uint32_t n;
    cg_seg *seg;
    uint32_t *edge_seg; /* per edge: segment << 1 | 1 when the edge runs from b to a */
} cg_segs;

/* One pass over the edges with a hash table on the end-node pair. */
int cg_segs_build(const cg_graph *g, cg_segs *out, cg_err *err);
void cg_segs_free(cg_segs *s);
/* The point at fraction x of segment i (straight between its end nodes). */
cg_point cg_segs_point(const cg_segs *s, uint32_t i, double x);
/* Segment and fraction of a snapped position. */
void cg_segs_of_snap(const cg_segs *s, const cg_snap *p, uint32_t *seg, double *x);

typedef struct {
    float x0, t0;  /* position and time at it */
    float slope;   /* seconds for the whole segment in the contribution's direction */
    int8_t dir;    /* +1: valid for x >= x0, -1: for x <= x0 */
    uint32_t next; /* next contribution of the same segment, UINT32_MAX at the end */
} cg_contrib;

typedef struct {
    const cg_segs *segs;
    uint32_t *head; /* per segment: first contribution, UINT32_MAX when untouched */
    cg_contrib *c;
    size_t n_c, cap_c;
    uint32_t *touched; /* segments with a contribution, in first-touch order */
    size_t n_touched, cap_touched;
} cg_segtimes;

int cg_segtimes_init(cg_segtimes *st, const cg_segs *segs, cg_err *err);
void cg_segtimes_free(cg_segtimes *st);
/*
 * Collects the contributions of the last forward search `s` (reset first): every edge leaving a
 * settled node, and each of the `n` sources it was started from (the same array). Times beyond
 * horizon_s are left out.
 */
int cg_segtimes_collect(cg_segtimes *st, const cg_search *s, const cg_snap *sources, size_t n,
                        double horizon_s, cg_err *err);

/* Travel time at fraction x of segment i (INFINITY when no contribution reaches it). */
double cg_segtimes_at(const cg_segtimes *st, uint32_t i, double x);
/*
 * The parts of segment i reachable within budget_s, as disjoint increasing intervals written to
 * lo[]/hi[] (at most max, which should be >= 8); returns how many. Their total times the
 * segment's length is the covered road length.
 */
size_t cg_segtimes_within(const cg_segtimes *st, uint32_t i, double budget_s, double *lo,
                          double *hi, size_t max);
/* The worst point of segment i: the largest travel time over x in [0, 1] (INFINITY when some
 * part is not reached) and where (*x_out). */
double cg_segtimes_worst(const cg_segtimes *st, uint32_t i, double *x_out);

#endif
