/*
 * The GEOS bridge: see geos.h. Conversion copies whole coordinate arrays at once
 * (GEOSCoordSeq_copyFromBuffer_r / copyToBuffer_r) because cg_point is two packed doubles, the
 * same layout GEOS uses for an XY buffer; this keeps conversion a small part of a topology check.
 */
#include "geo/geos.h"

#include <stdio.h>
#include <stdlib.h>

_Static_assert(sizeof(cg_point) == 2 * sizeof(double), "cg_point must be two packed doubles");

static void on_geos_error(const char *message, void *userdata)
{
    cg_geos *g = userdata;
    snprintf(g->last_error, sizeof g->last_error, "%s", message);
}

int cg_geos_init(cg_geos *g, cg_err *err)
{
    g->last_error[0] = '\0';
    g->handle = GEOS_init_r();
    if (!g->handle)
        return cg_err_set(err, CG_ENOMEM, NULL, "cannot create a GEOS context");
    GEOSContext_setErrorMessageHandler_r(g->handle, on_geos_error, g);
    return 0;
}

void cg_geos_finish(cg_geos *g)
{
    if (g->handle)
        GEOS_finish_r(g->handle);
    g->handle = NULL;
}

int cg_geos_fail(cg_geos *g, cg_err *err, const char *what)
{
    return cg_err_set(err, CG_EINTERNAL, NULL, "GEOS could not %s: %s", what,
                      g->last_error[0] ? g->last_error : "no message");
}

static GEOSGeometry *ring_to_geos(cg_geos *g, const cg_ring *r, cg_err *err)
{
    if (r->n < 4) {
        cg_err_set(err, CG_EINVAL, "geometry", "a ring has %zu points; at least 4 are needed",
                   r->n);
        return NULL;
    }
    if (r->pts[0].x != r->pts[r->n - 1].x || r->pts[0].y != r->pts[r->n - 1].y) {
        cg_err_set(err, CG_EINVAL, "geometry", "a ring is not closed");
        return NULL;
    }
    GEOSCoordSequence *seq =
        GEOSCoordSeq_copyFromBuffer_r(g->handle, (const double *)r->pts, (unsigned)r->n, 0, 0);
    GEOSGeometry *ring = seq ? GEOSGeom_createLinearRing_r(g->handle, seq) : NULL;
    if (!ring)
        cg_geos_fail(g, err, "build a ring");
    return ring;
}

static GEOSGeometry *polygon_to_geos(cg_geos *g, const cg_polygon *p, cg_err *err)
{
    if (p->n_rings == 0)
        return GEOSGeom_createEmptyPolygon_r(g->handle);
    GEOSGeometry *shell = ring_to_geos(g, &p->rings[0], err);
    if (!shell)
        return NULL;
    size_t n_holes = p->n_rings - 1;
    GEOSGeometry **holes = malloc(sizeof(*holes) * (n_holes ? n_holes : 1));
    if (!holes) {
        GEOSGeom_destroy_r(g->handle, shell);
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n_holes; i++) {
        holes[i] = ring_to_geos(g, &p->rings[i + 1], err);
        if (!holes[i]) {
            for (size_t j = 0; j < i; j++)
                GEOSGeom_destroy_r(g->handle, holes[j]);
            GEOSGeom_destroy_r(g->handle, shell);
            free(holes);
            return NULL;
        }
    }
    /* createPolygon takes ownership of the rings (but not of the array). */
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(g->handle, shell, holes, (unsigned)n_holes);
    free(holes);
    if (!poly)
        cg_geos_fail(g, err, "build a polygon");
    return poly;
}

GEOSGeometry *cg_geos_from_mpoly(cg_geos *g, const cg_mpoly *m, cg_err *err)
{
    GEOSGeometry **parts = malloc(sizeof(*parts) * (m->n_polys ? m->n_polys : 1));
    if (!parts) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < m->n_polys; i++) {
        parts[i] = polygon_to_geos(g, &m->polys[i], err);
        if (!parts[i]) {
            for (size_t j = 0; j < i; j++)
                GEOSGeom_destroy_r(g->handle, parts[j]);
            free(parts);
            return NULL;
        }
    }
    GEOSGeometry *multi =
        GEOSGeom_createCollection_r(g->handle, GEOS_MULTIPOLYGON, parts, (unsigned)m->n_polys);
    free(parts);
    if (!multi)
        cg_geos_fail(g, err, "build a multipolygon");
    return multi;
}

static int ring_from_geos(cg_geos *g, const GEOSGeometry *ring, cg_ring *out, cg_err *err)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(g->handle, ring);
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(g->handle, seq, &n))
        return cg_geos_fail(g, err, "read a ring");
    out->n = n;
    out->pts = malloc(sizeof(cg_point) * (n ? n : 1));
    if (!out->pts)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    if (n && !GEOSCoordSeq_copyToBuffer_r(g->handle, seq, (double *)out->pts, 0, 0))
        return cg_geos_fail(g, err, "copy a ring");
    return 0;
}

static int polygon_from_geos(cg_geos *g, const GEOSGeometry *poly, cg_mpoly *out, cg_err *err)
{
    if (GEOSisEmpty_r(g->handle, poly))
        return 0;
    int n_holes = GEOSGetNumInteriorRings_r(g->handle, poly);
    if (n_holes < 0)
        return cg_geos_fail(g, err, "read a polygon");
    cg_polygon *polys = realloc(out->polys, sizeof(cg_polygon) * (out->n_polys + 1));
    if (!polys)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    out->polys = polys;
    cg_polygon *p = &out->polys[out->n_polys++];
    p->n_rings = 0;
    p->rings = calloc((size_t)n_holes + 1, sizeof(cg_ring));
    if (!p->rings)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    /* n_rings grows ring by ring so that cg_mpoly_free releases exactly what was filled. */
    for (int i = -1; i < n_holes; i++) {
        const GEOSGeometry *ring = i < 0 ? GEOSGetExteriorRing_r(g->handle, poly)
                                         : GEOSGetInteriorRingN_r(g->handle, poly, i);
        if (!ring)
            return cg_geos_fail(g, err, "read a ring");
        p->n_rings++;
        if (ring_from_geos(g, ring, &p->rings[p->n_rings - 1], err))
            return -1;
    }
    return 0;
}

int cg_geos_to_mpoly(cg_geos *g, const GEOSGeometry *geom, cg_mpoly *out, cg_err *err)
{
    switch (GEOSGeomTypeId_r(g->handle, geom)) {
    case GEOS_POLYGON:
        return polygon_from_geos(g, geom, out, err);
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: {
        int n = GEOSGetNumGeometries_r(g->handle, geom);
        for (int i = 0; i < n; i++)
            if (cg_geos_to_mpoly(g, GEOSGetGeometryN_r(g->handle, geom, i), out, err))
                return -1;
        return 0;
    }
    case -1:
        return cg_geos_fail(g, err, "read a geometry type");
    default:
        return 0; /* points and lines have no area */
    }
}
