/*
 * The locate index: which polygons contain a point, for millions of lookups a second. Built once
 * over a set of polygons (e.g. all current grids); read-only afterwards, so any number of threads
 * may query it at once. The polygons are referenced, not copied: they must outlive the index.
 */
#ifndef CG_GEO_LOCINDEX_H
#define CG_GEO_LOCINDEX_H

#include <stddef.h>

#include "core/err.h"
#include "geo/geom.h"

typedef struct cg_locindex cg_locindex;

cg_locindex *cg_locindex_build(const cg_mpoly *const *polys, size_t n, cg_err *err);
void cg_locindex_free(cg_locindex *ix);

/* Writes the indexes of up to `max` polygons containing p into out (in ascending index order);
 * returns how many contain it (which may exceed max). */
size_t cg_locindex_find(const cg_locindex *ix, cg_point p, size_t *out, size_t max);

/* Memory held by the index, in bytes (for benchmarks). */
size_t cg_locindex_memory(const cg_locindex *ix);

#endif
