/*
 * bench_xcore.c - the cross-core round trip: how long one cache line takes to go from the
 * first allowed CPU to the second and back (two OpenMP threads, each pinned, handing a
 * counter to and fro).
 *
 * Context for the rows that synchronise often (the batch-1 loops and the dynamics step at 2
 * threads): on the shared development VM it is ~60-90 ns most of the time and ~350 ns when
 * the hypervisor places the two vCPUs far apart, which it does for tens of seconds at a
 * time; those rows then lose 25-50% while single-threaded ones do not move.
 * Prints `xcore_roundtrip_ns[_LABEL],median of 7 trials,ns,2` (nothing on fewer than 2 CPUs
 * or without OpenMP). Usage: bench_xcore [LABEL]
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>

#define TRIPS 20000
#define TRIALS 7

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}
#endif

int main(int argc, char **argv) {
#ifdef _OPENMP
    cpu_set_t all;
    int cpu[2], n = 0;
    if (sched_getaffinity(0, sizeof all, &all) != 0) return 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &all)) cpu[n++] = c;
    if (n < 2) return 0;
    static _Atomic int turn __attribute__((aligned(64)));
    double ns[TRIALS];
    for (int r = 0; r < TRIALS; r++) {
        atomic_store(&turn, 0);
        double t0 = 0.0;
        #pragma omp parallel num_threads(2)
        {
            const int id = omp_get_thread_num();
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu[id], &one);
            sched_setaffinity(0, sizeof one, &one);   // this thread only
            #pragma omp barrier
            if (id == 0) t0 = now_ns();
            // thread 0 moves the counter from even to odd, thread 1 from odd to even
            for (int i = 0; i < TRIPS; i++) {
                const int want = 2 * i + id;
                while (atomic_load_explicit(&turn, memory_order_acquire) != want) {}
                atomic_store_explicit(&turn, want + 1, memory_order_release);
            }
            if (id == 0) {
                while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * TRIPS) {}
                ns[r] = (now_ns() - t0) / TRIPS;
            }
        }
    }
    qsort(ns, TRIALS, sizeof ns[0], cmp_double);
    printf("xcore_roundtrip_ns%s%s,%.0f,ns,2\n", argc > 1 ? "_" : "", argc > 1 ? argv[1] : "", ns[TRIALS / 2]);
#else
    (void)argc, (void)argv;
#endif
    return 0;
}
