/*
 * The inside of a cg_graph, shared by the files that build, store and search it (graph.c,
 * graph_file.c, ch.c, snap.c, dijkstra.c) and by nobody else: other modules use graph.h and
 * route.h. Every array is either malloc'd (a graph built in this process) or points into the
 * mmap'd file (a loaded one); the layout is the same, so searches do not care which.
 */
#ifndef CG_NET_GRAPH_IMPL_H
#define CG_NET_GRAPH_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "net/graph.h"

#define CG_COORD_SCALE     1e7 /* node coordinates are stored as int32 in 1e-7 degrees (~1 cm) */
#define CG_GRAPH_MAX_OWNED 32

typedef struct cg_snap_index cg_snap_index;

/* A hierarchy edge as a query scans it: head (a rank) and weight side by side, one load. */
typedef struct {
    uint32_t head, w;
} cg_ch_arc;

struct cg_graph {
    cg_profile profile;
    uint32_t n, m;
    /* The staleness check (graph_file.c) for a graph built from a store: its ways count, its
     * ways generation (cg_store_ways_generation) read before the roads were, and a digest of
     * the roads as routing reads them (cg_graph_store_digest); source_ways is -1 for a graph
     * built from elsewhere (no check). */
    int64_t source_ways, source_gen;
    uint64_t source_digest;

    /* The road graph: CSR by tail node, and the reverse (edge ids grouped by head). */
    const uint32_t *first_out; /* n + 1 */
    const uint32_t *head, *ms, *twin;
    const float *metres;
    const uint8_t *cls, *flags;
    const uint32_t *in_first; /* n + 1 */
    const uint32_t *in_edge;  /* m: edge ids whose head is the node */
    const int32_t *lat, *lon; /* n, 1e-7 degrees */
    const uint32_t *origin;   /* n: the node a turn-restriction copy stands for */

    /* The contraction hierarchy (ch.c); ch_up_first == NULL when not built. Both halves hold
     * only edges towards higher-ranked nodes: "up" edges v->w, "down" edges w->v stored at v (the
     * backward search walks them from v to w). mid is the contracted node of a shortcut, or
     * CG_NO_NODE for an original edge. */
    uint32_t ch_up_m, ch_dn_m;
    const uint32_t *rank, *order; /* node -> rank and rank -> node; the arrays below are indexed
                                     by rank and hold ranks (ch.c: to_csr) */
    const uint32_t *up_first, *up_mid;
    const cg_ch_arc *up_arc;
    const uint32_t *dn_first, *dn_mid;
    const cg_ch_arc *dn_arc;
    const float *up_len, *dn_len; /* metres along each hierarchy edge (routes without geometry) */

    cg_bbox bbox;

    void *map; /* the mapped file, or NULL */
    size_t map_len;
    void *owned[CG_GRAPH_MAX_OWNED];
    int n_owned;

    pthread_once_t snap_once;
    cg_snap_index *snap;
    int snap_failed;
};

/* Keeps p to be freed with the graph; returns p. */
void *cg_graph_own(cg_graph *g, void *p);
cg_graph *cg_graph_alloc(void);
void cg_snap_index_free(cg_snap_index *ix);
void cg_graph_unmap(void *map, size_t len);
/* The tail of edge e (a binary search: the CSR keeps no tail array). */
uint32_t cg_graph_edge_from(const cg_graph *g, uint32_t e);

/* The digest of the store's roads as the graph builder reads them (graph.c), and their count. */
int cg_graph_store_digest(cg_store *s, uint64_t *digest, int64_t *ways, cg_err *err);

/* Builds the hierarchy into g (ch.c). */
int cg_ch_build(cg_graph *g, cg_graph_progress_fn progress, void *ctx, cg_err *err);

#endif
