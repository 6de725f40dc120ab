/*
 * test_conv_wino3.c - Winograd F(4x4, 3x3) for 3x3 stride-1 "same" convs (nn/conv_wino3.c,
 * path CONV_WINOGRAD on those shapes) against im2col + GEMM (CONV_GEMM):
 *   1. forward, input gradient, weight and bias gradients equal the reference to Winograd's
 *      rounding, on 10x10 (the conv dynamics' grid: 9 tiles, 2 rows and columns dropped), 30x32
 *      (chunks of tile rows), odd and tiny grids (5x7, 4x4, 1x1: a tile's window mostly
 *      padding), batches of one partial group of 16 samples and of several groups, ReLU /
 *      sigmoid / none, dinp set / add / masked by the layer before's ReLU;
 *   2. the forward and the input gradient are bit-identical at 1 thread and at all threads
 *      (a group's sums do not depend on which thread runs it), the weight gradient agrees to
 *      rounding;
 *   3. mixed plans (Winograd forward, shift or GEMM for a gradient) give the same gradients;
 *   4. conv_plan picks CONV_WINOGRAD for these shapes at batch >= 16, CONV_SHIFT below;
 *   5. central differences of a scalar loss through forward (sigmoid) and backward at a batch
 *      of two groups: every weight and bias, every 5th input.
 */
#include "nn/conv.h"
#include "nn/conv_wino3.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"
#include "tests/test.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/conv_check.h"

#include <math.h>
#include <string.h>

// Winograd's rounding: the transforms scale by up to 8 and 1/24, so compare against the
// reference's largest value (relative 3e-5 of the output's scale; the direct sums are ~1e-7)
static void close_scaled(const char *name, const float *got, const float *ref, long n, double rel) {
    double mx = 0;
    for (long i = 0; i < n; i++) mx = fmax(mx, fabs(ref[i]));
    expect_close(name, got, ref, n, rel * (mx > 1e-30 ? mx : 1.0), rel);
}

static void test_against_gemm(int C, int OC, int H, int W, int B, Rng *rng) {
    ConvShape s = conv2d_shape(C, H, W, OC, 3, 1, 1);
    EXPECT(wino3_fits(&s), "Winograd F(4x4, 3x3) takes %dx%d", H, W);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * 9;
    float *x = randn(rng, ni, 1.0f), *w = randn(rng, nw, 0.2f), *b = randn(rng, OC, 0.5f), *g = randn(rng, no, 1.0f);
    for (size_t i = 0; i < ni; i += 3) x[i] = fabsf(x[i]) * (i % 2 ? 1.0f : 0.0f);   // some zeros: a ReLU output's
    float *work = xmalloc_floats(conv2d_workspace(&s, B));
    Grads ref = grads_new(no, ni, nw, OC), got = grads_new(no, ni, nw, OC), one = grads_new(no, ni, nw, OC);
    const ConvPlan gemm_plan = {CONV_GEMM, CONV_GEMM, CONV_GEMM}, wino = {CONV_WINOGRAD, CONV_WINOGRAD, CONV_WINOGRAD};
    const int nt = omp_threads();
    for (int act = 0; act < 3; act++)
        for (int flags = 0; flags < 4; flags++) {
            conv_run(&ref, &gemm_plan, x, w, b, g, act, flags, B, &s, work);
            conv_run(&got, &wino, x, w, b, g, act, flags, B, &s, work);
            omp_use_threads(1);
            conv_run(&one, &wino, x, w, b, g, act, flags, B, &s, work);
            omp_use_threads(nt);
            char name[128];
            snprintf(name, sizeof name, "%dx%dx%d->%d B%d act %d flags %d fwd", C, H, W, OC, B, act, flags);
            close_scaled(name, got.y, ref.y, (long)no, 3e-5);
            EXPECT(memcmp(got.y, one.y, no * sizeof(float)) == 0, "%s: %d threads == 1 thread, bit for bit", name, nt);
            close_scaled("  dinp", got.dx, ref.dx, (long)ni, 3e-5);
            EXPECT(memcmp(got.dx, one.dx, ni * sizeof(float)) == 0, "  dinp: %d threads == 1 thread, bit for bit", nt);
            close_scaled("  dw", got.dw, ref.dw, (long)nw, 3e-5);
            expect_close("  db", got.db, ref.db, OC, 1e-4, 1e-5);
            close_scaled("  dw at 1 thread", one.dw, got.dw, (long)nw, 3e-5);
        }
    // mixed plans: each gradient from Winograd next to the other path's
    const ConvPlan mixed[3] = {{CONV_WINOGRAD, CONV_SHIFT, CONV_WINOGRAD},
                               {CONV_SHIFT, CONV_WINOGRAD, CONV_GEMM},
                               {CONV_GEMM, CONV_GEMM, CONV_WINOGRAD}};
    conv_run(&ref, &gemm_plan, x, w, b, g, CONV_ACT_RELU, CONV_DINP_RELU, B, &s, work);
    for (int k = 0; k < 3; k++) {
        char name[64], pl[32];
        conv_run(&got, &mixed[k], x, w, b, g, CONV_ACT_RELU, CONV_DINP_RELU, B, &s, work);
        snprintf(name, sizeof name, "  plan %s: dinp", conv_plan_str(&mixed[k], pl, sizeof pl));
        close_scaled(name, got.dx, ref.dx, (long)ni, 3e-5);
        close_scaled("    dw", got.dw, ref.dw, (long)nw, 3e-5);
        expect_close("    db", got.db, ref.db, OC, 1e-4, 1e-5);
    }
    grads_free(&ref), grads_free(&got), grads_free(&one);
    free(x), free(w), free(b), free(g), free(work);
}

static void test_plan(void) {
    ConvShape s10 = conv2d_shape(64, 10, 10, 64, 3, 1, 1), s30 = conv2d_shape(216, 30, 32, 64, 3, 1, 1);
    ConvShape s1 = conv2d_shape(32, 10, 10, 16, 1, 1, 0);
    ConvPlan p = conv_plan(&s10, 0, 128, 2), q = conv_plan(&s10, 0, 1, 2), r = conv_plan(&s30, 0, 16, 1);
    ConvPlan t = conv_plan(&s1, 0, 128, 2);
    EXPECT(p.forward == CONV_WINOGRAD && p.dinp == CONV_WINOGRAD && p.dw == CONV_WINOGRAD,
           "conv_plan: 3x3 10x10 at batch 128 takes Winograd");
    EXPECT(r.forward == CONV_WINOGRAD && r.dinp == CONV_WINOGRAD && r.dw == CONV_WINOGRAD,
           "conv_plan: 3x3 30x32 at batch 16 takes Winograd");
    EXPECT(q.forward == CONV_SHIFT && q.dinp == CONV_SHIFT, "conv_plan: batch 1 keeps the shifted GEMMs");
    EXPECT(t.forward == CONV_SHIFT, "conv_plan: a 1x1 conv keeps the shifted GEMMs");
}

// L = sum r * sigmoid(conv(x)) through Winograd, in double
static void test_fd(Rng *rng) {
    const int B = 18, C = 5, OC = 4, H = 10, W = 10;   // two groups of samples, the second of 2
    printf("Winograd F(4x4, 3x3) central differences, %dx%dx%d->%d B%d\n", C, H, W, OC, B);
    const ConvPlan wino = {CONV_WINOGRAD, CONV_WINOGRAD, CONV_WINOGRAD};
    // eps 1e-2: Winograd's rounding (~1e-6 of each output) over 2 eps stays below the tolerance
    conv_fd_check(&wino, B, C, OC, H, W, 5, 1e-2, rng);
}

int main(void) {
    Rng rng;
    rng_seed(&rng, 43);
    printf("Winograd F(4x4, 3x3) vs im2col + GEMM (%d threads)\n", omp_threads());
    test_plan();
    test_against_gemm(24, 64, 10, 10, 37, &rng);   // conv dynamics' input layer: 3 groups, the last of 5
    test_against_gemm(64, 16, 10, 10, 16, &rng);   // its output layer, one full group
    test_against_gemm(64, 64, 10, 10, 33, &rng);   // a hidden layer
    test_against_gemm(9, 12, 30, 32, 3, &rng);     // chunks of tile rows, one partial group
    test_against_gemm(7, 10, 15, 16, 20, &rng);    // the 240x256 model's latent grid (odd rows)
    test_against_gemm(3, 5, 5, 7, 17, &rng);       // a partial tile in both directions
    test_against_gemm(4, 3, 4, 4, 2, &rng);        // one tile
    test_against_gemm(2, 3, 1, 1, 4, &rng);        // a 1x1 grid: the window is all padding but its centre
    test_fd(&rng);
    return test_summary();
}
