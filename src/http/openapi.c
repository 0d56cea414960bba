/*
 * The OpenAPI document, kept as plain JSON in src/http/openapi.json (so it can be edited,
 * linted and diffed as JSON) and embedded into the binary with the assembler's .incbin: the
 * server has no files to find at run time. The API tests compare the served document with the
 * file and with the route table, so a stale embed or an undocumented route fails a test.
 */
#include <stddef.h>
#include <string.h>

#include "http/http.h"

__asm__(".section .rodata\n"
        ".global cg_openapi_json\n"
        ".type cg_openapi_json, @object\n"
        "cg_openapi_json:\n"
        ".incbin \"" CIVGRID_SOURCE_DIR "/src/http/openapi.json\"\n"
        ".byte 0\n"
        ".size cg_openapi_json, .-cg_openapi_json\n"
        ".previous\n");

size_t cg_openapi_json_len(void)
{
    return strlen(cg_openapi_json);
}
