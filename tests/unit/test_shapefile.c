/*
 * Tests of the Shapefile reader (src/geo/shapefile.c) on the fixtures in tests/data (shp_*),
 * made with ogr2ogr: UTF-8 and GBK attributes, holes and multipolygons, projected systems (UTM
 * zone 50N and CGCS2000 Gauss-Kruger) whose expected WGS84 positions were computed once with
 * gdaltransform, and every documented bad input. Variants (no .cpg, a broken .prj, a truncated
 * .shp) are made by copying fixtures into the test's temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <shapefil.h>

#include "core/buf.h"
#include "geo/shapefile.h"
#include "testutil.h"

static const char *const utf8_names[] = {"西湖街道", "北山社区（一）", "灵隐村", "空白网格"};
static const char *const kind_names[] = {"街道", "社区", "村", "网格"};

/* Copies tests/data/<from>.<ext> to <tmpdir>/<to>.<ext> for each listed extension. */
static void copy_parts(const char *from, const char *to, const char *const *exts)
{
    for (; *exts; exts++) {
        char src[256], dst[256];
        snprintf(src, sizeof src, "%s.%s", from, *exts);
        snprintf(dst, sizeof dst, "%s.%s", to, *exts);
        char *data;
        size_t len;
        assert_int_equal(cg_read_file(cg_test_data(src), &data, &len, 0), 0);
        cg_test_write_file(cg_test_tmppath(dst), data, len);
        free(data);
    }
}

static cg_feature *read_ok(const char *path, const cg_shapefile_read_opts *opts, size_t *n)
{
    cg_feature *fs;
    cg_err err;
    cg_err_clear(&err);
    int rc = cg_shapefile_read(path, opts, &fs, n, &err);
    if (rc != 0)
        fail_msg("%s: %s", path, err.message);
    return fs;
}

static double rectangle_area_m2(double lon0, double lat0, double lon1, double lat1)
{
    double r = CG_EARTH_RADIUS_M, d = M_PI / 180.0;
    return r * r * (lon1 - lon0) * d * (sin(lat1 * d) - sin(lat0 * d));
}

/* Checks the four Chinese-named fixture features (shared by the UTF-8 and GBK files). */
static void check_named_features(const cg_feature *fs, size_t n)
{
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(fs[i].error, "");
        assert_int_equal(fs[i].index, i);
        assert_string_equal(json_string_value(json_object_get(fs[i].props, "name")), utf8_names[i]);
        assert_string_equal(json_string_value(json_object_get(fs[i].props, "类型")), kind_names[i]);
    }
    const json_t *p = fs[0].props;
    assert_string_equal(json_string_value(json_object_get(p, "code")), "330106001");
    assert_true(json_is_integer(json_object_get(p, "hh")));
    assert_int_equal(json_integer_value(json_object_get(p, "hh")), 1234);
    assert_true(json_real_value(json_object_get(p, "ratio")) == 0.75);
    assert_true(json_is_true(json_object_get(p, "active")));
    assert_true(json_is_false(json_object_get(fs[1].props, "active")));
    assert_string_equal(json_string_value(json_object_get(p, "founded")), "2001-05-01");
    assert_true(json_is_null(json_object_get(fs[3].props, "founded")));
}

static void check_geometry(const cg_feature *fs)
{
    /* A square. */
    assert_int_equal(fs[0].has_geom, 1);
    assert_int_equal(fs[0].geom.n_polys, 1);
    assert_int_equal(fs[0].geom.polys[0].n_rings, 1);
    assert_int_equal(fs[0].geom.polys[0].rings[0].n, 5);
    double a = rectangle_area_m2(120.10, 30.20, 120.12, 30.22);
    assert_true(fabs(cg_mpoly_area_m2(&fs[0].geom) - a) / a < 1e-3);
    /* Stored with GeoJSON's winding: outer counter-clockwise. */
    assert_true(cg_ring_signed_area_m2(&fs[0].geom.polys[0].rings[0]) > 0);

    /* A square with a hole, assigned to it. */
    const cg_mpoly *m = &fs[1].geom;
    assert_int_equal(m->n_polys, 1);
    assert_int_equal(m->polys[0].n_rings, 2);
    assert_true(cg_ring_signed_area_m2(&m->polys[0].rings[1]) < 0);
    assert_false(cg_mpoly_contains(m, (cg_point){120.145, 30.215}));
    assert_true(cg_mpoly_contains(m, (cg_point){120.16, 30.23}));
    a = rectangle_area_m2(120.13, 30.20, 120.17, 30.24) -
        rectangle_area_m2(120.14, 30.21, 120.15, 30.22);
    assert_true(fabs(cg_mpoly_area_m2(m) - a) / a < 1e-3);

    /* Two squares. */
    assert_int_equal(fs[2].geom.n_polys, 2);
    assert_true(cg_mpoly_contains(&fs[2].geom, (cg_point){120.185, 30.205}));
    assert_true(cg_mpoly_contains(&fs[2].geom, (cg_point){120.205, 30.205}));
    assert_false(cg_mpoly_contains(&fs[2].geom, (cg_point){120.195, 30.205}));

    /* A null shape. */
    assert_int_equal(fs[3].has_geom, 0);
}

static void test_utf8(void **state)
{
    (void)state;
    size_t n;
    cg_feature *fs = read_ok(cg_test_data("shp_utf8.shp"), NULL, &n);
    check_named_features(fs, n);
    check_geometry(fs);
    cg_features_free(fs, n);
    /* The base name without extension works too. */
    fs = read_ok(cg_test_data("shp_utf8"), NULL, &n);
    assert_int_equal(n, 4);
    cg_features_free(fs, n);
}

static void test_gbk(void **state)
{
    (void)state;
    size_t n;
    cg_feature *fs = read_ok(cg_test_data("shp_gbk.shp"), NULL, &n);
    check_named_features(fs, n);
    check_geometry(fs);
    cg_features_free(fs, n);

    /* Without the .cpg the bytes are not valid UTF-8, so GB18030 is guessed. */
    static const char *const no_cpg[] = {"shp", "shx", "dbf", NULL};
    copy_parts("shp_gbk", "gbk_no_cpg", no_cpg);
    fs = read_ok(cg_test_tmppath("gbk_no_cpg.shp"), NULL, &n);
    check_named_features(fs, n);
    cg_features_free(fs, n);

    /* Told the wrong encoding, each feature with undecodable text is rejected, by field. */
    cg_shapefile_read_opts opts = {"UTF-8", CG_CRS_WGS84, 0};
    cg_err err;
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("gbk_no_cpg.shp"), &opts, &fs, &n, &err),
                     -1);
    assert_non_null(strstr(err.message, "the name of field 2"));
    assert_non_null(strstr(err.message, "not valid UTF-8"));
}

static void test_wrong_encoding_and_missing_prj(void **state)
{
    (void)state;
    /* Field names are ASCII here, so the file opens and values fail one feature at a time. */
    static const char *const parts[] = {"shp", "shx", "dbf", NULL};
    copy_parts("shp_utm50", "utm_as_ascii", parts);
    cg_shapefile_read_opts opts = {"ASCII", CG_CRS_WGS84, 0};
    cg_feature *fs;
    size_t n;
    cg_err err;
    /* No .prj: the UTM coordinates are out of range and the message hints at the cause. */
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("utm_as_ascii"), &opts, &fs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(fs[0].error, "field name: the text is not valid ASCII"));
    cg_features_free(fs, n);
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("utm_as_ascii"), NULL, &fs, &n, &err), 0);
    assert_non_null(strstr(fs[0].error, "longitude 500000 out of range"));
    assert_non_null(strstr(fs[0].error, "no .prj"));
    assert_int_equal(fs[0].has_geom, 0);
    cg_features_free(fs, n);
}

/* Every expected point appears in the ring within 1e-6 degrees. */
static void check_points(const cg_ring *r, const double (*want)[2], size_t n_want)
{
    assert_int_equal(r->n, n_want + 1);
    for (size_t i = 0; i < n_want; i++) {
        double best = INFINITY;
        for (size_t k = 0; k < r->n; k++) {
            double d = fmax(fabs(r->pts[k].x - want[i][0]), fabs(r->pts[k].y - want[i][1]));
            best = fmin(best, d);
        }
        assert_true(best < 1e-6);
    }
}

static void test_projected(void **state)
{
    (void)state;
    /* gdaltransform -s_srs EPSG:32650 -t_srs EPSG:4326 of (500000 3350000), (501000 3350000),
     * (501000 3351000), (500000 3351000). */
    static const double utm[][2] = {{117, 30.2816940035943},
                                    {117.010397806726, 30.2816935906929},
                                    {117.01039875844, 30.290717807629},
                                    {117, 30.290718220679}};
    size_t n;
    cg_feature *fs = read_ok(cg_test_data("shp_utm50.shp"), NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(fs[0].error, "");
    assert_string_equal(json_string_value(json_object_get(fs[0].props, "name")), "测试网格");
    check_points(&fs[0].geom.polys[0].rings[0], utm, 4);
    /* 1 km x 1 km, within the scale error of UTM at this distance from the meridian. */
    assert_true(fabs(cg_mpoly_area_m2(&fs[0].geom) - 1e6) < 5e3);
    cg_features_free(fs, n);

    /* gdaltransform -s_srs EPSG:4547 -t_srs EPSG:4326 (CGCS2000 / 3-degree Gauss-Kruger CM
     * 114E) of (500000 3380000), (502000 3380000), (502000 3381500), (500000 3381500). */
    static const double gk[][2] = {{114, 30.5402148359723},
                                   {114.020842144749, 30.5402131686307},
                                   {114.02084503514, 30.5537435379264},
                                   {114, 30.5537452061632}};
    fs = read_ok(cg_test_data("shp_cgcs2000_gk.shp"), NULL, &n);
    assert_string_equal(fs[0].error, "");
    check_points(&fs[0].geom.polys[0].rings[0], gk, 4);
    cg_features_free(fs, n);
}

static void test_gcj02(void **state)
{
    (void)state;
    static const char *const parts[] = {"shp", "shx", "dbf", "cpg", NULL};
    copy_parts("shp_utf8", "gcj_no_prj", parts);
    cg_shapefile_read_opts opts = {NULL, CG_CRS_GCJ02, 0};
    size_t n;
    /* Both without a .prj and with a WGS84 one (GCJ-02 has no code a .prj could name). */
    const char *paths[] = {cg_test_tmppath("gcj_no_prj.shp"), cg_test_data("shp_utf8.shp")};
    for (int t = 0; t < 2; t++) {
        cg_feature *fs = read_ok(paths[t], &opts, &n);
        cg_point want = cg_wgs84_from_gcj02((cg_point){120.10, 30.20});
        assert_true(fabs(want.x - 120.10) > 1e-3);
        const cg_ring *r = &fs[0].geom.polys[0].rings[0];
        int found = 0;
        for (size_t k = 0; k < r->n; k++)
            found |= fabs(r->pts[k].x - want.x) < 1e-9 && fabs(r->pts[k].y - want.y) < 1e-9;
        assert_true(found);
        cg_features_free(fs, n);
    }
}

static void test_bad_inputs(void **state)
{
    (void)state;
    cg_feature *fs;
    size_t n;
    cg_err err;

    assert_int_equal(cg_shapefile_read(cg_test_data("shp_nodbf.shp"), NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_non_null(strstr(err.message, "shp_nodbf.dbf is missing"));
    assert_null(fs);

    assert_int_equal(cg_shapefile_read(cg_test_data("shp_points.shp"), NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "holds Point shapes"));

    assert_int_equal(cg_shapefile_read(cg_test_data("no_such_file.shp"), NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_ENOTFOUND);
    assert_non_null(strstr(err.message, "no_such_file.shp does not exist"));

    static const char *const parts[] = {"shp", "shx", "dbf", NULL};
    copy_parts("shp_utm50", "bad_prj", parts);
    const char *prj = "PROJCS[\"broken\",GEOGCS[";
    cg_test_write_file(cg_test_tmppath("bad_prj.prj"), prj, strlen(prj));
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("bad_prj.shp"), NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_EINVAL);
    assert_non_null(strstr(err.message, "bad_prj.prj is not a coordinate system PROJ can read"));

    copy_parts("shp_utf8", "bad_cpg", parts);
    cg_test_write_file(cg_test_tmppath("bad_cpg.cpg"), "KLINGON-8", 9);
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("bad_cpg.shp"), NULL, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "KLINGON-8"));

    static const char *const no_shx[] = {"shp", "dbf", NULL};
    copy_parts("shp_utf8", "no_shx", no_shx);
    assert_int_equal(cg_shapefile_read(cg_test_tmppath("no_shx.shp"), NULL, &fs, &n, &err), -1);
    assert_non_null(strstr(err.message, "no_shx.shx is missing"));

    cg_shapefile_read_opts opts = {NULL, CG_CRS_WGS84, 3};
    assert_int_equal(cg_shapefile_read(cg_test_data("shp_utf8.shp"), &opts, &fs, &n, &err), -1);
    assert_int_equal(err.code, CG_ELIMIT);
    assert_non_null(strstr(err.message, "4 features, more than the limit of 3"));
}

static void test_truncated_shp(void **state)
{
    (void)state;
    char *shp;
    size_t len;
    assert_int_equal(cg_read_file(cg_test_data("shp_utf8.shp"), &shp, &len, 0), 0);
    static const char *const parts[] = {"shx", "dbf", "cpg", NULL};
    copy_parts("shp_utf8", "truncated", parts);
    /* Cut inside the third shape's record: the first two read, the rest are rejected. */
    size_t cuts[] = {len - 200, 50, 0};
    for (size_t c = 0; c < 3; c++) {
        cg_test_write_file(cg_test_tmppath("truncated.shp"), shp, cuts[c]);
        cg_feature *fs;
        size_t n;
        cg_err err;
        int rc = cg_shapefile_read(cg_test_tmppath("truncated.shp"), NULL, &fs, &n, &err);
        if (c == 0) {
            assert_int_equal(rc, 0);
            assert_string_equal(fs[0].error, "");
            assert_non_null(strstr(fs[2].error, "shape 2 could not be read"));
            cg_features_free(fs, n);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.message, "truncated.shp could not be read"));
        }
    }
    free(shp);
}

static void test_memory(void **state)
{
    (void)state;
    char *shp, *shx, *dbf, *cpg;
    size_t shp_len, shx_len, dbf_len, cpg_len;
    assert_int_equal(cg_read_file(cg_test_data("shp_gbk.shp"), &shp, &shp_len, 0), 0);
    assert_int_equal(cg_read_file(cg_test_data("shp_gbk.shx"), &shx, &shx_len, 0), 0);
    assert_int_equal(cg_read_file(cg_test_data("shp_gbk.dbf"), &dbf, &dbf_len, 0), 0);
    assert_int_equal(cg_read_file(cg_test_data("shp_gbk.cpg"), &cpg, &cpg_len, 0), 0);
    cg_shapefile_mem mem = {"grids", shp, shx, dbf, shp_len, shx_len, dbf_len, NULL, cpg};
    cg_feature *fs;
    size_t n;
    cg_err err;
    assert_int_equal(cg_shapefile_read_mem(&mem, NULL, &fs, &n, &err), 0);
    check_named_features(fs, n);
    check_geometry(fs);
    cg_features_free(fs, n);

    mem.dbf = NULL;
    assert_int_equal(cg_shapefile_read_mem(&mem, NULL, &fs, &n, &err), -1);
    assert_non_null(strstr(err.message, "grids.dbf is missing"));
    free(shp);
    free(shx);
    free(dbf);
    free(cpg);
}

/* Writes a one-shape polygon file with shapelib's writer, parts in the given order. */
static void write_parts(const char *base, const double (*const *rings)[2], const int *sizes,
                        int n_parts)
{
    double x[64], y[64];
    int starts[8], n = 0;
    for (int p = 0; p < n_parts; p++) {
        starts[p] = n;
        for (int k = 0; k < sizes[p]; k++, n++) {
            x[n] = rings[p][k][0];
            y[n] = rings[p][k][1];
        }
    }
    SHPHandle shp = SHPCreate(base, SHPT_POLYGON);
    assert_non_null(shp);
    SHPObject *o = SHPCreateObject(SHPT_POLYGON, -1, n_parts, starts, NULL, n, x, y, NULL, NULL);
    assert_int_equal(SHPWriteObject(shp, -1, o), 0);
    SHPDestroyObject(o);
    SHPClose(shp);
    DBFHandle dbf = DBFCreate(base);
    assert_non_null(dbf);
    assert_int_equal(DBFAddField(dbf, "id", FTInteger, 5, 0), 0);
    assert_true(DBFWriteIntegerAttribute(dbf, 0, 0, 7));
    DBFClose(dbf);
}

static void test_ring_assignment(void **state)
{
    (void)state;
    /* Clockwise squares are outer rings, counter-clockwise ones holes. The hole comes first and
     * lies inside the second (larger) outer ring, which itself surrounds a small island; a
     * counter-clockwise ring inside no outer ring is kept as a polygon of its own. */
    static const double hole[][2] = {{1, 1}, {2, 1}, {2, 2}, {1, 2}, {1, 1}};
    static const double island[][2] = {{1.2, 1.2}, {1.2, 1.8}, {1.8, 1.8}, {1.8, 1.2}, {1.2, 1.2}};
    static const double big[][2] = {{0, 0}, {0, 4}, {4, 4}, {4, 0}, {0, 0}};
    static const double orphan[][2] = {{10, 10}, {11, 10}, {11, 11}, {10, 11}, {10, 10}};
    const double(*const rings[])[2] = {hole, island, big, orphan};
    static const int sizes[] = {5, 5, 5, 5};
    write_parts(cg_test_tmppath("rings"), rings, sizes, 4);
    size_t n;
    cg_feature *fs = read_ok(cg_test_tmppath("rings.shp"), NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(fs[0].error, "");
    assert_int_equal(json_integer_value(json_object_get(fs[0].props, "id")), 7);
    const cg_mpoly *m = &fs[0].geom;
    assert_int_equal(m->n_polys, 3);
    size_t with_hole = 0;
    for (size_t i = 0; i < m->n_polys; i++)
        if (m->polys[i].n_rings == 2)
            with_hole++;
    assert_int_equal(with_hole, 1);
    assert_true(cg_mpoly_contains(m, (cg_point){0.5, 0.5}));
    assert_false(cg_mpoly_contains(m, (cg_point){1.1, 1.1}));  /* in the hole */
    assert_true(cg_mpoly_contains(m, (cg_point){1.5, 1.5}));   /* on the island */
    assert_true(cg_mpoly_contains(m, (cg_point){10.5, 10.5})); /* the orphan */
    cg_features_free(fs, n);

    /* A ring of two vertices is rejected with its part number. */
    static const double line[][2] = {{0, 0}, {0, 1}};
    const double(*const short_rings[])[2] = {big, line};
    static const int short_sizes[] = {5, 2};
    write_parts(cg_test_tmppath("short"), short_rings, short_sizes, 2);
    fs = read_ok(cg_test_tmppath("short.shp"), NULL, &n);
    assert_string_equal(fs[0].error, "part 1 has 2 vertices, a ring needs at least 4");
    cg_features_free(fs, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_wrong_encoding_and_missing_prj),
        cmocka_unit_test(test_projected),
        cmocka_unit_test(test_gcj02),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_truncated_shp),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_ring_assignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
