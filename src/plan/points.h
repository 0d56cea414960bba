/*
 * Points handed in by the faces: posts, units, sites, as a GeoJSON FeatureCollection of Point
 * features (or one Point / MultiPoint geometry), WGS84. Shared by the `civgrid cover|posts`
 * commands (files) and the planning API (request bodies).
 */
#ifndef CG_PLAN_POINTS_H
#define CG_PLAN_POINTS_H

#include <stddef.h>

#include "core/err.h"
#include "geo/geom.h"

/*
 * Parses the points; available[i] is the feature's "available" property (true when absent).
 * *points and *available are malloc'd (free both). Errors: CG_EINVAL naming `field` for
 * invalid JSON, a geometry that is not a point, a coordinate out of range, or no point at all.
 */
int cg_plan_points_parse(const char *data, size_t len, const char *field, cg_point **points,
                         int **available, size_t *n, cg_err *err);

#endif
