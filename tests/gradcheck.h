/*
 * gradcheck.h - the whole-model directional check (STYLE.md practice 6) that test_model.c
 * and test_spatial.c share, header-only like test.h:
 *   directional(): all perturbed values moved along one random direction d,
 *                  (L(p + eps d) - L(p - eps d)) / 2eps against grad . d;
 *   param_scale(): a direction scale of each tensor's largest |param|, so every layer moves
 *                  by a similar relative amount;
 *   AECtx, ae_loss(): an autoencoder loss L = MSE(recon, target) + sum(z * rz) with latent
 *                  noise from a re-seeded Rng (the same draw each call).
 * Include after tests/test.h and tests/fixture_h5.h (maxabs).
 */
#ifndef NEMU_TESTS_GRADCHECK_H
#define NEMU_TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/rng.h"
#include "nn/model.h"
#include "nn/ops.h"

typedef double (*LossFn)(void *ctx, int backward);

// One perturbed vector: values p, their gradient g (filled by fn(ctx, 1)), n floats, and an
// optional per-element scale of the direction (NULL: 1; 0 leaves an element fixed).
typedef struct { float *p; const float *g; size_t n; const float *scale; } Seg;

// d ~ N(0,1)*scale over all segments; returns |fd - an| / max(|fd|, |an|) where
// fd = (L(p + eps d) - L(p - eps d)) / 2eps and an = grad . d.
static inline double directional(const char *what, Seg *segs, int nseg, LossFn fn, void *ctx, double eps,
                                 Rng *rng, double *fd_out, double *an_out) {
    float *p0[4], *d[4];
    CHECK(nseg <= 4, "directional: %d segments", nseg);
    for (int s = 0; s < nseg; s++) {
        p0[s] = xmalloc_floats(segs[s].n);
        d[s] = xmalloc_floats(segs[s].n);
        memcpy(p0[s], segs[s].p, segs[s].n * sizeof(float));
        for (size_t i = 0; i < segs[s].n; i++) d[s][i] = rng_normal(rng) * (segs[s].scale ? segs[s].scale[i] : 1.0f);
    }
    fn(ctx, 1);   // gradients at p0
    double an = 0, l[2];
    for (int s = 0; s < nseg; s++)
        for (size_t i = 0; i < segs[s].n; i++) an += (double)segs[s].g[i] * d[s][i];
    for (int k = 0; k < 2; k++) {
        double e = k ? -eps : eps;
        for (int s = 0; s < nseg; s++)
            for (size_t i = 0; i < segs[s].n; i++) segs[s].p[i] = (float)(p0[s][i] + e * d[s][i]);
        l[k] = fn(ctx, 0);
    }
    for (int s = 0; s < nseg; s++) {
        memcpy(segs[s].p, p0[s], segs[s].n * sizeof(float));
        free(p0[s]);
        free(d[s]);
    }
    double fd = (l[0] - l[1]) / (2 * eps);
    double rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-30);
    printf("  directional %-34s fd % .8e  grad.d % .8e  rel %.2e\n", what, fd, an, rel);
    *fd_out = fd;
    *an_out = an;
    return rel;
}

// Central differences of loss(ctx) at every step-th of the n values p, against their gradient g
// (one expect_close, named name).
static inline void fd_strided(const char *name, float *p, const float *g, size_t n, size_t step,
                              double (*loss)(void *), void *ctx, double eps, double atol, double rtol) {
    const size_t m = (n + step - 1) / step;
    float *fd = xmalloc_floats(m), *an = xmalloc_floats(m);
    for (size_t i = 0, j = 0; i < n; i += step, j++) {
        float v = p[i];
        p[i] = (float)(v + eps);
        double lp = loss(ctx);
        p[i] = (float)(v - eps);
        double lm = loss(ctx);
        p[i] = v;
        fd[j] = (float)((lp - lm) / (2 * eps));
        an[j] = g[i];
    }
    expect_close(name, an, fd, (long)m, atol, rtol);
    free(fd), free(an);
}

// Central differences of loss(ctx), element by element, for every tensor of a and then for an
// input x (nx floats, named x_name), against a->grads and gx (one expect_close each).
static inline void fd_every_element(ParamArena *a, float *x, const float *gx, size_t nx, const char *x_name,
                                    double (*loss)(void *), void *ctx, double eps, double atol, double rtol) {
    char name[96];
    for (int k = 0; k <= a->n_tensors; k++) {   // every tensor, then x
        float *p = k < a->n_tensors ? a->params + a->t[k].offset : x;
        const float *g = k < a->n_tensors ? a->grads + a->t[k].offset : gx;
        size_t n = k < a->n_tensors ? a->t[k].n : nx;
        snprintf(name, sizeof name, "d/d %s", k < a->n_tensors ? a->t[k].name : x_name);
        fd_strided(name, p, g, n, 1, loss, ctx, eps, atol, rtol);
    }
}

// Per parameter: max(the largest |param| of its tensor, floor). Malloc'ed, a->n floats.
static inline float *param_scale(const ParamArena *a, double floor) {
    float *scale = xmalloc_floats(a->n);
    for (int k = 0; k < a->n_tensors; k++) {
        const TensorInfo *t = &a->t[k];
        double s = fmax(maxabs(a->params + t->offset, t->n), floor);
        for (size_t i = 0; i < t->n; i++) scale[t->offset + i] = (float)s;
    }
    return scale;
}

typedef struct {
    AE *m;
    const float *x, *target, *rz;
    float *drecon;
    int B;
    uint64_t noise_seed;
} AECtx;

// L = MSE(recon, target) + sum(z * rz); latent noise from a re-seeded Rng (same draw each call)
static inline double ae_loss(void *vctx, int backward) {
    AECtx *c = vctx;
    AE *m = c->m;
    size_t n = (size_t)c->B * m->cfg.C * m->cfg.H * m->cfg.W, nz = (size_t)c->B * m->cfg.latent_dim;
    Rng rng;
    rng_seed(&rng, c->noise_seed);
    ae_forward(m, c->x, c->B, &rng);
    double loss = 0;
    for (size_t i = 0; i < n; i++) { double e = (double)m->recon[i] - c->target[i]; loss += e * e; }
    loss /= (double)n;
    for (size_t i = 0; i < nz; i++) loss += (double)m->z[i] * c->rz[i];
    if (backward) {
        arena_zero_grad(&m->arena);
        memset(c->drecon, 0, n * sizeof(float));
        mse_loss_backward(c->drecon, m->recon, c->target, n, 1.0f);
        ae_backward(m, c->drecon, c->rz, c->B);
    }
    return loss;
}

#endif
