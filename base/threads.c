/* threads.c - see threads.h. */
#include "base/threads.h"

#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef NO_BLAS
// OpenBLAS extensions, declared here so we do not depend on which cblas.h is installed.
void openblas_set_num_threads(int n);
int openblas_get_parallel(void);   // 0 serial, 1 pthreads, 2 OpenMP
#endif

int omp_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int omp_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void omp_use_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

int cpu_cores(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

void blas_set_threads(int n) {
#ifndef NO_BLAS
    // In the OpenMP build of OpenBLAS, openblas_set_num_threads() is omp_set_num_threads():
    // it would also shrink every later `omp parallel` of ours. Put OpenMP's count back.
    // (That build runs BLAS single-threaded inside our parallel regions by itself.)
#ifdef _OPENMP
    int omp = omp_get_max_threads();
    openblas_set_num_threads(n);
    if (openblas_get_parallel() == 2) omp_set_num_threads(omp);
#else
    openblas_set_num_threads(n);
#endif
#else
    (void)n;
#endif
}

int threads_use(int n) {
    if (n <= 0) n = cpu_cores();
    omp_use_threads(n);
    blas_set_threads(n);
    return n;
}

int threads_serial_begin(void) {
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    if (saved > 1) {
        omp_set_num_threads(1);   // the OpenMP build of OpenBLAS follows this
        blas_set_threads(1);      // the pthread build
    }
    return saved;
#else
    return 1;
#endif
}

void threads_run(int nt, void (*fn)(void *ctx, int thread, int threads), void *ctx) {
    if (nt <= 1) {
        const int saved = threads_serial_begin();
        fn(ctx, 0, 1);
        threads_serial_end(saved);
        return;
    }
#ifdef _OPENMP
    #pragma omp parallel num_threads(nt)
    fn(ctx, omp_get_thread_num(), omp_get_num_threads());
#endif
}

void threads_serial_end(int saved) {
#ifdef _OPENMP
    if (saved > 1) {
        blas_set_threads(saved);
        omp_set_num_threads(saved);
    }
#else
    (void)saved;
#endif
}

int threads_cap(void) {
#ifdef _OPENMP
    static _Atomic int cap = 0;
    int c = cap;
    if (c == 0) {
        c = omp_get_num_procs();
        if (c < 1) c = 1;
        if (c > 256) c = 256;
        cap = c;
    }
    return c;
#else
    return 1;
#endif
}
