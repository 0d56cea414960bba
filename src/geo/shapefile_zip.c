/*
 * A zipped Shapefile read from memory (see shapefile.h): the archive's entries are looked at by
 * name only, the parts of the one .shp are extracted (core/zip.h, bounded) and handed to the
 * in-memory Shapefile reader, so an upload never touches the disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/zip.h"
#include "geo/shapefile.h"

enum { PART_SHP, PART_SHX, PART_DBF, PART_PRJ, PART_CPG, N_PARTS };
static const char *const part_ext[N_PARTS] = {".shp", ".shx", ".dbf", ".prj", ".cpg"};

typedef struct {
    size_t n_shp;
    char stem[256]; /* the .shp's path without its extension */
    int pass;       /* 0: find the .shp; 1: take the parts of its stem */
} zip_scan;

static int ignored(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(name, "__MACOSX/", 9) == 0 || base[0] == '.' || base[0] == '\0';
}

static int part_of(const char *name, size_t *stem_len)
{
    size_t n = strlen(name);
    for (int k = 0; k < N_PARTS; k++)
        if (n > 4 && strcasecmp(name + n - 4, part_ext[k]) == 0) {
            *stem_len = n - 4;
            return k;
        }
    return -1;
}

static int want(void *ctx, const char *name)
{
    zip_scan *z = ctx;
    size_t stem_len;
    if (ignored(name))
        return 0;
    int k = part_of(name, &stem_len);
    if (z->pass == 0) {
        if (k == PART_SHP) {
            if (z->n_shp++ == 0)
                snprintf(z->stem, sizeof z->stem, "%.*s", (int)stem_len, name);
        }
        return 0; /* the first pass extracts nothing */
    }
    return k >= 0 && stem_len == strlen(z->stem) && strncmp(name, z->stem, stem_len) == 0;
}

int cg_shapefile_read_zip(const void *zip, size_t len, const cg_shapefile_read_opts *opts,
                          size_t max_unzipped, cg_feature **out, size_t *n_out, cg_err *err)
{
    *out = NULL;
    *n_out = 0;
    zip_scan scan = {0};
    cg_zip_limits limits = {1024, max_unzipped, max_unzipped};
    cg_zip_entry *entries = NULL;
    size_t n = 0;
    if (cg_zip_extract(zip, len, &limits, want, &scan, &entries, &n, err) != 0)
        return -1;
    cg_zip_entries_free(entries, n);
    if (scan.n_shp != 1)
        return cg_err_set(err, CG_EINVAL, "zip",
                          scan.n_shp ? "the archive holds %zu .shp files: zip one Shapefile"
                                     : "the archive holds no .shp file",
                          scan.n_shp);
    scan.pass = 1;
    if (cg_zip_extract(zip, len, &limits, want, &scan, &entries, &n, err) != 0)
        return -1;
    cg_shapefile_mem mem = {0};
    char name[300];
    snprintf(name, sizeof name, "%s.shp", scan.stem);
    mem.name = name;
    for (size_t i = 0; i < n; i++) {
        size_t stem_len;
        switch (part_of(entries[i].name, &stem_len)) {
        case PART_SHP:
            mem.shp = entries[i].data;
            mem.shp_len = entries[i].len;
            break;
        case PART_SHX:
            mem.shx = entries[i].data;
            mem.shx_len = entries[i].len;
            break;
        case PART_DBF:
            mem.dbf = entries[i].data;
            mem.dbf_len = entries[i].len;
            break;
        case PART_PRJ:
            mem.prj = entries[i].data; /* NUL-terminated by the zip reader */
            break;
        case PART_CPG:
            mem.cpg = entries[i].data;
            break;
        }
    }
    int rc = cg_shapefile_read_mem(&mem, opts, out, n_out, err);
    cg_zip_entries_free(entries, n);
    return rc;
}
