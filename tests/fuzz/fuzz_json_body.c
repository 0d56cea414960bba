/*
 * Fuzz target for API request bodies (core/json.c: the depth guard and the "one object with
 * these keys" check every JSON route uses before reading fields).
 */
#include <stdint.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const known[] = {"username", "password", "client",  "budget", "p",
                                        "roles",    "scope",    "members", NULL};
    cg_err err;
    json_t *root = cg_json_parse_object((const char *)data, size, known, &err);
    if (root) {
        if (!json_is_object(root))
            __builtin_trap();
        json_decref(root);
    } else if (!err.message[0]) {
        __builtin_trap(); /* every refusal says why */
    }
    return 0;
}
