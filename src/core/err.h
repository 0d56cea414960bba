/*
 * Errors are values. A function that can fail returns 0 on success and -1 on failure, and fills
 * the caller's cg_err with a code, the name of the offending field (when there is one) and a
 * message a person can act on. Library code never exits; the CLI and the HTTP layer turn a
 * cg_err into an exit status or an HTTP error body.
 */
#ifndef CG_CORE_ERR_H
#define CG_CORE_ERR_H

typedef enum {
    CG_OK = 0,
    CG_EINVAL,       /* bad input: a field is missing, malformed or out of range */
    CG_ENOTFOUND,    /* the thing asked for does not exist */
    CG_ECONFLICT,    /* it exists already, or the request contradicts stored state */
    CG_ELIMIT,       /* a size or count limit was exceeded */
    CG_EUNSUPPORTED, /* a format, version or option this build cannot handle */
    CG_ESCHEMA,      /* a database from a newer civgrid, or a broken schema */
    CG_EIO,          /* the file system or database failed */
    CG_EBUSY,        /* the database is locked or the disk is full: try again later */
    CG_ENOMEM,       /* out of memory */
    CG_EINTERNAL     /* a bug: an invariant did not hold */
} cg_code;

#define CG_ERR_FIELD_MAX   96
#define CG_ERR_MESSAGE_MAX 512

typedef struct {
    cg_code code;
    char field[CG_ERR_FIELD_MAX];
    char message[CG_ERR_MESSAGE_MAX];
} cg_err;

/* Fills err (when non-NULL) and returns -1, so callers can write `return cg_err_set(...)`. */
int cg_err_set(cg_err *err, cg_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes the message with context ("feature 12: ..."), keeping code and field. */
void cg_err_prefix(cg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void cg_err_clear(cg_err *err);

/* A stable machine name for the code, as used in API error bodies: "invalid", "not_found", ... */
const char *cg_code_name(cg_code code);

/* The HTTP status that belongs to a code (400, 404, 409, 413, 415, 500, 503, ...). */
int cg_code_http_status(cg_code code);

/* The documented exit status of the command line for a code (see docs/cli.md). */
int cg_code_exit_status(cg_code code);

#endif
