/*
 * XML writing: see xml.h. The UTF-8 check follows RFC 3629 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), so every byte the writer lets through is a character XML accepts.
 */
#include "core/xml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

void cg_xml_escape(cg_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [i - run, i) are plain and not yet appended */
    while (i < len) {
        unsigned cp;
        size_t n = utf8_sequence(p + i, len - i, &cp);
        const char *rep = NULL;
        if (n == 0) {
            rep = REPLACEMENT;
            n = 1;
        } else if (cp == '&') {
            rep = "&amp;";
        } else if (cp == '<') {
            rep = "&lt;";
        } else if (cp == '>') {
            rep = "&gt;";
        } else if (cp == '"') {
            rep = "&quot;";
        } else if (cp == '\'') {
            rep = "&apos;";
        } else if (cp == '\t') {
            rep = "&#9;";
        } else if (cp == '\n') {
            rep = "&#10;";
        } else if (cp == '\r') {
            rep = "&#13;";
        } else if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) {
            rep = REPLACEMENT;
        }
        if (rep) {
            cg_buf_append(b, p + i - run, run);
            run = 0;
            cg_buf_puts(b, rep);
        } else {
            run += n;
        }
        i += n;
    }
    cg_buf_append(b, p + i - run, run);
}

void cg_xml_begin(cg_xml *x, cg_buf *b)
{
    x->b = b;
    x->depth = 0;
    cg_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void cg_xml_open(cg_xml *x, const char *name)
{
    if (x->depth == CG_XML_MAX_DEPTH)
        abort();
    x->open[x->depth++] = name;
    cg_buf_printf(x->b, "<%s>", name);
}

void cg_xml_close(cg_xml *x)
{
    if (x->depth == 0)
        abort();
    cg_buf_printf(x->b, "</%s>", x->open[--x->depth]);
}

void cg_xml_end(cg_xml *x)
{
    while (x->depth > 0)
        cg_xml_close(x);
    cg_buf_putc(x->b, '\n');
}

void cg_xml_element(cg_xml *x, const char *name, const char *text)
{
    if (!text) {
        cg_buf_printf(x->b, "<%s/>", name);
        return;
    }
    cg_buf_printf(x->b, "<%s>", name);
    cg_xml_escape(x->b, text, strlen(text));
    cg_buf_printf(x->b, "</%s>", name);
}

void cg_xml_elementf(cg_xml *x, const char *name, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof small) {
        cg_buf_printf(x->b, "<%s>", name);
        cg_xml_escape(x->b, small, (size_t)n);
        cg_buf_printf(x->b, "</%s>", name);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cg_buf_printf(x->b, "<%s>", name);
    cg_xml_escape(x->b, big, (size_t)n);
    cg_buf_printf(x->b, "</%s>", name);
    free(big);
}
