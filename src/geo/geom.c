/*
 * Plain geometry: see geom.h.
 *
 * Area uses the spherical-excess formula for a ring on a sphere of the mean Earth radius
 * (Chamberlain & Duquette, "Some algorithms for polygons on a sphere", JPL 2007):
 *   A = R^2/2 * sum (lon[i+1] - lon[i]) * (2 + sin lat[i] + sin lat[i+1])
 * which is within 0.5% of the ellipsoidal area at the latitudes of Chinese cities and far
 * closer than that for the ratios (overlap area, gap area) the topology check reports.
 */
#include "geo/geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG2RAD (M_PI / 180.0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void cg_mpoly_free(cg_mpoly *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_polys; i++) {
        for (size_t j = 0; j < m->polys[i].n_rings; j++)
            free(m->polys[i].rings[j].pts);
        free(m->polys[i].rings);
    }
    free(m->polys);
    m->polys = NULL;
    m->n_polys = 0;
}

int cg_mpoly_clone(const cg_mpoly *src, cg_mpoly *dst)
{
    dst->n_polys = src->n_polys;
    dst->polys = xmalloc(sizeof(cg_polygon) * src->n_polys);
    for (size_t i = 0; i < src->n_polys; i++) {
        const cg_polygon *sp = &src->polys[i];
        cg_polygon *dp = &dst->polys[i];
        dp->n_rings = sp->n_rings;
        dp->rings = xmalloc(sizeof(cg_ring) * sp->n_rings);
        for (size_t j = 0; j < sp->n_rings; j++) {
            dp->rings[j].n = sp->rings[j].n;
            dp->rings[j].pts = xmalloc(sizeof(cg_point) * sp->rings[j].n);
            memcpy(dp->rings[j].pts, sp->rings[j].pts, sizeof(cg_point) * sp->rings[j].n);
        }
    }
    return 0;
}

void cg_mpoly_add_ring_polygon(cg_mpoly *m, const cg_point *pts, size_t n)
{
    int closed = n > 0 && pts[0].x == pts[n - 1].x && pts[0].y == pts[n - 1].y;
    size_t total = closed ? n : n + 1;
    cg_polygon *polys = realloc(m->polys, sizeof(cg_polygon) * (m->n_polys + 1));
    if (!polys)
        abort();
    m->polys = polys;
    cg_polygon *p = &m->polys[m->n_polys++];
    p->n_rings = 1;
    p->rings = xmalloc(sizeof(cg_ring));
    p->rings[0].n = total;
    p->rings[0].pts = xmalloc(sizeof(cg_point) * total);
    memcpy(p->rings[0].pts, pts, sizeof(cg_point) * n);
    if (!closed && n > 0)
        p->rings[0].pts[n] = pts[0];
}

void cg_bbox_empty(cg_bbox *b)
{
    b->min_x = b->min_y = INFINITY;
    b->max_x = b->max_y = -INFINITY;
}

void cg_bbox_extend(cg_bbox *b, cg_point p)
{
    if (p.x < b->min_x)
        b->min_x = p.x;
    if (p.x > b->max_x)
        b->max_x = p.x;
    if (p.y < b->min_y)
        b->min_y = p.y;
    if (p.y > b->max_y)
        b->max_y = p.y;
}

int cg_bbox_intersects(const cg_bbox *a, const cg_bbox *b)
{
    return a->min_x <= b->max_x && b->min_x <= a->max_x && a->min_y <= b->max_y &&
           b->min_y <= a->max_y;
}

int cg_bbox_contains(const cg_bbox *b, cg_point p)
{
    return p.x >= b->min_x && p.x <= b->max_x && p.y >= b->min_y && p.y <= b->max_y;
}

cg_bbox cg_mpoly_bbox(const cg_mpoly *m)
{
    cg_bbox b;
    cg_bbox_empty(&b);
    for (size_t i = 0; i < m->n_polys; i++)
        if (m->polys[i].n_rings > 0)
            for (size_t k = 0; k < m->polys[i].rings[0].n; k++)
                cg_bbox_extend(&b, m->polys[i].rings[0].pts[k]);
    return b;
}

static int ring_crossings(const cg_ring *r, cg_point p)
{
    int inside = 0;
    for (size_t i = 0, j = r->n ? r->n - 1 : 0; i < r->n; j = i++) {
        cg_point a = r->pts[i], b = r->pts[j];
        if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x)
            inside = !inside;
    }
    return inside;
}

int cg_mpoly_contains(const cg_mpoly *m, cg_point p)
{
    for (size_t i = 0; i < m->n_polys; i++) {
        const cg_polygon *poly = &m->polys[i];
        if (poly->n_rings == 0 || !ring_crossings(&poly->rings[0], p))
            continue;
        int in_hole = 0;
        for (size_t j = 1; j < poly->n_rings && !in_hole; j++)
            in_hole = ring_crossings(&poly->rings[j], p);
        if (!in_hole)
            return 1;
    }
    return 0;
}

double cg_ring_signed_area_m2(const cg_ring *r)
{
    double sum = 0;
    for (size_t i = 0; i + 1 < r->n; i++) {
        cg_point a = r->pts[i], b = r->pts[i + 1];
        sum += (b.x - a.x) * DEG2RAD * (2 + sin(a.y * DEG2RAD) + sin(b.y * DEG2RAD));
    }
    /* The formula gives clockwise-positive; return counter-clockwise-positive like GeoJSON. */
    return -sum * CG_EARTH_RADIUS_M * CG_EARTH_RADIUS_M / 2.0;
}

double cg_mpoly_area_m2(const cg_mpoly *m)
{
    double total = 0;
    for (size_t i = 0; i < m->n_polys; i++) {
        const cg_polygon *poly = &m->polys[i];
        for (size_t j = 0; j < poly->n_rings; j++) {
            double a = fabs(cg_ring_signed_area_m2(&poly->rings[j]));
            total += j == 0 ? a : -a;
        }
    }
    return total;
}

cg_point cg_mpoly_centroid(const cg_mpoly *m)
{
    /* Planar centroid in degrees with longitude scaled by cos(lat): fine at grid scale. */
    double sx = 0, sy = 0, sa = 0;
    cg_point first = {0, 0};
    int have_first = 0;
    for (size_t i = 0; i < m->n_polys; i++) {
        for (size_t j = 0; j < m->polys[i].n_rings; j++) {
            const cg_ring *r = &m->polys[i].rings[j];
            double ra = 0, rx = 0, ry = 0;
            for (size_t k = 0; k + 1 < r->n; k++) {
                cg_point a = r->pts[k], b = r->pts[k + 1];
                if (!have_first) {
                    first = a;
                    have_first = 1;
                }
                double ax = a.x - first.x, ay = a.y - first.y;
                double bx = b.x - first.x, by = b.y - first.y;
                double cross = ax * by - bx * ay;
                ra += cross;
                rx += (ax + bx) * cross;
                ry += (ay + by) * cross;
            }
            /* Outer rings add, holes subtract, whatever their winding. */
            double sign = (j == 0) == (ra >= 0) ? 1.0 : -1.0;
            sa += sign * ra;
            sx += sign * rx;
            sy += sign * ry;
        }
    }
    if (fabs(sa) < 1e-300) {
        cg_bbox b = cg_mpoly_bbox(m);
        cg_point c = {(b.min_x + b.max_x) / 2, (b.min_y + b.max_y) / 2};
        return c;
    }
    cg_point c = {first.x + sx / (3 * sa), first.y + sy / (3 * sa)};
    return c;
}

double cg_distance_m(cg_point a, cg_point b)
{
    double la1 = a.y * DEG2RAD, la2 = b.y * DEG2RAD;
    double dla = la2 - la1, dlo = (b.x - a.x) * DEG2RAD;
    double h = sin(dla / 2) * sin(dla / 2) + cos(la1) * cos(la2) * sin(dlo / 2) * sin(dlo / 2);
    return 2 * CG_EARTH_RADIUS_M * asin(fmin(1.0, sqrt(h)));
}

int cg_point_check(cg_point p, const char *field, cg_err *err)
{
    if (!isfinite(p.x) || !isfinite(p.y))
        return cg_err_set(err, CG_EINVAL, field, "coordinate is not a finite number");
    if (p.x < -180 || p.x > 180)
        return cg_err_set(err, CG_EINVAL, field, "longitude %.7f is out of range [-180, 180]", p.x);
    if (p.y < -90 || p.y > 90)
        return cg_err_set(err, CG_EINVAL, field, "latitude %.7f is out of range [-90, 90]", p.y);
    return 0;
}

/* ---- WKB ---- */

static void put_u8(uint8_t **p, uint8_t v)
{
    *(*p)++ = v;
}

static void put_u32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put_f64(uint8_t **p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int i = 0; i < 8; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

int cg_mpoly_to_wkb(const cg_mpoly *m, uint8_t **out, size_t *len)
{
    size_t n = 1 + 4 + 4;
    for (size_t i = 0; i < m->n_polys; i++) {
        n += 1 + 4 + 4;
        for (size_t j = 0; j < m->polys[i].n_rings; j++)
            n += 4 + 16 * m->polys[i].rings[j].n;
    }
    uint8_t *buf = xmalloc(n), *p = buf;
    put_u8(&p, 1);
    put_u32(&p, 6);
    put_u32(&p, (uint32_t)m->n_polys);
    for (size_t i = 0; i < m->n_polys; i++) {
        put_u8(&p, 1);
        put_u32(&p, 3);
        put_u32(&p, (uint32_t)m->polys[i].n_rings);
        for (size_t j = 0; j < m->polys[i].n_rings; j++) {
            const cg_ring *r = &m->polys[i].rings[j];
            put_u32(&p, (uint32_t)r->n);
            for (size_t k = 0; k < r->n; k++) {
                put_f64(&p, r->pts[k].x);
                put_f64(&p, r->pts[k].y);
            }
        }
    }
    *out = buf;
    *len = n;
    return 0;
}

typedef struct {
    const uint8_t *p, *end;
    int little;
} wkb_reader;

static int get_u8(wkb_reader *r, uint8_t *v)
{
    if (r->end - r->p < 1)
        return -1;
    *v = *r->p++;
    return 0;
}

static int get_u32(wkb_reader *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return -1;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)r->p[r->little ? i : 3 - i] << (8 * i);
    r->p += 4;
    *v = x;
    return 0;
}

static int get_f64(wkb_reader *r, double *d)
{
    if (r->end - r->p < 8)
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)r->p[r->little ? i : 7 - i] << (8 * i);
    r->p += 8;
    memcpy(d, &x, 8);
    return 0;
}

static int read_header(wkb_reader *r, uint32_t *type)
{
    uint8_t order;
    if (get_u8(r, &order) || order > 1)
        return -1;
    r->little = order == 1;
    return get_u32(r, type);
}

static int read_polygon_body(wkb_reader *r, cg_polygon *poly)
{
    uint32_t n_rings;
    poly->n_rings = 0;
    poly->rings = NULL;
    if (get_u32(r, &n_rings) || (size_t)n_rings > (size_t)(r->end - r->p) / 4)
        return -1;
    poly->n_rings = 0;
    poly->rings = xmalloc(sizeof(cg_ring) * n_rings);
    for (uint32_t j = 0; j < n_rings; j++) {
        uint32_t n;
        if (get_u32(r, &n) || (size_t)n > (size_t)(r->end - r->p) / 16)
            return -1;
        cg_ring *ring = &poly->rings[poly->n_rings++];
        ring->n = n;
        ring->pts = xmalloc(sizeof(cg_point) * n);
        for (uint32_t k = 0; k < n; k++)
            if (get_f64(r, &ring->pts[k].x) || get_f64(r, &ring->pts[k].y))
                return -1;
    }
    return 0;
}

int cg_mpoly_from_wkb(const uint8_t *wkb, size_t len, cg_mpoly *out, cg_err *err)
{
    wkb_reader r = {wkb, wkb + len, 1};
    uint32_t type, n_polys = 1;
    out->polys = NULL;
    out->n_polys = 0;
    if (read_header(&r, &type) || (type != 3 && type != 6))
        return cg_err_set(err, CG_EINVAL, "geometry", "not a WKB Polygon or MultiPolygon");
    int multi = type == 6;
    if (multi && (get_u32(&r, &n_polys) || (size_t)n_polys > len / 9))
        goto bad;
    out->polys = xmalloc(sizeof(cg_polygon) * n_polys);
    for (uint32_t i = 0; i < n_polys; i++) {
        if (multi && (read_header(&r, &type) || type != 3))
            goto bad;
        cg_polygon *poly = &out->polys[out->n_polys++];
        if (read_polygon_body(&r, poly))
            goto bad;
    }
    return 0;
bad:
    cg_mpoly_free(out);
    return cg_err_set(err, CG_EINVAL, "geometry", "truncated or malformed WKB");
}

double cg_coord_round(double deg)
{
    return isfinite(deg) ? nearbyint(deg * 1e7) / 1e7 : deg;
}
