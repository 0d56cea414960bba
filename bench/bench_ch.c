/*
 * Routing benchmark: contraction-hierarchy queries against the same program's plain Dijkstra on
 * the same random pairs, on real road graphs. For each source it prints the graph's size, graph
 * and hierarchy build times, bytes per node (graph + hierarchy), the mean point-to-point query
 * time (with and without unpacking the route geometry), the mean Dijkstra time on a subset of the
 * same pairs, their ratio (after checking both give the same travel time on every pair), and the
 * mean one-to-many time for one incident and 200 units (units driving to the incident).
 *
 * usage: bench_ch [--pairs N] [--dijkstra N] [--repeat N] [--write-pairs FILE] [SOURCE ...]
 *   --repeat N  times the point-to-point queries N times (each run's mean and median batch of
 *            100 queries), to compare with another router run as often on a shared machine
 *   SOURCE   an OSM extract (.osm.pbf), or demo:city / demo:small (seed 1, generated in memory);
 *            default: ../shared/data/osm/heidelberg.test.pbf (when present) and demo:city
 *   --write-pairs FILE  writes the node-to-node pairs of the last source as lines
 *            "from_lat from_lon to_lat to_lon civgrid_seconds" so another router can be timed on
 *            the same pairs (see bench/README.md: RoutingKit)
 *   --write-graph FILE  writes the last source's car graph (u32 n, u32 m, then tail[m], head[m],
 *            ms[m]) and FILE.pairs ("from_node to_node civgrid_ms" lines), so another router can
 *            build its hierarchy on exactly this graph and be timed on exactly these pairs
 * Targets (issue 7): >= 500x Dijkstra on the city; <= 160 bytes/node; one-to-many < 1 ms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/demo.h"
#include "net/route.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: what the batches of queries are timed with, so time the core spent on
 * other processes (two cores shared by several jobs) is not counted; cache misses they cause
 * still are. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Nodes split for turn restrictions: arriving "at" one may mean arriving at any of its copies,
 * which a node-to-node router cannot be asked, so the random pairs avoid them. */
static unsigned char *split_nodes;

/* A random graph node as a road position: the node's own point, snapped. */
static void random_node_snap(const cg_graph *g, cg_snap *s)
{
    cg_err err;
    for (;;) {
        uint32_t v = (uint32_t)(next_rand() % cg_graph_node_count(g));
        if (cg_graph_node_origin(g, v) != v || (split_nodes && split_nodes[v]))
            continue;
        if (cg_graph_snap(g, cg_graph_node_point(g, v), 1.0, s, &err) == 0)
            return;
    }
}

/* The graph and the pairs as node ids, for another router (see the usage above). */
static void write_graph(const cg_graph *g, const char *path, const cg_snap *a, const cg_snap *b,
                        const double *sec, int n_pairs)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    uint32_t n = cg_graph_node_count(g), m = cg_graph_edge_count(g);
    fwrite(&n, 4, 1, f);
    fwrite(&m, 4, 1, f);
    for (int field = 0; field < 3; field++)
        for (uint32_t v = 0; v < n; v++)
            for (uint32_t e = cg_graph_out_begin(g, v); e < cg_graph_out_end(g, v); e++) {
                uint32_t x = field == 0   ? v
                             : field == 1 ? cg_graph_edge_to(g, e)
                                          : cg_graph_edge_ms(g, e);
                fwrite(&x, 4, 1, f);
            }
    fclose(f);
    char pp[4096];
    snprintf(pp, sizeof pp, "%s.pairs", path);
    f = fopen(pp, "w");
    for (int i = 0; f && i < n_pairs; i++) {
        /* Node pairs: each position sits on a node (fraction 0 or 1 of its edge). A start at
         * the head of a segment leaves from that head, a turn-restriction copy included; an
         * arrival there may come from any side, so it is the original node. */
        cg_edge ea, eb;
        cg_graph_edge(g, a[i].edge, &ea);
        cg_graph_edge(g, b[i].edge, &eb);
        fprintf(f, "%u %u %.0f\n", a[i].fraction < 0.5 ? ea.from : ea.to,
                b[i].fraction < 0.5 ? eb.from : cg_graph_node_origin(g, eb.to), sec[i] * 1000);
    }
    if (f)
        fclose(f);
    /* Driving distance (2 minutes) from the first 20 start nodes: what pgr_drivingDistance is
     * checked against (FILE.dd: node, nodes reached, sum of their seconds). */
    snprintf(pp, sizeof pp, "%s.dd", path);
    f = fopen(pp, "w");
    cg_search *s;
    cg_err err;
    if (!f || cg_search_new(g, &s, &err)) {
        if (f)
            fclose(f);
        return;
    }
    double t = 0;
    int k = 0;
    for (; k < 20 && k < n_pairs; k++) {
        cg_edge ea;
        cg_graph_edge(g, a[k].edge, &ea);
        uint32_t v = a[k].fraction < 0.5 ? ea.from : ea.to;
        double t0 = now_s();
        cg_search_bounded_nodes(s, &v, 1, 120.0, CG_FORWARD, &err);
        t += now_s() - t0;
        double sum = 0;
        for (size_t i = 0; i < cg_search_reached_count(s); i++)
            sum += cg_search_seconds(s, cg_search_reached(s)[i]);
        fprintf(f, "%u %zu %.3f\n", v, cg_search_reached_count(s), sum);
    }
    fclose(f);
    printf("driving distance (120 s, one source): %.3f ms per search (mean of %d)\n", t / k * 1e3,
           k);
    cg_search_free(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void progress(void *ctx, const char *stage, double f)
{
    (void)ctx;
    if (isatty(2))
        fprintf(stderr, "\r  %-20s %3d%%", stage, (int)(f * 100));
}

static int run(const char *source, int n_pairs, int n_dijkstra, int repeat, const char *pairs_out,
               const char *graph_out)
{
    cg_graph_build_opts o = {0};
    o.profile = CG_PROFILE_CAR;
    o.build_ch = 1;
    o.progress = progress;
    cg_graph *g = NULL;
    cg_graph_stats st;
    cg_err err;
    int rc;
    double t0 = now_s();
    if (strncmp(source, "demo:", 5) == 0) {
        cg_demo_size size;
        cg_demo d;
        if (cg_demo_size_parse(source + 5, &size, &err) ||
            cg_demo_generate(1, size, NULL, NULL, &d, &err)) {
            fprintf(stderr, "%s: %s\n", source, err.message);
            return 1;
        }
        rc = cg_graph_build_ways(d.ways, d.n_ways, &o, &g, &st, &err);
        cg_demo_free(&d);
    } else {
        rc = cg_graph_build_pbf(source, &o, &g, &st, &err);
    }
    if (isatty(2))
        fprintf(stderr, "\r%40s\r", "");
    if (rc) {
        fprintf(stderr, "%s: %s\n", source, err.message);
        return 1;
    }
    printf("== %s (car)\n", source);
    printf("graph: %lld nodes, %lld edges, %lld turn restrictions applied; %lld nodes dropped "
           "outside the largest SCC\n",
           (long long)st.nodes, (long long)st.edges, (long long)st.restrictions_applied,
           (long long)st.nodes_dropped);
    printf("build: graph %.2f s, hierarchy %.2f s (whole load %.1f s); %.1f bytes/node (goal "
           "<= 160)\n",
           st.build_s, st.ch_s, now_s() - t0, (double)st.bytes / st.nodes);

    free(split_nodes);
    split_nodes = calloc(cg_graph_node_count(g), 1);
    for (uint32_t v = 0; split_nodes && v < cg_graph_node_count(g); v++)
        split_nodes[cg_graph_node_origin(g, v)] |= cg_graph_node_origin(g, v) != v;
    cg_snap *a = malloc(sizeof(cg_snap) * n_pairs), *b = malloc(sizeof(cg_snap) * n_pairs);
    double *ch_s = malloc(sizeof(double) * n_pairs);
    for (int i = 0; i < n_pairs; i++) {
        random_node_snap(g, &a[i]);
        random_node_snap(g, &b[i]);
    }
    cg_search *s;
    if (cg_search_new(g, &s, &err))
        return 1;
    cg_path p;
    /* Warm the caches once, then time. */
    for (int i = 0; i < n_pairs && i < 100; i++) {
        cg_route_ch(s, &a[i], &b[i], 0, &p, &err);
    }
    /* Timed in batches of 100 queries: the mean over all of them (wall clock), and the median
     * batch in this thread's CPU time, which a neighbour taking the core moves much less than
     * the mean on a shared machine (compare routers by the median, each over several runs). */
    enum { BATCH = 100 };
    int n_batches = (n_pairs + BATCH - 1) / BATCH;
    double *batch = malloc(sizeof(double) * n_batches);
    double t;
    for (int rep = 1; rep < repeat; rep++) { /* extra runs of the same timing (--repeat) */
        t = now_s();
        for (int bi = 0; bi < n_batches; bi++) {
            double tb = cpu_s();
            int i = bi * BATCH, end = i + BATCH < n_pairs ? i + BATCH : n_pairs;
            for (; i < end; i++)
                cg_route_ch(s, &a[i], &b[i], 0, &p, &err);
            batch[bi] = (cpu_s() - tb) / (end - bi * BATCH);
        }
        double mean = (now_s() - t) / n_pairs;
        qsort(batch, n_batches, sizeof *batch, cmp_double);
        printf("point-to-point run %d: hierarchy %.1f us/query, median batch %.2f us\n", rep,
               mean * 1e6, batch[n_batches / 2] * 1e6);
    }
    t = now_s();
    for (int bi = 0; bi < n_batches; bi++) {
        double tb = cpu_s();
        for (int i = bi * BATCH; i < n_pairs && i < (bi + 1) * BATCH; i++) {
            if (cg_route_ch(s, &a[i], &b[i], 0, &p, &err))
                return 1;
            ch_s[i] = p.seconds;
        }
        int in_batch = n_pairs - bi * BATCH < BATCH ? n_pairs - bi * BATCH : BATCH;
        batch[bi] = (cpu_s() - tb) / in_batch;
    }
    double ch_mean = (now_s() - t) / n_pairs;
    qsort(batch, n_batches, sizeof *batch, cmp_double);
    double ch_median = batch[n_batches / 2];
    free(batch);
    t = now_s();
    for (int i = 0; i < n_pairs; i++) {
        cg_route_ch(s, &a[i], &b[i], 1, &p, &err);
        cg_path_free(&p);
    }
    double ch_geom_mean = (now_s() - t) / n_pairs;
    int nd = n_dijkstra < n_pairs ? n_dijkstra : n_pairs, mismatches = 0;
    double ch_sub = 0;
    t = now_s();
    for (int i = 0; i < nd; i++) {
        cg_route_dijkstra(s, &a[i], &b[i], 0, &p, &err);
        mismatches += p.seconds != ch_s[i];
    }
    double dj_mean = (now_s() - t) / nd;
    for (int rep = 0; rep < 2; rep++) { /* the first pass warms what Dijkstra evicted */
        t = now_s();
        for (int i = 0; i < nd; i++)
            cg_route_ch(s, &a[i], &b[i], 0, &p, &err);
        ch_sub = (now_s() - t) / nd;
    }
    printf("point-to-point: hierarchy %.1f us/query (%d pairs; median batch of %d: %.2f us), "
           "%.1f us with geometry\n",
           ch_mean * 1e6, n_pairs, BATCH, ch_median * 1e6, ch_geom_mean * 1e6);
    printf("                Dijkstra %.2f ms/query on the first %d pairs; hierarchy on the same "
           "pairs %.1f us: ratio %.0fx (goal >= 500x on the city); %d travel times differ\n",
           dj_mean * 1e3, nd, ch_sub * 1e6, dj_mean / ch_sub, mismatches);

    enum { UNITS = 200, ROUNDS = 200 };
    cg_snap units[UNITS], incident;
    double sec[UNITS];
    double otm = 0;
    int otm_bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        random_node_snap(g, &incident);
        for (int k = 0; k < UNITS; k++)
            random_node_snap(g, &units[k]);
        t = cpu_s();
        cg_route_one_to_many(s, &incident, units, UNITS, CG_BACKWARD, sec, &err);
        otm += cpu_s() - t;
        if (r < 5)
            for (int k = 0; k < UNITS; k++) {
                cg_route_ch(s, &units[k], &incident, 0, &p, &err);
                otm_bad += p.seconds != sec[k];
            }
    }
    printf("one-to-many: 1 incident <- %d units: %.3f ms (mean of %d, thread CPU time; goal < 1 "
           "ms); %d of %d "
           "checked times differ from point-to-point\n",
           UNITS, otm / ROUNDS * 1e3, ROUNDS, otm_bad, 5 * UNITS);
    /* Dispatch's real shape: the same units, incident after incident. */
    cg_targets *pin;
    t = cpu_s();
    if (cg_targets_pin(s, units, UNITS, CG_BACKWARD, &pin, &err))
        return 1;
    double pin_s = cpu_s() - t, q = 0;
    int pin_bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        random_node_snap(g, &incident);
        t = cpu_s();
        cg_targets_query(s, pin, &incident, sec, &err);
        q += cpu_s() - t;
        if (r < 5)
            for (int k = 0; k < UNITS; k++) {
                cg_route_ch(s, &units[k], &incident, 0, &p, &err);
                pin_bad += p.seconds != sec[k];
            }
    }
    printf("             pinned units: %.3f ms per incident (mean of %d) after pinning %d units "
           "once in %.3f ms; %d of %d checked times differ\n",
           q / ROUNDS * 1e3, ROUNDS, UNITS, pin_s * 1e3, pin_bad, 5 * UNITS);
    cg_targets_free(pin);
    otm_bad += pin_bad;
    if (graph_out)
        write_graph(g, graph_out, a, b, ch_s, n_pairs);
    if (pairs_out) {
        FILE *f = fopen(pairs_out, "w");
        for (int i = 0; f && i < n_pairs; i++)
            fprintf(f, "%.7f %.7f %.7f %.7f %.3f\n", a[i].at.y, a[i].at.x, b[i].at.y, b[i].at.x,
                    ch_s[i]);
        if (f)
            fclose(f);
    }
    cg_search_free(s);
    free(a);
    free(b);
    free(ch_s);
    cg_graph_free(g);
    return mismatches || otm_bad;
}

int main(int argc, char **argv)
{
    int n_pairs = 10000, n_dijkstra = 100, repeat = 1;
    const char *pairs_out = NULL, *graph_out = NULL;
    const char *sources[16];
    int n_sources = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
            n_pairs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dijkstra") == 0 && i + 1 < argc)
            n_dijkstra = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--write-pairs") == 0 && i + 1 < argc)
            pairs_out = argv[++i];
        else if (strcmp(argv[i], "--write-graph") == 0 && i + 1 < argc)
            graph_out = argv[++i];
        else if (n_sources < 16)
            sources[n_sources++] = argv[i];
    }
    if (n_pairs < 1 || n_dijkstra < 1 || repeat < 1) {
        fprintf(stderr, "usage: bench_ch [--pairs N] [--dijkstra N] [--repeat N] [--write-pairs "
                        "FILE] [--write-graph FILE] [SOURCE ...]\n");
        return 2;
    }
    if (n_sources == 0) {
        static const char heidelberg[] = "../shared/data/osm/heidelberg.test.pbf";
        if (access(heidelberg, R_OK) == 0)
            sources[n_sources++] = heidelberg;
        else
            printf("(skipping Heidelberg: %s is absent)\n", heidelberg);
        sources[n_sources++] = "demo:city";
    }
    int bad = 0;
    for (int i = 0; i < n_sources; i++) {
        bad |= run(sources[i], n_pairs, n_dijkstra, repeat, pairs_out, graph_out);
        printf("\n");
    }
    return bad;
}
