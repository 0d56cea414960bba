/*
 * Form bodies: see form.h. Both parsers walk the body once, copy only what they keep into the
 * arena (never more than the limits allow), and leave the file part where it lies in the body.
 */
#include "core/form.h"

#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A field name as it appears in errors: printable ASCII only, cut short. */
static void printable(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        dst[n++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[n] = '\0';
}

/* Decodes '+' and %XX of s[0..len) into the arena, refusing values longer than max bytes.
 * `field` names what is decoded in errors. */
static int form_decode(cg_arena *a, const char *s, size_t len, size_t max, const char *field,
                       char **out, size_t *out_len, cg_err *err)
{
    /* Every escape shrinks three bytes to one, so the decoded length is at most len. */
    char *d = cg_arena_alloc(a, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\0') {
            return cg_err_set(err, CG_EINVAL, field, "a NUL byte is not allowed");
        } else if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return cg_err_set(err, CG_EINVAL, field, "a %%XX escape is truncated");
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return cg_err_set(err, CG_EINVAL, field, "'%%%c%c' is not a %%XX escape",
                                  s[i + 1] > 0x20 && s[i + 1] < 0x7f ? s[i + 1] : '?',
                                  s[i + 2] > 0x20 && s[i + 2] < 0x7f ? s[i + 2] : '?');
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return cg_err_set(err, CG_EINVAL, field, "an encoded NUL (%%00) is not allowed");
            i += 2;
        }
        if (n == max)
            return cg_err_set(err, CG_ELIMIT, field, "longer than %zu bytes", max);
        d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return 0;
}

static int add_field(cg_form *out, const cg_form_limits *lim, const char *name, const char *value,
                     size_t value_len, cg_err *err)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->fields[i].name, name) == 0)
            return cg_err_set(err, CG_EINVAL, name, "given more than once");
    size_t max = lim->max_fields < CG_FORM_MAX_FIELDS ? lim->max_fields : CG_FORM_MAX_FIELDS;
    if (out->n >= max)
        return cg_err_set(err, CG_ELIMIT, "body", "more than %zu form fields", max);
    out->fields[out->n++] = (cg_form_field){name, value, value_len};
    return 0;
}

int cg_form_parse_urlencoded(cg_arena *a, const char *body, size_t len, const cg_form_limits *lim,
                             cg_form *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) {
            const char *pair = body + i;
            size_t plen = end - i;
            const char *eq = memchr(pair, '=', plen);
            size_t klen = eq ? (size_t)(eq - pair) : plen;
            char shown[64];
            printable(shown, sizeof shown, pair, klen);
            char *name, *value;
            size_t name_len, value_len;
            if (form_decode(a, pair, klen, lim->max_name, klen ? shown : "body", &name, &name_len,
                            err) != 0)
                return -1;
            if (name_len == 0)
                return cg_err_set(err, CG_EINVAL, "body", "a form field without a name");
            if (eq) {
                if (form_decode(a, eq + 1, plen - klen - 1, lim->max_value, name, &value,
                                &value_len, err) != 0)
                    return -1;
            } else {
                value = cg_arena_strdup(a, "");
                value_len = 0;
            }
            if (add_field(out, lim, name, value, value_len, err) != 0)
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

/* ---- multipart/form-data ---- */

/* Skips spaces and tabs. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * Finds parameter `key` in a header value's "; key=value; ..." list (case-insensitive keys) and
 * copies its value (unquoted) into the arena. Returns 1 when found, 0 when not, -1 on a
 * malformed quoted string.
 */
static int header_param(cg_arena *a, const char *v, size_t vlen, const char *key, char **out)
{
    const char *p = v, *end = v + vlen;
    size_t klen = strlen(key);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            return 0;
        p = skip_ws(semi + 1, end);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return 0;
        const char *kend = eq;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        int match = (size_t)(kend - p) == klen && strncasecmp(p, key, klen) == 0;
        p = skip_ws(eq + 1, end);
        char *val = cg_arena_alloc(a, (size_t)(end - p) + 1);
        size_t n = 0;
        if (p < end && *p == '"') {
            p++;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                val[n++] = *p++;
            }
            if (p == end)
                return -1;
            p++; /* the closing quote */
        } else {
            while (p < end && *p != ';' && *p != ' ' && *p != '\t')
                val[n++] = *p++;
        }
        val[n] = '\0';
        if (match) {
            *out = val;
            return 1;
        }
    }
    return 0;
}

/* The bytes of needle in hay, or NULL. */
static const char *find(const char *hay, size_t hay_len, const char *needle, size_t n)
{
    return memmem(hay, hay_len, needle, n);
}

typedef struct {
    char *name, *filename, *content_type;
} part_headers;

/* Parses one part's header block (the lines before the empty line). */
static int parse_part_headers(cg_arena *a, const char *h, size_t len, size_t index,
                              part_headers *ph, cg_err *err)
{
    memset(ph, 0, sizeof *ph);
    int has_disposition = 0;
    const char *p = h, *end = h + len;
    while (p < end) {
        const char *eol = find(p, (size_t)(end - p), "\r\n", 2);
        const char *lend = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(lend - p));
        if (!colon)
            return cg_err_set(err, CG_EINVAL, "body", "part %zu: a header line without ':'",
                              index + 1);
        size_t nlen = (size_t)(colon - p);
        const char *v = skip_ws(colon + 1, lend);
        size_t vlen = (size_t)(lend - v);
        if (nlen == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
            if (has_disposition)
                return cg_err_set(err, CG_EINVAL, "body",
                                  "part %zu: Content-Disposition given twice", index + 1);
            has_disposition = 1;
            if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0 ||
                (vlen > 9 && v[9] != ';' && v[9] != ' ' && v[9] != '\t'))
                return cg_err_set(err, CG_EINVAL, "body",
                                  "part %zu: Content-Disposition must be form-data", index + 1);
            if (header_param(a, v, vlen, "name", &ph->name) < 0 ||
                header_param(a, v, vlen, "filename", &ph->filename) < 0)
                return cg_err_set(err, CG_EINVAL, "body",
                                  "part %zu: an unterminated quoted string in Content-Disposition",
                                  index + 1);
        } else if (nlen == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
            ph->content_type = cg_arena_strndup(a, v, vlen);
        }
        /* Other part headers (Content-Transfer-Encoding is deprecated by RFC 7578) are
         * ignored. */
        p = eol ? eol + 2 : end;
    }
    if (!has_disposition)
        return cg_err_set(err, CG_EINVAL, "body", "part %zu has no Content-Disposition", index + 1);
    if (!ph->name || !ph->name[0])
        return cg_err_set(err, CG_EINVAL, "body", "part %zu has no field name", index + 1);
    return 0;
}

static int boundary_of(cg_arena *a, const char *content_type, char **out, cg_err *err)
{
    char *b = NULL;
    int rc = header_param(a, content_type, strlen(content_type), "boundary", &b);
    if (rc < 0)
        return cg_err_set(err, CG_EINVAL, "Content-Type", "an unterminated quoted boundary");
    if (rc == 0 || !b[0])
        return cg_err_set(err, CG_EINVAL, "Content-Type",
                          "multipart/form-data needs a boundary parameter");
    size_t n = strlen(b);
    if (n > CG_FORM_BOUNDARY_MAX)
        return cg_err_set(err, CG_EINVAL, "Content-Type", "the boundary is longer than %d bytes",
                          CG_FORM_BOUNDARY_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e)
            return cg_err_set(err, CG_EINVAL, "Content-Type",
                              "the boundary holds a character RFC 2046 does not allow");
    *out = b;
    return 0;
}

int cg_form_parse_multipart(cg_arena *a, const char *content_type, const char *body, size_t len,
                            const cg_form_limits *lim, cg_form *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    char *boundary = NULL;
    if (boundary_of(a, content_type, &boundary, err) != 0)
        return -1;
    size_t blen = strlen(boundary);
    /* delim = CRLF "--" boundary; the first one may stand at the very start of the body. */
    char *delim = cg_arena_sprintf(a, "\r\n--%s", boundary);
    size_t dlen = blen + 4;
    const char *p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const char *d = find(body, len, delim, dlen);
        if (!d)
            return cg_err_set(err, CG_EINVAL, "body", "no multipart boundary in the body");
        p = d + dlen;
    }
    const char *end = body + len;
    for (size_t index = 0;; index++) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0;        /* the closing delimiter; an epilogue after it is ignored */
        p = skip_ws(p, end); /* transport padding */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return cg_err_set(err, CG_EINVAL, "body",
                              "part %zu: the boundary line does not end with CRLF", index + 1);
        p += 2;
        /* The header block ends at an empty line; a part with no headers starts with one. */
        const char *hend;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p;
        } else {
            size_t window = (size_t)(end - p);
            if (window > CG_FORM_MAX_HEADERS + 4)
                window = CG_FORM_MAX_HEADERS + 4;
            hend = find(p, window, "\r\n\r\n", 4);
            if (!hend)
                return cg_err_set(err, CG_EINVAL, "body",
                                  "part %zu: the headers do not end (or exceed %d bytes)",
                                  index + 1, CG_FORM_MAX_HEADERS);
        }
        part_headers ph;
        if (parse_part_headers(a, p, (size_t)(hend - p), index, &ph, err) != 0)
            return -1;
        const char *content = hend == p ? p + 2 : hend + 4;
        const char *next = find(content, (size_t)(end - content), delim, dlen);
        if (!next)
            return cg_err_set(err, CG_EINVAL, "body",
                              "part %zu ('%.40s'): the body ends without a closing boundary",
                              index + 1, ph.name);
        size_t clen = (size_t)(next - content);
        if (strlen(ph.name) > lim->max_name)
            return cg_err_set(err, CG_ELIMIT, "body", "part %zu: a field name over %zu bytes",
                              index + 1, lim->max_name);
        int is_file = ph.filename || (lim->file_field && strcmp(ph.name, lim->file_field) == 0);
        if (is_file) {
            if (!lim->file_field || strcmp(ph.name, lim->file_field) != 0)
                return cg_err_set(err, CG_EINVAL, ph.name, "a file is accepted only as %s%s%s",
                                  lim->file_field ? "field '" : "(none here)",
                                  lim->file_field ? lim->file_field : "",
                                  lim->file_field ? "'" : "");
            if (out->has_file)
                return cg_err_set(err, CG_EINVAL, ph.name, "given more than once");
            if (clen > lim->max_file)
                return cg_err_set(err, CG_ELIMIT, ph.name,
                                  "the file is %zu bytes, over the limit of %zu", clen,
                                  lim->max_file);
            out->has_file = 1;
            out->file.filename = ph.filename ? ph.filename : "";
            out->file.content_type = ph.content_type ? ph.content_type : "";
            out->file.data = (const unsigned char *)content;
            out->file.len = clen;
        } else {
            if (clen > lim->max_value)
                return cg_err_set(err, CG_ELIMIT, ph.name, "longer than %zu bytes", lim->max_value);
            if (memchr(content, '\0', clen))
                return cg_err_set(err, CG_EINVAL, ph.name, "a NUL byte is not allowed");
            if (add_field(out, lim, ph.name, cg_arena_strndup(a, content, clen), clen, err) != 0)
                return -1;
        }
        p = next + dlen;
    }
}

/* Does the media type of a Content-Type value equal `type` (case-insensitive)? */
static int media_type_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, type, n) != 0)
        return 0;
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0' || *p == ';';
}

int cg_form_parse(cg_arena *a, const char *content_type, const char *body, size_t len,
                  const cg_form_limits *lim, cg_form *out, cg_err *err)
{
    if (!content_type || !content_type[0]) {
        if (len == 0) {
            memset(out, 0, sizeof *out);
            return 0;
        }
        return cg_err_set(err, CG_EUNSUPPORTED, "Content-Type",
                          "a form body needs Content-Type application/x-www-form-urlencoded "
                          "or multipart/form-data");
    }
    if (media_type_is(content_type, "application/x-www-form-urlencoded"))
        return cg_form_parse_urlencoded(a, body, len, lim, out, err);
    if (media_type_is(content_type, "multipart/form-data"))
        return cg_form_parse_multipart(a, content_type, body, len, lim, out, err);
    char shown[64];
    printable(shown, sizeof shown, content_type, strlen(content_type));
    return cg_err_set(err, CG_EUNSUPPORTED, "Content-Type",
                      "'%s' is not application/x-www-form-urlencoded or multipart/form-data",
                      shown);
}

const char *cg_form_get(const cg_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

int cg_form_check_known(const cg_form *f, const char *const *known, cg_err *err)
{
    for (size_t i = 0; i < f->n; i++) {
        int ok = 0;
        for (size_t k = 0; known[k] && !ok; k++)
            ok = strcmp(f->fields[i].name, known[k]) == 0;
        if (!ok) {
            char shown[64];
            printable(shown, sizeof shown, f->fields[i].name, strlen(f->fields[i].name));
            return cg_err_set(err, CG_EINVAL, shown, "unknown form field");
        }
    }
    return 0;
}
