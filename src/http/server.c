/*
 * The server on libmicrohttpd: a thread pool of epoll loops, each connection served start to end
 * by one worker thread. This file owns everything with a lifetime longer than a request:
 *
 *  - per worker thread (thread-local, created lazily): a store connection, a small pool of
 *    arenas and a scratch buffer, so a request on the hot path costs no malloc of ours;
 *  - per request: an arena taken from the pool when the request line arrives (libmicrohttpd's
 *    URI log callback, which also makes the request context), returned when the response has
 *    been sent (the completion callback, which also writes the access log line);
 *  - per server: the shared atlas, swapped by a reloader thread that looks at the store's grid
 *    generation once a second. Requests hold a reference to the atlas they started with, so a
 *    swap never frees an atlas under a request (reference counting under a short mutex).
 *
 * Bodies: a Content-Length over the limit is answered 413 from the headers alone, before a byte
 * of body is read; a body within the limit is kept (per request, freed at completion) for the
 * routes that read JSON; a chunked body past the limit is counted, not kept, and answered 413.
 * The limit is max_body, or a larger one for the few routes of cg_http_body_limits (photos):
 * those pass the gate on their headers first, and only CG_HTTP_LARGE_BODIES_MAX of them are
 * held at once.
 *
 * Cases (http/cases_ctx.c): the rules cache, the intake queue and the case timer thread live
 * as long as the server; the intake is closed before the workers stop (so no request is left
 * suspended) and freed after them, the timer before the atlas goes.
 *
 * Deferred replies (cg_http_defer): a handler that waits on another thread (a new case's group
 * commit) suspends its connection instead of blocking the worker, which goes on serving its
 * other connections; cg_http_resume (any thread) wakes it, and libmicrohttpd calls on_request
 * again on the same worker, where the continuation answers. The request keeps its arena, atlas
 * and rules meanwhile and counts as in flight, so a shutdown drains it. Suspended connections
 * do not time out; the access log's time includes the wait.
 *
 * Every routed request passes the gate of http/auth.c first (who is asking, may they, CSRF, rate
 * limits). The access log never holds a credential: no headers are logged, bodies never are, and
 * query parameters that look like credentials are refused and their values blanked in the log.
 */
#include "app/maintenance.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "geo/geojson.h"
#include "http/auth.h"
#include "http/cases_state.h"
#include "http/http.h"
#include "http/imports_state.h"

#define ARENA_BLOCK    16384
#define ARENA_POOL_MAX 16
#define COPY_BODY_MAX  (256 * 1024) /* larger bodies are handed over, not copied */

/* A rendered piece of JSON that depends only on one grid of one atlas. */
typedef struct {
    size_t len;
    char data[];
} cached_json;

struct cg_atlas_ref {
    cg_atlas *atlas;
    atomic_int refs;
    /* per cache kind, one slot per atlas grid, filled on first request */
    _Atomic(cached_json *) *cache[CG_HTTP_CACHE_KINDS];
    pthread_mutex_t findings_lock;
    int findings_done, findings_rc;
    cg_err findings_err;
    cg_finding *findings;
    size_t n_findings;
    cg_buf findings_json, findings_geojson;
};

struct cg_http_server {
    cg_http_config cfg;
    struct MHD_Daemon *daemon;
    int listen_fd, port;
    atomic_uint in_flight;
    atomic_int closing;

    FILE *access_log; /* NULL: none; stderr lines go out with one write(2) each */
    int access_log_is_file;

    cg_rate_limiter *public_limiter, *login_limiter, *tile_limiter;
    atomic_uint large_bodies; /* raised-limit uploads in flight */
    cg_http_cases *cases;
    cg_http_imports *imports;

    pthread_mutex_t atlas_lock;
    cg_atlas_ref *atlas;

    cg_store *reload_store; /* owned by the reloader thread once it runs */
    pthread_t reloader;
    int reloader_running, stop_reloader;
    long long next_maintenance; /* Unix time of the next housekeeping run */
    pthread_mutex_t reload_mu;
    pthread_cond_t reload_cv;
};

/* ---- per-thread state ---- */

typedef struct {
    cg_store *store;
    cg_arena *arenas[ARENA_POOL_MAX];
    size_t n_arenas;
    cg_buf scratch;
} worker_state;

static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

static void worker_state_free(void *p)
{
    worker_state *w = p;
    if (w->store)
        cg_store_close(w->store);
    for (size_t i = 0; i < w->n_arenas; i++)
        cg_arena_free(w->arenas[i]);
    cg_buf_free(&w->scratch);
    free(w);
}

static void worker_key_make(void)
{
    int rc = pthread_key_create(&worker_key, worker_state_free);
    assert(rc == 0);
    (void)rc;
}

static worker_state *worker_get(void)
{
    pthread_once(&worker_once, worker_key_make);
    worker_state *w = pthread_getspecific(worker_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            abort();
        cg_buf_init(&w->scratch);
        pthread_setspecific(worker_key, w);
    }
    return w;
}

/* ---- the shared atlas ---- */

static cg_atlas_ref *atlas_ref_new(cg_atlas *a)
{
    cg_atlas_ref *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->atlas = a;
    atomic_init(&r->refs, 1);
    for (int k = 0; k < CG_HTTP_CACHE_KINDS; k++) {
        r->cache[k] = calloc(cg_atlas_count(a) + 1, sizeof *r->cache[k]);
        if (!r->cache[k])
            abort();
    }
    pthread_mutex_init(&r->findings_lock, NULL);
    cg_buf_init(&r->findings_json);
    cg_buf_init(&r->findings_geojson);
    return r;
}

static void atlas_ref_release(cg_atlas_ref *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (int k = 0; k < CG_HTTP_CACHE_KINDS; k++) {
        for (size_t i = 0; i < cg_atlas_count(r->atlas); i++)
            free(atomic_load(&r->cache[k][i]));
        free(r->cache[k]);
    }
    cg_findings_free(r->findings, r->n_findings);
    cg_atlas_free(r->atlas);
    pthread_mutex_destroy(&r->findings_lock);
    cg_buf_free(&r->findings_json);
    cg_buf_free(&r->findings_geojson);
    free(r);
}

static cg_atlas_ref *atlas_acquire(cg_http_server *s)
{
    pthread_mutex_lock(&s->atlas_lock);
    cg_atlas_ref *r = s->atlas;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&s->atlas_lock);
    return r;
}

cg_atlas_ref *cg_http_server_atlas_hold(cg_http_server *s)
{
    return atlas_acquire(s);
}

const cg_atlas *cg_http_atlas_ref_atlas(const cg_atlas_ref *r)
{
    return r->atlas;
}

void cg_http_server_atlas_release(cg_atlas_ref *r)
{
    atlas_ref_release(r);
}

cg_http_cases *cg_http_server_cases(cg_http_server *s)
{
    return s->cases;
}

cg_http_imports *cg_http_server_imports(cg_http_server *s)
{
    return s->imports;
}

char *cg_http_body_take(cg_http_req *req, size_t *len)
{
    char *data = cg_buf_detach(&req->upload, len);
    req->body_in = "";
    req->body_in_len = 0;
    return data;
}

const cg_atlas *cg_http_atlas(cg_http_req *req)
{
    if (!req->atlas_ref)
        req->atlas_ref = atlas_acquire(req->server);
    return req->atlas_ref->atlas;
}

void cg_http_atlas_cached(cg_http_req *req, cg_http_cache_kind kind, size_t i,
                          cg_http_render render, const char **body, size_t *len)
{
    const cg_atlas *a = cg_http_atlas(req);
    cg_atlas_ref *r = req->atlas_ref;
    assert(kind < CG_HTTP_CACHE_KINDS && i < cg_atlas_count(a));
    _Atomic(cached_json *) *slot = &r->cache[kind][i];
    cached_json *c = atomic_load_explicit(slot, memory_order_acquire);
    if (!c) {
        /* An atlas never changes, so render once and publish with a compare-and-swap; a
         * racing thread's copy is simply dropped. */
        cg_buf b; /* not the scratch buffer: the caller may be building its answer there */
        cg_buf_init(&b);
        render(&b, a, i);
        cached_json *fresh = malloc(sizeof *fresh + b.len + 1);
        if (!fresh)
            abort();
        fresh->len = b.len;
        memcpy(fresh->data, b.data ? b.data : "", b.len + 1);
        cg_buf_free(&b);
        cached_json *expected = NULL;
        if (atomic_compare_exchange_strong(slot, &expected, fresh)) {
            c = fresh;
        } else {
            free(fresh);
            c = expected;
        }
    }
    *body = c->data;
    *len = c->len;
}

/*
 * The findings a scope may see: those on grids in it. A finding's other grid (the overlapping
 * sibling, the parent) outside the scope is not named, in the fields or in the reason.
 */
static size_t findings_in_scope(const cg_atlas *a, const cg_scope *scope, const cg_finding *all,
                                size_t n, cg_finding *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cg_scope_contains(scope, cg_atlas_grid(a, (size_t)all[i].item)->code))
            continue;
        cg_finding *f = &out[kept++];
        *f = all[i]; /* shares the geometry: never freed through `out` */
        if (f->other < 0 || cg_scope_contains(scope, cg_atlas_grid(a, (size_t)f->other)->code))
            continue;
        const char *other = cg_atlas_grid(a, (size_t)f->other)->code;
        char *at = strstr(f->reason, other);
        if (at) {
            char rest[sizeof f->reason];
            snprintf(rest, sizeof rest, "%s", at + strlen(other));
            snprintf(at, sizeof f->reason - (size_t)(at - f->reason), "a grid outside your scope%s",
                     rest);
        }
        f->other = -1;
    }
    return kept;
}

static void findings_write_json(const cg_atlas *a, const cg_finding *f, size_t n, cg_buf *b)
{
    cg_buf_puts(b, "{\"findings\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            cg_buf_putc(b, ',');
        cg_buf_puts(b, "{\"kind\":");
        cg_json_write_string(b, cg_finding_kind_name(f[i].kind));
        cg_buf_puts(b, ",\"code\":");
        cg_json_write_string(b, cg_atlas_grid(a, (size_t)f[i].item)->code);
        cg_buf_puts(b, ",\"other_code\":");
        if (f[i].other >= 0)
            cg_json_write_string(b, cg_atlas_grid(a, (size_t)f[i].other)->code);
        else
            cg_buf_puts(b, "null");
        cg_buf_printf(b, ",\"area_m2\":%.1f,\"reason\":", f[i].area_m2);
        cg_json_write_string(b, f[i].reason);
        cg_buf_printf(b, ",\"point\":{\"lon\":%.7f,\"lat\":%.7f}}", f[i].at.x, f[i].at.y);
    }
    cg_buf_printf(b, "],\"count\":%zu}", n);
}

int cg_http_atlas_findings(cg_http_req *req, const cg_scope *scope, int geojson, const char **body,
                           size_t *len, cg_err *err)
{
    const cg_atlas *a = cg_http_atlas(req);
    cg_atlas_ref *r = req->atlas_ref;
    /* The check is the costliest thing the server does (GEOS over every grid); an atlas never
     * changes, so the first request computes it and the rest share the answer. */
    pthread_mutex_lock(&r->findings_lock);
    if (!r->findings_done) {
        cg_finding *f = NULL;
        size_t n = 0;
        r->findings_rc = cg_atlas_check(a, NULL, &f, &n, &r->findings_err);
        if (r->findings_rc == 0) {
            findings_write_json(a, f, n, &r->findings_json);
            cg_atlas_findings_geojson(a, f, n, &r->findings_geojson);
            r->findings = f;
            r->n_findings = n;
        }
        r->findings_done = 1;
    }
    pthread_mutex_unlock(&r->findings_lock);
    if (r->findings_rc != 0) {
        *err = r->findings_err;
        return -1;
    }
    if (scope->code[0] == '\0') {
        const cg_buf *b = geojson ? &r->findings_geojson : &r->findings_json;
        *body = b->data;
        *len = b->len;
        return 0;
    }
    cg_finding *mine = cg_arena_alloc(req->arena, sizeof(cg_finding) * (r->n_findings + 1));
    size_t n = findings_in_scope(a, scope, r->findings, r->n_findings, mine);
    cg_buf *b = cg_http_scratch(req);
    if (geojson)
        cg_atlas_findings_geojson(a, mine, n, b);
    else
        findings_write_json(a, mine, n, b);
    *body = cg_arena_strndup(req->arena, b->data ? b->data : "", b->len);
    *len = b->len;
    cg_buf_reset(b);
    return 0;
}

/*
 * A database that could only be opened for reading (its file or file system read-only) is
 * served read-only: reads work, writes answer 503. Once the file can be written again, the
 * connection is opened afresh, so writes resume without a restart. The check costs one
 * access(2) per request, and only while the database is read-only.
 */
static void reopen_if_writable(cg_store **store)
{
    cg_err err;
    cg_err_clear(&err);
    switch (cg_store_reopen_if_writable(store, &err)) {
    case 1:
        cg_log_info("the database is writable again");
        break;
    case -1:
        cg_log_warn("the database looks writable again but could not be reopened (still "
                    "read-only): %s",
                    err.message);
        break;
    }
}

static void reload_if_changed(cg_http_server *s)
{
    int64_t gen = cg_store_grid_generation(s->reload_store);
    /* Only this thread replaces s->atlas, so reading it unlocked here is safe. */
    if (gen == cg_atlas_generation(s->atlas->atlas))
        return;
    cg_atlas *a;
    cg_err err;
    cg_err_clear(&err);
    if (cg_atlas_load(s->reload_store, 0, &a, &err) != 0) {
        cg_log_warn("grids changed but the atlas could not be reloaded (keeping the old one): %s",
                    err.message);
        return;
    }
    cg_atlas_ref *fresh = atlas_ref_new(a);
    pthread_mutex_lock(&s->atlas_lock);
    cg_atlas_ref *old = s->atlas;
    s->atlas = fresh;
    pthread_mutex_unlock(&s->atlas_lock);
    atlas_ref_release(old);
    cg_log_info("grids reloaded: %zu grids (generation %lld)", cg_atlas_count(a),
                (long long)cg_atlas_generation(a));
}

/*
 * Housekeeping once an hour (and at start): expired sessions and resident contacts past their
 * retention period are purged, as `civgrid maintenance` does by hand. Idempotent, so several
 * servers on one database or a restart do no harm.
 */
static void maintain_if_due(cg_http_server *s)
{
    long long now = cg_time_now();
    if (now < s->next_maintenance)
        return;
    s->next_maintenance = now + 3600;
    cg_maintenance_result r;
    cg_err err;
    cg_err_clear(&err);
    if (cg_maintenance_run(s->reload_store, now, s->cfg.retention_days, &r, &err) != 0) {
        cg_log_warn("maintenance failed (will retry in an hour): %s", err.message);
        return;
    }
    if (r.sessions_purged || r.contacts_purged)
        cg_log_info("maintenance: purged %lld expired sessions, %lld resident contacts past "
                    "%d days",
                    (long long)r.sessions_purged, (long long)r.contacts_purged,
                    s->cfg.retention_days);
}

static void *reloader_main(void *arg)
{
    cg_http_server *s = arg;
    pthread_mutex_lock(&s->reload_mu);
    while (!s->stop_reloader) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->reload_cv, &s->reload_mu, &ts);
        if (s->stop_reloader)
            break;
        pthread_mutex_unlock(&s->reload_mu);
        if (s->access_log_is_file)
            fflush(s->access_log);
        reopen_if_writable(&s->reload_store);
        reload_if_changed(s);
        maintain_if_due(s);
#ifdef __GLIBC__
        /* Parked requests (cg_http_defer) each hold an arena until their case is committed, so
         * a burst leaves free memory scattered in the workers' heaps: hand whole free pages
         * back once a second, so resident memory follows the load down again. */
        malloc_trim(0);
#endif
        pthread_mutex_lock(&s->reload_mu);
    }
    pthread_mutex_unlock(&s->reload_mu);
    return NULL;
}

/* ---- what handlers call ---- */

cg_buf *cg_http_scratch(cg_http_req *req)
{
    (void)req;
    cg_buf *b = &worker_get()->scratch;
    cg_buf_reset(b);
    return b;
}

int cg_http_store(cg_http_req *req, cg_store **out, cg_err *err)
{
    worker_state *w = worker_get();
    reopen_if_writable(&w->store);
    if (!w->store && cg_store_open(req->server->cfg.db, 0, &w->store, err) != 0) {
        w->store = NULL;
        return -1;
    }
    *out = w->store;
    return 0;
}

void cg_http_defer(cg_http_req *req, cg_http_resume_fn cont, void *arg)
{
    assert(!req->replied && !req->deferred);
    req->deferred = 1;
    req->cont = cont;
    req->cont_arg = arg;
    MHD_suspend_connection(req->connection);
}

void cg_http_resume(cg_http_req *req)
{
    atomic_store(&req->woken, 1);
    MHD_resume_connection(req->connection);
}

const char *cg_http_web_dir(cg_http_req *req)
{
    return req->server->cfg.web;
}

const cg_http_config *cg_http_config_of(cg_http_req *req)
{
    return &req->server->cfg;
}

cg_rate_limiter *cg_http_rate_limiter(cg_http_req *req, cg_rate_bucket bucket)
{
    switch (bucket) {
    case CG_RATE_LOGIN:
        return req->server->login_limiter;
    case CG_RATE_TILES:
        return req->server->tile_limiter;
    default:
        return req->server->public_limiter;
    }
}

const char *cg_http_header(cg_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

void cg_http_add_header(cg_http_req *req, const char *name, const char *value)
{
    assert(req->n_headers < CG_HTTP_MAX_EXTRA_HEADERS);
    req->headers[req->n_headers][0] = name;
    req->headers[req->n_headers][1] = value;
    req->n_headers++;
}

void cg_http_reply_static(cg_http_req *req, int status, const char *content_type, const char *body,
                          size_t len)
{
    assert(!req->replied);
    req->replied = 1;
    req->status = status;
    req->content_type = content_type;
    req->body = body;
    req->body_len = len;
}

void cg_http_reply(cg_http_req *req, int status, const char *content_type, cg_buf *b)
{
    if (b->len > COPY_BODY_MAX) {
        size_t len;
        req->owned_body = cg_buf_detach(b, &len);
        cg_http_reply_static(req, status, content_type, req->owned_body, len);
        return;
    }
    char *d = cg_arena_alloc(req->arena, b->len + 1);
    memcpy(d, b->data ? b->data : "", b->len);
    d[b->len] = '\0';
    cg_http_reply_static(req, status, content_type, d, b->len);
    cg_buf_reset(b);
}

void cg_http_reply_fd(cg_http_req *req, int fd, uint64_t size, const char *content_type)
{
    cg_http_reply_static(req, 200, content_type, NULL, 0);
    req->fd = fd;
    req->fd_size = size;
}

void cg_http_reply_error_as(cg_http_req *req, int status, const char *code, const char *field,
                            const char *message)
{
    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"error\":{\"code\":");
    cg_json_write_string(b, code);
    cg_buf_puts(b, ",\"message\":");
    cg_json_write_string(b, message);
    if (field && field[0]) {
        cg_buf_puts(b, ",\"field\":");
        cg_json_write_string(b, field);
    }
    cg_buf_puts(b, "}}");
    cg_http_reply(req, status, "application/json", b);
}

void cg_http_reply_error(cg_http_req *req, const cg_err *err)
{
    int status = cg_code_http_status(err->code);
    if (status >= 500)
        cg_log_error("%s %s: %s", req->method, req->path ? req->path : req->raw_uri, err->message);
    cg_http_reply_error_as(req, status, cg_code_name(err->code), err->field, err->message);
}

/* ---- libmicrohttpd callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)con;
    cg_http_server *s = cls;
    worker_state *w = worker_get();
    cg_arena *a = w->n_arenas ? w->arenas[--w->n_arenas] : cg_arena_new(ARENA_BLOCK);
    cg_http_req *req = cg_arena_calloc(a, 1, sizeof *req);
    req->arena = a;
    req->server = s;
    req->raw_uri = cg_arena_strdup(a, uri ? uri : "");
    req->fd = -1;
    req->client = "-";
    req->body_in = "";
    req->body_limit = s->cfg.max_body;
    cg_buf_init(&req->upload);
    req->start_ns = cg_time_mono_ns();
    return req;
}

/* The peer's address; behind a trusted proxy, the client its X-Forwarded-For names last (the
 * proxy appends the address it saw), and X-Forwarded-Proto: https marks the request as TLS. */
static void client_identify(cg_http_req *req)
{
    char addr[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
    }
    req->client = cg_arena_strdup(req->arena, addr);
    if (!cg_http_config_trusts(&req->server->cfg, addr))
        return;
    const char *proto = cg_http_header(req, "X-Forwarded-Proto");
    req->secure = proto && strcasecmp(proto, "https") == 0;
    const char *xff = cg_http_header(req, "X-Forwarded-For");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    last += strspn(last, " ");
    char copy[INET6_ADDRSTRLEN];
    size_t len = strcspn(last, " ");
    unsigned char bin[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof copy)
        return;
    memcpy(copy, last, len);
    copy[len] = '\0';
    if (inet_pton(AF_INET, copy, bin) == 1 || inet_pton(AF_INET6, copy, bin) == 1)
        req->client = cg_arena_strdup(req->arena, copy);
}

/* Query parameter names that carry credentials; they belong in headers and bodies only. */
static const char *const secret_params[] = {"token",   "access_token", "password", "session",
                                            "api_key", "csrf_token",   "secret",   NULL};

/* Does the query text at p start with a credential's parameter name? */
static int secret_param(const char *p)
{
    size_t len = strcspn(p, "=&");
    for (int i = 0; secret_params[i]; i++)
        if (strlen(secret_params[i]) == len && strncasecmp(p, secret_params[i], len) == 0)
            return 1;
    return 0;
}

static void access_log_write(cg_http_server *s, struct MHD_Connection *con, cg_http_req *req)
{
    if (req->client[0] == '-' && req->method) { /* answered before dispatch (413) */
        req->connection = con;
        client_identify(req);
    }
    const char *addr = req->client;
    /* The URI comes from the client: keep the line one line, whatever it sent, and blank the
     * value of any parameter that looks like a credential (the request itself was refused). */
    char uri[512];
    size_t n = 0;
    int blank = 0;
    for (const char *p = req->raw_uri; *p && n < sizeof uri - 1; p++) {
        if (*p == '?' || *p == '&') {
            blank = secret_param(p + 1);
        } else if (blank && *p == '=') {
            uri[n++] = '=';
            if (n < sizeof uri - 4) {
                memcpy(uri + n, "***", 3);
                n += 3;
            }
            while (p[1] && p[1] != '&')
                p++;
            continue;
        }
        uri[n++] = (*p > ' ' && *p < 127) ? *p : '?';
    }
    uri[n] = '\0';
    char when[21], status[8] = "-", line[800];
    cg_time_iso8601(cg_time_now(), when);
    if (req->replied)
        snprintf(status, sizeof status, "%d", req->status);
    uint64_t bytes = req->fd >= 0 || req->fd_size ? req->fd_size : req->body_len;
    double ms = (double)(cg_time_mono_ns() - req->start_ns) / 1e6;
    int len = snprintf(line, sizeof line, "%s %s %s %s %s %llu %.2fms\n", when, addr,
                       req->method ? req->method : "-", uri, status, (unsigned long long)bytes, ms);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof line)
        len = sizeof line - 1;
    if (s->access_log_is_file) {
        fwrite(line, 1, (size_t)len, s->access_log);
    } else {
        /* One write(2) per line keeps lines whole between threads without a lock. */
        ssize_t w = write(STDERR_FILENO, line, (size_t)len);
        (void)w;
    }
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    cg_http_server *s = cls;
    cg_http_req *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (s->access_log)
        access_log_write(s, con, req);
    if (req->atlas_ref)
        atlas_ref_release(req->atlas_ref);
    if (req->case_rules)
        cg_http_case_rules_release(req->case_rules);
    if (req->large_body)
        atomic_fetch_sub(&s->large_bodies, 1);
    if (req->fd >= 0) /* a file that never made it into a response */
        close(req->fd);
    free(req->owned_body);
    cg_buf_free(&req->upload);
    if (req->method)
        atomic_fetch_sub(&s->in_flight, 1);
    worker_state *w = worker_get();
    cg_arena *a = req->arena;
    if (w->n_arenas < ARENA_POOL_MAX) {
        cg_arena_reset(a);
        w->arenas[w->n_arenas++] = a;
    } else {
        cg_arena_free(a);
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *con, cg_http_req *req)
{
    if (!req->replied) {
        cg_err err;
        cg_err_set(&err, CG_EINTERNAL, NULL, "the handler for %s gave no answer", req->path);
        cg_http_reply_error(req, &err);
    }
    struct MHD_Response *resp;
    if (req->fd >= 0) {
        resp = MHD_create_response_from_fd64(req->fd_size, req->fd);
        if (resp)
            req->fd = -1; /* libmicrohttpd closes it now */
        else
            req->fd_size = 0;
    } else if (req->owned_body) {
        resp = MHD_create_response_from_buffer_with_free_callback(req->body_len, req->owned_body,
                                                                  free);
        if (resp)
            req->owned_body = NULL;
    } else {
        resp = MHD_create_response_from_buffer(req->body_len, (void *)req->body,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
    for (size_t i = 0; i < req->n_headers; i++)
        MHD_add_response_header(resp, req->headers[i][0], req->headers[i][1]);
    if (atomic_load(&req->server->closing))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(con, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void reply_too_large(cg_http_req *req, const char *how)
{
    cg_err err;
    cg_err_set(&err, CG_ELIMIT, "body", "request body %s exceeds the limit of %lld bytes", how,
               req->body_limit);
    cg_http_reply_error(req, &err);
}

static void dispatch(cg_http_req *req)
{
    cg_err err;
    cg_err_clear(&err);
    client_identify(req);
    const char *q = strchr(req->raw_uri, '?');
    size_t path_len = q ? (size_t)(q - req->raw_uri) : strlen(req->raw_uri);
    char *path;
    if (cg_url_decode(req->arena, req->raw_uri, path_len, 0, &path, &err) != 0) {
        snprintf(err.field, sizeof err.field, "path");
        cg_http_reply_error(req, &err);
        return;
    }
    req->path = path;
    if (path[0] != '/') {
        cg_err_set(&err, CG_EINVAL, "path", "the request target must be an absolute path");
        cg_http_reply_error(req, &err);
        return;
    }
    if (q && cg_query_parse(req->arena, q + 1, strlen(q + 1), &req->query, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    const cg_route *route;
    char allow[64];
    size_t n_routes;
    const cg_route *routes = cg_http_routes(&n_routes);
    switch (cg_route_match(routes, n_routes, req->method, path, req->arena, &route, req->params,
                           allow, sizeof allow)) {
    case CG_ROUTE_FOUND:
        for (size_t i = 0; i < req->query.n; i++)
            if (secret_param(req->query.params[i].key)) {
                cg_err_set(&err, CG_EINVAL, req->query.params[i].key,
                           "credentials are never accepted in a URL (URLs end up in logs and "
                           "browser history): send an Authorization header");
                cg_http_reply_error(req, &err);
                return;
            }
        req->route = route;
        req->body_in = req->upload.data ? req->upload.data : "";
        req->body_in_len = req->upload.len;
        if (cg_http_auth_before(req) != 0)
            return;
        route->handler(req);
        cg_http_auth_after(req);
        return;
    case CG_ROUTE_BAD_METHOD: {
        cg_http_add_header(req, MHD_HTTP_HEADER_ALLOW, cg_arena_strdup(req->arena, allow));
        char *msg = cg_arena_sprintf(req->arena, "%s is not allowed on %s (allowed: %s)",
                                     req->method, path, allow);
        cg_http_reply_error_as(req, 405, "method_not_allowed", "method", msg);
        return;
    }
    case CG_ROUTE_NO_PATH:
        break;
    }
    int is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (is_get && strncmp(path, "/api/", 5) != 0 && cg_http_web_dir(req)[0]) {
        cg_http_static_serve(req);
        return;
    }
    /* Without a web console, / still shows something useful: the built-in overview page. */
    if (is_get && strcmp(path, "/") == 0) {
        cg_http_landing_serve(req);
        return;
    }
    cg_err_set(&err, CG_ENOTFOUND, "path", "no route for %s %s", req->method, path);
    cg_http_reply_error(req, &err);
}

/*
 * For a route of cg_http_body_limits, raises the request's body limit once the gate has let the
 * caller through on the headers alone (a refused caller never sends a large body), and counts it
 * among the large uploads in flight. Returns -1 after answering (refused, or too many at once).
 */
static int raise_body_limit(cg_http_req *req)
{
    int any = 0; /* the hot GET routes skip the route match below */
    for (size_t i = 0; i < cg_http_body_limits_count && !any; i++)
        any = strcmp(cg_http_body_limits[i].method, req->method) == 0;
    if (!any)
        return 0;
    const char *q = strchr(req->raw_uri, '?');
    size_t path_len = q ? (size_t)(q - req->raw_uri) : strlen(req->raw_uri);
    char *path;
    cg_err err;
    const cg_route *route;
    const char *params[CG_ROUTE_MAX_PARAMS];
    char allow[64];
    size_t n_routes;
    const cg_route *routes = cg_http_routes(&n_routes);
    if (cg_url_decode(req->arena, req->raw_uri, path_len, 0, &path, &err) != 0 ||
        cg_route_match(routes, n_routes, req->method, path, req->arena, &route, params, allow,
                       sizeof allow) != CG_ROUTE_FOUND)
        return 0; /* dispatch answers these */
    long long limit = 0;
    int import = 0;
    for (size_t i = 0; i < cg_http_body_limits_count; i++)
        if (strcmp(cg_http_body_limits[i].method, route->method) == 0 &&
            strcmp(cg_http_body_limits[i].pattern, route->pattern) == 0) {
            import = cg_http_body_limits[i].max_body == CG_HTTP_BODY_LIMIT_IMPORT;
            limit = import ? req->server->cfg.max_import_body : cg_http_body_limits[i].max_body;
        }
    if (limit <= req->server->cfg.max_body) {
        if (import && limit > 0) /* the import's own limit, even when below max_body */
            req->body_limit = limit;
        return 0;
    }
    client_identify(req);
    req->route = route;
    int refused = cg_http_auth_before(req) != 0;
    if (!refused)
        cg_http_auth_after(req); /* dispatch runs the whole gate again for the handler */
    req->route = NULL;
    if (refused)
        return -1;
    if (atomic_fetch_add(&req->server->large_bodies, 1) >= CG_HTTP_LARGE_BODIES_MAX) {
        atomic_fetch_sub(&req->server->large_bodies, 1);
        cg_http_add_header(req, "Retry-After", "1");
        cg_err_set(&err, CG_EBUSY, "body",
                   "too many large uploads at once (at most %d): try again in a moment",
                   CG_HTTP_LARGE_BODIES_MAX);
        cg_http_reply_error(req, &err);
        return -1;
    }
    req->large_body = 1;
    req->body_limit = limit;
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url; /* libmicrohttpd's decoding is lenient; we decode raw_uri ourselves */
    (void)version;
    cg_http_req *req = *con_cls;
    if (!req)
        return MHD_NO;
    if (!req->method) {
        /* In flight from here: a request that never got this far (a malformed head that
         * libmicrohttpd refused, a client stuck mid-header) is not one a shutdown waits for. */
        atomic_fetch_add(&req->server->in_flight, 1);
        req->method = cg_arena_strdup(req->arena, method);
        req->connection = con;
        if (raise_body_limit(req) != 0) {
            req->dispatched = 1;
            return send_reply(con, req);
        }
        const char *cl =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)req->body_limit) {
            req->dispatched = 1;
            reply_too_large(req, "(Content-Length)");
            return send_reply(con, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* Kept while within the limit; past it, only counted. */
        req->body_bytes_seen += (long long)*upload_data_size;
        if (req->body_bytes_seen <= req->body_limit)
            cg_buf_append(&req->upload, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* libmicrohttpd cannot answer in the middle of an upload, so an oversized chunked body
         * is drained and answered at its end, unless it runs far past the limit: then the
         * connection is cut rather than spend the bandwidth. */
        if (req->body_bytes_seen > 2 * req->body_limit + 65536)
            return MHD_NO;
        return MHD_YES;
    }
    if (req->dispatched) {
        /* Called again: a deferred request that was woken (cg_http_resume) answers now, on
         * this thread, as its handler would have. */
        if (!req->deferred || req->replied || !atomic_load(&req->woken))
            return MHD_YES;
        req->cont(req, req->cont_arg);
        cg_http_auth_after(req);
        return send_reply(con, req);
    }
    req->dispatched = 1;
    if (req->body_bytes_seen > req->body_limit)
        reply_too_large(req, "(chunked)");
    else
        dispatch(req);
    if (req->deferred && !req->replied)
        return MHD_YES; /* suspended until cg_http_resume */
    return send_reply(con, req);
}

/* ---- lifecycle ---- */

static int open_listener(cg_http_server *s, cg_err *err)
{
    struct addrinfo hints = {0}, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%d", s->cfg.port);
    int rc = getaddrinfo(s->cfg.bind, port, &hints, &ai);
    if (rc != 0)
        return cg_err_set(err, CG_EINVAL, "bind", "'%s': %s", s->cfg.bind, gai_strerror(rc));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return cg_err_set(err, CG_EIO, "port", "cannot listen on %s port %d: %s", s->cfg.bind,
                          s->cfg.port, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return 0;
}

static int open_access_log(cg_http_server *s, cg_err *err)
{
    const char *path = s->cfg.access_log;
    if (path[0] == '\0')
        return 0;
    if (strcmp(path, "-") == 0) {
        s->access_log = stderr;
        return 0;
    }
    s->access_log = fopen(path, "ae");
    if (!s->access_log)
        return cg_err_set(err, CG_EIO, "access_log", "cannot open '%s': %s", path, strerror(errno));
    /* Fully buffered: the reloader flushes once a second and stop flushes at the end. */
    setvbuf(s->access_log, NULL, _IOFBF, 1 << 16);
    s->access_log_is_file = 1;
    return 0;
}

/*
 * Every connection is a file descriptor, and each worker's store holds three (database, -wal,
 * -shm): raise the soft limit towards the hard one so max_connections can really be open at once,
 * and say so when the hard limit is lower.
 */
static void raise_fd_limit(const cg_http_config *c)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)c->max_connections + 8 * (rlim_t)c->threads + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (want > rl.rlim_cur) {
        rl.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need)
        cg_log_warn("the file-descriptor limit (%llu) is below the %llu that %d connections need: "
                    "connections past it are refused (raise `ulimit -n` or lower "
                    "max_connections)",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)need, c->max_connections);
}

static void server_free(cg_http_server *s)
{
    if (s->reloader_running) {
        pthread_mutex_lock(&s->reload_mu);
        s->stop_reloader = 1;
        pthread_cond_signal(&s->reload_cv);
        pthread_mutex_unlock(&s->reload_mu);
        pthread_join(s->reloader, NULL);
    }
    cg_http_cases_stop(s->cases); /* the workers are gone; the timer holds atlas references */
    cg_http_imports_stop(s->imports);
    if (s->atlas)
        atlas_ref_release(s->atlas);
    if (s->reload_store)
        cg_store_close(s->reload_store);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->access_log_is_file)
        fclose(s->access_log);
    cg_rate_limiter_free(s->public_limiter);
    cg_rate_limiter_free(s->login_limiter);
    cg_rate_limiter_free(s->tile_limiter);
    pthread_mutex_destroy(&s->atlas_lock);
    pthread_mutex_destroy(&s->reload_mu);
    pthread_cond_destroy(&s->reload_cv);
    free(s);
}

int cg_http_server_start(const cg_http_config *c, cg_http_server **out, cg_err *err)
{
    cg_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    s->cfg = *c;
    s->listen_fd = -1;
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->closing, 0);
    atomic_init(&s->large_bodies, 0);
    pthread_mutex_init(&s->atlas_lock, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    pthread_cond_init(&s->reload_cv, NULL);

    if (cg_crypto_init(err) != 0)
        goto fail;
    struct stat st;
    if (stat(c->db, &st) != 0) {
        cg_err_set(err, CG_ENOTFOUND, "db",
                   "database '%s' does not exist; create one with `civgrid demo --out DIR` or "
                   "`civgrid import grids FILE --db %s`",
                   c->db, c->db);
        goto fail;
    }
    cg_atlas *atlas;
    if (cg_store_open(c->db, 0, &s->reload_store, err) != 0) {
        s->reload_store = NULL;
        goto fail;
    }
    if (cg_atlas_load(s->reload_store, 0, &atlas, err) != 0)
        goto fail;
    if (!cg_store_writable(s->reload_store))
        cg_log_warn("database '%s' is read-only: reads are served, writes are answered 503 "
                    "until the file can be written again",
                    c->db);
    s->atlas = atlas_ref_new(atlas);
    if (cg_http_cases_start(&s->cfg, s->reload_store, &s->cases, err) != 0 ||
        cg_http_imports_start(&s->cfg, &s->imports, err) != 0)
        goto fail;
    s->public_limiter =
        cg_rate_limiter_new(c->public_rate, c->public_burst, (size_t)c->rate_clients);
    s->login_limiter = cg_rate_limiter_new(c->login_rate, c->login_burst, (size_t)c->rate_clients);
    s->tile_limiter = cg_rate_limiter_new(c->tile_rate, c->tile_burst, (size_t)c->rate_clients);
    if (!s->public_limiter || !s->login_limiter || !s->tile_limiter) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory for the rate limiters");
        goto fail;
    }
    if (open_access_log(s, err) != 0 || open_listener(s, err) != 0)
        goto fail;
    raise_fd_limit(c);

    /* TURBO: no shutdown() before close and no listen-socket locking, which costs syscalls on
     * every connection; quiesce still works through the ITC channel. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_ALLOW_SUSPEND_RESUME;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET,
                                 s->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->connection_timeout,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        cg_err_set(err, CG_EIO, NULL, "libmicrohttpd failed to start on %s port %d", c->bind,
                   s->port);
        goto fail;
    }
    s->listen_fd = -1; /* libmicrohttpd owns it now, until quiesce hands it back */
    if (pthread_create(&s->reloader, NULL, reloader_main, s) != 0) {
        cg_err_set(err, CG_EIO, NULL, "cannot start the grid reloader thread");
        MHD_stop_daemon(s->daemon);
        goto fail;
    }
    s->reloader_running = 1;
    if (cg_http_cases_timer_start(s->cases, s, err) != 0) {
        MHD_stop_daemon(s->daemon);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    server_free(s);
    return -1;
}

int cg_http_server_port(const cg_http_server *s)
{
    return s->port;
}

void cg_http_server_quiesce(cg_http_server *s)
{
    atomic_store(&s->closing, 1);
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

unsigned cg_http_server_in_flight(cg_http_server *s)
{
    return atomic_load(&s->in_flight);
}

void cg_http_server_stop(cg_http_server *s)
{
    /* Deferred requests wait on the intake: commit what it holds and wake them before the
     * daemon goes (libmicrohttpd must not be stopped with connections suspended). */
    cg_http_cases_close_intake(s->cases);
    MHD_stop_daemon(s->daemon);
    server_free(s);
}

void cg_http_routes_print(FILE *out)
{
    size_t n;
    const cg_route *routes = cg_http_routes(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s %s\n", routes[i].method, routes[i].pattern);
}
