/*
 * Plain geometry on WGS84 longitude/latitude: points, boxes, rings, polygons and multipolygons,
 * with the few operations the rest of civgrid needs without GEOS (bounding boxes, point in
 * polygon, area in square metres, centroid, WKB in and out). Every cg_mpoly owns its memory
 * (malloc); free it with cg_mpoly_free. x is longitude, y is latitude, in degrees.
 */
#ifndef CG_GEO_GEOM_H
#define CG_GEO_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    double x, y;
} cg_point;

typedef struct {
    double min_x, min_y, max_x, max_y;
} cg_bbox;

/* A closed ring: pts[0] equals pts[n-1], n >= 4 for a valid ring. */
typedef struct {
    cg_point *pts;
    size_t n;
} cg_ring;

/* rings[0] is the outer ring, the rest are holes. */
typedef struct {
    cg_ring *rings;
    size_t n_rings;
} cg_polygon;

typedef struct {
    cg_polygon *polys;
    size_t n_polys;
} cg_mpoly;

#define CG_EARTH_RADIUS_M 6371008.8 /* mean radius (IUGG), used for lengths and areas */

void cg_mpoly_free(cg_mpoly *m);
int cg_mpoly_clone(const cg_mpoly *src, cg_mpoly *dst);
/* Appends a polygon made of one outer ring (copied); closes the ring if it is open. */
void cg_mpoly_add_ring_polygon(cg_mpoly *m, const cg_point *pts, size_t n);

void cg_bbox_empty(cg_bbox *b);
void cg_bbox_extend(cg_bbox *b, cg_point p);
int cg_bbox_intersects(const cg_bbox *a, const cg_bbox *b);
int cg_bbox_contains(const cg_bbox *b, cg_point p);
cg_bbox cg_mpoly_bbox(const cg_mpoly *m);

/* Point in polygon (even-odd over all rings; a point on the boundary may go either way). */
int cg_mpoly_contains(const cg_mpoly *m, cg_point p);

/* Area on the sphere in square metres (holes subtracted). Exact enough for grids: < 0.1%. */
double cg_mpoly_area_m2(const cg_mpoly *m);
double cg_ring_signed_area_m2(const cg_ring *r);

/* Area-weighted centroid (not necessarily inside the polygon). */
cg_point cg_mpoly_centroid(const cg_mpoly *m);

/* Great-circle distance in metres. */
double cg_distance_m(cg_point a, cg_point b);

/* A coordinate rounded to 7 decimals of a degree (about 1 cm), the precision OpenStreetMap
 * keeps and civgrid stores case locations at: what is stored is exactly what the API writes. */
double cg_coord_round(double deg);

/* Coordinates must be finite, |lon| <= 180, |lat| <= 90. Names the offending vertex. */
int cg_point_check(cg_point p, const char *field, cg_err *err);

/* Well-known binary (little endian, 2D MultiPolygon), as PostGIS and SQLite blobs store it. */
int cg_mpoly_to_wkb(const cg_mpoly *m, uint8_t **out, size_t *len);
/* Accepts WKB Polygon or MultiPolygon. Rejects truncated or absurd input without crashing. */
int cg_mpoly_from_wkb(const uint8_t *wkb, size_t len, cg_mpoly *out, cg_err *err);

#endif
