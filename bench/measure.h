/*
 * measure.h - the timing loop the model benches share (bench_models.c, bench_spatial.c):
 * a warm-up of at least `warm` untimed calls and a tenth of the budget (a fresh process's
 * threads and pages need it), then timed calls until the budget is spent (at least 3, at
 * most MEASURE_MAX_REPS: ~4 s of the fastest row, the dynamics step at ~0.2 ms); the best
 * and the median. Header-only, as each bench is one program.
 */
#ifndef NEMU_BENCH_MEASURE_H
#define NEMU_BENCH_MEASURE_H

#include <stdlib.h>
#include "base/clock.h"
#include "base/threads.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define MEASURE_MAX_REPS 20000

typedef struct { double best, median; } Stat;

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline void set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    blas_set_threads(n);
}

// Seconds per call, best and median.
static inline Stat measure_s(void (*fn)(void *), void *ctx, int warm, double budget) {
    static double t[MEASURE_MAX_REPS];
    int n = 0;
    double end = now_seconds() + 0.1 * budget;
    for (int i = 0; i < warm || now_seconds() < end; i++) fn(ctx);
    end = now_seconds() + budget;
    while (n < MEASURE_MAX_REPS && (n < 3 || now_seconds() < end)) {
        double t0 = now_seconds();
        fn(ctx);
        t[n++] = now_seconds() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return (Stat){t[0], t[n / 2]};
}

// Rate = per_call / seconds, best and median.
static inline Stat measure(void (*fn)(void *), void *ctx, double per_call, int warm, double budget) {
    Stat s = measure_s(fn, ctx, warm, budget);
    return (Stat){per_call / s.best, per_call / s.median};
}

#endif
