/*
 * Reading a ZIP archive held in memory (an upload), bounded: the entries a caller asks for are
 * extracted (stored or deflated, through zlib) with every size checked against the buffer and
 * the caller's limits before anything is allocated, and every CRC-32 verified. Refused with a
 * clear error: ZIP64, encryption, methods other than stored and deflate, more entries than the
 * limit, an entry or a total larger than the limits (a "zip bomb" stops at the limit), and any
 * offset or length that points outside the archive. Only the central directory is trusted for
 * names and sizes; the local header only locates the data.
 */
#ifndef CG_CORE_ZIP_H
#define CG_CORE_ZIP_H

#include <stddef.h>

#include "core/err.h"

typedef struct {
    size_t max_entries;     /* entries in the central directory (0: 1024) */
    size_t max_entry_bytes; /* uncompressed bytes of one extracted entry (0: 64 MiB) */
    size_t max_total_bytes; /* uncompressed bytes of all extracted entries (0: 256 MiB) */
} cg_zip_limits;

typedef struct {
    char name[256]; /* as stored (UTF-8 or CP437, not converted) */
    char *data;     /* malloc'd, NUL-terminated (len bytes before the NUL) */
    size_t len;
} cg_zip_entry;

/* Return non-zero to extract the entry of this name. Directories are never offered. */
typedef int (*cg_zip_want_fn)(void *ctx, const char *name);

/* Extracts the wanted entries of the archive in zip[0..len) into *out (cg_zip_entries_free). On
 * failure nothing is returned and err says what is wrong (field "zip"). */
int cg_zip_extract(const void *zip, size_t len, const cg_zip_limits *limits, cg_zip_want_fn want,
                   void *ctx, cg_zip_entry **out, size_t *n_out, cg_err *err);
void cg_zip_entries_free(cg_zip_entry *e, size_t n);

#endif
