/*
 * Tests of the case service (app/cases.h) on a real SQLite file and a small atlas (one street,
 * one community, two grids): submission errors and grid assignment, the no-grid queue,
 * idempotent replay, the main path with deadlines checked against the 2026 calendar, refusals,
 * timer escalation, duplicates and merges, photos, statistics, JSON, rules, and the group
 * commit under concurrent submitters (with the writer's duplicate searches, and a case failing
 * part-way through its insert).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/audit.h"
#include "app/cases.h"
#include "core/crypto.h"
#include "store/sqlite/db.h" /* the store's connection, to make its commits fail */
#include "testutil.h"

/* Local times in Asia/Shanghai as Unix seconds. */
static int64_t at_local(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) - CG_CAL_TZ_OFFSET;
}

#define STREET    "330106001"
#define COMMUNITY "330106001001"
#define GRID_A    "330106001001001"
#define GRID_B    "330106001001002"

typedef struct {
    const char *path;
    cg_store *store;
    cg_atlas *atlas;
    cg_case_rules *rules;
    cg_case_ctx ctx;
} env;

static void square(cg_grid *g, const char *code, cg_level level, double x, double y, double w)
{
    cg_grid_init(g);
    snprintf(g->code, sizeof g->code, "%s", code);
    cg_code_parent(code, g->parent_code);
    g->level = level;
    snprintf(g->name_zh, sizeof g->name_zh, "网格%s", code);
    cg_point pts[] = {{x, y}, {x + w, y}, {x + w, y + w}, {x, y + w}, {x, y}};
    cg_mpoly_add_ring_polygon(&g->geom, pts, 5);
}

static void env_open(env *e, const char *name)
{
    memset(e, 0, sizeof *e);
    e->path = cg_test_tmppath(name);
    unlink(e->path);
    cg_err err = {0};
    if (cg_store_open(e->path, CG_STORE_CREATE, &e->store, &err))
        fail_msg("open: %s", err.message);
    cg_grid g;
    struct {
        const char *code;
        cg_level level;
        double x, y, w;
    } grids[] = {
        {STREET, CG_LEVEL_STREET, 120.0, 30.0, 0.02},
        {COMMUNITY, CG_LEVEL_COMMUNITY, 120.0, 30.0, 0.01},
        {GRID_A, CG_LEVEL_GRID, 120.0, 30.0, 0.005},
        {GRID_B, CG_LEVEL_GRID, 120.005, 30.0, 0.005},
    };
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        square(&g, grids[i].code, grids[i].level, grids[i].x, grids[i].y, grids[i].w);
        if (cg_store_grid_put(e->store, &g, 1700000000, &err))
            fail_msg("grid %s: %s", grids[i].code, err.message);
        cg_grid_free(&g);
    }
    if (cg_atlas_load(e->store, 0, &e->atlas, &err))
        fail_msg("atlas: %s", err.message);
    if (cg_case_rules_load(e->store, &e->rules, &err))
        fail_msg("rules: %s", err.message);
    e->ctx.store = e->store;
    e->ctx.atlas = e->atlas;
    e->ctx.rules = e->rules;
    e->ctx.photo_dir = cg_test_tmppath("photos");
    e->ctx.roles = CG_ROLE_OPERATOR;
    e->ctx.actor.actor_id = 3;
    snprintf(e->ctx.actor.name, sizeof e->ctx.actor.name, "operator");
    e->ctx.now = at_local(2026, 9, 24, 10, 0); /* Thursday before the Mid-Autumn holiday */
}

static void env_close(env *e)
{
    cg_case_rules_free(e->rules);
    cg_atlas_free(e->atlas);
    cg_store_close(e->store);
}

static cg_case_input input(const char *category, double lon, double lat, const char *desc)
{
    cg_case_input in = {.source = CG_SOURCE_WORKER,
                        .category = category,
                        .description = desc,
                        .lon = lon,
                        .lat = lat,
                        .has_point = 1};
    return in;
}

static cg_case submit(env *e, const cg_case_input *in)
{
    cg_case c;
    int replayed = -1;
    cg_err err = {0};
    if (cg_cases_submit(&e->ctx, in, &c, &replayed, &err))
        fail_msg("submit: %s (%s)", err.message, err.field);
    assert_int_equal(replayed, 0);
    return c;
}

static void step(env *e, cg_case *c, cg_case_action a, uint32_t roles, int64_t now)
{
    cg_case_step_input in = {.action = a};
    cg_case_ctx ctx = e->ctx;
    ctx.roles = roles;
    ctx.now = now;
    cg_err err = {0};
    if (cg_cases_transition(&ctx, c->id, &in, c, &err))
        fail_msg("%s: %s", cg_case_action_name(a), err.message);
}

static void expect_submit_error(env *e, const cg_case_input *in, const char *field, cg_code code)
{
    cg_case c;
    int replayed;
    cg_err err = {0};
    assert_int_equal(cg_cases_submit(&e->ctx, in, &c, &replayed, &err), -1);
    if (strcmp(err.field, field) != 0 || err.code != code)
        fail_msg("expected %s/%d, got %s/%d: %s", field, code, err.field, err.code, err.message);
}

static void test_submit_errors(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_errors.db");
    cg_case_input in = input("9999", 120.001, 30.001, "x");
    expect_submit_error(&e, &in, "category", CG_EINVAL);
    in = input("01", 120.001, 30.001, "x");
    expect_submit_error(&e, &in, "category", CG_EINVAL);
    in = input("0101", 120.001, 30.001, "");
    expect_submit_error(&e, &in, "description", CG_EINVAL);
    in = input("0101", 120.001, 30.001, "   ");
    expect_submit_error(&e, &in, "description", CG_EINVAL);
    in = input("0101", 120.001, 30.001, "bad \xC3\x28 utf-8");
    expect_submit_error(&e, &in, "description", CG_EINVAL);
    in = input("0101", 120.001, 30.001, "overlong \xC0\xAF");
    expect_submit_error(&e, &in, "description", CG_EINVAL);
    /* 4000 characters pass (12000 bytes of CJK), 4001 do not. */
    char *long_desc = malloc(4 * 4002);
    long_desc[0] = '\0';
    for (int i = 0; i < 4000; i++)
        strcat(long_desc + i * 3, "井");
    in = input("0101", 120.001, 30.001, long_desc);
    cg_case ok = submit(&e, &in);
    assert_int_equal(strlen(ok.description), 12000);
    strcat(long_desc, "井");
    in = input("0101", 120.001, 30.001, long_desc);
    expect_submit_error(&e, &in, "description", CG_ELIMIT);
    free(long_desc);
    in = input("0101", 190, 30, "x");
    expect_submit_error(&e, &in, "lon", CG_EINVAL);
    in = input("0101", 120, -95, "x");
    expect_submit_error(&e, &in, "lat", CG_EINVAL);
    in = input("0101", 0, 0, "x");
    in.has_point = 0;
    expect_submit_error(&e, &in, "lon", CG_EINVAL);
    in.address = "文一路 1 号"; /* an address alone is enough */
    cg_case addr_only = submit(&e, &in);
    assert_int_equal(addr_only.has_point, 0);
    assert_string_equal(addr_only.grid_code, "");
    in = input("0101", 120.001, 30.001, "x");
    in.priority = 3;
    expect_submit_error(&e, &in, "priority", CG_EINVAL);
    in.priority = 0;
    in.source = (cg_case_source)0;
    expect_submit_error(&e, &in, "source", CG_EINVAL);
    env_close(&e);
}

static void test_grid_and_scope(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_grid.db");
    cg_case_input in = input("0101", 120.001, 30.001, "in grid A");
    cg_case a = submit(&e, &in);
    assert_string_equal(a.grid_code, GRID_A); /* the innermost grid */
    in = input("0101", 120.007, 30.001, "in grid B");
    cg_case b = submit(&e, &in);
    assert_string_equal(b.grid_code, GRID_B);
    in = input("0101", 120.015, 30.015, "community only");
    cg_case st = submit(&e, &in);
    assert_string_equal(st.grid_code, STREET);

    /* A point outside every grid goes to the no-grid queue, never lost. */
    in = input("0101", 100.0, 10.0, "nowhere");
    cg_case none = submit(&e, &in);
    assert_string_equal(none.grid_code, "");
    cg_case_filter f = {.no_grid = 1};
    int64_t n = 0;
    cg_err err = {0};
    assert_int_equal(cg_store_case_count(e.store, &f, &n, &err), 0);
    assert_int_equal(n, 1);

    /* Staff scoped to grid A: may report there, not in B; cannot read B or the queue. */
    cg_scope scope;
    memset(&scope, 0, sizeof scope);
    snprintf(scope.code, sizeof scope.code, GRID_A);
    cg_case_ctx worker = e.ctx;
    worker.scope = &scope;
    worker.roles = CG_ROLE_WORKER;
    cg_case c;
    int replayed;
    in = input("0101", 120.002, 30.002, "mine");
    assert_int_equal(cg_cases_submit(&worker, &in, &c, &replayed, &err), 0);
    assert_int_equal(c.reporter_id, 3);
    in = input("0101", 120.007, 30.002, "not mine");
    assert_int_equal(cg_cases_submit(&worker, &in, &c, &replayed, &err), -1);
    assert_string_equal(err.field, "location");
    in = input("0101", 100.0, 10.0, "nowhere");
    assert_int_equal(cg_cases_submit(&worker, &in, &c, &replayed, &err), -1);
    assert_string_equal(err.field, "location");
    assert_int_equal(cg_cases_get(&worker, b.id, &c, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_int_equal(cg_cases_get(&worker, none.id, &c, &err), -1);
    assert_int_equal(cg_cases_get(&worker, a.id, &c, &err), 0);
    /* A resident (no roles) reports anywhere, and is not recorded as a reporter. */
    cg_case_ctx resident = e.ctx;
    resident.roles = 0;
    memset(&resident.actor, 0, sizeof resident.actor);
    in = input("0101", 120.007, 30.002, "resident");
    in.source = CG_SOURCE_RESIDENT;
    in.contact = "13800000000";
    assert_int_equal(cg_cases_submit(&resident, &in, &c, &replayed, &err), 0);
    assert_int_equal(c.reporter_id, 0);
    assert_int_equal(c.has_contact, 1);
    env_close(&e);
}

static void test_idempotent_replay(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_idem.db");
    cg_case_input in = input("0101", 120.001, 30.001, "first");
    in.idem_key = "o311:dev-1:2026-09-24T10:00:00+08:00";
    cg_case first = submit(&e, &in);
    in.description = "retried";
    cg_case again;
    int replayed = 0;
    cg_err err = {0};
    assert_int_equal(cg_cases_submit(&e.ctx, &in, &again, &replayed, &err), 0);
    assert_int_equal(replayed, 1);
    assert_int_equal(again.id, first.id);
    assert_string_equal(again.description, "first");
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(e.store, NULL, &n, &err), 0);
    assert_int_equal(n, 1);
    env_close(&e);
}

typedef struct {
    cg_case_step steps[32];
    size_t n;
    int notes;
    char details[8][512];
    int64_t resumed_s; /* the sum of the resume entries' {"suspended_s": N} */
} history;

static int history_cb(void *ctx, const cg_case_event *ev)
{
    history *h = ctx;
    if (ev->is_note) {
        if (h->notes < 8)
            memcpy(h->details[h->notes], ev->detail, sizeof ev->detail);
        h->notes++;
        return 0;
    }
    h->steps[h->n].action = ev->action;
    h->steps[h->n].roles = ev->roles;
    h->n++;
    if (ev->action == CG_ACT_RESUME) {
        json_t *d = json_loads(ev->detail, 0, NULL);
        json_t *v = json_object_get(d, "suspended_s");
        assert_true(json_is_integer(v));
        h->resumed_s += json_integer_value(v);
        json_decref(d);
    }
    return 0;
}

static history read_history(env *e, int64_t id)
{
    history h;
    memset(&h, 0, sizeof h);
    cg_err err = {0};
    assert_int_equal(cg_store_case_history(e->store, id, history_cb, &h, &err), 0);
    return h;
}

static void test_happy_path(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_path.db");
    /* Thursday 2026-09-24 10:00; Friday 25 to Sunday 27 are the Mid-Autumn holiday. */
    cg_case_input in = input("0101", 120.001, 30.001, "暴露垃圾");
    in.contact = "13800000000";
    cg_case c = submit(&e, &in);
    assert_int_equal(c.status.state, CG_CASE_REPORTED);
    assert_int_equal(c.deadlines.register_by, at_local(2026, 9, 24, 12, 0)); /* 2 working hours */
    assert_int_equal(c.due_at, c.deadlines.register_by);

    step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, at_local(2026, 9, 24, 10, 30));
    assert_int_equal(c.registered_at, at_local(2026, 9, 24, 10, 30));
    assert_int_equal(c.deadlines.dispatch_by, at_local(2026, 9, 24, 11, 30));
    assert_int_equal(c.due_at, c.deadlines.dispatch_by);

    /* Dispatch without naming anyone takes the first suggestion: an event goes to its grid. */
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, at_local(2026, 9, 24, 11, 0));
    assert_int_equal(c.assignee.kind, CG_ASSIGN_GRID);
    assert_string_equal(c.assignee.label, GRID_A);
    /* One working day, the holiday skipped: Monday 28th, end of the day. */
    assert_int_equal(c.deadlines.handle_by, at_local(2026, 9, 28, 17, 30));
    assert_int_equal(c.due_at, c.deadlines.handle_by);

    step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, at_local(2026, 9, 24, 14, 0));
    step(&e, &c, CG_ACT_HANDLE, CG_ROLE_WORKER, at_local(2026, 9, 28, 9, 0));
    assert_int_equal(c.handled_at, at_local(2026, 9, 28, 9, 0));
    step(&e, &c, CG_ACT_CLOSE, CG_ROLE_OPERATOR, at_local(2026, 9, 28, 10, 0));
    assert_int_equal(c.status.state, CG_CASE_VERIFIED_CLOSED);
    assert_int_equal(c.due_at, 0);
    assert_true(c.closed_at <= c.deadlines.handle_by);

    cg_case_step_input ev = {.action = CG_ACT_EVALUATE, .evaluation = 6};
    cg_err err = {0};
    assert_int_equal(cg_cases_transition(&e.ctx, c.id, &ev, &c, &err), -1);
    assert_string_equal(err.field, "evaluation");
    ev.evaluation = 5;
    ev.expected_version = c.version;
    assert_int_equal(cg_cases_transition(&e.ctx, c.id, &ev, &c, &err), 0);
    assert_int_equal(c.status.state, CG_CASE_EVALUATED);
    assert_int_equal(c.evaluation, 5);

    /* The history replays to the current status. */
    history h = read_history(&e, c.id);
    assert_int_equal(h.n, 7);
    cg_case_status replayed;
    size_t bad;
    assert_int_equal(cg_case_replay(h.steps, h.n, &replayed, &bad, &err), 0);
    assert_int_equal(replayed.state, c.status.state);
    assert_int_equal(replayed.tier, c.status.tier);

    /* Closing started the contact's retention period. */
    int64_t purged = 0;
    assert_int_equal(cg_store_contact_purge(e.store, at_local(2026, 9, 28, 10, 1), &purged, &err),
                     0);
    assert_int_equal(purged, 1);

    /* A stale version is refused. */
    cg_case_step_input reopen = {.action = CG_ACT_REOPEN, .expected_version = c.version - 1};
    assert_int_equal(cg_cases_transition(&e.ctx, c.id, &reopen, &c, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_string_equal(err.field, "version");
    env_close(&e);
}

static void test_refusals_extension(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_refuse.db");
    cg_case_input in = input("0201", 120.001, 30.001, "井盖缺失");
    cg_case c = submit(&e, &in);
    cg_err err = {0};
    cg_case_step_input s = {.action = CG_ACT_DISPATCH};
    assert_int_equal(cg_cases_transition(&e.ctx, c.id, &s, &c, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_string_equal(err.field, "state");
    step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, e.ctx.now);
    /* A component goes to its owner first. */
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, e.ctx.now);
    assert_int_equal(c.assignee.kind, CG_ASSIGN_DEPARTMENT);
    cg_case_ctx worker = e.ctx;
    worker.roles = CG_ROLE_WORKER;
    cg_case_step_input close = {.action = CG_ACT_CLOSE};
    assert_int_equal(cg_cases_transition(&worker, c.id, &close, &c, &err), -1);
    assert_int_equal(err.code, CG_ECONFLICT); /* not handled yet: the state is checked first */
    step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, e.ctx.now);
    int64_t handle_by = c.deadlines.handle_by;
    cg_case_step_input ext = {.action = CG_ACT_REQUEST_EXTENSION};
    assert_int_equal(cg_cases_transition(&worker, c.id, &ext, &c, &err), -1);
    assert_string_equal(err.field, "extension");
    ext.extension = 2;
    assert_int_equal(cg_cases_transition(&worker, c.id, &ext, &c, &err), 0);
    assert_int_equal(c.extension_requested, 2);
    assert_int_equal(c.deadlines.handle_by, handle_by); /* not before approval */
    step(&e, &c, CG_ACT_APPROVE_EXTENSION, CG_ROLE_OPERATOR, e.ctx.now);
    assert_int_equal(c.extension, 2);
    assert_int_equal(c.extension_requested, 0);
    int64_t expect;
    assert_int_equal(cg_calendar_deadline(e.rules->calendar, c.dispatched_at, 4 + 2,
                                          CG_UNIT_WORK_HOURS, &expect, &err),
                     0);
    assert_int_equal(c.deadlines.handle_by, expect);
    step(&e, &c, CG_ACT_HANDLE, CG_ROLE_WORKER, e.ctx.now);
    assert_int_equal(cg_cases_transition(&worker, c.id, &close, &c, &err), -1);
    assert_string_equal(err.field, "roles");
    /* Reassignment only while dispatched or in progress. */
    cg_assignee to = {.kind = CG_ASSIGN_DEPARTMENT};
    snprintf(to.label, sizeof to.label, "供水公司");
    assert_int_equal(cg_cases_assign(&e.ctx, c.id, &to, NULL, 0, &c, &err), -1);
    assert_string_equal(err.field, "state");
    env_close(&e);
}

static int64_t overdue_now(env *e, int64_t now)
{
    cg_case_ctx ctx = e->ctx;
    ctx.now = now;
    cg_case_timer_report rep;
    cg_err err = {0};
    assert_int_equal(cg_cases_timer(&ctx, &rep, &err), 0);
    return rep.overdue;
}

/* 挂账 stops the clock: the working time a case spends suspended moves its handling deadline
 * on, measured in working time (weekends and holidays add nothing), over several cycles, and
 * kept by later recomputes (an approved extension). */
static void test_suspend_stops_clock(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_suspend.db");
    cg_err err = {0};
    /* Exposed garbage: 1 working day. Dispatched Thursday 2026-04-02 10:00: due Friday 17:30. */
    e.ctx.now = at_local(2026, 4, 2, 9, 0);
    cg_case_input in = input("0101", 120.001, 30.001, "暴露垃圾");
    cg_case c = submit(&e, &in);
    step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, at_local(2026, 4, 2, 9, 30));
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, at_local(2026, 4, 2, 10, 0));
    const int64_t original = at_local(2026, 4, 3, 17, 30);
    assert_int_equal(c.deadlines.handle_by, original);
    assert_int_equal(c.suspended_s, 0);

    /* Suspended Friday 15:00, before Qingming (Saturday 4 to Monday 6 April off). */
    step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, at_local(2026, 4, 3, 9, 0));
    step(&e, &c, CG_ACT_SUSPEND, CG_ROLE_OPERATOR, at_local(2026, 4, 3, 15, 0));
    assert_int_equal(c.status.state, CG_CASE_SUSPENDED);
    assert_int_equal(c.suspended_at, at_local(2026, 4, 3, 15, 0));
    assert_int_equal(c.due_at, 0);
    /* Past the original deadline while suspended: not overdue, nothing for the timer. */
    assert_int_equal(overdue_now(&e, at_local(2026, 4, 7, 9, 0)), 0);
    cg_case got;
    assert_int_equal(cg_cases_get(&e.ctx, c.id, &got, &err), 0);
    assert_int_equal(got.status.state, CG_CASE_SUSPENDED);
    assert_int_equal(got.suspended_at, c.suspended_at);

    /* Resumed Tuesday 10:00: 2.5 h on Friday + 1.5 h on Tuesday = 4 working hours (the
     * calendar time is ~91 hours). The 2.5 h left at suspension run from 10:00: 14:00. */
    step(&e, &c, CG_ACT_RESUME, CG_ROLE_OPERATOR, at_local(2026, 4, 7, 10, 0));
    assert_int_equal(c.status.state, CG_CASE_DISPATCHED);
    assert_int_equal(c.suspended_at, 0);
    assert_int_equal(c.suspended_s, 4 * 3600);
    assert_int_equal(c.deadlines.handle_by, at_local(2026, 4, 7, 14, 0));
    assert_int_equal(c.due_at, c.deadlines.handle_by);
    assert_int_equal(overdue_now(&e, at_local(2026, 4, 7, 10, 0)), 0);
    assert_int_equal(overdue_now(&e, at_local(2026, 4, 7, 13, 59)), 0);
    assert_int_equal(overdue_now(&e, at_local(2026, 4, 7, 14, 1)), 1);
    /* What is stored is what was computed. */
    assert_int_equal(cg_cases_get(&e.ctx, c.id, &got, &err), 0);
    assert_int_equal(got.suspended_s, 4 * 3600);
    assert_int_equal(got.deadlines.handle_by, c.deadlines.handle_by);

    /* A second cycle adds to the first: Tuesday 11:00 to Wednesday 09:00 is 1 + 4 + 0.5 h. */
    step(&e, &c, CG_ACT_SUSPEND, CG_ROLE_OPERATOR, at_local(2026, 4, 7, 11, 0));
    step(&e, &c, CG_ACT_RESUME, CG_ROLE_OPERATOR, at_local(2026, 4, 8, 9, 0));
    assert_int_equal(c.suspended_s, (4 + 5.5) * 3600);
    /* 1.5 h were left at 11:00; they run from 09:00. */
    assert_int_equal(c.deadlines.handle_by, at_local(2026, 4, 8, 10, 30));
    int64_t expect;
    assert_int_equal(
        cg_calendar_add_seconds(e.rules->calendar, original, c.suspended_s, &expect, &err), 0);
    assert_int_equal(c.deadlines.handle_by, expect);

    /* An approved extension recomputes from dispatch and keeps the shift: 2 working days from
     * Thursday 10:00 is Tuesday 17:30, + 9.5 h = Thursday 10:30. */
    step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, at_local(2026, 4, 8, 9, 30));
    cg_case_ctx worker = e.ctx;
    worker.roles = CG_ROLE_WORKER;
    worker.now = at_local(2026, 4, 8, 9, 40);
    cg_case_step_input ext = {.action = CG_ACT_REQUEST_EXTENSION, .extension = 1};
    assert_int_equal(cg_cases_transition(&worker, c.id, &ext, &c, &err), 0);
    step(&e, &c, CG_ACT_APPROVE_EXTENSION, CG_ROLE_OPERATOR, at_local(2026, 4, 8, 10, 0));
    assert_int_equal(c.deadlines.handle_by, at_local(2026, 4, 9, 10, 30));
    assert_int_equal(c.suspended_s, 9.5 * 3600);

    /* The history says the same: each resume records its own share. */
    history h = read_history(&e, c.id);
    assert_int_equal(h.resumed_s, c.suspended_s);
    cg_case_status replayed;
    assert_int_equal(cg_case_replay(h.steps, h.n, &replayed, NULL, &err), 0);
    assert_int_equal(replayed.state, c.status.state);

    /* A new dispatch starts a new clock. */
    step(&e, &c, CG_ACT_RETURN, CG_ROLE_WORKER, at_local(2026, 4, 8, 11, 0));
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, at_local(2026, 4, 8, 13, 30));
    assert_int_equal(c.suspended_s, 0);
    assert_int_equal(c.extension, 0);
    assert_int_equal(c.deadlines.handle_by, at_local(2026, 4, 9, 17, 30));
    env_close(&e);
}

static void test_assign(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_assign.db");
    cg_case_input in = input("0101", 120.001, 30.001, "x");
    cg_case c = submit(&e, &in);
    step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, e.ctx.now);
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, e.ctx.now);
    cg_assignee to = {.kind = CG_ASSIGN_ACCOUNT, .account_id = 12};
    snprintf(to.label, sizeof to.label, "张三");
    cg_err err = {0};
    assert_int_equal(cg_cases_assign(&e.ctx, c.id, &to, "换人", c.version, &c, &err), 0);
    assert_int_equal(c.assignee.account_id, 12);
    assert_int_equal(c.status.state, CG_CASE_DISPATCHED);
    history h = read_history(&e, c.id);
    assert_int_equal(h.notes, 1);
    assert_non_null(strstr(h.details[0], "\"account_id\":12"));
    cg_case_ctx worker = e.ctx;
    worker.roles = CG_ROLE_WORKER;
    assert_int_equal(cg_cases_assign(&worker, c.id, &to, NULL, 0, &c, &err), -1);
    assert_string_equal(err.field, "roles");
    env_close(&e);
}

static void test_timer_escalation(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_timer.db");
    cg_case_input in = input("0601", 120.001, 30.001, "邻里纠纷");
    cg_case c = submit(&e, &in);
    in = input("0101", 120.001, 30.001, "垃圾, overdue but not a dispute");
    cg_case other = submit(&e, &in);
    step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, e.ctx.now);
    step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, e.ctx.now);
    step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, e.ctx.now);
    step(&e, &other, CG_ACT_REGISTER, CG_ROLE_OPERATOR, e.ctx.now);
    step(&e, &other, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, e.ctx.now);
    cg_case_ctx later = e.ctx;
    later.now = c.deadlines.handle_by; /* not past yet */
    cg_case_timer_report rep;
    cg_err err = {0};
    assert_int_equal(cg_cases_timer(&later, &rep, &err), 0);
    assert_int_equal(rep.escalated, 0);
    later.now = c.deadlines.handle_by + 60;
    assert_int_equal(cg_cases_timer(&later, &rep, &err), 0);
    assert_int_equal(rep.escalated, 1);
    assert_int_equal(rep.overdue, 1); /* the other one; the dispute waits for dispatch anew */
    cg_case got;
    assert_int_equal(cg_cases_get(&e.ctx, c.id, &got, &err), 0);
    assert_int_equal(got.status.state, CG_CASE_ESCALATED);
    assert_int_equal(got.status.tier, CG_TIER_COMMUNITY);
    assert_int_equal(got.assignee.kind, CG_ASSIGN_GRID);
    assert_string_equal(got.assignee.label, COMMUNITY);
    assert_true(got.due_at > later.now); /* a fresh dispatch deadline */
    /* The same pass again changes nothing. */
    assert_int_equal(cg_cases_timer(&later, &rep, &err), 0);
    assert_int_equal(rep.escalated, 0);
    history h = read_history(&e, c.id);
    int escalations = 0;
    for (size_t i = 0; i < h.n; i++)
        escalations += h.steps[i].action == CG_ACT_ESCALATE;
    assert_int_equal(escalations, 1);
    assert_int_equal(h.steps[h.n - 1].roles, CG_CASE_SYSTEM);
    /* Suggestions for the escalated case start at the community. */
    cg_assignee sug[8];
    size_t n = 0;
    assert_int_equal(cg_cases_suggest(&e.ctx, &got, sug, 8, &n, &err), 0);
    assert_true(n >= 2);
    assert_string_equal(sug[0].label, COMMUNITY);
    assert_string_equal(sug[1].label, STREET);
    env_close(&e);
}

static void test_duplicates_merge(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_dups.db");
    double lon = 120.002, lat = 30.002;
    double m = 1.0 / 111320.0; /* about a metre of latitude */
    cg_case_input in = input("0101", lon, lat, "original");
    cg_case a = submit(&e, &in);
    in = input("0101", lon, lat + 30 * m, "30 m away");
    cg_case near = submit(&e, &in);
    in = input("0101", lon, lat + 80 * m, "80 m away");
    cg_case far = submit(&e, &in);
    in = input("0102", lon, lat, "other category");
    submit(&e, &in);
    cg_case_ctx old = e.ctx;
    old.now = e.ctx.now - 25 * 3600;
    in = input("0101", lon, lat, "25 h earlier");
    cg_case stale;
    int replayed;
    cg_err err = {0};
    assert_int_equal(cg_cases_submit(&old, &in, &stale, &replayed, &err), 0);

    int64_t ids[8];
    size_t n = 0;
    /* From 5 m south of the original: it (5 m) and near (35 m); far is 85 m away, the other
     * category and the one reported 25 h earlier do not count. */
    assert_int_equal(
        cg_cases_duplicates(&e.ctx, "0101", lon, lat - 5 * m, e.ctx.now, 0, ids, 8, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], a.id);
    assert_int_equal(ids[1], near.id);
    /* The case being checked is left out of its own suggestions. */
    assert_int_equal(
        cg_cases_duplicates(&e.ctx, "0101", lon, lat - 5 * m, e.ctx.now, near.id, ids, 8, &n, &err),
        0);
    assert_int_equal(n, 1);
    assert_int_equal(
        cg_cases_duplicates(&e.ctx, "0101", lon, lat + 40 * m, e.ctx.now, 0, ids, 8, &n, &err), 0);
    /* From 40 m: near (10 m), then a and far (40 m each) -> nearest first. */
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], near.id);
    assert_true((ids[1] == a.id && ids[2] == far.id) || (ids[1] == far.id && ids[2] == a.id));

    /* Merge: near is a duplicate of a; both histories stay. */
    step(&e, &near, CG_ACT_REGISTER, CG_ROLE_OPERATOR, e.ctx.now);
    cg_case_step_input dup = {.action = CG_ACT_MARK_DUPLICATE, .duplicate_of = near.id};
    assert_int_equal(cg_cases_transition(&e.ctx, near.id, &dup, &near, &err), -1);
    assert_string_equal(err.field, "duplicate_of");
    dup.duplicate_of = 999;
    assert_int_equal(cg_cases_transition(&e.ctx, near.id, &dup, &near, &err), -1);
    assert_string_equal(err.field, "duplicate_of");
    dup.duplicate_of = a.id;
    assert_int_equal(cg_cases_transition(&e.ctx, near.id, &dup, &near, &err), 0);
    assert_int_equal(near.status.state, CG_CASE_DUPLICATE);
    assert_int_equal(near.duplicate_of, a.id);
    history ha = read_history(&e, a.id), hn = read_history(&e, near.id);
    assert_int_equal(ha.notes, 1);
    char expect[64];
    snprintf(expect, sizeof expect, "{\"merged\":%lld}", (long long)near.id);
    assert_string_equal(ha.details[0], expect);
    assert_int_equal(hn.n, 3); /* report, register, mark_duplicate */
    /* A duplicate is no longer suggested. */
    assert_int_equal(
        cg_cases_duplicates(&e.ctx, "0101", lon, lat + 30 * m, e.ctx.now, 0, ids, 8, &n, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(ids[i] != near.id);
    env_close(&e);
}

static void test_photos(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_photos.db");
    cg_case_input in = input("0101", 120.001, 30.001, "x");
    cg_case c = submit(&e, &in);
    unsigned char jpeg[64] = {0xFF, 0xD8, 0xFF, 0xE0, 'J', 'F', 'I', 'F'};
    unsigned char png[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char webp[64] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
    assert_string_equal(cg_photo_mime(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(cg_photo_mime(png, sizeof png), "image/png");
    assert_string_equal(cg_photo_mime(webp, sizeof webp), "image/webp");
    assert_null(cg_photo_mime("GIF89a......", 12));
    assert_null(cg_photo_mime(jpeg, 2));
    char sha[65], sha2[65];
    cg_err err = {0};
    assert_int_equal(cg_cases_photo_add(&e.ctx, c.id, "GIF89a......", 12, NULL, sha, &err), -1);
    assert_string_equal(err.field, "photo");
    assert_int_equal(err.code, CG_EINVAL);
    unsigned char *big = calloc(1, CG_PHOTO_MAX_BYTES + 1);
    memcpy(big, jpeg, 8);
    assert_int_equal(cg_cases_photo_add(&e.ctx, c.id, big, CG_PHOTO_MAX_BYTES + 1, NULL, sha, &err),
                     -1);
    assert_int_equal(err.code, CG_ELIMIT);
    free(big);
    assert_int_equal(cg_cases_photo_add(&e.ctx, c.id, jpeg, sizeof jpeg, "现场", sha, &err), 0);
    assert_int_equal(strlen(sha), 64);
    char path[512];
    snprintf(path, sizeof path, "%s/%.2s/%s", e.ctx.photo_dir, sha, sha);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, sizeof jpeg);
    /* The same photo again is the same file and no new entry. */
    assert_int_equal(cg_cases_photo_add(&e.ctx, c.id, jpeg, sizeof jpeg, NULL, sha2, &err), 0);
    assert_string_equal(sha, sha2);
    assert_int_equal(cg_cases_photo_add(&e.ctx, c.id, png, sizeof png, NULL, sha2, &err), 0);
    cg_case got;
    assert_int_equal(cg_cases_get(&e.ctx, c.id, &got, &err), 0);
    assert_int_equal(got.n_photos, 2);
    history h = read_history(&e, c.id);
    assert_int_equal(h.notes, 2);
    int fd = -1;
    uint64_t size = 0;
    const char *mime = NULL;
    assert_int_equal(cg_cases_photo_open(&e.ctx, c.id, sha2, &fd, &size, &mime, &err), 0);
    assert_int_equal(size, sizeof png);
    assert_string_equal(mime, "image/png");
    unsigned char back[8];
    assert_int_equal(read(fd, back, 8), 8);
    assert_memory_equal(back, png, 8);
    close(fd);
    assert_int_equal(cg_cases_photo_open(&e.ctx, c.id, "../../etc/passwd", &fd, &size, &mime, &err),
                     -1);
    assert_string_equal(err.field, "photo");
    char other[65];
    memset(other, 'a', 64);
    other[64] = '\0';
    assert_int_equal(cg_cases_photo_open(&e.ctx, c.id, other, &fd, &size, &mime, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    env_close(&e);
}

/* A commit hook that turns every COMMIT of the connection into a rollback (SQLite answers
 * SQLITE_CONSTRAINT_COMMITHOOK): the commit itself fails, after every write succeeded. */
static int refuse_commit(void *arg)
{
    (*(int *)arg)++;
    return 1;
}

/* A commit hook that lets the commit through but removes the photo file first, as a concurrent
 * request whose own commit failed might. */
static int remove_file_on_commit(void *arg)
{
    unlink((const char *)arg);
    return 0;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A photo whose commit fails leaves no file behind, unless the file was there before or another
 * case names it. */
static void test_photo_failed_commit(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_photo_fail.db");
    e.ctx.photo_dir = cg_test_tmppath("photos_fail");
    cg_case_input in = input("0101", 120.001, 30.001, "x");
    cg_case x = submit(&e, &in);
    cg_case y = submit(&e, &in);
    /* Content of this test only (the photo directory outlives a run): start without the file. */
    unsigned char jpeg[96] = {0xFF, 0xD8, 0xFF, 0xE0, 'f', 'a', 'i', 'l', 'e', 'd'};
    char sha[CG_SHA256_HEX], out[65], path[1200];
    cg_sha256_hex(jpeg, sizeof jpeg, sha);
    snprintf(path, sizeof path, "%s/%.2s/%s", e.ctx.photo_dir, sha, sha);
    unlink(path);
    cg_err err = {0};
    int refused = 0;

    /* The commit fails: the file this request wrote is removed, nothing is recorded. */
    sqlite3_commit_hook(e.store->db, refuse_commit, &refused);
    assert_int_equal(cg_cases_photo_add(&e.ctx, x.id, jpeg, sizeof jpeg, NULL, out, &err), -1);
    assert_int_equal(refused, 1);
    assert_false(file_exists(path));
    cg_case got;
    assert_int_equal(cg_cases_get(&e.ctx, x.id, &got, &err), 0);
    assert_int_equal(got.n_photos, 0);
    int64_t refs = -1;
    assert_int_equal(cg_store_case_photo_refs(e.store, sha, &refs, &err), 0);
    assert_int_equal(refs, 0);

    /* It commits: the file stays. */
    sqlite3_commit_hook(e.store->db, NULL, NULL);
    assert_int_equal(cg_cases_photo_add(&e.ctx, x.id, jpeg, sizeof jpeg, NULL, out, &err), 0);
    assert_true(file_exists(path));
    assert_int_equal(cg_store_case_photo_refs(e.store, sha, &refs, &err), 0);
    assert_int_equal(refs, 1);

    /* The same photo on another case, failing: the file was there before, so it stays. */
    sqlite3_commit_hook(e.store->db, refuse_commit, &refused);
    assert_int_equal(cg_cases_photo_add(&e.ctx, y.id, jpeg, sizeof jpeg, NULL, out, &err), -1);
    assert_int_equal(refused, 2);
    assert_true(file_exists(path));

    /* The file lost from the disk and written again by a request that fails: it made the file,
     * but case x names it, so it stays (the count through the sha256 index). */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cg_cases_photo_add(&e.ctx, y.id, jpeg, sizeof jpeg, NULL, out, &err), -1);
    assert_int_equal(refused, 3);
    assert_true(file_exists(path));
    assert_int_equal(cg_cases_get(&e.ctx, y.id, &got, &err), 0);
    assert_int_equal(got.n_photos, 0);

    /* A commit that succeeds makes sure its file is there: removed just before the commit, it is
     * written again after. */
    sqlite3_commit_hook(e.store->db, remove_file_on_commit, path);
    assert_int_equal(cg_cases_photo_add(&e.ctx, y.id, jpeg, sizeof jpeg, NULL, out, &err), 0);
    sqlite3_commit_hook(e.store->db, NULL, NULL);
    assert_int_equal(cg_store_case_photo_refs(e.store, sha, &refs, &err), 0);
    assert_int_equal(refs, 2);
    assert_true(file_exists(path));
    env_close(&e);
}

typedef struct {
    cg_case_stats rows[8];
    int n;
} stats_out;

static int stats_cb(void *ctx, const cg_case_stats *row)
{
    stats_out *o = ctx;
    if (o->n < 8)
        o->rows[o->n++] = *row;
    return 0;
}

static void test_stats_rates(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_stats.db");
    int64_t t = e.ctx.now;
    for (int i = 0; i < 4; i++) {
        cg_case_input in = input("0101", 120.001, 30.001, "x");
        cg_case c = submit(&e, &in);
        step(&e, &c, CG_ACT_REGISTER, CG_ROLE_OPERATOR, t + 60);
        if (i == 3)
            continue; /* registered, never dispatched */
        step(&e, &c, CG_ACT_DISPATCH, CG_ROLE_OPERATOR, t + 120);
        if (i == 2) {
            step(&e, &c, CG_ACT_RETURN, CG_ROLE_WORKER, t + 180);
            continue;
        }
        step(&e, &c, CG_ACT_ACCEPT, CG_ROLE_WORKER, t + 200);
        step(&e, &c, CG_ACT_HANDLE, CG_ROLE_WORKER, t + 300);
        /* Case 0 on time; case 1 closed after its deadline. */
        step(&e, &c, CG_ACT_CLOSE, CG_ROLE_OPERATOR,
             i == 0 ? t + 400 : c.deadlines.handle_by + 3600);
    }
    cg_case_stats_query q = {
        .group = CG_STATS_BY_CATEGORY, .since = t - 1, .until = t + 30 * 86400};
    stats_out o = {.n = 0};
    cg_err err = {0};
    assert_int_equal(cg_cases_stats(&e.ctx, &q, stats_cb, &o, &err), 0);
    assert_int_equal(o.n, 1);
    cg_case_stats *r = &o.rows[0];
    assert_int_equal(r->counts.reported, 4);
    assert_int_equal(r->counts.registered, 4);
    assert_int_equal(r->counts.dispatched, 3);
    assert_int_equal(r->counts.closed, 2);
    assert_int_equal(r->counts.closed_on_time, 1);
    assert_int_equal(r->counts.returned, 1);
    assert_true(r->dispatch_rate == 0.75);
    assert_true(fabs(r->close_rate - 2.0 / 3.0) < 1e-12);
    assert_true(r->on_time_rate == 0.5);
    assert_true(fabs(r->return_rate - 1.0 / 3.0) < 1e-12);
    assert_true(r->extend_rate == 0.0);
    /* An empty period: no rows, and rates of empty groups are 0, never NaN. */
    q.since = t - 10 * 86400;
    q.until = t - 9 * 86400;
    o.n = 0;
    assert_int_equal(cg_cases_stats(&e.ctx, &q, stats_cb, &o, &err), 0);
    assert_int_equal(o.n, 0);
    env_close(&e);
}

static void test_json(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_json.db");
    cg_case_input in = input("0101", 120.001, 30.001, "路口 \"垃圾\"\n");
    in.source = CG_SOURCE_RESIDENT;
    in.device_id = "dev-9";
    cg_case c = submit(&e, &in);
    cg_buf b;
    cg_buf_init(&b);
    cg_case_json(&c, e.rules, e.ctx.now + 60, &b);
    json_error_t je;
    json_t *j = json_loads(b.data, 0, &je);
    if (!j)
        fail_msg("not JSON: %s\n%s", je.text, b.data);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), c.id);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "resident");
    assert_string_equal(json_string_value(json_object_get(j, "description")), "路口 \"垃圾\"\n");
    assert_string_equal(json_string_value(json_object_get(j, "grid")), GRID_A);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "reported");
    assert_true(json_is_null(json_object_get(j, "assignee")));
    assert_string_equal(json_string_value(json_object_get(j, "reported_at")),
                        "2026-09-24T10:00:00+08:00");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "deadlines"), "register_by")),
        "2026-09-24T12:00:00+08:00");
    assert_true(json_is_null(json_object_get(j, "registered_at")));
    assert_true(json_is_false(json_object_get(j, "overdue")));
    assert_int_equal(json_integer_value(json_object_get(j, "remaining_s")), 7200 - 60);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "category_name"), "zh")), "暴露垃圾");
    assert_string_equal(json_string_value(json_object_get(j, "device_id")), "dev-9");
    assert_null(json_object_get(j, "contact"));
    json_decref(j);

    history h;
    (void)h;
    cg_case_event ev;
    memset(&ev, 0, sizeof ev);
    ev.seq = 2;
    ev.action = CG_ACT_DISPATCH;
    ev.from = CG_CASE_REGISTERED;
    ev.to = CG_CASE_DISPATCHED;
    ev.roles = CG_ROLE_OPERATOR;
    ev.actor_id = 3;
    snprintf(ev.actor_name, sizeof ev.actor_name, "operator");
    ev.at = c.reported_at;
    snprintf(ev.detail, sizeof ev.detail, "{\"assignee\":{\"kind\":\"grid\"}}");
    cg_buf_reset(&b);
    cg_case_event_json(&ev, &b);
    j = json_loads(b.data, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "dispatch");
    assert_true(json_is_false(json_object_get(j, "note_only")));
    assert_string_equal(json_string_value(json_object_get(j, "roles")), "operator");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "actor"), "name")),
                        "operator");
    assert_true(json_is_object(json_object_get(json_object_get(j, "detail"), "assignee")));
    json_decref(j);
    cg_buf_free(&b);
    env_close(&e);
}

static void test_rules(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_rules.db");
    cg_err err = {0};
    /* The embedded 2026 year is in force without an import. */
    assert_true(cg_calendar_has_year(e.rules->calendar, 2026));
    assert_false(cg_calendar_is_working_day(e.rules->calendar, 2026, 10, 1));
    int64_t g0 = cg_store_rules_generation(e.store);
    const char *bad = "{\"version\":1,\"categories\":[{\"code\":\"01\"}]}";
    assert_int_equal(cg_case_rules_put_taxonomy(e.store, bad, strlen(bad), &err), -1);
    assert_int_equal(cg_store_rules_generation(e.store), g0);
    const char *tax = "{\"version\":1,\"categories\":[{\"code\":\"01\",\"name_zh\":\"市容\","
                      "\"name_en\":\"City\"},{\"code\":\"0101\",\"parent\":\"01\",\"name_zh\":"
                      "\"垃圾\",\"name_en\":\"Garbage\",\"kind\":\"event\",\"limit\":3,\"unit\":"
                      "\"working_hours\",\"department\":\"环卫\",\"register\":\"r\",\"close\":"
                      "\"c\"}]}";
    assert_int_equal(cg_case_rules_put_taxonomy(e.store, tax, strlen(tax), &err), 0);
    const char *year = "{\"year\":2027,\"holidays\":[\"2027-01-01\"],\"workdays\":[]}";
    int y = 0;
    assert_int_equal(cg_case_rules_put_year(e.store, year, strlen(year), &y, &err), 0);
    assert_int_equal(y, 2027);
    const char *bad_year = "{\"year\":2027,\"holidays\":[\"2027-02-30\"]}";
    assert_int_equal(cg_case_rules_put_year(e.store, bad_year, strlen(bad_year), &y, &err), -1);
    assert_string_equal(err.field, "holidays[0]");
    const char *hours = "{\"sat\":\"09:00-12:00\"}";
    assert_int_equal(cg_case_rules_put_hours(e.store, hours, strlen(hours), &err), 0);
    const char *bad_hours = "{\"mon\":\"12:00-09:00\"}";
    assert_int_equal(cg_case_rules_put_hours(e.store, bad_hours, strlen(bad_hours), &err), -1);
    assert_string_equal(err.field, "mon");
    const char *unknown = "{\"monday\":\"\"}";
    assert_int_equal(cg_case_rules_put_hours(e.store, unknown, strlen(unknown), &err), -1);
    assert_int_equal(cg_store_rules_generation(e.store), g0 + 3);

    cg_case_rules *r;
    assert_int_equal(cg_case_rules_load(e.store, &r, &err), 0);
    assert_int_equal(r->generation, g0 + 3);
    assert_int_equal((int)r->taxonomy.n, 2);
    assert_null(cg_taxonomy_find(&r->taxonomy, "0201"));
    assert_true(cg_calendar_has_year(r->calendar, 2027));
    /* 2026 is embedded and 2027 stored: nothing missing in either; 2028 is missing from 45 days
     * before its first day in Asia/Shanghai (2027-11-17T00:00+08:00), not a second earlier;
     * a current year never imported is missing at once. */
    assert_int_equal(cg_case_rules_year_missing(r, 1779000000), 0);        /* 2026-05-17 */
    assert_int_equal(cg_case_rules_year_missing(r, 1826380800 - 1), 0);    /* 2027-11-16 23:59:59 */
    assert_int_equal(cg_case_rules_year_missing(r, 1826380800), 2028);     /* 2027-11-17 00:00 */
    assert_int_equal(cg_case_rules_year_missing(r, 1830268800), 2028);     /* 2028-01-01 00:00 */
    assert_int_equal(cg_case_rules_year_missing(r, 1767196800 - 1), 2025); /* 2025-12-31 23:59:59 */
    assert_false(cg_calendar_is_working_day(r->calendar, 2027, 1, 1));
    assert_true(cg_calendar_is_working_day(r->calendar, 2027, 1, 2)); /* a Saturday, now worked */
    cg_buf b;
    cg_buf_init(&b);
    assert_int_equal(cg_case_rules_export_taxonomy(e.store, &b, &err), 0);
    assert_non_null(strstr(b.data, "\"0101\""));
    cg_buf_free(&b);
    cg_case_rules_free(r);
    env_close(&e);
}

/* ---- group commit under concurrent submitters ---- */

#define THREADS    8
#define PER_THREAD 40
#define SHARED     10 /* keys every thread submits */

typedef struct {
    const char *path;
    cg_intake *intake;
    const cg_atlas *atlas;
    const cg_case_rules *rules;
    int index;
    int64_t ids[PER_THREAD];
    int64_t shared[SHARED];
    int failures;
} submitter;

static void *submit_many(void *arg)
{
    submitter *sub = arg;
    cg_store *s;
    cg_err err = {0};
    if (cg_store_open(sub->path, 0, &s, &err)) {
        sub->failures++;
        return NULL;
    }
    cg_case_ctx ctx = {.store = s,
                       .atlas = sub->atlas,
                       .rules = sub->rules,
                       .intake = sub->intake,
                       .roles = CG_ROLE_WORKER,
                       .now = at_local(2026, 9, 24, 10, 0)};
    snprintf(ctx.actor.name, sizeof ctx.actor.name, "worker%d", sub->index);
    for (int i = 0; i < PER_THREAD + SHARED; i++) {
        char key[64];
        cg_case_input in = input("0101", 120.001, 30.001, "concurrent");
        if (i >= PER_THREAD) {
            snprintf(key, sizeof key, "shared-%d", i - PER_THREAD);
            in.idem_key = key;
        } else if (i % 2) {
            snprintf(key, sizeof key, "own-%d-%d", sub->index, i);
            in.idem_key = key;
        }
        cg_case c;
        int replayed = 0;
        if (cg_cases_submit(&ctx, &in, &c, &replayed, &err)) {
            sub->failures++;
            continue;
        }
        if (i >= PER_THREAD)
            sub->shared[i - PER_THREAD] = c.id;
        else if (replayed)
            sub->failures++;
        else
            sub->ids[i] = c.id;
    }
    cg_store_close(s);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_intake_concurrent(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_intake.db");
    cg_intake *intake;
    cg_err err = {0};
    assert_int_equal(cg_intake_start(e.path, 16, &intake, &err), 0);
    submitter subs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&subs[t], 0, sizeof subs[t]);
        subs[t].path = e.path;
        subs[t].intake = intake;
        subs[t].atlas = e.atlas;
        subs[t].rules = e.rules;
        subs[t].index = t;
        assert_int_equal(pthread_create(&th[t], NULL, submit_many, &subs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    cg_intake_stop(intake);

    int64_t all[THREADS * PER_THREAD];
    int k = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(subs[t].failures, 0);
        for (int i = 0; i < PER_THREAD; i++)
            all[k++] = subs[t].ids[i];
        /* Every thread got the same case for each shared key. */
        for (int j = 0; j < SHARED; j++)
            assert_int_equal(subs[t].shared[j], subs[0].shared[j]);
    }
    /* Every submitter got its own id, and every id is there. */
    qsort(all, (size_t)k, sizeof all[0], cmp_id);
    for (int i = 1; i < k; i++)
        assert_true(all[i] != all[i - 1]);
    for (int j = 0; j < SHARED; j++)
        assert_null(bsearch(&subs[0].shared[j], all, (size_t)k, sizeof all[0], cmp_id));
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(e.store, NULL, &n, &err), 0);
    assert_int_equal(n, THREADS * PER_THREAD + SHARED);
    for (int i = 0; i < k; i += 7) {
        cg_case c;
        assert_int_equal(cg_store_case_get(e.store, NULL, all[i], &c, &err), 0);
        assert_string_equal(c.grid_code, GRID_A);
    }
    /* A stopped intake is NULL-safe to stop again; a failing case does not sink its batch. */
    cg_intake_stop(NULL);
    assert_int_equal(cg_intake_start(e.path, 0, &intake, &err), 0);
    cg_case bad;
    memset(&bad, 0, sizeof bad);
    cg_case_event ev;
    memset(&ev, 0, sizeof ev);
    int64_t existing;
    assert_int_equal(cg_intake_submit(intake, &bad, &ev, "", NULL, &existing, &err), -1);
    assert_string_equal(err.field, "category");
    cg_intake_stop(intake);
    env_close(&e);
}

/* ---- asynchronous intake (what the server uses) ---- */

#define ASYNC_N 40

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int rc[ASYNC_N];
    int64_t existing[ASYNC_N];
    char field[ASYNC_N][sizeof(((cg_err *)0)->field)];
} async_log;

typedef struct {
    async_log *log;
    int i;
} async_slot;

static void async_done(void *arg, int rc, int64_t existing, const cg_err *err)
{
    async_slot *s = arg;
    pthread_mutex_lock(&s->log->mu);
    s->log->rc[s->i] = rc;
    s->log->existing[s->i] = existing;
    snprintf(s->log->field[s->i], sizeof s->log->field[0], "%s", err ? err->field : "");
    s->log->calls++;
    pthread_cond_signal(&s->log->cv);
    pthread_mutex_unlock(&s->log->mu);
}

static void test_intake_async(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_intake_async.db");
    cg_intake *intake;
    cg_err err = {0};
    assert_int_equal(cg_intake_start(e.path, 8, &intake, &err), 0);
    async_log log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mu, NULL);
    pthread_cond_init(&log.cv, NULL);
    static cg_case cases[ASYNC_N];
    static cg_case_prepared prep[ASYNC_N];
    async_slot slots[ASYNC_N];
    char desc[ASYNC_N][32];
    for (int i = 0; i < ASYNC_N; i++) {
        snprintf(desc[i], sizeof desc[i], "async %d", i);
        cg_case_input in = input("0101", 120.001, 30.001, desc[i]);
        /* cases 0 and 1 share a key: the second is a replay of the first */
        in.idem_key = i < 2 ? "async-shared" : NULL;
        assert_int_equal(cg_cases_prepare(&e.ctx, &in, &cases[i], &prep[i], &err), 0);
        slots[i] = (async_slot){&log, i};
    }
    /* a case the store refuses fails alone */
    cases[5].category[0] = '\0';
    /* every case asks the writer for its duplicate search (all are at one point) */
    static cg_intake_dups dups[ASYNC_N];
    for (int i = 0; i < ASYNC_N; i++)
        assert_int_equal(cg_intake_submit_async(intake, &cases[i], &prep[i].report, prep[i].contact,
                                                prep[i].idem_key, &dups[i], async_done, &slots[i],
                                                &err),
                         0);
    pthread_mutex_lock(&log.mu);
    while (log.calls < ASYNC_N)
        pthread_cond_wait(&log.cv, &log.mu);
    pthread_mutex_unlock(&log.mu);
    assert_int_equal(log.calls, ASYNC_N);
    for (int i = 0; i < ASYNC_N; i++) {
        if (i == 5) {
            assert_int_equal(log.rc[i], -1);
            assert_string_equal(log.field[i], "category");
            continue;
        }
        assert_int_equal(log.rc[i], 0);
        int replayed = -1;
        cg_case c = cases[i];
        assert_int_equal(cg_cases_finish(&e.ctx, log.existing[i], &c, &replayed, &err), 0);
        assert_int_equal(replayed, i == 1);
        if (i == 1) {
            assert_int_equal(c.id, cases[0].id); /* read back: the first case */
            assert_string_equal(c.description, "async 0");
        } else {
            assert_true(cases[i].id > 0);
            cg_case stored;
            assert_int_equal(cg_store_case_get(e.store, NULL, cases[i].id, &stored, &err), 0);
            assert_string_equal(stored.description, desc[i]);
        }
    }
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(e.store, NULL, &n, &err), 0);
    assert_int_equal(n, ASYNC_N - 2);
    /* The writer's duplicate searches: done for every new case (not the replay, not the refused
     * one), never listing the case itself; the last case's (all others committed before it)
     * is exactly what the service's own search says now. */
    for (int i = 0; i < ASYNC_N; i++) {
        assert_int_equal(dups[i].done, i != 1 && i != 5);
        for (size_t k = 0; k < dups[i].n; k++)
            assert_true(dups[i].ids[k] != cases[i].id && dups[i].ids[k] > 0);
    }
    int64_t fresh[CG_INTAKE_DUPS_MAX];
    size_t n_fresh = 0;
    const cg_case *last = &cases[ASYNC_N - 1];
    assert_int_equal(cg_cases_duplicates(&e.ctx, "0101", last->lon, last->lat, last->reported_at,
                                         last->id, fresh, CG_INTAKE_DUPS_MAX, &n_fresh, &err),
                     0);
    assert_int_equal(n_fresh, CG_INTAKE_DUPS_MAX);
    assert_int_equal(dups[ASYNC_N - 1].n, n_fresh);
    for (size_t k = 0; k < n_fresh; k++)
        assert_int_equal(dups[ASYNC_N - 1].ids[k], fresh[k]);
    /* closed: what was queued is done, new cases are refused without a callback */
    cg_intake_close(intake);
    cg_intake_close(intake);
    assert_int_equal(cg_intake_submit_async(intake, &cases[2], &prep[2].report, "", NULL, NULL,
                                            async_done, &slots[2], &err),
                     -1);
    assert_int_equal(err.code, CG_EBUSY);
    int64_t existing;
    assert_int_equal(
        cg_intake_submit(intake, &cases[2], &prep[2].report, "", NULL, &existing, &err), -1);
    assert_int_equal(err.code, CG_EBUSY);
    assert_int_equal(log.calls, ASYNC_N);
    cg_intake_stop(intake);
    pthread_mutex_destroy(&log.mu);
    pthread_cond_destroy(&log.cv);
    env_close(&e);
}

/*
 * A case that fails part-way through its insert (here a trigger refuses its idempotency row,
 * after the case row, the R*Tree, the full text and the history are written) fails alone: the
 * batch is written again with a savepoint per case, the others commit, and nothing of the
 * failed case remains.
 */
static void test_intake_part_way(void **state)
{
    (void)state;
    env e;
    env_open(&e, "app_intake_part.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(e.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER refuse BEFORE INSERT ON idempotency "
                                  "WHEN NEW.key = 'explode' BEGIN "
                                  "SELECT RAISE(ABORT, 'refused by the test'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    cg_intake *intake;
    cg_err err = {0};
    assert_int_equal(cg_intake_start(e.path, 64, &intake, &err), 0);
    async_log log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mu, NULL);
    pthread_cond_init(&log.cv, NULL);
    static cg_case cases[ASYNC_N];
    static cg_case_prepared prep[ASYNC_N];
    async_slot slots[ASYNC_N];
    char keys[ASYNC_N][16];
    for (int i = 0; i < ASYNC_N; i++) {
        cg_case_input in = input("0101", 120.001, 30.001, "part-way 井盖");
        snprintf(keys[i], sizeof keys[i], i % 10 == 3 ? "explode" : "key-%d", i);
        in.idem_key = keys[i];
        assert_int_equal(cg_cases_prepare(&e.ctx, &in, &cases[i], &prep[i], &err), 0);
        slots[i] = (async_slot){&log, i};
    }
    for (int i = 0; i < ASYNC_N; i++)
        assert_int_equal(cg_intake_submit_async(intake, &cases[i], &prep[i].report, prep[i].contact,
                                                prep[i].idem_key, NULL, async_done, &slots[i],
                                                &err),
                         0);
    pthread_mutex_lock(&log.mu);
    while (log.calls < ASYNC_N)
        pthread_cond_wait(&log.cv, &log.mu);
    pthread_mutex_unlock(&log.mu);
    int failed = 0;
    for (int i = 0; i < ASYNC_N; i++) {
        if (i % 10 == 3) {
            assert_int_equal(log.rc[i], -1);
            failed++;
            continue;
        }
        assert_int_equal(log.rc[i], 0);
        assert_int_equal(log.existing[i], 0);
        cg_case stored;
        assert_int_equal(cg_store_case_get(e.store, NULL, cases[i].id, &stored, &err), 0);
        assert_string_equal(stored.token, cases[i].token);
    }
    cg_intake_stop(intake);
    /* Exactly the others: rows, history, full text, R*Tree, keys, one audit entry each. */
    int64_t n = 0;
    assert_int_equal(cg_store_case_count(e.store, NULL, &n, &err), 0);
    assert_int_equal(n, ASYNC_N - failed);
    cg_case_filter f = {.text = "井盖"};
    assert_int_equal(cg_store_case_count(e.store, &f, &n, &err), 0);
    assert_int_equal(n, ASYNC_N - failed);
    assert_int_equal(sqlite3_open(e.path, &db), SQLITE_OK);
    static const char *const counts[] = {
        "SELECT count(*) FROM case_events", "SELECT count(*) FROM cases_rtree",
        "SELECT count(*) FROM idempotency",
        "SELECT count(*) FROM audit_log WHERE action = 'case.create'"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, counts[i], -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), ASYNC_N - failed);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    /* The hash chain is whole after the batch ran twice. */
    cg_audit_verify_result rep;
    assert_int_equal(cg_audit_verify(e.store, &rep, &err), 0);
    assert_int_equal(rep.first_bad_seq, 0);
    assert_true(rep.checked >= ASYNC_N - failed);
    pthread_mutex_destroy(&log.mu);
    pthread_cond_destroy(&log.cv);
    env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_errors),
        cmocka_unit_test(test_grid_and_scope),
        cmocka_unit_test(test_idempotent_replay),
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_refusals_extension),
        cmocka_unit_test(test_suspend_stops_clock),
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_timer_escalation),
        cmocka_unit_test(test_duplicates_merge),
        cmocka_unit_test(test_photos),
        cmocka_unit_test(test_photo_failed_commit),
        cmocka_unit_test(test_stats_rates),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_intake_concurrent),
        cmocka_unit_test(test_intake_async),
        cmocka_unit_test(test_intake_part_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
