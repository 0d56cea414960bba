/*
 * A growable byte buffer for building output (JSON, CSV, SQL-free text). Owns its memory; free
 * with cg_buf_free. Always NUL-terminated so data can be used as a C string.
 */
#ifndef CG_CORE_BUF_H
#define CG_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
} cg_buf;

void cg_buf_init(cg_buf *b);
void cg_buf_free(cg_buf *b);
void cg_buf_reset(cg_buf *b);
void cg_buf_append(cg_buf *b, const void *data, size_t n);
void cg_buf_puts(cg_buf *b, const char *s);
void cg_buf_putc(cg_buf *b, char c);
void cg_buf_printf(cg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the data out of the buffer (caller frees), leaving the buffer empty. */
char *cg_buf_detach(cg_buf *b, size_t *len);

/* Reads a whole file; returns 0 or -1 with errno set. Caller frees *data. */
int cg_read_file(const char *path, char **data, size_t *len, size_t max_len);

#endif
