/*
 * Routing profiles: which roads a car, a walker or a cyclist may use and how fast, by highway
 * class. The default speeds are a table in profile.c (and docs/routing.md); an override file
 * (JSON object, class name -> km/h, e.g. {"residential": 25, "service": 10}) replaces entries;
 * a speed of 0 forbids the class.
 *
 * Rules beyond speed: a car obeys oneway and never uses a road tagged access=no or private
 * (destination roads are kept: a patrol may enter them); walkers ignore oneway; cyclists obey it
 * except on footway/path/pedestrian where they walk. A tagged maxspeed lowers a car's class
 * speed, never raises it.
 */
#ifndef CG_NET_PROFILE_H
#define CG_NET_PROFILE_H

#include "core/err.h"
#include "model/place.h"

typedef enum { CG_PROFILE_CAR = 0, CG_PROFILE_FOOT = 1, CG_PROFILE_BICYCLE = 2 } cg_profile;
#define CG_PROFILE_COUNT 3

#define CG_ROAD_CLASS_MAX 17 /* array size indexable by cg_road_class */

typedef struct {
    double kmh[CG_ROAD_CLASS_MAX]; /* 0: the class is not usable */
} cg_speeds;

/* "car" / "foot" / "bicycle"; CG_EINVAL (field "profile") for anything else. */
int cg_profile_parse(const char *s, cg_profile *out, cg_err *err);
const char *cg_profile_name(cg_profile p);

void cg_speeds_default(cg_profile p, cg_speeds *out);
/* Applies the overrides in a JSON file onto *sp. An unknown class or a speed outside 0..200 is
 * CG_EINVAL naming the class. */
int cg_speeds_load(const char *path, cg_speeds *sp, cg_err *err);

/*
 * How profile p may travel way w with speeds sp: *kmh the speed (0 = not at all), *forward and
 * *backward whether it may go along / against the node order.
 */
void cg_profile_way(cg_profile p, const cg_speeds *sp, const cg_way *w, double *kmh, int *forward,
                    int *backward);

#endif
