/*
 * Planning API on the road network: GET /api/v1/isochrone, /api/v1/coverage, /api/v1/dispatch
 * and POST /api/v1/posts/plan, each answering GeoJSON computed by src/plan/, on the graph of the
 * asked profile (car unless `profile` says foot or bicycle) that `civgrid net build` wrote beside
 * the database (http/graphs.h maps it, and maps it again when the file is rebuilt; a missing or
 * stale graph is a 409 saying to run it).
 *
 * What a request would otherwise rebuild every time is cached (plan contexts, below): a graph's
 * segment table (isochrones, post plans); a coverage context (every road segment and building
 * assigned to the grids of one level, buildings snapped to the road) per graph, grid level,
 * scope, grid generation and places generation; a plan's demand points per graph, scope and
 * generations. A context is immutable once built, so threads share it (each run has its own
 * segment times and search workspace, pooled per context); a new graph file, a grid write or a
 * places import makes a new key, and contexts of an older graph or generation are dropped at
 * the next look-up. At most PLAN_CACHE_MAX contexts and about PLAN_CACHE_BYTES are kept, the
 * least recently used dropped first (one in use is freed when its last user is done).
 *
 * Scope: coverage measures only grids inside the caller's scope (the atlas's grids filtered by
 * cg_scope_contains) and, for a restricted scope, reports uncovered road only inside them.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "app/demand.h"
#include "core/json.h"
#include "geo/geojson.h"
#include "http/graphs.h"
#include "http/http.h"
#include "plan/coverage.h"
#include "plan/dispatch.h"
#include "plan/isochrone.h"
#include "plan/points.h"
#include "plan/posts.h"

#define CONTENT_GEOJSON  "application/geo+json"
#define MAX_POINTS       5000
#define MAX_K            50
#define PLAN_CACHE_MAX   8
#define PLAN_CACHE_BYTES ((size_t)512 << 20)
#define ST_POOL          4

/* ---- plan contexts ---- */

typedef enum { CTX_SEGS, CTX_COVERAGE, CTX_DEMAND } ctx_kind;

typedef struct plan_ctx {
    struct plan_ctx *next;
    /* the key */
    ctx_kind kind;
    cg_profile profile;
    uint64_t graph;                /* cg_http_graph_serial */
    int64_t atlas_gen, places_gen; /* 0 for CTX_SEGS */
    int level;                     /* CTX_COVERAGE */
    char scope[CG_CODE_MAX];       /* CTX_COVERAGE, CTX_DEMAND */

    cg_http_graph *h; /* held while the context lives */
    int refs;         /* users now, plus one while cached */
    uint64_t used;    /* a tick of the last look-up */
    size_t bytes;     /* an estimate */

    cg_segs segs;         /* CTX_SEGS */
    cg_coverage_ctx *cov; /* CTX_COVERAGE: over the grids named by codes */
    size_t n_grids;
    char **codes;
    cg_posts_demand *dem; /* CTX_DEMAND */
    size_t n_dem;
    cg_segtimes *st_pool[ST_POOL]; /* on the context's segment table */
    int n_st;
} plan_ctx;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static plan_ctx *cache;
static uint64_t cache_tick;

static void ctx_free(plan_ctx *c)
{
    for (int i = 0; i < c->n_st; i++) {
        cg_segtimes_free(c->st_pool[i]);
        free(c->st_pool[i]);
    }
    cg_segs_free(&c->segs);
    cg_coverage_ctx_free(c->cov);
    free(c->codes);
    free(c->dem);
    if (c->h)
        cg_http_graph_release(c->h, NULL);
    free(c);
}

static void unref_locked(plan_ctx *c, plan_ctx **to_free)
{
    if (--c->refs == 0) {
        c->next = *to_free;
        *to_free = c;
    }
}

static void free_list(plan_ctx *l)
{
    while (l) {
        plan_ctx *n = l->next;
        ctx_free(l);
        l = n;
    }
}

/* Drops cached contexts that can never be asked for again (an older graph of the same profile;
 * with gens, an older grid or places generation than k's), then the least recently used ones
 * past the bounds. */
static void evict_locked(const plan_ctx *k, int gens, plan_ctx **to_free)
{
    for (plan_ctx **pp = &cache; *pp;) {
        plan_ctx *c = *pp;
        int stale = c->profile == k->profile && c->graph != k->graph;
        if (gens && c->kind != CTX_SEGS)
            stale |= c->atlas_gen != k->atlas_gen || c->places_gen != k->places_gen;
        if (stale) {
            *pp = c->next;
            unref_locked(c, to_free);
        } else {
            pp = &c->next;
        }
    }
    for (;;) {
        size_t n = 0, bytes = 0;
        plan_ctx **oldest = NULL;
        for (plan_ctx **pp = &cache; *pp; pp = &(*pp)->next) {
            n++;
            bytes += (*pp)->bytes;
            if (!oldest || (*pp)->used < (*oldest)->used)
                oldest = pp;
        }
        if (n <= PLAN_CACHE_MAX && bytes <= PLAN_CACHE_BYTES)
            return;
        plan_ctx *c = *oldest;
        *oldest = c->next;
        unref_locked(c, to_free);
    }
}

static int key_eq(const plan_ctx *c, const plan_ctx *k)
{
    return c->kind == k->kind && c->profile == k->profile && c->graph == k->graph &&
           c->atlas_gen == k->atlas_gen && c->places_gen == k->places_gen && c->level == k->level &&
           strcmp(c->scope, k->scope) == 0;
}

/* Builds what key k names (outside the lock). */
static int ctx_build(cg_http_req *req, plan_ctx *k, cg_err *err)
{
    const cg_graph *g = cg_http_graph_get(k->h);
    if (k->kind == CTX_SEGS) {
        if (cg_segs_build(g, &k->segs, err) != 0)
            return -1;
        k->bytes = (size_t)k->segs.n * sizeof *k->segs.seg +
                   (size_t)cg_graph_edge_count(g) * sizeof *k->segs.edge_seg;
        return 0;
    }
    cg_store *s;
    cg_coverage_building *bld = NULL;
    size_t n_bld = 0;
    if (cg_http_store(req, &s, err) != 0 || cg_app_buildings_load(s, &bld, &n_bld, err) != 0) {
        free(bld);
        return -1;
    }
    const cg_scope *scope = cg_http_scope(req);
    const cg_atlas *a = cg_http_atlas(req);
    int rc = 0;
    if (k->kind == CTX_DEMAND) {
        /* Demand is the caller's own: buildings in grids outside the scope are not planned for,
         * so a plan reveals nothing about households there. Buildings carry no grid code in
         * the store, so the scope is applied through the atlas's scoped locate. */
        k->dem = malloc((n_bld + 1) * sizeof *k->dem);
        if (!k->dem) {
            free(bld);
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for demand points");
        }
        for (size_t i = 0; i < n_bld; i++) {
            size_t path[8];
            if (scope->code[0] && cg_atlas_locate_in(a, scope, bld[i].at, path, 8) == 0)
                continue;
            k->dem[k->n_dem++] =
                (cg_posts_demand){bld[i].at, cg_posts_building_weight(bld[i].households)};
        }
        k->bytes = (n_bld + 1) * sizeof *k->dem;
        free(bld);
        return 0;
    }
    /* CTX_COVERAGE: the grids of the level inside the scope; their codes are copied (the atlas
     * may be replaced while the context lives), the polygons only used while building. */
    size_t na = cg_atlas_count(a), ng = 0, text = 0;
    const cg_mpoly **polys = malloc((na + 1) * sizeof *polys);
    const char **names = malloc((na + 1) * sizeof *names);
    if (!polys || !names) {
        rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < na; i++) {
        const cg_grid *gr = cg_atlas_grid(a, i);
        if ((int)gr->level == k->level && cg_scope_contains(scope, gr->code)) {
            names[ng] = gr->code;
            text += strlen(gr->code) + 1;
            polys[ng++] = &gr->geom;
        }
    }
    k->codes = malloc((ng + 1) * sizeof *k->codes + text);
    if (!k->codes) {
        rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    char *at = (char *)(k->codes + ng + 1);
    for (size_t i = 0; i < ng; i++) {
        size_t len = strlen(names[i]) + 1;
        memcpy(at, names[i], len);
        k->codes[i] = at;
        at += len;
    }
    k->n_grids = ng;
    rc = cg_coverage_ctx_new(g, polys, ng, bld, n_bld, &k->cov, err);
    if (rc == 0) {
        const cg_segs *sg = cg_coverage_segs(k->cov);
        k->bytes = (size_t)sg->n * 40 + (size_t)cg_graph_edge_count(g) * 4 + n_bld * 40 + text;
    }
done:
    free(polys);
    free(names);
    free(bld);
    return rc ? -1 : 0;
}

/*
 * The context of `kind` for this request (built when missing), with a reference taken (give it
 * back with ctx_put). `h` is the request's graph; level only for CTX_COVERAGE. The answer says
 * X-Plan-Cache: hit or miss, for the demand points when a request also takes them
 * (with_demand: the segment table is then not reported).
 */
static int ctx_get(cg_http_req *req, cg_http_graph *h, ctx_kind kind, int level, int with_demand,
                   plan_ctx **out, cg_err *err)
{
    plan_ctx *k = calloc(1, sizeof *k);
    if (!k)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    k->kind = kind;
    k->profile = cg_http_graph_profile(h);
    k->graph = cg_http_graph_serial(h);
    k->level = kind == CTX_COVERAGE ? level : -1;
    if (kind != CTX_SEGS) {
        cg_store *s;
        if (cg_http_store(req, &s, err) != 0) {
            free(k);
            return -1;
        }
        k->atlas_gen = cg_atlas_generation(cg_http_atlas(req));
        k->places_gen = cg_store_places_generation(s);
        snprintf(k->scope, sizeof k->scope, "%s", cg_http_scope(req)->code);
    }
    plan_ctx *to_free = NULL, *found = NULL;
    pthread_mutex_lock(&cache_lock);
    evict_locked(k, kind != CTX_SEGS, &to_free);
    for (plan_ctx *c = cache; c && !found; c = c->next)
        if (key_eq(c, k))
            found = c;
    if (found) {
        found->refs++;
        found->used = ++cache_tick;
    }
    pthread_mutex_unlock(&cache_lock);
    free_list(to_free);
    if (found) {
        free(k);
        if (kind != CTX_SEGS || !with_demand)
            cg_http_add_header(req, "X-Plan-Cache", "hit");
        *out = found;
        return 0;
    }
    if (kind != CTX_SEGS || !with_demand)
        cg_http_add_header(req, "X-Plan-Cache", "miss");
    /* Built outside the lock; two first requests for one key may both build, and the second to
     * finish uses the first's. */
    cg_http_graph_hold(h);
    k->h = h;
    if (ctx_build(req, k, err) != 0) {
        ctx_free(k);
        return -1;
    }
    k->refs = 2;
    to_free = NULL;
    pthread_mutex_lock(&cache_lock);
    for (plan_ctx *c = cache; c && !found; c = c->next)
        if (key_eq(c, k))
            found = c;
    if (found) {
        found->refs++;
        found->used = ++cache_tick;
        k->refs = 0;
        k->next = to_free;
        to_free = k;
        k = found;
    } else {
        k->used = ++cache_tick;
        k->next = cache;
        cache = k;
        evict_locked(k, k->kind != CTX_SEGS, &to_free);
    }
    pthread_mutex_unlock(&cache_lock);
    free_list(to_free);
    *out = k;
    return 0;
}

static void ctx_put(plan_ctx *c)
{
    if (!c)
        return;
    plan_ctx *to_free = NULL;
    pthread_mutex_lock(&cache_lock);
    unref_locked(c, &to_free);
    pthread_mutex_unlock(&cache_lock);
    free_list(to_free);
}

static const cg_segs *ctx_segs(const plan_ctx *c)
{
    return c->kind == CTX_COVERAGE ? cg_coverage_segs(c->cov) : &c->segs;
}

/* Segment times on the context's segment table, from its pool when one is free. */
static cg_segtimes *st_take(plan_ctx *c, cg_err *err)
{
    pthread_mutex_lock(&cache_lock);
    cg_segtimes *st = c->n_st ? c->st_pool[--c->n_st] : NULL;
    pthread_mutex_unlock(&cache_lock);
    if (st)
        return st;
    st = malloc(sizeof *st);
    if (!st) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory for segment times");
        return NULL;
    }
    if (cg_segtimes_init(st, ctx_segs(c), err) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

static void st_give(plan_ctx *c, cg_segtimes *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&cache_lock);
    if (c->n_st < ST_POOL) {
        c->st_pool[c->n_st++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    if (st) {
        cg_segtimes_free(st);
        free(st);
    }
}

/* ---- the graph of the asked profile ---- */

static int profile_of(const char *s, const char *field, cg_profile *p, cg_err *err)
{
    *p = CG_PROFILE_CAR;
    if (!s)
        return 0;
    if (cg_profile_parse(s, p, err) == 0)
        return 0;
    snprintf(err->field, sizeof err->field, "%s", field);
    return -1;
}

/* The request's graph, or a 409 saying to run `civgrid net build` for the profile. */
static int plan_graph(cg_http_req *req, cg_profile p, cg_http_graph **h, cg_err *err)
{
    if (cg_http_graph_acquire(req, p, h, err) == 0)
        return 0;
    if (err->code == CG_ENOTFOUND || err->code == CG_ECONFLICT) {
        char why[200];
        snprintf(why, sizeof why, "%.180s", err->message);
        err->code = CG_ECONFLICT;
        snprintf(err->message, sizeof err->message,
                 "no usable %s road graph beside the database: run civgrid net build%s%s (%s)",
                 cg_profile_name(p), p == CG_PROFILE_CAR ? "" : " --profile ",
                 p == CG_PROFILE_CAR ? "" : cg_profile_name(p), why);
    }
    return -1;
}

static int check_params(cg_http_req *req, const char *const *known)
{
    cg_err err;
    if (cg_query_check_known(&req->query, known, &err) == 0)
        return 0;
    cg_http_reply_error(req, &err);
    return -1;
}

/* Names the first missing required parameter before any work (the graph is not even loaded). */
static int require(cg_http_req *req, const char *const *names, cg_err *err)
{
    for (; *names; names++)
        if (!cg_query_get(&req->query, *names))
            return cg_err_set(err, CG_EINVAL, *names, "%s is required", *names);
    return 0;
}

static int query_budget(cg_http_req *req, double *budget, cg_err *err)
{
    int present;
    *budget = CG_COVERAGE_DEFAULT_S;
    if (cg_query_double(&req->query, "budget", 0, -1e12, 1e12, budget, &present, err) != 0)
        return -1;
    return cg_coverage_check_budget(*budget, "budget", err);
}

static int snap_field(const cg_graph *g, cg_point p, const char *field, cg_snap *out, cg_err *err)
{
    if (cg_graph_snap(g, p, CG_SNAP_MAX_M, out, err) == 0)
        return 0;
    snprintf(err->field, sizeof err->field, "%s", field);
    return -1;
}

static int query_point(cg_http_req *req, const cg_graph *g, cg_snap *out, cg_err *err)
{
    cg_point p;
    int present;
    if (cg_query_double(&req->query, "lat", 1, -90, 90, &p.y, &present, err) != 0 ||
        cg_query_double(&req->query, "lon", 1, -180, 180, &p.x, &present, err) != 0)
        return -1;
    return snap_field(g, p, "lat", out, err);
}

/* "lat,lon;lat,lon;..." snapped; a point far from roads is an error naming `field`. */
static int query_points(cg_http_req *req, const cg_graph *g, const char *field, cg_snap **out,
                        size_t *n, cg_err *err)
{
    const char *v = cg_query_get(&req->query, field);
    *n = 0;
    if (!v || !*v)
        return cg_err_set(err, CG_EINVAL, field, "no points: give lat,lon;lat,lon;...");
    size_t cap = 1;
    for (const char *c = v; *c; c++)
        cap += *c == ';';
    if (cap > MAX_POINTS)
        return cg_err_set(err, CG_EINVAL, field, "at most %d points", MAX_POINTS);
    *out = cg_arena_alloc(req->arena, cap * sizeof **out);
    char *copy = cg_arena_strdup(req->arena, v);
    for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        cg_point p;
        if (cg_route_parse_latlon(tok, field, &p, err) != 0 ||
            snap_field(g, p, field, &(*out)[(*n)++], err) != 0)
            return -1;
    }
    if (*n == 0)
        return cg_err_set(err, CG_EINVAL, field, "no points: give lat,lon;lat,lon;...");
    return 0;
}

/* ---- GET /api/v1/isochrone ---- */

static void handle_isochrone(cg_http_req *req)
{
    static const char *const known[] = {"lat", "lon", "budget", "buffer", "profile", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    cg_http_graph *h = NULL;
    plan_ctx *c = NULL;
    cg_segtimes *st = NULL;
    cg_search *s = NULL;
    cg_isochrone iso = {0};
    cg_profile p;
    double budget, buffer = CG_ISO_BUFFER_M;
    int present;
    cg_snap at;
    static const char *const req_names[] = {"lat", "lon", NULL};
    if (require(req, req_names, &err) != 0 || query_budget(req, &budget, &err) != 0 ||
        cg_query_double(&req->query, "buffer", 0, 0, 1000, &buffer, &present, &err) != 0 ||
        profile_of(cg_query_get(&req->query, "profile"), "profile", &p, &err) != 0 ||
        plan_graph(req, p, &h, &err) != 0 ||
        query_point(req, cg_http_graph_get(h), &at, &err) != 0 ||
        ctx_get(req, h, CTX_SEGS, 0, 0, &c, &err) != 0 || !(st = st_take(c, &err)) ||
        cg_http_graph_search(h, &s, &err) != 0 ||
        cg_isochrone_compute(st, s, &at, budget, buffer, &iso, &err) != 0) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_isochrone_geojson(&c->segs, &iso, b);
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_isochrone_free(&iso);
    if (c)
        st_give(c, st);
    ctx_put(c);
    if (h)
        cg_http_graph_release(h, s);
}

/* ---- GET /api/v1/coverage ---- */

static void write_grid(cg_buf *b, const char *code, const char *level, const cg_grid_coverage *c,
                       const cg_coverage *cov, int first)
{
    cg_buf_printf(b,
                  "%s{\"code\":\"%s\",\"level\":\"%s\",\"road_m\":%.1f,\"buildings\":%lld,"
                  "\"households\":%.0f,\"budgets\":[",
                  first ? "" : ",", code, level, c->road_m, (long long)c->buildings, c->households);
    for (size_t k = 0; k < cov->n_budgets; k++)
        cg_buf_printf(b,
                      "%s{\"budget_s\":%g,\"road_share\":%.4f,\"building_share\":%.4f,"
                      "\"household_share\":%.4f}",
                      k ? "," : "", cov->budgets[k],
                      c->road_m > 0 ? c->road_cov_m[k] / c->road_m : 1.0,
                      c->buildings ? (double)c->buildings_cov[k] / c->buildings : 1.0,
                      c->households > 0 ? c->households_cov[k] / c->households : 1.0);
    cg_buf_puts(b, "],\"worst\":");
    if (c->worst_s < 0)
        cg_buf_puts(b, "null}");
    else if (isinf(c->worst_s))
        cg_buf_printf(b, "{\"seconds\":null,\"beyond_s\":%g}}", cov->horizon_s);
    else
        cg_buf_printf(b, "{\"seconds\":%.1f,\"point\":[%.7f,%.7f]}}", c->worst_s, c->worst_at.x,
                      c->worst_at.y);
}

static void handle_coverage(cg_http_req *req)
{
    static const char *const known[] = {"posts", "budget", "circles", "level", "profile", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    cg_http_graph *h = NULL;
    plan_ctx *c = NULL;
    cg_segtimes *st = NULL;
    cg_search *q = NULL;
    cg_coverage cov = {0};
    cg_profile p = CG_PROFILE_CAR;
    cg_snap *posts;
    size_t n_posts;
    const char *level_s = cg_query_get(&req->query, "level");
    const char *circles = cg_query_get(&req->query, "circles");
    cg_level level = CG_LEVEL_GRID;
    if (level_s) {
        level = CG_LEVEL_NONE;
        for (int l = CG_LEVEL_DISTRICT; l <= CG_LEVEL_SUBGRID; l++)
            if (strcmp(level_s, cg_level_name((cg_level)l)) == 0)
                level = (cg_level)l;
    }
    if (level == CG_LEVEL_NONE)
        cg_err_set(&err, CG_EINVAL, "level", "'%.32s' is not a grid level", level_s);
    else if (circles && strcmp(circles, "true") != 0 && strcmp(circles, "false") != 0)
        cg_err_set(&err, CG_EINVAL, "circles", "circles is true or false");
    static const char *const req_names[] = {"posts", NULL};
    double budgets[5] = {CG_COVERAGE_DEFAULT_S, 60, 180, 300, 600}; /* the asked, the circles */
    int whole = cg_http_scope(req)->code[0] == '\0';
    cg_coverage_opts co = {budgets, circles && strcmp(circles, "true") == 0 ? 5 : 1, 0, 1, !whole};
    if (err.code || require(req, req_names, &err) != 0 ||
        query_budget(req, &budgets[0], &err) != 0 ||
        profile_of(cg_query_get(&req->query, "profile"), "profile", &p, &err) != 0 ||
        plan_graph(req, p, &h, &err) != 0 ||
        query_points(req, cg_http_graph_get(h), "posts", &posts, &n_posts, &err) != 0 ||
        ctx_get(req, h, CTX_COVERAGE, (int)level, 0, &c, &err) != 0 || !(st = st_take(c, &err)) ||
        cg_http_graph_search(h, &q, &err) != 0 ||
        cg_coverage_run_with(c->cov, st, q, posts, n_posts, &co, &cov, &err) != 0) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_buf unc;
        cg_buf_init(&unc);
        cg_coverage_uncovered_geojson(c->cov, &cov, (const char *const *)c->codes, &unc);
        /* The uncovered FeatureCollection with the per-grid table as a foreign member. */
        cg_buf_append(b, unc.data, unc.len - 1);
        cg_buf_free(&unc);
        cg_buf_printf(b, ",\"posts\":%zu,\"profile\":\"%s\",\"horizon_s\":%g,\"grids\":[", n_posts,
                      cg_profile_name(p), cov.horizon_s);
        for (size_t i = 0; i < c->n_grids; i++)
            write_grid(b, c->codes[i], cg_level_name(level), &cov.grid[i], &cov, i == 0);
        cg_buf_puts(b, "]}");
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_coverage_free(&cov);
    if (c)
        st_give(c, st);
    ctx_put(c);
    if (h)
        cg_http_graph_release(h, q);
}

/* ---- GET /api/v1/dispatch ---- */

static void handle_dispatch(cg_http_req *req)
{
    static const char *const known[] = {"lat", "lon", "units", "k", "profile", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    cg_http_graph *h = NULL;
    cg_profile p;
    long k = 3;
    int present;
    cg_snap at, *pts;
    size_t n;
    static const char *const req_names[] = {"lat", "lon", "units", NULL};
    if (require(req, req_names, &err) != 0 ||
        cg_query_long(&req->query, "k", 1, MAX_K, &k, &present, &err) != 0 ||
        profile_of(cg_query_get(&req->query, "profile"), "profile", &p, &err) != 0 ||
        plan_graph(req, p, &h, &err) != 0 ||
        query_point(req, cg_http_graph_get(h), &at, &err) != 0 ||
        query_points(req, cg_http_graph_get(h), "units", &pts, &n, &err) != 0) {
        cg_http_reply_error(req, &err);
        if (h)
            cg_http_graph_release(h, NULL);
        return;
    }
    cg_unit *units = cg_arena_alloc(req->arena, n * sizeof *units);
    for (size_t i = 0; i < n; i++)
        units[i] = (cg_unit){pts[i], 1};
    cg_search *s = NULL;
    cg_dispatch d = {0};
    if (cg_http_graph_search(h, &s, &err) ||
        cg_dispatch_nearest(s, &at, units, n, (size_t)k, &d, &err)) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_dispatch_geojson(&d, b);
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_dispatch_free(&d);
    cg_http_graph_release(h, s);
}

/* ---- POST /api/v1/posts/plan ---- */

/* The solver's time limit a request may ask for (`time_limit_s`), and the default: the search
 * keeps its best answer so far when the limit passes (the answer says timed_out). */
#define PLAN_TIME_LIMIT_DEFAULT_S 10.0
#define PLAN_TIME_LIMIT_MIN_S     0.5
#define PLAN_TIME_LIMIT_MAX_S     60.0

static int body_points(json_t *root, const char *key, cg_point **pts, size_t *n, cg_err *err)
{
    json_t *v = json_object_get(root, key);
    *pts = NULL;
    *n = 0;
    if (!v)
        return 0;
    char *text = json_dumps(v, JSON_COMPACT);
    int *avail = NULL;
    int rc =
        cg_plan_points_parse(text ? text : "", text ? strlen(text) : 0, key, pts, &avail, n, err);
    free(text);
    free(avail);
    return rc;
}

static void handle_posts_plan(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    if (check_params(req, known) != 0)
        return;
    static const char *const fields[] = {"budget", "p",       "exact",        "fixed",
                                         "sites",  "profile", "time_limit_s", NULL};
    cg_err err = {0};
    json_t *root = cg_json_parse_object(req->body_in, req->body_in_len, fields, &err);
    cg_posts_opts o;
    cg_posts_opts_init(&o);
    cg_http_graph *h = NULL;
    plan_ctx *segs = NULL, *dem = NULL;
    cg_search *q = NULL;
    cg_posts_result r = {0};
    cg_point *fixed = NULL, *sites = NULL;
    size_t n_fixed = 0, n_sites = 0;
    cg_profile p = CG_PROFILE_CAR;
    if (!root)
        goto fail;
    json_t *v;
    if ((v = json_object_get(root, "budget")) &&
        (!json_is_number(v) || cg_coverage_check_budget(json_number_value(v), "budget", &err))) {
        cg_err_set(&err, CG_EINVAL, "budget", "a budget must be more than 0 and at most 86400 s");
        goto fail;
    }
    if (v)
        o.budget_s = json_number_value(v);
    if ((v = json_object_get(root, "p"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 10000) {
            cg_err_set(&err, CG_EINVAL, "p", "p is a whole number from 1 to 10000");
            goto fail;
        }
        o.problem = CG_COVER_MAX;
        o.p = (size_t)json_integer_value(v);
    }
    if ((v = json_object_get(root, "profile")) && !json_is_string(v)) {
        cg_err_set(&err, CG_EINVAL, "profile", "profile is car, foot or bicycle");
        goto fail;
    }
    o.exact = json_is_true(json_object_get(root, "exact"));
    o.time_limit_s = PLAN_TIME_LIMIT_DEFAULT_S;
    json_t *limit = json_object_get(root, "time_limit_s");
    if (limit) {
        double l = json_is_number(limit) ? json_number_value(limit) : -1;
        if (!(l >= PLAN_TIME_LIMIT_MIN_S && l <= PLAN_TIME_LIMIT_MAX_S)) {
            cg_err_set(&err, CG_EINVAL, "time_limit_s",
                       "time_limit_s is a number of seconds from %g to %g (default %g)",
                       PLAN_TIME_LIMIT_MIN_S, PLAN_TIME_LIMIT_MAX_S, PLAN_TIME_LIMIT_DEFAULT_S);
            goto fail;
        }
        o.time_limit_s = l;
    }
    if (profile_of(v ? json_string_value(v) : NULL, "profile", &p, &err) ||
        body_points(root, "fixed", &fixed, &n_fixed, &err) ||
        body_points(root, "sites", &sites, &n_sites, &err) || plan_graph(req, p, &h, &err) ||
        ctx_get(req, h, CTX_SEGS, 0, 1, &segs, &err) ||
        ctx_get(req, h, CTX_DEMAND, 0, 1, &dem, &err) || cg_http_graph_search(h, &q, &err) ||
        cg_posts_plan(&segs->segs, q, dem->dem, dem->n_dem, sites, n_sites, fixed, n_fixed, &o, &r,
                      &err))
        goto fail;
    cg_buf *b = cg_http_scratch(req);
    cg_posts_geojson(&r, &o, b);
    cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    goto done;
fail:
    cg_http_reply_error(req, &err);
done:
    cg_posts_result_free(&r);
    ctx_put(dem);
    ctx_put(segs);
    if (h)
        cg_http_graph_release(h, q);
    free(fixed);
    free(sites);
    json_decref(root);
}

/* ---- GET /api/v1/pois ---- */

#define POIS_MAX 5000

typedef struct {
    const char *kind;
    cg_buf *b;
    long n, limit;
    int cut;
} pois_out;

static int on_poi(void *ctx, const cg_poi *p)
{
    pois_out *o = ctx;
    if (strcmp(p->kind, o->kind) != 0)
        return 0;
    if (o->n == o->limit) {
        o->cut = 1;
        return 1; /* stop */
    }
    cg_buf_printf(o->b,
                  "%s{\"type\":\"Feature\",\"id\":%lld,\"geometry\":{\"type\":\"Point\","
                  "\"coordinates\":[%.7f,%.7f]},\"properties\":{\"id\":%lld,\"kind\":",
                  o->n ? "," : "", (long long)p->id, p->at.x, p->at.y, (long long)p->id);
    cg_json_write_string(o->b, p->kind);
    if (p->name_zh[0]) {
        cg_buf_puts(o->b, ",\"name_zh\":");
        cg_json_write_string(o->b, p->name_zh);
    }
    if (p->name_en[0]) {
        cg_buf_puts(o->b, ",\"name_en\":");
        cg_json_write_string(o->b, p->name_en);
    }
    cg_buf_puts(o->b, "}}");
    o->n++;
    return 0;
}

/* Points of interest of one kind (police stations, fire stations, ...): where posts stand today,
 * for the console's coverage map. Public places, not people: no scope applies. */
static void handle_pois(cg_http_req *req)
{
    static const char *const known[] = {"kind", "bbox", "limit", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    const char *kind = cg_query_get(&req->query, "kind");
    double bb[4];
    int has_bbox = 0, present;
    long limit = 1000;
    static const char *const req_names[] = {"kind", NULL};
    if (require(req, req_names, &err) != 0 ||
        cg_query_bbox(&req->query, "bbox", bb, &has_bbox, &err) != 0 ||
        cg_query_long(&req->query, "limit", 1, POIS_MAX, &limit, &present, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    size_t len = strlen(kind);
    int ok = len > 0 && len < 32;
    for (size_t i = 0; ok && i < len; i++)
        ok = (kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '_';
    if (!ok) {
        cg_err_set(&err, CG_EINVAL, "kind", "a kind is 1 to 31 of a-z and _ (e.g. police)");
        cg_http_reply_error(req, &err);
        return;
    }
    cg_store *s;
    cg_buf *b = cg_http_scratch(req);
    cg_bbox box = {bb[0], bb[1], bb[2], bb[3]};
    pois_out o = {kind, b, 0, limit, 0};
    cg_buf_puts(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    if (cg_http_store(req, &s, &err) != 0 ||
        cg_store_poi_each(s, has_bbox ? &box : NULL, on_poi, &o, &err) < 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf_printf(b, "],\"count\":%ld,\"truncated\":%s}", o.n, o.cut ? "true" : "false");
    cg_http_reply(req, 200, CONTENT_GEOJSON, b);
}

const cg_route cg_plan_routes[] = {
    {"GET", "/api/v1/isochrone", handle_isochrone,
     "the road network reachable from a point within a budget, and its area", CG_PERM_LOCATE},
    {"GET", "/api/v1/coverage", handle_coverage,
     "per-grid response-time coverage from posts, and the uncovered road", CG_PERM_GRID_READ},
    {"GET", "/api/v1/dispatch", handle_dispatch,
     "the K nearest units to an incident by travel time, with routes", CG_PERM_LOCATE},
    {"GET", "/api/v1/pois", handle_pois,
     "points of interest of one kind (police, fire_station, ...): where posts stand today",
     CG_PERM_GRID_READ},
    {"POST", "/api/v1/posts/plan", handle_posts_plan,
     "propose patrol posts so demand is reached within a budget", CG_PERM_GRID_WRITE},
};
const size_t cg_plan_routes_count = sizeof cg_plan_routes / sizeof cg_plan_routes[0];
