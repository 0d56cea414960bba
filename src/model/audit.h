/*
 * The audit log's entries and their hash chain. Each entry's hash is SHA-256 over the previous
 * entry's hash and every field of the entry, in a fixed, length-prefixed encoding, so changing any
 * field of any row, removing a row or reordering rows breaks the chain from that row on. The
 * newest hash is also kept apart from the log (cg_store_audit_head), so removing the last rows is
 * caught too. Walking a store's log is app/audit.h's job; this file is the rule only.
 */
#ifndef CG_MODEL_AUDIT_H
#define CG_MODEL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct {
    int64_t seq; /* 1, 2, 3, ... without gaps */
    int64_t at;
    int64_t actor_id;
    char actor[48];
    char address[48];
    char action[48];    /* "grid.put", "grid.retire", "user.create", "contact.read", ... */
    char target[96];    /* "grid:330199001", "user:7", "case:...", ... */
    char summary[2048]; /* before/after, JSON */
    char prev_hash[65];
    char hash[65];
} cg_audit_entry;

/* The hash an entry should have, given its prev_hash and fields (hex, 64 digits). */
void cg_audit_hash(const cg_audit_entry *e, char out[65]);

/*
 * Checks one link: e follows an entry with prev_seq/prev_hash (0 and "" before the first).
 * Returns 0 when intact, -1 with the reason ("entry 17: hash does not match its contents").
 */
int cg_audit_check_link(int64_t prev_seq, const char *prev_hash, const cg_audit_entry *e,
                        char *reason, size_t cap);

/* Summaries are JSON built by hand with cg_json_write_string (geo/geojson.h). */

#endif
