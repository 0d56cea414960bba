/*
 * Post placement (posts.h): snap and sample, build the coverage lists with one bounded search per
 * candidate, hand the instance to cover.c, and optionally measure the heuristic against CBC.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan/coverage.h"
#include "plan/posts.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cg_posts_opts_init(cg_posts_opts *o)
{
    memset(o, 0, sizeof *o);
    o->budget_s = CG_COVERAGE_DEFAULT_S;
    o->problem = CG_COVER_SET;
    o->sample_m = 250;
}

/* Snapped positions, and for candidates the point each was snapped from (pts, when kept). */
typedef struct {
    cg_snap *v;
    cg_point *pts;
    size_t n, cap;
    int keep_pts;
} snaps;

static int push(snaps *s, const cg_snap *p, cg_point from)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        cg_snap *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        if (s->keep_pts) {
            cg_point *q = realloc(s->pts, cap * sizeof *q);
            if (!q)
                return -1;
            s->pts = q;
        }
        s->cap = cap;
    }
    if (s->keep_pts)
        s->pts[s->n] = from;
    s->v[s->n++] = *p;
    return 0;
}

/*
 * A candidate is the road position its published point snaps to. Sites are written out with 7
 * decimals (cg_posts_geojson, ~1 cm), so the point is rounded to that grid first and snapped
 * from there: the coordinates a user feeds back to coverage (civgrid cover, /api/v1/coverage)
 * then parse to exactly this point (k / 1e7 is one double either way) and snap to exactly the
 * position whose coverage the planner counted, never one a few millimetres along (which moves
 * demand at the budget's edge) or on a road beside it.
 */
static cg_point published(cg_point p)
{
    return (cg_point){round(p.x * 1e7) / 1e7, round(p.y * 1e7) / 1e7};
}

static int snap_candidate(const cg_segs *segs, cg_point p, snaps *out, size_t *unsnapped)
{
    cg_snap sn;
    cg_err ignored;
    cg_point q = published(p);
    if (cg_graph_snap(segs->g, q, CG_SNAP_MAX_M, &sn, &ignored) != 0) {
        if (unsnapped)
            ++*unsnapped;
        return 1;
    }
    return push(out, &sn, q) != 0 ? -1 : 0;
}

/* Road positions every sample_m metres: a segment's midpoint when a multiple falls in it. */
static int sample(const cg_segs *segs, double sample_m, snaps *out)
{
    double run = 0;
    for (uint32_t i = 0; i < segs->n; i++) {
        double before = run;
        run += segs->seg[i].metres;
        if (floor(before / sample_m) == floor(run / sample_m))
            continue;
        if (snap_candidate(segs, cg_segs_point(segs, i, 0.5), out, NULL) < 0)
            return -1;
    }
    return 0;
}

typedef struct {
    size_t *start;
    uint32_t *list;
    size_t n, cap;
} lists;

static int list_push(lists *l, uint32_t v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t *p = realloc(l->list, cap * sizeof *p);
        if (!p)
            return -1;
        l->list = p;
        l->cap = cap;
    }
    l->list[l->n++] = v;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int cg_posts_plan(const cg_segs *segs, cg_search *s, const cg_posts_demand *demand, size_t n_demand,
                  const cg_point *sites, size_t n_sites, const cg_point *fixed, size_t n_fixed,
                  const cg_posts_opts *o, cg_posts_result *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    cg_posts_opts def;
    if (!o) {
        cg_posts_opts_init(&def);
        o = &def;
    }
    if (cg_coverage_check_budget(o->budget_s, "budget", err) != 0)
        return -1;
    if (o->problem == CG_COVER_MAX && o->p == 0)
        return cg_err_set(err, CG_EINVAL, "p", "maximal covering needs p of at least 1");
    if (o->exact && !cg_cover_exact_available())
        return cg_err_set(err, CG_EUNSUPPORTED, "exact", "this build has no CBC (exact mode)");
    double sample_m = o->sample_m > 0 ? o->sample_m : 250;

    snaps cand = {0}, dem = {0};
    cand.keep_pts = 1;
    double *weight = NULL;
    uint8_t *fixflag = NULL;
    uint32_t *dstart = NULL, *dlist = NULL;
    lists l = {0};
    cg_segtimes st = {0};
    cg_cover_result heur = {0}, ex = {0};
    int rc = -1;
    cg_snap sn;
    cg_err ignored;

    /* Candidates: fixed posts first, then sites or samples. */
    for (size_t i = 0; i < n_fixed; i++) {
        int r = snap_candidate(segs, fixed[i], &cand, &out->n_unsnapped);
        if (r < 0)
            goto oom;
        out->n_fixed += r == 0;
    }
    if (sites) {
        for (size_t i = 0; i < n_sites; i++)
            if (snap_candidate(segs, sites[i], &cand, &out->n_unsnapped) < 0)
                goto oom;
    } else if (sample(segs, sample_m, &cand) != 0) {
        goto oom;
    }
    /* Demand: buildings, or road samples. A building too far from every road stays in the
     * totals as demand no post reaches, as coverage (coverage.h) counts it, so the planner's
     * covered share and the one coverage reports for the proposed posts are the same figure. */
    size_t n_far = 0;
    double far_weight = 0;
    if (demand && n_demand) {
        weight = malloc(n_demand * sizeof *weight);
        if (!weight)
            goto oom;
        for (size_t i = 0; i < n_demand; i++) {
            double w = demand[i].weight > 0 ? demand[i].weight : 0;
            if (cg_graph_snap(segs->g, demand[i].at, CG_SNAP_MAX_M, &sn, &ignored) != 0) {
                out->n_unsnapped++;
                n_far++;
                far_weight += w;
                continue;
            }
            weight[dem.n] = w;
            if (push(&dem, &sn, demand[i].at) != 0)
                goto oom;
        }
    } else {
        if (sample(segs, sample_m, &dem) != 0)
            goto oom;
        weight = malloc((dem.n + 1) * sizeof *weight);
        if (!weight)
            goto oom;
        for (size_t i = 0; i < dem.n; i++)
            weight[i] = 1;
    }
    if (dem.n == 0) {
        cg_err_set(err, CG_EINVAL, "demand", "no demand point lies within %.0f m of a road",
                   CG_SNAP_MAX_M);
        goto done;
    }
    out->n_demand = dem.n + n_far;
    out->n_candidates = cand.n;

    /* Demand points by segment (CSR). */
    dstart = calloc((size_t)segs->n + 2, sizeof *dstart);
    dlist = malloc(dem.n * sizeof *dlist);
    fixflag = calloc(cand.n + 1, 1);
    l.start = malloc((cand.n + 1) * sizeof *l.start);
    if (!dstart || !dlist || !fixflag || !l.start)
        goto oom;
    uint32_t *dseg = (uint32_t *)malloc(dem.n * sizeof *dseg);
    double *dx = malloc(dem.n * sizeof *dx);
    if (!dseg || !dx) {
        free(dseg);
        free(dx);
        goto oom;
    }
    for (size_t i = 0; i < dem.n; i++) {
        cg_segs_of_snap(segs, &dem.v[i], &dseg[i], &dx[i]);
        dstart[dseg[i] + 2]++;
    }
    for (uint32_t i = 0; i < segs->n; i++)
        dstart[i + 2] += dstart[i + 1];
    for (size_t i = 0; i < dem.n; i++)
        dlist[dstart[dseg[i] + 1]++] = (uint32_t)i;
    free(dseg);

    for (size_t i = 0; i < out->n_fixed; i++)
        fixflag[i] = 1;
    if (cg_segtimes_init(&st, segs, err) != 0) {
        free(dx);
        goto done;
    }
    double t0 = now_s();
    for (size_t j = 0; j < cand.n; j++) {
        l.start[j] = l.n;
        if (cg_search_bounded(s, &cand.v[j], 1, o->budget_s, CG_FORWARD, err) != 0 ||
            cg_segtimes_collect(&st, s, &cand.v[j], 1, o->budget_s, err) != 0) {
            free(dx);
            goto done;
        }
        for (size_t k = 0; k < st.n_touched; k++) {
            uint32_t sg = st.touched[k];
            for (uint32_t q = dstart[sg]; q < dstart[sg + 1]; q++)
                if (cg_segtimes_at(&st, sg, dx[dlist[q]]) <= o->budget_s &&
                    list_push(&l, dlist[q]) != 0) {
                    free(dx);
                    goto oom;
                }
        }
        qsort(l.list + l.start[j], l.n - l.start[j], sizeof *l.list, cmp_u32);
        if (o->progress && (j % 64 == 0 || j + 1 == cand.n))
            o->progress(o->progress_ctx, "coverage lists", (double)(j + 1) / cand.n);
    }
    l.start[cand.n] = l.n;
    free(dx);
    out->lists_s = now_s() - t0;

    cg_cover_instance inst = {dem.n, weight, cand.n, l.start, l.list, fixflag};
    cg_cover_opts co;
    cg_cover_opts_init(&co);
    co.problem = o->problem;
    co.p = o->p;
    co.time_limit_s = o->time_limit_s;
    co.progress = o->progress;
    co.progress_ctx = o->progress_ctx;
    if (cg_cover_solve(&inst, &co, &heur, err) != 0)
        goto done;
    out->solve_s = heur.seconds;
    out->total_weight = heur.total_weight + far_weight;
    out->coverable_weight = heur.coverable_weight;
    out->covered_weight = heur.covered_weight;
    out->n_uncoverable = heur.n_uncoverable + n_far;
    out->n_far_demand = n_far;
    out->objective = heur.objective;
    out->bound = heur.bound;
    out->optimal = heur.optimal;
    out->timed_out = heur.timed_out;
    if (o->exact) {
        co.method = CG_COVER_EXACT;
        if (cg_cover_solve(&inst, &co, &ex, err) != 0)
            goto done;
        out->exact_run = 1;
        out->exact_objective = ex.objective;
        out->exact_bound = ex.bound;
        out->exact_optimal = ex.optimal;
        out->exact_s = ex.seconds;
        out->gap = cg_cover_gap(o->problem, heur.objective, ex.objective);
    }
    out->sites = calloc(heur.n_open + 1, sizeof *out->sites);
    if (!out->sites)
        goto oom;
    for (size_t i = 0; i < heur.n_open; i++) {
        uint32_t j = heur.open[i];
        cg_posts_site *site = &out->sites[out->n_sites++];
        site->at = cand.pts[j];
        site->fixed = fixflag[j];
        for (size_t q = l.start[j]; q < l.start[j + 1]; q++)
            site->covered_weight += weight[l.list[q]];
    }
    rc = 0;
    goto done;
oom:
    cg_err_set(err, CG_ENOMEM, NULL, "out of memory planning posts");
done:
    if (rc)
        cg_posts_result_free(out);
    cg_cover_result_free(&heur);
    cg_cover_result_free(&ex);
    cg_segtimes_free(&st);
    free(cand.v);
    free(cand.pts);
    free(dem.v);
    free(weight);
    free(fixflag);
    free(dstart);
    free(dlist);
    free(l.start);
    free(l.list);
    return rc;
}

void cg_posts_result_free(cg_posts_result *r)
{
    free(r->sites);
    memset(r, 0, sizeof *r);
}

void cg_posts_geojson(const cg_posts_result *r, const cg_posts_opts *o, cg_buf *b)
{
    cg_buf_printf(
        b,
        "{\"type\":\"FeatureCollection\",\"plan\":{\"problem\":\"%s\",\"budget_s\":%g,"
        "\"demand\":%zu,\"candidates\":%zu,\"fixed\":%zu,\"posts\":%zu,"
        "\"total_weight\":%.0f,\"coverable_weight\":%.0f,\"covered_weight\":%.0f,"
        "\"uncoverable\":%zu,\"far_demand\":%zu,\"unsnapped\":%zu,\"objective\":%g,\"bound\":%g,"
        "\"optimal\":%s,\"timed_out\":%s,\"lists_s\":%.3f,\"solve_s\":%.3f",
        cg_cover_problem_name(o->problem), o->budget_s, r->n_demand, r->n_candidates, r->n_fixed,
        r->n_sites, r->total_weight, r->coverable_weight, r->covered_weight, r->n_uncoverable,
        r->n_far_demand, r->n_unsnapped, r->objective, r->bound, r->optimal ? "true" : "false",
        r->timed_out ? "true" : "false", r->lists_s, r->solve_s);
    if (r->exact_run)
        cg_buf_printf(b,
                      ",\"exact\":{\"objective\":%g,\"bound\":%g,\"optimal\":%s,\"gap\":%.4f,"
                      "\"seconds\":%.3f}",
                      r->exact_objective, r->exact_bound, r->exact_optimal ? "true" : "false",
                      r->gap, r->exact_s);
    cg_buf_puts(b, "},\"features\":[");
    for (size_t i = 0; i < r->n_sites; i++)
        cg_buf_printf(b,
                      "%s{\"type\":\"Feature\",\"properties\":{\"fixed\":%s,\"covered_weight\":"
                      "%.0f},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}",
                      i ? "," : "", r->sites[i].fixed ? "true" : "false",
                      r->sites[i].covered_weight, r->sites[i].at.x, r->sites[i].at.y);
    cg_buf_puts(b, "]}");
}
