/*
 * libFuzzer target for the bounded ZIP reader (core/zip.h) and the zipped-Shapefile path of
 * grid imports through the API (cg_shapefile_read_zip: the archive is searched for its one .shp,
 * its parts are extracted within 8 MiB and read by the in-memory Shapefile reader). The input is
 * the archive itself. Seeds: tests/fuzz/corpus/zip/ (the tests/data Shapefiles zipped stored and
 * deflated, in a folder, with macOS leftovers, two .shp, a truncated and a bomb-like archive).
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/zip.h"
#include "geo/shapefile.h"

static int want_all(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_err err;
    cg_zip_limits limits = {64, 1 << 20, 4 << 20};
    cg_zip_entry *entries;
    size_t n;
    if (cg_zip_extract(data, size, &limits, want_all, NULL, &entries, &n, &err) == 0)
        cg_zip_entries_free(entries, n);
    cg_feature *fs;
    if (cg_shapefile_read_zip(data, size, NULL, 8 << 20, &fs, &n, &err) == 0)
        cg_features_free(fs, n);
    return 0;
}
