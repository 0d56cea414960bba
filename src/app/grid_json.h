/*
 * Grids as JSON for the API and the command line: a grid object, a GeoJSON Feature, and whole
 * collections, written straight into a cg_buf (no intermediate tree, so large lists stay fast).
 * Coordinates are converted from WGS84 to the requested crs on the way out.
 */
#ifndef CG_APP_GRID_JSON_H
#define CG_APP_GRID_JSON_H

#include "core/buf.h"
#include "geo/crs.h"
#include "model/grid.h"

/* {"code":..,"parent":..,"level":..,"name_zh":..,"name_en":..,"grade":..,"households":..,
 *  "area_m2":..,"team":{"leader":..,"deputy":..,"members":[..]},"valid_from":..,"valid_to":..,
 *  "geometry":{...}} -- geometry only when with_geom and g->geom has polygons. */
void cg_grid_write_json(cg_buf *b, const cg_grid *g, int with_geom, cg_crs crs);
/* The members of that object without the enclosing braces, so a caller can add its own (the
 * API's tree view appends "children"). */
void cg_grid_write_fields(cg_buf *b, const cg_grid *g, int with_geom, cg_crs crs);
/* {"type":"Feature","id":code,"properties":{...same fields...},"geometry":{...}} */
void cg_grid_write_feature(cg_buf *b, const cg_grid *g, cg_crs crs);

#endif
