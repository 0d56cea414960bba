/*
 * What a map of a district holds besides grids: roads (as OSM-like ways over shared node ids, so
 * the road-network issue can build a graph from them), buildings with household counts, points of
 * interest of the key-unit kinds (schools, hospitals, markets, utilities, stations, hazardous-
 * material stores) and administrative boundaries read from OSM. Places only, never people:
 * buildings carry a household count and nothing about who lives there.
 */
#ifndef CG_MODEL_PLACE_H
#define CG_MODEL_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "geo/geom.h"

/* Road classes, ordered from most to least important; names follow OSM's highway=* values. */
typedef enum {
    CG_ROAD_MOTORWAY = 1,
    CG_ROAD_TRUNK,
    CG_ROAD_PRIMARY,
    CG_ROAD_SECONDARY,
    CG_ROAD_TERTIARY,
    CG_ROAD_UNCLASSIFIED,
    CG_ROAD_RESIDENTIAL,
    CG_ROAD_SERVICE,
    CG_ROAD_LIVING_STREET,
    CG_ROAD_PEDESTRIAN,
    CG_ROAD_FOOTWAY,
    CG_ROAD_CYCLEWAY,
    CG_ROAD_PATH,
    CG_ROAD_TRACK,
    CG_ROAD_STEPS,
    CG_ROAD_OTHER
} cg_road_class;

/* OSM highway value -> class; 0 when the value is not a road civgrid keeps (e.g. "proposed"). */
cg_road_class cg_road_class_from_osm(const char *highway);
const char *cg_road_class_name(cg_road_class c);

typedef struct {
    int64_t id;
    cg_road_class road_class;
    int oneway;        /* 0 both ways, 1 along the node order, -1 against it */
    int maxspeed_kmh;  /* 0 when not tagged */
    char access[16];   /* "" or OSM access value: "no", "private", "destination", ... */
    char name_zh[128]; /* "" when none */
    char name_en[128];
    size_t n;          /* number of nodes */
    int64_t *node_ids; /* owned; shared ids make intersections */
    cg_point *pts;     /* owned; coordinates of node_ids */
} cg_way;

typedef struct {
    int64_t id;
    char kind[32]; /* "residential", "commercial", "school", ... or "yes" */
    char name_zh[128];
    char name_en[128];
    int households; /* a count; 0 when not residential, -1 when unknown */
    int levels;     /* storeys; 0 when unknown */
    cg_mpoly geom;  /* owned */
} cg_building;

/* Kinds of points of interest follow PRODUCT.md's key units and key sites. */
typedef struct {
    int64_t id;
    char kind[32]; /* school, kindergarten, hospital, market, hotel, water, power, gas, heating,
                      telecom, finance, hazmat, rail_station, bus_stop, police, fire_station,
                      square, ... */
    char name_zh[128];
    char name_en[128];
    cg_point at;
} cg_poi;

typedef struct {
    int64_t id;
    int admin_level; /* OSM admin_level (2..11) */
    char name_zh[128];
    char name_en[128];
    char ref[32];  /* administrative code when tagged */
    cg_mpoly geom; /* owned */
} cg_boundary;

void cg_way_free(cg_way *w);
void cg_building_free(cg_building *b);
void cg_boundary_free(cg_boundary *b);

#endif
