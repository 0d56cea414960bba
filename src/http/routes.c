/*
 * The server's whole route table, assembled from each area's own table (grids in api_v1.c, and
 * further areas as they arrive) so that areas can be written side by side without editing one
 * shared array. Tables are searched in the order listed here, each in its own order; an area
 * owns its path prefixes, so no pattern of one table shadows another's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

typedef struct {
    const cg_route *routes;
    const size_t *count;
} route_table;

static const route_table tables[] = {
    {cg_api_routes, &cg_api_routes_count},   {cg_access_routes, &cg_access_routes_count},
    {cg_plan_routes, &cg_plan_routes_count}, {cg_net_routes, &cg_net_routes_count},
    {cg_case_routes, &cg_case_routes_count}, {cg_open311_routes, &cg_open311_routes_count},
    {cg_map_routes, &cg_map_routes_count},   {cg_import_routes, &cg_import_routes_count},
};

static cg_route *merged;
static size_t merged_count;
static pthread_once_t merged_once = PTHREAD_ONCE_INIT;

static void merge(void)
{
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        n += *tables[t].count;
    merged = malloc(sizeof(cg_route) * (n ? n : 1));
    if (!merged)
        abort();
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        memcpy(merged + merged_count, tables[t].routes, sizeof(cg_route) * *tables[t].count);
        merged_count += *tables[t].count;
    }
}

const cg_route *cg_http_routes(size_t *count)
{
    pthread_once(&merged_once, merge);
    *count = merged_count;
    return merged;
}
