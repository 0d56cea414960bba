/*
 * HTML form bodies as clients send them: application/x-www-form-urlencoded ("a=1&b=x+y%21") and
 * multipart/form-data (RFC 7578: text fields plus at most one file part, a photo). Open311's
 * POST requests come in either. Everything is bounded by the caller's limits (field count, name
 * and value length, file size), decoded into an arena, and refused with an error naming the
 * field ("description: a %XX escape is truncated") or "body" when no field can be named.
 *
 * Pure functions over a buffer: no I/O, so tests/fuzz/fuzz_form.c feeds them arbitrary bytes.
 */
#ifndef CG_CORE_FORM_H
#define CG_CORE_FORM_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define CG_FORM_MAX_FIELDS   64   /* hard ceiling of cg_form_limits.max_fields */
#define CG_FORM_MAX_HEADERS  2048 /* bytes of one multipart part's header block */
#define CG_FORM_BOUNDARY_MAX 70   /* RFC 2046 */

typedef struct {
    size_t max_fields;      /* text fields (<= CG_FORM_MAX_FIELDS) */
    size_t max_name;        /* bytes of a decoded field name */
    size_t max_value;       /* bytes of a decoded text value */
    size_t max_file;        /* bytes of the file part */
    const char *file_field; /* the one field name a file may come under ("media"); NULL: none */
} cg_form_limits;

typedef struct {
    const char *name;  /* decoded, NUL-terminated, in the arena */
    const char *value; /* decoded, NUL-terminated (no NUL inside: refused), in the arena */
    size_t value_len;
} cg_form_field;

typedef struct {
    const char *filename;      /* as sent ("" when none), in the arena */
    const char *content_type;  /* the part's Content-Type ("" when none), in the arena */
    const unsigned char *data; /* points into the body given to the parser (not copied) */
    size_t len;
} cg_form_file;

typedef struct {
    cg_form_field fields[CG_FORM_MAX_FIELDS];
    size_t n;
    int has_file;
    cg_form_file file;
} cg_form;

/*
 * Parses "a=1&b=x+y%21": '+' is a space, %XX a byte; an empty pair ("a=1&&b=2") is skipped. A
 * repeated name, an empty name, a truncated or non-hex escape, an encoded NUL, or a name or value
 * over its limit is refused.
 */
int cg_form_parse_urlencoded(cg_arena *a, const char *body, size_t len, const cg_form_limits *lim,
                             cg_form *out, cg_err *err);

/*
 * Parses a multipart/form-data body whose boundary comes from content_type
 * ("multipart/form-data; boundary=XyZ", quoted or not). Each part needs a Content-Disposition of
 * form-data with a name; a part with a filename is the file and must come under
 * lim->file_field, once. Text values are taken verbatim (no decoding) and must not contain NUL.
 */
int cg_form_parse_multipart(cg_arena *a, const char *content_type, const char *body, size_t len,
                            const cg_form_limits *lim, cg_form *out, cg_err *err);

/*
 * Either of the above by the request's Content-Type (parameters such as "; charset=utf-8"
 * allowed); any other type is CG_EUNSUPPORTED on field "Content-Type". A NULL or empty type with
 * an empty body is an empty form.
 */
int cg_form_parse(cg_arena *a, const char *content_type, const char *body, size_t len,
                  const cg_form_limits *lim, cg_form *out, cg_err *err);

/* The value of a field, or NULL when absent. */
const char *cg_form_get(const cg_form *f, const char *name);

/* Refuses a field whose name is not in known[] (NULL-terminated), naming it. */
int cg_form_check_known(const cg_form *f, const char *const *known, cg_err *err);

#endif
