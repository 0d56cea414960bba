/*
 * Contraction hierarchies: building them, and point-to-point and one-to-many queries on them.
 *
 * The idea. Nodes are removed ("contracted") one at a time, least important first. Removing v
 * must keep every shortest path between the remaining nodes, so for each pair of neighbours
 * u -> v -> x whose best connection runs through v a shortcut u -> x (weight w(u,v) + w(v,x),
 * "via v") is added. A query then only ever climbs: a forward search from the start along edges
 * to later-contracted (higher-ranked) nodes, a backward search from the target likewise, and the
 * best meeting node gives the exact shortest time. On road graphs both searches settle a few
 * hundred nodes where Dijkstra settles most of the city.
 *
 * The order (see priority()): a node's level (one above its highest contracted neighbour's),
 * then the shortcuts its removal would add per arc it removes, and the original edges those
 * shortcuts stand for per original edge removed. Levels spread contraction evenly over the map;
 * the ratios keep the remaining graph sparse. Against the earlier key (2 * edge difference +
 * contracted neighbours) this cut the arcs a Heidelberg query relaxes from 249 to 148 (the same
 * as RoutingKit's hierarchy on the same graph) and the settled nodes from 71 to 68. Priorities
 * are updated lazily: the popped node's priority is recomputed and it is put back if it is no
 * longer the smallest; after a contraction each neighbour's priority is recomputed.
 *
 * Witness searches. Whether u -> v -> x needs a shortcut is decided by a Dijkstra from u that
 * avoids v, bounded by w(u,v) + max w(v,x) and by a number of settled nodes (WITNESS_SETTLE).
 * When the bound stops it early a shortcut may be added that was not needed: the hierarchy stays
 * exact, only a little larger.
 *
 * Cost. Building is dominated by witness searches: about (n + contracted neighbours) simulations
 * of a few hundred settled nodes each; ~10-30 s for a million road nodes on one core. Memory
 * while building is the dynamic graph (12 bytes per arc, at both ends); the result is 12 bytes
 * per hierarchy edge in each direction plus rank and two offset arrays per node.
 *
 * Queries use stall-on-demand: a node reached by the forward search that is reached more cheaply
 * from a higher node already settled (over one of its downward edges) is not expanded.
 * Point-to-point queries keep compact state (search_impl.h, cg_ch_node): per rank both
 * directions' distance and parent in one 16-byte entry, a 4-ary heap of (key, node) pairs with
 * lazy deletion, hierarchy edges read as (head, weight) pairs; the edge a parent pointer stands
 * for is found again (one per ordered pair) only for the few nodes of the route.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/search_impl.h"

#define WITNESS_SETTLE 400

typedef struct {
    uint32_t to, w, mid;
    float len;     /* metres */
    uint32_t hops; /* original edges the arc stands for */
} arc;

typedef struct {
    arc *a;
    uint32_t n, cap;
} arcs;

typedef struct {
    uint32_t n;
    arcs *out, *in;
    uint8_t *done;
    uint32_t *level; /* 1 + the highest level of a contracted neighbour (0 at first) */
    cg_side ws;      /* witness searches */
    /* Priority queue: binary heap of nodes on prio. */
    int32_t *prio;
    uint32_t *pq, *pqpos, pqn;
    int oom;
} builder;

static int arcs_push(arcs *l, arc x)
{
    if (l->n == l->cap) {
        uint32_t c = l->cap ? l->cap * 2 : 4;
        arc *q = realloc(l->a, c * sizeof *q);
        if (!q)
            return -1;
        l->a = q;
        l->cap = c;
    }
    l->a[l->n++] = x;
    return 0;
}

/* Adds or lowers the arc u -> x in both lists. */
static int add_arc(builder *b, uint32_t u, uint32_t x, uint32_t w, uint32_t mid, float len,
                   uint32_t hops)
{
    arcs *o = &b->out[u];
    for (uint32_t i = 0; i < o->n; i++)
        if (o->a[i].to == x) {
            if (o->a[i].w <= w)
                return 0;
            o->a[i] = (arc){x, w, mid, len, hops};
            arcs *in = &b->in[x];
            for (uint32_t k = 0; k < in->n; k++)
                if (in->a[k].to == u)
                    in->a[k] = (arc){u, w, mid, len, hops};
            return 0;
        }
    if (arcs_push(o, (arc){x, w, mid, len, hops}) ||
        arcs_push(&b->in[x], (arc){u, w, mid, len, hops}))
        return -1;
    return 0;
}

static void remove_arc(arcs *l, uint32_t to)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->a[i].to == to) {
            l->a[i] = l->a[--l->n];
            return;
        }
}

/* Witness Dijkstra from u avoiding v, up to `limit` ms and WITNESS_SETTLE settled nodes. */
static void witness(builder *b, uint32_t u, uint32_t v, uint32_t limit)
{
    cg_side *s = &b->ws;
    cg_side_reset(s);
    cg_side_relax(s, u, 0, CG_NO_NODE, CG_NO_EDGE, 0);
    int settled = 0;
    uint32_t x;
    while (cg_side_min(s) <= limit && settled < WITNESS_SETTLE &&
           (x = cg_side_pop(s)) != CG_NO_NODE) {
        settled++;
        uint32_t dx = s->dist[x];
        const arcs *o = &b->out[x];
        for (uint32_t i = 0; i < o->n; i++)
            if (o->a[i].to != v)
                cg_side_relax(s, o->a[i].to, dx + o->a[i].w, x, 0, 0);
    }
}

/* Contracts v (apply != 0) or counts the shortcuts its contraction would add (and, in *hops,
 * the original edges they would stand for). */
static int contract(builder *b, uint32_t v, int apply, uint32_t *hops)
{
    const arcs *in = &b->in[v], *out = &b->out[v];
    int shortcuts = 0;
    uint32_t added_hops = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t u = in->a[i].to, w1 = in->a[i].w, maxw = 0, h1 = in->a[i].hops;
        float l1 = in->a[i].len;
        for (uint32_t k = 0; k < out->n; k++)
            if (out->a[k].to != u && w1 + out->a[k].w > maxw)
                maxw = w1 + out->a[k].w;
        if (maxw == 0)
            continue;
        witness(b, u, v, maxw);
        for (uint32_t k = 0; k < out->n; k++) {
            uint32_t x = out->a[k].to, w = w1 + out->a[k].w;
            if (x == u || b->ws.dist[x] <= w)
                continue;
            shortcuts++;
            added_hops += h1 + out->a[k].hops;
            if (apply && add_arc(b, u, x, w, v, l1 + out->a[k].len, h1 + out->a[k].hops))
                b->oom = 1;
        }
    }
    if (hops)
        *hops = added_hops;
    return shortcuts;
}

/* The order's key, smaller first (the rule RoutingKit uses): the node's level, then the
 * shortcuts its contraction adds per arc it removes and the original edges they stand for per
 * original edge removed, each scaled by 1000. Levels spread contraction over the map (a node
 * waits until its contracted neighbours' level is passed) and the ratios prefer nodes whose
 * removal keeps the graph sparse, which keeps the searches' upper levels small. */
static int32_t priority(builder *b, uint32_t v)
{
    uint32_t added_hops;
    int64_t sc = contract(b, v, 0, &added_hops);
    int64_t removed = 1 + b->in[v].n + b->out[v].n, removed_hops = 1;
    for (uint32_t i = 0; i < b->in[v].n; i++)
        removed_hops += b->in[v].a[i].hops;
    for (uint32_t i = 0; i < b->out[v].n; i++)
        removed_hops += b->out[v].a[i].hops;
    int64_t p = 1000 * (int64_t)b->level[v] + 1000 * sc / removed +
                1000 * (int64_t)added_hops / removed_hops;
    return p > INT32_MAX ? INT32_MAX : (int32_t)p;
}

/* ---- the priority queue ---- */

static void pq_swap(builder *b, uint32_t i, uint32_t j)
{
    uint32_t t = b->pq[i];
    b->pq[i] = b->pq[j];
    b->pq[j] = t;
    b->pqpos[b->pq[i]] = i;
    b->pqpos[b->pq[j]] = j;
}

static int pq_less(const builder *b, uint32_t i, uint32_t j)
{
    uint32_t x = b->pq[i], y = b->pq[j];
    return b->prio[x] < b->prio[y] || (b->prio[x] == b->prio[y] && x < y);
}

static void pq_fix(builder *b, uint32_t i)
{
    while (i > 0 && pq_less(b, i, (i - 1) / 2)) {
        pq_swap(b, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < b->pqn && pq_less(b, l, m))
            m = l;
        if (r < b->pqn && pq_less(b, r, m))
            m = r;
        if (m == i)
            break;
        pq_swap(b, i, m);
        i = m;
    }
}

static uint32_t pq_pop(builder *b)
{
    uint32_t v = b->pq[0];
    pq_swap(b, 0, --b->pqn);
    b->pqpos[v] = CG_NO_NODE;
    if (b->pqn)
        pq_fix(b, 0);
    return v;
}

static void builder_free(builder *b)
{
    for (uint32_t v = 0; b->out && v < b->n; v++) {
        free(b->out[v].a);
        free(b->in[v].a);
    }
    free(b->out);
    free(b->in);
    free(b->done);
    free(b->level);
    free(b->prio);
    free(b->pq);
    free(b->pqpos);
    free(b->ws.dist);
    free(b->ws.pnode);
    free(b->ws.pedge);
    free(b->ws.src);
    free(b->ws.hpos);
    free(b->ws.heap);
    free(b->ws.touched);
}

static int builder_init(builder *b, const cg_graph *g)
{
    uint32_t n = g->n;
    size_t w = (size_t)(n ? n : 1) * 4;
    memset(b, 0, sizeof *b);
    b->n = n;
    b->out = calloc(n ? n : 1, sizeof *b->out);
    b->in = calloc(n ? n : 1, sizeof *b->in);
    b->done = calloc(n ? n : 1, 1);
    b->level = calloc(n ? n : 1, 4);
    b->prio = malloc(w);
    b->pq = malloc(w);
    b->pqpos = malloc(w);
    b->ws.dist = malloc(w);
    b->ws.pnode = malloc(w);
    b->ws.pedge = malloc(w);
    b->ws.src = malloc(w);
    b->ws.hpos = malloc(w);
    b->ws.heap = malloc(w);
    b->ws.touched = malloc(w);
    if (!b->out || !b->in || !b->done || !b->level || !b->prio || !b->pq || !b->pqpos ||
        !b->ws.dist || !b->ws.pnode || !b->ws.pedge || !b->ws.src || !b->ws.hpos || !b->ws.heap ||
        !b->ws.touched)
        return -1;
    memset(b->ws.dist, 0xff, w);
    memset(b->ws.hpos, 0xff, w);
    for (uint32_t u = 0; u < n; u++)
        for (uint32_t e = g->first_out[u]; e < g->first_out[u + 1]; e++)
            if (g->head[e] != u && add_arc(b, u, g->head[e], g->ms[e], CG_NO_NODE, g->metres[e], 1))
                return -1;
    return 0;
}

/* Turns the per-node lists into the CSR halves of the hierarchy, in rank space: position r holds
 * the edges of the node of rank r, heads and middle nodes are ranks. A query's upward searches
 * then walk a contiguous tail of the arrays (the highest ranks), which is what keeps them in
 * cache. */
static int to_csr(cg_graph *g, const arcs *lists, const uint32_t *order, uint32_t *m_out,
                  const uint32_t **first, const cg_ch_arc **arc, const uint32_t **mid,
                  const float **len)
{
    uint32_t n = g->n;
    uint32_t *f = cg_graph_own(g, malloc(((size_t)n + 1) * 4));
    if (!f)
        return -1;
    f[0] = 0;
    for (uint32_t r = 0; r < n; r++)
        f[r + 1] = f[r] + lists[order[r]].n;
    uint32_t m = f[n];
    cg_ch_arc *a = cg_graph_own(g, malloc((m ? m : 1) * sizeof *a));
    uint32_t *md = cg_graph_own(g, malloc((m ? m : 1) * 4));
    float *ln = cg_graph_own(g, malloc((m ? m : 1) * 4));
    if (!a || !md || !ln)
        return -1;
    for (uint32_t r = 0; r < n; r++) {
        const arcs *l = &lists[order[r]];
        for (uint32_t i = 0; i < l->n; i++) {
            a[f[r] + i] = (cg_ch_arc){g->rank[l->a[i].to], l->a[i].w};
            md[f[r] + i] = l->a[i].mid == CG_NO_NODE ? CG_NO_NODE : g->rank[l->a[i].mid];
            ln[f[r] + i] = l->a[i].len;
        }
    }
    *m_out = m;
    *first = f;
    *arc = a;
    *mid = md;
    *len = ln;
    return 0;
}

int cg_ch_build(cg_graph *g, cg_graph_progress_fn progress, void *ctx, cg_err *err)
{
    builder b;
    int rc = -1;
    if (builder_init(&b, g))
        goto oom;
    uint32_t n = g->n;
    if (progress)
        progress(ctx, "ordering nodes", 0);
    for (uint32_t v = 0; v < n; v++) {
        b.prio[v] = priority(&b, v);
        b.pq[v] = v;
        b.pqpos[v] = v;
    }
    b.pqn = n;
    for (uint32_t i = n / 2; i-- > 0;)
        pq_fix(&b, i);
    uint32_t *rank = cg_graph_own(g, malloc((size_t)(n ? n : 1) * 4));
    if (!rank)
        goto oom;
    uint32_t next = 0, step = n / 100 ? n / 100 : 1;
    while (b.pqn) {
        uint32_t v = b.pq[0];
        int32_t p = priority(&b, v);
        if (p > b.prio[v]) {
            b.prio[v] = p;
            pq_fix(&b, 0);
            if (b.pq[0] != v)
                continue;
        }
        pq_pop(&b);
        contract(&b, v, 1, NULL);
        if (b.oom)
            goto oom;
        b.done[v] = 1;
        rank[v] = next++;
        /* Detach v: its own lists now hold exactly its upward and downward edges. */
        for (uint32_t i = 0; i < b.out[v].n; i++)
            remove_arc(&b.in[b.out[v].a[i].to], v);
        for (uint32_t i = 0; i < b.in[v].n; i++)
            remove_arc(&b.out[b.in[v].a[i].to], v);
        for (int side = 0; side < 2; side++) {
            const arcs *l = side ? &b.in[v] : &b.out[v];
            for (uint32_t i = 0; i < l->n; i++) {
                uint32_t x = l->a[i].to;
                if (b.pqpos[x] == CG_NO_NODE)
                    continue;
                if (b.level[x] < b.level[v] + 1)
                    b.level[x] = b.level[v] + 1;
                b.prio[x] = priority(&b, x);
                pq_fix(&b, b.pqpos[x]);
            }
        }
        if (progress && next % step == 0)
            progress(ctx, "contracting", (double)next / n);
    }
    g->rank = rank;
    uint32_t *order = cg_graph_own(g, malloc((size_t)(n ? n : 1) * 4));
    if (!order)
        goto oom;
    for (uint32_t v = 0; v < n; v++)
        order[rank[v]] = v;
    g->order = order;
    if (to_csr(g, b.out, order, &g->ch_up_m, &g->up_first, &g->up_arc, &g->up_mid, &g->up_len) ||
        to_csr(g, b.in, order, &g->ch_dn_m, &g->dn_first, &g->dn_arc, &g->dn_mid, &g->dn_len))
        goto oom;
    rc = 0;
    goto out;
oom:
    cg_err_set(err, CG_ENOMEM, NULL, "out of memory building the contraction hierarchy");
out:
    builder_free(&b);
    return rc;
}

/* ---- queries ---- */

/* Settles the next node of an upward search (forward: up edges; backward: down edges), with
 * stall-on-demand. Returns the node, or CG_NO_NODE when the side is exhausted. */
static uint32_t ch_step(const cg_graph *g, cg_side *s, int backward)
{
    uint32_t v = cg_side_pop(s);
    if (v == CG_NO_NODE)
        return v;
    uint32_t dv = s->dist[v];
    const uint32_t *f = backward ? g->dn_first : g->up_first;
    const cg_ch_arc *a = backward ? g->dn_arc : g->up_arc;
    /* Stall: an edge from a higher node into v (the other half's edges at v) that gives v a
     * smaller distance means v's own distance is not a shortest one: do not expand it. */
    const uint32_t *of = backward ? g->up_first : g->dn_first;
    const cg_ch_arc *oa = backward ? g->up_arc : g->dn_arc;
    for (uint32_t k = of[v]; k < of[v + 1]; k++) {
        uint32_t d = s->dist[oa[k].head];
        if (d != CG_INF_MS && d + oa[k].w < dv)
            return v;
    }
    for (uint32_t k = f[v]; k < f[v + 1]; k++)
        cg_side_relax(s, a[k].head, dv + a[k].w, v, k, s->src[v]);
    return v;
}

static void seed(const cg_graph *g, cg_side *s, const cg_snap *p, int arrival)
{
    cg_entry en;
    cg_side_reset(s);
    cg_snap_entries(g, p, arrival, &en);
    for (int k = 0; k < en.n; k++)
        cg_side_relax(s, g->rank[en.node[k]], en.ms[k], CG_NO_NODE, CG_NO_EDGE, 0);
}

/* Appends the points of hierarchy edge x -> y (ranks; weight w, via mid), without x's own
 * point. */
static int unpack(const cg_graph *g, uint32_t x, uint32_t y, uint32_t w, uint32_t mid, cg_path *p,
                  size_t *cap)
{
    if (mid == CG_NO_NODE)
        return cg_path_push(p, cap, cg_graph_node_point(g, g->order[y]));
    /* x -> mid is a down edge stored at mid (head x); mid -> y an up edge at mid (head y). The
     * hierarchy keeps one edge per ordered pair, so each is found by one scan. */
    uint32_t a = g->dn_first[mid], b = g->up_first[mid];
    while (a < g->dn_first[mid + 1] && g->dn_arc[a].head != x)
        a++;
    while (b < g->up_first[mid + 1] && g->up_arc[b].head != y)
        b++;
    if (a < g->dn_first[mid + 1] && b < g->up_first[mid + 1] &&
        g->dn_arc[a].w + g->up_arc[b].w == w)
        return unpack(g, x, mid, g->dn_arc[a].w, g->dn_mid[a], p, cap) ||
               unpack(g, mid, y, g->up_arc[b].w, g->up_mid[b], p, cap);
    return -1; /* an inconsistent hierarchy */
}

/* Metres of the part of a position's segment between the position and entry node `node`. */
static double partial_m(const cg_graph *g, const cg_snap *p, int arrival, uint32_t node)
{
    cg_entry en;
    cg_snap_entries(g, p, arrival, &en);
    double len = g->metres[p->edge];
    /* Entry 0 lies along the edge's direction, entry 1 (the twin's) against it. */
    int along = en.node[0] == node;
    return arrival ? (along ? p->fraction : 1 - p->fraction) * len
                   : (along ? 1 - p->fraction : p->fraction) * len;
}

/* ---- point-to-point: compact state (search_impl.h, cg_ch_node) ---- */

static int chq_alloc(cg_search *s)
{
    if (s->chn)
        return 0;
    uint32_t n = s->g->n ? s->g->n : 1;
    for (int d = 0; d < 2; d++) {
        cg_ch_dir *q = &s->chd[d];
        q->hcap = q->tcap = 1024;
        q->heap = malloc(q->hcap * sizeof *q->heap);
        q->touched = malloc(q->tcap * sizeof *q->touched);
        if (!q->heap || !q->touched)
            return -1; /* cg_search_free frees what was made */
    }
    cg_ch_node *chn = malloc((size_t)n * sizeof *chn);
    if (!chn)
        return -1;
    for (uint32_t v = 0; v < n; v++)
        chn[v] = (cg_ch_node){{CG_INF_MS, CG_INF_MS}, {CG_NO_NODE, CG_NO_NODE}};
    s->chn = chn;
    return 0;
}

static void chq_reset(cg_search *s, int d)
{
    cg_ch_dir *q = &s->chd[d];
    for (uint32_t i = 0; i < q->n_touched; i++)
        s->chn[q->touched[i]].dist[d] = CG_INF_MS;
    q->n_touched = 0;
    q->hn = 0;
}

static int chq_push(cg_ch_dir *q, uint32_t key, uint32_t node)
{
    if (q->hn == q->hcap) {
        cg_ch_item *h = realloc(q->heap, (size_t)q->hcap * 2 * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->hcap *= 2;
    }
    uint32_t i = q->hn++;
    while (i > 0) {
        uint32_t up = (i - 1) / 4;
        if (q->heap[up].key <= key)
            break;
        q->heap[i] = q->heap[up];
        i = up;
    }
    q->heap[i] = (cg_ch_item){key, node};
    return 0;
}

/* Removes the top entry. */
static void chq_pop(cg_ch_dir *q)
{
    uint32_t n = --q->hn;
    if (n == 0)
        return;
    cg_ch_item last = q->heap[n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c >= n)
            break;
        uint32_t best = c, bk = q->heap[c].key, end = c + 4 < n ? c + 4 : n;
        for (uint32_t k = c + 1; k < end; k++)
            if (q->heap[k].key < bk) {
                bk = q->heap[k].key;
                best = k;
            }
        if (bk >= last.key)
            break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    q->heap[i] = last;
}

/* The least live key of direction d, dropping stale entries (a node pushed again with a smaller
 * distance left its old entry behind); CG_INF_MS when the direction is exhausted. */
static uint32_t chq_min(cg_search *s, int d)
{
    cg_ch_dir *q = &s->chd[d];
    while (q->hn && q->heap[0].key != s->chn[q->heap[0].node].dist[d])
        chq_pop(q);
    return q->hn ? q->heap[0].key : CG_INF_MS;
}

static int chq_relax(cg_search *s, int d, uint32_t v, uint32_t dist, uint32_t parent)
{
    cg_ch_node *x = &s->chn[v];
    if (dist >= x->dist[d])
        return 0;
    cg_ch_dir *q = &s->chd[d];
    if (x->dist[d] == CG_INF_MS) {
        if (q->n_touched == q->tcap) {
            uint32_t *t = realloc(q->touched, (size_t)q->tcap * 2 * sizeof *t);
            if (!t)
                return -1;
            q->touched = t;
            q->tcap *= 2;
        }
        q->touched[q->n_touched++] = v;
    }
    x->dist[d] = dist;
    x->parent[d] = parent;
    return chq_push(q, dist, v);
}

/*
 * A position exactly at a node of a two-way road enters the network at that node (0 ms) and at
 * the segment's far end (the whole segment's time). When the node is an original one (not a
 * turn-restriction copy, which allows fewer turns) the far entry is dominated: that node reaches
 * it by the same segment at the same cost, for departures and arrivals alike. Dropping it spares
 * the query a second upward search from a neighbour; the answer is the same.
 */
static void drop_dominated(const cg_graph *g, const cg_snap *p, cg_entry *en)
{
    uint32_t e = p->edge, t = g->twin[e];
    if (t == CG_NO_EDGE || en->n != 2)
        return;
    uint32_t at = p->fraction <= 0 ? g->head[t] : p->fraction >= 1 ? g->head[e] : CG_NO_NODE;
    if (at == CG_NO_NODE || g->origin[at] != at)
        return;
    int keep = en->node[0] == at && en->ms[0] == 0   ? 0
               : en->node[1] == at && en->ms[1] == 0 ? 1
                                                     : -1;
    if (keep < 0)
        return;
    en->node[0] = at;
    en->ms[0] = 0;
    en->n = 1;
}

static int chq_seed(cg_search *s, int d, const cg_snap *p)
{
    cg_entry en;
    chq_reset(s, d);
    cg_snap_entries(s->g, p, d, &en);
    drop_dominated(s->g, p, &en);
    for (int k = 0; k < en.n; k++)
        if (chq_relax(s, d, s->g->rank[en.node[k]], en.ms[k], CG_NO_NODE))
            return -1;
    return 0;
}

/* The hierarchy edge from rank x to rank y in half `first`/`arc` (stored at x): one per ordered
 * pair, found by a scan of x's few edges. */
static uint32_t arc_to(const uint32_t *first, const cg_ch_arc *arc, uint32_t x, uint32_t y)
{
    uint32_t k = first[x];
    while (k < first[x + 1] && arc[k].head != y)
        k++;
    return k;
}

/* A route's length from the hierarchy edges' lengths, without unpacking its geometry. */
static void route_metres(const cg_graph *g, const cg_ch_node *st, const cg_snap *from,
                         const cg_snap *to, uint32_t meet, cg_path *out)
{
    if (meet == CG_NO_NODE) {
        out->metres = fabs(to->fraction - from->fraction) * g->metres[from->edge];
        return;
    }
    double m = 0;
    uint32_t v = meet;
    for (uint32_t p; (p = st[v].parent[0]) != CG_NO_NODE; v = p)
        m += g->up_len[arc_to(g->up_first, g->up_arc, p, v)];
    m += partial_m(g, from, 0, g->order[v]);
    for (v = meet; st[v].parent[1] != CG_NO_NODE;) {
        uint32_t y = st[v].parent[1];
        m += g->dn_len[arc_to(g->dn_first, g->dn_arc, y, v)];
        v = y;
    }
    out->metres = m + partial_m(g, to, 1, g->order[v]);
}

/*
 * The bidirectional query: each direction settles nodes in order of distance, climbing only
 * (forward: up edges; backward: down edges), always the direction with the smaller key next,
 * until neither key is below the best meeting so far. A node is stalled (not expanded) when an
 * edge from a higher node already reached by the same direction gives it a smaller distance.
 */
int cg_route_ch(cg_search *s, const cg_snap *from, const cg_snap *to, int geometry, cg_path *out,
                cg_err *err)
{
    const cg_graph *g = s->g;
    if (!g->up_first)
        return cg_err_set(err, CG_EUNSUPPORTED, "graph",
                          "the graph has no contraction hierarchy: run `civgrid net build`");
    s->n_src = 0;
    s->n_reached = 0;
    s->budget_ms = 0;
    if (chq_alloc(s) || chq_seed(s, 0, from) || chq_seed(s, 1, to))
        goto oom;
    cg_ch_node *st = s->chn;
    uint64_t best = cg_same_edge_ms(g, from, to);
    uint32_t meet = CG_NO_NODE;
    for (;;) {
        uint32_t mf = chq_min(s, 0), mb = chq_min(s, 1);
        if (mf >= best && mb >= best)
            break;
        int d = mb < mf;
        cg_ch_dir *q = &s->chd[d];
        uint32_t v = q->heap[0].node, dv = q->heap[0].key;
        chq_pop(q);
        uint32_t od = st[v].dist[!d];
        if (od != CG_INF_MS && (uint64_t)dv + od < best) {
            best = (uint64_t)dv + od;
            meet = v;
        }
        const uint32_t *of = d ? g->up_first : g->dn_first;
        const cg_ch_arc *oa = d ? g->up_arc : g->dn_arc;
        uint32_t k = of[v], end = of[v + 1];
        for (; k < end; k++) {
            uint32_t x = st[oa[k].head].dist[d];
            if (x != CG_INF_MS && x + oa[k].w < dv)
                break;
        }
        if (k < end)
            continue; /* stalled */
        const uint32_t *f = d ? g->dn_first : g->up_first;
        const cg_ch_arc *a = d ? g->dn_arc : g->up_arc;
        for (k = f[v], end = f[v + 1]; k < end; k++)
            if (chq_relax(s, d, a[k].head, dv + a[k].w, v))
                goto oom;
    }
    if (best >= CG_INF_MS)
        return cg_err_set(err, CG_EINTERNAL, NULL, "no route although the graph is connected");
    memset(out, 0, sizeof *out);
    out->seconds = best / 1000.0;
    if (!geometry) {
        route_metres(g, st, from, to, meet, out);
        return 0;
    }
    size_t cap = 0;
    int bad = cg_path_push(out, &cap, from->at);
    if (meet != CG_NO_NODE) {
        /* The forward half, collected backwards from the meeting node, then unpacked in order. */
        uint32_t len = 0;
        for (uint32_t v = meet; st[v].parent[0] != CG_NO_NODE; v = st[v].parent[0])
            len++;
        uint32_t *chain = malloc(((size_t)len + 1) * sizeof *chain);
        bad = bad || !chain;
        uint32_t v = meet;
        for (uint32_t i = len; chain && i > 0; i--) {
            chain[i - 1] = v;
            v = st[v].parent[0];
        }
        bad = bad || cg_path_push(out, &cap, cg_graph_node_point(g, g->order[v]));
        for (uint32_t i = 0; i < len && !bad; i++) {
            uint32_t y = chain[i], x = st[y].parent[0];
            uint32_t k = arc_to(g->up_first, g->up_arc, x, y);
            bad =
                k == g->up_first[x + 1] || unpack(g, x, y, g->up_arc[k].w, g->up_mid[k], out, &cap);
        }
        free(chain);
        /* The backward half: from the meeting node down to the arrival node. */
        for (uint32_t x = meet; !bad && st[x].parent[1] != CG_NO_NODE; x = st[x].parent[1]) {
            uint32_t y = st[x].parent[1], k = arc_to(g->dn_first, g->dn_arc, y, x);
            bad =
                k == g->dn_first[y + 1] || unpack(g, x, y, g->dn_arc[k].w, g->dn_mid[k], out, &cap);
        }
    }
    bad = bad || cg_path_push(out, &cap, to->at);
    if (bad) {
        cg_path_free(out);
        return cg_err_set(err, CG_ENOMEM, NULL,
                          "out of memory (or a damaged hierarchy) unpacking a route");
    }
    cg_path_finish(out, geometry);
    return 0;
oom:
    return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for a route query");
}

/*
 * One-to-many without a search per target (RPHAST-like, restricted to the targets' upward
 * closure). The time from a target to `one` is the least, over the nodes m above the target, of
 * (the best upward time from the target to m) + a[m], where a[] is `one`'s own upward search
 * (run once, to exhaustion). That recurrence,
 *
 *     d(v) = min(a[v], min over v's upward edges v -> x of w + d(x)),
 *
 * needs no queue: upward edges only climb, so the hierarchy is a DAG and d can be memoised in a
 * depth-first walk, each node of the union of the targets' upward closures computed once however
 * many targets share it (and the top of the hierarchy is shared by all of them). Cost: one upward
 * search plus one visit per node and edge of that union, with no heap operations and no
 * per-target reset; on the city demo (1M nodes, 200 random units) this is about a third of
 * running 200 pruned upward searches. The answer is exact, not a bound: d(v) is the true least
 * upward time plus an a[m] that is the length of a real path, and the top node of a shortest
 * up-down path has its exact a[m] (as in a bidirectional query). Side b of the workspace holds
 * the memo (dist; one array per node touched, for cache misses are the cost here: the lower
 * part of each target's closure is cold), heap is the walk's stack and pnode its edge cursors;
 * the touched list resets it.
 */
/* A memo entry for a node whose closure reaches nothing `one` reached: computed, but infinite
 * (CG_INF_MS itself means "not computed yet"). */
#define MEMO_UNREACHED (CG_INF_MS - 1)

static uint32_t closure_ms(const cg_graph *g, const uint32_t *a, cg_side *b, uint32_t root,
                           int down)
{
    const uint32_t *f = down ? g->dn_first : g->up_first;
    const cg_ch_arc *arc = down ? g->dn_arc : g->up_arc;
    uint32_t *memo = b->dist, *stack = b->heap, *cursor = b->pnode; /* cursor[i]: stack[i]'s */
    if (memo[root] != CG_INF_MS)
        return memo[root];
    uint32_t sp = 0, v = root;
    for (;;) {
        /* Enter v: its memo starts at `one`'s own time to it. */
        b->touched[b->n_touched++] = v;
        memo[v] = a[v] < MEMO_UNREACHED ? a[v] : MEMO_UNREACHED;
        cursor[sp] = f[v];
        stack[sp++] = v;
        uint32_t next = CG_NO_NODE;
        while (sp) {
            uint32_t u = stack[sp - 1], k = cursor[sp - 1], end = f[u + 1];
            uint32_t du = memo[u];
            for (; k < end; k++) {
                uint32_t dx = memo[arc[k].head];
                if (dx == CG_INF_MS)
                    break; /* not computed yet: descend (it cannot be on the stack: a DAG) */
                if (dx < MEMO_UNREACHED && (uint64_t)dx + arc[k].w < du)
                    du = dx + arc[k].w;
            }
            memo[u] = du;
            if (k < end) {
                cursor[sp - 1] = k;
                next = arc[k].head;
                break;
            }
            sp--;
        }
        if (next == CG_NO_NODE)
            break;
        v = next;
    }
    return memo[root];
}

int cg_route_one_to_many(cg_search *s, const cg_snap *one, const cg_snap *targets, size_t n,
                         cg_direction dir, double *seconds_out, cg_err *err)
{
    const cg_graph *g = s->g;
    if (!g->up_first)
        return cg_err_set(err, CG_EUNSUPPORTED, "graph",
                          "the graph has no contraction hierarchy: run `civgrid net build`");
    int back = dir == CG_BACKWARD;
    cg_side *a = &s->side[0], *b = &s->side[1];
    s->n_src = 0;
    s->n_reached = 0;
    s->budget_ms = 0;
    /* The whole upward search space of `one`, once. */
    seed(g, a, one, back);
    while (ch_step(g, a, back) != CG_NO_NODE)
        ;
    cg_side_reset(b);
    for (size_t i = 0; i < n; i++) {
        const cg_snap *f = back ? &targets[i] : one, *t = back ? one : &targets[i];
        uint64_t best = cg_same_edge_ms(g, f, t);
        /* A target's searches climb the other way from `one`'s: forward targets are arrivals. */
        cg_entry en;
        cg_snap_entries(g, &targets[i], !back, &en);
        for (int k = 0; k < en.n; k++) {
            uint32_t d = closure_ms(g, a->dist, b, g->rank[en.node[k]], !back);
            if (d < MEMO_UNREACHED && (uint64_t)d + en.ms[k] < best)
                best = (uint64_t)d + en.ms[k];
        }
        seconds_out[i] = best >= CG_INF_MS ? INFINITY : best / 1000.0;
    }
    cg_side_reset(b);
    return 0;
}

/* ---- pinned targets: buckets ---- */

typedef struct {
    uint32_t node, target, ms;
} bucket_entry;

struct cg_targets {
    cg_direction dir;
    cg_snap *snaps;
    size_t n;
    bucket_entry *e; /* sorted by node */
    size_t n_e;
};

static int cmp_bucket(const void *a, const void *b)
{
    const bucket_entry *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->target < y->target ? -1 : x->target > y->target;
}

void cg_targets_free(cg_targets *t)
{
    if (!t)
        return;
    free(t->snaps);
    free(t->e);
    free(t);
}

size_t cg_targets_count(const cg_targets *t)
{
    return t->n;
}

int cg_targets_pin(cg_search *s, const cg_snap *targets, size_t n, cg_direction dir,
                   cg_targets **out, cg_err *err)
{
    const cg_graph *g = s->g;
    if (!g->up_first)
        return cg_err_set(err, CG_EUNSUPPORTED, "graph",
                          "the graph has no contraction hierarchy: run `civgrid net build`");
    if (n == 0 || n >= CG_NO_NODE)
        return cg_err_set(err, CG_EINVAL, "targets", "between 1 and 2^32 targets, not %zu", n);
    int back = dir == CG_BACKWARD;
    cg_targets *t = calloc(1, sizeof *t);
    size_t cap = 0;
    if (!t || !(t->snaps = malloc(n * sizeof *t->snaps)))
        goto oom;
    memcpy(t->snaps, targets, n * sizeof *targets);
    t->n = n;
    t->dir = dir;
    cg_side *b = &s->side[1];
    /* A target's search climbs the other way from `one`'s: forward targets are arrivals. */
    for (size_t i = 0; i < n; i++) {
        seed(g, b, &targets[i], !back);
        uint32_t v;
        while ((v = ch_step(g, b, !back)) != CG_NO_NODE) {
            if (t->n_e == cap) {
                size_t c = cap ? cap * 2 : 4096;
                bucket_entry *q = realloc(t->e, c * sizeof *q);
                if (!q)
                    goto oom;
                t->e = q;
                cap = c;
            }
            t->e[t->n_e++] = (bucket_entry){v, (uint32_t)i, b->dist[v]};
        }
    }
    qsort(t->e, t->n_e, sizeof *t->e, cmp_bucket);
    s->n_src = 0;
    s->n_reached = 0;
    s->budget_ms = 0;
    *out = t;
    return 0;
oom:
    cg_targets_free(t);
    return cg_err_set(err, CG_ENOMEM, NULL, "out of memory pinning %zu targets", n);
}

int cg_targets_query(cg_search *s, const cg_targets *t, const cg_snap *one, double *seconds_out,
                     cg_err *err)
{
    (void)err;
    const cg_graph *g = s->g;
    int back = t->dir == CG_BACKWARD;
    uint64_t *best = malloc(t->n * sizeof *best);
    if (!best)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < t->n; i++)
        best[i] =
            back ? cg_same_edge_ms(g, &t->snaps[i], one) : cg_same_edge_ms(g, one, &t->snaps[i]);
    cg_side *a = &s->side[0];
    seed(g, a, one, back);
    uint32_t v;
    while ((v = ch_step(g, a, back)) != CG_NO_NODE) {
        /* The node's bucket: a binary search for its first entry. */
        size_t lo = 0, hi = t->n_e;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (t->e[mid].node < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t dv = a->dist[v];
        for (size_t k = lo; k < t->n_e && t->e[k].node == v; k++)
            if (dv + t->e[k].ms < best[t->e[k].target])
                best[t->e[k].target] = dv + t->e[k].ms;
    }
    for (size_t i = 0; i < t->n; i++)
        seconds_out[i] = best[i] >= CG_INF_MS ? INFINITY : best[i] / 1000.0;
    free(best);
    s->n_src = 0;
    s->n_reached = 0;
    s->budget_ms = 0;
    return 0;
}
