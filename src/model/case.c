/*
 * The case state machine (case.h). Every legal step is one row of `steps` below: from state,
 * action, to state, and the roles allowed. Nothing else in civgrid decides whether a case may
 * move; docs/cases.md prints the same table for people.
 */
#include "model/case.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "model/access.h"
#include "model/grid.h"

#define OPS    (CG_ROLE_OPERATOR | CG_ROLE_ADMIN)
#define DOERS  (CG_ROLE_HANDLER | CG_ROLE_WORKER | CG_ROLE_ADMIN)
#define STAFF  (CG_ROLE_ALL)
#define ANYONE (CG_CASE_ANYONE | CG_ROLE_ALL)

/*
 * The transition table. Why these roles: operators of the command centres register, dispatch,
 * close and decide on extensions and suspensions; whoever the case is dispatched to (a
 * department's handler, or a grid worker handling it on the spot) accepts, handles, asks for
 * more time or returns it as not theirs; a failed verification returns a handled case
 * (operators, inspectors); leaders and operators escalate; inspectors evaluate and reopen.
 * Residents only report.
 */
static const struct {
    cg_case_state from;
    cg_case_action action;
    cg_case_state to;
    uint32_t roles;
} steps[] = {
    {CG_CASE_NONE, CG_ACT_REPORT, CG_CASE_REPORTED, ANYONE},
    {CG_CASE_REPORTED, CG_ACT_REGISTER, CG_CASE_REGISTERED, OPS},
    {CG_CASE_REPORTED, CG_ACT_REJECT, CG_CASE_REJECTED, OPS},
    {CG_CASE_REPORTED, CG_ACT_MARK_DUPLICATE, CG_CASE_DUPLICATE, OPS},
    {CG_CASE_REGISTERED, CG_ACT_MARK_DUPLICATE, CG_CASE_DUPLICATE, OPS},
    {CG_CASE_REGISTERED, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, OPS},
    {CG_CASE_RETURNED, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, OPS},
    {CG_CASE_ESCALATED, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, OPS},
    {CG_CASE_REOPENED, CG_ACT_DISPATCH, CG_CASE_DISPATCHED, OPS},
    {CG_CASE_DISPATCHED, CG_ACT_ACCEPT, CG_CASE_IN_PROGRESS, DOERS},
    {CG_CASE_DISPATCHED, CG_ACT_RETURN, CG_CASE_RETURNED, DOERS},
    {CG_CASE_IN_PROGRESS, CG_ACT_RETURN, CG_CASE_RETURNED, DOERS},
    {CG_CASE_HANDLED, CG_ACT_RETURN, CG_CASE_RETURNED, OPS | CG_ROLE_INSPECTOR},
    {CG_CASE_IN_PROGRESS, CG_ACT_REQUEST_EXTENSION, CG_CASE_EXTENSION_REQUESTED, DOERS},
    {CG_CASE_EXTENSION_REQUESTED, CG_ACT_APPROVE_EXTENSION, CG_CASE_IN_PROGRESS, OPS},
    {CG_CASE_EXTENSION_REQUESTED, CG_ACT_DENY_EXTENSION, CG_CASE_IN_PROGRESS, OPS},
    {CG_CASE_DISPATCHED, CG_ACT_SUSPEND, CG_CASE_SUSPENDED, OPS},
    {CG_CASE_IN_PROGRESS, CG_ACT_SUSPEND, CG_CASE_SUSPENDED, OPS},
    {CG_CASE_SUSPENDED, CG_ACT_RESUME, CG_CASE_DISPATCHED, OPS},
    {CG_CASE_REGISTERED, CG_ACT_ESCALATE, CG_CASE_ESCALATED, OPS | CG_ROLE_LEADER},
    {CG_CASE_DISPATCHED, CG_ACT_ESCALATE, CG_CASE_ESCALATED, OPS | CG_ROLE_LEADER},
    {CG_CASE_IN_PROGRESS, CG_ACT_ESCALATE, CG_CASE_ESCALATED, OPS | CG_ROLE_LEADER},
    {CG_CASE_RETURNED, CG_ACT_ESCALATE, CG_CASE_ESCALATED, OPS | CG_ROLE_LEADER},
    {CG_CASE_IN_PROGRESS, CG_ACT_HANDLE, CG_CASE_HANDLED, DOERS},
    {CG_CASE_HANDLED, CG_ACT_CLOSE, CG_CASE_VERIFIED_CLOSED, OPS},
    {CG_CASE_VERIFIED_CLOSED, CG_ACT_EVALUATE, CG_CASE_EVALUATED, OPS | CG_ROLE_INSPECTOR},
    {CG_CASE_VERIFIED_CLOSED, CG_ACT_REOPEN, CG_CASE_REOPENED, OPS | CG_ROLE_INSPECTOR},
    {CG_CASE_EVALUATED, CG_ACT_REOPEN, CG_CASE_REOPENED, OPS | CG_ROLE_INSPECTOR},
};

#define N_STEPS (sizeof steps / sizeof steps[0])

static const char *const state_names[CG_CASE_STATE_COUNT] = {
    [CG_CASE_NONE] = "none",
    [CG_CASE_REPORTED] = "reported",
    [CG_CASE_REGISTERED] = "registered",
    [CG_CASE_DISPATCHED] = "dispatched",
    [CG_CASE_IN_PROGRESS] = "in_progress",
    [CG_CASE_HANDLED] = "handled",
    [CG_CASE_VERIFIED_CLOSED] = "verified_closed",
    [CG_CASE_EVALUATED] = "evaluated",
    [CG_CASE_REJECTED] = "rejected",
    [CG_CASE_DUPLICATE] = "duplicate",
    [CG_CASE_RETURNED] = "returned",
    [CG_CASE_EXTENSION_REQUESTED] = "extension_requested",
    [CG_CASE_SUSPENDED] = "suspended",
    [CG_CASE_ESCALATED] = "escalated",
    [CG_CASE_REOPENED] = "reopened",
};

/* Action names, and the phrase used in refusals ("cannot be <verb>", "may not <verb> a case"). */
static const struct {
    const char *name, *passive, *active;
} action_names[CG_ACT_COUNT] = {
    [CG_ACT_REPORT] = {"report", "reported", "report"},
    [CG_ACT_REGISTER] = {"register", "registered", "register"},
    [CG_ACT_REJECT] = {"reject", "rejected", "reject"},
    [CG_ACT_MARK_DUPLICATE] = {"mark_duplicate", "marked as a duplicate", "mark as a duplicate"},
    [CG_ACT_DISPATCH] = {"dispatch", "dispatched", "dispatch"},
    [CG_ACT_ACCEPT] = {"accept", "accepted", "accept"},
    [CG_ACT_RETURN] = {"return", "returned", "return"},
    [CG_ACT_REQUEST_EXTENSION] = {"request_extension", "given an extension request",
                                  "request an extension for"},
    [CG_ACT_APPROVE_EXTENSION] = {"approve_extension", "given an extension approval",
                                  "approve an extension for"},
    [CG_ACT_DENY_EXTENSION] = {"deny_extension", "given an extension denial",
                               "deny an extension for"},
    [CG_ACT_SUSPEND] = {"suspend", "suspended", "suspend"},
    [CG_ACT_RESUME] = {"resume", "resumed", "resume"},
    [CG_ACT_ESCALATE] = {"escalate", "escalated", "escalate"},
    [CG_ACT_HANDLE] = {"handle", "reported handled", "report as handled"},
    [CG_ACT_CLOSE] = {"close", "closed", "close"},
    [CG_ACT_EVALUATE] = {"evaluate", "evaluated", "evaluate"},
    [CG_ACT_REOPEN] = {"reopen", "reopened", "reopen"},
};

const char *cg_case_state_name(cg_case_state s)
{
    return (unsigned)s < CG_CASE_STATE_COUNT ? state_names[s] : "unknown";
}

const char *cg_case_action_name(cg_case_action a)
{
    return (unsigned)a < CG_ACT_COUNT ? action_names[a].name : "unknown";
}

const char *cg_case_tier_name(cg_case_tier t)
{
    switch (t) {
    case CG_TIER_GRID:
        return "grid";
    case CG_TIER_COMMUNITY:
        return "community";
    case CG_TIER_STREET:
        return "street";
    }
    return "unknown";
}

int cg_case_state_parse(const char *s, cg_case_state *out)
{
    for (int i = CG_CASE_REPORTED; i < CG_CASE_STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (cg_case_state)i;
            return 0;
        }
    return -1;
}

int cg_case_action_parse(const char *s, cg_case_action *out)
{
    for (int i = 0; i < CG_ACT_COUNT; i++)
        if (strcmp(s, action_names[i].name) == 0) {
            *out = (cg_case_action)i;
            return 0;
        }
    return -1;
}

static const char *const source_names[] = {
    [CG_SOURCE_WORKER] = "worker",         [CG_SOURCE_RESIDENT] = "resident",
    [CG_SOURCE_HOTLINE] = "hotline",       [CG_SOURCE_PATROL] = "patrol",
    [CG_SOURCE_INSPECTION] = "inspection",
};
#define N_SOURCES ((int)(sizeof source_names / sizeof source_names[0]))

const char *cg_case_source_name(cg_case_source s)
{
    return (int)s > 0 && (int)s < N_SOURCES ? source_names[s] : "unknown";
}

int cg_case_source_parse(const char *s, cg_case_source *out)
{
    for (int i = 1; i < N_SOURCES; i++)
        if (strcmp(s, source_names[i]) == 0) {
            *out = (cg_case_source)i;
            return 0;
        }
    return -1;
}

static const char *const assignee_kind_names[] = {
    [CG_ASSIGN_NONE] = "none",
    [CG_ASSIGN_ACCOUNT] = "account",
    [CG_ASSIGN_DEPARTMENT] = "department",
    [CG_ASSIGN_GRID] = "grid",
};
#define N_ASSIGNEE_KINDS ((int)(sizeof assignee_kind_names / sizeof assignee_kind_names[0]))

const char *cg_assignee_kind_name(cg_assignee_kind k)
{
    return (int)k >= 0 && (int)k < N_ASSIGNEE_KINDS ? assignee_kind_names[k] : "unknown";
}

int cg_assignee_kind_parse(const char *s, cg_assignee_kind *out)
{
    for (int i = 0; i < N_ASSIGNEE_KINDS; i++)
        if (strcmp(s, assignee_kind_names[i]) == 0) {
            *out = (cg_assignee_kind)i;
            return 0;
        }
    return -1;
}

int cg_case_tier_level(cg_case_tier t)
{
    static const int level[] = {CG_LEVEL_GRID, CG_LEVEL_COMMUNITY, CG_LEVEL_STREET};
    return (unsigned)t <= CG_TIER_STREET ? level[t] : CG_LEVEL_NONE;
}

int cg_case_state_final(cg_case_state s)
{
    return s == CG_CASE_REJECTED || s == CG_CASE_DUPLICATE;
}

int cg_case_state_closed(cg_case_state s)
{
    return s == CG_CASE_VERIFIED_CLOSED || s == CG_CASE_EVALUATED;
}

uint32_t cg_case_roles_for(cg_case_state current, cg_case_action action)
{
    for (size_t i = 0; i < N_STEPS; i++)
        if (steps[i].from == current && steps[i].action == action)
            return steps[i].roles;
    return 0;
}

int cg_case_transition(cg_case_state current, cg_case_action action, uint32_t roles,
                       cg_case_state *next, cg_err *err)
{
    if ((unsigned)current >= CG_CASE_STATE_COUNT || (unsigned)action >= CG_ACT_COUNT)
        return cg_err_set(err, CG_EINVAL, "action", "unknown state %d or action %d", (int)current,
                          (int)action);
    size_t i = 0;
    while (i < N_STEPS && !(steps[i].from == current && steps[i].action == action))
        i++;
    if (i == N_STEPS) {
        if (current == CG_CASE_NONE)
            return cg_err_set(err, CG_ECONFLICT, "state",
                              "a case must be reported before it can be %s",
                              action_names[action].passive);
        return cg_err_set(err, CG_ECONFLICT, "state", "a case in state %s cannot be %s",
                          state_names[current], action_names[action].passive);
    }
    uint32_t allowed = steps[i].roles;
    if (!(roles & allowed & CG_ROLE_ALL) && !(allowed & CG_CASE_ANYONE)) {
        if (roles == 0)
            return cg_err_set(err, CG_EINVAL, "roles",
                              "an anonymous resident may not %s a case; residents only report",
                              action_names[action].active);
        char names[96];
        cg_roles_format(roles & CG_ROLE_ALL, names, sizeof names);
        return cg_err_set(err, CG_EINVAL, "roles", "role%s %s may not %s a case",
                          strchr(names, ',') ? "s" : "", names, action_names[action].active);
    }
    *next = steps[i].to;
    return 0;
}

int cg_case_apply(cg_case_status *status, const cg_case_step *step, cg_err *err)
{
    cg_case_state next;
    if (step->action == CG_ACT_ESCALATE && status->tier >= CG_TIER_STREET &&
        cg_case_roles_for(status->state, CG_ACT_ESCALATE))
        return cg_err_set(err, CG_ECONFLICT, "tier",
                          "a case at the street level cannot be escalated further");
    if (cg_case_transition(status->state, step->action, step->roles, &next, err))
        return -1;
    if (step->action == CG_ACT_ESCALATE)
        status->tier = (cg_case_tier)(status->tier + 1);
    status->state = next;
    return 0;
}

int cg_case_replay(const cg_case_step *history, size_t n, cg_case_status *out, size_t *bad_step,
                   cg_err *err)
{
    cg_case_status st = {CG_CASE_NONE, CG_TIER_GRID};
    for (size_t i = 0; i < n; i++)
        if (cg_case_apply(&st, &history[i], err)) {
            if (bad_step)
                *bad_step = i;
            cg_err_prefix(err, "step %zu (%s): ", i, cg_case_action_name(history[i].action));
            return -1;
        }
    *out = st;
    return 0;
}

const cg_stage_limits cg_stage_limits_default = {.register_hours = 2, .dispatch_hours = 1};

int cg_case_deadlines_compute(const cg_calendar *cal, const cg_category *cat,
                              const cg_stage_limits *limits, const cg_case_times *times,
                              cg_case_deadlines *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (cat->kind == CG_CAT_GROUP)
        return cg_err_set(err, CG_EINVAL, "category",
                          "category %s is a group; cases are filed under its sub-categories",
                          cat->code);
    if (times->extension < 0)
        return cg_err_set(err, CG_EINVAL, "extension", "an extension must not be negative");
    if (times->suspended_s < 0)
        return cg_err_set(err, CG_EINVAL, "suspended_s",
                          "the time spent suspended must not be negative");
    if (times->reported_at && cg_calendar_deadline(cal, times->reported_at, limits->register_hours,
                                                   CG_UNIT_WORK_HOURS, &out->register_by, err))
        return -1;
    if (times->registered_at &&
        cg_calendar_deadline(cal, times->registered_at, limits->dispatch_hours, CG_UNIT_WORK_HOURS,
                             &out->dispatch_by, err))
        return -1;
    if (times->dispatched_at &&
        cg_calendar_deadline(cal, times->dispatched_at, cat->limit + times->extension, cat->unit,
                             &out->handle_by, err))
        return -1;
    /* Working time, not calendar time: a suspension over a weekend adds only its working
     * hours. Added after the limit, so a days limit ending at 17:30 moves into the next
     * working periods by exactly the time suspended. */
    if (out->handle_by && times->suspended_s > 0 &&
        cg_calendar_add_seconds(cal, out->handle_by, times->suspended_s, &out->handle_by, err))
        return -1;
    return 0;
}

int cg_case_should_escalate(const cg_category *cat, const cg_case_status *status, int64_t handle_by,
                            int64_t now)
{
    return cat->escalates && status->tier < CG_TIER_STREET && handle_by > 0 && now > handle_by &&
           cg_case_roles_for(status->state, CG_ACT_ESCALATE) != 0;
}
