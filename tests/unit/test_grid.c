/* Unit tests for src/model/grid.c and grid_import.c: levels, codes, numbering and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model/grid.h"
#include "model/grid_import.h"
#include "testutil.h"

static void test_levels_and_grades(void **state)
{
    (void)state;
    cg_level l;
    assert_int_equal(cg_level_parse("街道", &l), 0);
    assert_int_equal(l, CG_LEVEL_STREET);
    assert_int_equal(cg_level_parse("village", &l), 0);
    assert_int_equal(l, CG_LEVEL_COMMUNITY);
    assert_int_equal(cg_level_parse("Grid", &l), 0);
    assert_int_equal(l, CG_LEVEL_GRID);
    assert_int_equal(cg_level_parse("planet", &l), -1);
    assert_int_equal(cg_level_from_code("330106001"), CG_LEVEL_STREET);
    assert_int_equal(cg_level_from_code("33010600100200301"), CG_LEVEL_SUBGRID);
    assert_int_equal(cg_level_from_code("3301"), CG_LEVEL_NONE);
    cg_grade g;
    assert_int_equal(cg_grade_parse("严密管控型", &g), 0);
    assert_int_equal(g, CG_GRADE_STRICT);
    assert_int_equal(cg_grade_parse("focus", &g), 0);
    assert_int_equal(g, CG_GRADE_FOCUS);
    assert_int_equal(cg_grade_parse("red", &g), -1);
}

static void test_code_validation(void **state)
{
    (void)state;
    cg_err e = {0};
    assert_int_equal(cg_grid_code_validate("330106001002003", CG_LEVEL_GRID, "330106001002", &e),
                     0);
    assert_int_equal(cg_grid_code_validate("330106", CG_LEVEL_DISTRICT, NULL, &e), 0);
    /* wrong parent prefix */
    assert_int_equal(cg_grid_code_validate("330106001002003", CG_LEVEL_GRID, "330106001009", &e),
                     -1);
    assert_string_equal(e.field, "code");
    assert_non_null(strstr(e.message, "does not start with its parent"));
    /* wrong length for the level */
    assert_int_equal(cg_grid_code_validate("3301060010020", CG_LEVEL_GRID, NULL, &e), -1);
    assert_non_null(strstr(e.message, "13 digits"));
    /* non-digit */
    assert_int_equal(cg_grid_code_validate("33010600100200A", CG_LEVEL_GRID, NULL, &e), -1);
    assert_non_null(strstr(e.message, "position 15"));
    /* parent one level too high */
    assert_int_equal(cg_grid_code_validate("330106001002003", CG_LEVEL_GRID, "330106001", &e), -1);
    assert_string_equal(e.field, "parent");
    /* all-zero sequence */
    assert_int_equal(cg_grid_code_validate("330106001000", CG_LEVEL_COMMUNITY, NULL, &e), -1);

    char parent[CG_CODE_MAX], child[CG_CODE_MAX];
    cg_code_parent("330106001002003", parent);
    assert_string_equal(parent, "330106001002");
    cg_code_parent("330106", parent);
    assert_string_equal(parent, "");
    assert_int_equal(cg_grid_child_code("330106001002", CG_LEVEL_GRID, 7, child, &e), 0);
    assert_string_equal(child, "330106001002007");
    assert_int_equal(cg_grid_child_code("330106001002003", CG_LEVEL_SUBGRID, 12, child, &e), 0);
    assert_string_equal(child, "33010600100200312");
    assert_int_equal(cg_grid_child_code("330106001002", CG_LEVEL_GRID, 1000, child, &e), -1);
}

static void test_number_order(void **state)
{
    (void)state;
    /* A 3x2 layout given in scrambled order; rows slightly uneven in latitude. */
    cg_point c[] = {
        {120.02, 30.10},  /* row 2, col 3 */
        {120.00, 30.201}, /* row 1, col 1 */
        {120.01, 30.099}, /* row 2, col 2 */
        {120.02, 30.199}, /* row 1, col 3 */
        {120.00, 30.10},  /* row 2, col 1 */
        {120.01, 30.20},  /* row 1, col 2 */
    };
    double h[6] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    size_t order[6];
    cg_grid_number_order(c, h, 6, order);
    size_t expected[6] = {1, 5, 3, 4, 2, 0};
    for (int i = 0; i < 6; i++)
        assert_int_equal(order[i], expected[i]);
}

/* Builds a feature with a square of side d degrees at (x, y) and the given properties. */
static cg_feature square(size_t index, double x, double y, double d, const char *props_json)
{
    cg_feature f;
    memset(&f, 0, sizeof f);
    f.index = index;
    f.has_geom = 1;
    cg_point pts[] = {{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}};
    cg_mpoly_add_ring_polygon(&f.geom, pts, 5);
    f.props = json_loads(props_json, 0, NULL);
    assert_non_null(f.props);
    return f;
}

static cg_level no_store(void *ctx, const char *code)
{
    (void)ctx;
    (void)code;
    return CG_LEVEL_NONE;
}

static cg_level store_has_street(void *ctx, const char *code)
{
    (void)ctx;
    return strcmp(code, "330106001") == 0 ? CG_LEVEL_STREET : CG_LEVEL_NONE;
}

static void test_import_prepare(void **state)
{
    (void)state;
    cg_feature *f = calloc(7, sizeof(cg_feature));
    /* children listed before their parents on purpose */
    f[0] = square(0, 120.0, 30.0, 0.01,
                  "{\"code\":\"330106001002001\",\"name\":\"一网格\","
                  "\"households\":210,\"grade\":\"focus\"}");
    f[1] = square(1, 120.0, 30.0, 0.02,
                  "{\"code\":\"330106001002\",\"name\":\"望江社区\","
                  "\"name_en\":\"Wangjiang\"}");
    /* explicit parent that does not match the code */
    f[2] = square(2, 120.0, 30.0, 0.01,
                  "{\"code\":\"330106001002002\",\"name\":\"二\",\"parent\":\"330106001003\"}");
    /* no name */
    f[3] = square(3, 120.0, 30.0, 0.01, "{\"code\":\"330106001002003\"}");
    /* bad grade, numeric code from a DBF */
    f[4] = square(4, 120.0, 30.0, 0.01,
                  "{\"code\":330106001002004,\"name\":\"四\",\"grade\":\"purple\"}");
    /* duplicate code */
    f[5] = square(5, 120.0, 30.0, 0.01, "{\"code\":\"330106001002001\",\"name\":\"重复\"}");
    /* a reader-level error is passed through */
    f[6] = square(6, 120.0, 30.0, 0.01, "{\"code\":\"330106001002005\",\"name\":\"五\"}");
    strcpy(f[6].error, "polygon 0 ring 0 is not closed");

    cg_grid *grids;
    cg_reject *rejects;
    size_t n, nr;
    cg_err e = {0};
    assert_int_equal(
        cg_grid_import_prepare(f, 7, NULL, store_has_street, NULL, &grids, &n, &rejects, &nr, &e),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(nr, 5);
    /* the community's parent (the street) is in the store */
    assert_string_equal(grids[0].code, "330106001002");
    assert_string_equal(grids[0].parent_code, "330106001");
    assert_string_equal(grids[1].code, "330106001002001");
    assert_int_equal(grids[1].households, 210);
    assert_int_equal(grids[1].grade, CG_GRADE_FOCUS);
    assert_true(grids[1].area_m2 > 1.05e6 && grids[1].area_m2 < 1.09e6);
    /* rejects sorted by feature index, each with its reason */
    assert_int_equal(rejects[0].feature_index, 2);
    assert_non_null(strstr(rejects[0].reason, "does not start with its parent"));
    assert_int_equal(rejects[1].feature_index, 3);
    assert_non_null(strstr(rejects[1].reason, "name"));
    assert_int_equal(rejects[2].feature_index, 4);
    assert_string_equal(rejects[2].code, "330106001002004");
    assert_non_null(strstr(rejects[2].reason, "purple"));
    assert_int_equal(rejects[3].feature_index, 5);
    assert_non_null(strstr(rejects[3].reason, "more than once"));
    assert_int_equal(rejects[4].feature_index, 6);
    assert_non_null(strstr(rejects[4].reason, "not closed"));
    for (size_t i = 0; i < n; i++)
        cg_grid_free(&grids[i]);
    free(grids);
    free(rejects);

    /* Without the street in the store the community becomes a root; a child of a rejected
     * parent is rejected as such. */
    cg_feature *g = calloc(2, sizeof(cg_feature));
    g[0] = square(0, 120.0, 30.0, 0.02,
                  "{\"code\":\"330106001002\",\"name\":\"社区\","
                  "\"households\":\"many\"}");
    g[1] = square(1, 120.0, 30.0, 0.01, "{\"code\":\"330106001002001\",\"name\":\"一\"}");
    assert_int_equal(
        cg_grid_import_prepare(g, 2, NULL, no_store, NULL, &grids, &n, &rejects, &nr, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(nr, 2);
    assert_non_null(strstr(rejects[0].reason, "households"));
    assert_non_null(strstr(rejects[1].reason, "was rejected"));
    free(grids);
    free(rejects);
    cg_features_free(g, 2);
    cg_features_free(f, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_grades),
        cmocka_unit_test(test_code_validation),
        cmocka_unit_test(test_number_order),
        cmocka_unit_test(test_import_prepare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
