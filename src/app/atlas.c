/*
 * The atlas: every current grid in memory with a locate index. See atlas.h.
 *
 * Locate finds every grid polygon containing the point through the index (one per level in a
 * clean hierarchy), takes the deepest one and walks parent links to the root, so the path always
 * follows the stored hierarchy even where the topology check would complain (a child poking out
 * of its parent still reports its real parent).
 */
#include "app/atlas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geojson.h"
#include "geo/locindex.h"

struct cg_atlas {
    cg_grid *grids;
    size_t n, cap;
    long *parent;
    /* open-addressing hash code -> index + 1 (0 = empty slot) */
    size_t *slots;
    size_t n_slots;
    cg_locindex *index;
    int64_t generation;
};

static size_t hash_code(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int collect(void *ctx, const cg_grid *g)
{
    cg_atlas *a = ctx;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        cg_grid *grown = realloc(a->grids, sizeof(cg_grid) * a->cap);
        if (!grown)
            abort();
        a->grids = grown;
    }
    cg_grid_copy(&a->grids[a->n++], g);
    return 0;
}

long cg_atlas_find(const cg_atlas *a, const char *code)
{
    if (!a->n_slots)
        return -1;
    for (size_t i = hash_code(code) & (a->n_slots - 1);; i = (i + 1) & (a->n_slots - 1)) {
        size_t v = a->slots[i];
        if (!v)
            return -1;
        if (strcmp(a->grids[v - 1].code, code) == 0)
            return (long)(v - 1);
    }
}

long cg_atlas_find_in(const cg_atlas *a, const cg_scope *scope, const char *code)
{
    return cg_scope_contains(scope, code) ? cg_atlas_find(a, code) : -1;
}

int cg_atlas_load(cg_store *s, int64_t at, cg_atlas **out, cg_err *err)
{
    cg_atlas *a = calloc(1, sizeof *a);
    if (!a)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory loading grids");
    a->generation = cg_store_grid_generation(s);
    cg_grid_filter f = {0};
    f.with_geom = 1;
    f.at = at;
    if (cg_store_grid_list(s, &f, collect, a, err) != 0) {
        cg_atlas_free(a);
        return -1;
    }
    a->n_slots = 16;
    while (a->n_slots < a->n * 2 + 1)
        a->n_slots *= 2;
    a->slots = calloc(a->n_slots, sizeof(size_t));
    a->parent = malloc(sizeof(long) * (a->n ? a->n : 1));
    if (!a->slots || !a->parent) {
        cg_atlas_free(a);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory indexing grids");
    }
    for (size_t k = 0; k < a->n; k++) {
        size_t i = hash_code(a->grids[k].code) & (a->n_slots - 1);
        while (a->slots[i])
            i = (i + 1) & (a->n_slots - 1);
        a->slots[i] = k + 1;
    }
    for (size_t k = 0; k < a->n; k++)
        a->parent[k] = a->grids[k].parent_code[0] ? cg_atlas_find(a, a->grids[k].parent_code) : -1;

    const cg_mpoly **polys = malloc(sizeof(cg_mpoly *) * (a->n ? a->n : 1));
    if (!polys) {
        cg_atlas_free(a);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory indexing grids");
    }
    for (size_t k = 0; k < a->n; k++)
        polys[k] = &a->grids[k].geom;
    a->index = cg_locindex_build(polys, a->n, err);
    free(polys);
    if (!a->index) {
        cg_atlas_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

void cg_atlas_free(cg_atlas *a)
{
    if (!a)
        return;
    for (size_t k = 0; k < a->n; k++)
        cg_grid_free(&a->grids[k]);
    free(a->grids);
    free(a->parent);
    free(a->slots);
    cg_locindex_free(a->index);
    free(a);
}

size_t cg_atlas_count(const cg_atlas *a)
{
    return a->n;
}

const cg_grid *cg_atlas_grid(const cg_atlas *a, size_t i)
{
    return &a->grids[i];
}

long cg_atlas_parent(const cg_atlas *a, size_t i)
{
    return a->parent[i];
}

int64_t cg_atlas_generation(const cg_atlas *a)
{
    return a->generation;
}

size_t cg_atlas_locate(const cg_atlas *a, cg_point p, size_t *path, size_t max)
{
    size_t hits[16];
    size_t n = cg_locindex_find(a->index, p, hits, 16);
    if (n == 0)
        return 0;
    if (n > 16)
        n = 16;
    size_t best = hits[0];
    for (size_t k = 1; k < n; k++)
        if (a->grids[hits[k]].level > a->grids[best].level)
            best = hits[k];
    /* Walk up to the root, then reverse so the path reads root first. */
    size_t chain[16], depth = 0;
    for (long i = (long)best; i >= 0 && depth < 16; i = a->parent[i])
        chain[depth++] = (size_t)i;
    size_t written = depth < max ? depth : max;
    for (size_t k = 0; k < written; k++)
        path[k] = chain[depth - 1 - k];
    return written;
}

size_t cg_atlas_locate_in(const cg_atlas *a, const cg_scope *scope, cg_point p, size_t *path,
                          size_t max)
{
    size_t full[16];
    size_t depth = cg_atlas_locate(a, p, full, 16);
    /* Codes extend their parent's, so the in-scope grids are a tail of the path; each is tested
     * all the same, so a hierarchy imported against that rule cannot widen a scope. */
    size_t written = 0;
    for (size_t k = 0; k < depth && written < max; k++)
        if (cg_scope_contains(scope, a->grids[full[k]].code))
            path[written++] = full[k];
    return written;
}

int cg_atlas_check(const cg_atlas *a, const cg_topology_opts *opts, cg_finding **out, size_t *n_out,
                   cg_err *err)
{
    cg_topo_item *items = malloc(sizeof(cg_topo_item) * (a->n ? a->n : 1));
    if (!items)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory checking grids");
    for (size_t k = 0; k < a->n; k++) {
        items[k].code = a->grids[k].code;
        items[k].parent = a->parent[k];
        items[k].geom = &a->grids[k].geom;
    }
    int r = cg_topology_check(items, a->n, opts, out, n_out, err);
    free(items);
    return r;
}

static const char *code_of(const cg_atlas *a, long i)
{
    return i >= 0 && (size_t)i < a->n ? a->grids[i].code : "";
}

void cg_atlas_findings_geojson(const cg_atlas *a, const cg_finding *f, size_t n, cg_buf *out)
{
    cg_buf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t k = 0; k < n; k++) {
        const cg_finding *x = &f[k];
        if (k)
            cg_buf_putc(out, ',');
        cg_buf_puts(out, "{\"type\":\"Feature\",\"properties\":{\"kind\":");
        cg_json_write_string(out, cg_finding_kind_name(x->kind));
        cg_buf_puts(out, ",\"code\":");
        cg_json_write_string(out, code_of(a, x->item));
        cg_buf_puts(out, ",\"other_code\":");
        if (x->other >= 0)
            cg_json_write_string(out, code_of(a, x->other));
        else
            cg_buf_puts(out, "null");
        cg_buf_printf(out, ",\"area_m2\":%.2f,\"point\":[%.7f,%.7f],\"reason\":", x->area_m2,
                      x->at.x, x->at.y);
        cg_json_write_string(out, x->reason);
        cg_buf_puts(out, "},\"geometry\":");
        if (x->geom.n_polys > 0) {
            cg_geojson_write_mpoly(out, &x->geom, CG_CRS_WGS84, 7);
        } else {
            cg_buf_printf(out, "{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}", x->at.x,
                          x->at.y);
        }
        cg_buf_putc(out, '}');
    }
    cg_buf_puts(out, "]}\n");
}

void cg_atlas_findings_text(const cg_atlas *a, const cg_finding *f, size_t n, cg_buf *out)
{
    for (size_t k = 0; k < n; k++) {
        const cg_finding *x = &f[k];
        cg_buf_printf(out, "%-15s %s", cg_finding_kind_name(x->kind), code_of(a, x->item));
        if (x->other >= 0)
            cg_buf_printf(out, " / %s", code_of(a, x->other));
        cg_buf_printf(out, "  %.1f m2 at (%.7f, %.7f)  %s\n", x->area_m2, x->at.x, x->at.y,
                      x->reason);
    }
}
