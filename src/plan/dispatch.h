/*
 * Dispatch: the K nearest available units to an incident by travel time (units drive to the
 * incident, so times are measured towards it), each with its ETA and route geometry.
 *
 * Method: one one-to-many query on the contraction hierarchy (CG_BACKWARD: every unit to the
 * one incident; one upward search per unit, < 1 ms for 200 units) ranks every available unit;
 * only the K winners get a full route with geometry. A graph without a hierarchy falls back to
 * one plain Dijkstra per unit (correct, slower).
 */
#ifndef CG_PLAN_DISPATCH_H
#define CG_PLAN_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "net/route.h"

typedef struct {
    cg_snap at;
    int available; /* 0: busy, never proposed */
} cg_unit;

typedef struct {
    uint32_t unit; /* index into the units given */
    double eta_s;
    cg_path route; /* unit to incident, with geometry */
} cg_dispatch_pick;

typedef struct {
    cg_dispatch_pick *picks; /* nearest first; ties by unit index */
    size_t n;
    size_t n_available;
} cg_dispatch;

/* Errors: CG_EINVAL for no units ("units"), none available ("units"), k == 0 ("k"). */
int cg_dispatch_nearest(cg_search *s, const cg_snap *incident, const cg_unit *units, size_t n,
                        size_t k, cg_dispatch *out, cg_err *err);
void cg_dispatch_free(cg_dispatch *d);

/* A FeatureCollection: one LineString feature per pick (properties rank, unit, eta_s,
 * metres). */
void cg_dispatch_geojson(const cg_dispatch *d, cg_buf *b);

#endif
