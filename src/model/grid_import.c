/*
 * Feature -> grid validation for imports: see grid_import.h. Parents are handled before children
 * by sorting features on the level their code implies; a hash of accepted codes answers "is the
 * parent in this file?" in constant time, so a city's 5,000 grids validate in milliseconds.
 */
#include "model/grid_import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *default_code[] = {"code", "grid_code", "wgbm", "编码", "网格编码", NULL};
static const char *default_name[] = {"name_zh", "name", "mc", "名称", "网格名称", NULL};
static const char *default_name_en[] = {"name_en", "ename", NULL};
static const char *default_level[] = {"level", "层级", NULL};
static const char *default_parent[] = {"parent", "parent_code", "上级编码", NULL};
static const char *default_grade[] = {"grade", "网格类型", "等级", NULL};
static const char *default_households[] = {"households", "hh", "户数", NULL};

/* The property named `chosen` (exactly) or the first default present; sets *name_used. */
static json_t *prop(const json_t *props, const char *chosen, const char **defaults,
                    const char **name_used)
{
    if (chosen) {
        *name_used = chosen;
        return json_object_get(props, chosen);
    }
    for (const char **d = defaults; *d; d++) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)props, key, value)
        {
            if (strcasecmp(key, *d) == 0 && !json_is_null(value)) {
                *name_used = key;
                return value;
            }
        }
    }
    *name_used = defaults[0];
    return NULL;
}

/* A property as text: strings as they are, integers and integral reals in decimal. */
static int prop_text(const json_t *v, char *buf, size_t cap)
{
    if (!v || json_is_null(v)) {
        buf[0] = '\0';
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n >= cap)
            return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || fabs(d) > 9.007199254740992e15)
            return -1;
        snprintf(buf, cap, "%.0f", d);
        return 0;
    }
    return -1;
}

typedef struct {
    char **keys;
    size_t cap;
} code_set;

static size_t hash_code(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void set_init(code_set *set, size_t n)
{
    set->cap = 16;
    while (set->cap < n * 2 + 1)
        set->cap *= 2;
    set->keys = calloc(set->cap, sizeof(char *));
    if (!set->keys)
        abort();
}

/* Returns 1 when inserted, 0 when already present. Keys are borrowed. */
static int set_add(code_set *set, char *key)
{
    for (size_t i = hash_code(key) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->keys[i]) {
            set->keys[i] = key;
            return 1;
        }
        if (strcmp(set->keys[i], key) == 0)
            return 0;
    }
}

static int set_has(const code_set *set, const char *key)
{
    for (size_t i = hash_code(key) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->keys[i])
            return 0;
        if (strcmp(set->keys[i], key) == 0)
            return 1;
    }
}

typedef struct {
    size_t index;
    cg_level level; /* from the code length, for ordering */
} work_item;

static int by_level(const void *a, const void *b)
{
    const work_item *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

typedef struct {
    cg_reject *items;
    size_t n, cap;
} reject_list;

/* One reject: the grid code, the field, the reason's stable code and the value it names ("" for
 * none), then the reason as text. */
static void reject(reject_list *list, size_t index, const char *code, const char *field,
                   const char *why, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void reject(reject_list *list, size_t index, const char *code, const char *field,
                   const char *why, const char *value, const char *fmt, ...)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->items = realloc(list->items, sizeof(cg_reject) * list->cap);
        if (!list->items)
            abort();
    }
    cg_reject *r = &list->items[list->n++];
    memset(r, 0, sizeof *r);
    r->feature_index = index;
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    snprintf(r->field, sizeof r->field, "%s", field ? field : "");
    snprintf(r->reason_code, sizeof r->reason_code, "%s", why);
    snprintf(r->reason_value, sizeof r->reason_value, "%s", value ? value : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static int cmp_reject(const void *a, const void *b)
{
    const cg_reject *x = a, *y = b;
    return x->feature_index < y->feature_index ? -1 : (x->feature_index > y->feature_index);
}

/* Validates one feature into g; on failure records the reject and returns -1. */
static int convert(const cg_feature *f, const cg_grid_fields *fields, const code_set *accepted,
                   const code_set *rejected, const cg_grid_import_opts *opts, cg_grid *g,
                   reject_list *rejects)
{
    cg_grid_lookup_fn lookup = opts->lookup;
    void *lookup_ctx = opts->lookup_ctx;
    const cg_grid_fields none = {0};
    if (!fields)
        fields = &none;
    const char *used;
    char text[CG_NAME_MAX];
    size_t i = f->index;

    json_t *v = prop(f->props, fields->code, default_code, &used);
    if (prop_text(v, g->code, sizeof g->code) != 0 || !g->code[0]) {
        reject(rejects, i, "", used, "code_missing", "", "%s is missing or not a code", used);
        return -1;
    }
    if (opts->scope && !cg_scope_contains(opts->scope, g->code)) {
        reject(rejects, i, g->code, "code", "outside_scope", opts->scope->code,
               "grid '%s' lies outside your scope (%s)", g->code, opts->scope->code);
        return -1;
    }
    if (f->error[0]) {
        reject(rejects, i, g->code, "geometry", "geometry_unreadable", f->error, "%s", f->error);
        return -1;
    }

    v = prop(f->props, fields->level, default_level, &used);
    if (prop_text(v, text, sizeof text) != 0) {
        reject(rejects, i, g->code, used, "level_not_text", "", "%s is not text or a number", used);
        return -1;
    }
    if (text[0]) {
        if (cg_level_parse(text, &g->level) != 0) {
            reject(rejects, i, g->code, used, "level_unknown", text,
                   "level '%s' is unknown (use district, street, community, grid or subgrid)",
                   text);
            return -1;
        }
    } else {
        g->level = cg_level_from_code(g->code);
        if (g->level == CG_LEVEL_NONE) {
            reject(rejects, i, g->code, "code", "code_length_unknown", "",
                   "code '%s' has %zu digits, which no level has (6, 9, 12, 15 or 17)", g->code,
                   strlen(g->code));
            return -1;
        }
    }

    v = prop(f->props, fields->parent, default_parent, &used);
    if (prop_text(v, g->parent_code, sizeof g->parent_code) != 0) {
        reject(rejects, i, g->code, used, "parent_not_code", "", "%s is not a code", used);
        return -1;
    }
    int parent_explicit = g->parent_code[0] != '\0';
    if (!parent_explicit && g->level > CG_LEVEL_DISTRICT)
        cg_code_parent(g->code, g->parent_code);

    cg_err e = {0};
    const char *why;
    if (cg_grid_code_validate_why(g->code, g->level, g->parent_code, &why, &e) != 0) {
        const char *value =
            strcmp(e.field, "parent") == 0 || strcmp(why, "code_not_under_parent") == 0
                ? g->parent_code
            : strcmp(why, "code_length") == 0 ? cg_level_name(g->level)
                                              : "";
        reject(rejects, i, g->code, e.field, why, value, "%s", e.message);
        return -1;
    }
    if (g->parent_code[0]) {
        if (set_has(rejected, g->parent_code)) {
            reject(rejects, i, g->code, "parent", "parent_rejected", g->parent_code,
                   "parent '%s' was rejected", g->parent_code);
            return -1;
        }
        if (!set_has(accepted, g->parent_code) &&
            (!lookup || lookup(lookup_ctx, g->parent_code) == CG_LEVEL_NONE)) {
            if (parent_explicit) {
                reject(rejects, i, g->code, "parent", "parent_missing", g->parent_code,
                       "parent '%s' is neither in this file nor in the database", g->parent_code);
                return -1;
            }
            g->parent_code[0] = '\0'; /* a root of the stored hierarchy */
        }
    }

    v = prop(f->props, fields->name, default_name, &used);
    if (prop_text(v, g->name_zh, sizeof g->name_zh) != 0 || !g->name_zh[0]) {
        reject(rejects, i, g->code, used, "name_missing", "",
               "%s is missing (every grid needs a name)", used);
        return -1;
    }
    v = prop(f->props, fields->name_en, default_name_en, &used);
    if (prop_text(v, g->name_en, sizeof g->name_en) != 0) {
        reject(rejects, i, g->code, used, "name_en_not_text", "", "%s is not text", used);
        return -1;
    }

    v = prop(f->props, fields->grade, default_grade, &used);
    if (prop_text(v, text, sizeof text) != 0 || cg_grade_parse(text, &g->grade) != 0) {
        const char *grade = v && json_is_string(v) ? json_string_value(v) : "?";
        reject(rejects, i, g->code, used, "grade_unknown", grade,
               "grade '%s' is unknown (use routine, guarded, focus or strict)", grade);
        return -1;
    }

    v = prop(f->props, fields->households, default_households, &used);
    if (v && !json_is_null(v)) {
        double h = json_is_number(v) ? json_number_value(v) : -1;
        if (json_is_string(v) && prop_text(v, text, sizeof text) == 0 && text[0]) {
            char *end;
            h = strtod(text, &end);
            if (*end)
                h = -1;
        }
        if (h < 0 || h != floor(h) || h > 1e7) {
            reject(rejects, i, g->code, used, "households_invalid", "",
                   "%s must be a whole number of households", used);
            return -1;
        }
        g->households = (int)h;
    }

    if (!f->has_geom || f->geom.n_polys == 0) {
        reject(rejects, i, g->code, "geometry", "geometry_missing", "", "geometry is missing");
        return -1;
    }
    if (cg_mpoly_clone(&f->geom, &g->geom) != 0) {
        reject(rejects, i, g->code, "geometry", "out_of_memory", "",
               "out of memory copying the geometry");
        return -1;
    }
    g->area_m2 = cg_mpoly_area_m2(&g->geom);
    if (!(g->area_m2 > 0)) {
        reject(rejects, i, g->code, "geometry", "geometry_no_area", "", "polygon has no area");
        return -1;
    }
    return 0;
}

int cg_grid_import_prepare(const cg_feature *features, size_t n, const cg_grid_fields *fields,
                           cg_grid_lookup_fn lookup, void *lookup_ctx, cg_grid **out, size_t *n_out,
                           cg_reject **rejects, size_t *n_rejects, cg_err *err)
{
    cg_grid_import_opts opts = {lookup, lookup_ctx, NULL, NULL, NULL};
    return cg_grid_import_prepare_with(features, n, fields, &opts, out, n_out, rejects, n_rejects,
                                       err);
}

/* Features validated between two progress calls. */
#define PROGRESS_EVERY 256

int cg_grid_import_prepare_with(const cg_feature *features, size_t n, const cg_grid_fields *fields,
                                const cg_grid_import_opts *opts, cg_grid **out, size_t *n_out,
                                cg_reject **rejects_out, size_t *n_rejects, cg_err *err)
{
    work_item *work = malloc(sizeof(work_item) * (n ? n : 1));
    cg_grid *grids = calloc(n ? n : 1, sizeof(cg_grid));
    if (!work || !grids) {
        free(work);
        free(grids);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for %zu features", n);
    }
    for (size_t i = 0; i < n; i++) {
        char code[CG_CODE_MAX];
        const char *used;
        work[i].index = i;
        json_t *v = features[i].props
                        ? prop(features[i].props, fields ? fields->code : NULL, default_code, &used)
                        : NULL;
        work[i].level = prop_text(v, code, sizeof code) == 0 ? cg_level_from_code(code) : 0;
    }
    qsort(work, n, sizeof(work_item), by_level);

    code_set accepted, rejected;
    set_init(&accepted, n);
    set_init(&rejected, n);
    reject_list rejects = {0};
    size_t count = 0;
    for (size_t k = 0; k < n; k++) {
        const cg_feature *f = &features[work[k].index];
        cg_grid *g = &grids[count];
        cg_grid_init(g);
        json_t *empty = NULL;
        cg_feature copy;
        if (!f->props) {
            copy = *f;
            copy.props = empty = json_object();
            f = &copy;
        }
        int ok = convert(f, fields, &accepted, &rejected, opts, g, &rejects) == 0;
        json_decref(empty);
        if (ok && !set_add(&accepted, g->code)) {
            reject(&rejects, f->index, g->code, "code", "code_duplicate", "",
                   "code '%s' appears more than once", g->code);
            ok = 0;
        }
        if (!ok) {
            /* Remember the code so children report "parent was rejected", not "missing". */
            if (g->code[0] && !set_has(&accepted, g->code) && !set_has(&rejected, g->code))
                set_add(&rejected, strdup(g->code));
            cg_grid_free(g);
        } else {
            count++;
        }
        if (opts->progress && ((k + 1) % PROGRESS_EVERY == 0 || k + 1 == n))
            opts->progress(opts->progress_ctx, k + 1, n);
    }
    /* Accepted keys point into grids[], which stays; rejected keys were strdup'ed. */
    for (size_t i = 0; i < rejected.cap; i++)
        free(rejected.keys[i]);
    free(rejected.keys);
    free(accepted.keys);
    free(work);
    if (rejects.n > 1)
        qsort(rejects.items, rejects.n, sizeof(cg_reject), cmp_reject);
    *out = grids;
    *n_out = count;
    *rejects_out = rejects.items;
    *n_rejects = rejects.n;
    return 0;
}

void cg_grid_import_feature_name(const cg_feature *f, const cg_grid_fields *fields, char *buf,
                                 size_t cap)
{
    const char *used;
    buf[0] = '\0';
    if (!f->props || !json_is_object(f->props))
        return;
    json_t *v = prop(f->props, fields ? fields->name : NULL, default_name, &used);
    if (prop_text(v, buf, cap) != 0)
        buf[0] = '\0';
}
