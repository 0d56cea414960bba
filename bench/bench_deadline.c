/*
 * Deadline benchmark: cg_calendar_deadline() with the 2026 holiday calendar
 * (tests/data/calendar_2026.json) on random starts over 2025-2027 and random limits (1-8
 * working hours, 1-20 working days, half each), single thread. Prints deadlines per second
 * (median of 5 runs) and the time to rebuild the calendar's tables after a change.
 *
 * usage: bench_deadline [N]   (default 5,000,000 deadlines per run)
 * Target (issue 4): >= 1M deadline computations/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "model/calendar.h"

#define RUNS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    if (n <= 0) {
        fprintf(stderr, "usage: bench_deadline [N]\n");
        return 2;
    }
    cg_calendar *cal = cg_calendar_new();
    char *json;
    size_t len;
    cg_err err = {0};
    if (!cal ||
        cg_read_file(CIVGRID_SOURCE_DIR "/tests/data/calendar_2026.json", &json, &len, 1 << 20)) {
        fprintf(stderr, "cannot read tests/data/calendar_2026.json\n");
        return 1;
    }
    double t0 = now_s();
    if (cg_calendar_import_year(cal, json, len, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", err.field, err.message);
        return 1;
    }
    double rebuild = now_s() - t0;
    free(json);

    int64_t *starts = malloc(sizeof *starts * (size_t)n);
    int *amounts = malloc(sizeof *amounts * (size_t)n);
    if (!starts || !amounts)
        return 1;
    uint64_t x = 88172645463325252ull;
    const int64_t base = 1735660800; /* 2025-01-01 00:00 UTC+8 */
    for (long i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        starts[i] = base + (int64_t)(x % (3ull * 365 * 86400));
        amounts[i] = (int)(x >> 40) % 2 ? 1 + (int)(x >> 44) % 8 : -(1 + (int)(x >> 48) % 20);
    }
    double rates[RUNS];
    int64_t check = 0;
    for (int r = 0; r < RUNS; r++) {
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            int64_t d;
            int a = amounts[i];
            if (cg_calendar_deadline(cal, starts[i], a > 0 ? a : -a,
                                     a > 0 ? CG_UNIT_WORK_HOURS : CG_UNIT_WORK_DAYS, &d, &err)) {
                fprintf(stderr, "deadline failed: %s\n", err.message);
                return 1;
            }
            check += d - starts[i];
        }
        rates[r] = n / (now_s() - t0);
    }
    qsort(rates, RUNS, sizeof rates[0], cmp_double);
    printf("deadlines: %ld per run, median %.2fM/s (min %.2fM/s, max %.2fM/s); target >= 1M/s\n", n,
           rates[RUNS / 2] / 1e6, rates[0] / 1e6, rates[RUNS - 1] / 1e6);
    printf("calendar rebuild after an import: %.3f ms\n", rebuild * 1e3);
    printf("mean deadline distance: %.1f h (checksum)\n", (double)check / RUNS / n / 3600.0);
    free(starts);
    free(amounts);
    cg_calendar_free(cal);
    return 0;
}
