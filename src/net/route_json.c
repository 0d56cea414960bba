/*
 * The faces' side of routing (route.h): reading "LAT,LON" arguments the same way on the command
 * line and in the API, and writing a route as a GeoJSON Feature.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "net/route.h"

int cg_route_parse_latlon(const char *s, const char *field, cg_point *out, cg_err *err)
{
    if (!s || !*s)
        return cg_err_set(err, CG_EINVAL, field, "missing: give LAT,LON in WGS84 degrees");
    char *end;
    errno = 0;
    double lat = strtod(s, &end);
    if (errno || end == s || *end != ',')
        return cg_err_set(err, CG_EINVAL, field, "'%s' is not LAT,LON", s);
    const char *q = end + 1;
    double lon = strtod(q, &end);
    if (errno || end == q || *end || !isfinite(lat) || !isfinite(lon))
        return cg_err_set(err, CG_EINVAL, field, "'%s' is not LAT,LON", s);
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return cg_err_set(err, CG_EINVAL, field,
                          "'%s' is out of range (latitude -90..90, longitude -180..180)", s);
    *out = (cg_point){lon, lat};
    return 0;
}

void cg_path_write_geojson(cg_buf *b, const cg_path *p, cg_profile profile)
{
    cg_buf_puts(b, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
    for (size_t i = 0; i < p->n; i++)
        cg_buf_printf(b, "%s[%.7f,%.7f]", i ? "," : "", p->pts[i].x, p->pts[i].y);
    cg_buf_printf(b, "]},\"properties\":{\"profile\":\"%s\",\"seconds\":%.3f,\"metres\":%.1f}}",
                  cg_profile_name(profile), p->seconds, p->metres);
}
