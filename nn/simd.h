/*
 * simd.h - the 16-float vector the hand-written kernels use (nn/gemm.c, nn/conv_direct.c,
 * nn/conv_wino.c), with GCC vector extensions: one AVX-512 register, two AVX2 registers (or
 * four SSE) elsewhere. Internal to nn/.
 *   v16 / v16u            the vector, aligned / at any float address (*(v16u *)p loads p[0..15])
 *   v8, v4                halves and quarters (reduction trees)
 *   load_n / store_n      the first n (up to 16) lanes only: nothing past them is read or written
 *   evens / odds          the even / odd floats of 32 consecutive ones, as one vector each
 *   ZIP_LO, ZIP_HI        __builtin_shufflevector masks interleaving two vectors (low / high halves)
 *   SHIFT1                (a, b) -> a15, b0..b14
 *   KEEP(v)               keeps v in a register (GCC would reload it for each FMA; AVX-512 only)
 * A file that includes it defines its own floating-point contraction (the kernels want
 * "fp-contract=fast": a*b + c as one FMA) with #pragma GCC optimize before this include.
 */
#ifndef NEMU_SIMD_H
#define NEMU_SIMD_H

#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

// 16-float vectors passed between static inline helpers: no ABI to keep (GCC warns about it
// on targets without AVX-512)
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));   // unaligned access
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));
typedef int vi16 __attribute__((vector_size(64)));   // masks of v16 compares
#define VL 16

// v where m > 0, else 0 (a ReLU's mask applied to a gradient; relu_mask(v, v) is ReLU itself)
static inline v16 relu_mask(v16 v, v16 m) { return (v16)((vi16)v & (vi16)(m > 0.0f)); }

// All ones in lanes 0..n-1, zero in the others: `(v16)((vi16)v & live_lanes(n))` keeps n lanes.
static inline vi16 live_lanes(int n) {
    const vi16 lanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return lanes < n;
}

#ifdef __AVX512F__
static inline v16 load_n(const float *p, int n) {
    return (v16)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
static inline void store_n(float *p, v16 v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#define KEEP(v) __asm__("" : "+v"(v))
#else
static inline v16 load_n(const float *p, int n) {
    float b[16] = {0};
    memcpy(b, p, sizeof(float) * n);
    return *(v16u *)b;
}
static inline void store_n(float *p, v16 v, int n) {
    float b[16];
    *(v16u *)b = v;
    memcpy(p, b, sizeof(float) * n);
}
#define KEEP(v) ((void)0)
#endif

#define EVEN16 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD16 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
static inline v16 evens(const float *s) {
    return __builtin_shufflevector(*(const v16u *)s, *(const v16u *)(s + 16), EVEN16);
}
static inline v16 odds(const float *s) {
    return __builtin_shufflevector(*(const v16u *)s, *(const v16u *)(s + 16), ODD16);
}

#define ZIP_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define ZIP_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define SHIFT1 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30

#endif
