/*
 * A growable byte buffer for building output (JSON, CSV, SQL-free text). Owns its memory; free
 * with cg_buf_free. Always NUL-terminated so data can be used as a C string.
 */
#ifndef CG_CORE_BUF_H
#define CG_CORE_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} cg_buf;

void cg_buf_init(cg_buf *b);
void cg_buf_free(cg_buf *b);
void cg_buf_reset(cg_buf *b);
/* Grows the buffer and appends (the slow path of cg_buf_append). */
void cg_buf_append_grow(cg_buf *b, const void *data, size_t n);

/* Appends n bytes. Inline: output is built from many short pieces (a page of 100 cases is ~4,000
 * appends), and a piece that fits costs a compare and a copy the compiler can inline. */
static inline void cg_buf_append(cg_buf *b, const void *data, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    cg_buf_append_grow(b, data, n);
}

static inline void cg_buf_puts(cg_buf *b, const char *s)
{
    cg_buf_append(b, s, strlen(s));
}

static inline void cg_buf_putc(cg_buf *b, char c)
{
    cg_buf_append(b, &c, 1);
}
void cg_buf_printf(cg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A signed integer in decimal, without printf (the cost of a page of cases was mostly printf). */
void cg_buf_put_i64(cg_buf *b, long long v);
/* A number with exactly `decimals` (0..9) digits after the point, as printf's "%.*f" writes it:
 * coordinates at 7 decimals (about 1 cm, the precision civgrid stores them at). Values too large
 * for the fast path, and NaN or infinities, go through printf. */
void cg_buf_put_fixed(cg_buf *b, double v, int decimals);
/* Takes the data out of the buffer (caller frees), leaving the buffer empty. */
char *cg_buf_detach(cg_buf *b, size_t *len);

/* Reads a whole file; returns 0 or -1 with errno set. Caller frees *data. */
int cg_read_file(const char *path, char **data, size_t *len, size_t max_len);

#endif
