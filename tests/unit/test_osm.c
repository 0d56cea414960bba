/*
 * Tests of the OpenStreetMap reader (src/net/osm.c) against the Monaco extract in
 * ../shared/data/osm (skipped with a message when absent): plausible counts, a known named road,
 * node ids shared between roads, an assembled administrative boundary, and clean errors (nothing
 * delivered) for truncated, foreign and missing files and for a failing callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/osm.h"
#include "testutil.h"

typedef struct {
    int64_t id, node;
    cg_point at;
} way_node;

typedef struct {
    size_t ways, buildings, pois, boundaries;
    size_t albert_segments; /* ways named Boulevard Albert 1er */
    way_node *nodes;        /* every road node reference */
    size_t n_nodes, cap_nodes;
    size_t closed_boundaries;           /* boundaries with a closed ring of positive area */
    size_t open_building_rings;         /* buildings whose ring is not closed (must stay 0) */
    size_t households_tagged, bad_pois; /* buildings with building:flats; unnamed kinds */
    int fail_after;                     /* make the building callback fail at this count */
} collect;

static collect monaco;
static cg_osm_stats monaco_stats;
static const char *monaco_path;

static int on_way(void *ctx, const cg_way *w, cg_err *err)
{
    (void)err;
    collect *c = ctx;
    c->ways++;
    if (strcmp(w->name_en, "Boulevard Albert 1er") == 0 && w->n >= 2)
        c->albert_segments++;
    for (size_t k = 0; k < w->n; k++) {
        if (c->n_nodes == c->cap_nodes) {
            c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 4096;
            c->nodes = realloc(c->nodes, c->cap_nodes * sizeof(way_node));
            assert_non_null(c->nodes);
        }
        c->nodes[c->n_nodes++] = (way_node){w->id, w->node_ids[k], w->pts[k]};
    }
    return 0;
}

static int on_building(void *ctx, const cg_building *b, cg_err *err)
{
    collect *c = ctx;
    if (c->fail_after && (int)c->buildings == c->fail_after)
        return cg_err_set(err, CG_EIO, "test", "callback refused building %lld", (long long)b->id);
    c->buildings++;
    const cg_ring *r = &b->geom.polys[0].rings[0];
    if (r->n < 4 || r->pts[0].x != r->pts[r->n - 1].x || r->pts[0].y != r->pts[r->n - 1].y)
        c->open_building_rings++;
    if (b->households >= 0)
        c->households_tagged++;
    return 0;
}

static int on_poi(void *ctx, const cg_poi *p, cg_err *err)
{
    (void)err;
    collect *c = ctx;
    c->pois++;
    if (!p->kind[0] || !(fabs(p->at.x) <= 180 && fabs(p->at.y) <= 90))
        c->bad_pois++;
    return 0;
}

static int on_boundary(void *ctx, const cg_boundary *b, cg_err *err)
{
    (void)err;
    collect *c = ctx;
    c->boundaries++;
    assert_true(b->admin_level >= 1 && b->admin_level <= 12);
    const cg_ring *r = &b->geom.polys[0].rings[0];
    int closed =
        r->n >= 4 && r->pts[0].x == r->pts[r->n - 1].x && r->pts[0].y == r->pts[r->n - 1].y;
    if (closed && cg_mpoly_area_m2(&b->geom) > 0)
        c->closed_boundaries++;
    return 0;
}

static const cg_osm_callbacks callbacks = {on_way, on_building, on_poi, on_boundary, NULL};

static int setup(void **state)
{
    (void)state;
    monaco_path = cg_test_shared_data("osm/monaco.osm.pbf");
    if (!monaco_path)
        cg_test_skip("../shared/data/osm/monaco.osm.pbf is absent: OSM tests skipped");
    cg_err err;
    if (cg_osm_read(monaco_path, &callbacks, &monaco, &monaco_stats, &err) != 0) {
        fprintf(stderr, "reading Monaco: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(monaco.nodes);
    return 0;
}

static void test_counts_plausible(void **state)
{
    (void)state;
    /* Monaco: ~23k buildings, a few thousand road ways, hundreds of points of interest. */
    assert_in_range(monaco.buildings, 15000, 35000);
    assert_in_range(monaco.ways, 1000, 20000);
    assert_in_range(monaco.pois, 100, 5000);
    assert_int_equal(monaco.bad_pois, 0);
    assert_int_equal(monaco.open_building_rings, 0);
    assert_int_equal(monaco_stats.buildings, monaco.buildings);
    assert_int_equal(monaco_stats.ways, monaco.ways);
    assert_int_equal(monaco_stats.pois, monaco.pois);
    assert_int_equal(monaco_stats.boundaries, monaco.boundaries);
    assert_true(monaco_stats.nodes > 100000);
    assert_true(monaco_stats.ways_read > (int64_t)monaco.ways);
}

static void test_known_road(void **state)
{
    (void)state;
    assert_true(monaco.albert_segments >= 1);
}

static int cmp_node(const void *a, const void *b)
{
    const way_node *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void test_roads_share_node_ids(void **state)
{
    (void)state;
    qsort(monaco.nodes, monaco.n_nodes, sizeof(way_node), cmp_node);
    size_t shared = 0;
    for (size_t k = 0; k < monaco.n_nodes;) {
        size_t e = k + 1;
        while (e < monaco.n_nodes && monaco.nodes[e].node == monaco.nodes[k].node) {
            assert_true(monaco.nodes[e].at.x == monaco.nodes[k].at.x);
            assert_true(monaco.nodes[e].at.y == monaco.nodes[k].at.y);
            e++;
        }
        if (monaco.nodes[e - 1].id != monaco.nodes[k].id)
            shared++;
        k = e;
    }
    /* Intersections: thousands of nodes are used by two or more road ways. */
    assert_true(shared > 1000);
}

static void test_boundary_assembled(void **state)
{
    (void)state;
    assert_true(monaco.closed_boundaries >= 1);
    assert_int_equal(monaco.closed_boundaries, monaco.boundaries);
}

/* Reads a file expected to fail: the error code, and nothing delivered. */
static void expect_failure(const char *path, cg_code code)
{
    collect c;
    memset(&c, 0, sizeof c);
    cg_err err;
    memset(&err, 0, sizeof err);
    assert_int_equal(cg_osm_read(path, &callbacks, &c, NULL, &err), -1);
    assert_int_equal(err.code, code);
    assert_true(strstr(err.message, path) != NULL);
    assert_int_equal(c.ways + c.buildings + c.pois + c.boundaries, 0);
    free(c.nodes);
}

static void test_truncated_file(void **state)
{
    (void)state;
    char *data;
    size_t len;
    assert_int_equal(cg_read_file(monaco_path, &data, &len, 64u << 20), 0);
    /* Cut in the middle of the node blocks, and just before the end. */
    size_t cuts[] = {len / 2, len - 100};
    for (size_t k = 0; k < 2; k++) {
        const char *path = cg_test_tmppath(k ? "late.osm.pbf" : "half.osm.pbf");
        cg_test_write_file(path, data, cuts[k]);
        expect_failure(path, CG_EINVAL);
    }
    free(data);
}

static void test_not_osm(void **state)
{
    (void)state;
    const char *text = "this is not a protocol buffer\n";
    const char *path = cg_test_tmppath("text.osm.pbf");
    cg_test_write_file(path, text, strlen(text));
    expect_failure(path, CG_EINVAL);
    const char *csv = cg_test_tmppath("points.csv");
    cg_test_write_file(csv, text, strlen(text));
    expect_failure(csv, CG_EUNSUPPORTED);
    expect_failure(cg_test_tmppath("missing.osm.pbf"), CG_ENOTFOUND);
}

static void test_callback_error_stops(void **state)
{
    (void)state;
    collect c;
    memset(&c, 0, sizeof c);
    c.fail_after = 10;
    cg_err err;
    assert_int_equal(cg_osm_read(monaco_path, &callbacks, &c, NULL, &err), -1);
    assert_int_equal(err.code, CG_EIO);
    assert_non_null(strstr(err.message, "callback refused"));
    assert_int_equal(c.buildings, 10);
    free(c.nodes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_plausible),     cmocka_unit_test(test_known_road),
        cmocka_unit_test(test_roads_share_node_ids), cmocka_unit_test(test_boundary_assembled),
        cmocka_unit_test(test_truncated_file),       cmocka_unit_test(test_not_osm),
        cmocka_unit_test(test_callback_error_stops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
