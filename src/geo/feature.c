/*
 * Features read from outside files: see feature.h. The readers (geojson.c, shapefile.c) fill
 * arrays of cg_feature; this file holds the one function that releases them, so every caller frees
 * a reader's output the same way whichever format it came from.
 */
#include "geo/feature.h"

#include <stdlib.h>

void cg_features_free(cg_feature *features, size_t n)
{
    if (!features)
        return;
    for (size_t i = 0; i < n; i++) {
        cg_mpoly_free(&features[i].geom);
        json_decref(features[i].props);
    }
    free(features);
}
