/*
 * libFuzzer target for the Shapefile reader, through cg_shapefile_read_mem (shapelib's SAHooks
 * served from memory: no disk I/O). The input is a sequence of parts, each a 4-byte little-endian
 * length and that many bytes, in the order .shp, .shx, .dbf, .prj, .cpg; a missing or empty part
 * is absent. Seeds: tests/fuzz/corpus/shapefile/ (the tests/data fixtures packed this way, and
 * regression inputs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/shapefile.h"

#define N_PARTS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[N_PARTS] = {0};
    size_t len[N_PARTS] = {0};
    for (int i = 0; i < N_PARTS && size >= 4; i++) {
        size_t n =
            (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
        data += 4;
        size -= 4;
        if (n > size)
            n = size;
        if (n) {
            part[i] = data;
            len[i] = n;
        }
        data += n;
        size -= n;
    }
    /* .prj and .cpg are text: give them their terminating NUL. */
    char *text[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        if (!part[3 + i])
            continue;
        text[i] = malloc(len[3 + i] + 1);
        memcpy(text[i], part[3 + i], len[3 + i]);
        text[i][len[3 + i]] = '\0';
    }
    cg_shapefile_mem mem = {"fuzz", part[0], part[1], part[2], len[0],
                            len[1], len[2],  text[0], text[1]};
    cg_feature *fs;
    size_t n;
    cg_err err;
    if (cg_shapefile_read_mem(&mem, NULL, &fs, &n, &err) == 0)
        cg_features_free(fs, n);
    free(text[0]);
    free(text[1]);
    return 0;
}
