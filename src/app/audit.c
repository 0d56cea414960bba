/*
 * Verifying a store's audit log end to end (audit.h): walk every entry in seq order checking
 * each link of the hash chain (model/audit.h), then compare the last entry with the head the
 * store keeps apart from the log. An edited row breaks its own hash, a deleted or reordered row
 * breaks the seq sequence or the next link, and a deleted tail leaves the head pointing past the
 * end. The walk runs inside one read transaction, so a writer appending meanwhile cannot make a
 * consistent log look broken.
 */
#include "app/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    cg_audit_verify_result *r;
    int64_t prev_seq;
    char prev_hash[65];
} walk;

static int check_entry(void *ctx, const cg_audit_entry *e)
{
    walk *w = ctx;
    if (cg_audit_check_link(w->prev_seq, w->prev_hash, e, w->r->reason, sizeof w->r->reason)) {
        /* A missing entry is reported at the position where the chain broke. */
        w->r->first_bad_seq =
            e->seq > w->prev_seq + 1 || e->seq <= w->prev_seq ? w->prev_seq + 1 : e->seq;
        return 1;
    }
    w->r->checked++;
    w->prev_seq = e->seq;
    memcpy(w->prev_hash, e->hash, sizeof w->prev_hash);
    return 0;
}

int cg_audit_verify(cg_store *s, cg_audit_verify_result *result, cg_err *err)
{
    memset(result, 0, sizeof *result);
    walk w = {result, 0, ""};
    if (cg_store_begin(s, err))
        return -1;
    int64_t head_seq;
    char head_hash[65];
    int rc = cg_store_audit_list(s, NULL, check_entry, &w, err) ||
             cg_store_audit_head(s, &head_seq, head_hash, err);
    cg_store_rollback(s);
    if (rc)
        return -1;
    if (result->first_bad_seq)
        return 0;
    if (head_seq != w.prev_seq || strcmp(head_hash, w.prev_hash) != 0) {
        result->first_bad_seq = w.prev_seq + 1;
        snprintf(result->reason, sizeof result->reason,
                 "the log ends at entry %" PRId64 " but its recorded head is entry %" PRId64
                 " (entries were removed from the end, or the head was changed)",
                 w.prev_seq, head_seq);
    }
    return 0;
}
