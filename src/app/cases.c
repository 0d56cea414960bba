/*
 * The case service (app/cases.h): submission, steps of the state machine with their side
 * effects, reassignment, dispatch suggestions, duplicate search, photos, the timer and
 * statistics. The model decides what is legal (model/case.h); this file fills in what a step
 * changes on the record (times, deadlines, due_at, assignee, tier, extension) and writes the
 * record and its history entry together through the store. The JSON writers are in
 * case_json.c, the rules in case_rules.c, the group commit in intake.c.
 *
 * Deadlines are recomputed from the stage times at every step rather than carried along, so
 * a changed calendar takes effect at the next step of every case. One exception: a case sent
 * back for dispatch (returned, escalated, reopened) gets a fresh dispatch deadline from the
 * moment it came back, not from its registration long ago. Time suspended (挂账) is kept as
 * working seconds, measured with the calendar in force when the case resumes.
 */
#include "app/cases.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "geo/geojson.h"

#define CONTACT_MAX 256 /* characters of a resident's contact details */
#define IDEM_MAX    255 /* bytes of an idempotency key */
#define TIMER_BATCH 1000

/* ---- input checks ---- */

/* Counts the characters of a UTF-8 string; -1 when it is not valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static long utf8_count(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        uint32_t cp;
        int len;
        if (p[0] < 0x80) {
            cp = p[0];
            len = 1;
        } else if ((p[0] & 0xE0) == 0xC0) {
            cp = p[0] & 0x1F;
            len = 2;
        } else if ((p[0] & 0xF0) == 0xE0) {
            cp = p[0] & 0x0F;
            len = 3;
        } else if ((p[0] & 0xF8) == 0xF0) {
            cp = p[0] & 0x07;
            len = 4;
        } else {
            return -1;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        p += len;
        n++;
    }
    return n;
}

/* A text field: valid UTF-8, at most max characters (and, for required fields, not blank). */
static int check_text(const char *s, long max, int required, const char *field, cg_err *err)
{
    if (!s || !*s) {
        if (required)
            return cg_err_set(err, CG_EINVAL, field, "%s is required", field);
        return 0;
    }
    long n = utf8_count(s);
    if (n < 0)
        return cg_err_set(err, CG_EINVAL, field, "%s is not valid UTF-8", field);
    if (n > max)
        return cg_err_set(err, CG_ELIMIT, field, "%s has %ld characters, more than %ld", field, n,
                          max);
    if (required && strspn(s, " \t\r\n") == strlen(s))
        return cg_err_set(err, CG_EINVAL, field, "%s is blank", field);
    return 0;
}

static const cg_category *fileable(const cg_case_rules *rules, const char *code, cg_err *err)
{
    if (!code || !*code)
        return cg_err_set(err, CG_EINVAL, "category", "a category is required"), NULL;
    const cg_category *cat = cg_taxonomy_find(&rules->taxonomy, code);
    if (!cat)
        return cg_err_set(err, CG_EINVAL, "category", "unknown category '%.16s'", code), NULL;
    if (!cg_taxonomy_fileable(&rules->taxonomy, code))
        return cg_err_set(err, CG_EINVAL, "category",
                          "category %s is a group: file the case under one of its sub-categories",
                          code),
               NULL;
    return cat;
}

/* ---- deadlines ---- */

/* The deadline of the current stage (case.h's due_at). */
static int64_t due_for(const cg_case *c)
{
    switch (c->status.state) {
    case CG_CASE_REPORTED:
        return c->deadlines.register_by;
    case CG_CASE_REGISTERED:
    case CG_CASE_RETURNED:
    case CG_CASE_ESCALATED:
    case CG_CASE_REOPENED:
        return c->deadlines.dispatch_by;
    case CG_CASE_DISPATCHED:
    case CG_CASE_IN_PROGRESS:
    case CG_CASE_EXTENSION_REQUESTED:
        return c->deadlines.handle_by;
    default:
        return 0;
    }
}

/* Recomputes deadlines and due_at; `back_at` > 0 when the case has just come back for dispatch
 * (its dispatch deadline runs from then). */
static int recompute(const cg_case_rules *rules, const cg_category *cat, cg_case *c,
                     int64_t back_at, cg_err *err)
{
    cg_case_times t = {.reported_at = c->reported_at,
                       .registered_at = c->registered_at,
                       .dispatched_at = c->dispatched_at,
                       .extension = c->extension,
                       .suspended_s = c->suspended_s};
    int64_t kept_dispatch_by = c->deadlines.dispatch_by;
    if (cg_case_deadlines_compute(rules->calendar, cat, &rules->limits, &t, &c->deadlines, err))
        return -1;
    if (back_at) {
        cg_case_times back = {.registered_at = back_at};
        cg_case_deadlines d;
        if (cg_case_deadlines_compute(rules->calendar, cat, &rules->limits, &back, &d, err))
            return -1;
        c->deadlines.dispatch_by = d.dispatch_by;
    } else if (c->status.state == CG_CASE_RETURNED || c->status.state == CG_CASE_ESCALATED ||
               c->status.state == CG_CASE_REOPENED) {
        c->deadlines.dispatch_by = kept_dispatch_by;
    }
    c->due_at = due_for(c);
    return 0;
}

/* ---- history entries ---- */

static void event_init(const cg_case_ctx *ctx, cg_case_event *ev, const char *note)
{
    memset(ev, 0, sizeof *ev);
    ev->actor_id = ctx->actor.actor_id;
    snprintf(ev->actor_name, sizeof ev->actor_name, "%s",
             ctx->actor.name[0] ? ctx->actor.name : (ctx->roles ? "system" : "anonymous"));
    ev->roles = ctx->roles;
    ev->at = ctx->now;
    snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
    snprintf(ev->detail, sizeof ev->detail, "{}");
}

static void assignee_json(cg_buf *b, const cg_assignee *a)
{
    cg_buf_printf(b, "{\"kind\":\"%s\",\"account_id\":%" PRId64 ",\"label\":",
                  cg_assignee_kind_name(a->kind), a->account_id);
    cg_json_write_string(b, a->label);
    cg_buf_putc(b, '}');
}

/* Sets an event's detail to {"<key>": <assignee>} (labels are short: it fits). */
static void detail_assignee(cg_case_event *ev, const cg_assignee *a)
{
    cg_buf b;
    cg_buf_init(&b);
    cg_buf_puts(&b, "{\"assignee\":");
    assignee_json(&b, a);
    cg_buf_putc(&b, '}');
    if (b.len < sizeof ev->detail)
        memcpy(ev->detail, b.data, b.len + 1);
    cg_buf_free(&b);
}

/* ---- reads ---- */

int cg_cases_get(const cg_case_ctx *ctx, int64_t id, cg_case *out, cg_err *err)
{
    return cg_store_case_get(ctx->store, ctx->scope, id, out, err);
}

/* ---- submission ---- */

static int check_input(const cg_case_ctx *ctx, const cg_case_input *in, const cg_category **cat,
                       cg_err *err)
{
    if ((int)in->source < CG_SOURCE_WORKER || (int)in->source > CG_SOURCE_INSPECTION)
        return cg_err_set(err, CG_EINVAL, "source", "unknown source");
    if (!(*cat = fileable(ctx->rules, in->category, err)))
        return -1;
    if (check_text(in->description, CG_CASE_DESC_MAX, 1, "description", err) ||
        check_text(in->address, CG_CASE_ADDR_MAX, 0, "address", err) ||
        check_text(in->contact, CONTACT_MAX, 0, "contact", err))
        return -1;
    if (in->has_point) {
        if (!isfinite(in->lon) || in->lon < -180 || in->lon > 180)
            return cg_err_set(err, CG_EINVAL, "lon", "longitude must be a number in -180..180");
        if (!isfinite(in->lat) || in->lat < -90 || in->lat > 90)
            return cg_err_set(err, CG_EINVAL, "lat", "latitude must be a number in -90..90");
    } else if (!in->address || !*in->address) {
        return cg_err_set(err, CG_EINVAL, "lon", "a case needs a location: a point or an address");
    }
    if (in->priority < 0 || in->priority > 2)
        return cg_err_set(err, CG_EINVAL, "priority", "priority is 0 (normal), 1 or 2 (urgent)");
    if (in->device_id && strlen(in->device_id) >= CG_CASE_DEVICE_MAX)
        return cg_err_set(err, CG_ELIMIT, "device_id", "a device_id has at most %d bytes",
                          CG_CASE_DEVICE_MAX - 1);
    if (in->device_id && utf8_count(in->device_id) < 0)
        return cg_err_set(err, CG_EINVAL, "device_id", "device_id is not valid UTF-8");
    if (in->idem_key && strlen(in->idem_key) > IDEM_MAX)
        return cg_err_set(err, CG_ELIMIT, "idempotency_key",
                          "an idempotency key has at most %d bytes", IDEM_MAX);
    return 0;
}

/* The innermost grid containing the point ("" when none, or without an atlas). */
static void locate(const cg_atlas *atlas, double lon, double lat, char code[CG_CODE_MAX])
{
    code[0] = '\0';
    if (!atlas)
        return;
    size_t path[8];
    size_t depth = cg_atlas_locate(atlas, (cg_point){lon, lat}, path, 8);
    if (depth > 0)
        snprintf(code, CG_CODE_MAX, "%s", cg_atlas_grid(atlas, path[depth - 1])->code);
}

int cg_cases_prepare(const cg_case_ctx *ctx, const cg_case_input *in, cg_case *out,
                     cg_case_prepared *p, cg_err *err)
{
    const cg_category *cat = NULL;
    if (check_input(ctx, in, &cat, err))
        return -1;
    cg_case *c = out;
    memset(c, 0, sizeof *c);
    c->source = in->source;
    snprintf(c->category, sizeof c->category, "%s", cat->code);
    snprintf(c->description, sizeof c->description, "%s", in->description);
    snprintf(c->address, sizeof c->address, "%s", in->address ? in->address : "");
    snprintf(c->device_id, sizeof c->device_id, "%s", in->device_id ? in->device_id : "");
    c->has_point = in->has_point != 0;
    if (c->has_point) {
        c->lon = cg_coord_round(in->lon);
        c->lat = cg_coord_round(in->lat);
        locate(ctx->atlas, c->lon, c->lat, c->grid_code);
    }
    /* Staff report inside their own area; residents (no roles) anywhere. */
    if (ctx->roles && ctx->scope && ctx->scope->code[0] &&
        !cg_scope_contains(ctx->scope, c->grid_code))
        return cg_err_set(err, CG_EINVAL, "location", "the location lies outside your area (%s)",
                          ctx->scope->code);
    c->priority = in->priority;
    c->status.state = CG_CASE_REPORTED;
    c->status.tier = CG_TIER_GRID;
    c->reporter_id = ctx->roles ? ctx->actor.actor_id : 0;
    c->reported_at = c->updated_at = ctx->now;
    if (recompute(ctx->rules, cat, c, 0, err))
        return -1;
    cg_case_event *ev = &p->report;
    event_init(ctx, ev, NULL);
    ev->action = CG_ACT_REPORT;
    ev->from = CG_CASE_NONE;
    ev->to = CG_CASE_REPORTED;
    p->contact = in->contact ? in->contact : "";
    p->idem_key = in->idem_key;
    return 0;
}

int cg_cases_finish(const cg_case_ctx *ctx, int64_t existing_id, cg_case *out, int *replayed,
                    cg_err *err)
{
    *replayed = 0;
    if (existing_id) {
        *replayed = 1;
        return cg_store_case_get(ctx->store, ctx->scope, existing_id, out, err);
    }
    return 0;
}

int cg_cases_submit(const cg_case_ctx *ctx, const cg_case_input *in, cg_case *out, int *replayed,
                    cg_err *err)
{
    *replayed = 0;
    cg_case_prepared p;
    if (cg_cases_prepare(ctx, in, out, &p, err))
        return -1;
    int64_t existing = 0;
    int rc;
    if (ctx->intake) {
        rc = cg_intake_submit(ctx->intake, out, &p.report, p.contact, p.idem_key, &existing, err);
    } else {
        cg_store_set_actor(ctx->store, &ctx->actor);
        rc =
            cg_store_case_insert(ctx->store, out, &p.report, p.contact, p.idem_key, &existing, err);
    }
    if (rc)
        return -1;
    return cg_cases_finish(ctx, existing, out, replayed, err);
}

/* ---- steps ---- */

/* The grid at a tier above the case's grid (the community, the street), or -1. */
static long tier_grid(const cg_atlas *atlas, const char *code, cg_case_tier tier)
{
    if (!atlas || !code[0])
        return -1;
    long i = cg_atlas_find(atlas, code);
    int level = cg_case_tier_level(tier);
    while (i >= 0) {
        const cg_grid *g = cg_atlas_grid(atlas, (size_t)i);
        if ((int)g->level == level)
            return i;
        if ((int)g->level < level)
            return -1;
        i = cg_atlas_parent(atlas, (size_t)i);
    }
    return -1;
}

static int check_assignee(const cg_assignee *a, cg_err *err)
{
    if (a->kind == CG_ASSIGN_ACCOUNT && a->account_id <= 0)
        return cg_err_set(err, CG_EINVAL, "assignee", "an account assignee needs its account id");
    if ((a->kind == CG_ASSIGN_DEPARTMENT || a->kind == CG_ASSIGN_GRID) && !a->label[0])
        return cg_err_set(err, CG_EINVAL, "assignee", "a %s assignee needs its name",
                          cg_assignee_kind_name(a->kind));
    if (a->kind < CG_ASSIGN_ACCOUNT || a->kind > CG_ASSIGN_GRID)
        return cg_err_set(err, CG_EINVAL, "assignee", "unknown assignee kind");
    if (utf8_count(a->label) < 0)
        return cg_err_set(err, CG_EINVAL, "assignee", "the assignee's name is not valid UTF-8");
    return 0;
}

/* Reads the case for a write, with the optimistic version check. */
static int read_for_write(const cg_case_ctx *ctx, int64_t id, int64_t expected_version, cg_case *c,
                          cg_err *err)
{
    if (cg_store_case_get(ctx->store, ctx->scope, id, c, err))
        return -1;
    if (expected_version > 0 && c->version != expected_version)
        return cg_err_set(err, CG_ECONFLICT, "version",
                          "case %" PRId64 " changed meanwhile (version %" PRId64
                          ", you saw %" PRId64 "): reload it",
                          id, c->version, expected_version);
    return 0;
}

int cg_cases_transition(const cg_case_ctx *ctx, int64_t id, const cg_case_step_input *in,
                        cg_case *out, cg_err *err)
{
    if (check_text(in->note, CG_CASE_NOTE_MAX, 0, "note", err))
        return -1;
    cg_case *c = out;
    if (read_for_write(ctx, id, in->expected_version, c, err))
        return -1;
    const cg_category *cat = cg_taxonomy_find(&ctx->rules->taxonomy, c->category);
    if (!cat)
        return cg_err_set(err, CG_EINVAL, "category",
                          "case %" PRId64 " has category %s, no longer in the taxonomy", id,
                          c->category);
    cg_case_status before = c->status;
    cg_case_step step = {in->action, ctx->roles};
    if (cg_case_apply(&c->status, &step, err))
        return -1;
    cg_case_event ev;
    event_init(ctx, &ev, in->note);
    ev.action = in->action;
    ev.from = before.state;
    ev.to = c->status.state;
    ev.tier = c->status.tier;
    int64_t back_at = 0;
    int64_t target = 0; /* mark_duplicate: the case merged into */
    cg_case dup;
    switch (in->action) {
    case CG_ACT_REGISTER:
        c->registered_at = ctx->now;
        break;
    case CG_ACT_MARK_DUPLICATE:
        if (in->duplicate_of <= 0 || in->duplicate_of == id)
            return cg_err_set(err, CG_EINVAL, "duplicate_of",
                              "name the other case this one duplicates");
        if (cg_store_case_get(ctx->store, ctx->scope, in->duplicate_of, &dup, err)) {
            snprintf(err->field, sizeof err->field, "duplicate_of");
            return -1;
        }
        if (dup.status.state == CG_CASE_DUPLICATE || dup.status.state == CG_CASE_REJECTED)
            return cg_err_set(err, CG_EINVAL, "duplicate_of",
                              "case %" PRId64 " is itself %s: merge into a live case",
                              in->duplicate_of, cg_case_state_name(dup.status.state));
        c->duplicate_of = target = in->duplicate_of;
        snprintf(ev.detail, sizeof ev.detail, "{\"duplicate_of\":%" PRId64 "}", target);
        break;
    case CG_ACT_DISPATCH: {
        cg_assignee a;
        if (in->assignee) {
            a = *in->assignee;
        } else {
            size_t n = 0;
            if (cg_cases_suggest(ctx, c, &a, 1, &n, err))
                return -1;
            if (n == 0)
                return cg_err_set(err, CG_EINVAL, "assignee",
                                  "no one to suggest for case %" PRId64 ": name an assignee", id);
        }
        if (check_assignee(&a, err))
            return -1;
        c->assignee = a;
        c->dispatched_at = ctx->now;
        c->extension = c->extension_requested = 0;
        c->handled_at = 0;
        c->suspended_at = c->suspended_s = 0; /* a new handling clock */
        detail_assignee(&ev, &a);
        break;
    }
    case CG_ACT_RETURN:
        memset(&c->assignee, 0, sizeof c->assignee);
        back_at = ctx->now;
        break;
    case CG_ACT_REQUEST_EXTENSION:
        if (in->extension <= 0 || in->extension > CG_CAT_LIMIT_MAX)
            return cg_err_set(err, CG_EINVAL, "extension", "an extension is 1..%d %s",
                              CG_CAT_LIMIT_MAX, cg_time_unit_name(cat->unit));
        c->extension_requested = in->extension;
        snprintf(ev.detail, sizeof ev.detail, "{\"extension\":%d}", in->extension);
        break;
    case CG_ACT_APPROVE_EXTENSION:
        snprintf(ev.detail, sizeof ev.detail, "{\"extension\":%d}", c->extension_requested);
        c->extension += c->extension_requested;
        c->extension_requested = 0;
        break;
    case CG_ACT_DENY_EXTENSION:
        snprintf(ev.detail, sizeof ev.detail, "{\"extension\":0}");
        c->extension_requested = 0;
        break;
    case CG_ACT_ESCALATE: {
        back_at = ctx->now;
        long g = tier_grid(ctx->atlas, c->grid_code, c->status.tier);
        if (g >= 0) {
            cg_assignee a = {.kind = CG_ASSIGN_GRID};
            snprintf(a.label, sizeof a.label, "%s", cg_atlas_grid(ctx->atlas, (size_t)g)->code);
            c->assignee = a;
            detail_assignee(&ev, &a);
        }
        break;
    }
    case CG_ACT_SUSPEND:
        c->suspended_at = ctx->now;
        break;
    case CG_ACT_RESUME: {
        /* The clock stood still while suspended: its working time moves handle_by on (every
         * later recompute adds suspended_s too). The entry records this suspension's share. */
        int64_t paused = 0;
        if (c->suspended_at > 0 && ctx->now > c->suspended_at &&
            cg_calendar_between(ctx->rules->calendar, c->suspended_at, ctx->now, &paused, err))
            return -1;
        c->suspended_s += paused;
        c->suspended_at = 0;
        snprintf(ev.detail, sizeof ev.detail, "{\"suspended_s\":%" PRId64 "}", paused);
        break;
    }
    case CG_ACT_HANDLE:
        c->handled_at = ctx->now;
        break;
    case CG_ACT_CLOSE:
        c->closed_at = ctx->now;
        break;
    case CG_ACT_EVALUATE:
        if (in->evaluation < 1 || in->evaluation > 5)
            return cg_err_set(err, CG_EINVAL, "evaluation", "an evaluation is 1..5");
        c->evaluation = in->evaluation;
        snprintf(ev.detail, sizeof ev.detail, "{\"evaluation\":%d}", in->evaluation);
        break;
    case CG_ACT_REOPEN:
        c->closed_at = c->handled_at = 0;
        c->evaluation = 0;
        back_at = ctx->now;
        break;
    default:
        break;
    }
    c->updated_at = ctx->now;
    if (recompute(ctx->rules, cat, c, back_at, err))
        return -1;

    /* The row, its entry, and what the step does elsewhere (the merge note on the case kept,
     * the contact's retention period) commit together. */
    cg_store *s = ctx->store;
    cg_store_set_actor(s, &ctx->actor);
    if (cg_store_begin(s, err))
        return -1;
    int ok = cg_store_case_update(s, c, &ev, err) == 0;
    if (ok && target) {
        cg_case_event note;
        event_init(ctx, &note, in->note);
        note.is_note = 1;
        note.from = note.to = dup.status.state;
        note.tier = dup.status.tier;
        snprintf(note.detail, sizeof note.detail, "{\"merged\":%" PRId64 "}", id);
        ok = cg_store_case_note(s, target, &note, err) == 0;
    }
    if (ok && in->action == CG_ACT_CLOSE && c->has_contact) {
        char ref[24];
        snprintf(ref, sizeof ref, "%" PRId64, id);
        cg_err local = {0};
        /* A contact already purged is not an error for the case. */
        if (cg_store_contact_close(s, ref, c->closed_at, &local) && local.code != CG_ENOTFOUND) {
            *err = local;
            ok = 0;
        }
    }
    if (!ok) {
        cg_store_rollback(s);
        return -1;
    }
    if (cg_store_commit(s, err)) {
        c->version--;
        return -1;
    }
    return 0;
}

int cg_cases_assign(const cg_case_ctx *ctx, int64_t id, const cg_assignee *to, const char *note,
                    int64_t expected_version, cg_case *out, cg_err *err)
{
    if (check_text(note, CG_CASE_NOTE_MAX, 0, "note", err) || check_assignee(to, err))
        return -1;
    if (!(ctx->roles & (CG_ROLE_OPERATOR | CG_ROLE_ADMIN)))
        return cg_err_set(err, CG_EINVAL, "roles", "only operators and administrators reassign");
    cg_case *c = out;
    if (read_for_write(ctx, id, expected_version, c, err))
        return -1;
    cg_case_state st = c->status.state;
    if (st != CG_CASE_DISPATCHED && st != CG_CASE_IN_PROGRESS && st != CG_CASE_EXTENSION_REQUESTED)
        return cg_err_set(err, CG_ECONFLICT, "state", "a case in state %s cannot be reassigned",
                          cg_case_state_name(st));
    cg_case_event ev;
    event_init(ctx, &ev, note);
    ev.is_note = 1;
    ev.from = ev.to = st;
    ev.tier = c->status.tier;
    detail_assignee(&ev, to);
    c->assignee = *to;
    c->updated_at = ctx->now;
    cg_store_set_actor(ctx->store, &ctx->actor);
    return cg_store_case_update(ctx->store, c, &ev, err);
}

/* ---- suggestions ---- */

typedef struct {
    cg_assignee *out;
    size_t cap, n;
} suggestions;

static void suggest_add(suggestions *sg, cg_assignee_kind kind, int64_t account, const char *label)
{
    if (sg->n >= sg->cap)
        return;
    for (size_t i = 0; i < sg->n; i++)
        if (sg->out[i].kind == kind && sg->out[i].account_id == account &&
            strcmp(sg->out[i].label, label) == 0)
            return;
    cg_assignee *a = &sg->out[sg->n++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->account_id = account;
    snprintf(a->label, sizeof a->label, "%s", label);
}

/* The case's grid and its ancestors up to the street, from the case's tier up; each grid's
 * leader and members follow it as accounts. */
static void suggest_locality(const cg_case_ctx *ctx, const cg_case *c, suggestions *sg)
{
    if (!ctx->atlas || !c->grid_code[0])
        return;
    int from_level = cg_case_tier_level(c->status.tier);
    int top = cg_case_tier_level(CG_TIER_STREET);
    for (long i = cg_atlas_find(ctx->atlas, c->grid_code); i >= 0;
         i = cg_atlas_parent(ctx->atlas, (size_t)i)) {
        const cg_grid *g = cg_atlas_grid(ctx->atlas, (size_t)i);
        if ((int)g->level < top)
            break;
        if ((int)g->level > from_level && c->status.tier != CG_TIER_GRID)
            continue;
        suggest_add(sg, CG_ASSIGN_GRID, 0, g->code);
        if (g->leader_id)
            suggest_add(sg, CG_ASSIGN_ACCOUNT, g->leader_id, g->code);
        for (size_t m = 0; m < g->n_members && m < 4; m++)
            suggest_add(sg, CG_ASSIGN_ACCOUNT, g->member_ids[m], g->code);
    }
}

int cg_cases_suggest(const cg_case_ctx *ctx, const cg_case *c, cg_assignee *out, size_t cap,
                     size_t *n, cg_err *err)
{
    *n = 0;
    const cg_category *cat = cg_taxonomy_find(&ctx->rules->taxonomy, c->category);
    if (!cat)
        return cg_err_set(err, CG_EINVAL, "category", "unknown category '%s'", c->category);
    suggestions sg = {out, cap, 0};
    /* Components go to their owner (the department) first; events to the locality. */
    if (cat->kind == CG_CAT_COMPONENT && cat->department[0])
        suggest_add(&sg, CG_ASSIGN_DEPARTMENT, 0, cat->department);
    suggest_locality(ctx, c, &sg);
    if (cat->department[0])
        suggest_add(&sg, CG_ASSIGN_DEPARTMENT, 0, cat->department);
    *n = sg.n;
    return 0;
}

/* ---- duplicates ---- */

typedef struct {
    double lon, lat;
    int64_t exclude;
    int64_t ids[256];
    double dist[256];
    size_t n;
} dup_search;

static int dup_collect(void *ctx, int64_t id, double lon, double lat)
{
    dup_search *d = ctx;
    if (id == d->exclude || d->n >= 256)
        return 0;
    double m = cg_distance_m((cg_point){d->lon, d->lat}, (cg_point){lon, lat});
    if (m > CG_DUP_RADIUS_M)
        return 0;
    /* Insertion sort by distance, then id: the list is short. */
    size_t i = d->n++;
    while (i > 0 && (d->dist[i - 1] > m || (d->dist[i - 1] == m && d->ids[i - 1] > id))) {
        d->dist[i] = d->dist[i - 1];
        d->ids[i] = d->ids[i - 1];
        i--;
    }
    d->dist[i] = m;
    d->ids[i] = id;
    return 0;
}

int cg_cases_duplicates(const cg_case_ctx *ctx, const char *category, double lon, double lat,
                        int64_t at, int64_t exclude_id, int64_t *ids, size_t cap, size_t *n,
                        cg_err *err)
{
    *n = 0;
    if (!isfinite(lon) || !isfinite(lat) || fabs(lon) > 180 || fabs(lat) > 90)
        return cg_err_set(err, CG_EINVAL, "lon", "a duplicate search needs a valid point");
    /* A box a little larger than the circle, then the exact great-circle distance. */
    double dlat = CG_DUP_RADIUS_M * 1.01 / 111320.0;
    double coslat = cos(lat * M_PI / 180.0);
    double dlon = coslat > 1e-6 ? dlat / coslat : 180;
    uint32_t open = 0;
    for (int s = CG_CASE_REPORTED; s < CG_CASE_STATE_COUNT; s++)
        if (!cg_case_state_final((cg_case_state)s) && !cg_case_state_closed((cg_case_state)s))
            open |= 1u << s;
    /* The store searches its R*Tree by place, report time and category together, so only the
     * candidates are read. */
    cg_case_near_query q = {.states = open,
                            .category = category,
                            .since = at - CG_DUP_WINDOW_S,
                            .until = at + 1,
                            .bbox = {lon - dlon, lat - dlat, lon + dlon, lat + dlat},
                            /* The newest 256 candidates: a spot reported over and over must
                               not make every new report read all of them. */
                            .limit = 256,
                            .scope = ctx->scope};
    dup_search *d = calloc(1, sizeof *d);
    if (!d)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    d->lon = lon;
    d->lat = lat;
    d->exclude = exclude_id;
    int rc = cg_store_case_near(ctx->store, &q, dup_collect, d, err);
    if (rc == 0) {
        for (size_t i = 0; i < d->n && i < cap; i++)
            ids[i] = d->ids[i];
        *n = d->n < cap ? d->n : cap;
    }
    free(d);
    return rc;
}

/* ---- photos ---- */

const char *cg_photo_mime(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

/* A photo that cannot be written: a full or read-only file system is a 503 the client may
 * retry (like the database's own), anything else an I/O failure. */
static int photo_fail(const char *what, int e, cg_err *err)
{
    if (e == ENOSPC || e == EDQUOT)
        return cg_err_set(err, CG_EBUSY, "photo",
                          "storage full: %s: no space left on the disk holding the photos; "
                          "nothing was stored. Free space and try again",
                          what);
    if (e == EROFS)
        return cg_err_set(err, CG_EBUSY, "photo",
                          "storage read-only: %s: the photo directory cannot be written; "
                          "nothing was stored",
                          what);
    return cg_err_set(err, CG_EIO, "photo", "%s: %s", what, strerror(e));
}

static int make_dir(const char *path, cg_err *err)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    if (errno == ENOSPC || errno == EDQUOT || errno == EROFS)
        return photo_fail("cannot create the photo directory", errno, err);
    return cg_err_set(err, CG_EIO, "photo_dir", "cannot create '%s': %s", path, strerror(errno));
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes the file once: a file present under its hash is complete (tmp + fsync + rename).
 * *created says whether this call made it (0 when it was there already). */
static int photo_write(const char *dir, const char *sha, const void *data, size_t len, int *created,
                       cg_err *err)
{
    *created = 0;
    char sub[4096], path[4096], tmp[4096];
    if (snprintf(sub, sizeof sub, "%s/%.2s", dir, sha) >= (int)sizeof sub - 100)
        return cg_err_set(err, CG_EINVAL, "photo_dir", "the photo directory's path is too long");
    snprintf(path, sizeof path, "%.3900s/%s", sub, sha);
    if (make_dir(dir, err) || make_dir(sub, err))
        return -1;
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return 0;
    /* A private temporary name: two requests storing the same photo never share one. */
    unsigned char r[8];
    char suffix[17];
    randombytes_buf(r, sizeof r);
    for (int i = 0; i < 8; i++)
        snprintf(suffix + 2 * i, 3, "%02x", r[i]);
    snprintf(tmp, sizeof tmp, "%.3900s/.%s.%s.tmp", sub, sha, suffix);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return photo_fail("cannot create the photo file", errno, err);
    int bad = write_all(fd, data, len) || fsync(fd);
    int saved = errno;
    close(fd);
    if (bad || rename(tmp, path)) {
        if (!bad)
            saved = errno;
        unlink(tmp);
        return photo_fail("cannot store the photo", saved, err);
    }
    *created = 1;
    return 0;
}

/*
 * A photo file is written before the row naming it commits. When that commit fails, the file
 * this request created is removed unless a row names it (another case with the same photo,
 * through the index on case_photos.sha256); a file that was there before is never touched.
 * After a commit succeeds the file is checked again and rewritten if missing. Both run under
 * one lock, so a request whose commit failed cannot remove the file of one that has just
 * committed the same photo: either the failed one sees the new row, or the committed one finds
 * the file gone and writes it again. (The lock is per process: the server is the one that
 * stores photos.)
 */
static pthread_mutex_t photo_files = PTHREAD_MUTEX_INITIALIZER;

static void photo_forget(const cg_case_ctx *ctx, const char *sha)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%.2s/%s", ctx->photo_dir, sha, sha);
    pthread_mutex_lock(&photo_files);
    int64_t refs = 0;
    cg_err local = {0};
    if (cg_store_case_photo_refs(ctx->store, sha, &refs, &local))
        cg_log_warn("photo %s kept after a failed write: cannot count its cases: %s", sha,
                    local.message);
    else if (refs == 0 && unlink(path) && errno != ENOENT)
        cg_log_warn("photo %s: cannot remove the file of a failed write: %s", sha, strerror(errno));
    pthread_mutex_unlock(&photo_files);
}

static int photo_ensure(const cg_case_ctx *ctx, const char *sha, const void *data, size_t len,
                        cg_err *err)
{
    int created;
    pthread_mutex_lock(&photo_files);
    int rc = photo_write(ctx->photo_dir, sha, data, len, &created, err);
    pthread_mutex_unlock(&photo_files);
    return rc;
}

typedef struct {
    const char *sha;
    cg_case_photo found;
    int present;
} photo_find;

static int photo_match(void *ctx, const cg_case_photo *p)
{
    photo_find *f = ctx;
    if (strcmp(p->sha256, f->sha) == 0) {
        f->found = *p;
        f->present = 1;
        return 1;
    }
    return 0;
}

int cg_cases_photo_add(const cg_case_ctx *ctx, int64_t id, const void *data, size_t len,
                       const char *note, char sha_out[65], cg_err *err)
{
    sha_out[0] = '\0';
    if (check_text(note, CG_CASE_NOTE_MAX, 0, "note", err))
        return -1;
    if (len > CG_PHOTO_MAX_BYTES)
        return cg_err_set(err, CG_ELIMIT, "photo", "a photo has at most %d MB, this one %zu bytes",
                          CG_PHOTO_MAX_BYTES >> 20, len);
    const char *mime = cg_photo_mime(data, len);
    if (!mime)
        return cg_err_set(err, CG_EINVAL, "photo", "not a JPEG, PNG or WebP image");
    if (!ctx->photo_dir || !*ctx->photo_dir)
        return cg_err_set(err, CG_EUNSUPPORTED, "photo", "no photo directory is configured");
    cg_case c;
    if (cg_store_case_get(ctx->store, ctx->scope, id, &c, err))
        return -1;
    char sha[CG_SHA256_HEX];
    cg_sha256_hex(data, len, sha);
    photo_find f = {.sha = sha};
    if (cg_store_case_photos(ctx->store, id, photo_match, &f, err))
        return -1;
    int created = 0;
    if (photo_write(ctx->photo_dir, sha, data, len, &created, err))
        return -1;
    if (f.present) { /* the same photo again: nothing new to record */
        memcpy(sha_out, sha, 65);
        return 0;
    }
    cg_store *s = ctx->store;
    cg_store_set_actor(s, &ctx->actor);
    if (cg_store_begin(s, err)) {
        if (created)
            photo_forget(ctx, sha);
        return -1;
    }
    cg_case_event ev;
    event_init(ctx, &ev, note);
    ev.from = ev.to = c.status.state;
    ev.tier = c.status.tier;
    snprintf(ev.detail, sizeof ev.detail, "{\"photo\":\"%s\"}", sha);
    int ok = cg_store_case_note(s, id, &ev, err) == 0;
    if (ok) {
        cg_case_photo p = {.bytes = (int64_t)len, .event_seq = ev.seq, .at = ctx->now};
        memcpy(p.sha256, sha, 65);
        snprintf(p.mime, sizeof p.mime, "%s", mime);
        ok = cg_store_case_photo_add(s, id, &p, err) == 0;
    }
    if (!ok)
        cg_store_rollback(s);
    if (!ok || cg_store_commit(s, err)) {
        if (created)
            photo_forget(ctx, sha);
        return -1;
    }
    if (photo_ensure(ctx, sha, data, len, err))
        return -1;
    memcpy(sha_out, sha, 65);
    return 0;
}

int cg_cases_photo_open(const cg_case_ctx *ctx, int64_t id, const char *sha, int *fd,
                        uint64_t *size, const char **mime, cg_err *err)
{
    *fd = -1;
    if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return cg_err_set(err, CG_EINVAL, "photo", "a photo is named by its SHA-256 in hex");
    cg_case c;
    if (cg_store_case_get(ctx->store, ctx->scope, id, &c, err))
        return -1;
    photo_find f = {.sha = sha};
    if (cg_store_case_photos(ctx->store, id, photo_match, &f, err))
        return -1;
    if (!f.present)
        return cg_err_set(err, CG_ENOTFOUND, "photo", "case %" PRId64 " has no such photo", id);
    if (!ctx->photo_dir || !*ctx->photo_dir)
        return cg_err_set(err, CG_EUNSUPPORTED, "photo", "no photo directory is configured");
    char path[4096];
    snprintf(path, sizeof path, "%s/%.2s/%s", ctx->photo_dir, sha, sha);
    int d = open(path, O_RDONLY | O_CLOEXEC);
    if (d < 0)
        return cg_err_set(err, errno == ENOENT ? CG_ENOTFOUND : CG_EIO, "photo",
                          "the photo file of case %" PRId64 " is missing: %s", id, strerror(errno));
    struct stat st;
    if (fstat(d, &st)) {
        close(d);
        return cg_err_set(err, CG_EIO, "photo", "cannot read the photo: %s", strerror(errno));
    }
    *fd = d;
    *size = (uint64_t)st.st_size;
    *mime = strcmp(f.found.mime, "image/png") == 0    ? "image/png"
            : strcmp(f.found.mime, "image/webp") == 0 ? "image/webp"
                                                      : "image/jpeg";
    return 0;
}

/* ---- timer ---- */

typedef struct {
    int64_t ids[TIMER_BATCH];
    size_t n;
    const cg_case_rules *rules;
    int64_t now;
} escalations;

static int escalation_collect(void *ctx, const cg_case *c)
{
    escalations *e = ctx;
    const cg_category *cat = cg_taxonomy_find(&e->rules->taxonomy, c->category);
    if (cat && cg_case_should_escalate(cat, &c->status, c->deadlines.handle_by, e->now))
        e->ids[e->n++] = c->id;
    return e->n >= TIMER_BATCH;
}

int cg_cases_timer(const cg_case_ctx *ctx, cg_case_timer_report *rep, cg_err *err)
{
    memset(rep, 0, sizeof *rep);
    /* The timer acts as the system, over everything. */
    cg_case_ctx sys = *ctx;
    sys.scope = NULL;
    sys.roles = CG_CASE_SYSTEM;
    memset(&sys.actor, 0, sizeof sys.actor);
    snprintf(sys.actor.name, sizeof sys.actor.name, "system");
    uint32_t may_escalate = 0;
    for (int s = CG_CASE_REPORTED; s < CG_CASE_STATE_COUNT; s++)
        if (cg_case_roles_for((cg_case_state)s, CG_ACT_ESCALATE))
            may_escalate |= 1u << s;
    escalations *e = calloc(1, sizeof *e);
    if (!e)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    e->rules = ctx->rules;
    e->now = ctx->now;
    /* Only cases past their handling deadline are read (an index on (state, handle_by)), so a
     * pass over millions of open cases reads the few it may act on. */
    cg_case_filter f = {
        .states = may_escalate, .handle_before = ctx->now, .order = CG_CASE_ORDER_ID};
    int rc = cg_store_case_list(ctx->store, &f, escalation_collect, e, err);
    for (size_t i = 0; rc == 0 && i < e->n; i++) {
        cg_case_step_input in = {.action = CG_ACT_ESCALATE,
                                 .note = "handling deadline passed: escalated by the timer"};
        cg_case c;
        cg_err local = {0};
        if (cg_cases_transition(&sys, e->ids[i], &in, &c, &local) == 0)
            rep->escalated++;
        else if (local.code != CG_ECONFLICT && local.code != CG_ENOTFOUND &&
                 local.code != CG_EINVAL) {
            /* A case that moved meanwhile is left for the next pass; a store failure stops. */
            *err = local;
            rc = -1;
        }
    }
    free(e);
    if (rc)
        return -1;
    cg_case_filter overdue = {.overdue_at = ctx->now};
    if (cg_store_case_count(ctx->store, &overdue, &rep->overdue, err))
        return -1;
    cg_store_set_actor(ctx->store, &sys.actor);
    return cg_store_idem_purge(ctx->store, ctx->now - (int64_t)CG_IDEM_KEEP_DAYS * 86400,
                               &rep->idem_purged, err);
}

/* ---- statistics ---- */

typedef struct {
    cg_case_stats_fn cb;
    void *ctx;
} stats_relay;

static double rate(int64_t num, int64_t den)
{
    return den > 0 ? (double)num / (double)den : 0.0;
}

static int stats_row(void *ctx, const cg_case_stats_row *row)
{
    stats_relay *r = ctx;
    cg_case_stats st = {.counts = *row};
    st.dispatch_rate = rate(row->dispatched, row->registered);
    st.close_rate = rate(row->closed, row->dispatched);
    st.on_time_rate = rate(row->closed_on_time, row->closed);
    st.return_rate = rate(row->returned, row->dispatched);
    st.extend_rate = rate(row->extended, row->dispatched);
    return r->cb(r->ctx, &st);
}

int cg_cases_stats(const cg_case_ctx *ctx, const cg_case_stats_query *q, cg_case_stats_fn cb,
                   void *cb_ctx, cg_err *err)
{
    cg_case_stats_query query = *q;
    /* The caller's scope always applies; a narrower one in the query stays. */
    if (!query.scope || (ctx->scope && !cg_scope_within(ctx->scope, query.scope)))
        query.scope = ctx->scope;
    stats_relay r = {cb, cb_ctx};
    return cg_store_case_stats(ctx->store, &query, stats_row, &r, err);
}
