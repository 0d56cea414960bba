/*
 * Arena allocation: many small allocations freed in one call. Each HTTP request owns one arena
 * (nginx's pool model), and so does each batch job such as an import; nothing allocated from an
 * arena is freed on its own. Allocation never fails silently: on exhaustion of memory the arena
 * aborts, since a request that cannot allocate a few kilobytes cannot answer either.
 */
#ifndef CG_CORE_ARENA_H
#define CG_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cg_arena cg_arena;

cg_arena *cg_arena_new(size_t block_size);
void cg_arena_free(cg_arena *arena);
/* Frees all but the first block, for reuse across requests. */
void cg_arena_reset(cg_arena *arena);

void *cg_arena_alloc(cg_arena *arena, size_t size); /* 16-byte aligned, uninitialised */
void *cg_arena_calloc(cg_arena *arena, size_t count, size_t size);
char *cg_arena_strdup(cg_arena *arena, const char *s);
char *cg_arena_strndup(cg_arena *arena, const char *s, size_t n);
char *cg_arena_sprintf(cg_arena *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for limits and tests). */
size_t cg_arena_used(const cg_arena *arena);

#endif
