/*
 * bench_gemm.c - GEMM and threading benchmarks: the floor every model benchmark stands on.
 *
 * Prints CSV rows `name,value,unit,threads` on stdout (best repeat as `name`, median as
 * `name_median`); notes go to stderr. Rows:
 *   peak_fp32_gflops          FMA-only loop, one thread, and that times the OpenMP thread
 *                             count (the machine's real peak, robust to busy neighbours)
 *   sgemm_2048_gflops         C = A*B, 2048^3, BLAS threads = all cores and 1
 *   gemm_<shape>_gflops       the thin GEMMs of a batch-128 80x80 conv autoencoder step
 *                             (im2col over the whole batch; weight grads have N = 16..1024)
 *   gemm_mix_ms               those GEMMs as one step would run them, each followed by an
 *                             OpenMP element-wise loop: the threading-model benchmark
 *   gemm_mix_split_ms         the same work with BLAS single-threaded inside our own
 *                             OpenMP regions (columns split, or K split + reduction)
 * `bench_gemm quick` runs fewer repeats.
 */
#include "nn/gemm.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "base/threads.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

typedef struct { double best, median; } Stat;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Times fn(ctx) `reps` times after `warm` untimed calls; seconds per call, min and median.
static Stat time_calls(void (*fn)(void *), void *ctx, int warm, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < warm; i++) fn(ctx);
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        fn(ctx);
        t[i] = now_seconds() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return (Stat){t[0], t[reps / 2]};
}

static void row(const char *name, double best, double median, const char *unit, int threads) {
    printf("%s,%.6g,%s,%d\n", name, best, unit, threads);
    printf("%s_median,%.6g,%s,%d\n", name, median, unit, threads);
    fflush(stdout);
}

// ---- peak: independent FMA chains (acc += x*y, the GEMM form; acc = acc*x + y runs at
// half speed on Zen 4), enough of them to cover latency x throughput on any x86 core.
#define NCHAIN 24
static float fma_loop(long iters, float xs) {
#if defined(__AVX512F__)
    __m512 acc[NCHAIN], x = _mm512_set1_ps(xs), y = _mm512_set1_ps(1e-9f);
    for (int j = 0; j < NCHAIN; j++) acc[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
        for (int j = 0; j < NCHAIN; j++) acc[j] = _mm512_fmadd_ps(x, y, acc[j]);
    }
    for (int j = 1; j < NCHAIN; j++) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    return _mm512_reduce_add_ps(acc[0]);
#elif defined(__FMA__)
    __m256 acc[NCHAIN / 2], x = _mm256_set1_ps(xs), y = _mm256_set1_ps(1e-9f);
    for (int j = 0; j < NCHAIN / 2; j++) acc[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < NCHAIN / 2; j++) acc[j] = _mm256_fmadd_ps(x, y, acc[j]);
    }
    float out[8], s = 0;
    for (int j = 1; j < NCHAIN / 2; j++) acc[0] = _mm256_add_ps(acc[0], acc[j]);
    _mm256_storeu_ps(out, acc[0]);
    for (int j = 0; j < 8; j++) s += out[j];
    return s;
#else
    float acc[NCHAIN], s = 0;
    for (int j = 0; j < NCHAIN; j++) acc[j] = (float)j;
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < NCHAIN; j++) acc[j] += xs * 1e-9f;
    for (int j = 0; j < NCHAIN; j++) s += acc[j];
    return s;
#endif
}

static double fma_flops_per_iter(void) {
#if defined(__AVX512F__)
    return 2.0 * 16 * NCHAIN;
#elif defined(__FMA__)
    return 2.0 * 8 * (NCHAIN / 2);
#else
    return NCHAIN;
#endif
}

typedef struct { long iters; volatile float sink; } PeakCtx;

static void peak_call(void *p) {   // one thread: robust to a busy neighbour on a shared box
    PeakCtx *c = p;
    c->sink = fma_loop(c->iters, 0.5f + (float)c->iters * 1e-12f);
}

// ---- one GEMM shape, timed
typedef struct {
    int ta, tb, M, N, K;
    const float *A, *B;
    float *C;
} GemmCtx;

static void gemm_call(void *p) {
    GemmCtx *g = p;
    int lda = g->ta ? g->M : g->K, ldb = g->tb ? g->K : g->N;
    gemm(g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, lda, g->B, ldb, 0.0f, g->C, g->N);
}

// ---- the step mix: batch-128 80x80 encoder, im2col over the batch (columns = B*OH*OW)
typedef struct { const char *name; int ta, tb, M, N, K; int act; } MixOp;   // act: OpenMP pass after

#define BATCH 128
static const MixOp MIX[] = {
    // forward: W[OC, C*K*K] x col[C*K*K, B*OH*OW]
    {"conv1_fwd", 0, 0, 32, BATCH * 1600, 16, 1},
    {"conv2_fwd", 0, 0, 64, BATCH * 400, 512, 1},
    {"conv3_fwd", 0, 0, 128, BATCH * 100, 1024, 1},
    // backward, reverse order: dcol = W^T dY, dW = dY col^T
    {"conv3_dcol", 1, 0, 1024, BATCH * 100, 128, 1},
    {"conv3_dw", 0, 1, 128, 1024, BATCH * 100, 0},
    {"conv2_dcol", 1, 0, 512, BATCH * 400, 64, 1},
    {"conv2_dw", 0, 1, 64, 512, BATCH * 400, 0},
    {"conv1_dw", 0, 1, 32, 16, BATCH * 1600, 0},
};
#define NMIX ((int)(sizeof MIX / sizeof MIX[0]))

typedef struct {
    float *A, *B, *C, *part;   // part: per-thread partial C for K-split weight gradients
    size_t part_stride;
    double flops;
    int split;                 // 0: BLAS threads its own calls; 1: our OpenMP splits, BLAS 1 thread
    int nthreads;
} MixCtx;

static void act_pass(float *x, size_t n) {   // stands in for bias + ReLU (or its backward)
#pragma omp parallel for schedule(static)
    for (long i = 0; i < (long)n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.01f * x[i];
}

// This thread's share [*lo, *hi) of n in an OpenMP parallel region (*nt threads); returns its number.
static int thread_share(int n, int *lo, int *hi, int *nt) {
    int t = 0;
    *nt = 1;
#ifdef _OPENMP
    *nt = omp_get_num_threads(), t = omp_get_thread_num();
#endif
    *lo = (int)((long)n * t / *nt), *hi = (int)((long)n * (t + 1) / *nt);
    return t;
}

static void mix_op(const MixCtx *c, const MixOp *o) {
    int lda = o->ta ? o->M : o->K, ldb = o->tb ? o->K : o->N;
    if (!c->split) {
        gemm(o->ta, o->tb, o->M, o->N, o->K, 1.0f, c->A, lda, c->B, ldb, 0.0f, c->C, o->N);
    } else if (!o->tb) {
        // split the columns of C (and B) between threads
#pragma omp parallel
        {
            int n0, n1, nt;
            thread_share(o->N, &n0, &n1, &nt);
            gemm(o->ta, o->tb, o->M, n1 - n0, o->K, 1.0f, c->A, lda, c->B + n0, ldb, 0.0f,
                 c->C + n0, o->N);
        }
    } else {
        // dW = dY col^T: split the long K between threads, then add the partial results
        size_t mn = (size_t)o->M * o->N;
#pragma omp parallel
        {
            int k0, k1, nt, t = thread_share(o->K, &k0, &k1, &nt);
            gemm(0, 1, o->M, o->N, k1 - k0, 1.0f, c->A + k0, lda, c->B + (size_t)k0, ldb, 0.0f,
                 c->part + (size_t)t * c->part_stride, o->N);
#pragma omp barrier
#pragma omp for schedule(static)
            for (long i = 0; i < (long)mn; i++) {
                float s = 0;
                for (int u = 0; u < nt; u++) s += c->part[(size_t)u * c->part_stride + i];
                c->C[i] = s;
            }
        }
    }
    if (o->act) act_pass(c->C, (size_t)o->M * o->N);
}

static void mix_call(void *p) {
    MixCtx *c = p;
    if (c->split) blas_set_threads(1);
    for (int i = 0; i < NMIX; i++) mix_op(c, &MIX[i]);
    if (c->split) blas_set_threads(c->nthreads);
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    blas_init(argc, argv);
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int reps = quick ? 5 : 11, nt = omp_threads();
    fprintf(stderr, "bench_gemm: BLAS core %s, %d OpenMP threads, OMP_WAIT_POLICY=%s\n",
            blas_core(), nt, getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "(unset)");

    // peak: the best single-thread rate over many short repeats, times the thread count
    PeakCtx pk = {200000, 0};
    Stat s = time_calls(peak_call, &pk, 2, 40);
    double pflop = fma_flops_per_iter() * (double)pk.iters;
    row("peak_fp32_gflops", pflop / s.best / 1e9, pflop / s.median / 1e9, "GFLOP/s", 1);
    row("peak_fp32_gflops", nt * pflop / s.best / 1e9, nt * pflop / s.median / 1e9, "GFLOP/s", nt);

    // sgemm 2048^3
    int n = 2048;
    size_t big = (size_t)n * n, bigc = (size_t)n * n;   // operand sizes: the largest of all
    for (int i = 0; i < NMIX; i++) {
        size_t m = (size_t)MIX[i].M, nn = (size_t)MIX[i].N, k = (size_t)MIX[i].K;
        if (m * k > big) big = m * k;
        if (k * nn > big) big = k * nn;
        if (m * nn > bigc) bigc = m * nn;
    }
    float *A = xmalloc_floats(big), *B = xmalloc_floats(big), *C = xmalloc_floats(bigc);
    Rng rng;
    rng_seed(&rng, 1);
    for (size_t i = 0; i < big; i++) A[i] = rng_uniformf(&rng, -1, 1), B[i] = rng_uniformf(&rng, -1, 1);
    GemmCtx g = {0, 0, n, n, n, A, B, C};
    double f = 2.0 * n * n * (double)n;
    s = time_calls(gemm_call, &g, 1, quick ? 3 : 7);
    row("sgemm_2048_gflops", f / s.best / 1e9, f / s.median / 1e9, "GFLOP/s", nt);
    if (nt > 1) {
        // the OpenMP build of OpenBLAS takes its thread count from OpenMP's
        omp_set_num_threads(1);
        blas_set_threads(1);
        s = time_calls(gemm_call, &g, 1, 3);
        row("sgemm_2048_gflops", f / s.best / 1e9, f / s.median / 1e9, "GFLOP/s", 1);
        omp_set_num_threads(nt);
        blas_set_threads(nt);
    }

    // the conv-shaped GEMMs one at a time
    char name[96];
    double mixflops = 0;
    for (int i = 0; i < NMIX; i++) {
        const MixOp *o = &MIX[i];
        GemmCtx gc = {o->ta, o->tb, o->M, o->N, o->K, A, B, C};
        double ff = 2.0 * o->M * (double)o->N * o->K;
        mixflops += ff;
        s = time_calls(gemm_call, &gc, 1, reps);
        snprintf(name, sizeof name, "gemm_%s_gflops", o->name);
        row(name, ff / s.best / 1e9, ff / s.median / 1e9, "GFLOP/s", nt);
    }

    // the mix, both threading models
    MixCtx mc = {A, B, C, NULL, (size_t)1024 * 1024, mixflops, 0, nt};
    mc.part = xmalloc_floats(mc.part_stride * (size_t)nt);
    s = time_calls(mix_call, &mc, 1, reps);
    row("gemm_mix_ms", s.best * 1e3, s.median * 1e3, "ms", nt);
    fprintf(stderr, "gemm_mix: %.2f GFLOP per step, best %.1f GFLOP/s\n", mixflops / 1e9,
            mixflops / s.best / 1e9);
    mc.split = 1;
    s = time_calls(mix_call, &mc, 1, reps);
    row("gemm_mix_split_ms", s.best * 1e3, s.median * 1e3, "ms", nt);
    fprintf(stderr, "gemm_mix_split: best %.1f GFLOP/s\n", mixflops / s.best / 1e9);

    free(mc.part);
    free(A), free(B), free(C);
    return 0;
}
