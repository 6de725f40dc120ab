/*
 * threads.h - the one place that controls threads: OpenMP's team size and BLAS's, for the
 * whole program (run.threads), for a stretch of small ops (serial), and the count the
 * convolutions' workspaces are sized for (cap).
 */
#ifndef NEMU_THREADS_H
#define NEMU_THREADS_H

// The thread count of a program (config key run.threads): n, or every core when n <= 0,
// for OpenMP and BLAS both. Returns the count used.
int threads_use(int n);
// Runs the calls between begin and end on the calling thread only: no OpenMP team for
// our loops and single-threaded BLAS (for small ops, where a fork/join costs more than it
// saves). begin returns the thread count to give back to end. Nests.
int threads_serial_begin(void);
void threads_serial_end(int saved);
// fn(ctx, thread, threads) on nt threads (an OpenMP team); nt <= 1: once on the calling thread,
// between threads_serial_begin and _end (BLAS single-threaded inside it).
void threads_run(int nt, void (*fn)(void *ctx, int thread, int threads), void *ctx);
// Threads per-thread workspaces are sized for: the processor count (at most 256), fixed at
// first use (a larger OMP_NUM_THREADS runs the convolutions on this many threads).
int threads_cap(void);

// OpenMP's thread count and this thread's index; 1 and 0 in a build without OpenMP.
int omp_threads(void);
int omp_thread_id(void);
void omp_use_threads(int n);             // OpenMP's thread count for later parallel regions
int cpu_cores(void);                     // processors available to this process
void blas_set_threads(int n);            // threads BLAS may use inside one gemm call

#endif
