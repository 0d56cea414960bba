/*
 * Synthetic geometric covering instances (see cover_synth.h). Demand points are bucketed in a
 * uniform grid of cells one radius wide, so building the coverage lists costs O(n_cand * points
 * in 3x3 cells) rather than O(n_cand * n_demand): 20k candidates over 100k points take well
 * under a second.
 */
#include "plan/cover_synth.h"

#include <stdlib.h>
#include <string.h>

static uint64_t synth_next(uint64_t *state) /* xorshift64* */
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ull;
}

static double synth_uniform(uint64_t *state)
{
    return (double)(synth_next(state) >> 11) / 9007199254740992.0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void cg_cover_synth_free(cg_cover_synth *s)
{
    if (!s)
        return;
    free(s->weight);
    free(s->cover_start);
    free(s->cover);
    free(s->fixed);
    memset(s, 0, sizeof *s);
}

int cg_cover_synth_make(const cg_cover_synth_opts *o, cg_cover_synth *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!(o->side > 0) || !(o->radius > 0) || o->n_fixed > o->n_cand)
        return cg_err_set(err, CG_EINVAL, "synth",
                          "side and radius must be > 0, n_fixed <= n_cand");
    uint64_t rng = o->seed ? o->seed : 1;
    size_t n = o->n_demand, m = o->n_cand;
    size_t cells = (size_t)(o->side / o->radius) + 1;
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    size_t *cell_start = calloc(cells * cells + 1, sizeof *cell_start);
    uint32_t *by_cell = malloc((n ? n : 1) * sizeof *by_cell);
    size_t *fill = malloc((cells * cells + 1) * sizeof *fill);
    out->weight = malloc((n ? n : 1) * sizeof *out->weight);
    out->cover_start = malloc((m + 1) * sizeof *out->cover_start);
    out->fixed = calloc(m ? m : 1, 1);
    size_t cap = 1024, nnz = 0;
    out->cover = malloc(cap * sizeof *out->cover);
    int rc = -1;
    if (!x || !y || !cell_start || !by_cell || !fill || !out->weight || !out->cover_start ||
        !out->fixed || !out->cover) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = synth_uniform(&rng) * o->side;
        y[i] = synth_uniform(&rng) * o->side;
        out->weight[i] =
            o->max_weight > 0 ? 1 + (double)(synth_next(&rng) % (uint64_t)o->max_weight) : 1.0;
        size_t cx = (size_t)(x[i] / o->radius), cy = (size_t)(y[i] / o->radius);
        cell_start[cy * cells + cx + 1]++;
    }
    for (size_t c = 0; c < cells * cells; c++)
        cell_start[c + 1] += cell_start[c];
    memcpy(fill, cell_start, (cells * cells + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        size_t cx = (size_t)(x[i] / o->radius), cy = (size_t)(y[i] / o->radius);
        by_cell[fill[cy * cells + cx]++] = (uint32_t)i;
    }
    double r2 = o->radius * o->radius;
    out->cover_start[0] = 0;
    for (size_t j = 0; j < m; j++) {
        double px = synth_uniform(&rng) * o->side, py = synth_uniform(&rng) * o->side;
        long cx = (long)(px / o->radius), cy = (long)(py / o->radius);
        size_t first = nnz;
        for (long gy = cy - 1; gy <= cy + 1; gy++)
            for (long gx = cx - 1; gx <= cx + 1; gx++) {
                if (gx < 0 || gy < 0 || gx >= (long)cells || gy >= (long)cells)
                    continue;
                size_t c = (size_t)gy * cells + (size_t)gx;
                for (size_t k = cell_start[c]; k < cell_start[c + 1]; k++) {
                    uint32_t i = by_cell[k];
                    double dx = x[i] - px, dy = y[i] - py;
                    if (dx * dx + dy * dy > r2)
                        continue;
                    if (nnz == cap) {
                        uint32_t *c2 = realloc(out->cover, cap * 2 * sizeof *c2);
                        if (!c2) {
                            cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
                            goto done;
                        }
                        out->cover = c2;
                        cap *= 2;
                    }
                    out->cover[nnz++] = i;
                }
            }
        qsort(out->cover + first, nnz - first, sizeof *out->cover, compare_u32);
        out->cover_start[j + 1] = nnz;
        out->fixed[j] = j < o->n_fixed;
    }
    out->inst.n_demand = n;
    out->inst.weight = out->weight;
    out->inst.n_cand = m;
    out->inst.cover_start = out->cover_start;
    out->inst.cover = out->cover;
    out->inst.fixed = o->n_fixed ? out->fixed : NULL;
    rc = 0;
done:
    free(x);
    free(y);
    free(cell_start);
    free(by_cell);
    free(fill);
    if (rc < 0)
        cg_cover_synth_free(out);
    return rc;
}
