/*
 * The router: a table of (method, path pattern, handler). A pattern is a path whose segments are
 * literals or "{name}" placeholders, or a mix of both within a segment ("requests.{format}",
 * "{id}.{format}": Open311's format suffixes), written exactly as the OpenAPI document spells
 * them, so the table and the document can be compared route for route. Literal segments win over
 * placeholders because the table is searched in order: list "/grids/check" before
 * "/grids/{code}".
 */
#ifndef CG_HTTP_ROUTER_H
#define CG_HTTP_ROUTER_H

#include <stddef.h>

#include "core/arena.h"
#include "model/access.h"

#define CG_ROUTE_MAX_PARAMS 4

typedef struct cg_http_req cg_http_req;
typedef void (*cg_http_handler)(cg_http_req *req);

/*
 * What a route needs, checked by the dispatcher before its handler runs (http/auth.c): a
 * permission of the one table in model/access.h, or CG_ROUTE_ACCOUNT for "any logged-in
 * account" (logout, who am I). A table that leaves `perm` out gets 0, CG_PERM_GRID_READ, which
 * needs a login: a forgotten declaration fails closed, never open.
 */
#define CG_ROUTE_ACCOUNT ((int)CG_PERM_COUNT)

/* Which per-address token bucket an anonymous call takes from (config.h): logins have their own,
 * and so do base-map tiles (http/auth.c names their routes), so panning a map never uses up what
 * a resident's report needs. Everything else public takes from CG_RATE_PUBLIC. */
typedef enum { CG_RATE_PUBLIC, CG_RATE_LOGIN, CG_RATE_TILES } cg_rate_bucket;

typedef struct {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/grids/{code}" */
    cg_http_handler handler;
    const char *summary; /* one line, for --routes */
    int perm;            /* a cg_perm, or CG_ROUTE_ACCOUNT */
} cg_route;

typedef enum {
    CG_ROUTE_FOUND,      /* *route and params are set */
    CG_ROUTE_NO_PATH,    /* no pattern matches the path: 404 */
    CG_ROUTE_BAD_METHOD, /* the path exists under other methods, listed in allow: 405 */
} cg_route_result;

/*
 * Matches a decoded path. Placeholder values are copied into the arena and stored in params[] in
 * the order they appear in the pattern. HEAD matches a GET route (the server sends no body).
 * allow receives "GET, HEAD" style lists for CG_ROUTE_BAD_METHOD.
 */
cg_route_result cg_route_match(const cg_route *routes, size_t n, const char *method,
                               const char *path, cg_arena *a, const cg_route **route,
                               const char *params[CG_ROUTE_MAX_PARAMS], char *allow,
                               size_t allow_cap);

#endif
