/*
 * Case categories: a tree of codes with Chinese and English names. Top-level categories are
 * groups; every category below them is a sub-category that cases are filed under, with the rules
 * of the closed loop: when to register, the handling time limit and its unit, when to close, the
 * default handling department, whether it is a component (routed to its owner first) or an event
 * (routed to the locality first), and whether overdue cases escalate grid -> community -> street
 * (disputes). Types and rules only; the store keeps the taxonomy and hands its JSON back here.
 *
 * Codes: two digits per level ("03", "0301", "030102"), a child's code extends its parent's, at
 * most three levels. Categories describe places and events only (PRODUCT.md): an import naming a
 * category after people ("key persons", petitioners) is refused.
 *
 * JSON (import and export):
 *   {"version": 1, "categories": [
 *     {"code": "01", "name_zh": "市容环境", "name_en": "City appearance and environment"},
 *     {"code": "0101", "parent": "01", "name_zh": "暴露垃圾", "name_en": "Exposed garbage",
 *      "kind": "event", "limit": 1, "unit": "working_days", "department": "...",
 *      "register": "...", "close": "...", "escalates": false}, ...]}
 * Groups carry only code, name_zh and name_en; sub-categories need every field but "escalates"
 * (default false). Unknown fields are refused. Errors name the field with its index
 * ("categories[12].limit").
 */
#ifndef CG_MODEL_CATEGORY_H
#define CG_MODEL_CATEGORY_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/calendar.h"

#define CG_CAT_CODE_MAX  8   /* "030102" + NUL, rounded */
#define CG_CAT_NAME_MAX  96  /* bytes, UTF-8 */
#define CG_CAT_TEXT_MAX  256 /* conditions */
#define CG_CAT_MAX       1024
#define CG_CAT_LIMIT_MAX 365 /* in either unit */
#define CG_CAT_JSON_MAX  (1 << 20)

typedef enum {
    CG_CAT_GROUP = 0,     /* a top-level group: no rules, no cases */
    CG_CAT_EVENT = 1,     /* 事件: locality first */
    CG_CAT_COMPONENT = 2, /* 部件: owner first */
} cg_cat_kind;

typedef struct {
    char code[CG_CAT_CODE_MAX];
    char parent[CG_CAT_CODE_MAX]; /* "" for a group */
    char name_zh[CG_CAT_NAME_MAX];
    char name_en[CG_CAT_NAME_MAX];
    cg_cat_kind kind;
    int limit;         /* handling time limit, > 0 for sub-categories */
    cg_time_unit unit; /* of limit */
    char department[CG_CAT_NAME_MAX];
    char register_cond[CG_CAT_TEXT_MAX]; /* 立案条件 */
    char close_cond[CG_CAT_TEXT_MAX];    /* 结案条件 */
    int escalates;                       /* overdue cases escalate grid -> community -> street */
} cg_category;

/* A whole taxonomy, in document order (parents before children after a successful parse). */
typedef struct {
    cg_category *items;
    size_t n;
} cg_taxonomy;

/* "group", "event", "component". */
const char *cg_cat_kind_name(cg_cat_kind kind);

/* Parses and validates a taxonomy document; on error *out is left empty. */
int cg_taxonomy_parse(const char *json, size_t len, cg_taxonomy *out, cg_err *err);
/* The default taxonomy embedded in the binary (src/model/category_default.json). */
int cg_taxonomy_default(cg_taxonomy *out, cg_err *err);
/* The embedded document itself, NUL-terminated. */
const char *cg_taxonomy_default_json(void);
/* Appends the taxonomy as a JSON document that cg_taxonomy_parse reads back unchanged. */
void cg_taxonomy_to_json(const cg_taxonomy *tax, cg_buf *out);
void cg_taxonomy_free(cg_taxonomy *tax);

/* The category with this code, or NULL. */
const cg_category *cg_taxonomy_find(const cg_taxonomy *tax, const char *code);
/* Does code name a sub-category that cases may be filed under? */
int cg_taxonomy_fileable(const cg_taxonomy *tax, const char *code);

#endif
