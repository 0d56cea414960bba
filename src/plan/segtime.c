/*
 * Segments and travel times along them (segtime.h). The segment table is built once per graph;
 * a cg_segtimes is reused between searches and reset in time proportional to what the previous
 * search touched.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/segtime.h"

#define NONE UINT32_MAX

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

int cg_segs_build(const cg_graph *g, cg_segs *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    out->g = g;
    uint32_t ne = cg_graph_edge_count(g), nv = cg_graph_node_count(g);
    size_t cap = 16;
    while (cap < 2 * (size_t)ne + 16)
        cap <<= 1;
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    out->edge_seg = malloc(((size_t)ne + 1) * sizeof *out->edge_seg);
    out->seg = malloc(((size_t)ne + 1) * sizeof *out->seg);
    if (!keys || !vals || !out->edge_seg || !out->seg) {
        free(keys);
        free(vals);
        cg_segs_free(out);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for %u road segments", ne);
    }
    memset(keys, 0xff, cap * sizeof *keys);
    for (uint32_t v = 0; v < nv; v++) {
        uint32_t ov = cg_graph_node_origin(g, v);
        for (uint32_t e = cg_graph_out_begin(g, v); e < cg_graph_out_end(g, v); e++) {
            cg_edge ed;
            cg_graph_edge(g, e, &ed);
            uint32_t ow = cg_graph_node_origin(g, ed.to);
            uint32_t a = ov < ow ? ov : ow, b = ov < ow ? ow : ov;
            uint64_t key = (uint64_t)a << 32 | b;
            size_t h = mix(key) & (cap - 1);
            while (keys[h] != UINT64_MAX && keys[h] != key)
                h = (h + 1) & (cap - 1);
            if (keys[h] == UINT64_MAX) {
                keys[h] = key;
                vals[h] = out->n;
                out->seg[out->n++] = (cg_seg){a, b, ed.metres};
            }
            out->edge_seg[e] = vals[h] << 1 | (ov != a);
        }
    }
    free(keys);
    free(vals);
    return 0;
}

void cg_segs_free(cg_segs *s)
{
    free(s->seg);
    free(s->edge_seg);
    memset(s, 0, sizeof *s);
}

cg_point cg_segs_point(const cg_segs *s, uint32_t i, double x)
{
    cg_point a = cg_graph_node_point(s->g, s->seg[i].a), b = cg_graph_node_point(s->g, s->seg[i].b);
    return (cg_point){a.x + (b.x - a.x) * x, a.y + (b.y - a.y) * x};
}

void cg_segs_of_snap(const cg_segs *s, const cg_snap *p, uint32_t *seg, double *x)
{
    uint32_t es = s->edge_seg[p->edge];
    *seg = es >> 1;
    *x = (es & 1) ? 1.0 - p->fraction : p->fraction;
}

int cg_segtimes_init(cg_segtimes *st, const cg_segs *segs, cg_err *err)
{
    memset(st, 0, sizeof *st);
    st->segs = segs;
    st->head = malloc(((size_t)segs->n + 1) * sizeof *st->head);
    if (!st->head)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for segment times");
    memset(st->head, 0xff, ((size_t)segs->n + 1) * sizeof *st->head);
    return 0;
}

void cg_segtimes_free(cg_segtimes *st)
{
    free(st->head);
    free(st->c);
    free(st->touched);
    memset(st, 0, sizeof *st);
}

static int add(cg_segtimes *st, uint32_t seg, double x0, double t0, double slope, int dir,
               cg_err *err)
{
    if (st->n_c == st->cap_c) {
        size_t cap = st->cap_c ? st->cap_c * 2 : 1024;
        cg_contrib *c = realloc(st->c, cap * sizeof *c);
        if (!c)
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for segment times");
        st->c = c;
        st->cap_c = cap;
    }
    if (st->head[seg] == NONE) {
        if (st->n_touched == st->cap_touched) {
            size_t cap = st->cap_touched ? st->cap_touched * 2 : 1024;
            uint32_t *t = realloc(st->touched, cap * sizeof *t);
            if (!t)
                return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for segment times");
            st->touched = t;
            st->cap_touched = cap;
        }
        st->touched[st->n_touched++] = seg;
    }
    st->c[st->n_c] = (cg_contrib){(float)x0, (float)t0, (float)slope, (int8_t)dir, st->head[seg]};
    st->head[seg] = (uint32_t)st->n_c++;
    return 0;
}

/* The contribution of edge e entered at time t0 from its tail. */
static int add_edge(cg_segtimes *st, uint32_t e, double x_along, double t0, cg_err *err)
{
    const cg_segs *s = st->segs;
    uint32_t es = s->edge_seg[e];
    double slope = cg_graph_edge_ms(s->g, e) / 1000.0;
    int rev = es & 1;
    return add(st, es >> 1, rev ? 1.0 - x_along : x_along, t0, slope, rev ? -1 : +1, err);
}

int cg_segtimes_collect(cg_segtimes *st, const cg_search *s, const cg_snap *sources, size_t n,
                        double horizon_s, cg_err *err)
{
    for (size_t i = 0; i < st->n_touched; i++)
        st->head[st->touched[i]] = NONE;
    st->n_touched = 0;
    st->n_c = 0;
    const cg_graph *g = st->segs->g;
    size_t nr = cg_search_reached_count(s);
    const uint32_t *r = cg_search_reached(s);
    for (size_t i = 0; i < nr; i++) {
        double t = cg_search_seconds(s, r[i]);
        if (t > horizon_s)
            continue;
        for (uint32_t e = cg_graph_out_begin(g, r[i]); e < cg_graph_out_end(g, r[i]); e++)
            if (add_edge(st, e, 0.0, t, err) != 0)
                return -1;
    }
    for (size_t i = 0; i < n; i++) {
        cg_edge ed;
        cg_graph_edge(g, sources[i].edge, &ed);
        if (add_edge(st, sources[i].edge, sources[i].fraction, 0.0, err) != 0)
            return -1;
        if (ed.twin != CG_NO_EDGE && add_edge(st, ed.twin, 1.0 - sources[i].fraction, 0.0, err))
            return -1;
    }
    return 0;
}

static double contrib_at(const cg_contrib *c, double x)
{
    double d = (x - c->x0) * c->dir;
    if (d < -1e-9)
        return INFINITY;
    return c->t0 + (d > 0 ? d : 0) * c->slope;
}

double cg_segtimes_at(const cg_segtimes *st, uint32_t i, double x)
{
    double best = INFINITY;
    for (uint32_t k = st->head[i]; k != NONE; k = st->c[k].next) {
        double t = contrib_at(&st->c[k], x);
        if (t < best)
            best = t;
    }
    return best;
}

size_t cg_segtimes_within(const cg_segtimes *st, uint32_t i, double budget_s, double *lo,
                          double *hi, size_t max)
{
    size_t n = 0;
    for (uint32_t k = st->head[i]; k != NONE && n < max; k = st->c[k].next) {
        const cg_contrib *c = &st->c[k];
        if (c->t0 > budget_s)
            continue;
        double reach = c->slope > 0 ? (budget_s - c->t0) / c->slope : 1.0;
        double a = c->dir > 0 ? c->x0 : c->x0 - reach, b = c->dir > 0 ? c->x0 + reach : c->x0;
        a = a < 0 ? 0 : a;
        b = b > 1 ? 1 : b;
        if (b <= a)
            continue;
        /* Insert in order of start. */
        size_t j = n++;
        while (j > 0 && lo[j - 1] > a) {
            lo[j] = lo[j - 1];
            hi[j] = hi[j - 1];
            j--;
        }
        lo[j] = a;
        hi[j] = b;
    }
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (m && lo[j] <= hi[m - 1]) {
            if (hi[j] > hi[m - 1])
                hi[m - 1] = hi[j];
        } else {
            lo[m] = lo[j];
            hi[m] = hi[j];
            m++;
        }
    }
    return m;
}

/*
 * The time along the segment is the lower envelope of rising and falling lines, each valid on
 * one side of its start, so its maximum lies at an end, at a start (or just before it, where a
 * line begins), or where a rising line meets a falling one: a handful of candidates.
 */
double cg_segtimes_worst(const cg_segtimes *st, uint32_t i, double *x_out)
{
    double worst = -1, wx = 0;
    double cand[64];
    size_t nc = 0;
    cand[nc++] = 0;
    cand[nc++] = 1;
    for (uint32_t k = st->head[i]; k != NONE && nc + 3 < 64; k = st->c[k].next) {
        const cg_contrib *c = &st->c[k];
        cand[nc++] = c->x0;
        cand[nc++] = c->x0 - 1e-7 * c->dir;
        if (c->dir < 0)
            continue;
        for (uint32_t j = st->head[i]; j != NONE && nc < 64; j = st->c[j].next) {
            const cg_contrib *d = &st->c[j];
            if (d->dir > 0 || c->slope + d->slope <= 0)
                continue;
            double x =
                (d->t0 - c->t0 + d->x0 * d->slope + c->x0 * c->slope) / (c->slope + d->slope);
            if (x > c->x0 && x < d->x0)
                cand[nc++] = x;
        }
    }
    for (size_t k = 0; k < nc; k++) {
        double x = cand[k] < 0 ? 0 : cand[k] > 1 ? 1 : cand[k];
        double t = cg_segtimes_at(st, i, x);
        if (t > worst) {
            worst = t;
            wx = x;
        }
    }
    assert(worst >= 0);
    if (x_out)
        *x_out = wx;
    return worst;
}
