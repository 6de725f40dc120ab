/*
 * conv_check.h - the pieces test_conv_same.c and test_conv_wino3.c share, header-only like
 * test.h (include after tests/test.h, tests/fixture_h5.h and tests/gradcheck.h):
 *   randn()          n floats ~ N(0, scale^2)
 *   Grads            a forward's output and the three gradients of one plan's run
 *   conv_run()       forward and backward of a conv2d under a plan (dx starts at 0.5, so modes
 *                    without SET add onto it; dw, db at 0)
 *   conv_fd_check()  central differences of L = sum(r * sigmoid(conv(x))) under a plan: every
 *                    weight, every bias and every dinp_step-th input (fd_strided)
 */
#ifndef NEMU_TESTS_CONV_CHECK_H
#define NEMU_TESTS_CONV_CHECK_H

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/rng.h"
#include "nn/conv.h"

static inline float *randn(Rng *rng, size_t n, float scale) {
    float *p = xmalloc_floats(n);
    for (size_t i = 0; i < n; i++) p[i] = scale * rng_normal(rng);
    return p;
}

typedef struct { float *y, *dx, *dw, *db; } Grads;

static inline Grads grads_new(size_t no, size_t ni, size_t nw, int OC) {
    return (Grads){xmalloc_floats(no), xmalloc_floats(ni), xmalloc_floats(nw), xmalloc_floats(OC)};
}

static inline void grads_free(Grads *g) { free(g->y), free(g->dx), free(g->dw), free(g->db); }

static inline void conv_run(Grads *o, const ConvPlan *p, const float *x, const float *w, const float *b,
                            const float *g, int act, int flags, int B, const ConvShape *s, float *work) {
    const size_t ni = (size_t)B * s->C * s->H * s->W, nw = (size_t)s->OC * s->C * s->K * s->K;
    for (size_t i = 0; i < ni; i++) o->dx[i] = 0.5f;
    memset(o->dw, 0, nw * sizeof(float)), memset(o->db, 0, s->OC * sizeof(float));
    conv2d_forward_plan(o->y, x, w, b, act, B, s, work, p);
    conv2d_backward_plan(o->dx, o->dw, o->db, g, o->y, act, flags, x, w, B, s, work, p);
}

typedef struct { const ConvShape *s; const ConvPlan *plan; float *x, *w, *b, *r, *y, *work; int B; } ConvFd;

static inline double conv_fd_loss(void *ctx) {
    ConvFd *c = ctx;
    conv2d_forward_plan(c->y, c->x, c->w, c->b, CONV_ACT_SIGMOID, c->B, c->s, c->work, c->plan);
    double L = 0;
    for (size_t i = 0; i < (size_t)c->B * c->s->OC * c->s->H * c->s->W; i++) L += (double)c->r[i] * c->y[i];
    return L;
}

// A 3x3 stride-1 "same" conv C x H x W -> OC at batch B under plan.
static inline void conv_fd_check(const ConvPlan *plan, int B, int C, int OC, int H, int W, int dinp_step, double eps,
                                 Rng *rng) {
    ConvShape s = conv2d_shape(C, H, W, OC, 3, 1, 1);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * 9;
    ConvFd c = {&s, plan, randn(rng, ni, 1.0f), randn(rng, nw, 0.3f), randn(rng, OC, 0.2f), randn(rng, no, 1.0f),
                xmalloc_floats(no), xmalloc_floats(conv2d_workspace(&s, B)), B};
    float *dx = xmalloc_floats(ni), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    memset(dw, 0, nw * sizeof(float)), memset(db, 0, OC * sizeof(float));
    (void)conv_fd_loss(&c);
    conv2d_backward_plan(dx, dw, db, c.r, c.y, CONV_ACT_SIGMOID, CONV_DINP_SET, c.x, c.w, B, &s, c.work, plan);
    float *sets[3] = {c.w, c.b, c.x}, *grads[3] = {dw, db, dx};
    const size_t ns[3] = {nw, (size_t)OC, ni};
    char dname[64];
    snprintf(dname, sizeof dname, "dinp (every %dth input)", dinp_step);
    const char *names[3] = {"dw (every weight)", "db", dname};
    for (int k = 0; k < 3; k++)
        fd_strided(names[k], sets[k], grads[k], ns[k], k == 2 ? (size_t)dinp_step : 1, conv_fd_loss, &c, eps, 2e-3,
                   2e-3);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(c.work), free(dx), free(dw), free(db);
}

#endif
