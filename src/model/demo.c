/*
 * The demo district generator (see demo.h for the contract). Pure computation on in-memory
 * arrays: no I/O, no store.
 *
 * The whole district is one lattice of (n+1) x (n+1) vertices, each moved by its own
 * deterministic jitter, so cells are convex quadrilaterals of four lattice vertices:
 *
 *     (i,j) ---- (i+1,j)        i runs west->east, j north->south
 *       |  cell    |            every lattice line is a road
 *     (i,j+1) -- (i+1,j+1)
 *
 * Regions are sets of whole cells and their boundaries are traced through every lattice vertex on
 * their perimeter, so neighbouring regions share identical edges and siblings tile their parent
 * with no gaps and no overlaps by construction (the topology check finds nothing to report).
 *
 * Order of work:
 *   1. lattice vertices;
 *   2. streets: a guillotine split of the lattice into rectangles of cells; communities: the same
 *      split of each street;
 *   3. facility blocks per street (school, market, hospital, civic, utility, commercial) and rail
 *      stations at arterial crossings: these decide the risk grade of the grids around them;
 *   4. households per residential block, and grids: each community's blocks are walked in
 *      boustrophedon order (west->east on even rows, east->west on odd rows) and cut into runs by
 *      a small dynamic programme so that every run holds 150-300 households (as close to 225 as
 *      possible). A run of a boustrophedon walk is a union of one interval per row where
 *      consecutive intervals overlap at the turning column, hence a simple polygon. When no valid
 *      cut exists the block household numbers are redrawn (a new attempt of the same seed);
 *   5. codes and names, numbered west->east, north->south with cg_grid_number_order;
 *   6. buildings (rectangles in the bilinear coordinates of their block, clear of the roads and of
 *      the compound roads) and points of interest;
 *   7. roads: one way per stretch of up to 8 lattice segments, with shape nodes every cell/pieces
 *      metres, and inside each residential block the compound's own roads (小区内部道路): a
 *      service ring just inside the block's edge, a cross (a north-south service road and an
 *      east-west footway) meeting in the middle, and four gates joining the ring to the midpoints
 *      of the surrounding streets (south and north for vehicles, east and west on foot). The
 *      buildings' slots leave exactly these strips free. Node ids of lattice nodes are a function
 *      of the lattice position, so ways share them at crossings; compound nodes are numbered after
 *      them, and their junctions are shared by the ways that meet there.
 *
 * Shape nodes are spaced like a surveyed network (~15 m in the small size, ~10 m in the city):
 * the `city` reaches the routing benchmarks' million nodes through its size (180 m blocks, a
 * 16 km square for ~2M residents, ~7,800 per km2) and the compound roads, about a third of its
 * nodes being on roads inside compounds, as in a real Chinese district.
 */
#include "model/demo.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT_CODE    "330199"
#define DISTRICT_NAME_ZH "明湖区"
#define DISTRICT_NAME_EN "Minghu District"
#define CENTER_LON       120.16
#define CENTER_LAT       30.27

#define HH_MIN       150 /* households per leaf grid (PRODUCT.md: typically 150-300) */
#define HH_MAX       300
#define HH_TARGET    225
#define BLOCK_HH_MIN 60 /* households per residential block */
#define BLOCK_HH_MAX 150
#define HH_ATTEMPTS  64

#define JITTER         0.12 /* of the cell size, per axis */
#define WAY_MAX_SEGS   8    /* lattice segments per road way */
#define ROLES_PER_ST   6    /* facility blocks per street */
#define RESIDENTS_X10  25   /* residents per household, times ten */
#define GUARDED_RANDOM 0.12 /* share of otherwise routine grids graded guarded */

typedef struct {
    int n;            /* cells per side */
    double cell_m;    /* nominal cell size */
    int streets;      /* streets in the district */
    int comms;        /* communities per street */
    int pieces;       /* pieces per road segment (even, so each segment has a midpoint node) */
    double spacing_m; /* target distance between shape nodes on compound roads */
} size_params;

static const size_params small_params = {16, 120.0, 4, 5, 8, 15.0};
static const size_params city_params = {89, 180.0, 40, 10, 18, 10.0};

#define COMPOUND_INSET 0.04 /* the compound ring, in block coordinates from the block's edge */

/* ---- deterministic randomness: splitmix64, one stream per entity ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

enum { TAG_JITTER = 1, TAG_FACILITY, TAG_HH, TAG_BUILDING, TAG_ONEWAY, TAG_GRADE };

/* A stream that depends only on (seed, tag, a, b): entities draw independently of each other,
 * so adding a draw in one place never shifts the rest of the district. */
static rng rng_for(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b)
{
    uint64_t s = mix64(seed + 0x9E3779B97F4A7C15ULL);
    s = mix64(s ^ (tag * 0xD6E8FEB86659FD93ULL));
    s = mix64(s ^ (a * 0xA0761D6478BD642FULL));
    s = mix64(s ^ (b * 0xE7037ED1A0B428DBULL));
    return (rng){s};
}

static uint64_t rng_next(rng *r)
{
    r->s += 0x9E3779B97F4A7C15ULL;
    return mix64(r->s);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static int rng_int(rng *r, int lo, int hi)
{
    assert(hi >= lo);
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- allocation ---- */

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p)
        abort();
    return p;
}

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = xrealloc((arr), sizeof *(arr) * (cap));                                        \
        }                                                                                          \
    } while (0)

/* ---- names ---- */

typedef struct {
    const char *zh, *py;
} syllable;

static const syllable street_first[] = {{"望", "Wang"}, {"清", "Qing"}, {"紫", "Zi"},
                                        {"凤", "Feng"}, {"湖", "Hu"},   {"古", "Gu"},
                                        {"翠", "Cui"},  {"明", "Ming"}};
static const syllable street_second[] = {{"江", "jiang"}, {"波", "bo"},  {"阳", "yang"},
                                         {"山", "shan"},  {"滨", "bin"}, {"荡", "dang"},
                                         {"苑", "yuan"},  {"湾", "wan"}};
static const syllable comm_first[] = {
    {"景", "Jing"}, {"和", "He"},   {"安", "An"},   {"新", "Xin"},  {"华", "Hua"}, {"文", "Wen"},
    {"金", "Jin"},  {"桂", "Gui"},  {"兴", "Xing"}, {"丰", "Feng"}, {"嘉", "Jia"}, {"瑞", "Rui"},
    {"康", "Kang"}, {"宁", "Ning"}, {"永", "Yong"}, {"福", "Fu"},   {"秀", "Xiu"}, {"朝", "Chao"},
    {"春", "Chun"}, {"锦", "Jin"},  {"蓝", "Lan"},  {"松", "Song"}, {"梅", "Mei"}, {"竹", "Zhu"}};
static const syllable comm_second[] = {
    {"苑", "yuan"},  {"园", "yuan"}, {"里", "li"},   {"坊", "fang"}, {"湾", "wan"},
    {"桥", "qiao"},  {"港", "gang"}, {"塘", "tang"}, {"庭", "ting"}, {"城", "cheng"},
    {"巷", "xiang"}, {"河", "he"},   {"岸", "an"},   {"林", "lin"},  {"亭", "ting"},
    {"阁", "ge"},    {"堤", "di"},   {"溪", "xi"},   {"峰", "feng"}, {"门", "men"}};
/* East-west roads: a theme and an ordinal (文一路, 文二路, ... as Hangzhou numbers its roads). */
static const syllable ew_theme[] = {{"文", "Wen"}, {"天", "Tian"}, {"德", "De"},   {"庆", "Qing"},
                                    {"惠", "Hui"}, {"凤", "Feng"}, {"兴", "Xing"}, {"丰", "Feng"},
                                    {"安", "An"},  {"和", "He"}};
static const syllable ordinal[] = {{"一", "yi"},  {"二", "er"},  {"三", "san"}, {"四", "si"},
                                   {"五", "wu"},  {"六", "liu"}, {"七", "qi"},  {"八", "ba"},
                                   {"九", "jiu"}, {"十", "shi"}};
static const syllable ns_first[] = {{"学", "Xue"},   {"教", "Jiao"}, {"古", "Gu"}, {"保", "Bao"},
                                    {"莫", "Mo"},    {"紫", "Zi"},   {"湖", "Hu"}, {"建", "Jian"},
                                    {"中", "Zhong"}, {"延", "Yan"}};
static const syllable ns_second[] = {{"院", "yuan"}, {"工", "gong"}, {"墩", "dun"},  {"塘", "tang"},
                                     {"干", "gan"},  {"金", "jin"},  {"州", "zhou"}, {"国", "guo"},
                                     {"河", "he"},   {"安", "an"}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    char zh[64], en[64]; /* "望江", "Wangjiang" */
} name2;

/* Two syllables as hanzi and as pinyin, with the apostrophe pinyin puts before a second syllable
 * starting with a, o or e (Xi'an, He'er). */
static name2 name_join(syllable a, syllable b)
{
    name2 n;
    snprintf(n.zh, sizeof n.zh, "%s%s", a.zh, b.zh);
    int apostrophe = b.py[0] == 'a' || b.py[0] == 'o' || b.py[0] == 'e';
    snprintf(n.en, sizeof n.en, "%s%s%s", a.py, apostrophe ? "'" : "", b.py);
    return n;
}

/* The k-th street name; 29 and 97 are coprime with the table sizes, so names never repeat. */
static name2 street_name(size_t k)
{
    size_t c = (k * 29 + 3) % (COUNT(street_first) * COUNT(street_second));
    return name_join(street_first[c / COUNT(street_second)],
                     street_second[c % COUNT(street_second)]);
}

static name2 community_name(size_t k)
{
    size_t c = (k * 97 + 11) % (COUNT(comm_first) * COUNT(comm_second));
    return name_join(comm_first[c / COUNT(comm_second)], comm_second[c % COUNT(comm_second)]);
}

/* Road of east-west line j (文三路 / Wensan Road) and north-south line i (学院路 / Xueyuan Road).
 */
static name2 ew_road_name(int j)
{
    name2 n = name_join(ew_theme[(j / 10) % COUNT(ew_theme)], ordinal[j % 10]);
    strcat(n.zh, "路");
    strcat(n.en, " Road");
    return n;
}

static name2 ns_road_name(int i)
{
    name2 n = name_join(ns_first[i % COUNT(ns_first)], ns_second[(i / 10) % COUNT(ns_second)]);
    strcat(n.zh, "路");
    strcat(n.en, " Road");
    return n;
}

/* ---- the generator's working state ---- */

typedef struct {
    int i0, j0, i1, j1; /* cells [i0,i1) x [j0,j1) */
} rect;

enum {
    ROLE_RESIDENTIAL = 0,
    ROLE_SCHOOL,
    ROLE_MARKET,
    ROLE_HOSPITAL,
    ROLE_CIVIC,
    ROLE_UTILITY,
    ROLE_COMMERCIAL
};

typedef struct {
    int street, comm, grid; /* indexes into the working arrays */
    int role;
    int households;
    cg_grade risk; /* from the places in the block */
} cell;

typedef struct {
    cg_mpoly geom;
    rect bb;
    cg_point centroid;
    double height;
    int households;
    int parent;  /* index of the parent region at the level above (-1 for streets) */
    int ordinal; /* 1-based number among its siblings (west->east, north->south) */
    size_t out;  /* index in out->grids */
} region;

typedef struct {
    uint64_t seed;
    size_params p;
    int n;
    cg_point *vert; /* (n+1)^2 */
    cell *cells;    /* n*n */
    int *street_of, *comm_of, *grid_of;
    region *streets, *comms, *grids;
    size_t n_streets, n_comms, n_grids, cap_grids;
    name2 *street_names, *comm_names;
    int *comm_building_count;
    cg_demo *out;
    size_t cap_ways, cap_buildings, cap_pois;
    int64_t base_h, base_v, base_compound, next_node;
} gen;

static cg_point vertex(const gen *g, int i, int j)
{
    return g->vert[(size_t)j * (g->n + 1) + i];
}

/* The point at bilinear coordinates (u east, v south) of cell (i,j). */
static cg_point cell_point(const gen *g, int i, int j, double u, double v)
{
    cg_point nw = vertex(g, i, j), ne = vertex(g, i + 1, j);
    cg_point sw = vertex(g, i, j + 1), se = vertex(g, i + 1, j + 1);
    cg_point p;
    p.x = (1 - u) * (1 - v) * nw.x + u * (1 - v) * ne.x + u * v * se.x + (1 - u) * v * sw.x;
    p.y = (1 - u) * (1 - v) * nw.y + u * (1 - v) * ne.y + u * v * se.y + (1 - u) * v * sw.y;
    return p;
}

/* The k-th of `pieces` points along a lattice segment; every way touching the segment calls this
 * with the same arguments, so shared nodes get bit-identical coordinates. */
static cg_point segment_point(cg_point a, cg_point b, int k, int pieces)
{
    double t = (double)k / pieces;
    return (cg_point){a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
}

static void build_lattice(gen *g)
{
    int n = g->n;
    double m_per_deg_lat = CG_EARTH_RADIUS_M * M_PI / 180.0;
    double m_per_deg_lon = m_per_deg_lat * cos(CENTER_LAT * M_PI / 180.0);
    g->vert = xcalloc((size_t)(n + 1) * (n + 1), sizeof(cg_point));
    for (int j = 0; j <= n; j++)
        for (int i = 0; i <= n; i++) {
            rng r = rng_for(g->seed, TAG_JITTER, (uint64_t)i, (uint64_t)j);
            double jx = (rng_unit(&r) * 2 - 1) * JITTER, jy = (rng_unit(&r) * 2 - 1) * JITTER;
            double x = (i - n / 2.0 + jx) * g->p.cell_m;
            double y = (n / 2.0 - j + jy) * g->p.cell_m;
            g->vert[(size_t)j * (n + 1) + i] =
                (cg_point){CENTER_LON + x / m_per_deg_lon, CENTER_LAT + y / m_per_deg_lat};
        }
}

/* Guillotine split of a rectangle of cells into `parts` rectangles of near-equal area: cut across
 * the longer side in proportion to the parts on each side, and recurse. */
static void split_rect(rect r, int parts, rect *out, size_t *n_out)
{
    assert(parts >= 1);
    int w = r.i1 - r.i0, h = r.j1 - r.j0;
    assert(w * h >= parts);
    if (parts == 1) {
        out[(*n_out)++] = r;
        return;
    }
    int left = parts / 2, right = parts - left;
    rect a = r, b = r;
    if (w >= h) {
        int cut = r.i0 + (int)lround((double)w * left / parts);
        cut = cut <= r.i0 ? r.i0 + 1 : cut >= r.i1 ? r.i1 - 1 : cut;
        a.i1 = b.i0 = cut;
    } else {
        int cut = r.j0 + (int)lround((double)h * left / parts);
        cut = cut <= r.j0 ? r.j0 + 1 : cut >= r.j1 ? r.j1 - 1 : cut;
        a.j1 = b.j0 = cut;
    }
    split_rect(a, left, out, n_out);
    split_rect(b, right, out, n_out);
}

/*
 * The boundary of a region (the cells whose owner[] is id, all inside bb) as one closed ring
 * through every lattice vertex of its perimeter, counter-clockwise. Each boundary edge of a cell
 * is directed with the region on its left; in a simple region every vertex then has exactly one
 * outgoing edge and following them walks the ring. A pinch point or a second ring means the
 * region is not simple: an internal error.
 */
static int trace_region(const gen *g, const int *owner, int id, rect bb, cg_mpoly *out, cg_err *err)
{
    int n = g->n, w = bb.i1 - bb.i0 + 1, h = bb.j1 - bb.j0 + 1;
    int *next = malloc(sizeof(int) * (size_t)w * h);
    if (!next)
        abort();
    for (int k = 0; k < w * h; k++)
        next[k] = -1;
#define IN(i, j)                                                                                   \
    ((i) >= bb.i0 && (i) < bb.i1 && (j) >= bb.j0 && (j) < bb.j1 && owner[(j)*n + (i)] == id)
#define V(i, j) (((j)-bb.j0) * w + ((i)-bb.i0))
    size_t edges = 0;
    int start = -1, pinch = 0;
    for (int j = bb.j0; j < bb.j1; j++)
        for (int i = bb.i0; i < bb.i1; i++) {
            if (!IN(i, j))
                continue;
            int from[4], to[4], k = 0;
            if (!IN(i - 1, j))
                from[k] = V(i, j), to[k++] = V(i, j + 1);
            if (!IN(i, j + 1))
                from[k] = V(i, j + 1), to[k++] = V(i + 1, j + 1);
            if (!IN(i + 1, j))
                from[k] = V(i + 1, j + 1), to[k++] = V(i + 1, j);
            if (!IN(i, j - 1))
                from[k] = V(i + 1, j), to[k++] = V(i, j);
            for (int e = 0; e < k; e++) {
                if (next[from[e]] != -1)
                    pinch = 1;
                next[from[e]] = to[e];
                start = from[e];
                edges++;
            }
        }
#undef IN
#undef V
    if (pinch || start < 0) {
        free(next);
        return cg_err_set(err, CG_EINTERNAL, "geom", "demo region %d is not a simple polygon", id);
    }
    cg_point *pts = malloc(sizeof(cg_point) * (edges + 1));
    if (!pts)
        abort();
    size_t k = 0;
    int v = start;
    do {
        pts[k++] = vertex(g, bb.i0 + v % w, bb.j0 + v / w);
        v = next[v];
    } while (v != start && v >= 0 && k < edges);
    free(next);
    if (v != start || k != edges) {
        free(pts);
        return cg_err_set(err, CG_EINTERNAL, "geom", "demo region %d has more than one ring", id);
    }
    pts[k++] = pts[0];
    cg_mpoly_add_ring_polygon(out, pts, k);
    free(pts);
    return 0;
}

static void rect_extend(rect *bb, int i, int j)
{
    if (bb->i1 == bb->i0) {
        *bb = (rect){i, j, i + 1, j + 1};
        return;
    }
    bb->i0 = i < bb->i0 ? i : bb->i0;
    bb->j0 = j < bb->j0 ? j : bb->j0;
    bb->i1 = i + 1 > bb->i1 ? i + 1 : bb->i1;
    bb->j1 = j + 1 > bb->j1 ? j + 1 : bb->j1;
}

static int region_geometry(const gen *g, const int *owner, region *rs, size_t n, cg_err *err)
{
    for (size_t k = 0; k < n; k++) {
        region *r = &rs[k];
        if (trace_region(g, owner, (int)k, r->bb, &r->geom, err) != 0)
            return -1;
        r->centroid = cg_mpoly_centroid(&r->geom);
        cg_bbox b = cg_mpoly_bbox(&r->geom);
        r->height = b.max_y - b.min_y;
    }
    return 0;
}

/* Numbers the regions whose parent is `parent` (all when parent < 0 means top level). */
static void number_children(region *rs, size_t n, int parent)
{
    size_t m = 0;
    size_t *idx = xcalloc(n, sizeof(size_t));
    for (size_t k = 0; k < n; k++)
        if (rs[k].parent == parent)
            idx[m++] = k;
    cg_point *c = xcalloc(m, sizeof(cg_point));
    double *h = xcalloc(m, sizeof(double));
    size_t *order = xcalloc(m, sizeof(size_t));
    for (size_t k = 0; k < m; k++) {
        c[k] = rs[idx[k]].centroid;
        h[k] = rs[idx[k]].height;
    }
    cg_grid_number_order(c, h, m, order);
    for (size_t k = 0; k < m; k++)
        rs[idx[order[k]]].ordinal = (int)k + 1;
    free(idx);
    free(c);
    free(h);
    free(order);
}

/* ---- step 2: streets and communities ---- */

static void build_regions(gen *g)
{
    int n = g->n;
    size_t ns = (size_t)g->p.streets, nc = ns * (size_t)g->p.comms;
    rect *srects = xcalloc(ns, sizeof(rect)), *crects = xcalloc(nc, sizeof(rect));
    size_t got = 0;
    split_rect((rect){0, 0, n, n}, g->p.streets, srects, &got);
    assert(got == ns);
    g->streets = xcalloc(ns, sizeof(region));
    g->comms = xcalloc(nc, sizeof(region));
    g->n_streets = ns;
    size_t c = 0;
    for (size_t s = 0; s < ns; s++) {
        g->streets[s].parent = -1;
        g->streets[s].bb = srects[s];
        size_t first = c;
        split_rect(srects[s], g->p.comms, crects, &c);
        for (size_t k = first; k < c; k++) {
            g->comms[k].parent = (int)s;
            g->comms[k].bb = crects[k];
            for (int j = crects[k].j0; j < crects[k].j1; j++)
                for (int i = crects[k].i0; i < crects[k].i1; i++) {
                    g->street_of[j * n + i] = (int)s;
                    g->comm_of[j * n + i] = (int)k;
                    g->cells[j * n + i].street = (int)s;
                    g->cells[j * n + i].comm = (int)k;
                }
        }
    }
    assert(c == nc);
    g->n_comms = nc;
    free(srects);
    free(crects);
}

/* ---- step 3: facility blocks and stations ---- */

static int is_station_vertex(const gen *g, int i, int j)
{
    return i % 8 == 0 && j % 8 == 0 && i > 0 && j > 0 && i < g->n && j < g->n;
}

static int is_bus_vertex(const gen *g, int i, int j)
{
    return i % 4 == 0 && j % 4 == 0 && i > 0 && j > 0 && i < g->n && j < g->n &&
           !is_station_vertex(g, i, j);
}

static cg_grade role_risk(int role)
{
    switch (role) {
    case ROLE_MARKET:
        return CG_GRADE_STRICT;
    case ROLE_SCHOOL:
    case ROLE_HOSPITAL:
        return CG_GRADE_FOCUS;
    case ROLE_COMMERCIAL:
    case ROLE_CIVIC:
        return CG_GRADE_GUARDED;
    default:
        return CG_GRADE_ROUTINE;
    }
}

/* Utility blocks hold power and telecom everywhere, and in turn water, gas, hazardous-material
 * storage or heating by street, so a district has a few of each. */
static int utility_extra(size_t street)
{
    return (int)(street % 4);
}

static void place_facilities(gen *g)
{
    int n = g->n;
    for (size_t s = 0; s < g->n_streets; s++) {
        rect r = g->streets[s].bb;
        int w = r.i1 - r.i0, count = w * (r.j1 - r.j0);
        int *ids = xcalloc((size_t)count, sizeof(int));
        for (int k = 0; k < count; k++)
            ids[k] = (r.j0 + k / w) * n + r.i0 + k % w;
        rng rr = rng_for(g->seed, TAG_FACILITY, s, 0);
        for (int k = 0; k < ROLES_PER_ST && k < count; k++) {
            int pick = rng_int(&rr, k, count - 1), t = ids[k];
            ids[k] = ids[pick];
            ids[pick] = t;
            cell *c = &g->cells[ids[k]];
            c->role = ROLE_SCHOOL + k;
            c->risk = role_risk(c->role);
            if (c->role == ROLE_UTILITY && utility_extra(s) == 2)
                c->risk = CG_GRADE_STRICT; /* hazardous-material store */
        }
        free(ids);
    }
    for (int j = 1; j < n; j++)
        for (int i = 1; i < n; i++)
            if (is_station_vertex(g, i, j))
                g->cells[j * n + i].risk = CG_GRADE_STRICT;
}

/* ---- step 4: households and grids ---- */

/*
 * Cuts a sequence of block household counts into runs of HH_MIN..HH_MAX households, minimising
 * the squared distance of each run from HH_TARGET. O(len^2) over a community's blocks (a few
 * dozen). Fills starts[] with the first index of each run; returns the number of runs, 0 when
 * no valid cut exists.
 */
static int cut_runs(const int *hh, int len, int *starts)
{
    double *best = xcalloc((size_t)len + 1, sizeof(double));
    int *from = xcalloc((size_t)len + 1, sizeof(int));
    for (int k = 1; k <= len; k++) {
        best[k] = INFINITY;
        int sum = 0;
        for (int s = k - 1; s >= 0; s--) {
            sum += hh[s];
            if (sum > HH_MAX)
                break;
            if (sum < HH_MIN || best[s] == INFINITY)
                continue;
            double cost = best[s] + (double)(sum - HH_TARGET) * (sum - HH_TARGET);
            if (cost < best[k]) {
                best[k] = cost;
                from[k] = s;
            }
        }
    }
    int runs = 0;
    if (best[len] != INFINITY) {
        for (int k = len; k > 0; k = from[k])
            runs++;
        int r = runs;
        for (int k = len; k > 0; k = from[k])
            starts[--r] = from[k];
    }
    free(best);
    free(from);
    return runs;
}

static int build_grids(gen *g, cg_err *err)
{
    int n = g->n;
    for (size_t c = 0; c < g->n_comms; c++) {
        rect r = g->comms[c].bb;
        int w = r.i1 - r.i0, rows = r.j1 - r.j0, len = w * rows;
        int *walk = xcalloc((size_t)len, sizeof(int)), *hh = xcalloc((size_t)len, sizeof(int));
        int *starts = xcalloc((size_t)len, sizeof(int));
        for (int row = 0, k = 0; row < rows; row++)
            for (int col = 0; col < w; col++)
                walk[k++] = (r.j0 + row) * n + (row % 2 == 0 ? r.i0 + col : r.i1 - 1 - col);
        int runs = 0;
        for (int attempt = 0; attempt < HH_ATTEMPTS && runs == 0; attempt++) {
            for (int k = 0; k < len; k++) {
                rng rr = rng_for(g->seed, TAG_HH, (uint64_t)walk[k], (uint64_t)attempt);
                hh[k] = g->cells[walk[k]].role == ROLE_RESIDENTIAL
                            ? rng_int(&rr, BLOCK_HH_MIN, BLOCK_HH_MAX)
                            : 0;
            }
            runs = cut_runs(hh, len, starts);
        }
        if (runs == 0) {
            free(walk);
            free(hh);
            free(starts);
            return cg_err_set(err, CG_EINTERNAL, "households",
                              "demo community %zu cannot be cut into grids of %d-%d households", c,
                              HH_MIN, HH_MAX);
        }
        for (int q = 0; q < runs; q++) {
            int end = q + 1 < runs ? starts[q + 1] : len;
            GROW(g->grids, g->n_grids, g->cap_grids);
            region *gr = &g->grids[g->n_grids];
            memset(gr, 0, sizeof *gr);
            gr->parent = (int)c;
            for (int k = starts[q]; k < end; k++) {
                cell *cl = &g->cells[walk[k]];
                cl->households = hh[k];
                cl->grid = (int)g->n_grids;
                g->grid_of[walk[k]] = (int)g->n_grids;
                gr->households += hh[k];
                rect_extend(&gr->bb, walk[k] % n, walk[k] / n);
            }
            g->comms[c].households += gr->households;
            g->n_grids++;
        }
        g->streets[g->comms[c].parent].households += g->comms[c].households;
        free(walk);
        free(hh);
        free(starts);
    }
    return 0;
}

/* ---- step 5: the grid hierarchy as cg_grid records ---- */

static cg_grid *grid_push(gen *g, size_t *cap)
{
    GROW(g->out->grids, g->out->n_grids, *cap);
    cg_grid *gr = &g->out->grids[g->out->n_grids++];
    cg_grid_init(gr);
    return gr;
}

typedef struct {
    int64_t key;
    size_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    int64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return x < y ? -1 : x > y;
}

/* Indexes of regions in code order: by their parent's position in the output, then ordinal. */
static size_t *code_order(const region *rs, size_t n, const region *parents)
{
    keyed *k = xcalloc(n, sizeof(keyed));
    for (size_t q = 0; q < n; q++) {
        int64_t parent = parents ? (int64_t)parents[rs[q].parent].out : 0;
        k[q] = (keyed){parent * 100000 + rs[q].ordinal, q};
    }
    qsort(k, n, sizeof(keyed), cmp_keyed);
    size_t *idx = xcalloc(n, sizeof(size_t));
    for (size_t q = 0; q < n; q++)
        idx[q] = k[q].idx;
    free(k);
    return idx;
}

/* Appends the record of a street, community or grid: its code (numbered by its ordinal under
 * parent_code), level, households and geometry (moved out of the region). NULL on error. */
static cg_grid *emit_region(gen *g, size_t *cap, region *r, cg_level level, const char *parent_code,
                            cg_err *err)
{
    char parent[CG_CODE_MAX];
    snprintf(parent, sizeof parent, "%s", parent_code); /* grid_push may move parent_code */
    r->out = g->out->n_grids;
    cg_grid *gr = grid_push(g, cap);
    if (cg_grid_child_code(parent, level, r->ordinal, gr->code, err) != 0)
        return NULL;
    snprintf(gr->parent_code, sizeof gr->parent_code, "%s", parent);
    gr->level = level;
    gr->households = r->households;
    gr->geom = r->geom;
    r->geom = (cg_mpoly){0};
    gr->area_m2 = cg_mpoly_area_m2(&gr->geom);
    return gr;
}

static int emit_grids(gen *g, cg_err *err)
{
    int n = g->n;
    size_t cap = 0;
    cg_grid *d = grid_push(g, &cap);
    snprintf(d->code, sizeof d->code, "%s", DISTRICT_CODE);
    snprintf(d->name_zh, sizeof d->name_zh, "%s", DISTRICT_NAME_ZH);
    snprintf(d->name_en, sizeof d->name_en, "%s", DISTRICT_NAME_EN);
    d->level = CG_LEVEL_DISTRICT;
    int *all = xcalloc((size_t)n * n, sizeof(int));
    if (trace_region(g, all, 0, (rect){0, 0, n, n}, &d->geom, err) != 0) {
        free(all);
        return -1;
    }
    free(all);
    d->area_m2 = cg_mpoly_area_m2(&d->geom);
    int64_t total = 0;

    number_children(g->streets, g->n_streets, -1);
    for (size_t s = 0; s < g->n_streets; s++)
        number_children(g->comms, g->n_comms, (int)s);
    for (size_t c = 0; c < g->n_comms; c++)
        number_children(g->grids, g->n_grids, (int)c);

    g->street_names = xcalloc(g->n_streets, sizeof(name2));
    g->comm_names = xcalloc(g->n_comms, sizeof(name2));
    size_t *so = code_order(g->streets, g->n_streets, NULL);
    for (size_t k = 0; k < g->n_streets; k++) {
        region *r = &g->streets[so[k]];
        name2 nm = street_name(k);
        g->street_names[so[k]] = nm;
        cg_grid *gr = emit_region(g, &cap, r, CG_LEVEL_STREET, DISTRICT_CODE, err);
        if (!gr) {
            free(so);
            return -1;
        }
        snprintf(gr->name_zh, sizeof gr->name_zh, "%s街道", nm.zh);
        snprintf(gr->name_en, sizeof gr->name_en, "%s Subdistrict", nm.en);
        total += r->households;
    }
    free(so);
    size_t *co = code_order(g->comms, g->n_comms, g->streets);
    for (size_t k = 0; k < g->n_comms; k++) {
        region *r = &g->comms[co[k]];
        name2 nm = community_name(k);
        g->comm_names[co[k]] = nm;
        cg_grid *gr = emit_region(g, &cap, r, CG_LEVEL_COMMUNITY,
                                  g->out->grids[g->streets[r->parent].out].code, err);
        if (!gr) {
            free(co);
            return -1;
        }
        snprintf(gr->name_zh, sizeof gr->name_zh, "%s社区", nm.zh);
        snprintf(gr->name_en, sizeof gr->name_en, "%s Community", nm.en);
    }
    free(co);
    size_t *go = code_order(g->grids, g->n_grids, g->comms);
    for (size_t k = 0; k < g->n_grids; k++) {
        size_t gi = go[k];
        region *r = &g->grids[gi];
        cg_grid *gr = emit_region(g, &cap, r, CG_LEVEL_GRID,
                                  g->out->grids[g->comms[r->parent].out].code, err);
        if (!gr) {
            free(go);
            return -1;
        }
        const name2 *nm = &g->comm_names[r->parent];
        snprintf(gr->name_zh, sizeof gr->name_zh, "%s社区第%d网格", nm->zh, r->ordinal);
        snprintf(gr->name_en, sizeof gr->name_en, "%s Community Grid %d", nm->en, r->ordinal);
        cg_grade grade = CG_GRADE_ROUTINE;
        for (int j = r->bb.j0; j < r->bb.j1; j++)
            for (int i = r->bb.i0; i < r->bb.i1; i++)
                if (g->grid_of[j * n + i] == (int)gi && g->cells[j * n + i].risk > grade)
                    grade = g->cells[j * n + i].risk;
        rng rr = rng_for(g->seed, TAG_GRADE, gi, 0);
        if (grade == CG_GRADE_ROUTINE && rng_unit(&rr) < GUARDED_RANDOM)
            grade = CG_GRADE_GUARDED;
        gr->grade = grade;
    }
    free(go);
    g->out->grids[0].households = (int)total;
    g->out->n_streets = g->n_streets;
    g->out->n_communities = g->n_comms;
    g->out->n_leaf_grids = g->n_grids;
    g->out->households = total;
    g->out->residents = (total * RESIDENTS_X10 + 5) / 10;
    return 0;
}

/* ---- step 6: buildings and points of interest ---- */

typedef struct {
    double u0, v0, u1, v1;
} slot;

/* Four building slots per block: two columns either side of the compound's north-south road
 * (u = 0.5), two rows either side of its east-west footway (v = 0.5), inset from the ring. */
static slot block_slot(int col, int row)
{
    return (slot){0.08 + 0.48 * col, 0.08 + 0.46 * row, 0.44 + 0.48 * col, 0.46 + 0.46 * row};
}

static slot slot_merge(slot a, slot b)
{
    return (slot){fmin(a.u0, b.u0), fmin(a.v0, b.v0), fmax(a.u1, b.u1), fmax(a.v1, b.v1)};
}

static cg_building *building_push(gen *g, int ci, slot s, const char *kind, rng *r)
{
    cg_demo *o = g->out;
    GROW(o->buildings, o->n_buildings, g->cap_buildings);
    cg_building *b = &o->buildings[o->n_buildings++];
    memset(b, 0, sizeof *b);
    b->id = (int64_t)o->n_buildings;
    snprintf(b->kind, sizeof b->kind, "%s", kind);
    int i = ci % g->n, j = ci / g->n;
    double du = (s.u1 - s.u0) * 0.12, dv = (s.v1 - s.v0) * 0.12;
    double u0 = s.u0 + rng_unit(r) * du, u1 = s.u1 - rng_unit(r) * du;
    double v0 = s.v0 + rng_unit(r) * dv, v1 = s.v1 - rng_unit(r) * dv;
    cg_point ring[5] = {cell_point(g, i, j, u0, v0), cell_point(g, i, j, u0, v1),
                        cell_point(g, i, j, u1, v1), cell_point(g, i, j, u1, v0)};
    ring[4] = ring[0];
    cg_mpoly_add_ring_polygon(&b->geom, ring, 5);
    return b;
}

static void poi_push(gen *g, const char *kind, cg_point at, const char *zh, const char *en)
{
    cg_demo *o = g->out;
    GROW(o->pois, o->n_pois, g->cap_pois);
    cg_poi *p = &o->pois[o->n_pois++];
    memset(p, 0, sizeof *p);
    p->id = (int64_t)o->n_pois;
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    snprintf(p->name_zh, sizeof p->name_zh, "%s", zh);
    snprintf(p->name_en, sizeof p->name_en, "%s", en);
    p->at = at;
}

/* A facility: a building of `building_kind` in the slot and a point of interest at its centroid. */
static void facility(gen *g, int ci, slot s, const char *building_kind, const char *poi_kind,
                     const char *zh_suffix, const char *en_suffix, rng *r)
{
    const name2 *st = &g->street_names[g->cells[ci].street];
    cg_building *b = building_push(g, ci, s, building_kind, r);
    snprintf(b->name_zh, sizeof b->name_zh, "%s%s", st->zh, zh_suffix);
    snprintf(b->name_en, sizeof b->name_en, "%s %s", st->en, en_suffix);
    b->levels = rng_int(r, 2, 6);
    if (poi_kind)
        poi_push(g, poi_kind, cg_mpoly_centroid(&b->geom), b->name_zh, b->name_en);
}

static void residential_block(gen *g, int ci, rng *r)
{
    cell *c = &g->cells[ci];
    int t = c->households, nb = t <= 90 ? 2 : t <= 115 ? 3 : 4;
    int order[4] = {0, 1, 2, 3};
    for (int k = 3; k > 0; k--) {
        int m = rng_int(r, 0, k), x = order[k];
        order[k] = order[m];
        order[m] = x;
    }
    double w[4], sum = 0;
    for (int k = 0; k < nb; k++)
        sum += w[k] = 0.8 + 0.4 * rng_unit(r);
    int left = t;
    const name2 *cm = &g->comm_names[c->comm];
    for (int k = 0; k < nb; k++) {
        int hh = k + 1 < nb ? (int)(t * w[k] / sum) : left;
        left -= hh;
        assert(hh >= 20 && hh <= 120);
        cg_building *b =
            building_push(g, ci, block_slot(order[k] % 2, order[k] / 2), "residential", r);
        b->households = hh;
        b->levels = rng_int(r, 6, 18);
        int no = ++g->comm_building_count[c->comm];
        snprintf(b->name_zh, sizeof b->name_zh, "%s小区%d幢", cm->zh, no);
        snprintf(b->name_en, sizeof b->name_en, "%s Residential Building %d", cm->en, no);
    }
}

static void build_places(gen *g)
{
    int n = g->n;
    g->comm_building_count = xcalloc(g->n_comms, sizeof(int));
    int hospital_no = 0;
    for (int ci = 0; ci < n * n; ci++) {
        cell *c = &g->cells[ci];
        rng r = rng_for(g->seed, TAG_BUILDING, (uint64_t)ci, 0);
        slot s00 = block_slot(0, 0), s10 = block_slot(1, 0), s01 = block_slot(0, 1),
             s11 = block_slot(1, 1);
        const name2 *st = &g->street_names[c->street];
        switch (c->role) {
        case ROLE_RESIDENTIAL:
            residential_block(g, ci, &r);
            break;
        case ROLE_SCHOOL:
            facility(g, ci, slot_merge(s00, s10), "school", "school", "小学", "Primary School", &r);
            facility(g, ci, s01, "kindergarten", "kindergarten", "幼儿园", "Kindergarten", &r);
            break;
        case ROLE_MARKET:
            facility(g, ci, slot_merge(s00, s10), "retail", "market", "农贸市场", "Farmers' Market",
                     &r);
            facility(g, ci, s01, "commercial", NULL, "商业楼", "Commercial Building", &r);
            break;
        case ROLE_HOSPITAL:
            if (c->street % 2 == 0) {
                char zh[64], en[96];
                hospital_no++;
                snprintf(zh, sizeof zh, "%s第%d人民医院", DISTRICT_NAME_ZH, hospital_no);
                snprintf(en, sizeof en, "%s No. %d People's Hospital", DISTRICT_NAME_EN,
                         hospital_no);
                cg_building *b = building_push(g, ci, slot_merge(s00, s11), "hospital", &r);
                snprintf(b->name_zh, sizeof b->name_zh, "%s", zh);
                snprintf(b->name_en, sizeof b->name_en, "%s", en);
                b->levels = rng_int(&r, 8, 16);
                poi_push(g, "hospital", cg_mpoly_centroid(&b->geom), zh, en);
            } else {
                facility(g, ci, s00, "hospital", "hospital", "社区卫生服务中心",
                         "Community Health Service Centre", &r);
            }
            break;
        case ROLE_CIVIC:
            facility(g, ci, s00, "civic", "police", "派出所", "Police Station", &r);
            if (c->street % 2 == 0)
                facility(g, ci, s10, "fire_station", "fire_station", "消防救援站", "Fire Station",
                         &r);
            {
                char zh[96], en[128];
                snprintf(zh, sizeof zh, "%s文化广场", st->zh);
                snprintf(en, sizeof en, "%s Cultural Square", st->en);
                poi_push(g, "square", cell_point(g, ci % n, ci / n, 0.27, 0.73), zh, en);
            }
            break;
        case ROLE_UTILITY:
            facility(g, ci, s00, "industrial", "power", "110千伏变电站", "110 kV Substation", &r);
            facility(g, ci, s10, "office", "telecom", "通信机房", "Telecom Exchange", &r);
            facility(g, ci, s11, "industrial", "gas", "燃气调压站", "Gas Regulator Station", &r);
            switch (utility_extra((size_t)c->street)) {
            case 0:
                facility(g, ci, s01, "industrial", "water", "水厂", "Waterworks", &r);
                break;
            case 2:
                facility(g, ci, s01, "warehouse", "hazmat", "危险化学品仓库",
                         "Hazardous Materials Store", &r);
                break;
            case 3:
                facility(g, ci, s01, "industrial", "heating", "供热站", "Heating Station", &r);
                break;
            default:
                break;
            }
            break;
        case ROLE_COMMERCIAL:
            facility(g, ci, s00, "hotel", "hotel", "宾馆", "Hotel", &r);
            facility(g, ci, s10, "office", "finance", "农商银行", "Rural Commercial Bank", &r);
            facility(g, ci, s01, "commercial", NULL, "商业中心", "Shopping Centre", &r);
            facility(g, ci, s11, "commercial", NULL, "写字楼", "Office Tower", &r);
            break;
        default:
            assert(0);
        }
    }
    /* Stations and stops sit just inside the block south-east of their crossing. */
    for (int j = 1; j < n; j++)
        for (int i = 1; i < n; i++) {
            name2 ew = ew_road_name(j), ns = ns_road_name(i);
            char zh[160], en[200];
            if (is_station_vertex(g, i, j)) {
                snprintf(zh, sizeof zh, "地铁%s站", ew.zh);
                snprintf(en, sizeof en, "%s Metro Station", ew.en);
                poi_push(g, "rail_station", cell_point(g, i, j, 0.05, 0.05), zh, en);
            } else if (is_bus_vertex(g, i, j)) {
                snprintf(zh, sizeof zh, "%s%s口", ew.zh, ns.zh);
                snprintf(en, sizeof en, "%s & %s", ew.en, ns.en);
                poi_push(g, "bus_stop", cell_point(g, i, j, 0.05, 0.05), zh, en);
            }
        }
}

/* ---- step 7: roads ---- */

static int64_t vertex_id(const gen *g, int i, int j)
{
    return 1 + (int64_t)j * (g->n + 1) + i;
}

/* Shape node k (1..pieces-1) of the east-going segment from (i,j), or the south-going one. */
static int64_t hseg_id(const gen *g, int i, int j, int k)
{
    return g->base_h + ((int64_t)j * g->n + i) * (g->p.pieces - 1) + (k - 1);
}

static int64_t vseg_id(const gen *g, int i, int j, int k)
{
    return g->base_v + ((int64_t)i * g->n + j) * (g->p.pieces - 1) + (k - 1);
}

static cg_way *way_push(gen *g, size_t n_nodes)
{
    cg_demo *o = g->out;
    GROW(o->ways, o->n_ways, g->cap_ways);
    cg_way *w = &o->ways[o->n_ways++];
    memset(w, 0, sizeof *w);
    w->id = (int64_t)o->n_ways;
    w->node_ids = xcalloc(n_nodes, sizeof(int64_t));
    w->pts = xcalloc(n_nodes, sizeof(cg_point));
    return w;
}

static void road_class(cg_way *w, int line)
{
    if (line % 8 == 0) {
        w->road_class = CG_ROAD_PRIMARY;
        w->maxspeed_kmh = 60;
    } else if (line % 4 == 0) {
        w->road_class = CG_ROAD_SECONDARY;
        w->maxspeed_kmh = 50;
    } else {
        w->road_class = CG_ROAD_RESIDENTIAL;
        w->maxspeed_kmh = 30;
    }
}

/* Lattice line `line` running east (horizontal) or south, segments [a, b). */
static void line_way(gen *g, int horizontal, int line, int a, int b)
{
    int m = g->p.pieces;
    cg_way *w = way_push(g, (size_t)(b - a) * m + 1);
    road_class(w, line);
    name2 nm = horizontal ? ew_road_name(line) : ns_road_name(line);
    snprintf(w->name_zh, sizeof w->name_zh, "%s", nm.zh);
    snprintf(w->name_en, sizeof w->name_en, "%s", nm.en);
    if (w->road_class == CG_ROAD_RESIDENTIAL) {
        rng r = rng_for(g->seed, TAG_ONEWAY, (uint64_t)horizontal, (uint64_t)line);
        if (rng_unit(&r) < 0.2)
            w->oneway = line % 2 ? 1 : -1;
    }
    size_t k = 0;
    for (int s = a; s < b; s++) {
        int i = horizontal ? s : line, j = horizontal ? line : s;
        cg_point p0 = vertex(g, i, j), p1 = horizontal ? vertex(g, i + 1, j) : vertex(g, i, j + 1);
        w->node_ids[k] = vertex_id(g, i, j);
        w->pts[k++] = p0;
        for (int q = 1; q < m; q++) {
            w->node_ids[k] = horizontal ? hseg_id(g, i, j, q) : vseg_id(g, i, j, q);
            w->pts[k++] = segment_point(p0, p1, q, m);
        }
    }
    w->node_ids[k] = horizontal ? vertex_id(g, b, line) : vertex_id(g, line, b);
    w->pts[k++] = horizontal ? vertex(g, b, line) : vertex(g, line, b);
    w->n = k;
}

/* A compound way of class c from node `from` (at bilinear (u0,v0) of block (i,j), or exactly at
 * *at when given: a street's own node) to (u1,v1), shape nodes every ~spacing_m; its last node is
 * `to`, or a fresh node when to is 0. Shared nodes get bit-identical coordinates: both ends are
 * computed from the same constants every time. Returns the id of the last node. */
static int64_t compound_leg(gen *g, int i, int j, cg_road_class c, int64_t from, const cg_point *at,
                            double u0, double v0, int64_t to, double u1, double v1)
{
    cg_point a = at ? *at : cell_point(g, i, j, u0, v0), b = cell_point(g, i, j, u1, v1);
    int k = (int)ceil(cg_distance_m(a, b) / g->p.spacing_m);
    k = k < 1 ? 1 : k;
    cg_way *w = way_push(g, (size_t)k + 1);
    w->road_class = c;
    w->maxspeed_kmh = c == CG_ROAD_SERVICE ? 15 : 0;
    w->node_ids[0] = from;
    w->pts[0] = a;
    for (int q = 1; q <= k; q++) {
        double t = (double)q / k;
        w->node_ids[q] = q == k && to ? to : g->next_node++;
        w->pts[q] = q == k ? b : cell_point(g, i, j, u0 + (u1 - u0) * t, v0 + (v1 - v0) * t);
    }
    w->n = (size_t)k + 1;
    return w->node_ids[k];
}

/* The compound roads of residential block (i,j): gates, ring and cross (see the top comment). */
static void compound_roads(gen *g, int i, int j)
{
    int m = g->p.pieces;
    const double e = COMPOUND_INSET, f = 1 - COMPOUND_INSET;
    /* Gates: street midpoint -> the ring's junction on that side (a fresh node). */
    cg_point ms = segment_point(vertex(g, i, j + 1), vertex(g, i + 1, j + 1), m / 2, m);
    cg_point mn = segment_point(vertex(g, i, j), vertex(g, i + 1, j), m / 2, m);
    cg_point mw = segment_point(vertex(g, i, j), vertex(g, i, j + 1), m / 2, m);
    cg_point me = segment_point(vertex(g, i + 1, j), vertex(g, i + 1, j + 1), m / 2, m);
    int64_t s =
        compound_leg(g, i, j, CG_ROAD_SERVICE, hseg_id(g, i, j + 1, m / 2), &ms, 0.5, 1, 0, 0.5, f);
    int64_t n =
        compound_leg(g, i, j, CG_ROAD_SERVICE, hseg_id(g, i, j, m / 2), &mn, 0.5, 0, 0, 0.5, e);
    int64_t w =
        compound_leg(g, i, j, CG_ROAD_FOOTWAY, vseg_id(g, i, j, m / 2), &mw, 0, 0.5, 0, e, 0.5);
    int64_t ea =
        compound_leg(g, i, j, CG_ROAD_FOOTWAY, vseg_id(g, i + 1, j, m / 2), &me, 1, 0.5, 0, f, 0.5);
    /* The ring, counter-clockwise from the south junction, through the four corners. */
    int64_t c1 = compound_leg(g, i, j, CG_ROAD_SERVICE, s, NULL, 0.5, f, 0, f, f);
    compound_leg(g, i, j, CG_ROAD_SERVICE, c1, NULL, f, f, ea, f, 0.5);
    int64_t c2 = compound_leg(g, i, j, CG_ROAD_SERVICE, ea, NULL, f, 0.5, 0, f, e);
    compound_leg(g, i, j, CG_ROAD_SERVICE, c2, NULL, f, e, n, 0.5, e);
    int64_t c3 = compound_leg(g, i, j, CG_ROAD_SERVICE, n, NULL, 0.5, e, 0, e, e);
    compound_leg(g, i, j, CG_ROAD_SERVICE, c3, NULL, e, e, w, e, 0.5);
    int64_t c4 = compound_leg(g, i, j, CG_ROAD_SERVICE, w, NULL, e, 0.5, 0, e, f);
    compound_leg(g, i, j, CG_ROAD_SERVICE, c4, NULL, e, f, s, 0.5, f);
    /* The cross: north-south service road and east-west footway through a shared centre. */
    int64_t centre = compound_leg(g, i, j, CG_ROAD_SERVICE, s, NULL, 0.5, f, 0, 0.5, 0.5);
    compound_leg(g, i, j, CG_ROAD_SERVICE, centre, NULL, 0.5, 0.5, n, 0.5, e);
    compound_leg(g, i, j, CG_ROAD_FOOTWAY, w, NULL, e, 0.5, centre, 0.5, 0.5);
    compound_leg(g, i, j, CG_ROAD_FOOTWAY, centre, NULL, 0.5, 0.5, ea, f, 0.5);
}

static void build_roads(gen *g)
{
    int n = g->n, m = g->p.pieces;
    g->base_h = 1 + (int64_t)(n + 1) * (n + 1);
    g->base_v = g->base_h + (int64_t)n * (n + 1) * (m - 1);
    g->base_compound = g->base_v + (int64_t)n * (n + 1) * (m - 1);
    g->next_node = g->base_compound;
    for (int horizontal = 1; horizontal >= 0; horizontal--)
        for (int line = 0; line <= n; line++)
            for (int a = 0; a < n; a += WAY_MAX_SEGS)
                line_way(g, horizontal, line, a, a + WAY_MAX_SEGS < n ? a + WAY_MAX_SEGS : n);
    for (int ci = 0; ci < n * n; ci++)
        if (g->cells[ci].role == ROLE_RESIDENTIAL)
            compound_roads(g, ci % n, ci / n);
    g->out->road_nodes = g->next_node - 1;
}

/* ---- public ---- */

int cg_demo_size_parse(const char *s, cg_demo_size *out, cg_err *err)
{
    if (s && strcmp(s, "small") == 0)
        *out = CG_DEMO_SMALL;
    else if (s && strcmp(s, "city") == 0)
        *out = CG_DEMO_CITY;
    else
        return cg_err_set(err, CG_EINVAL, "size", "size '%s' is not one of: small, city",
                          s ? s : "");
    return 0;
}

const char *cg_demo_size_name(cg_demo_size size)
{
    return size == CG_DEMO_CITY ? "city" : size == CG_DEMO_SMALL ? "small" : "";
}

static void gen_free(gen *g)
{
    region *lists[3] = {g->streets, g->comms, g->grids};
    size_t counts[3] = {g->n_streets, g->n_comms, g->n_grids};
    for (int l = 0; l < 3; l++) {
        for (size_t k = 0; lists[l] && k < counts[l]; k++)
            cg_mpoly_free(&lists[l][k].geom);
        free(lists[l]);
    }
    free(g->vert);
    free(g->cells);
    free(g->street_of);
    free(g->comm_of);
    free(g->grid_of);
    free(g->street_names);
    free(g->comm_names);
    free(g->comm_building_count);
}

int cg_demo_generate(uint64_t seed, cg_demo_size size, cg_demo_progress_fn progress, void *ctx,
                     cg_demo *out, cg_err *err)
{
    memset(out, 0, sizeof *out);
    gen g;
    memset(&g, 0, sizeof g);
    if (size == CG_DEMO_SMALL)
        g.p = small_params;
    else if (size == CG_DEMO_CITY)
        g.p = city_params;
    else
        return cg_err_set(err, CG_EINVAL, "size", "unknown demo size %d", (int)size);
    assert(g.p.pieces % 2 == 0);
    g.seed = seed;
    g.n = g.p.n;
    g.out = out;
    size_t cells = (size_t)g.n * g.n;
    g.cells = xcalloc(cells, sizeof(cell));
    g.street_of = xcalloc(cells, sizeof(int));
    g.comm_of = xcalloc(cells, sizeof(int));
    g.grid_of = xcalloc(cells, sizeof(int));

#define STAGE(name)                                                                                \
    do {                                                                                           \
        if (progress)                                                                              \
            progress(ctx, name);                                                                   \
    } while (0)
    STAGE("blocks");
    build_lattice(&g);
    build_regions(&g);
    place_facilities(&g);
    STAGE("grids");
    int rc = build_grids(&g, err);
    if (rc == 0)
        rc = region_geometry(&g, g.street_of, g.streets, g.n_streets, err);
    if (rc == 0)
        rc = region_geometry(&g, g.comm_of, g.comms, g.n_comms, err);
    if (rc == 0)
        rc = region_geometry(&g, g.grid_of, g.grids, g.n_grids, err);
    if (rc == 0)
        rc = emit_grids(&g, err);
    if (rc == 0) {
        STAGE("buildings");
        build_places(&g);
        STAGE("roads");
        build_roads(&g);
    }
#undef STAGE
    gen_free(&g);
    if (rc != 0)
        cg_demo_free(out);
    return rc;
}

void cg_demo_free(cg_demo *d)
{
    for (size_t k = 0; k < d->n_grids; k++)
        cg_grid_free(&d->grids[k]);
    for (size_t k = 0; k < d->n_ways; k++)
        cg_way_free(&d->ways[k]);
    for (size_t k = 0; k < d->n_buildings; k++)
        cg_building_free(&d->buildings[k]);
    free(d->grids);
    free(d->ways);
    free(d->buildings);
    free(d->pois);
    memset(d, 0, sizeof *d);
}
