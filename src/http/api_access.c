/*
 * API v1 for access: login and logout, who am I, account administration, grid teams and the
 * audit log. Permissions are declared in the route table at the bottom and checked by the gate
 * (http/auth.c) before any handler here runs; handlers pass the caller's scope to every store
 * call, so an account or grid outside it answers exactly like one that does not exist.
 *
 * Request bodies are small JSON objects parsed with jansson; unknown keys are refused by name,
 * as unknown query parameters are. No body, password or token is ever logged.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "geo/geojson.h"
#include "http/auth.h"
#include "core/json.h"
#include "http/http.h"

#define CONTENT_JSON     "application/json"
#define AUDIT_LIMIT_MAX  1000
#define AUDIT_LIMIT      100
#define TEAM_MEMBERS_MAX 64
#define ID_TEXT_MAX      24

static int check_no_params(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    cg_err err;
    if (cg_query_check_known(&req->query, known, &err) == 0)
        return 0;
    cg_http_reply_error(req, &err);
    return -1;
}

/* Parses the body as a JSON object whose keys are all in known[]; NULL after answering 400. */
static json_t *body_object(cg_http_req *req, const char *const *known)
{
    cg_err err;
    json_t *root = cg_json_parse_object(req->body_in, req->body_in_len, known, &err);
    if (!root)
        cg_http_reply_error(req, &err);
    return root;
}

/* A string member: *out NULL when absent; an error when present but not a string or too long. */
static int get_string(json_t *o, const char *key, size_t cap, const char **out, cg_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a string");
    if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        return cg_err_set(err, CG_EINVAL, key, "longer than %zu bytes or holds a NUL", cap - 1);
    *out = json_string_value(v);
    return 0;
}

/* The path's {id} as an account id; -1 after answering 404 (no account can have that id). */
static int path_id(cg_http_req *req, int64_t *id)
{
    char *end;
    const char *s = req->params[0];
    long long v = strtoll(s, &end, 10);
    if (*s < '1' || *s > '9' || *end || v <= 0) {
        cg_err err;
        cg_err_set(&err, CG_ENOTFOUND, "id", "no account has id '%.*s'", ID_TEXT_MAX, s);
        cg_http_reply_error(req, &err);
        return -1;
    }
    *id = v;
    return 0;
}

/* ---- POST /api/v1/auth/login, POST /api/v1/auth/logout, GET /api/v1/auth/me ---- */

static void handle_login(cg_http_req *req)
{
    static const char *const known[] = {"username", "password", "client", NULL};
    if (check_no_params(req) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    const char *username, *password, *client;
    int kind = CG_LOGIN_CONSOLE;
    if (get_string(o, "username", 64, &username, &err) != 0 ||
        get_string(o, "password", 1100, &password, &err) != 0 ||
        get_string(o, "client", 16, &client, &err) != 0)
        goto fail;
    if (!username || !password) {
        cg_err_set(&err, CG_EINVAL, username ? "password" : "username", "required");
        goto fail;
    }
    if (client && strcmp(client, "token") == 0) {
        kind = CG_LOGIN_TOKEN;
    } else if (client && strcmp(client, "console") != 0) {
        cg_err_set(&err, CG_EINVAL, "client", "'%.16s' is not one of console, token", client);
        goto fail;
    }
    cg_http_login(req, username, password, kind);
    json_decref(o);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

static void handle_logout(cg_http_req *req)
{
    cg_err err;
    if (check_no_params(req) != 0)
        return;
    if (cg_http_logout(req, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    static const char ok[] = "{\"logged_out\":true}";
    cg_http_reply_static(req, 200, CONTENT_JSON, ok, sizeof ok - 1);
}

static void handle_me(cg_http_req *req)
{
    if (check_no_params(req) != 0)
        return;
    const cg_http_auth *au = &req->auth;
    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"account\":");
    cg_http_write_account(b, &au->account);
    cg_buf_puts(b, ",\"scope\":");
    cg_json_write_string(b, au->account.scope.code);
    cg_buf_puts(b, ",\"permissions\":[");
    for (int p = 0, n = 0; p < CG_PERM_COUNT; p++) {
        if (!cg_access_allows(au->account.roles, (cg_perm)p))
            continue;
        if (n++)
            cg_buf_putc(b, ',');
        cg_json_write_string(b, cg_perm_name((cg_perm)p));
    }
    cg_buf_printf(b, "],\"session\":{\"kind\":\"%s\",\"expires_at\":%lld",
                  au->session_kind == CG_SESSION_COOKIE ? "cookie" : "bearer",
                  (long long)au->expires_at);
    /* The console keeps the CSRF token only in memory or sessionStorage; after a reload or in a
     * new tab it asks again here. Only same-origin script can read this answer (SameSite=Strict
     * cookie, no CORS), the same reach the login answer has. */
    if (au->session_kind == CG_SESSION_COOKIE) {
        cg_buf_puts(b, ",\"csrf_token\":");
        cg_json_write_string(b, au->csrf);
    }
    cg_buf_puts(b, "}}");
    cg_http_add_header(req, "Cache-Control", "no-store");
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

/* ---- accounts ---- */

typedef struct {
    cg_buf *b;
    size_t n;
} list_ctx;

static int user_cb(void *ctx, const cg_account *a)
{
    list_ctx *c = ctx;
    if (c->n++)
        cg_buf_putc(c->b, ',');
    cg_http_write_account(c->b, a);
    return 0;
}

static void handle_users(cg_http_req *req)
{
    if (check_no_params(req) != 0)
        return;
    cg_err err;
    cg_store *s;
    list_ctx c = {cg_http_scratch(req), 0};
    cg_buf_puts(c.b, "{\"users\":[");
    if (cg_http_store(req, &s, &err) != 0 ||
        cg_store_account_list(s, cg_http_scope(req), user_cb, &c, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf_printf(c.b, "],\"count\":%zu}", c.n);
    cg_http_reply(req, 200, CONTENT_JSON, c.b);
}

static void reply_account(cg_http_req *req, int status, const cg_account *a)
{
    cg_buf *b = cg_http_scratch(req);
    cg_http_write_account(b, a);
    cg_http_reply(req, status, CONTENT_JSON, b);
}

/* Roles as a JSON array of names or a "worker,leader" string. */
static int get_roles(json_t *o, uint32_t *roles, int *present, cg_err *err)
{
    json_t *v = json_object_get(o, "roles");
    *present = v != NULL;
    if (!v)
        return 0;
    if (json_is_string(v))
        return cg_roles_parse(json_string_value(v), roles, err);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cg_err_set(err, CG_EINVAL, "roles", "expected a non-empty list of role names");
    uint32_t out = 0;
    size_t i;
    json_t *r;
    json_array_foreach(v, i, r)
    {
        cg_role role;
        if (!json_is_string(r) || cg_role_parse(json_string_value(r), &role) != 0)
            return cg_err_set(err, CG_EINVAL, "roles",
                              "entry %zu is not a role (worker, leader, operator, handler, "
                              "inspector, admin)",
                              i);
        out |= (uint32_t)role;
    }
    *roles = out;
    return 0;
}

/* A scope an administrator may grant: within their own, and naming a grid they can see. */
static int check_grant_scope(cg_http_req *req, const char *code, cg_scope *out, cg_err *err)
{
    if (strlen(code) >= sizeof out->code)
        return cg_err_set(err, CG_EINVAL, "scope", "no grid has code '%.32s'", code);
    snprintf(out->code, sizeof out->code, "%s", code);
    const cg_scope *mine = cg_http_scope(req);
    if (!cg_scope_within(mine, out))
        return cg_err_set(err, CG_EINVAL, "scope",
                          "'%s' is outside your own scope; you can grant only within '%s'", code,
                          mine->code[0] ? mine->code : "(everything)");
    if (code[0] && cg_atlas_find_in(cg_http_atlas(req), mine, code) < 0)
        return cg_err_set(err, CG_EINVAL, "scope", "no grid has code '%.32s'", code);
    return 0;
}

/* Applies the optional profile fields of o onto a (shared by create and update). */
static int apply_profile(cg_http_req *req, json_t *o, cg_account *a, cg_err *err)
{
    const char *display, *department, *phone, *scope;
    int has_roles;
    uint32_t roles = a->roles;
    if (get_string(o, "display_name", sizeof a->display_name, &display, err) != 0 ||
        get_string(o, "department", sizeof a->department, &department, err) != 0 ||
        get_string(o, "duty_phone", sizeof a->duty_phone, &phone, err) != 0 ||
        get_string(o, "scope", CG_CODE_MAX, &scope, err) != 0 ||
        get_roles(o, &roles, &has_roles, err) != 0)
        return -1;
    if (scope && check_grant_scope(req, scope, &a->scope, err) != 0)
        return -1;
    if (display)
        snprintf(a->display_name, sizeof a->display_name, "%s", display);
    if (department)
        snprintf(a->department, sizeof a->department, "%s", department);
    if (phone)
        snprintf(a->duty_phone, sizeof a->duty_phone, "%s", phone);
    a->roles = roles;
    json_t *d = json_object_get(o, "disabled");
    if (d && !json_is_boolean(d))
        return cg_err_set(err, CG_EINVAL, "disabled", "expected true or false");
    if (d)
        a->disabled = json_is_true(d);
    return 0;
}

static void handle_user_create(cg_http_req *req)
{
    static const char *const known[] = {"username", "password",   "display_name", "roles",
                                        "scope",    "department", "duty_phone",   NULL};
    if (check_no_params(req) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_account a = {0};
    const char *username, *password;
    char hash[CG_PASSWORD_HASH_MAX];
    cg_store *s;
    a.scope = *cg_http_scope(req); /* by default, the granter's own */
    if (get_string(o, "username", sizeof a.username, &username, &err) != 0 ||
        get_string(o, "password", 1100, &password, &err) != 0)
        goto fail;
    if (!username || !password || !json_object_get(o, "roles")) {
        cg_err_set(&err, CG_EINVAL,
                   !username   ? "username"
                   : !password ? "password"
                               : "roles",
                   "required");
        goto fail;
    }
    snprintf(a.username, sizeof a.username, "%s", username);
    if (cg_username_check(username, &err) != 0 ||
        cg_password_check(username, password, &err) != 0 || apply_profile(req, o, &a, &err) != 0)
        goto fail;
    if (a.disabled) {
        cg_err_set(&err, CG_EINVAL, "disabled", "a new account starts enabled");
        goto fail;
    }
    if (cg_password_hash(password, hash, &err) != 0 || cg_http_store(req, &s, &err) != 0 ||
        cg_store_account_create(s, &a, hash, &err) != 0)
        goto fail;
    json_decref(o);
    reply_account(req, 201, &a);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

static void handle_user(cg_http_req *req)
{
    if (check_no_params(req) != 0)
        return;
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    cg_err err;
    cg_store *s;
    cg_account a;
    if (cg_http_store(req, &s, &err) != 0 ||
        cg_store_account_get(s, cg_http_scope(req), id, &a, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    reply_account(req, 200, &a);
}

static void handle_user_update(cg_http_req *req)
{
    static const char *const known[] = {"display_name", "roles",    "scope", "department",
                                        "duty_phone",   "disabled", NULL};
    if (check_no_params(req) != 0)
        return;
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_store *s;
    cg_account a;
    const cg_scope *scope = cg_http_scope(req);
    if (cg_http_store(req, &s, &err) != 0 || cg_store_account_get(s, scope, id, &a, &err) != 0)
        goto fail;
    int was_disabled = a.disabled;
    cg_scope old_scope = a.scope;
    uint32_t old_roles = a.roles;
    if (apply_profile(req, o, &a, &err) != 0)
        goto fail;
    if (a.roles == 0) {
        cg_err_set(&err, CG_EINVAL, "roles", "an account needs at least one role");
        goto fail;
    }
    if (cg_store_begin(s, &err) != 0)
        goto fail;
    /* Sessions carry no roles or scope of their own (each request reads the account), but a
     * narrowed or disabled account is also logged out, so nobody keeps a console open on it. */
    int revoke = (a.disabled && !was_disabled) || strcmp(old_scope.code, a.scope.code) != 0 ||
                 (old_roles & ~a.roles) != 0;
    if (cg_store_account_update(s, scope, &a, &err) != 0 ||
        (revoke && cg_store_session_delete_account(s, a.id, &err) != 0) ||
        cg_store_commit(s, &err) != 0) {
        cg_store_rollback(s);
        goto fail;
    }
    json_decref(o);
    reply_account(req, 200, &a);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

static void handle_user_password(cg_http_req *req)
{
    static const char *const known[] = {"password", NULL};
    if (check_no_params(req) != 0)
        return;
    int64_t id;
    if (path_id(req, &id) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_store *s;
    cg_account a;
    const char *password;
    char hash[CG_PASSWORD_HASH_MAX];
    const cg_scope *scope = cg_http_scope(req);
    if (get_string(o, "password", 1100, &password, &err) != 0)
        goto fail;
    if (!password) {
        cg_err_set(&err, CG_EINVAL, "password", "required");
        goto fail;
    }
    if (cg_http_store(req, &s, &err) != 0 || cg_store_account_get(s, scope, id, &a, &err) != 0 ||
        cg_password_check(a.username, password, &err) != 0 ||
        cg_password_hash(password, hash, &err) != 0 || cg_store_begin(s, &err) != 0)
        goto fail;
    if (cg_store_account_set_password(s, scope, id, hash, &err) != 0 ||
        cg_store_session_delete_account(s, id, &err) != 0 || cg_store_commit(s, &err) != 0) {
        cg_store_rollback(s);
        goto fail;
    }
    json_decref(o);
    static const char ok[] = "{\"password_changed\":true,\"sessions_revoked\":true}";
    cg_http_reply_static(req, 200, CONTENT_JSON, ok, sizeof ok - 1);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

/* ---- grid teams ---- */

/* {"id":..,"username":..,"display_name":..,"duty_phone":..} of a team member, or null. The team
 * is visible to everyone whose scope holds the grid (the team is how they reach each other),
 * whatever the members' own scopes, so the member is read unscoped once the grid was found in
 * the caller's scope. */
static int write_member(cg_buf *b, cg_store *s, int64_t id, cg_err *err)
{
    if (id == 0) {
        cg_buf_puts(b, "null");
        return 0;
    }
    cg_account a;
    if (cg_store_account_get(s, NULL, id, &a, err) != 0) {
        if (err->code != CG_ENOTFOUND)
            return -1;
        cg_buf_printf(b, "{\"id\":%lld,\"username\":null}", (long long)id);
        return 0;
    }
    cg_buf_printf(b, "{\"id\":%lld,\"username\":", (long long)a.id);
    cg_json_write_string(b, a.username);
    cg_buf_puts(b, ",\"display_name\":");
    cg_json_write_string(b, a.display_name);
    cg_buf_puts(b, ",\"duty_phone\":");
    cg_json_write_string(b, a.duty_phone);
    cg_buf_puts(b, a.disabled ? ",\"disabled\":true}" : ",\"disabled\":false}");
    return 0;
}

static void reply_team(cg_http_req *req, cg_store *s, const char *code)
{
    cg_err err;
    cg_grid g;
    cg_grid_init(&g);
    cg_buf *b = cg_http_scratch(req);
    if (cg_store_grid_read(s, cg_http_scope(req), code, 0, 0, &g, &err) != 0)
        goto fail;
    cg_buf_puts(b, "{\"code\":");
    cg_json_write_string(b, g.code);
    cg_buf_puts(b, ",\"leader\":");
    if (write_member(b, s, g.leader_id, &err) != 0)
        goto fail;
    cg_buf_puts(b, ",\"deputy\":");
    if (write_member(b, s, g.deputy_id, &err) != 0)
        goto fail;
    cg_buf_puts(b, ",\"members\":[");
    for (size_t i = 0; i < g.n_members; i++) {
        if (i)
            cg_buf_putc(b, ',');
        if (write_member(b, s, g.member_ids[i], &err) != 0)
            goto fail;
    }
    cg_buf_puts(b, "]}");
    cg_grid_free(&g);
    cg_http_reply(req, 200, CONTENT_JSON, b);
    return;
fail:
    cg_grid_free(&g);
    cg_http_reply_error(req, &err);
}

static void handle_team(cg_http_req *req)
{
    if (check_no_params(req) != 0)
        return;
    cg_err err;
    cg_store *s;
    if (cg_http_store(req, &s, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    reply_team(req, s, req->params[0]);
}

/* An account id member of the body (null or absent: none); it must be an account the caller
 * can see. */
static int team_id(cg_store *s, const cg_scope *scope, json_t *v, const char *field, int64_t *out,
                   cg_err *err)
{
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return cg_err_set(err, CG_EINVAL, field, "expected an account id or null");
    cg_account a;
    if (cg_store_account_get(s, scope, json_integer_value(v), &a, err) != 0) {
        if (err->code == CG_ENOTFOUND)
            cg_err_set(err, CG_EINVAL, field, "no account has id %lld",
                       (long long)json_integer_value(v));
        return -1;
    }
    if (a.disabled)
        return cg_err_set(err, CG_EINVAL, field, "account %lld is disabled", (long long)a.id);
    *out = a.id;
    return 0;
}

static void handle_team_set(cg_http_req *req)
{
    static const char *const known[] = {"leader", "deputy", "members", NULL};
    if (check_no_params(req) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_store *s;
    const cg_scope *scope = cg_http_scope(req);
    int64_t leader, deputy, members[TEAM_MEMBERS_MAX];
    size_t n = 0;
    json_t *list = json_object_get(o, "members");
    if (cg_http_store(req, &s, &err) != 0 ||
        team_id(s, scope, json_object_get(o, "leader"), "leader", &leader, &err) != 0 ||
        team_id(s, scope, json_object_get(o, "deputy"), "deputy", &deputy, &err) != 0)
        goto fail;
    if (list && !json_is_array(list)) {
        cg_err_set(&err, CG_EINVAL, "members", "expected a list of account ids");
        goto fail;
    }
    if (list && json_array_size(list) > TEAM_MEMBERS_MAX) {
        cg_err_set(&err, CG_EINVAL, "members", "at most %d members", TEAM_MEMBERS_MAX);
        goto fail;
    }
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        if (team_id(s, scope, json_array_get(list, i), "members", &members[n], &err) != 0)
            goto fail;
        if (members[n] == 0) {
            cg_err_set(&err, CG_EINVAL, "members", "entry %zu is not an account id", i);
            goto fail;
        }
        n++;
    }
    if (cg_store_grid_team_set(s, scope, req->params[0], leader, deputy, members, n, cg_time_now(),
                               &err) != 0)
        goto fail;
    json_decref(o);
    reply_team(req, s, req->params[0]);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/audit ---- */

typedef struct {
    cg_buf *b;
    size_t n;
} audit_ctx;

static int audit_cb(void *ctx, const cg_audit_entry *e)
{
    audit_ctx *c = ctx;
    if (c->n++)
        cg_buf_putc(c->b, ',');
    cg_buf_printf(c->b, "{\"seq\":%lld,\"at\":%lld,\"actor_id\":%lld,\"actor\":", (long long)e->seq,
                  (long long)e->at, (long long)e->actor_id);
    cg_json_write_string(c->b, e->actor);
    cg_buf_puts(c->b, ",\"address\":");
    cg_json_write_string(c->b, e->address);
    cg_buf_puts(c->b, ",\"action\":");
    cg_json_write_string(c->b, e->action);
    cg_buf_puts(c->b, ",\"target\":");
    cg_json_write_string(c->b, e->target);
    cg_buf_puts(c->b, ",\"summary\":");
    cg_json_write_string(c->b, e->summary);
    cg_buf_puts(c->b, ",\"hash\":");
    cg_json_write_string(c->b, e->hash);
    cg_buf_putc(c->b, '}');
    return 0;
}

static void handle_audit(cg_http_req *req)
{
    static const char *const known[] = {"since",  "until", "actor",  "action",
                                        "target", "limit", "offset", NULL};
    cg_err err;
    if (cg_query_check_known(&req->query, known, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_audit_filter f = {0};
    long since = 0, until = 0, limit = AUDIT_LIMIT, offset = 0;
    int present;
    if (cg_query_long(&req->query, "since", 0, 1L << 40, &since, &present, &err) != 0 ||
        cg_query_long(&req->query, "until", 0, 1L << 40, &until, &present, &err) != 0 ||
        cg_query_long(&req->query, "limit", 1, AUDIT_LIMIT_MAX, &limit, &present, &err) != 0 ||
        cg_query_long(&req->query, "offset", 0, 1L << 30, &offset, &present, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    f.since = since;
    f.until = until;
    f.limit = (int)limit;
    f.offset = (int)offset;
    f.newest_first = 1;
    f.actor = cg_query_get(&req->query, "actor");
    f.action = cg_query_get(&req->query, "action");
    f.target_prefix = cg_query_get(&req->query, "target");
    /* The log is not partitioned by scope; a scoped reader sees the entries about grids in
     * their scope (targets "grid:<code>"), narrowed further by their own target filter. */
    const cg_scope *scope = cg_http_scope(req);
    if (scope->code[0]) {
        const char *own = cg_arena_sprintf(req->arena, "grid:%s", scope->code);
        if (!f.target_prefix || strncmp(f.target_prefix, own, strlen(own)) != 0) {
            if (f.target_prefix && strncmp(own, f.target_prefix, strlen(f.target_prefix)) != 0) {
                static const char none[] = "{\"entries\":[],\"returned\":0}";
                cg_http_reply_static(req, 200, CONTENT_JSON, none, sizeof none - 1);
                return;
            }
            f.target_prefix = own;
        }
    }
    cg_store *s;
    audit_ctx c = {cg_http_scratch(req), 0};
    cg_buf_puts(c.b, "{\"entries\":[");
    if (cg_http_store(req, &s, &err) != 0 || cg_store_audit_list(s, &f, audit_cb, &c, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf_printf(c.b, "],\"returned\":%zu}", c.n);
    cg_http_reply(req, 200, CONTENT_JSON, c.b);
}

/* Literal segments before placeholders. */
const cg_route cg_access_routes[] = {
    {"POST", "/api/v1/auth/login", handle_login, "log in: a session cookie or a bearer token",
     CG_PERM_PUBLIC},
    {"POST", "/api/v1/auth/logout", handle_logout, "end this session", CG_ROUTE_ACCOUNT},
    {"GET", "/api/v1/auth/me", handle_me, "the caller's account, scope and permissions",
     CG_ROUTE_ACCOUNT},
    {"GET", "/api/v1/users", handle_users, "accounts in the caller's scope", CG_PERM_USER_READ},
    {"POST", "/api/v1/users", handle_user_create, "create an account", CG_PERM_USER_ADMIN},
    {"GET", "/api/v1/users/{id}", handle_user, "one account", CG_PERM_USER_READ},
    {"PATCH", "/api/v1/users/{id}", handle_user_update,
     "change roles, scope, profile or disable an account", CG_PERM_USER_ADMIN},
    {"POST", "/api/v1/users/{id}/password", handle_user_password,
     "set a new password (ends the account's sessions)", CG_PERM_USER_ADMIN},
    {"GET", "/api/v1/grids/{code}/team", handle_team, "a grid's team (leader, deputy, members)",
     CG_PERM_GRID_READ},
    {"PUT", "/api/v1/grids/{code}/team", handle_team_set, "assign a grid's team",
     CG_PERM_GRID_TEAM_WRITE},
    {"GET", "/api/v1/audit", handle_audit, "the audit log, newest first", CG_PERM_AUDIT_READ},
};
const size_t cg_access_routes_count = sizeof cg_access_routes / sizeof cg_access_routes[0];
