/*
 * The audit log's hash chain. Each entry's hash is SHA-256 over the previous entry's hash and
 * every field of the entry, in a fixed, length-prefixed encoding, so changing any field of any
 * row, removing a row or reordering rows breaks the chain from that row on. The newest hash is
 * also kept apart from the log (cg_store_audit_head), so removing the last rows is caught too.
 */
#ifndef CG_MODEL_AUDIT_H
#define CG_MODEL_AUDIT_H

#include "store/store.h"

/* The hash an entry should have, given its prev_hash and fields (hex, 64 digits). */
void cg_audit_hash(const cg_audit_entry *e, char out[65]);

typedef struct {
    int64_t checked;
    int64_t first_bad_seq; /* 0 when the chain is intact */
    char reason[256];      /* "entry 17: hash does not match its contents", ... */
} cg_audit_verify_result;

/* Walks the whole log and the recorded head; result->first_bad_seq says where it breaks. */
int cg_audit_verify(cg_store *s, cg_audit_verify_result *result, cg_err *err);

#endif
