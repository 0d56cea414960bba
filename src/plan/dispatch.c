/*
 * Dispatch (dispatch.h): rank every available unit with one one-to-many query, keep the K
 * fastest, then route only those.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/dispatch.h"

typedef struct {
    double t;
    uint32_t unit;
} ranked;

static int by_time(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

int cg_dispatch_nearest(cg_search *s, const cg_snap *incident, const cg_unit *units, size_t n,
                        size_t k, cg_dispatch *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (k == 0)
        return cg_err_set(err, CG_EINVAL, "k", "k must be at least 1");
    if (n == 0)
        return cg_err_set(err, CG_EINVAL, "units", "no units to dispatch");
    cg_snap *at = malloc(n * sizeof *at);
    uint32_t *idx = malloc(n * sizeof *idx);
    double *sec = malloc(n * sizeof *sec);
    ranked *r = malloc(n * sizeof *r);
    int rc = -1;
    if (!at || !idx || !sec || !r) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (units[i].available) {
            at[m] = units[i].at;
            idx[m++] = (uint32_t)i;
        }
    out->n_available = m;
    if (m == 0) {
        cg_err_set(err, CG_EINVAL, "units", "none of the %zu units is available", n);
        goto done;
    }
    if (cg_route_one_to_many(s, incident, at, m, CG_BACKWARD, sec, err) != 0) {
        if (err->code != CG_EUNSUPPORTED)
            goto done;
        for (size_t i = 0; i < m; i++) {
            cg_path p;
            if (cg_route_dijkstra(s, &at[i], incident, 0, &p, err) != 0)
                goto done;
            sec[i] = p.seconds;
            cg_path_free(&p);
        }
    }
    for (size_t i = 0; i < m; i++)
        r[i] = (ranked){sec[i], (uint32_t)i};
    qsort(r, m, sizeof *r, by_time);
    if (k > m)
        k = m;
    out->picks = calloc(k, sizeof *out->picks);
    if (!out->picks) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        cg_dispatch_pick *p = &out->picks[i];
        p->unit = idx[r[i].unit];
        p->eta_s = r[i].t;
        if (cg_route_dijkstra(s, &at[r[i].unit], incident, 1, &p->route, err) != 0)
            goto done;
        out->n++;
    }
    rc = 0;
done:
    if (rc)
        cg_dispatch_free(out);
    free(at);
    free(idx);
    free(sec);
    free(r);
    return rc;
}

void cg_dispatch_free(cg_dispatch *d)
{
    for (size_t i = 0; i < d->n; i++)
        cg_path_free(&d->picks[i].route);
    free(d->picks);
    memset(d, 0, sizeof *d);
}

void cg_dispatch_geojson(const cg_dispatch *d, cg_buf *b)
{
    cg_buf_puts(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < d->n; i++) {
        const cg_dispatch_pick *p = &d->picks[i];
        cg_buf_printf(b,
                      "%s{\"type\":\"Feature\",\"properties\":{\"rank\":%zu,\"unit\":%u,"
                      "\"eta_s\":%.1f,\"metres\":%.1f},\"geometry\":{\"type\":\"LineString\","
                      "\"coordinates\":[",
                      i ? "," : "", i + 1, p->unit, p->eta_s, p->route.metres);
        for (size_t k = 0; k < p->route.n; k++)
            cg_buf_printf(b, "%s[%.7f,%.7f]", k ? "," : "", p->route.pts[k].x, p->route.pts[k].y);
        cg_buf_puts(b, "]}}");
    }
    cg_buf_puts(b, "]}");
}
