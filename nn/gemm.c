/* gemm.c - see gemm.h. */
#include "nn/gemm.h"
#include "nn/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef NO_BLAS
#include <cblas.h>
// OpenBLAS extensions, declared here so we do not depend on which cblas.h is installed.
char *openblas_get_corename(void);
void openblas_set_num_threads(int n);
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

void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
#ifdef NO_BLAS
    gemm_naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

#ifndef NO_BLAS
// The OpenBLAS core name this CPU should get, from cpuid; NULL if we have no opinion.
static const char *wanted_core(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}
#endif

void blas_init(int argc, char **argv) {
    (void)argc;
#ifndef NO_BLAS
    const char *want = wanted_core();
    if (!want || getenv("OPENBLAS_CORETYPE") || getenv("NEMU_BLAS_REEXEC")) return;
    const char *have = openblas_get_corename();
    if (have && strcasecmp(have, want) == 0) return;
    // Kernels are chosen at load time: set the variable and start over once.
    setenv("OPENBLAS_CORETYPE", want, 1);
    setenv("NEMU_BLAS_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // If exec fails we carry on with the slow kernels rather than stop the user.
    warn("could not re-exec to select OpenBLAS core %s; running on %s", want, have ? have : "?");
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

void blas_set_threads(int n) {
#ifndef NO_BLAS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}
