/* RFC 4180 CSV: see csv.h. A small state machine over getc(), one record at a time. */
#include "core/csv.h"

#include <stdlib.h>
#include <string.h>

void cg_csv_reader_init(cg_csv_reader *r, FILE *in)
{
    memset(r, 0, sizeof *r);
    r->in = in;
    cg_buf_init(&r->record);
    r->max_bytes = 1 << 20;
    r->first = 1;
}

void cg_csv_reader_free(cg_csv_reader *r)
{
    cg_buf_free(&r->record);
    free(r->offsets);
}

static void start_field(cg_csv_reader *r)
{
    if (r->n_fields == r->cap_fields) {
        r->cap_fields = r->cap_fields ? r->cap_fields * 2 : 16;
        r->offsets = realloc(r->offsets, sizeof(size_t) * r->cap_fields);
        if (!r->offsets)
            abort();
    }
    r->offsets[r->n_fields++] = r->record.len;
}

int cg_csv_next(cg_csv_reader *r)
{
    cg_buf_reset(&r->record);
    r->n_fields = 0;
    int c = getc(r->in);
    if (r->first) {
        r->first = 0;
        r->next_line = 1;
        if (c == 0xEF) { /* UTF-8 byte-order mark */
            if (getc(r->in) != 0xBB || getc(r->in) != 0xBF)
                return -1;
            c = getc(r->in);
        }
    }
    if (c == EOF)
        return 0;
    start_field(r);
    int quoted = 0, was_quoted = 0;
    for (;; c = getc(r->in)) {
        if (r->record.len > r->max_bytes)
            return -1;
        if (quoted) {
            if (c == EOF)
                return -1; /* unterminated quote */
            if (c == '"') {
                int d = getc(r->in);
                if (d == '"') {
                    cg_buf_putc(&r->record, '"');
                    continue;
                }
                ungetc(d, r->in);
                quoted = 0;
                continue;
            }
            if (c == '\n')
                r->next_line++;
            cg_buf_putc(&r->record, (char)c);
            continue;
        }
        if (c == '"' && !was_quoted && r->record.len == r->offsets[r->n_fields - 1]) {
            quoted = was_quoted = 1;
            continue;
        }
        if (c == ',') {
            cg_buf_putc(&r->record, '\0');
            start_field(r);
            was_quoted = 0;
            continue;
        }
        if (c == '\r') {
            int d = getc(r->in);
            if (d != '\n')
                ungetc(d, r->in);
            c = '\n';
        }
        if (c == '\n' || c == EOF) {
            cg_buf_putc(&r->record, '\0');
            r->line = r->next_line++;
            return 1;
        }
        cg_buf_putc(&r->record, (char)c);
    }
}

const char *cg_csv_field(const cg_csv_reader *r, size_t i)
{
    return i < r->n_fields ? r->record.data + r->offsets[i] : "";
}

void cg_csv_write_field(cg_buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        cg_buf_puts(out, s);
        return;
    }
    cg_buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            cg_buf_putc(out, '"');
        cg_buf_putc(out, *s);
    }
    cg_buf_putc(out, '"');
}
