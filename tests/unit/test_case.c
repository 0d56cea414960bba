/*
 * Tests of the case state machine (src/model/case.c): the main path, refusals with their
 * reasons, escalation tiers, replay, per-stage deadlines, and a property test: thousands of
 * random (action, roles) sequences from fixed seeds, checked against the invariants case.h
 * documents, with every accepted history replayed to the same status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "model/access.h"
#include "model/case.h"
#include "testutil.h"

static void test_main_path(void **state)
{
    (void)state;
    const cg_case_step path[] = {
        {CG_ACT_REPORT, 0},
        {CG_ACT_REGISTER, CG_ROLE_OPERATOR},
        {CG_ACT_DISPATCH, CG_ROLE_OPERATOR},
        {CG_ACT_ACCEPT, CG_ROLE_HANDLER},
        {CG_ACT_HANDLE, CG_ROLE_HANDLER},
        {CG_ACT_CLOSE, CG_ROLE_OPERATOR},
        {CG_ACT_EVALUATE, CG_ROLE_INSPECTOR},
    };
    const cg_case_state want[] = {CG_CASE_REPORTED,    CG_CASE_REGISTERED, CG_CASE_DISPATCHED,
                                  CG_CASE_IN_PROGRESS, CG_CASE_HANDLED,    CG_CASE_VERIFIED_CLOSED,
                                  CG_CASE_EVALUATED};
    cg_case_status st = {CG_CASE_NONE, CG_TIER_GRID};
    cg_err err = {0};
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        assert_int_equal(cg_case_apply(&st, &path[i], &err), 0);
        assert_int_equal(st.state, want[i]);
    }
    cg_case_status r;
    assert_int_equal(cg_case_replay(path, 7, &r, NULL, &err), 0);
    assert_int_equal(r.state, CG_CASE_EVALUATED);
    /* Names round-trip. */
    for (int s = CG_CASE_REPORTED; s < CG_CASE_STATE_COUNT; s++) {
        cg_case_state p;
        assert_int_equal(cg_case_state_parse(cg_case_state_name((cg_case_state)s), &p), 0);
        assert_int_equal(p, s);
    }
    for (int a = 0; a < CG_ACT_COUNT; a++) {
        cg_case_action p;
        assert_int_equal(cg_case_action_parse(cg_case_action_name((cg_case_action)a), &p), 0);
        assert_int_equal(p, a);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    cg_case_state next = CG_CASE_NONE;
    cg_err err = {0};
    assert_int_equal(
        cg_case_transition(CG_CASE_HANDLED, CG_ACT_DISPATCH, CG_ROLE_ADMIN, &next, &err), -1);
    assert_string_equal(err.message, "a case in state handled cannot be dispatched");
    assert_string_equal(err.field, "state");
    assert_int_equal(err.code, CG_ECONFLICT);
    assert_int_equal(next, CG_CASE_NONE);
    assert_int_equal(cg_case_transition(CG_CASE_HANDLED, CG_ACT_CLOSE, CG_ROLE_WORKER, &next, &err),
                     -1);
    assert_string_equal(err.message, "role worker may not close a case");
    assert_string_equal(err.field, "roles");
    assert_int_equal(cg_case_transition(CG_CASE_REPORTED, CG_ACT_REGISTER, 0, &next, &err), -1);
    assert_string_equal(err.field, "roles");
    assert_non_null(strstr(err.message, "anonymous"));
    /* Residents report; staff report too. */
    assert_int_equal(cg_case_transition(CG_CASE_NONE, CG_ACT_REPORT, 0, &next, &err), 0);
    assert_int_equal(next, CG_CASE_REPORTED);
    assert_int_equal(cg_case_transition(CG_CASE_NONE, CG_ACT_REPORT, CG_ROLE_WORKER, &next, &err),
                     0);
    /* A pending extension blocks handling and closing. */
    assert_int_equal(
        cg_case_transition(CG_CASE_EXTENSION_REQUESTED, CG_ACT_HANDLE, CG_ROLE_ADMIN, &next, &err),
        -1);
    assert_int_equal(
        cg_case_transition(CG_CASE_EXTENSION_REQUESTED, CG_ACT_CLOSE, CG_ROLE_ADMIN, &next, &err),
        -1);
    /* A worker who is also an operator may close. */
    assert_int_equal(cg_case_transition(CG_CASE_HANDLED, CG_ACT_CLOSE,
                                        CG_ROLE_WORKER | CG_ROLE_OPERATOR, &next, &err),
                     0);
    assert_int_equal(next, CG_CASE_VERIFIED_CLOSED);
    /* Replay names the first illegal step. */
    const cg_case_step bad[] = {{CG_ACT_REPORT, 0},
                                {CG_ACT_REGISTER, CG_ROLE_OPERATOR},
                                {CG_ACT_CLOSE, CG_ROLE_OPERATOR},
                                {CG_ACT_DISPATCH, CG_ROLE_OPERATOR}};
    cg_case_status st;
    size_t at = 99;
    assert_int_equal(cg_case_replay(bad, 4, &st, &at, &err), -1);
    assert_int_equal(at, 2);
    assert_non_null(strstr(err.message, "step 2"));
}

static void test_escalation(void **state)
{
    (void)state;
    cg_case_status st = {CG_CASE_NONE, CG_TIER_GRID};
    cg_err err = {0};
    const cg_case_step s[] = {
        {CG_ACT_REPORT, CG_ROLE_WORKER},     {CG_ACT_REGISTER, CG_ROLE_OPERATOR},
        {CG_ACT_ESCALATE, CG_ROLE_LEADER},   {CG_ACT_DISPATCH, CG_ROLE_OPERATOR},
        {CG_ACT_ESCALATE, CG_ROLE_OPERATOR}, {CG_ACT_DISPATCH, CG_ROLE_OPERATOR}};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(cg_case_apply(&st, &s[i], &err), 0);
    assert_int_equal(st.tier, CG_TIER_STREET);
    assert_int_equal(cg_case_tier_level(st.tier), CG_LEVEL_STREET);
    cg_case_step again = {CG_ACT_ESCALATE, CG_ROLE_OPERATOR};
    assert_int_equal(cg_case_apply(&st, &again, &err), -1);
    assert_string_equal(err.field, "tier");
    assert_int_equal(st.state, CG_CASE_DISPATCHED);

    cg_category dispute = {.code = "0601",
                           .kind = CG_CAT_EVENT,
                           .limit = 5,
                           .unit = CG_UNIT_WORK_DAYS,
                           .escalates = 1};
    cg_category garbage = dispute;
    garbage.escalates = 0;
    cg_case_status open = {CG_CASE_IN_PROGRESS, CG_TIER_GRID};
    assert_true(cg_case_should_escalate(&dispute, &open, 1000, 1001));
    assert_false(cg_case_should_escalate(&dispute, &open, 1000, 1000));
    assert_false(cg_case_should_escalate(&garbage, &open, 1000, 1001));
    cg_case_status handled = {CG_CASE_HANDLED, CG_TIER_GRID};
    assert_false(cg_case_should_escalate(&dispute, &handled, 1000, 1001));
    assert_false(cg_case_should_escalate(&dispute, &st, 1000, 1001));
}

static int64_t bj(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) - 8 * 3600;
}

static void test_deadlines(void **state)
{
    (void)state;
    cg_calendar *cal = cg_calendar_new();
    cg_category cat = {.code = "0101", .kind = CG_CAT_EVENT, .limit = 1, .unit = CG_UNIT_WORK_DAYS};
    /* Reported Friday 16:30, registered Monday 09:00, dispatched Monday 10:00 (2026-03). */
    cg_case_times t = {.reported_at = bj(2026, 3, 13, 16, 30),
                       .registered_at = bj(2026, 3, 16, 9, 0),
                       .dispatched_at = bj(2026, 3, 16, 10, 0)};
    cg_case_deadlines d;
    cg_err err = {0};
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     0);
    assert_int_equal(d.register_by, bj(2026, 3, 16, 9, 30));
    assert_int_equal(d.dispatch_by, bj(2026, 3, 16, 10, 0));
    assert_int_equal(d.handle_by, bj(2026, 3, 17, 17, 30));
    /* An approved extension of 2 working days moves only the handling deadline. */
    t.extension = 2;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     0);
    assert_int_equal(d.handle_by, bj(2026, 3, 19, 17, 30));
    /* Time suspended (working seconds) moves it on after the limit: 3 h past Thursday 17:30 is
     * Friday 11:30; 8 h is Friday's 7.5 h, then the weekend adds nothing: Monday 09:00. */
    t.suspended_s = 3 * 3600;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     0);
    assert_int_equal(d.handle_by, bj(2026, 3, 20, 11, 30));
    assert_int_equal(d.register_by, bj(2026, 3, 16, 9, 30)); /* the other stages keep theirs */
    assert_int_equal(d.dispatch_by, bj(2026, 3, 16, 10, 0));
    t.suspended_s = 8 * 3600;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     0);
    assert_int_equal(d.handle_by, bj(2026, 3, 23, 9, 0));
    t.suspended_s = -1;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     -1);
    assert_string_equal(err.field, "suspended_s");
    t.suspended_s = 0;
    /* Stages not reached have no deadline. */
    t.dispatched_at = 0;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     0);
    assert_int_equal(d.handle_by, 0);
    cat.kind = CG_CAT_GROUP;
    assert_int_equal(cg_case_deadlines_compute(cal, &cat, &cg_stage_limits_default, &t, &d, &err),
                     -1);
    assert_string_equal(err.field, "category");
    cg_calendar_free(cal);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random sequences against the invariants documented in case.h. */
static void test_properties(void **state)
{
    (void)state;
    static const uint32_t role_sets[] = {0,
                                         CG_ROLE_WORKER,
                                         CG_ROLE_LEADER,
                                         CG_ROLE_OPERATOR,
                                         CG_ROLE_HANDLER,
                                         CG_ROLE_INSPECTOR,
                                         CG_ROLE_ADMIN,
                                         CG_ROLE_WORKER | CG_ROLE_HANDLER};
    enum { SEQS = 5000, LEN = 60 };
    int reached[CG_CASE_STATE_COUNT] = {0};
    int accepted_total = 0;
    for (uint64_t seed = 1; seed <= SEQS; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        cg_case_step hist[LEN];
        size_t nh = 0;
        cg_case_status st = {CG_CASE_NONE, CG_TIER_GRID};
        int handled_since_dispatch = 0;
        for (int k = 0; k < LEN; k++) {
            cg_case_step step = {(cg_case_action)(rng(&s) % CG_ACT_COUNT),
                                 role_sets[rng(&s) % (sizeof role_sets / sizeof role_sets[0])]};
            /* Three times in four pick an action that exists from this state (any roles), so
             * walks get deep; otherwise any action, to probe refusals. */
            if (rng(&s) % 4) {
                cg_case_action legal[CG_ACT_COUNT];
                int nl = 0;
                for (int a = 0; a < CG_ACT_COUNT; a++)
                    if (cg_case_roles_for(st.state, (cg_case_action)a))
                        legal[nl++] = (cg_case_action)a;
                if (nl)
                    step.action = legal[rng(&s) % (uint64_t)nl];
            }
            cg_case_status before = st;
            cg_err err = {0};
            if (cg_case_apply(&st, &step, &err)) {
                assert_memory_equal(&st, &before, sizeof st);
                assert_true(err.field[0] && err.message[0]);
                continue;
            }
            hist[nh++] = step;
            accepted_total++;
            assert_true(st.state > CG_CASE_NONE && st.state < CG_CASE_STATE_COUNT);
            reached[st.state]++;
            if (step.roles == 0)
                assert_int_equal(step.action, CG_ACT_REPORT);
            assert_false(cg_case_state_final(before.state));
            if (before.state == CG_CASE_EVALUATED)
                assert_int_equal(step.action, CG_ACT_REOPEN);
            if (step.action == CG_ACT_DISPATCH)
                handled_since_dispatch = 0;
            if (step.action == CG_ACT_HANDLE)
                handled_since_dispatch = 1;
            if (step.action == CG_ACT_CLOSE) {
                assert_int_equal(before.state, CG_CASE_HANDLED);
                assert_true(handled_since_dispatch);
            }
            assert_false(before.state == CG_CASE_EXTENSION_REQUESTED &&
                         (step.action == CG_ACT_CLOSE || step.action == CG_ACT_HANDLE));
            assert_true(st.tier >= before.tier && st.tier <= CG_TIER_STREET);
            assert_int_equal(st.tier - before.tier, step.action == CG_ACT_ESCALATE);
            /* The recorded history replays to the current status at every step. */
            cg_case_status replayed;
            assert_int_equal(cg_case_replay(hist, nh, &replayed, NULL, &err), 0);
            assert_memory_equal(&replayed, &st, sizeof st);
        }
    }
    /* The random walk explores the whole machine. */
    for (int i = CG_CASE_REPORTED; i < CG_CASE_STATE_COUNT; i++)
        assert_true(reached[i] > 0);
    assert_true(accepted_total > SEQS * 4);
}

/* Sources and assignee kinds round-trip through their names; unknown names are refused. */
static void test_names(void **state)
{
    (void)state;
    const char *sources[] = {"worker", "resident", "hotline", "patrol", "inspection"};
    for (int i = 0; i < 5; i++) {
        cg_case_source s = 0;
        assert_int_equal(cg_case_source_parse(sources[i], &s), 0);
        assert_int_equal((int)s, i + 1);
        assert_string_equal(cg_case_source_name(s), sources[i]);
    }
    cg_case_source s = CG_SOURCE_PATROL;
    assert_int_equal(cg_case_source_parse("Resident", &s), -1);
    assert_int_equal(cg_case_source_parse("", &s), -1);
    assert_int_equal((int)s, CG_SOURCE_PATROL);
    assert_string_equal(cg_case_source_name((cg_case_source)0), "unknown");
    assert_string_equal(cg_case_source_name((cg_case_source)99), "unknown");

    const char *kinds[] = {"none", "account", "department", "grid"};
    for (int i = 0; i < 4; i++) {
        cg_assignee_kind k = 99;
        assert_int_equal(cg_assignee_kind_parse(kinds[i], &k), 0);
        assert_int_equal((int)k, i);
        assert_string_equal(cg_assignee_kind_name(k), kinds[i]);
    }
    cg_assignee_kind k = CG_ASSIGN_GRID;
    assert_int_equal(cg_assignee_kind_parse("person", &k), -1);
    assert_int_equal((int)k, CG_ASSIGN_GRID);
    assert_string_equal(cg_assignee_kind_name((cg_assignee_kind)7), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_path),  cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_escalation), cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_properties), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
