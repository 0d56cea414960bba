/*
 * Arena: a linked list of blocks; allocation bumps a pointer in the newest block, and a request
 * larger than the block size gets a block of its own. See arena.h.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t size, used;
    max_align_t data[];
} block;

struct cg_arena {
    block *head;
    size_t block_size;
    size_t total;
};

static block *block_new(size_t size)
{
    block *b = malloc(sizeof(block) + size);
    if (!b) {
        fprintf(stderr, "civgrid: out of memory allocating %zu bytes\n", size);
        abort();
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

cg_arena *cg_arena_new(size_t block_size)
{
    cg_arena *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->block_size = block_size ? block_size : 16384;
    a->head = block_new(a->block_size);
    return a;
}

void cg_arena_free(cg_arena *a)
{
    if (!a)
        return;
    block *b = a->head;
    while (b) {
        block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void cg_arena_reset(cg_arena *a)
{
    block *b = a->head;
    while (b->next) {
        block *n = b->next;
        free(b);
        b = n;
    }
    a->head = b;
    b->used = 0;
    a->total = 0;
}

void *cg_arena_alloc(cg_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    block *b = a->head;
    if (b->size - b->used < size) {
        if (size > a->block_size / 2) {
            /* A big allocation gets its own block behind the head so the head keeps its room. */
            block *big = block_new(size);
            big->used = size;
            big->next = b->next;
            b->next = big;
            a->total += size;
            return big->data;
        }
        block *nb = block_new(a->block_size);
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    a->total += size;
    return p;
}

void *cg_arena_calloc(cg_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        fprintf(stderr, "civgrid: allocation overflow\n");
        abort();
    }
    void *p = cg_arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *cg_arena_strndup(cg_arena *a, const char *s, size_t n)
{
    char *p = cg_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cg_arena_strdup(cg_arena *a, const char *s)
{
    return s ? cg_arena_strndup(a, s, strlen(s)) : NULL;
}

char *cg_arena_sprintf(cg_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = cg_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

size_t cg_arena_used(const cg_arena *a)
{
    return a->total;
}
