/*
 * GeoJSON (RFC 7946) in and out. The reader takes a FeatureCollection (or a single Feature) of
 * Polygon/MultiPolygon features; a broken document fails as a whole with the position of the
 * syntax error, while a broken feature (an unclosed ring, a coordinate out of range, a point
 * where a polygon belongs) is kept with its reason in cg_feature.error. The writer is a fast
 * streaming one into a cg_buf, used by the API for large collections.
 */
#ifndef CG_GEO_GEOJSON_H
#define CG_GEO_GEOJSON_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "geo/crs.h"
#include "geo/feature.h"

/* Deeper nesting of arrays and objects is rejected before parsing (GeoJSON needs 6 levels). */
#define CG_GEOJSON_MAX_DEPTH 64

typedef struct {
    cg_crs crs;          /* the input's coordinates are converted from this to WGS84 */
    size_t max_features; /* 0: no limit; more features fail with CG_ELIMIT */
    size_t max_vertices; /* 0: no limit; a feature with more is rejected */
} cg_geojson_read_opts;

int cg_geojson_read(const char *data, size_t len, const cg_geojson_read_opts *opts,
                    cg_feature **out, size_t *n_out, cg_err *err);

/* Parses one GeoJSON geometry object (Polygon or MultiPolygon) into m (WGS84, converted from
 * crs). On failure the message says what is wrong and where ("polygon 1 ring 0 is not closed (first
 * (...) != last (...))"). A null geometry is an error here; cg_geojson_read treats it as a feature
 * without geometry.
 */
int cg_geojson_parse_geometry(const json_t *geometry, cg_crs crs, cg_mpoly *m, cg_err *err);

/* Writes a MultiPolygon geometry object, converting WGS84 to crs, with `precision` decimals
 * (7 keeps centimetres). */
void cg_geojson_write_mpoly(cg_buf *b, const cg_mpoly *m, cg_crs crs, int precision);
/* Writes a JSON string literal with escaping (control characters as \uXXXX or their short
 * forms); valid UTF-8 passes through, invalid bytes become U+FFFD; NULL writes null. */
void cg_json_write_string(cg_buf *b, const char *s);

#endif
