/*
 * Line work for drawing at a scale: Douglas–Peucker simplification and clipping of polylines to
 * a rectangle, on planar coordinates (the base-map tiles run them in Web Mercator pixels, where a
 * tolerance of half a pixel is the same everywhere), and the Web Mercator tile arithmetic those
 * tiles are cut by. No allocation: callers pass the arrays.
 */
#ifndef CG_GEO_SIMPLIFY_H
#define CG_GEO_SIMPLIFY_H

#include <stddef.h>

#include "geo/geom.h"

/*
 * Douglas–Peucker: marks in keep[0..n-1] (1 kept, 0 dropped) the vertices of the polyline
 * pts[0..n-1] that stay when every dropped vertex lies within `tolerance` of the segment between
 * its kept neighbours. The first and last vertices are always kept. Returns the number kept (n
 * when n < 3 or tolerance <= 0). Runs in place, with no stack: O(n log n) typically.
 */
size_t cg_simplify_dp(const cg_point *pts, size_t n, double tolerance, unsigned char *keep);

/*
 * The same for a closed ring (pts[0] == pts[n-1]): also keeps the vertex farthest from pts[0],
 * so a ring never collapses to a line. Returns the number kept; fewer than 4 means the ring is
 * smaller than the tolerance (drop it).
 */
size_t cg_simplify_ring_dp(const cg_point *pts, size_t n, double tolerance, unsigned char *keep);

/*
 * Clips the polyline in[0..n-1] to the box: the parts inside, one after another in out (capacity
 * 2 * n points), part k being out[starts[k] .. starts[k+1]-1] with starts[n_parts] = the total
 * (starts has capacity n + 1). Parts have at least two points. Returns the number of parts.
 */
size_t cg_clip_polyline(const cg_point *in, size_t n, const cg_bbox *box, cg_point *out,
                        size_t *starts);

/* ---- Web Mercator tiles (EPSG:3857 in "world units": x and y in [0, 1], y down) ---- */

#define CG_TILE_SIZE    256
#define CG_MERCATOR_LAT 85.0511287798066 /* the latitude where the square world ends */

/* lon/lat (degrees) -> world units; latitudes beyond the square world are clamped to it. */
cg_point cg_mercator_from_lonlat(cg_point lonlat);
/* world units -> lon/lat (degrees). */
cg_point cg_mercator_to_lonlat(cg_point world);
/* The box of tile z/x/y in world units (min_y is its top edge). */
cg_bbox cg_tile_world_bbox(int z, long x, long y);

#endif
