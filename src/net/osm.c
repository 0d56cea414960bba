/*
 * OpenStreetMap import with readosm (see osm.h for the contract and the three passes).
 *
 * Memory: the kept ways (roads, buildings, areas that are points of interest, members of
 * boundaries) with their node references, a sorted array of the node ids they need and one
 * coordinate per needed node. Node lookups are binary searches over that array, O(log n) each.
 *
 * Boundary rings are assembled the way osm2pgsql and osmium do in spirit: member ways (outer or
 * inner by role) are joined end to end, reversing a piece when its far end matches, until the ring
 * closes; a chain that cannot close is dropped and counted, never a crash. Inner rings are
 * attached to the outer ring that contains their first point. Joining is quadratic in the member
 * count of one relation, which stays in the thousands even for a country.
 */
#include "net/osm.h"

#include <math.h>
#include <readosm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geom.h"

enum { KEEP_ROAD = 1, KEEP_BUILDING = 2, KEEP_POI = 4, KEEP_MEMBER = 8 };

typedef struct {
    int64_t id;
    int keep;
    size_t ref_off, ref_n; /* node references in reader.refs */
    cg_road_class road_class;
    int oneway, maxspeed_kmh, households, levels;
    char access[16];
    char name_zh[128], name_en[128];
    char building[32];
    char poi_kind[32];
} way_rec;

typedef struct {
    int64_t way_id;
    int inner;
} member_rec;

typedef struct {
    int64_t id;
    int admin_level;
    char name_zh[128], name_en[128], ref[32];
    size_t member_off, member_n;
} relation_rec;

typedef struct {
    const cg_osm_callbacks *cb;
    void *ctx;
    cg_osm_stats stats;
    int oom;
    relation_rec *rels;
    size_t n_rels, cap_rels;
    member_rec *members;
    size_t n_members, cap_members;
    int64_t *member_ways; /* sorted ids of ways that boundaries need */
    size_t n_member_ways;
    way_rec *ways;
    size_t n_ways, cap_ways;
    int64_t *refs;
    size_t n_refs, cap_refs;
    int64_t *node_ids; /* sorted, unique: every node a kept way needs */
    size_t n_node_ids;
    cg_point *coords; /* parallel to node_ids; NAN until the node is read */
    cg_poi *node_pois;
    size_t n_node_pois, cap_node_pois;
    cg_osm_restriction *restr; /* turn restrictions (cg_osm_read_restrictions) */
    size_t n_restr, cap_restr;
} reader;

/* Grows an array by doubling; returns 0, or -1 (and flags the reader) when memory runs out. */
static int grow(reader *r, void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, c * size);
    if (!p) {
        r->oom = 1;
        return -1;
    }
    *arr = p;
    *cap = c;
    return 0;
}

static const char *tag(const readosm_tag *tags, int n, const char *key)
{
    for (int k = 0; k < n; k++)
        if (tags[k].key && strcmp(tags[k].key, key) == 0)
            return tags[k].value ? tags[k].value : "";
    return NULL;
}

static void copy(char *dst, size_t cap, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap) {
        /* cut on a UTF-8 character boundary, never inside a multi-byte sequence */
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Whether a string holds CJK ideographs (UTF-8 lead bytes E3..E9 cover U+3000..U+9FFF). */
static int has_cjk(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0xE3 && (unsigned char)*s <= 0xE9)
            return 1;
    return 0;
}

/* name:zh and name:en when tagged; otherwise `name` goes to whichever script it is written in. */
static void names(const readosm_tag *tags, int n, char *zh, char *en, size_t cap)
{
    const char *name = tag(tags, n, "name"), *nzh = tag(tags, n, "name:zh"),
               *nen = tag(tags, n, "name:en");
    copy(zh, cap, nzh ? nzh : name && has_cjk(name) ? name : NULL);
    copy(en, cap, nen ? nen : name && !has_cjk(name) ? name : NULL);
}

static int is_one_of(const char *v, const char *const *list)
{
    for (; v && *list; list++)
        if (strcmp(v, *list) == 0)
            return 1;
    return 0;
}

/* The civgrid kind of a point of interest (PRODUCT.md's key units and key sites), or NULL. */
static const char *poi_kind(const readosm_tag *tags, int n)
{
    static const char *const schools[] = {"school", "university", "college", NULL};
    static const char *const hospitals[] = {"hospital", "clinic", NULL};
    static const char *const hotels[] = {"hotel", "hostel", "motel", "guest_house", NULL};
    static const char *const markets[] = {"supermarket", "mall", "department_store", NULL};
    static const char *const stations[] = {"station", "halt", NULL};
    static const char *const water[] = {"water_works", "water_tower", "wastewater_plant",
                                        "reservoir_covered", NULL};
    static const char *const power[] = {"substation", "plant", "generator", NULL};
    const char *amenity = tag(tags, n, "amenity");
    if (is_one_of(amenity, schools))
        return "school";
    if (is_one_of(amenity, hospitals))
        return "hospital";
    if (amenity) {
        static const struct {
            const char *value, *kind;
        } map[] = {{"kindergarten", "kindergarten"},
                   {"marketplace", "market"},
                   {"bank", "finance"},
                   {"bureau_de_change", "finance"},
                   {"police", "police"},
                   {"fire_station", "fire_station"},
                   {"fuel", "hazmat"},
                   {"bus_station", "bus_stop"}};
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
            if (strcmp(amenity, map[k].value) == 0)
                return map[k].kind;
    }
    if (is_one_of(tag(tags, n, "tourism"), hotels))
        return "hotel";
    if (is_one_of(tag(tags, n, "shop"), markets))
        return "market";
    const char *railway = tag(tags, n, "railway");
    if (is_one_of(railway, stations))
        return "rail_station";
    if (railway && strcmp(railway, "level_crossing") == 0)
        return "level_crossing";
    const char *highway = tag(tags, n, "highway"), *pt = tag(tags, n, "public_transport");
    if ((highway && strcmp(highway, "bus_stop") == 0) ||
        (pt && strcmp(pt, "platform") == 0 && tag(tags, n, "bus")))
        return "bus_stop";
    if (is_one_of(tag(tags, n, "power"), power))
        return "power";
    const char *man_made = tag(tags, n, "man_made"), *office = tag(tags, n, "office");
    if (is_one_of(man_made, water))
        return "water";
    if (man_made && strcmp(man_made, "gasometer") == 0)
        return "gas";
    if ((man_made && (strcmp(man_made, "telecom") == 0 || strcmp(man_made, "mast") == 0)) ||
        (office && strcmp(office, "telecommunication") == 0))
        return "telecom";
    const char *place = tag(tags, n, "place");
    if (place && strcmp(place, "square") == 0)
        return "square";
    return NULL;
}

static int parse_int(const char *s, int fallback)
{
    if (!s)
        return fallback;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || v > 1000000)
        return fallback;
    return (int)v;
}

/* maxspeed in km/h: "50", "30 mph"; 0 for "none", "signals" or anything unreadable. */
static int parse_maxspeed(const char *s)
{
    if (!s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0 && v < 1000))
        return 0;
    if (strstr(end, "mph"))
        v *= 1.609344;
    return (int)lround(v);
}

static int parse_oneway(const readosm_tag *tags, int n, const char *highway)
{
    const char *v = tag(tags, n, "oneway");
    if (v) {
        if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
            return 1;
        if (strcmp(v, "-1") == 0 || strcmp(v, "reverse") == 0)
            return -1;
        if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
            return 0;
    }
    const char *junction = tag(tags, n, "junction");
    if (junction && (strcmp(junction, "roundabout") == 0 || strcmp(junction, "circular") == 0))
        return 1;
    if (strcmp(highway, "motorway") == 0 || strcmp(highway, "motorway_link") == 0)
        return 1;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t sort_unique(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(int64_t), cmp_i64);
    size_t m = 1;
    for (size_t k = 1; k < n; k++)
        if (v[k] != v[m - 1])
            v[m++] = v[k];
    return m;
}

static const int64_t *find_i64(const int64_t *v, size_t n, int64_t id)
{
    return v ? bsearch(&id, v, n, sizeof(int64_t), cmp_i64) : NULL;
}

/* ---- pass 1: boundary relations ---- */

/* Keeps a simple turn restriction (from way, via node, to way) for the routing graph. */
static int keep_restriction(reader *r, const readosm_relation *rel)
{
    const char *type = tag(rel->tags, rel->tag_count, "type");
    if (!type || strcmp(type, "restriction") != 0)
        return READOSM_OK;
    const char *value = tag(rel->tags, rel->tag_count, "restriction:motorcar");
    if (!value)
        value = tag(rel->tags, rel->tag_count, "restriction");
    const char *except = tag(rel->tags, rel->tag_count, "except");
    if (!value || (except && strstr(except, "motorcar")))
        return READOSM_OK;
    cg_osm_restriction x = {rel->id, 0, 0, 0, ""};
    int n_from = 0, n_via = 0, n_to = 0;
    for (int k = 0; k < rel->member_count; k++) {
        const readosm_member *m = &rel->members[k];
        if (!m->role)
            continue;
        if (strcmp(m->role, "from") == 0 && m->member_type == READOSM_MEMBER_WAY) {
            x.from_way = m->id;
            n_from++;
        } else if (strcmp(m->role, "to") == 0 && m->member_type == READOSM_MEMBER_WAY) {
            x.to_way = m->id;
            n_to++;
        } else if (strcmp(m->role, "via") == 0) {
            x.via_node = m->id;
            n_via += m->member_type == READOSM_MEMBER_NODE ? 1 : 2;
        }
    }
    if (n_from != 1 || n_to != 1 || n_via != 1)
        return READOSM_OK;
    copy(x.restriction, sizeof x.restriction, value);
    if (grow(r, (void **)&r->restr, r->n_restr, &r->cap_restr, sizeof x))
        return READOSM_ABORT;
    r->restr[r->n_restr++] = x;
    return READOSM_OK;
}

static int on_relation(const void *user, const readosm_relation *rel)
{
    reader *r = (reader *)user;
    r->stats.relations++;
    const char *boundary = tag(rel->tags, rel->tag_count, "boundary");
    const char *level = tag(rel->tags, rel->tag_count, "admin_level");
    if (!boundary || strcmp(boundary, "administrative") != 0 || !level)
        return READOSM_OK;
    int admin_level = parse_int(level, 0);
    if (admin_level < 1 || admin_level > 12)
        return READOSM_OK;
    if (grow(r, (void **)&r->rels, r->n_rels, &r->cap_rels, sizeof(relation_rec)))
        return READOSM_ABORT;
    relation_rec *rr = &r->rels[r->n_rels++];
    memset(rr, 0, sizeof *rr);
    rr->id = rel->id;
    rr->admin_level = admin_level;
    names(rel->tags, rel->tag_count, rr->name_zh, rr->name_en, sizeof rr->name_zh);
    const char *ref = tag(rel->tags, rel->tag_count, "ref");
    copy(rr->ref, sizeof rr->ref, ref);
    rr->member_off = r->n_members;
    for (int k = 0; k < rel->member_count; k++) {
        const readosm_member *m = &rel->members[k];
        if (m->member_type != READOSM_MEMBER_WAY)
            continue;
        int inner = m->role && strcmp(m->role, "inner") == 0;
        int outer = !m->role || !m->role[0] || strcmp(m->role, "outer") == 0;
        if (!inner && !outer)
            continue; /* subarea, admin_centre, label: not part of the area */
        if (grow(r, (void **)&r->members, r->n_members, &r->cap_members, sizeof(member_rec)))
            return READOSM_ABORT;
        r->members[r->n_members++] = (member_rec){m->id, inner};
    }
    rr->member_n = r->n_members - rr->member_off;
    return READOSM_OK;
}

/* ---- pass 2: ways ---- */

static int on_way(const void *user, const readosm_way *way)
{
    reader *r = (reader *)user;
    r->stats.ways_read++;
    const readosm_tag *tags = way->tags;
    int n = way->tag_count, keep = 0;
    const char *highway = tag(tags, n, "highway"), *building = tag(tags, n, "building");
    cg_road_class road_class = highway ? cg_road_class_from_osm(highway) : 0;
    int closed =
        way->node_ref_count >= 4 && way->node_refs[0] == way->node_refs[way->node_ref_count - 1];
    const char *kind = poi_kind(tags, n);
    if (road_class && way->node_ref_count >= 2)
        keep |= KEEP_ROAD;
    if (building && strcmp(building, "no") != 0) {
        if (closed)
            keep |= KEEP_BUILDING;
        else
            r->stats.skipped_open_buildings++;
    }
    if (kind && closed)
        keep |= KEEP_POI;
    if (find_i64(r->member_ways, r->n_member_ways, way->id))
        keep |= KEEP_MEMBER;
    if (!keep)
        return READOSM_OK;
    if (grow(r, (void **)&r->ways, r->n_ways, &r->cap_ways, sizeof(way_rec)))
        return READOSM_ABORT;
    way_rec *w = &r->ways[r->n_ways++];
    memset(w, 0, sizeof *w);
    w->id = way->id;
    w->keep = keep;
    w->road_class = road_class;
    if (keep & KEEP_ROAD) {
        w->oneway = parse_oneway(tags, n, highway);
        w->maxspeed_kmh = parse_maxspeed(tag(tags, n, "maxspeed"));
        copy(w->access, sizeof w->access, tag(tags, n, "access"));
    }
    names(tags, n, w->name_zh, w->name_en, sizeof w->name_zh);
    copy(w->building, sizeof w->building, building);
    w->households = parse_int(tag(tags, n, "building:flats"), -1);
    w->levels = parse_int(tag(tags, n, "building:levels"), 0);
    copy(w->poi_kind, sizeof w->poi_kind, kind);
    w->ref_off = r->n_refs;
    w->ref_n = (size_t)way->node_ref_count;
    for (int k = 0; k < way->node_ref_count; k++) {
        if (grow(r, (void **)&r->refs, r->n_refs, &r->cap_refs, sizeof(int64_t)))
            return READOSM_ABORT;
        r->refs[r->n_refs++] = way->node_refs[k];
    }
    return READOSM_OK;
}

/* ---- pass 3: nodes ---- */

static int on_node(const void *user, const readosm_node *node)
{
    reader *r = (reader *)user;
    r->stats.nodes++;
    const int64_t *hit = find_i64(r->node_ids, r->n_node_ids, node->id);
    if (hit)
        r->coords[hit - r->node_ids] = (cg_point){node->longitude, node->latitude};
    if (node->tag_count == 0)
        return READOSM_OK;
    const char *kind = poi_kind(node->tags, node->tag_count);
    if (!kind)
        return READOSM_OK;
    if (grow(r, (void **)&r->node_pois, r->n_node_pois, &r->cap_node_pois, sizeof(cg_poi)))
        return READOSM_ABORT;
    cg_poi *p = &r->node_pois[r->n_node_pois++];
    memset(p, 0, sizeof *p);
    p->id = node->id;
    copy(p->kind, sizeof p->kind, kind);
    names(node->tags, node->tag_count, p->name_zh, p->name_en, sizeof p->name_zh);
    p->at = (cg_point){node->longitude, node->latitude};
    return READOSM_OK;
}

static const char *readosm_reason(int rc)
{
    switch (rc) {
    case READOSM_INVALID_PBF_HEADER:
        return "not a valid OSM PBF file (bad or truncated block header)";
    case READOSM_UNZIP_ERROR:
        return "a compressed block is corrupt or truncated";
    case READOSM_XML_ERROR:
        return "not valid OSM XML";
    case READOSM_READ_ERROR:
        return "read error (truncated file?)";
    case READOSM_INSUFFICIENT_MEMORY:
        return "out of memory";
    default:
        return "unreadable OSM data";
    }
}

/*
 * Checks the framing of a PBF file before readosm sees it. readosm trusts the sizes written in
 * the file and allocates them (a corrupt 4-byte header length makes it ask for 4 GB), so every
 * block is checked against the limits of the PBF specification and against the file's end: a
 * BlobHeader of at most 64 KiB, a Blob of at most 32 MiB that fits in the file, and an
 * uncompressed size of at most 32 MiB. This reads only headers (seeking over the data), so it
 * costs little, and it names the byte where a truncated file ends.
 */
#define PBF_HEADER_MAX (64u * 1024)
#define PBF_BLOB_MAX   (32u * 1024 * 1024)

static int pbf_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *i < n; shift += 7) {
        uint8_t c = b[(*i)++];
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Finds varint field `field` in a protobuf message; fields of other types are skipped. */
static int pbf_find_varint(const uint8_t *b, size_t n, unsigned field, uint64_t *out)
{
    size_t i = 0;
    int found = 0;
    while (i < n) {
        uint64_t key, v;
        if (pbf_varint(b, n, &i, &key) != 0)
            return -1;
        switch (key & 7) {
        case 0:
            if (pbf_varint(b, n, &i, &v) != 0)
                return -1;
            if ((key >> 3) == field) {
                *out = v;
                found = 1;
            }
            break;
        case 1:
            i += 8;
            break;
        case 2:
            if (pbf_varint(b, n, &i, &v) != 0 || v > n - i)
                return -1;
            i += (size_t)v;
            break;
        case 5:
            i += 4;
            break;
        default:
            return -1;
        }
    }
    return i == n && found ? 0 : -1;
}

static int pbf_check(const char *path, cg_err *err)
{
    size_t len = strlen(path);
    if (len < 4 || strcmp(path + len - 4, ".pbf") != 0)
        return 0; /* XML: readosm's expat parser reads it as a stream */
    FILE *f = fopen(path, "rb");
    if (!f)
        return cg_err_set(err, CG_ENOTFOUND, "file", "%s: cannot open the file", path);
    int rc = 0;
    uint8_t *header = malloc(PBF_HEADER_MAX);
    if (!header || fseek(f, 0, SEEK_END) != 0) {
        rc = cg_err_set(err, CG_EIO, "file", "%s: cannot read the file", path);
        goto done;
    }
    long size = ftell(f);
    rewind(f);
    long at = 0;
    for (int block = 0; rc == 0 && at < size; block++) {
        uint8_t be[4];
        uint64_t datasize = 0, raw_size = 0;
        if (fread(be, 1, 4, f) != 4) {
            rc = cg_err_set(err, CG_EINVAL, "file", "%s: truncated at byte %ld (block %d)", path,
                            at, block);
            break;
        }
        uint32_t hlen =
            (uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 | (uint32_t)be[2] << 8 | be[3];
        if (hlen == 0 || hlen > PBF_HEADER_MAX) {
            rc = cg_err_set(err, CG_EINVAL, "file",
                            "%s: not a valid OSM PBF file (block %d at byte %ld has a header of "
                            "%u bytes)",
                            path, block, at, hlen);
            break;
        }
        if (fread(header, 1, hlen, f) != hlen) {
            rc = cg_err_set(err, CG_EINVAL, "file", "%s: truncated at byte %ld (block %d)", path,
                            at, block);
            break;
        }
        if (pbf_find_varint(header, hlen, 3, &datasize) != 0 || datasize == 0 ||
            datasize > PBF_BLOB_MAX) {
            rc = cg_err_set(err, CG_EINVAL, "file",
                            "%s: not a valid OSM PBF file (block %d at byte %ld has a bad header)",
                            path, block, at);
            break;
        }
        long blob_at = at + 4 + (long)hlen;
        if ((uint64_t)(size - blob_at) < datasize) {
            rc = cg_err_set(err, CG_EINVAL, "file",
                            "%s: truncated: block %d needs %llu bytes at byte %ld, the file "
                            "ends at %ld",
                            path, block, (unsigned long long)datasize, blob_at, size);
            break;
        }
        /* The Blob's raw_size (field 2) bounds what readosm will inflate. The first bytes of
         * the blob are enough when it comes first, as every writer puts it; otherwise the
         * whole blob is read. */
        size_t want = datasize < PBF_HEADER_MAX ? (size_t)datasize : PBF_HEADER_MAX;
        if (fread(header, 1, want, f) != want) {
            rc = cg_err_set(err, CG_EIO, "file", "%s: read error at byte %ld", path, blob_at);
            break;
        }
        size_t i = 0;
        uint64_t key;
        if (pbf_varint(header, want, &i, &key) == 0 && key == (2 << 3) &&
            pbf_varint(header, want, &i, &raw_size) == 0 && raw_size > PBF_BLOB_MAX) {
            rc = cg_err_set(err, CG_EINVAL, "file",
                            "%s: not a valid OSM PBF file (block %d claims %llu bytes "
                            "uncompressed; at most %u)",
                            path, block, (unsigned long long)raw_size, PBF_BLOB_MAX);
            break;
        }
        at = blob_at + (long)datasize;
        if (fseek(f, at, SEEK_SET) != 0)
            rc = cg_err_set(err, CG_EIO, "file", "%s: cannot seek to byte %ld", path, at);
    }
    if (rc == 0 && size == 0)
        rc = cg_err_set(err, CG_EINVAL, "file", "%s: the file is empty", path);
done:
    free(header);
    fclose(f);
    return rc;
}

/* One pass over the file with the given readosm callbacks. */
static int pass(reader *r, const char *path, readosm_node_callback nodes, readosm_way_callback ways,
                readosm_relation_callback relations, cg_err *err)
{
    const void *h = NULL;
    int rc = readosm_open(path, &h);
    if (rc != READOSM_OK) {
        if (h)
            readosm_close(h);
        if (rc == READOSM_INVALID_SUFFIX)
            return cg_err_set(err, CG_EUNSUPPORTED, "file",
                              "%s: not an OpenStreetMap file (expected .osm.pbf, .pbf or .osm)",
                              path);
        if (rc == READOSM_FILE_NOT_FOUND)
            return cg_err_set(err, CG_ENOTFOUND, "file", "%s: cannot open the file", path);
        return cg_err_set(err, CG_EINVAL, "file", "%s: %s", path, readosm_reason(rc));
    }
    rc = readosm_parse(h, r, nodes, ways, relations);
    readosm_close(h);
    if (r->oom)
        return cg_err_set(err, CG_ENOMEM, "file", "%s: out of memory", path);
    if (rc != READOSM_OK)
        return cg_err_set(err, CG_EINVAL, "file", "%s: %s (readosm error %d)", path,
                          readosm_reason(rc), rc);
    return 0;
}

/* ---- assembling and delivering ---- */

/* Coordinates of a kept way's nodes; -1 when one is missing from the extract. */
static int way_points(const reader *r, const way_rec *w, cg_point *pts)
{
    for (size_t k = 0; k < w->ref_n; k++) {
        const int64_t *hit = find_i64(r->node_ids, r->n_node_ids, r->refs[w->ref_off + k]);
        if (!hit)
            return -1;
        pts[k] = r->coords[hit - r->node_ids];
        if (isnan(pts[k].x))
            return -1;
    }
    return 0;
}

static const way_rec *find_way(const reader *r, int64_t id)
{
    size_t lo = 0, hi = r->n_ways;
    while (lo < hi) { /* ways arrive in id order in sorted extracts; fall back to a scan */
        size_t mid = lo + (hi - lo) / 2;
        if (r->ways[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n_ways && r->ways[lo].id == id)
        return &r->ways[lo];
    for (size_t k = 0; k < r->n_ways; k++)
        if (r->ways[k].id == id)
            return &r->ways[k];
    return NULL;
}

typedef struct {
    int64_t *ids;
    cg_point *pts;
    size_t n;
    int used;
} piece;

/* Appends src (reversed or not, skipping its first node, which equals dst's last) to dst. */
static int piece_append(piece *dst, const piece *src, int reverse)
{
    size_t n = dst->n + src->n - 1;
    int64_t *ids = realloc(dst->ids, n * sizeof(int64_t));
    if (!ids)
        return -1;
    dst->ids = ids;
    cg_point *pts = realloc(dst->pts, n * sizeof(cg_point));
    if (!pts)
        return -1;
    dst->pts = pts;
    for (size_t k = 1; k < src->n; k++) {
        size_t s = reverse ? src->n - 1 - k : k;
        dst->ids[dst->n] = src->ids[s];
        dst->pts[dst->n++] = src->pts[s];
    }
    return 0;
}

/*
 * Joins the pieces into closed rings, appending each ring to *rings (as a one-ring cg_mpoly
 * polygon, for the containment test later). Unclosable chains are counted in *dropped.
 */
static int join_rings(piece *pieces, size_t n, cg_mpoly *rings, int64_t *dropped)
{
    for (size_t start = 0; start < n; start++) {
        if (pieces[start].used)
            continue;
        pieces[start].used = 1;
        piece cur = {NULL, NULL, 0, 0};
        cur.ids = malloc(pieces[start].n * sizeof(int64_t));
        cur.pts = malloc(pieces[start].n * sizeof(cg_point));
        if (!cur.ids || !cur.pts) {
            free(cur.ids);
            free(cur.pts);
            return -1;
        }
        memcpy(cur.ids, pieces[start].ids, pieces[start].n * sizeof(int64_t));
        memcpy(cur.pts, pieces[start].pts, pieces[start].n * sizeof(cg_point));
        cur.n = pieces[start].n;
        int grew = 1;
        while (cur.ids[0] != cur.ids[cur.n - 1] && grew) {
            grew = 0;
            for (size_t k = 0; k < n; k++) {
                if (pieces[k].used)
                    continue;
                int reverse = pieces[k].ids[pieces[k].n - 1] == cur.ids[cur.n - 1];
                if (pieces[k].ids[0] != cur.ids[cur.n - 1] && !reverse)
                    continue;
                if (piece_append(&cur, &pieces[k], reverse) != 0) {
                    free(cur.ids);
                    free(cur.pts);
                    return -1;
                }
                pieces[k].used = 1;
                grew = 1;
                break;
            }
        }
        if (cur.n >= 4 && cur.ids[0] == cur.ids[cur.n - 1])
            cg_mpoly_add_ring_polygon(rings, cur.pts, cur.n);
        else
            (*dropped)++;
        free(cur.ids);
        free(cur.pts);
    }
    return 0;
}

/* Pieces of one role of a relation; members whose way or nodes are missing are left out (the
 * ring they belong to then cannot close and is counted). */
static piece *relation_pieces(const reader *r, const relation_rec *rel, int inner, size_t *n_out)
{
    piece *pieces = calloc(rel->member_n ? rel->member_n : 1, sizeof(piece));
    if (!pieces)
        return NULL;
    size_t n = 0;
    for (size_t k = 0; k < rel->member_n; k++) {
        const member_rec *m = &r->members[rel->member_off + k];
        const way_rec *w = m->inner == inner ? find_way(r, m->way_id) : NULL;
        if (!w || w->ref_n < 2)
            continue;
        piece *p = &pieces[n];
        p->ids = malloc(w->ref_n * sizeof(int64_t));
        p->pts = malloc(w->ref_n * sizeof(cg_point));
        if (!p->ids || !p->pts || way_points(r, w, p->pts) != 0) {
            free(p->ids);
            free(p->pts);
            p->ids = NULL;
            p->pts = NULL;
            continue;
        }
        memcpy(p->ids, &r->refs[w->ref_off], w->ref_n * sizeof(int64_t));
        p->n = w->ref_n;
        n++;
    }
    *n_out = n;
    return pieces;
}

static void pieces_free(piece *pieces, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(pieces[k].ids);
        free(pieces[k].pts);
    }
    free(pieces);
}

/* Assembles a boundary's multipolygon: closed outer rings, each with the inner rings inside it. */
static int assemble_boundary(reader *r, const relation_rec *rel, cg_mpoly *out)
{
    cg_mpoly outers = {0}, inners = {0};
    int rc = 0;
    for (int inner = 0; inner <= 1 && rc == 0; inner++) {
        size_t n = 0;
        piece *pieces = relation_pieces(r, rel, inner, &n);
        if (!pieces)
            rc = -1;
        else
            rc = join_rings(pieces, n, inner ? &inners : &outers, &r->stats.skipped_rings);
        pieces_free(pieces, n);
    }
    if (rc == 0) {
        *out = outers;
        outers = (cg_mpoly){0};
        for (size_t h = 0; h < inners.n_polys; h++) {
            cg_ring *hole = &inners.polys[h].rings[0];
            for (size_t p = 0; p < out->n_polys; p++) {
                cg_mpoly one = {&out->polys[p], 1};
                if (!cg_mpoly_contains(&one, hole->pts[0]))
                    continue;
                cg_polygon *poly = &out->polys[p];
                cg_ring *rings = realloc(poly->rings, (poly->n_rings + 1) * sizeof(cg_ring));
                if (!rings) {
                    rc = -1;
                    break;
                }
                poly->rings = rings;
                poly->rings[poly->n_rings++] = *hole;
                *hole = (cg_ring){NULL, 0}; /* moved */
                break;
            }
        }
    }
    cg_mpoly_free(&outers);
    cg_mpoly_free(&inners);
    return rc;
}

static int deliver_ways(reader *r, cg_err *err)
{
    size_t cap = 0;
    cg_point *pts = NULL;
    int64_t *ids = NULL;
    int rc = 0;
    for (size_t k = 0; k < r->n_ways && rc == 0; k++) {
        const way_rec *w = &r->ways[k];
        if (!(w->keep & (KEEP_ROAD | KEEP_BUILDING | KEEP_POI)))
            continue;
        if (w->ref_n > cap) {
            cap = w->ref_n * 2;
            cg_point *p = realloc(pts, cap * sizeof(cg_point));
            if (p)
                pts = p;
            int64_t *q = realloc(ids, cap * sizeof(int64_t));
            if (q)
                ids = q;
            if (!p || !q) {
                rc = cg_err_set(err, CG_ENOMEM, "file", "out of memory assembling ways");
                break;
            }
        }
        if (way_points(r, w, pts) != 0) {
            r->stats.skipped_missing_nodes++;
            continue;
        }
        if ((w->keep & KEEP_ROAD) && r->cb->way) {
            cg_way out = {0};
            out.id = w->id;
            out.road_class = w->road_class;
            out.oneway = w->oneway;
            out.maxspeed_kmh = w->maxspeed_kmh;
            memcpy(out.access, w->access, sizeof out.access);
            memcpy(out.name_zh, w->name_zh, sizeof out.name_zh);
            memcpy(out.name_en, w->name_en, sizeof out.name_en);
            memcpy(ids, &r->refs[w->ref_off], w->ref_n * sizeof(int64_t));
            out.n = w->ref_n;
            out.node_ids = ids;
            out.pts = pts;
            rc = r->cb->way(r->ctx, &out, err);
            r->stats.ways++;
        }
        cg_mpoly area = {0};
        if (w->keep & (KEEP_BUILDING | KEEP_POI))
            cg_mpoly_add_ring_polygon(&area, pts, w->ref_n);
        if (rc == 0 && (w->keep & KEEP_BUILDING) && r->cb->building) {
            cg_building b = {0};
            b.id = w->id;
            memcpy(b.kind, w->building, sizeof b.kind);
            memcpy(b.name_zh, w->name_zh, sizeof b.name_zh);
            memcpy(b.name_en, w->name_en, sizeof b.name_en);
            b.households = w->households;
            b.levels = w->levels;
            b.geom = area;
            rc = r->cb->building(r->ctx, &b, err);
            r->stats.buildings++;
        }
        if (rc == 0 && (w->keep & KEEP_POI) && r->cb->poi) {
            cg_poi p = {0};
            p.id = CG_OSM_WAY_POI_ID_BASE + w->id;
            memcpy(p.kind, w->poi_kind, sizeof p.kind);
            memcpy(p.name_zh, w->name_zh, sizeof p.name_zh);
            memcpy(p.name_en, w->name_en, sizeof p.name_en);
            p.at = cg_mpoly_centroid(&area);
            rc = r->cb->poi(r->ctx, &p, err);
            r->stats.pois++;
        }
        cg_mpoly_free(&area);
    }
    free(pts);
    free(ids);
    return rc;
}

static int deliver(reader *r, cg_err *err)
{
    if (deliver_ways(r, err) != 0)
        return -1;
    for (size_t k = 0; k < r->n_node_pois; k++) {
        if (r->cb->poi && r->cb->poi(r->ctx, &r->node_pois[k], err) != 0)
            return -1;
        r->stats.pois++;
    }
    for (size_t k = 0; k < r->n_rels; k++) {
        const relation_rec *rel = &r->rels[k];
        cg_boundary b = {0};
        if (assemble_boundary(r, rel, &b.geom) != 0)
            return cg_err_set(err, CG_ENOMEM, "file", "out of memory assembling boundaries");
        if (b.geom.n_polys == 0) {
            r->stats.skipped_boundaries++;
            continue;
        }
        b.id = rel->id;
        b.admin_level = rel->admin_level;
        memcpy(b.name_zh, rel->name_zh, sizeof b.name_zh);
        memcpy(b.name_en, rel->name_en, sizeof b.name_en);
        memcpy(b.ref, rel->ref, sizeof b.ref);
        int rc = r->cb->boundary ? r->cb->boundary(r->ctx, &b, err) : 0;
        cg_boundary_free(&b);
        if (rc != 0)
            return -1;
        r->stats.boundaries++;
    }
    return 0;
}

static void reader_free(reader *r)
{
    free(r->rels);
    free(r->members);
    free(r->member_ways);
    free(r->ways);
    free(r->refs);
    free(r->node_ids);
    free(r->coords);
    free(r->node_pois);
    free(r->restr);
}

static void stage(reader *r, const char *name)
{
    if (r->cb->progress)
        r->cb->progress(r->ctx, name);
}

int cg_osm_read(const char *path, const cg_osm_callbacks *cb, void *ctx, cg_osm_stats *stats,
                cg_err *err)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.cb = cb;
    r.ctx = ctx;
    int rc;
    stage(&r, "reading relations");
    rc = pbf_check(path, err);
    if (rc == 0)
        rc = pass(&r, path, NULL, NULL, on_relation, err);
    if (rc == 0) {
        r.member_ways = malloc((r.n_members ? r.n_members : 1) * sizeof(int64_t));
        if (!r.member_ways)
            rc = cg_err_set(err, CG_ENOMEM, "file", "out of memory");
    }
    if (rc == 0) {
        for (size_t k = 0; k < r.n_members; k++)
            r.member_ways[k] = r.members[k].way_id;
        r.n_member_ways = sort_unique(r.member_ways, r.n_members);
        stage(&r, "reading ways");
        rc = pass(&r, path, NULL, on_way, NULL, err);
    }
    if (rc == 0) {
        /* The needed node ids: a sorted copy of every kept reference. */
        r.node_ids = malloc((r.n_refs ? r.n_refs : 1) * sizeof(int64_t));
        if (!r.node_ids)
            rc = cg_err_set(err, CG_ENOMEM, "file", "out of memory");
    }
    if (rc == 0) {
        if (r.n_refs) /* refs is NULL when no way was kept */
            memcpy(r.node_ids, r.refs, r.n_refs * sizeof(int64_t));
        r.n_node_ids = sort_unique(r.node_ids, r.n_refs);
        r.coords = malloc((r.n_node_ids ? r.n_node_ids : 1) * sizeof(cg_point));
        if (!r.coords)
            rc = cg_err_set(err, CG_ENOMEM, "file", "out of memory");
    }
    if (rc == 0) {
        for (size_t k = 0; k < r.n_node_ids; k++)
            r.coords[k] = (cg_point){NAN, NAN};
        stage(&r, "reading nodes");
        rc = pass(&r, path, on_node, NULL, NULL, err);
    }
    /* readosm accepts an empty or header-only file: treat it as not OSM data. */
    if (rc == 0 && r.stats.nodes == 0 && r.stats.ways_read == 0)
        rc = cg_err_set(err, CG_EINVAL, "file", "%s: holds no OpenStreetMap nodes or ways", path);
    if (rc == 0) {
        stage(&r, "assembling");
        rc = deliver(&r, err);
    }

    if (stats)
        *stats = r.stats;
    reader_free(&r);
    return rc;
}

static int on_restriction_relation(const void *user, const readosm_relation *rel)
{
    return keep_restriction((reader *)user, rel);
}

int cg_osm_read_restrictions(const char *path, cg_osm_restriction_cb cb, void *ctx, cg_err *err)
{
    reader r;
    memset(&r, 0, sizeof r);
    int rc = pbf_check(path, err);
    if (rc == 0)
        rc = pass(&r, path, NULL, NULL, on_restriction_relation, err);
    for (size_t k = 0; rc == 0 && k < r.n_restr; k++)
        rc = cb(ctx, &r.restr[k], err);
    reader_free(&r);
    return rc;
}
