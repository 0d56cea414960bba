/*
 * The routing contract: snapping points to the road network, bounded multi-source searches
 * (coverage, isochrones, dispatch) and point-to-point / one-to-many shortest paths on the
 * contraction hierarchy. Everything here works on a loaded cg_graph (graph.h) and times are for
 * the graph's profile.
 *
 * Positions. A point is snapped to the nearest road position: an edge and a fraction along it.
 * A position on a two-way road is on both the edge and its twin; searches start from (and arrive
 * at) both ends of the segment with the partial edge cost, so a route may start mid-block.
 *
 * Workspaces. Searches keep their state (distances, heap, visited list) in a cg_search that is
 * reused between queries and reset in time proportional to what the last query touched, never
 * to the graph size. One workspace per thread; the graph itself is shared read-only.
 *
 * Typical use for coverage and isochrones:
 *
 *   cg_search *s; cg_search_new(g, &s, &err);
 *   cg_snap src[2]; cg_graph_snap(g, post1, CG_SNAP_MAX_M, &src[0], &err); ...
 *   cg_search_bounded(s, src, 2, 120.0, CG_FORWARD, &err);   // all nodes within 2 minutes
 *   for (size_t i = 0; i < cg_search_reached_count(s); i++) {
 *       uint32_t v = cg_search_reached(s)[i];
 *       double t = cg_search_seconds(s, v); uint32_t post = cg_search_source(s, v);
 *   }
 *   // an edge e = (a -> b) is covered up to fraction (T - t(a)) / seconds(e) from a
 */
#ifndef CG_NET_ROUTE_H
#define CG_NET_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "geo/geom.h"
#include "net/graph.h"

/* A point farther than this from every road is refused (CG_EINVAL, "point is 812 m from the
 * nearest road"). */
#define CG_SNAP_MAX_M 500.0

typedef struct {
    uint32_t edge;   /* an edge holding the position (the non-duplicate one) */
    double fraction; /* 0 = at the edge's tail, 1 = at its head */
    double snap_m;   /* distance from the query point to the position */
    cg_point at;     /* the position */
} cg_snap;

/* Snaps p to the nearest road position within max_m metres (through a grid index over the edge
 * segments, built on first use and kept with the graph; thread-safe). Errors: CG_EINVAL when no
 * road is within max_m or p is not a valid coordinate. */
int cg_graph_snap(const cg_graph *g, cg_point p, double max_m, cg_snap *out, cg_err *err);

/* ---- bounded searches (plain Dijkstra, no hierarchy needed) ---- */

typedef enum {
    CG_FORWARD = 0, /* travel time from the sources to each node */
    CG_BACKWARD = 1 /* travel time from each node to the sources (units driving to an incident) */
} cg_direction;

typedef struct cg_search cg_search;

int cg_search_new(const cg_graph *g, cg_search **out, cg_err *err);
void cg_search_free(cg_search *s);

/*
 * Settles every node whose travel time from the nearest source (to the nearest source, for
 * CG_BACKWARD) is at most budget_s seconds (INFINITY: no bound). One search for all sources
 * together: each node learns its time and which source is nearest. Errors: CG_EINVAL (field
 * "sources" or "budget") for n == 0 or a budget that is not > 0.
 */
int cg_search_bounded(cg_search *s, const cg_snap *sources, size_t n, double budget_s,
                      cg_direction dir, cg_err *err);
/* The same from graph nodes (time 0 at each). */
int cg_search_bounded_nodes(cg_search *s, const uint32_t *nodes, size_t n, double budget_s,
                            cg_direction dir, cg_err *err);

/* The nodes the last search settled, in order of time. */
size_t cg_search_reached_count(const cg_search *s);
const uint32_t *cg_search_reached(const cg_search *s);
/* Seconds for node v after the last search, INFINITY when not reached within the budget. */
double cg_search_seconds(const cg_search *s, uint32_t v);
/* Index (into the sources array) of the source nearest to v, or CG_NO_NODE when not reached. */
uint32_t cg_search_source(const cg_search *s, uint32_t v);
/* The edge by which the search reached v (for CG_BACKWARD: the edge leaving v towards the
 * source), CG_NO_EDGE at a source or when not reached: follow it to rebuild a path. */
uint32_t cg_search_parent_edge(const cg_search *s, uint32_t v);
/* Seconds to reach the snapped position `to` (mid-edge) from the sources of the last search,
 * INFINITY when neither end of its segment was reached. */
double cg_search_seconds_at(const cg_search *s, const cg_snap *to);

/* ---- shortest paths ---- */

typedef struct {
    double seconds, metres;
    size_t n;      /* points of the geometry */
    cg_point *pts; /* owned: from the start position through every road node to the end */
} cg_path;

void cg_path_free(cg_path *p);

/*
 * The fastest route from one position to another on the contraction hierarchy (CG_EUNSUPPORTED
 * when the graph was built without one), with its geometry when `path->pts` is wanted
 * (geometry != 0). Always finds a route (the graph is strongly connected).
 */
int cg_route_ch(cg_search *s, const cg_snap *from, const cg_snap *to, int geometry, cg_path *out,
                cg_err *err);
/* The same with plain Dijkstra: the reference the hierarchy is tested and benchmarked against. */
int cg_route_dijkstra(cg_search *s, const cg_snap *from, const cg_snap *to, int geometry,
                      cg_path *out, cg_err *err);

/*
 * One-to-many on the hierarchy: seconds_out[i] = time from `one` to targets[i] (CG_FORWARD) or
 * from targets[i] to `one` (CG_BACKWARD: n units driving to one incident). Cost: one upward
 * search from `one`, then one visit of each node of the union of the targets' upward closures
 * (no queue; see ch.c).
 */
int cg_route_one_to_many(cg_search *s, const cg_snap *one, const cg_snap *targets, size_t n,
                         cg_direction dir, double *seconds_out, cg_err *err);

/*
 * Pinned targets (dispatch: many incidents against the same units). Pinning runs one upward
 * search per target and files each reached node's distance in a bucket (cost: a few times one
 * cg_route_one_to_many); each later query is a single upward search from `one` that reads the
 * buckets of the nodes it settles, so it costs about half a point-to-point query however many
 * targets there are. `dir` as for cg_route_one_to_many. The pin set keeps a copy of the targets
 * and is valid while the graph is.
 */
typedef struct cg_targets cg_targets;
int cg_targets_pin(cg_search *s, const cg_snap *targets, size_t n, cg_direction dir,
                   cg_targets **out, cg_err *err);
int cg_targets_query(cg_search *s, const cg_targets *t, const cg_snap *one, double *seconds_out,
                     cg_err *err);
size_t cg_targets_count(const cg_targets *t);
void cg_targets_free(cg_targets *t);

/* ---- faces: shared by `civgrid route` and GET /api/v1/route (route_json.c) ---- */

/* Parses "LAT,LON" (WGS84 degrees) into a point; CG_EINVAL naming `field` otherwise. */
int cg_route_parse_latlon(const char *s, const char *field, cg_point *out, cg_err *err);
/* A GeoJSON Feature: LineString geometry, properties {profile, seconds, metres}; coordinates
 * rounded to 1e-7 degrees. */
void cg_path_write_geojson(cg_buf *b, const cg_path *p, cg_profile profile);

#endif
