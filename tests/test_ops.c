/*
 * test_ops.c - layer kernels (nn/ops.c, nn/conv.c):
 *   1. finite differences: loss = sum(out * g) with a random upstream g; every analytic
 *      d-buffer (dinp, dw, db) of every layer and loss against central differences on up to
 *      FD_MAX coordinates per tensor; the convolutions with each fused activation (none,
 *      ReLU, sigmoid) in turn;
 *   2. conv / conv-transpose equal the direct loops; backward accumulates (twice = double);
 *      NULL d-buffers are skipped; batch chunking of large convs; every path a shape can
 *      take (GEMM, direct, few channels, Winograd), forced through conv_plan's *_plan calls,
 *      agrees with GEMM; conv_plan's choices and refusals, and its environment override;
 *   3. PyTorch parity: tests/fixtures/ops.h5 (tests/make_ops_fixtures.py) outputs and grads.
 */
#include <stdlib.h>
#include <string.h>
#include "nn/gemm.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/ops.h"
#include "tests/fixture_h5.h"
#include "tests/test.h"

#define FD_MAX 200

// ---------------------------------------------------------------- helpers

static float *rand_floats(Rng *r, size_t n, float scale) {
    float *x = xmalloc_floats(n);
    for (size_t i = 0; i < n; i++) x[i] = scale * rng_uniformf(r, -1.0f, 1.0f);
    return x;
}

static double dot(const float *a, const float *b, size_t n) {
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) acc += (double)a[i] * b[i];
    return acc;
}

typedef double (*LossFn)(void *ctx);

// Compares analytic [n] with central differences of f() in x [n], on up to FD_MAX coordinates.
static void fd_check(const char *name, float *x, size_t n, const float *analytic, LossFn f,
                     void *ctx, float eps, double atol, double rtol, Rng *rng) {
    size_t m = n < FD_MAX ? n : FD_MAX;
    float *got = xmalloc_floats(m), *want = xmalloc_floats(m);
    for (size_t k = 0; k < m; k++) {
        size_t i = n <= FD_MAX ? k : rng_below(rng, (uint32_t)n);
        float v = x[i];
        float hi = v + eps, lo = v - eps;
        x[i] = hi;
        double lp = f(ctx);
        x[i] = lo;
        double lm = f(ctx);
        x[i] = v;
        want[k] = (float)((lp - lm) / ((double)hi - lo));
        got[k] = analytic[i];
    }
    f(ctx);   // leave the context's outputs as at the unperturbed point
    expect_close(name, got, want, (long)m, atol, rtol);
    free(got);
    free(want);
}

// ---------------------------------------------------------------- conv FD

typedef struct {
    int B, transposed, act;   // act: the fused activation, CONV_ACT_*
    ConvShape s;
    float *inp, *w, *b, *out, *g, *work;
} ConvCtx;

static size_t conv_out_n(const ConvCtx *c) { return (size_t)c->B * c->s.OC * c->s.OH * c->s.OW; }
static size_t conv_in_n(const ConvCtx *c) { return (size_t)c->B * c->s.C * c->s.H * c->s.W; }
static size_t conv_w_n(const ConvCtx *c) { return (size_t)c->s.OC * c->s.C * c->s.K * c->s.K; }

static double conv_loss(void *p) {
    ConvCtx *c = p;
    if (c->transposed) convt2d_forward_act(c->out, c->inp, c->w, c->b, c->act, c->B, &c->s, c->work);
    else conv2d_forward_act(c->out, c->inp, c->w, c->b, c->act, c->B, &c->s, c->work);
    return dot(c->out, c->g, conv_out_n(c));
}

// Backward of the fused layer at the forward output c->out (conv_loss leaves it there).
static void conv_backward_ctx(ConvCtx *c, float *dinp, float *dw, float *db) {
    if (c->transposed)
        convt2d_backward_act(dinp, dw, db, c->g, c->out, c->act, 0, c->inp, c->w, c->B, &c->s, c->work);
    else
        conv2d_backward_act(dinp, dw, db, c->g, c->out, c->act, 0, c->inp, c->w, c->B, &c->s, c->work);
}

// ReLU has a kink at 0: an upstream gradient of 0 on every output whose pre-activation is
// within `margin` of it keeps the loss smooth over the finite differences' steps (a step of
// eps moves a pre-activation by at most eps: |w| <= 0.5, |inp| <= 1, d/db = 1).
static void relu_clear_kinks(ConvCtx *c, float margin) {
    const int act = c->act;
    c->act = CONV_ACT_NONE;
    conv_loss(c);
    for (size_t i = 0; i < conv_out_n(c); i++)
        if (fabsf(c->out[i]) < margin) c->g[i] = 0.0f;
    c->act = act;
}

static const char *const act_names[] = {"", " relu", " sigmoid"};

static void test_conv(int transposed, int act, int B, int C, int H, int W, int OC, int K, int S, int P, Rng *rng) {
    ConvCtx c = {B, transposed, act, transposed ? convt2d_shape(C, H, W, OC, K, S, P)
                                           : conv2d_shape(C, H, W, OC, K, S, P),
                 NULL, NULL, NULL, NULL, NULL, NULL};
    size_t ws = transposed ? convt2d_workspace(&c.s, B) : conv2d_workspace(&c.s, B);
    size_t nin = conv_in_n(&c), nout = conv_out_n(&c), nw = conv_w_n(&c);
    c.inp = rand_floats(rng, nin, 1.0f);
    c.w = rand_floats(rng, nw, 0.5f);
    c.b = rand_floats(rng, OC, 0.5f);
    c.g = rand_floats(rng, nout, 1.0f);
    c.out = xmalloc_floats(nout);
    c.work = xmalloc_floats(ws);
    float *ref = xmalloc_floats(nout);
    char name[160], kind[32];
    snprintf(kind, sizeof kind, "%s%s", transposed ? "convt2d" : "conv2d", act_names[act]);

    // fast path == direct loops (and the activation after them)
    conv_loss(&c);
    if (transposed) convt2d_forward_naive(ref, c.inp, c.w, c.b, B, &c.s);
    else conv2d_forward_naive(ref, c.inp, c.w, c.b, B, &c.s);
    if (act == CONV_ACT_RELU) relu_forward(ref, ref, nout);
    if (act == CONV_ACT_SIGMOID) sigmoid_forward(ref, ref, nout);
    snprintf(name, sizeof name, "%s K%dS%dP%d %dx%d fwd==naive", kind, K, S, P, H, W);
    expect_close(name, c.out, ref, (long)nout, 1e-5, 1e-5);

    // analytic grads, then finite differences (without an activation or with ReLU away from
    // its kink, the layer is linear in each argument, so a large eps is exact up to float
    // rounding; sigmoid's curvature wants a smaller one)
    const float eps = act == CONV_ACT_SIGMOID ? 0.01f : 0.05f;
    if (act == CONV_ACT_RELU) relu_clear_kinks(&c, 2 * eps);
    conv_loss(&c);
    float *dinp = xmalloc_floats(nin), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    conv_backward_ctx(&c, dinp, dw, db);
    snprintf(name, sizeof name, "%s K%dS%dP%d fd dinp", kind, K, S, P);
    fd_check(name, c.inp, nin, dinp, conv_loss, &c, eps, 2e-3, 2e-3, rng);
    snprintf(name, sizeof name, "%s K%dS%dP%d fd dw", kind, K, S, P);
    fd_check(name, c.w, nw, dw, conv_loss, &c, eps, 2e-3, 2e-3, rng);
    snprintf(name, sizeof name, "%s K%dS%dP%d fd db", kind, K, S, P);
    fd_check(name, c.b, OC, db, conv_loss, &c, eps, 2e-3, 2e-3, rng);

    // backward accumulates: a second call doubles every grad
    float *dinp2 = xmalloc_floats(nin), *dw2 = xmalloc_floats(nw), *db2 = xmalloc_floats(OC);
    memcpy(dinp2, dinp, nin * sizeof(float));
    memcpy(dw2, dw, nw * sizeof(float));
    memcpy(db2, db, OC * sizeof(float));
    conv_backward_ctx(&c, dinp2, dw2, db2);
    for (size_t i = 0; i < nin; i++) dinp[i] *= 2;
    for (size_t i = 0; i < nw; i++) dw[i] *= 2;
    for (int i = 0; i < OC; i++) db[i] *= 2;
    int ok = 1;
    for (size_t i = 0; i < nin; i++) ok &= fabsf(dinp2[i] - dinp[i]) <= 1e-5f * (1 + fabsf(dinp[i]));
    for (size_t i = 0; i < nw; i++) ok &= fabsf(dw2[i] - dw[i]) <= 1e-5f * (1 + fabsf(dw[i]));
    for (int i = 0; i < OC; i++) ok &= fabsf(db2[i] - db[i]) <= 1e-5f * (1 + fabsf(db[i]));
    EXPECT(ok, "%s K%dS%dP%d: backward twice doubles the grads", kind, K, S, P);

    // CONV_DINP_SET overwrites dinp (whatever was there) with what accumulating onto zeros
    // gives, with and without the ReLU mask of inp
    for (int relu = 0; relu < 2; relu++) {
        float *acc = xmalloc_floats(nin), *set = xmalloc_floats(nin);
        memset(acc, 0, nin * sizeof(float));
        for (size_t i = 0; i < nin; i++) set[i] = NAN;
        int flags = relu ? CONV_DINP_RELU : 0;
        if (transposed) {
            convt2d_backward_act(acc, NULL, NULL, c.g, c.out, act, flags, c.inp, c.w, B, &c.s, c.work);
            convt2d_backward_act(set, NULL, NULL, c.g, c.out, act, flags | CONV_DINP_SET, c.inp, c.w, B, &c.s,
                                 c.work);
        } else {
            conv2d_backward_act(acc, NULL, NULL, c.g, c.out, act, flags, c.inp, c.w, B, &c.s, c.work);
            conv2d_backward_act(set, NULL, NULL, c.g, c.out, act, flags | CONV_DINP_SET, c.inp, c.w, B, &c.s,
                                c.work);
        }
        snprintf(name, sizeof name, "%s K%dS%dP%d dinp SET%s == onto zeros", kind, K, S, P, relu ? "|RELU" : "");
        expect_close(name, set, acc, (long)nin, 1e-6, 1e-6);
        free(acc), free(set);
    }

    // NULL dinp / dw / db are skipped and leave the others unchanged
    memset(dw2, 0, nw * sizeof(float));
    memset(db2, 0, OC * sizeof(float));
    conv_backward_ctx(&c, NULL, dw2, db2);
    for (size_t i = 0; i < nw; i++) dw2[i] *= 2;
    for (int i = 0; i < OC; i++) db2[i] *= 2;
    snprintf(name, sizeof name, "%s K%dS%dP%d NULL dinp: dw", kind, K, S, P);
    expect_close(name, dw2, dw, (long)nw, 1e-6, 1e-5);
    memset(dinp2, 0, nin * sizeof(float));
    conv_backward_ctx(&c, dinp2, NULL, NULL);
    for (size_t i = 0; i < nin; i++) dinp2[i] *= 2;
    snprintf(name, sizeof name, "%s K%dS%dP%d NULL dw,db: dinp", kind, K, S, P);
    expect_close(name, dinp2, dinp, (long)nin, 1e-6, 1e-5);

    free(c.inp); free(c.w); free(c.b); free(c.g); free(c.out); free(c.work); free(ref);
    free(dinp); free(dw); free(db); free(dinp2); free(dw2); free(db2);
}

// A conv whose workspace for one sample is over half the cap in ops.c, so B=2 runs as two
// chunks: forward and backward against per-sample (B=1) calls (the direct-loop reference
// is too slow at this size under the sanitizers; the small cases above compare with it).
static void test_conv_chunked(int transposed, Rng *rng) {
    const int B = 2, K = 8;
    ConvShape s = transposed ? convt2d_shape(1, 360, 360, 1, K, 1, 0) : conv2d_shape(1, 367, 367, 1, K, 1, 0);
    const char *kind = transposed ? "convt2d" : "conv2d";
    size_t nin = (size_t)s.H * s.W, nout = (size_t)s.OH * s.OW, nw = (size_t)K * K;
    size_t ws = transposed ? convt2d_workspace(&s, B) : conv2d_workspace(&s, B);
    size_t ws1 = transposed ? convt2d_workspace(&s, 1) : conv2d_workspace(&s, 1);
    EXPECT(ws == ws1, "%s: a large batch is chunked (workspace %zu floats for B=2, %zu for B=1)",
           kind, ws, ws1);
    float *x = rand_floats(rng, B * nin, 1.0f), *g = rand_floats(rng, B * nout, 1.0f);
    float *w = rand_floats(rng, nw, 0.2f), b = 0.3f;
    float *y = xmalloc_floats(B * nout), *ref = xmalloc_floats(B * nout), *work = xmalloc_floats(ws);
    float *dx = xmalloc_floats(B * nin), *dw = xmalloc_floats(nw), db = 0;
    float *dx1 = xmalloc_floats(B * nin), *dw1 = xmalloc_floats(nw), db1 = 0;
    if (transposed) {
        convt2d_forward(y, x, w, &b, B, &s, work);
        for (int i = 0; i < B; i++) convt2d_forward(ref + i * nout, x + i * nin, w, &b, 1, &s, work);
        convt2d_backward(dx, dw, &db, g, x, w, B, &s, work);
        for (int i = 0; i < B; i++)
            convt2d_backward(dx1 + i * nin, dw1, &db1, g + i * nout, x + i * nin, w, 1, &s, work);
    } else {
        conv2d_forward(y, x, w, &b, B, &s, work);
        for (int i = 0; i < B; i++) conv2d_forward(ref + i * nout, x + i * nin, w, &b, 1, &s, work);
        conv2d_backward(dx, dw, &db, g, x, w, B, &s, work);
        for (int i = 0; i < B; i++)
            conv2d_backward(dx1 + i * nin, dw1, &db1, g + i * nout, x + i * nin, w, 1, &s, work);
    }
    char name[96];
    snprintf(name, sizeof name, "%s chunked fwd==per-sample", kind);
    expect_close(name, y, ref, (long)(B * nout), 1e-6, 1e-5);
    snprintf(name, sizeof name, "%s chunked dinp==per-sample", kind);
    expect_close(name, dx, dx1, (long)(B * nin), 1e-6, 1e-5);
    snprintf(name, sizeof name, "%s chunked dw==per-sample sum", kind);
    expect_close(name, dw, dw1, (long)nw, 1e-3, 1e-4);
    snprintf(name, sizeof name, "%s chunked db==per-sample sum", kind);
    expect_close(name, &db, &db1, 1, 1e-3, 1e-4);
    free(x); free(g); free(w); free(y); free(ref); free(work); free(dx); free(dw); free(dx1); free(dw1);
}

// ---------------------------------------------------------------- conv paths (conv_plan)

// One layer's forward, dinp, dw and db under a forced plan (y: the forward output).
static void conv_run_plan(const ConvCtx *c, const ConvPlan *p, float *y, float *dinp, float *dw, float *db) {
    const size_t nin = conv_in_n(c), nw = conv_w_n(c);
    memset(dinp, 0, nin * sizeof(float)), memset(dw, 0, nw * sizeof(float)), memset(db, 0, c->s.OC * sizeof(float));
    if (c->transposed) {
        convt2d_forward_plan(y, c->inp, c->w, c->b, c->act, c->B, &c->s, c->work, p);
        convt2d_backward_plan(dinp, dw, db, c->g, y, c->act, 0, c->inp, c->w, c->B, &c->s, c->work, p);
    } else {
        conv2d_forward_plan(y, c->inp, c->w, c->b, c->act, c->B, &c->s, c->work, p);
        conv2d_backward_plan(dinp, dw, db, c->g, y, c->act, 0, c->inp, c->w, c->B, &c->s, c->work, p);
    }
}

// Every path the shape can take, forced one product at a time (the others on GEMM), gives
// what GEMM gives; conv_plan's own choice is one the shape can take.
static void test_conv_paths(int transposed, int act, int B, int C, int H, int W, int OC, Rng *rng) {
    ConvCtx c = {B, transposed, act, transposed ? convt2d_shape(C, H, W, OC, 4, 2, 1) : conv2d_shape(C, H, W, OC, 4, 2, 1),
                 NULL, NULL, NULL, NULL, NULL, NULL};
    const size_t nin = conv_in_n(&c), nout = conv_out_n(&c), nw = conv_w_n(&c);
    c.inp = rand_floats(rng, nin, 1.0f), c.w = rand_floats(rng, nw, 0.5f), c.b = rand_floats(rng, OC, 0.5f);
    c.g = rand_floats(rng, nout, 1.0f);
    c.work = xmalloc_floats(transposed ? convt2d_workspace(&c.s, B) : conv2d_workspace(&c.s, B));
    float *y0 = xmalloc_floats(nout), *dx0 = xmalloc_floats(nin), *dw0 = xmalloc_floats(nw), *db0 = xmalloc_floats(OC);
    float *y = xmalloc_floats(nout), *dx = xmalloc_floats(nin), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    const ConvPlan gemm_plan = {CONV_GEMM, CONV_GEMM, CONV_GEMM};
    conv_run_plan(&c, &gemm_plan, y0, dx0, dw0, db0);
    const ConvPlan def = conv_plan(&c.s, transposed, B, 0);
    char name[160], plan[64];
    EXPECT(conv_plan_ok(&c.s, transposed, &def), "conv_plan's own plan %s is possible", conv_plan_str(&def, plan, sizeof plan));
    int tried = 0;
    for (int k = 0; k < 3; k++)
        for (int path = CONV_DIRECT; path <= CONV_FEW; path++) {
            ConvPlan p = gemm_plan;
            ConvPath *slot = k == 0 ? &p.forward : k == 1 ? &p.dinp : &p.dw;
            *slot = (ConvPath)path;
            if (!conv_plan_ok(&c.s, transposed, &p)) continue;
            tried++;
            conv_run_plan(&c, &p, y, dx, dw, db);
            snprintf(name, sizeof name, "%s%s %dx%dx%d->%d B%d %s", transposed ? "convt2d" : "conv2d", act_names[act],
                     C, H, W, OC, B, conv_plan_str(&p, plan, sizeof plan));
            if (k == 0) expect_close(name, y, y0, (long)nout, 1e-5, 1e-5);
            if (k == 1) expect_close(name, dx, dx0, (long)nin, 1e-5, 1e-5);
            if (k == 2) expect_close(name, dw, dw0, (long)nw, 1e-4, 1e-5);
        }
    EXPECT(tried > 0, "%dx%dx%d->%d: some path besides GEMM", C, H, W, OC);
    free(c.inp), free(c.w), free(c.b), free(c.g), free(c.work);
    free(y0), free(dx0), free(dw0), free(db0), free(y), free(dx), free(dw), free(db);
}

// The plan: which paths the shapes take and refuse, and the environment's override (tests/run.sh
// runs this binary again with NEMU_CONV_DIRECT=0).
static void test_conv_plan(void) {
    const char *e = getenv("NEMU_CONV_DIRECT");
    const int direct = !(e && e[0] == '0');
    const ConvShape big = conv2d_shape(32, 40, 40, 64, 4, 2, 1), thin = convt2d_shape(32, 40, 40, 1, 4, 2, 1);
    const ConvShape rgb = convt2d_shape(32, 40, 40, 3, 4, 2, 1), k3 = conv2d_shape(8, 10, 10, 16, 3, 1, 1);
    char buf[64];
    ConvPlan p = conv_plan(&big, 0, 32, 2);
    EXPECT(direct ? p.forward == CONV_WINOGRAD && p.dinp == CONV_WINOGRAD && p.dw == CONV_WINOGRAD
                  : p.forward == CONV_GEMM && p.dinp == CONV_GEMM && p.dw == CONV_GEMM,
           "32x40x40 -> 64 at batch 32: %s", conv_plan_str(&p, buf, sizeof buf));
    p = conv_plan(&big, 0, 1, 2);   // 100 tiles: not worth the weight transform
    EXPECT(p.forward == (direct ? CONV_DIRECT : CONV_GEMM) && p.dw == CONV_GEMM, "batch 1: %s",
           conv_plan_str(&p, buf, sizeof buf));
    p = conv_plan(&thin, 1, 32, 2);
    EXPECT(p.forward == CONV_GEMM && p.dinp == CONV_GEMM, "convT towards 1 channel: %s", conv_plan_str(&p, buf, sizeof buf));
    p = conv_plan(&rgb, 1, 32, 2);
    EXPECT(p.forward == (direct ? CONV_FEW : CONV_GEMM), "convT towards 3 channels: %s", conv_plan_str(&p, buf, sizeof buf));
    p = conv_plan(&k3, 0, 8, 2);
    const char *es = getenv("NEMU_CONV_SHIFT"), *ew = getenv("NEMU_CONV_WINOGRAD");
    const ConvPath k3p = direct && !(es && es[0] == '0') ? CONV_SHIFT : CONV_GEMM;
    EXPECT(p.forward == k3p && p.dinp == k3p && p.dw == k3p, "K3 S1 P1 at batch 8: %s", conv_plan_str(&p, buf, sizeof buf));
    p = conv_plan(&k3, 0, 32, 2);   // batch 16 and more: Winograd F(4x4, 3x3)
    const ConvPath k3w = direct && !(ew && ew[0] == '0') ? CONV_WINOGRAD : k3p;
    EXPECT(p.forward == k3w && p.dinp == k3w && p.dw == k3w, "K3 S1 P1 at batch 32: %s", conv_plan_str(&p, buf, sizeof buf));
    const ConvShape k5 = conv2d_shape(8, 10, 10, 16, 5, 1, 2);
    const ConvPlan shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT}, shift_dw = {CONV_GEMM, CONV_GEMM, CONV_SHIFT};
    EXPECT(conv_plan_ok(&k3, 0, &shift) && conv_plan_ok(&k3, 0, &shift_dw) && !conv_plan_ok(&big, 0, &shift) &&
               !conv_plan_ok(&rgb, 1, &shift), "CONV_SHIFT: same convs only");
    const ConvPlan few = {CONV_FEW, CONV_GEMM, CONV_GEMM}, wino = {CONV_WINOGRAD, CONV_GEMM, CONV_GEMM};
    const ConvPlan direct_dw = {CONV_GEMM, CONV_GEMM, CONV_DIRECT};
    EXPECT(!conv_plan_ok(&big, 0, &few) && conv_plan_ok(&k3, 0, &wino) && !conv_plan_ok(&k5, 0, &wino) &&
               !conv_plan_ok(&thin, 1, &wino) &&
               !conv_plan_ok(&big, 0, &direct_dw) && conv_plan_ok(&big, 0, &wino) && conv_plan_ok(&rgb, 1, &few),
           "conv_plan_ok refuses the paths a shape cannot take");
}

// ---------------------------------------------------------------- linear / layernorm FD

typedef struct { int B, IN, OUT; float *inp, *w, *b, *out, *g; } LinCtx;

static double lin_loss(void *p) {
    LinCtx *c = p;
    linear_forward(c->out, c->inp, c->w, c->b, c->B, c->IN, c->OUT);
    return dot(c->out, c->g, (size_t)c->B * c->OUT);
}

static void test_linear(Rng *rng) {
    LinCtx c = {4, 7, 5, NULL, NULL, NULL, NULL, NULL};
    size_t ni = (size_t)c.B * c.IN, nw = (size_t)c.OUT * c.IN, no = (size_t)c.B * c.OUT;
    c.inp = rand_floats(rng, ni, 1); c.w = rand_floats(rng, nw, 0.5f); c.b = rand_floats(rng, c.OUT, 0.5f);
    c.out = xmalloc_floats(no); c.g = rand_floats(rng, no, 1);
    float *dinp = xmalloc_floats(ni), *dw = xmalloc_floats(nw), *db = xmalloc_floats(c.OUT);
    linear_backward(dinp, dw, db, c.g, c.inp, c.w, c.B, c.IN, c.OUT);
    fd_check("linear fd dinp", c.inp, ni, dinp, lin_loss, &c, 0.05f, 1e-3, 1e-3, rng);
    fd_check("linear fd dw", c.w, nw, dw, lin_loss, &c, 0.05f, 1e-3, 1e-3, rng);
    fd_check("linear fd db", c.b, c.OUT, db, lin_loss, &c, 0.05f, 1e-3, 1e-3, rng);
    // accumulation + NULL dinp
    float *dw2 = xmalloc_floats(nw);
    memcpy(dw2, dw, nw * sizeof(float));
    linear_backward(NULL, dw2, NULL, c.g, c.inp, c.w, c.B, c.IN, c.OUT);
    for (size_t i = 0; i < nw; i++) dw[i] *= 2;
    expect_close("linear backward accumulates (dw x2)", dw2, dw, (long)nw, 1e-6, 1e-5);
    // no bias
    linear_forward(c.out, c.inp, c.w, NULL, c.B, c.IN, c.OUT);
    float *ref = xmalloc_floats(no);
    for (int i = 0; i < c.B; i++)
        for (int o = 0; o < c.OUT; o++) {
            double a = 0;
            for (int k = 0; k < c.IN; k++) a += (double)c.inp[i * c.IN + k] * c.w[o * c.IN + k];
            ref[i * c.OUT + o] = (float)a;
        }
    expect_close("linear no-bias == loops", c.out, ref, (long)no, 1e-6, 1e-5);
    free(c.inp); free(c.w); free(c.b); free(c.out); free(c.g); free(dinp); free(dw); free(db);
    free(dw2); free(ref);
}

typedef struct { int B, N; float *inp, *w, *b, *out, *mean, *rstd, *g; } LnCtx;

static double ln_loss(void *p) {
    LnCtx *c = p;
    layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->B, c->N);
    return dot(c->out, c->g, (size_t)c->B * c->N);
}

static void test_layernorm(Rng *rng) {
    LnCtx c = {3, 9, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t n = (size_t)c.B * c.N;
    c.inp = rand_floats(rng, n, 2); c.w = rand_floats(rng, c.N, 1); c.b = rand_floats(rng, c.N, 1);
    for (int j = 0; j < c.N; j++) c.w[j] += 1.0f;
    c.out = xmalloc_floats(n); c.g = rand_floats(rng, n, 1);
    c.mean = xmalloc_floats(c.B); c.rstd = xmalloc_floats(c.B);
    float *dinp = xmalloc_floats(n), *dw = xmalloc_floats(c.N), *db = xmalloc_floats(c.N);
    ln_loss(&c);
    layernorm_backward(dinp, dw, db, c.g, c.inp, c.mean, c.rstd, c.w, c.B, c.N);
    fd_check("layernorm fd dinp", c.inp, n, dinp, ln_loss, &c, 1e-2f, 2e-3, 2e-2, rng);
    fd_check("layernorm fd dw", c.w, c.N, dw, ln_loss, &c, 1e-2f, 2e-3, 2e-2, rng);
    fd_check("layernorm fd db", c.b, c.N, db, ln_loss, &c, 1e-2f, 2e-3, 2e-2, rng);
    free(c.inp); free(c.w); free(c.b); free(c.out); free(c.g); free(c.mean); free(c.rstd);
    free(dinp); free(dw); free(db);
}

// ---------------------------------------------------------------- activations, losses FD

typedef struct { int kind; size_t n; float *inp, *out, *g, *target; float scale; } EwCtx;
enum { ACT_RELU, ACT_GELU, ACT_SIGMOID, LOSS_L1, LOSS_MSE };

static double ew_loss(void *p) {
    EwCtx *c = p;
    switch (c->kind) {
    case ACT_RELU: relu_forward(c->out, c->inp, c->n); break;
    case ACT_GELU: gelu_forward(c->out, c->inp, c->n); break;
    case ACT_SIGMOID: sigmoid_forward(c->out, c->inp, c->n); break;
    case LOSS_L1: return (double)c->scale * l1_loss_forward(c->inp, c->target, c->n);
    case LOSS_MSE: return (double)c->scale * mse_loss_forward(c->inp, c->target, c->n);
    }
    return dot(c->out, c->g, c->n);
}

// d += the op's backward for the upstream gradient c->g (after ew_loss ran the forward)
static void ew_backward(const EwCtx *c, float *d) {
    switch (c->kind) {
    case ACT_RELU: relu_backward(d, c->g, c->out, c->n); break;
    case ACT_GELU: gelu_backward(d, c->g, c->inp, c->n); break;
    case ACT_SIGMOID: sigmoid_backward(d, c->g, c->out, c->n); break;
    case LOSS_L1: l1_loss_backward(d, c->inp, c->target, c->n, c->scale); break;
    case LOSS_MSE: mse_loss_backward(d, c->inp, c->target, c->n, c->scale); break;
    }
}

static void test_elementwise(int kind, const char *name, Rng *rng) {
    EwCtx c = {kind, 60, NULL, NULL, NULL, NULL, 0.75f};
    c.inp = rand_floats(rng, c.n, 3);
    c.target = rand_floats(rng, c.n, 3);
    for (size_t i = 0; i < c.n; i++) {   // keep FD steps away from kinks
        if (fabsf(c.inp[i]) < 0.1f) c.inp[i] += 0.2f;
        if (fabsf(c.inp[i] - c.target[i]) < 0.1f) c.target[i] += 0.3f;
    }
    c.out = xmalloc_floats(c.n);
    c.g = rand_floats(rng, c.n, 1);
    float *d = xmalloc_floats(c.n);
    ew_loss(&c);
    ew_backward(&c, d);
    char buf[64];
    snprintf(buf, sizeof buf, "%s fd dinp", name);
    fd_check(buf, c.inp, c.n, d, ew_loss, &c, 1e-2f, 1e-3, 1e-2, rng);
    // accumulation: a second backward on the same buffer doubles it
    float *d2 = xmalloc_floats(c.n);
    memcpy(d2, d, c.n * sizeof(float));
    ew_backward(&c, d2);
    for (size_t i = 0; i < c.n; i++) d[i] *= 2;
    snprintf(buf, sizeof buf, "%s backward accumulates", name);
    expect_close(buf, d2, d, (long)c.n, 1e-7, 1e-6);
    free(c.inp); free(c.target); free(c.out); free(c.g); free(d); free(d2);
}

static void test_known_values(void) {
    float x[5] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f}, y[5];
    gelu_forward(y, x, 5);
    // x * Phi(x) from erf tables
    float gw[5] = {-0.04550026f, -0.15426877f, 0.0f, 0.34573123f, 2.99595031f};
    expect_close("gelu known values", y, gw, 5, 1e-7, 1e-6);
    sigmoid_forward(y, x, 5);
    float sw[5] = {0.11920292f, 0.37754067f, 0.5f, 0.62245933f, 0.95257413f};
    expect_close("sigmoid known values", y, sw, 5, 1e-7, 1e-6);
    float big[2] = {-100.0f, 100.0f}, sb[2];
    sigmoid_forward(sb, big, 2);
    EXPECT(sb[0] >= 0.0f && sb[0] < 1e-40f && sb[1] == 1.0f, "sigmoid saturates without NaN");
    float p[4] = {1, 2, 3, 4}, t[4] = {1, 0, 5, 4}, d[4] = {0};
    EXPECT(fabsf(l1_loss_forward(p, t, 4) - 1.0f) < 1e-7f, "l1 = mean|p-t| = 1");
    EXPECT(fabsf(mse_loss_forward(p, t, 4) - 2.0f) < 1e-7f, "mse = mean (p-t)^2 = 2");
    l1_loss_backward(d, p, t, 4, 1.0f);
    EXPECT(d[0] == 0.0f && d[1] == 0.25f && d[2] == -0.25f && d[3] == 0.0f,
           "l1 grad sign(p-t)/n with sign(0) = 0: %g %g %g %g", d[0], d[1], d[2], d[3]);
}

// ---------------------------------------------------------------- PyTorch fixture

typedef struct { hid_t f; const char *grp; } Fx;

// Reads grp/name, which must hold n floats; on failure reports it and returns zeros.
static float *fx_read(const Fx *fx, const char *name, size_t n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", fx->grp, name);
    Err err = {{0}};
    int rank;
    hsize_t dims[H5_MAX_RANK];
    float *x = h5_read_floats_alloc(fx->f, path, &rank, dims, &err);
    if (!x) { EXPECT(0, "fixture: %s", err.msg); return xmalloc_floats(n); }
    size_t got = 1;
    for (int i = 0; i < rank; i++) got *= dims[i];
    if (got != n) {
        EXPECT(0, "fixture %s: expected %zu floats, found %zu", path, n, got);
        free(x);
        return xmalloc_floats(n);
    }
    return x;
}

static int fx_int(const Fx *fx, const char *name) {
    Err err = {{0}};
    int64_t v = 0;
    if (h5_attr_read_i64(fx->f, fx->grp, name, &v, &err) < 0) EXPECT(0, "fixture: %s", err.msg);
    return (int)v;
}

#define PT_ATOL 1e-5
#define PT_RTOL 1e-4

static void cmp(const Fx *fx, const char *what, const float *got, const float *want, size_t n) {
    char name[96];
    snprintf(name, sizeof name, "torch %s %s", fx->grp, what);
    expect_close(name, got, want, (long)n, PT_ATOL, PT_RTOL);
}

static void fixture_conv(hid_t f, const char *grp, int transposed) {
    Fx fx = {f, grp};
    int B = fx_int(&fx, "B"), C = fx_int(&fx, "C"), H = fx_int(&fx, "H"), W = fx_int(&fx, "W");
    int OC = fx_int(&fx, "OC"), K = fx_int(&fx, "K"), S = fx_int(&fx, "S"), P = fx_int(&fx, "P");
    if (B <= 0 || C <= 0 || H <= 0 || W <= 0 || OC <= 0 || K <= 0 || S <= 0 || P < 0) {
        EXPECT(0, "fixture %s: bad shape attributes", grp);
        return;
    }
    ConvShape s = transposed ? convt2d_shape(C, H, W, OC, K, S, P) : conv2d_shape(C, H, W, OC, K, S, P);
    size_t nin = (size_t)B * C * H * W, nout = (size_t)B * OC * s.OH * s.OW, nw = (size_t)OC * C * K * K;
    float *inp = fx_read(&fx, "inp", nin), *w = fx_read(&fx, "w", nw), *b = fx_read(&fx, "b", OC);
    float *dout = fx_read(&fx, "dout", nout), *out_ref = fx_read(&fx, "out", nout);
    float *dinp_ref = fx_read(&fx, "dinp", nin), *dw_ref = fx_read(&fx, "dw", nw);
    float *db_ref = fx_read(&fx, "db", OC);
    size_t ws = transposed ? convt2d_workspace(&s, B) : conv2d_workspace(&s, B);
    float *work = xmalloc_floats(ws), *out = xmalloc_floats(nout), *naive = xmalloc_floats(nout);
    float *dinp = xmalloc_floats(nin), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    if (transposed) {
        convt2d_forward(out, inp, w, b, B, &s, work);
        convt2d_forward_naive(naive, inp, w, b, B, &s);
        convt2d_backward(dinp, dw, db, dout, inp, w, B, &s, work);
    } else {
        conv2d_forward(out, inp, w, b, B, &s, work);
        conv2d_forward_naive(naive, inp, w, b, B, &s);
        conv2d_backward(dinp, dw, db, dout, inp, w, B, &s, work);
    }
    cmp(&fx, "out", out, out_ref, nout);
    cmp(&fx, "out (naive)", naive, out_ref, nout);
    cmp(&fx, "dinp", dinp, dinp_ref, nin);
    cmp(&fx, "dw", dw, dw_ref, nw);
    cmp(&fx, "db", db, db_ref, OC);
    free(inp); free(w); free(b); free(dout); free(out_ref); free(dinp_ref); free(dw_ref);
    free(db_ref); free(work); free(out); free(naive); free(dinp); free(dw); free(db);
}

static void fixture_linear(hid_t f) {
    Fx fx = {f, "linear"};
    int B = fx_int(&fx, "B"), IN = fx_int(&fx, "IN"), OUT = fx_int(&fx, "OUT");
    size_t ni = (size_t)B * IN, no = (size_t)B * OUT, nw = (size_t)OUT * IN;
    float *inp = fx_read(&fx, "inp", ni), *w = fx_read(&fx, "w", nw), *b = fx_read(&fx, "b", OUT);
    float *dout = fx_read(&fx, "dout", no), *out_ref = fx_read(&fx, "out", no);
    float *dinp_ref = fx_read(&fx, "dinp", ni), *dw_ref = fx_read(&fx, "dw", nw), *db_ref = fx_read(&fx, "db", OUT);
    float *out = xmalloc_floats(no), *dinp = xmalloc_floats(ni), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OUT);
    linear_forward(out, inp, w, b, B, IN, OUT);
    linear_backward(dinp, dw, db, dout, inp, w, B, IN, OUT);
    cmp(&fx, "out", out, out_ref, no);
    cmp(&fx, "dinp", dinp, dinp_ref, ni);
    cmp(&fx, "dw", dw, dw_ref, nw);
    cmp(&fx, "db", db, db_ref, OUT);
    free(inp); free(w); free(b); free(dout); free(out_ref); free(dinp_ref); free(dw_ref); free(db_ref);
    free(out); free(dinp); free(dw); free(db);
}

static void fixture_layernorm(hid_t f) {
    Fx fx = {f, "layernorm"};
    int B = fx_int(&fx, "B"), N = fx_int(&fx, "N");
    size_t n = (size_t)B * N;
    float *inp = fx_read(&fx, "inp", n), *w = fx_read(&fx, "w", N), *b = fx_read(&fx, "b", N);
    float *dout = fx_read(&fx, "dout", n), *out_ref = fx_read(&fx, "out", n);
    float *dinp_ref = fx_read(&fx, "dinp", n), *dw_ref = fx_read(&fx, "dw", N), *db_ref = fx_read(&fx, "db", N);
    float *out = xmalloc_floats(n), *mean = xmalloc_floats(B), *rstd = xmalloc_floats(B);
    float *dinp = xmalloc_floats(n), *dw = xmalloc_floats(N), *db = xmalloc_floats(N);
    layernorm_forward(out, mean, rstd, inp, w, b, B, N);
    layernorm_backward(dinp, dw, db, dout, inp, mean, rstd, w, B, N);
    cmp(&fx, "out", out, out_ref, n);
    cmp(&fx, "dinp", dinp, dinp_ref, n);
    cmp(&fx, "dw", dw, dw_ref, N);
    cmp(&fx, "db", db, db_ref, N);
    free(inp); free(w); free(b); free(dout); free(out_ref); free(dinp_ref); free(dw_ref); free(db_ref);
    free(out); free(mean); free(rstd); free(dinp); free(dw); free(db);
}

static void fixture_act(hid_t f, const char *grp, int kind) {
    Fx fx = {f, grp};
    size_t n = (size_t)fx_int(&fx, "n");
    float *inp = fx_read(&fx, "inp", n), *dout = fx_read(&fx, "dout", n);
    float *out_ref = fx_read(&fx, "out", n), *dinp_ref = fx_read(&fx, "dinp", n);
    float *out = xmalloc_floats(n), *dinp = xmalloc_floats(n);
    switch (kind) {
    case ACT_RELU: relu_forward(out, inp, n); relu_backward(dinp, dout, out, n); break;
    case ACT_GELU: gelu_forward(out, inp, n); gelu_backward(dinp, dout, inp, n); break;
    default: sigmoid_forward(out, inp, n); sigmoid_backward(dinp, dout, out, n); break;
    }
    cmp(&fx, "out", out, out_ref, n);
    cmp(&fx, "dinp", dinp, dinp_ref, n);
    free(inp); free(dout); free(out_ref); free(dinp_ref); free(out); free(dinp);
}

static void fixture_loss(hid_t f, const char *grp, int kind) {
    Fx fx = {f, grp};
    size_t n = (size_t)fx_int(&fx, "n");
    float *pred = fx_read(&fx, "pred", n), *target = fx_read(&fx, "target", n);
    float *loss_ref = fx_read(&fx, "loss", 1), *scale = fx_read(&fx, "scale", 1);
    float *dpred_ref = fx_read(&fx, "dpred", n), *dpred = xmalloc_floats(n);
    float loss;
    if (kind == LOSS_L1) { loss = l1_loss_forward(pred, target, n); l1_loss_backward(dpred, pred, target, n, scale[0]); }
    else { loss = mse_loss_forward(pred, target, n); mse_loss_backward(dpred, pred, target, n, scale[0]); }
    cmp(&fx, "loss", &loss, loss_ref, 1);
    cmp(&fx, "dpred", dpred, dpred_ref, n);
    free(pred); free(target); free(loss_ref); free(scale); free(dpred_ref); free(dpred);
}

static void test_fixture(void) {
    hid_t f = fixture_open("ops.h5", "make_ops_fixtures.py");
    if (f < 0) return;
    fixture_conv(f, "conv2d_a", 0);
    fixture_conv(f, "conv2d_b", 0);
    fixture_conv(f, "convt2d_a", 1);
    fixture_conv(f, "convt2d_b", 1);
    fixture_linear(f);
    fixture_layernorm(f);
    fixture_act(f, "relu", ACT_RELU);
    fixture_act(f, "gelu", ACT_GELU);
    fixture_act(f, "sigmoid", ACT_SIGMOID);
    fixture_loss(f, "l1", LOSS_L1);
    fixture_loss(f, "mse", LOSS_MSE);
    h5_close(f);
}

// gemm() == gemm_naive for every transpose, padded leading dimensions, alpha and beta, and
// the one-row / one-column shapes that gemm() sends to a matrix-vector product.
static void test_gemm(Rng *rng) {
    static const int shapes[][3] = {{1, 37, 5}, {29, 1, 7}, {1, 1, 9}, {6, 11, 13}, {1, 300, 32}, {1, 45, 70}, {1, 33, 64}, {1, 20, 100}, {64, 1, 128},
        {16, 70, 300}, {7, 66, 2100}, {16, 64, 4200}, {32, 64, 256},
        {13, 300, 2100}, {16, 280, 300}, {1101, 1030, 16}, {67, 16000, 9}};   // few rows / short K: gemm_skinny_* (row and column tails)
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
                float *A = rand_floats(rng, na, 1.0f), *B = rand_floats(rng, nb, 1.0f);
                float *C = rand_floats(rng, nc, 1.0f), *R = xmalloc_floats(nc);
                memcpy(R, C, nc * sizeof(float));
                gemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C, ldc);
                gemm_naive(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, R, ldc);
                char name[96];
                snprintf(name, sizeof name, "gemm M%d N%d K%d ta%d tb%d == naive", M, N, K, ta, tb);
                expect_close(name, C, R, (long)nc, 1e-5 * (1 + K / 1000.0), 1e-5 * (1 + K / 1000.0));
                free(A), free(B), free(C), free(R);
            }
}

int main(void) {
    Rng rng;
    rng_seed(&rng, 7);
    // (transposed, B, C, H, W, OC, K, S, P)
    static const int cases[][9] = {
        {0, 2, 3, 7, 6, 2, 4, 2, 1}, {0, 2, 2, 5, 4, 3, 3, 1, 1}, {0, 3, 2, 4, 5, 2, 1, 1, 0},
        {0, 2, 2, 7, 5, 2, 3, 2, 0}, {0, 1, 2, 8, 7, 2, 5, 3, 2}, {0, 2, 1, 6, 6, 2, 6, 1, 0},
        {1, 2, 3, 4, 3, 2, 4, 2, 1}, {1, 2, 2, 5, 4, 3, 3, 1, 1}, {1, 3, 2, 4, 5, 2, 1, 1, 0},
        {1, 2, 2, 3, 5, 2, 3, 2, 0}, {1, 1, 2, 3, 4, 2, 5, 3, 2}, {1, 2, 2, 3, 2, 2, 3, 2, 1},
        // K4 S2 P1 (direct kernels from 2 channels to 8 or more): batch 1 (split over channel
        // groups / row parities) and 3, output channels 3, 9, 11, 13 (tiles of 8, 4, 2, 1)
        {0, 1, 3, 8, 6, 11, 4, 2, 1}, {0, 3, 5, 12, 10, 9, 4, 2, 1},
        {1, 1, 6, 5, 3, 13, 4, 2, 1}, {1, 3, 9, 4, 6, 3, 4, 2, 1},
        {0, 2, 9, 8, 6, 10, 4, 2, 1}, {1, 1, 12, 4, 4, 9, 4, 2, 1},   // direct backward-data too
        // one sample's columns exceed the cache block: dw by blocks of rows (GEMM / direct dinp)
        {0, 1, 4, 130, 128, 9, 4, 2, 1}, {1, 1, 6, 64, 66, 5, 4, 2, 1}, {0, 1, 9, 130, 128, 10, 4, 2, 1},
        // convT to 2-4 channels (all output parities at once): batch 1 (threads share one
        // padded input) and 3, rows of 16 + a tail
        {1, 1, 7, 6, 20, 3, 4, 2, 1}, {1, 3, 5, 5, 17, 2, 4, 2, 1}, {1, 1, 32, 40, 40, 4, 4, 2, 1},
        // Winograd (from 16 to 32 or more channels, 25+ tiles of 2x2 outputs a sample, 400+ a
        // call, 2+ samples): its product (conv forward, convT backward-data), adjoint (convT
        // forward, conv backward-data) and weight gradient, with odd heights and widths (33
        // channels: a GEMM tail); two blocks of tiles (the second starting mid-row); rows of 16
        // tiles (the adjoint's carry past its last vector); 5 x 5 tiles (the 80x80 model's 10x10
        // grids); 17 channels (the direct kernel's side of the bounds)
        {0, 3, 16, 46, 50, 33, 4, 2, 1}, {1, 3, 33, 23, 25, 16, 4, 2, 1}, {0, 2, 16, 64, 72, 32, 4, 2, 1},
        {0, 2, 32, 46, 50, 17, 4, 2, 1}, {1, 2, 17, 23, 25, 33, 4, 2, 1}, {1, 2, 64, 32, 36, 32, 4, 2, 1},
        {0, 4, 16, 42, 40, 32, 4, 2, 1}, {1, 5, 32, 10, 32, 16, 4, 2, 1}, {0, 5, 16, 20, 64, 32, 4, 2, 1},
        {0, 16, 16, 20, 20, 32, 4, 2, 1}, {1, 16, 32, 10, 10, 16, 4, 2, 1},
    };
    // each case with one fused activation in turn (none, ReLU, sigmoid), so that every path
    // (GEMM, direct, few channels, Winograd) meets each
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        test_conv(c[0], (int)(i % 3), c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], &rng);
    }
    test_gemm(&rng);
    test_conv_chunked(0, &rng);
    test_conv_chunked(1, &rng);
    test_conv_plan();
    // (transposed, act, B, C, H, W, OC): direct both ways, few channels, Winograd (odd sizes:
    // partial tiles), at batches below and above a Winograd call's break-even
    static const int paths[][7] = {
        {0, 1, 2, 3, 8, 6, 11}, {1, 2, 3, 9, 4, 6, 10}, {1, 1, 2, 7, 6, 20, 3}, {1, 2, 1, 32, 10, 10, 4},
        {0, 2, 1, 16, 46, 50, 33}, {1, 1, 2, 33, 23, 25, 16}, {0, 0, 3, 32, 20, 20, 64}, {1, 1, 3, 64, 10, 10, 32},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const int *p = paths[i];
        test_conv_paths(p[0], p[1], p[2], p[3], p[4], p[5], p[6], &rng);
    }
    test_linear(&rng);
    test_layernorm(&rng);
    test_elementwise(ACT_RELU, "relu", &rng);
    test_elementwise(ACT_GELU, "gelu", &rng);
    test_elementwise(ACT_SIGMOID, "sigmoid", &rng);
    test_elementwise(LOSS_L1, "l1", &rng);
    test_elementwise(LOSS_MSE, "mse", &rng);
    test_known_values();
    test_fixture();
    return test_summary();
}
