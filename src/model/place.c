/*
 * Places: the owned-memory helpers and the road-class vocabulary declared in place.h. The road
 * classes follow OSM's highway=* values so that an OSM import and the demo generator speak the
 * same words; link roads (motorway_link, ...) share the class of the road they connect, because
 * for patrol reachability a ramp is as fast as its road.
 */
#include "model/place.h"

#include <stdlib.h>
#include <string.h>

void cg_way_free(cg_way *w)
{
    if (!w)
        return;
    free(w->node_ids);
    free(w->pts);
    w->node_ids = NULL;
    w->pts = NULL;
    w->n = 0;
}

void cg_building_free(cg_building *b)
{
    if (b)
        cg_mpoly_free(&b->geom);
}

void cg_boundary_free(cg_boundary *b)
{
    if (b)
        cg_mpoly_free(&b->geom);
}

static const struct {
    const char *osm;
    cg_road_class road_class;
} road_classes[] = {
    {"motorway", CG_ROAD_MOTORWAY},
    {"motorway_link", CG_ROAD_MOTORWAY},
    {"trunk", CG_ROAD_TRUNK},
    {"trunk_link", CG_ROAD_TRUNK},
    {"primary", CG_ROAD_PRIMARY},
    {"primary_link", CG_ROAD_PRIMARY},
    {"secondary", CG_ROAD_SECONDARY},
    {"secondary_link", CG_ROAD_SECONDARY},
    {"tertiary", CG_ROAD_TERTIARY},
    {"tertiary_link", CG_ROAD_TERTIARY},
    {"unclassified", CG_ROAD_UNCLASSIFIED},
    {"residential", CG_ROAD_RESIDENTIAL},
    {"service", CG_ROAD_SERVICE},
    {"living_street", CG_ROAD_LIVING_STREET},
    {"pedestrian", CG_ROAD_PEDESTRIAN},
    {"footway", CG_ROAD_FOOTWAY},
    {"cycleway", CG_ROAD_CYCLEWAY},
    {"path", CG_ROAD_PATH},
    {"bridleway", CG_ROAD_PATH},
    {"track", CG_ROAD_TRACK},
    {"steps", CG_ROAD_STEPS},
    /* Built roads whose class the mapper did not know yet. */
    {"road", CG_ROAD_OTHER},
    {"busway", CG_ROAD_OTHER},
};

cg_road_class cg_road_class_from_osm(const char *highway)
{
    if (!highway)
        return 0;
    for (size_t i = 0; i < sizeof road_classes / sizeof road_classes[0]; i++)
        if (strcmp(highway, road_classes[i].osm) == 0)
            return road_classes[i].road_class;
    /* proposed, construction, abandoned, platform, raceway, ...: not usable roads. */
    return 0;
}

const char *cg_road_class_name(cg_road_class c)
{
    if (c == CG_ROAD_OTHER)
        return "other";
    /* The first entry of each class in the table is its plain (non-link) name. */
    for (size_t i = 0; i < sizeof road_classes / sizeof road_classes[0]; i++)
        if (road_classes[i].road_class == c)
            return road_classes[i].osm;
    return "";
}
