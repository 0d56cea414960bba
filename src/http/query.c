/*
 * Percent-decoding and query-string parsing: see query.h. Everything here sees hostile bytes
 * straight from the network, so every branch is bounded by the input length and every failure
 * is an error value rather than a guess.
 */
#include "http/query.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cg_url_decode(cg_arena *a, const char *s, size_t len, int plus_is_space, char **out,
                  cg_err *err)
{
    char *d = cg_arena_alloc(a, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return cg_err_set(err, CG_EINVAL, NULL,
                                  "malformed percent escape at byte %zu (expected %%XX)", i);
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return cg_err_set(err, CG_EINVAL, NULL, "an encoded NUL (%%00) is not allowed");
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return cg_err_set(err, CG_EINVAL, NULL, "a NUL byte is not allowed");
        }
        d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    return 0;
}

int cg_query_parse(cg_arena *a, const char *qs, size_t len, cg_query *out, cg_err *err)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && qs[end] != '&')
            end++;
        if (end > i) { /* "a=1&&b=2" tolerates the empty piece, as browsers do */
            size_t eq = i;
            while (eq < end && qs[eq] != '=')
                eq++;
            char *key, *value;
            if (cg_url_decode(a, qs + i, eq - i, 1, &key, err) != 0) {
                cg_err_prefix(err, "query parameter name");
                return -1;
            }
            if (key[0] == '\0')
                return cg_err_set(err, CG_EINVAL, "query", "a query parameter has no name");
            size_t vstart = eq < end ? eq + 1 : end;
            if (cg_url_decode(a, qs + vstart, end - vstart, 1, &value, err) != 0) {
                cg_err_prefix(err, "%s", key);
                snprintf(err->field, sizeof err->field, "%s", key);
                return -1;
            }
            if (cg_query_get(out, key))
                return cg_err_set(err, CG_EINVAL, key, "parameter given more than once");
            if (out->n == CG_QUERY_MAX_PARAMS)
                return cg_err_set(err, CG_ELIMIT, "query", "more than %d query parameters",
                                  CG_QUERY_MAX_PARAMS);
            out->params[out->n].key = key;
            out->params[out->n].value = value;
            out->n++;
        }
        i = end + 1;
    }
    return 0;
}

const char *cg_query_get(const cg_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->params[i].key, key) == 0)
            return q->params[i].value;
    return NULL;
}

int cg_query_check_known(const cg_query *q, const char *const *known, cg_err *err)
{
    for (size_t i = 0; i < q->n; i++) {
        const char *const *k = known;
        while (*k && strcmp(*k, q->params[i].key) != 0)
            k++;
        if (!*k)
            return cg_err_set(err, CG_EINVAL, q->params[i].key,
                              "unknown query parameter for this route");
    }
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    /* strtod skips leading space and accepts "inf", "nan" and hex floats: none is a coordinate */
    if (s[0] == '\0' || s[0] == ' ' || errno || *end || !isfinite(d) || strpbrk(s, "xXnN"))
        return -1;
    *out = d;
    return 0;
}

int cg_query_double(const cg_query *q, const char *key, int required, double min, double max,
                    double *out, int *present, cg_err *err)
{
    const char *v = cg_query_get(q, key);
    *present = v != NULL;
    if (!v) {
        if (required)
            return cg_err_set(err, CG_EINVAL, key, "required parameter is missing");
        return 0;
    }
    double d;
    if (parse_double(v, &d) != 0)
        return cg_err_set(err, CG_EINVAL, key, "expected a number, got '%.64s'", v);
    if (d < min || d > max)
        return cg_err_set(err, CG_EINVAL, key, "%g is out of range %g..%g", d, min, max);
    *out = d;
    return 0;
}

int cg_query_long(const cg_query *q, const char *key, long min, long max, long *out, int *present,
                  cg_err *err)
{
    const char *v = cg_query_get(q, key);
    *present = v != NULL;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (v[0] == '\0' || v[0] == ' ' || v[0] == '+' || errno || *end)
        return cg_err_set(err, CG_EINVAL, key, "expected a whole number, got '%.64s'", v);
    if (n < min || n > max)
        return cg_err_set(err, CG_EINVAL, key, "%ld is out of range %ld..%ld", n, min, max);
    *out = n;
    return 0;
}

int cg_query_bool(const cg_query *q, const char *key, int *out, cg_err *err)
{
    const char *v = cg_query_get(q, key);
    *out = 0;
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return 0;
    return cg_err_set(err, CG_EINVAL, key, "'%.32s' is not true or false", v);
}

int cg_query_bbox(const cg_query *q, const char *key, double out[4], int *present, cg_err *err)
{
    static const double lim[4][2] = {{-180, 180}, {-90, 90}, {-180, 180}, {-90, 90}};
    const char *v = cg_query_get(q, key);
    *present = v != NULL;
    if (!v)
        return 0;
    const char *p = v;
    for (int i = 0; i < 4; i++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char num[64];
        if ((i < 3) != (comma != NULL) || n == 0 || n >= sizeof num)
            return cg_err_set(err, CG_EINVAL, key,
                              "expected minLon,minLat,maxLon,maxLat, got '%.64s'", v);
        memcpy(num, p, n);
        num[n] = '\0';
        if (parse_double(num, &out[i]) != 0)
            return cg_err_set(err, CG_EINVAL, key, "'%s' is not a number", num);
        if (out[i] < lim[i][0] || out[i] > lim[i][1])
            return cg_err_set(err, CG_EINVAL, key, "%s %g is out of range %g..%g",
                              i % 2 ? "latitude" : "longitude", out[i], lim[i][0], lim[i][1]);
        p = comma ? comma + 1 : p + n;
    }
    if (out[0] > out[2] || out[1] > out[3])
        return cg_err_set(err, CG_EINVAL, key, "minimum exceeds maximum in '%.64s'", v);
    return 0;
}
