/*
 * Authentication, authorization and login throttling for the server: see auth.h.
 *
 * Each request costs two indexed reads when it carries a credential (the session by the hash of
 * its token, then the account), so a disabled account, a changed password or a logout takes
 * effect on the very next request; nothing about a session is cached in memory.
 */
#include "http/auth.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "geo/geojson.h"

/* ---- the rate limiter ---- */

/*
 * A token bucket per key in an open-addressing table (linear probing, tombstone-free deletion by
 * re-inserting the rest of the cluster), plus a doubly linked list in order of last use so the
 * least recently used key is the one evicted when the table is full. One mutex: a take is a hash,
 * a probe and a little arithmetic, far cheaper than the request it guards.
 */
#define RATE_KEY_MAX 64

typedef struct {
    char key[RATE_KEY_MAX];
    double tokens;
    long long last_ns;
    long prev, next; /* LRU list, -1 terminated; index into entries */
    int used;
} rate_entry;

struct cg_rate_limiter {
    pthread_mutex_t mu;
    double per_ns, burst;
    size_t max_keys, n, n_slots;
    rate_entry *entries; /* n_slots entries, at most max_keys used */
    long head, tail;     /* head: most recent */
};

static size_t rate_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

cg_rate_limiter *cg_rate_limiter_new(int per_minute, int burst, size_t max_keys)
{
    assert(per_minute > 0 && burst > 0 && max_keys > 0);
    cg_rate_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->n_slots = 16;
    while (l->n_slots < max_keys * 2)
        l->n_slots *= 2;
    l->entries = calloc(l->n_slots, sizeof *l->entries);
    if (!l->entries) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    l->per_ns = per_minute / 60e9;
    l->burst = burst;
    l->max_keys = max_keys;
    l->head = l->tail = -1;
    return l;
}

void cg_rate_limiter_free(cg_rate_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->entries);
    free(l);
}

static void lru_unlink(cg_rate_limiter *l, long i)
{
    rate_entry *e = &l->entries[i];
    if (e->prev >= 0)
        l->entries[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next >= 0)
        l->entries[e->next].prev = e->prev;
    else
        l->tail = e->prev;
}

static void lru_push_front(cg_rate_limiter *l, long i)
{
    rate_entry *e = &l->entries[i];
    e->prev = -1;
    e->next = l->head;
    if (l->head >= 0)
        l->entries[l->head].prev = i;
    l->head = i;
    if (l->tail < 0)
        l->tail = i;
}

/* Moves entry `from` into empty slot `to`, keeping the LRU links pointing at it. */
static void slot_move(cg_rate_limiter *l, long from, long to)
{
    rate_entry *e = &l->entries[from];
    l->entries[to] = *e;
    if (e->prev >= 0)
        l->entries[e->prev].next = to;
    else
        l->head = to;
    if (e->next >= 0)
        l->entries[e->next].prev = to;
    else
        l->tail = to;
    memset(e, 0, sizeof *e);
}

/* Removes slot i and re-seats the rest of its probe cluster, so lookups never stop early. */
static void slot_remove(cg_rate_limiter *l, long i)
{
    size_t mask = l->n_slots - 1;
    lru_unlink(l, i);
    memset(&l->entries[i], 0, sizeof l->entries[i]);
    l->n--;
    size_t hole = (size_t)i;
    for (size_t j = (hole + 1) & mask; l->entries[j].used; j = (j + 1) & mask) {
        size_t home = rate_hash(l->entries[j].key) & mask;
        /* j may move into the hole when its home is not cyclically in (hole, j]. */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            slot_move(l, (long)j, (long)hole);
            hole = j;
        }
    }
}

int cg_rate_take(cg_rate_limiter *l, const char *key, long long now_ns)
{
    char k[RATE_KEY_MAX];
    snprintf(k, sizeof k, "%s", key);
    size_t mask = l->n_slots - 1;
    pthread_mutex_lock(&l->mu);
    size_t i = rate_hash(k) & mask;
    while (l->entries[i].used && strcmp(l->entries[i].key, k) != 0)
        i = (i + 1) & mask;
    rate_entry *e = &l->entries[i];
    if (!e->used) {
        if (l->n == l->max_keys) {
            slot_remove(l, l->tail);
            /* the removal may have shifted the cluster this key probes: look again */
            i = rate_hash(k) & mask;
            while (l->entries[i].used)
                i = (i + 1) & mask;
            e = &l->entries[i];
        }
        memcpy(e->key, k, sizeof k);
        e->used = 1;
        e->tokens = l->burst;
        e->last_ns = now_ns;
        l->n++;
        lru_push_front(l, (long)i);
    } else {
        lru_unlink(l, (long)i);
        lru_push_front(l, (long)i);
        if (now_ns > e->last_ns) {
            e->tokens += (double)(now_ns - e->last_ns) * l->per_ns;
            if (e->tokens > l->burst)
                e->tokens = l->burst;
            e->last_ns = now_ns;
        }
    }
    int wait = 0;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
    } else {
        double seconds = (1.0 - e->tokens) / l->per_ns / 1e9;
        wait = (int)seconds + 1;
    }
    pthread_mutex_unlock(&l->mu);
    return wait;
}

size_t cg_rate_limiter_size(cg_rate_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* ---- answers ---- */

static void reply_retry(cg_http_req *req, int seconds, const char *message)
{
    cg_http_add_header(req, "Retry-After", cg_arena_sprintf(req->arena, "%d", seconds));
    cg_http_reply_error_as(req, 429, "rate_limited", NULL, message);
}

static void reply_unauthenticated(cg_http_req *req, const char *message)
{
    cg_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"civgrid\"");
    cg_http_reply_error_as(req, 401, "unauthenticated", NULL, message);
}

/* ---- credentials ---- */

/* The value of cookie `name` in a Cookie header, copied into out; 0 when found. */
static int cookie_value(const char *header, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t;");
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t len = strcspn(v, ";");
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (len >= cap)
                return -1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* Finds the credential a request carries: 1 with the token and its kind, 0 when none, -1 when
 * it carries something malformed (treated as a bad credential). */
static int find_token(cg_http_req *req, char token[CG_TOKEN_CHARS + 1], int *kind)
{
    const char *authz = cg_http_header(req, "Authorization");
    if (authz) {
        *kind = CG_SESSION_BEARER;
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return -1;
        const char *t = authz + 7;
        t += strspn(t, " ");
        size_t len = strcspn(t, " ");
        if (len != CG_TOKEN_CHARS || t[len] != '\0')
            return -1;
        memcpy(token, t, len + 1);
        return 1;
    }
    const char *cookies = cg_http_header(req, "Cookie");
    char v[CG_TOKEN_CHARS + 8];
    if (!cookies || cookie_value(cookies, CG_SESSION_COOKIE_NAME, v, sizeof v) != 0 || !v[0])
        return 0;
    *kind = CG_SESSION_COOKIE;
    if (strlen(v) != CG_TOKEN_CHARS)
        return -1;
    memcpy(token, v, CG_TOKEN_CHARS + 1);
    return 1;
}

/*
 * Fills req->auth from the request's credential. Returns 0 (logged in or anonymous; *bad is set
 * when a credential was presented but is unknown, expired, revoked or of the wrong kind), -1 on a
 * store failure.
 */
static int authenticate(cg_http_req *req, cg_store *s, int *bad, cg_err *err)
{
    char token[CG_TOKEN_CHARS + 1];
    int kind = 0;
    *bad = 0;
    int found = find_token(req, token, &kind);
    if (found <= 0) {
        *bad = found < 0;
        return 0;
    }
    char hash[CG_SHA256_HEX];
    cg_sha256_hex(token, CG_TOKEN_CHARS, hash);
    cg_session session;
    cg_account a;
    if (cg_store_session_resolve(s, hash, &session, &a, err) != 0) {
        if (err->code != CG_ENOTFOUND)
            return -1;
        *bad = 1;
        return 0;
    }
    if (session.kind != kind) {
        *bad = 1;
        return 0;
    }
    if (session.expires_at <= cg_time_now()) {
        cg_err ignored;
        cg_store_session_delete(s, hash, &ignored);
        *bad = 1;
        return 0;
    }
    if (a.disabled) {
        /* Disabling revokes every session; this catches one opened in a race with it. */
        cg_err ignored;
        cg_store_session_delete_account(s, a.id, &ignored);
        *bad = 1;
        return 0;
    }
    cg_http_auth *au = &req->auth;
    au->logged_in = 1;
    au->account = a;
    au->session_kind = kind;
    memcpy(au->token_hash, hash, sizeof hash);
    snprintf(au->csrf, sizeof au->csrf, "%s", session.csrf);
    au->expires_at = session.expires_at;
    return 0;
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

static void set_actor(cg_store *s, int64_t id, const char *name, const char *address)
{
    cg_actor actor = {0};
    actor.actor_id = id;
    snprintf(actor.name, sizeof actor.name, "%s", name);
    snprintf(actor.address, sizeof actor.address, "%s", address);
    cg_store_set_actor(s, &actor);
}

/* The bucket an anonymous call of route r takes from: base-map tiles have their own. */
static cg_rate_bucket bucket_of(const cg_route *r)
{
    return strcmp(r->pattern, "/api/v1/basemap/{z}/{x}/{y}") == 0 ? CG_RATE_TILES : CG_RATE_PUBLIC;
}

int cg_http_auth_before(cg_http_req *req)
{
    assert(req->route);
    int perm = req->route->perm;
    cg_err err;
    cg_err_clear(&err);
    cg_store *s;
    int bad;
    if (cg_http_store(req, &s, &err) != 0 || authenticate(req, s, &bad, &err) != 0) {
        cg_http_reply_error(req, &err);
        return -1;
    }
    cg_http_auth *au = &req->auth;
    if (!au->logged_in) {
        if (perm != CG_PERM_PUBLIC) {
            reply_unauthenticated(req, bad ? "the session has expired or was revoked: log in again"
                                           : "log in first (POST /api/v1/auth/login)");
            return -1;
        }
        /* One token a request: a large upload passes the gate on its headers and again before
         * its handler (server.c). */
        int wait = req->rate_taken ? 0
                                   : cg_rate_take(cg_http_rate_limiter(req, bucket_of(req->route)),
                                                  req->client, cg_time_mono_ns());
        req->rate_taken = 1;
        if (wait) {
            reply_retry(req, wait, "too many requests from this address: slow down");
            return -1;
        }
    } else if (perm != CG_ROUTE_ACCOUNT && !cg_access_allows(au->account.roles, (cg_perm)perm)) {
        cg_http_reply_error_as(req, 403, "forbidden", NULL,
                               cg_arena_sprintf(req->arena, "your roles do not allow %s",
                                                cg_perm_name((cg_perm)perm)));
        return -1;
    }
    /* A cookie is sent by the browser whatever page asked; only our own console knows the
     * CSRF token (it came in the login answer), so a write needs both. */
    if (au->logged_in && au->session_kind == CG_SESSION_COOKIE && perm != CG_PERM_PUBLIC &&
        is_write(req->method)) {
        const char *sent = cg_http_header(req, "X-CSRF-Token");
        if (!sent || !cg_secure_equal(sent, au->csrf)) {
            cg_http_reply_error_as(req, 403, "csrf", "X-CSRF-Token",
                                   "a write with a session cookie needs the X-CSRF-Token header "
                                   "given at login");
            return -1;
        }
    }
    set_actor(s, au->account.id, au->logged_in ? au->account.username : "anonymous", req->client);
    return 0;
}

void cg_http_auth_after(cg_http_req *req)
{
    cg_store *s;
    cg_err err;
    if (cg_http_store(req, &s, &err) == 0)
        set_actor(s, 0, "system", "");
}

const cg_scope *cg_http_scope(cg_http_req *req)
{
    assert(req->auth.logged_in);
    return &req->auth.account.scope;
}

/* ---- logins ---- */

/* A failure older than this no longer counts: a typo last week does not lock today. */
#define LOGIN_FAILURE_MEMORY 3600

/* A hash of a random password, verified against when the username is unknown, so an unknown
 * user costs the same argon2 work as a known one and timing tells nothing. */
static char dummy_hash[CG_PASSWORD_HASH_MAX];
static int dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    char random_password[CG_TOKEN_CHARS + 1];
    cg_err err;
    cg_token_new(random_password);
    dummy_ok = cg_password_hash(random_password, dummy_hash, &err) == 0;
}

/* Locked until when (0: not locked), counting only recent failures. */
static int login_locked_until(cg_store *s, const char *key, int64_t now, int64_t *until,
                              cg_err *err)
{
    cg_login_state st;
    *until = 0;
    if (cg_store_login_state_get(s, key, &st, err) != 0)
        return err->code == CG_ENOTFOUND ? 0 : -1;
    if (st.locked_until > now)
        *until = st.locked_until;
    return 0;
}

/* Records one failure on key and returns the lock it now has. */
static int login_fail(cg_store *s, const char *key, int64_t now, int64_t *until, cg_err *err)
{
    cg_login_state st = {0};
    if (cg_store_login_state_get(s, key, &st, err) != 0) {
        if (err->code != CG_ENOTFOUND)
            return -1;
        memset(&st, 0, sizeof st);
    }
    if (st.failures && now - st.last_failure > LOGIN_FAILURE_MEMORY) {
        if (cg_store_login_reset(s, key, err) != 0)
            return -1;
        st.failures = 0;
    }
    *until = cg_login_lock_until(st.failures + 1, now);
    return cg_store_login_failure(s, key, now, *until, err);
}

void cg_http_write_account(cg_buf *b, const cg_account *a)
{
    char roles[128];
    cg_roles_format(a->roles, roles, sizeof roles);
    cg_buf_printf(b, "{\"id\":%lld,\"username\":", (long long)a->id);
    cg_json_write_string(b, a->username);
    cg_buf_puts(b, ",\"display_name\":");
    cg_json_write_string(b, a->display_name);
    cg_buf_puts(b, ",\"roles\":[");
    for (uint32_t bit = 1, n = 0; bit <= CG_ROLE_ADMIN; bit <<= 1) {
        if (!(a->roles & bit))
            continue;
        if (n++)
            cg_buf_putc(b, ',');
        cg_json_write_string(b, cg_role_name((cg_role)bit));
    }
    cg_buf_puts(b, "],\"scope\":");
    cg_json_write_string(b, a->scope.code);
    cg_buf_puts(b, ",\"department\":");
    cg_json_write_string(b, a->department);
    cg_buf_puts(b, ",\"duty_phone\":");
    cg_json_write_string(b, a->duty_phone);
    cg_buf_printf(b, ",\"disabled\":%s,\"created_at\":%lld}", a->disabled ? "true" : "false",
                  (long long)a->created_at);
}

/* Counts one failed attempt on both keys; the longer lock wins. */
static int login_fail_both(cg_store *s, const char *user_key, const char *addr_key, int64_t now,
                           int64_t *until, cg_err *err)
{
    int64_t u = 0, a = 0;
    if ((user_key && login_fail(s, user_key, now, &u, err) != 0) ||
        login_fail(s, addr_key, now, &a, err) != 0)
        return -1;
    *until = u > a ? u : a;
    return 0;
}

void cg_http_login(cg_http_req *req, const char *username, const char *password, int client)
{
    cg_err err;
    cg_err_clear(&err);
    int wait =
        cg_rate_take(cg_http_rate_limiter(req, CG_RATE_LOGIN), req->client, cg_time_mono_ns());
    if (wait) {
        reply_retry(req, wait, "too many login attempts from this address: try again later");
        return;
    }
    pthread_once(&dummy_once, dummy_make);
    cg_store *s;
    if (cg_http_store(req, &s, &err) != 0)
        goto fail;
    int64_t now = cg_time_now(), user_until = 0, addr_until = 0, until;
    /* A name that cannot be an account gets no key of its own (and cannot end up in the audit
     * log, which is where a password typed into the username field would otherwise land). */
    cg_err name_err;
    const char *user_key = cg_username_check(username, &name_err) == 0
                               ? cg_arena_sprintf(req->arena, "user:%s", username)
                               : NULL;
    const char *addr_key = cg_arena_sprintf(req->arena, "addr:%s", req->client);
    if ((user_key && login_locked_until(s, user_key, now, &user_until, &err) != 0) ||
        login_locked_until(s, addr_key, now, &addr_until, &err) != 0)
        goto fail;
    if (user_until || addr_until) {
        /* Refused unheard, and counted: hammering a locked account only lengthens the lock. */
        if (login_fail_both(s, user_key, addr_key, now, &until, &err) != 0)
            goto fail;
        reply_retry(req, (int)(until - now),
                    "too many failed logins: this account or address is locked for a while");
        return;
    }
    cg_account a;
    char hash[CG_PASSWORD_HASH_MAX];
    int found = 0;
    if (user_key) {
        if (cg_store_account_by_name(s, username, &a, hash, sizeof hash, &err) == 0)
            found = 1;
        else if (err.code != CG_ENOTFOUND)
            goto fail;
    }
    int ok;
    if (found) {
        ok = cg_password_verify(hash, password) && !a.disabled;
    } else {
        ok = 0;
        if (dummy_ok)
            cg_password_verify(dummy_hash, password);
    }
    if (!ok) {
        if (login_fail_both(s, user_key, addr_key, now, &until, &err) != 0)
            goto fail;
        reply_unauthenticated(req, "wrong username or password");
        return;
    }
    if (cg_store_login_reset(s, user_key, &err) != 0)
        goto fail;

    char token[CG_TOKEN_CHARS + 1];
    cg_token_new(token);
    cg_session session = {0};
    cg_sha256_hex(token, CG_TOKEN_CHARS, session.token_hash);
    session.account_id = a.id;
    session.kind = client == CG_LOGIN_CONSOLE ? CG_SESSION_COOKIE : CG_SESSION_BEARER;
    const cg_http_config *cfg = cg_http_config_of(req);
    int64_t lifetime = client == CG_LOGIN_CONSOLE ? (int64_t)cfg->session_hours * 3600
                                                  : (int64_t)cfg->token_days * 86400;
    if (client == CG_LOGIN_CONSOLE) {
        char csrf[CG_TOKEN_CHARS + 1];
        cg_token_new(csrf);
        snprintf(session.csrf, sizeof session.csrf, "%s", csrf);
    }
    session.created_at = now;
    session.expires_at = now + lifetime;
    snprintf(session.address, sizeof session.address, "%s", req->client);
    set_actor(s, a.id, a.username, req->client);
    if (cg_store_session_put(s, &session, &err) != 0)
        goto fail;

    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"account\":");
    cg_http_write_account(b, &a);
    if (client == CG_LOGIN_CONSOLE) {
        cg_http_add_header(
            req, "Set-Cookie",
            cg_arena_sprintf(req->arena,
                             CG_SESSION_COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict; "
                                                    "Max-Age=%lld%s",
                             token, (long long)lifetime, req->secure ? "; Secure" : ""));
        cg_buf_puts(b, ",\"csrf_token\":");
        cg_json_write_string(b, session.csrf);
    } else {
        cg_buf_puts(b, ",\"token_type\":\"Bearer\",\"token\":");
        cg_json_write_string(b, token);
    }
    cg_buf_printf(b, ",\"expires_at\":%lld}", (long long)session.expires_at);
    cg_http_add_header(req, "Cache-Control", "no-store");
    cg_http_reply(req, 200, "application/json", b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

int cg_http_logout(cg_http_req *req, cg_err *err)
{
    cg_store *s;
    if (cg_http_store(req, &s, err) != 0 ||
        cg_store_session_delete(s, req->auth.token_hash, err) != 0)
        return -1;
    if (req->auth.session_kind == CG_SESSION_COOKIE)
        cg_http_add_header(req, "Set-Cookie",
                           CG_SESSION_COOKIE_NAME
                           "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return 0;
}
