/*
 * The case service: everything the staff API, Open311, the timer and the command line do with
 * cases, on top of the model (model/case.h, category.h, calendar.h) and the store. Handlers parse
 * their own format, fill the inputs below, and turn cg_err into their own error shape; the rules
 * live here once.
 *
 * Durability: every acknowledged write is committed with PRAGMA synchronous=FULL (the WAL is
 * fsynced before the commit returns), so a case acknowledged to a client survives a crash of the
 * process or of the machine. To keep intake fast under that rule, new cases go through a
 * group-commit queue (cg_intake): one writer thread commits every case waiting in one
 * transaction and one fsync, then wakes their submitters.
 */
#ifndef CG_APP_CASES_H
#define CG_APP_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "app/atlas.h"
#include "core/err.h"
#include "model/access.h"
#include "model/calendar.h"
#include "model/case.h"
#include "model/category.h"
#include "store/store.h"

#define CG_PHOTO_MAX_BYTES (8 << 20)   /* one photo */
#define CG_DUP_RADIUS_M    50.0        /* duplicate suggestions: same category, within 50 m ... */
#define CG_DUP_WINDOW_S    (24 * 3600) /* ... reported within 24 h */

/* ---- rules: taxonomy, calendar and stage limits, loaded from the store's rule documents ---- */

typedef struct {
    cg_taxonomy taxonomy;   /* stored "categories", or the embedded default */
    cg_calendar *calendar;  /* stored hours and years, or the defaults with the embedded years */
    cg_stage_limits limits; /* cg_stage_limits_default */
    int64_t generation;     /* cg_store_rules_generation when loaded */
} cg_case_rules;

/* Loads the rules (read-only afterwards: share between threads). */
int cg_case_rules_load(cg_store *s, cg_case_rules **out, cg_err *err);
void cg_case_rules_free(cg_case_rules *r);

/*
 * The first year whose holidays the rules lack and whose deadlines are being computed at `now`:
 * the current year (Asia/Shanghai), or, from CG_CAL_WARN_DAYS days before its end, the next
 * one; 0 when both are imported. A year never imported counts weekdays only (model/calendar.h),
 * so `serve` warns with this until the State Council's notice is imported.
 */
#define CG_CAL_WARN_DAYS 45
int cg_case_rules_year_missing(const cg_case_rules *r, int64_t now);

/* Validates and stores a taxonomy / one calendar year / the weekly hours, as rule documents. */
int cg_case_rules_put_taxonomy(cg_store *s, const char *json, size_t len, cg_err *err);
int cg_case_rules_put_year(cg_store *s, const char *json, size_t len, int *year, cg_err *err);
/* The weekly hours: {"mon": "08:30-12:00,13:30-17:30", ..., "sun": "", "makeup": "..."}; a day
 * left out keeps the default hours, "" is a day off. */
int cg_case_rules_put_hours(cg_store *s, const char *json, size_t len, cg_err *err);
/* The taxonomy in force (stored or default) as the JSON cg_case_rules_put_taxonomy reads. */
int cg_case_rules_export_taxonomy(cg_store *s, cg_buf *out, cg_err *err);

/* ---- group commit of new cases ---- */

typedef struct cg_intake cg_intake;

/* Starts the writer thread with its own connection to the database at `location`. Up to
 * max_batch cases share one commit (0: 256). */
int cg_intake_start(const char *location, int max_batch, cg_intake **out, cg_err *err);
/* Queues one insert (the arguments of cg_store_case_insert) and waits until its batch is
 * committed durably; the result is exactly what cg_store_case_insert would give. A failing case
 * does not fail the others of its batch (intake.c, write_batch). */
int cg_intake_submit(cg_intake *in, cg_case *c, const cg_case_event *report, const char *contact,
                     const char *idem_key, int64_t *existing_id, cg_err *err);
/* What cg_intake_submit_async reports when the case's batch is done, on the writer thread:
 * rc, *existing_id and err as cg_intake_submit gives them (err NULL when rc is 0; the case's id
 * is in c->id). Keep it short: the next batch waits for it. */
typedef void (*cg_intake_done_fn)(void *arg, int rc, int64_t existing_id, const cg_err *err);
/* The duplicate search of a new case (cg_cases_duplicates), run by the writer on its own
 * connection right after the batch commits, before `done`: the writer's page cache is warm,
 * while every commit resets the other connections' caches and a search there re-reads its
 * pages. A replay (existing_id) or a case without a point is not searched (done stays 0). */
#define CG_INTAKE_DUPS_MAX 16
typedef struct {
    cg_scope scope; /* the reporter's scope (code "": everything) */
    int64_t ids[CG_INTAKE_DUPS_MAX];
    size_t n;
    int done; /* 1: ids and n are the answer; 0: search yourself */
} cg_intake_dups;
/* Queues one insert without waiting: `done` is called exactly once, after the batch has been
 * committed (or has failed). c, report, contact, idem_key and dups (NULL: no search) must stay
 * valid until then. Returns -1 without calling `done` when the case cannot be queued (shutting
 * down: CG_EBUSY). */
int cg_intake_submit_async(cg_intake *in, cg_case *c, const cg_case_event *report,
                           const char *contact, const char *idem_key, cg_intake_dups *dups,
                           cg_intake_done_fn done, void *arg, cg_err *err);
/* Stops taking cases (CG_EBUSY), commits what is queued, runs every pending callback and joins
 * the writer; the handle stays valid until cg_intake_stop. NULL is fine. */
void cg_intake_close(cg_intake *in);
/* Closes (if not yet) and frees; NULL is fine. */
void cg_intake_stop(cg_intake *in);

/* ---- the service ---- */

typedef struct cg_case_index cg_case_index; /* app/case_index.h */

/* What a call may use and who is calling. */
typedef struct {
    cg_store *store;            /* this thread's connection */
    const cg_atlas *atlas;      /* grid assignment, escalation tiers, suggestions */
    const cg_case_rules *rules; /* taxonomy, calendar, limits */
    cg_intake *intake;          /* new cases go through it; NULL: written directly */
    cg_case_index *index;       /* the listing index (app/case_index.h); NULL: lists in SQL */
    const char *photo_dir;      /* content-addressed photo files: <dir>/ab/abcdef...; created */
    const cg_scope *scope;      /* the caller's scope; NULL: unrestricted (command line) */
    uint32_t roles;             /* the caller's roles; 0: anonymous resident */
    cg_actor actor;             /* who, for history and audit */
    int64_t now;                /* Unix seconds */
} cg_case_ctx;

typedef struct {
    cg_case_source source;
    const char *category;    /* a fileable sub-category code */
    const char *description; /* 1..CG_CASE_DESC_MAX characters, UTF-8 */
    double lon, lat;         /* WGS-84 */
    int has_point;           /* a point is required unless an address is given */
    const char *address;     /* optional, <= CG_CASE_ADDR_MAX characters */
    int priority;            /* 0..2 */
    const char *contact;     /* optional resident contact, kept apart; "" or NULL: none */
    const char *device_id;   /* optional (Open311) */
    const char *idem_key;    /* optional: a retried submission with the same key returns the
                                first case (Open311: "o311:" device_id ":" client time) */
} cg_case_input;

/*
 * Validates, assigns the grid (innermost grid containing the point; none: the no-grid queue),
 * computes the first deadline and stores the case with its report entry. Errors name the field:
 * "category" (unknown, or a group), "description" (empty, too long, not UTF-8), "lon"/"lat"
 * (out of range), "address", "priority", "contact". Staff may only report inside their scope
 * (field "location"). *replayed is set when idem_key had been used: out is that first case.
 */
int cg_cases_submit(const cg_case_ctx *ctx, const cg_case_input *in, cg_case *out, int *replayed,
                    cg_err *err);

/* cg_cases_submit in steps, for callers that queue the insert themselves (the server, through
 * cg_intake_submit_async): prepare validates and fills the case and its report entry (every
 * error of cg_cases_submit but the store's); the caller stores out with p->report, p->contact and
 * p->idem_key (cg_store_case_insert's arguments); finish takes the insert's existing_id and, for
 * a replay, reads the first case back into out (*replayed set). */
typedef struct {
    cg_case_event report;
    const char *contact;  /* never NULL */
    const char *idem_key; /* may be NULL */
} cg_case_prepared;
int cg_cases_prepare(const cg_case_ctx *ctx, const cg_case_input *in, cg_case *out,
                     cg_case_prepared *p, cg_err *err);
int cg_cases_finish(const cg_case_ctx *ctx, int64_t existing_id, cg_case *out, int *replayed,
                    cg_err *err);

typedef struct {
    cg_case_action action;
    const char *note;            /* optional, <= CG_CASE_NOTE_MAX characters */
    const cg_assignee *assignee; /* dispatch: required (NULL: the first suggestion) */
    int extension;               /* request_extension: amount in the category's unit, > 0 */
    int64_t duplicate_of;        /* mark_duplicate: an existing case, not itself */
    int evaluation;              /* evaluate: 1..5 */
    int64_t expected_version;    /* > 0: refuse (CG_ECONFLICT) if the case changed since */
} cg_case_step_input;

/*
 * Applies one step: the state machine decides (refusals: field "state" CG_ECONFLICT, field
 * "roles" -> 403), then times, deadlines, due_at, assignee, tier are updated and the row and its
 * history entry written together. Escalation assigns the grid of the next tier (community, then
 * street). Marking a duplicate adds a note entry {"merged": id} to the case it duplicates, so
 * both histories are kept. Closing starts the contact's retention period.
 */
int cg_cases_transition(const cg_case_ctx *ctx, int64_t id, const cg_case_step_input *in,
                        cg_case *out, cg_err *err);

/* Reassigns a dispatched / in-progress / extension-requested case without changing its state
 * (operator, admin): a note entry {"assignee": {...}} records it. */
int cg_cases_assign(const cg_case_ctx *ctx, int64_t id, const cg_assignee *to, const char *note,
                    int64_t expected_version, cg_case *out, cg_err *err);

/* Lists cases as cg_store_case_list does (f->scope is the caller's to set), appending them to
 * out as cg_case_json (ctx->rules, ctx->now) writes them, separated by commas (*n of them), and
 * gives the total the filter matches without limit and offset (cg_store_case_count). Served by
 * ctx->index when the filter is one it answers (newest first by grid subtree, scope, states and
 * report time; app/case_index.h), in one read transaction so page and total agree; otherwise
 * through SQL. On failure nothing is appended. */
int cg_cases_list_json(const cg_case_ctx *ctx, const cg_case_filter *f, cg_buf *out, size_t *n,
                       int64_t *total, cg_err *err);

/* Reads a case within the caller's scope. */
int cg_cases_get(const cg_case_ctx *ctx, int64_t id, cg_case *out, cg_err *err);

/*
 * Dispatch suggestions, best first: for an event, the locality first (the case's grid, then its
 * community and street), then the category's department; for a component, the category's
 * department (the owner) first, then the locality. Escalated cases start at their tier's grid.
 * Accounts are suggested when a grid has a leader/members in the atlas (their ids as
 * CG_ASSIGN_ACCOUNT).
 */
int cg_cases_suggest(const cg_case_ctx *ctx, const cg_case *c, cg_assignee *out, size_t cap,
                     size_t *n, cg_err *err);

/* Open cases (not closed, not final) of the same category within CG_DUP_RADIUS_M of the point
 * reported within CG_DUP_WINDOW_S before `at`, nearest first, within the caller's scope. */
int cg_cases_duplicates(const cg_case_ctx *ctx, const char *category, double lon, double lat,
                        int64_t at, int64_t exclude_id, int64_t *ids, size_t cap, size_t *n,
                        cg_err *err);

/*
 * Stores a photo for a case: recognised by its magic bytes (JPEG, PNG, WebP; otherwise field
 * "photo", "not a JPEG, PNG or WebP image"), at most CG_PHOTO_MAX_BYTES (CG_ELIMIT), written
 * to <photo_dir>/<2 hex>/<sha256> through a temporary file and rename (so a file present is
 * complete), recorded with a note entry {"photo": sha}. sha_out gets the hash.
 */
int cg_cases_photo_add(const cg_case_ctx *ctx, int64_t id, const void *data, size_t len,
                       const char *note, char sha_out[65], cg_err *err);
/* Opens a stored photo of a case (within scope) for reading; *mime is static. */
int cg_cases_photo_open(const cg_case_ctx *ctx, int64_t id, const char *sha, int *fd,
                        uint64_t *size, const char **mime, cg_err *err);
/* Recognises an image by its magic bytes: "image/jpeg", "image/png", "image/webp" or NULL. */
const char *cg_photo_mime(const void *data, size_t len);

/* What one timer pass did. */
typedef struct {
    int64_t escalated; /* cases escalated (overdue disputes) */
    int64_t overdue;   /* open cases past their stage deadline at `now` */
    int64_t idem_purged;
} cg_case_timer_report;

/*
 * One pass of the timer (civgrid serve runs it every minute): escalates overdue cases of
 * escalating categories one tier (a step by the system, recorded in history), counts overdue
 * cases and purges old idempotency keys. Idempotent: a second pass at the same `now` changes
 * nothing, and after a restart the pass picks up exactly where the data says.
 */
int cg_cases_timer(const cg_case_ctx *ctx, cg_case_timer_report *rep, cg_err *err);

/* Statistics per group with the rates of docs/cases.md. */
typedef struct {
    cg_case_stats_row counts;
    double dispatch_rate; /* dispatched / registered */
    double close_rate;    /* closed / dispatched */
    double on_time_rate;  /* closed_on_time / closed */
    double return_rate;   /* returned / dispatched */
    double extend_rate;   /* extended / dispatched */
} cg_case_stats;
typedef int (*cg_case_stats_fn)(void *ctx, const cg_case_stats *row);
int cg_cases_stats(const cg_case_ctx *ctx, const cg_case_stats_query *q, cg_case_stats_fn cb,
                   void *cb_ctx, cg_err *err);

/*
 * The staff API's JSON for a case (contacts never included; times ISO 8601 in +08:00, null when
 * 0):
 *   {"id":12,"version":3,"source":"resident","category":"0101",
 *    "category_name":{"zh":"...","en":"..."},"description":"...","lon":120.1,"lat":30.2,
 *    "address":"...","grid":"330199001001001" | null (the no-grid queue),"priority":0,
 *    "state":"dispatched","tier":"grid",
 *    "assignee":{"kind":"department","account_id":0,"label":"..."} | null,
 *    "reporter_id":5,"extension":0,"extension_requested":0,
 *    "reported_at":"2026-11-24T10:00:00+08:00","registered_at":...,"dispatched_at":...,
 *    "handled_at":...,"closed_at":...,"updated_at":...,
 *    "deadlines":{"register_by":...,"dispatch_by":...,"handle_by":...},
 *    "due_at":...,"overdue":false,"remaining_s":1234 (working seconds to due_at, negative when
 *    overdue; null without a due time),"duplicate_of":null,"evaluation":null,
 *    "has_contact":true,"photos":2,"device_id":null}
 * An event:
 *   {"seq":2,"action":"register" | null,"note_only":false,"from":"reported","to":"registered",
 *    "tier":"grid","actor":{"id":3,"name":"operator"},"roles":"operator",
 *    "at":"2026-11-24T10:05:00+08:00","note":"...","detail":{...}}
 */
void cg_case_json(const cg_case *c, const cg_case_rules *rules, int64_t now, cg_buf *out);
/* cg_case_json in three parts, for a list that keeps the lasting ones: the head (up to due_at)
 * and the tail (from duplicate_of) depend only on the case and the rules' taxonomy; the live
 * part between them (overdue, remaining_s) on the time and the calendar as well. */
void cg_case_json_head(const cg_case *c, const cg_case_rules *rules, cg_buf *out);
void cg_case_json_live(int64_t due_at, const cg_case_rules *rules, int64_t now, cg_buf *out);
void cg_case_json_tail(const cg_case *c, cg_buf *out);
void cg_case_event_json(const cg_case_event *e, cg_buf *out);

#endif
