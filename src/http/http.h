/*
 * What a request handler sees: the request (method, decoded path, query, route parameters, an
 * arena that lives until the response has been sent) and the calls that answer it. server.c
 * implements this on top of libmicrohttpd; api_v1.c and static.c are written against it only,
 * so no handler touches libmicrohttpd directly.
 */
#ifndef CG_HTTP_HTTP_H
#define CG_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "app/atlas.h"
#include "app/cases.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "http/config.h"
#include "http/query.h"
#include "http/router.h"
#include "store/store.h"

#define CG_HTTP_MAX_EXTRA_HEADERS 6

typedef struct cg_http_server cg_http_server;
typedef struct cg_atlas_ref cg_atlas_ref;
typedef struct cg_case_rules_ref cg_case_rules_ref;

/* Who is asking (http/auth.c fills it before the handler runs). Anonymous callers have
 * account.id 0, no roles and an empty scope that contains nothing. */
typedef struct {
    int logged_in;
    cg_account account;
    int session_kind; /* CG_SESSION_COOKIE or CG_SESSION_BEARER; 0 when anonymous */
    char token_hash[CG_SHA256_HEX];
    char csrf[48];
    int64_t expires_at;
} cg_http_auth;

struct cg_http_req {
    cg_arena *arena;
    cg_http_server *server;
    const char *method;
    const char *path; /* percent-decoded */
    const char *raw_uri;
    cg_query query;
    const char *params[CG_ROUTE_MAX_PARAMS];
    const cg_route *route;
    const char *client;  /* the client's address (behind a trusted proxy: its X-Forwarded-For) */
    int secure;          /* came over TLS (a trusted proxy said X-Forwarded-Proto: https) */
    const char *body_in; /* the request body, NUL-terminated ("" when none) */
    size_t body_in_len;
    cg_http_auth auth; /* the caller */

    /* The answer, set by exactly one cg_http_reply* call. */
    int status;
    const char *content_type;
    const char *body;
    size_t body_len;
    char *owned_body; /* malloc'd body handed to libmicrohttpd to free (large responses) */
    int fd;           /* file to send instead of body, or -1 */
    uint64_t fd_size;
    const char *headers[CG_HTTP_MAX_EXTRA_HEADERS][2];
    size_t n_headers;

    /* Bookkeeping for the server. */
    long long start_ns;
    long long body_bytes_seen;
    int dispatched, replied;
    cg_atlas_ref *atlas_ref;
    cg_case_rules_ref *case_rules; /* the case rules this request holds (cases_ctx.c) */
    void *connection;              /* the libmicrohttpd connection, for header lookups */
    cg_buf upload;                 /* the body as it arrives (up to the limit) */
    long long body_limit;          /* the server's max_body, or the route's larger limit */
    int large_body;                /* counted among the large uploads in flight */
    int rate_taken;                /* the gate took this request's rate-limit token already */
    /* A deferred reply (cg_http_defer): the continuation and whether it was woken. */
    void (*cont)(cg_http_req *req, void *arg);
    void *cont_arg;
    int deferred;
    _Atomic int woken;
};

/* Answers with a body built in b; b is left empty for reuse. */
void cg_http_reply(cg_http_req *req, int status, const char *content_type, cg_buf *b);
/* Answers with a constant body (not copied). */
void cg_http_reply_static(cg_http_req *req, int status, const char *content_type, const char *body,
                          size_t len);
/* The one error shape: {"error":{"code":..,"message":..,"field":..}} with the code's status. */
void cg_http_reply_error(cg_http_req *req, const cg_err *err);
/* The same shape with a status and code no cg_code carries (401 "unauthenticated", 403
 * "forbidden", 429 "rate_limited"). field may be NULL. */
void cg_http_reply_error_as(cg_http_req *req, int status, const char *code, const char *field,
                            const char *message);
/* A request header (case-insensitive name), or NULL. */
const char *cg_http_header(cg_http_req *req, const char *name);
/* The server's configuration (session lifetimes, rate limits, trusted proxies). */
const cg_http_config *cg_http_config_of(cg_http_req *req);
/* Sends size bytes of an open file; the server closes fd. */
void cg_http_reply_fd(cg_http_req *req, int fd, uint64_t size, const char *content_type);
/* Adds a response header; name and value must outlive the request (use the arena). */
void cg_http_add_header(cg_http_req *req, const char *name, const char *value);

/*
 * Deferred replies, for handlers that wait on another thread (a case's group commit) without
 * blocking their worker thread and every other connection it serves. cg_http_defer parks the
 * request: the handler returns without answering and the connection is suspended (no timeout
 * runs meanwhile). Once some thread calls cg_http_resume, `cont` runs on the request's worker
 * thread, with the request's arena, and answers as a handler does. The connection stays open
 * while parked (a client that went away is noticed after the answer), and a shutdown waits for
 * parked requests like any other in flight. cg_http_resume must be called exactly once after
 * cg_http_defer, from any thread (even from the handler itself, when the work failed to start).
 */
typedef void (*cg_http_resume_fn)(cg_http_req *req, void *arg);
void cg_http_defer(cg_http_req *req, cg_http_resume_fn cont, void *arg);
void cg_http_resume(cg_http_req *req);

/* Takes the request body out of the request (the caller frees it; NUL-terminated), so a large
 * upload can outlive the request without being copied: a background job's input. */
char *cg_http_body_take(cg_http_req *req, size_t *len);

/* A per-thread buffer for building a response, emptied on each call. */
cg_buf *cg_http_scratch(cg_http_req *req);
/* This worker thread's store connection, opened on first use. */
int cg_http_store(cg_http_req *req, cg_store **out, cg_err *err);
/* The current atlas, held for the rest of the request even if a reload swaps in a newer one. */
const cg_atlas *cg_http_atlas(cg_http_req *req);
/*
 * JSON that depends only on grid i of the request's atlas (a grid with its geometry, a locate
 * answer's path), rendered by `render` the first time it is asked for and shared by every later
 * request on the same atlas. Valid until the request completes. Rendering coordinates is most
 * of the cost of the hot routes; this makes them a copy.
 */
typedef enum { CG_HTTP_CACHE_GRID, CG_HTTP_CACHE_LOCATE, CG_HTTP_CACHE_KINDS } cg_http_cache_kind;
typedef void (*cg_http_render)(cg_buf *b, const cg_atlas *a, size_t i);
void cg_http_atlas_cached(cg_http_req *req, cg_http_cache_kind kind, size_t i,
                          cg_http_render render, const char **body, size_t *len);
/* The topology findings of the atlas this request holds, computed once per atlas and cached,
 * as {"findings":[...],"count":N} JSON or as a GeoJSON FeatureCollection: only findings on grids
 * within `scope` (for the unrestricted scope, the cached document itself). A finding whose
 * other grid lies outside the scope is reported without naming it. */
int cg_http_atlas_findings(cg_http_req *req, const cg_scope *scope, int geojson, const char **body,
                           size_t *len, cg_err *err);
/*
 * The case service for this request (http/cases_ctx.c): the thread's store, the request's atlas,
 * the current case rules (reloaded when the rules generation changes), the server's intake
 * queue, the photo directory, and the caller's scope, roles and actor; now = the request time.
 * A logged-in caller gets the account's scope and roles. An anonymous caller (the public
 * Open311 routes) gets roles 0 and scope NULL (unrestricted): the state machine lets it only
 * report, and the public handlers must show only public fields.
 */
int cg_http_case_ctx(cg_http_req *req, cg_case_ctx *ctx, cg_err *err);
/*
 * cg_cases_submit for a handler, without blocking the worker thread on the commit: validates on
 * the spot, queues the insert on the server's intake and defers the reply (cg_http_defer); once
 * the batch is committed, `done` runs on the worker thread with a fresh context (ctx from
 * cg_http_case_ctx), the case (out, which must live in the request's arena) and what
 * cg_cases_submit would have given (err NULL on success; ctx is only usable then). `done` runs
 * exactly once, perhaps before this returns (refused input), and must answer; the handler must
 * not answer after calling this. The strings of `in` are needed only until this returns.
 */
typedef void (*cg_http_case_done_fn)(cg_http_req *req, const cg_case_ctx *ctx, cg_case *c,
                                     int replayed, const cg_err *err, void *arg);
void cg_http_case_submit(cg_http_req *req, const cg_case_ctx *ctx, const cg_case_input *in,
                         cg_case *out, cg_http_case_done_fn done, void *arg);

/*
 * Routes that accept bodies larger than the server's max_body (photo uploads). For these the
 * server runs the gate (authentication, permission, CSRF) on the headers, before reading a byte
 * of body, so only a caller allowed to use the route can send that much, and it holds at most
 * CG_HTTP_LARGE_BODIES_MAX such bodies in memory at once (503 beyond).
 */
typedef struct {
    const char *method, *pattern; /* as in the route table */
    long long max_body;           /* bytes, or CG_HTTP_BODY_LIMIT_IMPORT */
} cg_http_body_limit;
/* A max_body that stands for the configured max_import_body (grid imports). */
#define CG_HTTP_BODY_LIMIT_IMPORT (-1LL)
extern const cg_http_body_limit cg_http_body_limits[];
extern const size_t cg_http_body_limits_count;
#define CG_HTTP_LARGE_BODIES_MAX 16
/* The directory of the web console, or "" when none is served. */
const char *cg_http_web_dir(cg_http_req *req);

/* The API route table (api_v1.c) and the static-file fallback (static.c). */
extern const cg_route cg_api_routes[];
extern const size_t cg_api_routes_count;
/* Login, sessions, accounts, grid teams and the audit log (api_access.c). */
extern const cg_route cg_access_routes[];
extern const size_t cg_access_routes_count;
/* Isochrones, coverage, dispatch and post planning on the road network (api_plan.c). */
extern const cg_route cg_plan_routes[];
extern const size_t cg_plan_routes_count;
/* The road-network routes (api_net.c). */
extern const cg_route cg_net_routes[];
extern const size_t cg_net_routes_count;
/* The staff API for cases, categories, the calendar and case statistics (api_cases.c). */
extern const cg_route cg_case_routes[];
extern const size_t cg_case_routes_count;
/* Open311 GeoReport v2 at /open311/v2/ (open311.c), all public. */
extern const cg_route cg_open311_routes[];
extern const size_t cg_open311_routes_count;
/* Grid imports from the console: upload, then a background job with progress (api_import.c). */
extern const cg_route cg_import_routes[];
extern const size_t cg_import_routes_count;
/* The base map: vector tiles of roads, buildings and area outlines, public (api_map.c). */
extern const cg_route cg_map_routes[];
extern const size_t cg_map_routes_count;
/* Every route the server answers: the areas' tables in order (http/routes.c). */
const cg_route *cg_http_routes(size_t *count);
void cg_http_static_serve(cg_http_req *req);

/* The built-in page answering GET / when there is no web directory (landing.c). */
extern const char cg_landing_html[];
void cg_http_landing_serve(cg_http_req *req);

/* The OpenAPI document served at /api/v1/openapi.json (openapi.c). */
extern const char cg_openapi_json[];
size_t cg_openapi_json_len(void);

#endif
