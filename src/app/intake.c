/*
 * Group commit of new cases (app/cases.h, cg_intake). With synchronous=FULL every commit costs
 * one fsync of the WAL, a few milliseconds on real disks: one commit per case would cap intake
 * at a few hundred cases a second. Here submitters queue their case and sleep; one writer
 * thread, with its own connection, takes everything waiting (up to max_batch), writes it in one
 * transaction (BEGIN IMMEDIATE), commits once, and wakes the
 * submitters of that batch. While the fsync runs, the next batch gathers, so the batch size
 * grows with the load by itself and nobody waits for a timer.
 *
 * A case that fails (a constraint, bad input the store refuses) is answered with its own error
 * and the rest of the batch commits: a refusal before writing leaves the transaction whole, and
 * a failure part-way makes the batch run again with a savepoint per case (write_batch). If the
 * commit itself fails, every case of the batch gets that error: none of them was written. An
 * idempotency key used twice in one batch is found by the second insert (same transaction), so it
 * is a replay there too.
 *
 * Submitters either wait (cg_intake_submit: the command line, the tests) or hand over a
 * completion callback (cg_intake_submit_async: the server, whose worker threads must not block):
 * the writer calls it after the batch, outside its lock.
 */
#include "app/cases.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pending {
    struct pending *next;
    cg_case *c;
    const cg_case_event *report;
    const char *contact, *idem_key;
    int64_t *existing_id;
    int64_t existing;          /* async: existing_id points here */
    cg_intake_done_fn done_fn; /* NULL: a waiting submitter (on its stack) */
    void *done_arg;
    cg_err err;
    int rc;
    int done;
} pending;

struct cg_intake {
    cg_store *store; /* the writer's own connection */
    int max_batch;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work; /* the writer waits for cases */
    pthread_cond_t done; /* submitters wait for their batch */
    pending *head, *tail;
    int stopping;
    int closed; /* the writer has been joined */
};

/* Takes up to max_batch waiting cases off the queue (called with the lock held). */
static pending *take_batch(cg_intake *in)
{
    pending *first = in->head, *p = first;
    for (int n = 1; p && n < in->max_batch; n++)
        p = p->next;
    if (p) {
        in->head = p->next;
        p->next = NULL;
    } else {
        in->head = NULL;
    }
    if (!in->head)
        in->tail = NULL;
    return first;
}

/* Writes every case of the batch inside the open transaction, each under its own savepoint
 * when `savepoints`. Returns 0, or -1 when a case failed part-way without a savepoint to undo
 * it alone: the transaction can then only be rolled back as a whole. */
static int write_cases(cg_intake *in, pending *batch, int savepoints)
{
    for (pending *p = batch; p; p = p->next) {
        /* Audit entries are attributed to whoever reported the case. */
        cg_actor actor = {.actor_id = p->report->actor_id};
        snprintf(actor.name, sizeof actor.name, "%s",
                 p->report->actor_name[0] ? p->report->actor_name : "anonymous");
        cg_store_set_actor(in->store, &actor);
        if (savepoints && cg_store_savepoint(in->store, &p->err)) {
            p->rc = -1;
            continue;
        }
        p->rc = cg_store_case_insert(in->store, p->c, p->report, p->contact, p->idem_key,
                                     p->existing_id, &p->err);
        if (!savepoints) {
            if (p->rc && !cg_store_tx_whole(in->store))
                return -1;
            continue;
        }
        if (p->rc == 0)
            p->rc = cg_store_savepoint_release(in->store, &p->err);
        else
            cg_store_savepoint_rollback(in->store);
    }
    return 0;
}

/*
 * One transaction for the batch. The cases are first written without savepoints: a savepoint
 * per case costs more than the case itself (SQLite then journals every page each case touches
 * again, and FTS5 flushes its pending terms as a new segment at every savepoint). A case the
 * store refuses before writing anything (its checks) leaves the transaction whole and is simply
 * answered with its error. Only when a case fails part-way (a database-level failure) is the
 * batch rolled back and written again with a savepoint per case, so that each case still gets
 * its own answer and the others commit.
 */
static void write_batch(cg_intake *in, pending *batch)
{
    cg_err err = {0};
    for (int savepoints = 0; savepoints < 2; savepoints++) {
        if (cg_store_begin(in->store, &err)) {
            for (pending *p = batch; p; p = p->next) {
                p->rc = -1;
                p->err = err;
            }
            return;
        }
        if (write_cases(in, batch, savepoints) == 0)
            break;
        cg_store_rollback(in->store);
        for (pending *p = batch; p; p = p->next) {
            p->rc = -1;
            p->c->id = 0;
            *p->existing_id = 0;
        }
    }
    if (cg_store_commit(in->store, &err)) {
        for (pending *p = batch; p; p = p->next) {
            if (p->rc == 0) {
                p->rc = -1;
                p->err = err;
                p->c->id = 0;
                *p->existing_id = 0;
            }
        }
    }
}

static void *writer(void *arg)
{
    cg_intake *in = arg;
    pthread_mutex_lock(&in->lock);
    for (;;) {
        while (!in->head && !in->stopping)
            pthread_cond_wait(&in->work, &in->lock);
        if (!in->head && in->stopping)
            break;
        pending *batch = take_batch(in);
        pthread_mutex_unlock(&in->lock);
        /* A database that was read-only and is writable again: write through a fresh
         * connection (a failure here leaves the old one, whose writes then say why). */
        cg_store_reopen_if_writable(&in->store, NULL);
        write_batch(in, batch);
        /* Waiting submitters own their entry (on their stack): once `done` is set it may be
         * gone, so the callbacks' entries are split off first. */
        pending *async = NULL, **async_tail = &async;
        pthread_mutex_lock(&in->lock);
        for (pending *p = batch, *next; p; p = next) {
            next = p->next;
            if (p->done_fn) {
                p->next = NULL;
                *async_tail = p;
                async_tail = &p->next;
            } else {
                p->done = 1;
            }
        }
        pthread_cond_broadcast(&in->done);
        pthread_mutex_unlock(&in->lock);
        for (pending *p = async, *next; p; p = next) {
            next = p->next;
            p->done_fn(p->done_arg, p->rc, p->existing, p->rc ? &p->err : NULL);
            free(p);
        }
        pthread_mutex_lock(&in->lock);
    }
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

int cg_intake_start(const char *location, int max_batch, cg_intake **out, cg_err *err)
{
    *out = NULL;
    cg_intake *in = calloc(1, sizeof *in);
    if (!in)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory starting the case intake");
    in->max_batch = max_batch > 0 ? max_batch : 256;
    if (cg_store_open(location, 0, &in->store, err)) {
        free(in);
        return -1;
    }
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->work, NULL);
    pthread_cond_init(&in->done, NULL);
    if (pthread_create(&in->thread, NULL, writer, in) != 0) {
        cg_store_close(in->store);
        pthread_mutex_destroy(&in->lock);
        pthread_cond_destroy(&in->work);
        pthread_cond_destroy(&in->done);
        free(in);
        return cg_err_set(err, CG_EINTERNAL, "", "cannot start the case intake thread");
    }
    *out = in;
    return 0;
}

/* Appends p to the queue, or refuses when stopping. */
static int enqueue(cg_intake *in, pending *p, cg_err *err)
{
    if (in->stopping)
        return cg_err_set(err, CG_EBUSY, "", "the case intake is shutting down: try again");
    if (in->tail)
        in->tail->next = p;
    else
        in->head = p;
    in->tail = p;
    pthread_cond_signal(&in->work);
    return 0;
}

int cg_intake_submit_async(cg_intake *in, cg_case *c, const cg_case_event *report,
                           const char *contact, const char *idem_key, cg_intake_done_fn done,
                           void *arg, cg_err *err)
{
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory queueing a case");
    p->c = c;
    p->report = report;
    p->contact = contact;
    p->idem_key = idem_key;
    p->existing_id = &p->existing;
    p->done_fn = done;
    p->done_arg = arg;
    p->rc = -1;
    pthread_mutex_lock(&in->lock);
    int rc = enqueue(in, p, err);
    pthread_mutex_unlock(&in->lock);
    if (rc)
        free(p);
    return rc;
}

int cg_intake_submit(cg_intake *in, cg_case *c, const cg_case_event *report, const char *contact,
                     const char *idem_key, int64_t *existing_id, cg_err *err)
{
    pending p = {.c = c,
                 .report = report,
                 .contact = contact,
                 .idem_key = idem_key,
                 .existing_id = existing_id,
                 .rc = -1};
    *existing_id = 0;
    pthread_mutex_lock(&in->lock);
    if (enqueue(in, &p, err)) {
        pthread_mutex_unlock(&in->lock);
        return -1;
    }
    while (!p.done)
        pthread_cond_wait(&in->done, &in->lock);
    pthread_mutex_unlock(&in->lock);
    if (p.rc && err)
        *err = p.err;
    return p.rc;
}

void cg_intake_close(cg_intake *in)
{
    if (!in || in->closed)
        return;
    pthread_mutex_lock(&in->lock);
    in->stopping = 1;
    pthread_cond_signal(&in->work);
    pthread_mutex_unlock(&in->lock);
    pthread_join(in->thread, NULL);
    in->closed = 1;
}

void cg_intake_stop(cg_intake *in)
{
    if (!in)
        return;
    cg_intake_close(in);
    cg_store_close(in->store);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->work);
    pthread_cond_destroy(&in->done);
    free(in);
}
