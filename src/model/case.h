/*
 * The case state machine: states, actions, the one transition table with the roles allowed,
 * history replay, escalation tiers and per-stage deadlines. Types and rules only: the store
 * records each accepted step (action, actor roles, time, note) and asks this module whether the
 * next one is legal; the API shows the reasons it gives.
 *
 * Main path: reported -> registered -> dispatched -> in_progress -> handled -> verified_closed
 * -> evaluated. Side paths: rejected and duplicate (final), returned (back to the operator for
 * re-dispatch), extension_requested (approved or denied, back to in_progress), suspended (挂账;
 * resumed into dispatched), escalated (to the parent grid level; dispatched again from there),
 * reopened (a closed case found not fixed; dispatched again).
 *
 * Invariants (tests/unit/test_case.c checks them on thousands of random sequences):
 *   - every state reached is one of the enum's, and CG_CASE_NONE only before the report;
 *   - a case is closed only from handled, so every closed case has a handle step since its last
 *     dispatch; nothing is handled or closed while an extension is pending;
 *   - rejected and duplicate are final; evaluated leaves only by reopen;
 *   - the tier only rises, one level per escalation, and never past the street;
 *   - anonymous residents (no roles) only report;
 *   - replaying the recorded steps from the report yields the current status.
 */
#ifndef CG_MODEL_CASE_H
#define CG_MODEL_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/access.h"
#include "model/calendar.h"
#include "model/category.h"
#include "model/grid.h"

typedef enum {
    CG_CASE_NONE = 0, /* before the report: only CG_ACT_REPORT leads out */
    CG_CASE_REPORTED,
    CG_CASE_REGISTERED,
    CG_CASE_DISPATCHED,
    CG_CASE_IN_PROGRESS,
    CG_CASE_HANDLED,
    CG_CASE_VERIFIED_CLOSED,
    CG_CASE_EVALUATED,
    CG_CASE_REJECTED,
    CG_CASE_DUPLICATE,
    CG_CASE_RETURNED,
    CG_CASE_EXTENSION_REQUESTED,
    CG_CASE_SUSPENDED,
    CG_CASE_ESCALATED,
    CG_CASE_REOPENED,
    CG_CASE_STATE_COUNT
} cg_case_state;

typedef enum {
    CG_ACT_REPORT = 0,
    CG_ACT_REGISTER,
    CG_ACT_REJECT,
    CG_ACT_MARK_DUPLICATE,
    CG_ACT_DISPATCH,
    CG_ACT_ACCEPT, /* the assignee starts work */
    CG_ACT_RETURN,
    CG_ACT_REQUEST_EXTENSION,
    CG_ACT_APPROVE_EXTENSION,
    CG_ACT_DENY_EXTENSION,
    CG_ACT_SUSPEND,
    CG_ACT_RESUME,
    CG_ACT_ESCALATE,
    CG_ACT_HANDLE, /* the assignee reports it handled */
    CG_ACT_CLOSE,  /* verified and closed */
    CG_ACT_EVALUATE,
    CG_ACT_REOPEN,
    CG_ACT_COUNT
} cg_case_action;

/* Escalation tiers (disputes: "small matters stay in the village, big ones in the township"). */
typedef enum { CG_TIER_GRID = 0, CG_TIER_COMMUNITY = 1, CG_TIER_STREET = 2 } cg_case_tier;

/* "reported", ..., "reopened"; "dispatch", ...; "grid", "community", "street". */
const char *cg_case_state_name(cg_case_state s);
const char *cg_case_action_name(cg_case_action a);
const char *cg_case_tier_name(cg_case_tier t);
/* Parse the names above; -1 when unknown. */
int cg_case_state_parse(const char *s, cg_case_state *out);
int cg_case_action_parse(const char *s, cg_case_action *out);
/* The grid level that handles a case at this tier (grid.h's CG_LEVEL_GRID, _COMMUNITY, _STREET). */
int cg_case_tier_level(cg_case_tier t);

/* Is the state final (rejected, duplicate)? Is the case closed (verified_closed, evaluated)? */
int cg_case_state_final(cg_case_state s);
int cg_case_state_closed(cg_case_state s);

/*
 * Looks up (current, action) in the transition table and checks the roles (a bit set of
 * cg_role; 0 is an anonymous resident). On success writes the next state. Refusals:
 *   field "state", CG_ECONFLICT: "a case in state handled cannot be dispatched" (HTTP 409);
 *   field "roles", CG_EINVAL:    "role worker may not close a case" (the API answers 403).
 * The state is checked first, so a refusal for roles means the step exists.
 */
int cg_case_transition(cg_case_state current, cg_case_action action, uint32_t roles,
                       cg_case_state *next, cg_err *err);
/* The roles allowed (bit set; CG_CASE_ANYONE added when anonymous residents may) for a step,
 * or 0 when the step does not exist. */
#define CG_CASE_ANYONE (1u << 31)
uint32_t cg_case_roles_for(cg_case_state current, cg_case_action action);

/* The status replay tracks: state plus escalation tier. */
typedef struct {
    cg_case_state state;
    cg_case_tier tier;
} cg_case_status;

/* One step of a case's history as recorded. */
typedef struct {
    cg_case_action action;
    uint32_t roles; /* the actor's roles at the time */
} cg_case_step;

/* Applies one step to a status (the transition plus the tier rule: escalation refused at
 * street, field "tier"). On error the status is unchanged. */
int cg_case_apply(cg_case_status *status, const cg_case_step *step, cg_err *err);
/*
 * Replays a history from before the report. Returns 0 with the current status, or -1 with the
 * index of the first illegal step in *bad_step and its reason prefixed with "step N:".
 */
int cg_case_replay(const cg_case_step *steps, size_t n, cg_case_status *out, size_t *bad_step,
                   cg_err *err);

/* How long the first two stages may take, in working hours (defaults: 2 and 1). */
typedef struct {
    int register_hours; /* report -> register */
    int dispatch_hours; /* register -> dispatch */
} cg_stage_limits;

extern const cg_stage_limits cg_stage_limits_default;

/* The stage times of a case; 0 for a stage not reached yet. */
typedef struct {
    int64_t reported_at, registered_at, dispatched_at;
    int extension;       /* approved extension, in the category's unit (0 when none) */
    int64_t suspended_s; /* working seconds the handling clock stood still (挂账) since dispatch */
} cg_case_times;

typedef struct {
    int64_t register_by, dispatch_by, handle_by; /* 0 when the stage has not started */
} cg_case_deadlines;

/*
 * The deadline of each started stage: register_by from reported_at, dispatch_by from
 * registered_at, handle_by from dispatched_at with the category's limit plus the extension,
 * then moved on by suspended_s of working time (the clock stops while a case is suspended).
 * Pure: same inputs, same deadlines (the timer and the API recompute rather than store rules).
 * A negative extension or suspended_s is refused (field "extension", "suspended_s").
 */
int cg_case_deadlines_compute(const cg_calendar *cal, const cg_category *cat,
                              const cg_stage_limits *limits, const cg_case_times *times,
                              cg_case_deadlines *out, cg_err *err);

/* Should the timer escalate this case now: its category escalates, it is open and not final,
 * below the street tier, and its handling deadline has passed? */
int cg_case_should_escalate(const cg_category *cat, const cg_case_status *status, int64_t handle_by,
                            int64_t now);

/* ==== The case record (what the store keeps and the APIs show) ==== */

#define CG_CASE_DESC_MAX   4000 /* characters (Unicode code points) of a description */
#define CG_CASE_DESC_BYTES (4 * CG_CASE_DESC_MAX + 1)
#define CG_CASE_ADDR_MAX   256 /* characters of an address */
#define CG_CASE_ADDR_BYTES (4 * CG_CASE_ADDR_MAX + 1)
#define CG_CASE_NOTE_MAX   2000 /* characters of a transition note */
#define CG_CASE_NOTE_BYTES (4 * CG_CASE_NOTE_MAX + 1)
#define CG_CASE_TOKEN_LEN  32 /* hex characters of an Open311 token */
#define CG_CASE_DEVICE_MAX 64 /* bytes of an Open311 device_id */

/* Where a report came from. */
typedef enum {
    CG_SOURCE_WORKER = 1, /* a grid worker (field app, console) */
    CG_SOURCE_RESIDENT,   /* a resident: Open311 / the public page */
    CG_SOURCE_HOTLINE,    /* 12345-style hotline, entered by an operator */
    CG_SOURCE_PATROL,
    CG_SOURCE_INSPECTION,
} cg_case_source;

/* "worker", "resident", "hotline", "patrol", "inspection"; parse gives -1 when unknown. */
const char *cg_case_source_name(cg_case_source s);
int cg_case_source_parse(const char *s, cg_case_source *out);

/* Who a case is assigned to. */
typedef enum {
    CG_ASSIGN_NONE = 0,
    CG_ASSIGN_ACCOUNT,    /* a person: account_id, label = display name */
    CG_ASSIGN_DEPARTMENT, /* a department: label = its name */
    CG_ASSIGN_GRID,       /* a grid level (locality): label = the grid code */
} cg_assignee_kind;

/* "none", "account", "department", "grid"; parse gives -1 when unknown. */
const char *cg_assignee_kind_name(cg_assignee_kind k);
int cg_assignee_kind_parse(const char *s, cg_assignee_kind *out);

typedef struct {
    cg_assignee_kind kind;
    int64_t account_id; /* CG_ASSIGN_ACCOUNT only */
    char label[CG_CAT_NAME_MAX];
} cg_assignee;

typedef struct {
    int64_t id;      /* 1, 2, ...: the case number residents are given */
    int64_t version; /* bumped by every write; a transition may require the version it saw */
    char token[CG_CASE_TOKEN_LEN + 1]; /* random; Open311 tokens/{token} */
    cg_case_source source;
    char category[CG_CAT_CODE_MAX];
    char description[CG_CASE_DESC_BYTES];
    double lon, lat; /* WGS-84 */
    int has_point;   /* 0: reported with an address only (lon and lat are 0 then) */
    char address[CG_CASE_ADDR_BYTES];
    char grid_code[CG_CODE_MAX]; /* the innermost grid containing the point; "" = the no-grid
                                    queue, waiting for an operator (never lost) */
    int priority;                /* 0 normal, 1 high, 2 urgent */
    cg_case_status status;       /* state and escalation tier */
    cg_assignee assignee;
    int64_t reporter_id;     /* the reporting account; 0 for residents */
    int extension;           /* approved extension, in the category's unit; 0 when none */
    int extension_requested; /* pending request, in the category's unit */
    int64_t reported_at, registered_at, dispatched_at, handled_at, closed_at, updated_at;
    cg_case_deadlines deadlines;
    int64_t due_at;       /* the deadline of the current stage (register_by while reported,
                             dispatch_by while registered/returned/escalated/reopened, handle_by
                             while dispatched/in progress/extension requested); 0 when none
                             (closed, final, suspended). Overdue: due_at > 0 && now > due_at. */
    int64_t duplicate_of; /* the case this one duplicates; 0 */
    int evaluation;       /* 1..5 after evaluate; 0 none */
    int has_contact;      /* a resident left contact details (kept apart: store contacts) */
    int n_photos;
    char device_id[CG_CASE_DEVICE_MAX]; /* Open311 device_id; "" */
    int64_t suspended_at; /* when the current suspension (挂账) began; 0 when not suspended */
    int64_t suspended_s;  /* working seconds spent suspended since the last dispatch, added to
                             handle_by (the current suspension is added when it ends) */
} cg_case;

/* One entry of a case's history. Transitions carry an action; a note entry (a merge recorded on
 * the case a duplicate was merged into, a photo added, a comment) has is_note set, leaves the
 * state alone and is skipped by replay. */
typedef struct {
    int64_t seq; /* 1, 2, ... per case */
    int64_t case_id;
    int is_note;
    cg_case_action action; /* transitions only */
    cg_case_state from, to;
    cg_case_tier tier; /* after the step */
    int64_t actor_id;  /* 0: a resident, the system timer, the command line */
    char actor_name[48];
    uint32_t roles; /* the actor's roles at the time (0 anonymous; the timer records
                       CG_CASE_SYSTEM) */
    int64_t at;
    char note[CG_CASE_NOTE_BYTES];
    char detail[512]; /* small JSON object of step data: {"assignee":{...}}, {"extension":2},
                         {"duplicate_of":17}, {"merged":18}, {"evaluation":4},
                         {"photo":"<sha256>"} ; "{}" when none */
} cg_case_event;

/* The roles the escalation timer acts with: allowed wherever operators are. */
#define CG_CASE_SYSTEM ((uint32_t)CG_ROLE_OPERATOR)

#endif
