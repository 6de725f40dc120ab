/*
 * fastmath.h - internal to nn/: OpenMP loop macros, double sums in vector lanes, and
 * branch-free float exp / erfc / sigmoid that the compiler vectorises (no libm calls).
 */
#ifndef NEMU_FASTMATH_H
#define NEMU_FASTMATH_H

#include <math.h>
#include <stddef.h>

#define PRAGMA_(x) _Pragma(#x)
// Parallel loop over independent outputs, only when there is enough work to pay for the
// fork/join (on a busy 2-core machine one costs up to a time slice); nothing without OpenMP.
#ifdef _OPENMP
#define OMP_FOR_IF(cond) PRAGMA_(omp parallel for schedule(static) if(cond))
#define OMP_SIMD PRAGMA_(omp simd)
#define OMP_SIMD_SUM(v) PRAGMA_(omp simd reduction(+:v))
#else
#define OMP_FOR_IF(cond)
#define OMP_SIMD
#define OMP_SIMD_SUM(v)
#endif
// Element-wise passes below this many floats run on the calling thread.
#define EW_PAR_MIN ((size_t)1 << 18)

// sum(x[i]) (square = 0) or sum(x[i]^2) (square = 1) in double, 8 lanes at a time (one
// vector; a single chain of dependent adds costs 4 cycles per element). The order is fixed,
// so the result does not depend on the thread count.
static inline double sum_double(const float *x, size_t n, const int square) {
    double a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += square ? (double)x[i + k] * x[i + k] : (double)x[i + k];
    double acc = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; i < n; i++) acc += square ? (double)x[i] * x[i] : (double)x[i];
    return acc;
}

// exp(x), relative error ~2e-7; x is clamped to [-103, 88.7] (exp(-103) is subnormal, 0 below);
// NaN in gives NaN out, so the trainer's NaN guard still sees it.
static inline float exp_approx(float xin) {
    float x = xin < -103.0f ? -103.0f : xin;
    x = x > 88.7f ? 88.7f : x;
    x = x == x ? x : 0.0f;   // NaN: compute on 0 (no UB in the int conversion), return NaN below
    const float shift = 12582912.0f;                     // 1.5 * 2^23: round to nearest
    float n = (x * 1.44269504088896341f + shift) - shift;
    float r = fmaf(n, -0.693145751953125f, x);           // ln2 split in hi + lo
    r = fmaf(n, -1.42860682030941723212e-6f, r);
    float p = 1.0f / 5040.0f;                            // Taylor to r^7 on |r| <= 0.35
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    // 2^n as two normal factors, so that n down to -149 (subnormal results) works
    int ni = (int)n, n1 = ni / 2, n2 = ni - n1;
    union { int i; float f; } s1 = {(n1 + 127) << 23}, s2 = {(n2 + 127) << 23};
    float res = p * s1.f * s2.f;
    return xin == xin ? res : xin;
}

// Phi(x) = P(N(0,1) <= x) = erfc(|x|/sqrt2)/2 mirrored, given e = exp(-x^2/2) (GELU needs e
// for its derivative too, so one exp serves both). erfc(z) = t exp(-z^2) R(t), t = 1/(1+z/2),
// R a degree-8 polynomial fitted to relative error 1.9e-7 on z in [0, 10.5] (beyond, Phi is
// below float's range). Measured against double erfc: relative error < 7.5e-7 for |x| < 5,
// < 4.1e-6 down to Phi = 1e-38 (x = -13; the float rounding of x^2 in the exponent).
static inline float phi_cdf_e(float x, float e) {
    float z = fabsf(x) * 0.70710678118654752f;
    float t = 1.0f / fmaf(0.5f, z, 1.0f);
    float r = -0.0591943413f;
    r = fmaf(r, t, 0.285187572f);
    r = fmaf(r, t, -0.488470256f);
    r = fmaf(r, t, 0.279522777f);
    r = fmaf(r, t, -0.0276300311f);
    r = fmaf(r, t, 0.203112513f);
    r = fmaf(r, t, 0.242996007f);
    r = fmaf(r, t, 0.282390147f);
    r = fmaf(r, t, 0.282085568f);
    float h = 0.5f * t * e * r;
    return x >= 0.0f ? 1.0f - h : h;
}

static inline float phi_cdf(float x) { return phi_cdf_e(x, exp_approx(-0.5f * x * x)); }

static inline float sigmoid1(float x) {
    float e = exp_approx(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

#endif
