/*
 * ESRI Shapefile in: see shapefile.h.
 *
 * shapelib does the byte-level work through its SAHooks file interface. Files on disk use its
 * default hooks; cg_shapefile_read_mem serves the same reads from buffers (uploads, the fuzzer),
 * so both paths share one reader. The hooks carry no user pointer, so a memory source is named
 * by its address ("/cgmem/<hex address>.shp") and the open hook turns the name back into it.
 *
 * Geometry: each part of a polygon shape is a ring; the format says outer rings run clockwise
 * and holes counter-clockwise. Orientation is measured after reprojection (lon/lat, where the
 * sign is unambiguous whatever the source axes were), each hole goes to the smallest outer ring
 * that holds most of its vertices, and a hole inside no outer ring (files written with the wrong
 * winding) becomes an outer ring of its own rather than being dropped. Rings are stored with
 * GeoJSON's winding (outer counter-clockwise) so what civgrid writes later follows RFC 7946.
 *
 * Attributes: text is converted to UTF-8 with iconv from the encoding named by opts, else the
 * .cpg, else UTF-8 if every text value is valid UTF-8, else GB18030 (the superset of GBK and
 * GB2312 that Chinese GIS software writes). A value that does not decode rejects its feature.
 *
 * Coordinates: a .prj is read by PROJ, with its own context per call so concurrent imports do not
 * share state. Geographic WGS84 is taken as is (and GCJ-02 converted when opts->crs asks); any
 * other system is transformed to EPSG:4326 in longitude/latitude order.
 */
#include "geo/shapefile.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <math.h>
#include <proj.h>
#include <shapefil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"

#define SIDECAR_MAX_BYTES (1 << 20) /* .prj and .cpg are a few hundred bytes at most */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* shapelib reports problems through a hook without context; keep the last one per thread so the
 * error we return can quote it. */
static _Thread_local char shapelib_message[256];

static void capture_shapelib_error(const char *message)
{
    snprintf(shapelib_message, sizeof shapelib_message, "%s", message);
}

/* ---- memory files for SAHooks ---- */

typedef struct {
    const unsigned char *data;
    size_t len, pos;
} mem_file;

static SAFile mem_open(const char *name, const char *access)
{
    uintptr_t address;
    int consumed = 0;
    if (strpbrk(access, "wa+") || sscanf(name, "/cgmem/%" SCNxPTR "%n", &address, &consumed) != 1)
        return NULL;
    const cg_shapefile_mem *src = (const cg_shapefile_mem *)address;
    const char *ext = name + consumed;
    const void *data = NULL;
    size_t len = 0;
    if (strcmp(ext, ".shp") == 0)
        data = src->shp, len = src->shp_len;
    else if (strcmp(ext, ".shx") == 0)
        data = src->shx, len = src->shx_len;
    else if (strcmp(ext, ".dbf") == 0)
        data = src->dbf, len = src->dbf_len;
    if (!data)
        return NULL;
    mem_file *f = xcalloc(1, sizeof *f);
    f->data = data;
    f->len = len;
    return (SAFile)f;
}

static SAOffset mem_read(void *p, SAOffset size, SAOffset nmemb, SAFile file)
{
    mem_file *f = (mem_file *)file;
    if (size == 0 || f->pos >= f->len)
        return 0;
    SAOffset items = (f->len - f->pos) / size;
    if (items > nmemb)
        items = nmemb;
    memcpy(p, f->data + f->pos, items * size);
    f->pos += items * size;
    return items;
}

static SAOffset mem_write(void *p, SAOffset size, SAOffset nmemb, SAFile file)
{
    (void)p, (void)size, (void)nmemb, (void)file;
    return 0;
}

static SAOffset mem_seek(SAFile file, SAOffset offset, int whence)
{
    mem_file *f = (mem_file *)file;
    size_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->len;
    f->pos = base + offset;
    return 0;
}

static SAOffset mem_tell(SAFile file)
{
    return ((mem_file *)file)->pos;
}

static int mem_flush(SAFile file)
{
    (void)file;
    return 0;
}

static int mem_close(SAFile file)
{
    free(file);
    return 0;
}

static int mem_remove(const char *name)
{
    (void)name;
    return -1;
}

/* ---- encodings ---- */

/* Maps a code page name as .cpg files and users spell it to an iconv name. Every Chinese name
 * maps to GB18030, which decodes GB2312 and GBK text identically and more besides. */
static void iconv_name(const char *name, char *out, size_t size)
{
    char up[64];
    size_t n = 0;
    while (*name == ' ' || *name == '\t' || *name == '\r' || *name == '\n')
        name++;
    for (; *name && n + 1 < sizeof up; name++)
        up[n++] = (*name >= 'a' && *name <= 'z') ? (char)(*name - 32) : *name;
    while (n && (up[n - 1] == ' ' || up[n - 1] == '\t' || up[n - 1] == '\r' || up[n - 1] == '\n'))
        n--;
    up[n] = '\0';
    static const char *const chinese[] = {"GBK",         "936",      "CP936",   "MS936",
                                          "WINDOWS-936", "GB2312",   "EUC-CN",  "GB18030",
                                          "54936",       "ANSI 936", "CP54936", "GB_2312-80"};
    static const char *const utf8[] = {"UTF-8", "UTF8", "65001", "CP65001"};
    for (size_t i = 0; i < sizeof chinese / sizeof *chinese; i++)
        if (strcmp(up, chinese[i]) == 0) {
            snprintf(out, size, "GB18030");
            return;
        }
    for (size_t i = 0; i < sizeof utf8 / sizeof *utf8; i++)
        if (strcmp(up, utf8[i]) == 0) {
            snprintf(out, size, "UTF-8");
            return;
        }
    if (n && strspn(up, "0123456789") == n)
        snprintf(out, size, "CP%s", up); /* a bare Windows code page number: 1252, 950, ... */
    else
        snprintf(out, size, "%s", up);
}

/* Converts s to a new UTF-8 string with cd; NULL when the bytes are not valid in the encoding. */
static char *to_utf8(iconv_t cd, const char *s, size_t len)
{
    size_t cap = len * 4 + 4, left = cap - 1;
    char *out = xcalloc(cap, 1), *op = out;
    char *ip = (char *)s;
    size_t in_left = len;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &in_left, &op, &left) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &op, &left) == (size_t)-1) {
        free(out);
        return NULL;
    }
    *op = '\0';
    return out;
}

/* ---- attributes ---- */

typedef struct {
    char name[128]; /* UTF-8 */
    DBFFieldType type;
    int decimals;
} field_info;

/* Text of a field without its padding; NULL when the record cannot be read. */
static const char *field_text(DBFHandle dbf, int rec, int field, size_t *len)
{
    const char *s = DBFReadStringAttribute(dbf, rec, field);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    *len = n;
    return s;
}

/* Whether every field name and text value in the .dbf is valid UTF-8. */
static int dbf_is_utf8(DBFHandle dbf, int n_fields, int n_records)
{
    iconv_t cd = iconv_open("UTF-8", "UTF-8");
    if (cd == (iconv_t)-1)
        return 0;
    int ok = 1;
    for (int i = 0; i < n_fields && ok; i++) {
        char name[XBASE_FLDNAME_LEN_READ + 1] = "";
        DBFGetFieldInfo(dbf, i, name, NULL, NULL);
        char *u = to_utf8(cd, name, strlen(name));
        ok = u != NULL;
        free(u);
    }
    for (int r = 0; r < n_records && ok; r++)
        for (int i = 0; i < n_fields && ok; i++) {
            size_t len;
            const char *s = field_text(dbf, r, i, &len);
            if (!s)
                continue;
            char *u = to_utf8(cd, s, len);
            ok = u != NULL;
            free(u);
        }
    iconv_close(cd);
    return ok;
}

static json_t *number_value(const char *s, size_t len, int decimals)
{
    char tmp[320];
    if (len >= sizeof tmp)
        return NULL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *p = tmp;
    while (*p == ' ')
        p++;
    char *end;
    errno = 0;
    if (decimals == 0) {
        long long v = strtoll(p, &end, 10);
        if (end != p && *end == '\0' && errno == 0)
            return json_integer(v);
    }
    errno = 0;
    double d = strtod(p, &end);
    if (end != p && *end == '\0' && errno == 0)
        return json_real(d);
    return NULL;
}

static json_t *text_value(iconv_t cd, const char *s, size_t len)
{
    char *u = to_utf8(cd, s, len);
    json_t *v = u ? json_string(u) : NULL;
    free(u);
    return v;
}

/* Fills props from one record. On a value that cannot be read, writes the reason to error. */
static void read_record(DBFHandle dbf, int rec, const field_info *fields, int n_fields, iconv_t cd,
                        const char *encoding, json_t *props, char *error, size_t error_size)
{
    for (int i = 0; i < n_fields; i++) {
        const field_info *fi = &fields[i];
        if (DBFIsAttributeNULL(dbf, rec, i)) {
            json_object_set_new(props, fi->name, json_null());
            continue;
        }
        size_t len;
        const char *s = field_text(dbf, rec, i, &len);
        if (!s) {
            snprintf(error, error_size, "record %d could not be read from the .dbf", rec);
            return;
        }
        json_t *v = NULL;
        switch (fi->type) {
        case FTInteger:
        case FTDouble:
            v = number_value(s, len, fi->decimals);
            if (!v) {
                snprintf(error, error_size, "field %s: \"%.*s\" is not a number", fi->name,
                         (int)(len > 40 ? 40 : len), s);
                return;
            }
            break;
        case FTLogical:
            if (strchr("TtYy", s[0]))
                v = json_true();
            else if (strchr("FfNn", s[0]))
                v = json_false();
            else
                v = json_null();
            break;
        case FTDate:
            if (len == 8 && strspn(s, "0123456789") == 8) {
                v = json_sprintf("%.4s-%.2s-%.2s", s, s + 4, s + 6);
                break;
            }
            v = text_value(cd, s, len); /* keep a malformed date as the text it is */
            break;
        default:
            v = text_value(cd, s, len);
            break;
        }
        if (!v) {
            snprintf(error, error_size, "field %s: the text is not valid %s", fi->name, encoding);
            return;
        }
        json_object_set_new(props, fi->name, v);
    }
}

/* ---- coordinate systems ---- */

typedef struct {
    PJ_CONTEXT *ctx;
    PJ *op;     /* NULL: the file is geographic WGS84 already */
    cg_crs crs; /* applied when op is NULL */
} reprojection;

static void reprojection_free(reprojection *rp)
{
    proj_destroy(rp->op);
    proj_context_destroy(rp->ctx);
}

static int reprojection_init(reprojection *rp, const char *prj, const char *name, cg_crs crs,
                             cg_err *err)
{
    memset(rp, 0, sizeof *rp);
    rp->crs = crs;
    if (!prj)
        return 0;
    rp->ctx = proj_context_create();
    if (!rp->ctx)
        return cg_err_set(err, CG_ENOMEM, "prj", "could not create a PROJ context");
    proj_log_level(rp->ctx, PJ_LOG_NONE);
    PROJ_STRING_LIST warnings = NULL, errors = NULL;
    PJ *src = proj_create_from_wkt(rp->ctx, prj, NULL, &warnings, &errors);
    PJ *wgs84 = NULL, *op = NULL;
    int rc = -1;
    if (!src) {
        cg_err_set(err, CG_EINVAL, "prj", "%s.prj is not a coordinate system PROJ can read: %s",
                   name, errors && errors[0] ? errors[0] : "not well-known text (WKT)");
        goto done;
    }
    PJ_TYPE type = proj_get_type(src);
    if (type != PJ_TYPE_GEOGRAPHIC_2D_CRS && type != PJ_TYPE_GEOGRAPHIC_3D_CRS &&
        type != PJ_TYPE_PROJECTED_CRS && type != PJ_TYPE_COMPOUND_CRS) {
        cg_err_set(err, CG_EINVAL, "prj",
                   "%s.prj does not describe a geographic or projected coordinate system", name);
        goto done;
    }
    wgs84 = proj_create(rp->ctx, "EPSG:4326");
    if (!wgs84) {
        cg_err_set(err, CG_EINTERNAL, "prj",
                   "PROJ cannot find EPSG:4326 (is its database, proj.db, installed?)");
        goto done;
    }
    if (proj_is_equivalent_to_with_ctx(rp->ctx, src, wgs84,
                                       PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS)) {
        rc = 0;
        goto done;
    }
    op = proj_create_crs_to_crs_from_pj(rp->ctx, src, wgs84, NULL, NULL);
    if (op)
        rp->op = proj_normalize_for_visualization(rp->ctx, op);
    if (!rp->op) {
        cg_err_set(err, CG_EUNSUPPORTED, "prj",
                   "PROJ has no transformation from the coordinate system in %s.prj to WGS84: %s",
                   name, proj_context_errno_string(rp->ctx, proj_context_errno(rp->ctx)));
        goto done;
    }
    rc = 0;
done:
    proj_string_list_destroy(warnings);
    proj_string_list_destroy(errors);
    proj_destroy(op);
    proj_destroy(wgs84);
    proj_destroy(src);
    return rc;
}

/* ---- geometry ---- */

typedef struct {
    cg_ring ring;
    cg_bbox box;
    double area; /* signed, counter-clockwise positive */
} part_ring;

static void reverse_ring(cg_ring *r)
{
    for (size_t i = 0, j = r->n - 1; i < j; i++, j--) {
        cg_point t = r->pts[i];
        r->pts[i] = r->pts[j];
        r->pts[j] = t;
    }
}

static int box_inside(const cg_bbox *inner, const cg_bbox *outer)
{
    return inner->min_x >= outer->min_x && inner->max_x <= outer->max_x &&
           inner->min_y >= outer->min_y && inner->max_y <= outer->max_y;
}

/* Reads part p of shape into r (closed, WGS84). */
static int read_part(const SHPObject *shape, int p, const reprojection *rp, int have_prj,
                     part_ring *r, char *error, size_t error_size)
{
    int start = shape->panPartStart[p];
    int end = p + 1 < shape->nParts ? shape->panPartStart[p + 1] : shape->nVertices;
    if (start < 0 || end > shape->nVertices || end < start) {
        snprintf(error, error_size, "part %d has an invalid vertex range", p);
        return -1;
    }
    size_t n = (size_t)(end - start);
    int closed = n > 0 && shape->padfX[start] == shape->padfX[end - 1] &&
                 shape->padfY[start] == shape->padfY[end - 1];
    size_t total = closed ? n : n + 1;
    if (total < 4) {
        snprintf(error, error_size, "part %d has %zu vertices, a ring needs at least 4", p, n);
        return -1;
    }
    cg_point *pts = xcalloc(total, sizeof *pts);
    for (size_t k = 0; k < n; k++)
        pts[k] = (cg_point){shape->padfX[start + (int)k], shape->padfY[start + (int)k]};
    if (rp->op) {
        proj_trans_generic(rp->op, PJ_FWD, &pts[0].x, sizeof *pts, n, &pts[0].y, sizeof *pts, n,
                           NULL, 0, 0, NULL, 0, 0);
    } else if (rp->crs != CG_CRS_WGS84) {
        for (size_t k = 0; k < n; k++)
            pts[k] = cg_crs_to_wgs84(rp->crs, pts[k]);
    }
    for (size_t k = 0; k < n; k++) {
        const char *hint = have_prj ? "" : " (there is no .prj: are the coordinates projected?)";
        if (!isfinite(pts[k].x) || !isfinite(pts[k].y) || pts[k].x == HUGE_VAL) {
            snprintf(error, error_size, "part %d vertex %zu could not be transformed to WGS84", p,
                     k);
        } else if (pts[k].x < -180 || pts[k].x > 180) {
            snprintf(error, error_size,
                     "part %d vertex %zu: longitude %.15g out of range "
                     "[-180, 180]%s",
                     p, k, pts[k].x, hint);
        } else if (pts[k].y < -90 || pts[k].y > 90) {
            snprintf(error, error_size,
                     "part %d vertex %zu: latitude %.15g out of range "
                     "[-90, 90]%s",
                     p, k, pts[k].y, hint);
        } else {
            continue;
        }
        free(pts);
        return -1;
    }
    if (!closed)
        pts[n] = pts[0];
    r->ring.pts = pts;
    r->ring.n = total;
    r->area = cg_ring_signed_area_m2(&r->ring);
    cg_bbox_empty(&r->box);
    for (size_t k = 0; k < total; k++)
        cg_bbox_extend(&r->box, pts[k]);
    if (r->area == 0) {
        free(pts);
        snprintf(error, error_size, "part %d encloses no area", p);
        return -1;
    }
    return 0;
}

/* Number of hole's vertices inside outer. */
static size_t vertices_inside(const part_ring *hole, const part_ring *outer)
{
    cg_polygon poly = {(cg_ring *)&outer->ring, 1};
    cg_mpoly m = {&poly, 1};
    size_t count = 0;
    for (size_t k = 0; k + 1 < hole->ring.n; k++)
        count += (size_t)cg_mpoly_contains(&m, hole->ring.pts[k]);
    return count;
}

static int build_polygons(const SHPObject *shape, const reprojection *rp, int have_prj, cg_mpoly *m,
                          char *error, size_t error_size)
{
    size_t n = (size_t)shape->nParts;
    part_ring *rings = xcalloc(n, sizeof *rings);
    size_t *owner = xcalloc(n, sizeof *owner); /* outer ring index, or SIZE_MAX for an outer */
    int rc = -1;
    size_t done = 0;
    for (; done < n; done++)
        if (read_part(shape, (int)done, rp, have_prj, &rings[done], error, error_size) != 0)
            goto out;
    for (size_t i = 0; i < n; i++) {
        owner[i] = SIZE_MAX;
        if (rings[i].area < 0)
            continue; /* clockwise: an outer ring */
        size_t best = SIZE_MAX, best_count = 0;
        for (size_t j = 0; j < n; j++) {
            if (rings[j].area > 0 || !box_inside(&rings[i].box, &rings[j].box))
                continue;
            size_t c = vertices_inside(&rings[i], &rings[j]);
            if (c > best_count ||
                (c == best_count && c > 0 && -rings[j].area < -rings[best].area)) {
                best = j;
                best_count = c;
            }
        }
        owner[i] = best;
    }
    size_t n_outer = 0;
    for (size_t i = 0; i < n; i++)
        n_outer += owner[i] == SIZE_MAX;
    m->polys = xcalloc(n_outer, sizeof *m->polys);
    m->n_polys = 0;
    for (size_t i = 0; i < n; i++) {
        if (owner[i] != SIZE_MAX)
            continue;
        size_t n_rings = 1;
        for (size_t j = 0; j < n; j++)
            n_rings += owner[j] == i;
        cg_polygon *poly = &m->polys[m->n_polys++];
        poly->rings = xcalloc(n_rings, sizeof *poly->rings);
        poly->rings[poly->n_rings++] = rings[i].ring;
        if (rings[i].area < 0)
            reverse_ring(&poly->rings[0]);
        rings[i].ring.pts = NULL;
        for (size_t j = 0; j < n; j++) {
            if (owner[j] != i)
                continue;
            poly->rings[poly->n_rings++] = rings[j].ring;
            reverse_ring(&poly->rings[poly->n_rings - 1]);
            rings[j].ring.pts = NULL;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < done; i++)
        free(rings[i].ring.pts);
    free(rings);
    free(owner);
    return rc;
}

/* ---- the reader ---- */

typedef struct {
    SAHooks hooks;
    char layer[1100]; /* what shapelib opens, without extension */
    const char *name; /* for messages */
    const char *prj;  /* text or NULL */
    const char *cpg;  /* text or NULL */
} source;

static int is_polygon_type(int type)
{
    return type == SHPT_POLYGON || type == SHPT_POLYGONZ || type == SHPT_POLYGONM;
}

static int read_source(source *src, const cg_shapefile_read_opts *opts, cg_feature **out,
                       size_t *n_out, cg_err *err)
{
    static const cg_shapefile_read_opts defaults = {NULL, CG_CRS_WGS84, 0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    *n_out = 0;
    src->hooks.Error = capture_shapelib_error;
    shapelib_message[0] = '\0';

    SHPHandle shp = SHPOpenLL(src->layer, "rb", &src->hooks);
    DBFHandle dbf = NULL;
    iconv_t cd = (iconv_t)-1;
    reprojection rp = {0};
    field_info *fields = NULL;
    int rc = -1;
    if (!shp) {
        cg_err_set(err, CG_EINVAL, "shp", "%s.shp could not be read: %s", src->name,
                   shapelib_message[0] ? shapelib_message : "not a shapefile");
        goto done;
    }
    int n_shapes = 0, type = 0;
    SHPGetInfo(shp, &n_shapes, &type, NULL, NULL);
    if (type != SHPT_NULL && !is_polygon_type(type)) {
        cg_err_set(err, CG_EUNSUPPORTED, "shp",
                   "%s.shp holds %s shapes; civgrid reads polygons only", src->name,
                   SHPTypeName(type));
        goto done;
    }
    dbf = DBFOpenLL(src->layer, "rb", &src->hooks);
    if (!dbf) {
        cg_err_set(err, CG_EINVAL, "dbf", "%s.dbf could not be read: %s", src->name,
                   shapelib_message[0] ? shapelib_message : "not a dBASE file");
        goto done;
    }
    int n_records = DBFGetRecordCount(dbf), n_fields = DBFGetFieldCount(dbf);
    if (n_records != n_shapes) {
        cg_err_set(err, CG_EINVAL, "dbf", "%s.shp has %d shapes but %s.dbf has %d records",
                   src->name, n_shapes, src->name, n_records);
        goto done;
    }
    if (opts->max_features && (size_t)n_shapes > opts->max_features) {
        cg_err_set(err, CG_ELIMIT, "shp", "%s.shp has %d features, more than the limit of %zu",
                   src->name, n_shapes, opts->max_features);
        goto done;
    }

    char encoding[80];
    if (opts->encoding)
        iconv_name(opts->encoding, encoding, sizeof encoding);
    else if (src->cpg)
        iconv_name(src->cpg, encoding, sizeof encoding);
    else
        snprintf(encoding, sizeof encoding, "%s",
                 dbf_is_utf8(dbf, n_fields, n_records) ? "UTF-8" : "GB18030");
    cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1) {
        cg_err_set(err, CG_EUNSUPPORTED, "encoding", "the encoding %s (from %s) is not supported",
                   encoding, opts->encoding ? "the options" : "the .cpg file");
        goto done;
    }
    fields = xcalloc((size_t)n_fields, sizeof *fields);
    for (int i = 0; i < n_fields; i++) {
        char raw[XBASE_FLDNAME_LEN_READ + 1] = "";
        int decimals = 0;
        fields[i].type = DBFGetFieldInfo(dbf, i, raw, NULL, &decimals);
        fields[i].decimals = decimals;
        char *u = to_utf8(cd, raw, strlen(raw));
        if (!u) {
            cg_err_set(err, CG_EINVAL, "dbf", "the name of field %d in %s.dbf is not valid %s", i,
                       src->name, encoding);
            goto done;
        }
        snprintf(fields[i].name, sizeof fields[i].name, "%s", u);
        free(u);
    }
    if (reprojection_init(&rp, src->prj, src->name, opts->crs, err) != 0)
        goto done;

    cg_feature *fs = xcalloc((size_t)n_shapes, sizeof *fs);
    for (int i = 0; i < n_shapes; i++) {
        cg_feature *f = &fs[i];
        f->index = (size_t)i;
        f->props = json_object();
        read_record(dbf, i, fields, n_fields, cd, encoding, f->props, f->error, sizeof f->error);
        if (f->error[0])
            continue;
        SHPObject *shape = SHPReadObject(shp, i);
        if (!shape) {
            snprintf(f->error, sizeof f->error, "shape %d could not be read from the .shp: %.200s",
                     i, shapelib_message[0] ? shapelib_message : "damaged record");
            continue;
        }
        if (shape->nSHPType == SHPT_NULL || shape->nParts == 0 || shape->nVertices == 0) {
            /* a null shape: has_geom stays 0 */
        } else if (!is_polygon_type(shape->nSHPType)) {
            snprintf(f->error, sizeof f->error, "shape %d is a %s, not a polygon", i,
                     SHPTypeName(shape->nSHPType));
        } else if (build_polygons(shape, &rp, src->prj != NULL, &f->geom, f->error,
                                  sizeof f->error) == 0) {
            f->has_geom = 1;
        }
        SHPDestroyObject(shape);
    }
    *out = fs;
    *n_out = (size_t)n_shapes;
    rc = 0;
done:
    free(fields);
    reprojection_free(&rp);
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    if (dbf)
        DBFClose(dbf);
    if (shp)
        SHPClose(shp);
    return rc;
}

/* Finds base.ext or base.EXT; returns 1 and the path when one exists. */
static int find_sidecar(const char *base, const char *ext, char *path, size_t size)
{
    struct stat st;
    snprintf(path, size, "%s.%s", base, ext);
    if (stat(path, &st) == 0)
        return 1;
    char upper[8];
    size_t i = 0;
    for (; ext[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(ext[i] - 32);
    upper[i] = '\0';
    snprintf(path, size, "%s.%s", base, upper);
    return stat(path, &st) == 0;
}

static int read_sidecar(const char *base, const char *ext, char **text, cg_err *err)
{
    char path[1200];
    *text = NULL;
    if (!find_sidecar(base, ext, path, sizeof path))
        return 0;
    size_t len;
    if (cg_read_file(path, text, &len, SIDECAR_MAX_BYTES) != 0)
        return cg_err_set(err, CG_EIO, ext, "%s could not be read: %s", path, strerror(errno));
    return 0;
}

int cg_shapefile_read(const char *path, const cg_shapefile_read_opts *opts, cg_feature **out,
                      size_t *n_out, cg_err *err)
{
    *out = NULL;
    *n_out = 0;
    source src;
    memset(&src, 0, sizeof src);
    size_t len = strlen(path);
    if (len >= sizeof src.layer - 8)
        return cg_err_set(err, CG_EINVAL, "path", "the path is too long");
    memcpy(src.layer, path, len + 1);
    if (len > 4 && strcasecmp(src.layer + len - 4, ".shp") == 0)
        src.layer[len - 4] = '\0';
    src.name = src.layer;
    char found[1200];
    if (!find_sidecar(src.layer, "shp", found, sizeof found))
        return cg_err_set(err, CG_ENOTFOUND, "path", "%s.shp does not exist", src.layer);
    if (!find_sidecar(src.layer, "shx", found, sizeof found))
        return cg_err_set(err, CG_ENOTFOUND, "shx",
                          "%s.shx is missing: a shapefile needs its index file next to the .shp",
                          src.layer);
    if (!find_sidecar(src.layer, "dbf", found, sizeof found))
        return cg_err_set(err, CG_ENOTFOUND, "dbf",
                          "%s.dbf is missing: a shapefile needs its .dbf for the attributes",
                          src.layer);
    char *prj = NULL, *cpg = NULL;
    int rc = -1;
    if (read_sidecar(src.layer, "prj", &prj, err) == 0 &&
        read_sidecar(src.layer, "cpg", &cpg, err) == 0) {
        SASetupDefaultHooks(&src.hooks);
        src.prj = prj;
        src.cpg = cpg;
        rc = read_source(&src, opts, out, n_out, err);
    }
    free(prj);
    free(cpg);
    return rc;
}

int cg_shapefile_read_mem(const cg_shapefile_mem *mem, const cg_shapefile_read_opts *opts,
                          cg_feature **out, size_t *n_out, cg_err *err)
{
    *out = NULL;
    *n_out = 0;
    const char *name = mem->name ? mem->name : "upload";
    if (!mem->shp)
        return cg_err_set(err, CG_EINVAL, "shp", "%s.shp is missing", name);
    if (!mem->shx)
        return cg_err_set(err, CG_EINVAL, "shx", "%s.shx is missing", name);
    if (!mem->dbf)
        return cg_err_set(err, CG_EINVAL, "dbf",
                          "%s.dbf is missing: a shapefile needs its .dbf for the attributes", name);
    source src;
    memset(&src, 0, sizeof src);
    snprintf(src.layer, sizeof src.layer, "/cgmem/%" PRIxPTR, (uintptr_t)mem);
    src.name = name;
    src.prj = mem->prj;
    src.cpg = mem->cpg;
    src.hooks.FOpen = mem_open;
    src.hooks.FRead = mem_read;
    src.hooks.FWrite = mem_write;
    src.hooks.FSeek = mem_seek;
    src.hooks.FTell = mem_tell;
    src.hooks.FFlush = mem_flush;
    src.hooks.FClose = mem_close;
    src.hooks.Remove = mem_remove;
    src.hooks.Atof = atof;
    return read_source(&src, opts, out, n_out, err);
}
