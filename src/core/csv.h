/*
 * CSV (RFC 4180) reading and writing for bulk jobs such as `civgrid locate --csv`: quoted fields
 * with embedded commas, quotes and newlines, CRLF or LF line ends, a UTF-8 byte-order mark on the
 * first line ignored. Fields of one record are returned as pointers into the reader's buffer and
 * stay valid until the next call.
 */
#ifndef CG_CORE_CSV_H
#define CG_CORE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

typedef struct {
    FILE *in;
    cg_buf record;   /* the unquoted fields, NUL-separated */
    size_t *offsets; /* start of each field in record.data */
    size_t n_fields, cap_fields;
    size_t line;      /* line number where the current record ends, from 1 */
    size_t next_line; /* line number the next record starts on */
    size_t max_bytes; /* a record longer than this is an error (runaway quote) */
    int first;
} cg_csv_reader;

void cg_csv_reader_init(cg_csv_reader *r, FILE *in);
void cg_csv_reader_free(cg_csv_reader *r);
/* Reads the next record: returns 1 with fields, 0 at end of input, -1 on a malformed record. */
int cg_csv_next(cg_csv_reader *r);
const char *cg_csv_field(const cg_csv_reader *r, size_t i);

/* Appends one field, quoting it when it holds a comma, quote, CR or LF. */
void cg_csv_write_field(cg_buf *out, const char *s);

#endif
