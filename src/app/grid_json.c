/*
 * Grids as JSON: see grid_json.h. Written straight into a cg_buf with no intermediate tree, since
 * the server answers grid lookups on its hot path and lists of thousands of grids with geometry;
 * the writer must cost little more than the bytes it produces.
 */
#include "app/grid_json.h"

#include <assert.h>
#include <inttypes.h>

#include "core/log.h"
#include "geo/geojson.h"

/* Seven decimals keep centimetres, which is finer than any grid boundary is surveyed. */
#define GRID_JSON_PRECISION 7

static void write_id_or_null(cg_buf *b, int64_t id)
{
    if (id > 0)
        cg_buf_printf(b, "%" PRId64, id);
    else
        cg_buf_puts(b, "null");
}

static void write_time_or_null(cg_buf *b, int64_t t)
{
    if (t <= 0) {
        cg_buf_puts(b, "null");
        return;
    }
    char iso[21];
    cg_time_iso8601(t, iso);
    cg_buf_putc(b, '"');
    cg_buf_puts(b, iso);
    cg_buf_putc(b, '"');
}

void cg_grid_write_fields(cg_buf *b, const cg_grid *g, int with_geom, cg_crs crs)
{
    assert(b && g);
    cg_buf_puts(b, "\"code\":");
    cg_json_write_string(b, g->code);
    cg_buf_puts(b, ",\"parent\":");
    if (g->parent_code[0])
        cg_json_write_string(b, g->parent_code);
    else
        cg_buf_puts(b, "null");
    cg_buf_puts(b, ",\"level\":");
    cg_json_write_string(b, cg_level_name(g->level));
    cg_buf_puts(b, ",\"name_zh\":");
    cg_json_write_string(b, g->name_zh);
    cg_buf_puts(b, ",\"name_en\":");
    cg_json_write_string(b, g->name_en);
    cg_buf_puts(b, ",\"grade\":");
    if (g->grade != CG_GRADE_NONE)
        cg_json_write_string(b, cg_grade_name(g->grade));
    else
        cg_buf_puts(b, "null");
    if (g->households >= 0)
        cg_buf_printf(b, ",\"households\":%d", g->households);
    else
        cg_buf_puts(b, ",\"households\":null");
    cg_buf_printf(b, ",\"area_m2\":%.1f,\"team\":{\"leader\":", g->area_m2);
    write_id_or_null(b, g->leader_id);
    cg_buf_puts(b, ",\"deputy\":");
    write_id_or_null(b, g->deputy_id);
    cg_buf_puts(b, ",\"members\":[");
    for (size_t i = 0; i < g->n_members; i++) {
        if (i)
            cg_buf_putc(b, ',');
        cg_buf_printf(b, "%" PRId64, g->member_ids[i]);
    }
    cg_buf_puts(b, "]},\"valid_from\":");
    write_time_or_null(b, g->valid_from);
    cg_buf_puts(b, ",\"valid_to\":");
    write_time_or_null(b, g->valid_to);
    if (with_geom && g->geom.n_polys > 0) {
        cg_buf_puts(b, ",\"geometry\":");
        cg_geojson_write_mpoly(b, &g->geom, crs, GRID_JSON_PRECISION);
    }
}

void cg_grid_write_json(cg_buf *b, const cg_grid *g, int with_geom, cg_crs crs)
{
    cg_buf_putc(b, '{');
    cg_grid_write_fields(b, g, with_geom, crs);
    cg_buf_putc(b, '}');
}

void cg_grid_write_feature(cg_buf *b, const cg_grid *g, cg_crs crs)
{
    cg_buf_puts(b, "{\"type\":\"Feature\",\"id\":");
    cg_json_write_string(b, g->code);
    cg_buf_puts(b, ",\"properties\":{");
    cg_grid_write_fields(b, g, 0, crs);
    cg_buf_puts(b, "},\"geometry\":");
    if (g->geom.n_polys > 0)
        cg_geojson_write_mpoly(b, &g->geom, crs, GRID_JSON_PRECISION);
    else
        cg_buf_puts(b, "null");
    cg_buf_putc(b, '}');
}
