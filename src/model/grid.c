/*
 * Grid rules: levels, grades, hierarchical codes and the west->east, north->south numbering.
 * See grid.h for the code layout.
 */
#include "model/grid.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cg_grid_init(cg_grid *g)
{
    memset(g, 0, sizeof *g);
    g->households = -1;
}

void cg_grid_free(cg_grid *g)
{
    if (!g)
        return;
    cg_mpoly_free(&g->geom);
    free(g->member_ids);
    g->member_ids = NULL;
    g->n_members = 0;
}

void cg_grid_copy(cg_grid *dst, const cg_grid *src)
{
    *dst = *src;
    cg_mpoly_clone(&src->geom, &dst->geom);
    dst->member_ids = NULL;
    if (src->n_members) {
        dst->member_ids = malloc(sizeof(int64_t) * src->n_members);
        if (!dst->member_ids)
            abort();
        memcpy(dst->member_ids, src->member_ids, sizeof(int64_t) * src->n_members);
    }
}

static const struct {
    const char *en;
    const char *zh;
    const char *zh_alt;
    int code_length;
} levels[] = {
    {"", "", "", 0},
    {"district", "区", "县", 6},
    {"street", "街道", "乡镇", 9},
    {"community", "社区", "村", 12},
    {"grid", "网格", "网格", 15},
    {"subgrid", "片格", "子网格", 17},
};

const char *cg_level_name(cg_level level)
{
    return level >= CG_LEVEL_DISTRICT && level <= CG_LEVEL_SUBGRID ? levels[level].en : "";
}

const char *cg_level_name_zh(cg_level level)
{
    return level >= CG_LEVEL_DISTRICT && level <= CG_LEVEL_SUBGRID ? levels[level].zh : "";
}

int cg_level_parse(const char *s, cg_level *out)
{
    if (!s)
        return -1;
    for (int l = CG_LEVEL_DISTRICT; l <= CG_LEVEL_SUBGRID; l++) {
        if (strcasecmp(s, levels[l].en) == 0 || strcmp(s, levels[l].zh) == 0 ||
            strcmp(s, levels[l].zh_alt) == 0 || (s[0] == '0' + l && s[1] == '\0')) {
            *out = (cg_level)l;
            return 0;
        }
    }
    /* Common synonyms in imported attribute tables. */
    if (strcasecmp(s, "township") == 0 || strcasecmp(s, "subdistrict") == 0 ||
        strcmp(s, "镇") == 0 || strcmp(s, "乡") == 0) {
        *out = CG_LEVEL_STREET;
        return 0;
    }
    if (strcasecmp(s, "village") == 0) {
        *out = CG_LEVEL_COMMUNITY;
        return 0;
    }
    if (strcasecmp(s, "county") == 0) {
        *out = CG_LEVEL_DISTRICT;
        return 0;
    }
    if (strcasecmp(s, "sub-grid") == 0 || strcasecmp(s, "sub_grid") == 0) {
        *out = CG_LEVEL_SUBGRID;
        return 0;
    }
    return -1;
}

int cg_level_code_length(cg_level level)
{
    return level >= CG_LEVEL_DISTRICT && level <= CG_LEVEL_SUBGRID ? levels[level].code_length : 0;
}

cg_level cg_level_from_code(const char *code)
{
    size_t n = strlen(code);
    for (int l = CG_LEVEL_DISTRICT; l <= CG_LEVEL_SUBGRID; l++)
        if ((size_t)levels[l].code_length == n)
            return (cg_level)l;
    return CG_LEVEL_NONE;
}

static const struct {
    const char *en;
    const char *zh;
} grades[] = {
    {"", ""},
    {"routine", "日常管理型"},
    {"guarded", "一般防范型"},
    {"focus", "重点关注型"},
    {"strict", "严密管控型"},
};

const char *cg_grade_name(cg_grade grade)
{
    return grade >= CG_GRADE_NONE && grade <= CG_GRADE_STRICT ? grades[grade].en : "";
}

const char *cg_grade_name_zh(cg_grade grade)
{
    return grade >= CG_GRADE_NONE && grade <= CG_GRADE_STRICT ? grades[grade].zh : "";
}

int cg_grade_parse(const char *s, cg_grade *out)
{
    if (!s || !*s) {
        *out = CG_GRADE_NONE;
        return 0;
    }
    for (int g = CG_GRADE_ROUTINE; g <= CG_GRADE_STRICT; g++) {
        if (strcasecmp(s, grades[g].en) == 0 || strcmp(s, grades[g].zh) == 0 ||
            (s[0] == '0' + g && s[1] == '\0')) {
            *out = (cg_grade)g;
            return 0;
        }
    }
    return -1;
}

int cg_grid_code_validate(const char *code, cg_level level, const char *parent_code, cg_err *err)
{
    const char *why;
    return cg_grid_code_validate_why(code, level, parent_code, &why, err);
}

int cg_grid_code_validate_why(const char *code, cg_level level, const char *parent_code,
                              const char **why, cg_err *err)
{
    *why = "";
    if (!code || !*code)
        return *why = "code_missing", cg_err_set(err, CG_EINVAL, "code", "code is missing");
    size_t n = strlen(code);
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)code[i]))
            return *why = "code_not_digits",
                   cg_err_set(err, CG_EINVAL, "code",
                              "code '%.30s' has a non-digit at position %zu", code, i + 1);
    int want = cg_level_code_length(level);
    if (want == 0)
        return *why = "level_unknown",
               cg_err_set(err, CG_EINVAL, "level", "level is missing or unknown");
    if (n != (size_t)want)
        return *why = "code_length",
               cg_err_set(err, CG_EINVAL, "code",
                          "code '%.30s' has %zu digits; a %s code has %d (6-digit division code, "
                          "then 3 digits per street, community and grid, 2 per sub-grid)",
                          code, n, cg_level_name(level), want);
    /* Sequence numbers start at 1: an all-zero segment is not a valid child number. */
    int start = cg_level_code_length((cg_level)(level - 1));
    if (level > CG_LEVEL_DISTRICT) {
        int all_zero = 1;
        for (int i = start; i < want; i++)
            all_zero &= code[i] == '0';
        if (all_zero)
            return *why = "code_zero_sequence",
                   cg_err_set(err, CG_EINVAL, "code",
                              "code '%.30s' ends in an all-zero sequence number", code);
    }
    if (parent_code && *parent_code) {
        cg_level parent_level = cg_level_from_code(parent_code);
        if (parent_level == CG_LEVEL_NONE)
            return *why = "parent_length",
                   cg_err_set(err, CG_EINVAL, "parent",
                              "parent code '%.30s' has a length no level has", parent_code);
        if (parent_level != level - 1)
            return *why = "parent_level",
                   cg_err_set(err, CG_EINVAL, "parent",
                              "a %s belongs under a %s, but parent '%.30s' is a %s",
                              cg_level_name(level), cg_level_name((cg_level)(level - 1)),
                              parent_code, cg_level_name(parent_level));
        if (strncmp(code, parent_code, strlen(parent_code)) != 0)
            return *why = "code_not_under_parent",
                   cg_err_set(err, CG_EINVAL, "code",
                              "code '%.30s' does not start with its parent's code '%.30s'", code,
                              parent_code);
    }
    return 0;
}

void cg_code_parent(const char *code, char out[CG_CODE_MAX])
{
    cg_level level = cg_level_from_code(code);
    int n = level > CG_LEVEL_DISTRICT ? cg_level_code_length((cg_level)(level - 1)) : 0;
    memcpy(out, code, (size_t)n);
    out[n] = '\0';
}

int cg_grid_child_code(const char *parent_code, cg_level child_level, int k, char out[CG_CODE_MAX],
                       cg_err *err)
{
    int plen = (int)strlen(parent_code);
    int clen = cg_level_code_length(child_level);
    int digits = clen - plen;
    if (child_level <= CG_LEVEL_DISTRICT || plen != cg_level_code_length(child_level - 1))
        return cg_err_set(err, CG_EINVAL, "parent", "'%.30s' is not the code of a %s's parent",
                          parent_code, cg_level_name(child_level));
    int max = digits == 3 ? 999 : 99;
    if (k < 1 || k > max)
        return cg_err_set(err, CG_ELIMIT, "code",
                          "a parent can number at most %d children at this level", max);
    snprintf(out, CG_CODE_MAX, "%s%0*d", parent_code, digits, k);
    return 0;
}

/* ---- numbering order ---- */

static const cg_point *sort_points;

static int by_lat_desc(const void *a, const void *b)
{
    const cg_point *pa = &sort_points[*(const size_t *)a], *pb = &sort_points[*(const size_t *)b];
    if (pa->y != pb->y)
        return pa->y > pb->y ? -1 : 1;
    if (pa->x != pb->x)
        return pa->x < pb->x ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int by_lon(const void *a, const void *b)
{
    const cg_point *pa = &sort_points[*(const size_t *)a], *pb = &sort_points[*(const size_t *)b];
    if (pa->x != pb->x)
        return pa->x < pb->x ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Rows: sort by latitude, north first; a child opens a new row when its centroid is more than half
 * the median child height south of the row's first centroid. Within a row, west to east. The
 * qsort comparators read the centroids through a file-level pointer, so this function is not
 * reentrant across threads; it runs only in batch commands.
 */
void cg_grid_number_order(const cg_point *centroids, const double *heights, size_t n, size_t *order)
{
    if (n == 0)
        return;
    double *h = malloc(sizeof(double) * n);
    if (!h)
        abort();
    memcpy(h, heights, sizeof(double) * n);
    qsort(h, n, sizeof(double), cmp_double);
    double band = h[n / 2] / 2;
    free(h);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_points = centroids;
    qsort(order, n, sizeof(size_t), by_lat_desc);
    size_t row_start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || centroids[order[row_start]].y - centroids[order[i]].y > band) {
            qsort(order + row_start, i - row_start, sizeof(size_t), by_lon);
            row_start = i;
        }
    }
    sort_points = NULL;
}
