/*
 * Tests of the category taxonomy (src/model/category.c): the embedded default covers the groups
 * and limits the issue names, export and re-import give the same taxonomy, and each validation
 * rule (unknown parent, duplicate code, bad unit, limit <= 0, bad code shape, unknown field,
 * rules on a group, categories about people) is refused with an error naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/category.h"
#include "testutil.h"

static const cg_category *find_en(const cg_taxonomy *t, const char *en)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].name_en, en) == 0)
            return &t->items[i];
    return NULL;
}

static void test_default(void **state)
{
    (void)state;
    cg_taxonomy t;
    cg_err err = {0};
    assert_int_equal(cg_taxonomy_default(&t, &err), 0);
    static const char *const groups[] = {"City appearance and environment",
                                         "Public facilities",
                                         "Roads and traffic",
                                         "Street order",
                                         "Safety hazards",
                                         "Disputes",
                                         "Public services",
                                         "Emergencies"};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        const cg_category *g = find_en(&t, groups[i]);
        assert_non_null(g);
        assert_int_equal(g->kind, CG_CAT_GROUP);
        assert_false(cg_taxonomy_fileable(&t, g->code));
    }
    const cg_category *c = find_en(&t, "Exposed garbage");
    assert_non_null(c);
    assert_int_equal(c->limit, 1);
    assert_int_equal(c->unit, CG_UNIT_WORK_DAYS);
    assert_true(cg_taxonomy_fileable(&t, c->code));
    c = find_en(&t, "Unclean road (main road)");
    assert_true(c && c->limit == 2 && c->unit == CG_UNIT_WORK_HOURS);
    c = find_en(&t, "Unclean road (secondary road or lane)");
    assert_true(c && c->limit == 5 && c->unit == CG_UNIT_WORK_HOURS);
    c = find_en(&t, "Illegal construction (under way)");
    assert_true(c && c->limit == 15 && c->unit == CG_UNIT_WORK_DAYS);
    c = find_en(&t, "Illegal construction (completed)");
    assert_true(c && c->limit == 20 && c->unit == CG_UNIT_WORK_DAYS);
    c = find_en(&t, "Missing or damaged manhole cover");
    assert_true(c && c->kind == CG_CAT_COMPONENT);
    assert_non_null(find_en(&t, "Street light out"));
    assert_non_null(find_en(&t, "Damaged fire hydrant"));
    assert_non_null(find_en(&t, "Road collapse"));
    assert_non_null(find_en(&t, "Lost and found"));
    /* Every sub-category has its rules; disputes and only disputes escalate. */
    const cg_category *disputes = find_en(&t, "Disputes");
    int n_disputes = 0;
    for (size_t i = 0; i < t.n; i++) {
        const cg_category *s = &t.items[i];
        if (s->kind == CG_CAT_GROUP)
            continue;
        assert_true(s->limit > 0 && s->department[0] && s->register_cond[0] && s->close_cond[0]);
        assert_non_null(cg_taxonomy_find(&t, s->parent));
        assert_int_equal(s->escalates, strcmp(s->parent, disputes->code) == 0);
        n_disputes += s->escalates;
    }
    assert_int_equal(n_disputes, 5);
    assert_null(cg_taxonomy_find(&t, "99"));
    cg_taxonomy_free(&t);
}

static void test_round_trip(void **state)
{
    (void)state;
    cg_taxonomy a, b;
    cg_err err = {0};
    assert_int_equal(cg_taxonomy_default(&a, &err), 0);
    cg_buf j1, j2;
    cg_buf_init(&j1);
    cg_buf_init(&j2);
    cg_taxonomy_to_json(&a, &j1);
    assert_int_equal(cg_taxonomy_parse(j1.data, j1.len, &b, &err), 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        assert_memory_equal(&a.items[i], &b.items[i], sizeof a.items[i]);
    cg_taxonomy_to_json(&b, &j2);
    assert_string_equal(j1.data, j2.data);
    cg_buf_free(&j1);
    cg_buf_free(&j2);
    cg_taxonomy_free(&a);
    cg_taxonomy_free(&b);
}

/* A taxonomy of one group and one sub-category whose fields are given as JSON text. */
static void expect_error(const char *sub, cg_code code, const char *field)
{
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"version\":1,\"categories\":[{\"code\":\"01\",\"name_zh\":\"市容环境\","
             "\"name_en\":\"City\"},%s]}",
             sub);
    cg_taxonomy t;
    cg_err err = {0};
    assert_int_equal(cg_taxonomy_parse(doc, strlen(doc), &t, &err), -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_int_equal(t.n, 0);
}

#define RULES                                                                                      \
    "\"name_zh\":\"暴露垃圾\",\"name_en\":\"Garbage\",\"department\":\"环卫所\","           \
    "\"register\":\"seen\",\"close\":\"gone\""

static void test_validation(void **state)
{
    (void)state;
    /* The well-formed entry parses: the errors below come from the one change each makes. */
    const char *good = "{\"version\":1,\"categories\":[{\"code\":\"01\",\"name_zh\":\"a\","
                       "\"name_en\":\"b\"},{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\","
                       "\"limit\":1,\"unit\":\"working_days\"," RULES "}]}";
    cg_taxonomy t;
    cg_err err = {0};
    assert_int_equal(cg_taxonomy_parse(good, strlen(good), &t, &err), 0);
    assert_int_equal(t.n, 2);
    cg_taxonomy_free(&t);

    expect_error("{\"code\":\"0101\",\"parent\":\"02\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].parent");
    expect_error("{\"code\":\"01\",\"name_zh\":\"x\",\"name_en\":\"y\"}", CG_ECONFLICT,
                 "categories[1].code");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"hours\"," RULES "}",
                 CG_EINVAL, "categories[1].unit");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":0,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].limit");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":-3,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].limit");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"person\",\"limit\":1,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].kind");
    expect_error("{\"code\":\"0201\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].parent");
    expect_error("{\"code\":\"01a1\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\"," RULES "}",
                 CG_EINVAL, "categories[1].code");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\",\"colour\":\"red\"," RULES "}",
                 CG_EINVAL, "categories[1].colour");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\",\"name_zh\":\"x\",\"name_en\":\"y\"}",
                 CG_EINVAL, "categories[1].department");
    expect_error("{\"code\":\"02\",\"name_zh\":\"x\",\"name_en\":\"y\",\"limit\":3}", CG_EINVAL,
                 "categories[1].limit");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\",\"name_zh\":\"重点人员走访\",\"name_en\":\"y\","
                 "\"department\":\"d\",\"register\":\"r\",\"close\":\"c\"}",
                 CG_EINVAL, "categories[1].name_zh");
    expect_error("{\"code\":\"0101\",\"parent\":\"01\",\"kind\":\"event\",\"limit\":1,"
                 "\"unit\":\"working_days\",\"name_zh\":\"x\",\"name_en\":\"Petitioner visits\","
                 "\"department\":\"d\",\"register\":\"r\",\"close\":\"c\"}",
                 CG_EINVAL, "categories[1].name_en");
    expect_error("7", CG_EINVAL, "categories[1]");
    const char *v2 = "{\"version\":2,\"categories\":[]}";
    assert_int_equal(cg_taxonomy_parse(v2, strlen(v2), &t, &err), -1);
    assert_string_equal(err.field, "version");
    assert_int_equal(cg_taxonomy_parse("{", 1, &t, &err), -1);
    assert_string_equal(err.field, "categories");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
