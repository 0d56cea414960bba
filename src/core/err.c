/* Error values: see err.h. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cg_err_set(cg_err *err, cg_code code, const char *field, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

void cg_err_prefix(cg_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[CG_ERR_MESSAGE_MAX];
    memcpy(old, err->message, sizeof old);
    size_t n = strlen(prefix);
    if (n + 2 >= sizeof err->message)
        n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t rest = sizeof err->message - n - 3;
    size_t old_len = strnlen(old, rest);
    memcpy(err->message + n + 2, old, old_len);
    err->message[n + 2 + old_len] = '\0';
}

void cg_err_clear(cg_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *cg_code_name(cg_code code)
{
    switch (code) {
    case CG_OK:
        return "ok";
    case CG_EINVAL:
        return "invalid";
    case CG_ENOTFOUND:
        return "not_found";
    case CG_ECONFLICT:
        return "conflict";
    case CG_ELIMIT:
        return "too_large";
    case CG_EUNSUPPORTED:
        return "unsupported";
    case CG_ESCHEMA:
        return "schema";
    case CG_EIO:
        return "io";
    case CG_EBUSY:
        return "unavailable";
    case CG_ENOMEM:
        return "out_of_memory";
    case CG_EINTERNAL:
        return "internal";
    }
    return "internal";
}

int cg_code_http_status(cg_code code)
{
    switch (code) {
    case CG_OK:
        return 200;
    case CG_EINVAL:
        return 400;
    case CG_ENOTFOUND:
        return 404;
    case CG_ECONFLICT:
        return 409;
    case CG_ELIMIT:
        return 413;
    case CG_EUNSUPPORTED:
        return 415;
    case CG_EBUSY:
        return 503;
    case CG_ESCHEMA:
    case CG_EIO:
    case CG_ENOMEM:
    case CG_EINTERNAL:
        return 500;
    }
    return 500;
}

int cg_code_exit_status(cg_code code)
{
    switch (code) {
    case CG_OK:
        return 0;
    case CG_EINVAL:
    case CG_ENOTFOUND:
    case CG_ECONFLICT:
    case CG_ELIMIT:
    case CG_EUNSUPPORTED:
        return 3;
    case CG_ESCHEMA:
    case CG_EIO:
    case CG_EBUSY:
    case CG_ENOMEM:
    case CG_EINTERNAL:
        return 4;
    }
    return 4;
}
