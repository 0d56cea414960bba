/*
 * Isochrones: for a point and a time budget, the road network reachable within the budget (each
 * edge cut where the budget runs out, so a partly reached street ends mid-block, interpolated
 * along its straight segment) and an area around it.
 *
 * The area is a GEOS buffer of the reached lines (default 50 m either side, two segments per
 * quarter circle), computed in a local metric plane around the start so the width is in metres
 * everywhere, then mapped back to degrees: each reached piece is buffered on its own and the
 * pieces are joined by one cascaded union (GEOSUnaryUnion). Why a buffer rather than a concave
 * hull: a hull bridges unreached blocks between two reached streets (a river, a rail yard, a
 * gated estate) and claims them reachable; the buffer only claims what lies beside a reached
 * road. Cost: O(n log n) in the reached pieces, about 0.45 s for 8,000 pieces (2 minutes in the
 * small demo) against a few milliseconds for the search, so ask for the lines alone
 * (buffer_m = 0) when speed matters. Buffering the whole MultiLineString at once was tried and
 * is ~100x slower (GEOS overlays every touching segment).
 */
#ifndef CG_PLAN_ISOCHRONE_H
#define CG_PLAN_ISOCHRONE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "geo/geom.h"
#include "net/route.h"
#include "plan/coverage.h"
#include "plan/segtime.h"

#define CG_ISO_BUFFER_M 50.0

typedef struct {
    double budget_s;
    cg_point origin;           /* the snapped start */
    cg_coverage_piece *pieces; /* reached parts of segments, fractions along each */
    size_t n_pieces;
    double metres; /* reached road length */
    size_t reached_nodes;
    int has_polygon;
    cg_mpoly polygon; /* WGS84, when asked for */
    double polygon_m2;
} cg_isochrone;

/*
 * The isochrone from `at` (a snapped position on st's graph) within budget_s (0 < b <= 86400,
 * else CG_EINVAL "budget"). buffer_m > 0 also computes the polygon with that half-width; 0
 * skips it. st and s are reused workspaces on the same graph.
 */
int cg_isochrone_compute(cg_segtimes *st, cg_search *s, const cg_snap *at, double budget_s,
                         double buffer_m, cg_isochrone *out, cg_err *err);
void cg_isochrone_free(cg_isochrone *iso);

/* A FeatureCollection: a MultiLineString feature (properties kind "network", budget_s, metres)
 * and, when computed, a MultiPolygon feature (kind "area", budget_s, area_m2). */
void cg_isochrone_geojson(const cg_segs *segs, const cg_isochrone *iso, cg_buf *b);

#endif
