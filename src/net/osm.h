/*
 * Reading an OpenStreetMap extract (.osm.pbf, or .osm XML) with readosm into civgrid's place
 * types: roads (cg_way, for highway=* ways, node ids kept so the routing code can build its graph
 * from shared nodes), buildings (closed ways with building=*), points of interest of the key-unit
 * kinds (nodes, and closed ways by their centroid) and administrative boundaries (relations
 * boundary=administrative, their member ways joined end to end into closed rings).
 *
 * The file is read in three passes so that memory follows what is kept rather than the size of
 * the extract: relations first (to learn which ways boundaries need), then ways (to learn which
 * nodes are needed), then nodes. Nothing reaches the callbacks until all three passes succeeded,
 * so a truncated or foreign file fails before anything is written.
 *
 * OpenStreetMap data is © OpenStreetMap contributors, available under the ODbL: whoever stores or
 * shows it must keep CG_OSM_ATTRIBUTION with it.
 */
#ifndef CG_NET_OSM_H
#define CG_NET_OSM_H

#include <stdint.h>

#include "core/err.h"
#include "model/place.h"

#define CG_OSM_ATTRIBUTION "© OpenStreetMap contributors, ODbL"

/* Points of interest drawn from closed ways get this added to the way id, so they never collide
 * with points of interest drawn from nodes (OSM node and way ids are separate sequences). */
#define CG_OSM_WAY_POI_ID_BASE ((int64_t)1 << 48)

/* A turn-restriction relation (type=restriction) with one from way, one via node and one to way,
 * for motor vehicles: "restriction" or "restriction:motorcar" holds its value (no_left_turn,
 * only_straight_on, ...). Relations with a via way, or exempting motorcars, are not delivered. */
typedef struct {
    int64_t id, from_way, via_node, to_way;
    char restriction[32];
} cg_osm_restriction;

/* Each callback may be NULL; returning -1 (with err filled) stops the read, which then fails. */
typedef struct {
    int (*way)(void *ctx, const cg_way *w, cg_err *err);
    int (*building)(void *ctx, const cg_building *b, cg_err *err);
    int (*poi)(void *ctx, const cg_poi *p, cg_err *err);
    int (*boundary)(void *ctx, const cg_boundary *b, cg_err *err);
    /* Called at the start of each stage: "reading relations", "reading ways", "reading nodes",
     * "assembling". */
    void (*progress)(void *ctx, const char *stage);
} cg_osm_callbacks;

typedef struct {
    /* read from the file */
    int64_t nodes, ways_read, relations;
    /* delivered to the callbacks */
    int64_t ways, buildings, pois, boundaries;
    /* left out, by reason */
    int64_t skipped_missing_nodes;  /* a way needing nodes that are not in the extract */
    int64_t skipped_open_buildings; /* building=* on a way that is not a closed ring */
    int64_t skipped_rings;          /* boundary member ways that could not be joined into a
                                       closed ring */
    int64_t skipped_boundaries;     /* boundary relations left without any closed outer ring */
} cg_osm_stats;

/*
 * Reads `path` and calls the callbacks once per kept object (objects passed to callbacks are
 * only valid during the call). stats may be NULL. Errors: CG_ENOTFOUND when the file cannot be
 * opened, CG_EUNSUPPORTED for a name that is not .osm.pbf/.pbf/.osm, CG_EINVAL for a file that
 * is not valid OSM data (truncated, corrupt, or another format), or the callback's error.
 */
int cg_osm_read(const char *path, const cg_osm_callbacks *cb, void *ctx, cg_osm_stats *stats,
                cg_err *err);

/* Reads only the turn restrictions of `path` (one pass over its relations) and calls cb once per
 * restriction, after the pass succeeded. Errors as cg_osm_read. */
typedef int (*cg_osm_restriction_cb)(void *ctx, const cg_osm_restriction *r, cg_err *err);
int cg_osm_read_restrictions(const char *path, cg_osm_restriction_cb cb, void *ctx, cg_err *err);

#endif
