/*
 * Coordinate reference systems users hand us: WGS84 (GPS, OSM, GeoJSON) and GCJ-02, the
 * obfuscated datum that Chinese map services (AMap, Tencent) use. civgrid stores WGS84 only;
 * input in GCJ-02 is converted on the way in and output converted on the way out.
 */
#ifndef CG_GEO_CRS_H
#define CG_GEO_CRS_H

#include "core/err.h"
#include "geo/geom.h"

typedef enum { CG_CRS_WGS84 = 0, CG_CRS_GCJ02 } cg_crs;

/* Accepts "wgs84", "epsg:4326", "gcj02", "gcj-02" (any case). Names `field` in the error. */
int cg_crs_parse(const char *s, const char *field, cg_crs *out, cg_err *err);
const char *cg_crs_name(cg_crs crs);

/* Outside mainland China GCJ-02 equals WGS84, as the published algorithm defines. */
cg_point cg_gcj02_from_wgs84(cg_point wgs);
/* Inverse by fixed-point iteration: error below 1e-7 degrees (about 1 cm). */
cg_point cg_wgs84_from_gcj02(cg_point gcj);

cg_point cg_crs_to_wgs84(cg_crs crs, cg_point p);
cg_point cg_crs_from_wgs84(cg_crs crs, cg_point p);
void cg_mpoly_to_wgs84(cg_crs crs, cg_mpoly *m);

#endif
