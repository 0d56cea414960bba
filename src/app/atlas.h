/*
 * The atlas: every current grid held in memory with its geometry, its parent link and a locate
 * index, loaded from a store in one pass. The command line and the server both answer "which grid
 * is this point in?" and "is the hierarchy clean?" through it. Read-only once loaded, so the
 * server's threads share one atlas and swap in a new one when the store's grid generation moves.
 */
#ifndef CG_APP_ATLAS_H
#define CG_APP_ATLAS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "geo/topology.h"
#include "model/access.h"
#include "model/grid.h"
#include "store/store.h"

typedef struct cg_atlas cg_atlas;

/* Loads the grids valid at `at` (0: current) and builds the locate index. */
int cg_atlas_load(cg_store *s, int64_t at, cg_atlas **out, cg_err *err);
void cg_atlas_free(cg_atlas *a);

size_t cg_atlas_count(const cg_atlas *a);
const cg_grid *cg_atlas_grid(const cg_atlas *a, size_t i);
/* Index of a code, or -1. */
long cg_atlas_find(const cg_atlas *a, const char *code);
/* Index of a code within a scope (model/access.h), or -1 when it is missing or outside it: the
 * two are one answer, so a caller cannot tell them apart. */
long cg_atlas_find_in(const cg_atlas *a, const cg_scope *scope, const char *code);
/* Index of the parent of grid i, or -1 for a root. */
long cg_atlas_parent(const cg_atlas *a, size_t i);
/* The store's grid generation when the atlas was loaded. */
int64_t cg_atlas_generation(const cg_atlas *a);

/*
 * The grid path of a point, root first: fills path[] with up to max indexes and returns the depth
 * (0 when the point lies in no grid).
 */
size_t cg_atlas_locate(const cg_atlas *a, cg_point p, size_t *path, size_t max);
/* The in-scope part of the grid path (the scope's own grid and below), root of the scope first;
 * 0 when the point lies in no grid of the scope. */
size_t cg_atlas_locate_in(const cg_atlas *a, const cg_scope *scope, cg_point p, size_t *path,
                          size_t max);

/* The topology check over the whole atlas (see geo/topology.h). */
int cg_atlas_check(const cg_atlas *a, const cg_topology_opts *opts, cg_finding **out, size_t *n_out,
                   cg_err *err);

/* Findings as a GeoJSON FeatureCollection (properties: kind, code, other_code, area_m2, reason,
 * point) and as text lines for the terminal. */
void cg_atlas_findings_geojson(const cg_atlas *a, const cg_finding *f, size_t n, cg_buf *out);
void cg_atlas_findings_text(const cg_atlas *a, const cg_finding *f, size_t n, cg_buf *out);

#endif
