/*
 * The built-in overview page (src/http/landing.html) that GET / answers with when no web console
 * directory exists, so a person opening the printed URL sees the grids on a map instead of a 404.
 * It is embedded with .incbin like the OpenAPI document (see openapi.c): one file to edit as
 * HTML, nothing to find at run time. When a web directory is configured, static.c serves its
 * index.html instead and this page is never sent.
 */
#include <string.h>

#include "http/http.h"

__asm__(".section .rodata\n"
        ".global cg_landing_html\n"
        ".type cg_landing_html, @object\n"
        "cg_landing_html:\n"
        ".incbin \"" CIVGRID_SOURCE_DIR "/src/http/landing.html\"\n"
        ".byte 0\n"
        ".size cg_landing_html, .-cg_landing_html\n"
        ".previous\n");

void cg_http_landing_serve(cg_http_req *req)
{
    /* The page changes with the binary, not with the data: revalidate so an upgrade shows. */
    cg_http_add_header(req, "Cache-Control", "no-cache");
    cg_http_reply_static(req, 200, "text/html; charset=utf-8", cg_landing_html,
                         strlen(cg_landing_html));
}
