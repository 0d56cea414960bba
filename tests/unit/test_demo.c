/*
 * Tests of the demo district generator (src/model/demo.c): determinism per seed, the sizes and
 * household rules of the `small` district, valid hierarchical codes, children tiling their parent
 * (areas add up), every building inside exactly one grid with grid household counts equal to the
 * buildings they contain, and roads sharing node ids at intersections.
 * The `city` size is too slow for a unit test; it is exercised by hand and by the benchmarks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/demo.h"
#include "testutil.h"

static cg_demo demo1; /* seed 1, small: generated once, shared by the read-only tests */

static int setup(void **state)
{
    (void)state;
    cg_err err;
    return cg_demo_generate(1, CG_DEMO_SMALL, NULL, NULL, &demo1, &err);
}

static int teardown(void **state)
{
    (void)state;
    cg_demo_free(&demo1);
    return 0;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 0x100000001B3ULL;
    return h;
}

static uint64_t hash_mpoly(uint64_t h, const cg_mpoly *m)
{
    for (size_t p = 0; p < m->n_polys; p++)
        for (size_t r = 0; r < m->polys[p].n_rings; r++)
            h = fnv(h, m->polys[p].rings[r].pts, sizeof(cg_point) * m->polys[p].rings[r].n);
    return h;
}

static uint64_t hash_demo(const cg_demo *d)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t k = 0; k < d->n_grids; k++) {
        const cg_grid *g = &d->grids[k];
        h = fnv(h, g->code, strlen(g->code));
        h = fnv(h, g->name_zh, strlen(g->name_zh));
        h = fnv(h, &g->households, sizeof g->households);
        h = fnv(h, &g->grade, sizeof g->grade);
        h = hash_mpoly(h, &g->geom);
    }
    for (size_t k = 0; k < d->n_ways; k++) {
        h = fnv(h, d->ways[k].node_ids, sizeof(int64_t) * d->ways[k].n);
        h = fnv(h, d->ways[k].pts, sizeof(cg_point) * d->ways[k].n);
        h = fnv(h, &d->ways[k].oneway, sizeof(int));
    }
    for (size_t k = 0; k < d->n_buildings; k++) {
        h = fnv(h, &d->buildings[k].households, sizeof(int));
        h = hash_mpoly(h, &d->buildings[k].geom);
    }
    for (size_t k = 0; k < d->n_pois; k++) {
        h = fnv(h, d->pois[k].kind, strlen(d->pois[k].kind));
        h = fnv(h, &d->pois[k].at, sizeof(cg_point));
    }
    return h;
}

static void test_deterministic_per_seed(void **state)
{
    (void)state;
    cg_demo again, other;
    cg_err err;
    assert_int_equal(cg_demo_generate(1, CG_DEMO_SMALL, NULL, NULL, &again, &err), 0);
    assert_int_equal(cg_demo_generate(2, CG_DEMO_SMALL, NULL, NULL, &other, &err), 0);
    uint64_t h1 = hash_demo(&demo1);
    assert_true(h1 == hash_demo(&again));
    assert_true(h1 != hash_demo(&other));
    cg_demo_free(&again);
    cg_demo_free(&other);
}

static void test_small_sizes(void **state)
{
    (void)state;
    const cg_demo *d = &demo1;
    assert_int_equal(d->n_streets, 4);
    assert_in_range(d->n_communities, 16, 24);
    assert_in_range(d->n_leaf_grids, 90, 140);
    assert_int_equal(d->n_grids, 1 + d->n_streets + d->n_communities + d->n_leaf_grids);
    assert_in_range(d->residents, 51000, 69000);
    size_t levels[6] = {0};
    int64_t leaf_households = 0;
    for (size_t k = 0; k < d->n_grids; k++) {
        const cg_grid *g = &d->grids[k];
        levels[g->level]++;
        assert_true(g->name_zh[0] && g->name_en[0]);
        if (g->level == CG_LEVEL_GRID) {
            assert_in_range(g->households, 150, 300);
            assert_int_not_equal(g->grade, CG_GRADE_NONE);
            leaf_households += g->households;
        }
    }
    assert_int_equal(levels[CG_LEVEL_DISTRICT], 1);
    assert_int_equal(levels[CG_LEVEL_STREET], d->n_streets);
    assert_int_equal(levels[CG_LEVEL_COMMUNITY], d->n_communities);
    assert_int_equal(levels[CG_LEVEL_GRID], d->n_leaf_grids);
    assert_int_equal(leaf_households, d->households);
    assert_int_equal(d->grids[0].households, d->households);
}

static void test_grades_mostly_routine(void **state)
{
    (void)state;
    size_t count[5] = {0};
    for (size_t k = 0; k < demo1.n_grids; k++)
        if (demo1.grids[k].level == CG_LEVEL_GRID)
            count[demo1.grids[k].grade]++;
    assert_true(count[CG_GRADE_ROUTINE] > demo1.n_leaf_grids / 2);
    assert_true(count[CG_GRADE_GUARDED] > 0);
    assert_true(count[CG_GRADE_FOCUS] > 0);
    assert_true(count[CG_GRADE_STRICT] > 0);
    assert_true(count[CG_GRADE_STRICT] < demo1.n_leaf_grids / 10);
}

static const cg_grid *find_grid(const cg_demo *d, const char *code)
{
    for (size_t k = 0; k < d->n_grids; k++)
        if (strcmp(d->grids[k].code, code) == 0)
            return &d->grids[k];
    return NULL;
}

static void test_codes_valid_for_parent(void **state)
{
    (void)state;
    const cg_demo *d = &demo1;
    for (size_t k = 0; k < d->n_grids; k++) {
        const cg_grid *g = &d->grids[k];
        cg_err err;
        if (cg_grid_code_validate(g->code, g->level, g->parent_code, &err) != 0)
            fail_msg("grid %s: %s", g->code, err.message);
        assert_int_equal(cg_level_from_code(g->code), g->level);
        for (size_t q = 0; q < k; q++)
            assert_string_not_equal(d->grids[q].code, g->code);
        if (g->level != CG_LEVEL_DISTRICT) {
            const cg_grid *p = find_grid(d, g->parent_code);
            assert_non_null(p);
            assert_true(p < g); /* parents come first, as the store needs them */
            assert_int_equal(p->level + 1, g->level);
        }
    }
}

/* Children tile their parent: their areas add up to the parent's, and households too. */
static void test_children_tile_parent(void **state)
{
    (void)state;
    const cg_demo *d = &demo1;
    for (size_t k = 0; k < d->n_grids; k++) {
        const cg_grid *p = &d->grids[k];
        if (p->level == CG_LEVEL_GRID)
            continue;
        double area = 0;
        int64_t households = 0;
        size_t children = 0;
        for (size_t q = 0; q < d->n_grids; q++)
            if (strcmp(d->grids[q].parent_code, p->code) == 0) {
                area += cg_mpoly_area_m2(&d->grids[q].geom);
                households += d->grids[q].households;
                children++;
            }
        assert_true(children >= 2);
        double parent_area = cg_mpoly_area_m2(&p->geom);
        assert_true(parent_area > 0);
        assert_true(fabs(area - parent_area) <= 1e-6 * parent_area);
        assert_int_equal(households, p->households);
        assert_true(fabs(p->area_m2 - parent_area) <= 1e-9 * parent_area);
    }
}

static void test_buildings_in_exactly_one_grid(void **state)
{
    (void)state;
    const cg_demo *d = &demo1;
    int64_t *grid_households = calloc(d->n_grids, sizeof(int64_t));
    cg_bbox *boxes = calloc(d->n_grids, sizeof(cg_bbox));
    for (size_t q = 0; q < d->n_grids; q++)
        boxes[q] = cg_mpoly_bbox(&d->grids[q].geom);
    assert_true(d->n_buildings > 500);
    for (size_t k = 0; k < d->n_buildings; k++) {
        const cg_building *b = &d->buildings[k];
        cg_point c = cg_mpoly_centroid(&b->geom);
        size_t inside = 0, where = 0;
        for (size_t q = 0; q < d->n_grids; q++)
            if (d->grids[q].level == CG_LEVEL_GRID && cg_bbox_contains(&boxes[q], c) &&
                cg_mpoly_contains(&d->grids[q].geom, c)) {
                inside++;
                where = q;
            }
        assert_int_equal(inside, 1);
        if (strcmp(b->kind, "residential") == 0) {
            assert_in_range(b->households, 20, 120);
            assert_in_range(b->levels, 6, 18);
        } else {
            assert_int_equal(b->households, 0);
        }
        grid_households[where] += b->households;
    }
    for (size_t q = 0; q < d->n_grids; q++)
        if (d->grids[q].level == CG_LEVEL_GRID)
            assert_int_equal(grid_households[q], d->grids[q].households);
    free(grid_households);
    free(boxes);
}

static void test_pois_of_every_key_kind(void **state)
{
    (void)state;
    static const char *kinds[] = {
        "school",       "kindergarten", "hospital", "market",       "hotel",   "water",
        "power",        "gas",          "heating",  "telecom",      "finance", "hazmat",
        "rail_station", "bus_stop",     "police",   "fire_station", "square"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t found = 0;
        for (size_t q = 0; q < demo1.n_pois; q++)
            if (strcmp(demo1.pois[q].kind, kinds[k]) == 0) {
                found++;
                assert_true(demo1.pois[q].name_zh[0] && demo1.pois[q].name_en[0]);
                assert_true(cg_mpoly_contains(&demo1.grids[0].geom, demo1.pois[q].at));
            }
        if (found == 0)
            fail_msg("no point of interest of kind %s", kinds[k]);
    }
}

typedef struct {
    int64_t id;
    cg_point at;
    size_t way;
} node_use;

static int cmp_node_use(const void *a, const void *b)
{
    const node_use *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->way < y->way ? -1 : x->way > y->way;
}

static void test_roads_share_nodes(void **state)
{
    (void)state;
    const cg_demo *d = &demo1;
    size_t total = 0;
    for (size_t k = 0; k < d->n_ways; k++)
        total += d->ways[k].n;
    node_use *uses = malloc(sizeof(node_use) * total);
    size_t u = 0, classes[CG_ROAD_OTHER + 1] = {0}, oneway = 0;
    for (size_t k = 0; k < d->n_ways; k++) {
        const cg_way *w = &d->ways[k];
        assert_true(w->n >= 2);
        classes[w->road_class]++;
        oneway += w->oneway != 0;
        for (size_t q = 0; q < w->n; q++)
            uses[u++] = (node_use){w->node_ids[q], w->pts[q], k};
    }
    qsort(uses, total, sizeof(node_use), cmp_node_use);
    size_t distinct = 0, shared = 0;
    for (size_t k = 0; k < total;) {
        size_t e = k + 1;
        while (e < total && uses[e].id == uses[k].id) {
            /* one id, one place */
            assert_true(uses[e].at.x == uses[k].at.x && uses[e].at.y == uses[k].at.y);
            e++;
        }
        distinct++;
        if (uses[e - 1].way != uses[k].way)
            shared++;
        k = e;
    }
    assert_int_equal(distinct, (size_t)d->road_nodes);
    /* Every crossing of two lattice lines, every compound gate and junction is shared. */
    assert_true(shared >= d->n_buildings / 8);
    /* Each compound road (service or footway) starts on a node of another road. */
    for (size_t k = 0; k < d->n_ways; k++) {
        if (d->ways[k].road_class != CG_ROAD_SERVICE && d->ways[k].road_class != CG_ROAD_FOOTWAY)
            continue;
        size_t users = 0;
        for (size_t q = 0; q < total; q++)
            users += uses[q].id == d->ways[k].node_ids[0];
        assert_true(users >= 2);
    }
    assert_true(classes[CG_ROAD_PRIMARY] > 0 && classes[CG_ROAD_SECONDARY] > 0);
    assert_true(classes[CG_ROAD_RESIDENTIAL] > 0 && classes[CG_ROAD_SERVICE] > 0);
    assert_true(classes[CG_ROAD_FOOTWAY] > 0);
    /* Shape nodes are spaced like a surveyed network: no segment over 25 m, none degenerate,
     * and 8-20 m on average. */
    double sum = 0;
    size_t segs = 0;
    for (size_t k = 0; k < d->n_ways; k++)
        for (size_t q = 1; q < d->ways[k].n; q++) {
            double m = cg_distance_m(d->ways[k].pts[q - 1], d->ways[k].pts[q]);
            assert_true(m > 1 && m < 25);
            sum += m;
            segs++;
        }
    assert_true(sum / segs > 8 && sum / segs < 20);
    /* Compound roads run between the buildings, never through one. */
    for (size_t b = 0; b < d->n_buildings; b++)
        for (size_t k = 0; k < d->n_ways; k++) {
            const cg_way *w = &d->ways[k];
            if (w->road_class != CG_ROAD_SERVICE && w->road_class != CG_ROAD_FOOTWAY)
                continue;
            for (size_t q = 0; q < w->n; q++)
                assert_false(cg_mpoly_contains(&d->buildings[b].geom, w->pts[q]));
        }
    assert_true(oneway > 0 && oneway < d->n_ways / 4);
    free(uses);
}

static void test_size_parse(void **state)
{
    (void)state;
    cg_demo_size s;
    cg_err err;
    assert_int_equal(cg_demo_size_parse("city", &s, &err), 0);
    assert_int_equal(s, CG_DEMO_CITY);
    assert_int_equal(cg_demo_size_parse("huge", &s, &err), -1);
    assert_string_equal(err.field, "size");
    assert_string_equal(cg_demo_size_name(CG_DEMO_SMALL), "small");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_per_seed),
        cmocka_unit_test(test_small_sizes),
        cmocka_unit_test(test_grades_mostly_routine),
        cmocka_unit_test(test_codes_valid_for_parent),
        cmocka_unit_test(test_children_tile_parent),
        cmocka_unit_test(test_buildings_in_exactly_one_grid),
        cmocka_unit_test(test_pois_of_every_key_kind),
        cmocka_unit_test(test_roads_share_nodes),
        cmocka_unit_test(test_size_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
