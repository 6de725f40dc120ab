/*
 * dist.h - data-parallel processes over MPI (OpenMPI), or one process.
 *
 * Built with `make MPI=1` (NEMU_MPI defined, linked with libmpi), a program started by
 * mpirun (or srun) is one of N ranks; started any other way, or built without MPI, it is
 * rank 0 of 1 and every call below is a no-op, so the single-process code path is the same
 * code. What goes over the wire are sums (MPI_Allreduce, MPI_SUM): the reduction order is
 * OpenMPI's for a given N and message size, fixed from one run to the next, so two runs
 * with the same N give the same bits.
 *
 * A rank that ends without dist_finalize() (die(), exit(1), a crash of a peer seen as an
 * MPI error) ends the whole job through MPI_Abort with one line naming the rank; mpirun
 * ends the others when a rank is killed. Ranks > 0 write nothing on stdout (it goes to
 * /dev/null); stderr stays theirs.
 */
#ifndef NEMU_DIST_H
#define NEMU_DIST_H

#include <stddef.h>

// MPI_Init when launched by mpirun/srun (a build with MPI); returns the number of ranks.
int dist_init(int *argc, char ***argv);
int dist_rank(void);                       // 0 .. size-1
int dist_size(void);                       // 1 without MPI
int dist_built(void);                      // 1 in a build with MPI
void dist_finalize(void);                  // the normal end (also of a stop on SIGTERM)

// In place: buf = the sum over ranks of buf (every rank gets it).
void dist_sum_floats(float *buf, size_t n);
void dist_sum_doubles(double *buf, int n);
void dist_barrier(void);

// The share of a global batch of n samples that rank r of N takes: [lo, hi).
void dist_share(long n, long *lo, long *hi);
// The most samples a rank takes of a global batch of B: ceil(B / N).
int dist_batch(int B);

// Time spent in dist_sum_floats (seconds), calls and bytes sent per call (n * 4), since
// the last reset; with NEMU_MPI_TIMING=1 a barrier before each sum is timed apart as
// wait (load imbalance) so that `seconds` is the reduction alone.
typedef struct { double seconds, wait; long calls; double bytes; } DistStats;
DistStats dist_stats(void);
void dist_stats_reset(void);

#endif
