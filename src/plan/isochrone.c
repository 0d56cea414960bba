/*
 * Isochrones (isochrone.h): one bounded search from the start, the reached pieces of every
 * touched segment from segtime.c, and optionally a GEOS buffer of those pieces in a local
 * equirectangular plane (metres) centred on the start.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geos.h"
#include "plan/isochrone.h"

typedef struct {
    double lon0, lat0, mx, my; /* metres per degree */
} plane;

static plane plane_at(cg_point o)
{
    double my = CG_EARTH_RADIUS_M * M_PI / 180;
    return (plane){o.x, o.y, my * cos(o.y * M_PI / 180), my};
}

static int polygon(const cg_segs *segs, cg_isochrone *iso, double buffer_m, cg_err *err)
{
    cg_geos gg;
    if (cg_geos_init(&gg, err) != 0)
        return -1;
    GEOSContextHandle_t h = gg.handle;
    plane pl = plane_at(iso->origin);
    int rc = -1;
    size_t n = iso->n_pieces;
    GEOSGeometry **lines = malloc((n + 1) * sizeof *lines);
    GEOSGeometry *multi = NULL, *buf = NULL;
    if (!lines) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory for the isochrone area");
        goto done;
    }
    /* Each piece buffered on its own (a few dozen vertices), then one cascaded union: far
     * faster than buffering the whole MultiLineString, whose overlay of thousands of touching
     * segments takes minutes. */
    for (size_t i = 0; i < n; i++) {
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 2, 2);
        const cg_coverage_piece *p = &iso->pieces[i];
        cg_point a = cg_segs_point(segs, p->seg, p->lo), b = cg_segs_point(segs, p->seg, p->hi);
        GEOSCoordSeq_setXY_r(h, cs, 0, (a.x - pl.lon0) * pl.mx, (a.y - pl.lat0) * pl.my);
        GEOSCoordSeq_setXY_r(h, cs, 1, (b.x - pl.lon0) * pl.mx, (b.y - pl.lat0) * pl.my);
        GEOSGeometry *line = GEOSGeom_createLineString_r(h, cs);
        lines[i] = line ? GEOSBuffer_r(h, line, buffer_m, 2) : NULL;
        if (line)
            GEOSGeom_destroy_r(h, line);
        if (!lines[i]) {
            for (size_t k = 0; k < i; k++)
                GEOSGeom_destroy_r(h, lines[k]);
            free(lines);
            cg_geos_fail(&gg, err, "buffer the reached roads");
            goto done;
        }
    }
    multi = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, lines, (unsigned)n);
    free(lines);
    if (!multi || !(buf = GEOSUnaryUnion_r(h, multi))) {
        cg_geos_fail(&gg, err, "join the buffered roads");
        goto done;
    }
    memset(&iso->polygon, 0, sizeof iso->polygon);
    if (cg_geos_to_mpoly(&gg, buf, &iso->polygon, err) != 0)
        goto done;
    for (size_t p = 0; p < iso->polygon.n_polys; p++)
        for (size_t r = 0; r < iso->polygon.polys[p].n_rings; r++) {
            cg_ring *ring = &iso->polygon.polys[p].rings[r];
            for (size_t k = 0; k < ring->n; k++)
                ring->pts[k] =
                    (cg_point){pl.lon0 + ring->pts[k].x / pl.mx, pl.lat0 + ring->pts[k].y / pl.my};
        }
    iso->has_polygon = 1;
    iso->polygon_m2 = cg_mpoly_area_m2(&iso->polygon);
    rc = 0;
done:
    if (buf)
        GEOSGeom_destroy_r(h, buf);
    if (multi)
        GEOSGeom_destroy_r(h, multi);
    cg_geos_finish(&gg);
    return rc;
}

int cg_isochrone_compute(cg_segtimes *st, cg_search *s, const cg_snap *at, double budget_s,
                         double buffer_m, cg_isochrone *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (cg_coverage_check_budget(budget_s, "budget", err) != 0)
        return -1;
    out->budget_s = budget_s;
    out->origin = at->at;
    if (cg_search_bounded(s, at, 1, budget_s, CG_FORWARD, err) != 0 ||
        cg_segtimes_collect(st, s, at, 1, budget_s, err) != 0)
        return -1;
    out->reached_nodes = cg_search_reached_count(s);
    size_t cap = 0;
    for (size_t k = 0; k < st->n_touched; k++) {
        uint32_t i = st->touched[k];
        double lo[8], hi[8];
        size_t m = cg_segtimes_within(st, i, budget_s, lo, hi, 8);
        if (out->n_pieces + m > cap) {
            cap = cap * 2 + m + 64;
            cg_coverage_piece *p = realloc(out->pieces, cap * sizeof *p);
            if (!p) {
                cg_isochrone_free(out);
                return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for the isochrone");
            }
            out->pieces = p;
        }
        for (size_t j = 0; j < m; j++) {
            out->pieces[out->n_pieces++] = (cg_coverage_piece){i, lo[j], hi[j]};
            out->metres += (hi[j] - lo[j]) * st->segs->seg[i].metres;
        }
    }
    if (buffer_m > 0 && out->n_pieces && polygon(st->segs, out, buffer_m, err) != 0) {
        cg_isochrone_free(out);
        return -1;
    }
    return 0;
}

void cg_isochrone_free(cg_isochrone *iso)
{
    free(iso->pieces);
    if (iso->has_polygon)
        cg_mpoly_free(&iso->polygon);
    memset(iso, 0, sizeof *iso);
}

void cg_isochrone_geojson(const cg_segs *segs, const cg_isochrone *iso, cg_buf *b)
{
    cg_buf_printf(b,
                  "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                  "\"properties\":{\"kind\":\"network\",\"budget_s\":%g,\"metres\":%.1f,"
                  "\"origin\":[%.7f,%.7f]},\"geometry\":{\"type\":\"MultiLineString\","
                  "\"coordinates\":[",
                  iso->budget_s, iso->metres, iso->origin.x, iso->origin.y);
    for (size_t i = 0; i < iso->n_pieces; i++) {
        const cg_coverage_piece *p = &iso->pieces[i];
        cg_point a = cg_segs_point(segs, p->seg, p->lo), z = cg_segs_point(segs, p->seg, p->hi);
        cg_buf_printf(b, "%s[[%.7f,%.7f],[%.7f,%.7f]]", i ? "," : "", a.x, a.y, z.x, z.y);
    }
    cg_buf_puts(b, "]}}");
    if (iso->has_polygon) {
        cg_buf_printf(b,
                      ",{\"type\":\"Feature\",\"properties\":{\"kind\":\"area\",\"budget_s\":%g,"
                      "\"area_m2\":%.0f},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[",
                      iso->budget_s, iso->polygon_m2);
        for (size_t p = 0; p < iso->polygon.n_polys; p++) {
            cg_buf_puts(b, p ? ",[" : "[");
            for (size_t r = 0; r < iso->polygon.polys[p].n_rings; r++) {
                const cg_ring *ring = &iso->polygon.polys[p].rings[r];
                cg_buf_puts(b, r ? ",[" : "[");
                for (size_t k = 0; k < ring->n; k++)
                    cg_buf_printf(b, "%s[%.7f,%.7f]", k ? "," : "", ring->pts[k].x, ring->pts[k].y);
                cg_buf_putc(b, ']');
            }
            cg_buf_putc(b, ']');
        }
        cg_buf_puts(b, "]}}");
    }
    cg_buf_puts(b, "]}");
}
