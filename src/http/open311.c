/*
 * Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): the public face of the case service
 * for residents and the apps they use. Every resource answers in XML (the spec's mandatory
 * format) or JSON, chosen by the URL's suffix ("requests.xml", "requests/12.json"), and every
 * error is the spec's list of {code, description} with 400 (bad input), 403 (api_key) or 404
 * (no such thing).
 *
 * What is public: service requests reported by residents (source "resident", which is what
 * Open311 and the public page file) with their category, description, place, status, public
 * times, status notes of transitions and photos. Never public: the resident's contact (stored
 * apart by the case service, never read here), cases staff reported themselves (patrols,
 * inspections, hotline entries: not filed for publication), and the names of staff assignees.
 *
 * Handlers parse their own format (query or form), fill cg_case_input and let app/cases.c
 * decide; the rules (taxonomy, deadlines) live there once.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/datetime.h"
#include "core/form.h"
#include "core/xml.h"
#include "geo/geojson.h"
#include "http/http.h"

#define CT_XML  "text/xml; charset=utf-8"
#define CT_JSON "application/json; charset=utf-8"

#define O311_SPEC          "http://wiki.open311.org/GeoReport_v2"
#define O311_CHANGESET     "2026-11-24T00:00:00+08:00" /* the revision of this API's behaviour */
#define O311_WINDOW_S      (90LL * 86400)              /* the spec's default and widest span */
#define O311_MAX_REQUESTS  1000                        /* the spec's default volume */
#define O311_MAX_IDS       100                         /* service_request_id=1,2,... */
#define O311_MAX_CODES     16                          /* service_code=a,b,... */
#define O311_TZ_OFFSET_S   (8 * 3600)                  /* Asia/Shanghai: +08:00, no DST */
#define O311_NAME_MAX      64                          /* first_name, last_name */
#define O311_EMAIL_MAX     128
#define O311_PHONE_MAX     32
#define O311_IDEM_KEY_MAX  128
#define O311_FORM_FIELDS   24
#define O311_FORM_NAME_MAX 64

typedef enum { FMT_XML = 0, FMT_JSON = 1 } o311_format;

typedef struct {
    cg_http_req *req;
    o311_format fmt;
    int en; /* lang=en: English names and notices (default Chinese) */
} o311;

/* ---- answers ---- */

static void reply_errors(cg_http_req *req, o311_format fmt, int status, const char *description)
{
    cg_buf *b = cg_http_scratch(req);
    if (fmt == FMT_JSON) {
        cg_buf_printf(b, "[{\"code\":%d,\"description\":", status);
        cg_json_write_string(b, description);
        cg_buf_puts(b, "}]");
        cg_http_reply(req, status, CT_JSON, b);
        return;
    }
    cg_xml x;
    cg_xml_begin(&x, b);
    cg_xml_open(&x, "errors");
    cg_xml_open(&x, "error");
    cg_xml_elementf(&x, "code", "%d", status);
    cg_xml_element(&x, "description", description);
    cg_xml_end(&x);
    cg_http_reply(req, status, CT_XML, b);
}

/* The spec's statuses: 404 for what does not exist, 400 for any other refusal of the input;
 * failures of the server itself keep their 5xx so clients retry them. */
static int status_of(const cg_err *err)
{
    switch (err->code) {
    case CG_ENOTFOUND:
        return 404;
    case CG_EINVAL:
    case CG_ECONFLICT:
    case CG_ELIMIT:
    case CG_EUNSUPPORTED:
        return 400;
    default:
        return cg_code_http_status(err->code);
    }
}

static void fail(o311 *o, const cg_err *err)
{
    const char *d = err->field[0]
                        ? cg_arena_sprintf(o->req->arena, "%s: %s", err->field, err->message)
                        : err->message;
    reply_errors(o->req, o->fmt, status_of(err), d);
}

/* The format suffix (the route's last parameter); a bad one is answered in XML. */
static int begin(cg_http_req *req, int fmt_param, o311 *o)
{
    o->req = req;
    o->en = 0;
    const char *f = req->params[fmt_param];
    if (strcmp(f, "json") == 0) {
        o->fmt = FMT_JSON;
        return 0;
    }
    o->fmt = FMT_XML;
    if (strcmp(f, "xml") == 0)
        return 0;
    reply_errors(
        req, FMT_XML, 400,
        cg_arena_sprintf(req->arena, "format '%.16s' is not served: use .xml or .json", f));
    return -1;
}

static const char *o311_config_jurisdiction(cg_http_req *req)
{
    return cg_http_config_of(req)->open311_jurisdiction;
}

/* "Optional" in the spec: an empty parameter is an absent one. */
static const char *opt(const char *v)
{
    return v && v[0] ? v : NULL;
}

/* jurisdiction_id: ignored when the server names none; otherwise, when given, it must match. */
static int check_jurisdiction(cg_http_req *req, const char *given, cg_err *err)
{
    const char *mine = o311_config_jurisdiction(req);
    given = opt(given);
    if (!given || !mine[0] || strcmp(given, mine) == 0)
        return 0;
    return cg_err_set(err, CG_ENOTFOUND, "jurisdiction_id",
                      "'%.64s' is not served here (this endpoint serves '%s')", given, mine);
}

static int lang_of(const char *v, int *en, cg_err *err)
{
    v = opt(v);
    *en = 0;
    if (!v || strcmp(v, "zh") == 0)
        return 0;
    if (strcmp(v, "en") == 0) {
        *en = 1;
        return 0;
    }
    return cg_err_set(err, CG_EINVAL, "lang", "'%.16s' is not one of zh, en", v);
}

/* Checks the query (known keys, jurisdiction_id, lang) of a GET resource. */
static int check_query(o311 *o, const char *const *known)
{
    cg_err err;
    if (cg_query_check_known(&o->req->query, known, &err) != 0 ||
        check_jurisdiction(o->req, cg_query_get(&o->req->query, "jurisdiction_id"), &err) != 0 ||
        lang_of(cg_query_get(&o->req->query, "lang"), &o->en, &err) != 0) {
        fail(o, &err);
        return -1;
    }
    return 0;
}

static int case_ctx(o311 *o, cg_case_ctx *ctx)
{
    cg_err err;
    if (cg_http_case_ctx(o->req, ctx, &err) != 0) {
        fail(o, &err);
        return -1;
    }
    /* The public view is defined by what is shown (resident reports, public fields), not by
     * the caller: a logged-in official sees here what anyone sees. */
    ctx->scope = NULL;
    return 0;
}

/* ---- times: W3C date-times in +08:00 ---- */

static void w3c_time(char out[32], int64_t t)
{
    cg_time_iso_local(t, out);
}

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

/*
 * Parses the W3C profile of ISO 8601 the spec uses: "2026-11-24T10:00:00+08:00", with Z or an
 * offset, seconds and fractions optional; a bare date "2026-11-24" is midnight in Asia/Shanghai.
 */
static int parse_w3c(const char *s, const char *field, int64_t *out, cg_err *err)
{
    int y, mo, d, h = 0, mi = 0, se = 0, off = O311_TZ_OFFSET_S;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        goto bad;
    const char *p = s + 10;
    if (*p) {
        if (*p != 'T' || strlen(p) < 6 || digits(p + 1, 2, &h) || p[3] != ':' ||
            digits(p + 4, 2, &mi))
            goto bad;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                goto bad;
            p += 3;
            if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                    goto bad;
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
        if (*p == 'Z') {
            off = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
                goto bad;
            off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
            p += 6;
        } else {
            return cg_err_set(err, CG_EINVAL, field,
                              "'%.40s' has no time zone (add Z or an offset such as +08:00)", s);
        }
        if (*p)
            goto bad;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        goto bad;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    struct tm check;
    gmtime_r(&t, &check);
    if (check.tm_mday != d) /* 2026-02-30 */
        goto bad;
    *out = (int64_t)t - off;
    return 0;
bad:
    return cg_err_set(err, CG_EINVAL, field,
                      "'%.40s' is not a W3C date-time (e.g. 2026-11-24T10:00:00+08:00)", s);
}

/* ---- the base URL, for discovery and media_url ---- */

static const char *base_url(cg_http_req *req)
{
    const char *host = cg_http_header(req, "Host");
    int ok = host && host[0] && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr(".-:[]", *p);
    return cg_arena_sprintf(req->arena, "%s://%s", req->secure ? "https" : "http",
                            ok ? host : "localhost");
}

/* ---- services ---- */

static const char *name_of(const o311 *o, const cg_category *c)
{
    return o->en && c->name_en[0] ? c->name_en : c->name_zh;
}

static const char *limit_text(o311 *o, const cg_category *c)
{
    int days = c->unit == CG_UNIT_WORK_DAYS;
    if (o->en)
        return cg_arena_sprintf(o->req->arena, "handled within %d working %s%s of dispatch",
                                c->limit, days ? "day" : "hour", c->limit == 1 ? "" : "s");
    return cg_arena_sprintf(o->req->arena, "派遣后 %d 个工作%s内处置", c->limit,
                            days ? "日" : "小时");
}

static void write_service(o311 *o, cg_buf *b, cg_xml *x, const cg_taxonomy *tax,
                          const cg_category *c)
{
    const cg_category *group = cg_taxonomy_find(tax, c->parent);
    const char *group_name = group ? name_of(o, group) : NULL;
    /* keywords: the other language's name and the group's names, for search */
    char *kw = cg_arena_sprintf(o->req->arena, "%s%s%s%s%s", o->en ? c->name_zh : c->name_en,
                                group ? ", " : "", group ? group->name_zh : "", group ? ", " : "",
                                group ? group->name_en : "");
    const char *description = c->register_cond[0] ? c->register_cond : NULL;
    if (o->fmt == FMT_JSON) {
        cg_buf_puts(b, "{\"service_code\":");
        cg_json_write_string(b, c->code);
        cg_buf_puts(b, ",\"service_name\":");
        cg_json_write_string(b, name_of(o, c));
        cg_buf_puts(b, ",\"description\":");
        if (description)
            cg_json_write_string(b, description);
        else
            cg_buf_puts(b, "null");
        cg_buf_puts(b, ",\"metadata\":false,\"type\":\"realtime\",\"keywords\":");
        cg_json_write_string(b, kw);
        cg_buf_puts(b, ",\"group\":");
        if (group_name)
            cg_json_write_string(b, group_name);
        else
            cg_buf_puts(b, "null");
        cg_buf_putc(b, '}');
        return;
    }
    cg_xml_open(x, "service");
    cg_xml_element(x, "service_code", c->code);
    cg_xml_element(x, "service_name", name_of(o, c));
    cg_xml_element(x, "description", description);
    cg_xml_element(x, "metadata", "false");
    cg_xml_element(x, "type", "realtime");
    cg_xml_element(x, "keywords", kw);
    cg_xml_element(x, "group", group_name);
    cg_xml_close(x);
}

static void handle_services(cg_http_req *req)
{
    static const char *const known[] = {"jurisdiction_id", "lang", NULL};
    o311 o;
    cg_case_ctx ctx;
    if (begin(req, 0, &o) != 0 || check_query(&o, known) != 0 || case_ctx(&o, &ctx) != 0)
        return;
    const cg_taxonomy *tax = &ctx.rules->taxonomy;
    cg_buf *b = cg_http_scratch(req);
    cg_xml x;
    if (o.fmt == FMT_JSON)
        cg_buf_putc(b, '[');
    else {
        cg_xml_begin(&x, b);
        cg_xml_open(&x, "services");
    }
    size_t n = 0;
    for (size_t i = 0; i < tax->n; i++) {
        const cg_category *c = &tax->items[i];
        if (!cg_taxonomy_fileable(tax, c->code))
            continue;
        if (o.fmt == FMT_JSON && n)
            cg_buf_putc(b, ',');
        write_service(&o, b, &x, tax, c);
        n++;
    }
    if (o.fmt == FMT_JSON) {
        cg_buf_putc(b, ']');
        cg_http_reply(req, 200, CT_JSON, b);
    } else {
        cg_xml_end(&x);
        cg_http_reply(req, 200, CT_XML, b);
    }
}

/* A fileable service by code, or NULL with a 404 error. */
static const cg_category *find_service(const cg_taxonomy *tax, const char *code, cg_err *err)
{
    const cg_category *c = cg_taxonomy_find(tax, code);
    if (!c || !cg_taxonomy_fileable(tax, code)) {
        cg_err_set(err, CG_ENOTFOUND, "service_code", "no service has code '%.16s'%s", code,
                   c ? " (it is a group: use one of its services)" : "");
        return NULL;
    }
    return c;
}

/*
 * The definition: civgrid asks nothing beyond the spec's own fields, so every attribute is
 * informational (variable=false, shown to the user, never sent back): the handling time limit,
 * the handling department, and the registration and closing conditions of the category.
 */
static void handle_service(cg_http_req *req)
{
    static const char *const known[] = {"jurisdiction_id", "lang", NULL};
    o311 o;
    cg_case_ctx ctx;
    if (begin(req, 1, &o) != 0 || check_query(&o, known) != 0 || case_ctx(&o, &ctx) != 0)
        return;
    cg_err err;
    const cg_category *c = find_service(&ctx.rules->taxonomy, req->params[0], &err);
    if (!c) {
        fail(&o, &err);
        return;
    }
    struct {
        const char *code, *datatype, *description;
    } attrs[] = {
        {"handling_time", "string", limit_text(&o, c)},
        {"department", "string", c->department},
        {"registration", "text", c->register_cond},
        {"closing", "text", c->close_cond},
    };
    cg_buf *b = cg_http_scratch(req);
    cg_xml x;
    if (o.fmt == FMT_JSON) {
        cg_buf_puts(b, "{\"service_code\":");
        cg_json_write_string(b, c->code);
        cg_buf_puts(b, ",\"attributes\":[");
    } else {
        cg_xml_begin(&x, b);
        cg_xml_open(&x, "service_definition");
        cg_xml_element(&x, "service_code", c->code);
        cg_xml_open(&x, "attributes");
    }
    int order = 0;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        if (!attrs[i].description[0])
            continue;
        order++;
        if (o.fmt == FMT_JSON) {
            cg_buf_printf(b,
                          "%s{\"variable\":false,\"code\":\"%s\",\"datatype\":\"%s\","
                          "\"required\":false,\"datatype_description\":null,\"order\":%d,"
                          "\"description\":",
                          order > 1 ? "," : "", attrs[i].code, attrs[i].datatype, order);
            cg_json_write_string(b, attrs[i].description);
            cg_buf_putc(b, '}');
        } else {
            cg_xml_open(&x, "attribute");
            cg_xml_element(&x, "variable", "false");
            cg_xml_element(&x, "code", attrs[i].code);
            cg_xml_element(&x, "datatype", attrs[i].datatype);
            cg_xml_element(&x, "required", "false");
            cg_xml_element(&x, "datatype_description", NULL);
            cg_xml_elementf(&x, "order", "%d", order);
            cg_xml_element(&x, "description", attrs[i].description);
            cg_xml_close(&x);
        }
    }
    if (o.fmt == FMT_JSON) {
        cg_buf_puts(b, "]}");
        cg_http_reply(req, 200, CT_JSON, b);
    } else {
        cg_xml_end(&x);
        cg_http_reply(req, 200, CT_XML, b);
    }
}

/* ---- one service request, as GET requests and GET requests/{id} show it ---- */

typedef struct {
    o311 *o;
    cg_case_ctx *ctx;
    const char *base;
    cg_buf *b;
    cg_xml x;
    size_t n;
    char *note;    /* the newest transition note seen (history walk) */
    char sha[65];  /* the first photo (photo walk) */
    int64_t limit; /* listing: stop after this many */
    cg_err err;
} writer;

static int note_cb(void *ctx, const cg_case_event *e)
{
    writer *w = ctx;
    if (!e->is_note && e->note[0])
        snprintf(w->note, CG_CASE_NOTE_BYTES, "%s", e->note);
    return 0;
}

static int photo_cb(void *ctx, const cg_case_photo *p)
{
    writer *w = ctx;
    if (!w->sha[0])
        snprintf(w->sha, sizeof w->sha, "%s", p->sha256);
    return 0;
}

/* open: everything not closed; closed: verified and closed, evaluated, rejected, duplicate. */
static int is_closed(const cg_case *c)
{
    return cg_case_state_closed(c->status.state) || cg_case_state_final(c->status.state);
}

/* The agency: a department by name, a grid by its name; a person is not named publicly (the
 * category's department stands in). */
static const char *agency_of(writer *w, const cg_case *c, const cg_category *cat)
{
    switch (c->assignee.kind) {
    case CG_ASSIGN_DEPARTMENT:
        return c->assignee.label;
    case CG_ASSIGN_GRID: {
        long i = w->ctx->atlas ? cg_atlas_find(w->ctx->atlas, c->assignee.label) : -1;
        if (i < 0)
            return c->assignee.label;
        const cg_grid *g = cg_atlas_grid(w->ctx->atlas, (size_t)i);
        return w->o->en && g->name_en[0] ? g->name_en : g->name_zh;
    }
    case CG_ASSIGN_ACCOUNT:
        return cat && cat->department[0] ? cat->department : NULL;
    default:
        return NULL;
    }
}

static void json_opt_string(cg_buf *b, const char *key, const char *v)
{
    cg_buf_printf(b, ",\"%s\":", key);
    if (v)
        cg_json_write_string(b, v);
    else
        cg_buf_puts(b, "null");
}

static int write_request(writer *w, const cg_case *c)
{
    o311 *o = w->o;
    const cg_category *cat = cg_taxonomy_find(&w->ctx->rules->taxonomy, c->category);
    w->note[0] = '\0';
    w->sha[0] = '\0';
    if (cg_store_case_history(w->ctx->store, c->id, note_cb, w, &w->err) != 0)
        return -1;
    if (c->n_photos > 0 && cg_store_case_photos(w->ctx->store, c->id, photo_cb, w, &w->err) != 0)
        return -1;
    char id[24], requested[32], updated[32], expected[32];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    int closed = is_closed(c);
    w3c_time(requested, c->reported_at);
    /* closed: the time it was closed, as the spec asks */
    int64_t upd = closed && c->closed_at ? c->closed_at : c->updated_at;
    w3c_time(updated, upd ? upd : c->reported_at);
    /* No date is promised while suspended (挂账): the clock stands still until it resumes. */
    int has_expected = c->deadlines.handle_by > 0 && c->status.state != CG_CASE_SUSPENDED;
    if (has_expected)
        w3c_time(expected, c->deadlines.handle_by);
    const char *service_name = cat ? name_of(o, cat) : NULL;
    const char *notice = cat ? limit_text(o, cat) : NULL;
    const char *agency = agency_of(w, c, cat);
    const char *address = c->address[0] ? c->address : NULL;
    int has_point = c->has_point;
    const char *media = w->sha[0]
                            ? cg_arena_sprintf(o->req->arena, "%s/open311/v2/requests/%s/media/%s",
                                               w->base, id, w->sha)
                            : NULL;
    const char *status_notes = w->note[0] ? w->note : NULL;
    if (o->fmt == FMT_JSON) {
        if (w->n)
            cg_buf_putc(w->b, ',');
        cg_buf_printf(w->b, "{\"service_request_id\":\"%s\",\"status\":\"%s\"", id,
                      closed ? "closed" : "open");
        json_opt_string(w->b, "status_notes", status_notes);
        json_opt_string(w->b, "service_name", service_name);
        json_opt_string(w->b, "service_code", c->category);
        json_opt_string(w->b, "description", c->description);
        json_opt_string(w->b, "agency_responsible", agency);
        json_opt_string(w->b, "service_notice", notice);
        json_opt_string(w->b, "requested_datetime", requested);
        json_opt_string(w->b, "updated_datetime", updated);
        json_opt_string(w->b, "expected_datetime", has_expected ? expected : NULL);
        json_opt_string(w->b, "address", address);
        cg_buf_puts(w->b, ",\"address_id\":null,\"zipcode\":null");
        if (has_point) {
            cg_buf_puts(w->b, ",\"lat\":");
            cg_buf_put_fixed(w->b, c->lat, 7);
            cg_buf_puts(w->b, ",\"long\":");
            cg_buf_put_fixed(w->b, c->lon, 7);
        } else {
            cg_buf_puts(w->b, ",\"lat\":null,\"long\":null");
        }
        json_opt_string(w->b, "media_url", media);
        cg_buf_putc(w->b, '}');
    } else {
        cg_xml *x = &w->x;
        cg_xml_open(x, "request");
        cg_xml_element(x, "service_request_id", id);
        cg_xml_element(x, "status", closed ? "closed" : "open");
        cg_xml_element(x, "status_notes", status_notes);
        cg_xml_element(x, "service_name", service_name);
        cg_xml_element(x, "service_code", c->category);
        cg_xml_element(x, "description", c->description);
        cg_xml_element(x, "agency_responsible", agency);
        cg_xml_element(x, "service_notice", notice);
        cg_xml_element(x, "requested_datetime", requested);
        cg_xml_element(x, "updated_datetime", updated);
        cg_xml_element(x, "expected_datetime", has_expected ? expected : NULL);
        cg_xml_element(x, "address", address);
        cg_xml_element(x, "address_id", NULL);
        cg_xml_element(x, "zipcode", NULL);
        if (has_point) {
            cg_xml_elementf(x, "lat", "%.7f", c->lat);
            cg_xml_elementf(x, "long", "%.7f", c->lon);
        } else {
            cg_xml_element(x, "lat", NULL);
            cg_xml_element(x, "long", NULL);
        }
        cg_xml_element(x, "media_url", media);
        cg_xml_close(x);
    }
    w->n++;
    return 0;
}

static void writer_begin(writer *w, o311 *o, cg_case_ctx *ctx)
{
    memset(w, 0, sizeof *w);
    w->o = o;
    w->ctx = ctx;
    w->base = base_url(o->req);
    w->b = cg_http_scratch(o->req);
    w->note = cg_arena_alloc(o->req->arena, CG_CASE_NOTE_BYTES);
    if (o->fmt == FMT_JSON) {
        cg_buf_putc(w->b, '[');
    } else {
        cg_xml_begin(&w->x, w->b);
        cg_xml_open(&w->x, "service_requests");
    }
}

static void writer_reply(writer *w)
{
    if (w->o->fmt == FMT_JSON) {
        cg_buf_putc(w->b, ']');
        cg_http_reply(w->o->req, 200, CT_JSON, w->b);
    } else {
        cg_xml_end(&w->x);
        cg_http_reply(w->o->req, 200, CT_XML, w->b);
    }
}

static int list_cb(void *ctx, const cg_case *c)
{
    writer *w = ctx;
    if (c->source != CG_SOURCE_RESIDENT) /* the filter says so too; never show staff cases */
        return 0;
    return write_request(w, c) == 0 ? 0 : -1;
}

/* A positive case number, or -1. */
static int64_t parse_id(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]) || strlen(s) > 18)
        return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end || v <= 0 ? -1 : (int64_t)v;
}

/* Reads a resident's case (the only public ones); anything else does not exist here. */
static int public_case(cg_case_ctx *ctx, int64_t id, const char *shown, cg_case *c, cg_err *err)
{
    if (id > 0) {
        if (cg_store_case_get(ctx->store, NULL, id, c, err) == 0) {
            if (c->source == CG_SOURCE_RESIDENT)
                return 0;
        } else if (err->code != CG_ENOTFOUND) {
            return -1; /* a failure of the store, not an answer */
        }
    }
    return cg_err_set(err, CG_ENOTFOUND, "service_request_id", "no service request has id '%.24s'",
                      shown);
}

/* Splits a comma list into at most max non-empty items. */
static int split_list(cg_arena *a, const char *v, const char *field, size_t max, char ***items,
                      size_t *n, cg_err *err)
{
    char *copy = cg_arena_strdup(a, v);
    *items = cg_arena_alloc(a, sizeof(char *) * max);
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ')
            t[--len] = '\0';
        if (!len)
            continue;
        if (*n == max)
            return cg_err_set(err, CG_ELIMIT, field, "at most %zu values", max);
        (*items)[(*n)++] = t;
    }
    return 0;
}

static void handle_requests(cg_http_req *req)
{
    static const char *const known[] = {"jurisdiction_id",
                                        "lang",
                                        "service_request_id",
                                        "service_code",
                                        "start_date",
                                        "end_date",
                                        "status",
                                        "page",
                                        "page_size",
                                        NULL};
    o311 o;
    cg_case_ctx ctx;
    if (begin(req, 0, &o) != 0 || check_query(&o, known) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    const cg_query *q = &req->query;
    long page = 1, page_size = O311_MAX_REQUESTS;
    int present;
    if (cg_query_long(q, "page", 1, 1000000, &page, &present, &err) != 0 ||
        cg_query_long(q, "page_size", 1, O311_MAX_REQUESTS, &page_size, &present, &err) != 0)
        goto fail;
    if (case_ctx(&o, &ctx) != 0)
        return;
    writer w;
    writer_begin(&w, &o, &ctx);

    /* service_request_id overrides every other argument */
    const char *ids_text = opt(cg_query_get(q, "service_request_id"));
    if (ids_text) {
        char **items;
        size_t n;
        if (split_list(req->arena, ids_text, "service_request_id", O311_MAX_IDS, &items, &n,
                       &err) != 0)
            goto fail;
        cg_case *c = cg_arena_alloc(req->arena, sizeof *c);
        for (size_t i = 0; i < n; i++) {
            int64_t id = parse_id(items[i]);
            if (id < 0) {
                cg_err_set(&err, CG_EINVAL, "service_request_id",
                           "'%.24s' is not a service request id", items[i]);
                goto fail;
            }
            cg_err e2;
            cg_err_clear(&e2);
            if (public_case(&ctx, id, items[i], c, &e2) != 0) {
                if (e2.code == CG_ENOTFOUND)
                    continue; /* a list answers with the ones that exist */
                err = e2;
                goto fail;
            }
            if (write_request(&w, c) != 0) {
                err = w.err;
                goto fail;
            }
        }
        writer_reply(&w);
        return;
    }

    cg_case_filter f = {0};
    f.source = CG_SOURCE_RESIDENT;
    f.order = CG_CASE_ORDER_NEWEST;
    f.scope = NULL;
    /* status=open,closed */
    const char *status = opt(cg_query_get(q, "status"));
    if (status) {
        char **items;
        size_t n;
        int open = 0, closed = 0;
        if (split_list(req->arena, status, "status", 4, &items, &n, &err) != 0)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(items[i], "open") == 0)
                open = 1;
            else if (strcmp(items[i], "closed") == 0)
                closed = 1;
            else {
                cg_err_set(&err, CG_EINVAL, "status", "'%.16s' is not one of open, closed",
                           items[i]);
                goto fail;
            }
        }
        if (open != closed)
            for (int s = CG_CASE_REPORTED; s < CG_CASE_STATE_COUNT; s++) {
                int is_closed_state =
                    cg_case_state_closed((cg_case_state)s) || cg_case_state_final((cg_case_state)s);
                if (is_closed_state == closed)
                    f.states |= 1u << s;
            }
    }
    /* start_date / end_date: at most 90 days; the most recent 90 when neither is given */
    const char *start = opt(cg_query_get(q, "start_date"));
    const char *end = opt(cg_query_get(q, "end_date"));
    int64_t since = 0, until = 0;
    if ((start && parse_w3c(start, "start_date", &since, &err) != 0) ||
        (end && parse_w3c(end, "end_date", &until, &err) != 0))
        goto fail;
    if (!end)
        until = start ? since + O311_WINDOW_S : ctx.now;
    if (!start)
        since = until - O311_WINDOW_S;
    if (until < since) {
        cg_err_set(&err, CG_EINVAL, "end_date", "is before start_date");
        goto fail;
    }
    if (until - since > O311_WINDOW_S) {
        cg_err_set(&err, CG_EINVAL, "end_date", "the span from start_date may not exceed 90 days");
        goto fail;
    }
    f.since = since;
    f.until = until + 1; /* end_date is the latest time included */

    /* service_code=a,b: each code (and its sub-categories) in turn, paged across all */
    char **codes = NULL;
    size_t n_codes = 0;
    const char *codes_text = opt(cg_query_get(q, "service_code"));
    if (codes_text && split_list(req->arena, codes_text, "service_code", O311_MAX_CODES, &codes,
                                 &n_codes, &err) != 0)
        goto fail;
    for (size_t i = 0; i < n_codes; i++)
        if (!cg_taxonomy_find(&ctx.rules->taxonomy, codes[i])) {
            cg_err_set(&err, CG_ENOTFOUND, "service_code", "no service has code '%.16s'", codes[i]);
            goto fail;
        }
    int64_t skip = (int64_t)(page - 1) * page_size, left = page_size;
    for (size_t i = 0; i < (n_codes ? n_codes : 1) && left > 0; i++) {
        f.category = n_codes ? codes[i] : NULL;
        if (n_codes > 1) {
            int64_t count;
            if (cg_store_case_count(ctx.store, &f, &count, &err) != 0)
                goto fail;
            if (skip >= count) {
                skip -= count;
                continue;
            }
        }
        f.offset = (int)skip;
        f.limit = (int)left;
        size_t before = w.n;
        if (cg_store_case_list(ctx.store, &f, list_cb, &w, &err) != 0) {
            if (w.err.code != CG_OK)
                err = w.err;
            goto fail;
        }
        left -= (int64_t)(w.n - before);
        skip = 0;
    }
    writer_reply(&w);
    return;
fail:
    fail(&o, &err);
}

static void handle_request(cg_http_req *req)
{
    static const char *const known[] = {"jurisdiction_id", "lang", NULL};
    o311 o;
    cg_case_ctx ctx;
    if (begin(req, 1, &o) != 0 || check_query(&o, known) != 0 || case_ctx(&o, &ctx) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case *c = cg_arena_alloc(req->arena, sizeof *c);
    writer w;
    if (public_case(&ctx, parse_id(req->params[0]), req->params[0], c, &err) != 0)
        goto fail;
    writer_begin(&w, &o, &ctx);
    if (write_request(&w, c) != 0) {
        err = w.err;
        goto fail;
    }
    writer_reply(&w);
    return;
fail:
    fail(&o, &err);
}

/* ---- GET tokens/{token} ---- */

static void handle_token(cg_http_req *req)
{
    static const char *const known[] = {"jurisdiction_id", NULL};
    o311 o;
    cg_case_ctx ctx;
    if (begin(req, 1, &o) != 0 || check_query(&o, known) != 0 || case_ctx(&o, &ctx) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    const char *token = req->params[0];
    cg_case *c = cg_arena_alloc(req->arena, sizeof *c);
    int ok = strlen(token) == CG_CASE_TOKEN_LEN;
    for (const char *p = token; ok && *p; p++)
        ok = isxdigit((unsigned char)*p);
    int found = 0;
    if (ok) {
        if (cg_store_case_by_token(ctx.store, token, c, &err) == 0)
            found = c->source == CG_SOURCE_RESIDENT;
        else if (err.code != CG_ENOTFOUND) {
            fail(&o, &err);
            return;
        }
    }
    if (!found) {
        cg_err_set(&err, CG_ENOTFOUND, "token", "no service request has token '%.40s'", token);
        fail(&o, &err);
        return;
    }
    cg_buf *b = cg_http_scratch(req);
    if (o.fmt == FMT_JSON) {
        cg_buf_printf(b, "[{\"service_request_id\":\"%lld\",\"token\":", (long long)c->id);
        cg_json_write_string(b, c->token);
        cg_buf_puts(b, "}]");
        cg_http_reply(req, 200, CT_JSON, b);
        return;
    }
    cg_xml x;
    cg_xml_begin(&x, b);
    cg_xml_open(&x, "service_requests");
    cg_xml_open(&x, "request");
    cg_xml_elementf(&x, "service_request_id", "%lld", (long long)c->id);
    cg_xml_element(&x, "token", c->token);
    cg_xml_end(&x);
    cg_http_reply(req, 200, CT_XML, b);
}

/* ---- POST requests ---- */

/* Is key one of the configured api keys? Compared in constant time per key. */
static int api_key_ok(const char *keys, const char *key)
{
    int ok = 0;
    char one[256];
    for (const char *p = keys; *p;) {
        p += strspn(p, ", ");
        size_t len = strcspn(p, ", ");
        if (len && len < sizeof one) {
            memcpy(one, p, len);
            one[len] = '\0';
            ok |= cg_secure_equal(one, key);
        }
        p += len;
    }
    return ok;
}

static int check_text(const char *v, const char *field, size_t max, const char *allowed,
                      cg_err *err)
{
    size_t n = strlen(v);
    if (n > max)
        return cg_err_set(err, CG_EINVAL, field, "longer than %zu bytes", max);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f || (allowed && !isalnum(ch) && !strchr(allowed, ch)))
            return cg_err_set(err, CG_EINVAL, field, "holds a character not allowed here");
    }
    return 0;
}

static int parse_coord(const char *v, const char *field, double min, double max, double *out,
                       cg_err *err)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d))
        return cg_err_set(err, CG_EINVAL, field, "expected a number, got '%.32s'", v);
    if (d < min || d > max)
        return cg_err_set(err, CG_EINVAL, field, "%g is out of range %g..%g", d, min, max);
    *out = d;
    return 0;
}

/* The resident's contact as one JSON object (kept apart by the case service); "" when none. */
static int contact_of(cg_http_req *req, const cg_form *f, const char **out, cg_err *err)
{
    const char *first = opt(cg_form_get(f, "first_name")), *last = opt(cg_form_get(f, "last_name"));
    const char *email = opt(cg_form_get(f, "email")), *phone = opt(cg_form_get(f, "phone"));
    if ((first && check_text(first, "first_name", O311_NAME_MAX, NULL, err) != 0) ||
        (last && check_text(last, "last_name", O311_NAME_MAX, NULL, err) != 0) ||
        (email && check_text(email, "email", O311_EMAIL_MAX, "@.+-_%'", err) != 0) ||
        (phone && check_text(phone, "phone", O311_PHONE_MAX, "+-() ", err) != 0))
        return -1;
    if (email && (!strchr(email, '@') || email[0] == '@' || !strchr(strchr(email, '@'), '.')))
        return cg_err_set(err, CG_EINVAL, "email", "'%.64s' is not an email address", email);
    *out = "";
    if (!first && !last && !email && !phone)
        return 0;
    cg_buf b;
    cg_buf_init(&b);
    const char *keys[] = {"first_name", "last_name", "email", "phone"};
    const char *vals[] = {first, last, email, phone};
    cg_buf_putc(&b, '{');
    int n = 0;
    for (int i = 0; i < 4; i++) {
        if (!vals[i])
            continue;
        cg_buf_printf(&b, "%s\"%s\":", n++ ? "," : "", keys[i]);
        cg_json_write_string(&b, vals[i]);
    }
    cg_buf_putc(&b, '}');
    *out = cg_arena_strdup(req->arena, b.data);
    cg_buf_free(&b);
    return 0;
}

/* Idempotency: the Idempotency-Key header, else device_id with the client's requested_datetime
 * (an extension: the time the resident made the report on the device). */
static int idem_key_of(cg_http_req *req, const char *device, const char *client_time,
                       const char **out, cg_err *err)
{
    *out = NULL;
    const char *k = cg_http_header(req, "Idempotency-Key");
    if (k) {
        size_t n = strlen(k);
        if (n == 0 || n > O311_IDEM_KEY_MAX)
            return cg_err_set(err, CG_EINVAL, "Idempotency-Key", "expected 1 to %d characters",
                              O311_IDEM_KEY_MAX);
        for (size_t i = 0; i < n; i++)
            if (k[i] < 0x21 || k[i] > 0x7e)
                return cg_err_set(err, CG_EINVAL, "Idempotency-Key",
                                  "only visible ASCII characters (no spaces)");
        *out = cg_arena_sprintf(req->arena, "o311:key:%s", k);
        return 0;
    }
    if (device && client_time) {
        int64_t t;
        if (parse_w3c(client_time, "requested_datetime", &t, err) != 0)
            return -1;
        *out = cg_arena_sprintf(req->arena, "o311:%s:%lld", device, (long long)t);
    }
    return 0;
}

/* Open311's names for the fields the case service names its own way. */
static void rename_field(cg_err *err)
{
    static const char *const map[][2] = {{"lon", "long"},
                                         {"address", "address_string"},
                                         {"category", "service_code"},
                                         {"photo", "media"},
                                         {"location", "lat"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(err->field, map[i][0]) == 0) {
            snprintf(err->field, sizeof err->field, "%s", map[i][1]);
            return;
        }
}

static void write_created(o311 *o, const cg_case *c, const char *notice)
{
    cg_http_req *req = o->req;
    cg_buf *b = cg_http_scratch(req);
    if (o->fmt == FMT_JSON) {
        cg_buf_printf(b, "[{\"service_request_id\":\"%lld\",\"token\":", (long long)c->id);
        cg_json_write_string(b, c->token);
        cg_buf_puts(b, ",\"service_notice\":");
        cg_json_write_string(b, notice);
        cg_buf_puts(b, ",\"account_id\":null}]");
        cg_http_reply(req, 200, CT_JSON, b);
        return;
    }
    cg_xml x;
    cg_xml_begin(&x, b);
    cg_xml_open(&x, "service_requests");
    cg_xml_open(&x, "request");
    cg_xml_elementf(&x, "service_request_id", "%lld", (long long)c->id);
    cg_xml_element(&x, "token", c->token);
    cg_xml_element(&x, "service_notice", notice);
    cg_xml_element(&x, "account_id", NULL);
    cg_xml_end(&x);
    cg_http_reply(req, 200, CT_XML, b);
}

/* What the answer to a POST needs once the case is stored (all in the request's arena). */
typedef struct {
    o311 o;
    const cg_category *cat;
    const cg_form *f;
} post_job;

/* The answer to a POST once the case is stored (cg_http_case_submit). */
static void posted(cg_http_req *req, const cg_case_ctx *ctx, cg_case *c, int replayed,
                   const cg_err *failed, void *arg)
{
    (void)replayed;
    post_job *j = arg;
    cg_err err;
    cg_err_clear(&err);
    if (failed) {
        err = *failed;
        goto fail;
    }
    /* A retry carries the photo again: adding the same photo twice is a no-op, and it heals a
     * first attempt that stored the case but failed on the photo. */
    if (j->f->has_file) {
        char sha[65];
        if (cg_cases_photo_add(ctx, c->id, j->f->file.data, j->f->file.len, NULL, sha, &err) != 0)
            goto fail;
    }
    write_created(&j->o, c,
                  j->o.en ? cg_arena_sprintf(req->arena, "Received as case %lld; %s.",
                                             (long long)c->id, limit_text(&j->o, j->cat))
                          : cg_arena_sprintf(req->arena, "已受理，编号 %lld；%s。",
                                             (long long)c->id, limit_text(&j->o, j->cat)));
    return;
fail:
    rename_field(&err);
    fail(&j->o, &err);
}

static void handle_post(cg_http_req *req)
{
    static const char *const known_query[] = {"jurisdiction_id", NULL};
    static const char *const known[] = {"api_key",      "jurisdiction_id",
                                        "service_code", "lat",
                                        "long",         "address_string",
                                        "address_id",   "email",
                                        "device_id",    "account_id",
                                        "first_name",   "last_name",
                                        "phone",        "description",
                                        "media_url",    "requested_datetime",
                                        "lang",         NULL};
    o311 o;
    if (begin(req, 0, &o) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_form *f = cg_arena_alloc(req->arena, sizeof *f);
    const cg_form_limits lim = {O311_FORM_FIELDS, O311_FORM_NAME_MAX, CG_CASE_DESC_BYTES,
                                CG_PHOTO_MAX_BYTES, "media"};
    if (cg_query_check_known(&req->query, known_query, &err) != 0 ||
        cg_form_parse(req->arena, cg_http_header(req, "Content-Type"), req->body_in,
                      req->body_in_len, &lim, f, &err) != 0 ||
        cg_form_check_known(f, known, &err) != 0)
        goto fail;
    /* api_key before anything else is looked at */
    const char *keys = cg_http_config_of(req)->open311_api_keys;
    const char *key = opt(cg_form_get(f, "api_key"));
    if (!keys[0] || !key || !api_key_ok(keys, key)) {
        reply_errors(req, o.fmt, 403,
                     !keys[0] ? "api_key: this server accepts no Open311 submissions (no api "
                                "keys are configured)"
                     : !key   ? "api_key: missing (ask the operator of this server for one)"
                              : "api_key: invalid api_key received -- can't proceed with "
                                "create_request");
        return;
    }
    const char *jur = opt(cg_form_get(f, "jurisdiction_id"));
    if (!jur)
        jur = cg_query_get(&req->query, "jurisdiction_id");
    if (check_jurisdiction(req, jur, &err) != 0 ||
        lang_of(cg_form_get(f, "lang"), &o.en, &err) != 0)
        goto fail;

    cg_case_ctx ctx;
    if (case_ctx(&o, &ctx) != 0)
        return;
    const char *code = opt(cg_form_get(f, "service_code"));
    if (!code) {
        cg_err_set(&err, CG_EINVAL, "service_code", "was not provided");
        goto fail;
    }
    const cg_category *cat = find_service(&ctx.rules->taxonomy, code, &err);
    if (!cat)
        goto fail;

    cg_case_input in = {0};
    in.source = CG_SOURCE_RESIDENT;
    in.category = code;
    const char *lat = opt(cg_form_get(f, "lat")), *lon = opt(cg_form_get(f, "long"));
    in.address = opt(cg_form_get(f, "address_string"));
    if (!lat != !lon) {
        cg_err_set(&err, CG_EINVAL, lat ? "long" : "lat", "lat and long come together");
        goto fail;
    }
    if (lat && (parse_coord(lat, "lat", -90, 90, &in.lat, &err) != 0 ||
                parse_coord(lon, "long", -180, 180, &in.lon, &err) != 0))
        goto fail;
    in.has_point = lat != NULL;
    if (opt(cg_form_get(f, "address_id"))) {
        cg_err_set(&err, CG_EINVAL, "address_id",
                   "this server keeps no address register: send lat and long or "
                   "address_string");
        goto fail;
    }
    if (!in.has_point && !in.address) {
        cg_err_set(&err, CG_EINVAL, "lat",
                   "a location is required: lat and long, or "
                   "address_string");
        goto fail;
    }
    if (opt(cg_form_get(f, "media_url"))) {
        cg_err_set(&err, CG_EINVAL, "media_url",
                   "remote media is not fetched: upload the photo as the multipart file field "
                   "'media'");
        goto fail;
    }
    /* The spec makes the description optional; a case needs one, so the service's name stands
     * in when none is given. */
    in.description = opt(cg_form_get(f, "description"));
    if (!in.description)
        in.description = name_of(&o, cat);
    in.device_id = opt(cg_form_get(f, "device_id"));
    if (in.device_id &&
        check_text(in.device_id, "device_id", CG_CASE_DEVICE_MAX - 1, "-_.:", &err) != 0)
        goto fail;
    if (contact_of(req, f, &in.contact, &err) != 0 ||
        idem_key_of(req, in.device_id, opt(cg_form_get(f, "requested_datetime")), &in.idem_key,
                    &err) != 0)
        goto fail;
    /* the photo is checked before the case exists, so a bad one leaves nothing behind */
    if (f->has_file && !cg_photo_mime(f->file.data, f->file.len)) {
        cg_err_set(&err, CG_EINVAL, "media", "not a JPEG, PNG or WebP image");
        goto fail;
    }

    cg_case *c = cg_arena_calloc(req->arena, 1, sizeof *c);
    post_job *j = cg_arena_alloc(req->arena, sizeof *j);
    j->o = o;
    j->cat = cat;
    j->f = f;
    /* answered by posted() once the case is committed */
    cg_http_case_submit(req, &ctx, &in, c, NULL, posted, j);
    return;
fail:
    fail(&o, &err);
}

/* ---- GET requests/{id}/media/{sha}: a photo of a public request ---- */

static void handle_media(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    o311 o = {req, FMT_XML, 0};
    cg_case_ctx ctx;
    if (check_query(&o, known) != 0 || case_ctx(&o, &ctx) != 0)
        return;
    cg_err err;
    cg_err_clear(&err);
    cg_case *c = cg_arena_alloc(req->arena, sizeof *c);
    int fd;
    uint64_t size;
    const char *mime;
    if (public_case(&ctx, parse_id(req->params[0]), req->params[0], c, &err) != 0 ||
        cg_cases_photo_open(&ctx, c->id, req->params[1], &fd, &size, &mime, &err) != 0) {
        fail(&o, &err);
        return;
    }
    cg_http_add_header(req, "Cache-Control", "public, max-age=86400, immutable");
    cg_http_reply_fd(req, fd, size, mime);
}

/* ---- discovery ---- */

static void handle_discovery(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    o311 o;
    if (begin(req, 0, &o) != 0 || check_query(&o, known) != 0)
        return;
    const cg_http_config *cfg = cg_http_config_of(req);
    const char *url = cg_arena_sprintf(req->arena, "%s/open311/v2", base_url(req));
    const char *contact = cfg->open311_contact[0] ? cfg->open311_contact : NULL;
    const char *key_service = "api keys are issued by the operator of this server";
    cg_buf *b = cg_http_scratch(req);
    if (o.fmt == FMT_JSON) {
        cg_buf_puts(b, "{\"changeset\":\"" O311_CHANGESET "\"");
        json_opt_string(b, "contact", contact);
        json_opt_string(b, "key_service", key_service);
        cg_buf_puts(b, ",\"endpoints\":[{\"specification\":\"" O311_SPEC "\",\"url\":");
        cg_json_write_string(b, url);
        cg_buf_puts(b, ",\"changeset\":\"" O311_CHANGESET "\",\"type\":\"production\","
                       "\"formats\":[\"text/xml\",\"application/json\"]}]}");
        cg_http_reply(req, 200, CT_JSON, b);
        return;
    }
    cg_xml x;
    cg_xml_begin(&x, b);
    cg_xml_open(&x, "discovery");
    cg_xml_element(&x, "changeset", O311_CHANGESET);
    cg_xml_element(&x, "contact", contact);
    cg_xml_element(&x, "key_service", key_service);
    cg_xml_open(&x, "endpoints");
    cg_xml_open(&x, "endpoint");
    cg_xml_element(&x, "specification", O311_SPEC);
    cg_xml_element(&x, "url", url);
    cg_xml_element(&x, "changeset", O311_CHANGESET);
    cg_xml_element(&x, "type", "production");
    cg_xml_open(&x, "formats");
    cg_xml_element(&x, "format", "text/xml");
    cg_xml_element(&x, "format", "application/json");
    cg_xml_end(&x);
    cg_http_reply(req, 200, CT_XML, b);
}

/* Everything here is public; POST requests checks its api_key itself (the spec's 403). */
const cg_route cg_open311_routes[] = {
    {"GET", "/open311/v2/discovery.{format}", handle_discovery, "Open311 service discovery",
     CG_PERM_PUBLIC},
    {"GET", "/open311/v2/services.{format}", handle_services, "Open311 service list",
     CG_PERM_PUBLIC},
    {"GET", "/open311/v2/services/{code}.{format}", handle_service, "Open311 service definition",
     CG_PERM_PUBLIC},
    {"GET", "/open311/v2/requests.{format}", handle_requests,
     "Open311 service requests (90 days / 1000 by default; page, page_size)", CG_PERM_PUBLIC},
    {"POST", "/open311/v2/requests.{format}", handle_post,
     "report a service request (api_key; form or multipart with a photo)", CG_PERM_PUBLIC},
    {"GET", "/open311/v2/requests/{id}.{format}", handle_request, "one Open311 service request",
     CG_PERM_PUBLIC},
    {"GET", "/open311/v2/requests/{id}/media/{sha}", handle_media,
     "a photo of a public service request", CG_PERM_PUBLIC},
    {"GET", "/open311/v2/tokens/{token}.{format}", handle_token,
     "the service request id of a token", CG_PERM_PUBLIC},
};
const size_t cg_open311_routes_count = sizeof cg_open311_routes / sizeof cg_open311_routes[0];
