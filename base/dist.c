/*
 * dist.c - see dist.h. Without NEMU_MPI: one rank, every call a no-op.
 */
#include "base/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"

static int g_rank, g_size = 1;
static DistStats g_stats;

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
DistStats dist_stats(void) { return g_stats; }
void dist_stats_reset(void) { memset(&g_stats, 0, sizeof g_stats); }

void dist_share(long n, long *lo, long *hi) {
    *lo = n * g_rank / g_size;
    *hi = n * (g_rank + 1) / g_size;
}

int dist_batch(int B) { return (B + g_size - 1) / g_size; }

#ifdef NEMU_MPI
#include <mpi.h>

static int g_mpi, g_done, g_timing;

int dist_built(void) { return 1; }

// A rank leaving without dist_finalize: end the job (the others may wait in a reduction).
static void abort_job(void) {
    if (!g_mpi || g_done) return;
    fprintf(stderr, "%s: rank %d of %d ended early: ending the job\n", progname(), g_rank, g_size);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int dist_init(int *argc, char ***argv) {
    // only under a launcher: started by hand, a build with MPI runs as one process
    const char *launched = getenv("OMPI_COMM_WORLD_SIZE");
    if (!launched) launched = getenv("PMI_SIZE");
    if (!launched) launched = getenv("PMIX_RANK");
    if (!launched) return 1;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) die("MPI_Init failed");
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    atexit(abort_job);
    const char *t = getenv("NEMU_MPI_TIMING");
    g_timing = t && *t && strcmp(t, "0");
    if (g_rank > 0 && !freopen("/dev/null", "w", stdout)) die("cannot send rank %d's stdout to /dev/null", g_rank);
    return g_size;
}

void dist_finalize(void) {
    if (!g_mpi || g_done) return;
    g_done = 1;
    fflush(stdout);
    MPI_Finalize();
}

void dist_sum_floats(float *buf, size_t n) {
    if (g_size == 1) return;
    double t0 = now_seconds();
    if (g_timing) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t1 = now_seconds();
        g_stats.wait += t1 - t0;
        t0 = t1;
    }
    for (size_t off = 0; off < n;) {   // MPI counts are ints
        int c = n - off > (size_t)1 << 30 ? 1 << 30 : (int)(n - off);
        MPI_Allreduce(MPI_IN_PLACE, buf + off, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        off += (size_t)c;
    }
    g_stats.seconds += now_seconds() - t0;
    g_stats.calls++;
    g_stats.bytes = (double)n * sizeof(float);
}

void dist_sum_doubles(double *buf, int n) {
    if (g_size > 1) MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void dist_barrier(void) {
    if (g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
}

#else

int dist_built(void) { return 0; }
int dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 1;
}
void dist_finalize(void) {}
void dist_sum_floats(float *buf, size_t n) { (void)buf, (void)n; }
void dist_sum_doubles(double *buf, int n) { (void)buf, (void)n; }
void dist_barrier(void) {}

#endif
