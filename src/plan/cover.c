/*
 * Set covering and maximal covering for post placement (see cover.h for the contract).
 *
 * The heuristic, and why it is fast enough for a city (100k demand points x 20k candidates):
 *
 * State. For every demand point d we keep cnt[d], the number of open sites covering it, and
 * own[d], the SUM of the ids of those sites. When cnt[d] == 1 the sum is the one site covering
 * d, so "who owns this point alone" costs nothing to maintain. Each open site j also keeps
 * uniq[j], the value (1 per point for set covering, the weight for maximal covering) of the
 * points only j covers: what closing j would lose. Opening or closing a site j updates all of
 * this in O(|cover(j)|).
 *
 * Greedy (Chvatal's ln n approximation for set covering, 1 - 1/e for maximal covering), made
 * lazy as in CELF (Leskovec et al. 2007): a site's gain (the uncovered value it would add) only
 * falls as other sites open, so a max-heap of possibly stale gains is an upper bound. Pop the
 * top, recompute its gain; if it still beats the next key it is the true best, else push it
 * back with the fresh gain. Most sites are recomputed a handful of times, so greedy costs about
 * O(nnz log m) rather than O(p * nnz).
 *
 * Local search on the greedy answer, each move priced in O(|cover(c)|) for a candidate c by one
 * walk over its points with the cnt/own trick:
 *   - set covering: drop every open site with uniq == 0 (redundant); then "1-for-k swaps":
 *     open c and close every open site whose sole-covered points c covers entirely. k >= 2
 *     saves k - 1 sites (this includes the classic 2-1 swap); k == 1 is a neutral move that
 *     lets the search drift along plateaus.
 *   - maximal covering: 1-1 swaps. For c, gain0 = value c covers that nobody covers, and for
 *     each open s, shared(c, s) = value owned by s alone that c also covers; swapping s for c
 *     changes coverage by gain0 + shared(c, s) - uniq(s). Sites c does not touch have
 *     shared = 0, so only the touched ones and the site of least uniq need pricing.
 * A full pass costs O(nnz). Passes repeat until none improves.
 *
 * Then, until the time limit or a long run without improvement, iterated local search: close
 * one random open site and up to two open neighbours sharing points with it, repair greedily
 * from the candidates around the hole (random tie-breaking), and run the moves above on that
 * neighbourhood only. Every open/close is logged, so a worse result is undone step by step in
 * O(work done) instead of copying the whole state. Equal results are kept (plateau walk).
 *
 * The exact mode writes the textbook integer programs for CBC (see exact_solve) and gives it the
 * heuristic answer as a MIP start, so CBC's incumbent is never worse than the heuristic and its
 * best bound measures the heuristic's gap.
 */
#include "plan/cover.h"

#include <assert.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef CIVGRID_HAVE_CBC
#include <coin/Cbc_C_Interface.h>
#endif

#define DEFAULT_HEURISTIC_S 2.0
#define DEFAULT_EXACT_S     60.0
#define MAX_CANDIDATES      0x7fffffffu /* the undo log packs an id and a flag in 32 bits */
#define LOG_OPEN            0x80000000u
#define NEIGHBOUR_SAMPLE    64 /* points of a site sampled to find its open neighbours */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cg_cover_opts_init(cg_cover_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->problem = CG_COVER_SET;
    opts->method = CG_COVER_HEURISTIC;
    opts->seed = 1;
}

const char *cg_cover_problem_name(cg_cover_problem problem)
{
    return problem == CG_COVER_MAX ? "max" : "set";
}

int cg_cover_problem_parse(const char *s, cg_cover_problem *out, cg_err *err)
{
    if (s && (!strcasecmp(s, "set") || !strcasecmp(s, "set-covering"))) {
        *out = CG_COVER_SET;
        return 0;
    }
    if (s && (!strcasecmp(s, "max") || !strcasecmp(s, "maximal-covering"))) {
        *out = CG_COVER_MAX;
        return 0;
    }
    return cg_err_set(err, CG_EINVAL, "problem", "problem must be \"set\" or \"max\", not \"%s\"",
                      s ? s : "");
}

int cg_cover_exact_available(void)
{
#ifdef CIVGRID_HAVE_CBC
    return 1;
#else
    return 0;
#endif
}

double cg_cover_gap(cg_cover_problem problem, double heuristic, double exact)
{
    if (exact == 0)
        return 0;
    double gap =
        problem == CG_COVER_SET ? (heuristic - exact) / exact : (exact - heuristic) / exact;
    return gap > 0 ? gap : 0;
}

void cg_cover_result_free(cg_cover_result *res)
{
    if (!res)
        return;
    free(res->open);
    free(res->uncoverable);
    memset(res, 0, sizeof *res);
}

int cg_cover_validate(const cg_cover_instance *inst, cg_err *err)
{
    if (!inst)
        return cg_err_set(err, CG_EINVAL, "instance", "no covering instance given");
    if (inst->n_cand > MAX_CANDIDATES || inst->n_demand > UINT32_MAX)
        return cg_err_set(err, CG_ELIMIT, "candidates",
                          "at most %u candidates and %u demand points are supported",
                          MAX_CANDIDATES, UINT32_MAX);
    if (inst->n_cand > 0 && (!inst->cover_start || inst->cover_start[0] != 0))
        return cg_err_set(err, CG_EINVAL, "cover_start", "coverage offsets must start at 0");
    for (size_t j = 0; j < inst->n_cand; j++) {
        size_t a = inst->cover_start[j], b = inst->cover_start[j + 1];
        if (b < a)
            return cg_err_set(err, CG_EINVAL, "cover_start",
                              "coverage offsets of candidate %zu decrease", j);
        if (b > a && !inst->cover)
            return cg_err_set(err, CG_EINVAL, "cover", "coverage lists missing");
        for (size_t k = a; k < b; k++) {
            if (inst->cover[k] >= inst->n_demand)
                return cg_err_set(err, CG_EINVAL, "cover",
                                  "candidate %zu covers demand point %u, but there are only %zu", j,
                                  inst->cover[k], inst->n_demand);
            if (k > a && inst->cover[k] <= inst->cover[k - 1])
                return cg_err_set(err, CG_EINVAL, "cover",
                                  "coverage list of candidate %zu is not strictly increasing", j);
        }
    }
    if (inst->weight)
        for (size_t i = 0; i < inst->n_demand; i++)
            if (!(inst->weight[i] >= 0) || !isfinite(inst->weight[i]))
                return cg_err_set(err, CG_EINVAL, "weight",
                                  "demand point %zu has weight %g; weights must be finite and >= 0",
                                  i, inst->weight[i]);
    return 0;
}

/* ---- search state ---- */

typedef struct {
    const cg_cover_instance *inst;
    cg_cover_problem problem;
    size_t n, m, p;
    double *val;       /* per demand point: 1 (set covering) or its weight */
    size_t *rev_start; /* demand point -> candidates covering it (CSR) */
    uint32_t *rev;
    uint32_t *cnt;                      /* open sites covering each point */
    uint64_t *own;                      /* sum of their ids: the owner when cnt == 1 */
    uint8_t *open, *fixed, *mark, *ban; /* ban: just closed, not to be reopened by the repair */
    double *uniq;                       /* open site -> value only it covers */
    double *acc;                        /* scratch per candidate, kept zero between uses */
    uint32_t *touched, *nbr;            /* scratch lists of candidates */
    size_t n_touched, n_nbr;
    uint32_t *open_list, *pos; /* open sites, and each one's index in open_list */
    size_t n_open, n_free_open;
    double covered, coverable;
    uint32_t *log; /* undo log: id | LOG_OPEN for an open */
    size_t log_n, log_cap;
    int logging;
    uint64_t rng;
    double deadline;
    const cg_cover_opts *opts;
} state;

static uint64_t rng_next(state *s) /* xorshift64* */
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 2685821657736338717ull;
}

static size_t rng_below(state *s, size_t n)
{
    return (size_t)((rng_next(s) >> 11) % n);
}

static int log_push(state *s, uint32_t entry)
{
    if (!s->logging)
        return 0;
    if (s->log_n == s->log_cap) {
        size_t cap = s->log_cap ? s->log_cap * 2 : 1024;
        uint32_t *l = realloc(s->log, cap * sizeof *l);
        if (!l)
            return -1;
        s->log = l;
        s->log_cap = cap;
    }
    s->log[s->log_n++] = entry;
    return 0;
}

static void site_open(state *s, uint32_t j)
{
    assert(!s->open[j]);
    const cg_cover_instance *in = s->inst;
    double u = 0;
    for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++) {
        uint32_t d = in->cover[k];
        if (s->cnt[d] == 0) {
            s->covered += s->val[d];
            u += s->val[d];
        } else if (s->cnt[d] == 1) {
            s->uniq[s->own[d]] -= s->val[d];
        }
        s->cnt[d]++;
        s->own[d] += j;
    }
    s->uniq[j] = u;
    s->open[j] = 1;
    s->pos[j] = (uint32_t)s->n_open;
    s->open_list[s->n_open++] = j;
    if (!s->fixed[j])
        s->n_free_open++;
}

static void site_close(state *s, uint32_t j)
{
    assert(s->open[j] && !s->fixed[j]);
    const cg_cover_instance *in = s->inst;
    for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++) {
        uint32_t d = in->cover[k];
        s->cnt[d]--;
        s->own[d] -= j;
        if (s->cnt[d] == 0)
            s->covered -= s->val[d];
        else if (s->cnt[d] == 1)
            s->uniq[s->own[d]] += s->val[d];
    }
    s->uniq[j] = 0;
    s->open[j] = 0;
    uint32_t last = s->open_list[--s->n_open];
    s->open_list[s->pos[j]] = last;
    s->pos[last] = s->pos[j];
    s->n_free_open--;
}

/* Logged versions: every change inside a local-search iteration goes through these. */
static int do_open(state *s, uint32_t j)
{
    if (log_push(s, j | LOG_OPEN) < 0)
        return -1;
    site_open(s, j);
    return 0;
}

static int do_close(state *s, uint32_t j)
{
    if (log_push(s, j) < 0)
        return -1;
    site_close(s, j);
    return 0;
}

static void undo_log(state *s)
{
    while (s->log_n > 0) {
        uint32_t e = s->log[--s->log_n];
        if (e & LOG_OPEN)
            site_close(s, e & ~LOG_OPEN);
        else
            site_open(s, e);
    }
}

static int all_covered(const state *s)
{
    return s->covered >= s->coverable - 0.5;
}

static double site_gain(const state *s, uint32_t j)
{
    const cg_cover_instance *in = s->inst;
    double g = 0;
    for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++)
        if (s->cnt[in->cover[k]] == 0)
            g += s->val[in->cover[k]];
    return g;
}

static int time_up(const state *s)
{
    return now_s() >= s->deadline;
}

/* ---- lazy greedy ---- */

typedef struct {
    double key;
    uint32_t tie; /* random, so repairs explore different equal choices */
    uint32_t id;
} heap_item;

static int heap_less(const heap_item *a, const heap_item *b)
{
    return a->key < b->key || (a->key == b->key && a->tie < b->tie);
}

static void heap_push(heap_item *h, size_t *n, heap_item it)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!heap_less(&h[up], &it))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = it;
}

static heap_item heap_pop(heap_item *h, size_t *n)
{
    heap_item top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_less(&h[c], &h[c + 1]))
            c++;
        if (!heap_less(&last, &h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = last;
    return top;
}

/* Opens sites by lazy greedy among list[0..n_list) (all candidates when list is NULL) until
 * everything coverable is covered (set covering) or p free sites are open (maximal covering),
 * or no site adds anything. */
static int greedy(state *s, const uint32_t *list, size_t n_list, int report)
{
    size_t n_items = list ? n_list : s->m;
    heap_item *h = malloc((n_items ? n_items : 1) * sizeof *h);
    if (!h)
        return -1;
    size_t hn = 0;
    for (size_t i = 0; i < n_items; i++) {
        uint32_t j = list ? list[i] : (uint32_t)i;
        if (s->open[j] || s->ban[j])
            continue;
        double g = site_gain(s, j);
        if (g > 0)
            heap_push(h, &hn, (heap_item){g, (uint32_t)rng_next(s), j});
    }
    size_t opened = 0;
    while (hn > 0) {
        if (s->problem == CG_COVER_SET ? all_covered(s) : s->n_free_open >= s->p)
            break;
        heap_item it = heap_pop(h, &hn);
        double g = site_gain(s, it.id);
        if (g <= 0)
            continue;
        if (hn == 0 || g >= h[0].key) {
            if (do_open(s, it.id) < 0) {
                free(h);
                return -1;
            }
            if (report && s->opts->progress && (++opened & 63) == 0)
                s->opts->progress(s->opts->progress_ctx, "greedy",
                                  s->problem == CG_COVER_SET
                                      ? s->covered / s->coverable
                                      : (double)s->n_free_open / (double)s->p);
        } else {
            it.key = g;
            heap_push(h, &hn, it);
        }
    }
    free(h);
    return 0;
}

/* ---- local search moves ---- */

static int drop_redundant(state *s)
{
    /* Walk backwards: closing swaps the last open site into the freed slot. */
    for (size_t i = s->n_open; i-- > 0;) {
        if (i >= s->n_open)
            continue;
        uint32_t j = s->open_list[i];
        if (!s->fixed[j] && s->uniq[j] < 0.5 && do_close(s, j) < 0)
            return -1;
    }
    return 0;
}

/* Collects into s->touched the free open sites owning alone some point of cover(c), with
 * s->acc[site] = the value of those points; gain0 = the value c covers that nobody covers. */
static double price_candidate(state *s, uint32_t c)
{
    const cg_cover_instance *in = s->inst;
    double gain0 = 0;
    s->n_touched = 0;
    for (size_t k = in->cover_start[c]; k < in->cover_start[c + 1]; k++) {
        uint32_t d = in->cover[k];
        if (s->cnt[d] == 0) {
            gain0 += s->val[d];
        } else if (s->cnt[d] == 1) {
            uint32_t o = (uint32_t)s->own[d];
            if (s->fixed[o])
                continue;
            if (s->acc[o] == 0)
                s->touched[s->n_touched++] = o;
            s->acc[o] += s->val[d];
        }
    }
    return gain0;
}

static void clear_touched(state *s)
{
    for (size_t i = 0; i < s->n_touched; i++)
        s->acc[s->touched[i]] = 0;
    s->n_touched = 0;
}

/* Set covering: one pass of 1-for-k swaps over list (all candidates when NULL). Returns the
 * number of sites saved, or -1 when out of memory. */
static long swap_pass_set(state *s, const uint32_t *list, size_t n_list)
{
    size_t n_items = list ? n_list : s->m;
    long saved = 0;
    for (size_t i = 0; i < n_items; i++) {
        if ((i & 255) == 255 && time_up(s))
            break;
        uint32_t c = list ? list[i] : (uint32_t)i;
        if (s->open[c])
            continue;
        price_candidate(s, c);
        size_t k = 0;
        for (size_t t = 0; t < s->n_touched; t++) {
            uint32_t o = s->touched[t];
            if (s->acc[o] >= s->uniq[o] - 0.5)
                s->touched[k++] = o; /* c covers everything o alone covers */
        }
        for (size_t t = k; t < s->n_touched; t++)
            s->acc[s->touched[t]] = 0;
        s->n_touched = k;
        if (k >= 1) {
            if (do_open(s, c) < 0)
                return -1;
            long closed = 0;
            /* Two of them may share points nobody else covers: re-check before each close. */
            for (size_t t = 0; t < k; t++) {
                uint32_t o = s->touched[t];
                if (s->uniq[o] < 0.5) {
                    if (do_close(s, o) < 0)
                        return -1;
                    closed++;
                }
            }
            saved += closed - 1;
        }
        clear_touched(s);
    }
    return saved;
}

static uint32_t least_uniq_free_site(const state *s)
{
    uint32_t best = UINT32_MAX;
    for (size_t i = 0; i < s->n_open; i++) {
        uint32_t j = s->open_list[i];
        if (!s->fixed[j] && (best == UINT32_MAX || s->uniq[j] < s->uniq[best]))
            best = j;
    }
    return best;
}

/* Maximal covering: one pass of improving 1-1 swaps (and plain additions while fewer than p
 * free sites are open). Returns the number of moves made, or -1 when out of memory. */
static long swap_pass_max(state *s, const uint32_t *list, size_t n_list)
{
    size_t n_items = list ? n_list : s->m;
    long moves = 0;
    uint32_t weakest = least_uniq_free_site(s);
    double eps = 1e-9 * (1 + s->coverable);
    for (size_t i = 0; i < n_items; i++) {
        if ((i & 255) == 255 && time_up(s))
            break;
        uint32_t c = list ? list[i] : (uint32_t)i;
        if (s->open[c])
            continue;
        double gain0 = price_candidate(s, c);
        if (s->n_free_open < s->p) {
            if (gain0 > eps) {
                if (do_open(s, c) < 0)
                    return -1;
                moves++;
                weakest = least_uniq_free_site(s);
            }
            clear_touched(s);
            continue;
        }
        uint32_t best = UINT32_MAX;
        double best_delta = eps;
        for (size_t t = 0; t < s->n_touched; t++) {
            uint32_t o = s->touched[t];
            double delta = gain0 + s->acc[o] - s->uniq[o];
            if (delta > best_delta) {
                best_delta = delta;
                best = o;
            }
        }
        if (weakest != UINT32_MAX) {
            double delta = gain0 + s->acc[weakest] - s->uniq[weakest];
            if (delta > best_delta) {
                best_delta = delta;
                best = weakest;
            }
        }
        clear_touched(s);
        if (best != UINT32_MAX) {
            if (do_open(s, c) < 0 || do_close(s, best) < 0)
                return -1;
            moves++;
            weakest = least_uniq_free_site(s);
        }
    }
    return moves;
}

static long swap_pass(state *s, const uint32_t *list, size_t n_list)
{
    return s->problem == CG_COVER_SET ? swap_pass_set(s, list, n_list)
                                      : swap_pass_max(s, list, n_list);
}

/* Adds to s->nbr (marked in s->mark) every candidate covering a point of cover(j). */
static void add_neighbourhood(state *s, uint32_t j)
{
    const cg_cover_instance *in = s->inst;
    for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++) {
        uint32_t d = in->cover[k];
        for (size_t r = s->rev_start[d]; r < s->rev_start[d + 1]; r++) {
            uint32_t c = s->rev[r];
            if (!s->mark[c]) {
                s->mark[c] = 1;
                s->nbr[s->n_nbr++] = c;
            }
        }
    }
}

static void clear_neighbourhood(state *s)
{
    for (size_t i = 0; i < s->n_nbr; i++)
        s->mark[s->nbr[i]] = 0;
    s->n_nbr = 0;
}

/* Better, equal or worse than the recorded best objective: > 0, 0, < 0. */
static int compare_objective(const state *s, double best)
{
    if (s->problem == CG_COVER_SET)
        return (double)s->n_open < best ? 1 : (double)s->n_open > best ? -1 : 0;
    double eps = 1e-9 * (1 + s->coverable);
    return s->covered > best + eps ? 1 : s->covered < best - eps ? -1 : 0;
}

static double objective(const state *s)
{
    return s->problem == CG_COVER_SET ? (double)s->n_open : s->covered;
}

/* One perturbation, repair and local improvement around a random open site. */
static int ils_step(state *s)
{
    const cg_cover_instance *in = s->inst;
    uint32_t closing[3];
    size_t n_closing = 0;
    uint32_t s0;
    do
        s0 = s->open_list[rng_below(s, s->n_open)];
    while (s->fixed[s0]);
    closing[n_closing++] = s0;
    /* Open neighbours: free open sites covering some sampled point of s0. */
    size_t len = in->cover_start[s0 + 1] - in->cover_start[s0];
    uint32_t cand[NEIGHBOUR_SAMPLE];
    size_t n_cand = 0;
    for (int t = 0; t < NEIGHBOUR_SAMPLE && len > 0 && n_cand < NEIGHBOUR_SAMPLE; t++) {
        uint32_t d = in->cover[in->cover_start[s0] + rng_below(s, len)];
        for (size_t r = s->rev_start[d]; r < s->rev_start[d + 1] && n_cand < NEIGHBOUR_SAMPLE;
             r++) {
            uint32_t c = s->rev[r];
            if (c != s0 && s->open[c] && !s->fixed[c] && !s->mark[c]) {
                s->mark[c] = 1;
                cand[n_cand++] = c;
            }
        }
    }
    for (size_t i = 0; i < n_cand; i++)
        s->mark[cand[i]] = 0;
    size_t extra = n_cand ? rng_below(s, n_cand < 2 ? 2 : 3) : 0;
    for (size_t i = 0; i < extra && n_cand > 0; i++) {
        size_t pick = rng_below(s, n_cand);
        closing[n_closing++] = cand[pick];
        cand[pick] = cand[--n_cand];
    }
    for (size_t i = 0; i < n_closing; i++) {
        add_neighbourhood(s, closing[i]);
        if (do_close(s, closing[i]) < 0)
            return -1;
    }
    /* Repair from the candidates around the hole, then improve around what changed. */
    size_t before = s->log_n;
    for (size_t i = 0; i < n_closing; i++)
        s->ban[closing[i]] = 1;
    int rc = greedy(s, s->nbr, s->n_nbr, 0);
    for (size_t i = 0; i < n_closing; i++)
        s->ban[closing[i]] = 0;
    if (rc < 0)
        return -1;
    for (size_t i = before; i < s->log_n; i++)
        if (s->log[i] & LOG_OPEN)
            add_neighbourhood(s, s->log[i] & ~LOG_OPEN);
    if (s->problem == CG_COVER_SET && drop_redundant(s) < 0)
        return -1;
    long r;
    do
        r = swap_pass(s, s->nbr, s->n_nbr);
    while (r > 0 && !time_up(s));
    clear_neighbourhood(s);
    return r < 0 ? -1 : 0;
}

static int local_search(state *s, cg_cover_result *res)
{
    if (s->problem == CG_COVER_SET && drop_redundant(s) < 0)
        return -1;
    long r;
    do {
        r = swap_pass(s, NULL, 0);
        if (s->problem == CG_COVER_SET && r >= 0 && drop_redundant(s) < 0)
            return -1;
    } while (r > 0 && !time_up(s));
    if (r < 0)
        return -1;

    /* Iterated local search: keep a result at least as good as the best (a walk along
     * plateaus), undo a worse one; stop at the time limit or after a long run without gain. */
    double start = now_s(), span = s->deadline - start;
    double best = objective(s);
    size_t since_best = 0, patience = 20000 + 100 * s->n_free_open;
    s->logging = 1;
    while (s->n_free_open > 0 && since_best < patience) {
        if (time_up(s)) {
            res->timed_out = 1;
            break;
        }
        s->log_n = 0;
        if (ils_step(s) < 0)
            return -1;
        res->iterations++;
        since_best++;
        int cmp = compare_objective(s, best);
        int feasible = s->problem == CG_COVER_MAX || all_covered(s);
        if (!feasible || cmp < 0) {
            undo_log(s);
        } else if (cmp > 0) {
            best = objective(s);
            since_best = 0;
        }
        if (s->opts->progress && (res->iterations & 255) == 0 && span > 0)
            s->opts->progress(s->opts->progress_ctx, "local search", (now_s() - start) / span);
    }
    s->logging = 0;
    s->log_n = 0;
    return 0;
}

static void state_free(state *s)
{
    free(s->val);
    free(s->rev_start);
    free(s->rev);
    free(s->cnt);
    free(s->own);
    free(s->open);
    free(s->fixed);
    free(s->mark);
    free(s->ban);
    free(s->uniq);
    free(s->acc);
    free(s->touched);
    free(s->nbr);
    free(s->open_list);
    free(s->pos);
    free(s->log);
}

static int state_init(state *s, const cg_cover_instance *in, const cg_cover_opts *opts)
{
    memset(s, 0, sizeof *s);
    s->inst = in;
    s->opts = opts;
    s->problem = opts->problem;
    s->p = opts->p;
    s->n = in->n_demand;
    s->m = in->n_cand;
    s->rng = opts->seed ? opts->seed : 1;
    size_t n = s->n ? s->n : 1, m = s->m ? s->m : 1;
    size_t nnz = s->m ? in->cover_start[s->m] : 0;
    s->val = malloc(n * sizeof *s->val);
    s->rev_start = calloc(n + 1, sizeof *s->rev_start);
    s->rev = malloc((nnz ? nnz : 1) * sizeof *s->rev);
    s->cnt = calloc(n, sizeof *s->cnt);
    s->own = calloc(n, sizeof *s->own);
    s->open = calloc(m, 1);
    s->fixed = calloc(m, 1);
    s->mark = calloc(m, 1);
    s->ban = calloc(m, 1);
    s->uniq = calloc(m, sizeof *s->uniq);
    s->acc = calloc(m, sizeof *s->acc);
    s->touched = malloc(m * sizeof *s->touched);
    s->nbr = malloc(m * sizeof *s->nbr);
    s->open_list = malloc(m * sizeof *s->open_list);
    s->pos = malloc(m * sizeof *s->pos);
    if (!s->val || !s->rev_start || !s->rev || !s->cnt || !s->own || !s->open || !s->fixed ||
        !s->mark || !s->ban || !s->uniq || !s->acc || !s->touched || !s->nbr || !s->open_list ||
        !s->pos)
        return -1;
    /* Transpose the coverage lists; candidates come out increasing within each point. */
    for (size_t k = 0; k < nnz; k++)
        s->rev_start[in->cover[k] + 1]++;
    for (size_t i = 0; i < s->n; i++)
        s->rev_start[i + 1] += s->rev_start[i];
    size_t *fill = malloc(n * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, s->rev_start, s->n * sizeof *fill);
    for (size_t j = 0; j < s->m; j++)
        for (size_t k = in->cover_start[j]; k < in->cover_start[j + 1]; k++)
            s->rev[fill[in->cover[k]]++] = (uint32_t)j;
    free(fill);
    for (size_t i = 0; i < s->n; i++) {
        int coverable = s->rev_start[i + 1] > s->rev_start[i];
        double w = in->weight ? in->weight[i] : 1.0;
        s->val[i] = opts->problem == CG_COVER_SET ? 1.0 : w;
        if (coverable)
            s->coverable += s->val[i];
    }
    for (size_t j = 0; j < s->m; j++)
        s->fixed[j] = in->fixed && in->fixed[j];
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int fill_result(const state *s, cg_cover_result *res)
{
    const cg_cover_instance *in = s->inst;
    res->n_open = s->n_open;
    res->open = malloc((s->n_open ? s->n_open : 1) * sizeof *res->open);
    if (!res->open)
        return -1;
    memcpy(res->open, s->open_list, s->n_open * sizeof *res->open);
    qsort(res->open, s->n_open, sizeof *res->open, compare_u32);
    res->n_fixed = 0;
    for (size_t j = 0; j < s->m; j++)
        res->n_fixed += s->fixed[j];
    res->n_covered = 0;
    res->covered_weight = res->coverable_weight = res->total_weight = 0;
    size_t n_unc = 0;
    for (size_t i = 0; i < s->n; i++) {
        double w = in->weight ? in->weight[i] : 1.0;
        res->total_weight += w;
        if (s->rev_start[i + 1] == s->rev_start[i]) {
            n_unc++;
            continue;
        }
        res->coverable_weight += w;
        if (s->cnt[i] > 0) {
            res->n_covered++;
            res->covered_weight += w;
        }
    }
    free(res->uncoverable);
    res->uncoverable = malloc((n_unc ? n_unc : 1) * sizeof *res->uncoverable);
    if (!res->uncoverable)
        return -1;
    res->n_uncoverable = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->rev_start[i + 1] == s->rev_start[i])
            res->uncoverable[res->n_uncoverable++] = (uint32_t)i;
    res->objective = objective(s);
    return 0;
}

/* Runs the heuristic on an initialised state (fixed sites not yet open). */
static int heuristic(state *s, double seconds, cg_cover_result *res)
{
    s->deadline = now_s() + seconds;
    for (size_t j = 0; j < s->m; j++)
        if (s->fixed[j])
            site_open(s, (uint32_t)j);
    if (greedy(s, NULL, 0, 1) < 0 || local_search(s, res) < 0)
        return -1;
    return 0;
}

#ifdef CIVGRID_HAVE_CBC
/*
 * The integer programs, with x_j in {0, 1} for candidate j (fixed ones have lower bound 1) and
 * one row per coverable demand point d:
 *   set covering:      min sum x_j        s.t. sum_{j covers d} x_j >= 1
 *   maximal covering:  max sum w_d y_d    s.t. y_d - sum_{j covers d} x_j <= 0, 0 <= y_d <= 1,
 *                                              sum_{j not fixed} x_j <= p
 * (y_d may stay continuous: for integer x the best y_d is min(1, sum x_j), already integral.)
 * The coverage lists are the columns of the constraint matrix as they stand (CSC).
 */
static int exact_solve(state *s, double seconds, cg_cover_result *res, cg_err *err)
{
    const cg_cover_instance *in = s->inst;
    size_t nnz = s->m ? in->cover_start[s->m] : 0;
    int is_max = s->problem == CG_COVER_MAX;
    if (nnz + s->n + s->m >= (size_t)INT_MAX / 2)
        return cg_err_set(err, CG_ELIMIT, "method",
                          "the instance is too large for the exact mode (%zu coverage pairs)", nnz);
    int *row_of = malloc((s->n ? s->n : 1) * sizeof *row_of);
    if (!row_of)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    int n_rows = 0;
    for (size_t i = 0; i < s->n; i++)
        row_of[i] = s->rev_start[i + 1] > s->rev_start[i] ? n_rows++ : -1;
    if (n_rows == 0) { /* nothing any candidate covers: the fixed sites alone are optimal */
        free(row_of);
        res->optimal = 1;
        res->bound = objective(s);
        return 0;
    }
    int card_row = n_rows;
    int total_rows = n_rows + (is_max ? 1 : 0);
    size_t n_cols = s->m + (is_max ? (size_t)n_rows : 0);
    size_t total_nnz = nnz + (is_max ? s->m + (size_t)n_rows : 0);
    int *start = malloc((n_cols + 1) * sizeof *start);
    int *index = malloc((total_nnz ? total_nnz : 1) * sizeof *index);
    double *value = malloc((total_nnz ? total_nnz : 1) * sizeof *value);
    double *collb = malloc((n_cols ? n_cols : 1) * sizeof *collb);
    double *colub = malloc((n_cols ? n_cols : 1) * sizeof *colub);
    double *obj = malloc((n_cols ? n_cols : 1) * sizeof *obj);
    double *rowlb = malloc(((size_t)total_rows + 1) * sizeof *rowlb);
    double *rowub = malloc(((size_t)total_rows + 1) * sizeof *rowub);
    double *start_sol = malloc((n_cols ? n_cols : 1) * sizeof *start_sol);
    int rc = -1;
    Cbc_Model *model = NULL;
    if (!start || !index || !value || !collb || !colub || !obj || !rowlb || !rowub || !start_sol) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t j = 0; j < s->m; j++) {
        start[j] = (int)k;
        for (size_t q = in->cover_start[j]; q < in->cover_start[j + 1]; q++) {
            index[k] = row_of[in->cover[q]];
            value[k++] = is_max ? -1.0 : 1.0;
        }
        if (is_max && !s->fixed[j]) {
            index[k] = card_row;
            value[k++] = 1.0;
        }
        collb[j] = s->fixed[j] ? 1.0 : 0.0;
        colub[j] = 1.0;
        obj[j] = is_max ? 0.0 : 1.0;
    }
    if (is_max)
        for (size_t i = 0; i < s->n; i++) {
            if (row_of[i] < 0)
                continue;
            size_t col = s->m + (size_t)row_of[i];
            start[col] = (int)k;
            index[k] = row_of[i];
            value[k++] = 1.0;
            collb[col] = 0.0;
            colub[col] = 1.0;
            obj[col] = s->val[i];
        }
    start[n_cols] = (int)k;
    for (int r = 0; r < n_rows; r++) {
        rowlb[r] = is_max ? -DBL_MAX : 1.0;
        rowub[r] = is_max ? 0.0 : DBL_MAX;
    }
    if (is_max) {
        rowlb[card_row] = -DBL_MAX;
        rowub[card_row] = (double)s->p;
    }
    model = Cbc_newModel();
    if (!model) {
        cg_err_set(err, CG_ENOMEM, NULL, "CBC could not create a model");
        goto done;
    }
    Cbc_loadProblem(model, (int)n_cols, total_rows, start, index, value, collb, colub, obj, rowlb,
                    rowub);
    for (size_t j = 0; j < s->m; j++)
        Cbc_setInteger(model, (int)j);
    Cbc_setObjSense(model, is_max ? -1.0 : 1.0);
    Cbc_setLogLevel(model, 0);
    Cbc_setParameter(model, "slogLevel",
                     "0"); /* Clp's own messages (library code prints nothing) */
    Cbc_setMaximumSeconds(model, seconds > 1 ? seconds : 1);
    /* A full column vector: CBC 2.10's Cbc_setMIPStartI fails on models with continuous
     * columns past the indices it is given. */
    for (size_t j = 0; j < s->m; j++)
        start_sol[j] = s->open[j] ? 1.0 : 0.0;
    if (is_max)
        for (size_t i = 0; i < s->n; i++)
            if (row_of[i] >= 0)
                start_sol[s->m + (size_t)row_of[i]] = s->cnt[i] > 0 ? 1.0 : 0.0;
    Cbc_setInitialSolution(model, start_sol);
    if (s->opts->progress)
        s->opts->progress(s->opts->progress_ctx, "cbc", -1);
    Cbc_solve(model);
    const double *sol = Cbc_numberSavedSolutions(model) > 0 ? Cbc_getColSolution(model) : NULL;
    res->optimal = Cbc_isProvenOptimal(model);
    res->timed_out = Cbc_isSecondsLimitReached(model);
    double bound = Cbc_getBestPossibleObjValue(model);
    if (sol) {
        double heur = objective(s);
        /* Take CBC's incumbent unless it is worse than the heuristic (it should never be). */
        uint32_t *was = malloc((s->n_open ? s->n_open : 1) * sizeof *was);
        if (!was) {
            cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
            goto done;
        }
        size_t n_was = s->n_open;
        memcpy(was, s->open_list, n_was * sizeof *was);
        for (size_t i = 0; i < n_was; i++)
            if (!s->fixed[was[i]])
                site_close(s, was[i]);
        for (size_t j = 0; j < s->m; j++)
            if (!s->fixed[j] && sol[j] > 0.5)
                site_open(s, (uint32_t)j);
        int feasible = is_max ? s->n_free_open <= s->p : all_covered(s);
        if (!feasible || compare_objective(s, heur) < 0) {
            for (size_t i = s->n_open; i-- > 0;)
                if (!s->fixed[s->open_list[i]])
                    site_close(s, s->open_list[i]);
            for (size_t i = 0; i < n_was; i++)
                if (!s->fixed[was[i]])
                    site_open(s, was[i]);
            res->optimal = 0;
        }
        free(was);
    }
    /* The bound must sit on the far side of what we hold; CBC reports it in the model's sense. */
    double o = objective(s);
    if (!isfinite(bound) || (is_max ? bound < o : bound > o))
        bound = o;
    if (res->optimal)
        bound = o;
    res->bound = is_max ? bound : ceil(bound - 1e-6);
    if (!is_max && res->bound > o)
        res->bound = o;
    rc = 0;
done:
    if (model)
        Cbc_deleteModel(model);
    free(row_of);
    free(start);
    free(index);
    free(value);
    free(collb);
    free(colub);
    free(obj);
    free(rowlb);
    free(rowub);
    free(start_sol);
    return rc;
}
#endif

int cg_cover_solve(const cg_cover_instance *inst, const cg_cover_opts *opts, cg_cover_result *res,
                   cg_err *err)
{
    memset(res, 0, sizeof *res);
    if (cg_cover_validate(inst, err) < 0)
        return -1;
    if (opts->problem != CG_COVER_SET && opts->problem != CG_COVER_MAX)
        return cg_err_set(err, CG_EINVAL, "problem", "unknown covering problem %d",
                          (int)opts->problem);
    if (opts->method != CG_COVER_HEURISTIC && opts->method != CG_COVER_EXACT)
        return cg_err_set(err, CG_EINVAL, "method", "unknown method %d", (int)opts->method);
    if (opts->method == CG_COVER_EXACT && !cg_cover_exact_available())
        return cg_err_set(err, CG_EUNSUPPORTED, "method",
                          "this civgrid was built without CBC, so the exact mode is unavailable");
    size_t n_fixed = 0;
    for (size_t j = 0; inst->fixed && j < inst->n_cand; j++)
        n_fixed += inst->fixed[j] != 0;
    if (opts->problem == CG_COVER_MAX && opts->p > inst->n_cand - n_fixed)
        return cg_err_set(err, CG_EINVAL, "p",
                          "p is %zu but only %zu candidate sites are not already fixed", opts->p,
                          inst->n_cand - n_fixed);
    double t0 = now_s();
    int exact = opts->method == CG_COVER_EXACT;
    double limit = opts->time_limit_s > 0 ? opts->time_limit_s
                   : exact                ? DEFAULT_EXACT_S
                                          : DEFAULT_HEURISTIC_S;
    state s;
    if (state_init(&s, inst, opts) < 0) {
        state_free(&s);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory for a covering instance");
    }
    /* In exact mode a short heuristic run provides CBC's starting solution. */
    double heur_s = exact ? fmin(1.0, limit * 0.1) : limit;
    if (heuristic(&s, heur_s, res) < 0) {
        state_free(&s);
        cg_cover_result_free(res);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory during the covering search");
    }
#ifdef CIVGRID_HAVE_CBC
    if (exact) {
        res->timed_out = 0;
        if (exact_solve(&s, limit - heur_s, res, err) < 0) {
            state_free(&s);
            cg_cover_result_free(res);
            return -1;
        }
    }
#endif
    if (fill_result(&s, res) < 0) {
        state_free(&s);
        cg_cover_result_free(res);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    }
    if (!exact) {
        res->bound = opts->problem == CG_COVER_SET
                         ? (double)res->n_fixed +
                               (res->coverable_weight > 0 && res->n_open > res->n_fixed ? 1.0 : 0.0)
                         : s.coverable;
        res->optimal = res->objective == res->bound;
    }
    res->seconds = now_s() - t0;
    state_free(&s);
    return 0;
}
