/*
 * The topology check of a grid hierarchy (GEOS C API, thread-safe _r functions): invalid polygons
 * with the location of the fault, children not inside their parent, overlaps between siblings and
 * gaps (parts of a parent that none of its children cover). Every finding has its area in m^2, a
 * point on it and its geometry, so it can be listed as text and drawn as GeoJSON.
 */
#ifndef CG_GEO_TOPOLOGY_H
#define CG_GEO_TOPOLOGY_H

#include <stddef.h>

#include "core/err.h"
#include "geo/geom.h"

typedef enum {
    CG_FINDING_INVALID = 1,    /* a polygon that is not valid (self-intersection, ...) */
    CG_FINDING_OUTSIDE_PARENT, /* part of a child lies outside its parent */
    CG_FINDING_OVERLAP,        /* two siblings overlap */
    CG_FINDING_GAP             /* part of a parent is covered by none of its children */
} cg_finding_kind;

const char *cg_finding_kind_name(cg_finding_kind k); /* "invalid", "outside_parent", ... */

typedef struct {
    const char *code; /* for messages; not copied */
    long parent;      /* index of the parent in the same array, -1 for a root */
    const cg_mpoly *geom;
} cg_topo_item;

typedef struct {
    cg_finding_kind kind;
    long item;        /* the grid concerned (for a gap: the parent) */
    long other;       /* the other sibling of an overlap, the parent of outside_parent; else -1 */
    double area_m2;   /* 0 for invalid polygons */
    cg_point at;      /* a point on the finding (for invalid: the fault location GEOS reports) */
    char reason[256]; /* "Self-intersection", "overlaps 330106001002003 by 152.3 m2", ... */
    cg_mpoly geom;    /* owned; empty for invalid polygons */
} cg_finding;

typedef struct {
    double min_area_m2; /* slivers smaller than this are ignored (default 1 m^2 when 0) */
    /* Progress callback for long checks: done and total items; may be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} cg_topology_opts;

int cg_topology_check(const cg_topo_item *items, size_t n, const cg_topology_opts *opts,
                      cg_finding **out, size_t *n_out, cg_err *err);
void cg_findings_free(cg_finding *f, size_t n);

/* A stable code for a finding's reason, for programs and translations: the kind's name, except
 * that an invalid polygon gets GEOS's fault ("invalid_self_intersection", ... or "invalid" for one
 * it does not name; the list is in docs/api.md). */
const char *cg_finding_reason_code(const cg_finding *f);

#endif
