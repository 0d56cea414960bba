/*
 * WGS84 <-> GCJ-02. The forward transform is the published one (Krasovsky ellipsoid constants,
 * the two trigonometric series in lon/lat offsets from 105E, 35N); it is not invertible in closed
 * form, so the inverse iterates p <- p - (gcj(p) - target) until it moves less than 1e-9 degrees.
 * Points outside mainland China's rough bounding box pass through unchanged, as every
 * implementation in use does.
 */
#include "geo/crs.h"

#include <math.h>
#include <strings.h>

static const double KRASOVSKY_A = 6378245.0;
static const double KRASOVSKY_EE = 0.00669342162296594323;

static int outside_china(cg_point p)
{
    return p.x < 72.004 || p.x > 137.8347 || p.y < 0.8293 || p.y > 55.8271;
}

static double transform_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * M_PI) + 320 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
    return r;
}

static double transform_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
    return r;
}

cg_point cg_gcj02_from_wgs84(cg_point w)
{
    if (outside_china(w))
        return w;
    double dlat = transform_lat(w.x - 105.0, w.y - 35.0);
    double dlon = transform_lon(w.x - 105.0, w.y - 35.0);
    double radlat = w.y / 180.0 * M_PI;
    double magic = sin(radlat);
    magic = 1 - KRASOVSKY_EE * magic * magic;
    double sqrtmagic = sqrt(magic);
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtmagic) * M_PI);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * cos(radlat) * M_PI);
    cg_point g = {w.x + dlon, w.y + dlat};
    return g;
}

cg_point cg_wgs84_from_gcj02(cg_point g)
{
    if (outside_china(g))
        return g;
    cg_point w = g;
    for (int i = 0; i < 30; i++) {
        cg_point t = cg_gcj02_from_wgs84(w);
        double dx = t.x - g.x, dy = t.y - g.y;
        w.x -= dx;
        w.y -= dy;
        if (fabs(dx) < 1e-10 && fabs(dy) < 1e-10)
            break;
    }
    return w;
}

int cg_crs_parse(const char *s, const char *field, cg_crs *out, cg_err *err)
{
    if (!s || !*s || strcasecmp(s, "wgs84") == 0 || strcasecmp(s, "epsg:4326") == 0 ||
        strcasecmp(s, "4326") == 0 ||
        strcasecmp(s, "http://www.opengis.net/def/crs/OGC/1.3/CRS84") == 0) {
        *out = CG_CRS_WGS84;
        return 0;
    }
    if (strcasecmp(s, "gcj02") == 0 || strcasecmp(s, "gcj-02") == 0) {
        *out = CG_CRS_GCJ02;
        return 0;
    }
    return cg_err_set(err, CG_EINVAL, field,
                      "unknown coordinate system '%.40s' (use wgs84 or gcj02)", s);
}

const char *cg_crs_name(cg_crs crs)
{
    return crs == CG_CRS_GCJ02 ? "gcj02" : "wgs84";
}

cg_point cg_crs_to_wgs84(cg_crs crs, cg_point p)
{
    return crs == CG_CRS_GCJ02 ? cg_wgs84_from_gcj02(p) : p;
}

cg_point cg_crs_from_wgs84(cg_crs crs, cg_point p)
{
    return crs == CG_CRS_GCJ02 ? cg_gcj02_from_wgs84(p) : p;
}

void cg_mpoly_to_wgs84(cg_crs crs, cg_mpoly *m)
{
    if (crs == CG_CRS_WGS84)
        return;
    for (size_t i = 0; i < m->n_polys; i++)
        for (size_t j = 0; j < m->polys[i].n_rings; j++)
            for (size_t k = 0; k < m->polys[i].rings[j].n; k++)
                m->polys[i].rings[j].pts[k] = cg_crs_to_wgs84(crs, m->polys[i].rings[j].pts[k]);
}
