/*
 * The road graph: one routing profile's compact, read-only view of the road network, built from
 * the store's ways (or an OSM extract) and kept in a file beside the database (DB.car.graph).
 *
 * Model. Every road node (intersection or shape node) is a graph node; every edge is one straight
 * road segment between two consecutive nodes of a way, so an edge's geometry is the segment
 * between its endpoints' coordinates and cutting an edge at a fraction is linear interpolation.
 * A road usable both ways gives two directed edges, each other's `twin`; a oneway road gives
 * one. Node ids are dense (0 .. node_count-1) and are not OSM ids.
 *
 * Turn restrictions (car) are applied by node splitting: for each road segment u->v that ends in
 * a restricted turn at v, the graph holds a copy v' of v (same coordinates) with u->v' in place
 * of u->v and only the turns allowed after u->v leaving v'. Edges leaving a copy repeat edges of
 * the original node and are flagged CG_EDGE_DUP: code that measures the network (road length,
 * coverage) skips them so every physical segment and direction counts once;
 * cg_graph_node_origin() maps a copy back to the original node.
 *
 * Only the largest strongly connected component is kept (cg_graph_stats tells what was dropped),
 * so every node can reach every other one.
 *
 * Storage. Arrays in CSR form (edges grouped by their tail node), the contraction hierarchy
 * (ch.h) in the same file, behind a versioned header with the profile, the source's fingerprint
 * (way count, ways generation, digest of the roads) and an FNV-1a checksum over the payload; the
 * file is mmap'd read-only, so loading is cheap and the pages are shared between processes. A file
 * of another version, another profile, a wrong checksum, a truncated file or one built from a store
 * whose roads have changed since (added, removed or edited) is refused with a clear error.
 *
 * Threads: a loaded graph is immutable and may be shared by any number of threads; searches keep
 * their state in their own workspaces (route.h).
 */
#ifndef CG_NET_GRAPH_H
#define CG_NET_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "geo/geom.h"
#include "net/profile.h"
#include "store/store.h"

#define CG_GRAPH_VERSION 5
#define CG_NO_NODE       UINT32_MAX
#define CG_NO_EDGE       UINT32_MAX

typedef struct cg_graph cg_graph;

enum {
    CG_EDGE_DUP = 1, /* repeats another edge (leaves a turn-restriction copy of a node) */
};

typedef struct {
    uint32_t from, to;
    uint32_t ms;        /* travel time in milliseconds for the graph's profile (>= 1) */
    float metres;       /* length along the segment */
    uint8_t road_class; /* cg_road_class */
    uint8_t flags;      /* CG_EDGE_* */
    uint32_t twin;      /* the edge over the same segment the other way, or CG_NO_EDGE */
} cg_edge;

/* A turn restriction at via node `via` (OSM ids): from way `from_way` into way `to_way`. */
typedef struct {
    int64_t from_way, via, to_way;
    int only; /* 1 for only_* (every other turn from from_way at via is forbidden), 0 for no_* */
} cg_turn_restriction;

typedef struct {
    int64_t ways_read, ways_used;     /* ways seen; ways usable by the profile */
    int64_t nodes_built, edges_built; /* before the component filter */
    int64_t nodes, edges;             /* kept: the largest strongly connected component */
    int64_t nodes_dropped, edges_dropped, components_dropped;
    int64_t restrictions_read, restrictions_applied; /* turn restrictions (car only) */
    int64_t restrictions_ignored; /* not matching the graph (missing way, via not on both) */
    double build_s, ch_s;         /* seconds spent building the graph and the hierarchy */
    int64_t bytes;                /* graph + hierarchy in memory (and in the file) */
} cg_graph_stats;

typedef void (*cg_graph_progress_fn)(void *ctx, const char *stage, double fraction);

typedef struct {
    cg_profile profile;
    const cg_speeds *speeds;                 /* NULL: the profile's defaults */
    const cg_turn_restriction *restrictions; /* used for CG_PROFILE_CAR only; may be NULL */
    size_t n_restrictions;
    int build_ch;                  /* build the contraction hierarchy too (route.h needs it) */
    cg_graph_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} cg_graph_build_opts;

/* Builds from every way in the store. Fails with CG_EINVAL when no road is usable. */
int cg_graph_build_store(cg_store *s, const cg_graph_build_opts *o, cg_graph **out,
                         cg_graph_stats *stats, cg_err *err);
/* Builds from ways in memory (the demo generator, an OSM read, tests). */
int cg_graph_build_ways(const cg_way *ways, size_t n, const cg_graph_build_opts *o, cg_graph **out,
                        cg_graph_stats *stats, cg_err *err);
/* Builds from an OSM extract read directly (roads and, for the car, turn-restriction relations
 * of type restriction with one via node; o->restrictions is ignored). Errors as cg_osm_read. */
int cg_graph_build_pbf(const char *path, const cg_graph_build_opts *o, cg_graph **out,
                       cg_graph_stats *stats, cg_err *err);
void cg_graph_free(cg_graph *g);

/* "DB.car.graph" for a database path and profile, into buf. */
int cg_graph_path(const char *db_path, cg_profile p, char *buf, size_t cap, cg_err *err);
/* Writes the graph (and its hierarchy) atomically (a temporary file renamed into place). */
int cg_graph_save(const cg_graph *g, const char *path, cg_err *err);
/*
 * Maps a graph file. `s` may be NULL; when given, a file built from other roads than the store
 * now holds is refused as stale (CG_ECONFLICT: run `civgrid net build`): a road added, removed
 * or edited (geometry, nodes, class, oneway, maxspeed, access). The file records the store's
 * ways generation (cg_store_ways_generation) and a digest of the roads; when the generation moved
 * the roads are read and digested again, so a rewrite that changed nothing routing reads (a
 * renamed road, the same extract imported again) keeps the graph. A graph built straight from a
 * PBF (cg_graph_build_pbf) carries no store fingerprint and is not checked.
 * Errors: CG_ENOTFOUND (no file), CG_EUNSUPPORTED (other version), CG_EINVAL (not a graph file,
 * truncated, wrong checksum, other profile), CG_ECONFLICT (stale).
 */
int cg_graph_load(const char *path, cg_profile p, cg_store *s, cg_graph **out, cg_err *err);

cg_profile cg_graph_profile(const cg_graph *g);
uint32_t cg_graph_node_count(const cg_graph *g);
uint32_t cg_graph_edge_count(const cg_graph *g);
int cg_graph_has_ch(const cg_graph *g);
int64_t cg_graph_bytes(const cg_graph *g);
cg_bbox cg_graph_bbox(const cg_graph *g);

cg_point cg_graph_node_point(const cg_graph *g, uint32_t v);
/* The node a turn-restriction copy stands for; v itself for every other node. */
uint32_t cg_graph_node_origin(const cg_graph *g, uint32_t v);

/* Edges leaving v are the ids [cg_graph_out_begin(v), cg_graph_out_end(v)). Every edge id in
 * 0 .. edge_count-1 belongs to exactly one such range. */
uint32_t cg_graph_out_begin(const cg_graph *g, uint32_t v);
uint32_t cg_graph_out_end(const cg_graph *g, uint32_t v);
void cg_graph_edge(const cg_graph *g, uint32_t e, cg_edge *out);
uint32_t cg_graph_edge_to(const cg_graph *g, uint32_t e);
uint32_t cg_graph_edge_ms(const cg_graph *g, uint32_t e);
/* The point at `fraction` (0 = from, 1 = to) along edge e: for cutting an edge at a budget. */
cg_point cg_graph_edge_point_at(const cg_graph *g, uint32_t e, double fraction);

#endif
