/*
 * Running a grid import against a store, shared by `civgrid import grids` and the server's
 * import jobs (http/api_import.c): the lookup of stored levels that validation needs, the
 * topology check of the imported grids among the stored grids they join, and the write itself,
 * one transaction for all grids or none (unchanged grids are left alone, so re-importing a file
 * is harmless; changed ones get a new version and keep their history).
 */
#ifndef CG_APP_GRID_IMPORT_RUN_H
#define CG_APP_GRID_IMPORT_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "geo/topology.h"
#include "model/grid.h"
#include "model/grid_import.h"
#include "store/store.h"

/* A cg_grid_lookup_fn over a store (ctx is the cg_store *): the level of a stored grid. */
cg_level cg_grid_import_lookup_store(void *ctx, const char *code);

typedef void (*cg_grid_import_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct {
    size_t written, unchanged;
    size_t per_level[CG_LEVEL_SUBGRID + 1];
} cg_grid_import_counts;

/*
 * Writes the grids at `now` in one transaction: nothing is written unless every put succeeds.
 * When audit_target is given, a "grid.import" audit entry with the counts (summary JSON) is
 * written in the same transaction, beside the "grid.put" entry of each grid.
 */
int cg_grid_import_write(cg_store *s, cg_grid *grids, size_t n, int64_t now,
                         const char *audit_target, cg_grid_import_progress_fn progress,
                         void *progress_ctx, cg_grid_import_counts *out, cg_err *err);

/* A topology finding on an import, with the codes it concerns (its `item`/`other` indexes are
 * of no use to a caller). */
typedef struct {
    cg_finding f;                 /* owns its geometry */
    char code[CG_CODE_MAX];       /* the grid concerned (for a gap: the parent) */
    char other_code[CG_CODE_MAX]; /* the other sibling of an overlap, the parent; "" */
    int other_stored;             /* the other grid is a stored one, not from the import */
} cg_grid_import_finding;

/*
 * The topology check of the grids as they would be after the import: the imported grids, and
 * from the store each parent they name that is not imported, with its other current children
 * (the siblings an imported grid may overlap). Only findings that concern an imported grid are
 * kept, and gaps of stored parents whose children the import changes. `scope` bounds the stored
 * grids read (NULL: unrestricted); findings never name a grid outside it.
 */
int cg_grid_import_check(cg_store *s, const cg_scope *scope, const cg_grid *grids, size_t n,
                         const cg_topology_opts *opts, cg_grid_import_finding **out, size_t *n_out,
                         cg_err *err);
void cg_grid_import_findings_free(cg_grid_import_finding *f, size_t n);

#endif
