/*
 * Planning API on the road network: GET /api/v1/isochrone, /api/v1/coverage, /api/v1/dispatch
 * and POST /api/v1/posts/plan, each answering GeoJSON computed by src/plan/. The car graph that
 * `civgrid net build` wrote beside the database is mapped once per process on first use (a
 * missing graph is a 409 saying to run it) and shared read-only by the worker threads; each
 * request takes its own search workspace.
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
#include "http/http.h"
#include "plan/coverage.h"
#include "plan/dispatch.h"
#include "plan/isochrone.h"
#include "plan/points.h"
#include "plan/posts.h"

#define CONTENT_GEOJSON "application/geo+json"
#define MAX_POINTS      5000
#define MAX_K           50

static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
static cg_graph *graph;
static cg_segs graph_segs;

/* The shared car graph and its segment table, loaded on first use. */
static int plan_graph(cg_http_req *req, const cg_graph **g, const cg_segs **segs, cg_err *err)
{
    pthread_mutex_lock(&graph_lock);
    int rc = 0;
    if (!graph) {
        char path[2048];
        cg_store *s;
        cg_graph *loaded = NULL;
        rc = cg_http_store(req, &s, err) ||
             cg_graph_path(cg_http_config_of(req)->db, CG_PROFILE_CAR, path, sizeof path, err) ||
             cg_graph_load(path, CG_PROFILE_CAR, s, &loaded, err);
        if (rc && (err->code == CG_ENOTFOUND || err->code == CG_ECONFLICT)) {
            err->code = CG_ECONFLICT;
            snprintf(err->message, sizeof err->message,
                     "no usable road graph beside the database: run civgrid net build first");
        }
        if (!rc && cg_segs_build(loaded, &graph_segs, err) != 0) {
            cg_graph_free(loaded);
            rc = -1;
        }
        if (!rc)
            graph = loaded;
    }
    pthread_mutex_unlock(&graph_lock);
    *g = graph;
    *segs = &graph_segs;
    return rc ? -1 : 0;
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
    static const char *const known[] = {"lat", "lon", "budget", "buffer", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    const cg_graph *g;
    const cg_segs *segs;
    double budget, buffer = CG_ISO_BUFFER_M;
    int present;
    cg_snap at;
    static const char *const req_names[] = {"lat", "lon", NULL};
    if (require(req, req_names, &err) != 0 || query_budget(req, &budget, &err) != 0 ||
        cg_query_double(&req->query, "buffer", 0, 0, 1000, &buffer, &present, &err) != 0 ||
        plan_graph(req, &g, &segs, &err) != 0 || query_point(req, g, &at, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_segtimes st = {0};
    cg_search *s = NULL;
    cg_isochrone iso = {0};
    if (cg_segtimes_init(&st, segs, &err) || cg_search_new(g, &s, &err) ||
        cg_isochrone_compute(&st, s, &at, budget, buffer, &iso, &err)) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_isochrone_geojson(segs, &iso, b);
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_isochrone_free(&iso);
    cg_search_free(s);
    cg_segtimes_free(&st);
}

/* ---- GET /api/v1/coverage ---- */

/* Collects building centroids; ctx is {array, count, capacity}. */
static void write_grid(cg_buf *b, const cg_grid *gr, const cg_grid_coverage *c,
                       const cg_coverage *cov, int first)
{
    cg_buf_printf(b,
                  "%s{\"code\":\"%s\",\"level\":\"%s\",\"road_m\":%.1f,\"buildings\":%lld,"
                  "\"households\":%.0f,\"budgets\":[",
                  first ? "" : ",", gr->code, cg_level_name(gr->level), c->road_m,
                  (long long)c->buildings, c->households);
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
    static const char *const known[] = {"posts", "budget", "circles", "level", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    const cg_graph *g;
    const cg_segs *segs;
    double budget;
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
    if (err.code || require(req, req_names, &err) != 0 || query_budget(req, &budget, &err) != 0 ||
        plan_graph(req, &g, &segs, &err) != 0 ||
        query_points(req, g, "posts", &posts, &n_posts, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    const cg_atlas *a = cg_http_atlas(req);
    const cg_scope *scope = cg_http_scope(req);
    size_t na = cg_atlas_count(a), ng = 0;
    const cg_mpoly **polys = cg_arena_alloc(req->arena, (na + 1) * sizeof *polys);
    size_t *gidx = cg_arena_alloc(req->arena, (na + 1) * sizeof *gidx);
    const char **codes = cg_arena_alloc(req->arena, (na + 1) * sizeof *codes);
    for (size_t i = 0; i < na; i++) {
        const cg_grid *gr = cg_atlas_grid(a, i);
        if (gr->level == level && cg_scope_contains(scope, gr->code)) {
            gidx[ng] = i;
            codes[ng] = gr->code;
            polys[ng++] = &gr->geom;
        }
    }
    cg_coverage_building *bld = NULL;
    size_t n_bld = 0;
    cg_store *s;
    cg_coverage_ctx *ctx = NULL;
    cg_search *q = NULL;
    cg_coverage cov = {0};
    double budgets[5] = {budget, 60, 180, 300, 600};
    int whole = scope->code[0] == '\0';
    cg_coverage_opts co = {budgets, circles && strcmp(circles, "true") == 0 ? 5 : 1, 0, 1, !whole};
    if (cg_http_store(req, &s, &err) || cg_app_buildings_load(s, &bld, &n_bld, &err) ||
        cg_coverage_ctx_new(g, polys, ng, bld, n_bld, &ctx, &err) || cg_search_new(g, &q, &err) ||
        cg_coverage_run(ctx, q, posts, n_posts, &co, &cov, &err)) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_buf unc;
        cg_buf_init(&unc);
        cg_coverage_uncovered_geojson(ctx, &cov, codes, &unc);
        /* The uncovered FeatureCollection with the per-grid table as a foreign member. */
        cg_buf_append(b, unc.data, unc.len - 1);
        cg_buf_free(&unc);
        cg_buf_printf(b, ",\"posts\":%zu,\"horizon_s\":%g,\"grids\":[", n_posts, cov.horizon_s);
        for (size_t i = 0; i < ng; i++)
            write_grid(b, cg_atlas_grid(a, gidx[i]), &cov.grid[i], &cov, i == 0);
        cg_buf_puts(b, "]}");
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_coverage_free(&cov);
    cg_search_free(q);
    cg_coverage_ctx_free(ctx);
    free(bld);
}

/* ---- GET /api/v1/dispatch ---- */

static void handle_dispatch(cg_http_req *req)
{
    static const char *const known[] = {"lat", "lon", "units", "k", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err = {0};
    const cg_graph *g;
    const cg_segs *segs;
    long k = 3;
    int present;
    cg_snap at, *pts;
    size_t n;
    static const char *const req_names[] = {"lat", "lon", "units", NULL};
    if (require(req, req_names, &err) != 0 ||
        cg_query_long(&req->query, "k", 1, MAX_K, &k, &present, &err) != 0 ||
        plan_graph(req, &g, &segs, &err) != 0 || query_point(req, g, &at, &err) != 0 ||
        query_points(req, g, "units", &pts, &n, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_unit *units = cg_arena_alloc(req->arena, n * sizeof *units);
    for (size_t i = 0; i < n; i++)
        units[i] = (cg_unit){pts[i], 1};
    cg_search *s = NULL;
    cg_dispatch d = {0};
    if (cg_search_new(g, &s, &err) || cg_dispatch_nearest(s, &at, units, n, (size_t)k, &d, &err)) {
        cg_http_reply_error(req, &err);
    } else {
        cg_buf *b = cg_http_scratch(req);
        cg_dispatch_geojson(&d, b);
        cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    }
    cg_dispatch_free(&d);
    cg_search_free(s);
}

/* ---- POST /api/v1/posts/plan ---- */

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
    static const char *const fields[] = {"budget", "p", "exact", "fixed", "sites", NULL};
    cg_err err = {0};
    json_t *root = cg_json_parse_object(req->body_in, req->body_in_len, fields, &err);
    cg_posts_opts o;
    cg_posts_opts_init(&o);
    const cg_graph *g;
    const cg_segs *segs;
    cg_point *fixed = NULL, *sites = NULL;
    size_t n_fixed = 0, n_sites = 0;
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
    o.exact = json_is_true(json_object_get(root, "exact"));
    o.time_limit_s = 10;
    if (body_points(root, "fixed", &fixed, &n_fixed, &err) ||
        body_points(root, "sites", &sites, &n_sites, &err) || plan_graph(req, &g, &segs, &err))
        goto fail;
    cg_store *s;
    cg_coverage_building *bld = NULL;
    size_t n_bld = 0;
    if (cg_http_store(req, &s, &err) || cg_app_buildings_load(s, &bld, &n_bld, &err)) {
        free(bld);
        goto fail;
    }
    /* Demand is the caller's own: buildings in grids outside the scope are not planned for, so
     * a plan reveals nothing about households there. Buildings carry no grid code in the store,
     * so the scope is applied through the atlas's scoped locate. */
    const cg_scope *scope = cg_http_scope(req);
    const cg_atlas *atlas = cg_http_atlas(req);
    cg_posts_demand *dem = cg_arena_alloc(req->arena, (n_bld + 1) * sizeof *dem);
    size_t n_dem = 0;
    for (size_t i = 0; i < n_bld; i++) {
        size_t path[8];
        if (scope->code[0] && cg_atlas_locate_in(atlas, scope, bld[i].at, path, 8) == 0)
            continue;
        dem[n_dem++] = (cg_posts_demand){bld[i].at, cg_posts_building_weight(bld[i].households)};
    }
    n_bld = n_dem;
    free(bld);
    cg_search *q = NULL;
    cg_posts_result r = {0};
    if (cg_search_new(g, &q, &err) ||
        cg_posts_plan(segs, q, dem, n_bld, sites, n_sites, fixed, n_fixed, &o, &r, &err)) {
        cg_search_free(q);
        goto fail;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_posts_geojson(&r, &o, b);
    cg_http_reply(req, 200, CONTENT_GEOJSON, b);
    cg_posts_result_free(&r);
    cg_search_free(q);
    free(fixed);
    free(sites);
    json_decref(root);
    return;
fail:
    cg_http_reply_error(req, &err);
    free(fixed);
    free(sites);
    json_decref(root);
}

const cg_route cg_plan_routes[] = {
    {"GET", "/api/v1/isochrone", handle_isochrone,
     "the road network reachable from a point within a budget, and its area", CG_PERM_LOCATE},
    {"GET", "/api/v1/coverage", handle_coverage,
     "per-grid response-time coverage from posts, and the uncovered road", CG_PERM_GRID_READ},
    {"GET", "/api/v1/dispatch", handle_dispatch,
     "the K nearest units to an incident by travel time, with routes", CG_PERM_LOCATE},
    {"POST", "/api/v1/posts/plan", handle_posts_plan,
     "propose patrol posts so demand is reached within a budget", CG_PERM_GRID_WRITE},
};
const size_t cg_plan_routes_count = sizeof cg_plan_routes / sizeof cg_plan_routes[0];
