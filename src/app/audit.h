/*
 * Verifying a store's audit log end to end: every link of the hash chain (model/audit.h) and the
 * head recorded apart from the log. `civgrid audit verify` and the API call this.
 */
#ifndef CG_APP_AUDIT_H
#define CG_APP_AUDIT_H

#include "store/store.h"

typedef struct {
    int64_t checked;
    int64_t first_bad_seq; /* 0 when the chain is intact */
    char reason[256];
} cg_audit_verify_result;

int cg_audit_verify(cg_store *s, cg_audit_verify_result *result, cg_err *err);

#endif
