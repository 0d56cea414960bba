/*
 * Douglas–Peucker simplification, polyline clipping (Liang–Barsky per segment) and Web Mercator
 * tile arithmetic for the base map (http/api_map.c). See simplify.h.
 */
#include "geo/simplify.h"

#include <math.h>

/* Squared distance from p to the segment a-b. */
static double seg_dist2(cg_point p, cg_point a, cg_point b)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
    if (t < 0)
        t = 0;
    else if (t > 1)
        t = 1;
    double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
    return ex * ex + ey * ey;
}

/* Douglas–Peucker over pts with keep[] already marking the vertices that must stay (at least the
 * first and last). Walks the kept vertices left to right: while the span to the next kept vertex
 * has a vertex farther than the tolerance, the farthest one is kept and the span split; so the
 * marks are the only state. */
static size_t dp_marked(const cg_point *pts, size_t n, double tolerance, unsigned char *keep)
{
    double tol2 = tolerance * tolerance;
    size_t a = 0;
    while (a < n - 1) {
        size_t b = a + 1;
        while (!keep[b])
            b++;
        double worst = -1;
        size_t at = 0;
        for (size_t i = a + 1; i < b; i++) {
            double d = seg_dist2(pts[i], pts[a], pts[b]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (worst > tol2)
            keep[at] = 1; /* split: look at a..at next */
        else
            a = b;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += keep[i];
    return kept;
}

size_t cg_simplify_dp(const cg_point *pts, size_t n, double tolerance, unsigned char *keep)
{
    if (n == 0)
        return 0;
    int all = n < 3 || !(tolerance > 0);
    for (size_t i = 0; i < n; i++)
        keep[i] = (unsigned char)(all || i == 0 || i == n - 1);
    return all ? n : dp_marked(pts, n, tolerance, keep);
}

size_t cg_simplify_ring_dp(const cg_point *pts, size_t n, double tolerance, unsigned char *keep)
{
    if (n < 4 || !(tolerance > 0))
        return cg_simplify_dp(pts, n, tolerance, keep);
    size_t far = 0;
    double worst = -1;
    for (size_t i = 1; i < n - 1; i++) {
        double dx = pts[i].x - pts[0].x, dy = pts[i].y - pts[0].y;
        if (dx * dx + dy * dy > worst) {
            worst = dx * dx + dy * dy;
            far = i;
        }
    }
    for (size_t i = 0; i < n; i++)
        keep[i] = (unsigned char)(i == 0 || i == n - 1 || i == far);
    return dp_marked(pts, n, tolerance, keep);
}

/* Liang–Barsky: clips a-b to the box; 0 when nothing is inside, else the parameters t0 <= t1. */
static int clip_segment(cg_point a, cg_point b, const cg_bbox *box, double *t0, double *t1)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {a.x - box->min_x, box->max_x - a.x, a.y - box->min_y, box->max_y - a.y};
    double lo = 0, hi = 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        double r = q[i] / p[i];
        if (p[i] < 0) {
            if (r > hi)
                return 0;
            if (r > lo)
                lo = r;
        } else {
            if (r < lo)
                return 0;
            if (r < hi)
                hi = r;
        }
    }
    *t0 = lo;
    *t1 = hi;
    return 1;
}

size_t cg_clip_polyline(const cg_point *in, size_t n, const cg_bbox *box, cg_point *out,
                        size_t *starts)
{
    size_t parts = 0, len = 0, open = 0; /* open: points in the part being built */
    for (size_t i = 0; i + 1 < n; i++) {
        double t0, t1;
        if (!clip_segment(in[i], in[i + 1], box, &t0, &t1)) {
            if (open >= 2)
                parts++;
            else
                len -= open;
            open = 0;
            continue;
        }
        if (t1 <= t0) { /* touches the box at one point only */
            if (open >= 2)
                parts++;
            else
                len -= open;
            open = 0;
            continue;
        }
        cg_point a = {in[i].x + t0 * (in[i + 1].x - in[i].x),
                      in[i].y + t0 * (in[i + 1].y - in[i].y)};
        cg_point b = {in[i].x + t1 * (in[i + 1].x - in[i].x),
                      in[i].y + t1 * (in[i + 1].y - in[i].y)};
        if (open && t0 > 0) { /* re-entered: close the part before */
            if (open >= 2)
                parts++;
            else
                len -= open;
            open = 0;
        }
        if (!open) {
            starts[parts] = len;
            out[len++] = a;
            open = 1;
        }
        out[len++] = b;
        open++;
        if (t1 < 1) { /* left the box */
            parts++;
            open = 0;
        }
    }
    if (open >= 2)
        parts++;
    else
        len -= open;
    starts[parts] = len;
    return parts;
}

cg_point cg_mercator_from_lonlat(cg_point ll)
{
    double lat = ll.y;
    if (lat > CG_MERCATOR_LAT)
        lat = CG_MERCATOR_LAT;
    else if (lat < -CG_MERCATOR_LAT)
        lat = -CG_MERCATOR_LAT;
    double s = sin(lat * M_PI / 180.0);
    cg_point w = {(ll.x + 180.0) / 360.0, 0.5 - log((1 + s) / (1 - s)) / (4 * M_PI)};
    return w;
}

cg_point cg_mercator_to_lonlat(cg_point w)
{
    cg_point ll = {w.x * 360.0 - 180.0, atan(sinh(M_PI * (1 - 2 * w.y))) * 180.0 / M_PI};
    return ll;
}

cg_bbox cg_tile_world_bbox(int z, long x, long y)
{
    double size = ldexp(1.0, -z);
    cg_bbox b = {x * size, y * size, (x + 1) * size, (y + 1) * size};
    return b;
}
