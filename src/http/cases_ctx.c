/*
 * The case service as the server provides it (cases_state.h, and cg_http_case_ctx of http.h):
 *
 *  - the case rules (taxonomy, calendar, stage limits) are loaded once and shared read-only by
 *    every thread. Each request compares the store's rules generation (one cached-statement read)
 *    with the shared copy's; when a rule document changed, the first request to notice loads the
 *    new rules under a mutex and swaps them in. Requests hold a reference to the rules they
 *    started with until they complete, so a swap never frees rules in use (as for the atlas);
 *  - the intake queue (group commit of new cases) runs on its own connection from start to stop;
 *  - the case timer thread, on its own connection, runs cg_cases_timer at start and then every
 *    case_timer_seconds, with the current atlas and rules, and logs what each pass changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/case_index.h"
#include "core/log.h"
#include "http/cases_state.h"

struct cg_case_rules_ref {
    cg_case_rules *rules;
    atomic_int refs;
};

struct cg_http_cases {
    pthread_mutex_t mu;        /* guards `current` (held for a pointer copy and an increment) */
    pthread_mutex_t reload_mu; /* one reload at a time */
    cg_case_rules_ref *current;
    cg_intake *intake;
    cg_case_index *index; /* the listing index, built at start */
    char photo_dir[1024];
    char db[1024];

    /* the timer */
    int period; /* seconds; 0: off */
    cg_http_server *server;
    pthread_t timer;
    int timer_running, stop_timer;
    int warned_year; /* the missing calendar year last warned about */
    pthread_mutex_t timer_mu;
    pthread_cond_t timer_cv;
};

static cg_case_rules_ref *rules_ref_new(cg_case_rules *r)
{
    cg_case_rules_ref *ref = calloc(1, sizeof *ref);
    if (!ref)
        abort();
    ref->rules = r;
    atomic_init(&ref->refs, 1);
    return ref;
}

void cg_http_case_rules_release(cg_case_rules_ref *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    cg_case_rules_free(r->rules);
    free(r);
}

/* The current rules, reloaded first when the store says they changed; a new reference. */
static cg_case_rules_ref *rules_hold(cg_http_cases *c, cg_store *s)
{
    int64_t gen = cg_store_rules_generation(s);
    pthread_mutex_lock(&c->mu);
    cg_case_rules_ref *r = c->current;
    int fresh = gen < 0 || r->rules->generation == gen;
    if (fresh)
        atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&c->mu);
    if (fresh)
        return r;

    pthread_mutex_lock(&c->reload_mu);
    /* Another thread may have loaded them while this one waited. */
    if (c->current->rules->generation != gen) {
        cg_case_rules *loaded;
        cg_err err;
        cg_err_clear(&err);
        if (cg_case_rules_load(s, &loaded, &err) == 0) {
            cg_case_rules_ref *next = rules_ref_new(loaded);
            pthread_mutex_lock(&c->mu);
            cg_case_rules_ref *old = c->current;
            c->current = next;
            pthread_mutex_unlock(&c->mu);
            cg_http_case_rules_release(old);
            cg_log_info("case rules reloaded (generation %lld)", (long long)loaded->generation);
        } else {
            /* Keep serving with the rules that worked; the next request tries again. */
            cg_log_warn("case rules changed but could not be loaded (keeping the old ones): %s",
                        err.message);
        }
    }
    pthread_mutex_lock(&c->mu);
    r = c->current;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&c->reload_mu);
    return r;
}

/* mkdir -p for the photo directory (the service creates the fan-out directories below it). */
static int make_dirs(const char *path, cg_err *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return cg_err_set(err, CG_EIO, "photo_dir", "cannot create '%s': %s", buf,
                              strerror(errno));
        *p = saved;
        if (!saved)
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cg_err_set(err, CG_EIO, "photo_dir", "'%s' is not a directory", path);
    return 0;
}

int cg_http_cases_start(const cg_http_config *cfg, cg_store *s, cg_http_cases **out, cg_err *err)
{
    cg_http_cases *c = calloc(1, sizeof *c);
    if (!c)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->reload_mu, NULL);
    pthread_mutex_init(&c->timer_mu, NULL);
    pthread_cond_init(&c->timer_cv, NULL);
    snprintf(c->db, sizeof c->db, "%s", cfg->db);
    cg_http_config_photo_dir(cfg, c->photo_dir, sizeof c->photo_dir);
    c->period = cfg->case_timer_seconds;
    cg_case_rules *rules;
    if (make_dirs(c->photo_dir, err) != 0 || cg_case_rules_load(s, &rules, err) != 0)
        goto fail;
    c->current = rules_ref_new(rules);
    cg_err ix_err;
    cg_err_clear(&ix_err);
    if (cg_case_index_build(s, &c->index, &ix_err) != 0) {
        /* Lists still work, through SQL. */
        c->index = NULL;
        cg_log_warn("case index not built (case lists go through SQL): %s", ix_err.message);
    } else {
        cg_case_index_set_row_limit(c->index, (int64_t)cfg->case_rows_mb << 20);
        cg_case_index_stats st;
        cg_case_index_stats_get(c->index, &st);
        cg_log_info("case index: %lld cases under %lld grid codes, %.1f MB, built in %.2f s%s; "
                    "listed rows kept in up to %d MB",
                    (long long)st.cases, (long long)st.codes, (double)st.bytes / 1048576.0,
                    st.seconds, st.serving ? "" : " (stepped aside: lists go through SQL)",
                    cfg->case_rows_mb);
    }
    if (cg_intake_start(cfg->db, 0, &c->intake, err) != 0) {
        c->intake = NULL;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    cg_http_cases_stop(c);
    *out = NULL;
    return -1;
}

/* ---- the timer ---- */

static void timer_pass(cg_http_cases *c, cg_store *s)
{
    cg_atlas_ref *atlas = cg_http_server_atlas_hold(c->server);
    cg_case_rules_ref *rules = rules_hold(c, s);
    cg_case_ctx ctx = {0};
    ctx.store = s;
    ctx.atlas = cg_http_atlas_ref_atlas(atlas);
    ctx.rules = rules->rules;
    ctx.photo_dir = c->photo_dir;
    ctx.scope = NULL;
    ctx.roles = CG_CASE_SYSTEM;
    snprintf(ctx.actor.name, sizeof ctx.actor.name, "system");
    ctx.now = cg_time_now();
    cg_store_set_actor(s, &ctx.actor);
    int missing = cg_case_rules_year_missing(rules->rules, ctx.now);
    if (missing && missing != c->warned_year)
        cg_log_warn("calendar: no holidays imported for %d, so its deadlines count weekdays only; "
                    "import the year's State Council notice with `civgrid calendar import`",
                    missing);
    c->warned_year = missing;
    cg_case_timer_report rep = {0};
    cg_err err;
    cg_err_clear(&err);
    if (cg_cases_timer(&ctx, &rep, &err) != 0)
        cg_log_warn("case timer failed (will retry in %d s): %s", c->period, err.message);
    else if (rep.escalated || rep.idem_purged)
        cg_log_info("case timer: escalated %lld overdue cases, %lld open cases overdue, purged "
                    "%lld idempotency keys",
                    (long long)rep.escalated, (long long)rep.overdue, (long long)rep.idem_purged);
    cg_http_case_rules_release(rules);
    cg_http_server_atlas_release(atlas);
}

static void *timer_main(void *arg)
{
    cg_http_cases *c = arg;
    cg_store *s = NULL;
    cg_err err;
    cg_err_clear(&err);
    if (cg_store_open(c->db, 0, &s, &err) != 0) {
        cg_log_error("case timer: cannot open %s (cases will not escalate on time): %s", c->db,
                     err.message);
        return NULL;
    }
    pthread_mutex_lock(&c->timer_mu);
    while (!c->stop_timer) {
        pthread_mutex_unlock(&c->timer_mu);
        timer_pass(c, s);
        pthread_mutex_lock(&c->timer_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += c->period;
        while (!c->stop_timer &&
               pthread_cond_timedwait(&c->timer_cv, &c->timer_mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&c->timer_mu);
    cg_store_close(s);
    return NULL;
}

int cg_http_cases_timer_start(cg_http_cases *c, cg_http_server *server, cg_err *err)
{
    c->server = server;
    if (c->period <= 0) {
        cg_log_info("case timer off (case_timer_seconds 0)");
        return 0;
    }
    if (pthread_create(&c->timer, NULL, timer_main, c) != 0)
        return cg_err_set(err, CG_EIO, NULL, "cannot start the case timer thread");
    c->timer_running = 1;
    return 0;
}

void cg_http_cases_stop(cg_http_cases *c)
{
    if (!c)
        return;
    if (c->timer_running) {
        pthread_mutex_lock(&c->timer_mu);
        c->stop_timer = 1;
        pthread_cond_signal(&c->timer_cv);
        pthread_mutex_unlock(&c->timer_mu);
        pthread_join(c->timer, NULL);
    }
    cg_intake_stop(c->intake);
    if (c->index) {
        cg_case_index_stats st;
        cg_case_index_stats_get(c->index, &st);
        if (st.row_hits + st.row_misses > 0)
            cg_log_info("case lists: %lld rows answered from memory, %lld read from the database; "
                        "%lld rows kept (%.1f MB of %lld), let go %lld times at the bound",
                        (long long)st.row_hits, (long long)st.row_misses, (long long)st.rows,
                        (double)st.row_bytes / 1048576.0, (long long)(st.row_limit >> 20),
                        (long long)st.row_flushes);
    }
    cg_case_index_free(c->index);
    cg_http_case_rules_release(c->current);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->reload_mu);
    pthread_mutex_destroy(&c->timer_mu);
    pthread_cond_destroy(&c->timer_cv);
    free(c);
}

void cg_http_cases_close_intake(cg_http_cases *c)
{
    if (c)
        cg_intake_close(c->intake);
}

/* ---- per request ---- */

int cg_http_case_ctx(cg_http_req *req, cg_case_ctx *ctx, cg_err *err)
{
    memset(ctx, 0, sizeof *ctx);
    cg_http_cases *c = cg_http_server_cases(req->server);
    cg_store *s;
    if (cg_http_store(req, &s, err) != 0)
        return -1;
    if (!req->case_rules)
        req->case_rules = rules_hold(c, s);
    ctx->store = s;
    ctx->atlas = cg_http_atlas(req);
    ctx->rules = req->case_rules->rules;
    ctx->intake = c->intake;
    ctx->index = c->index;
    ctx->photo_dir = c->photo_dir;
    const cg_http_auth *au = &req->auth;
    if (au->logged_in) {
        ctx->scope = &au->account.scope;
        ctx->roles = au->account.roles;
        ctx->actor.actor_id = au->account.id;
        snprintf(ctx->actor.name, sizeof ctx->actor.name, "%s", au->account.username);
    } else {
        ctx->scope = NULL;
        ctx->roles = 0;
        snprintf(ctx->actor.name, sizeof ctx->actor.name, "anonymous");
    }
    snprintf(ctx->actor.address, sizeof ctx->actor.address, "%s", req->client ? req->client : "");
    ctx->now = cg_time_now();
    return 0;
}

/* ---- deferred case submission ---- */

typedef struct {
    cg_http_req *req;
    cg_case *c;
    cg_case_prepared p;
    cg_http_case_done_fn done;
    void *arg;
    int rc;
    int64_t existing;
    cg_err err;
} case_job;

/* On the intake thread: keep the result and wake the request. */
static void case_committed(void *arg, int rc, int64_t existing, const cg_err *err)
{
    case_job *j = arg;
    j->rc = rc;
    j->existing = existing;
    if (err)
        j->err = *err;
    cg_http_resume(j->req);
}

/* On the worker thread again: finish (a replay reads the first case back) and answer. */
static void case_resumed(cg_http_req *req, void *arg)
{
    case_job *j = arg;
    cg_case_ctx ctx;
    int replayed = 0;
    memset(&ctx, 0, sizeof ctx);
    if (j->rc == 0 && cg_http_case_ctx(req, &ctx, &j->err) != 0)
        j->rc = -1;
    if (j->rc == 0)
        j->rc = cg_cases_finish(&ctx, j->existing, j->c, &replayed, &j->err);
    j->done(req, &ctx, j->c, replayed, j->rc ? &j->err : NULL, j->arg);
}

void cg_http_case_submit(cg_http_req *req, const cg_case_ctx *ctx, const cg_case_input *in,
                         cg_case *out, cg_intake_dups *dups, cg_http_case_done_fn done, void *arg)
{
    cg_err err;
    cg_err_clear(&err);
    int replayed = 0;
    if (!ctx->intake) {
        int rc = cg_cases_submit(ctx, in, out, &replayed, &err);
        done(req, ctx, out, replayed, rc ? &err : NULL, arg);
        return;
    }
    case_job *j = cg_arena_calloc(req->arena, 1, sizeof *j);
    if (cg_cases_prepare(ctx, in, out, &j->p, &err) != 0) {
        done(req, ctx, out, 0, &err, arg);
        return;
    }
    /* The intake reads these after the handler has returned (and freed its parsed body). */
    j->p.contact = cg_arena_strdup(req->arena, j->p.contact);
    if (j->p.idem_key)
        j->p.idem_key = cg_arena_strdup(req->arena, j->p.idem_key);
    j->req = req;
    j->c = out;
    j->done = done;
    j->arg = arg;
    cg_err_clear(&j->err);
    cg_http_defer(req, case_resumed, j);
    if (dups) {
        memset(dups, 0, sizeof *dups);
        if (ctx->scope)
            dups->scope = *ctx->scope;
    }
    if (cg_intake_submit_async(ctx->intake, out, &j->p.report, j->p.contact, j->p.idem_key, dups,
                               case_committed, j, &j->err) != 0) {
        j->rc = -1;
        cg_http_resume(req);
    }
}
