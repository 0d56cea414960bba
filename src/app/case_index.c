/*
 * The in-memory case listing index (app/case_index.h).
 *
 * Layout: one entry per grid code ("" is the no-grid queue), numbered in order of appearance and
 * reached in code order through `order`, so a subtree (a code prefix) is a contiguous range found
 * by binary search. Each code holds one run per state: the packed keys (reported_at << 32 | id)
 * of its cases in ascending order; newest first is read from the end. `slot` maps a case id to
 * the run that holds it (code number << 5 | state), so a write that moves a case (a step, a
 * reassignment to another grid) takes it out of its old run by binary search and puts it into
 * the new one. New cases arrive with the newest report times, at the end of their run.
 *
 * A page is chosen in two parts: the first `offset` keys are skipped (a heap merge for small
 * offsets; for large ones a selection that finds each run's cut by pivoting on keys and counting
 * with binary searches), then `limit` keys are merged from the cuts with a heap.
 *
 * Subtree and scope filters in SQL match the cases whose grid code lies in the range and is a
 * stored grid code (cases.c: grid_code IN (SELECT code FROM grids ...)); each code remembers
 * whether the grids table has it, and a code not seen there is asked again in the list's own
 * read transaction (grid codes are never deleted, only added).
 *
 * Rows: the page's cases are kept as the list writes them (their JSON, but for the part that
 * depends on the time of the list; `rows` by case id), so a page seen before is answered without
 * reading SQLite or writing JSON: at millions of cases reading 100 scattered rows was half a
 * list's CPU, and writing their JSON a third of what was left. A row is taken into memory only
 * when the index still stands at the snapshot it was read in, every case write the index applies
 * drops the case's row, and a list with rules of another generation (a category renamed) lets
 * them all go, so a kept row is always what the list's snapshot and rules would give. The rows'
 * memory is bounded (cg_case_index_set_row_limit); at the bound they are all let go and kept
 * again as pages ask.
 */
#include "app/case_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define N_BUCKETS   (CG_CASE_STATE_COUNT + 1) /* the states, then any other stored value */
#define BUCKET_BITS 5
#define NO_SLOT     UINT32_MAX
#define PACK_LIMIT  (INT64_C(1) << 32)
#define SELECT_FROM 512 /* offsets from which the cuts are found by selection, not merging */

typedef struct {
    uint64_t *v;
    uint32_t n, cap;
} run;

typedef struct {
    char code[CG_CODE_MAX];
    int known; /* the grids table has this code */
    run runs[N_BUCKETS];
} code_entry;

struct cg_case_index {
    pthread_mutex_t mu;
    code_entry **codes;
    uint32_t n_codes, cap_codes;
    uint32_t *order; /* code numbers in code order */
    uint32_t *slot;  /* by case id */
    int64_t n_slot;
    int64_t cases;
    cg_case_mark mark;
    int serving; /* 0: a value does not fit: stepped aside */
    int stale;   /* an update failed part-way: rebuild before use */
    int failed;  /* set by a callback that could not go on (memory, store) */
    int unsorted;
    cg_store *store; /* during a load or an update: for grid code checks */
    cg_err *err;
    double seconds;
    int64_t rebuilds;
    /* the code the last key went to (loads come in code order) */
    uint32_t last_code;
    /* rows kept in memory, by case id (NULL: not kept) */
    struct row **rows;
    int64_t n_rows;
    int64_t row_bytes, row_limit, row_count;
    int64_t row_generation; /* of the rules the rows were written with */
    int64_t row_hits, row_misses, row_flushes;
};

static uint64_t pack(int64_t at, int64_t id)
{
    return (uint64_t)at << 32 | (uint64_t)id;
}

static int key_fits(const cg_case_key *k)
{
    return k->reported_at >= 0 && k->reported_at < PACK_LIMIT && k->id > 0 && k->id < PACK_LIMIT;
}

/* Whether the index can hold the key; if not, it stops serving (lists go through SQL). */
static int key_kept(cg_case_index *ix, const cg_case_key *k)
{
    if (key_fits(k))
        return 1;
    cg_log_warn("case index: case %lld (reported_at %lld) does not fit: lists go through SQL",
                (long long)k->id, (long long)k->reported_at);
    ix->serving = 0;
    return 0;
}

static int bucket_of(int state)
{
    return state >= 0 && state < CG_CASE_STATE_COUNT ? state : CG_CASE_STATE_COUNT;
}

/* First index in [lo, hi) whose key is >= x (upper: > x). */
static uint32_t lower_bound(const uint64_t *v, uint32_t lo, uint32_t hi, uint64_t x)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t upper_bound(const uint64_t *v, uint32_t lo, uint32_t hi, uint64_t x)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int run_reserve(run *r, uint32_t need)
{
    if (need <= r->cap)
        return 0;
    if (need > UINT32_MAX / 2)
        return -1;
    uint32_t cap = r->cap ? r->cap : 16;
    while (cap < need)
        cap *= 2;
    uint64_t *v = realloc(r->v, (size_t)cap * sizeof *v);
    if (!v)
        return -1;
    r->v = v;
    r->cap = cap;
    return 0;
}

static int run_insert(run *r, uint64_t key)
{
    if (run_reserve(r, r->n + 1))
        return -1;
    uint32_t at = r->n && r->v[r->n - 1] < key ? r->n : lower_bound(r->v, 0, r->n, key);
    memmove(r->v + at + 1, r->v + at, (size_t)(r->n - at) * sizeof *r->v);
    r->v[at] = key;
    r->n++;
    return 0;
}

/* Takes a key out; when the report time was not the one stored (it never changes, but the id
 * decides), the run is searched for the id. */
static void run_remove(run *r, uint64_t key)
{
    uint32_t at = lower_bound(r->v, 0, r->n, key);
    if (at >= r->n || r->v[at] != key) {
        for (at = 0; at < r->n && (uint32_t)r->v[at] != (uint32_t)key; at++)
            ;
        if (at == r->n)
            return;
    }
    memmove(r->v + at, r->v + at + 1, (size_t)(r->n - at - 1) * sizeof *r->v);
    r->n--;
}

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- rows kept in memory ---- */

/* A case as the staff list writes it (cg_case_json), kept in the two parts that last: the head
 * (up to due_at) and the tail (from duplicate_of); the part between them depends on the time of
 * the list and is written each time from due_at. A row is shared by the table and the pages
 * being written when it is let go: refs counts its holders, the last one frees it. */
typedef struct row {
    atomic_int refs;
    uint32_t head, tail; /* bytes of JSON */
    int64_t id, due_at;
    char json[]; /* the head, then the tail */
} row;

static size_t row_size(const row *r)
{
    return sizeof *r + r->head + r->tail;
}

static void row_release(row *r)
{
    if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

/* A row for c written with rules (one holder: the caller); NULL without memory. scratch is the
 * caller's buffer for writing it. */
static row *row_render(const cg_case *c, const cg_case_rules *rules, cg_buf *scratch)
{
    cg_buf_reset(scratch);
    cg_case_json_head(c, rules, scratch);
    size_t head = scratch->len;
    cg_case_json_tail(c, scratch);
    if (scratch->len > UINT32_MAX)
        return NULL;
    row *r = malloc(sizeof *r + scratch->len);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    r->head = (uint32_t)head;
    r->tail = (uint32_t)(scratch->len - head);
    r->id = c->id;
    r->due_at = c->due_at;
    memcpy(r->json, scratch->data, scratch->len);
    return r;
}

/* Writes a row's case as of now: head, the live part, tail. */
static void row_write(const row *r, const cg_case_rules *rules, int64_t now, cg_buf *out)
{
    cg_buf_append(out, r->json, r->head);
    cg_case_json_live(r->due_at, rules, now, out);
    cg_buf_append(out, r->json + r->head, r->tail);
}

static void row_drop(cg_case_index *ix, int64_t id)
{
    if (id <= 0 || id >= ix->n_rows || !ix->rows[id])
        return;
    ix->row_bytes -= (int64_t)row_size(ix->rows[id]);
    ix->row_count--;
    row_release(ix->rows[id]);
    ix->rows[id] = NULL;
}

static void rows_clear(cg_case_index *ix)
{
    for (int64_t id = 0; id < ix->n_rows; id++)
        row_release(ix->rows[id]);
    free(ix->rows);
    ix->rows = NULL;
    ix->n_rows = ix->row_bytes = ix->row_count = 0;
}

/* Keeps r (read at the index's current mark, written with the rules of ix->row_generation) as
 * the table's row of its case: the table becomes one more holder. A failure to find memory only
 * means the row is not kept. */
static void row_keep(cg_case_index *ix, row *r)
{
    int64_t id = r->id;
    size_t n = row_size(r);
    if (id <= 0 || id >= ix->n_slot || (int64_t)n > ix->row_limit)
        return;
    if (ix->row_bytes + (int64_t)n > ix->row_limit) {
        rows_clear(ix); /* at the bound: let them all go, the pages asked for next come back */
        ix->row_flushes++;
    }
    if (id >= ix->n_rows) {
        int64_t want = ix->n_slot;
        row **rows = realloc(ix->rows, (size_t)want * sizeof *rows);
        if (!rows)
            return;
        memset(rows + ix->n_rows, 0, (size_t)(want - ix->n_rows) * sizeof *rows);
        ix->rows = rows;
        ix->n_rows = want;
    }
    row_drop(ix, id);
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    ix->rows[id] = r;
    ix->row_bytes += (int64_t)n;
    ix->row_count++;
}

void cg_case_index_set_row_limit(cg_case_index *ix, int64_t bytes)
{
    pthread_mutex_lock(&ix->mu);
    ix->row_limit = bytes > 0 ? bytes : 0;
    if (ix->row_bytes > ix->row_limit)
        rows_clear(ix);
    pthread_mutex_unlock(&ix->mu);
}

static void clear(cg_case_index *ix)
{
    for (uint32_t i = 0; i < ix->n_codes; i++) {
        for (int b = 0; b < N_BUCKETS; b++)
            free(ix->codes[i]->runs[b].v);
        free(ix->codes[i]);
    }
    free(ix->codes);
    free(ix->order);
    free(ix->slot);
    rows_clear(ix);
    ix->codes = NULL;
    ix->order = NULL;
    ix->slot = NULL;
    ix->n_codes = ix->cap_codes = 0;
    ix->n_slot = 0;
    ix->cases = 0;
    memset(&ix->mark, 0, sizeof ix->mark);
}

/* Position in `order` of the first code >= code. */
static uint32_t code_position(const cg_case_index *ix, const char *code)
{
    uint32_t lo = 0, hi = ix->n_codes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->codes[ix->order[mid]]->code, code) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The number of a code, added when new (its `known` asked from the store). */
static int code_number(cg_case_index *ix, const char *code, uint32_t *out)
{
    if (ix->last_code < ix->n_codes && strcmp(ix->codes[ix->last_code]->code, code) == 0) {
        *out = ix->last_code;
        return 0;
    }
    uint32_t pos = code_position(ix, code);
    if (pos < ix->n_codes && strcmp(ix->codes[ix->order[pos]]->code, code) == 0) {
        *out = ix->last_code = ix->order[pos];
        return 0;
    }
    if (ix->n_codes >= (UINT32_MAX >> BUCKET_BITS) - 1) {
        ix->serving = 0;
        return -1;
    }
    if (ix->n_codes == ix->cap_codes) {
        uint32_t cap = ix->cap_codes ? 2 * ix->cap_codes : 64;
        code_entry **codes = realloc(ix->codes, cap * sizeof *codes);
        uint32_t *order = codes ? realloc(ix->order, cap * sizeof *order) : NULL;
        if (codes)
            ix->codes = codes;
        if (!order)
            return cg_err_set(ix->err, CG_ENOMEM, "", "out of memory for the case index");
        ix->order = order;
        ix->cap_codes = cap;
    }
    code_entry *e = calloc(1, sizeof *e);
    if (!e)
        return cg_err_set(ix->err, CG_ENOMEM, "", "out of memory for the case index");
    snprintf(e->code, sizeof e->code, "%s", code);
    if (cg_store_grid_code_exists(ix->store, code, &e->known, ix->err)) {
        free(e);
        return -1;
    }
    uint32_t n = ix->n_codes++;
    ix->codes[n] = e;
    memmove(ix->order + pos + 1, ix->order + pos, (size_t)(n - pos) * sizeof *ix->order);
    ix->order[pos] = n;
    *out = ix->last_code = n;
    return 0;
}

static int slot_set(cg_case_index *ix, int64_t id, uint32_t value)
{
    if (id >= ix->n_slot) {
        /* Ids are dense (1, 2, ...): a far larger one is not a case id this index can map. */
        if (id > 4 * (ix->cases + ix->mark.max_id) + (INT64_C(1) << 24)) {
            ix->serving = 0;
            return -1;
        }
        /* Room for an eighth more: new ids arrive one by one. */
        int64_t n = id + id / 8 + 1024;
        uint32_t *slot = realloc(ix->slot, (size_t)n * sizeof *slot);
        if (!slot)
            return cg_err_set(ix->err, CG_ENOMEM, "", "out of memory for the case index");
        memset(slot + ix->n_slot, 0xFF, (size_t)(n - ix->n_slot) * sizeof *slot);
        ix->slot = slot;
        ix->n_slot = n;
    }
    ix->slot[id] = value;
    return 0;
}

/* ---- loading and following writes ---- */

static int load_key(void *arg, const cg_case_key *k)
{
    cg_case_index *ix = arg;
    uint32_t c = 0;
    if (!key_kept(ix, k)) {
        return 1;
    }
    if (code_number(ix, k->grid_code, &c))
        goto fail;
    int b = bucket_of(k->state);
    run *r = &ix->codes[c]->runs[b];
    uint64_t key = pack(k->reported_at, k->id);
    if (run_reserve(r, r->n + 1)) {
        cg_err_set(ix->err, CG_ENOMEM, "", "out of memory for the case index");
        goto fail;
    }
    if (r->n && r->v[r->n - 1] > key)
        ix->unsorted = 1;
    r->v[r->n++] = key;
    if (slot_set(ix, k->id, c << BUCKET_BITS | (uint32_t)b))
        goto fail;
    ix->cases++;
    return 0;
fail:
    ix->failed = 1;
    return 1;
}

/* Fills the index from s, inside the caller's read transaction. */
static int load(cg_case_index *ix, cg_store *s, cg_err *err)
{
    long long t0 = cg_time_mono_ns();
    clear(ix);
    ix->serving = 1;
    ix->stale = 0;
    ix->failed = 0;
    ix->unsorted = 0;
    ix->store = s;
    ix->err = err;
    ix->last_code = UINT32_MAX;
    cg_case_mark m;
    if (cg_store_case_mark(s, &m, err))
        goto fail;
    ix->mark = m;
    if (m.max_id > 0 && slot_set(ix, m.max_id, NO_SLOT))
        goto fail;
    if (cg_store_case_keys(s, load_key, ix, err) || ix->failed)
        goto fail;
    for (uint32_t c = 0; c < ix->n_codes; c++)
        for (int b = 0; b < N_BUCKETS; b++) {
            run *r = &ix->codes[c]->runs[b];
            if (ix->unsorted)
                qsort(r->v, r->n, sizeof *r->v, cmp_key);
            /* Room for the cases to come, not half the run again. */
            uint32_t cap = r->n + r->n / 16 + 4;
            uint64_t *v = r->n && cap < r->cap ? realloc(r->v, (size_t)cap * sizeof *v) : NULL;
            if (v) {
                r->v = v;
                r->cap = cap;
            }
        }
    ix->mark = m;
    ix->seconds = (double)(cg_time_mono_ns() - t0) / 1e9;
    ix->rebuilds++;
    return 0;
fail:
    clear(ix);
    if (ix->serving) {
        ix->stale = 1;
        return -1;
    }
    return 0; /* stepped aside: not an error, lists go through SQL */
}

static int apply_key(void *arg, const cg_case_key *k)
{
    cg_case_index *ix = arg;
    uint32_t c = 0;
    row_drop(ix, k->id); /* written since: the kept row is not the snapshot's */
    if (!key_kept(ix, k)) {
        goto fail;
    }
    if (code_number(ix, k->grid_code, &c))
        goto fail;
    int b = bucket_of(k->state);
    uint32_t want = c << BUCKET_BITS | (uint32_t)b;
    uint32_t old = k->id < ix->n_slot ? ix->slot[k->id] : NO_SLOT;
    if (old == want)
        return 0;
    uint64_t key = pack(k->reported_at, k->id);
    if (run_insert(&ix->codes[c]->runs[b], key)) {
        cg_err_set(ix->err, CG_ENOMEM, "", "out of memory for the case index");
        goto fail;
    }
    if (old != NO_SLOT)
        run_remove(&ix->codes[old >> BUCKET_BITS]->runs[old & ((1u << BUCKET_BITS) - 1)], key);
    else
        ix->cases++;
    if (slot_set(ix, k->id, want))
        goto fail;
    return 0;
fail:
    ix->failed = 1;
    return 1;
}

static int same_mark(const cg_case_mark *a, const cg_case_mark *b)
{
    return a->audit_seq == b->audit_seq && a->max_id == b->max_id &&
           strcmp(a->audit_hash, b->audit_hash) == 0;
}

enum { SYNC_OK, SYNC_ASIDE, SYNC_FAIL };

/* Brings the index to the snapshot's mark m (under ix->mu, inside s's read transaction). */
static int sync_to(cg_case_index *ix, cg_store *s, const cg_case_mark *m, cg_err *err)
{
    int rebuild = ix->stale;
    if (!rebuild && same_mark(&ix->mark, m))
        return ix->serving ? SYNC_OK : SYNC_ASIDE;
    /* The same audit entry with another hash: not the history the index followed. */
    if (m->audit_seq == ix->mark.audit_seq && strcmp(m->audit_hash, ix->mark.audit_hash) != 0)
        rebuild = 1;
    /* A snapshot older than the index (it never is: see cg_case_index_list) or a mark that
     * moved one way and not the other means another history: load again. */
    if (!rebuild && m->audit_seq >= ix->mark.audit_seq && m->max_id >= ix->mark.max_id) {
        if (!ix->serving)
            return SYNC_ASIDE;
        ix->store = s;
        ix->err = err;
        ix->failed = 0;
        ix->last_code = UINT32_MAX;
        int rc = cg_store_case_keys_since(s, &ix->mark, apply_key, ix, err);
        if (rc == 0 && !ix->failed) {
            ix->mark = *m;
            return SYNC_OK;
        }
        if (!ix->serving)
            return SYNC_ASIDE;
        if (rc && err->code != CG_ECONFLICT) {
            ix->stale = 1; /* part of the writes may be applied: start again next time */
            return SYNC_FAIL;
        }
    }
    /* Another history (a restore), or an earlier update failed: load again. */
    cg_err_clear(err);
    if (load(ix, s, err))
        return SYNC_FAIL;
    cg_log_info("case index rebuilt: %lld cases in %.2f s", (long long)ix->cases, ix->seconds);
    return ix->serving ? SYNC_OK : SYNC_ASIDE;
}

int cg_case_index_build(cg_store *s, cg_case_index **out, cg_err *err)
{
    *out = NULL;
    cg_case_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory for the case index");
    pthread_mutex_init(&ix->mu, NULL);
    if (cg_store_read_begin(s, err)) {
        cg_case_index_free(ix);
        return -1;
    }
    int rc = load(ix, s, err);
    cg_store_read_end(s);
    if (rc) {
        cg_case_index_free(ix);
        return -1;
    }
    *out = ix;
    return 0;
}

void cg_case_index_free(cg_case_index *ix)
{
    if (!ix)
        return;
    clear(ix);
    pthread_mutex_destroy(&ix->mu);
    free(ix);
}

void cg_case_index_stats_get(cg_case_index *ix, cg_case_index_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&ix->mu);
    out->cases = ix->cases;
    out->codes = ix->n_codes;
    int64_t bytes = (int64_t)sizeof *ix + ix->n_slot * (int64_t)sizeof *ix->slot +
                    ix->cap_codes * (int64_t)(sizeof *ix->codes + sizeof *ix->order);
    for (uint32_t c = 0; c < ix->n_codes; c++) {
        bytes += (int64_t)sizeof *ix->codes[c];
        for (int b = 0; b < N_BUCKETS; b++)
            bytes += (int64_t)ix->codes[c]->runs[b].cap * (int64_t)sizeof(uint64_t);
    }
    out->bytes = bytes + ix->row_bytes + ix->n_rows * (int64_t)sizeof *ix->rows;
    out->rows = ix->row_count;
    out->row_bytes = ix->row_bytes;
    out->row_limit = ix->row_limit;
    out->row_hits = ix->row_hits;
    out->row_misses = ix->row_misses;
    out->row_flushes = ix->row_flushes;
    out->seconds = ix->seconds;
    out->rebuilds = ix->rebuilds;
    out->serving = ix->serving;
    pthread_mutex_unlock(&ix->mu);
}

/* ---- answering ---- */

static int code_ok(const char *code)
{
    size_t n = strnlen(code, CG_CODE_MAX);
    return n < CG_CODE_MAX && (unsigned char)code[n - 1] != 0xFF;
}

int cg_case_index_fits(const cg_case_filter *f)
{
    if (f->order != CG_CASE_ORDER_NEWEST || (f->category && *f->category) || f->overdue_at > 0 ||
        f->handle_before > 0 || f->source || f->updated_since || f->bbox || f->text ||
        f->assignee_account > 0 || f->assignee_label || f->reporter_id > 0 || f->ids ||
        f->limit < 1 || f->limit > CG_CASE_INDEX_LIMIT_MAX || f->offset < 0 ||
        (f->states >> CG_CASE_STATE_COUNT) != 0)
        return 0;
    if (f->subtree_code && *f->subtree_code && !code_ok(f->subtree_code))
        return 0;
    if (f->scope && f->scope->code[0] && !code_ok(f->scope->code))
        return 0;
    return 1;
}

/* The end of a prefix range: the prefix with its last byte incremented. */
static void prefix_end(const char *prefix, char out[CG_CODE_MAX])
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n + 1);
    out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
}

typedef struct {
    const uint64_t *v;
    uint32_t lo, hi; /* the window in v: keys in the time range */
    uint32_t pos;    /* keys taken from the newest end */
} window;

static uint64_t head(const window *w)
{
    return w->v[w->hi - 1 - w->pos];
}

static int window_more(const window *w)
{
    return w->pos < w->hi - w->lo;
}

/* Max-heap of windows by their next (newest) key. */
static void sift_down(window **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < n && head(h[l]) > head(h[top]))
            top = l;
        if (r < n && head(h[r]) > head(h[top]))
            top = r;
        if (top == i)
            return;
        window *t = h[i];
        h[i] = h[top];
        h[top] = t;
        i = top;
    }
}

/* Takes `skip` keys, then up to `want` more into ids, newest first, from the windows' current
 * positions. */
static size_t merge(window *w, size_t k, window **h, uint64_t skip, size_t want, int64_t *ids)
{
    size_t n = 0, got = 0;
    for (size_t i = 0; i < k; i++)
        if (window_more(&w[i]))
            h[n++] = &w[i];
    for (size_t i = n / 2; i-- > 0;)
        sift_down(h, n, i);
    while (n && got < want) {
        window *top = h[0];
        if (skip)
            skip--;
        else
            ids[got++] = (int64_t)(uint32_t)head(top);
        top->pos++;
        if (!window_more(top))
            h[0] = h[--n];
        sift_down(h, n, 0);
    }
    return got;
}

/* Sets each window's position so that exactly `offset` keys, the newest of all, lie before the
 * positions. Each step takes the middle of the widest undecided range as a pivot, ranks it by
 * counting newer keys in every window (binary searches), and narrows the ranges. */
static int select_cuts(window *w, size_t k, uint64_t offset)
{
    uint32_t *lo = calloc(3 * k, sizeof *lo);
    if (!lo)
        return -1;
    uint32_t *hi = lo + k, *newer = hi + k;
    for (size_t i = 0; i < k; i++)
        hi[i] = w[i].hi - w[i].lo;
    for (;;) {
        size_t j = 0;
        for (size_t i = 1; i < k; i++)
            if (hi[i] - lo[i] > hi[j] - lo[j])
                j = i;
        if (hi[j] == lo[j])
            break;
        uint32_t mid = lo[j] + (hi[j] - lo[j]) / 2;
        uint64_t pivot = w[j].v[w[j].hi - 1 - mid];
        uint64_t rank = 0;
        for (size_t i = 0; i < k; i++) {
            newer[i] = w[i].hi - upper_bound(w[i].v, w[i].lo, w[i].hi, pivot);
            rank += newer[i];
        }
        if (rank == offset) {
            memcpy(lo, newer, k * sizeof *lo);
            break;
        }
        for (size_t i = 0; i < k; i++) {
            if (rank < offset) {
                if (newer[i] > lo[i])
                    lo[i] = newer[i];
            } else if (newer[i] < hi[i]) {
                hi[i] = newer[i];
            }
        }
        if (rank < offset && lo[j] < mid + 1)
            lo[j] = mid + 1;
    }
    for (size_t i = 0; i < k; i++)
        w[i].pos = lo[i];
    free(lo);
    return 0;
}

/* Chooses the page under ix->mu: ids (up to f->limit) and the total. */
static int choose(cg_case_index *ix, cg_store *s, const cg_case_filter *f, int64_t *ids,
                  size_t *n_ids, int64_t *total, cg_err *err)
{
    *n_ids = 0;
    *total = 0;
    char sub_end[CG_CODE_MAX], scope_end[CG_CODE_MAX];
    const char *sub = f->subtree_code && *f->subtree_code ? f->subtree_code : NULL;
    int no_grid = !sub && (f->subtree_code || f->no_grid);
    const char *scope = f->scope && f->scope->code[0] ? f->scope->code : NULL;
    if (sub)
        prefix_end(sub, sub_end);
    if (scope)
        prefix_end(scope, scope_end);

    /* The report-time window as packed keys [from, to). */
    uint64_t from = 0, to = UINT64_MAX;
    int empty = 0;
    if (f->since > 0) {
        if (f->since >= PACK_LIMIT)
            empty = 1;
        else
            from = pack(f->since, 0);
    }
    if (f->until) {
        if (f->until <= 0)
            empty = 1;
        else if (f->until < PACK_LIMIT)
            to = pack(f->until, 0);
    }
    if (empty)
        return 0;
    uint32_t buckets = f->states ? f->states : (1u << N_BUCKETS) - 1;

    uint32_t first = 0, last = ix->n_codes;
    if (sub) {
        first = code_position(ix, sub);
        last = code_position(ix, sub_end);
    } else if (no_grid) {
        last = ix->n_codes && ix->codes[ix->order[0]]->code[0] == '\0' ? 1 : 0;
    }
    size_t k = 0, cap = 0;
    window *w = NULL;
    int rc = 0;
    for (uint32_t p = first; p < last && rc == 0; p++) {
        code_entry *e = ix->codes[ix->order[p]];
        if (scope && (strcmp(e->code, scope) < 0 || strcmp(e->code, scope_end) >= 0))
            continue;
        if ((sub || scope) && !e->known) {
            int exists;
            if (cg_store_grid_code_exists(s, e->code, &exists, err)) {
                rc = -1;
                break;
            }
            if (!exists)
                continue;
        }
        for (int b = 0; b < N_BUCKETS; b++) {
            const run *r = &e->runs[b];
            if (!(buckets & (1u << b)) || r->n == 0)
                continue;
            uint32_t lo = from ? lower_bound(r->v, 0, r->n, from) : 0;
            uint32_t hi = to != UINT64_MAX ? lower_bound(r->v, lo, r->n, to) : r->n;
            if (lo == hi)
                continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 64;
                window *nw = realloc(w, cap * sizeof *w);
                if (!nw) {
                    rc = cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
                    break;
                }
                w = nw;
            }
            w[k++] = (window){r->v, lo, hi, 0};
            *total += hi - lo;
        }
    }
    uint64_t offset = (uint64_t)f->offset;
    if (rc == 0 && offset < (uint64_t)*total) {
        window **h = malloc(k * sizeof *h);
        if (!h)
            rc = cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
        if (h && offset >= SELECT_FROM && k > 1) {
            if (select_cuts(w, k, offset))
                rc = cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
            offset = 0;
        }
        if (rc == 0)
            *n_ids = merge(w, k, h, offset, (size_t)f->limit, ids);
        free(h);
    }
    free(w);
    return rc;
}

/* The rows of a page being written: rows[i] for the i-th id, held by the page (NULL: still to be
 * read from the store). */
typedef struct {
    row **rows;
    const int64_t *ids;
    size_t n, next; /* ids; the next one a fetched case may be */
    size_t fetched;
    const cg_case_rules *rules;
    cg_buf scratch;
    int failed; /* no memory for a row */
} page_rows;

/* cg_store_case_fetch's callback for the ids not kept: writes each case's row into its place. */
static int page_fetched(void *arg, const cg_case *c)
{
    page_rows *p = arg;
    while (p->next < p->n && (p->rows[p->next] || p->ids[p->next] != c->id))
        p->next++;
    if (p->next == p->n)
        return 0; /* not asked for (never): left out */
    if (!(p->rows[p->next] = row_render(c, p->rules, &p->scratch))) {
        p->failed = 1;
        return 1;
    }
    p->next++;
    p->fetched++;
    return 0;
}

/* Under ix->mu: the rows the table holds for the page's ids, each with one more holder (the
 * page). Two passes ahead of the reads: the table's slots and the rows' first bytes are fetched
 * into the cache together rather than one miss after another. */
static size_t rows_take(cg_case_index *ix, const int64_t *ids, size_t n, row **out)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < ix->n_rows)
            __builtin_prefetch(&ix->rows[ids[i]]);
    for (size_t i = 0; i < n; i++) {
        out[i] = ids[i] < ix->n_rows ? ix->rows[ids[i]] : NULL;
        if (out[i])
            __builtin_prefetch(out[i], 1);
    }
    for (size_t i = 0; i < n; i++)
        if (out[i]) {
            atomic_fetch_add_explicit(&out[i]->refs, 1, memory_order_relaxed);
            kept++;
        }
    return kept;
}

int cg_case_index_list(cg_case_index *ix, cg_store *s, const cg_case_filter *f,
                       const cg_case_rules *rules, int64_t now, cg_buf *out, size_t *n_out,
                       int64_t *total, cg_err *err)
{
    *n_out = 0;
    if (!ix || !cg_case_index_fits(f))
        return 1;
    int64_t *ids = malloc((size_t)f->limit * (sizeof *ids + sizeof(row *)));
    if (!ids)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
    page_rows p = {.rows = (row **)(void *)(ids + f->limit), .ids = ids, .rules = rules};
    cg_buf_init(&p.scratch);
    int64_t generation = rules ? rules->generation : -1;
    /* The snapshot is taken under the mutex: the index was last brought to a snapshot taken
     * before this one, so this one is never older unless the history went back (a restore). */
    size_t n = 0, kept = 0;
    int st = SYNC_FAIL, with_rows = 0;
    cg_case_mark m;
    memset(&m, 0, sizeof m);
    pthread_mutex_lock(&ix->mu);
    if (cg_store_read_begin(s, err) != 0) {
        st = SYNC_ASIDE; /* s is inside a transaction of its own: SQL sees what it wrote */
        cg_err_clear(err);
    } else {
        if (cg_store_case_mark(s, &m, err) == 0)
            st = sync_to(ix, s, &m, err);
        if (st == SYNC_OK && choose(ix, s, f, ids, &n, total, err))
            st = SYNC_FAIL;
        with_rows = st == SYNC_OK && ix->row_limit > 0;
        if (with_rows && ix->row_generation != generation) {
            rows_clear(ix); /* written with other rules (a category renamed, say) */
            ix->row_generation = generation;
        }
        memset(p.rows, 0, n * sizeof *p.rows);
        if (with_rows) {
            kept = rows_take(ix, ids, n, p.rows);
            ix->row_hits += (int64_t)kept;
            ix->row_misses += (int64_t)(n - kept);
        }
    }
    pthread_mutex_unlock(&ix->mu);
    int result = st == SYNC_OK ? 0 : st == SYNC_ASIDE ? 1 : -1;
    if (st == SYNC_OK && kept < n) {
        /* The rows not kept, read in this snapshot, then kept if the index still stands at it
         * and its rows are still written with these rules. */
        int64_t *missing = malloc((n - kept) * sizeof *missing);
        size_t k = 0;
        for (size_t i = 0; missing && i < n; i++)
            if (!p.rows[i])
                missing[k++] = ids[i];
        p.n = n;
        result = missing ? cg_store_case_fetch(s, missing, k, page_fetched, &p, err)
                         : cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
        free(missing);
        if (result == 0 && p.failed)
            result = cg_err_set(err, CG_ENOMEM, "", "out of memory listing cases");
        if (result == 0 && p.fetched && with_rows) {
            pthread_mutex_lock(&ix->mu);
            if (ix->serving && !ix->stale && same_mark(&ix->mark, &m) &&
                ix->row_generation == generation)
                for (size_t i = 0; i < n && ix->row_limit > 0; i++) {
                    row *r = p.rows[i];
                    if (r && !(r->id < ix->n_rows && ix->rows[r->id]))
                        row_keep(ix, r);
                }
            pthread_mutex_unlock(&ix->mu);
        }
    }
    cg_store_read_end(s);
    for (size_t i = 0; result == 0 && i < n; i++) {
        if (!p.rows[i])
            continue; /* gone from the store (never: cases are not deleted) */
        if (*n_out)
            cg_buf_putc(out, ',');
        row_write(p.rows[i], rules, now, out);
        ++*n_out;
    }
    for (size_t i = 0; i < n; i++)
        row_release(p.rows[i]);
    cg_buf_free(&p.scratch);
    free(ids);
    return result;
}
