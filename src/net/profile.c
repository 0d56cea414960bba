/*
 * Routing profiles (profile.h): the default speed table, the override file and the per-way rules
 * (access, oneway, maxspeed) that graph.c applies to every way it reads.
 *
 * Default speeds, km/h (0 = not usable), chosen for urban patrols in a Chinese district rather than
 * for free-flow traffic: a patrol car rarely holds the legal limit between intersections.
 *
 *   class          car  foot  bicycle
 *   motorway        90     0        0
 *   trunk           60     5       15
 *   primary         45     5       15
 *   secondary       40     5       15
 *   tertiary        35     5       15
 *   unclassified    30     5       15
 *   residential     25     5       15
 *   service         15     5       12
 *   living_street   10     5       10
 *   pedestrian       0     5        5   (bicycles walk)
 *   footway          0     5        5   (bicycles walk)
 *   cycleway         0     5       18
 *   path             0     5       12
 *   track           10     5       12
 *   steps            0   2.5        2   (carried)
 *   other           15     5       12
 */
#include "net/profile.h"

#include <jansson.h>
#include <string.h>

static const char *const profile_names[CG_PROFILE_COUNT] = {"car", "foot", "bicycle"};

/* Rows follow cg_road_class order from CG_ROAD_MOTORWAY (1) to CG_ROAD_OTHER (16). */
static const double default_kmh[CG_PROFILE_COUNT][CG_ROAD_CLASS_MAX] = {
    {0, 90, 60, 45, 40, 35, 30, 25, 15, 10, 0, 0, 0, 0, 10, 0, 15},
    {0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 2.5, 5},
    {0, 0, 15, 15, 15, 15, 15, 15, 12, 10, 5, 5, 18, 12, 12, 2, 12},
};

int cg_profile_parse(const char *s, cg_profile *out, cg_err *err)
{
    for (int p = 0; s && p < CG_PROFILE_COUNT; p++)
        if (strcmp(s, profile_names[p]) == 0) {
            *out = (cg_profile)p;
            return 0;
        }
    return cg_err_set(err, CG_EINVAL, "profile", "unknown profile '%s' (car, foot or bicycle)",
                      s ? s : "");
}

const char *cg_profile_name(cg_profile p)
{
    return (unsigned)p < CG_PROFILE_COUNT ? profile_names[p] : "?";
}

void cg_speeds_default(cg_profile p, cg_speeds *out)
{
    memcpy(out->kmh, default_kmh[(unsigned)p < CG_PROFILE_COUNT ? p : 0], sizeof out->kmh);
}

int cg_speeds_load(const char *path, cg_speeds *sp, cg_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return cg_err_set(err, CG_EINVAL, "speeds", "%s: line %d: %s", path, je.line, je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = cg_err_set(err, CG_EINVAL, "speeds",
                        "%s: expected an object of road class -> km/h, e.g. {\"service\": 10}",
                        path);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int cls = 0;
        for (int c = 1; c < CG_ROAD_CLASS_MAX; c++)
            if (strcmp(key, cg_road_class_name((cg_road_class)c)) == 0)
                cls = c;
        if (!cls) {
            rc = cg_err_set(err, CG_EINVAL, key, "%s: unknown road class '%s'", path, key);
            goto out;
        }
        double kmh = json_is_number(v) ? json_number_value(v) : -1;
        if (!(kmh >= 0 && kmh <= 200)) {
            rc = cg_err_set(err, CG_EINVAL, key, "%s: speed for '%s' must be 0..200 km/h", path,
                            key);
            goto out;
        }
        sp->kmh[cls] = kmh;
    }
out:
    json_decref(root);
    return rc;
}

static int walked_class(cg_road_class c)
{
    return c == CG_ROAD_FOOTWAY || c == CG_ROAD_PATH || c == CG_ROAD_PEDESTRIAN ||
           c == CG_ROAD_STEPS;
}

void cg_profile_way(cg_profile p, const cg_speeds *sp, const cg_way *w, double *kmh, int *forward,
                    int *backward)
{
    unsigned c = (unsigned)w->road_class;
    double v = c < CG_ROAD_CLASS_MAX ? sp->kmh[c] : 0;
    if (strcmp(w->access, "no") == 0 || (p == CG_PROFILE_CAR && strcmp(w->access, "private") == 0))
        v = 0;
    if (p == CG_PROFILE_CAR && w->maxspeed_kmh > 0 && w->maxspeed_kmh < v)
        v = w->maxspeed_kmh;
    *kmh = v;
    int obey = p == CG_PROFILE_CAR || (p == CG_PROFILE_BICYCLE && !walked_class(w->road_class));
    *forward = v > 0 && !(obey && w->oneway < 0);
    *backward = v > 0 && !(obey && w->oneway > 0);
}
