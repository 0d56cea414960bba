/*
 * Covering benchmark: the heuristic of plan/cover.c against CBC's exact answer on instances CBC
 * solves within a minute (prints each gap), then the heuristic alone at city scale: 100,000
 * demand points x 20,000 candidate sites on a synthetic geometric instance whose coverage lists
 * are about the size a 2-minute budget gives in the city demo (a few hundred points each).
 *
 * usage: bench_cover [HEURISTIC_SECONDS]   (local-search time limit at city scale, default 20)
 * Targets (issue 7): heuristic within 3% of CBC's optimum; 100k x 20k in < 60 s in all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "plan/cover.h"
#include "plan/cover_synth.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int solve(const cg_cover_instance *in, cg_cover_problem problem, cg_cover_method method,
                 size_t p, double seconds, cg_cover_result *r)
{
    cg_cover_opts o;
    cg_cover_opts_init(&o);
    o.problem = problem;
    o.method = method;
    o.p = p;
    o.time_limit_s = seconds;
    cg_err err;
    if (cg_cover_solve(in, &o, r, &err) < 0) {
        fprintf(stderr, "bench_cover: %s\n", err.message);
        return -1;
    }
    return 0;
}

static size_t nnz_of(const cg_cover_instance *in)
{
    return in->cover_start[in->n_cand];
}

int main(int argc, char **argv)
{
    double city_s = argc > 1 ? atof(argv[1]) : 20.0;
    cg_err err;
    if (cg_cover_exact_available()) {
        printf("heuristic vs CBC (time limit 60 s each)\n");
        printf("%-28s %-4s %10s %10s %10s %8s %8s %8s\n", "instance", "prob", "heuristic", "cbc",
               "bound", "gap", "heur s", "cbc s");
        static const struct {
            size_t n, m;
            double radius;
            uint64_t seed;
        } sizes[] = {
            {1000, 300, 0.8, 1}, {2000, 500, 0.7, 2}, {4000, 800, 0.6, 3}, {8000, 1500, 0.5, 4}};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            cg_cover_synth_opts so = {sizes[k].n, sizes[k].m, 10.0,         sizes[k].radius,
                                      40,         0,          sizes[k].seed};
            cg_cover_synth s;
            if (cg_cover_synth_make(&so, &s, &err) < 0) {
                fprintf(stderr, "bench_cover: %s\n", err.message);
                return 1;
            }
            for (int pr = CG_COVER_SET; pr <= CG_COVER_MAX; pr++) {
                size_t p = sizes[k].m / 20;
                cg_cover_result h, x;
                if (solve(&s.inst, (cg_cover_problem)pr, CG_COVER_HEURISTIC, p, 2.0, &h) < 0 ||
                    solve(&s.inst, (cg_cover_problem)pr, CG_COVER_EXACT, p, 60.0, &x) < 0)
                    return 1;
                char name[64];
                snprintf(name, sizeof name, "%zux%zu (%.0f/cand)", sizes[k].n, sizes[k].m,
                         (double)nnz_of(&s.inst) / (double)sizes[k].m);
                double gap = cg_cover_gap((cg_cover_problem)pr, h.objective,
                                          x.optimal ? x.objective : x.bound);
                printf("%-28s %-4s %10.0f %10.0f %10.0f %7.2f%% %8.2f %8.2f%s\n", name,
                       cg_cover_problem_name((cg_cover_problem)pr), h.objective, x.objective,
                       x.bound, 100 * gap, h.seconds, x.seconds,
                       x.optimal ? "" : "  (not proven: gap against CBC's bound)");
                cg_cover_result_free(&h);
                cg_cover_result_free(&x);
            }
            cg_cover_synth_free(&s);
        }
    } else {
        printf("built without CBC: no exact comparison\n");
    }

    /* City scale: 20 km square, radius 0.7 km gives ~385 demand points per candidate. */
    double t0 = now_s();
    cg_cover_synth_opts so = {100000, 20000, 20.0, 0.7, 60, 50, 7};
    cg_cover_synth s;
    if (cg_cover_synth_make(&so, &s, &err) < 0) {
        fprintf(stderr, "bench_cover: %s\n", err.message);
        return 1;
    }
    double t_build = now_s() - t0;
    printf("\ncity scale: 100000 demand x 20000 candidates (50 fixed), %zu coverage pairs "
           "(%.0f per candidate), instance built in %.2f s\n",
           nnz_of(&s.inst), (double)nnz_of(&s.inst) / 20000.0, t_build);
    cg_cover_result r;
    if (solve(&s.inst, CG_COVER_SET, CG_COVER_HEURISTIC, 0, city_s, &r) < 0)
        return 1;
    printf("set covering: %zu sites cover %zu of %zu points (%zu uncoverable) in %.2f s, "
           "%zu local-search rounds%s  [target < 60 s: %s]\n",
           r.n_open, r.n_covered, s.inst.n_demand, r.n_uncoverable, r.seconds, r.iterations,
           r.timed_out ? " (time limit)" : "", r.seconds < 60 ? "met" : "MISSED");
    size_t p = r.n_open / 2;
    cg_cover_result_free(&r);
    if (solve(&s.inst, CG_COVER_MAX, CG_COVER_HEURISTIC, p, city_s, &r) < 0)
        return 1;
    printf("maximal covering, p = %zu: %.1f%% of households covered in %.2f s, %zu rounds%s  "
           "[target < 60 s: %s]\n",
           p, 100 * r.covered_weight / r.total_weight, r.seconds, r.iterations,
           r.timed_out ? " (time limit)" : "", r.seconds < 60 ? "met" : "MISSED");
    cg_cover_result_free(&r);
    cg_cover_synth_free(&s);
    return 0;
}
