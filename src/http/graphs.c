/*
 * The API's road graphs (graphs.h): one current mapping per profile, reference counted, replaced
 * when the file's inode or modification time changes; search workspaces pooled per graph.
 */
#include "http/graphs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define POOL_MAX 8

struct cg_http_graph {
    cg_graph *g;
    cg_profile profile;
    uint64_t serial;
    struct timespec mtime;
    ino_t ino;
    int refs; /* holders, plus one while it is the current graph */
    cg_search *pool[POOL_MAX];
    int n_pool;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cg_http_graph *current[CG_PROFILE_COUNT];
static uint64_t serials;

static void release_locked(cg_http_graph *h)
{
    if (--h->refs > 0)
        return;
    for (int i = 0; i < h->n_pool; i++)
        cg_search_free(h->pool[i]);
    cg_graph_free(h->g);
    free(h);
}

int cg_http_graph_acquire(cg_http_req *req, cg_profile p, cg_http_graph **out, cg_err *err)
{
    char path[1200];
    if (cg_graph_path(cg_http_config_of(req)->db, p, path, sizeof path, err))
        return -1;
    struct stat sb;
    int have = stat(path, &sb) == 0;
    pthread_mutex_lock(&lock);
    cg_http_graph *l = current[p];
    if (l && have && l->ino == sb.st_ino && l->mtime.tv_sec == sb.st_mtim.tv_sec &&
        l->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
        l->refs++;
        pthread_mutex_unlock(&lock);
        *out = l;
        return 0;
    }
    cg_store *s;
    cg_http_graph *n = calloc(1, sizeof *n);
    int rc = -1;
    if (!n)
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    else if (cg_http_store(req, &s, err) == 0 && cg_graph_load(path, p, s, &n->g, err) == 0)
        rc = 0;
    if (rc) {
        free(n);
        pthread_mutex_unlock(&lock);
        return -1;
    }
    n->profile = p;
    n->serial = ++serials;
    n->ino = sb.st_ino;
    n->mtime = sb.st_mtim;
    n->refs = 2;
    if (l)
        release_locked(l);
    current[p] = n;
    pthread_mutex_unlock(&lock);
    *out = n;
    return 0;
}

void cg_http_graph_hold(cg_http_graph *h)
{
    pthread_mutex_lock(&lock);
    h->refs++;
    pthread_mutex_unlock(&lock);
}

void cg_http_graph_release(cg_http_graph *h, cg_search *s)
{
    pthread_mutex_lock(&lock);
    if (s && h->n_pool < POOL_MAX)
        h->pool[h->n_pool++] = s;
    else
        cg_search_free(s);
    release_locked(h);
    pthread_mutex_unlock(&lock);
}

const cg_graph *cg_http_graph_get(const cg_http_graph *h)
{
    return h->g;
}

cg_profile cg_http_graph_profile(const cg_http_graph *h)
{
    return h->profile;
}

uint64_t cg_http_graph_serial(const cg_http_graph *h)
{
    return h->serial;
}

int cg_http_graph_search(cg_http_graph *h, cg_search **out, cg_err *err)
{
    pthread_mutex_lock(&lock);
    cg_search *s = h->n_pool ? h->pool[--h->n_pool] : NULL;
    pthread_mutex_unlock(&lock);
    if (s) {
        *out = s;
        return 0;
    }
    return cg_search_new(h->g, out, err);
}
