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
    free(s->src_edges);
    free(s->src_frac);
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

/* Runs side 0 until its nearest unsettled node is beyond the budget. */
static void run_bounded(cg_search *s)
{
    const cg_graph *g = s->g;
    cg_side *d = &s->side[0];
    s->n_reached = 0;
    uint32_t v;
    while (cg_side_min(d) <= s->budget_ms && (v = cg_side_pop(d)) != CG_NO_NODE) {
        s->reached[s->n_reached++] = v;
        uint32_t dv = d->dist[v], sv = d->src[v];
        if (s->dir == CG_FORWARD) {
            for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++)
                cg_side_relax(d, g->head[e], dv + g->ms[e], v, e, sv);
        } else {
            for (uint32_t k = g->in_first[v]; k < g->in_first[v + 1]; k++) {
                uint32_t e = g->in_edge[k];
                cg_side_relax(d, cg_graph_edge_from(g, e), dv + g->ms[e], v, e, sv);
            }
        }
    }
}

int cg_search_bounded(cg_search *s, const cg_snap *sources, size_t n, double budget_s,
                      cg_direction dir, cg_err *err)
{
    uint32_t budget;
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
    cg_side_reset(&s->side[0]);
    s->budget_ms = budget;
    s->dir = dir;
    for (size_t i = 0; i < n; i++) {
        cg_entry en;
        cg_snap_entries(s->g, &sources[i], dir == CG_BACKWARD, &en);
        for (int k = 0; k < en.n; k++)
            cg_side_relax(&s->side[0], en.node[k], en.ms[k], CG_NO_NODE, CG_NO_EDGE, (uint32_t)i);
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
    uint32_t budget;
    if (check_budget(budget_s, n, &budget, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (nodes[i] >= s->g->n)
            return cg_err_set(err, CG_EINVAL, "sources", "node %u is not in the graph", nodes[i]);
    cg_side_reset(&s->side[0]);
    s->budget_ms = budget;
    s->dir = dir;
    s->n_src = 0;
    for (size_t i = 0; i < n; i++)
        cg_side_relax(&s->side[0], nodes[i], 0, CG_NO_NODE, CG_NO_EDGE, (uint32_t)i);
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
