/*
 * The staff listing of cases (cg_cases_list, app/cases.h): the in-memory index answers the
 * filters it can (app/case_index.h), SQL the rest. Both give the same page and total.
 */
#include "app/cases.h"

int cg_cases_list(const cg_case_ctx *ctx, const cg_case_filter *f, cg_case_cb cb, void *cb_ctx,
                  int64_t *total, cg_err *err)
{
    int rc = cg_case_index_list(ctx->index, ctx->store, f, cb, cb_ctx, total, err);
    if (rc <= 0)
        return rc;
    if (cg_store_case_count(ctx->store, f, total, err) != 0)
        return -1;
    return cg_store_case_list(ctx->store, f, cb, cb_ctx, err);
}
