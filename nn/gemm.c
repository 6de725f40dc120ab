/*
 * gemm.c - see gemm.h. The gemm() seam over OpenBLAS (or a naive loop), and BLAS start-up:
 * blas_init() makes sure OpenBLAS runs the kernels this CPU supports (re-exec once with
 * OPENBLAS_CORETYPE set when Debian's build picked a lesser core) and blas_set_threads()
 * sets BLAS's own thread count without touching OpenMP's, whichever OpenBLAS variant
 * (pthread, openmp, serial) the system's libopenblas.so.0 is.
 */
// the gemv kernel's a*b + c must be one FMA (ISO C mode turns contraction off by default)
#pragma GCC optimize("fp-contract=fast")

#include "nn/gemm.h"
#include "nn/simd.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef NO_BLAS
#include <cblas.h>
// OpenBLAS extensions, declared here so we do not depend on which cblas.h is installed.
char *openblas_get_corename(void);
#endif

void gemm_naive(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

// y [N] = alpha * B [N, K] (row stride ldb) x a [K] + beta * y: one dot product per row, rows
// in order (one memory stream for the prefetcher), 4 FMA chains reduced by a tree of vector
// adds. OpenBLAS's sgemv
// streams the decoder's 61440x256 first layer at ~20 GB/s here, this at ~40 (bench_gemm).
#define GEMV_PAR_MIN ((size_t)1 << 18)   // multiply-adds below which one thread does it all

static inline float hsum16(const v16 *p) {   // a tree: 4 dependent adds instead of 15
    const v16 v = *p;
    v8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
           __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    v4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    return (b[0] + b[2]) + (b[1] + b[3]);
}

// The 16 lane sums of v[0..15], in order: four levels of shuffle-and-add, each halving the
// partial sums per row while doubling the rows per vector; the lanes come out in bit-reversed
// row order, which the last shuffle undoes.
static inline v16 hsum16x16(const v16 *v) {
    v16 s1[8], s2[4], s3[2];
    for (int i = 0; i < 8; i++)
        s1[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                __builtin_shufflevector(v[2 * i], v[2 * i + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    for (int i = 0; i < 4; i++)
        s2[i] = __builtin_shufflevector(s1[2 * i], s1[2 * i + 1], 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27) +
                __builtin_shufflevector(s1[2 * i], s1[2 * i + 1], 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    for (int i = 0; i < 2; i++)
        s3[i] = __builtin_shufflevector(s2[2 * i], s2[2 * i + 1], 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29) +
                __builtin_shufflevector(s2[2 * i], s2[2 * i + 1], 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    v16 r = __builtin_shufflevector(s3[0], s3[1], 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30) +
            __builtin_shufflevector(s3[0], s3[1], 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    return __builtin_shufflevector(r, r, 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15);
}

// Short rows (K <= 64, e.g. the decoder's first layer, 12800 x 32): 16 rows per block, one
// accumulator each, reduced together.
static void gemv_short_rows(int N, int K, float alpha, const float *B, int ldb, const float *a, float beta,
                            float *y) {
    const int K16 = K & ~15, N16 = N & ~15;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if((size_t)N * K >= GEMV_PAR_MIN)
    #endif
    for (int n0 = 0; n0 < N16; n0 += 16) {
        v16 acc[16];
        for (int j = 0; j < 16; j++) {
            const float *r = B + (size_t)(n0 + j) * ldb;
            v16 s = {0};
            for (int k = 0; k < K16; k += 16) s += *(const v16u *)(r + k) * *(const v16u *)(a + k);
            acc[j] = s;
        }
        v16 d = hsum16x16(acc);
        for (int j = 0; j < 16; j++) {
            const float *r = B + (size_t)(n0 + j) * ldb;
            float t = d[j];
            for (int k = K16; k < K; k++) t += r[k] * a[k];
            y[n0 + j] = alpha * t + (beta == 0.0f ? 0.0f : beta * y[n0 + j]);
        }
    }
    for (int n = N16; n < N; n++) {
        const float *r = B + (size_t)n * ldb;
        float t = 0.0f;
        for (int k = 0; k < K; k++) t += r[k] * a[k];
        y[n] = alpha * t + (beta == 0.0f ? 0.0f : beta * y[n]);
    }
}

static void gemv_rows(int N, int K, float alpha, const float *B, int ldb, const float *a, float beta, float *y) {
    if (K <= 64) {
        gemv_short_rows(N, K, alpha, B, ldb, a, beta, y);
        return;
    }
    const int K64 = K & ~63, K16 = K & ~15;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if((size_t)N * K >= GEMV_PAR_MIN)
    #endif
    for (int n = 0; n < N; n++) {
        const float *r = B + (size_t)n * ldb;
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        int k = 0;
        for (; k < K64; k += 64) {
            a0 += *(const v16u *)(r + k) * *(const v16u *)(a + k);
            a1 += *(const v16u *)(r + k + 16) * *(const v16u *)(a + k + 16);
            a2 += *(const v16u *)(r + k + 32) * *(const v16u *)(a + k + 32);
            a3 += *(const v16u *)(r + k + 48) * *(const v16u *)(a + k + 48);
        }
        for (; k < K16; k += 16) a0 += *(const v16u *)(r + k) * *(const v16u *)(a + k);
        const v16 sum = (a0 + a1) + (a2 + a3);
        float d = hsum16(&sum);
        for (; k < K; k++) d += r[k] * a[k];
        y[n] = alpha * d + (beta == 0.0f ? 0.0f : beta * y[n]);
    }
}

// Scalar remainder of the few-row kernels: C[m][n] for m in [m0, m1), n in [n0, n1), with
// element (m, k) of op(A) at A[m*am + k*ak] and (k, n) of op(B) at B[k*bk + n*bn].
static void gemm_rest(int m0, int m1, int n0, int n1, int k0, int k1, float alpha, const float *A, size_t am,
                      size_t ak, const float *B, size_t bk, size_t bn, float beta, float *C, int ldc) {
    for (int m = m0; m < m1; m++)
        for (int n = n0; n < n1; n++) {
            float t = 0.0f, *c = C + (size_t)m * ldc + n;
            for (int k = k0; k < k1; k++) t += A[m * am + k * ak] * B[k * bk + n * bn];
            *c = alpha * t + (beta == 0.0f ? 0.0f : beta * *c);
        }
}

// C [M, N] = alpha * A [M, K] x B [N, K]^T + beta * C for a few rows (M <= SKINNY_M, e.g.
// the 240x256 model's fully connected layers at batch 16, where OpenBLAS reaches ~55
// GFLOP/s): k in chunks whose rows of A stay in L2, every row of B read once from memory;
// per 4 rows of A and 4 of B, 16 accumulators reduced by one shuffle tree.
#define SKINNY_M 32
// KEEP (simd.h) keeps a vector in a register: GCC would otherwise reload it for each FMA that
// uses it (28 loads per 16 FMAs instead of 8, measured).
#define SKINNY_CHUNK_FLOATS (1 << 15)   // A floats per k chunk (128 KB)

static void gemm_skinny_nt(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    const int M4 = M & ~3, N4 = N & ~3;
    int kc = (SKINNY_CHUNK_FLOATS / M4) & ~15;
    if (kc < 64) kc = 64;
    for (int k0 = 0; k0 < K; k0 += kc) {
        const int k1 = k0 + kc < K ? k0 + kc : K, k16 = k0 + ((k1 - k0) & ~15);
        const float bt = k0 == 0 ? beta : 1.0f;   // later chunks add to C
        #ifdef _OPENMP
        #pragma omp parallel for schedule(static) if((size_t)N * M4 * (k1 - k0) >= GEMV_PAR_MIN)
        #endif
        for (int n0 = 0; n0 < N4; n0 += 4) {
            const float *b = B + (size_t)n0 * ldb;
            for (int m0 = 0; m0 < M4; m0 += 4) {
                const float *a = A + (size_t)m0 * lda;
                v16 acc[16];   // acc[i*4 + j]: row m0+i of A with row n0+j of B
                for (int i = 0; i < 16; i++) acc[i] = (v16){0};
                const float *bn = n0 + 4 < N4 ? b + 4 * (size_t)ldb : b;   // the next 4 rows: prefetched
                for (int k = k0; k < k16; k += 16) {
                    if (m0 == 0)
                        for (int j = 0; j < 4; j++) __builtin_prefetch(bn + (size_t)j * ldb + k, 0, 1);
                    v16 x0 = *(const v16u *)(b + k), x1 = *(const v16u *)(b + ldb + k);
                    v16 x2 = *(const v16u *)(b + 2 * (size_t)ldb + k), x3 = *(const v16u *)(b + 3 * (size_t)ldb + k);
                    KEEP(x0); KEEP(x1); KEEP(x2); KEEP(x3);
                    for (int i = 0; i < 4; i++) {
                        v16 av = *(const v16u *)(a + (size_t)i * lda + k);
                        KEEP(av);
                        acc[i * 4] += av * x0, acc[i * 4 + 1] += av * x1;
                        acc[i * 4 + 2] += av * x2, acc[i * 4 + 3] += av * x3;
                    }
                }
                v16 d = hsum16x16(acc);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        const float *ai = a + (size_t)i * lda, *bj = b + (size_t)j * ldb;
                        float t = d[i * 4 + j];
                        for (int k = k16; k < k1; k++) t += ai[k] * bj[k];
                        float *c = C + (size_t)(m0 + i) * ldc + n0 + j;
                        *c = alpha * t + (bt == 0.0f ? 0.0f : bt * *c);
                    }
            }
        }
    }
    // the rows and columns left: matrix-vector products
    for (int m = M4; m < M; m++) gemv_rows(N, K, alpha, B, ldb, A + (size_t)m * lda, beta, C + (size_t)m * ldc);
    gemm_rest(0, M4, N4, N, 0, K, alpha, A, (size_t)lda, 1, B, 1, (size_t)ldb, beta, C, ldc);
}

// C [M, N] = alpha * A [M, K] x B [K, N] + beta * C for a few rows (M <= SKINNY_M: the fully
// connected layers' input gradient at batch 16): tiles of 8 rows x 32 columns, B's rows in
// chunks of SKINNY_KC that stay in L2 while every row tile passes over them.
#define SKINNY_KC 1024

static void gemm_skinny_nn(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    const int M8 = M & ~7, N32 = N & ~31;
    for (int k0 = 0; k0 < K; k0 += SKINNY_KC) {
        const int k1 = k0 + SKINNY_KC < K ? k0 + SKINNY_KC : K;
        const float bt = k0 == 0 ? beta : 1.0f;   // later chunks add to C
        #ifdef _OPENMP
        #pragma omp parallel for schedule(static) if((size_t)M * N * (k1 - k0) >= GEMV_PAR_MIN)
        #endif
        for (int n = 0; n < N32; n += 32)
            for (int m0 = 0; m0 < M8; m0 += 8) {
                v16 c0[8], c1[8];
                for (int i = 0; i < 8; i++) c0[i] = c1[i] = (v16){0};
                const float *a = A + (size_t)m0 * lda;
                const int pf = m0 == 0 && n + 32 < N32;   // B's rows are far apart: prefetch the next tile's
                for (int k = k0; k < k1; k++) {
                    const float *b = B + (size_t)k * ldb + n;
                    if (pf) __builtin_prefetch(b + 32, 0, 1), __builtin_prefetch(b + 48, 0, 1);
                    v16 b0 = *(const v16u *)b, b1 = *(const v16u *)(b + 16);
                    KEEP(b0); KEEP(b1);
                    for (int i = 0; i < 8; i++) {
                        const float ai = a[(size_t)i * lda + k];
                        c0[i] += b0 * ai, c1[i] += b1 * ai;
                    }
                }
                for (int i = 0; i < 8; i++) {
                    float *c = C + (size_t)(m0 + i) * ldc + n;
                    v16 o0 = c0[i] * alpha, o1 = c1[i] * alpha;
                    if (bt != 0.0f) o0 += *(const v16u *)c * bt, o1 += *(const v16u *)(c + 16) * bt;
                    *(v16u *)c = o0, *(v16u *)(c + 16) = o1;
                }
            }
        gemm_rest(0, M8, N32, N, k0, k1, alpha, A, (size_t)lda, 1, B, (size_t)ldb, 1, bt, C, ldc);
        gemm_rest(M8, M, 0, N, k0, k1, alpha, A, (size_t)lda, 1, B, (size_t)ldb, 1, bt, C, ldc);
    }
}

// C [M, N] = alpha * A^T [M, K] x B [K, N] + beta * C for a short K (K <= SKINNY_M: the fully
// connected layers' weight gradient at batch 16, A = the output gradient [K, M]): tiles of
// 4 rows x 32 columns, each row block over all columns in memory order. C is read and
// written once, with little arithmetic per byte: each tile prefetches the C lines of the
// tile 4 ahead, which the hardware prefetcher does not do for 4 rows at a time (measured on
// the 240x256 model's 61440x256 and 256x61440 gradients: 7.6 -> 3.6 and 5.2 -> 3.3 ms).
#define SKINNY_TN_AHEAD 4

static void gemm_skinny_tn(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    const int M4 = M & ~3, N32 = N & ~31;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if((size_t)M * N * K >= GEMV_PAR_MIN)
    #endif
    for (int m0 = 0; m0 < M4; m0 += 4) {
        for (int n = 0; n < N32; n += 32) {
            int pn = n + SKINNY_TN_AHEAD * 32, pm = m0;
            while (pn >= N32) pn -= N32, pm += 4;
            if (pm < M4)
                for (int i = 0; i < 4; i++) {
                    const float *p = C + (size_t)(pm + i) * ldc + pn;
                    __builtin_prefetch(p, 1), __builtin_prefetch(p + 16, 1);
                }
            v16 c0[4], c1[4];
            for (int i = 0; i < 4; i++) c0[i] = c1[i] = (v16){0};
            for (int k = 0; k < K; k++) {
                const float *b = B + (size_t)k * ldb + n, *a = A + (size_t)k * lda + m0;
                v16 b0 = *(const v16u *)b, b1 = *(const v16u *)(b + 16);
                KEEP(b0); KEEP(b1);
                for (int i = 0; i < 4; i++) c0[i] += b0 * a[i], c1[i] += b1 * a[i];
            }
            for (int i = 0; i < 4; i++) {
                float *c = C + (size_t)(m0 + i) * ldc + n;
                v16 o0 = c0[i] * alpha, o1 = c1[i] * alpha;
                if (beta != 0.0f) o0 += *(const v16u *)c * beta, o1 += *(const v16u *)(c + 16) * beta;
                *(v16u *)c = o0, *(v16u *)(c + 16) = o1;
            }
        }
        gemm_rest(m0, m0 + 4, N32, N, 0, K, alpha, A, 1, (size_t)lda, B, (size_t)ldb, 1, beta, C, ldc);
    }
    gemm_rest(M4, M, 0, N, 0, K, alpha, A, 1, (size_t)lda, B, (size_t)ldb, 1, beta, C, ldc);
}

void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
#ifdef NO_BLAS
    gemm_naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    // One row or one column: a matrix-vector product (sgemm would pack the whole matrix, e.g.
    // the decoder's first layer for a batch-1 frame: 12800x32 floats packed to use them once).
    if (M == 1 && K > 0 && tb && (!ta || lda == 1)) {
        gemv_rows(N, K, alpha, B, ldb, A, beta, C);
    } else if (!ta && tb && M >= 4 && M <= SKINNY_M && N >= 64 && K >= 256) {
        gemm_skinny_nt(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (!ta && !tb && M >= 8 && M <= SKINNY_M && N >= 256 && K >= 256) {
        gemm_skinny_nn(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (ta && !tb && K <= SKINNY_M && M >= 64 && N >= 256 && (size_t)M * N >= ((size_t)1 << 20)) {
        gemm_skinny_tn(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (M == 1 && K > 0) {
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, alpha, B, ldb, A,
                    ta ? lda : 1, beta, C, 1);
    } else if (N == 1 && K > 0) {
        cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, ta ? K : M, ta ? M : K, alpha, A, lda, B,
                    tb ? 1 : ldb, beta, C, ldc);
    } else {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
#endif
}

#ifndef NO_BLAS
// The OpenBLAS core this CPU should get, from cpuid, and the names OpenBLAS 0.3.x gives to
// cores with the same (or better) single-precision kernels; NULL if we have no opinion.
// E.g. AMD Zen 4 is detected as "Cooperlake": SkylakeX's AVX-512 kernels plus bf16.
static const char *wanted_core(const char *const **same) {
#if defined(__x86_64__) && defined(__GNUC__)
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                       "SapphireRapids", NULL};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        *same = avx512;
        return "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *same = avx2;
        return "Haswell";
    }
#endif
    (void)same;
    return NULL;
}
#endif

// Settings that must be in the environment before the libraries load (OpenBLAS reads
// OPENBLAS_CORETYPE, libgomp its wait policy at load time), so blas_init() re-execs the
// program once, argv unchanged, when one is missing:
//  - OPENBLAS_CORETYPE, when the core OpenBLAS chose is below what cpuid says (Debian's
//    0.3.21 takes some AVX-512 Xeons for "Prescott": 65 instead of ~320 GFLOP/s);
//  - GOMP_SPINCOUNT=NEMU_SPINCOUNT (unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT): an
//    idle thread spins that many pause instructions (~0.25 ms on Zen 4) before it sleeps.
//    libgomp's default spin (300000) loses 2-100x as soon as another process takes a core of
//    a shared 2-vCPU machine; sleeping at once (PASSIVE) pays a futex wake-up per parallel
//    region, which costs batch-1 decoding ~20% at 2 threads; the short spin keeps both
//    (bench/README.md). Only for the OpenMP build of OpenBLAS: one thread pool.
// NEMU_BLAS_REEXEC marks the second start and stops any further exec; set it (or the two
// variables) by hand to run without the re-exec, e.g. under valgrind.
#define NEMU_SPINCOUNT "10000"

void blas_init(int argc, char **argv) {
    (void)argc;
#ifndef NO_BLAS
    if (getenv("NEMU_BLAS_REEXEC")) return;
    const char *const *same = NULL;
    const char *want = wanted_core(&same);
    const char *have = openblas_get_corename();
    int fix_core = want && !getenv("OPENBLAS_CORETYPE");
    for (int i = 0; fix_core && have && same[i]; i++)
        if (strcasecmp(have, same[i]) == 0) fix_core = 0;
    int fix_wait = 0;
#ifdef _OPENMP
    fix_wait = !getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT");
#endif
    if (!fix_core && !fix_wait) return;
    if (fix_core) setenv("OPENBLAS_CORETYPE", want, 1);
    if (fix_wait) setenv("GOMP_SPINCOUNT", NEMU_SPINCOUNT, 1);
    setenv("NEMU_BLAS_REEXEC", "1", 1);
    fflush(NULL);
    // /proc/self/exe is this binary even when argv[0] is not a path; argv is passed as is.
    execv("/proc/self/exe", argv);
    // If exec fails we carry on with the slow settings rather than stop the user.
    warn("could not re-exec to set OPENBLAS_CORETYPE=%s / GOMP_SPINCOUNT; running on %s",
         want ? want : "-", have ? have : "?");
#else
    (void)argv;
#endif
}

const char *blas_core(void) {
#ifdef NO_BLAS
    return "naive";
#else
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
#endif
}
