/*
 * The staff listing of cases (cg_cases_list_json, app/cases.h): the in-memory index answers the
 * filters it can (app/case_index.h), SQL the rest. Both give the same page, byte for byte, and
 * the same total.
 */
#include "app/case_index.h"
#include "app/cases.h"

typedef struct {
    const cg_case_ctx *ctx;
    cg_buf *out;
    size_t n;
} sql_page;

static int put_case(void *arg, const cg_case *c)
{
    sql_page *p = arg;
    if (p->n++)
        cg_buf_putc(p->out, ',');
    cg_case_json(c, p->ctx->rules, p->ctx->now, p->out);
    return 0;
}

int cg_cases_list_json(const cg_case_ctx *ctx, const cg_case_filter *f, cg_buf *out, size_t *n,
                       int64_t *total, cg_err *err)
{
    int rc =
        cg_case_index_list(ctx->index, ctx->store, f, ctx->rules, ctx->now, out, n, total, err);
    if (rc <= 0)
        return rc;
    size_t start = out->len;
    sql_page p = {ctx, out, 0};
    if (cg_store_case_count(ctx->store, f, total, err) != 0 ||
        cg_store_case_list(ctx->store, f, put_case, &p, err) != 0) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return -1;
    }
    *n = p.n;
    return 0;
}
