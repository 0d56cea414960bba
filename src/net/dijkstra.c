/*
 * Plain Dijkstra (route.h): bounded multi-source searches for coverage, isochrones and dispatch,
 * and point-to-point routes used as the reference for the hierarchy.
 *
 * The queue is a 4-ary min-heap with decrease-key: each node's heap position is kept in hpos, so
 * a relaxation that lowers a distance sifts the node up in place instead of inserting a second
 * copy (lazy deletion would let the heap grow with every relaxation). A 4-ary heap is shallower
 * than a binary one and its four children share a cache line, which pays on road graphs where
 * pops dominate. Cost: O((n + m) log4 n) for a search that settles n nodes over m edges.
 *
 * Bounded searches (coverage, isochrones, post placement) use a bucket queue instead: see
 * run_bounded.
 *
 * Times are integer milliseconds, so the hierarchy's sums are exactly the same numbers and the
 * tests compare them for equality.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/search_impl.h"

void cg_side_reset(cg_side *s)
{
    for (uint32_t i = 0; i < s->n_touched; i++) {
        uint32_t v = s->touched[i];
        s->dist[v] = CG_INF_MS;
        s->hpos[v] = CG_NO_NODE;
    }
    s->n_touched = 0;
    s->hn = 0;
}

/* ---- workspaces ---- */

static int side_init(cg_side *s, uint32_t n)
{
    size_t b = (size_t)(n ? n : 1) * sizeof(uint32_t);
    s->dist = malloc(b);
    s->pnode = malloc(b);
    s->pedge = malloc(b);
    s->src = malloc(b);
    s->hpos = malloc(b);
    s->heap = malloc(b);
    s->touched = malloc(b);
    if (!s->dist || !s->pnode || !s->pedge || !s->src || !s->hpos || !s->heap || !s->touched)
        return -1;
    memset(s->dist, 0xff, b);
    memset(s->hpos, 0xff, b);
    return 0;
}

static void side_free(cg_side *s)
{
    free(s->dist);
    free(s->pnode);
    free(s->pedge);
    free(s->src);
    free(s->hpos);
    free(s->heap);
    free(s->touched);
}

int cg_search_new(const cg_graph *g, cg_search **out, cg_err *err)
{
    cg_search *s = calloc(1, sizeof *s);
    if (!s || side_init(&s->side[0], g->n) || side_init(&s->side[1], g->n) ||
        !(s->reached = malloc((size_t)(g->n ? g->n : 1) * sizeof *s->reached))) {
        cg_search_free(s);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for a route search");
    }
    s->g = g;
    *out = s;
    return 0;
}

void cg_search_free(cg_search *s)
{
    if (!s)
        return;
    side_free(&s->side[0]);
    side_free(&s->side[1]);
    free(s->reached);
    free(s->bnext);
    free(s->bprev);
    free(s->bhead);
    free(s->src_edges);
    free(s->src_frac);
    free(s->chn);
    for (int d = 0; d < 2; d++) {
        free(s->chd[d].heap);
        free(s->chd[d].touched);
    }
    free(s);
}

/* ---- positions ---- */

static uint32_t part(uint32_t ms, double f)
{
    double x = ms * f;
    return x <= 0 ? 0 : (uint32_t)lround(x);
}

void cg_snap_entries(const cg_graph *g, const cg_snap *p, int arrival, cg_entry *out)
{
    uint32_t e = p->edge, t = g->twin[e];
    out->n = 0;
    if (arrival) {
        out->node[out->n] = cg_graph_edge_from(g, e);
        out->ms[out->n++] = part(g->ms[e], p->fraction);
        if (t != CG_NO_EDGE) {
            out->node[out->n] = cg_graph_edge_from(g, t);
            out->ms[out->n++] = part(g->ms[t], 1 - p->fraction);
        } else if (p->fraction >= 1) {
            out->node[out->n] = g->origin[g->head[e]];
            out->ms[out->n++] = 0;
        }
    } else {
        out->node[out->n] = g->head[e];
        out->ms[out->n++] = part(g->ms[e], 1 - p->fraction);
        if (t != CG_NO_EDGE) {
            out->node[out->n] = g->head[t];
            out->ms[out->n++] = part(g->ms[t], p->fraction);
        } else if (p->fraction <= 0) {
            out->node[out->n] = cg_graph_edge_from(g, e);
            out->ms[out->n++] = 0;
        }
    }
}

uint32_t cg_same_edge_ms(const cg_graph *g, const cg_snap *from, const cg_snap *to)
{
    if (from->edge != to->edge)
        return CG_INF_MS;
    if (to->fraction >= from->fraction)
        return part(g->ms[from->edge], to->fraction - from->fraction);
    uint32_t t = g->twin[from->edge];
    return t == CG_NO_EDGE ? CG_INF_MS : part(g->ms[t], from->fraction - to->fraction);
}

int cg_path_push(cg_path *p, size_t *cap, cg_point pt)
{
    if (p->n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        cg_point *q = realloc(p->pts, c * sizeof *q);
        if (!q)
            return -1;
        p->pts = q;
        *cap = c;
    }
    p->pts[p->n++] = pt;
    return 0;
}

void cg_path_finish(cg_path *p, int geometry)
{
    p->metres = 0;
    for (size_t i = 1; i < p->n; i++)
        p->metres += cg_distance_m(p->pts[i - 1], p->pts[i]);
    if (!geometry) {
        free(p->pts);
        p->pts = NULL;
        p->n = 0;
    }
}

void cg_path_free(cg_path *p)
{
    free(p->pts);
    p->pts = NULL;
    p->n = 0;
}

/* ---- bounded searches ---- */

static int cmp_src_edge(const void *a, const void *b)
{
    const cg_src_edge *x = a, *y = b;
    if (x->edge != y->edge)
        return x->edge < y->edge ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int check_budget(double budget_s, size_t n, uint32_t *ms, cg_err *err)
{
    if (n == 0)
        return cg_err_set(err, CG_EINVAL, "sources", "no source to search from");
    if (n >= CG_NO_NODE)
        return cg_err_set(err, CG_ELIMIT, "sources", "too many sources");
    if (!(budget_s > 0))
        return cg_err_set(err, CG_EINVAL, "budget", "a time budget must be more than 0 seconds");
    *ms = budget_s * 1000.0 >= (double)CG_INF_MS - 1 ? CG_INF_MS - 1
                                                     : (uint32_t)floor(budget_s * 1000.0);
    return 0;
}

/*
 * Bounded searches use a monotone bucket queue (Dial's algorithm) instead of the heap. Times are
 * integer milliseconds and every edge is at most L ms long, so the queued nodes' times always
 * lie within [t, t + L] of the time t last popped: a circular array of 2^k > L buckets, one per
 * millisecond, holds each queued node in the bucket of its time, in a doubly linked list (so a
 * lowered time moves the node in O(1) instead of sifting it). Popping walks the buckets forward;
 * a search within a budget B walks at most B buckets in all. Compared with the 4-ary heap this
 * removes the log factor and, what matters more on a search that settles the whole city, the
 * random reads of other nodes' times while sifting: a relaxation touches only the node itself and
 * its bucket. Nodes settle in the same order of time (ties in another order, so a node equally
 * near two sources may name either). Cost: two links per node and 4 * 2^k bytes of heads,
 * allocated by the first bounded search; L is read from the graph once then.
 */
static int bucket_init(cg_search *s, cg_err *err)
{
    if (s->bhead)
        return 0;
    const cg_graph *g = s->g;
    uint32_t longest = 0;
    for (uint32_t e = 0; e < g->m; e++)
        longest = g->ms[e] > longest ? g->ms[e] : longest;
    uint32_t nb = 1;
    while (nb <= longest && nb < (1u << 31))
        nb <<= 1;
    size_t n = g->n ? g->n : 1;
    s->bnext = malloc(n * sizeof *s->bnext);
    s->bprev = malloc(n * sizeof *s->bprev);
    s->bhead = malloc((size_t)nb * sizeof *s->bhead);
    if (!s->bnext || !s->bprev || !s->bhead) {
        free(s->bnext);
        free(s->bprev);
        free(s->bhead);
        s->bnext = s->bprev = s->bhead = NULL;
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for a search queue");
    }
    memset(s->bhead, 0xff, (size_t)nb * sizeof *s->bhead);
    s->bmask = nb - 1;
    return 0;
}

static inline void bucket_unlink(cg_search *s, uint32_t v, uint32_t d)
{
    uint32_t nx = s->bnext[v], pv = s->bprev[v];
    if (pv == CG_NO_NODE)
        s->bhead[d & s->bmask] = nx;
    else
        s->bnext[pv] = nx;
    if (nx != CG_NO_NODE)
        s->bprev[nx] = pv;
}

/* The bucket queue's relaxation: side 0's dist, parents and sources as cg_side_relax, hpos only
 * marks a queued node (0) and hn counts them. */
static inline void bucket_relax(cg_search *s, uint32_t v, uint32_t d, uint32_t pnode,
                                uint32_t pedge, uint32_t src)
{
    cg_side *q = &s->side[0];
    uint32_t old = q->dist[v];
    if (d >= old)
        return;
    if (old == CG_INF_MS)
        q->touched[q->n_touched++] = v;
    if (q->hpos[v] != CG_NO_NODE)
        bucket_unlink(s, v, old);
    else
        q->hn++;
    q->hpos[v] = 0;
    q->dist[v] = d;
    q->pnode[v] = pnode;
    q->pedge[v] = pedge;
    q->src[v] = src;
    uint32_t *head = &s->bhead[d & s->bmask];
    s->bnext[v] = *head;
    s->bprev[v] = CG_NO_NODE;
    if (*head != CG_NO_NODE)
        s->bprev[*head] = v;
    *head = v;
}

/* Runs side 0 from the queued sources until the nearest queued node is beyond the budget, then
 * empties the buckets still holding nodes (so the next search starts from clean heads). */
static void run_bounded(cg_search *s)
{
    const cg_graph *g = s->g;
    cg_side *d = &s->side[0];
    s->n_reached = 0;
    uint32_t t = 0; /* start times are at most one edge long: all within the first lap */
    while (d->hn) {
        uint32_t v;
        while ((v = s->bhead[t & s->bmask]) == CG_NO_NODE)
            t++;
        if (t > s->budget_ms)
            break;
        bucket_unlink(s, v, t);
        d->hpos[v] = CG_NO_NODE;
        d->hn--;
        s->reached[s->n_reached++] = v;
        uint32_t sv = d->src[v];
        if (s->dir == CG_FORWARD) {
            for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++)
                bucket_relax(s, g->head[e], t + g->ms[e], v, e, sv);
        } else {
            for (uint32_t k = g->in_first[v]; k < g->in_first[v + 1]; k++) {
                uint32_t e = g->in_edge[k];
                bucket_relax(s, cg_graph_edge_from(g, e), t + g->ms[e], v, e, sv);
            }
        }
    }
    for (; d->hn; t++)
        for (uint32_t v = s->bhead[t & s->bmask]; v != CG_NO_NODE; v = s->bnext[v]) {
            d->hpos[v] = CG_NO_NODE;
            d->hn--;
            s->bhead[t & s->bmask] = CG_NO_NODE;
        }
}

int cg_search_bounded(cg_search *s, const cg_snap *sources, size_t n, double budget_s,
                      cg_direction dir, cg_err *err)
{
    uint32_t budget = 0;
    if (check_budget(budget_s, n, &budget, err))
        return -1;
    cg_src_edge *se = realloc(s->src_edges, n * sizeof *se);
    if (se)
        s->src_edges = se;
    double *sf = se ? realloc(s->src_frac, n * sizeof *sf) : NULL;
    if (sf)
        s->src_frac = sf;
    if (!se || !sf)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for %zu sources", n);
    if (bucket_init(s, err) != 0)
        return -1;
    cg_side_reset(&s->side[0]);
    s->budget_ms = budget;
    s->dir = dir;
    for (size_t i = 0; i < n; i++) {
        cg_entry en;
        cg_snap_entries(s->g, &sources[i], dir == CG_BACKWARD, &en);
        for (int k = 0; k < en.n; k++)
            bucket_relax(s, en.node[k], en.ms[k], CG_NO_NODE, CG_NO_EDGE, (uint32_t)i);
        se[i] = (cg_src_edge){sources[i].edge, (uint32_t)i};
        sf[i] = sources[i].fraction;
    }
    qsort(se, n, sizeof *se, cmp_src_edge);
    s->n_src = (uint32_t)n;
    run_bounded(s);
    return 0;
}

int cg_search_bounded_nodes(cg_search *s, const uint32_t *nodes, size_t n, double budget_s,
                            cg_direction dir, cg_err *err)
{
    uint32_t budget = 0;
    if (check_budget(budget_s, n, &budget, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (nodes[i] >= s->g->n)
            return cg_err_set(err, CG_EINVAL, "sources", "node %u is not in the graph", nodes[i]);
    if (bucket_init(s, err) != 0)
        return -1;
    cg_side_reset(&s->side[0]);
    s->budget_ms = budget;
    s->dir = dir;
    s->n_src = 0;
    for (size_t i = 0; i < n; i++)
        bucket_relax(s, nodes[i], 0, CG_NO_NODE, CG_NO_EDGE, (uint32_t)i);
    run_bounded(s);
    return 0;
}

size_t cg_search_reached_count(const cg_search *s)
{
    return s->n_reached;
}
const uint32_t *cg_search_reached(const cg_search *s)
{
    return s->reached;
}

double cg_search_seconds(const cg_search *s, uint32_t v)
{
    uint32_t d = s->side[0].dist[v];
    return d <= s->budget_ms ? d / 1000.0 : INFINITY;
}

uint32_t cg_search_source(const cg_search *s, uint32_t v)
{
    return s->side[0].dist[v] <= s->budget_ms ? s->side[0].src[v] : CG_NO_NODE;
}

uint32_t cg_search_parent_edge(const cg_search *s, uint32_t v)
{
    return s->side[0].dist[v] <= s->budget_ms ? s->side[0].pedge[v] : CG_NO_EDGE;
}

double cg_search_seconds_at(const cg_search *s, const cg_snap *to)
{
    const cg_side *d = &s->side[0];
    cg_entry en;
    cg_snap_entries(s->g, to, s->dir == CG_FORWARD, &en);
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < en.n; k++)
        if (d->dist[en.node[k]] <= s->budget_ms)
            best = (uint64_t)d->dist[en.node[k]] + en.ms[k] < best
                       ? (uint64_t)d->dist[en.node[k]] + en.ms[k]
                       : best;
    /* A source on the same segment may reach the position directly. */
    cg_src_edge key = {to->edge, 0};
    size_t lo = 0, hi = s->n_src;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_src_edge(&s->src_edges[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n_src && s->src_edges[i].edge == to->edge; i++) {
        cg_snap src = *to;
        src.fraction = s->src_frac[s->src_edges[i].index];
        uint32_t direct = s->dir == CG_FORWARD ? cg_same_edge_ms(s->g, &src, to)
                                               : cg_same_edge_ms(s->g, to, &src);
        if (direct < best)
            best = direct;
    }
    return best <= s->budget_ms ? best / 1000.0 : INFINITY;
}

/* ---- point to point ---- */

int cg_route_dijkstra(cg_search *s, const cg_snap *from, const cg_snap *to, int geometry,
                      cg_path *out, cg_err *err)
{
    const cg_graph *g = s->g;
    cg_side *d = &s->side[0];
    cg_side_reset(d);
    s->n_src = 0;
    s->n_reached = 0;
    s->budget_ms = 0; /* the bounded-search accessors see nothing from a route */
    cg_entry st, ar;
    cg_snap_entries(g, from, 0, &st);
    cg_snap_entries(g, to, 1, &ar);
    for (int k = 0; k < st.n; k++)
        cg_side_relax(d, st.node[k], st.ms[k], CG_NO_NODE, CG_NO_EDGE, 0);
    uint64_t best = cg_same_edge_ms(g, from, to);
    int best_k = -1;
    uint32_t v;
    while (cg_side_min(d) < best && (v = cg_side_pop(d)) != CG_NO_NODE) {
        uint32_t dv = d->dist[v];
        for (int k = 0; k < ar.n; k++)
            if (ar.node[k] == v && (uint64_t)dv + ar.ms[k] < best) {
                best = (uint64_t)dv + ar.ms[k];
                best_k = k;
            }
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++)
            cg_side_relax(d, g->head[e], dv + g->ms[e], v, e, 0);
    }
    if (best == CG_INF_MS)
        return cg_err_set(err, CG_EINTERNAL, NULL, "no route although the graph is connected");
    memset(out, 0, sizeof *out);
    out->seconds = best / 1000.0;
    size_t cap = 0;
    int oom = cg_path_push(out, &cap, from->at);
    if (best_k >= 0) {
        /* Walk the parents back from the arrival node, then reverse that stretch. */
        size_t first = out->n;
        for (uint32_t u = ar.node[best_k]; u != CG_NO_NODE && !oom; u = d->pnode[u])
            oom = cg_path_push(out, &cap, cg_graph_node_point(g, u));
        for (size_t i = first, j = out->n - 1; i < j; i++, j--) {
            cg_point t = out->pts[i];
            out->pts[i] = out->pts[j];
            out->pts[j] = t;
        }
    }
    oom = oom || cg_path_push(out, &cap, to->at);
    if (oom) {
        cg_path_free(out);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for a route");
    }
    cg_path_finish(out, geometry);
    return 0;
}
