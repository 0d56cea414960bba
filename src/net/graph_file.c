/*
 * The graph file (DB.car.graph): a fixed header, then the graph's arrays one after another, each
 * padded to 8 bytes, exactly as they sit in memory, so loading is one mmap and a pointer per
 * array. Layout (little-endian hosts; all counts from the header):
 *
 *   header   magic "CGGRAPH\n", version, profile, n, m, hierarchy edge counts, source way count,
 *            bounding box, source ways generation and digest, payload size, checksum
 *   graph    first_out[n+1] head[m] ms[m] twin[m] metres[m] cls[m] flags[m] in_first[n+1]
 *            in_edge[m] lat[n] lon[n] origin[n]
 *   ch       rank[n] order[n] up_first[n+1] up_arc (head, w pairs) up_mid up_len [ch_up_m each]
 *            dn_first[n+1] dn_arc dn_mid dn_len [ch_dn_m each]   (when has_ch)
 *
 * The checksum is FNV-1a over the payload taken as 64-bit words: it catches truncation, bit rot
 * and a file overwritten half-way, at ~1 GB/s, which is a small part of a server's start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/graph_impl.h"

#define MAGIC "CGGRAPH\n"

typedef struct {
    char magic[8];
    uint32_t version, profile, n, m, ch_up_m, ch_dn_m, has_ch, reserved;
    int64_t source_ways;
    double bbox[4];
    int64_t source_gen;     /* the store's ways generation when built */
    uint64_t source_digest; /* of the store's roads (cg_graph_store_digest) */
    uint64_t payload, checksum;
} file_header;

typedef struct {
    const void **field;
    size_t bytes;
} section;

static size_t pad8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

/* The sections of g in file order; returns their count. */
static size_t sections(cg_graph *g, int has_ch, section *s)
{
    size_t n = g->n, m = g->m, k = 0;
#define SEC(f, b) s[k++] = (section){(const void **)&g->f, (b)}
    SEC(first_out, (n + 1) * 4);
    SEC(head, m * 4);
    SEC(ms, m * 4);
    SEC(twin, m * 4);
    SEC(metres, m * 4);
    SEC(cls, m);
    SEC(flags, m);
    SEC(in_first, (n + 1) * 4);
    SEC(in_edge, m * 4);
    SEC(lat, n * 4);
    SEC(lon, n * 4);
    SEC(origin, n * 4);
    if (has_ch) {
        SEC(rank, n * 4);
        SEC(order, n * 4);
        SEC(up_first, (n + 1) * 4);
        SEC(up_arc, (size_t)g->ch_up_m * 8);
        SEC(up_mid, (size_t)g->ch_up_m * 4);
        SEC(up_len, (size_t)g->ch_up_m * 4);
        SEC(dn_first, (n + 1) * 4);
        SEC(dn_arc, (size_t)g->ch_dn_m * 8);
        SEC(dn_mid, (size_t)g->ch_dn_m * 4);
        SEC(dn_len, (size_t)g->ch_dn_m * 4);
    }
#undef SEC
    return k;
}

static uint64_t fnv_words(uint64_t h, const void *p, size_t bytes)
{
    const unsigned char *c = p;
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, c + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

int cg_graph_save(const cg_graph *gc, const char *path, cg_err *err)
{
    cg_graph *g = (cg_graph *)gc; /* sections() takes field addresses; nothing is written */
    section s[32];
    size_t k = sections(g, g->up_first != NULL, s);
    file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = CG_GRAPH_VERSION;
    h.profile = (uint32_t)g->profile;
    h.n = g->n;
    h.m = g->m;
    h.has_ch = g->up_first != NULL;
    h.ch_up_m = g->ch_up_m;
    h.ch_dn_m = g->ch_dn_m;
    h.source_ways = g->source_ways;
    h.source_gen = g->source_gen;
    h.source_digest = g->source_digest;
    h.bbox[0] = g->bbox.min_x;
    h.bbox[1] = g->bbox.min_y;
    h.bbox[2] = g->bbox.max_x;
    h.bbox[3] = g->bbox.max_y;
    static const char zeros[8];
    uint64_t sum = FNV_OFFSET;
    for (size_t i = 0; i < k; i++) {
        /* Pad through the checksum the same way the reader sees it: whole words. */
        size_t full = s[i].bytes & ~(size_t)7, rest = s[i].bytes - full;
        sum = fnv_words(sum, *s[i].field, full);
        if (rest) {
            unsigned char last[8] = {0};
            memcpy(last, (const char *)*s[i].field + full, rest);
            sum = fnv_words(sum, last, 8);
        }
        h.payload += pad8(s[i].bytes);
    }
    h.checksum = sum;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return cg_err_set(err, CG_ELIMIT, "graph", "path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cg_err_set(err, CG_EIO, "graph", "cannot write %s: %s", tmp, strerror(errno));
    int ok = fwrite(&h, sizeof h, 1, f) == 1;
    for (size_t i = 0; i < k && ok; i++) {
        size_t pad = pad8(s[i].bytes) - s[i].bytes;
        ok = (s[i].bytes == 0 || fwrite(*s[i].field, s[i].bytes, 1, f) == 1) &&
             (pad == 0 || fwrite(zeros, pad, 1, f) == 1);
    }
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cg_err_set(err, CG_EIO, "graph", "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

void cg_graph_unmap(void *map, size_t len)
{
    munmap(map, len);
}

/*
 * Is a graph built from a store still what its roads give? When no road was written since the
 * build (the same ways generation) and the count agrees, yes at once; otherwise (a road added,
 * removed, edited or rewritten, or a store the counter cannot vouch for) the roads are read and
 * their digest compared: a rewrite that changed nothing routing reads (a renamed road, the same
 * extract imported again) keeps the graph, any other edit makes it stale.
 */
static int check_fresh(cg_store *st, const file_header *h, const char *path, cg_profile p,
                       cg_err *err)
{
    cg_store_counts c;
    if (cg_store_counts_get(st, &c, err))
        return -1;
    int64_t gen = cg_store_ways_generation(st);
    if (gen >= 0 && gen == h->source_gen && c.ways == h->source_ways)
        return 0;
    uint64_t digest;
    int64_t ways;
    if (cg_graph_store_digest(st, &digest, &ways, err) != 0)
        return -1;
    if (ways != h->source_ways)
        return cg_err_set(err, CG_ECONFLICT, "graph",
                          "%s is stale: built from %lld roads, the database now holds %lld; run "
                          "`civgrid net build --profile %s`",
                          path, (long long)h->source_ways, (long long)ways, cg_profile_name(p));
    if (digest != h->source_digest)
        return cg_err_set(err, CG_ECONFLICT, "graph",
                          "%s is stale: roads were edited since it was built; run `civgrid net "
                          "build --profile %s`",
                          path, cg_profile_name(p));
    return 0;
}

int cg_graph_load(const char *path, cg_profile p, cg_store *st, cg_graph **out, cg_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cg_err_set(err, errno == ENOENT ? CG_ENOTFOUND : CG_EIO, "graph",
                          "cannot open %s: %s (run `civgrid net build --profile %s`)", path,
                          strerror(errno), cg_profile_name(p));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return cg_err_set(err, CG_EIO, "graph", "cannot read %s: %s", path, strerror(errno));
    }
    size_t len = (size_t)sb.st_size;
    if (len < sizeof(file_header)) {
        close(fd);
        return cg_err_set(err, CG_EINVAL, "graph", "%s is not a civgrid graph file (too short)",
                          path);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return cg_err_set(err, CG_EIO, "graph", "cannot map %s: %s", path, strerror(errno));
    file_header h;
    memcpy(&h, map, sizeof h);
    cg_graph *g = NULL;
    if (memcmp(h.magic, MAGIC, 8) != 0) {
        cg_err_set(err, CG_EINVAL, "graph", "%s is not a civgrid graph file", path);
        goto fail;
    }
    if (h.version != CG_GRAPH_VERSION) {
        cg_err_set(err, CG_EUNSUPPORTED, "graph",
                   "%s is a version %u graph file; this civgrid reads version %d: run `civgrid "
                   "net build` again",
                   path, h.version, CG_GRAPH_VERSION);
        goto fail;
    }
    if (h.profile != (uint32_t)p) {
        cg_err_set(err, CG_EINVAL, "graph", "%s holds the %s profile, not %s", path,
                   cg_profile_name((cg_profile)h.profile), cg_profile_name(p));
        goto fail;
    }
    if (h.payload != len - sizeof h) {
        cg_err_set(err, CG_EINVAL, "graph",
                   "%s is truncated or damaged (%zu bytes, the header says %llu): run `civgrid "
                   "net build` again",
                   path, len, (unsigned long long)(h.payload + sizeof h));
        goto fail;
    }
    g = cg_graph_alloc();
    if (!g) {
        cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    g->profile = p;
    g->n = h.n;
    g->m = h.m;
    g->ch_up_m = h.ch_up_m;
    g->ch_dn_m = h.ch_dn_m;
    g->source_ways = h.source_ways;
    g->source_gen = h.source_gen;
    g->source_digest = h.source_digest;
    g->bbox = (cg_bbox){h.bbox[0], h.bbox[1], h.bbox[2], h.bbox[3]};
    section s[32];
    size_t k = sections(g, h.has_ch != 0, s);
    size_t off = sizeof h;
    for (size_t i = 0; i < k; i++) {
        if (off + pad8(s[i].bytes) > len) {
            cg_err_set(err, CG_EINVAL, "graph", "%s is damaged (sections overrun the file)", path);
            goto fail;
        }
        *s[i].field = (const char *)map + off;
        off += pad8(s[i].bytes);
    }
    if (off != len ||
        fnv_words(FNV_OFFSET, (const char *)map + sizeof h, len - sizeof h) != h.checksum) {
        cg_err_set(err, CG_EINVAL, "graph",
                   "%s is damaged (checksum mismatch): run `civgrid net build` again", path);
        goto fail;
    }
    if (g->first_out[g->n] != g->m || g->in_first[g->n] != g->m) {
        cg_err_set(err, CG_EINVAL, "graph", "%s is inconsistent", path);
        goto fail;
    }
    if (st && h.source_ways >= 0 && check_fresh(st, &h, path, p, err) != 0)
        goto fail;
    g->map = map;
    g->map_len = len;
    *out = g;
    return 0;
fail:
    cg_graph_free(g);
    munmap(map, len);
    return -1;
}
