/*
 * Response-time coverage (coverage.h). The context maps segments and buildings to grids once;
 * a run is one bounded multi-source search plus one pass over the segments and buildings.
 * Segments never reached contribute their whole length as uncovered without looking at times,
 * so a run costs the search plus a linear scan of flat arrays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/locindex.h"
#include "plan/coverage.h"

#define MAX_NEST 16 /* grids containing one point (district down to sub-grid) */

struct cg_coverage_ctx {
    const cg_graph *g;
    cg_segs segs;
    cg_segtimes st;
    size_t n_grids;
    /* segment -> grids (CSR) */
    uint32_t *seg_gstart, *seg_grids;
    /* buildings: snapped segment and fraction (UINT32_MAX when too far from roads), weight */
    size_t n_bld;
    uint32_t *bld_seg;
    double *bld_x;
    double *bld_hh;
    uint32_t *bld_gstart, *bld_grids;
    size_t unsnapped;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Grids of n points as CSR arrays. */
static int assign(const cg_locindex *ix, size_t n, cg_point (*pt)(const void *, size_t),
                  const void *ctx, uint32_t **start_out, uint32_t **list_out, cg_err *err)
{
    uint32_t *start = malloc((n + 1) * sizeof *start);
    size_t cap = n + 16, len = 0;
    uint32_t *list = malloc(cap * sizeof *list);
    if (!start || !list)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        start[i] = (uint32_t)len;
        size_t found[MAX_NEST];
        size_t k = ix ? cg_locindex_find(ix, pt(ctx, i), found, MAX_NEST) : 0;
        if (k > MAX_NEST)
            k = MAX_NEST;
        if (len + k > cap) {
            cap = cap * 2 + k;
            uint32_t *l = realloc(list, cap * sizeof *l);
            if (!l)
                goto oom;
            list = l;
        }
        for (size_t j = 0; j < k; j++)
            list[len++] = (uint32_t)found[j];
    }
    start[n] = (uint32_t)len;
    *start_out = start;
    *list_out = list;
    return 0;
oom:
    free(start);
    free(list);
    return cg_err_set(err, CG_ENOMEM, NULL, "out of memory assigning places to grids");
}

static cg_point seg_mid(const void *ctx, size_t i)
{
    return cg_segs_point(ctx, (uint32_t)i, 0.5);
}

static cg_point bld_at(const void *ctx, size_t i)
{
    return ((const cg_coverage_building *)ctx)[i].at;
}

int cg_coverage_ctx_new(const cg_graph *g, const cg_mpoly *const *grids, size_t n_grids,
                        const cg_coverage_building *buildings, size_t n_buildings,
                        cg_coverage_ctx **out, cg_err *err)
{
    cg_coverage_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    c->g = g;
    c->n_grids = n_grids;
    c->n_bld = n_buildings;
    cg_locindex *ix = NULL;
    if (cg_segs_build(g, &c->segs, err) != 0 || cg_segtimes_init(&c->st, &c->segs, err) != 0)
        goto fail;
    if (n_grids && !(ix = cg_locindex_build(grids, n_grids, err)))
        goto fail;
    if (assign(ix, c->segs.n, seg_mid, &c->segs, &c->seg_gstart, &c->seg_grids, err) != 0 ||
        assign(ix, n_buildings, bld_at, buildings, &c->bld_gstart, &c->bld_grids, err) != 0)
        goto fail;
    c->bld_seg = malloc((n_buildings + 1) * sizeof *c->bld_seg);
    c->bld_x = malloc((n_buildings + 1) * sizeof *c->bld_x);
    c->bld_hh = malloc((n_buildings + 1) * sizeof *c->bld_hh);
    if (!c->bld_seg || !c->bld_x || !c->bld_hh) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory for buildings");
        goto fail;
    }
    for (size_t i = 0; i < n_buildings; i++) {
        cg_snap sn;
        cg_err ignored;
        c->bld_hh[i] = buildings[i].households > 0 ? buildings[i].households : 0;
        if (cg_graph_snap(g, buildings[i].at, CG_SNAP_MAX_M, &sn, &ignored) != 0) {
            c->bld_seg[i] = UINT32_MAX;
            c->unsnapped++;
            continue;
        }
        cg_segs_of_snap(&c->segs, &sn, &c->bld_seg[i], &c->bld_x[i]);
    }
    cg_locindex_free(ix);
    *out = c;
    return 0;
fail:
    cg_locindex_free(ix);
    cg_coverage_ctx_free(c);
    return -1;
}

void cg_coverage_ctx_free(cg_coverage_ctx *c)
{
    if (!c)
        return;
    cg_segtimes_free(&c->st);
    cg_segs_free(&c->segs);
    free(c->seg_gstart);
    free(c->seg_grids);
    free(c->bld_seg);
    free(c->bld_x);
    free(c->bld_hh);
    free(c->bld_gstart);
    free(c->bld_grids);
    free(c);
}

const cg_segs *cg_coverage_segs(const cg_coverage_ctx *c)
{
    return &c->segs;
}

size_t cg_coverage_unsnapped(const cg_coverage_ctx *c)
{
    return c->unsnapped;
}

int cg_coverage_check_budget(double budget_s, const char *field, cg_err *err)
{
    if (!(budget_s > 0) || budget_s > CG_COVERAGE_MAX_BUDGET_S)
        return cg_err_set(err, CG_EINVAL, field,
                          "a budget must be more than 0 and at most 86400 seconds (got %g)",
                          budget_s);
    return 0;
}

static void worst(cg_grid_coverage *gc, double t, cg_point at)
{
    if (t > gc->worst_s) {
        gc->worst_s = t;
        gc->worst_at = at;
    }
}

static int push_piece(cg_coverage *cov, size_t *cap, uint32_t seg, double lo, double hi,
                      cg_err *err)
{
    if (hi - lo < 1e-9)
        return 0;
    if (cov->n_uncovered == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        cg_coverage_piece *p = realloc(cov->uncovered, *cap * sizeof *p);
        if (!p)
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for uncovered roads");
        cov->uncovered = p;
    }
    cov->uncovered[cov->n_uncovered++] = (cg_coverage_piece){seg, lo, hi};
    return 0;
}

int cg_coverage_run(cg_coverage_ctx *c, cg_search *s, const cg_snap *posts, size_t n,
                    const cg_coverage_opts *opts, cg_coverage *out, cg_err *err)
{
    return cg_coverage_run_with(c, &c->st, s, posts, n, opts, out, err);
}

int cg_coverage_run_with(const cg_coverage_ctx *c, cg_segtimes *st, cg_search *s,
                         const cg_snap *posts, size_t n, const cg_coverage_opts *opts,
                         cg_coverage *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    static const double def_budget = CG_COVERAGE_DEFAULT_S;
    const double *budgets = opts && opts->budgets ? opts->budgets : &def_budget;
    size_t nb = opts && opts->budgets ? opts->n_budgets : 1;
    if (n == 0)
        return cg_err_set(err, CG_EINVAL, "posts", "no posts: coverage needs at least one");
    if (nb == 0 || nb > CG_COVERAGE_MAX_BUDGETS)
        return cg_err_set(err, CG_EINVAL, "budget", "between 1 and %d budgets, not %zu",
                          CG_COVERAGE_MAX_BUDGETS, nb);
    double maxb = 0;
    for (size_t k = 0; k < nb; k++) {
        if (cg_coverage_check_budget(budgets[k], "budget", err) != 0)
            return -1;
        if (budgets[k] > maxb)
            maxb = budgets[k];
        out->budgets[k] = budgets[k];
    }
    out->n_budgets = nb;
    double horizon = opts && opts->horizon_s > 0 ? opts->horizon_s : 2 * maxb;
    if (horizon < maxb)
        horizon = maxb;
    if (horizon > CG_COVERAGE_MAX_BUDGET_S)
        horizon = CG_COVERAGE_MAX_BUDGET_S;
    out->horizon_s = horizon;

    double t0 = now_s();
    if (cg_search_bounded(s, posts, n, horizon, CG_FORWARD, err) != 0 ||
        cg_segtimes_collect(st, s, posts, n, horizon, err) != 0)
        return -1;
    out->reached_nodes = cg_search_reached_count(s);
    double t1 = now_s();
    out->search_s = t1 - t0;

    out->n_grids = c->n_grids;
    out->grid = calloc(c->n_grids + 1, sizeof *out->grid);
    if (!out->grid)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < c->n_grids; i++)
        out->grid[i].worst_s = -1;
    out->all.worst_s = -1;

    size_t cap = 0;
    int want_pieces = opts && opts->uncovered;
    int in_grids = opts && opts->uncovered_in_grids;
    for (uint32_t i = 0; i < c->segs.n; i++) {
        double len = c->segs.seg[i].metres;
        uint32_t g0 = c->seg_gstart[i], g1 = c->seg_gstart[i + 1];
        double cov[CG_COVERAGE_MAX_BUDGETS] = {0};
        double lo[8], hi[8], lo0[8], hi0[8]; /* lo0/hi0: budgets[0], for the uncovered pieces */
        size_t np = 0;
        double wt, wx = 0.5;
        if (st->head[i] == UINT32_MAX) {
            wt = INFINITY;
        } else {
            for (size_t k = 0; k < nb; k++) {
                double *l = k ? lo : lo0, *h = k ? hi : hi0;
                size_t m = cg_segtimes_within(st, i, budgets[k], l, h, 8);
                for (size_t j = 0; j < m; j++)
                    cov[k] += (h[j] - l[j]) * len;
                if (k == 0)
                    np = m;
            }
            wt = cg_segtimes_worst(st, i, &wx);
        }
        cg_point wp = cg_segs_point(&c->segs, i, wx);
        out->all.road_m += len;
        for (size_t k = 0; k < nb; k++)
            out->all.road_cov_m[k] += cov[k];
        worst(&out->all, wt, wp);
        for (uint32_t j = g0; j < g1; j++) {
            cg_grid_coverage *gc = &out->grid[c->seg_grids[j]];
            gc->road_m += len;
            for (size_t k = 0; k < nb; k++)
                gc->road_cov_m[k] += cov[k];
            worst(gc, wt, wp);
        }
        if (!want_pieces || (in_grids && g0 == g1))
            continue;
        /* The complement of the covered intervals. */
        double at = 0;
        for (size_t j = 0; j < np; j++) {
            if (push_piece(out, &cap, i, at, lo0[j], err) != 0)
                return -1;
            at = hi0[j];
        }
        if (push_piece(out, &cap, i, at, 1.0, err) != 0)
            return -1;
    }
    for (size_t b = 0; b < c->n_bld; b++) {
        double t = c->bld_seg[b] == UINT32_MAX || st->head[c->bld_seg[b]] == UINT32_MAX
                       ? INFINITY
                       : cg_segtimes_at(st, c->bld_seg[b], c->bld_x[b]);
        double hh = c->bld_hh[b];
        cg_grid_coverage *targets[MAX_NEST + 1];
        size_t nt = 0;
        targets[nt++] = &out->all;
        for (uint32_t j = c->bld_gstart[b]; j < c->bld_gstart[b + 1] && nt <= MAX_NEST; j++)
            targets[nt++] = &out->grid[c->bld_grids[j]];
        for (size_t q = 0; q < nt; q++) {
            targets[q]->buildings++;
            targets[q]->households += hh;
            for (size_t k = 0; k < nb; k++)
                if (t <= budgets[k]) {
                    targets[q]->buildings_cov[k]++;
                    targets[q]->households_cov[k] += hh;
                }
        }
    }
    out->measure_s = now_s() - t1;
    return 0;
}

void cg_coverage_free(cg_coverage *cov)
{
    free(cov->grid);
    free(cov->uncovered);
    memset(cov, 0, sizeof *cov);
}

void cg_coverage_uncovered_geojson(const cg_coverage_ctx *c, const cg_coverage *cov,
                                   const char *const *grid_codes, cg_buf *b)
{
    cg_buf_puts(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < cov->n_uncovered; i++) {
        const cg_coverage_piece *p = &cov->uncovered[i];
        cg_point a = cg_segs_point(&c->segs, p->seg, p->lo),
                 z = cg_segs_point(&c->segs, p->seg, p->hi);
        cg_buf_printf(b, "%s{\"type\":\"Feature\",\"properties\":{\"metres\":%.1f", i ? "," : "",
                      (p->hi - p->lo) * c->segs.seg[p->seg].metres);
        if (grid_codes) {
            cg_buf_puts(b, ",\"grids\":[");
            for (uint32_t j = c->seg_gstart[p->seg]; j < c->seg_gstart[p->seg + 1]; j++) {
                cg_buf_printf(b, "%s\"", j > c->seg_gstart[p->seg] ? "," : "");
                cg_buf_puts(b, grid_codes[c->seg_grids[j]]);
                cg_buf_putc(b, '"');
            }
            cg_buf_putc(b, ']');
        }
        cg_buf_printf(b,
                      "},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[%.7f,%.7f],"
                      "[%.7f,%.7f]]}}",
                      a.x, a.y, z.x, z.y);
    }
    cg_buf_puts(b, "]}");
}
