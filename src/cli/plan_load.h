/*
 * Loading for the planning commands (cover, iso, posts): see plan_load.c. Each returns an exit
 * status (0 on success) after printing a clear message.
 */
#ifndef CG_CLI_PLAN_LOAD_H
#define CG_CLI_PLAN_LOAD_H

#include <stddef.h>

#include "net/graph.h"
#include "plan/coverage.h"
#include "store/store.h"

int cg_cli_plan_graph(const char *db_path, cg_profile p, cg_store *s, cg_graph **out);
int cg_cli_plan_buildings(cg_store *s, cg_coverage_building **out, size_t *n);
int cg_cli_plan_pois(cg_store *s, const char *kind, cg_point **out, size_t *n);
int cg_cli_plan_points_file(const char *path, const char *field, cg_point **out, size_t *n);
/* A cg_cover_progress_fn that draws "stage: 42%" on stderr when it is a terminal. */
void cg_cli_plan_progress(void *ctx, const char *stage, double fraction);

#endif
