/*
 * ESRI Shapefile in (shapelib): .shp geometry, .dbf attributes, .prj coordinate system (through
 * PROJ, reprojected to WGS84 when it is not already geographic WGS84) and .cpg code page.
 * Attribute text in UTF-8 or GBK/GB18030 is converted to UTF-8 (iconv). Polygon shapes are
 * assembled into polygons with holes by ring orientation (outer rings clockwise, as the format
 * specifies).
 */
#ifndef CG_GEO_SHAPEFILE_H
#define CG_GEO_SHAPEFILE_H

#include "core/err.h"
#include "geo/crs.h"
#include "geo/feature.h"

typedef struct {
    const char *encoding; /* NULL: from the .cpg, else UTF-8 if valid, else GB18030 */
    cg_crs crs;           /* GCJ-02: for files whose .prj is absent or says WGS84 (GCJ-02 has no
                             code a .prj could name); ignored when the .prj names another system */
    size_t max_features;  /* 0: no limit */
} cg_shapefile_read_opts;

/* path names the .shp (or the base name without extension). A missing .dbf is an error naming it.
 */
int cg_shapefile_read(const char *path, const cg_shapefile_read_opts *opts, cg_feature **out,
                      size_t *n_out, cg_err *err);

/* A shapefile held in memory (an upload, a fuzz input): the parts as byte buffers, NULL when
 * absent; prj and cpg as NUL-terminated text. name is used in messages ("upload" when NULL). */
typedef struct {
    const char *name;
    const void *shp, *shx, *dbf;
    size_t shp_len, shx_len, dbf_len;
    const char *prj, *cpg;
} cg_shapefile_mem;

/* The same reader as cg_shapefile_read, with no file system access. */
int cg_shapefile_read_mem(const cg_shapefile_mem *mem, const cg_shapefile_read_opts *opts,
                          cg_feature **out, size_t *n_out, cg_err *err);

/*
 * A zipped Shapefile (an upload): the archive must hold exactly one .shp (in any folder; macOS
 * "__MACOSX/" copies and hidden files are ignored) and takes the .shx, .dbf, .prj and .cpg of the
 * same name beside it. The archive is read by core/zip.h within max_unzipped bytes in all.
 */
int cg_shapefile_read_zip(const void *zip, size_t len, const cg_shapefile_read_opts *opts,
                          size_t max_unzipped, cg_feature **out, size_t *n_out, cg_err *err);

#endif
