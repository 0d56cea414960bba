/*
 * The topology check of a grid hierarchy: see topology.h.
 *
 * The work is done family by family (a parent and its direct children), so the cost grows with
 * the number of items, not with its square: a city of ~4,000 grids under ~400 communities is a
 * few thousand small families. Within a family:
 *   - outside parent: a prepared parent answers "covers child?" quickly; only children it does
 *     not cover pay for a difference (child - parent).
 *   - overlaps: an STRtree over the siblings' envelopes yields candidate pairs (i < j, so each
 *     pair is reported once); a prepared sibling filters pairs that do not even touch, and the
 *     intersection of the rest is measured. Neighbours that share an edge intersect in a line,
 *     which has no polygonal part and so gives no finding.
 *   - gaps: parent - union(children) (GEOSUnaryUnion_r, a cascaded union), split into parts,
 *     each part above the threshold a finding.
 * An invalid polygon (GEOSisValidDetail_r) is reported once and then kept out of every other
 * check of its family: overlay operations on invalid input are meaningless or throw. A parent
 * with an invalid child gets no gap check, because the union of the remaining children would
 * report the invalid child's whole area as a gap.
 *
 * Areas: GEOS computes in the plane of the coordinates, i.e. in square degrees, which is not an
 * area. Every result polygon is therefore converted back to a cg_mpoly and measured with
 * cg_mpoly_area_m2 (on the sphere), both for the reported area and for the min_area threshold.
 */
#include "geo/topology.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geos.h"

const char *cg_finding_kind_name(cg_finding_kind k)
{
    switch (k) {
    case CG_FINDING_INVALID:
        return "invalid";
    case CG_FINDING_OUTSIDE_PARENT:
        return "outside_parent";
    case CG_FINDING_OVERLAP:
        return "overlap";
    case CG_FINDING_GAP:
        return "gap";
    }
    return "unknown";
}

/* GEOS's validity messages (TopologyValidationError) and the stable codes reports give them. */
static const struct {
    const char *geos, *code;
} invalid_codes[] = {
    {"Self-intersection", "invalid_self_intersection"},
    {"Ring Self-intersection", "invalid_ring_self_intersection"},
    {"Hole lies outside shell", "invalid_hole_outside_shell"},
    {"Holes are nested", "invalid_nested_holes"},
    {"Interior is disconnected", "invalid_disconnected_interior"},
    {"Nested shells", "invalid_nested_shells"},
    {"Duplicate Rings", "invalid_duplicate_rings"},
    {"Too few distinct points in geometry component", "invalid_too_few_points"},
    {"Too few points in geometry component", "invalid_too_few_points"},
    {"Invalid Coordinate", "invalid_coordinate"},
    {"Ring is not closed", "invalid_ring_not_closed"},
    {"Repeated Point", "invalid_repeated_point"},
};

const char *cg_finding_reason_code(const cg_finding *f)
{
    if (f->kind != CG_FINDING_INVALID)
        return cg_finding_kind_name(f->kind);
    for (size_t i = 0; i < sizeof invalid_codes / sizeof invalid_codes[0]; i++)
        if (strcmp(f->reason, invalid_codes[i].geos) == 0)
            return invalid_codes[i].code;
    return "invalid";
}

void cg_findings_free(cg_finding *f, size_t n)
{
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        cg_mpoly_free(&f[i].geom);
    free(f);
}

typedef struct {
    cg_geos g;
    const cg_topo_item *items;
    size_t n;
    double min_area;
    const cg_topology_opts *opts;
    GEOSGeometry **geom; /* NULL for an item that is invalid or could not be converted */
    cg_finding *found;
    size_t n_found, cap_found;
    size_t done, total;
    int last_percent;
} checker;

static const char *item_code(const checker *c, size_t i)
{
    return c->items[i].code ? c->items[i].code : "(no code)";
}

static void report_progress(checker *c)
{
    if (!c->opts || !c->opts->progress || c->total == 0)
        return;
    int percent = (int)(c->done * 100 / c->total);
    if (percent != c->last_percent) {
        c->last_percent = percent;
        c->opts->progress(c->opts->progress_ctx, c->done, c->total);
    }
}

/* Appends a finding; on success the finding takes ownership of *geom (which is reset). */
static int add_finding(checker *c, cg_finding_kind kind, size_t item, long other, double area,
                       cg_point at, cg_mpoly *geom, const char *reason, cg_err *err)
{
    if (c->n_found == c->cap_found) {
        size_t cap = c->cap_found ? c->cap_found * 2 : 16;
        cg_finding *f = realloc(c->found, sizeof(*f) * cap);
        if (!f)
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        c->found = f;
        c->cap_found = cap;
    }
    cg_finding *f = &c->found[c->n_found++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->item = (long)item;
    f->other = other;
    f->area_m2 = area;
    f->at = at;
    snprintf(f->reason, sizeof f->reason, "%.*s", (int)sizeof f->reason - 1, reason);
    if (geom) {
        f->geom = *geom;
        geom->polys = NULL;
        geom->n_polys = 0;
    }
    return 0;
}

/*
 * The polygonal parts of a GEOS result, each measured on the sphere. Parts at or below the
 * threshold (slivers from floating-point noise along shared edges) are dropped.
 */
typedef struct {
    cg_mpoly geom;
    double area;
    cg_point at;
} measured_part;

typedef struct {
    measured_part *parts;
    size_t n, cap;
} part_list;

static void part_list_free(part_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        cg_mpoly_free(&l->parts[i].geom);
    free(l->parts);
    memset(l, 0, sizeof(*l));
}

static int collect_parts(checker *c, const GEOSGeometry *geom, part_list *out, cg_err *err)
{
    int type = GEOSGeomTypeId_r(c->g.handle, geom);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(c->g.handle, geom);
        for (int i = 0; i < n; i++)
            if (collect_parts(c, GEOSGetGeometryN_r(c->g.handle, geom, i), out, err))
                return -1;
        return 0;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(c->g.handle, geom))
        return 0;
    measured_part part = {{NULL, 0}, 0, {0, 0}};
    if (cg_geos_to_mpoly(&c->g, geom, &part.geom, err)) {
        cg_mpoly_free(&part.geom);
        return -1;
    }
    part.area = cg_mpoly_area_m2(&part.geom);
    if (part.area <= c->min_area) {
        cg_mpoly_free(&part.geom);
        return 0;
    }
    GEOSGeometry *pt = GEOSPointOnSurface_r(c->g.handle, geom);
    if (!pt || !GEOSGeomGetX_r(c->g.handle, pt, &part.at.x) ||
        !GEOSGeomGetY_r(c->g.handle, pt, &part.at.y)) {
        if (pt)
            GEOSGeom_destroy_r(c->g.handle, pt);
        cg_mpoly_free(&part.geom);
        return cg_geos_fail(&c->g, err, "find a point on a polygon");
    }
    GEOSGeom_destroy_r(c->g.handle, pt);
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 4;
        measured_part *p = realloc(out->parts, sizeof(*p) * cap);
        if (!p) {
            cg_mpoly_free(&part.geom);
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        }
        out->parts = p;
        out->cap = cap;
    }
    out->parts[out->n++] = part;
    return 0;
}

/* Merges the parts into one finding (outside_parent, overlap): the areas add up and the point is
 * taken on the largest part. Nothing is reported when no part is above the threshold. */
static int add_merged_finding(checker *c, cg_finding_kind kind, size_t item, size_t other,
                              part_list *parts, cg_err *err)
{
    if (parts->n == 0)
        return 0;
    cg_mpoly merged = {NULL, 0};
    double area = 0;
    size_t largest = 0;
    for (size_t i = 0; i < parts->n; i++) {
        measured_part *p = &parts->parts[i];
        area += p->area;
        if (p->area > parts->parts[largest].area)
            largest = i;
        cg_polygon *polys =
            realloc(merged.polys, sizeof(cg_polygon) * (merged.n_polys + p->geom.n_polys));
        if (!polys) {
            cg_mpoly_free(&merged);
            return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
        }
        merged.polys = polys;
        memcpy(merged.polys + merged.n_polys, p->geom.polys, sizeof(cg_polygon) * p->geom.n_polys);
        merged.n_polys += p->geom.n_polys;
        free(p->geom.polys); /* the rings now belong to merged */
        p->geom.polys = NULL;
        p->geom.n_polys = 0;
    }
    char reason[256];
    if (kind == CG_FINDING_OVERLAP)
        snprintf(reason, sizeof reason, "overlaps %s by %.1f m2", item_code(c, other), area);
    else
        snprintf(reason, sizeof reason, "extends %.1f m2 outside its parent %s", area,
                 item_code(c, other));
    int rc = add_finding(c, kind, item, (long)other, area, parts->parts[largest].at, &merged,
                         reason, err);
    cg_mpoly_free(&merged);
    return rc;
}

static int check_validity(checker *c, size_t i, cg_err *err)
{
    const cg_mpoly *m = c->items[i].geom;
    cg_point at = {0, 0};
    if (m && m->n_polys > 0 && m->polys[0].n_rings > 0 && m->polys[0].rings[0].n > 0)
        at = m->polys[0].rings[0].pts[0];
    if (!m || m->n_polys == 0)
        return add_finding(c, CG_FINDING_INVALID, i, -1, 0, at, NULL, "Empty geometry", err);
    cg_err conv;
    cg_err_clear(&conv);
    GEOSGeometry *g = cg_geos_from_mpoly(&c->g, m, &conv);
    if (!g) {
        if (conv.code != CG_EINVAL) {
            *err = conv;
            return -1;
        }
        return add_finding(c, CG_FINDING_INVALID, i, -1, 0, at, NULL, conv.message, err);
    }
    char *reason = NULL;
    GEOSGeometry *location = NULL;
    char valid = GEOSisValidDetail_r(c->g.handle, g, 0, &reason, &location);
    if (valid == 1) {
        c->geom[i] = g;
        return 0;
    }
    GEOSGeom_destroy_r(c->g.handle, g);
    if (valid != 0)
        return cg_geos_fail(&c->g, err, "check a polygon's validity");
    if (location) {
        GEOSGeomGetX_r(c->g.handle, location, &at.x);
        GEOSGeomGetY_r(c->g.handle, location, &at.y);
        GEOSGeom_destroy_r(c->g.handle, location);
    }
    int rc =
        add_finding(c, CG_FINDING_INVALID, i, -1, 0, at, NULL, reason ? reason : "Invalid", err);
    GEOSFree_r(c->g.handle, reason);
    return rc;
}

/* Reports the polygonal parts of an overlay result as one finding; consumes the result. */
static int report_overlay(checker *c, GEOSGeometry *result, cg_finding_kind kind, size_t item,
                          size_t other, cg_err *err)
{
    part_list parts = {NULL, 0, 0};
    int rc = collect_parts(c, result, &parts, err);
    if (rc == 0)
        rc = add_merged_finding(c, kind, item, other, &parts, err);
    part_list_free(&parts);
    GEOSGeom_destroy_r(c->g.handle, result);
    return rc;
}

static int check_outside(checker *c, size_t parent, const GEOSPreparedGeometry *prep, size_t child,
                         cg_err *err)
{
    GEOSContextHandle_t h = c->g.handle;
    char covers = GEOSPreparedCovers_r(h, prep, c->geom[child]);
    if (covers == 2)
        return cg_geos_fail(&c->g, err, "test whether a parent covers its child");
    if (covers == 1)
        return 0;
    GEOSGeometry *diff = GEOSDifference_r(h, c->geom[child], c->geom[parent]);
    if (!diff)
        return cg_geos_fail(&c->g, err, "subtract a parent from its child");
    return report_overlay(c, diff, CG_FINDING_OUTSIDE_PARENT, child, parent, err);
}

typedef struct {
    size_t *found;
    size_t n, cap;
    int failed;
} candidates;

static void on_candidate(void *item, void *userdata)
{
    candidates *cand = userdata;
    if (cand->n == cand->cap) {
        size_t cap = cand->cap ? cand->cap * 2 : 16;
        size_t *f = realloc(cand->found, sizeof(*f) * cap);
        if (!f) {
            cand->failed = 1;
            return;
        }
        cand->found = f;
        cand->cap = cap;
    }
    cand->found[cand->n++] = *(const size_t *)item;
}

static int check_overlap_pair(checker *c, const GEOSPreparedGeometry *prep_a, size_t a, size_t b,
                              cg_err *err)
{
    GEOSContextHandle_t h = c->g.handle;
    char touches_at_all = GEOSPreparedIntersects_r(h, prep_a, c->geom[b]);
    if (touches_at_all == 2)
        return cg_geos_fail(&c->g, err, "test whether two siblings intersect");
    if (!touches_at_all)
        return 0;
    GEOSGeometry *inter = GEOSIntersection_r(h, c->geom[a], c->geom[b]);
    if (!inter)
        return cg_geos_fail(&c->g, err, "intersect two siblings");
    return report_overlay(c, inter, CG_FINDING_OVERLAP, a, b, err);
}

static int check_overlaps(checker *c, const size_t *kids, size_t n_kids, cg_err *err)
{
    if (n_kids < 2)
        return 0;
    GEOSContextHandle_t h = c->g.handle;
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    if (!tree)
        return cg_geos_fail(&c->g, err, "create an STRtree");
    /* The tree stores pointers to the entries of kids (which outlive it), not copies. */
    for (size_t k = 0; k < n_kids; k++)
        GEOSSTRtree_insert_r(h, tree, c->geom[kids[k]], (void *)&kids[k]);
    candidates cand = {NULL, 0, 0, 0};
    int rc = 0;
    for (size_t k = 0; k < n_kids && rc == 0; k++) {
        size_t a = kids[k];
        cand.n = 0;
        GEOSSTRtree_query_r(h, tree, c->geom[a], on_candidate, &cand);
        if (cand.failed) {
            rc = cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
            break;
        }
        const GEOSPreparedGeometry *prep = NULL;
        for (size_t j = 0; j < cand.n && rc == 0; j++) {
            size_t b = cand.found[j];
            if (b <= a)
                continue; /* each pair once, and never an item with itself */
            if (!prep && !(prep = GEOSPrepare_r(h, c->geom[a]))) {
                rc = cg_geos_fail(&c->g, err, "prepare a polygon");
                break;
            }
            rc = check_overlap_pair(c, prep, a, b, err);
        }
        if (prep)
            GEOSPreparedGeom_destroy_r(h, prep);
    }
    free(cand.found);
    GEOSSTRtree_destroy_r(h, tree);
    return rc;
}

static int check_gaps(checker *c, size_t parent, const size_t *kids, size_t n_kids, cg_err *err)
{
    GEOSContextHandle_t h = c->g.handle;
    GEOSGeometry **clones = malloc(sizeof(*clones) * n_kids);
    if (!clones)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    for (size_t k = 0; k < n_kids; k++) {
        clones[k] = GEOSGeom_clone_r(h, c->geom[kids[k]]);
        if (!clones[k]) {
            for (size_t j = 0; j < k; j++)
                GEOSGeom_destroy_r(h, clones[j]);
            free(clones);
            return cg_geos_fail(&c->g, err, "copy a polygon");
        }
    }
    GEOSGeometry *all =
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)n_kids);
    free(clones);
    if (!all)
        return cg_geos_fail(&c->g, err, "collect the children");
    GEOSGeometry *covered = GEOSUnaryUnion_r(h, all);
    GEOSGeom_destroy_r(h, all);
    if (!covered)
        return cg_geos_fail(&c->g, err, "unite the children");
    GEOSGeometry *gap = GEOSDifference_r(h, c->geom[parent], covered);
    GEOSGeom_destroy_r(h, covered);
    if (!gap)
        return cg_geos_fail(&c->g, err, "subtract the children from their parent");
    part_list parts = {NULL, 0, 0};
    int rc = collect_parts(c, gap, &parts, err);
    GEOSGeom_destroy_r(h, gap);
    for (size_t i = 0; i < parts.n && rc == 0; i++) {
        char reason[256];
        snprintf(reason, sizeof reason, "%.1f m2 of %s are covered by none of its children",
                 parts.parts[i].area, item_code(c, parent));
        rc = add_finding(c, CG_FINDING_GAP, parent, -1, parts.parts[i].area, parts.parts[i].at,
                         &parts.parts[i].geom, reason, err);
    }
    part_list_free(&parts);
    return rc;
}

/* One family: the parent and its direct children, kids[] all of them (valid or not). */
static int check_family(checker *c, size_t parent, size_t *kids, size_t n_all, cg_err *err)
{
    /* Invalid children take part in nothing; keep the valid ones at the front. */
    size_t n_valid = 0;
    for (size_t k = 0; k < n_all; k++)
        if (c->geom[kids[k]])
            kids[n_valid++] = kids[k];
    if (c->geom[parent] && n_valid > 0) {
        const GEOSPreparedGeometry *prep = GEOSPrepare_r(c->g.handle, c->geom[parent]);
        if (!prep)
            return cg_geos_fail(&c->g, err, "prepare a polygon");
        int rc = 0;
        for (size_t k = 0; k < n_valid && rc == 0; k++)
            rc = check_outside(c, parent, prep, kids[k], err);
        GEOSPreparedGeom_destroy_r(c->g.handle, prep);
        if (rc)
            return -1;
    }
    if (check_overlaps(c, kids, n_valid, err))
        return -1;
    if (c->geom[parent] && n_valid > 0 && n_valid == n_all)
        return check_gaps(c, parent, kids, n_valid, err);
    return 0;
}

static int check_all(checker *c, cg_err *err)
{
    for (size_t i = 0; i < c->n; i++) {
        long p = c->items[i].parent;
        if (p < -1 || p >= (long)c->n || p == (long)i)
            return cg_err_set(err, CG_EINVAL, "parent", "item %zu (%s) has parent index %ld", i,
                              item_code(c, i), p);
    }
    for (size_t i = 0; i < c->n; i++) {
        if (check_validity(c, i, err)) {
            cg_err_prefix(err, "%s", item_code(c, i));
            return -1;
        }
        c->done++;
        report_progress(c);
    }
    /* Children grouped by parent (a counting sort), so each family is one contiguous slice. */
    size_t *start = calloc(c->n + 1, sizeof(size_t));
    size_t *kids = malloc(sizeof(size_t) * (c->n ? c->n : 1));
    if (!start || !kids) {
        free(start);
        free(kids);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].parent >= 0)
            start[c->items[i].parent + 1]++;
    for (size_t i = 0; i < c->n; i++)
        start[i + 1] += start[i];
    size_t *fill = malloc(sizeof(size_t) * (c->n ? c->n : 1));
    if (!fill) {
        free(start);
        free(kids);
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    }
    memcpy(fill, start, sizeof(size_t) * c->n);
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].parent >= 0)
            kids[fill[c->items[i].parent]++] = i;
    free(fill);
    int rc = 0;
    for (size_t p = 0; p < c->n && rc == 0; p++) {
        size_t n_kids = start[p + 1] - start[p];
        if (n_kids > 0 && (rc = check_family(c, p, kids + start[p], n_kids, err)) != 0)
            cg_err_prefix(err, "%s", item_code(c, p));
        c->done++;
        report_progress(c);
    }
    free(start);
    free(kids);
    return rc;
}

int cg_topology_check(const cg_topo_item *items, size_t n, const cg_topology_opts *opts,
                      cg_finding **out, size_t *n_out, cg_err *err)
{
    *out = NULL;
    *n_out = 0;
    checker c;
    memset(&c, 0, sizeof(c));
    c.items = items;
    c.n = n;
    c.opts = opts;
    c.min_area = opts && opts->min_area_m2 > 0 ? opts->min_area_m2 : 1.0;
    c.total = 2 * n;
    c.last_percent = -1;
    if (cg_geos_init(&c.g, err))
        return -1;
    c.geom = calloc(n ? n : 1, sizeof(*c.geom));
    int rc = c.geom ? check_all(&c, err) : cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    if (c.geom)
        for (size_t i = 0; i < n; i++)
            if (c.geom[i])
                GEOSGeom_destroy_r(c.g.handle, c.geom[i]);
    free(c.geom);
    cg_geos_finish(&c.g);
    if (rc) {
        cg_findings_free(c.found, c.n_found);
        return -1;
    }
    assert(c.done == c.total);
    *out = c.found;
    *n_out = c.n_found;
    return 0;
}
