/*
 * Fuzz target for the server's URL handling (src/http/query.c): the request target is split at
 * '?', the path percent-decoded and the query parsed, then every typed getter is run over every
 * parameter, as the handlers would. Nothing may crash, leak past the arena or read out of
 * bounds, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_arena *a = cg_arena_new(4096);
    cg_err err;
    const char *s = (const char *)data;
    const char *q = memchr(s, '?', size);
    size_t path_len = q ? (size_t)(q - s) : size;
    char *path;
    cg_url_decode(a, s, path_len, 0, &path, &err);
    cg_query query;
    if (q && cg_query_parse(a, q + 1, size - path_len - 1, &query, &err) == 0) {
        for (size_t i = 0; i < query.n; i++) {
            const char *key = query.params[i].key;
            double d, box[4];
            long n;
            int present;
            cg_query_double(&query, key, 1, -180, 180, &d, &present, &err);
            cg_query_long(&query, key, 0, 10000, &n, &present, &err);
            cg_query_bbox(&query, key, box, &present, &err);
        }
        static const char *const known[] = {"lat", "lon", "crs", NULL};
        cg_query_check_known(&query, known, &err);
    }
    cg_arena_free(a);
    return 0;
}
