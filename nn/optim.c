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

// The widest vector of the build for Adam's update, written once over it (the same
// intrinsics per width as before, so the same instructions and results).
#if defined(__AVX512F__)
#define AV_W 16
typedef __m512 AVec;
#define av_set1 _mm512_set1_ps
#define av_load _mm512_loadu_ps
#define av_store _mm512_storeu_ps
#define av_add _mm512_add_ps
#define av_sub _mm512_sub_ps
#define av_mul _mm512_mul_ps
#define av_div _mm512_div_ps
#define av_sqrt _mm512_sqrt_ps
#elif defined(__AVX2__)
#define AV_W 8
typedef __m256 AVec;
#define av_set1 _mm256_set1_ps
#define av_load _mm256_loadu_ps
#define av_store _mm256_storeu_ps
#define av_add _mm256_add_ps
#define av_sub _mm256_sub_ps
#define av_mul _mm256_mul_ps
#define av_div _mm256_div_ps
#define av_sqrt _mm256_sqrt_ps
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
#ifdef AV_W
        if (l2 == 0.0f && decay == 1.0f) {
            const AVec vb1 = av_set1(fb1), vb2 = av_set1(fb2), v1b1 = av_set1(f1b1);
            const AVec v1b2 = av_set1(f1b2), vbc2 = av_set1(bc2_sqrt), veps = av_set1(eps);
            const AVec vstep = av_set1(step_size);
            for (; i + AV_W <= end; i += AV_W) {
                AVec gi = av_load(g + i);
                AVec mi = av_add(av_mul(av_load(m + i), vb1), av_mul(v1b1, gi));
                AVec vi = av_add(av_mul(av_load(v + i), vb2), av_mul(av_mul(v1b2, gi), gi));
                AVec denom = av_add(av_div(av_sqrt(vi), vbc2), veps);
                AVec pi = av_sub(av_load(p + i), av_mul(vstep, av_div(mi, denom)));
                av_store(p + i, pi);
                av_store(m + i, mi);
                av_store(v + i, vi);
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
