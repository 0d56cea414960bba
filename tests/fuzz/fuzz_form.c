/*
 * Fuzz target for form bodies (src/core/form.c): the input's first line is the Content-Type,
 * the rest the body, parsed as the Open311 handler does (urlencoded or multipart with one
 * "media" file). Nothing may crash or read out of bounds, and a parsed form must hold what it
 * promises: names non-empty, values without NUL and as long as stated, the file inside the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cg_form_limits lim = {32, 64, 4096, 65536, "media"};
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - s) : 0;
    cg_arena *a = cg_arena_new(4096);
    char *ct = cg_arena_strndup(a, s, ct_len);
    const char *body = nl ? nl + 1 : s;
    size_t body_len = size - (size_t)(body - s);
    /* the body in its own allocation, so reads past it are caught */
    char *copy = malloc(body_len ? body_len : 1);
    memcpy(copy, body, body_len);
    cg_form f;
    cg_err err;
    if (cg_form_parse(a, ct, copy, body_len, &lim, &f, &err) == 0) {
        if (f.n > lim.max_fields)
            abort();
        for (size_t i = 0; i < f.n; i++) {
            if (!f.fields[i].name[0] || strlen(f.fields[i].name) > lim.max_name ||
                strlen(f.fields[i].value) != f.fields[i].value_len ||
                f.fields[i].value_len > lim.max_value)
                abort();
        }
        if (f.has_file && (f.file.len > lim.max_file || (const char *)f.file.data < copy ||
                           (const char *)f.file.data + f.file.len > copy + body_len))
            abort();
        static const char *const known[] = {"service_code", "description", NULL};
        cg_form_check_known(&f, known, &err);
        cg_form_get(&f, "description");
    }
    free(copy);
    cg_arena_free(a);
    return 0;
}
