/*
 * Grids (网格): the hierarchy district -> street/township -> community/village -> grid ->
 * sub-grid, their codes, grades and teams. Types and rules only: no SQL, no HTTP, no I/O.
 *
 * Codes are hierarchical: a 6-digit administrative division code (the district), then 3 digits
 * for the street, 3 for the community, 3 for the grid and 2 for a sub-grid. A child's code starts
 * with its parent's code, so the code length tells the level:
 *     district 6   330106
 *     street   9   330106001
 *     community 12 330106001002
 *     grid     15  330106001002003
 *     subgrid  17  33010600100200301
 * Each grid is versioned: a redrawn grid gets a new row with a new valid_from and the old row is
 * closed (valid_to set), so history is kept rather than overwritten.
 */
#ifndef CG_MODEL_GRID_H
#define CG_MODEL_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "geo/geom.h"

typedef enum {
    CG_LEVEL_NONE = 0,
    CG_LEVEL_DISTRICT = 1,
    CG_LEVEL_STREET = 2,
    CG_LEVEL_COMMUNITY = 3,
    CG_LEVEL_GRID = 4,
    CG_LEVEL_SUBGRID = 5
} cg_level;

/* The four grid types by risk (PRODUCT.md); NONE for levels above grid or not yet graded. */
typedef enum {
    CG_GRADE_NONE = 0,
    CG_GRADE_ROUTINE = 1, /* 日常管理型 */
    CG_GRADE_GUARDED = 2, /* 一般防范型 */
    CG_GRADE_FOCUS = 3,   /* 重点关注型 */
    CG_GRADE_STRICT = 4   /* 严密管控型 */
} cg_grade;

#define CG_CODE_MAX 24
#define CG_NAME_MAX 256

typedef struct {
    int64_t id; /* row id of this version (0 before it is stored) */
    char code[CG_CODE_MAX];
    char parent_code[CG_CODE_MAX]; /* "" for a root */
    char name_zh[CG_NAME_MAX];
    char name_en[CG_NAME_MAX];
    cg_level level;
    cg_grade grade;
    int households; /* a count only, never a list; -1 when unknown */
    double area_m2; /* computed from geom on import */
    cg_mpoly geom;  /* WGS84; owned */
    /* The responsible team (1+3+N). Account ids, 0 for none; filled by the access issue. */
    int64_t leader_id, deputy_id;
    int64_t *member_ids; /* owned; n_members entries */
    size_t n_members;
    int64_t valid_from, valid_to; /* Unix seconds; valid_to 0 while current */
} cg_grid;

void cg_grid_init(cg_grid *g);
void cg_grid_free(cg_grid *g); /* frees geom and member_ids, not g itself */
/* A deep copy: dst gets its own geometry and member list (free with cg_grid_free). */
void cg_grid_copy(cg_grid *dst, const cg_grid *src);

/* "district", "street", "community", "grid", "subgrid". */
const char *cg_level_name(cg_level level);
const char *cg_level_name_zh(cg_level level); /* 区 街道 社区 网格 片格 */
/* Accepts the English names, the Chinese names (区/县, 街道/乡镇, 社区/村, 网格, 片格/子网格)
 * or 1..5. */
int cg_level_parse(const char *s, cg_level *out);
/* The code length that belongs to a level (6, 9, 12, 15, 17); 0 for NONE. */
int cg_level_code_length(cg_level level);
/* The level a code's length implies; CG_LEVEL_NONE when no level has that length. */
cg_level cg_level_from_code(const char *code);

/* "routine", "guarded", "focus", "strict" ("" for NONE). */
const char *cg_grade_name(cg_grade grade);
const char *cg_grade_name_zh(cg_grade grade); /* 日常管理型 ... */
int cg_grade_parse(const char *s, cg_grade *out);

/*
 * Validates a code against its level and its parent's code: digits only, the right length for the
 * level, and starting with the parent's code when there is a parent. parent_code may be NULL or ""
 * for a root. The error names field "code" (or "parent") and says what was expected.
 */
int cg_grid_code_validate(const char *code, cg_level level, const char *parent_code, cg_err *err);
/* The same, also naming the rule broken with a stable code for reports (*why: "code_missing",
 * "code_not_digits", "level_unknown", "code_length", "code_zero_sequence", "parent_length",
 * "parent_level", "code_not_under_parent"; "" when valid). */
int cg_grid_code_validate_why(const char *code, cg_level level, const char *parent_code,
                              const char **why, cg_err *err);

/* The parent's code a code implies (its prefix one level up); "" for a district code. */
void cg_code_parent(const char *code, char out[CG_CODE_MAX]);

/*
 * Renumbering (编号上图): children of one parent are numbered west->east within rows that run
 * north->south. Given the children's centroids, fills order[] with indexes into the input in
 * numbering order. Rows are formed by centroid latitude: a child starts a new row when its
 * centroid lies more than half the median child height below the current row's first centroid.
 */
void cg_grid_number_order(const cg_point *centroids, const double *heights, size_t n,
                          size_t *order);
/* The code of the k-th child (k from 1) of a parent at parent_level. */
int cg_grid_child_code(const char *parent_code, cg_level child_level, int k, char out[CG_CODE_MAX],
                       cg_err *err);

#endif
