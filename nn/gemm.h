/*
 * gemm.h - the one matmul seam of nemu, and BLAS start-up.
 *
 * Every matrix product goes through gemm(): row-major, PyTorch's layout.
 *   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
 * op(X) = X or X^T (ta/tb nonzero). lda/ldb/ldc are row strides of the stored matrices.
 * Built with OpenBLAS (cblas_sgemm) by default; `make NO_BLAS=1` uses gemm_naive.
 */
#ifndef NEMU_GEMM_H
#define NEMU_GEMM_H

void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

// Plain triple loop with double accumulation: the reference the fast path must equal.
void gemm_naive(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

// Call first thing in main(). OpenBLAS picks its kernels when the library loads, from the
// CPU id or OPENBLAS_CORETYPE; Debian's build misdetects some AVX-512 Xeons as "Prescott"
// (SSE3 kernels, ~5x slower). If the core it chose is not the one this CPU supports and
// the user did not set OPENBLAS_CORETYPE, set it and re-exec the program once.
void blas_init(int argc, char **argv);
const char *blas_core(void);      // e.g. "SkylakeX", or "naive"
// BLAS's thread count: base/threads.h.

#endif
