/*
 * test_conv_same.c - the column blocks of the shifted-GEMM "same" conv (nn/conv_same.c, path
 * CONV_SHIFT) at batches that split into several blocks and threads:
 *   1. forward, input gradient, weight and bias gradients equal im2col + GEMM's (CONV_GEMM) to
 *      float rounding, for 3x3 on 10x10 (the conv dynamics' grid, 6 samples a block) and 30x32
 *      (one sample a block), 1x1 (the latent's convs), ReLU and none, dinp set / add / masked;
 *   2. the forward is bit-identical at 1 thread and at all threads (each output's sum runs over
 *      the channels and taps in one order whatever the blocks), the gradients agree to rounding;
 *   3. central differences of a scalar loss through forward (sigmoid) and backward at a batch of
 *      several blocks: every weight and bias, every 7th input.
 */
#include "nn/conv.h"
#include "nn/conv_same.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"
#include "tests/test.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"

#include <string.h>

static float *randn(Rng *rng, size_t n, float scale) {
    float *p = xmalloc_floats(n);
    for (size_t i = 0; i < n; i++) p[i] = scale * rng_normal(rng);
    return p;
}

typedef struct { float *y, *dx, *dw, *db; } Grads;

static Grads grads_new(size_t no, size_t ni, size_t nw, int OC) {
    return (Grads){xmalloc_floats(no), xmalloc_floats(ni), xmalloc_floats(nw), xmalloc_floats(OC)};
}

static void grads_free(Grads *g) { free(g->y), free(g->dx), free(g->dw), free(g->db); }

// forward and backward under plan p; dx starts at 0.5 (flags without SET add onto it), dw and db at 0
static void run(Grads *o, const ConvPlan *p, const float *x, const float *w, const float *b, const float *g, int act,
                int flags, int B, const ConvShape *s, float *work) {
    const size_t ni = (size_t)B * s->C * s->H * s->W, nw = (size_t)s->OC * s->C * s->K * s->K;
    for (size_t i = 0; i < ni; i++) o->dx[i] = 0.5f;
    memset(o->dw, 0, nw * sizeof(float)), memset(o->db, 0, s->OC * sizeof(float));
    conv2d_forward_plan(o->y, x, w, b, act, B, s, work, p);
    conv2d_backward_plan(o->dx, o->dw, o->db, g, o->y, act, flags, x, w, B, s, work, p);
}

static void test_against_gemm(int C, int OC, int H, int W, int K, int B, Rng *rng) {
    ConvShape s = conv2d_shape(C, H, W, OC, K, 1, K / 2);
    EXPECT(conv_same_fits(&s), "CONV_SHIFT takes %dx%d K%d", H, W, K);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * K * K;
    float *x = randn(rng, ni, 1.0f), *w = randn(rng, nw, 0.2f), *b = randn(rng, OC, 0.5f), *g = randn(rng, no, 1.0f);
    float *work = xmalloc_floats(conv2d_workspace(&s, B));
    Grads ref = grads_new(no, ni, nw, OC), got = grads_new(no, ni, nw, OC), one = grads_new(no, ni, nw, OC);
    const ConvPlan gemm_plan = {CONV_GEMM, CONV_GEMM, CONV_GEMM}, shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT};
    const int nt = omp_threads();
    for (int act = 0; act < 2; act++)
        for (int flags = 0; flags < 4; flags++) {
            const int a = act ? CONV_ACT_RELU : CONV_ACT_NONE;
            run(&ref, &gemm_plan, x, w, b, g, a, flags, B, &s, work);
            run(&got, &shift, x, w, b, g, a, flags, B, &s, work);
            omp_use_threads(1);
            run(&one, &shift, x, w, b, g, a, flags, B, &s, work);
            omp_use_threads(nt);
            char name[128];
            snprintf(name, sizeof name, "%dx%dx%d->%d K%d B%d act %d flags %d fwd", C, H, W, OC, K, B, act, flags);
            expect_close(name, got.y, ref.y, (long)no, 1e-5, 1e-5);
            EXPECT(memcmp(got.y, one.y, no * sizeof(float)) == 0, "%s: %d threads == 1 thread, bit for bit", name, nt);
            expect_close("  dinp", got.dx, ref.dx, (long)ni, 1e-5, 1e-5);
            expect_close("  dw", got.dw, ref.dw, (long)nw, 1e-4, 1e-5);
            expect_close("  db", got.db, ref.db, OC, 1e-4, 1e-5);
            expect_close("  dinp at 1 thread", one.dx, got.dx, (long)ni, 1e-5, 1e-5);
            expect_close("  dw at 1 thread", one.dw, got.dw, (long)nw, 1e-4, 1e-5);
        }
    grads_free(&ref), grads_free(&got), grads_free(&one);
    free(x), free(w), free(b), free(g), free(work);
}

// L = sum r * sigmoid(conv(x)) through CONV_SHIFT, in double (smooth: a ReLU's kinks among ~5000
// pre-activations would put a few inside any usable eps)
typedef struct { const ConvShape *s; float *x, *w, *b, *r, *y, *work; int B; } Fd;

static double loss(Fd *c) {
    const ConvPlan shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT};
    conv2d_forward_plan(c->y, c->x, c->w, c->b, CONV_ACT_SIGMOID, c->B, c->s, c->work, &shift);
    double L = 0;
    for (size_t i = 0; i < (size_t)c->B * c->s->OC * c->s->H * c->s->W; i++) L += (double)c->r[i] * c->y[i];
    return L;
}
static double fd_loss(void *c) { return loss(c); }

static void test_fd(Rng *rng) {
    const int B = 11, C = 6, OC = 5, H = 10, W = 10;   // 144 padded columns a sample: several blocks
    ConvShape s = conv2d_shape(C, H, W, OC, 3, 1, 1);
    printf("CONV_SHIFT central differences, %dx%dx%d->%d K3 B%d\n", C, H, W, OC, B);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * 9;
    Fd c = {&s, randn(rng, ni, 1.0f), randn(rng, nw, 0.3f), randn(rng, OC, 0.2f), randn(rng, no, 1.0f),
            xmalloc_floats(no), xmalloc_floats(conv2d_workspace(&s, B)), B};
    float *dx = xmalloc_floats(ni), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    memset(dw, 0, nw * sizeof(float)), memset(db, 0, OC * sizeof(float));
    const ConvPlan shift = {CONV_SHIFT, CONV_SHIFT, CONV_SHIFT};
    (void)loss(&c);
    conv2d_backward_plan(dx, dw, db, c.r, c.y, CONV_ACT_SIGMOID, CONV_DINP_SET, c.x, c.w, B, &s, c.work, &shift);
    float *sets[3] = {c.w, c.b, c.x}, *grads[3] = {dw, db, dx};
    const size_t ns[3] = {nw, (size_t)OC, ni};
    const char *names[3] = {"dw (every weight)", "db", "dinp (every 7th input)"};
    const double eps = 1e-3;
    for (int k = 0; k < 3; k++)
        fd_strided(names[k], sets[k], grads[k], ns[k], k == 2 ? 7 : 1, fd_loss, &c, eps, 2e-3, 2e-3);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(c.work), free(dx), free(dw), free(db);
}

int main(void) {
    Rng rng;
    rng_seed(&rng, 23);
    printf("CONV_SHIFT column blocks vs im2col + GEMM (%d threads)\n", omp_threads());
    test_against_gemm(24, 64, 10, 10, 3, 13, &rng);   // conv dynamics' input layer, blocks of 6 samples
    test_against_gemm(64, 16, 10, 10, 3, 7, &rng);    // its output layer
    test_against_gemm(9, 12, 30, 32, 3, 3, &rng);     // a sample a block
    test_against_gemm(7, 10, 15, 16, 3, 5, &rng);     // the 240x256 model's latent grid (odd rows)
    test_against_gemm(3, 4, 9, 7, 5, 4, &rng);        // K = 5: two rows and columns of shared zeros
    test_against_gemm(32, 16, 10, 10, 1, 9, &rng);    // the latent's 1x1 conv
    test_against_gemm(8, 8, 10, 10, 3, 1, &rng);      // batch 1: one block on the calling thread
    test_fd(&rng);
    return test_summary();
}
