/*
 * The road-network area of API v1: GET /api/v1/route. Graphs are the files `civgrid net build`
 * writes beside the database (DB.car.graph, ...), mapped on first use per profile and mapped
 * again when the file changes (a rebuild renames a new file into place); a request holds the
 * graph it started with, so a swap never pulls it away mid-query. Search workspaces (a few bytes
 * per node each) are pooled per graph rather than allocated per request.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/http.h"
#include "net/route.h"

#define CONTENT_GEOJSON "application/geo+json"
#define POOL_MAX        8

typedef struct loaded {
    cg_graph *g;
    struct timespec mtime;
    ino_t ino;
    int refs; /* requests holding it, plus one while it is the current graph */
    cg_search *pool[POOL_MAX];
    int n_pool;
} loaded;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static loaded *current[CG_PROFILE_COUNT];

static void release_locked(loaded *l)
{
    if (--l->refs > 0)
        return;
    for (int i = 0; i < l->n_pool; i++)
        cg_search_free(l->pool[i]);
    cg_graph_free(l->g);
    free(l);
}

/* The current graph for profile p (loading or reloading it), with one reference taken. */
static int acquire(cg_http_req *req, cg_profile p, loaded **out, cg_err *err)
{
    char path[1200];
    if (cg_graph_path(cg_http_config_of(req)->db, p, path, sizeof path, err))
        return -1;
    struct stat sb;
    int have = stat(path, &sb) == 0;
    pthread_mutex_lock(&lock);
    loaded *l = current[p];
    if (l && have && l->ino == sb.st_ino && l->mtime.tv_sec == sb.st_mtim.tv_sec &&
        l->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
        l->refs++;
        pthread_mutex_unlock(&lock);
        *out = l;
        return 0;
    }
    cg_store *s;
    loaded *n = calloc(1, sizeof *n);
    int rc = -1;
    if (!n)
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    else if (cg_http_store(req, &s, err) == 0 && cg_graph_load(path, p, s, &n->g, err) == 0)
        rc = 0;
    if (rc) {
        free(n);
        pthread_mutex_unlock(&lock);
        return -1;
    }
    n->ino = sb.st_ino;
    n->mtime = sb.st_mtim;
    n->refs = 2;
    if (l)
        release_locked(l);
    current[p] = n;
    pthread_mutex_unlock(&lock);
    *out = n;
    return 0;
}

static int take_search(loaded *l, cg_search **out, cg_err *err)
{
    pthread_mutex_lock(&lock);
    cg_search *s = l->n_pool ? l->pool[--l->n_pool] : NULL;
    pthread_mutex_unlock(&lock);
    if (s) {
        *out = s;
        return 0;
    }
    return cg_search_new(l->g, out, err);
}

static void give_back(loaded *l, cg_search *s)
{
    pthread_mutex_lock(&lock);
    if (s && l->n_pool < POOL_MAX)
        l->pool[l->n_pool++] = s;
    else
        cg_search_free(s);
    release_locked(l);
    pthread_mutex_unlock(&lock);
}

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
    loaded *l;
    if (acquire(req, p, &l, &err)) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_snap a, b;
    cg_search *s = NULL;
    cg_path route = {0};
    int rc = 0;
    if (cg_graph_snap(l->g, from, CG_SNAP_MAX_M, &a, &err)) {
        snprintf(err.field, sizeof err.field, "from");
        rc = -1;
    } else if (cg_graph_snap(l->g, to, CG_SNAP_MAX_M, &b, &err)) {
        snprintf(err.field, sizeof err.field, "to");
        rc = -1;
    }
    if (!rc)
        rc = take_search(l, &s, &err) || cg_route_ch(s, &a, &b, 1, &route, &err);
    give_back(l, s);
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
