/* The shared option parser: see opts.h. */
#include "core/opts.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_opts_print_help(const cg_cmd_help *h, void *stream)
{
    FILE *out = stream;
    fprintf(out, "usage: %s\n\n%s\n", h->usage, h->summary);
    if (h->opts && h->opts[0].type != CG_OPT_END) {
        fprintf(out, "\noptions:\n");
        for (const cg_opt *o = h->opts; o->type != CG_OPT_END; o++) {
            char left[64];
            if (o->arg)
                snprintf(left, sizeof left, "--%s %s", o->name, o->arg);
            else
                snprintf(left, sizeof left, "--%s", o->name);
            fprintf(out, "  %-24s %s\n", left, o->help);
        }
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help and exit");
    if (h->epilog)
        fprintf(out, "\n%s\n", h->epilog);
}

static const cg_opt *find_opt(const cg_opt *opts, const char *name, size_t len)
{
    for (const cg_opt *o = opts; o && o->type != CG_OPT_END; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int fail(const cg_cmd_help *h, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "civgrid: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\nusage: %s\n(see --help)\n", h->usage);
    return -1;
}

static int set_value(const cg_cmd_help *h, const cg_opt *o, const char *v)
{
    char *end;
    switch (o->type) {
    case CG_OPT_STRING:
        *(const char **)o->value = v;
        return 0;
    case CG_OPT_INT: {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < INT_MIN || n > INT_MAX)
            return fail(h, "option --%s expects a whole number, got '%s'", o->name, v);
        *(int *)o->value = (int)n;
        return 0;
    }
    case CG_OPT_DOUBLE: {
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || end == v || !isfinite(d))
            return fail(h, "option --%s expects a number, got '%s'", o->name, v);
        *(double *)o->value = d;
        return 0;
    }
    default:
        return -1;
    }
}

int cg_opts_parse(const cg_cmd_help *h, int *argc, char **argv)
{
    int n = *argc, out = 0;
    int only_positional = 0;
    for (int i = 1; i < n; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0' || (a[1] != '-' && a[1] != 'h')) {
            if (!only_positional && a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') &&
                a[1] != '.')
                return fail(h, "unknown option '%s'%s", a, "");
            argv[out++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cg_opts_print_help(h, stdout);
            return 1;
        }
        if (a[1] != '-')
            return fail(h, "unknown option '%s'%s", a, "");
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cg_opt *o = find_opt(h->opts, name, len);
        if (!o)
            return fail(h, "unknown option '%s'%s", a, "");
        if (o->type == CG_OPT_FLAG) {
            if (eq)
                return fail(h, "option --%s takes no value%s", o->name, "");
            *(int *)o->value = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= n)
                return fail(h, "option --%s needs a value (%s)", o->name, o->arg ? o->arg : "");
            v = argv[++i];
        }
        if (set_value(h, o, v) != 0)
            return -1;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}
