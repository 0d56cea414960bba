/*
 * Route matching: see router.h. A linear scan over a table of a few dozen routes costs less than
 * the hashing a trie would need at this size, and keeps the order rule (first match wins) plain.
 */
#include "http/router.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/*
 * Matches one pattern segment against one path segment: literal runs must be equal, and a
 * placeholder takes one or more characters. A placeholder followed by a literal ("{id}.{format}")
 * takes the longest value that lets the rest match, so the suffix is the last one ("a.b.json":
 * id "a.b", format "json"). Two placeholders never stand side by side (nothing would separate
 * them).
 */
static int segment_match(const char *p, size_t plen, const char *s, size_t slen, cg_arena *a,
                         const char *params[CG_ROUTE_MAX_PARAMS], size_t *n_params)
{
    if (plen == 0)
        return slen == 0;
    if (p[0] != '{') {
        const char *brace = memchr(p, '{', plen);
        size_t lit = brace ? (size_t)(brace - p) : plen;
        if (slen < lit || memcmp(p, s, lit) != 0)
            return 0;
        return segment_match(p + lit, plen - lit, s + lit, slen - lit, a, params, n_params);
    }
    const char *close = memchr(p, '}', plen);
    assert(close);
    size_t name_len = (size_t)(close - p) + 1;
    const char *rest = p + name_len;
    size_t rest_len = plen - name_len;
    assert(rest_len == 0 || rest[0] != '{');
    size_t at = *n_params;
    assert(at < CG_ROUTE_MAX_PARAMS);
    for (size_t v = slen; v >= 1; v--) {
        *n_params = at + 1;
        if (segment_match(rest, rest_len, s + v, slen - v, a, params, n_params)) {
            if (params)
                params[at] = cg_arena_strndup(a, s, v);
            return 1;
        }
        if (rest_len == 0)
            break; /* a trailing placeholder takes the whole rest or nothing */
    }
    *n_params = at;
    return 0;
}

/* Matches one pattern against a path segment by segment; fills params on success. */
static int pattern_match(const char *pattern, const char *path, cg_arena *a,
                         const char *params[CG_ROUTE_MAX_PARAMS])
{
    size_t n_params = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pend = strchr(p, '/'), *send = strchr(s, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (!segment_match(p, plen, s, slen, a, params, &n_params))
            return 0;
        p += plen;
        s += slen;
    }
    return *p == '\0' && *s == '\0';
}

static int method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t len = strlen(allow);
    if (strstr(allow, method))
        return;
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

cg_route_result cg_route_match(const cg_route *routes, size_t n, const char *method,
                               const char *path, cg_arena *a, const cg_route **route,
                               const char *params[CG_ROUTE_MAX_PARAMS], char *allow,
                               size_t allow_cap)
{
    int path_known = 0;
    if (allow_cap)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(routes[i].pattern, path, a, NULL))
            continue;
        if (method_matches(routes[i].method, method)) {
            pattern_match(routes[i].pattern, path, a, params);
            *route = &routes[i];
            return CG_ROUTE_FOUND;
        }
        path_known = 1;
        if (allow_cap) {
            allow_add(allow, allow_cap, routes[i].method);
            if (strcmp(routes[i].method, "GET") == 0)
                allow_add(allow, allow_cap, "HEAD");
        }
    }
    return path_known ? CG_ROUTE_BAD_METHOD : CG_ROUTE_NO_PATH;
}
