/*
 * Building the road graph (graph.h) from ways: profile rules per way, OSM node ids made dense,
 * one directed edge per usable segment direction, turn restrictions by node splitting, the largest
 * strongly connected component kept, and the CSR arrays (forward and reverse) laid out so that
 * graph_file.c writes them as they are. Also the accessors every other module reads a graph with.
 *
 * Cost: sorting the node references (N log N) dominates the graph itself; the component filter is
 * an iterative Tarjan (linear); the hierarchy (ch.c) costs far more than both.
 */
#include "net/graph.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/graph_impl.h"
#include "net/osm.h"

/* ---- ownership ---- */

cg_graph *cg_graph_alloc(void)
{
    cg_graph *g = calloc(1, sizeof *g);
    if (g) {
        pthread_once_t once = PTHREAD_ONCE_INIT;
        g->snap_once = once;
    }
    return g;
}

void *cg_graph_own(cg_graph *g, void *p)
{
    assert(g->n_owned < CG_GRAPH_MAX_OWNED);
    if (p)
        g->owned[g->n_owned++] = p;
    return p;
}

/* ---- gathering ways ---- */

typedef struct {
    int64_t id;
    uint32_t first, count; /* node references */
    float kmh;
    uint8_t fwd, bwd, cls;
} bway;

typedef struct {
    cg_profile profile;
    cg_speeds speeds;
    int64_t *ids;
    cg_point *pts;
    size_t n, cap;
    bway *ways;
    size_t nw, capw;
    int64_t ways_read;
    uint64_t digest; /* of the ways read (way_digest), for a graph built from a store */
    int oom;
} builder;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int builder_add(builder *b, const cg_way *w)
{
    b->ways_read++;
    double kmh;
    int fwd, bwd;
    cg_profile_way(b->profile, &b->speeds, w, &kmh, &fwd, &bwd);
    if (kmh <= 0 || (!fwd && !bwd) || w->n < 2)
        return 0;
    size_t capi = b->cap;
    if (grow((void **)&b->ids, &capi, b->n + w->n, sizeof(int64_t)) ||
        grow((void **)&b->pts, &b->cap, b->n + w->n, sizeof(cg_point)) ||
        grow((void **)&b->ways, &b->capw, b->nw + 1, sizeof(bway))) {
        b->oom = 1;
        return -1;
    }
    memcpy(b->ids + b->n, w->node_ids, w->n * sizeof(int64_t));
    memcpy(b->pts + b->n, w->pts, w->n * sizeof(cg_point));
    b->ways[b->nw++] = (bway){w->id,        (uint32_t)b->n, (uint32_t)w->n,        (float)kmh,
                              (uint8_t)fwd, (uint8_t)bwd,   (uint8_t)w->road_class};
    b->n += w->n;
    return 0;
}

/* ---- temporary edge list ---- */

typedef struct {
    uint32_t from, to, ms, way, twin;
    float metres;
    uint8_t cls, flags;
} tedge;

typedef struct {
    int64_t id;
    uint32_t ref;
} idref;

static int cmp_idref(const void *a, const void *b)
{
    const idref *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

/* Counting sort of edge ids by a key (tail or head): first[n+1] and order[m]. */
static int csr_by(const tedge *e, size_t m, uint32_t n, int by_head, uint32_t **first_out,
                  uint32_t **order_out)
{
    uint32_t *first = calloc((size_t)n + 1, sizeof *first);
    uint32_t *order = malloc((m ? m : 1) * sizeof *order);
    if (!first || !order) {
        free(first);
        free(order);
        return -1;
    }
    for (size_t i = 0; i < m; i++)
        first[(by_head ? e[i].to : e[i].from) + 1]++;
    for (uint32_t v = 0; v < n; v++)
        first[v + 1] += first[v];
    uint32_t *pos = malloc(((size_t)n + 1) * sizeof *pos);
    if (!pos) {
        free(first);
        free(order);
        return -1;
    }
    memcpy(pos, first, ((size_t)n + 1) * sizeof *pos);
    for (size_t i = 0; i < m; i++)
        order[pos[by_head ? e[i].to : e[i].from]++] = (uint32_t)i;
    free(pos);
    *first_out = first;
    *order_out = order;
    return 0;
}

typedef struct {
    uint32_t from_edge, banned_edge;
} ban;

static int cmp_ban(const void *a, const void *b)
{
    const ban *x = a, *y = b;
    if (x->from_edge != y->from_edge)
        return x->from_edge < y->from_edge ? -1 : 1;
    return x->banned_edge < y->banned_edge ? -1 : x->banned_edge > y->banned_edge;
}

typedef struct {
    int64_t id;
    uint32_t idx;
} wayidx;

static int cmp_wayidx(const void *a, const void *b)
{
    const wayidx *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Applies turn restrictions by node splitting (see graph.h). The edge list grows by one
 * duplicate per allowed turn after each restricted segment, and the node count by one copy per
 * restricted (segment, via node) pair.
 */
static int apply_restrictions(const builder *b, const cg_graph_build_opts *o, const uint32_t *dense,
                              tedge **ep, size_t *mp, size_t *capp, uint32_t *np,
                              uint32_t **copy_via_out, cg_graph_stats *st, cg_err *err)
{
    tedge *e = *ep;
    size_t m = *mp;
    uint32_t n = *np;
    wayidx *wi = malloc((b->nw ? b->nw : 1) * sizeof *wi);
    uint32_t *in_first = NULL, *in_order = NULL, *out_first = NULL, *out_order = NULL;
    ban *bans = NULL;
    size_t nb = 0, capb = 0;
    int rc = -1;
    if (!wi || csr_by(e, m, n, 1, &in_first, &in_order) ||
        csr_by(e, m, n, 0, &out_first, &out_order))
        goto oom;
    for (size_t i = 0; i < b->nw; i++)
        wi[i] = (wayidx){b->ways[i].id, (uint32_t)i};
    qsort(wi, b->nw, sizeof *wi, cmp_wayidx);
    for (size_t r = 0; r < o->n_restrictions; r++) {
        const cg_turn_restriction *tr = &o->restrictions[r];
        st->restrictions_read++;
        wayidx key = {tr->from_way, 0}, *fw = bsearch(&key, wi, b->nw, sizeof *wi, cmp_wayidx);
        key.id = tr->to_way;
        wayidx *tw = bsearch(&key, wi, b->nw, sizeof *wi, cmp_wayidx);
        uint32_t via = CG_NO_NODE;
        if (fw) {
            /* The via node is a node of the from way: find it among the way's references. */
            const bway *w = &b->ways[fw->idx];
            for (uint32_t k = 0; k < w->count && via == CG_NO_NODE; k++)
                if (b->ids[w->first + k] == tr->via)
                    via = dense[w->first + k];
        }
        if (!fw || !tw || via == CG_NO_NODE) {
            st->restrictions_ignored++;
            continue;
        }
        size_t before = nb;
        for (uint32_t i = in_first[via]; i < in_first[via + 1]; i++) {
            uint32_t f = in_order[i];
            if (e[f].way != fw->idx)
                continue;
            for (uint32_t j = out_first[via]; j < out_first[via + 1]; j++) {
                uint32_t t = out_order[j];
                int to_way = e[t].way == tw->idx;
                if (tr->only ? to_way : !to_way)
                    continue;
                size_t capb2 = capb;
                if (grow((void **)&bans, &capb2, nb + 1, sizeof *bans))
                    goto oom;
                capb = capb2;
                bans[nb++] = (ban){f, t};
            }
        }
        if (nb == before && !tr->only)
            st->restrictions_ignored++;
        else
            st->restrictions_applied++;
    }
    if (nb)
        qsort(bans, nb, sizeof *bans, cmp_ban);
    /* Pass 1: redirect each restricted segment to a fresh copy of its head. */
    uint32_t n_from = 0;
    for (size_t i = 0; i < nb; i++)
        if (i == 0 || bans[i].from_edge != bans[i - 1].from_edge)
            n_from++;
    uint32_t *copy_of = malloc((n_from ? n_from : 1) * sizeof *copy_of); /* via per copy */
    if (!copy_of)
        goto oom;
    *copy_via_out = copy_of;
    uint32_t c = n;
    for (size_t i = 0; i < nb; i++)
        if (i == 0 || bans[i].from_edge != bans[i - 1].from_edge) {
            uint32_t f = bans[i].from_edge;
            copy_of[c - n] = e[f].to;
            e[f].to = c++;
        }
    /* Pass 2: the allowed turns leave each copy, towards the (possibly redirected) heads. */
    c = n;
    for (size_t i = 0; i < nb;) {
        size_t j = i;
        while (j < nb && bans[j].from_edge == bans[i].from_edge)
            j++;
        uint32_t via = copy_of[c - n];
        for (uint32_t k = out_first[via]; k < out_first[via + 1]; k++) {
            uint32_t t = out_order[k];
            int banned = 0;
            for (size_t q = i; q < j && !banned; q++)
                banned = bans[q].banned_edge == t;
            if (banned)
                continue;
            if (grow((void **)&e, capp, m + 1, sizeof *e))
                goto oom;
            e[m] = e[t];
            e[m].from = c;
            e[m].twin = CG_NO_EDGE;
            e[m].flags = CG_EDGE_DUP;
            m++;
        }
        c++;
        i = j;
    }
    n = c;
    rc = 0;
    goto out;
oom:
    cg_err_set(err, CG_ENOMEM, NULL, "out of memory applying turn restrictions");
out:
    *ep = e;
    *mp = m;
    *np = n;
    free(wi);
    free(in_first);
    free(in_order);
    free(out_first);
    free(out_order);
    free(bans);
    return rc;
}

/* Iterative Tarjan: comp[v] = component id; returns the id of the largest, or -1 on OOM. */
static int64_t largest_scc(uint32_t n, const uint32_t *first, const uint32_t *order, const tedge *e,
                           uint32_t *comp, int64_t *n_comps)
{
    uint32_t *index = malloc((size_t)n * sizeof *index), *low = malloc((size_t)n * sizeof *low);
    uint32_t *stack = malloc((size_t)n * sizeof *stack), *cs = malloc((size_t)n * sizeof *cs);
    uint32_t *it = malloc((size_t)n * sizeof *it);
    uint32_t *size = NULL;
    uint8_t *on = calloc(n ? n : 1, 1);
    int64_t best = -1;
    if (!index || !low || !stack || !cs || !it || !on)
        goto out;
    for (uint32_t v = 0; v < n; v++)
        index[v] = CG_NO_NODE;
    uint32_t next = 0, sp = 0, nc = 0;
    for (uint32_t root = 0; root < n; root++) {
        if (index[root] != CG_NO_NODE)
            continue;
        uint32_t csp = 0;
        cs[csp++] = root;
        index[root] = low[root] = next++;
        it[root] = first[root];
        stack[sp++] = root;
        on[root] = 1;
        while (csp) {
            uint32_t v = cs[csp - 1];
            if (it[v] < first[v + 1]) {
                uint32_t w = e[order[it[v]++]].to;
                if (index[w] == CG_NO_NODE) {
                    index[w] = low[w] = next++;
                    it[w] = first[w];
                    stack[sp++] = w;
                    on[w] = 1;
                    cs[csp++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp && low[v] < low[cs[csp - 1]])
                low[cs[csp - 1]] = low[v];
            if (low[v] == index[v]) {
                uint32_t w;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = nc;
                } while (w != v);
                nc++;
            }
        }
    }
    size = calloc(nc ? nc : 1, sizeof *size);
    if (!size)
        goto out;
    for (uint32_t v = 0; v < n; v++)
        size[comp[v]]++;
    best = 0;
    for (uint32_t c = 1; c < nc; c++)
        if (size[c] > size[best])
            best = c;
    *n_comps = nc;
out:
    free(index);
    free(low);
    free(stack);
    free(cs);
    free(it);
    free(on);
    free(size);
    return best;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(const cg_graph_build_opts *o, const char *stage, double f)
{
    if (o->progress)
        o->progress(o->progress_ctx, stage, f);
}

static int build(builder *b, const cg_graph_build_opts *o, cg_graph **out, cg_graph_stats *st,
                 cg_err *err)
{
    double t0 = now_s();
    idref *refs = NULL;
    uint32_t *dense = NULL, *origin = NULL, *first = NULL, *order = NULL, *comp = NULL;
    uint32_t *renum = NULL, *enew = NULL;
    cg_point *upts = NULL;
    tedge *e = NULL;
    cg_graph *g = NULL;
    int rc = -1;
    st->ways_read = b->ways_read;
    st->ways_used = (int64_t)b->nw;
    if (b->nw == 0)
        return cg_err_set(err, CG_EINVAL, "roads",
                          "no road usable by the %s profile (import an OSM extract or run "
                          "`civgrid demo` first)",
                          cg_profile_name(o->profile));
    if (b->n >= CG_NO_NODE / 2)
        return cg_err_set(err, CG_ELIMIT, "roads", "too many road nodes (%zu)", b->n);
    progress(o, "nodes", 0);
    refs = malloc(b->n * sizeof *refs);
    dense = malloc(b->n * sizeof *dense);
    upts = malloc(b->n * sizeof *upts);
    origin = malloc(b->n * sizeof *origin);
    if (!refs || !dense || !upts || !origin)
        goto oom;
    for (size_t i = 0; i < b->n; i++)
        refs[i] = (idref){b->ids[i], (uint32_t)i};
    qsort(refs, b->n, sizeof *refs, cmp_idref);
    uint32_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (i == 0 || refs[i].id != refs[i - 1].id) {
            upts[n] = b->pts[refs[i].ref];
            origin[n] = n;
            n++;
        }
        dense[refs[i].ref] = n - 1;
    }
    free(refs);
    refs = NULL;
    progress(o, "edges", 0);
    size_t m = 0, cap = 0;
    for (size_t wi = 0; wi < b->nw; wi++) {
        const bway *w = &b->ways[wi];
        double mps = w->kmh / 3.6;
        for (uint32_t k = 0; k + 1 < w->count; k++) {
            uint32_t a = dense[w->first + k], c = dense[w->first + k + 1];
            if (a == c)
                continue;
            double metres = cg_distance_m(b->pts[w->first + k], b->pts[w->first + k + 1]);
            double ms = metres / mps * 1000.0;
            uint32_t ims = ms < 1 ? 1 : (uint32_t)lround(ms);
            if (grow((void **)&e, &cap, m + 2, sizeof *e))
                goto oom;
            tedge base = {0, 0, ims, (uint32_t)wi, CG_NO_EDGE, (float)metres, w->cls, 0};
            size_t f = m;
            if (w->fwd) {
                e[m] = base;
                e[m].from = a;
                e[m].to = c;
                m++;
            }
            if (w->bwd) {
                e[m] = base;
                e[m].from = c;
                e[m].to = a;
                m++;
            }
            if (w->fwd && w->bwd) {
                e[f].twin = (uint32_t)f + 1;
                e[f + 1].twin = (uint32_t)f;
            }
        }
    }
    st->nodes_built = n;
    st->edges_built = (int64_t)m;
    if (o->profile == CG_PROFILE_CAR && o->n_restrictions) {
        progress(o, "turn restrictions", 0);
        uint32_t n2 = n, *copy_via = NULL;
        if (apply_restrictions(b, o, dense, &e, &m, &cap, &n2, &copy_via, st, err)) {
            free(copy_via);
            goto fail;
        }
        uint32_t *no = realloc(origin, (size_t)n2 * sizeof *no);
        if (no)
            origin = no;
        cg_point *np2 = no ? realloc(upts, (size_t)n2 * sizeof *np2) : NULL;
        if (np2)
            upts = np2;
        if (!no || !np2) {
            free(copy_via);
            goto oom;
        }
        for (uint32_t v = n; v < n2; v++) {
            origin[v] = copy_via[v - n];
            upts[v] = upts[copy_via[v - n]];
        }
        free(copy_via);
        n = n2;
    }
    free(dense);
    dense = NULL;

    progress(o, "components", 0);
    comp = malloc((size_t)n * sizeof *comp);
    if (!comp || csr_by(e, m, n, 0, &first, &order))
        goto oom;
    int64_t n_comps = 0;
    int64_t keep = largest_scc(n, first, order, e, comp, &n_comps);
    if (keep < 0)
        goto oom;
    free(first);
    free(order);
    first = order = NULL;
    renum = malloc((size_t)n * sizeof *renum);
    enew = malloc((m ? m : 1) * sizeof *enew);
    if (!renum || !enew)
        goto oom;
    uint32_t nk = 0;
    for (uint32_t v = 0; v < n; v++)
        renum[v] = comp[v] == (uint32_t)keep ? nk++ : CG_NO_NODE;
    size_t mk = 0;
    for (size_t i = 0; i < m; i++) {
        /* Edges between the kept component and the others go with the others. */
        if (renum[e[i].from] == CG_NO_NODE || renum[e[i].to] == CG_NO_NODE) {
            enew[i] = CG_NO_EDGE;
            continue;
        }
        enew[i] = (uint32_t)mk;
        e[mk] = e[i];
        e[mk].from = renum[e[i].from];
        e[mk].to = renum[e[i].to];
        mk++;
    }
    for (size_t i = 0; i < mk; i++)
        if (e[i].twin != CG_NO_EDGE)
            e[i].twin = enew[e[i].twin];
    st->nodes = nk;
    st->edges = (int64_t)mk;
    st->nodes_dropped = (int64_t)n - nk;
    st->edges_dropped = (int64_t)(m - mk);
    st->components_dropped = n_comps - 1;

    /* Final CSR: edges ordered by tail; twins renumbered through the permutation. */
    g = cg_graph_alloc();
    if (!g || csr_by(e, mk, nk, 0, &first, &order))
        goto oom;
    g->profile = o->profile;
    g->n = nk;
    g->m = (uint32_t)mk;
    uint32_t *head = cg_graph_own(g, malloc((mk ? mk : 1) * 4));
    uint32_t *ms = cg_graph_own(g, malloc((mk ? mk : 1) * 4));
    uint32_t *twin = cg_graph_own(g, malloc((mk ? mk : 1) * 4));
    float *metres = cg_graph_own(g, malloc((mk ? mk : 1) * 4));
    uint8_t *cls = cg_graph_own(g, malloc(mk ? mk : 1));
    uint8_t *flags = cg_graph_own(g, malloc(mk ? mk : 1));
    int32_t *lat = cg_graph_own(g, malloc((size_t)nk * 4));
    int32_t *lon = cg_graph_own(g, malloc((size_t)nk * 4));
    uint32_t *orig = cg_graph_own(g, malloc((size_t)nk * 4));
    g->first_out = cg_graph_own(g, first);
    first = NULL;
    if (!head || !ms || !twin || !metres || !cls || !flags || !lat || !lon || !orig)
        goto oom;
    for (size_t k = 0; k < mk; k++)
        enew[order[k]] = (uint32_t)k;
    for (size_t k = 0; k < mk; k++) {
        const tedge *x = &e[order[k]];
        head[k] = x->to;
        ms[k] = x->ms;
        metres[k] = x->metres;
        cls[k] = x->cls;
        flags[k] = x->flags;
        twin[k] = x->twin == CG_NO_EDGE ? CG_NO_EDGE : enew[x->twin];
    }
    cg_bbox_empty(&g->bbox);
    for (uint32_t v = 0; v < n; v++) {
        if (renum[v] == CG_NO_NODE)
            continue;
        lat[renum[v]] = (int32_t)lround(upts[v].y * CG_COORD_SCALE);
        lon[renum[v]] = (int32_t)lround(upts[v].x * CG_COORD_SCALE);
        /* A via node whose every approach is restricted has no edge in of its own and falls
         * out of the component while its copies stay: the first kept copy then stands for it
         * (originals precede their copies, so the original was already passed over). */
        if (renum[origin[v]] == CG_NO_NODE)
            renum[origin[v]] = renum[v];
        orig[renum[v]] = renum[origin[v]];
        cg_bbox_extend(&g->bbox, upts[v]);
    }
    g->head = head;
    g->ms = ms;
    g->twin = twin;
    g->metres = metres;
    g->cls = cls;
    g->flags = flags;
    g->lat = lat;
    g->lon = lon;
    g->origin = orig;
    free(order);
    order = NULL;
    /* The reverse CSR: edge ids grouped by head. */
    for (size_t k = 0; k < mk; k++) {
        e[k].from = 0;
        e[k].to = head[k];
    }
    uint32_t *in_first, *in_edge;
    if (csr_by(e, mk, nk, 1, &in_first, &in_edge))
        goto oom;
    g->in_first = cg_graph_own(g, in_first);
    g->in_edge = cg_graph_own(g, in_edge);
    st->build_s = now_s() - t0;
    if (o->build_ch) {
        double t1 = now_s();
        if (cg_ch_build(g, o->progress, o->progress_ctx, err))
            goto fail;
        st->ch_s = now_s() - t1;
    }
    st->bytes = cg_graph_bytes(g);
    *out = g;
    g = NULL;
    rc = 0;
    goto out;
oom:
    cg_err_set(err, CG_ENOMEM, NULL, "out of memory building the road graph");
fail:
out:
    free(refs);
    free(dense);
    free(origin);
    free(upts);
    free(first);
    free(order);
    free(comp);
    free(renum);
    free(enew);
    free(e);
    cg_graph_free(g);
    return rc;
}

static void builder_free(builder *b)
{
    free(b->ids);
    free(b->pts);
    free(b->ways);
}

static void builder_init(builder *b, const cg_graph_build_opts *o)
{
    memset(b, 0, sizeof *b);
    b->profile = o->profile;
    if (o->speeds)
        b->speeds = *o->speeds;
    else
        cg_speeds_default(o->profile, &b->speeds);
}

int cg_graph_build_ways(const cg_way *ways, size_t n, const cg_graph_build_opts *o, cg_graph **out,
                        cg_graph_stats *stats, cg_err *err)
{
    builder b;
    cg_graph_stats st = {0};
    builder_init(&b, o);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = builder_add(&b, &ways[i]);
    if (rc)
        rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory reading roads");
    else
        rc = build(&b, o, out, &st, err);
    builder_free(&b);
    if (stats)
        *stats = st;
    return rc;
}

/*
 * FNV-1a over what the builder reads of a way, in the store's id order: id, class, direction,
 * speed limit, access, node ids and coordinates. Names are left out (renaming a road leaves the
 * graph as it is); an edited geometry, node, class, oneway, maxspeed or access changes it.
 */
#define DIGEST_OFFSET 0xcbf29ce484222325ULL
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t way_digest(uint64_t h, const cg_way *w)
{
    int32_t head[4] = {(int32_t)w->road_class, w->oneway, w->maxspeed_kmh, (int32_t)w->n};
    uint64_t n = w->n;
    h = fnv(h, &w->id, sizeof w->id);
    h = fnv(h, head, sizeof head);
    h = fnv(h, w->access, strnlen(w->access, sizeof w->access) + 1);
    h = fnv(h, &n, sizeof n);
    h = fnv(h, w->node_ids, w->n * sizeof *w->node_ids);
    return fnv(h, w->pts, w->n * sizeof *w->pts);
}

static int store_way(void *ctx, const cg_way *w)
{
    builder *b = ctx;
    b->digest = way_digest(b->digest, w);
    return builder_add(b, w);
}

typedef struct {
    uint64_t digest;
    int64_t ways;
} digest_ctx;

static int digest_way(void *ctx, const cg_way *w)
{
    digest_ctx *d = ctx;
    d->digest = way_digest(d->digest, w);
    d->ways++;
    return 0;
}

int cg_graph_store_digest(cg_store *s, uint64_t *digest, int64_t *ways, cg_err *err)
{
    digest_ctx d = {DIGEST_OFFSET, 0};
    if (cg_store_way_each(s, NULL, digest_way, &d, err) != 0)
        return -1;
    *digest = d.digest;
    *ways = d.ways;
    return 0;
}

int cg_graph_build_store(cg_store *s, const cg_graph_build_opts *o, cg_graph **out,
                         cg_graph_stats *stats, cg_err *err)
{
    builder b;
    cg_graph_stats st = {0};
    builder_init(&b, o);
    b.digest = DIGEST_OFFSET;
    if (o->progress)
        o->progress(o->progress_ctx, "reading roads", 0);
    /* The generation first: a road written while they are read leaves an older generation in
     * the file, so the next load checks the digest rather than trusting the counter. */
    int64_t gen = cg_store_ways_generation(s);
    int rc = cg_store_way_each(s, NULL, store_way, &b, err);
    if (rc && b.oom)
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory reading roads");
    if (rc == 0)
        rc = build(&b, o, out, &st, err);
    if (rc == 0) {
        (*out)->source_ways = b.ways_read;
        (*out)->source_gen = gen;
        (*out)->source_digest = b.digest;
    }
    builder_free(&b);
    if (stats)
        *stats = st;
    return rc;
}

typedef struct {
    builder b;
    cg_turn_restriction *r;
    size_t n, cap;
} pbf_ctx;

static int osm_way(void *ctx, const cg_way *w, cg_err *err)
{
    if (builder_add(&((pbf_ctx *)ctx)->b, w))
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory reading roads");
    return 0;
}

static int osm_restriction(void *ctx, const cg_osm_restriction *x, cg_err *err)
{
    pbf_ctx *p = ctx;
    int only = strncmp(x->restriction, "only_", 5) == 0;
    if (!only && strncmp(x->restriction, "no_", 3) != 0)
        return 0; /* e.g. "give_way": not a ban */
    if (grow((void **)&p->r, &p->cap, p->n + 1, sizeof *p->r))
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory reading turn restrictions");
    p->r[p->n++] = (cg_turn_restriction){x->from_way, x->via_node, x->to_way, only};
    return 0;
}

int cg_graph_build_pbf(const char *path, const cg_graph_build_opts *o, cg_graph **out,
                       cg_graph_stats *stats, cg_err *err)
{
    pbf_ctx p = {0};
    cg_graph_stats st = {0};
    builder_init(&p.b, o);
    cg_osm_callbacks cb = {0};
    cb.way = osm_way;
    int rc = cg_osm_read(path, &cb, &p, NULL, err);
    if (rc == 0 && o->profile == CG_PROFILE_CAR)
        rc = cg_osm_read_restrictions(path, osm_restriction, &p, err);
    if (rc == 0) {
        cg_graph_build_opts o2 = *o;
        o2.restrictions = p.r;
        o2.n_restrictions = p.n;
        rc = build(&p.b, &o2, out, &st, err);
    }
    if (rc == 0)
        (*out)->source_ways = -1; /* not built from a store: no staleness check */
    builder_free(&p.b);
    free(p.r);
    if (stats)
        *stats = st;
    return rc;
}

void cg_graph_free(cg_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_owned; i++)
        free(g->owned[i]);
    cg_snap_index_free(g->snap);
    if (g->map)
        cg_graph_unmap(g->map, g->map_len);
    free(g);
}

/* ---- accessors ---- */

cg_profile cg_graph_profile(const cg_graph *g)
{
    return g->profile;
}
uint32_t cg_graph_node_count(const cg_graph *g)
{
    return g->n;
}
uint32_t cg_graph_edge_count(const cg_graph *g)
{
    return g->m;
}
int cg_graph_has_ch(const cg_graph *g)
{
    return g->up_first != NULL;
}
cg_bbox cg_graph_bbox(const cg_graph *g)
{
    return g->bbox;
}

int64_t cg_graph_bytes(const cg_graph *g)
{
    int64_t n = g->n, m = g->m;
    int64_t bytes = 4 * (n + 1) * 2 + m * (4 * 5 + 2) + n * 12;
    if (g->up_first)
        bytes += 8 * n + 8 * (n + 1) + 16 * ((int64_t)g->ch_up_m + g->ch_dn_m);
    return bytes;
}

cg_point cg_graph_node_point(const cg_graph *g, uint32_t v)
{
    assert(v < g->n);
    return (cg_point){g->lon[v] / CG_COORD_SCALE, g->lat[v] / CG_COORD_SCALE};
}

uint32_t cg_graph_node_origin(const cg_graph *g, uint32_t v)
{
    assert(v < g->n);
    return g->origin[v];
}

uint32_t cg_graph_out_begin(const cg_graph *g, uint32_t v)
{
    return g->first_out[v];
}
uint32_t cg_graph_out_end(const cg_graph *g, uint32_t v)
{
    return g->first_out[v + 1];
}
uint32_t cg_graph_edge_to(const cg_graph *g, uint32_t e)
{
    return g->head[e];
}
uint32_t cg_graph_edge_ms(const cg_graph *g, uint32_t e)
{
    return g->ms[e];
}

/* The tail of an edge. A non-duplicate edge leaves an original node, which its twin (when there
 * is one) enters, possibly through a turn-restriction copy of it: one lookup. Otherwise a binary
 * search over first_out (edges are grouped by tail). */
uint32_t cg_graph_edge_from(const cg_graph *g, uint32_t e)
{
    assert(e < g->m);
    if (!(g->flags[e] & CG_EDGE_DUP) && g->twin[e] != CG_NO_EDGE)
        return g->origin[g->head[g->twin[e]]];
    uint32_t lo = 0, hi = g->n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->first_out[mid] <= e)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void cg_graph_edge(const cg_graph *g, uint32_t e, cg_edge *out)
{
    assert(e < g->m);
    out->from = cg_graph_edge_from(g, e);
    out->to = g->head[e];
    out->ms = g->ms[e];
    out->metres = g->metres[e];
    out->road_class = g->cls[e];
    out->flags = g->flags[e];
    out->twin = g->twin[e];
}

cg_point cg_graph_edge_point_at(const cg_graph *g, uint32_t e, double fraction)
{
    cg_point a = cg_graph_node_point(g, cg_graph_edge_from(g, e));
    cg_point b = cg_graph_node_point(g, g->head[e]);
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    return (cg_point){a.x + (b.x - a.x) * fraction, a.y + (b.y - a.y) * fraction};
}

int cg_graph_path(const char *db_path, cg_profile p, char *buf, size_t cap, cg_err *err)
{
    int k = snprintf(buf, cap, "%s.%s.graph", db_path, cg_profile_name(p));
    if (k < 0 || (size_t)k >= cap)
        return cg_err_set(err, CG_ELIMIT, "db", "database path too long");
    return 0;
}
