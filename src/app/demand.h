/*
 * What the planning computations (plan/coverage.h, plan/posts.h) need from the store: every
 * building as a centroid with its household count. The command line and the server both load
 * it through here.
 */
#ifndef CG_APP_DEMAND_H
#define CG_APP_DEMAND_H

#include "plan/coverage.h"
#include "store/store.h"

/* Loads all buildings; *out is malloc'ed (free it), *n its length. */
int cg_app_buildings_load(cg_store *s, cg_coverage_building **out, size_t *n, cg_err *err);

#endif
