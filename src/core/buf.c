/* Growable buffer and whole-file reading: see buf.h. */
#include "core/buf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_buf_init(cg_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void cg_buf_free(cg_buf *b)
{
    free(b->data);
    cg_buf_init(b);
}

void cg_buf_reset(cg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void reserve(cg_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        fprintf(stderr, "civgrid: out of memory growing a buffer to %zu bytes\n", cap);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void cg_buf_append_grow(cg_buf *b, const void *data, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cg_buf_printf(cg_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void cg_buf_put_i64(cg_buf *b, long long v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    cg_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void cg_buf_put_fixed(cg_buf *b, double v, int decimals)
{
    static const double scale[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    /* |v| * 10^decimals below 2^53: the scaled value is an exact integer after rounding. */
    if (!(fabs(v) < 1e6)) {
        cg_buf_printf(b, "%.*f", decimals, v);
        return;
    }
    double scaled = nearbyint(fabs(v) * scale[decimals]);
    unsigned long long m = (unsigned long long)scaled;
    unsigned long long unit = (unsigned long long)scale[decimals];
    char tmp[40];
    char *p = tmp + sizeof tmp;
    unsigned long long frac = m % unit, whole = m / unit;
    for (int i = 0; i < decimals; i++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    if (decimals)
        *--p = '.';
    do {
        *--p = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (signbit(v))
        *--p = '-'; /* printf writes "-0.0000000" for a negative value that rounds to zero */
    cg_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

char *cg_buf_detach(cg_buf *b, size_t *len)
{
    if (!b->data)
        reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    cg_buf_init(b);
    return p;
}

int cg_read_file(const char *path, char **data, size_t *len, size_t max_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    cg_buf b;
    cg_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max_len && b.len + n > max_len) {
            fclose(f);
            cg_buf_free(&b);
            errno = EFBIG;
            return -1;
        }
        cg_buf_append(&b, chunk, n);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        cg_buf_free(&b);
        errno = EIO;
        return -1;
    }
    *data = cg_buf_detach(&b, len);
    return 0;
}
