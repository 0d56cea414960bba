/*
 * The road-network area of API v1: GET /api/v1/route, on the graphs of http/graphs.h (mapped on
 * first use per profile, mapped again when `civgrid net build` replaces the file).
 */
#include <stdio.h>

#include "http/graphs.h"
#include "http/http.h"
#include "net/route.h"

#define CONTENT_GEOJSON "application/geo+json"

/* ---- GET /api/v1/route ---- */

static void handle_route(cg_http_req *req)
{
    static const char *const known[] = {"from", "to", "profile", NULL};
    cg_err err = {0};
    cg_profile p = CG_PROFILE_CAR;
    cg_point from, to;
    const char *ps = cg_query_get(&req->query, "profile");
    if (cg_query_check_known(&req->query, known, &err) || (ps && cg_profile_parse(ps, &p, &err)) ||
        cg_route_parse_latlon(cg_query_get(&req->query, "from"), "from", &from, &err) ||
        cg_route_parse_latlon(cg_query_get(&req->query, "to"), "to", &to, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_http_graph *l;
    if (cg_http_graph_acquire(req, p, &l, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_snap a, b;
    cg_search *s = NULL;
    cg_path route = {0};
    int rc = 0;
    const cg_graph *g = cg_http_graph_get(l);
    if (cg_graph_snap(g, from, CG_SNAP_MAX_M, &a, &err)) {
        snprintf(err.field, sizeof err.field, "from");
        rc = -1;
    } else if (cg_graph_snap(g, to, CG_SNAP_MAX_M, &b, &err)) {
        snprintf(err.field, sizeof err.field, "to");
        rc = -1;
    }
    if (!rc)
        rc = cg_http_graph_search(l, &s, &err) || cg_route_ch(s, &a, &b, 1, &route, &err);
    cg_http_graph_release(l, s);
    if (rc) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf *out = cg_http_scratch(req);
    cg_path_write_geojson(out, &route, p);
    cg_path_free(&route);
    cg_http_reply(req, 200, CONTENT_GEOJSON, out);
}

const cg_route cg_net_routes[] = {
    {"GET", "/api/v1/route", handle_route,
     "the fastest route between two points on the road network (GeoJSON)", CG_PERM_LOCATE},
};
const size_t cg_net_routes_count = sizeof cg_net_routes / sizeof cg_net_routes[0];
