/*
 * The staff API for cases (issue 4): create (with Idempotency-Key), list with filters, read with
 * history, photos and the steps the caller may take now, transitions, assignment, dispatch
 * suggestions, duplicate candidates, photos in and out, a resident's contact (audited by the
 * store), statistics, and the rules behind them (category taxonomy, working calendar).
 *
 * Every rule lives in the case service (app/cases.h); handlers only turn JSON and query strings
 * into its inputs and its answers and errors into the one error shape. Permissions are declared
 * in the route table at the bottom and checked by the gate (http/auth.c) before a handler runs;
 * which step a role may take is the state machine's answer: its refusal for roles is 403, for
 * the state (or a version that moved on) 409. Every read and write passes the caller's scope
 * down through cg_http_case_ctx, so a case outside it answers exactly like a missing one.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/datetime.h"
#include "core/json.h"
#include "core/log.h"
#include "geo/geojson.h"
#include "http/auth.h"
#include "http/http.h"

#define CONTENT_JSON    "application/json"
#define LIST_LIMIT      50
#define LIST_LIMIT_MAX  500
#define IDEM_KEY_MAX    128
#define DUPLICATES_MAX  16
#define SUGGESTIONS_MAX 16
#define QUERY_TEXT_MAX  200
#define CONTACT_MAX     512
#define ID_TEXT_MAX     24
#define STATS_DEFAULT_S (30 * 86400)
#define TIME_MAX        4102444800LL /* 2100-01-01: beyond the calendar */
#define LOCAL_OFFSET    (8 * 3600)   /* Asia/Shanghai */

/* ---- small helpers ---- */

static int check_params(cg_http_req *req, const char *const *known)
{
    cg_err err;
    if (cg_query_check_known(&req->query, known, &err) == 0)
        return 0;
    cg_http_reply_error(req, &err);
    return -1;
}

/* The service's refusals: a role the state machine does not allow is 403, the rest as coded. */
static void reply_case_error(cg_http_req *req, const cg_err *err)
{
    if (err->code == CG_EINVAL && strcmp(err->field, "roles") == 0) {
        cg_http_reply_error_as(req, 403, "forbidden", "roles", err->message);
        return;
    }
    cg_http_reply_error(req, err);
}

static json_t *body_object(cg_http_req *req, const char *const *known)
{
    cg_err err;
    json_t *root = cg_json_parse_object(req->body_in, req->body_in_len, known, &err);
    if (!root)
        cg_http_reply_error(req, &err);
    return root;
}

static int get_string(json_t *o, const char *key, size_t cap, const char **out, cg_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a string");
    if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        return cg_err_set(err, CG_EINVAL, key, "longer than %zu bytes or holds a NUL", cap - 1);
    *out = json_string_value(v);
    return 0;
}

/* An integer member in [min, max]; *present 0 when absent or null. */
static int get_int(json_t *o, const char *key, long long min, long long max, long long *out,
                   int *present, cg_err *err)
{
    json_t *v = json_object_get(o, key);
    *present = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a whole number");
    long long n = json_integer_value(v);
    if (n < min || n > max)
        return cg_err_set(err, CG_EINVAL, key, "%lld is out of range %lld..%lld", n, min, max);
    *out = n;
    *present = 1;
    return 0;
}

static int get_number(json_t *o, const char *key, double *out, int *present, cg_err *err)
{
    json_t *v = json_object_get(o, key);
    *present = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a number");
    *out = json_number_value(v);
    *present = 1;
    return 0;
}

/* A path parameter as a positive id; -1 after answering 404 (nothing can have that id). */
static int path_id(cg_http_req *req, int idx, int64_t *id)
{
    const char *s = req->params[idx];
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '1' || *s > '9' || *end || v <= 0 || strlen(s) > 18) {
        cg_err err;
        cg_err_set(&err, CG_ENOTFOUND, "id", "no case has id '%.*s'", ID_TEXT_MAX, s);
        cg_http_reply_error(req, &err);
        return -1;
    }
    *id = v;
    return 0;
}

/* ---- time: ISO 8601 (Asia/Shanghai unless an offset is given) or Unix seconds ---- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "1767225600", "2026-01-01", "2026-01-01T08:00", "2026-01-01T08:00:00Z", "...+08:00". */
static int parse_time(const char *v, const char *field, int64_t *out, cg_err *err)
{
    size_t n = strlen(v);
    if (n > 0 && n <= 12 && strspn(v, "0123456789") == n) {
        long long t = strtoll(v, NULL, 10);
        if (t > TIME_MAX)
            return cg_err_set(err, CG_EINVAL, field, "%s is past the year 2099", v);
        *out = t;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, off = LOCAL_OFFSET;
    const char *p = v;
    if (n < 10 || digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) || p[7] != '-' ||
        digits(p + 8, 2, &d))
        goto bad;
    p += 10;
    if (*p == 'T' || *p == ' ') {
        if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            goto bad;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &sec))
                goto bad;
            p += 3;
        }
        if (*p == 'Z') {
            off = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (digits(p + 1, 2, &oh) || digits(p + (p[3] == ':' ? 4 : 3), 2, &om))
                goto bad;
            off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
            p += p[3] == ':' ? 6 : 5;
        }
    }
    if (*p || y < 1970 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        goto bad;
    int64_t cy;
    int cm, cd;
    int64_t days = cg_days_from_civil(y, mo, d);
    cg_civil_from_days(days, &cy, &cm, &cd);
    if (cm != mo) /* 2026-02-30 */
        goto bad;
    *out = days * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
bad:
    return cg_err_set(err, CG_EINVAL, field,
                      "'%.40s' is not a time: use ISO 8601 (2026-11-24, 2026-11-24T10:00:00+08:00) "
                      "or Unix seconds",
                      v);
}

static void write_time(cg_buf *b, int64_t t)
{
    char iso[CG_ISO_LOCAL_LEN + 1];
    if (t <= 0 || !cg_time_iso_local(t, iso)) {
        cg_buf_puts(b, "null");
        return;
    }
    cg_buf_printf(b, "\"%s\"", iso);
}

static int query_time(cg_http_req *req, const char *key, int64_t *out, cg_err *err)
{
    const char *v = cg_query_get(&req->query, key);
    return v ? parse_time(v, key, out, err) : 0;
}

/* ---- JSON pieces ---- */

static void write_assignee(cg_buf *b, const cg_assignee *a)
{
    cg_buf_puts(b, "{\"kind\":");
    cg_json_write_string(b, cg_assignee_kind_name(a->kind));
    cg_buf_printf(b, ",\"account_id\":%lld,\"label\":", (long long)a->account_id);
    cg_json_write_string(b, a->label);
    cg_buf_putc(b, '}');
}

/* {"kind":"department","account_id":0,"label":"..."}; field names the member for errors. */
static int parse_assignee(json_t *v, const char *field, cg_assignee *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return cg_err_set(err, CG_EINVAL, field,
                          "expected {\"kind\": \"account\"|\"department\"|\"grid\", "
                          "\"account_id\": n, \"label\": \"...\"}");
    const char *key;
    json_t *m;
    json_object_foreach(v, key, m)
    {
        if (strcmp(key, "kind") && strcmp(key, "account_id") && strcmp(key, "label"))
            return cg_err_set(err, CG_EINVAL, field,
                              "unknown key '%.32s' (kind, account_id, label)", key);
    }
    json_t *kind = json_object_get(v, "kind");
    if (!json_is_string(kind) || cg_assignee_kind_parse(json_string_value(kind), &out->kind) != 0 ||
        out->kind == CG_ASSIGN_NONE)
        return cg_err_set(err, CG_EINVAL, field, "kind must be account, department or grid");
    json_t *id = json_object_get(v, "account_id");
    if (id && !json_is_null(id)) {
        if (!json_is_integer(id) || json_integer_value(id) < 0)
            return cg_err_set(err, CG_EINVAL, field, "account_id must be an account id");
        out->account_id = json_integer_value(id);
    }
    json_t *label = json_object_get(v, "label");
    if (label && !json_is_null(label)) {
        if (!json_is_string(label) || json_string_length(label) >= sizeof out->label)
            return cg_err_set(err, CG_EINVAL, field, "label must be a string under %zu bytes",
                              sizeof out->label);
        snprintf(out->label, sizeof out->label, "%s", json_string_value(label));
    }
    if (out->kind == CG_ASSIGN_ACCOUNT && out->account_id <= 0)
        return cg_err_set(err, CG_EINVAL, field, "an account assignee needs account_id");
    if (out->kind != CG_ASSIGN_ACCOUNT && !out->label[0])
        return cg_err_set(err, CG_EINVAL, field, "a %s assignee needs a label",
                          cg_assignee_kind_name(out->kind));
    return 0;
}

/* The steps the caller may take now: the state machine's table for this state and these roles
 * (and the tier rule: nothing escalates past the street). */
static void write_actions(cg_buf *b, const cg_case *c, uint32_t roles)
{
    cg_buf_putc(b, '[');
    int n = 0;
    for (int a = CG_ACT_REPORT + 1; a < CG_ACT_COUNT; a++) {
        uint32_t allowed = cg_case_roles_for(c->status.state, (cg_case_action)a);
        if (!(allowed & roles & ~CG_CASE_ANYONE))
            continue;
        if (a == CG_ACT_ESCALATE && c->status.tier >= CG_TIER_STREET)
            continue;
        if (n++)
            cg_buf_putc(b, ',');
        cg_json_write_string(b, cg_case_action_name((cg_case_action)a));
    }
    cg_buf_putc(b, ']');
}

/* {"case":{...},"actions":[...]} (the answer of every single-case write). */
static void reply_case(cg_http_req *req, const cg_case_ctx *ctx, int status, const cg_case *c)
{
    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"case\":");
    cg_case_json(c, ctx->rules, ctx->now, b);
    cg_buf_puts(b, ",\"actions\":");
    write_actions(b, c, ctx->roles);
    cg_buf_putc(b, '}');
    cg_http_reply(req, status, CONTENT_JSON, b);
}

/* ---- POST /api/v1/cases ---- */

/* Idempotency-Key: 1..128 visible ASCII characters, scoped to the account that sends it. */
static int idem_key(cg_http_req *req, const char **out, cg_err *err)
{
    const char *k = cg_http_header(req, "Idempotency-Key");
    *out = NULL;
    if (!k)
        return 0;
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return cg_err_set(err, CG_EINVAL, "Idempotency-Key", "expected 1 to %d characters",
                          IDEM_KEY_MAX);
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return cg_err_set(err, CG_EINVAL, "Idempotency-Key",
                              "only visible ASCII characters (no spaces)");
    *out = cg_arena_sprintf(req->arena, "acct:%lld:%s", (long long)req->auth.account.id, k);
    return 0;
}

/* The answer to POST /api/v1/cases once the case is stored (cg_http_case_submit). */
static void created(cg_http_req *req, const cg_case_ctx *ctx, cg_case *c, int replayed,
                    const cg_err *failed, void *arg)
{
    const cg_intake_dups *found = arg;
    if (failed) {
        cg_err e = *failed;
        reply_case_error(req, &e);
        return;
    }
    cg_err err;
    cg_err_clear(&err);
    /* Suggestions only: a failure here does not undo the report. The intake's writer searched
     * already for a new case (cg_intake_dups); a replay, or the search without the intake, runs
     * here. */
    int64_t dups[DUPLICATES_MAX];
    size_t n_dups = 0;
    if (found && found->done && !replayed) {
        for (size_t i = 0; i < found->n && i < DUPLICATES_MAX; i++)
            dups[n_dups++] = found->ids[i];
    } else if (c->has_point &&
               cg_cases_duplicates(ctx, c->category, c->lon, c->lat, c->reported_at, c->id, dups,
                                   DUPLICATES_MAX, &n_dups, &err) != 0) {
        cg_log_warn("case %lld: duplicate search failed: %s", (long long)c->id, err.message);
        n_dups = 0;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_puts(b, "{\"case\":");
    cg_case_json(c, ctx->rules, ctx->now, b);
    cg_buf_puts(b, ",\"duplicates\":[");
    for (size_t i = 0; i < n_dups; i++)
        cg_buf_printf(b, "%s%lld", i ? "," : "", (long long)dups[i]);
    cg_buf_printf(b, "],\"replayed\":%s,\"actions\":", replayed ? "true" : "false");
    write_actions(b, c, ctx->roles);
    cg_buf_putc(b, '}');
    cg_http_add_header(req, "Location",
                       cg_arena_sprintf(req->arena, "/api/v1/cases/%lld", (long long)c->id));
    cg_http_reply(req, replayed ? 200 : 201, CONTENT_JSON, b);
}

static void handle_create(cg_http_req *req)
{
    static const char *const known[] = {"category", "description", "lon",     "lat", "address",
                                        "priority", "source",      "contact", NULL};
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case_input in = {0};
    in.source = CG_SOURCE_WORKER;
    const char *source;
    double lon = 0, lat = 0;
    int has_lon, has_lat, has_priority;
    long long priority = 0;
    cg_case_ctx ctx;
    if (get_string(o, "category", 64, &in.category, &err) != 0 ||
        get_string(o, "description", CG_CASE_DESC_BYTES + 1, &in.description, &err) != 0 ||
        get_string(o, "address", CG_CASE_ADDR_BYTES + 1, &in.address, &err) != 0 ||
        get_string(o, "contact", CONTACT_MAX, &in.contact, &err) != 0 ||
        get_string(o, "source", 32, &source, &err) != 0 ||
        get_number(o, "lon", &lon, &has_lon, &err) != 0 ||
        get_number(o, "lat", &lat, &has_lat, &err) != 0 ||
        get_int(o, "priority", -1000, 1000, &priority, &has_priority, &err) != 0 ||
        idem_key(req, &in.idem_key, &err) != 0)
        goto fail;
    if (!in.category) {
        cg_err_set(&err, CG_EINVAL, "category", "required");
        goto fail;
    }
    if (!in.description) {
        cg_err_set(&err, CG_EINVAL, "description", "required");
        goto fail;
    }
    if (has_lon != has_lat) {
        cg_err_set(&err, CG_EINVAL, has_lon ? "lat" : "lon", "required with %s",
                   has_lon ? "lon" : "lat");
        goto fail;
    }
    if (source && cg_case_source_parse(source, &in.source) != 0) {
        cg_err_set(&err, CG_EINVAL, "source",
                   "'%.32s' is not one of worker, resident, hotline, patrol, inspection", source);
        goto fail;
    }
    in.lon = lon;
    in.lat = lat;
    in.has_point = has_lon;
    in.priority = (int)priority;
    if (cg_http_case_ctx(req, &ctx, &err) != 0)
        goto fail;
    cg_case *c = cg_arena_calloc(req->arena, 1, sizeof *c);
    /* answered by created() once the case is committed */
    cg_intake_dups *dups = cg_arena_calloc(req->arena, 1, sizeof *dups);
    cg_http_case_submit(req, &ctx, &in, c, dups, created, dups);
    json_decref(o);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/cases ---- */

static int parse_states(const char *v, uint32_t *out, cg_err *err)
{
    uint32_t states = 0;
    const char *p = v;
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[32];
        cg_case_state st;
        if (len == 0 || len >= sizeof name)
            return cg_err_set(err, CG_EINVAL, "state", "'%.64s' is not a list of states", v);
        memcpy(name, p, len);
        name[len] = '\0';
        if (cg_case_state_parse(name, &st) != 0 || st == CG_CASE_NONE)
            return cg_err_set(err, CG_EINVAL, "state",
                              "unknown state '%s' (reported, registered, dispatched, "
                              "in_progress, handled, verified_closed, evaluated, rejected, "
                              "duplicate, returned, extension_requested, suspended, escalated, "
                              "reopened)",
                              name);
        states |= 1u << st;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = states;
    return 0;
}

/* "me" or a positive id. */
static int who(cg_http_req *req, const char *key, int allow_id, int64_t *out, cg_err *err)
{
    const char *v = cg_query_get(&req->query, key);
    *out = 0;
    if (!v)
        return 0;
    if (strcmp(v, "me") == 0) {
        *out = req->auth.account.id;
        return 0;
    }
    char *end;
    long long id = strtoll(v, &end, 10);
    if (allow_id && *v >= '1' && *v <= '9' && !*end && id > 0) {
        *out = id;
        return 0;
    }
    return cg_err_set(err, CG_EINVAL, key,
                      allow_id ? "expected 'me' or an account id" : "expected 'me'");
}

static void handle_list(cg_http_req *req)
{
    static const char *const known[] = {
        "state", "category", "grid",     "no_grid",  "overdue", "source", "since",  "until",
        "bbox",  "q",        "assignee", "reporter", "order",   "limit",  "offset", NULL};
    static const char *const orders[] = {"newest", "due", "id", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case_filter f = {0};
    cg_case_ctx ctx;
    long limit = LIST_LIMIT, offset = 0;
    int present, no_grid, overdue, has_box;
    double box[4];
    cg_bbox bbox;
    const char *v;
    if (cg_query_long(&req->query, "limit", 1, LIST_LIMIT_MAX, &limit, &present, &err) != 0 ||
        cg_query_long(&req->query, "offset", 0, 1L << 30, &offset, &present, &err) != 0 ||
        cg_query_bool(&req->query, "no_grid", &no_grid, &err) != 0 ||
        cg_query_bool(&req->query, "overdue", &overdue, &err) != 0 ||
        query_time(req, "since", &f.since, &err) != 0 ||
        query_time(req, "until", &f.until, &err) != 0 ||
        cg_query_bbox(&req->query, "bbox", box, &has_box, &err) != 0 ||
        who(req, "assignee", 1, &f.assignee_account, &err) != 0 ||
        who(req, "reporter", 0, &f.reporter_id, &err) != 0)
        goto fail;
    if ((v = cg_query_get(&req->query, "state")) && parse_states(v, &f.states, &err) != 0)
        goto fail;
    if ((v = cg_query_get(&req->query, "source")) && cg_case_source_parse(v, &f.source) != 0) {
        cg_err_set(&err, CG_EINVAL, "source",
                   "'%.32s' is not one of worker, resident, hotline, patrol, inspection", v);
        goto fail;
    }
    if ((v = cg_query_get(&req->query, "order"))) {
        int i = 0;
        while (orders[i] && strcmp(orders[i], v) != 0)
            i++;
        if (!orders[i]) {
            cg_err_set(&err, CG_EINVAL, "order", "'%.32s' is not one of newest, due, id", v);
            goto fail;
        }
        f.order = i == 0 ? CG_CASE_ORDER_NEWEST : i == 1 ? CG_CASE_ORDER_DUE : CG_CASE_ORDER_ID;
    }
    if ((v = cg_query_get(&req->query, "grid"))) {
        if (!v[0] || strlen(v) >= CG_CODE_MAX) {
            cg_err_set(&err, CG_EINVAL, "grid",
                       "expected a grid code (for cases in no grid, use no_grid=true)");
            goto fail;
        }
        f.subtree_code = v;
    }
    if ((v = cg_query_get(&req->query, "category")))
        f.category = v;
    if ((v = cg_query_get(&req->query, "q"))) {
        if (strlen(v) > QUERY_TEXT_MAX) {
            cg_err_set(&err, CG_EINVAL, "q", "at most %d bytes of search text", QUERY_TEXT_MAX);
            goto fail;
        }
        f.text = v;
    }
    if (f.since && f.until && f.until <= f.since) {
        cg_err_set(&err, CG_EINVAL, "until", "must be after since");
        goto fail;
    }
    if (has_box) {
        bbox = (cg_bbox){box[0], box[1], box[2], box[3]};
        f.bbox = &bbox;
    }
    f.no_grid = no_grid;
    if (cg_http_case_ctx(req, &ctx, &err) != 0)
        goto fail;
    if (overdue)
        f.overdue_at = ctx.now;
    f.scope = ctx.scope;
    int64_t total;
    f.limit = (int)limit;
    f.offset = (int)offset;
    cg_buf *b = cg_http_scratch(req);
    size_t n = 0;
    cg_buf_puts(b, "{\"cases\":[");
    if (cg_cases_list_json(&ctx, &f, b, &n, &total, &err) != 0)
        goto fail;
    cg_buf_printf(b, "],\"total\":%lld,\"returned\":%zu,\"limit\":%ld,\"offset\":%ld}",
                  (long long)total, n, limit, offset);
    cg_http_reply(req, 200, CONTENT_JSON, b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/cases/{id} ---- */

typedef struct {
    cg_buf *b;
    size_t n;
    int64_t case_id;
} history_ctx;

static int history_cb(void *arg, const cg_case_event *e)
{
    history_ctx *h = arg;
    if (h->n++)
        cg_buf_putc(h->b, ',');
    cg_case_event_json(e, h->b);
    return 0;
}

static int photo_cb(void *arg, const cg_case_photo *p)
{
    history_ctx *h = arg;
    if (h->n++)
        cg_buf_putc(h->b, ',');
    cg_buf_puts(h->b, "{\"sha256\":");
    cg_json_write_string(h->b, p->sha256);
    cg_buf_puts(h->b, ",\"mime\":");
    cg_json_write_string(h->b, p->mime);
    cg_buf_printf(h->b, ",\"bytes\":%lld,\"event_seq\":%lld,\"at\":", (long long)p->bytes,
                  (long long)p->event_seq);
    write_time(h->b, p->at);
    cg_buf_printf(h->b, ",\"url\":\"/api/v1/cases/%lld/photos/%s\"}", (long long)h->case_id,
                  p->sha256);
    return 0;
}

/* Reads the case of the path within the caller's scope; -1 after answering. */
static int load_case(cg_http_req *req, cg_case_ctx *ctx, int64_t *id, cg_case **c)
{
    cg_err err;
    if (path_id(req, 0, id) != 0)
        return -1;
    *c = cg_arena_calloc(req->arena, 1, sizeof **c);
    if (cg_http_case_ctx(req, ctx, &err) != 0 || cg_cases_get(ctx, *id, *c, &err) != 0) {
        reply_case_error(req, &err);
        return -1;
    }
    return 0;
}

static void handle_get(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    cg_case_ctx ctx;
    int64_t id;
    cg_case *c;
    if (load_case(req, &ctx, &id, &c) != 0)
        return;
    cg_err err;
    history_ctx h = {cg_http_scratch(req), 0, id};
    cg_buf_puts(h.b, "{\"case\":");
    cg_case_json(c, ctx.rules, ctx.now, h.b);
    cg_buf_puts(h.b, ",\"history\":[");
    if (cg_store_case_history(ctx.store, id, history_cb, &h, &err) != 0)
        goto fail;
    cg_buf_puts(h.b, "],\"photos\":[");
    h.n = 0;
    if (cg_store_case_photos(ctx.store, id, photo_cb, &h, &err) != 0)
        goto fail;
    cg_buf_puts(h.b, "],\"actions\":");
    write_actions(h.b, c, ctx.roles);
    cg_buf_putc(h.b, '}');
    cg_http_reply(req, 200, CONTENT_JSON, h.b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* ---- POST /api/v1/cases/{id}/transitions and /assign ---- */

static void handle_transition(cg_http_req *req)
{
    static const char *const known[] = {"action",       "note",       "assignee", "extension",
                                        "duplicate_of", "evaluation", "version",  NULL};
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    int64_t id;
    if (path_id(req, 0, &id) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case_step_input in = {0};
    cg_assignee to;
    const char *action;
    long long n;
    int present;
    cg_case_ctx ctx;
    if (get_string(o, "action", 32, &action, &err) != 0 ||
        get_string(o, "note", CG_CASE_NOTE_BYTES + 1, &in.note, &err) != 0)
        goto fail;
    if (!action) {
        cg_err_set(&err, CG_EINVAL, "action", "required");
        goto fail;
    }
    if (cg_case_action_parse(action, &in.action) != 0 || in.action == CG_ACT_REPORT) {
        cg_err_set(&err, CG_EINVAL, "action",
                   "'%.32s' is not a step (register, reject, mark_duplicate, dispatch, accept, "
                   "return, request_extension, approve_extension, deny_extension, suspend, "
                   "resume, escalate, handle, close, evaluate, reopen)",
                   action);
        goto fail;
    }
    json_t *a = json_object_get(o, "assignee");
    if (a && !json_is_null(a)) {
        if (parse_assignee(a, "assignee", &to, &err) != 0)
            goto fail;
        in.assignee = &to;
    }
    if (get_int(o, "extension", 1, CG_CAT_LIMIT_MAX, &n, &present, &err) != 0)
        goto fail;
    in.extension = present ? (int)n : 0;
    if (get_int(o, "duplicate_of", 1, INT64_MAX, &n, &present, &err) != 0)
        goto fail;
    in.duplicate_of = present ? n : 0;
    if (get_int(o, "evaluation", 1, 5, &n, &present, &err) != 0)
        goto fail;
    in.evaluation = present ? (int)n : 0;
    if (get_int(o, "version", 1, INT64_MAX, &n, &present, &err) != 0)
        goto fail;
    in.expected_version = present ? n : 0;
    if (cg_http_case_ctx(req, &ctx, &err) != 0)
        goto fail;
    cg_case *c = cg_arena_calloc(req->arena, 1, sizeof *c);
    if (cg_cases_transition(&ctx, id, &in, c, &err) != 0) {
        json_decref(o);
        reply_case_error(req, &err);
        return;
    }
    json_decref(o);
    reply_case(req, &ctx, 200, c);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

static void handle_assign(cg_http_req *req)
{
    static const char *const known[] = {"assignee", "note", "version", NULL};
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    int64_t id;
    if (path_id(req, 0, &id) != 0)
        return;
    json_t *o = body_object(req, known);
    if (!o)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_assignee to;
    const char *note;
    long long version = 0;
    int present;
    cg_case_ctx ctx;
    json_t *a = json_object_get(o, "assignee");
    if (!a || json_is_null(a)) {
        cg_err_set(&err, CG_EINVAL, "assignee", "required");
        goto fail;
    }
    if (parse_assignee(a, "assignee", &to, &err) != 0 ||
        get_string(o, "note", CG_CASE_NOTE_BYTES + 1, &note, &err) != 0 ||
        get_int(o, "version", 1, INT64_MAX, &version, &present, &err) != 0 ||
        cg_http_case_ctx(req, &ctx, &err) != 0)
        goto fail;
    cg_case *c = cg_arena_calloc(req->arena, 1, sizeof *c);
    /* A case outside the scope is missing (404) whatever the caller's roles, as for steps. */
    if (cg_cases_get(&ctx, id, c, &err) != 0 ||
        cg_cases_assign(&ctx, id, &to, note, present ? version : 0, c, &err) != 0) {
        json_decref(o);
        reply_case_error(req, &err);
        return;
    }
    json_decref(o);
    reply_case(req, &ctx, 200, c);
    return;
fail:
    json_decref(o);
    cg_http_reply_error(req, &err);
}

/* ---- GET /api/v1/cases/{id}/suggestions and /duplicates ---- */

static void handle_suggestions(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    cg_case_ctx ctx;
    int64_t id;
    cg_case *c;
    if (load_case(req, &ctx, &id, &c) != 0)
        return;
    cg_err err;
    cg_assignee out[SUGGESTIONS_MAX];
    size_t n = 0;
    if (cg_cases_suggest(&ctx, c, out, SUGGESTIONS_MAX, &n, &err) != 0) {
        reply_case_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_printf(b, "{\"case_id\":%lld,\"suggestions\":[", (long long)id);
    for (size_t i = 0; i < n; i++) {
        if (i)
            cg_buf_putc(b, ',');
        write_assignee(b, &out[i]);
    }
    cg_buf_puts(b, "]}");
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

static void handle_duplicates(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    cg_case_ctx ctx;
    int64_t id;
    cg_case *c;
    if (load_case(req, &ctx, &id, &c) != 0)
        return;
    cg_err err;
    int64_t ids[DUPLICATES_MAX];
    size_t n = 0;
    /* A case reported with an address only has no point to be near. */
    if (c->has_point && cg_cases_duplicates(&ctx, c->category, c->lon, c->lat, c->reported_at, id,
                                            ids, DUPLICATES_MAX, &n, &err) != 0) {
        reply_case_error(req, &err);
        return;
    }
    cg_case_filter f = {0};
    f.ids = ids;
    f.n_ids = n;
    f.scope = ctx.scope;
    f.order = CG_CASE_ORDER_ID;
    cg_buf *b = cg_http_scratch(req);
    size_t listed;
    int64_t total;
    cg_buf_printf(b, "{\"case_id\":%lld,\"duplicates\":[", (long long)id);
    if (n && cg_cases_list_json(&ctx, &f, b, &listed, &total, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf_puts(b, "]}");
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

/* ---- photos ---- */

static void handle_photo_add(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    int64_t id;
    if (path_id(req, 0, &id) != 0)
        return;
    cg_err err;
    cg_case_ctx ctx;
    char sha[65];
    if (cg_http_case_ctx(req, &ctx, &err) != 0 ||
        cg_cases_photo_add(&ctx, id, req->body_in, req->body_in_len, NULL, sha, &err) != 0) {
        reply_case_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_printf(b,
                  "{\"case_id\":%lld,\"sha256\":\"%s\",\"mime\":\"%s\",\"bytes\":%zu,"
                  "\"url\":\"/api/v1/cases/%lld/photos/%s\"}",
                  (long long)id, sha, cg_photo_mime(req->body_in, req->body_in_len),
                  req->body_in_len, (long long)id, sha);
    cg_http_reply(req, 201, CONTENT_JSON, b);
}

static void handle_photo_get(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    int64_t id;
    if (path_id(req, 0, &id) != 0)
        return;
    cg_err err;
    const char *sha = req->params[1];
    if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
        cg_err_set(&err, CG_ENOTFOUND, "sha", "case %lld has no photo '%.64s'", (long long)id, sha);
        cg_http_reply_error(req, &err);
        return;
    }
    cg_case_ctx ctx;
    int fd;
    uint64_t size;
    const char *mime;
    if (cg_http_case_ctx(req, &ctx, &err) != 0 ||
        cg_cases_photo_open(&ctx, id, sha, &fd, &size, &mime, &err) != 0) {
        reply_case_error(req, &err);
        return;
    }
    /* Content-addressed: the bytes behind a URL never change. */
    cg_http_add_header(req, "Cache-Control", "private, max-age=31536000, immutable");
    cg_http_add_header(req, "X-Content-Type-Options", "nosniff");
    cg_http_reply_fd(req, fd, size, mime);
}

/* ---- GET /api/v1/cases/{id}/contact ---- */

static void handle_contact(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    cg_case_ctx ctx;
    int64_t id;
    cg_case *c;
    if (load_case(req, &ctx, &id, &c) != 0)
        return;
    cg_err err;
    char ref[ID_TEXT_MAX], contact[CONTACT_MAX];
    snprintf(ref, sizeof ref, "%lld", (long long)id);
    if (!c->has_contact) {
        cg_err_set(&err, CG_ENOTFOUND, "contact", "case %lld has no resident contact",
                   (long long)id);
        cg_http_reply_error(req, &err);
        return;
    }
    /* The store audits the read (contact.read) in the same transaction. */
    if (cg_store_contact_get(ctx.store, ref, contact, sizeof contact, &err) != 0) {
        if (err.code == CG_ENOTFOUND)
            cg_err_set(&err, CG_ENOTFOUND, "contact",
                       "case %lld has no resident contact (purged after the retention period)",
                       (long long)id);
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_buf_printf(b, "{\"case_id\":%lld,\"contact\":", (long long)id);
    cg_json_write_string(b, contact);
    cg_buf_putc(b, '}');
    cg_http_add_header(req, "Cache-Control", "no-store");
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

/* ---- GET /api/v1/stats/cases ---- */

typedef struct {
    cg_buf *b;
    size_t n;
} stats_ctx;

static void write_rate(cg_buf *b, const char *name, double v)
{
    cg_buf_printf(b, ",\"%s\":", name);
    if (isfinite(v))
        cg_buf_printf(b, "%.4f", v);
    else
        cg_buf_puts(b, "null");
}

static int stats_cb(void *arg, const cg_case_stats *r)
{
    stats_ctx *s = arg;
    const cg_case_stats_row *c = &r->counts;
    if (s->n++)
        cg_buf_putc(s->b, ',');
    cg_buf_puts(s->b, "{\"key\":");
    cg_json_write_string(s->b, c->key);
    cg_buf_printf(s->b,
                  ",\"reported\":%lld,\"registered\":%lld,\"dispatched\":%lld,\"closed\":%lld,"
                  "\"closed_on_time\":%lld,\"returned\":%lld,\"extended\":%lld,"
                  "\"overdue_open\":%lld",
                  (long long)c->reported, (long long)c->registered, (long long)c->dispatched,
                  (long long)c->closed, (long long)c->closed_on_time, (long long)c->returned,
                  (long long)c->extended, (long long)c->overdue_open);
    write_rate(s->b, "dispatch_rate", r->dispatch_rate);
    write_rate(s->b, "close_rate", r->close_rate);
    write_rate(s->b, "on_time_rate", r->on_time_rate);
    write_rate(s->b, "return_rate", r->return_rate);
    write_rate(s->b, "extend_rate", r->extend_rate);
    cg_buf_putc(s->b, '}');
    return 0;
}

static void handle_stats(cg_http_req *req)
{
    static const char *const known[] = {"group", "level",    "since", "until",
                                        "grid",  "category", NULL};
    static const char *const groups[] = {"grid", "category", "department", "day", NULL};
    static const char *const levels[] = {"grid", "community", "street", NULL};
    if (check_params(req, known) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case_stats_query q = {0};
    cg_case_ctx ctx;
    int group = 0, level = 0;
    const char *v;
    if ((v = cg_query_get(&req->query, "group"))) {
        while (groups[group] && strcmp(groups[group], v) != 0)
            group++;
        if (!groups[group]) {
            cg_err_set(&err, CG_EINVAL, "group",
                       "'%.32s' is not one of grid, category, department, day", v);
            goto fail;
        }
    }
    if ((v = cg_query_get(&req->query, "level"))) {
        while (levels[level] && strcmp(levels[level], v) != 0)
            level++;
        if (!levels[level]) {
            cg_err_set(&err, CG_EINVAL, "level", "'%.32s' is not one of grid, community, street",
                       v);
            goto fail;
        }
        if (group != 0) {
            cg_err_set(&err, CG_EINVAL, "level", "only with group=grid");
            goto fail;
        }
    }
    q.group = group == 0   ? CG_STATS_BY_GRID
              : group == 1 ? CG_STATS_BY_CATEGORY
              : group == 2 ? CG_STATS_BY_DEPARTMENT
                           : CG_STATS_BY_DAY;
    q.level = level == 0 ? CG_LEVEL_GRID : level == 1 ? CG_LEVEL_COMMUNITY : CG_LEVEL_STREET;
    if (query_time(req, "since", &q.since, &err) != 0 ||
        query_time(req, "until", &q.until, &err) != 0 || cg_http_case_ctx(req, &ctx, &err) != 0)
        goto fail;
    if (!q.until)
        q.until = ctx.now + 1;
    if (!q.since)
        q.since = q.until - STATS_DEFAULT_S;
    if (q.until <= q.since) {
        cg_err_set(&err, CG_EINVAL, "until", "must be after since");
        goto fail;
    }
    if ((v = cg_query_get(&req->query, "grid")))
        q.subtree_code = v;
    if ((v = cg_query_get(&req->query, "category")))
        q.category = v;
    q.scope = ctx.scope;
    stats_ctx s = {cg_http_scratch(req), 0};
    cg_buf_printf(s.b, "{\"group\":\"%s\",", groups[group]);
    if (group == 0)
        cg_buf_printf(s.b, "\"level\":\"%s\",", levels[level]);
    cg_buf_puts(s.b, "\"since\":");
    write_time(s.b, q.since);
    cg_buf_puts(s.b, ",\"until\":");
    write_time(s.b, q.until);
    cg_buf_puts(s.b, ",\"rows\":[");
    if (cg_cases_stats(&ctx, &q, stats_cb, &s, &err) != 0)
        goto fail;
    cg_buf_printf(s.b, "],\"count\":%zu}", s.n);
    cg_http_reply(req, 200, CONTENT_JSON, s.b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* ---- categories ---- */

static void reply_taxonomy(cg_http_req *req)
{
    cg_err err;
    cg_case_ctx ctx;
    if (cg_http_case_ctx(req, &ctx, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    cg_taxonomy_to_json(&ctx.rules->taxonomy, b);
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

static void handle_categories(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    reply_taxonomy(req);
}

static void handle_categories_put(cg_http_req *req)
{
    if (check_params(req, (const char *const[]){NULL}) != 0)
        return;
    cg_err err;
    cg_store *s;
    if (cg_http_store(req, &s, &err) != 0 ||
        cg_json_check_depth(req->body_in, req->body_in_len, CG_JSON_BODY_MAX_DEPTH,
                            "the request body", &err) != 0 ||
        cg_case_rules_put_taxonomy(s, req->body_in, req->body_in_len, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    reply_taxonomy(req); /* the new generation: this request loads the new rules */
}

/* ---- the working calendar ---- */

static int path_year(cg_http_req *req, int *year)
{
    const char *v = req->params[0];
    int y;
    if (strlen(v) != 4 || digits(v, 4, &y) != 0 || y < CG_CAL_FIRST_YEAR || y > CG_CAL_LAST_YEAR) {
        cg_err err;
        cg_err_set(&err, CG_ENOTFOUND, "year", "no calendar year '%.8s' (%d..%d)", v,
                   CG_CAL_FIRST_YEAR, CG_CAL_LAST_YEAR);
        cg_http_reply_error(req, &err);
        return -1;
    }
    *year = y;
    return 0;
}

/*
 * A year as the calendar in force applies it: holidays (Monday-Friday dates without work) and
 * make-up working days (Saturday or Sunday dates with work), with the stored document's source
 * and note. "imported" says whether the year's holidays are known (a year never imported follows
 * the weekly pattern only).
 */
static void reply_year(cg_http_req *req, int year)
{
    cg_err err;
    cg_case_ctx ctx;
    if (cg_http_case_ctx(req, &ctx, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    const cg_calendar *cal = ctx.rules->calendar;
    cg_buf *b = cg_http_scratch(req);
    cg_buf doc;
    cg_buf_init(&doc);
    char name[32];
    snprintf(name, sizeof name, "calendar.%d", year);
    json_t *stored = NULL;
    if (cg_store_doc_get(ctx.store, name, &doc, &err) == 0 && doc.len)
        stored = json_loadb(doc.data, doc.len, 0, NULL);
    cg_buf_free(&doc);
    cg_buf_printf(b, "{\"year\":%d,\"imported\":%s", year,
                  cg_calendar_has_year(cal, year) ? "true" : "false");
    for (int pass = 0; pass < 2; pass++) {
        cg_buf_puts(b, pass == 0 ? ",\"holidays\":[" : "],\"workdays\":[");
        int n = 0;
        int64_t first = cg_days_from_civil(year, 1, 1), last = cg_days_from_civil(year + 1, 1, 1);
        for (int64_t day = first; day < last; day++) {
            int64_t y;
            int m, d;
            cg_civil_from_days(day, &y, &m, &d);
            int wday = (int)((day % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
            int weekend = wday == 0 || wday == 6;
            int working = cg_calendar_is_working_day(cal, (int)y, m, d);
            if ((pass == 0 && !weekend && !working) || (pass == 1 && weekend && working))
                cg_buf_printf(b, "%s\"%04d-%02d-%02d\"", n++ ? "," : "", (int)y, m, d);
        }
    }
    cg_buf_putc(b, ']');
    for (int k = 0; k < 2; k++) {
        const char *key = k == 0 ? "source" : "note";
        json_t *v = stored ? json_object_get(stored, key) : NULL;
        cg_buf_printf(b, ",\"%s\":", key);
        if (json_is_string(v))
            cg_json_write_string(b, json_string_value(v));
        else
            cg_buf_puts(b, "null");
    }
    cg_buf_putc(b, '}');
    json_decref(stored);
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

static void handle_calendar(cg_http_req *req)
{
    int year;
    if (check_params(req, (const char *const[]){NULL}) != 0 || path_year(req, &year) != 0)
        return;
    reply_year(req, year);
}

static void handle_calendar_put(cg_http_req *req)
{
    int year, stored_year;
    if (check_params(req, (const char *const[]){NULL}) != 0 || path_year(req, &year) != 0)
        return;
    cg_err err;
    cg_store *s;
    /* The document names its year; it must be the year of the path. */
    json_t *o = cg_json_parse_object(
        req->body_in, req->body_in_len,
        (const char *const[]){"year", "holidays", "workdays", "source", "note", NULL}, &err);
    if (!o)
        goto fail;
    json_t *y = json_object_get(o, "year");
    int same = json_is_integer(y) && json_integer_value(y) == year;
    json_decref(o);
    if (!same) {
        cg_err_set(&err, CG_EINVAL, "year", "the document's year must be %d, the year of the path",
                   year);
        goto fail;
    }
    if (cg_http_store(req, &s, &err) != 0 ||
        cg_case_rules_put_year(s, req->body_in, req->body_in_len, &stored_year, &err) != 0)
        goto fail;
    reply_year(req, year);
    return;
fail:
    cg_http_reply_error(req, &err);
}

/* Literal segments before placeholders. */
const cg_route cg_case_routes[] = {
    {"POST", "/api/v1/cases", handle_create, "report a case (Idempotency-Key makes retries safe)",
     CG_PERM_CASE_CREATE},
    {"GET", "/api/v1/cases", handle_list, "cases in scope, filtered and paged", CG_PERM_CASE_READ},
    {"GET", "/api/v1/cases/{id}", handle_get,
     "one case with its history, photos and the steps the caller may take", CG_PERM_CASE_READ},
    {"POST", "/api/v1/cases/{id}/transitions", handle_transition, "take a step of a case",
     CG_PERM_CASE_TRANSITION},
    {"POST", "/api/v1/cases/{id}/assign", handle_assign, "reassign a case without changing state",
     CG_PERM_CASE_TRANSITION},
    {"GET", "/api/v1/cases/{id}/suggestions", handle_suggestions, "whom to dispatch a case to",
     CG_PERM_CASE_READ},
    {"GET", "/api/v1/cases/{id}/duplicates", handle_duplicates,
     "open cases of the same category nearby and recent", CG_PERM_CASE_READ},
    {"POST", "/api/v1/cases/{id}/photos", handle_photo_add,
     "attach a photo (JPEG, PNG or WebP body)", CG_PERM_CASE_TRANSITION},
    {"GET", "/api/v1/cases/{id}/photos/{sha}", handle_photo_get, "a photo of a case",
     CG_PERM_CASE_READ},
    {"GET", "/api/v1/cases/{id}/contact", handle_contact,
     "the reporting resident's contact (audited)", CG_PERM_CONTACT_READ},
    {"GET", "/api/v1/stats/cases", handle_stats, "case statistics and rates per group",
     CG_PERM_CASE_STATS},
    {"GET", "/api/v1/categories", handle_categories, "the category taxonomy", CG_ROUTE_ACCOUNT},
    {"PUT", "/api/v1/categories", handle_categories_put, "replace the category taxonomy",
     CG_PERM_CATEGORY_WRITE},
    {"GET", "/api/v1/calendar/{year}", handle_calendar,
     "a year of the working calendar (holidays, make-up days)", CG_ROUTE_ACCOUNT},
    {"PUT", "/api/v1/calendar/{year}", handle_calendar_put, "import a year of holidays",
     CG_PERM_CALENDAR_WRITE},
};
const size_t cg_case_routes_count = sizeof cg_case_routes / sizeof cg_case_routes[0];

const cg_http_body_limit cg_http_body_limits[] = {
    {"POST", "/api/v1/cases/{id}/photos", CG_PHOTO_MAX_BYTES},
    /* Open311 (open311.c): a form with one photo, and room for its fields and part headers */
    {"POST", "/open311/v2/requests.{format}", CG_PHOTO_MAX_BYTES + 64 * 1024},
    /* grid imports (api_import.c): the configured max_import_body */
    {"POST", "/api/v1/grids/imports", CG_HTTP_BODY_LIMIT_IMPORT},
};
const size_t cg_http_body_limits_count = sizeof cg_http_body_limits / sizeof cg_http_body_limits[0];
