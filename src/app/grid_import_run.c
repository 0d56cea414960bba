/*
 * Running a grid import against a store: see grid_import_run.h. The topology check builds one
 * array of items, the imported grids first and then the stored grids they join, and maps codes
 * to positions with a sorted index (bsearch), so a city's few thousand grids cost milliseconds
 * beside the GEOS work itself.
 */
#include "app/grid_import_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cg_level cg_grid_import_lookup_store(void *ctx, const char *code)
{
    cg_grid g;
    cg_err err = {0};
    cg_grid_init(&g);
    cg_level level = CG_LEVEL_NONE;
    if (cg_store_grid_get(ctx, code, 0, 0, &g, &err) == 0)
        level = g.level;
    cg_grid_free(&g);
    return level;
}

static int same_geometry(const cg_mpoly *a, const cg_mpoly *b)
{
    uint8_t *wa = NULL, *wb = NULL;
    size_t la = 0, lb = 0;
    int same = cg_mpoly_to_wkb(a, &wa, &la) == 0 && cg_mpoly_to_wkb(b, &wb, &lb) == 0 && la == lb &&
               memcmp(wa, wb, la) == 0;
    free(wa);
    free(wb);
    return same;
}

/* 1 when the stored current version already says exactly what g says. */
static int unchanged(cg_store *s, const cg_grid *g)
{
    cg_grid old;
    cg_err err = {0};
    cg_grid_init(&old);
    int same = 0;
    if (cg_store_grid_get(s, g->code, 0, 1, &old, &err) == 0)
        same = strcmp(old.parent_code, g->parent_code) == 0 &&
               strcmp(old.name_zh, g->name_zh) == 0 && strcmp(old.name_en, g->name_en) == 0 &&
               old.level == g->level && old.grade == g->grade && old.households == g->households &&
               same_geometry(&old.geom, &g->geom);
    cg_grid_free(&old);
    return same;
}

int cg_grid_import_write(cg_store *s, cg_grid *grids, size_t n, int64_t now,
                         const char *audit_target, cg_grid_import_progress_fn progress,
                         void *progress_ctx, cg_grid_import_counts *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (cg_store_begin(s, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (unchanged(s, &grids[i])) {
            out->unchanged++;
        } else if (cg_store_grid_put(s, &grids[i], now, err) != 0) {
            cg_err_prefix(err, "grid %s", grids[i].code);
            cg_store_rollback(s);
            memset(out, 0, sizeof *out);
            return -1;
        } else {
            out->written++;
            out->per_level[grids[i].level]++;
        }
        if (progress && ((i + 1) % 64 == 0 || i + 1 == n))
            progress(progress_ctx, i + 1, n);
    }
    if (audit_target) {
        char summary[256];
        snprintf(summary, sizeof summary, "{\"written\":%zu,\"unchanged\":%zu,\"features\":%zu}",
                 out->written, out->unchanged, n);
        if (cg_store_audit_append(s, "grid.import", audit_target, summary, err) != 0) {
            cg_store_rollback(s);
            memset(out, 0, sizeof *out);
            return -1;
        }
    }
    if (cg_store_commit(s, err) != 0) {
        cg_store_rollback(s);
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

/* ---- the topology check ---- */

typedef struct {
    const char *code;
    size_t index;
} code_pos;

static int cmp_code_pos(const void *a, const void *b)
{
    return strcmp(((const code_pos *)a)->code, ((const code_pos *)b)->code);
}

static long find_code(const code_pos *sorted, size_t n, const char *code)
{
    code_pos key = {code, 0};
    const code_pos *hit = bsearch(&key, sorted, n, sizeof key, cmp_code_pos);
    return hit ? (long)hit->index : -1;
}

/* The stored grids the check reads besides the imported ones. */
typedef struct {
    cg_grid *grids;
    long *parent; /* index in the whole item array, -1 for a root */
    int *is_parent;
    size_t n, cap;
    const code_pos *imported; /* sorted codes of the import, to skip their stored versions */
    size_t n_imported;
    long child_parent; /* the parent index for grids added by the list callback */
} context;

static void context_add(context *c, const cg_grid *g, long parent, int is_parent)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->grids = realloc(c->grids, c->cap * sizeof *c->grids);
        c->parent = realloc(c->parent, c->cap * sizeof *c->parent);
        c->is_parent = realloc(c->is_parent, c->cap * sizeof *c->is_parent);
        if (!c->grids || !c->parent || !c->is_parent)
            abort();
    }
    cg_grid_init(&c->grids[c->n]);
    cg_grid_copy(&c->grids[c->n], g);
    c->parent[c->n] = parent;
    c->is_parent[c->n] = is_parent;
    c->n++;
}

static int context_child(void *ctx, const cg_grid *g)
{
    context *c = ctx;
    if (find_code(c->imported, c->n_imported, g->code) < 0)
        context_add(c, g, c->child_parent, 0);
    return 0;
}

static void context_free(context *c)
{
    for (size_t i = 0; i < c->n; i++)
        cg_grid_free(&c->grids[i]);
    free(c->grids);
    free(c->parent);
    free(c->is_parent);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cg_grid_import_check(cg_store *s, const cg_scope *scope, const cg_grid *grids, size_t n,
                         const cg_topology_opts *opts, cg_grid_import_finding **out, size_t *n_out,
                         cg_err *err)
{
    *out = NULL;
    *n_out = 0;
    code_pos *sorted = malloc(sizeof *sorted * (n ? n : 1));
    const char **parents = malloc(sizeof *parents * (n ? n : 1));
    if (!sorted || !parents) {
        free(sorted);
        free(parents);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory checking %zu grids", n);
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = (code_pos){grids[i].code, i};
    qsort(sorted, n, sizeof *sorted, cmp_code_pos);

    context c = {0};
    c.imported = sorted;
    c.n_imported = n;
    int rc = 0;
    /* Stored parents the import names but does not hold, each once, with their other children. */
    size_t n_parents = 0;
    for (size_t i = 0; i < n; i++)
        if (grids[i].parent_code[0] && find_code(sorted, n, grids[i].parent_code) < 0)
            parents[n_parents++] = grids[i].parent_code;
    qsort(parents, n_parents, sizeof *parents, cmp_str);
    for (size_t k = 0; k < n_parents && rc == 0; k++) {
        if (k > 0 && strcmp(parents[k], parents[k - 1]) == 0)
            continue;
        cg_grid p;
        cg_err e;
        cg_grid_init(&p);
        if (cg_store_grid_read(s, scope ? scope : &cg_scope_all, parents[k], 0, 1, &p, &e) == 0) {
            context_add(&c, &p, -1, 1);
            cg_grid_filter f = {0};
            f.parent_code = parents[k];
            f.with_geom = 1;
            f.scope = scope;
            c.child_parent = (long)(n + c.n - 1);
            rc = cg_store_grid_list(s, &f, context_child, &c, err);
        } else if (e.code != CG_ENOTFOUND) {
            *err = e;
            rc = -1;
        }
        cg_grid_free(&p);
    }
    /* Stored children of imported grids that the import leaves as they are. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        cg_grid_filter f = {0};
        f.parent_code = grids[i].code;
        f.with_geom = 1;
        f.scope = scope;
        c.child_parent = (long)i;
        rc = cg_store_grid_list(s, &f, context_child, &c, err);
    }

    size_t total = n + c.n;
    cg_topo_item *items = rc == 0 ? malloc(sizeof *items * (total ? total : 1)) : NULL;
    if (rc == 0 && !items)
        rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory checking %zu grids", total);
    cg_finding *found = NULL;
    size_t n_found = 0;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            long p = grids[i].parent_code[0] ? find_code(sorted, n, grids[i].parent_code) : -1;
            if (p < 0 && grids[i].parent_code[0])
                for (size_t k = 0; k < c.n; k++)
                    if (c.is_parent[k] && strcmp(c.grids[k].code, grids[i].parent_code) == 0) {
                        p = (long)(n + k);
                        break;
                    }
            items[i] = (cg_topo_item){grids[i].code, p, &grids[i].geom};
        }
        for (size_t k = 0; k < c.n; k++)
            items[n + k] = (cg_topo_item){c.grids[k].code, c.parent[k], &c.grids[k].geom};
        rc = cg_topology_check(items, total, opts, &found, &n_found, err);
    }
    if (rc == 0) {
        cg_grid_import_finding *kept = calloc(n_found ? n_found : 1, sizeof *kept);
        if (!kept) {
            rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory for %zu findings", n_found);
        } else {
            size_t m = 0;
            for (size_t i = 0; i < n_found; i++) {
                cg_finding *f = &found[i];
                int item_imported = f->item >= 0 && (size_t)f->item < n;
                int other_imported = f->other >= 0 && (size_t)f->other < n;
                int stored_gap = f->kind == CG_FINDING_GAP && f->item >= (long)n &&
                                 c.is_parent[f->item - (long)n];
                if (!item_imported && !other_imported && !stored_gap)
                    continue;
                cg_grid_import_finding *k = &kept[m++];
                k->f = *f;
                memset(&f->geom, 0, sizeof f->geom); /* moved */
                snprintf(k->code, sizeof k->code, "%s", items[f->item].code);
                if (f->other >= 0) {
                    snprintf(k->other_code, sizeof k->other_code, "%s", items[f->other].code);
                    k->other_stored = !other_imported;
                }
            }
            *out = kept;
            *n_out = m;
        }
    }
    cg_findings_free(found, n_found);
    free(items);
    context_free(&c);
    free(sorted);
    free(parents);
    return rc;
}

void cg_grid_import_findings_free(cg_grid_import_finding *f, size_t n)
{
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        cg_mpoly_free(&f[i].f.geom);
    free(f);
}
