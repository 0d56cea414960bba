/*
 * The demo district generator: a fictional but plausible Chinese urban district (明湖区, Minghu
 * District) made from nothing but a seed, for `civgrid demo`, the tests and the benchmarks.
 * Pure computation: it fills in-memory arrays of grids, roads, buildings and points of interest;
 * src/cli/demo.c writes them through the store.
 *
 * Everything is built on one jittered lattice of blocks, so every region is a union of lattice
 * cells and neighbours share identical edges: streets are rectangles of cells, communities split
 * streets into rectangles, grids split communities into runs of whole blocks holding 150-300
 * households each. Every lattice line is a road, with node ids shared at intersections. The same
 * seed always gives the same district, on any machine (own PRNG, no rand()).
 *
 * No person data: buildings and grids carry household counts only.
 */
#ifndef CG_MODEL_DEMO_H
#define CG_MODEL_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/grid.h"
#include "model/place.h"

typedef enum {
    CG_DEMO_SMALL = 1, /* ~4 streets, ~20 communities, ~60k residents: a few seconds */
    CG_DEMO_CITY = 2   /* ~40 streets, ~400 communities, ~2M residents, >= 1M road nodes */
} cg_demo_size;

/* "small" / "city". */
int cg_demo_size_parse(const char *s, cg_demo_size *out, cg_err *err);
const char *cg_demo_size_name(cg_demo_size size);

/* Called between the stages of generation ("blocks", "grids", "buildings", "roads", "places")
 * so the command line can show progress for the city size. */
typedef void (*cg_demo_progress_fn)(void *ctx, const char *stage);

typedef struct {
    /* The grid hierarchy, parents before children: the district, its streets, communities and
     * grids. Codes follow model/grid.h and are numbered west->east, north->south. */
    cg_grid *grids;
    size_t n_grids;
    cg_way *ways; /* roads: lattice roads (primary, secondary, residential) and compound roads
                     (service ring and cross, footways) inside residential blocks */
    size_t n_ways;
    cg_building *buildings;
    size_t n_buildings;
    cg_poi *pois;
    size_t n_pois;
    /* Summary figures. */
    size_t n_streets, n_communities, n_leaf_grids;
    int64_t households; /* sum over buildings (and over leaf grids) */
    int64_t residents;  /* households x 2.5, rounded: a count only */
    int64_t road_nodes; /* distinct road node ids */
} cg_demo;

/*
 * Generates the district for a seed and size into *out (zeroed first; free with cg_demo_free).
 * progress may be NULL. Fails only on an unknown size or an internal inconsistency (CG_EINTERNAL).
 */
int cg_demo_generate(uint64_t seed, cg_demo_size size, cg_demo_progress_fn progress, void *ctx,
                     cg_demo *out, cg_err *err);
void cg_demo_free(cg_demo *d);

#endif
