/*
 * libFuzzer target for the OpenStreetMap reader (src/net/osm.c). readosm only reads from a named
 * file whose name ends in .pbf or .osm, so each input is written to one temporary .osm.pbf file
 * (made once per process, rewritten per input) and read with callbacks that build and drop every
 * object, exercising ring assembly as well as parsing. Seeds: tests/fuzz/corpus/osm/ (a real
 * extract, a truncated one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/osm.h"

static char path[64];

static void remove_temp(void)
{
    if (path[0])
        unlink(path);
}

static int on_way(void *ctx, const cg_way *w, cg_err *err)
{
    (void)ctx;
    (void)err;
    return w->n >= 2 ? 0 : -1;
}

static int on_boundary(void *ctx, const cg_boundary *b, cg_err *err)
{
    (void)ctx;
    (void)err;
    return b->geom.n_polys > 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/civgrid-fuzz-osm-XXXXXX.osm.pbf");
        int fd = mkstemps(path, 8);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_temp);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    cg_osm_callbacks cb = {on_way, NULL, NULL, on_boundary, NULL};
    cg_osm_stats stats;
    cg_err err;
    cg_osm_read(path, &cb, NULL, &stats, &err);
    return 0;
}
