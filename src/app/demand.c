/* Buildings for planning: see demand.h. */
#include "app/demand.h"

#include <stdlib.h>

typedef struct {
    cg_coverage_building *v;
    size_t n, cap;
} building_list;

static int on_building(void *ctx, const cg_building *b)
{
    building_list *a = ctx;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        cg_coverage_building *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = (cg_coverage_building){cg_mpoly_centroid(&b->geom), b->households};
    return 0;
}

int cg_app_buildings_load(cg_store *s, cg_coverage_building **out, size_t *n, cg_err *err)
{
    building_list a = {0};
    if (cg_store_building_each(s, NULL, on_building, &a, err) != 0) {
        free(a.v);
        return -1;
    }
    *out = a.v;
    *n = a.n;
    return 0;
}
