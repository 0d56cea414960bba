/*
 * A thin bridge between civgrid's plain geometry (geom.h) and GEOS's thread-safe C API. Each
 * cg_geos owns one GEOS context handle, which must be used by one thread at a time; take one per
 * call or per thread. GEOS errors are captured into the context (never printed) so that the
 * caller can put them into a cg_err. Coordinates pass through unchanged: GEOS works on degrees
 * of longitude/latitude as a plane, so lengths and areas must be computed by civgrid (convert the
 * result back with cg_geos_to_mpoly and use cg_mpoly_area_m2).
 */
#ifndef CG_GEO_GEOS_H
#define CG_GEO_GEOS_H

#include <geos_c.h>

#include "core/err.h"
#include "geo/geom.h"

typedef struct {
    GEOSContextHandle_t handle;
    char last_error[256]; /* the last message GEOS reported, "" when none */
} cg_geos;

int cg_geos_init(cg_geos *g, cg_err *err);
void cg_geos_finish(cg_geos *g);

/* A GEOS MultiPolygon (owned by the caller, GEOSGeom_destroy_r) with the same rings. Rings with
 * fewer than 4 points or open rings are an error (CG_EINVAL), not a crash. */
GEOSGeometry *cg_geos_from_mpoly(cg_geos *g, const cg_mpoly *m, cg_err *err);

/* The polygonal parts of any GEOS geometry (Polygon, MultiPolygon, or a collection holding them;
 * points and lines are dropped) appended to out, which must be initialised (possibly empty). */
int cg_geos_to_mpoly(cg_geos *g, const GEOSGeometry *geom, cg_mpoly *out, cg_err *err);

/* Fills err from the last GEOS message, naming what was attempted; returns -1. */
int cg_geos_fail(cg_geos *g, cg_err *err, const char *what);

#endif
