/*
 * Turning features read from a file into grids, with every rule checked before anything is
 * written: a code of the right length for its level, a parent that exists (in the same file or
 * already stored) and whose code the child's code extends, a name, a polygon with an area, a
 * known grade, a household count that is a number. A feature that breaks a rule becomes a reject
 * with the reason; the caller writes nothing unless there are no rejects (all or nothing).
 */
#ifndef CG_MODEL_GRID_IMPORT_H
#define CG_MODEL_GRID_IMPORT_H

#include <stddef.h>

#include "core/err.h"
#include "geo/feature.h"
#include "model/access.h"
#include "model/grid.h"

typedef struct {
    size_t feature_index; /* position in the input, from 0 */
    char code[CG_CODE_MAX];
    char field[CG_ERR_FIELD_MAX];
    char reason[CG_ERR_MESSAGE_MAX];
    /* The rule broken, stable for programs and translations ("grade_unknown", ...: the list is in
     * docs/api.md), and the value the reason names (a grade, a parent's code; "" for none). */
    char reason_code[32];
    char reason_value[128];
} cg_reject;

/*
 * Attribute names to read. NULL means the defaults, tried case-insensitively in order:
 * code: code, grid_code, wgbm, 编码, 网格编码;  name: name_zh, name, mc, 名称, 网格名称;
 * name_en: name_en, ename;  level: level, 层级;  parent: parent, parent_code, 上级编码;
 * grade: grade, 网格类型, 等级;  households: households, hh, 户数.
 */
typedef struct {
    const char *code, *name, *name_en, *level, *parent, *grade, *households;
} cg_grid_fields;

/* Level of a code already in the store, or CG_LEVEL_NONE when it is not there. */
typedef cg_level (*cg_grid_lookup_fn)(void *ctx, const char *code);

/*
 * Validates every feature. Accepted grids go to *out (caller frees each with cg_grid_free and the
 * array with free), rejects to *rejects (free). Features are processed parents first, so a child
 * whose parent was rejected is rejected too ("parent ... was rejected"). A grid whose parent is
 * named in neither the file nor the store is rejected unless no parent was given explicitly, in
 * which case it becomes a root of the stored hierarchy.
 */
int cg_grid_import_prepare(const cg_feature *features, size_t n, const cg_grid_fields *fields,
                           cg_grid_lookup_fn lookup, void *lookup_ctx, cg_grid **out, size_t *n_out,
                           cg_reject **rejects, size_t *n_rejects, cg_err *err);

/* What cg_grid_import_prepare_with adds: a scope every grid must lie in (an import from the
 * API: a grid outside the caller's scope is rejected on field "code"), and a progress callback
 * called every so many features with the number validated so far. */
typedef struct {
    cg_grid_lookup_fn lookup;
    void *lookup_ctx;
    const cg_scope *scope; /* NULL: unrestricted */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} cg_grid_import_opts;

int cg_grid_import_prepare_with(const cg_feature *features, size_t n, const cg_grid_fields *fields,
                                const cg_grid_import_opts *opts, cg_grid **out, size_t *n_out,
                                cg_reject **rejects, size_t *n_rejects, cg_err *err);

/* The name a feature gives (by the same attribute rules as the import), for reports; "" when it
 * has none that reads as text. */
void cg_grid_import_feature_name(const cg_feature *f, const cg_grid_fields *fields, char *buf,
                                 size_t cap);

#endif
