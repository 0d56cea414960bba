/*
 * URL pieces as the server receives them: percent-decoding of paths and query strings, and typed
 * access to query parameters with validation that names the parameter ("lat: expected a number,
 * got 'abc'"). Pure functions over an arena, so the query parser is fuzzed on its own
 * (tests/fuzz/fuzz_query.c) and the handlers stay free of string juggling.
 */
#ifndef CG_HTTP_QUERY_H
#define CG_HTTP_QUERY_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

/* More parameters than this is not a request any of our routes understands. */
#define CG_QUERY_MAX_PARAMS 32

typedef struct {
    const char *key, *value; /* decoded, NUL-terminated, in the arena */
} cg_query_param;

typedef struct {
    cg_query_param params[CG_QUERY_MAX_PARAMS];
    size_t n;
} cg_query;

/*
 * Decodes %XX escapes (and '+' as a space when plus_is_space) into a new arena string. Refuses a
 * truncated or non-hex escape and an encoded NUL, which no path or parameter may contain.
 */
int cg_url_decode(cg_arena *a, const char *s, size_t len, int plus_is_space, char **out,
                  cg_err *err);

/*
 * Parses "a=1&b=x%20y" (without the '?'). An empty key, a repeated key or too many parameters
 * is refused, so that "?lat=1&lat=2" cannot mean two things.
 */
int cg_query_parse(cg_arena *a, const char *qs, size_t len, cg_query *out, cg_err *err);

/* The value of a key, or NULL when absent. */
const char *cg_query_get(const cg_query *q, const char *key);

/* Refuses any parameter whose key is not in known[] (NULL-terminated), naming it. */
int cg_query_check_known(const cg_query *q, const char *const *known, cg_err *err);

/*
 * Typed getters. Each returns 0 and sets *present to 0 (leaving *out untouched) when the key is
 * absent, unless `required`, when absence is an error. A value that is not a number, not finite
 * or outside [min, max] is CG_EINVAL with field = key.
 */
int cg_query_double(const cg_query *q, const char *key, int required, double min, double max,
                    double *out, int *present, cg_err *err);
int cg_query_long(const cg_query *q, const char *key, long min, long max, long *out, int *present,
                  cg_err *err);

/* A flag: "true"/"1" sets *out to 1, "false"/"0" or absence to 0; anything else is CG_EINVAL
 * with field = key. */
int cg_query_bool(const cg_query *q, const char *key, int *out, cg_err *err);

/* Parses "minLon,minLat,maxLon,maxLat" into out[4], checking ranges and order. */
int cg_query_bbox(const cg_query *q, const char *key, double out[4], int *present, cg_err *err);

#endif
