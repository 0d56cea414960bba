/*
 * Case categories (category.h): parsing and validating a taxonomy document, the embedded
 * default taxonomy, export, and lookup. The default lives as plain JSON in
 * src/model/category_default.json (edited and diffed as JSON) and is embedded with the
 * assembler's .incbin like src/http/openapi.json, so the binary needs no file at run time.
 *
 * Validation runs in two passes: the first checks each entry on its own (fields, types, sizes,
 * the code's shape), the second the tree (duplicate codes, unknown parents, a child's code
 * extending its parent's, groups at the top only). An import is all or nothing.
 */
#include "model/category.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

__asm__(".section .rodata\n"
        ".global cg_category_default_json\n"
        ".type cg_category_default_json, @object\n"
        "cg_category_default_json:\n"
        ".incbin \"" CIVGRID_SOURCE_DIR "/src/model/category_default.json\"\n"
        ".byte 0\n"
        ".size cg_category_default_json, .-cg_category_default_json\n"
        ".previous\n");

extern const char cg_category_default_json[];

const char *cg_taxonomy_default_json(void)
{
    return cg_category_default_json;
}

const char *cg_cat_kind_name(cg_cat_kind kind)
{
    switch (kind) {
    case CG_CAT_GROUP:
        return "group";
    case CG_CAT_EVENT:
        return "event";
    case CG_CAT_COMPONENT:
        return "component";
    }
    return "unknown";
}

/*
 * Words that would make a category about people rather than places and events (PRODUCT.md's
 * scope line). A category with one of them in a name or condition is refused. This catches the
 * obvious cases in an import; it is a guard rail, not a classifier.
 */
static const char *const people_words[] = {
    "重点人员",    "重点人口",  "上访",           "信访人",     "访民",
    "精神病人",    "刑满释放",  "吸毒人员",       "key person", "petitioner",
    "ex-prisoner", "drug user", "mental patient",
};

static int about_people(const char *s)
{
    for (size_t i = 0; i < sizeof people_words / sizeof people_words[0]; i++)
        if (strcasestr(s, people_words[i]))
            return 1;
    return 0;
}

static int valid_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n > 6)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Copies a string field; -1 with an error when missing (if required), not a string, or long. */
static int get_text(json_t *o, const char *key, char *dst, size_t cap, int required, const char *at,
                    cg_err *err)
{
    json_t *v = json_object_get(o, key);
    char field[CG_ERR_FIELD_MAX];
    snprintf(field, sizeof field, "%s.%s", at, key);
    if (!v) {
        if (required)
            return cg_err_set(err, CG_EINVAL, field, "%s is required", field);
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return cg_err_set(err, CG_EINVAL, field, "%s must be a string", field);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= cap || strlen(s) != n)
        return cg_err_set(err, CG_ELIMIT, field, "%s is longer than %zu bytes or holds NUL", field,
                          cap - 1);
    if (required && n == 0)
        return cg_err_set(err, CG_EINVAL, field, "%s must not be empty", field);
    if (about_people(s))
        return cg_err_set(err, CG_EINVAL, field,
                          "%s describes people; categories describe places and events only", field);
    memcpy(dst, s, n + 1);
    return 0;
}

static int parse_entry(json_t *o, size_t index, cg_category *c, cg_err *err)
{
    char at[48];
    snprintf(at, sizeof at, "categories[%zu]", index);
    if (!json_is_object(o))
        return cg_err_set(err, CG_EINVAL, at, "%s must be an object", at);
    static const char *const keys[] = {"code",     "parent", "name_zh",  "name_en",
                                       "kind",     "limit",  "unit",     "department",
                                       "register", "close",  "escalates"};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t k = 0;
        while (k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k]))
            k++;
        if (k == sizeof keys / sizeof keys[0]) {
            char field[CG_ERR_FIELD_MAX];
            snprintf(field, sizeof field, "%s.%.40s", at, key);
            return cg_err_set(err, CG_EINVAL, field, "unknown field %s", field);
        }
    }
    memset(c, 0, sizeof *c);
    if (get_text(o, "code", c->code, sizeof c->code, 1, at, err) ||
        get_text(o, "parent", c->parent, sizeof c->parent, 0, at, err) ||
        get_text(o, "name_zh", c->name_zh, sizeof c->name_zh, 1, at, err) ||
        get_text(o, "name_en", c->name_en, sizeof c->name_en, 1, at, err))
        return -1;
    char field[CG_ERR_FIELD_MAX];
    if (!valid_code(c->code)) {
        snprintf(field, sizeof field, "%s.code", at);
        return cg_err_set(err, CG_EINVAL, field, "%s '%s' must be 2, 4 or 6 digits (two per level)",
                          field, c->code);
    }
    if (!c->parent[0]) {
        /* A group: names only. */
        static const char *const rules[] = {"kind",     "limit", "unit",     "department",
                                            "register", "close", "escalates"};
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
            if (json_object_get(o, rules[k])) {
                snprintf(field, sizeof field, "%s.%s", at, rules[k]);
                return cg_err_set(err, CG_EINVAL, field,
                                  "%s: a top-level group has no handling rules", field);
            }
        c->kind = CG_CAT_GROUP;
        return 0;
    }
    char kind[16], unit[16];
    if (get_text(o, "kind", kind, sizeof kind, 1, at, err))
        return -1;
    if (strcmp(kind, "event") == 0)
        c->kind = CG_CAT_EVENT;
    else if (strcmp(kind, "component") == 0)
        c->kind = CG_CAT_COMPONENT;
    else {
        snprintf(field, sizeof field, "%s.kind", at);
        return cg_err_set(err, CG_EINVAL, field, "%s must be \"event\" or \"component\"", field);
    }
    json_t *lim = json_object_get(o, "limit");
    snprintf(field, sizeof field, "%s.limit", at);
    if (!json_is_integer(lim) || json_integer_value(lim) <= 0 ||
        json_integer_value(lim) > CG_CAT_LIMIT_MAX)
        return cg_err_set(err, CG_EINVAL, field, "%s must be an integer in 1..%d", field,
                          CG_CAT_LIMIT_MAX);
    c->limit = (int)json_integer_value(lim);
    if (get_text(o, "unit", unit, sizeof unit, 1, at, err))
        return -1;
    if (cg_time_unit_parse(unit, &c->unit)) {
        snprintf(field, sizeof field, "%s.unit", at);
        return cg_err_set(err, CG_EINVAL, field, "%s must be \"working_hours\" or \"working_days\"",
                          field);
    }
    if (get_text(o, "department", c->department, sizeof c->department, 1, at, err) ||
        get_text(o, "register", c->register_cond, sizeof c->register_cond, 1, at, err) ||
        get_text(o, "close", c->close_cond, sizeof c->close_cond, 1, at, err))
        return -1;
    json_t *esc = json_object_get(o, "escalates");
    if (esc && !json_is_boolean(esc)) {
        snprintf(field, sizeof field, "%s.escalates", at);
        return cg_err_set(err, CG_EINVAL, field, "%s must be true or false", field);
    }
    c->escalates = json_is_true(esc);
    return 0;
}

/* The tree rules, over entries each valid on its own. */
static int check_tree(const cg_category *items, size_t n, cg_err *err)
{
    char field[CG_ERR_FIELD_MAX];
    for (size_t i = 0; i < n; i++) {
        const cg_category *c = &items[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[j].code, c->code) == 0) {
                snprintf(field, sizeof field, "categories[%zu].code", i);
                return cg_err_set(err, CG_ECONFLICT, field,
                                  "%s: code %s is used twice (first at categories[%zu])", field,
                                  c->code, j);
            }
        if (!c->parent[0]) {
            if (strlen(c->code) != 2) {
                snprintf(field, sizeof field, "categories[%zu].parent", i);
                return cg_err_set(err, CG_EINVAL, field,
                                  "%s: category %s needs a parent (only 2-digit codes are groups)",
                                  field, c->code);
            }
            continue;
        }
        snprintf(field, sizeof field, "categories[%zu].parent", i);
        size_t p = 0;
        while (p < n && strcmp(items[p].code, c->parent))
            p++;
        if (p == n)
            return cg_err_set(err, CG_EINVAL, field, "%s: unknown parent %s", field, c->parent);
        size_t lp = strlen(c->parent);
        if (strlen(c->code) != lp + 2 || strncmp(c->code, c->parent, lp))
            return cg_err_set(err, CG_EINVAL, field,
                              "%s: code %s must be its parent's code %s plus two digits", field,
                              c->code, c->parent);
    }
    return 0;
}

/* Sorts parents before children: codes compare as strings, and a parent is a prefix. */
static int by_code(const void *a, const void *b)
{
    return strcmp(((const cg_category *)a)->code, ((const cg_category *)b)->code);
}

int cg_taxonomy_parse(const char *json, size_t len, cg_taxonomy *out, cg_err *err)
{
    out->items = NULL;
    out->n = 0;
    if (len > CG_CAT_JSON_MAX)
        return cg_err_set(err, CG_ELIMIT, "categories", "a taxonomy is at most %d bytes",
                          CG_CAT_JSON_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cg_err_set(err, CG_EINVAL, "categories", "not valid JSON (line %d: %s)", jerr.line,
                          jerr.text);
    int rc = -1;
    cg_category *items = NULL;
    json_t *arr = json_object_get(root, "categories");
    json_t *ver = json_object_get(root, "version");
    if (!json_is_object(root) || !json_is_array(arr)) {
        cg_err_set(err, CG_EINVAL, "categories",
                   "a taxonomy is an object with an array \"categories\"");
        goto out;
    }
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) != 1)) {
        cg_err_set(err, CG_EUNSUPPORTED, "version", "only taxonomy version 1 is understood");
        goto out;
    }
    size_t n = json_array_size(arr);
    if (n > CG_CAT_MAX) {
        cg_err_set(err, CG_ELIMIT, "categories", "at most %d categories (got %zu)", CG_CAT_MAX, n);
        goto out;
    }
    items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        cg_err_set(err, CG_ENOMEM, "categories", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (parse_entry(json_array_get(arr, i), i, &items[i], err))
            goto out;
    if (check_tree(items, n, err))
        goto out;
    qsort(items, n, sizeof *items, by_code);
    out->items = items;
    out->n = n;
    items = NULL;
    rc = 0;
out:
    free(items);
    json_decref(root);
    return rc;
}

int cg_taxonomy_default(cg_taxonomy *out, cg_err *err)
{
    return cg_taxonomy_parse(cg_category_default_json, strlen(cg_category_default_json), out, err);
}

void cg_taxonomy_to_json(const cg_taxonomy *tax, cg_buf *out)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < tax->n; i++) {
        const cg_category *c = &tax->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s}", "code", c->code, "name_zh", c->name_zh, "name_en",
                              c->name_en);
        if (c->kind != CG_CAT_GROUP) {
            json_object_set_new(o, "parent", json_string(c->parent));
            json_object_set_new(o, "kind", json_string(cg_cat_kind_name(c->kind)));
            json_object_set_new(o, "limit", json_integer(c->limit));
            json_object_set_new(o, "unit", json_string(cg_time_unit_name(c->unit)));
            json_object_set_new(o, "department", json_string(c->department));
            json_object_set_new(o, "register", json_string(c->register_cond));
            json_object_set_new(o, "close", json_string(c->close_cond));
            if (c->escalates)
                json_object_set_new(o, "escalates", json_true());
        }
        json_array_append_new(arr, o);
    }
    json_t *root = json_pack("{s:i, s:o}", "version", 1, "categories", arr);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    assert(s);
    cg_buf_puts(out, s);
    cg_buf_putc(out, '\n');
    free(s);
    json_decref(root);
}

void cg_taxonomy_free(cg_taxonomy *tax)
{
    free(tax->items);
    tax->items = NULL;
    tax->n = 0;
}

const cg_category *cg_taxonomy_find(const cg_taxonomy *tax, const char *code)
{
    cg_category key;
    if (strlen(code) >= sizeof key.code)
        return NULL;
    strcpy(key.code, code);
    return bsearch(&key, tax->items, tax->n, sizeof key, by_code);
}

int cg_taxonomy_fileable(const cg_taxonomy *tax, const char *code)
{
    const cg_category *c = cg_taxonomy_find(tax, code);
    return c && c->kind != CG_CAT_GROUP;
}
