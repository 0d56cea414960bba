/*
 * The server's in-memory index of cases for the staff listing (GET /api/v1/cases): for each grid
 * code and state, the cases' (reported_at, id) in order. A list filtered by grid subtree, scope,
 * states and a report-time window, newest first, is then a k-way merge over the runs of the
 * subtree's codes with a binary search for the window: the page's ids and the total come from
 * memory, and SQLite only reads the page's rows by id. Other filters (text, bbox, category,
 * overdue, source, assignee, reporter, ids, other orders) are not served here: the caller lists
 * through SQL (cg_cases_list in app/cases.h does the choosing).
 *
 * Never stale: each list runs in one read transaction of the caller's connection. It reads the
 * store's case mark (store.h: the audit log's head and the newest case id) and, before
 * answering, applies every case write made since the index's own mark, by this process or any
 * other (cg_store_case_keys_since); the rows are then read in the same transaction, so ids, order,
 * total and rows all describe one moment, exactly as the SQL path would. A restored database (a
 * history that is not the one followed) makes the index rebuild itself.
 *
 * Memory: 8 bytes per case in the runs (reported_at and id packed in one 64-bit key, so both must
 * fit in 32 bits: otherwise the index steps aside and lists go through SQL) and 4 per case id
 * for finding a case's run. Thread-safe: one mutex, held while the page is chosen.
 *
 * Rows: the cases of pages listed before are kept in memory as the list wrote them (their JSON
 * but for overdue and remaining_s, ~900 bytes a case), up to a bound set with
 * cg_case_index_set_row_limit (none by default), so a page seen before costs no SQLite read and
 * no JSON writing. A kept row is dropped by any write to its case and by rules of another
 * generation; the page written is byte for byte what cg_case_json gives for the rows SQLite
 * holds in the list's snapshot.
 */
#ifndef CG_APP_CASE_INDEX_H
#define CG_APP_CASE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "app/cases.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

typedef struct cg_case_index cg_case_index;

/* Builds the index from s (one read transaction; s must not be inside one). */
int cg_case_index_build(cg_store *s, cg_case_index **out, cg_err *err);
void cg_case_index_free(cg_case_index *ix);

typedef struct {
    int64_t cases;  /* cases indexed */
    int64_t codes;  /* distinct grid codes ("" included) */
    int64_t bytes;  /* memory held */
    double seconds; /* time of the last (re)build */
    int64_t rebuilds;
    int serving; /* 0: stepped aside (a value out of range), lists go through SQL */
    int64_t rows, row_bytes, row_limit; /* rows kept in memory, their bytes, the bound */
    int64_t row_hits, row_misses;       /* rows of pages answered from memory / read from SQLite */
    int64_t row_flushes;                /* times the bound was reached and the rows let go */
} cg_case_index_stats;
void cg_case_index_stats_get(cg_case_index *ix, cg_case_index_stats *out);

/* Bounds the memory of the rows kept (bytes; 0 keeps none, and lets go of those kept). */
void cg_case_index_set_row_limit(cg_case_index *ix, int64_t bytes);

/* Does the filter have a shape the index answers (before looking at the data)? */
int cg_case_index_fits(const cg_case_filter *f);

/*
 * Lists f (its limit must be 1..CG_CASE_INDEX_LIMIT_MAX) through the index: the cases of the
 * page are appended to out as the staff API writes them, cg_case_json(case, rules, now) each,
 * separated by commas, *n their number, and *total is the number matching without limit and
 * offset: exactly what cg_store_case_count and cg_store_case_list on s give, written that way.
 * Returns 0; 1 when the index does not serve this filter, or s is inside a transaction (nothing
 * was written: list through SQL, which sees the transaction's own writes); -1 with err when
 * reading the store failed (nothing was written).
 */
#define CG_CASE_INDEX_LIMIT_MAX 1000
int cg_case_index_list(cg_case_index *ix, cg_store *s, const cg_case_filter *f,
                       const cg_case_rules *rules, int64_t now, cg_buf *out, size_t *n,
                       int64_t *total, cg_err *err);

#endif
