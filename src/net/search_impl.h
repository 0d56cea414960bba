/*
 * The inside of a cg_search (route.h), shared by dijkstra.c (plain searches) and ch.c (queries on
 * the hierarchy). Two sides, each with its own distances, parents and 4-ary heap, so a
 * bidirectional query needs no second workspace. Arrays are sized for the whole graph once; a
 * query resets only what the previous one touched.
 */
#ifndef CG_NET_SEARCH_IMPL_H
#define CG_NET_SEARCH_IMPL_H

#include <stdint.h>

#include "net/graph_impl.h"
#include "net/route.h"

#define CG_INF_MS UINT32_MAX

typedef struct {
    uint32_t *dist;  /* ms; CG_INF_MS when untouched */
    uint32_t *pnode; /* predecessor node (CG_NO_NODE at a source) */
    uint32_t *pedge; /* edge used from pnode: a graph edge, or a hierarchy edge in ch.c */
    uint32_t *src;   /* index of the source the node was reached from */
    uint32_t *hpos;  /* position in the heap, CG_NO_NODE when not in it */
    uint32_t *heap;  /* nodes, a 4-ary min-heap on dist */
    uint32_t hn;
    uint32_t *touched; /* nodes whose dist was set, for the reset */
    uint32_t n_touched;
} cg_side;

typedef struct {
    uint32_t edge, index;
} cg_src_edge;

/*
 * Point-to-point queries on the hierarchy (ch.c: cg_route_ch) keep their own compact state, for
 * they are all cache misses: per node (by rank) both directions' distance and parent in one
 * 16-byte entry, so settling a node, stalling it and testing it as a meeting point read one
 * cache line; per direction a 4-ary heap holding (key, node) pairs, so sifting compares keys in
 * the heap itself instead of chasing each node's distance; entries are never moved or
 * decreased, a node whose distance falls is pushed again and the stale entry skipped when it
 * comes up (no position array to keep). Allocated by the first query of a workspace.
 */
typedef struct {
    uint32_t dist[2];   /* ms from the start (0) / to the target (1); CG_INF_MS when untouched */
    uint32_t parent[2]; /* rank the node was reached from, CG_NO_NODE at an entry */
} cg_ch_node;

typedef struct {
    uint32_t key, node;
} cg_ch_item;

typedef struct {
    cg_ch_item *heap;
    uint32_t hn, hcap;
    uint32_t *touched;
    uint32_t n_touched, tcap;
} cg_ch_dir;

struct cg_search {
    const cg_graph *g;
    cg_side side[2];
    uint32_t *reached; /* settled nodes of the last bounded search, in order */
    uint32_t n_reached;
    uint32_t budget_ms;
    cg_direction dir;
    /* The bucket queue of bounded searches (dijkstra.c), allocated by the first one: per node
     * links of the doubly linked bucket lists, and the circular array of bucket heads. */
    uint32_t *bnext, *bprev, *bhead;
    uint32_t bmask;         /* buckets - 1: a power of two above the longest edge's ms */
    cg_src_edge *src_edges; /* sources of the last search by edge, for seconds_at */
    uint32_t n_src;
    double *src_frac;
    cg_ch_node *chn; /* point-to-point hierarchy queries (see cg_ch_node), by rank */
    cg_ch_dir chd[2];
};

void cg_side_reset(cg_side *s);

/* The 4-ary heap (see dijkstra.c for why 4-ary with decrease-key), inline: the searches spend
 * most of their time here. */

static inline void cg_side_sift_up(cg_side *s, uint32_t i)
{
    uint32_t v = s->heap[i], d = s->dist[v];
    while (i > 0) {
        uint32_t p = (i - 1) / 4, pv = s->heap[p];
        if (s->dist[pv] <= d)
            break;
        s->heap[i] = pv;
        s->hpos[pv] = i;
        i = p;
    }
    s->heap[i] = v;
    s->hpos[v] = i;
}

static inline void cg_side_sift_down(cg_side *s, uint32_t i)
{
    uint32_t v = s->heap[i], d = s->dist[v];
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c >= s->hn)
            break;
        uint32_t best = c, bd = s->dist[s->heap[c]];
        uint32_t end = c + 4 < s->hn ? c + 4 : s->hn;
        for (uint32_t k = c + 1; k < end; k++) {
            uint32_t kd = s->dist[s->heap[k]];
            if (kd < bd) {
                bd = kd;
                best = k;
            }
        }
        if (bd >= d)
            break;
        s->heap[i] = s->heap[best];
        s->hpos[s->heap[i]] = i;
        i = best;
    }
    s->heap[i] = v;
    s->hpos[v] = i;
}

/* Lowers v's distance to d (inserting it), recording how it was reached. */
static inline void cg_side_relax(cg_side *s, uint32_t v, uint32_t d, uint32_t pnode, uint32_t pedge,
                                 uint32_t src)
{
    if (d >= s->dist[v])
        return;
    if (s->dist[v] == CG_INF_MS)
        s->touched[s->n_touched++] = v;
    s->dist[v] = d;
    s->pnode[v] = pnode;
    s->pedge[v] = pedge;
    s->src[v] = src;
    if (s->hpos[v] == CG_NO_NODE) {
        s->heap[s->hn] = v;
        s->hpos[v] = s->hn++;
    }
    cg_side_sift_up(s, s->hpos[v]);
}

/* Pops the nearest node; CG_NO_NODE when the heap is empty. */
static inline uint32_t cg_side_pop(cg_side *s)
{
    if (!s->hn)
        return CG_NO_NODE;
    uint32_t v = s->heap[0];
    s->hpos[v] = CG_NO_NODE;
    if (--s->hn) {
        s->heap[0] = s->heap[s->hn];
        cg_side_sift_down(s, 0);
    }
    return v;
}

static inline uint32_t cg_side_min(const cg_side *s)
{
    return s->hn ? s->dist[s->heap[0]] : CG_INF_MS;
}

/* Where a snapped position enters the network: up to three (node, ms) pairs. For a forward start
 * the heads of the position's edge and twin; for an arrival (backward) their tails. A position
 * exactly at the tail of a oneway edge also starts from that node (any way out of it), and one
 * exactly at its head also arrives there (from any way in). */
typedef struct {
    uint32_t node[3];
    uint32_t ms[3];
    int n;
} cg_entry;
void cg_snap_entries(const cg_graph *g, const cg_snap *p, int arrival, cg_entry *out);
/* The direct cost along one segment when both positions are on it (CG_INF_MS otherwise). */
uint32_t cg_same_edge_ms(const cg_graph *g, const cg_snap *from, const cg_snap *to);
/* Appends a point to a path under construction. */
int cg_path_push(cg_path *p, size_t *cap, cg_point pt);
/* Sets metres from the geometry and drops it unless wanted. */
void cg_path_finish(cg_path *p, int geometry);

#endif
