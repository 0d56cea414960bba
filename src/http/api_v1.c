/*
 * API v1 handlers and the route table. Each handler validates its query (unknown parameters and
 * bad values are refused naming the parameter), then writes its answer straight into the
 * thread's scratch buffer: no JSON trees on the hot paths (locate and grid lookup answer from
 * the in-memory atlas without touching the database).
 *
 * Scope: every grid read passes the caller's scope down (http/auth.c has checked the route's
 * permission before the handler runs): store lists through the filter's `scope`, atlas lookups
 * through the scoped functions of app/atlas.h. A grid outside the scope answers exactly like a
 * grid that does not exist.
 */
#include <stdio.h>
#include <string.h>

#include "app/grid_json.h"
#include "geo/crs.h"
#include "geo/geojson.h"
#include "http/auth.h"
#include "http/http.h"

#define LIST_DEFAULT_LIMIT   100
#define LIST_MAX_LIMIT       10000
#define GEOJSON_MAX_FEATURES 50000
#define LOCATE_MAX_DEPTH     16
#define TREE_MAX_DEPTH       32
#define CONTENT_JSON         "application/json"
#define CONTENT_GEOJSON      "application/geo+json"

static int check_params(cg_http_req *req, const char *const *known)
{
    cg_err err;
    if (cg_query_check_known(&req->query, known, &err) == 0)
        return 0;
    cg_http_reply_error(req, &err);
    return -1;
}

/* Reads ?crs= (default WGS84). */
static int query_crs(cg_http_req *req, cg_crs *crs, cg_err *err)
{
    const char *v = cg_query_get(&req->query, "crs");
    *crs = CG_CRS_WGS84;
    return v ? cg_crs_parse(v, "crs", crs, err) : 0;
}

/* Reads an enumerated parameter: the index of its value in choices[], 0 when absent. */
static int query_choice(cg_http_req *req, const char *key, const char *const *choices, int *out,
                        cg_err *err)
{
    const char *v = cg_query_get(&req->query, key);
    *out = 0;
    if (!v)
        return 0;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    return cg_err_set(err, CG_EINVAL, key, "'%.64s' is not one of %s%s%s", v, choices[0],
                      choices[1] ? ", " : "", choices[1] ? choices[1] : "");
}

/* ---- GET /healthz ---- */

static void handle_healthz(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_store *s;
    if (cg_http_store(req, &s, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    /* Anonymous callers learn that the server lives, not what it holds. */
    if (!req->auth.logged_in) {
        static const char ok[] = "{\"status\":\"ok\"}";
        cg_http_reply_static(req, 200, CONTENT_JSON, ok, sizeof ok - 1);
        return;
    }
    cg_grid_filter f = {0};
    f.scope = cg_http_scope(req);
    int64_t count;
    if (cg_store_grid_count(s, &f, &count, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_printf(b, "{\"status\":\"ok\",\"schema_version\":%d,\"grids\":%lld}",
                  cg_store_schema_version(s), (long long)count);
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

/* ---- GET /api/v1/grids ---- */

enum { VIEW_FLAT, VIEW_TREE };
enum { FORMAT_JSON, FORMAT_GEOJSON };

typedef struct {
    cg_buf *b;
    cg_crs crs;
    int format, view;
    size_t n;
    /* tree view: the open ancestors, and whether each open array already has an element */
    char stack[TREE_MAX_DEPTH][CG_CODE_MAX];
    int has_element[TREE_MAX_DEPTH + 1];
    size_t depth;
} list_ctx;

static void tree_close_one(list_ctx *c)
{
    cg_buf_puts(c->b, "]}");
    c->depth--;
}

/*
 * Grids arrive in code order, which for hierarchical codes is a depth-first walk: a grid's
 * descendants follow it directly. So the tree is written as a stream, keeping only the chain of
 * open ancestors, and a grid whose parent is not open is written at the top level.
 */
static void tree_add(list_ctx *c, const cg_grid *g)
{
    while (c->depth > 0 && strcmp(c->stack[c->depth - 1], g->parent_code) != 0)
        tree_close_one(c);
    if (c->depth == TREE_MAX_DEPTH) /* deeper than any real hierarchy: keep the output valid */
        tree_close_one(c);
    if (c->has_element[c->depth])
        cg_buf_putc(c->b, ',');
    c->has_element[c->depth] = 1;
    cg_buf_putc(c->b, '{');
    cg_grid_write_fields(c->b, g, 0, c->crs);
    cg_buf_puts(c->b, ",\"children\":[");
    snprintf(c->stack[c->depth], CG_CODE_MAX, "%s", g->code);
    c->depth++;
    c->has_element[c->depth] = 0;
}

static int list_cb(void *ctx, const cg_grid *g)
{
    list_ctx *c = ctx;
    if (c->view == VIEW_TREE) {
        tree_add(c, g);
    } else {
        if (c->n)
            cg_buf_putc(c->b, ',');
        if (c->format == FORMAT_GEOJSON)
            cg_grid_write_feature(c->b, g, c->crs);
        else
            cg_grid_write_json(c->b, g, 0, c->crs);
    }
    c->n++;
    return 0;
}

static void handle_grids(cg_http_req *req)
{
    static const char *const known[] = {"parent", "level", "bbox",   "limit", "offset",
                                        "crs",    "view",  "format", NULL};
    static const char *const views[] = {"flat", "tree", NULL};
    static const char *const formats[] = {"json", "geojson", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    list_ctx *c = cg_arena_calloc(req->arena, 1, sizeof *c);
    cg_grid_filter f = {0};
    cg_bbox bbox;
    double box[4];
    long limit = 0, offset = 0;
    int has_box, has_limit, has_offset;
    const char *level = cg_query_get(&req->query, "level");
    if (query_crs(req, &c->crs, &err) != 0 ||
        query_choice(req, "view", views, &c->view, &err) != 0 ||
        query_choice(req, "format", formats, &c->format, &err) != 0 ||
        cg_query_bbox(&req->query, "bbox", box, &has_box, &err) != 0 ||
        cg_query_long(&req->query, "offset", 0, 1L << 30, &offset, &has_offset, &err) != 0)
        goto fail;
    long max_limit = c->format == FORMAT_GEOJSON ? GEOJSON_MAX_FEATURES : LIST_MAX_LIMIT;
    if (cg_query_long(&req->query, "limit", 1, max_limit, &limit, &has_limit, &err) != 0)
        goto fail;
    if (!has_limit)
        limit = c->format == FORMAT_JSON && c->view == VIEW_FLAT ? LIST_DEFAULT_LIMIT : max_limit;
    if (level && cg_level_parse(level, &f.level) != 0) {
        cg_err_set(&err, CG_EINVAL, "level",
                   "'%.64s' is not a level (district, street, community, grid, subgrid)", level);
        goto fail;
    }
    if (c->view == VIEW_TREE && c->format == FORMAT_GEOJSON) {
        cg_err_set(&err, CG_EINVAL, "view", "the tree view is JSON only (drop format=geojson)");
        goto fail;
    }
    if (has_box) {
        bbox = (cg_bbox){box[0], box[1], box[2], box[3]};
        f.bbox = &bbox;
    }
    /* In the tree view `parent` roots the tree at that grid; in the flat list it selects
     * direct children. */
    if (c->view == VIEW_TREE)
        f.subtree_code = cg_query_get(&req->query, "parent");
    else
        f.parent_code = cg_query_get(&req->query, "parent");
    f.with_geom = c->format == FORMAT_GEOJSON;
    f.scope = cg_http_scope(req);

    cg_store *s;
    int64_t total;
    if (cg_http_store(req, &s, &err) != 0 || cg_store_grid_count(s, &f, &total, &err) != 0)
        goto fail;
    f.limit = (int)limit;
    f.offset = (int)offset;
    c->b = cg_http_scratch(req);
    if (c->format == FORMAT_GEOJSON)
        cg_buf_puts(c->b, "{\"type\":\"FeatureCollection\",\"features\":[");
    else
        cg_buf_puts(c->b, "{\"grids\":[");
    if (cg_store_grid_list(s, &f, list_cb, c, &err) != 0)
        goto fail;
    while (c->depth > 0)
        tree_close_one(c);
    if (c->format == FORMAT_GEOJSON) {
        cg_buf_printf(c->b, "],\"numberMatched\":%lld,\"numberReturned\":%zu}", (long long)total,
                      c->n);
        cg_http_reply(req, 200, CONTENT_GEOJSON, c->b);
        return;
    }
    cg_buf_printf(c->b, "],\"total\":%lld,\"returned\":%zu,\"limit\":%ld,\"offset\":%ld}",
                  (long long)total, c->n, limit, offset);
    cg_http_reply(req, 200, CONTENT_JSON, c->b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/grids/{code} and /history ---- */

static void render_grid(cg_buf *b, const cg_atlas *a, size_t i)
{
    cg_grid_write_json(b, cg_atlas_grid(a, i), 1, CG_CRS_WGS84);
}

static void handle_grid(cg_http_req *req)
{
    static const char *const known[] = {"crs", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_crs crs;
    if (query_crs(req, &crs, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    const cg_atlas *a = cg_http_atlas(req);
    long i = cg_atlas_find_in(a, cg_http_scope(req), req->params[0]);
    if (i < 0) {
        cg_err_set(&err, CG_ENOTFOUND, "code", "no current grid has code '%.64s'", req->params[0]);
        cg_http_reply_error(req, &err);
        return;
    }
    if (crs == CG_CRS_WGS84) {
        const char *body;
        size_t len;
        cg_http_atlas_cached(req, CG_HTTP_CACHE_GRID, (size_t)i, render_grid, &body, &len);
        cg_http_reply_static(req, 200, CONTENT_JSON, body, len);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_grid_write_json(b, cg_atlas_grid(a, (size_t)i), 1, crs);
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

typedef struct {
    cg_buf *b;
    cg_crs crs;
    size_t n;
} history_ctx;

static int history_cb(void *ctx, const cg_grid *g)
{
    history_ctx *h = ctx;
    if (h->n++)
        cg_buf_putc(h->b, ',');
    cg_grid_write_json(h->b, g, 1, h->crs);
    return 0;
}

static void handle_grid_history(cg_http_req *req)
{
    static const char *const known[] = {"crs", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_store *s;
    history_ctx h = {cg_http_scratch(req), CG_CRS_WGS84, 0};
    if (query_crs(req, &h.crs, &err) != 0 || cg_http_store(req, &s, &err) != 0)
        goto fail;
    cg_buf_puts(h.b, "{\"code\":");
    cg_json_write_string(h.b, req->params[0]);
    cg_buf_puts(h.b, ",\"versions\":[");
    /* History is keyed by code, and a scope is a code prefix: a code outside it is never read. */
    if (cg_scope_contains(cg_http_scope(req), req->params[0]) &&
        cg_store_grid_history(s, req->params[0], history_cb, &h, &err) != 0)
        goto fail;
    if (h.n == 0) {
        cg_err_set(&err, CG_ENOTFOUND, "code", "no grid has ever had code '%.64s'", req->params[0]);
        goto fail;
    }
    cg_buf_printf(h.b, "],\"count\":%zu}", h.n);
    cg_http_reply(req, 200, CONTENT_JSON, h.b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/grids/check ---- */

static void handle_check(cg_http_req *req)
{
    static const char *const known[] = {"format", NULL};
    static const char *const formats[] = {"json", "geojson", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    int format;
    const char *body;
    size_t len;
    if (query_choice(req, "format", formats, &format, &err) != 0 ||
        cg_http_atlas_findings(req, cg_http_scope(req), format == FORMAT_GEOJSON, &body, &len,
                               &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    /* The body belongs to the atlas this request holds until it completes. */
    cg_http_reply_static(req, 200, format == FORMAT_GEOJSON ? CONTENT_GEOJSON : CONTENT_JSON, body,
                         len);
}

/* ---- GET /api/v1/locate ---- */

static void write_point(cg_buf *b, cg_point p)
{
    cg_buf_printf(b, "{\"lon\":%.7f,\"lat\":%.7f}", p.x, p.y);
}

/* "path":[...],"grid":{...} for a path of grids, root first; the grid object (the deepest)
 * carries no coordinates, so it does not depend on crs. */
static void write_path(cg_buf *b, const cg_atlas *a, const size_t *path, size_t n)
{
    cg_buf_puts(b, "\"path\":[");
    for (size_t k = 0; k < n; k++) {
        const cg_grid *g = cg_atlas_grid(a, path[k]);
        cg_buf_puts(b, "{\"code\":");
        cg_json_write_string(b, g->code);
        cg_buf_puts(b, ",\"name_zh\":");
        cg_json_write_string(b, g->name_zh);
        cg_buf_puts(b, ",\"name_en\":");
        cg_json_write_string(b, g->name_en);
        cg_buf_puts(b, ",\"level\":");
        cg_json_write_string(b, cg_level_name(g->level));
        cg_buf_puts(b, k + 1 < n ? "}," : "}");
    }
    cg_buf_puts(b, "],\"grid\":");
    cg_grid_write_json(b, cg_atlas_grid(a, path[n - 1]), 0, CG_CRS_WGS84);
}

/* The whole path of a point whose deepest grid is i: i's chain of ancestors. */
static void render_locate(cg_buf *b, const cg_atlas *a, size_t i)
{
    size_t chain[LOCATE_MAX_DEPTH], path[LOCATE_MAX_DEPTH], depth = 0;
    for (long at = (long)i; at >= 0 && depth < LOCATE_MAX_DEPTH;
         at = cg_atlas_parent(a, (size_t)at))
        chain[depth++] = (size_t)at;
    for (size_t k = 0; k < depth; k++)
        path[k] = chain[depth - 1 - k];
    write_path(b, a, path, depth);
}

static void handle_locate(cg_http_req *req)
{
    static const char *const known[] = {"lat", "lon", "crs", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_point in;
    cg_crs crs;
    int present;
    if (cg_query_double(&req->query, "lat", 1, -90, 90, &in.y, &present, &err) != 0 ||
        cg_query_double(&req->query, "lon", 1, -180, 180, &in.x, &present, &err) != 0 ||
        query_crs(req, &crs, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_point wgs = cg_crs_to_wgs84(crs, in);
    const cg_atlas *a = cg_http_atlas(req);
    const cg_scope *scope = cg_http_scope(req);
    int whole = scope->code[0] == '\0';
    size_t path[LOCATE_MAX_DEPTH];
    size_t depth = cg_atlas_locate_in(a, scope, wgs, path, LOCATE_MAX_DEPTH);
    cg_buf *b = cg_http_scratch(req);
    cg_buf_printf(b, "{\"point\":{\"lon\":%.7f,\"lat\":%.7f,\"crs\":\"%s\",\"wgs84\":", in.x, in.y,
                  cg_crs_name(crs));
    write_point(b, wgs);
    cg_buf_puts(b, "},");
    if (depth && !whole) {
        write_path(b, a, path, depth); /* a part of the path: not the shared rendering */
    } else if (depth) {
        const char *tail;
        size_t len;
        cg_http_atlas_cached(req, CG_HTTP_CACHE_LOCATE, path[depth - 1], render_locate, &tail,
                             &len);
        cg_buf_append(b, tail, len);
    } else {
        cg_buf_puts(b, "\"path\":[],\"grid\":null");
    }
    cg_buf_putc(b, '}');
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

/* ---- GET /api/v1/openapi.json ---- */

static void handle_openapi(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    if (check_params(req, known) != 0)
        return;
    cg_http_reply_static(req, 200, CONTENT_JSON, cg_openapi_json, cg_openapi_json_len());
}

/* Literal segments before placeholders: /grids/check must be tried before /grids/{code}. */
const cg_route cg_api_routes[] = {
    {"GET", "/healthz", handle_healthz,
     "liveness (with schema version and grid count when logged in)", CG_PERM_PUBLIC},
    {"GET", "/api/v1/grids", handle_grids, "list grids (flat, tree or GeoJSON)", CG_PERM_GRID_READ},
    {"GET", "/api/v1/grids/check", handle_check, "topology findings of the current grids",
     CG_PERM_GRID_CHECK},
    {"GET", "/api/v1/grids/{code}", handle_grid, "one current grid with its geometry",
     CG_PERM_GRID_READ},
    {"GET", "/api/v1/grids/{code}/history", handle_grid_history, "every version of a grid",
     CG_PERM_GRID_READ},
    {"GET", "/api/v1/locate", handle_locate, "the grid path of a point", CG_PERM_LOCATE},
    {"GET", "/api/v1/openapi.json", handle_openapi, "this API as an OpenAPI 3 document",
     CG_PERM_PUBLIC},
};
const size_t cg_api_routes_count = sizeof cg_api_routes / sizeof cg_api_routes[0];
