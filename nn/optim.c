/*
 * optim.c - Adam / AdamW with torch.optim's arithmetic (single-tensor path of torch 1.13),
 * global gradient norm and clip_grad_norm_ (see optim.h).
 *
 * Element-wise state updates run in float, as torch does on float32 tensors; the bias
 * corrections and the step size are computed in double (torch computes them in Python)
 * from the decimal value of each hyper-parameter (0.999f -> 0.999), then rounded to float.
 */
#include "nn/optim.h"
#include "nn/fastmath.h"   // OMP_FOR_IF, sum_double
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#define ADAM_BLOCK 4096

Adam adam_default(float lr) {
    Adam a = {lr, 0.9f, 0.999f, 1e-8f, 0.0f, 0, 0};
    return a;
}

// The double nearest the shortest decimal that rounds to f (0.999f -> 0.999), so that
// hyper-parameters stored as float give the same double arithmetic as Python floats.
static double decimal_of(float f) {
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f) return d;
    }
    return (double)f;
}

// p, g, m, v: [n]
void adam_step(Adam *opt, float *p, const float *g, float *m, float *v, size_t n) {
    CHECK(opt->lr >= 0 && opt->beta1 >= 0 && opt->beta1 < 1 && opt->beta2 >= 0 && opt->beta2 < 1 &&
          opt->eps >= 0 && opt->weight_decay >= 0, "adam_step: bad hyper-parameters");
    opt->t += 1;
    const double lr = decimal_of(opt->lr), b1 = decimal_of(opt->beta1), b2 = decimal_of(opt->beta2);
    const double wd = decimal_of(opt->weight_decay);
    const double bc1 = 1.0 - pow(b1, (double)opt->t), bc2 = 1.0 - pow(b2, (double)opt->t);
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float fb1 = (float)b1, fb2 = (float)b2, f1b1 = (float)(1.0 - b1), f1b2 = (float)(1.0 - b2);
    const float eps = opt->eps;
    const float l2 = opt->decoupled ? 0.0f : (float)wd;
    const float decay = opt->decoupled ? (float)(1.0 - lr * wd) : 1.0f;
    // Blocks of ADAM_BLOCK floats; each element's arithmetic is the same in the vector and
    // the scalar code (no FMA contraction: IEEE mul, add, div and sqrt), so results do not
    // depend on the thread count or the instruction set.
    const size_t nblk = (n + ADAM_BLOCK - 1) / ADAM_BLOCK;
OMP_FOR_IF(n >= ((size_t)1 << 18))
    for (size_t blk = 0; blk < nblk; blk++) {
        size_t i = blk * ADAM_BLOCK, end = i + ADAM_BLOCK < n ? i + ADAM_BLOCK : n;
#if defined(__AVX512F__)
        if (l2 == 0.0f && decay == 1.0f) {
            const __m512 vb1 = _mm512_set1_ps(fb1), vb2 = _mm512_set1_ps(fb2), v1b1 = _mm512_set1_ps(f1b1);
            const __m512 v1b2 = _mm512_set1_ps(f1b2), vbc2 = _mm512_set1_ps(bc2_sqrt), veps = _mm512_set1_ps(eps);
            const __m512 vstep = _mm512_set1_ps(step_size);
            for (; i + 16 <= end; i += 16) {
                __m512 gi = _mm512_loadu_ps(g + i);
                __m512 mi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m + i), vb1), _mm512_mul_ps(v1b1, gi));
                __m512 vi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), vb2),
                                          _mm512_mul_ps(_mm512_mul_ps(v1b2, gi), gi));
                __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), vbc2), veps);
                __m512 pi = _mm512_sub_ps(_mm512_loadu_ps(p + i), _mm512_mul_ps(vstep, _mm512_div_ps(mi, denom)));
                _mm512_storeu_ps(p + i, pi);
                _mm512_storeu_ps(m + i, mi);
                _mm512_storeu_ps(v + i, vi);
            }
        }
#elif defined(__AVX2__)
        if (l2 == 0.0f && decay == 1.0f) {
            const __m256 vb1 = _mm256_set1_ps(fb1), vb2 = _mm256_set1_ps(fb2), v1b1 = _mm256_set1_ps(f1b1);
            const __m256 v1b2 = _mm256_set1_ps(f1b2), vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(eps);
            const __m256 vstep = _mm256_set1_ps(step_size);
            for (; i + 8 <= end; i += 8) {
                __m256 gi = _mm256_loadu_ps(g + i);
                __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), vb1), _mm256_mul_ps(v1b1, gi));
                __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2),
                                          _mm256_mul_ps(_mm256_mul_ps(v1b2, gi), gi));
                __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc2), veps);
                __m256 pi = _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_mul_ps(vstep, _mm256_div_ps(mi, denom)));
                _mm256_storeu_ps(p + i, pi);
                _mm256_storeu_ps(m + i, mi);
                _mm256_storeu_ps(v + i, vi);
            }
        }
#endif
        for (; i < end; i++) {
            float gi = g[i];
            if (l2 != 0.0f) gi = gi + l2 * p[i];
            float pi = decay != 1.0f ? p[i] * decay : p[i];
            float mi = m[i] * fb1 + f1b1 * gi;
            float vi = v[i] * fb2 + f1b2 * gi * gi;
            float denom = sqrtf(vi) / bc2_sqrt + eps;
            p[i] = pi - step_size * (mi / denom);
            m[i] = mi;
            v[i] = vi;
        }
    }
}

// g: [n]
// In double, 8 lanes at a time (sum_double: a chain of dependent adds cost ~37 ms a step for
// the 240x256 model's 34M parameters).
float grad_norm(const float *g, size_t n) { return (float)sqrt(sum_double(g, n, 1)); }

float clip_grad_norm(float *g, size_t n, float max_norm) {
    float norm = grad_norm(g, n);
    if (max_norm <= 0.0f) return norm;
    float coef = (float)((double)max_norm / ((double)norm + 1e-6));
    if (coef < 1.0f)
        for (size_t i = 0; i < n; i++) g[i] *= coef;
    return norm;
}
