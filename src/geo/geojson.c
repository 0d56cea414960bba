/*
 * GeoJSON in and out: see geojson.h.
 *
 * Reading goes through jansson: the whole document is parsed first (so a syntax error anywhere
 * fails the file with jansson's line and column), then each feature is checked on its own and a
 * broken one keeps its reason in cg_feature.error, so an import can list every rejected feature
 * in one report. Before jansson sees the bytes, a cheap scan bounds the nesting depth: GeoJSON
 * needs six levels, and a document nested thousands deep is an attack or a mistake, never data.
 *
 * Writing does not build a json_t tree: the API streams large collections, so coordinates are
 * formatted by hand (fixed point, trailing zeros trimmed) straight into a cg_buf, several times
 * faster than snprintf("%.*f") per number.
 */
#include "geo/geojson.h"

#include "core/json.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* ---- reading ---- */

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

typedef struct {
    cg_crs crs;
    size_t max_vertices; /* 0: no limit */
    size_t vertices;     /* counted so far in this geometry */
} geom_ctx;

static int parse_position(const json_t *pos, size_t poly, size_t ring, size_t k, cg_point *out,
                          cg_err *err)
{
    if (!json_is_array(pos) || json_array_size(pos) < 2 ||
        !json_is_number(json_array_get(pos, 0)) || !json_is_number(json_array_get(pos, 1)))
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu coordinate %zu is not a [longitude, latitude] "
                          "array of numbers",
                          poly, ring, k);
    cg_point p = {json_number_value(json_array_get(pos, 0)),
                  json_number_value(json_array_get(pos, 1))};
    if (!isfinite(p.x) || !isfinite(p.y))
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu coordinate %zu is not a finite number", poly, ring,
                          k);
    if (p.x < -180 || p.x > 180)
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu coordinate %zu: longitude %.15g out of range "
                          "[-180, 180]",
                          poly, ring, k, p.x);
    if (p.y < -90 || p.y > 90)
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu coordinate %zu: latitude %.15g out of range "
                          "[-90, 90]",
                          poly, ring, k, p.y);
    *out = p;
    return 0;
}

static int parse_ring(const json_t *ring, size_t poly, size_t r, geom_ctx *ctx, cg_ring *out,
                      cg_err *err)
{
    if (!json_is_array(ring))
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu is a %s, not an array of positions", poly, r,
                          json_kind(ring));
    size_t n = json_array_size(ring);
    if (n < 4)
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu ring %zu: ring has %zu positions, a ring needs at least 4",
                          poly, r, n);
    ctx->vertices += n;
    if (ctx->max_vertices && ctx->vertices > ctx->max_vertices)
        return cg_err_set(err, CG_ELIMIT, "coordinates",
                          "geometry has more than %zu vertices (the limit)", ctx->max_vertices);
    cg_point *pts = xcalloc(n, sizeof *pts);
    for (size_t k = 0; k < n; k++) {
        if (parse_position(json_array_get(ring, k), poly, r, k, &pts[k], err) != 0) {
            free(pts);
            return -1;
        }
    }
    if (pts[0].x != pts[n - 1].x || pts[0].y != pts[n - 1].y) {
        cg_err_set(err, CG_EINVAL, "coordinates",
                   "polygon %zu ring %zu is not closed (first (%.15g, %.15g) != last (%.15g, "
                   "%.15g))",
                   poly, r, pts[0].x, pts[0].y, pts[n - 1].x, pts[n - 1].y);
        free(pts);
        return -1;
    }
    /* Converting after the closure check keeps the ring closed: equal inputs give equal outputs. */
    if (ctx->crs != CG_CRS_WGS84)
        for (size_t k = 0; k < n; k++)
            pts[k] = cg_crs_to_wgs84(ctx->crs, pts[k]);
    out->pts = pts;
    out->n = n;
    return 0;
}

static int parse_polygon(const json_t *rings, size_t poly, geom_ctx *ctx, cg_polygon *out,
                         cg_err *err)
{
    if (!json_is_array(rings))
        return cg_err_set(err, CG_EINVAL, "coordinates",
                          "polygon %zu is a %s, not an array of rings", poly, json_kind(rings));
    size_t n = json_array_size(rings);
    if (n == 0)
        return cg_err_set(err, CG_EINVAL, "coordinates", "polygon %zu has no rings", poly);
    out->rings = xcalloc(n, sizeof *out->rings);
    out->n_rings = 0;
    for (size_t r = 0; r < n; r++) {
        if (parse_ring(json_array_get(rings, r), poly, r, ctx, &out->rings[r], err) != 0)
            return -1;
        out->n_rings++;
    }
    return 0;
}

/* On failure m is left empty and err says what is wrong and where. */
static int parse_geometry(const json_t *g, cg_crs crs, size_t max_vertices, cg_mpoly *m,
                          cg_err *err)
{
    m->polys = NULL;
    m->n_polys = 0;
    if (!json_is_object(g))
        return cg_err_set(err, CG_EINVAL, "geometry", "geometry is a %s, not an object",
                          json_kind(g));
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type)
        return cg_err_set(err, CG_EINVAL, "geometry", "geometry has no \"type\" string");
    int multi = strcmp(type, "MultiPolygon") == 0;
    if (!multi && strcmp(type, "Polygon") != 0)
        return cg_err_set(err, CG_EINVAL, "geometry", "geometry type %.64s is not a polygon", type);
    const json_t *coords = json_object_get(g, "coordinates");
    if (!json_is_array(coords))
        return cg_err_set(err, CG_EINVAL, "coordinates", "%s has no \"coordinates\" array", type);
    size_t n = multi ? json_array_size(coords) : 1;
    if (n == 0)
        return cg_err_set(err, CG_EINVAL, "coordinates", "MultiPolygon has no polygons");
    geom_ctx ctx = {crs, max_vertices, 0};
    m->polys = xcalloc(n, sizeof *m->polys);
    for (size_t i = 0; i < n; i++) {
        m->n_polys++;
        const json_t *rings = multi ? json_array_get(coords, i) : coords;
        if (parse_polygon(rings, i, &ctx, &m->polys[i], err) != 0) {
            cg_mpoly_free(m);
            return -1;
        }
    }
    return 0;
}

int cg_geojson_parse_geometry(const json_t *geometry, cg_crs crs, cg_mpoly *m, cg_err *err)
{
    return parse_geometry(geometry, crs, 0, m, err);
}

/* Copies reason into the feature's error, cut to fit (messages are short; a cut one still
 * starts with the item and the reason). */
static void feature_fail(cg_feature *f, const char *reason)
{
    size_t n = strnlen(reason, sizeof f->error - 1);
    memcpy(f->error, reason, n);
    f->error[n] = '\0';
}

static void read_feature(const json_t *j, size_t index, const cg_geojson_read_opts *opts,
                         cg_feature *f)
{
    memset(f, 0, sizeof *f);
    f->index = index;
    if (!json_is_object(j)) {
        f->props = json_object();
        snprintf(f->error, sizeof f->error, "feature is a %s, not an object", json_kind(j));
        return;
    }
    json_t *props = json_object_get(j, "properties");
    if (json_is_object(props)) {
        f->props = json_incref(props);
    } else {
        f->props = json_object();
        if (props && !json_is_null(props)) {
            feature_fail(f, "properties is not an object");
            return;
        }
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type || strcmp(type, "Feature") != 0) {
        snprintf(f->error, sizeof f->error, "type is \"%.64s\", expected \"Feature\"",
                 type ? type : "(missing)");
        return;
    }
    const json_t *g = json_object_get(j, "geometry");
    if (!g || json_is_null(g))
        return;
    cg_err e;
    cg_err_clear(&e);
    if (parse_geometry(g, opts->crs, opts->max_vertices, &f->geom, &e) != 0) {
        feature_fail(f, e.message);
        return;
    }
    f->has_geom = 1;
}

int cg_geojson_read(const char *data, size_t len, const cg_geojson_read_opts *opts,
                    cg_feature **out, size_t *n_out, cg_err *err)
{
    static const cg_geojson_read_opts defaults = {CG_CRS_WGS84, 0, 0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    *n_out = 0;
    if (len == 0)
        return cg_err_set(err, CG_EINVAL, NULL, "the document is empty");
    if (cg_json_check_depth(data, len, CG_GEOJSON_MAX_DEPTH, "the document", err) != 0)
        return -1;
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return cg_err_set(err, CG_EINVAL, NULL, "not valid JSON: line %d column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    int rc = -1;
    const json_t *features = NULL;
    size_t n = 1;
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!json_is_object(doc)) {
        cg_err_set(err, CG_EINVAL, NULL,
                   "the document is a JSON %s, expected a GeoJSON FeatureCollection",
                   json_kind(doc));
        goto done;
    }
    if (!type) {
        cg_err_set(err, CG_EINVAL, "type",
                   "the document has no \"type\" string, expected a GeoJSON FeatureCollection");
        goto done;
    }
    if (strcmp(type, "FeatureCollection") == 0) {
        features = json_object_get(doc, "features");
        if (!json_is_array(features)) {
            cg_err_set(err, CG_EINVAL, "features",
                       "the FeatureCollection has no \"features\" array");
            goto done;
        }
        n = json_array_size(features);
    } else if (strcmp(type, "Feature") != 0) {
        cg_err_set(err, CG_EINVAL, "type",
                   "the document is a GeoJSON %.64s, expected a FeatureCollection or a Feature",
                   type);
        goto done;
    }
    if (opts->max_features && n > opts->max_features) {
        cg_err_set(err, CG_ELIMIT, "features",
                   "the document has %zu features, more than the limit of %zu", n,
                   opts->max_features);
        goto done;
    }
    cg_feature *fs = xcalloc(n, sizeof *fs);
    for (size_t i = 0; i < n; i++)
        read_feature(features ? json_array_get(features, i) : doc, i, opts, &fs[i]);
    *out = fs;
    *n_out = n;
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

/* ---- writing ---- */

static const double pow10_table[] = {1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                     1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
#define MAX_PRECISION 17

/* Writes v rounded to `precision` decimals, without trailing zeros or a "-0"; returns the end.
 * The fast path works in integers while v * 10^precision is exactly representable (< 2^53);
 * beyond that snprintf does the rounding. out needs 64 bytes. */
static char *format_coord(char *out, double v, int precision)
{
    assert(isfinite(v));
    double scaled = v * pow10_table[precision];
    char *p = out;
    if (fabs(scaled) < 9007199254740992.0) {
        long long q = llround(scaled);
        if (q == 0) {
            *p++ = '0';
            return p;
        }
        if (q < 0) {
            *p++ = '-';
            q = -q;
        }
        unsigned long long scale = (unsigned long long)pow10_table[precision];
        unsigned long long ip = (unsigned long long)q / scale, fp = (unsigned long long)q % scale;
        char digits[24];
        int nd = 0;
        do {
            digits[nd++] = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip);
        while (nd)
            *p++ = digits[--nd];
        if (fp) {
            *p++ = '.';
            char *frac = p;
            for (int i = precision - 1; i >= 0; i--) {
                frac[i] = (char)('0' + fp % 10);
                fp /= 10;
            }
            p = frac + precision;
            while (p[-1] == '0')
                p--;
        }
        return p;
    }
    int n = snprintf(out, 64, "%.*f", precision, v);
    p = out + (n < 63 ? n : 63);
    if (memchr(out, '.', (size_t)(p - out))) {
        while (p[-1] == '0')
            p--;
        if (p[-1] == '.')
            p--;
    }
    return p;
}

void cg_geojson_write_mpoly(cg_buf *b, const cg_mpoly *m, cg_crs crs, int precision)
{
    if (precision < 0)
        precision = 0;
    if (precision > MAX_PRECISION)
        precision = MAX_PRECISION;
    /* Points are formatted into a stack chunk and flushed in blocks, not appended one by one. */
    char chunk[4096];
    size_t used = 0;
    cg_buf_puts(b, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (size_t i = 0; i < m->n_polys; i++) {
        const cg_polygon *poly = &m->polys[i];
        cg_buf_puts(b, i ? ",[" : "[");
        for (size_t j = 0; j < poly->n_rings; j++) {
            const cg_ring *r = &poly->rings[j];
            cg_buf_puts(b, j ? ",[" : "[");
            for (size_t k = 0; k < r->n; k++) {
                if (used > sizeof chunk - 140) {
                    cg_buf_append(b, chunk, used);
                    used = 0;
                }
                cg_point q = cg_crs_from_wgs84(crs, r->pts[k]);
                char *p = chunk + used;
                if (k)
                    *p++ = ',';
                *p++ = '[';
                p = format_coord(p, q.x, precision);
                *p++ = ',';
                p = format_coord(p, q.y, precision);
                *p++ = ']';
                used = (size_t)(p - chunk);
            }
            cg_buf_append(b, chunk, used);
            used = 0;
            cg_buf_putc(b, ']');
        }
        cg_buf_putc(b, ']');
    }
    cg_buf_puts(b, "]}");
}

/* Length of the valid UTF-8 sequence at s (up to end), or 0 when the bytes are not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

void cg_json_write_string(cg_buf *b, const char *s)
{
    if (!s) {
        cg_buf_puts(b, "null");
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    cg_buf_putc(b, '"');
    while (p < end) {
        /* A run of bytes written as they are: plain ASCII and valid UTF-8 sequences (Chinese
         * text is all of the latter: one append per run, not per character). */
        const unsigned char *run = p;
        for (;;) {
            while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
                p++;
            size_t n = p < end && *p >= 0x80 ? utf8_sequence(p, end) : 0;
            if (!n)
                break;
            p += n;
        }
        if (p > run)
            cg_buf_append(b, run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            /* Invalid bytes would make the whole document invalid JSON: write U+FFFD. */
            cg_buf_puts(b, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        p++;
        switch (c) {
        case '"':
            cg_buf_puts(b, "\\\"");
            break;
        case '\\':
            cg_buf_puts(b, "\\\\");
            break;
        case '\b':
            cg_buf_puts(b, "\\b");
            break;
        case '\f':
            cg_buf_puts(b, "\\f");
            break;
        case '\n':
            cg_buf_puts(b, "\\n");
            break;
        case '\r':
            cg_buf_puts(b, "\\r");
            break;
        case '\t':
            cg_buf_puts(b, "\\t");
            break;
        default:
            cg_buf_printf(b, "\\u%04x", c);
            break;
        }
    }
    cg_buf_putc(b, '"');
}
