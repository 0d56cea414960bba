/*
 * The audit log's hash chain (audit.h). An entry's hash is SHA-256 over a fixed encoding of the
 * previous entry's hash and every field of the entry. Each field is written as its length in
 * decimal, a colon and its bytes (a netstring without the comma), so no two different entries
 * encode to the same bytes: moving text from one field to the next changes the lengths. Numbers
 * are written in decimal. A leading tag names the encoding, so a future change of rule can be
 * told apart from tampering.
 */
#include "model/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"

#define AUDIT_HASH_TAG "civgrid-audit-v1"

static void put_field(cg_buf *b, const char *text)
{
    cg_buf_printf(b, "%zu:", strlen(text));
    cg_buf_puts(b, text);
}

static void put_number(cg_buf *b, int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    put_field(b, text);
}

void cg_audit_hash(const cg_audit_entry *e, char out[65])
{
    cg_buf b;
    cg_buf_init(&b);
    put_field(&b, AUDIT_HASH_TAG);
    put_field(&b, e->prev_hash);
    put_number(&b, e->seq);
    put_number(&b, e->at);
    put_number(&b, e->actor_id);
    put_field(&b, e->actor);
    put_field(&b, e->address);
    put_field(&b, e->action);
    put_field(&b, e->target);
    put_field(&b, e->summary);
    cg_sha256_hex(b.data, b.len, out);
    cg_buf_free(&b);
}

int cg_audit_check_link(int64_t prev_seq, const char *prev_hash, const cg_audit_entry *e,
                        char *reason, size_t cap)
{
    if (e->seq != prev_seq + 1) {
        snprintf(reason, cap,
                 "entry %" PRId64 ": expected entry %" PRId64
                 " here (entries are missing or out of order)",
                 e->seq, prev_seq + 1);
        return -1;
    }
    if (strcmp(e->prev_hash, prev_hash) != 0) {
        snprintf(reason, cap,
                 "entry %" PRId64 ": its link to entry %" PRId64
                 " is broken (that entry was changed or replaced)",
                 e->seq, prev_seq);
        return -1;
    }
    char expected[65];
    cg_audit_hash(e, expected);
    if (strcmp(expected, e->hash) != 0) {
        snprintf(reason, cap, "entry %" PRId64 ": hash does not match its contents", e->seq);
        return -1;
    }
    return 0;
}
