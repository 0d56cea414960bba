/*
 * Reading points from GeoJSON (points.h) with jansson: a FeatureCollection, a Feature, or a bare
 * Point / MultiPoint geometry.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/points.h"

typedef struct {
    cg_point *p;
    int *avail;
    size_t n, cap;
} acc;

static int add(acc *a, const json_t *coord, int avail, const char *field, cg_err *err)
{
    if (!json_is_array(coord) || json_array_size(coord) < 2 ||
        !json_is_number(json_array_get(coord, 0)) || !json_is_number(json_array_get(coord, 1)))
        return cg_err_set(err, CG_EINVAL, field, "point %zu: coordinates must be [lon, lat]",
                          a->n + 1);
    cg_point p = {json_number_value(json_array_get(coord, 0)),
                  json_number_value(json_array_get(coord, 1))};
    if (!isfinite(p.x) || !isfinite(p.y) || fabs(p.x) > 180 || fabs(p.y) > 90)
        return cg_err_set(err, CG_EINVAL, field, "point %zu: [%g, %g] is not a WGS84 coordinate",
                          a->n + 1, p.x, p.y);
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        cg_point *np = realloc(a->p, cap * sizeof *np);
        if (np)
            a->p = np;
        int *na = realloc(a->avail, cap * sizeof *na);
        if (na)
            a->avail = na;
        if (!np || !na)
            return cg_err_set(err, CG_ENOMEM, field, "out of memory reading points");
        a->cap = cap;
    }
    a->p[a->n] = p;
    a->avail[a->n++] = avail;
    return 0;
}

static int geometry(acc *a, const json_t *g, int avail, const char *field, cg_err *err)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    const json_t *c = json_object_get(g, "coordinates");
    if (type && strcmp(type, "Point") == 0)
        return add(a, c, avail, field, err);
    if (type && strcmp(type, "MultiPoint") == 0 && json_is_array(c)) {
        for (size_t i = 0; i < json_array_size(c); i++)
            if (add(a, json_array_get(c, i), avail, field, err) != 0)
                return -1;
        return 0;
    }
    return cg_err_set(err, CG_EINVAL, field, "geometry %s is not a Point or MultiPoint",
                      type ? type : "(none)");
}

static int feature(acc *a, const json_t *f, const char *field, cg_err *err)
{
    const json_t *av = json_object_get(json_object_get(f, "properties"), "available");
    int avail = !json_is_false(av);
    const json_t *g = json_object_get(f, "geometry");
    if (!json_is_object(g))
        return cg_err_set(err, CG_EINVAL, field, "a feature without a geometry");
    return geometry(a, g, avail, field, err);
}

int cg_plan_points_parse(const char *data, size_t len, const char *field, cg_point **points,
                         int **available, size_t *n, cg_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    acc a = {0};
    int rc = -1;
    if (!root || !json_is_object(root)) {
        cg_err_set(err, CG_EINVAL, field, "not a GeoJSON object: %s",
                   root ? "the top level is not an object" : je.text);
        goto done;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    if (type && strcmp(type, "FeatureCollection") == 0) {
        const json_t *fs = json_object_get(root, "features");
        if (!json_is_array(fs)) {
            cg_err_set(err, CG_EINVAL, field, "a FeatureCollection without a features array");
            goto done;
        }
        for (size_t i = 0; i < json_array_size(fs); i++)
            if (feature(&a, json_array_get(fs, i), field, err) != 0)
                goto done;
    } else if (type && strcmp(type, "Feature") == 0) {
        if (feature(&a, root, field, err) != 0)
            goto done;
    } else if (geometry(&a, root, 1, field, err) != 0) {
        goto done;
    }
    if (a.n == 0) {
        cg_err_set(err, CG_EINVAL, field, "no points: the list is empty");
        goto done;
    }
    *points = a.p;
    *available = a.avail;
    *n = a.n;
    a.p = NULL;
    a.avail = NULL;
    rc = 0;
done:
    free(a.p);
    free(a.avail);
    json_decref(root);
    return rc;
}
