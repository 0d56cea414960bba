/*
 * A feature read from an outside file (GeoJSON, Shapefile): its position in the input, its
 * (multi)polygon geometry in WGS84, and its attributes as a JSON object. A feature that could not
 * be read carries the reason in `error` instead of failing the whole file, so an import can report
 * every rejected feature at once.
 */
#ifndef CG_GEO_FEATURE_H
#define CG_GEO_FEATURE_H

#include <jansson.h>
#include <stddef.h>

#include "geo/geom.h"

typedef struct {
    size_t index;    /* 0-based position in the input */
    int has_geom;    /* 0 for a null geometry */
    cg_mpoly geom;   /* owned; polygons only (a Polygon becomes a one-part MultiPolygon) */
    json_t *props;   /* owned reference; an object, never NULL */
    char error[256]; /* non-empty when the feature was rejected while reading; says why */
} cg_feature;

void cg_features_free(cg_feature *features, size_t n);

#endif
