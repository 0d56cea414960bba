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
#include "model/calendar.h"
#include "model/category.h"

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
    int extension; /* approved extension, in the category's unit (0 when none) */
} cg_case_times;

typedef struct {
    int64_t register_by, dispatch_by, handle_by; /* 0 when the stage has not started */
} cg_case_deadlines;

/*
 * The deadline of each started stage: register_by from reported_at, dispatch_by from
 * registered_at, handle_by from dispatched_at with the category's limit plus the extension.
 * Pure: same inputs, same deadlines (the timer and the API recompute rather than store rules).
 */
int cg_case_deadlines_compute(const cg_calendar *cal, const cg_category *cat,
                              const cg_stage_limits *limits, const cg_case_times *times,
                              cg_case_deadlines *out, cg_err *err);

/* Should the timer escalate this case now: its category escalates, it is open and not final,
 * below the street tier, and its handling deadline has passed? */
int cg_case_should_escalate(const cg_category *cat, const cg_case_status *status, int64_t handle_by,
                            int64_t now);

#endif
