/*
 * Fuzz target for the taxonomy importer (src/model/category.c), which reads administrator
 * uploads: every input is accepted or refused with an error naming a field; an accepted
 * taxonomy exports to JSON that imports back to the same categories.
 */
#include <stdint.h>
#include <string.h>

#include "model/category.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_taxonomy a, b;
    cg_err err = {0};
    if (cg_taxonomy_parse((const char *)data, size, &a, &err)) {
        if (!err.field[0] || !err.message[0] || a.n != 0)
            __builtin_trap();
        return 0;
    }
    cg_buf out;
    cg_buf_init(&out);
    cg_taxonomy_to_json(&a, &out);
    if (cg_taxonomy_parse(out.data, out.len, &b, &err) || b.n != a.n)
        __builtin_trap();
    for (size_t i = 0; i < a.n; i++) {
        if (memcmp(&a.items[i], &b.items[i], sizeof a.items[i]))
            __builtin_trap();
        if (a.items[i].kind != CG_CAT_GROUP && !cg_taxonomy_find(&a, a.items[i].parent))
            __builtin_trap();
    }
    cg_buf_free(&out);
    cg_taxonomy_free(&a);
    cg_taxonomy_free(&b);
    return 0;
}
